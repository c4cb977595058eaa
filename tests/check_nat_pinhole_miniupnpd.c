/*
 * tests/check_nat_pinhole_miniupnpd.c — the pinhole client (nat/pinhole.h) against the real
 * miniupnpd with IPv6.  Run by tests/pinhole_miniupnpd_test.sh inside the LAN namespace it
 * builds, with:
 *   PINHOLE_LAB_URL    the WANIPv6FirewallControl:1 control URL from the device description
 *   PINHOLE_LAB_PROBE  a command; `PROBE <port>` exits 0 iff the WAN host can open a TCP
 *                      connection to our global address on that port
 *   PINHOLE_LAB_RULES  a command printing miniupnpd's nft chain (for the log)
 * Without them (a plain ctest run) it exits 77: skipped, not passed.
 * The second test gives no URL: the IPv6 NAT (nat/upnp6.h) discovers miniupnpd over IPv6
 * SSDP itself.  With PINHOLE_LAB_UPNP6_ONLY set (and no URL) only that test runs: the
 * script's second phase, where only the multicast search to [ff02::c] can find the router.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ethp2p/env.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/nat.h"
#include "nat/pinhole.h"
#include "nat/upnp6.h"

static uv_loop_t loop;
static ethp2p_env *env;
static const char *url, *probe_cmd, *rules_cmd;

typedef struct ev_log {
  ethp2p_pinhole_info last;
  int count[8];
  bool got;
} ev_log;

static void on_event(ethp2p_pinhole *p, const ethp2p_pinhole_info *info, void *data) {
  (void)p;
  ev_log *l = data;
  l->last = *info;
  l->count[info->event]++;
  l->got = true;
  char a[ETHP2P_ADDRSTRLEN];
  fprintf(stderr, "  event %d action=%s status=%s upnp_code=%d id=%u internal=%s retrying=%d\n",
          info->event, ethp2p_pinhole_action_name(info->action), ethp2p_err_name(info->status),
          info->upnp_code, info->unique_id, ethp2p_addr_format(&info->internal, true, a, sizeof a),
          info->retrying);
}

static void on_guard(uv_timer_t *t) {
  (void)t;
}

/* Runs the loop until l has an event of kind ev, or ms milliseconds (on the clock). */
static bool wait_event(ev_log *l, ethp2p_pinhole_event ev, int count, unsigned ms) {
  uv_timer_t guard;
  uint64_t limit = uv_hrtime() + (uint64_t)ms * 1000000u;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 5, 5);
  while (l->count[ev] < count && uv_hrtime() < limit)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return l->count[ev] >= count;
}

/* Keeps the loop running for ms milliseconds (renewal timers fire meanwhile). */
static void run_for(unsigned ms) {
  ev_log none = {0};
  wait_event(&none, ETHP2P_PINHOLE_EV_OPENED, 1, ms);
}

static bool reachable(uint16_t port) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %u >/dev/null 2>&1", probe_cmd, (unsigned)port);
  return system(cmd) == 0;
}

static void show_rules(const char *when) {
  fprintf(stderr, "  nft chain miniupnpd %s:\n", when);
  fflush(stderr);
  if (rules_cmd != NULL) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s >&2", rules_cmd);
    if (system(cmd) != 0)
      fprintf(stderr, "  (could not list)\n");
  }
}

static void on_accept(ethp2p_tcp *listener, ethp2p_tcp *conn, void *data) {
  (void)listener;
  (void)data;
  ethp2p_tcp_close(conn);
}

/* A TCP listener on [::]:port: the kernel completes handshakes into its backlog. */
static ethp2p_tcp *listen_on(uint16_t port) {
  ethp2p_addr any;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&any, "::"), 0);
  any.port = port;
  ethp2p_tcp *l = NULL;
  ck_assert_int_eq(ethp2p_tcp_listen(env, &l, &any, on_accept, NULL), 0);
  return l;
}

static ethp2p_pinhole *client(uint16_t port, uint32_t lease, ev_log *l) {
  ethp2p_pinhole_config cfg = {
      .control_url = url, .protocol = ETHP2P_PINHOLE_TCP, .port = port, .lease_s = lease};
  ethp2p_pinhole *p = NULL;
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, l), 0);
  return p;
}

START_TEST(pinholes_open_renew_and_close_on_the_real_router) {
  enum { PORT_A = 40001, PORT_B = 40002, PORT_C = 40003 };
  ethp2p_tcp *la = listen_on(PORT_A), *lb = listen_on(PORT_B), *lc = listen_on(PORT_C);

  /* Before: the router's firewall drops the WAN host's SYN. */
  ck_assert_msg(!reachable(PORT_A), "the WAN host reached the LAN host without a pinhole");

  /* GetFirewallStatus: miniupnpd filters and lets control points open pinholes. */
  ev_log A = {0};
  ethp2p_pinhole *a = client(PORT_A, 3600, &A);
  ck_assert_int_eq(ethp2p_pinhole_firewall_status(a), 0);
  ck_assert(wait_event(&A, ETHP2P_PINHOLE_EV_STATUS, 1, 5000));
  ck_assert_int_eq(A.last.status, 0);
  ck_assert(A.last.firewall_enabled);
  ck_assert(A.last.inbound_pinhole_allowed);

  /* AddPinhole for our global address: the WAN host gets in. */
  ck_assert_int_eq(ethp2p_pinhole_start(a), 0);
  ck_assert_msg(wait_event(&A, ETHP2P_PINHOLE_EV_OPENED, 1, 5000),
                "no pinhole (last status %s code %d)", ethp2p_err_name(A.last.status),
                A.last.upnp_code);
  char ip[ETHP2P_ADDRSTRLEN];
  ck_assert_str_eq(ethp2p_addr_format(&A.last.internal, false, ip, sizeof ip), "3fff:0:1::10");
  ck_assert_uint_eq(A.last.internal.port, PORT_A);
  show_rules("with pinhole A");
  ck_assert_msg(reachable(PORT_A), "pinhole %u open but the WAN host cannot connect",
                A.last.unique_id);

  /* CheckPinholeWorking: miniupnpd answers from the rule's packet counter. */
  ck_assert_int_eq(ethp2p_pinhole_check(a), 0);
  ck_assert(wait_event(&A, ETHP2P_PINHOLE_EV_CHECKED, 1, 5000));
  fprintf(stderr, "  CheckPinholeWorking: status=%s code=%d working=%d\n",
          ethp2p_err_name(A.last.status), A.last.upnp_code, A.last.is_working);
  ck_assert(A.last.status == 0 || A.last.upnp_code == 709);

  /* UpdatePinhole extends: B (lease 6 s) is renewed at 2/3 of it and still open at 9 s;
   * C (lease 4 s, never renewed) has expired by then.  (A failed probe blocks the loop
   * for up to its 1 s timeout, well inside B's 2 s of slack.) */
  ev_log B = {0}, C = {0};
  ethp2p_pinhole *b = client(PORT_B, 6, &B), *c = client(PORT_C, 4, &C);
  ck_assert_int_eq(ethp2p_pinhole_start(b), 0);
  ck_assert(wait_event(&B, ETHP2P_PINHOLE_EV_OPENED, 1, 5000));
  ck_assert_int_eq(ethp2p_pinhole_start(c), 0);
  ck_assert(wait_event(&C, ETHP2P_PINHOLE_EV_OPENED, 1, 5000));
  ethp2p_pinhole_stop(c);
  ck_assert(reachable(PORT_B));
  ck_assert(reachable(PORT_C));
  run_for(9000);
  ck_assert_int_ge(B.count[ETHP2P_PINHOLE_EV_RENEWED], 2);
  ck_assert_int_eq(B.count[ETHP2P_PINHOLE_EV_FAILED], 0);
  show_rules("after 9 s");
  ck_assert_msg(reachable(PORT_B), "renewed pinhole B is gone");
  ck_assert_msg(!reachable(PORT_C), "pinhole C outlived its 4 s lease");

  /* The router lost C: restarting sends UpdatePinhole, which fails, and the client adds a
   * new pinhole at once.  The spec's answer is 704 NoSuchEntry; miniupnpd 2.3.1 sends 402
   * Invalid Args (it checks the owner of the entry it did not find). */
  ck_assert_int_eq(ethp2p_pinhole_start(c), 0);
  ck_assert(wait_event(&C, ETHP2P_PINHOLE_EV_FAILED, 1, 5000));
  ck_assert_int_eq(C.last.action, ETHP2P_PINHOLE_UPDATE);
  ck_assert_msg(C.last.upnp_code == 704 || C.last.upnp_code == 402, "code %d", C.last.upnp_code);
  ck_assert(C.last.retrying);
  ck_assert(wait_event(&C, ETHP2P_PINHOLE_EV_OPENED, 2, 5000));
  ck_assert(reachable(PORT_C));

  /* DeletePinhole removes it. */
  ck_assert_int_eq(ethp2p_pinhole_delete(a), 0);
  ck_assert(wait_event(&A, ETHP2P_PINHOLE_EV_DELETED, 1, 5000));
  ck_assert_int_eq(A.last.status, 0);
  ck_assert(!ethp2p_pinhole_is_open(a, NULL));
  ck_assert_msg(!reachable(PORT_A), "the WAN host still connects after DeletePinhole");

  /* The router's refusals come back with their code: a port below 1024 is not for an
   * unauthenticated control point (606), and that is not retried. */
  ev_log D = {0};
  ethp2p_pinhole *d = client(80, 60, &D);
  ck_assert_int_eq(ethp2p_pinhole_start(d), 0);
  ck_assert(wait_event(&D, ETHP2P_PINHOLE_EV_FAILED, 1, 5000));
  ck_assert_int_eq(D.last.upnp_code, 606);
  ck_assert_int_eq(D.last.status, ETHP2P_EPERM);
  ck_assert(!D.last.retrying);

  ck_assert_int_eq(ethp2p_pinhole_delete(b), 0);
  ck_assert(wait_event(&B, ETHP2P_PINHOLE_EV_DELETED, 1, 5000));
  ck_assert_int_eq(ethp2p_pinhole_delete(c), 0);
  ck_assert(wait_event(&C, ETHP2P_PINHOLE_EV_DELETED, 1, 5000));
  ck_assert(!reachable(PORT_B));
  ethp2p_pinhole_free(a);
  ethp2p_pinhole_free(b);
  ethp2p_pinhole_free(c);
  ethp2p_pinhole_free(d);
  ethp2p_tcp_close(la);
  ethp2p_tcp_close(lb);
  ethp2p_tcp_close(lc);
  run_for(50);
}
END_TEST

typedef struct nat_res {
  int calls, status;
  ethp2p_nat_map_result map;
  ethp2p_addr ip;
} nat_res;

static void on_nat_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  (void)nat;
  nat_res *r = data;
  r->map = *res;
  r->status = res->status;
  r->calls++;
}

static void on_nat_done(ethp2p_nat *nat, int status, void *data) {
  (void)nat;
  nat_res *r = data;
  r->status = status;
  r->calls++;
}

static void on_nat_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  (void)nat;
  nat_res *r = data;
  r->status = status;
  if (ip != NULL)
    r->ip = *ip;
  r->calls++;
}

static bool wait_nat(nat_res *r, int n, unsigned ms) {
  uv_timer_t guard;
  uint64_t limit = uv_hrtime() + (uint64_t)ms * 1000000u;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 5, 5);
  while (r->calls < n && uv_hrtime() < limit)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return r->calls >= n;
}

/* The IPv6 NAT (nat/upnp6.h) as the port-mapping loop drives it: it finds miniupnpd over
 * IPv6 SSDP by itself (no control URL given), opens a pinhole the WAN host connects
 * through, refreshes it, and it is gone after delete. */
START_TEST(the_upnp6_nat_discovers_miniupnpd_and_opens_a_pinhole) {
  enum { PORT = 40005 };
  ethp2p_tcp *l = listen_on(PORT);
  ck_assert_msg(!reachable(PORT), "the WAN host reached the LAN host without a pinhole");
  ethp2p_nat *n = NULL;
  ck_assert_int_eq(ethp2p_nat_upnp6_create(env, &n), 0);
  nat_res a = {0};
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, PORT, "ethp2p", 120, on_nat_map, &a), 0);
  ck_assert(wait_nat(&a, 1, 8000));
  ck_assert_msg(a.status == 0, "add: %s code %d %s", ethp2p_err_name(a.status), a.map.router_code,
                a.map.router_msg);
  char ip[ETHP2P_ADDRSTRLEN];
  ck_assert_uint_eq(a.map.external_port, PORT);
  ck_assert_uint_eq(a.map.lifetime_s, 120);
  ck_assert_str_eq(ethp2p_addr_format(&a.map.external_ip, false, ip, sizeof ip), "3fff:0:1::10");
  show_rules("with the upnp6 pinhole");
  ck_assert_msg(reachable(PORT), "upnp6 pinhole open but the WAN host cannot connect");
  /* Discovery, the description, GetFirewallStatus, AddPinhole. */
  ck_assert_uint_eq(ethp2p_nat_upnp6_requests(n), 3);

  nat_res e = {0};
  ck_assert_int_eq(ethp2p_nat_external_ip(n, on_nat_extip, &e), 0);
  ck_assert(wait_nat(&e, 1, 2000));
  ck_assert_int_eq(e.status, 0);
  ck_assert_str_eq(ethp2p_addr_format(&e.ip, false, ip, sizeof ip), "3fff:0:1::10");

  /* The loop's refresh: UpdatePinhole, one request. */
  nat_res b = {0};
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, PORT, "ethp2p", 300, on_nat_map, &b), 0);
  ck_assert(wait_nat(&b, 1, 5000));
  ck_assert_int_eq(b.status, 0);
  ck_assert_uint_eq(ethp2p_nat_upnp6_requests(n), 4);
  ck_assert(reachable(PORT));

  nat_res d = {0};
  ck_assert_int_eq(ethp2p_nat_delete_mapping(n, ETHP2P_PROTO_TCP, PORT, PORT, on_nat_done, &d), 0);
  ck_assert(wait_nat(&d, 1, 5000));
  ck_assert_int_eq(d.status, 0);
  show_rules("after the upnp6 delete");
  ck_assert_msg(!reachable(PORT), "the WAN host still connects after delete_mapping");

  /* A port miniupnpd keeps from control points (below 1024): 606, EPERM. */
  nat_res r = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, 80, "ethp2p", 60, on_nat_map, &r),
                   0);
  ck_assert(wait_nat(&r, 1, 5000));
  ck_assert_int_eq(r.status, ETHP2P_EPERM);
  ck_assert_int_eq(r.map.router_code, 606);
  ethp2p_nat_destroy(n);
  ethp2p_tcp_close(l);
  run_for(50);
}
END_TEST

int main(void) {
  url = getenv("PINHOLE_LAB_URL");
  probe_cmd = getenv("PINHOLE_LAB_PROBE");
  rules_cmd = getenv("PINHOLE_LAB_RULES");
  /* PINHOLE_LAB_UPNP6_ONLY: only the discovering NAT (the script's multicast phase). */
  bool upnp6_only = getenv("PINHOLE_LAB_UPNP6_ONLY") != NULL;
  if ((url == NULL && !upnp6_only) || probe_cmd == NULL) {
    fprintf(stderr,
            "check_nat_pinhole_miniupnpd: skipped: run by tests/pinhole_miniupnpd_test.sh\n");
    return 77;
  }
  if (uv_loop_init(&loop) != 0 || ethp2p_uvenv_create(&loop, &env) != 0)
    return EXIT_FAILURE;
  Suite *s = suite_create("nat_pinhole_miniupnpd");
  TCase *tc = tcase_create("miniupnpd");
  tcase_set_timeout(tc, 90);
  if (!upnp6_only)
    tcase_add_test(tc, pinholes_open_renew_and_close_on_the_real_router);
  tcase_add_test(tc, the_upnp6_nat_discovers_miniupnpd_and_opens_a_pinhole);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  ethp2p_uvenv_destroy(env);
  uv_loop_close(&loop);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
