/*
 * sim/world.c — the world: creation, the seeded PRNG, the run loop, deferred
 * frees of handle memory, and small address helpers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim/sim_internal.h"

/* ---- PRNG: xoshiro256** seeded by splitmix64 (public-domain algorithms by
 * Blackman and Vigna; re-implemented here). ---------------------------------- */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t sim_rand(ethp2p_sim *sim) {
  uint64_t *s = sim->rng;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t sim_rand_below(ethp2p_sim *sim, uint64_t n) {
  /* Lemire's multiply-shift with rejection: unbiased. */
  uint64_t x = sim_rand(sim);
  __uint128_t m = (__uint128_t)x * n;
  uint64_t l = (uint64_t)m;
  if (l < n) {
    uint64_t t = -n % n;
    while (l < t) {
      x = sim_rand(sim);
      m = (__uint128_t)x * n;
      l = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

uint64_t ethp2p_sim_random_u64(ethp2p_sim *sim) {
  return sim_rand(sim);
}

/* ---- address helpers ------------------------------------------------------------ */
bool sim_ip_in_prefix(const ethp2p_addr *a, const ethp2p_addr *net, unsigned prefix) {
  unsigned full, rem;
  if (a->family != net->family)
    return false;
  if (prefix > sim_ip_len(a) * 8)
    prefix = (unsigned)sim_ip_len(a) * 8;
  full = prefix / 8;
  rem = prefix % 8;
  if (memcmp(a->ip, net->ip, full) != 0)
    return false;
  if (rem) {
    uint8_t mask = (uint8_t)(0xff << (8 - rem));
    if ((a->ip[full] & mask) != (net->ip[full] & mask))
      return false;
  }
  return true;
}

uint64_t sim_ep_key(const ethp2p_addr *a) {
  if (a->family == 6) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t i;
    for (i = 0; i < 16; i++)
      h = (h ^ a->ip[i]) * UINT64_C(0x100000001b3);
    return (h << 16) ^ a->port ^ (UINT64_C(6) << 60);
  }
  return ((uint64_t)a->family << 56) | ((uint64_t)a->ip[0] << 40) | ((uint64_t)a->ip[1] << 32) |
         ((uint64_t)a->ip[2] << 24) | ((uint64_t)a->ip[3] << 16) | a->port;
}

char *sim_ep_str(const ethp2p_addr *a, bool with_port, char *buf, size_t size) {
  if (a->family == 6) {
    char tmp[48];
    size_t i, o = 0;
    for (i = 0; i < 16; i += 2)
      o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%s%x", i ? ":" : "",
                            (unsigned)(a->ip[i] << 8 | a->ip[i + 1]));
    if (with_port)
      snprintf(buf, size, "[%s]:%u", tmp, a->port);
    else
      snprintf(buf, size, "%s", tmp);
  } else if (with_port) {
    snprintf(buf, size, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port);
  } else {
    snprintf(buf, size, "%u.%u.%u.%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3]);
  }
  return buf;
}

/* ---- scheduling and deferred frees ------------------------------------------ */
void sim_schedule(ethp2p_sim *sim, sim_ev *ev, ethp2p_time at) {
  if (at < sim->now)
    at = sim->now;
  (void)sim_queue_push(&sim->q, ev, at);
}

void sim_unschedule(ethp2p_sim *sim, sim_ev *ev) {
  sim_queue_remove(&sim->q, ev);
}

void sim_defer_free(ethp2p_sim *sim, void *ptr) {
  if (sim->dispatch_depth == 0) {
    free(ptr);
    return;
  }
  if (sim->n_dead == sim->cap_dead) {
    size_t ncap = sim->cap_dead ? sim->cap_dead * 2 : 16;
    void **nd = realloc(sim->dead, ncap * sizeof(*nd));
    if (nd == NULL) {
      /* Out of memory: leaking is safer than freeing memory a caller uses. */
      return;
    }
    sim->dead = nd;
    sim->cap_dead = ncap;
  }
  sim->dead[sim->n_dead++] = ptr;
}

static void free_dead(ethp2p_sim *sim) {
  size_t i;
  for (i = 0; i < sim->n_dead; i++)
    free(sim->dead[i]);
  sim->n_dead = 0;
}

/* ---- the world ------------------------------------------------------------------ */
int ethp2p_sim_create(ethp2p_sim **out, uint64_t seed) {
  ethp2p_sim *sim;
  uint64_t x = seed;
  int rc;
  *out = NULL;
  sim = calloc(1, sizeof(*sim));
  if (sim == NULL)
    return ETHP2P_ENOMEM;
  sim->seed = seed;
  sim->rng[0] = splitmix64(&x);
  sim->rng[1] = splitmix64(&x);
  sim->rng[2] = splitmix64(&x);
  sim->rng[3] = splitmix64(&x);
  sim->now = ETHP2P_SIM_START;
  sim->trace_hash = UINT64_C(0xcbf29ce484222325);
  sim->tcp_connect_timeout = 20 * ETHP2P_SEC;
  sim_queue_init(&sim->q);
  rc = ethp2p_sim_net_create(sim, &sim->internet, "internet");
  if (rc != 0) {
    free(sim);
    return rc;
  }
  {
    ethp2p_sim_link wan = {20 * ETHP2P_MSEC, 0, 0.0};
    ethp2p_sim_net_set_link(sim->internet, &wan);
  }
  *out = sim;
  return 0;
}

void ethp2p_sim_destroy(ethp2p_sim *sim) {
  sim_pkt *p;
  ethp2p_sim_host *h;
  ethp2p_sim_net *n;
  ethp2p_time at;
  sim_ev *ev;
  if (sim == NULL)
    return;
  /* Queued packets are owned by the queue; everything else by its host. */
  while ((ev = sim_queue_pop(&sim->q, &at)) != NULL) {
    if (ev->kind == SIM_EV_PACKET) {
      p = SIM_CONTAINER(ev, sim_pkt, ev);
      free(p->data);
      free(p);
    }
  }
  h = sim->hosts;
  while (h != NULL) {
    ethp2p_sim_host *next = h->next;
    sim_host_free(h);
    h = next;
  }
  n = sim->nets;
  while (n != NULL) {
    ethp2p_sim_net *next = n->next;
    sim_net_free(n);
    n = next;
  }
  while ((p = sim->free_pkts) != NULL) {
    sim->free_pkts = p->next_free;
    free(p->data);
    free(p);
  }
  free_dead(sim);
  free(sim->dead);
  sim_queue_free(&sim->q);
  free(sim);
}

uint64_t ethp2p_sim_seed(const ethp2p_sim *sim) {
  return sim->seed;
}
ethp2p_time ethp2p_sim_now(const ethp2p_sim *sim) {
  return sim->now;
}
int64_t ethp2p_sim_wall_ms(const ethp2p_sim *sim) {
  return ETHP2P_SIM_WALL_EPOCH_MS + (int64_t)((sim->now - ETHP2P_SIM_START) / ETHP2P_MSEC);
}
uint64_t ethp2p_sim_events(const ethp2p_sim *sim) {
  return sim->events;
}
size_t ethp2p_sim_pending(const ethp2p_sim *sim) {
  return sim->q.n;
}
void ethp2p_sim_stop(ethp2p_sim *sim) {
  sim->stop = true;
}
void ethp2p_sim_set_tcp_connect_timeout(ethp2p_sim *sim, ethp2p_time timeout) {
  sim->tcp_connect_timeout = timeout;
}
uint64_t ethp2p_sim_drops(const ethp2p_sim *sim, ethp2p_sim_drop reason) {
  if ((int)reason <= 0 || reason >= ETHP2P_SIM_DROP_COUNT)
    return 0;
  return sim->drops[reason];
}

static void dispatch(ethp2p_sim *sim, sim_ev *ev) {
  sim->dispatch_depth++;
  switch (ev->kind) {
  case SIM_EV_TIMER:
    sim_timer_fire(sim, SIM_CONTAINER(ev, sim_timer, ev));
    break;
  case SIM_EV_PACKET:
    sim_packet_arrive(sim, SIM_CONTAINER(ev, sim_pkt, ev));
    break;
  case SIM_EV_TCP_TASK:
    sim_tcp_task(sim, SIM_CONTAINER(ev, sim_tcp, task_ev));
    break;
  case SIM_EV_TCP_TIMEOUT:
    sim_tcp_timeout(sim, SIM_CONTAINER(ev, sim_tcp, timeout_ev));
    break;
  case SIM_EV_NAT_SWEEP:
  case SIM_EV_NAT_FWD:
    sim_nat_event(sim, ev);
    break;
  default:
    break;
  }
  sim->dispatch_depth--;
  if (sim->dispatch_depth == 0)
    free_dead(sim);
}

/* Runs events due at or before `limit`; returns how many ran. */
static uint64_t run_events(ethp2p_sim *sim, ethp2p_time limit, uint64_t max_events) {
  uint64_t n = 0;
  sim->stop = false;
  while (sim->q.n > 0 && sim->q.v[0].at <= limit && n < max_events && !sim->stop) {
    ethp2p_time at;
    sim_ev *ev = sim_queue_pop(&sim->q, &at);
    if (at > sim->now)
      sim->now = at;
    sim->events++;
    n++;
    dispatch(sim, ev);
  }
  return n;
}

uint64_t ethp2p_sim_run_until(ethp2p_sim *sim, ethp2p_time t) {
  uint64_t n = run_events(sim, t, UINT64_MAX);
  if (!sim->stop && t > sim->now)
    sim->now = t;
  sim->stop = false;
  return n;
}

uint64_t ethp2p_sim_run(ethp2p_sim *sim, ethp2p_time duration) {
  ethp2p_time t = sim->now + duration;
  if (t < sim->now)
    t = UINT64_MAX;
  return ethp2p_sim_run_until(sim, t);
}

int ethp2p_sim_run_until_idle(ethp2p_sim *sim, uint64_t max_events) {
  run_events(sim, UINT64_MAX, max_events);
  sim->stop = false;
  return sim->q.n == 0 ? 0 : ETHP2P_EBUSY;
}

/* ---- packets ------------------------------------------------------------------------ */
sim_pkt *sim_pkt_get(ethp2p_sim *sim, size_t len) {
  sim_pkt *p = sim->free_pkts;
  if (p != NULL) {
    sim->free_pkts = p->next_free;
  } else {
    p = calloc(1, sizeof(*p));
    if (p == NULL)
      return NULL;
  }
  if (p->cap < len || p->data == NULL) {
    size_t ncap = len < 2048 ? 2048 : len;
    uint8_t *nd = realloc(p->data, ncap);
    if (nd == NULL) {
      p->next_free = sim->free_pkts;
      sim->free_pkts = p;
      return NULL;
    }
    p->data = nd;
    p->cap = ncap;
  }
  sim_ev_init(&p->ev, SIM_EV_PACKET);
  p->net = NULL;
  p->target = NULL;
  p->local = NULL;
  p->len = len;
  p->tcp_flags = 0;
  p->hops = 0;
  p->host_from = 0;
  return p;
}

void sim_pkt_put(ethp2p_sim *sim, sim_pkt *p) {
  if (p->cap > 65536 + 2048) {
    /* Do not let one jumbo datagram pin memory in the free list. */
    free(p->data);
    p->data = NULL;
    p->cap = 0;
  }
  p->next_free = sim->free_pkts;
  sim->free_pkts = p;
}
