/*
 * p2p/discover/v5wire.h — the Node Discovery v5.1 wire codec (ethereum/devp2p
 * discv5/discv5-wire.md, protocol-id "discv5", version 1).  Pure functions over
 * caller buffers: no allocation, no I/O, bounded by ETHP2P_V5_MAX_PACKET.
 *
 * Packet (wire.md "Packet Encoding"):
 *
 *   packet        = masking-iv || masked-header || message
 *   masked-header = aes128ctr(masking-key = dest-id[:16], iv = masking-iv, header)
 *   header        = static-header || authdata
 *   static-header = protocol-id "discv5" || version 0x0001 || flag (1) ||
 *                   nonce (12) || authdata-size (2, big-endian)        23 bytes
 *   message       = aes128gcm(key, nonce, message-pt, ad = masking-iv || header)
 *   message-pt    = message-type || rlp(message-data)
 *
 * authdata by flag:
 *   0 message    src-id (32)
 *   1 WHOAREYOU  id-nonce (16) || enr-seq (8, big-endian); no message
 *   2 handshake  src-id (32) || sig-size (1) || eph-key-size (1) ||
 *                id-signature || eph-pubkey || record (optional, RLP)
 *
 * Key schedule (wire.md "Handshake"; theory "Identity-Specific Cryptography"):
 *   challenge-data = masking-iv || static-header || authdata of the WHOAREYOU
 *   secret   = ecdh(dest-pubkey, eph-key) as a compressed point (33 bytes)
 *   kdf-info = "discovery v5 key agreement" || node-id-A || node-id-B
 *   key-data = HKDF-SHA256(salt = challenge-data, ikm = secret, info = kdf-info, 32)
 *   initiator-key = key-data[:16], recipient-key = key-data[16:]
 *   id-signature  = sign(sha256("discovery v5 identity proof" || challenge-data ||
 *                               eph-pubkey || node-id-B))
 * A is the initiator (the side that answers the WHOAREYOU), B the recipient.
 *
 * Internal to the library (not installed).  Decoders borrow from their input and
 * fill the caller's structs; every decoder of outside bytes takes an optional
 * ethp2p_diag that says what was wrong and where.
 */
#ifndef ETHP2P_P2P_DISCOVER_V5WIRE_H
#define ETHP2P_P2P_DISCOVER_V5WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enr/crypto.h"
#include "ethp2p/enr.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_V5_MAX_PACKET 1280
#define ETHP2P_V5_MIN_PACKET 63 /* wire.md: smaller packets are dropped */
#define ETHP2P_V5_IV_LEN 16
#define ETHP2P_V5_NONCE_LEN 12
#define ETHP2P_V5_STATIC_LEN 23
#define ETHP2P_V5_ID_NONCE_LEN 16
#define ETHP2P_V5_KEY_LEN 16
#define ETHP2P_V5_TAG_LEN 16
#define ETHP2P_V5_WHOAREYOU_AUTH_LEN 24
/* The largest challenge: masking-iv || static-header || 24-byte WHOAREYOU authdata. */
#define ETHP2P_V5_CHALLENGE_LEN (ETHP2P_V5_IV_LEN + ETHP2P_V5_STATIC_LEN + 24)
/* The largest unmasked masking-iv || header this codec accepts (a handshake with a record). */
#define ETHP2P_V5_HEADER_MAX                                                                       \
  (ETHP2P_V5_IV_LEN + ETHP2P_V5_STATIC_LEN + 34 + 64 + 33 + ETHP2P_ENR_MAX_SIZE)
#define ETHP2P_V5_REQID_MAX 8

enum {
  ETHP2P_V5_FLAG_MESSAGE = 0,
  ETHP2P_V5_FLAG_WHOAREYOU = 1,
  ETHP2P_V5_FLAG_HANDSHAKE = 2,
};

/* A decoded packet.  Pointers borrow from the decode's scratch buffer (header
 * fields) or its input (msg). */
typedef struct ethp2p_v5_packet {
  uint8_t flag;
  uint8_t nonce[ETHP2P_V5_NONCE_LEN];
  /* masking-iv || header, unmasked: the message's additional data, and for a
   * WHOAREYOU the challenge-data. */
  const uint8_t *head;
  size_t head_len;
  const uint8_t *authdata;
  size_t authdata_len;
  /* flag 0 and 2 */
  uint8_t src_id[32];
  /* flag 1 */
  uint8_t id_nonce[ETHP2P_V5_ID_NONCE_LEN];
  uint64_t enr_seq;
  /* flag 2 */
  const uint8_t *id_sig;  /* 64 bytes */
  const uint8_t *eph_pub; /* 33 bytes */
  const uint8_t *record;  /* NULL when absent */
  size_t record_len;
  /* message ciphertext || tag (flag 0 and 2; empty for 1) */
  const uint8_t *msg;
  size_t msg_len;
} ethp2p_v5_packet;

/*
 * Request IDs compared as the spec's "up to 8 bytes" that some implementations treat as an
 * integer (@chainsafe/discv5 answers with the ID's leading zero bytes stripped): true when
 * a and b are equal once leading zero bytes are dropped from both.
 */
bool ethp2p_v5_req_id_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * Unmasks and parses a packet addressed to local_id.
 * Returns: 0, or
 *   ETHP2P_ETRUNC    shorter than 63 bytes, or the header/authdata runs past the end
 *   ETHP2P_ETOOBIG   over 1280 bytes, or authdata larger than this codec accepts
 *   ETHP2P_EPROTO    protocol-id is not "discv5" (not a v5 packet, or not for local_id)
 *   ETHP2P_EUNSUPP   version is not 1, or an unknown flag
 *   ETHP2P_ESYNTAX   authdata of the wrong size for its flag, sig/key sizes not 64/33,
 *                    a WHOAREYOU with a message, a message packet with a too-short message
 * Out: *pkt (zeroed on failure); scratch[0..ETHP2P_V5_HEADER_MAX) receives the unmasked
 *      head that pkt->head points into.  diag (may be NULL).
 * In:  in[0..len), borrowed (pkt->msg points into it).
 */
int ethp2p_v5_packet_decode(ethp2p_v5_packet *pkt, uint8_t scratch[ETHP2P_V5_HEADER_MAX],
                            const uint8_t local_id[32], const uint8_t *in, size_t len,
                            ethp2p_diag *diag);

/*
 * The same with the masking key set up once: mask is an AES-128 block encryptor keyed
 * with local_id[0..16) (ethp2p_aes_block_new), reused for every packet, so that no
 * cipher context is created per packet.  The header's AES-CTR keystream is made from
 * it (counter blocks from the masking-iv, big-endian increment over 128 bits).
 */
int ethp2p_v5_packet_decode_masked(ethp2p_v5_packet *pkt, uint8_t scratch[ETHP2P_V5_HEADER_MAX],
                                   ethp2p_aes_block *mask, const uint8_t *in, size_t len,
                                   ethp2p_diag *diag);

/*
 * Writes a packet to dest_id: iv, masked header (flag, nonce, authdata) and, for
 * flags 0 and 2, the message pt[0..pt_len) sealed with key (AES-128-GCM, ad =
 * iv || header).  For a WHOAREYOU pass pt = NULL, pt_len = 0, key = NULL.  For flags 0
 * and 2 with key = NULL, pt[0..pt_len) (at least 16 bytes) is copied verbatim as the
 * message: the random content of the packet that starts a handshake (wire.md "Sessions"),
 * which the recipient cannot and need not decrypt.
 * Returns 0, ETHP2P_ESPACE (out too small), ETHP2P_ETOOBIG (over 1280 bytes) or
 * ETHP2P_EINVAL.  Out: out[0..*out_len).
 */
int ethp2p_v5_packet_encode(uint8_t *out, size_t cap, size_t *out_len, const uint8_t dest_id[32],
                            const uint8_t iv[ETHP2P_V5_IV_LEN], uint8_t flag,
                            const uint8_t nonce[ETHP2P_V5_NONCE_LEN], const uint8_t *authdata,
                            size_t authdata_len, const uint8_t *key, const uint8_t *pt,
                            size_t pt_len);

/* Opens a decoded packet's message with key.  Returns 0, ETHP2P_ESIG (wrong key or
 * tampered) or ETHP2P_ESPACE.  Out: out[0..*out_len). */
int ethp2p_v5_packet_open(uint8_t *out, size_t cap, size_t *out_len, const ethp2p_v5_packet *pkt,
                          const uint8_t key[ETHP2P_V5_KEY_LEN]);

/* authdata builders.  Return the length written. */
size_t ethp2p_v5_authdata_message(uint8_t out[32], const uint8_t src_id[32]);
size_t ethp2p_v5_authdata_whoareyou(uint8_t out[24], const uint8_t id_nonce[16], uint64_t enr_seq);
/* Handshake authdata; record may be NULL.  Returns 0 or ETHP2P_ESPACE; *out_len set. */
int ethp2p_v5_authdata_handshake(uint8_t *out, size_t cap, size_t *out_len,
                                 const uint8_t src_id[32], const uint8_t sig[64],
                                 const uint8_t eph_pub[33], const uint8_t *record,
                                 size_t record_len);

/* Key schedule (see the head of this file).  secret: our ephemeral (initiator) or static
 * (recipient) secret key; pub: the other side's static (initiator) or ephemeral
 * (recipient) public key.  Returns 0 or ETHP2P_EKEY. */
int ethp2p_v5_derive_keys(uint8_t initiator_key[16], uint8_t recipient_key[16],
                          const uint8_t secret[32], const uint8_t pub[33], const uint8_t id_a[32],
                          const uint8_t id_b[32], const uint8_t *challenge, size_t challenge_len)
    __attribute__((warn_unused_result));

/* The id-nonce signature and its check.  Return 0, ETHP2P_EKEY or ETHP2P_ESIG. */
int ethp2p_v5_id_sign(uint8_t sig[64], const uint8_t static_secret[32], const uint8_t *challenge,
                      size_t challenge_len, const uint8_t eph_pub[33], const uint8_t id_b[32]);
int ethp2p_v5_id_verify(const uint8_t sig[64], const uint8_t pub[33], const uint8_t *challenge,
                        size_t challenge_len, const uint8_t eph_pub[33], const uint8_t id_b[32]);

/* ---------------------------------------------------------------------------
 * Messages (wire.md "Protocol Messages").  message-pt = type || rlp(data).
 * ------------------------------------------------------------------------- */
enum {
  ETHP2P_V5_PING = 0x01,     /* [request-id, enr-seq] */
  ETHP2P_V5_PONG = 0x02,     /* [request-id, enr-seq, recipient-ip, recipient-port] */
  ETHP2P_V5_FINDNODE = 0x03, /* [request-id, [distance, ...]] */
  ETHP2P_V5_NODES = 0x04,    /* [request-id, total, [ENR, ...]] */
  ETHP2P_V5_TALKREQ = 0x05,  /* [request-id, protocol, request] */
  ETHP2P_V5_TALKRESP = 0x06, /* [request-id, response] */
};

#define ETHP2P_V5_MAX_DISTANCES 257 /* 0..256, each at most once */
#define ETHP2P_V5_MAX_RECORDS 24    /* more than fit in one 1280-byte packet */

typedef struct ethp2p_v5_msg {
  uint8_t type;
  uint8_t req_id[ETHP2P_V5_REQID_MAX];
  uint8_t req_id_len;
  uint64_t enr_seq; /* PING, PONG */
  ethp2p_addr to;   /* PONG: recipient-ip (4 or 16 bytes) and recipient-port */
  uint16_t ndist;   /* FINDNODE */
  uint16_t dist[ETHP2P_V5_MAX_DISTANCES];
  uint64_t total;   /* NODES: number of NODES messages in this response */
  uint8_t nrecords; /* NODES */
  const uint8_t *records[ETHP2P_V5_MAX_RECORDS]; /* raw RLP records, borrowed */
  uint16_t record_len[ETHP2P_V5_MAX_RECORDS];
  const uint8_t *proto; /* TALKREQ protocol, borrowed */
  size_t proto_len;
  const uint8_t *payload; /* TALKREQ request / TALKRESP response, borrowed */
  size_t payload_len;
} ethp2p_v5_msg;

/*
 * Decodes a message-pt.  Extra list elements are ignored (forward compatibility);
 * records are only split off here (checked by the caller with ethp2p_enr_decode_verify).
 * Returns: 0, or ETHP2P_ETRUNC (empty), ETHP2P_EUNSUPP (unknown type), ETHP2P_ESYNTAX
 *   (missing fields, request-id over 8 bytes, an IP that is not 4 or 16 bytes, a port
 *   or distance out of range, more distances or records than fit), or an RLP error.
 * Out: *msg (zeroed on failure; slices borrow from in).  diag (may be NULL).
 */
int ethp2p_v5_msg_decode(ethp2p_v5_msg *msg, const uint8_t *in, size_t len, ethp2p_diag *diag);

/* Encodes msg.  Returns 0, ETHP2P_ESPACE or ETHP2P_EINVAL.  Out: out[0..*out_len). */
int ethp2p_v5_msg_encode(uint8_t *out, size_t cap, size_t *out_len, const ethp2p_v5_msg *msg);

/* log2 distance between two node IDs (0 when equal, 1..256 otherwise). */
unsigned ethp2p_v5_log_distance(const uint8_t a[32], const uint8_t b[32]);

#ifdef __cplusplus
}
#endif
#endif
