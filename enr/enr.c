/*
 * enr/enr.c — Ethereum Node Records, EIP-778, "v4" identity scheme.
 *
 *   record  = rlp([signature, seq, k1, v1, k2, v2, ...])   at most 300 bytes
 *   content = rlp([seq, k1, v1, k2, v2, ...])                what v4 signs
 *   v4 sig  = secp256k1 ECDSA r || s over keccak256(content)
 *   node ID = keccak256(uncompressed public key without 0x04)
 *
 * Storage: the raw encodings of k1 v1 k2 v2 ... are kept back to back in
 * rec->content (already sorted), with an index of offsets.  Encoding and hashing
 * are then a header, the signature, the seq and one copy of content; decoding
 * and verifying allocate nothing and hash once.
 */
#include "ethp2p/enr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "enr/ip6text.h"
#include "ethp2p/encoding.h"
#include "ethp2p/keccak.h"
#include "ethp2p/secp.h"

#define V4_SIG_LEN 64
/* A 64-byte signature is a long-form RLP string: 0xb8 0x40 + 64 bytes. */
#define V4_SIG_ITEM_LEN (2 + V4_SIG_LEN)

static const char *const port_keys[] = {"tcp", "udp", "tcp6", "udp6", "quic", "quic6"};

const char *ethp2p_enr_port_key(ethp2p_enr_port which) {
  if ((unsigned)which >= sizeof port_keys / sizeof port_keys[0])
    return NULL;
  return port_keys[which];
}

void ethp2p_enr_init(ethp2p_enr *rec) {
  memset(rec, 0, sizeof *rec);
}

/* Length of the header of the valid item starting with byte b whose bytes follow at p. */
static size_t item_header_len(uint8_t b) {
  if (b < 0x80)
    return 0;
  if (b <= 0xb7)
    return 1;
  if (b <= 0xbf)
    return 1 + (size_t)(b - 0xb7);
  if (b <= 0xf7)
    return 1;
  return 1 + (size_t)(b - 0xf7);
}

/* Full length of the valid item at p (its header is trusted: content is validated). */
static size_t item_raw_len(const uint8_t *p) {
  uint8_t b = p[0];
  size_t k, len = 0, i;
  if (b < 0x80)
    return 1;
  if (b <= 0xb7)
    return 1 + (size_t)(b - 0x80);
  if (b >= 0xc0 && b <= 0xf7)
    return 1 + (size_t)(b - 0xc0);
  k = item_header_len(b) - 1;
  for (i = 0; i < k; i++)
    len = (len << 8) | p[1 + i];
  return 1 + k + len;
}

static void item_view(ethp2p_rlp_item *out, const uint8_t *p, size_t raw_len, size_t off) {
  size_t h = item_header_len(p[0]);
  out->raw = p;
  out->raw_len = raw_len;
  out->payload = p + h;
  out->payload_len = raw_len - h;
  out->offset = off;
  out->is_list = p[0] >= 0xc0;
}

static void pair_key(const ethp2p_enr *rec, size_t i, const uint8_t **k, size_t *klen) {
  const ethp2p_enr_pair_ *pr = &rec->pairs[i];
  size_t h = item_header_len(rec->content[pr->key]);
  *k = rec->content + pr->key + h;
  *klen = (size_t)(pr->val - pr->key) - h;
}

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int c = n > 0 ? memcmp(a, b, n) : 0;
  if (c != 0)
    return c;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Finds key.  Returns true and *idx = its index, or false and *idx = insertion point. */
static bool pair_find(const ethp2p_enr *rec, const uint8_t *key, size_t key_len, size_t *idx) {
  size_t lo = 0, hi = rec->npairs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const uint8_t *k;
    size_t klen;
    int c;
    pair_key(rec, mid, &k, &klen);
    c = key_cmp(k, klen, key, key_len);
    if (c == 0) {
      *idx = mid;
      return true;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *idx = lo;
  return false;
}

/* Rebuilds the pair index from content (valid, sorted pairs). */
static void index_rebuild(ethp2p_enr *rec) {
  size_t pos = 0, n = 0;
  while (pos < rec->content_len && n < ETHP2P_ENR_MAX_PAIRS) {
    size_t kl = item_raw_len(rec->content + pos);
    size_t vl = item_raw_len(rec->content + pos + kl);
    rec->pairs[n].key = (uint16_t)pos;
    rec->pairs[n].val = (uint16_t)(pos + kl);
    rec->pairs[n].end = (uint16_t)(pos + kl + vl);
    pos += kl + vl;
    n++;
  }
  rec->npairs = (uint16_t)n;
}

/* Encoded size for a signature of sig_len bytes (its RLP string), seq and content_len. */
static size_t record_len(size_t sig_item_len, uint64_t seq, size_t content_len) {
  size_t payload = sig_item_len + ethp2p_rlp_uint64_len(seq) + content_len;
  return ethp2p_rlp_header_len(payload) + payload;
}

static size_t sig_item_len(const ethp2p_enr *rec) {
  if (!rec->has_sig)
    return V4_SIG_ITEM_LEN;
  return ethp2p_rlp_bytes_len(rec->sig, rec->sig_len);
}

size_t ethp2p_enr_encoded_len(const ethp2p_enr *rec) {
  return record_len(sig_item_len(rec), rec->seq, rec->content_len);
}

/* Human text for a key in messages: "tcp" or 0x-hex when not printable. */
static void key_text(char *buf, size_t cap, const uint8_t *k, size_t klen) {
  size_t i, o = 0;
  bool printable = klen > 0;
  for (i = 0; i < klen; i++)
    if (k[i] < 0x21 || k[i] > 0x7e || k[i] == '"')
      printable = false;
  if (printable) {
    snprintf(buf, cap, "\"%.*s\"", (int)(klen > 40 ? 40 : klen), (const char *)k);
    return;
  }
  o = (size_t)snprintf(buf, cap, "0x");
  for (i = 0; i < klen && o + 3 < cap && i < 20; i++)
    o += (size_t)snprintf(buf + o, cap - o, "%02x", k[i]);
}

int ethp2p_enr_decode(ethp2p_enr *rec, const uint8_t *in, size_t in_len, ethp2p_diag *diag) {
  ethp2p_rlp_item top, sig, seq, key, val;
  ethp2p_rlp_iter it;
  const uint8_t *prev = NULL, *content_start = NULL;
  size_t prev_len = 0, n = 0;
  char kt[64];
  int rc;

  ethp2p_enr_init(rec);
  if (in == NULL && in_len > 0)
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "no input");
  if (in_len > ETHP2P_ENR_MAX_SIZE)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, ETHP2P_ENR_MAX_SIZE,
                           "record is %zu bytes, larger than the maximum of %d", in_len,
                           ETHP2P_ENR_MAX_SIZE);
  rc = ethp2p_rlp_decode(&top, in, in_len, diag);
  if (rc != 0)
    return rc;
  if (!top.is_list)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, 0, "record is not an RLP list");
  ethp2p_rlp_iter_init(&it, &top);

  rc = ethp2p_rlp_iter_next(&it, &sig, diag);
  if (rc <= 0)
    return rc < 0 ? rc
                  : ethp2p_diag_set(diag, ETHP2P_ETYPE, it.offset,
                                    "record is an empty list: no signature");
  if (sig.is_list)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, sig.offset, "signature is a list, not a string");
  if (sig.payload_len > ETHP2P_ENR_SIG_MAX)
    return ethp2p_diag_set(diag, ETHP2P_ESIG, sig.offset, "signature is %zu bytes, longer than %d",
                           sig.payload_len, ETHP2P_ENR_SIG_MAX);

  rc = ethp2p_rlp_iter_next(&it, &seq, diag);
  if (rc <= 0)
    return rc < 0 ? rc
                  : ethp2p_diag_set(diag, ETHP2P_ETYPE, it.offset, "record has no sequence number");
  if (seq.is_list)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, seq.offset,
                           "sequence number is a list, not an integer");
  if (seq.payload_len > 8)
    return ethp2p_diag_set(diag, ETHP2P_ERANGE, seq.offset,
                           "sequence number of %zu bytes is larger than 2^64-1", seq.payload_len);
  if (seq.payload_len > 0 && seq.payload[0] == 0)
    return ethp2p_diag_set(diag, ETHP2P_ENONCANON, seq.offset,
                           "sequence number has a leading zero byte (non-canonical)");
  rc = ethp2p_rlp_uint64(&rec->seq, &seq, diag);
  if (rc != 0)
    return rc;

  while ((rc = ethp2p_rlp_iter_next(&it, &key, diag)) == 1) {
    if (content_start == NULL)
      content_start = key.raw;
    if (key.is_list)
      return ethp2p_diag_set(diag, ETHP2P_ETYPE, key.offset, "key %zu is a list, not a string", n);
    rc = ethp2p_rlp_iter_next(&it, &val, diag);
    if (rc < 0)
      goto fail;
    if (rc == 0) {
      key_text(kt, sizeof kt, key.payload, key.payload_len);
      rc = ethp2p_diag_set(diag, ETHP2P_ETYPE, it.offset,
                           "key %s has no value (odd number of list elements)", kt);
      goto fail;
    }
    if (prev != NULL) {
      int c = key_cmp(prev, prev_len, key.payload, key.payload_len);
      if (c >= 0)
        key_text(kt, sizeof kt, key.payload, key.payload_len);
      if (c == 0) {
        rc = ethp2p_diag_set(diag, ETHP2P_EORDER, key.offset, "duplicate key %s", kt);
        goto fail;
      }
      if (c > 0) {
        rc = ethp2p_diag_set(diag, ETHP2P_EORDER, key.offset, "key %s is not in ascending order",
                             kt);
        goto fail;
      }
    }
    if (n >= ETHP2P_ENR_MAX_PAIRS) {
      rc = ethp2p_diag_set(diag, ETHP2P_ETOOBIG, key.offset, "more than %d key/value pairs",
                           ETHP2P_ENR_MAX_PAIRS);
      goto fail;
    }
    rec->pairs[n].key = (uint16_t)(key.raw - content_start);
    rec->pairs[n].val = (uint16_t)(val.raw - content_start);
    rec->pairs[n].end = (uint16_t)(val.raw + val.raw_len - content_start);
    prev = key.payload;
    prev_len = key.payload_len;
    n++;
  }
  if (rc < 0)
    goto fail;

  rec->npairs = (uint16_t)n;
  if (content_start != NULL) {
    rec->content_len = (uint16_t)(top.payload + top.payload_len - content_start);
    memcpy(rec->content, content_start, rec->content_len);
  }
  memcpy(rec->sig, sig.payload, sig.payload_len);
  rec->sig_len = (uint8_t)sig.payload_len;
  rec->has_sig = true;
  return 0;

fail:
  ethp2p_enr_init(rec);
  return rc;
}

/* Absorbs rlp([seq, k1, v1, ...]) into a fresh hash. */
void ethp2p_enr_signing_hash(uint8_t hash[32], const ethp2p_enr *rec) {
  ethp2p_keccak256_ctx kc;
  uint8_t head[ETHP2P_RLP_MAX_HEADER + 9];
  size_t seq_len = ethp2p_rlp_uint64_len(rec->seq);
  size_t h = ethp2p_rlp_header_put(head, seq_len + rec->content_len, true);
  ethp2p_rlp_enc e;
  size_t n = 0;
  ethp2p_rlp_enc_init(&e, head + h, sizeof head - h);
  ethp2p_rlp_enc_uint64(&e, rec->seq);
  ethp2p_rlp_enc_finish(&e, &n);
  ethp2p_keccak256_init(&kc);
  ethp2p_keccak256_update(&kc, head, h + n);
  ethp2p_keccak256_update(&kc, rec->content, rec->content_len);
  ethp2p_keccak256_final(&kc, hash);
}

int ethp2p_enr_verify(const ethp2p_enr *rec, ethp2p_diag *diag) {
  ethp2p_rlp_item id, pk;
  uint8_t hash[32];
  int rc;
  if (!rec->has_sig)
    return ethp2p_diag_set(diag, ETHP2P_ESTATE, 0, "record is not signed");
  if (ethp2p_enr_raw_get(rec, "id", 2, &id) != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESCHEME, 0, "record has no \"id\" (identity scheme)");
  if (id.is_list || id.payload_len != 2 || memcmp(id.payload, "v4", 2) != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESCHEME, 0, "unknown identity scheme (id is not \"v4\")");
  if (ethp2p_enr_raw_get(rec, "secp256k1", 9, &pk) != 0)
    return ethp2p_diag_set(diag, ETHP2P_EKEY, 0, "v4 record has no \"secp256k1\" public key");
  if (pk.is_list || pk.payload_len != 33)
    return ethp2p_diag_set(diag, ETHP2P_EKEY, 0,
                           "\"secp256k1\" must be a 33-byte compressed public key, got %s%zu "
                           "bytes",
                           pk.is_list ? "a list of " : "", pk.payload_len);
  if (rec->sig_len != V4_SIG_LEN)
    return ethp2p_diag_set(diag, ETHP2P_ESIG, 0, "v4 signature must be 64 bytes, got %u",
                           (unsigned)rec->sig_len);
  ethp2p_enr_signing_hash(hash, rec);
  rc = ethp2p_secp_verify(rec->sig, hash, pk.payload);
  if (rc == ETHP2P_EKEY)
    return ethp2p_diag_set(diag, rc, 0, "\"secp256k1\" is not a valid public key");
  if (rc != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESIG, 0, "signature does not verify");
  return 0;
}

int ethp2p_enr_decode_verify(ethp2p_enr *rec, const uint8_t *in, size_t in_len, ethp2p_diag *diag) {
  int rc = ethp2p_enr_decode(rec, in, in_len, diag);
  if (rc == 0)
    rc = ethp2p_enr_verify(rec, diag);
  if (rc != 0)
    ethp2p_enr_init(rec);
  return rc;
}

int ethp2p_enr_encode(uint8_t *out, size_t cap, size_t *out_len, const ethp2p_enr *rec) {
  ethp2p_rlp_enc e;
  size_t total, n = 0;
  int rc;
  if (out_len != NULL)
    *out_len = 0;
  if (!rec->has_sig)
    return ETHP2P_ESTATE;
  total = ethp2p_enr_encoded_len(rec);
  if (total > ETHP2P_ENR_MAX_SIZE)
    return ETHP2P_ETOOBIG;
  if (out == NULL || cap < total)
    return ETHP2P_ESPACE;
  ethp2p_rlp_enc_init(&e, out, cap);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_bytes(&e, rec->sig, rec->sig_len);
  ethp2p_rlp_enc_uint64(&e, rec->seq);
  ethp2p_rlp_enc_raw(&e, rec->content, rec->content_len);
  ethp2p_rlp_enc_list_end(&e);
  rc = ethp2p_rlp_enc_finish(&e, &n);
  if (rc != 0)
    return rc;
  if (out_len != NULL)
    *out_len = n;
  return 0;
}

bool ethp2p_enr_is_signed(const ethp2p_enr *rec) {
  return rec->has_sig;
}

const uint8_t *ethp2p_enr_signature(const ethp2p_enr *rec, size_t *len) {
  if (!rec->has_sig) {
    if (len != NULL)
      *len = 0;
    return NULL;
  }
  if (len != NULL)
    *len = rec->sig_len;
  return rec->sig;
}

uint64_t ethp2p_enr_seq(const ethp2p_enr *rec) {
  return rec->seq;
}

int ethp2p_enr_seq_set(ethp2p_enr *rec, uint64_t seq) {
  /* A longer seq makes the whole record longer: keep the 300-byte promise. */
  if (record_len(V4_SIG_ITEM_LEN, seq, rec->content_len) > ETHP2P_ENR_MAX_SIZE)
    return ETHP2P_ETOOBIG;
  rec->seq = seq;
  rec->has_sig = false;
  rec->sig_len = 0;
  memset(rec->sig, 0, sizeof rec->sig);
  return 0;
}

/*
 * The one place a record changes: puts (raw != NULL) or deletes (raw == NULL) a
 * pair, applying the signature/seq rules and the size limit documented in enr.h.
 */
static int rec_put(ethp2p_enr *rec, const uint8_t *key, size_t key_len, const uint8_t *raw,
                   size_t raw_len) {
  uint8_t tmp[ETHP2P_ENR_MAX_SIZE];
  uint8_t khdr[ETHP2P_RLP_MAX_HEADER];
  size_t idx, start, stop, klen, new_len, kh = 0, o = 0;
  uint64_t seq = rec->seq;
  bool found = pair_find(rec, key, key_len, &idx);

  if (found && raw != NULL) {
    const ethp2p_enr_pair_ *pr = &rec->pairs[idx];
    if ((size_t)(pr->end - pr->val) == raw_len && memcmp(rec->content + pr->val, raw, raw_len) == 0)
      return 0; /* byte-identical: no change */
  }
  if (!found && raw == NULL)
    return ETHP2P_ENOTFOUND;
  if (!found && rec->npairs >= ETHP2P_ENR_MAX_PAIRS)
    return ETHP2P_ETOOBIG;
  if (rec->has_sig) {
    if (seq == UINT64_MAX)
      return ETHP2P_ERANGE;
    seq++;
  }
  start =
      found ? rec->pairs[idx].key : (idx < rec->npairs ? rec->pairs[idx].key : rec->content_len);
  stop = found ? rec->pairs[idx].end : start;
  klen = raw != NULL ? ethp2p_rlp_bytes_len(key, key_len) : 0;
  if (raw != NULL && klen + raw_len > ETHP2P_ENR_MAX_SIZE)
    return ETHP2P_ETOOBIG;
  new_len = rec->content_len - (stop - start) + (raw != NULL ? klen + raw_len : 0);
  if (new_len > ETHP2P_ENR_MAX_SIZE ||
      record_len(V4_SIG_ITEM_LEN, seq, new_len) > ETHP2P_ENR_MAX_SIZE)
    return ETHP2P_ETOOBIG;

  memcpy(tmp, rec->content, start);
  o = start;
  if (raw != NULL) {
    if (key_len == 1 && key[0] < 0x80) {
      tmp[o++] = key[0];
    } else {
      kh = ethp2p_rlp_header_put(khdr, key_len, false);
      memcpy(tmp + o, khdr, kh);
      o += kh;
      if (key_len > 0)
        memcpy(tmp + o, key, key_len);
      o += key_len;
    }
    memcpy(tmp + o, raw, raw_len);
    o += raw_len;
  }
  memcpy(tmp + o, rec->content + stop, rec->content_len - stop);
  o += rec->content_len - stop;

  memcpy(rec->content, tmp, o);
  rec->content_len = (uint16_t)o;
  index_rebuild(rec);
  rec->seq = seq;
  rec->has_sig = false;
  rec->sig_len = 0;
  memset(rec->sig, 0, sizeof rec->sig);
  return 0;
}

int ethp2p_enr_raw_set(ethp2p_enr *rec, const void *key, size_t key_len, const uint8_t *raw,
                       size_t raw_len) {
  ethp2p_rlp_item item;
  int rc;
  if ((key == NULL && key_len > 0) || raw == NULL)
    return ETHP2P_EINVAL;
  if (raw_len > ETHP2P_ENR_MAX_SIZE)
    return ETHP2P_ETOOBIG;
  rc = ethp2p_rlp_decode(&item, raw, raw_len, NULL);
  if (rc != 0)
    return rc;
  return rec_put(rec, key, key_len, raw, raw_len);
}

int ethp2p_enr_bytes_set(ethp2p_enr *rec, const void *key, size_t key_len, const void *data,
                         size_t len) {
  uint8_t buf[ETHP2P_ENR_MAX_SIZE];
  ethp2p_rlp_enc e;
  size_t n = 0;
  if ((key == NULL && key_len > 0) || (data == NULL && len > 0))
    return ETHP2P_EINVAL;
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ethp2p_rlp_enc_bytes(&e, data, len);
  if (ethp2p_rlp_enc_finish(&e, &n) != 0)
    return ETHP2P_ETOOBIG;
  return rec_put(rec, key, key_len, buf, n);
}

int ethp2p_enr_uint_set(ethp2p_enr *rec, const void *key, size_t key_len, uint64_t v) {
  uint8_t buf[9];
  ethp2p_rlp_enc e;
  size_t n = 0;
  if (key == NULL && key_len > 0)
    return ETHP2P_EINVAL;
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ethp2p_rlp_enc_uint64(&e, v);
  ethp2p_rlp_enc_finish(&e, &n);
  return rec_put(rec, key, key_len, buf, n);
}

int ethp2p_enr_del(ethp2p_enr *rec, const void *key, size_t key_len) {
  if (key == NULL && key_len > 0)
    return ETHP2P_EINVAL;
  return rec_put(rec, key, key_len, NULL, 0);
}

int ethp2p_enr_raw_get(const ethp2p_enr *rec, const void *key, size_t key_len,
                       ethp2p_rlp_item *value) {
  size_t idx;
  const ethp2p_enr_pair_ *pr;
  memset(value, 0, sizeof *value);
  if (key == NULL && key_len > 0)
    return ETHP2P_EINVAL;
  if (!pair_find(rec, key, key_len, &idx))
    return ETHP2P_ENOTFOUND;
  pr = &rec->pairs[idx];
  item_view(value, rec->content + pr->val, (size_t)(pr->end - pr->val), pr->val);
  return 0;
}

int ethp2p_enr_uint_get(const ethp2p_enr *rec, const void *key, size_t key_len, uint64_t *v) {
  ethp2p_rlp_item it;
  int rc = ethp2p_enr_raw_get(rec, key, key_len, &it);
  *v = 0;
  if (rc != 0)
    return rc;
  return ethp2p_rlp_uint64(v, &it, NULL) == 0 ? 0 : ETHP2P_ETYPE;
}

size_t ethp2p_enr_pair_count(const ethp2p_enr *rec) {
  return rec->npairs;
}

int ethp2p_enr_pair_at(const ethp2p_enr *rec, size_t i, ethp2p_rlp_item *key,
                       ethp2p_rlp_item *value) {
  const ethp2p_enr_pair_ *pr;
  if (i >= rec->npairs) {
    if (key != NULL)
      memset(key, 0, sizeof *key);
    if (value != NULL)
      memset(value, 0, sizeof *value);
    return ETHP2P_ERANGE;
  }
  pr = &rec->pairs[i];
  if (key != NULL)
    item_view(key, rec->content + pr->key, (size_t)(pr->val - pr->key), pr->key);
  if (value != NULL)
    item_view(value, rec->content + pr->val, (size_t)(pr->end - pr->val), pr->val);
  return 0;
}

/* ---- value shapes (the malformed-value policy of enr.h) ---- */

typedef enum shape { SHAPE_ANY, SHAPE_STRING, SHAPE_FIXED, SHAPE_PORT } shape;

static shape key_shape(const uint8_t *k, size_t klen, size_t *fixed) {
  size_t i;
  *fixed = 0;
  if (klen == 2 && memcmp(k, "id", 2) == 0)
    return SHAPE_STRING;
  if (klen == 2 && memcmp(k, "ip", 2) == 0) {
    *fixed = 4;
    return SHAPE_FIXED;
  }
  if (klen == 3 && memcmp(k, "ip6", 3) == 0) {
    *fixed = 16;
    return SHAPE_FIXED;
  }
  if (klen == 9 && memcmp(k, "secp256k1", 9) == 0) {
    *fixed = 33;
    return SHAPE_FIXED;
  }
  for (i = 0; i < sizeof port_keys / sizeof port_keys[0]; i++)
    if (klen == strlen(port_keys[i]) && memcmp(k, port_keys[i], klen) == 0)
      return SHAPE_PORT;
  return SHAPE_ANY;
}

int ethp2p_enr_value_check(const void *key, size_t key_len, const ethp2p_rlp_item *value,
                           ethp2p_diag *diag) {
  char kt[64];
  size_t fixed;
  shape s = key_shape(key, key_len, &fixed);
  if (s == SHAPE_ANY)
    return 0;
  key_text(kt, sizeof kt, key, key_len);
  if (value->is_list)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, value->offset, "%s must be a string, got a list",
                           kt);
  switch (s) {
  case SHAPE_FIXED:
    if (value->payload_len != fixed)
      return ethp2p_diag_set(diag, ETHP2P_ETYPE, value->offset, "%s must be %zu bytes, got %zu", kt,
                             fixed, value->payload_len);
    return 0;
  case SHAPE_PORT:
    if (value->payload_len > 2)
      return ethp2p_diag_set(diag, ETHP2P_ETYPE, value->offset,
                             "%s must be an integer below 65536, got %zu bytes", kt,
                             value->payload_len);
    if (value->payload_len > 0 && value->payload[0] == 0)
      return ethp2p_diag_set(diag, ETHP2P_ETYPE, value->offset,
                             "%s has a leading zero byte (non-canonical integer)", kt);
    return 0;
  default:
    return 0;
  }
}

/* Looks up a known key and checks its shape. */
static int typed_get(const ethp2p_enr *rec, const char *key, ethp2p_rlp_item *v) {
  int rc = ethp2p_enr_raw_get(rec, key, strlen(key), v);
  if (rc != 0)
    return rc;
  return ethp2p_enr_value_check(key, strlen(key), v, NULL);
}

int ethp2p_enr_id_get(const ethp2p_enr *rec, char *out, size_t cap) {
  ethp2p_rlp_item v;
  int rc;
  if (out == NULL || cap == 0)
    return ETHP2P_EINVAL;
  out[0] = '\0';
  rc = typed_get(rec, "id", &v);
  if (rc != 0)
    return rc;
  if (v.payload_len + 1 > cap)
    return ETHP2P_ESPACE;
  memcpy(out, v.payload, v.payload_len);
  out[v.payload_len] = '\0';
  return 0;
}

static int fixed_get(const ethp2p_enr *rec, const char *key, uint8_t *out, size_t n) {
  ethp2p_rlp_item v;
  int rc = typed_get(rec, key, &v);
  if (rc != 0) {
    memset(out, 0, n);
    return rc;
  }
  memcpy(out, v.payload, n);
  return 0;
}

int ethp2p_enr_secp256k1_get(const ethp2p_enr *rec, uint8_t pub33[33]) {
  return fixed_get(rec, "secp256k1", pub33, 33);
}

int ethp2p_enr_ip_get(const ethp2p_enr *rec, uint8_t ip[4]) {
  return fixed_get(rec, "ip", ip, 4);
}

int ethp2p_enr_ip6_get(const ethp2p_enr *rec, uint8_t ip6[16]) {
  return fixed_get(rec, "ip6", ip6, 16);
}

int ethp2p_enr_port_get(const ethp2p_enr *rec, ethp2p_enr_port which, uint16_t *port) {
  const char *k = ethp2p_enr_port_key(which);
  ethp2p_rlp_item v;
  size_t i;
  int rc;
  *port = 0;
  if (k == NULL)
    return ETHP2P_EINVAL;
  rc = typed_get(rec, k, &v);
  if (rc != 0)
    return rc;
  for (i = 0; i < v.payload_len; i++)
    *port = (uint16_t)(*port << 8 | v.payload[i]);
  return 0;
}

int ethp2p_enr_id_set(ethp2p_enr *rec, const char *id) {
  if (id == NULL)
    return ETHP2P_EINVAL;
  return ethp2p_enr_bytes_set(rec, "id", 2, id, strlen(id));
}

int ethp2p_enr_secp256k1_set(ethp2p_enr *rec, const uint8_t pub33[33]) {
  if (pub33 == NULL)
    return ETHP2P_EINVAL;
  return ethp2p_enr_bytes_set(rec, "secp256k1", 9, pub33, 33);
}

int ethp2p_enr_ip_set(ethp2p_enr *rec, const uint8_t ip[4]) {
  if (ip == NULL)
    return ETHP2P_EINVAL;
  return ethp2p_enr_bytes_set(rec, "ip", 2, ip, 4);
}

int ethp2p_enr_ip6_set(ethp2p_enr *rec, const uint8_t ip6[16]) {
  if (ip6 == NULL)
    return ETHP2P_EINVAL;
  return ethp2p_enr_bytes_set(rec, "ip6", 3, ip6, 16);
}

int ethp2p_enr_port_set(ethp2p_enr *rec, ethp2p_enr_port which, uint16_t port) {
  const char *k = ethp2p_enr_port_key(which);
  if (k == NULL)
    return ETHP2P_EINVAL;
  return ethp2p_enr_uint_set(rec, k, strlen(k), port);
}

int ethp2p_enr_pubkey64(uint8_t pub64[64], const ethp2p_enr *rec) {
  uint8_t pub33[33];
  int rc = ethp2p_enr_secp256k1_get(rec, pub33);
  if (rc != 0) {
    memset(pub64, 0, 64);
    return rc;
  }
  return ethp2p_secp_pub33_to_pub64(pub64, pub33);
}

int ethp2p_enr_node_id(uint8_t id[32], const ethp2p_enr *rec) {
  uint8_t pub64[64];
  int rc = ethp2p_enr_pubkey64(pub64, rec);
  if (rc != 0) {
    memset(id, 0, 32);
    return rc;
  }
  ethp2p_secp_node_id(id, pub64);
  return 0;
}

int ethp2p_enr_sign(ethp2p_enr *rec, const uint8_t secret[32]) {
  ethp2p_enr saved = *rec;
  uint8_t pub33[33], hash[32];
  int rc = ethp2p_secp_pubkey(pub33, NULL, secret);
  if (rc != 0)
    return rc;
  rc = ethp2p_enr_id_set(rec, "v4");
  if (rc == 0)
    rc = ethp2p_enr_secp256k1_set(rec, pub33);
  if (rc != 0) {
    *rec = saved;
    return rc;
  }
  /* A record that was signed and did not change keeps seq; re-signing gives the same bytes. */
  ethp2p_enr_signing_hash(hash, rec);
  rc = ethp2p_secp_sign(rec->sig, hash, secret);
  if (rc != 0) {
    *rec = saved;
    return rc;
  }
  rec->sig_len = V4_SIG_LEN;
  rec->has_sig = true;
  return 0;
}

int ethp2p_enr_text_encode(char *out, size_t cap, size_t *out_len, const ethp2p_enr *rec) {
  uint8_t bin[ETHP2P_ENR_MAX_SIZE];
  size_t n = 0, m = 0;
  int rc;
  if (out_len != NULL)
    *out_len = 0;
  rc = ethp2p_enr_encode(bin, sizeof bin, &n, rec);
  if (rc != 0)
    return rc;
  if (out == NULL || cap < 4 + ETHP2P_BASE64URL_LEN(n) + 1)
    return ETHP2P_ESPACE;
  memcpy(out, "enr:", 4);
  rc = ethp2p_base64url_encode(out + 4, cap - 4, &m, bin, n);
  if (rc != 0)
    return rc;
  if (out_len != NULL)
    *out_len = 4 + m;
  return 0;
}

int ethp2p_enr_text_decode(ethp2p_enr *rec, const char *text, size_t text_len, ethp2p_diag *diag) {
  uint8_t bin[ETHP2P_ENR_MAX_SIZE];
  size_t n = 0;
  int rc;
  ethp2p_enr_init(rec);
  if (text == NULL || text_len < 4 || memcmp(text, "enr:", 4) != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "record text must start with \"enr:\"");
  if (text_len - 4 > ETHP2P_BASE64URL_LEN(ETHP2P_ENR_MAX_SIZE))
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 4 + ETHP2P_BASE64URL_LEN(ETHP2P_ENR_MAX_SIZE),
                           "record text is longer than %d bytes can be", ETHP2P_ENR_MAX_SIZE);
  rc = ethp2p_base64url_decode(bin, sizeof bin, &n, text + 4, text_len - 4, diag);
  if (rc != 0) {
    if (diag != NULL)
      diag->offset += 4;
    return rc == ETHP2P_ESPACE ? ETHP2P_ETOOBIG : rc;
  }
  rc = ethp2p_enr_decode(rec, bin, n, diag);
  if (rc != 0 && diag != NULL) {
    char msg[sizeof diag->msg];
    memcpy(msg, diag->msg, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    snprintf(diag->msg, sizeof diag->msg, "%.130s (byte %zu of the decoded record)", msg,
             diag->offset);
  }
  return rc;
}

/* ---- dumps ---- */

typedef struct fmt_out {
  char *buf;
  size_t cap; /* usable, NUL excluded */
  size_t len;
} fmt_out;

static void fmt_put(fmt_out *o, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++, o->len++)
    if (o->len < o->cap)
      o->buf[o->len] = s[i];
}

static void fmt_str(fmt_out *o, const char *s) {
  fmt_put(o, s, strlen(s));
}

static void fmt_hex(fmt_out *o, const uint8_t *p, size_t n) {
  static const char h[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    char c[2] = {h[p[i] >> 4], h[p[i] & 15]};
    fmt_put(o, c, 2);
  }
}

int ethp2p_enr_value_format(char *out, size_t cap, size_t *out_len, const void *key, size_t key_len,
                            const ethp2p_rlp_item *value) {
  ethp2p_diag d;
  fmt_out o = {out, (out != NULL && cap > 0) ? cap - 1 : 0, 0};
  size_t fixed;
  char tmp[64];
  shape s = key_shape(key, key_len, &fixed);
  if (ethp2p_enr_value_check(key, key_len, value, &d) != 0) {
    fmt_hex(&o, value->raw, value->raw_len);
    fmt_str(&o, " (malformed: ");
    fmt_str(&o, d.msg);
    fmt_str(&o, ")");
  } else if (s == SHAPE_FIXED && fixed == 4 &&
             inet_ntop(AF_INET, value->payload, tmp, sizeof tmp)) {
    fmt_str(&o, tmp);
  } else if (s == SHAPE_FIXED && fixed == 16) {
    ethp2p_ip6text_format(tmp, value->payload);
    fmt_str(&o, tmp);
  } else if (s == SHAPE_PORT) {
    unsigned port = 0;
    size_t i;
    for (i = 0; i < value->payload_len; i++)
      port = port << 8 | value->payload[i];
    snprintf(tmp, sizeof tmp, "%u", port);
    fmt_str(&o, tmp);
  } else if (s == SHAPE_STRING) {
    size_t i;
    fmt_put(&o, "\"", 1);
    for (i = 0; i < value->payload_len; i++) {
      uint8_t c = value->payload[i];
      if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
        fmt_put(&o, (const char *)&c, 1);
      } else {
        snprintf(tmp, sizeof tmp, "\\x%02x", c);
        fmt_str(&o, tmp);
      }
    }
    fmt_put(&o, "\"", 1);
  } else if (s == SHAPE_FIXED) {
    fmt_hex(&o, value->payload, value->payload_len);
  } else {
    fmt_hex(&o, value->raw, value->raw_len);
  }
  if (out != NULL && cap > 0)
    out[o.len < o.cap ? o.len : o.cap] = '\0';
  if (out_len != NULL)
    *out_len = o.len;
  return o.len > o.cap ? ETHP2P_ESPACE : 0;
}
