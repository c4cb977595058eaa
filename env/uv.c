/*
 * env/uv.c — the libuv environment: lifecycle, clocks, randomness, timers, and
 * the libuv -> ETHP2P_E* error map.  Sockets live in uv_net.c, interfaces and
 * the routing table in uv_sys.c.
 *
 * Timers: our own binary min-heap keyed by (deadline ns, start sequence), so
 * deadlines keep nanosecond precision and ties fire in start order no matter how
 * libuv rounds milliseconds.  Due timers are only ever fired from the uv_idle_t
 * callback: an active idle handle makes the loop poll I/O without blocking, and
 * idle callbacks run once per loop iteration, so "fires on the next loop turn"
 * means exactly that, and a timer re-armed in the past from its own callback
 * cannot starve I/O.  The uv_timer_t "driver" only wakes the loop when the
 * earliest deadline is in the future; its callback starts the idle handle.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/osrand.h"
#include "env/uv_int.h"
#include "ethp2p/log.h"

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */
int ethp2p_uvenv_error(int uv_err) {
  switch (uv_err) {
  case 0:
    return 0;
  case UV_EOF:
    return ETHP2P_ECLOSED;
  case UV_ECONNREFUSED:
    return ETHP2P_ECONNREFUSED;
  case UV_ETIMEDOUT:
    return ETHP2P_ETIMEDOUT;
  case UV_ENETUNREACH:
  case UV_EHOSTUNREACH:
  case UV_ENETDOWN:
  case UV_EHOSTDOWN:
    return ETHP2P_ENETUNREACH;
  case UV_EADDRINUSE:
    return ETHP2P_EADDRINUSE;
  case UV_ECONNRESET:
  case UV_EPIPE:
  case UV_ECONNABORTED:
    return ETHP2P_ECONNRESET;
  case UV_ECANCELED:
    return ETHP2P_ECANCELED;
  case UV_ENOMEM:
  case UV_ENOBUFS:
    return ETHP2P_ENOMEM;
  case UV_EACCES:
  case UV_EPERM:
    return ETHP2P_EPERM;
  case UV_EMSGSIZE:
    return ETHP2P_ETOOBIG;
  case UV_EINVAL:
  case UV_EADDRNOTAVAIL:
    return ETHP2P_EINVAL;
  case UV_EAFNOSUPPORT:
  case UV_ENOTSUP:
  case UV_ENOSYS:
    return ETHP2P_EUNSUPP;
  case UV_EBUSY:
  case UV_EAGAIN:
    return ETHP2P_EBUSY;
  case UV_ENOTCONN:
  case UV_EALREADY:
  case UV_EISCONN:
    return ETHP2P_ESTATE;
  case UV_ENOENT:
  case UV_ENODEV:
  case UV_ENXIO:
    return ETHP2P_ENOTFOUND;
  default:
    return ETHP2P_EIO;
  }
}

/* ---------------------------------------------------------------------------
 * Handle bookkeeping
 * ------------------------------------------------------------------------- */
void uvenv_node_link(uvenv *e, uvenv_node *n) {
  n->next = e->socks.next;
  n->prev = &e->socks;
  e->socks.next->prev = n;
  e->socks.next = n;
}

void uvenv_node_unlink(uvenv_node *n) {
  if (n->next == NULL)
    return;
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = NULL;
}

/* ---------------------------------------------------------------------------
 * Clocks and randomness
 * ------------------------------------------------------------------------- */
static ethp2p_time uvenv_now(ethp2p_env *env) {
  (void)env;
  return (ethp2p_time)uv_hrtime();
}

static int64_t uvenv_wall_ms(ethp2p_env *env) {
  uv_timeval64_t tv;
  (void)env;
  if (uv_gettimeofday(&tv) != 0)
    return 0;
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The kernel's CSPRNG (core/osrand.h); without one there is no safe way on. */
static void uvenv_random(ethp2p_env *env, uint8_t *buf, size_t len) {
  (void)env;
  if (ethp2p_os_random(buf, len) != 0) {
    ethp2p_log(ETHP2P_LOG_CRIT, "env", "No source of random bytes", "len=%zu", len);
    abort(); /* weak keys or nonces would be worse than stopping */
  }
}

/* ---------------------------------------------------------------------------
 * Timers: a binary min-heap of armed timers
 * ------------------------------------------------------------------------- */
static bool timer_before(const uvenv_timer *a, const uvenv_timer *b) {
  return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_set(uvenv *e, size_t i, uvenv_timer *t) {
  e->heap[i] = t;
  t->index = i;
}

static void heap_up(uvenv *e, size_t i) {
  uvenv_timer *t = e->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!timer_before(t, e->heap[parent]))
      break;
    heap_set(e, i, e->heap[parent]);
    i = parent;
  }
  heap_set(e, i, t);
}

static void heap_down(uvenv *e, size_t i) {
  uvenv_timer *t = e->heap[i];
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = l;
    if (l >= e->heap_len)
      break;
    if (r < e->heap_len && timer_before(e->heap[r], e->heap[l]))
      m = r;
    if (!timer_before(e->heap[m], t))
      break;
    heap_set(e, i, e->heap[m]);
    i = m;
  }
  heap_set(e, i, t);
}

static void heap_remove(uvenv *e, uvenv_timer *t) {
  size_t i = t->index;
  uvenv_timer *last;
  if (i == UVENV_NOT_ARMED)
    return;
  t->index = UVENV_NOT_ARMED;
  last = e->heap[--e->heap_len];
  if (last == t)
    return;
  heap_set(e, i, last);
  heap_up(e, i);
  heap_down(e, last->index);
}

static void on_idle(uv_idle_t *idle);

static void wake_idle(uvenv *e) {
  uv_timer_stop(&e->driver);
  uv_idle_start(&e->idle, on_idle);
  e->wake = UVENV_WAKE_IDLE;
}

static void on_driver(uv_timer_t *driver) {
  /* Fire from the idle phase only (see the head of this file). */
  wake_idle(driver->data);
}

/* Points the libuv handles at the earliest deadline (touching them only when
 * that changes, so starting a later timer costs no libuv call). */
static void timers_rearm(uvenv *e) {
  ethp2p_time now, next, wait;
  uint64_t ms;
  if (e->dispatching)
    return; /* dispatch re-arms once at its end */
  if (e->heap_len == 0) {
    uv_timer_stop(&e->driver);
    uv_idle_stop(&e->idle);
    e->wake = UVENV_WAKE_NONE;
    return;
  }
  next = e->heap[0]->deadline;
  now = uvenv_now(&e->base);
  if (next <= now) {
    if (e->wake != UVENV_WAKE_IDLE)
      wake_idle(e);
    return;
  }
  if (e->wake == UVENV_WAKE_DRIVER && e->driver_at == next)
    return;
  uv_idle_stop(&e->idle);
  wait = next - now;
  ms = wait / ETHP2P_MSEC + (wait % ETHP2P_MSEC != 0); /* round up, no overflow */
  /* The driver counts from uv_now(); bring it up to date so it is not early by
   * the time spent since the loop iteration began.  If it is early anyway
   * (coarse clocks), on_idle finds nothing due and re-arms. */
  uv_update_time(e->loop);
  uv_timer_start(&e->driver, on_driver, ms, 0);
  e->wake = UVENV_WAKE_DRIVER;
  e->driver_at = next;
}

static void on_idle(uv_idle_t *idle) {
  uvenv *e = idle->data;
  uint64_t limit = e->next_seq; /* timers (re)started from here on wait a turn */
  ethp2p_time now = uvenv_now(&e->base);
  e->dispatching = true;
  while (e->heap_len > 0) {
    uvenv_timer *t = e->heap[0];
    if (t->deadline > now || t->seq >= limit)
      break;
    heap_remove(e, t);
    /* The callback may start, stop or destroy any timer, this one included. */
    t->base.cb(&t->base, t->base.data);
  }
  e->dispatching = false;
  e->wake = UVENV_WAKE_IDLE; /* still active; timers_rearm decides what comes next */
  timers_rearm(e);
}

static int uvenv_timer_create(ethp2p_env *env, ethp2p_timer **out, ethp2p_timer_cb cb, void *data) {
  uvenv *e;
  uvenv_timer *t;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  e = uvenv_of(env);
  /* Reserve a heap slot now, so timer_start (which returns void) never allocates. */
  if (e->ntimers + 1 > e->heap_cap) {
    size_t cap = e->heap_cap == 0 ? 16 : e->heap_cap * 2;
    uvenv_timer **heap = realloc(e->heap, cap * sizeof(*heap));
    if (heap == NULL)
      return ETHP2P_ENOMEM;
    e->heap = heap;
    e->heap_cap = cap;
  }
  t = calloc(1, sizeof(*t));
  if (t == NULL)
    return ETHP2P_ENOMEM;
  t->base.env = env;
  t->base.cb = cb;
  t->base.data = data;
  t->index = UVENV_NOT_ARMED;
  t->next = e->timers;
  if (e->timers != NULL)
    e->timers->prev = t;
  e->timers = t;
  e->ntimers++;
  *out = &t->base;
  return 0;
}

static void uvenv_timer_start(ethp2p_timer *timer, ethp2p_time deadline) {
  uvenv_timer *t = (uvenv_timer *)timer;
  uvenv *e = uvenv_of(timer->env);
  heap_remove(e, t);
  t->deadline = deadline;
  t->seq = e->next_seq++;
  e->heap[e->heap_len] = t;
  t->index = e->heap_len++;
  heap_up(e, t->index);
  timers_rearm(e);
}

static void uvenv_timer_stop(ethp2p_timer *timer) {
  uvenv_timer *t = (uvenv_timer *)timer;
  uvenv *e = uvenv_of(timer->env);
  if (t->index == UVENV_NOT_ARMED)
    return;
  heap_remove(e, t);
  timers_rearm(e);
}

static void uvenv_timer_destroy(ethp2p_timer *timer) {
  uvenv_timer *t = (uvenv_timer *)timer;
  uvenv *e = uvenv_of(timer->env);
  heap_remove(e, t);
  if (t->prev != NULL)
    t->prev->next = t->next;
  else
    e->timers = t->next;
  if (t->next != NULL)
    t->next->prev = t->prev;
  e->ntimers--;
  free(t);
  timers_rearm(e);
}

/* ---------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------- */
static const ethp2p_env_ops uvenv_ops = {
    .now = uvenv_now,
    .wall_ms = uvenv_wall_ms,
    .random = uvenv_random,
    .timer_create = uvenv_timer_create,
    .timer_start = uvenv_timer_start,
    .timer_stop = uvenv_timer_stop,
    .timer_destroy = uvenv_timer_destroy,
    .udp_open = uvenv_udp_open,
    .udp_send = uvenv_udp_send,
    .udp_join = uvenv_udp_join,
    .udp_leave = uvenv_udp_leave,
    .udp_set_multicast = uvenv_udp_set_multicast,
    .udp_local_addr = uvenv_udp_local_addr,
    .udp_close = uvenv_udp_close,
    .tcp_connect = uvenv_tcp_connect,
    .tcp_listen = uvenv_tcp_listen,
    .tcp_read_start = uvenv_tcp_read_start,
    .tcp_write = uvenv_tcp_write,
    .tcp_shutdown = uvenv_tcp_shutdown,
    .tcp_local_addr = uvenv_tcp_local_addr,
    .tcp_peer_addr = uvenv_tcp_peer_addr,
    .tcp_close = uvenv_tcp_close,
    .interfaces = uvenv_interfaces,
    .default_gateway = uvenv_default_gateway,
    .default_gateway6 = uvenv_default_gateway6,
};

/* libuv writes to sockets with write(2), so a peer that reset the connection
 * raises SIGPIPE, whose default action kills the process.  A network runtime
 * must survive a router resetting an HTTP connection, so unless the
 * application chose a disposition itself, ignore the signal (the write then
 * fails with EPIPE -> ETHP2P_ECONNRESET). */
static void ignore_sigpipe(void) {
  struct sigaction old, ign;
  if (sigaction(SIGPIPE, NULL, &old) != 0 || (old.sa_flags & SA_SIGINFO) != 0 ||
      old.sa_handler != SIG_DFL)
    return;
  memset(&ign, 0, sizeof(ign));
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, NULL);
}

int ethp2p_uvenv_create(uv_loop_t *loop, ethp2p_env **out) {
  uvenv *e;
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (loop == NULL)
    return ETHP2P_EINVAL;
  e = calloc(1, sizeof(*e));
  if (e == NULL)
    return ETHP2P_ENOMEM;
  e->base.ops = &uvenv_ops;
  e->base.impl = e;
  e->loop = loop;
  e->socks.next = e->socks.prev = &e->socks;
  rc = uv_timer_init(loop, &e->driver);
  if (rc != 0) {
    free(e);
    return ethp2p_uvenv_error(rc);
  }
  /* uv_idle_init cannot fail on any platform libuv supports. */
  uv_idle_init(loop, &e->idle);
  e->driver.data = e;
  e->idle.data = e;
  ignore_sigpipe();
  *out = &e->base;
  return 0;
}

static void on_own_close(uv_handle_t *h) {
  uvenv *e = h->data;
  e->closing--;
}

void ethp2p_uvenv_destroy(ethp2p_env *env) {
  uvenv *e;
  if (env == NULL)
    return;
  e = uvenv_of(env);
  while (e->socks.next != &e->socks) {
    uvenv_node *n = e->socks.next;
    if (n->is_tcp)
      uvenv_tcp_close(n->owner); /* unlinks n */
    else
      uvenv_udp_close(n->owner);
  }
  while (e->timers != NULL)
    uvenv_timer_destroy(&e->timers->base);
  e->closing += 2;
  uv_close((uv_handle_t *)&e->driver, on_own_close);
  uv_close((uv_handle_t *)&e->idle, on_own_close);
  while (e->closing > 0)
    uv_run(e->loop, UV_RUN_NOWAIT);
  free(e->heap);
  free(e);
}
