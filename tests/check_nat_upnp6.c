/*
 * tests/check_nat_upnp6.c — the IGDv2 IPv6 firewall NAT (nat/upnp6.h) against an in-process
 * router as strict as miniupnpd: it answers M-SEARCH on [ff02::c]:1900, serves the
 * description miniupnpd 2.3.1 serves to IPv6 control points (testdata/upnp/
 * igd2_miniupnpd_ipv6.xml), and runs WANIPv6FirewallControl:1 with pinholes keyed by
 * UniqueID, AddPinhole only for the control point's own address (606 otherwise), Update
 * and Delete only from the owner, 704 for an unknown UniqueID.
 *
 * The suite moves itself into a private network namespace: a veth link u6lan holds our
 * address 3fff:0:1::10 (the router hears our ff02::c searches as the looped-back copy), the
 * router's HTTP and SSDP answers come from 3fff:0:2::1 on lo.  Needs root (unshare, ip): exits 77,
 * skipped, without it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ethp2p/env.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/http.h"
#include "nat/pinhole_codec.h"
#include "nat/ssdp.h"
#include "nat/upnp6.h"
#include "nat/xml.h"

static uv_loop_t loop;
static ethp2p_env *env;

static size_t fixture(const char *name, char *buf, size_t cap) {
  char path[512];
  const char *dir = getenv("ETHP2P_TESTDATA");
  snprintf(path, sizeof path, "%s/upnp/%s", dir != NULL ? dir : "testdata", name);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

/* ---- the fake router ------------------------------------------------------- */
#define MAX_HOLES 8
typedef struct hole {
  bool used;
  uint16_t id;
  ethp2p_addr owner; /* InternalClient */
  unsigned port;
  unsigned lease;
} hole;

static struct router {
  ethp2p_tcp *listener;
  hole holes[MAX_HOLES];
  uint16_t next_id;
  int requests[8]; /* per action */
  ethp2p_addr last_from;
  bool inbound_allowed; /* GetFirewallStatus InboundPinholeAllowed */
  bool spoof;           /* SSDP answers name another host in LOCATION */
  bool mute;            /* no SSDP answers */
  unsigned searches, gets;
  ethp2p_udp *ssdp, *ssdp_out;
} R;

typedef struct conn {
  ethp2p_tcp *tcp;
  ethp2p_http_parser parser;
  ethp2p_addr peer;
} conn;

static int action_of(const char *name) {
  for (int a = 0; a <= ETHP2P_PINHOLE_CHECK_WORKING; a++)
    if (strcmp(ethp2p_pinhole_action_name((ethp2p_pinhole_action)a), name) == 0)
      return a;
  return -1;
}

static hole *find(const char *uid) {
  char *end;
  long v = strtol(uid != NULL ? uid : "", &end, 10);
  if (uid == NULL || *end != '\0')
    return NULL;
  for (int i = 0; i < MAX_HOLES; i++)
    if (R.holes[i].used && R.holes[i].id == v)
      return &R.holes[i];
  return NULL;
}

/* Answers one control request: fills body and returns the HTTP status. */
static int handle(const ethp2p_soap_msg *m, const ethp2p_addr *peer, char *body, size_t size,
                  size_t *len) {
  int a = action_of(m->action);
  char idtxt[8];
  ethp2p_soap_field out[1];
  size_t nout = 0;
  int code = 0;
  if (a < 0 || strcmp(m->service_type, ETHP2P_PINHOLE_SERVICE) != 0) {
    code = 401;
    goto fault;
  }
  R.requests[a]++;
  R.last_from = *peer;
  if (a == ETHP2P_PINHOLE_ADD) {
    ethp2p_addr client;
    const char *ic = ethp2p_soap_msg_arg(m, "InternalClient");
    const char *lt = ethp2p_soap_msg_arg(m, "LeaseTime");
    const char *ip = ethp2p_soap_msg_arg(m, "InternalPort");
    long lease = lt != NULL ? strtol(lt, NULL, 10) : -1;
    if (ic == NULL || ethp2p_addr_parse_ip(&client, ic) != 0 || ip == NULL || lease < 1 ||
        lease > 86400) {
      code = 402;
      goto fault;
    }
    if (!ethp2p_addr_equal(&client, peer, false) || strtol(ip, NULL, 10) < 1024) {
      code = 606;
      goto fault;
    }
    int i = 0;
    while (i < MAX_HOLES && R.holes[i].used)
      i++;
    if (i == MAX_HOLES) {
      code = 701;
      goto fault;
    }
    R.holes[i] = (hole){true, ++R.next_id, client, (unsigned)strtol(ip, NULL, 10), (unsigned)lease};
    snprintf(idtxt, sizeof idtxt, "%u", R.holes[i].id);
    out[nout++] = (ethp2p_soap_field){"UniqueID", idtxt};
  } else if (a == ETHP2P_PINHOLE_GET_FIREWALL_STATUS) {
    /* This router filters but does not let control points in: InboundPinholeAllowed 0. */
    ethp2p_soap_field st[2] = {{"FirewallEnabled", "1"},
                               {"InboundPinholeAllowed", R.inbound_allowed ? "1" : "0"}};
    ck_assert_int_eq(ethp2p_soap_response_build(body, size, len, ETHP2P_PINHOLE_SERVICE,
                                                "GetFirewallStatus", st, 2),
                     0);
    return 200;
  } else if (a == ETHP2P_PINHOLE_UPDATE || a == ETHP2P_PINHOLE_DELETE ||
             a == ETHP2P_PINHOLE_CHECK_WORKING) {
    hole *h = find(ethp2p_soap_msg_arg(m, "UniqueID"));
    if (h == NULL) {
      code = 704;
      goto fault;
    }
    if (!ethp2p_addr_equal(&h->owner, peer, false)) {
      code = 606;
      goto fault;
    }
    if (a == ETHP2P_PINHOLE_UPDATE) {
      const char *lt = ethp2p_soap_msg_arg(m, "NewLeaseTime");
      long lease = lt != NULL ? strtol(lt, NULL, 10) : -1;
      if (lease < 1 || lease > 86400) {
        code = 402;
        goto fault;
      }
      h->lease = (unsigned)lease;
    } else if (a == ETHP2P_PINHOLE_DELETE) {
      h->used = false;
    } else {
      code = 709;
      goto fault;
    }
  }
  ck_assert_int_eq(
      ethp2p_soap_response_build(body, size, len, ETHP2P_PINHOLE_SERVICE, m->action, out, nout), 0);
  return 200;
fault:
  ck_assert_int_eq(ethp2p_soap_fault_build(body, size, len, code, NULL), 0);
  return 500;
}

static void answer(conn *c);

static void conn_read(ethp2p_tcp *t, int status, const uint8_t *buf, size_t len, void *data) {
  conn *c = data;
  if (status != 0) {
    ethp2p_http_parser_close(&c->parser);
    ethp2p_tcp_close(t);
    free(c);
    return;
  }
  size_t used = 0;
  if (ethp2p_http_parser_feed(&c->parser, buf, len, &used, NULL) != 1)
    return;
  answer(c);
}

static void answer(conn *c) {
  ethp2p_tcp *t = c->tcp;
  const ethp2p_http_msg *req = &c->parser.msg;
  ethp2p_soap_msg *m = calloc(1, sizeof *m);
  char body[2048];
  size_t body_len = 0, out_len = 0;
  static uint8_t out[70 * 1024];
  int st;
  static char desc[64 * 1024];
  const char *resp_body = body;
  if (strcmp(req->method, "GET") == 0 && strcmp(req->target, "/rootDesc.xml") == 0) {
    R.gets++;
    body_len = fixture("igd2_miniupnpd_ipv6.xml", desc, sizeof desc);
    resp_body = desc;
    st = 200;
  } else if (strcmp(req->method, "POST") == 0 && strcmp(req->target, "/ctl/IP6FCtl") == 0 &&
             ethp2p_soap_request_parse(m, (const char *)req->body, req->body_len, NULL) == 0) {
    st = handle(m, &c->peer, body, sizeof body, &body_len);
  } else {
    st = 404, body_len = 0;
  }
  free(m);
  ck_assert_int_eq(ethp2p_http_response_build(out, sizeof out, &out_len, st,
                                              st == 200 ? "OK" : "Internal Server Error", NULL, 0,
                                              (const uint8_t *)resp_body, body_len, 0),
                   0);
  ethp2p_tcp_write(t, out, out_len);
  ethp2p_tcp_shutdown(t);
}

static void router_accept(ethp2p_tcp *l, ethp2p_tcp *t, void *data) {
  (void)l;
  (void)data;
  conn *c = calloc(1, sizeof *c);
  c->tcp = t;
  ethp2p_http_parser_init(&c->parser, ETHP2P_HTTP_REQUEST, 16384, false);
  ethp2p_tcp_peer_addr(t, &c->peer);
  ethp2p_tcp_read_start(t, conn_read, c);
}

static ethp2p_addr ip6(const char *s) {
  ethp2p_addr a;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, s), 0);
  return a;
}

/* M-SEARCH on [ff02::c]:1900: a miniupnpd-style answer from 3fff:0:2::1. */
static void ssdp_recv(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                      void *data) {
  (void)u;
  (void)data;
  ethp2p_ssdp_search s;
  if (ethp2p_ssdp_search_parse(&s, buf, len, NULL) != 0)
    return;
  R.searches++;
  /* UDA 1.1 Appendix A: the IPv6 HOST is the bracketed group. */
  ck_assert_str_eq(s.host, ETHP2P_SSDP_HOST_V6);
  ck_assert_str_eq(s.man, "ssdp:discover");
  if (R.mute || !ethp2p_ssdp_st_is_gateway(s.st))
    return;
  ethp2p_ssdp_reply r;
  memset(&r, 0, sizeof r);
  r.status = 200;
  r.max_age = 120;
  snprintf(r.location, sizeof r.location, "http://[%s]:5000/rootDesc.xml",
           R.spoof ? "3fff:0:2::66" : "3fff:0:2::1");
  snprintf(r.st, sizeof r.st, "%s", s.st);
  snprintf(r.usn, sizeof r.usn, "uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07c::%.200s", s.st);
  snprintf(r.server, sizeof r.server, "Debian/12 UPnP/1.1 MiniUPnPd/2.3.1");
  uint8_t out[ETHP2P_SSDP_MAX_LEN];
  size_t n;
  ck_assert_int_eq(ethp2p_ssdp_reply_build(out, sizeof out, &n, &r), 0);
  ethp2p_udp_send(R.ssdp_out, from, out, n);
}

static void router_start(void) {
  ethp2p_udp *keep_ssdp = R.ssdp, *keep_out = R.ssdp_out;
  memset(&R, 0, sizeof R);
  R.ssdp = keep_ssdp;
  R.ssdp_out = keep_out;
  R.inbound_allowed = true;
  ethp2p_addr at = ip6("3fff:0:2::1");
  at.port = 5000;
  ck_assert_int_eq(ethp2p_tcp_listen(env, &R.listener, &at, router_accept, NULL), 0);
  if (R.ssdp == NULL) {
    ethp2p_addr any = ip6("::"), group = ip6(ETHP2P_SSDP_GROUP_V6), lan = ip6("3fff:0:1::10");
    any.port = ETHP2P_SSDP_PORT;
    ck_assert_int_eq(ethp2p_udp_open(env, &R.ssdp, &any, ETHP2P_UDP_REUSEADDR, ssdp_recv, NULL), 0);
    ck_assert_int_eq(ethp2p_udp_join(R.ssdp, &group, &lan), 0);
    at.port = 0;
    ck_assert_int_eq(ethp2p_udp_open(env, &R.ssdp_out, &at, 0, ssdp_recv, NULL), 0);
  }
}

static void router_stop(void) {
  ethp2p_tcp_close(R.listener);
  R.listener = NULL;
  ethp2p_udp_close(R.ssdp);
  ethp2p_udp_close(R.ssdp_out);
  R.ssdp = R.ssdp_out = NULL;
}

static int router_holes(void) {
  int n = 0;
  for (int i = 0; i < MAX_HOLES; i++)
    n += R.holes[i].used;
  return n;
}

/* ---- the NAT side ----------------------------------------------------------- */
typedef struct result {
  int calls;
  ethp2p_nat_map_result map;
  int status;
  ethp2p_addr ip;
} result;

static void on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  (void)nat;
  result *r = data;
  r->map = *res;
  r->status = res->status;
  r->calls++;
}

static void on_done(ethp2p_nat *nat, int status, void *data) {
  (void)nat;
  result *r = data;
  r->status = status;
  r->calls++;
}

static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  (void)nat;
  result *r = data;
  r->status = status;
  if (ip != NULL)
    r->ip = *ip;
  r->calls++;
}

static void on_guard(uv_timer_t *t) {
  (void)t;
}

static bool wait_calls(result *r, int n, unsigned ms) {
  uv_timer_t guard;
  uint64_t limit = uv_hrtime() + (uint64_t)ms * 1000000u;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 5, 5);
  while (r->calls < n && uv_hrtime() < limit)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return r->calls >= n;
}

static void setup(void) {
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, &env), 0);
  memset(&R, 0, sizeof R);
  router_start();
}

static void teardown(void) {
  router_stop();
  uv_run(&loop, UV_RUN_NOWAIT);
  ethp2p_uvenv_destroy(env);
  env = NULL;
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}

static ethp2p_nat *nat_new(void) {
  ethp2p_nat *n = NULL;
  ck_assert_int_eq(ethp2p_nat_upnp6_create(env, &n), 0);
  ck_assert_ptr_nonnull(n);
  ck_assert_uint_eq(n->caps & ETHP2P_NAT_CAP_MAP, ETHP2P_NAT_CAP_MAP);
  ck_assert_uint_eq(n->caps & ETHP2P_NAT_CAP_STATIC_IP, 0);
  return n;
}

START_TEST(discovers_over_ff02_c_and_opens_renews_and_deletes_pinholes) {
  ethp2p_nat *n = nat_new();
  char ip[ETHP2P_ADDRSTRLEN];
  result a = {0};
  /* No I/O before the first operation. */
  ck_assert_uint_eq(ethp2p_nat_upnp6_requests(n), 0);
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(n, ETHP2P_PROTO_UDP, 0, 30303, "ethp2p", 3600, on_map, &a), 0);
  ck_assert_int_eq(a.calls, 0); /* never inside the call */
  ck_assert(wait_calls(&a, 1, 4000));
  ck_assert_msg(a.status == 0, "status %s code %d", ethp2p_err_name(a.status), a.map.router_code);
  ck_assert_uint_ge(R.searches, 1);
  ck_assert_uint_eq(R.gets, 1);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_GET_FIREWALL_STATUS], 1);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 1);
  ck_assert_uint_eq(a.map.external_port, 30303); /* a pinhole keeps the port */
  ck_assert_uint_eq(a.map.lifetime_s, 3600);
  ck_assert_str_eq(ethp2p_addr_format(&a.map.external_ip, false, ip, sizeof ip), "3fff:0:1::10");
  ck_assert_int_eq(router_holes(), 1);
  ck_assert_str_eq(ethp2p_addr_format(&R.holes[0].owner, false, ip, sizeof ip), "3fff:0:1::10");
  ck_assert_uint_eq(R.holes[0].port, 30303);
  ck_assert_uint_eq(R.holes[0].lease, 3600);
  /* The request came from our own address (routers check the owner). */
  ck_assert_str_eq(ethp2p_addr_format(&R.last_from, false, ip, sizeof ip), "3fff:0:1::10");

  /* external_ip: our own address, no request. */
  result e = {0};
  unsigned before = ethp2p_nat_upnp6_requests(n);
  ck_assert_int_eq(ethp2p_nat_external_ip(n, on_extip, &e), 0);
  ck_assert(wait_calls(&e, 1, 2000));
  ck_assert_int_eq(e.status, 0);
  ck_assert_str_eq(ethp2p_addr_format(&e.ip, false, ip, sizeof ip), "3fff:0:1::10");
  ck_assert_uint_eq(ethp2p_nat_upnp6_requests(n), before);

  /* A refresh is UpdatePinhole of the same UniqueID; lifetime 0 asks the longest lease. */
  result b = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_UDP, 0, 30303, "ethp2p", 0, on_map, &b),
                   0);
  ck_assert(wait_calls(&b, 1, 3000));
  ck_assert_int_eq(b.status, 0);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_UPDATE], 1);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 1);
  ck_assert_uint_eq(b.map.lifetime_s, 86400);
  ck_assert_uint_eq(R.holes[0].lease, 86400);
  ck_assert_int_eq(router_holes(), 1);

  /* A TCP pinhole on the same port is another pinhole. */
  result t = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, 30303, "ethp2p", 600, on_map, &t),
                   0);
  ck_assert(wait_calls(&t, 1, 3000));
  ck_assert_int_eq(t.status, 0);
  ck_assert_int_eq(router_holes(), 2);

  /* The router reboots and forgets: the refresh's UpdatePinhole gets 704, AddPinhole follows
   * within the same operation. */
  memset(R.holes, 0, sizeof R.holes);
  result c = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_UDP, 0, 30303, "ethp2p", 60, on_map, &c),
                   0);
  ck_assert(wait_calls(&c, 1, 3000));
  ck_assert_int_eq(c.status, 0);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_UPDATE], 2);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 3);
  ck_assert_int_eq(router_holes(), 1);

  /* Delete: DeletePinhole by UniqueID; deleting what we do not hold sends nothing. */
  result d = {0};
  ck_assert_int_eq(ethp2p_nat_delete_mapping(n, ETHP2P_PROTO_UDP, 30303, 30303, on_done, &d), 0);
  ck_assert(wait_calls(&d, 1, 3000));
  ck_assert_int_eq(d.status, 0);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_DELETE], 1);
  ck_assert_int_eq(router_holes(), 0);
  result d2 = {0};
  ck_assert_int_eq(ethp2p_nat_delete_mapping(n, ETHP2P_PROTO_UDP, 30303, 30303, on_done, &d2), 0);
  ck_assert(wait_calls(&d2, 1, 3000));
  ck_assert_int_eq(d2.status, 0);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_DELETE], 1);
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, 0, "x", 60, on_map, &d2),
                   ETHP2P_EINVAL);
  ethp2p_nat_destroy(n);
}
END_TEST

START_TEST(a_firewall_that_allows_no_pinholes_is_a_refusal_without_more_requests) {
  R.inbound_allowed = false;
  ethp2p_nat *n = nat_new();
  result a = {0}, b = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, 30303, "ethp2p", 600, on_map, &a),
                   0);
  ck_assert(wait_calls(&a, 1, 4000));
  ck_assert_int_eq(a.status, ETHP2P_EPERM);
  ck_assert_int_eq(a.map.router_code, 703);
  ck_assert_str_eq(a.map.router_msg, "InboundPinholeNotAllowed");
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_GET_FIREWALL_STATUS], 1);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 0);
  unsigned before = ethp2p_nat_upnp6_requests(n);
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, 30303, "ethp2p", 600, on_map, &b),
                   0);
  ck_assert(wait_calls(&b, 1, 2000));
  ck_assert_int_eq(b.status, ETHP2P_EPERM);
  ck_assert_uint_eq(ethp2p_nat_upnp6_requests(n), before);
  /* rediscover() asks again: the router changed its mind. */
  R.inbound_allowed = true;
  ethp2p_nat_rediscover(n);
  result c = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, 30303, "ethp2p", 600, on_map, &c),
                   0);
  ck_assert(wait_calls(&c, 1, 4000));
  ck_assert_int_eq(c.status, 0);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_GET_FIREWALL_STATUS], 2);
  ck_assert_int_eq(router_holes(), 1);
  ethp2p_nat_destroy(n);
}
END_TEST

START_TEST(a_spoofed_location_or_silence_finds_no_gateway) {
  R.spoof = true;
  ethp2p_nat *n = nat_new();
  result a = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_UDP, 0, 30303, "ethp2p", 600, on_map, &a),
                   0);
  ck_assert(wait_calls(&a, 1, 4000));
  ck_assert_int_eq(a.status, ETHP2P_ENOGATEWAY);
  ck_assert_uint_ge(R.searches, 1);
  ck_assert_uint_eq(R.gets, 0); /* the other host's description was never fetched */
  ck_assert_uint_eq(ethp2p_nat_upnp6_requests(n), 0);
  R.spoof = false;
  R.mute = true;
  result b = {0};
  uint64_t t0 = uv_hrtime();
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_UDP, 0, 30303, "ethp2p", 600, on_map, &b),
                   0);
  ck_assert(wait_calls(&b, 1, 4000));
  ck_assert_int_eq(b.status, ETHP2P_ENOGATEWAY);
  ck_assert_uint_ge(uv_hrtime() - t0, 1900u * 1000000u); /* the whole 2 s window */
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 0);
  ethp2p_nat_destroy(n);
}
END_TEST

START_TEST(destroy_with_operations_pending_runs_no_callback) {
  ethp2p_nat *n = nat_new();
  result a = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_UDP, 0, 30303, "ethp2p", 600, on_map, &a),
                   0);
  uv_run(&loop, UV_RUN_NOWAIT); /* discovery started */
  ethp2p_nat_destroy(n);
  ck_assert(!wait_calls(&a, 1, 500));
}
END_TEST

/* "any" over IPv6 (ethp2p_nat_create6): PCP has no router here (no IPv6 default route), so the
 * first pinhole comes from UPnP, which then serves everything. */
START_TEST(any_over_ipv6_falls_back_from_pcp_to_upnp_and_keeps_it) {
  ethp2p_nat_spec spec;
  ethp2p_nat *n = NULL;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "any", NULL, 0), 0);
  ck_assert_int_eq(ethp2p_nat_create6(env, &spec, &n), 0);
  ck_assert_str_eq(n->name, "any");
  result a = {0};
  ck_assert_int_eq(
      ethp2p_nat_add_mapping(n, ETHP2P_PROTO_UDP, 0, 30303, "ethp2p", 3600, on_map, &a), 0);
  ck_assert_int_eq(a.calls, 0);
  ck_assert(wait_calls(&a, 1, 8000));
  ck_assert_msg(a.status == 0, "status %s", ethp2p_err_name(a.status));
  ck_assert_str_eq(n->name, "UPnP-IPv6");
  ck_assert_uint_eq(n->caps & ETHP2P_NAT_CAP_MAP, ETHP2P_NAT_CAP_MAP);
  ck_assert_uint_eq(a.map.external_port, 30303);
  ck_assert_int_eq(router_holes(), 1);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 1);
  /* the winner serves the next operations directly */
  result b = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, 30303, "ethp2p", 600, on_map, &b),
                   0);
  ck_assert(wait_calls(&b, 1, 3000));
  ck_assert_int_eq(b.status, 0);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 2);
  ck_assert_int_eq(router_holes(), 2);
  result d = {0};
  ck_assert_int_eq(ethp2p_nat_delete_mapping(n, ETHP2P_PROTO_TCP, 30303, 30303, on_done, &d), 0);
  ck_assert(wait_calls(&d, 1, 3000));
  ck_assert_int_eq(d.status, 0);
  ck_assert_int_eq(router_holes(), 1);
  static const uint8_t key[32] = {7};
  ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(n, key), 0);
  /* destroy with an operation pending runs no callback */
  result p = {0};
  ck_assert_int_eq(ethp2p_nat_add_mapping(n, ETHP2P_PROTO_TCP, 0, 30304, "ethp2p", 600, on_map, &p),
                   0);
  ethp2p_nat_destroy(n);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(p.calls, 0);
}
END_TEST

static bool enter_private_namespace(void) {
  static const char *const steps[] = {
      "ip link set lo up",
      "ip addr add 3fff:0:2::1/128 dev lo nodad",
      "ip link add u6lan type veth peer name u6peer",
      "ip link set u6peer up",
      "ip link set u6lan up",
      "ip addr add 3fff:0:1::10/64 dev u6lan nodad",
  };
  if (unshare(CLONE_NEWNET) != 0) {
    fprintf(stderr, "check_nat_upnp6: skipped: cannot unshare (%s)\n", strerror(errno));
    return false;
  }
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "%s >/dev/null 2>&1", steps[i]);
    if (system(cmd) != 0) {
      fprintf(stderr, "check_nat_upnp6: skipped: \"%s\" failed\n", steps[i]);
      return false;
    }
  }
  return true;
}

static void log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                     const char *kv) {
  (void)data;
  (void)level;
  fprintf(stderr, "  [%s] %s %s\n", module, msg, kv);
}

int main(void) {
  if (getenv("UPNP6_TEST_LOG") != NULL)
    ethp2p_log_set_sink(log_sink, NULL, ETHP2P_LOG_DEBUG);
  if (!enter_private_namespace())
    return 77;
  Suite *s = suite_create("nat_upnp6");
  TCase *tc = tcase_create("upnp6");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, discovers_over_ff02_c_and_opens_renews_and_deletes_pinholes);
  tcase_add_test(tc, a_firewall_that_allows_no_pinholes_is_a_refusal_without_more_requests);
  tcase_add_test(tc, a_spoofed_location_or_silence_finds_no_gateway);
  tcase_add_test(tc, destroy_with_operations_pending_runs_no_callback);
  tcase_add_test(tc, any_over_ipv6_falls_back_from_pcp_to_upnp_and_keeps_it);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
