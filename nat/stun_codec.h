/*
 * nat/stun_codec.h — STUN message codec (RFC 8489, attributes of RFC 5780),
 * both directions, no I/O.  Shared by the client (nat/stun.c), behaviour
 * discovery and the test servers.
 *
 * Header (RFC 8489 §5), 20 bytes, then attributes:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |0 0|     STUN Message Type     |         Message Length        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Magic Cookie = 0x2112A442                     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                     Transaction ID (96 bits)                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Message Length counts the attribute bytes (not the header); it is a multiple
 * of 4.  The type interleaves method and class bits (§5): Binding (method 1)
 * request 0x0001, indication 0x0011, success 0x0101, error 0x0111.
 *
 * Attribute (§14): Type (16) | Length (16) | Value, padded to 4 bytes (the
 * padding does not count in Length and its value is ignored).
 *
 * MAPPED-ADDRESS 0x0001 (§14.1); RESPONSE-ORIGIN 0x802B and OTHER-ADDRESS
 * 0x802C (RFC 5780 §7.3, §7.4) use the same layout:
 *   |0 0 0 0 0 0 0 0|    Family     |           Port                |
 *   |                 Address (32 bits or 128 bits)                 |
 * Family 0x01 IPv4, 0x02 IPv6.
 * XOR-MAPPED-ADDRESS 0x0020 (§14.2): same layout, port XOR the top 16 bits of
 * the cookie, IPv4 address XOR the cookie, IPv6 XOR cookie ‖ transaction ID.
 * CHANGE-REQUEST 0x0003 (RFC 5780 §7.2): 32 bits, A 0x4 change IP, B 0x2
 * change port.  ERROR-CODE 0x0009 (§14.8): 21 zero bits, class (3), number
 * (8), UTF-8 reason.  SOFTWARE 0x8022 (§14.14): UTF-8, < 128 characters.
 * MESSAGE-INTEGRITY 0x0008 (§14.5): HMAC-SHA1 over the message up to the
 * attribute, with Length adjusted to end after it.  FINGERPRINT 0x8028
 * (§14.7): CRC-32 (ISO 3309) of the message up to the attribute, XOR
 * 0x5354554E, Length adjusted to include it; it is always last.
 *
 * MESSAGE-INTEGRITY: this codec can write and check it with a short-term key
 * (HMAC-SHA1 of enr/crypto.h) so that the RFC 5769 vectors reproduce byte for byte,
 * but the binding client does not use it: public STUN servers answer
 * unauthenticated Binding requests, and long-term credentials, USERNAME,
 * REALM, NONCE and MESSAGE-INTEGRITY-SHA256 are out of scope.
 */
#ifndef ETHP2P_NAT_STUN_CODEC_H
#define ETHP2P_NAT_STUN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_STUN_MAGIC 0x2112A442u
#define ETHP2P_STUN_HEADER_LEN 20
#define ETHP2P_STUN_TXID_LEN 12
#define ETHP2P_STUN_MAX_LEN 1280 /* our cap on a datagram we build or parse */
#define ETHP2P_STUN_DEFAULT_PORT 3478
#define ETHP2P_STUN_FINGERPRINT_XOR 0x5354554Eu
/* Public servers the stun mechanism uses when none is configured.  Host
 * names: the library does no DNS, so the command resolves them first. */
#define ETHP2P_STUN_DEFAULT_SERVERS "stun.l.google.com:19302,stun.cloudflare.com:3478"

/* Message types (§5, §18.2): Binding is the only method we use. */
#define ETHP2P_STUN_BINDING_REQUEST 0x0001
#define ETHP2P_STUN_BINDING_INDICATION 0x0011
#define ETHP2P_STUN_BINDING_SUCCESS 0x0101
#define ETHP2P_STUN_BINDING_ERROR 0x0111

/* Attribute types (§18.3, RFC 5780 §9.1). */
#define ETHP2P_STUN_ATTR_MAPPED_ADDRESS 0x0001
#define ETHP2P_STUN_ATTR_CHANGE_REQUEST 0x0003
#define ETHP2P_STUN_ATTR_USERNAME 0x0006
#define ETHP2P_STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define ETHP2P_STUN_ATTR_ERROR_CODE 0x0009
#define ETHP2P_STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ETHP2P_STUN_ATTR_PADDING 0x0026
#define ETHP2P_STUN_ATTR_RESPONSE_PORT 0x0027
#define ETHP2P_STUN_ATTR_SOFTWARE 0x8022
#define ETHP2P_STUN_ATTR_FINGERPRINT 0x8028
#define ETHP2P_STUN_ATTR_RESPONSE_ORIGIN 0x802B
#define ETHP2P_STUN_ATTR_OTHER_ADDRESS 0x802C

/* CHANGE-REQUEST flags (RFC 5780 §7.2). */
#define ETHP2P_STUN_CHANGE_IP 0x4
#define ETHP2P_STUN_CHANGE_PORT 0x2

/* Retransmission (§6.2.1): RTO 500 ms doubling, Rc = 7 requests, and after the
 * last one wait Rm = 16 × RTO: 39.5 s in all with the defaults. */
#define ETHP2P_STUN_RTO (500 * ETHP2P_MSEC)
#define ETHP2P_STUN_RC 7
#define ETHP2P_STUN_RM 16

/* Presence bits for ethp2p_stun_msg.present. */
enum {
  ETHP2P_STUN_HAS_MAPPED = 1u << 0,
  ETHP2P_STUN_HAS_XOR_MAPPED = 1u << 1,
  ETHP2P_STUN_HAS_CHANGE_REQUEST = 1u << 2,
  ETHP2P_STUN_HAS_RESPONSE_ORIGIN = 1u << 3,
  ETHP2P_STUN_HAS_OTHER_ADDRESS = 1u << 4,
  ETHP2P_STUN_HAS_ERROR_CODE = 1u << 5,
  ETHP2P_STUN_HAS_SOFTWARE = 1u << 6,
  ETHP2P_STUN_HAS_INTEGRITY = 1u << 7,
  ETHP2P_STUN_HAS_FINGERPRINT = 1u << 8,
  ETHP2P_STUN_HAS_RESPONSE_PORT = 1u << 9,
};

#define ETHP2P_STUN_MAX_UNKNOWN 8
#define ETHP2P_STUN_SOFTWARE_MAX 128 /* bytes kept, including NUL */
#define ETHP2P_STUN_REASON_MAX 128

/* A decoded (or to-be-encoded) message.  Addresses carry their port. */
typedef struct ethp2p_stun_msg {
  uint16_t type;
  uint8_t txid[ETHP2P_STUN_TXID_LEN];
  uint32_t present;       /* ETHP2P_STUN_HAS_* */
  ethp2p_addr mapped;     /* MAPPED-ADDRESS */
  ethp2p_addr xor_mapped; /* XOR-MAPPED-ADDRESS, already un-XORed */
  ethp2p_addr response_origin;
  ethp2p_addr other_address;
  uint32_t change_request; /* ETHP2P_STUN_CHANGE_* */
  uint16_t response_port;
  uint16_t error_code; /* 300..699 (class * 100 + number) */
  char error_reason[ETHP2P_STUN_REASON_MAX];
  char software[ETHP2P_STUN_SOFTWARE_MAX];
  /* Decode only: */
  bool fingerprint_ok;                                /* FINGERPRINT present and correct */
  size_t integrity_offset;                            /* where MESSAGE-INTEGRITY's header starts */
  uint16_t unknown_required[ETHP2P_STUN_MAX_UNKNOWN]; /* comprehension-required types we skipped */
  size_t n_unknown;
} ethp2p_stun_msg;

/* Encoder options (all optional: pass NULL for none). */
typedef struct ethp2p_stun_encode_opts {
  const uint8_t *integrity_key; /* short-term: the password bytes (§9.1.1); NULL = no MI */
  size_t integrity_key_len;
  bool fingerprint; /* append FINGERPRINT */
  uint8_t pad_byte; /* padding value (RFC 5769 uses 0x20); 0 normally */
} ethp2p_stun_encode_opts;

/*
 * Encodes msg.  Attributes present in msg->present are written in this order:
 * SOFTWARE, MAPPED-ADDRESS, XOR-MAPPED-ADDRESS, CHANGE-REQUEST, RESPONSE-PORT,
 * RESPONSE-ORIGIN, OTHER-ADDRESS, ERROR-CODE, then MESSAGE-INTEGRITY and
 * FINGERPRINT as opts ask.  Returns the bytes written, ETHP2P_EINVAL (top
 * two type bits set, address family not 4/6, error code outside 300..699),
 * ETHP2P_ESPACE, or ETHP2P_EIO if HMAC fails.
 */
int ethp2p_stun_encode(uint8_t *buf, size_t cap, const ethp2p_stun_msg *msg,
                       const ethp2p_stun_encode_opts *opts);

/*
 * Decodes a message.  *out is zeroed first.  Checks (§6.3): top two bits
 * zero, magic cookie, Length a multiple of 4 that matches the datagram,
 * attributes inside the message, known attributes well-formed, FINGERPRINT
 * last and correct (a wrong fingerprint is ETHP2P_EPROTO: not a STUN
 * message for us, §7.3).  Only the first instance of an attribute counts;
 * attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored.
 * Unknown comprehension-required types (< 0x8000) are listed in
 * out->unknown_required (up to 8), optional ones skipped.
 * Returns 0, ETHP2P_ETRUNC, ETHP2P_ETOOBIG (> ETHP2P_STUN_MAX_LEN),
 * ETHP2P_EPROTO (not STUN / malformed attribute); diag says what and where.
 */
int ethp2p_stun_decode(ethp2p_stun_msg *out, const uint8_t *buf, size_t len, ethp2p_diag *diag);

/* Cheap test used for demultiplexing (§7.3): at least 20 bytes, top bits zero,
 * the magic cookie and a plausible length. */
bool ethp2p_stun_is_message(const uint8_t *buf, size_t len);

/*
 * Checks the MESSAGE-INTEGRITY of a message decoded from buf (out->present
 * must have ETHP2P_STUN_HAS_INTEGRITY) with a short-term key.
 * Returns 0 if it matches, ETHP2P_ESIG if not, ETHP2P_EINVAL if absent,
 * ETHP2P_EIO if HMAC fails.
 */
int ethp2p_stun_check_integrity(const ethp2p_stun_msg *msg, const uint8_t *buf, size_t len,
                                const uint8_t *key, size_t key_len);

/* CRC-32 (ISO 3309 / IEEE 802.3, reflected 0xEDB88320) as FINGERPRINT uses it. */
uint32_t ethp2p_stun_crc32(const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
