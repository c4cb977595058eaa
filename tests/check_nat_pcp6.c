/*
 * tests/check_nat_pcp6.c — the PCP client over IPv6 (nat/pcp.c, ethp2p_nat_pcp6_create and
 * ethp2p_nat_create6) against the strict IPv6 PCP server of tests/support/nat_fake_gateway.c,
 * on the libuv environment.
 *
 * The suite moves itself into a private network namespace (unshare) with a veth pair:
 *   d0: 3fff::10/64 and 3fff::11/64 (ours; ::11 deprecated, preferred_lft 0: never the
 *       client address)
 *   d1: 3fff::1/64 and fe80::1/64 (the server), IPv6 default route via fe80::1 dev d0
 * so every packet stays in a namespace that exists only for this run.  Needs root
 * (CAP_SYS_ADMIN, CAP_NET_ADMIN): exits 77, skipped, without it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
#include "ethp2p/nat.h"
#include "nat/impl.h"
#include "support/nat_fake_gateway.h"

static uv_loop_t loop;
static ethp2p_env *env;
static fake_gw6 G;

static ethp2p_addr ip6(const char *text) {
  ethp2p_addr a;
  ck_assert_msg(ethp2p_addr_parse_ip(&a, text) == 0, "bad literal %s", text);
  return a;
}

static void on_guard(uv_timer_t *t) {
  (void)t;
}
/* Runs the loop until *count reaches want or ms pass; returns whether it did. */
static bool run_until(const int *count, int want, unsigned ms) {
  uv_timer_t guard;
  uint64_t limit = uv_hrtime() + (uint64_t)ms * 1000000u;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 5, 5);
  while (*count < want && uv_hrtime() < limit)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return *count >= want;
}

static void setup(void) {
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, &env), 0);
  ethp2p_addr server = ip6("3fff::1");
  fake_gw6_init(&G, env, &server);
}

static void teardown(void) {
  fake_gw6_free(&G);
  uv_run(&loop, UV_RUN_NOWAIT);
  ethp2p_uvenv_destroy(env);
  env = NULL;
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* Callbacks record into a fake_gw_rec (its sim field stays NULL: no timestamps here). */
static void on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  fake_gw_rec *r = data;
  (void)nat;
  r->map_calls++;
  r->map = *res;
}
static void on_done(ethp2p_nat *nat, int status, void *data) {
  fake_gw_rec *r = data;
  (void)nat;
  r->done_calls++;
  r->done_status = status;
}
static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  fake_gw_rec *r = data;
  (void)nat;
  r->extip_calls++;
  r->extip_status = status;
  if (ip != NULL)
    r->extip = *ip;
}
static void on_notify(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip, void *data) {
  fake_gw_rec *r = data;
  (void)nat;
  (void)ip;
  if (ev == ETHP2P_NAT_EV_STATE_LOST)
    r->lost++;
}

static ethp2p_nat *make(const char *text, fake_gw_rec *r, bool v6_companion) {
  ethp2p_nat_spec spec;
  ethp2p_nat *nat = NULL;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, text, NULL, 0), 0);
  if (v6_companion)
    ck_assert_int_eq(ethp2p_nat_create6(env, &spec, &nat), 0);
  else
    ck_assert_int_eq(ethp2p_nat_create(env, &spec, &nat), 0);
  memset(r, 0, sizeof *r);
  ethp2p_nat_set_notify(nat, on_notify, r);
  return nat;
}

START_TEST(a_map_opens_a_pinhole_for_our_own_address) {
  fake_gw_rec r;
  ethp2p_nat *nat = make("pcp:3fff::1", &r, false);
  ck_assert_str_eq(nat->name, "PCP (IPv6)");
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert_int_eq(r.map_calls, 0); /* never inside the call */
  ck_assert(run_until(&r.map_calls, 1, 5000));
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert_uint_eq(r.map.lifetime_s, 600);
  ethp2p_addr ours = ip6("3fff::10");
  ck_assert(ethp2p_addr_equal(&r.map.external_ip, &ours, false));
  /* §11.2.1: renew at a random point in [1/2, 5/8] of the lifetime */
  ck_assert_uint_ge(r.map.renew_after_ms, 300000);
  ck_assert_uint_le(r.map.renew_after_ms, 375000);
  /* what went on the wire: our stable global address as client, from that address,
   * suggested external address :: and port = internal port */
  ck_assert_uint_eq(G.n_pcp, 1);
  ck_assert_uint_eq(G.last_pcp.opcode, ETHP2P_PCP_OP_MAP);
  ck_assert(ethp2p_addr_equal(&G.last_pcp.client_ip, &ours, false));
  ck_assert(ethp2p_addr_equal(&G.client, &ours, false));
  ck_assert_uint_eq(G.last_pcp.map.external_ip.family, 0);
  ck_assert_uint_eq(G.last_pcp.map.external_port, 30303);
  ck_assert_uint_eq(G.last_pcp.map.protocol, 17);
  ck_assert_ptr_nonnull(fake_gw6_find(&G, 17, &ours, 30303));
  /* external_ip: our own address, without asking the server */
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ck_assert_int_eq(r.extip_calls, 0);
  ck_assert(run_until(&r.extip_calls, 1, 2000));
  ck_assert_int_eq(r.extip_status, 0);
  ck_assert(ethp2p_addr_equal(&r.extip, &ours, false));
  ck_assert_uint_eq(G.n_pcp, 1);
  ck_assert_uint_eq(G.n_announce_req, 0);
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(renewal_keeps_the_nonce_and_delete_closes_the_pinhole) {
  fake_gw_rec r;
  ethp2p_nat *nat = make("pcp:3fff::1", &r, false);
  ethp2p_addr ours = ip6("3fff::10");
  G.forge_first = true;       /* a reply from port 5352 must be ignored */
  G.forge_wrong_nonce = true; /* and one with another nonce */
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 1, 5000));
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not 1111 nor 2222 */
  uint8_t nonce[12];
  memcpy(nonce, G.last_pcp.map.nonce, 12);
  G.forge_first = false;
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "x", 900, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 2, 5000));
  ck_assert_int_eq(r.map.status, 0); /* the server would refuse another nonce */
  ck_assert_mem_eq(G.last_pcp.map.nonce, nonce, 12);
  ck_assert_uint_eq(fake_gw6_count(&G), 1);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, on_done, &r), 0);
  ck_assert(run_until(&r.done_calls, 1, 5000));
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(G.last_pcp.lifetime_s, 0);
  ck_assert_mem_eq(G.last_pcp.map.nonce, nonce, 12);
  ck_assert_ptr_null(fake_gw6_find(&G, 6, &ours, 30303));
  ck_assert_uint_eq(fake_gw6_count(&G), 0);
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(a_keyed_nonce_lets_another_process_delete_and_a_stranger_is_refused) {
  static const uint8_t key[32] = {7, 7, 7};
  fake_gw_rec r1, r2, r3;
  ethp2p_addr ours = ip6("3fff::10");
  ethp2p_nat *a = make("pcp:3fff::1", &r1, false);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(a, key), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(a, ETHP2P_PROTO_UDP, 0, 40000, "x", 600, on_map, &r1), 0);
  ck_assert(run_until(&r1.map_calls, 1, 5000));
  ck_assert_int_eq(r1.map.status, 0);
  ethp2p_nat_destroy(a);
  /* no key: a random nonce, which the server refuses (§11.3); nothing to downgrade to */
  ethp2p_nat *c = make("pcp:3fff::1", &r3, false);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(c, ETHP2P_PROTO_UDP, 40000, 40000, on_done, &r3), 0);
  ck_assert(run_until(&r3.done_calls, 1, 5000));
  ck_assert_int_eq(r3.done_status, ETHP2P_EREFUSED);
  ck_assert_ptr_nonnull(fake_gw6_find(&G, 17, &ours, 40000));
  ethp2p_nat_destroy(c);
  /* the same key in a new NAT: the same nonce, so the delete is the owner's */
  ethp2p_nat *b = make("pcp:3fff::1", &r2, false);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(b, key), 0);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(b, ETHP2P_PROTO_UDP, 40000, 40000, on_done, &r2), 0);
  ck_assert(run_until(&r2.done_calls, 1, 5000));
  ck_assert_int_eq(r2.done_status, 0);
  ck_assert_ptr_null(fake_gw6_find(&G, 17, &ours, 40000));
  ethp2p_nat_destroy(b);
}
END_TEST

START_TEST(the_server_comes_from_the_ipv6_default_route_with_its_zone) {
  fake_gw6 ll;
  ethp2p_addr server = ip6("fe80::1");
  server.scope = if_nametoindex("d1");
  ck_assert_uint_ne(server.scope, 0);
  fake_gw6_init(&ll, env, &server);
  fake_gw_rec r;
  ethp2p_nat *nat = make("pcp", &r, true); /* the IPv6 companion of "pcp" */
  ck_assert_str_eq(nat->name, "PCP (IPv6)");
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 1, 5000));
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(ll.n_pcp, 1);
  ck_assert_uint_eq(G.n_pcp, 0);
  ethp2p_addr ours = ip6("3fff::10");
  ck_assert(ethp2p_addr_equal(&ll.last_pcp.client_ip, &ours, false));
  ethp2p_nat_destroy(nat);
  /* "any" has the same IPv6 companion */
  nat = make("any", &r, true);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 1, 5000));
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(ll.n_pcp, 2);
  ethp2p_nat_destroy(nat);
  fake_gw6_free(&ll);
}
END_TEST

START_TEST(a_restart_shows_in_the_epoch_and_in_an_announce_on_ff02_1) {
  fake_gw_rec r;
  ethp2p_nat *nat = make("pcp:3fff::1", &r, false);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 1, 5000));
  ck_assert_int_eq(r.lost, 0);
  /* the server reboots: its epoch starts over (§8.5) and it multicasts ANNOUNCE */
  G.epoch_base = 0;
  G.t0 = ethp2p_env_now(env);
  uint32_t d1 = if_nametoindex("d1");
  fake_gw6_announce(&G, d1, true); /* from port 5352: ignored */
  fake_gw6_announce(&G, d1, false);
  /* §14.1.3: reported after a random delay of at most 5 s */
  ck_assert(run_until(&r.lost, 1, 7000));
  ck_assert_int_eq(r.lost, 1);
  /* the next MAP response carries an epoch that agrees: no second report */
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 2, 5000));
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_int_eq(r.lost, 1);
  /* a reboot seen only in a MAP response: 500 s passed for the server in no time (§8.5) */
  G.epoch_base = 500;
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 3, 5000));
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_int_eq(r.lost, 2);
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(a_nat_pmp_only_answer_fails_the_request_without_a_downgrade) {
  fake_gw_rec r;
  ethp2p_nat *nat = make("pcp:3fff::1", &r, false);
  G.pmp_only = true;
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 1, 5000));
  ck_assert_int_eq(r.map.status, ETHP2P_EUNSUPP);
  ck_assert_uint_eq(G.n_pcp, 1); /* nothing else was sent */
  G.pmp_only = false;
  G.result = ETHP2P_PCP_RESULT_NO_RESOURCES;
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "x", 600, on_map, &r),
                   0);
  ck_assert(run_until(&r.map_calls, 2, 5000));
  ck_assert_int_eq(r.map.status, ETHP2P_EREFUSED);
  ck_assert_int_eq(r.map.router_code, ETHP2P_PCP_RESULT_NO_RESOURCES);
  ck_assert_str_eq(r.map.router_msg, "NO_RESOURCES");
  ck_assert_uint_eq(r.map.lifetime_s, 30);
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(an_ipv4_gateway_is_not_an_ipv6_server) {
  ethp2p_nat_spec spec;
  ethp2p_nat *nat = NULL;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "pcp:192.168.1.1", NULL, 0), 0);
  ck_assert_int_eq(ethp2p_nat_pcp6_create(env, &spec, &nat), ETHP2P_EINVAL);
  ck_assert_ptr_null(nat);
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "pcp:3fff::1", NULL, 0), 0);
  ck_assert_int_eq(ethp2p_nat_pcp_create(env, &spec, &nat), ETHP2P_EINVAL);
  ck_assert_ptr_null(nat);
}
END_TEST

static bool enter_private_namespace(void) {
  static const char *const steps[] = {
      "ip link set lo up",
      "ip link add d0 type veth peer name d1",
      "ip link set d0 multicast on up",
      "ip link set d1 multicast on up",
      "ip -6 addr add 3fff::10/64 dev d0 nodad",
      "ip -6 addr add 3fff::11/64 dev d0 nodad",
      "ip -6 addr change 3fff::11/64 dev d0 nodad preferred_lft 0",
      "ip -6 addr add 3fff::1/64 dev d1 nodad",
      "ip -6 addr add fe80::1/64 dev d1 nodad",
      "ip -6 route add default via fe80::1 dev d0",
  };
  if (unshare(CLONE_NEWNET) != 0) {
    fprintf(stderr, "check_nat_pcp6: skipped: cannot unshare (%s)\n", strerror(errno));
    return false;
  }
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "%s >/dev/null 2>&1", steps[i]);
    if (system(cmd) != 0) {
      fprintf(stderr, "check_nat_pcp6: skipped: \"%s\" failed\n", steps[i]);
      return false;
    }
  }
  return true;
}

int main(void) {
  if (!enter_private_namespace())
    return 77;
  Suite *s = suite_create("nat_pcp6");
  TCase *tc = tcase_create("pcp6");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, a_map_opens_a_pinhole_for_our_own_address);
  tcase_add_test(tc, renewal_keeps_the_nonce_and_delete_closes_the_pinhole);
  tcase_add_test(tc, a_keyed_nonce_lets_another_process_delete_and_a_stranger_is_refused);
  tcase_add_test(tc, the_server_comes_from_the_ipv6_default_route_with_its_zone);
  tcase_add_test(tc, a_restart_shows_in_the_epoch_and_in_an_announce_on_ff02_1);
  tcase_add_test(tc, a_nat_pmp_only_answer_fails_the_request_without_a_downgrade);
  tcase_add_test(tc, an_ipv4_gateway_is_not_an_ipv6_server);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
