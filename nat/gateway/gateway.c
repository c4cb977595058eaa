/*
 * nat/gateway/gateway.c — the gateway object: lifecycle, epoch, leases, the
 * grant logic shared by UPnP, NAT-PMP and PCP, and delayed/dropped replies.
 *
 * One table holds every mapping.  Each protocol turns its request into a
 * gw_request, calls gw_map(), and maps the gw_status to its own result code
 * (see docs/gateway.md for the table of codes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "nat/gateway/gw_internal.h"

#define LOGMOD "gateway"

const char *ethp2p_gw_origin_name(ethp2p_gw_origin origin) {
  switch (origin) {
  case ETHP2P_GW_UPNP:
    return "UPnP";
  case ETHP2P_GW_PMP:
    return "NAT-PMP";
  case ETHP2P_GW_PCP:
    return "PCP";
  }
  return "?";
}

const char *ethp2p_gw_change_name(ethp2p_gw_change change) {
  switch (change) {
  case ETHP2P_GW_ADDED:
    return "added";
  case ETHP2P_GW_RENEWED:
    return "renewed";
  case ETHP2P_GW_DELETED:
    return "deleted";
  case ETHP2P_GW_EXPIRED:
    return "expired";
  case ETHP2P_GW_CLEARED:
    return "cleared";
  }
  return "?";
}

const char *gw_status_name(gw_status st) {
  static const char *const names[] = {
      "ok",         "not requester", "port not allowed", "conflict",       "no free port",
      "table full", "client quota",  "nonce mismatch",   "permanent only", "forwarder refused",
      "not found",
  };
  if ((size_t)st < sizeof names / sizeof names[0])
    return names[st];
  return "?";
}

void ethp2p_gw_config_default(ethp2p_gw_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  ethp2p_gw_policy_default(&cfg->policy);
  cfg->slow_ms = 500;
  cfg->drop_percent = 50;
  cfg->pmp_port = 5351;
  cfg->ssdp_port = 1900;
  cfg->ssdp_group = ethp2p_addr_v4(239, 255, 255, 250, 1900);
  cfg->announce_to = ethp2p_addr_v4(224, 0, 0, 1, 5350);
  cfg->announce_count = 10;
  cfg->http_max_header = 8192;
  cfg->http_max_body = 16384;
  cfg->http_max_conns = 64;
  cfg->http_max_per_client = 8;
  cfg->http_timeout_ms = 5000;
  cfg->notify_interval_s = 30;
}

/* ---- randomness and quirks ---------------------------------------------- */

uint32_t gw_random_u32(void *ctx) {
  ethp2p_gateway *gw = ctx;
  uint8_t b[4];
  ethp2p_env_random(gw->env, b, sizeof b);
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

bool gw_should_drop(ethp2p_gateway *gw) {
  if ((gw->cfg.quirks & ETHP2P_GW_Q_DROP) == 0)
    return false;
  return gw_random_u32(gw) % 100 < gw->cfg.drop_percent;
}

ethp2p_time gw_reply_delay(const ethp2p_gateway *gw) {
  if ((gw->cfg.quirks & ETHP2P_GW_Q_SLOW) == 0)
    return 0;
  return (ethp2p_time)gw->cfg.slow_ms * ETHP2P_MSEC;
}

uint32_t gw_remaining_s(const ethp2p_gateway *gw, const ethp2p_gw_mapping *m) {
  ethp2p_time now = gw_now(gw);
  if (m->expires == 0)
    return 0;
  if (m->expires <= now)
    return 1; /* about to expire; 0 would read as permanent */
  return (uint32_t)((m->expires - now + ETHP2P_SEC - 1) / ETHP2P_SEC);
}

/* ---- delayed UDP replies ------------------------------------------------- */

typedef struct gw_delayed {
  struct gw_delayed *next;
  ethp2p_gateway *gw;
  ethp2p_timer *timer;
  ethp2p_udp *udp;
  ethp2p_addr to;
  size_t len;
  uint8_t buf[];
} gw_delayed;

static void delayed_unlink(gw_delayed *d) {
  for (gw_delayed **pp = &d->gw->delayed; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == d) {
      *pp = d->next;
      return;
    }
  }
}

static void delayed_fire(ethp2p_timer *t, void *data) {
  gw_delayed *d = data;
  (void)t;
  ethp2p_udp_send(d->udp, &d->to, d->buf, d->len);
  delayed_unlink(d);
  ethp2p_timer_destroy(d->timer);
  free(d);
}

void gw_udp_reply(ethp2p_gateway *gw, ethp2p_udp *udp, const ethp2p_addr *to, const uint8_t *buf,
                  size_t len) {
  ethp2p_time delay;
  gw_delayed *d;
  if (gw_should_drop(gw)) {
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Dropped reply (drop quirk)", "len=%zu", len);
    return;
  }
  delay = gw_reply_delay(gw);
  if (delay == 0) {
    ethp2p_udp_send(udp, to, buf, len);
    return;
  }
  d = malloc(sizeof *d + len);
  if (d == NULL)
    return;
  memset(d, 0, sizeof *d);
  if (ethp2p_timer_create(gw->env, &d->timer, delayed_fire, d) != 0) {
    free(d);
    return;
  }
  d->gw = gw;
  d->udp = udp;
  d->to = *to;
  d->len = len;
  memcpy(d->buf, buf, len);
  d->next = gw->delayed;
  gw->delayed = d;
  ethp2p_timer_start(d->timer, gw_now(gw) + delay);
}

void gw_udp_cancel(ethp2p_gateway *gw, ethp2p_udp *udp) {
  gw_delayed **pp = &gw->delayed;
  while (*pp != NULL) {
    gw_delayed *d = *pp;
    if (d->gw == gw && (udp == NULL || d->udp == udp)) {
      *pp = d->next;
      ethp2p_timer_destroy(d->timer);
      free(d);
    } else {
      pp = &d->next;
    }
  }
}

/* ---- table events and leases --------------------------------------------- */

static void emit(ethp2p_gateway *gw, ethp2p_gw_change change, const ethp2p_gw_mapping *m) {
  char ib[ETHP2P_ADDRSTRLEN];
  ethp2p_log(ETHP2P_LOG_INFO, LOGMOD, "Mapping changed",
             "change=%s proto=%s ext=%u internal=%s lease=%u by=%s", ethp2p_gw_change_name(change),
             ethp2p_proto_name(m->proto), m->external_port,
             ethp2p_addr_format(&m->internal, true, ib, sizeof ib), m->lease_s,
             ethp2p_gw_origin_name(m->origin));
  if (gw->change_cb != NULL)
    gw->change_cb(gw, change, m, gw->change_data);
}

static void mirror_remove(ethp2p_gateway *gw, const ethp2p_gw_mapping *m) {
  if (gw->mirror_cb != NULL)
    gw->mirror_cb(gw->mirror_data, false, m, &gw->external_ip);
}

static int mirror_add(ethp2p_gateway *gw, const ethp2p_gw_mapping *m) {
  if (gw->mirror_cb == NULL)
    return 0;
  return gw->mirror_cb(gw->mirror_data, true, m, &gw->external_ip);
}

static void rearm_expiry(ethp2p_gateway *gw) {
  ethp2p_time next = gw_table_next_expiry(&gw->table);
  if (gw->expiry_timer == NULL)
    return;
  if (next == 0)
    ethp2p_timer_stop(gw->expiry_timer);
  else
    ethp2p_timer_start(gw->expiry_timer, next);
}

static void expiry_fire(ethp2p_timer *t, void *data) {
  ethp2p_gateway *gw = data;
  ethp2p_time now = gw_now(gw);
  size_t i = 0;
  (void)t;
  while (i < gw->table.n) {
    ethp2p_gw_mapping m = gw->table.items[i];
    if (m.expires != 0 && m.expires <= now) {
      gw_table_remove(&gw->table, i);
      mirror_remove(gw, &m);
      emit(gw, ETHP2P_GW_EXPIRED, &m);
    } else {
      i++;
    }
  }
  rearm_expiry(gw);
}

void gw_unmap_index(ethp2p_gateway *gw, size_t i, ethp2p_gw_change why) {
  ethp2p_gw_mapping m;
  if (i >= gw->table.n)
    return;
  m = gw->table.items[i];
  gw_table_remove(&gw->table, i);
  mirror_remove(gw, &m);
  emit(gw, why, &m);
  rearm_expiry(gw);
}

static void clear_table(ethp2p_gateway *gw) {
  while (gw->table.n > 0) {
    ethp2p_gw_mapping m = gw->table.items[gw->table.n - 1];
    gw->table.n--;
    mirror_remove(gw, &m);
    emit(gw, ETHP2P_GW_CLEARED, &m);
  }
  rearm_expiry(gw);
}

/* Copies a description, cut to fit on a UTF-8 character boundary: a cut
 * through a multibyte character would make every later response that echoes
 * it (GetSpecificPortMappingEntry, GetListOfPortMappings) malformed XML. */
static void copy_desc(char *dst, size_t size, const char *src) {
  size_t n = strnlen(src, size - 1);
  if (src[n] != '\0')
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
      n--; /* src[n] continues a character: drop the whole character */
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static void set_lease(ethp2p_gateway *gw, ethp2p_gw_mapping *m, uint32_t lease_s) {
  m->lease_s = lease_s;
  m->expires = lease_s == 0 ? 0 : gw_now(gw) + (ethp2p_time)lease_s * ETHP2P_SEC;
}

/* Renews or overwrites the existing mapping at idx. */
static gw_status renew(ethp2p_gateway *gw, size_t idx, const gw_request *rq, uint32_t lease,
                       ethp2p_gw_mapping *out) {
  ethp2p_gw_mapping *m = &gw->table.items[idx];
  ethp2p_gw_mapping old = *m;
  ethp2p_gw_mapping upd = *m;
  upd.internal = rq->internal;
  set_lease(gw, &upd, lease);
  if (rq->desc != NULL)
    copy_desc(upd.desc, sizeof upd.desc, rq->desc);
  if (rq->nonce != NULL && !upd.has_nonce) {
    upd.has_nonce = true;
    memcpy(upd.nonce, rq->nonce, sizeof upd.nonce);
  }
  if (!ethp2p_addr_equal(&old.internal, &upd.internal, true))
    mirror_remove(gw, &old);
  if (mirror_add(gw, &upd) != 0) {
    if (!ethp2p_addr_equal(&old.internal, &upd.internal, true))
      mirror_add(gw, &old);
    return GW_E_MIRROR;
  }
  *m = upd;
  *out = upd;
  emit(gw, ETHP2P_GW_RENEWED, &upd);
  rearm_expiry(gw);
  return GW_OK;
}

static gw_status map_inner(ethp2p_gateway *gw, const gw_request *rq, ethp2p_gw_mapping *out);

gw_status gw_map(ethp2p_gateway *gw, const gw_request *rq, ethp2p_gw_mapping *out) {
  gw_status st = map_inner(gw, rq, out);
  if (st != GW_OK && ethp2p_log_enabled(ETHP2P_LOG_DEBUG)) {
    char rb[ETHP2P_ADDRSTRLEN], ib[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Mapping refused",
               "why=\"%s\" by=%s proto=%s ext=%u internal=%s requester=%s", gw_status_name(st),
               ethp2p_gw_origin_name(rq->origin), ethp2p_proto_name(rq->proto), rq->ext_port,
               ethp2p_addr_format(&rq->internal, true, ib, sizeof ib),
               ethp2p_addr_format(&rq->requester, false, rb, sizeof rb));
  }
  return st;
}

static gw_status map_inner(ethp2p_gateway *gw, const gw_request *rq, ethp2p_gw_mapping *out) {
  const ethp2p_gw_policy *pol = &gw->cfg.policy;
  uint32_t lease = gw_policy_cap_lease(pol, rq->lease_s);
  uint16_t hint = rq->ext_port != 0 ? rq->ext_port : rq->internal.port;
  ethp2p_gw_mapping m;
  long idx;
  uint16_t port;

  memset(out, 0, sizeof *out);
  if (pol->internal_must_be_requester && !ethp2p_addr_equal(&rq->requester, &rq->internal, false))
    return GW_E_NOT_REQUESTER;

  if (rq->key_by_internal) {
    idx = gw_table_find_int(&gw->table, rq->proto, &rq->internal);
    if (idx >= 0) {
      const ethp2p_gw_mapping *e = &gw->table.items[idx];
      if (e->has_nonce && (rq->nonce == NULL || memcmp(e->nonce, rq->nonce, 12) != 0))
        return GW_E_NONCE;
      return renew(gw, (size_t)idx, rq, lease, out);
    }
  }
  if (rq->exact) {
    if (!ethp2p_gw_policy_port_allowed(pol, hint))
      return GW_E_PORT_NOT_ALLOWED;
    idx = gw_table_find_ext(&gw->table, rq->proto, hint);
    if (idx >= 0) {
      if (!ethp2p_addr_equal(&gw->table.items[idx].internal, &rq->internal, false))
        return GW_E_CONFLICT;
      return renew(gw, (size_t)idx, rq, lease, out);
    }
  }
  if (gw->table.n >= pol->max_mappings || gw->table.n >= gw->table.cap)
    return GW_E_TABLE_FULL;
  if (gw_table_count_client(&gw->table, &rq->internal) >= pol->max_per_client)
    return GW_E_CLIENT_QUOTA;

  if (rq->exact) {
    port = hint;
  } else {
    bool random_first = (gw->cfg.quirks & ETHP2P_GW_Q_RANDOM_PORT) != 0;
    bool skip_hint =
        (gw->cfg.quirks & ETHP2P_GW_Q_PMP_ALT_PORT) != 0 && rq->origin != ETHP2P_GW_UPNP;
    port = gw_policy_pick_port(pol, &gw->table, rq->proto, hint, skip_hint, random_first,
                               gw_random_u32, gw);
    if (port == 0)
      return GW_E_NO_PORTS;
  }

  memset(&m, 0, sizeof m);
  m.proto = rq->proto;
  m.external_port = port;
  m.internal = rq->internal;
  if (rq->desc != NULL)
    copy_desc(m.desc, sizeof m.desc, rq->desc);
  set_lease(gw, &m, lease);
  m.origin = rq->origin;
  if (rq->nonce != NULL) {
    m.has_nonce = true;
    memcpy(m.nonce, rq->nonce, sizeof m.nonce);
  }
  if (mirror_add(gw, &m) != 0)
    return GW_E_MIRROR;
  if (gw_table_add(&gw->table, &m) != 0) {
    mirror_remove(gw, &m);
    return GW_E_TABLE_FULL;
  }
  *out = m;
  emit(gw, ETHP2P_GW_ADDED, &m);
  rearm_expiry(gw);
  return GW_OK;
}

/* ---- lifecycle ------------------------------------------------------------ */

int ethp2p_gw_create(ethp2p_env *env, const ethp2p_gw_config *cfg, ethp2p_gateway **out) {
  ethp2p_gateway *gw;
  int rc;
  *out = NULL;
  if (env == NULL || cfg == NULL || cfg->lan_addr.family != 4 || cfg->external_ip.family != 4)
    return ETHP2P_EINVAL;
  if (gw_policy_check(&cfg->policy) != 0 || cfg->drop_percent > 100)
    return ETHP2P_EINVAL;
  if (cfg->http_max_header < 256 || cfg->http_max_conns == 0 || cfg->http_max_per_client == 0)
    return ETHP2P_EINVAL;
  gw = calloc(1, sizeof *gw);
  if (gw == NULL)
    return ETHP2P_ENOMEM;
  gw->env = env;
  gw->cfg = *cfg;
  gw->cfg.lan_addr.port = 0;
  gw->cfg.external_ip.port = 0;
  gw->external_ip = gw->cfg.external_ip;
  if (gw->cfg.pmp_port == 0)
    gw->cfg.pmp_port = 5351;
  if (gw->cfg.ssdp_port == 0)
    gw->cfg.ssdp_port = 1900;
  if (gw->cfg.notify_interval_s == 0)
    gw->cfg.notify_interval_s = 30;
  rc = gw_table_init(&gw->table, cfg->policy.max_mappings);
  if (rc != 0)
    goto out_free;
  rc = gw_gena_init(gw);
  if (rc != 0) {
    gw_table_free(&gw->table);
    goto out_free;
  }
  rc = ethp2p_timer_create(env, &gw->expiry_timer, expiry_fire, gw);
  if (rc != 0)
    goto out_table;
  if (gw->cfg.uuid[0] == '\0') {
    uint8_t r[16];
    ethp2p_env_random(env, r, sizeof r);
    snprintf(gw->cfg.uuid, sizeof gw->cfg.uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], (r[6] & 0x0f) | 0x40, r[7], (r[8] & 0x3f) | 0x80, r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
  }
  *out = gw;
  return 0;

out_table:
  gw_gena_clear(gw, true);
  gw_table_free(&gw->table);
out_free:
  free(gw);
  return rc;
}

static void stop_services(ethp2p_gateway *gw, bool byebye) {
  gw_http_stop(gw);
  gw_ssdp_stop(gw, byebye);
  gw_pmp_stop(gw);
  gw_udp_cancel(gw, NULL);
  gw_gena_clear(gw, false); /* a restarted router knows no subscription */
}

/* BOOTID.UPNP.ORG (UDA 1.1 §1.2.2): miniupnpd uses its start time; strictly increasing. */
static void new_bootid(ethp2p_gateway *gw) {
  int64_t wall = ethp2p_env_wall_ms(gw->env) / 1000;
  uint32_t b = (uint32_t)(wall & 0x7fffffff);
  if (b <= gw->bootid)
    b = gw->bootid + 1;
  gw->bootid = b & 0x7fffffff;
  gw->stats.bootid = gw->bootid;
}

bool gw_from_lan(const ethp2p_gateway *gw, const ethp2p_addr *from) {
  if (gw->lan_prefix == 0)
    return true;
  return ethp2p_addr_same_subnet(from, &gw->cfg.lan_addr, gw->lan_prefix);
}

/* Finds the prefix of the interface holding the LAN address. */
static void learn_lan_prefix(ethp2p_gateway *gw) {
  ethp2p_iface ifs[32];
  size_t n = 0;
  gw->lan_prefix = 0;
  if (ethp2p_env_interfaces(gw->env, ifs, sizeof ifs / sizeof ifs[0], &n) != 0)
    return;
  for (size_t i = 0; i < n; i++)
    if (ethp2p_addr_equal(&ifs[i].addr, &gw->cfg.lan_addr, false))
      gw->lan_prefix = ifs[i].prefix_len;
}

static int start_services(ethp2p_gateway *gw, uint16_t http_port) {
  const ethp2p_gw_policy *p = &gw->cfg.policy;
  int rc;
  if (p->pmp || p->pcp) {
    rc = gw_pmp_start(gw);
    if (rc != 0)
      goto fail;
  }
  if (p->upnp) {
    rc = gw_http_start(gw, http_port);
    if (rc != 0)
      goto fail;
    rc = gw_ssdp_start(gw);
    if (rc != 0)
      goto fail;
  }
  return 0;
fail:
  stop_services(gw, false);
  return rc;
}

int ethp2p_gw_start(ethp2p_gateway *gw) {
  char eb[ETHP2P_ADDRSTRLEN], lb[ETHP2P_ADDRSTRLEN];
  int rc;
  if (gw->running)
    return ETHP2P_ESTATE;
  gw->epoch_start = gw_now(gw);
  learn_lan_prefix(gw);
  new_bootid(gw);
  rc = start_services(gw, gw->cfg.http_port);
  if (rc != 0)
    return rc;
  gw->running = true;
  ethp2p_log(ETHP2P_LOG_INFO, LOGMOD, "Gateway started", "lan=%s external=%s http=%u",
             ethp2p_addr_format(&gw->cfg.lan_addr, false, lb, sizeof lb),
             ethp2p_addr_format(&gw->external_ip, false, eb, sizeof eb), gw->http_port);
  if (gw->cfg.policy.pmp || gw->cfg.policy.pcp)
    gw_pmp_announce(gw);
  return 0;
}

void ethp2p_gw_stop(ethp2p_gateway *gw) {
  if (gw == NULL || !gw->running)
    return;
  stop_services(gw, true);
  clear_table(gw);
  gw->running = false;
  gw->http_port = 0;
}

int ethp2p_gw_restart(ethp2p_gateway *gw) {
  uint16_t port;
  int rc;
  if (!gw->running)
    return ETHP2P_ESTATE;
  port = gw->http_port;
  stop_services(gw, false);
  clear_table(gw);
  gw->restarts++;
  new_bootid(gw);
  if (gw->cfg.quirks & ETHP2P_GW_Q_HTTP_PORT_MOVES)
    port = (uint16_t)(port >= 65000 ? 49152 : port + 1);
  gw->epoch_start = gw_now(gw);
  rc = start_services(gw, port);
  if (rc != 0 && (gw->cfg.quirks & ETHP2P_GW_Q_HTTP_PORT_MOVES))
    rc = start_services(gw, 0); /* the next port was taken: let the env choose */
  if (rc != 0) {
    gw->running = false;
    gw->http_port = 0;
    return rc;
  }
  ethp2p_log(ETHP2P_LOG_INFO, LOGMOD, "Gateway restarted", "http=%u restarts=%u", gw->http_port,
             gw->restarts);
  if (gw->cfg.policy.pmp || gw->cfg.policy.pcp)
    gw_pmp_announce(gw);
  return 0;
}

void ethp2p_gw_destroy(ethp2p_gateway *gw) {
  if (gw == NULL)
    return;
  ethp2p_gw_stop(gw);
  gw_udp_cancel(gw, NULL);
  gw_gena_clear(gw, true);
  ethp2p_timer_destroy(gw->expiry_timer);
  gw_table_free(&gw->table);
  free(gw);
}

void ethp2p_gw_set_external_ip(ethp2p_gateway *gw, const ethp2p_addr *ip) {
  char b[ETHP2P_ADDRSTRLEN];
  if (ip == NULL || ip->family != 4)
    return;
  /* The forwarder follows the new address: re-apply every mapping. */
  for (size_t i = 0; i < gw->table.n; i++)
    mirror_remove(gw, &gw->table.items[i]);
  gw->external_ip = *ip;
  gw->external_ip.port = 0;
  for (size_t i = 0; i < gw->table.n; i++)
    mirror_add(gw, &gw->table.items[i]);
  ethp2p_log(ETHP2P_LOG_INFO, LOGMOD, "External address changed", "ip=%s",
             ethp2p_addr_format(&gw->external_ip, false, b, sizeof b));
  if (gw->running && (gw->cfg.policy.pmp || gw->cfg.policy.pcp))
    gw_pmp_announce(gw);
  if (gw->running && gw->cfg.policy.upnp)
    gw_gena_notify_all(gw);
}

void ethp2p_gw_announce(ethp2p_gateway *gw) {
  if (gw->running && (gw->cfg.policy.pmp || gw->cfg.policy.pcp))
    gw_pmp_announce(gw);
  if (gw->running && gw->cfg.policy.upnp)
    gw_gena_notify_all(gw);
}

void ethp2p_gw_get_stats(const ethp2p_gateway *gw, ethp2p_gw_stats *out) {
  *out = gw->stats;
}

void ethp2p_gw_set_change_cb(ethp2p_gateway *gw, ethp2p_gw_change_cb cb, void *data) {
  gw->change_cb = cb;
  gw->change_data = data;
}

void ethp2p_gw_set_notify_gate(ethp2p_gateway *gw, ethp2p_gw_listeners_cb cb, void *data) {
  gw->notify_gate = cb;
  gw->notify_gate_data = data;
}

void ethp2p_gw_set_mirror(ethp2p_gateway *gw, ethp2p_gw_mirror_cb cb, void *data) {
  gw->mirror_cb = cb;
  gw->mirror_data = data;
}

void ethp2p_gw_set_quirks(ethp2p_gateway *gw, unsigned quirks) {
  gw->cfg.quirks = quirks;
}

size_t ethp2p_gw_mappings(const ethp2p_gateway *gw, ethp2p_gw_mapping *out, size_t cap) {
  for (size_t i = 0; i < gw->table.n && i < cap; i++)
    out[i] = gw->table.items[i];
  return gw->table.n;
}

uint32_t ethp2p_gw_epoch(const ethp2p_gateway *gw) {
  ethp2p_time now = gw_now(gw);
  if (now < gw->epoch_start)
    return 0;
  return (uint32_t)((now - gw->epoch_start) / ETHP2P_SEC);
}

uint16_t ethp2p_gw_http_port(const ethp2p_gateway *gw) {
  return gw->http_port;
}

int ethp2p_gw_location(const ethp2p_gateway *gw, char *buf, size_t size) {
  char b[ETHP2P_ADDRSTRLEN];
  int n = snprintf(buf, size, "http://%s:%u%s",
                   ethp2p_addr_format(&gw->cfg.lan_addr, false, b, sizeof b), gw->http_port,
                   GW_PATH_ROOTDESC);
  if (n < 0 || (size_t)n >= size)
    return ETHP2P_ESPACE;
  return 0;
}

ethp2p_addr ethp2p_gw_external_ip(const ethp2p_gateway *gw) {
  return gw->external_ip;
}

unsigned ethp2p_gw_http_connections(const ethp2p_gateway *gw) {
  return gw_http_count(gw);
}
