/* tests/check_nat_gena.c — GENA codec (nat/gena.h) and propertysets (nat/xml.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/gena.h"
#include "nat/http.h"
#include "nat/xml.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* Parses one whole message of `kind` from bytes into p (caller closes p). */
static int parse(ethp2p_http_parser *p, ethp2p_http_kind kind, const uint8_t *buf, size_t len) {
  int rc;
  ethp2p_http_parser_init(p, kind, 16384, false);
  rc = ethp2p_http_parser_feed(p, buf, len, NULL, NULL);
  if (rc == 0 && kind == ETHP2P_HTTP_RESPONSE)
    rc = ethp2p_http_parser_eof(p, NULL);
  return rc;
}

/* What miniupnpd 2.3.1 (upnpevents.c) sends as the initial WANIPConnection event. */
static const char mupnp_head[] = "NOTIFY /evt HTTP/1.1\r\n"
                                 "Host: 192.168.50.2:40123\r\n"
                                 "Content-Type: text/xml; charset=\"utf-8\"\r\n"
                                 "Content-Length: %zu\r\n"
                                 "NT: upnp:event\r\n"
                                 "NTS: upnp:propchange\r\n"
                                 "SID: uuid:3a5e9c12-4f6d-4b12-9bf2-000000000001\r\n"
                                 "SEQ: 0\r\n"
                                 "Connection: close\r\n"
                                 "Cache-Control: no-cache\r\n"
                                 "\r\n%s";
static const char mupnp_body[] =
    "<?xml version=\"1.0\"?>\n"
    "<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">"
    "<e:property><PortMappingNumberOfEntries>0</PortMappingNumberOfEntries></e:property>"
    "<e:property><ExternalIPAddress>198.51.100.20</ExternalIPAddress></e:property>"
    "<e:property><ConnectionStatus>Connected</ConnectionStatus></e:property>"
    "</e:propertyset>\r\n";

START_TEST(event_parse_reads_miniupnpd_initial_event) {
  ethp2p_http_parser p;
  ethp2p_gena_event ev;
  char msg[2048];
  int n = snprintf(msg, sizeof msg, mupnp_head, strlen(mupnp_body), mupnp_body);
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_REQUEST, (const uint8_t *)msg, (size_t)n), 1);
  ck_assert_int_eq(ethp2p_gena_event_parse(&ev, &p.msg, NULL), 0);
  ck_assert_str_eq(ev.sid, "uuid:3a5e9c12-4f6d-4b12-9bf2-000000000001");
  ck_assert_uint_eq(ev.seq, 0);
  ck_assert_uint_eq(ev.props.nvars, 3);
  ck_assert_str_eq(ethp2p_upnp_propertyset_get(&ev.props, "ExternalIPAddress"), "198.51.100.20");
  ck_assert_str_eq(ethp2p_upnp_propertyset_get(&ev.props, "ConnectionStatus"), "Connected");
  ck_assert_ptr_null(ethp2p_upnp_propertyset_get(&ev.props, "Uptime"));
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(event_build_round_trips) {
  ethp2p_http_parser p;
  ethp2p_gena_event ev;
  uint8_t buf[4096];
  size_t len;
  ethp2p_soap_field f[2] = {{"ExternalIPAddress", "203.0.113.9"},
                            {"ConnectionStatus", "Disconnected <&>"}};
  ck_assert_int_eq(
      ethp2p_gena_event_build(buf, sizeof buf, &len, "/cb", "10.0.0.2:4000", "uuid:abc", 42, f, 2),
      0);
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_REQUEST, buf, len), 1);
  ck_assert_str_eq(p.msg.target, "/cb");
  ck_assert_int_eq(ethp2p_gena_event_parse(&ev, &p.msg, NULL), 0);
  ck_assert_uint_eq(ev.seq, 42);
  ck_assert_str_eq(ev.sid, "uuid:abc");
  ck_assert_str_eq(ethp2p_upnp_propertyset_get(&ev.props, "ConnectionStatus"), "Disconnected <&>");
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(ethp2p_gena_event_build(buf, 20, &len, "/cb", "h:1", "uuid:abc", 1, f, 2),
                   ETHP2P_ESPACE);
  ck_assert_int_eq(ethp2p_gena_event_build(buf, sizeof buf, &len, "/cb", "h:1", "abc", 1, f, 2),
                   ETHP2P_EINVAL);
}
END_TEST

START_TEST(event_parse_refuses_bad_notifications) {
  static const char *const bad[] = {
      /* wrong NTS: 412 */
      "NOTIFY /e HTTP/1.1\r\nNT: upnp:event\r\nNTS: ssdp:alive\r\nSID: uuid:a\r\nSEQ: 0\r\n"
      "Content-Length: 0\r\n\r\n",
      /* no SID */
      "NOTIFY /e HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSEQ: 0\r\n"
      "Content-Length: 0\r\n\r\n",
      /* SEQ not a number */
      "NOTIFY /e HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSID: uuid:a\r\nSEQ: -1\r\n"
      "Content-Length: 0\r\n\r\n",
      /* SEQ above 32 bits */
      "NOTIFY /e HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSID: uuid:a\r\n"
      "SEQ: 4294967296\r\nContent-Length: 0\r\n\r\n",
      /* body not a propertyset */
      "NOTIFY /e HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSID: uuid:a\r\nSEQ: 1\r\n"
      "Content-Length: 7\r\n\r\n<a></a>",
      /* not NOTIFY */
      "POST /e HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSID: uuid:a\r\nSEQ: 1\r\n"
      "Content-Length: 0\r\n\r\n",
  };
  static const int want[] = {ETHP2P_EPROTO,  ETHP2P_EPROTO,  ETHP2P_ESYNTAX,
                             ETHP2P_ESYNTAX, ETHP2P_ESYNTAX, ETHP2P_ESYNTAX};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ethp2p_http_parser p;
    ethp2p_gena_event ev;
    ck_assert_int_eq(parse(&p, ETHP2P_HTTP_REQUEST, (const uint8_t *)bad[i], strlen(bad[i])), 1);
    ck_assert_msg(ethp2p_gena_event_parse(&ev, &p.msg, NULL) == want[i], "case %zu", i);
    ck_assert_str_eq(ev.sid, ""); /* zeroed on failure */
    ethp2p_http_parser_close(&p);
  }
}
END_TEST

START_TEST(grant_parse_reads_sid_and_timeout) {
  ethp2p_http_parser p;
  ethp2p_gena_grant g;
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_RESPONSE,
                         S("HTTP/1.1 200 OK\r\nServer: x\r\nSID: uuid:1234\r\n"
                           "Timeout: Second-1800\r\nContent-Length: 0\r\n\r\n")),
                   1);
  ck_assert_int_eq(ethp2p_gena_grant_parse(&g, &p.msg, NULL), 0);
  ck_assert_str_eq(g.sid, "uuid:1234");
  ck_assert_uint_eq(g.timeout_s, 1800);
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_RESPONSE,
                         S("HTTP/1.1 200 OK\r\nSID: uuid:1\r\nTIMEOUT: second-infinite\r\n"
                           "Content-Length: 0\r\n\r\n")),
                   1);
  ck_assert_int_eq(ethp2p_gena_grant_parse(&g, &p.msg, NULL), 0);
  ck_assert_uint_eq(g.timeout_s, 0);
  ethp2p_http_parser_close(&p);
  /* 412: the router no longer knows the SID (it restarted) */
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_RESPONSE,
                         S("HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n")),
                   1);
  ck_assert_int_eq(ethp2p_gena_grant_parse(&g, &p.msg, NULL), ETHP2P_EREFUSED);
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_RESPONSE,
                         S("HTTP/1.1 200 OK\r\nSID: 1234\r\nContent-Length: 0\r\n\r\n")),
                   1);
  ck_assert_int_eq(ethp2p_gena_grant_parse(&g, &p.msg, NULL), ETHP2P_ESYNTAX);
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_RESPONSE,
                         S("HTTP/1.1 200 OK\r\nSID: uuid:1\r\nTIMEOUT: Second-0\r\n"
                           "Content-Length: 0\r\n\r\n")),
                   1);
  ck_assert_int_eq(ethp2p_gena_grant_parse(&g, &p.msg, NULL), ETHP2P_ESYNTAX);
  ck_assert_str_eq(g.sid, "");
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(subscribe_requests_build_and_parse_back) {
  ethp2p_http_parser p;
  ethp2p_gena_request r;
  uint8_t buf[1024];
  size_t len;
  ck_assert_int_eq(ethp2p_gena_subscribe_build(buf, sizeof buf, &len, "/evt/IPConn",
                                               "192.168.1.1:5000", "http://192.168.1.2:4000/e",
                                               NULL, 1800, "ethp2p UPnP/1.1"),
                   0);
  ck_assert_ptr_nonnull(strstr((const char *)buf, "CALLBACK: <http://192.168.1.2:4000/e>\r\n"));
  ck_assert_ptr_nonnull(strstr((const char *)buf, "NT: upnp:event\r\n"));
  ck_assert_ptr_nonnull(strstr((const char *)buf, "TIMEOUT: Second-1800\r\n"));
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_REQUEST, buf, len), 1);
  ck_assert_str_eq(p.msg.method, "SUBSCRIBE");
  ck_assert_int_eq(ethp2p_gena_request_parse(&r, &p.msg, NULL), 0);
  ck_assert_int_eq(r.kind, ETHP2P_GENA_SUBSCRIBE);
  ck_assert_uint_eq(r.ncallbacks, 1);
  ck_assert_str_eq(r.callbacks[0], "http://192.168.1.2:4000/e");
  ck_assert_uint_eq(r.timeout_s, 1800);
  ethp2p_http_parser_close(&p);

  ck_assert_int_eq(ethp2p_gena_subscribe_build(buf, sizeof buf, &len, "/evt/IPConn", "h:1", NULL,
                                               "uuid:77", 300, NULL),
                   0);
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_REQUEST, buf, len), 1);
  ck_assert_int_eq(ethp2p_gena_request_parse(&r, &p.msg, NULL), 0);
  ck_assert_int_eq(r.kind, ETHP2P_GENA_RENEW);
  ck_assert_str_eq(r.sid, "uuid:77");
  ethp2p_http_parser_close(&p);

  ck_assert_int_eq(
      ethp2p_gena_unsubscribe_build(buf, sizeof buf, &len, "/evt/IPConn", "h:1", "uuid:77"), 0);
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_REQUEST, buf, len), 1);
  ck_assert_int_eq(ethp2p_gena_request_parse(&r, &p.msg, NULL), 0);
  ck_assert_int_eq(r.kind, ETHP2P_GENA_UNSUBSCRIBE);
  ethp2p_http_parser_close(&p);

  /* Both or neither of callback and sid: refused. */
  ck_assert_int_eq(ethp2p_gena_subscribe_build(buf, sizeof buf, &len, "/e", "h:1", "http://a/",
                                               "uuid:1", 1, NULL),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(
      ethp2p_gena_subscribe_build(buf, sizeof buf, &len, "/e", "h:1", NULL, NULL, 1, NULL),
      ETHP2P_EINVAL);
}
END_TEST

START_TEST(subscribe_request_parse_follows_the_412_and_400_rules) {
  static const char *const req[] = {
      /* renewal with CALLBACK: 400 */
      "SUBSCRIBE /e HTTP/1.1\r\nSID: uuid:1\r\nCALLBACK: <http://a/>\r\n\r\n",
      /* no CALLBACK: 412 */
      "SUBSCRIBE /e HTTP/1.1\r\nNT: upnp:event\r\n\r\n",
      /* wrong NT: 412 */
      "SUBSCRIBE /e HTTP/1.1\r\nNT: ssdp:all\r\nCALLBACK: <http://a/>\r\n\r\n",
      /* CALLBACK without brackets */
      "SUBSCRIBE /e HTTP/1.1\r\nNT: upnp:event\r\nCALLBACK: http://a/\r\n\r\n",
      /* unclosed */
      "SUBSCRIBE /e HTTP/1.1\r\nNT: upnp:event\r\nCALLBACK: <http://a/\r\n\r\n",
      /* bad TIMEOUT */
      "SUBSCRIBE /e HTTP/1.1\r\nNT: upnp:event\r\nCALLBACK: <http://a/>\r\nTIMEOUT: 30\r\n\r\n",
      /* UNSUBSCRIBE without SID */
      "UNSUBSCRIBE /e HTTP/1.1\r\n\r\n",
      /* another method */
      "GET /e HTTP/1.1\r\n\r\n",
  };
  static const int want[] = {ETHP2P_EINVAL,  ETHP2P_EPROTO,  ETHP2P_EPROTO, ETHP2P_ESYNTAX,
                             ETHP2P_ESYNTAX, ETHP2P_ESYNTAX, ETHP2P_EPROTO, ETHP2P_ESYNTAX};
  ethp2p_http_parser p;
  ethp2p_gena_request r;
  for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
    ck_assert_int_eq(parse(&p, ETHP2P_HTTP_REQUEST, (const uint8_t *)req[i], strlen(req[i])), 1);
    ck_assert_msg(ethp2p_gena_request_parse(&r, &p.msg, NULL) == want[i], "case %zu", i);
    ck_assert_uint_eq(r.ncallbacks, 0);
    ethp2p_http_parser_close(&p);
  }
  /* Two callback URLs, spaces between: both kept, in order. */
  ck_assert_int_eq(parse(&p, ETHP2P_HTTP_REQUEST,
                         S("SUBSCRIBE /e HTTP/1.1\r\nNT: upnp:event\r\n"
                           "CALLBACK: <http://a:1/x> <http://b:2/y>\r\n\r\n")),
                   1);
  ck_assert_int_eq(ethp2p_gena_request_parse(&r, &p.msg, NULL), 0);
  ck_assert_uint_eq(r.ncallbacks, 2);
  ck_assert_str_eq(r.callbacks[1], "http://b:2/y");
  ck_assert_uint_eq(r.timeout_s, 0);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(propertyset_parse_limits_and_shapes) {
  ethp2p_upnp_propertyset ps;
  char big[8192];
  size_t n = 0;
  /* No prefix, whitespace around values, an empty property skipped. */
  static const char plain[] = "<propertyset><property> </property>"
                              "<property><ExternalIPAddress> 1.2.3.4 </ExternalIPAddress>"
                              "</property></propertyset>";
  ck_assert_int_eq(ethp2p_upnp_propertyset_parse(&ps, plain, sizeof plain - 1, NULL), 0);
  ck_assert_uint_eq(ps.nvars, 1);
  ck_assert_str_eq(ps.vars[0].value, "1.2.3.4");
  ck_assert_int_eq(ethp2p_upnp_propertyset_parse(&ps, "<root/>", 7, NULL), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_upnp_propertyset_parse(&ps, "<propertyset>", 13, NULL), ETHP2P_ESYNTAX);
  /* Too many variables. */
  n += (size_t)snprintf(big + n, sizeof big - n, "<propertyset>");
  for (int i = 0; i < ETHP2P_SOAP_MAX_ARGS + 1; i++)
    n += (size_t)snprintf(big + n, sizeof big - n, "<property><V%d>x</V%d></property>", i, i);
  n += (size_t)snprintf(big + n, sizeof big - n, "</propertyset>");
  ck_assert_int_eq(ethp2p_upnp_propertyset_parse(&ps, big, n, NULL), ETHP2P_ETOOBIG);
  ck_assert_uint_eq(ps.nvars, 0);
  /* Entity declarations refused. */
  static const char ent[] = "<!DOCTYPE p [<!ENTITY a \"b\">]><propertyset/>";
  ck_assert_int_eq(ethp2p_upnp_propertyset_parse(&ps, ent, sizeof ent - 1, NULL), ETHP2P_EUNSUPP);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_gena");
  TCase *tc = tcase_create("gena");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, event_parse_reads_miniupnpd_initial_event);
  tcase_add_test(tc, event_build_round_trips);
  tcase_add_test(tc, event_parse_refuses_bad_notifications);
  tcase_add_test(tc, grant_parse_reads_sid_and_timeout);
  tcase_add_test(tc, subscribe_requests_build_and_parse_back);
  tcase_add_test(tc, subscribe_request_parse_follows_the_412_and_400_rules);
  tcase_add_test(tc, propertyset_parse_limits_and_shapes);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
