/*
 * tests/check_env_alarm.c — ethp2p_alarm (go-ethereum mclock.Alarm semantics)
 * against a tiny hand-advanced fake environment defined below: a clock the test
 * sets, and a list of armed timers sorted by (deadline, start order).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env.h"

/* ---- the fake environment --------------------------------------------------- */

#define FAKE_MAX_TIMERS 8

typedef struct fake_timer {
  ethp2p_timer base; /* first, as env.h requires */
  bool live, armed;
  ethp2p_time deadline;
  uint64_t seq;
} fake_timer;

typedef struct fake_env {
  ethp2p_env env;
  ethp2p_time now;
  uint64_t seq;
  fake_timer timers[FAKE_MAX_TIMERS];
  int starts; /* timer_start calls, to see when the alarm re-arms */
} fake_env;

static fake_env *fake_of(ethp2p_env *env) {
  return (fake_env *)env->impl;
}

static ethp2p_time fake_now(ethp2p_env *env) {
  return fake_of(env)->now;
}

static int fake_timer_create(ethp2p_env *env, ethp2p_timer **out, ethp2p_timer_cb cb, void *data) {
  fake_env *f = fake_of(env);
  int i;
  for (i = 0; i < FAKE_MAX_TIMERS; i++) {
    fake_timer *t = &f->timers[i];
    if (t->live)
      continue;
    memset(t, 0, sizeof(*t));
    t->base.env = env;
    t->base.cb = cb;
    t->base.data = data;
    t->live = true;
    *out = &t->base;
    return 0;
  }
  *out = NULL;
  return ETHP2P_ENOMEM;
}

static void fake_timer_start(ethp2p_timer *timer, ethp2p_time deadline) {
  fake_timer *t = (fake_timer *)timer;
  fake_env *f = fake_of(timer->env);
  t->armed = true;
  t->deadline = deadline;
  t->seq = f->seq++;
  f->starts++;
}

static void fake_timer_stop(ethp2p_timer *timer) {
  ((fake_timer *)timer)->armed = false;
}

static void fake_timer_destroy(ethp2p_timer *timer) {
  fake_timer *t = (fake_timer *)timer;
  t->armed = false;
  t->live = false;
}

static const ethp2p_env_ops fake_ops = {
    .now = fake_now,
    .timer_create = fake_timer_create,
    .timer_start = fake_timer_start,
    .timer_stop = fake_timer_stop,
    .timer_destroy = fake_timer_destroy,
};

static void fake_init(fake_env *f, ethp2p_time now) {
  memset(f, 0, sizeof(*f));
  f->env.ops = &fake_ops;
  f->env.impl = f;
  f->now = now;
}

/* The earliest armed timer with deadline <= limit and seq < seq_limit (FIFO on ties). */
static fake_timer *fake_next(fake_env *f, ethp2p_time limit, uint64_t seq_limit) {
  fake_timer *best = NULL;
  int i;
  for (i = 0; i < FAKE_MAX_TIMERS; i++) {
    fake_timer *t = &f->timers[i];
    if (!t->armed || t->deadline > limit || t->seq >= seq_limit)
      continue;
    if (best == NULL || t->deadline < best->deadline ||
        (t->deadline == best->deadline && t->seq < best->seq))
      best = t;
  }
  return best;
}

/* One loop turn without moving the clock: fires what was due when the turn began. */
static int fake_turn(fake_env *f) {
  uint64_t seq_limit = f->seq;
  fake_timer *t;
  int fired = 0;
  while ((t = fake_next(f, f->now, seq_limit)) != NULL) {
    t->armed = false;
    t->base.cb(&t->base, t->base.data);
    fired++;
  }
  return fired;
}

/* Moves the clock to `to`, firing timers in deadline order on the way. */
static void fake_advance(fake_env *f, ethp2p_time to) {
  fake_timer *t;
  while ((t = fake_next(f, to, UINT64_MAX)) != NULL) {
    if (t->deadline > f->now)
      f->now = t->deadline;
    t->armed = false;
    t->base.cb(&t->base, t->base.data);
  }
  if (to > f->now)
    f->now = to;
}

static int fake_live_timers(fake_env *f) {
  int i, n = 0;
  for (i = 0; i < FAKE_MAX_TIMERS; i++)
    n += f->timers[i].live;
  return n;
}

/* ---- alarm fixtures --------------------------------------------------------- */

typedef struct fires {
  int count;
  ethp2p_time at[16];
  ethp2p_time resched; /* if non-zero, the callback schedules the alarm again here */
} fires;

static fake_env F;
static ethp2p_alarm A;
static fires R;

static void on_alarm(ethp2p_alarm *alarm, void *data) {
  fires *r = data;
  ck_assert_ptr_eq(alarm, &A);
  if (r->count < 16)
    r->at[r->count] = fake_now(alarm->env);
  r->count++;
  if (r->resched != 0) {
    ethp2p_time t = r->resched;
    r->resched = 0;
    ethp2p_alarm_schedule(alarm, t);
  }
}

static void setup(void) {
  fake_init(&F, 1000);
  memset(&R, 0, sizeof(R));
  ck_assert_int_eq(ethp2p_alarm_init(&A, &F.env, on_alarm, &R), 0);
}

static void teardown(void) {
  ethp2p_alarm_close(&A);
}

/* ---- the fake itself ------------------------------------------------------ */

static int order[4], norder;
static void record_order(ethp2p_timer *t, void *data) {
  (void)t;
  order[norder++] = (int)(intptr_t)data;
}

START_TEST(fake_fires_equal_deadlines_in_start_order) {
  fake_env f;
  ethp2p_timer *t[3];
  int i;
  fake_init(&f, 0);
  norder = 0;
  for (i = 0; i < 3; i++)
    ck_assert_int_eq(fake_timer_create(&f.env, &t[i], record_order, (void *)(intptr_t)i), 0);
  ethp2p_timer_start(t[2], 50);
  ethp2p_timer_start(t[0], 50);
  ethp2p_timer_start(t[1], 40);
  fake_advance(&f, 100);
  ck_assert_int_eq(norder, 3);
  ck_assert_int_eq(order[0], 1);
  ck_assert_int_eq(order[1], 2);
  ck_assert_int_eq(order[2], 0);
}
END_TEST

/* ---- alarm semantics ---------------------------------------------------------- */

START_TEST(earlier_deadline_replaces_later_one) {
  ethp2p_alarm_schedule(&A, 2000);
  ethp2p_alarm_schedule(&A, 1500);
  ck_assert(A.armed);
  ck_assert_uint_eq(A.deadline, 1500);
  fake_advance(&F, 3000);
  ck_assert_int_eq(R.count, 1);
  ck_assert_uint_eq(R.at[0], 1500);
}
END_TEST

START_TEST(later_schedule_keeps_the_earlier_armed_deadline) {
  ethp2p_alarm_schedule(&A, 1500);
  ck_assert_int_eq(F.starts, 1);
  ethp2p_alarm_schedule(&A, 2000);
  ethp2p_alarm_schedule(&A, 1500); /* equal is "not later": kept too */
  ck_assert_int_eq(F.starts, 1);
  ck_assert_uint_eq(A.deadline, 1500);
  fake_advance(&F, 3000);
  ck_assert_int_eq(R.count, 1);
  ck_assert_uint_eq(R.at[0], 1500);
}
END_TEST

START_TEST(past_time_fires_on_next_turn_not_inside_schedule) {
  ethp2p_alarm_schedule(&A, 10); /* now is 1000 */
  ck_assert_int_eq(R.count, 0);
  ck_assert(A.armed);
  ck_assert_uint_eq(A.deadline, 1000); /* recorded as now, like mclock */
  ck_assert_int_eq(fake_turn(&F), 1);
  ck_assert_int_eq(R.count, 1);
  ck_assert_uint_eq(R.at[0], 1000);
  ck_assert(!A.armed);
}
END_TEST

START_TEST(due_deadline_is_kept_when_a_later_one_is_scheduled) {
  /* Armed at 1100; the clock passes 1100 before the timer ran (it is queued for
   * this very turn).  A later schedule must not push the due attempt back
   * (issue 12, defect 2: the loop schedules once per slot). */
  ethp2p_alarm_schedule(&A, 1100);
  F.now = 1200;
  ethp2p_alarm_schedule(&A, 1500);
  ck_assert_int_eq(F.starts, 1);
  ck_assert_uint_eq(A.deadline, 1100);
  fake_advance(&F, 1200);
  ck_assert_int_eq(R.count, 1);
  ck_assert_uint_eq(R.at[0], 1200); /* fired on the turn it was due in */
  fake_advance(&F, 5000);
  ck_assert_int_eq(R.count, 1); /* once per arming */
}
END_TEST

START_TEST(deadline_equal_to_now_is_kept_and_fires_this_turn) {
  ethp2p_alarm_schedule(&A, 1100);
  F.now = 1100;
  ethp2p_alarm_schedule(&A, 1300);
  ck_assert_uint_eq(A.deadline, 1100);
  ck_assert_int_eq(fake_turn(&F), 1);
  ck_assert_int_eq(R.count, 1);
  ck_assert_uint_eq(R.at[0], 1100);
  /* fired: the next schedule arms again, later is fine now */
  ethp2p_alarm_schedule(&A, 1300);
  fake_advance(&F, 2000);
  ck_assert_int_eq(R.count, 2);
  ck_assert_uint_eq(R.at[1], 1300);
}
END_TEST

START_TEST(schedule_now_then_later_fires_now) {
  /* The portmap pattern: one slot due now, another in 8 minutes. */
  ethp2p_alarm_schedule(&A, 1000); /* now */
  ethp2p_alarm_schedule(&A, 481000);
  ck_assert_int_eq(fake_turn(&F), 1);
  ck_assert_int_eq(R.count, 1);
  ck_assert_uint_eq(R.at[0], 1000);
}
END_TEST

START_TEST(stop_prevents_the_callback) {
  ethp2p_alarm_schedule(&A, 1500);
  ethp2p_alarm_stop(&A);
  ck_assert(!A.armed);
  fake_advance(&F, 5000);
  ck_assert_int_eq(R.count, 0);
  ethp2p_alarm_stop(&A); /* stopping a stopped alarm is harmless */
  ck_assert_int_eq(R.count, 0);
}
END_TEST

START_TEST(schedule_after_stop_arms_again_even_if_later) {
  ethp2p_alarm_schedule(&A, 1500);
  ethp2p_alarm_stop(&A);
  ethp2p_alarm_schedule(&A, 4000);
  fake_advance(&F, 5000);
  ck_assert_int_eq(R.count, 1);
  ck_assert_uint_eq(R.at[0], 4000);
}
END_TEST

START_TEST(reschedule_after_fire_fires_again) {
  ethp2p_alarm_schedule(&A, 1100);
  fake_advance(&F, 1100);
  ck_assert_int_eq(R.count, 1);
  ck_assert(!A.armed);
  ethp2p_alarm_schedule(&A, 1050); /* in the past now: next turn */
  ck_assert_int_eq(R.count, 1);
  fake_turn(&F);
  ck_assert_int_eq(R.count, 2);
  ethp2p_alarm_schedule(&A, 1900);
  fake_advance(&F, 2000);
  ck_assert_int_eq(R.count, 3);
  ck_assert_uint_eq(R.at[2], 1900);
}
END_TEST

START_TEST(schedule_from_the_callback_rearms) {
  R.resched = 1700;
  ethp2p_alarm_schedule(&A, 1200);
  fake_advance(&F, 5000);
  ck_assert_int_eq(R.count, 2);
  ck_assert_uint_eq(R.at[0], 1200);
  ck_assert_uint_eq(R.at[1], 1700);
}
END_TEST

START_TEST(past_schedule_from_the_callback_waits_for_the_next_turn) {
  R.resched = 1; /* long past */
  ethp2p_alarm_schedule(&A, 1000);
  ck_assert_int_eq(fake_turn(&F), 1); /* the re-arm is not fired in the same turn */
  ck_assert_int_eq(R.count, 1);
  ck_assert(A.armed);
  ck_assert_int_eq(fake_turn(&F), 1);
  ck_assert_int_eq(R.count, 2);
}
END_TEST

START_TEST(close_releases_the_timer_and_silences_the_alarm) {
  ethp2p_alarm_schedule(&A, 1500);
  ck_assert_int_eq(fake_live_timers(&F), 1);
  ethp2p_alarm_close(&A);
  ck_assert_int_eq(fake_live_timers(&F), 0);
  ck_assert_ptr_null(A.timer);
  ethp2p_alarm_schedule(&A, 1600); /* after close: a no-op, not a crash */
  ethp2p_alarm_stop(&A);
  fake_advance(&F, 5000);
  ck_assert_int_eq(R.count, 0);
  ethp2p_alarm_close(&A); /* twice is fine (teardown does it again too) */
}
END_TEST

START_TEST(init_reports_timer_allocation_failure) {
  fake_env f;
  ethp2p_alarm alarms[FAKE_MAX_TIMERS + 1];
  int i;
  fake_init(&f, 0);
  for (i = 0; i < FAKE_MAX_TIMERS; i++)
    ck_assert_int_eq(ethp2p_alarm_init(&alarms[i], &f.env, on_alarm, &R), 0);
  ck_assert_int_eq(ethp2p_alarm_init(&alarms[i], &f.env, on_alarm, &R), ETHP2P_ENOMEM);
  ck_assert_ptr_null(alarms[i].timer);
  ethp2p_alarm_schedule(&alarms[i], 5); /* an alarm whose init failed is inert */
  for (i = 0; i < FAKE_MAX_TIMERS; i++)
    ethp2p_alarm_close(&alarms[i]);
  ck_assert_int_eq(fake_live_timers(&f), 0);
  ck_assert_int_eq(ethp2p_alarm_init(&alarms[0], NULL, on_alarm, &R), ETHP2P_EINVAL);
}
END_TEST

START_TEST(many_schedules_fire_once_at_the_minimum) {
  static const ethp2p_time ts[] = {5000, 4000, 4500, 3000, 3500, 9000, 3000};
  size_t i;
  for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
    ethp2p_alarm_schedule(&A, ts[i]);
  fake_advance(&F, 10000);
  ck_assert_int_eq(R.count, 1);
  ck_assert_uint_eq(R.at[0], 3000);
}
END_TEST

int main(void) {
  Suite *s = suite_create("env_alarm");
  TCase *tc = tcase_create("alarm");
  SRunner *sr;
  int failed;
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, fake_fires_equal_deadlines_in_start_order);
  tcase_add_test(tc, earlier_deadline_replaces_later_one);
  tcase_add_test(tc, later_schedule_keeps_the_earlier_armed_deadline);
  tcase_add_test(tc, past_time_fires_on_next_turn_not_inside_schedule);
  tcase_add_test(tc, due_deadline_is_kept_when_a_later_one_is_scheduled);
  tcase_add_test(tc, deadline_equal_to_now_is_kept_and_fires_this_turn);
  tcase_add_test(tc, schedule_now_then_later_fires_now);
  tcase_add_test(tc, stop_prevents_the_callback);
  tcase_add_test(tc, schedule_after_stop_arms_again_even_if_later);
  tcase_add_test(tc, reschedule_after_fire_fires_again);
  tcase_add_test(tc, schedule_from_the_callback_rearms);
  tcase_add_test(tc, past_schedule_from_the_callback_waits_for_the_next_turn);
  tcase_add_test(tc, close_releases_the_timer_and_silences_the_alarm);
  tcase_add_test(tc, init_reports_timer_allocation_failure);
  tcase_add_test(tc, many_schedules_fire_once_at_the_minimum);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
