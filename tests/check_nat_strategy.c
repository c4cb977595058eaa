/*
 * tests/check_nat_strategy.c — the pairwise strategy (nat/strategy.c) over all
 * 27 x 27 NATCracker pairs, the names of the classes, and derived facts.
 *
 * The expected strategy is computed here from the rules as docs/doctor.md
 * states them case by case (not by calling the function under test):
 *   1. direct      if either side is a full cone (EI mapping and EI filtering);
 *   2. hole punch  if both external ports are predictable (EI mapping, or
 *                  port-preserving / port-contiguous allocation);
 *   3. relay       if neither is predictable;
 *   4. with one predictable side P and one unpredictable side U, U must open
 *      the connection: hole punch iff P's filtering is not
 *      address-and-port-dependent AND (P's mapping is not
 *      address-and-port-dependent OR U's filtering is not), else relay.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/natbehavior.h"

typedef struct triple {
  ethp2p_nat_policy m;
  ethp2p_nat_alloc a;
  ethp2p_nat_policy f;
} triple;

/* Type index 0..26 -> triple, in NATCracker order mapping x allocation x filtering. */
static triple triple_of(int i) {
  static const ethp2p_nat_policy pol[3] = {ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_POLICY_AD,
                                           ETHP2P_NAT_POLICY_APD};
  static const ethp2p_nat_alloc al[3] = {ETHP2P_NAT_ALLOC_PRESERVING, ETHP2P_NAT_ALLOC_CONTIGUOUS,
                                         ETHP2P_NAT_ALLOC_RANDOM};
  triple t = {pol[i / 9], al[(i / 3) % 3], pol[i % 3]};
  return t;
}

static ethp2p_nat_profile profile_of(triple t) {
  ethp2p_nat_profile p;
  memset(&p, 0, sizeof p);
  p.mapping = t.m;
  p.allocation = t.a;
  p.filtering = t.f;
  p.behind_nat = ETHP2P_NAT_TRI_YES;
  return p;
}

static bool full_cone(triple t) {
  return t.m == ETHP2P_NAT_POLICY_EI && t.f == ETHP2P_NAT_POLICY_EI;
}

static bool predictable(triple t) {
  return t.m == ETHP2P_NAT_POLICY_EI || t.a == ETHP2P_NAT_ALLOC_PRESERVING ||
         t.a == ETHP2P_NAT_ALLOC_CONTIGUOUS;
}

static ethp2p_nat_strategy expected(triple a, triple b) {
  if (full_cone(a) || full_cone(b))
    return ETHP2P_NAT_STRATEGY_DIRECT;
  if (predictable(a) && predictable(b))
    return ETHP2P_NAT_STRATEGY_HOLE_PUNCH;
  if (!predictable(a) && !predictable(b))
    return ETHP2P_NAT_STRATEGY_RELAY;
  triple p = predictable(a) ? a : b, u = predictable(a) ? b : a;
  if (p.f != ETHP2P_NAT_POLICY_APD &&
      (p.m != ETHP2P_NAT_POLICY_APD || u.f != ETHP2P_NAT_POLICY_APD))
    return ETHP2P_NAT_STRATEGY_HOLE_PUNCH;
  return ETHP2P_NAT_STRATEGY_RELAY;
}

static const char *abbrev(triple t) {
  static char buf[4][16];
  static int k;
  static const char *pn[] = {"?", "EI", "HD", "PD"};
  static const char *an[] = {"?", "PP", "PC", "RD"};
  char *b = buf[k++ % 4];
  snprintf(b, 16, "%s-%s-%s", pn[t.m], an[t.a], pn[t.f]);
  return b;
}

START_TEST(all_27_by_27_pairs_follow_the_written_rules) {
  unsigned counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 27; i++) {
    for (int j = 0; j < 27; j++) {
      triple ta = triple_of(i), tb = triple_of(j);
      ethp2p_nat_profile pa = profile_of(ta), pb = profile_of(tb);
      char reason[256] = "";
      ethp2p_nat_strategy got = ethp2p_nat_strategy_pair(&pa, &pb, reason, sizeof reason);
      ethp2p_nat_strategy want = expected(ta, tb);
      ck_assert_msg(got == want, "%s x %s: got %s, want %s (%s)", abbrev(ta), abbrev(tb),
                    ethp2p_nat_strategy_name(got), ethp2p_nat_strategy_name(want), reason);
      ck_assert_msg(strlen(reason) > 10, "%s x %s: no reason", abbrev(ta), abbrev(tb));
      /* The answer does not depend on who is A. */
      ck_assert_int_eq(ethp2p_nat_strategy_pair(&pb, &pa, NULL, 0), got);
      counts[got]++;
    }
  }
  /* Sanity of the table's shape: full cones (3 types) pair directly with all. */
  ck_assert_uint_eq(counts[ETHP2P_NAT_STRATEGY_DIRECT], 27 * 27 - 24 * 24);
  ck_assert_uint_gt(counts[ETHP2P_NAT_STRATEGY_HOLE_PUNCH], 0);
  ck_assert_uint_gt(counts[ETHP2P_NAT_STRATEGY_RELAY], 0);
  ck_assert_uint_eq(counts[1] + counts[2] + counts[3], 729);
}
END_TEST

/* Classic results from the literature, written out by hand. */
START_TEST(classic_pairs_match_the_literature) {
  static const struct {
    triple a, b;
    ethp2p_nat_strategy want;
  } rows[] = {
      /* full cone with a symmetric NAT: direct */
      {{ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING, ETHP2P_NAT_POLICY_EI},
       {ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM, ETHP2P_NAT_POLICY_APD},
       ETHP2P_NAT_STRATEGY_DIRECT},
      /* two port-restricted cones: hole punch */
      {{ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_RANDOM, ETHP2P_NAT_POLICY_APD},
       {ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING, ETHP2P_NAT_POLICY_APD},
       ETHP2P_NAT_STRATEGY_HOLE_PUNCH},
      /* symmetric (random) with a restricted cone: hole punch */
      {{ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM, ETHP2P_NAT_POLICY_APD},
       {ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING, ETHP2P_NAT_POLICY_AD},
       ETHP2P_NAT_STRATEGY_HOLE_PUNCH},
      /* symmetric (random) with a port-restricted cone: relay */
      {{ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM, ETHP2P_NAT_POLICY_APD},
       {ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING, ETHP2P_NAT_POLICY_APD},
       ETHP2P_NAT_STRATEGY_RELAY},
      /* two random symmetric NATs: relay */
      {{ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_RANDOM, ETHP2P_NAT_POLICY_APD},
       {ETHP2P_NAT_POLICY_AD, ETHP2P_NAT_ALLOC_RANDOM, ETHP2P_NAT_POLICY_AD},
       ETHP2P_NAT_STRATEGY_RELAY},
      /* two contiguous symmetric NATs: hole punch with port prediction */
      {{ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_CONTIGUOUS, ETHP2P_NAT_POLICY_APD},
       {ETHP2P_NAT_POLICY_APD, ETHP2P_NAT_ALLOC_CONTIGUOUS, ETHP2P_NAT_POLICY_APD},
       ETHP2P_NAT_STRATEGY_HOLE_PUNCH},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    ethp2p_nat_profile a = profile_of(rows[i].a), b = profile_of(rows[i].b);
    ck_assert_msg(ethp2p_nat_strategy_pair(&a, &b, NULL, 0) == rows[i].want, "row %zu", i);
  }
}
END_TEST

START_TEST(unknown_counts_as_worst_and_no_nat_as_open_mapping) {
  ethp2p_nat_profile unknown, prc, pub;
  memset(&unknown, 0, sizeof unknown);
  prc = profile_of(
      (triple){ETHP2P_NAT_POLICY_EI, ETHP2P_NAT_ALLOC_PRESERVING, ETHP2P_NAT_POLICY_APD});
  ck_assert_int_eq(ethp2p_nat_strategy_pair(&unknown, &prc, NULL, 0), ETHP2P_NAT_STRATEGY_RELAY);
  memset(&pub, 0, sizeof pub);
  pub.behind_nat = ETHP2P_NAT_TRI_NO;
  pub.filtering = ETHP2P_NAT_POLICY_EI;
  ck_assert_int_eq(ethp2p_nat_strategy_pair(&unknown, &pub, NULL, 0), ETHP2P_NAT_STRATEGY_DIRECT);
  /* A public host behind a stateful firewall (APD filtering) is not open. */
  pub.filtering = ETHP2P_NAT_POLICY_APD;
  ck_assert_int_eq(ethp2p_nat_strategy_pair(&unknown, &pub, NULL, 0), ETHP2P_NAT_STRATEGY_RELAY);
  ck_assert_int_eq(ethp2p_nat_strategy_pair(&prc, &pub, NULL, 0), ETHP2P_NAT_STRATEGY_HOLE_PUNCH);
}
END_TEST

START_TEST(derived_facts_follow_the_triple) {
  for (int i = 0; i < 27; i++) {
    triple t = triple_of(i);
    ethp2p_nat_profile p = profile_of(t);
    ethp2p_nat_profile_derive(&p);
    ck_assert_int_eq(p.can_receive_unsolicited, full_cone(t));
    ck_assert_int_eq(p.requires_relay, !predictable(t));
  }
}
END_TEST

START_TEST(names_are_the_rfc_names_and_parse_back) {
  ck_assert_str_eq(ethp2p_nat_policy_name(ETHP2P_NAT_POLICY_EI), "endpoint-independent");
  ck_assert_str_eq(ethp2p_nat_policy_name(ETHP2P_NAT_POLICY_AD), "address-dependent");
  ck_assert_str_eq(ethp2p_nat_policy_name(ETHP2P_NAT_POLICY_APD), "address-and-port-dependent");
  ck_assert_str_eq(ethp2p_nat_policy_name(ETHP2P_NAT_POLICY_UNKNOWN), "unknown");
  ck_assert_str_eq(ethp2p_nat_alloc_name(ETHP2P_NAT_ALLOC_PRESERVING), "port-preserving");
  ck_assert_str_eq(ethp2p_nat_alloc_name(ETHP2P_NAT_ALLOC_CONTIGUOUS), "port-contiguous");
  ck_assert_str_eq(ethp2p_nat_alloc_name(ETHP2P_NAT_ALLOC_RANDOM), "random");
  ck_assert_str_eq(ethp2p_nat_tri_name(ETHP2P_NAT_TRI_YES), "yes");
  ck_assert_str_eq(ethp2p_nat_strategy_name(ETHP2P_NAT_STRATEGY_HOLE_PUNCH), "hole-punch");
  ethp2p_nat_policy p = ETHP2P_NAT_POLICY_UNKNOWN;
  ethp2p_nat_alloc a = ETHP2P_NAT_ALLOC_UNKNOWN;
  for (int v = ETHP2P_NAT_POLICY_EI; v <= ETHP2P_NAT_POLICY_APD; v++) {
    ck_assert_int_eq(ethp2p_nat_policy_parse(ethp2p_nat_policy_name((ethp2p_nat_policy)v), &p), 0);
    ck_assert_int_eq(p, v);
  }
  for (int v = ETHP2P_NAT_ALLOC_PRESERVING; v <= ETHP2P_NAT_ALLOC_RANDOM; v++) {
    ck_assert_int_eq(ethp2p_nat_alloc_parse(ethp2p_nat_alloc_name((ethp2p_nat_alloc)v), &a), 0);
    ck_assert_int_eq(a, v);
  }
  /* NATCracker's names map onto the RFC ones. */
  ck_assert_int_eq(ethp2p_nat_policy_parse("host-dependent", &p), 0);
  ck_assert_int_eq(p, ETHP2P_NAT_POLICY_AD);
  ck_assert_int_eq(ethp2p_nat_policy_parse("PD", &p), 0);
  ck_assert_int_eq(p, ETHP2P_NAT_POLICY_APD);
  ck_assert_int_eq(ethp2p_nat_policy_parse("symmetric", &p), ETHP2P_ESYNTAX);
  ck_assert_int_eq(p, ETHP2P_NAT_POLICY_APD);
  ck_assert_int_eq(ethp2p_nat_alloc_parse("RD", &a), 0);
  ck_assert_int_eq(a, ETHP2P_NAT_ALLOC_RANDOM);
  ck_assert_int_eq(ethp2p_nat_alloc_parse(NULL, &a), ETHP2P_ESYNTAX);
}
END_TEST

START_TEST(freshness_follows_valid_for) {
  ethp2p_nat_profile p;
  memset(&p, 0, sizeof p);
  ck_assert(!ethp2p_nat_profile_fresh(&p, 5 * ETHP2P_SEC));
  p.measured_at = 10 * ETHP2P_SEC;
  p.valid_for_s = 300;
  ck_assert(ethp2p_nat_profile_fresh(&p, 10 * ETHP2P_SEC));
  ck_assert(ethp2p_nat_profile_fresh(&p, 309 * ETHP2P_SEC));
  ck_assert(!ethp2p_nat_profile_fresh(&p, 310 * ETHP2P_SEC));
  ck_assert(!ethp2p_nat_profile_fresh(&p, 5 * ETHP2P_SEC));
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_strategy");
  TCase *tc = tcase_create("strategy");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, all_27_by_27_pairs_follow_the_written_rules);
  tcase_add_test(tc, classic_pairs_match_the_literature);
  tcase_add_test(tc, unknown_counts_as_worst_and_no_nat_as_open_mapping);
  tcase_add_test(tc, derived_facts_follow_the_triple);
  tcase_add_test(tc, names_are_the_rfc_names_and_parse_back);
  tcase_add_test(tc, freshness_follows_valid_for);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
