/*
 * tests/check_integration_doctor.c — `ethp2p nat doctor`'s probing core in the
 * simulated world: a home router running the gateway emulator (UPnP IGD,
 * NAT-PMP, PCP) on a NAT box, an RFC 5780 STUN server on a public host with
 * two addresses, and the doctor on a LAN host.  Checks the facts it gathers,
 * the JSON field names, and the verdict for: everything working; UPnP
 * disabled; no gateway at all; a router behind carrier-grade NAT (double NAT);
 * no STUN answer.
 *
 * The doctor is library code (ethp2p/doctor.h); the command is a thin libuv
 * wrapper around it, so this drives the same code through the public header.
 */
#include <jansson.h>

#include "check_gateway_fixture.h"
#include "ethp2p/doctor.h"
#include "nat/ssdp.h"
#include "support/nat_stun_server.h"

typedef struct stun_fx {
  ethp2p_sim_host *host;
  ethp2p_stun_server *srv;
} stun_fx;

static void stun_fx_setup(ethp2p_sim *sim, stun_fx *s) {
  ethp2p_addr p = ethp2p_addr_v4(30, 0, 0, 1, 3478), q = ethp2p_addr_v4(30, 0, 0, 2, 3479);
  ethp2p_stun_server_config sc;
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &s->host, "stun", &p), 0);
  ck_assert_int_eq(ethp2p_sim_host_add_iface(s->host, ethp2p_sim_internet(sim), &q, 0), 0);
  memset(&sc, 0, sizeof sc);
  sc.primary = p;
  sc.alternate = q;
  ck_assert_int_eq(ethp2p_stun_server_create(ethp2p_sim_host_env(s->host), &sc, &s->srv), 0);
}

typedef struct run {
  ethp2p_doctor *doc;
  const ethp2p_doctor_report *d; /* the report, borrowed from doc */
  int done;
} run;

/* The verdict with its words, as the old internal doctor_verdict() returned it. */
typedef struct doc_verdict {
  const char *answer;
  char reason[384];
  char advice[384];
} doc_verdict;

static doc_verdict doctor_verdict(const ethp2p_doctor_report *d) {
  ethp2p_doctor_verdict v;
  ethp2p_doctor_prose words;
  doc_verdict out;
  ethp2p_doctor_decide(d, &v);
  ethp2p_doctor_explain(d, &v, &words);
  out.answer = ethp2p_doctor_answer_name(v.answer);
  memcpy(out.reason, words.reason, sizeof out.reason);
  memcpy(out.advice, words.advice, sizeof out.advice);
  return out;
}

static ethp2p_doctor_extaddr doctor_extaddr(const ethp2p_doctor_report *d) {
  ethp2p_doctor_extaddr e;
  ethp2p_doctor_find_extaddr(d, &e);
  return e;
}

/* The JSON the command prints, parsed back. */
static json_t *doctor_json(const ethp2p_doctor_report *d) {
  size_t len = 0;
  ck_assert_int_eq(ethp2p_doctor_render_json(d, NULL, 0, &len), ETHP2P_ESPACE);
  char *text = malloc(len + 1);
  ck_assert_ptr_nonnull(text);
  ck_assert_int_eq(ethp2p_doctor_render_json(d, text, len + 1, &len), 0);
  ck_assert_uint_eq(strlen(text), len);
  json_error_t err;
  json_t *j = json_loads(text, 0, &err);
  ck_assert_msg(j != NULL, "JSON: %s", err.text);
  free(text);
  return j;
}

static void doctor_free(run *r) {
  ethp2p_doctor_destroy(r->doc);
  r->doc = NULL;
  r->d = NULL;
}

static void on_done_cb(ethp2p_doctor *d, void *data) {
  run *r = data;
  (void)d;
  r->done++;
}

static void doctor_run_sim(ethp2p_sim *sim, ethp2p_env *env, run *r, const char *nat,
                           bool with_stun) {
  ethp2p_doctor_config o;
  char err[64];
  memset(&o, 0, sizeof o);
  memset(r, 0, sizeof *r);
  o.port = 30303;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&o.spec, nat, err, sizeof err), 0);
  if (with_stun) {
    o.stun[0] = ethp2p_addr_v4(30, 0, 0, 1, 3478);
    o.n_stun = 1;
  }
  ethp2p_time t0 = ethp2p_sim_now(sim);
  ck_assert_int_eq(ethp2p_doctor_create(env, &o, &r->doc), 0);
  r->d = ethp2p_doctor_get_report(r->doc);
  ck_assert_int_eq(ethp2p_doctor_start(r->doc, on_done_cb, r), 0);
  for (int i = 0; i < 200 && r->done == 0; i++)
    ethp2p_sim_run(sim, 50 * ETHP2P_MSEC);
  ck_assert_int_eq(r->done, 1);
  /* Every probe is bounded: the whole report within the total budget. */
  ck_assert_uint_le(ethp2p_sim_now(sim) - t0, ETHP2P_DOCTOR_TOTAL_BUDGET + 100 * ETHP2P_MSEC);
}

static const char *jstr(json_t *root, const char *path1, const char *path2, const char *path3) {
  json_t *o = json_object_get(root, path1);
  if (path2 != NULL)
    o = json_object_get(o, path2);
  if (path3 != NULL)
    o = json_object_get(o, path3);
  return json_is_string(o) ? json_string_value(o) : "(none)";
}

START_TEST(home_router_with_all_protocols_is_reachable) {
  fx f;
  stun_fx s;
  run r;
  fx_setup(&f, NULL);
  stun_fx_setup(f.sim, &s);
  doctor_run_sim(f.sim, f.e1, &r, "any", true);
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    const ethp2p_doctor_gateway *p = &r.d->gateways[i];
    ck_assert_msg(p->probed && p->extip_status == 0, "%s: %s", p->key,
                  ethp2p_strerror(p->extip_status));
    ck_assert(ethp2p_addr_equal(&p->extip, &f.ext, false));
    for (int k = 0; k < 2; k++) {
      ck_assert_msg(p->map[k].tried && p->map[k].add_status == 0, "%s map %d: %s", p->key, k,
                    ethp2p_strerror(p->map[k].add_status));
      ck_assert_uint_eq(p->map[k].external_port, 30303);
      ck_assert(p->map[k].confirmed);
      ck_assert(p->map[k].deleted);
    }
  }
  /* The live tests cleaned up after themselves. */
  ck_assert_uint_eq(ethp2p_gw_mappings(f.gw, NULL, 0), 0);
  ck_assert(r.d->upnp.answered);
  ck_assert(r.d->upnp.desc_ok);
  ck_assert(strstr(r.d->upnp.device_type, "InternetGatewayDevice:2") != NULL);
  ck_assert_uint_gt(r.d->upnp.nservices, 0);
  /* The node's own discovery chose the service, and says why. */
  ck_assert(r.d->upnp.collected);
  ck_assert_uint_eq(r.d->upnp.devices_found, 1);
  ck_assert(strstr(r.d->upnp.chosen_service, "WANIPConnection") != NULL);
  ck_assert(strstr(r.d->upnp.choice, "at the default gateway, connected") != NULL);

  json_t *j = doctor_json(r.d);
  ck_assert_str_eq(jstr(j, "behavior", "mapping", NULL), "endpoint-independent");
  ck_assert_str_eq(jstr(j, "behavior", "filtering", NULL), "address-and-port-dependent");
  ck_assert_str_eq(jstr(j, "behavior", "allocation", NULL), "port-preserving");
  ck_assert_str_eq(jstr(j, "verdict", "reachable", NULL), "yes");
  ck_assert_str_eq(jstr(j, "verdict", "line", NULL),
                   "reachable from the internet on tcp/30303 and udp/30303: yes");
  ck_assert(json_is_true(
      json_object_get(json_object_get(json_object_get(j, "protocols"), "upnp"), "answered")));
  ck_assert_int_eq(json_integer_value(json_object_get(
                       json_object_get(json_object_get(j, "protocols"), "upnp"), "igd_version")),
                   2);
  ck_assert(json_is_true(
      json_object_get(json_object_get(json_object_get(j, "protocols"), "natpmp"), "answered")));
  ck_assert(json_is_true(
      json_object_get(json_object_get(json_object_get(j, "protocols"), "pcp"), "answered")));
  ck_assert(json_is_false(json_object_get(json_object_get(j, "external_address"), "double_nat")));
  json_decref(j);

  /* The screen. */
  size_t len = 0;
  ck_assert_int_eq(ethp2p_doctor_render_text(r.d, NULL, 0, &len), ETHP2P_ESPACE);
  char *buf = malloc(len + 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_int_eq(ethp2p_doctor_render_text(r.d, buf, len + 1, &len), 0);
  ck_assert(strstr(buf, "reachable from the internet on tcp/30303 and udp/30303: yes\n") != NULL);
  ck_assert(strstr(buf, "mapping      endpoint-independent") != NULL);
  free(buf);
  doctor_free(&r);
  ethp2p_stun_server_destroy(s.srv);
  fx_teardown(&f);
}
END_TEST

static void no_upnp(ethp2p_gw_config *cfg) {
  cfg->policy.upnp = false;
}

START_TEST(upnp_disabled_still_maps_with_nat_pmp) {
  fx f;
  run r;
  fx_setup(&f, no_upnp);
  doctor_run_sim(f.sim, f.e1, &r, "any", false);
  ck_assert_int_ne(r.d->gateways[ETHP2P_DOCTOR_UPNP].extip_status, 0);
  ck_assert(!r.d->upnp.answered);
  ck_assert_int_eq(r.d->gateways[ETHP2P_DOCTOR_PMP].extip_status, 0);
  doc_verdict v = doctor_verdict(r.d);
  ck_assert_str_eq(v.answer, "yes");
  ck_assert(strstr(v.reason, "NAT-PMP") != NULL || strstr(v.reason, "PCP") != NULL);
  json_t *j = doctor_json(r.d);
  ck_assert_str_eq(jstr(j, "behavior", "mapping", NULL), "unknown");
  ck_assert_str_eq(jstr(j, "behavior", "note", NULL), "unknown: no STUN server");
  json_decref(j);
  doctor_free(&r);
  fx_teardown(&f);
}
END_TEST

START_TEST(no_gateway_protocol_and_stun_nat_says_no_with_advice) {
  ethp2p_sim *sim;
  ethp2p_sim_nat *nat;
  ethp2p_sim_host *h;
  stun_fx s;
  run r;
  ck_assert_int_eq(ethp2p_sim_create(&sim, 77), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &nat, "dumb-router", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(nat, &h, "node", NULL), 0);
  stun_fx_setup(sim, &s);
  doctor_run_sim(sim, ethp2p_sim_host_env(h), &r, "any", true);
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++)
    ck_assert_int_ne(r.d->gateways[i].extip_status, 0);
  doc_verdict v = doctor_verdict(r.d);
  ck_assert_str_eq(v.answer, "no");
  ck_assert(strstr(v.reason, "no port-mapping protocol answered") != NULL);
  ck_assert(strstr(v.advice, "enable UPnP or NAT-PMP") != NULL);
  ck_assert(strstr(v.advice, "--nat extip:") != NULL);
  ethp2p_doctor_extaddr e = doctor_extaddr(r.d);
  ck_assert_str_eq(e.source, "stun");
  doctor_free(&r);
  ethp2p_stun_server_destroy(s.srv);
  ethp2p_sim_destroy(sim);
}
END_TEST

START_TEST(nothing_answers_gives_unknown) {
  ethp2p_sim *sim;
  ethp2p_sim_nat *nat;
  ethp2p_sim_host *h;
  run r;
  ck_assert_int_eq(ethp2p_sim_create(&sim, 78), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(sim, &nat, "dumb-router", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(nat, &h, "node", NULL), 0);
  doctor_run_sim(sim, ethp2p_sim_host_env(h), &r, "any", true); /* nobody at 30.0.0.1 */
  doc_verdict v = doctor_verdict(r.d);
  ck_assert_str_eq(v.answer, "unknown");
  ck_assert(strstr(v.reason, "no STUN server answered") != NULL);
  ck_assert_int_eq(r.d->profile.mapping, ETHP2P_NAT_POLICY_UNKNOWN);
  doctor_free(&r);
  ethp2p_sim_destroy(sim);
}
END_TEST

static void cgnat_ext(ethp2p_gw_config *cfg) {
  cfg->external_ip = ethp2p_addr_v4(100, 64, 3, 4, 0);
}

START_TEST(router_behind_carrier_grade_nat_is_flagged_double_nat) {
  fx f;
  stun_fx s;
  run r;
  fx_setup(&f, cgnat_ext);
  stun_fx_setup(f.sim, &s);
  doctor_run_sim(f.sim, f.e1, &r, "pmp", true);
  ck_assert(!r.d->gateways[ETHP2P_DOCTOR_UPNP].probed);
  ck_assert_int_eq(r.d->gateways[ETHP2P_DOCTOR_PMP].extip_status, 0);
  ethp2p_doctor_extaddr e = doctor_extaddr(r.d);
  ck_assert(e.cgnat);
  ck_assert(e.double_nat);
  ck_assert(e.disagrees); /* STUN sees the box's real outside address */
  doc_verdict v = doctor_verdict(r.d);
  ck_assert_str_eq(v.answer, "no");
  ck_assert(strstr(v.reason, "double NAT") != NULL);
  doctor_free(&r);
  ethp2p_stun_server_destroy(s.srv);
  fx_teardown(&f);
}
END_TEST

START_TEST(declared_extip_is_unknown_and_says_forward_by_hand) {
  fx f;
  run r;
  fx_setup(&f, NULL);
  doctor_run_sim(f.sim, f.e1, &r, "extip:20.0.0.1", false);
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++)
    ck_assert(!r.d->gateways[i].probed);
  doc_verdict v = doctor_verdict(r.d);
  ck_assert_str_eq(v.answer, "unknown");
  ck_assert(strstr(v.advice, "forwarded by hand") != NULL);
  doctor_free(&r);
  fx_teardown(&f);
}
END_TEST

/* A LAN host answering every search with a LOCATION on another host (the router).
 * The node's UPnP client ignores such a reply (nat/upnp.c), so the doctor must not
 * report it either: before the doctor shared the client's rules it showed this
 * "device" as the router's UPnP. */
typedef struct rogue {
  ethp2p_udp *udp;
  int searches;
} rogue;

static void rogue_on_search(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf,
                            size_t len, void *data) {
  rogue *g = data;
  ethp2p_ssdp_search q;
  ethp2p_ssdp_reply r;
  uint8_t out[1024];
  size_t n;
  if (ethp2p_ssdp_search_parse(&q, buf, len, NULL) != 0)
    return;
  g->searches++;
  memset(&r, 0, sizeof r);
  r.status = 200;
  r.max_age = 120;
  snprintf(r.location, sizeof r.location, "%s", "http://192.168.1.1:5000/rootDesc.xml");
  snprintf(r.st, sizeof r.st, "%s", q.st);
  snprintf(r.server, sizeof r.server, "%s", "rogue/1.0 UPnP/1.1");
  ck_assert_int_eq(ethp2p_ssdp_reply_build(out, sizeof out, &n, &r), 0);
  ck_assert_int_eq(ethp2p_udp_send(udp, from, out, n), 0);
}

START_TEST(ssdp_reply_with_location_on_another_host_is_not_a_router) {
  fx f;
  run r;
  rogue g = {0};
  ethp2p_addr group = ethp2p_addr_v4(239, 255, 255, 250, 1900);
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 1900);
  fx_setup(&f, no_upnp);
  ck_assert_int_eq(ethp2p_udp_open(f.e2, &g.udp, &any, ETHP2P_UDP_REUSEADDR, rogue_on_search, &g),
                   0);
  ck_assert_int_eq(ethp2p_udp_join(g.udp, &group, NULL), 0);
  doctor_run_sim(f.sim, f.e1, &r, "upnp", false);
  ck_assert_int_gt(g.searches, 0); /* the doctor did search, and bob answered */
  ck_assert(!r.d->upnp.answered);
  ck_assert_int_ne(r.d->gateways[ETHP2P_DOCTOR_UPNP].extip_status, 0);
  json_t *j = doctor_json(r.d);
  ck_assert(json_is_false(
      json_object_get(json_object_get(json_object_get(j, "protocols"), "upnp"), "ssdp_answered")));
  json_decref(j);
  doctor_free(&r);
  ethp2p_udp_close(g.udp);
  fx_teardown(&f);
}
END_TEST

int main(void) {
  Suite *s = suite_create("integration_doctor");
  TCase *tc = tcase_create("doctor");
  SRunner *sr;
  int failed;
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, home_router_with_all_protocols_is_reachable);
  tcase_add_test(tc, upnp_disabled_still_maps_with_nat_pmp);
  tcase_add_test(tc, no_gateway_protocol_and_stun_nat_says_no_with_advice);
  tcase_add_test(tc, nothing_answers_gives_unknown);
  tcase_add_test(tc, router_behind_carrier_grade_nat_is_flagged_double_nat);
  tcase_add_test(tc, declared_extip_is_unknown_and_says_forward_by_hand);
  tcase_add_test(tc, ssdp_reply_with_location_on_another_host_is_not_a_router);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
