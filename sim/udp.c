/*
 * sim/udp.c — UDP sockets of simulated hosts (env ops udp_*).
 *
 * Binding follows the usual socket rules: the address must be unspecified,
 * loopback, one of the host's addresses, or a multicast group (to receive
 * only that group); a port in use fails with EADDRINUSE unless every socket on
 * it set ETHP2P_UDP_REUSEADDR.  Port 0 draws an ephemeral port in
 * [32768, 60999] from the world's PRNG.  A unicast datagram goes to one socket
 * (an exact address match before a wildcard, then the oldest); a multicast
 * datagram to every socket on the port that joined the group.
 */
#include <stdlib.h>

#include "sim/sim_internal.h"

#define SIM_UDP_MAX 65507
#define SIM_MCAST_FANOUT 64

static sim_udp *udp_of(ethp2p_udp *u) {
  return (sim_udp *)(void *)u;
}

bool sim_udp_port_used(const ethp2p_sim_host *h, uint16_t port) {
  const sim_udp *s;
  for (s = h->udps; s != NULL; s = s->next)
    if (s->bind.port == port)
      return true;
  return false;
}

static int bind_conflict(ethp2p_sim_host *h, const ethp2p_addr *bind, unsigned flags) {
  sim_udp *s;
  for (s = h->udps; s != NULL; s = s->next) {
    if (s->bind.port != bind->port)
      continue;
    if ((flags & ETHP2P_UDP_REUSEADDR) && (s->flags & ETHP2P_UDP_REUSEADDR))
      continue;
    if (sim_ip_unspec(&s->bind) || sim_ip_unspec(bind) || sim_ip_eq(&s->bind, bind))
      return ETHP2P_EADDRINUSE;
  }
  return 0;
}

static int pick_port(ethp2p_sim_host *h, uint16_t *port) {
  int tries;
  for (tries = 0; tries < 1000; tries++) {
    uint16_t p = (uint16_t)(32768 + sim_rand_below(h->sim, 60999 - 32768 + 1));
    if (!sim_udp_port_used(h, p) && !(h->nat && sim_nat_port_taken(h->nat, ETHP2P_SIM_UDP, p))) {
      *port = p;
      return 0;
    }
  }
  return ETHP2P_EADDRINUSE;
}

int sim_udp_open(ethp2p_env *env, ethp2p_udp **out, const ethp2p_addr *bind, unsigned flags,
                 ethp2p_udp_recv_cb cb, void *data) {
  ethp2p_sim_host *h = env->impl;
  sim_udp *s, **tail;
  ethp2p_addr b;
  int rc;
  *out = NULL;
  if (cb == NULL)
    return ETHP2P_EINVAL;
  memset(&b, 0, sizeof(b));
  if (bind != NULL)
    b = *bind;
  if (b.family == 0)
    b.family = 4;
  if (b.family != 4 && b.family != 6)
    return ETHP2P_EINVAL;
  if (!sim_ip_unspec(&b) && !sim_ip_multicast(&b) && !sim_host_is_local(h, &b))
    return ETHP2P_EINVAL; /* EADDRNOTAVAIL */
  if (b.port == 0) {
    rc = pick_port(h, &b.port);
    if (rc != 0)
      return rc;
  } else if ((rc = bind_conflict(h, &b, flags)) != 0) {
    return rc;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return ETHP2P_ENOMEM;
  s->pub.env = env;
  s->pub.recv_cb = cb;
  s->pub.data = data;
  s->host = h;
  s->bind = b;
  s->flags = flags;
  s->ttl = 1;
  /* Append: the oldest socket wins unicast ties. */
  for (tail = &h->udps; *tail != NULL; tail = &(*tail)->next)
    ;
  *tail = s;
  *out = &s->pub;
  return 0;
}

int sim_udp_send(ethp2p_udp *u, const ethp2p_addr *to, const uint8_t *buf, size_t len) {
  sim_udp *s = udp_of(u);
  ethp2p_sim_host *h = s->host;
  sim_pkt *p;
  if (s->closed || to == NULL || (to->family != 4 && to->family != 6) || (len > 0 && buf == NULL))
    return ETHP2P_EINVAL;
  if (to->port == 0 || sim_ip_unspec(to))
    return ETHP2P_EINVAL;
  if (len > SIM_UDP_MAX)
    return ETHP2P_ETOOBIG;
  p = sim_pkt_get(h->sim, len);
  if (p == NULL)
    return ETHP2P_ENOMEM;
  if (len > 0)
    memcpy(p->data, buf, len);
  p->proto = ETHP2P_SIM_UDP;
  p->dst = *to;
  memset(&p->src, 0, sizeof(p->src));
  p->src.family = to->family;
  if (!sim_ip_unspec(&s->bind) && !sim_ip_multicast(&s->bind))
    p->src = s->bind;
  else if (sim_ip_multicast(to) && s->mcast_if.family != 0)
    p->src = s->mcast_if;
  p->src.port = s->bind.port;
  return sim_host_output(h, p);
}

static int group_index(const sim_udp *s, const ethp2p_addr *group, const ethp2p_addr *iface) {
  size_t i;
  for (i = 0; i < s->n_groups; i++) {
    const ethp2p_addr *g = &s->groups[2 * i], *f = &s->groups[2 * i + 1];
    bool same_if = (iface == NULL || iface->family == 0) ? f->family == 0
                                                         : (f->family != 0 && sim_ip_eq(f, iface));
    if (sim_ip_eq(g, group) && same_if)
      return (int)i;
  }
  return -1;
}

int sim_udp_join(ethp2p_udp *u, const ethp2p_addr *group, const ethp2p_addr *iface) {
  sim_udp *s = udp_of(u);
  if (s->closed || group == NULL || !sim_ip_multicast(group))
    return ETHP2P_EINVAL;
  if (iface != NULL && iface->family != 0 && !sim_host_is_local(s->host, iface))
    return ETHP2P_EINVAL;
  if (group_index(s, group, iface) >= 0)
    return ETHP2P_EEXIST;
  if (s->n_groups == s->cap_groups) {
    size_t ncap = s->cap_groups ? s->cap_groups * 2 : 2;
    ethp2p_addr *ng;
    if (ncap > 64)
      return ETHP2P_ESPACE;
    ng = realloc(s->groups, ncap * 2 * sizeof(*ng));
    if (ng == NULL)
      return ETHP2P_ENOMEM;
    s->groups = ng;
    s->cap_groups = ncap;
  }
  s->groups[2 * s->n_groups] = *group;
  s->groups[2 * s->n_groups].port = 0;
  memset(&s->groups[2 * s->n_groups + 1], 0, sizeof(ethp2p_addr));
  if (iface != NULL && iface->family != 0) {
    s->groups[2 * s->n_groups + 1] = *iface;
    s->groups[2 * s->n_groups + 1].port = 0;
  }
  s->n_groups++;
  return 0;
}

int sim_udp_leave(ethp2p_udp *u, const ethp2p_addr *group, const ethp2p_addr *iface) {
  sim_udp *s = udp_of(u);
  int i;
  if (s->closed || group == NULL || !sim_ip_multicast(group))
    return ETHP2P_EINVAL;
  i = group_index(s, group, iface);
  if (i < 0)
    return ETHP2P_ENOTFOUND;
  memmove(&s->groups[2 * i], &s->groups[2 * i + 2],
          (s->n_groups - (size_t)i - 1) * 2 * sizeof(ethp2p_addr));
  s->n_groups--;
  return 0;
}

int sim_udp_set_multicast(ethp2p_udp *u, const ethp2p_addr *iface, unsigned ttl) {
  sim_udp *s = udp_of(u);
  if (s->closed)
    return ETHP2P_EINVAL;
  if (iface != NULL && iface->family != 0) {
    if (!sim_host_is_local(s->host, iface))
      return ETHP2P_EINVAL;
    s->mcast_if = *iface;
    s->mcast_if.port = 0;
  } else {
    memset(&s->mcast_if, 0, sizeof(s->mcast_if));
  }
  s->ttl = ttl; /* recorded only: multicast never leaves the segment */
  return 0;
}

int sim_udp_local_addr(ethp2p_udp *u, ethp2p_addr *out) {
  sim_udp *s = udp_of(u);
  *out = s->bind;
  return 0;
}

void sim_udp_close(ethp2p_udp *u) {
  sim_udp *s = udp_of(u), **pp;
  ethp2p_sim_host *h = s->host;
  if (s->closed)
    return;
  s->closed = true;
  for (pp = &h->udps; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  }
  free(s->groups);
  s->groups = NULL;
  s->n_groups = 0;
  sim_defer_free(h->sim, s);
}

/* ---- delivery ----------------------------------------------------------------------- */
int sim_udp_deliver(ethp2p_sim_host *h, sim_iface *ifc, sim_pkt *p) {
  ethp2p_sim *sim = h->sim;
  sim_udp *s, *wild = NULL, *exact = NULL;
  (void)ifc;
  for (s = h->udps; s != NULL; s = s->next) {
    if (s->bind.port != p->dst.port)
      continue;
    if (sim_ip_unspec(&s->bind)) {
      if (wild == NULL && s->bind.family == p->dst.family)
        wild = s;
    } else if (sim_ip_eq(&s->bind, &p->dst)) {
      exact = s;
      break;
    }
  }
  s = exact != NULL ? exact : wild;
  if (s == NULL)
    return ETHP2P_ENOTFOUND;
  sim_trace_pkt(sim, SIM_TR_DELIVER, h->id, p, 0);
  s->pub.recv_cb(&s->pub, &p->src, p->data, p->len, s->pub.data);
  sim_pkt_put(sim, p);
  return 0;
}

static bool joined(const sim_udp *s, const ethp2p_addr *group, const sim_iface *ifc) {
  size_t i;
  /* 224.0.0.1 (all hosts, RFC 1112 §4) is joined by every host's kernel. */
  if (group->family == 4 && group->ip[0] == 224 && group->ip[1] == 0 && group->ip[2] == 0 &&
      group->ip[3] == 1 && sim_ip_unspec(&s->bind))
    return true;
  for (i = 0; i < s->n_groups; i++) {
    const ethp2p_addr *g = &s->groups[2 * i], *f = &s->groups[2 * i + 1];
    if (sim_ip_eq(g, group) && (f->family == 0 || ifc == NULL || sim_ip_eq(f, &ifc->addr)))
      return true;
  }
  return false;
}

size_t ethp2p_sim_udp_group_listeners(ethp2p_sim_host *h, const ethp2p_addr *group) {
  size_t n = 0;
  if (h == NULL || group == NULL || !sim_ip_multicast(group))
    return 0;
  for (size_t i = 0; i < h->n_ifaces; i++) {
    const ethp2p_sim_net *net = h->ifaces[i].net;
    for (size_t j = 0; j < net->n_ifaces; j++) {
      const sim_iface *f = net->ifaces[j];
      if (f->host == h)
        continue;
      for (const sim_udp *s = f->host->udps; s != NULL; s = s->next)
        if (!s->closed && s->bind.port == group->port &&
            (sim_ip_unspec(&s->bind) || sim_ip_eq(&s->bind, group)) && joined(s, group, f))
          n++;
    }
  }
  return n;
}

void sim_udp_deliver_multicast(ethp2p_sim_host *h, sim_iface *ifc, sim_pkt *p) {
  ethp2p_sim *sim = h->sim;
  sim_udp *s, *hits[SIM_MCAST_FANOUT];
  size_t n = 0, i;
  for (s = h->udps; s != NULL && n < SIM_MCAST_FANOUT; s = s->next) {
    if (s->bind.port != p->dst.port)
      continue;
    if (!sim_ip_unspec(&s->bind) && !sim_ip_eq(&s->bind, &p->dst))
      continue;
    if (joined(s, &p->dst, ifc))
      hits[n++] = s;
  }
  if (n == 0) {
    sim_drop(sim, p, ETHP2P_SIM_DROP_NO_SOCKET, h->id);
    return;
  }
  sim_trace_pkt(sim, SIM_TR_DELIVER, h->id, p, 0);
  /* Sockets closed by an earlier callback are skipped; their memory lives
   * until the event ends. */
  for (i = 0; i < n; i++)
    if (!hits[i]->closed)
      hits[i]->pub.recv_cb(&hits[i]->pub, &p->src, p->data, p->len, hits[i]->pub.data);
  sim_pkt_put(sim, p);
}

void sim_udp_free_all(ethp2p_sim_host *h) {
  sim_udp *s = h->udps;
  while (s != NULL) {
    sim_udp *next = s->next;
    free(s->groups);
    free(s);
    s = next;
  }
  h->udps = NULL;
}
