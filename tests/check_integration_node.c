/*
 * tests/check_integration_node.c — the whole node (server, local record,
 * port-mapping loop, the real NAT clients) behind a simulated router that runs
 * the gateway emulator, over simulated hours and days.
 *
 * After every record version the invariants are checked: valid signature,
 * at most 300 bytes, seq rising, no port 0, no private or CGNAT address.
 * "True" means a WAN host can use the record: its IP is the router's external
 * address and the router forwards its TCP and UDP ports to the node.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/enr.h"
#include "ethp2p/gateway.h"
#include "ethp2p/localnode.h"
#include "ethp2p/nat.h"
#include "ethp2p/portmap.h"
#include "ethp2p/server.h"
#include "ethp2p/sim.h"

#define SEED 0x5eed6u
static const char *const KEY = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

typedef struct lab {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box, *outer;
  ethp2p_sim_host *node_host, *wan;
  ethp2p_gateway *gw;
  ethp2p_server *srv;
  ethp2p_addr node_addr;
  ethp2p_enr rec;
  unsigned versions;
  uint64_t last_seq;
  unsigned ev[16];
  unsigned accepted;
  bool stopped;
  int stop_status;
  ethp2p_tcp *probe;
  int probe_status;
  bool probe_done;
} lab;

static lab L;

static int mirror(void *data, bool add, const ethp2p_gw_mapping *m, const ethp2p_addr *ext) {
  lab *l = data;
  ethp2p_sim_forward f;
  (void)ext;
  if (!add)
    return ethp2p_sim_nat_forward_remove(l->box, (uint8_t)m->proto, m->external_port), 0;
  memset(&f, 0, sizeof f);
  f.proto = (uint8_t)m->proto;
  f.external_port = m->external_port;
  f.internal = m->internal;
  f.expires = m->expires;
  return ethp2p_sim_nat_forward_add(l->box, &f);
}

static void box_hook(ethp2p_sim_nat *nat, ethp2p_sim_nat_event ev, void *data) {
  lab *l = data;
  if (ev == ETHP2P_SIM_NAT_REBOOTED) {
    ethp2p_gw_restart(l->gw);
  } else if (ev == ETHP2P_SIM_NAT_EXTADDR_CHANGED) {
    ethp2p_addr a = ethp2p_sim_nat_external_addr(nat);
    ethp2p_gw_set_external_ip(l->gw, &a);
  }
}

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  lab *l = data;
  uint8_t buf[ETHP2P_ENR_MAX_SIZE], ip[4];
  size_t len;
  uint16_t p;
  (void)ln;
  ck_assert_int_eq(ethp2p_enr_verify(rec, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_encode(buf, sizeof buf, &len, rec), 0);
  ck_assert_uint_le(len, 300);
  if (l->versions > 0)
    ck_assert_uint_gt(ethp2p_enr_seq(rec), l->last_seq);
  if (ethp2p_enr_port_get(rec, ETHP2P_ENR_TCP, &p) == 0)
    ck_assert_uint_ne(p, 0);
  if (ethp2p_enr_port_get(rec, ETHP2P_ENR_UDP, &p) == 0)
    ck_assert_uint_ne(p, 0);
  if (ethp2p_enr_ip_get(rec, ip) == 0) {
    ethp2p_addr a = ethp2p_addr_v4(ip[0], ip[1], ip[2], ip[3], 0);
    ck_assert(!ethp2p_addr_is_private(&a) && !ethp2p_addr_is_cgnat(&a));
  }
  l->versions++;
  l->last_seq = ethp2p_enr_seq(rec);
  l->rec = *rec;
}

static void on_event(ethp2p_portmap *pm, const ethp2p_portmap_event *ev, void *data) {
  lab *l = data;
  (void)pm;
  if ((unsigned)ev->type < 16)
    l->ev[ev->type]++;
}

static void on_accept(ethp2p_server *srv, ethp2p_tcp *conn, void *data) {
  lab *l = data;
  (void)srv;
  l->accepted++;
  ethp2p_tcp_close(conn);
}

typedef struct lab_opts {
  const char *nat;
  unsigned quirks;
  bool permanent_only;
  bool double_nat;
} lab_opts;

static void lab_up(const lab_opts *o) {
  ethp2p_sim_nat_config nc = ethp2p_sim_nat_config_default();
  ethp2p_gw_config gc;
  ethp2p_server_config sc;
  char err[96];
  ethp2p_diag diag;

  memset(&L, 0, sizeof L);
  ck_assert_int_eq(ethp2p_sim_create(&L.sim, SEED), 0);
  if (o->double_nat) {
    /* the ISP's carrier-grade NAT in front of the home router */
    ethp2p_sim_nat_config oc = ethp2p_sim_nat_config_default();
    oc.inside_addr = ethp2p_addr_v4(100, 64, 0, 1, 0);
    oc.inside_prefix = 10;
    ck_assert_int_eq(ethp2p_sim_nat_create(L.sim, &L.outer, "isp", &oc), 0);
    nc.outside = ethp2p_sim_nat_lan(L.outer);
    nc.outside_addr = ethp2p_addr_v4(100, 64, 0, 2, 0);
    nc.outside_prefix = 10;
    nc.outside_gateway = ethp2p_addr_v4(100, 64, 0, 1, 0);
  }
  ck_assert_int_eq(ethp2p_sim_nat_create(L.sim, &L.box, "router", &nc), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(L.box, &L.node_host, "node", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(L.sim, &L.wan, "peer", NULL), 0);
  L.node_addr = ethp2p_sim_host_addr(L.node_host);
  ethp2p_sim_set_tcp_connect_timeout(L.sim, 2 * ETHP2P_SEC);

  ethp2p_gw_config_default(&gc);
  gc.lan_addr = ethp2p_sim_nat_inside_addr(L.box);
  gc.external_ip = ethp2p_sim_nat_external_addr(L.box);
  gc.quirks = o->quirks;
  gc.policy.permanent_only = o->permanent_only;
  snprintf(gc.uuid, sizeof gc.uuid, "%s", "4d696e69-5550-6e50-0000-0000000000e6");
  ck_assert_int_eq(ethp2p_gw_create(ethp2p_sim_host_env(ethp2p_sim_nat_host(L.box)), &gc, &L.gw),
                   0);
  ethp2p_gw_set_mirror(L.gw, mirror, &L);
  ck_assert_int_eq(ethp2p_sim_nat_hook_add(L.box, box_hook, &L), 0);
  ck_assert_int_eq(ethp2p_gw_start(L.gw), 0);

  ethp2p_server_config_default(&sc);
  sc.nodekey_hex = KEY;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&sc.nat, o->nat, err, sizeof err), 0);
  sc.accept_cb = on_accept;
  sc.accept_data = &L;
  memset(&diag, 0, sizeof diag);
  ck_assert_msg(ethp2p_server_start(ethp2p_sim_host_env(L.node_host), &sc, &L.srv, &diag) == 0,
                "server: %s", diag.msg);
  ethp2p_localnode_subscribe(ethp2p_server_localnode(L.srv), on_record, &L);
  ethp2p_portmap_subscribe(ethp2p_server_portmap(L.srv), on_event, &L);
}

static void lab_down(void) {
  ethp2p_server_destroy(L.srv);
  ethp2p_gw_destroy(L.gw);
  ethp2p_sim_destroy(L.sim);
}

static uint16_t rec_port(ethp2p_enr_port which) {
  uint16_t p = 0;
  (void)ethp2p_enr_port_get(&L.rec, which, &p);
  return p;
}

static ethp2p_addr rec_ip(void) {
  uint8_t ip[4];
  if (L.versions == 0 || ethp2p_enr_ip_get(&L.rec, ip) != 0)
    return (ethp2p_addr){0};
  return ethp2p_addr_v4(ip[0], ip[1], ip[2], ip[3], 0);
}

static bool fwd_to_node(uint8_t proto, uint16_t ext, uint16_t internal_port) {
  ethp2p_sim_forward f;
  return ext != 0 && ethp2p_sim_nat_forward_lookup(L.box, proto, ext, &f) == 0 &&
         ethp2p_addr_equal(&f.internal, &L.node_addr, false) && f.internal.port == internal_port;
}

/* The record leads a WAN host to the node. */
static bool record_true(void) {
  ethp2p_addr ip = rec_ip(), ext = ethp2p_sim_nat_external_addr(L.box);
  return ip.family == 4 && ethp2p_addr_equal(&ip, &ext, false) &&
         fwd_to_node(ETHP2P_SIM_TCP, rec_port(ETHP2P_ENR_TCP),
                     ethp2p_server_tcp_addr(L.srv).port) &&
         fwd_to_node(ETHP2P_SIM_UDP, rec_port(ETHP2P_ENR_UDP), ethp2p_server_udp_addr(L.srv).port);
}

/* Runs until the record is true; returns the time it took (or fails after limit). */
static ethp2p_time run_until_true(ethp2p_time limit) {
  ethp2p_time t0 = ethp2p_sim_now(L.sim);
  while (!record_true()) {
    ck_assert_msg(ethp2p_sim_now(L.sim) - t0 < limit, "record not true after %.1f s",
                  (double)limit / 1e9);
    ethp2p_sim_run(L.sim, 10 * ETHP2P_MSEC);
  }
  return ethp2p_sim_now(L.sim) - t0;
}

static void probe_cb(ethp2p_tcp *conn, int status, void *data) {
  lab *l = data;
  l->probe_status = status;
  l->probe_done = true;
  ethp2p_tcp_close(conn);
}

/* A WAN host connects to the TCP endpoint in the record. */
static bool wan_connects(void) {
  ethp2p_addr to = rec_ip();
  unsigned before = L.accepted;
  to.port = rec_port(ETHP2P_ENR_TCP);
  L.probe_done = false;
  ck_assert_int_eq(
      ethp2p_tcp_connect(ethp2p_sim_host_env(L.wan), &L.probe, &to, NULL, probe_cb, &L), 0);
  for (int i = 0; i < 500 && !L.probe_done; i++)
    ethp2p_sim_run(L.sim, 10 * ETHP2P_MSEC);
  ethp2p_sim_run(L.sim, 100 * ETHP2P_MSEC);
  return L.probe_done && L.probe_status == 0 && L.accepted == before + 1;
}

static void on_stopped(ethp2p_server *srv, int status, void *data) {
  lab *l = data;
  (void)srv;
  l->stopped = true;
  l->stop_status = status;
}

/* ---------------------------------------------------------------------------- */

static const char *const MECHS[] = {"pmp", "pcp", "upnp", "any"};

/* go-ethereum's server port-mapping scenario, with every mechanism: the record
 * gets the mapped ports and the external address, and a WAN host gets in. */
START_TEST(node_publishes_reachable_record) {
  lab_opts o = {MECHS[_i], 0, false, false};
  lab_up(&o);
  ck_assert_uint_lt(run_until_true(5 * ETHP2P_SEC), ETHP2P_SEC);
  ck_assert(wan_connects());
  ck_assert_uint_eq(rec_port(ETHP2P_ENR_TCP), ETHP2P_DEFAULT_PORT);
  /* a quiet day: renewals only, no new record version */
  {
    unsigned v = L.versions;
    ethp2p_sim_run(L.sim, ETHP2P_DAY);
    ck_assert_uint_eq(L.versions, v);
    ck_assert(record_true());
    /* Every mechanism here notices a router restart on its own (NAT-PMP/PCP
     * epochs and announcements, UPnP BOOTID, uptime and GENA), so each is
     * asked for 2 h leases: both mappings are renewed about hourly, and
     * never less often than that (at most every 75 min). */
    ck_assert_uint_ge(L.ev[ETHP2P_PORTMAP_EV_MAPPING_RENEWED], 2 * (24 * 60 / 75) - 4);
    ck_assert_uint_le(L.ev[ETHP2P_PORTMAP_EV_MAPPING_RENEWED], 2 * (24 * 60 / 30) + 4);
    ck_assert_uint_eq(L.ev[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 0);
  }
  lab_down();
}
END_TEST

/* Router restart: re-mapped within 1 s on NAT-PMP/PCP announcements, within
 * one poll (2 min) with UPnP; also when the restart moves UPnP's HTTP port. */
START_TEST(router_restart_repaired) {
  lab_opts o = {MECHS[_i % 4], _i >= 4 ? ETHP2P_GW_Q_HTTP_PORT_MOVES : 0, false, false};
  bool upnp = strcmp(o.nat, "upnp") == 0;
  lab_up(&o);
  run_until_true(5 * ETHP2P_SEC);
  for (int k = 0; k < 3; k++) {
    ethp2p_time took;
    ethp2p_sim_run(L.sim, 3 * ETHP2P_HOUR + 17 * ETHP2P_MIN + (ethp2p_time)k * 7 * ETHP2P_SEC);
    ethp2p_sim_nat_reboot(L.box);
    ethp2p_sim_run(L.sim, ETHP2P_MSEC);
    took = run_until_true(10 * ETHP2P_MIN);
    if (upnp)
      ck_assert_msg(took <= 2 * ETHP2P_MIN + 5 * ETHP2P_SEC, "upnp took %.1f s",
                    (double)took / 1e9);
    else
      ck_assert_msg(took <= ETHP2P_SEC, "%s took %.3f s", o.nat, (double)took / 1e9);
  }
  ck_assert(wan_connects());
  lab_down();
}
END_TEST

/* WAN address change: the record follows at once on an announcement
 * (NAT-PMP/PCP), within one poll otherwise; one new version each time. */
START_TEST(wan_address_change_followed) {
  lab_opts o = {MECHS[_i], 0, false, false};
  bool upnp = strcmp(o.nat, "upnp") == 0;
  lab_up(&o);
  run_until_true(5 * ETHP2P_SEC);
  for (int k = 0; k < 3; k++) {
    ethp2p_addr a = ethp2p_addr_v4(20, 100, 0, (uint8_t)(k + 1), 0);
    unsigned v;
    ethp2p_time took;
    ethp2p_sim_run(L.sim, 5 * ETHP2P_HOUR + (ethp2p_time)k * 13 * ETHP2P_SEC);
    v = L.versions;
    ck_assert_int_eq(ethp2p_sim_nat_set_external_addr(L.box, &a), 0);
    took = run_until_true(10 * ETHP2P_MIN);
    ck_assert_msg(took <= (upnp ? 2 * ETHP2P_MIN + ETHP2P_SEC : ETHP2P_SEC), "%s took %.1f s",
                  o.nat, (double)took / 1e9);
    ck_assert_uint_eq(L.versions, v + 1);
  }
  ck_assert(wan_connects());
  lab_down();
}
END_TEST

/* The router never grants the port asked for: the record carries the
 * router's port, and keeps it across a week of refreshes. */
START_TEST(alternative_port_kept_without_churn) {
  lab_opts o = {_i == 0 ? "pmp" : "pcp", ETHP2P_GW_Q_PMP_ALT_PORT, false, false};
  unsigned v;
  uint16_t tcp;
  lab_up(&o);
  run_until_true(5 * ETHP2P_SEC);
  tcp = rec_port(ETHP2P_ENR_TCP);
  ck_assert_uint_ne(tcp, ETHP2P_DEFAULT_PORT);
  v = L.versions;
  ethp2p_sim_run(L.sim, 7 * ETHP2P_DAY);
  ck_assert_uint_eq(L.versions, v);
  ck_assert_uint_eq(rec_port(ETHP2P_ENR_TCP), tcp);
  ck_assert(record_true());
  ck_assert(wan_connects());
  lab_down();
}
END_TEST

/* UPnP router that only grants permanent leases (725): lease 0, no hammering. */
START_TEST(permanent_lease_router) {
  lab_opts o = {"upnp", 0, true, false};
  lab_up(&o);
  run_until_true(5 * ETHP2P_SEC);
  {
    ethp2p_portmap_mapping m[4];
    size_t n = ethp2p_portmap_mappings(ethp2p_server_portmap(L.srv), m, 4);
    ck_assert_uint_eq(n, 2);
    ck_assert(m[0].permanent && m[1].permanent);
  }
  ethp2p_sim_run(L.sim, ETHP2P_DAY);
  ck_assert(record_true());
  /* one re-add per poll at most: 2 mappings x 720 polls, plus the first tries */
  ck_assert_uint_le(L.ev[ETHP2P_PORTMAP_EV_MAPPING_RENEWED], 2 * 720 + 4);
  ck_assert_uint_eq(L.ev[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 0);
  lab_down();
}
END_TEST

/* The router is unreachable for half an hour (and forgets everything): the
 * node keeps its record, then is mapped again soon after the router is back. */
START_TEST(gateway_gone_and_back) {
  lab_opts o = {MECHS[_i], 0, false, false};
  unsigned v;
  lab_up(&o);
  run_until_true(5 * ETHP2P_SEC);
  ethp2p_sim_run(L.sim, ETHP2P_HOUR);
  v = L.versions;
  ethp2p_sim_nat_down(L.box);
  ethp2p_sim_run(L.sim, 30 * ETHP2P_MIN);
  ck_assert_uint_eq(L.versions, v); /* no churn while it is gone */
  ethp2p_sim_nat_reboot(L.box);
  ethp2p_sim_nat_up(L.box);
  run_until_true(6 * ETHP2P_MIN);
  ck_assert(wan_connects());
  lab_down();
}
END_TEST

/* Behind carrier-grade NAT the router's external address is 100.64.0.2: it is
 * reported, not advertised. */
START_TEST(cgnat_external_address_not_advertised) {
  lab_opts o = {_i == 0 ? "pmp" : "upnp", 0, false, true};
  lab_up(&o);
  ethp2p_sim_run(L.sim, 10 * ETHP2P_MIN);
  ck_assert_uint_ge(L.ev[ETHP2P_PORTMAP_EV_EXTIP_PRIVATE], 1);
  ck_assert_uint_eq(L.ev[ETHP2P_PORTMAP_EV_EXTIP_CHANGED], 0);
  {
    ethp2p_addr ip = rec_ip();
    ck_assert(!ethp2p_addr_is_cgnat(&ip));
  }
  lab_down();
}
END_TEST

/* Shutdown deletes every mapping: the router lists none afterwards. */
START_TEST(shutdown_deletes_mappings) {
  lab_opts o = {MECHS[_i], 0, false, false};
  lab_up(&o);
  run_until_true(5 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_gw_mappings(L.gw, NULL, 0), 2);
  ck_assert_int_eq(ethp2p_server_stop(L.srv, 5 * ETHP2P_SEC, on_stopped, &L), 0);
  ethp2p_sim_run(L.sim, 6 * ETHP2P_SEC);
  ck_assert(L.stopped);
  ck_assert_int_eq(L.stop_status, 0);
  ck_assert_uint_eq(ethp2p_gw_mappings(L.gw, NULL, 0), 0);
  ck_assert_uint_eq(ethp2p_sim_nat_forward_list(L.box, NULL, 0), 0);
  lab_down();
}
END_TEST

int main(void) {
  Suite *s = suite_create("integration_node");
  TCase *tc = tcase_create("node");
  SRunner *sr;
  int failed;
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, node_publishes_reachable_record, 0, 4);
  tcase_add_loop_test(tc, router_restart_repaired, 0, 8);
  tcase_add_loop_test(tc, wan_address_change_followed, 0, 4);
  tcase_add_loop_test(tc, alternative_port_kept_without_churn, 0, 2);
  tcase_add_test(tc, permanent_lease_router);
  tcase_add_loop_test(tc, gateway_gone_and_back, 0, 4);
  tcase_add_loop_test(tc, cgnat_external_address_not_advertised, 0, 2);
  tcase_add_loop_test(tc, shutdown_deletes_mappings, 0, 4);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
