/*
 * tests/check_p2p_portmap.c — the port-mapping loop on a hand-advanced clock.
 *
 * Everything the loop touches is faked here: a tiny environment (clock and
 * timers only, advanced by the test), a scriptable NAT (grants, alternative
 * ports, failures, permanent-only leases, restarts, announcements, an outage)
 * with a router table, and a record sink that checks the invariants on every
 * change (no port 0, no private address, every call a real change).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nat.h"
#include "ethp2p/portmap.h"
#include "ethp2p/sim.h"
#include "nat/pcp_codec.h"

/* ===== fake environment: a clock and timers ================================= */

typedef struct fake_timer {
  ethp2p_timer base;
  struct fake_timer *next_all;
  bool armed;
  bool dead;
  ethp2p_time deadline;
  uint64_t seq;
} fake_timer;

typedef struct fake_env {
  ethp2p_env env;
  ethp2p_time now;
  uint64_t seq;
  uint64_t rng;
  fake_timer *timers;
  unsigned fired;
} fake_env;

static fake_env *fe_of(ethp2p_env *env) {
  return env->impl;
}
static ethp2p_time fe_now(ethp2p_env *env) {
  return fe_of(env)->now;
}
static int64_t fe_wall(ethp2p_env *env) {
  return INT64_C(1767225600000) + (int64_t)(fe_of(env)->now / ETHP2P_MSEC);
}
static void fe_random(ethp2p_env *env, uint8_t *buf, size_t len) {
  fake_env *fe = fe_of(env);
  for (size_t i = 0; i < len; i++) {
    fe->rng ^= fe->rng << 13;
    fe->rng ^= fe->rng >> 7;
    fe->rng ^= fe->rng << 17;
    buf[i] = (uint8_t)fe->rng;
  }
}
static int fe_timer_create(ethp2p_env *env, ethp2p_timer **out, ethp2p_timer_cb cb, void *data) {
  fake_env *fe = fe_of(env);
  fake_timer *t = calloc(1, sizeof *t);
  if (t == NULL)
    return ETHP2P_ENOMEM;
  t->base.env = env;
  t->base.cb = cb;
  t->base.data = data;
  t->next_all = fe->timers;
  fe->timers = t;
  *out = &t->base;
  return 0;
}
static void fe_timer_start(ethp2p_timer *timer, ethp2p_time deadline) {
  fake_timer *t = (fake_timer *)timer;
  fake_env *fe = fe_of(timer->env);
  t->armed = true;
  t->deadline = deadline;
  t->seq = fe->seq++;
}
static void fe_timer_stop(ethp2p_timer *timer) {
  ((fake_timer *)timer)->armed = false;
}
static void fe_timer_destroy(ethp2p_timer *timer) {
  fake_timer *t = (fake_timer *)timer;
  t->armed = false;
  t->dead = true; /* freed with the environment, so destroy inside a callback is safe */
}

static const ethp2p_env_ops fake_ops = {
    .now = fe_now,
    .wall_ms = fe_wall,
    .random = fe_random,
    .timer_create = fe_timer_create,
    .timer_start = fe_timer_start,
    .timer_stop = fe_timer_stop,
    .timer_destroy = fe_timer_destroy,
};

static void fe_init(fake_env *fe) {
  memset(fe, 0, sizeof *fe);
  fe->env.ops = &fake_ops;
  fe->env.impl = fe;
  fe->now = ETHP2P_SEC;
  fe->rng = 0x9e3779b97f4a7c15ULL;
}

static void fe_free(fake_env *fe) {
  while (fe->timers != NULL) {
    fake_timer *t = fe->timers;
    fe->timers = t->next_all;
    free(t);
  }
}

/* Fires due timers in (deadline, start order) until t, then sets now = t. */
static void (*after_event_hook)(void);
static void fe_run_until(fake_env *fe, ethp2p_time t) {
  for (;;) {
    fake_timer *best = NULL;
    for (fake_timer **p = &fe->timers; *p != NULL;) {
      if ((*p)->dead) { /* no callback is running here: safe to free */
        fake_timer *d = *p;
        *p = d->next_all;
        free(d);
        continue;
      }
      p = &(*p)->next_all;
    }
    for (fake_timer *x = fe->timers; x != NULL; x = x->next_all)
      if (x->armed && !x->dead && x->deadline <= t &&
          (best == NULL || x->deadline < best->deadline ||
           (x->deadline == best->deadline && x->seq < best->seq)))
        best = x;
    if (best == NULL)
      break;
    if (best->deadline > fe->now)
      fe->now = best->deadline;
    best->armed = false;
    fe->fired++;
    best->base.cb(&best->base, best->base.data);
    if (after_event_hook != NULL)
      after_event_hook();
  }
  if (t > fe->now)
    fe->now = t;
}
static void fe_run(fake_env *fe, ethp2p_time d) {
  fe_run_until(fe, fe->now + d);
}

/* ===== mock NAT ================================================================ */

#define MOCK_TABLE 16
#define MOCK_LOG 4096

typedef struct mock_entry {
  bool used;
  ethp2p_proto proto;
  uint16_t ext, internal;
  uint32_t lifetime;
  ethp2p_time expires; /* 0 = permanent; an entry past it is gone, as on a router */
} mock_entry;

typedef struct mock_call {
  char kind; /* 'a' add, 'd' delete, 'x' external ip */
  ethp2p_proto proto;
  uint16_t hint, internal;
  uint32_t lifetime;
  ethp2p_time at;
} mock_call;

typedef struct mock_nat mock_nat;

typedef struct mock_req {
  struct mock_req *next;
  mock_nat *mn;
  ethp2p_timer *timer;
  char kind;
  ethp2p_nat_map_result res;
  int status;
  ethp2p_addr ip;
  ethp2p_nat_map_cb map_cb;
  ethp2p_nat_done_cb done_cb;
  ethp2p_nat_extip_cb ip_cb;
  void *data;
} mock_req;

struct mock_nat {
  ethp2p_nat base;
  fake_env *fe;
  /* script */
  ethp2p_time latency; /* answer delay */
  bool down;           /* no answers: ETIMEDOUT after `timeout`, conn failure */
  ethp2p_time timeout;
  int fail_adds; /* the next N adds fail with fail_status/fail_code */
  bool fail_all_adds;
  int fail_status, fail_code;
  bool permanent_only;     /* UPnP 725 for timed leases */
  uint32_t grant_lifetime; /* 0: as asked */
  uint16_t force_port[18]; /* per proto: always grant this port (alternative port) */
  bool grant_zero;         /* answer success with port 0 */
  bool renew_moves;        /* every add gets the next free port (never renews in place) */
  uint16_t next_port;
  bool deaf_deletes; /* never answer deletes */
  /* Key the table as the protocol does: NAT-PMP and PCP by internal port (a
   * renewal may move the external port; a delete removes whatever the
   * internal port has, RFC 6886 §3.4, RFC 6887 §15); UPnP by external port. */
  bool key_by_internal;
  bool rfc_renew; /* report renew_after_ms as NAT-PMP (1/2) or PCP (9/16) do */
  ethp2p_addr extip;
  bool extip_fail;
  int extip_status;    /* non-zero: external_ip answers this status */
  bool extip_unknown;  /* external_ip answers 0.0.0.0 (PCP-only gateway) */
  bool map_carries_ip; /* map results carry the external address (PCP MAP) */
  /* observation */
  mock_entry table[MOCK_TABLE];
  mock_call log[MOCK_LOG];
  unsigned nlog;
  unsigned adds, deletes, extips, rediscovers;
  bool destroyed;
  mock_req *reqs;
};

static void mock_log(mock_nat *mn, char kind, ethp2p_proto proto, uint16_t hint, uint16_t internal,
                     uint32_t lifetime) {
  if (mn->nlog < MOCK_LOG) {
    mock_call *c = &mn->log[mn->nlog++];
    c->kind = kind;
    c->proto = proto;
    c->hint = hint;
    c->internal = internal;
    c->lifetime = lifetime;
    c->at = mn->fe->now;
  }
}

static bool mock_live(mock_nat *mn, mock_entry *e) {
  if (e->used && e->expires != 0 && mn->fe->now >= e->expires)
    e->used = false; /* the lease ran out */
  return e->used;
}

static mock_entry *mock_find(mock_nat *mn, ethp2p_proto proto, uint16_t ext) {
  for (int i = 0; i < MOCK_TABLE; i++)
    if (mock_live(mn, &mn->table[i]) && mn->table[i].proto == proto && mn->table[i].ext == ext)
      return &mn->table[i];
  return NULL;
}

static mock_entry *mock_find_int(mock_nat *mn, ethp2p_proto proto, uint16_t internal) {
  for (int i = 0; i < MOCK_TABLE; i++)
    if (mock_live(mn, &mn->table[i]) && mn->table[i].proto == proto &&
        mn->table[i].internal == internal)
      return &mn->table[i];
  return NULL;
}

static unsigned mock_count(mock_nat *mn) {
  unsigned n = 0;
  for (int i = 0; i < MOCK_TABLE; i++)
    n += mock_live(mn, &mn->table[i]);
  return n;
}

static void mock_req_fire(ethp2p_timer *t, void *data) {
  mock_req *r = data;
  mock_nat *mn = r->mn;
  (void)t;
  for (mock_req **p = &mn->reqs; *p != NULL; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      break;
    }
  ethp2p_timer_destroy(r->timer);
  if (r->kind == 'a')
    r->map_cb(&mn->base, &r->res, r->data);
  else if (r->kind == 'd')
    r->done_cb(&mn->base, r->status, r->data);
  else
    r->ip_cb(&mn->base, r->status, r->status == 0 ? &r->ip : NULL, r->data);
  free(r);
}

static mock_req *mock_req_new(mock_nat *mn, char kind, void *data) {
  mock_req *r = calloc(1, sizeof *r);
  ck_assert_ptr_nonnull(r);
  r->mn = mn;
  r->kind = kind;
  r->data = data;
  ck_assert_int_eq(ethp2p_timer_create(&mn->fe->env, &r->timer, mock_req_fire, r), 0);
  r->next = mn->reqs;
  mn->reqs = r;
  return r;
}

/* How long until the answer: a timeout when the gateway is down. */
static ethp2p_time mock_outcome(mock_nat *mn, bool answered) {
  return answered ? mn->latency : mn->timeout;
}

static int mock_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t hint, uint16_t internal,
                    const char *desc, uint32_t lifetime, ethp2p_nat_map_cb cb, void *data) {
  mock_nat *mn = (mock_nat *)nat;
  mock_req *r = mock_req_new(mn, 'a', data);
  ethp2p_time delay;
  (void)desc;
  mn->adds++;
  mock_log(mn, 'a', proto, hint, internal, lifetime);
  r->map_cb = cb;
  delay = mock_outcome(mn, !mn->down);
  if (mn->down) {
    r->res.status = ETHP2P_ETIMEDOUT;
  } else if (mn->fail_all_adds || mn->fail_adds > 0) {
    if (mn->fail_adds > 0)
      mn->fail_adds--;
    r->res.status = mn->fail_status != 0 ? mn->fail_status : ETHP2P_EREFUSED;
    r->res.router_code = mn->fail_code;
  } else if (mn->permanent_only && lifetime != 0) {
    r->res.status = ETHP2P_EPERMANENT;
    r->res.router_code = 725;
    snprintf(r->res.router_msg, sizeof r->res.router_msg, "OnlyPermanentLeasesSupported");
  } else if (mn->grant_zero) {
    r->res.status = 0;
    r->res.external_port = 0;
    r->res.lifetime_s = lifetime;
  } else {
    uint16_t port = mn->force_port[proto] != 0 ? mn->force_port[proto] : (hint ? hint : internal);
    mock_entry *e, *mine = mn->key_by_internal ? mock_find_int(mn, proto, internal) : NULL;
    if (mn->renew_moves)
      port = mn->next_port++;
    e = mock_find(mn, proto, port);
    /* a port held for another internal port is a conflict: pick the next free one */
    while (e != NULL && e->internal != internal) {
      port++;
      e = mock_find(mn, proto, port);
    }
    if (mine != NULL) {
      e = mine; /* keyed by internal port: the one mapping of it is renewed, maybe moved */
      e->ext = port;
    }
    if (e == NULL) {
      for (int i = 0; i < MOCK_TABLE && e == NULL; i++)
        if (!mn->table[i].used)
          e = &mn->table[i];
      ck_assert_ptr_nonnull(e);
      e->used = true;
      e->proto = proto;
      e->ext = port;
      e->internal = internal;
    }
    r->res.status = 0;
    r->res.external_port = port;
    r->res.lifetime_s = mn->grant_lifetime != 0 ? mn->grant_lifetime : lifetime;
    e->lifetime = r->res.lifetime_s;
    e->expires = e->lifetime == 0 ? 0 : mn->fe->now + delay + (ethp2p_time)e->lifetime * ETHP2P_SEC;
    if (mn->rfc_renew && r->res.lifetime_s != 0)
      r->res.renew_after_ms = mn->base.spec.kind == ETHP2P_NAT_PCP ? r->res.lifetime_s * 9000 / 16
                                                                   : r->res.lifetime_s * 500;
    if (mn->map_carries_ip)
      r->res.external_ip = mn->extip;
  }
  ethp2p_timer_start(r->timer, mn->fe->now + delay);
  return 0;
}

static int mock_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext, uint16_t internal,
                       ethp2p_nat_done_cb cb, void *data) {
  mock_nat *mn = (mock_nat *)nat;
  mock_req *r = mock_req_new(mn, 'd', data);
  mock_entry *e;
  mn->deletes++;
  mock_log(mn, 'd', proto, ext, internal, 0);
  r->done_cb = cb;
  if (mn->deaf_deletes)
    return 0; /* never answered */
  ethp2p_timer_start(r->timer, mn->fe->now + mock_outcome(mn, !mn->down));
  e = mn->key_by_internal ? mock_find_int(mn, proto, internal) : mock_find(mn, proto, ext);
  if (mn->down) {
    r->status = ETHP2P_ETIMEDOUT;
  } else if (e == NULL) {
    r->status = ETHP2P_ENOTFOUND;
  } else {
    e->used = false;
    r->status = 0;
  }
  return 0;
}

static int mock_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  mock_nat *mn = (mock_nat *)nat;
  mock_req *r = mock_req_new(mn, 'x', data);
  mn->extips++;
  mock_log(mn, 'x', 0, 0, 0, 0);
  r->ip_cb = cb;
  ethp2p_timer_start(r->timer, mn->fe->now + mock_outcome(mn, !mn->down));
  r->status = mn->down           ? ETHP2P_ETIMEDOUT
              : mn->extip_fail   ? ETHP2P_EPROTO
              : mn->extip_status ? mn->extip_status
                                 : 0;
  r->ip = mn->extip_unknown ? ethp2p_addr_v4(0, 0, 0, 0, 0) : mn->extip;
  return 0;
}

static void mock_rediscover(ethp2p_nat *nat) {
  ((mock_nat *)nat)->rediscovers++;
}

static void mock_destroy(ethp2p_nat *nat) {
  mock_nat *mn = (mock_nat *)nat;
  while (mn->reqs != NULL) {
    mock_req *r = mn->reqs;
    mn->reqs = r->next;
    ethp2p_timer_destroy(r->timer);
    free(r);
  }
  mn->destroyed = true; /* the test owns the memory */
}

static const ethp2p_nat_ops mock_ops = {
    .add_mapping = mock_add,
    .delete_mapping = mock_delete,
    .external_ip = mock_extip,
    .rediscover = mock_rediscover,
    .destroy = mock_destroy,
};

static void mock_init(mock_nat *mn, fake_env *fe, ethp2p_nat_kind kind) {
  memset(mn, 0, sizeof *mn);
  mn->base.ops = &mock_ops;
  mn->base.env = &fe->env;
  mn->base.spec.kind = kind;
  mn->base.name = "mock";
  /* The capabilities the real implementations report (the loop reads only these). */
  switch (kind) {
  case ETHP2P_NAT_NONE:
    mn->base.caps = 0;
    break;
  case ETHP2P_NAT_EXTIP:
    mn->base.caps = ETHP2P_NAT_CAP_STATIC_IP;
    break;
  case ETHP2P_NAT_STUN:
    mn->base.caps = ETHP2P_NAT_CAP_POLL_EXTIP;
    break;
  case ETHP2P_NAT_PMP:
  case ETHP2P_NAT_PCP:
    mn->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP |
                    ETHP2P_NAT_CAP_DETECTS_RESTART | ETHP2P_NAT_CAP_ANNOUNCES_EXTIP |
                    ETHP2P_NAT_CAP_DELETES_BY_INTERNAL;
    mn->key_by_internal = true;
    mn->rfc_renew = true;
    break;
  default:
    mn->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP;
    break;
  }
  mn->fe = fe;
  mn->latency = 20 * ETHP2P_MSEC;
  mn->timeout = 2 * ETHP2P_SEC;
  mn->extip = ethp2p_addr_v4(1, 2, 3, 4, 0);
}

/* The gateway forgets everything (reboot) and says so. */
static void mock_restart(mock_nat *mn, bool announce) {
  memset(mn->table, 0, sizeof mn->table);
  if (announce && mn->base.notify_cb != NULL)
    mn->base.notify_cb(&mn->base, ETHP2P_NAT_EV_STATE_LOST, NULL, mn->base.notify_data);
}

static const mock_call *mock_first(const mock_nat *mn, char kind) {
  for (unsigned i = 0; i < mn->nlog; i++)
    if (mn->log[i].kind == kind)
      return &mn->log[i];
  ck_abort_msg("no call of kind %c", kind);
  return NULL;
}

static const mock_call *mock_last(const mock_nat *mn, char kind) {
  for (unsigned i = mn->nlog; i-- > 0;)
    if (mn->log[i].kind == kind)
      return &mn->log[i];
  ck_abort_msg("no call of kind %c", kind);
  return NULL;
}

static void mock_dump(const mock_nat *mn) {
  for (unsigned i = 0; i < mn->nlog; i++)
    fprintf(stderr, "%c proto=%d hint=%u int=%u life=%u at=%.3f\n", mn->log[i].kind,
            (int)mn->log[i].proto, mn->log[i].hint, mn->log[i].internal, mn->log[i].lifetime,
            (double)mn->log[i].at / 1e9);
}

static unsigned mock_calls(const mock_nat *mn, char kind, ethp2p_proto proto, ethp2p_time from,
                           ethp2p_time to) {
  unsigned n = 0;
  for (unsigned i = 0; i < mn->nlog; i++)
    if (mn->log[i].kind == kind && (proto == 0 || mn->log[i].proto == proto) &&
        mn->log[i].at >= from && mn->log[i].at < to)
      n++;
  return n;
}

/* ===== record sink with invariants =========================================== */

typedef struct rec {
  ethp2p_addr ip;
  uint16_t tcp, udp;
  unsigned changes, ip_sets, tcp_sets, udp_sets;
} rec;

static void rec_set_ip(void *data, const ethp2p_addr *ip) {
  rec *r = data;
  if (ip == NULL) {
    ck_assert_int_ne(r->ip.family, 0); /* a withdrawal withdraws something */
    memset(&r->ip, 0, sizeof r->ip);
  } else {
    ck_assert(!ethp2p_addr_equal(&r->ip, ip, false)); /* a real change */
    ck_assert(!ethp2p_addr_is_private(ip) && !ethp2p_addr_is_cgnat(ip) &&
              !ethp2p_addr_is_loopback(ip));
    r->ip = *ip;
  }
  r->changes++;
  r->ip_sets++;
}
static void rec_set_tcp(void *data, uint16_t port) {
  rec *r = data;
  ck_assert_uint_ne(port, 0);
  ck_assert_uint_ne(port, r->tcp);
  r->tcp = port;
  r->changes++;
  r->tcp_sets++;
}
static void rec_set_udp(void *data, uint16_t port) {
  rec *r = data;
  ck_assert_uint_ne(port, 0);
  ck_assert_uint_ne(port, r->udp);
  r->udp = port;
  r->changes++;
  r->udp_sets++;
}

/* ===== events ===================================================================== */

#define EVLOG 4096
typedef struct evlog {
  ethp2p_portmap_event ev[EVLOG];
  unsigned n;
  unsigned count[16];
} evlog;

static void on_event(ethp2p_portmap *pm, const ethp2p_portmap_event *ev, void *data) {
  evlog *l = data;
  (void)pm;
  ck_assert_str_ne(ethp2p_portmap_event_name(ev->type), "unknown");
  if (l->n < EVLOG)
    l->ev[l->n++] = *ev;
  l->count[ev->type]++;
  if (ev->type == ETHP2P_PORTMAP_EV_MAPPING_ADDED || ev->type == ETHP2P_PORTMAP_EV_MAPPING_RENEWED)
    ck_assert_uint_ne(ev->external_port, 0);
}

/* ===== fixture ===================================================================== */

typedef struct fixture {
  fake_env fe;
  mock_nat mn;
  rec r;
  evlog ev;
  ethp2p_portmap *pm;
  ethp2p_portmap_config cfg;
  int stop_status;
  unsigned stop_calls;
  ethp2p_time stop_at;
} fixture;

static fixture *F;

static void fx_setup_kind(ethp2p_nat_kind kind, const ethp2p_portmap_config *cfg) {
  ethp2p_portmap_sink sink;
  F = calloc(1, sizeof *F);
  ck_assert_ptr_nonnull(F);
  fe_init(&F->fe);
  mock_init(&F->mn, &F->fe, kind);
  if (cfg != NULL)
    F->cfg = *cfg;
  else
    ethp2p_portmap_config_default(&F->cfg);
  sink.set_ip = rec_set_ip;
  sink.set_tcp = rec_set_tcp;
  sink.set_udp = rec_set_udp;
  sink.data = &F->r;
  ck_assert_int_eq(ethp2p_portmap_create(&F->fe.env, &F->mn.base, &F->cfg, &sink, &F->pm), 0);
  ck_assert_int_gt(ethp2p_portmap_subscribe(F->pm, on_event, &F->ev), 0);
}

/* With go-ethereum's 10 min lease asked explicitly (--nat.lease 10m), as a
 * test of timing within a lease wants from a NAT that detects restarts. */
static void fx_setup_lease10(ethp2p_nat_kind kind) {
  ethp2p_portmap_config c;
  ethp2p_portmap_config_default(&c);
  c.lease = ETHP2P_PORTMAP_LEASE;
  fx_setup_kind(kind, &c);
}

static void fx_start(uint16_t tcp, uint16_t udp) {
  if (tcp != 0)
    ck_assert_int_eq(ethp2p_portmap_add(F->pm, ETHP2P_PROTO_TCP, tcp, 0, "ethp2p tcp"), 0);
  if (udp != 0)
    ck_assert_int_eq(ethp2p_portmap_add(F->pm, ETHP2P_PROTO_UDP, udp, 0, "ethp2p udp"), 0);
  ck_assert_int_eq(ethp2p_portmap_start(F->pm), 0);
}

static void fx_teardown(void) {
  ethp2p_portmap_destroy(F->pm);
  ck_assert(F->mn.destroyed);
  fe_free(&F->fe);
  free(F);
  F = NULL;
}

static ethp2p_portmap_mapping fx_mapping(ethp2p_proto proto) {
  ethp2p_portmap_mapping ms[ETHP2P_PORTMAP_MAX];
  size_t n = ethp2p_portmap_mappings(F->pm, ms, ETHP2P_PORTMAP_MAX);
  for (size_t i = 0; i < n; i++)
    if (ms[i].proto == proto)
      return ms[i];
  ck_abort_msg("no mapping for proto %d", (int)proto);
  return ms[0];
}

/* ===== tests ======================================================================== */

/* go-ethereum's TestServerPortMapping: a NAT that maps everything to 30000 and
 * reports 1.2.3.4; the record must carry both within the first refresh period. */
START_TEST(geth_server_port_mapping_scenario) {
  ethp2p_time t0;
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  F->mn.force_port[ETHP2P_PROTO_TCP] = 30000;
  F->mn.force_port[ETHP2P_PROTO_UDP] = 30000;
  t0 = F->fe.now;
  fx_start(30303, 30303);
  for (int i = 0; i < 480 && F->mn.adds < 2; i++)
    fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_ge(F->mn.adds, 2);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->r.tcp, 30000);
  ck_assert_uint_eq(F->r.udp, 30000);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x01020304u);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_ADDED], 2);
  /* the first attempt asks for the listening port with go-ethereum's 10 min lease */
  ck_assert_uint_eq(mock_first(&F->mn, 'a')->hint, 30303);
  ck_assert_uint_eq(mock_first(&F->mn, 'a')->lifetime, 600);
  ck_assert_uint_lt(F->fe.now - t0, 3 * ETHP2P_SEC);
  {
    ethp2p_portmap_mapping m = fx_mapping(ETHP2P_PROTO_TCP);
    ck_assert(m.mapped);
    ck_assert_uint_eq(m.external_port, 30000);
    ck_assert_uint_gt(m.expires, F->fe.now);
    ck_assert_uint_le(m.expires, F->fe.now + 600 * ETHP2P_SEC);
  }
  fx_teardown();
}
END_TEST

/* Events carry the loop's family: 4 by default, 6 for an IPv6 (pinhole) loop,
 * so two loops side by side can be told apart by subscribers and metrics. */
START_TEST(events_carry_the_loop_family) {
  ethp2p_portmap_config c;
  int want = _i == 0 ? 4 : 6;
  ethp2p_portmap_config_default(&c);
  c.family = _i == 0 ? 0 : 6;
  fx_setup_kind(ETHP2P_NAT_UPNP, &c);
  fx_start(30303, 30303);
  fe_run(&F->fe, 5 * ETHP2P_SEC);
  ck_assert_uint_ge(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_ADDED], 2);
  ck_assert_uint_gt(F->ev.n, 0);
  for (unsigned i = 0; i < F->ev.n; i++)
    ck_assert_int_eq(F->ev.ev[i].family, want);
  fx_teardown();
}
END_TEST

START_TEST(refresh_every_8_minutes_without_a_protocol_rule) {
  ethp2p_time t0;
  ethp2p_portmap_config c;
  ethp2p_portmap_config_default(&c);
  c.poll_refresh = -1; /* the cadence alone */
  fx_setup_kind(ETHP2P_NAT_UPNP, &c);
  t0 = F->fe.now;
  fx_start(30303, 30303);
  fe_run(&F->fe, 60 * ETHP2P_MIN - ETHP2P_SEC);
  if (getenv("PM_DUMP"))
    mock_dump(&F->mn);
  /* attempts at 0, 8, 16, ..., 56 min: 8 per protocol, and not one more */
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 8);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_UDP, 0, UINT64_MAX), 8);
  for (unsigned k = 1; k < 8; k++) {
    ethp2p_time at = t0 + k * 8 * ETHP2P_MIN;
    /* each refresh comes 8 min after the previous success (20 ms answers) */
    ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, at, at + ETHP2P_SEC), 1);
  }
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_RENEWED], 14);
  /* the record changed once per value: tcp, udp, ip */
  ck_assert_uint_eq(F->r.changes, 3);
  /* external address polled every 2 min */
  ck_assert_uint_eq(F->mn.extips, 30);
  fx_teardown();
}
END_TEST

/* RFC 6886 §3.3: NAT-PMP renews halfway to expiry (10 min lease: every 5 min),
 * and a NAT that detects restarts itself is not re-added at each poll. */
START_TEST(pmp_renews_at_half_the_granted_lifetime) {
  ethp2p_time t0;
  fx_setup_lease10(ETHP2P_NAT_PMP);
  t0 = F->fe.now;
  fx_start(30303, 30303);
  fe_run(&F->fe, 60 * ETHP2P_MIN - ETHP2P_SEC);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 12);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_UDP, 0, UINT64_MAX), 12);
  for (unsigned k = 1; k < 12; k++) {
    ethp2p_time at = t0 + k * 5 * ETHP2P_MIN;
    ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, at, at + ETHP2P_SEC), 1);
  }
  ck_assert_uint_eq(F->r.changes, 3);
  ck_assert_uint_eq(F->mn.extips, 30);
  fx_teardown();
}
END_TEST

/* "Ask the router less": a NAT that notices router restarts itself (epoch,
 * announcements) is asked for RFC 6886 §3.3's 7200 s lease by default, so
 * NAT-PMP renews every hour instead of every 5 min; a router that grants less
 * is renewed at its own grant's renewal point. */
START_TEST(restart_detecting_nat_asks_for_the_rfc_lease_by_default) {
  ethp2p_time t0;
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  t0 = F->fe.now;
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_DAY - ETHP2P_SEC);
  ck_assert_uint_eq(mock_first(&F->mn, 'a')->lifetime, 7200);
  /* one add at 0 and a renewal every hour: 24 per protocol and day */
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 24);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_UDP, 0, UINT64_MAX), 24);
  for (unsigned k = 1; k < 24; k++) {
    ethp2p_time at = t0 + k * ETHP2P_HOUR;
    ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, at, at + ETHP2P_SEC), 1);
  }
  for (unsigned i = 0; i < F->mn.nlog; i++)
    if (F->mn.log[i].kind == 'a')
      ck_assert_uint_eq(F->mn.log[i].lifetime, 7200);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_LOST], 0);
  ck_assert_uint_eq(F->r.changes, 3);
  /* a restart is still repaired at once: the NAT says so */
  mock_restart(&F->mn, true);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(mock_count(&F->mn), 2);
  fx_teardown();
  /* A PCP-like grant capped by the server (miniupnpd clamps to its own
   * maximum): renewed at the protocol's point of the grant, before it ends. */
  fx_setup_kind(ETHP2P_NAT_PCP, NULL);
  F->mn.grant_lifetime = 3600;
  t0 = F->fe.now;
  fx_start(30303, 0);
  fe_run(&F->fe, 3 * ETHP2P_HOUR);
  ck_assert_uint_eq(mock_first(&F->mn, 'a')->lifetime, 7200);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  /* 9/16 of 3600 s = 2025 s: adds at 0, 2025, 4050, 6075, 8100, 10125 s */
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 6);
  ck_assert_uint_eq(
      mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, t0 + 2025 * ETHP2P_SEC, t0 + 2026 * ETHP2P_SEC), 1);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_LOST], 0);
  fx_teardown();
}
END_TEST

/* An explicit lease (--nat.lease) is what is asked, whatever the NAT; and a
 * NAT that cannot tell when the router restarted keeps go-ethereum's 10 min. */
START_TEST(explicit_lease_and_nats_without_restart_detection_keep_10_minutes) {
  ethp2p_portmap_config c;
  ethp2p_portmap_config_default(&c);
  c.lease = 10 * ETHP2P_MIN;
  fx_setup_kind(ETHP2P_NAT_PMP, &c);
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_HOUR - ETHP2P_SEC);
  ck_assert_uint_eq(mock_first(&F->mn, 'a')->lifetime, 600);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 12);
  fx_teardown();
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_HOUR);
  ck_assert_uint_eq(mock_first(&F->mn, 'a')->lifetime, 600);
  for (unsigned i = 0; i < F->mn.nlog; i++)
    if (F->mn.log[i].kind == 'a')
      ck_assert_uint_eq(F->mn.log[i].lifetime, 600);
  fx_teardown();
}
END_TEST

/* The lease follows the NAT's capabilities at each request: `any` reports
 * its winner's only once it has one, and a NAT that detects restarts but
 * gives no renewal point is renewed at half the long lease. */
START_TEST(lease_follows_capabilities_at_each_request) {
  ethp2p_time t0;
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  F->mn.base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP; /* any before a winner */
  t0 = F->fe.now;
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(mock_first(&F->mn, 'a')->lifetime, 600);
  F->mn.base.caps |= ETHP2P_NAT_CAP_DETECTS_RESTART; /* the winner detects restarts */
  fe_run_until(&F->fe, t0 + 8 * ETHP2P_MIN + ETHP2P_SEC);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 2);
  ck_assert_uint_eq(mock_last(&F->mn, 'a')->lifetime, 7200);
  /* no protocol rule (renew_after_ms 0): at half the 2 h lease, not every 8 min */
  fe_run_until(&F->fe, t0 + 8 * ETHP2P_MIN + ETHP2P_HOUR - 2 * ETHP2P_SEC);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 2);
  fe_run(&F->fe, 4 * ETHP2P_SEC);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 3);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  fx_teardown();
}
END_TEST

/* A failed renewal is retried before the lease ends (at half the time left),
 * and after 5 failures in a row the port is given up and deleted while its
 * lease still runs; then the loop starts over from the wanted port, every
 * retry interval. */
START_TEST(failed_refreshes_retried_before_expiry_then_given_up_after_5) {
  ethp2p_time t0, fail_from, lease_end;
  ethp2p_portmap_config c;
  ethp2p_portmap_config_default(&c);
  c.poll_refresh = -1;
  fx_setup_kind(ETHP2P_NAT_UPNP, &c);
  t0 = F->fe.now;
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_MIN);
  ck_assert_uint_eq(F->r.tcp, 30303);
  F->mn.fail_all_adds = true;
  F->mn.fail_status = ETHP2P_EREFUSED;
  F->mn.fail_code = 501;
  fail_from = t0 + 8 * ETHP2P_MIN;
  lease_end = t0 + 10 * ETHP2P_MIN + 20 * ETHP2P_MSEC;
  fe_run_until(&F->fe, lease_end);
  if (getenv("PM_DUMP"))
    mock_dump(&F->mn);
  /* 5 attempts from the refresh at 8 min to the end of the lease: at 8, 9,
   * 9.5, 9.75, 9.875 min; the 5th gives the port up */
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, fail_from, lease_end), 5);
  ck_assert_uint_eq(F->mn.deletes, 1);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 5);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_LOST], 1);
  {
    ethp2p_portmap_mapping m = fx_mapping(ETHP2P_PROTO_TCP);
    ck_assert_uint_eq(m.external_port, 0);
    ck_assert(!m.mapped);
    ck_assert_int_eq(m.state, ETHP2P_PORTMAP_UNMAPPED);
    ck_assert_uint_eq(m.failed, 5);
    ck_assert_uint_eq(m.lost, 1);
  }
  /* the record still has the last port: failures do not churn it */
  ck_assert_uint_eq(F->r.tcp, 30303);
  ck_assert_uint_eq(F->r.tcp_sets, 1);
  /* without a lease, attempts come every 5 min */
  {
    ethp2p_time from = F->fe.now;
    fe_run(&F->fe, 20 * ETHP2P_MIN);
    ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, from, UINT64_MAX), 4);
  }
  /* starting over: the next attempt asks for the wanted port again */
  F->mn.fail_all_adds = false;
  F->mn.force_port[ETHP2P_PROTO_TCP] = 40404;
  fe_run(&F->fe, 5 * ETHP2P_MIN);
  {
    const mock_call *last = NULL;
    for (unsigned i = 0; i < F->mn.nlog; i++)
      if (F->mn.log[i].kind == 'a')
        last = &F->mn.log[i];
    ck_assert_ptr_nonnull(last);
    ck_assert_uint_eq(last->hint, 30303); /* the wanted port, not the given-up one */
  }
  ck_assert_uint_eq(F->r.tcp, 40404);
  fx_teardown();
}
END_TEST

START_TEST(router_alternative_port_kept_without_record_churn) {
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  /* someone else holds 30303 on the router: we get 30304 */
  F->mn.table[0] = (mock_entry){true, ETHP2P_PROTO_TCP, 30303, 9999, 0, 0};
  F->mn.table[1] = (mock_entry){true, ETHP2P_PROTO_UDP, 30303, 9999, 0, 0};
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_DAY);
  ck_assert_uint_eq(F->r.tcp, 30304);
  ck_assert_uint_eq(F->r.udp, 30304);
  ck_assert_uint_eq(F->r.tcp_sets, 1);
  ck_assert_uint_eq(F->r.udp_sets, 1);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_ADDED], 2);
  /* every refresh after the first grant asked for the alternative port */
  for (unsigned i = 0, seen = 0; i < F->mn.nlog; i++) {
    if (F->mn.log[i].kind != 'a' || F->mn.log[i].proto != ETHP2P_PROTO_TCP)
      continue;
    ck_assert_uint_eq(F->mn.log[i].hint, seen++ == 0 ? 30303 : 30304);
  }
  ck_assert_uint_eq(F->r.changes, 3);
  fx_teardown();
}
END_TEST

START_TEST(external_address_change_followed_within_one_poll) {
  ethp2p_time changed;
  unsigned adds_before;
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, 30 * ETHP2P_MIN + 10 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x01020304u);
  F->mn.extip = ethp2p_addr_v4(5, 6, 7, 8, 0);
  changed = F->fe.now;
  adds_before = F->mn.adds;
  while (ethp2p_addr_v4_u32(&F->r.ip) != 0x05060708u && F->fe.now < changed + 10 * ETHP2P_MIN)
    fe_run(&F->fe, 100 * ETHP2P_MSEC);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x05060708u);
  ck_assert_uint_le(F->fe.now - changed, 2 * ETHP2P_MIN + ETHP2P_SEC);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_EXTIP_CHANGED], 2);
  /* a new address means the mappings are refreshed at once */
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->mn.adds, adds_before + 2);
  ck_assert_uint_eq(F->r.ip_sets, 2);
  fx_teardown();
}
END_TEST

START_TEST(announced_external_address_taken_at_once) {
  ethp2p_addr a = ethp2p_addr_v4(9, 9, 9, 9, 0);
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_MIN);
  F->mn.extip = a;
  F->mn.base.notify_cb(&F->mn.base, ETHP2P_NAT_EV_EXTIP_ANNOUNCED, &a, F->mn.base.notify_data);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x09090909u); /* no time passed */
  /* the next poll sees the same address: no second change */
  fe_run(&F->fe, 5 * ETHP2P_MIN);
  ck_assert_uint_eq(F->r.ip_sets, 2);
  /* announcing the same address again changes nothing */
  F->mn.base.notify_cb(&F->mn.base, ETHP2P_NAT_EV_EXTIP_ANNOUNCED, &a, F->mn.base.notify_data);
  ck_assert_uint_eq(F->r.ip_sets, 2);
  fx_teardown();
}
END_TEST

START_TEST(state_lost_remaps_within_one_second) {
  ethp2p_time at;
  unsigned adds_before;
  fx_setup_lease10(ETHP2P_NAT_PMP);
  fx_start(30303, 30303);
  fe_run(&F->fe, 3 * ETHP2P_MIN);
  ck_assert_uint_eq(mock_count(&F->mn), 2);
  adds_before = F->mn.adds;
  at = F->fe.now;
  /* the router reboots and gives UDP a different port this time */
  F->mn.table[5] = (mock_entry){true, ETHP2P_PROTO_UDP, 30303, 1111, 0, 0};
  mock_restart(&F->mn, true);
  F->mn.table[5] = (mock_entry){true, ETHP2P_PROTO_UDP, 30303, 1111, 0, 0};
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_LOST], 2);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->mn.adds, adds_before + 2);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  ck_assert(fx_mapping(ETHP2P_PROTO_UDP).mapped);
  ck_assert_uint_eq(F->r.tcp, 30303);
  ck_assert_uint_eq(F->r.udp, 30304);
  ck_assert_uint_eq(F->r.udp_sets, 2);
  ck_assert_uint_eq(F->r.tcp_sets, 1);
  (void)at;
  /* after the re-add, the cadence (half the lease) resumes from the new grant */
  adds_before = F->mn.adds;
  fe_run(&F->fe, 4 * ETHP2P_MIN + 50 * ETHP2P_SEC);
  ck_assert_uint_eq(F->mn.adds, adds_before);
  fe_run(&F->fe, 20 * ETHP2P_SEC);
  ck_assert_uint_eq(F->mn.adds, adds_before + 2);
  fx_teardown();
}
END_TEST

START_TEST(upnp_restart_without_announcement_repaired_within_one_poll) {
  ethp2p_time at;
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  /* UPnP: no ETHP2P_NAT_CAP_DETECTS_RESTART (no epoch, no announcements) */
  fx_start(30303, 30303);
  fe_run(&F->fe, 3 * ETHP2P_MIN + 7 * ETHP2P_SEC);
  ck_assert_uint_eq(mock_count(&F->mn), 2);
  mock_restart(&F->mn, false); /* silently */
  at = F->fe.now;
  while (mock_count(&F->mn) < 2 && F->fe.now < at + 10 * ETHP2P_MIN)
    fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(mock_count(&F->mn), 2);
  ck_assert_uint_le(F->fe.now - at, 2 * ETHP2P_MIN + 2 * ETHP2P_SEC);
  ck_assert_uint_eq(F->r.changes, 3); /* re-adding the same ports changes nothing */
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 0);
  fx_teardown();
}
END_TEST

/* Issue 12 defect 1, the UPnP side: a router that gives every renewal a new
 * port (permanent-only routers treat each add as new) would pile up
 * leftovers.  UPnP deletes by external port, so the old port, granted to us
 * and still under its lease, is deleted without touching the new one. */
START_TEST(router_that_never_renews_in_place_does_not_pile_up_mappings) {
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  F->mn.renew_moves = true;
  F->mn.next_port = 40000;
  fx_start(30303, 0);
  fe_run(&F->fe, 3 * ETHP2P_HOUR);
  /* exactly the live one is left, and every move deleted its predecessor */
  ck_assert_uint_eq(mock_count(&F->mn), 1);
  ck_assert_uint_gt(F->mn.deletes, 0);
  ck_assert_uint_eq(F->mn.deletes, mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX) - 1);
  for (unsigned i = 0; i < F->mn.nlog; i++)
    if (F->mn.log[i].kind == 'd')
      ck_assert_uint_ne(F->mn.log[i].hint, F->r.tcp); /* never the advertised port */
  /* ... and the loop fell back from per-poll re-adds to the 8 min cadence */
  ck_assert_uint_le(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 3 * 60 / 8 + 3);
  {
    mock_entry *e = mock_find(&F->mn, ETHP2P_PROTO_TCP, F->r.tcp);
    ck_assert_ptr_nonnull(e); /* the record names the live one */
  }
  fx_teardown();
}
END_TEST

/* The same on a permanent-only router (UPnP 725): the old permanent port is
 * ours until deleted, so it is deleted; but a port whose lease ran out
 * before the move may be another host's by now and is left alone. */
START_TEST(moved_renewal_deletes_only_a_port_still_ours) {
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  F->mn.permanent_only = true;
  F->mn.renew_moves = true;
  F->mn.next_port = 41000;
  fx_start(30303, 0);
  fe_run(&F->fe, 30 * ETHP2P_MIN);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).permanent);
  ck_assert_uint_eq(mock_count(&F->mn), 1);
  ck_assert_uint_gt(F->mn.deletes, 0);
  fx_teardown();
  /* lease expired before the renewal answered another port: no delete */
  {
    ethp2p_portmap_config c;
    ethp2p_portmap_config_default(&c);
    c.max_failures = 0; /* keep the port as the hint however long refreshes fail */
    c.poll_refresh = -1;
    fx_setup_kind(ETHP2P_NAT_UPNP, &c);
  }
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_MIN);
  F->mn.fail_all_adds = true;
  fe_run(&F->fe, 10 * ETHP2P_MIN); /* refreshes fail until the lease ends */
  ck_assert(!fx_mapping(ETHP2P_PROTO_TCP).mapped);
  ck_assert_uint_eq(fx_mapping(ETHP2P_PROTO_TCP).external_port, 30303);
  F->mn.table[0] = (mock_entry){true, ETHP2P_PROTO_TCP, 30303, 9999, 0, 0}; /* someone else's */
  F->mn.fail_all_adds = false;
  {
    unsigned deletes = F->mn.deletes;
    fe_run(&F->fe, 6 * ETHP2P_MIN);
    ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
    ck_assert_uint_eq(F->r.tcp, 30304);
    ck_assert_uint_eq(F->mn.deletes, deletes);
    ck_assert_ptr_nonnull(mock_find(&F->mn, ETHP2P_PROTO_TCP, 30303)); /* theirs is intact */
  }
  fx_teardown();
}
END_TEST

START_TEST(poll_refresh_can_be_turned_off) {
  ethp2p_portmap_config c;
  ethp2p_portmap_config_default(&c);
  c.poll_refresh = -1;
  fx_setup_kind(ETHP2P_NAT_UPNP, &c);
  fx_start(30303, 0);
  fe_run(&F->fe, 60 * ETHP2P_MIN - ETHP2P_SEC);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 8);
  fx_teardown();
}
END_TEST

START_TEST(state_lost_during_request_remaps_after_it) {
  fx_setup_kind(ETHP2P_NAT_PCP, NULL);
  F->mn.latency = 500 * ETHP2P_MSEC;
  fx_start(30303, 0);
  fe_run(&F->fe, 100 * ETHP2P_MSEC); /* the first add is in flight */
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).in_flight);
  mock_restart(&F->mn, true);
  fe_run(&F->fe, 2 * ETHP2P_SEC);
  /* the answer arrived, then the loop asked again because state was lost meanwhile */
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 2);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  fx_teardown();
}
END_TEST

START_TEST(permanent_only_router_gets_lease_zero_without_hammering) {
  ethp2p_portmap_config c;
  ethp2p_portmap_config_default(&c);
  c.poll_refresh = -1;
  fx_setup_kind(ETHP2P_NAT_UPNP, &c);
  F->mn.permanent_only = true;
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).permanent);
  ck_assert_uint_eq(fx_mapping(ETHP2P_PROTO_TCP).expires, 0);
  fe_run(&F->fe, ETHP2P_HOUR);
  /* one timed attempt per protocol (refused with 725), then lease 0 only,
   * refreshed on the 8 min cadence: 1 + 8 attempts per protocol in the hour */
  {
    unsigned timed = 0, perm = 0;
    for (unsigned i = 0; i < F->mn.nlog; i++) {
      if (F->mn.log[i].kind != 'a' || F->mn.log[i].proto != ETHP2P_PROTO_TCP)
        continue;
      if (F->mn.log[i].lifetime != 0)
        timed++;
      else
        perm++;
    }
    ck_assert_uint_eq(timed, 1);
    ck_assert_uint_eq(perm, 8);
  }
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 0);
  ck_assert_uint_eq(F->r.tcp_sets, 1);
  fx_teardown();
}
END_TEST

/* RFC 6887 §11.2.1: a PCP grant is renewed inside [1/2, 5/8] of its lifetime
 * (the NAT says when); a 120 s grant where 600 s were asked is never lost. */
START_TEST(short_granted_pcp_lease_renewed_inside_the_rfc_window) {
  ethp2p_time prev = 0;
  unsigned n = 0;
  fx_setup_kind(ETHP2P_NAT_PCP, NULL);
  F->mn.grant_lifetime = 120; /* miniupnpd's PCP minimum */
  fx_start(30303, 0);
  fe_run(&F->fe, 10 * ETHP2P_MIN - ETHP2P_SEC);
  for (unsigned i = 0; i < F->mn.nlog; i++) {
    if (F->mn.log[i].kind != 'a')
      continue;
    if (n++ > 0) {
      ethp2p_time gap = F->mn.log[i].at - prev - F->mn.latency;
      ck_assert_uint_ge(gap, 60 * ETHP2P_SEC);
      ck_assert_uint_le(gap, 75 * ETHP2P_SEC);
    }
    prev = F->mn.log[i].at;
  }
  ck_assert_uint_ge(n, 8);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_LOST], 0);
  fx_teardown();
}
END_TEST

/* A router without a protocol rule that grants less than asked, or a timed
 * lease where a permanent one was asked, is renewed at half the grant. */
START_TEST(any_granted_lifetime_is_renewed_before_it_expires) {
  ethp2p_portmap_config c;
  ethp2p_portmap_config_default(&c);
  c.poll_refresh = -1;
  fx_setup_kind(ETHP2P_NAT_UPNP, &c);
  F->mn.permanent_only = true; /* we end up asking for lease 0 ... */
  F->mn.grant_lifetime = 100;  /* ... and the router caps it at 100 s anyway */
  fx_start(30303, 0);
  fe_run(&F->fe, 30 * ETHP2P_MIN);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_LOST], 0);
  ck_assert_uint_eq(mock_count(&F->mn), 1); /* the router still has it */
  /* every 50 s: about 36 renewals in 30 min, not 4 */
  ck_assert_uint_ge(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 30);
  fx_teardown();
}
END_TEST

/* A renewal that fails is retried before the lease ends, so a short outage
 * (one lost answer) does not cost the mapping. */
START_TEST(failed_pcp_renewal_retried_before_expiry) {
  fx_setup_kind(ETHP2P_NAT_PCP, NULL);
  F->mn.grant_lifetime = 120;
  fx_start(30303, 0);
  fe_run(&F->fe, 10 * ETHP2P_SEC);
  F->mn.fail_adds = 1;              /* the first renewal (at about 67 s) is refused */
  fe_run(&F->fe, 125 * ETHP2P_SEC); /* past the end of the first grant */
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 1);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_LOST], 0);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  ck_assert_uint_eq(mock_count(&F->mn), 1);
  fx_teardown();
}
END_TEST

START_TEST(rediscovery_after_3_connection_failures_one_at_a_time) {
  fx_setup_kind(ETHP2P_NAT_ANY, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_MIN);
  ck_assert_uint_eq(F->mn.rediscovers, 0);
  F->mn.down = true;
  fe_run(&F->fe, 12 * ETHP2P_MIN);
  ck_assert_uint_ge(F->mn.rediscovers, 1);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_GATEWAY_LOST], 1);
  /* a long outage: rediscovery again and again, but never more than one per 3 failures */
  fe_run(&F->fe, 3 * ETHP2P_HOUR);
  {
    unsigned failed_ops = F->mn.adds + F->mn.extips; /* all of them failed since `down` */
    ck_assert_uint_ge(F->mn.rediscovers, 2);
    ck_assert_uint_le(F->mn.rediscovers * 3, failed_ops);
    /* at most one rediscovery per retry interval, and no request storm */
    ck_assert_uint_le(F->mn.rediscovers, (3 * 60 + 13) / 5 + 1);
    ck_assert_uint_le(F->mn.adds, 4 * ((3 * 60 + 13) / 5 + 1));
  }
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_GATEWAY_LOST], 1);
  /* the record kept its values through the outage */
  ck_assert_uint_eq(F->r.tcp, 30303);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x01020304u);
  /* the gateway comes back (with an empty table): re-applied within one retry */
  F->mn.down = false;
  memset(F->mn.table, 0, sizeof F->mn.table);
  fe_run(&F->fe, 5 * ETHP2P_MIN + 5 * ETHP2P_SEC);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_GATEWAY_FOUND], 1);
  ck_assert_uint_eq(mock_count(&F->mn), 2);
  ck_assert(fx_mapping(ETHP2P_PROTO_UDP).mapped);
  fx_teardown();
}
END_TEST

START_TEST(rediscovery_reapplies_mappings_at_once) {
  unsigned adds;
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_MIN);
  F->mn.down = true;
  /* the poll at 2 min fails (1) and makes the loop try both mappings at
   * once, which fail too (2, 3): rediscovery within that one poll */
  fe_run_until(&F->fe, ETHP2P_SEC + 2 * ETHP2P_MIN + 4 * ETHP2P_SEC + ETHP2P_MSEC);
  ck_assert_uint_eq(F->mn.rediscovers, 1);
  adds = mock_calls(&F->mn, 'a', 0, F->fe.now - ETHP2P_SEC, UINT64_MAX);
  ck_assert_uint_eq(adds, 2); /* both mappings asked again right after rediscovery */
  /* the gateway is back (restarted, table empty): mapped right after the
   * next poll answers, not at the 5 min retry */
  F->mn.down = false;
  memset(F->mn.table, 0, sizeof F->mn.table);
  fe_run_until(&F->fe, ETHP2P_SEC + 4 * ETHP2P_MIN + ETHP2P_SEC);
  ck_assert_uint_eq(mock_count(&F->mn), 0);
  fe_run_until(&F->fe, ETHP2P_SEC + 6 * ETHP2P_MIN + ETHP2P_SEC);
  ck_assert_uint_eq(mock_count(&F->mn), 2);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_GATEWAY_FOUND], 1);
  fx_teardown();
}
END_TEST

/* Issue 12 defect 1: NAT-PMP (and PCP) key mappings by internal port, so a
 * renewal granted on another external port replaced the old mapping; deleting
 * the old port would delete the new one while the record advertises it. */
START_TEST(renewal_granted_new_port_leaves_router_forwarding_the_advertised_port) {
  fx_setup_lease10(ETHP2P_NAT_PMP);
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_MIN);
  ck_assert_uint_eq(F->r.tcp, 30303);
  F->mn.force_port[ETHP2P_PROTO_TCP] = 30999; /* the router moves us at the next renewal */
  fe_run(&F->fe, 5 * ETHP2P_MIN);
  ck_assert_uint_eq(F->r.tcp, 30999);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->mn.deletes, 0);
  {
    mock_entry *e = mock_find(&F->mn, ETHP2P_PROTO_TCP, F->r.tcp);
    ck_assert_ptr_nonnull(e); /* the router forwards exactly what the record says */
    ck_assert_uint_eq(e->internal, 30303);
  }
  ck_assert_uint_eq(mock_count(&F->mn), 1);
  fx_teardown();
}
END_TEST

/* Issue 12 defect 2: the alarm was armed once per slot, so an attempt due now
 * was replaced by another slot's later deadline (TCP re-registered at 60 s was
 * mapped only at 481 s). */
START_TEST(due_attempt_not_pushed_back_by_another_registration) {
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, 60 * ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_portmap_add(F->pm, ETHP2P_PROTO_TCP, 30400, 0, "y"), 0);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->r.tcp, 30400);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  fx_teardown();
}
END_TEST

/* ETHP2P_NAT_EV_GATEWAY_GONE (ssdp:byebye, or the gateway no longer knows us):
 * rediscover at once and re-add everything, without waiting for failures. */
START_TEST(gateway_gone_rediscovers_and_remaps_at_once) {
  unsigned adds;
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, 30 * ETHP2P_SEC);
  adds = F->mn.adds;
  mock_restart(&F->mn, false);
  F->mn.base.notify_cb(&F->mn.base, ETHP2P_NAT_EV_GATEWAY_GONE, NULL, F->mn.base.notify_data);
  ck_assert_uint_eq(F->mn.rediscovers, 1);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_GATEWAY_LOST], 1);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_LOST], 2);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->mn.adds, adds + 2);
  ck_assert_uint_eq(mock_count(&F->mn), 2);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_GATEWAY_FOUND], 1);
  /* a repeated byebye during the rediscovery is folded */
  F->mn.latency = 500 * ETHP2P_MSEC;
  F->mn.base.notify_cb(&F->mn.base, ETHP2P_NAT_EV_GATEWAY_GONE, NULL, F->mn.base.notify_data);
  F->mn.base.notify_cb(&F->mn.base, ETHP2P_NAT_EV_GATEWAY_GONE, NULL, F->mn.base.notify_data);
  ck_assert_uint_eq(F->mn.rediscovers, 2);
  fe_run(&F->fe, 2 * ETHP2P_SEC);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  fx_teardown();
}
END_TEST

/* ETHP2P_EADDRCHANGED (PCP ADDRESS_MISMATCH: our LAN address changed): one
 * refusal rediscovers at once, and the re-add follows. */
START_TEST(address_changed_status_rediscovers_at_once) {
  fx_setup_kind(ETHP2P_NAT_PCP, NULL);
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_MIN);
  F->mn.fail_adds = 1;
  F->mn.fail_status = ETHP2P_EADDRCHANGED;
  F->mn.fail_code = 12;
  mock_restart(&F->mn, true); /* re-add now, which is refused once */
  fe_run(&F->fe, 100 * ETHP2P_MSEC);
  ck_assert_uint_eq(F->mn.rediscovers, 1);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 1);
  fx_teardown();
}
END_TEST

/* Issue 12 defect 5: a PCP-only gateway cannot be polled for its address
 * (external_ip answers 0.0.0.0); the MAP responses carry it.  So such a NAT
 * keeps the 10 min lease although it detects restarts: a 2 h lease would
 * show an address change only about an hour later. */
START_TEST(external_address_taken_from_map_results) {
  fx_setup_kind(ETHP2P_NAT_PCP, NULL);
  F->mn.extip_unknown = true;
  F->mn.map_carries_ip = true;
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x01020304u);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_GATEWAY_LOST], 0);
  /* a change shows in the next MAP answer */
  F->mn.extip = ethp2p_addr_v4(5, 6, 7, 8, 0);
  fe_run(&F->fe, 6 * ETHP2P_MIN);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x05060708u);
  ck_assert_uint_eq(mock_last(&F->mn, 'a')->lifetime, 600); /* the poll is blind: short leases */
  ck_assert_uint_eq(F->r.ip_sets, 2);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 0);
  fx_teardown();
}
END_TEST

/* Address polls that get an answer other than a connection failure (e.g. a
 * server that does not do this opcode) never lead to rediscovery. */
START_TEST(refused_address_polls_are_not_connection_failures) {
  fx_setup_kind(ETHP2P_NAT_PCP, NULL);
  F->mn.extip_status = ETHP2P_EUNSUPP;
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_HOUR);
  ck_assert_uint_eq(F->mn.rediscovers, 0);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_GATEWAY_LOST], 0);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  fx_teardown();
}
END_TEST

static void on_stop(ethp2p_portmap *pm, int status, void *data) {
  fixture *f = data;
  (void)pm;
  f->stop_status = status;
  f->stop_calls++;
  f->stop_at = f->fe.now;
}

START_TEST(shutdown_deletes_every_mapping) {
  ethp2p_time at;
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, 10 * ETHP2P_MIN);
  ck_assert_uint_eq(mock_count(&F->mn), 2);
  at = F->fe.now;
  ck_assert_int_eq(ethp2p_portmap_stop(F->pm, 5 * ETHP2P_SEC, on_stop, F), 0);
  ck_assert_int_eq(ethp2p_portmap_stop(F->pm, 5 * ETHP2P_SEC, on_stop, F), ETHP2P_ESTATE);
  ck_assert_uint_eq(F->stop_calls, 0); /* never inside the call */
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->stop_calls, 1);
  ck_assert_int_eq(F->stop_status, 0);
  ck_assert_uint_lt(F->stop_at - at, ETHP2P_SEC);
  ck_assert_uint_eq(mock_count(&F->mn), 0);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_STOPPED], 1);
  /* nothing happens after stop */
  {
    unsigned n = F->mn.nlog;
    fe_run(&F->fe, ETHP2P_HOUR);
    ck_assert_uint_eq(F->mn.nlog, n);
    ck_assert_uint_eq(F->stop_calls, 1);
  }
  fx_teardown();
}
END_TEST

START_TEST(shutdown_wait_is_bounded) {
  ethp2p_time at;
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_MIN);
  F->mn.deaf_deletes = true;
  at = F->fe.now;
  ck_assert_int_eq(ethp2p_portmap_stop(F->pm, 3 * ETHP2P_SEC, on_stop, F), 0);
  fe_run(&F->fe, 10 * ETHP2P_SEC);
  ck_assert_uint_eq(F->stop_calls, 1);
  ck_assert_int_eq(F->stop_status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(F->stop_at - at, 3 * ETHP2P_SEC);
  fx_teardown();
}
END_TEST

START_TEST(shutdown_deletes_port_granted_while_stopping) {
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  F->mn.latency = 300 * ETHP2P_MSEC;
  fx_start(30303, 0);
  fe_run(&F->fe, 100 * ETHP2P_MSEC); /* add in flight */
  ck_assert_int_eq(ethp2p_portmap_stop(F->pm, 5 * ETHP2P_SEC, on_stop, F), 0);
  fe_run(&F->fe, 2 * ETHP2P_SEC);
  ck_assert_uint_eq(F->stop_calls, 1);
  ck_assert_int_eq(F->stop_status, 0);
  ck_assert_uint_eq(mock_count(&F->mn), 0);
  ck_assert_uint_eq(F->r.changes, 0); /* nothing was published while stopping */
  fx_teardown();
}
END_TEST

START_TEST(shutdown_without_mappings_finishes_on_next_turn) {
  fx_setup_kind(ETHP2P_NAT_NONE, NULL);
  fx_start(30303, 30303);
  ck_assert_int_eq(ethp2p_portmap_stop(F->pm, 5 * ETHP2P_SEC, on_stop, F), 0);
  ck_assert_uint_eq(F->stop_calls, 0);
  fe_run(&F->fe, ETHP2P_MSEC);
  ck_assert_uint_eq(F->stop_calls, 1);
  ck_assert_int_eq(F->stop_status, 0);
  ck_assert_uint_eq(F->mn.deletes, 0);
  fx_teardown();
}
END_TEST

START_TEST(private_and_cgnat_external_addresses_not_advertised) {
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  F->mn.extip = ethp2p_addr_v4(192, 168, 1, 1, 0);
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_MIN);
  ck_assert_int_eq(F->r.ip.family, 0);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_EXTIP_PRIVATE], 1);
  {
    ethp2p_addr a;
    ck_assert(!ethp2p_portmap_external_ip(F->pm, &a));
    ck_assert_uint_eq(ethp2p_addr_v4_u32(&a), 0xc0a80101u);
  }
  /* the same private address on every poll is reported once */
  fe_run(&F->fe, 10 * ETHP2P_MIN);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_EXTIP_PRIVATE], 1);
  F->mn.extip = ethp2p_addr_v4(100, 64, 3, 4, 0);
  fe_run(&F->fe, 2 * ETHP2P_MIN);
  ck_assert_uint_eq(F->ev.count[ETHP2P_PORTMAP_EV_EXTIP_PRIVATE], 2);
  ck_assert_int_eq(F->r.ip.family, 0);
  /* a public address is advertised, and withdrawn when the router goes private */
  F->mn.extip = ethp2p_addr_v4(5, 6, 7, 8, 0);
  fe_run(&F->fe, 2 * ETHP2P_MIN);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x05060708u);
  ck_assert(ethp2p_portmap_external_ip(F->pm, NULL));
  F->mn.extip = ethp2p_addr_v4(10, 0, 0, 1, 0);
  fe_run(&F->fe, 2 * ETHP2P_MIN);
  ck_assert_int_eq(F->r.ip.family, 0);
  ck_assert_uint_eq(F->r.ip_sets, 2);
  fx_teardown();
}
END_TEST

START_TEST(failed_address_query_keeps_last_address) {
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_MIN);
  F->mn.extip_fail = true;
  fe_run(&F->fe, ETHP2P_HOUR);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x01020304u);
  ck_assert_uint_eq(F->r.ip_sets, 1);
  fx_teardown();
}
END_TEST

START_TEST(none_drains_registrations) {
  fx_setup_kind(ETHP2P_NAT_NONE, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, ETHP2P_DAY);
  ck_assert_uint_eq(F->mn.nlog, 0);
  ck_assert_uint_eq(F->r.changes, 0);
  ck_assert_uint_eq(ethp2p_portmap_mappings(F->pm, NULL, 0), 2);
  ck_assert(!fx_mapping(ETHP2P_PROTO_TCP).mapped);
  ck_assert_int_eq(fx_mapping(ETHP2P_PROTO_TCP).state, ETHP2P_PORTMAP_DRAINED);
  ck_assert_str_eq(ethp2p_portmap_state_name(ETHP2P_PORTMAP_DRAINED), "drained");
  fx_teardown();
}
END_TEST

START_TEST(extip_sets_static_address_at_once_and_maps_nothing) {
  fx_setup_kind(ETHP2P_NAT_EXTIP, NULL);
  F->mn.extip = ethp2p_addr_v4(203, 0, 113, 7, 0);
  F->mn.latency = 0; /* extip answers on the next loop turn */
  fx_start(30303, 30303);
  fe_run(&F->fe, 0);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0xcb007107u); /* no time passed */
  fe_run(&F->fe, ETHP2P_DAY);
  /* asked once (ETHP2P_NAT_CAP_STATIC_IP), never polled, nothing mapped */
  ck_assert_uint_eq(F->mn.nlog, 1);
  ck_assert_uint_eq(F->mn.extips, 1);
  ck_assert_uint_eq(F->r.changes, 1);
  ck_assert_int_eq(fx_mapping(ETHP2P_PROTO_TCP).state, ETHP2P_PORTMAP_DRAINED);
  fx_teardown();
}
END_TEST

START_TEST(stun_polls_address_only) {
  fx_setup_kind(ETHP2P_NAT_STUN, NULL);
  fx_start(30303, 30303);
  fe_run(&F->fe, 10 * ETHP2P_MIN);
  ck_assert_uint_eq(F->mn.adds, 0);
  ck_assert_uint_ge(F->mn.extips, 5);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x01020304u);
  fx_teardown();
}
END_TEST

START_TEST(port_zero_grant_is_a_failure_and_never_published) {
  fx_setup_kind(ETHP2P_NAT_UPNP, NULL);
  F->mn.grant_zero = true;
  fx_start(30303, 30303);
  fe_run(&F->fe, 20 * ETHP2P_MIN);
  ck_assert_uint_eq(F->r.tcp, 0);
  ck_assert_uint_eq(F->r.udp, 0);
  ck_assert_uint_ge(F->ev.count[ETHP2P_PORTMAP_EV_MAPPING_FAILED], 2);
  ck_assert(!fx_mapping(ETHP2P_PROTO_TCP).mapped);
  fx_teardown();
}
END_TEST

START_TEST(intervals_are_settable) {
  ethp2p_portmap_config c;
  ethp2p_portmap_config_default(&c);
  ck_assert_uint_eq(c.lease, 0); /* automatic: 10 min, or 2 h where restarts are noticed */
  ck_assert_uint_eq(c.long_lease, 2 * ETHP2P_HOUR);
  ck_assert_uint_eq(c.refresh, 8 * ETHP2P_MIN);
  ck_assert_uint_eq(c.retry, 5 * ETHP2P_MIN);
  ck_assert_uint_eq(c.extip_interval, 2 * ETHP2P_MIN);
  ck_assert_uint_eq(c.max_failures, 5);
  c.lease = 60 * ETHP2P_SEC;
  c.refresh = 20 * ETHP2P_SEC;
  c.retry = 7 * ETHP2P_SEC;
  c.extip_interval = 30 * ETHP2P_SEC;
  c.poll_refresh = -1;
  fx_setup_kind(ETHP2P_NAT_UPNP, &c); /* no protocol rule: the configured cadence */
  fx_start(30303, 0);
  fe_run(&F->fe, 100 * ETHP2P_SEC - ETHP2P_MSEC);
  ck_assert_uint_eq(mock_first(&F->mn, 'a')->lifetime, 60);
  ck_assert_uint_eq(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, 0, UINT64_MAX), 5); /* 0,20,..,80 */
  ck_assert_uint_eq(F->mn.extips, 4);                                             /* 0,30,60,90 */
  F->mn.fail_all_adds = true;
  {
    ethp2p_time from = F->fe.now;
    fe_run(&F->fe, 30 * ETHP2P_SEC);
    /* failure at ~100 s, then retries 7 s apart */
    ck_assert_uint_ge(mock_calls(&F->mn, 'a', ETHP2P_PROTO_TCP, from, UINT64_MAX), 4);
  }
  fx_teardown();
  {
    ethp2p_portmap *pm = NULL;
    fake_env fe;
    mock_nat mn;
    fe_init(&fe);
    mock_init(&mn, &fe, ETHP2P_NAT_PMP);
    c.refresh = 0;
    ck_assert_int_eq(ethp2p_portmap_create(&fe.env, &mn.base, &c, NULL, &pm), ETHP2P_EINVAL);
    ck_assert_ptr_null(pm);
    /* a lease that ends before its refresh would lose the mapping every time */
    c.refresh = 60 * ETHP2P_SEC;
    ck_assert_int_eq(ethp2p_portmap_create(&fe.env, &mn.base, &c, NULL, &pm), ETHP2P_EINVAL);
    c.refresh = 90 * ETHP2P_SEC;
    ck_assert_int_eq(ethp2p_portmap_create(&fe.env, &mn.base, &c, NULL, &pm), ETHP2P_EINVAL);
    ck_assert_ptr_null(pm);
    c.refresh = 59 * ETHP2P_SEC;
    ck_assert_int_eq(ethp2p_portmap_create(&fe.env, &mn.base, &c, NULL, &pm), 0);
    ethp2p_portmap_destroy(pm);
    mock_init(&mn, &fe, ETHP2P_NAT_PMP);
    /* automatic lease: both leases it may ask for must outlast the refresh */
    c.lease = 0;
    c.refresh = 10 * ETHP2P_MIN; /* = the 10 min lease */
    ck_assert_int_eq(ethp2p_portmap_create(&fe.env, &mn.base, &c, NULL, &pm), ETHP2P_EINVAL);
    c.refresh = 8 * ETHP2P_MIN;
    c.long_lease = 5 * ETHP2P_MIN;
    ck_assert_int_eq(ethp2p_portmap_create(&fe.env, &mn.base, &c, NULL, &pm), ETHP2P_EINVAL);
    ck_assert_ptr_null(pm);
    c.long_lease = 0; /* = ETHP2P_PORTMAP_LONG_LEASE */
    ck_assert_int_eq(ethp2p_portmap_create(&fe.env, &mn.base, &c, NULL, &pm), 0);
    ethp2p_portmap_destroy(pm);
    fe_free(&fe);
  }
}
END_TEST

START_TEST(registration_rules) {
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  ck_assert_int_eq(ethp2p_portmap_add(F->pm, ETHP2P_PROTO_TCP, 0, 0, "x"), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_portmap_add(F->pm, (ethp2p_proto)99, 1, 0, "x"), ETHP2P_EINVAL);
  fx_start(30303, 0);
  ck_assert_int_eq(ethp2p_portmap_start(F->pm), ETHP2P_ESTATE);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->r.tcp, 30303);
  /* re-registering TCP on another port replaces it and deletes the old mapping */
  ck_assert_int_eq(ethp2p_portmap_add(F->pm, ETHP2P_PROTO_TCP, 30400, 0, "y"), 0);
  ck_assert_uint_eq(ethp2p_portmap_mappings(F->pm, NULL, 0), 1);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->mn.deletes, 1);
  ck_assert_uint_eq(F->r.tcp, 30400);
  ck_assert_uint_eq(mock_count(&F->mn), 1);
  /* a late-registered UDP port is mapped on the next turn */
  ck_assert_int_eq(ethp2p_portmap_add(F->pm, ETHP2P_PROTO_UDP, 30301, 30999, "z"), 0);
  fe_run(&F->fe, ETHP2P_SEC);
  ck_assert_uint_eq(F->r.udp, 30999);
  ck_assert_int_eq(ethp2p_portmap_stop(F->pm, ETHP2P_SEC, NULL, NULL), 0);
  ck_assert_int_eq(ethp2p_portmap_add(F->pm, ETHP2P_PROTO_UDP, 1, 0, "z"), ETHP2P_ESTATE);
  fe_run(&F->fe, 2 * ETHP2P_SEC);
  fx_teardown();
}
END_TEST

START_TEST(unsubscribed_callback_not_called) {
  evlog *other = calloc(1, sizeof *other);
  int id;
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  id = ethp2p_portmap_subscribe(F->pm, on_event, other);
  ck_assert_int_gt(id, 0);
  ethp2p_portmap_unsubscribe(F->pm, id);
  fx_start(30303, 0);
  fe_run(&F->fe, ETHP2P_MIN);
  ck_assert_uint_eq(other->n, 0);
  ck_assert_uint_gt(F->ev.n, 0);
  free(other);
  fx_teardown();
}
END_TEST

/* Simulated days of random trouble (seeded): reboots with and without
 * announcements, address changes (some private), outages, refused refreshes.
 * After every event: no port 0, no private address in the record (the sink
 * asserts), and the record follows the router within bounded time. */
static uint64_t soak_rng;
static unsigned soak_rand(unsigned n) {
  soak_rng ^= soak_rng << 13;
  soak_rng ^= soak_rng >> 7;
  soak_rng ^= soak_rng << 17;
  return (unsigned)(soak_rng % n);
}

static void soak_check(void) {
  if (F == NULL || F->pm == NULL)
    return;
  ck_assert(F->r.tcp == 0 || F->r.tcp >= 30303);
  ck_assert(F->r.ip.family == 0 || !ethp2p_addr_is_private(&F->r.ip));
}

START_TEST(days_of_router_trouble_keep_invariants) {
  unsigned days = 7;
  soak_rng = 0x1234567u + (uint64_t)_i;
  fx_setup_kind(ETHP2P_NAT_PMP, NULL);
  after_event_hook = soak_check;
  fx_start(30303, 30303);
  for (unsigned h = 0; h < days * 24; h++) {
    switch (soak_rand(8)) {
    case 0:
      mock_restart(&F->mn, soak_rand(2) == 0);
      break;
    case 1:
      F->mn.extip = soak_rand(4) == 0 ? ethp2p_addr_v4(10, 1, 1, (uint8_t)soak_rand(250), 0)
                                      : ethp2p_addr_v4(7, 7, (uint8_t)soak_rand(250), 1, 0);
      break;
    case 2:
      F->mn.down = !F->mn.down;
      break;
    case 3:
      F->mn.fail_adds = (int)soak_rand(7);
      break;
    default:
      F->mn.down = false;
      break;
    }
    fe_run(&F->fe, ETHP2P_HOUR);
  }
  /* calm at the end: within one retry + one poll everything is mapped and true */
  F->mn.down = false;
  F->mn.fail_adds = 0;
  F->mn.extip = ethp2p_addr_v4(8, 8, 4, 4, 0);
  fe_run(&F->fe, 8 * ETHP2P_MIN);
  ck_assert(fx_mapping(ETHP2P_PROTO_TCP).mapped);
  ck_assert(fx_mapping(ETHP2P_PROTO_UDP).mapped);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&F->r.ip), 0x08080404u);
  {
    mock_entry *t = mock_find(&F->mn, ETHP2P_PROTO_TCP, F->r.tcp);
    ck_assert_ptr_nonnull(t);
  }
  after_event_hook = NULL;
  fx_teardown();
}
END_TEST

/* ===== the node key reaches the PCP nonces (issue 12 defect 7) ============== */

typedef struct nonce_catch {
  unsigned n;
  uint8_t first[12];
} nonce_catch;

static void on_pcp_request(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                           void *data) {
  nonce_catch *c = data;
  ethp2p_pcp_request rq;
  (void)u;
  (void)from;
  if (len < 1 || buf[0] != 2 || ethp2p_pcp_request_decode(&rq, buf, len, NULL) != 0 ||
      rq.opcode != ETHP2P_PCP_OP_MAP)
    return;
  if (c->n++ == 0)
    memcpy(c->first, rq.map.nonce, 12);
}

/* One "run" of a node: a loop on a real PCP client, the TCP port registered;
 * returns the nonce of its first MAP request. */
static void pcp_run(ethp2p_sim *sim, ethp2p_sim_host *h, const uint8_t *secret, nonce_catch *c) {
  ethp2p_nat_spec spec;
  ethp2p_nat *nat;
  ethp2p_portmap *pm;
  ethp2p_portmap_config cfg;
  ethp2p_portmap_config_default(&cfg);
  if (secret != NULL)
    ck_assert_int_eq(ethp2p_portmap_config_set_node_key(&cfg, secret), 0);
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "pcp", NULL, 0), 0);
  ck_assert_int_eq(ethp2p_nat_create(ethp2p_sim_host_env(h), &spec, &nat), 0);
  ck_assert_int_eq(ethp2p_portmap_create(ethp2p_sim_host_env(h), nat, &cfg, NULL, &pm), 0);
  ck_assert_int_eq(ethp2p_portmap_add(pm, ETHP2P_PROTO_TCP, 30303, 0, "t"), 0);
  ck_assert_int_eq(ethp2p_portmap_start(pm), 0);
  memset(c, 0, sizeof *c);
  /* nobody answers: the first MAP goes after the address probe's ANNOUNCE gives up */
  ethp2p_sim_run(sim, 40 * ETHP2P_SEC);
  ck_assert_uint_ge(c->n, 1);
  ethp2p_portmap_destroy(pm);
}

START_TEST(restarted_node_reuses_its_pcp_nonces) {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *h;
  ethp2p_udp *srv;
  nonce_catch a, b, c, d, e;
  uint8_t secret[32], other[32];
  memset(secret, 0x11, sizeof secret);
  memset(other, 0x22, sizeof other);
  ck_assert_int_eq(ethp2p_sim_create(&sim, 5), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &box, "gw", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(box, &h, "node", NULL), 0);
  ethp2p_addr in = ethp2p_sim_nat_inside_addr(box);
  in.port = 5351;
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(ethp2p_sim_nat_host(box)), &srv, &in, 0,
                                   on_pcp_request, &a),
                   0);
  pcp_run(sim, h, secret, &a);
  nonce_catch first = a;
  ethp2p_udp_close(srv);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(ethp2p_sim_nat_host(box)), &srv, &in, 0,
                                   on_pcp_request, &b),
                   0);
  pcp_run(sim, h, secret, &b); /* the node restarted with the same key */
  ck_assert_mem_eq(first.first, b.first, 12);
  ethp2p_udp_close(srv);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(ethp2p_sim_nat_host(box)), &srv, &in, 0,
                                   on_pcp_request, &c),
                   0);
  pcp_run(sim, h, other, &c); /* another node key */
  ck_assert(memcmp(first.first, c.first, 12) != 0);
  ethp2p_udp_close(srv);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(ethp2p_sim_nat_host(box)), &srv, &in, 0,
                                   on_pcp_request, &d),
                   0);
  pcp_run(sim, h, NULL, &d); /* no key: random nonces, new every run */
  ethp2p_udp_close(srv);
  ck_assert_int_eq(ethp2p_udp_open(ethp2p_sim_host_env(ethp2p_sim_nat_host(box)), &srv, &in, 0,
                                   on_pcp_request, &e),
                   0);
  pcp_run(sim, h, NULL, &e);
  ck_assert(memcmp(d.first, e.first, 12) != 0);
  ck_assert(memcmp(first.first, d.first, 12) != 0);
  ethp2p_udp_close(srv);
  ethp2p_sim_destroy(sim);
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_portmap");
  TCase *tc = tcase_create("portmap");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, geth_server_port_mapping_scenario);
  tcase_add_loop_test(tc, events_carry_the_loop_family, 0, 2);
  tcase_add_test(tc, refresh_every_8_minutes_without_a_protocol_rule);
  tcase_add_test(tc, pmp_renews_at_half_the_granted_lifetime);
  tcase_add_test(tc, restart_detecting_nat_asks_for_the_rfc_lease_by_default);
  tcase_add_test(tc, explicit_lease_and_nats_without_restart_detection_keep_10_minutes);
  tcase_add_test(tc, lease_follows_capabilities_at_each_request);
  tcase_add_test(tc, failed_refreshes_retried_before_expiry_then_given_up_after_5);
  tcase_add_test(tc, router_alternative_port_kept_without_record_churn);
  tcase_add_test(tc, external_address_change_followed_within_one_poll);
  tcase_add_test(tc, announced_external_address_taken_at_once);
  tcase_add_test(tc, state_lost_remaps_within_one_second);
  tcase_add_test(tc, state_lost_during_request_remaps_after_it);
  tcase_add_test(tc, upnp_restart_without_announcement_repaired_within_one_poll);
  tcase_add_test(tc, poll_refresh_can_be_turned_off);
  tcase_add_test(tc, router_that_never_renews_in_place_does_not_pile_up_mappings);
  tcase_add_test(tc, moved_renewal_deletes_only_a_port_still_ours);
  tcase_add_test(tc, permanent_only_router_gets_lease_zero_without_hammering);
  tcase_add_test(tc, short_granted_pcp_lease_renewed_inside_the_rfc_window);
  tcase_add_test(tc, any_granted_lifetime_is_renewed_before_it_expires);
  tcase_add_test(tc, failed_pcp_renewal_retried_before_expiry);
  tcase_add_test(tc, rediscovery_after_3_connection_failures_one_at_a_time);
  tcase_add_test(tc, rediscovery_reapplies_mappings_at_once);
  tcase_add_test(tc, renewal_granted_new_port_leaves_router_forwarding_the_advertised_port);
  tcase_add_test(tc, due_attempt_not_pushed_back_by_another_registration);
  tcase_add_test(tc, gateway_gone_rediscovers_and_remaps_at_once);
  tcase_add_test(tc, address_changed_status_rediscovers_at_once);
  tcase_add_test(tc, external_address_taken_from_map_results);
  tcase_add_test(tc, refused_address_polls_are_not_connection_failures);
  tcase_add_test(tc, restarted_node_reuses_its_pcp_nonces);
  tcase_add_test(tc, shutdown_deletes_every_mapping);
  tcase_add_test(tc, shutdown_wait_is_bounded);
  tcase_add_test(tc, shutdown_deletes_port_granted_while_stopping);
  tcase_add_test(tc, shutdown_without_mappings_finishes_on_next_turn);
  tcase_add_test(tc, private_and_cgnat_external_addresses_not_advertised);
  tcase_add_test(tc, failed_address_query_keeps_last_address);
  tcase_add_test(tc, none_drains_registrations);
  tcase_add_test(tc, extip_sets_static_address_at_once_and_maps_nothing);
  tcase_add_test(tc, stun_polls_address_only);
  tcase_add_test(tc, port_zero_grant_is_a_failure_and_never_published);
  tcase_add_test(tc, intervals_are_settable);
  tcase_add_test(tc, registration_rules);
  tcase_add_test(tc, unsubscribed_callback_not_called);
  tcase_add_loop_test(tc, days_of_router_trouble_keep_invariants, 0, 4);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
