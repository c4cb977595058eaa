/*
 * p2p/iptrack.c — predicting our external endpoint from what peers say they
 * see (go-ethereum's p2p/netutil/iptrack.go: >= 10 statements in a
 * 5-minute window).
 *
 * Each host's latest statement counts once, so one chatty (or lying) peer
 * cannot move the prediction.  Tables are fixed arrays scanned linearly: the
 * bound is small and nothing is allocated.
 */
#include <string.h>

#include "ethp2p/localnode.h"

#define DEFAULT_WINDOW (5 * ETHP2P_MIN)
#define DEFAULT_CONTACT_WINDOW (10 * ETHP2P_MIN)
#define DEFAULT_MIN_STATEMENTS 10

void ethp2p_iptrack_init(ethp2p_iptrack *t, ethp2p_time window, ethp2p_time contact_window,
                         unsigned min_statements) {
  memset(t, 0, sizeof *t);
  t->window = window != 0 ? window : DEFAULT_WINDOW;
  t->contact_window = contact_window != 0 ? contact_window : DEFAULT_CONTACT_WINDOW;
  t->min_statements = min_statements != 0 ? min_statements : DEFAULT_MIN_STATEMENTS;
}

/* Drops entries older than window (kept in any order; swap-remove). */
static void gc(ethp2p_iptrack_entry *tab, size_t *n, ethp2p_time window, ethp2p_time now) {
  ethp2p_time cutoff = now > window ? now - window : 0;
  for (size_t i = 0; i < *n;) {
    if (tab[i].time < cutoff) {
      tab[i] = tab[*n - 1];
      (*n)--;
    } else {
      i++;
    }
  }
}

/* Finds host's entry, or makes room for it (evicting the oldest when full). */
static ethp2p_iptrack_entry *slot_for(ethp2p_iptrack_entry *tab, size_t *n,
                                      const ethp2p_addr *host) {
  size_t oldest = 0;
  for (size_t i = 0; i < *n; i++) {
    if (ethp2p_addr_equal(&tab[i].host, host, false))
      return &tab[i];
    if (tab[i].time < tab[oldest].time)
      oldest = i;
  }
  if (*n < ETHP2P_IPTRACK_MAX)
    return &tab[(*n)++];
  return &tab[oldest];
}

void ethp2p_iptrack_add_statement(ethp2p_iptrack *t, const ethp2p_addr *host,
                                  const ethp2p_addr *endpoint, ethp2p_time now) {
  ethp2p_iptrack_entry *e;
  if (host == NULL || endpoint == NULL || host->family == 0 || endpoint->family == 0)
    return;
  gc(t->st, &t->nst, t->window, now);
  e = slot_for(t->st, &t->nst, host);
  e->host = *host;
  e->host.port = 0;
  e->endpoint = *endpoint;
  e->time = now;
}

void ethp2p_iptrack_add_contact(ethp2p_iptrack *t, const ethp2p_addr *host, ethp2p_time now) {
  ethp2p_iptrack_entry *e;
  if (host == NULL || host->family == 0)
    return;
  gc(t->contact, &t->ncontact, t->contact_window, now);
  e = slot_for(t->contact, &t->ncontact, host);
  memset(e, 0, sizeof *e);
  e->host = *host;
  e->host.port = 0;
  e->time = now;
}

bool ethp2p_iptrack_predict(ethp2p_iptrack *t, ethp2p_time now, ethp2p_addr *out) {
  unsigned best = 0;
  size_t best_i = 0;
  memset(out, 0, sizeof *out);
  gc(t->st, &t->nst, t->window, now);
  for (size_t i = 0; i < t->nst; i++) {
    unsigned c = 0;
    for (size_t j = 0; j < t->nst; j++)
      if (ethp2p_addr_equal(&t->st[i].endpoint, &t->st[j].endpoint, true))
        c++;
    /* ties go to the endpoint stated first in table order; deterministic */
    if (c > best) {
      best = c;
      best_i = i;
    }
  }
  if (best == 0 || best < t->min_statements)
    return false;
  *out = t->st[best_i].endpoint;
  return true;
}

bool ethp2p_iptrack_predict_full_cone(ethp2p_iptrack *t, ethp2p_time now) {
  gc(t->st, &t->nst, t->window, now);
  gc(t->contact, &t->ncontact, t->contact_window, now);
  for (size_t i = 0; i < t->nst; i++) {
    bool contacted = false;
    for (size_t j = 0; j < t->ncontact && !contacted; j++)
      contacted = ethp2p_addr_equal(&t->st[i].host, &t->contact[j].host, false) &&
                  t->contact[j].time <= t->st[i].time;
    if (!contacted)
      return true;
  }
  return false;
}
