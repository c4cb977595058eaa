/*
 * p2p/rlpx/frame.c — RLPx frames (rlpx.md "Framing"): AES-256-CTR over
 * header and body, and the egress/ingress keccak MACs updated with AES-256
 * single-block encryptions of their own digests under the mac-secret.
 */
#include <stdlib.h>
#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

struct ethp2p_rlpx_frame {
  ethp2p_aes_ctr *enc;   /* egress keystream */
  ethp2p_aes_ctr *dec;   /* ingress keystream */
  ethp2p_aes_block *mac; /* AES-256 keyed with the mac-secret */
  ethp2p_keccak256_ctx egress, ingress;
  size_t body_len; /* frame-size announced by the last header opened */
  bool header_open;
};

int ethp2p_rlpx_frame_create(ethp2p_rlpx_frame **out, const ethp2p_rlpx_secrets *s) {
  static const uint8_t zero_iv[16];
  ethp2p_rlpx_frame *f;
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (s == NULL)
    return ETHP2P_EINVAL;
  f = calloc(1, sizeof *f);
  if (f == NULL)
    return ETHP2P_ENOMEM;
  rc = ethp2p_aes_ctr_new(&f->enc, s->aes, 32, zero_iv);
  if (rc == 0)
    rc = ethp2p_aes_ctr_new(&f->dec, s->aes, 32, zero_iv);
  if (rc == 0)
    rc = ethp2p_aes_block_new(&f->mac, s->mac, 32);
  if (rc != 0) {
    ethp2p_rlpx_frame_destroy(f);
    return rc;
  }
  f->egress = s->egress;
  f->ingress = s->ingress;
  *out = f;
  return 0;
}

void ethp2p_rlpx_frame_destroy(ethp2p_rlpx_frame *f) {
  if (f == NULL)
    return;
  ethp2p_aes_ctr_free(f->enc);
  ethp2p_aes_ctr_free(f->dec);
  ethp2p_aes_block_free(f->mac);
  ethp2p_secp_wipe(f, sizeof *f);
  free(f);
}

static size_t pad16(size_t n) {
  return (n + 15) & ~(size_t)15;
}

size_t ethp2p_rlpx_frame_len(size_t body_len) {
  return ETHP2P_RLPX_FRAME_HEADER + pad16(body_len) + 16;
}

/* The first 16 bytes of the running digest (the state is copied, not finalized). */
static void peek16(const ethp2p_keccak256_ctx *k, uint8_t out[16]) {
  ethp2p_keccak256_ctx c = *k;
  uint8_t d[32];
  ethp2p_keccak256_final(&c, d);
  memcpy(out, d, 16);
}

/* mac.update(AES(mac-secret, cur) ^ seed) where cur = mac.digest[:16] (read from
 * the state when NULL); out = the new digest[:16]. */
static int mac_update(ethp2p_aes_block *aes, ethp2p_keccak256_ctx *k, const uint8_t *cur,
                      const uint8_t seed[16], uint8_t out[16]) {
  uint8_t d[16], e[16];
  size_t i;
  int rc;
  if (cur == NULL) {
    peek16(k, d);
    cur = d;
  }
  rc = ethp2p_aes_block_encrypt(aes, e, cur);
  if (rc != 0)
    return rc;
  for (i = 0; i < 16; i++)
    e[i] ^= seed[i];
  ethp2p_keccak256_update(k, e, 16);
  peek16(k, out);
  return 0;
}

/* header-mac over a header ciphertext. */
static int header_mac(ethp2p_aes_block *aes, ethp2p_keccak256_ctx *k, const uint8_t hct[16],
                      uint8_t out[16]) {
  return mac_update(aes, k, NULL, hct, out);
}

/* frame-mac: update with the ciphertext, then seed with the digest itself
 * (the digest is both the AES input and the seed: read it once). */
static int body_mac(ethp2p_aes_block *aes, ethp2p_keccak256_ctx *k, const uint8_t *ct, size_t len,
                    uint8_t out[16]) {
  uint8_t d[16];
  ethp2p_keccak256_update(k, ct, len);
  peek16(k, d);
  return mac_update(aes, k, d, d, out);
}

int ethp2p_rlpx_frame_seal(ethp2p_rlpx_frame *f, uint8_t *out, size_t cap, size_t *len,
                           const uint8_t *body, size_t body_len) {
  uint8_t header[16] = {0};
  size_t padded = pad16(body_len);
  int rc;
  if (len != NULL)
    *len = 0;
  if (f == NULL || out == NULL || len == NULL || (body == NULL && body_len))
    return ETHP2P_EINVAL;
  if (body_len > ETHP2P_RLPX_FRAME_MAX)
    return ETHP2P_ETOOBIG;
  if (cap < ethp2p_rlpx_frame_len(body_len))
    return ETHP2P_ESPACE;
  header[0] = (uint8_t)(body_len >> 16);
  header[1] = (uint8_t)(body_len >> 8);
  header[2] = (uint8_t)body_len;
  header[3] = 0xc2; /* header-data = rlp([capability-id 0, context-id 0]) */
  header[4] = 0x80;
  header[5] = 0x80;
  rc = ethp2p_aes_ctr_xor(f->enc, out, header, 16);
  if (rc == 0)
    rc = header_mac(f->mac, &f->egress, out, out + 16);
  if (rc == 0) {
    if (body_len > 0)
      memmove(out + 32, body, body_len);
    memset(out + 32 + body_len, 0, padded - body_len);
    rc = ethp2p_aes_ctr_xor(f->enc, out + 32, out + 32, padded);
  }
  if (rc == 0)
    rc = body_mac(f->mac, &f->egress, out + 32, padded, out + 32 + padded);
  if (rc != 0)
    return rc;
  *len = 32 + padded + 16;
  return 0;
}

int ethp2p_rlpx_frame_open_header(ethp2p_rlpx_frame *f, const uint8_t in[32], size_t max_body,
                                  size_t *body_len, size_t *need) {
  uint8_t mac[16], header[16];
  size_t n;
  int rc;
  if (body_len != NULL)
    *body_len = 0;
  if (need != NULL)
    *need = 0;
  if (f == NULL || in == NULL || body_len == NULL || need == NULL)
    return ETHP2P_EINVAL;
  if (f->header_open)
    return ETHP2P_ESTATE;
  rc = header_mac(f->mac, &f->ingress, in, mac);
  if (rc != 0)
    return rc;
  if (!ethp2p_ct_equal(mac, in + 16, 16))
    return ETHP2P_ESIG;
  rc = ethp2p_aes_ctr_xor(f->dec, header, in, 16);
  if (rc != 0)
    return rc;
  /* header-data (capability-id, context-id) is not used by RLPx v4 peers and ignored. */
  n = (size_t)header[0] << 16 | (size_t)header[1] << 8 | header[2];
  if (n > max_body)
    return ETHP2P_ETOOBIG;
  f->body_len = n;
  f->header_open = true;
  *body_len = n;
  *need = pad16(n) + 16;
  return 0;
}

int ethp2p_rlpx_frame_open_body(ethp2p_rlpx_frame *f, uint8_t *in, size_t need) {
  uint8_t mac[16];
  size_t padded;
  int rc;
  if (f == NULL || in == NULL)
    return ETHP2P_EINVAL;
  if (!f->header_open)
    return ETHP2P_ESTATE;
  padded = pad16(f->body_len);
  if (need != padded + 16)
    return ETHP2P_EINVAL;
  rc = body_mac(f->mac, &f->ingress, in, padded, mac);
  if (rc != 0)
    return rc;
  if (!ethp2p_ct_equal(mac, in + padded, 16))
    return ETHP2P_ESIG;
  f->header_open = false;
  return ethp2p_aes_ctr_xor(f->dec, in, in, padded);
}
