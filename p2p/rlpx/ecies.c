/*
 * p2p/rlpx/ecies.c — ECIES as RLPx uses it (rlpx.md "ECIES Encryption"):
 * secp256k1 ECDH, the NIST SP 800-56A concatenation KDF over SHA-256,
 * AES-128-CTR and an HMAC-SHA256 tag over iv || c || shared data.
 */
#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

/* k = SHA256(counter=1 (4 bytes BE) || S); the 32 bytes are kE (16) || kM' (16).
 * One block of output is enough for 32 bytes, so the counter never passes 1. */
static int ecies_keys(uint8_t ke[16], uint8_t km[32], const uint8_t shared_x[32]) {
  static const uint8_t counter[4] = {0, 0, 0, 1};
  const void *parts[2] = {counter, shared_x};
  const size_t lens[2] = {sizeof counter, 32};
  uint8_t k[32];
  int rc = ethp2p_sha256_parts(k, 2, parts, lens);
  if (rc == 0) {
    memcpy(ke, k, 16);
    rc = ethp2p_sha256(km, k + 16, 16);
  }
  ethp2p_secp_wipe(k, sizeof k);
  return rc;
}

/* d = HMAC-SHA256(kM, iv || c || shared).  iv || c is contiguous in the packet;
 * the shared data (at most a few bytes) is appended in a bounded copy. */
static int ecies_tag(uint8_t d[32], const uint8_t km[32], const uint8_t *ivc, size_t ivc_len,
                     const uint8_t *shared, size_t sharedlen) {
  uint8_t buf[ETHP2P_RLPX_HS_MAX + 32];
  if (ivc_len + sharedlen > sizeof buf)
    return ETHP2P_ETOOBIG;
  memcpy(buf, ivc, ivc_len);
  if (sharedlen > 0)
    memcpy(buf + ivc_len, shared, sharedlen);
  return ethp2p_hmac_sha256(d, km, 32, buf, ivc_len + sharedlen);
}

int ethp2p_rlpx_ecies_encrypt(uint8_t *out, size_t outsize, size_t *outlen, const uint8_t pub64[64],
                              const uint8_t eph_secret[32], const uint8_t iv[16],
                              const uint8_t *msg, size_t len, const uint8_t *shared,
                              size_t sharedlen) {
  uint8_t sx[32], ke[16], km[32];
  int rc;
  if (outlen != NULL)
    *outlen = 0;
  if (out == NULL || pub64 == NULL || eph_secret == NULL || iv == NULL || (msg == NULL && len))
    return ETHP2P_EINVAL;
  if (len > ETHP2P_RLPX_HS_MAX || outsize < len + ETHP2P_RLPX_ECIES_OVERHEAD)
    return len > ETHP2P_RLPX_HS_MAX ? ETHP2P_ETOOBIG : ETHP2P_ESPACE;
  out[0] = 0x04;
  rc = ethp2p_secp_pubkey(NULL, out + 1, eph_secret);
  if (rc == 0)
    rc = ethp2p_secp_ecdh_x(sx, pub64, eph_secret);
  if (rc == 0)
    rc = ecies_keys(ke, km, sx);
  if (rc == 0) {
    memcpy(out + 65, iv, 16);
    rc = ethp2p_aes_ctr_once(out + 81, msg, len, ke, 16, iv);
  }
  if (rc == 0)
    rc = ecies_tag(out + 81 + len, km, out + 65, 16 + len, shared, sharedlen);
  ethp2p_secp_wipe(sx, sizeof sx);
  ethp2p_secp_wipe(ke, sizeof ke);
  ethp2p_secp_wipe(km, sizeof km);
  if (rc != 0) {
    memset(out, 0, len + ETHP2P_RLPX_ECIES_OVERHEAD);
    return rc;
  }
  if (outlen != NULL)
    *outlen = len + ETHP2P_RLPX_ECIES_OVERHEAD;
  return 0;
}

int ethp2p_rlpx_ecies_decrypt(uint8_t *out, size_t outsize, size_t *outlen,
                              const uint8_t secret[32], const uint8_t *in, size_t len,
                              const uint8_t *shared, size_t sharedlen) {
  uint8_t sx[32], ke[16], km[32], d[32];
  size_t clen;
  int rc;
  if (outlen != NULL)
    *outlen = 0;
  if (out == NULL || secret == NULL || in == NULL)
    return ETHP2P_EINVAL;
  if (len < ETHP2P_RLPX_ECIES_OVERHEAD)
    return ETHP2P_ETRUNC;
  if (len > ETHP2P_RLPX_HS_MAX)
    return ETHP2P_ETOOBIG;
  clen = len - ETHP2P_RLPX_ECIES_OVERHEAD;
  if (outsize < clen)
    return ETHP2P_ESPACE;
  if (in[0] != 0x04)
    return ETHP2P_EKEY;
  rc = ethp2p_secp_ecdh_x(sx, in + 1, secret);
  if (rc == 0)
    rc = ecies_keys(ke, km, sx);
  if (rc == 0)
    rc = ecies_tag(d, km, in + 65, 16 + clen, shared, sharedlen);
  if (rc == 0 && !ethp2p_ct_equal(d, in + 81 + clen, 32))
    rc = ETHP2P_ESIG;
  if (rc == 0)
    rc = ethp2p_aes_ctr_once(out, in + 81, clen, ke, 16, in + 65);
  ethp2p_secp_wipe(sx, sizeof sx);
  ethp2p_secp_wipe(ke, sizeof ke);
  ethp2p_secp_wipe(km, sizeof km);
  if (rc != 0) {
    memset(out, 0, clen);
    return rc;
  }
  if (outlen != NULL)
    *outlen = clen;
  return 0;
}
