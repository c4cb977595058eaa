/* nat/pmp_codec.c — NAT-PMP (RFC 6886) encoder and decoder; layouts in pmp_codec.h. */
#include "nat/pmp_codec.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}
static uint32_t get32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static bool known_opcode(unsigned op) {
  return op <= ETHP2P_PMP_OP_MAP_TCP;
}

int ethp2p_pmp_request_encode(uint8_t *buf, size_t cap, const ethp2p_pmp_request *req) {
  if (req->version != ETHP2P_PMP_VERSION || !known_opcode(req->opcode))
    return ETHP2P_EINVAL;
  size_t need =
      req->opcode == ETHP2P_PMP_OP_EXTADDR ? ETHP2P_PMP_EXTADDR_REQ_LEN : ETHP2P_PMP_MAP_REQ_LEN;
  if (cap < need)
    return ETHP2P_ESPACE;
  buf[0] = ETHP2P_PMP_VERSION;
  buf[1] = req->opcode;
  if (need == ETHP2P_PMP_MAP_REQ_LEN) {
    put16(buf + 2, 0); /* reserved (§3.3) */
    put16(buf + 4, req->internal_port);
    put16(buf + 6, req->suggested_port);
    put32(buf + 8, req->lifetime_s);
  }
  return (int)need;
}

int ethp2p_pmp_request_decode(ethp2p_pmp_request *out, const uint8_t *buf, size_t len,
                              ethp2p_diag *diag) {
  memset(out, 0, sizeof *out);
  if (len < 2)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "NAT-PMP request shorter than 2 bytes");
  out->version = buf[0];
  out->opcode = buf[1];
  if (buf[1] & ETHP2P_PMP_OP_REPLY)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 1, "opcode %u is a response, not a request",
                           buf[1]);
  if (buf[0] != ETHP2P_PMP_VERSION)
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 0, "unsupported NAT-PMP version %u", buf[0]);
  if (!known_opcode(buf[1]))
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 1, "unsupported NAT-PMP opcode %u", buf[1]);
  if (buf[1] == ETHP2P_PMP_OP_EXTADDR)
    return 0;
  if (len < ETHP2P_PMP_MAP_REQ_LEN)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "NAT-PMP map request is %zu bytes, needs 12",
                           len);
  out->internal_port = get16(buf + 4);
  out->suggested_port = get16(buf + 6);
  out->lifetime_s = get32(buf + 8);
  return 0;
}

int ethp2p_pmp_reply_encode(uint8_t *buf, size_t cap, const ethp2p_pmp_reply *reply) {
  size_t need;
  if (reply->header_only) {
    if (reply->result == 0 || reply->opcode >= ETHP2P_PMP_OP_REPLY)
      return ETHP2P_EINVAL;
    need = ETHP2P_PMP_HEADER_LEN;
  } else if (reply->opcode == ETHP2P_PMP_OP_EXTADDR) {
    need = ETHP2P_PMP_EXTADDR_REPLY_LEN;
  } else if (known_opcode(reply->opcode)) {
    need = ETHP2P_PMP_MAP_REPLY_LEN;
  } else {
    return ETHP2P_EINVAL;
  }
  if (cap < need)
    return ETHP2P_ESPACE;
  buf[0] = ETHP2P_PMP_VERSION;
  buf[1] = (uint8_t)(ETHP2P_PMP_OP_REPLY | reply->opcode);
  put16(buf + 2, reply->result);
  put32(buf + 4, reply->epoch_s);
  if (need == ETHP2P_PMP_EXTADDR_REPLY_LEN) {
    memcpy(buf + 8, reply->external_ip, 4);
  } else if (need == ETHP2P_PMP_MAP_REPLY_LEN) {
    put16(buf + 8, reply->internal_port);
    put16(buf + 10, reply->mapped_port);
    put32(buf + 12, reply->lifetime_s);
  }
  return (int)need;
}

int ethp2p_pmp_reply_decode(ethp2p_pmp_reply *out, const uint8_t *buf, size_t len,
                            ethp2p_diag *diag) {
  memset(out, 0, sizeof *out);
  if (len < 4)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "NAT-PMP reply shorter than 4 bytes");
  if (buf[0] != ETHP2P_PMP_VERSION)
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 0, "NAT-PMP reply has version %u, want 0", buf[0]);
  if (!(buf[1] & ETHP2P_PMP_OP_REPLY))
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 1, "opcode %u is a request, not a reply", buf[1]);
  out->opcode = buf[1] & (uint8_t)~ETHP2P_PMP_OP_REPLY;
  out->result = get16(buf + 2);
  if (len < ETHP2P_PMP_HEADER_LEN)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "NAT-PMP reply shorter than 8 bytes");
  out->epoch_s = get32(buf + 4);
  size_t full;
  if (out->opcode == ETHP2P_PMP_OP_EXTADDR)
    full = ETHP2P_PMP_EXTADDR_REPLY_LEN;
  else if (known_opcode(out->opcode))
    full = ETHP2P_PMP_MAP_REPLY_LEN;
  else
    full = 0; /* an echoed unsupported opcode: only meaningful as an error */
  if (full == 0 || len < full) {
    if (out->result == ETHP2P_PMP_RESULT_SUCCESS)
      return full == 0
                 ? ethp2p_diag_set(diag, ETHP2P_EPROTO, 1, "success reply for unknown opcode %u",
                                   out->opcode)
                 : ethp2p_diag_set(diag, ETHP2P_ETRUNC, len,
                                   "NAT-PMP success reply is %zu bytes, needs %zu", len, full);
    out->header_only = true;
    return 0;
  }
  if (full == ETHP2P_PMP_EXTADDR_REPLY_LEN) {
    memcpy(out->external_ip, buf + 8, 4);
  } else {
    out->internal_port = get16(buf + 8);
    out->mapped_port = get16(buf + 10);
    out->lifetime_s = get32(buf + 12);
  }
  return 0;
}

int ethp2p_pmp_unsupp_opcode_encode(uint8_t *buf, size_t cap, const uint8_t *req, size_t len) {
  if (len < 2)
    return ETHP2P_EINVAL;
  size_t n = len < 4 ? 4 : len;
  if (cap < n)
    return ETHP2P_ESPACE;
  memset(buf, 0, n);
  memcpy(buf, req, len);
  buf[1] = (uint8_t)(req[1] | ETHP2P_PMP_OP_REPLY);
  put16(buf + 2, ETHP2P_PMP_RESULT_UNSUPP_OPCODE);
  return (int)n;
}

const char *ethp2p_pmp_result_name(unsigned result) {
  switch (result) {
  case ETHP2P_PMP_RESULT_SUCCESS:
    return "SUCCESS";
  case ETHP2P_PMP_RESULT_UNSUPP_VERSION:
    return "UNSUPPORTED_VERSION";
  case ETHP2P_PMP_RESULT_NOT_AUTHORIZED:
    return "NOT_AUTHORIZED";
  case ETHP2P_PMP_RESULT_NETWORK_FAILURE:
    return "NETWORK_FAILURE";
  case ETHP2P_PMP_RESULT_OUT_OF_RESOURCES:
    return "OUT_OF_RESOURCES";
  case ETHP2P_PMP_RESULT_UNSUPP_OPCODE:
    return "UNSUPPORTED_OPCODE";
  default:
    return "UNKNOWN";
  }
}

const char *ethp2p_pmp_result_meaning(unsigned result) {
  switch (result) {
  case ETHP2P_PMP_RESULT_SUCCESS:
    return "success";
  case ETHP2P_PMP_RESULT_UNSUPP_VERSION:
    return "the gateway does not speak this NAT-PMP version";
  case ETHP2P_PMP_RESULT_NOT_AUTHORIZED:
    return "not authorized or refused: port mapping may be disabled on the gateway";
  case ETHP2P_PMP_RESULT_NETWORK_FAILURE:
    return "network failure: the gateway has no external address yet";
  case ETHP2P_PMP_RESULT_OUT_OF_RESOURCES:
    return "out of resources: the gateway cannot create more mappings";
  case ETHP2P_PMP_RESULT_UNSUPP_OPCODE:
    return "the gateway does not support this operation";
  default:
    return "unknown result code";
  }
}

bool ethp2p_pmp_epoch_lost(uint32_t prev_epoch_s, ethp2p_time prev_local, uint32_t new_epoch_s,
                           ethp2p_time now_local) {
  /* §3.6, in milliseconds so 7/8 of a short interval is not rounded away. */
  uint64_t elapsed_ms = now_local > prev_local ? (now_local - prev_local) / ETHP2P_MSEC : 0;
  int64_t expected_ms = (int64_t)prev_epoch_s * 1000 + (int64_t)(elapsed_ms * 7 / 8) - 2000;
  return (int64_t)new_epoch_s * 1000 < expected_ms;
}
