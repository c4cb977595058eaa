/*
 * core/bytes.h — network byte order (big-endian) loads and stores, internal
 * to the library.  The one set every wire codec uses (NAT-PMP, PCP, STUN,
 * discovery, RLPx): no alignment needed, no host-order assumptions.
 * Args: p points at 2, 4 or 8 readable (get) or writable (put) bytes.
 */
#ifndef ETHP2P_CORE_BYTES_H
#define ETHP2P_CORE_BYTES_H

#include <stdint.h>

static inline uint16_t ethp2p_get_be16(const uint8_t *p) {
  return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t ethp2p_get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t ethp2p_get_be64(const uint8_t *p) {
  return (uint64_t)ethp2p_get_be32(p) << 32 | ethp2p_get_be32(p + 4);
}

static inline void ethp2p_put_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void ethp2p_put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static inline void ethp2p_put_be64(uint8_t *p, uint64_t v) {
  ethp2p_put_be32(p, (uint32_t)(v >> 32));
  ethp2p_put_be32(p + 4, (uint32_t)v);
}

#endif
