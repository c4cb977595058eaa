/*
 * p2p/metrics.c — metrics state, the Prometheus text page and the /status JSON.
 *
 * Exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
 * "# HELP name text" and "# TYPE name gauge|counter" before each family's samples,
 * samples as `name{label="value",...} value`, lines end with "\n".  Label values
 * escape backslash, double quote and line feed as \\ \" \n; HELP text escapes
 * backslash and line feed.  Counters end in _total; units are in the names
 * (_seconds, _timestamp_seconds).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ethp2p/log.h"
#include "ethp2p/metrics.h"
#include "p2p/metrics_impl.h"

#ifndef ETHP2P_VERSION_STRING
#define ETHP2P_VERSION_STRING "0.1.0"
#endif

/* ---- a bounded growing text buffer --------------------------------------- */

typedef struct dbuf {
  char *p;
  size_t len, cap;
  int err;
} dbuf;

static void db_reserve(dbuf *b, size_t more) {
  if (b->err != 0)
    return;
  if (b->len + more + 1 > ETHP2P_METRICS_PAGE_MAX) {
    b->err = ETHP2P_ETOOBIG;
    return;
  }
  if (b->len + more + 1 <= b->cap)
    return;
  size_t ncap = b->cap ? b->cap : 4096;
  while (ncap < b->len + more + 1)
    ncap *= 2;
  char *np = realloc(b->p, ncap);
  if (np == NULL) {
    b->err = ETHP2P_ENOMEM;
    return;
  }
  b->p = np;
  b->cap = ncap;
}

static void db_add(dbuf *b, const char *s, size_t n) {
  db_reserve(b, n);
  if (b->err != 0)
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void db_str(dbuf *b, const char *s) {
  db_add(b, s, strlen(s));
}

static void db_printf(dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void db_printf(dbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp) { /* our formats are short; never cut silently */
    if (b->err == 0)
      b->err = ETHP2P_ESPACE;
    return;
  }
  db_add(b, tmp, (size_t)n);
}

/* A label value with \\, \" and \n escaped (exposition format 0.0.4). */
static void db_label_value(dbuf *b, const char *v) {
  for (const char *c = v; *c; c++) {
    if (*c == '\\')
      db_add(b, "\\\\", 2);
    else if (*c == '"')
      db_add(b, "\\\"", 2);
    else if (*c == '\n')
      db_add(b, "\\n", 2);
    else
      db_add(b, c, 1);
  }
}

static void family(dbuf *b, const char *name, const char *type, const char *help) {
  db_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Starts a sample: `name{k1="v1",k2="v2"} ` — labels as NULL-terminated pairs. */
static void sample_start(dbuf *b, const char *name, const char *const *labels) {
  db_str(b, name);
  if (labels != NULL && labels[0] != NULL) {
    db_add(b, "{", 1);
    for (size_t i = 0; labels[i] != NULL; i += 2) {
      if (i > 0)
        db_add(b, ",", 1);
      db_str(b, labels[i]);
      db_add(b, "=\"", 2);
      db_label_value(b, labels[i + 1]);
      db_add(b, "\"", 1);
    }
    db_add(b, "}", 1);
  }
  db_add(b, " ", 1);
}

static void sample_u64(dbuf *b, const char *name, const char *const *labels, uint64_t v) {
  sample_start(b, name, labels);
  db_printf(b, "%" PRIu64 "\n", v);
}

static void sample_f(dbuf *b, const char *name, const char *const *labels, double v) {
  sample_start(b, name, labels);
  db_printf(b, "%.3f\n", v);
}

/* ---- lifecycle ------------------------------------------------------------ */

int ethp2p_metrics_create(ethp2p_env *env, ethp2p_metrics **out) {
  if (out != NULL)
    *out = NULL;
  if (env == NULL || out == NULL)
    return ETHP2P_EINVAL;
  ethp2p_metrics *m = calloc(1, sizeof *m);
  if (m == NULL)
    return ETHP2P_ENOMEM;
  m->env = env;
  m->start = ethp2p_env_now(env);
  m->start_wall_ms = ethp2p_env_wall_ms(env);
  m->gw_up = true;
  *out = m;
  return 0;
}

void ethp2p_metrics_destroy(ethp2p_metrics *m) {
  if (m == NULL)
    return;
  ethp2p_metrics_http_close_(m);
  if (m->pm != NULL)
    ethp2p_portmap_unsubscribe(m->pm, m->pm_sub);
  if (m->ln_detach != NULL)
    m->ln_detach(m);
  free(m);
}

static void on_portmap_event(ethp2p_portmap *pm, const ethp2p_portmap_event *ev, void *data) {
  (void)pm;
  ethp2p_metrics_portmap_event(data, ev);
}

int ethp2p_metrics_attach_portmap(ethp2p_metrics *m, ethp2p_portmap *pm) {
  if (m == NULL || pm == NULL)
    return ETHP2P_EINVAL;
  if (m->pm != NULL)
    return ETHP2P_ESTATE;
  int id = ethp2p_portmap_subscribe(pm, on_portmap_event, m);
  if (id < 0)
    return id;
  m->pm = pm;
  m->pm_sub = id;
  return 0;
}

int ethp2p_metrics_set_nat(ethp2p_metrics *m, const char *mechanism, const char *spec) {
  if (m == NULL)
    return ETHP2P_EINVAL;
  snprintf(m->mechanism, sizeof m->mechanism, "%s", mechanism ? mechanism : "");
  snprintf(m->spec, sizeof m->spec, "%s", spec ? spec : "");
  return 0;
}

int ethp2p_metrics_set_record(ethp2p_metrics *m, const ethp2p_enr *rec) {
  if (m == NULL || rec == NULL)
    return ETHP2P_EINVAL;
  if (!ethp2p_enr_is_signed(rec))
    return ETHP2P_ESTATE;
  if (m->has_record) {
    uint8_t a[ETHP2P_ENR_MAX_SIZE], b[ETHP2P_ENR_MAX_SIZE];
    size_t alen = 0, blen = 0;
    if (ethp2p_enr_encode(a, sizeof a, &alen, &m->record) == 0 &&
        ethp2p_enr_encode(b, sizeof b, &blen, rec) == 0 && alen == blen && memcmp(a, b, alen) == 0)
      return 0;
  }
  m->record = *rec;
  m->has_record = true;
  m->record_updates++;
  return 0;
}

/* ---- events --------------------------------------------------------------- */

static metrics_map *map_find(ethp2p_metrics *m, ethp2p_proto proto, uint16_t port, bool create) {
  for (size_t i = 0; i < ETHP2P_METRICS_MAX_MAPPINGS; i++)
    if (m->maps[i].used && m->maps[i].proto == proto && m->maps[i].internal_port == port)
      return &m->maps[i];
  if (!create)
    return NULL;
  for (size_t i = 0; i < ETHP2P_METRICS_MAX_MAPPINGS; i++) {
    if (!m->maps[i].used) {
      memset(&m->maps[i], 0, sizeof m->maps[i]);
      m->maps[i].used = true;
      m->maps[i].proto = proto;
      m->maps[i].internal_port = port;
      return &m->maps[i];
    }
  }
  return NULL; /* full: the series set stays bounded */
}

static void on_mapping_event(ethp2p_metrics *m, const ethp2p_portmap_event *ev) {
  if (ev->proto != ETHP2P_PROTO_TCP && ev->proto != ETHP2P_PROTO_UDP)
    return;
  if (ev->type == ETHP2P_PORTMAP_EV_MAPPING_ADDED && !m->first_known) {
    m->first_known = true;
    m->first_mapping = ev->time > m->start ? ev->time - m->start : 0;
  }
  if (m->pm != NULL)
    return; /* the loop's own list is the source (rows_get) */
  metrics_map *mm = map_find(m, ev->proto, ev->internal_port, true);
  if (mm == NULL)
    return;
  switch (ev->type) {
  case ETHP2P_PORTMAP_EV_MAPPING_ADDED:
  case ETHP2P_PORTMAP_EV_MAPPING_RENEWED:
    if (ev->type == ETHP2P_PORTMAP_EV_MAPPING_ADDED) {
      mm->added++;
    } else {
      mm->renewed++;
    }
    mm->up = true;
    mm->external_port = ev->external_port;
    mm->permanent = ev->lifetime_s == 0;
    mm->expires = ev->lifetime_s == 0 ? 0 : ev->time + (ethp2p_time)ev->lifetime_s * ETHP2P_SEC;
    mm->failures = 0;
    break;
  case ETHP2P_PORTMAP_EV_MAPPING_FAILED:
    mm->failed++;
    mm->failures = ev->failures;
    break;
  case ETHP2P_PORTMAP_EV_MAPPING_LOST:
    mm->lost++;
    mm->up = false;
    mm->external_port = 0;
    mm->expires = 0;
    mm->permanent = false;
    break;
  default:
    break;
  }
}

void ethp2p_metrics_portmap_event(ethp2p_metrics *m, const ethp2p_portmap_event *ev) {
  if (m == NULL || ev == NULL)
    return;
  if ((unsigned)ev->type < sizeof m->ev_counts / sizeof m->ev_counts[0])
    m->ev_counts[ev->type]++;
  switch (ev->type) {
  case ETHP2P_PORTMAP_EV_MAPPING_ADDED:
  case ETHP2P_PORTMAP_EV_MAPPING_RENEWED:
  case ETHP2P_PORTMAP_EV_MAPPING_FAILED:
  case ETHP2P_PORTMAP_EV_MAPPING_LOST:
    on_mapping_event(m, ev);
    break;
  case ETHP2P_PORTMAP_EV_EXTIP_CHANGED:
    m->extip_changes++;
    m->extip = ev->addr;
    m->extip_advertised = ev->addr.family != 0;
    break;
  case ETHP2P_PORTMAP_EV_EXTIP_PRIVATE:
    m->extip_private++;
    m->extip = ev->addr;
    m->extip_advertised = false;
    break;
  case ETHP2P_PORTMAP_EV_GATEWAY_LOST:
    m->gw_lost++;
    m->gw_up = false;
    break;
  case ETHP2P_PORTMAP_EV_GATEWAY_FOUND:
    m->gw_up = true;
    break;
  default:
    break;
  }
  metrics_event *slot = &m->ring[m->ring_next];
  slot->ev = *ev;
  if (slot->ev.reason == NULL)
    slot->ev.reason = "";
  /* The event's env time, as wall time (the two clocks run at the same rate). */
  ethp2p_time now = ethp2p_env_now(m->env);
  int64_t wall = ethp2p_env_wall_ms(m->env);
  slot->wall_ms = ev->time <= now ? wall - (int64_t)((now - ev->time) / ETHP2P_MSEC)
                                  : wall + (int64_t)((ev->time - now) / ETHP2P_MSEC);
  m->ring_next = (m->ring_next + 1) % ETHP2P_METRICS_EVENTS;
  if (m->ring_n < ETHP2P_METRICS_EVENTS)
    m->ring_n++;
}

/* ---- the current mapping rows (portmap listing, or event-derived) ---------- */

typedef struct row {
  ethp2p_proto proto;
  uint16_t internal_port;
  uint16_t external_port;
  bool up, permanent;
  ethp2p_time expires;
  unsigned failures;
  uint64_t added, renewed, failed, lost;
  const char *name;
} row;

static size_t rows_get(ethp2p_metrics *m, row *out, size_t cap,
                       ethp2p_portmap_mapping *list /* [ETHP2P_PORTMAP_MAX] */) {
  size_t n = 0;
  if (m->pm != NULL) {
    size_t total = ethp2p_portmap_mappings(m->pm, list, ETHP2P_PORTMAP_MAX);
    if (total > ETHP2P_PORTMAP_MAX)
      total = ETHP2P_PORTMAP_MAX;
    for (size_t i = 0; i < total && n < cap; i++) {
      /* A registration the NAT cannot map (--nat none, extip, stun) is not a
       * mapping that failed: it is not shown, so no alert fires on it. */
      if (list[i].state == ETHP2P_PORTMAP_DRAINED)
        continue;
      out[n].proto = list[i].proto;
      out[n].internal_port = list[i].internal_port;
      out[n].external_port = list[i].mapped ? list[i].external_port : 0;
      out[n].up = list[i].mapped;
      out[n].permanent = list[i].mapped && list[i].permanent;
      out[n].expires = list[i].mapped ? list[i].expires : 0;
      out[n].failures = list[i].failures;
      out[n].added = list[i].added;
      out[n].renewed = list[i].renewed;
      out[n].failed = list[i].failed;
      out[n].lost = list[i].lost;
      out[n].name = list[i].name;
      n++;
    }
    return n;
  }
  for (size_t i = 0; i < ETHP2P_METRICS_MAX_MAPPINGS && n < cap; i++) {
    const metrics_map *mm = &m->maps[i];
    if (!mm->used)
      continue;
    out[n].proto = mm->proto;
    out[n].internal_port = mm->internal_port;
    out[n].external_port = mm->up ? mm->external_port : 0;
    out[n].up = mm->up;
    out[n].permanent = mm->up && mm->permanent;
    out[n].expires = mm->up ? mm->expires : 0;
    out[n].failures = mm->failures;
    out[n].added = mm->added;
    out[n].renewed = mm->renewed;
    out[n].failed = mm->failed;
    out[n].lost = mm->lost;
    out[n].name = "";
    n++;
  }
  return n;
}

static void nat_names(ethp2p_metrics *m, const char **mech, char *spec, size_t spec_size) {
  *mech = m->mechanism;
  snprintf(spec, spec_size, "%s", m->spec);
  if (m->pm != NULL) {
    ethp2p_nat *nat = ethp2p_portmap_nat(m->pm);
    if (nat != NULL) {
      *mech = nat->name != NULL ? nat->name : "";
      if (ethp2p_nat_format(nat, spec, spec_size) != 0)
        spec[0] = '\0';
    }
  }
}

static void extip_get(ethp2p_metrics *m, ethp2p_addr *ip, bool *advertised) {
  if (m->pm != NULL) {
    *advertised = ethp2p_portmap_external_ip(m->pm, ip);
    return;
  }
  *ip = m->extip;
  *advertised = m->extip_advertised;
}

static uint64_t remaining_s(ethp2p_time expires, ethp2p_time now) {
  return expires > now ? (expires - now) / ETHP2P_SEC : 0;
}

static int64_t expiry_wall_ms(ethp2p_time expires, ethp2p_time now, int64_t wall_now) {
  if (expires >= now)
    return wall_now + (int64_t)((expires - now) / ETHP2P_MSEC);
  return wall_now - (int64_t)((now - expires) / ETHP2P_MSEC);
}

/* ---- /metrics --------------------------------------------------------------- */

#define LBL_MAP(p, port)                                                                           \
  (const char *const[]) {                                                                          \
    "proto", (p), "internal_port", (port), NULL                                                    \
  }

static void render_mappings(dbuf *b, ethp2p_metrics *m, const row *rows, size_t n, ethp2p_time now,
                            int64_t wall) {
  char ports[ETHP2P_METRICS_MAX_MAPPINGS][8];
  for (size_t i = 0; i < n; i++)
    snprintf(ports[i], sizeof ports[i], "%u", (unsigned)rows[i].internal_port);
#define EACH_ROW(stmt)                                                                             \
  for (size_t i = 0; i < n; i++) {                                                                 \
    const row *r = &rows[i];                                                                       \
    const char *const *l = LBL_MAP(ethp2p_proto_name(r->proto), ports[i]);                         \
    stmt;                                                                                          \
  }
  family(b, "ethp2p_nat_mapping_up", "gauge",
         "Whether the port mapping is currently granted by the gateway (1) or not (0).");
  EACH_ROW(sample_u64(b, "ethp2p_nat_mapping_up", l, r->up ? 1 : 0));
  family(b, "ethp2p_nat_mapping_external_port", "gauge",
         "External port the gateway granted for the mapping (0 when not mapped).");
  EACH_ROW(sample_u64(b, "ethp2p_nat_mapping_external_port", l, r->external_port));
  family(b, "ethp2p_nat_mapping_permanent", "gauge",
         "Whether the mapping holds a permanent lease (the gateway grants no timed ones).");
  EACH_ROW(sample_u64(b, "ethp2p_nat_mapping_permanent", l, r->permanent ? 1 : 0));
  family(b, "ethp2p_nat_mapping_lease_remaining_seconds", "gauge",
         "Seconds until the mapping's lease ends (0 when permanent or not mapped).");
  EACH_ROW(
      sample_u64(b, "ethp2p_nat_mapping_lease_remaining_seconds", l, remaining_s(r->expires, now)));
  family(b, "ethp2p_nat_mapping_expiry_timestamp_seconds", "gauge",
         "Unix time at which the mapping's lease ends (only for timed leases).");
  EACH_ROW(if (r->up && r->expires != 0)
               sample_u64(b, "ethp2p_nat_mapping_expiry_timestamp_seconds", l,
                          (uint64_t)(expiry_wall_ms(r->expires, now, wall) / 1000)));
  family(b, "ethp2p_nat_mapping_consecutive_failures", "gauge",
         "Failed add or refresh attempts in a row for the mapping.");
  EACH_ROW(sample_u64(b, "ethp2p_nat_mapping_consecutive_failures", l, r->failures));
#undef EACH_ROW

  /* Counters: the loop's per-mapping totals (or, hand-fed, counted from events). */
  static const struct {
    const char *name, *help;
    size_t off;
  } counters[] = {
      {"ethp2p_nat_mappings_added_total",
       "Mappings granted: first grants and grants of a different external port.",
       offsetof(row, added)},
      {"ethp2p_nat_mapping_renewals_total", "Mappings renewed with the same external port.",
       offsetof(row, renewed)},
      {"ethp2p_nat_mapping_failures_total", "Failed mapping add or refresh requests.",
       offsetof(row, failed)},
      {"ethp2p_nat_mappings_lost_total",
       "Mappings lost: gateway lost state, lease expired, or given up.", offsetof(row, lost)},
  };
  for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
    family(b, counters[c].name, "counter", counters[c].help);
    for (size_t i = 0; i < n; i++) {
      uint64_t v;
      memcpy(&v, (const char *)&rows[i] + counters[c].off, sizeof v);
      sample_u64(b, counters[c].name, LBL_MAP(ethp2p_proto_name(rows[i].proto), ports[i]), v);
    }
  }
}

int ethp2p_metrics_render(ethp2p_metrics *m, char **out, size_t *len) {
  if (out != NULL)
    *out = NULL;
  if (len != NULL)
    *len = 0;
  if (m == NULL || out == NULL)
    return ETHP2P_EINVAL;
  ethp2p_time now = ethp2p_env_now(m->env);
  int64_t wall = ethp2p_env_wall_ms(m->env);
  dbuf b = {0};

  family(&b, "ethp2p_build_info", "gauge", "The ethp2p version, as a label; always 1.");
  sample_u64(&b, "ethp2p_build_info", (const char *const[]){"version", ETHP2P_VERSION_STRING, NULL},
             1);
  family(&b, "ethp2p_node_start_time_seconds", "gauge", "Unix time at which the node started.");
  sample_f(&b, "ethp2p_node_start_time_seconds", NULL, (double)m->start_wall_ms / 1000.0);
  family(&b, "ethp2p_node_uptime_seconds", "gauge", "Seconds since the node started.");
  sample_f(&b, "ethp2p_node_uptime_seconds", NULL,
           (double)(now > m->start ? now - m->start : 0) / (double)ETHP2P_SEC);

  family(&b, "ethp2p_enr_seq", "gauge", "Sequence number of the node's current record.");
  if (m->has_record)
    sample_u64(&b, "ethp2p_enr_seq", NULL, ethp2p_enr_seq(&m->record));
  family(&b, "ethp2p_enr_updates_total", "counter", "New record versions published.");
  sample_u64(&b, "ethp2p_enr_updates_total", NULL, m->record_updates);

  const char *mech;
  char spec[128];
  nat_names(m, &mech, spec, sizeof spec);
  family(&b, "ethp2p_nat_info", "gauge",
         "The NAT mechanism in use (mechanism) and the --nat spec (spec); always 1.");
  if (mech[0] != '\0' || spec[0] != '\0')
    sample_u64(&b, "ethp2p_nat_info", (const char *const[]){"mechanism", mech, "spec", spec, NULL},
               1);

  ethp2p_portmap_mapping list[ETHP2P_PORTMAP_MAX];
  row rows[ETHP2P_METRICS_MAX_MAPPINGS];
  size_t n = rows_get(m, rows, ETHP2P_METRICS_MAX_MAPPINGS, list);
  render_mappings(&b, m, rows, n, now, wall);

  family(&b, "ethp2p_nat_external_address_changes_total", "counter",
         "Changes of the public external address reported by the gateway.");
  sample_u64(&b, "ethp2p_nat_external_address_changes_total", NULL, m->extip_changes);
  family(&b, "ethp2p_nat_external_address_private_total", "counter",
         "Private or carrier-grade NAT external addresses reported (double NAT).");
  sample_u64(&b, "ethp2p_nat_external_address_private_total", NULL, m->extip_private);
  ethp2p_addr ip;
  bool adv = false;
  extip_get(m, &ip, &adv);
  family(&b, "ethp2p_nat_external_address_info", "gauge",
         "The external address last reported and whether it is advertised; always 1.");
  if (ip.family != 0) {
    char ipbuf[ETHP2P_ADDRSTRLEN];
    ethp2p_addr_format(&ip, false, ipbuf, sizeof ipbuf);
    sample_u64(&b, "ethp2p_nat_external_address_info",
               (const char *const[]){"address", ipbuf, "advertised", adv ? "true" : "false", NULL},
               1);
  }
  family(&b, "ethp2p_nat_gateway_up", "gauge",
         "0 while the gateway is considered lost (repeated connection failures), else 1.");
  sample_u64(&b, "ethp2p_nat_gateway_up", NULL, m->gw_up ? 1 : 0);
  family(&b, "ethp2p_nat_gateway_lost_total", "counter",
         "Times the gateway was lost and rediscovery started.");
  sample_u64(&b, "ethp2p_nat_gateway_lost_total", NULL, m->gw_lost);
  family(&b, "ethp2p_nat_first_mapping_seconds", "gauge",
         "Seconds from node start to the first granted mapping.");
  if (m->first_known)
    sample_f(&b, "ethp2p_nat_first_mapping_seconds", NULL,
             (double)m->first_mapping / (double)ETHP2P_SEC);
  family(&b, "ethp2p_nat_events_total", "counter", "Port-mapping loop events, by event name.");
  for (unsigned t = ETHP2P_PORTMAP_EV_MAPPING_ADDED; t <= ETHP2P_PORTMAP_EV_STOPPED; t++)
    sample_u64(&b, "ethp2p_nat_events_total",
               (const char *const[]){"event",
                                     ethp2p_portmap_event_name((ethp2p_portmap_event_type)t), NULL},
               m->ev_counts[t]);

  family(&b, "ethp2p_metrics_http_requests_total", "counter",
         "Requests answered by the metrics server, by HTTP status code.");
  for (size_t i = 0; i < METRICS_HTTP_CODES; i++) {
    char code[8];
    snprintf(code, sizeof code, "%d", ethp2p_metrics_http_codes_[i]);
    sample_u64(&b, "ethp2p_metrics_http_requests_total", (const char *const[]){"code", code, NULL},
               m->http_counts[i]);
  }
  family(&b, "ethp2p_metrics_http_refused_connections_total", "counter",
         "Connections closed at once because the connection limit was reached.");
  sample_u64(&b, "ethp2p_metrics_http_refused_connections_total", NULL, m->http_refused);

  if (b.err != 0) {
    free(b.p);
    return b.err;
  }
  *out = b.p;
  if (len != NULL)
    *len = b.len;
  return 0;
}

/* ---- /status ------------------------------------------------------------------ */

static void hex(char *out, const uint8_t *in, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

/* json_integer for values that may not fit json_int_t (seq is a uint64). */
static json_t *json_u64(uint64_t v) {
  if (v <= (uint64_t)INT64_MAX)
    return json_integer((json_int_t)v);
  char buf[24];
  snprintf(buf, sizeof buf, "%" PRIu64, v);
  return json_string(buf);
}

static json_t *status_node(ethp2p_metrics *m) {
  if (!m->has_record)
    return json_null();
  json_t *o = json_object();
  char text[ETHP2P_ENR_TEXT_MAX + 1];
  size_t tlen = 0;
  if (ethp2p_enr_text_encode(text, sizeof text, &tlen, &m->record) == 0)
    json_object_set_new(o, "enr", json_string(text));
  json_object_set_new(o, "seq", json_u64(ethp2p_enr_seq(&m->record)));
  uint8_t id[32];
  if (ethp2p_enr_node_id(id, &m->record) == 0) {
    char idhex[65];
    hex(idhex, id, sizeof id);
    json_object_set_new(o, "id", json_string(idhex));
  }
  uint8_t ip4[4];
  if (ethp2p_enr_ip_get(&m->record, ip4) == 0) {
    char ipbuf[ETHP2P_ADDRSTRLEN];
    ethp2p_addr a = ethp2p_addr_v4(ip4[0], ip4[1], ip4[2], ip4[3], 0);
    json_object_set_new(o, "ip", json_string(ethp2p_addr_format(&a, false, ipbuf, sizeof ipbuf)));
  }
  uint16_t port;
  if (ethp2p_enr_port_get(&m->record, ETHP2P_ENR_TCP, &port) == 0)
    json_object_set_new(o, "tcp", json_integer(port));
  if (ethp2p_enr_port_get(&m->record, ETHP2P_ENR_UDP, &port) == 0)
    json_object_set_new(o, "udp", json_integer(port));
  return o;
}

static json_t *status_event(const metrics_event *e) {
  const ethp2p_portmap_event *ev = &e->ev;
  json_t *o = json_object();
  json_object_set_new(o, "time_unix_ms", json_integer((json_int_t)e->wall_ms));
  json_object_set_new(o, "event", json_string(ethp2p_portmap_event_name(ev->type)));
  if (ev->proto == ETHP2P_PROTO_TCP || ev->proto == ETHP2P_PROTO_UDP) {
    json_object_set_new(o, "proto", json_string(ethp2p_proto_name(ev->proto)));
    json_object_set_new(o, "internal_port", json_integer(ev->internal_port));
    json_object_set_new(o, "external_port", json_integer(ev->external_port));
  }
  if (ev->type == ETHP2P_PORTMAP_EV_MAPPING_ADDED || ev->type == ETHP2P_PORTMAP_EV_MAPPING_RENEWED)
    json_object_set_new(o, "lifetime_seconds", json_integer(ev->lifetime_s));
  if (ev->type == ETHP2P_PORTMAP_EV_MAPPING_FAILED)
    json_object_set_new(o, "failures", json_integer(ev->failures));
  if (ev->status != 0)
    json_object_set_new(o, "status", json_string(ethp2p_err_name(ev->status)));
  if (ev->type == ETHP2P_PORTMAP_EV_EXTIP_CHANGED || ev->type == ETHP2P_PORTMAP_EV_EXTIP_PRIVATE) {
    char ipbuf[ETHP2P_ADDRSTRLEN];
    json_object_set_new(o, "address",
                        ev->addr.family != 0
                            ? json_string(ethp2p_addr_format(&ev->addr, false, ipbuf, sizeof ipbuf))
                            : json_null());
  }
  if (ev->reason != NULL && ev->reason[0] != '\0')
    json_object_set_new(o, "reason", json_string(ev->reason));
  return o;
}

int ethp2p_metrics_status_json(ethp2p_metrics *m, char **out, size_t *len) {
  if (out != NULL)
    *out = NULL;
  if (len != NULL)
    *len = 0;
  if (m == NULL || out == NULL)
    return ETHP2P_EINVAL;
  ethp2p_time now = ethp2p_env_now(m->env);
  int64_t wall = ethp2p_env_wall_ms(m->env);
  json_t *root = json_object();
  if (root == NULL)
    return ETHP2P_ENOMEM;
  json_object_set_new(root, "version", json_string(ETHP2P_VERSION_STRING));
  json_object_set_new(root, "start_time_unix_ms", json_integer((json_int_t)m->start_wall_ms));
  json_object_set_new(root, "uptime_seconds",
                      json_integer((json_int_t)((now - m->start) / ETHP2P_SEC)));
  json_object_set_new(root, "node", status_node(m));

  json_t *nat = json_object();
  const char *mech;
  char spec[128];
  nat_names(m, &mech, spec, sizeof spec);
  json_object_set_new(nat, "mechanism", json_string(mech));
  json_object_set_new(nat, "spec", json_string(spec));
  ethp2p_addr ip;
  bool adv = false;
  extip_get(m, &ip, &adv);
  char ipbuf[ETHP2P_ADDRSTRLEN];
  json_object_set_new(nat, "external_ip",
                      ip.family != 0
                          ? json_string(ethp2p_addr_format(&ip, false, ipbuf, sizeof ipbuf))
                          : json_null());
  json_object_set_new(nat, "advertised", json_boolean(adv));
  json_object_set_new(nat, "gateway_up", json_boolean(m->gw_up));
  json_object_set_new(root, "nat", nat);

  ethp2p_portmap_mapping list[ETHP2P_PORTMAP_MAX];
  row rows[ETHP2P_METRICS_MAX_MAPPINGS];
  size_t n = rows_get(m, rows, ETHP2P_METRICS_MAX_MAPPINGS, list);
  json_t *maps = json_array();
  for (size_t i = 0; i < n; i++) {
    const row *r = &rows[i];
    json_t *o = json_object();
    json_object_set_new(o, "proto", json_string(ethp2p_proto_name(r->proto)));
    json_object_set_new(o, "internal_port", json_integer(r->internal_port));
    json_object_set_new(o, "external_port", json_integer(r->external_port));
    json_object_set_new(o, "mapped", json_boolean(r->up));
    json_object_set_new(o, "permanent", json_boolean(r->permanent));
    json_object_set_new(o, "lease_remaining_seconds",
                        json_integer((json_int_t)remaining_s(r->expires, now)));
    json_object_set_new(o, "expires_unix_ms",
                        r->up && r->expires != 0
                            ? json_integer((json_int_t)expiry_wall_ms(r->expires, now, wall))
                            : json_null());
    json_object_set_new(o, "failures", json_integer(r->failures));
    json_object_set_new(o, "name", json_string(r->name));
    json_array_append_new(maps, o);
  }
  json_object_set_new(root, "mappings", maps);

  json_t *events = json_array();
  size_t first = (m->ring_next + ETHP2P_METRICS_EVENTS - m->ring_n) % ETHP2P_METRICS_EVENTS;
  for (size_t i = 0; i < m->ring_n; i++)
    json_array_append_new(events, status_event(&m->ring[(first + i) % ETHP2P_METRICS_EVENTS]));
  json_object_set_new(root, "events", events);

  char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (s == NULL)
    return ETHP2P_ENOMEM;
  *out = s;
  if (len != NULL)
    *len = strlen(s);
  return 0;
}
