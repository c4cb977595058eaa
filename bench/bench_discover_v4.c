/*
 * bench/bench_discover_v4.c — discv4 packet cost.
 *
 *   BENCH discv4_pings_per_s           encode + sign + decode + recover of a Ping
 *   BENCH discv4_sign_recover_baseline the raw crypto of that: one recoverable
 *                                      signature and one recovery, measured in the
 *                                      same run on the same hash
 *   BENCH discv4_pings_vs_baseline     the ratio (1.0 = the codec costs nothing
 *                                      beyond the crypto)
 *   BENCH discv4_neighbors_decode_per_s  a full 12-node Neighbors packet decoded
 *
 * Each figure is the best of ROUNDS rounds of ROUND_NS thread CPU time,
 * interleaved so that frequency changes hit both sides alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ethp2p/discv4.h"
#include "ethp2p/keccak.h"
#include "ethp2p/secp.h"

#define ROUNDS 5
#define ROUND_NS 200000000ull

static volatile uint64_t sink;
static uint8_t secret[32];
static uint8_t hash32[32];
static ethp2p_discv4_packet ping, back, nb;
static uint8_t nb_pkt[1280];
static size_t nb_len;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void op_ping(void) {
  uint8_t buf[ETHP2P_DISCV4_MAX_PACKET], pub[64];
  size_t len;
  ping.expiration++;
  if (ethp2p_discv4_encode(buf, sizeof buf, &len, NULL, &ping, secret) != 0 ||
      ethp2p_discv4_decode(&back, pub, NULL, buf, len, NULL) != 0)
    abort();
  sink += back.expiration + pub[0];
}

static void op_baseline(void) {
  uint8_t sig[65], pub[64];
  hash32[0]++;
  if (ethp2p_secp_sign_recoverable(sig, hash32, secret) != 0 ||
      ethp2p_secp_recover(pub, sig, hash32) != 0)
    abort();
  sink += pub[0];
}

static void op_neighbors(void) {
  if (ethp2p_discv4_decode(&back, NULL, NULL, nb_pkt, nb_len, NULL) != 0)
    abort();
  sink += back.u.neighbors.n;
}

static double round_rate(void (*op)(void)) {
  uint64_t start = now_ns(), t = start, n = 0;
  while (t - start < ROUND_NS) {
    for (int i = 0; i < 16; i++)
      op();
    n += 16;
    t = now_ns();
  }
  return (double)n * 1e9 / (double)(t - start);
}

int main(void) {
  double best_ping = 0, best_base = 0, best_nb = 0, x;
  ethp2p_keccak256(secret, "bench", 5);
  memset(&ping, 0, sizeof ping);
  ping.type = ETHP2P_DISCV4_PING;
  ping.expiration = 1800000000;
  ping.u.ping.version = 4;
  ping.u.ping.from.addr = ethp2p_addr_v4(203, 0, 113, 7, 30303);
  ping.u.ping.from.tcp = 30303;
  ping.u.ping.to.addr = ethp2p_addr_v4(198, 51, 100, 9, 30303);
  ping.u.ping.has_seq = true;
  ping.u.ping.enr_seq = 1764000000000ull;
  memset(&nb, 0, sizeof nb);
  nb.type = ETHP2P_DISCV4_NEIGHBORS;
  nb.expiration = 1800000000;
  nb.u.neighbors.n = ETHP2P_DISCV4_NEIGHBORS_PER_PACKET;
  for (size_t i = 0; i < nb.u.neighbors.n; i++) {
    uint8_t sk[32], seed[2] = {'n', (uint8_t)i};
    ethp2p_keccak256(sk, seed, 2);
    if (ethp2p_secp_pubkey(NULL, nb.u.neighbors.nodes[i].pub64, sk) != 0)
      return 1;
    nb.u.neighbors.nodes[i].ep.addr = ethp2p_addr_v4(100, 1, (uint8_t)i, 1, 30303);
    nb.u.neighbors.nodes[i].ep.tcp = 30303;
  }
  if (ethp2p_discv4_encode(nb_pkt, sizeof nb_pkt, &nb_len, NULL, &nb, secret) != 0)
    return 1;
  op_ping(); /* warms up the shared context */
  for (int r = 0; r < ROUNDS; r++) {
    if ((x = round_rate(op_baseline)) > best_base)
      best_base = x;
    if ((x = round_rate(op_ping)) > best_ping)
      best_ping = x;
    if ((x = round_rate(op_neighbors)) > best_nb)
      best_nb = x;
  }
  printf("BENCH discv4_pings_per_s %.0f ops/s\n", best_ping);
  printf("BENCH discv4_sign_recover_baseline %.0f ops/s\n", best_base);
  printf("BENCH discv4_pings_vs_baseline %.3f ratio\n", best_ping / best_base);
  printf("BENCH discv4_neighbors_decode_per_s %.0f ops/s\n", best_nb);
  return 0;
}
