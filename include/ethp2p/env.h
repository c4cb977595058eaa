/*
 * ethp2p/env.h — the environment: the one door between protocol code and the world.
 *
 * Protocol code (nat/, nat/gateway/, p2p/) touches time, sockets, interfaces and
 * randomness only through this interface.  Two implementations exist:
 *   - env/uv.c   : real sockets and clocks on a libuv loop (ethp2p/env_uv.h)
 *   - sim/       : a deterministic simulated world (ethp2p/sim.h)
 *
 * Model (after libuv):
 *   - Everything runs on one loop thread; callbacks, no locks.
 *   - Handles (timer, udp, tcp) are created by the environment and owned by the
 *     caller until it calls the matching close/destroy.  After close, no callback
 *     of that handle runs again, even if events were already queued; the memory is
 *     released by the environment (possibly later, e.g. after uv_close completes).
 *   - A function that returns an error never calls its callback.
 *   - Callbacks never run re-entrantly from inside the call that arms them
 *     (e.g. a timer started in the past fires on the next loop turn, not inside
 *     timer_start; a UDP send to a local socket is delivered on a later turn).
 *   - Time is monotonic nanoseconds (`ethp2p_time`), read once per event with
 *     ethp2p_env_now() and passed down.
 *   - Every handle struct begins with the public base below; implementations
 *     embed it as their first member.
 */
#ifndef ETHP2P_ENV_H
#define ETHP2P_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic time in nanoseconds since an arbitrary origin. */
typedef uint64_t ethp2p_time;

#define ETHP2P_NSEC ((ethp2p_time)1)
#define ETHP2P_USEC ((ethp2p_time)1000)
#define ETHP2P_MSEC ((ethp2p_time)1000000)
#define ETHP2P_SEC ((ethp2p_time)1000000000)
#define ETHP2P_MIN (60 * ETHP2P_SEC)
#define ETHP2P_HOUR (60 * ETHP2P_MIN)
#define ETHP2P_DAY (24 * ETHP2P_HOUR)

/* ---------------------------------------------------------------------------
 * Addresses.  One small value type for IPv4 and IPv6 endpoints.
 * ip[] holds 4 bytes (family 4) or 16 bytes (family 6) in network order.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_addr {
  uint8_t family; /* 4 or 6; 0 = unset */
  uint8_t ip[16];
  uint16_t port; /* host byte order */
  /* IPv6 zone (RFC 4007 section 6): the interface index a link-local address
   * (fe80::/10, ff02::/16) belongs to; 0 = none.  The environment sets it on the
   * source of a datagram or connection, on interface addresses and on the IPv6
   * default gateway, and uses it when sending, so a reply to fe80::1 leaves on the
   * interface it came from.  Parsing sets 0; formatting, equality and the
   * classification functions ignore it. */
  uint32_t scope;
} ethp2p_addr;

#define ETHP2P_ADDRSTRLEN 64 /* "[ipv6]:port" plus NUL */

/* Builds an IPv4 address from four octets and a port. */
ethp2p_addr ethp2p_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);
/* Parses "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80".  A missing port gives
 * `default_port`.  Returns 0 or ETHP2P_ESYNTAX.  *out is zeroed on failure. */
int ethp2p_addr_parse(ethp2p_addr *out, const char *text, uint16_t default_port);
/* Parses only an IP literal (no port).  Returns 0 or ETHP2P_ESYNTAX. */
int ethp2p_addr_parse_ip(ethp2p_addr *out, const char *text);
/* Writes "1.2.3.4" (with_port=false) or "1.2.3.4:80" / "[::1]:80" into buf
 * (size >= ETHP2P_ADDRSTRLEN).  Returns buf. */
char *ethp2p_addr_format(const ethp2p_addr *a, bool with_port, char *buf, size_t size);
/* Equality of family and IP (and of port when with_port). */
bool ethp2p_addr_equal(const ethp2p_addr *a, const ethp2p_addr *b, bool with_port);
/* Host-order IPv4 value of a family-4 address. */
uint32_t ethp2p_addr_v4_u32(const ethp2p_addr *a);
/* Classification used to decide what may be advertised in a record. */
bool ethp2p_addr_is_unspecified(const ethp2p_addr *a); /* 0.0.0.0, :: */
bool ethp2p_addr_is_loopback(const ethp2p_addr *a);    /* 127/8, ::1 */
bool ethp2p_addr_is_private(const ethp2p_addr *a);     /* RFC 1918, fc00::/7, link-local */
bool ethp2p_addr_is_cgnat(const ethp2p_addr *a);       /* 100.64.0.0/10 (RFC 6598) */
bool ethp2p_addr_is_multicast(const ethp2p_addr *a);
/*
 * True if a may be published as an address the whole Internet can reach.
 * IPv6: false for :: and ::1, fc00::/7 (RFC 4193), fe80::/10 (RFC 4291 2.5.6),
 *   ff00::/8 (multicast), 2001:db8::/32 (documentation, RFC 3849), 64:ff9b::/96
 *   (NAT64, RFC 6052: an IPv4 host behind a translator, not us) and ::ffff:0:0/96
 *   (IPv4-mapped: never on the wire as IPv6); true for the rest of the space,
 *   including 3fff::/20 (RFC 9637), which the labs use as their "Internet" prefix.
 * IPv4: false for 0.0.0.0/8, 127/8, RFC 1918, 169.254/16, 100.64/10 (CGNAT),
 *   224/4 and 240/4 (with 255.255.255.255); the TEST-NET blocks (192.0.2/24,
 *   198.51.100/24, 203.0.113/24) count as public, because the simulated world and
 *   the namespace labs use them as Internet addresses.
 * False for NULL and an unset family.
 */
bool ethp2p_addr_is_public(const ethp2p_addr *a);
/* True if a and b share the first prefix_len bits. */
bool ethp2p_addr_same_subnet(const ethp2p_addr *a, const ethp2p_addr *b, unsigned prefix_len);

/* ---------------------------------------------------------------------------
 * The environment and its handles.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_env ethp2p_env;
typedef struct ethp2p_env_ops ethp2p_env_ops;
typedef struct ethp2p_timer ethp2p_timer;
typedef struct ethp2p_udp ethp2p_udp;
typedef struct ethp2p_tcp ethp2p_tcp;

typedef void (*ethp2p_timer_cb)(ethp2p_timer *timer, void *data);

/* A datagram arrived.  buf is valid only during the call. */
typedef void (*ethp2p_udp_recv_cb)(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf,
                                   size_t len, void *data);

/* Outcome of tcp_connect: status 0 = connected, else a negative ETHP2P_E* code
 * (ECONNREFUSED, ETIMEDOUT, ENETUNREACH, ...).  On failure the handle is still
 * the caller's and must be closed. */
typedef void (*ethp2p_tcp_connect_cb)(ethp2p_tcp *conn, int status, void *data);
/* A listener accepted `conn`; the callee owns conn (close it or start reading). */
typedef void (*ethp2p_tcp_accept_cb)(ethp2p_tcp *listener, ethp2p_tcp *conn, void *data);
/* Bytes arrived (status 0, len > 0), or the stream ended: status ETHP2P_ECLOSED for
 * an orderly end of stream, another negative code for an error.  After a non-zero
 * status no further read callbacks run; the handle must still be closed. */
typedef void (*ethp2p_tcp_read_cb)(ethp2p_tcp *conn, int status, const uint8_t *buf, size_t len,
                                   void *data);

struct ethp2p_env {
  const ethp2p_env_ops *ops;
  void *impl;
};

struct ethp2p_timer {
  ethp2p_env *env;
  ethp2p_timer_cb cb;
  void *data;
};

struct ethp2p_udp {
  ethp2p_env *env;
  ethp2p_udp_recv_cb recv_cb;
  void *data;
};

struct ethp2p_tcp {
  ethp2p_env *env;
  void *data; /* the callbacks' data pointer */
  ethp2p_tcp_connect_cb connect_cb;
  ethp2p_tcp_accept_cb accept_cb;
  ethp2p_tcp_read_cb read_cb;
};

/* One configured interface address.  Both families are listed, one entry per
 * address (an interface with an IPv4 and two IPv6 addresses gives three). */
typedef struct ethp2p_iface {
  char name[32];
  ethp2p_addr addr; /* port 0; scope = index for link-local IPv6, else 0 */
  uint8_t prefix_len;
  bool up;
  bool loopback;
  bool multicast;
  uint32_t index; /* the interface index (if_nametoindex); 0 if unknown */
  /* IPv6 address state from the kernel (all false for IPv4, or when unknown):
   * temporary  a privacy address (RFC 8981) that is replaced every day or so;
   * deprecated its preferred lifetime ended (RFC 4862 5.5.4): valid, not for new use;
   * tentative  duplicate address detection is running or failed: not usable. */
  bool temporary;
  bool deprecated;
  bool tentative;
} ethp2p_iface;

#define ETHP2P_UDP_REUSEADDR 0x1 /* SO_REUSEADDR/SO_REUSEPORT, to share a multicast port */

/*
 * IPv6 sockets are IPv6 only (IPV6_V6ONLY): binding [::] never takes IPv4
 * traffic, so a dual-stack node opens one socket per family (both may use the
 * same port), every peer address it sees is of its socket's family (no
 * ::ffff:a.b.c.d), and each family's endpoint is tracked on its own.
 */

struct ethp2p_env_ops {
  /* Clocks.  now: monotonic ns.  wall_ms: Unix time in ms (simulated worlds
   * return a virtual wall clock that starts at a fixed date). */
  ethp2p_time (*now)(ethp2p_env *env);
  int64_t (*wall_ms)(ethp2p_env *env);
  /* Fills buf with cryptographically random bytes (simulated: from the seeded PRNG). */
  void (*random)(ethp2p_env *env, uint8_t *buf, size_t len);

  /* Timers.  start() arms (or re-arms) the timer at an absolute deadline; a
   * deadline <= now fires on the next loop turn.  Timers with equal deadlines
   * fire in the order they were started (FIFO).  stop() disarms.  destroy()
   * disarms and releases; it is safe inside the timer's own callback. */
  int (*timer_create)(ethp2p_env *env, ethp2p_timer **out, ethp2p_timer_cb cb, void *data);
  void (*timer_start)(ethp2p_timer *timer, ethp2p_time deadline);
  void (*timer_stop)(ethp2p_timer *timer);
  void (*timer_destroy)(ethp2p_timer *timer);

  /* UDP.  open() binds (port 0 = any port) and starts receiving at once. */
  int (*udp_open)(ethp2p_env *env, ethp2p_udp **out, const ethp2p_addr *bind, unsigned flags,
                  ethp2p_udp_recv_cb cb, void *data);
  int (*udp_send)(ethp2p_udp *udp, const ethp2p_addr *to, const uint8_t *buf, size_t len);
  /* Multicast membership on the interface whose address is `iface` (NULL = default). */
  int (*udp_join)(ethp2p_udp *udp, const ethp2p_addr *group, const ethp2p_addr *iface);
  int (*udp_leave)(ethp2p_udp *udp, const ethp2p_addr *group, const ethp2p_addr *iface);
  /* Outgoing multicast interface and TTL (SSDP uses TTL 2). */
  int (*udp_set_multicast)(ethp2p_udp *udp, const ethp2p_addr *iface, unsigned ttl);
  int (*udp_local_addr)(ethp2p_udp *udp, ethp2p_addr *out);
  void (*udp_close)(ethp2p_udp *udp);

  /* TCP.  connect(): `from` may be NULL (any local address).  The result comes
   * through cb.  listen(): port 0 picks a free port (see tcp_local_addr). */
  int (*tcp_connect)(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *to,
                     const ethp2p_addr *from, ethp2p_tcp_connect_cb cb, void *data);
  int (*tcp_listen)(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *bind,
                    ethp2p_tcp_accept_cb cb, void *data);
  /* Starts delivering bytes to cb (with conn->data set to `data`). */
  int (*tcp_read_start)(ethp2p_tcp *conn, ethp2p_tcp_read_cb cb, void *data);
  /* Queues a copy of buf for sending; the caller may reuse buf at once. */
  int (*tcp_write)(ethp2p_tcp *conn, const uint8_t *buf, size_t len);
  /* Half-close: no more writes after the queued ones (FIN). */
  int (*tcp_shutdown)(ethp2p_tcp *conn);
  int (*tcp_local_addr)(ethp2p_tcp *conn, ethp2p_addr *out);
  int (*tcp_peer_addr)(ethp2p_tcp *conn, ethp2p_addr *out);
  void (*tcp_close)(ethp2p_tcp *conn);

  /* The host's interface addresses (up to cap; *n gets the number written). */
  int (*interfaces)(ethp2p_env *env, ethp2p_iface *out, size_t cap, size_t *n);
  /* The IPv4 default gateway from the routing table; ETHP2P_ENOTFOUND if none. */
  int (*default_gateway)(ethp2p_env *env, ethp2p_addr *gw);
  /* The IPv6 default router (next hop of ::/0; often link-local, then with its
   * scope set); ETHP2P_ENOTFOUND if none.  May be NULL in an environment without
   * IPv6 routes: ethp2p_env_default_gateway6 then returns ETHP2P_EUNSUPP. */
  int (*default_gateway6)(ethp2p_env *env, ethp2p_addr *gw);
};

/* ---------------------------------------------------------------------------
 * Thin wrappers, so callers read like libuv: ethp2p_timer_start(t, at).
 * ------------------------------------------------------------------------- */
static inline ethp2p_time ethp2p_env_now(ethp2p_env *env) {
  return env->ops->now(env);
}
static inline int64_t ethp2p_env_wall_ms(ethp2p_env *env) {
  return env->ops->wall_ms(env);
}
static inline void ethp2p_env_random(ethp2p_env *env, uint8_t *buf, size_t len) {
  env->ops->random(env, buf, len);
}
static inline int ethp2p_env_interfaces(ethp2p_env *env, ethp2p_iface *out, size_t cap, size_t *n) {
  return env->ops->interfaces(env, out, cap, n);
}
static inline int ethp2p_env_default_gateway(ethp2p_env *env, ethp2p_addr *gw) {
  return env->ops->default_gateway(env, gw);
}
/* Returns 0, ETHP2P_ENOTFOUND, ETHP2P_EUNSUPP (the environment has no IPv6 routing
 * table: the op is NULL, *gw zeroed) or an I/O error. */
static inline int ethp2p_env_default_gateway6(ethp2p_env *env, ethp2p_addr *gw) {
  if (env->ops->default_gateway6 == NULL) {
    const ethp2p_addr zero = {0};
    *gw = zero;
    return ETHP2P_EUNSUPP;
  }
  return env->ops->default_gateway6(env, gw);
}

static inline int ethp2p_timer_create(ethp2p_env *env, ethp2p_timer **out, ethp2p_timer_cb cb,
                                      void *data) {
  return env->ops->timer_create(env, out, cb, data);
}
static inline void ethp2p_timer_start(ethp2p_timer *t, ethp2p_time deadline) {
  t->env->ops->timer_start(t, deadline);
}
static inline void ethp2p_timer_stop(ethp2p_timer *t) {
  t->env->ops->timer_stop(t);
}
static inline void ethp2p_timer_destroy(ethp2p_timer *t) {
  if (t != NULL)
    t->env->ops->timer_destroy(t);
}

static inline int ethp2p_udp_open(ethp2p_env *env, ethp2p_udp **out, const ethp2p_addr *bind,
                                  unsigned flags, ethp2p_udp_recv_cb cb, void *data) {
  return env->ops->udp_open(env, out, bind, flags, cb, data);
}
static inline int ethp2p_udp_send(ethp2p_udp *u, const ethp2p_addr *to, const uint8_t *buf,
                                  size_t len) {
  return u->env->ops->udp_send(u, to, buf, len);
}
static inline int ethp2p_udp_join(ethp2p_udp *u, const ethp2p_addr *group,
                                  const ethp2p_addr *iface) {
  return u->env->ops->udp_join(u, group, iface);
}
static inline int ethp2p_udp_leave(ethp2p_udp *u, const ethp2p_addr *group,
                                   const ethp2p_addr *iface) {
  return u->env->ops->udp_leave(u, group, iface);
}
static inline int ethp2p_udp_set_multicast(ethp2p_udp *u, const ethp2p_addr *iface, unsigned ttl) {
  return u->env->ops->udp_set_multicast(u, iface, ttl);
}
static inline int ethp2p_udp_local_addr(ethp2p_udp *u, ethp2p_addr *out) {
  return u->env->ops->udp_local_addr(u, out);
}
static inline void ethp2p_udp_close(ethp2p_udp *u) {
  if (u != NULL)
    u->env->ops->udp_close(u);
}

static inline int ethp2p_tcp_connect(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *to,
                                     const ethp2p_addr *from, ethp2p_tcp_connect_cb cb,
                                     void *data) {
  return env->ops->tcp_connect(env, out, to, from, cb, data);
}
static inline int ethp2p_tcp_listen(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *bind,
                                    ethp2p_tcp_accept_cb cb, void *data) {
  return env->ops->tcp_listen(env, out, bind, cb, data);
}
static inline int ethp2p_tcp_read_start(ethp2p_tcp *c, ethp2p_tcp_read_cb cb, void *data) {
  return c->env->ops->tcp_read_start(c, cb, data);
}
static inline int ethp2p_tcp_write(ethp2p_tcp *c, const uint8_t *buf, size_t len) {
  return c->env->ops->tcp_write(c, buf, len);
}
static inline int ethp2p_tcp_shutdown(ethp2p_tcp *c) {
  return c->env->ops->tcp_shutdown(c);
}
static inline int ethp2p_tcp_local_addr(ethp2p_tcp *c, ethp2p_addr *out) {
  return c->env->ops->tcp_local_addr(c, out);
}
static inline int ethp2p_tcp_peer_addr(ethp2p_tcp *c, ethp2p_addr *out) {
  return c->env->ops->tcp_peer_addr(c, out);
}
static inline void ethp2p_tcp_close(ethp2p_tcp *c) {
  if (c != NULL)
    c->env->ops->tcp_close(c);
}

/* ---------------------------------------------------------------------------
 * Alarm (env/alarm.c): go-ethereum's mclock.Alarm on top of a timer.
 *
 * schedule(t) keeps the earliest deadline: if the alarm is armed (its callback
 * has not run yet) and its deadline is not later than t, it is kept, even when
 * that deadline is already due; otherwise it is re-armed at t.  A time in the
 * past fires on the next loop turn.  The callback runs once per arming.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_alarm ethp2p_alarm;
typedef void (*ethp2p_alarm_cb)(ethp2p_alarm *alarm, void *data);

struct ethp2p_alarm {
  ethp2p_env *env;
  ethp2p_timer *timer;
  ethp2p_time deadline;
  bool armed;
  ethp2p_alarm_cb cb;
  void *data;
};

/* Initializes caller-owned alarm memory.  Returns 0 or ETHP2P_ENOMEM. */
int ethp2p_alarm_init(ethp2p_alarm *alarm, ethp2p_env *env, ethp2p_alarm_cb cb, void *data);
void ethp2p_alarm_schedule(ethp2p_alarm *alarm, ethp2p_time t);
void ethp2p_alarm_stop(ethp2p_alarm *alarm);
/* Stops and releases the timer; the struct may be freed afterwards. */
void ethp2p_alarm_close(ethp2p_alarm *alarm);

#ifdef __cplusplus
}
#endif
#endif
