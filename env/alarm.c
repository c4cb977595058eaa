/*
 * env/alarm.c — go-ethereum's mclock.Alarm on top of an environment timer.
 *
 * schedule(t) keeps the earliest deadline it is given: while the timer is armed
 * (it has not fired yet) and its deadline is not later than t, it is kept, even
 * when that deadline is already due (<= now: the timer is queued for this turn);
 * a caller computing "the next thing I must do" once per item then never loses
 * an item that is due now to a later one.  Otherwise the timer is re-armed at t.
 * Unlike go-ethereum's mclock.Alarm, a due deadline is not treated as spent: the
 * `armed` flag says exactly whether the callback is still to come (cleared when
 * it runs, or by stop).  A t in the past fires on the next loop turn (never
 * inside schedule).  The callback runs once per arming.
 */
#include <string.h>

#include "ethp2p/env.h"

static void alarm_fire(ethp2p_timer *timer, void *data) {
  ethp2p_alarm *alarm = data;
  (void)timer;
  alarm->armed = false;
  if (alarm->cb != NULL)
    alarm->cb(alarm, alarm->data);
}

int ethp2p_alarm_init(ethp2p_alarm *alarm, ethp2p_env *env, ethp2p_alarm_cb cb, void *data) {
  int rc;
  if (alarm == NULL)
    return ETHP2P_EINVAL;
  memset(alarm, 0, sizeof(*alarm));
  if (env == NULL)
    return ETHP2P_EINVAL;
  rc = ethp2p_timer_create(env, &alarm->timer, alarm_fire, alarm);
  if (rc != 0) {
    alarm->timer = NULL;
    return rc;
  }
  alarm->env = env;
  alarm->cb = cb;
  alarm->data = data;
  return 0;
}

void ethp2p_alarm_schedule(ethp2p_alarm *alarm, ethp2p_time t) {
  ethp2p_time now;
  if (alarm == NULL || alarm->timer == NULL)
    return;
  now = ethp2p_env_now(alarm->env);
  if (alarm->armed && alarm->deadline <= t)
    return; /* the armed timer fires no later than t (maybe this turn): keep it */
  /* A past deadline is recorded as now (it fires on the next turn). */
  alarm->deadline = t < now ? now : t;
  alarm->armed = true;
  ethp2p_timer_start(alarm->timer, alarm->deadline);
}

void ethp2p_alarm_stop(ethp2p_alarm *alarm) {
  if (alarm == NULL || alarm->timer == NULL || !alarm->armed)
    return;
  ethp2p_timer_stop(alarm->timer);
  alarm->armed = false;
}

void ethp2p_alarm_close(ethp2p_alarm *alarm) {
  if (alarm == NULL || alarm->timer == NULL)
    return;
  ethp2p_timer_destroy(alarm->timer);
  alarm->timer = NULL;
  alarm->armed = false;
}
