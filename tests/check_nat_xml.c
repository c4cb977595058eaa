/* tests/check_nat_xml.c — device descriptions and SOAP (nat/xml.h) against router fixtures. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/http.h"
#include "nat/xml.h"

static char g_buf[64 * 1024 + 16];

static size_t fixture(const char *name) {
  char path[512];
  const char *dir = getenv("ETHP2P_TESTDATA");
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "%s/upnp/%s", dir != NULL ? dir : "testdata", name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  n = fread(g_buf, 1, sizeof g_buf - 1, f);
  fclose(f);
  g_buf[n] = '\0';
  return n;
}

START_TEST(igd1_miniupnpd_description_finds_nested_wanipconnection1) {
  ethp2p_upnp_desc d;
  size_t n = fixture("igd1_miniupnpd.xml");
  char url[256];
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, g_buf, n, NULL), 0);
  ck_assert_str_eq(d.root_device_type, "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
  ck_assert_str_eq(d.friendly_name, "Debian router");
  ck_assert_str_eq(d.url_base, "");
  ck_assert_uint_eq(d.nservices, 1);
  ck_assert_int_eq(d.services[0].kind, ETHP2P_UPNP_SVC_KIND_WANIP1);
  ck_assert_str_eq(d.services[0].control_url, "/ctl/IPConn");
  ck_assert_str_eq(d.services[0].scpd_url, "/WANIPCn.xml");
  ck_assert_str_eq(d.services[0].event_url, "/evt/IPConn");
  ck_assert_str_eq(d.services[0].service_id, "urn:upnp-org:serviceId:WANIPConn1");
  ck_assert_str_eq(d.services[0].device_type, "urn:schemas-upnp-org:device:WANConnectionDevice:1");
  ck_assert_int_eq(
      ethp2p_http_url_resolve(url, sizeof url,
                              ethp2p_upnp_desc_base(&d, "http://192.168.1.1:5000/rootDesc.xml"),
                              d.services[0].control_url),
      0);
  ck_assert_str_eq(url, "http://192.168.1.1:5000/ctl/IPConn");
}
END_TEST

START_TEST(igd2_description_lists_wanipconnection2_and_the_ipv6_firewall) {
  ethp2p_upnp_desc d;
  size_t n = fixture("igd2_miniupnpd.xml");
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, g_buf, n, NULL), 0);
  ck_assert_str_eq(d.root_device_type, "urn:schemas-upnp-org:device:InternetGatewayDevice:2");
  ck_assert_uint_eq(d.nservices, 2);
  ck_assert_int_eq(d.services[0].kind, ETHP2P_UPNP_SVC_KIND_WANIP2);
  ck_assert_str_eq(d.services[0].service_type, ETHP2P_UPNP_SVC_WANIP2);
  ck_assert_str_eq(d.services[0].device_type, "urn:schemas-upnp-org:device:WANConnectionDevice:2");
  ck_assert_int_eq(d.services[1].kind, ETHP2P_UPNP_SVC_KIND_WANIP6FC1);
  ck_assert_str_eq(d.services[1].service_type, ETHP2P_UPNP_SVC_WANIP6FC1);
  ck_assert_str_eq(d.services[1].control_url, "/ctl/IP6FCtl");
  ck_assert_str_eq(d.services[1].device_type, "urn:schemas-upnp-org:device:WANConnectionDevice:2");
}
END_TEST

/* The description the real miniupnpd 2.3.1 served to an IPv6 control point in
 * tests/pinhole_miniupnpd_test.sh (ipv6_listening_ip set): both services, and the control
 * URL resolves on the bracketed LOCATION host. */
START_TEST(miniupnpd_ipv6_description_gives_the_firewall_control_url) {
  ethp2p_upnp_desc d;
  size_t n = fixture("igd2_miniupnpd_ipv6.xml");
  char url[256];
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, g_buf, n, NULL), 0);
  ck_assert_str_eq(d.root_device_type, "urn:schemas-upnp-org:device:InternetGatewayDevice:2");
  size_t ip = d.nservices, fc = d.nservices;
  for (size_t i = 0; i < d.nservices; i++) {
    if (d.services[i].kind == ETHP2P_UPNP_SVC_KIND_WANIP2)
      ip = i;
    if (d.services[i].kind == ETHP2P_UPNP_SVC_KIND_WANIP6FC1)
      fc = i;
  }
  ck_assert_uint_lt(ip, d.nservices);
  ck_assert_uint_lt(fc, d.nservices);
  ck_assert_uint_lt(ip, fc); /* document order */
  ck_assert_str_eq(d.services[ip].control_url, "/ctl/IPConn");
  ck_assert_str_eq(d.services[fc].control_url, "/ctl/IP6FCtl");
  ck_assert_str_eq(d.services[fc].event_url, "/evt/IP6FCtl");
  ck_assert_str_eq(d.services[fc].service_id, "urn:upnp-org:serviceId:WANIPv6Firewall1");
  ck_assert_int_eq(
      ethp2p_http_url_resolve(url, sizeof url,
                              ethp2p_upnp_desc_base(&d, "http://[3fff:0:1::1]:5000/rootDesc.xml"),
                              d.services[fc].control_url),
      0);
  ck_assert_str_eq(url, "http://[3fff:0:1::1]:5000/ctl/IP6FCtl");
  ck_assert_int_eq(
      ethp2p_upnp_svc_kind_of(" urn:schemas-upnp-org:service:wanipv6firewallcontrol:1 "),
      ETHP2P_UPNP_SVC_KIND_WANIP6FC1);
  ck_assert_int_eq(ethp2p_upnp_svc_kind_of("urn:schemas-upnp-org:service:WANIPv6FirewallControl:2"),
                   ETHP2P_UPNP_SVC_NONE);
}
END_TEST

START_TEST(ppp_description_with_urlbase_and_late_device_type) {
  ethp2p_upnp_desc d;
  size_t n = fixture("ppp_nested_urlbase.xml");
  char url[256];
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, g_buf, n, NULL), 0);
  ck_assert_str_eq(d.url_base, "http://10.0.0.138:49152/");
  ck_assert_uint_eq(d.nservices, 2);
  ck_assert_int_eq(d.services[0].kind, ETHP2P_UPNP_SVC_KIND_WANPPP1);
  ck_assert_int_eq(d.services[1].kind, ETHP2P_UPNP_SVC_KIND_WANIP1);
  /* deviceType after the serviceList still reaches the services. */
  ck_assert_str_eq(d.services[0].device_type, "urn:schemas-upnp-org:device:WANConnectionDevice:1");
  ck_assert_int_eq(ethp2p_http_url_resolve(
                       url, sizeof url, ethp2p_upnp_desc_base(&d, "http://10.0.0.138:1900/x.xml"),
                       d.services[0].control_url),
                   0);
  ck_assert_str_eq(url, "http://10.0.0.138:49152/upnp/control/WANPPPConn1");
}
END_TEST

START_TEST(description_without_namespaces_and_with_odd_whitespace_parses) {
  ethp2p_upnp_desc d;
  size_t n = fixture("no_namespace_whitespace.xml");
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, g_buf, n, NULL), 0);
  ck_assert_str_eq(d.root_device_type, "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
  ck_assert_uint_eq(d.nservices, 1);
  ck_assert_int_eq(d.services[0].kind, ETHP2P_UPNP_SVC_KIND_WANIP1);
  ck_assert_str_eq(d.services[0].control_url, "/ctl/IPConn");
  n = fixture("prefixed_undeclared.xml");
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, g_buf, n, NULL), 0);
  ck_assert_uint_eq(d.nservices, 1);
  ck_assert_str_eq(d.services[0].control_url, "/ctl/IPConn");
}
END_TEST

START_TEST(description_errors_are_reported) {
  ethp2p_upnp_desc d;
  ethp2p_diag diag = {0};
  static const char bomb[] = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\">"
                             "<!ENTITY b \"&a;&a;&a;&a;\">]><root><device>&b;</device></root>";
  static char deep[4096];
  static char longurl[2048];
  size_t i, n = 0;
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, "<root><device>", 14, &diag), ETHP2P_ESYNTAX);
  ck_assert(strncmp(diag.msg, "XML: ", 5) == 0);
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, "<html/>", 7, &diag), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, "<root/>", 7, &diag), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, bomb, sizeof bomb - 1, &diag), ETHP2P_EUNSUPP);
  n += (size_t)snprintf(deep, sizeof deep, "<root>");
  for (i = 0; i < 40; i++)
    n += (size_t)snprintf(deep + n, sizeof deep - n, "<a>");
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, deep, n, &diag), ETHP2P_EDEPTH);
  n = (size_t)snprintf(
      longurl, sizeof longurl,
      "<root><device><serviceList><service><serviceType>%s</serviceType><controlURL>/",
      ETHP2P_UPNP_SVC_WANIP1);
  memset(longurl + n, 'x', 300);
  n += 300;
  n += (size_t)snprintf(longurl + n, sizeof longurl - n,
                        "</controlURL></service></serviceList></device></root>");
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, longurl, n, &diag), ETHP2P_ETOOBIG);
  ck_assert_str_eq(diag.msg, "controlURL value longer than 255 bytes");
  ck_assert_uint_eq(d.nservices, 0);
  ck_assert_int_eq(ethp2p_upnp_desc_parse(&d, g_buf, ETHP2P_XML_MAX_INPUT + 1, &diag),
                   ETHP2P_ETOOBIG);
}
END_TEST

START_TEST(service_kind_matching_is_trimmed_and_case_insensitive) {
  ck_assert_int_eq(ethp2p_upnp_svc_kind_of(" urn:schemas-upnp-org:service:WANIPConnection:2\n"),
                   ETHP2P_UPNP_SVC_KIND_WANIP2);
  ck_assert_int_eq(ethp2p_upnp_svc_kind_of("URN:SCHEMAS-UPNP-ORG:SERVICE:WANPPPCONNECTION:1"),
                   ETHP2P_UPNP_SVC_KIND_WANPPP1);
  ck_assert_int_eq(ethp2p_upnp_svc_kind_of("urn:schemas-upnp-org:service:WANIPConnection:3"),
                   ETHP2P_UPNP_SVC_NONE);
  ck_assert_int_eq(ethp2p_upnp_svc_kind_of(NULL), ETHP2P_UPNP_SVC_NONE);
}
END_TEST

START_TEST(soap_success_responses_give_arguments_by_local_name) {
  ethp2p_soap_msg m;
  size_t n = fixture("soap_getexternalip_ok.xml");
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "GetExternalIPAddress", g_buf, n, NULL), 0);
  ck_assert_str_eq(m.action, "GetExternalIPAddressResponse");
  ck_assert_str_eq(m.service_type, ETHP2P_UPNP_SVC_WANIP1);
  ck_assert_str_eq(ethp2p_soap_msg_arg(&m, "NewExternalIPAddress"), "203.0.113.7");
  n = fixture("soap_getexternalip_nons.xml");
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "GetExternalIPAddress", g_buf, n, NULL), 0);
  ck_assert_str_eq(m.service_type, "");
  ck_assert_str_eq(ethp2p_soap_msg_arg(&m, "NewExternalIPAddress"), "198.51.100.23");
  n = fixture("soap_addany_ok.xml");
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "AddAnyPortMapping", g_buf, n, NULL), 0);
  ck_assert_str_eq(ethp2p_soap_msg_arg(&m, "NewReservedPort"), "40123");
  n = fixture("soap_addportmapping_ok.xml");
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "AddPortMapping", g_buf, n, NULL), 0);
  ck_assert_uint_eq(m.nargs, 0);
  n = fixture("soap_natrsip.xml");
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "GetNATRSIPStatus", g_buf, n, NULL), 0);
  ck_assert_str_eq(ethp2p_soap_msg_arg(&m, "NewNatEnabled"), "1");
  ck_assert_ptr_null(ethp2p_soap_msg_arg(&m, "NewMissing"));
  /* The wrong action is a protocol error. */
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "AddPortMapping", g_buf, n, NULL), ETHP2P_EPROTO);
}
END_TEST

START_TEST(soap_faults_carry_the_upnp_error) {
  ethp2p_soap_msg m;
  size_t n = fixture("soap_fault_718.xml");
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "AddPortMapping", g_buf, n, NULL),
                   ETHP2P_EREFUSED);
  ck_assert(m.is_fault);
  ck_assert_str_eq(m.fault_code, "s:Client");
  ck_assert_str_eq(m.fault_string, "UPnPError");
  ck_assert_int_eq(m.upnp_error_code, 718);
  ck_assert_str_eq(m.upnp_error_desc, "ConflictInMappingEntry");
  n = fixture("soap_fault_725_nons.xml");
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "AddPortMapping", g_buf, n, NULL),
                   ETHP2P_EREFUSED);
  ck_assert_int_eq(m.upnp_error_code, 725);
  ck_assert_str_eq(m.upnp_error_desc, "OnlyPermanentLeasesSupported");
}
END_TEST

START_TEST(soap_request_parse_reads_action_and_decoded_arguments) {
  ethp2p_soap_msg m;
  size_t n = fixture("soap_request_addportmapping.xml");
  ck_assert_int_eq(ethp2p_soap_request_parse(&m, g_buf, n, NULL), 0);
  ck_assert_str_eq(m.action, "AddPortMapping");
  ck_assert_str_eq(m.service_type, ETHP2P_UPNP_SVC_WANIP1);
  ck_assert_uint_eq(m.nargs, 8);
  ck_assert_str_eq(m.args[0].name, "NewRemoteHost");
  ck_assert_str_eq(m.args[0].value, "");
  ck_assert_str_eq(ethp2p_soap_msg_arg(&m, "NewPortMappingDescription"), "ethp2p & friends");
  ck_assert_str_eq(ethp2p_soap_msg_arg(&m, "NewInternalClient"), "192.168.1.2");
  n = fixture("soap_fault_718.xml");
  ck_assert_int_eq(ethp2p_soap_request_parse(&m, g_buf, n, NULL), ETHP2P_EPROTO);
  n = fixture("soap_natrsip.xml");
  ck_assert_int_eq(ethp2p_soap_request_parse(&m, g_buf, n, NULL), ETHP2P_EPROTO);
}
END_TEST

START_TEST(soap_structure_errors_are_refused) {
  ethp2p_soap_msg m;
  ethp2p_diag d = {0};
  char big[8192];
  size_t n = 0, i;
  ck_assert_int_eq(ethp2p_soap_parse(&m, "<Envelope/>", 11, &d), ETHP2P_ESYNTAX);
  ck_assert_str_eq(d.msg, "SOAP envelope without a Body");
  ck_assert_int_eq(ethp2p_soap_parse(&m, "<Envelope><Body/></Envelope>", 28, &d), ETHP2P_ESYNTAX);
  ck_assert_str_eq(d.msg, "SOAP Body is empty");
  ck_assert_int_eq(ethp2p_soap_parse(&m, "<Body><A/></Body>", 17, &d), ETHP2P_ESYNTAX);
  n += (size_t)snprintf(big, sizeof big, "<Envelope><Body><A>");
  for (i = 0; i <= ETHP2P_SOAP_MAX_ARGS; i++)
    n += (size_t)snprintf(big + n, sizeof big - n, "<N%zu>v</N%zu>", i, i);
  n += (size_t)snprintf(big + n, sizeof big - n, "</A></Body></Envelope>");
  ck_assert_int_eq(ethp2p_soap_parse(&m, big, n, &d), ETHP2P_ETOOBIG);
  ck_assert_str_eq(m.action, "");
}
END_TEST

START_TEST(soap_builders_escape_and_round_trip) {
  char buf[4096];
  size_t len, need;
  ethp2p_soap_msg m;
  ethp2p_soap_field f[] = {{"NewRemoteHost", ""},
                           {"NewPortMappingDescription", "a<b>&\"c'"},
                           {"NewExternalPort", "30303"}};
  ck_assert_int_eq(ethp2p_soap_request_build(buf, sizeof buf, &len, ETHP2P_UPNP_SVC_WANIP2,
                                             "AddPortMapping", f, 3),
                   0);
  ck_assert_uint_eq(strlen(buf), len);
  ck_assert_ptr_nonnull(strstr(buf, "<NewPortMappingDescription>a&lt;b&gt;&amp;&quot;c&apos;"
                                    "</NewPortMappingDescription>"));
  ck_assert_ptr_nonnull(
      strstr(buf, "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"));
  ck_assert_int_eq(ethp2p_soap_request_parse(&m, buf, len, NULL), 0);
  ck_assert_str_eq(m.service_type, ETHP2P_UPNP_SVC_WANIP2);
  ck_assert_str_eq(ethp2p_soap_msg_arg(&m, "NewPortMappingDescription"), "a<b>&\"c'");
  need = len;
  ck_assert_int_eq(
      ethp2p_soap_request_build(buf, 50, &len, ETHP2P_UPNP_SVC_WANIP2, "AddPortMapping", f, 3),
      ETHP2P_ESPACE);
  ck_assert_uint_eq(len, need);
  f[0].name = "bad name";
  ck_assert_int_eq(
      ethp2p_soap_request_build(buf, sizeof buf, &len, ETHP2P_UPNP_SVC_WANIP2, "X", f, 1),
      ETHP2P_EINVAL);

  ck_assert_int_eq(ethp2p_soap_response_build(buf, sizeof buf, &len, ETHP2P_UPNP_SVC_WANIP2,
                                              "AddAnyPortMapping", &f[2], 1),
                   0);
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "AddAnyPortMapping", buf, len, NULL), 0);
  ck_assert_str_eq(ethp2p_soap_msg_arg(&m, "NewExternalPort"), "30303");

  ck_assert_int_eq(ethp2p_soap_fault_build(buf, sizeof buf, &len, 725, NULL), 0);
  ck_assert_int_eq(ethp2p_soap_response_parse(&m, "AddPortMapping", buf, len, NULL),
                   ETHP2P_EREFUSED);
  ck_assert_int_eq(m.upnp_error_code, 725);
  ck_assert_str_eq(m.upnp_error_desc, "OnlyPermanentLeasesSupported");
}
END_TEST

START_TEST(soapaction_header_builds_and_parses) {
  char buf[256], st[128], action[64];
  ck_assert_int_eq(
      ethp2p_soap_action_header(buf, sizeof buf, ETHP2P_UPNP_SVC_WANIP1, "AddPortMapping"), 0);
  ck_assert_str_eq(buf, "\"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"");
  ck_assert_int_eq(ethp2p_soap_action_parse(buf, st, sizeof st, action, sizeof action), 0);
  ck_assert_str_eq(st, ETHP2P_UPNP_SVC_WANIP1);
  ck_assert_str_eq(action, "AddPortMapping");
  ck_assert_int_eq(ethp2p_soap_action_parse(" urn:x#Y ", st, sizeof st, action, sizeof action), 0);
  ck_assert_str_eq(action, "Y");
  ck_assert_int_eq(ethp2p_soap_action_parse("\"urn:x\"", st, sizeof st, action, sizeof action),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_soap_action_parse("urn:x#", st, sizeof st, action, sizeof action),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_soap_action_parse("urn:x#Y", st, 3, action, sizeof action),
                   ETHP2P_ETOOBIG);
}
END_TEST

START_TEST(xml_escape_and_error_names) {
  char out[32];
  size_t len;
  ck_assert_int_eq(ethp2p_xml_escape(out, sizeof out, &len, "<&>"), 0);
  ck_assert_str_eq(out, "&lt;&amp;&gt;");
  ck_assert_uint_eq(len, 13);
  ck_assert_int_eq(ethp2p_xml_escape(out, 5, &len, "<&>"), ETHP2P_ESPACE);
  ck_assert_uint_eq(len, 13);
  ck_assert_str_eq(ethp2p_upnp_error_name(718), "ConflictInMappingEntry");
  ck_assert_str_eq(ethp2p_upnp_error_name(606), "Action not authorized");
  ck_assert_str_eq(ethp2p_upnp_error_name(999), "");
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_xml");
  TCase *tc = tcase_create("xml");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, igd1_miniupnpd_description_finds_nested_wanipconnection1);
  tcase_add_test(tc, igd2_description_lists_wanipconnection2_and_the_ipv6_firewall);
  tcase_add_test(tc, miniupnpd_ipv6_description_gives_the_firewall_control_url);
  tcase_add_test(tc, ppp_description_with_urlbase_and_late_device_type);
  tcase_add_test(tc, description_without_namespaces_and_with_odd_whitespace_parses);
  tcase_add_test(tc, description_errors_are_reported);
  tcase_add_test(tc, service_kind_matching_is_trimmed_and_case_insensitive);
  tcase_add_test(tc, soap_success_responses_give_arguments_by_local_name);
  tcase_add_test(tc, soap_faults_carry_the_upnp_error);
  tcase_add_test(tc, soap_request_parse_reads_action_and_decoded_arguments);
  tcase_add_test(tc, soap_structure_errors_are_refused);
  tcase_add_test(tc, soap_builders_escape_and_round_trip);
  tcase_add_test(tc, soapaction_header_builds_and_parses);
  tcase_add_test(tc, xml_escape_and_error_names);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
