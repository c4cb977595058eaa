/*
 * tests/check_env_uv6.c — IPv6 in the libuv environment, on loopback only:
 * UDP and TCP over [::1], IPv6-only sockets (both families share a port), IPv6
 * interface addresses with their index and zone, and the IPv6 default router
 * from /proc/net/ipv6_route (the parser on fixed tables, and the live call
 * against the parser on the live file).  Needs ::1 on lo, as any Linux host with
 * IPv6 enabled has; a host without it fails loudly rather than skipping.
 * Every test ends with ethp2p_uvenv_destroy + uv_loop_close() == 0.
 */
#include <check.h>
#include <net/if.h>
#include <stdint.h>
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
/* Runs the loop until *done or ms milliseconds passed (a deadline on the clock). */
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

/* ==== UDP ==================================================================== */

typedef struct peer {
  ethp2p_udp *u;
  ethp2p_addr self, from;
  int got;
  bool echo;
  bool *done;
} peer;

static void on_udp(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                   void *data) {
  peer *p = data;
  p->got++;
  p->from = *from;
  if (p->echo)
    ck_assert_int_eq(ethp2p_udp_send(u, from, buf, len), 0);
  if (p->done != NULL)
    *p->done = true;
}

static int peer_open(peer *p, ethp2p_addr bind) {
  int rc;
  memset(p, 0, sizeof(*p));
  rc = ethp2p_udp_open(env, &p->u, &bind, 0, on_udp, p);
  if (rc == 0)
    ck_assert_int_eq(ethp2p_udp_local_addr(p->u, &p->self), 0);
  return rc;
}

START_TEST(udp_over_ipv6_loopback_echoes_with_ipv6_source_addresses) {
  peer srv, cli;
  bool done = false;
  const uint8_t msg[] = "ping6";
  int rc = peer_open(&srv, ip("::1", 0));
  ck_assert_msg(rc == 0, "cannot bind [::1]: %s (IPv6 disabled on lo?)", ethp2p_strerror(rc));
  ck_assert_int_eq(peer_open(&cli, ip("::1", 0)), 0);
  ck_assert_uint_eq(srv.self.family, 6);
  ck_assert_uint_ne(srv.self.port, 0);
  srv.echo = true;
  cli.done = &done;
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, msg, sizeof(msg)), 0);
  ck_assert(run_until(&done, 2000));
  ck_assert_int_eq(srv.got, 1);
  ck_assert_uint_eq(srv.from.family, 6);
  ck_assert(ethp2p_addr_equal(&srv.from, &cli.self, true));
  ck_assert(ethp2p_addr_equal(&cli.from, &srv.self, true));
  ck_assert_uint_eq(cli.from.scope, 0); /* ::1 has no zone */
  ethp2p_udp_close(srv.u);
  ethp2p_udp_close(cli.u);
}
END_TEST

START_TEST(ipv6_udp_sockets_are_v6only_so_both_families_share_a_port) {
  peer v6, v4, cli4;
  bool done = false;
  const uint8_t msg[] = "to v4";
  ethp2p_addr to;
  ck_assert_int_eq(peer_open(&v6, ip("::", 0)), 0);
  /* Without IPV6_V6ONLY, [::]:P also holds 0.0.0.0:P and this bind fails. */
  int rc = peer_open(&v4, ethp2p_addr_v4(0, 0, 0, 0, v6.self.port));
  ck_assert_msg(rc == 0, "IPv4 bind on the port of [::] failed: %s", ethp2p_strerror(rc));
  ck_assert_int_eq(peer_open(&cli4, ethp2p_addr_v4(127, 0, 0, 1, 0)), 0);
  v4.done = &done;
  to = ethp2p_addr_v4(127, 0, 0, 1, v6.self.port);
  ck_assert_int_eq(ethp2p_udp_send(cli4.u, &to, msg, sizeof(msg)), 0);
  ck_assert(run_until(&done, 2000));
  ck_assert_int_eq(v4.got, 1);
  ck_assert_int_eq(v6.got, 0); /* no ::ffff:127.0.0.1 on the IPv6 socket */
  ck_assert_uint_eq(v4.from.family, 4);
  /* An IPv6 socket cannot send to an IPv4 address. */
  ck_assert_int_ne(ethp2p_udp_send(v6.u, &to, msg, sizeof(msg)), 0);
  ethp2p_udp_close(v6.u);
  ethp2p_udp_close(v4.u);
  ethp2p_udp_close(cli4.u);
}
END_TEST

START_TEST(ipv6_multicast_membership_checks_group_and_interface_family) {
  peer rx;
  ethp2p_addr all_nodes = ip("ff02::1", 0), v4if = ethp2p_addr_v4(127, 0, 0, 1, 0);
  ethp2p_addr unicast = ip("2001:db8::1", 0), v4group = ethp2p_addr_v4(239, 255, 255, 250, 0);
  ck_assert_int_eq(peer_open(&rx, ip("::", 0)), 0);
  /* These are refused before any socket option (so before any MLD report). */
  ck_assert_int_eq(ethp2p_udp_join(rx.u, &unicast, NULL), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_udp_join(rx.u, &all_nodes, &v4if), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_udp_join(rx.u, &v4group, NULL),
                   ETHP2P_EINVAL); /* IPv4 group, v6 socket */
  ethp2p_udp_close(rx.u);
}
END_TEST

/* ==== TCP ==================================================================== */

typedef struct tcp6_world {
  ethp2p_tcp *listener, *srv, *cli;
  ethp2p_addr addr, srv_peer, cli_local;
  int connect_status;
  bool connected, got_bytes;
  char rx[16];
} tcp6_world;

static tcp6_world T;

static void on_srv_read(ethp2p_tcp *c, int status, const uint8_t *buf, size_t len, void *data) {
  (void)c;
  (void)data;
  if (status == 0 && len < sizeof(T.rx)) {
    memcpy(T.rx, buf, len);
    T.got_bytes = true;
  }
}

static void on_accept6(ethp2p_tcp *l, ethp2p_tcp *c, void *data) {
  (void)l;
  (void)data;
  T.srv = c;
  ck_assert_int_eq(ethp2p_tcp_peer_addr(c, &T.srv_peer), 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(c, on_srv_read, NULL), 0);
}

static void on_connect6(ethp2p_tcp *c, int status, void *data) {
  (void)data;
  T.connect_status = status;
  T.connected = true;
  if (status == 0) {
    ck_assert_int_eq(ethp2p_tcp_local_addr(c, &T.cli_local), 0);
    ck_assert_int_eq(ethp2p_tcp_write(c, (const uint8_t *)"hello6", 6), 0);
  }
}

START_TEST(tcp_over_ipv6_loopback_connects_and_reports_ipv6_peers) {
  ethp2p_addr b = ip("::1", 0);
  memset(&T, 0, sizeof(T));
  ck_assert_int_eq(ethp2p_tcp_listen(env, &T.listener, &b, on_accept6, NULL), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(T.listener, &T.addr), 0);
  ck_assert_uint_eq(T.addr.family, 6);
  ck_assert_int_eq(ethp2p_tcp_connect(env, &T.cli, &T.addr, NULL, on_connect6, NULL), 0);
  ck_assert(run_until(&T.got_bytes, 2000));
  ck_assert_int_eq(T.connect_status, 0);
  ck_assert_str_eq(T.rx, "hello6");
  ck_assert_uint_eq(T.srv_peer.family, 6);
  ck_assert(ethp2p_addr_equal(&T.srv_peer, &T.cli_local, true));
  ck_assert(ethp2p_addr_is_loopback(&T.srv_peer));
  ethp2p_tcp_close(T.srv);
  ethp2p_tcp_close(T.cli);
  ethp2p_tcp_close(T.listener);
}
END_TEST

static void on_accept_close(ethp2p_tcp *l, ethp2p_tcp *c, void *data) {
  (void)l;
  (void)data;
  ethp2p_tcp_close(c);
}

START_TEST(ipv6_tcp_listeners_are_v6only_so_both_families_share_a_port) {
  ethp2p_tcp *l6 = NULL, *l4 = NULL, *c = NULL;
  ethp2p_addr any6 = ip("::", 0), a6, any4, to4, from6 = ip("::1", 0);
  int rc;
  memset(&T, 0, sizeof(T));
  ck_assert_int_eq(ethp2p_tcp_listen(env, &l6, &any6, on_accept_close, NULL), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(l6, &a6), 0);
  any4 = ethp2p_addr_v4(0, 0, 0, 0, a6.port);
  rc = ethp2p_tcp_listen(env, &l4, &any4, on_accept_close, NULL);
  ck_assert_msg(rc == 0, "IPv4 listen on the port of [::] failed: %s", ethp2p_strerror(rc));
  /* A connection from an IPv6 source to an IPv4 address is a caller error. */
  to4 = ethp2p_addr_v4(127, 0, 0, 1, a6.port);
  ck_assert_int_eq(ethp2p_tcp_connect(env, &c, &to4, &from6, on_connect6, NULL), ETHP2P_EINVAL);
  ck_assert_ptr_null(c);
  ck_assert_int_eq(ethp2p_tcp_connect(env, &c, &to4, NULL, on_connect6, NULL), 0);
  ck_assert(run_until(&T.connected, 2000));
  ck_assert_int_eq(T.connect_status, 0);
  ck_assert_uint_eq(T.cli_local.family, 4);
  ethp2p_tcp_close(c);
  ethp2p_tcp_close(l4);
  ethp2p_tcp_close(l6);
}
END_TEST

/* ==== interfaces ============================================================= */

/* Counts the IPv6 addresses in /proc/net/if_inet6 (one line each); -1 if absent. */
static int if_inet6_count(bool *has_lo) {
  char line[256];
  int n = 0;
  FILE *f = fopen("/proc/net/if_inet6", "r");
  *has_lo = false;
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "00000000000000000000000000000001 ", 33) == 0)
      *has_lo = true;
    n++;
  }
  fclose(f);
  return n;
}

START_TEST(interfaces_list_every_ipv6_address_with_its_index_and_zone) {
  ethp2p_iface ifs[128];
  size_t n = 0, v6 = 0;
  bool has_lo, seen_lo = false;
  int want = if_inet6_count(&has_lo);
  ck_assert_msg(want > 0 && has_lo, "the host has no ::1 (IPv6 disabled?)");
  ck_assert_int_eq(ethp2p_env_interfaces(env, ifs, 128, &n), 0);
  for (size_t i = 0; i < n; i++) {
    const ethp2p_addr *a = &ifs[i].addr;
    bool link = a->family == 6 && a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80;
    ck_assert_uint_eq(ifs[i].index, if_nametoindex(ifs[i].name));
    ck_assert_uint_ne(ifs[i].index, 0);
    if (a->family != 6)
      continue;
    v6++;
    ck_assert_uint_eq(a->scope, link ? ifs[i].index : 0);
    ck_assert_uint_le(ifs[i].prefix_len, 128);
    if (ethp2p_addr_is_loopback(a)) {
      seen_lo = true;
      ck_assert(ifs[i].loopback);
      ck_assert_uint_eq(ifs[i].prefix_len, 128);
    }
  }
  ck_assert(seen_lo);
  ck_assert_uint_eq(v6, (size_t)want);
}
END_TEST

/* ==== the IPv6 default router =============================================== */

typedef struct route6_case {
  const char *name;
  const char *text;
  int rc;
  const char *gw;
  const char *dev;
} route6_case;

#define Z32 "00000000000000000000000000000000"
#define FE80_1 "fe800000000000000000000000000001"
#define FD00_1 "fd000000000000000000000000000001"
#define DEFAULT6(gw, metric, flags, dev)                                                           \
  Z32 " 00 " Z32 " 00 " gw " " metric " 00000001 00000000 " flags " " dev "\n"

static const route6_case route6_cases[] = {
    {"this container's table",
     "fd000000000000000000000000000000 40 " Z32 " 00 " Z32
     " 00000100 00000001 00000000 00000001     eth0\n" DEFAULT6(
         FD00_1, "00000400", "00000003",
         "    eth0") "00000000000000000000000000000001 80 " Z32 " 00 " Z32
                     " 00000000 00000002 00000000 80200001       lo\n" Z32 " 00 " Z32 " 00 " Z32
                     " ffffffff 00000001 00000000 00200200       lo\n",
     0, "fd00::1", "eth0"},
    {"link-local router (router advertisement)", DEFAULT6(FE80_1, "00000400", "00450003", "wlp3s0"),
     0, "fe80::1", "wlp3s0"},
    {"lowest metric wins",
     DEFAULT6(FE80_1, "00000258", "00000003", "wlan0")
         DEFAULT6(FD00_1, "00000064", "00000003", "eth0"),
     0, "fd00::1", "eth0"},
    {"tie keeps the first",
     DEFAULT6(FE80_1, "00000064", "00000003", "a") DEFAULT6(FD00_1, "00000064", "00000003", "b"), 0,
     "fe80::1", "a"},
    {"reject route on lo only (no IPv6 uplink)",
     Z32 " 00 " Z32 " 00 " Z32 " ffffffff 00000001 00000000 00200200       lo\n", ETHP2P_ENOTFOUND,
     NULL, NULL},
    {"reject flag with a gateway is still no route",
     DEFAULT6(FE80_1, "00000001", "00000203", "eth0"), ETHP2P_ENOTFOUND, NULL, NULL},
    {"default without a next hop (point-to-point)", DEFAULT6(Z32, "00000400", "00000001", "wg0"),
     ETHP2P_ENOTFOUND, NULL, NULL},
    {"gateway flag without up", DEFAULT6(FE80_1, "00000400", "00000002", "eth0"), ETHP2P_ENOTFOUND,
     NULL, NULL},
    {"a /64 is not the default route",
     "20010db8000000000000000000000000 40 " Z32 " 00 " FE80_1
     " 00000400 00000001 00000000 00000003 eth0\n",
     ETHP2P_ENOTFOUND, NULL, NULL},
    {"junk lines are skipped",
     "garbage\n\n   \n" Z32 " 0 " Z32 " 00 " FE80_1
     " 00000001 00000001 00000000 00000003 short-len\n" Z32 " 00 " Z32
     " 00 fe80000000000000000000000000001 00000001 00000001 00000000 00000003 short\n" Z32
     " 00 " Z32 " 00 fe80000000000000000000000000000g 00000001 00000001 00000000 00000003 hex\n" Z32
     " 00 " Z32 " 00 " FE80_1 " 00000001 00000001 00000000 00000003 eth0 extra\n" Z32 " 00 " Z32
     " 00 " FE80_1 " 00000001 00000001 00000000 00000003 a-name-longer-than15\n" DEFAULT6(
         FD00_1, "00000400", "00000003", "eth1"),
     0, "fd00::1", "eth1"},
    {"truncated last line", Z32 " 00 " Z32 " 00 " FE80_1 " 00000400 00000001", ETHP2P_ENOTFOUND,
     NULL, NULL},
    {"no trailing newline, tabs and CRLF",
     Z32 "\t00\t" Z32 "\t00\t" FE80_1 "\t00000400\t00000001\t00000000\t00000003\teth0\r", 0,
     "fe80::1", "eth0"},
    {"upper-case hex", DEFAULT6("FE800000000000000000000000000001", "00000400", "00000003", "eth0"),
     0, "fe80::1", "eth0"},
    {"empty", "", ETHP2P_ENOTFOUND, NULL, NULL},
};

START_TEST(route6_parser_picks_the_best_default_router_and_skips_junk) {
  const route6_case *c = &route6_cases[_i];
  ethp2p_addr gw, want;
  char dev[16];
  int rc;
  memset(&gw, 0xee, sizeof(gw));
  memset(dev, 'x', sizeof(dev));
  rc = ethp2p_uvenv_route6_parse(c->text, strlen(c->text), &gw, dev, sizeof(dev));
  ck_assert_msg(rc == c->rc, "%s: rc=%d want %d", c->name, rc, c->rc);
  if (c->gw == NULL) {
    static const ethp2p_addr zero;
    ck_assert(memcmp(&gw, &zero, sizeof(gw)) == 0);
    ck_assert_str_eq(dev, "");
    return;
  }
  want = ip(c->gw, 0);
  ck_assert_msg(ethp2p_addr_equal(&gw, &want, true), "%s", c->name);
  ck_assert_uint_eq(gw.scope, 0);
  ck_assert_str_eq(dev, c->dev);
}
END_TEST

START_TEST(route6_parser_respects_len_cuts_the_name_and_checks_arguments) {
  const char *text = DEFAULT6(FE80_1, "00000400", "00000003", "eth0");
  ethp2p_addr gw;
  char dev[3];
  ck_assert_int_eq(ethp2p_uvenv_route6_parse(text, strlen(text), &gw, NULL, 0), 0);
  ck_assert_int_eq(ethp2p_uvenv_route6_parse(text, 40, &gw, NULL, 0), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_uvenv_route6_parse(text, strlen(text), &gw, dev, sizeof(dev)), 0);
  ck_assert_str_eq(dev, "et");
  ck_assert_int_eq(ethp2p_uvenv_route6_parse(NULL, 0, &gw, NULL, 0), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_uvenv_route6_parse(text, strlen(text), NULL, NULL, 0), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_uvenv_route6_parse(text, strlen(text), &gw, NULL, 4), ETHP2P_EINVAL);
}
END_TEST

/* Found by fuzz_env_route6: a NUL inside the device field made an empty name. */
START_TEST(route6_parser_refuses_device_names_with_nul_or_control_bytes) {
  static const char nul[] = Z32 " 00 " Z32 " 00 " FE80_1 " 00000400 00000001 00000000 00000003 "
                                "\0\0eth0\n";
  static const char ctl[] = Z32 " 00 " Z32 " 00 " FE80_1 " 00000400 00000001 00000000 00000003 "
                                "et\x01h0\n";
  ethp2p_addr gw;
  char dev[16];
  ck_assert_int_eq(ethp2p_uvenv_route6_parse(nul, sizeof(nul) - 1, &gw, dev, sizeof(dev)),
                   ETHP2P_ENOTFOUND);
  ck_assert_str_eq(dev, "");
  ck_assert_int_eq(ethp2p_uvenv_route6_parse(ctl, sizeof(ctl) - 1, &gw, dev, sizeof(dev)),
                   ETHP2P_ENOTFOUND);
}
END_TEST

START_TEST(default_gateway6_is_what_the_parser_reads_in_the_live_table) {
  char *text = malloc(1 << 20), dev[16];
  size_t len;
  ethp2p_addr want, got;
  int want_rc, rc;
  FILE *f = fopen("/proc/net/ipv6_route", "r");
  ck_assert_ptr_nonnull(text);
  ck_assert_msg(f != NULL, "no /proc/net/ipv6_route (IPv6 disabled?)");
  len = fread(text, 1, 1 << 20, f);
  fclose(f);
  want_rc = ethp2p_uvenv_route6_parse(text, len, &want, dev, sizeof(dev));
  free(text);
  rc = ethp2p_env_default_gateway6(env, &got);
  ck_assert_int_eq(rc, want_rc);
  if (rc != 0) {
    ck_assert_uint_eq(got.family, 0);
    return;
  }
  ck_assert(ethp2p_addr_equal(&got, &want, true));
  if (got.ip[0] == 0xfe && (got.ip[1] & 0xc0) == 0x80)
    ck_assert_uint_eq(got.scope, if_nametoindex(dev));
  else
    ck_assert_uint_eq(got.scope, 0);
}
END_TEST

/* ==== IPv6 address state (/proc/net/if_inet6) =============================== */

#define IFINET6_TABLE                                                                              \
  "00000000000000000000000000000001 01 80 10 80       lo\n"                                        \
  "2a0104f80c1701f20000000000000020 02 40 00 80     eth0\n"                                        \
  "2a0104f80c1701f2a1b2c3d4e5f60718 02 40 00 01     eth0\n"                                        \
  "2a0104f80c1701f2000000000000dead 02 40 00 21     eth0\n"                                        \
  "2a0104f80c1701f20000000000000b0b 02 40 00 c8     eth0\n"                                        \
  "2a0104f80c1701f20000000000000020 13f 40 00 00   veth-a\n"                                       \
  "fe80000000000000020000fffe000001 02 40 20 80     eth0\n"

typedef struct flags_case {
  const char *ip, *dev;
  int rc;
  uint32_t flags;
} flags_case;

static const flags_case flags_cases[] = {
    {"::1", "lo", 0, ETHP2P_IFA_F_PERMANENT},
    {"2a01:4f8:c17:1f2::20", "eth0", 0, ETHP2P_IFA_F_PERMANENT},
    {"2a01:4f8:c17:1f2:a1b2:c3d4:e5f6:718", "eth0", 0, ETHP2P_IFA_F_TEMPORARY},
    {"2a01:4f8:c17:1f2::dead", "eth0", 0, ETHP2P_IFA_F_TEMPORARY | ETHP2P_IFA_F_DEPRECATED},
    {"2a01:4f8:c17:1f2::b0b", "eth0", 0,
     ETHP2P_IFA_F_PERMANENT | ETHP2P_IFA_F_TENTATIVE | ETHP2P_IFA_F_DADFAILED},
    {"2a01:4f8:c17:1f2::20", "veth-a", 0, 0}, /* same address, other device; index 0x13f */
    {"fe80::200:ff:fe00:1", "eth0", 0, ETHP2P_IFA_F_PERMANENT},
    {"2a01:4f8:c17:1f2::20", "eth1", ETHP2P_ENOTFOUND, 0},
    {"2a01:4f8:c17:1f2::21", "eth0", ETHP2P_ENOTFOUND, 0},
    {"::1", "l", ETHP2P_ENOTFOUND, 0}, /* the device name is compared whole */
};

START_TEST(if_inet6_parser_reads_the_flags_of_the_right_address_and_device) {
  const flags_case *c = &flags_cases[_i];
  const char *text = IFINET6_TABLE;
  ethp2p_addr a = ip(c->ip, 0);
  uint32_t fl = 0xdeadbeef;
  int rc = ethp2p_uvenv_if_inet6_flags(text, strlen(text), a.ip, c->dev, &fl);
  ck_assert_msg(rc == c->rc, "%s %s: rc %d want %d", c->ip, c->dev, rc, c->rc);
  ck_assert_uint_eq(fl, c->flags);
}
END_TEST

START_TEST(if_inet6_parser_skips_junk_and_checks_arguments) {
  static const char junk[] = "garbage\n\n"
                             "0000000000000000000000000000001 01 80 10 80 lo\n"    /* 31 digits */
                             "00000000000000000000000000000001 01 81 10 80 lo\n"   /* plen 129 */
                             "00000000000000000000000000000001 01 80 10 80 lo x\n" /* 7 fields */
                             "00000000000000000000000000000001 01 80 10 8g lo\n"   /* not hex */
                             "00000000000000000000000000000001 01 80 10 40 lo";    /* no newline */
  ethp2p_addr one = ip("::1", 0);
  uint32_t fl = 7;
  ck_assert_int_eq(ethp2p_uvenv_if_inet6_flags(junk, strlen(junk), one.ip, "lo", &fl), 0);
  ck_assert_uint_eq(fl, ETHP2P_IFA_F_TENTATIVE);
  ck_assert_int_eq(ethp2p_uvenv_if_inet6_flags(junk, strlen(junk) - 3, one.ip, "lo", &fl),
                   ETHP2P_ENOTFOUND);
  ck_assert_uint_eq(fl, 0);
  ck_assert_int_eq(ethp2p_uvenv_if_inet6_flags(NULL, 0, one.ip, "lo", &fl), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_uvenv_if_inet6_flags(junk, 4, NULL, "lo", &fl), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_uvenv_if_inet6_flags(junk, 4, one.ip, NULL, &fl), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_uvenv_if_inet6_flags(junk, 4, one.ip, "lo", NULL), ETHP2P_EINVAL);
}
END_TEST

START_TEST(interfaces_report_the_kernels_ipv6_address_state) {
  ethp2p_iface ifs[128];
  size_t n = 0;
  char *text = malloc(1 << 20);
  size_t len;
  FILE *f = fopen("/proc/net/if_inet6", "r");
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(f);
  len = fread(text, 1, 1 << 20, f);
  fclose(f);
  ck_assert_int_eq(ethp2p_env_interfaces(env, ifs, 128, &n), 0);
  for (size_t i = 0; i < n; i++) {
    uint32_t fl = 0;
    if (ifs[i].addr.family != 6) {
      ck_assert(!ifs[i].temporary && !ifs[i].deprecated && !ifs[i].tentative);
      continue;
    }
    ck_assert_int_eq(ethp2p_uvenv_if_inet6_flags(text, len, ifs[i].addr.ip, ifs[i].name, &fl), 0);
    ck_assert(ifs[i].temporary == ((fl & ETHP2P_IFA_F_TEMPORARY) != 0));
    ck_assert(ifs[i].deprecated == ((fl & ETHP2P_IFA_F_DEPRECATED) != 0));
    if (ethp2p_addr_is_loopback(&ifs[i].addr))
      ck_assert(!ifs[i].temporary && !ifs[i].deprecated && !ifs[i].tentative);
  }
  free(text);
}
END_TEST

/* An environment without the IPv6 op (like one written before it existed). */
static int no_gw(ethp2p_env *e, ethp2p_addr *gw) {
  (void)e;
  memset(gw, 0, sizeof(*gw));
  return ETHP2P_ENOTFOUND;
}

START_TEST(an_environment_without_ipv6_routes_says_unsupported) {
  ethp2p_env_ops ops;
  ethp2p_env fake;
  ethp2p_addr gw;
  memset(&ops, 0, sizeof(ops));
  ops.default_gateway = no_gw;
  fake.ops = &ops;
  fake.impl = NULL;
  memset(&gw, 0xee, sizeof(gw));
  ck_assert_int_eq(ethp2p_env_default_gateway6(&fake, &gw), ETHP2P_EUNSUPP);
  ck_assert_uint_eq(gw.family, 0);
  ck_assert_uint_eq(gw.scope, 0);
}
END_TEST

#define N(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))

int main(void) {
  Suite *s = suite_create("env_uv6");
  TCase *net = tcase_create("net"), *sys = tcase_create("sys");
  SRunner *sr;
  int failed;
  tcase_add_checked_fixture(net, setup, teardown);
  tcase_add_checked_fixture(sys, setup, teardown);
  tcase_set_timeout(net, 20);
  suite_add_tcase(s, net);
  suite_add_tcase(s, sys);
  tcase_add_test(net, udp_over_ipv6_loopback_echoes_with_ipv6_source_addresses);
  tcase_add_test(net, ipv6_udp_sockets_are_v6only_so_both_families_share_a_port);
  tcase_add_test(net, ipv6_multicast_membership_checks_group_and_interface_family);
  tcase_add_test(net, tcp_over_ipv6_loopback_connects_and_reports_ipv6_peers);
  tcase_add_test(net, ipv6_tcp_listeners_are_v6only_so_both_families_share_a_port);
  tcase_add_test(sys, interfaces_list_every_ipv6_address_with_its_index_and_zone);
  tcase_add_loop_test(sys, route6_parser_picks_the_best_default_router_and_skips_junk, 0,
                      N(route6_cases));
  tcase_add_test(sys, route6_parser_respects_len_cuts_the_name_and_checks_arguments);
  tcase_add_test(sys, route6_parser_refuses_device_names_with_nul_or_control_bytes);
  tcase_add_test(sys, default_gateway6_is_what_the_parser_reads_in_the_live_table);
  tcase_add_test(sys, an_environment_without_ipv6_routes_says_unsupported);
  tcase_add_loop_test(sys, if_inet6_parser_reads_the_flags_of_the_right_address_and_device, 0,
                      N(flags_cases));
  tcase_add_test(sys, if_inet6_parser_skips_junk_and_checks_arguments);
  tcase_add_test(sys, interfaces_report_the_kernels_ipv6_address_state);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
