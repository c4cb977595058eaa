/*
 * tests/check_env_uv6_netns.c — IPv6 multicast and zones in the libuv environment,
 * inside a private network namespace: the process unshares its network
 * namespace first, so every packet below stays in a namespace that exists only
 * for this run and disappears with it.  There a veth pair d0/d1 comes up, d0
 * gets a link-local and a 3fff::/20 address and an IPv6 default route via fe80::1.
 *   - join ff02::c and ff02::1 on d0 and receive what is sent there (the
 *     multicast loopback copy), with the sender's zone; nothing after leave;
 *   - a link-local source keeps its zone, so a reply to it goes back on its link;
 *   - ethp2p_env_default_gateway6 finds fe80::1 with d0's index as its zone;
 *   - interfaces() lists d0's addresses with index, zone and state.
 * Needs root (CAP_SYS_ADMIN for unshare, CAP_NET_ADMIN for ip): exits 77
 * (reported as skipped, not passed) when it cannot set up its namespace.
 */
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ethp2p/env.h"
#include "ethp2p/env_uv.h"

static uv_loop_t loop;
static ethp2p_env *env;

static void setup(void) {
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, &env), 0);
}

static void teardown(void) {
  ethp2p_uvenv_destroy(env);
  env = NULL;
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}

static void on_guard(uv_timer_t *t) {
  (void)t;
}
static bool run_until(const bool *done, unsigned ms) {
  uv_timer_t guard;
  uint64_t limit = uv_hrtime() + (uint64_t)ms * 1000000u;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 5, 5);
  while (!*done && uv_hrtime() < limit)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return *done;
}

static ethp2p_addr ip(const char *text, uint16_t port) {
  ethp2p_addr a;
  ck_assert_msg(ethp2p_addr_parse_ip(&a, text) == 0, "bad literal %s", text);
  a.port = port;
  return a;
}

/* d0's link-local address (with its zone), from the environment. */
static ethp2p_addr d0_link_local(void) {
  ethp2p_iface ifs[32];
  size_t n = 0;
  ck_assert_int_eq(ethp2p_env_interfaces(env, ifs, 32, &n), 0);
  for (size_t i = 0; i < n; i++)
    if (strcmp(ifs[i].name, "d0") == 0 && ifs[i].addr.family == 6 && ifs[i].addr.ip[0] == 0xfe)
      return ifs[i].addr;
  ck_abort_msg("d0 has no link-local address");
  return ip("::", 0);
}

typedef struct peer {
  ethp2p_udp *u;
  ethp2p_addr self, from;
  int got;
  bool done;
  bool echo;
  uint32_t want_scope; /* done only once a datagram from this zone arrived (0 = any) */
} peer;

static void on_udp(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                   void *data) {
  peer *p = data;
  p->got++;
  if (p->want_scope != 0 && from->scope != p->want_scope)
    return;
  p->from = *from;
  p->done = true;
  if (p->echo)
    ck_assert_int_eq(ethp2p_udp_send(u, from, buf, len), 0);
}

static void peer_open(peer *p, ethp2p_addr bind, unsigned flags) {
  memset(p, 0, sizeof(*p));
  ck_assert_int_eq(ethp2p_udp_open(env, &p->u, &bind, flags, on_udp, p), 0);
  ck_assert_int_eq(ethp2p_udp_local_addr(p->u, &p->self), 0);
}

static void multicast_round_trip(const char *group_text) {
  peer rx, tx;
  ethp2p_addr ll = d0_link_local(), group;
  const uint8_t msg[] = "M-SEARCH * HTTP/1.1";
  int rc;
  peer_open(&rx, ip("::", 0), ETHP2P_UDP_REUSEADDR);
  group = ip(group_text, rx.self.port);
  group.scope = ll.scope;
  rc = ethp2p_udp_join(rx.u, &group, &ll);
  ck_assert_msg(rc == 0, "join %s on d0: %s", group_text, ethp2p_strerror(rc));
  peer_open(&tx, ip("::", 0), 0);
  ck_assert_int_eq(ethp2p_udp_set_multicast(tx.u, &ll, 1), 0);
  /* The copy looped back on d0 (for ff02::1 d1 hears it too: every node is in it). */
  rx.want_scope = if_nametoindex("d0");
  ck_assert_int_eq(ethp2p_udp_send(tx.u, &group, msg, sizeof(msg)), 0);
  ck_assert(run_until(&rx.done, 2000));
  ck_assert_uint_eq(rx.from.family, 6);
  ck_assert_uint_eq(rx.from.port, tx.self.port);
  ck_assert(ethp2p_addr_equal(&rx.from, &ll, false)); /* sent from d0's link-local address */
  ethp2p_udp_close(rx.u);
  ethp2p_udp_close(tx.u);
}

START_TEST(ssdp_group_ff02_c_is_joined_and_heard_on_the_interface) {
  multicast_round_trip("ff02::c");
}
END_TEST

START_TEST(pcp_announce_group_ff02_1_is_joined_and_heard_on_the_interface) {
  multicast_round_trip("ff02::1");
}
END_TEST

START_TEST(after_leaving_ff02_c_nothing_arrives) {
  peer rx, tx;
  ethp2p_addr ll = d0_link_local(), group;
  const uint8_t msg[] = "x";
  peer_open(&rx, ip("::", 0), ETHP2P_UDP_REUSEADDR);
  group = ip("ff02::c", rx.self.port);
  group.scope = ll.scope;
  ck_assert_int_eq(ethp2p_udp_join(rx.u, &group, &ll), 0);
  ck_assert_int_eq(ethp2p_udp_leave(rx.u, &group, &ll), 0);
  peer_open(&tx, ip("::", 0), 0);
  ck_assert_int_eq(ethp2p_udp_set_multicast(tx.u, &ll, 1), 0);
  ck_assert_int_eq(ethp2p_udp_send(tx.u, &group, msg, sizeof(msg)), 0);
  ck_assert(!run_until(&rx.done, 200));
  ck_assert_int_eq(rx.got, 0);
  ethp2p_udp_close(rx.u);
  ethp2p_udp_close(tx.u);
}
END_TEST

START_TEST(a_reply_to_a_link_local_source_goes_back_through_its_zone) {
  peer rx, tx;
  ethp2p_addr ll = d0_link_local(), to;
  const uint8_t msg[] = "zoned";
  peer_open(&rx, ip("::", 0), 0);
  peer_open(&tx, ip("::", 0), 0);
  rx.echo = true; /* replies to the source address as received, zone included */
  to = ll;
  to.port = rx.self.port;
  ck_assert_uint_ne(to.scope, 0);
  ck_assert_int_eq(ethp2p_udp_send(tx.u, &to, msg, sizeof(msg)), 0);
  ck_assert(run_until(&tx.done, 2000));
  ck_assert(rx.done);
  ck_assert_uint_eq(rx.from.scope, ll.scope);
  ck_assert(ethp2p_addr_equal(&rx.from, &ll, false));
  ck_assert_uint_eq(tx.from.scope, ll.scope);
  ck_assert_uint_eq(tx.from.port, rx.self.port);
  ethp2p_udp_close(rx.u);
  ethp2p_udp_close(tx.u);
}
END_TEST

START_TEST(the_ipv6_default_router_comes_with_its_interface_zone) {
  ethp2p_addr gw, want = ip("fe80::1", 0);
  ck_assert_int_eq(ethp2p_env_default_gateway6(env, &gw), 0);
  ck_assert(ethp2p_addr_equal(&gw, &want, true));
  ck_assert_uint_eq(gw.scope, if_nametoindex("d0"));
}
END_TEST

START_TEST(interfaces_list_the_namespace_addresses_with_index_zone_and_state) {
  ethp2p_iface ifs[32];
  size_t n = 0;
  bool global = false, link = false;
  ethp2p_addr g = ip("3fff::10", 0);
  ck_assert_int_eq(ethp2p_env_interfaces(env, ifs, 32, &n), 0);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(ifs[i].name, "d0") != 0 || ifs[i].addr.family != 6)
      continue;
    ck_assert_uint_eq(ifs[i].index, if_nametoindex("d0"));
    ck_assert(ifs[i].up && ifs[i].multicast && !ifs[i].loopback);
    ck_assert(!ifs[i].tentative); /* DAD is off in this namespace */
    if (ethp2p_addr_equal(&ifs[i].addr, &g, false)) {
      global = true;
      ck_assert_uint_eq(ifs[i].prefix_len, 64);
      ck_assert_uint_eq(ifs[i].addr.scope, 0);
      ck_assert(ethp2p_addr_is_public(&ifs[i].addr));
      ck_assert(!ifs[i].temporary && !ifs[i].deprecated);
    } else if (ifs[i].addr.ip[0] == 0xfe) {
      link = true;
      ck_assert_uint_eq(ifs[i].addr.scope, ifs[i].index);
    }
  }
  ck_assert(global && link);
}
END_TEST

/* Moves this process into a fresh network namespace and builds d0 there.
 * Returns false (with a reason on stderr) when that is not possible here. */
static bool enter_private_namespace(void) {
  static const char *const steps[] = {
      "ip link set lo up",
      "ip link add d0 type veth peer name d1",
      "sysctl -qw net.ipv6.conf.d0.accept_dad=0",
      "sysctl -qw net.ipv6.conf.d1.accept_dad=0",
      "ip link set d1 up",
      "ip link set d0 multicast on up",
      "ip -6 addr add 3fff::10/64 dev d0 nodad",
      "ip -6 route add default via fe80::1 dev d0",
  };
  if (unshare(CLONE_NEWNET) != 0) {
    fprintf(stderr, "check_env_uv6_netns: skipped: cannot unshare the network namespace (%s)\n",
            strerror(errno));
    return false;
  }
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", steps[i]);
    if (system(cmd) != 0) {
      fprintf(stderr, "check_env_uv6_netns: skipped: \"%s\" failed\n", steps[i]);
      return false;
    }
  }
  return true;
}

int main(void) {
  Suite *s = suite_create("env_uv6_netns");
  TCase *tc = tcase_create("netns");
  SRunner *sr;
  int failed;
  if (!enter_private_namespace())
    return 77;
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 20);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, ssdp_group_ff02_c_is_joined_and_heard_on_the_interface);
  tcase_add_test(tc, pcp_announce_group_ff02_1_is_joined_and_heard_on_the_interface);
  tcase_add_test(tc, after_leaving_ff02_c_nothing_arrives);
  tcase_add_test(tc, a_reply_to_a_link_local_source_goes_back_through_its_zone);
  tcase_add_test(tc, the_ipv6_default_router_comes_with_its_interface_zone);
  tcase_add_test(tc, interfaces_list_the_namespace_addresses_with_index_zone_and_state);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
