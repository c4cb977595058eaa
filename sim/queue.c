/*
 * sim/queue.c — the world's event queue: a 4-ary min-heap of (time, seq, ev).
 *
 * seq is a counter taken when an event is pushed, so events due at the same
 * time pop in the order they were pushed (FIFO ties).  Each event remembers
 * its heap slot, so removal (timer stop, handle close) is O(log n) and the
 * queue allocates only when it grows.  Four children per node halve the depth
 * of a binary heap; the children sit in one cache line.
 */
#include <stdlib.h>

#include "sim/sim_internal.h"

void sim_queue_init(sim_queue *q) {
  memset(q, 0, sizeof(*q));
}

void sim_queue_free(sim_queue *q) {
  uint32_t i;
  for (i = 0; i < q->n; i++)
    q->v[i].ev->heap_idx = SIM_NOT_QUEUED;
  free(q->v);
  memset(q, 0, sizeof(*q));
}

static inline bool ent_less(const sim_heap_ent *a, const sim_heap_ent *b) {
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static inline void place(sim_queue *q, uint32_t i, sim_heap_ent e) {
  q->v[i] = e;
  e.ev->heap_idx = i;
}

static void sift_up(sim_queue *q, uint32_t i) {
  sim_heap_ent e = q->v[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 4;
    if (!ent_less(&e, &q->v[parent]))
      break;
    place(q, i, q->v[parent]);
    i = parent;
  }
  place(q, i, e);
}

static void sift_down(sim_queue *q, uint32_t i) {
  sim_heap_ent e = q->v[i];
  for (;;) {
    uint32_t l = 4 * i + 1, m, k, end;
    if (l >= q->n)
      break;
    m = l;
    end = l + 4 < q->n ? l + 4 : q->n;
    for (k = l + 1; k < end; k++)
      if (ent_less(&q->v[k], &q->v[m]))
        m = k;
    if (!ent_less(&q->v[m], &e))
      break;
    place(q, i, q->v[m]);
    i = m;
  }
  place(q, i, e);
}

void sim_queue_remove(sim_queue *q, sim_ev *ev) {
  uint32_t i = ev->heap_idx;
  if (i == SIM_NOT_QUEUED || i >= q->n)
    return;
  ev->heap_idx = SIM_NOT_QUEUED;
  q->n--;
  if (i == q->n)
    return;
  q->v[i] = q->v[q->n];
  q->v[i].ev->heap_idx = i;
  if (i > 0 && ent_less(&q->v[i], &q->v[(i - 1) / 4]))
    sift_up(q, i);
  else
    sift_down(q, i);
}

int sim_queue_push(sim_queue *q, sim_ev *ev, ethp2p_time at) {
  sim_heap_ent e;
  if (ev->heap_idx != SIM_NOT_QUEUED)
    sim_queue_remove(q, ev);
  if (q->n == q->cap) {
    uint32_t ncap = q->cap ? q->cap * 2 : 256;
    sim_heap_ent *nv = realloc(q->v, (size_t)ncap * sizeof(*nv));
    if (nv == NULL)
      return ETHP2P_ENOMEM;
    q->v = nv;
    q->cap = ncap;
  }
  e.at = at;
  e.seq = q->next_seq++;
  e.ev = ev;
  q->v[q->n] = e;
  ev->heap_idx = q->n;
  q->n++;
  sift_up(q, q->n - 1);
  return 0;
}

sim_ev *sim_queue_pop(sim_queue *q, ethp2p_time *at) {
  sim_ev *ev;
  if (q->n == 0)
    return NULL;
  ev = q->v[0].ev;
  *at = q->v[0].at;
  ev->heap_idx = SIM_NOT_QUEUED;
  q->n--;
  if (q->n > 0) {
    q->v[0] = q->v[q->n];
    q->v[0].ev->heap_idx = 0;
    sift_down(q, 0);
  }
  return ev;
}
