/* tests/check_enr_encoding.c — hex and strict unpadded base64url. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/encoding.h"

START_TEST(hex_encode_is_lowercase_and_refuses_a_short_buffer) {
  const uint8_t in[] = {0x00, 0xab, 0xCD, 0x7f};
  char out[9];
  size_t n = 99;
  ck_assert_int_eq(ethp2p_hex_encode(out, sizeof out, &n, in, 4), 0);
  ck_assert_str_eq(out, "00abcd7f");
  ck_assert_uint_eq(n, 8);
  ck_assert_int_eq(ethp2p_hex_encode(out, 8, &n, in, 4), ETHP2P_ESPACE);
  ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(hex_decode_accepts_prefix_and_either_case) {
  uint8_t out[8];
  size_t n;
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "0xDEadBEef", 10, NULL), 0);
  ck_assert_uint_eq(n, 4);
  ck_assert_mem_eq(out, "\xde\xad\xbe\xef", 4);
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "0X01", 4, NULL), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_int_eq(out[0], 1);
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "", 0, NULL), 0);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "0x", 2, NULL), 0);
  ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(hex_decode_rejects_odd_length_and_stray_characters_with_offset) {
  uint8_t out[8];
  size_t n = 7;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "abc", 3, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_nonnull(strstr(d.msg, "odd"));
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "0x12g4", 6, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 4);
  ck_assert_ptr_nonnull(strstr(d.msg, "'g'"));
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "12 34", 5, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 2);
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "1234\n", 5, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 4);
  ck_assert_int_eq(ethp2p_hex_decode(out, sizeof out, &n, "x0", 2, &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_hex_decode(out, 1, &n, "1234", 4, &d), ETHP2P_ESPACE);
}
END_TEST

static const struct {
  const char *plain, *text;
} rfc4648[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

START_TEST(base64url_matches_rfc4648_vectors_without_padding) {
  char out[16];
  uint8_t back[16];
  size_t n, m;
  const char *p = rfc4648[_i].plain, *t = rfc4648[_i].text;
  ck_assert_int_eq(ethp2p_base64url_encode(out, sizeof out, &n, (const uint8_t *)p, strlen(p)), 0);
  ck_assert_str_eq(out, t);
  ck_assert_uint_eq(n, ETHP2P_BASE64URL_LEN(strlen(p)));
  ck_assert_int_eq(ethp2p_base64url_decode(back, sizeof back, &m, t, strlen(t), NULL), 0);
  ck_assert_uint_eq(m, strlen(p));
  ck_assert_mem_eq(back, p, m);
}
END_TEST

START_TEST(base64url_uses_dash_and_underscore) {
  const uint8_t in[] = {0xfb, 0xff, 0xbf};
  char out[8];
  uint8_t back[4];
  size_t n;
  ck_assert_int_eq(ethp2p_base64url_encode(out, sizeof out, &n, in, 3), 0);
  ck_assert_str_eq(out, "-_-_");
  ck_assert_int_eq(ethp2p_base64url_decode(back, sizeof back, &n, "-_-_", 4, NULL), 0);
  ck_assert_mem_eq(back, in, 3);
}
END_TEST

static const struct {
  const char *text;
  int err;
  size_t offset;
} b64_bad[] = {
    {"Zg==", ETHP2P_ESYNTAX, 2},   /* padding */
    {"Zm9v=", ETHP2P_ESYNTAX, 4},  /* trailing padding */
    {"Zm+v", ETHP2P_ESYNTAX, 2},   /* standard alphabet */
    {"Zm/v", ETHP2P_ESYNTAX, 2},   /* standard alphabet */
    {"Zm9 v", ETHP2P_ESYNTAX, 3},  /* whitespace */
    {"Zm9v\n", ETHP2P_ESYNTAX, 4}, /* newline */
    {"Z", ETHP2P_ESYNTAX, 0},      /* a lone character */
    {"Zm9vY", ETHP2P_ESYNTAX, 4},  /* length 1 mod 4 */
    {"Zh", ETHP2P_ENONCANON, 1},   /* "f" with unused bits 0001 */
    {"Zm9", ETHP2P_ENONCANON, 2},  /* "fo" with unused bits 01 */
    {"Zm-", ETHP2P_ENONCANON, 2},
};

START_TEST(base64url_rejects_padding_stray_characters_and_trailing_bits) {
  uint8_t out[16];
  size_t n = 5;
  ethp2p_diag d = {0};
  const char *t = b64_bad[_i].text;
  ck_assert_int_eq(ethp2p_base64url_decode(out, sizeof out, &n, t, strlen(t), &d), b64_bad[_i].err);
  ck_assert_uint_eq(n, 0);
  ck_assert_uint_eq(d.offset, b64_bad[_i].offset);
  ck_assert_uint_gt(strlen(d.msg), 0);
}
END_TEST

START_TEST(base64url_refuses_small_buffers_both_ways) {
  char out[4];
  uint8_t back[2];
  size_t n;
  ck_assert_int_eq(ethp2p_base64url_encode(out, sizeof out, &n, (const uint8_t *)"foo", 3),
                   ETHP2P_ESPACE);
  ck_assert_int_eq(ethp2p_base64url_decode(back, sizeof back, &n, "Zm9v", 4, NULL), ETHP2P_ESPACE);
}
END_TEST

START_TEST(base64url_round_trips_every_length_and_byte) {
  uint8_t in[64], back[64];
  char text[100];
  size_t len, i, n, m;
  unsigned x = 12345;
  for (len = 0; len <= sizeof in; len++) {
    for (i = 0; i < len; i++) {
      x = x * 1103515245u + 12345u;
      in[i] = (uint8_t)(x >> 16);
    }
    ck_assert_int_eq(ethp2p_base64url_encode(text, sizeof text, &n, in, len), 0);
    ck_assert_int_eq(ethp2p_base64url_decode(back, sizeof back, &m, text, n, NULL), 0);
    ck_assert_uint_eq(m, len);
    if (len > 0)
      ck_assert_mem_eq(back, in, len);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("enr_encoding");
  TCase *tc = tcase_create("encoding");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, hex_encode_is_lowercase_and_refuses_a_short_buffer);
  tcase_add_test(tc, hex_decode_accepts_prefix_and_either_case);
  tcase_add_test(tc, hex_decode_rejects_odd_length_and_stray_characters_with_offset);
  tcase_add_loop_test(tc, base64url_matches_rfc4648_vectors_without_padding, 0,
                      (int)(sizeof rfc4648 / sizeof rfc4648[0]));
  tcase_add_test(tc, base64url_uses_dash_and_underscore);
  tcase_add_loop_test(tc, base64url_rejects_padding_stray_characters_and_trailing_bits, 0,
                      (int)(sizeof b64_bad / sizeof b64_bad[0]));
  tcase_add_test(tc, base64url_refuses_small_buffers_both_ways);
  tcase_add_test(tc, base64url_round_trips_every_length_and_byte);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
