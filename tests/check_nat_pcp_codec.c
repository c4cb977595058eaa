/* tests/check_nat_pcp_codec.c — PCP codec (nat/pcp_codec.h) against RFC 6887 layouts. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "nat/pcp_codec.h"

/* MAP request: version 2, opcode 1, lifetime 7200, client ::ffff:192.168.1.2,
 * nonce 01..0c, TCP, internal 30303, suggested 30303, suggested ::ffff:0.0.0.0. */
static const uint8_t map_req[60] = {
    0x02, 0x01, 0x00, 0x00, /* version, R|opcode, reserved */
    0x00, 0x00, 0x1c, 0x20, /* requested lifetime */
    0,    0,    0,    0,    0, 0, 0, 0, 0, 0,  0xff, 0xff,
    192,  168,  1,    2,                                 /* client IP */
    1,    2,    3,    4,    5, 6, 7, 8, 9, 10, 11,   12, /* nonce */
    0x06, 0x00, 0x00, 0x00,                              /* protocol, reserved */
    0x76, 0x5f, 0x76, 0x5f,                              /* internal, suggested external port */
    0,    0,    0,    0,    0, 0, 0, 0, 0, 0,  0xff, 0xff,
    0,    0,    0,    0, /* suggested external IP */
};

static ethp2p_pcp_request sample_request(void) {
  ethp2p_pcp_request r;
  memset(&r, 0, sizeof r);
  r.version = 2;
  r.opcode = ETHP2P_PCP_OP_MAP;
  r.lifetime_s = 7200;
  r.client_ip = ethp2p_addr_v4(192, 168, 1, 2, 0);
  for (int i = 0; i < 12; i++)
    r.map.nonce[i] = (uint8_t)(i + 1);
  r.map.protocol = 6;
  r.map.internal_port = 30303;
  r.map.external_port = 30303;
  r.map.external_ip = ethp2p_addr_v4(0, 0, 0, 0, 0);
  return r;
}

START_TEST(map_request_encodes_exact_bytes) {
  ethp2p_pcp_request r = sample_request();
  uint8_t buf[128];
  ck_assert_int_eq(ethp2p_pcp_request_encode(buf, sizeof buf, &r), 60);
  ck_assert_mem_eq(buf, map_req, 60);
  ck_assert_int_eq(ethp2p_pcp_request_encode(buf, 59, &r), ETHP2P_ESPACE);
}
END_TEST

START_TEST(map_request_decodes_every_field) {
  ethp2p_pcp_request r;
  ck_assert_int_eq(ethp2p_pcp_request_decode(&r, map_req, sizeof map_req, NULL), 0);
  ck_assert_uint_eq(r.version, 2);
  ck_assert_uint_eq(r.opcode, 1);
  ck_assert_uint_eq(r.lifetime_s, 7200);
  ck_assert_uint_eq(r.client_ip.family, 4);
  ck_assert_uint_eq(r.client_ip.ip[0], 192);
  ck_assert_uint_eq(r.client_ip.ip[3], 2);
  ck_assert_uint_eq(r.map.nonce[11], 12);
  ck_assert_uint_eq(r.map.protocol, 6);
  ck_assert_uint_eq(r.map.internal_port, 30303);
  ck_assert_uint_eq(r.map.external_ip.family, 4);
  ck_assert_uint_eq(r.n_options, 0);
}
END_TEST

START_TEST(map_response_round_trips_with_assigned_address) {
  ethp2p_pcp_response resp;
  memset(&resp, 0, sizeof resp);
  resp.version = 2;
  resp.opcode = ETHP2P_PCP_OP_MAP;
  resp.result = 0;
  resp.lifetime_s = 3600;
  resp.epoch_s = 77;
  resp.has_map = true;
  for (int i = 0; i < 12; i++)
    resp.map.nonce[i] = (uint8_t)(0xa0 + i);
  resp.map.protocol = 17;
  resp.map.internal_port = 30303;
  resp.map.external_port = 40001;
  resp.map.external_ip = ethp2p_addr_v4(203, 0, 113, 9, 0);
  uint8_t buf[128];
  ck_assert_int_eq(ethp2p_pcp_response_encode(buf, sizeof buf, &resp), 60);
  static const uint8_t head[12] = {0x02, 0x81, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x10, 0, 0, 0, 77};
  ck_assert_mem_eq(buf, head, 12);
  static const uint8_t ext[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 9};
  ck_assert_mem_eq(buf + 44, ext, 16);
  ck_assert_uint_eq(buf[36], 17);
  ck_assert_uint_eq(buf[42], 0x9c);
  ck_assert_uint_eq(buf[43], 0x41);
  ethp2p_pcp_response back;
  ck_assert_int_eq(ethp2p_pcp_response_decode(&back, buf, 60, NULL), 0);
  ck_assert(back.has_map);
  ck_assert_uint_eq(back.map.external_port, 40001);
  ck_assert_uint_eq(back.epoch_s, 77);
  ck_assert_mem_eq(back.map.nonce, resp.map.nonce, 12);
  ck_assert_uint_eq(back.map.external_ip.ip[0], 203);
}
END_TEST

START_TEST(announce_response_is_header_only) {
  ethp2p_pcp_response a;
  memset(&a, 0, sizeof a);
  a.version = 2;
  a.opcode = ETHP2P_PCP_OP_ANNOUNCE;
  a.epoch_s = 3;
  uint8_t buf[64];
  ck_assert_int_eq(ethp2p_pcp_response_encode(buf, sizeof buf, &a), 24);
  static const uint8_t want[24] = {2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};
  ck_assert_mem_eq(buf, want, 24);
  ethp2p_pcp_response back;
  ck_assert_int_eq(ethp2p_pcp_response_decode(&back, want, 24, NULL), 0);
  ck_assert_uint_eq(back.opcode, 0);
  ck_assert(!back.has_map);
}
END_TEST

START_TEST(nat_pmp_unsupported_version_reply_is_flagged_for_downgrade) {
  static const uint8_t v0[8] = {0x00, 0x81, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00};
  ethp2p_pcp_response r;
  ck_assert_int_eq(ethp2p_pcp_response_decode(&r, v0, sizeof v0, NULL), ETHP2P_EUNSUPP);
  ck_assert_uint_eq(r.version, 0);
  ck_assert_uint_eq(r.result, ETHP2P_PCP_RESULT_UNSUPP_VERSION);
  ck_assert_uint_eq(r.opcode, ETHP2P_PCP_OP_MAP);
}
END_TEST

START_TEST(error_response_without_payload_decodes_but_success_must_have_it) {
  uint8_t buf[24] = {2, 0x81, 0, ETHP2P_PCP_RESULT_NOT_AUTHORIZED, 0, 0, 0x07, 0x08};
  ethp2p_pcp_response r;
  ck_assert_int_eq(ethp2p_pcp_response_decode(&r, buf, 24, NULL), 0);
  ck_assert(!r.has_map);
  ck_assert_uint_eq(r.result, 2);
  ck_assert_uint_eq(r.lifetime_s, 0x0708);
  buf[3] = 0;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_pcp_response_decode(&r, buf, 24, &d), ETHP2P_ETRUNC);
}
END_TEST

START_TEST(decoders_enforce_size_rules_and_r_bit) {
  ethp2p_pcp_request q;
  ethp2p_pcp_response r;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_pcp_request_decode(&q, map_req, 58, &d), ETHP2P_EPROTO); /* not %4 */
  ck_assert_int_eq(ethp2p_pcp_request_decode(&q, map_req, 56, &d), ETHP2P_ETRUNC);
  ck_assert_int_eq(ethp2p_pcp_response_decode(&r, map_req, 60, &d), ETHP2P_EPROTO); /* R clear */
  uint8_t big[1104] = {2, 1};
  ck_assert_int_eq(ethp2p_pcp_request_decode(&q, big, sizeof big, &d), ETHP2P_EPROTO);
  uint8_t peer[24] = {2, 2};
  ck_assert_int_eq(ethp2p_pcp_request_decode(&q, peer, sizeof peer, &d), ETHP2P_EUNSUPP);
  ck_assert_uint_eq(q.opcode, 2);
  uint8_t v1[24] = {1, 1};
  ck_assert_int_eq(ethp2p_pcp_request_decode(&q, v1, sizeof v1, &d), ETHP2P_EUNSUPP);
  ck_assert_uint_eq(q.version, 1);
}
END_TEST

START_TEST(options_are_padded_and_parsed) {
  ethp2p_pcp_request r = sample_request();
  r.n_options = 2;
  r.options[0].code = ETHP2P_PCP_OPT_PREFER_FAILURE;
  r.options[0].len = 0;
  r.options[1].code = 200;
  r.options[1].len = 3;
  memcpy(r.options[1].data, "abc", 3);
  uint8_t buf[128];
  ck_assert_int_eq(ethp2p_pcp_request_encode(buf, sizeof buf, &r), 60 + 4 + 8);
  static const uint8_t opts[12] = {2, 0, 0, 0, 200, 0, 0, 3, 'a', 'b', 'c', 0};
  ck_assert_mem_eq(buf + 60, opts, 12);
  ethp2p_pcp_request back;
  ck_assert_int_eq(ethp2p_pcp_request_decode(&back, buf, 72, NULL), 0);
  ck_assert_uint_eq(back.n_options, 2);
  ck_assert_uint_eq(back.options[1].code, 200);
  ck_assert_uint_eq(back.options[1].len, 3);
  buf[60 + 4 + 3] = 40; /* option length past the end */
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_pcp_request_decode(&back, buf, 72, &d), ETHP2P_ETRUNC);
  ck_assert_uint_eq(d.offset, 64);
}
END_TEST

START_TEST(ipv4_mapped_addresses_convert_both_ways) {
  uint8_t w[16];
  ethp2p_addr a = ethp2p_addr_v4(10, 1, 2, 3, 99);
  ethp2p_pcp_addr_to_wire(w, &a);
  static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
  ck_assert_mem_eq(w, want, 16);
  ethp2p_addr b;
  ethp2p_pcp_addr_from_wire(&b, w);
  ck_assert_uint_eq(b.family, 4);
  ck_assert_uint_eq(b.port, 0);
  ck_assert_mem_eq(b.ip, a.ip, 4);
  w[10] = 0;
  ethp2p_pcp_addr_from_wire(&b, w);
  ck_assert_uint_eq(b.family, 6);
}
END_TEST

START_TEST(result_codes_have_names_meanings_and_lifetime_class) {
  static const char *names[14] = {
      "SUCCESS",          "UNSUPP_VERSION",        "NOT_AUTHORIZED",   "MALFORMED_REQUEST",
      "UNSUPP_OPCODE",    "UNSUPP_OPTION",         "MALFORMED_OPTION", "NETWORK_FAILURE",
      "NO_RESOURCES",     "UNSUPP_PROTOCOL",       "USER_EX_QUOTA",    "CANNOT_PROVIDE_EXTERNAL",
      "ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS"};
  for (unsigned i = 0; i < 14; i++) {
    ck_assert_str_eq(ethp2p_pcp_result_name(i), names[i]);
    ck_assert_str_ne(ethp2p_pcp_result_meaning(i), "unknown result code");
  }
  ck_assert_str_eq(ethp2p_pcp_result_name(14), "UNKNOWN");
  ck_assert(ethp2p_pcp_result_is_short_lifetime(ETHP2P_PCP_RESULT_NO_RESOURCES));
  ck_assert(ethp2p_pcp_result_is_short_lifetime(ETHP2P_PCP_RESULT_USER_EX_QUOTA));
  ck_assert(!ethp2p_pcp_result_is_short_lifetime(ETHP2P_PCP_RESULT_NOT_AUTHORIZED));
  ck_assert(!ethp2p_pcp_result_is_short_lifetime(ETHP2P_PCP_RESULT_UNSUPP_PROTOCOL));
}
END_TEST

START_TEST(epoch_check_follows_rfc6887_8_5) {
  ethp2p_time t0 = 50 * ETHP2P_SEC;
  ck_assert(!ethp2p_pcp_epoch_lost(1000, t0, 1100, t0 + 100 * ETHP2P_SEC));
  ck_assert(!ethp2p_pcp_epoch_lost(1000, t0, 999, t0)); /* back 1 s: reordering */
  ck_assert(ethp2p_pcp_epoch_lost(1000, t0, 998, t0));  /* back 2 s */
  ck_assert(ethp2p_pcp_epoch_lost(1000, t0, 1010, t0 + 100 * ETHP2P_SEC)); /* too slow */
  ck_assert(ethp2p_pcp_epoch_lost(1000, t0, 1200, t0 + 100 * ETHP2P_SEC)); /* too fast */
  /* client 100, server 92: 92 + 2 = 94 >= 100 - 6 = 94, valid */
  ck_assert(!ethp2p_pcp_epoch_lost(1000, t0, 1092, t0 + 100 * ETHP2P_SEC));
  ck_assert(ethp2p_pcp_epoch_lost(1000, t0, 1091, t0 + 100 * ETHP2P_SEC));
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_pcp_codec");
  TCase *tc = tcase_create("pcp_codec");
  tcase_add_test(tc, map_request_encodes_exact_bytes);
  tcase_add_test(tc, map_request_decodes_every_field);
  tcase_add_test(tc, map_response_round_trips_with_assigned_address);
  tcase_add_test(tc, announce_response_is_header_only);
  tcase_add_test(tc, nat_pmp_unsupported_version_reply_is_flagged_for_downgrade);
  tcase_add_test(tc, error_response_without_payload_decodes_but_success_must_have_it);
  tcase_add_test(tc, decoders_enforce_size_rules_and_r_bit);
  tcase_add_test(tc, options_are_padded_and_parsed);
  tcase_add_test(tc, ipv4_mapped_addresses_convert_both_ways);
  tcase_add_test(tc, result_codes_have_names_meanings_and_lifetime_class);
  tcase_add_test(tc, epoch_check_follows_rfc6887_8_5);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
