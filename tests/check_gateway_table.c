/* tests/check_gateway_table.c — the gateway's mapping table, policy, quirk names,
 * and the grant logic shared by UPnP, NAT-PMP and PCP. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_gateway_fixture.h"
#include "nat/gateway/gw_internal.h"

/* ---- policy --------------------------------------------------------------------------- */

START_TEST(allow_list_parses_ports_and_ranges) {
  ethp2p_gw_policy p;
  ethp2p_gw_policy_default(&p);
  ck_assert_int_eq(ethp2p_gw_policy_parse_allow(&p, "1024-65535,80,443"), 0);
  ck_assert_uint_eq(p.n_allow, 3);
  ck_assert_uint_eq(p.allow[0].lo, 1024);
  ck_assert_uint_eq(p.allow[0].hi, 65535);
  ck_assert_uint_eq(p.allow[1].lo, 80);
  ck_assert_uint_eq(p.allow[1].hi, 80);
  ck_assert(ethp2p_gw_policy_port_allowed(&p, 80));
  ck_assert(ethp2p_gw_policy_port_allowed(&p, 1024));
  ck_assert(!ethp2p_gw_policy_port_allowed(&p, 81));
  ck_assert(!ethp2p_gw_policy_port_allowed(&p, 0));
}
END_TEST

START_TEST(allow_list_rejects_bad_text_and_keeps_the_old_list) {
  ethp2p_gw_policy p;
  const char *bad[] = {"",    "0",   "65536", "a",  "5-3",        "80,",
                       ",80", "80-", "1 2",   "-5", "99999999999"};
  ethp2p_gw_policy_default(&p);
  ck_assert_int_eq(ethp2p_gw_policy_parse_allow(&p, "100-200"), 0);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(ethp2p_gw_policy_parse_allow(&p, bad[i]), ETHP2P_ESYNTAX);
    ck_assert_uint_eq(p.n_allow, 1);
    ck_assert_uint_eq(p.allow[0].lo, 100);
  }
  ck_assert_int_eq(ethp2p_gw_policy_parse_allow(&p, "1,2,3,4,5,6,7,8,9"), ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_gw_policy_parse_allow(&p, "1,2,3,4,5,6,7,8"), 0);
  ck_assert_uint_eq(p.n_allow, 8);
}
END_TEST

START_TEST(default_policy_allows_everything_and_checks_out) {
  ethp2p_gw_policy p;
  ethp2p_gw_policy_default(&p);
  ck_assert(ethp2p_gw_policy_port_allowed(&p, 1));
  ck_assert(ethp2p_gw_policy_port_allowed(&p, 65535));
  ck_assert(p.internal_must_be_requester);
  ck_assert_uint_eq(p.igd_version, 2);
  ck_assert_int_eq(gw_policy_check(&p), 0);
  p.igd_version = 3;
  ck_assert_int_eq(gw_policy_check(&p), ETHP2P_EINVAL);
  p.igd_version = 1;
  p.max_mappings = 0;
  ck_assert_int_eq(gw_policy_check(&p), ETHP2P_EINVAL);
}
END_TEST

START_TEST(lease_cap_applies_to_long_and_permanent_leases) {
  ethp2p_gw_policy p;
  ethp2p_gw_policy_default(&p);
  ck_assert_uint_eq(gw_policy_cap_lease(&p, 0), 0);
  ck_assert_uint_eq(gw_policy_cap_lease(&p, 999999), 999999);
  p.lease_cap_s = 3600;
  ck_assert_uint_eq(gw_policy_cap_lease(&p, 0), 3600);
  ck_assert_uint_eq(gw_policy_cap_lease(&p, 7200), 3600);
  ck_assert_uint_eq(gw_policy_cap_lease(&p, 60), 60);
}
END_TEST

static uint32_t seq_rand(void *ctx) {
  uint32_t *s = ctx;
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static ethp2p_gw_mapping mk(ethp2p_proto proto, uint16_t ext, uint8_t host, uint16_t in) {
  ethp2p_gw_mapping m;
  memset(&m, 0, sizeof m);
  m.proto = proto;
  m.external_port = ext;
  m.internal = ethp2p_addr_v4(192, 168, 1, host, in);
  m.origin = ETHP2P_GW_UPNP;
  return m;
}

START_TEST(pick_port_prefers_hint_then_walks_up_and_wraps) {
  ethp2p_gw_policy p;
  gw_table t;
  ethp2p_gw_mapping m;
  uint32_t seed = 1;
  ethp2p_gw_policy_default(&p);
  ck_assert_int_eq(ethp2p_gw_policy_parse_allow(&p, "100-102,200"), 0);
  ck_assert_int_eq(gw_table_init(&t, 8), 0);
  ck_assert_uint_eq(gw_policy_pick_port(&p, &t, ETHP2P_PROTO_TCP, 101, false, false, NULL, NULL),
                    101);
  m = mk(ETHP2P_PROTO_TCP, 101, 2, 101);
  gw_table_add(&t, &m);
  ck_assert_uint_eq(gw_policy_pick_port(&p, &t, ETHP2P_PROTO_TCP, 101, false, false, NULL, NULL),
                    102);
  /* The other protocol is independent. */
  ck_assert_uint_eq(gw_policy_pick_port(&p, &t, ETHP2P_PROTO_UDP, 101, false, false, NULL, NULL),
                    101);
  m = mk(ETHP2P_PROTO_TCP, 102, 2, 102);
  gw_table_add(&t, &m);
  m = mk(ETHP2P_PROTO_TCP, 200, 2, 200);
  gw_table_add(&t, &m);
  ck_assert_uint_eq(gw_policy_pick_port(&p, &t, ETHP2P_PROTO_TCP, 101, false, false, NULL, NULL),
                    100);
  /* A hint outside the ranges still finds an allowed port. */
  ck_assert_uint_eq(gw_policy_pick_port(&p, &t, ETHP2P_PROTO_TCP, 5000, false, false, NULL, NULL),
                    100);
  ck_assert_uint_eq(gw_policy_pick_port(&p, &t, ETHP2P_PROTO_UDP, 100, true, false, NULL, NULL),
                    101);
  uint16_t r = gw_policy_pick_port(&p, &t, ETHP2P_PROTO_UDP, 100, false, true, seq_rand, &seed);
  ck_assert(ethp2p_gw_policy_port_allowed(&p, r));
  m = mk(ETHP2P_PROTO_TCP, 100, 2, 100);
  gw_table_add(&t, &m);
  ck_assert_uint_eq(gw_policy_pick_port(&p, &t, ETHP2P_PROTO_TCP, 100, false, false, NULL, NULL),
                    0);
  gw_table_free(&t);
}
END_TEST

START_TEST(quirk_names_round_trip) {
  unsigned bit, all = 0;
  char buf[256];
  const char *names[] = {"no-natrsip",  "unnamespaced-soap", "chunked",         "pmp-alt-port",
                         "random-port", "no-concurrent",     "http-port-moves", "slow",
                         "drop"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    ck_assert_int_eq(ethp2p_gw_quirk_parse(names[i], &bit), 0);
    ck_assert_str_eq(ethp2p_gw_quirk_name(bit), names[i]);
    ck_assert_uint_eq(all & bit, 0);
    all |= bit;
  }
  ck_assert_int_eq(ethp2p_gw_quirk_parse("fast", &bit), ETHP2P_ENOTFOUND);
  ck_assert_ptr_null(ethp2p_gw_quirk_name(1u << 30));
  ethp2p_gw_quirks_format(ETHP2P_GW_Q_CHUNKED | ETHP2P_GW_Q_DROP, buf, sizeof buf);
  ck_assert_str_eq(buf, "chunked,drop");
  ethp2p_gw_quirks_format(0, buf, sizeof buf);
  ck_assert_str_eq(buf, "");
}
END_TEST

/* ---- table ---------------------------------------------------------------------------- */

START_TEST(table_finds_counts_removes_in_order) {
  gw_table t;
  ethp2p_gw_mapping m;
  ethp2p_addr c2 = ethp2p_addr_v4(192, 168, 1, 2, 0);
  ck_assert_int_eq(gw_table_init(&t, 3), 0);
  m = mk(ETHP2P_PROTO_TCP, 10, 2, 1000);
  m.expires = 500;
  ck_assert_int_eq(gw_table_add(&t, &m), 0);
  m = mk(ETHP2P_PROTO_UDP, 10, 2, 1001);
  m.expires = 300;
  ck_assert_int_eq(gw_table_add(&t, &m), 0);
  m = mk(ETHP2P_PROTO_TCP, 11, 3, 1000);
  ck_assert_int_eq(gw_table_add(&t, &m), 0);
  ck_assert_int_eq(gw_table_add(&t, &m), ETHP2P_ESPACE);
  ck_assert_int_eq(gw_table_find_ext(&t, ETHP2P_PROTO_UDP, 10), 1);
  ck_assert_int_eq(gw_table_find_ext(&t, ETHP2P_PROTO_UDP, 11), -1);
  ethp2p_addr in = ethp2p_addr_v4(192, 168, 1, 3, 1000);
  ck_assert_int_eq(gw_table_find_int(&t, ETHP2P_PROTO_TCP, &in), 2);
  ck_assert_uint_eq(gw_table_count_client(&t, &c2), 2);
  ck_assert_uint_eq(gw_table_next_expiry(&t), 300);
  gw_table_remove(&t, 1);
  ck_assert_uint_eq(t.n, 2);
  ck_assert_uint_eq(t.items[1].external_port, 11);
  ck_assert_uint_eq(gw_table_next_expiry(&t), 500);
  gw_table_remove(&t, 7); /* out of range: nothing */
  ck_assert_uint_eq(t.n, 2);
  gw_table_free(&t);
}
END_TEST

/* ---- grant logic on a simulated router --------------------------------------------------- */

static fx F;
static void setup(void) {
  fx_setup(&F, NULL);
}
static void teardown(void) {
  fx_teardown(&F);
}

static gw_request req(ethp2p_gw_origin o, uint8_t from, uint8_t client, uint16_t in, uint16_t ext,
                      bool exact) {
  gw_request r;
  memset(&r, 0, sizeof r);
  r.origin = o;
  r.proto = ETHP2P_PROTO_TCP;
  r.requester = ethp2p_addr_v4(192, 168, 1, from, 0);
  r.internal = ethp2p_addr_v4(192, 168, 1, client, in);
  r.ext_port = ext;
  r.exact = exact;
  r.key_by_internal = o != ETHP2P_GW_UPNP;
  r.lease_s = 600;
  r.desc = "t";
  return r;
}

START_TEST(grant_refuses_other_hosts_conflicts_and_quotas) {
  ethp2p_gw_mapping m;
  gw_request r = req(ETHP2P_GW_UPNP, 2, 3, 80, 80, true);
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_E_NOT_REQUESTER);
  r = req(ETHP2P_GW_UPNP, 2, 2, 80, 80, true);
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_OK);
  ck_assert_uint_eq(m.external_port, 80);
  r = req(ETHP2P_GW_UPNP, 3, 3, 80, 80, true);
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_E_CONFLICT);
  F.gw->cfg.policy.max_per_client = 1;
  r = req(ETHP2P_GW_UPNP, 2, 2, 81, 81, true);
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_E_CLIENT_QUOTA);
  F.gw->cfg.policy.max_per_client = 10;
  F.gw->cfg.policy.max_mappings = 1;
  r = req(ETHP2P_GW_UPNP, 3, 3, 81, 81, true);
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_E_TABLE_FULL);
  /* Overwriting one's own mapping is not a new one. */
  r = req(ETHP2P_GW_UPNP, 2, 2, 8080, 80, true);
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_OK);
  ck_assert_uint_eq(m.internal.port, 8080);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_RENEWED), 1);
  ethp2p_sim_forward fw;
  ck_assert_int_eq(ethp2p_sim_nat_forward_lookup(F.nat, ETHP2P_SIM_TCP, 80, &fw), 0);
  ck_assert_uint_eq(fw.internal.port, 8080);
}
END_TEST

START_TEST(grant_renews_by_internal_endpoint_and_checks_nonce) {
  ethp2p_gw_mapping m;
  uint8_t n1[12], n2[12];
  memset(n1, 1, 12);
  memset(n2, 2, 12);
  gw_request r = req(ETHP2P_GW_PCP, 2, 2, 5000, 5000, false);
  r.nonce = n1;
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_OK);
  ck_assert(m.has_nonce);
  r.ext_port = 6000; /* a different hint does not move a live mapping */
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_OK);
  ck_assert_uint_eq(m.external_port, 5000);
  r.nonce = n2;
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_E_NONCE);
  r.nonce = NULL;
  r.origin = ETHP2P_GW_PMP;
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_E_NONCE);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
}
END_TEST

START_TEST(grant_refused_by_forwarder_changes_nothing) {
  ethp2p_gw_mapping m;
  gw_request r = req(ETHP2P_GW_UPNP, 2, 2, 80, 80, true);
  F.mirror_fail = 1;
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_E_MIRROR);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ck_assert_int_eq(F.n_changes, 0);
}
END_TEST

START_TEST(lease_cap_bounds_granted_leases_and_expiry_fires_on_time) {
  ethp2p_gw_mapping m, list[4];
  F.gw->cfg.policy.lease_cap_s = 100;
  gw_request r = req(ETHP2P_GW_UPNP, 2, 2, 80, 80, true);
  r.lease_s = 0;
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_OK);
  ck_assert_uint_eq(m.lease_s, 100);
  ck_assert_uint_eq(m.expires, ethp2p_sim_now(F.sim) + 100 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, list, 4), 1);
  ck_assert_uint_eq(list[0].external_port, 80);
  ethp2p_sim_run(F.sim, 99 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
  ethp2p_sim_run(F.sim, 1 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ck_assert_int_eq(F.changes[F.n_changes - 1], ETHP2P_GW_EXPIRED);
}
END_TEST

START_TEST(epoch_counts_seconds_and_restart_resets_it) {
  ck_assert_uint_eq(ethp2p_gw_epoch(F.gw), 120);
  ethp2p_sim_run(F.sim, ETHP2P_HOUR);
  ck_assert_uint_eq(ethp2p_gw_epoch(F.gw), 3720);
  ck_assert_int_eq(ethp2p_gw_restart(F.gw), 0);
  ck_assert_uint_eq(ethp2p_gw_epoch(F.gw), 0);
  ethp2p_gw_stop(F.gw);
  ck_assert_uint_eq(ethp2p_gw_http_port(F.gw), 0);
  ck_assert_int_eq(ethp2p_gw_restart(F.gw), ETHP2P_ESTATE);
  ck_assert_int_eq(ethp2p_gw_start(F.gw), 0);
  ck_assert_int_eq(ethp2p_gw_start(F.gw), ETHP2P_ESTATE);
}
END_TEST

START_TEST(external_address_change_keeps_mappings_and_forwards) {
  ethp2p_gw_mapping m;
  ethp2p_addr nip = ethp2p_addr_v4(20, 7, 7, 7, 0), got;
  gw_request r = req(ETHP2P_GW_UPNP, 2, 2, 80, 80, true);
  ck_assert_int_eq(gw_map(F.gw, &r, &m), GW_OK);
  ck_assert_int_eq(ethp2p_sim_nat_set_external_addr(F.nat, &nip), 0);
  got = ethp2p_gw_external_ip(F.gw);
  ck_assert(ethp2p_addr_equal(&got, &nip, false));
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
  ethp2p_sim_forward fw;
  ck_assert_int_eq(ethp2p_sim_nat_forward_lookup(F.nat, ETHP2P_SIM_TCP, 80, &fw), 0);
}
END_TEST

START_TEST(create_validates_its_config) {
  ethp2p_gw_config c;
  ethp2p_gateway *gw = (ethp2p_gateway *)1;
  ethp2p_env *env = ethp2p_sim_host_env(F.box);
  ethp2p_gw_config_default(&c);
  ck_assert_int_eq(ethp2p_gw_create(env, &c, &gw), ETHP2P_EINVAL);
  ck_assert_ptr_null(gw);
  c.lan_addr = F.gwaddr;
  c.external_ip = F.ext;
  c.policy.max_per_client = 0;
  ck_assert_int_eq(ethp2p_gw_create(env, &c, &gw), ETHP2P_EINVAL);
  c.policy.max_per_client = 1;
  c.drop_percent = 101;
  ck_assert_int_eq(ethp2p_gw_create(env, &c, &gw), ETHP2P_EINVAL);
  c.drop_percent = 0;
  ck_assert_int_eq(ethp2p_gw_create(env, &c, &gw), 0);
  ck_assert_uint_eq(strlen(gw->cfg.uuid), 36); /* generated from the env's randomness */
  ethp2p_gw_destroy(gw);
}
END_TEST

START_TEST(names_of_origins_and_changes) {
  ck_assert_str_eq(ethp2p_gw_origin_name(ETHP2P_GW_PMP), "NAT-PMP");
  ck_assert_str_eq(ethp2p_gw_origin_name(ETHP2P_GW_PCP), "PCP");
  ck_assert_str_eq(ethp2p_gw_origin_name(ETHP2P_GW_UPNP), "UPnP");
  ck_assert_str_eq(ethp2p_gw_change_name(ETHP2P_GW_ADDED), "added");
  ck_assert_str_eq(ethp2p_gw_change_name(ETHP2P_GW_CLEARED), "cleared");
  char loc[64];
  ck_assert_int_eq(ethp2p_gw_location(F.gw, loc, sizeof loc), 0);
  ck_assert_str_eq(loc, "http://192.168.1.1:5000/rootDesc.xml");
  ck_assert_int_eq(ethp2p_gw_location(F.gw, loc, 10), ETHP2P_ESPACE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("gateway_table");
  TCase *tu = tcase_create("units");
  TCase *tg = tcase_create("grant");
  SRunner *sr;
  int failed;
  tcase_add_test(tu, allow_list_parses_ports_and_ranges);
  tcase_add_test(tu, allow_list_rejects_bad_text_and_keeps_the_old_list);
  tcase_add_test(tu, default_policy_allows_everything_and_checks_out);
  tcase_add_test(tu, lease_cap_applies_to_long_and_permanent_leases);
  tcase_add_test(tu, pick_port_prefers_hint_then_walks_up_and_wraps);
  tcase_add_test(tu, quirk_names_round_trip);
  tcase_add_test(tu, table_finds_counts_removes_in_order);
  suite_add_tcase(s, tu);
  tcase_add_checked_fixture(tg, setup, teardown);
  tcase_add_test(tg, grant_refuses_other_hosts_conflicts_and_quotas);
  tcase_add_test(tg, grant_renews_by_internal_endpoint_and_checks_nonce);
  tcase_add_test(tg, grant_refused_by_forwarder_changes_nothing);
  tcase_add_test(tg, lease_cap_bounds_granted_leases_and_expiry_fires_on_time);
  tcase_add_test(tg, epoch_counts_seconds_and_restart_resets_it);
  tcase_add_test(tg, external_address_change_keeps_mappings_and_forwards);
  tcase_add_test(tg, create_validates_its_config);
  tcase_add_test(tg, names_of_origins_and_changes);
  suite_add_tcase(s, tg);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
