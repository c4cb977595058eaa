/*
 * tests/check_nat_behavior.c — RFC 5780 behaviour discovery (nat/behavior.c)
 * against the STUN server (tests/support/nat_stun_server.c) in the simulated world: all 27
 * NATCracker types classified exactly, double NAT, no NAT, loss, a server that
 * never answers, a server without an alternate address, hairpinning, the
 * time bound, caching/refresh and observations from peers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/natbehavior.h"
#include "ethp2p/sim.h"
#include "nat/stun_codec.h"
#include "support/nat_stun_server.h"

#define STUN_P1 3478
#define STUN_P2 3479

typedef struct world {
  ethp2p_sim *sim;
  ethp2p_sim_host *stun_host;
  ethp2p_stun_server *srv;
  ethp2p_sim_nat *nat, *outer;
  ethp2p_sim_host *client;
  ethp2p_natb *nb;
  int done;
  int status;
  ethp2p_nat_profile got;
} world;

static ethp2p_addr a1(void) {
  return ethp2p_addr_v4(30, 0, 0, 1, STUN_P1);
}
static ethp2p_addr a2(void) {
  return ethp2p_addr_v4(30, 0, 0, 2, STUN_P2);
}

/* A public host with two addresses running the STUN server (alternate optional). */
static void stun_setup(world *w, bool with_alternate) {
  ethp2p_addr p = a1(), q = a2();
  ethp2p_stun_server_config sc;
  ck_assert_int_eq(ethp2p_sim_host_create_public(w->sim, &w->stun_host, "stun", &p), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(w->stun_host, ethp2p_sim_internet(w->sim), &q, 0), 0);
  memset(&sc, 0, sizeof sc);
  sc.primary = p;
  if (with_alternate)
    sc.alternate = q;
  snprintf(sc.software, sizeof sc.software, "ethp2p test");
  ck_assert_int_eq(ethp2p_stun_server_create(ethp2p_sim_host_env(w->stun_host), &sc, &w->srv), 0);
}

static void world_init(world *w, uint64_t seed) {
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(ethp2p_sim_create(&w->sim, seed), 0);
}

static void world_nat(world *w, ethp2p_nat_policy m, ethp2p_nat_policy f, ethp2p_nat_alloc a,
                      bool hairpin) {
  ethp2p_sim_nat_config c = ethp2p_sim_nat_config_default();
  c.mapping = m;
  c.filtering = f;
  c.allocation = a;
  c.hairpin = hairpin;
  ck_assert_int_eq(ethp2p_sim_nat_create(w->sim, &w->nat, "gw", &c), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w->nat, &w->client, "client", NULL), 0);
}

static void on_done(ethp2p_natb *nb, int status, const ethp2p_nat_profile *p, void *data) {
  world *w = data;
  (void)nb;
  w->done++;
  w->status = status;
  w->got = *p;
}

static void discover(world *w, const ethp2p_natb_config *cfg_in) {
  ethp2p_natb_config cfg;
  if (cfg_in != NULL) {
    cfg = *cfg_in;
  } else {
    ethp2p_natb_config_default(&cfg);
    cfg.servers[0] = a1();
    cfg.n_servers = 1;
  }
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w->client), &cfg, &w->nb), 0);
  ck_assert_int_eq(ethp2p_natb_start(w->nb, on_done, w), 0);
  ck_assert(ethp2p_natb_running(w->nb));
  ethp2p_sim_run(w->sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(w->done, 1);
  ck_assert(!ethp2p_natb_running(w->nb));
}

static void world_free(world *w) {
  ethp2p_natb_destroy(w->nb);
  ethp2p_stun_server_destroy(w->srv);
  ethp2p_sim_destroy(w->sim);
}

/* _i runs 0..26: mapping = i / 9, allocation = (i / 3) % 3, filtering = i % 3, each + 1
 * (0 is the classes' "unknown"; the simulator's boxes and discovery share one vocabulary). */
START_TEST(each_of_the_27_natcracker_types_is_classified_exactly) {
  ethp2p_nat_policy m = (ethp2p_nat_policy)(_i / 9 + 1);
  ethp2p_nat_alloc a = (ethp2p_nat_alloc)((_i / 3) % 3 + 1);
  ethp2p_nat_policy f = (ethp2p_nat_policy)(_i % 3 + 1);
  world w;
  world_init(&w, 1000 + (uint64_t)_i);
  stun_setup(&w, true);
  world_nat(&w, m, f, a, true);
  discover(&w, NULL);
  ck_assert_msg(w.got.mapping == m && w.got.filtering == f && w.got.allocation == a,
                "type %d (%s/%s/%s): got %s/%s/%s (%s), seed %llu", _i, ethp2p_nat_policy_name(m),
                ethp2p_nat_alloc_name(a), ethp2p_nat_policy_name(f),
                ethp2p_nat_policy_name(w.got.mapping), ethp2p_nat_alloc_name(w.got.allocation),
                ethp2p_nat_policy_name(w.got.filtering), w.got.note,
                (unsigned long long)ethp2p_sim_seed(w.sim));
  ck_assert_int_eq(w.status, 0);
  ck_assert_int_eq(w.got.behind_nat, ETHP2P_NAT_TRI_YES);
  ethp2p_addr ext = ethp2p_sim_nat_external_addr(w.nat);
  ck_assert(ethp2p_addr_equal(&w.got.reflexive, &ext, false));
  ck_assert_int_eq(w.got.port_delta, a == ETHP2P_NAT_ALLOC_CONTIGUOUS ? 1 : 0);
  ck_assert_int_eq(w.got.can_receive_unsolicited,
                   m == ETHP2P_NAT_POLICY_EI && f == ETHP2P_NAT_POLICY_EI);
  ck_assert_int_eq(w.got.requires_relay, m != ETHP2P_NAT_POLICY_EI && a == ETHP2P_NAT_ALLOC_RANDOM);
  ck_assert_uint_eq(w.got.valid_for_s, ETHP2P_NAT_PROFILE_TTL_S);
  ck_assert_uint_gt(w.got.measured_at, 0);
  ck_assert_int_ge(w.got.measured_at_ms, ETHP2P_SIM_WALL_EPOCH_MS);
  /* Hairpinning is on: found whenever the test can tell. */
  if (m == ETHP2P_NAT_POLICY_EI || f == ETHP2P_NAT_POLICY_EI)
    ck_assert_int_eq(w.got.hairpinning, ETHP2P_NAT_TRI_YES);
  world_free(&w);
}
END_TEST

START_TEST(hairpinning_off_is_reported_as_no) {
  world w;
  world_init(&w, 7);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING, false);
  discover(&w, NULL);
  ck_assert_int_eq(w.got.hairpinning, ETHP2P_NAT_TRI_NO);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_EI);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_APD);
  world_free(&w);
}
END_TEST

START_TEST(hairpinning_with_symmetric_nat_and_strict_filtering_is_unknown) {
  world w;
  world_init(&w, 8);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM, true);
  discover(&w, NULL);
  ck_assert_int_eq(w.got.hairpinning, ETHP2P_NAT_TRI_UNKNOWN);
  world_free(&w);
}
END_TEST

/* Inner box EI/EI/preserving behind an outer APD/APD/random box (a CGNAT):
 * the pair behaves like the stricter one. */
START_TEST(double_nat_is_classified_as_the_stricter_box) {
  world w;
  ethp2p_sim_nat_config outer = ethp2p_sim_nat_config_default(), inner;
  world_init(&w, 11);
  stun_setup(&w, true);
  outer.mapping = ETHP2P_NAT_POLICY_APD;
  outer.filtering = ETHP2P_NAT_POLICY_APD;
  outer.allocation = ETHP2P_NAT_ALLOC_RANDOM;
  outer.inside_addr = ethp2p_addr_v4(100, 64, 0, 1, 0);
  outer.inside_prefix = 10;
  ck_assert_int_eq(ethp2p_sim_nat_create(w.sim, &w.outer, "cgnat", &outer), 0);
  inner = ethp2p_sim_nat_config_default();
  inner.mapping = ETHP2P_NAT_POLICY_EI;
  inner.filtering = ETHP2P_NAT_POLICY_EI;
  inner.allocation = ETHP2P_NAT_ALLOC_PRESERVING;
  inner.outside = ethp2p_sim_nat_lan(w.outer);
  inner.outside_addr = ethp2p_addr_v4(100, 64, 0, 2, 0);
  inner.outside_prefix = 10;
  inner.outside_gateway = ethp2p_addr_v4(100, 64, 0, 1, 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w.sim, &w.nat, "home", &inner), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w.nat, &w.client, "client", NULL), 0);
  discover(&w, NULL);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_APD);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_APD);
  ck_assert_int_eq(w.got.allocation, ETHP2P_NAT_ALLOC_RANDOM);
  ethp2p_addr ext = ethp2p_sim_nat_external_addr(w.outer);
  ck_assert(ethp2p_addr_equal(&w.got.reflexive, &ext, false));
  ck_assert(w.got.requires_relay);
  world_free(&w);
}
END_TEST

START_TEST(double_nat_of_two_cones_stays_endpoint_independent) {
  world w;
  ethp2p_sim_nat_config outer = ethp2p_sim_nat_config_default(), inner;
  world_init(&w, 12);
  stun_setup(&w, true);
  outer.mapping = ETHP2P_NAT_POLICY_EI;
  outer.filtering = ETHP2P_NAT_POLICY_AD;
  outer.allocation = ETHP2P_NAT_ALLOC_PRESERVING;
  outer.inside_addr = ethp2p_addr_v4(100, 64, 0, 1, 0);
  outer.inside_prefix = 10;
  ck_assert_int_eq(ethp2p_sim_nat_create(w.sim, &w.outer, "cgnat", &outer), 0);
  inner = ethp2p_sim_nat_config_default();
  inner.mapping = ETHP2P_NAT_POLICY_EI;
  inner.filtering = ETHP2P_NAT_POLICY_EI;
  inner.allocation = ETHP2P_NAT_ALLOC_PRESERVING;
  inner.outside = ethp2p_sim_nat_lan(w.outer);
  inner.outside_addr = ethp2p_addr_v4(100, 64, 0, 2, 0);
  inner.outside_prefix = 10;
  inner.outside_gateway = ethp2p_addr_v4(100, 64, 0, 1, 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w.sim, &w.nat, "home", &inner), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w.nat, &w.client, "client", NULL), 0);
  discover(&w, NULL);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_EI);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_AD);
  ck_assert_int_eq(w.got.allocation, ETHP2P_NAT_ALLOC_PRESERVING);
  world_free(&w);
}
END_TEST

START_TEST(a_public_host_is_not_behind_nat) {
  world w;
  world_init(&w, 13);
  stun_setup(&w, true);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w.sim, &w.client, "pub", NULL), 0);
  discover(&w, NULL);
  ck_assert_int_eq(w.got.behind_nat, ETHP2P_NAT_TRI_NO);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_EI);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_EI);
  ck_assert_int_eq(w.got.allocation, ETHP2P_NAT_ALLOC_PRESERVING);
  ck_assert(w.got.can_receive_unsolicited);
  ethp2p_addr me = ethp2p_sim_host_addr(w.client);
  ck_assert(ethp2p_addr_equal(&w.got.reflexive, &me, false));
  world_free(&w);
}
END_TEST

/* 15 % loss on every crossing of the LAN and the internet: retransmissions
 * still give the exact answer for these seeds. */
START_TEST(loss_with_retransmits_still_classifies_exactly) {
  static const struct {
    ethp2p_nat_policy m, f;
    ethp2p_nat_alloc a;
  } cases[] = {
      {ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING},
      {ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_ALLOC_CONTIGUOUS},
      {ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM},
      {ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    world w;
    ethp2p_sim_link lossy = {.latency = 10 * ETHP2P_MSEC, .jitter = 2 * ETHP2P_MSEC, .loss = 0.15};
    world_init(&w, 4242 + i);
    ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_internet(w.sim), &lossy), 0);
    stun_setup(&w, true);
    world_nat(&w, cases[i].m, cases[i].f, cases[i].a, true);
    ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_nat_lan(w.nat), &lossy), 0);
    ethp2p_natb_config cfg;
    ethp2p_natb_config_default(&cfg);
    cfg.servers[0] = a1();
    cfg.n_servers = 1;
    cfg.max_tries = 7;
    cfg.time_limit = 20 * ETHP2P_SEC;
    discover(&w, &cfg);
    ck_assert_msg(w.got.mapping == cases[i].m && w.got.filtering == cases[i].f &&
                      w.got.allocation == cases[i].a,
                  "case %zu: got %s/%s/%s (%s), seed %llu", i,
                  ethp2p_nat_policy_name(w.got.mapping), ethp2p_nat_alloc_name(w.got.allocation),
                  ethp2p_nat_policy_name(w.got.filtering), w.got.note,
                  (unsigned long long)ethp2p_sim_seed(w.sim));
    ck_assert_uint_gt(ethp2p_sim_drops(w.sim, ETHP2P_SIM_DROP_LOSS), 0);
    world_free(&w);
  }
}
END_TEST

START_TEST(no_stun_answer_gives_unknown_within_the_bound) {
  world w;
  world_init(&w, 14);
  stun_setup(&w, true);
  ethp2p_stun_server_set_enabled(w.srv, false);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING, true);
  ethp2p_time t0 = ethp2p_sim_now(w.sim);
  ethp2p_natb_config cfg;
  ethp2p_natb_config_default(&cfg);
  cfg.servers[0] = a1();
  cfg.servers[1] = ethp2p_addr_v4(30, 0, 0, 9, 3478); /* nobody there */
  cfg.n_servers = 2;
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w.client), &cfg, &w.nb), 0);
  ck_assert_int_eq(ethp2p_natb_start(w.nb, on_done, &w), 0);
  ethp2p_sim_run(w.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(w.done, 1);
  ck_assert_int_eq(w.status, ETHP2P_ETIMEDOUT);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_UNKNOWN);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_UNKNOWN);
  ck_assert_int_eq(w.got.allocation, ETHP2P_NAT_ALLOC_UNKNOWN);
  ck_assert_int_eq(w.got.reflexive.family, 0);
  ck_assert(strstr(w.got.note, "no STUN server answered") != NULL);
  /* Two servers, each given up 3 s after the first send (0, .2, .6, 1.4, 2.2; +0.8). */
  ck_assert_uint_le(w.got.measured_at - t0, 7 * ETHP2P_SEC);
  world_free(&w);
}
END_TEST

START_TEST(time_limit_bounds_the_whole_run) {
  world w;
  world_init(&w, 15);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM, true);
  ethp2p_natb_config cfg;
  ethp2p_natb_config_default(&cfg);
  cfg.servers[0] = a1();
  cfg.n_servers = 1;
  cfg.time_limit = 1 * ETHP2P_SEC; /* filtering needs ~3 s to conclude "no answer" */
  ethp2p_time t0 = ethp2p_sim_now(w.sim);
  discover(&w, &cfg);
  ck_assert_uint_le(w.got.measured_at - t0, 1 * ETHP2P_SEC);
  ck_assert_int_eq(w.status, 0);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_APD);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_UNKNOWN);
  ck_assert(strstr(w.got.note, "time limit") != NULL);
  world_free(&w);
}
END_TEST

START_TEST(server_without_alternate_address_leaves_filtering_unknown) {
  world w;
  world_init(&w, 16);
  stun_setup(&w, false);
  /* A second plain server on another IP still tells EI mapping apart. */
  ethp2p_sim_host *h2;
  ethp2p_stun_server *s2;
  ethp2p_addr b = ethp2p_addr_v4(40, 0, 0, 1, 3478);
  ethp2p_stun_server_config sc;
  ck_assert_int_eq(ethp2p_sim_host_create_public(w.sim, &h2, "stun2", &b), 0);
  memset(&sc, 0, sizeof sc);
  sc.primary = b;
  ck_assert_int_eq(ethp2p_stun_server_create(ethp2p_sim_host_env(h2), &sc, &s2), 0);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_ALLOC_PRESERVING, true);
  ethp2p_natb_config cfg;
  ethp2p_natb_config_default(&cfg);
  cfg.servers[0] = a1();
  cfg.servers[1] = b;
  cfg.n_servers = 2;
  discover(&w, &cfg);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_EI);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_UNKNOWN);
  ck_assert_int_eq(w.got.server_other.family, 0);
  ck_assert(strstr(w.got.note, "no alternate address") != NULL);
  ethp2p_stun_server_destroy(s2);
  world_free(&w);
}
END_TEST

START_TEST(first_server_silent_second_server_used) {
  world w;
  world_init(&w, 17);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_CONTIGUOUS, true);
  ethp2p_natb_config cfg;
  ethp2p_natb_config_default(&cfg);
  cfg.servers[0] = ethp2p_addr_v4(30, 0, 0, 9, 3478);
  cfg.servers[1] = a1();
  cfg.n_servers = 2;
  discover(&w, &cfg);
  ck_assert_int_eq(w.status, 0);
  ethp2p_addr want = a1();
  ck_assert(ethp2p_addr_equal(&w.got.server, &want, true));
  ck_assert_int_eq(w.got.allocation, ETHP2P_NAT_ALLOC_CONTIGUOUS);
  world_free(&w);
}
END_TEST

START_TEST(profile_is_cached_and_refreshed_when_stale) {
  world w;
  world_init(&w, 18);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING, true);
  discover(&w, NULL);
  ethp2p_time now = ethp2p_sim_now(w.sim);
  ck_assert(ethp2p_nat_profile_fresh(ethp2p_natb_profile(w.nb), now));
  ck_assert_int_eq(ethp2p_natb_refresh(w.nb, now, on_done, &w), 0);
  ethp2p_sim_run(w.sim, 301 * ETHP2P_SEC);
  now = ethp2p_sim_now(w.sim);
  ck_assert(!ethp2p_nat_profile_fresh(ethp2p_natb_profile(w.nb), now));
  ck_assert_int_eq(ethp2p_natb_refresh(w.nb, now, on_done, &w), 1);
  ethp2p_sim_run(w.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(w.done, 2);
  ck_assert(ethp2p_nat_profile_fresh(ethp2p_natb_profile(w.nb), ethp2p_sim_now(w.sim)));
  ck_assert_int_eq(ethp2p_natb_profile(w.nb)->mapping, ETHP2P_NAT_POLICY_EI);
  world_free(&w);
}
END_TEST

START_TEST(stop_abandons_the_run_without_callback) {
  world w;
  world_init(&w, 19);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING, true);
  ethp2p_natb_config cfg;
  ethp2p_natb_config_default(&cfg);
  cfg.servers[0] = a1();
  cfg.n_servers = 1;
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w.client), &cfg, &w.nb), 0);
  ck_assert_int_eq(ethp2p_natb_start(w.nb, on_done, &w), 0);
  ethp2p_sim_run(w.sim, 50 * ETHP2P_MSEC);
  ethp2p_natb_stop(w.nb);
  ethp2p_sim_run(w.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(w.done, 0);
  ck_assert_uint_eq(ethp2p_natb_profile(w.nb)->measured_at, 0);
  world_free(&w);
}
END_TEST

START_TEST(peers_seeing_different_ports_make_mapping_stricter) {
  world w;
  world_init(&w, 20);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING, true);
  discover(&w, NULL);
  ck_assert_int_eq(ethp2p_natb_profile(w.nb)->mapping, ETHP2P_NAT_POLICY_EI);
  ethp2p_addr p1 = ethp2p_addr_v4(50, 0, 0, 1, 30303), p2 = ethp2p_addr_v4(50, 0, 0, 2, 30303);
  ethp2p_addr p1b = ethp2p_addr_v4(50, 0, 0, 1, 30304);
  ethp2p_addr ext = ethp2p_sim_nat_external_addr(w.nat);
  ethp2p_addr s1 = ext, s2 = ext, s3 = ext;
  s1.port = 30303;
  s2.port = 30303;
  /* Two observers agree: nothing changes. */
  ck_assert_int_eq(ethp2p_natb_observe(w.nb, 30303, &p1, &s1), 0);
  ck_assert_int_eq(ethp2p_natb_observe(w.nb, 30303, &p2, &s2), 0);
  ck_assert_int_eq(ethp2p_natb_profile(w.nb)->mapping, ETHP2P_NAT_POLICY_EI);
  ck_assert(!ethp2p_natb_profile(w.nb)->observed_ip_mismatch);
  /* Another IP sees another port: not EI. */
  s3.port = 40000;
  ethp2p_addr p3 = ethp2p_addr_v4(50, 0, 0, 3, 1);
  ck_assert_int_eq(ethp2p_natb_observe(w.nb, 30303, &p3, &s3), 0);
  ck_assert_int_eq(ethp2p_natb_profile(w.nb)->mapping, ETHP2P_NAT_POLICY_AD);
  /* Same IP, other port, other mapped port: APD. */
  s3.port = 40001;
  ck_assert_int_eq(ethp2p_natb_observe(w.nb, 30303, &p1b, &s3), 0);
  ck_assert_int_eq(ethp2p_natb_profile(w.nb)->mapping, ETHP2P_NAT_POLICY_APD);
  ck_assert_uint_eq(ethp2p_natb_profile(w.nb)->observations, 4);
  /* A peer that sees another IP. */
  ethp2p_addr other = ethp2p_addr_v4(9, 9, 9, 9, 1234);
  ck_assert_int_eq(ethp2p_natb_observe(w.nb, 1234, &p2, &other), 0);
  ck_assert(ethp2p_natb_profile(w.nb)->observed_ip_mismatch);
  ck_assert_int_eq(ethp2p_natb_observe(w.nb, 1, NULL, &other), ETHP2P_EINVAL);
  /* Observations survive a refresh and are applied to the new measurement. */
  ck_assert_int_eq(ethp2p_natb_start(w.nb, on_done, &w), 0);
  ethp2p_sim_run(w.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(w.done, 2);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_APD);
  world_free(&w);
}
END_TEST

START_TEST(observations_alone_give_a_mapping_guess) {
  world w;
  world_init(&w, 21);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING, true);
  ethp2p_natb_config cfg;
  ethp2p_natb_config_default(&cfg);
  cfg.servers[0] = a1();
  cfg.n_servers = 1;
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w.client), &cfg, &w.nb), 0);
  ethp2p_addr p1 = ethp2p_addr_v4(50, 0, 0, 1, 30303), p2 = ethp2p_addr_v4(50, 0, 0, 2, 30303);
  ethp2p_addr seen = ethp2p_addr_v4(20, 0, 0, 1, 30303);
  ck_assert_int_eq(ethp2p_natb_observe(w.nb, 30303, &p1, &seen), 0);
  ck_assert_int_eq(ethp2p_natb_profile(w.nb)->mapping, ETHP2P_NAT_POLICY_UNKNOWN);
  ck_assert_int_eq(ethp2p_natb_observe(w.nb, 30303, &p2, &seen), 0);
  ck_assert_int_eq(ethp2p_natb_profile(w.nb)->mapping, ETHP2P_NAT_POLICY_EI);
  ck_assert(ethp2p_addr_equal(&ethp2p_natb_profile(w.nb)->reflexive, &seen, true));
  world_free(&w);
}
END_TEST

START_TEST(same_seed_gives_the_same_trace) {
  uint64_t h[2];
  for (int k = 0; k < 2; k++) {
    world w;
    world_init(&w, 99);
    stun_setup(&w, true);
    world_nat(&w, ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_ALLOC_RANDOM, true);
    discover(&w, NULL);
    h[k] = ethp2p_sim_trace_hash(w.sim);
    world_free(&w);
  }
  ck_assert_uint_eq(h[0], h[1]);
}
END_TEST

START_TEST(create_rejects_bad_configs) {
  world w;
  ethp2p_natb_config cfg;
  ethp2p_natb *nb = (ethp2p_natb *)&cfg;
  world_init(&w, 1);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w.sim, &w.client, "c", NULL), 0);
  ethp2p_natb_config_default(&cfg);
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w.client), &cfg, &nb), ETHP2P_EINVAL);
  ck_assert_ptr_null(nb);
  cfg.servers[0] = ethp2p_addr_v4(1, 2, 3, 4, 0);
  cfg.n_servers = 1;
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w.client), &cfg, &nb), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_natb_create(NULL, &cfg, &nb), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w.client), NULL, &nb), ETHP2P_EINVAL);
  ethp2p_natb_destroy(NULL);
  world_free(&w);
}
END_TEST

/* A server that claims an alternate address but answers everything from its
 * primary socket (ignores CHANGE-REQUEST): filtering must be unknown, not EI. */
typedef struct liar {
  ethp2p_udp *udp;
} liar;

static void liar_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                      void *data) {
  ethp2p_stun_msg req, resp;
  uint8_t out[256];
  (void)data;
  if (ethp2p_stun_decode(&req, buf, len, NULL) != 0 || req.type != ETHP2P_STUN_BINDING_REQUEST)
    return;
  memset(&resp, 0, sizeof resp);
  resp.type = ETHP2P_STUN_BINDING_SUCCESS;
  memcpy(resp.txid, req.txid, sizeof resp.txid);
  resp.present = ETHP2P_STUN_HAS_XOR_MAPPED | ETHP2P_STUN_HAS_OTHER_ADDRESS;
  resp.xor_mapped = *from;
  resp.other_address = a2();
  int n = ethp2p_stun_encode(out, sizeof out, &resp, NULL);
  ck_assert_int_gt(n, 0);
  ethp2p_udp_send(udp, from, out, (size_t)n);
}

START_TEST(server_ignoring_change_request_leaves_filtering_unknown) {
  world w;
  liar l;
  ethp2p_addr p = a1();
  world_init(&w, 22);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w.sim, &w.stun_host, "liar", &p), 0);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(w.stun_host), &l.udp, &p, 0, liar_recv, &l),
                   0);
  world_nat(&w, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING, true);
  discover(&w, NULL);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_UNKNOWN);
  ck_assert(strstr(w.got.note, "ignored CHANGE-REQUEST") != NULL);
  /* Its alternate address does not exist: mapping cannot be decided either. */
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_UNKNOWN);
  ck_assert_int_eq(w.got.allocation, ETHP2P_NAT_ALLOC_PRESERVING);
  ethp2p_udp_close(l.udp);
  world_free(&w);
}
END_TEST

static void destroy_in_cb(ethp2p_natb *nb, int status, const ethp2p_nat_profile *p, void *data) {
  world *w = data;
  w->done++;
  w->status = status;
  w->got = *p;
  ethp2p_natb_destroy(nb);
  w->nb = NULL;
}

static void restart_in_cb(ethp2p_natb *nb, int status, const ethp2p_nat_profile *p, void *data) {
  world *w = data;
  w->done++;
  w->got = *p;
  (void)status;
  if (w->done == 1)
    ck_assert_int_eq(ethp2p_natb_start(nb, restart_in_cb, w), 0);
}

START_TEST(callback_may_destroy_or_restart_the_discovery) {
  world w;
  world_init(&w, 23);
  stun_setup(&w, true);
  world_nat(&w, ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_ALLOC_CONTIGUOUS, true);
  ethp2p_natb_config cfg;
  ethp2p_natb_config_default(&cfg);
  cfg.servers[0] = a1();
  cfg.n_servers = 1;
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w.client), &cfg, &w.nb), 0);
  ck_assert_int_eq(ethp2p_natb_start(w.nb, destroy_in_cb, &w), 0);
  ethp2p_sim_run(w.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(w.done, 1);
  ck_assert_ptr_null(w.nb);
  ck_assert_int_eq(w.got.mapping, ETHP2P_NAT_POLICY_AD);

  w.done = 0;
  ck_assert_int_eq(ethp2p_natb_create(ethp2p_sim_host_env(w.client), &cfg, &w.nb), 0);
  ck_assert_int_eq(ethp2p_natb_start(w.nb, restart_in_cb, &w), 0);
  ethp2p_sim_run(w.sim, 60 * ETHP2P_SEC);
  ck_assert_int_eq(w.done, 2);
  ck_assert_int_eq(w.got.filtering, ETHP2P_NAT_POLICY_AD);
  ck_assert_int_eq(w.got.allocation, ETHP2P_NAT_ALLOC_CONTIGUOUS);
  world_free(&w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_behavior");
  TCase *tc = tcase_create("behavior");
  SRunner *sr;
  int failed;
  tcase_add_loop_test(tc, each_of_the_27_natcracker_types_is_classified_exactly, 0, 27);
  tcase_add_test(tc, hairpinning_off_is_reported_as_no);
  tcase_add_test(tc, hairpinning_with_symmetric_nat_and_strict_filtering_is_unknown);
  tcase_add_test(tc, double_nat_is_classified_as_the_stricter_box);
  tcase_add_test(tc, double_nat_of_two_cones_stays_endpoint_independent);
  tcase_add_test(tc, a_public_host_is_not_behind_nat);
  tcase_add_test(tc, loss_with_retransmits_still_classifies_exactly);
  tcase_add_test(tc, no_stun_answer_gives_unknown_within_the_bound);
  tcase_add_test(tc, time_limit_bounds_the_whole_run);
  tcase_add_test(tc, server_without_alternate_address_leaves_filtering_unknown);
  tcase_add_test(tc, first_server_silent_second_server_used);
  tcase_add_test(tc, profile_is_cached_and_refreshed_when_stale);
  tcase_add_test(tc, stop_abandons_the_run_without_callback);
  tcase_add_test(tc, peers_seeing_different_ports_make_mapping_stricter);
  tcase_add_test(tc, observations_alone_give_a_mapping_guess);
  tcase_add_test(tc, same_seed_gives_the_same_trace);
  tcase_add_test(tc, create_rejects_bad_configs);
  tcase_add_test(tc, server_ignoring_change_request_leaves_filtering_unknown);
  tcase_add_test(tc, callback_may_destroy_or_restart_the_discovery);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
