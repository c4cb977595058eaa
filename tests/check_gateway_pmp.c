/* tests/check_gateway_pmp.c — the gateway's NAT-PMP (RFC 6886) and PCP (RFC 6887)
 * servers, driven with codec-built requests from simulated LAN hosts. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_gateway_fixture.h"
#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/gateway/gw_internal.h" /* white-box: tests change the policy at run time */
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"

static fx F;

static void setup(void) {
  fx_setup(&F, NULL);
}
static void one_per_client(ethp2p_gw_config *c) {
  c->policy.max_per_client = 1;
}
static void setup_quota(void) {
  fx_setup(&F, one_per_client);
}
static void teardown(void) {
  fx_teardown(&F);
}

/* ---- NAT-PMP helpers ---------------------------------------------------------- */

static int pmp_call(fx_udp *u, uint8_t op, uint16_t internal, uint16_t suggested, uint32_t life,
                    ethp2p_pmp_reply *r) {
  ethp2p_pmp_request rq = {0, op, internal, suggested, life};
  uint8_t buf[16];
  int n = ethp2p_pmp_request_encode(buf, sizeof buf, &rq);
  ck_assert_int_gt(n, 0);
  if (fx_exchange(&F, u, 5351, buf, (size_t)n) == 0)
    return ETHP2P_ETIMEDOUT;
  return ethp2p_pmp_reply_decode(r, u->buf, u->len, NULL);
}

/* ---- PCP helpers --------------------------------------------------------------- */

static void pcp_req(ethp2p_pcp_request *rq, ethp2p_addr client, uint8_t nonce_byte, uint8_t proto,
                    uint16_t internal, uint16_t suggested, uint32_t life) {
  memset(rq, 0, sizeof *rq);
  rq->version = 2;
  rq->opcode = ETHP2P_PCP_OP_MAP;
  rq->lifetime_s = life;
  client.port = 0;
  rq->client_ip = client;
  memset(rq->map.nonce, nonce_byte, sizeof rq->map.nonce);
  rq->map.protocol = proto;
  rq->map.internal_port = internal;
  rq->map.external_port = suggested;
}

static int pcp_call(fx_udp *u, const ethp2p_pcp_request *rq, ethp2p_pcp_response *r) {
  uint8_t buf[ETHP2P_PCP_MAX_LEN];
  int n = ethp2p_pcp_request_encode(buf, sizeof buf, rq);
  ck_assert_int_gt(n, 0);
  if (fx_exchange(&F, u, 5351, buf, (size_t)n) == 0)
    return ETHP2P_ETIMEDOUT;
  return ethp2p_pcp_response_decode(r, u->buf, u->len, NULL);
}

/* ---- NAT-PMP --------------------------------------------------------------------- */

START_TEST(pmp_external_address_reply_has_ip_and_epoch) {
  fx_udp u;
  ethp2p_pmp_reply r;
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, 0, 0, 0, 0, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_mem_eq(r.external_ip, F.ext.ip, 4);
  ck_assert_uint_ge(r.epoch_s, 119);
  ck_assert_uint_le(r.epoch_s, 121);
  ck_assert(ethp2p_addr_equal(&u.from, &F.gwaddr, false));
  ck_assert_uint_eq(u.from.port, 5351);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_map_udp_lets_outside_packets_in) {
  fx_udp u, svc, out;
  ethp2p_pmp_reply r;
  ethp2p_sim_forward fw;
  ethp2p_addr to = F.ext;
  fx_udp_open(&u, F.e1, 0);
  fx_udp_open(&svc, F.e1, 4000);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 4000, 3600, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_eq(r.internal_port, 4000);
  ck_assert_uint_eq(r.mapped_port, 4000);
  ck_assert_uint_eq(r.lifetime_s, 3600);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_ADDED), 1);
  ck_assert_int_eq(F.mappings[0].origin, ETHP2P_GW_PMP);
  ck_assert_int_eq(ethp2p_sim_nat_forward_lookup(F.nat, ETHP2P_SIM_UDP, 4000, &fw), 0);
  ck_assert_uint_eq(fw.internal.port, 4000);
  /* An unsolicited datagram from the internet reaches the LAN host. */
  fx_udp_open(&out, F.ewan, 0);
  to.port = 4000;
  ck_assert_int_eq(ethp2p_udp_send(out.udp, &to, (const uint8_t *)"hi", 2), 0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(svc.n, 1);
  ck_assert_mem_eq(svc.buf, "hi", 2);
  ethp2p_udp_close(out.udp);
  ethp2p_udp_close(svc.udp);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_without_mapping_outside_packets_are_dropped) {
  fx_udp svc, out;
  ethp2p_addr to = F.ext;
  fx_udp_open(&svc, F.e1, 4000);
  fx_udp_open(&out, F.ewan, 0);
  to.port = 4000;
  ethp2p_udp_send(out.udp, &to, (const uint8_t *)"hi", 2);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(svc.n, 0);
  ethp2p_udp_close(out.udp);
  ethp2p_udp_close(svc.udp);
}
END_TEST

START_TEST(pmp_delete_removes_mapping_and_forward) {
  fx_udp u;
  ethp2p_pmp_reply r;
  ethp2p_sim_forward fw;
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_TCP, 30303, 30303, 7200, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_TCP, 30303, 0, 0, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_eq(r.lifetime_s, 0);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_DELETED), 1);
  ck_assert_int_eq(ethp2p_sim_nat_forward_lookup(F.nat, ETHP2P_SIM_TCP, 30303, &fw),
                   ETHP2P_ENOTFOUND);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_renew_keeps_port_and_lease_expires_later) {
  fx_udp u;
  ethp2p_pmp_reply r;
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 5000, 5000, 60, &r), 0);
  ck_assert_uint_eq(r.mapped_port, 5000);
  ethp2p_sim_run(F.sim, 30 * ETHP2P_SEC);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 5000, 5000, 60, &r), 0);
  ck_assert_uint_eq(r.mapped_port, 5000);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_RENEWED), 1);
  ethp2p_sim_run(F.sim, 45 * ETHP2P_SEC); /* 75 s after the first grant, 45 after renewal */
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
  ethp2p_sim_run(F.sim, 20 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_EXPIRED), 1);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_restart_loses_mappings_and_resets_epoch) {
  fx_udp u;
  ethp2p_pmp_reply r;
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 4000, 3600, &r), 0);
  ethp2p_sim_run(F.sim, 10 * ETHP2P_MIN);
  ck_assert_int_eq(pmp_call(&u, 0, 0, 0, 0, &r), 0);
  ck_assert_uint_ge(r.epoch_s, 700);
  ethp2p_sim_nat_reboot(F.nat);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_CLEARED), 1);
  ck_assert_int_eq(pmp_call(&u, 0, 0, 0, 0, &r), 0);
  ck_assert_uint_le(r.epoch_s, 2);
  /* The client's epoch check notices. */
  ck_assert(ethp2p_pmp_epoch_lost(700, 0, r.epoch_s, 60 * ETHP2P_SEC));
  ethp2p_udp_close(u.udp);
}
END_TEST

typedef struct ann_count {
  int pmp, pcp, other, n;
  uint8_t ip[4];
  uint32_t epoch;
  ethp2p_addr from;
} ann_count;

static void ann_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                     void *data) {
  ann_count *c = data;
  ethp2p_pmp_reply r;
  ethp2p_pcp_response p;
  (void)udp;
  c->n++;
  c->from = *from;
  if (ethp2p_pmp_reply_decode(&r, buf, len, NULL) == 0 && r.opcode == 0) {
    c->pmp++;
    memcpy(c->ip, r.external_ip, 4);
    c->epoch = r.epoch_s;
  } else if (ethp2p_pcp_response_decode(&p, buf, len, NULL) == 0 &&
             p.opcode == ETHP2P_PCP_OP_ANNOUNCE) {
    c->pcp++;
  } else {
    c->other++;
  }
}

static ethp2p_udp *ann_listen(ethp2p_env *env, ethp2p_addr iface, ann_count *c) {
  ethp2p_addr group = ethp2p_addr_v4(224, 0, 0, 1, 0);
  ethp2p_addr bind = ethp2p_addr_v4(224, 0, 0, 1, 5350);
  ethp2p_udp *u;
  memset(c, 0, sizeof *c);
  ck_assert_int_eq(ethp2p_udp_open(env, &u, &bind, ETHP2P_UDP_REUSEADDR, ann_recv, c), 0);
  ck_assert_int_eq(ethp2p_udp_join(u, &group, &iface), 0);
  return u;
}

START_TEST(announcements_reach_the_lan_on_address_change) {
  ann_count c;
  ethp2p_addr newip = ethp2p_addr_v4(20, 9, 9, 9, 0);
  ethp2p_udp *u = ann_listen(F.e2, ethp2p_sim_host_addr(F.h2), &c);
  ck_assert_int_eq(ethp2p_sim_nat_set_external_addr(F.nat, &newip), 0);
  /* The first pair at once ... */
  ethp2p_sim_run(F.sim, 100 * ETHP2P_MSEC);
  ck_assert_int_eq(c.pmp, 1);
  ck_assert_int_eq(c.pcp, 1);
  /* ... ten of each within about two minutes (250 ms doubling). */
  ethp2p_sim_run(F.sim, 3 * ETHP2P_MIN);
  ck_assert_int_eq(c.pmp, 10);
  ck_assert_int_eq(c.pcp, 10);
  ck_assert_int_eq(c.other, 0);
  ck_assert_mem_eq(c.ip, newip.ip, 4);
  ck_assert(ethp2p_addr_equal(&c.from, &F.gwaddr, false));
  ck_assert_uint_eq(c.from.port, 5351);
  ethp2p_udp_close(u);
}
END_TEST

START_TEST(restart_announces_a_small_epoch_and_pmp_only_sends_no_pcp) {
  ann_count c;
  ethp2p_udp *u = ann_listen(F.e1, ethp2p_sim_host_addr(F.h1), &c);
  F.gw->cfg.policy.pcp = false;
  ethp2p_sim_run(F.sim, 10 * ETHP2P_MIN);
  c.pmp = c.pcp = 0; /* the start-up series ends at 127.75 s */
  ethp2p_sim_nat_reboot(F.nat);
  ethp2p_sim_run(F.sim, 100 * ETHP2P_MSEC);
  ck_assert_int_eq(c.pmp, 1);
  ck_assert_int_eq(c.pcp, 0);
  ck_assert_uint_le(c.epoch, 1);
  ethp2p_udp_close(u);
}
END_TEST

START_TEST(pmp_unsupported_opcode_is_answered_with_result_5) {
  fx_udp u;
  uint8_t req[12] = {0, 3, 0, 0, 0x0f, 0xa0, 0x0f, 0xa0, 0, 0, 0x0e, 0x10};
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, req, sizeof req), 1);
  ck_assert_uint_ge(u.len, 4);
  ck_assert_uint_eq(u.buf[1], 128 + 3);
  ck_assert_uint_eq(u.buf[3], ETHP2P_PMP_RESULT_UNSUPP_OPCODE);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(replies_and_responses_are_never_answered) {
  fx_udp u;
  uint8_t pmp_reply[12] = {0, 128, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4};
  uint8_t pcp_resp[24] = {2, 0x81, 0, 0};
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, pmp_reply, sizeof pmp_reply), 0);
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, pcp_resp, sizeof pcp_resp), 0);
  F.gw->cfg.policy.pmp = false;
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, pmp_reply, sizeof pmp_reply), 0);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_client_quota_gives_out_of_resources) {
  fx_udp u;
  ethp2p_pmp_reply r;
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 1, 1, 3600, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 2, 2, 3600, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PMP_RESULT_OUT_OF_RESOURCES);
  ck_assert_uint_eq(r.mapped_port, 0);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_alt_port_quirk_grants_another_port) {
  fx_udp u;
  ethp2p_pmp_reply r;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_PMP_ALT_PORT);
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 4000, 3600, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_ne(r.mapped_port, 4000);
  ck_assert_uint_ne(r.mapped_port, 0);
  /* Renewing with the granted port as the hint keeps it. */
  uint16_t got = r.mapped_port;
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, got, 3600, &r), 0);
  ck_assert_uint_eq(r.mapped_port, got);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_port_outside_allowed_range_gets_an_allowed_one) {
  fx_udp u;
  ethp2p_pmp_reply r;
  ethp2p_gw_policy *p = &F.gw->cfg.policy;
  ck_assert_int_eq(ethp2p_gw_policy_parse_allow(p, "20000-20010"), 0);
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 4000, 3600, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_ge(r.mapped_port, 20000);
  ck_assert_uint_le(r.mapped_port, 20010);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_cannot_touch_a_pcp_owned_mapping) {
  fx_udp u;
  ethp2p_pmp_reply r;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response resp;
  fx_udp_open(&u, F.e1, 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 0x11, 17, 4000, 4000, 3600);
  ck_assert_int_eq(pcp_call(&u, &rq, &resp), 0);
  ck_assert_uint_eq(resp.result, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 4000, 3600, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PMP_RESULT_NOT_AUTHORIZED);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 0, 0, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PMP_RESULT_NOT_AUTHORIZED);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pmp_forwarder_refusal_is_network_failure) {
  fx_udp u;
  ethp2p_pmp_reply r;
  F.mirror_fail = 1;
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 4000, 3600, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PMP_RESULT_NETWORK_FAILURE);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ethp2p_udp_close(u.udp);
}
END_TEST

/* ---- PCP ------------------------------------------------------------------------- */

START_TEST(pcp_map_grants_and_clamps_lifetimes) {
  fx_udp u;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  fx_udp_open(&u, F.e1, 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 0x01, 6, 30303, 30303, 10);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_eq(r.lifetime_s, 120);
  ck_assert(r.has_map);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ck_assert(ethp2p_addr_equal(&r.map.external_ip, &F.ext, false));
  ck_assert_mem_eq(r.map.nonce, rq.map.nonce, 12);
  ck_assert_uint_ge(r.epoch_s, 119);
  rq.lifetime_s = 1000000;
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.lifetime_s, 86400);
  ck_assert_uint_eq(r.map.external_port, 30303);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pcp_renew_or_delete_with_another_nonce_is_not_authorized) {
  fx_udp u;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  fx_udp_open(&u, F.e1, 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 0xaa, 17, 9000, 9000, 600);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  memset(rq.map.nonce, 0xbb, 12);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_NOT_AUTHORIZED);
  ck_assert_uint_gt(r.lifetime_s, 0); /* how long the error holds */
  rq.lifetime_s = 0;
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_NOT_AUTHORIZED);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
  /* The owner deletes it. */
  memset(rq.map.nonce, 0xaa, 12);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_eq(r.lifetime_s, 0);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pcp_mapping_for_another_host_is_refused) {
  fx_udp u;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  ethp2p_addr other = ethp2p_sim_host_addr(F.h2);
  fx_udp_open(&u, F.e1, 0);
  /* THIRD_PARTY option naming bob, sent by alice. */
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 0x01, 6, 8080, 8080, 600);
  rq.n_options = 1;
  rq.options[0].code = ETHP2P_PCP_OPT_THIRD_PARTY;
  rq.options[0].len = 16;
  ethp2p_pcp_addr_to_wire(rq.options[0].data, &other);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_NOT_AUTHORIZED);
  /* A client address that is not the packet's source. */
  pcp_req(&rq, other, 0x01, 6, 8080, 8080, 600);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_ADDRESS_MISMATCH);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pcp_version_negotiation) {
  fx_udp u;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  uint8_t buf[64];
  int n;
  fx_udp_open(&u, F.e1, 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 0x01, 6, 8080, 8080, 600);
  n = ethp2p_pcp_request_encode(buf, sizeof buf, &rq);
  buf[0] = 3; /* a future version */
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, buf, (size_t)n), 1);
  ck_assert_int_eq(ethp2p_pcp_response_decode(&r, u.buf, u.len, NULL), 0);
  ck_assert_uint_eq(r.version, 2);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_UNSUPP_VERSION);
  /* Version 0 is NAT-PMP. */
  uint8_t pmp[2] = {0, 0};
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, pmp, 2), 1);
  ck_assert_uint_eq(u.len, 12);
  ck_assert_uint_eq(u.buf[0], 0);
  ck_assert_uint_eq(u.buf[1], 128);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pcp_announce_and_unsupported_opcode) {
  fx_udp u;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  uint8_t buf[64];
  int n;
  fx_udp_open(&u, F.e1, 0);
  memset(&rq, 0, sizeof rq);
  rq.version = 2;
  rq.opcode = ETHP2P_PCP_OP_ANNOUNCE;
  rq.client_ip = ethp2p_sim_host_addr(F.h1);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_eq(r.opcode, ETHP2P_PCP_OP_ANNOUNCE);
  ck_assert_uint_eq(r.lifetime_s, 0);
  n = ethp2p_pcp_request_encode(buf, sizeof buf, &rq);
  buf[1] = 5; /* unknown opcode */
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, buf, (size_t)n), 1);
  ck_assert_int_eq(ethp2p_pcp_response_decode(&r, u.buf, u.len, NULL), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_UNSUPP_OPCODE);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pcp_client_quota_is_user_ex_quota) {
  fx_udp u;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  fx_udp_open(&u, F.e1, 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 1, 6, 1000, 1000, 600);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 2, 6, 1001, 1001, 600);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_USER_EX_QUOTA);
  ck_assert_uint_eq(r.lifetime_s, 30);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(pcp_prefer_failure_refuses_a_taken_port) {
  fx_udp u1, u2;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  fx_udp_open(&u1, F.e1, 0);
  fx_udp_open(&u2, F.e2, 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 1, 17, 7000, 7000, 600);
  ck_assert_int_eq(pcp_call(&u1, &rq, &r), 0);
  ck_assert_uint_eq(r.map.external_port, 7000);
  /* Bob without PREFER_FAILURE gets another port ... */
  pcp_req(&rq, ethp2p_sim_host_addr(F.h2), 2, 17, 7000, 7000, 600);
  ck_assert_int_eq(pcp_call(&u2, &rq, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_ne(r.map.external_port, 7000);
  /* ... and with it, CANNOT_PROVIDE_EXTERNAL. */
  pcp_req(&rq, ethp2p_sim_host_addr(F.h2), 3, 17, 7001, 7000, 600);
  rq.n_options = 1;
  rq.options[0].code = ETHP2P_PCP_OPT_PREFER_FAILURE;
  ck_assert_int_eq(pcp_call(&u2, &rq, &r), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_CANNOT_PROVIDE_EXTERNAL);
  ethp2p_udp_close(u1.udp);
  ethp2p_udp_close(u2.udp);
}
END_TEST

START_TEST(pcp_only_gateway_answers_version_0_with_unsupp_version) {
  fx_udp u;
  uint8_t pmp[2] = {0, 0};
  ethp2p_pcp_response r;
  F.gw->cfg.policy.pmp = false;
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, pmp, 2), 0); /* too short for PCP: dropped */
  uint8_t pmp4[12] = {0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 60};
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, pmp4, 12), 1);
  ck_assert_int_eq(ethp2p_pcp_response_decode(&r, u.buf, u.len, NULL), 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_UNSUPP_VERSION);
  ethp2p_udp_close(u.udp);
}
END_TEST

/* The real PCP client against the emulator as a PCP-only router (issue 12
 * defect 5): the address query is answered at once (PCP ANNOUNCE, 0.0.0.0
 * before any MAP), the MAP carries the external address, and later queries
 * report it. */
typedef struct cl_rec {
  int calls, status;
  ethp2p_addr ip;
  ethp2p_nat_map_result map;
} cl_rec;
static void cl_on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  cl_rec *r = data;
  (void)nat;
  r->calls++;
  r->status = status;
  memset(&r->ip, 0, sizeof r->ip);
  if (ip != NULL)
    r->ip = *ip;
}
static void cl_on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  cl_rec *r = data;
  (void)nat;
  r->calls++;
  r->map = *res;
}
static ethp2p_nat *cl_make(ethp2p_env *env, const char *text) {
  ethp2p_nat_spec spec;
  ethp2p_nat *nat;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, text, NULL, 0), 0);
  ck_assert_int_eq(ethp2p_nat_create(env, &spec, &nat), 0);
  return nat;
}

START_TEST(pcp_client_against_a_pcp_only_router) {
  cl_rec r;
  memset(&r, 0, sizeof r);
  F.gw->cfg.policy.pmp = false;
  ethp2p_nat *nat = cl_make(F.e1, "pcp");
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, cl_on_extip, &r), 0);
  /* the router drops the 2-byte NAT-PMP request (RFC 6887 §8.3) and answers
   * the ANNOUNCE: PCP only, decided after a 2 s grace, not NAT-PMP's 128 s */
  ethp2p_sim_run(F.sim, 3 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert(ethp2p_addr_is_unspecified(&r.ip));
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, cl_on_map, &r),
                   0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 2);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert(ethp2p_addr_equal(&r.map.external_ip, &F.ext, false));
  ck_assert_uint_ge(r.map.renew_after_ms, r.map.lifetime_s * 500u);
  ck_assert_uint_le(r.map.renew_after_ms, r.map.lifetime_s * 625u);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, cl_on_extip, &r), 0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.status, 0);
  ck_assert(ethp2p_addr_equal(&r.ip, &F.ext, false));
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_ADDED), 1);
  ethp2p_nat_destroy(nat);
}
END_TEST

/* `any` against a PCP-only router with UPnP off: PCP wins, within seconds. */
static void pcp_only_router(ethp2p_gw_config *cfg) {
  cfg->policy.pmp = false;
  cfg->policy.upnp = false;
}

START_TEST(any_picks_pcp_on_a_pcp_only_router) {
  cl_rec r;
  memset(&r, 0, sizeof r);
  fx_teardown(&F);
  fx_setup(&F, pcp_only_router);
  ethp2p_nat *nat = cl_make(F.e1, "any");
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, cl_on_extip, &r), 0);
  ethp2p_sim_run(F.sim, 3 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_eq(nat->name, "PCP");
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_UDP, 0, 30303, "t", 600, cl_on_map, &r),
                   0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert(ethp2p_addr_equal(&r.map.external_ip, &F.ext, false));
  ethp2p_nat_destroy(nat);
}
END_TEST

/* The real NAT-PMP client: a delete goes by internal port (RFC 6886 §3.4), so
 * naming another external port still removes the client's mapping. */
START_TEST(pmp_client_delete_goes_by_internal_port) {
  cl_rec r;
  memset(&r, 0, sizeof r);
  ethp2p_nat *nat = cl_make(F.e1, "pmp");
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "t", 600, cl_on_map, &r),
                   0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(r.map.status, 0);
  ck_assert_uint_eq(r.map.renew_after_ms, r.map.lifetime_s * 500u);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_ADDED), 1);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 31111, 30303, NULL, NULL), 0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_DELETED), 1);
  ethp2p_nat_destroy(nat);
}
END_TEST

START_TEST(pmp_only_gateway_answers_pcp_with_pmp_unsupp_version) {
  fx_udp u;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  F.gw->cfg.policy.pcp = false;
  fx_udp_open(&u, F.e1, 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 1, 6, 1000, 1000, 600);
  ck_assert_int_eq(pcp_call(&u, &rq, &r), ETHP2P_EUNSUPP);
  ck_assert_uint_eq(r.version, 0);
  ck_assert_uint_eq(r.result, 1);
  ck_assert_uint_eq(u.len, 8);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(drop_quirk_loses_replies_and_slow_quirk_delays_them) {
  fx_udp u;
  uint8_t req[2] = {0, 0};
  ethp2p_time t0;
  F.gw->cfg.drop_percent = 100;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_DROP);
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, req, 2), 0);
  F.gw->cfg.slow_ms = 700;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_SLOW);
  t0 = ethp2p_sim_now(F.sim);
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, req, 2), 1);
  ck_assert_uint_ge(ethp2p_sim_now(F.sim) - t0, 700 * ETHP2P_MSEC);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(drop_quirk_rate_follows_the_setting) {
  fx_udp u;
  uint8_t req[2] = {0, 0};
  int got = 0;
  F.gw->cfg.drop_percent = 30;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_DROP);
  fx_udp_open(&u, F.e1, 0);
  for (int i = 0; i < 200; i++) {
    ethp2p_addr to = F.gwaddr;
    to.port = 5351;
    ethp2p_udp_send(u.udp, &to, req, 2);
    ethp2p_sim_run(F.sim, 50 * ETHP2P_MSEC);
  }
  got = u.n;
  ck_assert_int_gt(got, 200 * 55 / 100);
  ck_assert_int_lt(got, 200 * 85 / 100);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(junk_datagrams_do_not_stop_the_server) {
  fx_udp junk, u;
  ethp2p_pmp_reply r;
  ethp2p_addr to = F.gwaddr;
  uint8_t buf[128];
  to.port = 5351;
  fx_udp_open(&junk, F.e2, 0);
  for (int i = 0; i < 2000; i++) {
    uint64_t x = ethp2p_sim_random_u64(F.sim);
    size_t len = (size_t)(x % sizeof buf);
    for (size_t j = 0; j < len; j++)
      buf[j] = (uint8_t)(ethp2p_sim_random_u64(F.sim) >> 11);
    if (i % 3 == 0 && len > 0)
      buf[0] = (uint8_t)(i % 6 == 0 ? 0 : 2); /* plausible versions reach deeper code */
    ethp2p_udp_send(junk.udp, &to, buf, len);
    if (i % 100 == 0)
      ethp2p_sim_run(F.sim, 10 * ETHP2P_MSEC);
  }
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 4000, 3600, &r), 0);
  ck_assert_uint_eq(r.result, 0);
  ethp2p_udp_close(u.udp);
  ethp2p_udp_close(junk.udp);
}
END_TEST

/* A scripted session; returns the world's trace hash. */
static uint64_t scripted_run(void) {
  fx_udp u;
  ethp2p_pmp_reply r;
  ethp2p_pcp_request rq;
  ethp2p_pcp_response resp;
  uint64_t h;
  fx_setup(&F, NULL);
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(pmp_call(&u, ETHP2P_PMP_OP_MAP_UDP, 4000, 4000, 60, &r), 0);
  pcp_req(&rq, ethp2p_sim_host_addr(F.h1), 7, 6, 30303, 0, 600);
  ck_assert_int_eq(pcp_call(&u, &rq, &resp), 0);
  ethp2p_sim_nat_reboot(F.nat);
  ethp2p_sim_run(F.sim, 5 * ETHP2P_MIN);
  h = ethp2p_sim_trace_hash(F.sim);
  ethp2p_udp_close(u.udp);
  fx_teardown(&F);
  return h;
}

START_TEST(same_seed_gives_the_same_trace) {
  uint64_t a = scripted_run();
  uint64_t b = scripted_run();
  ck_assert_uint_eq(a, b);
}
END_TEST

/* Every log line is formatted (and checked by the sanitizers), then dropped. */
static void log_discard(void *data, ethp2p_log_level level, const char *module, const char *msg,
                        const char *kv) {
  (void)data;
  (void)level;
  ck_assert_ptr_nonnull(module);
  ck_assert_ptr_nonnull(msg);
  ck_assert_ptr_nonnull(kv);
}

int main(void) {
  Suite *s = suite_create("gateway_pmp");
  TCase *tc = tcase_create("pmp");
  TCase *tq = tcase_create("quota");
  SRunner *sr;
  int failed;
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, pmp_external_address_reply_has_ip_and_epoch);
  tcase_add_test(tc, pmp_map_udp_lets_outside_packets_in);
  tcase_add_test(tc, pmp_without_mapping_outside_packets_are_dropped);
  tcase_add_test(tc, pmp_delete_removes_mapping_and_forward);
  tcase_add_test(tc, pmp_renew_keeps_port_and_lease_expires_later);
  tcase_add_test(tc, pmp_restart_loses_mappings_and_resets_epoch);
  tcase_add_test(tc, announcements_reach_the_lan_on_address_change);
  tcase_add_test(tc, restart_announces_a_small_epoch_and_pmp_only_sends_no_pcp);
  tcase_add_test(tc, pmp_unsupported_opcode_is_answered_with_result_5);
  tcase_add_test(tc, pmp_alt_port_quirk_grants_another_port);
  tcase_add_test(tc, pmp_port_outside_allowed_range_gets_an_allowed_one);
  tcase_add_test(tc, pmp_cannot_touch_a_pcp_owned_mapping);
  tcase_add_test(tc, pmp_forwarder_refusal_is_network_failure);
  tcase_add_test(tc, pcp_map_grants_and_clamps_lifetimes);
  tcase_add_test(tc, pcp_renew_or_delete_with_another_nonce_is_not_authorized);
  tcase_add_test(tc, pcp_mapping_for_another_host_is_refused);
  tcase_add_test(tc, pcp_version_negotiation);
  tcase_add_test(tc, pcp_announce_and_unsupported_opcode);
  tcase_add_test(tc, pcp_prefer_failure_refuses_a_taken_port);
  tcase_add_test(tc, pcp_only_gateway_answers_version_0_with_unsupp_version);
  tcase_add_test(tc, pmp_only_gateway_answers_pcp_with_pmp_unsupp_version);
  tcase_add_test(tc, pcp_client_against_a_pcp_only_router);
  tcase_add_test(tc, any_picks_pcp_on_a_pcp_only_router);
  tcase_add_test(tc, pmp_client_delete_goes_by_internal_port);
  tcase_add_test(tc, drop_quirk_loses_replies_and_slow_quirk_delays_them);
  tcase_add_test(tc, drop_quirk_rate_follows_the_setting);
  tcase_add_test(tc, junk_datagrams_do_not_stop_the_server);
  tcase_add_test(tc, replies_and_responses_are_never_answered);
  suite_add_tcase(s, tc);
  TCase *td = tcase_create("determinism");
  tcase_add_test(td, same_seed_gives_the_same_trace);
  suite_add_tcase(s, td);
  tcase_add_checked_fixture(tq, setup_quota, teardown);
  tcase_add_test(tq, pmp_client_quota_gives_out_of_resources);
  tcase_add_test(tq, pcp_client_quota_is_user_ex_quota);
  suite_add_tcase(s, tq);
  ethp2p_log_set_sink(log_discard, NULL, ETHP2P_LOG_TRACE);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
