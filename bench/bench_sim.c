/* bench/bench_sim.c — events per second of a busy simulated world.
 *
 * 50 LANs, each behind a NAT box (the policies rotate through the NATCracker
 * triples), 4 hosts per LAN, 10 internet echo servers.  Every host sends a
 * datagram every 10 ms of virtual time to a server, which echoes it back, so
 * each round trip is five events (timer, LAN, WAN, WAN, LAN) plus NAT work.
 * Prints BENCH sim_events <n> events/s (target >= 1,000,000) per second of
 * CPU time of this process, so a busy shared machine does not skew it, and the
 * same figure per second of wall time. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ethp2p/env.h"
#include "ethp2p/sim.h"

#define LANS 50
#define PER_LAN 4
#define SERVERS 10

typedef struct client {
  ethp2p_udp *udp;
  ethp2p_timer *timer;
  ethp2p_addr servers[SERVERS];
  unsigned next;
  uint64_t replies;
} client;

static client clients[LANS * PER_LAN];
static ethp2p_udp *server_socks[SERVERS];

static void client_tick(ethp2p_timer *t, void *data) {
  client *c = data;
  uint8_t msg[64];
  memset(msg, 0xab, sizeof(msg));
  ethp2p_udp_send(c->udp, &c->servers[c->next], msg, sizeof(msg));
  c->next = (c->next + 1) % SERVERS;
  ethp2p_timer_start(t, ethp2p_env_now(t->env) + 10 * ETHP2P_MSEC);
}

static void client_rx(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *b, size_t n, void *d) {
  client *c = d;
  (void)u, (void)from, (void)b, (void)n;
  c->replies++;
}

static void server_rx(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *b, size_t n, void *d) {
  (void)d;
  ethp2p_udp_send(u, from, b, n);
}

static double now_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
  ethp2p_sim *w;
  ethp2p_addr srv_addr[SERVERS];
  ethp2p_sim_link wan = {20 * ETHP2P_MSEC, 5 * ETHP2P_MSEC, 0.01};
  uint64_t events0, events, replies = 0;
  double t0, t1, c0, c1;
  int i, j;
  if (ethp2p_sim_create(&w, 1) != 0)
    return 1;
  ethp2p_sim_net_set_link(ethp2p_sim_internet(w), &wan);
  for (i = 0; i < SERVERS; i++) {
    ethp2p_sim_host *h;
    ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 3478);
    if (ethp2p_sim_host_create_public(w, &h, "server", NULL) != 0 ||
        ethp2p_udp_open(ethp2p_sim_host_env(h), &server_socks[i], &any, 0, server_rx, NULL) != 0)
      return 1;
    srv_addr[i] = ethp2p_sim_host_addr(h);
    srv_addr[i].port = 3478;
  }
  for (i = 0; i < LANS; i++) {
    ethp2p_sim_nat *box;
    ethp2p_sim_nat_config cfg = ethp2p_sim_nat_config_default();
    cfg.mapping = (ethp2p_nat_policy)(i % 3 + 1); /* 0 is "unknown" (ethp2p/natclass.h) */
    cfg.filtering = (ethp2p_nat_policy)((i / 3) % 3 + 1);
    cfg.allocation = (ethp2p_nat_alloc)((i / 9) % 3 + 1);
    if (ethp2p_sim_nat_create(w, &box, "box", &cfg) != 0)
      return 1;
    for (j = 0; j < PER_LAN; j++) {
      client *c = &clients[i * PER_LAN + j];
      ethp2p_sim_host *h;
      ethp2p_env *env;
      if (ethp2p_sim_nat_add_host(box, &h, "host", NULL) != 0)
        return 1;
      env = ethp2p_sim_host_env(h);
      memcpy(c->servers, srv_addr, sizeof(srv_addr));
      c->next = (unsigned)(i + j) % SERVERS;
      if (ethp2p_udp_open(env, &c->udp, NULL, 0, client_rx, c) != 0 ||
          ethp2p_timer_create(env, &c->timer, client_tick, c) != 0)
        return 1;
      ethp2p_timer_start(c->timer, ethp2p_env_now(env) + (uint64_t)(i * PER_LAN + j) * 50000);
    }
  }
  /* Warm up (bindings, free lists), then measure. */
  ethp2p_sim_run(w, ETHP2P_SEC);
  events0 = ethp2p_sim_events(w);
  t0 = now_s(CLOCK_MONOTONIC);
  c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
  ethp2p_sim_run(w, 60 * ETHP2P_SEC);
  c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
  t1 = now_s(CLOCK_MONOTONIC);
  events = ethp2p_sim_events(w) - events0;
  for (i = 0; i < LANS * PER_LAN; i++) {
    replies += clients[i].replies;
    ethp2p_timer_destroy(clients[i].timer);
    ethp2p_udp_close(clients[i].udp);
  }
  for (i = 0; i < SERVERS; i++)
    ethp2p_udp_close(server_socks[i]);
  printf("BENCH sim_events %.0f events/s\n", (double)events / (c1 - c0));
  printf("BENCH sim_events_wall %.0f events/s\n", (double)events / (t1 - t0));
  printf("BENCH sim_events_total %llu events\n", (unsigned long long)events);
  printf("BENCH sim_replies %llu datagrams\n", (unsigned long long)replies);
  printf("BENCH sim_virtual_speedup %.0f x\n", 60.0 / (c1 - c0));
  ethp2p_sim_destroy(w);
  return 0;
}
