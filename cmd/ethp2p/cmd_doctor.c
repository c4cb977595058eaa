/*
 * cmd/ethp2p/cmd_doctor.c — `ethp2p nat doctor`: why can (or can't) peers
 * reach this node?  One screen (or one JSON object) with:
 *   - the local addresses and the default gateway;
 *   - each gateway protocol (UPnP IGD with its version and services, NAT-PMP,
 *     PCP): did it answer, what external address it gave, and a live test
 *     mapping of tcp/N and udp/N (add, confirm by renewing, delete);
 *   - the external address, flagged when private or carrier-grade NAT (double
 *     NAT) or when it disagrees with what STUN sees;
 *   - the NAT behaviour from RFC 5780 discovery when --stun is given;
 *   - the verdict "reachable from the internet on tcp/N and udp/N: yes|no|unknown"
 *     with the reason and what to do.
 *
 * The probing core (doctor_start .. doctor_verdict, doctor_json) runs on any
 * environment, so tests drive it in the simulated world
 * (tests/check_integration_doctor.c includes this file); the command wraps it
 * in the libuv environment.  Every probe is bounded: the whole report takes a
 * few seconds when nothing answers.  No STUN server is used unless named:
 * nothing is sent to the internet by default.
 */
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/nat.h"
#include "ethp2p/natbehavior.h"
#include "nat/http.h"
#include "nat/ssdp.h"
#include "nat/xml.h"

#define DOC_MAX_IFACES 16
#define DOC_TEST_LIFETIME 120u
#define DOC_GATEWAY_BUDGET (4 * ETHP2P_SEC) /* external address questions */
#define DOC_TOTAL_BUDGET (7 * ETHP2P_SEC)   /* everything */
#define DOC_STUN_BUDGET (5 * ETHP2P_SEC)
#define DOC_SSDP_BUDGET (2500 * ETHP2P_MSEC)

enum { P_UPNP = 0, P_PMP, P_PCP, P_COUNT };
enum { M_TCP = 0, M_UDP = 1 };

typedef struct doc_map {
  bool tried;
  int add_status; /* 0 = added */
  uint16_t external_port;
  uint32_t lifetime_s;
  int router_code;
  char router_msg[96];
  bool confirmed; /* a renewal returned the same port */
  int confirm_status;
  bool deleted;
  int delete_status;
} doc_map;

typedef struct doc_proto {
  const char *key;   /* JSON name */
  const char *label; /* screen name */
  bool probed;
  bool done; /* the chain finished (or was cut off) */
  bool timed_out;
  ethp2p_nat *nat;
  int extip_status; /* 1 = pending */
  ethp2p_addr extip;
  int step; /* mapping test step */
  doc_map map[2];
} doc_proto;

typedef struct doc_ssdp {
  bool probed, answered, desc_ok;
  ethp2p_udp *udp;
  ethp2p_http_client *http;
  char st[256], server[128], location[256];
  char device_type[128], friendly_name[128];
  char services[ETHP2P_UPNP_MAX_SERVICES][128];
  size_t nservices;
  int desc_status;
} doc_ssdp;

typedef struct doctor_opts {
  ethp2p_nat_spec spec; /* --nat (default any) */
  ethp2p_addr stun[ETHP2P_NATB_MAX_SERVERS];
  size_t n_stun;
  uint16_t port;            /* --port (default 30303) */
  ethp2p_time total_budget; /* 0 = DOC_TOTAL_BUDGET */
} doctor_opts;

typedef struct doctor doctor;
typedef void (*doctor_done_cb)(doctor *d, void *data);

struct doctor {
  ethp2p_env *env;
  doctor_opts o;
  doctor_done_cb cb;
  void *cb_data;
  bool finished;
  ethp2p_timer *timer;
  ethp2p_time started;

  ethp2p_iface ifaces[DOC_MAX_IFACES];
  size_t n_ifaces;
  bool have_gw;
  ethp2p_addr gw;

  doc_proto proto[P_COUNT];
  int mapping_turn; /* protocol whose mapping test runs, -1 none yet */
  doc_ssdp ssdp;

  ethp2p_natb *natb;
  bool stun_done;
  int stun_status;
  ethp2p_nat_profile profile;
};

/* ---- small helpers ------------------------------------------------------------- */

static const char *fmt_ip(const ethp2p_addr *a, char *buf, size_t n) {
  return a->family == 0 ? "-" : ethp2p_addr_format(a, false, buf, n);
}

/* Globally routable IPv4: not private, CGNAT, loopback, link-local, multicast, 0/8,
 * 240/4, nor the documentation and benchmark ranges (RFC 5737, RFC 2544), which labs
 * use for "public" addresses but which the internet never routes. */
static bool addr_public(const ethp2p_addr *a) {
  const uint8_t *ip = a->ip;
  if (a->family != 4 || ethp2p_addr_is_private(a) || ethp2p_addr_is_cgnat(a) ||
      ethp2p_addr_is_loopback(a) || ethp2p_addr_is_unspecified(a) || ethp2p_addr_is_multicast(a))
    return false;
  if (ip[0] == 0 || ip[0] >= 240 || (ip[0] == 169 && ip[1] == 254))
    return false;
  if ((ip[0] == 192 && ip[1] == 0 && ip[2] == 2) || (ip[0] == 198 && ip[1] == 51 && ip[2] == 100) ||
      (ip[0] == 203 && ip[1] == 0 && ip[2] == 113) || (ip[0] == 198 && (ip[1] & 0xfe) == 18))
    return false;
  return true;
}

static void doc_check_done(doctor *d);

/* ---- gateway protocols via the NAT clients ------------------------------------- */

static void proto_finish(doctor *d, doc_proto *p) {
  if (p->done)
    return;
  p->done = true;
  ethp2p_nat_destroy(p->nat);
  p->nat = NULL;
}

static void mapping_next(doctor *d);

static void on_map_step(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data);
static void on_del_step(ethp2p_nat *nat, int status, void *data);

/* Steps per protocol: 0 add tcp, 1 confirm tcp, 2 delete tcp, 3 add udp, 4 confirm udp,
 * 5 delete udp, 6 done.  A failed add skips its confirm and delete. */
static void proto_step(doctor *d, doc_proto *p) {
  for (;;) {
    int rc;
    if (p->step >= 6 || p->done) {
      proto_finish(d, p);
      mapping_next(d);
      return;
    }
    int which = p->step < 3 ? M_TCP : M_UDP;
    ethp2p_proto pr = which == M_TCP ? ETHP2P_PROTO_TCP : ETHP2P_PROTO_UDP;
    doc_map *m = &p->map[which];
    switch (p->step % 3) {
    case 0:
      m->tried = true;
      m->add_status = 1;
      rc = ethp2p_nat_add_mapping(p->nat, pr, d->o.port, d->o.port, "ethp2p doctor",
                                  DOC_TEST_LIFETIME, on_map_step, d);
      if (rc == 0)
        return;
      m->add_status = rc;
      p->step += 3;
      continue;
    case 1:
      m->confirm_status = 1;
      rc = ethp2p_nat_add_mapping(p->nat, pr, m->external_port, d->o.port, "ethp2p doctor",
                                  DOC_TEST_LIFETIME, on_map_step, d);
      if (rc == 0)
        return;
      m->confirm_status = rc;
      p->step++;
      continue;
    default:
      m->delete_status = 1;
      rc = ethp2p_nat_delete_mapping(p->nat, pr, m->external_port, d->o.port, on_del_step, d);
      if (rc == 0)
        return;
      m->delete_status = rc;
      p->step++;
      continue;
    }
  }
}

static doc_proto *proto_of(doctor *d, ethp2p_nat *nat) {
  for (int i = 0; i < P_COUNT; i++)
    if (d->proto[i].nat == nat)
      return &d->proto[i];
  return NULL;
}

static void on_map_step(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  doctor *d = data;
  doc_proto *p = proto_of(d, nat);
  if (p == NULL)
    return;
  doc_map *m = &p->map[p->step < 3 ? M_TCP : M_UDP];
  if (p->step % 3 == 0) {
    m->add_status = res->status;
    m->external_port = res->external_port;
    m->lifetime_s = res->lifetime_s;
    m->router_code = res->router_code;
    snprintf(m->router_msg, sizeof m->router_msg, "%s", res->router_msg);
    p->step += res->status == 0 ? 1 : 3;
  } else {
    m->confirm_status = res->status;
    m->confirmed = res->status == 0 && res->external_port == m->external_port;
    p->step++;
  }
  proto_step(d, p);
  doc_check_done(d);
}

static void on_del_step(ethp2p_nat *nat, int status, void *data) {
  doctor *d = data;
  doc_proto *p = proto_of(d, nat);
  if (p == NULL)
    return;
  doc_map *m = &p->map[p->step < 3 ? M_TCP : M_UDP];
  m->delete_status = status;
  m->deleted = status == 0;
  p->step++;
  proto_step(d, p);
  doc_check_done(d);
}

/* Mapping tests run one protocol at a time (they use the same ports). */
static void mapping_next(doctor *d) {
  if (d->mapping_turn >= 0 && !d->proto[d->mapping_turn].done)
    return;
  for (int i = 0; i < P_COUNT; i++) {
    doc_proto *p = &d->proto[i];
    if (p->probed && !p->done && p->extip_status == 0 && p->nat != NULL && p->nat->can_map) {
      d->mapping_turn = i;
      proto_step(d, p);
      return;
    }
  }
}

static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  doctor *d = data;
  doc_proto *p = proto_of(d, nat);
  if (p == NULL)
    return;
  p->extip_status = status;
  if (status == 0 && ip != NULL)
    p->extip = *ip;
  if (status != 0)
    proto_finish(d, p);
  mapping_next(d);
  doc_check_done(d);
}

static void proto_start(doctor *d, int idx, const char *key, const char *label,
                        ethp2p_nat_kind kind) {
  doc_proto *p = &d->proto[idx];
  ethp2p_nat_spec spec;
  p->key = key;
  p->label = label;
  p->extip_status = 1;
  memset(&spec, 0, sizeof spec);
  spec.kind = kind;
  if ((kind == ETHP2P_NAT_PMP || kind == ETHP2P_NAT_PCP) && d->o.spec.has_addr &&
      (d->o.spec.kind == ETHP2P_NAT_PMP || d->o.spec.kind == ETHP2P_NAT_PCP)) {
    spec.has_addr = true;
    spec.addr = d->o.spec.addr;
  }
  p->probed = true;
  int rc = ethp2p_nat_create(d->env, &spec, &p->nat);
  if (rc == 0)
    rc = ethp2p_nat_external_ip(p->nat, on_extip, d);
  if (rc != 0) {
    p->extip_status = rc;
    proto_finish(d, p);
  }
}

/* ---- UPnP details: our own SSDP search and description fetch ------------------- */

static void ssdp_close(doctor *d) {
  ethp2p_udp_close(d->ssdp.udp);
  d->ssdp.udp = NULL;
}

static void on_desc(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp, void *data) {
  doctor *d = data;
  doc_ssdp *s = &d->ssdp;
  ethp2p_upnp_desc *desc;
  (void)c;
  s->http = NULL;
  s->desc_status = status;
  if (status == 0 && resp->status == 200 && (desc = calloc(1, sizeof *desc)) != NULL) {
    if (ethp2p_upnp_desc_parse(desc, (const char *)resp->body, resp->body_len, NULL) == 0) {
      s->desc_ok = true;
      snprintf(s->device_type, sizeof s->device_type, "%s", desc->root_device_type);
      snprintf(s->friendly_name, sizeof s->friendly_name, "%s", desc->friendly_name);
      for (size_t i = 0; i < desc->nservices && i < ETHP2P_UPNP_MAX_SERVICES; i++)
        snprintf(s->services[s->nservices++], sizeof s->services[0], "%s",
                 desc->services[i].service_type);
    }
    free(desc);
  }
  doc_check_done(d);
}

static void ssdp_fetch(doctor *d) {
  doc_ssdp *s = &d->ssdp;
  ethp2p_http_url url;
  uint8_t req[1024];
  size_t len;
  char host[300];
  if (ethp2p_http_url_parse(&url, s->location, NULL) != 0 || !url.has_addr)
    return;
  snprintf(host, sizeof host, "%s:%u", url.host, (unsigned)url.port);
  ethp2p_http_field f[2] = {{"Host", host}, {"Connection", "close"}};
  if (ethp2p_http_request_build(req, sizeof req, &len, "GET", url.path, f, 2, NULL, 0, 0) != 0)
    return;
  if (ethp2p_http_client_start(d->env, &s->http, &url.addr, NULL, req, len, 64 * 1024, false,
                               2 * ETHP2P_SEC, on_desc, d) != 0)
    s->http = NULL;
}

static void on_ssdp(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                    void *data) {
  doctor *d = data;
  doc_ssdp *s = &d->ssdp;
  ethp2p_ssdp_reply r;
  (void)udp;
  (void)from;
  if (s->answered || ethp2p_ssdp_reply_parse(&r, buf, len, NULL) != 0 || r.status != 200 ||
      !ethp2p_ssdp_st_is_gateway(r.st))
    return;
  s->answered = true;
  snprintf(s->st, sizeof s->st, "%s", r.st);
  snprintf(s->server, sizeof s->server, "%s", r.server);
  snprintf(s->location, sizeof s->location, "%s", r.location);
  ssdp_fetch(d);
}

static void ssdp_start(doctor *d) {
  doc_ssdp *s = &d->ssdp;
  ethp2p_addr any, group;
  static const char *const targets[] = {ETHP2P_SSDP_ST_IGD2, ETHP2P_SSDP_ST_IGD1};
  memset(&any, 0, sizeof any);
  any.family = 4;
  s->probed = true;
  if (ethp2p_udp_open(d->env, &s->udp, &any, 0, on_ssdp, d) != 0) {
    s->udp = NULL;
    return;
  }
  (void)ethp2p_udp_set_multicast(s->udp, NULL, 2);
  ethp2p_addr_parse_ip(&group, ETHP2P_SSDP_GROUP_V4);
  group.port = ETHP2P_SSDP_PORT;
  for (size_t t = 0; t < 2; t++) {
    ethp2p_ssdp_search q;
    uint8_t buf[512];
    size_t len;
    memset(&q, 0, sizeof q);
    q.mx = 1;
    snprintf(q.st, sizeof q.st, "%s", targets[t]);
    if (ethp2p_ssdp_search_build(buf, sizeof buf, &len, &q) == 0)
      (void)ethp2p_udp_send(s->udp, &group, buf, len);
    if (d->have_gw) {
      ethp2p_addr to = d->gw;
      char h[ETHP2P_ADDRSTRLEN];
      to.port = ETHP2P_SSDP_PORT;
      snprintf(q.host, sizeof q.host, "%s", ethp2p_addr_format(&to, true, h, sizeof h));
      q.mx = -1;
      if (ethp2p_ssdp_search_build(buf, sizeof buf, &len, &q) == 0)
        (void)ethp2p_udp_send(s->udp, &to, buf, len);
    }
  }
}

/* ---- STUN behaviour ------------------------------------------------------------ */

static void on_natb(ethp2p_natb *nb, int status, const ethp2p_nat_profile *p, void *data) {
  doctor *d = data;
  (void)nb;
  d->stun_done = true;
  d->stun_status = status;
  d->profile = *p;
  doc_check_done(d);
}

/* ---- the run ------------------------------------------------------------------- */

static bool doc_all_done(doctor *d) {
  for (int i = 0; i < P_COUNT; i++)
    if (d->proto[i].probed && !d->proto[i].done)
      return false;
  if (d->ssdp.probed && d->ssdp.http != NULL)
    return false;
  if (d->natb != NULL && !d->stun_done)
    return false;
  return true;
}

static void doc_finish(doctor *d) {
  if (d->finished)
    return;
  d->finished = true;
  for (int i = 0; i < P_COUNT; i++) {
    doc_proto *p = &d->proto[i];
    if (p->probed && !p->done) {
      p->timed_out = true;
      if (p->extip_status == 1)
        p->extip_status = ETHP2P_ETIMEDOUT;
      proto_finish(d, p);
    }
  }
  if (d->ssdp.http != NULL) {
    ethp2p_http_client_cancel(d->ssdp.http);
    d->ssdp.http = NULL;
  }
  ssdp_close(d);
  if (d->natb != NULL && !d->stun_done) {
    ethp2p_natb_stop(d->natb);
    d->profile = *ethp2p_natb_profile(d->natb);
  }
  ethp2p_timer_stop(d->timer);
  if (d->cb != NULL)
    d->cb(d, d->cb_data);
}

static void doc_check_done(doctor *d) {
  /* SSDP gets its own window even when the NAT clients finish early. */
  ethp2p_time now = ethp2p_env_now(d->env);
  if (d->finished)
    return;
  if (doc_all_done(d) &&
      (!d->ssdp.probed || d->ssdp.answered || now >= d->started + DOC_SSDP_BUDGET))
    ethp2p_timer_start(d->timer, now); /* finish on the next turn, outside callbacks */
}

static void on_doc_timer(ethp2p_timer *t, void *data) {
  doctor *d = data;
  ethp2p_time now = ethp2p_env_now(d->env);
  (void)t;
  if (d->finished)
    return;
  if (now >= d->started + d->o.total_budget ||
      (doc_all_done(d) &&
       (!d->ssdp.probed || d->ssdp.answered || now >= d->started + DOC_SSDP_BUDGET))) {
    doc_finish(d);
    return;
  }
  /* External-address questions that outlive their budget count as no answer. */
  if (now >= d->started + DOC_GATEWAY_BUDGET) {
    for (int i = 0; i < P_COUNT; i++) {
      doc_proto *p = &d->proto[i];
      if (p->probed && !p->done && p->extip_status == 1) {
        p->timed_out = true;
        p->extip_status = ETHP2P_ETIMEDOUT;
        proto_finish(d, p);
      }
    }
    mapping_next(d);
  }
  ethp2p_time next = d->started + d->o.total_budget;
  if (now < d->started + DOC_GATEWAY_BUDGET)
    next = d->started + DOC_GATEWAY_BUDGET;
  else if (now < d->started + DOC_SSDP_BUDGET)
    next = d->started + DOC_SSDP_BUDGET;
  else if (doc_all_done(d))
    next = now;
  ethp2p_timer_start(d->timer, next);
}

/* Starts every probe.  cb runs once, later, when the report is complete. */
static int doctor_start(doctor *d, ethp2p_env *env, const doctor_opts *o, doctor_done_cb cb,
                        void *data) {
  memset(d, 0, sizeof *d);
  d->env = env;
  d->o = *o;
  if (d->o.total_budget == 0)
    d->o.total_budget = DOC_TOTAL_BUDGET;
  d->cb = cb;
  d->cb_data = data;
  d->mapping_turn = -1;
  d->started = ethp2p_env_now(env);
  int rc = ethp2p_timer_create(env, &d->timer, on_doc_timer, d);
  if (rc != 0)
    return rc;
  if (ethp2p_env_interfaces(env, d->ifaces, DOC_MAX_IFACES, &d->n_ifaces) != 0)
    d->n_ifaces = 0;
  d->have_gw = ethp2p_env_default_gateway(env, &d->gw) == 0;

  ethp2p_nat_kind k = o->spec.kind;
  bool any = k == ETHP2P_NAT_ANY;
  if (any || k == ETHP2P_NAT_UPNP) {
    proto_start(d, P_UPNP, "upnp", "UPnP IGD", ETHP2P_NAT_UPNP);
    ssdp_start(d);
  }
  if (any || k == ETHP2P_NAT_PMP)
    proto_start(d, P_PMP, "natpmp", "NAT-PMP", ETHP2P_NAT_PMP);
  if (any || k == ETHP2P_NAT_PCP)
    proto_start(d, P_PCP, "pcp", "PCP", ETHP2P_NAT_PCP);
  if (d->proto[P_UPNP].key == NULL) {
    d->proto[P_UPNP].key = "upnp";
    d->proto[P_UPNP].label = "UPnP IGD";
  }
  if (d->proto[P_PMP].key == NULL) {
    d->proto[P_PMP].key = "natpmp";
    d->proto[P_PMP].label = "NAT-PMP";
  }
  if (d->proto[P_PCP].key == NULL) {
    d->proto[P_PCP].key = "pcp";
    d->proto[P_PCP].label = "PCP";
  }

  if (o->n_stun > 0) {
    ethp2p_natb_config nc;
    ethp2p_natb_config_default(&nc);
    memcpy(nc.servers, o->stun, o->n_stun * sizeof o->stun[0]);
    nc.n_servers = o->n_stun;
    nc.time_limit = DOC_STUN_BUDGET;
    if (ethp2p_natb_create(env, &nc, &d->natb) == 0 &&
        ethp2p_natb_start(d->natb, on_natb, d) != 0) {
      ethp2p_natb_destroy(d->natb);
      d->natb = NULL;
    }
  }
  ethp2p_timer_start(d->timer, d->started + DOC_GATEWAY_BUDGET);
  doc_check_done(d); /* nothing to wait for (--nat none, no --stun): finish next turn */
  return 0;
}

static void doctor_free(doctor *d) {
  for (int i = 0; i < P_COUNT; i++) {
    ethp2p_nat_destroy(d->proto[i].nat);
    d->proto[i].nat = NULL;
  }
  if (d->ssdp.http != NULL)
    ethp2p_http_client_cancel(d->ssdp.http);
  d->ssdp.http = NULL;
  ssdp_close(d);
  ethp2p_natb_destroy(d->natb);
  d->natb = NULL;
  ethp2p_timer_destroy(d->timer);
  d->timer = NULL;
}

/* ---- conclusions ------------------------------------------------------------------ */

typedef struct doc_extaddr {
  ethp2p_addr addr;   /* family 0: none known */
  const char *source; /* "upnp", "natpmp", "pcp", "extip", "stun" */
  bool private_, cgnat, double_nat;
  ethp2p_addr stun; /* STUN's reflexive IP, family 0 if none */
  bool disagrees;
} doc_extaddr;

static doc_extaddr doctor_extaddr(const doctor *d) {
  doc_extaddr e;
  memset(&e, 0, sizeof e);
  if (d->o.spec.kind == ETHP2P_NAT_EXTIP) {
    e.addr = d->o.spec.addr;
    e.source = "extip";
  }
  for (int i = 0; i < P_COUNT && e.addr.family == 0; i++) {
    const doc_proto *p = &d->proto[i];
    if (p->probed && p->extip_status == 0 && p->extip.family != 0) {
      e.addr = p->extip;
      e.source = p->key;
    }
  }
  if (d->profile.reflexive.family != 0) {
    e.stun = d->profile.reflexive;
    e.stun.port = 0;
  }
  if (e.addr.family == 0 && e.stun.family != 0) {
    e.addr = e.stun;
    e.source = "stun";
  }
  if (e.addr.family != 0) {
    e.addr.port = 0;
    e.private_ = ethp2p_addr_is_private(&e.addr);
    e.cgnat = ethp2p_addr_is_cgnat(&e.addr);
    e.double_nat = e.private_ || e.cgnat;
    if (e.stun.family != 0 && strcmp(e.source, "stun") != 0 &&
        !ethp2p_addr_equal(&e.addr, &e.stun, false)) {
      e.disagrees = true;
      e.double_nat = true;
    }
  }
  return e;
}

static const ethp2p_addr *doctor_local_ip(const doctor *d) {
  for (size_t i = 0; i < d->n_ifaces; i++) {
    const ethp2p_iface *f = &d->ifaces[i];
    if (f->up && !f->loopback && f->addr.family == 4 &&
        (!d->have_gw || ethp2p_addr_same_subnet(&f->addr, &d->gw, f->prefix_len)))
      return &f->addr;
  }
  for (size_t i = 0; i < d->n_ifaces; i++)
    if (d->ifaces[i].up && !d->ifaces[i].loopback && d->ifaces[i].addr.family == 4)
      return &d->ifaces[i].addr;
  return NULL;
}

static const ethp2p_addr *doctor_public_iface(const doctor *d) {
  for (size_t i = 0; i < d->n_ifaces; i++)
    if (d->ifaces[i].up && !d->ifaces[i].loopback && addr_public(&d->ifaces[i].addr) &&
        !(d->ifaces[i].addr.ip[0] == 169 && d->ifaces[i].addr.ip[1] == 254))
      return &d->ifaces[i].addr;
  return NULL;
}

typedef struct doc_verdict {
  const char *answer; /* "yes", "no", "unknown" */
  char reason[384];
  char advice[384];
} doc_verdict;

static doc_verdict doctor_verdict(const doctor *d) {
  doc_verdict v;
  doc_extaddr e = doctor_extaddr(d);
  char ext[ETHP2P_ADDRSTRLEN], loc[ETHP2P_ADDRSTRLEN], st[ETHP2P_ADDRSTRLEN];
  const ethp2p_addr *lip = doctor_local_ip(d), *pub = doctor_public_iface(d);
  unsigned n = d->o.port;
  const doc_proto *mapped = NULL, *refused = NULL, *answered = NULL;
  const ethp2p_nat_profile *pr = &d->profile;
  bool stun_known = pr->reflexive.family != 0;

  memset(&v, 0, sizeof v);
  fmt_ip(&e.addr, ext, sizeof ext);
  if (lip != NULL)
    fmt_ip(lip, loc, sizeof loc);
  else
    snprintf(loc, sizeof loc, "this host");
  fmt_ip(&e.stun, st, sizeof st);
  for (int i = 0; i < P_COUNT; i++) {
    const doc_proto *p = &d->proto[i];
    if (!p->probed || p->extip_status != 0)
      continue;
    if (answered == NULL)
      answered = p;
    if (mapped == NULL && p->map[M_TCP].add_status == 0 && p->map[M_UDP].add_status == 0 &&
        p->map[M_TCP].tried && p->map[M_UDP].tried)
      mapped = p;
    else if (refused == NULL && (p->map[M_TCP].tried || p->map[M_UDP].tried))
      refused = p;
  }
  const char *fwd_advice_fmt = "forward tcp/%u and udp/%u on the router to %s:%u by hand and run "
                               "with --nat extip:%s";

  if (d->o.spec.kind == ETHP2P_NAT_EXTIP) {
    v.answer = "unknown";
    if (stun_known && e.disagrees)
      snprintf(v.reason, sizeof v.reason, "you declared the external address %s but STUN sees %s",
               ext, st);
    else
      snprintf(v.reason, sizeof v.reason,
               "the external address is declared (%s); inbound connections cannot be tested "
               "from inside",
               ext);
    snprintf(v.advice, sizeof v.advice,
             "make sure tcp/%u and udp/%u are forwarded by hand to %s:%u; ask a peer or an "
             "outside port checker to connect",
             n, n, loc, n);
    return v;
  }
  if (mapped != NULL) {
    if (e.private_ || e.cgnat || e.disagrees) {
      v.answer = "no";
      if (e.disagrees)
        snprintf(v.reason, sizeof v.reason,
                 "%s mapped the ports, but the router's external address %s is not what the "
                 "internet sees (%s): another NAT sits upstream (double NAT)",
                 mapped->label, ext, st);
      else
        snprintf(v.reason, sizeof v.reason,
                 "%s mapped the ports, but the router's external address %s is %s: another NAT "
                 "sits upstream (double NAT)",
                 mapped->label, ext, e.cgnat ? "carrier-grade NAT space (100.64/10)" : "private");
      snprintf(v.advice, sizeof v.advice,
               "put the upstream modem in bridge mode or forward tcp/%u and udp/%u there too; "
               "behind carrier-grade NAT ask the ISP for a public IPv4 address, or rely on "
               "outbound connections and relays",
               n, n);
      return v;
    }
    v.answer = "yes";
    snprintf(v.reason, sizeof v.reason,
             "the router forwards tcp/%u -> %s:%u and udp/%u -> %s:%u via %s", n, ext,
             mapped->map[M_TCP].external_port, n, ext, mapped->map[M_UDP].external_port,
             mapped->label);
    if (mapped->map[M_TCP].external_port != n || mapped->map[M_UDP].external_port != n)
      snprintf(v.advice, sizeof v.advice,
               "the router grants other external ports than %u; run the node with --nat %s so "
               "it keeps the mapping and advertises the granted ports",
               n,
               mapped == &d->proto[P_UPNP]  ? "upnp"
               : mapped == &d->proto[P_PMP] ? "pmp"
                                            : "pcp");
    else
      snprintf(v.advice, sizeof v.advice,
               "run the node with --nat any (or --nat %s) so it renews the mapping",
               mapped == &d->proto[P_UPNP]  ? "upnp"
               : mapped == &d->proto[P_PMP] ? "pmp"
                                            : "pcp");
    return v;
  }
  if (pub != NULL && (!stun_known || pr->behind_nat == ETHP2P_NAT_TRI_NO)) {
    char pb[ETHP2P_ADDRSTRLEN];
    fmt_ip(pub, pb, sizeof pb);
    bool filtered = stun_known && pr->filtering != ETHP2P_NAT_POLICY_EI &&
                    pr->filtering != ETHP2P_NAT_POLICY_UNKNOWN;
    v.answer = filtered ? "no" : "yes";
    snprintf(v.reason, sizeof v.reason, "this host has the public address %s (no NAT)%s", pb,
             filtered ? ", but a firewall filters unsolicited packets" : "");
    snprintf(v.advice, sizeof v.advice,
             "make sure the host firewall allows tcp/%u and udp/%u in; run with --nat extip:%s", n,
             n, pb);
    return v;
  }
  if (refused != NULL) {
    const doc_map *m =
        refused->map[M_TCP].add_status != 0 ? &refused->map[M_TCP] : &refused->map[M_UDP];
    v.answer = "no";
    if (m->router_code != 0)
      snprintf(v.reason, sizeof v.reason, "%s answered but refused the test mapping: code %d %s",
               refused->label, m->router_code, m->router_msg);
    else
      snprintf(v.reason, sizeof v.reason, "%s answered but the test mapping failed: %s",
               refused->label, ethp2p_strerror(m->add_status));
    snprintf(v.advice, sizeof v.advice, fwd_advice_fmt, n, n, loc, n,
             e.addr.family != 0 ? ext : "<external IP>");
    return v;
  }
  if (stun_known && pr->behind_nat == ETHP2P_NAT_TRI_YES) {
    v.answer = "no";
    snprintf(v.reason, sizeof v.reason,
             "%s and STUN shows a NAT (%s mapping, %s filtering): unsolicited connections are "
             "dropped%s",
             answered != NULL ? "the router maps no ports"
             : d->o.spec.kind == ETHP2P_NAT_NONE
                 ? "no port-mapping protocol was tried (--nat none)"
                 : "no port-mapping protocol answered (UPnP, NAT-PMP, PCP)",
             ethp2p_nat_policy_name(pr->mapping), ethp2p_nat_policy_name(pr->filtering),
             pr->can_receive_unsolicited ? " for TCP (UDP peers may reach you after you send "
                                           "to them: full cone)"
                                         : "");
    snprintf(v.advice, sizeof v.advice,
             "enable UPnP or NAT-PMP on the router, or forward tcp/%u and udp/%u by hand to "
             "%s:%u and run with --nat extip:%s",
             n, n, loc, n, e.addr.family != 0 ? ext : "<external IP>");
    return v;
  }
  v.answer = "unknown";
  snprintf(v.reason, sizeof v.reason, "%s and %s",
           d->o.spec.kind == ETHP2P_NAT_NONE ? "no port-mapping protocol was tried (--nat none)"
           : !d->have_gw                     ? "there is no default gateway"
                         : "no port-mapping protocol answered (UPnP, NAT-PMP, PCP)",
           d->o.n_stun == 0 ? "no STUN server was given"
           : !stun_known    ? "no STUN server answered"
                            : "STUN sees this host's own address, which is not globally routable");
  snprintf(v.advice, sizeof v.advice,
           "enable UPnP or NAT-PMP on the router, or forward tcp/%u and udp/%u by hand and use "
           "--nat extip:IP; run with --stun HOST:PORT (an RFC 5780 server) to learn how the NAT "
           "behaves",
           n, n);
  return v;
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *jaddr(const ethp2p_addr *a, bool port) {
  char b[ETHP2P_ADDRSTRLEN];
  if (a == NULL || a->family == 0)
    return json_null();
  return json_string(ethp2p_addr_format(a, port, b, sizeof b));
}

static json_t *jerr(int status) {
  return status == 0 || status == 1 ? json_null() : json_string(ethp2p_strerror(status));
}

static json_t *json_map(const doc_map *m) {
  json_t *o = json_object();
  json_object_set_new(o, "tried", json_boolean(m->tried));
  json_object_set_new(o, "added", json_boolean(m->tried && m->add_status == 0));
  json_object_set_new(o, "external_port",
                      m->add_status == 0 && m->tried ? json_integer(m->external_port)
                                                     : json_null());
  json_object_set_new(o, "lifetime", json_integer(m->lifetime_s));
  json_object_set_new(o, "confirmed", json_boolean(m->confirmed));
  json_object_set_new(o, "deleted", json_boolean(m->deleted));
  json_object_set_new(o, "router_code", json_integer(m->router_code));
  json_object_set_new(o, "router_message", json_string(m->router_msg));
  json_object_set_new(o, "error", m->tried ? jerr(m->add_status) : json_null());
  return o;
}

static json_t *doctor_json(const doctor *d) {
  json_t *root = json_object(), *ifs = json_array(), *protos = json_object();
  doc_extaddr e = doctor_extaddr(d);
  doc_verdict v = doctor_verdict(d);
  char line[160];
  json_object_set_new(root, "port", json_integer(d->o.port));
  for (size_t i = 0; i < d->n_ifaces; i++) {
    json_t *f = json_object();
    json_object_set_new(f, "interface", json_string(d->ifaces[i].name));
    json_object_set_new(f, "address", jaddr(&d->ifaces[i].addr, false));
    json_object_set_new(f, "prefix", json_integer(d->ifaces[i].prefix_len));
    json_object_set_new(f, "loopback", json_boolean(d->ifaces[i].loopback));
    json_array_append_new(ifs, f);
  }
  json_object_set_new(root, "local_addresses", ifs);
  json_object_set_new(root, "default_gateway", d->have_gw ? jaddr(&d->gw, false) : json_null());
  for (int i = 0; i < P_COUNT; i++) {
    const doc_proto *p = &d->proto[i];
    json_t *o = json_object();
    json_object_set_new(o, "probed", json_boolean(p->probed));
    json_object_set_new(o, "answered", json_boolean(p->probed && p->extip_status == 0));
    json_object_set_new(o, "external_address",
                        p->extip_status == 0 ? jaddr(&p->extip, false) : json_null());
    json_object_set_new(o, "error", p->probed ? jerr(p->extip_status) : json_null());
    json_t *tm = json_object();
    json_object_set_new(tm, "tcp", json_map(&p->map[M_TCP]));
    json_object_set_new(tm, "udp", json_map(&p->map[M_UDP]));
    json_object_set_new(o, "test_mapping", tm);
    if (i == P_UPNP) {
      const doc_ssdp *s = &d->ssdp;
      json_t *sv = json_array();
      json_object_set_new(o, "ssdp_answered", json_boolean(s->answered));
      json_object_set_new(o, "igd_version",
                          !s->answered ? json_null()
                          : strstr(s->desc_ok ? s->device_type : s->st, "Device:2") != NULL
                              ? json_integer(2)
                              : json_integer(1));
      json_object_set_new(o, "device_type", json_string(s->desc_ok ? s->device_type : s->st));
      json_object_set_new(o, "friendly_name", json_string(s->friendly_name));
      json_object_set_new(o, "server", json_string(s->server));
      json_object_set_new(o, "location", json_string(s->location));
      for (size_t k = 0; k < s->nservices; k++)
        json_array_append_new(sv, json_string(s->services[k]));
      json_object_set_new(o, "services", sv);
    }
    json_object_set_new(protos, p->key, o);
  }
  json_object_set_new(root, "protocols", protos);

  json_t *ea = json_object();
  json_object_set_new(ea, "address", jaddr(&e.addr, false));
  json_object_set_new(ea, "source", e.source != NULL ? json_string(e.source) : json_null());
  json_object_set_new(ea, "private", json_boolean(e.private_));
  json_object_set_new(ea, "cgnat", json_boolean(e.cgnat));
  json_object_set_new(ea, "double_nat", json_boolean(e.double_nat));
  json_object_set_new(ea, "stun_address", jaddr(&e.stun, false));
  json_object_set_new(ea, "disagrees_with_stun", json_boolean(e.disagrees));
  json_object_set_new(root, "external_address", ea);

  const ethp2p_nat_profile *p = &d->profile;
  json_t *b = json_object();
  json_object_set_new(b, "tested", json_boolean(d->o.n_stun > 0));
  json_object_set_new(b, "server", jaddr(&p->server, true));
  json_object_set_new(b, "server_other_address", jaddr(&p->server_other, true));
  json_object_set_new(b, "mapping", json_string(ethp2p_nat_policy_name(p->mapping)));
  json_object_set_new(b, "filtering", json_string(ethp2p_nat_policy_name(p->filtering)));
  json_object_set_new(b, "allocation", json_string(ethp2p_nat_alloc_name(p->allocation)));
  json_object_set_new(b, "port_delta", json_integer(p->port_delta));
  json_object_set_new(b, "hairpinning", json_string(ethp2p_nat_tri_name(p->hairpinning)));
  json_object_set_new(b, "behind_nat", json_string(ethp2p_nat_tri_name(p->behind_nat)));
  json_object_set_new(b, "reflexive_address", jaddr(&p->reflexive, true));
  json_object_set_new(b, "can_receive_unsolicited", json_boolean(p->can_receive_unsolicited));
  json_object_set_new(b, "requires_relay", json_boolean(p->requires_relay));
  json_object_set_new(b, "measured_at",
                      p->measured_at_ms != 0 ? json_integer(p->measured_at_ms) : json_null());
  json_object_set_new(b, "valid_for", json_integer(p->valid_for_s));
  json_object_set_new(b, "note",
                      json_string(d->o.n_stun == 0 ? "unknown: no STUN server" : p->note));
  json_object_set_new(root, "behavior", b);

  json_t *vo = json_object();
  snprintf(line, sizeof line, "reachable from the internet on tcp/%u and udp/%u: %s",
           (unsigned)d->o.port, (unsigned)d->o.port, v.answer);
  json_object_set_new(vo, "reachable", json_string(v.answer));
  json_object_set_new(vo, "tcp_port", json_integer(d->o.port));
  json_object_set_new(vo, "udp_port", json_integer(d->o.port));
  json_object_set_new(vo, "line", json_string(line));
  json_object_set_new(vo, "reason", json_string(v.reason));
  json_object_set_new(vo, "advice", json_string(v.advice));
  json_object_set_new(root, "verdict", vo);
  return root;
}

/* ---- the screen -------------------------------------------------------------------- */

static void print_map(FILE *out, const char *proto, unsigned port, const doc_map *m) {
  if (!m->tried)
    return;
  fprintf(out, "               test mapping %s/%u: ", proto, port);
  if (m->add_status != 0) {
    if (m->router_code != 0)
      fprintf(out, "refused, code %d %s\n", m->router_code, m->router_msg);
    else
      fprintf(out, "failed: %s\n", ethp2p_strerror(m->add_status));
    return;
  }
  fprintf(out, "added -> external port %u (lease %u s), %s, %s\n", m->external_port,
          (unsigned)m->lifetime_s, m->confirmed ? "confirmed" : "not confirmed",
          m->deleted ? "deleted" : "NOT deleted (expires by itself)");
}

static void doctor_print(FILE *out, const doctor *d) {
  char b[ETHP2P_ADDRSTRLEN], c[ETHP2P_ADDRSTRLEN];
  doc_extaddr e = doctor_extaddr(d);
  doc_verdict v = doctor_verdict(d);
  const ethp2p_nat_profile *p = &d->profile;
  fprintf(out, "ethp2p nat doctor: port %u\n\nLocal addresses\n", (unsigned)d->o.port);
  for (size_t i = 0; i < d->n_ifaces; i++)
    fprintf(out, "  %-12s %s/%u%s\n", d->ifaces[i].name, fmt_ip(&d->ifaces[i].addr, b, sizeof b),
            (unsigned)d->ifaces[i].prefix_len, d->ifaces[i].loopback ? " (loopback)" : "");
  fprintf(out, "Default gateway  %s\n\nGateway protocols\n",
          d->have_gw ? fmt_ip(&d->gw, b, sizeof b) : "none");
  for (int i = 0; i < P_COUNT; i++) {
    const doc_proto *q = &d->proto[i];
    fprintf(out, "  %-12s ", q->label);
    if (!q->probed) {
      fprintf(out, "not probed (--nat)\n");
    } else if (q->extip_status != 0) {
      fprintf(out, "no: %s\n",
              q->timed_out || q->extip_status == ETHP2P_ETIMEDOUT
                  ? "no answer"
                  : ethp2p_strerror(q->extip_status));
    } else {
      fprintf(out, "yes: external address %s\n", fmt_ip(&q->extip, b, sizeof b));
    }
    if (i == P_UPNP && d->ssdp.answered) {
      const doc_ssdp *s = &d->ssdp;
      fprintf(out, "               %s%s%s%s\n", s->desc_ok ? s->device_type : s->st,
              s->friendly_name[0] ? " \"" : "", s->friendly_name, s->friendly_name[0] ? "\"" : "");
      if (s->server[0] != '\0')
        fprintf(out, "               server: %s\n", s->server);
      for (size_t k = 0; k < s->nservices; k++)
        fprintf(out, "               service: %s\n", s->services[k]);
    }
    print_map(out, "tcp", d->o.port, &q->map[M_TCP]);
    print_map(out, "udp", d->o.port, &q->map[M_UDP]);
  }
  fprintf(out, "\nExternal address %s", fmt_ip(&e.addr, b, sizeof b));
  if (e.source != NULL)
    fprintf(out, " (from %s)", e.source);
  if (e.private_)
    fprintf(out, " [PRIVATE: double NAT]");
  if (e.cgnat)
    fprintf(out, " [CARRIER-GRADE NAT: double NAT]");
  if (e.disagrees)
    fprintf(out, " [STUN sees %s: another NAT upstream]", fmt_ip(&e.stun, c, sizeof c));
  fprintf(out, "\n\nNAT behaviour");
  if (d->o.n_stun == 0) {
    fprintf(out, ": unknown: no STUN server (use --stun HOST:PORT)\n");
  } else {
    fprintf(out, " (STUN %s)\n",
            p->server.family ? ethp2p_addr_format(&p->server, true, b, sizeof b) : "no answer");
    fprintf(out, "  mapping      %s\n  filtering    %s\n  allocation   %s",
            ethp2p_nat_policy_name(p->mapping), ethp2p_nat_policy_name(p->filtering),
            ethp2p_nat_alloc_name(p->allocation));
    if (p->allocation == ETHP2P_NAT_ALLOC_CONTIGUOUS)
      fprintf(out, " (delta %d)", (int)p->port_delta);
    fprintf(out, "\n  hairpinning  %s\n  reflexive    %s\n", ethp2p_nat_tri_name(p->hairpinning),
            p->reflexive.family ? ethp2p_addr_format(&p->reflexive, true, b, sizeof b) : "-");
    fprintf(out, "  behind NAT   %s; accepts unsolicited: %s; needs a relay for strict peers: %s\n",
            ethp2p_nat_tri_name(p->behind_nat), p->can_receive_unsolicited ? "yes" : "no",
            p->requires_relay ? "yes" : "no");
    if (p->note[0] != '\0')
      fprintf(out, "  note         %s\n", p->note);
  }
  fprintf(out, "\nreachable from the internet on tcp/%u and udp/%u: %s\n", (unsigned)d->o.port,
          (unsigned)d->o.port, v.answer);
  fprintf(out, "  why:        %s\n  what to do: %s\n", v.reason, v.advice);
}

/* ---- the command -------------------------------------------------------------------- */

static const char doctor_help[] =
    "Usage: ethp2p nat doctor [--nat SPEC] [--stun HOST:PORT[,...]] [--port N] [--json] [-v]\n"
    "\n"
    "Tells in one screen what the gateway supports (UPnP IGD, NAT-PMP, PCP), what the world\n"
    "sees, how the NAT behaves (RFC 5780, with --stun) and whether peers can reach the node.\n"
    "A test mapping of tcp/N and udp/N is added, confirmed and deleted on each protocol.\n"
    "\n"
    "Options:\n"
    "  --nat SPEC        which protocols to probe: any (default: all), upnp, pmp[:GW], pcp[:GW],\n"
    "                    none (no gateway probes), extip:IP (the external address is IP)\n"
    "  --stun LIST       RFC 5780 STUN servers HOST:PORT[,HOST:PORT...] (default: none, so\n"
    "                    nothing is sent to the internet)\n"
    "  --port N          the node's port (default 30303)\n"
    "  --json            print the facts as one JSON object\n"
    "  -v, --verbose     log each exchange on stderr\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit codes: 0 reachable, 1 not reachable or unknown, 2 usage error.\n";

static int parse_stun_list(const char *text, doctor_opts *o) {
  char buf[512];
  if (strlen(text) >= sizeof buf)
    return -1;
  snprintf(buf, sizeof buf, "%s", text);
  for (char *p = buf; p != NULL && *p != '\0';) {
    char *end = strchr(p, ',');
    if (end != NULL)
      *end = '\0';
    char host[512], port[16] = "3478";
    char *colon = strrchr(p, ':');
    if (colon != NULL && strchr(p, ':') == colon) {
      snprintf(host, sizeof host, "%.*s", (int)(colon - p), p);
      if (strlen(colon + 1) >= sizeof port)
        return -1;
      snprintf(port, sizeof port, "%s", colon + 1);
    } else {
      snprintf(host, sizeof host, "%s", p);
    }
    unsigned long pv = 0;
    for (const char *c = port; *c != '\0'; c++) {
      if (*c < '0' || *c > '9' || pv > 65535)
        return -1;
      pv = pv * 10 + (unsigned long)(*c - '0');
    }
    if (pv == 0 || pv > 65535 || o->n_stun >= ETHP2P_NATB_MAX_SERVERS)
      return -1;
    ethp2p_addr a;
    if (ethp2p_addr_parse_ip(&a, host) != 0) {
      struct addrinfo hints, *res = NULL;
      char ip[64];
      memset(&hints, 0, sizeof hints);
      hints.ai_family = AF_INET;
      hints.ai_socktype = SOCK_DGRAM;
      if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL ||
          getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST) != 0 ||
          ethp2p_addr_parse_ip(&a, ip) != 0) {
        if (res != NULL)
          freeaddrinfo(res);
        fprintf(stderr, "ethp2p nat doctor: cannot resolve STUN server \"%s\"\n", host);
        return -1;
      }
      freeaddrinfo(res);
    }
    a.port = (uint16_t)pv;
    o->stun[o->n_stun++] = a;
    p = end != NULL ? end + 1 : NULL;
  }
  return o->n_stun > 0 ? 0 : -1;
}

typedef struct doc_app {
  uv_loop_t loop;
  bool done;
} doc_app;

static void on_doctor_done(doctor *d, void *data) {
  doc_app *app = data;
  (void)d;
  app->done = true;
  uv_stop(&app->loop);
}

int ethp2p_cmd_nat_doctor(int argc, char **argv) {
  enum { OPT_NAT = 256, OPT_STUN, OPT_PORT, OPT_JSON };
  static const struct option opts[] = {
      {"nat", required_argument, NULL, OPT_NAT},
      {"stun", required_argument, NULL, OPT_STUN},
      {"port", required_argument, NULL, OPT_PORT},
      {"json", no_argument, NULL, OPT_JSON},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  doctor_opts o;
  const char *nat_text = "any", *stun_text = NULL;
  bool json = false;
  int verbose = 0, c;
  char err[128];
  memset(&o, 0, sizeof o);
  o.port = 30303;
  /* argv[0] is "doctor"; tolerate a dispatcher that passes "nat doctor ...". */
  if (argc > 1 && strcmp(argv[0], "nat") == 0 && strcmp(argv[1], "doctor") == 0) {
    argc--;
    argv++;
  }
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(doctor_help, stdout);
      return CLI_EXIT_OK;
    case 'v':
      verbose++;
      break;
    case OPT_NAT:
      nat_text = optarg;
      break;
    case OPT_STUN:
      stun_text = optarg;
      break;
    case OPT_JSON:
      json = true;
      break;
    case OPT_PORT: {
      unsigned long v = 0;
      const char *s = optarg;
      if (*s == '\0' || strlen(s) > 5)
        v = 0;
      for (; *s != '\0'; s++)
        v = (*s >= '0' && *s <= '9') ? v * 10 + (unsigned long)(*s - '0') : 70000;
      if (v == 0 || v > 65535) {
        fprintf(stderr, "ethp2p nat doctor: --port: expected 1-65535, got \"%s\"\n", optarg);
        return CLI_EXIT_USAGE;
      }
      o.port = (uint16_t)v;
      break;
    }
    case ':':
      fprintf(stderr, "ethp2p nat doctor: option %s needs a value\n", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    default:
      fprintf(stderr, "ethp2p nat doctor: unknown option %s (see --help)\n", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ethp2p nat doctor: unexpected argument \"%s\"\n", argv[optind]);
    return CLI_EXIT_USAGE;
  }
  if (ethp2p_nat_spec_parse(&o.spec, nat_text, err, sizeof err) != 0) {
    fprintf(stderr, "ethp2p nat doctor: invalid --nat \"%s\": %s\n", nat_text, err);
    return CLI_EXIT_USAGE;
  }
  if (o.spec.kind == ETHP2P_NAT_STUN && o.spec.stun_servers[0] != '\0' && stun_text == NULL)
    stun_text = o.spec.stun_servers;
  if (stun_text != NULL && parse_stun_list(stun_text, &o) != 0) {
    fprintf(stderr, "ethp2p nat doctor: --stun: expected HOST:PORT[,HOST:PORT...], got \"%s\"\n",
            stun_text);
    return CLI_EXIT_USAGE;
  }
  static int log_format = 0;
  ethp2p_log_set_sink(verbose ? cli_log_sink : NULL, &log_format,
                      verbose > 1 ? ETHP2P_LOG_TRACE : ETHP2P_LOG_DEBUG);

  doc_app app;
  ethp2p_env *env = NULL;
  doctor *d = calloc(1, sizeof *d);
  memset(&app, 0, sizeof app);
  if (d == NULL || uv_loop_init(&app.loop) != 0) {
    free(d);
    fprintf(stderr, "ethp2p nat doctor: cannot create the event loop\n");
    return CLI_EXIT_INVALID;
  }
  int rc = ethp2p_uvenv_create(&app.loop, &env);
  if (rc == 0)
    rc = doctor_start(d, env, &o, on_doctor_done, &app);
  if (rc != 0) {
    fprintf(stderr, "ethp2p nat doctor: %s\n", ethp2p_strerror(rc));
  } else {
    while (!app.done && uv_run(&app.loop, UV_RUN_DEFAULT) != 0)
      ;
    if (!app.done) /* the loop ran dry: conclude with what is known */
      doc_finish(d);
  }
  int exit_code = CLI_EXIT_INVALID;
  if (rc == 0) {
    doc_verdict v = doctor_verdict(d);
    exit_code = strcmp(v.answer, "yes") == 0 ? CLI_EXIT_OK : CLI_EXIT_INVALID;
    if (json) {
      json_t *j = doctor_json(d);
      char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
      if (s != NULL)
        printf("%s\n", s);
      free(s);
      json_decref(j);
    } else {
      doctor_print(stdout, d);
    }
  }
  doctor_free(d);
  free(d);
  ethp2p_uvenv_destroy(env);
  uv_loop_close(&app.loop);
  return exit_code;
}
