/*
 * bench/bench_discover_v5.c — discv5 handshakes and message decoding against the raw
 * cost of the cryptography they cannot avoid, measured in the same run.
 *
 *   discv5_handshakes_per_s      complete handshakes between two in-process nodes A and B
 *                                (PING without a session -> WHOAREYOU -> handshake packet
 *                                -> PONG, packets handed over through mux-style send
 *                                functions); B already holds A's record, so no record is
 *                                sent or verified (the steady state of a known peer)
 *   discv5_handshake_crypto_per_s  the raw libsecp256k1/OpenSSL work of one handshake, both
 *                                sides: ephemeral key generation, two ECDH, one sign, one
 *                                verify
 *   discv5_handshakes_vs_crypto  their ratio (goal >= 0.8)
 *   discv5_msgs_per_s            decode (unmask, parse) + decrypt + message decode of a
 *                                95-byte PING message packet (the spec's vector)
 *   aes128gcm_open_per_s         raw AES-128-GCM open of the same ciphertext and AD
 *   discv5_msgs_vs_aes_gcm       their ratio
 *   discv5_node_heap_bytes       heap of one node sized for 1,000 stored records and 200
 *                                sessions (all storage is allocated at create, so this is
 *                                its ceiling; mallinfo2 before and after)
 *
 * Time is this thread's CPU time; the two sides of a ratio run in alternating rounds of
 * ~0.1 s.  Rates are the best round; a ratio is the median of the 15 ratios of
 * neighbouring rounds, so a round slowed by the other processes on this shared machine
 * does not decide it.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enr/crypto.h"
#include "ethp2p/discv5.h"
#include "ethp2p/encoding.h"
#include "ethp2p/secp.h"
#include "ethp2p/sim.h"
#include "p2p/discover/v5wire.h"

#define ROUNDS 15
#define ROUND_NS 100000000ull

static volatile uint64_t sink;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double round_rate(void (*op)(void)) {
  uint64_t start = now_ns(), t = start, n = 0;
  while (t - start < ROUND_NS) {
    for (int i = 0; i < 8; i++)
      op();
    n += 8;
    t = now_ns();
  }
  return (double)n * 1e9 / (double)(t - start);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof v[0], cmp_double);
  return v[n / 2];
}

/* --- two nodes wired back to back ------------------------------------------- */

typedef struct pkt {
  int to; /* 0 = A, 1 = B */
  ethp2p_addr from;
  size_t len;
  uint8_t buf[ETHP2P_V5_MAX_PACKET];
} pkt;

static pkt queue[16];
static size_t qn;
static ethp2p_discv5 *nodes[2];
static ethp2p_addr addrs[2];
static ethp2p_discv5_peer peer_b;
static uint8_t id_a[32], id_b[32];
static int pongs;

static int send_from(int self, const ethp2p_addr *to, const uint8_t *buf, size_t len) {
  if (qn >= sizeof queue / sizeof queue[0])
    abort();
  pkt *p = &queue[qn++];
  p->to = ethp2p_addr_equal(to, &addrs[0], true) ? 0 : 1;
  p->from = addrs[self];
  p->len = len;
  memcpy(p->buf, buf, len);
  return 0;
}
static int send_a(void *d, const ethp2p_addr *to, const uint8_t *b, size_t n) {
  (void)d;
  return send_from(0, to, b, n);
}
static int send_b(void *d, const ethp2p_addr *to, const uint8_t *b, size_t n) {
  (void)d;
  return send_from(1, to, b, n);
}

static void pump(void) {
  static pkt cur;
  while (qn > 0) {
    cur = queue[0];
    memmove(queue, queue + 1, (qn - 1) * sizeof queue[0]);
    qn--;
    (void)ethp2p_discv5_handle_packet(nodes[cur.to], &cur.from, cur.buf, cur.len);
  }
}

static void on_pong(void *data, int status, const ethp2p_discv5_pong *pong) {
  (void)data;
  (void)pong;
  if (status != 0)
    abort();
  pongs++;
}

static void op_handshake(void) {
  ethp2p_discv5_session_drop(nodes[0], id_b);
  ethp2p_discv5_session_drop(nodes[1], id_a);
  int before = pongs;
  if (ethp2p_discv5_ping(nodes[0], &peer_b, on_pong, NULL) != 0)
    abort();
  pump();
  if (pongs != before + 1)
    abort();
}

static void setup_nodes(ethp2p_env *env) {
  uint8_t key[2][32];
  ethp2p_enr rec[2];
  for (int i = 0; i < 2; i++) {
    memset(key[i], 0x31 + i, 32);
    addrs[i] = ethp2p_addr_v4(10, 0, 0, (uint8_t)(1 + i), 9000);
    ethp2p_enr_init(&rec[i]);
    if (ethp2p_enr_seq_set(&rec[i], 1) != 0 || ethp2p_enr_ip_set(&rec[i], addrs[i].ip) != 0 ||
        ethp2p_enr_port_set(&rec[i], ETHP2P_ENR_UDP, 9000) != 0 ||
        ethp2p_enr_sign(&rec[i], key[i]) != 0)
      abort();
    ethp2p_discv5_config cfg = {.secret = key[i],
                                .record = &rec[i],
                                .send = i == 0 ? send_a : send_b,
                                .request_timeout = 10 * ETHP2P_SEC,
                                /* back-to-back handshakes from one IP: no rate limit */
                                .whoareyou_ip_rate = 1000000000,
                                .whoareyou_rate = 1000000000};
    if (ethp2p_discv5_create(env, &cfg, &nodes[i]) != 0)
      abort();
  }
  if (ethp2p_enr_node_id(id_a, &rec[0]) != 0 || ethp2p_enr_node_id(id_b, &rec[1]) != 0 ||
      ethp2p_discv5_peer_from_enr(&peer_b, &rec[1]) != 0 ||
      ethp2p_discv5_add_node(nodes[1], &rec[0]) != 0)
    abort();
}

/* --- the raw crypto of one handshake -------------------------------------------- */

static uint8_t sec_a[32], sec_b[32], pub_a[33], pub_b[33], hash[32];

static void op_crypto(void) {
  uint8_t eph[32], eph_pub[33], s1[33], s2[33], sig[64];
  memset(eph, 0x5a, 32);
  eph[31] = (uint8_t)sink;
  if (ethp2p_secp_pubkey(eph_pub, NULL, eph) != 0 ||   /* A: ephemeral key */
      ethp2p_secp_ecdh_pub33(s1, pub_b, eph) != 0 ||   /* A: ECDH */
      ethp2p_secp_sign(sig, hash, sec_a) != 0 ||       /* A: id signature */
      ethp2p_secp_verify(sig, hash, pub_a) != 0 ||     /* B: check it */
      ethp2p_secp_ecdh_pub33(s2, eph_pub, sec_b) != 0) /* B: ECDH */
    abort();
  sink += s1[1] ^ s2[1];
}

/* --- message decoding vs raw AES-GCM ----------------------------------------------- */

static uint8_t ping_pkt[95], b_id[32], ping_key[16];
static ethp2p_v5_packet ping_decoded;
static uint8_t ping_scratch[ETHP2P_V5_HEADER_MAX];

static ethp2p_aes_block *b_mask; /* the node's masking key, set up once as the node does */

static void op_msg(void) {
  uint8_t scratch[ETHP2P_V5_HEADER_MAX], pt[128];
  ethp2p_v5_packet p;
  ethp2p_v5_msg m;
  size_t n;
  if (ethp2p_v5_packet_decode_masked(&p, scratch, b_mask, ping_pkt, sizeof ping_pkt, NULL) != 0 ||
      ethp2p_v5_packet_open(pt, sizeof pt, &n, &p, ping_key) != 0 ||
      ethp2p_v5_msg_decode(&m, pt, n, NULL) != 0)
    abort();
  sink += m.enr_seq;
}

static void op_gcm(void) {
  uint8_t pt[128];
  size_t n;
  if (ethp2p_aes_gcm_open(pt, sizeof pt, &n, ping_key, ping_decoded.nonce, ping_decoded.head,
                          ping_decoded.head_len, ping_decoded.msg, ping_decoded.msg_len) != 0)
    abort();
  sink += pt[0];
}

static void unhex(uint8_t *out, size_t cap, const char *hex) {
  size_t n;
  if (ethp2p_hex_decode(out, cap, &n, hex, strlen(hex), NULL) != 0 || n != cap)
    abort();
}

int main(void) {
  ethp2p_sim *w;
  ethp2p_sim_host *h;
  if (ethp2p_sim_create(&w, 1) != 0 || ethp2p_sim_host_create_public(w, &h, "bench", NULL) != 0)
    return 1;
  setup_nodes(ethp2p_sim_host_env(h));
  memset(sec_a, 0x31, 32);
  memset(sec_b, 0x32, 32);
  if (ethp2p_secp_pubkey(pub_a, NULL, sec_a) != 0 || ethp2p_secp_pubkey(pub_b, NULL, sec_b) != 0)
    return 1;
  memset(hash, 0x77, 32);

  /* the spec's ping message packet to node B (discv5-wire-test-vectors.md) */
  unhex(ping_pkt, sizeof ping_pkt,
        "00000000000000000000000000000000088b3d4342774649325f313964a39e55"
        "ea96c005ad52be8c7560413a7008f16c9e6d2f43bbea8814a546b7409ce783d3"
        "4c4f53245d08dab84102ed931f66d1492acb308fa1c6715b9d139b81acbdcc");
  unhex(b_id, sizeof b_id, "bbbb9d047f0488c0b5a93c1c3f2d8bafc7c8ff337024a55434a0d0555de64db9");
  if (ethp2p_aes_block_new(&b_mask, b_id, 16) != 0)
    abort();
  memset(ping_key, 0, sizeof ping_key);
  if (ethp2p_v5_packet_decode(&ping_decoded, ping_scratch, b_id, ping_pkt, sizeof ping_pkt, NULL) !=
      0)
    return 1;

  op_handshake();
  op_crypto();
  double hs = 0, cr = 0, msg = 0, gcm = 0, x, y, rh[ROUNDS], rm[ROUNDS];
  for (int i = 0; i < ROUNDS; i++) {
    x = round_rate(op_crypto);
    y = round_rate(op_handshake);
    rh[i] = y / x; /* each ratio from two neighbouring rounds */
    cr = x > cr ? x : cr;
    hs = y > hs ? y : hs;
  }
  for (int i = 0; i < ROUNDS; i++) {
    x = round_rate(op_gcm);
    y = round_rate(op_msg);
    rm[i] = y / x;
    gcm = x > gcm ? x : gcm;
    msg = y > msg ? y : msg;
  }
  printf("BENCH discv5_handshakes_per_s %.0f ops/s\n", hs);
  printf("BENCH discv5_handshake_crypto_per_s %.0f ops/s\n", cr);
  printf("BENCH discv5_handshakes_vs_crypto %.3f ratio\n", median(rh, ROUNDS));
  printf("BENCH discv5_msgs_per_s %.0f ops/s\n", msg);
  printf("BENCH aes128gcm_open_per_s %.0f ops/s\n", gcm);
  printf("BENCH discv5_msgs_vs_aes_gcm %.3f ratio\n", median(rm, ROUNDS));
  {
    uint8_t k[32];
    ethp2p_enr r;
    ethp2p_discv5 *big;
    memset(k, 0x44, 32);
    ethp2p_enr_init(&r);
    if (ethp2p_enr_seq_set(&r, 1) != 0 || ethp2p_enr_sign(&r, k) != 0)
      return 1;
    ethp2p_discv5_config cfg = {
        .secret = k, .record = &r, .send = send_a, .store_cap = 1000, .session_cap = 200};
    struct mallinfo2 m0 = mallinfo2();
    if (ethp2p_discv5_create(ethp2p_sim_host_env(h), &cfg, &big) != 0)
      return 1;
    struct mallinfo2 m1 = mallinfo2();
    size_t before = m0.uordblks + m0.hblkhd, after = m1.uordblks + m1.hblkhd;
    printf("BENCH discv5_node_heap_bytes %zu bytes\n", after - before);
    ethp2p_discv5_destroy(big);
  }
  ethp2p_discv5_destroy(nodes[0]);
  ethp2p_discv5_destroy(nodes[1]);
  ethp2p_sim_destroy(w);
  ethp2p_aes_block_free(b_mask);
  return 0;
}
