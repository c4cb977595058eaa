/*
 * enr/crypto.h — the symmetric primitives of the wire protocols (discv4,
 * discv5, RLPx), in one place, on OpenSSL's libcrypto (EVP).
 *
 * Internal to the library (not installed).  Keccak-256 stays in
 * ethp2p/keccak.h; asymmetric operations are in ethp2p/secp.h.
 *
 * Every function returns 0 or a negative ETHP2P_E* code; on failure every
 * output buffer has been zeroed.  Buffers may not overlap unless stated.
 */
#ifndef ETHP2P_ENR_CRYPTO_H
#define ETHP2P_ENR_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_SHA256_LEN 32
#define ETHP2P_AES_BLOCK 16
#define ETHP2P_GCM_TAG_LEN 16
#define ETHP2P_GCM_NONCE_LEN 12

/* SHA-256 of the concatenation of n parts (parts[i], lens[i]). */
int ethp2p_sha256(uint8_t out[ETHP2P_SHA256_LEN], const void *data, size_t len);
int ethp2p_sha256_parts(uint8_t out[ETHP2P_SHA256_LEN], size_t n, const void *const *parts,
                        const size_t *lens);

/* HMAC-SHA256 (RFC 2104) of data under key. */
int ethp2p_hmac_sha256(uint8_t out[ETHP2P_SHA256_LEN], const void *key, size_t keylen,
                       const void *data, size_t len);

/* HMAC-SHA1 (RFC 2104), 20 bytes: STUN's MESSAGE-INTEGRITY (RFC 8489 §14.5). */
#define ETHP2P_SHA1_LEN 20
int ethp2p_hmac_sha1(uint8_t out[ETHP2P_SHA1_LEN], const void *key, size_t keylen, const void *data,
                     size_t len);

/* HKDF-SHA256 (RFC 5869), extract then expand, out of outlen <= 255*32 bytes.
 * salt may be NULL when saltlen is 0. */
int ethp2p_hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
                       const void *ikm, size_t ikmlen, const void *info, size_t infolen);

/*
 * AES in CTR mode as a stream: keylen 16 (AES-128) or 32 (AES-256), iv the
 * 16-byte initial counter block (big-endian increment over all 128 bits).
 * ethp2p_aes_ctr_xor may be called repeatedly; it continues the stream.
 * in and out may be the same buffer.  ethp2p_aes_ctr_free wipes the key.
 */
typedef struct ethp2p_aes_ctr ethp2p_aes_ctr;
int ethp2p_aes_ctr_new(ethp2p_aes_ctr **out, const uint8_t *key, size_t keylen,
                       const uint8_t iv[ETHP2P_AES_BLOCK]);
int ethp2p_aes_ctr_xor(ethp2p_aes_ctr *c, uint8_t *out, const uint8_t *in, size_t len);
void ethp2p_aes_ctr_free(ethp2p_aes_ctr *c);
/* One-shot: out = in XOR keystream(key, iv). */
int ethp2p_aes_ctr_once(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *key,
                        size_t keylen, const uint8_t iv[ETHP2P_AES_BLOCK]);

/*
 * A reusable single-block AES encryptor (ECB of one block), for RLPx's MAC
 * updates.  keylen 16 or 32.
 */
typedef struct ethp2p_aes_block ethp2p_aes_block;
int ethp2p_aes_block_new(ethp2p_aes_block **out, const uint8_t *key, size_t keylen);
int ethp2p_aes_block_encrypt(ethp2p_aes_block *b, uint8_t out[ETHP2P_AES_BLOCK],
                             const uint8_t in[ETHP2P_AES_BLOCK]);
void ethp2p_aes_block_free(ethp2p_aes_block *b);

/*
 * AES-128-GCM with a 12-byte nonce and 16-byte tag (discv5 messages).
 * seal: out gets len bytes of ciphertext followed by the tag (outsize must be
 * >= len + 16); *outlen = len + 16.
 * open: in is ciphertext || tag (len >= 16); out gets len - 16 bytes;
 * ETHP2P_ESIG when authentication fails (out is zeroed then).
 */
int ethp2p_aes_gcm_seal(uint8_t *out, size_t outsize, size_t *outlen, const uint8_t key[16],
                        const uint8_t nonce[ETHP2P_GCM_NONCE_LEN], const void *ad, size_t adlen,
                        const uint8_t *in, size_t len);
int ethp2p_aes_gcm_open(uint8_t *out, size_t outsize, size_t *outlen, const uint8_t key[16],
                        const uint8_t nonce[ETHP2P_GCM_NONCE_LEN], const void *ad, size_t adlen,
                        const uint8_t *in, size_t len);

/* Constant-time comparison: true when the n bytes are equal. */
bool ethp2p_ct_equal(const void *a, const void *b, size_t n);

#ifdef __cplusplus
}
#endif
#endif
