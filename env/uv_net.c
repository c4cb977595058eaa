/*
 * env/uv_net.c — UDP and TCP handles of the libuv environment.
 *
 * Rules kept here (ethp2p/env.h):
 *   - a function that returns an error never calls its callback: every failure
 *     after uv_*_init closes the half-made handle quietly and frees it in the
 *     close callback; the caller never sees it;
 *   - no callback runs inside the call that arms it (libuv never calls back
 *     synchronously; uv_udp_try_send has no callback);
 *   - once close() has been called, no user callback of the handle runs, even
 *     for events libuv has already queued (connect/write requests cancelled by
 *     uv_close come back with UV_ECANCELED and are swallowed).  The memory is
 *     freed in the uv_close callback.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/uv_int.h"
#include "ethp2p/log.h"

#define UDP_MAX_PAYLOAD 65535u /* the 16-bit UDP length field (RFC 768) caps every datagram */
#define TCP_BACKLOG 128

/* ---------------------------------------------------------------------------
 * Addresses
 * ------------------------------------------------------------------------- */
bool uvenv_to_sockaddr(const ethp2p_addr *a, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  if (a == NULL)
    return false;
  if (a->family == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a->port);
    memcpy(&sin->sin_addr, a->ip, 4);
    return true;
  }
  if (a->family == 6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(a->port);
    memcpy(&sin6->sin6_addr, a->ip, 16);
    sin6->sin6_scope_id = a->scope;
    return true;
  }
  return false;
}

bool uvenv_from_sockaddr(const struct sockaddr *sa, ethp2p_addr *a) {
  memset(a, 0, sizeof(*a));
  if (sa == NULL)
    return false;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
    a->family = 4;
    memcpy(a->ip, &sin->sin_addr, 4);
    a->port = ntohs(sin->sin_port);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
    a->family = 6;
    memcpy(a->ip, &sin6->sin6_addr, 16);
    a->port = ntohs(sin6->sin6_port);
    a->scope = sin6->sin6_scope_id;
    return true;
  }
  return false;
}

static int sock_name(int (*get)(const uv_handle_t *, struct sockaddr *, int *),
                     const uv_handle_t *h, ethp2p_addr *out) {
  struct sockaddr_storage ss;
  int len = (int)sizeof(ss);
  int rc = get(h, (struct sockaddr *)&ss, &len);
  if (rc != 0)
    return ethp2p_uvenv_error(rc);
  return uvenv_from_sockaddr((struct sockaddr *)&ss, out) ? 0 : ETHP2P_EUNSUPP;
}

/* ---------------------------------------------------------------------------
 * UDP
 * ------------------------------------------------------------------------- */
typedef struct uvenv_udp {
  ethp2p_udp base; /* must stay first */
  uvenv_node node;
  uv_udp_t h;
  bool closing;
  uint8_t family; /* of the bound address: 4 or 6 (IPv6 sockets are v6-only) */
  uint8_t buf[UVENV_RECV_BUF];
} uvenv_udp;

typedef struct udp_send_req {
  uv_udp_send_t req;
  uint8_t data[]; /* the copy of the datagram */
} udp_send_req;

static void udp_on_close(uv_handle_t *h) {
  uvenv_udp *u = h->data;
  uvenv *e = uvenv_of(u->base.env);
  e->closing--;
  free(u);
}

/* Closes a handle that is not (or no longer) the caller's. */
static void udp_close_quiet(uvenv_udp *u) {
  uvenv *e = uvenv_of(u->base.env);
  u->closing = true;
  uvenv_node_unlink(&u->node);
  e->closing++;
  uv_close((uv_handle_t *)&u->h, udp_on_close);
}

static void udp_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  uvenv_udp *u = h->data;
  (void)suggested;
  *buf = uv_buf_init((char *)u->buf, sizeof(u->buf));
}

static void udp_on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *sa,
                        unsigned flags) {
  uvenv_udp *u = h->data;
  ethp2p_addr from;
  (void)buf;
  if (u->closing)
    return;
  if (nread < 0) {
    /* ICMP errors of earlier sends and the like; a datagram socket goes on. */
    ethp2p_log(ETHP2P_LOG_DEBUG, "env", "UDP receive error", "err=%s",
               ethp2p_strerror(ethp2p_uvenv_error((int)nread)));
    return;
  }
  if (sa == NULL) /* "nothing more to read" */
    return;
  if (flags & UV_UDP_PARTIAL) /* impossible with a 64 KiB buffer; never hand over a cut datagram */
    return;
  if (!uvenv_from_sockaddr(sa, &from))
    return;
  if (u->base.recv_cb != NULL)
    u->base.recv_cb(&u->base, &from, u->buf, (size_t)nread, u->base.data);
}

int uvenv_udp_open(ethp2p_env *env, ethp2p_udp **out, const ethp2p_addr *bind, unsigned flags,
                   ethp2p_udp_recv_cb cb, void *data) {
  uvenv *e;
  uvenv_udp *u;
  struct sockaddr_storage ss;
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 0);
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || (flags & ~(unsigned)ETHP2P_UDP_REUSEADDR) != 0)
    return ETHP2P_EINVAL;
  if (!uvenv_to_sockaddr(bind != NULL ? bind : &any, &ss))
    return ETHP2P_EINVAL;
  e = uvenv_of(env);
  u = calloc(1, sizeof(*u));
  if (u == NULL)
    return ETHP2P_ENOMEM;
  u->base.env = env;
  u->base.recv_cb = cb;
  u->base.data = data;
  u->node.owner = u;
  u->family = ss.ss_family == AF_INET6 ? 6 : 4;
  rc = uv_udp_init(e->loop, &u->h);
  if (rc != 0) {
    free(u);
    return ethp2p_uvenv_error(rc);
  }
  u->h.data = u;
  rc = uv_udp_bind(&u->h, (const struct sockaddr *)&ss,
                   ((flags & ETHP2P_UDP_REUSEADDR) ? UV_UDP_REUSEADDR : 0) |
                       (ss.ss_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0));
  if (rc == 0)
    rc = uv_udp_recv_start(&u->h, udp_on_alloc, udp_on_recv);
  if (rc != 0) {
    udp_close_quiet(u);
    return ethp2p_uvenv_error(rc);
  }
  uvenv_node_link(e, &u->node);
  *out = &u->base;
  return 0;
}

static void udp_on_sent(uv_udp_send_t *req, int status) {
  if (status < 0 && status != UV_ECANCELED)
    ethp2p_log(ETHP2P_LOG_DEBUG, "env", "UDP send failed", "err=%s",
               ethp2p_strerror(ethp2p_uvenv_error(status)));
  free(req); /* req is the first member of udp_send_req */
}

int uvenv_udp_send(ethp2p_udp *udp, const ethp2p_addr *to, const uint8_t *buf, size_t len) {
  uvenv_udp *u = (uvenv_udp *)udp;
  struct sockaddr_storage ss;
  udp_send_req *r;
  uv_buf_t b;
  int rc;
  if (u == NULL || (buf == NULL && len > 0))
    return ETHP2P_EINVAL;
  if (u->closing)
    return ETHP2P_ECLOSED;
  if (!uvenv_to_sockaddr(to, &ss))
    return ETHP2P_EINVAL;
  if (len > UDP_MAX_PAYLOAD)
    return ETHP2P_ETOOBIG;
  b = uv_buf_init((char *)(uintptr_t)buf, (unsigned)len);
  /* Send now when the socket takes it (the common case, no copy) ... */
  rc = uv_udp_try_send(&u->h, &b, 1, (const struct sockaddr *)&ss);
  if (rc >= 0)
    return 0;
  if (rc != UV_EAGAIN && rc != UV_ENOSYS)
    return ethp2p_uvenv_error(rc);
  /* ... otherwise queue a copy behind the datagrams already waiting. */
  r = malloc(sizeof(*r) + len);
  if (r == NULL)
    return ETHP2P_ENOMEM;
  if (len > 0)
    memcpy(r->data, buf, len);
  b = uv_buf_init((char *)r->data, (unsigned)len);
  rc = uv_udp_send(&r->req, &u->h, &b, 1, (const struct sockaddr *)&ss, udp_on_sent);
  if (rc != 0) {
    free(r);
    return ethp2p_uvenv_error(rc);
  }
  return 0;
}

/* Text forms for libuv's multicast calls.  An IPv6 interface is named by its
 * address plus "%ifname" so libuv can turn it into a scope id. */
static int group_text(const ethp2p_addr *group, char *buf, size_t size) {
  if (group == NULL || (group->family != 4 && group->family != 6) ||
      !ethp2p_addr_is_multicast(group))
    return ETHP2P_EINVAL;
  ethp2p_addr_format(group, false, buf, size);
  return 0;
}

static int iface_text(const ethp2p_addr *iface, char *buf, size_t size) {
  char name[IF_NAMESIZE];
  size_t n;
  int rc;
  if (iface == NULL)
    return 0;
  if (iface->family != 4 && iface->family != 6)
    return ETHP2P_EINVAL;
  ethp2p_addr_format(iface, false, buf, size);
  if (iface->family == 4)
    return 0;
  rc = uvenv_iface_name_of(iface, name, sizeof(name));
  if (rc != 0)
    return rc;
  n = strlen(buf);
  snprintf(buf + n, size - n, "%%%s", name);
  return 0;
}

static int udp_membership(ethp2p_udp *udp, const ethp2p_addr *group, const ethp2p_addr *iface,
                          uv_membership which) {
  uvenv_udp *u = (uvenv_udp *)udp;
  char g[ETHP2P_ADDRSTRLEN], i[ETHP2P_ADDRSTRLEN + IF_NAMESIZE];
  int rc;
  if (u == NULL)
    return ETHP2P_EINVAL;
  if (u->closing)
    return ETHP2P_ECLOSED;
  rc = group_text(group, g, sizeof(g));
  if (rc != 0)
    return rc;
  /* An IPv6-only socket never receives IPv4 multicast (and the reverse). */
  if (group->family != u->family || (iface != NULL && iface->family != group->family))
    return ETHP2P_EINVAL;
  rc = iface_text(iface, i, sizeof(i));
  if (rc != 0)
    return rc;
  return ethp2p_uvenv_error(uv_udp_set_membership(&u->h, g, iface != NULL ? i : NULL, which));
}

int uvenv_udp_join(ethp2p_udp *udp, const ethp2p_addr *group, const ethp2p_addr *iface) {
  return udp_membership(udp, group, iface, UV_JOIN_GROUP);
}

int uvenv_udp_leave(ethp2p_udp *udp, const ethp2p_addr *group, const ethp2p_addr *iface) {
  return udp_membership(udp, group, iface, UV_LEAVE_GROUP);
}

int uvenv_udp_set_multicast(ethp2p_udp *udp, const ethp2p_addr *iface, unsigned ttl) {
  uvenv_udp *u = (uvenv_udp *)udp;
  char i[ETHP2P_ADDRSTRLEN + IF_NAMESIZE];
  int rc;
  if (u == NULL || ttl > 255)
    return ETHP2P_EINVAL;
  if (u->closing)
    return ETHP2P_ECLOSED;
  rc = iface_text(iface, i, sizeof(i));
  if (rc != 0)
    return rc;
  rc = uv_udp_set_multicast_interface(&u->h, iface != NULL ? i : NULL);
  if (rc == 0)
    rc = uv_udp_set_multicast_ttl(&u->h, (int)ttl);
  return ethp2p_uvenv_error(rc);
}

static int udp_sockname(const uv_handle_t *h, struct sockaddr *sa, int *len) {
  return uv_udp_getsockname((const uv_udp_t *)h, sa, len);
}

int uvenv_udp_local_addr(ethp2p_udp *udp, ethp2p_addr *out) {
  uvenv_udp *u = (uvenv_udp *)udp;
  if (out == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof(*out));
  if (u == NULL)
    return ETHP2P_EINVAL;
  if (u->closing)
    return ETHP2P_ECLOSED;
  return sock_name(udp_sockname, (const uv_handle_t *)&u->h, out);
}

void uvenv_udp_close(ethp2p_udp *udp) {
  uvenv_udp *u = (uvenv_udp *)udp;
  if (u == NULL || u->closing)
    return;
  udp_close_quiet(u);
}

/* ---------------------------------------------------------------------------
 * TCP
 * ------------------------------------------------------------------------- */
enum tcp_state { TCP_CONNECTING, TCP_CONNECTED, TCP_FAILED, TCP_LISTENING };

typedef struct uvenv_tcp {
  ethp2p_tcp base; /* must stay first */
  uvenv_node node;
  uv_tcp_t h;
  uv_connect_t connect_req;
  uv_shutdown_t shutdown_req;
  enum tcp_state state;
  bool closing;
  bool reading;   /* uv_read_start active */
  bool read_done; /* the final read status has been delivered */
  bool shut;      /* shutdown requested: no more writes */
} uvenv_tcp;

typedef struct tcp_write_req {
  uv_write_t req;
  uint8_t data[];
} tcp_write_req;

static void tcp_on_close(uv_handle_t *h) {
  uvenv_tcp *t = h->data;
  uvenv *e = uvenv_of(t->base.env);
  e->closing--;
  free(t);
}

static void tcp_close_quiet(uvenv_tcp *t) {
  uvenv *e = uvenv_of(t->base.env);
  t->closing = true;
  uvenv_node_unlink(&t->node);
  e->closing++;
  uv_close((uv_handle_t *)&t->h, tcp_on_close);
}

static uvenv_tcp *tcp_new(ethp2p_env *env, int *rc) {
  uvenv_tcp *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    *rc = ETHP2P_ENOMEM;
    return NULL;
  }
  t->base.env = env;
  t->node.owner = t;
  t->node.is_tcp = true;
  *rc = uv_tcp_init(uvenv_of(env)->loop, &t->h);
  if (*rc != 0) {
    *rc = ethp2p_uvenv_error(*rc);
    free(t);
    return NULL;
  }
  t->h.data = t;
  return t;
}

static void tcp_on_connect(uv_connect_t *req, int status) {
  uvenv_tcp *t = req->handle->data;
  if (t->closing) /* closed while connecting: UV_ECANCELED, the caller is gone */
    return;
  t->state = status == 0 ? TCP_CONNECTED : TCP_FAILED;
  if (t->base.connect_cb != NULL)
    t->base.connect_cb(&t->base, ethp2p_uvenv_error(status), t->base.data);
}

int uvenv_tcp_connect(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *to,
                      const ethp2p_addr *from, ethp2p_tcp_connect_cb cb, void *data) {
  struct sockaddr_storage dst, src;
  uvenv_tcp *t;
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || cb == NULL || !uvenv_to_sockaddr(to, &dst))
    return ETHP2P_EINVAL;
  if (from != NULL && (!uvenv_to_sockaddr(from, &src) || from->family != to->family))
    return ETHP2P_EINVAL;
  t = tcp_new(env, &rc);
  if (t == NULL)
    return rc;
  t->base.connect_cb = cb;
  t->base.data = data;
  t->state = TCP_CONNECTING;
  rc = 0;
  if (from != NULL)
    rc = uv_tcp_bind(&t->h, (const struct sockaddr *)&src,
                     src.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
  if (rc == 0)
    rc = uv_tcp_connect(&t->connect_req, &t->h, (const struct sockaddr *)&dst, tcp_on_connect);
  if (rc != 0) {
    tcp_close_quiet(t);
    return ethp2p_uvenv_error(rc);
  }
  uvenv_node_link(uvenv_of(env), &t->node);
  *out = &t->base;
  return 0;
}

static void tcp_on_connection(uv_stream_t *server, int status) {
  uvenv_tcp *l = server->data;
  uvenv_tcp *c;
  int rc;
  if (l->closing)
    return;
  if (status < 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "env", "TCP accept failed", "err=%s",
               ethp2p_strerror(ethp2p_uvenv_error(status)));
    return;
  }
  c = tcp_new(l->base.env, &rc);
  if (c == NULL) {
    ethp2p_log(ETHP2P_LOG_WARN, "env", "Cannot accept TCP connection", "err=%s",
               ethp2p_strerror(rc));
    return;
  }
  rc = uv_accept(server, (uv_stream_t *)&c->h);
  if (rc != 0 || l->base.accept_cb == NULL) {
    tcp_close_quiet(c);
    return;
  }
  c->state = TCP_CONNECTED;
  uvenv_node_link(uvenv_of(l->base.env), &c->node);
  l->base.accept_cb(&l->base, &c->base, l->base.data);
}

int uvenv_tcp_listen(ethp2p_env *env, ethp2p_tcp **out, const ethp2p_addr *bind,
                     ethp2p_tcp_accept_cb cb, void *data) {
  struct sockaddr_storage ss;
  uvenv_tcp *t;
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || cb == NULL || !uvenv_to_sockaddr(bind, &ss))
    return ETHP2P_EINVAL;
  t = tcp_new(env, &rc);
  if (t == NULL)
    return rc;
  t->base.accept_cb = cb;
  t->base.data = data;
  t->state = TCP_LISTENING;
  rc = uv_tcp_bind(&t->h, (const struct sockaddr *)&ss,
                   ss.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
  if (rc == 0) /* libuv reports EADDRINUSE of the bind here */
    rc = uv_listen((uv_stream_t *)&t->h, TCP_BACKLOG, tcp_on_connection);
  if (rc != 0) {
    tcp_close_quiet(t);
    return ethp2p_uvenv_error(rc);
  }
  uvenv_node_link(uvenv_of(env), &t->node);
  *out = &t->base;
  return 0;
}

static void tcp_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  uvenv_tcp *t = h->data;
  uvenv *e = uvenv_of(t->base.env);
  (void)suggested;
  *buf = uv_buf_init((char *)e->tcp_buf, sizeof(e->tcp_buf));
}

/* Delivers the one final read status and stops reading. */
static void tcp_read_finish(uvenv_tcp *t, int status) {
  uv_read_stop((uv_stream_t *)&t->h);
  t->reading = false;
  t->read_done = true;
  if (t->base.read_cb != NULL)
    t->base.read_cb(&t->base, status, NULL, 0, t->base.data);
}

static void tcp_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  uvenv_tcp *t = s->data;
  if (t->closing || t->read_done)
    return;
  if (nread > 0) {
    t->base.read_cb(&t->base, 0, (const uint8_t *)buf->base, (size_t)nread, t->base.data);
    return;
  }
  if (nread < 0)
    tcp_read_finish(t, ethp2p_uvenv_error((int)nread));
}

int uvenv_tcp_read_start(ethp2p_tcp *conn, ethp2p_tcp_read_cb cb, void *data) {
  uvenv_tcp *t = (uvenv_tcp *)conn;
  int rc;
  if (t == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  if (t->closing)
    return ETHP2P_ECLOSED;
  if (t->state != TCP_CONNECTED || t->read_done)
    return ETHP2P_ESTATE;
  t->base.read_cb = cb;
  t->base.data = data;
  if (t->reading)
    return 0;
  rc = uv_read_start((uv_stream_t *)&t->h, tcp_on_alloc, tcp_on_read);
  if (rc != 0)
    return ethp2p_uvenv_error(rc);
  t->reading = true;
  return 0;
}

static void tcp_on_write(uv_write_t *req, int status) {
  uvenv_tcp *t = req->handle->data;
  free(req); /* req is the first member of tcp_write_req */
  if (status == 0 || status == UV_ECANCELED || t->closing)
    return;
  ethp2p_log(ETHP2P_LOG_DEBUG, "env", "TCP write failed", "err=%s",
             ethp2p_strerror(ethp2p_uvenv_error(status)));
  /* There is no write callback: a reader learns of the broken stream here. */
  if (t->reading && !t->read_done)
    tcp_read_finish(t, ethp2p_uvenv_error(status));
}

int uvenv_tcp_write(ethp2p_tcp *conn, const uint8_t *buf, size_t len) {
  uvenv_tcp *t = (uvenv_tcp *)conn;
  tcp_write_req *r;
  uv_buf_t b;
  size_t done = 0;
  int rc;
  if (t == NULL || (buf == NULL && len > 0) || len > UINT32_MAX)
    return ETHP2P_EINVAL;
  if (t->closing)
    return ETHP2P_ECLOSED;
  if (t->state != TCP_CONNECTED || t->shut)
    return ETHP2P_ESTATE;
  if (len == 0)
    return 0;
  /* Write what the socket takes now (nothing is queued, or libuv says EAGAIN) ... */
  b = uv_buf_init((char *)(uintptr_t)buf, (unsigned)len);
  rc = uv_try_write((uv_stream_t *)&t->h, &b, 1);
  if (rc >= 0)
    done = (size_t)rc;
  else if (rc != UV_EAGAIN && rc != UV_ENOSYS)
    return ethp2p_uvenv_error(rc);
  if (done == len)
    return 0;
  /* ... and queue a copy of the rest. */
  r = malloc(sizeof(*r) + (len - done));
  if (r == NULL)
    return ETHP2P_ENOMEM;
  memcpy(r->data, buf + done, len - done);
  b = uv_buf_init((char *)r->data, (unsigned)(len - done));
  rc = uv_write(&r->req, (uv_stream_t *)&t->h, &b, 1, tcp_on_write);
  if (rc != 0) {
    free(r);
    return ethp2p_uvenv_error(rc);
  }
  return 0;
}

static void tcp_on_shutdown(uv_shutdown_t *req, int status) {
  (void)req;
  if (status < 0 && status != UV_ECANCELED)
    ethp2p_log(ETHP2P_LOG_DEBUG, "env", "TCP shutdown failed", "err=%s",
               ethp2p_strerror(ethp2p_uvenv_error(status)));
}

int uvenv_tcp_shutdown(ethp2p_tcp *conn) {
  uvenv_tcp *t = (uvenv_tcp *)conn;
  int rc;
  if (t == NULL)
    return ETHP2P_EINVAL;
  if (t->closing)
    return ETHP2P_ECLOSED;
  if (t->state != TCP_CONNECTED || t->shut)
    return ETHP2P_ESTATE;
  rc = uv_shutdown(&t->shutdown_req, (uv_stream_t *)&t->h, tcp_on_shutdown);
  if (rc != 0)
    return ethp2p_uvenv_error(rc);
  t->shut = true;
  return 0;
}

static int tcp_sockname(const uv_handle_t *h, struct sockaddr *sa, int *len) {
  return uv_tcp_getsockname((const uv_tcp_t *)h, sa, len);
}

static int tcp_peername(const uv_handle_t *h, struct sockaddr *sa, int *len) {
  return uv_tcp_getpeername((const uv_tcp_t *)h, sa, len);
}

int uvenv_tcp_local_addr(ethp2p_tcp *conn, ethp2p_addr *out) {
  uvenv_tcp *t = (uvenv_tcp *)conn;
  if (out == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof(*out));
  if (t == NULL)
    return ETHP2P_EINVAL;
  if (t->closing)
    return ETHP2P_ECLOSED;
  return sock_name(tcp_sockname, (const uv_handle_t *)&t->h, out);
}

int uvenv_tcp_peer_addr(ethp2p_tcp *conn, ethp2p_addr *out) {
  uvenv_tcp *t = (uvenv_tcp *)conn;
  if (out == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof(*out));
  if (t == NULL)
    return ETHP2P_EINVAL;
  if (t->closing)
    return ETHP2P_ECLOSED;
  if (t->state != TCP_CONNECTED)
    return ETHP2P_ESTATE;
  return sock_name(tcp_peername, (const uv_handle_t *)&t->h, out);
}

void uvenv_tcp_close(ethp2p_tcp *conn) {
  uvenv_tcp *t = (uvenv_tcp *)conn;
  if (t == NULL || t->closing)
    return;
  tcp_close_quiet(t);
}
