/*
 * env/uv_int.h — private to env/uv*.c: the libuv environment's structures.
 * Not installed, not included by anything outside env/.
 */
#ifndef ETHP2P_ENV_UV_INT_H
#define ETHP2P_ENV_UV_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>
#include <uv.h>

#include "ethp2p/env.h"
#include "ethp2p/env_uv.h"

#define UVENV_RECV_BUF 65536 /* no datagram is larger; also the TCP read chunk */

typedef struct uvenv uvenv;

/* Links every live (not yet closed) UDP/TCP handle into its environment so that
 * ethp2p_uvenv_destroy can close what the caller left open. */
typedef struct uvenv_node {
  struct uvenv_node *prev, *next;
  bool is_tcp;
  void *owner; /* the ethp2p_udp / ethp2p_tcp this node belongs to */
} uvenv_node;

typedef struct uvenv_timer {
  ethp2p_timer base;               /* must stay first */
  struct uvenv_timer *prev, *next; /* all live timers of the env */
  ethp2p_time deadline;
  uint64_t seq; /* start order, breaks deadline ties (FIFO) */
  size_t index; /* position in the heap, UVENV_NOT_ARMED when stopped */
} uvenv_timer;

#define UVENV_NOT_ARMED SIZE_MAX

struct uvenv {
  ethp2p_env base; /* must stay first; base.impl points here */
  uv_loop_t *loop;
  uv_timer_t driver; /* wakes the loop at the earliest future deadline */
  uv_idle_t idle;    /* active while a timer is due: poll without blocking, dispatch */
  uvenv_timer **heap;
  size_t heap_len, heap_cap;
  size_t ntimers;
  uint64_t next_seq;
  bool dispatching;
  enum { UVENV_WAKE_NONE, UVENV_WAKE_DRIVER, UVENV_WAKE_IDLE } wake; /* which handle is active */
  ethp2p_time driver_at; /* the deadline the driver is armed for */
  uvenv_timer *timers;
  uvenv_node socks; /* sentinel of the live UDP/TCP list */
  size_t closing;   /* uv_close calls whose callback has not run yet */
  uint8_t tcp_buf[UVENV_RECV_BUF];
};

static inline uvenv *uvenv_of(ethp2p_env *env) {
  return (uvenv *)env->impl;
}

/* Conversions between ethp2p_addr and sockaddr.  Return false for an unset
 * family or a sockaddr that is neither AF_INET nor AF_INET6. */
bool uvenv_to_sockaddr(const ethp2p_addr *a, struct sockaddr_storage *ss);
bool uvenv_from_sockaddr(const struct sockaddr *sa, ethp2p_addr *a);

/* Keeps env->closing right and links/unlinks handles. */
void uvenv_node_link(uvenv *e, uvenv_node *n);
void uvenv_node_unlink(uvenv_node *n);

/* Operations implemented in uv_net.c and uv_sys.c. */
int uvenv_udp_open(ethp2p_env *env, ethp2p_udp **out, const ethp2p_addr *bind, unsigned flags,
                   ethp2p_udp_recv_cb cb, void *data);
int uvenv_udp_send(ethp2p_udp *udp, const ethp2p_addr *to, const uint8_t *buf, size_t len);
int uvenv_udp_join(ethp2p_udp *udp, const ethp2p_addr *group, const ethp2p_addr *iface);
int uvenv_udp_leave(ethp2p_udp *udp, const ethp2p_addr *group, const ethp2p_addr *iface);
int uvenv_udp_set_multicast(ethp2p_udp *udp, const ethp2p_addr *iface, unsigned ttl);
int uvenv_udp_local_addr(ethp2p_udp *udp, ethp2p_addr *out);
void uvenv_udp_close(ethp2p_udp *udp);

int uvenv_tcp_connect(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *to,
                      const ethp2p_addr *from, ethp2p_tcp_connect_cb cb, void *data);
int uvenv_tcp_listen(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *bind,
                     ethp2p_tcp_accept_cb cb, void *data);
int uvenv_tcp_read_start(ethp2p_tcp *conn, ethp2p_tcp_read_cb cb, void *data);
int uvenv_tcp_write(ethp2p_tcp *conn, const uint8_t *buf, size_t len);
int uvenv_tcp_shutdown(ethp2p_tcp *conn);
int uvenv_tcp_local_addr(ethp2p_tcp *conn, ethp2p_addr *out);
int uvenv_tcp_peer_addr(ethp2p_tcp *conn, ethp2p_addr *out);
void uvenv_tcp_close(ethp2p_tcp *conn);

int uvenv_interfaces(ethp2p_env *env, ethp2p_iface *out, size_t cap, size_t *n);
int uvenv_default_gateway(ethp2p_env *env, ethp2p_addr *gw);
int uvenv_default_gateway6(ethp2p_env *env, ethp2p_addr *gw);
/* The name of the interface holding address a (for IPv6 multicast scope ids). */
int uvenv_iface_name_of(const ethp2p_addr *a, char *name, size_t size);

#endif
