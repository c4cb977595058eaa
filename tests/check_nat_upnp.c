/*
 * tests/check_nat_upnp.c — the UPnP IGD client (nat/upnp.c) end to end in the simulated
 * world: a host behind a NAT box, and on the box's inside address a small scripted
 * SSDP + HTTP + SOAP responder written here (built on the same codecs), so every router
 * answer — faults, quirks, silence — is chosen by the test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/gena.h"
#include "nat/http.h"
#include "nat/impl.h"
#include "nat/ssdp.h"
#include "nat/upnp_watch.h"
#include "nat/xml.h"

/* ---------------------------------------------------------------------------
 * The scripted router.
 * ------------------------------------------------------------------------- */
#define MAX_FAULTS 8
#define MAX_REQS 32

typedef struct script {
  bool ssdp_off;                    /* never answer M-SEARCH */
  bool ssdp_unicast_only;           /* answer only searches sent to the router's own address */
  bool location_spoofed;            /* LOCATION names another host than the responder */
  const char *desc;                 /* description served at /rootDesc.xml */
  bool desc_chunked;                /* serve it with Transfer-Encoding: chunked, 100-byte chunks */
  bool desc_close;                  /* serve it close-delimited (no Content-Length) */
  bool natrsip_fault;               /* GetNATRSIPStatus -> 401 Invalid Action */
  const char *nat_disabled_service; /* GetNATRSIPStatus says NewNatEnabled=0 for this type */
  int add_faults[MAX_FAULTS];       /* AddPortMapping answers in order (0 = success) */
  size_t nadd_faults;
  int addany_faults[MAX_FAULTS];
  size_t naddany_faults;
  int delete_fault;
  uint16_t reserved_port; /* AddAnyPortMapping's NewReservedPort */
  const char *ext_ip;
  bool soap_silent;        /* accept SOAP connections but never answer */
  const char *conn_status; /* GetStatusInfo's NewConnectionStatus; NULL = 401 (no action) */
  unsigned uptime_s;       /* GetStatusInfo's NewUptime, plus the time since set */
  ethp2p_time uptime_set_at;
  int subscribe_status; /* SUBSCRIBE answer: 0 = 200 with a SID, else that HTTP status */
} script;

typedef struct soap_req {
  char action[64];
  char ext_port[8], int_port[8], client[32], lease[16], proto[8], desc[64];
  ethp2p_time at;
} soap_req;

typedef struct router {
  ethp2p_env *env;
  ethp2p_addr self; /* the address it serves on (port 5000) */
  ethp2p_udp *udp;
  ethp2p_tcp *listener;
  script sc;
  unsigned searches, unicast_searches, desc_gets;
  size_t nadd, naddany;
  soap_req reqs[MAX_REQS];
  size_t nreqs;
  char desc_buf[16384];
  unsigned subscribes, renewals, unsubscribes;
  char callback[256]; /* the CALLBACK URL of the last SUBSCRIBE */
} router;

typedef struct conn {
  router *r;
  ethp2p_tcp *tcp;
  ethp2p_http_parser parser;
} conn;

static void router_send(conn *c, int status, const char *reason, const char *body, bool chunked,
                        bool close_delimited) {
  static uint8_t out[40000], enc[36000];
  size_t len, enc_len;
  ethp2p_http_field f[2] = {{"Content-Type", "text/xml; charset=\"utf-8\""},
                            {"Transfer-Encoding", "chunked"}};
  if (chunked) {
    ck_assert_int_eq(ethp2p_http_chunked_build(enc, sizeof enc, &enc_len, (const uint8_t *)body,
                                               strlen(body), 100),
                     0);
    ck_assert_int_eq(ethp2p_http_response_build(out, sizeof out, &len, status, reason, f, 2, enc,
                                                enc_len, ETHP2P_HTTP_BUILD_NO_LENGTH),
                     0);
  } else {
    ck_assert_int_eq(ethp2p_http_response_build(out, sizeof out, &len, status, reason, f, 1,
                                                (const uint8_t *)body, strlen(body),
                                                close_delimited ? ETHP2P_HTTP_BUILD_NO_LENGTH : 0),
                     0);
  }
  ethp2p_tcp_write(c->tcp, out, len);
}

static void router_fault(conn *c, int code) {
  char body[2048];
  size_t len;
  ck_assert_int_eq(ethp2p_soap_fault_build(body, sizeof body, &len, code, NULL), 0);
  router_send(c, 500, "Internal Server Error", body, false, false);
}

static void router_ok(conn *c, const char *service, const char *action, const ethp2p_soap_field *f,
                      size_t n) {
  char body[4096];
  size_t len;
  ck_assert_int_eq(ethp2p_soap_response_build(body, sizeof body, &len, service, action, f, n), 0);
  router_send(c, 200, "OK", body, false, false);
}

static void copy_arg(char *dst, size_t size, const ethp2p_soap_msg *m, const char *name) {
  const char *v = ethp2p_soap_msg_arg(m, name);
  snprintf(dst, size, "%s", v != NULL ? v : "");
}

/* Returns true when the connection should stay open without an answer. */
static bool router_handle(conn *c) {
  router *r = c->r;
  const ethp2p_http_msg *m = &c->parser.msg;
  ethp2p_soap_msg soap;
  char st[128], action[64];
  const char *sa;
  soap_req *q;
  if (strcmp(m->method, "SUBSCRIBE") == 0 || strcmp(m->method, "UNSUBSCRIBE") == 0) {
    ethp2p_gena_request g;
    static const ethp2p_http_field f[2] = {{"SID", "uuid:test-sub-1"}, {"TIMEOUT", "Second-1800"}};
    static uint8_t out[512];
    size_t len;
    ck_assert_int_eq(ethp2p_gena_request_parse(&g, m, NULL), 0);
    if (g.kind == ETHP2P_GENA_UNSUBSCRIBE) {
      r->unsubscribes++;
      router_send(c, 200, "OK", "", false, false);
      return false;
    }
    if (g.kind == ETHP2P_GENA_RENEW)
      r->renewals++;
    else {
      r->subscribes++;
      snprintf(r->callback, sizeof r->callback, "%s", g.callbacks[0]);
    }
    if (r->sc.subscribe_status != 0) {
      router_send(c, r->sc.subscribe_status, "Refused", "", false, false);
      return false;
    }
    ck_assert_int_eq(ethp2p_http_response_build(out, sizeof out, &len, 200, "OK", f, 2, NULL, 0, 0),
                     0);
    ethp2p_tcp_write(c->tcp, out, len);
    return false;
  }
  if (strcmp(m->method, "GET") == 0) {
    r->desc_gets++;
    if (strcmp(m->target, "/rootDesc.xml") != 0 || r->sc.desc == NULL) {
      router_send(c, 404, "Not Found", "", false, false);
      return false;
    }
    router_send(c, 200, "OK", r->sc.desc, r->sc.desc_chunked, r->sc.desc_close);
    return false;
  }
  if (r->sc.soap_silent)
    return true;
  sa = ethp2p_http_msg_header(m, "SOAPAction");
  ck_assert_ptr_nonnull(sa);
  ck_assert_int_eq(sa[0], '"'); /* UDA 1.1 §3.2.1: quoted */
  ck_assert_int_eq(ethp2p_soap_action_parse(sa, st, sizeof st, action, sizeof action), 0);
  ck_assert_int_eq(ethp2p_soap_request_parse(&soap, (const char *)m->body, m->body_len, NULL), 0);
  ck_assert_str_eq(soap.action, action);
  ck_assert_str_eq(soap.service_type, st);
  ck_assert_uint_lt(r->nreqs, MAX_REQS);
  q = &r->reqs[r->nreqs++];
  memset(q, 0, sizeof *q);
  snprintf(q->action, sizeof q->action, "%s", action);
  copy_arg(q->ext_port, sizeof q->ext_port, &soap, "NewExternalPort");
  copy_arg(q->int_port, sizeof q->int_port, &soap, "NewInternalPort");
  copy_arg(q->client, sizeof q->client, &soap, "NewInternalClient");
  copy_arg(q->lease, sizeof q->lease, &soap, "NewLeaseDuration");
  copy_arg(q->proto, sizeof q->proto, &soap, "NewProtocol");
  copy_arg(q->desc, sizeof q->desc, &soap, "NewPortMappingDescription");
  q->at = ethp2p_env_now(r->env);

  if (strcmp(action, "GetNATRSIPStatus") == 0) {
    ethp2p_soap_field f[2] = {{"NewRSIPAvailable", "0"}, {"NewNatEnabled", "1"}};
    if (r->sc.natrsip_fault) {
      router_fault(c, 401);
      return false;
    }
    if (r->sc.nat_disabled_service != NULL && strcmp(st, r->sc.nat_disabled_service) == 0)
      f[1].value = "0";
    router_ok(c, st, action, f, 2);
  } else if (strcmp(action, "AddPortMapping") == 0) {
    size_t i = r->nadd++;
    int fault = i < r->sc.nadd_faults ? r->sc.add_faults[i] : 0;
    if (fault != 0)
      router_fault(c, fault);
    else
      router_ok(c, st, action, NULL, 0);
  } else if (strcmp(action, "AddAnyPortMapping") == 0) {
    size_t i = r->naddany++;
    int fault = i < r->sc.naddany_faults ? r->sc.addany_faults[i] : 0;
    char port[8];
    ethp2p_soap_field f = {"NewReservedPort", port};
    snprintf(port, sizeof port, "%u", r->sc.reserved_port);
    if (fault != 0)
      router_fault(c, fault);
    else
      router_ok(c, st, action, &f, 1);
  } else if (strcmp(action, "DeletePortMapping") == 0) {
    if (r->sc.delete_fault != 0)
      router_fault(c, r->sc.delete_fault);
    else
      router_ok(c, st, action, NULL, 0);
  } else if (strcmp(action, "GetStatusInfo") == 0) {
    char up[16];
    ethp2p_soap_field f[3] = {{"NewConnectionStatus", r->sc.conn_status},
                              {"NewLastConnectionError", "ERROR_NONE"},
                              {"NewUptime", up}};
    if (r->sc.conn_status == NULL) {
      router_fault(c, 401);
      return false;
    }
    snprintf(up, sizeof up, "%u",
             r->sc.uptime_s +
                 (unsigned)((ethp2p_env_now(r->env) - r->sc.uptime_set_at) / ETHP2P_SEC));
    router_ok(c, st, action, f, 3);
  } else if (strcmp(action, "GetExternalIPAddress") == 0) {
    ethp2p_soap_field f = {"NewExternalIPAddress", r->sc.ext_ip != NULL ? r->sc.ext_ip : ""};
    router_ok(c, st, action, &f, 1);
  } else {
    router_fault(c, 401);
  }
  return false;
}

static void conn_free(conn *c) {
  ethp2p_tcp_close(c->tcp);
  ethp2p_http_parser_close(&c->parser);
  free(c);
}

static void conn_on_read(ethp2p_tcp *t, int status, const uint8_t *buf, size_t len, void *data) {
  conn *c = data;
  if (status != 0) {
    conn_free(c);
    return;
  }
  if (ethp2p_http_parser_done(&c->parser))
    return;
  if (ethp2p_http_parser_feed(&c->parser, buf, len, NULL, NULL) == 1) {
    if (!router_handle(c))
      conn_free(c); /* close after the queued answer: FIN follows the data */
  }
}

static void router_on_accept(ethp2p_tcp *l, ethp2p_tcp *t, void *data) {
  conn *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  c->r = data;
  c->tcp = t;
  ethp2p_http_parser_init(&c->parser, ETHP2P_HTTP_REQUEST, 16384, false);
  ck_assert_int_eq(ethp2p_tcp_read_start(t, conn_on_read, c), 0);
}

static void router_on_udp(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                          void *data) {
  router *r = data;
  ethp2p_ssdp_search s;
  ethp2p_ssdp_reply rep;
  char self[ETHP2P_ADDRSTRLEN];
  uint8_t out[ETHP2P_SSDP_MAX_LEN];
  size_t n;
  if (ethp2p_ssdp_search_parse(&s, buf, len, NULL) != 0)
    return;
  ck_assert(s.man_quoted);
  ck_assert_str_eq(s.man, "ssdp:discover");
  ck_assert_int_eq(s.mx, 1);
  if (strcmp(s.host, "239.255.255.250:1900") == 0)
    r->searches++;
  else
    r->unicast_searches++;
  if (r->sc.ssdp_off || !ethp2p_ssdp_st_is_gateway(s.st))
    return;
  if (r->sc.ssdp_unicast_only && strcmp(s.host, "239.255.255.250:1900") == 0)
    return;
  memset(&rep, 0, sizeof rep);
  rep.status = 200;
  rep.max_age = 120;
  snprintf(rep.location, sizeof rep.location, "http://%s:%u/rootDesc.xml",
           r->sc.location_spoofed ? "192.168.1.66"
                                  : ethp2p_addr_format(&r->self, false, self, sizeof self),
           r->self.port);
  snprintf(rep.st, sizeof rep.st, "%s", s.st);
  snprintf(rep.usn, sizeof rep.usn, "uuid:test::%.200s", s.st);
  snprintf(rep.server, sizeof rep.server, "Test/1 UPnP/1.1 scripted/1");
  ck_assert_int_eq(ethp2p_ssdp_reply_build(out, sizeof out, &n, &rep), 0);
  ethp2p_udp_send(u, from, out, n);
}

static void router_start(router *r, ethp2p_env *env, ethp2p_addr inside) {
  ethp2p_addr any = {0}, group;
  any.family = 4;
  any.port = 1900;
  r->env = env;
  r->self = inside;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&group, "239.255.255.250"), 0);
  ck_assert_int_eq(ethp2p_udp_open(env, &r->udp, &any, ETHP2P_UDP_REUSEADDR, router_on_udp, r), 0);
  inside.port = 0;
  ck_assert_int_eq(ethp2p_udp_join(r->udp, &group, &inside), 0);
  /* Advertisements leave through the LAN, not the box's WAN side. */
  ck_assert_int_eq(ethp2p_udp_set_multicast(r->udp, &inside, 2), 0);
  inside.port = 5000;
  ck_assert_int_eq(ethp2p_tcp_listen(env, &r->listener, &inside, router_on_accept, r), 0);
}

static void router_stop_listening(router *r) {
  ethp2p_tcp_close(r->listener);
  r->listener = NULL;
}

/* ---------------------------------------------------------------------------
 * The world and the client under test.
 * ------------------------------------------------------------------------- */
typedef struct world {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *host;
  ethp2p_nat *nat;
  router r;
} world;

typedef struct outcome {
  int calls;
  ethp2p_nat_map_result map;
  int status;
  ethp2p_addr ip;
  ethp2p_time at;
  world *w;
  bool destroy_in_cb;
} outcome;

static char *read_fixture(const char *name) {
  char path[512];
  const char *dir = getenv("ETHP2P_TESTDATA");
  FILE *f;
  char *buf = calloc(1, 65536);
  snprintf(path, sizeof path, "%s/upnp/%s", dir != NULL ? dir : "testdata", name);
  f = fopen(path, "rb");
  if (f == NULL || buf == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    abort();
  }
  if (fread(buf, 1, 65535, f) == 0)
    abort();
  fclose(f);
  return buf;
}

static char *g_igd1, *g_igd2;

static void world_setup(world *w, uint64_t seed) {
  ethp2p_nat_spec spec;
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(ethp2p_sim_create(&w->sim, seed), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w->sim, &w->box, "box", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w->box, &w->host, "node", NULL), 0);
  router_start(&w->r, ethp2p_sim_host_env(ethp2p_sim_nat_host(w->box)),
               ethp2p_addr_v4(192, 168, 1, 1, 5000));
  w->r.sc.desc = g_igd1;
  w->r.sc.ext_ip = "203.0.113.7";
  w->r.sc.reserved_port = 40123;
  memset(&spec, 0, sizeof spec);
  spec.kind = ETHP2P_NAT_UPNP;
  ck_assert_int_eq(ethp2p_nat_upnp_create(ethp2p_sim_host_env(w->host), &spec, &w->nat), 0);
  ck_assert_str_eq(w->nat->name, "UPnP");
  ck_assert((w->nat->caps & ETHP2P_NAT_CAP_MAP) != 0);
}

static void world_teardown(world *w) {
  ethp2p_nat_destroy(w->nat);
  ethp2p_udp_close(w->r.udp);
  ethp2p_tcp_close(w->r.listener);
  ethp2p_sim_run(w->sim, ETHP2P_SEC);
  ethp2p_sim_destroy(w->sim);
}

static void on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  outcome *o = data;
  o->calls++;
  o->map = *res;
  o->status = res->status;
  o->at = ethp2p_sim_now(o->w->sim);
  if (o->destroy_in_cb) {
    ethp2p_nat_destroy(nat);
    o->w->nat = NULL;
  }
}

static void on_done(ethp2p_nat *nat, int status, void *data) {
  outcome *o = data;
  o->calls++;
  o->status = status;
  o->at = ethp2p_sim_now(o->w->sim);
}

static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  outcome *o = data;
  o->calls++;
  o->status = status;
  if (ip != NULL)
    o->ip = *ip;
  o->at = ethp2p_sim_now(o->w->sim);
}

/* Runs the world until the outcome's callback ran (at most `limit` of virtual time). */
static void run_until_called(world *w, outcome *o, ethp2p_time limit) {
  ethp2p_time end = ethp2p_sim_now(w->sim) + limit;
  while (o->calls == 0 && ethp2p_sim_now(w->sim) < end)
    ethp2p_sim_run(w->sim, 10 * ETHP2P_MSEC);
  ck_assert_int_eq(o->calls, 1);
}

static void map_tcp(world *w, outcome *o, uint16_t port, uint32_t lifetime) {
  memset(o, 0, sizeof *o);
  o->w = w;
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(w->nat, ETHP2P_PROTO_TCP, 0, port, "ethp2p test", lifetime, on_map, o),
      0);
  ck_assert_int_eq(o->calls, 0); /* never inside the call */
  run_until_called(w, o, 30 * ETHP2P_SEC);
}

static size_t count_action(const router *r, const char *action) {
  size_t i, n = 0;
  for (i = 0; i < r->nreqs; i++)
    n += strcmp(r->reqs[i].action, action) == 0;
  return n;
}

static const soap_req *last_action(const router *r, const char *action) {
  size_t i = r->nreqs;
  while (i-- > 0)
    if (strcmp(r->reqs[i].action, action) == 0)
      return &r->reqs[i];
  return NULL;
}

/* ---------------------------------------------------------------------------
 * Tests.
 * ------------------------------------------------------------------------- */
START_TEST(igd1_discovery_and_add_port_mapping_within_100ms) {
  world w;
  outcome o;
  const soap_req *q;
  ethp2p_time start;
  world_setup(&w, 1);
  start = ethp2p_sim_now(w.sim);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(o.map.external_port, 30303);
  ck_assert_uint_eq(o.map.lifetime_s, 600);
  ck_assert_int_eq(o.map.router_code, 0);
  ck_assert_uint_lt(o.at - start, 100 * ETHP2P_MSEC);
  ck_assert_uint_eq(w.r.searches, 1);         /* one search target first, multicast */
  ck_assert_uint_eq(w.r.unicast_searches, 1); /* and unicast to the default gateway */
  ck_assert_uint_eq(w.r.desc_gets, 1);
  ck_assert_uint_eq(count_action(&w.r, "GetNATRSIPStatus"), 1);
  q = last_action(&w.r, "AddPortMapping");
  ck_assert_ptr_nonnull(q);
  ck_assert_str_eq(q->ext_port, "30303");
  ck_assert_str_eq(q->int_port, "30303");
  ck_assert_str_eq(q->client, "192.168.1.2");
  ck_assert_str_eq(q->lease, "600");
  ck_assert_str_eq(q->proto, "TCP");
  ck_assert_str_eq(q->desc, "ethp2p test");
  world_teardown(&w);
}
END_TEST

START_TEST(second_mapping_reuses_the_device_without_discovery) {
  world w;
  outcome o;
  world_setup(&w, 2);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(w.nat, ETHP2P_PROTO_UDP, 30310, 30303, NULL, 600, on_map, &o), 0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(o.map.external_port, 30310);
  ck_assert_uint_eq(w.r.desc_gets, 1);
  ck_assert_str_eq(last_action(&w.r, "AddPortMapping")->proto, "UDP");
  ck_assert_str_eq(last_action(&w.r, "AddPortMapping")->ext_port, "30310");
  ck_assert_str_eq(last_action(&w.r, "AddPortMapping")->desc, "ethp2p");
  world_teardown(&w);
}
END_TEST

START_TEST(conflict_718_moves_to_a_random_port_after_spacing) {
  world w;
  outcome o;
  const soap_req *first, *second;
  uint16_t port;
  world_setup(&w, 3);
  w.r.sc.add_faults[0] = 718;
  w.r.sc.nadd_faults = 1;
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_int_eq(o.map.router_code, 0);
  ck_assert_uint_eq(count_action(&w.r, "AddPortMapping"), 2);
  first = &w.r.reqs[w.r.nreqs - 2];
  second = &w.r.reqs[w.r.nreqs - 1];
  ck_assert_str_eq(first->ext_port, "30303");
  port = (uint16_t)strtoul(second->ext_port, NULL, 10);
  ck_assert_uint_ge(port, 10000);
  ck_assert_uint_le(port, 65534);
  ck_assert_uint_eq(o.map.external_port, port);
  ck_assert_str_eq(second->int_port, "30303");
  ck_assert_uint_ge(second->at - first->at, 200 * ETHP2P_MSEC);
  world_teardown(&w);
}
END_TEST

START_TEST(persistent_conflicts_fail_with_the_router_answer) {
  world w;
  outcome o;
  size_t i;
  world_setup(&w, 4);
  for (i = 0; i < MAX_FAULTS; i++)
    w.r.sc.add_faults[i] = 718;
  w.r.sc.nadd_faults = MAX_FAULTS;
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, ETHP2P_EREFUSED);
  ck_assert_int_eq(o.map.router_code, 718);
  ck_assert_str_eq(o.map.router_msg, "ConflictInMappingEntry");
  ck_assert_uint_eq(count_action(&w.r, "AddPortMapping"), 4); /* wanted + 3 random */
  world_teardown(&w);
}
END_TEST

START_TEST(only_permanent_leases_725_is_epermanent_with_the_router_code) {
  world w;
  outcome o;
  world_setup(&w, 5);
  w.r.sc.add_faults[0] = 725;
  w.r.sc.nadd_faults = 1;
  map_tcp(&w, &o, 30303, 600);
  /* The generic status; the protocol's code stays for logs.  One request, no retry here:
   * the caller asks again with lifetime 0. */
  ck_assert_int_eq(o.status, ETHP2P_EPERMANENT);
  ck_assert_int_eq(o.map.router_code, 725);
  ck_assert_str_eq(o.map.router_msg, "OnlyPermanentLeasesSupported");
  ck_assert_uint_eq(count_action(&w.r, "AddPortMapping"), 1);
  map_tcp(&w, &o, 30303, 0);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(o.map.lifetime_s, 0);
  ck_assert_str_eq(last_action(&w.r, "AddPortMapping")->lease, "0");
  world_teardown(&w);
}
END_TEST

/* IGDv2: the exact port first, so a renewal keeps the port we hold even on routers that
 * pick a new random port for every AddAnyPortMapping (go-ethereum #31418). */
START_TEST(igd2_asks_for_the_wanted_port_exactly_first) {
  world w;
  outcome o;
  const soap_req *q;
  world_setup(&w, 6);
  w.r.sc.desc = g_igd2;
  map_tcp(&w, &o, 30303, 1000000);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(o.map.external_port, 30303);
  ck_assert_uint_eq(o.map.lifetime_s, 604800); /* IGDv2 leases are at most a week */
  ck_assert_uint_eq(count_action(&w.r, "AddAnyPortMapping"), 0);
  q = last_action(&w.r, "AddPortMapping");
  ck_assert_ptr_nonnull(q);
  ck_assert_str_eq(q->ext_port, "30303");
  ck_assert_str_eq(q->lease, "604800");
  world_teardown(&w);
}
END_TEST

START_TEST(igd2_lets_the_router_choose_when_the_wanted_port_is_taken) {
  world w;
  outcome o;
  const soap_req *q;
  world_setup(&w, 6);
  w.r.sc.desc = g_igd2;
  w.r.sc.add_faults[0] = 718;
  w.r.sc.nadd_faults = 1;
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(o.map.external_port, 40123); /* NewReservedPort */
  ck_assert_uint_eq(count_action(&w.r, "AddPortMapping"), 1);
  ck_assert_uint_eq(count_action(&w.r, "AddAnyPortMapping"), 1);
  q = last_action(&w.r, "AddAnyPortMapping");
  ck_assert_ptr_nonnull(q);
  ck_assert_str_eq(q->ext_port, "30303");
  world_teardown(&w);
}
END_TEST

START_TEST(igd2_without_add_any_falls_back_to_add_port_mapping) {
  world w;
  outcome o;
  world_setup(&w, 7);
  w.r.sc.desc = g_igd2;
  w.r.sc.add_faults[0] = 718; /* the exact port is taken, so AddAny is tried ... */
  w.r.sc.nadd_faults = 1;
  w.r.sc.addany_faults[0] = 401; /* ... and is not implemented */
  w.r.sc.naddany_faults = 1;
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_ne(o.map.external_port, 0);
  ck_assert_uint_eq(count_action(&w.r, "AddAnyPortMapping"), 1);
  ck_assert_uint_eq(count_action(&w.r, "AddPortMapping"), 2);
  world_teardown(&w);
}
END_TEST

static const char desc_other_host[] =
    "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device>"
    "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><serviceList>"
    "<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
    "<controlURL>http://192.168.1.77:5000/ctl/IPConn</controlURL></service>"
    "</serviceList></device></root>";

START_TEST(control_url_on_another_host_is_refused) {
  world w;
  outcome o;
  world_setup(&w, 8);
  w.r.sc.desc = desc_other_host;
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, ETHP2P_ENOGATEWAY);
  ck_assert_uint_eq(w.r.desc_gets, 1);
  ck_assert_uint_eq(w.r.nreqs, 0); /* not a single SOAP request left the host */
  world_teardown(&w);
}
END_TEST

START_TEST(ssdp_reply_whose_location_is_another_host_is_ignored) {
  world w;
  outcome o;
  world_setup(&w, 9);
  w.r.sc.location_spoofed = true;
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, ETHP2P_ENOGATEWAY);
  ck_assert_uint_eq(w.r.desc_gets, 0);
  world_teardown(&w);
}
END_TEST

static const char desc_ip_disabled[] =
    "<?xml version=\"1.0\"?><root><device>"
    "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><serviceList>"
    "<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>"
    "<controlURL>/ctl/PPPConn</controlURL></service>"
    "<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
    "<controlURL>/ctl/IPConn</controlURL></service>"
    "</serviceList></device></root>";

START_TEST(service_preference_skips_a_service_with_nat_disabled) {
  world w;
  outcome o;
  world_setup(&w, 10);
  w.r.sc.desc = desc_ip_disabled;
  w.r.sc.nat_disabled_service = "urn:schemas-upnp-org:service:WANIPConnection:1";
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(count_action(&w.r, "GetNATRSIPStatus"), 2); /* WANIP first, then PPP */
  ck_assert_uint_eq(count_action(&w.r, "AddPortMapping"), 1);
  world_teardown(&w);
}
END_TEST

START_TEST(missing_natrsip_status_is_tolerated) {
  world w;
  outcome o;
  ethp2p_time start;
  world_setup(&w, 11);
  w.r.sc.natrsip_fault = true;
  start = ethp2p_sim_now(w.sim);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(o.map.external_port, 30303);
  ck_assert_uint_lt(o.at - start, 100 * ETHP2P_MSEC); /* a missing action is no reason to wait */
  world_teardown(&w);
}
END_TEST

START_TEST(chunked_and_close_delimited_descriptions_work) {
  world w;
  outcome o;
  world_setup(&w, 12);
  w.r.sc.desc_chunked = true;
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  world_teardown(&w);
  world_setup(&w, 13);
  w.r.sc.desc_close = true;
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  world_teardown(&w);
}
END_TEST

START_TEST(silent_router_times_out_with_generic_connection_statuses) {
  world w;
  outcome o;
  ethp2p_time start;
  world_setup(&w, 14);
  map_tcp(&w, &o, 30303, 600); /* discover first */
  ck_assert_int_eq(o.status, 0);
  w.r.sc.soap_silent = true;
  start = ethp2p_sim_now(w.sim);
  map_tcp(&w, &o, 30304, 600);
  ck_assert_int_eq(o.status, ETHP2P_ETIMEDOUT);
  ck_assert(ethp2p_nat_is_conn_failure(o.status));
  ck_assert_uint_ge(o.at - start, 3 * ETHP2P_SEC); /* the SOAP timeout */
  ck_assert_uint_lt(o.at - start, 4 * ETHP2P_SEC);
  /* Refused connections too; the loop counts them, the NAT keeps no counter. */
  w.r.sc.soap_silent = false;
  router_stop_listening(&w.r);
  map_tcp(&w, &o, 30306, 600);
  ck_assert_int_eq(o.status, ETHP2P_ECONNREFUSED);
  ck_assert(ethp2p_nat_is_conn_failure(o.status));
  {
    ethp2p_addr inside = w.r.self;
    ck_assert_int_eq(ethp2p_tcp_listen(w.r.env, &w.r.listener, &inside, router_on_accept, &w.r), 0);
  }
  map_tcp(&w, &o, 30307, 600);
  ck_assert_int_eq(o.status, 0);
  world_teardown(&w);
}
END_TEST

START_TEST(no_gateway_fails_after_the_window_with_enogateway) {
  world w;
  outcome o;
  ethp2p_time start;
  world_setup(&w, 15);
  w.r.sc.ssdp_off = true;
  start = ethp2p_sim_now(w.sim);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, ETHP2P_ENOGATEWAY);
  ck_assert(ethp2p_nat_is_conn_failure(o.status));
  ck_assert_uint_ge(o.at - start, 2 * ETHP2P_SEC);
  ck_assert_uint_lt(o.at - start, 3 * ETHP2P_SEC);
  ck_assert_uint_eq(w.r.searches, 9); /* bursts of one, four and four */
  ck_assert_uint_eq(w.r.unicast_searches, 9);
  world_teardown(&w);
}
END_TEST

START_TEST(rediscover_forgets_the_device_and_finds_it_again) {
  world w;
  outcome o;
  unsigned searches;
  world_setup(&w, 16);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  searches = w.r.searches;
  ethp2p_nat_rediscover(w.nat);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_gt(w.r.searches, searches);
  ck_assert_uint_eq(w.r.desc_gets, 2);
  world_teardown(&w);
}
END_TEST

START_TEST(external_ip_and_delete_mapping) {
  world w;
  outcome o;
  char buf[ETHP2P_ADDRSTRLEN];
  const soap_req *q;
  world_setup(&w, 17);
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &o), 0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  ck_assert_str_eq(ethp2p_addr_format(&o.ip, false, buf, sizeof buf), "203.0.113.7");

  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_delete_mapping(w.nat, ETHP2P_PROTO_UDP, 40000, 30303, on_done, &o),
                   0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  q = last_action(&w.r, "DeletePortMapping");
  ck_assert_str_eq(q->ext_port, "40000");
  ck_assert_str_eq(q->proto, "UDP");

  /* 714 NoSuchEntryInArray: already gone counts as deleted; other faults do not. */
  w.r.sc.delete_fault = 714;
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_delete_mapping(w.nat, ETHP2P_PROTO_TCP, 40000, 30303, on_done, &o),
                   0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  w.r.sc.delete_fault = 606;
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_delete_mapping(w.nat, ETHP2P_PROTO_TCP, 40000, 30303, on_done, &o),
                   0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, ETHP2P_EREFUSED);

  /* An unusable external address is a protocol error. */
  w.r.sc.ext_ip = "0.0.0.0";
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &o), 0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, ETHP2P_EPROTO);
  world_teardown(&w);
}
END_TEST

START_TEST(queued_operations_run_one_at_a_time_in_order) {
  world w;
  outcome a, b, c;
  world_setup(&w, 18);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  memset(&c, 0, sizeof c);
  a.w = b.w = c.w = &w;
  ck_assert_int_eq(ethp2p_nat_add_mapping(w.nat, ETHP2P_PROTO_TCP, 0, 1000, "a", 60, on_map, &a),
                   0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(w.nat, ETHP2P_PROTO_UDP, 0, 1001, "b", 60, on_map, &b),
                   0);
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &c), 0);
  run_until_called(&w, &c, 10 * ETHP2P_SEC);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(b.calls, 1);
  ck_assert_uint_le(a.at, b.at);
  ck_assert_uint_le(b.at, c.at);
  ck_assert_str_eq(w.r.reqs[w.r.nreqs - 4].int_port, "1000");
  ck_assert_str_eq(w.r.reqs[w.r.nreqs - 3].int_port, "1001");
  ck_assert_str_eq(w.r.reqs[w.r.nreqs - 2].action, "GetStatusInfo"); /* the poll's uptime */
  ck_assert_str_eq(w.r.reqs[w.r.nreqs - 1].action, "GetExternalIPAddress");
  ck_assert_uint_eq(w.r.desc_gets, 1); /* one discovery served all three */
  world_teardown(&w);
}
END_TEST

START_TEST(destroy_inside_a_callback_drops_the_rest_safely) {
  world w;
  outcome a, b;
  world_setup(&w, 19);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  a.w = b.w = &w;
  a.destroy_in_cb = true;
  ck_assert_int_eq(ethp2p_nat_add_mapping(w.nat, ETHP2P_PROTO_TCP, 0, 1000, "a", 60, on_map, &a),
                   0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(w.nat, ETHP2P_PROTO_UDP, 0, 1001, "b", 60, on_map, &b),
                   0);
  run_until_called(&w, &a, 10 * ETHP2P_SEC);
  ethp2p_sim_run(w.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(b.calls, 0);
  ck_assert_ptr_null(w.nat);
  world_teardown(&w);
}
END_TEST

START_TEST(router_restart_on_a_new_http_port_is_found_by_rediscovery) {
  world w;
  outcome o;
  world_setup(&w, 26);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  /* The router restarts: its HTTP server comes back on another port (miniupnpd, go-libp2p
   * #3224).  The old control URL is refused until the client rediscovers. */
  router_stop_listening(&w.r);
  w.r.self.port = 5001;
  ck_assert_int_eq(ethp2p_tcp_listen(w.r.env, &w.r.listener, &w.r.self, router_on_accept, &w.r), 0);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, ETHP2P_ECONNREFUSED);
  ethp2p_nat_rediscover(w.nat);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(w.r.desc_gets, 2);
  world_teardown(&w);
}
END_TEST

START_TEST(lost_searches_are_repeated_by_later_bursts) {
  world w;
  outcome o;
  ethp2p_sim_link lossy = {ETHP2P_MSEC, 0, 0.6};
  world_setup(&w, 23);
  ck_assert_int_eq(ethp2p_sim_net_set_link(ethp2p_sim_nat_lan(w.box), &lossy), 0);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_gt(w.r.searches + w.r.unicast_searches, 2); /* more than the first burst */
  ck_assert_uint_gt(ethp2p_sim_drops(w.sim, ETHP2P_SIM_DROP_LOSS), 0);
  world_teardown(&w);
}
END_TEST

/* Defect 6: a mesh node or second router that answers first is not chosen over the device
 * at the default gateway. */
START_TEST(the_device_at_the_default_gateway_wins_over_a_faster_answer) {
  world w;
  outcome o;
  router *tv = calloc(1, sizeof *tv);
  ethp2p_sim_host *h;
  ethp2p_addr addr = ethp2p_addr_v4(192, 168, 1, 3, 0);
  ck_assert_ptr_nonnull(tv);
  world_setup(&w, 24);
  w.r.sc.ssdp_unicast_only = true; /* so the other device's multicast answer comes first */
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w.box, &h, "tv", &addr), 0);
  addr.port = 5000;
  router_start(tv, ethp2p_sim_host_env(h), addr);
  tv->sc.desc = g_igd1; /* a perfectly usable IGD, just not the gateway */
  tv->sc.ext_ip = "203.0.113.99";
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(tv->desc_gets, 0);
  ck_assert_uint_eq(tv->nreqs, 0);
  ck_assert_uint_eq(w.r.desc_gets, 1);
  ck_assert_uint_eq(count_action(&w.r, "AddPortMapping"), 1);
  ethp2p_udp_close(tv->udp);
  ethp2p_tcp_close(tv->listener);
  world_teardown(&w);
  free(tv);
}
END_TEST

/* Two IGDs on the LAN, neither at the default gateway (which does not answer): the one that
 * answers first reports a private external address (a router behind another NAT), the other
 * a public one.  As miniupnpc's UPNP_GetValidIGD, the routable one is used. */
static void two_other_devices(world *w, router *first, router *second, const char *second_ip) {
  ethp2p_sim_host *h1, *h2;
  ethp2p_addr a1 = ethp2p_addr_v4(192, 168, 1, 3, 0), a2 = ethp2p_addr_v4(192, 168, 1, 4, 0);
  w->r.sc.ssdp_off = true; /* the default gateway is no IGD */
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w->box, &h1, "second-router", &a1), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w->box, &h2, "mesh", &a2), 0);
  a1.port = a2.port = 5000;
  router_start(first, ethp2p_sim_host_env(h1), a1);
  first->sc.desc = g_igd1;
  first->sc.ext_ip = "10.0.0.2"; /* RFC 1918: double NAT */
  first->sc.conn_status = "Connected";
  router_start(second, ethp2p_sim_host_env(h2), a2);
  second->sc.desc = g_igd1;
  second->sc.ext_ip = second_ip;
  second->sc.conn_status = "Connected";
}

static void router_close(router *r) {
  ethp2p_udp_close(r->udp);
  ethp2p_tcp_close(r->listener);
}

START_TEST(a_service_with_a_routable_external_address_wins_over_a_private_one) {
  world w;
  outcome o;
  router *priv = calloc(1, sizeof *priv), *pub = calloc(1, sizeof *pub);
  upnp_disc_info info;
  ck_assert_ptr_nonnull(priv);
  ck_assert_ptr_nonnull(pub);
  world_setup(&w, 26);
  two_other_devices(&w, priv, pub, "198.51.100.20");
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  /* The private one was asked (it answered first) but not used. */
  ck_assert_uint_eq(count_action(pub, "AddPortMapping"), 1);
  ck_assert_uint_eq(count_action(priv, "AddPortMapping"), 0);
  ck_assert_uint_eq(count_action(priv, "GetExternalIPAddress"), 1);
  /* What the doctor reads: both devices, the chosen one and why. */
  ck_assert(upnp_discovery_info(w.nat, &info));
  ck_assert_uint_eq(info.ndevices, 2);
  ck_assert(info.chosen);
  ck_assert_str_eq(info.devices[info.chosen_device].location,
                   "http://192.168.1.4:5000/rootDesc.xml");
  ck_assert_str_eq(info.devices[0].location, "http://192.168.1.3:5000/rootDesc.xml");
  ck_assert_uint_eq(info.devices[0].nranked, 1);
  ck_assert_uint_eq(info.devices[0].ranked[0].rank, 2); /* connected, not routable */
  ck_assert_uint_eq(info.devices[1].ranked[0].rank, 3);
  ck_assert(!info.devices[0].at_gateway);
  ck_assert(info.devices[0].desc_ok);
  ck_assert_ptr_nonnull(strstr(info.why, "routable"));
  ck_assert_str_eq(info.chosen_service, "urn:schemas-upnp-org:service:WANIPConnection:1");
  /* The address read while choosing answers the first poll: no second request. */
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &o), 0);
  run_until_called(&w, &o, 5 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  ck_assert(ethp2p_addr_equal(&o.ip, &(ethp2p_addr){0}, false) == false);
  {
    char ip[ETHP2P_ADDRSTRLEN];
    ck_assert_str_eq(ethp2p_addr_format(&o.ip, false, ip, sizeof ip), "198.51.100.20");
  }
  ck_assert_uint_eq(count_action(pub, "GetExternalIPAddress"), 1);
  router_close(priv);
  router_close(pub);
  world_teardown(&w);
  free(priv);
  free(pub);
}
END_TEST

START_TEST(without_a_routable_address_the_first_connected_service_is_used) {
  world w;
  outcome o;
  router *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
  upnp_disc_info info;
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  world_setup(&w, 27);
  two_other_devices(&w, a, b, "100.64.3.4"); /* CGNAT: not routable either */
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(count_action(a, "GetExternalIPAddress"), 1);
  ck_assert_uint_eq(count_action(b, "GetExternalIPAddress"), 1);
  ck_assert_uint_eq(count_action(a, "AddPortMapping"), 1); /* the fallback: first, connected */
  ck_assert_uint_eq(count_action(b, "AddPortMapping"), 0);
  ck_assert(upnp_discovery_info(w.nat, &info));
  ck_assert_uint_eq(info.chosen_device, 0);
  ck_assert_ptr_nonnull(strstr(info.why, "private"));
  router_close(a);
  router_close(b);
  world_teardown(&w);
  free(a);
  free(b);
}
END_TEST

/* The device at the default gateway outranks the rest even when its address is private (a
 * double NAT the user has): it is used as soon as its services are checked. */
START_TEST(the_gateway_with_a_private_address_is_used_at_once) {
  world w;
  outcome o;
  upnp_disc_info info;
  ethp2p_time t0;
  world_setup(&w, 28);
  w.r.sc.ext_ip = "192.168.100.7";
  w.r.sc.conn_status = "Connected";
  t0 = ethp2p_sim_now(w.sim);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_lt(o.at - t0, 500 * ETHP2P_MSEC); /* not after the 2 s search window */
  ck_assert_uint_eq(count_action(&w.r, "AddPortMapping"), 1);
  ck_assert(upnp_discovery_info(w.nat, &info));
  ck_assert(info.devices[info.chosen_device].at_gateway);
  ck_assert_uint_eq(info.devices[info.chosen_device].ranked[0].rank, 6);
  world_teardown(&w);
}
END_TEST

START_TEST(a_device_with_a_broken_description_is_skipped_for_the_next) {
  world w;
  outcome o;
  router *other = calloc(1, sizeof *other);
  ethp2p_sim_host *h;
  ethp2p_addr addr = ethp2p_addr_v4(192, 168, 1, 3, 0);
  ck_assert_ptr_nonnull(other);
  world_setup(&w, 24);
  w.r.sc.desc = "<root><device><deviceType>urn:x</deviceType></device>"; /* cut short */
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w.box, &h, "tv", &addr), 0);
  addr.port = 5000;
  router_start(other, ethp2p_sim_host_env(h), addr);
  other->sc.desc = g_igd1;
  other->sc.ext_ip = "203.0.113.99";
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(w.r.desc_gets, 1); /* the gateway's, tried first, broken */
  ck_assert_uint_eq(w.r.nreqs, 0);
  ck_assert_uint_eq(other->desc_gets, 1);
  ck_assert_uint_eq(count_action(other, "AddPortMapping"), 1);
  ethp2p_udp_close(other->udp);
  ethp2p_tcp_close(other->listener);
  world_teardown(&w);
  free(other);
}
END_TEST

typedef struct log_capture {
  unsigned soap_requests;
  bool saw_add;
} log_capture;

static void capture_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                         const char *kv) {
  log_capture *c = data;
  if (strcmp(module, "upnp") == 0 && strcmp(msg, "SOAP request") == 0) {
    c->soap_requests++;
    if (strstr(kv, "action=AddPortMapping ") != NULL)
      c->saw_add = true;
  }
}

START_TEST(each_exchange_with_the_router_is_logged_at_debug) {
  world w;
  outcome o;
  log_capture cap = {0};
  ethp2p_log_set_sink(capture_sink, &cap, ETHP2P_LOG_DEBUG);
  world_setup(&w, 25);
  map_tcp(&w, &o, 30303, 600);
  ethp2p_log_set_sink(NULL, NULL, ETHP2P_LOG_INFO);
  ck_assert_int_eq(o.status, 0);
  /* GetNATRSIPStatus, GetStatusInfo, GetExternalIPAddress (the service's rank), AddPortMapping */
  ck_assert_uint_eq(cap.soap_requests, 4);
  ck_assert(cap.saw_add);
  world_teardown(&w);
}
END_TEST

START_TEST(destroy_while_discovering_or_waiting_for_soap_drops_callbacks) {
  world w;
  outcome o;
  world_setup(&w, 21);
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_add_mapping(w.nat, ETHP2P_PROTO_TCP, 0, 1000, "a", 60, on_map, &o),
                   0);
  ethp2p_sim_run(w.sim, 2 * ETHP2P_MSEC); /* the search is out, no reply handled yet */
  ethp2p_nat_destroy(w.nat);
  w.nat = NULL;
  ethp2p_sim_run(w.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(o.calls, 0);
  world_teardown(&w);

  world_setup(&w, 22);
  map_tcp(&w, &o, 1000, 60);
  ck_assert_int_eq(o.status, 0);
  w.r.sc.soap_silent = true;
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &o), 0);
  ethp2p_sim_run(w.sim, 500 * ETHP2P_MSEC); /* connected, request sent, no answer */
  ethp2p_nat_destroy(w.nat);
  w.nat = NULL;
  ethp2p_sim_run(w.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(o.calls, 0);
  world_teardown(&w);
}
END_TEST

START_TEST(bad_arguments_are_refused_without_callbacks) {
  world w;
  outcome o;
  world_setup(&w, 20);
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_add_mapping(w.nat, ETHP2P_PROTO_TCP, 0, 0, "a", 60, on_map, &o),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_nat_add_mapping(w.nat, (ethp2p_proto)1, 0, 1, "a", 60, on_map, &o),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(w.nat, ETHP2P_PROTO_TCP, 0, 0, on_done, &o),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, NULL, &o), ETHP2P_EINVAL);
  ethp2p_sim_run(w.sim, 5 * ETHP2P_SEC);
  ck_assert_int_eq(o.calls, 0);
  world_teardown(&w);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Following the router: NOTIFY, GENA events, uptime.
 * ------------------------------------------------------------------------- */
typedef struct notes {
  int n, lost, gone, extip;
  ethp2p_addr ip;
  ethp2p_time at;
  world *w;
} notes;

static void on_note(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip, void *data) {
  notes *n = data;
  (void)nat;
  n->n++;
  n->at = ethp2p_sim_now(n->w->sim);
  if (ev == ETHP2P_NAT_EV_STATE_LOST)
    n->lost++;
  else if (ev == ETHP2P_NAT_EV_GATEWAY_GONE)
    n->gone++;
  else if (ev == ETHP2P_NAT_EV_EXTIP_ANNOUNCED) {
    n->extip++;
    n->ip = *ip;
  }
}

/* The router multicasts one advertisement, as miniupnpd does for its root device. */
static void router_notify(router *r, ethp2p_ssdp_nts nts, uint32_t bootid, uint16_t http_port) {
  ethp2p_ssdp_notify n;
  ethp2p_addr group = ethp2p_addr_v4(239, 255, 255, 250, 1900);
  char self[ETHP2P_ADDRSTRLEN];
  uint8_t out[ETHP2P_SSDP_MAX_LEN];
  size_t len;
  memset(&n, 0, sizeof n);
  n.nts = nts;
  snprintf(n.nt, sizeof n.nt, "%s", ETHP2P_SSDP_ST_IGD1);
  snprintf(n.usn, sizeof n.usn, "uuid:test::%s", ETHP2P_SSDP_ST_IGD1);
  snprintf(n.location, sizeof n.location, "http://%s:%u/rootDesc.xml",
           ethp2p_addr_format(&r->self, false, self, sizeof self), http_port);
  n.max_age = 120;
  n.has_bootid = true;
  n.bootid = bootid;
  ck_assert_int_eq(ethp2p_ssdp_notify_build(out, sizeof out, &len, &n), 0);
  ck_assert_int_eq(ethp2p_udp_send(r->udp, &group, out, len), 0);
}

typedef struct ev_sender {
  ethp2p_tcp *tcp;
  uint8_t req[4096];
  size_t len;
  int answered; /* HTTP status of the answer, 0 until then */
} ev_sender;

static void ev_on_read(ethp2p_tcp *t, int status, const uint8_t *buf, size_t len, void *data) {
  ev_sender *e = data;
  (void)t;
  if (status == 0 && len > 12 && e->answered == 0)
    e->answered = (int)strtol((const char *)buf + 9, NULL, 10);
}

static void ev_on_connect(ethp2p_tcp *t, int status, void *data) {
  ev_sender *e = data;
  ck_assert_int_eq(status, 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(t, ev_on_read, e), 0);
  ck_assert_int_eq(ethp2p_tcp_write(t, e->req, e->len), 0);
}

/* The router sends an event to the subscriber's CALLBACK. */
static void router_event(router *r, ev_sender *e, const char *sid, uint32_t seq,
                         const char *ext_ip) {
  ethp2p_http_url url;
  char host[ETHP2P_ADDRSTRLEN];
  ethp2p_soap_field f[2] = {{"ExternalIPAddress", ext_ip}, {"ConnectionStatus", "Connected"}};
  memset(e, 0, sizeof *e);
  ck_assert_int_eq(ethp2p_http_url_parse(&url, r->callback, NULL), 0);
  ck_assert(url.has_addr);
  ck_assert_int_eq(ethp2p_gena_event_build(e->req, sizeof e->req, &e->len, url.path,
                                           ethp2p_addr_format(&url.addr, true, host, sizeof host),
                                           sid, seq, f, 2),
                   0);
  ck_assert_int_eq(ethp2p_tcp_connect(r->env, &e->tcp, &url.addr, NULL, ev_on_connect, e), 0);
}

START_TEST(caps_say_the_client_detects_restarts_and_announces_addresses) {
  world w;
  world_setup(&w, 40);
  ck_assert(w.nat->caps & ETHP2P_NAT_CAP_DETECTS_RESTART);
  ck_assert(w.nat->caps & ETHP2P_NAT_CAP_ANNOUNCES_EXTIP);
  ck_assert(w.nat->caps & ETHP2P_NAT_CAP_POLL_EXTIP);
  world_teardown(&w);
}
END_TEST

START_TEST(notify_with_a_new_bootid_is_a_restart_and_byebye_is_gone) {
  world w;
  outcome o;
  notes n = {0};
  world_setup(&w, 41);
  n.w = &w;
  ethp2p_nat_set_notify(w.nat, on_note, &n);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  /* The same BOOTID again (the periodic alive) twice: nothing. */
  router_notify(&w.r, ETHP2P_SSDP_NTS_ALIVE, 1000, 5000);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  router_notify(&w.r, ETHP2P_SSDP_NTS_ALIVE, 1000, 5000);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  ck_assert_int_eq(n.n, 0);
  /* A new BOOTID: the router restarted and lost its mappings. */
  router_notify(&w.r, ETHP2P_SSDP_NTS_ALIVE, 1001, 5000);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  ck_assert_int_eq(n.lost, 1);
  /* The description is fetched again at the next operation. */
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(w.r.desc_gets, 2);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  /* A new LOCATION with the same BOOTID: a restart too. */
  router_notify(&w.r, ETHP2P_SSDP_NTS_ALIVE, 1001, 5001);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  ck_assert_int_eq(n.lost, 2);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  router_notify(&w.r, ETHP2P_SSDP_NTS_BYEBYE, 1001, 5000);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  ck_assert_int_eq(n.gone, 1);
  ck_assert_int_eq(n.extip, 0);
  world_teardown(&w);
}
END_TEST

START_TEST(notify_from_another_host_is_ignored) {
  world w;
  outcome o;
  notes n = {0};
  router *other = calloc(1, sizeof *other);
  ethp2p_sim_host *h;
  ethp2p_addr addr = ethp2p_addr_v4(192, 168, 1, 3, 0);
  ck_assert_ptr_nonnull(other);
  world_setup(&w, 42);
  n.w = &w;
  ethp2p_nat_set_notify(w.nat, on_note, &n);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(w.box, &h, "tv", &addr), 0);
  addr.port = 5000;
  router_start(other, ethp2p_sim_host_env(h), addr);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ethp2p_sim_run(w.sim, 100 * ETHP2P_MSEC);
  router_notify(other, ETHP2P_SSDP_NTS_ALIVE, 77, 5000);
  router_notify(other, ETHP2P_SSDP_NTS_BYEBYE, 77, 5000);
  ethp2p_sim_run(w.sim, 200 * ETHP2P_MSEC);
  ck_assert_int_eq(n.n, 0);
  ethp2p_udp_close(other->udp);
  ethp2p_tcp_close(other->listener);
  world_teardown(&w);
  free(other);
}
END_TEST

START_TEST(gena_event_announces_a_new_external_address) {
  world w;
  outcome o;
  notes n = {0};
  ev_sender e;
  world_setup(&w, 43);
  n.w = &w;
  ethp2p_nat_set_notify(w.nat, on_note, &n);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ethp2p_sim_run(w.sim, 200 * ETHP2P_MSEC);
  ck_assert_uint_eq(w.r.subscribes, 1);
  ck_assert_ptr_nonnull(strstr(w.r.callback, "http://192.168.1.")); /* our LAN address */
  /* The address as first known (the poll); events report changes from there. */
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &o), 0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  /* An event with another SID is refused with 412 and changes nothing. */
  router_event(&w.r, &e, "uuid:someone-else", 0, "198.51.100.1");
  ethp2p_sim_run(w.sim, 200 * ETHP2P_MSEC);
  ck_assert_int_eq(e.answered, 412);
  ck_assert_int_eq(n.extip, 0);
  ethp2p_tcp_close(e.tcp);
  router_event(&w.r, &e, "uuid:test-sub-1", 1, "198.51.100.2");
  ethp2p_sim_run(w.sim, 200 * ETHP2P_MSEC);
  ck_assert_int_eq(e.answered, 200);
  ck_assert_int_eq(n.extip, 1);
  {
    char b[ETHP2P_ADDRSTRLEN];
    ck_assert_str_eq(ethp2p_addr_format(&n.ip, false, b, sizeof b), "198.51.100.2");
  }
  ethp2p_tcp_close(e.tcp);
  /* The same address again is no news; the poll now answers from the event in one request. */
  router_event(&w.r, &e, "uuid:test-sub-1", 2, "198.51.100.2");
  ethp2p_sim_run(w.sim, 200 * ETHP2P_MSEC);
  ck_assert_int_eq(n.extip, 1);
  ethp2p_tcp_close(e.tcp);
  {
    size_t before = w.r.nreqs;
    memset(&o, 0, sizeof o);
    o.w = &w;
    ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &o), 0);
    run_until_called(&w, &o, 10 * ETHP2P_SEC);
    ck_assert_int_eq(o.status, 0);
    ck_assert_uint_eq(w.r.nreqs - before, 1);
    ck_assert_str_eq(w.r.reqs[w.r.nreqs - 1].action, "GetStatusInfo");
  }
  /* Renewed before the 1800 s timeout runs out; UNSUBSCRIBE when the last mapping goes. */
  ethp2p_sim_run(w.sim, 1400 * ETHP2P_SEC);
  ck_assert_uint_eq(w.r.renewals, 1);
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_delete_mapping(w.nat, ETHP2P_PROTO_TCP, 30303, 30303, on_done, &o),
                   0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_uint_eq(w.r.unsubscribes, 1);
  /* A new mapping subscribes again. */
  map_tcp(&w, &o, 30304, 600);
  ethp2p_sim_run(w.sim, ETHP2P_SEC);
  ck_assert_uint_eq(w.r.subscribes, 2);
  world_teardown(&w);
}
END_TEST

START_TEST(uptime_that_grew_less_than_time_passed_is_a_restart) {
  world w;
  outcome o;
  notes n = {0};
  world_setup(&w, 44);
  n.w = &w;
  w.r.sc.conn_status = "Connected";
  w.r.sc.uptime_s = 5000;
  ethp2p_nat_set_notify(w.nat, on_note, &n);
  map_tcp(&w, &o, 30303, 600);
  ck_assert_int_eq(o.status, 0);
  ethp2p_sim_run(w.sim, 120 * ETHP2P_SEC);
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &o), 0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  ck_assert_int_eq(n.lost, 0); /* uptime followed the clock */
  /* The router reboots: its uptime starts again from 3 s. */
  w.r.sc.uptime_s = 3;
  w.r.sc.uptime_set_at = ethp2p_sim_now(w.sim);
  ethp2p_sim_run(w.sim, 120 * ETHP2P_SEC);
  memset(&o, 0, sizeof o);
  o.w = &w;
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &o), 0);
  run_until_called(&w, &o, 10 * ETHP2P_SEC);
  ck_assert_int_eq(o.status, 0);
  ck_assert_int_eq(n.lost, 1);
  ck_assert_str_eq(w.r.reqs[w.r.nreqs - 1].action, "GetExternalIPAddress");
  world_teardown(&w);
}
END_TEST

START_TEST(a_service_that_is_not_connected_is_only_a_fallback) {
  world w;
  outcome o;
  world_setup(&w, 45);
  w.r.sc.conn_status = "Disconnected";
  map_tcp(&w, &o, 30303, 600);
  /* The only service is not connected: still used (nothing better), after trying. */
  ck_assert_int_eq(o.status, 0);
  ck_assert_uint_eq(count_action(&w.r, "GetStatusInfo"), 1);
  world_teardown(&w);
}
END_TEST

/* An address request queued before mappings is answered after them, so a record built
 * from it never advertises a port the router does not forward yet. */
START_TEST(address_request_waits_for_the_mappings_queued_with_it) {
  world w;
  outcome ip, m;
  world_setup(&w, 46);
  memset(&ip, 0, sizeof ip);
  memset(&m, 0, sizeof m);
  ip.w = m.w = &w;
  ck_assert_int_eq(ethp2p_nat_external_ip(w.nat, on_extip, &ip), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(w.nat, ETHP2P_PROTO_TCP, 0, 1000, "a", 60, on_map, &m),
                   0);
  run_until_called(&w, &ip, 10 * ETHP2P_SEC);
  ck_assert_int_eq(m.calls, 1);
  ck_assert_int_eq(m.status, 0);
  ck_assert_uint_le(m.at, ip.at);
  ck_assert_str_eq(w.r.reqs[w.r.nreqs - 1].action, "GetExternalIPAddress");
  world_teardown(&w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_upnp");
  TCase *tc = tcase_create("upnp");
  SRunner *sr;
  int failed;
  g_igd1 = read_fixture("igd1_miniupnpd.xml");
  g_igd2 = read_fixture("igd2_miniupnpd.xml");
  tcase_add_test(tc, igd1_discovery_and_add_port_mapping_within_100ms);
  tcase_add_test(tc, second_mapping_reuses_the_device_without_discovery);
  tcase_add_test(tc, conflict_718_moves_to_a_random_port_after_spacing);
  tcase_add_test(tc, persistent_conflicts_fail_with_the_router_answer);
  tcase_add_test(tc, only_permanent_leases_725_is_epermanent_with_the_router_code);
  tcase_add_test(tc, igd2_asks_for_the_wanted_port_exactly_first);
  tcase_add_test(tc, igd2_lets_the_router_choose_when_the_wanted_port_is_taken);
  tcase_add_test(tc, igd2_without_add_any_falls_back_to_add_port_mapping);
  tcase_add_test(tc, control_url_on_another_host_is_refused);
  tcase_add_test(tc, ssdp_reply_whose_location_is_another_host_is_ignored);
  tcase_add_test(tc, service_preference_skips_a_service_with_nat_disabled);
  tcase_add_test(tc, missing_natrsip_status_is_tolerated);
  tcase_add_test(tc, chunked_and_close_delimited_descriptions_work);
  tcase_add_test(tc, silent_router_times_out_with_generic_connection_statuses);
  tcase_add_test(tc, no_gateway_fails_after_the_window_with_enogateway);
  tcase_add_test(tc, rediscover_forgets_the_device_and_finds_it_again);
  tcase_add_test(tc, external_ip_and_delete_mapping);
  tcase_add_test(tc, queued_operations_run_one_at_a_time_in_order);
  tcase_add_test(tc, destroy_inside_a_callback_drops_the_rest_safely);
  tcase_add_test(tc, router_restart_on_a_new_http_port_is_found_by_rediscovery);
  tcase_add_test(tc, lost_searches_are_repeated_by_later_bursts);
  tcase_add_test(tc, a_device_with_a_broken_description_is_skipped_for_the_next);
  tcase_add_test(tc, the_device_at_the_default_gateway_wins_over_a_faster_answer);
  tcase_add_test(tc, a_service_with_a_routable_external_address_wins_over_a_private_one);
  tcase_add_test(tc, without_a_routable_address_the_first_connected_service_is_used);
  tcase_add_test(tc, the_gateway_with_a_private_address_is_used_at_once);
  tcase_add_test(tc, caps_say_the_client_detects_restarts_and_announces_addresses);
  tcase_add_test(tc, notify_with_a_new_bootid_is_a_restart_and_byebye_is_gone);
  tcase_add_test(tc, notify_from_another_host_is_ignored);
  tcase_add_test(tc, gena_event_announces_a_new_external_address);
  tcase_add_test(tc, uptime_that_grew_less_than_time_passed_is_a_restart);
  tcase_add_test(tc, a_service_that_is_not_connected_is_only_a_fallback);
  tcase_add_test(tc, address_request_waits_for_the_mappings_queued_with_it);
  tcase_add_test(tc, each_exchange_with_the_router_is_logged_at_debug);
  tcase_add_test(tc, destroy_while_discovering_or_waiting_for_soap_drops_callbacks);
  tcase_add_test(tc, bad_arguments_are_refused_without_callbacks);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  free(g_igd1);
  free(g_igd2);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
