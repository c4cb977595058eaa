/*
 * enr/crypto.c — symmetric primitives of the wire protocols on OpenSSL's
 * libcrypto (EVP).  See enr/crypto.h.
 *
 * OpenSSL is initialised once without reading openssl.cnf: nothing here needs
 * configured providers or engines, and skipping the config file keeps the cost
 * of the first call (which every short CLI command pays) small.
 */
#include "enr/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/error.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ok;

/* Algorithms fetched once: OpenSSL 3 otherwise looks each one up again in its
 * provider tables at every EVP_*Init call, which costs more than encrypting a
 * discovery packet. */
static struct {
  EVP_MD *sha256, *sha1;
  EVP_CIPHER *ctr128, *ctr256, *ecb128, *ecb256, *gcm128;
  EVP_KDF *hkdf;
} g_alg;

static void crypto_init(void) {
  if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
    return;
  g_alg.sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
  g_alg.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
  g_alg.ctr128 = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
  g_alg.ctr256 = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
  g_alg.ecb128 = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
  g_alg.ecb256 = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
  g_alg.gcm128 = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  g_alg.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  g_ok = g_alg.sha256 != NULL && g_alg.sha1 != NULL && g_alg.ctr128 != NULL &&
         g_alg.ctr256 != NULL && g_alg.ecb128 != NULL && g_alg.ecb256 != NULL &&
         g_alg.gcm128 != NULL && g_alg.hkdf != NULL;
}

static int ready(void) {
  pthread_once(&g_once, crypto_init);
  return g_ok;
}

int ethp2p_sha256_parts(uint8_t out[ETHP2P_SHA256_LEN], size_t n, const void *const *parts,
                        const size_t *lens) {
  EVP_MD_CTX *md;
  unsigned int len = 0;
  int ok;

  memset(out, 0, ETHP2P_SHA256_LEN);
  if (!ready() || (md = EVP_MD_CTX_new()) == NULL)
    return ETHP2P_ENOMEM;
  ok = EVP_DigestInit_ex(md, g_alg.sha256, NULL) == 1;
  for (size_t i = 0; ok && i < n; i++)
    ok = EVP_DigestUpdate(md, parts[i], lens[i]) == 1;
  ok = ok && EVP_DigestFinal_ex(md, out, &len) == 1 && len == ETHP2P_SHA256_LEN;
  EVP_MD_CTX_free(md);
  if (!ok) {
    memset(out, 0, ETHP2P_SHA256_LEN);
    return ETHP2P_EIO;
  }
  return 0;
}

int ethp2p_sha256(uint8_t out[ETHP2P_SHA256_LEN], const void *data, size_t len) {
  const void *parts[1] = {data};
  size_t lens[1] = {len};
  return ethp2p_sha256_parts(out, 1, parts, lens);
}

static int hmac(const EVP_MD *md, uint8_t *out, unsigned int outlen, const void *key, size_t keylen,
                const void *data, size_t len) {
  unsigned int n = 0;
  static const uint8_t empty;

  memset(out, 0, outlen);
  if (keylen > 0x7fffffff)
    return ETHP2P_EINVAL;
  /* HMAC() refuses a NULL key even when its length is zero. */
  if (HMAC(md, key != NULL ? key : &empty, (int)keylen, data != NULL ? data : &empty, len, out,
           &n) == NULL ||
      n != outlen) {
    memset(out, 0, outlen);
    return ETHP2P_EIO;
  }
  return 0;
}

int ethp2p_hmac_sha256(uint8_t out[ETHP2P_SHA256_LEN], const void *key, size_t keylen,
                       const void *data, size_t len) {
  if (!ready()) {
    memset(out, 0, ETHP2P_SHA256_LEN);
    return ETHP2P_EIO;
  }
  return hmac(g_alg.sha256, out, ETHP2P_SHA256_LEN, key, keylen, data, len);
}

int ethp2p_hmac_sha1(uint8_t out[ETHP2P_SHA1_LEN], const void *key, size_t keylen, const void *data,
                     size_t len) {
  if (!ready()) {
    memset(out, 0, ETHP2P_SHA1_LEN);
    return ETHP2P_EIO;
  }
  return hmac(g_alg.sha1, out, ETHP2P_SHA1_LEN, key, keylen, data, len);
}

int ethp2p_hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
                       const void *ikm, size_t ikmlen, const void *info, size_t infolen) {
  EVP_KDF_CTX *kctx;
  OSSL_PARAM params[5], *p = params;
  static uint8_t empty;
  int ok;

  if (outlen > 0)
    memset(out, 0, outlen);
  if (outlen == 0 || outlen > 255 * ETHP2P_SHA256_LEN)
    return ETHP2P_EINVAL;
  if (!ready())
    return ETHP2P_EIO;
  if ((kctx = EVP_KDF_CTX_new(g_alg.hkdf)) == NULL)
    return ETHP2P_ENOMEM;
  *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
  *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm != NULL ? (void *)ikm : &empty,
                                           ikmlen);
  if (saltlen > 0)
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
  *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                           info != NULL ? (void *)info : &empty, infolen);
  *p = OSSL_PARAM_construct_end();
  ok = EVP_KDF_derive(kctx, out, outlen, params) == 1;
  EVP_KDF_CTX_free(kctx);
  if (!ok) {
    memset(out, 0, outlen);
    return ETHP2P_EIO;
  }
  return 0;
}

/* ---- AES-CTR streams and single blocks ---------------------------------------- */

struct ethp2p_aes_ctr {
  EVP_CIPHER_CTX *c;
};

struct ethp2p_aes_block {
  EVP_CIPHER_CTX *c;
};

static const EVP_CIPHER *ctr_cipher(size_t keylen) {
  return keylen == 16 ? g_alg.ctr128 : keylen == 32 ? g_alg.ctr256 : NULL;
}

static const EVP_CIPHER *ecb_cipher(size_t keylen) {
  return keylen == 16 ? g_alg.ecb128 : keylen == 32 ? g_alg.ecb256 : NULL;
}

int ethp2p_aes_ctr_new(ethp2p_aes_ctr **out, const uint8_t *key, size_t keylen,
                       const uint8_t iv[ETHP2P_AES_BLOCK]) {
  const EVP_CIPHER *cipher;
  ethp2p_aes_ctr *a;

  *out = NULL;
  if (!ready() || (cipher = ctr_cipher(keylen)) == NULL)
    return ETHP2P_EINVAL;
  if ((a = calloc(1, sizeof *a)) == NULL || (a->c = EVP_CIPHER_CTX_new()) == NULL) {
    free(a);
    return ETHP2P_ENOMEM;
  }
  if (EVP_EncryptInit_ex(a->c, cipher, NULL, key, iv) != 1) {
    ethp2p_aes_ctr_free(a);
    return ETHP2P_EIO;
  }
  *out = a;
  return 0;
}

int ethp2p_aes_ctr_xor(ethp2p_aes_ctr *a, uint8_t *out, const uint8_t *in, size_t len) {
  while (len > 0) {
    int chunk = len > (1u << 30) ? (1 << 30) : (int)len, n = 0;
    if (EVP_EncryptUpdate(a->c, out, &n, in, chunk) != 1 || n != chunk)
      return ETHP2P_EIO;
    out += chunk;
    in += chunk;
    len -= (size_t)chunk;
  }
  return 0;
}

void ethp2p_aes_ctr_free(ethp2p_aes_ctr *a) {
  if (a == NULL)
    return;
  EVP_CIPHER_CTX_free(a->c); /* clears the key schedule */
  free(a);
}

int ethp2p_aes_ctr_once(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *key,
                        size_t keylen, const uint8_t iv[ETHP2P_AES_BLOCK]) {
  ethp2p_aes_ctr *a;
  int rc = ethp2p_aes_ctr_new(&a, key, keylen, iv);
  if (rc == 0) {
    rc = ethp2p_aes_ctr_xor(a, out, in, len);
    ethp2p_aes_ctr_free(a);
  }
  if (rc != 0 && len > 0)
    memset(out, 0, len);
  return rc;
}

int ethp2p_aes_block_new(ethp2p_aes_block **out, const uint8_t *key, size_t keylen) {
  const EVP_CIPHER *cipher;
  ethp2p_aes_block *b;

  *out = NULL;
  if (!ready() || (cipher = ecb_cipher(keylen)) == NULL)
    return ETHP2P_EINVAL;
  if ((b = calloc(1, sizeof *b)) == NULL || (b->c = EVP_CIPHER_CTX_new()) == NULL) {
    free(b);
    return ETHP2P_ENOMEM;
  }
  if (EVP_EncryptInit_ex(b->c, cipher, NULL, key, NULL) != 1 ||
      EVP_CIPHER_CTX_set_padding(b->c, 0) != 1) {
    ethp2p_aes_block_free(b);
    return ETHP2P_EIO;
  }
  *out = b;
  return 0;
}

int ethp2p_aes_block_encrypt(ethp2p_aes_block *b, uint8_t out[ETHP2P_AES_BLOCK],
                             const uint8_t in[ETHP2P_AES_BLOCK]) {
  int n = 0;
  if (EVP_EncryptUpdate(b->c, out, &n, in, ETHP2P_AES_BLOCK) != 1 || n != ETHP2P_AES_BLOCK) {
    memset(out, 0, ETHP2P_AES_BLOCK);
    return ETHP2P_EIO;
  }
  return 0;
}

void ethp2p_aes_block_free(ethp2p_aes_block *b) {
  if (b == NULL)
    return;
  EVP_CIPHER_CTX_free(b->c);
  free(b);
}

/* ---- AES-128-GCM ---------------------------------------------------------------- */

static int gcm(bool seal, uint8_t *out, size_t outsize, size_t *outlen, const uint8_t key[16],
               const uint8_t nonce[ETHP2P_GCM_NONCE_LEN], const void *ad, size_t adlen,
               const uint8_t *in, size_t len) {
  EVP_CIPHER_CTX *c;
  size_t body = seal ? len : len - ETHP2P_GCM_TAG_LEN;
  size_t need = seal ? len + ETHP2P_GCM_TAG_LEN : body;
  int n = 0, ok;

  *outlen = 0;
  if (!seal && len < ETHP2P_GCM_TAG_LEN)
    return ETHP2P_ETRUNC;
  if (outsize < need)
    return ETHP2P_ESPACE;
  if (len > 0x7fffffff || adlen > 0x7fffffff)
    return ETHP2P_ETOOBIG;
  if (!ready() || (c = EVP_CIPHER_CTX_new()) == NULL)
    return ETHP2P_ENOMEM;
  ok = EVP_CipherInit_ex(c, g_alg.gcm128, NULL, NULL, NULL, seal ? 1 : 0) == 1 &&
       EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, ETHP2P_GCM_NONCE_LEN, NULL) == 1 &&
       EVP_CipherInit_ex(c, NULL, NULL, key, nonce, -1) == 1;
  if (ok && adlen > 0)
    ok = EVP_CipherUpdate(c, NULL, &n, ad, (int)adlen) == 1;
  if (ok && body > 0)
    ok = EVP_CipherUpdate(c, out, &n, in, (int)body) == 1 && (size_t)n == body;
  if (ok && !seal)
    ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ETHP2P_GCM_TAG_LEN, (void *)(in + body)) == 1;
  if (ok) {
    uint8_t fin[ETHP2P_AES_BLOCK];
    ok = EVP_CipherFinal_ex(c, fin, &n) == 1;
  }
  if (ok && seal)
    ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, ETHP2P_GCM_TAG_LEN, out + body) == 1;
  EVP_CIPHER_CTX_free(c);
  if (!ok) {
    memset(out, 0, need);
    return seal ? ETHP2P_EIO : ETHP2P_ESIG;
  }
  *outlen = need;
  return 0;
}

int ethp2p_aes_gcm_seal(uint8_t *out, size_t outsize, size_t *outlen, const uint8_t key[16],
                        const uint8_t nonce[ETHP2P_GCM_NONCE_LEN], const void *ad, size_t adlen,
                        const uint8_t *in, size_t len) {
  return gcm(true, out, outsize, outlen, key, nonce, ad, adlen, in, len);
}

int ethp2p_aes_gcm_open(uint8_t *out, size_t outsize, size_t *outlen, const uint8_t key[16],
                        const uint8_t nonce[ETHP2P_GCM_NONCE_LEN], const void *ad, size_t adlen,
                        const uint8_t *in, size_t len) {
  return gcm(false, out, outsize, outlen, key, nonce, ad, adlen, in, len);
}

bool ethp2p_ct_equal(const void *a, const void *b, size_t n) {
  return CRYPTO_memcmp(a, b, n) == 0;
}
