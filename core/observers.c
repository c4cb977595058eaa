/* core/observers.c — see core/observers.h. */
#include "core/observers.h"

#include <stdlib.h>
#include <string.h>

#include "ethp2p/error.h"

void ethp2p_observers_init(ethp2p_observers *l, size_t max) {
  memset(l, 0, sizeof *l);
  l->max = max;
}

size_t ethp2p_observers_count(const ethp2p_observers *l) {
  return l->n - l->removed;
}

int ethp2p_observers_add(ethp2p_observers *l, ethp2p_observer_fn fn, void *data) {
  if (fn == NULL)
    return ETHP2P_EINVAL;
  if (ethp2p_observers_count(l) >= l->max)
    return ETHP2P_ETOOBIG;
  if (l->n == l->cap) {
    size_t ncap = l->cap != 0 ? l->cap * 2 : 4;
    ethp2p_observer *nv = realloc(l->v, ncap * sizeof *nv);
    if (nv == NULL)
      return ETHP2P_ENOMEM;
    l->v = nv;
    l->cap = ncap;
  }
  l->v[l->n].fn = fn;
  l->v[l->n].data = data;
  l->n++;
  return 0;
}

int ethp2p_observers_remove(ethp2p_observers *l, ethp2p_observer_fn fn, void *data) {
  for (size_t i = 0; i < l->n; i++) {
    if (l->v[i].fn == fn && l->v[i].data == data) {
      if (l->notifying > 0) {
        l->v[i].fn = NULL; /* skipped now, compacted at the end */
        l->removed++;
      } else {
        memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
        l->n--;
      }
      return 0;
    }
  }
  return ETHP2P_ENOTFOUND;
}

size_t ethp2p_observers_begin(ethp2p_observers *l) {
  l->notifying++;
  return l->n;
}

const ethp2p_observer *ethp2p_observers_at(const ethp2p_observers *l, size_t i) {
  return i < l->n && l->v[i].fn != NULL ? &l->v[i] : NULL;
}

void ethp2p_observers_end(ethp2p_observers *l) {
  size_t k = 0;
  if (l->notifying == 0 || --l->notifying > 0 || l->removed == 0)
    return;
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].fn != NULL)
      l->v[k++] = l->v[i];
  l->n = k;
  l->removed = 0;
}

void ethp2p_observers_free(ethp2p_observers *l) {
  free(l->v);
  l->v = NULL;
  l->n = l->cap = l->removed = 0;
}
