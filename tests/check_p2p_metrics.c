/*
 * tests/check_p2p_metrics.c — the operator's view: Prometheus text and /status JSON
 * driven by port-mapping events (by hand and from a real port-mapping loop over a
 * scripted NAT), and the HTTP server on the simulated world and on libuv (127.0.0.1):
 * pages, 404/405, junk and oversized requests, the connection limit and idle timeout.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "ethp2p/enr.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/localnode.h"
#include "ethp2p/metrics.h"
#include "ethp2p/nat.h"
#include "ethp2p/nodekey.h"
#include "ethp2p/portmap.h"
#include "ethp2p/sim.h"
#include "nat/http.h"

#define EIP778_ID "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7"

/* ===== fixtures ============================================================= */

typedef struct world {
  ethp2p_sim *sim;
  ethp2p_sim_host *node, *client;
  ethp2p_env *env, *cenv;
  ethp2p_metrics *m;
} world;

static void world_init(world *w) {
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(ethp2p_sim_create(&w->sim, 9), 0);
  ethp2p_addr a = ethp2p_addr_v4(20, 0, 0, 1, 0), b = ethp2p_addr_v4(20, 0, 0, 2, 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w->sim, &w->node, "node", &a), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w->sim, &w->client, "client", &b), 0);
  w->env = ethp2p_sim_host_env(w->node);
  w->cenv = ethp2p_sim_host_env(w->client);
  ck_assert_int_eq(ethp2p_metrics_create(w->env, &w->m), 0);
}

static void world_close(world *w) {
  ethp2p_metrics_destroy(w->m);
  ethp2p_sim_destroy(w->sim);
}

static char *render(ethp2p_metrics *m) {
  char *page = NULL;
  size_t len = 0;
  ck_assert_int_eq(ethp2p_metrics_render(m, &page, &len), 0);
  ck_assert_uint_eq(strlen(page), len);
  return page;
}

/* True if `line` is one whole line of page. */
static bool has_line(const char *page, const char *line) {
  size_t n = strlen(line);
  for (const char *p = page; (p = strstr(p, line)) != NULL; p++)
    if ((p == page || p[-1] == '\n') && p[n] == '\n')
      return true;
  return false;
}

#define ck_line(page, line) ck_assert_msg(has_line(page, line), "missing line: %s\n%s", line, page)
#define ck_no_line(page, line) ck_assert_msg(!has_line(page, line), "unexpected line: %s", line)

static json_t *status(ethp2p_metrics *m) {
  char *s = NULL;
  ck_assert_int_eq(ethp2p_metrics_status_json(m, &s, NULL), 0);
  json_error_t err;
  json_t *j = json_loads(s, 0, &err);
  ck_assert_msg(j != NULL, "status is not JSON: %s: %s", err.text, s);
  free(s);
  return j;
}

static void feed(ethp2p_metrics *m, ethp2p_env *env, ethp2p_portmap_event_type type,
                 ethp2p_proto proto, uint16_t internal, uint16_t external, uint32_t lifetime) {
  ethp2p_portmap_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = type;
  ev.time = ethp2p_env_now(env);
  ev.proto = proto;
  ev.internal_port = internal;
  ev.external_port = external;
  ev.lifetime_s = lifetime;
  ev.reason = "";
  ethp2p_metrics_portmap_event(m, &ev);
}

/* ===== exposition-format validation ======================================== */

/* Every line is "# HELP name text", "# TYPE name gauge|counter" or a sample
 * name{labels} value whose family was declared (HELP then TYPE) just before; each family
 * is declared once; the page ends with "\n". */
static void check_exposition(const char *page) {
  char family[128] = "";
  char seen[4096] = " ";
  ck_assert(page[0] != '\0' && page[strlen(page) - 1] == '\n');
  const char *p = page;
  while (*p) {
    const char *eol = strchr(p, '\n');
    ck_assert(eol != NULL);
    char line[1024];
    size_t n = (size_t)(eol - p);
    ck_assert_uint_lt(n, sizeof line);
    memcpy(line, p, n);
    line[n] = '\0';
    if (strncmp(line, "# HELP ", 7) == 0) {
      char name[128];
      ck_assert_int_eq(sscanf(line + 7, "%127s", name), 1);
      ck_assert_msg(strncmp(name, "ethp2p_", 7) == 0, "name without prefix: %s", name);
      char key[140];
      snprintf(key, sizeof key, " %s ", name);
      ck_assert_msg(strstr(seen, key) == NULL, "family declared twice: %s", name);
      ck_assert_uint_lt(strlen(seen) + strlen(key), sizeof seen);
      memcpy(seen + strlen(seen), key + 1, strlen(key)); /* append "name " */
      snprintf(family, sizeof family, "%s", name);
    } else if (strncmp(line, "# TYPE ", 7) == 0) {
      char name[128], type[32];
      ck_assert_int_eq(sscanf(line + 7, "%127s %31s", name, type), 2);
      ck_assert_str_eq(name, family);
      ck_assert(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0);
      if (strcmp(type, "counter") == 0)
        ck_assert_msg(strstr(name, "_total") != NULL, "counter without _total: %s", name);
    } else {
      size_t fl = strlen(family);
      ck_assert_msg(fl > 0 && strncmp(line, family, fl) == 0 &&
                        (line[fl] == ' ' || line[fl] == '{'),
                    "sample outside its family: %s", line);
      const char *sp = strrchr(line, ' ');
      ck_assert(sp != NULL);
      char *end;
      strtod(sp + 1, &end);
      ck_assert_msg(*end == '\0' && end != sp + 1, "bad value: %s", line);
      if (line[fl] == '{')
        ck_assert_msg(sp > line && sp[-1] == '}', "labels not closed: %s", line);
    }
    p = eol + 1;
  }
}

/* ===== pages driven by hand ================================================== */

START_TEST(test_fresh_metrics_declare_every_family_with_start_time_and_no_mapping_samples) {
  world w;
  world_init(&w);
  char *page = render(w.m);
  check_exposition(page);
  ck_line(page, "# TYPE ethp2p_nat_mapping_up gauge");
  ck_line(page, "# TYPE ethp2p_nat_mapping_renewals_total counter");
  ck_line(page, "ethp2p_node_start_time_seconds 1767225600.000");
  ck_line(page, "ethp2p_build_info{version=\"0.1.0\"} 1");
  ck_line(page, "ethp2p_enr_updates_total 0");
  ck_line(page, "ethp2p_nat_gateway_up 1");
  ck_line(page, "ethp2p_nat_events_total{event=\"mapping-added\"} 0");
  ck_assert_ptr_null(strstr(page, "ethp2p_nat_mapping_up{"));
  ck_assert_ptr_null(strstr(page, "\nethp2p_enr_seq "));
  ck_assert_ptr_null(strstr(page, "\nethp2p_nat_first_mapping_seconds "));
  free(page);
  world_close(&w);
}
END_TEST

START_TEST(test_mapping_events_give_exact_exposition_lines) {
  world w;
  world_init(&w);
  ck_assert_int_eq(ethp2p_metrics_set_nat(w.m, "NAT-PMP", "pmp:192.168.0.1"), 0);
  ethp2p_sim_run(w.sim, 5 * ETHP2P_SEC); /* now = 6 s */
  feed(w.m, w.env, ETHP2P_PORTMAP_EV_MAPPING_ADDED, ETHP2P_PROTO_TCP, 30303, 30303, 600);
  feed(w.m, w.env, ETHP2P_PORTMAP_EV_MAPPING_ADDED, ETHP2P_PROTO_UDP, 30303, 40404, 600);
  ethp2p_sim_run(w.sim, 120 * ETHP2P_SEC); /* now = 126 s */
  feed(w.m, w.env, ETHP2P_PORTMAP_EV_MAPPING_RENEWED, ETHP2P_PROTO_TCP, 30303, 30303, 600);
  ethp2p_portmap_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = ETHP2P_PORTMAP_EV_MAPPING_FAILED;
  ev.time = ethp2p_env_now(w.env);
  ev.proto = ETHP2P_PROTO_UDP;
  ev.internal_port = 30303;
  ev.external_port = 40404;
  ev.failures = 1;
  ev.status = ETHP2P_ETIMEDOUT;
  ethp2p_metrics_portmap_event(w.m, &ev);
  memset(&ev, 0, sizeof ev);
  ev.type = ETHP2P_PORTMAP_EV_EXTIP_CHANGED;
  ev.time = ethp2p_env_now(w.env);
  ev.addr = ethp2p_addr_v4(203, 0, 113, 7, 0);
  ethp2p_metrics_portmap_event(w.m, &ev);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_SEC); /* now = 226 s */

  char *page = render(w.m);
  check_exposition(page);
  ck_line(page, "ethp2p_nat_info{mechanism=\"NAT-PMP\",spec=\"pmp:192.168.0.1\"} 1");
  ck_line(page, "ethp2p_nat_mapping_up{proto=\"tcp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_up{proto=\"udp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_external_port{proto=\"udp\",internal_port=\"30303\"} 40404");
  /* tcp renewed at 126 s for 600 s: 500 s left at 226 s; udp granted at 6 s: 380 s left */
  ck_line(page,
          "ethp2p_nat_mapping_lease_remaining_seconds{proto=\"tcp\",internal_port=\"30303\"} 500");
  ck_line(page,
          "ethp2p_nat_mapping_lease_remaining_seconds{proto=\"udp\",internal_port=\"30303\"} 380");
  /* wall clock = epoch + (now - 1 s): tcp lease ends at 1767225600 + 725 */
  ck_line(page, "ethp2p_nat_mapping_expiry_timestamp_seconds{proto=\"tcp\",internal_port=\"30303\"}"
                " 1767226325");
  ck_line(page, "ethp2p_nat_mapping_permanent{proto=\"tcp\",internal_port=\"30303\"} 0");
  ck_line(page, "ethp2p_nat_mapping_consecutive_failures{proto=\"udp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mappings_added_total{proto=\"tcp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_renewals_total{proto=\"tcp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_renewals_total{proto=\"udp\",internal_port=\"30303\"} 0");
  ck_line(page, "ethp2p_nat_mapping_failures_total{proto=\"udp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_external_address_changes_total 1");
  ck_line(page, "ethp2p_nat_external_address_info{address=\"203.0.113.7\",advertised=\"true\"} 1");
  ck_line(page, "ethp2p_nat_first_mapping_seconds 5.000");
  ck_line(page, "ethp2p_nat_events_total{event=\"mapping-added\"} 2");
  ck_line(page, "ethp2p_nat_events_total{event=\"mapping-failed\"} 1");
  ck_line(page, "ethp2p_node_uptime_seconds 225.000");
  free(page);

  /* The udp mapping is lost; a permanent grant for tcp. */
  feed(w.m, w.env, ETHP2P_PORTMAP_EV_MAPPING_LOST, ETHP2P_PROTO_UDP, 30303, 0, 0);
  feed(w.m, w.env, ETHP2P_PORTMAP_EV_MAPPING_ADDED, ETHP2P_PROTO_TCP, 30303, 30304, 0);
  page = render(w.m);
  check_exposition(page);
  ck_line(page, "ethp2p_nat_mapping_up{proto=\"udp\",internal_port=\"30303\"} 0");
  ck_line(page, "ethp2p_nat_mapping_external_port{proto=\"udp\",internal_port=\"30303\"} 0");
  ck_line(page, "ethp2p_nat_mappings_lost_total{proto=\"udp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_permanent{proto=\"tcp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_external_port{proto=\"tcp\",internal_port=\"30303\"} 30304");
  ck_line(page,
          "ethp2p_nat_mapping_lease_remaining_seconds{proto=\"tcp\",internal_port=\"30303\"} 0");
  ck_line(page, "ethp2p_nat_mappings_added_total{proto=\"tcp\",internal_port=\"30303\"} 2");
  ck_line(page, "ethp2p_nat_first_mapping_seconds 5.000");
  ck_assert_ptr_null(strstr(page, "ethp2p_nat_mapping_expiry_timestamp_seconds{"));
  free(page);
  world_close(&w);
}
END_TEST

START_TEST(test_gateway_and_private_address_events_update_gauges) {
  world w;
  world_init(&w);
  feed(w.m, w.env, ETHP2P_PORTMAP_EV_GATEWAY_LOST, 0, 0, 0, 0);
  ethp2p_portmap_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = ETHP2P_PORTMAP_EV_EXTIP_PRIVATE;
  ev.addr = ethp2p_addr_v4(100, 64, 0, 9, 0);
  ethp2p_metrics_portmap_event(w.m, &ev);
  char *page = render(w.m);
  ck_line(page, "ethp2p_nat_gateway_up 0");
  ck_line(page, "ethp2p_nat_gateway_lost_total 1");
  ck_line(page, "ethp2p_nat_external_address_private_total 1");
  ck_line(page, "ethp2p_nat_external_address_info{address=\"100.64.0.9\",advertised=\"false\"} 1");
  free(page);
  feed(w.m, w.env, ETHP2P_PORTMAP_EV_GATEWAY_FOUND, 0, 0, 0, 0);
  page = render(w.m);
  ck_line(page, "ethp2p_nat_gateway_up 1");
  ck_line(page, "ethp2p_nat_events_total{event=\"gateway-found\"} 1");
  free(page);
  world_close(&w);
}
END_TEST

START_TEST(test_label_values_escape_backslash_quote_and_newline) {
  world w;
  world_init(&w);
  ck_assert_int_eq(ethp2p_metrics_set_nat(w.m, "we\"ird\\mech\nx", "a\\b"), 0);
  char *page = render(w.m);
  check_exposition(page);
  ck_line(page, "ethp2p_nat_info{mechanism=\"we\\\"ird\\\\mech\\nx\",spec=\"a\\\\b\"} 1");
  free(page);
  world_close(&w);
}
END_TEST

START_TEST(test_mapping_table_is_bounded_when_many_ports_appear) {
  world w;
  world_init(&w);
  for (uint16_t p = 1; p <= 3 * ETHP2P_METRICS_MAX_MAPPINGS; p++)
    feed(w.m, w.env, ETHP2P_PORTMAP_EV_MAPPING_ADDED, ETHP2P_PROTO_UDP, p, p, 60);
  char *page = render(w.m);
  size_t n = 0;
  for (const char *p = page; (p = strstr(p, "\nethp2p_nat_mapping_up{")) != NULL; p++)
    n++;
  ck_assert_uint_eq(n, ETHP2P_METRICS_MAX_MAPPINGS);
  ck_line(page, "ethp2p_nat_events_total{event=\"mapping-added\"} 24");
  free(page);
  world_close(&w);
}
END_TEST

static void load_eip778(ethp2p_enr *rec) {
  const char *dir = getenv("ETHP2P_TESTDATA");
  char path[1024];
  snprintf(path, sizeof path, "%s/enr/eip778.txt", dir ? dir : "testdata");
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char text[512];
  ck_assert_ptr_nonnull(fgets(text, sizeof text, f));
  fclose(f);
  text[strcspn(text, "\r\n")] = '\0';
  ck_assert_int_eq(ethp2p_enr_text_decode(rec, text, strlen(text), NULL), 0);
}

START_TEST(test_record_gives_seq_gauge_and_status_node) {
  world w;
  world_init(&w);
  ethp2p_enr rec, unsigned_rec;
  load_eip778(&rec);
  ethp2p_enr_init(&unsigned_rec);
  ck_assert_int_eq(ethp2p_metrics_set_record(w.m, &unsigned_rec), ETHP2P_ESTATE);
  ck_assert_int_eq(ethp2p_metrics_set_record(w.m, &rec), 0);
  ck_assert_int_eq(ethp2p_metrics_set_record(w.m, &rec), 0); /* same bytes: not an update */
  char *page = render(w.m);
  ck_line(page, "ethp2p_enr_seq 1");
  ck_line(page, "ethp2p_enr_updates_total 1");
  free(page);
  json_t *j = status(w.m);
  json_t *node = json_object_get(j, "node");
  ck_assert_str_eq(json_string_value(json_object_get(node, "id")), EIP778_ID);
  ck_assert_int_eq(json_integer_value(json_object_get(node, "seq")), 1);
  ck_assert_str_eq(json_string_value(json_object_get(node, "ip")), "127.0.0.1");
  ck_assert_int_eq(json_integer_value(json_object_get(node, "udp")), 30303);
  ck_assert_ptr_null(json_object_get(node, "tcp"));
  ck_assert(strncmp(json_string_value(json_object_get(node, "enr")), "enr:-IS4QHCYrYZbAKWCBRlA",
                    24) == 0);
  json_decref(j);
  world_close(&w);
}
END_TEST

START_TEST(test_status_keeps_the_last_32_events_oldest_first) {
  world w;
  world_init(&w);
  json_t *j = status(w.m);
  ck_assert(json_is_null(json_object_get(j, "node")));
  ck_assert_uint_eq(json_array_size(json_object_get(j, "events")), 0);
  json_decref(j);
  for (uint16_t i = 1; i <= 40; i++) {
    ethp2p_sim_run(w.sim, ETHP2P_SEC);
    feed(w.m, w.env, ETHP2P_PORTMAP_EV_MAPPING_RENEWED, ETHP2P_PROTO_TCP, 30303, i, 600);
  }
  j = status(w.m);
  json_t *evs = json_object_get(j, "events");
  ck_assert_uint_eq(json_array_size(evs), ETHP2P_METRICS_EVENTS);
  json_t *first = json_array_get(evs, 0), *last = json_array_get(evs, 31);
  ck_assert_int_eq(json_integer_value(json_object_get(first, "external_port")), 9);
  ck_assert_int_eq(json_integer_value(json_object_get(last, "external_port")), 40);
  ck_assert_str_eq(json_string_value(json_object_get(last, "event")), "mapping-renewed");
  ck_assert_str_eq(json_string_value(json_object_get(last, "proto")), "tcp");
  ck_assert_int_eq(json_integer_value(json_object_get(last, "lifetime_seconds")), 600);
  /* 40 s after the start of the world's wall clock */
  ck_assert_int_eq(json_integer_value(json_object_get(last, "time_unix_ms")),
                   INT64_C(1767225600000) + 40000);
  json_t *maps = json_object_get(j, "mappings");
  ck_assert_uint_eq(json_array_size(maps), 1);
  json_t *m0 = json_array_get(maps, 0);
  ck_assert(json_is_true(json_object_get(m0, "mapped")));
  ck_assert_int_eq(json_integer_value(json_object_get(m0, "lease_remaining_seconds")), 600);
  ck_assert_int_eq(json_integer_value(json_object_get(m0, "expires_unix_ms")),
                   INT64_C(1767225600000) + 640000);
  json_decref(j);
  world_close(&w);
}
END_TEST

/* ===== a real port-mapping loop over a scripted NAT ============================ */

typedef struct fake_nat {
  ethp2p_nat base;
  ethp2p_timer *timer;
  struct {
    bool used;
    ethp2p_nat_map_cb cb;
    void *data;
    uint16_t port;
  } pending[8];
  uint16_t udp_offset; /* the router grants udp on internal + offset */
} fake_nat;

static void fake_fire(ethp2p_timer *t, void *data) {
  fake_nat *f = data;
  (void)t;
  for (size_t i = 0; i < 8; i++) {
    if (!f->pending[i].used)
      continue;
    f->pending[i].used = false;
    ethp2p_nat_map_result res;
    memset(&res, 0, sizeof res);
    res.external_port = f->pending[i].port;
    res.lifetime_s = 600;
    f->pending[i].cb(&f->base, &res, f->pending[i].data);
  }
}

static int fake_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t hint, uint16_t internal,
                    const char *desc, uint32_t lifetime, ethp2p_nat_map_cb cb, void *data) {
  fake_nat *f = (fake_nat *)nat;
  (void)hint, (void)desc, (void)lifetime;
  for (size_t i = 0; i < 8; i++) {
    if (!f->pending[i].used) {
      f->pending[i].used = true;
      f->pending[i].cb = cb;
      f->pending[i].data = data;
      f->pending[i].port =
          proto == ETHP2P_PROTO_UDP ? (uint16_t)(internal + f->udp_offset) : internal;
      ethp2p_timer_start(f->timer, ethp2p_env_now(nat->env) + 10 * ETHP2P_MSEC);
      return 0;
    }
  }
  return ETHP2P_EBUSY;
}

static int fake_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext, uint16_t internal,
                       ethp2p_nat_done_cb cb, void *data) {
  (void)nat, (void)proto, (void)ext, (void)internal, (void)cb, (void)data;
  return ETHP2P_EUNSUPP;
}

static int fake_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  (void)nat, (void)cb, (void)data;
  return ETHP2P_EUNSUPP;
}

static void fake_destroy(ethp2p_nat *nat) {
  fake_nat *f = (fake_nat *)nat;
  ethp2p_timer_destroy(f->timer);
  free(f);
}

static const ethp2p_nat_ops fake_ops = {fake_add, fake_delete, fake_extip, NULL, fake_destroy};

static ethp2p_nat *fake_nat_new(ethp2p_env *env) {
  fake_nat *f = calloc(1, sizeof *f);
  ck_assert_ptr_nonnull(f);
  f->base.ops = &fake_ops;
  f->base.env = env;
  f->base.name = "NAT-PMP";
  f->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DETECTS_RESTART;
  f->base.spec.kind = ETHP2P_NAT_PMP;
  f->base.spec.has_addr = true;
  f->base.spec.addr = ethp2p_addr_v4(192, 168, 0, 1, 0);
  f->udp_offset = 1000;
  ck_assert_int_eq(ethp2p_timer_create(env, &f->timer, fake_fire, f), 0);
  return &f->base;
}

START_TEST(test_portmap_loop_events_and_listing_reach_the_pages) {
  world w;
  world_init(&w);
  ethp2p_nat *nat = fake_nat_new(w.env);
  ethp2p_portmap_sink sink;
  memset(&sink, 0, sizeof sink);
  ethp2p_portmap *pm;
  ck_assert_int_eq(ethp2p_portmap_create(w.env, nat, NULL, &sink, &pm), 0);
  ck_assert_int_eq(ethp2p_metrics_attach_portmap(w.m, pm), 0);
  ck_assert_int_eq(ethp2p_metrics_attach_portmap(w.m, pm), ETHP2P_ESTATE);
  ck_assert_int_eq(ethp2p_portmap_add(pm, ETHP2P_PROTO_TCP, 30303, 0, "ethp2p tcp"), 0);
  ck_assert_int_eq(ethp2p_portmap_add(pm, ETHP2P_PROTO_UDP, 30303, 0, "ethp2p udp"), 0);
  ck_assert_int_eq(ethp2p_portmap_start(pm), 0);
  ethp2p_sim_run(w.sim, 2 * ETHP2P_SEC);

  char *page = render(w.m);
  check_exposition(page);
  ck_line(page, "ethp2p_nat_info{mechanism=\"NAT-PMP\",spec=\"pmp:192.168.0.1\"} 1");
  ck_line(page, "ethp2p_nat_mapping_up{proto=\"tcp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_up{proto=\"udp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_external_port{proto=\"udp\",internal_port=\"30303\"} 31303");
  ck_line(page, "ethp2p_nat_mappings_added_total{proto=\"udp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_events_total{event=\"mapping-added\"} 2");
  ck_assert_ptr_nonnull(strstr(page, "\nethp2p_nat_first_mapping_seconds 0.0"));
  free(page);

  json_t *j = status(w.m);
  json_t *maps = json_object_get(j, "mappings");
  ck_assert_uint_eq(json_array_size(maps), 2);
  for (size_t i = 0; i < 2; i++) {
    json_t *mp = json_array_get(maps, i);
    ck_assert(json_is_true(json_object_get(mp, "mapped")));
    ck_assert(json_is_integer(json_object_get(mp, "expires_unix_ms")));
    ck_assert_int_gt(json_integer_value(json_object_get(mp, "lease_remaining_seconds")), 590);
    ck_assert(strncmp(json_string_value(json_object_get(mp, "name")), "ethp2p ", 7) == 0);
  }
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "nat"), "mechanism")),
                   "NAT-PMP");
  ck_assert_uint_ge(json_array_size(json_object_get(j, "events")), 2);
  json_decref(j);

  ethp2p_metrics_destroy(w.m); /* before the loop it follows */
  w.m = NULL;
  ethp2p_portmap_destroy(pm);
  world_close(&w);
}
END_TEST

/* Issue 14: with a NAT that cannot map (--nat none), the registrations are
 * drained, not failing: no mapping series and no /status mapping that an
 * alert on "not mapped" would fire on forever. */
START_TEST(test_drained_registrations_are_not_reported_as_unmapped) {
  world w;
  world_init(&w);
  ethp2p_nat *nat = fake_nat_new(w.env);
  nat->caps = 0; /* none */
  nat->name = "none";
  ethp2p_portmap *pm;
  ck_assert_int_eq(ethp2p_portmap_create(w.env, nat, NULL, NULL, &pm), 0);
  ck_assert_int_eq(ethp2p_metrics_attach_portmap(w.m, pm), 0);
  ck_assert_int_eq(ethp2p_portmap_add(pm, ETHP2P_PROTO_TCP, 30303, 0, "ethp2p tcp"), 0);
  ck_assert_int_eq(ethp2p_portmap_add(pm, ETHP2P_PROTO_UDP, 30303, 0, "ethp2p udp"), 0);
  ck_assert_int_eq(ethp2p_portmap_start(pm), 0);
  ethp2p_sim_run(w.sim, ETHP2P_MIN);
  ck_assert_uint_eq(ethp2p_portmap_mappings(pm, NULL, 0), 2); /* kept by the loop */
  char *page = render(w.m);
  check_exposition(page);
  ck_assert_ptr_null(strstr(page, "ethp2p_nat_mapping_up{"));
  ck_assert_ptr_null(strstr(page, "ethp2p_nat_mapping_consecutive_failures{"));
  ck_assert_ptr_null(strstr(page, "ethp2p_nat_mapping_failures_total{"));
  free(page);
  json_t *j = status(w.m);
  ck_assert_uint_eq(json_array_size(json_object_get(j, "mappings")), 0);
  json_decref(j);
  ethp2p_metrics_destroy(w.m);
  w.m = NULL;
  ethp2p_portmap_destroy(pm);
  world_close(&w);
}
END_TEST

/* Counters with a loop attached are the loop's own per-mapping totals
 * (ethp2p_portmap_mappings), not a second table rebuilt from events: events
 * pushed by hand do not change them. */
START_TEST(test_counters_come_from_the_loop_list) {
  world w;
  world_init(&w);
  ethp2p_nat *nat = fake_nat_new(w.env);
  ethp2p_portmap *pm;
  ck_assert_int_eq(ethp2p_portmap_create(w.env, nat, NULL, NULL, &pm), 0);
  ck_assert_int_eq(ethp2p_metrics_attach_portmap(w.m, pm), 0);
  ck_assert_int_eq(ethp2p_portmap_add(pm, ETHP2P_PROTO_TCP, 30303, 0, "ethp2p tcp"), 0);
  ck_assert_int_eq(ethp2p_portmap_start(pm), 0);
  ethp2p_sim_run(w.sim, 2 * ETHP2P_SEC);
  ethp2p_portmap_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = ETHP2P_PORTMAP_EV_MAPPING_FAILED;
  ev.proto = ETHP2P_PROTO_TCP;
  ev.internal_port = 30303;
  ev.failures = 9;
  ethp2p_metrics_portmap_event(w.m, &ev);
  ethp2p_portmap_mapping ml;
  ck_assert_uint_eq(ethp2p_portmap_mappings(pm, &ml, 1), 1);
  ck_assert_uint_eq(ml.added, 1);
  ck_assert_uint_eq(ml.failed, 0);
  char *page = render(w.m);
  ck_line(page, "ethp2p_nat_mappings_added_total{proto=\"tcp\",internal_port=\"30303\"} 1");
  ck_line(page, "ethp2p_nat_mapping_failures_total{proto=\"tcp\",internal_port=\"30303\"} 0");
  ck_line(page, "ethp2p_nat_mapping_consecutive_failures{proto=\"tcp\",internal_port=\"30303\"} 0");
  free(page);
  ethp2p_metrics_destroy(w.m);
  w.m = NULL;
  ethp2p_portmap_destroy(pm);
  world_close(&w);
}
END_TEST

/* ===== a raw HTTP client on any environment =================================== */

typedef struct rawc {
  ethp2p_tcp *tcp;
  const uint8_t *req;
  size_t req_len;
  char *resp;
  size_t len, cap;
  bool done;
  int status; /* connect error, or the end-of-stream status */
} rawc;

static void rawc_read(ethp2p_tcp *t, int status, const uint8_t *buf, size_t len, void *data) {
  rawc *c = data;
  if (status != 0) {
    c->status = status;
    c->done = true;
    ethp2p_tcp_close(t);
    c->tcp = NULL;
    return;
  }
  if (c->len + len + 1 > c->cap) {
    c->cap = (c->len + len + 1) * 2;
    c->resp = realloc(c->resp, c->cap);
    ck_assert_ptr_nonnull(c->resp);
  }
  memcpy(c->resp + c->len, buf, len);
  c->len += len;
  c->resp[c->len] = '\0';
}

static void rawc_connected(ethp2p_tcp *t, int status, void *data) {
  rawc *c = data;
  if (status != 0) {
    c->status = status;
    c->done = true;
    ethp2p_tcp_close(t);
    c->tcp = NULL;
    return;
  }
  if (c->req_len > 0)
    ck_assert_int_eq(ethp2p_tcp_write(t, c->req, c->req_len), 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(t, rawc_read, c), 0);
}

static void rawc_start(rawc *c, ethp2p_env *env, const ethp2p_addr *to, const char *req,
                       size_t req_len) {
  memset(c, 0, sizeof *c);
  c->req = (const uint8_t *)req;
  c->req_len = req_len;
  ck_assert_int_eq(ethp2p_tcp_connect(env, &c->tcp, to, NULL, rawc_connected, c), 0);
}

static void rawc_free(rawc *c) {
  ethp2p_tcp_close(c->tcp);
  free(c->resp);
}

/* Parses c's bytes as one response; returns its status code and copies the body. */
static int rawc_code(rawc *c, const char *header, char *hval, size_t hcap, char **body) {
  ethp2p_http_parser p;
  bool head = c->req_len >= 5 && memcmp(c->req, "HEAD ", 5) == 0;
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_RESPONSE, 1 << 20, head);
  int rc = ethp2p_http_parser_feed(&p, (const uint8_t *)c->resp, c->len, NULL, NULL);
  if (rc == 0)
    rc = ethp2p_http_parser_eof(&p, NULL);
  ck_assert_msg(rc == 1, "response did not parse (%d): %.200s", rc, c->resp ? c->resp : "");
  int code = p.msg.status;
  if (header != NULL) {
    const char *v = ethp2p_http_msg_header(&p.msg, header);
    snprintf(hval, hcap, "%s", v ? v : "");
  }
  if (body != NULL) {
    *body = malloc(p.msg.body_len + 1);
    memcpy(*body, p.msg.body, p.msg.body_len);
    (*body)[p.msg.body_len] = '\0';
  }
  ethp2p_http_parser_close(&p);
  return code;
}

/* One exchange in the simulated world; returns the status code. */
static int sim_exchange(world *w, const ethp2p_addr *to, const char *req, size_t len,
                        const char *header, char *hval, size_t hcap, char **body) {
  rawc c;
  rawc_start(&c, w->cenv, to, req, len);
  ethp2p_sim_run(w->sim, 3 * ETHP2P_SEC);
  ck_assert_msg(c.done, "no response (closed) within 3 s");
  int code = rawc_code(&c, header, hval, hcap, body);
  rawc_free(&c);
  return code;
}

#define REQ(s) (s), (sizeof(s) - 1)

static long atoi_checked(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  ck_assert_msg(end != s && *end == '\0', "not a number: %s", s);
  return v;
}

START_TEST(test_http_on_sim_serves_pages_and_refuses_bad_requests) {
  world w;
  world_init(&w);
  ethp2p_addr at = ethp2p_addr_v4(20, 0, 0, 1, 6060);
  ck_assert_int_eq(ethp2p_metrics_serve(w.m, &at), 0);
  ck_assert_int_eq(ethp2p_metrics_serve(w.m, &at), ETHP2P_ESTATE);
  feed(w.m, w.env, ETHP2P_PORTMAP_EV_MAPPING_ADDED, ETHP2P_PROTO_TCP, 30303, 30303, 600);
  char hv[128], *body = NULL;

  ck_assert_int_eq(sim_exchange(&w, &at, REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
                                "Content-Type", hv, sizeof hv, &body),
                   200);
  ck_assert_str_eq(hv, "text/plain; version=0.0.4; charset=utf-8");
  ck_assert(has_line(body, "ethp2p_nat_mapping_up{proto=\"tcp\",internal_port=\"30303\"} 1"));
  check_exposition(body);
  free(body);

  ck_assert_int_eq(sim_exchange(&w, &at, REQ("GET /status?pretty=0 HTTP/1.0\r\n\r\n"),
                                "Content-Type", hv, sizeof hv, &body),
                   200);
  ck_assert_str_eq(hv, "application/json");
  json_t *j = json_loads(body, 0, NULL);
  ck_assert_ptr_nonnull(j);
  ck_assert_uint_eq(json_array_size(json_object_get(j, "mappings")), 1);
  json_decref(j);
  free(body);

  ck_assert_int_eq(sim_exchange(&w, &at, REQ("HEAD /metrics HTTP/1.1\r\n\r\n"), "Content-Length",
                                hv, sizeof hv, NULL),
                   200);
  ck_assert_int_gt(atoi_checked(hv), 1000);
  ck_assert_int_eq(sim_exchange(&w, &at,
                                REQ("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"),
                                "Allow", hv, sizeof hv, NULL),
                   405);
  ck_assert_str_eq(hv, "GET, HEAD");
  ck_assert_int_eq(sim_exchange(&w, &at, REQ("GET /secrets HTTP/1.1\r\n\r\n"), NULL, NULL, 0, NULL),
                   404);
  ck_assert_int_eq(sim_exchange(&w, &at, REQ("\x01\x02 garbage\r\n\r\n"), NULL, NULL, 0, NULL),
                   400);
  ck_assert_int_eq(sim_exchange(&w, &at,
                                REQ("GET /metrics HTTP/1.1\r\nContent-Length: 99999\r\n\r\n"), NULL,
                                NULL, 0, NULL),
                   413);
  /* a 20 KiB header section */
  size_t big = 20 * 1024;
  char *huge = malloc(big + 64);
  int off = snprintf(huge, 64, "GET /metrics HTTP/1.1\r\nX-Big: ");
  memset(huge + off, 'a', big);
  memcpy(huge + off + big, "\r\n\r\n", 4);
  ck_assert_int_eq(sim_exchange(&w, &at, huge, (size_t)off + big + 4, NULL, NULL, 0, NULL), 431);
  free(huge);

  /* still serving, and every answer was counted */
  ck_assert_int_eq(
      sim_exchange(&w, &at, REQ("GET /metrics HTTP/1.1\r\n\r\n"), NULL, NULL, 0, &body), 200);
  ck_assert(has_line(body, "ethp2p_metrics_http_requests_total{code=\"200\"} 3"));
  ck_assert(has_line(body, "ethp2p_metrics_http_requests_total{code=\"431\"} 1"));
  ck_assert(has_line(body, "ethp2p_metrics_http_requests_total{code=\"400\"} 1"));
  free(body);
  world_close(&w);
}
END_TEST

START_TEST(test_http_connection_limit_and_idle_timeout_keep_the_server_bounded) {
  world w;
  world_init(&w);
  ethp2p_addr at = ethp2p_addr_v4(20, 0, 0, 1, 6060);
  ck_assert_int_eq(ethp2p_metrics_serve(w.m, &at), 0);
  /* Open the limit's worth of silent connections, then one more. */
  rawc idle[ETHP2P_METRICS_MAX_CONNS + 1];
  for (size_t i = 0; i <= ETHP2P_METRICS_MAX_CONNS; i++)
    rawc_start(&idle[i], w.cenv, &at, "", 0);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  size_t closed = 0;
  for (size_t i = 0; i <= ETHP2P_METRICS_MAX_CONNS; i++)
    if (idle[i].done) {
      closed++;
      ck_assert_uint_eq(idle[i].len, 0);
    }
  ck_assert_uint_eq(closed, 1); /* only the one over the limit */
  /* The silent ones are closed by the idle timer. */
  ethp2p_sim_run(w.sim, ETHP2P_METRICS_IDLE);
  for (size_t i = 0; i <= ETHP2P_METRICS_MAX_CONNS; i++) {
    ck_assert(idle[i].done);
    rawc_free(&idle[i]);
  }
  char *body = NULL;
  ck_assert_int_eq(
      sim_exchange(&w, &at, REQ("GET /metrics HTTP/1.1\r\n\r\n"), NULL, NULL, 0, &body), 200);
  ck_assert(has_line(body, "ethp2p_metrics_http_refused_connections_total 1"));
  free(body);
  world_close(&w);
}
END_TEST

/* ===== a real local node ======================================================== */

START_TEST(test_localnode_versions_reach_seq_gauge_and_status) {
  world w;
  world_init(&w);
  static const char keyhex[] = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
  ethp2p_nodekey key;
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, (const uint8_t *)keyhex, 64, NULL), 0);
  ethp2p_localnode *ln;
  ck_assert_int_eq(ethp2p_localnode_create(w.env, &key, NULL, &ln), 0);
  ck_assert_int_eq(ethp2p_metrics_attach_localnode(w.m, ln), 0);
  ck_assert_int_eq(ethp2p_metrics_attach_localnode(w.m, ln), ETHP2P_ESTATE);
  uint64_t seq0 = ethp2p_localnode_seq(ln);
  char want[64];
  snprintf(want, sizeof want, "ethp2p_enr_seq %llu", (unsigned long long)seq0);
  char *page = render(w.m);
  ck_line(page, want);
  free(page);

  /* A change gives a new version on a later loop turn; the gauge follows. */
  ck_assert_int_eq(ethp2p_localnode_set_port(ln, ETHP2P_ENR_TCP, 30303), 0);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  snprintf(want, sizeof want, "ethp2p_enr_seq %llu", (unsigned long long)(seq0 + 1));
  page = render(w.m);
  ck_line(page, want);
  ck_line(page, "ethp2p_enr_updates_total 2");
  free(page);
  json_t *j = status(w.m);
  json_t *node = json_object_get(j, "node");
  ck_assert_str_eq(json_string_value(json_object_get(node, "id")), EIP778_ID);
  ck_assert_int_eq(json_integer_value(json_object_get(node, "tcp")), 30303);
  json_decref(j);

  ethp2p_metrics_destroy(w.m); /* unsubscribes before the node goes */
  w.m = NULL;
  ethp2p_localnode_destroy(ln);
  world_close(&w);
}
END_TEST

/* ===== HTTP details ================================================================= */

typedef struct dribble {
  rawc c;
  const char *req;
  size_t sent, len;
  ethp2p_timer *timer;
} dribble;

static void dribble_tick(ethp2p_timer *t, void *data) {
  dribble *d = data;
  if (d->c.tcp == NULL || d->sent == d->len)
    return;
  ck_assert_int_eq(ethp2p_tcp_write(d->c.tcp, (const uint8_t *)d->req + d->sent, 1), 0);
  d->sent++;
  ethp2p_timer_start(t, ethp2p_env_now(t->env) + 10 * ETHP2P_MSEC);
}

START_TEST(test_http_request_sent_one_byte_at_a_time_is_answered) {
  world w;
  world_init(&w);
  ethp2p_addr at = ethp2p_addr_v4(20, 0, 0, 1, 6060);
  ck_assert_int_eq(ethp2p_metrics_serve(w.m, &at), 0);
  dribble d;
  static const char req[] = "GET /status HTTP/1.1\r\nHost: node\r\nUser-Agent: slow\r\n\r\n";
  rawc_start(&d.c, w.cenv, &at, "", 0);
  d.req = req;
  d.sent = 0;
  d.len = sizeof req - 1;
  ck_assert_int_eq(ethp2p_timer_create(w.cenv, &d.timer, dribble_tick, &d), 0);
  ethp2p_timer_start(d.timer, ethp2p_env_now(w.cenv) + 100 * ETHP2P_MSEC);
  ethp2p_sim_run(w.sim, 5 * ETHP2P_SEC);
  ck_assert_uint_eq(d.sent, d.len);
  ck_assert(d.c.done);
  ck_assert_int_eq(rawc_code(&d.c, "Content-Type", (char[64]){0}, 64, NULL), 200);
  ethp2p_timer_destroy(d.timer);
  rawc_free(&d.c);
  world_close(&w);
}
END_TEST

START_TEST(test_http_half_request_is_closed_after_idle_timeout_without_answer) {
  world w;
  world_init(&w);
  ethp2p_addr at = ethp2p_addr_v4(20, 0, 0, 1, 6060);
  ck_assert_int_eq(ethp2p_metrics_serve(w.m, &at), 0);
  rawc c;
  rawc_start(&c, w.cenv, &at, REQ("GET /metr"));
  ethp2p_sim_run(w.sim, ETHP2P_METRICS_IDLE - ETHP2P_SEC);
  ck_assert(!c.done);
  ethp2p_sim_run(w.sim, 2 * ETHP2P_SEC);
  ck_assert(c.done);
  ck_assert_uint_eq(c.len, 0);
  rawc_free(&c);
  world_close(&w);
}
END_TEST

/* ===== the real thing: libuv on 127.0.0.1 ====================================== */

typedef struct uvrun {
  uv_loop_t loop;
  ethp2p_env *env;
} uvrun;

static void uv_exchange(uvrun *u, const ethp2p_addr *to, const char *req, size_t len, rawc *c) {
  rawc_start(c, u->env, to, req, len);
  uint64_t deadline = uv_hrtime() + 5 * ETHP2P_SEC;
  while (!c->done && uv_hrtime() < deadline)
    uv_run(&u->loop, UV_RUN_ONCE);
  ck_assert_msg(c->done, "no response from 127.0.0.1 within 5 s");
}

START_TEST(test_http_on_libuv_loopback_scrape_and_junk) {
  uvrun u;
  ck_assert_int_eq(uv_loop_init(&u.loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&u.loop, &u.env), 0);
  ethp2p_metrics *m;
  ck_assert_int_eq(ethp2p_metrics_create(u.env, &m), 0);
  ck_assert_int_eq(ethp2p_metrics_set_nat(m, "UPnP", "upnp"), 0);
  ethp2p_addr at = ethp2p_addr_v4(127, 0, 0, 1, 0), bound;
  ck_assert_int_eq(ethp2p_metrics_local_addr(m, &bound), ETHP2P_ESTATE);
  ck_assert_int_eq(ethp2p_metrics_serve(m, &at), 0);
  ck_assert_int_eq(ethp2p_metrics_local_addr(m, &bound), 0);
  ck_assert_uint_ne(bound.port, 0);

  rawc c;
  char hv[128], *body = NULL;
  uv_exchange(&u, &bound, REQ("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), &c);
  ck_assert_int_eq(rawc_code(&c, "Connection", hv, sizeof hv, &body), 200);
  ck_assert_str_eq(hv, "close");
  check_exposition(body);
  ck_assert(has_line(body, "ethp2p_nat_info{mechanism=\"UPnP\",spec=\"upnp\"} 1"));
  free(body);
  rawc_free(&c);

  uv_exchange(&u, &bound, REQ("BREW /pot HTCPCP/1.0\r\n\r\n"), &c);
  ck_assert_int_eq(rawc_code(&c, NULL, NULL, 0, NULL), 400);
  rawc_free(&c);

  uv_exchange(&u, &bound, REQ("GET /status HTTP/1.1\r\n\r\n"), &c);
  ck_assert_int_eq(rawc_code(&c, NULL, NULL, 0, &body), 200);
  json_t *j = json_loads(body, 0, NULL);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "nat"), "spec")), "upnp");
  json_decref(j);
  free(body);
  rawc_free(&c);

  ethp2p_metrics_destroy(m);
  ethp2p_uvenv_destroy(u.env);
  ck_assert_int_eq(uv_loop_close(&u.loop), 0);
}
END_TEST

START_TEST(test_create_and_attach_refuse_null_arguments) {
  ethp2p_metrics *m = (ethp2p_metrics *)1;
  ck_assert_int_eq(ethp2p_metrics_create(NULL, &m), ETHP2P_EINVAL);
  ck_assert_ptr_null(m);
  ck_assert_int_eq(ethp2p_metrics_attach_portmap(NULL, NULL), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_metrics_serve(NULL, NULL), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_metrics_render(NULL, NULL, NULL), ETHP2P_EINVAL);
  ethp2p_metrics_portmap_event(NULL, NULL);
  ethp2p_metrics_destroy(NULL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_metrics");
  TCase *tc = tcase_create("pages");
  tcase_add_test(tc,
                 test_fresh_metrics_declare_every_family_with_start_time_and_no_mapping_samples);
  tcase_add_test(tc, test_mapping_events_give_exact_exposition_lines);
  tcase_add_test(tc, test_gateway_and_private_address_events_update_gauges);
  tcase_add_test(tc, test_label_values_escape_backslash_quote_and_newline);
  tcase_add_test(tc, test_mapping_table_is_bounded_when_many_ports_appear);
  tcase_add_test(tc, test_record_gives_seq_gauge_and_status_node);
  tcase_add_test(tc, test_status_keeps_the_last_32_events_oldest_first);
  tcase_add_test(tc, test_portmap_loop_events_and_listing_reach_the_pages);
  tcase_add_test(tc, test_drained_registrations_are_not_reported_as_unmapped);
  tcase_add_test(tc, test_counters_come_from_the_loop_list);
  tcase_add_test(tc, test_create_and_attach_refuse_null_arguments);
  tcase_add_test(tc, test_localnode_versions_reach_seq_gauge_and_status);
  suite_add_tcase(s, tc);
  TCase *http = tcase_create("http");
  tcase_add_test(http, test_http_on_sim_serves_pages_and_refuses_bad_requests);
  tcase_add_test(http, test_http_connection_limit_and_idle_timeout_keep_the_server_bounded);
  tcase_add_test(http, test_http_request_sent_one_byte_at_a_time_is_answered);
  tcase_add_test(http, test_http_half_request_is_closed_after_idle_timeout_without_answer);
  tcase_add_test(http, test_http_on_libuv_loopback_scrape_and_junk);
  suite_add_tcase(s, http);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
