/*
 * p2p/rlpx/handshake.c — the RLPx auth/ack exchange (rlpx.md "Initial
 * Handshake", EIP-8 "Changes to the RLPx TCP Handshake") and the session
 * secrets derived from it.
 */
#include <string.h>

#include "ethp2p/keccak.h"
#include "ethp2p/rlp.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

#define AUTH_V4_PLAIN 194 /* sig 65 || keccak(eph-pub) 32 || pub 64 || nonce 32 || 0x00 */
#define ACK_V4_PLAIN 97   /* eph-pub 64 || nonce 32 || 0x00 */
#define HS_VERSION 4      /* auth-vsn and ack-vsn */

int ethp2p_rlpx_hs_init(ethp2p_rlpx_hs *hs, bool initiator, const uint8_t secret[32],
                        const uint8_t eph_secret[32], const uint8_t nonce[32],
                        const uint8_t *remote_pub) {
  if (hs == NULL || secret == NULL || eph_secret == NULL || nonce == NULL)
    return ETHP2P_EINVAL;
  memset(hs, 0, sizeof *hs);
  if (ethp2p_secp_secret_check(secret) != 0 || ethp2p_secp_secret_check(eph_secret) != 0)
    return ETHP2P_EKEY;
  if (initiator && (remote_pub == NULL || ethp2p_secp_pub64_check(remote_pub) != 0))
    return ETHP2P_EKEY;
  hs->initiator = initiator;
  memcpy(hs->secret, secret, 32);
  memcpy(hs->eph_secret, eph_secret, 32);
  memcpy(initiator ? hs->init_nonce : hs->resp_nonce, nonce, 32);
  if (initiator)
    memcpy(hs->remote_pub, remote_pub, 64);
  return 0;
}

void ethp2p_rlpx_hs_wipe(ethp2p_rlpx_hs *hs) {
  if (hs != NULL)
    ethp2p_secp_wipe(hs, sizeof *hs);
}

/* The value both sides sign/recover: ecdh(static keys) ^ initiator nonce. */
static int auth_signed_value(uint8_t out[32], const uint8_t pub[64], const uint8_t secret[32],
                             const uint8_t nonce[32]) {
  int rc = ethp2p_secp_ecdh_x(out, pub, secret);
  size_t i;
  for (i = 0; rc == 0 && i < 32; i++)
    out[i] ^= nonce[i];
  return rc;
}

/* Appends 100..300 junk bytes derived from rnd (EIP-8 asks for random padding). */
static size_t pad_fill(uint8_t *p, size_t cap, const uint8_t rnd[ETHP2P_RLPX_HS_RANDOM_LEN]) {
  size_t n = ETHP2P_RLPX_HS_PAD_MIN + rnd[48] % 201, done = 0;
  uint32_t ctr = 0;
  if (n > cap)
    n = cap;
  while (done < n) {
    ethp2p_keccak256_ctx k;
    uint8_t block[32];
    size_t take = n - done < 32 ? n - done : 32;
    ethp2p_keccak256_init(&k);
    ethp2p_keccak256_update(&k, rnd, ETHP2P_RLPX_HS_RANDOM_LEN);
    ethp2p_keccak256_update(&k, &ctr, sizeof ctr);
    ethp2p_keccak256_final(&k, block);
    memcpy(p + done, block, take);
    done += take;
    ctr++;
  }
  return n;
}

/* EIP-8 packet: size (2) || ecies(pub, body || padding, shared = size). */
static int write_eip8(uint8_t *out, size_t cap, size_t *len, const uint8_t pub[64],
                      const uint8_t *body, size_t body_len,
                      const uint8_t rnd[ETHP2P_RLPX_HS_RANDOM_LEN]) {
  uint8_t plain[ETHP2P_RLPX_HS_MAX];
  size_t plain_len, enc_len, n;
  int rc;
  if (body_len + 300 > sizeof plain)
    return ETHP2P_ETOOBIG;
  memcpy(plain, body, body_len);
  plain_len = body_len + pad_fill(plain + body_len, sizeof plain - body_len, rnd);
  enc_len = plain_len + ETHP2P_RLPX_ECIES_OVERHEAD;
  if (enc_len + 2 > ETHP2P_RLPX_HS_MAX)
    return ETHP2P_ETOOBIG;
  if (cap < enc_len + 2)
    return ETHP2P_ESPACE;
  out[0] = (uint8_t)(enc_len >> 8);
  out[1] = (uint8_t)enc_len;
  rc =
      ethp2p_rlpx_ecies_encrypt(out + 2, cap - 2, &n, pub, rnd, rnd + 32, plain, plain_len, out, 2);
  ethp2p_secp_wipe(plain, sizeof plain);
  if (rc != 0)
    return rc;
  *len = n + 2;
  return 0;
}

static int store(uint8_t *dst, uint16_t *dst_len, const uint8_t *src, size_t len) {
  if (len > ETHP2P_RLPX_HS_MAX)
    return ETHP2P_ETOOBIG;
  memcpy(dst, src, len);
  *dst_len = (uint16_t)len;
  return 0;
}

int ethp2p_rlpx_hs_write_auth(ethp2p_rlpx_hs *hs, uint8_t *out, size_t cap, size_t *len,
                              const uint8_t rnd[ETHP2P_RLPX_HS_RANDOM_LEN]) {
  uint8_t msg[32], sig[65], pub[64], body[256];
  ethp2p_rlp_enc e;
  size_t body_len = 0;
  int rc;
  if (len != NULL)
    *len = 0;
  if (hs == NULL || out == NULL || len == NULL || rnd == NULL)
    return ETHP2P_EINVAL;
  if (!hs->initiator || hs->have_auth)
    return ETHP2P_ESTATE;
  rc = auth_signed_value(msg, hs->remote_pub, hs->secret, hs->init_nonce);
  if (rc == 0)
    rc = ethp2p_secp_sign_recoverable(sig, msg, hs->eph_secret);
  if (rc == 0)
    rc = ethp2p_secp_pubkey(NULL, pub, hs->secret);
  ethp2p_secp_wipe(msg, sizeof msg);
  if (rc != 0)
    return rc;
  ethp2p_rlp_enc_init(&e, body, sizeof body);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_bytes(&e, sig, sizeof sig);
  ethp2p_rlp_enc_bytes(&e, pub, sizeof pub);
  ethp2p_rlp_enc_bytes(&e, hs->init_nonce, 32);
  ethp2p_rlp_enc_uint64(&e, HS_VERSION);
  ethp2p_rlp_enc_list_end(&e);
  rc = ethp2p_rlp_enc_finish(&e, &body_len);
  if (rc == 0)
    rc = write_eip8(out, cap, len, hs->remote_pub, body, body_len, rnd);
  if (rc == 0)
    rc = store(hs->auth, &hs->auth_len, out, *len);
  if (rc != 0) {
    *len = 0;
    return rc;
  }
  hs->eip8 = true;
  hs->have_auth = true;
  return 0;
}

int ethp2p_rlpx_hs_write_ack(ethp2p_rlpx_hs *hs, uint8_t *out, size_t cap, size_t *len,
                             const uint8_t rnd[ETHP2P_RLPX_HS_RANDOM_LEN]) {
  uint8_t eph_pub[64], body[128];
  size_t body_len = 0;
  int rc;
  if (len != NULL)
    *len = 0;
  if (hs == NULL || out == NULL || len == NULL || rnd == NULL)
    return ETHP2P_EINVAL;
  if (hs->initiator || !hs->have_auth || hs->have_ack)
    return ETHP2P_ESTATE;
  rc = ethp2p_secp_pubkey(NULL, eph_pub, hs->eph_secret);
  if (rc != 0)
    return rc;
  if (hs->eip8) {
    ethp2p_rlp_enc e;
    ethp2p_rlp_enc_init(&e, body, sizeof body);
    ethp2p_rlp_enc_list_begin(&e);
    ethp2p_rlp_enc_bytes(&e, eph_pub, 64);
    ethp2p_rlp_enc_bytes(&e, hs->resp_nonce, 32);
    ethp2p_rlp_enc_uint64(&e, HS_VERSION);
    ethp2p_rlp_enc_list_end(&e);
    rc = ethp2p_rlp_enc_finish(&e, &body_len);
    if (rc == 0)
      rc = write_eip8(out, cap, len, hs->remote_pub, body, body_len, rnd);
  } else {
    memcpy(body, eph_pub, 64);
    memcpy(body + 64, hs->resp_nonce, 32);
    body[96] = 0x00;
    rc = ethp2p_rlpx_ecies_encrypt(out, cap, len, hs->remote_pub, rnd, rnd + 32, body, ACK_V4_PLAIN,
                                   NULL, 0);
  }
  if (rc == 0)
    rc = store(hs->ack, &hs->ack_len, out, *len);
  if (rc != 0) {
    *len = 0;
    return rc;
  }
  hs->have_ack = true;
  return 0;
}

/*
 * Locates and decrypts one handshake packet at the start of in.  A pre-EIP-8
 * packet is an ECIES ciphertext and so starts with 0x04; an EIP-8 packet whose
 * size prefix starts with 0x04 is at least 1026 bytes long, so trying the old
 * format first on the fixed length (as EIP-8's pseudocode does) is unambiguous.
 */
static int read_packet(const ethp2p_rlpx_hs *hs, const uint8_t *in, size_t len, size_t old_len,
                       uint8_t *plain, size_t *plain_len, size_t *used, bool *eip8) {
  size_t total;
  int rc;
  *eip8 = false;
  if (len < 2) {
    *used = 2;
    return ETHP2P_ETRUNC;
  }
  if (in[0] == 0x04) {
    if (len < old_len) {
      *used = old_len;
      return ETHP2P_ETRUNC;
    }
    rc = ethp2p_rlpx_ecies_decrypt(plain, ETHP2P_RLPX_HS_MAX, plain_len, hs->secret, in, old_len,
                                   NULL, 0);
    if (rc == 0) {
      *used = old_len;
      return 0;
    }
  }
  total = ((size_t)in[0] << 8 | in[1]) + 2;
  if (total > ETHP2P_RLPX_HS_MAX)
    return ETHP2P_ETOOBIG;
  if (total < 2 + ETHP2P_RLPX_ECIES_OVERHEAD)
    return ETHP2P_EPROTO;
  if (len < total) {
    *used = total;
    return ETHP2P_ETRUNC;
  }
  rc = ethp2p_rlpx_ecies_decrypt(plain, ETHP2P_RLPX_HS_MAX, plain_len, hs->secret, in + 2,
                                 total - 2, in, 2);
  if (rc != 0)
    return rc == ETHP2P_EKEY ? ETHP2P_ESIG : rc;
  *used = total;
  *eip8 = true;
  return 0;
}

/* Reads the next element of it as a string of exactly n bytes. */
static int next_fixed(ethp2p_rlp_iter *it, uint8_t *out, size_t n) {
  ethp2p_rlp_item item;
  if (ethp2p_rlp_iter_next(it, &item, NULL) != 1 || item.is_list || item.payload_len != n)
    return ETHP2P_EPROTO;
  memcpy(out, item.payload, n);
  return 0;
}

/* Opens the EIP-8 body list (trailing padding allowed) for iteration. */
static int open_body(ethp2p_rlp_iter *it, const uint8_t *plain, size_t plain_len) {
  ethp2p_rlp_item list;
  size_t used;
  if (ethp2p_rlp_decode_prefix(&list, &used, plain, plain_len, 0, NULL) != 0 || !list.is_list)
    return ETHP2P_EPROTO;
  return ethp2p_rlp_iter_init(it, &list) == 0 ? 0 : ETHP2P_EPROTO;
}

int ethp2p_rlpx_hs_read_auth(ethp2p_rlpx_hs *hs, const uint8_t *in, size_t len, size_t *used) {
  uint8_t plain[ETHP2P_RLPX_HS_MAX], sig[65], pub[64], nonce[32], msg[32], eph[64];
  size_t plain_len = 0, n = 0;
  bool eip8;
  int rc;
  if (used != NULL)
    *used = 0;
  if (hs == NULL || (in == NULL && len) || used == NULL)
    return ETHP2P_EINVAL;
  if (hs->initiator || hs->have_auth)
    return ETHP2P_ESTATE;
  rc = read_packet(hs, in, len, ETHP2P_RLPX_AUTH_V4_LEN, plain, &plain_len, &n, &eip8);
  if (rc != 0) {
    *used = rc == ETHP2P_ETRUNC ? n : 0;
    return rc;
  }
  if (eip8) {
    ethp2p_rlp_iter it;
    rc = open_body(&it, plain, plain_len);
    if (rc == 0)
      rc = next_fixed(&it, sig, 65);
    if (rc == 0)
      rc = next_fixed(&it, pub, 64);
    if (rc == 0)
      rc = next_fixed(&it, nonce, 32);
    /* auth-vsn and anything after it are ignored (EIP-8). */
  } else if (plain_len == AUTH_V4_PLAIN) {
    memcpy(sig, plain, 65);
    memcpy(pub, plain + 97, 64);
    memcpy(nonce, plain + 161, 32);
  } else {
    rc = ETHP2P_EPROTO;
  }
  if (rc == 0 && ethp2p_secp_pub64_check(pub) != 0)
    rc = ETHP2P_EKEY;
  if (rc == 0)
    rc = auth_signed_value(msg, pub, hs->secret, nonce);
  if (rc == 0 && ethp2p_secp_recover(eph, sig, msg) != 0)
    rc = ETHP2P_ESIG;
  if (rc == 0 && !eip8) {
    uint8_t h[32];
    ethp2p_keccak256(h, eph, 64);
    if (memcmp(h, plain + 65, 32) != 0)
      rc = ETHP2P_ESIG;
  }
  if (rc == 0)
    rc = store(hs->auth, &hs->auth_len, in, n);
  ethp2p_secp_wipe(plain, sizeof plain);
  ethp2p_secp_wipe(msg, sizeof msg);
  if (rc != 0)
    return rc;
  memcpy(hs->remote_pub, pub, 64);
  memcpy(hs->remote_eph_pub, eph, 64);
  memcpy(hs->init_nonce, nonce, 32);
  hs->eip8 = eip8;
  hs->have_auth = true;
  *used = n;
  return 0;
}

int ethp2p_rlpx_hs_read_ack(ethp2p_rlpx_hs *hs, const uint8_t *in, size_t len, size_t *used) {
  uint8_t plain[ETHP2P_RLPX_HS_MAX], eph[64], nonce[32];
  size_t plain_len = 0, n = 0;
  bool eip8;
  int rc;
  if (used != NULL)
    *used = 0;
  if (hs == NULL || (in == NULL && len) || used == NULL)
    return ETHP2P_EINVAL;
  if (!hs->initiator || !hs->have_auth || hs->have_ack)
    return ETHP2P_ESTATE;
  rc = read_packet(hs, in, len, ETHP2P_RLPX_ACK_V4_LEN, plain, &plain_len, &n, &eip8);
  if (rc != 0) {
    *used = rc == ETHP2P_ETRUNC ? n : 0;
    return rc;
  }
  if (eip8) {
    ethp2p_rlp_iter it;
    rc = open_body(&it, plain, plain_len);
    if (rc == 0)
      rc = next_fixed(&it, eph, 64);
    if (rc == 0)
      rc = next_fixed(&it, nonce, 32);
  } else if (plain_len == ACK_V4_PLAIN) {
    memcpy(eph, plain, 64);
    memcpy(nonce, plain + 64, 32);
  } else {
    rc = ETHP2P_EPROTO;
  }
  if (rc == 0 && ethp2p_secp_pub64_check(eph) != 0)
    rc = ETHP2P_EKEY;
  if (rc == 0)
    rc = store(hs->ack, &hs->ack_len, in, n);
  ethp2p_secp_wipe(plain, sizeof plain);
  if (rc != 0)
    return rc;
  memcpy(hs->remote_eph_pub, eph, 64);
  memcpy(hs->resp_nonce, nonce, 32);
  hs->have_ack = true;
  *used = n;
  return 0;
}

static void mac_seed(ethp2p_keccak256_ctx *k, const uint8_t mac[32], const uint8_t nonce[32],
                     const uint8_t *packet, size_t len) {
  uint8_t x[32];
  size_t i;
  for (i = 0; i < 32; i++)
    x[i] = mac[i] ^ nonce[i];
  ethp2p_keccak256_init(k);
  ethp2p_keccak256_update(k, x, 32);
  ethp2p_keccak256_update(k, packet, len);
  ethp2p_secp_wipe(x, sizeof x);
}

int ethp2p_rlpx_secrets_derive(ethp2p_rlpx_secrets *out, bool initiator,
                               const uint8_t eph_secret[32], const uint8_t remote_eph_pub[64],
                               const uint8_t init_nonce[32], const uint8_t resp_nonce[32],
                               const uint8_t *auth, size_t auth_len, const uint8_t *ack,
                               size_t ack_len, const uint8_t *remote_pub) {
  uint8_t ek[32], buf[64], shared[32];
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  if (eph_secret == NULL || remote_eph_pub == NULL || init_nonce == NULL || resp_nonce == NULL ||
      (auth == NULL && auth_len) || (ack == NULL && ack_len))
    return ETHP2P_EINVAL;
  rc = ethp2p_secp_ecdh_x(ek, remote_eph_pub, eph_secret);
  if (rc != 0)
    return rc;
  memcpy(buf, resp_nonce, 32);
  memcpy(buf + 32, init_nonce, 32);
  ethp2p_keccak256(buf + 32, buf, 64); /* keccak(resp_nonce || init_nonce) */
  memcpy(buf, ek, 32);
  ethp2p_keccak256(shared, buf, 64);
  memcpy(buf + 32, shared, 32);
  ethp2p_keccak256(out->aes, buf, 64);
  memcpy(buf + 32, out->aes, 32);
  ethp2p_keccak256(out->mac, buf, 64);
  if (initiator) {
    mac_seed(&out->egress, out->mac, resp_nonce, auth, auth_len);
    mac_seed(&out->ingress, out->mac, init_nonce, ack, ack_len);
  } else {
    mac_seed(&out->egress, out->mac, init_nonce, ack, ack_len);
    mac_seed(&out->ingress, out->mac, resp_nonce, auth, auth_len);
  }
  if (remote_pub != NULL)
    memcpy(out->remote_pub, remote_pub, 64);
  ethp2p_secp_wipe(ek, sizeof ek);
  ethp2p_secp_wipe(buf, sizeof buf);
  ethp2p_secp_wipe(shared, sizeof shared);
  return 0;
}

int ethp2p_rlpx_hs_secrets(const ethp2p_rlpx_hs *hs, ethp2p_rlpx_secrets *out) {
  if (hs == NULL || out == NULL)
    return ETHP2P_EINVAL;
  if (!hs->have_auth || !hs->have_ack) {
    memset(out, 0, sizeof *out);
    return ETHP2P_ESTATE;
  }
  return ethp2p_rlpx_secrets_derive(out, hs->initiator, hs->eph_secret, hs->remote_eph_pub,
                                    hs->init_nonce, hs->resp_nonce, hs->auth, hs->auth_len, hs->ack,
                                    hs->ack_len, hs->remote_pub);
}
