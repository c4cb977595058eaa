/*
 * p2p/discover/lookup.c — iterative Kademlia lookup (see ethp2p/discover.h),
 * after go-ethereum's p2p/discover/lookup.go: the 16 closest nodes seen so far
 * are kept sorted by distance to the target; the closest not yet asked are
 * queried, at most alpha at a time; a node that fails leaves the list so the
 * next one gets its turn; the lookup ends when no unasked node remains among
 * the closest and nothing is in flight.
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discover.h"

#define SEEN_MAX 1024

enum { ST_NEW = 0, ST_ASKING, ST_ANSWERED };

typedef struct lk_entry {
  ethp2p_discover_node node;
  int state;
} lk_entry;

struct ethp2p_lookup {
  ethp2p_env *env;
  ethp2p_timer *timer; /* deferred finish when nothing could be asked */
  uint8_t target[32];
  uint8_t self[32];
  lk_entry res[ETHP2P_LOOKUP_RESULTS];
  size_t nres;
  uint8_t asking[ETHP2P_LOOKUP_ALPHA][32];
  size_t inflight;
  uint8_t (*seen)[32];
  size_t nseen;
  size_t asked;
  bool cancelled, finished;
  ethp2p_lookup_query_fn query;
  void *query_data;
  ethp2p_lookup_done_cb done;
  void *done_data;
};

static bool seen_add(ethp2p_lookup *lk, const uint8_t id[32]) {
  for (size_t i = 0; i < lk->nseen; i++)
    if (memcmp(lk->seen[i], id, 32) == 0)
      return false;
  if (lk->nseen < SEEN_MAX)
    memcpy(lk->seen[lk->nseen++], id, 32);
  return true;
}

static void res_insert(ethp2p_lookup *lk, const ethp2p_discover_node *n) {
  size_t pos = lk->nres;
  while (pos > 0 && ethp2p_discover_distcmp(lk->target, n->id, lk->res[pos - 1].node.id) < 0)
    pos--;
  if (pos >= ETHP2P_LOOKUP_RESULTS)
    return;
  size_t keep = lk->nres < ETHP2P_LOOKUP_RESULTS ? lk->nres : ETHP2P_LOOKUP_RESULTS - 1;
  memmove(&lk->res[pos + 1], &lk->res[pos], (keep - pos) * sizeof lk->res[0]);
  lk->res[pos].node = *n;
  lk->res[pos].state = ST_NEW;
  if (lk->nres < ETHP2P_LOOKUP_RESULTS)
    lk->nres++;
}

static int res_find(const ethp2p_lookup *lk, const uint8_t id[32]) {
  for (size_t i = 0; i < lk->nres; i++)
    if (memcmp(lk->res[i].node.id, id, 32) == 0)
      return (int)i;
  return -1;
}

static void res_remove(ethp2p_lookup *lk, size_t i) {
  memmove(&lk->res[i], &lk->res[i + 1], (lk->nres - i - 1) * sizeof lk->res[0]);
  lk->nres--;
}

static void lk_free(ethp2p_lookup *lk) {
  ethp2p_timer_destroy(lk->timer);
  free(lk->seen);
  free(lk);
}

static void finish(ethp2p_lookup *lk) {
  ethp2p_discover_node out[ETHP2P_LOOKUP_RESULTS];
  size_t n = 0;
  lk->finished = true;
  for (size_t i = 0; i < lk->nres; i++)
    if (lk->res[i].state == ST_ANSWERED)
      out[n++] = lk->res[i].node;
  if (!lk->cancelled && lk->done != NULL)
    lk->done(lk->done_data, out, n);
  lk_free(lk);
}

/* Starts queries up to alpha.  Returns true when the lookup is over. */
static bool advance(ethp2p_lookup *lk) {
  while (lk->inflight < ETHP2P_LOOKUP_ALPHA && !lk->cancelled) {
    size_t i;
    for (i = 0; i < lk->nres; i++)
      if (lk->res[i].state == ST_NEW)
        break;
    if (i == lk->nres)
      break;
    lk->res[i].state = ST_ASKING;
    memcpy(lk->asking[lk->inflight++], lk->res[i].node.id, 32);
    lk->asked++;
    ethp2p_discover_node n = lk->res[i].node;
    if (lk->query(lk->query_data, lk, &n, lk->target) != 0) {
      lk->inflight--;
      int j = res_find(lk, n.id);
      if (j >= 0)
        res_remove(lk, (size_t)j);
    }
  }
  return lk->inflight == 0;
}

static void on_timer(ethp2p_timer *t, void *data) {
  (void)t;
  finish(data);
}

int ethp2p_lookup_start(ethp2p_env *env, const uint8_t target[32], const uint8_t self[32],
                        const ethp2p_discover_node *seeds, size_t nseeds,
                        ethp2p_lookup_query_fn query, void *query_data, ethp2p_lookup_done_cb done,
                        void *done_data, ethp2p_lookup **out) {
  ethp2p_lookup *lk;
  if (out != NULL)
    *out = NULL;
  if (env == NULL || target == NULL || self == NULL || query == NULL)
    return ETHP2P_EINVAL;
  lk = calloc(1, sizeof *lk);
  if (lk == NULL)
    return ETHP2P_ENOMEM;
  lk->seen = calloc(SEEN_MAX, 32);
  if (lk->seen == NULL || ethp2p_timer_create(env, &lk->timer, on_timer, lk) != 0) {
    free(lk->seen);
    free(lk);
    return ETHP2P_ENOMEM;
  }
  lk->env = env;
  memcpy(lk->target, target, 32);
  memcpy(lk->self, self, 32);
  lk->query = query;
  lk->query_data = query_data;
  lk->done = done;
  lk->done_data = done_data;
  seen_add(lk, self);
  for (size_t i = 0; i < nseeds; i++)
    if (seen_add(lk, seeds[i].id))
      res_insert(lk, &seeds[i]);
  if (lk->nres == 0) {
    lk_free(lk);
    return ETHP2P_ENOTFOUND;
  }
  if (out != NULL)
    *out = lk;
  if (advance(lk))
    ethp2p_timer_start(lk->timer, ethp2p_env_now(env)); /* finish on the next turn */
  return 0;
}

void ethp2p_lookup_answer(ethp2p_lookup *lk, const uint8_t from[32], int status,
                          const ethp2p_discover_node *nodes, size_t n) {
  size_t k;
  int i;
  for (k = 0; k < lk->inflight; k++)
    if (memcmp(lk->asking[k], from, 32) == 0)
      break;
  if (k == lk->inflight)
    return; /* not one of ours */
  memmove(lk->asking[k], lk->asking[k + 1], (lk->inflight - k - 1) * 32);
  lk->inflight--;
  if (lk->cancelled) {
    if (lk->inflight == 0)
      lk_free(lk);
    return;
  }
  i = res_find(lk, from);
  if (status != 0) {
    if (i >= 0)
      res_remove(lk, (size_t)i);
  } else {
    if (i >= 0)
      lk->res[i].state = ST_ANSWERED;
    for (size_t j = 0; j < n; j++)
      if (seen_add(lk, nodes[j].id))
        res_insert(lk, &nodes[j]);
  }
  if (advance(lk) && !lk->finished)
    finish(lk);
}

void ethp2p_lookup_cancel(ethp2p_lookup *lk) {
  if (lk == NULL)
    return;
  lk->cancelled = true;
  ethp2p_timer_stop(lk->timer);
  if (lk->inflight == 0)
    lk_free(lk);
}

size_t ethp2p_lookup_asked(const ethp2p_lookup *lk) {
  return lk->asked;
}
