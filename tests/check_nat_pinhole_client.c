/*
 * tests/check_nat_pinhole_client.c — the pinhole client (nat/pinhole.h) against an in-process
 * WANIPv6FirewallControl:1 router that is as strict as miniupnpd: pinholes keyed by UniqueID,
 * AddPinhole only for the control point's own address (606 otherwise), UpdatePinhole and
 * DeletePinhole only from the pinhole's owner (606), unknown UniqueID 704, leases 1..86400.
 *
 * The suite moves itself into a private network namespace with the addresses 3fff::1 (the
 * router) and 3fff::10, 3fff::11 (ours) on lo, so our address can change under the client.
 * Needs root (unshare, ip): exits 77, skipped, without it.
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
#include "nat/http.h"
#include "nat/pinhole.h"
#include "nat/xml.h"

static uv_loop_t loop;
static ethp2p_env *env;

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
  bool hold; /* keep the next request unanswered until router_release */
  struct conn *held;
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
    if (!ethp2p_addr_equal(&client, peer, false) || atoi(ip) < 1024) {
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
    R.holes[i] = (hole){true, ++R.next_id, client, (unsigned)atoi(ip), (unsigned)lease};
    snprintf(idtxt, sizeof idtxt, "%u", R.holes[i].id);
    out[nout++] = (ethp2p_soap_field){"UniqueID", idtxt};
  } else if (a == ETHP2P_PINHOLE_GET_FIREWALL_STATUS) {
    /* This router filters but does not let control points in: InboundPinholeAllowed 0. */
    static ethp2p_soap_field st[2] = {{"FirewallEnabled", "1"}, {"InboundPinholeAllowed", "0"}};
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
    if (R.held == c)
      R.held = NULL;
    ethp2p_http_parser_close(&c->parser);
    ethp2p_tcp_close(t);
    free(c);
    return;
  }
  size_t used = 0;
  if (ethp2p_http_parser_feed(&c->parser, buf, len, &used, NULL) != 1)
    return;
  if (R.hold) {
    R.hold = false;
    R.held = c;
    return;
  }
  answer(c);
}

static void router_release(void) {
  ck_assert_ptr_nonnull(R.held);
  conn *c = R.held;
  R.held = NULL;
  answer(c);
}

static void answer(conn *c) {
  ethp2p_tcp *t = c->tcp;
  const ethp2p_http_msg *req = &c->parser.msg;
  ethp2p_soap_msg *m = calloc(1, sizeof *m);
  char body[2048];
  size_t body_len = 0, out_len = 0;
  uint8_t out[4096];
  int st;
  if (ethp2p_soap_request_parse(m, (const char *)req->body, req->body_len, NULL) == 0)
    st = handle(m, &c->peer, body, sizeof body, &body_len);
  else
    st = 400, body_len = 0;
  free(m);
  ck_assert_int_eq(ethp2p_http_response_build(out, sizeof out, &out_len, st,
                                              st == 200 ? "OK" : "Internal Server Error", NULL, 0,
                                              (const uint8_t *)body, body_len, 0),
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

static void router_start(void) {
  memset(&R, 0, sizeof R);
  ethp2p_addr at = ip6("3fff::1");
  at.port = 5000;
  ck_assert_int_eq(ethp2p_tcp_listen(env, &R.listener, &at, router_accept, NULL), 0);
}

static void router_stop(void) {
  ethp2p_tcp_close(R.listener);
  R.listener = NULL;
}

static int router_holes(void) {
  int n = 0;
  for (int i = 0; i < MAX_HOLES; i++)
    n += R.holes[i].used;
  return n;
}

/* ---- the client side -------------------------------------------------------- */
static ethp2p_addr ours; /* what the local-address hook answers now */

static int our_addr(ethp2p_env *e, const ethp2p_addr *router, ethp2p_addr *out, void *data) {
  (void)e;
  (void)data;
  ck_assert_uint_eq(router->family, 6);
  *out = ours;
  return 0;
}

typedef struct ev_log {
  ethp2p_pinhole_info last;
  int count[8];
} ev_log;

static void on_event(ethp2p_pinhole *p, const ethp2p_pinhole_info *info, void *data) {
  (void)p;
  ev_log *l = data;
  l->last = *info;
  l->count[info->event]++;
}

static void on_guard(uv_timer_t *t) {
  (void)t;
}

static bool wait_event(ev_log *l, ethp2p_pinhole_event ev, int count, unsigned ms) {
  uv_timer_t guard;
  uint64_t limit = uv_hrtime() + (uint64_t)ms * 1000000u;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 5, 5);
  while (l->count[ev] < count && uv_hrtime() < limit)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return l->count[ev] >= count;
}

static ethp2p_pinhole_config config(uint32_t lease) {
  ethp2p_pinhole_config cfg = {.control_url = "http://[3fff::1]:5000/ctl/IP6FCtl",
                               .protocol = ETHP2P_PINHOLE_UDP,
                               .port = 30303,
                               .lease_s = lease,
                               .timeout = 2 * ETHP2P_SEC,
                               .local_addr = our_addr};
  return cfg;
}

static void setup(void) {
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, &env), 0);
  ours = ip6("3fff::10");
  router_start();
}

static void teardown(void) {
  if (R.listener != NULL)
    router_stop();
  uv_run(&loop, UV_RUN_NOWAIT);
  ethp2p_uvenv_destroy(env);
  env = NULL;
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}

START_TEST(bad_configurations_are_refused) {
  ethp2p_pinhole *p = (ethp2p_pinhole *)&p;
  ethp2p_pinhole_config cfg = config(0);
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, NULL), ETHP2P_ERANGE);
  ck_assert_ptr_null(p);
  cfg = config(86401);
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, NULL), ETHP2P_ERANGE);
  cfg = config(60);
  cfg.control_url = "http://router.lan:5000/ctl/IP6FCtl"; /* no name resolution here */
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, NULL), ETHP2P_EINVAL);
  cfg.control_url = "http://192.168.1.1:5000/ctl/IP6FCtl"; /* an IPv4 router */
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, NULL), ETHP2P_EINVAL);
  cfg = config(60);
  cfg.port = 0;
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, NULL), ETHP2P_EINVAL);
  cfg = config(60);
  cfg.protocol = 1;
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, NULL), ETHP2P_EINVAL);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 0);
}
END_TEST

START_TEST(firewall_status_is_read_without_a_pinhole) {
  ev_log L = {0};
  ethp2p_pinhole *p = NULL;
  ethp2p_pinhole_config cfg = config(60);
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, &L), 0);
  ck_assert_int_eq(ethp2p_pinhole_firewall_status(p), 0);
  ck_assert_int_eq(ethp2p_pinhole_firewall_status(p), ETHP2P_EBUSY);
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_STATUS, 1, 3000));
  ck_assert_int_eq(L.last.status, 0);
  ck_assert(L.last.firewall_enabled);
  ck_assert(!L.last.inbound_pinhole_allowed);
  ck_assert(ethp2p_addr_equal(&R.last_from, &ours, false));
  ck_assert(!ethp2p_pinhole_is_open(p, NULL));
  ck_assert_int_eq(ethp2p_pinhole_check(p), ETHP2P_ESTATE);
  ethp2p_pinhole_free(p);
}
END_TEST

START_TEST(a_changed_address_moves_the_pinhole_at_renewal) {
  ev_log L = {0};
  ethp2p_pinhole *p = NULL;
  ethp2p_pinhole_config cfg = config(3); /* renewal after 2 s */
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, &L), 0);
  ck_assert_int_eq(ethp2p_pinhole_start(p), 0);
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_OPENED, 1, 3000));
  ck_assert(ethp2p_addr_equal(&L.last.internal, &ours, false));
  ck_assert_uint_eq(L.last.internal.port, 30303);
  ck_assert_uint_eq(router_holes(), 1);
  ck_assert_uint_eq(R.holes[0].port, 30303);
  uint16_t first = L.last.unique_id;
  /* The address moves (a new prefix, the old one gone from use): the next request reads it. */
  ethp2p_addr old = ours;
  ours = ip6("3fff::11");
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_OPENED, 2, 4000));
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_DELETE], 1); /* the stale one, from its owner */
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_UPDATE], 0);
  ck_assert_uint_eq(router_holes(), 1);
  ck_assert(ethp2p_addr_equal(&L.last.internal, &ours, false));
  ck_assert(!ethp2p_addr_equal(&L.last.internal, &old, false));
  ck_assert_uint_ne(L.last.unique_id, first);
  ck_assert(ethp2p_addr_equal(&R.last_from, &ours, false));
  ck_assert_int_eq(L.count[ETHP2P_PINHOLE_EV_FAILED], 0);
  /* Unchanged address: a plain UpdatePinhole from it. */
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_RENEWED, 1, 4000));
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_UPDATE], 1);
  ck_assert(ethp2p_addr_equal(&R.last_from, &ours, false));
  ck_assert_int_eq(ethp2p_pinhole_delete(p), 0);
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_DELETED, 1, 3000));
  ck_assert_int_eq(L.last.status, 0);
  ck_assert_uint_eq(router_holes(), 0);
  ck_assert_int_eq(ethp2p_pinhole_delete(p), ETHP2P_ESTATE);
  ethp2p_pinhole_free(p);
}
END_TEST

START_TEST(a_renewal_due_while_a_query_is_in_flight_still_happens) {
  ev_log L = {0};
  ethp2p_pinhole *p = NULL;
  ethp2p_pinhole_config cfg = config(3); /* renewal after 2 s */
  cfg.timeout = 5 * ETHP2P_SEC;
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, &L), 0);
  ck_assert_int_eq(ethp2p_pinhole_start(p), 0);
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_OPENED, 1, 3000));
  R.hold = true;
  ck_assert_int_eq(ethp2p_pinhole_firewall_status(p), 0);
  /* The renewal comes due while the router sits on the query... */
  ck_assert(!wait_event(&L, ETHP2P_PINHOLE_EV_STATUS, 1, 2500));
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_UPDATE], 0);
  router_release();
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_STATUS, 1, 2000));
  /* ...and is sent once the query is answered, not dropped. */
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_RENEWED, 1, 2500));
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_UPDATE], 1);
  ethp2p_pinhole_free(p);
}
END_TEST

START_TEST(a_router_that_forgot_the_pinhole_gets_a_new_add) {
  ev_log L = {0};
  ethp2p_pinhole *p = NULL;
  ethp2p_pinhole_config cfg = config(3);
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, &L), 0);
  ck_assert_int_eq(ethp2p_pinhole_start(p), 0);
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_OPENED, 1, 3000));
  memset(R.holes, 0, sizeof R.holes); /* a router reboot */
  ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_OPENED, 2, 4000));
  ck_assert_int_eq(L.count[ETHP2P_PINHOLE_EV_FAILED], 1);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_UPDATE], 1);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], 2);
  ck_assert_uint_eq(router_holes(), 1);
  ethp2p_pinhole_free(p);
}
END_TEST

START_TEST(a_router_that_is_gone_is_retried_and_a_refusal_is_not) {
  ev_log L = {0};
  ethp2p_pinhole *p = NULL;
  ethp2p_pinhole_config cfg = config(60);
  router_stop();
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, &L), 0);
  int rc = ethp2p_pinhole_start(p);
  if (rc == 0)
    ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_FAILED, 1, 3000));
  else
    ck_assert_int_eq(rc, ETHP2P_ECONNREFUSED);
  if (rc == 0) {
    ck_assert_int_eq(L.last.status, ETHP2P_ECONNREFUSED);
    ck_assert(L.last.retrying);
    /* The router comes back before the 5 s retry: the retry opens the pinhole. */
    router_start();
    ck_assert(wait_event(&L, ETHP2P_PINHOLE_EV_OPENED, 1, 8000));
  }
  ethp2p_pinhole_free(p);
  /* A refusal that retrying cannot change (606: miniupnpd keeps ports below 1024 from
   * unauthenticated control points, and so does this router) stops the client. */
  ev_log M = {0};
  cfg = config(60);
  cfg.port = 80;
  if (R.listener == NULL)
    router_start();
  int adds = R.requests[ETHP2P_PINHOLE_ADD];
  ck_assert_int_eq(ethp2p_pinhole_new(env, &p, &cfg, on_event, &M), 0);
  ck_assert_int_eq(ethp2p_pinhole_start(p), 0);
  ck_assert(wait_event(&M, ETHP2P_PINHOLE_EV_FAILED, 1, 3000));
  ck_assert_int_eq(M.last.status, ETHP2P_EPERM);
  ck_assert_int_eq(M.last.upnp_code, 606);
  ck_assert(!M.last.retrying);
  ck_assert_int_eq(R.requests[ETHP2P_PINHOLE_ADD], adds + 1);
  ck_assert(!ethp2p_pinhole_is_open(p, NULL));
  ethp2p_pinhole_free(p);
}
END_TEST

static bool enter_private_namespace(void) {
  static const char *const steps[] = {
      "ip link set lo up",
      "ip addr add 3fff::1/128 dev lo nodad",
      "ip addr add 3fff::10/128 dev lo nodad",
      "ip addr add 3fff::11/128 dev lo nodad",
  };
  if (unshare(CLONE_NEWNET) != 0) {
    fprintf(stderr, "check_nat_pinhole_client: skipped: cannot unshare (%s)\n", strerror(errno));
    return false;
  }
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "%s >/dev/null 2>&1", steps[i]);
    if (system(cmd) != 0) {
      fprintf(stderr, "check_nat_pinhole_client: skipped: \"%s\" failed\n", steps[i]);
      return false;
    }
  }
  return true;
}

int main(void) {
  if (!enter_private_namespace())
    return 77;
  Suite *s = suite_create("nat_pinhole_client");
  TCase *tc = tcase_create("client");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, bad_configurations_are_refused);
  tcase_add_test(tc, firewall_status_is_read_without_a_pinhole);
  tcase_add_test(tc, a_changed_address_moves_the_pinhole_at_renewal);
  tcase_add_test(tc, a_renewal_due_while_a_query_is_in_flight_still_happens);
  tcase_add_test(tc, a_router_that_forgot_the_pinhole_gets_a_new_add);
  tcase_add_test(tc, a_router_that_is_gone_is_retried_and_a_refusal_is_not);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
