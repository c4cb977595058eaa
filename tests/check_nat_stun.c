/*
 * tests/check_nat_stun.c — the STUN client (nat/stun.c) in the simulated world:
 * a host behind a NAT box asks STUN servers on internet hosts for its
 * reflexive address.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/stun_codec.h"

typedef struct stun_server {
  ethp2p_sim_host *h;
  ethp2p_udp *sock;
  bool silent;
  bool wrong_txid_first;
  bool error_response;
  bool old_mapped_only; /* RFC 3489 server: MAPPED-ADDRESS only */
  unsigned requests;
} stun_server;

static void on_server(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                      void *data) {
  stun_server *s = data;
  ethp2p_stun_msg req;
  ck_assert_int_eq(ethp2p_stun_decode(&req, buf, len, NULL), 0);
  ck_assert_uint_eq(req.type, ETHP2P_STUN_BINDING_REQUEST);
  s->requests++;
  if (s->silent)
    return;
  ethp2p_stun_msg resp;
  memset(&resp, 0, sizeof resp);
  resp.type = s->error_response ? ETHP2P_STUN_BINDING_ERROR : ETHP2P_STUN_BINDING_SUCCESS;
  memcpy(resp.txid, req.txid, 12);
  if (s->error_response) {
    resp.present = ETHP2P_STUN_HAS_ERROR_CODE;
    resp.error_code = 400;
  } else if (s->old_mapped_only) {
    resp.present = ETHP2P_STUN_HAS_MAPPED;
    resp.mapped = *from;
  } else {
    resp.present = ETHP2P_STUN_HAS_XOR_MAPPED;
    resp.xor_mapped = *from;
  }
  uint8_t out[128];
  if (s->wrong_txid_first) {
    ethp2p_stun_msg bad = resp;
    bad.txid[0] ^= 1;
    bad.xor_mapped = ethp2p_addr_v4(6, 6, 6, 6, 6);
    int n = ethp2p_stun_encode(out, sizeof out, &bad, NULL);
    ck_assert_int_eq(ethp2p_udp_send(u, from, out, (size_t)n), 0);
  }
  int n =
      ethp2p_stun_encode(out, sizeof out, &resp, &(ethp2p_stun_encode_opts){.fingerprint = true});
  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(ethp2p_udp_send(u, from, out, (size_t)n), 0);
}

typedef struct world {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *node;
  stun_server srv[2];
} world;

static void world_init(world *w, uint64_t seed) {
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(ethp2p_sim_create(&w->sim, seed), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w->sim, &w->box, "gw", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w->box, &w->node, "node", NULL), 0);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(ethp2p_sim_host_create_public(w->sim, &w->srv[i].h, "stun", NULL), 0);
    ethp2p_addr a = ethp2p_sim_host_addr(w->srv[i].h);
    a.port = 3478;
    ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(w->srv[i].h), &w->srv[i].sock, &a, 0,
                                     on_server, &w->srv[i]),
                     0);
  }
}

static void world_free(world *w) {
  for (int i = 0; i < 2; i++)
    ethp2p_udp_close(w->srv[i].sock);
  ethp2p_sim_destroy(w->sim);
}

static ethp2p_nat *make_stun(world *w, const char *servers) {
  ethp2p_nat_spec spec;
  char text[200];
  snprintf(text, sizeof text, "stun:%s", servers);
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, text, NULL, 0), 0);
  ethp2p_nat *nat;
  ck_assert_int_eq(ethp2p_nat_create(ethp2p_sim_host_env(w->node), &spec, &nat), 0);
  return nat;
}

static const char *server_list(world *w, char *buf, size_t size) {
  char a[ETHP2P_ADDRSTRLEN], b[ETHP2P_ADDRSTRLEN];
  ethp2p_addr x = ethp2p_sim_host_addr(w->srv[0].h), y = ethp2p_sim_host_addr(w->srv[1].h);
  x.port = y.port = 3478;
  snprintf(buf, size, "%s,%s", ethp2p_addr_format(&x, true, a, sizeof a),
           ethp2p_addr_format(&y, true, b, sizeof b));
  return buf;
}

typedef struct rec {
  int calls, status;
  ethp2p_addr ip;
  ethp2p_time at;
  ethp2p_sim *sim;
} rec;

static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  rec *r = data;
  r->calls++;
  r->status = status;
  if (ip != NULL)
    r->ip = *ip;
  r->at = ethp2p_sim_now(r->sim);
}

START_TEST(binding_finds_the_nat_external_address) {
  world w;
  world_init(&w, 41);
  char list[128];
  ethp2p_nat *nat = make_stun(&w, server_list(&w, list, sizeof list));
  ck_assert_str_eq(nat->name, "STUN");
  rec r = {.sim = w.sim};
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0); /* shares the query */
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 2);
  ck_assert_int_eq(r.status, 0);
  ethp2p_addr want = ethp2p_sim_nat_external_addr(w.box);
  ck_assert(ethp2p_addr_equal(&r.ip, &want, false));
  ck_assert_uint_eq(w.srv[0].requests, 1);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 1, "x", 60, NULL, NULL),
                   ETHP2P_EUNSUPP);
  ethp2p_nat_destroy(nat);
  world_free(&w);
}
END_TEST

START_TEST(response_with_another_transaction_id_is_ignored) {
  world w;
  world_init(&w, 42);
  w.srv[0].wrong_txid_first = true;
  char list[128];
  ethp2p_nat *nat = make_stun(&w, server_list(&w, list, sizeof list));
  rec r = {.sim = w.sim};
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ethp2p_addr want = ethp2p_sim_nat_external_addr(w.box);
  ck_assert(ethp2p_addr_equal(&r.ip, &want, false));
  ethp2p_nat_destroy(nat);
  world_free(&w);
}
END_TEST

START_TEST(silent_server_is_retried_then_the_next_server_answers) {
  world w;
  world_init(&w, 43);
  w.srv[0].silent = true;
  w.srv[1].old_mapped_only = true;
  char list[128];
  ethp2p_nat *nat = make_stun(&w, server_list(&w, list, sizeof list));
  rec r = {.sim = w.sim};
  ethp2p_time t0 = ethp2p_sim_now(w.sim);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(w.sim, 20 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(w.srv[0].requests, 4);
  ck_assert_uint_eq(w.srv[1].requests, 1);
  ck_assert_uint_ge(r.at - t0, 7500 * ETHP2P_MSEC);
  ck_assert_uint_le(r.at - t0, 7600 * ETHP2P_MSEC);
  ethp2p_addr want = ethp2p_sim_nat_external_addr(w.box);
  ck_assert(ethp2p_addr_equal(&r.ip, &want, false));
  ethp2p_nat_destroy(nat);
  world_free(&w);
}
END_TEST

START_TEST(all_servers_silent_times_out_and_counts_a_failure) {
  world w;
  world_init(&w, 44);
  w.srv[0].silent = w.srv[1].silent = true;
  char list[128];
  ethp2p_nat *nat = make_stun(&w, server_list(&w, list, sizeof list));
  rec r = {.sim = w.sim};
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(w.sim, 60 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, ETHP2P_ETIMEDOUT);
  ethp2p_nat_destroy(nat);
  world_free(&w);
}
END_TEST

START_TEST(error_response_moves_on_and_last_error_is_reported) {
  world w;
  world_init(&w, 45);
  w.srv[0].error_response = w.srv[1].error_response = true;
  char list[128];
  ethp2p_nat *nat = make_stun(&w, server_list(&w, list, sizeof list));
  rec r = {.sim = w.sim};
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(w.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, ETHP2P_EREFUSED);
  ck_assert_uint_eq(w.srv[1].requests, 1);
  ethp2p_nat_destroy(nat);
  world_free(&w);
}
END_TEST

START_TEST(host_names_are_skipped_without_dns) {
  world w;
  world_init(&w, 46);
  ethp2p_nat *nat = make_stun(&w, "stun.example.org:3478");
  rec r = {.sim = w.sim};
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), ETHP2P_ENOTFOUND);
  ethp2p_nat_destroy(nat);
  world_free(&w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_stun");
  TCase *tc = tcase_create("stun");
  tcase_add_test(tc, binding_finds_the_nat_external_address);
  tcase_add_test(tc, response_with_another_transaction_id_is_ignored);
  tcase_add_test(tc, silent_server_is_retried_then_the_next_server_answers);
  tcase_add_test(tc, all_servers_silent_times_out_and_counts_a_failure);
  tcase_add_test(tc, error_response_moves_on_and_last_error_is_reported);
  tcase_add_test(tc, host_names_are_skipped_without_dns);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
