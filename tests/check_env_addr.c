/* tests/check_env_addr.c — ethp2p_addr parsing, formatting and classification. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env.h"

/* ---- parse ---------------------------------------------------------------- */

typedef struct parse_case {
  const char *text;
  int rc;          /* expected return */
  uint8_t family;  /* expected family on success */
  const char *fmt; /* expected ethp2p_addr_format(with_port=true) on success */
} parse_case;

/* default port used by the table: 30303 */
static const parse_case parse_cases[] = {
    /* IPv4 */
    {"1.2.3.4", 0, 4, "1.2.3.4:30303"},
    {"1.2.3.4:80", 0, 4, "1.2.3.4:80"},
    {"0.0.0.0:0", 0, 4, "0.0.0.0:0"},
    {"255.255.255.255:65535", 0, 4, "255.255.255.255:65535"},
    {"10.0.0.1:1", 0, 4, "10.0.0.1:1"},
    {"256.1.1.1", ETHP2P_ESYNTAX, 0, NULL}, /* octet > 255 */
    {"1.2.3.256", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3", ETHP2P_ESYNTAX, 0, NULL},     /* three parts */
    {"1.2.3.4.5", ETHP2P_ESYNTAX, 0, NULL}, /* five parts */
    {"1.2..4", ETHP2P_ESYNTAX, 0, NULL},    /* empty part */
    {".1.2.3", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.", ETHP2P_ESYNTAX, 0, NULL},
    {"01.2.3.4", ETHP2P_ESYNTAX, 0, NULL}, /* leading zero: octal ambiguity */
    {"1.2.3.04", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.00", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.0", 0, 4, "1.2.3.0:30303"},      /* a lone zero is fine */
    {"1.2.3.1234", ETHP2P_ESYNTAX, 0, NULL}, /* four digits */
    {"1.2.3.-4", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4a", ETHP2P_ESYNTAX, 0, NULL},
    {"0x1.2.3.4", ETHP2P_ESYNTAX, 0, NULL},
    {"1234", ETHP2P_ESYNTAX, 0, NULL},      /* inet_aton would accept */
    {"localhost", ETHP2P_ESYNTAX, 0, NULL}, /* no name resolution */
    /* ports */
    {"1.2.3.4:65536", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4:99999", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4:100000", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4:", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4:080", ETHP2P_ESYNTAX, 0, NULL}, /* leading zero in port */
    {"1.2.3.4:0", 0, 4, "1.2.3.4:0"},
    {"1.2.3.4:-1", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4:+80", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4:8 0", ETHP2P_ESYNTAX, 0, NULL},
    {":80", ETHP2P_ESYNTAX, 0, NULL},
    /* whitespace and empty */
    {"", ETHP2P_ESYNTAX, 0, NULL},
    {" 1.2.3.4", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4 ", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4\n", ETHP2P_ESYNTAX, 0, NULL},
    /* IPv6 */
    {"::1", 0, 6, "[::1]:30303"},
    {"::", 0, 6, "[::]:30303"},
    {"[::1]:80", 0, 6, "[::1]:80"},
    {"[::1]", 0, 6, "[::1]:30303"},
    {"[fe80::1]:65535", 0, 6, "[fe80::1]:65535"},
    {"2001:DB8::1", 0, 6, "[2001:db8::1]:30303"},          /* canonical lower case */
    {"2001:db8:0:0:0:0:0:1", 0, 6, "[2001:db8::1]:30303"}, /* RFC 5952 compression */
    {"::ffff:1.2.3.4", 0, 6, "[::ffff:1.2.3.4]:30303"},
    {"::1:80", 0, 6, "[::1:80]:30303"},                             /* bare IPv6: no port */
    {"1:0:0:2:0:0:0:3", 0, 6, "[1:0:0:2::3]:30303"},                /* longest zero run */
    {"1:0:0:2:0:0:3:4", 0, 6, "[1::2:0:0:3:4]:30303"},              /* first of equal runs */
    {"2001:db8:0:1:1:1:1:1", 0, 6, "[2001:db8:0:1:1:1:1:1]:30303"}, /* one zero stays */
    {"1::", 0, 6, "[1::]:30303"},
    {"::ffff:0.0.0.0", 0, 6, "[::ffff:0.0.0.0]:30303"},
    {"::1.2.3.4", 0, 6, "[::102:304]:30303"}, /* IPv4-compatible: no dots */
    {"[::1]:65536", ETHP2P_ESYNTAX, 0, NULL},
    {"[::1]:", ETHP2P_ESYNTAX, 0, NULL},
    {"[::1]80", ETHP2P_ESYNTAX, 0, NULL},
    {"[::1", ETHP2P_ESYNTAX, 0, NULL},
    {"::1]", ETHP2P_ESYNTAX, 0, NULL},
    {"[]", ETHP2P_ESYNTAX, 0, NULL},
    {"[]:80", ETHP2P_ESYNTAX, 0, NULL},
    {"[1.2.3.4]:80", ETHP2P_ESYNTAX, 0, NULL}, /* brackets are for IPv6 */
    {"fe80::1%eth0", ETHP2P_ESYNTAX, 0, NULL}, /* zones are not supported */
    {"1:2:3:4:5:6:7:8:9", ETHP2P_ESYNTAX, 0, NULL},
    {"1::2::3", ETHP2P_ESYNTAX, 0, NULL},
    {"12345::1", ETHP2P_ESYNTAX, 0, NULL},
    {"::ffff:1.2.3.04", ETHP2P_ESYNTAX, 0, NULL},
    {"gggg::1", ETHP2P_ESYNTAX, 0, NULL},
    {"[::1]:80:90", ETHP2P_ESYNTAX, 0, NULL},
    {"1.2.3.4:80:90", ETHP2P_ESYNTAX, 0, NULL},
    /* too long for ETHP2P_ADDRSTRLEN */
    {"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", ETHP2P_ESYNTAX, 0,
     NULL},
};

START_TEST(parse_accepts_canonical_forms_and_rejects_every_malformed_edge) {
  const parse_case *c = &parse_cases[_i];
  ethp2p_addr a;
  char buf[ETHP2P_ADDRSTRLEN];
  int rc;
  memset(&a, 0xab, sizeof(a));
  rc = ethp2p_addr_parse(&a, c->text, 30303);
  ck_assert_msg(rc == c->rc, "parse(\"%s\") = %d, want %d", c->text, rc, c->rc);
  if (rc != 0) {
    ethp2p_addr zero;
    memset(&zero, 0, sizeof(zero));
    ck_assert_msg(memcmp(&a, &zero, sizeof(a)) == 0, "parse(\"%s\") left garbage", c->text);
    return;
  }
  ck_assert_uint_eq(a.family, c->family);
  ck_assert_str_eq(ethp2p_addr_format(&a, true, buf, sizeof(buf)), c->fmt);
}
END_TEST

START_TEST(format_then_parse_round_trips) {
  const parse_case *c = &parse_cases[_i];
  ethp2p_addr a, b;
  char buf[ETHP2P_ADDRSTRLEN];
  if (c->rc != 0)
    return;
  ck_assert_int_eq(ethp2p_addr_parse(&a, c->text, 30303), 0);
  ck_assert_int_eq(ethp2p_addr_parse(&b, ethp2p_addr_format(&a, true, buf, sizeof(buf)), 1), 0);
  ck_assert(ethp2p_addr_equal(&a, &b, true));
  ck_assert_int_eq(ethp2p_addr_parse_ip(&b, ethp2p_addr_format(&a, false, buf, sizeof(buf))), 0);
  ck_assert(ethp2p_addr_equal(&a, &b, false));
}
END_TEST

START_TEST(parse_ip_rejects_ports_and_brackets) {
  ethp2p_addr a;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, "192.168.1.1"), 0);
  ck_assert_uint_eq(a.family, 4);
  ck_assert_uint_eq(a.port, 0);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&a), 0xC0A80101u);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, "fd00::2"), 0);
  ck_assert_uint_eq(a.family, 6);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, "1.2.3.4:80"), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(a.family, 0);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, "[::1]"), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, "[::1]:80"), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, ""), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, "01.1.1.1"), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, NULL), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_addr_parse_ip(NULL, "1.1.1.1"), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_addr_parse(&a, NULL, 1), ETHP2P_EINVAL);
}
END_TEST

START_TEST(parse_rejects_text_without_terminator_within_limit) {
  char longtext[200];
  ethp2p_addr a;
  memset(longtext, '1', sizeof(longtext) - 1);
  longtext[sizeof(longtext) - 1] = '\0';
  ck_assert_int_eq(ethp2p_addr_parse(&a, longtext, 1), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, longtext), ETHP2P_ESYNTAX);
}
END_TEST

/* ---- format --------------------------------------------------------------- */

START_TEST(format_writes_ports_brackets_and_truncates_safely) {
  ethp2p_addr a = ethp2p_addr_v4(192, 0, 2, 1, 30303);
  ethp2p_addr unset;
  char buf[ETHP2P_ADDRSTRLEN];
  char small[6];
  ck_assert_str_eq(ethp2p_addr_format(&a, false, buf, sizeof(buf)), "192.0.2.1");
  ck_assert_str_eq(ethp2p_addr_format(&a, true, buf, sizeof(buf)), "192.0.2.1:30303");
  ck_assert_str_eq(ethp2p_addr_format(&a, true, small, sizeof(small)), "192.0");
  memset(&unset, 0, sizeof(unset));
  ck_assert_str_eq(ethp2p_addr_format(&unset, true, buf, sizeof(buf)), "<unset>");
  ck_assert_str_eq(ethp2p_addr_format(NULL, true, buf, sizeof(buf)), "<unset>");
  ck_assert_int_eq(ethp2p_addr_parse(&a, "[2001:db8::ff00:42:8329]:1", 0), 0);
  ck_assert_str_eq(ethp2p_addr_format(&a, false, buf, sizeof(buf)), "2001:db8::ff00:42:8329");
  ck_assert_int_eq(ethp2p_addr_parse(&a, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", 0), 0);
  ck_assert_str_eq(ethp2p_addr_format(&a, true, buf, sizeof(buf)),
                   "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}
END_TEST

/* ---- equality ------------------------------------------------------------- */

START_TEST(equal_compares_family_ip_and_optionally_port) {
  ethp2p_addr a = ethp2p_addr_v4(1, 2, 3, 4, 80), b = ethp2p_addr_v4(1, 2, 3, 4, 81);
  ethp2p_addr c = ethp2p_addr_v4(1, 2, 3, 5, 80), m;
  ck_assert(ethp2p_addr_equal(&a, &b, false));
  ck_assert(!ethp2p_addr_equal(&a, &b, true));
  ck_assert(!ethp2p_addr_equal(&a, &c, false));
  ck_assert_int_eq(ethp2p_addr_parse(&m, "[::ffff:1.2.3.4]:80", 0), 0);
  ck_assert(!ethp2p_addr_equal(&a, &m, true)); /* no silent family conversion */
  ck_assert(!ethp2p_addr_equal(&a, NULL, false));
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&m), 0);
}
END_TEST

/* ---- classification ------------------------------------------------------- */

enum { UNSPEC = 1, LOOP = 2, PRIV = 4, CGNAT = 8, MCAST = 16 };

typedef struct class_case {
  const char *ip;
  unsigned want;
} class_case;

static const class_case class_cases[] = {
    {"0.0.0.0", UNSPEC},
    {"::", UNSPEC},
    {"0.0.0.1", 0},
    {"127.0.0.1", LOOP},
    {"127.255.255.254", LOOP},
    {"128.0.0.1", 0},
    {"126.255.255.255", 0},
    {"::1", LOOP},
    {"::2", 0},
    {"::ffff:127.0.0.1", LOOP},
    {"10.0.0.0", PRIV},
    {"10.255.255.255", PRIV},
    {"9.255.255.255", 0},
    {"11.0.0.0", 0},
    {"172.16.0.0", PRIV},
    {"172.31.255.255", PRIV},
    {"172.15.255.255", 0},
    {"172.32.0.0", 0},
    {"192.168.0.1", PRIV},
    {"192.167.255.255", 0},
    {"192.169.0.0", 0},
    {"169.254.1.1", PRIV},
    {"169.253.255.255", 0},
    {"169.255.0.0", 0},
    {"::ffff:192.168.1.1", PRIV},
    {"fc00::1", PRIV},
    {"fdff:ffff::1", PRIV},
    {"fe00::1", 0},
    {"fbff::1", 0},
    {"fe80::1", PRIV},
    {"febf:ffff::1", PRIV},
    {"fec0::1", 0},
    {"100.64.0.0", CGNAT},
    {"100.127.255.255", CGNAT},
    {"100.63.255.255", 0},
    {"100.128.0.0", 0},
    {"::ffff:100.64.0.1", CGNAT},
    {"224.0.0.1", MCAST},
    {"239.255.255.250", MCAST},
    {"223.255.255.255", 0},
    {"240.0.0.0", 0},
    {"ff02::1", MCAST},
    {"fe02::1", 0},
    {"8.8.8.8", 0},
    {"2001:db8::1", 0},
};

START_TEST(classification_matches_every_range_boundary) {
  const class_case *c = &class_cases[_i];
  ethp2p_addr a;
  unsigned got = 0;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, c->ip), 0);
  got |= ethp2p_addr_is_unspecified(&a) ? UNSPEC : 0;
  got |= ethp2p_addr_is_loopback(&a) ? LOOP : 0;
  got |= ethp2p_addr_is_private(&a) ? PRIV : 0;
  got |= ethp2p_addr_is_cgnat(&a) ? CGNAT : 0;
  got |= ethp2p_addr_is_multicast(&a) ? MCAST : 0;
  ck_assert_msg(got == c->want, "%s: classes %u, want %u", c->ip, got, c->want);
}
END_TEST

START_TEST(classification_of_unset_or_null_is_false) {
  ethp2p_addr unset;
  memset(&unset, 0, sizeof(unset));
  ck_assert(!ethp2p_addr_is_unspecified(&unset));
  ck_assert(!ethp2p_addr_is_loopback(&unset));
  ck_assert(!ethp2p_addr_is_private(&unset));
  ck_assert(!ethp2p_addr_is_cgnat(&unset));
  ck_assert(!ethp2p_addr_is_multicast(&unset));
  ck_assert(!ethp2p_addr_is_private(NULL));
  ck_assert(!ethp2p_addr_is_unspecified(NULL));
}
END_TEST

/* ---- same_subnet ---------------------------------------------------------- */

typedef struct subnet_case {
  const char *a, *b;
  unsigned prefix;
  bool want;
} subnet_case;

static const subnet_case subnet_cases[] = {
    {"192.168.1.10", "192.168.1.1", 24, true},  {"192.168.1.10", "192.168.2.1", 24, false},
    {"192.168.1.10", "192.168.2.1", 22, true},  {"192.168.1.10", "192.168.4.1", 22, false},
    {"10.1.2.3", "10.200.0.0", 8, true},        {"10.1.2.3", "11.1.2.3", 8, false},
    {"10.1.2.3", "10.1.2.3", 32, true},         {"10.1.2.3", "10.1.2.2", 32, false},
    {"10.1.2.3", "10.1.2.2", 31, true},         {"1.2.3.4", "200.2.3.4", 0, true},
    {"1.2.3.4", "1.2.3.4", 33, false},       /* prefix longer than the address */
    {"1.2.3.4", "::ffff:1.2.3.4", 0, false}, /* families differ */
    {"fe80::1", "fe80::2", 64, true},           {"fe80::1", "fe80:0:0:1::1", 64, false},
    {"fe80::1", "fe80:0:0:1::1", 63, true},     {"2001:db8::1", "2001:db8::1", 128, true},
    {"2001:db8::1", "2001:db8::1", 129, false}, {"2001:db8::1", "2001:db9::1", 31, true},
    {"2001:db8::1", "2001:db9::1", 32, false},
};

/* ethp2p_addr_is_public: one row per range edge (just inside, just outside). */
typedef struct public_case {
  const char *ip;
  bool pub;
} public_case;

static const public_case public_cases[] = {
    /* IPv6: the excluded ranges and their neighbours */
    {"::", false},
    {"::1", false},
    {"::2", true}, /* unassigned, but not one of the excluded ranges */
    {"fc00::1", false},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"fe00::1", true},
    {"fe80::1", false},
    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"fec0::1", true}, /* deprecated site-local, routable in theory */
    {"ff02::1", false},
    {"ff0e::1", false},
    {"2001:db8::1", false},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false},
    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:db9::", true},
    {"64:ff9b::1.2.3.4", false},
    {"64:ff9b::ffff:ffff", false},
    {"64:ff9b:0:0:0:1::", true}, /* outside the /96 */
    {"64:ff9a::1", true},
    {"::ffff:8.8.8.8", false}, /* mapped: never an IPv6 address on the wire */
    {"::fffe:8.8.8.8", true},
    {"2a01:4f8:c17:1f2::1", true},
    {"2400:8907::f03c:92ff:fe6b:a13", true},
    {"3fff::1", true}, /* RFC 9637 documentation prefix: the labs' "Internet" */
    /* IPv4 */
    {"0.0.0.0", false},
    {"0.255.255.255", false},
    {"1.0.0.0", true},
    {"8.8.8.8", true},
    {"127.0.0.1", false},
    {"10.1.2.3", false},
    {"172.15.255.255", true},
    {"172.16.0.0", false},
    {"192.168.1.1", false},
    {"169.254.1.1", false},
    {"100.63.255.255", true},
    {"100.64.0.0", false},
    {"100.127.255.255", false},
    {"100.128.0.0", true},
    {"224.0.0.1", false},
    {"239.255.255.250", false},
    {"240.0.0.1", false},
    {"255.255.255.255", false},
    {"223.255.255.255", true},
    {"192.0.2.1", true}, /* TEST-NET-1..3: the simulated world's Internet */
    {"198.51.100.10", true},
    {"203.0.113.9", true},
};

START_TEST(is_public_excludes_exactly_the_listed_ranges) {
  const public_case *c = &public_cases[_i];
  ethp2p_addr a;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, c->ip), 0);
  ck_assert_msg(ethp2p_addr_is_public(&a) == c->pub, "%s: is_public = %d, want %d", c->ip, !c->pub,
                c->pub);
  a.scope = 7; /* the zone changes nothing */
  ck_assert(ethp2p_addr_is_public(&a) == c->pub);
}
END_TEST

START_TEST(is_public_of_unset_or_null_is_false) {
  ethp2p_addr a;
  memset(&a, 0, sizeof(a));
  ck_assert(!ethp2p_addr_is_public(NULL));
  ck_assert(!ethp2p_addr_is_public(&a));
  a.family = 5;
  a.ip[0] = 8;
  ck_assert(!ethp2p_addr_is_public(&a));
}
END_TEST

START_TEST(parse_and_equality_ignore_the_zone) {
  ethp2p_addr a, b;
  char buf[ETHP2P_ADDRSTRLEN];
  ck_assert_int_eq(ethp2p_addr_parse(&a, "[fe80::1]:5350", 0), 0);
  ck_assert_uint_eq(a.scope, 0);
  b = a;
  b.scope = 3;
  ck_assert(ethp2p_addr_equal(&a, &b, true));
  ck_assert_str_eq(ethp2p_addr_format(&b, true, buf, sizeof(buf)), "[fe80::1]:5350");
  ck_assert_int_eq(ethp2p_addr_parse(&a, "[fe80::1%eth0]:5350", 0), ETHP2P_ESYNTAX);
}
END_TEST

START_TEST(same_subnet_compares_exactly_prefix_len_bits) {
  const subnet_case *c = &subnet_cases[_i];
  ethp2p_addr a, b;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, c->a), 0);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&b, c->b), 0);
  ck_assert_msg(ethp2p_addr_same_subnet(&a, &b, c->prefix) == c->want, "%s %s /%u", c->a, c->b,
                c->prefix);
  ck_assert(ethp2p_addr_same_subnet(&b, &a, c->prefix) == c->want);
}
END_TEST

#define N(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))

int main(void) {
  Suite *s = suite_create("env_addr");
  TCase *tc = tcase_create("addr");
  SRunner *sr;
  int failed;
  tcase_add_loop_test(tc, parse_accepts_canonical_forms_and_rejects_every_malformed_edge, 0,
                      N(parse_cases));
  tcase_add_loop_test(tc, format_then_parse_round_trips, 0, N(parse_cases));
  tcase_add_test(tc, parse_ip_rejects_ports_and_brackets);
  tcase_add_test(tc, parse_rejects_text_without_terminator_within_limit);
  tcase_add_test(tc, format_writes_ports_brackets_and_truncates_safely);
  tcase_add_test(tc, equal_compares_family_ip_and_optionally_port);
  tcase_add_loop_test(tc, classification_matches_every_range_boundary, 0, N(class_cases));
  tcase_add_test(tc, classification_of_unset_or_null_is_false);
  tcase_add_loop_test(tc, same_subnet_compares_exactly_prefix_len_bits, 0, N(subnet_cases));
  tcase_add_loop_test(tc, is_public_excludes_exactly_the_listed_ranges, 0, N(public_cases));
  tcase_add_test(tc, is_public_of_unset_or_null_is_false);
  tcase_add_test(tc, parse_and_equality_ignore_the_zone);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
