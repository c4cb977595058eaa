/*
 * ethp2p/localnode.h — the local node's record, its sequence number and its
 * endpoint (go-ethereum's enode.LocalNode), plus the two helpers it is made of:
 * the sequence-number store (p2p/seqstore.c) and endpoint prediction from
 * peers' statements (p2p/iptrack.c).
 *
 * Record: entries are changed freely; the record is re-signed lazily, when
 * somebody asks for it (ethp2p_localnode_record) or when subscribers are told
 * (on the loop turn after a change, so a burst of changes gives one new
 * version).  Every new version has seq = previous + 1, and that seq is written
 * to the data directory before the record is handed out.  A change that is
 * undone before the record is signed again gives no new version at all.
 *
 * Sequence number (seqstore): starts at the environment's wall clock in Unix
 * milliseconds; on start the stored value and the clock are compared and the
 * larger wins, so seq never decreases — not after a crash mid-write (the temp
 * file is ignored), not after a lost file, not with a read-only or full
 * directory (the save error is returned and logged, the node keeps running
 * with its in-memory seq, which still only rises).
 *
 * Endpoints: one per address family, as go-ethereum's LocalNode keeps them.
 * Each family has its own static IP, fallback IP, fallback UDP port and
 * endpoint predictor (iptrack); the IPv4 one writes `ip`/`udp`, the IPv6 one
 * `ip6`/`udp6`.  Per family: static IP > predicted (IP and port from >= 10
 * peers' statements in a 5-minute window) > fallback IP; the UDP port is the
 * predicted one with a prediction, the fallback UDP port otherwise (a static
 * IP keeps the fallback UDP port).  A missing IP or a UDP port of 0 removes the
 * entry: the record never carries port 0.  Nothing said about one family
 * (a statement, a contact, a static or fallback IP, a withdrawal) changes the
 * other.  An IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as IPv4.
 *
 * `udp6` and `tcp6` are written only when they differ from `udp` and `tcp`
 * (go-ethereum's rule: a reader falls back to udp/tcp when they are absent), so
 * a dual-stack node on one port carries just ip, ip6, tcp and udp.
 *
 * The IPv6 address: a host with native IPv6 has no NAT, so its own global
 * address is what peers reach.  ethp2p_localnode_set_fallback_ip6_from_host
 * picks it from the environment's interfaces; a static one (extip:<IPv6>, a
 * router pinhole's address) wins over it.
 *
 * Threading: everything runs on the environment's loop.
 */
#ifndef ETHP2P_LOCALNODE_H
#define ETHP2P_LOCALNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/enr.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "ethp2p/nodekey.h"
#include "ethp2p/portmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ===========================================================================
 * Sequence-number store: <dir>/enr-seq holds the decimal seq and a newline.
 * Saving writes <dir>/enr-seq.tmp, fsyncs it, renames it over enr-seq and
 * fsyncs the directory, so a reader sees the old or the new value, never a
 * torn one.
 * ========================================================================= */

#define ETHP2P_SEQSTORE_FILE "enr-seq"
#define ETHP2P_SEQSTORE_PATH_MAX 1024

typedef struct ethp2p_seqstore {
  char dir[ETHP2P_SEQSTORE_PATH_MAX];
  char path[ETHP2P_SEQSTORE_PATH_MAX];
  char tmp[ETHP2P_SEQSTORE_PATH_MAX];
  uint64_t saved; /* last value written successfully (0 = none) */
} ethp2p_seqstore;

/*
 * Opens the store in dir (which must exist) and computes the starting seq:
 * max(stored value, now_ms), or now_ms when nothing valid is stored.  A stale
 * temp file is removed; a corrupt main file is treated as absent.
 * Returns 0; ETHP2P_ETOOBIG (path too long); ETHP2P_EIO / ETHP2P_EPERM when an
 * existing file could not be read (then *seq is still max-safe: now_ms), or
 * ETHP2P_ESYNTAX when it was corrupt (same).  Callers may log and go on in all
 * cases except ETOOBIG.  Out: *seq.
 */
int ethp2p_seqstore_open(ethp2p_seqstore *st, const char *dir, int64_t now_ms, uint64_t *seq);

/*
 * Durably stores seq (temp file, fsync, rename, fsync of the directory).
 * Returns 0, or ETHP2P_EPERM / ETHP2P_EIO (the old file is left intact).
 */
int ethp2p_seqstore_save(ethp2p_seqstore *st, uint64_t seq);

/*
 * Reads the stored value without opening a store.  Returns 0,
 * ETHP2P_ENOTFOUND, ETHP2P_ESYNTAX (corrupt) or ETHP2P_EIO/EPERM.
 */
int ethp2p_seqstore_read(const char *dir, uint64_t *seq);

/* ===========================================================================
 * Endpoint prediction (go-ethereum's netutil.IPTracker): each remote host's
 * latest statement of our endpoint counts once; statements older than the
 * window are forgotten; the endpoint with most statements wins if it has at
 * least min_statements.  Bounded: at most ETHP2P_IPTRACK_MAX hosts are
 * remembered (the oldest statement is dropped first).
 * ========================================================================= */

#define ETHP2P_IPTRACK_MAX 256

typedef struct ethp2p_iptrack_entry {
  ethp2p_addr host;     /* who said it (port ignored) */
  ethp2p_addr endpoint; /* what they saw (IP and port) */
  ethp2p_time time;
} ethp2p_iptrack_entry;

typedef struct ethp2p_iptrack {
  ethp2p_time window;         /* statements older than this are forgotten (5 min) */
  ethp2p_time contact_window; /* contacts older than this are forgotten (10 min) */
  unsigned min_statements;    /* 10 */
  ethp2p_iptrack_entry st[ETHP2P_IPTRACK_MAX];
  size_t nst;
  ethp2p_iptrack_entry contact[ETHP2P_IPTRACK_MAX]; /* endpoint unused */
  size_t ncontact;
} ethp2p_iptrack;

/* Initializes with the given windows and threshold (0 = go-ethereum's values). */
void ethp2p_iptrack_init(ethp2p_iptrack *t, ethp2p_time window, ethp2p_time contact_window,
                         unsigned min_statements);
/* `host` says our endpoint is `endpoint` (at `now`). */
void ethp2p_iptrack_add_statement(ethp2p_iptrack *t, const ethp2p_addr *host,
                                  const ethp2p_addr *endpoint, ethp2p_time now);
/* We sent our endpoint information to `host` (at `now`). */
void ethp2p_iptrack_add_contact(ethp2p_iptrack *t, const ethp2p_addr *host, ethp2p_time now);
/* The endpoint with most statements, if it has enough.  Returns true and sets
 * *out (IP and port), or false with *out zeroed. */
bool ethp2p_iptrack_predict(ethp2p_iptrack *t, ethp2p_time now, ethp2p_addr *out);
/* True if some host we never contacted (within the contact window) made a
 * statement: unsolicited packets reach us, as behind a full-cone NAT. */
bool ethp2p_iptrack_predict_full_cone(ethp2p_iptrack *t, ethp2p_time now);

/* ===========================================================================
 * LocalNode
 * ========================================================================= */

typedef struct ethp2p_localnode ethp2p_localnode;

/* A new version of the record (signed; valid only during the call). */
typedef void (*ethp2p_localnode_cb)(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data);

#define ETHP2P_LOCALNODE_MAX_SUBS 8

/*
 * Creates the local node for key on env.  datadir (may be NULL: no
 * persistence) must exist; the seq store lives there.  A seq-store read
 * problem is logged and not fatal.  The key is copied (wiped on destroy).
 * The record starts with id, secp256k1 and nothing else.
 * Returns 0, ETHP2P_EINVAL, ETHP2P_EKEY, ETHP2P_ENOMEM or ETHP2P_ETOOBIG (datadir path).
 */
int ethp2p_localnode_create(ethp2p_env *env, const ethp2p_nodekey *key, const char *datadir,
                            ethp2p_localnode **out);
/* Frees it (no callback runs). NULL is fine. */
void ethp2p_localnode_destroy(ethp2p_localnode *ln);

/* The current record, signed now if it changed (seq bumped and stored first).
 * Returns 0 or the signing error (then *out is the last signed version). */
int ethp2p_localnode_record(ethp2p_localnode *ln, ethp2p_enr *out);
/* The current record's "enr:..." text (signing it if needed); cap >=
 * ETHP2P_ENR_TEXT_MAX + 1 always suffices.  Returns 0 or ETHP2P_ESPACE. */
int ethp2p_localnode_text(ethp2p_localnode *ln, char *out, size_t cap);
/* Seq of the current record (signing it if needed). */
uint64_t ethp2p_localnode_seq(ethp2p_localnode *ln);
/* The node ID (keccak256 of the public key). */
void ethp2p_localnode_id(const ethp2p_localnode *ln, uint8_t id[32]);
/* 0, or the last error saving seq (the node runs on with its in-memory seq). */
int ethp2p_localnode_seq_error(const ethp2p_localnode *ln);

/* Entries.  port 0 deletes the entry.  ETHP2P_ENR_UDP sets the fallback UDP
 * port of both families (ethp2p_localnode_set_fallback_udp), ETHP2P_ENR_UDP6
 * that of IPv6 only (ethp2p_localnode_set_fallback_udp6); the `udp`/`udp6`
 * entries follow the endpoint rules above.  ETHP2P_ENR_TCP6 sets the IPv6 TCP
 * port, written as `tcp6` only while it differs from the `tcp` port.  Return 0,
 * ETHP2P_ETOOBIG (record would exceed 300 bytes; unchanged) or ETHP2P_EINVAL. */
int ethp2p_localnode_set_port(ethp2p_localnode *ln, ethp2p_enr_port which, uint16_t port);
/* Any other key: raw is one RLP item (stored unchanged); del removes. */
int ethp2p_localnode_set_raw(ethp2p_localnode *ln, const char *key, const uint8_t *raw,
                             size_t raw_len);
int ethp2p_localnode_del(ethp2p_localnode *ln, const char *key);

/*
 * Endpoint inputs.  set_static_ip / set_fallback_ip take an address of either
 * family and set that family's value (the port is ignored); NULL or family 0
 * clears the IPv4 value (as before IPv6 existed).  The *_ip6 forms take only
 * IPv6 (an IPv4 or IPv4-mapped address is ETHP2P_EINVAL) and NULL clears the
 * IPv6 value.  The unspecified address (0.0.0.0, ::) is stored but never
 * published.  Return 0 or ETHP2P_EINVAL (ln NULL, unknown family).
 */
int ethp2p_localnode_set_static_ip(ethp2p_localnode *ln, const ethp2p_addr *ip);
int ethp2p_localnode_set_fallback_ip(ethp2p_localnode *ln, const ethp2p_addr *ip);
int ethp2p_localnode_set_static_ip6(ethp2p_localnode *ln, const ethp2p_addr *ip);
int ethp2p_localnode_set_fallback_ip6(ethp2p_localnode *ln, const ethp2p_addr *ip);
/* The fallback UDP port: of both families (go-ethereum's SetFallbackUDP), or of
 * IPv6 only (a separate IPv6 socket on another port).  0 = none. */
void ethp2p_localnode_set_fallback_udp(ethp2p_localnode *ln, uint16_t port);
void ethp2p_localnode_set_fallback_udp6(ethp2p_localnode *ln, uint16_t port);

/*
 * Sets the IPv6 fallback IP to the host's own global address: the first
 * address, in the environment's interface order, of an interface that is up
 * and not loopback, for which ethp2p_addr_is_public holds (so no ULA, link-local,
 * documentation, NAT64 or mapped address) and that is neither deprecated nor
 * tentative; a stable address is preferred to a temporary (privacy, RFC 8981)
 * one, which would change the record every day.  If there is none, the IPv6
 * fallback is cleared.  Call it again when the interfaces change.
 * Returns 0 (Out: *chosen, may be NULL, = the address, port 0), ETHP2P_ENOTFOUND
 * (no such address; *chosen zeroed) or the environment's interface error.
 */
int ethp2p_localnode_set_fallback_ip6_from_host(ethp2p_localnode *ln, ethp2p_addr *chosen);

/* A peer `from` told us it sees us at `endpoint` / we sent our endpoint to `to`.
 * The statement goes to the predictor of endpoint's family and is ignored when
 * from and endpoint are of different families; the contact goes to to's family. */
void ethp2p_localnode_udp_statement(ethp2p_localnode *ln, const ethp2p_addr *from,
                                    const ethp2p_addr *endpoint);
void ethp2p_localnode_udp_contact(ethp2p_localnode *ln, const ethp2p_addr *to);

/* The endpoint the record publishes for one family (4 or 6): IP and UDP port as
 * computed above (before the "differs from udp" rule).  Returns true and sets
 * *out, or false with *out zeroed when that family has no IP. */
bool ethp2p_localnode_endpoint(ethp2p_localnode *ln, int family, ethp2p_addr *out);

/* The sink the port-mapping loop writes through: set_ip -> static IP of the
 * address's family (NULL withdraws the IPv4 one), set_tcp -> `tcp` entry,
 * set_udp -> fallback UDP port (both families).  For the IPv6 loop (pinholes)
 * use ethp2p_localnode_portmap_sink6. */
void ethp2p_localnode_portmap_sink(ethp2p_localnode *ln, ethp2p_portmap_sink *out);
/* The same for IPv6: set_ip -> IPv6 static IP (NULL withdraws it; an IPv4
 * address is ignored), set_tcp -> IPv6 TCP port (`tcp6` when it differs),
 * set_udp -> IPv6 fallback UDP port (`udp6` when it differs). */
void ethp2p_localnode_portmap_sink6(ethp2p_localnode *ln, ethp2p_portmap_sink *out);

/* Subscribers are told of every new version, on the loop turn after the
 * change.  The first version reaches a subscriber added before the loop runs
 * again after create (or after the server's start); a later subscriber is told
 * only of later versions (read the current one with ethp2p_localnode_record).
 * Returns a positive id or ETHP2P_ESPACE. */
int ethp2p_localnode_subscribe(ethp2p_localnode *ln, ethp2p_localnode_cb cb, void *data);
void ethp2p_localnode_unsubscribe(ethp2p_localnode *ln, int id);

#ifdef __cplusplus
}
#endif
#endif
