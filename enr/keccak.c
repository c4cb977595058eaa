/*
 * enr/keccak.c — Keccak-256 with the original Keccak padding (pad10*1 with the
 * domain byte 0x01; FIPS 202 SHA3 uses 0x06).  Sponge with rate r = 1088 bits:
 *
 *   absorb:  for each 136-byte block, XOR it into lanes 0..16 (little-endian
 *            64-bit lanes), then apply Keccak-f[1600]
 *   pad:     XOR 0x01 at the next free byte and 0x80 at byte 135 of the block
 *   squeeze: the first 32 bytes of the state, lanes little-endian
 *
 * The permutation is nettle's nettle_sha3_permute (nettle >= 3.x); its state is
 * `struct sha3_state { uint64_t a[25]; }` with the same lane order.
 */
#include "ethp2p/keccak.h"

#include <nettle/sha3.h>
#include <string.h>

_Static_assert(sizeof(struct sha3_state) == sizeof(((ethp2p_keccak256_ctx *)0)->a),
               "nettle's sha3_state must be 25 lanes");

static void keccak_permute(ethp2p_keccak256_ctx *ctx) {
  nettle_sha3_permute((struct sha3_state *)(void *)ctx->a);
}

static uint64_t load_le64(const uint8_t *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void xor_byte(ethp2p_keccak256_ctx *ctx, size_t i, uint8_t b) {
  ctx->a[i / 8] ^= (uint64_t)b << (8 * (i % 8));
}

void ethp2p_keccak256_init(ethp2p_keccak256_ctx *ctx) {
  memset(ctx, 0, sizeof *ctx);
}

void ethp2p_keccak256_update(ethp2p_keccak256_ctx *ctx, const void *data, size_t len) {
  const uint8_t *p = data;
  size_t i;
  /* Finish a partial block byte by byte. */
  while (len > 0 && ctx->pos != 0) {
    xor_byte(ctx, ctx->pos++, *p++);
    len--;
    if (ctx->pos == ETHP2P_KECCAK256_RATE) {
      keccak_permute(ctx);
      ctx->pos = 0;
    }
  }
  /* Whole blocks, a lane at a time. */
  while (len >= ETHP2P_KECCAK256_RATE) {
    for (i = 0; i < ETHP2P_KECCAK256_RATE / 8; i++)
      ctx->a[i] ^= load_le64(p + 8 * i);
    keccak_permute(ctx);
    p += ETHP2P_KECCAK256_RATE;
    len -= ETHP2P_KECCAK256_RATE;
  }
  while (len > 0) {
    xor_byte(ctx, ctx->pos++, *p++);
    len--;
  }
}

void ethp2p_keccak256_final(ethp2p_keccak256_ctx *ctx, uint8_t out[ETHP2P_KECCAK256_LEN]) {
  size_t i;
  xor_byte(ctx, ctx->pos, 0x01);
  xor_byte(ctx, ETHP2P_KECCAK256_RATE - 1, 0x80);
  keccak_permute(ctx);
  for (i = 0; i < ETHP2P_KECCAK256_LEN; i++)
    out[i] = (uint8_t)(ctx->a[i / 8] >> (8 * (i % 8)));
  memset(ctx, 0, sizeof *ctx);
}

void ethp2p_keccak256(uint8_t out[ETHP2P_KECCAK256_LEN], const void *data, size_t len) {
  ethp2p_keccak256_ctx ctx;
  ethp2p_keccak256_init(&ctx);
  ethp2p_keccak256_update(&ctx, data, len);
  ethp2p_keccak256_final(&ctx, out);
}
