/* tests/check_gateway_upnp.c — the gateway's UPnP IGD side in the simulated world:
 * SSDP responder, bounded HTTP server, descriptions and SOAP control with exact
 * fault codes, quirks, and a granted mapping letting outside TCP in. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_gateway_fixture.h"
#include "ethp2p/log.h"
#include "nat/gateway/gw_internal.h" /* white-box: tests change the policy at run time */
#include "nat/http.h"
#include "nat/pcp_codec.h"
#include "nat/ssdp.h"
#include "nat/xml.h"

static fx F;

static void setup(void) {
  fx_setup(&F, NULL);
}
static void teardown(void) {
  fx_teardown(&F);
}
static void v1(ethp2p_gw_config *c) {
  c->policy.igd_version = 1;
}
static void setup_v1(void) {
  fx_setup(&F, v1);
}

/* ---- a raw TCP client on a simulated host ------------------------------------------ */

typedef struct tc {
  ethp2p_tcp *tcp;
  int connected; /* 1 ok, -1 failed */
  int closed;    /* peer ended the stream */
  uint8_t buf[65536];
  size_t len;
} tc;

static void tc_read(ethp2p_tcp *t, int status, const uint8_t *buf, size_t len, void *d) {
  tc *c = d;
  (void)t;
  if (status != 0) {
    c->closed = 1;
    return;
  }
  if (len > sizeof c->buf - c->len)
    len = sizeof c->buf - c->len;
  memcpy(c->buf + c->len, buf, len);
  c->len += len;
}

static void tc_connected(ethp2p_tcp *t, int status, void *d) {
  tc *c = d;
  c->connected = status == 0 ? 1 : -1;
  if (status == 0)
    ethp2p_tcp_read_start(t, tc_read, c);
}

static tc *tc_open(ethp2p_env *env, ethp2p_addr to) {
  tc *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(ethp2p_tcp_connect(env, &c->tcp, &to, NULL, tc_connected, c), 0);
  return c;
}

static void tc_free(tc *c) {
  ethp2p_tcp_close(c->tcp);
  free(c);
}

static ethp2p_addr http_addr(void) {
  ethp2p_addr a = F.gwaddr;
  a.port = ethp2p_gw_http_port(F.gw);
  return a;
}

/* Sends raw bytes on a new connection and runs until the server closes (or 10 s). */
static tc *raw_exchange(ethp2p_env *env, const void *req, size_t len) {
  tc *c = tc_open(env, http_addr());
  for (int i = 0; i < 100 && c->connected == 0; i++)
    ethp2p_sim_run(F.sim, 10 * ETHP2P_MSEC);
  ck_assert_int_eq(c->connected, 1);
  if (len > 0)
    ck_assert_int_eq(ethp2p_tcp_write(c->tcp, req, len), 0);
  for (int i = 0; i < 1000 && !c->closed; i++)
    ethp2p_sim_run(F.sim, 10 * ETHP2P_MSEC);
  return c;
}

/* Parses c's bytes as one HTTP response into p (caller closes p). */
static void parse_response(tc *c, ethp2p_http_parser *p) {
  ethp2p_http_parser_init(p, ETHP2P_HTTP_RESPONSE, 65536, false);
  int rc = ethp2p_http_parser_feed(p, c->buf, c->len, NULL, NULL);
  if (rc == 0)
    rc = ethp2p_http_parser_eof(p, NULL);
  ck_assert_int_eq(rc, 1);
}

static int http_get(ethp2p_env *env, const char *path, char *body, size_t cap) {
  uint8_t req[512];
  size_t len;
  ethp2p_http_field f[] = {{"Host", "192.168.1.1"}};
  ethp2p_http_parser p;
  ck_assert_int_eq(ethp2p_http_request_build(req, sizeof req, &len, "GET", path, f, 1, NULL, 0, 0),
                   0);
  tc *c = raw_exchange(env, req, len);
  parse_response(c, &p);
  int status = p.msg.status;
  if (body != NULL) {
    size_t n = p.msg.body_len < cap - 1 ? p.msg.body_len : cap - 1;
    memcpy(body, p.msg.body, n);
    body[n] = '\0';
  }
  ethp2p_http_parser_close(&p);
  tc_free(c);
  return status;
}

/* ---- SOAP ---------------------------------------------------------------------------- */

typedef struct soap_result {
  int http_status;
  int fault; /* UPnP error code, 0 on success */
  ethp2p_soap_msg msg;
  bool chunked;
  char raw[8192];
} soap_result;

static const char *wanip(void) {
  return gw_desc_wanip_urn(F.gw);
}

static void soap_build(uint8_t *req, size_t cap, size_t *len, const char *action,
                       const ethp2p_soap_field *args, size_t nargs) {
  char body[4096], act[256];
  size_t blen;
  ck_assert_int_eq(
      ethp2p_soap_request_build(body, sizeof body, &blen, wanip(), action, args, nargs), 0);
  ck_assert_int_eq(ethp2p_soap_action_header(act, sizeof act, wanip(), action), 0);
  ethp2p_http_field f[] = {{"Host", "192.168.1.1:5000"},
                           {"Content-Type", "text/xml; charset=\"utf-8\""},
                           {"SOAPAction", act}};
  ck_assert_int_eq(ethp2p_http_request_build(req, cap, len, "POST", GW_PATH_CTL_IP, f, 3,
                                             (const uint8_t *)body, blen, 0),
                   0);
}

static void soap_finish(tc *c, const char *action, soap_result *r) {
  ethp2p_http_parser p;
  memset(r, 0, sizeof *r);
  parse_response(c, &p);
  r->http_status = p.msg.status;
  r->chunked = p.msg.framing == ETHP2P_HTTP_FRAMING_CHUNKED;
  size_t n = p.msg.body_len < sizeof r->raw - 1 ? p.msg.body_len : sizeof r->raw - 1;
  memcpy(r->raw, p.msg.body, n);
  int rc =
      ethp2p_soap_response_parse(&r->msg, action, (const char *)p.msg.body, p.msg.body_len, NULL);
  if (rc == ETHP2P_EREFUSED)
    r->fault = r->msg.upnp_error_code;
  else if (rc != ETHP2P_ETOOBIG) /* a PortListing outgrows the client's 256-byte values */
    ck_assert_int_eq(rc, 0);
  ethp2p_http_parser_close(&p);
}

static void soap_call(ethp2p_env *env, const char *action, const ethp2p_soap_field *args,
                      size_t nargs, soap_result *r) {
  uint8_t req[8192];
  size_t len;
  soap_build(req, sizeof req, &len, action, args, nargs);
  tc *c = raw_exchange(env, req, len);
  soap_finish(c, action, r);
  tc_free(c);
}

static const char *arg(const soap_result *r, const char *name) {
  const char *v = ethp2p_soap_msg_arg(&r->msg, name);
  ck_assert_ptr_nonnull(v);
  return v;
}

static void add_pm(ethp2p_env *env, const char *client, const char *ext, const char *in,
                   const char *proto, const char *lease, soap_result *r) {
  ethp2p_soap_field a[] = {
      {"NewRemoteHost", ""},
      {"NewExternalPort", ext},
      {"NewProtocol", proto},
      {"NewInternalPort", in},
      {"NewInternalClient", client},
      {"NewEnabled", "1"},
      {"NewPortMappingDescription", "test"},
      {"NewLeaseDuration", lease},
  };
  soap_call(env, "AddPortMapping", a, 8, r);
}

static void add_any(ethp2p_env *env, const char *client, const char *ext, const char *in,
                    soap_result *r) {
  ethp2p_soap_field a[] = {
      {"NewRemoteHost", ""},
      {"NewExternalPort", ext},
      {"NewProtocol", "TCP"},
      {"NewInternalPort", in},
      {"NewInternalClient", client},
      {"NewEnabled", "1"},
      {"NewPortMappingDescription", "any"},
      {"NewLeaseDuration", "3600"},
  };
  soap_call(env, "AddAnyPortMapping", a, 8, r);
}

#define H1 "192.168.1.2"
#define H2 "192.168.1.3"

/* ---- SSDP ------------------------------------------------------------------------------ */

static int ssdp_search(const char *st, bool unicast, ethp2p_ssdp_reply *last) {
  fx_udp u;
  ethp2p_ssdp_search s;
  uint8_t buf[ETHP2P_SSDP_MAX_LEN];
  size_t len;
  ethp2p_addr to = unicast ? F.gwaddr : ethp2p_addr_v4(239, 255, 255, 250, 1900);
  to.port = 1900;
  memset(&s, 0, sizeof s);
  snprintf(s.st, sizeof s.st, "%s", st);
  s.mx = unicast ? -1 : 1;
  ck_assert_int_eq(ethp2p_ssdp_search_build(buf, sizeof buf, &len, &s), 0);
  fx_udp_open(&u, F.e1, 0);
  ck_assert_int_eq(ethp2p_udp_send(u.udp, &to, buf, len), 0);
  ethp2p_sim_run(F.sim, 2 * ETHP2P_SEC);
  if (u.n > 0 && last != NULL) {
    ck_assert_int_eq(ethp2p_ssdp_reply_parse(last, u.buf, u.len, NULL), 0);
    ck_assert(ethp2p_addr_equal(&u.from, &F.gwaddr, false));
  }
  ethp2p_udp_close(u.udp);
  return u.n;
}

START_TEST(ssdp_igd_search_gets_unicast_reply_with_location) {
  ethp2p_ssdp_reply r;
  ck_assert_int_eq(ssdp_search(ETHP2P_SSDP_ST_IGD1, false, &r), 1);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.location, "http://192.168.1.1:5000/rootDesc.xml");
  /* A v2 device answers a v1 search with the version asked (UDA 1.1 §1.3.2). */
  ck_assert_str_eq(r.st, ETHP2P_SSDP_ST_IGD1);
  ck_assert_str_eq(r.usn, "uuid:4d696e69-5550-6e50-0000-000000000001::" ETHP2P_SSDP_ST_IGD1);
  ck_assert_uint_eq(r.max_age, 120);
  ck_assert_int_eq(ssdp_search(ETHP2P_SSDP_ST_IGD2, false, &r), 1);
  ck_assert_str_eq(r.st, ETHP2P_SSDP_ST_IGD2);
  ck_assert_int_eq(ssdp_search(ETHP2P_SSDP_ST_WANCONN2, false, &r), 1);
  ck_assert_int_eq(ssdp_search("urn:schemas-upnp-org:service:WANIPConnection:1", false, &r), 1);
  ck_assert_int_eq(ssdp_search("urn:schemas-upnp-org:device:WANDevice:1", true, &r), 1);
}
END_TEST

START_TEST(ssdp_all_rootdevice_and_unknown_targets) {
  ethp2p_ssdp_reply r;
  ck_assert_int_eq(ssdp_search("ssdp:all", false, NULL), 10);
  ck_assert_int_eq(ssdp_search("upnp:rootdevice", false, &r), 1);
  ck_assert_str_eq(r.st, "upnp:rootdevice");
  ck_assert_int_eq(ssdp_search("uuid:4d696e69-5550-6e50-0000-000000000001", false, &r), 1);
  ck_assert_int_eq(ssdp_search("urn:schemas-upnp-org:service:WANIPConnection:3", false, NULL), 0);
  ck_assert_int_eq(ssdp_search("urn:schemas-upnp-org:device:MediaServer:1", false, NULL), 0);
}
END_TEST

START_TEST(ssdp_v1_device_ignores_v2_searches) {
  ethp2p_ssdp_reply r;
  ck_assert_int_eq(ssdp_search(ETHP2P_SSDP_ST_IGD2, false, NULL), 0);
  ck_assert_int_eq(ssdp_search(ETHP2P_SSDP_ST_IGD1, false, &r), 1);
}
END_TEST

START_TEST(ssdp_ignores_searches_from_outside_the_lan) {
  fx_udp u;
  ethp2p_ssdp_search sr;
  uint8_t buf[ETHP2P_SSDP_MAX_LEN];
  size_t len;
  ethp2p_addr to = F.ext;
  to.port = 1900;
  memset(&sr, 0, sizeof sr);
  snprintf(sr.st, sizeof sr.st, "ssdp:all");
  sr.mx = -1;
  ck_assert_int_eq(ethp2p_ssdp_search_build(buf, sizeof buf, &len, &sr), 0);
  fx_udp_open(&u, F.ewan, 0);
  ck_assert_int_eq(ethp2p_udp_send(u.udp, &to, buf, len), 0);
  ethp2p_sim_run(F.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(u.n, 0);
  ethp2p_udp_close(u.udp);
}
END_TEST

START_TEST(ssdp_junk_is_ignored) {
  fx_udp u;
  ethp2p_addr to = ethp2p_addr_v4(239, 255, 255, 250, 1900);
  fx_udp_open(&u, F.e1, 0);
  ethp2p_udp_send(u.udp, &to, (const uint8_t *)"NOTIFY * HTTP/1.1\r\n\r\n", 21);
  ethp2p_udp_send(u.udp, &to, (const uint8_t *)"\x00\xff garbage", 10);
  ethp2p_sim_run(F.sim, 2 * ETHP2P_SEC);
  ck_assert_int_eq(u.n, 0);
  ethp2p_udp_close(u.udp);
  ck_assert_int_eq(ssdp_search("upnp:rootdevice", false, NULL), 1);
}
END_TEST

/* ---- descriptions -------------------------------------------------------------------- */

START_TEST(root_description_lists_wanip_service) {
  static char body[65536];
  ethp2p_upnp_desc d;
  ck_assert_int_eq(http_get(F.e1, "/rootDesc.xml", body, sizeof body), 200);
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, body, strlen(body), NULL), 0);
  ck_assert_str_eq(d.root_device_type, ETHP2P_SSDP_ST_IGD2);
  ck_assert_uint_eq(d.nservices, 1);
  ck_assert_int_eq(d.services[0].kind, ETHP2P_UPNP_SVC_KIND_WANIP2);
  ck_assert_str_eq(d.services[0].control_url, GW_PATH_CTL_IP);
  ck_assert_int_eq(http_get(F.e1, GW_PATH_SCPD_IP, body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "<name>AddAnyPortMapping</name>"));
  ck_assert_int_eq(http_get(F.e1, GW_PATH_SCPD_CIF, body, sizeof body), 200);
  ck_assert_int_eq(http_get(F.e1, "/nope.xml", NULL, 0), 404);
}
END_TEST

/* ---- SOAP actions ---------------------------------------------------------------------- */

START_TEST(soap_external_ip_status_and_natrsip) {
  soap_result r;
  char ip[ETHP2P_ADDRSTRLEN];
  soap_call(F.e1, "GetExternalIPAddress", NULL, 0, &r);
  ck_assert_int_eq(r.http_status, 200);
  ck_assert_str_eq(arg(&r, "NewExternalIPAddress"),
                   ethp2p_addr_format(&F.ext, false, ip, sizeof ip));
  soap_call(F.e1, "GetStatusInfo", NULL, 0, &r);
  ck_assert_str_eq(arg(&r, "NewConnectionStatus"), "Connected");
  soap_call(F.e1, "GetNATRSIPStatus", NULL, 0, &r);
  ck_assert_str_eq(arg(&r, "NewNATEnabled"), "1");
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_NO_NATRSIP);
  soap_call(F.e1, "GetNATRSIPStatus", NULL, 0, &r);
  ck_assert_int_eq(r.http_status, 500);
  ck_assert_int_eq(r.fault, 401);
  soap_call(F.e1, "FrobnicatePortMapping", NULL, 0, &r);
  ck_assert_int_eq(r.fault, 401);
}
END_TEST

START_TEST(soap_add_get_list_delete_round_trip) {
  soap_result r;
  add_pm(F.e1, H1, "4000", "4001", "TCP", "3600", &r);
  ck_assert_int_eq(r.http_status, 200);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_ADDED), 1);
  ck_assert_int_eq(F.mappings[0].origin, ETHP2P_GW_UPNP);
  ck_assert_str_eq(F.mappings[0].desc, "test");
  ethp2p_soap_field spec[] = {
      {"NewRemoteHost", ""}, {"NewExternalPort", "4000"}, {"NewProtocol", "TCP"}};
  soap_call(F.e1, "GetSpecificPortMappingEntry", spec, 3, &r);
  ck_assert_str_eq(arg(&r, "NewInternalPort"), "4001");
  ck_assert_str_eq(arg(&r, "NewInternalClient"), H1);
  ck_assert_str_eq(arg(&r, "NewPortMappingDescription"), "test");
  ck_assert_str_eq(arg(&r, "NewLeaseDuration"), "3600");
  ethp2p_soap_field idx0[] = {{"NewPortMappingIndex", "0"}};
  soap_call(F.e1, "GetGenericPortMappingEntry", idx0, 1, &r);
  ck_assert_str_eq(arg(&r, "NewExternalPort"), "4000");
  ck_assert_str_eq(arg(&r, "NewProtocol"), "TCP");
  ethp2p_soap_field idx1[] = {{"NewPortMappingIndex", "1"}};
  soap_call(F.e1, "GetGenericPortMappingEntry", idx1, 1, &r);
  ck_assert_int_eq(r.fault, 713);
  /* Bob may not delete Alice's mapping. */
  soap_call(F.e2, "DeletePortMapping", spec, 3, &r);
  ck_assert_int_eq(r.fault, 606);
  soap_call(F.e1, "DeletePortMapping", spec, 3, &r);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_DELETED), 1);
  soap_call(F.e1, "DeletePortMapping", spec, 3, &r);
  ck_assert_int_eq(r.fault, 714);
  soap_call(F.e1, "GetSpecificPortMappingEntry", spec, 3, &r);
  ck_assert_int_eq(r.fault, 714);
}
END_TEST

/* Regression (found by fuzz_gateway_soap_action): a description longer than the
 * table keeps was cut inside a UTF-8 character, and every later response that
 * echoed it was malformed XML our own client (expat) rejects. */
START_TEST(soap_long_utf8_description_is_cut_on_a_character_boundary) {
  soap_result r;
  char desc[128] = "xy"; /* 63 bytes would end inside the 31st character */
  for (int i = 0; i < 40; i++)
    memcpy(desc + 2 + 2 * i, "\xc3\xa4", 3); /* U+00E4, then NUL */
  ethp2p_soap_field a[] = {
      {"NewRemoteHost", ""},
      {"NewExternalPort", "4100"},
      {"NewProtocol", "UDP"},
      {"NewInternalPort", "4100"},
      {"NewInternalClient", H1},
      {"NewEnabled", "1"},
      {"NewPortMappingDescription", desc},
      {"NewLeaseDuration", "600"},
  };
  soap_call(F.e1, "AddPortMapping", a, 8, &r);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_ADDED), 1);
  ck_assert_uint_eq(strlen(F.mappings[0].desc), 62); /* "xy" + 30 whole characters */
  ethp2p_soap_field spec[] = {
      {"NewRemoteHost", ""}, {"NewExternalPort", "4100"}, {"NewProtocol", "UDP"}};
  soap_call(F.e1, "GetSpecificPortMappingEntry", spec, 3, &r); /* asserts it parses */
  ck_assert_int_eq(r.fault, 0);
  ck_assert_str_eq(arg(&r, "NewPortMappingDescription"), F.mappings[0].desc);
}
END_TEST

static void range_call(ethp2p_env *env, const char *action, const char *lo, const char *hi,
                       const char *manage, soap_result *r) {
  ethp2p_soap_field a[] = {{"NewStartPort", lo},
                           {"NewEndPort", hi},
                           {"NewProtocol", "TCP"},
                           {"NewManage", manage},
                           {"NewNumberOfPorts", "0"}};
  soap_call(env, action, a, strcmp(action, "GetListOfPortMappings") == 0 ? 5 : 4, r);
}

START_TEST(soap_v2_list_and_delete_range) {
  soap_result r;
  add_pm(F.e1, H1, "4000", "4000", "TCP", "0", &r);
  add_pm(F.e1, H1, "4001", "4001", "TCP", "0", &r);
  add_pm(F.e2, H2, "4002", "4002", "TCP", "0", &r);
  add_pm(F.e1, H1, "4003", "4003", "UDP", "0", &r);
  range_call(F.e1, "GetListOfPortMappings", "1", "65535", "0", &r);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_int_eq(r.http_status, 200);
  const char *l = r.raw; /* the listing is an XML document in a CDATA section */
  ck_assert_ptr_nonnull(strstr(l, "<NewPortListing><![CDATA[<?xml"));
  ck_assert_ptr_nonnull(strstr(l, "<p:NewExternalPort>4000</p:NewExternalPort>"));
  ck_assert_ptr_nonnull(strstr(l, "<p:NewExternalPort>4001</p:NewExternalPort>"));
  ck_assert_ptr_null(strstr(l, "4002")); /* Bob's */
  ck_assert_ptr_null(strstr(l, "4003")); /* UDP */
  range_call(F.e1, "GetListOfPortMappings", "5000", "6000", "0", &r);
  ck_assert_int_eq(r.fault, 730);
  range_call(F.e1, "GetListOfPortMappings", "6000", "5000", "0", &r);
  ck_assert_int_eq(r.fault, 733);
  range_call(F.e1, "DeletePortMappingRange", "4000", "4002", "1", &r);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 2); /* Bob's and the UDP one remain */
  range_call(F.e1, "DeletePortMappingRange", "4000", "4002", "0", &r);
  ck_assert_int_eq(r.fault, 730);
}
END_TEST

START_TEST(soap_v2_faults) {
  soap_result r;
  add_pm(F.e1, H2, "4000", "4000", "TCP", "0", &r); /* for another host */
  ck_assert_int_eq(r.fault, 606);
  add_pm(F.e1, H1, "0", "4000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 716);
  add_pm(F.e1, H1, "4000", "0", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 732);
  add_pm(F.e1, H1, "4000", "4000", "SCTP", "0", &r);
  ck_assert_int_eq(r.fault, 402);
  add_pm(F.e1, H1, "70000", "4000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 402);
  add_pm(F.e1, "not-an-ip", "4000", "4000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 402);
  ethp2p_soap_field missing[] = {{"NewRemoteHost", ""}, {"NewExternalPort", "1"}};
  soap_call(F.e1, "AddPortMapping", missing, 2, &r);
  ck_assert_int_eq(r.fault, 402);
  ethp2p_soap_field rh[] = {
      {"NewRemoteHost", "1.2.3.4"},       {"NewExternalPort", "4000"}, {"NewProtocol", "TCP"},
      {"NewInternalPort", "4000"},        {"NewInternalClient", H1},   {"NewEnabled", "1"},
      {"NewPortMappingDescription", "x"}, {"NewLeaseDuration", "0"}};
  soap_call(F.e1, "AddPortMapping", rh, 8, &r);
  ck_assert_int_eq(r.fault, 726);
  /* Lease 0 on IGDv2 means the maximum, 604800 s. */
  add_pm(F.e1, H1, "4000", "4000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_uint_eq(F.mappings[F.n_changes - 1].lease_s, 604800);
  /* Conflict with Bob: 718. */
  add_pm(F.e2, H2, "4000", "4000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 718);
  /* A port outside the allowed ranges: 606 on v2. */
  ck_assert_int_eq(ethp2p_gw_policy_parse_allow(&F.gw->cfg.policy, "1024-2000,4000"), 0);
  add_pm(F.e1, H1, "5000", "5000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 606);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
}
END_TEST

START_TEST(soap_policy_faults_725_724_728) {
  soap_result r;
  F.gw->cfg.policy.permanent_only = true;
  add_pm(F.e1, H1, "4000", "4000", "TCP", "3600", &r);
  ck_assert_int_eq(r.fault, 725);
  add_pm(F.e1, H1, "4000", "4000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_uint_eq(F.mappings[F.n_changes - 1].lease_s, 0);
  F.gw->cfg.policy.permanent_only = false;
  F.gw->cfg.policy.same_port_only = true;
  add_pm(F.e1, H1, "4001", "4002", "TCP", "60", &r);
  ck_assert_int_eq(r.fault, 724);
  F.gw->cfg.policy.same_port_only = false;
  F.gw->cfg.policy.max_mappings = 1;
  add_pm(F.e1, H1, "4001", "4001", "TCP", "60", &r);
  ck_assert_int_eq(r.fault, 728);
}
END_TEST

START_TEST(soap_conflict_with_pcp_mapping_is_729) {
  soap_result r;
  fx_udp u;
  ethp2p_pcp_request rq;
  uint8_t buf[128];
  memset(&rq, 0, sizeof rq);
  rq.version = 2;
  rq.opcode = ETHP2P_PCP_OP_MAP;
  rq.lifetime_s = 600;
  rq.client_ip = ethp2p_sim_host_addr(F.h2);
  rq.map.protocol = 6;
  rq.map.internal_port = 6000;
  rq.map.external_port = 6000;
  int n = ethp2p_pcp_request_encode(buf, sizeof buf, &rq);
  fx_udp_open(&u, F.e2, 0);
  ck_assert_int_eq(fx_exchange(&F, &u, 5351, buf, (size_t)n), 1);
  ethp2p_udp_close(u.udp);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 1);
  add_pm(F.e1, H1, "6000", "6000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 729);
}
END_TEST

START_TEST(soap_add_any_picks_a_free_port) {
  soap_result r;
  add_pm(F.e2, H2, "7000", "7000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 0);
  add_any(F.e1, H1, "7000", "7000", &r);
  ck_assert_int_eq(r.fault, 0);
  const char *port = arg(&r, "NewReservedPort");
  ck_assert_str_ne(port, "7000");
  ck_assert_str_ne(port, "0");
  add_any(F.e1, H1, "7100", "7100", &r);
  ck_assert_str_eq(arg(&r, "NewReservedPort"), "7100");
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_RANDOM_PORT);
  add_any(F.e1, H1, "7200", "7200", &r);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_str_ne(arg(&r, "NewReservedPort"), "7200");
}
END_TEST

START_TEST(soap_v1_faults_use_718_and_refuse_add_any) {
  soap_result r;
  ck_assert_str_eq(wanip(), "urn:schemas-upnp-org:service:WANIPConnection:1");
  add_pm(F.e1, H2, "4000", "4000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 718);
  add_any(F.e1, H1, "4000", "4000", &r);
  ck_assert_int_eq(r.fault, 401);
  range_call(F.e1, "GetListOfPortMappings", "1", "65535", "0", &r);
  ck_assert_int_eq(r.fault, 401);
  add_pm(F.e1, H1, "4000", "0", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 402);
  /* v1 keeps lease 0 as permanent. */
  add_pm(F.e1, H1, "4000", "4000", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 0);
  ck_assert_uint_eq(F.mappings[F.n_changes - 1].lease_s, 0);
  F.gw->cfg.policy.max_mappings = 1;
  add_pm(F.e1, H1, "4001", "4001", "TCP", "0", &r);
  ck_assert_int_eq(r.fault, 501);
}
END_TEST

START_TEST(unnamespaced_and_chunked_quirks_still_parse) {
  soap_result r;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_UNNAMESPACED_SOAP | ETHP2P_GW_Q_CHUNKED);
  soap_call(F.e1, "GetExternalIPAddress", NULL, 0, &r);
  ck_assert_int_eq(r.http_status, 200);
  ck_assert(r.chunked);
  ck_assert_ptr_nonnull(strstr(r.raw, "<GetExternalIPAddressResponse>"));
  ck_assert_ptr_null(strstr(r.raw, "u:GetExternalIPAddressResponse"));
  ck_assert_str_eq(arg(&r, "NewExternalIPAddress"), "20.0.0.1");
}
END_TEST

START_TEST(no_concurrent_quirk_fails_the_second_request) {
  uint8_t req[8192];
  size_t len;
  soap_result r1, r2;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_NO_CONCURRENT);
  soap_build(req, sizeof req, &len, "GetExternalIPAddress", NULL, 0);
  tc *a = tc_open(F.e1, http_addr());
  tc *b = tc_open(F.e2, http_addr());
  ethp2p_sim_run(F.sim, 100 * ETHP2P_MSEC);
  ethp2p_tcp_write(a->tcp, req, len);
  ethp2p_tcp_write(b->tcp, req, len);
  ethp2p_sim_run(F.sim, 3 * ETHP2P_SEC);
  soap_finish(a, "GetExternalIPAddress", &r1);
  soap_finish(b, "GetExternalIPAddress", &r2);
  ck_assert_int_eq(r1.fault, 0);
  ck_assert_int_eq(r2.fault, 501);
  tc_free(a);
  tc_free(b);
  /* Spaced requests are fine. */
  soap_call(F.e2, "GetExternalIPAddress", NULL, 0, &r2);
  ck_assert_int_eq(r2.fault, 0);
}
END_TEST

START_TEST(slow_quirk_delays_and_drop_quirk_loses_soap_replies) {
  uint8_t req[8192];
  size_t len;
  soap_result r;
  F.gw->cfg.slow_ms = 1500;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_SLOW);
  soap_build(req, sizeof req, &len, "GetExternalIPAddress", NULL, 0);
  tc *c = tc_open(F.e1, http_addr());
  ethp2p_sim_run(F.sim, 100 * ETHP2P_MSEC);
  ethp2p_tcp_write(c->tcp, req, len);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_uint_eq(c->len, 0);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_uint_gt(c->len, 0);
  soap_finish(c, "GetExternalIPAddress", &r);
  ck_assert_int_eq(r.fault, 0);
  tc_free(c);
  F.gw->cfg.drop_percent = 100;
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_DROP);
  c = raw_exchange(F.e1, req, len);
  ck_assert_uint_eq(c->len, 0);
  ck_assert_int_eq(c->closed, 1); /* closed at the request deadline */
  tc_free(c);
}
END_TEST

/* ---- HTTP hardening -------------------------------------------------------------------- */

static int status_of(tc *c) {
  ethp2p_http_parser p;
  parse_response(c, &p);
  int s = p.msg.status;
  ethp2p_http_parser_close(&p);
  return s;
}

START_TEST(http_oversized_head_and_body_get_an_error_and_close) {
  static char big[40000];
  tc *c;
  memset(big, 'a', sizeof big);
  memcpy(big, "GET /rootDesc.xml HTTP/1.1\r\nX-Long: ", 36);
  c = raw_exchange(F.e1, big, sizeof big);
  ck_assert_int_eq(c->closed, 1);
  ck_assert_int_eq(status_of(c), 431);
  tc_free(c);
  int n = snprintf(big, sizeof big,
                   "POST /ctl/IPConn HTTP/1.1\r\nHost: x\r\nContent-Length: 30000\r\n\r\n");
  memset(big + n, 'b', sizeof big - (size_t)n);
  c = raw_exchange(F.e1, big, sizeof big);
  ck_assert_int_eq(c->closed, 1);
  ck_assert_int_eq(status_of(c), 413);
  tc_free(c);
  c = raw_exchange(F.e1, "\x01\x02junk junk\r\n\r\n", 15);
  ck_assert_int_eq(status_of(c), 400);
  tc_free(c);
  ethp2p_sim_run(F.sim, 100 * ETHP2P_MSEC);
  ck_assert_uint_eq(ethp2p_gw_http_connections(F.gw), 0);
}
END_TEST

START_TEST(http_idle_connections_time_out_and_do_not_block_others) {
  tc *idle[200];
  soap_result r;
  int refused = 0;
  for (int i = 0; i < 200; i++)
    idle[i] = tc_open(F.e2, http_addr());
  ethp2p_sim_run(F.sim, 500 * ETHP2P_MSEC);
  ck_assert_uint_le(ethp2p_gw_http_connections(F.gw), F.cfg.http_max_per_client);
  for (int i = 0; i < 200; i++)
    refused += idle[i]->closed;
  ck_assert_int_ge(refused, 200 - (int)F.cfg.http_max_per_client);
  soap_call(F.e1, "GetExternalIPAddress", NULL, 0, &r);
  ck_assert_int_eq(r.fault, 0);
  /* The request deadline (5 s) answers the rest with 408; they are closed by the
   * end of the linger time (2 s) even though the clients never close. */
  ethp2p_sim_run(F.sim, 8 * ETHP2P_SEC);
  ck_assert_uint_eq(ethp2p_gw_http_connections(F.gw), 0);
  int timed_out = 0;
  for (int i = 0; i < 200; i++) {
    if (idle[i]->len > 0) {
      ck_assert_int_eq(status_of(idle[i]), 408);
      timed_out++;
    }
    tc_free(idle[i]);
  }
  ck_assert_int_eq(timed_out, (int)F.cfg.http_max_per_client);
}
END_TEST

static void many_per_client(ethp2p_gw_config *c) {
  c->http_max_per_client = 1000;
  c->http_max_conns = 16;
}

START_TEST(http_connection_cap_evicts_the_oldest_idle_connection) {
  tc *idle[100];
  soap_result r;
  for (int i = 0; i < 100; i++)
    idle[i] = tc_open(F.e2, http_addr());
  ethp2p_sim_run(F.sim, 500 * ETHP2P_MSEC);
  ck_assert_uint_eq(ethp2p_gw_http_connections(F.gw), 16);
  soap_call(F.e1, "GetExternalIPAddress", NULL, 0, &r);
  ck_assert_int_eq(r.fault, 0);
  for (int i = 0; i < 100; i++)
    tc_free(idle[i]);
}
END_TEST

static void setup_many(void) {
  fx_setup(&F, many_per_client);
}

/* ---- restart and the data plane --------------------------------------------------------- */

START_TEST(restart_keeps_or_moves_the_http_port) {
  soap_result r;
  add_pm(F.e1, H1, "4000", "4000", "TCP", "0", &r);
  ethp2p_sim_nat_reboot(F.nat);
  ck_assert_uint_eq(ethp2p_gw_http_port(F.gw), 5000);
  ck_assert_uint_eq(ethp2p_gw_mappings(F.gw, NULL, 0), 0);
  ethp2p_gw_set_quirks(F.gw, ETHP2P_GW_Q_HTTP_PORT_MOVES);
  ethp2p_sim_nat_reboot(F.nat);
  ck_assert_uint_eq(ethp2p_gw_http_port(F.gw), 5001);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ethp2p_ssdp_reply sr;
  ck_assert_int_eq(ssdp_search("upnp:rootdevice", false, &sr), 1);
  ck_assert_str_eq(sr.location, "http://192.168.1.1:5001/rootDesc.xml");
  /* The old port is closed. */
  ethp2p_addr old = F.gwaddr;
  old.port = 5000;
  tc *c = tc_open(F.e1, old);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(c->connected, -1);
  tc_free(c);
  soap_call(F.e1, "GetExternalIPAddress", NULL, 0, &r);
  ck_assert_int_eq(r.fault, 0);
}
END_TEST

static int accepted;
static void on_accept(ethp2p_tcp *l, ethp2p_tcp *conn, void *data) {
  (void)l;
  (void)data;
  accepted++;
  ethp2p_tcp_close(conn);
}

START_TEST(upnp_mapping_lets_outside_tcp_in_until_the_lease_ends) {
  soap_result r;
  ethp2p_tcp *listener;
  ethp2p_addr bind = ethp2p_addr_v4(0, 0, 0, 0, 8080), to = F.ext;
  ck_assert_int_eq(ethp2p_tcp_listen(F.e1, &listener, &bind, on_accept, NULL), 0);
  accepted = 0;
  to.port = 8080;
  add_pm(F.e1, H1, "8080", "8080", "TCP", "60", &r);
  ck_assert_int_eq(r.fault, 0);
  tc *c = tc_open(F.ewan, to);
  ethp2p_sim_run(F.sim, ETHP2P_SEC);
  ck_assert_int_eq(c->connected, 1);
  ck_assert_int_eq(accepted, 1);
  tc_free(c);
  ethp2p_sim_run(F.sim, 61 * ETHP2P_SEC);
  ck_assert_int_eq(fx_count(&F, ETHP2P_GW_EXPIRED), 1);
  c = tc_open(F.ewan, to);
  ethp2p_sim_run(F.sim, 30 * ETHP2P_SEC);
  ck_assert_int_ne(c->connected, 1);
  ck_assert_int_eq(accepted, 1);
  tc_free(c);
  ethp2p_tcp_close(listener);
}
END_TEST

/* Every log line is formatted (and checked by the sanitizers), then dropped. */
static void log_discard(void *data, ethp2p_log_level level, const char *module, const char *msg,
                        const char *kv) {
  (void)data;
  (void)level;
  ck_assert_ptr_nonnull(module);
  ck_assert_ptr_nonnull(msg);
  ck_assert_ptr_nonnull(kv);
}

int main(void) {
  Suite *s = suite_create("gateway_upnp");
  TCase *tc2 = tcase_create("igd2");
  TCase *tc1 = tcase_create("igd1");
  TCase *tcm = tcase_create("conncap");
  SRunner *sr;
  int failed;
  tcase_add_checked_fixture(tc2, setup, teardown);
  tcase_add_test(tc2, ssdp_igd_search_gets_unicast_reply_with_location);
  tcase_add_test(tc2, ssdp_all_rootdevice_and_unknown_targets);
  tcase_add_test(tc2, ssdp_junk_is_ignored);
  tcase_add_test(tc2, ssdp_ignores_searches_from_outside_the_lan);
  tcase_add_test(tc2, root_description_lists_wanip_service);
  tcase_add_test(tc2, soap_external_ip_status_and_natrsip);
  tcase_add_test(tc2, soap_add_get_list_delete_round_trip);
  tcase_add_test(tc2, soap_long_utf8_description_is_cut_on_a_character_boundary);
  tcase_add_test(tc2, soap_v2_faults);
  tcase_add_test(tc2, soap_v2_list_and_delete_range);
  tcase_add_test(tc2, soap_policy_faults_725_724_728);
  tcase_add_test(tc2, soap_conflict_with_pcp_mapping_is_729);
  tcase_add_test(tc2, soap_add_any_picks_a_free_port);
  tcase_add_test(tc2, unnamespaced_and_chunked_quirks_still_parse);
  tcase_add_test(tc2, no_concurrent_quirk_fails_the_second_request);
  tcase_add_test(tc2, slow_quirk_delays_and_drop_quirk_loses_soap_replies);
  tcase_add_test(tc2, http_oversized_head_and_body_get_an_error_and_close);
  tcase_add_test(tc2, http_idle_connections_time_out_and_do_not_block_others);
  tcase_add_test(tc2, restart_keeps_or_moves_the_http_port);
  tcase_add_test(tc2, upnp_mapping_lets_outside_tcp_in_until_the_lease_ends);
  suite_add_tcase(s, tc2);
  tcase_add_checked_fixture(tc1, setup_v1, teardown);
  tcase_add_test(tc1, ssdp_v1_device_ignores_v2_searches);
  tcase_add_test(tc1, soap_v1_faults_use_718_and_refuse_add_any);
  suite_add_tcase(s, tc1);
  tcase_add_checked_fixture(tcm, setup_many, teardown);
  tcase_add_test(tcm, http_connection_cap_evicts_the_oldest_idle_connection);
  suite_add_tcase(s, tcm);
  ethp2p_log_set_sink(log_discard, NULL, ETHP2P_LOG_TRACE);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
