/*
 * nat/pcp.c — PCP client (RFC 6887) with per-request downgrade to NAT-PMP.
 *
 * - MAP (§11): one 96-bit nonce per mapping, keyed by (protocol, internal
 *   port), drawn from the environment's random source when the mapping is
 *   first requested and reused for every renewal and for the delete.  The
 *   entry is forgotten after a successful delete.
 * - Client IP (§7.1): our IPv4 address toward the gateway, IPv4-mapped, read
 *   again for every request (a DHCP change must not freeze us out).  A
 *   mapping whose client address changed is a new mapping: new nonce, no
 *   remembered external address.  ADDRESS_MISMATCH (§8.3) fails the request
 *   with ETHP2P_EADDRCHANGED so the caller rediscovers.
 *   Suggested external port: the caller's hint (internal port when 0);
 *   suggested external address: the one last assigned, else ::ffff:0.0.0.0
 *   ("IPv4, no preference", §11.1).
 * - Requests are serialised.  Retransmission (§8.1.1): IRT 3 s, doubling,
 *   capped at MRT, each interval ±10 % from env random.  §8.1.1 lets a client
 *   retry forever; we bound the wait: after ETHP2P_NAT_PCP_MAX_WAIT (30 s: sends
 *   at about 0, 3, 9 and 21 s) the request fails with ETHP2P_ETIMEDOUT, the
 *   queue is failed with it (the caller counts connection failures).
 * - Map results carry renew_after_ms, a random point in [1/2, 5/8] of the
 *   granted lifetime (§11.2.1).
 * - Replies only from the gateway's IP and port 5351, matching the
 *   outstanding request's opcode, nonce, protocol and internal port.
 * - Result codes: non-zero results fail the request with ETHP2P_EREFUSED
 *   (ETHP2P_EUNSUPP for UNSUPP_*), router_code/router_msg set, and
 *   lifetime_s = the error lifetime the server gave (§7.2: how long the
 *   same request will get the same error).
 * - Epoch (§8.5) checked on every response and on ANNOUNCE; a reset raises
 *   ETHP2P_NAT_EV_STATE_LOST once.
 * - Downgrade (§9): if a version-0 "unsupported version" reply answers a
 *   request, that request is re-sent with NAT-PMP (an inner NAT-PMP client);
 *   the next request tries PCP again.  A mapping made over NAT-PMP is deleted
 *   over NAT-PMP.
 * - external_ip: PCP has no external-address opcode.  Until the server is
 *   known, it asks NAT-PMP's opcode 0 (most PCP servers also speak NAT-PMP,
 *   RFC 6887 Appendix A) and sends a PCP ANNOUNCE request (§14.1) at the same
 *   time.  A NAT-PMP answer gives the address (and NAT-PMP is used for it from
 *   then on).  A server that refuses NAT-PMP (UNSUPP_VERSION), or that
 *   answers the ANNOUNCE while NAT-PMP stays silent for PCP_PMP_GRACE (a
 *   PCP-only server silently drops the 2-byte request, §8.3), speaks PCP
 *   only: from then on (until rediscover) external_ip sends only ANNOUNCE
 *   (liveness and epoch) and answers with the address the latest MAP
 *   assigned, or 0.0.0.0 before any MAP (nat.h).
 * - Lifetime 0 ("permanent" in nat.h) means delete in PCP, so it is sent as
 *   7200 s.
 */
#include <stdlib.h>
#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/impl.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"

#define ETHP2P_NAT_PCP_MAX_WAIT (30 * ETHP2P_SEC)
#define PCP_DEFAULT_LIFETIME 7200u
/* How long NAT-PMP may stay silent after PCP answered before the server is
 * taken to speak PCP only. */
#define PCP_PMP_GRACE (2 * ETHP2P_SEC)

typedef enum { REQ_MAP, REQ_UNMAP, REQ_ANNOUNCE } req_kind;

typedef struct pcp_mapping {
  struct pcp_mapping *next;
  uint8_t protocol;
  uint16_t internal_port;
  uint8_t nonce[ETHP2P_PCP_NONCE_LEN];
  ethp2p_addr client_ip; /* the client address the nonce and the mapping belong to */
  bool have_ext;
  ethp2p_addr external_ip;
  uint16_t external_port;
  bool via_pmp; /* last made by the NAT-PMP downgrade */
  bool unknown; /* created for a delete: not made by us, nonce unknown */
} pcp_mapping;

typedef struct pcp_req {
  struct pcp_req *next;
  req_kind kind;
  uint8_t protocol;
  uint16_t internal_port;
  uint16_t suggested_port;
  uint32_t lifetime_s;
  ethp2p_nat_map_cb map_cb;
  ethp2p_nat_done_cb done_cb;
  ethp2p_nat_extip_cb extip_cb; /* REQ_ANNOUNCE */
  void *data;
} pcp_req;

/* An external_ip asked both ways while the server is not known yet. */
typedef struct pcp_probe {
  struct pcp_probe *next;
  struct pcp_nat *owner;
  ethp2p_nat_extip_cb cb;
  void *data;
  ethp2p_timer *grace;
  bool pmp_done, ann_done, delivered;
  int pmp_status, ann_status;
} pcp_probe;

/* A callback forwarded from the inner NAT-PMP client. */
typedef struct pcp_fwd {
  struct pcp_fwd *next;
  struct pcp_nat *owner;
  ethp2p_nat_extip_cb extip_cb;
  void *data;
  pcp_probe *probe; /* an address probe's NAT-PMP half */
  bool for_head;    /* a downgraded head request */
} pcp_fwd;

typedef struct pcp_nat {
  ethp2p_nat base;
  ethp2p_nat *pmp; /* inner NAT-PMP client for downgrades and external_ip */
  bool have_gw;
  ethp2p_addr gw; /* port 5351 */
  ethp2p_addr client_ip;
  ethp2p_udp *udp;
  ethp2p_timer *timer;
  ethp2p_nat_announce *ann;
  ethp2p_nat_epoch epoch;
  pcp_mapping *mappings;
  pcp_req *head, *tail;
  unsigned tries;
  ethp2p_time started; /* first transmission of the head */
  ethp2p_time rt;      /* current retransmission interval */
  bool downgraded;     /* head is being served by NAT-PMP */
  pcp_fwd *fwds;
  bool pcp_only;  /* the server refused NAT-PMP: no opcode-0 polls (until rediscover) */
  bool pmp_works; /* the server answered NAT-PMP opcode 0: the address comes from it */
  pcp_probe *probes;
  bool pcp_answered; /* a PCP response came from this gateway */
  bool have_last_ext;
  ethp2p_addr last_ext; /* the external address the latest MAP assigned */
  bool have_key;        /* nonces derived from key (ethp2p_nat_pcp_set_nonce_key) */
  uint8_t key[32];
  bool rediscover_pending;
  /* IPv6 (ethp2p_nat_pcp6_create): pinholes for our own address, no NAT-PMP */
  bool v6;
  ethp2p_timer *local_timer; /* answers external_ip from our own address */
  pcp_fwd *local_waiters;
  int busy;
  bool destroyed;
} pcp_nat;

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data);
static void on_timer(ethp2p_timer *t, void *data);

static bool leave(pcp_nat *c) {
  if (--c->busy == 0 && c->destroyed) {
    free(c);
    return true;
  }
  return c->destroyed;
}

static void free_all(pcp_nat *c) {
  for (pcp_req *r = c->head, *n; r != NULL; r = n) {
    n = r->next;
    free(r);
  }
  c->head = c->tail = NULL;
  for (pcp_mapping *m = c->mappings, *n; m != NULL; m = n) {
    n = m->next;
    free(m);
  }
  c->mappings = NULL;
  for (pcp_probe *p = c->probes, *n; p != NULL; p = n) {
    n = p->next;
    ethp2p_timer_destroy(p->grace);
    free(p);
  }
  c->probes = NULL;
  for (pcp_fwd *f = c->fwds, *n; f != NULL; f = n) {
    n = f->next;
    free(f);
  }
  c->fwds = NULL;
  for (pcp_fwd *f = c->local_waiters, *n; f != NULL; f = n) {
    n = f->next;
    free(f);
  }
  c->local_waiters = NULL;
}

static void unlink_fwd(pcp_nat *c, pcp_fwd *f) {
  for (pcp_fwd **pp = &c->fwds; *pp != NULL; pp = &(*pp)->next)
    if (*pp == f) {
      *pp = f->next;
      return;
    }
}

static pcp_fwd *new_fwd(pcp_nat *c) {
  pcp_fwd *f = calloc(1, sizeof *f);
  if (f != NULL) {
    f->owner = c;
    f->next = c->fwds;
    c->fwds = f;
  }
  return f;
}

static void on_announce(void *data, ethp2p_nat_event ev, const ethp2p_addr *ip) {
  pcp_nat *c = data;
  c->busy++;
  ethp2p_nat_notify(&c->base, ev, ip);
  leave(c);
}

static void on_inner_notify(ethp2p_nat *inner, ethp2p_nat_event ev, const ethp2p_addr *ip,
                            void *data) {
  on_announce(data, ev, ip);
}

static void drop_gateway(pcp_nat *c) {
  ethp2p_nat_announce_stop(c->ann);
  c->ann = NULL;
  ethp2p_udp_close(c->udp);
  c->udp = NULL;
  c->have_gw = false;
  memset(&c->epoch, 0, sizeof c->epoch);
  c->rediscover_pending = false;
  c->pcp_only = false;
  c->pmp_works = false;
  c->pcp_answered = false;
  if (c->pmp != NULL)
    ethp2p_nat_rediscover(c->pmp);
}

/* IPv6: the server given in the spec, else the IPv6 default router (with its
 * zone when link-local).  0 or ETHP2P_ENOGATEWAY. */
static int find_server6(pcp_nat *c, ethp2p_addr *gw) {
  memset(gw, 0, sizeof *gw);
  if (c->base.spec.has_addr) {
    ethp2p_addr dflt;
    *gw = c->base.spec.addr;
    /* a link-local server given without its zone: the default router's, if it is that one */
    if (gw->ip[0] == 0xfe && (gw->ip[1] & 0xc0) == 0x80 && gw->scope == 0 &&
        ethp2p_env_default_gateway6(c->base.env, &dflt) == 0 && ethp2p_addr_equal(&dflt, gw, false))
      gw->scope = dflt.scope;
  } else if (ethp2p_env_default_gateway6(c->base.env, gw) != 0 || gw->family != 6) {
    memset(gw, 0, sizeof *gw);
    return ETHP2P_ENOGATEWAY;
  }
  gw->port = 0;
  return 0;
}

/* The request socket.  IPv4: any address (the client address is the one
 * toward the gateway, which the kernel picks as source too).  IPv6: bound to
 * the client address, because a host has several (stable, temporary, ULA) and
 * the kernel's source choice could differ from the address the MAP names,
 * which the server answers with ADDRESS_MISMATCH (RFC 6887 section 8.3). */
static int open_socket(pcp_nat *c) {
  ethp2p_addr bind = ethp2p_addr_v4(0, 0, 0, 0, 0);
  if (c->v6) {
    bind = c->client_ip;
    bind.port = 0;
  }
  return ethp2p_udp_open(c->base.env, &c->udp, &bind, 0, on_datagram, c);
}

static int ensure_ready(pcp_nat *c) {
  if (c->rediscover_pending && c->head == NULL)
    drop_gateway(c);
  if (c->timer == NULL) {
    int rc = ethp2p_timer_create(c->base.env, &c->timer, on_timer, c);
    if (rc < 0)
      return rc;
  }
  if (!c->have_gw) {
    bool guessed = false;
    int rc = c->v6 ? find_server6(c, &c->gw)
                   : ethp2p_nat_find_gateway(c->base.env, &c->base.spec, &c->gw, &guessed);
    if (rc < 0)
      return rc;
    rc = ethp2p_nat_local_addr_toward(c->base.env, &c->gw, &c->client_ip);
    if (rc < 0)
      return ETHP2P_ENOGATEWAY;
    c->gw.port = ETHP2P_PCP_PORT;
    c->have_gw = true;
    char gb[ETHP2P_ADDRSTRLEN], cb[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "PCP gateway", "gateway=%s client=%s guessed=%d",
               ethp2p_addr_format(&c->gw, false, gb, sizeof gb),
               ethp2p_addr_format(&c->client_ip, false, cb, sizeof cb), guessed);
  }
  if (c->udp == NULL) {
    int rc = open_socket(c);
    if (rc < 0)
      return rc;
  }
  if (c->ann == NULL) {
    int rc = ethp2p_nat_announce_start(c->base.env, &c->gw, &c->epoch, on_announce, c, &c->ann);
    ethp2p_nat_announce_set_pcp_delay(c->ann, true); /* RFC 6887 §14.1.3 */
    if (rc < 0)
      ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Cannot listen for PCP announcements", "err=%s",
                 ethp2p_strerror(rc));
  }
  if (c->pmp == NULL && !c->v6) {
    ethp2p_nat_spec spec = c->base.spec;
    spec.kind = ETHP2P_NAT_PMP;
    spec.has_addr = true; /* the gateway PCP uses */
    spec.addr = c->gw;
    spec.addr.port = 0;
    int rc = ethp2p_nat_pmp_create_opts(c->base.env, &spec, false, &c->epoch, &c->pmp);
    if (rc < 0)
      return rc;
    ethp2p_nat_set_notify(c->pmp, on_inner_notify, c);
  }
  return 0;
}

static pcp_mapping *find_mapping(pcp_nat *c, uint8_t protocol, uint16_t internal_port) {
  for (pcp_mapping *m = c->mappings; m != NULL; m = m->next)
    if (m->protocol == protocol && m->internal_port == internal_port)
      return m;
  return NULL;
}

static void remove_mapping(pcp_nat *c, pcp_mapping *m) {
  for (pcp_mapping **pp = &c->mappings; *pp != NULL; pp = &(*pp)->next)
    if (*pp == m) {
      *pp = m->next;
      free(m);
      return;
    }
}

/* nonce = HMAC-SHA256(key, protocol ‖ internal port ‖ client IP)[0..12);
 * 0 or a negative ETHP2P_E* code (the caller then draws a random nonce). */
static int derive_nonce(pcp_nat *c, pcp_mapping *m) {
  uint8_t msg[3 + 16], mac[ETHP2P_SHA256_LEN];
  int rc;
  msg[0] = m->protocol;
  msg[1] = (uint8_t)(m->internal_port >> 8);
  msg[2] = (uint8_t)m->internal_port;
  ethp2p_pcp_addr_to_wire(msg + 3, &m->client_ip);
  rc = ethp2p_hmac_sha256(mac, c->key, sizeof c->key, msg, sizeof msg);
  if (rc == 0)
    memcpy(m->nonce, mac, sizeof m->nonce);
  memset(mac, 0, sizeof mac);
  return rc;
}

static void new_nonce(pcp_nat *c, pcp_mapping *m) {
  if (!c->have_key || derive_nonce(c, m) != 0)
    ethp2p_env_random(c->base.env, m->nonce, sizeof m->nonce);
}

/* Our address toward the gateway now (a DHCP renumbering changes it); keeps
 * the last one known when the interfaces cannot be read. */
static void refresh_client_ip(pcp_nat *c) {
  ethp2p_addr now;
  if (ethp2p_nat_local_addr_toward(c->base.env, &c->gw, &now) == 0 &&
      !ethp2p_addr_equal(&now, &c->client_ip, false)) {
    char ob[ETHP2P_ADDRSTRLEN], nb[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_INFO, "nat", "Local address toward the PCP server changed",
               "old=%s new=%s", ethp2p_addr_format(&c->client_ip, false, ob, sizeof ob),
               ethp2p_addr_format(&now, false, nb, sizeof nb));
    c->client_ip = now;
    if (c->v6) {
      /* the socket is bound to the old address: reopen it on the new one */
      ethp2p_udp_close(c->udp);
      c->udp = NULL;
      if (open_socket(c) < 0)
        c->udp = NULL; /* sends fail until the next request tries again */
    }
  }
}

/* The mapping of the head request, created (with a fresh nonce) if new, and
 * started over when our client address changed since it was made. */
static pcp_mapping *head_mapping(pcp_nat *c) {
  pcp_req *r = c->head;
  pcp_mapping *m = find_mapping(c, r->protocol, r->internal_port);
  if (m == NULL) {
    m = calloc(1, sizeof *m);
    if (m == NULL)
      return NULL;
    m->protocol = r->protocol;
    m->internal_port = r->internal_port;
    m->client_ip = c->client_ip;
    new_nonce(c, m);
    m->unknown = r->kind == REQ_UNMAP;
    m->next = c->mappings;
    c->mappings = m;
  } else if (!ethp2p_addr_equal(&m->client_ip, &c->client_ip, false)) {
    m->client_ip = c->client_ip;
    new_nonce(c, m);
    m->have_ext = false;
    m->via_pmp = false;
  }
  return m;
}

/* A random point in [1/2, 5/8] of the lifetime, in ms (RFC 6887 §11.2.1). */
static uint32_t renew_point_ms(pcp_nat *c, uint32_t lifetime_s) {
  uint8_t b[2];
  uint64_t life_ms = (uint64_t)lifetime_s * 1000u;
  ethp2p_env_random(c->base.env, b, sizeof b);
  uint64_t r = ((unsigned)b[0] << 8 | b[1]) % 1001; /* 0..1000 over [1/2, 5/8] */
  uint64_t ms = life_ms / 2 + life_ms / 8 * r / 1000;
  return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* ±10 % of `t` from env random (§8.1.1 RAND). */
static ethp2p_time jitter(pcp_nat *c, ethp2p_time t) {
  uint8_t b[2];
  ethp2p_env_random(c->base.env, b, sizeof b);
  unsigned r = ((unsigned)b[0] << 8 | b[1]) % 2001; /* 0..2000 -> -10.00 %..+10.00 % */
  return t / 10000 * (9000 + r);
}

static void send_head(pcp_nat *c, ethp2p_time now) {
  pcp_req *r = c->head;
  ethp2p_pcp_request req;
  memset(&req, 0, sizeof req);
  if (c->tries == 0)
    refresh_client_ip(c);
  req.version = ETHP2P_PCP_VERSION;
  req.client_ip = c->client_ip;
  if (r->kind == REQ_ANNOUNCE) {
    req.opcode = ETHP2P_PCP_OP_ANNOUNCE;
    req.lifetime_s = 0;
  } else {
    pcp_mapping *m = head_mapping(c);
    if (m == NULL)
      return; /* out of memory: the timer will time the request out */
    req.opcode = ETHP2P_PCP_OP_MAP;
    req.lifetime_s = r->kind == REQ_UNMAP ? 0 : r->lifetime_s;
    memcpy(req.map.nonce, m->nonce, sizeof m->nonce);
    req.map.protocol = r->protocol;
    req.map.internal_port = r->internal_port;
    req.map.external_port = r->kind == REQ_UNMAP ? 0 : r->suggested_port;
    if (c->v6)
      memset(&req.map.external_ip, 0, sizeof req.map.external_ip); /* ::, a pinhole */
    else if (m->have_ext && r->kind == REQ_MAP)
      req.map.external_ip = m->external_ip;
    else
      req.map.external_ip = ethp2p_addr_v4(0, 0, 0, 0, 0); /* ::ffff:0.0.0.0 */
  }
  uint8_t buf[ETHP2P_PCP_MAP_MSG_LEN];
  int n = ethp2p_pcp_request_encode(buf, sizeof buf, &req);
  if (n > 0) {
    int rc = c->udp != NULL ? ethp2p_udp_send(c->udp, &c->gw, buf, (size_t)n) : ETHP2P_ECLOSED;
    char gb[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat",
               r->kind == REQ_ANNOUNCE ? "PCP ANNOUNCE request" : "PCP MAP request",
               "to=%s proto=%s internal=%u suggested=%u lifetime=%u try=%u err=%s",
               ethp2p_addr_format(&c->gw, true, gb, sizeof gb),
               ethp2p_proto_name((ethp2p_proto)r->protocol), r->internal_port,
               req.map.external_port, (unsigned)req.lifetime_s, c->tries + 1,
               rc < 0 ? ethp2p_strerror(rc) : "none");
  }
  if (c->tries == 0) {
    c->started = now;
    c->rt = jitter(c, ETHP2P_PCP_IRT);
  } else {
    ethp2p_time next = 2 * c->rt;
    c->rt = next > ETHP2P_PCP_MRT ? jitter(c, ETHP2P_PCP_MRT) : jitter(c, next);
  }
  c->tries++;
  ethp2p_time deadline = now + c->rt;
  if (deadline > c->started + ETHP2P_NAT_PCP_MAX_WAIT)
    deadline = c->started + ETHP2P_NAT_PCP_MAX_WAIT;
  ethp2p_timer_start(c->timer, deadline);
}

static pcp_req *pop_head(pcp_nat *c) {
  pcp_req *r = c->head;
  c->head = r->next;
  if (c->head == NULL)
    c->tail = NULL;
  c->tries = 0;
  c->downgraded = false;
  ethp2p_timer_stop(c->timer);
  if (c->head != NULL)
    ethp2p_timer_start(c->timer, ethp2p_env_now(c->base.env));
  return r;
}

/* Delivers a result for a popped request; returns true if the NAT died.  An
 * ANNOUNCE request answers external_ip with the latest assigned address. */
static bool deliver(pcp_nat *c, pcp_req *r, const ethp2p_nat_map_result *res) {
  c->busy++;
  if (r->kind == REQ_MAP) {
    r->map_cb(&c->base, res, r->data);
  } else if (r->kind == REQ_ANNOUNCE) {
    ethp2p_addr ip = c->have_last_ext ? c->last_ext : ethp2p_addr_v4(0, 0, 0, 0, 0);
    r->extip_cb(&c->base, res->status, res->status == 0 ? &ip : NULL, r->data);
  } else if (r->done_cb != NULL) {
    r->done_cb(&c->base, res->status, r->data);
  }
  free(r);
  return leave(c);
}

static void downgrade_head(pcp_nat *c, const char *why);

static void on_timer(ethp2p_timer *t, void *data) {
  pcp_nat *c = data;
  if (c->head == NULL || c->downgraded)
    return;
  ethp2p_time now = ethp2p_env_now(c->base.env);
  if (c->tries == 0 && c->head->kind == REQ_UNMAP) {
    /* A mapping made over NAT-PMP is deleted over NAT-PMP. */
    pcp_mapping *m = find_mapping(c, c->head->protocol, c->head->internal_port);
    if (m != NULL && m->via_pmp) {
      downgrade_head(c, "mapping was made with NAT-PMP");
      return;
    }
  }
  if (c->tries == 0 || now < c->started + ETHP2P_NAT_PCP_MAX_WAIT) {
    send_head(c, now);
    return;
  }
  char gb[ETHP2P_ADDRSTRLEN];
  ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "PCP server did not answer", "gateway=%s",
             ethp2p_addr_format(&c->gw, false, gb, sizeof gb));
  ethp2p_nat_map_result res;
  memset(&res, 0, sizeof res);
  res.status = ETHP2P_ETIMEDOUT;
  if (c->head->kind == REQ_ANNOUNCE) {
    /* An unanswered address probe says nothing about the MAP requests behind
     * it (a server may ignore ANNOUNCE): only it fails, the queue goes on. */
    deliver(c, pop_head(c), &res);
    return;
  }
  while (c->head != NULL)
    if (deliver(c, pop_head(c), &res))
      return;
  if (c->rediscover_pending)
    drop_gateway(c);
}

/* ---- downgrade to NAT-PMP ------------------------------------------------ */

static void on_pmp_map(ethp2p_nat *inner, const ethp2p_nat_map_result *res, void *data) {
  pcp_fwd *f = data;
  pcp_nat *c = f->owner;
  unlink_fwd(c, f);
  free(f);
  if (c->head == NULL)
    return;
  pcp_mapping *m = find_mapping(c, c->head->protocol, c->head->internal_port);
  if (m != NULL && res->status == 0) {
    m->via_pmp = true;
    m->external_port = res->external_port;
  }
  deliver(c, pop_head(c), res);
}

static void on_pmp_unmap(ethp2p_nat *inner, int status, void *data) {
  pcp_fwd *f = data;
  pcp_nat *c = f->owner;
  unlink_fwd(c, f);
  free(f);
  if (c->head == NULL)
    return;
  pcp_mapping *m = find_mapping(c, c->head->protocol, c->head->internal_port);
  if (m != NULL && status == 0)
    remove_mapping(c, m);
  ethp2p_nat_map_result res;
  memset(&res, 0, sizeof res);
  res.status = status;
  deliver(c, pop_head(c), &res);
}

/* Hands the head request to NAT-PMP; its answer completes the head. */
static void downgrade_head(pcp_nat *c, const char *why) {
  pcp_req *r = c->head;
  ethp2p_log(ETHP2P_LOG_INFO, "nat", "Sending this request with NAT-PMP",
             "reason=\"%s\" proto=%s internal=%u", why,
             ethp2p_proto_name((ethp2p_proto)r->protocol), r->internal_port);
  ethp2p_timer_stop(c->timer);
  c->downgraded = true;
  pcp_fwd *f = new_fwd(c);
  int rc = f == NULL ? ETHP2P_ENOMEM
           : r->kind == REQ_MAP
               ? ethp2p_nat_add_mapping(c->pmp, (ethp2p_proto)r->protocol, r->suggested_port,
                                        r->internal_port, "", r->lifetime_s, on_pmp_map, f)
               : ethp2p_nat_delete_mapping(c->pmp, (ethp2p_proto)r->protocol, 0, r->internal_port,
                                           on_pmp_unmap, f);
  if (rc < 0) {
    if (f != NULL) {
      unlink_fwd(c, f);
      free(f);
    }
    ethp2p_nat_map_result res;
    memset(&res, 0, sizeof res);
    res.status = rc;
    deliver(c, pop_head(c), &res);
  }
}

/* ---- replies -------------------------------------------------------------- */

static int status_of(unsigned result) {
  switch (result) {
  case ETHP2P_PCP_RESULT_SUCCESS:
    return 0;
  case ETHP2P_PCP_RESULT_UNSUPP_VERSION:
  case ETHP2P_PCP_RESULT_UNSUPP_OPCODE:
  case ETHP2P_PCP_RESULT_UNSUPP_OPTION:
  case ETHP2P_PCP_RESULT_UNSUPP_PROTOCOL:
    return ETHP2P_EUNSUPP;
  default:
    return ETHP2P_EREFUSED;
  }
}

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  pcp_nat *c = data;
  char fb[ETHP2P_ADDRSTRLEN];
  if (!c->have_gw || !ethp2p_addr_equal(from, &c->gw, true)) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored PCP packet from a stranger", "from=%s",
               ethp2p_addr_format(from, true, fb, sizeof fb));
    return;
  }
  pcp_req *r = c->head;
  if (r == NULL || c->tries == 0 || c->downgraded)
    return;
  ethp2p_pcp_response resp;
  ethp2p_diag diag = {0};
  int rc = ethp2p_pcp_response_decode(&resp, buf, len, &diag);
  if (rc == ETHP2P_EUNSUPP && resp.version == 0 &&
      resp.result == ETHP2P_PMP_RESULT_UNSUPP_VERSION && resp.opcode == ETHP2P_PCP_OP_MAP &&
      len >= 4 && buf[2] == 0 && r->kind != REQ_ANNOUNCE) {
    if (c->v6) {
      /* NAT-PMP exists only over IPv4: nothing to downgrade to */
      ethp2p_nat_map_result res;
      memset(&res, 0, sizeof res);
      res.status = ETHP2P_EUNSUPP;
      res.router_code = ETHP2P_PMP_RESULT_UNSUPP_VERSION;
      ethp2p_nat_copy_str(res.router_msg, sizeof res.router_msg, "UNSUPP_VERSION (NAT-PMP only)");
      deliver(c, pop_head(c), &res);
      return;
    }
    downgrade_head(c, "server speaks only NAT-PMP");
    return;
  }
  if (rc == ETHP2P_EUNSUPP && resp.version == 0 &&
      resp.result == ETHP2P_PMP_RESULT_UNSUPP_VERSION && resp.opcode == ETHP2P_PCP_OP_ANNOUNCE &&
      len >= 4 && buf[2] == 0 && r->kind == REQ_ANNOUNCE) {
    /* a NAT-PMP-only server: the ANNOUNCE fails, NAT-PMP gives the address */
    ethp2p_nat_map_result res;
    memset(&res, 0, sizeof res);
    res.status = ETHP2P_EUNSUPP;
    res.router_code = ETHP2P_PMP_RESULT_UNSUPP_VERSION;
    deliver(c, pop_head(c), &res);
    return;
  }
  if (rc < 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored malformed PCP response", "err=\"%s\" offset=%zu",
               diag.msg, diag.offset);
    return;
  }
  if (r->kind == REQ_ANNOUNCE) {
    if (resp.opcode != ETHP2P_PCP_OP_ANNOUNCE) {
      ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored PCP response for no outstanding request",
                 "op=%u result=%u", resp.opcode, resp.result);
      return;
    }
    c->pcp_answered = true;
    bool lost = ethp2p_nat_epoch_update(&c->epoch, true, resp.epoch_s, ethp2p_env_now(c->base.env));
    ethp2p_nat_map_result res;
    memset(&res, 0, sizeof res);
    res.status = status_of(resp.result);
    res.router_code = resp.result;
    pcp_req *done = pop_head(c);
    if (lost) {
      ethp2p_log(ETHP2P_LOG_INFO, "nat", "PCP server lost its mappings (epoch reset)", "epoch=%u",
                 (unsigned)resp.epoch_s);
      c->busy++;
      ethp2p_nat_notify(&c->base, ETHP2P_NAT_EV_STATE_LOST, NULL);
      if (leave(c)) {
        free(done);
        return;
      }
    }
    deliver(c, done, &res);
    return;
  }
  pcp_mapping *m = find_mapping(c, r->protocol, r->internal_port);
  if (resp.opcode != ETHP2P_PCP_OP_MAP || !resp.has_map || m == NULL ||
      memcmp(resp.map.nonce, m->nonce, sizeof m->nonce) != 0 || resp.map.protocol != r->protocol ||
      resp.map.internal_port != r->internal_port) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored PCP response for no outstanding request",
               "op=%u result=%u", resp.opcode, resp.result);
    return;
  }
  char eb[ETHP2P_ADDRSTRLEN];
  ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "PCP MAP response",
             "result=%u(%s) epoch=%u external=%s:%u lifetime=%u", resp.result,
             ethp2p_pcp_result_name(resp.result), (unsigned)resp.epoch_s,
             ethp2p_addr_format(&resp.map.external_ip, false, eb, sizeof eb),
             resp.map.external_port, (unsigned)resp.lifetime_s);
  c->pcp_answered = true;
  bool lost = ethp2p_nat_epoch_update(&c->epoch, true, resp.epoch_s, ethp2p_env_now(c->base.env));
  if (r->kind == REQ_UNMAP && resp.result == ETHP2P_PCP_RESULT_NOT_AUTHORIZED && m->unknown &&
      !lost && !c->v6) {
    /* We never made this mapping (e.g. another run of the command did), so we
     * lack its nonce and PCP refuses (§11.3); NAT-PMP deletes need no nonce. */
    remove_mapping(c, m);
    downgrade_head(c, "PCP refused to delete a mapping whose nonce we lack");
    return;
  }

  ethp2p_nat_map_result res;
  memset(&res, 0, sizeof res);
  res.status = status_of(resp.result);
  if (resp.result == ETHP2P_PCP_RESULT_ADDRESS_MISMATCH)
    res.status = ETHP2P_EADDRCHANGED; /* §8.3: our address is not what the server sees */
  res.router_code = resp.result;
  res.lifetime_s = resp.lifetime_s;
  if (resp.result != 0) {
    ethp2p_nat_copy_str(res.router_msg, sizeof res.router_msg, ethp2p_pcp_result_name(resp.result));
  } else if (r->kind == REQ_MAP) {
    res.external_port = resp.map.external_port;
    if (resp.lifetime_s != 0)
      res.renew_after_ms = renew_point_ms(c, resp.lifetime_s);
    m->via_pmp = false;
    m->unknown = false;
    m->external_port = resp.map.external_port;
    if (c->v6) {
      /* A pinhole does not translate: the external address is ours, unless the
       * server names another (an NPTv6 translator would). */
      res.external_ip = c->client_ip;
      if (resp.map.external_ip.family == 6 && !ethp2p_addr_is_unspecified(&resp.map.external_ip))
        res.external_ip = resp.map.external_ip;
      res.external_ip.port = 0;
      res.external_ip.scope = 0;
      m->have_ext = true;
      m->external_ip = res.external_ip;
      c->have_last_ext = true;
      c->last_ext = res.external_ip;
    } else if (resp.map.external_ip.family != 0 &&
               !ethp2p_addr_is_unspecified(&resp.map.external_ip)) {
      m->have_ext = true;
      m->external_ip = resp.map.external_ip;
      res.external_ip = resp.map.external_ip;
      c->have_last_ext = true;
      c->last_ext = resp.map.external_ip;
      c->last_ext.port = 0;
    }
  } else {
    remove_mapping(c, m);
  }
  pcp_req *done = pop_head(c);
  if (lost) {
    ethp2p_log(ETHP2P_LOG_INFO, "nat", "PCP server lost its mappings (epoch reset)", "epoch=%u",
               (unsigned)resp.epoch_s);
    c->busy++;
    ethp2p_nat_notify(&c->base, ETHP2P_NAT_EV_STATE_LOST, NULL);
    if (leave(c)) {
      free(done);
      return;
    }
  }
  deliver(c, done, &res);
}

/* ---- operations ----------------------------------------------------------- */

static int enqueue(pcp_nat *c, pcp_req *r) {
  int rc = ensure_ready(c);
  if (rc < 0) {
    free(r);
    return rc;
  }
  if (c->tail != NULL) {
    c->tail->next = r;
    c->tail = r;
  } else {
    c->head = c->tail = r;
    c->tries = 0;
    ethp2p_timer_start(c->timer, ethp2p_env_now(c->base.env));
  }
  return 0;
}

static int pcp_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint, uint16_t internal_port,
                   const char *desc, uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data) {
  if (cb == NULL || internal_port == 0 || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP))
    return ETHP2P_EINVAL;
  pcp_req *r = calloc(1, sizeof *r);
  if (r == NULL)
    return ETHP2P_ENOMEM;
  r->kind = REQ_MAP;
  r->protocol = (uint8_t)proto;
  r->internal_port = internal_port;
  r->suggested_port = ext_hint != 0 ? ext_hint : internal_port;
  r->lifetime_s = lifetime_s != 0 ? lifetime_s : PCP_DEFAULT_LIFETIME;
  r->map_cb = cb;
  r->data = data;
  return enqueue((pcp_nat *)nat, r);
}

static int pcp_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                      uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  pcp_nat *c = (pcp_nat *)nat;
  if (internal_port == 0 || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP))
    return ETHP2P_EINVAL;
  pcp_req *r = calloc(1, sizeof *r);
  if (r == NULL)
    return ETHP2P_ENOMEM;
  r->kind = REQ_UNMAP;
  r->protocol = (uint8_t)proto;
  r->internal_port = internal_port;
  r->done_cb = cb;
  r->data = data;
  return enqueue(c, r);
}

static int enqueue_announce(pcp_nat *c, ethp2p_nat_extip_cb cb, void *data) {
  pcp_req *r = calloc(1, sizeof *r);
  if (r == NULL)
    return ETHP2P_ENOMEM;
  r->kind = REQ_ANNOUNCE;
  r->extip_cb = cb;
  r->data = data;
  return enqueue(c, r);
}

static void probe_free(pcp_nat *c, pcp_probe *p) {
  for (pcp_probe **pp = &c->probes; *pp != NULL; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  ethp2p_timer_destroy(p->grace);
  free(p);
}

/* Answers a probe's caller once; frees the probe when both halves are done.
 * Returns true if the NAT died in the callback. */
static bool probe_deliver(pcp_nat *c, pcp_probe *p, int status, const ethp2p_addr *ip) {
  ethp2p_nat_extip_cb cb = p->cb;
  void *data = p->data;
  ethp2p_addr copy;
  memset(&copy, 0, sizeof copy);
  if (ip != NULL)
    copy = *ip;
  p->delivered = true;
  if (p->pmp_done && p->ann_done)
    probe_free(c, p);
  else if (p->grace != NULL)
    ethp2p_timer_stop(p->grace);
  c->busy++;
  cb(&c->base, status, ip != NULL ? &copy : NULL, data);
  return leave(c);
}

static bool probe_pcp_only(pcp_nat *c, pcp_probe *p, const char *why) {
  ethp2p_addr ip = c->have_last_ext ? c->last_ext : ethp2p_addr_v4(0, 0, 0, 0, 0);
  if (!c->pcp_only)
    ethp2p_log(ETHP2P_LOG_INFO, "nat", "PCP server does not speak NAT-PMP; address from MAP",
               "why=\"%s\"", why);
  c->pcp_only = true;
  return probe_deliver(c, p, 0, &ip);
}

/* Decides what a probe can tell now. */
static void probe_step(pcp_nat *c, pcp_probe *p) {
  if (p->delivered) {
    if (p->pmp_done && p->ann_done)
      probe_free(c, p);
    return;
  }
  if (p->pmp_done) {
    /* NAT-PMP refused (UNSUPP_VERSION) or timed out: PCP's answer decides */
    if (!p->ann_done)
      return;
    if (p->ann_status == 0)
      (void)probe_pcp_only(
          c, p, p->pmp_status == ETHP2P_EUNSUPP ? "NAT-PMP refused" : "NAT-PMP does not answer");
    else
      (void)probe_deliver(c, p, p->pmp_status, NULL);
    return;
  }
  if (p->ann_done && p->ann_status == 0 && p->grace != NULL)
    ethp2p_timer_start(p->grace, ethp2p_env_now(c->base.env) + PCP_PMP_GRACE);
}

static void probe_grace(ethp2p_timer *t, void *data) {
  pcp_probe *p = data;
  (void)t;
  if (!p->delivered)
    (void)probe_pcp_only(p->owner, p, "NAT-PMP silent while PCP answers");
}

static void probe_on_announce(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  pcp_probe *p = data;
  (void)nat;
  (void)ip;
  p->ann_done = true;
  p->ann_status = status;
  probe_step(p->owner, p);
}

static void on_pmp_extip(ethp2p_nat *inner, int status, const ethp2p_addr *ip, void *data) {
  pcp_fwd *f = data;
  pcp_nat *c = f->owner;
  pcp_probe *p = f->probe;
  ethp2p_nat_extip_cb cb = f->extip_cb;
  void *cbdata = f->data;
  (void)inner;
  unlink_fwd(c, f);
  free(f);
  if (status == 0 && ip != NULL) {
    c->pmp_works = true;
    ethp2p_nat_announce_note_extip(c->ann, ip);
  }
  if (p != NULL) {
    p->pmp_done = true;
    p->pmp_status = status;
    if (status == 0 && !p->delivered)
      (void)probe_deliver(c, p, 0, ip);
    else
      probe_step(c, p);
    return;
  }
  c->busy++;
  cb(&c->base, status, ip, cbdata);
  leave(c);
}

/* IPv6: external_ip is our own address toward the server, read again now (a
 * renumbering changes it); answered on the next loop turn, one per turn. */
static void local_fire(ethp2p_timer *t, void *data) {
  pcp_nat *c = data;
  (void)t;
  pcp_fwd *f = c->local_waiters;
  if (f == NULL)
    return;
  c->local_waiters = f->next;
  if (c->local_waiters != NULL) /* re-armed first: a destroy inside cb also stops it */
    ethp2p_timer_start(c->local_timer, ethp2p_env_now(c->base.env));
  ethp2p_nat_extip_cb cb = f->extip_cb;
  void *cbdata = f->data;
  free(f);
  if (c->have_gw)
    refresh_client_ip(c);
  ethp2p_addr ip = c->client_ip;
  ip.port = 0;
  ip.scope = 0;
  c->busy++;
  cb(&c->base, 0, &ip, cbdata);
  leave(c);
}

static int pcp6_extip(pcp_nat *c, ethp2p_nat_extip_cb cb, void *data) {
  if (c->local_timer == NULL) {
    int rc = ethp2p_timer_create(c->base.env, &c->local_timer, local_fire, c);
    if (rc < 0)
      return rc;
  }
  pcp_fwd *f = calloc(1, sizeof *f);
  if (f == NULL)
    return ETHP2P_ENOMEM;
  f->owner = c;
  f->extip_cb = cb;
  f->data = data;
  pcp_fwd **pp = &c->local_waiters;
  while (*pp != NULL)
    pp = &(*pp)->next;
  *pp = f;
  ethp2p_timer_start(c->local_timer, ethp2p_env_now(c->base.env));
  return 0;
}

static int pcp_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  pcp_nat *c = (pcp_nat *)nat;
  if (cb == NULL)
    return ETHP2P_EINVAL;
  int rc = ensure_ready(c);
  if (rc < 0)
    return rc;
  if (c->v6)
    return pcp6_extip(c, cb, data);
  if (c->pcp_only)
    return enqueue_announce(c, cb, data);
  pcp_probe *p = NULL;
  if (!c->pmp_works) {
    /* the server is not known yet: ask both ways */
    p = calloc(1, sizeof *p);
    if (p == NULL)
      return ETHP2P_ENOMEM;
    p->owner = c;
    p->cb = cb;
    p->data = data;
    if (ethp2p_timer_create(c->base.env, &p->grace, probe_grace, p) < 0)
      p->grace = NULL;
  }
  pcp_fwd *f = new_fwd(c);
  if (f != NULL) {
    f->extip_cb = cb;
    f->data = data;
    f->probe = p;
    rc = ethp2p_nat_external_ip(c->pmp, on_pmp_extip, f);
    if (rc < 0) {
      unlink_fwd(c, f);
      free(f);
    }
  } else {
    rc = ETHP2P_ENOMEM;
  }
  if (rc < 0) {
    if (p != NULL) {
      ethp2p_timer_destroy(p->grace);
      free(p);
    }
    return rc;
  }
  if (p != NULL) {
    p->next = c->probes;
    c->probes = p;
    if (enqueue_announce(c, probe_on_announce, p) < 0) {
      p->ann_done = true;
      p->ann_status = ETHP2P_ENOMEM;
    }
  }
  return 0;
}

static void pcp_rediscover(ethp2p_nat *nat) {
  pcp_nat *c = (pcp_nat *)nat;
  if (c->head == NULL)
    drop_gateway(c);
  else
    c->rediscover_pending = true;
}

static void pcp_destroy(ethp2p_nat *nat) {
  pcp_nat *c = (pcp_nat *)nat;
  ethp2p_nat_destroy(c->pmp); /* drops its pending callbacks: our fwds are freed below */
  c->pmp = NULL;
  free_all(c);
  ethp2p_nat_announce_stop(c->ann);
  c->ann = NULL;
  ethp2p_udp_close(c->udp);
  c->udp = NULL;
  ethp2p_timer_destroy(c->timer);
  c->timer = NULL;
  ethp2p_timer_destroy(c->local_timer);
  c->local_timer = NULL;
  if (c->busy == 0)
    free(c);
  else
    c->destroyed = true;
}

int ethp2p_nat_pcp_set_nonce_key(ethp2p_nat *nat, const uint8_t key[32]) {
  pcp_nat *c = (pcp_nat *)nat;
  if (nat->spec.kind != ETHP2P_NAT_PCP || nat->ops->destroy != pcp_destroy)
    return ETHP2P_EUNSUPP;
  memcpy(c->key, key, sizeof c->key);
  c->have_key = true;
  return 0;
}

static const ethp2p_nat_ops pcp_ops = {
    .add_mapping = pcp_add,
    .delete_mapping = pcp_delete,
    .external_ip = pcp_extip,
    .rediscover = pcp_rediscover,
    .destroy = pcp_destroy,
};

int ethp2p_nat_pcp_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (spec->kind != ETHP2P_NAT_PCP || (spec->has_addr && spec->addr.family != 4))
    return ETHP2P_EINVAL;
  pcp_nat *c = calloc(1, sizeof *c);
  if (c == NULL)
    return ETHP2P_ENOMEM;
  c->base.ops = &pcp_ops;
  c->base.env = env;
  c->base.spec = *spec;
  c->base.name = "PCP";
  c->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DETECTS_RESTART |
                 ETHP2P_NAT_CAP_ANNOUNCES_EXTIP | ETHP2P_NAT_CAP_DELETES_BY_INTERNAL;
  *out = &c->base;
  return 0;
}

int ethp2p_nat_pcp6_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (spec->kind != ETHP2P_NAT_PCP || (spec->has_addr && spec->addr.family != 6))
    return ETHP2P_EINVAL;
  pcp_nat *c = calloc(1, sizeof *c);
  if (c == NULL)
    return ETHP2P_ENOMEM;
  c->base.ops = &pcp_ops;
  c->base.env = env;
  c->base.spec = *spec;
  c->base.name = "PCP (IPv6)";
  c->v6 = true;
  /* external_ip reads our own address (no query); restarts show in the epoch
   * of MAP responses and in ANNOUNCEs on [ff02::1]:5350. */
  c->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DETECTS_RESTART |
                 ETHP2P_NAT_CAP_DELETES_BY_INTERNAL;
  *out = &c->base;
  return 0;
}
