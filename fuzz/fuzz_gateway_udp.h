/*
 * fuzz/fuzz_gateway_udp.h — shared harness of fuzz_gateway_pmp_request.c and
 * fuzz_gateway_pcp_request.c: the gateway's NAT-PMP/PCP server
 * (nat/gateway/pmp.c) on a simulated router, fed arbitrary datagrams from two
 * LAN hosts and one internet host, with time passing and router restarts in
 * between.  Header-only (static functions) so each target stays one .c file.
 *
 * Input layout:
 *   byte 0   router settings: bit 0 PCP off, bit 1 slow replies, bit 2 never the
 *            suggested port, bit 3 random ports, bit 4 lease cap 3600 s, bit 5
 *            any internal client (not only the requester), bit 6 allowed ports
 *            1024-1100 only, bit 7 NAT-PMP off
 *   byte 1   table limits: max_mappings 1 + (b & 7), max_per_client 1 + (b >> 3 & 3)
 *   then records: ctl, len, len * unit bytes (the target's unit: 1 or 4)
 *            ctl bits 0-1 sender (0, 3 = LAN host .2; 1 = LAN host .3; 2 = internet host)
 *            ctl bits 2-4 time to pass first (0, 100 ms, 1 s, 10 s, 2 min, 1 h, 1 day, 30 days)
 *            ctl bit  5   restart the router first
 *            ctl bits 6-7 handed to the target's fix-up (e.g. force a valid header)
 *
 * Invariants checked after every datagram (abort() on violation):
 *   - a datagram with the response bit, shorter than 2 bytes, or from the internet gets no reply;
 *   - at most one reply per request, and it decodes as a NAT-PMP reply or PCP
 *     response carrying the request's opcode with the response bit;
 *   - the table stays within max_mappings and max_per_client, holds no two
 *     mappings of one protocol and external port, only allowed ports, and leases
 *     within the cap;
 * and when the world is torn down nothing is left allocated (libFuzzer's leak check).
 */
#ifndef FUZZ_GATEWAY_UDP_H
#define FUZZ_GATEWAY_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/gateway.h"
#include "ethp2p/log.h"
#include "ethp2p/sim.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"

#define FGW_MAX_RECORDS 64
#define FGW_SEED 0x5eedf022u
#define FGW_CLIENT_PORT 40000

typedef struct fgw_sock {
  ethp2p_udp *udp;
  int n; /* datagrams received */
  uint8_t last[ETHP2P_PCP_MAX_LEN];
  size_t last_len;
  ethp2p_addr last_from;
} fgw_sock;

typedef struct fgw {
  ethp2p_sim *sim;
  ethp2p_sim_nat *nat;
  ethp2p_sim_host *box, *hosts[3];
  ethp2p_addr addrs[3];
  fgw_sock socks[3];
  ethp2p_gw_config cfg;
  ethp2p_gateway *gw;
  ethp2p_addr gwaddr, ext;
} fgw;

/* Fix-up a target applies to each datagram before it is sent (bits = ctl >> 6). */
typedef void (*fgw_fixup_fn)(uint8_t *buf, size_t len, unsigned bits, const ethp2p_addr *sender);

static void fgw_log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                         const char *kv) {
  (void)data;
  (void)level;
  (void)module;
  (void)msg;
  (void)kv;
}

static void fgw_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                     void *data) {
  fgw_sock *s = data;
  (void)udp;
  s->n++;
  s->last_from = *from;
  s->last_len = len < sizeof s->last ? len : sizeof s->last;
  memcpy(s->last, buf, s->last_len);
}

static void fgw_policy(ethp2p_gw_config *cfg, uint8_t flags, uint8_t limits) {
  ethp2p_gw_policy *p = &cfg->policy;
  p->pcp = (flags & 0x01) == 0;
  p->pmp = (flags & 0x80) == 0;
  if (!p->pmp && !p->pcp)
    p->pmp = true;
  if (flags & 0x02)
    cfg->quirks |= ETHP2P_GW_Q_SLOW;
  if (flags & 0x04)
    cfg->quirks |= ETHP2P_GW_Q_PMP_ALT_PORT;
  if (flags & 0x08)
    cfg->quirks |= ETHP2P_GW_Q_RANDOM_PORT;
  if (flags & 0x10)
    p->lease_cap_s = 3600;
  if (flags & 0x20)
    p->internal_must_be_requester = false;
  if (flags & 0x40) {
    p->n_allow = 1;
    p->allow[0].lo = 1024;
    p->allow[0].hi = 1100;
  }
  p->max_mappings = 1u + (limits & 7u);
  p->max_per_client = 1u + ((limits >> 3) & 3u);
  cfg->slow_ms = 200;
  cfg->announce_count = 2;
}

static int fgw_setup(fgw *f, uint8_t flags, uint8_t limits) {
  static const char *names[2] = {"alice", "bob"};
  memset(f, 0, sizeof *f);
  ethp2p_log_set_sink(fgw_log_sink, NULL, ETHP2P_LOG_TRACE);
  if (ethp2p_sim_create(&f->sim, FGW_SEED) != 0)
    abort();
  if (ethp2p_sim_nat_create(f->sim, &f->nat, "router", NULL) != 0)
    abort();
  f->box = ethp2p_sim_nat_host(f->nat);
  for (int i = 0; i < 2; i++)
    if (ethp2p_sim_nat_add_host(f->nat, &f->hosts[i], names[i], NULL) != 0)
      abort();
  if (ethp2p_sim_host_create_public(f->sim, &f->hosts[2], "peer", NULL) != 0)
    abort();
  f->gwaddr = ethp2p_sim_nat_inside_addr(f->nat);
  f->ext = ethp2p_sim_nat_external_addr(f->nat);
  for (int i = 0; i < 3; i++) {
    ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, FGW_CLIENT_PORT);
    f->addrs[i] = ethp2p_sim_host_addr(f->hosts[i]);
    if (ethp2p_udp_open(ethp2p_sim_host_env(f->hosts[i]), &f->socks[i].udp, &any,
                        ETHP2P_UDP_REUSEADDR, fgw_recv, &f->socks[i]) != 0)
      abort();
  }
  ethp2p_gw_config_default(&f->cfg);
  f->cfg.lan_addr = f->gwaddr;
  f->cfg.external_ip = f->ext;
  f->cfg.policy.upnp = false; /* only the UDP server is under test */
  fgw_policy(&f->cfg, flags, limits);
  if (ethp2p_gw_create(ethp2p_sim_host_env(f->box), &f->cfg, &f->gw) != 0)
    abort();
  if (ethp2p_gw_start(f->gw) != 0)
    abort();
  ethp2p_sim_run(f->sim, 2 * ETHP2P_SEC); /* start-up announcements */
  return 0;
}

static void fgw_teardown(fgw *f) {
  for (int i = 0; i < 3; i++)
    ethp2p_udp_close(f->socks[i].udp);
  ethp2p_gw_destroy(f->gw);
  ethp2p_sim_destroy(f->sim);
  ethp2p_log_set_sink(NULL, NULL, ETHP2P_LOG_INFO);
}

/* The table invariants of the policy in force. */
static void fgw_check_table(const fgw *f) {
  ethp2p_gw_mapping m[16];
  const ethp2p_gw_policy *p = &f->cfg.policy;
  size_t n = ethp2p_gw_mappings(f->gw, m, 16);
  if (n > p->max_mappings || n > 16)
    abort();
  for (size_t i = 0; i < n; i++) {
    size_t same_client = 0;
    if (m[i].external_port == 0 || !ethp2p_gw_policy_port_allowed(p, m[i].external_port))
      abort();
    if (m[i].internal.port == 0 || m[i].internal.family != 4)
      abort();
    if (p->lease_cap_s != 0 && (m[i].lease_s == 0 || m[i].lease_s > p->lease_cap_s))
      abort();
    if (p->internal_must_be_requester && !ethp2p_addr_equal(&m[i].internal, &f->addrs[0], false) &&
        !ethp2p_addr_equal(&m[i].internal, &f->addrs[1], false))
      abort(); /* only LAN hosts that asked for themselves */
    for (size_t j = 0; j < n; j++) {
      if (j != i && m[j].proto == m[i].proto && m[j].external_port == m[i].external_port)
        abort();
      if (ethp2p_addr_equal(&m[j].internal, &m[i].internal, false))
        same_client++;
    }
    if (same_client > p->max_per_client)
      abort();
  }
}

/* A reply must be the answer to `req` (the opcode with the response bit). */
static void fgw_check_reply(const uint8_t *req, size_t req_len, const fgw_sock *s) {
  (void)req_len;
  if (s->last_len < 4)
    abort();
  if (s->last[1] != (uint8_t)(0x80 | (req[1] & 0x7f)))
    abort();
  if (s->last[0] == ETHP2P_PMP_VERSION) {
    ethp2p_pmp_reply r;
    /* An unsupported opcode (> 2) is answered by echoing the request with result 5
     * (RFC 6886 §3.5), which may be shorter than the 8-byte header. */
    bool echo = req[0] == ETHP2P_PMP_VERSION && (req[1] & 0x7f) > ETHP2P_PMP_OP_MAP_TCP &&
                s->last[2] == 0 && s->last[3] == ETHP2P_PMP_RESULT_UNSUPP_OPCODE;
    if (!echo && ethp2p_pmp_reply_decode(&r, s->last, s->last_len, NULL) != 0)
      abort();
  } else if (s->last[0] == ETHP2P_PCP_VERSION) {
    ethp2p_pcp_response r;
    if (ethp2p_pcp_response_decode(&r, s->last, s->last_len, NULL) != 0)
      abort();
  } else {
    abort();
  }
}

static const ethp2p_time fgw_steps[8] = {
    0,           100 * ETHP2P_MSEC, ETHP2P_SEC,      10 * ETHP2P_SEC, 2 * ETHP2P_MIN,
    ETHP2P_HOUR, ETHP2P_DAY,        30 * ETHP2P_DAY,
};

/* Runs one input; unit is the datagram length unit (1 for NAT-PMP, 4 for PCP). */
static int fgw_run(const uint8_t *data, size_t size, size_t unit, fgw_fixup_fn fixup) {
  static uint8_t dgram[255 * 4 + 8];
  fgw f;
  size_t off = 2;
  int records = 0;
  if (size < 2)
    return 0;
  fgw_setup(&f, data[0], data[1]);
  while (off + 2 <= size && records++ < FGW_MAX_RECORDS) {
    uint8_t ctl = data[off];
    size_t len = (size_t)data[off + 1] * unit;
    unsigned who = ctl & 3u;
    fgw_sock *s;
    ethp2p_addr to = f.gwaddr;
    off += 2;
    if (len > size - off)
      len = size - off;
    memcpy(dgram, data + off, len);
    off += len;
    if (who == 3)
      who = 0;
    s = &f.socks[who];
    if (fixup != NULL)
      fixup(dgram, len, ctl >> 6, &f.addrs[who]);
    if (ctl & 0x20)
      (void)ethp2p_gw_restart(f.gw);
    if (fgw_steps[(ctl >> 2) & 7u] != 0)
      ethp2p_sim_run(f.sim, fgw_steps[(ctl >> 2) & 7u]);
    fgw_check_table(&f);
    if (who == 2)
      to = f.ext; /* the internet host can only aim at the outside address */
    to.port = ETHP2P_PMP_PORT;
    int before = s->n;
    if (ethp2p_udp_send(s->udp, &to, dgram, len) != 0)
      continue;
    ethp2p_sim_run(f.sim, 1500 * ETHP2P_MSEC);
    int got = s->n - before;
    /* Announcements go to port 5350, never to our client port. */
    if (got > 1)
      abort();
    if ((len < 2 || (dgram[1] & 0x80) || who == 2) && got != 0)
      abort(); /* no reply to replies, runts or the outside */
    if (got == 1) {
      if (!ethp2p_addr_equal(&s->last_from, &f.gwaddr, false) ||
          s->last_from.port != ETHP2P_PMP_PORT)
        abort();
      fgw_check_reply(dgram, len, s);
    }
    fgw_check_table(&f);
  }
  fgw_teardown(&f);
  return 0;
}

#endif
