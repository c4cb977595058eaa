/* tests/check_sim_nat.c — NAT boxes of the simulated world, observed from outside
 * hosts as a peer would see them: mapping, filtering, allocation, timeouts,
 * hairpinning, port forwards, reboot, address change, down/up, double NAT. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env.h"
#include "ethp2p/sim.h"

#define SEED 0x5eed0001ULL
#define SIM_ASSERT(w, expr)                                                                        \
  ck_assert_msg((expr), "%s failed (replay with seed %#llx)", #expr,                               \
                (unsigned long long)ethp2p_sim_seed(w))

#define LOG_MAX 128
typedef struct rxlog {
  int n;
  ethp2p_addr from[LOG_MAX];
  ethp2p_time at[LOG_MAX];
} rxlog;

static void rx_cb(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                  void *data) {
  rxlog *l = data;
  (void)buf;
  (void)len;
  if (l->n < LOG_MAX) {
    l->from[l->n] = *from;
    l->at[l->n] = ethp2p_env_now(u->env);
  }
  l->n++;
}

typedef struct fixture {
  ethp2p_sim *w;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *in, *in2, *p1, *p2;
  ethp2p_udp *s_in, *s_in2, *s_p1, *s_p1b, *s_p2;
  rxlog l_in, l_in2, l_p1, l_p1b, l_p2;
  ethp2p_addr P1, P1b, P2;
} fixture;

static fixture F;

static ethp2p_udp *open_udp(ethp2p_sim_host *h, uint16_t port, rxlog *log) {
  ethp2p_udp *u = NULL;
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, port);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(h), &u, &any, 0, rx_cb, log), 0);
  return u;
}

static void setup_cfg(const ethp2p_sim_nat_config *cfg) {
  ethp2p_addr a1 = ethp2p_addr_v4(1, 1, 1, 1, 0), a2 = ethp2p_addr_v4(2, 2, 2, 2, 0);
  memset(&F, 0, sizeof(F));
  ck_assert_int_eq(ethp2p_sim_create(&F.w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(F.w, &F.box, "home", cfg), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(F.box, &F.in, "alice", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(F.box, &F.in2, "bob", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(F.w, &F.p1, "peer1", &a1), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(F.w, &F.p2, "peer2", &a2), 0);
  F.s_in = open_udp(F.in, 4000, &F.l_in);
  F.s_in2 = open_udp(F.in2, 4000, &F.l_in2);
  F.s_p1 = open_udp(F.p1, 3478, &F.l_p1);
  F.s_p1b = open_udp(F.p1, 3479, &F.l_p1b);
  F.s_p2 = open_udp(F.p2, 3478, &F.l_p2);
  F.P1 = ethp2p_addr_v4(1, 1, 1, 1, 3478);
  F.P1b = ethp2p_addr_v4(1, 1, 1, 1, 3479);
  F.P2 = ethp2p_addr_v4(2, 2, 2, 2, 3478);
}

static void setup(ethp2p_nat_policy mapping, ethp2p_nat_policy filtering, ethp2p_nat_alloc alloc) {
  ethp2p_sim_nat_config cfg = ethp2p_sim_nat_config_default();
  cfg.mapping = mapping;
  cfg.filtering = filtering;
  cfg.allocation = alloc;
  cfg.udp_timeout = 30 * ETHP2P_SEC;
  setup_cfg(&cfg);
}

static void teardown(void) {
  ethp2p_udp_close(F.s_in);
  ethp2p_udp_close(F.s_in2);
  ethp2p_udp_close(F.s_p1);
  ethp2p_udp_close(F.s_p1b);
  ethp2p_udp_close(F.s_p2);
  ethp2p_sim_destroy(F.w);
}

static void send1(ethp2p_udp *s, ethp2p_addr to) {
  ck_assert_int_eq(ethp2p_udp_send(s, &to, (const uint8_t *)"x", 1), 0);
}

static ethp2p_addr ext(uint16_t port) {
  ethp2p_addr a = ethp2p_sim_nat_external_addr(F.box);
  a.port = port;
  return a;
}

static void settle(void) {
  ethp2p_sim_run(F.w, ETHP2P_SEC);
}

/* ---- mapping ------------------------------------------------------------------------ */
START_TEST(ei_mapping_preserving_gives_two_destinations_the_same_port) {
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING);
  send1(F.s_in, F.P1);
  send1(F.s_in, F.P2);
  settle();
  SIM_ASSERT(F.w, F.l_p1.n == 1 && F.l_p2.n == 1);
  SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_p1.from[0], &F.l_p2.from[0], true));
  SIM_ASSERT(F.w, F.l_p1.from[0].port == 4000);
  {
    ethp2p_addr e = ext(4000);
    SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_p1.from[0], &e, true));
  }
  teardown();
}
END_TEST

START_TEST(ad_mapping_shares_a_port_per_destination_host) {
  setup(ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_CONTIGUOUS);
  send1(F.s_in, F.P1);
  send1(F.s_in, F.P1b);
  send1(F.s_in, F.P2);
  settle();
  SIM_ASSERT(F.w, F.l_p1.n == 1 && F.l_p1b.n == 1 && F.l_p2.n == 1);
  SIM_ASSERT(F.w, F.l_p1.from[0].port == F.l_p1b.from[0].port);
  SIM_ASSERT(F.w, F.l_p1.from[0].port != F.l_p2.from[0].port);
  teardown();
}
END_TEST

START_TEST(apd_mapping_gives_each_destination_endpoint_its_own_port) {
  setup(ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM);
  send1(F.s_in, F.P1);
  send1(F.s_in, F.P1b);
  send1(F.s_in, F.P2);
  /* The same destination again reuses its binding. */
  send1(F.s_in, F.P1);
  settle();
  SIM_ASSERT(F.w, F.l_p1.n == 2 && F.l_p1b.n == 1 && F.l_p2.n == 1);
  SIM_ASSERT(F.w, F.l_p1.from[0].port == F.l_p1.from[1].port);
  SIM_ASSERT(F.w, F.l_p1.from[0].port != F.l_p1b.from[0].port);
  SIM_ASSERT(F.w, F.l_p1.from[0].port != F.l_p2.from[0].port);
  SIM_ASSERT(F.w, F.l_p1b.from[0].port != F.l_p2.from[0].port);
  SIM_ASSERT(F.w, ethp2p_sim_nat_binding_count(F.box) == 3);
  teardown();
}
END_TEST

/* ---- filtering ---------------------------------------------------------------------- */
START_TEST(apd_filtering_drops_unsolicited_packets) {
  uint16_t port;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING);
  send1(F.s_in, F.P1);
  settle();
  port = F.l_p1.from[0].port;
  send1(F.s_p1, ext(port));  /* the endpoint we sent to: admitted */
  send1(F.s_p1b, ext(port)); /* same host, other port: dropped */
  send1(F.s_p2, ext(port));  /* another host: dropped */
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_in.from[0], &F.P1, true));
  SIM_ASSERT(F.w, ethp2p_sim_drops(F.w, ETHP2P_SIM_DROP_FILTERED) == 2);
  teardown();
}
END_TEST

START_TEST(ad_filtering_admits_any_port_of_a_contacted_host) {
  uint16_t port;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_ALLOC_PRESERVING);
  send1(F.s_in, F.P1);
  settle();
  port = F.l_p1.from[0].port;
  send1(F.s_p1b, ext(port));
  send1(F.s_p2, ext(port));
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_in.from[0], &F.P1b, true));
  SIM_ASSERT(F.w, ethp2p_sim_drops(F.w, ETHP2P_SIM_DROP_FILTERED) == 1);
  teardown();
}
END_TEST

START_TEST(ei_filtering_lets_unsolicited_packets_in) {
  uint16_t port;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING);
  send1(F.s_in, F.P1);
  settle();
  port = F.l_p1.from[0].port;
  send1(F.s_p2, ext(port));
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_in.from[0], &F.P2, true));
  /* A port with no binding stays closed even with EI filtering. */
  send1(F.s_p2, ext(port + 1));
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  SIM_ASSERT(F.w, ethp2p_sim_drops(F.w, ETHP2P_SIM_DROP_NO_BINDING) == 1);
  teardown();
}
END_TEST

/* ---- allocation -------------------------------------------------------------------- */
START_TEST(contiguous_allocation_steps_by_one) {
  setup(ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_CONTIGUOUS);
  send1(F.s_in, F.P1);
  settle();
  send1(F.s_in, F.P1b);
  settle();
  send1(F.s_in, F.P2);
  settle();
  SIM_ASSERT(F.w, F.l_p1b.from[0].port == F.l_p1.from[0].port + 1);
  SIM_ASSERT(F.w, F.l_p2.from[0].port == F.l_p1b.from[0].port + 1);
  SIM_ASSERT(F.w, F.l_p1.from[0].port != 4000);
  teardown();
}
END_TEST

START_TEST(random_allocation_spreads_ports) {
  int i, j, consecutive = 0;
  uint16_t ports[20], lo = 65535, hi = 0;
  ethp2p_sim_host *peers[20];
  ethp2p_udp *socks[20];
  rxlog logs[20];
  setup(ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM);
  memset(logs, 0, sizeof(logs));
  for (i = 0; i < 20; i++) {
    ethp2p_addr a = ethp2p_addr_v4(9, 9, 9, (uint8_t)(i + 1), 0);
    ck_assert_int_eq(ethp2p_sim_host_create_public(F.w, &peers[i], "p", &a), 0);
    socks[i] = open_udp(peers[i], 1000, &logs[i]);
    a.port = 1000;
    send1(F.s_in, a);
  }
  settle();
  for (i = 0; i < 20; i++) {
    SIM_ASSERT(F.w, logs[i].n == 1);
    ports[i] = logs[i].from[0].port;
    SIM_ASSERT(F.w, ports[i] >= 1024);
    lo = ports[i] < lo ? ports[i] : lo;
    hi = ports[i] > hi ? ports[i] : hi;
    for (j = 0; j < i; j++)
      SIM_ASSERT(F.w, ports[i] != ports[j]);
    if (i > 0 && (ports[i] == ports[i - 1] + 1))
      consecutive++;
  }
  SIM_ASSERT(F.w, hi - lo > 10000);
  SIM_ASSERT(F.w, consecutive < 3);
  for (i = 0; i < 20; i++)
    ethp2p_udp_close(socks[i]);
  teardown();
}
END_TEST

START_TEST(preserving_allocation_falls_back_when_the_port_is_taken) {
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING);
  send1(F.s_in, F.P1);  /* alice:4000 -> ext 4000 */
  send1(F.s_in2, F.P2); /* bob:4000 -> must get another port */
  settle();
  SIM_ASSERT(F.w, F.l_p1.from[0].port == 4000);
  SIM_ASSERT(F.w, F.l_p2.from[0].port != 4000);
  teardown();
}
END_TEST

/* ---- timeouts ---------------------------------------------------------------------- */
START_TEST(binding_expires_after_the_udp_timeout) {
  uint16_t port;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_RANDOM);
  send1(F.s_in, F.P1);
  settle(); /* sent at t0 (binding expires t0 + 30 s) */
  port = F.l_p1.from[0].port;
  ethp2p_sim_run(F.w, 27 * ETHP2P_SEC);
  send1(F.s_p2, ext(port)); /* arrives at ~t0+28.02 s: still bound */
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  ethp2p_sim_run(F.w, 3 * ETHP2P_SEC);
  send1(F.s_p2, ext(port)); /* after expiry: no binding */
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  SIM_ASSERT(F.w, ethp2p_sim_nat_binding_count(F.box) == 0);
  /* A new outbound packet gets a new (random) binding. */
  send1(F.s_in, F.P1);
  settle();
  SIM_ASSERT(F.w, F.l_p1.n == 2 && F.l_p1.from[1].port != port);
  teardown();
}
END_TEST

static void keepalive_cb(ethp2p_timer *t, void *data) {
  (void)data;
  send1(F.s_in, F.P1);
  ethp2p_timer_start(t, ethp2p_env_now(t->env) + 20 * ETHP2P_SEC);
}

START_TEST(outbound_traffic_keeps_a_binding_alive) {
  ethp2p_timer *t;
  int i;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM);
  ck_assert_int_eq(ethp2p_timer_create(ethp2p_sim_host_env(F.in), &t, keepalive_cb, NULL), 0);
  ethp2p_timer_start(t, ethp2p_sim_now(F.w));
  ethp2p_sim_run(F.w, 10 * ETHP2P_MIN);
  SIM_ASSERT(F.w, F.l_p1.n >= 29);
  for (i = 1; i < F.l_p1.n && i < LOG_MAX; i++)
    SIM_ASSERT(F.w, F.l_p1.from[i].port == F.l_p1.from[0].port);
  ethp2p_timer_destroy(t);
  teardown();
}
END_TEST

/* ---- hairpinning ------------------------------------------------------------------- */
START_TEST(hairpinning_on_delivers_between_lan_hosts_via_external_address) {
  uint16_t pa, pb;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING);
  send1(F.s_in, F.P1);
  send1(F.s_in2, F.P1);
  settle();
  pa = F.l_p1.from[0].port;
  pb = F.l_p1.from[1].port;
  send1(F.s_in, ext(pb));
  settle();
  SIM_ASSERT(F.w, F.l_in2.n == 1);
  {
    ethp2p_addr e = ext(pa);
    SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_in2.from[0], &e, true));
  }
  teardown();
}
END_TEST

START_TEST(hairpinning_off_drops_lan_to_external_address) {
  uint16_t pb;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING);
  ethp2p_sim_nat_set_hairpin(F.box, false);
  send1(F.s_in2, F.P1);
  settle();
  pb = F.l_p1.from[0].port;
  send1(F.s_in, ext(pb));
  settle();
  SIM_ASSERT(F.w, F.l_in2.n == 0);
  SIM_ASSERT(F.w, ethp2p_sim_drops(F.w, ETHP2P_SIM_DROP_HAIRPIN) == 1);
  teardown();
}
END_TEST

START_TEST(hairpinned_packets_are_filtered_like_outside_ones_and_punch_holes) {
  uint16_t pa, pb;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING);
  send1(F.s_in, F.P1);
  send1(F.s_in2, F.P1);
  settle();
  pa = F.l_p1.from[0].port;
  pb = F.l_p1.from[1].port;
  send1(F.s_in, ext(pb)); /* bob never sent to alice's public endpoint: filtered */
  settle();
  SIM_ASSERT(F.w, F.l_in2.n == 0);
  SIM_ASSERT(F.w, ethp2p_sim_drops(F.w, ETHP2P_SIM_DROP_FILTERED) == 1);
  /* Bob answers alice's public endpoint: alice's own attempt opened her filter
   * for bob's public endpoint, so this gets in (hole punching through a hairpin). */
  send1(F.s_in2, ext(pa));
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  send1(F.s_in, ext(pb)); /* now bob's binding admits alice's public endpoint */
  settle();
  SIM_ASSERT(F.w, F.l_in2.n == 1);
  teardown();
}
END_TEST

/* ---- port forwards ------------------------------------------------------------------ */
START_TEST(forward_lets_outside_packets_in_until_its_lease_ends) {
  ethp2p_sim_forward f, got, list[4];
  setup(ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM);
  memset(&f, 0, sizeof(f));
  f.proto = ETHP2P_SIM_UDP;
  f.external_port = 30303;
  f.internal = ethp2p_sim_host_addr(F.in);
  f.internal.port = 4000;
  f.expires = ethp2p_sim_now(F.w) + 60 * ETHP2P_SEC;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), 0);
  ck_assert_int_eq(ethp2p_sim_nat_forward_lookup(F.box, ETHP2P_SIM_UDP, 30303, &got), 0);
  ck_assert(ethp2p_addr_equal(&got.internal, &f.internal, true));
  ck_assert_int_eq(ethp2p_sim_nat_forward_lookup(F.box, ETHP2P_SIM_TCP, 30303, NULL),
                   ETHP2P_ENOTFOUND);
  ck_assert_uint_eq(ethp2p_sim_nat_forward_list(F.box, list, 4), 1);
  send1(F.s_p2, ext(30303)); /* unsolicited, but forwarded */
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_in.from[0], &F.P2, true));
  send1(F.s_in, F.P2); /* the reply comes from the forwarded port */
  settle();
  SIM_ASSERT(F.w, F.l_p2.n == 1 && F.l_p2.from[0].port == 30303);
  ethp2p_sim_run(F.w, 60 * ETHP2P_SEC);
  send1(F.s_p2, ext(30303));
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  ck_assert_uint_eq(ethp2p_sim_nat_forward_list(F.box, list, 4), 0);
  ck_assert_int_eq(ethp2p_sim_nat_forward_remove(F.box, ETHP2P_SIM_UDP, 30303), ETHP2P_ENOTFOUND);
  teardown();
}
END_TEST

START_TEST(forward_add_rejects_bad_arguments_and_replaces_same_port) {
  ethp2p_sim_forward f, list[4];
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING);
  memset(&f, 0, sizeof(f));
  f.proto = 99;
  f.external_port = 1;
  f.internal = ethp2p_addr_v4(192, 168, 1, 2, 1);
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), ETHP2P_EINVAL);
  f.proto = ETHP2P_SIM_TCP;
  f.external_port = 0;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), ETHP2P_EINVAL);
  f.external_port = 80;
  f.expires = ethp2p_sim_now(F.w); /* not in the future */
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), ETHP2P_EINVAL);
  f.expires = 0;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), 0);
  f.internal.port = 8080;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), 0);
  f.proto = ETHP2P_SIM_UDP;
  f.external_port = 53;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), 0);
  ck_assert_uint_eq(ethp2p_sim_nat_forward_list(F.box, list, 4), 2);
  ck_assert_uint_eq(list[0].proto, ETHP2P_SIM_TCP); /* sorted by proto number */
  ck_assert_uint_eq(list[0].internal.port, 8080);
  ck_assert_uint_eq(list[1].external_port, 53);
  ck_assert_uint_eq(ethp2p_sim_nat_forward_list(F.box, NULL, 0), 2);
  ck_assert_str_eq(ethp2p_nat_policy_name(ETHP2P_NAT_POLICY_APD), "address-and-port-dependent");
  ck_assert_str_eq(ethp2p_nat_alloc_name(ETHP2P_NAT_ALLOC_CONTIGUOUS), "port-contiguous");
  ck_assert_str_eq(ethp2p_nat_policy_name((ethp2p_nat_policy)9), "unknown");
  ck_assert_int_eq(ethp2p_sim_nat_forward_remove(F.box, ETHP2P_SIM_TCP, 80), 0);
  ck_assert_uint_eq(ethp2p_sim_nat_forward_list(F.box, list, 4), 1);
  teardown();
}
END_TEST

typedef struct tcp_probe {
  int connected, accepted, status, reads, eof;
  char got[64];
  size_t got_len;
  ethp2p_tcp *server_conn;
} tcp_probe;

static void probe_read(ethp2p_tcp *c, int status, const uint8_t *buf, size_t len, void *data) {
  tcp_probe *p = data;
  if (status != 0) {
    p->eof = status;
    return;
  }
  p->reads++;
  if (p->got_len + len < sizeof(p->got)) {
    memcpy(p->got + p->got_len, buf, len);
    p->got_len += len;
  }
  (void)c;
}

static void probe_accept(ethp2p_tcp *l, ethp2p_tcp *conn, void *data) {
  tcp_probe *p = data;
  (void)l;
  p->accepted++;
  p->server_conn = conn;
  ck_assert_int_eq(ethp2p_tcp_read_start(conn, probe_read, p), 0);
  ck_assert_int_eq(ethp2p_tcp_write(conn, (const uint8_t *)"hello", 5), 0);
}

static void probe_connect(ethp2p_tcp *c, int status, void *data) {
  tcp_probe *p = data;
  p->connected++;
  p->status = status;
  if (status == 0)
    ck_assert_int_eq(ethp2p_tcp_read_start(c, probe_read, p), 0);
}

START_TEST(tcp_forward_lets_a_wan_host_connect_in) {
  ethp2p_sim_forward f;
  ethp2p_tcp *l, *c = NULL, *c2 = NULL;
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 30303), to, peer;
  tcp_probe srv, cli, cli2;
  memset(&srv, 0, sizeof(srv));
  memset(&cli, 0, sizeof(cli));
  memset(&cli2, 0, sizeof(cli2));
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING);
  to = ext(30303);
  ck_assert_int_eq(ethp2p_tcp_listen(ethp2p_sim_host_env(F.in), &l, &any, probe_accept, &srv), 0);
  /* Without a forward the SYN is dropped by the box and the connect times out. */
  ck_assert_int_eq(
      ethp2p_tcp_connect(ethp2p_sim_host_env(F.p2), &c2, &to, NULL, probe_connect, &cli2), 0);
  ethp2p_sim_run(F.w, 30 * ETHP2P_SEC);
  SIM_ASSERT(F.w, cli2.connected == 1 && cli2.status == ETHP2P_ETIMEDOUT);
  SIM_ASSERT(F.w, srv.accepted == 0);
  memset(&f, 0, sizeof(f));
  f.proto = ETHP2P_SIM_TCP;
  f.external_port = 30303;
  f.internal = ethp2p_sim_host_addr(F.in);
  f.internal.port = 30303;
  f.expires = ethp2p_sim_now(F.w) + ETHP2P_HOUR;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), 0);
  ck_assert_int_eq(
      ethp2p_tcp_connect(ethp2p_sim_host_env(F.p2), &c, &to, NULL, probe_connect, &cli), 0);
  ck_assert_int_eq(cli.connected, 0); /* never inside the call */
  ethp2p_sim_run(F.w, ETHP2P_SEC);
  SIM_ASSERT(F.w, cli.connected == 1 && cli.status == 0);
  SIM_ASSERT(F.w, srv.accepted == 1);
  ck_assert_int_eq(ethp2p_tcp_peer_addr(srv.server_conn, &peer), 0);
  SIM_ASSERT(F.w, ethp2p_addr_equal(&peer, &F.P2, false)); /* the real client address */
  SIM_ASSERT(F.w, cli.got_len == 5 && memcmp(cli.got, "hello", 5) == 0);
  ck_assert_int_eq(ethp2p_tcp_write(c, (const uint8_t *)"ping", 4), 0);
  ethp2p_sim_run(F.w, ETHP2P_SEC);
  SIM_ASSERT(F.w, srv.got_len == 4 && memcmp(srv.got, "ping", 4) == 0);
  ethp2p_tcp_close(c);
  ethp2p_sim_run(F.w, ETHP2P_SEC);
  SIM_ASSERT(F.w, srv.eof == ETHP2P_ECLOSED);
  ethp2p_tcp_close(srv.server_conn);
  ethp2p_tcp_close(c2);
  /* After the lease, new connections time out again. */
  ethp2p_sim_run(F.w, ETHP2P_HOUR);
  memset(&cli2, 0, sizeof(cli2));
  ck_assert_int_eq(
      ethp2p_tcp_connect(ethp2p_sim_host_env(F.p2), &c2, &to, NULL, probe_connect, &cli2), 0);
  ethp2p_sim_run(F.w, 30 * ETHP2P_SEC);
  SIM_ASSERT(F.w, cli2.connected == 1 && cli2.status == ETHP2P_ETIMEDOUT);
  SIM_ASSERT(F.w, srv.accepted == 1);
  ethp2p_tcp_close(c2);
  ethp2p_tcp_close(l);
  teardown();
}
END_TEST

/* ---- operations -------------------------------------------------------------------- */
static int hook_events[8];
static int hook_n;
static void hook(ethp2p_sim_nat *nat, ethp2p_sim_nat_event ev, void *data) {
  (void)nat;
  (void)data;
  if (hook_n < 8)
    hook_events[hook_n] = (int)ev;
  hook_n++;
}

START_TEST(reboot_loses_bindings_and_forwards_and_runs_hooks) {
  ethp2p_sim_forward f;
  uint16_t port;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_RANDOM);
  hook_n = 0;
  ck_assert_int_eq(ethp2p_sim_nat_hook_add(F.box, hook, NULL), 0);
  memset(&f, 0, sizeof(f));
  f.proto = ETHP2P_SIM_UDP;
  f.external_port = 30303;
  f.internal = ethp2p_sim_host_addr(F.in2);
  f.internal.port = 4000;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), 0);
  send1(F.s_in, F.P1);
  settle();
  port = F.l_p1.from[0].port;
  ck_assert_uint_eq(ethp2p_sim_nat_binding_count(F.box), 1);
  ethp2p_sim_nat_reboot(F.box);
  ck_assert_uint_eq(ethp2p_sim_nat_reboots(F.box), 1);
  ck_assert_int_eq(hook_n, 1);
  ck_assert_int_eq(hook_events[0], ETHP2P_SIM_NAT_REBOOTED);
  ck_assert_uint_eq(ethp2p_sim_nat_binding_count(F.box), 0);
  ck_assert_uint_eq(ethp2p_sim_nat_forward_list(F.box, NULL, 0), 0);
  send1(F.s_p2, ext(port));
  send1(F.s_p2, ext(30303));
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 0 && F.l_in2.n == 0);
  ck_assert_int_eq(ethp2p_sim_nat_hook_remove(F.box, hook, NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_hook_remove(F.box, hook, NULL), ETHP2P_ENOTFOUND);
  teardown();
}
END_TEST

START_TEST(external_address_change_is_seen_by_peers) {
  ethp2p_addr old = ethp2p_addr_v4(0, 0, 0, 0, 0), nw = ethp2p_addr_v4(5, 5, 5, 5, 0);
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING);
  hook_n = 0;
  ck_assert_int_eq(ethp2p_sim_nat_hook_add(F.box, hook, NULL), 0);
  old = ethp2p_sim_nat_external_addr(F.box);
  send1(F.s_in, F.P1);
  settle();
  SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_p1.from[0], &old, false));
  ck_assert_int_eq(ethp2p_sim_nat_set_external_addr(F.box, &F.P2), ETHP2P_EEXIST);
  ck_assert_int_eq(ethp2p_sim_nat_set_external_addr(F.box, &nw), 0);
  ck_assert_int_eq(hook_n, 1);
  ck_assert_int_eq(hook_events[0], ETHP2P_SIM_NAT_EXTADDR_CHANGED);
  send1(F.s_in, F.P1);
  settle();
  SIM_ASSERT(F.w, ethp2p_addr_equal(&F.l_p1.from[1], &nw, false));
  /* The old address is gone from the internet. */
  old.port = 4000;
  send1(F.s_p1, old);
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 0);
  SIM_ASSERT(F.w, ethp2p_sim_drops(F.w, ETHP2P_SIM_DROP_NO_HOST) == 1);
  teardown();
}
END_TEST

START_TEST(down_drops_everything_and_up_restores) {
  uint16_t port;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING);
  hook_n = 0;
  ck_assert_int_eq(ethp2p_sim_nat_hook_add(F.box, hook, NULL), 0);
  send1(F.s_in, F.P1);
  settle();
  port = F.l_p1.from[0].port;
  ethp2p_sim_nat_down(F.box);
  ck_assert(!ethp2p_sim_nat_is_up(F.box));
  send1(F.s_in, F.P1);
  send1(F.s_p1, ext(port));
  settle();
  SIM_ASSERT(F.w, F.l_p1.n == 1 && F.l_in.n == 0);
  SIM_ASSERT(F.w, ethp2p_sim_drops(F.w, ETHP2P_SIM_DROP_HOST_DOWN) == 2);
  ethp2p_sim_nat_up(F.box);
  send1(F.s_p1, ext(port)); /* state was kept */
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1);
  ck_assert_int_eq(hook_n, 2);
  ck_assert_int_eq(hook_events[0], ETHP2P_SIM_NAT_WENT_DOWN);
  ck_assert_int_eq(hook_events[1], ETHP2P_SIM_NAT_CAME_UP);
  teardown();
}
END_TEST

START_TEST(double_nat_translates_twice_and_replies_come_back) {
  ethp2p_sim *w;
  ethp2p_sim_nat *outer, *inner;
  ethp2p_sim_host *h, *srv;
  ethp2p_sim_nat_config oc = ethp2p_sim_nat_config_default(), ic = ethp2p_sim_nat_config_default();
  ethp2p_addr sa = ethp2p_addr_v4(8, 8, 8, 8, 0), to = ethp2p_addr_v4(8, 8, 8, 8, 53), gw;
  ethp2p_addr inner_ext, outer_ext;
  ethp2p_udp *us, *uh;
  rxlog ls, lh;
  memset(&ls, 0, sizeof(ls));
  memset(&lh, 0, sizeof(lh));
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  oc.filtering = ETHP2P_NAT_POLICY_APD;
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &outer, "isp", &oc), 0);
  ic.outside = ethp2p_sim_nat_lan(outer);
  ic.outside_addr = ethp2p_addr_v4(192, 168, 1, 2, 0);
  ic.outside_prefix = 24;
  ic.outside_gateway = ethp2p_sim_nat_inside_addr(outer);
  ic.inside_addr = ethp2p_addr_v4(10, 0, 0, 1, 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &inner, "home", &ic), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(inner, &h, "node", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &srv, "dns", &sa), 0);
  ck_assert_int_eq(ethp2p_env_default_gateway(ethp2p_sim_host_env(h), &gw), 0);
  ck_assert(ethp2p_addr_equal(&gw, &ic.inside_addr, false));
  {
    ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 53), hb = ethp2p_addr_v4(0, 0, 0, 0, 5000);
    ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(srv), &us, &any, 0, rx_cb, &ls), 0);
    ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(h), &uh, &hb, 0, rx_cb, &lh), 0);
  }
  ck_assert_int_eq(ethp2p_udp_send(uh, &to, (const uint8_t *)"q", 1), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  inner_ext = ethp2p_sim_nat_external_addr(inner);
  outer_ext = ethp2p_sim_nat_external_addr(outer);
  SIM_ASSERT(w, ethp2p_addr_is_private(&inner_ext));
  SIM_ASSERT(w, ls.n == 1 && ethp2p_addr_equal(&ls.from[0], &outer_ext, false));
  ck_assert_int_eq(ethp2p_udp_send(us, &ls.from[0], (const uint8_t *)"a", 1), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, lh.n == 1 && ethp2p_addr_equal(&lh.from[0], &to, true));
  /* Two boxes, two bindings. */
  ck_assert_uint_eq(ethp2p_sim_nat_binding_count(inner), 1);
  ck_assert_uint_eq(ethp2p_sim_nat_binding_count(outer), 1);
  ethp2p_udp_close(us);
  ethp2p_udp_close(uh);
  ethp2p_sim_destroy(w);
}
END_TEST

/* ---- services on the box ------------------------------------------------------------ */
START_TEST(services_bind_on_the_box_inside_and_outside_addresses) {
  ethp2p_sim_host *bh;
  ethp2p_udp *svc_in, *svc_out;
  rxlog lin, lout;
  ethp2p_addr inside, outside, gw;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING);
  memset(&lin, 0, sizeof(lin));
  memset(&lout, 0, sizeof(lout));
  bh = ethp2p_sim_nat_host(F.box);
  inside = ethp2p_sim_nat_inside_addr(F.box);
  inside.port = 5351;
  outside = ext(5351);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(bh), &svc_in, &inside, 0, rx_cb, &lin), 0);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(bh), &svc_out, &outside, 0, rx_cb, &lout),
                   0);
  ck_assert_int_eq(ethp2p_env_default_gateway(ethp2p_sim_host_env(F.in), &gw), 0);
  ck_assert(ethp2p_addr_equal(&gw, &inside, false));
  gw.port = 5351;
  send1(F.s_in, gw);
  send1(F.s_p1, outside);
  settle();
  SIM_ASSERT(F.w, lin.n == 1 && lout.n == 1);
  {
    ethp2p_addr alice = ethp2p_sim_host_addr(F.in);
    SIM_ASSERT(F.w, ethp2p_addr_equal(&lin.from[0], &alice, false));
  }
  SIM_ASSERT(F.w, ethp2p_addr_equal(&lout.from[0], &F.P1, true));
  /* The box answers from its inside address. */
  ck_assert_int_eq(ethp2p_udp_send(svc_in, &lin.from[0], (const uint8_t *)"r", 1), 0);
  settle();
  SIM_ASSERT(F.w, F.l_in.n == 1 && F.l_in.from[0].port == 5351);
  ethp2p_udp_close(svc_in);
  ethp2p_udp_close(svc_out);
  teardown();
}
END_TEST

/* ---- all 27 NATCracker types, observed from outside --------------------------------- */
START_TEST(every_policy_triple_behaves_as_configured) {
  ethp2p_nat_policy mapping = (ethp2p_nat_policy)(_i % 3 + 1);
  ethp2p_nat_policy filtering = (ethp2p_nat_policy)((_i / 3) % 3 + 1);
  ethp2p_nat_alloc alloc = (ethp2p_nat_alloc)(_i / 9 + 1);
  uint16_t a, b, c;
  /* Mapping and allocation: three destinations, one after the other. */
  setup(mapping, filtering, alloc);
  send1(F.s_in, F.P1);
  settle();
  send1(F.s_in, F.P1b);
  settle();
  send1(F.s_in, F.P2);
  settle();
  a = F.l_p1.from[0].port;
  b = F.l_p1b.from[0].port;
  c = F.l_p2.from[0].port;
  ck_assert_msg((a == b) == (mapping != ETHP2P_NAT_POLICY_APD), "type %d: same host, other port",
                _i);
  ck_assert_msg((a == c) == (mapping == ETHP2P_NAT_POLICY_EI), "type %d: other host", _i);
  if (alloc == ETHP2P_NAT_ALLOC_PRESERVING)
    ck_assert_msg(a == 4000, "type %d: port preserved", _i);
  if (alloc == ETHP2P_NAT_ALLOC_RANDOM)
    ck_assert_msg(a != 4000, "type %d: random port", _i);
  if (mapping == ETHP2P_NAT_POLICY_APD && alloc != ETHP2P_NAT_ALLOC_RANDOM)
    ck_assert_msg(b == a + 1 && c == b + 1, "type %d: next ports", _i);
  teardown();
  /* Filtering: the inside host contacted P1 only. */
  setup(mapping, filtering, alloc);
  send1(F.s_in, F.P1);
  settle();
  a = F.l_p1.from[0].port;
  send1(F.s_p1, ext(a));
  settle();
  send1(F.s_p1b, ext(a));
  settle();
  send1(F.s_p2, ext(a));
  settle();
  ck_assert_msg(F.l_in.n == (filtering == ETHP2P_NAT_POLICY_EI   ? 3
                             : filtering == ETHP2P_NAT_POLICY_AD ? 2
                                                                 : 1),
                "type %d: %d admitted", _i, F.l_in.n);
  teardown();
}
END_TEST

/* ---- trace of NAT events ---------------------------------------------------------- */
static ethp2p_time fwd_expired_at, bind_expired_at;
static int bind_new_lines;
static void nat_sink(void *data, ethp2p_time now, const char *line) {
  (void)data;
  if (strncmp(line, "fwd-expire", 10) == 0)
    fwd_expired_at = now;
  if (strncmp(line, "bind-expire", 11) == 0 && bind_expired_at == 0)
    bind_expired_at = now;
  if (strncmp(line, "bind-new", 8) == 0)
    bind_new_lines++;
}

START_TEST(forward_expiry_is_traced_at_its_lease_end_and_bindings_are_swept) {
  ethp2p_sim_forward f;
  ethp2p_time lease_end, sent;
  setup(ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_PRESERVING);
  fwd_expired_at = bind_expired_at = 0;
  bind_new_lines = 0;
  ethp2p_sim_set_trace_sink(F.w, nat_sink, NULL);
  memset(&f, 0, sizeof(f));
  f.proto = ETHP2P_SIM_TCP;
  f.external_port = 443;
  f.internal = ethp2p_sim_host_addr(F.in);
  f.internal.port = 443;
  lease_end = ethp2p_sim_now(F.w) + 90 * ETHP2P_SEC + 123;
  f.expires = lease_end;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(F.box, &f), 0);
  sent = ethp2p_sim_now(F.w);
  send1(F.s_in, F.P1);
  ethp2p_sim_run(F.w, 10 * ETHP2P_MIN);
  SIM_ASSERT(F.w, fwd_expired_at == lease_end);
  SIM_ASSERT(F.w, bind_new_lines == 1);
  /* Binding made at sent + 1 ms (LAN hop), expires 30 s later; swept soon after. */
  SIM_ASSERT(F.w, bind_expired_at >= sent + ETHP2P_MSEC + 30 * ETHP2P_SEC);
  SIM_ASSERT(F.w, bind_expired_at <= sent + ETHP2P_MSEC + 35 * ETHP2P_SEC);
  SIM_ASSERT(F.w, ethp2p_sim_pending(F.w) == 0); /* nothing left to do: the world is idle */
  teardown();
}
END_TEST

/* The classes are the shared vocabulary (ethp2p/natclass.h), where 0 is "unknown": a box
 * must be given a behaviour, so unknown and out-of-range classes are refused. */
START_TEST(unknown_or_out_of_range_classes_are_refused) {
  ethp2p_sim *sim;
  ethp2p_sim_nat *nat = (ethp2p_sim_nat *)1;
  ck_assert_int_eq(ethp2p_sim_create(&sim, 5), 0);
  ethp2p_sim_nat_config c = ethp2p_sim_nat_config_default();
  c.mapping = ETHP2P_NAT_POLICY_UNKNOWN;
  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &nat, "a", &c), ETHP2P_EINVAL);
  ck_assert_ptr_null(nat);
  c = ethp2p_sim_nat_config_default();
  c.filtering = (ethp2p_nat_policy)(ETHP2P_NAT_POLICY_APD + 1);
  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &nat, "b", &c), ETHP2P_EINVAL);
  c = ethp2p_sim_nat_config_default();
  c.allocation = ETHP2P_NAT_ALLOC_UNKNOWN;
  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &nat, "c", &c), ETHP2P_EINVAL);
  c = ethp2p_sim_nat_config_default();
  ck_assert_int_eq(c.mapping, ETHP2P_NAT_POLICY_EI);
  ck_assert_int_eq(c.filtering, ETHP2P_NAT_POLICY_APD);
  ck_assert_int_eq(c.allocation, ETHP2P_NAT_ALLOC_PRESERVING);
  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &nat, "d", &c), 0);
  ck_assert_int_eq(ethp2p_sim_nat_config_get(nat)->mapping, ETHP2P_NAT_POLICY_EI);
  ethp2p_sim_destroy(sim);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_nat");
  TCase *tc = tcase_create("nat");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, ei_mapping_preserving_gives_two_destinations_the_same_port);
  tcase_add_test(tc, unknown_or_out_of_range_classes_are_refused);
  tcase_add_test(tc, ad_mapping_shares_a_port_per_destination_host);
  tcase_add_test(tc, apd_mapping_gives_each_destination_endpoint_its_own_port);
  tcase_add_test(tc, apd_filtering_drops_unsolicited_packets);
  tcase_add_test(tc, ad_filtering_admits_any_port_of_a_contacted_host);
  tcase_add_test(tc, ei_filtering_lets_unsolicited_packets_in);
  tcase_add_test(tc, contiguous_allocation_steps_by_one);
  tcase_add_test(tc, random_allocation_spreads_ports);
  tcase_add_test(tc, preserving_allocation_falls_back_when_the_port_is_taken);
  tcase_add_test(tc, binding_expires_after_the_udp_timeout);
  tcase_add_test(tc, outbound_traffic_keeps_a_binding_alive);
  tcase_add_test(tc, hairpinning_on_delivers_between_lan_hosts_via_external_address);
  tcase_add_test(tc, hairpinning_off_drops_lan_to_external_address);
  tcase_add_test(tc, hairpinned_packets_are_filtered_like_outside_ones_and_punch_holes);
  tcase_add_test(tc, forward_lets_outside_packets_in_until_its_lease_ends);
  tcase_add_test(tc, forward_add_rejects_bad_arguments_and_replaces_same_port);
  tcase_add_test(tc, tcp_forward_lets_a_wan_host_connect_in);
  tcase_add_test(tc, reboot_loses_bindings_and_forwards_and_runs_hooks);
  tcase_add_test(tc, external_address_change_is_seen_by_peers);
  tcase_add_test(tc, down_drops_everything_and_up_restores);
  tcase_add_test(tc, double_nat_translates_twice_and_replies_come_back);
  tcase_add_test(tc, services_bind_on_the_box_inside_and_outside_addresses);
  tcase_add_loop_test(tc, every_policy_triple_behaves_as_configured, 0, 27);
  tcase_add_test(tc, forward_expiry_is_traced_at_its_lease_end_and_bindings_are_swept);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
