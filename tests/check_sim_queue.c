/* tests/check_sim_queue.c — the simulator's event queue and clock: heap order with
 * FIFO ties, timers through the env ops, the alarm (env/alarm.c) on simulated
 * time, and the run functions. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env.h"
#include "ethp2p/sim.h"
#include "sim/sim_internal.h"

#define SEED 0x5eed0002ULL

/* ---- the heap itself ------------------------------------------------------------------- */
typedef struct item {
  sim_ev ev;
  ethp2p_time at;
  uint64_t order; /* push order, for checking FIFO ties */
  bool live;
} item;

START_TEST(heap_pops_by_time_then_push_order_with_removals) {
  enum { N = 2000 };
  sim_queue q;
  static item it[N];
  uint64_t x = 12345, order = 0;
  ethp2p_time last_at = 0, at;
  uint64_t last_order = 0;
  size_t i, popped = 0, live = 0;
  sim_ev *ev;
  sim_queue_init(&q);
  for (i = 0; i < N; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    sim_ev_init(&it[i].ev, SIM_EV_TIMER);
    it[i].at = (x >> 33) % 50; /* many ties */
    it[i].order = order++;
    it[i].live = true;
    ck_assert_int_eq(sim_queue_push(&q, &it[i].ev, it[i].at), 0);
  }
  /* Remove every third; re-push every fifth (goes behind its ties). */
  for (i = 0; i < N; i += 3) {
    sim_queue_remove(&q, &it[i].ev);
    it[i].live = false;
    ck_assert(!sim_ev_queued(&it[i].ev));
  }
  for (i = 1; i < N; i += 5) {
    if (!it[i].live)
      continue;
    it[i].order = order++;
    ck_assert_int_eq(sim_queue_push(&q, &it[i].ev, it[i].at), 0);
  }
  for (i = 0; i < N; i++)
    live += it[i].live;
  while ((ev = sim_queue_pop(&q, &at)) != NULL) {
    item *p = (item *)(void *)ev;
    ck_assert(p->live);
    ck_assert_uint_eq(at, p->at);
    ck_assert(at > last_at || (at == last_at && (popped == 0 || p->order > last_order)));
    last_at = at;
    last_order = p->order;
    popped++;
  }
  ck_assert_uint_eq(popped, live);
  sim_queue_free(&q);
}
END_TEST

/* ---- timers via env ------------------------------------------------------------------ */
typedef struct firelog {
  int n;
  int ids[32];
  ethp2p_time at[32];
} firelog;

static firelog FL;
static ethp2p_sim *W;

typedef struct tctx {
  int id;
  ethp2p_timer *other; /* destroyed by this timer's callback if set */
  bool destroy_self;
  ethp2p_time rearm; /* re-arm this far in the future if non-zero */
} tctx;

static void fire_cb(ethp2p_timer *t, void *data) {
  tctx *c = data;
  if (FL.n < 32) {
    FL.ids[FL.n] = c->id;
    FL.at[FL.n] = ethp2p_env_now(t->env);
  }
  FL.n++;
  if (c->other != NULL) {
    ethp2p_timer_destroy(c->other);
    c->other = NULL;
  }
  if (c->rearm)
    ethp2p_timer_start(t, ethp2p_env_now(t->env) + c->rearm);
  if (c->destroy_self)
    ethp2p_timer_destroy(t);
}

static ethp2p_env *host_env(void) {
  ethp2p_sim_host *h;
  ck_assert_int_eq(ethp2p_sim_host_create(W, &h, "h"), 0);
  return ethp2p_sim_host_env(h);
}

static ethp2p_timer *mk(ethp2p_env *env, tctx *c) {
  ethp2p_timer *t;
  ck_assert_int_eq(ethp2p_timer_create(env, &t, fire_cb, c), 0);
  return t;
}

START_TEST(timers_fire_in_deadline_order_and_ties_in_start_order) {
  ethp2p_env *env;
  tctx c[5] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}, {.id = 4}};
  ethp2p_timer *t[5];
  ethp2p_time t0;
  int i;
  memset(&FL, 0, sizeof(FL));
  ck_assert_int_eq(ethp2p_sim_create(&W, SEED), 0);
  env = host_env();
  t0 = ethp2p_env_now(env);
  for (i = 0; i < 5; i++)
    t[i] = mk(env, &c[i]);
  ethp2p_timer_start(t[3], t0 + 2 * ETHP2P_SEC);
  ethp2p_timer_start(t[0], t0 + ETHP2P_SEC);
  ethp2p_timer_start(t[2], t0 + ETHP2P_SEC);
  ethp2p_timer_start(t[1], t0 + ETHP2P_SEC);
  ethp2p_timer_start(t[4], t0 + 3 * ETHP2P_SEC);
  ethp2p_timer_start(t[0], t0 + ETHP2P_SEC); /* restarted: now behind 2 and 1 */
  ethp2p_timer_stop(t[4]);
  ck_assert_int_eq(ethp2p_sim_run_until_idle(W, 100), 0);
  ck_assert_int_eq(FL.n, 4);
  ck_assert_int_eq(FL.ids[0], 2);
  ck_assert_int_eq(FL.ids[1], 1);
  ck_assert_int_eq(FL.ids[2], 0);
  ck_assert_int_eq(FL.ids[3], 3);
  ck_assert_uint_eq(FL.at[0], t0 + ETHP2P_SEC);
  ck_assert_uint_eq(FL.at[3], t0 + 2 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_sim_now(W), t0 + 2 * ETHP2P_SEC);
  for (i = 0; i < 5; i++)
    ethp2p_timer_destroy(t[i]);
  ethp2p_sim_destroy(W);
}
END_TEST

START_TEST(past_deadline_fires_on_the_next_turn_not_inside_start) {
  ethp2p_env *env;
  tctx c = {.id = 7};
  ethp2p_timer *t;
  ck_assert_int_eq(ethp2p_sim_create(&W, SEED), 0);
  memset(&FL, 0, sizeof(FL));
  env = host_env();
  ethp2p_sim_run(W, 10 * ETHP2P_SEC);
  t = mk(env, &c);
  ethp2p_timer_start(t, 0);
  ck_assert_int_eq(FL.n, 0);
  ethp2p_sim_run(W, 0);
  ck_assert_int_eq(FL.n, 1);
  ck_assert_uint_eq(FL.at[0], ETHP2P_SIM_START + 10 * ETHP2P_SEC);
  ethp2p_timer_destroy(t);
  ethp2p_sim_destroy(W);
}
END_TEST

START_TEST(destroy_inside_callbacks_is_safe_and_silences_the_victim) {
  ethp2p_env *env;
  tctx a = {.id = 1, .destroy_self = true}, b = {.id = 2};
  ethp2p_timer *ta, *tb;
  ck_assert_int_eq(ethp2p_sim_create(&W, SEED), 0);
  memset(&FL, 0, sizeof(FL));
  env = host_env();
  ta = mk(env, &a);
  tb = mk(env, &b);
  a.other = tb; /* a's callback destroys b, which is due at the same time */
  ethp2p_timer_start(ta, ETHP2P_SIM_START + ETHP2P_SEC);
  ethp2p_timer_start(tb, ETHP2P_SIM_START + ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_sim_run_until_idle(W, 100), 0);
  ck_assert_int_eq(FL.n, 1);
  ck_assert_int_eq(FL.ids[0], 1);
  ethp2p_sim_destroy(W);
}
END_TEST

START_TEST(run_until_idle_reports_busy_for_periodic_timers_and_run_moves_now) {
  ethp2p_env *env;
  tctx c = {.id = 1, .rearm = ETHP2P_SEC};
  ethp2p_timer *t;
  ck_assert_int_eq(ethp2p_sim_create(&W, SEED), 0);
  memset(&FL, 0, sizeof(FL));
  env = host_env();
  t = mk(env, &c);
  ethp2p_timer_start(t, ETHP2P_SIM_START + ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_sim_run_until_idle(W, 10), ETHP2P_EBUSY);
  ck_assert_int_eq(FL.n, 10);
  ck_assert_uint_eq(ethp2p_sim_now(W), ETHP2P_SIM_START + 10 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_sim_run(W, ETHP2P_SEC / 2), 0);
  ck_assert_uint_eq(ethp2p_sim_now(W), ETHP2P_SIM_START + 10 * ETHP2P_SEC + ETHP2P_SEC / 2);
  ck_assert_uint_eq(ethp2p_sim_run_until(W, ETHP2P_SIM_START + 20 * ETHP2P_SEC), 10);
  ck_assert_uint_eq(ethp2p_sim_now(W), ETHP2P_SIM_START + 20 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_sim_run_until(W, ETHP2P_SIM_START), 0); /* the past runs nothing */
  ck_assert_uint_eq(ethp2p_sim_now(W), ETHP2P_SIM_START + 20 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_sim_pending(W), 1);
  ck_assert_int_eq(ethp2p_env_wall_ms(env), ETHP2P_SIM_WALL_EPOCH_MS + 20000);
  ethp2p_timer_destroy(t);
  ck_assert_uint_eq(ethp2p_sim_pending(W), 0);
  ethp2p_sim_destroy(W);
}
END_TEST

static void stop_cb(ethp2p_timer *t, void *data) {
  (void)t;
  FL.n++;
  ethp2p_sim_stop(data);
}

START_TEST(stop_returns_from_run_after_the_current_event) {
  ethp2p_env *env;
  ethp2p_timer *t1, *t2;
  ck_assert_int_eq(ethp2p_sim_create(&W, SEED), 0);
  memset(&FL, 0, sizeof(FL));
  env = host_env();
  ck_assert_int_eq(ethp2p_timer_create(env, &t1, stop_cb, W), 0);
  ck_assert_int_eq(ethp2p_timer_create(env, &t2, stop_cb, W), 0);
  ethp2p_timer_start(t1, ETHP2P_SIM_START + ETHP2P_SEC);
  ethp2p_timer_start(t2, ETHP2P_SIM_START + 2 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_sim_run(W, ETHP2P_HOUR), 1);
  ck_assert_uint_eq(ethp2p_sim_now(W), ETHP2P_SIM_START + ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_sim_run(W, ETHP2P_HOUR), 1);
  ck_assert_int_eq(FL.n, 2);
  ethp2p_timer_destroy(t1);
  ethp2p_timer_destroy(t2);
  ethp2p_sim_destroy(W);
}
END_TEST

/* ---- the alarm (env/alarm.c) on simulated time ------------------------------------------ */
static int alarm_fires;
static ethp2p_time alarm_at;
static void alarm_cb(ethp2p_alarm *a, void *data) {
  (void)data;
  alarm_fires++;
  alarm_at = ethp2p_env_now(a->env);
}

START_TEST(alarm_earlier_deadline_wins_past_rearms_and_stop_silences) {
  ethp2p_env *env;
  ethp2p_alarm a;
  ethp2p_time t0;
  ck_assert_int_eq(ethp2p_sim_create(&W, SEED), 0);
  env = host_env();
  t0 = ethp2p_env_now(env);
  alarm_fires = 0;
  ck_assert_int_eq(ethp2p_alarm_init(&a, env, alarm_cb, NULL), 0);
  ethp2p_alarm_schedule(&a, t0 + 10 * ETHP2P_SEC);
  ethp2p_alarm_schedule(&a, t0 + 20 * ETHP2P_SEC); /* later: the earlier one is kept */
  ethp2p_sim_run(W, 30 * ETHP2P_SEC);
  ck_assert_int_eq(alarm_fires, 1);
  ck_assert_uint_eq(alarm_at, t0 + 10 * ETHP2P_SEC);
  /* Earlier than the armed deadline: re-armed earlier. */
  t0 = ethp2p_env_now(env);
  ethp2p_alarm_schedule(&a, t0 + 20 * ETHP2P_SEC);
  ethp2p_alarm_schedule(&a, t0 + 5 * ETHP2P_SEC);
  ethp2p_sim_run(W, 30 * ETHP2P_SEC);
  ck_assert_int_eq(alarm_fires, 2);
  ck_assert_uint_eq(alarm_at, t0 + 5 * ETHP2P_SEC);
  /* A time in the past fires on the next turn, not inside schedule. */
  t0 = ethp2p_env_now(env);
  ethp2p_alarm_schedule(&a, t0 - ETHP2P_SEC);
  ck_assert_int_eq(alarm_fires, 2);
  ethp2p_sim_run(W, 0);
  ck_assert_int_eq(alarm_fires, 3);
  ck_assert_uint_eq(alarm_at, t0);
  /* Stop: nothing fires. */
  ethp2p_alarm_schedule(&a, t0 + ETHP2P_SEC);
  ethp2p_alarm_stop(&a);
  ethp2p_sim_run(W, ETHP2P_MIN);
  ck_assert_int_eq(alarm_fires, 3);
  ethp2p_alarm_close(&a);
  ethp2p_sim_destroy(W);
}
END_TEST

START_TEST(random_bytes_come_from_the_seed) {
  ethp2p_sim *a, *b, *c;
  ethp2p_sim_host *ha, *hb, *hc;
  uint8_t ra[37], rb[37], rc[37];
  ck_assert_int_eq(ethp2p_sim_create(&a, 1), 0);
  ck_assert_int_eq(ethp2p_sim_create(&b, 1), 0);
  ck_assert_int_eq(ethp2p_sim_create(&c, 2), 0);
  ck_assert_int_eq(ethp2p_sim_host_create(a, &ha, "x"), 0);
  ck_assert_int_eq(ethp2p_sim_host_create(b, &hb, "x"), 0);
  ck_assert_int_eq(ethp2p_sim_host_create(c, &hc, "x"), 0);
  ethp2p_env_random(ethp2p_sim_host_env(ha), ra, sizeof(ra));
  ethp2p_env_random(ethp2p_sim_host_env(hb), rb, sizeof(rb));
  ethp2p_env_random(ethp2p_sim_host_env(hc), rc, sizeof(rc));
  ck_assert_mem_eq(ra, rb, sizeof(ra));
  ck_assert(memcmp(ra, rc, sizeof(ra)) != 0);
  ck_assert_uint_eq(ethp2p_sim_seed(c), 2);
  ethp2p_sim_destroy(a);
  ethp2p_sim_destroy(b);
  ethp2p_sim_destroy(c);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_queue");
  TCase *tc = tcase_create("queue");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, heap_pops_by_time_then_push_order_with_removals);
  tcase_add_test(tc, timers_fire_in_deadline_order_and_ties_in_start_order);
  tcase_add_test(tc, past_deadline_fires_on_the_next_turn_not_inside_start);
  tcase_add_test(tc, destroy_inside_callbacks_is_safe_and_silences_the_victim);
  tcase_add_test(tc, run_until_idle_reports_busy_for_periodic_timers_and_run_moves_now);
  tcase_add_test(tc, stop_returns_from_run_after_the_current_event);
  tcase_add_test(tc, alarm_earlier_deadline_wins_past_rearms_and_stop_silences);
  tcase_add_test(tc, random_bytes_come_from_the_seed);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
