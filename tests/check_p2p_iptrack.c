/* tests/check_p2p_iptrack.c — endpoint prediction from peers' statements. */
#include <check.h>
#include <stdlib.h>

#include "ethp2p/localnode.h"

static ethp2p_addr host(unsigned i) {
  return ethp2p_addr_v4(20, 0, (uint8_t)(i >> 8), (uint8_t)i, 30303);
}

START_TEST(prediction_needs_ten_distinct_hosts) {
  ethp2p_iptrack t;
  ethp2p_addr ep = ethp2p_addr_v4(1, 2, 3, 4, 40000), out;
  ethp2p_iptrack_init(&t, 0, 0, 0);
  for (unsigned i = 0; i < 9; i++)
    ethp2p_iptrack_add_statement(&t, &(ethp2p_addr){0}, &ep, ETHP2P_SEC); /* ignored */
  for (unsigned i = 0; i < 9; i++) {
    ethp2p_addr h = host(1);
    ethp2p_iptrack_add_statement(&t, &h, &ep, ETHP2P_SEC); /* one host, said 9 times */
  }
  ck_assert(!ethp2p_iptrack_predict(&t, ETHP2P_SEC, &out));
  for (unsigned i = 2; i <= 9; i++) {
    ethp2p_addr h = host(i);
    ethp2p_iptrack_add_statement(&t, &h, &ep, ETHP2P_SEC);
  }
  ck_assert(!ethp2p_iptrack_predict(&t, ETHP2P_SEC, &out)); /* 9 hosts */
  ck_assert_int_eq(out.family, 0);
  {
    ethp2p_addr h = host(10);
    ethp2p_iptrack_add_statement(&t, &h, &ep, 2 * ETHP2P_SEC);
  }
  ck_assert(ethp2p_iptrack_predict(&t, 2 * ETHP2P_SEC, &out));
  ck_assert(ethp2p_addr_equal(&out, &ep, true));
}
END_TEST

START_TEST(statements_older_than_five_minutes_do_not_count) {
  ethp2p_iptrack t;
  ethp2p_addr ep = ethp2p_addr_v4(1, 2, 3, 4, 40000), out;
  ethp2p_iptrack_init(&t, 0, 0, 0);
  for (unsigned i = 0; i < 10; i++) {
    ethp2p_addr h = host(i);
    ethp2p_iptrack_add_statement(&t, &h, &ep, ETHP2P_SEC + i * ETHP2P_SEC);
  }
  ck_assert(ethp2p_iptrack_predict(&t, 5 * ETHP2P_MIN, &out));
  ck_assert(!ethp2p_iptrack_predict(&t, 5 * ETHP2P_MIN + 2 * ETHP2P_SEC, &out));
}
END_TEST

START_TEST(majority_endpoint_wins_and_latest_statement_per_host_counts) {
  ethp2p_iptrack t;
  ethp2p_addr a = ethp2p_addr_v4(1, 2, 3, 4, 1000), b = ethp2p_addr_v4(5, 6, 7, 8, 2000), out;
  ethp2p_iptrack_init(&t, 0, 0, 3);
  for (unsigned i = 0; i < 4; i++) {
    ethp2p_addr h = host(i);
    ethp2p_iptrack_add_statement(&t, &h, &a, ETHP2P_SEC);
  }
  for (unsigned i = 10; i < 15; i++) {
    ethp2p_addr h = host(i);
    ethp2p_iptrack_add_statement(&t, &h, &b, ETHP2P_SEC);
  }
  ck_assert(ethp2p_iptrack_predict(&t, ETHP2P_SEC, &out));
  ck_assert(ethp2p_addr_equal(&out, &b, true));
  /* two of b's hosts change their minds: a leads 6 to 3 */
  for (unsigned i = 10; i < 12; i++) {
    ethp2p_addr h = host(i);
    ethp2p_iptrack_add_statement(&t, &h, &a, 2 * ETHP2P_SEC);
  }
  ck_assert(ethp2p_iptrack_predict(&t, 2 * ETHP2P_SEC, &out));
  ck_assert(ethp2p_addr_equal(&out, &a, true));
}
END_TEST

START_TEST(table_is_bounded) {
  ethp2p_iptrack t;
  ethp2p_addr ep = ethp2p_addr_v4(1, 2, 3, 4, 5), out;
  ethp2p_iptrack_init(&t, 0, 0, 0);
  for (unsigned i = 0; i < 5000; i++) {
    ethp2p_addr h = host(i);
    ethp2p_iptrack_add_statement(&t, &h, &ep, ETHP2P_SEC + i);
    ethp2p_iptrack_add_contact(&t, &h, ETHP2P_SEC + i);
  }
  ck_assert_uint_le(t.nst, ETHP2P_IPTRACK_MAX);
  ck_assert_uint_le(t.ncontact, ETHP2P_IPTRACK_MAX);
  ck_assert(ethp2p_iptrack_predict(&t, 2 * ETHP2P_SEC, &out));
}
END_TEST

START_TEST(full_cone_predicted_from_unsolicited_statements) {
  ethp2p_iptrack t;
  ethp2p_addr ep = ethp2p_addr_v4(1, 2, 3, 4, 5), h1 = host(1), h2 = host(2);
  ethp2p_iptrack_init(&t, 0, 0, 0);
  ethp2p_iptrack_add_contact(&t, &h1, ETHP2P_SEC);
  ethp2p_iptrack_add_statement(&t, &h1, &ep, 2 * ETHP2P_SEC);
  ck_assert(!ethp2p_iptrack_predict_full_cone(&t, 2 * ETHP2P_SEC));
  ethp2p_iptrack_add_statement(&t, &h2, &ep, 3 * ETHP2P_SEC); /* never contacted */
  ck_assert(ethp2p_iptrack_predict_full_cone(&t, 3 * ETHP2P_SEC));
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_iptrack");
  TCase *tc = tcase_create("iptrack");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, prediction_needs_ten_distinct_hosts);
  tcase_add_test(tc, statements_older_than_five_minutes_do_not_count);
  tcase_add_test(tc, majority_endpoint_wins_and_latest_statement_per_host_counts);
  tcase_add_test(tc, table_is_bounded);
  tcase_add_test(tc, full_cone_predicted_from_unsolicited_statements);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
