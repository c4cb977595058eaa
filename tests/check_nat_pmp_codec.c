/* tests/check_nat_pmp_codec.c — NAT-PMP codec (nat/pmp_codec.h) against RFC 6886 layouts. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "nat/pmp_codec.h"

START_TEST(map_request_encodes_rfc6886_layout) {
  ethp2p_pmp_request req = {.version = 0,
                            .opcode = ETHP2P_PMP_OP_MAP_TCP,
                            .internal_port = 30303,
                            .suggested_port = 30304,
                            .lifetime_s = 7200};
  static const uint8_t want[12] = {0x00, 0x02, 0x00, 0x00, 0x76, 0x5f,
                                   0x76, 0x60, 0x00, 0x00, 0x1c, 0x20};
  uint8_t buf[16];
  ck_assert_int_eq(ethp2p_pmp_request_encode(buf, sizeof buf, &req), 12);
  ck_assert_mem_eq(buf, want, 12);
  ck_assert_int_eq(ethp2p_pmp_request_encode(buf, 11, &req), ETHP2P_ESPACE);
  ethp2p_pmp_request back;
  ck_assert_int_eq(ethp2p_pmp_request_decode(&back, want, 12, NULL), 0);
  ck_assert_uint_eq(back.opcode, 2);
  ck_assert_uint_eq(back.internal_port, 30303);
  ck_assert_uint_eq(back.suggested_port, 30304);
  ck_assert_uint_eq(back.lifetime_s, 7200);
}
END_TEST

START_TEST(delete_request_is_lifetime_zero_port_zero) {
  ethp2p_pmp_request req = {.opcode = ETHP2P_PMP_OP_MAP_UDP, .internal_port = 5000};
  static const uint8_t want[12] = {0, 1, 0, 0, 0x13, 0x88, 0, 0, 0, 0, 0, 0};
  uint8_t buf[12];
  ck_assert_int_eq(ethp2p_pmp_request_encode(buf, sizeof buf, &req), 12);
  ck_assert_mem_eq(buf, want, 12);
}
END_TEST

START_TEST(extaddr_request_is_two_bytes) {
  ethp2p_pmp_request req = {.opcode = ETHP2P_PMP_OP_EXTADDR};
  uint8_t buf[2];
  ck_assert_int_eq(ethp2p_pmp_request_encode(buf, sizeof buf, &req), 2);
  ck_assert_uint_eq(buf[0], 0);
  ck_assert_uint_eq(buf[1], 0);
  req.opcode = 3;
  ck_assert_int_eq(ethp2p_pmp_request_encode(buf, sizeof buf, &req), ETHP2P_EINVAL);
}
END_TEST

START_TEST(request_decode_reports_version_and_opcode_problems) {
  ethp2p_pmp_request r;
  ethp2p_diag d = {0};
  static const uint8_t v1[2] = {1, 0};
  ck_assert_int_eq(ethp2p_pmp_request_decode(&r, v1, 2, &d), ETHP2P_EUNSUPP);
  ck_assert_uint_eq(r.version, 1);
  static const uint8_t op9[2] = {0, 9};
  ck_assert_int_eq(ethp2p_pmp_request_decode(&r, op9, 2, &d), ETHP2P_EUNSUPP);
  ck_assert_uint_eq(r.opcode, 9);
  static const uint8_t resp[2] = {0, 128};
  ck_assert_int_eq(ethp2p_pmp_request_decode(&r, resp, 2, &d), ETHP2P_EPROTO);
  static const uint8_t shortmap[8] = {0, 2, 0, 0, 0, 1, 0, 1};
  ck_assert_int_eq(ethp2p_pmp_request_decode(&r, shortmap, 8, &d), ETHP2P_ETRUNC);
  ck_assert_uint_eq(d.offset, 8);
  ck_assert_int_eq(ethp2p_pmp_request_decode(&r, shortmap, 1, &d), ETHP2P_ETRUNC);
}
END_TEST

START_TEST(extaddr_reply_and_announcement_round_trip) {
  /* 0, 128, result 0, epoch 1234, 198.51.100.7 */
  static const uint8_t wire[12] = {0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x04, 0xd2, 198, 51, 100, 7};
  ethp2p_pmp_reply r;
  ck_assert_int_eq(ethp2p_pmp_reply_decode(&r, wire, sizeof wire, NULL), 0);
  ck_assert_uint_eq(r.opcode, 0);
  ck_assert_uint_eq(r.result, 0);
  ck_assert_uint_eq(r.epoch_s, 1234);
  ck_assert_uint_eq(r.external_ip[0], 198);
  ck_assert_uint_eq(r.external_ip[3], 7);
  ck_assert(!r.header_only);
  uint8_t buf[16];
  ck_assert_int_eq(ethp2p_pmp_reply_encode(buf, sizeof buf, &r), 12);
  ck_assert_mem_eq(buf, wire, 12);
}
END_TEST

START_TEST(map_reply_round_trips) {
  /* 0, 130, result 0, epoch 0x01020304, internal 30303, mapped 40000, lifetime 3600 */
  static const uint8_t wire[16] = {0x00, 0x82, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
                                   0x76, 0x5f, 0x9c, 0x40, 0x00, 0x00, 0x0e, 0x10};
  ethp2p_pmp_reply r;
  ck_assert_int_eq(ethp2p_pmp_reply_decode(&r, wire, sizeof wire, NULL), 0);
  ck_assert_uint_eq(r.opcode, 2);
  ck_assert_uint_eq(r.epoch_s, 0x01020304);
  ck_assert_uint_eq(r.internal_port, 30303);
  ck_assert_uint_eq(r.mapped_port, 40000);
  ck_assert_uint_eq(r.lifetime_s, 3600);
  uint8_t buf[16];
  ck_assert_int_eq(ethp2p_pmp_reply_encode(buf, sizeof buf, &r), 16);
  ck_assert_mem_eq(buf, wire, 16);
}
END_TEST

START_TEST(error_reply_header_only_form_is_accepted_and_rebuilt) {
  /* "unsupported version" answer to a PCP MAP request: 8 bytes. */
  static const uint8_t wire[8] = {0x00, 0x81, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2a};
  ethp2p_pmp_reply r;
  ck_assert_int_eq(ethp2p_pmp_reply_decode(&r, wire, sizeof wire, NULL), 0);
  ck_assert(r.header_only);
  ck_assert_uint_eq(r.result, ETHP2P_PMP_RESULT_UNSUPP_VERSION);
  ck_assert_uint_eq(r.epoch_s, 42);
  uint8_t buf[16];
  ck_assert_int_eq(ethp2p_pmp_reply_encode(buf, sizeof buf, &r), 8);
  ck_assert_mem_eq(buf, wire, 8);
  /* A success reply must be complete. */
  static const uint8_t shortok[8] = {0x00, 0x82, 0x00, 0x00, 0, 0, 0, 1};
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_pmp_reply_decode(&r, shortok, sizeof shortok, &d), ETHP2P_ETRUNC);
  ck_assert_ptr_nonnull(strstr(d.msg, "needs 16"));
}
END_TEST

START_TEST(reply_decode_rejects_requests_and_other_versions) {
  ethp2p_pmp_reply r;
  ethp2p_diag d = {0};
  static const uint8_t req[12] = {0, 2, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1};
  ck_assert_int_eq(ethp2p_pmp_reply_decode(&r, req, sizeof req, &d), ETHP2P_EPROTO);
  ck_assert_uint_eq(d.offset, 1);
  static const uint8_t pcp[24] = {2, 0x81};
  ck_assert_int_eq(ethp2p_pmp_reply_decode(&r, pcp, sizeof pcp, &d), ETHP2P_EUNSUPP);
  static const uint8_t tiny[3] = {0, 0x80, 0};
  ck_assert_int_eq(ethp2p_pmp_reply_decode(&r, tiny, sizeof tiny, &d), ETHP2P_ETRUNC);
}
END_TEST

START_TEST(unsupported_opcode_echo_sets_bit_and_result) {
  static const uint8_t req[4] = {0, 7, 0xaa, 0xbb};
  uint8_t buf[8];
  ck_assert_int_eq(ethp2p_pmp_unsupp_opcode_encode(buf, sizeof buf, req, sizeof req), 4);
  static const uint8_t want[4] = {0, 0x87, 0, 5};
  ck_assert_mem_eq(buf, want, 4);
}
END_TEST

START_TEST(result_names_and_meanings_cover_all_codes) {
  ck_assert_str_eq(ethp2p_pmp_result_name(2), "NOT_AUTHORIZED");
  ck_assert_str_eq(ethp2p_pmp_result_name(4), "OUT_OF_RESOURCES");
  ck_assert_str_eq(ethp2p_pmp_result_name(99), "UNKNOWN");
  for (unsigned i = 0; i <= 5; i++)
    ck_assert_str_ne(ethp2p_pmp_result_meaning(i), "unknown result code");
}
END_TEST

START_TEST(epoch_check_follows_rfc6886_3_6) {
  ethp2p_time t0 = 100 * ETHP2P_SEC;
  /* 100 s later the epoch must be at least 1000 + 87.5 - 2 = 1085.5. */
  ck_assert(!ethp2p_pmp_epoch_lost(1000, t0, 1100, t0 + 100 * ETHP2P_SEC));
  ck_assert(!ethp2p_pmp_epoch_lost(1000, t0, 1086, t0 + 100 * ETHP2P_SEC)); /* >= 1085.5 */
  ck_assert(ethp2p_pmp_epoch_lost(1000, t0, 1085, t0 + 100 * ETHP2P_SEC));
  ck_assert(ethp2p_pmp_epoch_lost(1000, t0, 3, t0 + 1 * ETHP2P_SEC)); /* reboot */
  ck_assert(!ethp2p_pmp_epoch_lost(1000, t0, 999, t0));               /* within 2 s slack */
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_pmp_codec");
  TCase *tc = tcase_create("pmp_codec");
  tcase_add_test(tc, map_request_encodes_rfc6886_layout);
  tcase_add_test(tc, delete_request_is_lifetime_zero_port_zero);
  tcase_add_test(tc, extaddr_request_is_two_bytes);
  tcase_add_test(tc, request_decode_reports_version_and_opcode_problems);
  tcase_add_test(tc, extaddr_reply_and_announcement_round_trip);
  tcase_add_test(tc, map_reply_round_trips);
  tcase_add_test(tc, error_reply_header_only_form_is_accepted_and_rebuilt);
  tcase_add_test(tc, reply_decode_rejects_requests_and_other_versions);
  tcase_add_test(tc, unsupported_opcode_echo_sets_bit_and_result);
  tcase_add_test(tc, result_names_and_meanings_cover_all_codes);
  tcase_add_test(tc, epoch_check_follows_rfc6886_3_6);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
