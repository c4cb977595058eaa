/*
 * p2p/portmap.c — the port-mapping loop (see ethp2p/portmap.h for the rules).
 *
 * go-ethereum's portMappingLoop is a goroutine calling a blocking NAT; here the
 * NAT is asynchronous.  State is explicit, one enum and one transition
 * function each:
 *   - the loop's run state (created, running, stopping, stopped): run_to();
 *   - each registration's slot state (free, drained, unmapped, mapped):
 *     slot_to(), and its request state (idle, out, out and to be repeated):
 *     req_to();
 *   - the gateway's state (up, rediscovering, lost): gw_to().
 * The refresh alarm is armed once, at the earliest due attempt, after every
 * event (the loop head of go-ethereum's version).  Every outstanding NAT
 * request is an op on a list so that destroy can free them after the NAT
 * dropped their callbacks.  The loop never asks which protocol it drives: it
 * reads nat->caps and the generic statuses of ethp2p/nat.h.
 */
#include "ethp2p/portmap.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/log.h"

#define PM_NEVER UINT64_MAX
#define PM_MODULE "p2p"
/* A router granting tiny leases is still not asked more often than this
 * (unless the lease itself is shorter: then at half of it). */
#define PM_MIN_REFRESH (10 * ETHP2P_SEC)
/* Retries of a failed renewal before the lease ends come at least this far apart. */
#define PM_MIN_RETRY (2 * ETHP2P_SEC)

enum op_kind { OP_ADD, OP_DELETE, OP_EXTIP };

typedef struct pm_op {
  struct pm_op *next;
  ethp2p_portmap *pm;
  enum op_kind kind;
  int slot;
  unsigned gen;      /* registration generation the op belongs to */
  unsigned disc_gen; /* rediscovery generation when the op started */
  uint32_t lifetime_s;
  bool long_lease; /* an add asking for the automatic long lease */
  ethp2p_proto proto;
  uint16_t internal_port;
  bool for_stop; /* a shutdown delete: counts toward the bound */
} pm_op;

typedef enum slot_state {
  SLOT_FREE = 0,
  SLOT_DRAINED = ETHP2P_PORTMAP_DRAINED,
  SLOT_UNMAPPED = ETHP2P_PORTMAP_UNMAPPED,
  SLOT_MAPPED = ETHP2P_PORTMAP_MAPPED,
} slot_state;

typedef enum req_state {
  REQ_IDLE = 0, /* nothing outstanding; the next attempt is at `next` */
  REQ_OUT,      /* an add/refresh is outstanding */
  REQ_AGAIN,    /* outstanding, and to be repeated as soon as it completes */
} req_state;

typedef struct pm_slot {
  slot_state state;
  req_state req;
  unsigned gen;
  ethp2p_proto proto;
  uint16_t internal_port;
  uint16_t wanted_port;
  uint16_t ext_port;         /* current external port (hint of every refresh), 0 = none */
  bool permanent;            /* ask for permanent leases (the router grants nothing else) */
  bool long_lease;           /* the running grant answered a request for the long lease */
  unsigned failures;         /* consecutive failures, any kind */
  unsigned refresh_failures; /* consecutive failed refreshes of ext_port */
  ethp2p_time expires;       /* lease end while mapped, 0 = permanent */
  ethp2p_time next;          /* next attempt (PM_NEVER = none) while REQ_IDLE */
  uint64_t added, renewed, failed, lost;
  char name[ETHP2P_PORTMAP_NAME_MAX];
} pm_slot;

typedef struct pm_sub {
  int id;
  ethp2p_portmap_event_cb cb;
  void *data;
} pm_sub;

typedef enum run_state { RUN_CREATED = 0, RUN_RUNNING, RUN_STOPPING, RUN_STOPPED } run_state;

typedef enum gw_state {
  GW_UP = 0,        /* answering (or not known to be otherwise) */
  GW_REDISCOVERING, /* rediscovered; no request of the new generation answered yet */
  GW_LOST,          /* rediscovered, and the new gateway did not answer either */
} gw_state;

typedef enum poll_state { POLL_NONE = 0, POLL_OK, POLL_FAILED } poll_state;

struct ethp2p_portmap {
  ethp2p_env *env;
  ethp2p_nat *nat;
  ethp2p_portmap_config cfg;
  ethp2p_portmap_sink sink;
  ethp2p_alarm refresh;
  ethp2p_alarm extip;
  ethp2p_timer *stop_timer;
  pm_slot slots[ETHP2P_PORTMAP_MAX];
  pm_sub subs[ETHP2P_PORTMAP_MAX_SUBS];
  int next_sub_id;
  pm_op *ops;

  run_state run;
  unsigned stop_pending;
  ethp2p_portmap_stop_cb stop_cb;
  void *stop_data;

  bool extip_in_flight;
  poll_state poll;
  bool renews_move;          /* the router does not renew in place: no per-poll re-adds */
  bool poll_blind;           /* the poll answers without an address (0.0.0.0): map results are
                                the only source, so leases stay short */
  ethp2p_addr reported_ip;   /* last address the NAT reported (any kind) */
  ethp2p_addr advertised_ip; /* what the sink was last told (family 0 = none) */
  uint16_t rec_tcp, rec_udp; /* what the sink was last told */

  gw_state gw;
  unsigned conn_failures; /* consecutive connection-level failures since the last answer */
  unsigned disc_gen;
  bool rediscovered_once;
  ethp2p_time last_rediscover;
};

static const char *const event_names[] = {
    [ETHP2P_PORTMAP_EV_MAPPING_ADDED] = "mapping-added",
    [ETHP2P_PORTMAP_EV_MAPPING_RENEWED] = "mapping-renewed",
    [ETHP2P_PORTMAP_EV_MAPPING_FAILED] = "mapping-failed",
    [ETHP2P_PORTMAP_EV_MAPPING_LOST] = "mapping-lost",
    [ETHP2P_PORTMAP_EV_EXTIP_CHANGED] = "extip-changed",
    [ETHP2P_PORTMAP_EV_EXTIP_PRIVATE] = "extip-private",
    [ETHP2P_PORTMAP_EV_GATEWAY_LOST] = "gateway-lost",
    [ETHP2P_PORTMAP_EV_GATEWAY_FOUND] = "gateway-found",
    [ETHP2P_PORTMAP_EV_RECORD_UPDATED] = "record-updated",
    [ETHP2P_PORTMAP_EV_STOPPED] = "stopped",
};

const char *ethp2p_portmap_event_name(ethp2p_portmap_event_type type) {
  if ((unsigned)type < sizeof event_names / sizeof event_names[0] && event_names[type] != NULL)
    return event_names[type];
  return "unknown";
}

const char *ethp2p_portmap_state_name(ethp2p_portmap_state state) {
  switch (state) {
  case ETHP2P_PORTMAP_DRAINED:
    return "drained";
  case ETHP2P_PORTMAP_UNMAPPED:
    return "unmapped";
  case ETHP2P_PORTMAP_MAPPED:
    return "mapped";
  }
  return "unknown";
}

void ethp2p_portmap_config_default(ethp2p_portmap_config *c) {
  memset(c, 0, sizeof *c);
  c->lease = 0; /* automatic: ETHP2P_PORTMAP_LEASE, or long_lease where restarts are noticed */
  c->long_lease = ETHP2P_PORTMAP_LONG_LEASE;
  c->refresh = 8 * ETHP2P_MIN;
  c->retry = 5 * ETHP2P_MIN;
  c->extip_interval = 2 * ETHP2P_MIN;
  c->max_failures = 5;
  c->rediscover_after = 3;
  c->allow_private_extip = false;
}

int ethp2p_portmap_config_set_node_key(ethp2p_portmap_config *c, const uint8_t secret[32]) {
  static const char label[] = "ethp2p pcp nonce key";
  uint8_t key[ETHP2P_SHA256_LEN];
  int rc;
  if (c == NULL || secret == NULL)
    return ETHP2P_EINVAL;
  rc = ethp2p_hmac_sha256(key, secret, 32, label, sizeof label - 1);
  if (rc != 0)
    return rc;
  memcpy(c->nonce_key, key, sizeof c->nonce_key);
  c->has_nonce_key = true;
  memset(key, 0, sizeof key);
  return 0;
}

static bool can_map(const ethp2p_portmap *pm) {
  return (pm->nat->caps & ETHP2P_NAT_CAP_MAP) != 0;
}
/* The lease to ask for now.  Automatic (lease 0): the long one from a NAT
 * that reports router restarts itself (nothing is lost waiting for the lease
 * to run out), go-ethereum's 10 min from the others, and from one whose poll
 * cannot tell the address (a PCP-only server): its map results are the only
 * news of an address change, so they must come often.  The caps are read at
 * every request: `any` takes its winner's once it has one. */
static ethp2p_time lease_now(const ethp2p_portmap *pm, bool *is_long) {
  bool lng = pm->cfg.lease == 0 && (pm->nat->caps & ETHP2P_NAT_CAP_DETECTS_RESTART) != 0 &&
             !pm->poll_blind;
  if (is_long != NULL)
    *is_long = lng;
  if (pm->cfg.lease != 0)
    return pm->cfg.lease;
  return lng ? pm->cfg.long_lease : ETHP2P_PORTMAP_LEASE;
}

static bool polls_extip(const ethp2p_portmap *pm) {
  return (pm->nat->caps & ETHP2P_NAT_CAP_POLL_EXTIP) != 0;
}
static bool running(const ethp2p_portmap *pm) {
  return pm->run == RUN_RUNNING;
}
static bool stopping(const ethp2p_portmap *pm) {
  return pm->run == RUN_STOPPING || pm->run == RUN_STOPPED;
}

/* ---- events ------------------------------------------------------------- */

static void emit(ethp2p_portmap *pm, ethp2p_portmap_event *ev) {
  ev->time = ethp2p_env_now(pm->env);
  ev->family = pm->cfg.family == 6 ? 6 : 4;
  if (ev->reason == NULL)
    ev->reason = "";
  for (size_t i = 0; i < ETHP2P_PORTMAP_MAX_SUBS; i++) {
    pm_sub s = pm->subs[i]; /* a callback may unsubscribe itself */
    if (s.cb != NULL)
      s.cb(pm, ev, s.data);
  }
}

static void emit_mapping(ethp2p_portmap *pm, ethp2p_portmap_event_type type, const pm_slot *m,
                         uint16_t old_port, const char *reason) {
  ethp2p_portmap_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.proto = m->proto;
  ev.internal_port = m->internal_port;
  ev.external_port = m->ext_port;
  ev.old_external_port = old_port;
  ev.failures = m->failures;
  ev.reason = reason;
  emit(pm, &ev);
}

static void emit_simple(ethp2p_portmap *pm, ethp2p_portmap_event_type type, const char *reason) {
  ethp2p_portmap_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.reason = reason;
  emit(pm, &ev);
}

static void emit_addr(ethp2p_portmap *pm, ethp2p_portmap_event_type type, const ethp2p_addr *a,
                      const char *reason) {
  ethp2p_portmap_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  if (a != NULL)
    ev.addr = *a;
  ev.reason = reason;
  emit(pm, &ev);
}

/* ---- sink ---------------------------------------------------------------- */

static void sink_port(ethp2p_portmap *pm, ethp2p_proto proto, uint16_t port) {
  if (port == 0)
    return; /* never a port 0 in the record */
  if (proto == ETHP2P_PROTO_TCP) {
    if (pm->rec_tcp == port)
      return;
    pm->rec_tcp = port;
    if (pm->sink.set_tcp != NULL)
      pm->sink.set_tcp(pm->sink.data, port);
  } else {
    if (pm->rec_udp == port)
      return;
    pm->rec_udp = port;
    if (pm->sink.set_udp != NULL)
      pm->sink.set_udp(pm->sink.data, port);
  }
  emit_simple(pm, ETHP2P_PORTMAP_EV_RECORD_UPDATED,
              proto == ETHP2P_PROTO_TCP ? "tcp port" : "udp port");
}

static void sink_ip(ethp2p_portmap *pm, const ethp2p_addr *ip) {
  if (ip == NULL) {
    if (pm->advertised_ip.family == 0)
      return;
    memset(&pm->advertised_ip, 0, sizeof pm->advertised_ip);
  } else {
    if (ethp2p_addr_equal(&pm->advertised_ip, ip, false))
      return;
    pm->advertised_ip = *ip;
    pm->advertised_ip.port = 0;
  }
  if (pm->sink.set_ip != NULL)
    pm->sink.set_ip(pm->sink.data, ip == NULL ? NULL : &pm->advertised_ip);
  emit_simple(pm, ETHP2P_PORTMAP_EV_RECORD_UPDATED, ip == NULL ? "address withdrawn" : "address");
}

/* ---- ops ----------------------------------------------------------------- */

static pm_op *op_new(ethp2p_portmap *pm, enum op_kind kind, int slot) {
  pm_op *op = calloc(1, sizeof *op);
  if (op == NULL)
    return NULL;
  op->pm = pm;
  op->kind = kind;
  op->slot = slot;
  op->gen = slot >= 0 ? pm->slots[slot].gen : 0;
  op->disc_gen = pm->disc_gen;
  op->next = pm->ops;
  pm->ops = op;
  return op;
}

static void op_free(pm_op *op) {
  ethp2p_portmap *pm = op->pm;
  for (pm_op **p = &pm->ops; *p != NULL; p = &(*p)->next) {
    if (*p == op) {
      *p = op->next;
      break;
    }
  }
  free(op);
}

static bool is_public(const ethp2p_addr *a) {
  return a->family != 0 && !ethp2p_addr_is_unspecified(a) && !ethp2p_addr_is_loopback(a) &&
         !ethp2p_addr_is_private(a) && !ethp2p_addr_is_cgnat(a) && !ethp2p_addr_is_multicast(a);
}

static bool addr_known(const ethp2p_addr *a) {
  return a != NULL && a->family != 0 && !ethp2p_addr_is_unspecified(a);
}

/* Re-adding every mapping after each successful poll: for NATs that cannot
 * tell us they lost state (and never for a router that moves ports). */
static bool poll_refreshes(const ethp2p_portmap *pm) {
  if (!can_map(pm) || pm->renews_move)
    return false;
  if (pm->cfg.poll_refresh != 0)
    return pm->cfg.poll_refresh > 0;
  return (pm->nat->caps & ETHP2P_NAT_CAP_DETECTS_RESTART) == 0;
}

/* ---- state transitions ---------------------------------------------------- */

/* The loop's run state: created -> running -> stopping -> stopped. */
static void run_to(ethp2p_portmap *pm, run_state to) {
  pm->run = to;
}

/* A slot's state.  Leaving MAPPED reports the mapping lost (old_port: the port
 * it had, for the event). */
static void slot_to(ethp2p_portmap *pm, pm_slot *m, slot_state to, uint16_t old_port,
                    const char *reason) {
  slot_state from = m->state;
  m->state = to;
  if (from == SLOT_MAPPED && to != SLOT_MAPPED) {
    m->expires = 0;
    m->lost++;
    emit_mapping(pm, ETHP2P_PORTMAP_EV_MAPPING_LOST, m, old_port, reason);
  }
}

/* A slot's request state.  Ending a request that was asked to repeat makes the
 * next attempt due now. */
static void req_to(pm_slot *m, req_state to, ethp2p_time now) {
  if (to == REQ_IDLE && m->req == REQ_AGAIN)
    m->next = now;
  else if (to == REQ_OUT)
    m->next = PM_NEVER;
  m->req = to;
}

/* The gateway's state; reports the outage's start and end. */
static void gw_to(ethp2p_portmap *pm, gw_state to, const char *reason) {
  gw_state from = pm->gw;
  pm->gw = to;
  if (from == GW_UP && to != GW_UP) {
    emit_simple(pm, ETHP2P_PORTMAP_EV_GATEWAY_LOST, reason);
  } else if (from != GW_UP && to == GW_UP) {
    ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE, "NAT gateway found again", "interface=%s",
               pm->nat->name);
    emit_simple(pm, ETHP2P_PORTMAP_EV_GATEWAY_FOUND, reason);
  }
}

/* ---- scheduling ------------------------------------------------------------ */

/* Arms the refresh alarm once, at the earliest due attempt. */
static void reschedule(ethp2p_portmap *pm) {
  ethp2p_time first = PM_NEVER;
  if (!running(pm) || !can_map(pm))
    return;
  for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
    const pm_slot *m = &pm->slots[i];
    if ((m->state == SLOT_UNMAPPED || m->state == SLOT_MAPPED) && m->req == REQ_IDLE &&
        m->next < first)
      first = m->next;
  }
  if (first != PM_NEVER)
    ethp2p_alarm_schedule(&pm->refresh, first);
}

/* Every registration is (re)attempted now; one in flight goes again when done. */
static void refresh_all_now(ethp2p_portmap *pm, ethp2p_time now) {
  for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
    pm_slot *m = &pm->slots[i];
    if (m->state != SLOT_UNMAPPED && m->state != SLOT_MAPPED)
      continue;
    if (m->req != REQ_IDLE)
      m->req = REQ_AGAIN;
    else
      m->next = now;
  }
}

/* Every mapping is gone from the gateway (restart, gateway left). */
static void all_lost(ethp2p_portmap *pm, const char *reason) {
  for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
    pm_slot *m = &pm->slots[i];
    if (m->state == SLOT_MAPPED)
      slot_to(pm, m, SLOT_UNMAPPED, m->ext_port, reason);
  }
}

/* ---- the gateway ------------------------------------------------------------- */

/* Forgets the gateway and re-applies everything.  One rediscovery at a time;
 * during an outage (and for connection failures, always) at most one per
 * retry interval.  urgent: the gateway itself said it is gone, or our LAN
 * address changed, so the first rediscovery goes at once.  Returns true if
 * it happened. */
static bool rediscover(ethp2p_portmap *pm, ethp2p_time now, const char *reason, bool urgent) {
  if (!running(pm) || pm->gw == GW_REDISCOVERING)
    return false;
  if ((!urgent || pm->gw != GW_UP) && pm->rediscovered_once &&
      now < pm->last_rediscover + pm->cfg.retry)
    return false;
  pm->rediscovered_once = true;
  pm->last_rediscover = now;
  pm->conn_failures = 0;
  pm->disc_gen++;
  ethp2p_log(ETHP2P_LOG_WARN, PM_MODULE, "Rediscovering the NAT gateway",
             "interface=%s reason=\"%s\"", pm->nat->name, reason);
  gw_to(pm, GW_REDISCOVERING, reason);
  ethp2p_nat_rediscover(pm->nat);
  refresh_all_now(pm, now);
  if (polls_extip(pm))
    ethp2p_alarm_schedule(&pm->extip, now);
  return true;
}

/* Accounts the status of every finished NAT request (op NULL: a synchronous
 * refusal): consecutive connection failures lead to rediscovery, any answer
 * resets them and ends an outage, ETHP2P_EADDRCHANGED rediscovers at once. */
static void note_status(ethp2p_portmap *pm, const pm_op *op, int status, ethp2p_time now) {
  unsigned need = pm->cfg.rediscover_after;
  if (stopping(pm))
    return;
  if (ethp2p_nat_is_conn_failure(status)) {
    pm->conn_failures++;
    if (pm->gw == GW_REDISCOVERING && (op == NULL || op->disc_gen == pm->disc_gen))
      gw_to(pm, GW_LOST, "no answer after rediscovery");
    if (need != 0 && pm->conn_failures >= need)
      (void)rediscover(pm, now, "connection failures", false);
    return;
  }
  pm->conn_failures = 0;
  if (status == ETHP2P_EADDRCHANGED) {
    if (pm->gw == GW_REDISCOVERING && (op == NULL || op->disc_gen == pm->disc_gen))
      gw_to(pm, GW_LOST, "address still refused");
    (void)rediscover(pm, now, "local address changed", true);
    return;
  }
  if (pm->gw != GW_UP)
    gw_to(pm, GW_UP, "request answered");
}

/* ---- external address ------------------------------------------------------ */

/* A new address from a poll, an announcement or a map result. */
static void extip_result(ethp2p_portmap *pm, const ethp2p_addr *ip, const char *how,
                         ethp2p_time now) {
  char text[ETHP2P_ADDRSTRLEN];
  bool had = pm->reported_ip.family != 0;
  ethp2p_addr a = *ip;

  a.port = 0;
  if (had && ethp2p_addr_equal(&pm->reported_ip, &a, false))
    return;
  pm->reported_ip = a;
  ethp2p_addr_format(&a, false, text, sizeof text);
  if (!is_public(&a) && !pm->cfg.allow_private_extip) {
    ethp2p_log(ETHP2P_LOG_WARN, PM_MODULE,
               "Gateway reports a non-public external address; not advertising it",
               "ip=%s kind=%s interface=%s via=%s", text,
               ethp2p_addr_is_cgnat(&a) ? "cgnat" : "private", pm->nat->name, how);
    emit_addr(pm, ETHP2P_PORTMAP_EV_EXTIP_PRIVATE, &a,
              ethp2p_addr_is_cgnat(&a) ? "carrier-grade NAT address" : "private address");
    sink_ip(pm, NULL);
  } else {
    ethp2p_log(had ? ETHP2P_LOG_INFO : ETHP2P_LOG_DEBUG, PM_MODULE, "External IP changed",
               "ip=%s interface=%s via=%s", text, pm->nat->name, how);
    emit_addr(pm, ETHP2P_PORTMAP_EV_EXTIP_CHANGED, &a, how);
    sink_ip(pm, &a);
  }
  /* A different address may mean a different network: refresh every mapping
   * now (the first address needs no refresh, the first adds are under way). */
  if (had && running(pm) && can_map(pm))
    refresh_all_now(pm, now);
}

/* The operator's static address (ETHP2P_NAT_CAP_STATIC_IP): honoured as given. */
static void static_ip(ethp2p_portmap *pm, const ethp2p_addr *ip) {
  char text[ETHP2P_ADDRSTRLEN];
  ethp2p_addr a = *ip;
  a.port = 0;
  if (pm->reported_ip.family != 0 && ethp2p_addr_equal(&pm->reported_ip, &a, false))
    return;
  pm->reported_ip = a;
  ethp2p_addr_format(&a, false, text, sizeof text);
  if (!is_public(&a))
    ethp2p_log(ETHP2P_LOG_WARN, PM_MODULE, "Static external IP is not a public address", "ip=%s",
               text);
  ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE, "Using static external IP", "ip=%s", text);
  emit_addr(pm, ETHP2P_PORTMAP_EV_EXTIP_CHANGED, &a, "static");
  sink_ip(pm, &a);
}

/* ---- mappings ------------------------------------------------------------- */

static void add_cb(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data);
static void delete_cb(ethp2p_nat *nat, int status, void *data);

/* Fire-and-forget delete of a port the loop holds and no longer wants (or a
 * shutdown delete when for_stop).  Returns true if a request went out. */
static bool delete_start(ethp2p_portmap *pm, ethp2p_proto proto, uint16_t ext_port,
                         uint16_t internal_port, bool for_stop) {
  pm_op *op;
  int rc;
  if (ext_port == 0)
    return false;
  op = op_new(pm, OP_DELETE, -1);
  if (op == NULL)
    return false;
  op->for_stop = for_stop;
  rc = ethp2p_nat_delete_mapping(pm->nat, proto, ext_port, internal_port, delete_cb, op);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, PM_MODULE, "Couldn't delete port mapping",
               "proto=%s extport=%u intport=%u err=\"%s\"", ethp2p_proto_name(proto), ext_port,
               internal_port, ethp2p_strerror(rc));
    op_free(op);
    return false;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, PM_MODULE, "Deleting port mapping",
             "proto=%s extport=%u intport=%u interface=%s", ethp2p_proto_name(proto), ext_port,
             internal_port, pm->nat->name);
  return true;
}

/* How long after a grant to renew it.  The protocol's own rule when it has one
 * (RFC 6886 §3.3, RFC 6887 §11.2.1); else the configured cadence, or half the
 * grant when the router granted less than asked (or a timed lease where a
 * permanent one was asked), or half the grant (not sooner than the cadence)
 * of the automatic long lease.  Always before the lease ends. */
static ethp2p_time renew_in(const ethp2p_portmap *pm, const ethp2p_nat_map_result *res,
                            const pm_op *op) {
  uint32_t asked_s = op->lifetime_s;
  ethp2p_time life, next;
  if (res->lifetime_s == 0)
    return pm->cfg.refresh; /* permanent: the cadence only checks it is still there */
  life = (ethp2p_time)res->lifetime_s * ETHP2P_SEC;
  if (res->renew_after_ms != 0) {
    next = (ethp2p_time)res->renew_after_ms * ETHP2P_MSEC;
  } else {
    next = pm->cfg.refresh;
    if ((asked_s == 0 || res->lifetime_s < asked_s) && life / 2 < next)
      next = life / 2;
    else if (op->long_lease && life / 2 > next)
      next = life / 2;
  }
  if (next < PM_MIN_REFRESH)
    next = PM_MIN_REFRESH;
  if (next >= life)
    next = life / 2; /* whatever was granted, renew before it ends */
  return next;
}

/* An add or refresh failed (res->status != 0, or a port 0 was granted). */
static void map_failed(ethp2p_portmap *pm, pm_slot *m, const ethp2p_nat_map_result *res,
                       uint32_t asked_lifetime, const pm_op *op, ethp2p_time now) {
  ethp2p_portmap_event ev;
  int status = res->status != 0 ? res->status : ETHP2P_EPROTO;

  if (status == ETHP2P_EPERMANENT && !m->permanent && asked_lifetime != 0) {
    /* Ask again at once for a permanent lease, and keep asking for permanent
     * ones so a refresh is one request, not two. */
    m->permanent = true;
    m->next = now;
    ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE, "Router only grants permanent leases",
               "proto=%s intport=%u interface=%s code=%d", ethp2p_proto_name(m->proto),
               m->internal_port, pm->nat->name, res->router_code);
    note_status(pm, op, 0, now); /* the router answered */
    return;
  }
  m->failures++;
  m->failed++;
  memset(&ev, 0, sizeof ev);
  ev.type = ETHP2P_PORTMAP_EV_MAPPING_FAILED;
  ev.proto = m->proto;
  ev.internal_port = m->internal_port;
  ev.external_port = m->ext_port;
  ev.failures = m->failures;
  ev.status = status;
  ev.router_code = res->router_code;
  ev.reason = m->ext_port != 0 ? "refresh failed" : "add failed";
  ethp2p_log(ETHP2P_LOG_DEBUG, PM_MODULE,
             m->ext_port != 0 ? "Couldn't refresh port mapping" : "Couldn't add port mapping",
             "proto=%s extport=%u intport=%u interface=%s err=\"%s\" code=%d msg=\"%s\"",
             ethp2p_proto_name(m->proto), m->ext_port, m->internal_port, pm->nat->name,
             ethp2p_strerror(status), res->router_code, res->router_msg);
  emit(pm, &ev);

  if (m->state == SLOT_MAPPED && m->expires != 0 && now >= m->expires)
    slot_to(pm, m, SLOT_UNMAPPED, m->ext_port, "lease expired");
  if (m->ext_port != 0) {
    /* A failed refresh need not mean the mapping is gone (the lease outlives
     * the retry); keep the port as our best chance, and give it up only after
     * max_failures in a row.  The record keeps the last port either way. */
    m->refresh_failures++;
    if (pm->cfg.max_failures != 0 && m->refresh_failures >= pm->cfg.max_failures) {
      uint16_t old = m->ext_port;
      /* Delete it only while its lease runs: an expired port may be another
       * host's by now. */
      if (m->state == SLOT_MAPPED)
        delete_start(pm, m->proto, old, m->internal_port, false);
      m->ext_port = 0;
      m->refresh_failures = 0;
      ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE, "Giving up external port",
                 "proto=%s extport=%u intport=%u interface=%s", ethp2p_proto_name(m->proto), old,
                 m->internal_port, pm->nat->name);
      if (m->state == SLOT_MAPPED)
        slot_to(pm, m, SLOT_UNMAPPED, old, "given up");
      else
        emit_mapping(pm, ETHP2P_PORTMAP_EV_MAPPING_LOST, m, old, "given up");
    }
  }
  if (m->state == SLOT_MAPPED && m->expires != 0) {
    /* Retry before the lease ends (RFC 6886 §3.3, RFC 6887 §11.2.1): at half
     * the time left, within [PM_MIN_RETRY, retry]. */
    ethp2p_time wait = (m->expires - now) / 2;
    if (wait < PM_MIN_RETRY)
      wait = PM_MIN_RETRY;
    if (wait > pm->cfg.retry)
      wait = pm->cfg.retry;
    m->next = now + wait;
  } else {
    m->next = now + pm->cfg.retry;
  }
  note_status(pm, op, status, now);
}

static void map_succeeded(ethp2p_portmap *pm, pm_slot *m, const ethp2p_nat_map_result *res,
                          const pm_op *op, ethp2p_time now) {
  ethp2p_portmap_event ev;
  uint16_t old = m->ext_port;
  bool was_mapped = m->state == SLOT_MAPPED;
  bool moved = old != res->external_port;
  /* The old port is ours while its grant runs (permanent, or lease not over). */
  bool old_ours = was_mapped && (m->expires == 0 || m->expires > now);

  note_status(pm, op, 0, now);
  /* The reply may carry the external address (PCP MAP): a gateway that
   * cannot be polled still reports it, and a change is seen at once. */
  if (addr_known(&res->external_ip) && (pm->nat->caps & ETHP2P_NAT_CAP_STATIC_IP) == 0)
    extip_result(pm, &res->external_ip, "mapping", now);

  m->failures = 0;
  m->refresh_failures = 0;
  m->ext_port = res->external_port;
  if (res->lifetime_s == 0) {
    m->permanent = true; /* granted permanent: keep asking for that */
    m->expires = 0;
  } else {
    m->expires = now + (ethp2p_time)res->lifetime_s * ETHP2P_SEC;
  }
  m->next = now + renew_in(pm, res, op);
  m->long_lease = op->long_lease && res->lifetime_s != 0;
  if (m->long_lease && pm->poll_blind && m->next > now + ETHP2P_PORTMAP_LEASE / 2)
    m->next = now + ETHP2P_PORTMAP_LEASE / 2; /* asked before the poll said it is blind */
  slot_to(pm, m, SLOT_MAPPED, old, NULL);

  if (was_mapped && old != 0 && moved) {
    /* A renewal of `old` was granted another port.  Where deletes go by
     * internal port (ETHP2P_NAT_CAP_DELETES_BY_INTERNAL: NAT-PMP, PCP) the
     * new grant replaced the old one, and a delete would remove the new
     * one: left alone.  Where they go by external port (UPnP) the old port
     * is deleted if it is still ours (its grant to us runs: a router that
     * treats every add as new, permanent-only ones included, would pile up
     * leftovers); a port whose lease ran out may be another host's by now.
     * Re-adding on every poll would only make such a router churn faster. */
    bool by_internal = (pm->nat->caps & ETHP2P_NAT_CAP_DELETES_BY_INTERNAL) != 0;
    ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE, "Renewal granted a different port",
               "proto=%s old=%u new=%u intport=%u interface=%s delete_old=%d",
               ethp2p_proto_name(m->proto), old, m->ext_port, m->internal_port, pm->nat->name,
               !by_internal && old_ours);
    if (!by_internal && old_ours)
      delete_start(pm, m->proto, old, m->internal_port, false);
    if (poll_refreshes(pm)) {
      pm->renews_move = true;
      ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE,
                 "Router does not renew mappings in place; refreshing on the normal cadence",
                 "interface=%s", pm->nat->name);
    }
  }
  memset(&ev, 0, sizeof ev);
  ev.proto = m->proto;
  ev.internal_port = m->internal_port;
  ev.external_port = m->ext_port;
  ev.old_external_port = old;
  ev.lifetime_s = res->lifetime_s;
  if (moved || !was_mapped) {
    m->added++;
    ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE,
               m->ext_port != m->internal_port ? "NAT mapped alternative port" : "NAT mapped port",
               "proto=%s extport=%u intport=%u lifetime=%" PRIu32 " interface=%s",
               ethp2p_proto_name(m->proto), m->ext_port, m->internal_port, res->lifetime_s,
               pm->nat->name);
    ev.type = ETHP2P_PORTMAP_EV_MAPPING_ADDED;
    ev.reason = was_mapped ? "port changed" : "mapped";
  } else {
    m->renewed++;
    ethp2p_log(ETHP2P_LOG_TRACE, PM_MODULE, "NAT mapping renewed",
               "proto=%s extport=%u intport=%u lifetime=%" PRIu32, ethp2p_proto_name(m->proto),
               m->ext_port, m->internal_port, res->lifetime_s);
    ev.type = ETHP2P_PORTMAP_EV_MAPPING_RENEWED;
    ev.reason = "renewed";
  }
  emit(pm, &ev);
  /* (a re-registration may have reset the record: make sure it has the port) */
  sink_port(pm, m->proto, m->ext_port);
}

static void map_start(ethp2p_portmap *pm, int slot, ethp2p_time now) {
  pm_slot *m = &pm->slots[slot];
  uint16_t hint = m->ext_port != 0 ? m->ext_port : m->wanted_port;
  bool long_lease = false;
  ethp2p_time lease = lease_now(pm, &long_lease);
  uint32_t lifetime = m->permanent ? 0 : (uint32_t)(lease / ETHP2P_SEC);
  pm_op *op;
  int rc;

  if (!m->permanent && lifetime == 0)
    lifetime = 1;
  op = op_new(pm, OP_ADD, slot);
  if (op == NULL) {
    m->next = now + pm->cfg.retry;
    return;
  }
  op->lifetime_s = lifetime;
  op->long_lease = long_lease && !m->permanent;
  op->proto = m->proto;
  op->internal_port = m->internal_port;
  ethp2p_log(ETHP2P_LOG_TRACE, PM_MODULE, "Attempting port mapping",
             "proto=%s extport=%u intport=%u lifetime=%" PRIu32 " interface=%s",
             ethp2p_proto_name(m->proto), hint, m->internal_port, lifetime, pm->nat->name);
  req_to(m, REQ_OUT, now);
  rc = ethp2p_nat_add_mapping(pm->nat, m->proto, hint, m->internal_port, m->name, lifetime, add_cb,
                              op);
  if (rc != 0) {
    ethp2p_nat_map_result res;
    memset(&res, 0, sizeof res);
    res.status = rc;
    req_to(m, REQ_IDLE, now);
    map_failed(pm, m, &res, lifetime, op, now);
    op_free(op);
  }
}

static void add_cb(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  pm_op *op = data;
  ethp2p_portmap *pm = op->pm;
  pm_slot *m = &pm->slots[op->slot];
  ethp2p_time now = ethp2p_env_now(pm->env);
  bool ok = res->status == 0 && res->external_port != 0;
  bool current = m->state != SLOT_FREE && m->gen == op->gen;
  req_state req = m->req;
  (void)nat;

  if (!current || stopping(pm)) {
    /* The registration went away (or we are shutting down) while the request
     * was out: a port granted now is one nobody wants. */
    bool counted = pm->run == RUN_STOPPING;
    if (current)
      m->req = REQ_IDLE;
    if (ok && delete_start(pm, op->proto, res->external_port, op->internal_port, counted))
      pm->stop_pending += counted ? 1 : 0;
    op_free(op);
    return;
  }
  m->req = REQ_IDLE;
  if (ok)
    map_succeeded(pm, m, res, op, now);
  else
    map_failed(pm, m, res, op->lifetime_s, op, now);
  if (req == REQ_AGAIN || m->req == REQ_AGAIN) {
    m->req = REQ_IDLE;
    m->next = now;
  }
  op_free(op);
  reschedule(pm);
}

static void stop_finish(ethp2p_portmap *pm, int status) {
  ethp2p_portmap_event ev;
  if (pm->run != RUN_STOPPING)
    return;
  run_to(pm, RUN_STOPPED);
  if (pm->stop_timer != NULL)
    ethp2p_timer_stop(pm->stop_timer);
  ethp2p_log(status == 0 ? ETHP2P_LOG_DEBUG : ETHP2P_LOG_WARN, PM_MODULE,
             status == 0 ? "Port mappings deleted" : "Gave up waiting for mapping deletes",
             "interface=%s pending=%u", pm->nat->name, pm->stop_pending);
  memset(&ev, 0, sizeof ev);
  ev.type = ETHP2P_PORTMAP_EV_STOPPED;
  ev.status = status;
  ev.reason = status == 0 ? "deleted" : "bound passed";
  emit(pm, &ev);
  if (pm->stop_cb != NULL)
    pm->stop_cb(pm, status, pm->stop_data);
}

static void delete_cb(ethp2p_nat *nat, int status, void *data) {
  pm_op *op = data;
  ethp2p_portmap *pm = op->pm;
  bool for_stop = op->for_stop;
  (void)nat;
  if (status != 0)
    ethp2p_log(ETHP2P_LOG_DEBUG, PM_MODULE, "Couldn't delete port mapping", "err=\"%s\"",
               ethp2p_strerror(status));
  op_free(op);
  if (for_stop && pm->run == RUN_STOPPING && pm->stop_pending > 0) {
    pm->stop_pending--;
    if (pm->stop_pending == 0)
      stop_finish(pm, 0);
  }
}

static void stop_timer_cb(ethp2p_timer *t, void *data) {
  ethp2p_portmap *pm = data;
  (void)t;
  stop_finish(pm, pm->stop_pending == 0 ? 0 : ETHP2P_ETIMEDOUT);
}

static void refresh_cb(ethp2p_alarm *alarm, void *data) {
  ethp2p_portmap *pm = data;
  ethp2p_time now = ethp2p_env_now(pm->env);
  (void)alarm;
  if (!running(pm))
    return;
  for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
    pm_slot *m = &pm->slots[i];
    if ((m->state == SLOT_UNMAPPED || m->state == SLOT_MAPPED) && m->req == REQ_IDLE &&
        m->next <= now && running(pm))
      map_start(pm, i, now);
  }
  reschedule(pm);
}

/* ---- external address polls ------------------------------------------------ */

static void poll_answered(ethp2p_portmap *pm, const pm_op *op, ethp2p_time now) {
  if (pm->poll == POLL_FAILED) {
    /* the gateway answers again: mappings that failed meanwhile go now, not
     * at their next retry */
    for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
      pm_slot *m = &pm->slots[i];
      if ((m->state == SLOT_UNMAPPED || (m->state == SLOT_MAPPED && m->failures > 0)) &&
          m->req == REQ_IDLE && m->next > now)
        m->next = now;
    }
  }
  pm->poll = POLL_OK;
  note_status(pm, op, 0, now);
  if (poll_refreshes(pm)) {
    /* a NAT that cannot tell us it lost state is asked again each poll */
    for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
      pm_slot *m = &pm->slots[i];
      if (m->state == SLOT_MAPPED && m->req == REQ_IDLE && m->next > now)
        m->next = now;
    }
  }
}

/* Whether the poll tells the address.  When it stops telling, a grant of the
 * long lease is renewed within the short lease's half, so the address is
 * read from map results about as often as before. */
static void poll_blind(ethp2p_portmap *pm, bool blind, ethp2p_time now) {
  if (blind == pm->poll_blind)
    return;
  pm->poll_blind = blind;
  if (!blind || pm->cfg.lease != 0)
    return;
  ethp2p_log(ETHP2P_LOG_DEBUG, PM_MODULE, "Gateway does not tell its address; short leases",
             "interface=%s", pm->nat->name);
  for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
    pm_slot *m = &pm->slots[i];
    if (m->state == SLOT_MAPPED && m->long_lease && m->req == REQ_IDLE &&
        m->next > now + ETHP2P_PORTMAP_LEASE / 2)
      m->next = now + ETHP2P_PORTMAP_LEASE / 2;
  }
}

static void extip_cb(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  pm_op *op = data;
  ethp2p_portmap *pm = op->pm;
  ethp2p_time now = ethp2p_env_now(pm->env);
  (void)nat;

  pm->extip_in_flight = false;
  if (!running(pm)) {
    op_free(op);
    return;
  }
  if (status == 0 && ip != NULL && ip->family != 0 &&
      (pm->nat->caps & ETHP2P_NAT_CAP_STATIC_IP) != 0) {
    if (!ethp2p_addr_is_unspecified(ip))
      static_ip(pm, ip);
  } else if (status != 0 || ip == NULL || ip->family == 0) {
    int st = status != 0 ? status : ETHP2P_EPROTO;
    /* Keep the last good address: a lost reply says nothing about it. */
    ethp2p_log(ETHP2P_LOG_DEBUG, PM_MODULE, "Couldn't get external IP", "interface=%s err=\"%s\"",
               pm->nat->name, ethp2p_strerror(st));
    /* The gateway stopped answering (restart, moved HTTP port): like
     * go-ethereum, try the mappings now, so that the connection failures
     * that lead to rediscovery pile up within this poll, not over several.
     * Only on the first failed poll, so a long outage is not hammered. */
    if (pm->poll == POLL_OK && ethp2p_nat_is_conn_failure(st) && can_map(pm))
      refresh_all_now(pm, now);
    pm->poll = POLL_FAILED;
    note_status(pm, op, st, now);
  } else {
    poll_answered(pm, op, now);
    /* 0.0.0.0: the gateway answered but cannot tell its address before a
     * mapping exists (PCP only); the map results will carry it. */
    if (!ethp2p_addr_is_unspecified(ip))
      extip_result(pm, ip, "poll", now);
    poll_blind(pm, ethp2p_addr_is_unspecified(ip), now);
  }
  op_free(op);
  reschedule(pm);
}

static void extip_query(ethp2p_portmap *pm, ethp2p_time now) {
  pm_op *op;
  int rc;
  if (pm->extip_in_flight)
    return;
  op = op_new(pm, OP_EXTIP, -1);
  if (op == NULL)
    return;
  pm->extip_in_flight = true;
  rc = ethp2p_nat_external_ip(pm->nat, extip_cb, op);
  if (rc != 0) {
    pm->extip_in_flight = false;
    ethp2p_log(ETHP2P_LOG_DEBUG, PM_MODULE, "Couldn't get external IP", "interface=%s err=\"%s\"",
               pm->nat->name, ethp2p_strerror(rc));
    note_status(pm, op, rc, now);
    op_free(op);
    reschedule(pm);
  }
}

static void extip_alarm_cb(ethp2p_alarm *alarm, void *data) {
  ethp2p_portmap *pm = data;
  ethp2p_time now = ethp2p_env_now(pm->env);
  (void)alarm;

  if (!running(pm))
    return;
  if (polls_extip(pm))
    ethp2p_alarm_schedule(&pm->extip, now + pm->cfg.extip_interval);
  extip_query(pm, now);
}

static void nat_notify_cb(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip, void *data) {
  ethp2p_portmap *pm = data;
  ethp2p_time now = ethp2p_env_now(pm->env);
  (void)nat;

  if (!running(pm))
    return;
  switch (ev) {
  case ETHP2P_NAT_EV_STATE_LOST:
    ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE, "Gateway lost its mappings, mapping again",
               "interface=%s", pm->nat->name);
    all_lost(pm, "gateway lost state");
    if (can_map(pm))
      refresh_all_now(pm, now);
    if (polls_extip(pm))
      ethp2p_alarm_schedule(&pm->extip, now);
    break;
  case ETHP2P_NAT_EV_EXTIP_ANNOUNCED:
    if (addr_known(ip) && (pm->nat->caps & ETHP2P_NAT_CAP_STATIC_IP) == 0)
      extip_result(pm, ip, "announcement", now);
    break;
  case ETHP2P_NAT_EV_GATEWAY_GONE:
    ethp2p_log(ETHP2P_LOG_INFO, PM_MODULE, "Gateway gone, rediscovering", "interface=%s",
               pm->nat->name);
    all_lost(pm, "gateway gone");
    if (!rediscover(pm, now, "gateway gone", true) && can_map(pm))
      refresh_all_now(pm, now);
    break;
  }
  reschedule(pm);
}

/* ---- public API --------------------------------------------------------------- */

int ethp2p_portmap_create(ethp2p_env *env, ethp2p_nat *nat, const ethp2p_portmap_config *cfg,
                          const ethp2p_portmap_sink *sink, ethp2p_portmap **out) {
  ethp2p_portmap *pm;
  int rc;

  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || nat == NULL)
    return ETHP2P_EINVAL;
  pm = calloc(1, sizeof *pm);
  if (pm == NULL)
    return ETHP2P_ENOMEM;
  pm->env = env;
  pm->nat = nat;
  if (cfg != NULL)
    pm->cfg = *cfg;
  else
    ethp2p_portmap_config_default(&pm->cfg);
  if (pm->cfg.long_lease == 0)
    pm->cfg.long_lease = ETHP2P_PORTMAP_LONG_LEASE;
  {
    /* Every lease the loop may ask for must outlast its refresh. */
    ethp2p_time shortest = pm->cfg.lease != 0 ? pm->cfg.lease : ETHP2P_PORTMAP_LEASE;
    if (pm->cfg.lease == 0 && pm->cfg.long_lease < shortest)
      shortest = pm->cfg.long_lease;
    if (pm->cfg.refresh == 0 || pm->cfg.retry == 0 || pm->cfg.extip_interval == 0 ||
        shortest < ETHP2P_SEC || shortest <= pm->cfg.refresh) {
      ethp2p_log(ETHP2P_LOG_ERROR, PM_MODULE,
                 shortest > pm->cfg.refresh || shortest < ETHP2P_SEC
                     ? "Invalid port-mapping intervals"
                     : "Port-mapping lease must be longer than the refresh interval",
                 "lease_ms=%" PRIu64 " refresh_ms=%" PRIu64 " retry_ms=%" PRIu64
                 " extip_interval_ms=%" PRIu64,
                 shortest / ETHP2P_MSEC, pm->cfg.refresh / ETHP2P_MSEC, pm->cfg.retry / ETHP2P_MSEC,
                 pm->cfg.extip_interval / ETHP2P_MSEC);
      free(pm);
      return ETHP2P_EINVAL;
    }
  }
  if (sink != NULL)
    pm->sink = *sink;
  rc = ethp2p_alarm_init(&pm->refresh, env, refresh_cb, pm);
  if (rc != 0)
    goto out_free;
  rc = ethp2p_alarm_init(&pm->extip, env, extip_alarm_cb, pm);
  if (rc != 0)
    goto out_refresh;
  rc = ethp2p_timer_create(env, &pm->stop_timer, stop_timer_cb, pm);
  if (rc != 0)
    goto out_extip;
  if (pm->cfg.has_nonce_key) {
    /* PCP (directly or through any) derives its nonces from it; others say EUNSUPP. */
    (void)ethp2p_nat_set_pcp_nonce_key(nat, pm->cfg.nonce_key);
  }
  pm->next_sub_id = 1;
  *out = pm;
  return 0;

out_extip:
  ethp2p_alarm_close(&pm->extip);
out_refresh:
  ethp2p_alarm_close(&pm->refresh);
out_free:
  free(pm);
  return rc;
}

static void copy_name(pm_slot *m, const char *name) {
  size_t n;
  if (name == NULL)
    name = "ethp2p";
  n = strlen(name);
  if (n >= sizeof m->name)
    n = sizeof m->name - 1;
  memcpy(m->name, name, n);
  m->name[n] = 0;
}

int ethp2p_portmap_add(ethp2p_portmap *pm, ethp2p_proto proto, uint16_t internal_port,
                       uint16_t wanted_port, const char *name) {
  pm_slot *m = NULL;
  ethp2p_time now;

  if (pm == NULL || internal_port == 0 || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP))
    return ETHP2P_EINVAL;
  if (stopping(pm))
    return ETHP2P_ESTATE;
  for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++)
    if (pm->slots[i].state != SLOT_FREE && pm->slots[i].proto == proto)
      m = &pm->slots[i];
  if (m != NULL && m->internal_port == internal_port) {
    /* Same port again: only the wanted port and the description change. */
    m->wanted_port = wanted_port != 0 ? wanted_port : internal_port;
    copy_name(m, name);
    return 0;
  }
  if (m != NULL) {
    /* Replacing: the old registration's mapping goes, if it holds one. */
    if (m->state == SLOT_MAPPED)
      delete_start(pm, m->proto, m->ext_port, m->internal_port, false);
  } else {
    for (int i = 0; i < ETHP2P_PORTMAP_MAX && m == NULL; i++)
      if (pm->slots[i].state == SLOT_FREE)
        m = &pm->slots[i];
    if (m == NULL)
      return ETHP2P_ESPACE;
  }
  now = ethp2p_env_now(pm->env);
  {
    unsigned gen = m->gen + 1;
    memset(m, 0, sizeof *m);
    m->gen = gen;
  }
  m->proto = proto;
  m->internal_port = internal_port;
  m->wanted_port = wanted_port != 0 ? wanted_port : internal_port;
  copy_name(m, name);
  if (can_map(pm)) {
    m->state = SLOT_UNMAPPED;
    m->next = now;
  } else {
    m->state = SLOT_DRAINED; /* kept for listings, never mapped */
    m->next = PM_NEVER;
    ethp2p_log(ETHP2P_LOG_DEBUG, PM_MODULE, "Port mapping not possible with this NAT",
               "proto=%s intport=%u interface=%s", ethp2p_proto_name(proto), internal_port,
               pm->nat->name);
  }
  reschedule(pm);
  return 0;
}

int ethp2p_portmap_start(ethp2p_portmap *pm) {
  ethp2p_time now;
  if (pm == NULL)
    return ETHP2P_EINVAL;
  if (pm->run != RUN_CREATED)
    return ETHP2P_ESTATE;
  run_to(pm, RUN_RUNNING);
  now = ethp2p_env_now(pm->env);
  ethp2p_nat_set_notify(pm->nat, nat_notify_cb, pm);
  if (polls_extip(pm))
    ethp2p_alarm_schedule(&pm->extip, now);
  else if ((pm->nat->caps & ETHP2P_NAT_CAP_STATIC_IP) != 0) {
    /* A static-address NAT carries its address in its spec: honour it now,
     * so the very first record already has it (go-ethereum sets it at once).
     * Without one, ask once; the answer comes on the next turn. */
    if (pm->nat->spec.has_addr)
      static_ip(pm, &pm->nat->spec.addr);
    else
      extip_query(pm, now);
  }
  reschedule(pm);
  return 0;
}

int ethp2p_portmap_subscribe(ethp2p_portmap *pm, ethp2p_portmap_event_cb cb, void *data) {
  if (pm == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  for (size_t i = 0; i < ETHP2P_PORTMAP_MAX_SUBS; i++) {
    if (pm->subs[i].cb == NULL) {
      pm->subs[i].cb = cb;
      pm->subs[i].data = data;
      pm->subs[i].id = pm->next_sub_id++;
      return pm->subs[i].id;
    }
  }
  return ETHP2P_ESPACE;
}

void ethp2p_portmap_unsubscribe(ethp2p_portmap *pm, int id) {
  if (pm == NULL || id <= 0)
    return;
  for (size_t i = 0; i < ETHP2P_PORTMAP_MAX_SUBS; i++)
    if (pm->subs[i].cb != NULL && pm->subs[i].id == id)
      memset(&pm->subs[i], 0, sizeof pm->subs[i]);
}

size_t ethp2p_portmap_mappings(const ethp2p_portmap *pm, ethp2p_portmap_mapping *out, size_t cap) {
  size_t n = 0;
  if (pm == NULL)
    return 0;
  for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
    const pm_slot *m = &pm->slots[i];
    if (m->state == SLOT_FREE)
      continue;
    if (out != NULL && n < cap) {
      ethp2p_portmap_mapping *o = &out[n];
      memset(o, 0, sizeof *o);
      o->proto = m->proto;
      o->internal_port = m->internal_port;
      o->wanted_port = m->wanted_port;
      o->external_port = m->ext_port;
      o->state = (ethp2p_portmap_state)m->state;
      o->mapped = m->state == SLOT_MAPPED;
      o->permanent = m->permanent;
      o->in_flight = m->req != REQ_IDLE;
      o->failures = m->failures;
      o->expires = m->state == SLOT_MAPPED ? m->expires : 0;
      o->next_attempt = m->req != REQ_IDLE ? PM_NEVER : m->next;
      o->added = m->added;
      o->renewed = m->renewed;
      o->failed = m->failed;
      o->lost = m->lost;
      memcpy(o->name, m->name, sizeof o->name);
    }
    n++;
  }
  return n;
}

bool ethp2p_portmap_external_ip(const ethp2p_portmap *pm, ethp2p_addr *out) {
  if (out != NULL)
    memset(out, 0, sizeof *out);
  if (pm == NULL)
    return false;
  if (out != NULL)
    *out = pm->reported_ip;
  return pm->reported_ip.family != 0 &&
         ethp2p_addr_equal(&pm->reported_ip, &pm->advertised_ip, false);
}

ethp2p_nat *ethp2p_portmap_nat(const ethp2p_portmap *pm) {
  return pm != NULL ? pm->nat : NULL;
}

int ethp2p_portmap_stop(ethp2p_portmap *pm, ethp2p_time bound, ethp2p_portmap_stop_cb cb,
                        void *data) {
  ethp2p_time now;
  if (pm == NULL)
    return ETHP2P_EINVAL;
  if (stopping(pm))
    return ETHP2P_ESTATE;
  run_to(pm, RUN_STOPPING);
  pm->stop_cb = cb;
  pm->stop_data = data;
  ethp2p_alarm_stop(&pm->refresh);
  ethp2p_alarm_stop(&pm->extip);
  now = ethp2p_env_now(pm->env);
  for (int i = 0; i < ETHP2P_PORTMAP_MAX; i++) {
    pm_slot *m = &pm->slots[i];
    /* Every mapping we hold goes (a failed refresh does not mean the router
     * forgot it; an expired lease may be another host's port by now). */
    if (m->state == SLOT_MAPPED && delete_start(pm, m->proto, m->ext_port, m->internal_port, true))
      pm->stop_pending++;
  }
  ethp2p_timer_start(pm->stop_timer, pm->stop_pending == 0 ? now : now + bound);
  return 0;
}

void ethp2p_portmap_destroy(ethp2p_portmap *pm) {
  if (pm == NULL)
    return;
  ethp2p_alarm_close(&pm->refresh);
  ethp2p_alarm_close(&pm->extip);
  ethp2p_timer_destroy(pm->stop_timer);
  /* The NAT drops its pending callbacks; their ops are ours to free. */
  ethp2p_nat_set_notify(pm->nat, NULL, NULL);
  ethp2p_nat_destroy(pm->nat);
  while (pm->ops != NULL) {
    pm_op *op = pm->ops;
    pm->ops = op->next;
    free(op);
  }
  free(pm);
}
