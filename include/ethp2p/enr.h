/*
 * ethp2p/enr.h — Ethereum Node Records (EIP-778) with the "v4" identity scheme.
 *
 * Wire form:  rlp([signature, seq, k1, v1, k2, v2, ...]), at most 300 bytes.
 *   - keys are byte strings, sorted ascending bytewise, unique;
 *   - seq is a canonical RLP integer (no leading zero byte, at most 8 bytes);
 *   - values are any single RLP item (string or list) and are kept as their raw
 *     encoding, re-emitted unchanged (e.g. the nested `eth` list);
 *   - "v4": id = "v4", secp256k1 = 33-byte compressed public key, signature =
 *     64-byte r || s over keccak256(rlp([seq, k1, v1, ...])), deterministic (RFC 6979, low-S).
 *   - node ID = keccak256(X || Y) of the uncompressed public key.
 * Text form: "enr:" + base64url without padding (strict, see encoding.h).
 *
 * The record is a plain value in fixed-size storage (no allocation, no pointers
 * inside): copy it with `=`, compare two encodings to compare records.  Fields
 * are private; use the functions below.  Borrowed views returned by getters
 * (ethp2p_rlp_item) point into the record and are valid until it is modified.
 *
 * Signature state:
 *   A record is "signed" after ethp2p_enr_decode (it carries the signature it was
 *   decoded with, verified or not) and after ethp2p_enr_sign.  It is "unsigned"
 *   after ethp2p_enr_init and after any change.
 *   Changing a signed record (set or delete of any key, with a value that differs
 *   from the current one) drops the signature and increments seq by one — once:
 *   further changes while unsigned do not bump seq again (go-ethereum's rule).
 *   Setting a key to the byte-identical raw value it already has is a no-op and
 *   leaves a signed record signed.  ethp2p_enr_seq_set drops the signature without
 *   bumping.  An increment past 2^64-1 is refused (ETHP2P_ERANGE, record unchanged).
 *   Only signed records encode; ethp2p_enr_sign makes a record signed again.
 *
 * Size: every change is refused with ETHP2P_ETOOBIG (record unchanged) if the
 * record, signed with a 64-byte signature, would exceed 300 bytes.  So a record
 * that was accepted by a setter always fits when signed.
 *
 * Malformed optional values (policy):
 *   Decoding checks the record's structure only (the rules above), not the shape
 *   of the values of known keys, and verification checks only `id`, `secp256k1`
 *   and the signature.  A record whose `tcp` is 3 bytes or whose `ip` is 5 bytes
 *   still decodes and verifies — its signature is valid, its owner said so, and
 *   refusing it would drop whole discovery responses.  But it is never silently
 *   misread: the typed getter of such a key returns ETHP2P_ETYPE ("present but
 *   malformed"), distinct from ETHP2P_ENOTFOUND ("absent"), and never a truncated
 *   or zero-filled value; ethp2p_enr_value_check says what is wrong, and
 *   ethp2p_enr_value_format shows the raw value flagged "(malformed: ...)".
 *   Shapes:  ip = 4-byte string; ip6 = 16-byte string; secp256k1 = 33-byte string;
 *   id = string; tcp, udp, tcp6, udp6, quic, quic6 = canonical RLP integer <= 65535
 *   (so a port of 0 is the empty string 0x80, and 0x820050 is malformed).
 *   Unknown keys have no shape rules.
 */
#ifndef ETHP2P_ENR_H
#define ETHP2P_ENR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/error.h"
#include "ethp2p/rlp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest encoded record (EIP-778). */
#define ETHP2P_ENR_MAX_SIZE 300
/* Longest text form: "enr:" + base64url of 300 bytes (without NUL). */
#define ETHP2P_ENR_TEXT_MAX (4 + 400)
/* Most key/value pairs a record of at most 300 bytes can hold. */
#define ETHP2P_ENR_MAX_PAIRS 150
/* Longest signature kept by the decoder (v4 signatures are 64 bytes). */
#define ETHP2P_ENR_SIG_MAX 64

/* Private layout of a key/value pair: offsets into content[]. */
typedef struct ethp2p_enr_pair_ {
  uint16_t key; /* raw key item starts here */
  uint16_t val; /* raw value item starts here (= end of the key) */
  uint16_t end; /* value ends here */
} ethp2p_enr_pair_;

typedef struct ethp2p_enr {
  uint64_t seq;
  uint16_t content_len; /* bytes of content[] in use */
  uint16_t npairs;
  uint8_t sig_len; /* valid when has_sig */
  bool has_sig;
  uint8_t sig[ETHP2P_ENR_SIG_MAX];
  uint8_t content[ETHP2P_ENR_MAX_SIZE]; /* raw k1 v1 k2 v2 ..., sorted */
  ethp2p_enr_pair_ pairs[ETHP2P_ENR_MAX_PAIRS];
} ethp2p_enr;

/* Ports the typed port getters and setters know. */
typedef enum ethp2p_enr_port {
  ETHP2P_ENR_TCP = 0,
  ETHP2P_ENR_UDP,
  ETHP2P_ENR_TCP6,
  ETHP2P_ENR_UDP6,
  ETHP2P_ENR_QUIC,
  ETHP2P_ENR_QUIC6,
} ethp2p_enr_port;

/* "tcp", "udp", "tcp6", "udp6", "quic", "quic6" (NULL for other values). */
const char *ethp2p_enr_port_key(ethp2p_enr_port which);

/* Makes rec an empty unsigned record with seq 0. */
void ethp2p_enr_init(ethp2p_enr *rec);

/*
 * Decodes a binary record and checks its structure (not its signature):
 * at most 300 bytes, canonical RLP, one list [sig, seq, k1, v1, ...] (so an even
 * element count >= 2), a string signature of at most 64 bytes, a canonical seq of
 * at most 8 bytes, string keys sorted ascending bytewise and unique.
 * Returns: 0, or
 *   ETHP2P_EINVAL    in is NULL while in_len > 0
 *   ETHP2P_ETOOBIG   more than 300 bytes, or more pairs than fit
 *   ETHP2P_ETRUNC, ETHP2P_ENONCANON, ETHP2P_ETRAILING, ETHP2P_EDEPTH   RLP errors
 *   ETHP2P_ETYPE     not a list, a list signature/seq/key, a missing seq, or a key without a value
 *   ETHP2P_ERANGE    seq longer than 8 bytes
 *   ETHP2P_ESIG      signature longer than 64 bytes
 *   ETHP2P_EORDER    keys not sorted or a duplicate key (diag names the key)
 * Out: *rec (an empty unsigned record on failure); diag (may be NULL) says what and where.
 * In:  in[0..in_len), copied; not kept.
 */
int ethp2p_enr_decode(ethp2p_enr *rec, const uint8_t *in, size_t in_len, ethp2p_diag *diag);

/*
 * Verifies the signature under the "v4" scheme.
 * Returns: 0, or
 *   ETHP2P_ESTATE    rec is unsigned
 *   ETHP2P_ESCHEME   no `id`, or `id` is not "v4"
 *   ETHP2P_EKEY      no `secp256k1`, not a 33-byte string, or not a point on the curve
 *   ETHP2P_ESIG      the signature is not 64 bytes or does not verify (high S included)
 * diag (may be NULL) gets a sentence (offset 0).
 */
int ethp2p_enr_verify(const ethp2p_enr *rec, ethp2p_diag *diag);

/* Decode, then verify.  Returns the first error of the two; rec is reset on any failure. */
int ethp2p_enr_decode_verify(ethp2p_enr *rec, const uint8_t *in, size_t in_len, ethp2p_diag *diag);

/*
 * Encodes a signed record: rlp([sig, seq, k1, v1, ...]).  For a decoded record
 * this reproduces the input byte for byte.
 * Returns 0, ETHP2P_ESTATE (unsigned), ETHP2P_ESPACE (cap too small; 300 is always
 * enough) or ETHP2P_ETOOBIG (over 300 bytes; cannot happen through this API).
 * Out: out[0..*out_len).
 */
int ethp2p_enr_encode(uint8_t *out, size_t cap, size_t *out_len, const ethp2p_enr *rec);

/* The length ethp2p_enr_encode would produce (with a 64-byte signature if unsigned). */
size_t ethp2p_enr_encoded_len(const ethp2p_enr *rec);

/*
 * Signs with the "v4" scheme: sets `id` = "v4" and `secp256k1` = the compressed
 * public key of secret (each a change under the rules above if it differs, so
 * signing a signed record with a different key bumps seq), then signs
 * keccak256(rlp([seq, k, v, ...])) deterministically.  The record is signed afterwards.
 * Returns 0, ETHP2P_EKEY (invalid secret), ETHP2P_ETOOBIG or ETHP2P_ERANGE
 * (record unchanged on error).
 */
int ethp2p_enr_sign(ethp2p_enr *rec, const uint8_t secret[32]);

/* The hash a v4 signature covers: keccak256(rlp([seq, k1, v1, ...])). */
void ethp2p_enr_signing_hash(uint8_t hash[32], const ethp2p_enr *rec);

/* True if rec carries a signature (decoded or made by ethp2p_enr_sign, not changed since). */
bool ethp2p_enr_is_signed(const ethp2p_enr *rec);

/* The signature view (NULL and 0 if unsigned). */
const uint8_t *ethp2p_enr_signature(const ethp2p_enr *rec, size_t *len);

/* Sequence number. */
uint64_t ethp2p_enr_seq(const ethp2p_enr *rec);
/* Sets seq and drops the signature (no bump).  Returns 0, or ETHP2P_ETOOBIG (record
 * unchanged) if the longer seq would make the signed record exceed 300 bytes. */
int ethp2p_enr_seq_set(ethp2p_enr *rec, uint64_t seq);

/*
 * Text form.  encode: "enr:" + base64url(encode(rec)), NUL-terminated; cap of
 * ETHP2P_ENR_TEXT_MAX + 1 is always enough.  Returns 0, ETHP2P_ESTATE or ETHP2P_ESPACE.
 * decode: requires the exact prefix "enr:", then strict base64url (no '=', no
 * whitespace, no stray characters, zero unused bits), then ethp2p_enr_decode
 * (not verify).  Returns ETHP2P_ESYNTAX (no prefix, bad character or length),
 * ETHP2P_ENONCANON (non-zero trailing bits), ETHP2P_ETOOBIG (text too long)
 * or a decode error.  diag offsets of text errors (prefix, base64url) count from the
 * start of the text; offsets of record errors are byte offsets in the decoded binary
 * record (the message says which).
 */
int ethp2p_enr_text_encode(char *out, size_t cap, size_t *out_len, const ethp2p_enr *rec);
int ethp2p_enr_text_decode(ethp2p_enr *rec, const char *text, size_t text_len, ethp2p_diag *diag);

/* Identity. */
/* The 64-byte uncompressed public key (X || Y) from `secp256k1` (for enode URLs).
 * Returns 0, ETHP2P_ENOTFOUND (no key), ETHP2P_ETYPE (not 33 bytes) or ETHP2P_EKEY
 * (not a point).  pub64 zeroed on failure. */
int ethp2p_enr_pubkey64(uint8_t pub64[64], const ethp2p_enr *rec);
/* Node ID = keccak256(pub64).  Same errors as ethp2p_enr_pubkey64; id zeroed on failure. */
int ethp2p_enr_node_id(uint8_t id[32], const ethp2p_enr *rec);

/*
 * Typed getters.  Each returns 0, ETHP2P_ENOTFOUND (key absent) or ETHP2P_ETYPE
 * (present but malformed, see the policy above); outputs are zeroed unless 0 is
 * returned.
 */
/* `id` as a NUL-terminated string; ETHP2P_ESPACE if it does not fit in cap (cap >= 1). */
int ethp2p_enr_id_get(const ethp2p_enr *rec, char *out, size_t cap);
int ethp2p_enr_secp256k1_get(const ethp2p_enr *rec, uint8_t pub33[33]);
int ethp2p_enr_ip_get(const ethp2p_enr *rec, uint8_t ip[4]);
int ethp2p_enr_ip6_get(const ethp2p_enr *rec, uint8_t ip6[16]);
int ethp2p_enr_port_get(const ethp2p_enr *rec, ethp2p_enr_port which, uint16_t *port);

/*
 * Typed setters (a change: see "Signature state").  Return 0, ETHP2P_ETOOBIG,
 * ETHP2P_ERANGE (seq bump would overflow) or ETHP2P_EINVAL (bad argument).
 */
int ethp2p_enr_id_set(ethp2p_enr *rec, const char *id);
int ethp2p_enr_secp256k1_set(ethp2p_enr *rec, const uint8_t pub33[33]);
int ethp2p_enr_ip_set(ethp2p_enr *rec, const uint8_t ip[4]);
int ethp2p_enr_ip6_set(ethp2p_enr *rec, const uint8_t ip6[16]);
int ethp2p_enr_port_set(ethp2p_enr *rec, ethp2p_enr_port which, uint16_t port);

/*
 * Raw access to any key (key is key_len bytes, need not be text).
 * get: *value = borrowed view of the value item (offset field = offset in the
 *      record's internal content, not in any input).  Returns 0 or ETHP2P_ENOTFOUND.
 * set: raw must be exactly one canonical RLP item (string or list); stored and
 *      re-emitted unchanged.  Returns 0, ETHP2P_ETOOBIG, ETHP2P_ERANGE, or an RLP
 *      decoding error for raw (ETHP2P_EINVAL for a NULL key with key_len > 0).
 * set_bytes: stores data[0..len) as an RLP string.
 * set_uint: stores v as a canonical RLP integer.
 * get_uint: reads a canonical RLP integer: 0, ENOTFOUND, or ETYPE (not a canonical uint64).
 * del: removes the key.  Returns 0 or ETHP2P_ENOTFOUND (record unchanged).
 */
int ethp2p_enr_raw_get(const ethp2p_enr *rec, const void *key, size_t key_len,
                       ethp2p_rlp_item *value);
int ethp2p_enr_raw_set(ethp2p_enr *rec, const void *key, size_t key_len, const uint8_t *raw,
                       size_t raw_len);
int ethp2p_enr_bytes_set(ethp2p_enr *rec, const void *key, size_t key_len, const void *data,
                         size_t len);
int ethp2p_enr_uint_set(ethp2p_enr *rec, const void *key, size_t key_len, uint64_t v);
int ethp2p_enr_uint_get(const ethp2p_enr *rec, const void *key, size_t key_len, uint64_t *v);
int ethp2p_enr_del(ethp2p_enr *rec, const void *key, size_t key_len);

/* Iteration over pairs in key order.  count: number of pairs.  pair_at: views of the i-th
 * key (a string item) and value (any item).  Returns 0 or ETHP2P_ERANGE (i >= count). */
size_t ethp2p_enr_pair_count(const ethp2p_enr *rec);
int ethp2p_enr_pair_at(const ethp2p_enr *rec, size_t i, ethp2p_rlp_item *key,
                       ethp2p_rlp_item *value);

/*
 * Checks a value against the shape of its key (see the policy above).
 * Returns 0 (well-formed, or an unknown key) or ETHP2P_ETYPE with a sentence in diag
 * (e.g. "tcp must be a canonical integer below 65536, got 3 bytes").
 */
int ethp2p_enr_value_check(const void *key, size_t key_len, const ethp2p_rlp_item *value,
                           ethp2p_diag *diag);

/*
 * Formats a value for dumps, NUL-terminated:
 *   ip, ip6     dotted quad / RFC 5952 text (127.0.0.1, 2001:db8::1)
 *   ports       decimal
 *   id          quoted text ("v4")
 *   secp256k1   hex of the 33 bytes
 *   others      hex of the raw RLP encoding (so nested lists are shown exactly)
 *   malformed   hex of the raw RLP encoding + " (malformed: <reason>)"
 * Returns 0 or ETHP2P_ESPACE (truncated).  Out: *out_len (may be NULL), the full length.
 */
int ethp2p_enr_value_format(char *out, size_t cap, size_t *out_len, const void *key, size_t key_len,
                            const ethp2p_rlp_item *value);

#ifdef __cplusplus
}
#endif
#endif
