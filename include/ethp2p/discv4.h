/*
 * ethp2p/discv4.h — Node Discovery Protocol v4 (devp2p discv4.md, EIP-8,
 * EIP-868): the wire codec and the protocol on the environment.
 *
 * Wire (discv4.md "Wire Protocol"):
 *
 *   packet = packet-header || packet-data
 *   packet-header = hash || signature || packet-type
 *   hash = keccak256(signature || packet-type || packet-data)        32 bytes
 *   signature = sign(keccak256(packet-type || packet-data))          65 bytes r||s||v
 *   packet-type                                                       1 byte
 *   packet-data = RLP list; at most 1280 bytes per packet in all.
 *
 *   Ping        0x01 [version, from, to, expiration, enr-seq ...]
 *   Pong        0x02 [to, ping-hash, expiration, enr-seq ...]
 *   FindNode    0x03 [target (64-byte public key), expiration ...]
 *   Neighbors   0x04 [[node, ...], expiration ...]   node = [ip, udp, tcp, key]
 *   ENRRequest  0x05 [expiration ...]                              (EIP-868)
 *   ENRResponse 0x06 [request-hash, record ...]                    (EIP-868)
 *   endpoint = [ip (4 or 16 bytes), udp-port, tcp-port]
 *   expiration = absolute Unix time in seconds.
 *
 * EIP-8 forward compatibility: the Ping version is not checked, extra list
 * elements are ignored, data after the first RLP value is ignored, and an
 * enr-seq slot that is not an integer (a list, in EIP-8's test packets) is
 * treated as absent.  Unknown packet types are refused (ETHP2P_EUNSUPP), so the
 * socket mux hands them on.
 */
#ifndef ETHP2P_DISCV4_H
#define ETHP2P_DISCV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/discover.h"
#include "ethp2p/enr.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===========================================================================
 * Codec (p2p/discover/v4_codec.c) — pure functions over caller buffers.
 * ========================================================================= */

#define ETHP2P_DISCV4_MAX_PACKET 1280
#define ETHP2P_DISCV4_HEAD_LEN 98 /* hash 32 + signature 65 + type 1 */
/* Neighbors per packet so that the worst case (IPv6, 3-byte ports) fits 1280 bytes
 * (go-ethereum's maxNeighbors). */
#define ETHP2P_DISCV4_NEIGHBORS_PER_PACKET 12
/* Most nodes a decoded Neighbors packet can carry (a 1280-byte packet holds at
 * most 16 minimal nodes of 71 bytes). */
#define ETHP2P_DISCV4_MAX_NEIGHBORS 17
/* Sent expirations are now + 20 s (go-ethereum's expiration). */
#define ETHP2P_DISCV4_EXPIRATION_S 20

typedef enum ethp2p_discv4_type {
  ETHP2P_DISCV4_PING = 1,
  ETHP2P_DISCV4_PONG = 2,
  ETHP2P_DISCV4_FINDNODE = 3,
  ETHP2P_DISCV4_NEIGHBORS = 4,
  ETHP2P_DISCV4_ENRREQUEST = 5,
  ETHP2P_DISCV4_ENRRESPONSE = 6,
} ethp2p_discv4_type;

/* "ping", "pong", ..., "unknown". */
const char *ethp2p_discv4_type_name(unsigned type);

/* An endpoint: addr carries the IP (family 0 when the packet had an IP of another
 * length) and the UDP port; tcp the TCP port. */
typedef struct ethp2p_discv4_endpoint {
  ethp2p_addr addr;
  uint16_t tcp;
} ethp2p_discv4_endpoint;

typedef struct ethp2p_discv4_rnode {
  ethp2p_discv4_endpoint ep;
  uint8_t pub64[64];
} ethp2p_discv4_rnode;

typedef struct ethp2p_discv4_packet {
  uint8_t type;        /* ethp2p_discv4_type */
  uint64_t expiration; /* all types except ENRResponse (0 there) */
  union {
    struct {
      uint64_t version;
      ethp2p_discv4_endpoint from, to;
      bool has_seq;
      uint64_t enr_seq;
    } ping;
    struct {
      ethp2p_discv4_endpoint to;
      uint8_t ping_hash[32];
      bool has_seq;
      uint64_t enr_seq;
    } pong;
    struct {
      uint8_t target[64];
    } findnode;
    struct {
      size_t n;
      ethp2p_discv4_rnode nodes[ETHP2P_DISCV4_MAX_NEIGHBORS];
      size_t skipped; /* nodes refused on decode (bad key, port or IP) */
    } neighbors;
    struct {
      uint8_t request_hash[32];
      ethp2p_enr record; /* decoded, not verified */
    } enrresponse;
  } u;
} ethp2p_discv4_packet;

/*
 * Decodes and authenticates a packet: length, hash, signature (the sender's key
 * is recovered), type and body (EIP-8 rules above).  Expiration is not checked
 * here (see ethp2p_discv4_expired).
 * Returns 0, or
 *   ETHP2P_ETRUNC    shorter than the header + 1 byte of data
 *   ETHP2P_ETOOBIG   longer than 1280 bytes
 *   ETHP2P_ESIG      hash mismatch, or no key recovers from the signature
 *   ETHP2P_EUNSUPP   unknown packet type
 *   ETHP2P_ETYPE / ETHP2P_ERANGE / RLP errors   malformed body (diag: which field)
 * Out: *out (zeroed first), sender_pub64 (may be NULL), hash (may be NULL): the
 * packet hash, the reply token of Pong and ENRResponse.
 * In: pkt[0..len), borrowed.
 */
int ethp2p_discv4_decode(ethp2p_discv4_packet *out, uint8_t sender_pub64[64], uint8_t hash[32],
                         const uint8_t *pkt, size_t len, ethp2p_diag *diag);

/*
 * Encodes and signs p with secret.  ENRResponse requires p->u.enrresponse.record
 * to be signed.  Neighbors takes at most ETHP2P_DISCV4_NEIGHBORS_PER_PACKET
 * nodes, each with an IP; a Ping/Pong endpoint of family 0 goes out with an
 * empty IP.
 * Returns 0, ETHP2P_EINVAL (unknown type, too many neighbors, a neighbor
 * without IP), ETHP2P_ESTATE (unsigned record), ETHP2P_ESPACE (cap
 * too small), ETHP2P_ETOOBIG (over 1280 bytes), ETHP2P_EKEY (bad secret).
 * Out: out[0..*out_len), hash (may be NULL).
 */
int ethp2p_discv4_encode(uint8_t *out, size_t cap, size_t *out_len, uint8_t hash[32],
                         const ethp2p_discv4_packet *p, const uint8_t secret[32]);

/* True if a packet with this expiration is expired at Unix time now_s
 * (go-ethereum: expiration < now). */
bool ethp2p_discv4_expired(uint64_t expiration, uint64_t now_s);

/* ===========================================================================
 * Protocol (p2p/discover/v4.c) on a socket mux.
 *
 * go-ethereum's v4_udp.go rules:
 *   - every packet past its expiration is dropped;
 *   - replies (Pong, Neighbors, ENRResponse) are taken only when they match a
 *     request in flight to that node ID and IP; a Pong must carry the hash of
 *     our Ping, an ENRResponse the hash of our ENRRequest; everything else is
 *     an unsolicited reply and dropped.  Requests time out after 500 ms;
 *   - endpoint proof: FindNode and ENRRequest are answered only for a node
 *     that answered our Ping (Pong) in the last 24 h; a Ping is always
 *     answered, and when we have no recent Pong from its sender we ping back
 *     (bonding); a node that is bonded both ways enters the table;
 *   - Neighbors are sent in packets of at most 12 nodes;
 *   - Ping and Pong carry our record's seq; a seq higher than the one we know
 *     for a table node makes us fetch its record (ENRRequest);
 *   - the `to` of each Pong (where that peer sees us) is a statement for
 *     endpoint prediction (host.statement), each Ping we send a contact.
 * ========================================================================= */

typedef struct ethp2p_discv4 ethp2p_discv4;

/* What discv4 needs from the local node (p2p/server.c wires localnode in;
 * ethp2p/localnode.h lives above this layer). */
typedef struct ethp2p_discv4_host {
  /* The current signed record (re-signed by the callee if it changed).
   * Returns 0 or an error (then no ENRResponse is sent). */
  int (*record)(void *data, ethp2p_enr *out);
  /* `from` says it sees us at `endpoint` (may be NULL). */
  void (*statement)(void *data, const ethp2p_addr *from, const ethp2p_addr *endpoint);
  /* We sent our endpoint to `to` (may be NULL). */
  void (*contact)(void *data, const ethp2p_addr *to);
  void *data;
} ethp2p_discv4_host;

typedef struct ethp2p_discv4_config {
  uint8_t secret[32];                    /* node key (copied; wiped on destroy) */
  ethp2p_discv4_host host;               /* record must be set */
  const ethp2p_discover_node *bootnodes; /* copied */
  size_t nbootnodes;
  /* netrestrict: when nrestrict > 0, only nodes whose IP lies in one of these
   * networks (addr + prefix) are talked to or put in the table. */
  const ethp2p_addr *restrict_nets;
  const uint8_t *restrict_prefix;
  size_t nrestrict;
  ethp2p_time resp_timeout;        /* 0 = 500 ms */
  ethp2p_time bond_expiration;     /* 0 = 24 h */
  ethp2p_time revalidate_interval; /* 0 = 10 s (a check every interval / 2 on average) */
  ethp2p_time refresh_interval;    /* 0 = 30 min */
  bool no_maintenance;             /* true: no revalidation/refresh timers (CLI one-shots) */
} ethp2p_discv4_config;

/*
 * Starts discv4 on mux (which must outlive it; discv4 installs itself as the
 * mux's first-chance handler).  With bootnodes and maintenance on, a refresh
 * (bond with the bootnodes, then a lookup for our own ID) starts at once.
 * Returns 0, ETHP2P_EINVAL (NULL argument, no host.record), ETHP2P_EKEY,
 * ETHP2P_ENOMEM.  Out: *out owned by the caller (ethp2p_discv4_destroy).
 */
int ethp2p_discv4_create(ethp2p_discover *mux, const ethp2p_discv4_config *cfg,
                         ethp2p_discv4 **out);
/* Stops: every request in flight is failed with ETHP2P_ECANCELED (callbacks
 * run inside this call), the mux handler is removed.  NULL is fine.  Never
 * call it from inside one of discv4's own callbacks (defer it to a timer or
 * stop the loop first). */
void ethp2p_discv4_destroy(ethp2p_discv4 *d);

/* Our node ID and the table (borrowed). */
void ethp2p_discv4_self(const ethp2p_discv4 *d, uint8_t id[32]);
ethp2p_table *ethp2p_discv4_table(ethp2p_discv4 *d);

/* Result of a Ping: status 0 with the Pong (its `to` and enr-seq) and the round
 * trip, or ETHP2P_ETIMEDOUT / ETHP2P_ECANCELED / a send error. */
typedef struct ethp2p_discv4_pong_info {
  ethp2p_addr to; /* where the peer sees us */
  bool has_seq;
  uint64_t enr_seq;
  ethp2p_time rtt;
  uint8_t pub64[64]; /* who answered */
} ethp2p_discv4_pong_info;
typedef void (*ethp2p_discv4_ping_cb)(void *data, int status, const ethp2p_discv4_pong_info *pong);
/* Result of an ENRRequest: status 0 with the verified record (of the node we
 * asked), or ETHP2P_ETIMEDOUT, ETHP2P_ESIG (record not signed by that node),
 * ETHP2P_ECANCELED.  rec valid only during the call. */
typedef void (*ethp2p_discv4_enr_cb)(void *data, int status, const ethp2p_enr *rec);
/* Result of a FindNode (one node) or a lookup (many): nodes valid only during
 * the call. */
typedef void (*ethp2p_discv4_nodes_cb)(void *data, int status, const ethp2p_discover_node *nodes,
                                       size_t n);

/* Pings n.  If n.pub64 is all zero the answer from any key at that address is
 * taken (CLI ping of a bare address).  Returns 0 (cb runs later, exactly once)
 * or an error (cb never runs): ETHP2P_EINVAL, ETHP2P_EPERM (netrestrict),
 * ETHP2P_ENOMEM, ETHP2P_EBUSY (too many requests in flight). */
int ethp2p_discv4_ping(ethp2p_discv4 *d, const ethp2p_discover_node *n, ethp2p_discv4_ping_cb cb,
                       void *data);
/* Asks n for its record (bonds first if we have no recent Pong from it). */
int ethp2p_discv4_request_enr(ethp2p_discv4 *d, const ethp2p_discover_node *n,
                              ethp2p_discv4_enr_cb cb, void *data);
/* Asks n for the nodes closest to target (64-byte key), bonding first if
 * needed; collects Neighbors until 16 nodes came or the timeout passed. */
int ethp2p_discv4_findnode(ethp2p_discv4 *d, const ethp2p_discover_node *n,
                           const uint8_t target[64], ethp2p_discv4_nodes_cb cb, void *data);
/* Iterative lookup for target (64-byte key; NULL = a random target) from the
 * table's closest nodes (bootnodes when the table is empty).  Found nodes are
 * offered to the table.  cb gets the closest that answered. */
int ethp2p_discv4_lookup(ethp2p_discv4 *d, const uint8_t target[64], ethp2p_discv4_nodes_cb cb,
                         void *data);
/* Resolves a node by key: a lookup for it, then its record if it was found.
 * cb gets the record (status 0) or ETHP2P_ENOTFOUND. */
int ethp2p_discv4_resolve(ethp2p_discv4 *d, const uint8_t pub64[64], ethp2p_discv4_enr_cb cb,
                          void *data);

/* Counters: packets in and out by type (index = type, 0 = undecodable/other). */
typedef struct ethp2p_discv4_stats {
  uint64_t rx[7], tx[7];
  uint64_t expired;     /* dropped: past expiration */
  uint64_t unsolicited; /* dropped: reply matching no request */
  uint64_t unbonded;    /* FindNode/ENRRequest refused: no endpoint proof */
  uint64_t timeouts;    /* requests that got no answer */
  uint64_t lookups;     /* lookups started */
  size_t table_len;
} ethp2p_discv4_stats;
void ethp2p_discv4_get_stats(const ethp2p_discv4 *d, ethp2p_discv4_stats *out);

/* ===========================================================================
 * Node iterator (go-ethereum's enode.Iterator over random walks): each call to
 * next hands out a node not handed out before that passes the filter, running
 * random lookups when it has none queued.
 * ========================================================================= */

typedef struct ethp2p_discv4_iter ethp2p_discv4_iter;
/* true keeps the node. */
typedef bool (*ethp2p_discv4_filter_fn)(void *data, const ethp2p_discover_node *n);
/* A node (status 0), or status ETHP2P_ECANCELED when the iterator closed. */
typedef void (*ethp2p_discv4_iter_cb)(void *data, int status, const ethp2p_discover_node *n);

/* Creates an iterator (filter may be NULL).  Returns 0 or ETHP2P_ENOMEM. */
int ethp2p_discv4_iter_create(ethp2p_discv4 *d, ethp2p_discv4_filter_fn filter, void *filter_data,
                              ethp2p_discv4_iter **out);
/* Asks for the next node: cb runs once, later.  Returns 0 or ETHP2P_EBUSY (a
 * next is already pending). */
int ethp2p_discv4_iter_next(ethp2p_discv4_iter *it, ethp2p_discv4_iter_cb cb, void *data);
/* Closes (a pending next gets ETHP2P_ECANCELED inside this call).  NULL is fine.
 * ethp2p_discv4_destroy closes the iterators still open (their pointers are
 * invalid afterwards). */
void ethp2p_discv4_iter_close(ethp2p_discv4_iter *it);

#ifdef __cplusplus
}
#endif
#endif
