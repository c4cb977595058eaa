/*
 * tests/check_nat_pcp.c — the PCP client (nat/pcp.c) with its NAT-PMP
 * downgrade, in the simulated world against a scripted responder on the NAT
 * box's inside address (same shape as the one in check_nat_pmp.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/impl.h"
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

START_TEST(map_sends_rfc6887_request_and_reports_grant) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 21);
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert_uint_eq(r.map.lifetime_s, 600);
  ck_assert_uint_eq(g.n_pcp, 1);
  ck_assert_uint_eq(g.n_pmp, 0);
  ck_assert_uint_eq(g.last_pcp.version, 2);
  ck_assert_uint_eq(g.last_pcp.opcode, ETHP2P_PCP_OP_MAP);
  ck_assert_uint_eq(g.last_pcp.map.protocol, 6);
  ck_assert_uint_eq(g.last_pcp.map.internal_port, 30303);
  ck_assert_uint_eq(g.last_pcp.map.external_port, 30303);
  ck_assert_uint_eq(g.last_pcp.lifetime_s, 600);
  /* Client IP = our LAN address, sent IPv4-mapped. */
  ethp2p_addr me = ethp2p_sim_host_addr(g.host);
  ck_assert(ethp2p_addr_equal(&g.last_pcp.client_ip, &me, false));
  ck_assert_uint_eq(g.last_pcp.map.external_ip.family, 4); /* ::ffff:0.0.0.0 */
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&g.last_pcp.map.external_ip), 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(nonce_is_kept_for_renewal_and_delete_and_differs_per_mapping) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 22);
  g.grant_port = 41000;
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(r.map.external_port, 41000);
  /* Renewal with the granted port as hint, and the assigned address suggested. */
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 41000, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(g.last_pcp.map.external_port, 41000);
  ethp2p_addr ext = ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&g.last_pcp.map.external_ip, &ext, false));
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_UDP, 41000, 30303, on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.done_calls, 1);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.last_pcp.lifetime_s, 0);
  ck_assert_uint_eq(g.n_nonces, 4);
  ck_assert_mem_eq(g.nonces[0], g.nonces[1], 12); /* renewal */
  ck_assert_mem_eq(g.nonces[0], g.nonces[3], 12); /* delete */
  ck_assert(memcmp(g.nonces[0], g.nonces[2], 12) != 0); /* TCP mapping has its own */
  /* After the delete the UDP mapping is forgotten: a new one gets a new nonce. */
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(g.n_nonces, 5);
  ck_assert(memcmp(g.nonces[0], g.nonces[4], 12) != 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(response_with_wrong_nonce_is_ignored) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 23);
  g.forge_wrong_nonce = true;
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not the forged 2222 */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(responses_from_wrong_sources_are_ignored) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 24);
  g.forge_first = true;
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_uint_eq(r.map.external_port, 30303); /* not the forged 1111 */
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(retransmits_at_three_seconds_with_jitter) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 25);
  g.drop_first = 1;
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, 10 * ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(g.n_pcp, 2);
  ethp2p_time gap = g.last_at - g.first_at;
  ck_assert_uint_ge(gap, 2700 * ETHP2P_MSEC);
  ck_assert_uint_le(gap, 3300 * ETHP2P_MSEC);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(dead_gateway_fails_within_the_bound_and_counts_a_failure) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 26);
  g.silent = true;
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_time t0 = ethp2p_sim_now(g.sim);
  ethp2p_sim_run(g.sim, 60 * ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_le(r.at - t0, 31 * ETHP2P_SEC);
  ck_assert_uint_ge(r.at - t0, 30 * ETHP2P_SEC);
  ck_assert_uint_eq(g.n_pcp, 4); /* ~0, 3, 9, 21 s */
  ck_assert_uint_eq(nat->conn_failures, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(result_code_and_error_lifetime_are_reported) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 27);
  g.result = ETHP2P_PCP_RESULT_NO_RESOURCES;
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, ETHP2P_EREFUSED);
  ck_assert_int_eq(r.map.router_code, 8);
  ck_assert_str_eq(r.map.router_msg, "NO_RESOURCES");
  ck_assert_uint_eq(r.map.lifetime_s, 30); /* how long the error holds */
  ck_assert_uint_eq(r.map.external_port, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(nat_pmp_only_gateway_downgrades_per_request_and_pcp_is_tried_again) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 28);
  g.pmp_only = true;
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 1);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert_uint_eq(g.n_pcp, 1);
  ck_assert_uint_eq(g.n_pmp, 1);
  ck_assert_uint_eq(g.last_pmp.opcode, ETHP2P_PMP_OP_MAP_TCP);
  /* The next request tries PCP first again. */
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map_calls, 2);
  ck_assert_uint_eq(g.n_pcp, 2);
  ck_assert_uint_eq(g.n_pmp, 2);
  /* A mapping made over NAT-PMP is deleted over NAT-PMP directly. */
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.n_pcp, 2);
  ck_assert_uint_eq(g.n_pmp, 3);
  ck_assert_uint_eq(g.last_pmp.lifetime_s, 0);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(external_ip_is_learned_and_epoch_reset_is_reported) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 29);
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.extip_status, 0);
  ethp2p_addr want = ext_ip(&g);
  ck_assert(ethp2p_addr_equal(&r.extip, &want, false));
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 0);
  g.epoch_base = (uint32_t)0 - 25; /* reboot: epoch ~6 s */
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ck_assert_int_eq(r.map_calls, 2);
  /* The PCP ANNOUNCE of the same restart does not report it twice. */
  announce(&g, g.sock, true, NULL);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(forged_pcp_announce_is_ignored) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 30);
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, 20 * ETHP2P_SEC);
  g.epoch_base = 0; /* would look like a restart */
  announce(&g, g.evil_sock, true, NULL);
  announce(&g, g.alt_sock, true, NULL);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 0);
  announce(&g, g.sock, true, NULL);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.lost, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(delete_of_a_mapping_made_elsewhere_falls_back_to_nat_pmp) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 31);
  g.refuse_pcp_delete = true;
  ethp2p_nat *nat = make_nat(&g, "pcp", &r);
  /* No mapping made by this client: its nonce is unknown, PCP refuses. */
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 30303, 30303, on_done, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.done_calls, 1);
  ck_assert_int_eq(r.done_status, 0);
  ck_assert_uint_eq(g.n_pcp, 1);
  ck_assert_uint_eq(g.n_pmp, 1);
  ck_assert_uint_eq(g.last_pmp.lifetime_s, 0);
  /* A mapping this client made keeps PCP's answer. */
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, on_map, &r), 0);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_UDP, 30303, 30303, on_done, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.done_calls, 2);
  ck_assert_int_eq(r.done_status, ETHP2P_EREFUSED);
  ck_assert_uint_eq(g.n_pmp, 1);
  ethp2p_nat_destroy(nat);
  fake_gw_free(&g);
}
END_TEST

START_TEST(nonce_key_makes_nonces_stable_across_instances) {
  fake_gw g;
  rec r;
  fake_gw_init(&g, 32);
  uint8_t key[32], other[32];
  memset(key, 7, sizeof key);
  memset(other, 8, sizeof other);
  ethp2p_nat *a = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(a, key), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(a, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ethp2p_nat_destroy(a);
  /* "Another run" with the same key deletes with the same nonce. */
  ethp2p_nat *b = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(b, key), 0);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(b, ETHP2P_PROTO_TCP, 30303, 30303, on_done, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.done_status, 0);
  ethp2p_nat_destroy(b);
  /* Another key, or another port, gives another nonce. */
  ethp2p_nat *c = make_nat(&g, "pcp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(c, other), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(c, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(c, ETHP2P_PROTO_TCP, 0, 30304, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, ETHP2P_SEC);
  ethp2p_nat_destroy(c);
  ck_assert_uint_eq(g.n_nonces, 4);
  ck_assert_mem_eq(g.nonces[0], g.nonces[1], 12);
  ck_assert(memcmp(g.nonces[0], g.nonces[2], 12) != 0);
  ck_assert(memcmp(g.nonces[2], g.nonces[3], 12) != 0);
  /* Only pcp and any take a key. */
  ethp2p_nat *p = make_nat(&g, "pmp", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(p, key), ETHP2P_EUNSUPP);
  ethp2p_nat_destroy(p);
  ethp2p_nat *any = make_nat(&g, "any", &r);
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(any, key), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(any, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, on_map, &r), 0);
  ethp2p_sim_run(g.sim, 2 * ETHP2P_SEC);
  ck_assert_uint_eq(g.n_nonces, 5);
  ck_assert_mem_eq(g.nonces[0], g.nonces[4], 12);
  ethp2p_nat_destroy(any);
  fake_gw_free(&g);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_pcp");
  TCase *tc = tcase_create("pcp");
  tcase_add_test(tc, map_sends_rfc6887_request_and_reports_grant);
  tcase_add_test(tc, nonce_is_kept_for_renewal_and_delete_and_differs_per_mapping);
  tcase_add_test(tc, response_with_wrong_nonce_is_ignored);
  tcase_add_test(tc, responses_from_wrong_sources_are_ignored);
  tcase_add_test(tc, retransmits_at_three_seconds_with_jitter);
  tcase_add_test(tc, dead_gateway_fails_within_the_bound_and_counts_a_failure);
  tcase_add_test(tc, result_code_and_error_lifetime_are_reported);
  tcase_add_test(tc, nat_pmp_only_gateway_downgrades_per_request_and_pcp_is_tried_again);
  tcase_add_test(tc, external_ip_is_learned_and_epoch_reset_is_reported);
  tcase_add_test(tc, forged_pcp_announce_is_ignored);
  tcase_add_test(tc, delete_of_a_mapping_made_elsewhere_falls_back_to_nat_pmp);
  tcase_add_test(tc, nonce_key_makes_nonces_stable_across_instances);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
