/*
 * nat/pmp.c — NAT-PMP client (RFC 6886) on the environment interface.
 *
 * - Gateway: the spec's address, else the routing table's default gateway,
 *   else (only when the table has none) x.y.z.1 of a private interface
 *   address (ethp2p_nat_find_gateway).  Resolved lazily at the first
 *   operation and again after rediscover().
 * - Requests are serialised: one queue, one request on the wire at a time.
 * - Retransmission (§3.1): 250 ms, doubling, 9 transmissions; 64 s after the
 *   ninth the request fails with ETHP2P_ETIMEDOUT (about 128 s in all).  A
 *   timeout fails the whole queue at once (the gateway is not answering); the
 *   caller counts connection failures from that status.
 * - Replies are believed only from the gateway's IP and port 5351 and only if
 *   they answer the outstanding request (opcode, and internal port for maps).
 * - Epoch (§3.6) is checked on every reply and announcement; a reset raises
 *   ETHP2P_NAT_EV_STATE_LOST once.
 * - Lifetime 0 in add_mapping means "permanent" in nat.h, but 0 deletes in
 *   NAT-PMP (§3.4), so it is sent as the recommended 7200 s.
 * - Map results carry renew_after_ms = half the granted lifetime (§3.3).
 * - A PCP-only server answers a NAT-PMP request with a PCP-format
 *   UNSUPP_VERSION response (version 2, RFC 6887 §9); that fails the request
 *   at once with ETHP2P_EUNSUPP (router_code 1), not after 128 s of
 *   retransmissions, so PCP's caller can tell the server speaks only PCP.
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/impl.h"
#include "nat/pmp_codec.h"

typedef enum { REQ_MAP, REQ_UNMAP, REQ_EXTIP } req_kind;

typedef struct pmp_req {
  struct pmp_req *next;
  req_kind kind;
  uint8_t opcode;
  uint16_t internal_port;
  uint16_t suggested_port;
  uint32_t lifetime_s;
  ethp2p_nat_map_cb map_cb;
  ethp2p_nat_done_cb done_cb;
  ethp2p_nat_extip_cb extip_cb;
  void *data;
} pmp_req;

typedef struct pmp_nat {
  ethp2p_nat base;
  bool listen_announcements;
  bool have_gw;
  ethp2p_addr gw; /* port 5351 */
  ethp2p_udp *udp;
  ethp2p_timer *timer;
  ethp2p_nat_announce *ann;
  ethp2p_nat_epoch own_epoch;
  ethp2p_nat_epoch *epoch; /* own_epoch, or the owner's (PCP) record */
  pmp_req *head, *tail;
  unsigned tries; /* transmissions of the head request so far */
  bool rediscover_pending;
  int busy;       /* > 0 while user callbacks run */
  bool destroyed; /* destroy() called while busy */
} pmp_nat;

static void pmp_free(pmp_nat *p) {
  pmp_req *r = p->head;
  while (r != NULL) {
    pmp_req *next = r->next;
    free(r);
    r = next;
  }
  p->head = p->tail = NULL;
  ethp2p_nat_announce_stop(p->ann);
  p->ann = NULL;
  ethp2p_udp_close(p->udp);
  p->udp = NULL;
  ethp2p_timer_destroy(p->timer);
  p->timer = NULL;
  if (p->busy == 0)
    free(p);
  else
    p->destroyed = true;
}

/* Ends a callback section; returns true if the NAT was destroyed inside it. */
static bool leave(pmp_nat *p) {
  if (--p->busy == 0 && p->destroyed) {
    free(p);
    return true;
  }
  return p->destroyed;
}

static void on_announce(void *data, ethp2p_nat_event ev, const ethp2p_addr *ip) {
  pmp_nat *p = data;
  p->busy++;
  ethp2p_nat_notify(&p->base, ev, ip);
  leave(p);
}

static void drop_gateway(pmp_nat *p) {
  ethp2p_nat_announce_stop(p->ann);
  p->ann = NULL;
  ethp2p_udp_close(p->udp);
  p->udp = NULL;
  p->have_gw = false;
  memset(p->epoch, 0, sizeof *p->epoch);
  p->rediscover_pending = false;
}

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data);
static void on_timer(ethp2p_timer *t, void *data);

/* Discovery and sockets, done at the first operation.  Errors are returned
 * synchronously by the operation (which then never calls back). */
static int ensure_ready(pmp_nat *p) {
  if (p->rediscover_pending && p->head == NULL)
    drop_gateway(p);
  if (p->timer == NULL) {
    int rc = ethp2p_timer_create(p->base.env, &p->timer, on_timer, p);
    if (rc < 0)
      return rc;
  }
  if (!p->have_gw) {
    bool guessed = false;
    int rc = ethp2p_nat_find_gateway(p->base.env, &p->base.spec, &p->gw, &guessed);
    if (rc < 0)
      return rc;
    p->gw.port = ETHP2P_PMP_PORT;
    p->have_gw = true;
    char gb[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "NAT-PMP gateway", "gateway=%s guessed=%d",
               ethp2p_addr_format(&p->gw, false, gb, sizeof gb), guessed);
  }
  if (p->udp == NULL) {
    ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 0);
    int rc = ethp2p_udp_open(p->base.env, &p->udp, &any, 0, on_datagram, p);
    if (rc < 0)
      return rc;
  }
  if (p->listen_announcements && p->ann == NULL) {
    int rc = ethp2p_nat_announce_start(p->base.env, &p->gw, p->epoch, on_announce, p, &p->ann);
    if (rc < 0)
      ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Cannot listen for NAT-PMP announcements", "err=%s",
                 ethp2p_strerror(rc));
  }
  return 0;
}

static const char *op_name(uint8_t op) {
  return op == ETHP2P_PMP_OP_EXTADDR   ? "extaddr"
         : op == ETHP2P_PMP_OP_MAP_UDP ? "map-udp"
                                       : "map-tcp";
}

static void send_head(pmp_nat *p) {
  pmp_req *r = p->head;
  ethp2p_pmp_request req = {.version = 0,
                            .opcode = r->opcode,
                            .internal_port = r->internal_port,
                            .suggested_port = r->suggested_port,
                            .lifetime_s = r->lifetime_s};
  uint8_t buf[ETHP2P_PMP_MAX_LEN];
  int n = ethp2p_pmp_request_encode(buf, sizeof buf, &req);
  ethp2p_time now = ethp2p_env_now(p->base.env);
  if (n > 0) {
    int rc = ethp2p_udp_send(p->udp, &p->gw, buf, (size_t)n);
    char gb[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "NAT-PMP request",
               "to=%s op=%s internal=%u suggested=%u lifetime=%u try=%u err=%s",
               ethp2p_addr_format(&p->gw, true, gb, sizeof gb), op_name(r->opcode),
               r->internal_port, r->suggested_port, (unsigned)r->lifetime_s, p->tries + 1,
               rc < 0 ? ethp2p_strerror(rc) : "none");
  }
  p->tries++;
  ethp2p_timer_start(p->timer, now + (ETHP2P_PMP_INITIAL_RTO << (p->tries - 1)));
}

/* Completes (pops) the head request with a status and reply. */
static bool complete_head(pmp_nat *p, int status, const ethp2p_pmp_reply *reply) {
  pmp_req *r = p->head;
  p->head = r->next;
  if (p->head == NULL)
    p->tail = NULL;
  p->tries = 0;
  ethp2p_timer_stop(p->timer);
  if (p->head != NULL)
    ethp2p_timer_start(p->timer, ethp2p_env_now(p->base.env)); /* next request, next turn */

  p->busy++;
  if (r->kind == REQ_MAP) {
    ethp2p_nat_map_result res;
    memset(&res, 0, sizeof res);
    res.status = status;
    if (reply != NULL) {
      res.router_code = reply->result;
      if (reply->result != 0)
        ethp2p_nat_copy_str(res.router_msg, sizeof res.router_msg,
                            ethp2p_pmp_result_name(reply->result));
      if (status == 0) {
        res.external_port = reply->mapped_port;
        res.lifetime_s = reply->lifetime_s;
        /* §3.3: begin renewing halfway to expiry */
        res.renew_after_ms =
            reply->lifetime_s > UINT32_MAX / 500 ? UINT32_MAX : reply->lifetime_s * 500;
      }
    }
    r->map_cb(&p->base, &res, r->data);
  } else if (r->kind == REQ_UNMAP) {
    if (r->done_cb != NULL)
      r->done_cb(&p->base, status, r->data);
  } else {
    ethp2p_addr ip;
    memset(&ip, 0, sizeof ip);
    if (status == 0 && reply != NULL)
      ip = ethp2p_addr_v4(reply->external_ip[0], reply->external_ip[1], reply->external_ip[2],
                          reply->external_ip[3], 0);
    r->extip_cb(&p->base, status, status == 0 ? &ip : NULL, r->data);
  }
  free(r);
  return leave(p);
}

static void on_timer(ethp2p_timer *t, void *data) {
  pmp_nat *p = data;
  if (p->head == NULL)
    return;
  if (p->tries < ETHP2P_PMP_MAX_TRIES) {
    send_head(p);
    return;
  }
  /* No answer to 9 transmissions: the gateway is not there. */
  char gb[ETHP2P_ADDRSTRLEN];
  ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "NAT-PMP gateway did not answer", "gateway=%s",
             ethp2p_addr_format(&p->gw, false, gb, sizeof gb));
  while (p->head != NULL)
    if (complete_head(p, ETHP2P_ETIMEDOUT, NULL))
      return;
  if (p->rediscover_pending)
    drop_gateway(p);
}

static int status_of(unsigned result) {
  switch (result) {
  case ETHP2P_PMP_RESULT_SUCCESS:
    return 0;
  case ETHP2P_PMP_RESULT_UNSUPP_VERSION:
  case ETHP2P_PMP_RESULT_UNSUPP_OPCODE:
    return ETHP2P_EUNSUPP;
  default:
    return ETHP2P_EREFUSED;
  }
}

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  pmp_nat *p = data;
  char fb[ETHP2P_ADDRSTRLEN];
  if (!p->have_gw || !ethp2p_addr_equal(from, &p->gw, true)) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored NAT-PMP packet from a stranger", "from=%s",
               ethp2p_addr_format(from, true, fb, sizeof fb));
    return;
  }
  ethp2p_pmp_reply reply;
  ethp2p_diag diag = {0};
  int rc = ethp2p_pmp_reply_decode(&reply, buf, len, &diag);
  if (rc == ETHP2P_EUNSUPP && len >= 4 && buf[0] == 2 && (buf[1] & ETHP2P_PMP_OP_REPLY) &&
      p->head != NULL && p->tries > 0 &&
      (buf[1] & (uint8_t)~ETHP2P_PMP_OP_REPLY) == p->head->opcode && buf[3] == 1) {
    /* RFC 6887 §9: a PCP-only server's UNSUPP_VERSION (version 2, result 1). */
    memset(&reply, 0, sizeof reply);
    reply.opcode = p->head->opcode;
    reply.result = ETHP2P_PMP_RESULT_UNSUPP_VERSION;
    reply.header_only = true;
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Gateway speaks PCP only", "op=%s", op_name(reply.opcode));
    complete_head(p, ETHP2P_EUNSUPP, &reply);
    return;
  }
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored malformed NAT-PMP reply", "err=\"%s\" offset=%zu",
               diag.msg, diag.offset);
    return;
  }
  pmp_req *r = p->head;
  if (r == NULL || p->tries == 0 || reply.opcode != r->opcode ||
      (r->opcode != ETHP2P_PMP_OP_EXTADDR && !reply.header_only &&
       reply.internal_port != r->internal_port)) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored NAT-PMP reply for no outstanding request", "op=%u",
               reply.opcode);
    return;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "NAT-PMP reply",
             "op=%s result=%u(%s) epoch=%u mapped=%u lifetime=%u", op_name(reply.opcode),
             reply.result, ethp2p_pmp_result_name(reply.result), (unsigned)reply.epoch_s,
             reply.mapped_port, (unsigned)reply.lifetime_s);
  bool lost = ethp2p_nat_epoch_update(p->epoch, false, reply.epoch_s, ethp2p_env_now(p->base.env));
  if (reply.result == 0 && reply.opcode == ETHP2P_PMP_OP_EXTADDR && !reply.header_only) {
    ethp2p_addr ip = ethp2p_addr_v4(reply.external_ip[0], reply.external_ip[1],
                                    reply.external_ip[2], reply.external_ip[3], 0);
    ethp2p_nat_announce_note_extip(p->ann, &ip);
  }
  if (lost) {
    ethp2p_log(ETHP2P_LOG_INFO, "nat", "NAT-PMP gateway lost its mappings (epoch reset)",
               "epoch=%u", (unsigned)reply.epoch_s);
    p->busy++;
    ethp2p_nat_notify(&p->base, ETHP2P_NAT_EV_STATE_LOST, NULL);
    if (leave(p))
      return;
    if (p->head != r)
      return; /* the callback changed the queue (cannot happen today) */
  }
  complete_head(p, status_of(reply.result), &reply);
}

static int enqueue(pmp_nat *p, pmp_req *r) {
  int rc = ensure_ready(p);
  if (rc < 0) {
    free(r);
    return rc;
  }
  if (p->tail != NULL) {
    p->tail->next = r;
    p->tail = r;
  } else {
    p->head = p->tail = r;
    p->tries = 0;
    ethp2p_timer_start(p->timer, ethp2p_env_now(p->base.env)); /* sends on the next turn */
  }
  return 0;
}

static int pmp_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint, uint16_t internal_port,
                   const char *desc, uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data) {
  pmp_nat *p = (pmp_nat *)nat;
  if (cb == NULL || internal_port == 0 || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP))
    return ETHP2P_EINVAL;
  pmp_req *r = calloc(1, sizeof *r);
  if (r == NULL)
    return ETHP2P_ENOMEM;
  r->kind = REQ_MAP;
  r->opcode = proto == ETHP2P_PROTO_TCP ? ETHP2P_PMP_OP_MAP_TCP : ETHP2P_PMP_OP_MAP_UDP;
  r->internal_port = internal_port;
  r->suggested_port = ext_hint != 0 ? ext_hint : internal_port;
  r->lifetime_s = lifetime_s != 0 ? lifetime_s : ETHP2P_PMP_RECOMMENDED_LIFETIME;
  r->map_cb = cb;
  r->data = data;
  return enqueue(p, r);
}

static int pmp_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                      uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  pmp_nat *p = (pmp_nat *)nat;
  if (internal_port == 0 || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP))
    return ETHP2P_EINVAL;
  pmp_req *r = calloc(1, sizeof *r);
  if (r == NULL)
    return ETHP2P_ENOMEM;
  r->kind = REQ_UNMAP;
  r->opcode = proto == ETHP2P_PROTO_TCP ? ETHP2P_PMP_OP_MAP_TCP : ETHP2P_PMP_OP_MAP_UDP;
  r->internal_port = internal_port;
  r->suggested_port = 0; /* §3.4: delete = lifetime 0 and suggested port 0 */
  r->lifetime_s = 0;
  r->done_cb = cb;
  r->data = data;
  return enqueue(p, r);
}

static int pmp_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  pmp_nat *p = (pmp_nat *)nat;
  if (cb == NULL)
    return ETHP2P_EINVAL;
  pmp_req *r = calloc(1, sizeof *r);
  if (r == NULL)
    return ETHP2P_ENOMEM;
  r->kind = REQ_EXTIP;
  r->opcode = ETHP2P_PMP_OP_EXTADDR;
  r->extip_cb = cb;
  r->data = data;
  return enqueue(p, r);
}

static void pmp_rediscover(ethp2p_nat *nat) {
  pmp_nat *p = (pmp_nat *)nat;
  if (p->head == NULL)
    drop_gateway(p);
  else
    p->rediscover_pending = true; /* after the queue drains */
}

static void pmp_destroy(ethp2p_nat *nat) {
  pmp_free((pmp_nat *)nat);
}

static const ethp2p_nat_ops pmp_ops = {
    .add_mapping = pmp_add,
    .delete_mapping = pmp_delete,
    .external_ip = pmp_extip,
    .rediscover = pmp_rediscover,
    .destroy = pmp_destroy,
};

int ethp2p_nat_pmp_create_opts(ethp2p_env *env, const ethp2p_nat_spec *spec,
                               bool listen_announcements, ethp2p_nat_epoch *shared_epoch,
                               ethp2p_nat **out) {
  *out = NULL;
  pmp_nat *p = calloc(1, sizeof *p);
  if (p == NULL)
    return ETHP2P_ENOMEM;
  p->base.ops = &pmp_ops;
  p->base.env = env;
  p->base.spec = *spec;
  p->base.name = "NAT-PMP";
  p->base.can_map = true; /* deprecated mirror of caps, still read outside nat/ */
  p->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DETECTS_RESTART |
                 ETHP2P_NAT_CAP_ANNOUNCES_EXTIP | ETHP2P_NAT_CAP_DELETES_BY_INTERNAL;
  p->listen_announcements = listen_announcements;
  p->epoch = shared_epoch != NULL ? shared_epoch : &p->own_epoch;
  *out = &p->base;
  return 0;
}

int ethp2p_nat_pmp_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (spec->kind != ETHP2P_NAT_PMP)
    return ETHP2P_EINVAL;
  return ethp2p_nat_pmp_create_opts(env, spec, true, NULL, out);
}
