/*
 * tests/check_p2p_server_discovery.c — discovery started by the server in the
 * simulated world: servers find each other from one bootnode;
 * a node behind a NAT with no mapping protocol puts its public endpoint in its
 * record from its peers' PONGs; bad bootnodes and netrestrict entries are
 * refused with a reason; --nodiscover leaves the socket to udp_cb.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/server.h"
#include "ethp2p/sim.h"

#define NPUB 14

static ethp2p_sim *sim;
static ethp2p_server *srv[NPUB + 1];

static void base_config(ethp2p_server_config *c) {
  ethp2p_server_config_default(c);
  c->nat.kind = ETHP2P_NAT_NONE;
}

static ethp2p_server *start_public(int i, const char *boot) {
  ethp2p_sim_host *h;
  ethp2p_server_config c;
  ethp2p_server *s;
  ethp2p_diag diag = {0};
  char name[16];
  ethp2p_addr a = ethp2p_addr_v4(20, (uint8_t)(i + 1), 0, 1, 0);
  const char *b[1] = {boot};
  snprintf(name, sizeof name, "pub%d", i);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, name, &a), 0);
  base_config(&c);
  if (boot != NULL) {
    c.bootnodes = b;
    c.nbootnodes = 1;
  }
  int rc = ethp2p_server_start(ethp2p_sim_host_env(h), &c, &s, &diag);
  ck_assert_msg(rc == 0, "start: %s (%s)", ethp2p_strerror(rc), diag.msg);
  return s;
}

static void teardown(void) {
  for (int i = 0; i <= NPUB; i++) {
    ethp2p_server_destroy(srv[i]);
    srv[i] = NULL;
  }
  ethp2p_sim_destroy(sim);
  sim = NULL;
}

START_TEST(servers_find_each_other_from_one_bootnode) {
  ck_assert_int_eq(ethp2p_sim_create(&sim, 7), 0);
  srv[0] = start_public(0, NULL);
  /* the bootnode's record carries the fallback 127.0.0.1 until prediction says
   * otherwise, so it is given as an enode URL with its public address */
  char url[300];
  ethp2p_enr rec;
  ethp2p_discover_node bn;
  ck_assert_int_eq(ethp2p_localnode_record(ethp2p_server_localnode(srv[0]), &rec), 0);
  ck_assert_int_eq(ethp2p_discover_node_from_record(&bn, &rec), 0);
  bn.addr = ethp2p_addr_v4(20, 1, 0, 1, ethp2p_server_udp_addr(srv[0]).port);
  ck_assert_int_gt(ethp2p_discover_node_format(&bn, url, sizeof url), 0);
  for (int i = 1; i < 6; i++)
    srv[i] = start_public(i, url);
  ethp2p_sim_run(sim, 2 * ETHP2P_MIN);
  for (int i = 0; i < 6; i++) {
    size_t n = ethp2p_table_len(ethp2p_discv4_table(ethp2p_server_discv4(srv[i])));
    ck_assert_msg(n >= 5, "server %d has %zu nodes", i, n);
  }
  teardown();
}
END_TEST

START_TEST(node_behind_nat_without_mapping_learns_its_endpoint_from_pongs) {
  ethp2p_sim_nat *box;
  ethp2p_sim_host *h;
  ethp2p_server_config c;
  ethp2p_diag diag = {0};
  char url[300];
  ethp2p_enr rec;
  ethp2p_discover_node bn;
  uint8_t ip[4];
  uint16_t udp;

  ck_assert_int_eq(ethp2p_sim_create(&sim, 9), 0);
  srv[0] = start_public(0, NULL);
  ck_assert_int_eq(ethp2p_localnode_record(ethp2p_server_localnode(srv[0]), &rec), 0);
  ck_assert_int_eq(ethp2p_discover_node_from_record(&bn, &rec), 0);
  bn.addr = ethp2p_addr_v4(20, 1, 0, 1, ethp2p_server_udp_addr(srv[0]).port);
  ck_assert_int_gt(ethp2p_discover_node_format(&bn, url, sizeof url), 0);
  for (int i = 1; i < NPUB; i++)
    srv[i] = start_public(i, url);
  ethp2p_sim_run(sim, ETHP2P_MIN);

  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &box, "home", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &h, "natted", NULL), 0);
  base_config(&c);
  const char *b[1] = {url};
  c.bootnodes = b;
  c.nbootnodes = 1;
  ck_assert_int_eq(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &srv[NPUB], &diag), 0);
  /* before: the fallback 127.0.0.1 */
  ck_assert_int_eq(ethp2p_localnode_record(ethp2p_server_localnode(srv[NPUB]), &rec), 0);
  ck_assert_int_eq(ethp2p_enr_ip_get(&rec, ip), 0);
  ck_assert_uint_eq(ip[0], 127);
  ethp2p_sim_run(sim, 3 * ETHP2P_MIN);
  ck_assert_int_eq(ethp2p_localnode_record(ethp2p_server_localnode(srv[NPUB]), &rec), 0);
  ethp2p_addr ext = ethp2p_sim_nat_external_addr(box);
  ck_assert_int_eq(ethp2p_enr_ip_get(&rec, ip), 0);
  ck_assert_msg(memcmp(ip, ext.ip, 4) == 0, "record ip %u.%u.%u.%u, NAT is %u.%u.%u.%u", ip[0],
                ip[1], ip[2], ip[3], ext.ip[0], ext.ip[1], ext.ip[2], ext.ip[3]);
  ck_assert_int_eq(ethp2p_enr_port_get(&rec, ETHP2P_ENR_UDP, &udp), 0);
  ck_assert_uint_ne(udp, 0);
  /* the public nodes know it, at that endpoint */
  ethp2p_discv4_stats st;
  ethp2p_discv4_get_stats(ethp2p_server_discv4(srv[NPUB]), &st);
  ck_assert_uint_ge(st.rx[ETHP2P_DISCV4_PONG], 10);
  teardown();
}
END_TEST

static int udp_seen;
static void ignore_udp(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                       void *data) {
  (void)u, (void)from, (void)buf, (void)len, (void)data;
}
static void on_udp(ethp2p_server *s, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                   void *data) {
  (void)s;
  (void)from;
  (void)buf;
  (void)data;
  if (len == 5)
    udp_seen++;
}

START_TEST(bad_bootnodes_and_netrestrict_are_refused_and_nodiscover_keeps_udp_cb) {
  ethp2p_sim_host *h, *peer;
  ethp2p_server_config c;
  ethp2p_server *s = NULL;
  ethp2p_diag diag;
  ethp2p_addr nets[4];
  uint8_t prefix[4];
  ck_assert_int_eq(ethp2p_sim_create(&sim, 3), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, "h", NULL), 0);
  base_config(&c);
  const char *bad[2] = {"enode://aa@1.2.3.4:30303", "enr:xyz"};
  c.bootnodes = bad;
  c.nbootnodes = 2;
  memset(&diag, 0, sizeof diag);
  ck_assert_int_lt(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &s, &diag), 0);
  ck_assert_ptr_null(s);
  ck_assert(strstr(diag.msg, "bootnode 1") != NULL);
  c.nbootnodes = 0;
  c.netrestrict = "10.0.0.0/8,300.1.1.1/8";
  memset(&diag, 0, sizeof diag);
  ck_assert_int_eq(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &s, &diag), ETHP2P_ESYNTAX);
  ck_assert(strstr(diag.msg, "300.1.1.1") != NULL);
  ck_assert_int_eq(
      ethp2p_server_netrestrict_parse("10.0.0.0/8,192.168.0.0/16", nets, prefix, 4, NULL), 2);
  ck_assert_uint_eq(prefix[1], 16);
  ck_assert_int_eq(ethp2p_server_netrestrict_parse("10.0.0.0", nets, prefix, 4, NULL),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_server_netrestrict_parse("1.0.0.0/33", nets, prefix, 4, NULL),
                   ETHP2P_ESYNTAX);
  /* --nodiscover: no discv4, datagrams still reach udp_cb */
  c.netrestrict = NULL;
  c.nodiscover = true;
  c.udp_cb = on_udp;
  ck_assert_int_eq(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &s, NULL), 0);
  ck_assert_ptr_null(ethp2p_server_discv4(s));
  ck_assert_ptr_nonnull(ethp2p_server_discover(s));
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &peer, "p", NULL), 0);
  ethp2p_udp *u;
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 0), to = ethp2p_sim_host_addr(h);
  to.port = ethp2p_server_udp_addr(s).port;
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(peer), &u, &any, 0, ignore_udp, NULL), 0);
  ck_assert_int_eq(ethp2p_udp_send(u, &to, (const uint8_t *)"hello", 5), 0);
  udp_seen = 0;
  ethp2p_sim_run(sim, ETHP2P_SEC);
  ck_assert_int_eq(udp_seen, 1);
  ethp2p_udp_close(u);
  ethp2p_server_destroy(s);
  ethp2p_sim_destroy(sim);
  sim = NULL;
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_server_discovery");
  TCase *tc = tcase_create("server_discovery");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, servers_find_each_other_from_one_bootnode);
  tcase_add_test(tc, node_behind_nat_without_mapping_learns_its_endpoint_from_pongs);
  tcase_add_test(tc, bad_bootnodes_and_netrestrict_are_refused_and_nodiscover_keeps_udp_cb);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
