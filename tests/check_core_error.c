/* tests/check_core_error.c — the error table and diagnostics. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/error.h"

START_TEST(strerror_knows_every_code_and_rejects_others) {
  ck_assert_str_eq(ethp2p_strerror(ETHP2P_ETRUNC), "input truncated");
  ck_assert_str_eq(ethp2p_err_name(ETHP2P_ENONCANON), "ETHP2P_ENONCANON");
  ck_assert_str_eq(ethp2p_strerror(0), "success");
  ck_assert_str_eq(ethp2p_strerror(-9999), "unknown error");
  ck_assert_str_eq(ethp2p_err_name(12345), "ETHP2P_EUNKNOWN");
}
END_TEST

START_TEST(diag_set_records_offset_and_returns_code) {
  ethp2p_diag d = {0};
  int rc = ethp2p_diag_set(&d, ETHP2P_ETRUNC, 17, "need %d more bytes", 3);
  ck_assert_int_eq(rc, ETHP2P_ETRUNC);
  ck_assert_uint_eq(d.offset, 17);
  ck_assert_str_eq(d.msg, "need 3 more bytes");
  ck_assert_int_eq(ethp2p_diag_set(NULL, ETHP2P_EINVAL, 0, "x"), ETHP2P_EINVAL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("core_error");
  TCase *tc = tcase_create("error");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, strerror_knows_every_code_and_rejects_others);
  tcase_add_test(tc, diag_set_records_offset_and_returns_code);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
