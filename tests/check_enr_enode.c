/* tests/check_enr_enode.c — enode URLs: parse, format, and the view of a record. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/encoding.h"
#include "ethp2p/enode.h"
#include "ethp2p/enr.h"
#include "ethp2p/secp.h"

/* Public key of the EIP-778 example key. */
#define PUB                                                                                        \
  "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138"                               \
  "7574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f"
#define PUB_UPPER                                                                                  \
  "CA634CAE0D49ACB401D8A4C6B6FE8C55B70D115BF400769CC1400F3258CD3138"                               \
  "7574077F301B421BC84DF7266C44E9E6D569FC56BE00812904767BF5CCD1FC7F"
/* 128 hex digits that are no point on the curve (x = 1, y = 1). */
#define OFF_CURVE                                                                                  \
  "0000000000000000000000000000000000000000000000000000000000000001"                               \
  "0000000000000000000000000000000000000000000000000000000000000001"

static const char eip778_enr[] =
    "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRc"
    "y5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
static const uint8_t eip778_secret[32] = {
    0xb7, 0x1c, 0x71, 0xa6, 0x7e, 0x11, 0x77, 0xad, 0x4e, 0x90, 0x16, 0x95, 0xe1, 0xb4, 0xb9, 0xee,
    0x17, 0xae, 0x16, 0xc6, 0x66, 0x8d, 0x31, 0x3e, 0xac, 0x2f, 0x96, 0xdb, 0xcd, 0xa3, 0xf2, 0x91};

static int parse(ethp2p_enode *n, const char *url, ethp2p_diag *d) {
  return ethp2p_enode_parse(n, url, strlen(url), d);
}

/* Parses url, formats it and checks the text and a second parse. */
static void assert_round_trip(const char *url, const char *want) {
  ethp2p_enode a, b;
  char out[ETHP2P_ENODE_URL_MAX];
  ethp2p_diag d = {0};
  int rc = parse(&a, url, &d);
  ck_assert_msg(rc == 0, "parse(%s) = %d: %s", url, rc, d.msg);
  ck_assert_int_eq(ethp2p_enode_format(&a, out, sizeof out), (int)strlen(want));
  ck_assert_str_eq(out, want);
  ck_assert_int_eq(parse(&b, out, NULL), 0);
  ck_assert(ethp2p_enode_equal(&a, &b));
}

/* Checks that url is refused with code err, a message containing word, at offset off. */
static void assert_refused(const char *url, int err, const char *word, size_t off) {
  ethp2p_enode n;
  ethp2p_diag d = {0};
  int rc = parse(&n, url, &d);
  ck_assert_msg(rc == err, "parse(%s) = %d (%s), want %d", url, rc, d.msg, err);
  ck_assert_msg(strstr(d.msg, word) != NULL, "message \"%s\" lacks \"%s\"", d.msg, word);
  ck_assert_msg(d.offset == off, "offset %zu, want %zu (%s)", d.offset, off, d.msg);
  for (size_t i = 0; i < sizeof n; i++)
    ck_assert_uint_eq(((const uint8_t *)&n)[i], 0);
}

START_TEST(parse_reads_key_ipv4_and_ports) {
  ethp2p_enode n;
  uint8_t pub[64];
  size_t len;
  ck_assert_int_eq(parse(&n, "enode://" PUB "@10.3.58.6:30303?discport=30301", NULL), 0);
  ck_assert_int_eq(ethp2p_hex_decode(pub, sizeof pub, &len, PUB, 128, NULL), 0);
  ck_assert_mem_eq(n.pubkey, pub, 64);
  ck_assert_uint_eq(n.ip_len, 4);
  ck_assert_uint_eq(n.ip[0], 10);
  ck_assert_uint_eq(n.ip[3], 6);
  ck_assert_uint_eq(n.tcp, 30303);
  ck_assert_uint_eq(n.udp, 30301);
}
END_TEST

START_TEST(format_writes_discport_only_when_ports_differ) {
  assert_round_trip("enode://" PUB "@127.0.0.1:30303", "enode://" PUB "@127.0.0.1:30303");
  assert_round_trip("enode://" PUB "@127.0.0.1:30303?discport=30303",
                    "enode://" PUB "@127.0.0.1:30303");
  assert_round_trip("enode://" PUB "@127.0.0.1:30303?discport=30301",
                    "enode://" PUB "@127.0.0.1:30303?discport=30301");
}
END_TEST

START_TEST(parse_accepts_case_insensitive_scheme_and_uppercase_key) {
  assert_round_trip("ENODE://" PUB_UPPER "@1.2.3.4:1", "enode://" PUB "@1.2.3.4:1");
  assert_round_trip("Enode://" PUB "@1.2.3.4:65535", "enode://" PUB "@1.2.3.4:65535");
}
END_TEST

START_TEST(parse_accepts_bracketed_ipv6_and_formats_it_compressed) {
  ethp2p_enode n;
  assert_round_trip("enode://" PUB "@[::1]:30303", "enode://" PUB "@[::1]:30303");
  assert_round_trip("enode://" PUB "@[2001:0db8:0000:0000:0000:0000:0000:0001]:30303?discport=9",
                    "enode://" PUB "@[2001:db8::1]:30303?discport=9");
  ck_assert_int_eq(parse(&n, "enode://" PUB "@[fe80::1]:1", NULL), 0);
  ck_assert_uint_eq(n.ip_len, 16);
  ck_assert_uint_eq(n.ip[0], 0xfe);
}
END_TEST

START_TEST(parse_stores_ipv4_mapped_ipv6_as_ipv4) {
  ethp2p_enode n;
  ck_assert_int_eq(parse(&n, "enode://" PUB "@[::ffff:192.0.2.1]:30303", NULL), 0);
  ck_assert_uint_eq(n.ip_len, 4);
  ck_assert_uint_eq(n.ip[0], 192);
  ck_assert_uint_eq(n.ip[3], 1);
  assert_round_trip("enode://" PUB "@[::ffff:192.0.2.1]:30303", "enode://" PUB "@192.0.2.1:30303");
}
END_TEST

START_TEST(parse_accepts_incomplete_nodes_with_key_only) {
  ethp2p_enode n;
  assert_round_trip("enode://" PUB, "enode://" PUB);
  assert_round_trip(PUB, "enode://" PUB);
  ck_assert_int_eq(parse(&n, PUB_UPPER, NULL), 0);
  ck_assert_uint_eq(n.ip_len, 0);
  ck_assert_uint_eq(n.tcp, 0);
  ck_assert_uint_eq(n.udp, 0);
}
END_TEST

START_TEST(parse_accepts_port_zero_as_not_listening) {
  ethp2p_enode n;
  ck_assert_int_eq(parse(&n, "enode://" PUB "@127.0.0.1:0?discport=30303", NULL), 0);
  ck_assert_uint_eq(n.tcp, 0);
  ck_assert_uint_eq(n.udp, 30303);
  assert_round_trip("enode://" PUB "@127.0.0.1:0?discport=30303",
                    "enode://" PUB "@127.0.0.1:0?discport=30303");
  assert_round_trip("enode://" PUB "@127.0.0.1:30303?discport=0",
                    "enode://" PUB "@127.0.0.1:30303?discport=0");
  assert_round_trip("enode://" PUB "@127.0.0.1:0", "enode://" PUB "@127.0.0.1:0");
}
END_TEST

START_TEST(parse_refuses_wrong_scheme_and_garbage) {
  assert_refused("enr:-IS4Q", ETHP2P_ESYNTAX, "scheme", 0);
  assert_refused("http://" PUB "@1.2.3.4:1", ETHP2P_ESYNTAX, "scheme", 0);
  assert_refused("", ETHP2P_ESYNTAX, "not an enode URL", 0);
  assert_refused("hello", ETHP2P_ESYNTAX, "not an enode URL", 0);
  assert_refused(" enode://" PUB "@1.2.3.4:1", ETHP2P_ESYNTAX, "scheme", 0);
}
END_TEST

START_TEST(parse_refuses_bad_key_length_and_characters) {
  char url[400];
  /* 127 digits */
  snprintf(url, sizeof url, "enode://%.127s@1.2.3.4:1", PUB);
  assert_refused(url, ETHP2P_ESYNTAX, "127 hex digits", 8 + 127);
  /* 129 digits */
  snprintf(url, sizeof url, "enode://%sa@1.2.3.4:1", PUB);
  assert_refused(url, ETHP2P_ESYNTAX, "more than 128", 8 + 128);
  /* a non-hex digit at position 5 of the key */
  snprintf(url, sizeof url, "enode://%s@1.2.3.4:1", PUB);
  url[8 + 5] = 'z';
  assert_refused(url, ETHP2P_ESYNTAX, "invalid character", 8 + 5);
  /* no key at all */
  assert_refused("enode://@1.2.3.4:1", ETHP2P_ESYNTAX, "0 hex digits", 8);
}
END_TEST

START_TEST(parse_refuses_key_not_on_the_curve) {
  assert_refused("enode://" OFF_CURVE "@1.2.3.4:1", ETHP2P_EKEY, "curve", 8);
  assert_refused("enode://" OFF_CURVE, ETHP2P_EKEY, "curve", 8);
}
END_TEST

START_TEST(parse_refuses_userinfo_password_and_missing_at) {
  assert_refused("enode://" PUB ":secret@1.2.3.4:1", ETHP2P_ESYNTAX, "want '@'", 136);
  assert_refused("enode://" PUB "@", ETHP2P_ESYNTAX, "missing host", 137);
  assert_refused("enode://" PUB "@1.2.3.4:1@5.6.7.8:2", ETHP2P_ESYNTAX, "unexpected character",
                 146);
}
END_TEST

START_TEST(parse_refuses_dns_names_and_bad_addresses) {
  assert_refused("enode://" PUB "@bootnode.example.org:30303", ETHP2P_EUNSUPP, "DNS name", 137);
  assert_refused("enode://" PUB "@localhost:30303", ETHP2P_EUNSUPP, "DNS name", 137);
  assert_refused("enode://" PUB "@1.2.3:30303", ETHP2P_ESYNTAX, "invalid IP address", 137);
  assert_refused("enode://" PUB "@1.2.3.256:30303", ETHP2P_ESYNTAX, "invalid IP address", 137);
  assert_refused("enode://" PUB "@127.000.0.1:30303", ETHP2P_ESYNTAX, "invalid IP address", 137);
  assert_refused("enode://" PUB "@1.2.3.4_:30303", ETHP2P_ESYNTAX, "invalid IP address", 137);
}
END_TEST

START_TEST(parse_refuses_ipv6_without_brackets_or_with_zone) {
  assert_refused("enode://" PUB "@::1:30303", ETHP2P_ESYNTAX, "brackets", 137);
  assert_refused("enode://" PUB "@[fe80::1%eth0]:30303", ETHP2P_EUNSUPP, "zone", 138);
  assert_refused("enode://" PUB "@[::1:30303", ETHP2P_ESYNTAX, "']'", 137);
  assert_refused("enode://" PUB "@[]:30303", ETHP2P_ESYNTAX, "IPv6", 138);
  assert_refused("enode://" PUB "@[1.2.3.4]:30303", ETHP2P_ESYNTAX, "IPv6", 138);
  assert_refused("enode://" PUB "@[::1]30303", ETHP2P_ESYNTAX, "want ':'", 142);
}
END_TEST

START_TEST(parse_refuses_unbalanced_or_extra_brackets_with_their_offset) {
  /* The host starts at offset 137 (8 + 128 + '@'). */
  assert_refused("enode://" PUB "@[[::1]]:30303", ETHP2P_ESYNTAX, "unbalanced '['", 138);
  assert_refused("enode://" PUB "@[::1]]:30303", ETHP2P_ESYNTAX, "unbalanced ']'", 142);
  assert_refused("enode://" PUB "@::1]:30303", ETHP2P_ESYNTAX, "unbalanced ']'", 140);
  assert_refused("enode://" PUB "@1.2.3.4]:30303", ETHP2P_ESYNTAX, "unbalanced ']'", 144);
  assert_refused("enode://" PUB "@]::1[:30303", ETHP2P_ESYNTAX, "unbalanced ']'", 137);
  assert_refused("enode://" PUB "@[::1]:30303]", ETHP2P_ESYNTAX, "unbalanced ']'", 148);
  assert_refused("enode://" PUB "@[::1]:[30303]", ETHP2P_ESYNTAX, "unbalanced '['", 143);
  assert_refused("enode://" PUB "@[::1]:30303?discport=[1]", ETHP2P_ESYNTAX, "discport", 158);
  assert_refused("enode://" PUB "@[", ETHP2P_ESYNTAX, "']'", 137);
  assert_refused("enode://" PUB "@[:::1]:30303", ETHP2P_ESYNTAX, "invalid IPv6", 138);
  assert_refused("enode://" PUB "@[1:2:3:4:5:6:7:8:9]:1", ETHP2P_ESYNTAX, "invalid IPv6", 138);
  assert_refused("enode://" PUB "@[::1]:", ETHP2P_ESYNTAX, "missing port", 143);
}
END_TEST

START_TEST(ipv6_hosts_are_formatted_as_rfc5952_like_go_ethereum) {
  /* The deprecated IPv4-compatible form stays hex (Go prints ::102:304; glibc's
   * inet_ntop would print ::1.2.3.4). */
  assert_round_trip("enode://" PUB "@[::102:304]:1", "enode://" PUB "@[::102:304]:1");
  /* Longest zero run compressed; the first of two equal runs; one zero group stays. */
  assert_round_trip("enode://" PUB "@[2001:db8:0:0:1:0:0:1]:1",
                    "enode://" PUB "@[2001:db8::1:0:0:1]:1");
  assert_round_trip("enode://" PUB "@[2001:0:0:1:0:0:0:1]:1", "enode://" PUB "@[2001:0:0:1::1]:1");
  assert_round_trip("enode://" PUB "@[2001:DB8:0:1:1:1:1:1]:1",
                    "enode://" PUB "@[2001:db8:0:1:1:1:1:1]:1");
  assert_round_trip("enode://" PUB "@[::]:1", "enode://" PUB "@[::]:1");
  assert_round_trip("enode://" PUB "@[fe80::]:1", "enode://" PUB "@[fe80::]:1");
  assert_round_trip("enode://" PUB "@[2001:db8::1]:30303?discport=30301",
                    "enode://" PUB "@[2001:db8::1]:30303?discport=30301");
}
END_TEST

START_TEST(parse_refuses_missing_or_bad_ports) {
  assert_refused("enode://" PUB "@1.2.3.4", ETHP2P_ESYNTAX, "missing port", 144);
  assert_refused("enode://" PUB "@1.2.3.4:", ETHP2P_ESYNTAX, "missing port", 145);
  assert_refused("enode://" PUB "@1.2.3.4:65536", ETHP2P_ERANGE, "65535", 145);
  assert_refused("enode://" PUB "@1.2.3.4:123456", ETHP2P_ERANGE, "65535", 145);
  assert_refused("enode://" PUB "@1.2.3.4:30a03", ETHP2P_ESYNTAX, "invalid port", 147);
  assert_refused("enode://" PUB "@1.2.3.4:-1", ETHP2P_ESYNTAX, "invalid port", 145);
  assert_refused("enode://" PUB "@1.2.3.4:+1", ETHP2P_ESYNTAX, "invalid port", 145);
}
END_TEST

START_TEST(parse_refuses_bad_queries_fragments_and_paths) {
  assert_refused("enode://" PUB "@1.2.3.4:1?discport=", ETHP2P_ESYNTAX, "missing discport", 156);
  assert_refused("enode://" PUB "@1.2.3.4:1?discport=70000", ETHP2P_ERANGE, "discport", 156);
  assert_refused("enode://" PUB "@1.2.3.4:1?discport=x", ETHP2P_ESYNTAX, "invalid discport", 156);
  assert_refused("enode://" PUB "@1.2.3.4:1?foo=1", ETHP2P_ESYNTAX, "only \"discport=N\"", 147);
  assert_refused("enode://" PUB "@1.2.3.4:1?discport=1&x=2", ETHP2P_ESYNTAX, "only", 157);
  assert_refused("enode://" PUB "@1.2.3.4:1?", ETHP2P_ESYNTAX, "only", 147);
  assert_refused("enode://" PUB "@1.2.3.4:1#frag", ETHP2P_ESYNTAX, "unexpected character", 146);
  assert_refused("enode://" PUB "@1.2.3.4:1/path", ETHP2P_ESYNTAX, "unexpected character", 146);
  assert_refused("enode://" PUB "@1.2.3.4:1 ", ETHP2P_ESYNTAX, "unexpected character", 146);
  assert_refused("enode://" PUB "@1.2.3.4:1\n", ETHP2P_ESYNTAX, "unexpected character", 146);
}
END_TEST

START_TEST(parse_refuses_oversized_input_and_nul_bytes) {
  static char big[ETHP2P_ENODE_INPUT_MAX + 2];
  ethp2p_enode n;
  ethp2p_diag d = {0};
  char url[300];
  int len;
  memset(big, 'a', sizeof big - 1);
  ck_assert_int_eq(parse(&n, big, &d), ETHP2P_ETOOBIG);
  len = snprintf(url, sizeof url, "enode://%s@1.2.3.4:1", PUB);
  url[len - 2] = '\0'; /* an embedded NUL is not part of any host */
  ck_assert_int_eq(ethp2p_enode_parse(&n, url, (size_t)len, &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_enode_parse(&n, NULL, 0, &d), ETHP2P_ESYNTAX);
}
END_TEST

START_TEST(format_refuses_small_buffer_and_bad_ip_len) {
  ethp2p_enode n;
  char out[ETHP2P_ENODE_URL_MAX];
  ck_assert_int_eq(parse(&n, "enode://" PUB "@[2001:db8::1]:65535?discport=65534", NULL), 0);
  ck_assert_int_eq(ethp2p_enode_format(&n, out, 100), ETHP2P_ESPACE);
  ck_assert_str_eq(out, "");
  ck_assert_int_gt(ethp2p_enode_format(&n, out, sizeof out), 0);
  n.ip_len = 5;
  ck_assert_int_eq(ethp2p_enode_format(&n, out, sizeof out), ETHP2P_EINVAL);
}
END_TEST

START_TEST(init_checks_key_and_address_length) {
  ethp2p_enode n, p;
  uint8_t pub[64];
  static const uint8_t ip[4] = {203, 0, 113, 7};
  char out[ETHP2P_ENODE_URL_MAX];
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enode_init(&n, pub, ip, 4, 30303, 30301), 0);
  ck_assert_int_gt(ethp2p_enode_format(&n, out, sizeof out), 0);
  ck_assert_str_eq(out, "enode://" PUB "@203.0.113.7:30303?discport=30301");
  ck_assert_int_eq(parse(&p, out, NULL), 0);
  ck_assert(ethp2p_enode_equal(&n, &p));
  ck_assert_int_eq(ethp2p_enode_init(&n, pub, ip, 5, 1, 1), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_enode_init(&n, pub, NULL, 4, 1, 1), ETHP2P_EINVAL);
  memset(pub, 0, sizeof pub);
  ck_assert_int_eq(ethp2p_enode_init(&n, pub, ip, 4, 1, 1), ETHP2P_EKEY);
}
END_TEST

START_TEST(from_record_matches_geth_url_of_eip778_example) {
  ethp2p_enr rec;
  ethp2p_enode n;
  char out[ETHP2P_ENODE_URL_MAX];
  ck_assert_int_eq(ethp2p_enr_text_decode(&rec, eip778_enr, strlen(eip778_enr), NULL), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &rec, NULL), 0);
  ck_assert_int_gt(ethp2p_enode_format(&n, out, sizeof out), 0);
  /* No tcp entry: go-ethereum prints port 0 and the UDP port as discport. */
  ck_assert_str_eq(out, "enode://" PUB "@127.0.0.1:0?discport=30303");
}
END_TEST

START_TEST(from_record_without_address_is_incomplete) {
  ethp2p_enr rec;
  ethp2p_enode n;
  char out[ETHP2P_ENODE_URL_MAX];
  ethp2p_enr_init(&rec);
  ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP, 30303), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&rec, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &rec, NULL), 0);
  ck_assert_uint_eq(n.ip_len, 0);
  ck_assert_int_gt(ethp2p_enode_format(&n, out, sizeof out), 0);
  ck_assert_str_eq(out, "enode://" PUB);
}
END_TEST

START_TEST(from_record_uses_ip6_ports_with_fallback) {
  static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ethp2p_enr rec;
  ethp2p_enode n;
  ethp2p_enr_init(&rec);
  ck_assert_int_eq(ethp2p_enr_ip6_set(&rec, ip6), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_TCP, 30303), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP6, 30399), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP, 1), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&rec, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &rec, NULL), 0);
  ck_assert_uint_eq(n.ip_len, 16);
  ck_assert_mem_eq(n.ip, ip6, 16);
  ck_assert_uint_eq(n.tcp, 30303); /* no tcp6: falls back to tcp */
  ck_assert_uint_eq(n.udp, 30399); /* udp6 wins over udp */
}
END_TEST

START_TEST(from_record_prefers_the_more_global_address) {
  static const uint8_t lan[4] = {10, 0, 0, 5};
  static const uint8_t pub4[4] = {203, 0, 113, 9};
  static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ethp2p_enr rec;
  ethp2p_enode n;
  ethp2p_enr_init(&rec);
  ck_assert_int_eq(ethp2p_enr_ip_set(&rec, lan), 0);
  ck_assert_int_eq(ethp2p_enr_ip6_set(&rec, ip6), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&rec, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &rec, NULL), 0);
  ck_assert_uint_eq(n.ip_len, 16); /* private IPv4 loses to global IPv6 */
  ck_assert_int_eq(ethp2p_enr_ip_set(&rec, pub4), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &rec, NULL), 0);
  ck_assert_uint_eq(n.ip_len, 4); /* a tie goes to IPv4 */
  ck_assert_mem_eq(n.ip, pub4, 4);
}
END_TEST

START_TEST(from_record_reports_malformed_entries_instead_of_misreading) {
  static const uint8_t ip[4] = {127, 0, 0, 1};
  static const uint8_t port3[] = {0x83, 0x01, 0x00, 0x00}; /* a 3-byte port */
  static const uint8_t ip5[] = {0x85, 1, 2, 3, 4, 5};
  ethp2p_enr rec, bad;
  ethp2p_enode n;
  ethp2p_diag d = {0};
  ethp2p_enr_init(&rec);
  ck_assert_int_eq(ethp2p_enr_ip_set(&rec, ip), 0);
  bad = rec;
  ck_assert_int_eq(ethp2p_enr_raw_set(&bad, "udp", 3, port3, sizeof port3), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&bad, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &bad, &d), ETHP2P_ETYPE);
  ck_assert_ptr_nonnull(strstr(d.msg, "\"udp\""));
  ck_assert_uint_eq(n.ip_len, 0);
  bad = rec;
  ck_assert_int_eq(ethp2p_enr_raw_set(&bad, "ip", 2, ip5, sizeof ip5), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&bad, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &bad, &d), ETHP2P_ETYPE);
  ck_assert_ptr_nonnull(strstr(d.msg, "\"ip\""));
}
END_TEST

START_TEST(from_record_skips_multicast_and_maps_ipv4_in_ipv6) {
  static const uint8_t mcast[4] = {224, 0, 0, 1};
  static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
  ethp2p_enr rec;
  ethp2p_enode n;
  ethp2p_enr_init(&rec);
  ck_assert_int_eq(ethp2p_enr_ip_set(&rec, mcast), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP, 30303), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&rec, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &rec, NULL), 0);
  ck_assert_uint_eq(n.ip_len, 0); /* a multicast address is no endpoint */
  ck_assert_int_eq(ethp2p_enr_del(&rec, "ip", 2), 0);
  ck_assert_int_eq(ethp2p_enr_ip6_set(&rec, mapped), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP6, 9), 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &rec, NULL), 0);
  ck_assert_uint_eq(n.ip_len, 4); /* IPv4 written as IPv6 takes the IPv4 ports */
  ck_assert_uint_eq(n.ip[0], 192);
  ck_assert_uint_eq(n.ip[3], 7);
  ck_assert_uint_eq(n.udp, 30303);
}
END_TEST

START_TEST(from_record_needs_a_public_key) {
  ethp2p_enr rec;
  ethp2p_enode n;
  ethp2p_diag d = {0};
  ethp2p_enr_init(&rec);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &rec, &d), ETHP2P_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(d.msg, "secp256k1"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("enr_enode");
  TCase *p = tcase_create("parse");
  TCase *f = tcase_create("format");
  TCase *r = tcase_create("record");
  SRunner *sr;
  int failed;

  tcase_add_test(p, parse_reads_key_ipv4_and_ports);
  tcase_add_test(p, parse_accepts_case_insensitive_scheme_and_uppercase_key);
  tcase_add_test(p, parse_accepts_bracketed_ipv6_and_formats_it_compressed);
  tcase_add_test(p, parse_stores_ipv4_mapped_ipv6_as_ipv4);
  tcase_add_test(p, parse_accepts_incomplete_nodes_with_key_only);
  tcase_add_test(p, parse_accepts_port_zero_as_not_listening);
  tcase_add_test(p, parse_refuses_wrong_scheme_and_garbage);
  tcase_add_test(p, parse_refuses_bad_key_length_and_characters);
  tcase_add_test(p, parse_refuses_key_not_on_the_curve);
  tcase_add_test(p, parse_refuses_userinfo_password_and_missing_at);
  tcase_add_test(p, parse_refuses_dns_names_and_bad_addresses);
  tcase_add_test(p, parse_refuses_ipv6_without_brackets_or_with_zone);
  tcase_add_test(p, parse_refuses_unbalanced_or_extra_brackets_with_their_offset);
  tcase_add_test(p, ipv6_hosts_are_formatted_as_rfc5952_like_go_ethereum);
  tcase_add_test(p, parse_refuses_missing_or_bad_ports);
  tcase_add_test(p, parse_refuses_bad_queries_fragments_and_paths);
  tcase_add_test(p, parse_refuses_oversized_input_and_nul_bytes);
  tcase_add_test(f, format_writes_discport_only_when_ports_differ);
  tcase_add_test(f, format_refuses_small_buffer_and_bad_ip_len);
  tcase_add_test(f, init_checks_key_and_address_length);
  tcase_add_test(r, from_record_matches_geth_url_of_eip778_example);
  tcase_add_test(r, from_record_without_address_is_incomplete);
  tcase_add_test(r, from_record_uses_ip6_ports_with_fallback);
  tcase_add_test(r, from_record_prefers_the_more_global_address);
  tcase_add_test(r, from_record_reports_malformed_entries_instead_of_misreading);
  tcase_add_test(r, from_record_skips_multicast_and_maps_ipv4_in_ipv6);
  tcase_add_test(r, from_record_needs_a_public_key);
  suite_add_tcase(s, p);
  suite_add_tcase(s, f);
  suite_add_tcase(s, r);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
