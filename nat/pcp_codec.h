/*
 * nat/pcp_codec.h — Port Control Protocol wire codec (RFC 6887), both
 * directions, no I/O.  Shared by the client (nat/pcp.c, nat/announce.c) and
 * the gateway emulator (nat/gateway/).
 *
 * Transport (§8, §19.1): UDP, client -> server:5351; unsolicited ANNOUNCE
 * responses go to 224.0.0.1:5350 (§14.1.3).  Version 2.  All multi-byte fields
 * in network byte order.  Addresses are 128 bits; IPv4 is carried as an
 * IPv4-mapped IPv6 address ::ffff:a.b.c.d (§5).  Messages are a multiple of 4
 * bytes and at most 1100 bytes (§7).
 *
 * Request header (§7.1), 24 bytes:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Version = 2  |R|   Opcode    |         Reserved              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Requested Lifetime (32 bits)                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |            PCP Client's IP Address (128 bits)                 |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   :             (optional) Opcode-specific information            :
 *   :             (optional) PCP Options                            :
 *
 * Response header (§7.2), 24 bytes:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Version = 2  |R|   Opcode    |   Reserved    |  Result Code  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                      Lifetime (32 bits)                       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                     Epoch Time (32 bits)                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                      Reserved (96 bits)                       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   :             (optional) Opcode-specific response data          :
 *   :             (optional) Options                                :
 *
 * MAP opcode payload (§11.1), 36 bytes, same layout in request and response
 * (the response carries the *assigned* external port and address):
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                 Mapping Nonce (96 bits)                       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Protocol    |          Reserved (24 bits)                   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        Internal Port          |    Suggested External Port    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           Suggested External IP Address (128 bits)            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Options (§7.3): code (8), reserved (8), length (16), data padded to 4 bytes.
 * Codes 0..127 are mandatory to process, 128..255 optional.  Known:
 * THIRD_PARTY 1 (16 bytes), PREFER_FAILURE 2 (0 bytes), FILTER 3 (20 bytes).
 *
 * ANNOUNCE (§14.1): opcode 0, no payload.  A request has lifetime 0; the
 * unsolicited response a server multicasts after losing state carries result 0,
 * lifetime 0 and the (new, small) epoch time.
 *
 * Version negotiation (§9): a NAT-PMP-only server answers a version-2 request
 * with its 8-byte NAT-PMP "unsupported version" reply: version 0, opcode
 * 128 + op, result 1 (16 bits, so byte 3 = 1).  ethp2p_pcp_response_decode
 * reports such a packet as ETHP2P_EUNSUPP with out->version = 0 and
 * out->result = 1, which is the client's signal to downgrade that request.
 *
 * Epoch check (§8.5) and renewal timing are pure helpers below.
 */
#ifndef ETHP2P_NAT_PCP_CODEC_H
#define ETHP2P_NAT_PCP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_PCP_PORT 5351        /* server port (§19.1) */
#define ETHP2P_PCP_CLIENT_PORT 5350 /* ANNOUNCE multicast to 224.0.0.1:5350 (§14.1.3) */
#define ETHP2P_PCP_VERSION 2
#define ETHP2P_PCP_HEADER_LEN 24
#define ETHP2P_PCP_MAP_LEN 36
#define ETHP2P_PCP_MAP_MSG_LEN (ETHP2P_PCP_HEADER_LEN + ETHP2P_PCP_MAP_LEN) /* 60 */
#define ETHP2P_PCP_MAX_LEN 1100                                             /* §7 */
#define ETHP2P_PCP_NONCE_LEN 12

/* Opcodes (§19.2). */
#define ETHP2P_PCP_OP_ANNOUNCE 0
#define ETHP2P_PCP_OP_MAP 1
#define ETHP2P_PCP_OP_PEER 2
#define ETHP2P_PCP_R_BIT 0x80

/* Option codes (§19.4). */
#define ETHP2P_PCP_OPT_THIRD_PARTY 1
#define ETHP2P_PCP_OPT_PREFER_FAILURE 2
#define ETHP2P_PCP_OPT_FILTER 3
#define ETHP2P_PCP_MAX_OPTIONS 4      /* more options than this: ETHP2P_ETOOBIG */
#define ETHP2P_PCP_OPTION_MAX_DATA 20 /* the longest known option (FILTER) */

/* Result codes (§7.4). */
enum {
  ETHP2P_PCP_RESULT_SUCCESS = 0,
  ETHP2P_PCP_RESULT_UNSUPP_VERSION = 1,
  ETHP2P_PCP_RESULT_NOT_AUTHORIZED = 2,
  ETHP2P_PCP_RESULT_MALFORMED_REQUEST = 3,
  ETHP2P_PCP_RESULT_UNSUPP_OPCODE = 4,
  ETHP2P_PCP_RESULT_UNSUPP_OPTION = 5,
  ETHP2P_PCP_RESULT_MALFORMED_OPTION = 6,
  ETHP2P_PCP_RESULT_NETWORK_FAILURE = 7,
  ETHP2P_PCP_RESULT_NO_RESOURCES = 8,
  ETHP2P_PCP_RESULT_UNSUPP_PROTOCOL = 9,
  ETHP2P_PCP_RESULT_USER_EX_QUOTA = 10,
  ETHP2P_PCP_RESULT_CANNOT_PROVIDE_EXTERNAL = 11,
  ETHP2P_PCP_RESULT_ADDRESS_MISMATCH = 12,
  ETHP2P_PCP_RESULT_EXCESSIVE_REMOTE_PEERS = 13,
};

/* Retransmission (§8.1.1): IRT 3 s, doubling, MRT 1024 s, RAND ±10 %. */
#define ETHP2P_PCP_IRT (3 * ETHP2P_SEC)
#define ETHP2P_PCP_MRT (1024 * ETHP2P_SEC)

/* Lifetimes (§15): servers should grant at least 120 s. */
#define ETHP2P_PCP_MIN_LIFETIME 120u

/* MAP payload (§11.1).  external_ip has family 4 or 6; family 0 encodes all
 * zeros (no suggestion, §11.1). */
typedef struct ethp2p_pcp_map {
  uint8_t nonce[ETHP2P_PCP_NONCE_LEN];
  uint8_t protocol; /* 6 TCP, 17 UDP, 0 = all protocols */
  uint16_t internal_port;
  uint16_t external_port;  /* suggested (request) / assigned (response) */
  ethp2p_addr external_ip; /* port field unused */
} ethp2p_pcp_map;

typedef struct ethp2p_pcp_option {
  uint8_t code;
  uint16_t len; /* data bytes (without padding), <= ETHP2P_PCP_OPTION_MAX_DATA */
  uint8_t data[ETHP2P_PCP_OPTION_MAX_DATA];
} ethp2p_pcp_option;

typedef struct ethp2p_pcp_request {
  uint8_t version; /* 2 when encoding; decode reports what was received */
  uint8_t opcode;  /* ANNOUNCE, MAP (PEER payloads are not modelled) */
  uint32_t lifetime_s;
  ethp2p_addr client_ip; /* family 4 (sent IPv4-mapped) or 6 */
  ethp2p_pcp_map map;    /* opcode MAP */
  size_t n_options;
  ethp2p_pcp_option options[ETHP2P_PCP_MAX_OPTIONS];
} ethp2p_pcp_request;

typedef struct ethp2p_pcp_response {
  uint8_t version;
  uint8_t opcode; /* without the R bit */
  uint8_t result;
  uint32_t lifetime_s; /* mapping lifetime, or on error how long the error holds (§7.2) */
  uint32_t epoch_s;
  bool has_map; /* MAP payload present (always on success; usually on errors) */
  ethp2p_pcp_map map;
  size_t n_options;
  ethp2p_pcp_option options[ETHP2P_PCP_MAX_OPTIONS];
} ethp2p_pcp_response;

/*
 * Encodes a request (ANNOUNCE: header only; MAP: header + 36-byte payload;
 * then the options, each padded to 4 bytes).
 * Returns bytes written, ETHP2P_EINVAL (unknown opcode, bad option length,
 * client_ip family not 4/6), or ETHP2P_ESPACE.
 */
int ethp2p_pcp_request_encode(uint8_t *buf, size_t cap, const ethp2p_pcp_request *req);

/*
 * Decodes a request (the server side).  *out is zeroed first.
 * Returns 0; ETHP2P_ETRUNC (shorter than the header or the opcode payload,
 * or an option running past the end), ETHP2P_EPROTO (R bit set: not a
 * request; length not a multiple of 4 or above 1100 — §7 says drop those),
 * ETHP2P_EUNSUPP (version != 2, or an opcode other than ANNOUNCE/MAP;
 * out->version/opcode are filled so the server can answer UNSUPP_VERSION or
 * UNSUPP_OPCODE), ETHP2P_ETOOBIG (more than 4 options, or option data longer
 * than 20 bytes: answer MALFORMED_OPTION).  diag (may be NULL) says why.
 */
int ethp2p_pcp_request_decode(ethp2p_pcp_request *out, const uint8_t *buf, size_t len,
                              ethp2p_diag *diag);

/*
 * Encodes a response: header, then the MAP payload when has_map, then
 * options.  Returns bytes written, ETHP2P_EINVAL, or ETHP2P_ESPACE.
 */
int ethp2p_pcp_response_encode(uint8_t *buf, size_t cap, const ethp2p_pcp_response *resp);

/*
 * Decodes a response or unsolicited ANNOUNCE (the client side).  *out is
 * zeroed first.  A MAP response shorter than 60 bytes decodes with
 * has_map = false (only possible for errors; success without a payload is
 * ETHP2P_ETRUNC).
 * Returns 0; ETHP2P_ETRUNC; ETHP2P_EPROTO (R bit clear, length not a multiple
 * of 4, above 1100 bytes); ETHP2P_EUNSUPP for any version other than 2 —
 * with out->version and, when at least 4 bytes arrived, out->opcode and
 * out->result (byte 3) filled: version 0 + result 1 is a NAT-PMP server.
 * ETHP2P_ETOOBIG for too many/long options.  diag (may be NULL) says why.
 */
int ethp2p_pcp_response_decode(ethp2p_pcp_response *out, const uint8_t *buf, size_t len,
                               ethp2p_diag *diag);

/* IPv4-mapped / native IPv6 conversion of §5.  to_wire writes 16 bytes
 * (family 0 -> all zeros); from_wire gives family 4 for ::ffff:0:0/96, else 6
 * (all zeros -> family 6 "::"). */
void ethp2p_pcp_addr_to_wire(uint8_t out[16], const ethp2p_addr *a);
void ethp2p_pcp_addr_from_wire(ethp2p_addr *out, const uint8_t in[16]);

/* "SUCCESS", "UNSUPP_VERSION", ... ("UNKNOWN" past 13). */
const char *ethp2p_pcp_result_name(unsigned result);
/* One-line meaning for users. */
const char *ethp2p_pcp_result_meaning(unsigned result);
/* True for the errors §7.4 calls short-lifetime (the condition may clear soon:
 * NETWORK_FAILURE, NO_RESOURCES, USER_EX_QUOTA; we add CANNOT_PROVIDE_EXTERNAL,
 * which §7.4 leaves unclassified and which depends on the ports in use now);
 * false for SUCCESS and the long-lifetime ones (the same request would fail
 * the same way until the server's configuration changes). */
bool ethp2p_pcp_result_is_short_lifetime(unsigned result);

/*
 * Epoch validity check of RFC 6887 §8.5.  With the previous server epoch
 * prev_epoch_s received at local time prev_local and the new one at now_local:
 * invalid (state lost) if the epoch went back by more than 1 s, or if
 * client_delta + 2 < server_delta − server_delta/16 or
 * server_delta + 2 < client_delta − client_delta/16 (deltas in seconds).
 * Returns true when the server lost state.
 */
bool ethp2p_pcp_epoch_lost(uint32_t prev_epoch_s, ethp2p_time prev_local, uint32_t new_epoch_s,
                           ethp2p_time now_local);

#ifdef __cplusplus
}
#endif
#endif
