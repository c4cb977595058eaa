/* tests/check_gateway_clients.c — the project's own NAT clients (nat/: NAT-PMP, PCP,
 * UPnP) against the gateway emulator in the simulated world: both halves of every
 * codec keep each other honest. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_gateway_fixture.h"
#include "ethp2p/nat.h"
#include "nat/gateway/gw_internal.h" /* white-box: quirk parameters */

static fx F;

static void setup(void) {
  fx_setup(&F, NULL);
}
static void teardown(void) {
  fx_teardown(&F);
}

typedef struct cres {
  int done;
  ethp2p_nat_map_result map;
  int status;
  ethp2p_addr ip;
  int lost, announced;
} cres;

static void on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  cres *c = data;
  (void)nat;
  c->map = *res;
  c->done = 1;
}

static void on_ip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  cres *c = data;
  (void)nat;
  c->status = status;
  if (ip != NULL)
    c->ip = *ip;
  c->done = 1;
}

static void on_done(ethp2p_nat *nat, int status, void *data) {
  cres *c = data;
  (void)nat;
  c->status = status;
  c->done = 1;
}

static void on_notify(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip, void *data) {
  cres *c = data;
  (void)nat;
  (void)ip;
  if (ev == ETHP2P_NAT_EV_STATE_LOST)
    c->lost++;
  else
    c->announced++;
}

static ethp2p_nat *client(const char *spec_text) {
  ethp2p_nat_spec spec;
  ethp2p_nat *nat;
  char err[64];
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, spec_text, err, sizeof err), 0);
  ck_assert_int_eq(ethp2p_nat_create(F.e1, &spec, &nat), 0);
  return nat;
}

static void wait_done(cres *c) {
  for (int i = 0; i < 600 && !c->done; i++)
    ethp2p_sim_run(F.sim, 100 * ETHP2P_MSEC);
  ck_assert_int_eq(c->done, 1);
}

static void map_unmap_cycle(const char *spec_text, ethp2p_gw_origin origin) {
  ethp2p_nat *nat = client(spec_text);
  cres c;
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_ip, &c), 0);
  wait_done(&c);
  ck_assert_int_eq(c.status, 0);
  ck_assert(ethp2p_addr_equal(&c.ip, &F.ext, false));
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 30303, 30303, "ethp2p", 600, on_map, &c), 0);
  wait_done(&c);
  ck_assert_int_eq(c.map.status, 0);
  ck_assert_uint_eq(c.map.external_port, 30303);
  ck_assert_uint_gt(c.map.lifetime_s, 0);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
  ck_assert_int_eq(F.mappings[0].origin, origin);
  ethp2p_sim_forward fw;
  ck_assert_int_eq(ethp2p_sim_nat_forward_lookup(F.nat, ETHP2P_SIM_UDP, 30303, &fw), 0);
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_UDP, 30303, 30303, on_done, &c), 0);
  wait_done(&c);
  ck_assert_int_eq(c.status, 0);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ethp2p_nat_destroy(nat);
}

START_TEST(pmp_client_maps_and_unmaps) {
  map_unmap_cycle("pmp:192.168.1.1", ETHP2P_GW_PMP);
}
END_TEST

START_TEST(pcp_client_maps_and_unmaps) {
  map_unmap_cycle("pcp:192.168.1.1", ETHP2P_GW_PCP);
}
END_TEST

START_TEST(upnp_client_maps_and_unmaps) {
  map_unmap_cycle("upnp", ETHP2P_GW_UPNP);
}
END_TEST

START_TEST(pcp_client_downgrades_to_pmp_on_a_pmp_only_gateway) {
  ethp2p_gw_config *unused = NULL;
  (void)unused;
  ethp2p_gw_stop(F.gw);
  ethp2p_gw_destroy(F.gw);
  F.cfg.policy.pcp = false;
  ck_assert_int_eq(ethp2p_gw_create(ethp2p_sim_host_env(F.box), &F.cfg, &F.gw), 0);
  ethp2p_gw_set_change_cb(F.gw, fx_on_change, &F);
  ethp2p_gw_set_mirror(F.gw, fx_mirror, &F);
  ck_assert_int_eq(ethp2p_gw_start(F.gw), 0);
  ethp2p_nat *nat = client("pcp:192.168.1.1");
  cres c;
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, "ethp2p", 600, on_map, &c), 0);
  wait_done(&c);
  ck_assert_int_eq(c.map.status, 0);
  ck_assert_uint_eq(c.map.external_port, 30303);
  ck_assert_int_eq(F.mappings[F.n_changes - 1].origin, ETHP2P_GW_PMP);
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(pmp_client_hears_that_the_router_restarted) {
  ethp2p_nat *nat = client("pmp:192.168.1.1");
  cres c, n;
  memset(&c, 0, sizeof c);
  memset(&n, 0, sizeof n);
  ethp2p_nat_set_notify(nat, on_notify, &n);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 30303, 30303, "ethp2p", 3600, on_map, &c), 0);
  wait_done(&c);
  ck_assert_int_eq(c.map.status, 0);
  ethp2p_sim_run(F.sim, 10 * ETHP2P_MIN);
  ethp2p_sim_nat_reboot(F.nat);
  ethp2p_sim_run(F.sim, 5 * ETHP2P_SEC);
  ck_assert_int_ge(n.lost + n.announced, 1);
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(upnp_client_copes_with_quirky_routers) {
  unsigned quirks[] = {ETHP2P_GW_Q_UNNAMESPACED_SOAP | ETHP2P_GW_Q_CHUNKED, ETHP2P_GW_Q_NO_NATRSIP,
                       ETHP2P_GW_Q_RANDOM_PORT};
  for (size_t i = 0; i < sizeof quirks / sizeof quirks[0]; i++) {
    ethp2p_gw_set_quirks(F.gw, quirks[i]);
    ethp2p_nat *nat = client("upnp");
    cres c;
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, (uint16_t)(4000 + i),
                                            (uint16_t)(4000 + i), "ethp2p", 600, on_map, &c),
                     0);
    wait_done(&c);
    ck_assert_msg(c.map.status == 0, "quirks %u: status %d code %d", quirks[i], c.map.status,
                  c.map.router_code);
    ck_assert_uint_ne(c.map.external_port, 0);
    if (quirks[i] == ETHP2P_GW_Q_RANDOM_PORT) {
      /* The router picks a random port for every AddAnyPortMapping; asking for the exact
       * port first keeps the wanted one, and a renewal (hint = the port we hold) keeps it
       * again, so the record does not churn. */
      uint16_t held = c.map.external_port;
      ck_assert_uint_eq(held, 4000 + i);
      memset(&c, 0, sizeof c);
      ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, held, (uint16_t)(4000 + i),
                                              "ethp2p", 600, on_map, &c),
                       0);
      wait_done(&c);
      ck_assert_int_eq(c.map.status, 0);
      ck_assert_uint_eq(c.map.external_port, held);
    }
    ethp2p_nat_destroy(nat);
  }
}
END_TEST

/* Every client against every quirk: a mapping is granted and really forwards. */
START_TEST(clients_map_through_every_quirk) {
  const char *specs[] = {"pmp:192.168.1.1", "pcp:192.168.1.1", "upnp"};
  uint16_t port = 20000;
  F.gw->cfg.drop_percent = 30;
  F.gw->cfg.slow_ms = 300;
  for (unsigned q = 1; q <= ETHP2P_GW_Q_DROP; q <<= 1) {
    for (size_t k = 0; k < 3; k++) {
      ethp2p_gw_set_quirks(F.gw, q);
      ethp2p_nat *nat = client(specs[k]);
      cres c;
      memset(&c, 0, sizeof c);
      port++;
      ck_assert_int_eq(
          ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, port, port, "q", 600, on_map, &c), 0);
      wait_done(&c);
      if (q == ETHP2P_GW_Q_DROP && k == 2 && c.map.status != 0) {
        /* Lost SSDP replies or a lost SOAP reply: UPnP has no retransmission of its
         * own; the port-mapping loop retries later.  It must fail cleanly. */
        ck_assert(c.map.status == ETHP2P_ENOGATEWAY || c.map.status == ETHP2P_ETIMEDOUT);
        ck_assert_uint_eq(c.map.external_port, 0);
        ethp2p_nat_destroy(nat);
        continue;
      }
      ck_assert_msg(c.map.status == 0, "%s with quirk %s: %s (router code %d)", specs[k],
                    ethp2p_gw_quirk_name(q), ethp2p_strerror(c.map.status), c.map.router_code);
      ethp2p_sim_forward fw;
      ck_assert_int_eq(
          ethp2p_sim_nat_forward_lookup(F.nat, ETHP2P_SIM_UDP, c.map.external_port, &fw), 0);
      ck_assert_uint_eq(fw.internal.port, port);
      ethp2p_nat_destroy(nat);
      ethp2p_sim_run(F.sim, ETHP2P_SEC);
    }
  }
}
END_TEST

/* The emulator advertises and events as miniupnpd does, and the UPnP client follows it
 * in well under a second; with both left out (quirks) the poll still sees it all. */
typedef struct follow {
  int lost, gone, extip;
  ethp2p_addr ip;
} follow;

static void on_follow(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip, void *data) {
  follow *f = data;
  (void)nat;
  if (ev == ETHP2P_NAT_EV_STATE_LOST)
    f->lost++;
  else if (ev == ETHP2P_NAT_EV_GATEWAY_GONE)
    f->gone++;
  else if (ev == ETHP2P_NAT_EV_EXTIP_ANNOUNCED) {
    f->extip++;
    f->ip = *ip;
  }
}

static void map_one(ethp2p_nat *nat, uint16_t port) {
  cres c;
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, port, port, "f", 600, on_map, &c),
                   0);
  wait_done(&c);
  ck_assert_int_eq(c.map.status, 0);
}

static void poll_ip(ethp2p_nat *nat, ethp2p_addr *out) {
  cres c;
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_ip, &c), 0);
  wait_done(&c);
  ck_assert_int_eq(c.status, 0);
  *out = c.ip;
}

START_TEST(upnp_client_follows_restart_and_new_address_in_under_a_second) {
  ethp2p_nat *nat = client("upnp");
  follow f = {0};
  ethp2p_gw_stats st0, st;
  ethp2p_addr ip2 = ethp2p_addr_v4(198, 51, 100, 77, 0), got;
  ethp2p_nat_set_notify(nat, on_follow, &f);
  map_one(nat, 31000);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ethp2p_gw_get_stats(F.gw, &st0);
  ck_assert_uint_eq(st0.subscribes, 1);
  ck_assert_uint_ge(st0.events_sent, 1); /* the initial event */
  ck_assert_int_eq(f.extip, 0); /* its address was never reported: not news, the poll says it */
  ck_assert_int_eq(ethp2p_gw_restart(F.gw), 0);
  ethp2p_sim_run(F.sim, 500 * ETHP2P_MSEC);
  ethp2p_gw_get_stats(F.gw, &st);
  ck_assert_uint_ne(st.bootid, st0.bootid);
  ck_assert_int_eq(f.lost, 1); /* ssdp:alive with the new BOOTID */
  map_one(nat, 31000);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ethp2p_gw_set_external_ip(F.gw, &ip2);
  ethp2p_sim_run(F.sim, 500 * ETHP2P_MSEC);
  ck_assert_int_eq(f.extip, 1); /* GENA event */
  ck_assert(ethp2p_addr_equal(&f.ip, &ip2, false));
  /* The poll is one request now (GetStatusInfo): the address comes from the event. */
  ethp2p_sim_run(F.sim, 15 * ETHP2P_SEC); /* past the freshness of discovery's uptime */
  ethp2p_gw_get_stats(F.gw, &st0);
  poll_ip(nat, &got);
  ethp2p_gw_get_stats(F.gw, &st);
  ck_assert(ethp2p_addr_equal(&got, &ip2, false));
  ck_assert_uint_eq(st.soap_requests - st0.soap_requests, 1);
  ck_assert_int_eq(f.gone, 0);
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(upnp_client_without_notify_or_gena_falls_back_to_the_poll) {
  ethp2p_nat *nat;
  follow f = {0};
  ethp2p_gw_stats st;
  ethp2p_addr ip2 = ethp2p_addr_v4(198, 51, 100, 78, 0), got;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_NO_NOTIFY | ETHP2P_GW_Q_NO_GENA);
  nat = client("upnp");
  ethp2p_nat_set_notify(nat, on_follow, &f);
  map_one(nat, 31001);
  ethp2p_sim_run(F.sim, 10 * ETHP2P_SEC);
  ethp2p_gw_get_stats(F.gw, &st);
  ck_assert_uint_eq(st.subscribes, 0);
  ck_assert_int_eq(ethp2p_gw_restart(F.gw), 0);
  ethp2p_sim_run(F.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(f.lost, 0); /* nothing said it */
  poll_ip(nat, &got);          /* GetStatusInfo: the uptime went down */
  ck_assert_int_eq(f.lost, 1);
  ethp2p_gw_set_external_ip(F.gw, &ip2);
  ethp2p_sim_run(F.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(f.extip, 0);
  poll_ip(nat, &got);
  ck_assert(ethp2p_addr_equal(&got, &ip2, false));
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(gateway_says_byebye_at_a_clean_stop_only) {
  ethp2p_gw_stats a, b;
  ethp2p_gw_get_stats(F.gw, &a);
  ck_assert_uint_ge(a.notifies_sent, 10); /* ssdp:alive for each NT at start */
  ck_assert_int_eq(ethp2p_gw_restart(F.gw), 0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ethp2p_gw_get_stats(F.gw, &b);
  ck_assert_uint_eq(b.notifies_sent - a.notifies_sent, 10); /* alive, no byebye */
  ethp2p_gw_stop(F.gw);
  ethp2p_gw_get_stats(F.gw, &a);
  ck_assert_uint_eq(a.notifies_sent - b.notifies_sent, 10); /* byebye */
  ck_assert_int_eq(ethp2p_gw_start(F.gw), 0);
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_NO_NOTIFY);
  ethp2p_sim_run(F.sim, 2 * ETHP2P_MIN);
  ethp2p_gw_stop(F.gw);
  ethp2p_gw_get_stats(F.gw, &b);
  ck_assert_uint_eq(b.notifies_sent - a.notifies_sent, 0);
}
END_TEST

static bool gate_says(void *data) {
  return *(const bool *)data;
}

/* The advertisement gate: a closed gate sends and counts no series (alive, byebye), an
 * open one the ten of each, and the timer keeps advertising every interval. */
START_TEST(gateway_advertises_only_when_the_gate_says_someone_listens) {
  ethp2p_gw_stats a, b;
  bool open = false;
  ethp2p_gw_stop(F.gw);
  ethp2p_gw_set_notify_gate(F.gw, gate_says, &open);
  ethp2p_gw_get_stats(F.gw, &a);
  ck_assert_int_eq(ethp2p_gw_start(F.gw), 0);
  ethp2p_sim_run(F.sim, 2 * ETHP2P_MIN); /* start and 4 intervals */
  ethp2p_gw_get_stats(F.gw, &b);
  ck_assert_uint_eq(b.notifies_sent - a.notifies_sent, 0);
  open = true;
  ethp2p_sim_run(F.sim, 30 * ETHP2P_SEC); /* one interval */
  ethp2p_gw_get_stats(F.gw, &a);
  ck_assert_uint_eq(a.notifies_sent - b.notifies_sent, 10);
  open = false;
  ethp2p_gw_stop(F.gw);
  ethp2p_gw_get_stats(F.gw, &b);
  ck_assert_uint_eq(b.notifies_sent - a.notifies_sent, 0); /* no byebye either */
  ethp2p_gw_set_notify_gate(F.gw, NULL, NULL);
  ck_assert_int_eq(ethp2p_gw_start(F.gw), 0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ethp2p_gw_get_stats(F.gw, &a);
  ck_assert_uint_eq(a.notifies_sent - b.notifies_sent, 10); /* cleared: always */
}
END_TEST

int main(void) {
  Suite *s = suite_create("gateway_clients");
  TCase *tc = tcase_create("clients");
  SRunner *sr;
  int failed;
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, pmp_client_maps_and_unmaps);
  tcase_add_test(tc, pcp_client_maps_and_unmaps);
  tcase_add_test(tc, upnp_client_maps_and_unmaps);
  tcase_add_test(tc, pcp_client_downgrades_to_pmp_on_a_pmp_only_gateway);
  tcase_add_test(tc, pmp_client_hears_that_the_router_restarted);
  tcase_add_test(tc, upnp_client_copes_with_quirky_routers);
  tcase_add_test(tc, clients_map_through_every_quirk);
  tcase_add_test(tc, upnp_client_follows_restart_and_new_address_in_under_a_second);
  tcase_add_test(tc, upnp_client_without_notify_or_gena_falls_back_to_the_poll);
  tcase_add_test(tc, gateway_says_byebye_at_a_clean_stop_only);
  tcase_add_test(tc, gateway_advertises_only_when_the_gate_says_someone_listens);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
