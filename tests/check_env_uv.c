/*
 * tests/check_env_uv.c — the libuv environment on loopback only: timers, UDP
 * (echo, big datagrams, multicast on lo), TCP (echo, EOF, refused, close while
 * connecting), interfaces, the default gateway and the /proc/net/route parser.
 * Every test ends with ethp2p_uvenv_destroy + uv_loop_close() == 0: no handle may
 * be left behind.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "ethp2p/env.h"
#include "ethp2p/env_uv.h"

static uv_loop_t loop;
static ethp2p_env *env;

static void setup(void) {
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, &env), 0);
  ck_assert_ptr_nonnull(env);
}

static void teardown(void) {
  ethp2p_uvenv_destroy(env);
  env = NULL;
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* Runs the loop until *done or `ms` milliseconds passed; a ticking guard timer
 * keeps UV_RUN_ONCE from blocking forever.  Returns *done. */
static void on_guard(uv_timer_t *t) {
  (void)t;
}
static bool run_until(const bool *done, unsigned ms) {
  uv_timer_t guard;
  uint64_t limit = uv_hrtime() + (uint64_t)ms * 1000000u;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 5, 5);
  while (!*done && uv_hrtime() < limit)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return *done;
}

static void run_for(unsigned ms) {
  bool never = false;
  run_until(&never, ms);
}

static ethp2p_addr lo(uint16_t port) {
  return ethp2p_addr_v4(127, 0, 0, 1, port);
}

/* ==== clocks and randomness ================================================= */

START_TEST(now_is_monotonic_nanoseconds_and_wall_clock_is_unix_ms) {
  ethp2p_time a = ethp2p_env_now(env), b;
  int64_t wall = ethp2p_env_wall_ms(env);
  int64_t sys = (int64_t)time(NULL) * 1000;
  uv_sleep(2);
  b = ethp2p_env_now(env);
  ck_assert_uint_ge(b - a, 2 * ETHP2P_MSEC);
  ck_assert_uint_lt(b - a, 2 * ETHP2P_SEC);
  ck_assert_int_lt(llabs(wall - sys), 5000);
}
END_TEST

START_TEST(random_fills_every_byte_and_differs_between_calls) {
  uint8_t a[64], b[64], zero[64];
  memset(a, 0, sizeof(a));
  memset(b, 0, sizeof(b));
  memset(zero, 0, sizeof(zero));
  ethp2p_env_random(env, a, sizeof(a));
  ethp2p_env_random(env, b, sizeof(b));
  ck_assert(memcmp(a, b, sizeof(a)) != 0);
  ck_assert(memcmp(a, zero, sizeof(a)) != 0);
  ck_assert(memcmp(a + 48, zero, 16) != 0); /* the tail was written too */
  ethp2p_env_random(env, a, 0);             /* empty request is fine */
}
END_TEST

/* ==== timers ================================================================ */

typedef struct tlog {
  int order[256];
  ethp2p_time fired_at[256];
  ethp2p_time deadline[256];
  int n;
} tlog;

static tlog L;

typedef struct tctx {
  int id;
  ethp2p_time deadline;
  ethp2p_timer *self;
  ethp2p_timer *victim; /* destroyed by this timer's callback */
  int rearm_left;       /* re-arm in the past this many times */
  int fired;
} tctx;

static void on_timer(ethp2p_timer *t, void *data) {
  tctx *c = data;
  ck_assert_ptr_eq(t, c->self);
  c->fired++;
  if (L.n < 256) {
    L.order[L.n] = c->id;
    L.fired_at[L.n] = ethp2p_env_now(t->env);
    L.deadline[L.n] = c->deadline;
    L.n++;
  }
  if (c->victim != NULL) {
    ethp2p_timer_destroy(c->victim);
    c->victim = NULL;
    ethp2p_timer_destroy(t); /* destroying yourself in your callback is allowed */
    c->self = NULL;
    return;
  }
  if (c->rearm_left > 0) {
    c->rearm_left--;
    ethp2p_timer_start(t, 0);
  }
}

static void mk_timer(tctx *c, int id) {
  memset(c, 0, sizeof(*c));
  c->id = id;
  ck_assert_int_eq(ethp2p_timer_create(env, &c->self, on_timer, c), 0);
}

static void arm(tctx *c, ethp2p_time deadline) {
  c->deadline = deadline;
  ethp2p_timer_start(c->self, deadline);
}

START_TEST(timers_fire_in_deadline_order_with_fifo_ties) {
  tctx c[5];
  ethp2p_time base = ethp2p_env_now(env) + 20 * ETHP2P_MSEC;
  int i;
  memset(&L, 0, sizeof(L));
  for (i = 0; i < 5; i++)
    mk_timer(&c[i], i);
  arm(&c[0], base + 10 * ETHP2P_MSEC);
  arm(&c[1], base);
  arm(&c[2], base + 10 * ETHP2P_MSEC);
  arm(&c[3], base);
  arm(&c[4], 1);                 /* long past: first */
  uv_run(&loop, UV_RUN_DEFAULT); /* returns once no timer is armed */
  ck_assert_int_eq(L.n, 5);
  ck_assert_int_eq(L.order[0], 4);
  ck_assert_int_eq(L.order[1], 1);
  ck_assert_int_eq(L.order[2], 3);
  ck_assert_int_eq(L.order[3], 0);
  ck_assert_int_eq(L.order[4], 2);
  for (i = 0; i < 5; i++)
    ck_assert_uint_ge(L.fired_at[i], L.deadline[i]); /* never early */
  for (i = 0; i < 5; i++)
    ethp2p_timer_destroy(c[i].self);
}
END_TEST

START_TEST(many_timers_fire_sorted_and_ties_in_start_order) {
  static tctx c[200];
  ethp2p_time base = ethp2p_env_now(env) + 2 * ETHP2P_MSEC;
  int i;
  memset(&L, 0, sizeof(L));
  for (i = 0; i < 200; i++) {
    mk_timer(&c[i], i);
    arm(&c[i], base + (ethp2p_time)((i * 7919) % 13) * 500 * ETHP2P_USEC);
  }
  for (i = 0; i < 200; i += 3) /* re-start a third of them: they move to the back of ties */
    arm(&c[i], c[i].deadline);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(L.n, 200);
  for (i = 1; i < 200; i++) {
    int a = L.order[i - 1], b = L.order[i];
    ck_assert_uint_le(c[a].deadline, c[b].deadline);
    if (c[a].deadline == c[b].deadline) {
      /* start order: ids not restarted (i % 3 != 0) first, then restarted, each ascending */
      int ka = (a % 3 == 0) * 1000 + a, kb = (b % 3 == 0) * 1000 + b;
      ck_assert_int_lt(ka, kb);
    }
  }
  for (i = 0; i < 200; i++)
    ethp2p_timer_destroy(c[i].self);
}
END_TEST

START_TEST(past_deadline_fires_on_next_turn_not_inside_start) {
  tctx c;
  memset(&L, 0, sizeof(L));
  mk_timer(&c, 1);
  arm(&c, ethp2p_env_now(env));
  ck_assert_int_eq(c.fired, 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(c.fired, 1);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(c.fired, 1);
  ethp2p_timer_destroy(c.self);
}
END_TEST

START_TEST(rearm_in_the_past_from_callback_fires_once_per_turn) {
  tctx c;
  memset(&L, 0, sizeof(L));
  mk_timer(&c, 1);
  c.rearm_left = 3;
  arm(&c, 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(c.fired, 1);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(c.fired, 2);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(c.fired, 4);
  ethp2p_timer_destroy(c.self);
}
END_TEST

START_TEST(stop_prevents_fire_and_restart_fires_once_at_the_new_deadline) {
  tctx a, b;
  ethp2p_time now = ethp2p_env_now(env);
  memset(&L, 0, sizeof(L));
  mk_timer(&a, 1);
  mk_timer(&b, 2);
  arm(&a, now + 2 * ETHP2P_MSEC);
  ethp2p_timer_stop(a.self);
  ethp2p_timer_stop(a.self); /* twice is harmless */
  arm(&b, now + 15 * ETHP2P_MSEC);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(a.fired, 0);
  ck_assert_int_eq(b.fired, 1);
  now = ethp2p_env_now(env);
  arm(&a, now + 2 * ETHP2P_MSEC);
  arm(&a, now + 12 * ETHP2P_MSEC); /* re-start replaces the deadline */
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(a.fired, 1);
  ck_assert_uint_ge(L.fired_at[1], now + 12 * ETHP2P_MSEC);
  ethp2p_timer_destroy(a.self);
  ethp2p_timer_destroy(b.self);
}
END_TEST

START_TEST(destroy_inside_callback_is_safe_and_silences_a_due_timer) {
  tctx a, b, d;
  ethp2p_time at = ethp2p_env_now(env) + 3 * ETHP2P_MSEC;
  memset(&L, 0, sizeof(L));
  mk_timer(&a, 1);
  mk_timer(&b, 2);
  mk_timer(&d, 3);
  a.victim = b.self;
  arm(&a, at);
  arm(&b, at); /* due in the same dispatch as a, but a destroys it first */
  arm(&d, at + 5 * ETHP2P_MSEC);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(a.fired, 1);
  ck_assert_int_eq(b.fired, 0);
  ck_assert_int_eq(d.fired, 1);
  ck_assert_ptr_null(a.self);
  ethp2p_timer_destroy(d.self);
}
END_TEST

START_TEST(armed_timer_keeps_the_loop_alive_and_idle_env_does_not) {
  tctx c;
  ethp2p_time start = ethp2p_env_now(env);
  memset(&L, 0, sizeof(L));
  mk_timer(&c, 1);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0); /* nothing armed: returns at once */
  arm(&c, start + 25 * ETHP2P_MSEC);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(c.fired, 1);
  ck_assert_uint_ge(ethp2p_env_now(env) - start, 25 * ETHP2P_MSEC);
  ck_assert_uint_lt(ethp2p_env_now(env) - start, 2 * ETHP2P_SEC);
  ethp2p_timer_destroy(c.self);
}
END_TEST

START_TEST(far_future_timer_neither_fires_nor_holds_a_stopped_loop) {
  tctx far, near;
  memset(&L, 0, sizeof(L));
  mk_timer(&far, 1);
  mk_timer(&near, 2);
  arm(&far, UINT64_MAX);
  arm(&near, ethp2p_env_now(env) + 5 * ETHP2P_MSEC);
  while (near.fired == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ck_assert_int_eq(far.fired, 0);
  ethp2p_timer_stop(far.self);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0); /* nothing armed: returns */
  ck_assert_int_eq(far.fired, 0);
  ethp2p_timer_destroy(far.self);
  ethp2p_timer_destroy(near.self);
}
END_TEST

typedef struct alarm_ctx {
  int fired;
  ethp2p_time at;
} alarm_ctx;

static void on_uv_alarm(ethp2p_alarm *a, void *data) {
  alarm_ctx *c = data;
  c->fired++;
  c->at = ethp2p_env_now(a->env);
}

START_TEST(alarm_on_libuv_fires_once_at_the_earliest_schedule) {
  ethp2p_alarm a;
  alarm_ctx c = {0, 0};
  ethp2p_time now = ethp2p_env_now(env);
  ck_assert_int_eq(ethp2p_alarm_init(&a, env, on_uv_alarm, &c), 0);
  ethp2p_alarm_schedule(&a, now + 30 * ETHP2P_MSEC);
  ethp2p_alarm_schedule(&a, now + 8 * ETHP2P_MSEC);
  ethp2p_alarm_schedule(&a, now + 20 * ETHP2P_MSEC); /* kept at +8 ms */
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(c.fired, 1);
  ck_assert_uint_ge(c.at, now + 8 * ETHP2P_MSEC);
  ck_assert_uint_lt(c.at, now + 20 * ETHP2P_MSEC + ETHP2P_SEC);
  ethp2p_alarm_schedule(&a, 0); /* past: next turn, not now */
  ck_assert_int_eq(c.fired, 1);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(c.fired, 2);
  ethp2p_alarm_close(&a);
}
END_TEST

/* Random start/stop/destroy churn (fixed-seed LCG): exactly the timers left armed
 * fire, once each, in (deadline, last start) order.  Exercises removal from the
 * middle of the heap. */
static uint32_t lcg_state;
static uint32_t lcg(void) {
  lcg_state = lcg_state * 1664525u + 1013904223u;
  return lcg_state >> 8;
}

START_TEST(timer_churn_fires_exactly_the_armed_ones_in_order) {
  enum { NT = 64, OPS = 1500 };
  static tctx c[NT];
  static bool alive[NT], armed[NT];
  static uint64_t started[NT];
  uint64_t stamp = 0;
  ethp2p_time base = ethp2p_env_now(env) + 3 * ETHP2P_MSEC;
  int i, expect = 0;
  lcg_state = 12345;
  memset(&L, 0, sizeof(L));
  for (i = 0; i < NT; i++) {
    mk_timer(&c[i], i);
    alive[i] = true;
    armed[i] = false;
  }
  for (i = 0; i < OPS; i++) {
    int k = (int)(lcg() % NT);
    uint32_t op = lcg() % 10;
    if (!alive[k])
      continue;
    if (op < 6) {
      arm(&c[k], base + (ethp2p_time)(lcg() % 8) * 250 * ETHP2P_USEC);
      armed[k] = true;
      started[k] = stamp++;
    } else if (op < 9) {
      ethp2p_timer_stop(c[k].self);
      armed[k] = false;
    } else if (lcg() % 8 == 0) {
      ethp2p_timer_destroy(c[k].self);
      alive[k] = armed[k] = false;
    }
  }
  for (i = 0; i < NT; i++)
    expect += armed[i];
  ck_assert_int_gt(expect, 10); /* the seed leaves plenty armed (and some stopped/destroyed) */
  ck_assert_int_lt(expect, NT);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(L.n, expect);
  for (i = 0; i < L.n; i++) {
    int id = L.order[i];
    ck_assert(armed[id]);
    ck_assert_int_eq(c[id].fired, 1);
    if (i > 0) {
      int prev = L.order[i - 1];
      ck_assert(c[prev].deadline < c[id].deadline ||
                (c[prev].deadline == c[id].deadline && started[prev] < started[id]));
    }
  }
  for (i = 0; i < NT; i++)
    if (alive[i])
      ethp2p_timer_destroy(c[i].self);
}
END_TEST

START_TEST(timer_create_rejects_missing_callback) {
  ethp2p_timer *t = (ethp2p_timer *)1;
  ck_assert_int_eq(ethp2p_timer_create(env, &t, NULL, NULL), ETHP2P_EINVAL);
  ck_assert_ptr_null(t);
}
END_TEST

/* ==== UDP =================================================================== */

typedef struct udp_peer {
  ethp2p_udp *u;
  ethp2p_addr self;
  int got;
  ethp2p_addr from;
  size_t len;
  uint8_t first, last;
  bool echo;
  bool close_on_recv;
  bool *done;
} udp_peer;

static void on_udp(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                   void *data) {
  udp_peer *p = data;
  ck_assert_ptr_eq(u, p->u);
  p->got++;
  p->from = *from;
  p->len = len;
  p->first = len > 0 ? buf[0] : 0;
  p->last = len > 0 ? buf[len - 1] : 0;
  if (p->echo)
    ck_assert_int_eq(ethp2p_udp_send(u, from, buf, len), 0);
  if (p->close_on_recv) {
    ethp2p_udp_close(u);
    p->u = NULL;
  }
  if (p->done != NULL)
    *p->done = true;
}

static void udp_peer_open(udp_peer *p, const ethp2p_addr *bind, unsigned flags) {
  ethp2p_addr b = bind != NULL ? *bind : lo(0);
  ck_assert_int_eq(ethp2p_udp_open(env, &p->u, &b, flags, on_udp, p), 0);
  ck_assert_int_eq(ethp2p_udp_local_addr(p->u, &p->self), 0);
}

START_TEST(udp_echo_reports_the_source_address) {
  udp_peer srv, cli;
  bool done = false;
  const uint8_t ping[] = "ping";
  memset(&srv, 0, sizeof(srv));
  memset(&cli, 0, sizeof(cli));
  udp_peer_open(&srv, NULL, 0);
  udp_peer_open(&cli, NULL, 0);
  ck_assert_uint_ne(srv.self.port, 0);
  srv.echo = true;
  cli.done = &done;
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, ping, sizeof(ping)), 0);
  ck_assert_int_eq(srv.got, 0); /* delivered on a later turn, never inside send */
  ck_assert(run_until(&done, 2000));
  ck_assert_int_eq(srv.got, 1);
  ck_assert(ethp2p_addr_equal(&srv.from, &cli.self, true));
  ck_assert_int_eq(cli.got, 1);
  ck_assert(ethp2p_addr_equal(&cli.from, &srv.self, true));
  ck_assert_uint_eq(cli.len, sizeof(ping));
  ethp2p_udp_close(srv.u);
  ethp2p_udp_close(cli.u);
}
END_TEST

START_TEST(udp_largest_datagram_arrives_whole_and_oversize_is_rejected) {
  udp_peer srv, cli;
  bool done = false;
  ethp2p_addr unset;
  size_t max = 65507; /* 65535 - 8 (UDP) - 20 (IPv4) */
  uint8_t *big = malloc(max + 2);
  memset(&srv, 0, sizeof(srv));
  memset(&cli, 0, sizeof(cli));
  memset(&unset, 0, sizeof(unset));
  ck_assert_ptr_nonnull(big);
  memset(big, 0x5a, max + 2);
  big[0] = 1;
  big[max - 1] = 2;
  udp_peer_open(&srv, NULL, 0);
  udp_peer_open(&cli, NULL, 0);
  srv.done = &done;
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, big, max), 0);
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, big, max + 1), ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, big, 70000), ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &unset, big, 4), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_udp_send(cli.u, NULL, big, 4), ETHP2P_EINVAL);
  ck_assert(run_until(&done, 2000));
  ck_assert_uint_eq(srv.len, max);
  ck_assert_uint_eq(srv.first, 1);
  ck_assert_uint_eq(srv.last, 2);
  run_for(20); /* the rejected ones never arrive */
  ck_assert_int_eq(srv.got, 1);
  free(big);
  ethp2p_udp_close(srv.u);
  ethp2p_udp_close(cli.u);
}
END_TEST

START_TEST(udp_empty_datagram_is_delivered_with_length_zero) {
  udp_peer srv, cli;
  bool done = false;
  memset(&srv, 0, sizeof(srv));
  memset(&cli, 0, sizeof(cli));
  udp_peer_open(&srv, NULL, 0);
  udp_peer_open(&cli, NULL, 0);
  srv.done = &done;
  srv.len = 99;
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, NULL, 0), 0);
  ck_assert(run_until(&done, 2000));
  ck_assert_int_eq(srv.got, 1);
  ck_assert_uint_eq(srv.len, 0);
  ck_assert(ethp2p_addr_equal(&srv.from, &cli.self, true));
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, NULL, 1), ETHP2P_EINVAL);
  ethp2p_udp_close(srv.u);
  ethp2p_udp_close(cli.u);
}
END_TEST

START_TEST(udp_port_conflict_fails_unless_both_reuse) {
  udp_peer a, b, c, d;
  ethp2p_udp *u = (ethp2p_udp *)1;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  memset(&c, 0, sizeof(c));
  memset(&d, 0, sizeof(d));
  udp_peer_open(&a, NULL, 0);
  ck_assert_int_eq(ethp2p_udp_open(env, &u, &a.self, 0, on_udp, &b), ETHP2P_EADDRINUSE);
  ck_assert_ptr_null(u);
  udp_peer_open(&c, NULL, ETHP2P_UDP_REUSEADDR);
  udp_peer_open(&d, &c.self, ETHP2P_UDP_REUSEADDR);
  ck_assert_uint_eq(d.self.port, c.self.port);
  ck_assert_int_eq(ethp2p_udp_open(env, &u, NULL, 0x80, on_udp, &b), ETHP2P_EINVAL);
  ethp2p_udp_close(a.u);
  ethp2p_udp_close(c.u);
  ethp2p_udp_close(d.u);
}
END_TEST

START_TEST(udp_close_inside_recv_callback_stops_delivery) {
  udp_peer srv, cli;
  bool done = false;
  const uint8_t x[] = {1, 2, 3};
  memset(&srv, 0, sizeof(srv));
  memset(&cli, 0, sizeof(cli));
  udp_peer_open(&srv, NULL, 0);
  udp_peer_open(&cli, NULL, 0);
  srv.close_on_recv = true;
  srv.done = &done;
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, x, 1), 0);
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, x, 2), 0);
  ck_assert_int_eq(ethp2p_udp_send(cli.u, &srv.self, x, 3), 0);
  ck_assert(run_until(&done, 2000));
  run_for(20);
  ck_assert_int_eq(srv.got, 1);
  ck_assert_uint_eq(srv.len, 1);
  ethp2p_udp_close(cli.u);
}
END_TEST

/* Multicast over lo: the receiver binds the group address and joins it on
 * 127.0.0.1; the sender picks 127.0.0.1 as its outgoing multicast interface.
 * Linux accepts this although lo lacks IFF_MULTICAST, because IP_MULTICAST_IF
 * pins the route to lo and IP_MULTICAST_LOOP (default on) delivers locally. */
START_TEST(udp_multicast_on_loopback_reaches_members_only) {
  udp_peer rx, tx;
  bool done = false;
  ethp2p_addr group = ethp2p_addr_v4(239, 255, 255, 250, 0), iface = lo(0), bad;
  const uint8_t msg[] = "M-SEARCH";
  int rc;
  memset(&rx, 0, sizeof(rx));
  memset(&tx, 0, sizeof(tx));
  udp_peer_open(&rx, &group, ETHP2P_UDP_REUSEADDR);
  group.port = rx.self.port;
  rc = ethp2p_udp_join(rx.u, &group, &iface);
  ck_assert_msg(rc == 0, "join on lo failed: %s", ethp2p_strerror(rc));
  udp_peer_open(&tx, NULL, 0);
  ck_assert_int_eq(ethp2p_udp_set_multicast(tx.u, &iface, 1), 0);
  ck_assert_int_eq(ethp2p_udp_set_multicast(tx.u, &iface, 256), ETHP2P_EINVAL);
  rx.done = &done;
  ck_assert_int_eq(ethp2p_udp_send(tx.u, &group, msg, sizeof(msg)), 0);
  ck_assert(run_until(&done, 2000));
  ck_assert_int_ge(rx.got, 1);
  ck_assert(ethp2p_addr_equal(&rx.from, &tx.self, true));
  ck_assert_uint_eq(rx.len, sizeof(msg));
  /* joining a unicast address is a caller error */
  bad = lo(0);
  ck_assert_int_eq(ethp2p_udp_join(rx.u, &bad, &iface), ETHP2P_EINVAL);
  /* after leaving, nothing arrives */
  ck_assert_int_eq(ethp2p_udp_leave(rx.u, &group, &iface), 0);
  run_for(10);
  rx.got = 0;
  ck_assert_int_eq(ethp2p_udp_send(tx.u, &group, msg, sizeof(msg)), 0);
  run_for(60);
  ck_assert_int_eq(rx.got, 0);
  ethp2p_udp_close(rx.u);
  ethp2p_udp_close(tx.u);
}
END_TEST

/* ==== TCP =================================================================== */

typedef struct tcp_side {
  ethp2p_tcp *conn;
  uint8_t *rx;
  size_t rxlen, rxcap;
  int end_status; /* 1 = still open */
  bool echo;      /* echo bytes; on EOF shut down the write side */
  int connect_status;
  int connect_calls;
} tcp_side;

typedef struct tcp_world {
  ethp2p_tcp *listener;
  ethp2p_addr addr;
  tcp_side srv, cli;
  ethp2p_addr srv_peer; /* the accepted connection's peer address */
  int accepts;
} tcp_world;

static tcp_world W;

static void side_init(tcp_side *s, size_t cap) {
  memset(s, 0, sizeof(*s));
  s->rx = malloc(cap);
  s->rxcap = cap;
  s->end_status = 1;
  s->connect_status = 1;
  ck_assert_ptr_nonnull(s->rx);
}

static void on_tcp_read(ethp2p_tcp *c, int status, const uint8_t *buf, size_t len, void *data) {
  tcp_side *s = data;
  ck_assert_ptr_eq(c, s->conn);
  ck_assert_int_eq(s->end_status, 1); /* nothing after the final status */
  if (status != 0) {
    ck_assert_ptr_null(buf);
    s->end_status = status;
    if (s->echo)
      ck_assert_int_eq(ethp2p_tcp_shutdown(c), 0);
    return;
  }
  ck_assert_uint_gt(len, 0);
  ck_assert_uint_le(s->rxlen + len, s->rxcap);
  memcpy(s->rx + s->rxlen, buf, len);
  s->rxlen += len;
  if (s->echo)
    ck_assert_int_eq(ethp2p_tcp_write(c, buf, len), 0);
}

static void on_accept(ethp2p_tcp *l, ethp2p_tcp *c, void *data) {
  tcp_world *w = data;
  ethp2p_addr peer, local;
  ck_assert_ptr_eq(l, w->listener);
  w->accepts++;
  w->srv.conn = c;
  ck_assert_int_eq(ethp2p_tcp_local_addr(c, &local), 0);
  ck_assert(ethp2p_addr_equal(&local, &w->addr, true));
  ck_assert_int_eq(ethp2p_tcp_peer_addr(c, &peer), 0);
  ck_assert(ethp2p_addr_is_loopback(&peer));
  w->srv_peer = peer;
  ck_assert_int_eq(ethp2p_tcp_read_start(c, on_tcp_read, &w->srv), 0);
}

static void on_connect(ethp2p_tcp *c, int status, void *data) {
  tcp_side *s = data;
  ck_assert_ptr_eq(c, s->conn);
  s->connect_calls++;
  s->connect_status = status;
}

static void listen_lo(void) {
  ethp2p_addr b = lo(0);
  ck_assert_int_eq(ethp2p_tcp_listen(env, &W.listener, &b, on_accept, &W), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(W.listener, &W.addr), 0);
  ck_assert_uint_ne(W.addr.port, 0);
}

static bool cli_connected;
static bool cli_ended;
static void on_connect_flag(ethp2p_tcp *c, int status, void *data) {
  on_connect(c, status, data);
  cli_connected = true;
}
static void on_cli_read(ethp2p_tcp *c, int status, const uint8_t *buf, size_t len, void *data) {
  on_tcp_read(c, status, buf, len, data);
  if (status != 0)
    cli_ended = true;
}

START_TEST(tcp_echo_then_orderly_eof_on_both_sides) {
  ethp2p_addr from = lo(0), cl, cp;
  uint8_t msg[5000];
  size_t i;
  memset(&W, 0, sizeof(W));
  side_init(&W.srv, sizeof(msg));
  side_init(&W.cli, sizeof(msg));
  W.srv.echo = true;
  listen_lo();
  cli_connected = cli_ended = false;
  ck_assert_int_eq(ethp2p_tcp_connect(env, &W.cli.conn, &W.addr, &from, on_connect_flag, &W.cli),
                   0);
  ck_assert_int_eq(W.cli.connect_calls, 0);                              /* never inside the call */
  ck_assert_int_eq(ethp2p_tcp_write(W.cli.conn, msg, 1), ETHP2P_ESTATE); /* not connected yet */
  ck_assert(run_until(&cli_connected, 2000));
  ck_assert_int_eq(W.cli.connect_status, 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(W.cli.conn, &cl), 0);
  ck_assert_int_eq(ethp2p_tcp_peer_addr(W.cli.conn, &cp), 0);
  ck_assert(ethp2p_addr_equal(&cp, &W.addr, true));
  ck_assert(ethp2p_addr_is_loopback(&cl));
  ck_assert_int_eq(ethp2p_tcp_read_start(W.cli.conn, on_cli_read, &W.cli), 0);
  for (i = 0; i < sizeof(msg); i++)
    msg[i] = (uint8_t)(i * 31 + 7);
  ck_assert_int_eq(ethp2p_tcp_write(W.cli.conn, msg, 3000), 0);
  memset(msg, 0, 3000); /* the environment copied it */
  for (i = 0; i < 3000; i++)
    msg[i] = (uint8_t)(i * 31 + 7);
  ck_assert_int_eq(ethp2p_tcp_write(W.cli.conn, msg + 3000, 2000), 0);
  ck_assert_int_eq(ethp2p_tcp_shutdown(W.cli.conn), 0);
  ck_assert_int_eq(ethp2p_tcp_write(W.cli.conn, msg, 1), ETHP2P_ESTATE);
  ck_assert_int_eq(ethp2p_tcp_shutdown(W.cli.conn), ETHP2P_ESTATE);
  ck_assert(run_until(&cli_ended, 3000));
  ck_assert_int_eq(W.accepts, 1);
  ck_assert_uint_eq(W.srv.rxlen, sizeof(msg));
  ck_assert_int_eq(memcmp(W.srv.rx, msg, sizeof(msg)), 0);
  ck_assert_int_eq(W.srv.end_status, ETHP2P_ECLOSED);
  ck_assert_uint_eq(W.cli.rxlen, sizeof(msg));
  ck_assert_int_eq(memcmp(W.cli.rx, msg, sizeof(msg)), 0);
  ck_assert_int_eq(W.cli.end_status, ETHP2P_ECLOSED);
  ck_assert(ethp2p_addr_equal(&W.srv_peer, &cl, true));
  /* after the end of stream, read_start is refused */
  ck_assert_int_eq(ethp2p_tcp_read_start(W.cli.conn, on_cli_read, &W.cli), ETHP2P_ESTATE);
  ethp2p_tcp_close(W.cli.conn);
  ethp2p_tcp_close(W.srv.conn);
  ethp2p_tcp_close(W.listener);
  free(W.srv.rx);
  free(W.cli.rx);
}
END_TEST

START_TEST(tcp_large_write_arrives_whole_and_in_order) {
  size_t n = 4u << 20, i;
  uint8_t *big = malloc(n);
  memset(&W, 0, sizeof(W));
  side_init(&W.srv, n);
  side_init(&W.cli, 16);
  ck_assert_ptr_nonnull(big);
  for (i = 0; i < n; i++)
    big[i] = (uint8_t)(i ^ (i >> 11));
  listen_lo();
  cli_connected = cli_ended = false;
  ck_assert_int_eq(ethp2p_tcp_connect(env, &W.cli.conn, &W.addr, NULL, on_connect_flag, &W.cli), 0);
  ck_assert(run_until(&cli_connected, 2000));
  ck_assert_int_eq(ethp2p_tcp_write(W.cli.conn, big, n), 0);
  ck_assert_int_eq(ethp2p_tcp_shutdown(W.cli.conn), 0);
  {
    uint64_t limit = uv_hrtime() + 5 * ETHP2P_SEC;
    while (W.srv.end_status == 1 && uv_hrtime() < limit)
      run_for(5);
  }
  ck_assert_int_eq(W.srv.end_status, ETHP2P_ECLOSED);
  ck_assert_uint_eq(W.srv.rxlen, n);
  ck_assert_int_eq(memcmp(W.srv.rx, big, n), 0);
  ethp2p_tcp_close(W.cli.conn);
  ethp2p_tcp_close(W.srv.conn);
  ethp2p_tcp_close(W.listener);
  free(W.srv.rx);
  free(W.cli.rx);
  free(big);
}
END_TEST

START_TEST(tcp_connect_to_a_closed_port_is_refused_through_the_callback) {
  ethp2p_addr closed;
  memset(&W, 0, sizeof(W));
  side_init(&W.cli, 16);
  listen_lo();
  closed = W.addr;
  ethp2p_tcp_close(W.listener); /* the port is free again once the close completes */
  run_for(5);
  cli_connected = false;
  ck_assert_int_eq(ethp2p_tcp_connect(env, &W.cli.conn, &closed, NULL, on_connect_flag, &W.cli), 0);
  ck_assert_int_eq(W.cli.connect_calls, 0);
  ck_assert(run_until(&cli_connected, 2000));
  ck_assert_int_eq(W.cli.connect_calls, 1);
  ck_assert_int_eq(W.cli.connect_status, ETHP2P_ECONNREFUSED);
  /* a failed handle stays the caller's: it refuses I/O and must be closed */
  ck_assert_int_eq(ethp2p_tcp_write(W.cli.conn, (const uint8_t *)"x", 1), ETHP2P_ESTATE);
  ck_assert_int_eq(ethp2p_tcp_read_start(W.cli.conn, on_tcp_read, &W.cli), ETHP2P_ESTATE);
  ethp2p_tcp_close(W.cli.conn);
  free(W.cli.rx);
}
END_TEST

static void on_accept_close(ethp2p_tcp *l, ethp2p_tcp *c, void *data) {
  tcp_world *w = data;
  (void)l;
  w->accepts++;
  ethp2p_tcp_close(c);
}

START_TEST(closing_a_connecting_handle_never_calls_back) {
  ethp2p_tcp *a = NULL, *b = NULL;
  ethp2p_addr any = lo(0);
  memset(&W, 0, sizeof(W));
  side_init(&W.cli, 16);
  ck_assert_int_eq(ethp2p_tcp_listen(env, &W.listener, &any, on_accept_close, &W), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(W.listener, &W.addr), 0);
  ck_assert_int_eq(ethp2p_tcp_connect(env, &a, &W.addr, NULL, on_connect, &W.cli), 0);
  W.cli.conn = a;
  ethp2p_tcp_close(a); /* at once: still connecting */
  ck_assert_int_eq(ethp2p_tcp_connect(env, &b, &W.addr, NULL, on_connect, &W.cli), 0);
  W.cli.conn = b;
  run_for(30);
  ck_assert_int_eq(W.cli.connect_calls, 1); /* only b's */
  ck_assert_int_eq(W.cli.connect_status, 0);
  ck_assert_int_ge(W.accepts, 1);
  ethp2p_tcp_close(b);
  ethp2p_tcp_close(W.listener);
  free(W.cli.rx);
}
END_TEST

/* The server accepts, lets the client's bytes land unread, and closes: Linux
 * answers with RST, which the reading client sees as ETHP2P_ECONNRESET (its
 * read's final status); later writes fail with ECONNRESET too. */
static ethp2p_tcp *rst_conn;
static void on_accept_hold(ethp2p_tcp *l, ethp2p_tcp *c, void *data) {
  tcp_world *w = data;
  (void)l;
  w->accepts++;
  rst_conn = c; /* no read_start: the data stays unread */
}
static void on_rst_timer(ethp2p_timer *t, void *data) {
  (void)data;
  ethp2p_tcp_close(rst_conn);
  rst_conn = NULL;
  ethp2p_timer_destroy(t);
}

START_TEST(peer_abort_is_reported_as_connection_reset) {
  ethp2p_addr any = lo(0);
  ethp2p_timer *t;
  int rc, i;
  memset(&W, 0, sizeof(W));
  side_init(&W.cli, 64);
  rst_conn = NULL;
  ck_assert_int_eq(ethp2p_tcp_listen(env, &W.listener, &any, on_accept_hold, &W), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(W.listener, &W.addr), 0);
  cli_connected = cli_ended = false;
  ck_assert_int_eq(ethp2p_tcp_connect(env, &W.cli.conn, &W.addr, NULL, on_connect_flag, &W.cli), 0);
  ck_assert(run_until(&cli_connected, 2000));
  ck_assert_int_eq(ethp2p_tcp_read_start(W.cli.conn, on_cli_read, &W.cli), 0);
  ck_assert_int_eq(ethp2p_tcp_write(W.cli.conn, (const uint8_t *)"unread", 6), 0);
  {
    uint64_t limit = uv_hrtime() + 2 * ETHP2P_SEC;
    while (rst_conn == NULL && uv_hrtime() < limit)
      run_for(2);
  }
  ck_assert_ptr_nonnull(rst_conn);
  ck_assert_int_eq(ethp2p_timer_create(env, &t, on_rst_timer, NULL), 0);
  ethp2p_timer_start(t, ethp2p_env_now(env) + 20 * ETHP2P_MSEC);
  ck_assert(run_until(&cli_ended, 2000));
  ck_assert_int_eq(W.cli.end_status, ETHP2P_ECONNRESET);
  for (i = 0; i < 3; i++) {
    rc = ethp2p_tcp_write(W.cli.conn, (const uint8_t *)"more", 4);
    ck_assert_msg(rc == ETHP2P_ECONNRESET, "write after reset: %s", ethp2p_strerror(rc));
  }
  run_for(10);
  ethp2p_tcp_close(W.cli.conn);
  ethp2p_tcp_close(W.listener);
  free(W.cli.rx);
}
END_TEST

static bool rst_done;
static void on_rst_timer_flag(ethp2p_timer *t, void *data) {
  on_rst_timer(t, data);
  rst_done = true;
}

START_TEST(writes_after_peer_reset_fail_without_sigpipe) {
  ethp2p_addr any = lo(0);
  ethp2p_timer *t;
  int rc, i;
  memset(&W, 0, sizeof(W));
  side_init(&W.cli, 64);
  rst_conn = NULL;
  rst_done = false;
  ck_assert_int_eq(ethp2p_tcp_listen(env, &W.listener, &any, on_accept_hold, &W), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(W.listener, &W.addr), 0);
  cli_connected = false;
  ck_assert_int_eq(ethp2p_tcp_connect(env, &W.cli.conn, &W.addr, NULL, on_connect_flag, &W.cli), 0);
  ck_assert(run_until(&cli_connected, 2000));
  ck_assert_int_eq(ethp2p_tcp_write(W.cli.conn, (const uint8_t *)"unread", 6), 0);
  {
    uint64_t limit = uv_hrtime() + 2 * ETHP2P_SEC;
    while (rst_conn == NULL && uv_hrtime() < limit)
      run_for(2);
  }
  ck_assert_ptr_nonnull(rst_conn);
  ck_assert_int_eq(ethp2p_timer_create(env, &t, on_rst_timer_flag, NULL), 0);
  ethp2p_timer_start(t, ethp2p_env_now(env) + 10 * ETHP2P_MSEC);
  ck_assert(run_until(&rst_done, 2000));
  run_for(20); /* let the RST arrive; the client is not reading */
  /* The kernel reports the reset once (ECONNRESET), then EPIPE, which with the
   * default SIGPIPE disposition would have killed this process. */
  for (i = 0; i < 3; i++) {
    rc = ethp2p_tcp_write(W.cli.conn, (const uint8_t *)"more", 4);
    ck_assert_msg(rc == ETHP2P_ECONNRESET, "write %d after reset: %s", i, ethp2p_strerror(rc));
  }
  ethp2p_tcp_close(W.cli.conn);
  ethp2p_tcp_close(W.listener);
  free(W.cli.rx);
}
END_TEST

static void on_accept_close_listener(ethp2p_tcp *l, ethp2p_tcp *c, void *data) {
  tcp_world *w = data;
  w->accepts++;
  ethp2p_tcp_close(c);
  ethp2p_tcp_close(l); /* the listener may go away inside its own callback */
  w->listener = NULL;
}

START_TEST(listener_closed_inside_accept_accepts_no_more) {
  ethp2p_addr any = lo(0);
  ethp2p_tcp *a, *b;
  tcp_side sa, sb;
  memset(&W, 0, sizeof(W));
  memset(&sa, 0, sizeof(sa));
  memset(&sb, 0, sizeof(sb));
  ck_assert_int_eq(ethp2p_tcp_listen(env, &W.listener, &any, on_accept_close_listener, &W), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(W.listener, &W.addr), 0);
  ck_assert_int_eq(ethp2p_tcp_connect(env, &a, &W.addr, NULL, on_connect, &sa), 0);
  ck_assert_int_eq(ethp2p_tcp_connect(env, &b, &W.addr, NULL, on_connect, &sb), 0);
  sa.conn = a;
  sb.conn = b;
  run_for(40);
  ck_assert_int_eq(W.accepts, 1);
  ck_assert_ptr_null(W.listener);
  ck_assert_int_eq(sa.connect_calls, 1);
  ck_assert_int_eq(sb.connect_calls, 1);
  ethp2p_tcp_close(a);
  ethp2p_tcp_close(b);
}
END_TEST

START_TEST(listen_on_a_busy_port_fails_and_never_calls_back) {
  ethp2p_tcp *second = (ethp2p_tcp *)1;
  memset(&W, 0, sizeof(W));
  listen_lo();
  ck_assert_int_eq(ethp2p_tcp_listen(env, &second, &W.addr, on_accept, &W), ETHP2P_EADDRINUSE);
  ck_assert_ptr_null(second);
  run_for(10);
  ck_assert_int_eq(W.accepts, 0);
  ethp2p_tcp_close(W.listener);
}
END_TEST

START_TEST(tcp_rejects_bad_arguments_synchronously) {
  ethp2p_tcp *t = (ethp2p_tcp *)1;
  ethp2p_addr unset, v6 = {0};
  memset(&unset, 0, sizeof(unset));
  v6.family = 6;
  v6.ip[15] = 1;
  v6.port = 1;
  ck_assert_int_eq(ethp2p_tcp_connect(env, &t, &unset, NULL, on_connect, NULL), ETHP2P_EINVAL);
  ck_assert_ptr_null(t);
  {
    ethp2p_addr to = lo(9);
    ck_assert_int_eq(ethp2p_tcp_connect(env, &t, &to, NULL, NULL, NULL), ETHP2P_EINVAL);
    ck_assert_int_eq(ethp2p_tcp_connect(env, &t, &to, &v6, on_connect, NULL), ETHP2P_EINVAL);
    ck_assert_int_eq(ethp2p_tcp_listen(env, &t, &to, NULL, NULL), ETHP2P_EINVAL);
  }
  ck_assert_int_eq(ethp2p_tcp_listen(env, &t, NULL, on_accept, NULL), ETHP2P_EINVAL);
}
END_TEST

/* ==== leftovers ============================================================= */

START_TEST(destroy_closes_handles_the_caller_left_open) {
  ethp2p_udp *u;
  ethp2p_tcp *l, *c;
  ethp2p_timer *t;
  ethp2p_addr b = lo(0), la;
  tctx ctx;
  ck_assert_int_eq(ethp2p_udp_open(env, &u, &b, 0, on_udp, NULL), 0);
  ck_assert_int_eq(ethp2p_tcp_listen(env, &l, &b, on_accept, &W), 0);
  ck_assert_int_eq(ethp2p_tcp_local_addr(l, &la), 0);
  ck_assert_int_eq(ethp2p_tcp_connect(env, &c, &la, NULL, on_connect, NULL), 0);
  memset(&ctx, 0, sizeof(ctx));
  ck_assert_int_eq(ethp2p_timer_create(env, &t, on_timer, &ctx), 0);
  ethp2p_timer_start(t, ethp2p_env_now(env) + ETHP2P_HOUR);
  (void)u;
  (void)c;
  /* teardown destroys the env and asserts uv_loop_close() == 0 */
}
END_TEST

/* ==== interfaces and the default gateway ==================================== */

START_TEST(interfaces_list_loopback_with_prefix_and_flags) {
  ethp2p_iface ifs[64];
  size_t n = 99, i;
  bool seen = false;
  ck_assert_int_eq(ethp2p_env_interfaces(env, ifs, 64, &n), 0);
  ck_assert_uint_le(n, 64);
  for (i = 0; i < n; i++) {
    ethp2p_addr want = lo(0);
    if (!ethp2p_addr_equal(&ifs[i].addr, &want, true))
      continue;
    seen = true;
    ck_assert(ifs[i].loopback);
    ck_assert(ifs[i].up);
    ck_assert_uint_eq(ifs[i].prefix_len, 8);
    ck_assert_str_ne(ifs[i].name, "");
  }
  ck_assert(seen);
  for (i = 0; i < n; i++) { /* IPv6 loopback, when the host has it, is a /128 */
    ethp2p_addr v6lo;
    ck_assert_int_eq(ethp2p_addr_parse_ip(&v6lo, "::1"), 0);
    if (ethp2p_addr_equal(&ifs[i].addr, &v6lo, true)) {
      ck_assert(ifs[i].loopback);
      ck_assert_uint_eq(ifs[i].prefix_len, 128);
    }
  }
  ck_assert_int_eq(ethp2p_env_interfaces(env, ifs, 1, &n), 0);
  ck_assert_uint_le(n, 1);
  ck_assert_int_eq(ethp2p_env_interfaces(env, NULL, 0, &n), 0);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(ethp2p_env_interfaces(env, NULL, 4, &n), ETHP2P_EINVAL);
}
END_TEST

START_TEST(default_gateway_returns_an_ipv4_address_or_enotfound) {
  ethp2p_addr gw;
  int rc = ethp2p_env_default_gateway(env, &gw);
  ck_assert_msg(rc == 0 || rc == ETHP2P_ENOTFOUND, "rc=%d", rc);
  if (rc == 0) {
    ck_assert_uint_eq(gw.family, 4);
    ck_assert(!ethp2p_addr_is_unspecified(&gw));
  } else {
    ck_assert_uint_eq(gw.family, 0);
  }
}
END_TEST

typedef struct route_case {
  const char *name;
  const char *text;
  int rc;
  const char *gw;
} route_case;

#define HDR "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

static const route_case route_cases[] = {
    {"typical",
     HDR "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
         "eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n",
     0, "192.168.2.1"},
    {"lowest metric wins",
     HDR "wlan0\t00000000\t0100000A\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
         "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
         "usb0\t00000000\t012BA8C0\t0003\t0\t0\t700\t00000000\t0\t0\t0\n",
     0, "192.168.1.1"},
    {"tie keeps first",
     HDR "a\t00000000\t0100000A\t0003\t0\t0\t5\t00000000\t0\t0\t0\n"
         "b\t00000000\t0200000A\t0003\t0\t0\t5\t00000000\t0\t0\t0\n",
     0, "10.0.0.1"},
    {"no default route", HDR "eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
     ETHP2P_ENOTFOUND, NULL},
    {"header only", HDR, ETHP2P_ENOTFOUND, NULL},
    {"empty", "", ETHP2P_ENOTFOUND, NULL},
    {"default without gateway flag (ppp/wg)",
     HDR "wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n", ETHP2P_ENOTFOUND, NULL},
    {"down route is ignored", HDR "eth0\t00000000\t0102A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n",
     ETHP2P_ENOTFOUND, NULL},
    {"non-zero mask is not default",
     HDR "eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t000000FF\t0\t0\t0\n", ETHP2P_ENOTFOUND, NULL},
    {"junk lines are skipped",
     "garbage\n\n\t\t\n" HDR "x y z\n"
     "eth0\t0000000G\t0102A8C0\t0003\t0\t0\t0\t00000000\n"
     "eth0\t00000000\t0102A8C0\t0003\t0\t0\tten\t00000000\n"
     "eth0\t00000000\t123456789\t0003\t0\t0\t0\t00000000\n"
     "eth1\t00000000\t0103A8C0\t0003\t0\t0\t9\t00000000\t0\t0\t0\n",
     0, "192.168.3.1"},
    {"truncated last line", HDR "eth0\t00000000\t0102A8C0\t0003\t0\t0", ETHP2P_ENOTFOUND, NULL},
    {"no trailing newline", HDR "eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000", 0,
     "192.168.2.1"},
    {"crlf and spaces", "eth0 00000000 0102A8C0 0003 0 0 0 00000000 0 0 0\r\n", 0, "192.168.2.1"},
    {"lower-case hex", "eth0\t00000000\t0102a8c0\t0003\t0\t0\t0\t00000000\n", 0, "192.168.2.1"},
    {"negative metric is a big u32",
     "a\t00000000\t0100000A\t0003\t0\t0\t-"
     "1\t00000000\nb\t00000000\t0200000A\t0003\t0\t0\t7\t00000000\n",
     0, "10.0.0.2"},
    {"metric too long", "a\t00000000\t0100000A\t0003\t0\t0\t99999999999\t00000000\n",
     ETHP2P_ENOTFOUND, NULL},
};

START_TEST(route_parser_picks_the_best_default_and_skips_junk) {
  const route_case *c = &route_cases[_i];
  ethp2p_addr gw, want;
  int rc;
  memset(&gw, 0xee, sizeof(gw));
  rc = ethp2p_uvenv_route_parse(c->text, strlen(c->text), &gw);
  ck_assert_msg(rc == c->rc, "%s: rc=%d want %d", c->name, rc, c->rc);
  if (c->gw == NULL) {
    ck_assert_uint_eq(gw.family, 0);
    return;
  }
  ck_assert_int_eq(ethp2p_addr_parse_ip(&want, c->gw), 0);
  ck_assert_msg(ethp2p_addr_equal(&gw, &want, true), "%s", c->name);
}
END_TEST

START_TEST(route_parser_respects_len_and_handles_null) {
  const char *text = "eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\n";
  ethp2p_addr gw;
  ck_assert_int_eq(ethp2p_uvenv_route_parse(text, strlen(text), &gw), 0);
  ck_assert_int_eq(ethp2p_uvenv_route_parse(text, 20, &gw), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_uvenv_route_parse(NULL, 0, &gw), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_uvenv_route_parse(text, strlen(text), NULL), ETHP2P_EINVAL);
}
END_TEST

/* ==== error map ============================================================== */

START_TEST(libuv_errors_map_onto_the_project_table) {
  static const int map[][2] = {
      {0, 0},
      {UV_EOF, ETHP2P_ECLOSED},
      {UV_ECONNREFUSED, ETHP2P_ECONNREFUSED},
      {UV_ETIMEDOUT, ETHP2P_ETIMEDOUT},
      {UV_ENETUNREACH, ETHP2P_ENETUNREACH},
      {UV_EHOSTUNREACH, ETHP2P_ENETUNREACH},
      {UV_EADDRINUSE, ETHP2P_EADDRINUSE},
      {UV_ECONNRESET, ETHP2P_ECONNRESET},
      {UV_EPIPE, ETHP2P_ECONNRESET},
      {UV_ECANCELED, ETHP2P_ECANCELED},
      {UV_ENOMEM, ETHP2P_ENOMEM},
      {UV_EACCES, ETHP2P_EPERM},
      {UV_EMSGSIZE, ETHP2P_ETOOBIG},
      {UV_EINVAL, ETHP2P_EINVAL},
      {UV_ENOTCONN, ETHP2P_ESTATE},
      {UV_ENOSYS, ETHP2P_EUNSUPP},
      {UV_EIO, ETHP2P_EIO},
      {UV_E2BIG, ETHP2P_EIO},
  };
  size_t i;
  for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
    ck_assert_msg(ethp2p_uvenv_error(map[i][0]) == map[i][1], "%s", uv_err_name(map[i][0]));
}
END_TEST

START_TEST(create_rejects_null_arguments) {
  ethp2p_env *e = (ethp2p_env *)1;
  ck_assert_int_eq(ethp2p_uvenv_create(NULL, &e), ETHP2P_EINVAL);
  ck_assert_ptr_null(e);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, NULL), ETHP2P_EINVAL);
  ethp2p_uvenv_destroy(NULL);
}
END_TEST

#define N(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))

int main(void) {
  Suite *s = suite_create("env_uv");
  TCase *clock = tcase_create("clock"), *timers = tcase_create("timers");
  TCase *udp = tcase_create("udp"), *tcp = tcase_create("tcp"), *sys = tcase_create("sys");
  SRunner *sr;
  int failed;
  TCase *all[] = {clock, timers, udp, tcp, sys};
  size_t i;
  for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    tcase_add_checked_fixture(all[i], setup, teardown);
    tcase_set_timeout(all[i], 20);
    suite_add_tcase(s, all[i]);
  }
  tcase_add_test(clock, now_is_monotonic_nanoseconds_and_wall_clock_is_unix_ms);
  tcase_add_test(clock, random_fills_every_byte_and_differs_between_calls);
  tcase_add_test(clock, create_rejects_null_arguments);
  tcase_add_test(timers, timers_fire_in_deadline_order_with_fifo_ties);
  tcase_add_test(timers, many_timers_fire_sorted_and_ties_in_start_order);
  tcase_add_test(timers, past_deadline_fires_on_next_turn_not_inside_start);
  tcase_add_test(timers, rearm_in_the_past_from_callback_fires_once_per_turn);
  tcase_add_test(timers, stop_prevents_fire_and_restart_fires_once_at_the_new_deadline);
  tcase_add_test(timers, destroy_inside_callback_is_safe_and_silences_a_due_timer);
  tcase_add_test(timers, armed_timer_keeps_the_loop_alive_and_idle_env_does_not);
  tcase_add_test(timers, timer_create_rejects_missing_callback);
  tcase_add_test(timers, timer_churn_fires_exactly_the_armed_ones_in_order);
  tcase_add_test(timers, far_future_timer_neither_fires_nor_holds_a_stopped_loop);
  tcase_add_test(timers, alarm_on_libuv_fires_once_at_the_earliest_schedule);
  tcase_add_test(udp, udp_echo_reports_the_source_address);
  tcase_add_test(udp, udp_largest_datagram_arrives_whole_and_oversize_is_rejected);
  tcase_add_test(udp, udp_empty_datagram_is_delivered_with_length_zero);
  tcase_add_test(udp, udp_port_conflict_fails_unless_both_reuse);
  tcase_add_test(udp, udp_close_inside_recv_callback_stops_delivery);
  tcase_add_test(udp, udp_multicast_on_loopback_reaches_members_only);
  tcase_add_test(tcp, tcp_echo_then_orderly_eof_on_both_sides);
  tcase_add_test(tcp, tcp_large_write_arrives_whole_and_in_order);
  tcase_add_test(tcp, tcp_connect_to_a_closed_port_is_refused_through_the_callback);
  tcase_add_test(tcp, closing_a_connecting_handle_never_calls_back);
  tcase_add_test(tcp, listen_on_a_busy_port_fails_and_never_calls_back);
  tcase_add_test(tcp, peer_abort_is_reported_as_connection_reset);
  tcase_add_test(tcp, writes_after_peer_reset_fail_without_sigpipe);
  tcase_add_test(tcp, listener_closed_inside_accept_accepts_no_more);
  tcase_add_test(tcp, tcp_rejects_bad_arguments_synchronously);
  tcase_add_test(tcp, destroy_closes_handles_the_caller_left_open);
  tcase_add_test(sys, interfaces_list_loopback_with_prefix_and_flags);
  tcase_add_test(sys, default_gateway_returns_an_ipv4_address_or_enotfound);
  tcase_add_loop_test(sys, route_parser_picks_the_best_default_and_skips_junk, 0, N(route_cases));
  tcase_add_test(sys, route_parser_respects_len_and_handles_null);
  tcase_add_test(sys, libuv_errors_map_onto_the_project_table);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
