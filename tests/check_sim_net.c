/* tests/check_sim_net.c — networks, hosts, UDP and TCP in the simulated world:
 * multicast stays on its segment, loss and latency match their settings,
 * socket rules, TCP outcomes, and the trace hash is a function of the seed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env.h"
#include "ethp2p/sim.h"

#define SEED 0x5eed0003ULL
#define SIM_ASSERT(w, expr)                                                                        \
  ck_assert_msg((expr), "%s failed (replay with seed %#llx)", #expr,                               \
                (unsigned long long)ethp2p_sim_seed(w))

typedef struct rxstat {
  uint64_t n;
  ethp2p_addr last_from;
  ethp2p_time sum_delay, min_delay, max_delay;
  uint32_t last_seq;
  int reordered;
} rxstat;

/* Payload: 8-byte send time, 4-byte sequence. */
static void stat_cb(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                    void *data) {
  rxstat *s = data;
  ethp2p_time sent = 0, d;
  uint32_t seq = 0;
  if (len >= 12) {
    memcpy(&sent, buf, 8);
    memcpy(&seq, buf + 8, 4);
  }
  d = ethp2p_env_now(u->env) - sent;
  if (s->n == 0 || d < s->min_delay)
    s->min_delay = d;
  if (d > s->max_delay)
    s->max_delay = d;
  if (s->n > 0 && seq < s->last_seq)
    s->reordered++;
  s->last_seq = seq;
  s->sum_delay += d;
  s->last_from = *from;
  s->n++;
}

static ethp2p_udp *open_on(ethp2p_sim_host *h, ethp2p_addr bind, unsigned flags, rxstat *st) {
  ethp2p_udp *u = NULL;
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(h), &u, &bind, flags, stat_cb, st), 0);
  return u;
}

static void send_stamped(ethp2p_udp *u, ethp2p_addr to, uint32_t seq) {
  uint8_t buf[12];
  ethp2p_time now = ethp2p_env_now(u->env);
  memcpy(buf, &now, 8);
  memcpy(buf + 8, &seq, 4);
  ck_assert_int_eq(ethp2p_udp_send(u, &to, buf, sizeof(buf)), 0);
}

/* ---- multicast --------------------------------------------------------------------- */
START_TEST(multicast_reaches_joined_lan_hosts_and_not_beyond) {
  ethp2p_sim *w;
  ethp2p_sim_nat *box, *other;
  ethp2p_sim_host *a, *b, *c, *x, *bh;
  ethp2p_addr group = ethp2p_addr_v4(239, 255, 255, 250, 1900);
  ethp2p_addr any1900 = ethp2p_addr_v4(0, 0, 0, 0, 1900), any0 = ethp2p_addr_v4(0, 0, 0, 0, 0);
  rxstat sb, sc, sx, sbox, sa, sbox2;
  ethp2p_udp *ub, *uc, *ux, *ubox, *ua, *ubox2;
  ethp2p_sim_nat_config oc = ethp2p_sim_nat_config_default();
  memset(&sb, 0, sizeof(sb));
  memset(&sc, 0, sizeof(sc));
  memset(&sx, 0, sizeof(sx));
  memset(&sbox, 0, sizeof(sbox));
  memset(&sa, 0, sizeof(sa));
  memset(&sbox2, 0, sizeof(sbox2));
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &box, "home", NULL), 0);
  oc.inside_addr = ethp2p_addr_v4(192, 168, 1, 1, 0); /* same LAN prefix, other segment */
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &other, "neighbour", &oc), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &a, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &b, "b", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &c, "c", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &x, "x", NULL), 0);
  bh = ethp2p_sim_nat_host(box);
  ua = open_on(a, any0, 0, &sa);
  ub = open_on(b, any1900, ETHP2P_UDP_REUSEADDR, &sb);
  uc = open_on(c, any1900, ETHP2P_UDP_REUSEADDR, &sc); /* not joined */
  ux = open_on(x, any1900, ETHP2P_UDP_REUSEADDR, &sx);
  ubox = open_on(bh, any1900, ETHP2P_UDP_REUSEADDR, &sbox);
  ubox2 = open_on(ethp2p_sim_nat_host(other), any1900, ETHP2P_UDP_REUSEADDR, &sbox2);
  ck_assert_int_eq(ethp2p_udp_join(ub, &group, NULL), 0);
  ck_assert_int_eq(ethp2p_udp_join(ub, &group, NULL), ETHP2P_EEXIST);
  ck_assert_int_eq(ethp2p_udp_join(ux, &group, NULL), 0);
  ck_assert_int_eq(ethp2p_udp_join(ubox2, &group, NULL), 0);
  {
    ethp2p_addr in = ethp2p_sim_nat_inside_addr(box);
    ck_assert_int_eq(ethp2p_udp_join(ubox, &group, &in), 0);
  }
  /* Who would hear each sender: b joined on home's LAN, the box joined on its LAN side
   * only, c is bound without joining, x and the neighbour's box joined on every
   * interface (both reach the internet segment); a host never counts itself. */
  ck_assert_uint_eq(ethp2p_sim_udp_group_listeners(a, &group), 2);  /* b, the box */
  ck_assert_uint_eq(ethp2p_sim_udp_group_listeners(bh, &group), 3); /* b; x, neighbour */
  ck_assert_uint_eq(ethp2p_sim_udp_group_listeners(x, &group), 1);  /* the neighbour's box */
  {
    ethp2p_addr other_port = group, unicast = ethp2p_addr_v4(192, 168, 1, 3, 1900);
    other_port.port = 1901;
    ck_assert_uint_eq(ethp2p_sim_udp_group_listeners(a, &other_port), 0);
    ck_assert_uint_eq(ethp2p_sim_udp_group_listeners(a, &unicast), 0);
  }
  ck_assert_int_eq(ethp2p_udp_set_multicast(ua, NULL, 2), 0);
  send_stamped(ua, group, 1);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, sb.n == 1 && sbox.n == 1);
  SIM_ASSERT(w, sc.n == 0 && sx.n == 0 && sbox2.n == 0);
  {
    ethp2p_addr aa = ethp2p_sim_host_addr(a);
    SIM_ASSERT(w, ethp2p_addr_equal(&sb.last_from, &aa, false));
  }
  /* A unicast reply to the sender works; leaving stops delivery. */
  ck_assert_int_eq(ethp2p_udp_leave(ub, &group, NULL), 0);
  ck_assert_int_eq(ethp2p_udp_leave(ub, &group, NULL), ETHP2P_ENOTFOUND);
  ck_assert_uint_eq(ethp2p_sim_udp_group_listeners(bh, &group), 2); /* x, neighbour */
  send_stamped(ua, group, 2);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, sb.n == 1 && sbox.n == 2);
  /* An internet host's multicast stays on the internet segment. */
  send_stamped(ux, group, 3);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, sbox.n == 2 && sb.n == 1);
  ethp2p_udp_close(ua);
  ethp2p_udp_close(ub);
  ethp2p_udp_close(uc);
  ethp2p_udp_close(ux);
  ethp2p_udp_close(ubox);
  ethp2p_udp_close(ubox2);
  ethp2p_sim_destroy(w);
}
END_TEST

START_TEST(all_hosts_announcements_reach_wildcard_sockets_on_the_lan) {
  ethp2p_sim *w;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *a, *x, *bh;
  ethp2p_addr all = ethp2p_addr_v4(224, 0, 0, 1, 5350), from;
  rxstat sa, sx, sbox;
  ethp2p_udp *ua, *ux, *ubox;
  memset(&sa, 0, sizeof(sa));
  memset(&sx, 0, sizeof(sx));
  memset(&sbox, 0, sizeof(sbox));
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &box, "home", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &a, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &x, "x", NULL), 0);
  bh = ethp2p_sim_nat_host(box);
  ck_assert_ptr_eq(ethp2p_sim_host_of(ethp2p_sim_host_env(bh)), bh);
  ck_assert_ptr_eq(ethp2p_sim_host_nat(bh), box);
  ck_assert_ptr_null(ethp2p_sim_host_nat(a));
  ck_assert_ptr_eq(ethp2p_sim_host_world(a), w);
  from = ethp2p_sim_nat_inside_addr(box);
  from.port = 5351;
  ubox = open_on(bh, from, 0, &sbox);
  ua = open_on(a, ethp2p_addr_v4(0, 0, 0, 0, 5350), ETHP2P_UDP_REUSEADDR, &sa);
  ux = open_on(x, ethp2p_addr_v4(0, 0, 0, 0, 5350), ETHP2P_UDP_REUSEADDR, &sx);
  send_stamped(ubox, all, 1);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, sa.n == 1 && sx.n == 0);
  SIM_ASSERT(w, ethp2p_addr_equal(&sa.last_from, &from, true));
  ethp2p_udp_close(ua);
  ethp2p_udp_close(ux);
  ethp2p_udp_close(ubox);
  ethp2p_sim_destroy(w);
}
END_TEST

/* ---- links ------------------------------------------------------------------------- */
START_TEST(measured_loss_matches_the_setting) {
  ethp2p_sim *w;
  ethp2p_sim_host *a, *b;
  ethp2p_sim_link link = {5 * ETHP2P_MSEC, 0, 0.10};
  ethp2p_addr to = ethp2p_addr_v4(20, 0, 0, 2, 9000);
  rxstat sa, sb;
  ethp2p_udp *ua, *ub;
  uint32_t i;
  memset(&sa, 0, sizeof(sa));
  memset(&sb, 0, sizeof(sb));
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_internet(w), &link), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &a, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &b, "b", NULL), 0);
  ua = open_on(a, ethp2p_addr_v4(0, 0, 0, 0, 0), 0, &sa);
  ub = open_on(b, ethp2p_addr_v4(0, 0, 0, 0, 9000), 0, &sb);
  for (i = 0; i < 10000; i++)
    send_stamped(ua, to, i);
  ethp2p_sim_run(w, ETHP2P_SEC);
  /* Binomial(10000, 0.9): sd = 30; +-5 sd. */
  SIM_ASSERT(w, sb.n >= 8850 && sb.n <= 9150);
  SIM_ASSERT(w, sb.n + ethp2p_sim_drops(w, ETHP2P_SIM_DROP_LOSS) == 10000);
  ethp2p_udp_close(ua);
  ethp2p_udp_close(ub);
  ethp2p_sim_destroy(w);
}
END_TEST

START_TEST(measured_latency_and_jitter_match_the_setting) {
  ethp2p_sim *w;
  ethp2p_sim_host *a, *b;
  ethp2p_sim_link link = {50 * ETHP2P_MSEC, 10 * ETHP2P_MSEC, 0.0}, got;
  ethp2p_addr to = ethp2p_addr_v4(20, 0, 0, 2, 9000);
  rxstat sa, sb;
  ethp2p_udp *ua, *ub;
  ethp2p_time mean;
  uint32_t i;
  memset(&sa, 0, sizeof(sa));
  memset(&sb, 0, sizeof(sb));
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_internet(w), &link), 0);
  got = ethp2p_sim_net_link(ethp2p_sim_internet(w));
  ck_assert_uint_eq(got.jitter, 10 * ETHP2P_MSEC);
  link.loss = 1.5;
  ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_internet(w), &link), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &a, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &b, "b", NULL), 0);
  ua = open_on(a, ethp2p_addr_v4(0, 0, 0, 0, 0), 0, &sa);
  ub = open_on(b, ethp2p_addr_v4(0, 0, 0, 0, 9000), 0, &sb);
  for (i = 0; i < 10000; i++) {
    send_stamped(ua, to, i);
    ethp2p_sim_run(w, ETHP2P_MSEC);
  }
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, sb.n == 10000);
  SIM_ASSERT(w, sb.min_delay >= 50 * ETHP2P_MSEC && sb.max_delay <= 60 * ETHP2P_MSEC);
  mean = sb.sum_delay / sb.n;
  /* Uniform jitter [0, 10 ms]: mean 55 ms, sd of the mean ~29 us. */
  SIM_ASSERT(w, mean > 54800 * ETHP2P_USEC && mean < 55200 * ETHP2P_USEC);
  SIM_ASSERT(w, sb.reordered > 0); /* jitter > spacing reorders datagrams */
  ethp2p_udp_close(ua);
  ethp2p_udp_close(ub);
  ethp2p_sim_destroy(w);
}
END_TEST

/* ---- sockets ----------------------------------------------------------------------- */
START_TEST(udp_bind_rules_and_unreachable_destinations) {
  ethp2p_sim *w;
  ethp2p_sim_host *a, *lonely;
  ethp2p_sim_net *lan;
  rxstat s1, s2;
  ethp2p_udp *u1 = NULL, *u2 = NULL, *u3 = NULL;
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 7000), mine,
              other = ethp2p_addr_v4(9, 9, 9, 9, 7000);
  ethp2p_addr lan_addr = ethp2p_addr_v4(10, 1, 1, 5, 0), out = ethp2p_addr_v4(20, 0, 0, 1, 7000);
  ethp2p_iface ifs[4];
  size_t n = 0;
  ethp2p_addr gw;
  memset(&s1, 0, sizeof(s1));
  memset(&s2, 0, sizeof(s2));
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &a, "a", NULL), 0);
  mine = ethp2p_sim_host_addr(a);
  mine.port = 7000;
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(a), &u1, &any, 0, stat_cb, &s1), 0);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(a), &u2, &mine, 0, stat_cb, &s2),
                   ETHP2P_EADDRINUSE);
  ck_assert_ptr_null(u2);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(a), &u2, &other, 0, stat_cb, &s2),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(a), &u2, NULL, 0, stat_cb, &s2), 0);
  {
    ethp2p_addr la;
    ck_assert_int_eq(ethp2p_udp_local_addr(u2, &la), 0);
    ck_assert_uint_ge(la.port, 32768);
  }
  /* Loopback delivery happens on a later turn, never inside send. */
  {
    ethp2p_addr lo = ethp2p_addr_v4(127, 0, 0, 1, 7000);
    send_stamped(u2, lo, 1);
    ck_assert_uint_eq(s1.n, 0);
    ethp2p_sim_run(w, 0);
    ck_assert_uint_eq(s1.n, 1);
    ck_assert_uint_eq(s1.last_from.ip[0], 127);
    ck_assert_int_eq(ethp2p_udp_send(u2, &lo, NULL, 0), 0); /* empty datagrams exist */
    ethp2p_sim_run(w, 0);
    ck_assert_uint_eq(s1.n, 2);
    ck_assert_int_eq(ethp2p_udp_send(u2, &lo, (const uint8_t *)"x", 65508), ETHP2P_ETOOBIG);
  }
  ck_assert_int_eq(ethp2p_udp_send(u2, &any, (const uint8_t *)"x", 1), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_env_interfaces(ethp2p_sim_host_env(a), ifs, 4, &n), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert(ifs[0].loopback);
  ck_assert(ethp2p_addr_equal(&ifs[1].addr, &mine, false));
  ck_assert_int_eq(ethp2p_env_default_gateway(ethp2p_sim_host_env(a), &gw), ETHP2P_ENOTFOUND);
  /* A host on a LAN without a gateway cannot reach the internet. */
  ck_assert_int_eq(ethp2p_sim_net_create(w, &lan, "lan"), 0);
  ck_assert_int_eq(ethp2p_sim_host_create(w, &lonely, "lonely"), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(lonely, lan, &lan_addr, 24), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(lonely, lan, &lan_addr, 24), ETHP2P_EEXIST);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(lonely), &u3, NULL, 0, stat_cb, &s2), 0);
  ck_assert_int_eq(ethp2p_udp_send(u3, &out, (const uint8_t *)"x", 1), ETHP2P_ENETUNREACH);
  ethp2p_udp_close(u1);
  ethp2p_udp_close(u2);
  ethp2p_udp_close(u3);
  ethp2p_sim_destroy(w);
}
END_TEST

START_TEST(ipv6_hosts_exchange_datagrams_on_the_internet) {
  ethp2p_sim *w;
  ethp2p_sim_host *a, *b;
  ethp2p_addr a6, b6;
  rxstat sa, sb;
  ethp2p_udp *ua, *ub;
  memset(&sa, 0, sizeof(sa));
  memset(&sb, 0, sizeof(sb));
  ck_assert_int_eq(ethp2p_addr_parse(&a6, "[2001:db8::1]:4000", 0), 0);
  ck_assert_int_eq(ethp2p_addr_parse(&b6, "[2001:db8::2]:4000", 0), 0);
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &a, "a", &a6), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &b, "b", &b6), 0);
  ua = open_on(a, a6, 0, &sa);
  {
    ethp2p_addr any6;
    memset(&any6, 0, sizeof(any6));
    any6.family = 6;
    any6.port = 4000;
    ub = open_on(b, any6, 0, &sb);
  }
  send_stamped(ua, b6, 1);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, sb.n == 1 && ethp2p_addr_equal(&sb.last_from, &a6, true));
  ethp2p_udp_close(ua);
  ethp2p_udp_close(ub);
  ethp2p_sim_destroy(w);
}
END_TEST

/* The IPv6 default router is a slot of its own: the env reports it, IPv6 packets to no
 * connected prefix go to it, and the IPv4 gateway is neither replaced nor cleared. */
START_TEST(ipv6_default_router_is_reported_and_routes_ipv6_only) {
  ethp2p_sim *w;
  ethp2p_sim_net *lan;
  ethp2p_sim_host *h, *r;
  ethp2p_addr h4, h6, r4, r6, far6, far4, any6, got;
  ethp2p_udp *u6, *u4;
  rxstat st;
  uint8_t byte = 1;
  memset(&st, 0, sizeof(st));
  ck_assert_int_eq(ethp2p_addr_parse_ip(&h4, "192.168.5.2"), 0);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&r4, "192.168.5.1"), 0);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&h6, "2001:db8:5::2"), 0);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&r6, "2001:db8:5::1"), 0);
  ck_assert_int_eq(ethp2p_addr_parse(&far6, "[2001:db8:99::7]:9", 0), 0);
  ck_assert_int_eq(ethp2p_addr_parse(&far4, "198.51.100.7:9", 0), 0);
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_net_create(w, &lan, "lan"), 0);
  ck_assert_int_eq(ethp2p_sim_host_create(w, &h, "h"), 0);
  ck_assert_int_eq(ethp2p_sim_host_create(w, &r, "r"), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(h, lan, &h4, 24), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(h, lan, &h6, 64), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(r, lan, &r4, 24), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(r, lan, &r6, 64), 0);
  memset(&any6, 0, sizeof(any6));
  any6.family = 6;
  u6 = open_on(h, any6, 0, &st);
  u4 = open_on(h, ethp2p_addr_v4(0, 0, 0, 0, 0), 0, &st);

  /* none yet: not found (zeroed), and off-link IPv6 is unreachable */
  memset(&got, 0xff, sizeof(got));
  ck_assert_int_eq(ethp2p_env_default_gateway6(ethp2p_sim_host_env(h), &got), ETHP2P_ENOTFOUND);
  ck_assert_uint_eq(got.family, 0);
  ck_assert_int_eq(ethp2p_udp_send(u6, &far6, &byte, 1), ETHP2P_ENETUNREACH);

  /* the IPv4 gateway alone does not route IPv6 */
  ethp2p_sim_host_set_gateway(h, &r4);
  ck_assert_int_eq(ethp2p_env_default_gateway6(ethp2p_sim_host_env(h), &got), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_udp_send(u6, &far6, &byte, 1), ETHP2P_ENETUNREACH);

  /* both: each family has its own next hop, and both packets reach the router */
  ethp2p_sim_host_set_gateway6(h, &r6);
  ck_assert_int_eq(ethp2p_env_default_gateway6(ethp2p_sim_host_env(h), &got), 0);
  ck_assert(ethp2p_addr_equal(&got, &r6, false));
  ck_assert_int_eq(ethp2p_env_default_gateway(ethp2p_sim_host_env(h), &got), 0);
  ck_assert(ethp2p_addr_equal(&got, &r4, false));
  ck_assert_int_eq(ethp2p_udp_send(u6, &far6, &byte, 1), 0);
  ck_assert_int_eq(ethp2p_udp_send(u4, &far4, &byte, 1), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, ethp2p_sim_drops(w, ETHP2P_SIM_DROP_NOT_ROUTED) == 2); /* r does not forward */

  /* clearing the router keeps the IPv4 gateway; set_gateway with an IPv6 address sets it */
  ethp2p_sim_host_set_gateway6(h, NULL);
  ck_assert_int_eq(ethp2p_env_default_gateway6(ethp2p_sim_host_env(h), &got), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_env_default_gateway(ethp2p_sim_host_env(h), &got), 0);
  ck_assert_int_eq(ethp2p_udp_send(u6, &far6, &byte, 1), ETHP2P_ENETUNREACH);
  ethp2p_sim_host_set_gateway(h, &r6);
  ck_assert_int_eq(ethp2p_env_default_gateway6(ethp2p_sim_host_env(h), &got), 0);
  ck_assert(ethp2p_addr_equal(&got, &r6, false));
  ck_assert_int_eq(ethp2p_env_default_gateway(ethp2p_sim_host_env(h), &got), 0);
  ck_assert(ethp2p_addr_equal(&got, &r4, false));
  ethp2p_udp_close(u6);
  ethp2p_udp_close(u4);
  ethp2p_sim_destroy(w);
}
END_TEST

static void close_in_cb(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  int *n = data;
  (void)from;
  (void)buf;
  (void)len;
  (*n)++;
  ethp2p_udp_close(u);
}

START_TEST(no_callback_after_close_even_with_packets_in_flight) {
  ethp2p_sim *w;
  ethp2p_sim_host *a, *b;
  ethp2p_udp *ua, *ub;
  int got = 0;
  rxstat sa;
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 9000), to;
  memset(&sa, 0, sizeof(sa));
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &a, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &b, "b", NULL), 0);
  ua = open_on(a, ethp2p_addr_v4(0, 0, 0, 0, 0), 0, &sa);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(b), &ub, &any, 0, close_in_cb, &got), 0);
  to = ethp2p_sim_host_addr(b);
  to.port = 9000;
  send_stamped(ua, to, 1);
  send_stamped(ua, to, 2); /* arrives after the socket closed itself */
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(got, 1);
  ck_assert_uint_eq(ethp2p_sim_drops(w, ETHP2P_SIM_DROP_NO_SOCKET), 1);
  ethp2p_udp_close(ua);
  ethp2p_sim_destroy(w);
}
END_TEST

/* ---- TCP --------------------------------------------------------------------------- */
typedef struct tprobe {
  int connects, status, accepts, eof;
  char got[256];
  size_t got_len;
  ethp2p_tcp *srv;
  bool echo;
} tprobe;

static void t_read(ethp2p_tcp *c, int status, const uint8_t *buf, size_t len, void *data) {
  tprobe *p = data;
  if (status != 0) {
    p->eof = status;
    return;
  }
  if (p->got_len + len <= sizeof(p->got)) {
    memcpy(p->got + p->got_len, buf, len);
    p->got_len += len;
  }
  if (p->echo) {
    ck_assert_int_eq(ethp2p_tcp_write(c, buf, len), 0);
    ck_assert_int_eq(ethp2p_tcp_shutdown(c), 0);
  }
}

static void t_accept(ethp2p_tcp *l, ethp2p_tcp *c, void *data) {
  tprobe *p = data;
  (void)l;
  p->accepts++;
  p->srv = c;
  ck_assert_int_eq(ethp2p_tcp_read_start(c, t_read, p), 0);
}

static void t_connect(ethp2p_tcp *c, int status, void *data) {
  tprobe *p = data;
  (void)c;
  p->connects++;
  p->status = status;
}

START_TEST(tcp_connect_data_fin_and_buffered_reads) {
  ethp2p_sim *w;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *cl, *sv;
  ethp2p_tcp *l, *c;
  tprobe ps, pc;
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 80), to, la, pa;
  memset(&ps, 0, sizeof(ps));
  memset(&pc, 0, sizeof(pc));
  ps.echo = true;
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &box, "home", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &cl, "client", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &sv, "web", NULL), 0);
  ck_assert_int_eq(ethp2p_tcp_listen(ethp2p_sim_host_env(sv), &l, &any, t_accept, &ps), 0);
  {
    ethp2p_tcp *l2 = NULL;
    ck_assert_int_eq(ethp2p_tcp_listen(ethp2p_sim_host_env(sv), &l2, &any, t_accept, &ps),
                     ETHP2P_EADDRINUSE);
  }
  to = ethp2p_sim_host_addr(sv);
  to.port = 80;
  ck_assert_int_eq(ethp2p_tcp_connect(ethp2p_sim_host_env(cl), &c, &to, NULL, t_connect, &pc), 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(c, t_read, &pc), ETHP2P_ESTATE); /* not connected yet */
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, pc.connects == 1 && pc.status == 0 && ps.accepts == 1);
  /* Handshake crosses the WAN twice (20 ms) and the LAN twice (1 ms). */
  ck_assert_int_eq(ethp2p_tcp_local_addr(c, &la), 0);
  ck_assert_int_eq(ethp2p_tcp_peer_addr(ps.srv, &pa), 0);
  {
    ethp2p_addr e = ethp2p_sim_nat_external_addr(box);
    SIM_ASSERT(w, ethp2p_addr_equal(&pa, &e, false)); /* the server sees the NAT */
  }
  ck_assert_int_eq(ethp2p_tcp_write(c, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  /* The echo and FIN are buffered until the client reads. */
  ck_assert_uint_eq(pc.got_len, 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(c, t_read, &pc), 0);
  ck_assert_uint_eq(pc.got_len, 0); /* never inside read_start */
  ethp2p_sim_run(w, 0);
  SIM_ASSERT(w, pc.got_len == 18 && memcmp(pc.got, "GET / HTTP/1.1\r\n\r\n", 18) == 0);
  SIM_ASSERT(w, pc.eof == ETHP2P_ECLOSED);
  SIM_ASSERT(w, ps.got_len == 18);
  ethp2p_tcp_close(c);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, ps.eof == ETHP2P_ECLOSED);
  ethp2p_tcp_close(ps.srv);
  ethp2p_tcp_close(l);
  ethp2p_sim_destroy(w);
}
END_TEST

START_TEST(tcp_refused_timed_out_unreachable_and_reset) {
  ethp2p_sim *w;
  ethp2p_sim_host *a, *b, *lonely;
  ethp2p_sim_net *lan;
  ethp2p_tcp *c1, *c2, *c3, *l, *c4;
  tprobe p1, p2, p3, p4, ps;
  ethp2p_addr to, nobody = ethp2p_addr_v4(20, 9, 9, 9, 80),
                  lan_addr = ethp2p_addr_v4(10, 0, 0, 2, 0);
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 81);
  memset(&p1, 0, sizeof(p1));
  memset(&p2, 0, sizeof(p2));
  memset(&p3, 0, sizeof(p3));
  memset(&p4, 0, sizeof(p4));
  memset(&ps, 0, sizeof(ps));
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ethp2p_sim_set_tcp_connect_timeout(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &a, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &b, "b", NULL), 0);
  to = ethp2p_sim_host_addr(b);
  to.port = 80;
  ck_assert_int_eq(ethp2p_tcp_connect(ethp2p_sim_host_env(a), &c1, &to, NULL, t_connect, &p1), 0);
  ck_assert_int_eq(ethp2p_tcp_connect(ethp2p_sim_host_env(a), &c2, &nobody, NULL, t_connect, &p2),
                   0);
  ck_assert_int_eq(ethp2p_sim_net_create(w, &lan, "lan"), 0);
  ck_assert_int_eq(ethp2p_sim_host_create(w, &lonely, "lonely"), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(lonely, lan, &lan_addr, 24), 0);
  ck_assert_int_eq(ethp2p_tcp_connect(ethp2p_sim_host_env(lonely), &c3, &to, NULL, t_connect, &p3),
                   0);
  ck_assert_int_eq(p3.connects, 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, p1.connects == 1 && p1.status == ETHP2P_ECONNREFUSED);
  SIM_ASSERT(w, p3.connects == 1 && p3.status == ETHP2P_ENETUNREACH);
  SIM_ASSERT(w, p2.connects == 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  SIM_ASSERT(w, p2.connects == 1 && p2.status == ETHP2P_ETIMEDOUT);
  /* Writing to a peer that closed gets a reset. */
  ck_assert_int_eq(ethp2p_tcp_listen(ethp2p_sim_host_env(b), &l, &any, t_accept, &ps), 0);
  to.port = 81;
  ck_assert_int_eq(ethp2p_tcp_connect(ethp2p_sim_host_env(a), &c4, &to, NULL, t_connect, &p4), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(p4.status, 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(c4, t_read, &p4), 0);
  ethp2p_tcp_close(ps.srv);
  ethp2p_sim_run(w, ETHP2P_SEC);
  SIM_ASSERT(w, p4.eof == ETHP2P_ECLOSED);
  ck_assert_int_eq(ethp2p_tcp_write(c4, (const uint8_t *)"late", 4), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_tcp_write(c4, (const uint8_t *)"late", 4), ETHP2P_ECONNRESET);
  ethp2p_tcp_close(c1);
  ethp2p_tcp_close(c2);
  ethp2p_tcp_close(c3);
  ethp2p_tcp_close(c4);
  ethp2p_tcp_close(l);
  ethp2p_sim_destroy(w);
}
END_TEST

START_TEST(tcp_over_loopback_on_one_host) {
  ethp2p_sim *w;
  ethp2p_sim_host *a;
  ethp2p_tcp *l, *c;
  tprobe ps, pc;
  ethp2p_addr lo = ethp2p_addr_v4(127, 0, 0, 1, 0), la;
  memset(&ps, 0, sizeof(ps));
  memset(&pc, 0, sizeof(pc));
  ps.echo = true;
  ck_assert_int_eq(ethp2p_sim_create(&w, SEED), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &a, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_tcp_listen(ethp2p_sim_host_env(a), &l, &lo, t_accept, &ps), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(l, &la), 0);
  ck_assert_uint_ne(la.port, 0);
  ck_assert_int_eq(ethp2p_tcp_connect(ethp2p_sim_host_env(a), &c, &la, NULL, t_connect, &pc), 0);
  ethp2p_sim_run(w, 0);
  SIM_ASSERT(w, pc.connects == 1 && pc.status == 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(c, t_read, &pc), 0);
  ck_assert_int_eq(ethp2p_tcp_write(c, (const uint8_t *)"abc", 3), 0);
  ethp2p_sim_run(w, 0);
  SIM_ASSERT(w, pc.got_len == 3 && pc.eof == ETHP2P_ECLOSED);
  ck_assert_uint_eq(ethp2p_sim_now(w), ETHP2P_SIM_START); /* loopback takes no time */
  ethp2p_tcp_close(c);
  ethp2p_tcp_close(ps.srv);
  ethp2p_tcp_close(l);
  ethp2p_sim_destroy(w);
}
END_TEST

/* ---- determinism ------------------------------------------------------------------- */
static void chatter_cb(ethp2p_timer *t, void *data) {
  ethp2p_udp *u = data;
  ethp2p_addr to = ethp2p_addr_v4(20, 0, 0, 1, 9000);
  uint8_t r[4];
  ethp2p_env_random(t->env, r, sizeof(r));
  ck_assert_int_eq(ethp2p_udp_send(u, &to, r, sizeof(r)), 0);
  ethp2p_timer_start(t, ethp2p_env_now(t->env) + (r[0] + 1) * ETHP2P_MSEC);
}

static void echo_cb(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                    void *data) {
  (void)data;
  ck_assert_int_eq(ethp2p_udp_send(u, from, buf, len), 0);
}

static void sink_rx(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                    void *data) {
  (void)u;
  (void)from;
  (void)buf;
  (void)len;
  (*(int *)data)++;
}

static uint64_t scenario_hash(uint64_t seed, int *received) {
  ethp2p_sim *w;
  ethp2p_sim_host *srv, *hosts[4];
  ethp2p_sim_nat *box;
  ethp2p_sim_nat_config cfg = ethp2p_sim_nat_config_default();
  ethp2p_sim_link link = {30 * ETHP2P_MSEC, 20 * ETHP2P_MSEC, 0.05};
  ethp2p_udp *us, *uh[4];
  ethp2p_timer *th[4];
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 9000);
  uint64_t h;
  int i;
  ck_assert_int_eq(ethp2p_sim_create(&w, seed), 0);
  ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_internet(w), &link), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &srv, "srv", NULL), 0);
  cfg.mapping = ETHP2P_NAT_POLICY_APD;
  cfg.allocation = ETHP2P_NAT_ALLOC_RANDOM;
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &box, "home", &cfg), 0);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(srv), &us, &any, 0, echo_cb, NULL), 0);
  for (i = 0; i < 4; i++) {
    ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &hosts[i], "h", NULL), 0);
    ck_assert_int_eq(
        ethp2p_udp_open(ethp2p_sim_host_env(hosts[i]), &uh[i], NULL, 0, sink_rx, received), 0);
    ck_assert_int_eq(ethp2p_timer_create(ethp2p_sim_host_env(hosts[i]), &th[i], chatter_cb, uh[i]),
                     0);
    ethp2p_timer_start(th[i], ethp2p_sim_now(w));
  }
  ethp2p_sim_run(w, ETHP2P_MIN);
  h = ethp2p_sim_trace_hash(w);
  for (i = 0; i < 4; i++) {
    ethp2p_timer_destroy(th[i]);
    ethp2p_udp_close(uh[i]);
  }
  ethp2p_udp_close(us);
  ethp2p_sim_destroy(w);
  return h;
}

START_TEST(same_seed_gives_the_same_trace_hash_and_another_seed_does_not) {
  int r1 = 0, r2 = 0, r3 = 0;
  uint64_t h1 = scenario_hash(42, &r1), h2 = scenario_hash(42, &r2), h3 = scenario_hash(43, &r3);
  ck_assert_int_gt(r1, 100);
  ck_assert_int_eq(r1, r2);
  ck_assert_uint_eq(h1, h2);
  ck_assert_uint_ne(h1, h3);
}
END_TEST

static int sink_lines;
static void text_sink(void *data, ethp2p_time now, const char *line) {
  (void)data;
  (void)now;
  ck_assert_ptr_nonnull(line);
  sink_lines++;
}

START_TEST(text_sink_sees_events_without_changing_the_hash) {
  ethp2p_sim *w1, *w2;
  ethp2p_sim_host *a1, *a2;
  ethp2p_udp *u1, *u2;
  int r = 0;
  ethp2p_addr to = ethp2p_addr_v4(20, 0, 0, 1, 5);
  ck_assert_int_eq(ethp2p_sim_create(&w1, 7), 0);
  ck_assert_int_eq(ethp2p_sim_create(&w2, 7), 0);
  ethp2p_sim_set_trace_sink(w2, text_sink, NULL);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w1, &a1, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w2, &a2, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(a1), &u1, NULL, 0, sink_rx, &r), 0);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(a2), &u2, NULL, 0, sink_rx, &r), 0);
  ck_assert_int_eq(ethp2p_udp_send(u1, &to, (const uint8_t *)"x", 1), 0);
  ck_assert_int_eq(ethp2p_udp_send(u2, &to, (const uint8_t *)"x", 1), 0);
  ethp2p_sim_run(w1, ETHP2P_SEC);
  ethp2p_sim_run(w2, ETHP2P_SEC);
  ck_assert_int_ge(sink_lines, 2); /* send, then drop (no socket on port 5) */
  ck_assert_uint_eq(ethp2p_sim_trace_hash(w1), ethp2p_sim_trace_hash(w2));
  ck_assert_str_eq(ethp2p_sim_drop_name(ETHP2P_SIM_DROP_FILTERED), "filtered");
  ethp2p_udp_close(u1);
  ethp2p_udp_close(u2);
  ethp2p_sim_destroy(w1);
  ethp2p_sim_destroy(w2);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_net");
  TCase *tc = tcase_create("net");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, multicast_reaches_joined_lan_hosts_and_not_beyond);
  tcase_add_test(tc, all_hosts_announcements_reach_wildcard_sockets_on_the_lan);
  tcase_add_test(tc, measured_loss_matches_the_setting);
  tcase_add_test(tc, measured_latency_and_jitter_match_the_setting);
  tcase_add_test(tc, udp_bind_rules_and_unreachable_destinations);
  tcase_add_test(tc, no_callback_after_close_even_with_packets_in_flight);
  tcase_add_test(tc, ipv6_hosts_exchange_datagrams_on_the_internet);
  tcase_add_test(tc, ipv6_default_router_is_reported_and_routes_ipv6_only);
  tcase_add_test(tc, tcp_connect_data_fin_and_buffered_reads);
  tcase_add_test(tc, tcp_refused_timed_out_unreachable_and_reset);
  tcase_add_test(tc, tcp_over_loopback_on_one_host);
  tcase_add_test(tc, same_seed_gives_the_same_trace_hash_and_another_seed_does_not);
  tcase_add_test(tc, text_sink_sees_events_without_changing_the_hash);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
