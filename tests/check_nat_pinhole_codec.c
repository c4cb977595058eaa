/* tests/check_nat_pinhole_codec.c — WANIPv6FirewallControl:1 codec (nat/pinhole_codec.h):
 * requests parsed back by the SOAP parser, responses and faults as miniupnpd 2.3.1 sends them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/pinhole_codec.h"
#include "nat/xml.h"

static ethp2p_addr ip6(const char *s) {
  ethp2p_addr a;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, s), 0);
  return a;
}

static ethp2p_pinhole_req add_req(void) {
  ethp2p_pinhole_req r = {.action = ETHP2P_PINHOLE_ADD,
                          .remote_any = true,
                          .internal_client = ip6("3fff:0:1::10"),
                          .internal_port = 30303,
                          .protocol = ETHP2P_PINHOLE_TCP,
                          .lease_s = 3600};
  return r;
}

/* Builds req and parses it back as a router would; returns the action's arguments. */
static void build_and_parse(const ethp2p_pinhole_req *req, ethp2p_soap_msg *m) {
  char buf[ETHP2P_PINHOLE_MAX_REQUEST];
  size_t len = 0;
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, req), 0);
  ck_assert_uint_eq(strlen(buf), len);
  ck_assert_int_eq(ethp2p_soap_request_parse(m, buf, len, NULL), 0);
  ck_assert_str_eq(m->service_type, ETHP2P_PINHOLE_SERVICE);
  ck_assert_str_eq(m->action, ethp2p_pinhole_action_name(req->action));
}

static const struct {
  ethp2p_pinhole_action action;
  const char *args; /* "Name=value;..." in order */
} request_table[] = {
    {ETHP2P_PINHOLE_GET_FIREWALL_STATUS, ""},
    {ETHP2P_PINHOLE_GET_OUTBOUND_TIMEOUT,
     "RemoteHost=;RemotePort=0;InternalClient=3fff:0:1::10;InternalPort=30303;Protocol=6;"},
    {ETHP2P_PINHOLE_ADD, "RemoteHost=;RemotePort=0;InternalClient=3fff:0:1::10;InternalPort=30303;"
                         "Protocol=6;LeaseTime=3600;"},
    {ETHP2P_PINHOLE_UPDATE, "UniqueID=65535;NewLeaseTime=3600;"},
    {ETHP2P_PINHOLE_DELETE, "UniqueID=65535;"},
    {ETHP2P_PINHOLE_CHECK_WORKING, "UniqueID=65535;"},
};

START_TEST(requests_carry_the_spec_argument_names_in_order) {
  ethp2p_pinhole_req req = add_req();
  req.action = request_table[_i].action;
  req.unique_id = 65535;
  ethp2p_soap_msg *m = calloc(1, sizeof *m);
  build_and_parse(&req, m);
  char got[512] = "";
  for (size_t i = 0; i < m->nargs; i++) {
    size_t l = strlen(got);
    snprintf(got + l, sizeof got - l, "%s=%s;", m->args[i].name, m->args[i].value);
  }
  ck_assert_str_eq(got, request_table[_i].args);
  free(m);
}
END_TEST

START_TEST(add_pinhole_with_a_remote_host_and_udp) {
  ethp2p_pinhole_req req = add_req();
  req.remote_any = false;
  req.remote_host = ip6("3fff:0:2::1");
  req.remote_port = 9000;
  req.protocol = ETHP2P_PINHOLE_UDP;
  req.lease_s = 86400;
  ethp2p_soap_msg *m = calloc(1, sizeof *m);
  build_and_parse(&req, m);
  ck_assert_str_eq(ethp2p_soap_msg_arg(m, "RemoteHost"), "3fff:0:2::1");
  ck_assert_str_eq(ethp2p_soap_msg_arg(m, "RemotePort"), "9000");
  ck_assert_str_eq(ethp2p_soap_msg_arg(m, "Protocol"), "17");
  ck_assert_str_eq(ethp2p_soap_msg_arg(m, "LeaseTime"), "86400");
  free(m);
  char sa[160];
  ck_assert_int_eq(ethp2p_pinhole_soap_action(sa, sizeof sa, ETHP2P_PINHOLE_ADD), 0);
  ck_assert_str_eq(sa, "\"urn:schemas-upnp-org:service:WANIPv6FirewallControl:1#AddPinhole\"");
}
END_TEST

START_TEST(bad_requests_are_refused_before_sending) {
  char buf[ETHP2P_PINHOLE_MAX_REQUEST];
  size_t len = 0;
  static const uint32_t bad_leases[] = {0, 86401, UINT32_MAX};
  for (size_t i = 0; i < 3; i++) {
    ethp2p_pinhole_req r = add_req();
    r.lease_s = bad_leases[i];
    ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), ETHP2P_ERANGE);
    r.action = ETHP2P_PINHOLE_UPDATE;
    ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), ETHP2P_ERANGE);
  }
  ethp2p_pinhole_req r = add_req();
  r.lease_s = 1; /* the smallest lease is fine */
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), 0);
  r = add_req();
  r.internal_client = ethp2p_addr_v4(192, 0, 2, 1, 0);
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), ETHP2P_EINVAL);
  r = add_req();
  r.internal_client = ip6("::");
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), ETHP2P_EINVAL);
  r = add_req();
  r.internal_port = 0;
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), ETHP2P_EINVAL);
  r = add_req();
  r.protocol = 65535; /* the protocol wildcard: refused by routers (707) */
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), ETHP2P_EINVAL);
  r = add_req();
  r.remote_any = false;
  r.remote_host = ethp2p_addr_v4(192, 0, 2, 1, 0);
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), ETHP2P_EINVAL);
  r = add_req();
  r.action = (ethp2p_pinhole_action)99;
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, sizeof buf, &len, &r), ETHP2P_EINVAL);
  r = add_req();
  ck_assert_int_eq(ethp2p_pinhole_request_build(buf, 10, &len, &r), ETHP2P_ESPACE);
  ck_assert_uint_gt(len, 10);
}
END_TEST

#define ENV_OPEN                                                                                   \
  "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "  \
  "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
#define ENV_CLOSE "</s:Body></s:Envelope>\r\n"
#define RESP(action, args)                                                                         \
  ENV_OPEN "<u:" action                                                                            \
           "Response xmlns:u=\"urn:schemas-upnp-org:service:WANIPv6FirewallControl:1\">" args      \
           "</u:" action "Response>" ENV_CLOSE
#define FAULT(code, desc)                                                                          \
  ENV_OPEN "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"  \
           "<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>" code                \
           "</errorCode><errorDescription>" desc "</errorDescription></UPnPError></detail>"        \
           "</s:Fault>" ENV_CLOSE

static const struct {
  ethp2p_pinhole_action action;
  int http;
  const char *body;
  int rc;
  int code;
  int value; /* unique_id, outbound timeout, or the booleans as bits (enabled 1, allowed 2,
                working 4) */
} response_table[] = {
    {ETHP2P_PINHOLE_GET_FIREWALL_STATUS, 200,
     RESP("GetFirewallStatus",
          "<FirewallEnabled>1</FirewallEnabled><InboundPinholeAllowed>1</InboundPinholeAllowed>"),
     0, 0, 3},
    {ETHP2P_PINHOLE_GET_FIREWALL_STATUS, 200,
     RESP("GetFirewallStatus", "<FirewallEnabled>true</FirewallEnabled><InboundPinholeAllowed>no</"
                               "InboundPinholeAllowed>"),
     0, 0, 1},
    {ETHP2P_PINHOLE_GET_FIREWALL_STATUS, 200,
     RESP("GetFirewallStatus", "<FirewallEnabled>1</FirewallEnabled>"), ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_GET_FIREWALL_STATUS, 200,
     RESP("GetFirewallStatus",
          "<FirewallEnabled>2</FirewallEnabled><InboundPinholeAllowed>1</InboundPinholeAllowed>"),
     ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_GET_OUTBOUND_TIMEOUT, 200,
     RESP("GetOutboundPinholeTimeout", "<OutboundPinholeTimeout>120</OutboundPinholeTimeout>"), 0,
     0, 120},
    {ETHP2P_PINHOLE_ADD, 200, RESP("AddPinhole", "<UniqueID>1</UniqueID>"), 0, 0, 1},
    {ETHP2P_PINHOLE_ADD, 200, RESP("AddPinhole", "<UniqueID>65535</UniqueID>"), 0, 0, 65535},
    {ETHP2P_PINHOLE_ADD, 200, RESP("AddPinhole", "<UniqueID>65536</UniqueID>"), ETHP2P_EPROTO, 0,
     0},
    {ETHP2P_PINHOLE_ADD, 200, RESP("AddPinhole", "<UniqueID>-1</UniqueID>"), ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_ADD, 200, RESP("AddPinhole", "<UniqueID></UniqueID>"), ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_ADD, 200, RESP("AddPinhole", ""), ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_ADD, 200, RESP("UpdatePinhole", ""), ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_ADD, 500, RESP("AddPinhole", "<UniqueID>1</UniqueID>"), ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_ADD, 404, "", ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_UPDATE, 200, RESP("UpdatePinhole", ""), 0, 0, 0},
    {ETHP2P_PINHOLE_DELETE, 200, RESP("DeletePinhole", ""), 0, 0, 0},
    {ETHP2P_PINHOLE_CHECK_WORKING, 200, RESP("CheckPinholeWorking", "<IsWorking>1</IsWorking>"), 0,
     0, 4},
    {ETHP2P_PINHOLE_CHECK_WORKING, 200, RESP("CheckPinholeWorking", "<IsWorking>0</IsWorking>"), 0,
     0, 0},
    /* Faults with HTTP 500 (UDA 1.1 section 3.2.2); codes of section 2.4 of the service. */
    {ETHP2P_PINHOLE_ADD, 500, FAULT("606", "Action not authorized"), ETHP2P_EPERM, 606, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("701", "PinholeSpaceExhausted"), ETHP2P_EBUSY, 701, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("702", "FirewallDisabled"), ETHP2P_EUNSUPP, 702, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("703", "InboundPinholeNotAllowed"), ETHP2P_EPERM, 703, 0},
    {ETHP2P_PINHOLE_UPDATE, 500, FAULT("704", "NoSuchEntry"), ETHP2P_ENOTFOUND, 704, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("705", "ProtocolNotSupported"), ETHP2P_EUNSUPP, 705, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("706", "InternalPortWilcardingNotAllowed"), ETHP2P_EINVAL, 706,
     0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("707", "ProtocolWildcardingNotAllowed"), ETHP2P_EINVAL, 707, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("708", "WildCardNotPermittedInSrcIP"), ETHP2P_EINVAL, 708, 0},
    {ETHP2P_PINHOLE_CHECK_WORKING, 500, FAULT("709", "NoTrafficReceived"), ETHP2P_ESTATE, 709, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("402", "Invalid Args"), ETHP2P_EINVAL, 402, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("401", "Invalid Action"), ETHP2P_EUNSUPP, 401, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("501", "Action Failed"), ETHP2P_EIO, 501, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("799", "Vendor"), ETHP2P_EREFUSED, 799, 0},
    {ETHP2P_PINHOLE_ADD, 200, FAULT("701", "PinholeSpaceExhausted"), ETHP2P_EPROTO, 701, 0},
    {ETHP2P_PINHOLE_ADD, 500, FAULT("x", "no code"), ETHP2P_EPROTO, 0, 0},
    {ETHP2P_PINHOLE_ADD, 200, "<s:Envelope", ETHP2P_ESYNTAX, 0, 0},
};

START_TEST(responses_and_faults) {
  ethp2p_pinhole_result r;
  ethp2p_diag diag = {0};
  const char *body = response_table[_i].body;
  int rc = ethp2p_pinhole_response_parse(&r, response_table[_i].action, response_table[_i].http,
                                         body, strlen(body), &diag);
  ck_assert_msg(rc == response_table[_i].rc, "row %d: got %s want %s (%s)", _i, ethp2p_err_name(rc),
                ethp2p_err_name(response_table[_i].rc), diag.msg);
  ck_assert_int_eq(r.upnp_code, response_table[_i].code);
  if (r.upnp_code != 0 && rc != ETHP2P_EPROTO)
    ck_assert_uint_gt(strlen(r.upnp_desc), 0);
  if (rc != 0)
    return;
  int v = response_table[_i].value;
  switch (response_table[_i].action) {
  case ETHP2P_PINHOLE_GET_FIREWALL_STATUS:
    ck_assert_int_eq(r.firewall_enabled, (v & 1) != 0);
    ck_assert_int_eq(r.inbound_pinhole_allowed, (v & 2) != 0);
    break;
  case ETHP2P_PINHOLE_GET_OUTBOUND_TIMEOUT:
    ck_assert_uint_eq(r.outbound_timeout_s, (unsigned)v);
    break;
  case ETHP2P_PINHOLE_ADD:
    ck_assert_uint_eq(r.unique_id, (unsigned)v);
    break;
  case ETHP2P_PINHOLE_CHECK_WORKING:
    ck_assert_int_eq(r.is_working, (v & 4) != 0);
    break;
  default:
    break;
  }
}
END_TEST

START_TEST(faults_built_by_the_soap_builder_map_like_literal_ones) {
  static const int codes[] = {606, 701, 702, 703, 704, 705, 706, 707, 708, 709};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    char buf[2048];
    size_t len = 0;
    ck_assert_int_eq(ethp2p_soap_fault_build(buf, sizeof buf, &len, codes[i], "x"), 0);
    ethp2p_pinhole_result r;
    int rc = ethp2p_pinhole_response_parse(&r, ETHP2P_PINHOLE_ADD, 500, buf, len, NULL);
    ck_assert_int_eq(rc, ethp2p_pinhole_fault_status(codes[i]));
    ck_assert_int_ne(rc, 0);
    ck_assert_int_eq(r.upnp_code, codes[i]);
  }
  ck_assert_int_eq(ethp2p_pinhole_fault_status(0), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_pinhole_codec");
  TCase *tc = tcase_create("pinhole_codec");
  tcase_add_loop_test(tc, requests_carry_the_spec_argument_names_in_order, 0,
                      (int)(sizeof request_table / sizeof request_table[0]));
  tcase_add_test(tc, add_pinhole_with_a_remote_host_and_udp);
  tcase_add_test(tc, bad_requests_are_refused_before_sending);
  tcase_add_loop_test(tc, responses_and_faults, 0,
                      (int)(sizeof response_table / sizeof response_table[0]));
  tcase_add_test(tc, faults_built_by_the_soap_builder_map_like_literal_ones);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
