/*
 * sim/nat.c — NAT boxes: address and port translation between an inside LAN
 * and an outside network, with the NATCracker policy triple.
 *
 * Terms (RFC 4787 §4): a binding maps an internal endpoint (X:x) to an
 * external port (the box's external address E, port e).
 *   mapping    (§4.1) which outbound flows share a binding:
 *              EI  one binding per X:x;  AD  per (X:x, Y);  APD  per (X:x, Y:y).
 *   filtering  (§5)   which inbound packets a binding admits:
 *              EI  anyone;  AD  hosts X:x sent to;  APD  endpoints X:x sent to.
 *   allocation        how e is chosen: preserve x, previous + 1, or random.
 * Every external port belongs to at most one binding or forward per protocol,
 * so inbound lookup is by (proto, e).  Bindings and their permissions are
 * refreshed by outbound packets only (RFC 4787 REQ-6 allows either) and
 * expire udp_timeout / tcp_timeout after the last one.  Expiry is checked on
 * every lookup, so behaviour is exact; a sweep event frees expired bindings
 * and traces them (possibly a little after their expiry time).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/observers.h"
#include "sim/sim_internal.h"

#define SIM_PERM_MAX 65536

typedef struct sim_perm {
  ethp2p_addr remote;
  ethp2p_time expires;
} sim_perm;

typedef struct sim_binding {
  struct sim_binding *next_out, *next_in;
  uint8_t proto;
  uint16_t ext_port;
  ethp2p_addr internal;
  ethp2p_addr remote_key;
  ethp2p_time expires;
  sim_perm *perms;
  uint32_t n_perms, cap_perms;
} sim_binding;

struct ethp2p_sim_nat {
  ethp2p_sim *sim;
  ethp2p_sim_host *host;
  ethp2p_sim_net *lan;
  ethp2p_sim_nat_config cfg;
  uint32_t reboots;
  sim_binding **out_b, **in_b;
  size_t n_buckets, n_bindings;
  uint16_t contig_next;
  ethp2p_sim_forward *fwd;
  size_t n_fwd, cap_fwd;
  sim_ev sweep_ev, fwd_ev;
  ethp2p_observers hooks; /* of ethp2p_sim_nat_hook */
};

sim_iface *sim_nat_outside(ethp2p_sim_nat *nat) {
  return &nat->host->ifaces[0];
}
sim_iface *sim_nat_inside(ethp2p_sim_nat *nat) {
  return &nat->host->ifaces[1];
}

static ethp2p_time timeout_of(const ethp2p_sim_nat *nat, uint8_t proto) {
  return proto == ETHP2P_SIM_TCP ? nat->cfg.tcp_timeout : nat->cfg.udp_timeout;
}

/* ---- hashing ------------------------------------------------------------------------- */
static inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  return x;
}

static size_t out_slot(const ethp2p_sim_nat *nat, uint8_t proto, const ethp2p_addr *internal,
                       const ethp2p_addr *remote_key) {
  uint64_t h =
      mix(sim_ep_key(internal) ^ ((uint64_t)proto << 59)) ^ mix(sim_ep_key(remote_key) + 1);
  return (size_t)mix(h) & (nat->n_buckets - 1);
}

static size_t in_slot(const ethp2p_sim_nat *nat, uint8_t proto, uint16_t port) {
  return (size_t)mix(((uint64_t)proto << 16) | port) & (nat->n_buckets - 1);
}

static int grow_tables(ethp2p_sim_nat *nat) {
  size_t nb = nat->n_buckets ? nat->n_buckets * 2 : 64, i;
  sim_binding **no = calloc(nb, sizeof(*no)), **ni = calloc(nb, sizeof(*ni));
  sim_binding **oo = nat->out_b, **oi = nat->in_b;
  size_t ob = nat->n_buckets;
  if (no == NULL || ni == NULL) {
    free(no);
    free(ni);
    return ETHP2P_ENOMEM;
  }
  nat->out_b = no;
  nat->in_b = ni;
  nat->n_buckets = nb;
  for (i = 0; i < ob; i++) {
    sim_binding *b = oo[i];
    while (b != NULL) {
      sim_binding *next = b->next_out;
      size_t s = out_slot(nat, b->proto, &b->internal, &b->remote_key);
      size_t t = in_slot(nat, b->proto, b->ext_port);
      b->next_out = no[s];
      no[s] = b;
      b->next_in = ni[t];
      ni[t] = b;
      b = next;
    }
  }
  free(oo);
  free(oi);
  return 0;
}

static void binding_unlink(ethp2p_sim_nat *nat, sim_binding *b) {
  sim_binding **pp;
  for (pp = &nat->out_b[out_slot(nat, b->proto, &b->internal, &b->remote_key)]; *pp != NULL;
       pp = &(*pp)->next_out)
    if (*pp == b) {
      *pp = b->next_out;
      break;
    }
  for (pp = &nat->in_b[in_slot(nat, b->proto, b->ext_port)]; *pp != NULL; pp = &(*pp)->next_in)
    if (*pp == b) {
      *pp = b->next_in;
      break;
    }
  nat->n_bindings--;
}

static void binding_free(sim_binding *b) {
  free(b->perms);
  free(b);
}

static void binding_expire(ethp2p_sim_nat *nat, sim_binding *b) {
  sim_trace(nat->sim, SIM_TR_BIND_EXPIRE, nat->host->id, sim_ep_key(&b->internal),
            sim_ep_key(&b->remote_key), ((uint64_t)b->proto << 16) | b->ext_port);
  binding_unlink(nat, b);
  binding_free(b);
}

static void clear_bindings(ethp2p_sim_nat *nat) {
  size_t i;
  for (i = 0; i < nat->n_buckets; i++) {
    sim_binding *b = nat->out_b[i];
    while (b != NULL) {
      sim_binding *next = b->next_out;
      binding_free(b);
      b = next;
    }
    nat->out_b[i] = NULL;
    nat->in_b[i] = NULL;
  }
  nat->n_bindings = 0;
  sim_unschedule(nat->sim, &nat->sweep_ev);
}

/* The live binding owning (proto, port) on the outside, expiring stale ones. */
static sim_binding *in_lookup(ethp2p_sim_nat *nat, uint8_t proto, uint16_t port) {
  sim_binding *b;
  if (nat->n_buckets == 0)
    return NULL;
  for (b = nat->in_b[in_slot(nat, proto, port)]; b != NULL; b = b->next_in) {
    if (b->proto == proto && b->ext_port == port) {
      if (b->expires <= nat->sim->now) {
        binding_expire(nat, b);
        return NULL;
      }
      return b;
    }
  }
  return NULL;
}

static sim_binding *out_lookup(ethp2p_sim_nat *nat, uint8_t proto, const ethp2p_addr *internal,
                               const ethp2p_addr *remote_key) {
  sim_binding *b;
  if (nat->n_buckets == 0)
    return NULL;
  for (b = nat->out_b[out_slot(nat, proto, internal, remote_key)]; b != NULL; b = b->next_out) {
    if (b->proto == proto && sim_ep_eq(&b->internal, internal) &&
        b->remote_key.family == remote_key->family && sim_ep_eq(&b->remote_key, remote_key)) {
      if (b->expires <= nat->sim->now) {
        binding_expire(nat, b);
        return NULL;
      }
      return b;
    }
  }
  return NULL;
}

/* ---- forwards ------------------------------------------------------------------------- */
static ethp2p_sim_forward *fwd_find(ethp2p_sim_nat *nat, uint8_t proto, uint16_t port) {
  size_t i;
  for (i = 0; i < nat->n_fwd; i++) {
    ethp2p_sim_forward *f = &nat->fwd[i];
    if (f->proto == proto && f->external_port == port)
      return (f->expires == 0 || f->expires > nat->sim->now) ? f : NULL;
  }
  return NULL;
}

static ethp2p_sim_forward *fwd_find_internal(ethp2p_sim_nat *nat, uint8_t proto,
                                             const ethp2p_addr *internal) {
  size_t i;
  for (i = 0; i < nat->n_fwd; i++) {
    ethp2p_sim_forward *f = &nat->fwd[i];
    if (f->proto == proto && sim_ep_eq(&f->internal, internal) &&
        (f->expires == 0 || f->expires > nat->sim->now))
      return f;
  }
  return NULL;
}

static void fwd_reschedule(ethp2p_sim_nat *nat) {
  ethp2p_time next = 0;
  size_t i;
  for (i = 0; i < nat->n_fwd; i++)
    if (nat->fwd[i].expires != 0 && (next == 0 || nat->fwd[i].expires < next))
      next = nat->fwd[i].expires;
  if (next == 0)
    sim_unschedule(nat->sim, &nat->fwd_ev);
  else
    sim_schedule(nat->sim, &nat->fwd_ev, next);
}

static void fwd_trace(ethp2p_sim_nat *nat, uint8_t kind, const ethp2p_sim_forward *f) {
  sim_trace(nat->sim, kind, nat->host->id, ((uint64_t)f->proto << 16) | f->external_port,
            sim_ep_key(&f->internal), f->expires);
}

static void fwd_expire_now(ethp2p_sim_nat *nat) {
  size_t i = 0;
  while (i < nat->n_fwd) {
    ethp2p_sim_forward *f = &nat->fwd[i];
    if (f->expires != 0 && f->expires <= nat->sim->now) {
      fwd_trace(nat, SIM_TR_FWD_EXPIRE, f);
      memmove(f, f + 1, (nat->n_fwd - i - 1) * sizeof(*f));
      nat->n_fwd--;
    } else {
      i++;
    }
  }
  fwd_reschedule(nat);
}

int ethp2p_sim_nat_forward_add(ethp2p_sim_nat *nat, const ethp2p_sim_forward *fwd) {
  size_t i;
  if (fwd == NULL || (fwd->proto != ETHP2P_SIM_UDP && fwd->proto != ETHP2P_SIM_TCP) ||
      fwd->external_port == 0 || fwd->internal.port == 0 ||
      (fwd->internal.family != 4 && fwd->internal.family != 6) ||
      (fwd->expires != 0 && fwd->expires <= nat->sim->now))
    return ETHP2P_EINVAL;
  fwd_expire_now(nat);
  for (i = 0; i < nat->n_fwd; i++) {
    ethp2p_sim_forward *f = &nat->fwd[i];
    if (f->proto == fwd->proto && f->external_port == fwd->external_port) {
      *f = *fwd;
      fwd_trace(nat, SIM_TR_FWD_ADD, f);
      fwd_reschedule(nat);
      return 0;
    }
    if (f->proto > fwd->proto || (f->proto == fwd->proto && f->external_port > fwd->external_port))
      break;
  }
  if (nat->n_fwd == nat->cap_fwd) {
    size_t ncap = nat->cap_fwd ? nat->cap_fwd * 2 : 8;
    ethp2p_sim_forward *nf = realloc(nat->fwd, ncap * sizeof(*nf));
    if (nf == NULL)
      return ETHP2P_ENOMEM;
    nat->fwd = nf;
    nat->cap_fwd = ncap;
  }
  memmove(&nat->fwd[i + 1], &nat->fwd[i], (nat->n_fwd - i) * sizeof(*nat->fwd));
  nat->fwd[i] = *fwd;
  nat->n_fwd++;
  fwd_trace(nat, SIM_TR_FWD_ADD, &nat->fwd[i]);
  fwd_reschedule(nat);
  return 0;
}

int ethp2p_sim_nat_forward_remove(ethp2p_sim_nat *nat, uint8_t proto, uint16_t external_port) {
  size_t i;
  fwd_expire_now(nat);
  for (i = 0; i < nat->n_fwd; i++) {
    ethp2p_sim_forward *f = &nat->fwd[i];
    if (f->proto == proto && f->external_port == external_port) {
      fwd_trace(nat, SIM_TR_FWD_REMOVE, f);
      memmove(f, f + 1, (nat->n_fwd - i - 1) * sizeof(*f));
      nat->n_fwd--;
      fwd_reschedule(nat);
      return 0;
    }
  }
  return ETHP2P_ENOTFOUND;
}

int ethp2p_sim_nat_forward_lookup(ethp2p_sim_nat *nat, uint8_t proto, uint16_t external_port,
                                  ethp2p_sim_forward *out) {
  ethp2p_sim_forward *f = fwd_find(nat, proto, external_port);
  if (f == NULL) {
    if (out != NULL)
      memset(out, 0, sizeof(*out));
    return ETHP2P_ENOTFOUND;
  }
  if (out != NULL)
    *out = *f;
  return 0;
}

size_t ethp2p_sim_nat_forward_list(ethp2p_sim_nat *nat, ethp2p_sim_forward *out, size_t cap) {
  size_t i, n = 0;
  for (i = 0; i < nat->n_fwd; i++) {
    const ethp2p_sim_forward *f = &nat->fwd[i];
    if (f->expires != 0 && f->expires <= nat->sim->now)
      continue;
    if (n < cap && out != NULL)
      out[n] = *f;
    n++;
  }
  return n;
}

/* ---- allocation ------------------------------------------------------------------------ */
bool sim_nat_port_taken(ethp2p_sim_nat *nat, uint8_t proto, uint16_t port) {
  return in_lookup(nat, proto, port) != NULL || fwd_find(nat, proto, port) != NULL;
}

static bool port_free(ethp2p_sim_nat *nat, uint8_t proto, uint16_t port) {
  if (port == 0 || sim_nat_port_taken(nat, proto, port))
    return false;
  /* The box's own sockets keep their ports. */
  return proto == ETHP2P_SIM_TCP ? !sim_tcp_port_used(nat->host, port)
                                 : !sim_udp_port_used(nat->host, port);
}

/* First free port at or after `from` in [1024, 65535], wrapping; 0 if none. */
static uint16_t scan_free(ethp2p_sim_nat *nat, uint8_t proto, uint32_t from) {
  uint32_t i;
  if (from < 1024 || from > 65535)
    from = 1024;
  for (i = 0; i < 65536 - 1024; i++) {
    uint32_t p = from + i;
    if (p > 65535)
      p -= 65536 - 1024;
    if (port_free(nat, proto, (uint16_t)p))
      return (uint16_t)p;
  }
  return 0;
}

static uint16_t allocate(ethp2p_sim_nat *nat, uint8_t proto, uint16_t internal_port) {
  uint16_t p;
  int tries;
  switch (nat->cfg.allocation) {
  case ETHP2P_NAT_ALLOC_PRESERVING:
    if (port_free(nat, proto, internal_port))
      return internal_port;
    return scan_free(nat, proto, (uint32_t)internal_port + 1);
  case ETHP2P_NAT_ALLOC_CONTIGUOUS:
    p = scan_free(nat, proto, nat->contig_next);
    if (p != 0)
      nat->contig_next = (uint16_t)(p == 65535 ? 1024 : p + 1);
    return p;
  case ETHP2P_NAT_ALLOC_RANDOM:
  default:
    for (tries = 0; tries < 64; tries++) {
      p = (uint16_t)(1024 + sim_rand_below(nat->sim, 65536 - 1024));
      if (port_free(nat, proto, p))
        return p;
    }
    return scan_free(nat, proto, (uint32_t)(1024 + sim_rand_below(nat->sim, 65536 - 1024)));
  }
}

static void sweep_schedule(ethp2p_sim_nat *nat, ethp2p_time at) {
  if (!sim_ev_queued(&nat->sweep_ev))
    sim_schedule(nat->sim, &nat->sweep_ev, at);
}

static ethp2p_addr remote_key_of(const ethp2p_sim_nat *nat, const ethp2p_addr *dst) {
  ethp2p_addr k;
  memset(&k, 0, sizeof(k));
  if (nat->cfg.mapping == ETHP2P_NAT_POLICY_AD) {
    k = *dst;
    k.port = 0;
  } else if (nat->cfg.mapping == ETHP2P_NAT_POLICY_APD) {
    k = *dst;
  }
  return k;
}

static sim_binding *binding_get(ethp2p_sim_nat *nat, uint8_t proto, const ethp2p_addr *internal,
                                const ethp2p_addr *dst) {
  ethp2p_addr rk = remote_key_of(nat, dst);
  sim_binding *b = out_lookup(nat, proto, internal, &rk);
  size_t s, t;
  uint16_t port;
  if (b != NULL)
    return b;
  if (nat->n_bindings + 1 > nat->n_buckets && grow_tables(nat) != 0 && nat->n_buckets == 0)
    return NULL;
  port = allocate(nat, proto, internal->port);
  if (port == 0)
    return NULL;
  b = calloc(1, sizeof(*b));
  if (b == NULL)
    return NULL;
  b->proto = proto;
  b->ext_port = port;
  b->internal = *internal;
  b->remote_key = rk;
  b->expires = nat->sim->now + timeout_of(nat, proto);
  s = out_slot(nat, proto, internal, &rk);
  t = in_slot(nat, proto, port);
  b->next_out = nat->out_b[s];
  nat->out_b[s] = b;
  b->next_in = nat->in_b[t];
  nat->in_b[t] = b;
  nat->n_bindings++;
  sim_trace(nat->sim, SIM_TR_BIND_NEW, nat->host->id, sim_ep_key(internal), sim_ep_key(&rk),
            ((uint64_t)proto << 16) | port);
  sweep_schedule(nat, b->expires);
  return b;
}

/* Records that the binding sent to `remote` (refreshing its permission). */
static void perm_touch(ethp2p_sim_nat *nat, sim_binding *b, const ethp2p_addr *remote,
                       ethp2p_time expires) {
  uint32_t i, j;
  for (i = 0; i < b->n_perms; i++) {
    if (sim_ep_eq(&b->perms[i].remote, remote)) {
      b->perms[i].expires = expires;
      return;
    }
  }
  if (b->n_perms == b->cap_perms) {
    /* Compact expired permissions before growing. */
    for (i = j = 0; i < b->n_perms; i++)
      if (b->perms[i].expires > nat->sim->now)
        b->perms[j++] = b->perms[i];
    b->n_perms = j;
  }
  if (b->n_perms == b->cap_perms) {
    uint32_t ncap = b->cap_perms ? b->cap_perms * 2 : 4;
    sim_perm *np;
    if (ncap > SIM_PERM_MAX) {
      /* Full: replace the permission closest to expiry. */
      uint32_t oldest = 0;
      for (i = 1; i < b->n_perms; i++)
        if (b->perms[i].expires < b->perms[oldest].expires)
          oldest = i;
      b->perms[oldest].remote = *remote;
      b->perms[oldest].expires = expires;
      return;
    }
    np = realloc(b->perms, ncap * sizeof(*np));
    if (np == NULL)
      return;
    b->perms = np;
    b->cap_perms = ncap;
  }
  b->perms[b->n_perms].remote = *remote;
  b->perms[b->n_perms].expires = expires;
  b->n_perms++;
}

static bool filter_admits(ethp2p_sim_nat *nat, const sim_binding *b, const ethp2p_addr *from) {
  uint32_t i;
  ethp2p_time now = nat->sim->now;
  if (nat->cfg.filtering == ETHP2P_NAT_POLICY_EI)
    return true;
  for (i = 0; i < b->n_perms; i++) {
    const sim_perm *p = &b->perms[i];
    if (p->expires <= now || !sim_ip_eq(&p->remote, from))
      continue;
    if (nat->cfg.filtering == ETHP2P_NAT_POLICY_AD || p->remote.port == from->port)
      return true;
  }
  return false;
}

/* ---- the data path ------------------------------------------------------------------ */
static void route_out(ethp2p_sim_nat *nat, sim_pkt *p) {
  sim_iface *ifc;
  ethp2p_addr nh;
  if (sim_host_route(nat->host, &p->dst, &ifc, &nh) != 0) {
    sim_drop(nat->sim, p, ETHP2P_SIM_DROP_NOT_ROUTED, nat->host->id);
    return;
  }
  sim_net_transmit(ifc, p, &nh);
}

void sim_nat_inbound(ethp2p_sim_nat *nat, sim_pkt *p) {
  ethp2p_sim *sim = nat->sim;
  ethp2p_sim_forward *f = fwd_find(nat, p->proto, p->dst.port);
  sim_binding *b;
  if (f != NULL) {
    p->dst = f->internal;
    sim_trace_pkt(sim, SIM_TR_NAT_IN, nat->host->id, p, 0);
    route_out(nat, p);
    return;
  }
  b = in_lookup(nat, p->proto, p->dst.port);
  if (b != NULL) {
    if (!filter_admits(nat, b, &p->src)) {
      sim_drop(sim, p, ETHP2P_SIM_DROP_FILTERED, nat->host->id);
      return;
    }
    p->dst = b->internal;
    sim_trace_pkt(sim, SIM_TR_NAT_IN, nat->host->id, p, 0);
    route_out(nat, p);
    return;
  }
  /* Not translated: for the box itself (its services on the outside address). */
  if (p->proto == ETHP2P_SIM_UDP) {
    if (sim_udp_deliver(nat->host, sim_nat_outside(nat), p) != 0)
      sim_drop(sim, p, ETHP2P_SIM_DROP_NO_BINDING, nat->host->id);
    return;
  }
  if ((p->tcp_flags & SIM_TCP_SYN) && !sim_tcp_port_used(nat->host, p->dst.port)) {
    /* Stealth: unsolicited SYNs are dropped, not refused. */
    sim_drop(sim, p, ETHP2P_SIM_DROP_NO_BINDING, nat->host->id);
    return;
  }
  sim_host_deliver_local(nat->host, sim_nat_outside(nat), p);
}

void sim_nat_outbound(ethp2p_sim_nat *nat, sim_pkt *p) {
  ethp2p_sim *sim = nat->sim;
  sim_iface *out = sim_nat_outside(nat);
  bool hairpin = sim_ip_eq(&p->dst, &out->addr);
  ethp2p_sim_forward *f;
  uint16_t ext_port;
  if (hairpin && fwd_find(nat, p->proto, p->dst.port) == NULL &&
      in_lookup(nat, p->proto, p->dst.port) == NULL) {
    /* For the box's own services on its outside address: no translation. */
    sim_host_deliver_local(nat->host, sim_nat_inside(nat), p);
    return;
  }
  if (hairpin && !nat->cfg.hairpin) {
    sim_drop(sim, p, ETHP2P_SIM_DROP_HAIRPIN, nat->host->id);
    return;
  }
  if (p->src.family != out->addr.family) {
    sim_drop(sim, p, ETHP2P_SIM_DROP_NOT_ROUTED, nat->host->id);
    return;
  }
  f = fwd_find_internal(nat, p->proto, &p->src);
  if (f != NULL) {
    ext_port = f->external_port;
  } else {
    sim_binding *b = binding_get(nat, p->proto, &p->src, &p->dst);
    ethp2p_time exp = sim->now + timeout_of(nat, p->proto);
    if (b == NULL) {
      sim_drop(sim, p, ETHP2P_SIM_DROP_NO_PORT, nat->host->id);
      return;
    }
    b->expires = exp;
    if (nat->cfg.filtering != ETHP2P_NAT_POLICY_EI)
      perm_touch(nat, b, &p->dst, exp);
    ext_port = b->ext_port;
  }
  p->src = out->addr;
  p->src.port = ext_port;
  sim_trace_pkt(sim, SIM_TR_NAT_OUT, nat->host->id, p, 0);
  if (hairpin) {
    sim_nat_inbound(nat, p);
    return;
  }
  route_out(nat, p);
}

/* ---- timed events ------------------------------------------------------------------- */
static void sweep(ethp2p_sim_nat *nat) {
  ethp2p_sim *sim = nat->sim;
  ethp2p_time next = 0, gap;
  size_t i;
  for (i = 0; i < nat->n_buckets; i++) {
    sim_binding *b = nat->out_b[i];
    while (b != NULL) {
      sim_binding *nb = b->next_out;
      if (b->expires <= sim->now)
        binding_expire(nat, b);
      else if (next == 0 || b->expires < next)
        next = b->expires;
      b = nb;
    }
  }
  if (next == 0)
    return;
  gap = nat->cfg.udp_timeout < nat->cfg.tcp_timeout ? nat->cfg.udp_timeout : nat->cfg.tcp_timeout;
  gap /= 8;
  if (next < sim->now + gap)
    next = sim->now + gap;
  sim_schedule(sim, &nat->sweep_ev, next);
}

void sim_nat_event(ethp2p_sim *sim, sim_ev *ev) {
  (void)sim;
  if (ev->kind == SIM_EV_NAT_SWEEP)
    sweep(SIM_CONTAINER(ev, ethp2p_sim_nat, sweep_ev));
  else
    fwd_expire_now(SIM_CONTAINER(ev, ethp2p_sim_nat, fwd_ev));
}

/* ---- creation and operations ------------------------------------------------------- */
ethp2p_sim_nat_config ethp2p_sim_nat_config_default(void) {
  ethp2p_sim_nat_config c;
  memset(&c, 0, sizeof(c));
  c.mapping = ETHP2P_NAT_POLICY_EI;
  c.filtering = ETHP2P_NAT_POLICY_APD;
  c.allocation = ETHP2P_NAT_ALLOC_PRESERVING;
  c.hairpin = true;
  return c;
}

static uint16_t random_contig_start(ethp2p_sim *sim) {
  return (uint16_t)(10000 + sim_rand_below(sim, 40000));
}

int ethp2p_sim_nat_create(ethp2p_sim *sim, ethp2p_sim_nat **out, const char *name,
                          const ethp2p_sim_nat_config *cfg) {
  ethp2p_sim_nat *nat;
  ethp2p_sim_nat_config c = cfg ? *cfg : ethp2p_sim_nat_config_default();
  ethp2p_sim_host *h;
  char lan_name[40];
  unsigned out_prefix;
  int rc;
  *out = NULL;
  /* A box has a behaviour: unknown (0) or out-of-range classes are refused. */
  if (c.mapping < ETHP2P_NAT_POLICY_EI || c.mapping > ETHP2P_NAT_POLICY_APD ||
      c.filtering < ETHP2P_NAT_POLICY_EI || c.filtering > ETHP2P_NAT_POLICY_APD ||
      c.allocation < ETHP2P_NAT_ALLOC_PRESERVING || c.allocation > ETHP2P_NAT_ALLOC_RANDOM)
    return ETHP2P_EINVAL;
  if (c.udp_timeout == 0)
    c.udp_timeout = 120 * ETHP2P_SEC;
  if (c.tcp_timeout == 0)
    c.tcp_timeout = 2 * ETHP2P_HOUR + 4 * ETHP2P_MIN;
  if (c.outside == NULL)
    c.outside = sim->internet;
  if (c.outside_addr.family == 0) {
    if (c.outside != sim->internet)
      return ETHP2P_EINVAL;
    c.outside_addr = sim_public_addr(sim);
  }
  out_prefix = c.outside == sim->internet ? 0 : (c.outside_prefix ? c.outside_prefix : 24);
  c.outside_prefix = out_prefix;
  if (c.inside_addr.family == 0) {
    memset(&c.inside_addr, 0, sizeof(c.inside_addr));
    c.inside_addr.family = 4;
    c.inside_addr.ip[0] = 192;
    c.inside_addr.ip[1] = 168;
    c.inside_addr.ip[2] = 1;
    c.inside_addr.ip[3] = 1;
  }
  if (c.inside_prefix == 0)
    c.inside_prefix = 24;
  c.outside_addr.port = 0;
  c.inside_addr.port = 0;
  nat = calloc(1, sizeof(*nat));
  if (nat == NULL)
    return ETHP2P_ENOMEM;
  ethp2p_observers_init(&nat->hooks, SIZE_MAX);
  nat->sim = sim;
  nat->cfg = c;
  sim_ev_init(&nat->sweep_ev, SIM_EV_NAT_SWEEP);
  sim_ev_init(&nat->fwd_ev, SIM_EV_NAT_FWD);
  nat->contig_next = random_contig_start(sim);
  rc = ethp2p_sim_host_create(sim, &h, name);
  if (rc != 0) {
    free(nat);
    return rc;
  }
  nat->host = h;
  h->nat = nat; /* from here on the host frees the box */
  snprintf(lan_name, sizeof(lan_name), "%s-lan", h->name);
  rc = ethp2p_sim_net_create(sim, &nat->lan, lan_name);
  if (rc != 0)
    return rc;
  rc = ethp2p_sim_host_add_iface(h, c.outside, &c.outside_addr, out_prefix);
  if (rc != 0)
    return rc;
  rc = ethp2p_sim_host_add_iface(h, nat->lan, &c.inside_addr, c.inside_prefix);
  if (rc != 0)
    return rc;
  if (c.outside_gateway.family != 0)
    ethp2p_sim_host_set_gateway(h, &c.outside_gateway);
  nat->lan->next_host_octet = c.inside_addr.family == 4 ? c.inside_addr.ip[3] + 1u : 2u;
  *out = nat;
  return 0;
}

void sim_nat_free(ethp2p_sim_nat *nat) {
  size_t i;
  for (i = 0; i < nat->n_buckets; i++) {
    sim_binding *b = nat->out_b[i];
    while (b != NULL) {
      sim_binding *next = b->next_out;
      binding_free(b);
      b = next;
    }
  }
  free(nat->out_b);
  free(nat->in_b);
  free(nat->fwd);
  ethp2p_observers_free(&nat->hooks);
  free(nat);
}

int ethp2p_sim_nat_add_host(ethp2p_sim_nat *nat, ethp2p_sim_host **out, const char *name,
                            const ethp2p_addr *addr) {
  ethp2p_addr a;
  ethp2p_sim_host *h;
  int rc;
  *out = NULL;
  if (addr != NULL && addr->family != 0) {
    a = *addr;
  } else {
    if (nat->cfg.inside_addr.family != 4 || nat->lan->next_host_octet > 254)
      return ETHP2P_ESPACE;
    a = nat->cfg.inside_addr;
    a.ip[3] = (uint8_t)nat->lan->next_host_octet++;
  }
  rc = ethp2p_sim_host_create(nat->sim, &h, name);
  if (rc != 0)
    return rc;
  rc = ethp2p_sim_host_add_iface(h, nat->lan, &a, nat->cfg.inside_prefix);
  if (rc != 0)
    return rc;
  ethp2p_sim_host_set_gateway(h, &nat->cfg.inside_addr);
  *out = h;
  return 0;
}

ethp2p_sim_host *ethp2p_sim_nat_host(ethp2p_sim_nat *nat) {
  return nat->host;
}
ethp2p_sim_net *ethp2p_sim_nat_lan(ethp2p_sim_nat *nat) {
  return nat->lan;
}
ethp2p_addr ethp2p_sim_nat_external_addr(const ethp2p_sim_nat *nat) {
  return nat->host->ifaces[0].addr;
}
ethp2p_addr ethp2p_sim_nat_inside_addr(const ethp2p_sim_nat *nat) {
  return nat->host->ifaces[1].addr;
}
const ethp2p_sim_nat_config *ethp2p_sim_nat_config_get(const ethp2p_sim_nat *nat) {
  return &nat->cfg;
}
void ethp2p_sim_nat_set_hairpin(ethp2p_sim_nat *nat, bool on) {
  nat->cfg.hairpin = on;
}
void ethp2p_sim_nat_set_timeouts(ethp2p_sim_nat *nat, ethp2p_time udp, ethp2p_time tcp) {
  if (udp != 0)
    nat->cfg.udp_timeout = udp;
  if (tcp != 0)
    nat->cfg.tcp_timeout = tcp;
}

size_t ethp2p_sim_nat_binding_count(ethp2p_sim_nat *nat) {
  size_t i, n = 0;
  for (i = 0; i < nat->n_buckets; i++) {
    sim_binding *b;
    for (b = nat->out_b[i]; b != NULL; b = b->next_out)
      if (b->expires > nat->sim->now)
        n++;
  }
  return n;
}

static void run_hooks(ethp2p_sim_nat *nat, ethp2p_sim_nat_event ev) {
  /* A hook may add or remove hooks (core/observers.h keeps the walk safe). */
  size_t n = ethp2p_observers_begin(&nat->hooks);
  for (size_t i = 0; i < n; i++) {
    const ethp2p_observer *o = ethp2p_observers_at(&nat->hooks, i);
    if (o != NULL)
      ((ethp2p_sim_nat_hook)o->fn)(nat, ev, o->data);
  }
  ethp2p_observers_end(&nat->hooks);
}

void ethp2p_sim_nat_reboot(ethp2p_sim_nat *nat) {
  size_t nf = nat->n_fwd, nb = nat->n_bindings;
  clear_bindings(nat);
  nat->n_fwd = 0;
  sim_unschedule(nat->sim, &nat->fwd_ev);
  nat->reboots++;
  nat->contig_next = random_contig_start(nat->sim);
  sim_trace(nat->sim, SIM_TR_NAT_REBOOT, nat->host->id, nat->reboots, nb, nf);
  run_hooks(nat, ETHP2P_SIM_NAT_REBOOTED);
}

int ethp2p_sim_nat_set_external_addr(ethp2p_sim_nat *nat, const ethp2p_addr *addr) {
  sim_iface *out = sim_nat_outside(nat);
  ethp2p_sim_net *net = out->net;
  size_t i;
  if (addr == NULL || addr->family != out->addr.family || sim_ip_unspec(addr) ||
      sim_ip_multicast(addr) || sim_ip_loopback(addr))
    return ETHP2P_EINVAL;
  for (i = 0; i < net->n_ifaces; i++)
    if (net->ifaces[i] != out && sim_ip_eq(&net->ifaces[i]->addr, addr))
      return ETHP2P_EEXIST;
  out->addr = *addr;
  out->addr.port = 0;
  nat->cfg.outside_addr = out->addr;
  sim_net_reindex(net);
  clear_bindings(nat);
  sim_trace(nat->sim, SIM_TR_NAT_EXTADDR, nat->host->id, sim_ep_key(&out->addr), 0, 0);
  run_hooks(nat, ETHP2P_SIM_NAT_EXTADDR_CHANGED);
  return 0;
}

void ethp2p_sim_nat_down(ethp2p_sim_nat *nat) {
  nat->host->up = false;
  sim_trace(nat->sim, SIM_TR_NAT_DOWN, nat->host->id, 0, 0, 0);
  run_hooks(nat, ETHP2P_SIM_NAT_WENT_DOWN);
}

void ethp2p_sim_nat_up(ethp2p_sim_nat *nat) {
  nat->host->up = true;
  sim_trace(nat->sim, SIM_TR_NAT_UP, nat->host->id, 0, 0, 0);
  run_hooks(nat, ETHP2P_SIM_NAT_CAME_UP);
}

bool ethp2p_sim_nat_is_up(const ethp2p_sim_nat *nat) {
  return nat->host->up;
}
uint32_t ethp2p_sim_nat_reboots(const ethp2p_sim_nat *nat) {
  return nat->reboots;
}

int ethp2p_sim_nat_hook_add(ethp2p_sim_nat *nat, ethp2p_sim_nat_hook cb, void *data) {
  return ethp2p_observers_add(&nat->hooks, (ethp2p_observer_fn)cb, data);
}

int ethp2p_sim_nat_hook_remove(ethp2p_sim_nat *nat, ethp2p_sim_nat_hook cb, void *data) {
  return ethp2p_observers_remove(&nat->hooks, (ethp2p_observer_fn)cb, data);
}
