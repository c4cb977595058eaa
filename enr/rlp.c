/*
 * enr/rlp.c — strict RLP decoder, encoder and dumper (Yellow Paper, appendix B).
 *
 * Header forms (first byte b):
 *   0x00-0x7f  one-byte string, the byte itself
 *   0x80-0xb7  string, payload length b-0x80 (0..55)
 *   0xb8-0xbf  string, b-0xb7 big-endian length bytes follow (length >= 56)
 *   0xc0-0xf7  list, payload length b-0xc0 (0..55)
 *   0xf8-0xff  list, b-0xf7 big-endian length bytes follow (length >= 56)
 */
#include "ethp2p/rlp.h"

#include <string.h>

/* Reads the header of the item at p[0..avail).  off is p's offset in the top-level
 * input.  On success fills *hdr, *plen and *is_list, with hdr + plen <= avail. */
static int rlp_header(const uint8_t *p, size_t avail, size_t off, size_t *hdr, size_t *plen,
                      bool *is_list, ethp2p_diag *diag) {
  uint8_t b;
  size_t k, len = 0, i;
  if (avail == 0)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off, "expected an RLP item, input ends");
  b = p[0];
  if (b < 0x80) {
    *hdr = 0;
    *plen = 1;
    *is_list = false;
    return 0;
  }
  *is_list = b >= 0xc0;
  if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
    len = b - (*is_list ? 0xc0u : 0x80u);
    *hdr = 1;
    if (!*is_list && len == 1) {
      if (avail < 2)
        return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off + 1,
                               "string of 1 byte is truncated (input ends)");
      if (p[1] < 0x80)
        return ethp2p_diag_set(diag, ETHP2P_ENONCANON, off,
                               "non-canonical: byte 0x%02x below 0x80 must stand alone, "
                               "not as a 1-byte string",
                               p[1]);
    }
  } else {
    k = b - (*is_list ? 0xf7u : 0xb7u);
    if (avail < 1 + k)
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off + 1,
                             "%s length of %zu bytes is truncated (input ends)",
                             *is_list ? "list" : "string", k);
    if (p[1] == 0)
      return ethp2p_diag_set(diag, ETHP2P_ENONCANON, off + 1,
                             "non-canonical: long %s length has a leading zero byte",
                             *is_list ? "list" : "string");
    for (i = 0; i < k; i++) {
      if (len > (SIZE_MAX >> 8))
        return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, off + 1, "length does not fit in memory");
      len = (len << 8) | p[1 + i];
    }
    if (len < 56)
      return ethp2p_diag_set(diag, ETHP2P_ENONCANON, off,
                             "non-canonical: %s of %zu bytes uses the long length form "
                             "(only for 56 bytes or more)",
                             *is_list ? "list" : "string", len);
    *hdr = 1 + k;
  }
  if (len > avail - *hdr)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off + *hdr,
                           "%s payload of %zu bytes is truncated (%zu available)",
                           *is_list ? "list" : "string", len, avail - *hdr);
  *plen = len;
  return 0;
}

/* Reads one item (header only) at p into *out. */
static int rlp_item_at(ethp2p_rlp_item *out, const uint8_t *p, size_t avail, size_t off,
                       ethp2p_diag *diag) {
  size_t hdr = 0, plen = 0;
  bool is_list = false;
  int rc = rlp_header(p, avail, off, &hdr, &plen, &is_list, diag);
  if (rc != 0)
    return rc;
  out->raw = p;
  out->raw_len = hdr + plen;
  out->payload = p + hdr;
  out->payload_len = plen;
  out->offset = off;
  out->is_list = is_list;
  return 0;
}

/* Checks every element below a list item, at most ETHP2P_RLP_MAX_DEPTH deep. */
static int rlp_check_tree(const ethp2p_rlp_item *item, unsigned depth, ethp2p_diag *diag) {
  ethp2p_rlp_iter it;
  ethp2p_rlp_item child;
  int rc;
  if (!item->is_list)
    return 0;
  if (depth > ETHP2P_RLP_MAX_DEPTH)
    return ethp2p_diag_set(diag, ETHP2P_EDEPTH, item->offset, "lists nest deeper than %d levels",
                           ETHP2P_RLP_MAX_DEPTH);
  ethp2p_rlp_iter_init(&it, item);
  while ((rc = ethp2p_rlp_iter_next(&it, &child, diag)) == 1) {
    rc = rlp_check_tree(&child, depth + 1, diag);
    if (rc != 0)
      return rc;
  }
  return rc;
}

int ethp2p_rlp_decode_prefix(ethp2p_rlp_item *out, size_t *used, const uint8_t *in, size_t in_len,
                             size_t base_offset, ethp2p_diag *diag) {
  int rc;
  if (out == NULL)
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, base_offset, "no output item");
  memset(out, 0, sizeof *out);
  if (used != NULL)
    *used = 0;
  if (in == NULL && in_len > 0)
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, base_offset, "no input buffer");
  if (in_len == 0)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, base_offset, "empty input is not an RLP item");
  rc = rlp_item_at(out, in, in_len, base_offset, diag);
  if (rc == 0)
    rc = rlp_check_tree(out, 1, diag);
  if (rc != 0) {
    memset(out, 0, sizeof *out);
    return rc;
  }
  if (used != NULL)
    *used = out->raw_len;
  return 0;
}

int ethp2p_rlp_decode(ethp2p_rlp_item *out, const uint8_t *in, size_t in_len, ethp2p_diag *diag) {
  size_t used = 0;
  int rc = ethp2p_rlp_decode_prefix(out, &used, in, in_len, 0, diag);
  if (rc != 0)
    return rc;
  if (used != in_len) {
    memset(out, 0, sizeof *out);
    return ethp2p_diag_set(diag, ETHP2P_ETRAILING, used,
                           "%zu trailing bytes after the top-level item", in_len - used);
  }
  return 0;
}

int ethp2p_rlp_iter_init(ethp2p_rlp_iter *it, const ethp2p_rlp_item *list) {
  if (list == NULL || !list->is_list) {
    it->pos = it->end = NULL;
    it->offset = list != NULL ? list->offset : 0;
    return ETHP2P_ETYPE;
  }
  it->pos = list->payload;
  it->end = list->payload + list->payload_len;
  it->offset = list->offset + (size_t)(list->payload - list->raw);
  return 0;
}

int ethp2p_rlp_iter_next(ethp2p_rlp_iter *it, ethp2p_rlp_item *out, ethp2p_diag *diag) {
  int rc;
  if (it->pos == it->end)
    return 0;
  rc = rlp_item_at(out, it->pos, (size_t)(it->end - it->pos), it->offset, diag);
  if (rc != 0) {
    /* Inside a list, running past the end of the list is a truncated element. */
    it->pos = it->end;
    return rc;
  }
  it->pos += out->raw_len;
  it->offset += out->raw_len;
  return 1;
}

int ethp2p_rlp_list_count(const ethp2p_rlp_item *list, ethp2p_diag *diag) {
  ethp2p_rlp_iter it;
  ethp2p_rlp_item child;
  int n = 0, rc;
  if (ethp2p_rlp_iter_init(&it, list) != 0)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, list != NULL ? list->offset : 0, "expected a list");
  while ((rc = ethp2p_rlp_iter_next(&it, &child, diag)) == 1)
    n++;
  return rc < 0 ? rc : n;
}

int ethp2p_rlp_uint64(uint64_t *out, const ethp2p_rlp_item *item, ethp2p_diag *diag) {
  uint64_t v = 0;
  size_t i;
  *out = 0;
  if (item->is_list)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, item->offset, "expected an integer, got a list");
  if (item->payload_len > 8)
    return ethp2p_diag_set(diag, ETHP2P_ERANGE, item->offset,
                           "integer of %zu bytes does not fit in 64 bits", item->payload_len);
  if (item->payload_len > 0 && item->payload[0] == 0)
    return ethp2p_diag_set(diag, ETHP2P_ENONCANON, item->offset,
                           "non-canonical integer: leading zero byte");
  for (i = 0; i < item->payload_len; i++)
    v = (v << 8) | item->payload[i];
  *out = v;
  return 0;
}

static size_t be_len(size_t v) {
  size_t n = 0;
  while (v != 0) {
    n++;
    v >>= 8;
  }
  return n;
}

size_t ethp2p_rlp_header_len(size_t payload_len) {
  return payload_len < 56 ? 1 : 1 + be_len(payload_len);
}

size_t ethp2p_rlp_bytes_len(const uint8_t *data, size_t len) {
  if (len == 1 && data[0] < 0x80)
    return 1;
  return ethp2p_rlp_header_len(len) + len;
}

size_t ethp2p_rlp_uint64_len(uint64_t v) {
  size_t n = 0;
  while (n < 8 && (v >> (8 * n)) != 0)
    n++;
  if (n == 1 && v < 0x80)
    return 1;
  return 1 + n;
}

size_t ethp2p_rlp_header_put(uint8_t *out, size_t payload_len, bool is_list) {
  uint8_t base = is_list ? 0xc0 : 0x80;
  size_t k, i;
  if (payload_len < 56) {
    out[0] = (uint8_t)(base + payload_len);
    return 1;
  }
  k = be_len(payload_len);
  out[0] = (uint8_t)(base + 55 + k);
  for (i = 0; i < k; i++)
    out[1 + i] = (uint8_t)(payload_len >> (8 * (k - 1 - i)));
  return 1 + k;
}

void ethp2p_rlp_enc_init(ethp2p_rlp_enc *e, uint8_t *buf, size_t cap) {
  memset(e, 0, sizeof *e);
  e->buf = buf;
  e->cap = buf != NULL ? cap : 0;
}

static int enc_fail(ethp2p_rlp_enc *e, int err) {
  if (e->err == 0)
    e->err = err;
  return e->err;
}

static int enc_put(ethp2p_rlp_enc *e, const void *p, size_t n) {
  if (e->err != 0)
    return e->err;
  if (n > e->cap - e->len)
    return enc_fail(e, ETHP2P_ESPACE);
  if (n > 0)
    memcpy(e->buf + e->len, p, n);
  e->len += n;
  return 0;
}

int ethp2p_rlp_enc_bytes(ethp2p_rlp_enc *e, const void *data, size_t len) {
  uint8_t hdr[ETHP2P_RLP_MAX_HEADER];
  const uint8_t *d = data;
  int rc;
  if (e->err != 0)
    return e->err;
  if (len == 1 && d[0] < 0x80)
    return enc_put(e, d, 1);
  if (ethp2p_rlp_header_len(len) + len > e->cap - e->len)
    return enc_fail(e, ETHP2P_ESPACE);
  rc = enc_put(e, hdr, ethp2p_rlp_header_put(hdr, len, false));
  return rc != 0 ? rc : enc_put(e, data, len);
}

int ethp2p_rlp_enc_uint64(ethp2p_rlp_enc *e, uint64_t v) {
  uint8_t be[8];
  size_t n = 0, i;
  while (n < 8 && (v >> (8 * n)) != 0)
    n++;
  for (i = 0; i < n; i++)
    be[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  return ethp2p_rlp_enc_bytes(e, be, n);
}

int ethp2p_rlp_enc_raw(ethp2p_rlp_enc *e, const void *raw, size_t len) {
  return enc_put(e, raw, len);
}

int ethp2p_rlp_enc_list_begin(ethp2p_rlp_enc *e) {
  if (e->err != 0)
    return e->err;
  if (e->depth >= ETHP2P_RLP_ENC_MAX_DEPTH)
    return enc_fail(e, ETHP2P_EDEPTH);
  e->open[e->depth++] = e->len;
  return 0;
}

int ethp2p_rlp_enc_list_end(ethp2p_rlp_enc *e) {
  size_t start, plen, h;
  uint8_t hdr[ETHP2P_RLP_MAX_HEADER];
  if (e->err != 0)
    return e->err;
  if (e->depth == 0)
    return enc_fail(e, ETHP2P_ESTATE);
  start = e->open[--e->depth];
  plen = e->len - start;
  h = ethp2p_rlp_header_put(hdr, plen, true);
  if (h > e->cap - e->len)
    return enc_fail(e, ETHP2P_ESPACE);
  if (plen > 0)
    memmove(e->buf + start + h, e->buf + start, plen);
  memcpy(e->buf + start, hdr, h);
  e->len += h;
  return 0;
}

int ethp2p_rlp_enc_finish(ethp2p_rlp_enc *e, size_t *len) {
  if (len != NULL)
    *len = 0;
  if (e->err != 0)
    return e->err;
  if (e->depth != 0)
    return enc_fail(e, ETHP2P_ESTATE);
  if (len != NULL)
    *len = e->len;
  return 0;
}

int ethp2p_rlp_reencode(ethp2p_rlp_enc *e, const ethp2p_rlp_item *item) {
  ethp2p_rlp_iter it;
  ethp2p_rlp_item child;
  int rc;
  if (!item->is_list)
    return ethp2p_rlp_enc_bytes(e, item->payload, item->payload_len);
  rc = ethp2p_rlp_enc_list_begin(e);
  if (rc != 0)
    return rc;
  ethp2p_rlp_iter_init(&it, item);
  while ((rc = ethp2p_rlp_iter_next(&it, &child, NULL)) == 1) {
    rc = ethp2p_rlp_reencode(e, &child);
    if (rc != 0)
      return rc;
  }
  if (rc < 0)
    return enc_fail(e, rc);
  return ethp2p_rlp_enc_list_end(e);
}

/* Text sink with a cap that keeps counting past it. */
typedef struct dump_out {
  char *buf;
  size_t cap; /* usable bytes, NUL excluded */
  size_t len; /* full length so far */
} dump_out;

static void dump_put(dump_out *o, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++, o->len++)
    if (o->len < o->cap)
      o->buf[o->len] = s[i];
}

static void dump_indent(dump_out *o, unsigned depth) {
  unsigned i;
  for (i = 0; i < depth; i++)
    dump_put(o, "  ", 2);
}

static bool dump_printable(const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (p[i] < 0x20 || p[i] > 0x7e)
      return false;
  return true;
}

static void dump_string(dump_out *o, const uint8_t *p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  char c[2];
  if (dump_printable(p, n)) {
    dump_put(o, "\"", 1);
    for (i = 0; i < n; i++) {
      if (p[i] == '"' || p[i] == '\\')
        dump_put(o, "\\", 1);
      c[0] = (char)p[i];
      dump_put(o, c, 1);
    }
    dump_put(o, "\"", 1);
    return;
  }
  for (i = 0; i < n; i++) {
    c[0] = hex[p[i] >> 4];
    c[1] = hex[p[i] & 15];
    dump_put(o, c, 2);
  }
}

static int dump_item(dump_out *o, const ethp2p_rlp_item *item, unsigned depth) {
  ethp2p_rlp_iter it;
  ethp2p_rlp_item child;
  int rc, n = 0;
  dump_indent(o, depth);
  if (!item->is_list) {
    dump_string(o, item->payload, item->payload_len);
    return 0;
  }
  if (item->payload_len == 0) {
    dump_put(o, "[]", 2);
    return 0;
  }
  if (depth >= ETHP2P_RLP_MAX_DEPTH)
    return ETHP2P_EDEPTH;
  dump_put(o, "[\n", 2);
  ethp2p_rlp_iter_init(&it, item);
  while ((rc = ethp2p_rlp_iter_next(&it, &child, NULL)) == 1) {
    if (n++ > 0)
      dump_put(o, ",\n", 2);
    rc = dump_item(o, &child, depth + 1);
    if (rc != 0)
      return rc;
  }
  if (rc < 0)
    return rc;
  dump_put(o, "\n", 1);
  dump_indent(o, depth);
  dump_put(o, "]", 1);
  return 0;
}

int ethp2p_rlp_dump(char *out, size_t cap, size_t *text_len, const ethp2p_rlp_item *item) {
  dump_out o;
  int rc;
  o.buf = out;
  o.cap = (out != NULL && cap > 0) ? cap - 1 : 0;
  o.len = 0;
  rc = dump_item(&o, item, 0);
  if (out != NULL && cap > 0)
    out[o.len < o.cap ? o.len : o.cap] = '\0';
  if (text_len != NULL)
    *text_len = o.len;
  if (rc != 0)
    return rc;
  return o.len > o.cap ? ETHP2P_ESPACE : 0;
}
