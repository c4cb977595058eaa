/*
 * sim/net.c — networks, hosts, routing and the transport of packets.
 *
 * A packet crossing a network is one queued event: it is scheduled at
 * now + latency (+ jitter for datagrams) unless the link loses it (datagrams
 * only).  On arrival the network looks up the interface that owns the next-hop
 * address (an open-addressing index) and hands the packet to its host: local
 * sockets, or the NAT engine when the host is a box that routes it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim/sim_internal.h"

#define SIM_MAX_HOPS 16

/* ---- networks ------------------------------------------------------------------ */
int ethp2p_sim_net_create(ethp2p_sim *sim, ethp2p_sim_net **out, const char *name) {
  ethp2p_sim_net *net, **tail;
  *out = NULL;
  net = calloc(1, sizeof(*net));
  if (net == NULL)
    return ETHP2P_ENOMEM;
  net->sim = sim;
  net->id = ++sim->next_net_id;
  snprintf(net->name, sizeof(net->name), "%s", name ? name : "net");
  net->link.latency = ETHP2P_MSEC;
  net->next_host_octet = 2;
  /* Keep creation order (deterministic iteration). */
  for (tail = &sim->nets; *tail != NULL; tail = &(*tail)->next)
    ;
  *tail = net;
  *out = net;
  return 0;
}

ethp2p_sim_net *ethp2p_sim_internet(ethp2p_sim *sim) {
  return sim->internet;
}

int ethp2p_sim_net_set_link(ethp2p_sim_net *net, const ethp2p_sim_link *link) {
  if (!(link->loss >= 0.0 && link->loss <= 1.0))
    return ETHP2P_EINVAL;
  net->link = *link;
  net->lossy = link->loss > 0.0;
  if (link->loss >= 1.0)
    net->loss_threshold = UINT64_MAX;
  else
    net->loss_threshold = (uint64_t)(link->loss * 18446744073709551616.0);
  return 0;
}

ethp2p_sim_link ethp2p_sim_net_link(const ethp2p_sim_net *net) {
  return net->link;
}

void sim_net_free(ethp2p_sim_net *net) {
  free(net->ifaces);
  free(net->index);
  free(net);
}

static inline size_t addr_slot(const ethp2p_addr *a, size_t mask) {
  uint64_t k = sim_ep_key(a) * UINT64_C(0x9e3779b97f4a7c15);
  return (size_t)(k >> 32) & mask;
}

void sim_net_reindex(ethp2p_sim_net *net) {
  size_t cap = 16, i;
  sim_iface **idx;
  while (cap < net->n_ifaces * 2 + 2)
    cap *= 2;
  idx = calloc(cap, sizeof(*idx));
  if (idx == NULL)
    return; /* keep the old index; lookups fall back to a scan */
  for (i = 0; i < net->n_ifaces; i++) {
    sim_iface *f = net->ifaces[i];
    size_t s = addr_slot(&f->addr, cap - 1);
    while (idx[s] != NULL)
      s = (s + 1) & (cap - 1);
    idx[s] = f;
  }
  free(net->index);
  net->index = idx;
  net->index_cap = cap;
}

static sim_iface *net_find(ethp2p_sim_net *net, const ethp2p_addr *ip) {
  size_t s, i;
  if (net->index != NULL && net->index_cap >= net->n_ifaces * 2 + 2) {
    s = addr_slot(ip, net->index_cap - 1);
    while (net->index[s] != NULL) {
      if (sim_ip_eq(&net->index[s]->addr, ip))
        return net->index[s];
      s = (s + 1) & (net->index_cap - 1);
    }
    return NULL;
  }
  for (i = 0; i < net->n_ifaces; i++)
    if (sim_ip_eq(&net->ifaces[i]->addr, ip))
      return net->ifaces[i];
  return NULL;
}

/* ---- hosts ------------------------------------------------------------------------- */
int ethp2p_sim_host_create(ethp2p_sim *sim, ethp2p_sim_host **out, const char *name) {
  ethp2p_sim_host *h, **tail;
  *out = NULL;
  h = calloc(1, sizeof(*h));
  if (h == NULL)
    return ETHP2P_ENOMEM;
  h->sim = sim;
  h->id = ++sim->next_host_id;
  h->env.ops = &sim_env_ops;
  h->env.impl = h;
  h->up = true;
  snprintf(h->name, sizeof(h->name), "%s", name ? name : "host");
  for (tail = &sim->hosts; *tail != NULL; tail = &(*tail)->next)
    ;
  *tail = h;
  *out = h;
  return 0;
}

void sim_host_free(ethp2p_sim_host *h) {
  sim_host_free_handles(h);
  free(h);
}

int ethp2p_sim_host_add_iface(ethp2p_sim_host *h, ethp2p_sim_net *net, const ethp2p_addr *addr,
                              unsigned prefix_len) {
  sim_iface *f;
  if (addr == NULL || (addr->family != 4 && addr->family != 6) ||
      prefix_len > (addr->family == 4 ? 32u : 128u) || sim_ip_unspec(addr) ||
      sim_ip_multicast(addr) || sim_ip_loopback(addr))
    return ETHP2P_EINVAL;
  if (h->n_ifaces >= ETHP2P_SIM_MAX_IFACES)
    return ETHP2P_ESPACE;
  if (net_find(net, addr) != NULL)
    return ETHP2P_EEXIST;
  if (net->n_ifaces == net->cap_ifaces) {
    size_t ncap = net->cap_ifaces ? net->cap_ifaces * 2 : 8;
    sim_iface **nv = realloc(net->ifaces, ncap * sizeof(*nv));
    if (nv == NULL)
      return ETHP2P_ENOMEM;
    net->ifaces = nv;
    net->cap_ifaces = ncap;
  }
  f = &h->ifaces[h->n_ifaces];
  memset(f, 0, sizeof(*f));
  f->host = h;
  f->net = net;
  f->addr = *addr;
  f->addr.port = 0;
  f->prefix = (uint8_t)prefix_len;
  f->up = true;
  snprintf(f->name, sizeof(f->name), "eth%u", (unsigned)h->n_ifaces);
  h->n_ifaces++;
  net->ifaces[net->n_ifaces++] = f;
  sim_net_reindex(net);
  return 0;
}

void ethp2p_sim_host_set_gateway6(ethp2p_sim_host *h, const ethp2p_addr *gw) {
  if (gw == NULL || gw->family != 6) {
    h->has_gateway6 = false;
    memset(&h->gateway6, 0, sizeof(h->gateway6));
    return;
  }
  h->gateway6 = *gw;
  h->gateway6.port = 0;
  h->has_gateway6 = true;
}

void ethp2p_sim_host_set_gateway(ethp2p_sim_host *h, const ethp2p_addr *gw) {
  if (gw != NULL && gw->family == 6) {
    ethp2p_sim_host_set_gateway6(h, gw);
    return;
  }
  if (gw == NULL || gw->family == 0) {
    h->has_gateway = false;
    memset(&h->gateway, 0, sizeof(h->gateway));
    return;
  }
  h->gateway = *gw;
  h->gateway.port = 0;
  h->has_gateway = true;
}

void ethp2p_sim_host_set_up(ethp2p_sim_host *h, bool up) {
  h->up = up;
}
ethp2p_env *ethp2p_sim_host_env(ethp2p_sim_host *h) {
  return &h->env;
}
const char *ethp2p_sim_host_name(const ethp2p_sim_host *h) {
  return h->name;
}

ethp2p_addr ethp2p_sim_host_addr(const ethp2p_sim_host *h) {
  ethp2p_addr a;
  memset(&a, 0, sizeof(a));
  if (h->n_ifaces > 0)
    a = h->ifaces[0].addr;
  return a;
}

ethp2p_sim *ethp2p_sim_host_world(ethp2p_sim_host *h) {
  return h->sim;
}
ethp2p_sim_nat *ethp2p_sim_host_nat(ethp2p_sim_host *h) {
  return h->nat;
}

ethp2p_sim_host *ethp2p_sim_host_of(ethp2p_env *env) {
  if (env == NULL || env->ops != &sim_env_ops)
    return NULL;
  return env->impl;
}

ethp2p_addr sim_public_addr(ethp2p_sim *sim) {
  ethp2p_addr a;
  uint32_t n = ++sim->next_public;
  memset(&a, 0, sizeof(a));
  a.family = 4;
  a.ip[0] = 20;
  a.ip[1] = (uint8_t)(n >> 16);
  a.ip[2] = (uint8_t)(n >> 8);
  a.ip[3] = (uint8_t)n;
  return a;
}

int ethp2p_sim_host_create_public(ethp2p_sim *sim, ethp2p_sim_host **out, const char *name,
                                  const ethp2p_addr *addr) {
  ethp2p_sim_host *h;
  ethp2p_addr a;
  int rc;
  *out = NULL;
  if (addr != NULL && addr->family != 0) {
    a = *addr;
  } else {
    a = sim_public_addr(sim);
  }
  rc = ethp2p_sim_host_create(sim, &h, name);
  if (rc != 0)
    return rc;
  rc = ethp2p_sim_host_add_iface(h, sim->internet, &a, 0);
  if (rc != 0)
    return rc; /* the host stays in the world, unattached */
  *out = h;
  return 0;
}

bool sim_host_is_local(const ethp2p_sim_host *h, const ethp2p_addr *addr) {
  size_t i;
  if (sim_ip_loopback(addr))
    return true;
  for (i = 0; i < h->n_ifaces; i++)
    if (sim_ip_eq(&h->ifaces[i].addr, addr))
      return true;
  return false;
}

/* ---- routing ------------------------------------------------------------------------ */
int sim_host_route(ethp2p_sim_host *h, const ethp2p_addr *dst, sim_iface **ifc,
                   ethp2p_addr *nexthop) {
  sim_iface *best = NULL;
  size_t i;
  for (i = 0; i < h->n_ifaces; i++) {
    sim_iface *f = &h->ifaces[i];
    if (!f->up)
      continue;
    if (sim_ip_in_prefix(dst, &f->addr, f->prefix) && (best == NULL || f->prefix > best->prefix))
      best = f;
  }
  if (best != NULL) {
    *ifc = best;
    *nexthop = *dst;
    nexthop->port = 0;
    return 0;
  }
  {
    const ethp2p_addr *gw = dst->family == 6 ? &h->gateway6 : &h->gateway;
    bool has = dst->family == 6 ? h->has_gateway6 : h->has_gateway;
    if (has && dst->family == gw->family) {
      for (i = 0; i < h->n_ifaces; i++) {
        sim_iface *f = &h->ifaces[i];
        if (f->up && sim_ip_in_prefix(gw, &f->addr, f->prefix)) {
          *ifc = f;
          *nexthop = *gw;
          return 0;
        }
      }
    }
  }
  return ETHP2P_ENETUNREACH;
}

void sim_drop(ethp2p_sim *sim, sim_pkt *p, ethp2p_sim_drop reason, uint32_t host_id) {
  sim->drops[reason]++;
  sim_trace_pkt(sim, SIM_TR_DROP, host_id, p, reason);
  sim_pkt_put(sim, p);
}

void sim_net_transmit(sim_iface *from, sim_pkt *p, const ethp2p_addr *nexthop) {
  ethp2p_sim_net *net = from->net;
  ethp2p_sim *sim = net->sim;
  ethp2p_time delay = net->link.latency;
  p->host_from = from->host->id;
  sim_trace_pkt(sim, SIM_TR_SEND, from->host->id, p, 0);
  if (p->proto == ETHP2P_SIM_UDP) {
    if (net->lossy && sim_rand(sim) < net->loss_threshold) {
      sim_drop(sim, p, ETHP2P_SIM_DROP_LOSS, from->host->id);
      return;
    }
    if (net->link.jitter > 0)
      delay += sim_rand_below(sim, net->link.jitter + 1);
  }
  p->net = net;
  p->nexthop = *nexthop;
  sim_schedule(sim, &p->ev, sim->now + delay);
}

/* Copies p for every interface on the segment; p itself is consumed. */
static void multicast_out(ethp2p_sim_host *h, sim_iface *out, sim_pkt *p) {
  ethp2p_sim *sim = h->sim;
  ethp2p_sim_net *net = out->net;
  size_t i;
  for (i = 0; i < net->n_ifaces; i++) {
    sim_iface *f = net->ifaces[i];
    sim_pkt *c = sim_pkt_get(sim, p->len);
    if (c == NULL)
      break;
    memcpy(c->data, p->data, p->len);
    c->src = p->src;
    c->dst = p->dst;
    c->proto = p->proto;
    c->target = f;
    sim_net_transmit(out, c, &f->addr);
  }
  sim_pkt_put(sim, p);
}

static sim_iface *multicast_iface(ethp2p_sim_host *h, const ethp2p_addr *src) {
  size_t i;
  if (!sim_ip_unspec(src))
    for (i = 0; i < h->n_ifaces; i++)
      if (sim_ip_eq(&h->ifaces[i].addr, src))
        return h->ifaces[i].up ? &h->ifaces[i] : NULL;
  for (i = 0; i < h->n_ifaces; i++)
    if (h->ifaces[i].up && h->ifaces[i].addr.family == src->family)
      return &h->ifaces[i];
  for (i = 0; i < h->n_ifaces; i++)
    if (h->ifaces[i].up)
      return &h->ifaces[i];
  return NULL;
}

int sim_host_output(ethp2p_sim_host *h, sim_pkt *p) {
  ethp2p_sim *sim = h->sim;
  sim_iface *ifc;
  ethp2p_addr nh;
  if (sim_ip_multicast(&p->dst)) {
    /* src holds the chosen multicast interface address (or unspecified). */
    ifc = multicast_iface(h, &p->src);
    if (ifc == NULL) {
      sim_pkt_put(sim, p);
      return ETHP2P_ENETUNREACH;
    }
    if (sim_ip_unspec(&p->src)) {
      uint16_t port = p->src.port;
      p->src = ifc->addr;
      p->src.port = port;
    }
    if (!h->up) {
      sim_drop(sim, p, ETHP2P_SIM_DROP_HOST_DOWN, h->id);
      return 0;
    }
    multicast_out(h, ifc, p);
    return 0;
  }
  if (sim_host_is_local(h, &p->dst)) {
    if (sim_ip_unspec(&p->src)) {
      uint16_t port = p->src.port;
      p->src = p->dst;
      p->src.port = port;
    }
    p->net = NULL;
    p->local = h;
    p->host_from = h->id;
    sim_trace_pkt(sim, SIM_TR_SEND, h->id, p, 0);
    sim_schedule(sim, &p->ev, sim->now);
    return 0;
  }
  if (sim_host_route(h, &p->dst, &ifc, &nh) != 0) {
    sim_pkt_put(sim, p);
    return ETHP2P_ENETUNREACH;
  }
  if (sim_ip_unspec(&p->src)) {
    uint16_t port = p->src.port;
    p->src = ifc->addr;
    p->src.port = port;
  }
  if (!h->up) {
    sim_drop(sim, p, ETHP2P_SIM_DROP_HOST_DOWN, h->id);
    return 0;
  }
  sim_net_transmit(ifc, p, &nh);
  return 0;
}

/* ---- arrival ----------------------------------------------------------------------------- */
void sim_host_deliver_local(ethp2p_sim_host *h, sim_iface *ifc, sim_pkt *p) {
  ethp2p_sim *sim = h->sim;
  if (p->proto == ETHP2P_SIM_TCP) {
    sim_trace_pkt(sim, SIM_TR_DELIVER, h->id, p, 0);
    sim_tcp_arrive(h, p);
    sim_pkt_put(sim, p);
    return;
  }
  if (sim_udp_deliver(h, ifc, p) != 0)
    sim_drop(sim, p, ETHP2P_SIM_DROP_NO_SOCKET, h->id);
}

/* Is dst the outside address of a NAT box `h`? */
static bool is_box_external(ethp2p_sim_host *h, const ethp2p_addr *dst) {
  return h->nat != NULL && sim_ip_eq(&sim_nat_outside(h->nat)->addr, dst);
}

static void host_receive(ethp2p_sim_host *h, sim_iface *ifc, sim_pkt *p) {
  ethp2p_sim *sim = h->sim;
  if (!h->up || (ifc != NULL && !ifc->up)) {
    sim_drop(sim, p, ETHP2P_SIM_DROP_HOST_DOWN, h->id);
    return;
  }
  if (p->target != NULL && sim_ip_multicast(&p->dst)) {
    sim_udp_deliver_multicast(h, ifc, p);
    return;
  }
  if (h->nat != NULL && ifc != NULL) {
    if (ifc == sim_nat_outside(h->nat) && is_box_external(h, &p->dst)) {
      sim_nat_inbound(h->nat, p);
      return;
    }
    if (ifc == sim_nat_inside(h->nat) &&
        (is_box_external(h, &p->dst) || !sim_host_is_local(h, &p->dst))) {
      if (++p->hops > SIM_MAX_HOPS) {
        sim_drop(sim, p, ETHP2P_SIM_DROP_TTL, h->id);
        return;
      }
      sim_nat_outbound(h->nat, p);
      return;
    }
  }
  if (!sim_host_is_local(h, &p->dst)) {
    sim_drop(sim, p, ETHP2P_SIM_DROP_NOT_ROUTED, h->id);
    return;
  }
  sim_host_deliver_local(h, ifc, p);
}

void sim_packet_arrive(ethp2p_sim *sim, sim_pkt *p) {
  sim_iface *f;
  if (p->net == NULL) {
    /* Local delivery (own address or loopback). */
    ethp2p_sim_host *h = p->local;
    if (!h->up) {
      sim_drop(sim, p, ETHP2P_SIM_DROP_HOST_DOWN, h->id);
      return;
    }
    sim_host_deliver_local(h, NULL, p);
    return;
  }
  f = p->target != NULL ? p->target : net_find(p->net, &p->nexthop);
  if (f == NULL) {
    sim_drop(sim, p, ETHP2P_SIM_DROP_NO_HOST, p->host_from);
    return;
  }
  host_receive(f->host, f, p);
}
