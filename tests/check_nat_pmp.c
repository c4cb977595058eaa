/*
 * tests/check_nat_pmp.c — the NAT-PMP client (nat/pmp.c) and the announcement
 * listener (nat/announce.c) in the simulated world: a host behind a NAT box
 * whose inside address runs the small scripted NAT-PMP/PCP responder from
 * tests/support/nat_fake_gateway.c (the real gateway emulator is tested
 * elsewhere).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/impl.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"
#include "support/nat_fake_gateway.h"

/* ---- tests -------------------------------------------------------------------- */

START_TEST(map_succeeds_with_gateway_from_routing_table) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 1);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  /* deletes go by internal port: the loop never deletes a port a renewal replaced */
  ck_assert(nat->caps & ETHP2P_NAT_CAP_DELETES_BY_INTERNAL);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ck_assert_int_eq(r.map_calls, 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert_uint_eq(r.map.lifetime_s, 600);
  ck_assert_uint_eq(g.n_pmp, 1);
  ck_assert_uint_eq(g.last_pmp.opcode, ETHP2P_PMP_OP_MAP_TCP);
  ck_assert_uint_eq(g.last_pmp.suggested_port, 30303);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(router_granted_alternative_port_is_reported) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 2);
  g.grant_port = 40123;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 30305, 30303, "t", 0, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 40123);
  ck_assert_uint_eq(g.last_pmp.opcode, ETHP2P_PMP_OP_MAP_UDP);
  ck_assert_uint_eq(g.last_pmp.suggested_port, 30305);
  ck_assert_uint_eq(g.last_pmp.lifetime_s, 7200); /* "permanent" is sent as 7200 s */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(external_ip_and_unmap_use_the_rfc_forms) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 3);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ck_assert_int_eq(
      ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, fake_gw_on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_calls, 1);
  ck_assert_int_eq(r.extip_status, 0);
  ethp2p_addr want = fake_gw_ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.extip, &want, false));
  ck_assert_int_eq(r.done_calls, 1);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.n_pmp, 2); /* serialised: extaddr then delete */
  ck_assert_uint_eq(g.last_pmp.lifetime_s, 0);
  ck_assert_uint_eq(g.last_pmp.suggested_port, 0);
  ck_assert_uint_eq(g.last_pmp.internal_port, 30303);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(lost_requests_are_retransmitted_at_250ms_doubling) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 4);
  g.drop_first = 2;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(g.n_pmp, 3);
  /* Third transmission 250 + 500 ms after the first. */
  ck_assert_uint_eq(g.last_at - g.first_at, 750 * ETHP2P_MSEC);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(silent_gateway_times_out_after_nine_tries_and_counts_a_failure) {
  fake_gw g;
  fake_gw_rec r, r2;
  fake_gw_init(&g, 5);
  g.silent = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  memset(&r2, 0, sizeof r2);
  r2.sim = g.sim;
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r2), 0);
  ethp2p_time t0 = ethp2p_sim_now(g.sim);
  ethp2p_sim_run(g.sim, 127 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(r.at - t0, 127750 * ETHP2P_MSEC); /* 250 ms * (2^9 - 1) */
  ck_assert_int_eq(r2.map_calls, 1);                  /* the queue fails with it */
  ck_assert_int_eq(r2.map.status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(g.n_pmp, 9);
  ck_assert(ethp2p_nat_is_conn_failure(r.map.status)); /* the caller counts it */
  /* The gateway answers again. */
  g.silent = false;
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(replies_from_wrong_source_port_or_host_are_ignored) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 6);
  g.forge_first = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not the forged 1111 */
  ethp2p_addr want = fake_gw_ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.extip, &want, false));
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(router_error_code_is_reported_with_its_name) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 7);
  g.result = ETHP2P_PMP_RESULT_NOT_AUTHORIZED;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, ETHP2P_EREFUSED);
  ck_assert_int_eq(r.map.router_code, 2);
  ck_assert_str_eq(r.map.router_msg, "NOT_AUTHORIZED");
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(epoch_reset_raises_state_lost_once) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 8);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 10 * ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 10 * ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 0);     /* epoch advanced with time */
  g.epoch_base = (uint32_t)0 - 15; /* the gateway "rebooted": it now reports about 5 s */
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ck_assert_int_eq(r.extip_calls, 4);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(announcement_from_gateway_notifies_and_forgery_is_ignored) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 9);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0); /* starts the listener */
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  /* A forged announcement from another LAN host. */
  ethp2p_addr forged = ethp2p_addr_v4(6, 6, 6, 6, 0);
  fake_gw_announce(&g, g.evil_sock, false, &forged);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.announced, 0);
  ck_assert_int_eq(r.lost, 0);
  /* The same address announced again is not news. */
  ethp2p_addr same = fake_gw_ext_ip(&g);
  fake_gw_announce(&g, g.sock, false, &same);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.announced, 0);
  /* The gateway announces a new address. */
  ethp2p_addr fresh = ethp2p_addr_v4(203, 0, 113, 77, 0);
  fake_gw_announce(&g, g.sock, false, &fresh);
  fake_gw_announce(&g, g.sock, false, &fresh); /* repeats of a series fold */
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.announced, 1);
  ck_assert(ethp2p_addr_equal(&r.announced_ip, &fresh, false));
  ck_assert_int_eq(r.lost, 0);
  /* A restart announcement (small epoch) is a state loss. */
  g.epoch_base = (uint32_t)0 - 2;
  fake_gw_announce(&g, g.sock, true, NULL);
  ethp2p_sim_run(g.sim, 10 * ETHP2P_MSEC); /* a NAT-PMP client takes it at once (RFC 6886) */
  ck_assert_int_eq(r.lost, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(explicit_gateway_in_spec_is_used) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 10);
  ethp2p_sim_host_set_gateway(g.host, NULL); /* no route: the spec must win */
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp:192.168.1.1", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(no_default_route_falls_back_to_x_y_z_1) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 11);
  ethp2p_sim_host_set_gateway(g.host, NULL);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0); /* 192.168.1.1 guessed */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

static void destroy_in_cb(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  int *calls = data;
  (*calls)++;
  ethp2p_nat_destroy(nat);
}

START_TEST(destroy_inside_a_callback_drops_the_rest) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 12);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  int calls = 0;
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 1, "t", 60, destroy_in_cb, &calls), 0);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 2, "t", 60, destroy_in_cb, &calls), 0);
  ethp2p_sim_run(g.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(calls, 1);
  fake_gw_free(&g);
}
END_TEST

START_TEST(reply_for_another_opcode_is_ignored) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 13);
  g.forge_wrong_opcode = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not the UDP answer's 1111 */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(rediscover_reads_the_routing_table_again) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 14);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ck_assert_uint_eq(g.n_pmp, 1);
  /* The default route now points at another host, which does not answer. */
  ethp2p_addr other = ethp2p_sim_host_addr(g.evil);
  ethp2p_sim_host_set_gateway(g.host, &other);
  ethp2p_nat_rediscover(nat);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 200 * ETHP2P_SEC);
  ck_assert_int_eq(r.extip_calls, 2);
  ck_assert_int_eq(r.extip_status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(g.n_pmp, 1); /* nothing more reached the old gateway */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* Runs one map over a LAN losing 40 % of datagrams; returns the completion time. */
static ethp2p_time lossy_map(uint64_t seed, int *status, unsigned *sent) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, seed);
  ethp2p_sim_link link = {.latency = ETHP2P_MSEC, .jitter = 2 * ETHP2P_MSEC, .loss = 0.4};
  ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_nat_lan(g.box), &link), 0);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_time t0 = ethp2p_sim_now(g.sim);
  ethp2p_sim_run(g.sim, 200 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  *status = r.map.status;
  *sent = g.n_pmp;
  ethp2p_time took = r.at - t0;
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
  return took;
}

START_TEST(map_survives_a_lossy_lan_deterministically) {
  unsigned successes = 0, total_sent = 0;
  for (uint64_t seed = 100; seed < 120; seed++) {
    int st1, st2;
    unsigned n1, n2;
    ethp2p_time a = lossy_map(seed, &st1, &n1);
    ethp2p_time b = lossy_map(seed, &st2, &n2);
    ck_assert_msg(a == b && st1 == st2 && n1 == n2, "seed %llu is not reproducible",
                  (unsigned long long)seed);
    if (st1 == 0)
      successes++;
    total_sent += n1;
  }
  ck_assert_uint_gt(total_sent, 25); /* the loss did force retransmissions */
  /* Each try fails with probability 1 - 0.6^2 = 0.64; 9 tries: 0.64^9 < 2 %. */
  ck_assert_uint_ge(successes, 18);
}
END_TEST

/* RFC 6886 §3.3: renew halfway; a PCP-only server's answer to NAT-PMP (a PCP
 * UNSUPP_VERSION, RFC 6887 §9) fails the request at once, not after 128 s. */
START_TEST(grant_says_renew_at_half_and_pcp_only_answer_fails_fast) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 70);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.renew_after_ms, 300000);
  g.pcp_only = true;
  ethp2p_time t0 = ethp2p_sim_now(g.sim);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.extip_calls, 1);
  ck_assert_int_eq(r.extip_status, ETHP2P_EUNSUPP);
  ck_assert_uint_lt(r.at - t0, ETHP2P_SEC);
  ck_assert(!ethp2p_nat_is_conn_failure(r.extip_status));
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* The fake is keyed like a real NAT-PMP router (RFC 6886 §3.4): a delete names
 * the internal port, and removes the client's mapping whatever external port
 * it names. */
START_TEST(delete_goes_by_internal_port) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 71);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  g.grant_port = 40000; /* the renewal moves the mapping */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(r.map.external_port, 40000);
  ck_assert_uint_eq(fake_gw_count(&g), 1);
  ck_assert_ptr_nonnull(fake_gw_find(&g, 6, 40000));
  /* deleting "the old port" deletes the new mapping: why the loop must not */
  ck_assert_int_eq(
      ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, fake_gw_on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(fake_gw_count(&g), 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_pmp");
  TCase *tc = tcase_create("pmp");
  tcase_add_test(tc, map_succeeds_with_gateway_from_routing_table);
  tcase_add_test(tc, router_granted_alternative_port_is_reported);
  tcase_add_test(tc, external_ip_and_unmap_use_the_rfc_forms);
  tcase_add_test(tc, lost_requests_are_retransmitted_at_250ms_doubling);
  tcase_add_test(tc, silent_gateway_times_out_after_nine_tries_and_counts_a_failure);
  tcase_add_test(tc, replies_from_wrong_source_port_or_host_are_ignored);
  tcase_add_test(tc, router_error_code_is_reported_with_its_name);
  tcase_add_test(tc, epoch_reset_raises_state_lost_once);
  tcase_add_test(tc, announcement_from_gateway_notifies_and_forgery_is_ignored);
  tcase_add_test(tc, explicit_gateway_in_spec_is_used);
  tcase_add_test(tc, no_default_route_falls_back_to_x_y_z_1);
  tcase_add_test(tc, destroy_inside_a_callback_drops_the_rest);
  tcase_add_test(tc, reply_for_another_opcode_is_ignored);
  tcase_add_test(tc, rediscover_reads_the_routing_table_again);
  tcase_add_test(tc, map_survives_a_lossy_lan_deterministically);
  tcase_add_test(tc, grant_says_renew_at_half_and_pcp_only_answer_fails_fast);
  tcase_add_test(tc, delete_goes_by_internal_port);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
