/* tests/check_enr_rlp.c — strict RLP decoding, encoding, iteration and dumps. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/encoding.h"
#include "ethp2p/rlp.h"

/* Hex to bytes; "*N:XX" expands to N copies of byte XX (for long payloads). */
static size_t unhex(uint8_t *out, size_t cap, const char *h) {
  size_t n = 0, len;
  while (*h != '\0') {
    if (*h == '*') {
      char *end;
      unsigned long count = strtoul(h + 1, &end, 10);
      uint8_t b;
      ck_assert_int_eq(ethp2p_hex_decode(&b, 1, &len, end + 1, 2, NULL), 0);
      ck_assert_uint_le(n + count, cap);
      memset(out + n, b, count);
      n += count;
      h = end + 3;
      continue;
    }
    ck_assert_int_eq(ethp2p_hex_decode(out + n, cap - n, &len, h, 2, NULL), 0);
    n += len;
    h += 2;
  }
  return n;
}

static void reencode_equals_input(const uint8_t *in, size_t len) {
  ethp2p_rlp_item it;
  ethp2p_rlp_enc e;
  uint8_t out[4096];
  size_t n;
  ck_assert_int_eq(ethp2p_rlp_decode(&it, in, len, NULL), 0);
  ethp2p_rlp_enc_init(&e, out, sizeof out);
  ck_assert_int_eq(ethp2p_rlp_reencode(&e, &it), 0);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), 0);
  ck_assert_uint_eq(n, len);
  ck_assert_mem_eq(out, in, len);
}

static const struct {
  const char *hex;
  bool is_list;
  size_t payload_len;
  size_t payload_off;
} good[] = {
    {"00", false, 1, 0},         {"7f", false, 1, 0},          {"80", false, 0, 1},
    {"8180", false, 1, 1},       {"81ff", false, 1, 1},        {"83646f67", false, 3, 1},
    {"b7*55:61", false, 55, 1},  {"b838*56:61", false, 56, 2}, {"b90100*256:62", false, 256, 3},
    {"c0", true, 0, 1},          {"c3010203", true, 3, 1},     {"c7c0c1c0c3c0c1c0", true, 7, 1},
    {"f838*56:01", true, 56, 2},
};

START_TEST(canonical_items_decode_and_reencode_identically) {
  uint8_t in[512];
  size_t len = unhex(in, sizeof in, good[_i].hex);
  ethp2p_rlp_item it;
  ck_assert_int_eq(ethp2p_rlp_decode(&it, in, len, NULL), 0);
  ck_assert(it.is_list == good[_i].is_list);
  ck_assert_uint_eq(it.payload_len, good[_i].payload_len);
  ck_assert_ptr_eq(it.payload, in + good[_i].payload_off);
  ck_assert_ptr_eq(it.raw, in);
  ck_assert_uint_eq(it.raw_len, len);
  reencode_equals_input(in, len);
}
END_TEST

static const struct {
  const char *name, *hex;
  int err;
  size_t offset;
} bad[] = {
    {"empty input", "", ETHP2P_ETRUNC, 0},
    {"byte 0x00 wrapped as a string", "8100", ETHP2P_ENONCANON, 0},
    {"byte 0x7f wrapped as a string", "817f", ETHP2P_ENONCANON, 0},
    {"nested wrapped byte", "c28105", ETHP2P_ENONCANON, 1},
    {"long string form for 0 bytes", "b800", ETHP2P_ENONCANON, 1},
    {"long string form for 55 bytes", "b837*55:61", ETHP2P_ENONCANON, 0},
    {"long string length with leading zero", "b90038*56:61", ETHP2P_ENONCANON, 1},
    {"long list form for 1 byte", "f80101", ETHP2P_ENONCANON, 0},
    {"long list form for 55 bytes", "f837*55:01", ETHP2P_ENONCANON, 0},
    {"long list length with leading zero", "f90038*56:01", ETHP2P_ENONCANON, 1},
    {"string payload truncated", "83646f", ETHP2P_ETRUNC, 1},
    {"one-byte string truncated", "81", ETHP2P_ETRUNC, 1},
    {"long string length truncated", "b9", ETHP2P_ETRUNC, 1},
    {"long string payload truncated", "b838*10:61", ETHP2P_ETRUNC, 2},
    {"list payload truncated", "c30102", ETHP2P_ETRUNC, 1},
    {"element runs past its list", "c2830102", ETHP2P_ETRUNC, 2},
    {"long list length truncated", "f9ff", ETHP2P_ETRUNC, 1},
    {"huge length", "bfffffffffffffffff", ETHP2P_ETRUNC, 9},
    {"trailing byte after string", "0102", ETHP2P_ETRAILING, 1},
    {"trailing byte after list", "c000", ETHP2P_ETRAILING, 1},
    {"two top-level items", "c0c0", ETHP2P_ETRAILING, 1},
};

START_TEST(each_non_canonical_or_broken_form_is_refused_with_offset) {
  uint8_t in[512];
  size_t len = unhex(in, sizeof in, bad[_i].hex);
  ethp2p_rlp_item it;
  ethp2p_diag d = {0};
  int rc = ethp2p_rlp_decode(&it, len ? in : NULL, len, &d);
  ck_assert_msg(rc == bad[_i].err, "%s: got %s (%s)", bad[_i].name, ethp2p_err_name(rc), d.msg);
  ck_assert_msg(d.offset == bad[_i].offset, "%s: offset %zu, want %zu (%s)", bad[_i].name, d.offset,
                bad[_i].offset, d.msg);
  ck_assert_uint_gt(strlen(d.msg), 0);
  ck_assert_ptr_null(it.raw);
}
END_TEST

static size_t nested(uint8_t *buf, unsigned depth) {
  unsigned i;
  for (i = 0; i + 1 < depth; i++)
    buf[i] = (uint8_t)(0xc0 + (depth - 1 - i)); /* a list holding the rest */
  buf[depth - 1] = 0xc0;
  return depth;
}

START_TEST(nesting_is_bounded) {
  uint8_t buf[64];
  ethp2p_rlp_item it;
  ethp2p_diag d = {0};
  size_t n = nested(buf, ETHP2P_RLP_MAX_DEPTH);
  ck_assert_int_eq(ethp2p_rlp_decode(&it, buf, n, NULL), 0);
  reencode_equals_input(buf, n);
  n = nested(buf, ETHP2P_RLP_MAX_DEPTH + 1);
  ck_assert_int_eq(ethp2p_rlp_decode(&it, buf, n, &d), ETHP2P_EDEPTH);
  ck_assert_uint_eq(d.offset, ETHP2P_RLP_MAX_DEPTH);
}
END_TEST

START_TEST(decode_prefix_reports_used_bytes_and_offsets) {
  const uint8_t in[] = {0x82, 0x01, 0x02, 0xff};
  ethp2p_rlp_item it;
  size_t used = 0;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_rlp_decode_prefix(&it, &used, in, sizeof in, 10, NULL), 0);
  ck_assert_uint_eq(used, 3);
  ck_assert_uint_eq(it.offset, 10);
  ck_assert_int_eq(ethp2p_rlp_decode_prefix(&it, &used, in + 3, 1, 3, &d), ETHP2P_ETRUNC);
  ck_assert_uint_eq(d.offset, 4);
}
END_TEST

START_TEST(iterator_walks_elements_with_absolute_offsets) {
  uint8_t in[16];
  size_t len = unhex(in, sizeof in, "c6820102c180c0");
  ethp2p_rlp_item top, el;
  ethp2p_rlp_iter it;
  ck_assert_int_eq(ethp2p_rlp_decode(&top, in, len, NULL), 0);
  ck_assert_int_eq(ethp2p_rlp_list_count(&top, NULL), 3);
  ck_assert_int_eq(ethp2p_rlp_iter_init(&it, &top), 0);
  ck_assert_int_eq(ethp2p_rlp_iter_next(&it, &el, NULL), 1);
  ck_assert_uint_eq(el.offset, 1);
  ck_assert_uint_eq(el.payload_len, 2);
  ck_assert_int_eq(ethp2p_rlp_iter_next(&it, &el, NULL), 1);
  ck_assert_uint_eq(el.offset, 4);
  ck_assert(el.is_list);
  ck_assert_int_eq(ethp2p_rlp_list_count(&el, NULL), 1);
  ck_assert_int_eq(ethp2p_rlp_iter_next(&it, &el, NULL), 1);
  ck_assert_uint_eq(el.offset, 6);
  ck_assert_int_eq(ethp2p_rlp_iter_next(&it, &el, NULL), 0);
  ck_assert_int_eq(ethp2p_rlp_iter_init(&it, &el), 0);
  ck_assert_int_eq(ethp2p_rlp_iter_next(&it, &el, NULL), 0);
  /* a string is not iterable */
  ck_assert_int_eq(ethp2p_rlp_decode(&top, in + 1, 3, NULL), 0);
  ck_assert_int_eq(ethp2p_rlp_iter_init(&it, &top), ETHP2P_ETYPE);
  ck_assert_int_eq(ethp2p_rlp_list_count(&top, NULL), ETHP2P_ETYPE);
}
END_TEST

START_TEST(iterator_checks_elements_of_items_not_decoded_strictly) {
  /* a hand-made list view whose payload holds a wrapped single byte and then a short item */
  static const uint8_t payload[] = {0x81, 0x05, 0x83, 0x01};
  ethp2p_rlp_item list = {payload, sizeof payload, payload, sizeof payload, 100, true}, el;
  ethp2p_rlp_iter it;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_rlp_iter_init(&it, &list), 0);
  ck_assert_int_eq(ethp2p_rlp_iter_next(&it, &el, &d), ETHP2P_ENONCANON);
  ck_assert_uint_eq(d.offset, 100);
  ck_assert_int_eq(ethp2p_rlp_iter_next(&it, &el, &d), 0); /* stops after an error */
  list.payload = payload + 2;
  list.payload_len = 2;
  ck_assert_int_eq(ethp2p_rlp_iter_init(&it, &list), 0);
  ck_assert_int_eq(ethp2p_rlp_iter_next(&it, &el, &d), ETHP2P_ETRUNC);
  ck_assert_int_eq(ethp2p_rlp_list_count(&list, &d), ETHP2P_ETRUNC);
}
END_TEST

static const struct {
  const char *hex;
  int err;
  uint64_t value;
} uints[] = {
    {"80", 0, 0},
    {"01", 0, 1},
    {"7f", 0, 127},
    {"8180", 0, 128},
    {"820400", 0, 1024},
    {"88ffffffffffffffff", 0, UINT64_MAX},
    {"820001", ETHP2P_ENONCANON, 0},
    {"00", ETHP2P_ENONCANON, 0},
    {"89010000000000000000", ETHP2P_ERANGE, 0},
    {"c0", ETHP2P_ETYPE, 0},
};

START_TEST(uint64_reads_only_canonical_integers) {
  uint8_t in[16];
  size_t len = unhex(in, sizeof in, uints[_i].hex);
  ethp2p_rlp_item it;
  uint64_t v = 42;
  ck_assert_int_eq(ethp2p_rlp_decode(&it, in, len, NULL), 0);
  ck_assert_int_eq(ethp2p_rlp_uint64(&v, &it, NULL), uints[_i].err);
  ck_assert_uint_eq(v, uints[_i].value);
  if (uints[_i].err == 0)
    ck_assert_uint_eq(ethp2p_rlp_uint64_len(v), len);
}
END_TEST

START_TEST(encoder_produces_canonical_forms) {
  uint8_t buf[256], big[60];
  char hex[600];
  size_t n;
  ethp2p_rlp_enc e;
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_uint64(&e, 0);
  ethp2p_rlp_enc_uint64(&e, 0x7f);
  ethp2p_rlp_enc_uint64(&e, 0x80);
  ethp2p_rlp_enc_uint64(&e, 0x0102030405060708ull);
  ethp2p_rlp_enc_bytes(&e, "\x05", 1);
  ethp2p_rlp_enc_bytes(&e, "", 0);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_list_end(&e);
  ethp2p_rlp_enc_raw(&e, "\x82\xaa\xbb", 3);
  ethp2p_rlp_enc_list_end(&e);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), 0);
  ck_assert_int_eq(ethp2p_hex_encode(hex, sizeof hex, NULL, buf, n), 0);
  ck_assert_str_eq(hex, "d3807f81808801020304050607080580c082aabb");
  /* 56-byte payloads take the long forms */
  memset(big, 0x61, sizeof big);
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_bytes(&e, big, 55);
  ethp2p_rlp_enc_list_end(&e);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), 0);
  ck_assert_uint_eq(n, 58);
  ck_assert_int_eq(buf[0], 0xf8);
  ck_assert_int_eq(buf[1], 56);
  ck_assert_int_eq(buf[2], 0xb7);
  reencode_equals_input(buf, n);
  ck_assert_uint_eq(ethp2p_rlp_header_len(55), 1);
  ck_assert_uint_eq(ethp2p_rlp_header_len(56), 2);
  ck_assert_uint_eq(ethp2p_rlp_header_len(256), 3);
  ck_assert_uint_eq(ethp2p_rlp_bytes_len((const uint8_t *)"\x7f", 1), 1);
  ck_assert_uint_eq(ethp2p_rlp_bytes_len((const uint8_t *)"\x80", 1), 2);
}
END_TEST

START_TEST(encoder_errors_are_sticky_and_bounded) {
  uint8_t buf[4];
  size_t n = 9;
  unsigned i;
  ethp2p_rlp_enc e;
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ck_assert_int_eq(ethp2p_rlp_enc_bytes(&e, "abcd", 4), ETHP2P_ESPACE);
  ck_assert_int_eq(ethp2p_rlp_enc_uint64(&e, 1), ETHP2P_ESPACE);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), ETHP2P_ESPACE);
  ck_assert_uint_eq(n, 0);
  /* list header that no longer fits */
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_bytes(&e, "abc", 3);
  ck_assert_int_eq(ethp2p_rlp_enc_list_end(&e), ETHP2P_ESPACE);
  /* unbalanced lists */
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ck_assert_int_eq(ethp2p_rlp_enc_list_end(&e), ETHP2P_ESTATE);
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ethp2p_rlp_enc_list_begin(&e);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), ETHP2P_ESTATE);
  /* too many open lists */
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  for (i = 0; i < ETHP2P_RLP_ENC_MAX_DEPTH; i++)
    ck_assert_int_eq(ethp2p_rlp_enc_list_begin(&e), 0);
  ck_assert_int_eq(ethp2p_rlp_enc_list_begin(&e), ETHP2P_EDEPTH);
}
END_TEST

START_TEST(dump_shows_structure_like_rlpdump) {
  uint8_t in[64];
  size_t len = unhex(in, sizeof in, "d183646f6780c0c4c38201ff8261228204a1");
  ethp2p_rlp_item it;
  char out[256];
  size_t n;
  ck_assert_int_eq(ethp2p_rlp_decode(&it, in, len, NULL), 0);
  ck_assert_int_eq(ethp2p_rlp_dump(out, sizeof out, &n, &it), 0);
  ck_assert_str_eq(out, "[\n"
                        "  \"dog\",\n"
                        "  \"\",\n"
                        "  [],\n"
                        "  [\n"
                        "    [\n"
                        "      01ff\n"
                        "    ]\n"
                        "  ],\n"
                        "  \"a\\\"\",\n"
                        "  04a1\n"
                        "]");
  ck_assert_uint_eq(n, strlen(out));
}
END_TEST

START_TEST(dump_reports_full_length_when_truncated) {
  uint8_t in[8];
  size_t len = unhex(in, sizeof in, "83646f67");
  ethp2p_rlp_item it;
  char out[4];
  size_t n = 0;
  ck_assert_int_eq(ethp2p_rlp_decode(&it, in, len, NULL), 0);
  ck_assert_int_eq(ethp2p_rlp_dump(out, sizeof out, &n, &it), ETHP2P_ESPACE);
  ck_assert_uint_eq(n, 5);
  ck_assert_str_eq(out, "\"do");
  ck_assert_int_eq(ethp2p_rlp_dump(NULL, 0, &n, &it), ETHP2P_ESPACE);
  ck_assert_uint_eq(n, 5);
}
END_TEST

/* Random trees from a fixed-seed PRNG: encode, decode strictly, re-encode. */
static uint32_t rng_state = 0x9e3779b9u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void random_item(ethp2p_rlp_enc *e, unsigned depth) {
  uint8_t data[80];
  size_t n, i;
  if (depth < 6 && rng() % 3 == 0) {
    size_t k = rng() % 5;
    ethp2p_rlp_enc_list_begin(e);
    for (i = 0; i < k; i++)
      random_item(e, depth + 1);
    ethp2p_rlp_enc_list_end(e);
    return;
  }
  switch (rng() % 3) {
  case 0:
    ethp2p_rlp_enc_uint64(e, (uint64_t)rng() << (rng() % 32));
    break;
  default:
    n = rng() % 3 == 0 ? rng() % sizeof data : rng() % 3;
    for (i = 0; i < n; i++)
      data[i] = (uint8_t)rng();
    ethp2p_rlp_enc_bytes(e, data, n);
  }
}

START_TEST(random_trees_round_trip) {
  uint8_t buf[8192];
  char text[65536];
  size_t n, tl;
  int round;
  for (round = 0; round < 500; round++) {
    ethp2p_rlp_enc e;
    ethp2p_rlp_item it;
    ethp2p_rlp_enc_init(&e, buf, sizeof buf);
    random_item(&e, 0);
    ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), 0);
    reencode_equals_input(buf, n);
    ck_assert_int_eq(ethp2p_rlp_decode(&it, buf, n, NULL), 0);
    ck_assert_int_eq(ethp2p_rlp_dump(text, sizeof text, &tl, &it), 0);
    /* every strict prefix is truncated */
    if (n > 1)
      ck_assert_int_eq(ethp2p_rlp_decode(&it, buf, n - 1, NULL), ETHP2P_ETRUNC);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("enr_rlp");
  TCase *tc = tcase_create("rlp");
  SRunner *sr;
  int failed;
  tcase_add_loop_test(tc, canonical_items_decode_and_reencode_identically, 0,
                      (int)(sizeof good / sizeof good[0]));
  tcase_add_loop_test(tc, each_non_canonical_or_broken_form_is_refused_with_offset, 0,
                      (int)(sizeof bad / sizeof bad[0]));
  tcase_add_test(tc, nesting_is_bounded);
  tcase_add_test(tc, decode_prefix_reports_used_bytes_and_offsets);
  tcase_add_test(tc, iterator_walks_elements_with_absolute_offsets);
  tcase_add_test(tc, iterator_checks_elements_of_items_not_decoded_strictly);
  tcase_add_loop_test(tc, uint64_reads_only_canonical_integers, 0,
                      (int)(sizeof uints / sizeof uints[0]));
  tcase_add_test(tc, encoder_produces_canonical_forms);
  tcase_add_test(tc, encoder_errors_are_sticky_and_bounded);
  tcase_add_test(tc, dump_shows_structure_like_rlpdump);
  tcase_add_test(tc, dump_reports_full_length_when_truncated);
  tcase_add_test(tc, random_trees_round_trip);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
