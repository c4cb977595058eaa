/*
 * sim/tcp.c — TCP of simulated hosts (env ops tcp_*).
 *
 * A connection is a pair of sim_tcp handles exchanging segments (SYN,
 * SYN-ACK, data, FIN, RST) as packets with proto 6.  Segments cross networks
 * and NAT boxes like datagrams but without jitter or loss, so they arrive in
 * order and exactly once: retransmission and windows are not modelled.
 *
 *   connect: SYN ->  listener: accept_cb, SYN-ACK  ->  connect_cb(0)
 *            SYN ->  no listener: RST             ->  connect_cb(ECONNREFUSED)
 *            SYN ->  nobody answers               ->  connect_cb(ETIMEDOUT) after the timeout
 *   data arriving before read_start is buffered and flushed on a later turn.
 *   FIN ends the peer's reads with ETHP2P_ECLOSED; RST with ETHP2P_ECONNRESET.
 *   close sends FIN when the write side is still open; a segment for a closed
 *   connection is answered with RST.
 */
#include <stdlib.h>

#include "sim/sim_internal.h"

#define SIM_TCP_SEG_MAX 65536
#define SIM_TCP_RX_CAP (64u << 20) /* unread bytes kept per connection */

static sim_tcp *tcp_of(ethp2p_tcp *c) {
  return (sim_tcp *)(void *)c;
}

bool sim_tcp_port_used(const ethp2p_sim_host *h, uint16_t port) {
  const sim_tcp *c;
  for (c = h->tcps; c != NULL; c = c->next)
    if (c->local.port == port)
      return true;
  return false;
}

static sim_tcp *tcp_new(ethp2p_sim_host *h, int state) {
  sim_tcp *c = calloc(1, sizeof(*c)), **tail;
  if (c == NULL)
    return NULL;
  c->pub.env = &h->env;
  c->host = h;
  c->state = state;
  sim_ev_init(&c->task_ev, SIM_EV_TCP_TASK);
  sim_ev_init(&c->timeout_ev, SIM_EV_TCP_TIMEOUT);
  for (tail = &h->tcps; *tail != NULL; tail = &(*tail)->next)
    ;
  *tail = c;
  return c;
}

static void tcp_unlink(sim_tcp *c) {
  sim_tcp **pp;
  for (pp = &c->host->tcps; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      return;
    }
  }
}

static int pick_port(ethp2p_sim_host *h, uint16_t *port) {
  int tries;
  for (tries = 0; tries < 1000; tries++) {
    uint16_t p = (uint16_t)(32768 + sim_rand_below(h->sim, 60999 - 32768 + 1));
    if (!sim_tcp_port_used(h, p) && !(h->nat && sim_nat_port_taken(h->nat, ETHP2P_SIM_TCP, p))) {
      *port = p;
      return 0;
    }
  }
  return ETHP2P_EADDRINUSE;
}

/* Sends a segment from src to dst (src IP may be unspecified). */
static int send_seg(ethp2p_sim_host *h, const ethp2p_addr *src, const ethp2p_addr *dst,
                    uint8_t flags, const uint8_t *buf, size_t len) {
  sim_pkt *p = sim_pkt_get(h->sim, len);
  if (p == NULL)
    return ETHP2P_ENOMEM;
  if (len > 0)
    memcpy(p->data, buf, len);
  p->proto = ETHP2P_SIM_TCP;
  p->tcp_flags = flags;
  p->src = *src;
  p->dst = *dst;
  return sim_host_output(h, p);
}

static void task_soon(sim_tcp *c) {
  sim_schedule(c->host->sim, &c->task_ev, c->host->sim->now);
}

/* ---- env ops ---------------------------------------------------------------------------- */
int sim_tcp_listen(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *bind,
                   ethp2p_tcp_accept_cb cb, void *data) {
  ethp2p_sim_host *h = env->impl;
  ethp2p_addr b;
  sim_tcp *c;
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
  if (!sim_ip_unspec(&b) && !sim_host_is_local(h, &b))
    return ETHP2P_EINVAL;
  if (b.port == 0) {
    int rc = pick_port(h, &b.port);
    if (rc != 0)
      return rc;
  } else {
    for (c = h->tcps; c != NULL; c = c->next)
      if (c->state == SIM_TCP_LISTEN && c->local.port == b.port &&
          (sim_ip_unspec(&c->local) || sim_ip_unspec(&b) || sim_ip_eq(&c->local, &b)))
        return ETHP2P_EADDRINUSE;
  }
  c = tcp_new(h, SIM_TCP_LISTEN);
  if (c == NULL)
    return ETHP2P_ENOMEM;
  c->local = b;
  c->pub.accept_cb = cb;
  c->pub.data = data;
  *out = &c->pub;
  return 0;
}

int sim_tcp_connect(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *to,
                    const ethp2p_addr *from, ethp2p_tcp_connect_cb cb, void *data) {
  ethp2p_sim_host *h = env->impl;
  ethp2p_sim *sim = h->sim;
  ethp2p_addr local;
  sim_iface *ifc;
  ethp2p_addr nh;
  sim_tcp *c;
  bool unreachable = false;
  *out = NULL;
  if (cb == NULL || to == NULL || (to->family != 4 && to->family != 6) || to->port == 0 ||
      sim_ip_unspec(to) || sim_ip_multicast(to))
    return ETHP2P_EINVAL;
  memset(&local, 0, sizeof(local));
  local.family = to->family;
  if (from != NULL && from->family != 0) {
    if (from->family != to->family || (!sim_ip_unspec(from) && !sim_host_is_local(h, from)))
      return ETHP2P_EINVAL;
    local = *from;
  }
  if (sim_ip_unspec(&local)) {
    uint16_t port = local.port;
    if (sim_ip_loopback(to)) {
      local = *to;
    } else if (sim_host_is_local(h, to)) {
      local = *to;
    } else if (sim_host_route(h, to, &ifc, &nh) == 0) {
      local = ifc->addr;
    } else {
      unreachable = true;
    }
    local.port = port;
  }
  if (local.port == 0) {
    int rc = pick_port(h, &local.port);
    if (rc != 0)
      return rc;
  }
  c = tcp_new(h, SIM_TCP_SYN_SENT);
  if (c == NULL)
    return ETHP2P_ENOMEM;
  c->local = local;
  c->remote = *to;
  c->pub.connect_cb = cb;
  c->pub.data = data;
  *out = &c->pub;
  sim_trace(sim, SIM_TR_TCP_CONNECT, h->id, sim_ep_key(&c->local), sim_ep_key(&c->remote), 0);
  if (unreachable || send_seg(h, &c->local, &c->remote, SIM_TCP_SYN, NULL, 0) != 0) {
    c->state = SIM_TCP_DONE;
    c->connect_pending = true;
    c->connect_status = ETHP2P_ENETUNREACH;
    task_soon(c);
    return 0;
  }
  sim_schedule(sim, &c->timeout_ev, sim->now + sim->tcp_connect_timeout);
  return 0;
}

int sim_tcp_read_start(ethp2p_tcp *pc, ethp2p_tcp_read_cb cb, void *data) {
  sim_tcp *c = tcp_of(pc);
  if (cb == NULL)
    return ETHP2P_EINVAL;
  if (c->closed || c->state == SIM_TCP_LISTEN || c->state == SIM_TCP_SYN_SENT)
    return ETHP2P_ESTATE;
  c->pub.read_cb = cb;
  c->pub.data = data;
  c->reading = true;
  if (c->rx_len > 0 || ((c->rx_eof || c->rx_err) && !c->read_done))
    task_soon(c);
  return 0;
}

int sim_tcp_write(ethp2p_tcp *pc, const uint8_t *buf, size_t len) {
  sim_tcp *c = tcp_of(pc);
  if (c->closed || (len > 0 && buf == NULL))
    return ETHP2P_EINVAL;
  if (c->state != SIM_TCP_OPEN)
    return c->rx_err ? c->rx_err : ETHP2P_ESTATE;
  if (c->fin_sent)
    return ETHP2P_ECLOSED;
  while (len > 0) {
    size_t n = len < SIM_TCP_SEG_MAX ? len : SIM_TCP_SEG_MAX;
    int rc = send_seg(c->host, &c->local, &c->remote, SIM_TCP_DATA, buf, n);
    if (rc != 0)
      return rc;
    buf += n;
    len -= n;
  }
  return 0;
}

int sim_tcp_shutdown(ethp2p_tcp *pc) {
  sim_tcp *c = tcp_of(pc);
  if (c->closed)
    return ETHP2P_EINVAL;
  if (c->state != SIM_TCP_OPEN)
    return ETHP2P_ESTATE;
  if (!c->fin_sent) {
    c->fin_sent = true;
    (void)send_seg(c->host, &c->local, &c->remote, SIM_TCP_FIN, NULL, 0);
  }
  return 0;
}

int sim_tcp_local_addr(ethp2p_tcp *pc, ethp2p_addr *out) {
  *out = tcp_of(pc)->local;
  return 0;
}

int sim_tcp_peer_addr(ethp2p_tcp *pc, ethp2p_addr *out) {
  sim_tcp *c = tcp_of(pc);
  if (c->state == SIM_TCP_LISTEN) {
    memset(out, 0, sizeof(*out));
    return ETHP2P_ESTATE;
  }
  *out = c->remote;
  return 0;
}

void sim_tcp_close(ethp2p_tcp *pc) {
  sim_tcp *c = tcp_of(pc);
  ethp2p_sim *sim = c->host->sim;
  if (c->closed)
    return;
  c->closed = true;
  if (c->state == SIM_TCP_OPEN && !c->fin_sent) {
    c->fin_sent = true;
    (void)send_seg(c->host, &c->local, &c->remote, SIM_TCP_FIN, NULL, 0);
  }
  if (c->state != SIM_TCP_LISTEN)
    sim_trace(sim, SIM_TR_TCP_CLOSE, c->host->id, sim_ep_key(&c->local), sim_ep_key(&c->remote), 0);
  sim_unschedule(sim, &c->task_ev);
  sim_unschedule(sim, &c->timeout_ev);
  tcp_unlink(c);
  if (c->rx != NULL)
    sim_defer_free(sim, c->rx); /* a read callback may be looking at it */
  c->rx = NULL;
  c->rx_len = c->rx_cap = 0;
  sim_defer_free(sim, c);
}

void sim_tcp_free_all(ethp2p_sim_host *h) {
  sim_tcp *c = h->tcps;
  while (c != NULL) {
    sim_tcp *next = c->next;
    free(c->rx);
    free(c);
    c = next;
  }
  h->tcps = NULL;
}

/* ---- events --------------------------------------------------------------------------- */
static void connect_done(sim_tcp *c, int status) {
  ethp2p_sim *sim = c->host->sim;
  sim_unschedule(sim, &c->timeout_ev);
  c->connect_pending = false;
  c->state = status == 0 ? SIM_TCP_OPEN : SIM_TCP_DONE;
  c->pub.connect_cb(&c->pub, status, c->pub.data);
}

/* Delivers buffered bytes, then the end of stream, while the handle reads. */
static void flush_reads(sim_tcp *c) {
  if (c->closed || !c->reading)
    return;
  if (c->rx_len > 0) {
    uint8_t *buf = c->rx;
    size_t len = c->rx_len;
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
    c->pub.read_cb(&c->pub, 0, buf, len, c->pub.data);
    free(buf);
    if (c->closed || !c->reading)
      return;
  }
  if (c->rx_len == 0 && (c->rx_err || c->rx_eof) && !c->read_done) {
    c->read_done = true;
    c->pub.read_cb(&c->pub, c->rx_err ? c->rx_err : ETHP2P_ECLOSED, NULL, 0, c->pub.data);
  }
}

void sim_tcp_task(ethp2p_sim *sim, sim_tcp *c) {
  (void)sim;
  if (c->closed)
    return;
  if (c->connect_pending) {
    connect_done(c, c->connect_status);
    if (c->closed)
      return;
  }
  flush_reads(c);
}

void sim_tcp_timeout(ethp2p_sim *sim, sim_tcp *c) {
  if (c->closed || c->state != SIM_TCP_SYN_SENT)
    return;
  sim_trace(sim, SIM_TR_TCP_TIMEOUT, c->host->id, sim_ep_key(&c->local), sim_ep_key(&c->remote), 0);
  connect_done(c, ETHP2P_ETIMEDOUT);
}

static sim_tcp *find_conn(ethp2p_sim_host *h, const sim_pkt *p) {
  sim_tcp *c;
  for (c = h->tcps; c != NULL; c = c->next)
    if (c->state != SIM_TCP_LISTEN && sim_ep_eq(&c->local, &p->dst) &&
        sim_ep_eq(&c->remote, &p->src))
      return c;
  return NULL;
}

static sim_tcp *find_listener(ethp2p_sim_host *h, const ethp2p_addr *dst) {
  sim_tcp *c, *wild = NULL;
  for (c = h->tcps; c != NULL; c = c->next) {
    if (c->state != SIM_TCP_LISTEN || c->local.port != dst->port)
      continue;
    if (sim_ip_eq(&c->local, dst))
      return c;
    if (sim_ip_unspec(&c->local) && c->local.family == dst->family && wild == NULL)
      wild = c;
  }
  return wild;
}

static void rx_append(sim_tcp *c, const uint8_t *buf, size_t len) {
  if (c->rx_len + len > SIM_TCP_RX_CAP)
    return; /* a reader that never reads loses bytes beyond the cap */
  if (c->rx_len + len > c->rx_cap) {
    size_t ncap = c->rx_cap ? c->rx_cap : 4096;
    uint8_t *nb;
    while (ncap < c->rx_len + len)
      ncap *= 2;
    nb = realloc(c->rx, ncap);
    if (nb == NULL)
      return;
    c->rx = nb;
    c->rx_cap = ncap;
  }
  memcpy(c->rx + c->rx_len, buf, len);
  c->rx_len += len;
}

static void accept_syn(ethp2p_sim_host *h, sim_tcp *l, const sim_pkt *p) {
  ethp2p_sim *sim = h->sim;
  sim_tcp *c = tcp_new(h, SIM_TCP_OPEN);
  if (c == NULL)
    return; /* the SYN is lost; the client times out */
  c->local = p->dst;
  c->remote = p->src;
  sim_trace(sim, SIM_TR_TCP_ACCEPT, h->id, sim_ep_key(&c->local), sim_ep_key(&c->remote), 0);
  (void)send_seg(h, &c->local, &c->remote, SIM_TCP_SYNACK, NULL, 0);
  l->pub.accept_cb(&l->pub, &c->pub, l->pub.data);
}

void sim_tcp_arrive(ethp2p_sim_host *h, sim_pkt *p) {
  ethp2p_sim *sim = h->sim;
  sim_tcp *c = find_conn(h, p);
  if (c == NULL) {
    if (p->tcp_flags & SIM_TCP_SYN) {
      sim_tcp *l = find_listener(h, &p->dst);
      if (l != NULL) {
        accept_syn(h, l, p);
        return;
      }
      sim_trace(sim, SIM_TR_TCP_REFUSED, h->id, sim_ep_key(&p->dst), sim_ep_key(&p->src), 0);
    }
    if (!(p->tcp_flags & SIM_TCP_RST))
      (void)send_seg(h, &p->dst, &p->src, SIM_TCP_RST, NULL, 0);
    return;
  }
  if (p->tcp_flags & SIM_TCP_RST) {
    if (c->state == SIM_TCP_SYN_SENT) {
      connect_done(c, ETHP2P_ECONNREFUSED);
    } else if (c->state == SIM_TCP_OPEN) {
      sim_trace(sim, SIM_TR_TCP_RESET, h->id, sim_ep_key(&c->local), sim_ep_key(&c->remote), 0);
      c->state = SIM_TCP_DONE;
      c->rx_err = ETHP2P_ECONNRESET;
      flush_reads(c);
    }
    return;
  }
  if (p->tcp_flags & SIM_TCP_SYNACK) {
    if (c->state == SIM_TCP_SYN_SENT)
      connect_done(c, 0);
    return;
  }
  if (c->state != SIM_TCP_OPEN || c->rx_eof)
    return;
  if (p->tcp_flags & SIM_TCP_DATA) {
    if (c->reading && c->rx_len == 0)
      c->pub.read_cb(&c->pub, 0, p->data, p->len, c->pub.data);
    else
      rx_append(c, p->data, p->len);
    return;
  }
  if (p->tcp_flags & SIM_TCP_FIN) {
    c->rx_eof = true;
    flush_reads(c);
  }
}
