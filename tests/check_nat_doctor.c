/*
 * tests/check_nat_doctor.c — the doctor's decision and words on hand-made
 * reports (ethp2p/doctor.h): the decision is a pure function of the report,
 * each rule gives its answer, and the renderers keep their buffer contract.
 * The probing itself runs in tests/check_integration_doctor.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/doctor.h"

/* A LAN host 192.168.1.2/24 behind 192.168.1.1, nothing probed yet. */
static void base(ethp2p_doctor_report *r) {
  memset(r, 0, sizeof *r);
  r->config.port = 30303;
  r->config.spec.kind = ETHP2P_NAT_ANY;
  r->n_ifaces = 1;
  snprintf(r->ifaces[0].name, sizeof r->ifaces[0].name, "%s", "eth0");
  r->ifaces[0].addr = ethp2p_addr_v4(192, 168, 1, 2, 0);
  r->ifaces[0].prefix_len = 24;
  r->ifaces[0].up = true;
  r->have_gw = true;
  r->gw = ethp2p_addr_v4(192, 168, 1, 1, 0);
  const char *keys[] = {"upnp", "natpmp", "pcp"}, *labels[] = {"UPnP IGD", "NAT-PMP", "PCP"};
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    r->gateways[i].key = keys[i];
    r->gateways[i].label = labels[i];
    r->gateways[i].probed = true;
    r->gateways[i].extip_status = ETHP2P_ETIMEDOUT;
  }
}

static void mapped(ethp2p_doctor_report *r, int gw, ethp2p_addr ext, uint16_t tcp, uint16_t udp) {
  ethp2p_doctor_gateway *g = &r->gateways[gw];
  g->extip_status = 0;
  g->extip = ext;
  g->map[0].tried = g->map[1].tried = true;
  g->map[0].external_port = tcp;
  g->map[1].external_port = udp;
}

START_TEST(mapping_on_a_public_address_is_yes_and_pure) {
  ethp2p_doctor_report r;
  ethp2p_doctor_verdict v, again;
  ethp2p_doctor_prose p;
  base(&r);
  mapped(&r, ETHP2P_DOCTOR_PMP, ethp2p_addr_v4(20, 0, 0, 1, 0), 30303, 30303);
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_eq(v.answer, ETHP2P_DOCTOR_YES);
  ck_assert_int_eq(v.why, ETHP2P_DOCTOR_CASE_MAPPED);
  ck_assert_int_eq(v.gateway, ETHP2P_DOCTOR_PMP);
  ck_assert_str_eq(v.ext.source, "natpmp");
  ethp2p_doctor_decide(&r, &again);
  ck_assert_mem_eq(&v, &again, sizeof v);
  ethp2p_doctor_explain(&r, &v, &p);
  ck_assert_str_eq(p.reason, "the router forwards tcp/30303 -> 20.0.0.1:30303 and udp/30303 -> "
                             "20.0.0.1:30303 via NAT-PMP");
  ck_assert_str_eq(p.advice, "run the node with --nat any (or --nat pmp) so it renews the mapping");
}
END_TEST

START_TEST(other_granted_ports_advise_the_protocol) {
  ethp2p_doctor_report r;
  ethp2p_doctor_verdict v;
  ethp2p_doctor_prose p;
  base(&r);
  mapped(&r, ETHP2P_DOCTOR_PCP, ethp2p_addr_v4(20, 0, 0, 1, 0), 40000, 30303);
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_eq(v.answer, ETHP2P_DOCTOR_YES);
  ethp2p_doctor_explain(&r, &v, &p);
  ck_assert(strstr(p.advice, "other external ports than 30303; run the node with --nat pcp") !=
            NULL);
}
END_TEST

START_TEST(private_external_address_is_double_nat) {
  ethp2p_doctor_report r;
  ethp2p_doctor_verdict v;
  ethp2p_doctor_prose p;
  base(&r);
  mapped(&r, ETHP2P_DOCTOR_UPNP, ethp2p_addr_v4(10, 0, 0, 7, 0), 30303, 30303);
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_eq(v.answer, ETHP2P_DOCTOR_NO);
  ck_assert_int_eq(v.why, ETHP2P_DOCTOR_CASE_MAPPED_DOUBLE_NAT);
  ck_assert(v.ext.private_ && v.ext.double_nat && !v.ext.cgnat);
  ethp2p_doctor_explain(&r, &v, &p);
  ck_assert(strstr(p.reason, "10.0.0.7 is private") != NULL);
}
END_TEST

START_TEST(refused_mapping_is_no_with_the_router_code) {
  ethp2p_doctor_report r;
  ethp2p_doctor_verdict v;
  ethp2p_doctor_prose p;
  base(&r);
  mapped(&r, ETHP2P_DOCTOR_UPNP, ethp2p_addr_v4(20, 0, 0, 1, 0), 0, 0);
  r.gateways[0].map[0].add_status = ETHP2P_EREFUSED;
  r.gateways[0].map[0].router_code = 718;
  snprintf(r.gateways[0].map[0].router_msg, sizeof r.gateways[0].map[0].router_msg, "%s",
           "ConflictInMappingEntry");
  r.gateways[0].map[1].tried = false;
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_eq(v.answer, ETHP2P_DOCTOR_NO);
  ck_assert_int_eq(v.why, ETHP2P_DOCTOR_CASE_REFUSED);
  ethp2p_doctor_explain(&r, &v, &p);
  ck_assert_str_eq(
      p.reason, "UPnP IGD answered but refused the test mapping: code 718 ConflictInMappingEntry");
  ck_assert(strstr(p.advice, "to 192.168.1.2:30303 by hand") != NULL);
}
END_TEST

START_TEST(public_host_without_nat_is_yes_unless_filtered) {
  ethp2p_doctor_report r;
  ethp2p_doctor_verdict v;
  base(&r);
  r.ifaces[0].addr = ethp2p_addr_v4(20, 1, 2, 3, 0);
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_eq(v.why, ETHP2P_DOCTOR_CASE_PUBLIC_HOST);
  ck_assert_int_eq(v.answer, ETHP2P_DOCTOR_YES);
  ck_assert(v.public_iface == &r.ifaces[0].addr);
  r.config.n_stun = 1;
  r.profile.reflexive = ethp2p_addr_v4(20, 1, 2, 3, 30303);
  r.profile.behind_nat = ETHP2P_NAT_TRI_NO;
  r.profile.filtering = ETHP2P_NAT_POLICY_APD;
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_eq(v.answer, ETHP2P_DOCTOR_NO);
  ck_assert(v.filtered);
  /* A documentation address (RFC 5737) is not public. */
  r.ifaces[0].addr = ethp2p_addr_v4(192, 0, 2, 9, 0);
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_ne(v.why, ETHP2P_DOCTOR_CASE_PUBLIC_HOST);
}
END_TEST

START_TEST(declared_and_nothing_are_unknown) {
  ethp2p_doctor_report r;
  ethp2p_doctor_verdict v;
  ethp2p_doctor_prose p;
  base(&r);
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_eq(v.answer, ETHP2P_DOCTOR_UNKNOWN);
  ck_assert_int_eq(v.why, ETHP2P_DOCTOR_CASE_NOTHING);
  ethp2p_doctor_explain(&r, &v, &p);
  ck_assert_str_eq(p.reason, "no port-mapping protocol answered (UPnP, NAT-PMP, PCP) and no STUN "
                             "server was given");
  r.config.spec.kind = ETHP2P_NAT_EXTIP;
  r.config.spec.addr = ethp2p_addr_v4(20, 0, 0, 1, 0);
  ethp2p_doctor_decide(&r, &v);
  ck_assert_int_eq(v.why, ETHP2P_DOCTOR_CASE_DECLARED);
  ck_assert_str_eq(v.ext.source, "extip");
  ck_assert_str_eq(ethp2p_doctor_answer_name(v.answer), "unknown");
}
END_TEST

START_TEST(render_text_buffer_contract) {
  ethp2p_doctor_report r;
  size_t len = 0, len2 = 0;
  char small[16];
  base(&r);
  ck_assert_int_eq(ethp2p_doctor_render_text(&r, NULL, 0, &len), ETHP2P_ESPACE);
  ck_assert_uint_gt(len, 100);
  ck_assert_int_eq(ethp2p_doctor_render_text(&r, small, sizeof small, &len2), ETHP2P_ESPACE);
  ck_assert_uint_eq(len2, len);
  ck_assert_str_eq(small, "");
  char *buf = malloc(len + 1);
  ck_assert_int_eq(ethp2p_doctor_render_text(&r, buf, len + 1, &len2), 0);
  ck_assert_uint_eq(strlen(buf), len);
  ck_assert(strncmp(buf, "ethp2p nat doctor: port 30303\n", 30) == 0);
  ck_assert(strstr(buf, "  eth0         192.168.1.2/24\n") != NULL);
  ck_assert(strstr(buf, "reachable from the internet on tcp/30303 and udp/30303: unknown\n") !=
            NULL);
  free(buf);
  ck_assert_int_eq(ethp2p_doctor_render_text(NULL, NULL, 0, &len), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_doctor_render_text(&r, NULL, 4, &len), ETHP2P_EINVAL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_doctor");
  TCase *tc = tcase_create("verdict");
  tcase_add_test(tc, mapping_on_a_public_address_is_yes_and_pure);
  tcase_add_test(tc, other_granted_ports_advise_the_protocol);
  tcase_add_test(tc, private_external_address_is_double_nat);
  tcase_add_test(tc, refused_mapping_is_no_with_the_router_code);
  tcase_add_test(tc, public_host_without_nat_is_yes_unless_filtered);
  tcase_add_test(tc, declared_and_nothing_are_unknown);
  tcase_add_test(tc, render_text_buffer_contract);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
