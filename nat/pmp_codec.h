/*
 * nat/pmp_codec.h — NAT-PMP wire codec (RFC 6886), both directions, no I/O.
 *
 * Shared by the client (nat/pmp.c, nat/announce.c) and the gateway emulator
 * (nat/gateway/).  Every function works on caller buffers and fixed-size
 * structs; decoders of outside bytes fill an optional ethp2p_diag.
 *
 * Transport (RFC 6886 §3): UDP, client -> gateway:5351 (ETHP2P_PMP_PORT);
 * gateway announcements go to 224.0.0.1:5350 (ETHP2P_PMP_CLIENT_PORT, §3.2.1).
 * All multi-byte fields are in network byte order.  Version is always 0.
 *
 * External address request (§3.2), 2 bytes:
 *    0                   1
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Vers = 0      | OP = 0        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * External address response (§3.2), 12 bytes; also the unsolicited
 * announcement a gateway multicasts on boot and address change (§3.2.1):
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Vers = 0      | OP = 128 + 0  | Result Code (net byte order)  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Seconds Since Start of Epoch (in network byte order)          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | External IPv4 Address (a.b.c.d)                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Map request (§3.3), 12 bytes; OP 1 = UDP, 2 = TCP.  Deleting a mapping is a
 * map request with lifetime 0 and suggested external port 0 (§3.4):
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Vers = 0      | OP = x        | Reserved                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Internal Port                 | Suggested External Port       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Requested Port Mapping Lifetime in Seconds                    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Map response (§3.3), 16 bytes:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Vers = 0      | OP = 128 + x  | Result Code                   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Seconds Since Start of Epoch                                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Internal Port                 | Mapped External Port          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Port Mapping Lifetime in Seconds                              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Error responses (§3.5): "Unsupported Version" (and, from some gateways, any
 * failure) is only the first 8 bytes (version, opcode, result, epoch).  The
 * codec models that with `header_only`.  A request with an unsupported opcode
 * (< 128) is echoed whole with the top opcode bit set and result 5; a gateway
 * builds that echo from the raw bytes (ethp2p_pmp_unsupp_opcode_encode).
 */
#ifndef ETHP2P_NAT_PMP_CODEC_H
#define ETHP2P_NAT_PMP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_PMP_PORT 5351        /* gateway's server port (§3) */
#define ETHP2P_PMP_CLIENT_PORT 5350 /* announcements to 224.0.0.1:5350 (§3.2.1) */
#define ETHP2P_PMP_VERSION 0

/* Opcodes (§3.2, §3.3); a response carries the request opcode + 128. */
#define ETHP2P_PMP_OP_EXTADDR 0
#define ETHP2P_PMP_OP_MAP_UDP 1
#define ETHP2P_PMP_OP_MAP_TCP 2
#define ETHP2P_PMP_OP_REPLY 0x80

/* Encoded sizes. */
#define ETHP2P_PMP_EXTADDR_REQ_LEN 2
#define ETHP2P_PMP_MAP_REQ_LEN 12
#define ETHP2P_PMP_HEADER_LEN 8 /* version, op, result, epoch: the error-only form */
#define ETHP2P_PMP_EXTADDR_REPLY_LEN 12
#define ETHP2P_PMP_MAP_REPLY_LEN 16
#define ETHP2P_PMP_MAX_LEN 16 /* largest well-formed message */

/* Result codes (§3.5). */
enum {
  ETHP2P_PMP_RESULT_SUCCESS = 0,
  ETHP2P_PMP_RESULT_UNSUPP_VERSION = 1,
  ETHP2P_PMP_RESULT_NOT_AUTHORIZED = 2,   /* "Not Authorized/Refused" (e.g. disabled by the user) */
  ETHP2P_PMP_RESULT_NETWORK_FAILURE = 3,  /* e.g. the NAT has no DHCP lease yet */
  ETHP2P_PMP_RESULT_OUT_OF_RESOURCES = 4, /* cannot create more mappings now */
  ETHP2P_PMP_RESULT_UNSUPP_OPCODE = 5,
};

/* Recommended mapping lifetime (§3.3): 7200 s. */
#define ETHP2P_PMP_RECOMMENDED_LIFETIME 7200u

/* Retransmission (§3.1): first after 250 ms, doubling, 9 attempts in all
 * (the last waits 64 s: about 128 s until the client gives up). */
#define ETHP2P_PMP_INITIAL_RTO (250 * ETHP2P_MSEC)
#define ETHP2P_PMP_MAX_TRIES 9

/* A request.  opcode is 0 (external address; the port/lifetime fields are
 * unused and not encoded), 1 (map UDP) or 2 (map TCP). */
typedef struct ethp2p_pmp_request {
  uint8_t version; /* 0 when encoding; decode reports what was received */
  uint8_t opcode;
  uint16_t internal_port;
  uint16_t suggested_port;
  uint32_t lifetime_s;
} ethp2p_pmp_request;

/* A response or announcement.  opcode is the *request* opcode (without the 128
 * bit).  For opcode 0, external_ip is the address; for 1/2, the port fields.
 * header_only marks the 8-byte error form (only valid with result != 0). */
typedef struct ethp2p_pmp_reply {
  uint8_t opcode;
  uint16_t result;
  uint32_t epoch_s;
  bool header_only;
  uint8_t external_ip[4]; /* opcode 0 */
  uint16_t internal_port; /* opcode 1, 2 */
  uint16_t mapped_port;
  uint32_t lifetime_s;
} ethp2p_pmp_reply;

/*
 * Encodes a request into buf.
 * Returns the number of bytes written (2 or 12), ETHP2P_EINVAL for an opcode
 * other than 0/1/2 or a non-zero version, or ETHP2P_ESPACE if cap is too small.
 */
int ethp2p_pmp_request_encode(uint8_t *buf, size_t cap, const ethp2p_pmp_request *req);

/*
 * Decodes a request (the gateway side).  *out is zeroed first.
 * Returns 0; ETHP2P_ETRUNC if shorter than its opcode needs; ETHP2P_EPROTO if
 * the opcode has the response bit (>= 128: a server ignores these, §3.5);
 * ETHP2P_EUNSUPP if the version is not 0 or the opcode is not 0/1/2 — then
 * out->version and out->opcode hold what was received so the server can answer
 * "unsupported version" / "unsupported opcode".  Trailing bytes are ignored
 * (§3.3 requests are fixed-size; a gateway must not be stricter than needed).
 * diag (may be NULL) says what was wrong and where.
 */
int ethp2p_pmp_request_decode(ethp2p_pmp_request *out, const uint8_t *buf, size_t len,
                              ethp2p_diag *diag);

/*
 * Encodes a reply (or, with opcode 0 and result 0, an announcement).
 * Returns bytes written (8, 12 or 16), ETHP2P_EINVAL (opcode > 2 without
 * header_only, or header_only with result 0), or ETHP2P_ESPACE.
 */
int ethp2p_pmp_reply_encode(uint8_t *buf, size_t cap, const ethp2p_pmp_reply *reply);

/*
 * Decodes a reply or announcement (the client side).  *out is zeroed first.
 * Accepts the full form for the opcode, or the 8-byte header-only form when
 * the result is non-zero.  Bytes beyond the full form are ignored.
 * Returns 0; ETHP2P_ETRUNC (too short), ETHP2P_EUNSUPP (version not 0),
 * ETHP2P_EPROTO (response bit clear, or an opcode other than 128..130 with a
 * success result).  diag (may be NULL) says why.
 */
int ethp2p_pmp_reply_decode(ethp2p_pmp_reply *out, const uint8_t *buf, size_t len,
                            ethp2p_diag *diag);

/*
 * Builds the §3.5 answer to a request with an unsupported opcode: the request
 * echoed with the top opcode bit set and result 5 in bytes 2..3 (requests
 * shorter than 4 bytes are padded to 4).  Returns bytes written or
 * ETHP2P_ESPACE / ETHP2P_EINVAL (len < 2).
 */
int ethp2p_pmp_unsupp_opcode_encode(uint8_t *buf, size_t cap, const uint8_t *req, size_t len);

/* Short name of a result code ("SUCCESS", "NOT_AUTHORIZED", ...; "UNKNOWN"). */
const char *ethp2p_pmp_result_name(unsigned result);
/* One-line meaning of a result code, for users. */
const char *ethp2p_pmp_result_meaning(unsigned result);

/*
 * Epoch check of RFC 6886 §3.6.  prev_epoch_s was received at local time
 * prev_local; new_epoch_s at now_local.  The gateway lost its state when the
 * new epoch is below previous + 7/8 of the elapsed local time − 2 s (this also
 * catches an epoch that went backwards).  Returns true when state was lost.
 */
bool ethp2p_pmp_epoch_lost(uint32_t prev_epoch_s, ethp2p_time prev_local, uint32_t new_epoch_s,
                           ethp2p_time now_local);

#ifdef __cplusplus
}
#endif
#endif
