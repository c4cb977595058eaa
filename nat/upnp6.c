/*
 * nat/upnp6.c — UPnP IGDv2 WANIPv6FirewallControl:1 pinholes behind ethp2p/nat.h (see
 * nat/upnp6.h for discovery and the mapping of operations to actions).
 *
 * Operations are queued and run one at a time (one HTTP exchange in flight), as in
 * nat/upnp.c.  Every exchange with the router is made from our own address, since
 * routers (miniupnpd) let a control point open and change pinholes only for itself.
 */
#include "nat/upnp6.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "nat/http.h"
#include "nat/impl.h"
#include "nat/pinhole_codec.h"
#include "nat/ssdp.h"
#include "nat/xml.h"

#define U6_WINDOW (2 * ETHP2P_SEC)
#define U6_RESEND_1 (250 * ETHP2P_MSEC)
#define U6_RESEND_2 (750 * ETHP2P_MSEC)
#define U6_HTTP_TIMEOUT (3 * ETHP2P_SEC)
#define U6_DESC_CAP (64 * 1024)
#define U6_SOAP_CAP (16 * 1024)
#define U6_MAX_SOCKS 8
#define U6_MAX_CANDS 8
#define U6_MAX_HELD 16
#define U6_MX 1

static const char *const u6_targets[] = {ETHP2P_SSDP_ST_IGD2, ETHP2P_SSDP_ST_IGD1,
                                         ETHP2P_SSDP_ST_WANCONN2, ETHP2P_SSDP_ST_WANCONN1};

typedef enum { OP_MAP = 1, OP_UNMAP, OP_EXTIP } u6_op_kind;

typedef struct u6_op {
  struct u6_op *next;
  u6_op_kind kind;
  ethp2p_proto proto;
  uint16_t port;
  uint32_t lease;
  bool tried_update;
  ethp2p_nat_map_cb map_cb;
  ethp2p_nat_done_cb done_cb;
  ethp2p_nat_extip_cb extip_cb;
  void *data;
} u6_op;

typedef struct u6_held {
  bool used;
  ethp2p_proto proto;
  uint16_t port;
  uint16_t unique_id;
  ethp2p_addr owner; /* InternalClient, port 0 */
} u6_held;

typedef struct upnp6 upnp6;

typedef struct u6_sock {
  upnp6 *u;
  ethp2p_udp *udp;
  ethp2p_addr local; /* bound address, port 0 */
  uint32_t index;
} u6_sock;

typedef struct u6_cand {
  char location[256];
  ethp2p_http_url url;
  ethp2p_addr local; /* our address the answer came to */
} u6_cand;

typedef enum { DEV_UNKNOWN = 0, DEV_SEARCHING, DEV_KNOWN, DEV_REFUSED } u6_state;

typedef void (*u6_done)(upnp6 *u, int status, const ethp2p_pinhole_result *r);

struct upnp6 {
  ethp2p_nat base;
  ethp2p_timer *pump;
  ethp2p_timer *disc_timer;
  u6_op *head, *tail, *cur;
  u6_state state;
  int refusal; /* DEV_REFUSED: the status every add_mapping gets */
  int refusal_code;
  ethp2p_http_url ctrl; /* the control URL (addr with zone) */
  char control[512];
  ethp2p_addr router; /* LOCATION host, port 0 */
  ethp2p_addr local;  /* our address the router answered (when no prefix of ours holds it) */
  u6_held held[U6_MAX_HELD];
  unsigned requests;
  unsigned cb_depth;
  bool destroy_pending;

  /* discovery */
  u6_sock socks[U6_MAX_SOCKS];
  size_t nsocks;
  bool have_gw;
  ethp2p_addr gw;
  unsigned bursts;
  ethp2p_time disc_start;
  u6_cand cands[U6_MAX_CANDS];
  size_t ncands, cand_idx;
  bool fetching;

  /* the exchange in flight */
  ethp2p_http_client *http;
  ethp2p_pinhole_action action;
  u6_done done;
  ethp2p_addr from; /* our address of the exchange in flight */
};

static void u6_pump(upnp6 *u);
static void disc_next(upnp6 *u);

static void u6_copy(char *dst, size_t size, const char *src) {
  ethp2p_nat_copy_str(dst, size, src);
}

/* ---------------------------------------------------------------------------
 * Queue.
 * ------------------------------------------------------------------------- */
static void u6_free(upnp6 *u);

static bool u6_gone(upnp6 *u) {
  if (u->cb_depth == 0 && u->destroy_pending) {
    u6_free(u);
    return true;
  }
  return false;
}

static void u6_pump_later(upnp6 *u) {
  ethp2p_timer_start(u->pump, ethp2p_env_now(u->base.env));
}

static void op_complete(upnp6 *u, u6_op *op, int status, const ethp2p_nat_map_result *res,
                        const ethp2p_addr *ip) {
  u->cb_depth++;
  if (op->kind == OP_MAP) {
    ethp2p_nat_map_result r;
    if (res != NULL)
      r = *res;
    else
      memset(&r, 0, sizeof r);
    r.status = status;
    op->map_cb(&u->base, &r, op->data);
  } else if (op->kind == OP_UNMAP) {
    op->done_cb(&u->base, status, op->data);
  } else {
    op->extip_cb(&u->base, status, status == 0 ? ip : NULL, op->data);
  }
  u->cb_depth--;
  free(op);
}

/* Finishes the current op; returns true if the NAT is gone. */
static bool op_finish(upnp6 *u, int status, const ethp2p_nat_map_result *res,
                      const ethp2p_addr *ip) {
  u6_op *op = u->cur;
  u->cur = NULL;
  op_complete(u, op, status, res, ip);
  if (u6_gone(u))
    return true;
  u6_pump_later(u);
  return false;
}

static void fail_queue(upnp6 *u, int status) {
  while (u->head != NULL) {
    u6_op *op = u->head;
    u->head = op->next;
    if (u->head == NULL)
      u->tail = NULL;
    op_complete(u, op, status, NULL, NULL);
    if (u6_gone(u))
      return;
  }
}

static void enqueue(upnp6 *u, u6_op *op) {
  if (u->tail != NULL)
    u->tail->next = op;
  else
    u->head = op;
  u->tail = op;
  if (u->cur == NULL && u->state != DEV_SEARCHING)
    u6_pump_later(u);
}

/* ---------------------------------------------------------------------------
 * One exchange: GET (description) or a SOAP action of the service.
 * ------------------------------------------------------------------------- */
static void soap_on_http(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp,
                         void *data) {
  upnp6 *u = data;
  u6_done done = u->done;
  ethp2p_pinhole_result r;
  ethp2p_diag diag = {0};
  int rc = status;
  u->http = NULL;
  u->done = NULL;
  memset(&r, 0, sizeof r);
  if (status == 0) {
    rc = ethp2p_pinhole_response_parse(&r, u->action, resp->status, (const char *)resp->body,
                                       resp->body_len, &diag);
    if (rc != 0)
      ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "Pinhole request refused",
                 "action=%s http=%d code=%d desc=\"%s\" err=\"%s\"",
                 ethp2p_pinhole_action_name(u->action), resp->status, r.upnp_code, r.upnp_desc,
                 diag.msg);
  } else {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "HTTP exchange failed", "action=%s err=%s detail=\"%s\"",
               ethp2p_pinhole_action_name(u->action), ethp2p_err_name(status),
               ethp2p_http_client_diag(c)->msg);
  }
  done(u, rc, &r);
}

static int u6_soap(upnp6 *u, const ethp2p_pinhole_req *req, const ethp2p_addr *from, u6_done done) {
  char body[ETHP2P_PINHOLE_MAX_REQUEST], soapaction[160], host[ETHP2P_ADDRSTRLEN];
  uint8_t msg[ETHP2P_PINHOLE_MAX_REQUEST + 1024];
  size_t body_len = 0, msg_len = 0;
  ethp2p_addr f = *from;
  int rc = ethp2p_pinhole_request_build(body, sizeof body, &body_len, req);
  if (rc == 0)
    rc = ethp2p_pinhole_soap_action(soapaction, sizeof soapaction, req->action);
  if (rc != 0)
    return rc;
  ethp2p_addr_format(&u->ctrl.addr, true, host, sizeof host);
  const ethp2p_http_field hdr[] = {
      {"Host", host},
      {"Content-Type", "text/xml; charset=\"utf-8\""},
      {"SOAPAction", soapaction},
      {"Connection", "close"},
      {"User-Agent", "ethp2p UPnP/1.1"},
  };
  rc = ethp2p_http_request_build(msg, sizeof msg, &msg_len, "POST", u->ctrl.path, hdr,
                                 sizeof hdr / sizeof hdr[0], (const uint8_t *)body, body_len, 0);
  if (rc != 0)
    return rc;
  f.port = 0;
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "SOAP request", "action=%s url=%s",
             ethp2p_pinhole_action_name(req->action), u->control);
  rc = ethp2p_http_client_start(u->base.env, &u->http, &u->ctrl.addr, &f, msg, msg_len, U6_SOAP_CAP,
                                false, U6_HTTP_TIMEOUT, soap_on_http, u);
  if (rc != 0) {
    u->http = NULL;
    return rc;
  }
  u->requests++;
  u->action = req->action;
  u->done = done;
  u->from = f;
  return 0;
}

/* Our address toward the router (InternalClient): IPv6 or ETHP2P_ENOTFOUND.  Read at each
 * request (a new prefix moves it).  A router whose address is on none of our prefixes (a
 * LOCATION on another subnet or on its loopback) gets the address its answer came to. */
static int our_addr(upnp6 *u, ethp2p_addr *out) {
  int rc = ethp2p_nat_local_addr_toward(u->base.env, &u->router, out);
  if (rc == ETHP2P_ENOTFOUND && u->local.family == 6) {
    *out = u->local;
    rc = 0;
  }
  if (rc == 0 && out->family != 6)
    rc = ETHP2P_ENOTFOUND;
  if (rc != 0)
    memset(out, 0, sizeof *out);
  out->port = 0;
  return rc;
}

/* ---------------------------------------------------------------------------
 * Discovery.
 * ------------------------------------------------------------------------- */
static void disc_close(upnp6 *u) {
  for (size_t i = 0; i < u->nsocks; i++)
    ethp2p_udp_close(u->socks[i].udp);
  u->nsocks = 0;
  ethp2p_timer_stop(u->disc_timer);
  u->fetching = false;
}

/* Discovery ended: KNOWN, REFUSED (status is the refusal) or UNKNOWN (status failed it). */
static void disc_end(upnp6 *u, u6_state next, int status) {
  disc_close(u);
  u->state = next;
  if (next == DEV_UNKNOWN) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "No usable IGDv2 IPv6 firewall", "candidates=%zu err=%s",
               u->ncands, ethp2p_err_name(status));
    fail_queue(u, status);
    return;
  }
  if (next == DEV_REFUSED)
    u->refusal = status;
  ethp2p_log(ETHP2P_LOG_INFO, "upnp6", "Found IGDv2 IPv6 firewall", "control=%s pinholes=%s",
             u->control, next == DEV_KNOWN ? "allowed" : ethp2p_err_name(status));
  u6_pump_later(u);
}

static void disc_send(upnp6 *u) {
  ethp2p_addr group;
  ethp2p_addr_parse_ip(&group, ETHP2P_SSDP_GROUP_V6);
  group.port = ETHP2P_SSDP_PORT;
  size_t nt = u->bursts == 0 ? 1 : sizeof u6_targets / sizeof u6_targets[0];
  for (size_t i = 0; i < u->nsocks; i++) {
    u6_sock *s = &u->socks[i];
    bool unicast = u->have_gw && (u->gw.scope == 0 || u->gw.scope == s->index);
    for (size_t t = 0; t < nt; t++) {
      ethp2p_ssdp_search q;
      uint8_t buf[512];
      size_t len;
      memset(&q, 0, sizeof q);
      q.mx = U6_MX;
      u6_copy(q.st, sizeof q.st, u6_targets[t]);
      u6_copy(q.host, sizeof q.host, ETHP2P_SSDP_HOST_V6);
      group.scope = s->index;
      if (ethp2p_ssdp_search_build(buf, sizeof buf, &len, &q) == 0)
        ethp2p_udp_send(s->udp, &group, buf, len);
      if (unicast) {
        ethp2p_addr to = u->gw;
        to.port = ETHP2P_SSDP_PORT;
        ethp2p_addr_format(&to, true, q.host, sizeof q.host);
        if (ethp2p_ssdp_search_build(buf, sizeof buf, &len, &q) == 0)
          ethp2p_udp_send(s->udp, &to, buf, len);
      }
    }
  }
  u->bursts++;
}

static void disc_on_timer(ethp2p_timer *t, void *data) {
  (void)t;
  upnp6 *u = data;
  if (u->state != DEV_SEARCHING)
    return;
  if (u->bursts < 3) {
    disc_send(u);
    ethp2p_timer_start(u->disc_timer, u->disc_start + (u->bursts == 2 ? U6_RESEND_2 : U6_WINDOW));
    return;
  }
  /* The window is over: no more answers are taken. */
  for (size_t i = 0; i < u->nsocks; i++)
    ethp2p_udp_close(u->socks[i].udp);
  u->nsocks = 0;
  if (!u->fetching)
    disc_end(u, DEV_UNKNOWN, ETHP2P_ENOGATEWAY);
}

static void disc_on_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                         void *data) {
  (void)udp;
  u6_sock *s = data;
  upnp6 *u = s->u;
  ethp2p_ssdp_reply r;
  ethp2p_diag diag = {0};
  char ip[ETHP2P_ADDRSTRLEN];
  if (u->state != DEV_SEARCHING || ethp2p_ssdp_reply_parse(&r, buf, len, &diag) != 0 ||
      r.status != 200 || !ethp2p_ssdp_st_is_gateway(r.st))
    return;
  for (size_t i = 0; i < u->ncands; i++)
    if (strcmp(u->cands[i].location, r.location) == 0)
      return;
  if (u->ncands == U6_MAX_CANDS)
    return;
  u6_cand *c = &u->cands[u->ncands];
  if (ethp2p_ssdp_location_parse(&c->url, r.location, from, &diag) != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "Ignoring SSDP reply",
               "from=%s location=\"%s\" why=\"%s\"", ethp2p_addr_format(from, false, ip, sizeof ip),
               r.location, diag.msg);
    return;
  }
  u6_copy(c->location, sizeof c->location, r.location);
  c->local = s->local;
  u->ncands++;
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "SSDP reply", "location=%s st=%s server=\"%s\"", r.location,
             r.st, r.server);
  if (!u->fetching)
    disc_next(u);
}

static void disc_on_status(upnp6 *u, int status, const ethp2p_pinhole_result *r) {
  if (ethp2p_nat_is_conn_failure(status) || status == ETHP2P_EIO || status == ETHP2P_EPROTO) {
    disc_next(u);
    return;
  }
  if (status == 0 && !r->firewall_enabled) {
    u->refusal_code = 702;
    disc_end(u, DEV_REFUSED, ETHP2P_EUNSUPP);
  } else if (status == 0 && !r->inbound_pinhole_allowed) {
    u->refusal_code = 703;
    disc_end(u, DEV_REFUSED, ETHP2P_EPERM);
  } else if (status == 0) {
    disc_end(u, DEV_KNOWN, 0);
  } else {
    /* A fault: 702/703 are refusals; an unknown action (401) means no IGDv2 firewall. */
    u->refusal_code = r->upnp_code;
    disc_end(u, DEV_REFUSED, status);
  }
}

static void disc_on_desc(ethp2p_http_client *cl, int status, const ethp2p_http_msg *resp,
                         void *data) {
  (void)cl;
  upnp6 *u = data;
  const u6_cand *c = &u->cands[u->cand_idx - 1];
  ethp2p_diag diag = {0};
  ethp2p_upnp_desc *d = NULL;
  u->http = NULL;
  if (status != 0 || resp->status != 200 || (d = malloc(sizeof *d)) == NULL ||
      ethp2p_upnp_desc_parse(d, (const char *)resp->body, resp->body_len, &diag) != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "Unusable device description",
               "location=%s err=%s http=%d why=\"%s\"", c->location, ethp2p_err_name(status),
               status == 0 ? resp->status : 0, diag.msg);
    free(d);
    disc_next(u);
    return;
  }
  for (size_t i = 0; i < d->nservices; i++) {
    const ethp2p_upnp_service *svc = &d->services[i];
    if (svc->kind != ETHP2P_UPNP_SVC_KIND_WANIP6FC1)
      continue;
    if (ethp2p_http_url_resolve(u->control, sizeof u->control,
                                ethp2p_upnp_desc_base(d, c->location), svc->control_url) != 0 ||
        ethp2p_ssdp_url_parse_zoned(&u->ctrl, u->control, c->url.addr.scope, &diag) != 0 ||
        !u->ctrl.has_addr || !ethp2p_addr_equal(&u->ctrl.addr, &c->url.addr, false)) {
      ethp2p_log(ETHP2P_LOG_WARN, "upnp6", "Refusing control URL", "location=%s control=\"%s\"",
                 c->location, svc->control_url);
      continue;
    }
    free(d);
    u->router = c->url.addr;
    u->router.port = 0;
    u->local = c->local;
    ethp2p_addr from;
    ethp2p_pinhole_req req = {.action = ETHP2P_PINHOLE_GET_FIREWALL_STATUS};
    int rc = our_addr(u, &from);
    if (rc == 0)
      rc = u6_soap(u, &req, &from, disc_on_status);
    if (rc != 0) {
      ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "Cannot ask GetFirewallStatus", "control=%s err=%s",
                 u->control, ethp2p_err_name(rc));
      disc_next(u);
    }
    return;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "Device has no WANIPv6FirewallControl:1", "location=%s",
             c->location);
  free(d);
  disc_next(u);
}

static void disc_next(upnp6 *u) {
  while (u->cand_idx < u->ncands) {
    const u6_cand *c = &u->cands[u->cand_idx++];
    char host[ETHP2P_ADDRSTRLEN];
    uint8_t req[1024];
    size_t len;
    ethp2p_addr_format(&c->url.addr, true, host, sizeof host);
    const ethp2p_http_field hdr[] = {
        {"Host", host}, {"Connection", "close"}, {"User-Agent", "ethp2p UPnP/1.1"}};
    if (ethp2p_http_request_build(req, sizeof req, &len, "GET", c->url.path, hdr, 3, NULL, 0, 0) !=
        0)
      continue;
    int rc = ethp2p_http_client_start(u->base.env, &u->http, &c->url.addr, NULL, req, len,
                                      U6_DESC_CAP, false, U6_HTTP_TIMEOUT, disc_on_desc, u);
    if (rc == 0) {
      u->requests++;
      u->fetching = true;
      return;
    }
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "Cannot fetch the description", "location=%s err=%s",
               c->location, ethp2p_err_name(rc));
  }
  u->fetching = false;
  if (u->nsocks == 0 && u->bursts >= 3)
    disc_end(u, DEV_UNKNOWN, ETHP2P_ENOGATEWAY); /* the window is over */
}

/* Our best address on each IPv6 interface: stable global, else any non-deprecated one. */
static void disc_start(upnp6 *u) {
  ethp2p_iface ifs[32];
  size_t n = 0;
  u->state = DEV_SEARCHING;
  u->bursts = 0;
  u->ncands = u->cand_idx = 0;
  u->fetching = false;
  u->disc_start = ethp2p_env_now(u->base.env);
  u->have_gw = ethp2p_env_default_gateway6(u->base.env, &u->gw) == 0 && u->gw.family == 6;
  if (ethp2p_env_interfaces(u->base.env, ifs, sizeof ifs / sizeof ifs[0], &n) != 0)
    n = 0;
  for (size_t i = 0; i < n; i++) {
    const ethp2p_iface *f = &ifs[i];
    if (!f->up || f->loopback || !f->multicast || f->addr.family != 6 || f->tentative ||
        f->deprecated || f->index == 0)
      continue;
    ethp2p_addr toward = f->addr, best;
    toward.scope = f->index;
    /* ethp2p_nat_local_addr_toward picks the stable global address on that link. */
    if (ethp2p_nat_local_addr_toward(u->base.env, &toward, &best) != 0 || best.family != 6)
      best = f->addr;
    size_t k = 0;
    while (k < u->nsocks && u->socks[k].index != f->index)
      k++;
    if (k < u->nsocks || u->nsocks == U6_MAX_SOCKS)
      continue;
    u6_sock *s = &u->socks[u->nsocks];
    s->u = u;
    s->index = f->index;
    s->local = best;
    s->local.port = 0;
    if (ethp2p_udp_open(u->base.env, &s->udp, &s->local, 0, disc_on_recv, s) != 0) {
      s->udp = NULL;
      continue;
    }
    ethp2p_udp_set_multicast(s->udp, &s->local, 2);
    u->nsocks++;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "Searching for IGDv2 over IPv6", "interfaces=%zu router=%d",
             u->nsocks, u->have_gw);
  if (u->nsocks == 0) {
    disc_end(u, DEV_UNKNOWN, ETHP2P_ENOGATEWAY);
    return;
  }
  disc_send(u);
  ethp2p_timer_start(u->disc_timer, u->disc_start + U6_RESEND_1);
}

/* ---------------------------------------------------------------------------
 * Operations.
 * ------------------------------------------------------------------------- */
static u6_held *held_find(upnp6 *u, ethp2p_proto proto, uint16_t port) {
  for (size_t i = 0; i < U6_MAX_HELD; i++)
    if (u->held[i].used && u->held[i].proto == proto && u->held[i].port == port)
      return &u->held[i];
  return NULL;
}

static void held_set(upnp6 *u, ethp2p_proto proto, uint16_t port, uint16_t id,
                     const ethp2p_addr *owner) {
  u6_held *h = held_find(u, proto, port);
  for (size_t i = 0; h == NULL && i < U6_MAX_HELD; i++)
    if (!u->held[i].used)
      h = &u->held[i];
  if (h == NULL)
    h = &u->held[0]; /* full: the oldest slot's pinhole just expires */
  *h = (u6_held){true, proto, port, id, *owner};
}

static void fill_fault(ethp2p_nat_map_result *res, int code, const char *desc) {
  res->router_code = code;
  u6_copy(res->router_msg, sizeof res->router_msg,
          desc != NULL && desc[0] != '\0' ? desc : ethp2p_upnp_error_name(code));
}

static void map_send(upnp6 *u);

static void map_on_reply(upnp6 *u, int status, const ethp2p_pinhole_result *r) {
  u6_op *op = u->cur;
  ethp2p_nat_map_result res;
  memset(&res, 0, sizeof res);
  if (u->action == ETHP2P_PINHOLE_UPDATE &&
      (status == ETHP2P_ENOTFOUND || r->upnp_code == 704 || r->upnp_code == 402)) {
    /* The router lost it (704; miniupnpd 2.3.1 says 402 for an unknown UniqueID). */
    u6_held *h = held_find(u, op->proto, op->port);
    if (h != NULL)
      h->used = false;
    map_send(u);
    return;
  }
  if (status != 0) {
    fill_fault(&res, r->upnp_code, r->upnp_desc);
    op_finish(u, status, &res, NULL);
    return;
  }
  if (u->action == ETHP2P_PINHOLE_ADD)
    held_set(u, op->proto, op->port, r->unique_id, &u->from);
  res.external_port = op->port;
  res.lifetime_s = op->lease;
  res.external_ip = u->from;
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp6", "Pinhole open", "proto=%s port=%u lease=%u action=%s",
             ethp2p_proto_name(op->proto), op->port, (unsigned)op->lease,
             ethp2p_pinhole_action_name(u->action));
  op_finish(u, 0, &res, NULL);
}

static void map_send(upnp6 *u) {
  u6_op *op = u->cur;
  ethp2p_addr from;
  int rc = our_addr(u, &from);
  if (rc != 0) {
    op_finish(u, rc, NULL, NULL);
    return;
  }
  u6_held *h = held_find(u, op->proto, op->port);
  ethp2p_pinhole_req req = {.remote_any = true,
                            .internal_client = from,
                            .internal_port = op->port,
                            .protocol = (int)op->proto,
                            .lease_s = op->lease};
  if (h != NULL && ethp2p_addr_equal(&h->owner, &from, false)) {
    req.action = ETHP2P_PINHOLE_UPDATE;
    req.unique_id = h->unique_id;
  } else {
    /* New, or our address moved: a pinhole for the new address (the old one expires, and
     * only its owner could delete it). */
    if (h != NULL)
      h->used = false;
    req.action = ETHP2P_PINHOLE_ADD;
  }
  rc = u6_soap(u, &req, &from, map_on_reply);
  if (rc != 0)
    op_finish(u, rc, NULL, NULL);
}

static void unmap_on_reply(upnp6 *u, int status, const ethp2p_pinhole_result *r) {
  u6_op *op = u->cur;
  if (status == ETHP2P_ENOTFOUND || r->upnp_code == 704)
    status = 0; /* gone already: what was asked */
  if (status == 0) {
    u6_held *h = held_find(u, op->proto, op->port);
    if (h != NULL)
      h->used = false;
  }
  op_finish(u, status, NULL, NULL);
}

static void op_start(upnp6 *u, u6_op *op) {
  if (op->kind == OP_EXTIP) {
    ethp2p_addr ip;
    int rc = our_addr(u, &ip);
    op_finish(u, rc, NULL, rc == 0 ? &ip : NULL);
    return;
  }
  if (op->kind == OP_MAP) {
    if (u->state == DEV_REFUSED) {
      ethp2p_nat_map_result res;
      memset(&res, 0, sizeof res);
      fill_fault(&res, u->refusal_code,
                 u->refusal_code == 702   ? "FirewallDisabled"
                 : u->refusal_code == 703 ? "InboundPinholeNotAllowed"
                                          : NULL);
      op_finish(u, u->refusal, &res, NULL);
      return;
    }
    map_send(u);
    return;
  }
  u6_held *h = held_find(u, op->proto, op->port);
  if (h == NULL || u->state != DEV_KNOWN) {
    op_finish(u, 0, NULL, NULL); /* nothing of ours to delete */
    return;
  }
  ethp2p_pinhole_req req = {.action = ETHP2P_PINHOLE_DELETE, .unique_id = h->unique_id};
  int rc = u6_soap(u, &req, &h->owner, unmap_on_reply);
  if (rc != 0)
    op_finish(u, rc, NULL, NULL);
}

static void u6_pump(upnp6 *u) {
  if (u->cur != NULL || u->head == NULL || u->state == DEV_SEARCHING)
    return;
  /* external_ip needs the router only to pick our address on its link. */
  if (u->state == DEV_UNKNOWN) {
    disc_start(u);
    return;
  }
  u6_op *op = u->head;
  u->head = op->next;
  if (u->head == NULL)
    u->tail = NULL;
  op->next = NULL;
  u->cur = op;
  op_start(u, op);
}

static void on_pump(ethp2p_timer *t, void *data) {
  (void)t;
  u6_pump(data);
}

/* ---------------------------------------------------------------------------
 * The NAT vtable.
 * ------------------------------------------------------------------------- */
static u6_op *op_new(u6_op_kind kind, void *data) {
  u6_op *op = calloc(1, sizeof *op);
  if (op != NULL) {
    op->kind = kind;
    op->data = data;
  }
  return op;
}

static int u6_add_mapping(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint,
                          uint16_t internal_port, const char *desc, uint32_t lifetime_s,
                          ethp2p_nat_map_cb cb, void *data) {
  (void)ext_hint; /* a pinhole keeps the internal port */
  (void)desc;     /* AddPinhole has no description argument */
  if (cb == NULL || internal_port == 0 || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP))
    return ETHP2P_EINVAL;
  u6_op *op = op_new(OP_MAP, data);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->proto = proto;
  op->port = internal_port;
  op->lease = lifetime_s == 0 || lifetime_s > ETHP2P_PINHOLE_LEASE_MAX ? ETHP2P_PINHOLE_LEASE_MAX
                                                                       : lifetime_s;
  op->map_cb = cb;
  enqueue((upnp6 *)nat, op);
  return 0;
}

static int u6_delete_mapping(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                             uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  uint16_t port = internal_port != 0 ? internal_port : external_port;
  if (cb == NULL || port == 0 || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP))
    return ETHP2P_EINVAL;
  u6_op *op = op_new(OP_UNMAP, data);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->proto = proto;
  op->port = port;
  op->done_cb = cb;
  enqueue((upnp6 *)nat, op);
  return 0;
}

static int u6_external_ip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  if (cb == NULL)
    return ETHP2P_EINVAL;
  u6_op *op = op_new(OP_EXTIP, data);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->extip_cb = cb;
  enqueue((upnp6 *)nat, op);
  return 0;
}

static void u6_rediscover(ethp2p_nat *nat) {
  upnp6 *u = (upnp6 *)nat;
  if (u->state == DEV_KNOWN || u->state == DEV_REFUSED)
    u->state = DEV_UNKNOWN;
}

static void u6_free(upnp6 *u) {
  if (u->http != NULL)
    ethp2p_http_client_cancel(u->http);
  disc_close(u);
  ethp2p_timer_destroy(u->pump);
  ethp2p_timer_destroy(u->disc_timer);
  free(u->cur);
  while (u->head != NULL) {
    u6_op *op = u->head;
    u->head = op->next;
    free(op);
  }
  free(u);
}

static void u6_destroy(ethp2p_nat *nat) {
  upnp6 *u = (upnp6 *)nat;
  if (u->cb_depth == 0) {
    u6_free(u);
    return;
  }
  /* Inside one of our callbacks: stop everything, free when it returns. */
  u->destroy_pending = true;
  if (u->http != NULL)
    ethp2p_http_client_cancel(u->http);
  u->http = NULL;
  disc_close(u);
  ethp2p_timer_stop(u->pump);
  u->state = DEV_UNKNOWN;
  while (u->head != NULL) {
    u6_op *op = u->head;
    u->head = op->next;
    free(op);
  }
  u->tail = NULL;
}

static const ethp2p_nat_ops upnp6_ops = {
    .add_mapping = u6_add_mapping,
    .delete_mapping = u6_delete_mapping,
    .external_ip = u6_external_ip,
    .rediscover = u6_rediscover,
    .destroy = u6_destroy,
};

int ethp2p_nat_upnp6_create(ethp2p_env *env, ethp2p_nat **out) {
  if (out != NULL)
    *out = NULL;
  if (env == NULL || out == NULL)
    return ETHP2P_EINVAL;
  upnp6 *u = calloc(1, sizeof *u);
  if (u == NULL)
    return ETHP2P_ENOMEM;
  u->base.ops = &upnp6_ops;
  u->base.env = env;
  u->base.spec.kind = ETHP2P_NAT_UPNP;
  u->base.name = "UPnP-IPv6";
  /* The external address is ours and may change (a new prefix): poll it.  A pinhole is
   * keyed by our address and internal port, so deletes go by internal port.  Router
   * restarts are not detected: each refresh is an UpdatePinhole, which finds out. */
  u->base.caps =
      ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DELETES_BY_INTERNAL;
  if (ethp2p_timer_create(env, &u->pump, on_pump, u) != 0 ||
      ethp2p_timer_create(env, &u->disc_timer, disc_on_timer, u) != 0) {
    ethp2p_timer_destroy(u->pump);
    free(u);
    return ETHP2P_ENOMEM;
  }
  *out = &u->base;
  return 0;
}

unsigned ethp2p_nat_upnp6_requests(const ethp2p_nat *nat) {
  return nat != NULL ? ((const upnp6 *)nat)->requests : 0;
}
