/*
 * ethp2p/discv5.h — a Node Discovery v5.1 node (ethereum/devp2p discv5) on the
 * environment interface (ethp2p/env.h).
 *
 * What it does:
 *   - sessions: the WHOAREYOU handshake in both directions, a bounded session
 *     cache (least recently used entry evicted), a new handshake when a packet
 *     does not decrypt;
 *   - requests (PING, FINDNODE, TALKREQ) with a timeout and retries; NODES
 *     responses split over several messages are collected until `total`;
 *   - answers: PONG (with the sender's endpoint as we see it), NODES for distance 0
 *     (our record) and for other distances from the node store (below), TALKRESP
 *     from registered handlers (an empty TALKRESP for unknown protocols);
 *   - an enr-seq in a PING or PONG higher than the record we hold for that node
 *     makes us fetch its record (FINDNODE distance 0).
 *
 * Transport.  Either the node opens its own UDP socket (config.send == NULL,
 * config.bind), or it runs behind a socket owned by someone else (the discv4
 * mux): then config.send transmits datagrams and the owner hands every datagram
 * that is not discv4 to ethp2p_discv5_handle_packet().
 *
 * Node store.  The node keeps up to config.store_cap records it learned
 * (handshakes, NODES responses, record fetches) and answers FINDNODE from them.
 * A Kademlia table plugs in through config.findnode (answers FINDNODE instead of
 * the store) and config.on_node (told of every verified record).
 *
 * Threading: one loop thread, like the environment.  A function that returns an
 * error never calls its callback.  Callbacks may call any function of this API
 * except ethp2p_discv5_destroy.
 */
#ifndef ETHP2P_DISCV5_H
#define ETHP2P_DISCV5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/enr.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ethp2p_discv5 ethp2p_discv5;

/* A node to talk to: its ID, compressed public key, UDP endpoint, and the seq of the
 * record these came from (0 = none; a PONG with a higher enr-seq fetches the record). */
typedef struct ethp2p_discv5_peer {
  uint8_t id[32];
  uint8_t pub33[33];
  ethp2p_addr addr;
  uint64_t seq;
} ethp2p_discv5_peer;

/*
 * Fills peer from a verified record: ID, key, seq and the `ip`/`udp` endpoint (or
 * `ip6`/`udp6` when there is no IPv4 endpoint).
 * Returns 0, ETHP2P_EKEY (no valid key) or ETHP2P_ENOTFOUND (no UDP endpoint).
 */
int ethp2p_discv5_peer_from_enr(ethp2p_discv5_peer *peer, const ethp2p_enr *rec);

/* Sends a datagram (the mux's socket).  Returns 0 or a negative ETHP2P_E* code. */
typedef int (*ethp2p_discv5_send_fn)(void *data, const ethp2p_addr *to, const uint8_t *buf,
                                     size_t len);

/* A PONG told us how `reporter` sees our endpoint (feed localnode's prediction). */
typedef void (*ethp2p_discv5_statement_fn)(void *data, const ethp2p_addr *reporter,
                                           const ethp2p_addr *endpoint);

/* We sent a PING (which asks for our endpoint) to `to`: localnode's udp_contact, so that
 * the statement in the PONG is not taken for an unsolicited one (full-cone guess). */
typedef void (*ethp2p_discv5_contact_fn)(void *data, const ethp2p_addr *to);

/* A verified record was learned (the table adds it).  rec is borrowed for the call. */
typedef void (*ethp2p_discv5_node_fn)(void *data, const ethp2p_enr *rec, const ethp2p_addr *from);

/*
 * The table's FINDNODE answer: write up to cap records at log-distance `distance`
 * (1..256) from our ID into out.  Returns the number written.  Distance 0 never
 * reaches this function (the node answers it with its own record).
 */
typedef size_t (*ethp2p_discv5_findnode_fn)(void *data, unsigned distance, ethp2p_enr *out,
                                            size_t cap);

/*
 * A TALKREQ for a registered protocol.  Write the response into resp (cap bytes)
 * and return its length (0 for an empty response).
 */
typedef size_t (*ethp2p_discv5_talk_fn)(void *data, const ethp2p_discv5_peer *from,
                                        const uint8_t *req, size_t req_len, uint8_t *resp,
                                        size_t cap);

typedef struct ethp2p_discv5_config {
  const uint8_t *secret;    /* 32-byte node key; copied */
  const ethp2p_enr *record; /* our signed record (its key must be secret's); copied */
  /* Transport: send != NULL -> behind a mux; else a socket bound to `bind`. */
  ethp2p_discv5_send_fn send;
  void *send_data;
  ethp2p_addr bind;
  size_t session_cap;          /* sessions kept; 0 -> 256 */
  size_t store_cap;            /* records kept in the node store; 0 -> 128 */
  ethp2p_time request_timeout; /* per attempt; 0 -> 1 s */
  unsigned retries;            /* further attempts after a timeout; default 0 unless set */
  ethp2p_discv5_statement_fn on_statement;
  void *statement_data;
  ethp2p_discv5_node_fn on_node;
  void *node_data;
  ethp2p_discv5_findnode_fn findnode;
  void *findnode_data;
  ethp2p_discv5_contact_fn on_contact;
  void *contact_data;
  /* WHOAREYOU rate limits (anti-reflection: a packet we cannot decrypt costs the sender
   * nothing and makes us answer).  Token buckets with a burst of twice the rate; the
   * per-IP buckets live in a fixed table of 256 addresses (the stalest one gives way).
   * Packets over a limit are dropped unanswered.  0 -> defaults: 10/s per IP, 200/s
   * overall. */
  unsigned whoareyou_ip_rate;
  unsigned whoareyou_rate;
} ethp2p_discv5_config;

/*
 * Creates a node.  Returns 0, or
 *   ETHP2P_EINVAL   missing secret/record, or the record is unsigned or not secret's
 *   ETHP2P_EKEY     invalid secret
 *   ETHP2P_ENOMEM
 *   a udp_open error (own socket only)
 * Out: *out (NULL on failure).  The caller destroys it with ethp2p_discv5_destroy.
 */
int ethp2p_discv5_create(ethp2p_env *env, const ethp2p_discv5_config *cfg, ethp2p_discv5 **out)
    __attribute__((warn_unused_result));

/* Fails every pending request with ETHP2P_ECANCELED (callbacks run), then frees. */
void ethp2p_discv5_destroy(ethp2p_discv5 *v5);

/*
 * Handles one incoming datagram.  Returns 0 if it was a discv5 packet for us
 * (handled, whatever its fate), or ETHP2P_EPROTO if it is not discv5 (the mux may
 * try another protocol).  in is borrowed for the call.
 */
int ethp2p_discv5_handle_packet(ethp2p_discv5 *v5, const ethp2p_addr *from, const uint8_t *in,
                                size_t len);

/* Replaces our record (after a seq bump; must be signed with our key).  Returns 0 or
 * ETHP2P_EINVAL.  Peers learn the new seq from our next PING/PONG. */
int ethp2p_discv5_set_record(ethp2p_discv5 *v5, const ethp2p_enr *rec);
/* Our current record and ID. */
const ethp2p_enr *ethp2p_discv5_record(const ethp2p_discv5 *v5);
void ethp2p_discv5_id(const ethp2p_discv5 *v5, uint8_t id[32]);
/* The own socket's bound address.  Returns 0, or ETHP2P_ESTATE behind a mux. */
int ethp2p_discv5_local_addr(ethp2p_discv5 *v5, ethp2p_addr *out);

/* Adds a verified record to the node store (a bootnode, a record from elsewhere).
 * Returns 0, ETHP2P_ESIG (does not verify) or ETHP2P_EKEY. */
int ethp2p_discv5_add_node(ethp2p_discv5 *v5, const ethp2p_enr *rec);
/* The stored record of node `id`.  Returns 0 or ETHP2P_ENOTFOUND. */
int ethp2p_discv5_lookup_record(const ethp2p_discv5 *v5, const uint8_t id[32], ethp2p_enr *out);
/* Number of records in the node store, and the i-th (0 or ETHP2P_ERANGE). */
size_t ethp2p_discv5_store_count(const ethp2p_discv5 *v5);
int ethp2p_discv5_store_at(const ethp2p_discv5 *v5, size_t i, ethp2p_enr *out);

/* ---------------------------------------------------------------------------
 * Requests.  Each completes exactly once through its callback: status 0 with a
 * result, ETHP2P_ETIMEDOUT (no answer after the retries), ETHP2P_ESIG (the
 * handshake failed) or ETHP2P_ECANCELED (destroy).
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_discv5_pong {
  uint64_t enr_seq;
  ethp2p_addr to; /* our endpoint as the peer saw it */
} ethp2p_discv5_pong;

typedef void (*ethp2p_discv5_pong_cb)(void *data, int status, const ethp2p_discv5_pong *pong);
/* records: n verified records (borrowed for the call); invalid ones are dropped. */
typedef void (*ethp2p_discv5_nodes_cb)(void *data, int status, const ethp2p_enr *records, size_t n);
typedef void (*ethp2p_discv5_talk_cb)(void *data, int status, const uint8_t *resp, size_t len);

#define ETHP2P_DISCV5_NODES_MAX 16 /* records collected per FINDNODE */

/* Returns 0, ETHP2P_EBUSY (too many pending requests, or the node is being destroyed)
 * or ETHP2P_EINVAL. */
int ethp2p_discv5_ping(ethp2p_discv5 *v5, const ethp2p_discv5_peer *peer, ethp2p_discv5_pong_cb cb,
                       void *data);
/* distances: 1..16 values in 0..256. */
int ethp2p_discv5_findnode(ethp2p_discv5 *v5, const ethp2p_discv5_peer *peer,
                           const uint16_t *distances, size_t n, ethp2p_discv5_nodes_cb cb,
                           void *data);
int ethp2p_discv5_talkreq(ethp2p_discv5 *v5, const ethp2p_discv5_peer *peer, const char *proto,
                          const uint8_t *req, size_t len, ethp2p_discv5_talk_cb cb, void *data);

/*
 * Iterative lookup (Kademlia, alpha = 3) for the nodes closest to target, starting
 * from the node store: each round asks the closest not yet asked nodes for the
 * log-distances around the target (d, d+1, d-1, as go-ethereum does), until the 16
 * closest known nodes have all been asked.  cb gets the closest records found
 * (status 0), or ETHP2P_ECANCELED.  Until the coordinator joins the shared table
 * (p2p/discover/table.c, lookup.c), this is the discv5 node's own lookup.
 * Returns 0, ETHP2P_ENOTFOUND (the store is empty), ETHP2P_EBUSY (no request could be
 * sent) or ETHP2P_ENOMEM; on an error cb is never called.
 */
typedef void (*ethp2p_discv5_lookup_cb)(void *data, int status, const ethp2p_enr *closest,
                                        size_t n);
int ethp2p_discv5_lookup(ethp2p_discv5 *v5, const uint8_t target[32], ethp2p_discv5_lookup_cb cb,
                         void *data);

/* Registers the handler of TALKREQ protocol `proto` (at most 8, names up to 32
 * bytes).  Returns 0, ETHP2P_EEXIST or ETHP2P_ENOMEM. */
int ethp2p_discv5_talk_register(ethp2p_discv5 *v5, const char *proto, ethp2p_discv5_talk_fn fn,
                                void *data);

/* Forgets every session with node `id` (the table dropped it, or a test wants a fresh
 * handshake).  Keys are wiped.  Returns the number of sessions dropped. */
size_t ethp2p_discv5_session_drop(ethp2p_discv5 *v5, const uint8_t id[32]);

/* Counters for metrics. */
typedef struct ethp2p_discv5_stats {
  uint64_t packets_in, packets_out, handshakes, handshake_failures, decrypt_failures, requests,
      timeouts, sessions;
  uint64_t whoareyou_limited; /* WHOAREYOUs not sent: over the per-IP or global rate */
} ethp2p_discv5_stats;
void ethp2p_discv5_stats_get(const ethp2p_discv5 *v5, ethp2p_discv5_stats *out);

#ifdef __cplusplus
}
#endif
#endif
