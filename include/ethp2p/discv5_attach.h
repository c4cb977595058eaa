/*
 * ethp2p/discv5_attach.h — discv5 joined to a server's discovery: on the UDP socket the
 * discv4 node owns (ethp2p/discover.h's mux), sharing its Kademlia table, with its record
 * and endpoint from localnode.  Implemented in p2p/discv5_attach.c (the p2p layer, above
 * both p2p/discover and localnode).
 *
 * What attach wires:
 *   - transport: sends through ethp2p_discover_send; takes the mux's unhandled hook, so
 *     every datagram discv4 does not take goes to ethp2p_discv5_handle_packet (discv4
 *     packets keep going to discv4: it is the mux's first-chance handler); what is not
 *     discv5 either goes on to the hook set with ethp2p_discv5_attach_set_next;
 *   - record: localnode's current record at start and every new version after (a
 *     localnode subscription -> ethp2p_discv5_set_record);
 *   - endpoint: PONG statements -> ethp2p_localnode_udp_statement; each PING sent ->
 *     ethp2p_localnode_udp_contact;
 *   - table: a record a node gave about itself (handshake, FINDNODE 0) ->
 *     ethp2p_table_add_seen; one heard of from another node (NODES) ->
 *     ethp2p_table_add_found.  FINDNODE is answered from the table's nodes at that
 *     log-distance whose records the discv5 store holds (a node only discv4 knows has no
 *     record here and is left out of the answer).
 *
 * Threading: the environment's loop, like the mux and the table.
 */
#ifndef ETHP2P_DISCV5_ATTACH_H
#define ETHP2P_DISCV5_ATTACH_H

#include "ethp2p/discover.h"
#include "ethp2p/discv5.h"
#include "ethp2p/localnode.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ethp2p_discv5_attached ethp2p_discv5_attached;

/*
 * Starts a discv5 node on mux.  cfg gives the secret (the key localnode was made with)
 * and the tuning fields (session_cap, store_cap, request_timeout, retries, WHOAREYOU
 * rates, talk handlers are registered afterwards on ethp2p_discv5_attached_node); its
 * record, transport, hook fields are ignored (attach sets them).
 * Returns 0, ETHP2P_EINVAL (a NULL argument, or the secret is not localnode's key),
 * ETHP2P_ESPACE (no localnode subscription left), ETHP2P_ENOMEM, or localnode's
 * signing error.  Out: *out (NULL on failure), freed by ethp2p_discv5_detach.  mux,
 * table and ln are borrowed and must outlive it.  Attach one node per mux.
 */
int ethp2p_discv5_attach(ethp2p_discover *mux, ethp2p_table *table, ethp2p_localnode *ln,
                         const ethp2p_discv5_config *cfg, ethp2p_discv5_attached **out)
    __attribute__((warn_unused_result));

/*
 * Datagrams that are neither discv4 nor discv5 go on to cb (the server's own unhandled
 * hook, e.g. its udp_cb, which attach replaced on the mux: the mux has one such hook).
 * cb NULL drops them.  detach gives the mux hook back to cb.
 */
void ethp2p_discv5_attach_set_next(ethp2p_discv5_attached *a, ethp2p_discover_unhandled_cb cb,
                                   void *data);

/* Gives the mux's unhandled hook back to the `next` hook (or removes it), drops the
 * localnode subscription, then destroys the node (pending requests fail with
 * ETHP2P_ECANCELED, their callbacks run).  NULL is fine. */
void ethp2p_discv5_detach(ethp2p_discv5_attached *a);

/* The discv5 node (borrowed): requests, lookups, TALK handlers, stats. */
ethp2p_discv5 *ethp2p_discv5_attached_node(ethp2p_discv5_attached *a);

#ifdef __cplusplus
}
#endif
#endif
