/*
 * sim/env.c — the env ops table of simulated hosts: clocks, randomness,
 * timers, interfaces and the default gateway.  UDP lives in udp.c, TCP in
 * tcp.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim/sim_internal.h"

static ethp2p_sim *sim_of(ethp2p_env *env) {
  return ((ethp2p_sim_host *)env->impl)->sim;
}

static ethp2p_time sim_env_now(ethp2p_env *env) {
  return sim_of(env)->now;
}
static int64_t sim_env_wall_ms(ethp2p_env *env) {
  return ethp2p_sim_wall_ms(sim_of(env));
}

static void sim_env_random(ethp2p_env *env, uint8_t *buf, size_t len) {
  ethp2p_sim *sim = sim_of(env);
  while (len > 0) {
    uint64_t r = sim_rand(sim);
    size_t n = len < 8 ? len : 8;
    size_t i;
    for (i = 0; i < n; i++)
      buf[i] = (uint8_t)(r >> (8 * i));
    buf += n;
    len -= n;
  }
}

/* ---- timers ---------------------------------------------------------------------- */
static sim_timer *timer_of(ethp2p_timer *t) {
  return (sim_timer *)(void *)t;
}

static int sim_timer_create(ethp2p_env *env, ethp2p_timer **out, ethp2p_timer_cb cb, void *data) {
  ethp2p_sim_host *h = env->impl;
  sim_timer *t;
  *out = NULL;
  if (cb == NULL)
    return ETHP2P_EINVAL;
  t = calloc(1, sizeof(*t));
  if (t == NULL)
    return ETHP2P_ENOMEM;
  t->pub.env = env;
  t->pub.cb = cb;
  t->pub.data = data;
  t->host = h;
  t->id = ++h->sim->next_timer_id;
  sim_ev_init(&t->ev, SIM_EV_TIMER);
  t->next = h->timers;
  if (h->timers != NULL)
    h->timers->prev = t;
  h->timers = t;
  *out = &t->pub;
  return 0;
}

static void sim_timer_start(ethp2p_timer *pt, ethp2p_time deadline) {
  sim_timer *t = timer_of(pt);
  if (t->closed)
    return;
  /* A deadline in the past fires on the next turn: at "now", behind events
   * already queued for now. */
  sim_schedule(t->host->sim, &t->ev, deadline);
}

static void sim_timer_stop(ethp2p_timer *pt) {
  sim_timer *t = timer_of(pt);
  sim_unschedule(t->host->sim, &t->ev);
}

static void timer_unlink(sim_timer *t) {
  ethp2p_sim_host *h = t->host;
  if (t->prev != NULL)
    t->prev->next = t->next;
  else
    h->timers = t->next;
  if (t->next != NULL)
    t->next->prev = t->prev;
  t->prev = t->next = NULL;
}

static void sim_timer_destroy(ethp2p_timer *pt) {
  sim_timer *t = timer_of(pt);
  if (t->closed)
    return;
  t->closed = true;
  sim_unschedule(t->host->sim, &t->ev);
  timer_unlink(t);
  sim_defer_free(t->host->sim, t);
}

void sim_timer_fire(ethp2p_sim *sim, sim_timer *t) {
  sim_trace(sim, SIM_TR_TIMER, t->host->id, t->id, 0, 0);
  t->pub.cb(&t->pub, t->pub.data);
}

/* ---- interfaces and gateway --------------------------------------------------------- */
static int sim_env_interfaces(ethp2p_env *env, ethp2p_iface *out, size_t cap, size_t *n) {
  ethp2p_sim_host *h = env->impl;
  size_t i, k = 0;
  if (cap > 0) {
    memset(&out[0], 0, sizeof(out[0]));
    snprintf(out[0].name, sizeof(out[0].name), "lo");
    out[0].addr.family = 4;
    out[0].addr.ip[0] = 127;
    out[0].addr.ip[3] = 1;
    out[0].prefix_len = 8;
    out[0].up = true;
    out[0].loopback = true;
    k = 1;
  }
  for (i = 0; i < h->n_ifaces && k < cap; i++, k++) {
    memset(&out[k], 0, sizeof(out[k]));
    snprintf(out[k].name, sizeof(out[k].name), "%s", h->ifaces[i].name);
    out[k].addr = h->ifaces[i].addr;
    out[k].prefix_len = h->ifaces[i].prefix;
    out[k].up = h->ifaces[i].up && h->up;
    out[k].multicast = true;
  }
  if (n != NULL)
    *n = k;
  return 0;
}

static int sim_env_default_gateway(ethp2p_env *env, ethp2p_addr *gw) {
  ethp2p_sim_host *h = env->impl;
  if (!h->has_gateway || h->gateway.family != 4) {
    memset(gw, 0, sizeof(*gw));
    return ETHP2P_ENOTFOUND;
  }
  *gw = h->gateway;
  return 0;
}

static int sim_env_default_gateway6(ethp2p_env *env, ethp2p_addr *gw) {
  ethp2p_sim_host *h = env->impl;
  if (!h->has_gateway6) {
    memset(gw, 0, sizeof(*gw));
    return ETHP2P_ENOTFOUND;
  }
  *gw = h->gateway6;
  return 0;
}

void sim_host_free_handles(ethp2p_sim_host *h) {
  sim_timer *t = h->timers;
  while (t != NULL) {
    sim_timer *next = t->next;
    free(t);
    t = next;
  }
  h->timers = NULL;
  sim_udp_free_all(h);
  sim_tcp_free_all(h);
  if (h->nat != NULL) {
    sim_nat_free(h->nat);
    h->nat = NULL;
  }
}

const ethp2p_env_ops sim_env_ops = {
    .now = sim_env_now,
    .wall_ms = sim_env_wall_ms,
    .random = sim_env_random,
    .timer_create = sim_timer_create,
    .timer_start = sim_timer_start,
    .timer_stop = sim_timer_stop,
    .timer_destroy = sim_timer_destroy,
    .udp_open = sim_udp_open,
    .udp_send = sim_udp_send,
    .udp_join = sim_udp_join,
    .udp_leave = sim_udp_leave,
    .udp_set_multicast = sim_udp_set_multicast,
    .udp_local_addr = sim_udp_local_addr,
    .udp_close = sim_udp_close,
    .tcp_connect = sim_tcp_connect,
    .tcp_listen = sim_tcp_listen,
    .tcp_read_start = sim_tcp_read_start,
    .tcp_write = sim_tcp_write,
    .tcp_shutdown = sim_tcp_shutdown,
    .tcp_local_addr = sim_tcp_local_addr,
    .tcp_peer_addr = sim_tcp_peer_addr,
    .tcp_close = sim_tcp_close,
    .interfaces = sim_env_interfaces,
    .default_gateway = sim_env_default_gateway,
    .default_gateway6 = sim_env_default_gateway6,
};
