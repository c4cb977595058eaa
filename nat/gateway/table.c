/*
 * nat/gateway/table.c — the one table of port mappings behind UPnP, NAT-PMP
 * and PCP.  A flat array in insertion order: small (a router keeps at most a
 * few hundred mappings), and its order gives UPnP's GetGenericPortMappingEntry
 * stable indices.
 */
#include <stdlib.h>
#include <string.h>

#include "nat/gateway/gw_internal.h"

int gw_table_init(gw_table *t, size_t cap) {
  memset(t, 0, sizeof *t);
  if (cap == 0)
    return ETHP2P_EINVAL;
  t->items = calloc(cap, sizeof *t->items);
  if (t->items == NULL)
    return ETHP2P_ENOMEM;
  t->cap = cap;
  return 0;
}

void gw_table_free(gw_table *t) {
  free(t->items);
  memset(t, 0, sizeof *t);
}

long gw_table_find_ext(const gw_table *t, ethp2p_proto proto, uint16_t ext_port) {
  for (size_t i = 0; i < t->n; i++)
    if (t->items[i].proto == proto && t->items[i].external_port == ext_port)
      return (long)i;
  return -1;
}

long gw_table_find_int(const gw_table *t, ethp2p_proto proto, const ethp2p_addr *internal) {
  for (size_t i = 0; i < t->n; i++)
    if (t->items[i].proto == proto && ethp2p_addr_equal(&t->items[i].internal, internal, true))
      return (long)i;
  return -1;
}

size_t gw_table_count_client(const gw_table *t, const ethp2p_addr *ip) {
  size_t c = 0;
  for (size_t i = 0; i < t->n; i++)
    if (ethp2p_addr_equal(&t->items[i].internal, ip, false))
      c++;
  return c;
}

int gw_table_add(gw_table *t, const ethp2p_gw_mapping *m) {
  if (t->n >= t->cap)
    return ETHP2P_ESPACE;
  t->items[t->n++] = *m;
  return 0;
}

void gw_table_remove(gw_table *t, size_t i) {
  if (i >= t->n)
    return;
  memmove(&t->items[i], &t->items[i + 1], (t->n - i - 1) * sizeof *t->items);
  t->n--;
}

ethp2p_time gw_table_next_expiry(const gw_table *t) {
  ethp2p_time best = 0;
  for (size_t i = 0; i < t->n; i++) {
    ethp2p_time e = t->items[i].expires;
    if (e != 0 && (best == 0 || e < best))
      best = e;
  }
  return best;
}
