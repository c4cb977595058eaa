/*
 * bench/bench_rlpx.c — RLPx handshakes and frames against the raw cost of their
 * crypto, measured in the same run, and the memory of held peers.
 *
 *   rlpx_handshakes_per_s        complete handshakes (both sides: auth written and
 *                                read, ack written and read, secrets and frame codecs
 *                                on both ends) per second of CPU
 *   rlpx_handshake_crypto_per_s  the elliptic-curve work one handshake cannot avoid,
 *                                on raw libsecp256k1: 8 ECDH (static and ephemeral
 *                                agreement, two ECIES encryptions and decryptions),
 *                                3 key generations (two ECIES keys, the recipient's
 *                                ephemeral key), 1 recoverable signature, 1 recovery
 *   rlpx_handshake_vs_crypto     the ratio (goal >= 0.8)
 *   rlpx_frame_mb_per_s          seal + open of 4 KiB frames (MB of payload per second)
 *   rlpx_frame_raw_mb_per_s      raw AES-256-CTR encrypt + decrypt and keccak updates
 *                                on both sides over the same bytes
 *   rlpx_frame_vs_raw            the ratio
 *   peers_held / peers_rss_kb_per_peer   (with --peers N, default 1000): a host on a
 *                                libuv loop accepts N loopback peers dialed by a child
 *                                process; RSS growth of the host process per peer
 *
 * Time is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID); figures are the best of
 * interleaved rounds of ~0.1 s, so both sides of a ratio see the same conditions.
 */
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_recovery.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "enr/crypto.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/keccak.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

#define ROUNDS 9
#define ROUND_NS 100000000ull
#define FRAME_BODY 4096

static volatile uint64_t sink;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double round_rate(void (*op)(void)) {
  uint64_t t0 = now_ns(), n = 0, t;
  do {
    op();
    n++;
    t = now_ns();
  } while (t - t0 < ROUND_NS);
  return (double)n * 1e9 / (double)(t - t0);
}

/* ---- handshakes ---- */
static uint8_t key_a[32], key_b[32], pub_b[64], ctr_seed;
static ethp2p_rlpx_hs hs_a, hs_b;

static void fill(uint8_t *p, size_t n) {
  size_t i;
  ctr_seed++;
  for (i = 0; i < n; i++)
    p[i] = (uint8_t)(ctr_seed * 31 + i * 7 + 1);
}

static void op_handshake(void) {
  static uint8_t auth[ETHP2P_RLPX_HS_MAX], ack[ETHP2P_RLPX_HS_MAX];
  uint8_t eph_a[32], eph_b[32], na[32], nb[32], rnd[ETHP2P_RLPX_HS_RANDOM_LEN];
  ethp2p_rlpx_secrets sa, sb;
  ethp2p_rlpx_frame *fa, *fb;
  size_t al, kl, used;
  fill(eph_a, 32);
  fill(eph_b, 32);
  fill(na, 32);
  fill(nb, 32);
  if (ethp2p_rlpx_hs_init(&hs_a, true, key_a, eph_a, na, pub_b) != 0 ||
      ethp2p_rlpx_hs_init(&hs_b, false, key_b, eph_b, nb, NULL) != 0)
    abort();
  fill(rnd, sizeof rnd);
  if (ethp2p_rlpx_hs_write_auth(&hs_a, auth, sizeof auth, &al, rnd) != 0 ||
      ethp2p_rlpx_hs_read_auth(&hs_b, auth, al, &used) != 0)
    abort();
  fill(rnd, sizeof rnd);
  if (ethp2p_rlpx_hs_write_ack(&hs_b, ack, sizeof ack, &kl, rnd) != 0 ||
      ethp2p_rlpx_hs_read_ack(&hs_a, ack, kl, &used) != 0)
    abort();
  if (ethp2p_rlpx_hs_secrets(&hs_a, &sa) != 0 || ethp2p_rlpx_hs_secrets(&hs_b, &sb) != 0 ||
      ethp2p_rlpx_frame_create(&fa, &sa) != 0 || ethp2p_rlpx_frame_create(&fb, &sb) != 0)
    abort();
  sink += sa.aes[0] ^ sb.aes[0];
  ethp2p_rlpx_frame_destroy(fa);
  ethp2p_rlpx_frame_destroy(fb);
}

static int copy_x(unsigned char *out, const unsigned char *x, const unsigned char *y, void *d) {
  (void)y;
  (void)d;
  memcpy(out, x, 32);
  return 1;
}

static void op_crypto(void) {
  const secp256k1_context *ctx = ethp2p_secp_context();
  secp256k1_pubkey pk[3], peer;
  secp256k1_ecdsa_recoverable_signature sig;
  uint8_t k[3][32], x[32], msg[32], pubser[65];
  size_t i, n = 65;
  for (i = 0; i < 3; i++) {
    fill(k[i], 32);
    if (!secp256k1_ec_pubkey_create(ctx, &pk[i], k[i]))
      abort();
  }
  fill(msg, 32);
  if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, msg, k[0], NULL, NULL) ||
      !secp256k1_ecdsa_recover(ctx, &peer, &sig, msg))
    abort();
  for (i = 0; i < 8; i++)
    if (!secp256k1_ecdh(ctx, x, &pk[i % 3], k[(i + 1) % 3], copy_x, NULL))
      abort();
  secp256k1_ec_pubkey_serialize(ctx, pubser, &n, &peer, SECP256K1_EC_UNCOMPRESSED);
  sink += x[0] + pubser[1];
}

/* ---- frames ---- */
static ethp2p_rlpx_frame *fa, *fb;
static uint8_t body[FRAME_BODY], wire[FRAME_BODY + 64];
static ethp2p_aes_ctr *raw_enc, *raw_dec;
static ethp2p_keccak256_ctx raw_k1, raw_k2;

static void op_frame(void) {
  size_t len, bl, need;
  if (ethp2p_rlpx_frame_seal(fa, wire, sizeof wire, &len, body, sizeof body) != 0 ||
      ethp2p_rlpx_frame_open_header(fb, wire, ETHP2P_RLPX_FRAME_MAX, &bl, &need) != 0 ||
      ethp2p_rlpx_frame_open_body(fb, wire + 32, need) != 0)
    abort();
  sink += wire[40];
}

static void op_frame_raw(void) {
  if (ethp2p_aes_ctr_xor(raw_enc, wire, body, sizeof body) != 0)
    abort();
  ethp2p_keccak256_update(&raw_k1, wire, sizeof body);
  ethp2p_keccak256_update(&raw_k2, wire, sizeof body);
  if (ethp2p_aes_ctr_xor(raw_dec, wire, wire, sizeof body) != 0)
    abort();
  sink += wire[40];
}

static void setup_frames(void) {
  ethp2p_rlpx_secrets sa, sb;
  uint8_t ea[32], eb[32], pa[64], pb[64], n1[32], n2[32], iv[16] = {0};
  memset(ea, 0x21, 32);
  memset(eb, 0x42, 32);
  memset(n1, 1, 32);
  memset(n2, 2, 32);
  if (ethp2p_secp_pubkey(NULL, pa, ea) != 0 || ethp2p_secp_pubkey(NULL, pb, eb) != 0 ||
      ethp2p_rlpx_secrets_derive(&sa, true, ea, pb, n1, n2, n1, 32, n2, 32, NULL) != 0 ||
      ethp2p_rlpx_secrets_derive(&sb, false, eb, pa, n1, n2, n1, 32, n2, 32, NULL) != 0 ||
      ethp2p_rlpx_frame_create(&fa, &sa) != 0 || ethp2p_rlpx_frame_create(&fb, &sb) != 0 ||
      ethp2p_aes_ctr_new(&raw_enc, sa.aes, 32, iv) != 0 ||
      ethp2p_aes_ctr_new(&raw_dec, sa.aes, 32, iv) != 0)
    abort();
  ethp2p_keccak256_init(&raw_k1);
  ethp2p_keccak256_init(&raw_k2);
  fill(body, sizeof body);
}

/* ---- peers held ---- */
static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "VmRSS:", 6) == 0)
      kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

typedef struct held {
  uv_loop_t loop;
  ethp2p_env *env;
  size_t want, up, failed;
} held;

static void held_event(ethp2p_rlpx_host *h, const ethp2p_rlpx_event *ev, void *data) {
  held *s = data;
  (void)h;
  if (ev->kind == ETHP2P_RLPX_EV_ADDED)
    s->up++;
  else if (ev->kind != ETHP2P_RLPX_EV_PONG) {
    s->failed++;
    if (s->failed <= 3)
      fprintf(stderr, "peer failed: kind=%d error=%s reason=%d\n", (int)ev->kind,
              ethp2p_strerror(ev->info.error), ev->info.reason);
  }
  if (s->up + s->failed >= s->want)
    uv_stop(&s->loop);
}

static void child_up(ethp2p_rlpx_conn *c, const ethp2p_rlpx_hello *h, void *d) {
  (void)c;
  (void)h;
  (void)d;
}
static void child_close(ethp2p_rlpx_conn *c, const ethp2p_rlpx_close_info *i, void *d) {
  (void)c;
  (void)i;
  (void)d;
}

/* The child dials n peers with distinct keys and keeps them until killed. */
static void run_dialers(const uint8_t host_pub[64], ethp2p_addr to, size_t n) {
  static const ethp2p_rlpx_conn_cbs cbs = {child_up, NULL, NULL, child_close};
  ethp2p_rlpx_cap cap = {"tiny", 1};
  uv_loop_t loop;
  ethp2p_env *env;
  size_t i;
  if (uv_loop_init(&loop) != 0 || ethp2p_uvenv_create(&loop, &env) != 0)
    _exit(1);
  for (i = 0; i < n; i++) {
    ethp2p_rlpx_conn_config cfg;
    ethp2p_rlpx_conn *c;
    uint8_t key[32];
    memset(key, 0, sizeof key);
    key[0] = 0x11;
    key[30] = (uint8_t)(i >> 8);
    key[31] = (uint8_t)(i + 1);
    memset(&cfg, 0, sizeof cfg);
    cfg.secret = key;
    cfg.caps = &cap;
    cfg.ncaps = 1;
    cfg.handshake_timeout = 60 * ETHP2P_SEC;
    cfg.ping_interval = 3600 * ETHP2P_SEC;
    cfg.read_timeout = 7200 * ETHP2P_SEC;
    if (ethp2p_rlpx_conn_dial(&c, env, &cfg, host_pub, &to, &cbs, NULL) != 0)
      _exit(1);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  _exit(0);
}

static void peers_held(size_t n) {
  static held s;
  ethp2p_rlpx_host *h;
  ethp2p_rlpx_host_config cfg;
  ethp2p_rlpx_protocol tiny = {"tiny", 1, 2, NULL, NULL, NULL, NULL};
  ethp2p_addr bind = ethp2p_addr_v4(127, 0, 0, 1, 0), local;
  uint8_t key[32], pub[64];
  struct rlimit rl;
  long before, after;
  pid_t pid;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
    rl.rlim_cur = rl.rlim_max < n + 64 ? rl.rlim_max : n + 64;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  memset(key, 0x5a, sizeof key);
  if (ethp2p_secp_pubkey(NULL, pub, key) != 0 || uv_loop_init(&s.loop) != 0 ||
      ethp2p_uvenv_create(&s.loop, &s.env) != 0)
    abort();
  memset(&cfg, 0, sizeof cfg);
  cfg.secret = key;
  cfg.max_peers = n + 10;
  cfg.max_pending = n + 10;
  cfg.dial_ratio = (unsigned)(n + 10); /* inbound only: leave one dialed slot */
  cfg.handshake_timeout = 60 * ETHP2P_SEC;
  cfg.ping_interval = 3600 * ETHP2P_SEC;
  cfg.read_timeout = 7200 * ETHP2P_SEC;
  cfg.on_event = held_event;
  cfg.event_data = &s;
  s.want = n;
  if (ethp2p_rlpx_host_create(&h, s.env, &cfg) != 0 || ethp2p_rlpx_host_register(h, &tiny) < 0 ||
      ethp2p_rlpx_host_listen(h, &bind) != 0 || ethp2p_rlpx_host_local_addr(h, &local) != 0)
    abort();
  before = rss_kb();
  fflush(stdout);
  pid = fork();
  if (pid == 0)
    run_dialers(pub, local, n);
  uv_run(&s.loop, UV_RUN_DEFAULT);
  after = rss_kb();
  printf("BENCH peers_held %zu peers\n", s.up);
  printf("BENCH peers_failed %zu peers\n", s.failed);
  printf("BENCH peers_rss_kb_per_peer %.1f KB\n",
         s.up > 0 ? (double)(after - before) / (double)s.up : 0.0);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  ethp2p_rlpx_host_destroy(h);
  ethp2p_uvenv_destroy(s.env);
  uv_run(&s.loop, UV_RUN_NOWAIT);
  (void)uv_loop_close(&s.loop);
}

int main(int argc, char **argv) {
  double hs = 0, cr = 0, fr = 0, raw = 0, x;
  size_t peers = 1000;
  int r;
  if (argc == 3 && strcmp(argv[1], "--peers") == 0)
    peers = (size_t)strtoul(argv[2], NULL, 10);
  memset(key_a, 0x31, 32);
  memset(key_b, 0x62, 32);
  if (ethp2p_secp_pubkey(NULL, pub_b, key_b) != 0)
    abort();
  setup_frames();
  for (r = 0; r < ROUNDS; r++) {
    x = round_rate(op_crypto);
    cr = x > cr ? x : cr;
    x = round_rate(op_handshake);
    hs = x > hs ? x : hs;
    x = round_rate(op_frame_raw);
    raw = x > raw ? x : raw;
    x = round_rate(op_frame);
    fr = x > fr ? x : fr;
  }
  printf("BENCH rlpx_handshakes_per_s %.0f ops/s\n", hs);
  printf("BENCH rlpx_handshake_crypto_per_s %.0f ops/s\n", cr);
  printf("BENCH rlpx_handshake_vs_crypto %.3f ratio\n", hs / cr);
  printf("BENCH rlpx_frame_mb_per_s %.1f MB/s\n", fr * FRAME_BODY / 1e6);
  printf("BENCH rlpx_frame_raw_mb_per_s %.1f MB/s\n", raw * FRAME_BODY / 1e6);
  printf("BENCH rlpx_frame_vs_raw %.3f ratio\n", fr / raw);
  fflush(stdout);
  if (peers > 0)
    peers_held(peers);
  return 0;
}
