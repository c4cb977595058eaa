/*
 * nat/gateway/policy.c — router settings (allowed ports, quotas, leases),
 * quirk names, and the choice of an external port for a new mapping.
 */
#include <stdio.h>
#include <string.h>

#include "nat/gateway/gw_internal.h"

void ethp2p_gw_policy_default(ethp2p_gw_policy *p) {
  memset(p, 0, sizeof *p);
  p->max_mappings = 128;
  p->max_per_client = 32;
  p->lease_cap_s = 0;
  p->internal_must_be_requester = true;
  p->permanent_only = false;
  p->igd_version = 2;
  p->upnp = p->pmp = p->pcp = true;
}

/* Reads a decimal port 1..65535 at *s, advancing it.  Returns 0 or ESYNTAX. */
static int parse_port(const char **s, uint16_t *out) {
  unsigned long v = 0;
  const char *c = *s;
  if (*c < '0' || *c > '9')
    return ETHP2P_ESYNTAX;
  while (*c >= '0' && *c <= '9') {
    v = v * 10 + (unsigned long)(*c - '0');
    if (v > 65535)
      return ETHP2P_ESYNTAX;
    c++;
  }
  if (v == 0)
    return ETHP2P_ESYNTAX;
  *out = (uint16_t)v;
  *s = c;
  return 0;
}

int ethp2p_gw_policy_parse_allow(ethp2p_gw_policy *p, const char *text) {
  ethp2p_gw_port_range r[ETHP2P_GW_MAX_RANGES];
  size_t n = 0;
  const char *s = text;
  if (text == NULL || *text == '\0')
    return ETHP2P_ESYNTAX;
  for (;;) {
    uint16_t lo, hi;
    if (parse_port(&s, &lo) != 0)
      return ETHP2P_ESYNTAX;
    hi = lo;
    if (*s == '-') {
      s++;
      if (parse_port(&s, &hi) != 0 || hi < lo)
        return ETHP2P_ESYNTAX;
    }
    if (n == ETHP2P_GW_MAX_RANGES)
      return ETHP2P_ETOOBIG;
    r[n].lo = lo;
    r[n].hi = hi;
    n++;
    if (*s == '\0')
      break;
    if (*s != ',')
      return ETHP2P_ESYNTAX;
    s++;
  }
  memcpy(p->allow, r, n * sizeof r[0]);
  p->n_allow = n;
  return 0;
}

bool ethp2p_gw_policy_port_allowed(const ethp2p_gw_policy *p, uint16_t port) {
  if (port == 0)
    return false;
  if (p->n_allow == 0)
    return true;
  for (size_t i = 0; i < p->n_allow; i++)
    if (port >= p->allow[i].lo && port <= p->allow[i].hi)
      return true;
  return false;
}

int gw_policy_check(const ethp2p_gw_policy *p) {
  if (p->max_mappings == 0 || p->max_mappings > 65535 || p->max_per_client == 0)
    return ETHP2P_EINVAL;
  if (p->igd_version != 1 && p->igd_version != 2)
    return ETHP2P_EINVAL;
  if (p->n_allow > ETHP2P_GW_MAX_RANGES)
    return ETHP2P_EINVAL;
  for (size_t i = 0; i < p->n_allow; i++)
    if (p->allow[i].lo == 0 || p->allow[i].hi < p->allow[i].lo)
      return ETHP2P_EINVAL;
  return 0;
}

uint32_t gw_policy_cap_lease(const ethp2p_gw_policy *p, uint32_t lease_s) {
  if (p->lease_cap_s != 0 && (lease_s == 0 || lease_s > p->lease_cap_s))
    return p->lease_cap_s;
  return lease_s;
}

static bool port_free(const gw_table *t, ethp2p_proto proto, uint16_t port) {
  return gw_table_find_ext(t, proto, port) < 0;
}

/* Number of allowed ports, and the k-th one (0-based). */
static uint32_t allowed_count(const ethp2p_gw_policy *p) {
  uint32_t c = 0;
  if (p->n_allow == 0)
    return 65535;
  for (size_t i = 0; i < p->n_allow; i++)
    c += (uint32_t)(p->allow[i].hi - p->allow[i].lo) + 1;
  return c;
}

static uint16_t allowed_nth(const ethp2p_gw_policy *p, uint32_t k) {
  if (p->n_allow == 0)
    return (uint16_t)(k + 1);
  for (size_t i = 0; i < p->n_allow; i++) {
    uint32_t w = (uint32_t)(p->allow[i].hi - p->allow[i].lo) + 1;
    if (k < w)
      return (uint16_t)(p->allow[i].lo + k);
    k -= w;
  }
  return 0;
}

uint16_t gw_policy_pick_port(const ethp2p_gw_policy *p, const gw_table *t, ethp2p_proto proto,
                             uint16_t hint, bool skip_hint, bool random_first, gw_rand_fn rnd,
                             void *ctx) {
  uint32_t total = allowed_count(p);
  if (random_first && rnd != NULL) {
    for (int i = 0; i < 64; i++) {
      uint16_t port = allowed_nth(p, rnd(ctx) % total);
      if (port != 0 && !(skip_hint && port == hint) && port_free(t, proto, port))
        return port;
    }
  }
  if (!skip_hint && ethp2p_gw_policy_port_allowed(p, hint) && port_free(t, proto, hint))
    return hint;
  /* Walk upward from the hint (wrapping) through every port once. */
  for (uint32_t step = 1; step <= 65535; step++) {
    uint16_t port = (uint16_t)(((uint32_t)hint + step - 1) % 65535 + 1);
    if (port == hint)
      continue;
    if (ethp2p_gw_policy_port_allowed(p, port) && port_free(t, proto, port))
      return port;
  }
  return 0;
}

/* ---- quirks ------------------------------------------------------------- */

static const struct {
  unsigned bit;
  const char *name;
} quirk_names[] = {
    {ETHP2P_GW_Q_NO_NATRSIP, "no-natrsip"},
    {ETHP2P_GW_Q_UNNAMESPACED_SOAP, "unnamespaced-soap"},
    {ETHP2P_GW_Q_CHUNKED, "chunked"},
    {ETHP2P_GW_Q_PMP_ALT_PORT, "pmp-alt-port"},
    {ETHP2P_GW_Q_RANDOM_PORT, "random-port"},
    {ETHP2P_GW_Q_NO_CONCURRENT, "no-concurrent"},
    {ETHP2P_GW_Q_HTTP_PORT_MOVES, "http-port-moves"},
    {ETHP2P_GW_Q_SLOW, "slow"},
    {ETHP2P_GW_Q_DROP, "drop"},
    {ETHP2P_GW_Q_NO_NOTIFY, "no-notify"},
    {ETHP2P_GW_Q_NO_GENA, "no-gena"},
};

int ethp2p_gw_quirk_parse(const char *name, unsigned *bit) {
  for (size_t i = 0; i < sizeof quirk_names / sizeof quirk_names[0]; i++) {
    if (name != NULL && strcmp(name, quirk_names[i].name) == 0) {
      *bit = quirk_names[i].bit;
      return 0;
    }
  }
  return ETHP2P_ENOTFOUND;
}

const char *ethp2p_gw_quirk_name(unsigned bit) {
  for (size_t i = 0; i < sizeof quirk_names / sizeof quirk_names[0]; i++)
    if (quirk_names[i].bit == bit)
      return quirk_names[i].name;
  return NULL;
}

void ethp2p_gw_quirks_format(unsigned quirks, char *buf, size_t size) {
  size_t off = 0;
  if (size == 0)
    return;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof quirk_names / sizeof quirk_names[0]; i++) {
    if ((quirks & quirk_names[i].bit) == 0)
      continue;
    int n = snprintf(buf + off, size - off, "%s%s", off ? "," : "", quirk_names[i].name);
    if (n < 0 || (size_t)n >= size - off)
      return;
    off += (size_t)n;
  }
}
