/* tests/check_nat_stun_codec.c — STUN codec (nat/stun_codec.h) against the RFC 5769 vectors. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "nat/stun_codec.h"

static const char password[] = "VOkJxbRl1RmTxUk/WvJxBt"; /* RFC 5769 §2 */
static const uint8_t txid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* RFC 5769 §2.1 sample request. */
static const uint8_t sample_request[108] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

/* RFC 5769 §2.2 sample IPv4 response: 192.0.2.1:32853. */
static const uint8_t sample_ipv4_response[80] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

/* RFC 5769 §2.3 sample IPv6 response: [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t sample_ipv6_response[92] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

static const ethp2p_stun_encode_opts vector_opts = {
    .integrity_key = (const uint8_t *)password,
    .integrity_key_len = sizeof password - 1,
    .fingerprint = true,
    .pad_byte = 0x20,
};

START_TEST(rfc5769_ipv4_response_is_reproduced_byte_for_byte) {
  ethp2p_stun_msg m;
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_STUN_BINDING_SUCCESS;
  memcpy(m.txid, txid, 12);
  m.present = ETHP2P_STUN_HAS_SOFTWARE | ETHP2P_STUN_HAS_XOR_MAPPED;
  memcpy(m.software, "test vector", sizeof "test vector");
  m.xor_mapped = ethp2p_addr_v4(192, 0, 2, 1, 32853);
  uint8_t buf[256];
  ck_assert_int_eq(ethp2p_stun_encode(buf, sizeof buf, &m, &vector_opts), 80);
  ck_assert_mem_eq(buf, sample_ipv4_response, 80);
}
END_TEST

START_TEST(rfc5769_ipv4_response_decodes_and_verifies) {
  ethp2p_stun_msg m;
  ck_assert_int_eq(ethp2p_stun_decode(&m, sample_ipv4_response, 80, NULL), 0);
  ck_assert_uint_eq(m.type, ETHP2P_STUN_BINDING_SUCCESS);
  ck_assert(m.present & ETHP2P_STUN_HAS_XOR_MAPPED);
  ck_assert_uint_eq(m.xor_mapped.family, 4);
  ck_assert_uint_eq(m.xor_mapped.port, 32853);
  static const uint8_t ip[4] = {192, 0, 2, 1};
  ck_assert_mem_eq(m.xor_mapped.ip, ip, 4);
  ck_assert_str_eq(m.software, "test vector");
  ck_assert(m.fingerprint_ok);
  ck_assert_int_eq(ethp2p_stun_check_integrity(&m, sample_ipv4_response, 80,
                                               (const uint8_t *)password, sizeof password - 1),
                   0);
  ck_assert_int_eq(
      ethp2p_stun_check_integrity(&m, sample_ipv4_response, 80, (const uint8_t *)"wrong", 5),
      ETHP2P_ESIG);
}
END_TEST

START_TEST(rfc5769_ipv6_response_is_reproduced_and_decoded) {
  ethp2p_stun_msg m;
  ck_assert_int_eq(ethp2p_stun_decode(&m, sample_ipv6_response, 92, NULL), 0);
  ck_assert_uint_eq(m.xor_mapped.family, 6);
  ck_assert_uint_eq(m.xor_mapped.port, 32853);
  static const uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  ck_assert_mem_eq(m.xor_mapped.ip, ip, 16);
  uint8_t buf[256];
  ck_assert_int_eq(ethp2p_stun_encode(buf, sizeof buf, &m, &vector_opts), 92);
  ck_assert_mem_eq(buf, sample_ipv6_response, 92);
}
END_TEST

START_TEST(rfc5769_request_decodes_with_unknown_attributes_listed) {
  ethp2p_stun_msg m;
  ck_assert_int_eq(ethp2p_stun_decode(&m, sample_request, sizeof sample_request, NULL), 0);
  ck_assert_uint_eq(m.type, ETHP2P_STUN_BINDING_REQUEST);
  ck_assert_str_eq(m.software, "STUN test client");
  ck_assert(m.fingerprint_ok);
  /* PRIORITY 0x0024 and USERNAME 0x0006 are comprehension-required and not ours. */
  ck_assert_uint_eq(m.n_unknown, 2);
  ck_assert_uint_eq(m.unknown_required[0], 0x0024);
  ck_assert_uint_eq(m.unknown_required[1], 0x0006);
  ck_assert_int_eq(ethp2p_stun_check_integrity(&m, sample_request, sizeof sample_request,
                                               (const uint8_t *)password, sizeof password - 1),
                   0);
}
END_TEST

START_TEST(binding_request_is_twenty_bytes) {
  ethp2p_stun_msg m;
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_STUN_BINDING_REQUEST;
  memcpy(m.txid, txid, 12);
  uint8_t buf[64];
  ck_assert_int_eq(ethp2p_stun_encode(buf, sizeof buf, &m, NULL), 20);
  static const uint8_t want[8] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
  ck_assert_mem_eq(buf, want, 8);
  ck_assert_mem_eq(buf + 8, txid, 12);
  ck_assert(ethp2p_stun_is_message(buf, 20));
}
END_TEST

START_TEST(rfc5780_attributes_round_trip) {
  ethp2p_stun_msg m;
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_STUN_BINDING_SUCCESS;
  memcpy(m.txid, txid, 12);
  m.present = ETHP2P_STUN_HAS_MAPPED | ETHP2P_STUN_HAS_XOR_MAPPED | ETHP2P_STUN_HAS_CHANGE_REQUEST |
              ETHP2P_STUN_HAS_RESPONSE_ORIGIN | ETHP2P_STUN_HAS_OTHER_ADDRESS;
  m.mapped = ethp2p_addr_v4(20, 0, 0, 5, 4000);
  m.xor_mapped = ethp2p_addr_v4(20, 0, 0, 5, 4000);
  m.change_request = ETHP2P_STUN_CHANGE_IP | ETHP2P_STUN_CHANGE_PORT;
  m.response_origin = ethp2p_addr_v4(127, 0, 0, 1, 34780);
  m.other_address = ethp2p_addr_v4(127, 0, 0, 2, 34781);
  uint8_t buf[256];
  int n = ethp2p_stun_encode(buf, sizeof buf, &m, &(ethp2p_stun_encode_opts){.fingerprint = true});
  ck_assert_int_eq(n, 20 + 12 + 12 + 8 + 12 + 12 + 8);
  /* CHANGE-REQUEST: type 0x0003, length 4, flags 0x06 */
  static const uint8_t cr[8] = {0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0x06};
  ck_assert_mem_eq(buf + 44, cr, 8);
  ethp2p_stun_msg back;
  ck_assert_int_eq(ethp2p_stun_decode(&back, buf, (size_t)n, NULL), 0);
  ck_assert_uint_eq(back.present, m.present | ETHP2P_STUN_HAS_FINGERPRINT);
  ck_assert(ethp2p_addr_equal(&back.mapped, &m.mapped, true));
  ck_assert(ethp2p_addr_equal(&back.xor_mapped, &m.xor_mapped, true));
  ck_assert(ethp2p_addr_equal(&back.other_address, &m.other_address, true));
  ck_assert(ethp2p_addr_equal(&back.response_origin, &m.response_origin, true));
  ck_assert_uint_eq(back.change_request, 6);
}
END_TEST

START_TEST(error_code_round_trips) {
  ethp2p_stun_msg m;
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_STUN_BINDING_ERROR;
  m.present = ETHP2P_STUN_HAS_ERROR_CODE;
  m.error_code = 420;
  memcpy(m.error_reason, "Unknown Attribute", sizeof "Unknown Attribute");
  uint8_t buf[128];
  int n = ethp2p_stun_encode(buf, sizeof buf, &m, NULL);
  ck_assert_int_gt(n, 0);
  ck_assert_uint_eq(buf[26], 4);
  ck_assert_uint_eq(buf[27], 20);
  ethp2p_stun_msg back;
  ck_assert_int_eq(ethp2p_stun_decode(&back, buf, (size_t)n, NULL), 0);
  ck_assert_uint_eq(back.error_code, 420);
  ck_assert_str_eq(back.error_reason, "Unknown Attribute");
  m.error_code = 200;
  ck_assert_int_eq(ethp2p_stun_encode(buf, sizeof buf, &m, NULL), ETHP2P_EINVAL);
}
END_TEST

START_TEST(decoder_rejects_malformed_messages_with_offsets) {
  uint8_t buf[80];
  ethp2p_stun_msg m;
  ethp2p_diag d = {0};
  memcpy(buf, sample_ipv4_response, 80);
  buf[79] ^= 1; /* fingerprint */
  ck_assert_int_eq(ethp2p_stun_decode(&m, buf, 80, &d), ETHP2P_EPROTO);
  ck_assert_uint_eq(d.offset, 76);
  memcpy(buf, sample_ipv4_response, 80);
  buf[4] = 0; /* cookie */
  ck_assert_int_eq(ethp2p_stun_decode(&m, buf, 80, &d), ETHP2P_EPROTO);
  ck_assert_uint_eq(d.offset, 4);
  ck_assert_int_eq(ethp2p_stun_decode(&m, sample_ipv4_response, 76, &d), ETHP2P_ETRUNC);
  ck_assert_int_eq(ethp2p_stun_decode(&m, sample_ipv4_response, 19, &d), ETHP2P_ETRUNC);
  memcpy(buf, sample_ipv4_response, 80);
  buf[0] = 0x41; /* top bits */
  ck_assert_int_eq(ethp2p_stun_decode(&m, buf, 80, &d), ETHP2P_EPROTO);
  memcpy(buf, sample_ipv4_response, 80);
  buf[41] = 3; /* address family */
  ck_assert_int_eq(ethp2p_stun_decode(&m, buf, 80, &d), ETHP2P_EPROTO);
  ck_assert_uint_eq(d.offset, 37);
}
END_TEST

START_TEST(crc32_matches_the_standard_check_value) {
  ck_assert_uint_eq(ethp2p_stun_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_stun_codec");
  TCase *tc = tcase_create("stun_codec");
  tcase_add_test(tc, rfc5769_ipv4_response_is_reproduced_byte_for_byte);
  tcase_add_test(tc, rfc5769_ipv4_response_decodes_and_verifies);
  tcase_add_test(tc, rfc5769_ipv6_response_is_reproduced_and_decoded);
  tcase_add_test(tc, rfc5769_request_decodes_with_unknown_attributes_listed);
  tcase_add_test(tc, binding_request_is_twenty_bytes);
  tcase_add_test(tc, rfc5780_attributes_round_trip);
  tcase_add_test(tc, error_code_round_trips);
  tcase_add_test(tc, decoder_rejects_malformed_messages_with_offsets);
  tcase_add_test(tc, crc32_matches_the_standard_check_value);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
