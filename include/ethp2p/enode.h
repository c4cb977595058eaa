/*
 * ethp2p/enode.h — enode URLs ("v4" node URLs), both directions.
 *
 *   enode://<128 hex: public key x||y>@<host>:<tcp port>[?discport=<udp port>]
 *   enode://<128 hex>            (an "incomplete" node: key only, no address)
 *   <128 hex>                    (same, without the scheme)
 *
 * Grammar and choices (go-ethereum's enode.ParseV4 and Node.URLv4 are the model):
 * - The scheme is case-insensitive; the key is 128 hex digits in either case and
 *   must be a point on secp256k1 (checked, not just decoded).
 * - host is an IPv4 dotted quad or an IPv6 address in brackets ("[::1]").  An
 *   IPv4-mapped IPv6 address ("[::ffff:1.2.3.4]") is stored as IPv4, like Go's
 *   To4().  IPv6 zone suffixes ("%eth0") are refused.
 * - DNS names are refused ("host is a DNS name"): this library does no I/O, and a
 *   node's identity URL should not depend on a resolver.  go-ethereum resolves
 *   them at parse time; callers that want that resolve first and format the IP.
 * - Ports are decimal 0..65535 (at most 5 digits).  0 means "not listening"
 *   (go-ethereum prints ":0" for a node whose record has no tcp entry).  The UDP
 *   (discovery) port equals the TCP port unless "?discport=N" says otherwise; the
 *   formatter writes discport only when the two differ.
 * - The query may only be "discport=N" (non-empty); other parameters, fragments,
 *   paths and user passwords are refused rather than silently dropped.
 *
 * Parsing is a pure function over caller memory; no allocation.
 */
#ifndef ETHP2P_ENODE_H
#define ETHP2P_ENODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest URL ethp2p_enode_format() writes, plus the NUL ("enode://" 128 "@[" 45
 * "]:65535?discport=65535"). */
#define ETHP2P_ENODE_URL_MAX 256
/* Longest input ethp2p_enode_parse() looks at; longer input is refused. */
#define ETHP2P_ENODE_INPUT_MAX 512

typedef struct ethp2p_enode {
  uint8_t pubkey[64]; /* x||y of the uncompressed secp256k1 public key (validated) */
  uint8_t ip[16];     /* first ip_len bytes used, network order */
  uint8_t ip_len;     /* 0 (incomplete node: no address), 4 (IPv4) or 16 (IPv6) */
  uint16_t tcp;       /* TCP (RLPx) port, 0 = none */
  uint16_t udp;       /* UDP (discovery) port, 0 = none */
} ethp2p_enode;

/*
 * Parses an enode URL (see the grammar above).
 * Returns: 0; ETHP2P_ETOOBIG (input longer than ETHP2P_ENODE_INPUT_MAX),
 *   ETHP2P_ESYNTAX (scheme, hex, host, port or query malformed),
 *   ETHP2P_EKEY (128 hex digits that are not a point on the curve),
 *   ETHP2P_ERANGE (port above 65535), ETHP2P_EUNSUPP (DNS name or IPv6 zone).
 * Out: node (zeroed first, so fully zero on failure); diag (may be NULL) gets a
 *   sentence and the byte offset of the problem.
 * In: url, len — need not be NUL-terminated.  No whitespace trimming is done.
 */
int ethp2p_enode_parse(ethp2p_enode *node, const char *url, size_t len, ethp2p_diag *diag);

/*
 * Formats node as an enode URL with a lowercase key, e.g.
 * "enode://<hex>@127.0.0.1:30303" or "...@[::1]:30303?discport=30301", or
 * "enode://<hex>" when ip_len is 0.
 * Returns: the length written (without NUL), ETHP2P_ESPACE if outlen is too small
 *   (ETHP2P_ENODE_URL_MAX always suffices; out is then ""), ETHP2P_EINVAL if
 *   ip_len is not 0, 4 or 16.
 */
int ethp2p_enode_format(const ethp2p_enode *node, char *out, size_t outlen);

/*
 * Fills node from a public key and an endpoint: the usual way to build one for
 * a local key.  ip may be NULL with ip_len 0 (incomplete node).
 * Returns: 0, ETHP2P_EINVAL for an ip_len other than 0, 4 or 16, ETHP2P_EKEY if
 *   pubkey is not on the curve.
 */
int ethp2p_enode_init(ethp2p_enode *node, const uint8_t pubkey[64], const uint8_t *ip,
                      size_t ip_len, uint16_t tcp, uint16_t udp);

struct ethp2p_enr;

/*
 * The enode URL view of a record, as go-ethereum's Node.URLv4 shows it:
 * key from `secp256k1`; address from `ip` (with `tcp`, `udp`) or `ip6` (with
 * `tcp6`/`udp6`, each falling back to `tcp`/`udp`).  When both addresses are
 * usable the "more global" one wins (unspecified < loopback < link-local <
 * private < other; IPv4 on a tie); multicast addresses are not usable; an
 * IPv4-mapped `ip6` counts as IPv4.  Absent ports are 0; no usable address gives
 * an incomplete node (ip_len 0).  The signature is not checked here.
 * Returns: 0; ETHP2P_ENOTFOUND (no `secp256k1`), ETHP2P_EKEY / ETHP2P_ETYPE (bad
 *   key), ETHP2P_ETYPE if an entry it would use (ip, ip6, a port) is malformed —
 *   such a record is reported, never read as a different endpoint.
 * Out: node (zeroed on failure); diag (may be NULL) names the entry.
 */
int ethp2p_enode_from_record(ethp2p_enode *node, const struct ethp2p_enr *rec, ethp2p_diag *diag);

/* Returns true if a and b describe the same key and endpoint. */
bool ethp2p_enode_equal(const ethp2p_enode *a, const ethp2p_enode *b);

#ifdef __cplusplus
}
#endif
#endif
