/* tests/check_sim_example.c — the "few lines" example from docs/sim.md: a LAN behind
 * a chosen NAT type, a host's code running for a simulated week, and assertions
 * on what an outside host saw.  Fast (well under a second) and identical on every
 * run. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env.h"
#include "ethp2p/sim.h"

/* ---- the "host's code": a keepalive every 25 s from UDP port 30303 ---------------------- */
typedef struct keepalive {
  ethp2p_udp *udp;
  ethp2p_timer *timer;
  ethp2p_addr server;
} keepalive;

static void keepalive_tick(ethp2p_timer *t, void *data) {
  keepalive *k = data;
  ethp2p_udp_send(k->udp, &k->server, (const uint8_t *)"ping", 4);
  ethp2p_timer_start(t, ethp2p_env_now(t->env) + 25 * ETHP2P_SEC);
}

static void ignore_rx(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *b, size_t n, void *d) {
  (void)u, (void)from, (void)b, (void)n, (void)d;
}

static void keepalive_start(keepalive *k, ethp2p_env *env, ethp2p_addr server) {
  ethp2p_addr bind = ethp2p_addr_v4(0, 0, 0, 0, 30303);
  k->server = server;
  ck_assert_int_eq(ethp2p_udp_open(env, &k->udp, &bind, 0, ignore_rx, k), 0);
  ck_assert_int_eq(ethp2p_timer_create(env, &k->timer, keepalive_tick, k), 0);
  ethp2p_timer_start(k->timer, ethp2p_env_now(env));
}

static void keepalive_stop(keepalive *k) {
  ethp2p_timer_destroy(k->timer);
  ethp2p_udp_close(k->udp);
}

/* ---- what the outside host records --------------------------------------------------- */
typedef struct seen {
  uint64_t packets;
  ethp2p_addr first, last;
  uint64_t sources_changed;
} seen;

static void record(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *b, size_t n, void *d) {
  seen *s = d;
  (void)u, (void)b, (void)n;
  if (s->packets == 0)
    s->first = *from;
  else if (!ethp2p_addr_equal(from, &s->last, true))
    s->sources_changed++;
  s->last = *from;
  s->packets++;
}

static uint64_t run_week(uint64_t seed, seen *out) {
  ethp2p_sim *w;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *node, *server;
  ethp2p_udp *srv;
  keepalive k;
  ethp2p_addr at = ethp2p_addr_v4(0, 0, 0, 0, 3478), server_ep;
  ethp2p_sim_nat_config cfg = ethp2p_sim_nat_config_default();
  uint64_t hash;

  /* The example: */
  cfg.mapping = ETHP2P_NAT_POLICY_EI;    /* a port-preserving, */
  cfg.filtering = ETHP2P_NAT_POLICY_APD; /* port-restricted home router */
  cfg.udp_timeout = 30 * ETHP2P_SEC;
  ck_assert_int_eq(ethp2p_sim_create(&w, seed), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &box, "home", &cfg), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &node, "node", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &server, "server", NULL), 0);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(server), &srv, &at, 0, record, out), 0);
  server_ep = ethp2p_sim_host_addr(server);
  server_ep.port = 3478;
  keepalive_start(&k, ethp2p_sim_host_env(node), server_ep); /* the host's code */
  ethp2p_sim_run(w, 7 * ETHP2P_DAY);

  {
    ethp2p_addr ext = ethp2p_sim_nat_external_addr(box);
    ck_assert_msg(ethp2p_addr_equal(&out->first, &ext, false), "seed %#llx",
                  (unsigned long long)seed);
  }
  hash = ethp2p_sim_trace_hash(w);
  keepalive_stop(&k);
  ethp2p_udp_close(srv);
  ethp2p_sim_destroy(w);
  return hash;
}

START_TEST(a_node_behind_a_home_nat_for_a_week_keeps_one_public_endpoint) {
  seen s1, s2;
  uint64_t h1, h2;
  memset(&s1, 0, sizeof(s1));
  memset(&s2, 0, sizeof(s2));
  h1 = run_week(2026, &s1);
  /* One ping every 25 s from t=0; the one sent at exactly 7 d is still in
   * flight when the run ends, so 7 d / 25 s arrive. */
  ck_assert_uint_eq(s1.packets, 7 * 24 * 3600 / 25);
  ck_assert_uint_eq(s1.first.port, 30303);  /* port preserved */
  ck_assert_uint_eq(s1.sources_changed, 0); /* 25 s < 30 s timeout: never re-mapped */
  h2 = run_week(2026, &s2);                 /* identical on every run */
  ck_assert_uint_eq(h1, h2);
  ck_assert_uint_eq(s1.packets, s2.packets);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_example");
  TCase *tc = tcase_create("example");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, a_node_behind_a_home_nat_for_a_week_keeps_one_public_endpoint);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
