/*
 * tests/check_integration_server_pcp.c — the server derives its PCP nonces from the
 * node key: a node that crashed (no deletes) and starts again with the same key
 * renews the mappings it made before (RFC 6887 section 11.3) instead of piling
 * up new ones next to them on the router.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/gateway.h"
#include "ethp2p/server.h"
#include "ethp2p/sim.h"

static const char *const KEY = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

static ethp2p_server *start_node(ethp2p_sim_host *h) {
  ethp2p_server_config sc;
  ethp2p_server *srv;
  ethp2p_diag diag = {0};
  char err[96];
  ethp2p_server_config_default(&sc);
  sc.nodekey_hex = KEY;
  sc.nodiscover = true;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&sc.nat, "pcp", err, sizeof err), 0);
  ck_assert_msg(ethp2p_server_start(ethp2p_sim_host_env(h), &sc, &srv, &diag) == 0, "server: %s",
                diag.msg);
  return srv;
}

START_TEST(a_restarted_node_renews_its_pcp_mappings) {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *node;
  ethp2p_gateway *gw;
  ethp2p_gw_config gc;
  ethp2p_gw_mapping before[8], after[8];
  ethp2p_server *srv;
  size_t n;

  ethp2p_sim_nat_config nc = ethp2p_sim_nat_config_default();
  ck_assert_int_eq(ethp2p_sim_create(&sim, 21), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &box, "router", &nc), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &node, "node", NULL), 0);
  ethp2p_gw_config_default(&gc);
  gc.lan_addr = ethp2p_sim_nat_inside_addr(box);
  gc.external_ip = ethp2p_sim_nat_external_addr(box);
  gc.policy.upnp = gc.policy.pmp = false;
  gc.policy.pcp = true;
  ck_assert_int_eq(ethp2p_gw_create(ethp2p_sim_host_env(ethp2p_sim_nat_host(box)), &gc, &gw), 0);
  ck_assert_int_eq(ethp2p_gw_start(gw), 0);

  srv = start_node(node);
  ethp2p_sim_run(sim, ETHP2P_MIN);
  n = ethp2p_gw_mappings(gw, before, 8);
  ck_assert_uint_eq(n, 2); /* TCP and UDP */
  ck_assert(before[0].has_nonce && before[1].has_nonce);
  ethp2p_server_destroy(srv); /* a crash: nothing deleted */
  ck_assert_uint_eq(ethp2p_gw_mappings(gw, after, 8), 2);

  srv = start_node(node);
  ethp2p_sim_run(sim, ETHP2P_MIN);
  n = ethp2p_gw_mappings(gw, after, 8);
  ck_assert_msg(n == 2, "%zu mappings after the restart", n);
  for (size_t i = 0; i < 2; i++) {
    bool found = false;
    for (size_t j = 0; j < 2; j++)
      if (after[j].proto == before[i].proto) {
        found = true;
        ck_assert_uint_eq(after[j].external_port, before[i].external_port);
        ck_assert_mem_eq(after[j].nonce, before[i].nonce, 12);
        /* renewed by the new process (a refused request leaves the old expiry) */
        ck_assert_msg(after[j].expires > before[i].expires, "mapping %zu not renewed", i);
      }
    ck_assert(found);
  }
  ethp2p_server_destroy(srv);
  ethp2p_gw_destroy(gw);
  ethp2p_sim_destroy(sim);
}
END_TEST

int main(void) {
  Suite *s = suite_create("integration_server_pcp");
  TCase *tc = tcase_create("server_pcp");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, a_restarted_node_renews_its_pcp_mappings);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
