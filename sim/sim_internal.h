/*
 * sim/sim_internal.h — shared structures of the simulated world (private).
 *
 * Modules: queue.c (event heap), world.c (world, PRNG, run loop, deferred
 * frees), trace.c (hash and text sink), net.c (networks, hosts, routing,
 * packet transport), udp.c, tcp.c, timer.c (env ops), nat.c (NAT boxes).
 */
#ifndef ETHP2P_SIM_INTERNAL_H
#define ETHP2P_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ethp2p/env.h"
#include "ethp2p/sim.h"

/* ---- events ------------------------------------------------------------ */
enum sim_ev_kind {
  SIM_EV_TIMER = 1,   /* sim_timer */
  SIM_EV_PACKET,      /* sim_pkt arriving */
  SIM_EV_TCP_TASK,    /* sim_tcp deferred callbacks */
  SIM_EV_TCP_TIMEOUT, /* sim_tcp connect timeout */
  SIM_EV_NAT_SWEEP,   /* nat binding sweep */
  SIM_EV_NAT_FWD,     /* nat forward expiry */
};

#define SIM_NOT_QUEUED UINT32_MAX

typedef struct sim_ev {
  uint32_t heap_idx; /* SIM_NOT_QUEUED when not queued */
  uint8_t kind;
} sim_ev;

typedef struct sim_heap_ent {
  ethp2p_time at;
  uint64_t seq;
  sim_ev *ev;
} sim_heap_ent;

typedef struct sim_queue {
  sim_heap_ent *v;
  uint32_t n, cap;
  uint64_t next_seq;
} sim_queue;

void sim_queue_init(sim_queue *q);
void sim_queue_free(sim_queue *q);
/* Queues (or re-queues) ev at `at`; a re-queued event goes behind events already
 * queued for the same time.  Returns 0 or ETHP2P_ENOMEM. */
int sim_queue_push(sim_queue *q, sim_ev *ev, ethp2p_time at);
void sim_queue_remove(sim_queue *q, sim_ev *ev);
/* Pops the earliest event; returns NULL when empty. */
sim_ev *sim_queue_pop(sim_queue *q, ethp2p_time *at);
static inline bool sim_ev_queued(const sim_ev *ev) {
  return ev->heap_idx != SIM_NOT_QUEUED;
}
static inline void sim_ev_init(sim_ev *ev, uint8_t kind) {
  ev->heap_idx = SIM_NOT_QUEUED;
  ev->kind = kind;
}

/* ---- addresses (small local helpers; family 4 and 6) -------------------- */
static inline size_t sim_ip_len(const ethp2p_addr *a) {
  return a->family == 6 ? 16 : 4;
}
static inline bool sim_ip_eq(const ethp2p_addr *a, const ethp2p_addr *b) {
  if (a->family != b->family)
    return false;
  if (a->family != 6) {
    uint32_t x, y;
    memcpy(&x, a->ip, 4);
    memcpy(&y, b->ip, 4);
    return x == y;
  }
  return memcmp(a->ip, b->ip, 16) == 0;
}
static inline bool sim_ep_eq(const ethp2p_addr *a, const ethp2p_addr *b) {
  return a->port == b->port && sim_ip_eq(a, b);
}
static inline bool sim_ip_unspec(const ethp2p_addr *a) {
  static const uint8_t zero[16] = {0};
  return a->family == 0 || memcmp(a->ip, zero, sim_ip_len(a)) == 0;
}
static inline bool sim_ip_multicast(const ethp2p_addr *a) {
  return (a->family == 4 && (a->ip[0] & 0xf0) == 0xe0) || (a->family == 6 && a->ip[0] == 0xff);
}
static inline bool sim_ip_loopback(const ethp2p_addr *a) {
  static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return (a->family == 4 && a->ip[0] == 127) || (a->family == 6 && memcmp(a->ip, v6lo, 16) == 0);
}
bool sim_ip_in_prefix(const ethp2p_addr *a, const ethp2p_addr *net, unsigned prefix);
/* 64-bit key of an endpoint for hashing and the trace. */
uint64_t sim_ep_key(const ethp2p_addr *a);
/* "1.2.3.4:5" into buf (>= ETHP2P_ADDRSTRLEN). */
char *sim_ep_str(const ethp2p_addr *a, bool with_port, char *buf, size_t size);

/* ---- PRNG ----------------------------------------------------------------- */
uint64_t sim_rand(ethp2p_sim *sim);
/* Uniform in [0, n) (n > 0). */
uint64_t sim_rand_below(ethp2p_sim *sim, uint64_t n);

/* ---- packets ---------------------------------------------------------------- */
enum { SIM_TCP_SYN = 1, SIM_TCP_SYNACK = 2, SIM_TCP_DATA = 4, SIM_TCP_FIN = 8, SIM_TCP_RST = 16 };

typedef struct sim_iface sim_iface;

typedef struct sim_pkt {
  sim_ev ev;
  struct sim_pkt *next_free;
  ethp2p_sim_net *net;    /* the network it is crossing (NULL: local delivery) */
  sim_iface *target;      /* multicast / local: the receiving interface */
  ethp2p_sim_host *local; /* local delivery: the receiving host */
  ethp2p_addr nexthop;    /* whom it is for on `net` */
  ethp2p_addr src, dst;   /* with ports */
  uint8_t proto;
  uint8_t tcp_flags;
  uint8_t hops;
  uint32_t host_from; /* id of the host that last sent it (trace) */
  uint8_t *data;
  size_t len, cap;
} sim_pkt;

/* A packet with room for len bytes (from the free list).  NULL on ENOMEM. */
sim_pkt *sim_pkt_get(ethp2p_sim *sim, size_t len);
void sim_pkt_put(ethp2p_sim *sim, sim_pkt *p);

/* ---- networks, interfaces, hosts ------------------------------------------- */
struct sim_iface {
  ethp2p_sim_host *host;
  ethp2p_sim_net *net;
  ethp2p_addr addr; /* port 0 */
  uint8_t prefix;
  bool up;
  char name[8];
};

struct ethp2p_sim_net {
  ethp2p_sim *sim;
  char name[32];
  uint32_t id;
  ethp2p_sim_link link;
  uint64_t loss_threshold; /* loss * 2^64, 0 = none */
  bool lossy;
  sim_iface **ifaces;
  size_t n_ifaces, cap_ifaces;
  /* open-addressing index of interface addresses (rebuilt on change) */
  sim_iface **index;
  size_t index_cap;         /* power of two, >= 2 * n_ifaces */
  uint32_t next_host_octet; /* for automatic LAN addresses */
  ethp2p_sim_net *next;
};

typedef struct sim_udp sim_udp;
typedef struct sim_tcp sim_tcp;
typedef struct sim_timer sim_timer;

struct ethp2p_sim_host {
  ethp2p_env env; /* env.impl == this host */
  ethp2p_sim *sim;
  uint32_t id;
  char name[32];
  sim_iface ifaces[ETHP2P_SIM_MAX_IFACES];
  size_t n_ifaces;
  ethp2p_addr gateway; /* the IPv4 default gateway */
  bool has_gateway;
  ethp2p_addr gateway6; /* the IPv6 default router (next hop of ::/0) */
  bool has_gateway6;
  bool up;
  ethp2p_sim_nat *nat; /* non-NULL for a NAT box */
  sim_udp *udps;
  sim_tcp *tcps;
  sim_timer *timers;
  ethp2p_sim_host *next;
};

/* Sends a packet from `host` (src and dst set; src IP may be unspecified and
 * is then chosen by the route).  Takes ownership of p.  Returns 0 or
 * ETHP2P_ENETUNREACH (p is freed either way). */
int sim_host_output(ethp2p_sim_host *host, sim_pkt *p);
/* Route lookup: the interface and next hop for dst.  Returns 0 or ENETUNREACH. */
int sim_host_route(ethp2p_sim_host *host, const ethp2p_addr *dst, sim_iface **ifc,
                   ethp2p_addr *nexthop);
/* Sends p across iface's network towards nexthop (takes ownership). */
void sim_net_transmit(sim_iface *from, sim_pkt *p, const ethp2p_addr *nexthop);
/* True if addr is one of host's interface addresses or loopback. */
bool sim_host_is_local(const ethp2p_sim_host *host, const ethp2p_addr *addr);
/* Delivers p to the host's own sockets (takes ownership). */
void sim_host_deliver_local(ethp2p_sim_host *host, sim_iface *ifc, sim_pkt *p);
/* Handles a packet event (takes ownership). */
void sim_packet_arrive(ethp2p_sim *sim, sim_pkt *p);
void sim_net_reindex(ethp2p_sim_net *net);
/* The next address of the world's public pool (20.0.0.1, 20.0.0.2, ...). */
ethp2p_addr sim_public_addr(ethp2p_sim *sim);
void sim_net_free(ethp2p_sim_net *net);
void sim_host_free(ethp2p_sim_host *host);
/* Drops p with a reason: traces, counts, frees. */
void sim_drop(ethp2p_sim *sim, sim_pkt *p, ethp2p_sim_drop reason, uint32_t host_id);

/* ---- UDP / TCP / timers (env ops) ------------------------------------------- */
struct sim_udp {
  ethp2p_udp pub;
  ethp2p_sim_host *host;
  ethp2p_addr bind; /* address (maybe unspecified or multicast) and port */
  unsigned flags;
  ethp2p_addr mcast_if;
  unsigned ttl;
  ethp2p_addr *groups; /* joined groups: pairs (group, iface) */
  size_t n_groups, cap_groups;
  bool closed;
  sim_udp *next;
};

struct sim_timer {
  ethp2p_timer pub;
  sim_ev ev;
  ethp2p_sim_host *host;
  uint64_t id;
  bool closed;
  sim_timer *prev, *next; /* host's timer list */
};

enum sim_tcp_state {
  SIM_TCP_LISTEN = 1,
  SIM_TCP_SYN_SENT,
  SIM_TCP_OPEN,
  SIM_TCP_DONE, /* failed or reset; waiting for close */
};

struct sim_tcp {
  ethp2p_tcp pub;
  ethp2p_sim_host *host;
  int state;
  ethp2p_addr local, remote;
  sim_ev task_ev;
  sim_ev timeout_ev;
  bool connect_pending; /* connect_cb owed */
  int connect_status;
  bool reading;
  uint8_t *rx;
  size_t rx_len, rx_cap;
  bool rx_eof;    /* FIN seen */
  int rx_err;     /* reset seen */
  bool read_done; /* final read callback delivered */
  bool fin_sent;
  bool closed;
  sim_tcp *next;
};

int sim_udp_deliver(ethp2p_sim_host *host, sim_iface *ifc, sim_pkt *p); /* 0 if consumed */
void sim_udp_deliver_multicast(ethp2p_sim_host *host, sim_iface *ifc, sim_pkt *p);
void sim_tcp_arrive(ethp2p_sim_host *host, sim_pkt *p); /* does not take p */
void sim_tcp_task(ethp2p_sim *sim, sim_tcp *c);
void sim_tcp_timeout(ethp2p_sim *sim, sim_tcp *c);
void sim_timer_fire(ethp2p_sim *sim, sim_timer *t);
bool sim_udp_port_used(const ethp2p_sim_host *host, uint16_t port);
bool sim_tcp_port_used(const ethp2p_sim_host *host, uint16_t port);
/* env ops implemented in udp.c, tcp.c, timer.c */
int sim_udp_open(ethp2p_env *env, ethp2p_udp **out, const ethp2p_addr *bind, unsigned flags,
                 ethp2p_udp_recv_cb cb, void *data);
int sim_udp_send(ethp2p_udp *u, const ethp2p_addr *to, const uint8_t *buf, size_t len);
int sim_udp_join(ethp2p_udp *u, const ethp2p_addr *group, const ethp2p_addr *iface);
int sim_udp_leave(ethp2p_udp *u, const ethp2p_addr *group, const ethp2p_addr *iface);
int sim_udp_set_multicast(ethp2p_udp *u, const ethp2p_addr *iface, unsigned ttl);
int sim_udp_local_addr(ethp2p_udp *u, ethp2p_addr *out);
void sim_udp_close(ethp2p_udp *u);
void sim_udp_free_all(ethp2p_sim_host *h);
int sim_tcp_connect(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *to,
                    const ethp2p_addr *from, ethp2p_tcp_connect_cb cb, void *data);
int sim_tcp_listen(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *bind,
                   ethp2p_tcp_accept_cb cb, void *data);
int sim_tcp_read_start(ethp2p_tcp *c, ethp2p_tcp_read_cb cb, void *data);
int sim_tcp_write(ethp2p_tcp *c, const uint8_t *buf, size_t len);
int sim_tcp_shutdown(ethp2p_tcp *c);
int sim_tcp_local_addr(ethp2p_tcp *c, ethp2p_addr *out);
int sim_tcp_peer_addr(ethp2p_tcp *c, ethp2p_addr *out);
void sim_tcp_close(ethp2p_tcp *c);
void sim_tcp_free_all(ethp2p_sim_host *h);
/* Frees the handles of a host at world destruction (no callbacks). */
void sim_host_free_handles(ethp2p_sim_host *host);
extern const ethp2p_env_ops sim_env_ops;

/* ---- NAT ---------------------------------------------------------------------- */
/* A packet reached box's inside interface and is not for the box itself,
 * or is for the external address (hairpin).  Takes ownership. */
void sim_nat_outbound(ethp2p_sim_nat *nat, sim_pkt *p);
/* A packet reached the external address on the outside.  Takes ownership. */
void sim_nat_inbound(ethp2p_sim_nat *nat, sim_pkt *p);
/* A SIM_EV_NAT_SWEEP or SIM_EV_NAT_FWD event fired. */
void sim_nat_event(ethp2p_sim *sim, sim_ev *ev);
void sim_nat_free(ethp2p_sim_nat *nat);
/* True if the box owns (proto, port) on its external address. */
bool sim_nat_port_taken(ethp2p_sim_nat *nat, uint8_t proto, uint16_t port);
sim_iface *sim_nat_inside(ethp2p_sim_nat *nat);
sim_iface *sim_nat_outside(ethp2p_sim_nat *nat);

/* ---- trace ----------------------------------------------------------------------- */
enum sim_trace_kind {
  SIM_TR_TIMER = 1,
  SIM_TR_SEND,
  SIM_TR_DELIVER,
  SIM_TR_DROP,
  SIM_TR_NAT_OUT,
  SIM_TR_NAT_IN,
  SIM_TR_BIND_NEW,
  SIM_TR_BIND_EXPIRE,
  SIM_TR_FWD_ADD,
  SIM_TR_FWD_REMOVE,
  SIM_TR_FWD_EXPIRE,
  SIM_TR_NAT_REBOOT,
  SIM_TR_NAT_EXTADDR,
  SIM_TR_NAT_DOWN,
  SIM_TR_NAT_UP,
  SIM_TR_TCP_CONNECT,
  SIM_TR_TCP_ACCEPT,
  SIM_TR_TCP_REFUSED,
  SIM_TR_TCP_TIMEOUT,
  SIM_TR_TCP_RESET,
  SIM_TR_TCP_CLOSE,
  SIM_TR_COUNT
};
/* Folds one record into the hash; formats a text line when a sink is set. */
void sim_trace(ethp2p_sim *sim, uint8_t kind, uint32_t host, uint64_t a, uint64_t b, uint64_t c);
/* Same for a packet record (src, dst, proto, len, flags). */
void sim_trace_pkt(ethp2p_sim *sim, uint8_t kind, uint32_t host, const sim_pkt *p, uint32_t reason);
/* Text-only note for the sink (no effect on the hash). */
void sim_trace_note(ethp2p_sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- world ---------------------------------------------------------------------- */
struct ethp2p_sim {
  uint64_t seed;
  uint64_t rng[4];
  ethp2p_time now;
  sim_queue q;
  uint64_t events;
  bool stop;
  int dispatch_depth;
  uint64_t trace_hash;
  ethp2p_sim_trace_cb trace_cb;
  void *trace_data;
  uint64_t drops[ETHP2P_SIM_DROP_COUNT];
  ethp2p_time tcp_connect_timeout;
  ethp2p_sim_net *internet;
  ethp2p_sim_net *nets;
  ethp2p_sim_host *hosts;
  uint32_t next_net_id, next_host_id;
  uint64_t next_timer_id;
  uint32_t next_public; /* public pool: 20.0.0.0 + n */
  sim_pkt *free_pkts;
  void **dead; /* handle memory freed after the current event */
  size_t n_dead, cap_dead;
};

/* Frees ptr now, or after the current event when called from a callback. */
void sim_defer_free(ethp2p_sim *sim, void *ptr);
/* Queue helpers on the world's queue (ENOMEM on the heap is fatal-free: the
 * event is then simply not queued; the heap grows rarely). */
void sim_schedule(ethp2p_sim *sim, sim_ev *ev, ethp2p_time at);
void sim_unschedule(ethp2p_sim *sim, sim_ev *ev);

#define SIM_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
