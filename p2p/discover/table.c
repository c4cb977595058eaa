/*
 * p2p/discover/table.c — the Kademlia table (see ethp2p/discover.h), after
 * go-ethereum's p2p/discover/table.go: 17 buckets of 16, 10 replacements each,
 * 2 per /24 per bucket and 10 per /24 in the table.
 */
#include <string.h>

#include "ethp2p/discover.h"

void ethp2p_table_init(ethp2p_table *t, const uint8_t self[32]) {
  memset(t, 0, sizeof *t);
  memcpy(t->self, self, 32);
}

void ethp2p_table_set_events(ethp2p_table *t, ethp2p_table_event_cb cb, void *data) {
  t->event_cb = cb;
  t->event_data = data;
}

static void emit(ethp2p_table *t, ethp2p_table_event ev, const ethp2p_discover_node *n) {
  if (t->event_cb != NULL)
    t->event_cb(t->event_data, ev, n);
}

int ethp2p_table_bucket_index(const ethp2p_table *t, const uint8_t id[32]) {
  unsigned d = ethp2p_discover_logdist(t->self, id);
  if (d == 0)
    return -1;
  if (d <= ETHP2P_TABLE_BUCKET_MIN_DIST)
    return 0;
  return (int)(d - ETHP2P_TABLE_BUCKET_MIN_DIST - 1);
}

/* LAN and loopback addresses are not limited (go-ethereum's netutil.IsLAN). */
static bool limited(const ethp2p_addr *a) {
  return !ethp2p_addr_is_loopback(a) && !ethp2p_addr_is_private(a);
}

static size_t subnet_count(const ethp2p_table_entry *e, size_t n, const ethp2p_addr *a) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    if (e[i].node.addr.family == a->family &&
        ethp2p_addr_same_subnet(&e[i].node.addr, a, ETHP2P_TABLE_IP_SUBNET))
      c++;
  return c;
}

/* True if a node at a may enter bucket b under the subnet limits. */
static bool ip_allowed(const ethp2p_table *t, const ethp2p_table_bucket *b, const ethp2p_addr *a) {
  size_t total = 0;
  if (!limited(a))
    return true;
  if (subnet_count(b->entries, b->n, a) >= ETHP2P_TABLE_BUCKET_IP_LIMIT)
    return false;
  for (size_t i = 0; i < ETHP2P_TABLE_NBUCKETS; i++)
    total += subnet_count(t->buckets[i].entries, t->buckets[i].n, a);
  return total < ETHP2P_TABLE_IP_LIMIT;
}

static int find_in(const ethp2p_table_entry *e, size_t n, const uint8_t id[32]) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(e[i].node.id, id, 32) == 0)
      return (int)i;
  return -1;
}

static void remove_at(ethp2p_table_entry *e, size_t *n, size_t i) {
  memmove(&e[i], &e[i + 1], (*n - i - 1) * sizeof *e);
  (*n)--;
}

/* Inserts x at position pos of e[0..*n) (room must exist). */
static void insert_at(ethp2p_table_entry *e, size_t *n, size_t pos, const ethp2p_table_entry *x) {
  memmove(&e[pos + 1], &e[pos], (*n - pos) * sizeof *e);
  e[pos] = *x;
  (*n)++;
}

static void add_replacement(ethp2p_table_bucket *b, const ethp2p_table_entry *x) {
  int i = find_in(b->repl, b->nrepl, x->node.id);
  if (i >= 0)
    remove_at(b->repl, &b->nrepl, (size_t)i);
  if (b->nrepl == ETHP2P_TABLE_MAX_REPLACEMENTS)
    b->nrepl--; /* the oldest goes */
  insert_at(b->repl, &b->nrepl, 0, x);
}

static int add(ethp2p_table *t, const ethp2p_discover_node *n, ethp2p_time now, bool seen) {
  ethp2p_table_bucket *b;
  ethp2p_table_entry x;
  int bi, i;

  if (n == NULL || n->addr.family == 0 || n->addr.port == 0)
    return ETHP2P_EINVAL;
  bi = ethp2p_table_bucket_index(t, n->id);
  if (bi < 0)
    return ETHP2P_EINVAL;
  b = &t->buckets[bi];
  i = find_in(b->entries, b->n, n->id);
  if (i >= 0) {
    if (!seen)
      return 1;
    x = b->entries[i];
    if (!ethp2p_addr_equal(&x.node.addr, &n->addr, true)) {
      /* the endpoint moved: check the limits for the new address */
      remove_at(b->entries, &b->n, (size_t)i);
      t->count--;
      if (!ip_allowed(t, b, &n->addr)) {
        emit(t, ETHP2P_TABLE_REMOVED, &x.node);
        return ETHP2P_EBUSY;
      }
      t->count++;
      x.node.addr = n->addr;
      insert_at(b->entries, &b->n, 0, &x);
    } else {
      remove_at(b->entries, &b->n, (size_t)i);
      insert_at(b->entries, &b->n, 0, &x);
    }
    b->entries[0].node.tcp = n->tcp;
    if (n->seq > b->entries[0].node.seq)
      b->entries[0].node.seq = n->seq;
    b->entries[0].last_seen = now;
    return 1;
  }
  memset(&x, 0, sizeof x);
  x.node = *n;
  x.added = now;
  x.last_seen = seen ? now : 0;
  if (!ip_allowed(t, b, &n->addr))
    return ETHP2P_EBUSY;
  if (b->n < ETHP2P_TABLE_BUCKET_SIZE) {
    i = find_in(b->repl, b->nrepl, n->id);
    if (i >= 0)
      remove_at(b->repl, &b->nrepl, (size_t)i);
    insert_at(b->entries, &b->n, seen ? 0 : b->n, &x);
    t->count++;
    emit(t, ETHP2P_TABLE_ADDED, n);
    return 1;
  }
  add_replacement(b, &x);
  return 0;
}

int ethp2p_table_add_seen(ethp2p_table *t, const ethp2p_discover_node *n, ethp2p_time now) {
  return add(t, n, now, true);
}

int ethp2p_table_add_found(ethp2p_table *t, const ethp2p_discover_node *n, ethp2p_time now) {
  return add(t, n, now, false);
}

/* Moves the newest usable replacement of b into the bucket. */
static void promote(ethp2p_table *t, ethp2p_table_bucket *b) {
  while (b->nrepl > 0 && b->n < ETHP2P_TABLE_BUCKET_SIZE) {
    ethp2p_table_entry x = b->repl[0];
    remove_at(b->repl, &b->nrepl, 0);
    if (!ip_allowed(t, b, &x.node.addr))
      continue;
    insert_at(b->entries, &b->n, b->n, &x);
    t->count++;
    emit(t, ETHP2P_TABLE_ADDED, &x.node);
    return;
  }
}

int ethp2p_table_checked(ethp2p_table *t, const uint8_t id[32], bool alive, uint64_t seq,
                         ethp2p_time now) {
  int bi = ethp2p_table_bucket_index(t, id);
  ethp2p_table_bucket *b;
  ethp2p_table_entry x;
  int i;
  if (bi < 0)
    return ETHP2P_ENOTFOUND;
  b = &t->buckets[bi];
  i = find_in(b->entries, b->n, id);
  if (i < 0)
    return ETHP2P_ENOTFOUND;
  x = b->entries[i];
  remove_at(b->entries, &b->n, (size_t)i);
  if (alive) {
    x.checks++;
    x.last_seen = now;
    if (seq > x.node.seq)
      x.node.seq = seq;
    insert_at(b->entries, &b->n, 0, &x);
    return 0;
  }
  t->count--;
  emit(t, ETHP2P_TABLE_REMOVED, &x.node);
  promote(t, b);
  return 0;
}

int ethp2p_table_remove(ethp2p_table *t, const uint8_t id[32]) {
  int bi = ethp2p_table_bucket_index(t, id);
  ethp2p_table_bucket *b;
  int i;
  if (bi < 0)
    return ETHP2P_ENOTFOUND;
  b = &t->buckets[bi];
  i = find_in(b->entries, b->n, id);
  if (i >= 0) {
    ethp2p_discover_node n = b->entries[i].node;
    remove_at(b->entries, &b->n, (size_t)i);
    t->count--;
    emit(t, ETHP2P_TABLE_REMOVED, &n);
    promote(t, b);
    return 0;
  }
  i = find_in(b->repl, b->nrepl, id);
  if (i < 0)
    return ETHP2P_ENOTFOUND;
  remove_at(b->repl, &b->nrepl, (size_t)i);
  return 0;
}

const ethp2p_table_entry *ethp2p_table_find(const ethp2p_table *t, const uint8_t id[32]) {
  int bi = ethp2p_table_bucket_index(t, id), i;
  if (bi < 0)
    return NULL;
  i = find_in(t->buckets[bi].entries, t->buckets[bi].n, id);
  return i < 0 ? NULL : &t->buckets[bi].entries[i];
}

size_t ethp2p_table_closest(const ethp2p_table *t, const uint8_t target[32],
                            ethp2p_discover_node *out, size_t max) {
  size_t n = 0;
  if (max == 0)
    return 0;
  for (size_t bi = 0; bi < ETHP2P_TABLE_NBUCKETS; bi++) {
    const ethp2p_table_bucket *b = &t->buckets[bi];
    for (size_t i = 0; i < b->n; i++) {
      const ethp2p_discover_node *x = &b->entries[i].node;
      size_t pos = n;
      while (pos > 0 && ethp2p_discover_distcmp(target, x->id, out[pos - 1].id) < 0)
        pos--;
      if (pos >= max)
        continue;
      size_t keep = n < max ? n : max - 1;
      memmove(&out[pos + 1], &out[pos], (keep - pos) * sizeof *out);
      out[pos] = *x;
      if (n < max)
        n++;
    }
  }
  return n;
}

const ethp2p_table_entry *ethp2p_table_pick_check(const ethp2p_table *t, uint32_t rnd) {
  for (size_t k = 0; k < ETHP2P_TABLE_NBUCKETS; k++) {
    const ethp2p_table_bucket *b = &t->buckets[(rnd + k) % ETHP2P_TABLE_NBUCKETS];
    if (b->n > 0)
      return &b->entries[b->n - 1];
  }
  return NULL;
}

size_t ethp2p_table_len(const ethp2p_table *t) {
  return t->count;
}

size_t ethp2p_table_nodes(const ethp2p_table *t, ethp2p_discover_node *out, size_t max) {
  size_t n = 0;
  for (size_t bi = 0; bi < ETHP2P_TABLE_NBUCKETS; bi++)
    for (size_t i = 0; i < t->buckets[bi].n && n < max; i++)
      out[n++] = t->buckets[bi].entries[i].node;
  return n;
}
