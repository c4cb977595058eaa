/*
 * ethp2p/secp.h — the secp256k1 operations of the "v4" identity scheme, on
 * libsecp256k1.
 *
 * One process-wide libsecp256k1 context is created on first use (thread-safe,
 * pthread_once) and randomized with the kernel CSPRNG (side-channel blinding);
 * it is never destroyed.  If RAND_bytes fails the context is used unrandomized
 * (still correct).  Secrets copied to the stack are wiped before returning.
 *
 * Formats:
 *   secret  32 bytes, big-endian, 0 < secret < n (the group order)
 *   pub33   compressed public key (0x02/0x03 || X)
 *   pub64   uncompressed public key without the 0x04 prefix (X || Y), as in enode URLs
 *   sig64   ECDSA signature r || s, 32 bytes each, big-endian, no recovery id
 *   hash32  the 32-byte message digest (Keccak-256 for ENR)
 */
#ifndef ETHP2P_SECP_H
#define ETHP2P_SECP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_SECP_SECRET_LEN 32
#define ETHP2P_SECP_PUB33_LEN 33
#define ETHP2P_SECP_PUB64_LEN 64
#define ETHP2P_SECP_SIG_LEN 64
#define ETHP2P_NODE_ID_LEN 32

struct secp256k1_context_struct;

/* The shared context (created on first call).  For benchmarks and callers that need
 * raw libsecp256k1; never destroy it.  Returns NULL only if creation failed. */
const struct secp256k1_context_struct *ethp2p_secp_context(void);

/* Returns 0 if secret is a valid secp256k1 secret key, ETHP2P_EKEY otherwise
 * (zero, or not below the group order). */
int ethp2p_secp_secret_check(const uint8_t secret[ETHP2P_SECP_SECRET_LEN]);

/*
 * Generates a fresh secret key from the kernel CSPRNG (getrandom(2)), drawing again
 * in the negligible case that a draw is not a valid secret.
 * Returns 0, or ETHP2P_EIO if the CSPRNG fails (secret zeroed then).
 */
int ethp2p_secp_secret_generate(uint8_t secret[ETHP2P_SECP_SECRET_LEN]);

/*
 * Derives the public key of secret.  Either output may be NULL.
 * Returns 0, or ETHP2P_EKEY for an invalid secret (outputs zeroed).
 */
int ethp2p_secp_pubkey(uint8_t pub33[ETHP2P_SECP_PUB33_LEN], uint8_t pub64[ETHP2P_SECP_PUB64_LEN],
                       const uint8_t secret[ETHP2P_SECP_SECRET_LEN]);

/* Decompresses: pub33 -> pub64.  Returns 0 or ETHP2P_EKEY (not a point; out zeroed). */
int ethp2p_secp_pub33_to_pub64(uint8_t pub64[ETHP2P_SECP_PUB64_LEN],
                               const uint8_t pub33[ETHP2P_SECP_PUB33_LEN]);
/* Compresses: pub64 -> pub33.  Returns 0 or ETHP2P_EKEY (not on the curve; out zeroed). */
int ethp2p_secp_pub64_to_pub33(uint8_t pub33[ETHP2P_SECP_PUB33_LEN],
                               const uint8_t pub64[ETHP2P_SECP_PUB64_LEN]);

/* Node ID of the v4 scheme: id = Keccak-256(pub64).  Never fails (no curve check). */
void ethp2p_secp_node_id(uint8_t id[ETHP2P_NODE_ID_LEN],
                         const uint8_t pub64[ETHP2P_SECP_PUB64_LEN]);

/*
 * Signs hash32 with secret: deterministic nonce (RFC 6979), low-S, r || s.
 * Returns 0, or ETHP2P_EKEY for an invalid secret (sig zeroed).
 */
int ethp2p_secp_sign(uint8_t sig[ETHP2P_SECP_SIG_LEN], const uint8_t hash[32],
                     const uint8_t secret[ETHP2P_SECP_SECRET_LEN]);

/*
 * Verifies r || s over hash32 against a compressed public key.  As libsecp256k1
 * does, a signature with a high S value (s > n/2) is rejected, as are r or s
 * equal to zero or not below n.
 * Returns 0, ETHP2P_EKEY (pub33 is not a valid point) or ETHP2P_ESIG.
 */
int ethp2p_secp_verify(const uint8_t sig[ETHP2P_SECP_SIG_LEN], const uint8_t hash[32],
                       const uint8_t pub33[ETHP2P_SECP_PUB33_LEN]);

/*
 * Recoverable signatures (discv4 packets, RLPx auth): 65 bytes r || s || v,
 * v in {0, 1}, deterministic (RFC 6979) and low-S.
 * Returns 0, or ETHP2P_EKEY for an invalid secret.  On failure sig65 is zeroed.
 */
#define ETHP2P_SECP_RSIG_LEN 65
int ethp2p_secp_sign_recoverable(uint8_t sig65[ETHP2P_SECP_RSIG_LEN], const uint8_t hash[32],
                                 const uint8_t secret[ETHP2P_SECP_SECRET_LEN])
    __attribute__((warn_unused_result));
/* Recovers the signer's 64-byte public key (x || y).  Returns 0, or
 * ETHP2P_ESIG (bad v, r or s, or no key recovers).  On failure pub64 is zeroed. */
int ethp2p_secp_recover(uint8_t pub64[ETHP2P_SECP_PUB64_LEN],
                        const uint8_t sig65[ETHP2P_SECP_RSIG_LEN], const uint8_t hash[32])
    __attribute__((warn_unused_result));

/*
 * ECDH.  _x: the shared point's 32-byte x coordinate, unhashed (RLPx, ECIES).
 * _pub33: the shared point in compressed form (discv5's key agreement).
 * The peer's key is 64 bytes (x || y) or 33 bytes compressed respectively.
 * Return 0, or ETHP2P_EKEY (invalid secret or public key); on failure the
 * output is zeroed.
 */
int ethp2p_secp_ecdh_x(uint8_t x[32], const uint8_t pub64[ETHP2P_SECP_PUB64_LEN],
                       const uint8_t secret[ETHP2P_SECP_SECRET_LEN])
    __attribute__((warn_unused_result));
int ethp2p_secp_ecdh_pub33(uint8_t shared33[ETHP2P_SECP_PUB33_LEN],
                           const uint8_t pub33[ETHP2P_SECP_PUB33_LEN],
                           const uint8_t secret[ETHP2P_SECP_SECRET_LEN])
    __attribute__((warn_unused_result));
/* Returns 0 when pub64 (x || y) is a point on the curve, else ETHP2P_EKEY. */
int ethp2p_secp_pub64_check(const uint8_t pub64[ETHP2P_SECP_PUB64_LEN]);

/* Overwrites p[0..len) with zeros in a way the compiler does not remove. */
void ethp2p_secp_wipe(void *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif
