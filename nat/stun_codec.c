/* nat/stun_codec.c — STUN (RFC 8489) message encoder and decoder; layouts in stun_codec.h. */
#include "nat/stun_codec.h"

#include <string.h>

#include "core/bytes.h"

#include "enr/crypto.h"

#define HMAC_SHA1_LEN ETHP2P_SHA1_LEN

uint32_t ethp2p_stun_crc32(const uint8_t *buf, size_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++) {
    crc ^= buf[i];
    for (int k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

/* MESSAGE-INTEGRITY's HMAC-SHA1 (§14.5); 0 or a negative ETHP2P_E* code. */
static int hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                     uint8_t out[HMAC_SHA1_LEN]) {
  return ethp2p_hmac_sha1(out, key, key_len, data, len);
}

/* ---- encoding ----------------------------------------------------------- */

typedef struct writer {
  uint8_t *buf;
  size_t cap;
  size_t off;
  uint8_t pad;
  int err;
} writer;

/* Starts an attribute with `len` value bytes; returns a pointer to the value or NULL. */
static uint8_t *attr_begin(writer *w, uint16_t type, size_t len) {
  size_t padded = (len + 3) & ~(size_t)3;
  if (w->err != 0)
    return NULL;
  if (len > 0xffff || w->cap - w->off < 4 + padded) {
    w->err = ETHP2P_ESPACE;
    return NULL;
  }
  uint8_t *p = w->buf + w->off;
  ethp2p_put_be16(p, type);
  ethp2p_put_be16(p + 2, (uint16_t)len);
  memset(p + 4 + len, w->pad, padded - len);
  w->off += 4 + padded;
  return p + 4;
}

static void put_address(writer *w, uint16_t type, const ethp2p_addr *a, bool xored,
                        const uint8_t txid[ETHP2P_STUN_TXID_LEN]) {
  if (w->err == 0 && a->family != 4 && a->family != 6)
    w->err = ETHP2P_EINVAL;
  size_t alen = a->family == 4 ? 4 : 16;
  uint8_t *v = attr_begin(w, type, 4 + alen);
  if (v == NULL)
    return;
  uint8_t mask[16];
  ethp2p_put_be32(mask, ETHP2P_STUN_MAGIC);
  memcpy(mask + 4, txid, ETHP2P_STUN_TXID_LEN);
  v[0] = 0;
  v[1] = a->family == 4 ? 0x01 : 0x02;
  ethp2p_put_be16(v + 2, xored ? (uint16_t)(a->port ^ (ETHP2P_STUN_MAGIC >> 16)) : a->port);
  for (size_t i = 0; i < alen; i++)
    v[4 + i] = xored ? (uint8_t)(a->ip[i] ^ mask[i]) : a->ip[i];
}

static void put_text(writer *w, uint16_t type, const char *s, size_t max) {
  size_t n = strnlen(s, max);
  uint8_t *v = attr_begin(w, type, n);
  if (v != NULL)
    memcpy(v, s, n);
}

int ethp2p_stun_encode(uint8_t *buf, size_t cap, const ethp2p_stun_msg *msg,
                       const ethp2p_stun_encode_opts *opts) {
  static const ethp2p_stun_encode_opts none;
  if (opts == NULL)
    opts = &none;
  if (msg->type & 0xC000)
    return ETHP2P_EINVAL;
  if (cap > ETHP2P_STUN_MAX_LEN)
    cap = ETHP2P_STUN_MAX_LEN;
  if (cap < ETHP2P_STUN_HEADER_LEN)
    return ETHP2P_ESPACE;
  writer w = {buf, cap, ETHP2P_STUN_HEADER_LEN, opts->pad_byte, 0};
  ethp2p_put_be16(buf, msg->type);
  ethp2p_put_be32(buf + 4, ETHP2P_STUN_MAGIC);
  memcpy(buf + 8, msg->txid, ETHP2P_STUN_TXID_LEN);
  uint32_t has = msg->present;

  if (has & ETHP2P_STUN_HAS_SOFTWARE)
    put_text(&w, ETHP2P_STUN_ATTR_SOFTWARE, msg->software, sizeof msg->software - 1);
  if (has & ETHP2P_STUN_HAS_MAPPED)
    put_address(&w, ETHP2P_STUN_ATTR_MAPPED_ADDRESS, &msg->mapped, false, msg->txid);
  if (has & ETHP2P_STUN_HAS_XOR_MAPPED)
    put_address(&w, ETHP2P_STUN_ATTR_XOR_MAPPED_ADDRESS, &msg->xor_mapped, true, msg->txid);
  if (has & ETHP2P_STUN_HAS_CHANGE_REQUEST) {
    uint8_t *v = attr_begin(&w, ETHP2P_STUN_ATTR_CHANGE_REQUEST, 4);
    if (v != NULL)
      ethp2p_put_be32(v, msg->change_request & (ETHP2P_STUN_CHANGE_IP | ETHP2P_STUN_CHANGE_PORT));
  }
  if (has & ETHP2P_STUN_HAS_RESPONSE_PORT) {
    uint8_t *v = attr_begin(&w, ETHP2P_STUN_ATTR_RESPONSE_PORT, 4);
    if (v != NULL) {
      ethp2p_put_be16(v, msg->response_port);
      ethp2p_put_be16(v + 2, 0);
    }
  }
  if (has & ETHP2P_STUN_HAS_RESPONSE_ORIGIN)
    put_address(&w, ETHP2P_STUN_ATTR_RESPONSE_ORIGIN, &msg->response_origin, false, msg->txid);
  if (has & ETHP2P_STUN_HAS_OTHER_ADDRESS)
    put_address(&w, ETHP2P_STUN_ATTR_OTHER_ADDRESS, &msg->other_address, false, msg->txid);
  if (has & ETHP2P_STUN_HAS_ERROR_CODE) {
    if (msg->error_code < 300 || msg->error_code > 699)
      return ETHP2P_EINVAL;
    size_t n = strnlen(msg->error_reason, sizeof msg->error_reason - 1);
    uint8_t *v = attr_begin(&w, ETHP2P_STUN_ATTR_ERROR_CODE, 4 + n);
    if (v != NULL) {
      v[0] = v[1] = 0;
      v[2] = (uint8_t)(msg->error_code / 100);
      v[3] = (uint8_t)(msg->error_code % 100);
      memcpy(v + 4, msg->error_reason, n);
    }
  }
  if (w.err != 0)
    return w.err;

  if (opts->integrity_key != NULL) {
    /* §14.5: the Length field must already count MESSAGE-INTEGRITY. */
    size_t mi_at = w.off;
    uint8_t *v = attr_begin(&w, ETHP2P_STUN_ATTR_MESSAGE_INTEGRITY, HMAC_SHA1_LEN);
    if (v == NULL)
      return w.err;
    ethp2p_put_be16(buf + 2, (uint16_t)(w.off - ETHP2P_STUN_HEADER_LEN));
    int rc = hmac_sha1(opts->integrity_key, opts->integrity_key_len, buf, mi_at, v);
    if (rc < 0)
      return rc;
  }
  if (opts->fingerprint) {
    size_t fp_at = w.off;
    uint8_t *v = attr_begin(&w, ETHP2P_STUN_ATTR_FINGERPRINT, 4);
    if (v == NULL)
      return w.err;
    ethp2p_put_be16(buf + 2, (uint16_t)(w.off - ETHP2P_STUN_HEADER_LEN));
    ethp2p_put_be32(v, ethp2p_stun_crc32(buf, fp_at) ^ ETHP2P_STUN_FINGERPRINT_XOR);
  }
  ethp2p_put_be16(buf + 2, (uint16_t)(w.off - ETHP2P_STUN_HEADER_LEN));
  return (int)w.off;
}

/* ---- decoding ----------------------------------------------------------- */

bool ethp2p_stun_is_message(const uint8_t *buf, size_t len) {
  return len >= ETHP2P_STUN_HEADER_LEN && (buf[0] & 0xC0) == 0 &&
         ethp2p_get_be32(buf + 4) == ETHP2P_STUN_MAGIC && (ethp2p_get_be16(buf + 2) & 3) == 0 &&
         (size_t)ethp2p_get_be16(buf + 2) + ETHP2P_STUN_HEADER_LEN == len;
}

static int get_address(ethp2p_addr *out, const uint8_t *v, size_t vlen, bool xored,
                       const uint8_t *hdr, size_t at, ethp2p_diag *diag) {
  if (vlen < 4)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, at, "address attribute of %zu bytes is too short",
                           vlen);
  size_t alen;
  if (v[1] == 0x01)
    alen = 4;
  else if (v[1] == 0x02)
    alen = 16;
  else
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, at + 1, "unknown address family 0x%02x", v[1]);
  if (vlen != 4 + alen)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, at,
                           "address attribute has %zu bytes, family needs %zu", vlen, 4 + alen);
  memset(out, 0, sizeof *out);
  out->family = alen == 4 ? 4 : 6;
  uint16_t port = ethp2p_get_be16(v + 2);
  out->port = xored ? (uint16_t)(port ^ (ETHP2P_STUN_MAGIC >> 16)) : port;
  for (size_t i = 0; i < alen; i++)
    out->ip[i] = xored ? (uint8_t)(v[4 + i] ^ hdr[4 + i]) : v[4 + i]; /* cookie ‖ txid */
  return 0;
}

static void get_text(char *dst, size_t cap, const uint8_t *v, size_t vlen) {
  size_t n = vlen < cap - 1 ? vlen : cap - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
  for (size_t i = 0; i < n; i++) /* keep logs one line: no control bytes */
    if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f) {
      dst[i] = '\0';
      break;
    }
}

static int decode_attr(ethp2p_stun_msg *out, uint16_t type, const uint8_t *v, size_t vlen,
                       const uint8_t *buf, size_t at, ethp2p_diag *diag) {
  int rc = 0;
  switch (type) {
  case ETHP2P_STUN_ATTR_MAPPED_ADDRESS:
    if (out->present & ETHP2P_STUN_HAS_MAPPED)
      return 0;
    rc = get_address(&out->mapped, v, vlen, false, buf, at, diag);
    out->present |= rc == 0 ? ETHP2P_STUN_HAS_MAPPED : 0;
    return rc;
  case ETHP2P_STUN_ATTR_XOR_MAPPED_ADDRESS:
    if (out->present & ETHP2P_STUN_HAS_XOR_MAPPED)
      return 0;
    rc = get_address(&out->xor_mapped, v, vlen, true, buf, at, diag);
    out->present |= rc == 0 ? ETHP2P_STUN_HAS_XOR_MAPPED : 0;
    return rc;
  case ETHP2P_STUN_ATTR_RESPONSE_ORIGIN:
    if (out->present & ETHP2P_STUN_HAS_RESPONSE_ORIGIN)
      return 0;
    rc = get_address(&out->response_origin, v, vlen, false, buf, at, diag);
    out->present |= rc == 0 ? ETHP2P_STUN_HAS_RESPONSE_ORIGIN : 0;
    return rc;
  case ETHP2P_STUN_ATTR_OTHER_ADDRESS:
    if (out->present & ETHP2P_STUN_HAS_OTHER_ADDRESS)
      return 0;
    rc = get_address(&out->other_address, v, vlen, false, buf, at, diag);
    out->present |= rc == 0 ? ETHP2P_STUN_HAS_OTHER_ADDRESS : 0;
    return rc;
  case ETHP2P_STUN_ATTR_CHANGE_REQUEST:
    if (vlen != 4)
      return ethp2p_diag_set(diag, ETHP2P_EPROTO, at, "CHANGE-REQUEST must have 4 bytes");
    if (!(out->present & ETHP2P_STUN_HAS_CHANGE_REQUEST)) {
      out->change_request = ethp2p_get_be32(v) & (ETHP2P_STUN_CHANGE_IP | ETHP2P_STUN_CHANGE_PORT);
      out->present |= ETHP2P_STUN_HAS_CHANGE_REQUEST;
    }
    return 0;
  case ETHP2P_STUN_ATTR_RESPONSE_PORT:
    if (vlen != 4)
      return ethp2p_diag_set(diag, ETHP2P_EPROTO, at, "RESPONSE-PORT must have 4 bytes");
    if (!(out->present & ETHP2P_STUN_HAS_RESPONSE_PORT)) {
      out->response_port = ethp2p_get_be16(v);
      out->present |= ETHP2P_STUN_HAS_RESPONSE_PORT;
    }
    return 0;
  case ETHP2P_STUN_ATTR_ERROR_CODE:
    if (vlen < 4 || vlen > 4 + 763)
      return ethp2p_diag_set(diag, ETHP2P_EPROTO, at, "ERROR-CODE has %zu bytes", vlen);
    if (v[2] & 0xf8 || v[2] < 3 || v[2] > 6 || v[3] > 99)
      return ethp2p_diag_set(diag, ETHP2P_EPROTO, at + 6, "ERROR-CODE class %u number %u invalid",
                             v[2] & 7u, v[3]);
    if (!(out->present & ETHP2P_STUN_HAS_ERROR_CODE)) {
      out->error_code = (uint16_t)(v[2] * 100 + v[3]);
      get_text(out->error_reason, sizeof out->error_reason, v + 4, vlen - 4);
      out->present |= ETHP2P_STUN_HAS_ERROR_CODE;
    }
    return 0;
  case ETHP2P_STUN_ATTR_SOFTWARE:
    if (vlen > 763)
      return ethp2p_diag_set(diag, ETHP2P_EPROTO, at, "SOFTWARE of %zu bytes is too long", vlen);
    if (!(out->present & ETHP2P_STUN_HAS_SOFTWARE)) {
      get_text(out->software, sizeof out->software, v, vlen);
      out->present |= ETHP2P_STUN_HAS_SOFTWARE;
    }
    return 0;
  default:
    if (type < 0x8000 && out->n_unknown < ETHP2P_STUN_MAX_UNKNOWN) {
      for (size_t i = 0; i < out->n_unknown; i++)
        if (out->unknown_required[i] == type)
          return 0;
      out->unknown_required[out->n_unknown++] = type;
    }
    return 0;
  }
}

int ethp2p_stun_decode(ethp2p_stun_msg *out, const uint8_t *buf, size_t len, ethp2p_diag *diag) {
  memset(out, 0, sizeof *out);
  if (len < ETHP2P_STUN_HEADER_LEN)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "STUN message shorter than 20 bytes");
  if (len > ETHP2P_STUN_MAX_LEN)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, ETHP2P_STUN_MAX_LEN,
                           "STUN message of %zu bytes exceeds %d", len, ETHP2P_STUN_MAX_LEN);
  if (buf[0] & 0xC0)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "top two bits of a STUN message must be zero");
  if (ethp2p_get_be32(buf + 4) != ETHP2P_STUN_MAGIC)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 4, "magic cookie is not 0x2112A442");
  size_t mlen = ethp2p_get_be16(buf + 2);
  if (mlen % 4 != 0)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 2, "message length %zu is not a multiple of 4",
                           mlen);
  if (mlen + ETHP2P_STUN_HEADER_LEN > len)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "message length %zu runs past the datagram",
                           mlen);
  if (mlen + ETHP2P_STUN_HEADER_LEN < len)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, mlen + ETHP2P_STUN_HEADER_LEN,
                           "%zu bytes after the STUN message", len - mlen - ETHP2P_STUN_HEADER_LEN);
  out->type = ethp2p_get_be16(buf);
  memcpy(out->txid, buf + 8, ETHP2P_STUN_TXID_LEN);

  size_t off = ETHP2P_STUN_HEADER_LEN;
  bool after_integrity = false;
  while (off < len) {
    if (len - off < 4)
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off, "attribute header truncated");
    uint16_t type = ethp2p_get_be16(buf + off);
    size_t vlen = ethp2p_get_be16(buf + off + 2);
    size_t padded = (vlen + 3) & ~(size_t)3;
    if (len - off - 4 < padded)
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off,
                             "attribute 0x%04x of %zu bytes runs past the message", type, vlen);
    const uint8_t *v = buf + off + 4;
    if (type == ETHP2P_STUN_ATTR_FINGERPRINT) {
      /* §14.7: last attribute, CRC over everything before it. */
      if (vlen != 4)
        return ethp2p_diag_set(diag, ETHP2P_EPROTO, off, "FINGERPRINT must have 4 bytes");
      if (off + 8 != len)
        return ethp2p_diag_set(diag, ETHP2P_EPROTO, off, "FINGERPRINT is not the last attribute");
      if ((ethp2p_stun_crc32(buf, off) ^ ETHP2P_STUN_FINGERPRINT_XOR) != ethp2p_get_be32(v))
        return ethp2p_diag_set(diag, ETHP2P_EPROTO, off + 4, "FINGERPRINT does not match");
      out->present |= ETHP2P_STUN_HAS_FINGERPRINT;
      out->fingerprint_ok = true;
    } else if (type == ETHP2P_STUN_ATTR_MESSAGE_INTEGRITY && !after_integrity) {
      if (vlen != HMAC_SHA1_LEN)
        return ethp2p_diag_set(diag, ETHP2P_EPROTO, off, "MESSAGE-INTEGRITY must have 20 bytes");
      out->present |= ETHP2P_STUN_HAS_INTEGRITY;
      out->integrity_offset = off;
      after_integrity = true; /* §14.5: later attributes other than FINGERPRINT are ignored */
    } else if (!after_integrity) {
      int rc = decode_attr(out, type, v, vlen, buf, off, diag);
      if (rc < 0)
        return rc;
    }
    off += 4 + padded;
  }
  return 0;
}

int ethp2p_stun_check_integrity(const ethp2p_stun_msg *msg, const uint8_t *buf, size_t len,
                                const uint8_t *key, size_t key_len) {
  if (!(msg->present & ETHP2P_STUN_HAS_INTEGRITY) ||
      msg->integrity_offset + 4 + HMAC_SHA1_LEN > len || len > ETHP2P_STUN_MAX_LEN)
    return ETHP2P_EINVAL;
  uint8_t copy[ETHP2P_STUN_MAX_LEN];
  size_t at = msg->integrity_offset;
  memcpy(copy, buf, at);
  /* Length as if MESSAGE-INTEGRITY were the last attribute (§14.5). */
  ethp2p_put_be16(copy + 2, (uint16_t)(at + 4 + HMAC_SHA1_LEN - ETHP2P_STUN_HEADER_LEN));
  uint8_t mac[HMAC_SHA1_LEN];
  int rc = hmac_sha1(key, key_len, copy, at, mac);
  if (rc < 0)
    return rc;
  uint8_t diff = 0;
  for (size_t i = 0; i < HMAC_SHA1_LEN; i++)
    diff |= (uint8_t)(mac[i] ^ buf[at + 4 + i]);
  return diff == 0 ? 0 : ETHP2P_ESIG;
}
