/*
 * tests/check_p2p_server_dualstack.c — the server and IPv6 in its record: a
 * node with IPv4 sockets only does not publish the IPv6 address of
 * `--nat extip:<IPv6>` (it would advertise an endpoint nobody can reach),
 * while the IPv4 record stays as it was; `extip:<IPv4>` is still published;
 * `--port 0` advertises the ports actually bound.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/server.h"
#include "ethp2p/sim.h"

static uint16_t start_port = ETHP2P_DEFAULT_PORT; /* TCP and UDP port of the next start */

static ethp2p_server *start(ethp2p_sim *sim, const char *nat) {
  ethp2p_sim_host *h;
  ethp2p_server_config c;
  ethp2p_server *srv = NULL;
  ethp2p_diag diag = {0};
  char err[128];
  ethp2p_addr a = ethp2p_addr_v4(20, 1, 0, 1, 0);

  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, "pub", &a), 0);
  ethp2p_server_config_default(&c);
  c.nodiscover = true;
  c.port = c.discport = start_port;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&c.nat, nat, err, sizeof err), 0);
  int rc = ethp2p_server_start(ethp2p_sim_host_env(h), &c, &srv, &diag);
  ck_assert_msg(rc == 0, "start: %s (%s)", ethp2p_strerror(rc), diag.msg);
  return srv;
}

START_TEST(extip_ipv6_is_not_published_without_an_ipv6_listener) {
  ethp2p_sim *sim;
  ethp2p_enr rec;
  uint8_t ip[4], ip6[16];

  ck_assert_int_eq(ethp2p_sim_create(&sim, 1), 0);
  ethp2p_server *srv = start(sim, "extip:2a01:4f8:c17:1f2::1");
  ethp2p_sim_run(sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_localnode_record(ethp2p_server_localnode(srv), &rec), 0);
  ck_assert_int_ne(ethp2p_enr_ip6_get(&rec, ip6), 0); /* no ip6 */
  ck_assert_int_eq(ethp2p_enr_ip_get(&rec, ip), 0);   /* the IPv4 fallback stays */
  ck_assert_mem_eq(ip, "\x7f\x00\x00\x01", 4);
  ethp2p_server_destroy(srv);
  ethp2p_sim_destroy(sim);
}
END_TEST

START_TEST(extip_ipv4_is_still_published) {
  ethp2p_sim *sim;
  ethp2p_enr rec;
  uint8_t ip[4], ip6[16];

  ck_assert_int_eq(ethp2p_sim_create(&sim, 1), 0);
  ethp2p_server *srv = start(sim, "extip:198.51.100.7");
  ethp2p_sim_run(sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_localnode_record(ethp2p_server_localnode(srv), &rec), 0);
  ck_assert_int_eq(ethp2p_enr_ip_get(&rec, ip), 0);
  ck_assert_mem_eq(ip, "\xc6\x33\x64\x07", 4);
  ck_assert_int_ne(ethp2p_enr_ip6_get(&rec, ip6), 0);
  ethp2p_server_destroy(srv);
  ethp2p_sim_destroy(sim);
}
END_TEST

/* --port 0 --discport 0: the record carries the ports actually bound, never 0 */
START_TEST(port_zero_advertises_the_bound_ports) {
  ethp2p_sim *sim;
  ethp2p_enr rec;
  uint16_t tcp = 0, udp = 0;

  ck_assert_int_eq(ethp2p_sim_create(&sim, 2), 0);
  start_port = 0;
  ethp2p_server *srv = start(sim, "none");
  start_port = ETHP2P_DEFAULT_PORT;
  ethp2p_sim_run(sim, ETHP2P_SEC);
  ck_assert_uint_ne(ethp2p_server_tcp_addr(srv).port, 0);
  ck_assert_uint_ne(ethp2p_server_udp_addr(srv).port, 0);
  ck_assert_int_eq(ethp2p_localnode_record(ethp2p_server_localnode(srv), &rec), 0);
  ck_assert_int_eq(ethp2p_enr_port_get(&rec, ETHP2P_ENR_TCP, &tcp), 0);
  ck_assert_int_eq(ethp2p_enr_port_get(&rec, ETHP2P_ENR_UDP, &udp), 0);
  ck_assert_uint_eq(tcp, ethp2p_server_tcp_addr(srv).port);
  ck_assert_uint_eq(udp, ethp2p_server_udp_addr(srv).port);
  ethp2p_server_destroy(srv);
  ethp2p_sim_destroy(sim);
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_server_dualstack");
  TCase *tc = tcase_create("server_dualstack");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, extip_ipv6_is_not_published_without_an_ipv6_listener);
  tcase_add_test(tc, extip_ipv4_is_still_published);
  tcase_add_test(tc, port_zero_advertises_the_bound_ports);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
