/*
 * tests/check_nat_pmp.c — the NAT-PMP client (nat/pmp.c) and the announcement
 * listener (nat/announce.c) in the simulated world: a host behind a NAT box
 * whose inside address runs a small scripted NAT-PMP/PCP responder written
 * here (the real gateway emulator is tested elsewhere).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"

/* ---- scripted fake gateway (shared shape with check_nat_pcp.c) ------------- */

typedef struct fake_gw {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *boxh, *host, *evil;
  ethp2p_udp *sock;      /* box inside:5351 */
  ethp2p_udp *alt_sock;  /* box inside:5352: a wrong source port */
  ethp2p_udp *evil_sock; /* evil:5351: a wrong source host */
  /* behaviour */
  unsigned drop_first;   /* ignore this many requests */
  bool silent;
  bool pmp_only;         /* answer PCP with NAT-PMP "unsupported version" */
  bool forge_first;      /* before the real reply, send forged ones from alt and evil */
  bool forge_wrong_nonce;
  bool refuse_pcp_delete; /* PCP deletes get NOT_AUTHORIZED (nonce unknown to us) */
  bool forge_wrong_opcode; /* NAT-PMP: first answer another opcode, from the right source */
  uint32_t epoch_base;   /* epoch = base + elapsed seconds */
  uint16_t grant_port;   /* 0 = the suggested port */
  uint16_t result;
  /* records */
  unsigned n_pmp, n_pcp;
  ethp2p_pmp_request last_pmp;
  ethp2p_pcp_request last_pcp;
  uint8_t nonces[8][12];
  unsigned n_nonces;
  ethp2p_addr client;
  ethp2p_time first_at, last_at;
} fake_gw;

static ethp2p_addr ext_ip(fake_gw *g) { return ethp2p_sim_nat_external_addr(g->box); }

static uint32_t epoch_now(fake_gw *g) {
  return g->epoch_base + (uint32_t)((ethp2p_sim_now(g->sim) - ETHP2P_SIM_START) / ETHP2P_SEC);
}

static void send_from(ethp2p_udp *u, const ethp2p_addr *to, const uint8_t *buf, int n) {
  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(ethp2p_udp_send(u, to, buf, (size_t)n), 0);
}

static void answer_pmp(fake_gw *g, const ethp2p_addr *from, const ethp2p_pmp_request *req) {
  ethp2p_pmp_reply r;
  memset(&r, 0, sizeof r);
  r.opcode = req->opcode;
  r.result = g->result;
  r.epoch_s = epoch_now(g);
  if (req->opcode == ETHP2P_PMP_OP_EXTADDR) {
    ethp2p_addr e = ext_ip(g);
    memcpy(r.external_ip, e.ip, 4);
  } else {
    r.internal_port = req->internal_port;
    r.mapped_port = req->lifetime_s == 0 ? 0 : g->grant_port ? g->grant_port : req->suggested_port;
    r.lifetime_s = req->lifetime_s;
  }
  uint8_t buf[16];
  if (g->forge_wrong_opcode) {
    ethp2p_pmp_reply bad = r;
    bad.opcode = req->opcode == ETHP2P_PMP_OP_MAP_TCP ? ETHP2P_PMP_OP_MAP_UDP : ETHP2P_PMP_OP_MAP_TCP;
    bad.internal_port = req->internal_port;
    bad.mapped_port = 1111;
    send_from(g->sock, from, buf, ethp2p_pmp_reply_encode(buf, sizeof buf, &bad));
  }
  if (g->forge_first) {
    ethp2p_pmp_reply bad = r;
    bad.mapped_port = 1111;
    bad.external_ip[0] = 6;
    send_from(g->alt_sock, from, buf, ethp2p_pmp_reply_encode(buf, sizeof buf, &bad));
    send_from(g->evil_sock, from, buf, ethp2p_pmp_reply_encode(buf, sizeof buf, &bad));
  }
  send_from(g->sock, from, buf, ethp2p_pmp_reply_encode(buf, sizeof buf, &r));
}

static void answer_pcp(fake_gw *g, const ethp2p_addr *from, const uint8_t *req_buf, size_t len) {
  if (g->pmp_only) {
    uint8_t v0[8] = {0, (uint8_t)(0x80 | (req_buf[1] & 0x7f)), 0, 1, 0, 0, 0, 0};
    uint32_t e = epoch_now(g);
    v0[4] = (uint8_t)(e >> 24);
    v0[5] = (uint8_t)(e >> 16);
    v0[6] = (uint8_t)(e >> 8);
    v0[7] = (uint8_t)e;
    send_from(g->sock, from, v0, 8);
    return;
  }
  ethp2p_pcp_request *q = &g->last_pcp;
  ethp2p_pcp_response r;
  memset(&r, 0, sizeof r);
  r.version = 2;
  r.opcode = q->opcode;
  r.result = (uint8_t)g->result;
  if (g->refuse_pcp_delete && q->lifetime_s == 0)
    r.result = ETHP2P_PCP_RESULT_NOT_AUTHORIZED;
  r.epoch_s = epoch_now(g);
  r.lifetime_s = r.result != 0 ? 30 : q->lifetime_s;
  r.has_map = true;
  r.map = q->map;
  r.map.external_port = q->lifetime_s == 0 ? 0 : g->grant_port ? g->grant_port : q->map.external_port;
  r.map.external_ip = ext_ip(g);
  uint8_t buf[ETHP2P_PCP_MAX_LEN];
  if (g->forge_wrong_nonce) {
    ethp2p_pcp_response bad = r;
    bad.map.nonce[0] ^= 0xff;
    bad.map.external_port = 2222;
    send_from(g->sock, from, buf, ethp2p_pcp_response_encode(buf, sizeof buf, &bad));
  }
  if (g->forge_first) {
    ethp2p_pcp_response bad = r;
    bad.map.external_port = 1111;
    send_from(g->alt_sock, from, buf, ethp2p_pcp_response_encode(buf, sizeof buf, &bad));
    send_from(g->evil_sock, from, buf, ethp2p_pcp_response_encode(buf, sizeof buf, &bad));
  }
  send_from(g->sock, from, buf, ethp2p_pcp_response_encode(buf, sizeof buf, &r));
}

static void on_gw_datagram(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                           void *data) {
  fake_gw *g = data;
  g->client = *from;
  if (g->n_pmp + g->n_pcp == 0)
    g->first_at = ethp2p_sim_now(g->sim);
  g->last_at = ethp2p_sim_now(g->sim);
  if (len >= 1 && buf[0] == 0) {
    ck_assert_int_eq(ethp2p_pmp_request_decode(&g->last_pmp, buf, len, NULL), 0);
    g->n_pmp++;
  } else {
    ck_assert_int_eq(ethp2p_pcp_request_decode(&g->last_pcp, buf, len, NULL), 0);
    g->n_pcp++;
    if (g->last_pcp.opcode == ETHP2P_PCP_OP_MAP && g->n_nonces < 8)
      memcpy(g->nonces[g->n_nonces++], g->last_pcp.map.nonce, 12);
  }
  if (g->silent || (g->drop_first > 0 && g->drop_first--))
    return;
  if (buf[0] == 0)
    answer_pmp(g, from, &g->last_pmp);
  else
    answer_pcp(g, from, buf, len);
}

static void ignore_datagram(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                            void *data) {}

static void fake_gw_init(fake_gw *g, uint64_t seed) {
  memset(g, 0, sizeof *g);
  ck_assert_int_eq(ethp2p_sim_create(&g->sim, seed), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(g->sim, &g->box, "gw", NULL), 0);
  g->boxh = ethp2p_sim_nat_host(g->box);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(g->box, &g->host, "node", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(g->box, &g->evil, "evil", NULL), 0);
  ethp2p_addr in = ethp2p_sim_nat_inside_addr(g->box);
  in.port = 5351;
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(g->boxh), &g->sock, &in, 0, on_gw_datagram, g), 0);
  in.port = 5352;
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(g->boxh), &g->alt_sock, &in, 0, ignore_datagram, g), 0);
  ethp2p_addr ev = ethp2p_sim_host_addr(g->evil);
  ev.port = 5351;
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(g->evil), &g->evil_sock, &ev, 0, ignore_datagram, g), 0);
  g->epoch_base = 1000;
}

static void fake_gw_free(fake_gw *g) {
  ethp2p_udp_close(g->sock);
  ethp2p_udp_close(g->alt_sock);
  ethp2p_udp_close(g->evil_sock);
  ethp2p_sim_destroy(g->sim);
}

/* Sends an announcement (NAT-PMP opcode 128 or PCP ANNOUNCE) to 224.0.0.1:5350 from `u`. */
static void announce(fake_gw *g, ethp2p_udp *u, bool pcp, const ethp2p_addr *ip) {
  ethp2p_addr group = ethp2p_addr_v4(224, 0, 0, 1, 5350);
  uint8_t buf[64];
  int n;
  if (pcp) {
    ethp2p_pcp_response a;
    memset(&a, 0, sizeof a);
    a.version = 2;
    a.opcode = ETHP2P_PCP_OP_ANNOUNCE;
    a.epoch_s = epoch_now(g);
    n = ethp2p_pcp_response_encode(buf, sizeof buf, &a);
  } else {
    ethp2p_pmp_reply a;
    memset(&a, 0, sizeof a);
    a.opcode = ETHP2P_PMP_OP_EXTADDR;
    a.epoch_s = epoch_now(g);
    memcpy(a.external_ip, ip->ip, 4);
    n = ethp2p_pmp_reply_encode(buf, sizeof buf, &a);
  }
  send_from(u, &group, buf, n);
}

/* ---- client-side recorders ---------------------------------------------------- */

typedef struct rec {
  int map_calls, done_calls, extip_calls, lost, announced;
  ethp2p_nat_map_result map;
  int done_status, extip_status;
  ethp2p_addr extip, announced_ip;
  ethp2p_time at;
  ethp2p_sim *sim;
} rec;

static void on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  rec *r = data;
  r->map_calls++;
  r->map = *res;
  r->at = ethp2p_sim_now(r->sim);
}
static void on_done(ethp2p_nat *nat, int status, void *data) {
  rec *r = data;
  r->done_calls++;
  r->done_status = status;
}
static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  rec *r = data;
  r->extip_calls++;
  r->extip_status = status;
  if (ip != NULL)
    r->extip = *ip;
  r->at = ethp2p_sim_now(r->sim);
}
static void on_notify(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip, void *data) {
  rec *r = data;
  if (ev == ETHP2P_NAT_EV_STATE_LOST)
    r->lost++;
  if (ev == ETHP2P_NAT_EV_EXTIP_ANNOUNCED) {
    r->announced++;
    r->announced_ip = *ip;
  }
}

static ethp2p_nat *make_nat(fake_gw *g, const char *text, rec *r) {
  ethp2p_nat_spec spec;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, text, NULL, 0), 0);
  ethp2p_nat *nat;
  ck_assert_int_eq(ethp2p_nat_create(ethp2p_sim_host_env(g->host), &spec, &nat), 0);
  memset(r, 0, sizeof *r);
  r->sim = g->sim;
  ethp2p_nat_set_notify(nat, on_notify, r);
  return nat;
}

/* ---- tests -------------------------------------------------------------------- */

START_TEST(map_succeeds_with_gateway_from_routing_table) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 1);
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ck_assert_int_eq(r.map_calls, 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert_uint_eq(r.map.lifetime_s, 600);
  ck_assert_uint_eq(g.n_pmp, 1);
  ck_assert_uint_eq(g.last_pmp.opcode, ETHP2P_PMP_OP_MAP_TCP);
  ck_assert_uint_eq(g.last_pmp.suggested_port, 30303);
  ck_assert_uint_eq(nat->conn_failures, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(router_granted_alternative_port_is_reported) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 2);
  g.grant_port = 40123;
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 30305, 30303, "t", 0, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 40123);
  ck_assert_uint_eq(g.last_pmp.opcode, ETHP2P_PMP_OP_MAP_UDP);
  ck_assert_uint_eq(g.last_pmp.suggested_port, 30305);
  ck_assert_uint_eq(g.last_pmp.lifetime_s, 7200); /* "permanent" is sent as 7200 s */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(external_ip_and_unmap_use_the_rfc_forms) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 3);
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_calls, 1);
  ck_assert_int_eq(r.extip_status, 0);
  ethp2p_addr want = ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.extip, &want, false));
  ck_assert_int_eq(r.done_calls, 1);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.n_pmp, 2); /* serialised: extaddr then delete */
  ck_assert_uint_eq(g.last_pmp.lifetime_s, 0);
  ck_assert_uint_eq(g.last_pmp.suggested_port, 0);
  ck_assert_uint_eq(g.last_pmp.internal_port, 30303);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(lost_requests_are_retransmitted_at_250ms_doubling) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 4);
  g.drop_first = 2;
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(g.n_pmp, 3);
  /* Third transmission 250 + 500 ms after the first. */
  ck_assert_uint_eq(g.last_at - g.first_at, 750 * ETHP2P_MSEC);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(silent_gateway_times_out_after_nine_tries_and_counts_a_failure) {
  fake_gw g;
  rec r, r2;
  fake_gw_init(&g, 5);
  g.silent = true;
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  memset(&r2, 0, sizeof r2);
  r2.sim = g.sim;
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, on_map, &r2), 0);
  ethp2p_time t0 = ethp2p_sim_now(g.sim);
  ethp2p_sim_run(g.sim, 127 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(r.at - t0, 127750 * ETHP2P_MSEC); /* 250 ms * (2^9 - 1) */
  ck_assert_int_eq(r2.map_calls, 1); /* the queue fails with it */
  ck_assert_int_eq(r2.map.status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(g.n_pmp, 9);
  ck_assert_uint_eq(nat->conn_failures, 1);
  /* A later success resets the count. */
  g.silent = false;
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ck_assert_uint_eq(nat->conn_failures, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(replies_from_wrong_source_port_or_host_are_ignored) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 6);
  g.forge_first = true;
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not the forged 1111 */
  ethp2p_addr want = ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.extip, &want, false));
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(router_error_code_is_reported_with_its_name) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 7);
  g.result = ETHP2P_PMP_RESULT_NOT_AUTHORIZED;
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, ETHP2P_EREFUSED);
  ck_assert_int_eq(r.map.router_code, 2);
  ck_assert_str_eq(r.map.router_msg, "NOT_AUTHORIZED");
  ck_assert_uint_eq(nat->conn_failures, 0); /* the gateway answered */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(epoch_reset_raises_state_lost_once) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 8);
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 10 * ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 10 * ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 0); /* epoch advanced with time */
  g.epoch_base = (uint32_t)0 - 15; /* the gateway "rebooted": it now reports about 5 s */
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ck_assert_int_eq(r.extip_calls, 4);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(announcement_from_gateway_notifies_and_forgery_is_ignored) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 9);
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0); /* starts the listener */
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  /* A forged announcement from another LAN host. */
  ethp2p_addr forged = ethp2p_addr_v4(6, 6, 6, 6, 0);
  announce(&g, g.evil_sock, false, &forged);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.announced, 0);
  ck_assert_int_eq(r.lost, 0);
  /* The same address announced again is not news. */
  ethp2p_addr same = ext_ip(&g);
  announce(&g, g.sock, false, &same);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.announced, 0);
  /* The gateway announces a new address. */
  ethp2p_addr fresh = ethp2p_addr_v4(203, 0, 113, 77, 0);
  announce(&g, g.sock, false, &fresh);
  announce(&g, g.sock, false, &fresh); /* repeats of a series fold */
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.announced, 1);
  ck_assert(ethp2p_addr_equal(&r.announced_ip, &fresh, false));
  ck_assert_int_eq(r.lost, 0);
  /* A restart announcement (small epoch) is a state loss. */
  g.epoch_base = (uint32_t)0 - 2;
  announce(&g, g.sock, true, NULL);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(explicit_gateway_in_spec_is_used) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 10);
  ethp2p_sim_host_set_gateway(g.host, NULL); /* no route: the spec must win */
  ethp2p_nat *nat = make_nat(&g, "pmp:192.168.1.1", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(no_default_route_falls_back_to_x_y_z_1) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 11);
  ethp2p_sim_host_set_gateway(g.host, NULL);
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0); /* 192.168.1.1 guessed */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

static void destroy_in_cb(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  int *calls = data;
  (*calls)++;
  ethp2p_nat_destroy(nat);
}

START_TEST(destroy_inside_a_callback_drops_the_rest) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 12);
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  int calls = 0;
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 1, "t", 60, destroy_in_cb, &calls), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 2, "t", 60, destroy_in_cb, &calls), 0);
  ethp2p_sim_run(g.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(calls, 1);
  fake_gw_free(&g);
}
END_TEST

START_TEST(reply_for_another_opcode_is_ignored) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 13);
  g.forge_wrong_opcode = true;
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not the UDP answer's 1111 */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(rediscover_reads_the_routing_table_again) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 14);
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ck_assert_uint_eq(g.n_pmp, 1);
  /* The default route now points at another host, which does not answer. */
  ethp2p_addr other = ethp2p_sim_host_addr(g.evil);
  ethp2p_sim_host_set_gateway(g.host, &other);
  ethp2p_nat_rediscover(nat);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, 200 * ETHP2P_SEC);
  ck_assert_int_eq(r.extip_calls, 2);
  ck_assert_int_eq(r.extip_status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(g.n_pmp, 1); /* nothing more reached the old gateway */
  ck_assert_uint_eq(nat->conn_failures, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

/* Runs one map over a LAN losing 40 % of datagrams; returns the completion time. */
static ethp2p_time lossy_map(uint64_t seed, int *status, unsigned *sent) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, seed);
  ethp2p_sim_link link = {.latency = ETHP2P_MSEC, .jitter = 2 * ETHP2P_MSEC, .loss = 0.4};
  ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_nat_lan(g.box), &link), 0);
  ethp2p_nat *nat = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_time t0 = ethp2p_sim_now(g.sim);
  ethp2p_sim_run(g.sim, 200 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  *status = r.map.status;
  *sent = g.n_pmp;
  ethp2p_time took = r.at - t0;
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
  return took;
}

START_TEST(map_survives_a_lossy_lan_deterministically) {
  unsigned successes = 0, total_sent = 0;
  for (uint64_t seed = 100; seed < 120; seed++) {
    int st1, st2;
    unsigned n1, n2;
    ethp2p_time a = lossy_map(seed, &st1, &n1);
    ethp2p_time b = lossy_map(seed, &st2, &n2);
    ck_assert_msg(a == b && st1 == st2 && n1 == n2, "seed %llu is not reproducible",
                  (unsigned long long)seed);
    if (st1 == 0)
      successes++;
    total_sent += n1;
  }
  ck_assert_uint_gt(total_sent, 25); /* the loss did force retransmissions */
  /* Each try fails with probability 1 - 0.6^2 = 0.64; 9 tries: 0.64^9 < 2 %. */
  ck_assert_uint_ge(successes, 18);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_pmp");
  TCase *tc = tcase_create("pmp");
  tcase_add_test(tc, map_succeeds_with_gateway_from_routing_table);
  tcase_add_test(tc, router_granted_alternative_port_is_reported);
  tcase_add_test(tc, external_ip_and_unmap_use_the_rfc_forms);
  tcase_add_test(tc, lost_requests_are_retransmitted_at_250ms_doubling);
  tcase_add_test(tc, silent_gateway_times_out_after_nine_tries_and_counts_a_failure);
  tcase_add_test(tc, replies_from_wrong_source_port_or_host_are_ignored);
  tcase_add_test(tc, router_error_code_is_reported_with_its_name);
  tcase_add_test(tc, epoch_reset_raises_state_lost_once);
  tcase_add_test(tc, announcement_from_gateway_notifies_and_forgery_is_ignored);
  tcase_add_test(tc, explicit_gateway_in_spec_is_used);
  tcase_add_test(tc, no_default_route_falls_back_to_x_y_z_1);
  tcase_add_test(tc, destroy_inside_a_callback_drops_the_rest);
  tcase_add_test(tc, reply_for_another_opcode_is_ignored);
  tcase_add_test(tc, rediscover_reads_the_routing_table_again);
  tcase_add_test(tc, map_survives_a_lossy_lan_deterministically);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
