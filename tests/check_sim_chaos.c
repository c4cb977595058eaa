/* tests/check_sim_chaos.c — random operations on a world (sockets opened and
 * closed inside callbacks, timers destroyed, NAT reboots, address changes,
 * outages, forwards, TCP streams) must never crash or leak (run under ASan),
 * must keep TCP streams intact, and must replay identically from the seed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env.h"
#include "ethp2p/sim.h"

#define HOSTS 8
#define SOCKS 4

typedef struct actor {
  ethp2p_sim_host *host;
  ethp2p_udp *udp[SOCKS];
  ethp2p_timer *timer;
  uint64_t rx;
} actor;

typedef struct world {
  ethp2p_sim *w;
  ethp2p_sim_nat *box[2];
  actor a[HOSTS];
  ethp2p_addr targets[HOSTS];
  uint64_t rng;
} world;

static uint64_t next(world *W) {
  W->rng = W->rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return W->rng >> 33;
}

static void rx(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *b, size_t n, void *d) {
  actor *a = d;
  (void)b;
  (void)n;
  a->rx++;
  /* Sometimes answer, sometimes close the socket from inside its own callback. */
  if ((a->rx % 7) == 0) {
    int i;
    for (i = 0; i < SOCKS; i++)
      if (a->udp[i] == u) {
        ethp2p_udp_close(u);
        a->udp[i] = NULL;
        return;
      }
  }
  ethp2p_udp_send(u, from, (const uint8_t *)"re", 2);
}

static void tick(ethp2p_timer *t, void *d);

static world *G;

static void tick(ethp2p_timer *t, void *d) {
  actor *a = d;
  world *W = G;
  unsigned k = (unsigned)next(W) % 10;
  int s = (int)(next(W) % SOCKS);
  if (k < 6) {
    if (a->udp[s] != NULL) {
      ethp2p_addr to = W->targets[next(W) % HOSTS];
      uint8_t buf[32];
      ethp2p_env_random(t->env, buf, sizeof(buf));
      ethp2p_udp_send(a->udp[s], &to, buf, 1 + next(W) % 32);
    }
  } else if (k < 8) {
    if (a->udp[s] == NULL) {
      ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, (uint16_t)(next(W) % 3 ? 0 : 5000 + s));
      ethp2p_udp_open(t->env, &a->udp[s], &any, 0, rx, a);
    } else {
      ethp2p_udp_close(a->udp[s]);
      a->udp[s] = NULL;
    }
  } else if (k == 8) {
    /* Destroy and recreate our own timer inside its callback. */
    ethp2p_env *env = t->env;
    ethp2p_timer_destroy(t);
    a->timer = NULL;
    if (ethp2p_timer_create(env, &a->timer, tick, a) != 0)
      return;
    t = a->timer;
  }
  ethp2p_timer_start(t, ethp2p_env_now(t->env) + (1 + next(W) % 200) * ETHP2P_MSEC);
}

static void build(world *W, uint64_t seed) {
  ethp2p_sim_nat_config cfg = ethp2p_sim_nat_config_default();
  ethp2p_sim_link lossy = {10 * ETHP2P_MSEC, 30 * ETHP2P_MSEC, 0.2};
  int i, s;
  memset(W, 0, sizeof(*W));
  W->rng = seed;
  G = W;
  ck_assert_int_eq(ethp2p_sim_create(&W->w, seed), 0);
  ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_internet(W->w), &lossy), 0);
  cfg.mapping = ETHP2P_NAT_POLICY_APD;
  cfg.allocation = ETHP2P_NAT_ALLOC_RANDOM;
  cfg.udp_timeout = 5 * ETHP2P_SEC;
  ck_assert_int_eq(ethp2p_sim_nat_create(W->w, &W->box[0], "a", &cfg), 0);
  cfg.filtering = ETHP2P_NAT_POLICY_EI;
  cfg.allocation = ETHP2P_NAT_ALLOC_CONTIGUOUS;
  cfg.outside = ethp2p_sim_nat_lan(W->box[0]);
  cfg.outside_addr = ethp2p_addr_v4(192, 168, 1, 200, 0);
  cfg.outside_gateway = ethp2p_sim_nat_inside_addr(W->box[0]);
  cfg.inside_addr = ethp2p_addr_v4(10, 0, 0, 1, 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(W->w, &W->box[1], "b", &cfg), 0);
  for (i = 0; i < HOSTS; i++) {
    actor *a = &W->a[i];
    if (i < 3)
      ck_assert_int_eq(ethp2p_sim_nat_add_host(W->box[0], &a->host, "l0", NULL), 0);
    else if (i < 5)
      ck_assert_int_eq(ethp2p_sim_nat_add_host(W->box[1], &a->host, "l1", NULL), 0);
    else
      ck_assert_int_eq(ethp2p_sim_host_create_public(W->w, &a->host, "pub", NULL), 0);
    W->targets[i] = ethp2p_sim_host_addr(a->host);
    W->targets[i].port = (uint16_t)(5000 + i % SOCKS);
    for (s = 0; s < SOCKS; s++) {
      ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, (uint16_t)(5000 + s));
      ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(a->host), &a->udp[s], &any, 0, rx, a),
                       0);
    }
    ck_assert_int_eq(ethp2p_timer_create(ethp2p_sim_host_env(a->host), &a->timer, tick, a), 0);
    ethp2p_timer_start(a->timer, ethp2p_sim_now(W->w));
  }
  /* Targets on the NATs' external addresses too (sometimes forwarded). */
  W->targets[0] = ethp2p_sim_nat_external_addr(W->box[0]);
  W->targets[0].port = 5000;
}

static void god(world *W) {
  ethp2p_sim_nat *b = W->box[next(W) % 2];
  unsigned k = (unsigned)next(W) % 6;
  if (k == 0) {
    ethp2p_sim_nat_reboot(b);
  } else if (k == 1 && b == W->box[0]) {
    ethp2p_addr a =
        ethp2p_addr_v4(30, 0, (uint8_t)(next(W) % 200), (uint8_t)(1 + next(W) % 200), 0);
    ethp2p_sim_nat_set_external_addr(b, &a);
  } else if (k == 2) {
    if (ethp2p_sim_nat_is_up(b))
      ethp2p_sim_nat_down(b);
    else
      ethp2p_sim_nat_up(b);
  } else {
    ethp2p_sim_forward f;
    memset(&f, 0, sizeof(f));
    f.proto = ETHP2P_SIM_UDP;
    f.external_port = 5000;
    f.internal = ethp2p_sim_host_addr(W->a[b == W->box[0] ? 1 : 3].host);
    f.internal.port = 5001;
    f.expires = ethp2p_sim_now(W->w) + (1 + next(W) % 20) * ETHP2P_SEC;
    ethp2p_sim_nat_forward_add(b, &f);
  }
}

static uint64_t chaos(uint64_t seed, uint64_t *received) {
  world W;
  int step, i, s;
  uint64_t h;
  build(&W, seed);
  for (step = 0; step < 200; step++) {
    ethp2p_sim_run(W.w, (1 + next(&W) % 2000) * ETHP2P_MSEC);
    god(&W);
  }
  *received = 0;
  for (i = 0; i < HOSTS; i++) {
    *received += W.a[i].rx;
    ethp2p_timer_destroy(W.a[i].timer);
    for (s = 0; s < SOCKS; s++)
      ethp2p_udp_close(W.a[i].udp[s]);
  }
  ck_assert_int_eq(ethp2p_sim_run_until_idle(W.w, 10000000), 0);
  h = ethp2p_sim_trace_hash(W.w);
  ethp2p_sim_destroy(W.w);
  return h;
}

START_TEST(random_operations_replay_identically_from_the_seed) {
  uint64_t r1, r2, r3;
  uint64_t h1 = chaos(1000 + (uint64_t)_i, &r1);
  uint64_t h2 = chaos(1000 + (uint64_t)_i, &r2);
  uint64_t h3 = chaos(5000 + (uint64_t)_i, &r3);
  ck_assert_msg(h1 == h2, "seed %d: replay differs", 1000 + _i);
  ck_assert_uint_eq(r1, r2);
  ck_assert_uint_gt(r1, 100);
  ck_assert_uint_ne(h1, h3);
}
END_TEST

/* ---- big TCP transfers stay intact and in order --------------------------------------- */
typedef struct stream {
  uint8_t *buf;
  size_t len;
  int end;
  ethp2p_tcp *conn;
} stream;

static void s_read(ethp2p_tcp *c, int status, const uint8_t *b, size_t n, void *d) {
  stream *s = d;
  (void)c;
  if (status != 0) {
    s->end = status;
    return;
  }
  memcpy(s->buf + s->len, b, n);
  s->len += n;
}

static void s_accept(ethp2p_tcp *l, ethp2p_tcp *c, void *d) {
  stream *s = d;
  (void)l;
  s->conn = c;
  ck_assert_int_eq(ethp2p_tcp_read_start(c, s_read, s), 0);
}

static void s_connected(ethp2p_tcp *c, int status, void *d) {
  size_t i;
  uint8_t *data = d;
  ck_assert_int_eq(status, 0);
  for (i = 0; i < 300000; i += 50000)
    ck_assert_int_eq(ethp2p_tcp_write(c, data + i, 50000), 0);
  ck_assert_int_eq(ethp2p_tcp_shutdown(c), 0);
  ck_assert_int_eq(ethp2p_tcp_write(c, data, 1), ETHP2P_ECLOSED);
}

START_TEST(tcp_stream_of_300k_through_double_nat_arrives_intact) {
  world W;
  ethp2p_tcp *l, *c;
  stream s;
  uint8_t *data = malloc(300000);
  size_t i;
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 8080), to;
  int k;
  ck_assert_ptr_nonnull(data);
  for (i = 0; i < 300000; i++)
    data[i] = (uint8_t)(i * 31 + (i >> 8));
  memset(&s, 0, sizeof(s));
  s.buf = malloc(300000);
  build(&W, 77);
  for (k = 0; k < HOSTS; k++) {
    ethp2p_timer_destroy(W.a[k].timer); /* quiet world */
    W.a[k].timer = NULL;
  }
  ck_assert_int_eq(ethp2p_tcp_listen(ethp2p_sim_host_env(W.a[7].host), &l, &any, s_accept, &s), 0);
  to = ethp2p_sim_host_addr(W.a[7].host);
  to.port = 8080;
  /* From behind both boxes (host 3 is on box b, which sits behind box a). */
  ck_assert_int_eq(
      ethp2p_tcp_connect(ethp2p_sim_host_env(W.a[3].host), &c, &to, NULL, s_connected, data), 0);
  ethp2p_sim_run(W.w, 5 * ETHP2P_SEC);
  ck_assert_uint_eq(s.len, 300000);
  ck_assert_mem_eq(s.buf, data, 300000);
  ck_assert_int_eq(s.end, ETHP2P_ECLOSED);
  ethp2p_tcp_close(c);
  ethp2p_tcp_close(s.conn);
  ethp2p_tcp_close(l);
  for (k = 0; k < HOSTS; k++)
    for (i = 0; i < SOCKS; i++)
      ethp2p_udp_close(W.a[k].udp[i]);
  ethp2p_sim_destroy(W.w);
  free(s.buf);
  free(data);
}
END_TEST

START_TEST(a_host_that_is_down_neither_sends_nor_receives) {
  world W;
  int k;
  size_t i;
  uint64_t before;
  build(&W, 99);
  for (k = 0; k < HOSTS; k++) {
    ethp2p_timer_destroy(W.a[k].timer);
    W.a[k].timer = NULL;
  }
  ethp2p_sim_host_set_up(W.a[6].host, false);
  before = ethp2p_sim_drops(W.w, ETHP2P_SIM_DROP_HOST_DOWN);
  {
    ethp2p_addr to6 = W.targets[6], to7 = W.targets[7];
    to6.port = 5000;
    to7.port = 5000;
    ck_assert_int_eq(ethp2p_udp_send(W.a[7].udp[0], &to6, (const uint8_t *)"x", 1), 0);
    ck_assert_int_eq(ethp2p_udp_send(W.a[6].udp[0], &to7, (const uint8_t *)"x", 1), 0);
  }
  ethp2p_sim_run(W.w, ETHP2P_SEC);
  ck_assert_uint_eq(W.a[6].rx, 0);
  ck_assert_uint_eq(W.a[7].rx, 0);
  ck_assert_uint_eq(ethp2p_sim_drops(W.w, ETHP2P_SIM_DROP_HOST_DOWN) - before, 2);
  for (k = 0; k < HOSTS; k++)
    for (i = 0; i < SOCKS; i++)
      ethp2p_udp_close(W.a[k].udp[i]);
  ethp2p_sim_destroy(W.w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_chaos");
  TCase *tc = tcase_create("chaos");
  SRunner *sr;
  int failed;
  tcase_add_loop_test(tc, random_operations_replay_identically_from_the_seed, 0, 8);
  tcase_add_test(tc, tcp_stream_of_300k_through_double_nat_arrives_intact);
  tcase_add_test(tc, a_host_that_is_down_neither_sends_nor_receives);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
