/*
 * tests/check_p2p_localnode_dualstack.c — the local record with both address
 * families: one endpoint per family (static > predicted > fallback, an iptrack
 * each), udp6/tcp6 only when they differ from udp/tcp, the host's own global
 * IPv6 address, and the port-mapping sinks; on the simulated clock.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/enr.h"
#include "ethp2p/localnode.h"
#include "ethp2p/nat.h"
#include "ethp2p/portmap.h"
#include "ethp2p/sim.h"

static const char *const KEY_HEX =
    "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

/* The simulated host's environment with its interface list replaced. */
typedef struct world {
  ethp2p_sim *sim;
  ethp2p_sim_host *host;
  ethp2p_env env;
  ethp2p_env_ops ops;
  ethp2p_iface ifs[8];
  size_t nifs;
  ethp2p_nodekey key;
  ethp2p_localnode *ln;
  ethp2p_enr last;
  unsigned versions;
} world;

static world *W; /* for the interface callback */

static int fake_interfaces(ethp2p_env *env, ethp2p_iface *out, size_t cap, size_t *n) {
  (void)env;
  *n = 0;
  for (size_t i = 0; i < W->nifs && i < cap; i++)
    out[(*n)++] = W->ifs[i];
  return 0;
}

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  world *w = data;
  (void)ln;
  ck_assert_int_eq(ethp2p_enr_verify(rec, NULL), 0);
  w->last = *rec;
  w->versions++;
}

static void world_init(world *w) {
  ethp2p_env *real;
  memset(w, 0, sizeof *w);
  W = w;
  ck_assert_int_eq(ethp2p_sim_create(&w->sim, 11), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w->sim, &w->host, "node", NULL), 0);
  real = ethp2p_sim_host_env(w->host);
  w->ops = *real->ops;
  w->ops.interfaces = fake_interfaces;
  w->env = *real;
  w->env.ops = &w->ops;
  ck_assert_int_eq(ethp2p_nodekey_parse(&w->key, (const uint8_t *)KEY_HEX, 64, NULL), 0);
  ck_assert_int_eq(ethp2p_localnode_create(&w->env, &w->key, NULL, &w->ln), 0);
  ck_assert_int_gt(ethp2p_localnode_subscribe(w->ln, on_record, w), 0);
}

static void world_free(world *w) {
  ethp2p_localnode_destroy(w->ln);
  ethp2p_sim_destroy(w->sim);
  W = NULL;
}

static void turn(world *w) {
  ethp2p_sim_run(w->sim, ETHP2P_MSEC);
}

static ethp2p_addr A(const char *text, uint16_t port) {
  ethp2p_addr a;
  ck_assert_msg(ethp2p_addr_parse_ip(&a, text) == 0, "bad literal %s", text);
  a.port = port;
  return a;
}

static void add_iface(world *w, const char *name, const char *ip, bool up, bool loopback) {
  ethp2p_iface *it = &w->ifs[w->nifs++];
  memset(it, 0, sizeof *it);
  strncpy(it->name, name, sizeof it->name - 1);
  it->addr = A(ip, 0);
  it->up = up;
  it->loopback = loopback;
  it->prefix_len = it->addr.family == 6 ? 64 : 24;
  it->index = (uint32_t)w->nifs;
}

/* The record's ip / ip6 as text ("" when absent). */
static const char *rec_ip(const ethp2p_enr *r, int family, char *buf) {
  ethp2p_addr a;
  memset(&a, 0, sizeof a);
  buf[0] = '\0';
  if (family == 4 && ethp2p_enr_ip_get(r, a.ip) == 0)
    a.family = 4;
  if (family == 6 && ethp2p_enr_ip6_get(r, a.ip) == 0)
    a.family = 6;
  if (a.family != 0)
    ethp2p_addr_format(&a, false, buf, ETHP2P_ADDRSTRLEN);
  return buf;
}

/* A port entry, or 0 when absent. */
static unsigned port_of(const ethp2p_enr *r, ethp2p_enr_port which) {
  uint16_t p = 0;
  int rc = ethp2p_enr_port_get(r, which, &p);
  ck_assert(rc == 0 || rc == ETHP2P_ENOTFOUND);
  if (rc == 0)
    ck_assert_uint_ne(p, 0); /* the record never carries port 0 */
  return p;
}

static void say(world *w, const char *from_prefix, unsigned n, ethp2p_addr endpoint) {
  for (unsigned i = 0; i < n; i++) {
    char text[64];
    ethp2p_addr from;
    if (from_prefix[strlen(from_prefix) - 1] == ':')
      snprintf(text, sizeof text, "%s%x", from_prefix, i + 1);
    else
      snprintf(text, sizeof text, "%s%u", from_prefix, i + 1);
    from = A(text, 30303);
    ethp2p_localnode_udp_statement(w->ln, &from, &endpoint);
  }
}

START_TEST(statements_of_one_family_never_move_the_other) {
  world w;
  char b4[ETHP2P_ADDRSTRLEN], b6[ETHP2P_ADDRSTRLEN];
  ethp2p_addr fb4 = A("10.0.0.5", 0), fb6 = A("2a01:4f8::5", 0);
  world_init(&w);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip(w.ln, &fb4), 0);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip(w.ln, &fb6), 0); /* v6 through the old call */
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "10.0.0.5");
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::5");
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP), 30303);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 0); /* same as udp: not written */
  /* Ten IPv6 peers agree on a new IPv6 endpoint: only ip6/udp6 move. */
  say(&w, "2a02:1::", 10, A("2a01:4f8::9", 40000));
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::9");
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 40000);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "10.0.0.5");
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP), 30303);
  /* Ten IPv4 peers agree on the NAT's address: only ip/udp move. */
  say(&w, "20.1.1.", 10, A("4.4.4.4", 45000));
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "4.4.4.4");
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP), 45000);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::9");
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 40000);
  /* Both predictions expire on their own; each family falls back to its own value. */
  ethp2p_sim_run(w.sim, 6 * ETHP2P_MIN);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "10.0.0.5");
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::5");
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 0);
  world_free(&w);
}
END_TEST

START_TEST(a_statement_across_families_is_ignored) {
  world w;
  char b6[ETHP2P_ADDRSTRLEN];
  ethp2p_addr got;
  world_init(&w);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  /* IPv4 peers claiming an IPv6 endpoint (and the reverse) say nothing. */
  say(&w, "20.1.1.", 12, A("2a01:4f8::9", 40000));
  say(&w, "2a02:1::", 12, A("4.4.4.4", 45000));
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "");
  ck_assert(!ethp2p_localnode_endpoint(w.ln, 4, &got));
  ck_assert(!ethp2p_localnode_endpoint(w.ln, 6, &got));
  ck_assert_uint_eq(got.family, 0);
  /* An IPv4-mapped address counts as IPv4 on both sides. */
  say(&w, "::ffff:20.1.2.", 10, A("::ffff:4.4.4.4", 45000));
  turn(&w);
  ck_assert(ethp2p_localnode_endpoint(w.ln, 4, &got));
  ck_assert_uint_eq(got.family, 4);
  ck_assert_uint_eq(got.port, 45000);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "");
  world_free(&w);
}
END_TEST

START_TEST(udp6_and_tcp6_are_written_only_when_they_differ) {
  world w;
  ethp2p_addr st6 = A("2a01:4f8::1", 0);
  world_init(&w);
  ck_assert_int_eq(ethp2p_localnode_set_static_ip6(w.ln, &st6), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP6, 30303), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_UDP, 30303), 0);
  turn(&w);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP), 30303);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP6), 0);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP), 30303);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 0);
  /* A separate IPv6 socket on other ports. */
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP6, 30313), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_UDP6, 30314), 0);
  turn(&w);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP6), 30313);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 30314);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP), 30303);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP), 30303);
  /* The IPv4 ports move onto the IPv6 ones: the 6-entries go, being equal. */
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30313), 0);
  ethp2p_localnode_set_fallback_udp6(w.ln, 30303);
  turn(&w);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP), 30313);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP6), 0);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 0);
  /* No IPv4 TCP at all: tcp6 differs from "none" and is written. */
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 0), 0);
  turn(&w);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP), 0);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP6), 30313);
  /* set_fallback_udp sets both families (go-ethereum's SetFallbackUDP). */
  ethp2p_localnode_set_fallback_udp6(w.ln, 9999);
  ethp2p_localnode_set_fallback_udp(w.ln, 30400);
  turn(&w);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP), 30400);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 0);
  world_free(&w);
}
END_TEST

START_TEST(static_ips_are_per_family_and_clear_per_family) {
  world w;
  char b4[ETHP2P_ADDRSTRLEN], b6[ETHP2P_ADDRSTRLEN];
  ethp2p_addr st4 = A("3.3.3.3", 0), st6 = A("2a01:4f8::3", 0), v4 = A("1.2.3.4", 0);
  ethp2p_addr mapped = A("::ffff:5.6.7.8", 0), fb6 = A("2a01:4f8::99", 0);
  world_init(&w);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip6(w.ln, &fb6), 0);
  say(&w, "2a02:1::", 10, A("2a01:4f8::77", 30303));
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &st4), 0);
  ck_assert_int_eq(ethp2p_localnode_set_static_ip6(w.ln, &st6), 0);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "3.3.3.3");
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::3"); /* static beats the prediction */
  /* The IPv6 calls refuse IPv4 (also mapped) and change nothing. */
  ck_assert_int_eq(ethp2p_localnode_set_static_ip6(w.ln, &v4), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_localnode_set_static_ip6(w.ln, &mapped), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip6(w.ln, &v4), ETHP2P_EINVAL);
  /* Clearing one family's static IP leaves the other's. */
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, NULL), 0);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "");
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::3");
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &st4), 0);
  ck_assert_int_eq(ethp2p_localnode_set_static_ip6(w.ln, NULL), 0);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "3.3.3.3");
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::77"); /* the prediction is back */
  /* A mapped address through the generic call is IPv4. */
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &mapped), 0);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "5.6.7.8");
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::77");
  world_free(&w);
}
END_TEST

START_TEST(the_hosts_own_global_ipv6_address_is_the_fallback) {
  world w;
  char b6[ETHP2P_ADDRSTRLEN];
  ethp2p_addr chosen, st6 = A("2a01:4f8::3", 0);
  world_init(&w);
  add_iface(&w, "lo", "::1", true, true);
  add_iface(&w, "eth0", "192.168.1.20", true, false);
  add_iface(&w, "eth0", "fe80::1c2:3ff:fe04:506", true, false);
  add_iface(&w, "eth0", "fd00::20", true, false);
  add_iface(&w, "eth0", "2001:db8::20", true, false);
  add_iface(&w, "eth1", "2a01:4f8:c0c:1::7", false, false); /* down */
  add_iface(&w, "eth0", "2a01:4f8:c17:1f2::20", true, false);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip6_from_host(w.ln, &chosen), 0);
  ck_assert(ethp2p_addr_equal(&chosen, &(ethp2p_addr){0}, false) == false);
  ethp2p_addr_format(&chosen, false, b6, sizeof b6);
  ck_assert_str_eq(b6, "2a01:4f8:c17:1f2::20");
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8:c17:1f2::20");
  ck_assert_str_eq(rec_ip(&w.last, 4, b6), ""); /* IPv4 untouched: no fallback given */
  /* A static address (extip:<IPv6>) wins over the host's. */
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &st6), 0);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::3");
  ck_assert_int_eq(ethp2p_localnode_set_static_ip6(w.ln, NULL), 0);
  /* The global address goes away: nothing but ULA and link-local is left. */
  w.nifs = 5;
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip6_from_host(w.ln, &chosen), ETHP2P_ENOTFOUND);
  ck_assert_uint_eq(chosen.family, 0);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "");
  world_free(&w);
}
END_TEST

START_TEST(a_stable_ipv6_address_is_preferred_to_privacy_and_dying_ones) {
  world w;
  char b6[ETHP2P_ADDRSTRLEN];
  ethp2p_addr chosen;
  world_init(&w);
  add_iface(&w, "eth0", "2a01:4f8::aaaa", true, false);
  w.ifs[0].temporary = true;
  add_iface(&w, "eth0", "2a01:4f8::bbbb", true, false);
  w.ifs[1].deprecated = true;
  add_iface(&w, "eth0", "2a01:4f8::cccc", true, false);
  w.ifs[2].tentative = true;
  add_iface(&w, "eth0", "2a01:4f8::dddd", true, false); /* stable */
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip6_from_host(w.ln, &chosen), 0);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::dddd");
  /* Only a privacy address left: better than none. */
  w.nifs = 3;
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip6_from_host(w.ln, &chosen), 0);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::aaaa");
  /* Deprecated and tentative addresses are never published. */
  w.ifs[0] = w.ifs[1];
  w.ifs[1] = w.ifs[2];
  w.nifs = 2;
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip6_from_host(w.ln, &chosen), ETHP2P_ENOTFOUND);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "");
  world_free(&w);
}
END_TEST

START_TEST(extip_ipv6_through_the_ipv4_sink_sets_ip6_and_withdraws_only_it) {
  world w;
  char b4[ETHP2P_ADDRSTRLEN], b6[ETHP2P_ADDRSTRLEN];
  ethp2p_portmap_sink sink;
  ethp2p_addr fb = A("127.0.0.1", 0), ext6 = A("2a01:4f8::42", 0);
  world_init(&w);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip(w.ln, &fb), 0);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  ethp2p_localnode_portmap_sink(w.ln, &sink);
  sink.set_ip(sink.data, &ext6); /* what the loop does for extip:2a01:4f8::42 */
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::42");
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "127.0.0.1");
  sink.set_ip(sink.data, NULL);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "");
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "127.0.0.1");
  world_free(&w);
}
END_TEST

START_TEST(the_ipv6_sink_drives_ip6_tcp6_and_udp6_only) {
  world w;
  char b4[ETHP2P_ADDRSTRLEN], b6[ETHP2P_ADDRSTRLEN];
  ethp2p_portmap_sink s4, s6;
  ethp2p_addr ext4 = A("5.6.7.8", 0), pin6 = A("2a01:4f8::50", 0);
  world_init(&w);
  ethp2p_localnode_portmap_sink(w.ln, &s4);
  ethp2p_localnode_portmap_sink6(w.ln, &s6);
  s4.set_ip(s4.data, &ext4);
  s4.set_tcp(s4.data, 40001);
  s4.set_udp(s4.data, 40002);
  s6.set_ip(s6.data, &pin6);
  s6.set_tcp(s6.data, 30303);
  s6.set_udp(s6.data, 30303);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "5.6.7.8");
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8::50");
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP), 40001);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP), 40002);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP6), 30303);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 30303);
  /* An IPv4 address on the IPv6 sink is ignored; a withdrawal there is IPv6's. */
  s6.set_ip(s6.data, &ext4);
  s6.set_ip(s6.data, NULL);
  turn(&w);
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "5.6.7.8");
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "");
  world_free(&w);
}
END_TEST

START_TEST(a_dual_stack_record_round_trips_and_fits) {
  world w;
  uint8_t bin[ETHP2P_ENR_MAX_SIZE];
  size_t len;
  ethp2p_enr back;
  ethp2p_addr st4 = A("203.0.113.9", 0), st6 = A("2a01:4f8:c17:1f2:aaaa:bbbb:cccc:dddd", 0);
  world_init(&w);
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &st4), 0);
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &st6), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP6, 30304), 0);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  ethp2p_localnode_set_fallback_udp6(w.ln, 30305);
  turn(&w);
  ck_assert_uint_eq(w.versions, 1); /* creation and the burst before the first turn: one */
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &len, &w.last), 0);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&back, bin, len, NULL), 0);
  ck_assert_uint_eq(ethp2p_enr_pair_count(&back), 8); /* id ip ip6 secp256k1 tcp tcp6 udp udp6 */
  world_free(&w);
}
END_TEST

/* Issue 17: "--nat extip:<IPv6>" parsed, and the record silently kept 127.0.0.1.
 * Through the real spec parser, the extip NAT and the port-mapping loop. */
START_TEST(extip_ipv6_spec_through_the_port_mapping_loop_publishes_ip6) {
  world w;
  char b4[ETHP2P_ADDRSTRLEN], b6[ETHP2P_ADDRSTRLEN], err[128];
  ethp2p_nat_spec spec;
  ethp2p_nat *nat;
  ethp2p_portmap *pm;
  ethp2p_portmap_sink sink;
  ethp2p_addr fb = A("127.0.0.1", 0);
  world_init(&w);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip(w.ln, &fb), 0);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "extip:2a01:4f8:c17:1f2::1", err, sizeof err), 0);
  ck_assert_int_eq(ethp2p_nat_create(&w.env, &spec, &nat), 0);
  ethp2p_localnode_portmap_sink(w.ln, &sink);
  ck_assert_int_eq(ethp2p_portmap_create(&w.env, nat, NULL, &sink, &pm), 0);
  ck_assert_int_eq(ethp2p_portmap_start(pm), 0);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_str_eq(rec_ip(&w.last, 6, b6), "2a01:4f8:c17:1f2::1");
  ck_assert_str_eq(rec_ip(&w.last, 4, b4), "127.0.0.1");
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP6), 0); /* same ports: no 6-entries */
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_UDP6), 0);
  ethp2p_portmap_destroy(pm);
  world_free(&w);
}
END_TEST

/* Fills the record with a "zz" entry as large as still fits; returns its payload size. */
static size_t fill_record(world *w) {
  uint8_t big[255];
  big[0] = 0xb8;
  for (size_t fill = 200; fill > 0; fill--) {
    big[1] = (uint8_t)fill;
    memset(big + 2, 0x42, fill);
    if (ethp2p_localnode_set_raw(w->ln, "zz", big, 2 + fill) == 0)
      return fill;
  }
  ck_abort_msg("nothing fits");
  return 0;
}

/* The first version is signed with a 6-byte seq (the wall clock in ms): a record
 * filled before it must be sized for that seq, not for the 0 of a new record. */
START_TEST(a_record_filled_before_its_first_version_still_signs) {
  world w;
  uint8_t bin[ETHP2P_ENR_MAX_SIZE];
  size_t len;
  world_init(&w);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  (void)fill_record(&w);
  turn(&w);
  ck_assert_uint_eq(w.versions, 1);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &len, &w.last), 0);
  ck_assert_uint_le(len, ETHP2P_ENR_MAX_SIZE);
  ck_assert_uint_ge(len, ETHP2P_ENR_MAX_SIZE - 2);
  world_free(&w);
}
END_TEST

START_TEST(a_port_refused_for_a_full_record_leaves_the_record_and_the_port_alone) {
  world w;
  ethp2p_addr st6 = A("2a01:4f8::1", 0);
  uint64_t seq;
  world_init(&w);
  ck_assert_int_eq(ethp2p_localnode_set_static_ip6(w.ln, &st6), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  turn(&w);
  (void)fill_record(&w); /* now one more port entry (6+ bytes) cannot fit */
  turn(&w);
  seq = ethp2p_localnode_seq(w.ln);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP6, 30313), ETHP2P_ETOOBIG);
  turn(&w);
  ck_assert_uint_eq(ethp2p_localnode_seq(w.ln), seq);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP6), 0);
  /* The refused port was not kept: moving tcp (same size) works and brings no tcp6. */
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30304), 0);
  turn(&w);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP), 30304);
  ck_assert_uint_eq(port_of(&w.last, ETHP2P_ENR_TCP6), 0);
  world_free(&w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_localnode_dualstack");
  TCase *tc = tcase_create("dualstack");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, statements_of_one_family_never_move_the_other);
  tcase_add_test(tc, a_statement_across_families_is_ignored);
  tcase_add_test(tc, udp6_and_tcp6_are_written_only_when_they_differ);
  tcase_add_test(tc, static_ips_are_per_family_and_clear_per_family);
  tcase_add_test(tc, the_hosts_own_global_ipv6_address_is_the_fallback);
  tcase_add_test(tc, a_stable_ipv6_address_is_preferred_to_privacy_and_dying_ones);
  tcase_add_test(tc, extip_ipv6_through_the_ipv4_sink_sets_ip6_and_withdraws_only_it);
  tcase_add_test(tc, the_ipv6_sink_drives_ip6_tcp6_and_udp6_only);
  tcase_add_test(tc, a_dual_stack_record_round_trips_and_fits);
  tcase_add_test(tc, a_record_filled_before_its_first_version_still_signs);
  tcase_add_test(tc, a_port_refused_for_a_full_record_leaves_the_record_and_the_port_alone);
  tcase_add_test(tc, extip_ipv6_spec_through_the_port_mapping_loop_publishes_ip6);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
