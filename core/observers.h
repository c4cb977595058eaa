/*
 * core/observers.h — one observer list, internal to the library: the
 * pattern behind every "tell me when X happens" API (the simulator's NAT
 * hooks today; the NAT clients' notify, the gateway's change callback and the
 * port-mapping loop's subscribers are to switch to it).
 *
 * A list of (callback, data) pairs, notified in registration order.  The
 * callback type is the owner's: it is stored as ethp2p_observer_fn and cast
 * back by the owner's notify loop (C allows a round trip through another
 * function pointer type).  Safe against changes during a notification:
 * between ethp2p_observers_begin and _end, an observer removed is skipped
 * (its slot is cleared and compacted at _end), one added is not called for
 * the notification in progress.  A cap bounds the list (ETHP2P_ETOOBIG past
 * it).
 *
 *   size_t n = ethp2p_observers_begin(&l);
 *   for (size_t i = 0; i < n; i++) {
 *     const ethp2p_observer *o = ethp2p_observers_at(&l, i);
 *     if (o != NULL)
 *       ((my_cb)o->fn)(owner, event, o->data);
 *   }
 *   ethp2p_observers_end(&l);
 */
#ifndef ETHP2P_CORE_OBSERVERS_H
#define ETHP2P_CORE_OBSERVERS_H

#include <stddef.h>

typedef void (*ethp2p_observer_fn)(void);

typedef struct ethp2p_observer {
  ethp2p_observer_fn fn; /* NULL: removed during a notification */
  void *data;
} ethp2p_observer;

typedef struct ethp2p_observers {
  ethp2p_observer *v; /* owned */
  size_t n, cap;
  size_t max;         /* at most this many observers */
  unsigned notifying; /* nesting depth of begin/end */
  size_t removed;     /* slots cleared while notifying */
} ethp2p_observers;

/* An empty list of at most max observers (max > 0).  No allocation. */
void ethp2p_observers_init(ethp2p_observers *l, size_t max);

/* Adds (fn, data) at the end.  The same pair twice is allowed (called twice).
 * Returns: 0; ETHP2P_EINVAL (NULL fn); ETHP2P_ETOOBIG (the cap); ETHP2P_ENOMEM. */
int ethp2p_observers_add(ethp2p_observers *l, ethp2p_observer_fn fn, void *data);

/* Removes the first (fn, data).  Returns 0 or ETHP2P_ENOTFOUND. */
int ethp2p_observers_remove(ethp2p_observers *l, ethp2p_observer_fn fn, void *data);

/* Live observers. */
size_t ethp2p_observers_count(const ethp2p_observers *l);

/* Starts a notification; returns how many slots to visit.  Nests. */
size_t ethp2p_observers_begin(ethp2p_observers *l);
/* Slot i of the notification in progress, or NULL if it was removed. */
const ethp2p_observer *ethp2p_observers_at(const ethp2p_observers *l, size_t i);
/* Ends a notification (the outermost one compacts removed slots). */
void ethp2p_observers_end(ethp2p_observers *l);

/* Frees the list (not while notifying). */
void ethp2p_observers_free(ethp2p_observers *l);

#endif
