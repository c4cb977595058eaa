/*
 * nat/doctor.c — the doctor's probing (ethp2p/doctor.h): the gateway
 * protocols through the node's NAT clients, a live test mapping on each,
 * the UPnP device details (what the UPnP client's own discovery found,
 * nat/doctor_upnp.c) and RFC 5780 behaviour
 * discovery, all bounded by budgets on the environment's clock.
 *
 * Timeline: every probe starts at once.  External-address questions get
 * ETHP2P_DOCTOR_GATEWAY_BUDGET; the UPnP device details get
 * ETHP2P_DOCTOR_SSDP_BUDGET even when the NAT clients finish early; the
 * mapping tests run one protocol at a time (they use the same ports); the
 * whole run ends by config.total_budget.  The completion callback always
 * runs from the doctor's own timer, never inside a probe's callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/doctor.h"
#include "nat/doctor_impl.h"

static const char *const gw_keys[ETHP2P_DOCTOR_NGW] = {"upnp", "natpmp", "pcp"};
static const char *const gw_labels[ETHP2P_DOCTOR_NGW] = {"UPnP IGD", "NAT-PMP", "PCP"};
static const ethp2p_nat_kind gw_kinds[ETHP2P_DOCTOR_NGW] = {ETHP2P_NAT_UPNP, ETHP2P_NAT_PMP,
                                                            ETHP2P_NAT_PCP};

/* ---- gateway protocols via the NAT clients ------------------------------------- */

static void gw_finish(ethp2p_doctor *d, int i) {
  if (d->gw[i].done)
    return;
  d->gw[i].done = true;
  if (i == ETHP2P_DOCTOR_UPNP)
    doctor_upnp_collect(d, d->gw[i].nat);
  ethp2p_nat_destroy(d->gw[i].nat);
  d->gw[i].nat = NULL;
}

static void mapping_next(ethp2p_doctor *d);
static void on_map_step(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data);
static void on_del_step(ethp2p_nat *nat, int status, void *data);

/* Steps per protocol: 0 add tcp, 1 confirm tcp, 2 delete tcp, 3 add udp, 4 confirm udp,
 * 5 delete udp, 6 done.  A failed add skips its confirm and delete. */
static void gw_step(ethp2p_doctor *d, int i) {
  doctor_gw_run *g = &d->gw[i];
  ethp2p_doctor_gateway *p = &d->r.gateways[i];
  uint16_t port = d->r.config.port;
  for (;;) {
    int rc;
    if (g->step >= 6 || g->done) {
      gw_finish(d, i);
      mapping_next(d);
      return;
    }
    int which = g->step < 3 ? ETHP2P_DOCTOR_TCP : ETHP2P_DOCTOR_UDP;
    ethp2p_proto pr = which == ETHP2P_DOCTOR_TCP ? ETHP2P_PROTO_TCP : ETHP2P_PROTO_UDP;
    ethp2p_doctor_map *m = &p->map[which];
    switch (g->step % 3) {
    case 0:
      m->tried = true;
      m->add_status = ETHP2P_DOCTOR_PENDING;
      rc = ethp2p_nat_add_mapping(g->nat, pr, port, port, "ethp2p doctor",
                                  ETHP2P_DOCTOR_TEST_LIFETIME, on_map_step, d);
      if (rc == 0)
        return;
      m->add_status = rc;
      g->step += 3;
      continue;
    case 1:
      m->confirm_status = ETHP2P_DOCTOR_PENDING;
      rc = ethp2p_nat_add_mapping(g->nat, pr, m->external_port, port, "ethp2p doctor",
                                  ETHP2P_DOCTOR_TEST_LIFETIME, on_map_step, d);
      if (rc == 0)
        return;
      m->confirm_status = rc;
      g->step++;
      continue;
    default:
      m->delete_status = ETHP2P_DOCTOR_PENDING;
      rc = ethp2p_nat_delete_mapping(g->nat, pr, m->external_port, port, on_del_step, d);
      if (rc == 0)
        return;
      m->delete_status = rc;
      g->step++;
      continue;
    }
  }
}

static int gw_of(ethp2p_doctor *d, ethp2p_nat *nat) {
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++)
    if (d->gw[i].nat == nat)
      return i;
  return -1;
}

/* The test mapping the current step of protocol i works on. */
static ethp2p_doctor_map *step_map(ethp2p_doctor *d, int i) {
  return &d->r.gateways[i].map[d->gw[i].step < 3 ? ETHP2P_DOCTOR_TCP : ETHP2P_DOCTOR_UDP];
}

/* A step answered: go on with the chain, then see whether the report is complete. */
static void step_done(ethp2p_doctor *d, int i, int advance) {
  d->gw[i].step += advance;
  gw_step(d, i);
  doctor_check_done(d);
}

static void on_map_step(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  ethp2p_doctor *d = data;
  int i = gw_of(d, nat);
  if (i < 0)
    return;
  ethp2p_doctor_map *m = step_map(d, i);
  if (d->gw[i].step % 3 == 0) {
    m->add_status = res->status;
    m->external_port = res->external_port;
    m->lifetime_s = res->lifetime_s;
    m->router_code = res->router_code;
    snprintf(m->router_msg, sizeof m->router_msg, "%s", res->router_msg);
    step_done(d, i, res->status == 0 ? 1 : 3);
  } else {
    m->confirm_status = res->status;
    m->confirmed = res->status == 0 && res->external_port == m->external_port;
    step_done(d, i, 1);
  }
}

static void on_del_step(ethp2p_nat *nat, int status, void *data) {
  ethp2p_doctor *d = data;
  int i = gw_of(d, nat);
  if (i < 0)
    return;
  ethp2p_doctor_map *m = step_map(d, i);
  m->delete_status = status;
  m->deleted = status == 0;
  step_done(d, i, 1);
}

/* Mapping tests run one protocol at a time (they use the same ports). */
static void mapping_next(ethp2p_doctor *d) {
  if (d->mapping_turn >= 0 && !d->gw[d->mapping_turn].done)
    return;
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    const ethp2p_doctor_gateway *p = &d->r.gateways[i];
    const doctor_gw_run *g = &d->gw[i];
    if (p->probed && !g->done && p->extip_status == 0 && g->nat != NULL &&
        (g->nat->caps & ETHP2P_NAT_CAP_MAP) != 0) {
      d->mapping_turn = i;
      gw_step(d, i);
      return;
    }
  }
}

static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  ethp2p_doctor *d = data;
  int i = gw_of(d, nat);
  if (i < 0)
    return;
  ethp2p_doctor_gateway *p = &d->r.gateways[i];
  p->extip_status = status;
  if (status == 0 && ip != NULL)
    p->extip = *ip;
  if (status != 0)
    gw_finish(d, i);
  mapping_next(d);
  doctor_check_done(d);
}

static void gw_start(ethp2p_doctor *d, int i) {
  ethp2p_doctor_gateway *p = &d->r.gateways[i];
  const ethp2p_nat_spec *want = &d->r.config.spec;
  ethp2p_nat_kind kind = gw_kinds[i];
  ethp2p_nat_spec spec;
  p->extip_status = ETHP2P_DOCTOR_PENDING;
  memset(&spec, 0, sizeof spec);
  spec.kind = kind;
  if ((kind == ETHP2P_NAT_PMP || kind == ETHP2P_NAT_PCP) && want->has_addr &&
      (want->kind == ETHP2P_NAT_PMP || want->kind == ETHP2P_NAT_PCP)) {
    spec.has_addr = true;
    spec.addr = want->addr;
  }
  p->probed = true;
  int rc = ethp2p_nat_create(d->env, &spec, &d->gw[i].nat);
  if (rc == 0)
    rc = ethp2p_nat_external_ip(d->gw[i].nat, on_extip, d);
  if (rc != 0) {
    p->extip_status = rc;
    gw_finish(d, i);
  }
}

/* ---- STUN behaviour ------------------------------------------------------------ */

static void on_natb(ethp2p_natb *nb, int status, const ethp2p_nat_profile *p, void *data) {
  ethp2p_doctor *d = data;
  (void)nb;
  d->r.stun_done = true;
  d->r.stun_status = status;
  d->r.profile = *p;
  doctor_check_done(d);
}

/* ---- the run ------------------------------------------------------------------- */

static bool all_done(const ethp2p_doctor *d) {
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++)
    if (d->r.gateways[i].probed && !d->gw[i].done)
      return false;
  if (d->natb != NULL && !d->r.stun_done)
    return false;
  return true;
}

/* Everything answered, and SSDP had its own window even when the NAT clients finished early. */
static bool can_finish(const ethp2p_doctor *d, ethp2p_time now) {
  return all_done(d) && (!d->r.upnp.probed || d->r.upnp.answered ||
                         now >= d->started_at + ETHP2P_DOCTOR_SSDP_BUDGET);
}

static void finish(ethp2p_doctor *d) {
  if (d->finished)
    return;
  d->finished = true;
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    ethp2p_doctor_gateway *p = &d->r.gateways[i];
    if (p->probed && !d->gw[i].done) {
      p->timed_out = true;
      if (p->extip_status == ETHP2P_DOCTOR_PENDING)
        p->extip_status = ETHP2P_ETIMEDOUT;
      gw_finish(d, i);
    }
  }
  if (d->natb != NULL && !d->r.stun_done) {
    ethp2p_natb_stop(d->natb);
    d->r.profile = *ethp2p_natb_profile(d->natb);
  }
  ethp2p_timer_stop(d->timer);
  if (d->cb != NULL)
    d->cb(d, d->cb_data);
}

void doctor_check_done(ethp2p_doctor *d) {
  ethp2p_time now = ethp2p_env_now(d->env);
  if (d->finished)
    return;
  if (can_finish(d, now))
    ethp2p_timer_start(d->timer, now); /* finish on the next turn, outside callbacks */
}

static void on_timer(ethp2p_timer *t, void *data) {
  ethp2p_doctor *d = data;
  ethp2p_time now = ethp2p_env_now(d->env);
  ethp2p_time t0 = d->started_at;
  (void)t;
  if (d->finished)
    return;
  if (now >= t0 + d->r.config.total_budget || can_finish(d, now)) {
    finish(d);
    return;
  }
  /* External-address questions that outlive their budget count as no answer. */
  if (now >= t0 + ETHP2P_DOCTOR_GATEWAY_BUDGET) {
    for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
      ethp2p_doctor_gateway *p = &d->r.gateways[i];
      if (p->probed && !d->gw[i].done && p->extip_status == ETHP2P_DOCTOR_PENDING) {
        p->timed_out = true;
        p->extip_status = ETHP2P_ETIMEDOUT;
        gw_finish(d, i);
      }
    }
    mapping_next(d);
  }
  ethp2p_time next = t0 + d->r.config.total_budget;
  if (now < t0 + ETHP2P_DOCTOR_GATEWAY_BUDGET)
    next = t0 + ETHP2P_DOCTOR_GATEWAY_BUDGET;
  else if (now < t0 + ETHP2P_DOCTOR_SSDP_BUDGET)
    next = t0 + ETHP2P_DOCTOR_SSDP_BUDGET;
  else if (all_done(d))
    next = now;
  ethp2p_timer_start(d->timer, next);
}

int ethp2p_doctor_create(ethp2p_env *env, const ethp2p_doctor_config *cfg, ethp2p_doctor **out) {
  ethp2p_doctor *d;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (env == NULL || cfg == NULL || out == NULL || cfg->port == 0 ||
      cfg->n_stun > ETHP2P_NATB_MAX_SERVERS)
    return ETHP2P_EINVAL;
  if ((d = calloc(1, sizeof *d)) == NULL)
    return ETHP2P_ENOMEM;
  d->env = env;
  d->r.config = *cfg;
  if (d->r.config.total_budget == 0)
    d->r.config.total_budget = ETHP2P_DOCTOR_TOTAL_BUDGET;
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    d->r.gateways[i].key = gw_keys[i];
    d->r.gateways[i].label = gw_labels[i];
  }
  d->mapping_turn = -1;
  if ((rc = ethp2p_timer_create(env, &d->timer, on_timer, d)) != 0) {
    free(d);
    return rc;
  }
  *out = d;
  return 0;
}

int ethp2p_doctor_start(ethp2p_doctor *d, ethp2p_doctor_done_cb cb, void *data) {
  ethp2p_env *env;
  const ethp2p_doctor_config *o;
  if (d == NULL || cb == NULL || d->started)
    return ETHP2P_EINVAL;
  env = d->env;
  o = &d->r.config;
  d->started = true;
  d->cb = cb;
  d->cb_data = data;
  d->started_at = ethp2p_env_now(env);
  if (ethp2p_env_interfaces(env, d->r.ifaces, ETHP2P_DOCTOR_MAX_IFACES, &d->r.n_ifaces) != 0)
    d->r.n_ifaces = 0;
  d->r.have_gw = ethp2p_env_default_gateway(env, &d->r.gw) == 0;

  ethp2p_nat_kind k = o->spec.kind;
  bool any = k == ETHP2P_NAT_ANY;
  if (any || k == ETHP2P_NAT_UPNP) {
    d->r.upnp.probed = true;
    gw_start(d, ETHP2P_DOCTOR_UPNP);
  }
  if (any || k == ETHP2P_NAT_PMP)
    gw_start(d, ETHP2P_DOCTOR_PMP);
  if (any || k == ETHP2P_NAT_PCP)
    gw_start(d, ETHP2P_DOCTOR_PCP);

  if (o->n_stun > 0) {
    ethp2p_natb_config nc;
    ethp2p_natb_config_default(&nc);
    memcpy(nc.servers, o->stun, o->n_stun * sizeof o->stun[0]);
    nc.n_servers = o->n_stun;
    nc.time_limit = ETHP2P_DOCTOR_STUN_BUDGET;
    if (ethp2p_natb_create(env, &nc, &d->natb) == 0 &&
        ethp2p_natb_start(d->natb, on_natb, d) != 0) {
      ethp2p_natb_destroy(d->natb);
      d->natb = NULL;
    }
  }
  ethp2p_timer_start(d->timer, d->started_at + ETHP2P_DOCTOR_GATEWAY_BUDGET);
  doctor_check_done(d); /* nothing to wait for (--nat none, no --stun): finish next turn */
  return 0;
}

void ethp2p_doctor_conclude(ethp2p_doctor *d) {
  if (d != NULL && d->started)
    finish(d);
}

bool ethp2p_doctor_finished(const ethp2p_doctor *d) {
  return d != NULL && d->finished;
}

const ethp2p_doctor_report *ethp2p_doctor_get_report(const ethp2p_doctor *d) {
  return d != NULL ? &d->r : NULL;
}

void ethp2p_doctor_destroy(ethp2p_doctor *d) {
  if (d == NULL)
    return;
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    ethp2p_nat_destroy(d->gw[i].nat);
    d->gw[i].nat = NULL;
  }
  ethp2p_natb_destroy(d->natb);
  ethp2p_timer_destroy(d->timer);
  free(d);
}
