/* tests/check_enr_keccak.c — Keccak-256 (original padding) known answers and incremental use.
 *
 * The 135/136/137/272/1000-byte vectors (input byte i = (7*i + 3) mod 256) were computed with an
 * independent pure-Python Keccak whose SHA3-256 variant (pad byte 0x06) matches Python's hashlib.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/encoding.h"
#include "ethp2p/keccak.h"

static const char *hex32(const uint8_t d[32]) {
  static char buf[65];
  ck_assert_int_eq(ethp2p_hex_encode(buf, sizeof buf, NULL, d, 32), 0);
  return buf;
}

static void pattern(uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    p[i] = (uint8_t)(i * 7 + 3);
}

START_TEST(empty_input_gives_the_known_keccak256_not_sha3) {
  uint8_t d[32];
  ethp2p_keccak256(d, NULL, 0);
  ck_assert_str_eq(hex32(d), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}
END_TEST

START_TEST(short_texts_match_known_answers) {
  uint8_t d[32];
  const char *fox = "The quick brown fox jumps over the lazy dog";
  ethp2p_keccak256(d, "abc", 3);
  ck_assert_str_eq(hex32(d), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  ethp2p_keccak256(d, fox, strlen(fox));
  ck_assert_str_eq(hex32(d), "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}
END_TEST

static const struct {
  size_t len;
  const char *digest;
} rate_vectors[] = {
    {135, "00ef96af9cf4b24c7f269d922294444a197d0a33638c2e56634c57e892103a8f"},
    {136, "742061bcad767ed4c4f5883b1dcb1aad11afdcc140dc469d953759b127b9f9ed"},
    {137, "e3371f61e770abf254c34239c3b0099ad90594507415bc81dd0a10b9692bbf2a"},
    {272, "ac141fd7b0a0ffcd2e967254d508da3ec616596493c36fa304425647d90e6de5"},
    {1000, "80cdc8dd52cbb3dbaea8f383209893fa2bb52efbd5aedbb4b26dcfe307fcdc9b"},
};

START_TEST(inputs_around_the_rate_boundary_match_known_answers) {
  uint8_t in[1000], d[32];
  size_t len = rate_vectors[_i].len;
  pattern(in, len);
  ethp2p_keccak256(d, in, len);
  ck_assert_str_eq(hex32(d), rate_vectors[_i].digest);
}
END_TEST

START_TEST(incremental_updates_in_any_split_equal_one_shot) {
  uint8_t in[1000], want[32], got[32];
  ethp2p_keccak256_ctx c;
  size_t split, step, pos;
  pattern(in, sizeof in);
  ethp2p_keccak256(want, in, sizeof in);
  for (step = 1; step <= 200; step += 13) {
    ethp2p_keccak256_init(&c);
    for (pos = 0; pos < sizeof in; pos += split) {
      split = sizeof in - pos < step ? sizeof in - pos : step;
      ethp2p_keccak256_update(&c, in + pos, split);
    }
    ethp2p_keccak256_final(&c, got);
    ck_assert_mem_eq(got, want, 32);
  }
}
END_TEST

START_TEST(copied_context_forks_the_hash) {
  ethp2p_keccak256_ctx a, b;
  uint8_t d1[32], d2[32];
  ethp2p_keccak256_init(&a);
  ethp2p_keccak256_update(&a, "ab", 2);
  b = a;
  ethp2p_keccak256_update(&a, "c", 1);
  ethp2p_keccak256_final(&a, d1);
  ethp2p_keccak256_update(&b, "c", 1);
  ethp2p_keccak256_update(&b, NULL, 0);
  ethp2p_keccak256_final(&b, d2);
  ck_assert_mem_eq(d1, d2, 32);
  ck_assert_str_eq(hex32(d1), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}
END_TEST

int main(void) {
  Suite *s = suite_create("enr_keccak");
  TCase *tc = tcase_create("keccak");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, empty_input_gives_the_known_keccak256_not_sha3);
  tcase_add_test(tc, short_texts_match_known_answers);
  tcase_add_loop_test(tc, inputs_around_the_rate_boundary_match_known_answers, 0,
                      (int)(sizeof rate_vectors / sizeof rate_vectors[0]));
  tcase_add_test(tc, incremental_updates_in_any_split_equal_one_shot);
  tcase_add_test(tc, copied_context_forks_the_hash);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
