/* nat/pcp_codec.c — PCP (RFC 6887) encoder and decoder; layouts in pcp_codec.h. */
#include "nat/pcp_codec.h"

#include <string.h>

#include "core/bytes.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void ethp2p_pcp_addr_to_wire(uint8_t out[16], const ethp2p_addr *a) {
  memset(out, 0, 16);
  if (a->family == 4) {
    memcpy(out, v4mapped_prefix, 12);
    memcpy(out + 12, a->ip, 4);
  } else if (a->family == 6) {
    memcpy(out, a->ip, 16);
  }
}

void ethp2p_pcp_addr_from_wire(ethp2p_addr *out, const uint8_t in[16]) {
  memset(out, 0, sizeof *out);
  if (memcmp(in, v4mapped_prefix, 12) == 0) {
    out->family = 4;
    memcpy(out->ip, in + 12, 4);
  } else {
    out->family = 6;
    memcpy(out->ip, in, 16);
  }
}

/* MAP payload (§11.1). */
static void map_encode(uint8_t *p, const ethp2p_pcp_map *m) {
  memcpy(p, m->nonce, ETHP2P_PCP_NONCE_LEN);
  p[12] = m->protocol;
  p[13] = p[14] = p[15] = 0; /* reserved */
  ethp2p_put_be16(p + 16, m->internal_port);
  ethp2p_put_be16(p + 18, m->external_port);
  ethp2p_pcp_addr_to_wire(p + 20, &m->external_ip);
}

static void map_decode(ethp2p_pcp_map *m, const uint8_t *p) {
  memcpy(m->nonce, p, ETHP2P_PCP_NONCE_LEN);
  m->protocol = p[12];
  m->internal_port = ethp2p_get_be16(p + 16);
  m->external_port = ethp2p_get_be16(p + 18);
  static const uint8_t zero[16];
  if (memcmp(p + 20, zero, 16) == 0)
    memset(&m->external_ip, 0, sizeof m->external_ip); /* "no suggestion" round-trips as family 0 */
  else
    ethp2p_pcp_addr_from_wire(&m->external_ip, p + 20);
}

static size_t pad4(size_t n) {
  return (n + 3) & ~(size_t)3;
}

/* Options (§7.3) after `off`; returns the new offset or a negative code. */
static int options_encode(uint8_t *buf, size_t cap, size_t off, const ethp2p_pcp_option *opts,
                          size_t n) {
  if (n > ETHP2P_PCP_MAX_OPTIONS)
    return ETHP2P_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (opts[i].len > ETHP2P_PCP_OPTION_MAX_DATA)
      return ETHP2P_EINVAL;
    size_t need = 4 + pad4(opts[i].len);
    if (cap - off < need)
      return ETHP2P_ESPACE;
    buf[off] = opts[i].code;
    buf[off + 1] = 0;
    ethp2p_put_be16(buf + off + 2, opts[i].len);
    memset(buf + off + 4, 0, pad4(opts[i].len));
    memcpy(buf + off + 4, opts[i].data, opts[i].len);
    off += need;
  }
  return (int)off;
}

static int options_decode(ethp2p_pcp_option *opts, size_t *n, const uint8_t *buf, size_t len,
                          size_t off, ethp2p_diag *diag) {
  *n = 0;
  while (off < len) {
    if (len - off < 4)
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off, "PCP option header truncated");
    uint16_t olen = ethp2p_get_be16(buf + off + 2);
    if (len - off - 4 < pad4(olen))
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off, "PCP option %u (%u bytes) runs past the end",
                             buf[off], olen);
    if (*n == ETHP2P_PCP_MAX_OPTIONS)
      return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, off, "more than %d PCP options",
                             ETHP2P_PCP_MAX_OPTIONS);
    if (olen > ETHP2P_PCP_OPTION_MAX_DATA)
      return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, off,
                             "PCP option %u has %u bytes of data (max %d)", buf[off], olen,
                             ETHP2P_PCP_OPTION_MAX_DATA);
    ethp2p_pcp_option *o = &opts[(*n)++];
    o->code = buf[off];
    o->len = olen;
    memcpy(o->data, buf + off + 4, olen);
    off += 4 + pad4(olen);
  }
  return 0;
}

int ethp2p_pcp_request_encode(uint8_t *buf, size_t cap, const ethp2p_pcp_request *req) {
  if (req->version != ETHP2P_PCP_VERSION ||
      (req->opcode != ETHP2P_PCP_OP_ANNOUNCE && req->opcode != ETHP2P_PCP_OP_MAP) ||
      (req->client_ip.family != 4 && req->client_ip.family != 6))
    return ETHP2P_EINVAL;
  size_t off = ETHP2P_PCP_HEADER_LEN + (req->opcode == ETHP2P_PCP_OP_MAP ? ETHP2P_PCP_MAP_LEN : 0);
  if (cap < off)
    return ETHP2P_ESPACE;
  buf[0] = ETHP2P_PCP_VERSION;
  buf[1] = req->opcode; /* R = 0 */
  ethp2p_put_be16(buf + 2, 0);
  ethp2p_put_be32(buf + 4, req->lifetime_s);
  ethp2p_pcp_addr_to_wire(buf + 8, &req->client_ip);
  if (req->opcode == ETHP2P_PCP_OP_MAP)
    map_encode(buf + ETHP2P_PCP_HEADER_LEN, &req->map);
  return options_encode(buf, cap, off, req->options, req->n_options);
}

/* Checks common to both directions (§7, §8.3): size and alignment. */
static int check_size(const uint8_t *buf, size_t len, ethp2p_diag *diag) {
  (void)buf;
  if (len > ETHP2P_PCP_MAX_LEN)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, ETHP2P_PCP_MAX_LEN,
                           "PCP message of %zu bytes exceeds 1100", len);
  if (len % 4 != 0)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, len,
                           "PCP message length %zu is not a multiple of 4", len);
  return 0;
}

int ethp2p_pcp_request_decode(ethp2p_pcp_request *out, const uint8_t *buf, size_t len,
                              ethp2p_diag *diag) {
  memset(out, 0, sizeof *out);
  if (len < 2)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "PCP request shorter than 2 bytes");
  out->version = buf[0];
  out->opcode = buf[1] & 0x7f;
  if (buf[1] & ETHP2P_PCP_R_BIT)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 1, "R bit set: a response, not a request");
  int rc = check_size(buf, len, diag);
  if (rc < 0)
    return rc;
  if (buf[0] != ETHP2P_PCP_VERSION)
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 0, "unsupported PCP version %u", buf[0]);
  if (len < ETHP2P_PCP_HEADER_LEN)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "PCP request shorter than its 24-byte header");
  out->lifetime_s = ethp2p_get_be32(buf + 4);
  ethp2p_pcp_addr_from_wire(&out->client_ip, buf + 8);
  size_t off = ETHP2P_PCP_HEADER_LEN;
  if (out->opcode == ETHP2P_PCP_OP_MAP) {
    if (len < ETHP2P_PCP_MAP_MSG_LEN)
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "PCP MAP request is %zu bytes, needs 60",
                             len);
    map_decode(&out->map, buf + off);
    off += ETHP2P_PCP_MAP_LEN;
  } else if (out->opcode != ETHP2P_PCP_OP_ANNOUNCE) {
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 1, "unsupported PCP opcode %u", out->opcode);
  }
  return options_decode(out->options, &out->n_options, buf, len, off, diag);
}

int ethp2p_pcp_response_encode(uint8_t *buf, size_t cap, const ethp2p_pcp_response *resp) {
  if (resp->opcode > 0x7f)
    return ETHP2P_EINVAL;
  size_t off = ETHP2P_PCP_HEADER_LEN + (resp->has_map ? ETHP2P_PCP_MAP_LEN : 0);
  if (cap < off)
    return ETHP2P_ESPACE;
  memset(buf, 0, ETHP2P_PCP_HEADER_LEN);
  buf[0] = resp->version;
  buf[1] = (uint8_t)(ETHP2P_PCP_R_BIT | resp->opcode);
  buf[3] = resp->result;
  ethp2p_put_be32(buf + 4, resp->lifetime_s);
  ethp2p_put_be32(buf + 8, resp->epoch_s);
  if (resp->has_map)
    map_encode(buf + ETHP2P_PCP_HEADER_LEN, &resp->map);
  return options_encode(buf, cap, off, resp->options, resp->n_options);
}

int ethp2p_pcp_response_decode(ethp2p_pcp_response *out, const uint8_t *buf, size_t len,
                               ethp2p_diag *diag) {
  memset(out, 0, sizeof *out);
  if (len < 1)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, 0, "empty PCP response");
  out->version = buf[0];
  if (len >= 4) {
    out->opcode = buf[1] & 0x7f;
    out->result = buf[3];
  }
  if (buf[0] != ETHP2P_PCP_VERSION)
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 0, "PCP response has version %u, want 2", buf[0]);
  if (len < 4)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "PCP response shorter than 4 bytes");
  if (!(buf[1] & ETHP2P_PCP_R_BIT))
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 1, "R bit clear: a request, not a response");
  int rc = check_size(buf, len, diag);
  if (rc < 0)
    return rc;
  if (len < ETHP2P_PCP_HEADER_LEN)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len,
                           "PCP response shorter than its 24-byte header");
  out->lifetime_s = ethp2p_get_be32(buf + 4);
  out->epoch_s = ethp2p_get_be32(buf + 8);
  size_t off = ETHP2P_PCP_HEADER_LEN;
  if (out->opcode == ETHP2P_PCP_OP_MAP) {
    if (len >= ETHP2P_PCP_MAP_MSG_LEN) {
      map_decode(&out->map, buf + off);
      out->has_map = true;
      off += ETHP2P_PCP_MAP_LEN;
    } else if (out->result == ETHP2P_PCP_RESULT_SUCCESS) {
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len,
                             "PCP MAP success response is %zu bytes, needs 60", len);
    }
  } else if (out->opcode != ETHP2P_PCP_OP_ANNOUNCE) {
    /* PEER and unknown opcodes: header only, payload not modelled. */
    return 0;
  }
  return options_decode(out->options, &out->n_options, buf, len, off, diag);
}

static const struct {
  const char *name;
  const char *meaning;
} results[] = {
    {"SUCCESS", "success"},
    {"UNSUPP_VERSION", "the server does not support this PCP version"},
    {"NOT_AUTHORIZED", "the operation is disabled for this client or forbidden by policy"},
    {"MALFORMED_REQUEST", "the server could not parse the request"},
    {"UNSUPP_OPCODE", "the server does not support this operation"},
    {"UNSUPP_OPTION", "the server does not support a mandatory option of the request"},
    {"MALFORMED_OPTION", "an option of the request is malformed"},
    {"NETWORK_FAILURE", "the server has a network failure, e.g. no external address yet"},
    {"NO_RESOURCES", "the server lacks the resources to create the mapping now"},
    {"UNSUPP_PROTOCOL", "the server does not support this transport protocol"},
    {"USER_EX_QUOTA", "the mapping would exceed this client's port quota"},
    {"CANNOT_PROVIDE_EXTERNAL", "the suggested external port or address cannot be provided"},
    {"ADDRESS_MISMATCH", "the request's source address differs from the client address field: "
                         "another NAT is on the path"},
    {"EXCESSIVE_REMOTE_PEERS", "the server could not create the requested filters"},
};

const char *ethp2p_pcp_result_name(unsigned result) {
  return result < sizeof results / sizeof results[0] ? results[result].name : "UNKNOWN";
}

const char *ethp2p_pcp_result_meaning(unsigned result) {
  return result < sizeof results / sizeof results[0] ? results[result].meaning
                                                     : "unknown result code";
}

bool ethp2p_pcp_result_is_short_lifetime(unsigned result) {
  switch (result) {
  case ETHP2P_PCP_RESULT_NETWORK_FAILURE:
  case ETHP2P_PCP_RESULT_NO_RESOURCES:
  case ETHP2P_PCP_RESULT_USER_EX_QUOTA:
  case ETHP2P_PCP_RESULT_CANNOT_PROVIDE_EXTERNAL:
    return true;
  default:
    return false;
  }
}

bool ethp2p_pcp_epoch_lost(uint32_t prev_epoch_s, ethp2p_time prev_local, uint32_t new_epoch_s,
                           ethp2p_time now_local) {
  /* §8.5: backwards by more than one second is invalid outright. */
  if ((int64_t)new_epoch_s + 1 < (int64_t)prev_epoch_s)
    return true;
  int64_t client_delta =
      now_local > prev_local ? (int64_t)((now_local - prev_local) / ETHP2P_SEC) : 0;
  int64_t server_delta = (int64_t)new_epoch_s - (int64_t)prev_epoch_s;
  if (server_delta < 0)
    server_delta = 0;
  return client_delta + 2 < server_delta - server_delta / 16 ||
         server_delta + 2 < client_delta - client_delta / 16;
}
