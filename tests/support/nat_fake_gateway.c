/*
 * tests/support/nat_fake_gateway.c — the scripted NAT-PMP/PCP responder and
 * the client-side recorders shared by the NAT client suites; see
 * nat_fake_gateway.h.  Built into every check_nat_* suite (CMakeLists.txt), so
 * everything but the fake_gw_ API is static.
 */
#include "support/nat_fake_gateway.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* ---- scripted fake gateway ------------------------------------------------- */

ethp2p_addr fake_gw_ext_ip(fake_gw *g) {
  return ethp2p_sim_nat_external_addr(g->box);
}

/* Seconds since the gateway "booted": epoch_base plus simulated time elapsed. */
static uint32_t epoch_now(fake_gw *g) {
  return g->epoch_base + (uint32_t)((ethp2p_sim_now(g->sim) - ETHP2P_SIM_START) / ETHP2P_SEC);
}

/* ---- the table ----------------------------------------------------------- */

static bool entry_live(fake_gw *g, fake_gw_entry *e) {
  if (e->used && e->expires != 0 && ethp2p_sim_now(g->sim) >= e->expires)
    e->used = false;
  return e->used;
}

const fake_gw_entry *fake_gw_find(fake_gw *g, uint8_t proto, uint16_t ext) {
  for (int i = 0; i < FAKE_GW_TABLE; i++)
    if (entry_live(g, &g->table[i]) && g->table[i].proto == proto &&
        g->table[i].external_port == ext)
      return &g->table[i];
  return NULL;
}

unsigned fake_gw_count(fake_gw *g) {
  unsigned n = 0;
  for (int i = 0; i < FAKE_GW_TABLE; i++)
    n += entry_live(g, &g->table[i]);
  return n;
}

/* The row of (proto, internal address and port). */
static fake_gw_entry *find_internal(fake_gw *g, uint8_t proto, const ethp2p_addr *internal) {
  for (int i = 0; i < FAKE_GW_TABLE; i++) {
    fake_gw_entry *e = &g->table[i];
    if (entry_live(g, e) && e->proto == proto && ethp2p_addr_equal(&e->internal, internal, true))
      return e;
  }
  return NULL;
}

/* A free external port near `want` (held by nobody else). */
static uint16_t free_port(fake_gw *g, uint8_t proto, uint16_t want, const fake_gw_entry *mine) {
  uint16_t p = want != 0 ? want : 1024;
  for (;;) {
    const fake_gw_entry *e = fake_gw_find(g, proto, p);
    if (e == NULL || e == mine)
      return p;
    p = p == 65535 ? 1024 : (uint16_t)(p + 1);
  }
}

/* Creates or renews the row of `internal`; returns the external port granted. */
static uint16_t table_map(fake_gw *g, bool pcp, uint8_t proto, const ethp2p_addr *internal,
                          uint16_t want, uint32_t lifetime_s, const uint8_t *nonce) {
  fake_gw_entry *e = find_internal(g, proto, internal);
  if (e == NULL) {
    for (int i = 0; i < FAKE_GW_TABLE && e == NULL; i++)
      if (!entry_live(g, &g->table[i]))
        e = &g->table[i];
    ck_assert_ptr_nonnull(e);
    memset(e, 0, sizeof *e);
    e->used = true;
    e->proto = proto;
    e->internal = *internal;
    e->pcp = pcp;
    if (nonce != NULL)
      memcpy(e->nonce, nonce, 12);
  }
  e->external_port = free_port(g, proto, g->grant_port != 0 ? g->grant_port : want, e);
  e->expires = ethp2p_sim_now(g->sim) + (ethp2p_time)lifetime_s * ETHP2P_SEC;
  return e->external_port;
}

/* Sends n bytes from u; n is an encoder's result, so <= 0 is a failed encode. */
static void send_from(ethp2p_udp *u, const ethp2p_addr *to, const uint8_t *buf, int n) {
  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(ethp2p_udp_send(u, to, buf, (size_t)n), 0);
}

/* Answers a NAT-PMP request (RFC 6886 §3.2, §3.3), forgeries first if asked. */
static void answer_pmp(fake_gw *g, const ethp2p_addr *from, const ethp2p_pmp_request *req) {
  ethp2p_pmp_reply r;
  memset(&r, 0, sizeof r);
  r.opcode = req->opcode;
  r.result = g->result;
  r.epoch_s = epoch_now(g);
  if (req->opcode == ETHP2P_PMP_OP_EXTADDR) {
    ethp2p_addr e = fake_gw_ext_ip(g);
    memcpy(r.external_ip, e.ip, 4);
  } else {
    uint8_t proto = req->opcode == ETHP2P_PMP_OP_MAP_TCP ? 6 : 17;
    ethp2p_addr internal = *from;
    internal.port = req->internal_port;
    r.internal_port = req->internal_port;
    r.lifetime_s = req->lifetime_s;
    if (r.result != 0) {
      r.lifetime_s = 0;
    } else if (req->lifetime_s == 0) {
      /* §3.4: the client's mapping of this internal port goes, whatever the
       * suggested port says (a PCP-owned one stays) */
      fake_gw_entry *e = find_internal(g, proto, &internal);
      if (e != NULL && !e->pcp)
        e->used = false;
      r.mapped_port = 0;
    } else {
      fake_gw_entry *e = find_internal(g, proto, &internal);
      if (e != NULL && e->pcp)
        r.result = ETHP2P_PMP_RESULT_NOT_AUTHORIZED;
      else
        r.mapped_port =
            table_map(g, false, proto, &internal, req->suggested_port, req->lifetime_s, NULL);
    }
  }
  uint8_t buf[16];
  if (g->forge_wrong_opcode) {
    ethp2p_pmp_reply bad = r;
    bad.opcode =
        req->opcode == ETHP2P_PMP_OP_MAP_TCP ? ETHP2P_PMP_OP_MAP_UDP : ETHP2P_PMP_OP_MAP_TCP;
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

/* Answers the PCP request in g->last_pcp (RFC 6887 §11), or, for a pmp_only
 * gateway, the NAT-PMP "unsupported version" reply (RFC 6887 §9). */
static void answer_pcp(fake_gw *g, const ethp2p_addr *from, const uint8_t *req_buf, size_t len) {
  (void)len;
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
  if (!ethp2p_addr_equal(&q->client_ip, from, false))
    r.result = ETHP2P_PCP_RESULT_ADDRESS_MISMATCH; /* §8.3 */
  if (q->opcode == ETHP2P_PCP_OP_ANNOUNCE) {
    g->n_announce_req++;
    r.lifetime_s = r.result != 0 ? 30 : 0; /* §14.1: success, lifetime 0 */
    uint8_t buf[ETHP2P_PCP_MAX_LEN];
    send_from(g->sock, from, buf, ethp2p_pcp_response_encode(buf, sizeof buf, &r));
    return;
  }
  r.has_map = true;
  r.map = q->map;
  r.map.external_port = 0;
  r.map.external_ip = fake_gw_ext_ip(g);
  if (r.result == 0) {
    ethp2p_addr internal = q->client_ip;
    internal.port = q->map.internal_port;
    fake_gw_entry *e = find_internal(g, q->map.protocol, &internal);
    if (e != NULL && (!e->pcp || memcmp(e->nonce, q->map.nonce, 12) != 0)) {
      r.result = ETHP2P_PCP_RESULT_NOT_AUTHORIZED; /* §11.3: not this nonce's mapping */
    } else if (q->lifetime_s == 0) {
      if (e != NULL)
        e->used = false; /* §15: deleted (absent: success all the same) */
    } else {
      r.map.external_port = table_map(g, true, q->map.protocol, &internal, q->map.external_port,
                                      q->lifetime_s, q->map.nonce);
    }
  }
  r.lifetime_s = r.result != 0 ? 30 : q->lifetime_s;
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

/* The responder on inside:5351: records the request, then answers unless told
 * to stay silent or drop it. */
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
    if (g->last_pmp.opcode == ETHP2P_PMP_OP_EXTADDR)
      g->n_pmp_extaddr++;
  } else {
    ck_assert_int_eq(ethp2p_pcp_request_decode(&g->last_pcp, buf, len, NULL), 0);
    g->n_pcp++;
    if (g->last_pcp.opcode == ETHP2P_PCP_OP_MAP && g->n_nonces < 8)
      memcpy(g->nonces[g->n_nonces++], g->last_pcp.map.nonce, 12);
  }
  if (g->silent || (g->drop_first > 0 && g->drop_first--))
    return;
  if (buf[0] == 0 && g->pcp_only) {
    /* RFC 6887 §9: a PCP-only server answers version 0 with its own
     * UNSUPP_VERSION response, carrying version 2. */
    ethp2p_pcp_response r;
    uint8_t out[ETHP2P_PCP_MAX_LEN];
    memset(&r, 0, sizeof r);
    r.version = 2;
    r.opcode = (uint8_t)(buf[1] & 0x7f);
    r.result = ETHP2P_PCP_RESULT_UNSUPP_VERSION;
    r.lifetime_s = 30;
    r.epoch_s = epoch_now(g);
    send_from(g->sock, from, out, ethp2p_pcp_response_encode(out, sizeof out, &r));
  } else if (buf[0] == 0) {
    answer_pmp(g, from, &g->last_pmp);
  } else {
    answer_pcp(g, from, buf, len);
  }
}

/* The forgers only send. */
static void ignore_datagram(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                            void *data) {}

void fake_gw_init(fake_gw *g, uint64_t seed) {
  memset(g, 0, sizeof *g);
  ck_assert_int_eq(ethp2p_sim_create(&g->sim, seed), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(g->sim, &g->box, "gw", NULL), 0);
  g->boxh = ethp2p_sim_nat_host(g->box);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(g->box, &g->host, "node", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(g->box, &g->evil, "evil", NULL), 0);
  ethp2p_addr in = ethp2p_sim_nat_inside_addr(g->box);
  in.port = 5351;
  ck_assert_int_eq(
      ethp2p_udp_open(ethp2p_sim_host_env(g->boxh), &g->sock, &in, 0, on_gw_datagram, g), 0);
  in.port = 5352;
  ck_assert_int_eq(
      ethp2p_udp_open(ethp2p_sim_host_env(g->boxh), &g->alt_sock, &in, 0, ignore_datagram, g), 0);
  ethp2p_addr ev = ethp2p_sim_host_addr(g->evil);
  ev.port = 5351;
  ck_assert_int_eq(
      ethp2p_udp_open(ethp2p_sim_host_env(g->evil), &g->evil_sock, &ev, 0, ignore_datagram, g), 0);
  g->epoch_base = 1000;
}

void fake_gw_free(fake_gw *g) {
  ethp2p_udp_close(g->sock);
  ethp2p_udp_close(g->alt_sock);
  ethp2p_udp_close(g->evil_sock);
  ethp2p_sim_destroy(g->sim);
}

void fake_gw_announce(fake_gw *g, ethp2p_udp *u, bool pcp, const ethp2p_addr *ip) {
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

void fake_gw_on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  fake_gw_rec *r = data;
  r->map_calls++;
  r->map = *res;
  r->at = ethp2p_sim_now(r->sim);
}
void fake_gw_on_done(ethp2p_nat *nat, int status, void *data) {
  fake_gw_rec *r = data;
  r->done_calls++;
  r->done_status = status;
}
void fake_gw_on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  fake_gw_rec *r = data;
  r->extip_calls++;
  r->extip_status = status;
  if (ip != NULL)
    r->extip = *ip;
  r->at = ethp2p_sim_now(r->sim);
}
/* Counts state-lost events and keeps the last announced external address. */
static void on_notify(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip, void *data) {
  fake_gw_rec *r = data;
  if (ev == ETHP2P_NAT_EV_STATE_LOST)
    r->lost++;
  if (ev == ETHP2P_NAT_EV_EXTIP_ANNOUNCED) {
    r->announced++;
    r->announced_ip = *ip;
  }
}

ethp2p_nat *fake_gw_make_nat(fake_gw *g, const char *text, fake_gw_rec *r) {
  return fake_gw_make_nat_on(g, ethp2p_sim_host_env(g->host), text, r);
}

ethp2p_nat *fake_gw_make_nat_on(fake_gw *g, ethp2p_env *env, const char *text, fake_gw_rec *r) {
  ethp2p_nat_spec spec;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, text, NULL, 0), 0);
  ethp2p_nat *nat;
  ck_assert_int_eq(ethp2p_nat_create(env, &spec, &nat), 0);
  memset(r, 0, sizeof *r);
  r->sim = g->sim;
  ethp2p_nat_set_notify(nat, on_notify, r);
  return nat;
}

/* ---- an environment with its own interface list --------------------------------- */

static fake_gw_env *wrap_of(ethp2p_env *env) {
  return (fake_gw_env *)env;
}
static ethp2p_time w_now(ethp2p_env *env) {
  return ethp2p_env_now(wrap_of(env)->inner);
}
static int64_t w_wall(ethp2p_env *env) {
  return ethp2p_env_wall_ms(wrap_of(env)->inner);
}
static void w_random(ethp2p_env *env, uint8_t *buf, size_t len) {
  ethp2p_env_random(wrap_of(env)->inner, buf, len);
}
static int w_timer_create(ethp2p_env *env, ethp2p_timer **out, ethp2p_timer_cb cb, void *data) {
  return ethp2p_timer_create(wrap_of(env)->inner, out, cb, data);
}
static int w_udp_open(ethp2p_env *env, ethp2p_udp **out, const ethp2p_addr *bind, unsigned flags,
                      ethp2p_udp_recv_cb cb, void *data) {
  ethp2p_env *in = wrap_of(env)->inner;
  return in->ops->udp_open(in, out, bind, flags, cb, data);
}
static int w_interfaces(ethp2p_env *env, ethp2p_iface *out, size_t cap, size_t *n) {
  *n = 0;
  if (cap > 0) {
    out[0] = wrap_of(env)->iface;
    *n = 1;
  }
  return 0;
}
static int w_default_gateway(ethp2p_env *env, ethp2p_addr *gw) {
  return ethp2p_env_default_gateway(wrap_of(env)->inner, gw);
}

void fake_gw_env_wrap(fake_gw_env *w, ethp2p_env *inner, const ethp2p_addr *addr, unsigned prefix) {
  memset(w, 0, sizeof *w);
  w->inner = inner;
  w->ops = *inner->ops; /* handle operations go to the inner env through the handles */
  w->ops.now = w_now;
  w->ops.wall_ms = w_wall;
  w->ops.random = w_random;
  w->ops.timer_create = w_timer_create;
  w->ops.udp_open = w_udp_open;
  w->ops.tcp_connect = NULL;
  w->ops.tcp_listen = NULL;
  w->ops.interfaces = w_interfaces;
  w->ops.default_gateway = w_default_gateway;
  w->env.ops = &w->ops;
  w->env.impl = NULL;
  snprintf(w->iface.name, sizeof w->iface.name, "eth0");
  w->iface.addr = *addr;
  w->iface.addr.port = 0;
  w->iface.prefix_len = (uint8_t)prefix;
  w->iface.up = true;
  w->iface.multicast = true;
}

/* ---- the IPv6 PCP server (pinholes) ------------------------------------------ */

static uint32_t epoch6(fake_gw6 *g) {
  return g->epoch_base + (uint32_t)((ethp2p_env_now(g->env) - g->t0) / ETHP2P_SEC);
}

static bool live6(fake_gw6 *g, fake_gw_entry *e) {
  if (e->used && e->expires != 0 && ethp2p_env_now(g->env) >= e->expires)
    e->used = false;
  return e->used;
}

unsigned fake_gw6_count(fake_gw6 *g) {
  unsigned n = 0;
  for (int i = 0; i < FAKE_GW_TABLE; i++)
    n += live6(g, &g->table[i]);
  return n;
}

static fake_gw_entry *find6(fake_gw6 *g, uint8_t proto, const ethp2p_addr *internal,
                            uint16_t port) {
  for (int i = 0; i < FAKE_GW_TABLE; i++) {
    fake_gw_entry *e = &g->table[i];
    if (live6(g, e) && e->proto == proto && e->internal.port == port &&
        ethp2p_addr_equal(&e->internal, internal, false))
      return e;
  }
  return NULL;
}

const fake_gw_entry *fake_gw6_find(fake_gw6 *g, uint8_t proto, const ethp2p_addr *internal,
                                   uint16_t port) {
  return find6(g, proto, internal, port);
}

static bool has_prefer_failure(const ethp2p_pcp_request *q) {
  for (size_t i = 0; i < q->n_options; i++)
    if (q->options[i].code == ETHP2P_PCP_OPT_PREFER_FAILURE)
      return true;
  return false;
}

static void on_gw6_datagram(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                            void *data) {
  fake_gw6 *g = data;
  g->client = *from;
  ck_assert_int_eq(from->family, 6);
  ck_assert_uint_ge(len, 1);
  ck_assert_uint_eq(buf[0], 2); /* nobody speaks NAT-PMP over IPv6 */
  ck_assert_int_eq(ethp2p_pcp_request_decode(&g->last_pcp, buf, len, NULL), 0);
  g->n_pcp++;
  const ethp2p_pcp_request *q = &g->last_pcp;
  if (q->opcode == ETHP2P_PCP_OP_ANNOUNCE)
    g->n_announce_req++;
  if (g->silent)
    return;
  uint8_t out[ETHP2P_PCP_MAX_LEN];
  if (g->pmp_only) {
    uint8_t v0[8] = {0, (uint8_t)(0x80 | (buf[1] & 0x7f)), 0, 1, 0, 0, 0, 0};
    send_from(g->sock, from, v0, 8);
    return;
  }
  ethp2p_pcp_response r;
  memset(&r, 0, sizeof r);
  r.version = 2;
  r.opcode = q->opcode;
  r.result = g->result;
  r.epoch_s = epoch6(g);
  if (q->client_ip.family != 6)
    r.result = ETHP2P_PCP_RESULT_MALFORMED_REQUEST;
  else if (!ethp2p_addr_equal(&q->client_ip, from, false))
    r.result = ETHP2P_PCP_RESULT_ADDRESS_MISMATCH; /* §8.3 */
  if (q->opcode == ETHP2P_PCP_OP_ANNOUNCE) {
    r.lifetime_s = r.result != 0 ? 30 : 0;
    send_from(g->sock, from, out, ethp2p_pcp_response_encode(out, sizeof out, &r));
    return;
  }
  r.has_map = true;
  r.map = q->map;
  r.map.external_port = 0;
  memset(&r.map.external_ip, 0, sizeof r.map.external_ip);
  if (r.result == 0 && q->map.external_ip.family != 0 &&
      !ethp2p_addr_equal(&q->map.external_ip, &q->client_ip, false) && has_prefer_failure(q))
    r.result = ETHP2P_PCP_RESULT_CANNOT_PROVIDE_EXTERNAL;
  if (r.result == 0) {
    fake_gw_entry *e = find6(g, q->map.protocol, &q->client_ip, q->map.internal_port);
    if (e != NULL && memcmp(e->nonce, q->map.nonce, 12) != 0) {
      r.result = ETHP2P_PCP_RESULT_NOT_AUTHORIZED; /* §11.3 */
    } else if (q->lifetime_s == 0) {
      if (e != NULL)
        e->used = false; /* §15 */
      r.map.external_ip = q->client_ip;
    } else {
      if (e == NULL) {
        for (int i = 0; i < FAKE_GW_TABLE && e == NULL; i++)
          if (!live6(g, &g->table[i]))
            e = &g->table[i];
        ck_assert_ptr_nonnull(e);
        memset(e, 0, sizeof *e);
        e->used = true;
        e->pcp = true;
        e->proto = q->map.protocol;
        e->internal = q->client_ip;
        e->internal.port = q->map.internal_port;
        memcpy(e->nonce, q->map.nonce, 12);
      }
      e->external_port = q->map.internal_port; /* a pinhole: no translation */
      e->expires = ethp2p_env_now(g->env) + (ethp2p_time)q->lifetime_s * ETHP2P_SEC;
      r.map.external_port = e->external_port;
      r.map.external_ip = q->client_ip;
    }
  }
  r.lifetime_s = r.result != 0 ? 30 : q->lifetime_s;
  if (g->forge_wrong_nonce) {
    g->forge_wrong_nonce = false;
    ethp2p_pcp_response bad = r;
    bad.map.nonce[0] ^= 0xff;
    bad.map.external_port = 2222;
    send_from(g->sock, from, out, ethp2p_pcp_response_encode(out, sizeof out, &bad));
  }
  if (g->forge_first) {
    ethp2p_pcp_response bad = r;
    bad.map.external_port = 1111;
    send_from(g->alt_sock, from, out, ethp2p_pcp_response_encode(out, sizeof out, &bad));
  }
  send_from(g->sock, from, out, ethp2p_pcp_response_encode(out, sizeof out, &r));
}

void fake_gw6_init(fake_gw6 *g, ethp2p_env *env, const ethp2p_addr *server) {
  memset(g, 0, sizeof *g);
  g->env = env;
  g->server = *server;
  g->server.port = 5351;
  g->t0 = ethp2p_env_now(env);
  g->epoch_base = 1000;
  ck_assert_int_eq(ethp2p_udp_open(env, &g->sock, &g->server, 0, on_gw6_datagram, g), 0);
  ethp2p_addr alt = g->server;
  alt.port = 5352;
  ck_assert_int_eq(ethp2p_udp_open(env, &g->alt_sock, &alt, 0, ignore_datagram, g), 0);
}

void fake_gw6_free(fake_gw6 *g) {
  ethp2p_udp_close(g->sock);
  ethp2p_udp_close(g->alt_sock);
  g->sock = g->alt_sock = NULL;
}

void fake_gw6_announce(fake_gw6 *g, uint32_t ifindex, bool from_alt) {
  ethp2p_addr group;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&group, "ff02::1"), 0);
  group.port = 5350;
  group.scope = ifindex;
  ethp2p_pcp_response a;
  memset(&a, 0, sizeof a);
  a.version = 2;
  a.opcode = ETHP2P_PCP_OP_ANNOUNCE;
  a.epoch_s = epoch6(g);
  uint8_t buf[64];
  send_from(from_alt ? g->alt_sock : g->sock, &group, buf,
            ethp2p_pcp_response_encode(buf, sizeof buf, &a));
}
