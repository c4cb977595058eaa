/*
 * tests/check_nat_stun_server.c — the RFC 5780 STUN server (nat/stun_server.c):
 * answers in the simulated world and on loopback sockets (libuv), CHANGE-REQUEST
 * moves the answer to the right socket, RESPONSE-ORIGIN and OTHER-ADDRESS are
 * right, errors for what it cannot do, garbage is dropped.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ethp2p/env_uv.h"
#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/stun_codec.h"
#include "support/nat_stun_server.h"

typedef struct client {
  ethp2p_udp *udp;
  int got;
  ethp2p_addr from;
  ethp2p_stun_msg msg;
  uv_loop_t *loop; /* libuv tests: stop when an answer came */
} client;

static void client_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  client *c = data;
  (void)udp;
  if (ethp2p_stun_decode(&c->msg, buf, len, NULL) == 0) {
    c->got++;
    c->from = *from;
  }
  if (c->loop != NULL)
    uv_stop(c->loop);
}

static void send_req(client *c, const ethp2p_addr *to, uint32_t change, bool fingerprint,
                     uint8_t tag) {
  uint8_t buf[256];
  ethp2p_stun_msg m;
  ethp2p_stun_encode_opts o;
  memset(&m, 0, sizeof m);
  memset(&o, 0, sizeof o);
  m.type = ETHP2P_STUN_BINDING_REQUEST;
  memset(m.txid, tag, sizeof m.txid);
  if (change != 0) {
    m.present |= ETHP2P_STUN_HAS_CHANGE_REQUEST;
    m.change_request = change;
  }
  o.fingerprint = fingerprint;
  int n = ethp2p_stun_encode(buf, sizeof buf, &m, &o);
  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(ethp2p_udp_send(c->udp, to, buf, (size_t)n), 0);
}

typedef struct simw {
  ethp2p_sim *sim;
  ethp2p_sim_host *sh, *ch;
  ethp2p_stun_server *srv;
  client c;
} simw;

static void simw_init(simw *w, bool alt) {
  ethp2p_addr p = ethp2p_addr_v4(30, 0, 0, 1, 3478), q = ethp2p_addr_v4(30, 0, 0, 2, 3479);
  ethp2p_stun_server_config sc;
  ethp2p_addr any;
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(ethp2p_sim_create(&w->sim, 5), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w->sim, &w->sh, "stun", &p), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(w->sh, ethp2p_sim_internet(w->sim), &q, 0), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w->sim, &w->ch, "client", NULL), 0);
  memset(&sc, 0, sizeof sc);
  sc.primary = p;
  if (alt)
    sc.alternate = q;
  snprintf(sc.software, sizeof sc.software, "ethp2p-test");
  ck_assert_int_eq(ethp2p_stun_server_create(ethp2p_sim_host_env(w->sh), &sc, &w->srv), 0);
  memset(&any, 0, sizeof any);
  any.family = 4;
  any.port = 5000;
  ck_assert_int_eq(
      ethp2p_udp_open(ethp2p_sim_host_env(w->ch), &w->c.udp, &any, 0, client_recv, &w->c), 0);
}

static void simw_free(simw *w) {
  ethp2p_udp_close(w->c.udp);
  ethp2p_stun_server_destroy(w->srv);
  ethp2p_sim_destroy(w->sim);
}

/* _i: 0 no change, 1 change port, 2 change IP, 3 both; sent to each of the 4 sockets. */
START_TEST(change_request_moves_the_answer_to_the_right_socket) {
  static const uint32_t changes[4] = {0, ETHP2P_STUN_CHANGE_PORT, ETHP2P_STUN_CHANGE_IP,
                                      ETHP2P_STUN_CHANGE_IP | ETHP2P_STUN_CHANGE_PORT};
  simw w;
  simw_init(&w, true);
  ethp2p_addr ips[2] = {ethp2p_addr_v4(30, 0, 0, 1, 0), ethp2p_addr_v4(30, 0, 0, 2, 0)};
  uint16_t ports[2] = {3478, 3479};
  ethp2p_addr client_addr = ethp2p_sim_host_addr(w.ch);
  client_addr.port = 5000;
  for (unsigned i = 0; i < 2; i++) {
    for (unsigned j = 0; j < 2; j++) {
      ethp2p_addr to = ips[i];
      to.port = ports[j];
      w.c.got = 0;
      send_req(&w.c, &to, changes[_i], false, (uint8_t)(i * 2 + j + 1));
      ethp2p_sim_run(w.sim, ETHP2P_SEC);
      ck_assert_int_eq(w.c.got, 1);
      unsigned oi = i ^ ((changes[_i] & ETHP2P_STUN_CHANGE_IP) ? 1u : 0u);
      unsigned oj = j ^ ((changes[_i] & ETHP2P_STUN_CHANGE_PORT) ? 1u : 0u);
      ethp2p_addr want_from = ips[oi];
      want_from.port = ports[oj];
      ethp2p_addr want_other = ips[i ^ 1u];
      want_other.port = ports[j ^ 1u];
      ck_assert_uint_eq(w.c.msg.type, ETHP2P_STUN_BINDING_SUCCESS);
      ck_assert(ethp2p_addr_equal(&w.c.from, &want_from, true));
      ck_assert(w.c.msg.present & ETHP2P_STUN_HAS_RESPONSE_ORIGIN);
      ck_assert(ethp2p_addr_equal(&w.c.msg.response_origin, &want_from, true));
      ck_assert(w.c.msg.present & ETHP2P_STUN_HAS_OTHER_ADDRESS);
      ck_assert(ethp2p_addr_equal(&w.c.msg.other_address, &want_other, true));
      ck_assert(ethp2p_addr_equal(&w.c.msg.xor_mapped, &client_addr, true));
      ck_assert(ethp2p_addr_equal(&w.c.msg.mapped, &client_addr, true));
      ck_assert_str_eq(w.c.msg.software, "ethp2p-test");
      ck_assert_uint_eq(w.c.msg.txid[0], i * 2 + j + 1);
    }
  }
  ethp2p_stun_server_stats st = ethp2p_stun_server_get_stats(w.srv);
  ck_assert_uint_eq(st.requests, 4);
  ck_assert_uint_eq(st.responses, 4);
  ck_assert_uint_eq(st.changed, changes[_i] != 0 ? 4 : 0);
  simw_free(&w);
}
END_TEST

START_TEST(fingerprint_in_the_request_gets_one_back) {
  simw w;
  simw_init(&w, true);
  ethp2p_addr to = ethp2p_addr_v4(30, 0, 0, 1, 3478);
  send_req(&w.c, &to, 0, true, 9);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_int_eq(w.c.got, 1);
  ck_assert(w.c.msg.fingerprint_ok);
  send_req(&w.c, &to, 0, false, 10);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_int_eq(w.c.got, 2);
  ck_assert(!(w.c.msg.present & ETHP2P_STUN_HAS_FINGERPRINT));
  simw_free(&w);
}
END_TEST

START_TEST(without_alternate_change_request_gets_420_and_no_other_address) {
  simw w;
  simw_init(&w, false);
  ethp2p_addr to = ethp2p_addr_v4(30, 0, 0, 1, 3478);
  send_req(&w.c, &to, 0, false, 1);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_int_eq(w.c.got, 1);
  ck_assert_uint_eq(w.c.msg.type, ETHP2P_STUN_BINDING_SUCCESS);
  ck_assert(!(w.c.msg.present & ETHP2P_STUN_HAS_OTHER_ADDRESS));
  send_req(&w.c, &to, ETHP2P_STUN_CHANGE_IP, false, 2);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_int_eq(w.c.got, 2);
  ck_assert_uint_eq(w.c.msg.type, ETHP2P_STUN_BINDING_ERROR);
  ck_assert_uint_eq(w.c.msg.error_code, 420);
  ck_assert(ethp2p_addr_equal(&w.c.from, &to, true));
  ethp2p_addr alt = ethp2p_stun_server_alternate(w.srv);
  ck_assert_int_eq(alt.family, 0);
  ck_assert_uint_eq(ethp2p_stun_server_get_stats(w.srv).errors, 1);
  simw_free(&w);
}
END_TEST

START_TEST(garbage_and_non_requests_are_dropped) {
  simw w;
  simw_init(&w, true);
  ethp2p_addr to = ethp2p_addr_v4(30, 0, 0, 1, 3478);
  uint8_t junk[40];
  memset(junk, 0xAB, sizeof junk);
  ck_assert_int_eq(ethp2p_udp_send(w.c.udp, &to, junk, sizeof junk), 0);
  /* A success response sent to the server is not a request. */
  uint8_t buf[64];
  ethp2p_stun_msg m;
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_STUN_BINDING_SUCCESS;
  int n = ethp2p_stun_encode(buf, sizeof buf, &m, NULL);
  ck_assert_int_eq(ethp2p_udp_send(w.c.udp, &to, buf, (size_t)n), 0);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_int_eq(w.c.got, 0);
  ck_assert_uint_eq(ethp2p_stun_server_get_stats(w.srv).dropped, 2);
  ethp2p_stun_server_set_enabled(w.srv, false);
  send_req(&w.c, &to, 0, false, 3);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_int_eq(w.c.got, 0);
  simw_free(&w);
}
END_TEST

START_TEST(create_rejects_bad_configs) {
  simw w;
  ethp2p_stun_server *s = (ethp2p_stun_server *)&w;
  ethp2p_stun_server_config sc;
  simw_init(&w, true);
  memset(&sc, 0, sizeof sc);
  ck_assert_int_eq(ethp2p_stun_server_create(ethp2p_sim_host_env(w.sh), &sc, &s), ETHP2P_EINVAL);
  ck_assert_ptr_null(s);
  sc.primary = ethp2p_addr_v4(30, 0, 0, 1, 4000);
  sc.alternate = ethp2p_addr_v4(30, 0, 0, 1, 4001); /* same IP */
  ck_assert_int_eq(ethp2p_stun_server_create(ethp2p_sim_host_env(w.sh), &sc, &s), ETHP2P_EINVAL);
  sc.alternate = ethp2p_addr_v4(30, 0, 0, 2, 4000); /* same port */
  ck_assert_int_eq(ethp2p_stun_server_create(ethp2p_sim_host_env(w.sh), &sc, &s), ETHP2P_EINVAL);
  /* Port in use by the first server: the bind error, nothing left open. */
  sc.primary = ethp2p_addr_v4(30, 0, 0, 1, 3478);
  sc.alternate = ethp2p_addr_v4(30, 0, 0, 2, 3479);
  ck_assert_int_eq(ethp2p_stun_server_create(ethp2p_sim_host_env(w.sh), &sc, &s),
                   ETHP2P_EADDRINUSE);
  ethp2p_stun_server_destroy(NULL);
  simw_free(&w);
}
END_TEST

static void on_timeout(uv_timer_t *t) {
  uv_stop(t->loop);
}

/* Real sockets: 127.0.0.1 and 127.0.0.2 (both loopback on Linux). */
START_TEST(loopback_server_answers_change_requests_from_the_other_address) {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_stun_server *srv;
  ethp2p_stun_server_config sc;
  client c;
  uv_timer_t guard;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, &env), 0);
  memset(&sc, 0, sizeof sc);
  sc.primary = ethp2p_addr_v4(127, 0, 0, 1, 0);
  sc.alternate = ethp2p_addr_v4(127, 0, 0, 2, 0);
  int rc = ethp2p_stun_server_create(env, &sc, &srv);
  if (rc == ETHP2P_EADDRINUSE) {
    /* P1 + 1 happened to be taken: nothing to test this time. */
    ethp2p_uvenv_destroy(env);
    uv_loop_close(&loop);
    return;
  }
  ck_assert_int_eq(rc, 0);
  ethp2p_addr p = ethp2p_stun_server_primary(srv), q = ethp2p_stun_server_alternate(srv);
  ck_assert_uint_ne(p.port, 0);
  ck_assert_uint_eq(q.port, p.port + 1);
  memset(&c, 0, sizeof c);
  c.loop = &loop;
  ethp2p_addr bind = ethp2p_addr_v4(127, 0, 0, 1, 0);
  ck_assert_int_eq(ethp2p_udp_open(env, &c.udp, &bind, 0, client_recv, &c), 0);
  ethp2p_addr me;
  ck_assert_int_eq(ethp2p_udp_local_addr(c.udp, &me), 0);
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_timeout, 3000, 0);
  send_req(&c, &p, ETHP2P_STUN_CHANGE_IP | ETHP2P_STUN_CHANGE_PORT, true, 7);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(c.got, 1);
  ck_assert(ethp2p_addr_equal(&c.from, &q, true));
  ck_assert(ethp2p_addr_equal(&c.msg.xor_mapped, &me, true));
  ck_assert(ethp2p_addr_equal(&c.msg.response_origin, &q, true));
  ck_assert(ethp2p_addr_equal(&c.msg.other_address, &q, true));
  ck_assert(c.msg.fingerprint_ok);
  uv_timer_stop(&guard);
  uv_close((uv_handle_t *)&guard, NULL);
  ethp2p_udp_close(c.udp);
  ethp2p_stun_server_destroy(srv);
  ethp2p_uvenv_destroy(env);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

typedef struct extip_rec {
  int calls, status;
  ethp2p_addr ip;
  uv_loop_t *loop;
} extip_rec;

static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  extip_rec *r = data;
  (void)nat;
  r->calls++;
  r->status = status;
  if (ip != NULL)
    r->ip = *ip;
  uv_stop(r->loop);
}

/* Runs until the extip callback ran or `ms` passed. */
static void run_extip(uv_loop_t *loop, extip_rec *r, unsigned ms) {
  uv_timer_t guard;
  uv_timer_init(loop, &guard);
  uv_timer_start(&guard, on_timeout, ms, 0);
  while (r->calls == 0 && uv_timer_get_due_in(&guard) > 0)
    uv_run(loop, UV_RUN_ONCE);
  uv_timer_stop(&guard);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
}

/* STUN over IPv6 (nat/stun.c): the stun NAT asks a server on [::1] from an IPv6 socket
 * and reads XOR-MAPPED-ADDRESS of family 0x02; in a list of both families each server is
 * asked from a socket of its own family. */
START_TEST(the_stun_nat_learns_our_ipv6_address_from_a_server_on_v6_loopback) {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_stun_server *srv6, *srv4;
  ethp2p_stun_server_config sc;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, &env), 0);
  memset(&sc, 0, sizeof sc);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&sc.primary, "::1"), 0);
  ck_assert_int_eq(ethp2p_stun_server_create(env, &sc, &srv6), 0);
  memset(&sc, 0, sizeof sc);
  sc.primary = ethp2p_addr_v4(127, 0, 0, 1, 0);
  ck_assert_int_eq(ethp2p_stun_server_create(env, &sc, &srv4), 0);
  ethp2p_addr p6 = ethp2p_stun_server_primary(srv6), p4 = ethp2p_stun_server_primary(srv4);
  char text[128], a6[ETHP2P_ADDRSTRLEN], a4[ETHP2P_ADDRSTRLEN];
  ethp2p_addr loop6;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&loop6, "::1"), 0);

  /* one IPv6 server */
  snprintf(text, sizeof text, "stun:%s", ethp2p_addr_format(&p6, true, a6, sizeof a6));
  ethp2p_nat_spec spec;
  ethp2p_nat *nat;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, text, NULL, 0), 0);
  ck_assert_int_eq(ethp2p_nat_create(env, &spec, &nat), 0);
  extip_rec r = {.loop = &loop};
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  run_extip(&loop, &r, 3000);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.ip.family, 6);
  ck_assert(ethp2p_addr_equal(&r.ip, &loop6, false));
  ck_assert_uint_eq(ethp2p_stun_server_get_stats(srv6).responses, 1);
  ethp2p_nat_destroy(nat);

  /* both families: the IPv6 server is down, so after its 7.5 s the IPv4 one answers */
  ethp2p_stun_server_set_enabled(srv6, false);
  snprintf(text, sizeof text, "stun:%s,%s", a6, ethp2p_addr_format(&p4, true, a4, sizeof a4));
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, text, NULL, 0), 0);
  ck_assert_int_eq(ethp2p_nat_create(env, &spec, &nat), 0);
  memset(&r, 0, sizeof r);
  r.loop = &loop;
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  run_extip(&loop, &r, 12000);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.ip.family, 4);
  ck_assert_uint_eq(r.ip.ip[0], 127);
  ck_assert_uint_eq(ethp2p_stun_server_get_stats(srv6).responses, 1); /* none more */
  ck_assert_uint_eq(ethp2p_stun_server_get_stats(srv4).responses, 1);
  ethp2p_nat_destroy(nat);

  ethp2p_stun_server_destroy(srv6);
  ethp2p_stun_server_destroy(srv4);
  ethp2p_uvenv_destroy(env);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_stun_server");
  TCase *tc = tcase_create("stun_server");
  SRunner *sr;
  int failed;
  tcase_add_loop_test(tc, change_request_moves_the_answer_to_the_right_socket, 0, 4);
  tcase_add_test(tc, fingerprint_in_the_request_gets_one_back);
  tcase_add_test(tc, without_alternate_change_request_gets_420_and_no_other_address);
  tcase_add_test(tc, garbage_and_non_requests_are_dropped);
  tcase_add_test(tc, create_rejects_bad_configs);
  tcase_add_test(tc, loopback_server_answers_change_requests_from_the_other_address);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, the_stun_nat_learns_our_ipv6_address_from_a_server_on_v6_loopback);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
