/*
 * tests/check_nat_any.c — "any" (nat/any.c): the race, lazy discovery, queued
 * operations, the winner's name, rediscovery, and notifications, in the
 * simulated world against the scripted PCP/NAT-PMP responder from
 * tests/support/nat_fake_gateway.c.  nat/upnp.c is linked in below, so UPnP
 * runs in the race too (and loses: the simulated LAN has no UPnP device).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"
#include "support/nat_fake_gateway.h"

/* nat/upnp.c is linked through nat/spec.c and nat/any.c; the simulated LAN
 * has no UPnP device, so UPnP loses the race and PCP wins. */

/* ---- tests -------------------------------------------------------------------- */

START_TEST(discovery_is_lazy_and_the_winner_names_the_nat) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 51);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_str_eq(nat->name, "any");
  ethp2p_sim_run(g.sim, 10 * ETHP2P_SEC);
  ck_assert_uint_eq(g.n_pmp + g.n_pcp, 0); /* nothing before the first operation */
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.extip_calls, 1);
  ck_assert_int_eq(r.extip_status, 0);
  ethp2p_addr want = fake_gw_ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.extip, &want, false));
  ck_assert_str_eq(nat->name, "PCP");
  char text[32];
  ck_assert_int_eq(ethp2p_nat_format(nat, text, sizeof text), 0);
  ck_assert_str_eq(text, "any");
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(operations_made_during_discovery_run_on_the_winner) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 52);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ck_assert_int_eq(
      ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, fake_gw_on_done, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert_int_eq(r.extip_calls, 1);
  ck_assert_int_eq(r.done_calls, 1);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.n_pcp, 3);          /* the probe's ANNOUNCE, map and delete over PCP */
  ck_assert_uint_eq(g.n_announce_req, 1); /* the probe asks PCP too ... */
  ck_assert_uint_eq(g.n_pmp, 1);          /* ... and NAT-PMP, which gives the address */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(rediscover_races_again_on_the_next_operation) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 53);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_str_eq(nat->name, "PCP");
  unsigned probes = g.n_pmp;
  ethp2p_nat_rediscover(nat);
  ck_assert_str_eq(nat->name, "any");
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(g.n_pmp, probes + 1); /* a new probe */
  ck_assert_str_eq(nat->name, "PCP");
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(no_working_mechanism_fails_queued_operations_and_counts_a_failure) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 54);
  g.silent = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 200 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, ETHP2P_ETIMEDOUT);
  ck_assert(ethp2p_nat_is_conn_failure(r.map.status)); /* the caller counts it */
  ck_assert_str_eq(nat->name, "any");
  /* The gateway comes back: the next operation races again and works. */
  g.silent = false;
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ck_assert_str_eq(nat->name, "PCP");
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(winner_notifications_reach_the_any_nat) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 55);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ethp2p_addr fresh = ethp2p_addr_v4(203, 0, 113, 5, 0);
  fake_gw_announce(&g, g.sock, false, &fresh);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.announced, 1);
  ck_assert(ethp2p_addr_equal(&r.announced_ip, &fresh, false));
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(destroy_during_discovery_drops_callbacks) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 56);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 1 * ETHP2P_MSEC);
  ethp2p_nat_destroy(nat);
  ethp2p_sim_run(g.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 0);
  fake_gw_free(&g);
}
END_TEST

/* Issue 12 defect 5: a gateway that speaks PCP only (NAT-PMP answered with
 * UNSUPP_VERSION) wins the race through the PCP candidate, at once. */
START_TEST(pcp_only_gateway_wins) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 57);
  g.pcp_only = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(r.extip_calls, 1);
  ck_assert_int_eq(r.extip_status, 0);
  ck_assert_str_eq(nat->name, "PCP");
  ck_assert(nat->caps & ETHP2P_NAT_CAP_DETECTS_RESTART); /* the winner's capabilities */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ethp2p_addr want = fake_gw_ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.map.external_ip, &want, false));
  ck_assert_uint_eq(g.n_pmp_extaddr, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* Issue 12 defect 6: a winner that answers but refuses every mapping is
 * replaced: after two refusals (and no grant) the next operation races the
 * other candidates only (UPnP here, which finds no device); the race after
 * that tries every candidate again, so the gateway is used once it grants. */
START_TEST(winner_refusing_every_mapping_is_replaced) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 58);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_str_eq(nat->name, "PCP");
  g.result = ETHP2P_PCP_RESULT_NOT_AUTHORIZED; /* answers, and refuses every mapping */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_ne(r.map.status, 0);
  ck_assert(!ethp2p_nat_is_conn_failure(r.map.status));
  ck_assert_str_eq(nat->name, "PCP"); /* one refusal is not yet "every mapping" */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 2);
  ck_assert_int_ne(r.map.status, 0);
  ck_assert_str_eq(nat->name, "any"); /* replaced */
  /* The next race leaves PCP (and its NAT-PMP downgrade) out. */
  unsigned pcp = g.n_pcp, pmp = g.n_pmp;
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 3);
  ck_assert_int_ne(r.map.status, 0);
  ck_assert_uint_eq(g.n_pcp, pcp);
  ck_assert_uint_eq(g.n_pmp, pmp);
  ck_assert_str_eq(nat->name, "any");
  /* The one after it races everything again: the gateway grants now. */
  g.result = 0;
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 4);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_str_eq(nat->name, "PCP");
  ck_assert_uint_gt(g.n_pcp, pcp);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* Refusals after a grant do not replace the winner: the gateway maps for us
 * (a port that is taken is a refusal of that port, not of us). */
START_TEST(winner_that_granted_is_kept_after_refusals) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 59);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  g.result = ETHP2P_PCP_RESULT_NOT_AUTHORIZED;
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(
        ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
    ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
    ck_assert_int_ne(r.map.status, 0);
  }
  ck_assert_str_eq(nat->name, "PCP");
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_any");
  TCase *tc = tcase_create("any");
  tcase_add_test(tc, discovery_is_lazy_and_the_winner_names_the_nat);
  tcase_add_test(tc, operations_made_during_discovery_run_on_the_winner);
  tcase_add_test(tc, rediscover_races_again_on_the_next_operation);
  tcase_add_test(tc, no_working_mechanism_fails_queued_operations_and_counts_a_failure);
  tcase_add_test(tc, winner_notifications_reach_the_any_nat);
  tcase_add_test(tc, destroy_during_discovery_drops_callbacks);
  tcase_add_test(tc, pcp_only_gateway_wins);
  tcase_add_test(tc, winner_refusing_every_mapping_is_replaced);
  tcase_add_test(tc, winner_that_granted_is_kept_after_refusals);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
