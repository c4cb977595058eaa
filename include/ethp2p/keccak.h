/*
 * ethp2p/keccak.h — Keccak-256 as Ethereum uses it: the original Keccak
 * submission's padding (first pad byte 0x01), not FIPS 202 SHA3-256 (0x06).
 * Rate 1088 bits (136 bytes), capacity 512, output 32 bytes.
 * Keccak-256("") = c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470.
 *
 * The Keccak-f[1600] permutation is nettle's nettle_sha3_permute; absorbing,
 * padding and squeezing are ours.  No allocation; contexts live in caller memory.
 */
#ifndef ETHP2P_KECCAK_H
#define ETHP2P_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_KECCAK256_LEN 32
#define ETHP2P_KECCAK256_RATE 136

/* Incremental state.  Plain value: may be copied to fork a hash.  Fields are private. */
typedef struct ethp2p_keccak256_ctx {
  uint64_t a[25]; /* the state, lanes in nettle's layout (first member: keep it first) */
  size_t pos;     /* bytes absorbed into the current block */
} ethp2p_keccak256_ctx;

/* Starts a new hash. */
void ethp2p_keccak256_init(ethp2p_keccak256_ctx *ctx);
/* Absorbs data[0..len).  data may be NULL when len is 0. */
void ethp2p_keccak256_update(ethp2p_keccak256_ctx *ctx, const void *data, size_t len);
/* Pads, writes the 32-byte digest to out and wipes the context (init again to reuse). */
void ethp2p_keccak256_final(ethp2p_keccak256_ctx *ctx, uint8_t out[ETHP2P_KECCAK256_LEN]);
/* One shot: out = Keccak-256(data[0..len)). */
void ethp2p_keccak256(uint8_t out[ETHP2P_KECCAK256_LEN], const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
