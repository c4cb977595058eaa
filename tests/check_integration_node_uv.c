/*
 * tests/check_integration_node_uv.c — the node on real sockets (libuv) with the
 * gateway emulator as its NAT-PMP/PCP router, both on 127.0.0.1: the record
 * gets the router's address and port, and stopping leaves the router empty.
 * Skipped (exit 77) when the NAT-PMP port 5351 on loopback is taken.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ethp2p/enr.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/gateway.h"
#include "ethp2p/localnode.h"
#include "ethp2p/server.h"

static const char *const KEY = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

typedef struct uvlab {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_gateway *gw;
  ethp2p_server *srv;
  ethp2p_timer *tick;
  ethp2p_enr rec;
  unsigned versions;
  bool mapped, stopped, timed_out;
  int stop_status;
  size_t left_after_stop;
  ethp2p_time deadline;
} uvlab;

static bool port_in_use;

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  uvlab *l = data;
  (void)ln;
  ck_assert_int_eq(ethp2p_enr_verify(rec, NULL), 0);
  l->rec = *rec;
  l->versions++;
}

static void on_stopped(ethp2p_server *srv, int status, void *data) {
  uvlab *l = data;
  (void)srv;
  l->stopped = true;
  l->stop_status = status;
  l->left_after_stop = ethp2p_gw_mappings(l->gw, NULL, 0);
  uv_stop(&l->loop);
}

/* Watches the record until it carries the router's address and ports. */
static void tick_cb(ethp2p_timer *t, void *data) {
  uvlab *l = data;
  ethp2p_time now = ethp2p_env_now(l->env);
  uint8_t ip[4];
  uint16_t tcp = 0, udp = 0;
  if (now > l->deadline) {
    l->timed_out = true;
    uv_stop(&l->loop);
    return;
  }
  if (!l->mapped && l->versions > 0 && ethp2p_enr_ip_get(&l->rec, ip) == 0 && ip[0] == 203 &&
      ip[1] == 0 && ip[2] == 113 && ip[3] == 5 &&
      ethp2p_enr_port_get(&l->rec, ETHP2P_ENR_TCP, &tcp) == 0 &&
      ethp2p_enr_port_get(&l->rec, ETHP2P_ENR_UDP, &udp) == 0 &&
      ethp2p_gw_mappings(l->gw, NULL, 0) == 2) {
    ethp2p_gw_mapping m[2];
    ethp2p_gw_mappings(l->gw, m, 2);
    ck_assert(m[0].external_port == tcp || m[1].external_port == tcp);
    ck_assert(m[0].external_port == udp || m[1].external_port == udp);
    l->mapped = true;
    ck_assert_int_eq(ethp2p_server_stop(l->srv, 2 * ETHP2P_SEC, on_stopped, l), 0);
    return;
  }
  ethp2p_timer_start(t, now + 20 * ETHP2P_MSEC);
}

START_TEST(node_maps_through_loopback_gateway_and_cleans_up) {
  uvlab *l = calloc(1, sizeof *l);
  ethp2p_gw_config gc;
  ethp2p_server_config sc;
  char err[64];
  ethp2p_diag diag;
  int rc;

  ck_assert_ptr_nonnull(l);
  ck_assert_int_eq(uv_loop_init(&l->loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&l->loop, &l->env), 0);

  ethp2p_gw_config_default(&gc);
  gc.lan_addr = ethp2p_addr_v4(127, 0, 0, 1, 0);
  gc.external_ip = ethp2p_addr_v4(203, 0, 113, 5, 0);
  gc.policy.upnp = false; /* no SSDP multicast */
  gc.announce_count = 0;  /* no announcements to 224.0.0.1 */
  ck_assert_int_eq(ethp2p_gw_create(l->env, &gc, &l->gw), 0);
  rc = ethp2p_gw_start(l->gw);
  if (rc == ETHP2P_EADDRINUSE || rc == ETHP2P_EPERM) {
    port_in_use = true;
    goto out;
  }
  ck_assert_int_eq(rc, 0);

  ethp2p_server_config_default(&sc);
  sc.nodekey_hex = KEY;
  sc.port = 0;
  sc.discport = 0;
  ck_assert_int_eq(
      ethp2p_nat_spec_parse(&sc.nat, _i == 0 ? "pmp:127.0.0.1" : "pcp:127.0.0.1", err, sizeof err),
      0);
  memset(&diag, 0, sizeof diag);
  ck_assert_msg(ethp2p_server_start(l->env, &sc, &l->srv, &diag) == 0, "%s", diag.msg);
  ethp2p_localnode_subscribe(ethp2p_server_localnode(l->srv), on_record, l);
  ck_assert_int_eq(ethp2p_timer_create(l->env, &l->tick, tick_cb, l), 0);
  l->deadline = ethp2p_env_now(l->env) + 10 * ETHP2P_SEC;
  ethp2p_timer_start(l->tick, ethp2p_env_now(l->env));

  uv_run(&l->loop, UV_RUN_DEFAULT);

  ck_assert_msg(!l->timed_out, "record never showed the router's mapping");
  ck_assert(l->mapped);
  ck_assert(l->stopped);
  ck_assert_int_eq(l->stop_status, 0);
  ck_assert_uint_eq(l->left_after_stop, 0);
out:
  ethp2p_timer_destroy(l->tick);
  ethp2p_server_destroy(l->srv);
  ethp2p_gw_destroy(l->gw);
  ethp2p_uvenv_destroy(l->env);
  ck_assert_int_eq(uv_loop_close(&l->loop), 0);
  free(l);
}
END_TEST

int main(void) {
  Suite *s = suite_create("integration_node_uv");
  TCase *tc = tcase_create("uv");
  SRunner *sr;
  int failed;
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, node_maps_through_loopback_gateway_and_cleans_up, 0, 2);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (failed == 0 && port_in_use) {
    printf("SKIP: 127.0.0.1:5351 is in use\n");
    return 77;
  }
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
