/*
 * enr/secp.c — secp256k1 for the "v4" identity scheme (EIP-778), on libsecp256k1.
 *
 * One context for the process, created on first use under pthread_once and
 * randomized (blinding of the signing and key generation multiplications) with
 * 32 bytes from the kernel's CSPRNG (core/osrand.h).  libsecp256k1's own defaults give RFC 6979
 * nonces and low-S signatures on signing, and reject high-S on verification.
 */
#include "ethp2p/secp.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_recovery.h>
#include <string.h>

#include "core/osrand.h"
#include "ethp2p/error.h"
#include "ethp2p/keccak.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static secp256k1_context *g_ctx;

static void secp_context_create(void) {
  unsigned char seed[32];
  secp256k1_context *ctx =
      secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
  if (ctx == NULL)
    return;
  if (ethp2p_os_random(seed, sizeof seed) == 0) {
    if (!secp256k1_context_randomize(ctx, seed)) {
      /* Randomization is a hardening measure; the context stays correct without it. */
    }
  }
  ethp2p_secp_wipe(seed, sizeof seed);
  g_ctx = ctx;
}

const struct secp256k1_context_struct *ethp2p_secp_context(void) {
  pthread_once(&g_once, secp_context_create);
  return g_ctx;
}

static const secp256k1_context *ctx_get(void) {
  return ethp2p_secp_context();
}

void ethp2p_secp_wipe(void *p, size_t len) {
  if (p != NULL && len > 0)
    ethp2p_wipe(p, len);
}

int ethp2p_secp_secret_check(const uint8_t secret[ETHP2P_SECP_SECRET_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  if (ctx == NULL || secret == NULL)
    return ETHP2P_EKEY;
  return secp256k1_ec_seckey_verify(ctx, secret) ? 0 : ETHP2P_EKEY;
}

int ethp2p_secp_secret_generate(uint8_t secret[ETHP2P_SECP_SECRET_LEN]) {
  int tries;
  for (tries = 0; tries < 64; tries++) {
    if (ethp2p_os_random(secret, ETHP2P_SECP_SECRET_LEN) != 0)
      break;
    if (ethp2p_secp_secret_check(secret) == 0)
      return 0;
  }
  ethp2p_secp_wipe(secret, ETHP2P_SECP_SECRET_LEN);
  return ETHP2P_EIO;
}

static void serialize_pub(uint8_t *pub33, uint8_t *pub64, const secp256k1_pubkey *pk) {
  const secp256k1_context *ctx = ctx_get();
  size_t n;
  if (pub33 != NULL) {
    n = ETHP2P_SECP_PUB33_LEN;
    secp256k1_ec_pubkey_serialize(ctx, pub33, &n, pk, SECP256K1_EC_COMPRESSED);
  }
  if (pub64 != NULL) {
    uint8_t full[65];
    n = sizeof full;
    secp256k1_ec_pubkey_serialize(ctx, full, &n, pk, SECP256K1_EC_UNCOMPRESSED);
    memcpy(pub64, full + 1, ETHP2P_SECP_PUB64_LEN);
  }
}

int ethp2p_secp_pubkey(uint8_t pub33[ETHP2P_SECP_PUB33_LEN], uint8_t pub64[ETHP2P_SECP_PUB64_LEN],
                       const uint8_t secret[ETHP2P_SECP_SECRET_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_pubkey pk;
  if (pub33 != NULL)
    memset(pub33, 0, ETHP2P_SECP_PUB33_LEN);
  if (pub64 != NULL)
    memset(pub64, 0, ETHP2P_SECP_PUB64_LEN);
  if (ctx == NULL || secret == NULL || !secp256k1_ec_pubkey_create(ctx, &pk, secret))
    return ETHP2P_EKEY;
  serialize_pub(pub33, pub64, &pk);
  return 0;
}

int ethp2p_secp_pub33_to_pub64(uint8_t pub64[ETHP2P_SECP_PUB64_LEN],
                               const uint8_t pub33[ETHP2P_SECP_PUB33_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_pubkey pk;
  memset(pub64, 0, ETHP2P_SECP_PUB64_LEN);
  if (ctx == NULL || (pub33[0] != 0x02 && pub33[0] != 0x03) ||
      !secp256k1_ec_pubkey_parse(ctx, &pk, pub33, ETHP2P_SECP_PUB33_LEN))
    return ETHP2P_EKEY;
  serialize_pub(NULL, pub64, &pk);
  return 0;
}

int ethp2p_secp_pub64_to_pub33(uint8_t pub33[ETHP2P_SECP_PUB33_LEN],
                               const uint8_t pub64[ETHP2P_SECP_PUB64_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_pubkey pk;
  uint8_t full[65];
  memset(pub33, 0, ETHP2P_SECP_PUB33_LEN);
  full[0] = 0x04;
  memcpy(full + 1, pub64, ETHP2P_SECP_PUB64_LEN);
  if (ctx == NULL || !secp256k1_ec_pubkey_parse(ctx, &pk, full, sizeof full))
    return ETHP2P_EKEY;
  serialize_pub(pub33, NULL, &pk);
  return 0;
}

void ethp2p_secp_node_id(uint8_t id[ETHP2P_NODE_ID_LEN],
                         const uint8_t pub64[ETHP2P_SECP_PUB64_LEN]) {
  ethp2p_keccak256(id, pub64, ETHP2P_SECP_PUB64_LEN);
}

int ethp2p_secp_sign(uint8_t sig[ETHP2P_SECP_SIG_LEN], const uint8_t hash[32],
                     const uint8_t secret[ETHP2P_SECP_SECRET_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_ecdsa_signature s;
  int ok;
  memset(sig, 0, ETHP2P_SECP_SIG_LEN);
  if (ctx == NULL || secret == NULL)
    return ETHP2P_EKEY;
  /* NULL nonce function = RFC 6979 with HMAC-SHA256; the result is normalized to low S. */
  ok = secp256k1_ecdsa_sign(ctx, &s, hash, secret, NULL, NULL);
  if (!ok)
    return ETHP2P_EKEY;
  secp256k1_ecdsa_signature_serialize_compact(ctx, sig, &s);
  ethp2p_secp_wipe(&s, sizeof s);
  return 0;
}

int ethp2p_secp_verify(const uint8_t sig[ETHP2P_SECP_SIG_LEN], const uint8_t hash[32],
                       const uint8_t pub33[ETHP2P_SECP_PUB33_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_pubkey pk;
  secp256k1_ecdsa_signature s;
  if (ctx == NULL)
    return ETHP2P_ESIG;
  if ((pub33[0] != 0x02 && pub33[0] != 0x03) ||
      !secp256k1_ec_pubkey_parse(ctx, &pk, pub33, ETHP2P_SECP_PUB33_LEN))
    return ETHP2P_EKEY;
  /* parse_compact refuses r or s >= n; verify refuses zero values and high S. */
  if (!secp256k1_ecdsa_signature_parse_compact(ctx, &s, sig))
    return ETHP2P_ESIG;
  return secp256k1_ecdsa_verify(ctx, &s, hash, &pk) ? 0 : ETHP2P_ESIG;
}

/* ---- recoverable signatures (discv4, RLPx) ------------------------------------ */

int ethp2p_secp_sign_recoverable(uint8_t sig65[ETHP2P_SECP_RSIG_LEN], const uint8_t hash[32],
                                 const uint8_t secret[ETHP2P_SECP_SECRET_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_ecdsa_recoverable_signature s;
  int recid = 0;
  memset(sig65, 0, ETHP2P_SECP_RSIG_LEN);
  if (ctx == NULL || secret == NULL)
    return ETHP2P_EKEY;
  /* RFC 6979 nonces; libsecp256k1 produces low-S signatures with the matching recid. */
  if (!secp256k1_ecdsa_sign_recoverable(ctx, &s, hash, secret, NULL, NULL))
    return ETHP2P_EKEY;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig65, &recid, &s);
  sig65[64] = (uint8_t)recid;
  ethp2p_secp_wipe(&s, sizeof s);
  return 0;
}

int ethp2p_secp_recover(uint8_t pub64[ETHP2P_SECP_PUB64_LEN],
                        const uint8_t sig65[ETHP2P_SECP_RSIG_LEN], const uint8_t hash[32]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_ecdsa_recoverable_signature s;
  secp256k1_pubkey pk;
  memset(pub64, 0, ETHP2P_SECP_PUB64_LEN);
  if (ctx == NULL || sig65[64] > 3)
    return ETHP2P_ESIG;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &s, sig65, sig65[64]))
    return ETHP2P_ESIG;
  if (!secp256k1_ecdsa_recover(ctx, &pk, &s, hash))
    return ETHP2P_ESIG;
  serialize_pub(NULL, pub64, &pk);
  return 0;
}

/* ---- ECDH ---------------------------------------------------------------------- */

/* libsecp256k1 hands the shared point's coordinates to a "hash" function; these
 * two keep them instead of hashing: x alone (ECIES), or the compressed point. */
static int ecdh_copy_x(unsigned char *out, const unsigned char *x32, const unsigned char *y32,
                       void *data) {
  (void)y32;
  (void)data;
  memcpy(out, x32, 32);
  return 1;
}

static int ecdh_copy_compressed(unsigned char *out, const unsigned char *x32,
                                const unsigned char *y32, void *data) {
  (void)data;
  out[0] = (unsigned char)(0x02 | (y32[31] & 1));
  memcpy(out + 1, x32, 32);
  return 1;
}

int ethp2p_secp_ecdh_x(uint8_t x[32], const uint8_t pub64[ETHP2P_SECP_PUB64_LEN],
                       const uint8_t secret[ETHP2P_SECP_SECRET_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_pubkey pk;
  uint8_t full[65];
  memset(x, 0, 32);
  if (ctx == NULL || secret == NULL)
    return ETHP2P_EKEY;
  full[0] = 0x04;
  memcpy(full + 1, pub64, ETHP2P_SECP_PUB64_LEN);
  if (!secp256k1_ec_pubkey_parse(ctx, &pk, full, sizeof full))
    return ETHP2P_EKEY;
  if (!secp256k1_ecdh(ctx, x, &pk, secret, ecdh_copy_x, NULL)) {
    memset(x, 0, 32);
    return ETHP2P_EKEY;
  }
  return 0;
}

int ethp2p_secp_ecdh_pub33(uint8_t shared33[ETHP2P_SECP_PUB33_LEN],
                           const uint8_t pub33[ETHP2P_SECP_PUB33_LEN],
                           const uint8_t secret[ETHP2P_SECP_SECRET_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_pubkey pk;
  memset(shared33, 0, ETHP2P_SECP_PUB33_LEN);
  if (ctx == NULL || secret == NULL || (pub33[0] != 0x02 && pub33[0] != 0x03) ||
      !secp256k1_ec_pubkey_parse(ctx, &pk, pub33, ETHP2P_SECP_PUB33_LEN))
    return ETHP2P_EKEY;
  if (!secp256k1_ecdh(ctx, shared33, &pk, secret, ecdh_copy_compressed, NULL)) {
    memset(shared33, 0, ETHP2P_SECP_PUB33_LEN);
    return ETHP2P_EKEY;
  }
  return 0;
}

int ethp2p_secp_pub64_check(const uint8_t pub64[ETHP2P_SECP_PUB64_LEN]) {
  const secp256k1_context *ctx = ctx_get();
  secp256k1_pubkey pk;
  uint8_t full[65];
  if (ctx == NULL)
    return ETHP2P_EKEY;
  full[0] = 0x04;
  memcpy(full + 1, pub64, ETHP2P_SECP_PUB64_LEN);
  return secp256k1_ec_pubkey_parse(ctx, &pk, full, sizeof full) ? 0 : ETHP2P_EKEY;
}
