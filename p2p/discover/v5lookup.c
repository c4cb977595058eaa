/*
 * p2p/discover/v5lookup.c — an iterative discv5 lookup over the public request API
 * (discv5-theory.md "Lookup"; go-ethereum p2p/discover lookup.go): alpha = 3 requests
 * in flight, FINDNODE for the log-distances around the target, until the 16 closest
 * known nodes have answered or failed.
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discv5.h"
#include "p2p/discover/v5wire.h"

#define ALPHA 3
#define RESULT 16 /* closest nodes kept as the answer (bucket size) */
#define CAND_MAX 64

typedef struct cand {
  ethp2p_enr rec;
  ethp2p_discv5_peer peer;
  uint8_t dist[32]; /* XOR distance to the target */
  bool asked;
} cand;

typedef struct lookup {
  ethp2p_discv5 *v5;
  uint8_t target[32];
  ethp2p_discv5_lookup_cb cb;
  void *data;
  cand c[CAND_MAX];
  size_t n;
  unsigned inflight;
  bool cancelled;
  ethp2p_enr out[RESULT];
} lookup;

typedef struct ask {
  lookup *l;
} ask;

static void add(lookup *l, const ethp2p_enr *rec) {
  cand x;
  uint8_t self[32];
  if (ethp2p_discv5_peer_from_enr(&x.peer, rec) != 0)
    return;
  ethp2p_discv5_id(l->v5, self);
  if (memcmp(x.peer.id, self, 32) == 0)
    return;
  for (size_t i = 0; i < l->n; i++)
    if (memcmp(l->c[i].peer.id, x.peer.id, 32) == 0)
      return;
  x.rec = *rec;
  x.asked = false;
  for (int i = 0; i < 32; i++)
    x.dist[i] = x.peer.id[i] ^ l->target[i];
  /* sorted insert by distance; the farthest falls off a full list */
  size_t at = l->n;
  while (at > 0 && memcmp(l->c[at - 1].dist, x.dist, 32) > 0)
    at--;
  if (at >= CAND_MAX)
    return;
  size_t move = (l->n < CAND_MAX ? l->n : CAND_MAX - 1) - at;
  memmove(&l->c[at + 1], &l->c[at], move * sizeof l->c[0]);
  l->c[at] = x;
  if (l->n < CAND_MAX)
    l->n++;
}

static void finish(lookup *l) {
  size_t n = l->n < RESULT ? l->n : RESULT;
  for (size_t i = 0; i < n; i++)
    l->out[i] = l->c[i].rec;
  l->cb(l->data, l->cancelled ? ETHP2P_ECANCELED : 0, l->out, l->cancelled ? 0 : n);
  free(l);
}

static void step(lookup *l, bool first);

static void on_nodes(void *data, int status, const ethp2p_enr *recs, size_t n) {
  ask *a = data;
  lookup *l = a->l;
  free(a);
  l->inflight--;
  if (status == ETHP2P_ECANCELED)
    l->cancelled = true;
  for (size_t i = 0; i < n; i++)
    add(l, &recs[i]);
  step(l, false);
}

/* go-ethereum's lookupDistances: the target's distance and its neighbours. */
static size_t distances(uint16_t out[3], const uint8_t target[32], const uint8_t id[32]) {
  unsigned d = ethp2p_v5_log_distance(target, id);
  size_t n = 0;
  if (d == 0)
    d = 1;
  out[n++] = (uint16_t)d;
  if (d < 256)
    out[n++] = (uint16_t)(d + 1);
  if (d > 1)
    out[n++] = (uint16_t)(d - 1);
  return n;
}

/* Sends requests while fewer than ALPHA are in flight; finishes when none are left.  The
 * first step never finishes: ethp2p_discv5_lookup returns an error instead. */
static void step(lookup *l, bool first) {
  for (size_t i = 0; !l->cancelled && i < l->n && i < RESULT && l->inflight < ALPHA; i++) {
    cand *c = &l->c[i];
    if (c->asked)
      continue;
    c->asked = true;
    ask *a = malloc(sizeof *a);
    if (a == NULL)
      break;
    a->l = l;
    uint16_t d[3];
    size_t nd = distances(d, l->target, c->peer.id);
    if (ethp2p_discv5_findnode(l->v5, &c->peer, d, nd, on_nodes, a) != 0) {
      free(a);
      continue;
    }
    l->inflight++;
  }
  if (l->inflight == 0 && !first)
    finish(l);
}

int ethp2p_discv5_lookup(ethp2p_discv5 *v5, const uint8_t target[32], ethp2p_discv5_lookup_cb cb,
                         void *data) {
  if (v5 == NULL || target == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  size_t n = ethp2p_discv5_store_count(v5);
  if (n == 0)
    return ETHP2P_ENOTFOUND;
  lookup *l = calloc(1, sizeof *l);
  if (l == NULL)
    return ETHP2P_ENOMEM;
  l->v5 = v5;
  memcpy(l->target, target, 32);
  l->cb = cb;
  l->data = data;
  ethp2p_enr rec;
  for (size_t i = 0; i < n; i++)
    if (ethp2p_discv5_store_at(v5, i, &rec) == 0)
      add(l, &rec);
  if (l->n == 0) {
    free(l);
    return ETHP2P_ENOTFOUND;
  }
  step(l, true);
  if (l->inflight == 0) {
    free(l);
    return ETHP2P_EBUSY; /* no request could be sent; cb is not called */
  }
  return 0;
}
