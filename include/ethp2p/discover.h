/*
 * ethp2p/discover.h — what discv4 and discv5 share: the one UDP socket both
 * protocols run on (the "mux"), the node value type, the Kademlia table and
 * the node iterator.
 *
 * Socket mux (p2p/discover/discover.c).  go-ethereum runs discv4 and discv5
 * on one UDP port: every datagram is offered to discv4 first; what discv4
 * cannot decode (wrong hash, bad signature, unknown type, bad RLP) goes to the
 * "unhandled" hook, which the discv5 code plugs into.  Both protocols send on
 * the same socket through ethp2p_discover_send.
 *
 * Table (p2p/discover/table.c), go-ethereum's p2p/discover/table.go:
 *   - 256-bit XOR distances; 17 buckets: bucket 0 holds log-distances <= 239,
 *     bucket i (1..16) log-distance 239 + i;
 *   - 16 entries per bucket (most recently seen alive first), 10 replacements;
 *   - at most 2 nodes per /24 in a bucket and 10 per /24 in the table (LAN
 *     and loopback addresses are exempt, as in go-ethereum's netutil.IsLAN);
 *   - revalidation: the protocol pings the least recently checked entry of a
 *     random bucket every few seconds; a node that does not answer is replaced
 *     by the newest replacement.
 *   The table is a data structure on the caller's loop: it sends nothing
 *   itself.  The protocol (discv4 or discv5) tells it what it saw.
 *
 * Threading: everything runs on the environment's loop.
 */
#ifndef ETHP2P_DISCOVER_H
#define ETHP2P_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/enr.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===========================================================================
 * Nodes
 * ========================================================================= */

/* A remote node as discovery knows it.  Plain value (copy with `=`). */
typedef struct ethp2p_discover_node {
  uint8_t id[32];    /* keccak256(pub64) */
  uint8_t pub64[64]; /* secp256k1 public key x || y */
  ethp2p_addr addr;  /* UDP (discovery) endpoint */
  uint16_t tcp;      /* TCP (RLPx) port, 0 = unknown/none */
  uint64_t seq;      /* record seq we know (0 = no record seen) */
} ethp2p_discover_node;

/* Fills n from an "enode://..." URL or an "enr:..." record (the record's
 * signature is verified).  The URL needs an address and a UDP port.
 * Returns 0, ETHP2P_ESYNTAX / ETHP2P_EKEY / ETHP2P_ESIG / ... from the parsers,
 * or ETHP2P_EINVAL (no IP or no UDP port) with diag saying which.
 * Out: n zeroed on failure; rec (may be NULL) = the record for "enr:" input
 * (an empty record for enode input). */
int ethp2p_discover_node_parse(ethp2p_discover_node *n, ethp2p_enr *rec, const char *text,
                               ethp2p_diag *diag);
/* Fills n from a verified record's secp256k1, ip/udp (or ip6/udp6), tcp, seq.
 * Returns 0, ETHP2P_ENOTFOUND (no usable IP/UDP endpoint) or a key error. */
int ethp2p_discover_node_from_record(ethp2p_discover_node *n, const ethp2p_enr *rec);
/* Fills n from a public key and endpoint (id computed).  Returns 0 or ETHP2P_EKEY. */
int ethp2p_discover_node_init(ethp2p_discover_node *n, const uint8_t pub64[64],
                              const ethp2p_addr *udp, uint16_t tcp);
/* Writes the node's enode URL (ETHP2P_ENODE_URL_MAX suffices).  Returns the length
 * or ETHP2P_ESPACE. */
int ethp2p_discover_node_format(const ethp2p_discover_node *n, char *out, size_t cap);

/* Log-distance of two IDs: 0 if equal, else 1 + index of the highest differing bit
 * (1..256). */
unsigned ethp2p_discover_logdist(const uint8_t a[32], const uint8_t b[32]);
/* -1, 0 or 1 as a is closer to, equally far from or farther from target than b. */
int ethp2p_discover_distcmp(const uint8_t target[32], const uint8_t a[32], const uint8_t b[32]);

/* ===========================================================================
 * Socket mux
 * ========================================================================= */

typedef struct ethp2p_discover ethp2p_discover;

/* A datagram that discv4 did not take (pkt valid only during the call). */
typedef void (*ethp2p_discover_unhandled_cb)(void *data, const ethp2p_addr *from,
                                             const uint8_t *pkt, size_t len);
/* The first-chance handler (discv4 installs itself).  Returns true if it
 * consumed the packet, false to pass it to the unhandled hook. */
typedef bool (*ethp2p_discover_handler_cb)(void *data, const ethp2p_addr *from, const uint8_t *pkt,
                                           size_t len);

/*
 * Opens the discovery socket on env, bound to bind (port 0 = any free port).
 * Returns 0, ETHP2P_EINVAL, ETHP2P_ENOMEM or the socket error (EADDRINUSE, ...).
 * Out: *out (NULL on failure); the caller owns it (ethp2p_discover_close).
 */
int ethp2p_discover_open(ethp2p_env *env, const ethp2p_addr *bind, ethp2p_discover **out);
/* Closes the socket and frees the mux; no hook runs afterwards.  The protocols
 * on it must be destroyed first.  NULL is fine. */
void ethp2p_discover_close(ethp2p_discover *d);

/* The environment and the bound local address (port resolved). */
ethp2p_env *ethp2p_discover_env(const ethp2p_discover *d);
ethp2p_addr ethp2p_discover_local_addr(const ethp2p_discover *d);

/* Sends one datagram.  Returns 0 or the environment's error; ETHP2P_ETOOBIG above
 * 1280 bytes (the limit of both protocols). */
int ethp2p_discover_send(ethp2p_discover *d, const ethp2p_addr *to, const uint8_t *pkt, size_t len);

/* Installs the hook for what the first-chance handler does not take (discv5 here).
 * cb NULL removes it (such packets are then counted and dropped). */
void ethp2p_discover_set_unhandled(ethp2p_discover *d, ethp2p_discover_unhandled_cb cb, void *data);
/* Installs the first-chance handler (one; discv4 does this itself). */
void ethp2p_discover_set_handler(ethp2p_discover *d, ethp2p_discover_handler_cb cb, void *data);

/* Feeds a datagram as if it had arrived on the socket (tests, or a caller that
 * owns its own socket). */
void ethp2p_discover_input(ethp2p_discover *d, const ethp2p_addr *from, const uint8_t *pkt,
                           size_t len);

/* Counters of the mux. */
typedef struct ethp2p_discover_stats {
  uint64_t rx_packets, rx_bytes; /* everything received */
  uint64_t tx_packets, tx_bytes; /* everything sent (both protocols) */
  uint64_t tx_errors;
  uint64_t unhandled; /* passed to the unhandled hook */
  uint64_t dropped;   /* not handled and no hook installed */
} ethp2p_discover_stats;
void ethp2p_discover_get_stats(const ethp2p_discover *d, ethp2p_discover_stats *out);

/* ===========================================================================
 * Table
 * ========================================================================= */

#define ETHP2P_TABLE_BUCKET_SIZE 16
#define ETHP2P_TABLE_MAX_REPLACEMENTS 10
#define ETHP2P_TABLE_NBUCKETS 17
#define ETHP2P_TABLE_BUCKET_MIN_DIST 239 /* 256 - 17 */
#define ETHP2P_TABLE_BUCKET_IP_LIMIT 2
#define ETHP2P_TABLE_IP_LIMIT 10
#define ETHP2P_TABLE_IP_SUBNET 24

typedef struct ethp2p_table_entry {
  ethp2p_discover_node node;
  ethp2p_time added;     /* when it entered the table */
  ethp2p_time last_seen; /* last packet or answered check */
  unsigned checks;       /* answered revalidations since added */
} ethp2p_table_entry;

typedef struct ethp2p_table_bucket {
  ethp2p_table_entry entries[ETHP2P_TABLE_BUCKET_SIZE];
  size_t n;
  ethp2p_table_entry repl[ETHP2P_TABLE_MAX_REPLACEMENTS];
  size_t nrepl;
} ethp2p_table_bucket;

/* What happened to the table (subscribers). */
typedef enum ethp2p_table_event {
  ETHP2P_TABLE_ADDED = 1,   /* node entered a bucket */
  ETHP2P_TABLE_REMOVED = 2, /* node left a bucket (failed checks) */
} ethp2p_table_event;
typedef void (*ethp2p_table_event_cb)(void *data, ethp2p_table_event ev,
                                      const ethp2p_discover_node *n);

typedef struct ethp2p_table {
  uint8_t self[32];
  ethp2p_table_bucket buckets[ETHP2P_TABLE_NBUCKETS];
  size_t count;
  ethp2p_table_event_cb event_cb;
  void *event_data;
} ethp2p_table;

/* Initializes an empty table for our own node ID. */
void ethp2p_table_init(ethp2p_table *t, const uint8_t self[32]);
/* Sets the one event subscriber (NULL removes). */
void ethp2p_table_set_events(ethp2p_table *t, ethp2p_table_event_cb cb, void *data);

/* Bucket index of an ID (0..16); -1 for our own ID. */
int ethp2p_table_bucket_index(const ethp2p_table *t, const uint8_t id[32]);

/*
 * A node proved alive (it answered us, or bonded with us): moved to the front
 * of its bucket if present (endpoint and seq updated), else added if the bucket
 * has room and the subnet limits allow, else kept as a replacement.
 * Returns 1 (in the bucket now), 0 (kept as replacement), ETHP2P_EINVAL (our own
 * ID or no address) or ETHP2P_EBUSY (refused by the subnet limits).
 */
int ethp2p_table_add_seen(ethp2p_table *t, const ethp2p_discover_node *n, ethp2p_time now);
/* A node heard of through a lookup (not proved alive): added at the back of its
 * bucket if there is room and the limits allow, else a replacement.
 * Returns as ethp2p_table_add_seen. */
int ethp2p_table_add_found(ethp2p_table *t, const ethp2p_discover_node *n, ethp2p_time now);
/* Revalidation result for entry id: alive moves it to the front (checks + 1,
 * seq updated when larger); dead removes it and promotes the newest
 * replacement.  Returns 0 or ETHP2P_ENOTFOUND. */
int ethp2p_table_checked(ethp2p_table *t, const uint8_t id[32], bool alive, uint64_t seq,
                         ethp2p_time now);
/* Removes id (bucket or replacement).  Returns 0 or ETHP2P_ENOTFOUND. */
int ethp2p_table_remove(ethp2p_table *t, const uint8_t id[32]);
/* The entry of id, or NULL (a borrowed pointer, valid until the table changes). */
const ethp2p_table_entry *ethp2p_table_find(const ethp2p_table *t, const uint8_t id[32]);
/* Up to max entries closest to target (by XOR distance), closest first.
 * Returns the number written. */
size_t ethp2p_table_closest(const ethp2p_table *t, const uint8_t target[32],
                            ethp2p_discover_node *out, size_t max);
/* The entry to revalidate next: the last (least recently seen) entry of a
 * non-empty bucket chosen from rnd.  NULL when the table is empty. */
const ethp2p_table_entry *ethp2p_table_pick_check(const ethp2p_table *t, uint32_t rnd);
/* Number of entries in buckets (replacements not counted). */
size_t ethp2p_table_len(const ethp2p_table *t);
/* All bucket entries, bucket order (up to max).  Returns the number written. */
size_t ethp2p_table_nodes(const ethp2p_table *t, ethp2p_discover_node *out, size_t max);

/* ===========================================================================
 * Iterative lookup (p2p/discover/lookup.c), go-ethereum's lookup.go: keep the
 * 16 closest nodes seen, ask the closest not yet asked, at most alpha (3) at a
 * time; done when every node among the closest 16 has been asked.
 * Generic: the protocol supplies the query function and feeds the answers.
 * ========================================================================= */

#define ETHP2P_LOOKUP_ALPHA 3
#define ETHP2P_LOOKUP_RESULTS 16

typedef struct ethp2p_lookup ethp2p_lookup;

/* Ask node n for nodes close to target; answer later with ethp2p_lookup_answer
 * (exactly once per query, also on failure).  Returns 0, or an error (the node
 * counts as failed at once). */
typedef int (*ethp2p_lookup_query_fn)(void *data, ethp2p_lookup *lk, const ethp2p_discover_node *n,
                                      const uint8_t target[32]);
/* Lookup finished: the closest nodes that answered (closest first), n of them.
 * Valid only during the call; the lookup is freed after it returns. */
typedef void (*ethp2p_lookup_done_cb)(void *data, const ethp2p_discover_node *nodes, size_t n);

/* Starts a lookup for target from the seeds.  Returns 0, ETHP2P_ENOMEM or
 * ETHP2P_ENOTFOUND (no seed).  done runs once, never inside this call (on a
 * later answer, or on the next loop turn when every query failed at once). */
int ethp2p_lookup_start(ethp2p_env *env, const uint8_t target[32], const uint8_t self[32],
                        const ethp2p_discover_node *seeds, size_t nseeds,
                        ethp2p_lookup_query_fn query, void *query_data, ethp2p_lookup_done_cb done,
                        void *done_data, ethp2p_lookup **out);
/* The answer to a query of lk to node `from`: status 0 with nodes, or an error. */
void ethp2p_lookup_answer(ethp2p_lookup *lk, const uint8_t from[32], int status,
                          const ethp2p_discover_node *nodes, size_t n);
/* Cancels: done never runs.  Queries in flight must still be answered (the
 * protocol answers them with ETHP2P_ECANCELED when it is destroyed); the lookup
 * frees itself after the last answer. */
void ethp2p_lookup_cancel(ethp2p_lookup *lk);
/* Number of nodes queried so far. */
size_t ethp2p_lookup_asked(const ethp2p_lookup *lk);

#ifdef __cplusplus
}
#endif
#endif
