/*
 * nat/gateway/pmp.c — NAT-PMP (RFC 6886) and PCP (RFC 6887) server on one UDP
 * socket (LAN address, port 5351), and their announcements to 224.0.0.1:5350.
 *
 * Dispatch on the version byte (RFC 6887 §9): 0 -> NAT-PMP, 2 -> PCP.  With
 * only NAT-PMP enabled, any other version gets NAT-PMP's 8-byte "unsupported
 * version" reply (RFC 6886 §3.5); with PCP enabled, a PCP UNSUPP_VERSION reply
 * carrying version 2, the highest we speak (RFC 6887 §9).
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "nat/gateway/gw_internal.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"

#define LOGMOD "gateway"

/* Error lifetimes (RFC 6887 §7.4): how long a client should consider an error valid. */
#define PCP_SHORT_ERROR_LIFETIME 30u
#define PCP_LONG_ERROR_LIFETIME 1800u
/* Lifetime clamps, as miniupnpd applies them (RFC 6887 §15 sets 120 s as the floor). */
#define PCP_MIN_LIFETIME 120u
#define PCP_MAX_LIFETIME 86400u
/* Announcement schedule (RFC 6886 §3.2.1): first at once, then 250 ms doubling. */
#define ANNOUNCE_FIRST_GAP (250 * ETHP2P_MSEC)

struct gw_pmp {
  ethp2p_gateway *gw;
  ethp2p_udp *udp;
  ethp2p_timer *announce_timer;
  unsigned announce_left;
  ethp2p_time announce_gap;
};

/* ---- NAT-PMP (RFC 6886) ----------------------------------------------------- */

static void pmp_send(ethp2p_gateway *gw, const ethp2p_addr *to, const ethp2p_pmp_reply *r) {
  uint8_t buf[ETHP2P_PMP_MAX_LEN];
  int n = ethp2p_pmp_reply_encode(buf, sizeof buf, r);
  if (n > 0)
    gw_udp_reply(gw, gw->pmp->udp, to, buf, (size_t)n);
}

static unsigned pmp_result_of(gw_status st) {
  switch (st) {
  case GW_OK:
    return ETHP2P_PMP_RESULT_SUCCESS;
  case GW_E_NOT_REQUESTER:
  case GW_E_NONCE:
  case GW_E_PORT_NOT_ALLOWED:
  case GW_E_CONFLICT:
  case GW_E_PERMANENT_ONLY:
    return ETHP2P_PMP_RESULT_NOT_AUTHORIZED;
  case GW_E_MIRROR:
    return ETHP2P_PMP_RESULT_NETWORK_FAILURE;
  case GW_E_NO_PORTS:
  case GW_E_TABLE_FULL:
  case GW_E_CLIENT_QUOTA:
  case GW_E_NOT_FOUND:
    return ETHP2P_PMP_RESULT_OUT_OF_RESOURCES;
  }
  return ETHP2P_PMP_RESULT_NETWORK_FAILURE;
}

/* §3.4: lifetime 0 deletes; internal port 0 as well deletes all of the client's
 * mappings of that protocol.  Mappings owned by a PCP nonce are left alone. */
static unsigned pmp_delete(ethp2p_gateway *gw, ethp2p_proto proto, const ethp2p_addr *client,
                           uint16_t internal_port) {
  unsigned result = ETHP2P_PMP_RESULT_SUCCESS;
  size_t i = 0;
  while (i < gw->table.n) {
    const ethp2p_gw_mapping *m = &gw->table.items[i];
    bool match = m->proto == proto && ethp2p_addr_equal(&m->internal, client, false) &&
                 (internal_port == 0 || m->internal.port == internal_port);
    if (!match) {
      i++;
      continue;
    }
    if (m->has_nonce) {
      result = ETHP2P_PMP_RESULT_NOT_AUTHORIZED;
      i++;
      continue;
    }
    gw_unmap_index(gw, i, ETHP2P_GW_DELETED);
  }
  return result;
}

static void pmp_handle(ethp2p_gateway *gw, const ethp2p_addr *from, const uint8_t *buf,
                       size_t len) {
  ethp2p_pmp_request rq;
  ethp2p_pmp_reply r;
  ethp2p_diag diag = {0};
  int rc;

  rc = ethp2p_pmp_request_decode(&rq, buf, len, &diag);
  memset(&r, 0, sizeof r);
  r.epoch_s = ethp2p_gw_epoch(gw);
  if (rc == ETHP2P_EUNSUPP && rq.version == 0) {
    uint8_t out[ETHP2P_PMP_MAX_LEN + 4];
    int n = ethp2p_pmp_unsupp_opcode_encode(out, sizeof out, buf, len < 16 ? len : 16);
    if (n > 0)
      gw_udp_reply(gw, gw->pmp->udp, from, out, (size_t)n);
    return;
  }
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Ignored NAT-PMP request", "err=%s at=%zu why=\"%s\"",
               ethp2p_err_name(rc), diag.offset, diag.msg);
    return;
  }
  r.opcode = rq.opcode;
  if (rq.opcode == ETHP2P_PMP_OP_EXTADDR) {
    memcpy(r.external_ip, gw->external_ip.ip, 4);
    pmp_send(gw, from, &r);
    return;
  }
  ethp2p_proto proto = rq.opcode == ETHP2P_PMP_OP_MAP_TCP ? ETHP2P_PROTO_TCP : ETHP2P_PROTO_UDP;
  r.internal_port = rq.internal_port;
  if (rq.lifetime_s == 0) {
    r.result = (uint16_t)pmp_delete(gw, proto, from, rq.internal_port);
    pmp_send(gw, from, &r);
    return;
  }
  if (rq.internal_port == 0) {
    /* A map request needs an internal port; refuse rather than guess. */
    r.result = ETHP2P_PMP_RESULT_NOT_AUTHORIZED;
    pmp_send(gw, from, &r);
    return;
  }
  gw_request g = {
      .origin = ETHP2P_GW_PMP,
      .proto = proto,
      .requester = *from,
      .internal = *from,
      .ext_port = rq.suggested_port,
      .key_by_internal = true,
      .lease_s = rq.lifetime_s,
      .desc = "NAT-PMP",
  };
  g.internal.port = rq.internal_port;
  ethp2p_gw_mapping m;
  gw_status st = gw_map(gw, &g, &m);
  r.result = (uint16_t)pmp_result_of(st);
  if (st == GW_OK) {
    r.mapped_port = m.external_port;
    r.lifetime_s = m.lease_s;
  }
  pmp_send(gw, from, &r);
}

/* Answers a non-zero version with NAT-PMP's 8-byte unsupported-version reply. */
static void pmp_unsupp_version(ethp2p_gateway *gw, const ethp2p_addr *from, const uint8_t *buf,
                               size_t len) {
  ethp2p_pmp_reply r;
  memset(&r, 0, sizeof r);
  r.opcode = len >= 2 ? (uint8_t)(buf[1] & 0x7f) : 0;
  r.result = ETHP2P_PMP_RESULT_UNSUPP_VERSION;
  r.header_only = true;
  r.epoch_s = ethp2p_gw_epoch(gw);
  pmp_send(gw, from, &r);
}

/* ---- PCP (RFC 6887) ---------------------------------------------------------- */

static void pcp_send(ethp2p_gateway *gw, const ethp2p_addr *to, const ethp2p_pcp_response *r) {
  uint8_t buf[ETHP2P_PCP_MAX_LEN];
  int n = ethp2p_pcp_response_encode(buf, sizeof buf, r);
  if (n > 0)
    gw_udp_reply(gw, gw->pmp->udp, to, buf, (size_t)n);
}

static void pcp_error(ethp2p_pcp_response *r, uint8_t result) {
  r->result = result;
  r->lifetime_s = ethp2p_pcp_result_is_short_lifetime(result) ? PCP_SHORT_ERROR_LIFETIME
                                                              : PCP_LONG_ERROR_LIFETIME;
}

static uint8_t pcp_result_of(gw_status st, bool prefer_failure) {
  switch (st) {
  case GW_OK:
    return ETHP2P_PCP_RESULT_SUCCESS;
  case GW_E_NOT_REQUESTER:
  case GW_E_NONCE:
  case GW_E_PERMANENT_ONLY:
    return ETHP2P_PCP_RESULT_NOT_AUTHORIZED;
  case GW_E_PORT_NOT_ALLOWED:
  case GW_E_CONFLICT:
    return prefer_failure ? ETHP2P_PCP_RESULT_CANNOT_PROVIDE_EXTERNAL
                          : ETHP2P_PCP_RESULT_NOT_AUTHORIZED;
  case GW_E_MIRROR:
    return ETHP2P_PCP_RESULT_NETWORK_FAILURE;
  case GW_E_CLIENT_QUOTA:
    return ETHP2P_PCP_RESULT_USER_EX_QUOTA;
  case GW_E_NO_PORTS:
  case GW_E_TABLE_FULL:
  case GW_E_NOT_FOUND:
    return ETHP2P_PCP_RESULT_NO_RESOURCES;
  }
  return ETHP2P_PCP_RESULT_NETWORK_FAILURE;
}

/* MAP with lifetime 0 (§15): delete if the nonce owns it; success if absent. */
static uint8_t pcp_delete(ethp2p_gateway *gw, ethp2p_proto proto, const ethp2p_addr *internal,
                          const uint8_t *nonce) {
  long i = gw_table_find_int(&gw->table, proto, internal);
  if (i < 0)
    return ETHP2P_PCP_RESULT_SUCCESS;
  const ethp2p_gw_mapping *m = &gw->table.items[i];
  if (m->has_nonce && memcmp(m->nonce, nonce, ETHP2P_PCP_NONCE_LEN) != 0)
    return ETHP2P_PCP_RESULT_NOT_AUTHORIZED;
  gw_unmap_index(gw, (size_t)i, ETHP2P_GW_DELETED);
  return ETHP2P_PCP_RESULT_SUCCESS;
}

static void pcp_map(ethp2p_gateway *gw, const ethp2p_addr *from, const ethp2p_pcp_request *rq,
                    ethp2p_pcp_response *r) {
  ethp2p_addr internal = rq->client_ip;
  bool prefer_failure = false;
  r->has_map = true;
  r->map = rq->map;
  for (size_t i = 0; i < rq->n_options; i++) {
    const ethp2p_pcp_option *o = &rq->options[i];
    if (o->code == ETHP2P_PCP_OPT_THIRD_PARTY) {
      /* §13.1: the mapping is for the address in the option. */
      if (o->len != 16) {
        pcp_error(r, ETHP2P_PCP_RESULT_MALFORMED_OPTION);
        return;
      }
      ethp2p_pcp_addr_from_wire(&internal, o->data);
    } else if (o->code == ETHP2P_PCP_OPT_PREFER_FAILURE) {
      prefer_failure = true;
    } else if (o->code == ETHP2P_PCP_OPT_FILTER) {
      /* Accepted; the emulator does not filter remote peers. */
    } else if (o->code < 128) {
      pcp_error(r, ETHP2P_PCP_RESULT_UNSUPP_OPTION);
      return;
    }
  }
  if (internal.family != 4) {
    pcp_error(r, ETHP2P_PCP_RESULT_NOT_AUTHORIZED); /* IPv4-only emulator */
    return;
  }
  if (rq->map.protocol != ETHP2P_PROTO_TCP && rq->map.protocol != ETHP2P_PROTO_UDP) {
    pcp_error(r, ETHP2P_PCP_RESULT_UNSUPP_PROTOCOL);
    return;
  }
  ethp2p_proto proto = (ethp2p_proto)rq->map.protocol;
  internal.port = rq->map.internal_port;
  if (rq->lifetime_s == 0) {
    if (!ethp2p_addr_equal(&internal, from, false) && gw->cfg.policy.internal_must_be_requester) {
      pcp_error(r, ETHP2P_PCP_RESULT_NOT_AUTHORIZED);
      return;
    }
    uint8_t res = pcp_delete(gw, proto, &internal, rq->map.nonce);
    if (res != 0) {
      pcp_error(r, res);
      return;
    }
    r->lifetime_s = 0;
    return;
  }
  if (rq->map.internal_port == 0) {
    pcp_error(r, ETHP2P_PCP_RESULT_MALFORMED_REQUEST);
    return;
  }
  uint32_t lifetime = rq->lifetime_s;
  if (lifetime < PCP_MIN_LIFETIME)
    lifetime = PCP_MIN_LIFETIME;
  if (lifetime > PCP_MAX_LIFETIME)
    lifetime = PCP_MAX_LIFETIME;
  gw_request g = {
      .origin = ETHP2P_GW_PCP,
      .proto = proto,
      .requester = *from,
      .internal = internal,
      .ext_port = rq->map.external_port,
      .exact = prefer_failure && rq->map.external_port != 0,
      .key_by_internal = true,
      .lease_s = lifetime,
      .desc = "PCP",
      .nonce = rq->map.nonce,
  };
  ethp2p_gw_mapping m;
  gw_status st = gw_map(gw, &g, &m);
  if (st != GW_OK) {
    pcp_error(r, pcp_result_of(st, prefer_failure));
    return;
  }
  r->lifetime_s = m.lease_s;
  r->map.external_port = m.external_port;
  r->map.external_ip = gw->external_ip;
}

static void pcp_handle(ethp2p_gateway *gw, const ethp2p_addr *from, const uint8_t *buf,
                       size_t len) {
  ethp2p_pcp_request rq;
  ethp2p_pcp_response r;
  ethp2p_diag diag = {0};
  int rc = ethp2p_pcp_request_decode(&rq, buf, len, &diag);

  memset(&r, 0, sizeof r);
  r.version = ETHP2P_PCP_VERSION;
  r.opcode = len >= 2 ? (uint8_t)(buf[1] & 0x7f) : 0;
  r.epoch_s = ethp2p_gw_epoch(gw);
  switch (rc) {
  case 0:
    break;
  case ETHP2P_EUNSUPP:
    pcp_error(&r, rq.version != ETHP2P_PCP_VERSION ? ETHP2P_PCP_RESULT_UNSUPP_VERSION
                                                   : ETHP2P_PCP_RESULT_UNSUPP_OPCODE);
    pcp_send(gw, from, &r);
    return;
  case ETHP2P_ETOOBIG:
    pcp_error(&r, ETHP2P_PCP_RESULT_MALFORMED_OPTION);
    pcp_send(gw, from, &r);
    return;
  case ETHP2P_ETRUNC:
    /* §8.3: answer a short request if at least the opcode can be read. */
    if (len >= 4 && (len % 4) == 0 && (buf[1] & ETHP2P_PCP_R_BIT) == 0) {
      pcp_error(&r, ETHP2P_PCP_RESULT_MALFORMED_REQUEST);
      pcp_send(gw, from, &r);
    }
    return;
  default: /* EPROTO: responses, bad lengths — silently dropped (§7, §8.3) */
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Ignored PCP packet", "err=%s at=%zu why=\"%s\"",
               ethp2p_err_name(rc), diag.offset, diag.msg);
    return;
  }
  r.opcode = rq.opcode;
  /* §8.3: the client address must be the packet's source (no NAT in between). */
  if (!ethp2p_addr_equal(&rq.client_ip, from, false)) {
    if (rq.opcode == ETHP2P_PCP_OP_MAP) {
      r.has_map = true;
      r.map = rq.map;
    }
    pcp_error(&r, ETHP2P_PCP_RESULT_ADDRESS_MISMATCH);
    pcp_send(gw, from, &r);
    return;
  }
  if (rq.opcode == ETHP2P_PCP_OP_ANNOUNCE) {
    r.lifetime_s = 0; /* §14.1: success, lifetime 0 */
    pcp_send(gw, from, &r);
    return;
  }
  pcp_map(gw, from, &rq, &r);
  pcp_send(gw, from, &r);
}

/* ---- socket and dispatch -------------------------------------------------------- */

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  ethp2p_gateway *gw = data;
  (void)udp;
  if (len < 2 || from->family != 4 || !gw_from_lan(gw, from))
    return; /* RFC 6886 §3: requests come from the internal network only */
  if (buf[1] & 0x80)
    return; /* a NAT-PMP reply or a PCP response (R bit): never answered (no ping-pong) */
  if (buf[0] == ETHP2P_PMP_VERSION && gw->cfg.policy.pmp) {
    pmp_handle(gw, from, buf, len);
  } else if (gw->cfg.policy.pcp) {
    pcp_handle(gw, from, buf, len);
  } else {
    pmp_unsupp_version(gw, from, buf, len);
  }
}

static void announce_once(ethp2p_gateway *gw) {
  struct gw_pmp *s = gw->pmp;
  uint32_t epoch = ethp2p_gw_epoch(gw);
  if (gw->cfg.policy.pmp) {
    uint8_t buf[ETHP2P_PMP_MAX_LEN];
    ethp2p_pmp_reply r;
    memset(&r, 0, sizeof r);
    r.opcode = ETHP2P_PMP_OP_EXTADDR;
    r.epoch_s = epoch;
    memcpy(r.external_ip, gw->external_ip.ip, 4);
    int n = ethp2p_pmp_reply_encode(buf, sizeof buf, &r);
    if (n > 0)
      ethp2p_udp_send(s->udp, &gw->cfg.announce_to, buf, (size_t)n);
  }
  if (gw->cfg.policy.pcp) {
    uint8_t buf[ETHP2P_PCP_HEADER_LEN];
    ethp2p_pcp_response r;
    memset(&r, 0, sizeof r);
    r.version = ETHP2P_PCP_VERSION;
    r.opcode = ETHP2P_PCP_OP_ANNOUNCE;
    r.epoch_s = epoch;
    int n = ethp2p_pcp_response_encode(buf, sizeof buf, &r);
    if (n > 0)
      ethp2p_udp_send(s->udp, &gw->cfg.announce_to, buf, (size_t)n);
  }
}

static void announce_fire(ethp2p_timer *t, void *data) {
  struct gw_pmp *s = data;
  (void)t;
  if (s->announce_left == 0)
    return;
  announce_once(s->gw);
  s->announce_left--;
  if (s->announce_left > 0) {
    ethp2p_timer_start(s->announce_timer, ethp2p_env_now(s->gw->env) + s->announce_gap);
    s->announce_gap *= 2;
  }
}

void gw_pmp_announce(ethp2p_gateway *gw) {
  struct gw_pmp *s = gw->pmp;
  if (s == NULL || gw->cfg.announce_count == 0)
    return;
  s->announce_left = gw->cfg.announce_count;
  s->announce_gap = ANNOUNCE_FIRST_GAP;
  /* The first one on the next loop turn (callbacks never run inside the call). */
  ethp2p_timer_start(s->announce_timer, ethp2p_env_now(gw->env));
}

int gw_pmp_start(ethp2p_gateway *gw) {
  struct gw_pmp *s = calloc(1, sizeof *s);
  ethp2p_addr bind = gw->cfg.lan_addr;
  int rc;
  if (s == NULL)
    return ETHP2P_ENOMEM;
  s->gw = gw;
  rc = ethp2p_timer_create(gw->env, &s->announce_timer, announce_fire, s);
  if (rc != 0)
    goto out_free;
  bind.port = gw->cfg.pmp_port;
  rc = ethp2p_udp_open(gw->env, &s->udp, &bind, 0, on_datagram, gw);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_ERROR, LOGMOD, "Cannot bind NAT-PMP/PCP socket", "port=%u err=%s",
               bind.port, ethp2p_strerror(rc));
    goto out_timer;
  }
  /* Announcements leave through the LAN interface only (TTL 1, link-local group). */
  ethp2p_udp_set_multicast(s->udp, &gw->cfg.lan_addr, 1);
  gw->pmp = s;
  return 0;

out_timer:
  ethp2p_timer_destroy(s->announce_timer);
out_free:
  free(s);
  return rc;
}

void gw_pmp_stop(ethp2p_gateway *gw) {
  struct gw_pmp *s = gw->pmp;
  if (s == NULL)
    return;
  gw_udp_cancel(gw, s->udp);
  ethp2p_udp_close(s->udp);
  ethp2p_timer_destroy(s->announce_timer);
  free(s);
  gw->pmp = NULL;
}
