/*
 * tests/check_nat_pcp.c — the PCP client (nat/pcp.c) with its NAT-PMP
 * downgrade, in the simulated world against the scripted responder on the NAT
 * box's inside address from tests/support/nat_fake_gateway.c.
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

START_TEST(map_sends_rfc6887_request_and_reports_grant) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 21);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  /* deletes go by internal port: the loop never deletes a port a renewal replaced */
  ck_assert(nat->caps & ETHP2P_NAT_CAP_DELETES_BY_INTERNAL);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert_uint_eq(r.map.lifetime_s, 600);
  ck_assert_uint_eq(g.n_pcp, 1);
  ck_assert_uint_eq(g.n_pmp, 0);
  ck_assert_uint_eq(g.last_pcp.version, 2);
  ck_assert_uint_eq(g.last_pcp.opcode, ETHP2P_PCP_OP_MAP);
  ck_assert_uint_eq(g.last_pcp.map.protocol, 6);
  ck_assert_uint_eq(g.last_pcp.map.internal_port, 30303);
  ck_assert_uint_eq(g.last_pcp.map.external_port, 30303);
  ck_assert_uint_eq(g.last_pcp.lifetime_s, 600);
  /* Client IP = our LAN address, sent IPv4-mapped. */
  ethp2p_addr me = ethp2p_sim_host_addr(g.host);
  ck_assert(ethp2p_addr_equal(&g.last_pcp.client_ip, &me, false));
  ck_assert_uint_eq(g.last_pcp.map.external_ip.family, 4); /* ::ffff:0.0.0.0 */
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&g.last_pcp.map.external_ip), 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(nonce_is_kept_for_renewal_and_delete_and_differs_per_mapping) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 22);
  g.grant_port = 41000;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(r.map.external_port, 41000);
  /* Renewal with the granted port as hint, and the assigned address suggested. */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 41000, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(g.last_pcp.map.external_port, 41000);
  ethp2p_addr ext = fake_gw_ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&g.last_pcp.map.external_ip, &ext, false));
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ck_assert_int_eq(
      ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_UDP, 41000, 30303, fake_gw_on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.done_calls, 1);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.last_pcp.lifetime_s, 0);
  ck_assert_uint_eq(g.n_nonces, 4);
  ck_assert_mem_eq(g.nonces[0], g.nonces[1], 12);       /* renewal */
  ck_assert_mem_eq(g.nonces[0], g.nonces[3], 12);       /* delete */
  ck_assert(memcmp(g.nonces[0], g.nonces[2], 12) != 0); /* TCP mapping has its own */
  /* After the delete the UDP mapping is forgotten: a new one gets a new nonce. */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(g.n_nonces, 5);
  ck_assert(memcmp(g.nonces[0], g.nonces[4], 12) != 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(response_with_wrong_nonce_is_ignored) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 23);
  g.forge_wrong_nonce = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not the forged 2222 */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(responses_from_wrong_sources_are_ignored) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 24);
  g.forge_first = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not the forged 1111 */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(retransmits_at_three_seconds_with_jitter) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 25);
  g.drop_first = 1;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 10 * ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(g.n_pcp, 2);
  ethp2p_time gap = g.last_at - g.first_at;
  ck_assert_uint_ge(gap, 2700 * ETHP2P_MSEC);
  ck_assert_uint_le(gap, 3300 * ETHP2P_MSEC);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(dead_gateway_fails_within_the_bound_and_counts_a_failure) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 26);
  g.silent = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_time t0 = ethp2p_sim_now(g.sim);
  ethp2p_sim_run(g.sim, 60 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_le(r.at - t0, 31 * ETHP2P_SEC);
  ck_assert_uint_ge(r.at - t0, 30 * ETHP2P_SEC);
  ck_assert_uint_eq(g.n_pcp, 4);                       /* ~0, 3, 9, 21 s */
  ck_assert(ethp2p_nat_is_conn_failure(r.map.status)); /* the caller counts it */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(result_code_and_error_lifetime_are_reported) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 27);
  g.result = ETHP2P_PCP_RESULT_NO_RESOURCES;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, ETHP2P_EREFUSED);
  ck_assert_int_eq(r.map.router_code, 8);
  ck_assert_str_eq(r.map.router_msg, "NO_RESOURCES");
  ck_assert_uint_eq(r.map.lifetime_s, 30); /* how long the error holds */
  ck_assert_uint_eq(r.map.external_port, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(nat_pmp_only_gateway_downgrades_per_request_and_pcp_is_tried_again) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 28);
  g.pmp_only = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert_uint_eq(g.n_pcp, 1);
  ck_assert_uint_eq(g.n_pmp, 1);
  ck_assert_uint_eq(g.last_pmp.opcode, ETHP2P_PMP_OP_MAP_TCP);
  /* The next request tries PCP first again. */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 2);
  ck_assert_uint_eq(g.n_pcp, 2);
  ck_assert_uint_eq(g.n_pmp, 2);
  /* A mapping made over NAT-PMP is deleted over NAT-PMP directly. */
  ck_assert_int_eq(
      ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, fake_gw_on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.n_pcp, 2);
  ck_assert_uint_eq(g.n_pmp, 3);
  ck_assert_uint_eq(g.last_pmp.lifetime_s, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(external_ip_is_learned_and_epoch_reset_is_reported) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 29);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ethp2p_addr want = fake_gw_ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.extip, &want, false));
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 0);
  g.epoch_base = (uint32_t)0 - 25; /* reboot: epoch ~6 s */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ck_assert_int_eq(r.map_calls, 2);
  /* The PCP ANNOUNCE of the same restart does not report it twice. */
  fake_gw_announce(&g, g.sock, true, NULL);
  ethp2p_sim_run(g.sim, ETHP2P_NAT_ANNOUNCE_MAX_DELAY + ETHP2P_SEC); /* RFC 6887 §14.1.3 delay */
  ck_assert_int_eq(r.lost, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(forged_pcp_announce_is_ignored) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 30);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 20 * ETHP2P_SEC);
  g.epoch_base = 0; /* would look like a restart */
  fake_gw_announce(&g, g.evil_sock, true, NULL);
  fake_gw_announce(&g, g.alt_sock, true, NULL);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 0);
  fake_gw_announce(&g, g.sock, true, NULL);
  ethp2p_sim_run(g.sim, ETHP2P_NAT_ANNOUNCE_MAX_DELAY + ETHP2P_SEC); /* RFC 6887 §14.1.3 delay */
  ck_assert_int_eq(r.lost, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(delete_of_a_mapping_made_elsewhere_falls_back_to_nat_pmp) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 31);
  g.refuse_pcp_delete = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  /* No mapping made by this client: its nonce is unknown, PCP refuses. */
  ck_assert_int_eq(
      ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, fake_gw_on_done, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.done_calls, 1);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.n_pcp, 1);
  ck_assert_uint_eq(g.n_pmp, 1);
  ck_assert_uint_eq(g.last_pmp.lifetime_s, 0);
  /* A mapping this client made keeps PCP's answer. */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ck_assert_int_eq(
      ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_UDP, 30303, 30303, fake_gw_on_done, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.done_calls, 2);
  ck_assert_int_eq(r.done_status, ETHP2P_EREFUSED);
  ck_assert_uint_eq(g.n_pmp, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* The derivation nat.h documents, pinned to a vector computed outside ethp2p
 * (openssl dgst -sha256 -mac HMAC over the same bytes): a node upgraded to
 * another HMAC implementation still derives the nonces its mappings were made
 * with, so it can renew and delete them (RFC 6887 §11.3). */
START_TEST(nonce_key_derivation_matches_pinned_vector) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 33);
  uint8_t key[32];
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)i;
  /* HMAC input: protocol 6, internal port 30303, client IP as 16 wire bytes. */
  ethp2p_addr me = ethp2p_sim_host_addr(g.host);
  uint8_t ipw[16];
  ethp2p_pcp_addr_to_wire(ipw, &me);
  static const uint8_t want_ip[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2};
  ck_assert_mem_eq(ipw, want_ip, 16); /* the vector below is for this address */
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(nat, key), 0);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(g.n_nonces, 1);
  /* printf 06765f00000000000000000000ffffc0a80102 | xxd -r -p |
   *   openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f  -> first 12 bytes */
  static const uint8_t want[12] = {0x8e, 0xb9, 0xee, 0x6d, 0x64, 0xdd,
                                   0x9b, 0x8a, 0xed, 0xfd, 0xdb, 0x8c};
  ck_assert_mem_eq(g.nonces[0], want, 12);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(nonce_key_makes_nonces_stable_across_instances) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 32);
  uint8_t key[32], other[32];
  memset(key, 7, sizeof key);
  memset(other, 8, sizeof other);
  ethp2p_nat *a = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(a, key), 0);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(a, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ethp2p_nat_destroy(a);
  /* "Another run" with the same key deletes with the same nonce. */
  ethp2p_nat *b = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(b, key), 0);
  ck_assert_int_eq(
      ethp2p_nat_delete_mapping(b, ETHP2P_PROTO_TCP, 30303, 30303, fake_gw_on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.done_status, 0);
  ethp2p_nat_destroy(b);
  /* Another key, or another port, gives another nonce. */
  ethp2p_nat *c = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(c, other), 0);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(c, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(c, ETHP2P_PROTO_TCP, 0, 30304, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ethp2p_nat_destroy(c);
  ck_assert_uint_eq(g.n_nonces, 4);
  ck_assert_mem_eq(g.nonces[0], g.nonces[1], 12);
  ck_assert(memcmp(g.nonces[0], g.nonces[2], 12) != 0);
  ck_assert(memcmp(g.nonces[2], g.nonces[3], 12) != 0);
  /* Only pcp and any take a key. */
  ethp2p_nat *p = fake_gw_make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(p, key), ETHP2P_EUNSUPP);
  ethp2p_nat_destroy(p);
  ethp2p_nat *any = fake_gw_make_nat(&g, "any", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(any, key), 0);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(any, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_uint_eq(g.n_nonces, 5);
  ck_assert_mem_eq(g.nonces[0], g.nonces[4], 12);
  ethp2p_nat_destroy(any);
  fake_gw_free(&g);
}
END_TEST

/* RFC 6887 §11.2.1: the result says when to renew, inside [1/2, 5/8] of the
 * granted lifetime, drawn anew for each grant. */
START_TEST(grant_says_to_renew_inside_the_rfc_window) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 40);
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  uint32_t seen[6];
  for (int i = 0; i < 6; i++) {
    ck_assert_int_eq(
        ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
    ethp2p_sim_run(g.sim, ETHP2P_SEC);
    ck_assert_int_eq(r.map.status, 0);
    ck_assert_uint_ge(r.map.renew_after_ms, 300000);
    ck_assert_uint_le(r.map.renew_after_ms, 375000);
    seen[i] = r.map.renew_after_ms;
  }
  bool differ = false;
  for (int i = 1; i < 6; i++)
    differ |= seen[i] != seen[0];
  ck_assert(differ); /* random, not a constant */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* Issue 12 defect 5: a PCP-only server answers NAT-PMP with UNSUPP_VERSION.
 * external_ip must not wait out NAT-PMP's 128 s nor keep polling opcode 0: it
 * asks with PCP ANNOUNCE and reports the address the latest MAP assigned
 * (0.0.0.0 before any). */
START_TEST(pcp_only_server_gets_no_nat_pmp_polls_and_reports_the_map_address) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_init(&g, 41);
  g.pcp_only = true;
  ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_calls, 1);
  ck_assert_int_eq(r.extip_status, 0);
  ck_assert(ethp2p_addr_is_unspecified(&r.extip)); /* no MAP yet */
  ck_assert_uint_eq(g.n_pmp_extaddr, 1);
  ck_assert_uint_eq(g.n_announce_req, 1);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ethp2p_addr want = fake_gw_ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.map.external_ip, &want, false));
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(ethp2p_nat_external_ip(nat, fake_gw_on_extip, &r), 0);
    ethp2p_sim_run(g.sim, ETHP2P_SEC);
    ck_assert_int_eq(r.extip_status, 0);
    ck_assert(ethp2p_addr_equal(&r.extip, &want, false));
  }
  ck_assert_uint_eq(g.n_pmp_extaddr, 1); /* never asked with NAT-PMP again */
  ck_assert_uint_eq(g.n_announce_req, 4);
  ck_assert_uint_eq(fake_gw_count(&g), 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* Issue 12 defect 3: the client address is read at every request (a DHCP
 * renumbering); a server that sees another source answers ADDRESS_MISMATCH,
 * which is ETHP2P_EADDRCHANGED for the caller. */
START_TEST(client_address_read_at_every_request_and_mismatch_reported) {
  fake_gw g;
  fake_gw_rec r;
  fake_gw_env w;
  fake_gw_init(&g, 42);
  ethp2p_addr me = ethp2p_sim_host_addr(g.host);
  fake_gw_env_wrap(&w, ethp2p_sim_host_env(g.host), &me, 24);
  ethp2p_nat *nat = fake_gw_make_nat_on(&g, &w.env, "pcp", &r);
  uint8_t key[32];
  memset(key, 9, sizeof key);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(nat, key), 0); /* nonces follow the address */
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert(ethp2p_addr_equal(&g.last_pcp.client_ip, &me, false));
  /* "DHCP" gives the interface another address */
  ethp2p_addr moved = me;
  moved.ip[3] = (uint8_t)(me.ip[3] + 50);
  w.iface.addr = moved;
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert(ethp2p_addr_equal(&g.last_pcp.client_ip, &moved, false));
  ck_assert_int_eq(r.map.status, ETHP2P_EADDRCHANGED);
  ck_assert_int_eq(r.map.router_code, ETHP2P_PCP_RESULT_ADDRESS_MISMATCH);
  /* a new mapping (new client address): a new nonce */
  ck_assert_uint_eq(g.n_nonces, 2);
  ck_assert(memcmp(g.nonces[0], g.nonces[1], 12) != 0);
  /* back to the real address: the same (derived) nonce, so the mapping is ours again */
  w.iface.addr = me;
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* RFC 6887 §14.1.3: after an ANNOUNCE that shows a restart the client waits a
 * random 0-5 s before renewing; recovery stays within those 5 s. */
START_TEST(announce_restart_reported_after_a_random_delay_of_at_most_5s) {
  unsigned delayed = 0;
  for (uint64_t seed = 60; seed < 68; seed++) {
    fake_gw g;
    fake_gw_rec r;
    fake_gw_init(&g, seed);
    ethp2p_nat *nat = fake_gw_make_nat(&g, "pcp", &r);
    ck_assert_int_eq(
        ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, fake_gw_on_map, &r), 0);
    ethp2p_sim_run(g.sim, 20 * ETHP2P_SEC);
    g.epoch_base = (uint32_t)0 - 20; /* rebooted: epoch ~1 s */
    fake_gw_announce(&g, g.sock, true, NULL);
    fake_gw_announce(&g, g.sock, true, NULL); /* repeats fold */
    ethp2p_sim_run(g.sim, 100 * ETHP2P_MSEC);
    if (r.lost == 0)
      delayed++;
    ethp2p_sim_run(g.sim, ETHP2P_NAT_ANNOUNCE_MAX_DELAY);
    ck_assert_int_eq(r.lost, 1);
    ethp2p_nat_destroy(nat);
    fake_gw_free(&g);
  }
  ck_assert_uint_ge(delayed, 4); /* most draws wait (P(<100 ms) = 2 %) */
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_pcp");
  TCase *tc = tcase_create("pcp");
  tcase_add_test(tc, map_sends_rfc6887_request_and_reports_grant);
  tcase_add_test(tc, nonce_is_kept_for_renewal_and_delete_and_differs_per_mapping);
  tcase_add_test(tc, response_with_wrong_nonce_is_ignored);
  tcase_add_test(tc, responses_from_wrong_sources_are_ignored);
  tcase_add_test(tc, retransmits_at_three_seconds_with_jitter);
  tcase_add_test(tc, dead_gateway_fails_within_the_bound_and_counts_a_failure);
  tcase_add_test(tc, result_code_and_error_lifetime_are_reported);
  tcase_add_test(tc, nat_pmp_only_gateway_downgrades_per_request_and_pcp_is_tried_again);
  tcase_add_test(tc, external_ip_is_learned_and_epoch_reset_is_reported);
  tcase_add_test(tc, forged_pcp_announce_is_ignored);
  tcase_add_test(tc, delete_of_a_mapping_made_elsewhere_falls_back_to_nat_pmp);
  tcase_add_test(tc, nonce_key_makes_nonces_stable_across_instances);
  tcase_add_test(tc, nonce_key_derivation_matches_pinned_vector);
  tcase_add_test(tc, grant_says_to_renew_inside_the_rfc_window);
  tcase_add_test(tc, pcp_only_server_gets_no_nat_pmp_polls_and_reports_the_map_address);
  tcase_add_test(tc, client_address_read_at_every_request_and_mismatch_reported);
  tcase_add_test(tc, announce_restart_reported_after_a_random_delay_of_at_most_5s);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
