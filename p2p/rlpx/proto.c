/*
 * p2p/rlpx/proto.c — the devp2p base protocol messages (rlpx.md "P2P
 * Capability"), capability matching ("Message ID-based Multiplexing") and
 * snappy message compression (Hello version >= 5).
 */
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlp.h"
#include "ethp2p/rlpx.h"

const char *ethp2p_rlpx_reason_string(unsigned reason) {
  switch (reason) {
  case ETHP2P_RLPX_DISC_REQUESTED:
    return "disconnect requested";
  case ETHP2P_RLPX_DISC_TCP_ERROR:
    return "network error";
  case ETHP2P_RLPX_DISC_PROTOCOL_ERROR:
    return "breach of protocol";
  case ETHP2P_RLPX_DISC_USELESS_PEER:
    return "useless peer";
  case ETHP2P_RLPX_DISC_TOO_MANY_PEERS:
    return "too many peers";
  case ETHP2P_RLPX_DISC_ALREADY_CONNECTED:
    return "already connected";
  case ETHP2P_RLPX_DISC_INCOMPATIBLE_VERSION:
    return "incompatible p2p protocol version";
  case ETHP2P_RLPX_DISC_INVALID_IDENTITY:
    return "invalid node identity";
  case ETHP2P_RLPX_DISC_QUITTING:
    return "client quitting";
  case ETHP2P_RLPX_DISC_UNEXPECTED_IDENTITY:
    return "unexpected identity";
  case ETHP2P_RLPX_DISC_SELF:
    return "connected to self";
  case ETHP2P_RLPX_DISC_READ_TIMEOUT:
    return "read timeout";
  case ETHP2P_RLPX_DISC_SUBPROTOCOL:
    return "subprotocol error";
  default:
    return "unknown reason";
  }
}

int ethp2p_rlpx_hello_encode(uint8_t *out, size_t cap, size_t *len, const ethp2p_rlpx_hello *h) {
  ethp2p_rlp_enc e;
  size_t i;
  int rc;
  if (len != NULL)
    *len = 0;
  if (out == NULL || len == NULL || h == NULL || h->ncaps > ETHP2P_RLPX_MAX_CAPS)
    return ETHP2P_EINVAL;
  ethp2p_rlp_enc_init(&e, out, cap);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_uint64(&e, h->version);
  ethp2p_rlp_enc_bytes(&e, h->client_id, strnlen(h->client_id, ETHP2P_RLPX_CLIENT_ID_MAX));
  ethp2p_rlp_enc_list_begin(&e);
  for (i = 0; i < h->ncaps; i++) {
    ethp2p_rlp_enc_list_begin(&e);
    ethp2p_rlp_enc_bytes(&e, h->caps[i].name, strnlen(h->caps[i].name, ETHP2P_RLPX_CAP_NAME_MAX));
    ethp2p_rlp_enc_uint64(&e, h->caps[i].version);
    ethp2p_rlp_enc_list_end(&e);
  }
  ethp2p_rlp_enc_list_end(&e);
  ethp2p_rlp_enc_uint64(&e, h->listen_port);
  ethp2p_rlp_enc_bytes(&e, h->id, 64);
  ethp2p_rlp_enc_list_end(&e);
  rc = ethp2p_rlp_enc_finish(&e, len);
  if (rc != 0)
    *len = 0;
  return rc;
}

static int hello_fail(ethp2p_rlpx_hello *h, ethp2p_diag *diag, int code, size_t off,
                      const char *what) {
  memset(h, 0, sizeof *h);
  return ethp2p_diag_set(diag, code, off, "hello: %s", what);
}

/* A printable name: no NUL (it would end the C string early). */
static bool has_nul(const uint8_t *p, size_t n) {
  return memchr(p, 0, n) != NULL;
}

static int hello_caps(ethp2p_rlpx_hello *h, const ethp2p_rlp_item *list, ethp2p_diag *diag) {
  ethp2p_rlp_iter it;
  ethp2p_rlp_item c;
  int r;
  if (!list->is_list || ethp2p_rlp_iter_init(&it, list) != 0)
    return hello_fail(h, diag, ETHP2P_EPROTO, list->offset, "capabilities are not a list");
  while ((r = ethp2p_rlp_iter_next(&it, &c, NULL)) == 1) {
    ethp2p_rlp_iter ci;
    ethp2p_rlp_item name, ver;
    uint64_t v;
    if (h->ncaps == ETHP2P_RLPX_MAX_CAPS)
      return hello_fail(h, diag, ETHP2P_ETOOBIG, c.offset, "more than 32 capabilities");
    if (!c.is_list || ethp2p_rlp_iter_init(&ci, &c) != 0 ||
        ethp2p_rlp_iter_next(&ci, &name, NULL) != 1 || ethp2p_rlp_iter_next(&ci, &ver, NULL) != 1 ||
        name.is_list)
      return hello_fail(h, diag, ETHP2P_EPROTO, c.offset, "capability is not [name, version]");
    if (name.payload_len == 0 || name.payload_len > ETHP2P_RLPX_CAP_NAME_MAX ||
        has_nul(name.payload, name.payload_len))
      return hello_fail(h, diag, ETHP2P_EPROTO, name.offset, "bad capability name");
    if (ethp2p_rlp_uint64(&v, &ver, NULL) != 0 || v > UINT32_MAX)
      return hello_fail(h, diag, ETHP2P_EPROTO, ver.offset, "bad capability version");
    memcpy(h->caps[h->ncaps].name, name.payload, name.payload_len);
    h->caps[h->ncaps].name[name.payload_len] = '\0';
    h->caps[h->ncaps].version = (uint32_t)v;
    h->ncaps++;
  }
  if (r < 0)
    return hello_fail(h, diag, ETHP2P_EPROTO, list->offset, "bad capability list");
  return 0;
}

int ethp2p_rlpx_hello_decode(ethp2p_rlpx_hello *h, const uint8_t *in, size_t len,
                             ethp2p_diag *diag) {
  ethp2p_rlp_item top, ver, cid, caps, port, id;
  ethp2p_rlp_iter it;
  uint64_t v;
  int rc;
  if (h == NULL)
    return ETHP2P_EINVAL;
  memset(h, 0, sizeof *h);
  if (in == NULL && len)
    return ETHP2P_EINVAL;
  if (ethp2p_rlp_decode(&top, in, len, NULL) != 0 || !top.is_list)
    return hello_fail(h, diag, ETHP2P_EPROTO, 0, "not an RLP list");
  ethp2p_rlp_iter_init(&it, &top);
  if (ethp2p_rlp_iter_next(&it, &ver, NULL) != 1 || ethp2p_rlp_iter_next(&it, &cid, NULL) != 1 ||
      ethp2p_rlp_iter_next(&it, &caps, NULL) != 1 || ethp2p_rlp_iter_next(&it, &port, NULL) != 1 ||
      ethp2p_rlp_iter_next(&it, &id, NULL) != 1)
    return hello_fail(h, diag, ETHP2P_EPROTO, 0, "fewer than 5 elements");
  if (ethp2p_rlp_uint64(&h->version, &ver, NULL) != 0)
    return hello_fail(h, diag, ETHP2P_EPROTO, ver.offset, "bad protocol version");
  if (cid.is_list || has_nul(cid.payload, cid.payload_len))
    return hello_fail(h, diag, ETHP2P_EPROTO, cid.offset, "bad client id");
  if (cid.payload_len > ETHP2P_RLPX_CLIENT_ID_MAX)
    return hello_fail(h, diag, ETHP2P_ETOOBIG, cid.offset, "client id longer than 255 bytes");
  memcpy(h->client_id, cid.payload, cid.payload_len);
  h->client_id[cid.payload_len] = '\0';
  rc = hello_caps(h, &caps, diag);
  if (rc != 0)
    return rc;
  if (ethp2p_rlp_uint64(&v, &port, NULL) != 0 || v > UINT16_MAX)
    return hello_fail(h, diag, ETHP2P_EPROTO, port.offset, "bad listen port");
  h->listen_port = (uint16_t)v;
  if (id.is_list || id.payload_len != 64)
    return hello_fail(h, diag, ETHP2P_EPROTO, id.offset, "node id is not 64 bytes");
  memcpy(h->id, id.payload, 64);
  /* Further elements are ignored (EIP-8). */
  return 0;
}

int ethp2p_rlpx_disconnect_encode(uint8_t *out, size_t cap, size_t *len, unsigned reason) {
  ethp2p_rlp_enc e;
  int rc;
  if (len != NULL)
    *len = 0;
  if (out == NULL || len == NULL)
    return ETHP2P_EINVAL;
  ethp2p_rlp_enc_init(&e, out, cap);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_uint64(&e, reason);
  ethp2p_rlp_enc_list_end(&e);
  rc = ethp2p_rlp_enc_finish(&e, len);
  if (rc != 0)
    *len = 0;
  return rc;
}

int ethp2p_rlpx_disconnect_decode(unsigned *reason, const uint8_t *in, size_t len) {
  ethp2p_rlp_item top, first;
  uint64_t v = 0;
  if (reason == NULL)
    return ETHP2P_EINVAL;
  *reason = 0;
  if (len == 0)
    return 0;
  if (in == NULL || ethp2p_rlp_decode_prefix(&top, NULL, in, len, 0, NULL) != 0)
    return ETHP2P_EPROTO;
  if (top.is_list) {
    ethp2p_rlp_iter it;
    ethp2p_rlp_iter_init(&it, &top);
    if (ethp2p_rlp_iter_next(&it, &first, NULL) != 1)
      return 0; /* [] */
    top = first;
  }
  if (ethp2p_rlp_uint64(&v, &top, NULL) != 0 || v > 0xff)
    return ETHP2P_EPROTO;
  *reason = (unsigned)v;
  return 0;
}

int ethp2p_rlpx_match_caps(ethp2p_rlpx_shared *out, size_t cap, size_t *n,
                           const ethp2p_rlpx_proto_id *local, size_t nlocal,
                           const ethp2p_rlpx_cap *remote, size_t nremote) {
  size_t i, j, count = 0;
  uint32_t offset = ETHP2P_RLPX_BASE_LEN;
  if (n == NULL || (local == NULL && nlocal) || (remote == NULL && nremote))
    return ETHP2P_EINVAL;
  *n = 0;
  /* Pick, per name, the highest local version the remote also runs. */
  for (i = 0; i < nlocal; i++) {
    bool best = false;
    for (j = 0; j < nremote && !best; j++)
      best = strcmp(local[i].name, remote[j].name) == 0 && local[i].version == remote[j].version;
    for (j = 0; best && j < nlocal; j++)
      if (j != i && strcmp(local[j].name, local[i].name) == 0 &&
          local[j].version > local[i].version) {
        size_t k;
        for (k = 0; k < nremote; k++)
          if (strcmp(remote[k].name, local[j].name) == 0 && remote[k].version == local[j].version)
            best = false;
      }
    if (!best)
      continue;
    if (count == cap)
      return ETHP2P_ESPACE;
    out[count].local = i;
    out[count].length = local[i].length;
    count++;
  }
  /* Sort by name (insertion sort: a handful of entries). */
  for (i = 1; i < count; i++) {
    ethp2p_rlpx_shared t = out[i];
    for (j = i; j > 0 && strcmp(local[out[j - 1].local].name, local[t.local].name) > 0; j--)
      out[j] = out[j - 1];
    out[j] = t;
  }
  for (i = 0; i < count; i++) {
    out[i].offset = offset;
    offset += out[i].length;
  }
  *n = count;
  return 0;
}

size_t ethp2p_rlpx_snappy_max(size_t len) {
  return snappy_max_compressed_length(len);
}

int ethp2p_rlpx_snappy_compress(uint8_t *out, size_t cap, size_t *outlen, const uint8_t *in,
                                size_t len) {
  size_t n = cap;
  if (outlen == NULL || out == NULL || (in == NULL && len))
    return ETHP2P_EINVAL;
  *outlen = 0;
  if (cap < snappy_max_compressed_length(len))
    return ETHP2P_ESPACE;
  if (snappy_compress((const char *)(in != NULL ? in : (const uint8_t *)""), len, (char *)out,
                      &n) != SNAPPY_OK)
    return ETHP2P_EPROTO;
  *outlen = n;
  return 0;
}

int ethp2p_rlpx_snappy_uncompress(uint8_t **out, size_t *outlen, const uint8_t *in, size_t len,
                                  size_t max) {
  size_t n = 0;
  uint8_t *buf;
  if (out == NULL || outlen == NULL || (in == NULL && len))
    return ETHP2P_EINVAL;
  *out = NULL;
  *outlen = 0;
  if (len == 0 || snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK)
    return ETHP2P_EPROTO;
  if (n > max)
    return ETHP2P_ETOOBIG;
  buf = malloc(n > 0 ? n : 1);
  if (buf == NULL)
    return ETHP2P_ENOMEM;
  if (snappy_uncompress((const char *)in, len, (char *)buf, &n) != SNAPPY_OK) {
    free(buf);
    return ETHP2P_EPROTO;
  }
  *out = buf;
  *outlen = n;
  return 0;
}
