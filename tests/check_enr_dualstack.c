/* tests/check_enr_dualstack.c — IPv6 entries (ip6, tcp6, udp6) in records made by other
 * implementations, read field by field, and reproduced byte for byte by our signer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "ethp2p/enode.h"
#include "ethp2p/enr.h"

static const uint8_t eip778_secret[32] = {
    0xb7, 0x1c, 0x71, 0xa6, 0x7e, 0x11, 0x77, 0xad, 0x4e, 0x90, 0x16, 0x95, 0xe1, 0xb4, 0xb9, 0xee,
    0x17, 0xae, 0x16, 0xc6, 0x66, 0x8d, 0x31, 0x3e, 0xac, 0x2f, 0x96, 0xdb, 0xcd, 0xa3, 0xf2, 0x91};

/* What each line of testdata/enr/ip6-records.txt must hold (0 / NULL = entry absent). */
typedef struct ip6_case {
  const char *name;
  uint64_t seq;
  const char *ip;
  const char *ip6;
  uint16_t tcp, udp, tcp6, udp6;
  const char *url_host; /* host:port?query part of the enode URL view */
} ip6_case;

static const ip6_case cases[] = {
    {"lighthouse-1", 2, "172.105.173.25", "2400:8907::f03c:92ff:fe6b:a13", 0, 9000, 0, 9090,
     "@172.105.173.25:0?discport=9000"},
    {"lighthouse-2", 2, "139.162.196.49", "2a01:7e00::f03c:92ff:fe6b:1eb9", 0, 9000, 0, 9090,
     "@139.162.196.49:0?discport=9000"},
    {"chainsafe-dual", 7, "203.0.113.9", "2001:db8:1:2::ab", 30303, 30303, 30310, 30311,
     "@203.0.113.9:30303"},
    {"chainsafe-v6only", 3, NULL, "2a01:4f8:c17:1f2::1", 0, 0, 0, 9000,
     "@[2a01:4f8:c17:1f2::1]:0?discport=9000"},
};

/* The record text of `name` from testdata/enr/ip6-records.txt. */
static void read_record(const char *name, char *out, size_t cap) {
  const char *dir = getenv("ETHP2P_TESTDATA");
  char path[512], line[700];
  size_t nlen = strlen(name);
  FILE *f;
  snprintf(path, sizeof path, "%s/enr/ip6-records.txt", dir != NULL ? dir : "testdata");
  f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  out[0] = '\0';
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, name, nlen) != 0 || line[nlen] != ' ')
      continue;
    snprintf(out, cap, "%s", line + nlen + 1);
    out[strcspn(out, "\r\n")] = '\0';
  }
  fclose(f);
  ck_assert_msg(out[0] != '\0', "no record %s in %s", name, path);
}

static void assert_port(const ethp2p_enr *r, ethp2p_enr_port which, uint16_t want) {
  uint16_t got = 1;
  int rc = ethp2p_enr_port_get(r, which, &got);
  if (want == 0) {
    ck_assert_msg(rc == ETHP2P_ENOTFOUND, "%s: rc %d, want absent", ethp2p_enr_port_key(which), rc);
    ck_assert_uint_eq(got, 0);
  } else {
    ck_assert_msg(rc == 0 && got == want, "%s: rc %d value %u, want %u", ethp2p_enr_port_key(which),
                  rc, got, want);
  }
}

START_TEST(ip6_records_of_other_clients_decode_verify_and_read_field_by_field) {
  const ip6_case *c = &cases[_i];
  char text[700], url[ETHP2P_ENODE_URL_MAX], back[ETHP2P_ENR_TEXT_MAX + 1];
  uint8_t ip[4], ip6[16], want[16];
  ethp2p_enr r;
  ethp2p_enode n;
  ethp2p_diag d = {0};
  size_t len;

  read_record(c->name, text, sizeof text);
  ck_assert_msg(ethp2p_enr_text_decode(&r, text, strlen(text), &d) == 0, "%s: %s", c->name, d.msg);
  ck_assert_msg(ethp2p_enr_verify(&r, &d) == 0, "%s: %s", c->name, d.msg);
  ck_assert_uint_eq(ethp2p_enr_seq(&r), c->seq);
  ck_assert_int_eq(ethp2p_enr_ip6_get(&r, ip6), 0);
  ck_assert_int_eq(inet_pton(AF_INET6, c->ip6, want), 1);
  ck_assert_mem_eq(ip6, want, 16);
  if (c->ip != NULL) {
    ck_assert_int_eq(ethp2p_enr_ip_get(&r, ip), 0);
    ck_assert_int_eq(inet_pton(AF_INET, c->ip, want), 1);
    ck_assert_mem_eq(ip, want, 4);
  } else {
    ck_assert_int_eq(ethp2p_enr_ip_get(&r, ip), ETHP2P_ENOTFOUND);
  }
  assert_port(&r, ETHP2P_ENR_TCP, c->tcp);
  assert_port(&r, ETHP2P_ENR_UDP, c->udp);
  assert_port(&r, ETHP2P_ENR_TCP6, c->tcp6);
  assert_port(&r, ETHP2P_ENR_UDP6, c->udp6);
  /* Re-encoding gives the other client's bytes back. */
  ck_assert_int_eq(ethp2p_enr_text_encode(back, sizeof back, &len, &r), 0);
  ck_assert_str_eq(back, text);
  /* The enode URL view picks the endpoint the documented way. */
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &r, &d), 0);
  ck_assert_int_gt(ethp2p_enode_format(&n, url, sizeof url), 0);
  ck_assert_msg(strstr(url, c->url_host) != NULL, "%s: %s lacks %s", c->name, url, c->url_host);
}
END_TEST

/* Builds a record with ip6/tcp6/udp6 through the typed setters. */
static void build_dual(ethp2p_enr *r) {
  uint8_t ip[4], ip6[16];
  ck_assert_int_eq(inet_pton(AF_INET, "203.0.113.9", ip), 1);
  ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:1:2::ab", ip6), 1);
  ethp2p_enr_init(r);
  ck_assert_int_eq(ethp2p_enr_ip_set(r, ip), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(r, ETHP2P_ENR_TCP, 30303), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(r, ETHP2P_ENR_UDP, 30303), 0);
  ck_assert_int_eq(ethp2p_enr_ip6_set(r, ip6), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(r, ETHP2P_ENR_TCP6, 30310), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(r, ETHP2P_ENR_UDP6, 30311), 0);
}

START_TEST(our_signer_reproduces_the_chainsafe_dual_stack_record_byte_for_byte) {
  char want[700], got[ETHP2P_ENR_TEXT_MAX + 1];
  ethp2p_enr r;
  size_t len;
  read_record("chainsafe-dual", want, sizeof want);
  build_dual(&r);
  ck_assert_int_eq(ethp2p_enr_seq_set(&r, 7), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&r, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enr_text_encode(got, sizeof got, &len, &r), 0);
  ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(ip6_entries_are_encoded_as_a_16_byte_string_and_uint16_ports) {
  /* rlp("ip6") rlp(16 bytes), rlp("tcp6") rlp(30310), rlp("udp6") rlp(30311) */
  static const uint8_t ip6_pair[] = {0x83, 'i',  'p',  '6',  0x90, 0x20, 0x01,
                                     0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xab};
  static const uint8_t tcp6_pair[] = {0x84, 't', 'c', 'p', '6', 0x82, 0x76, 0x66};
  static const uint8_t udp6_pair[] = {0x84, 'u', 'd', 'p', '6', 0x82, 0x76, 0x67};
  uint8_t bin[ETHP2P_ENR_MAX_SIZE];
  ethp2p_enr r;
  size_t len;
  build_dual(&r);
  ck_assert_int_eq(ethp2p_enr_sign(&r, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &len, &r), 0);
  ck_assert_ptr_nonnull(memmem(bin, len, ip6_pair, sizeof ip6_pair));
  ck_assert_ptr_nonnull(memmem(bin, len, tcp6_pair, sizeof tcp6_pair));
  ck_assert_ptr_nonnull(memmem(bin, len, udp6_pair, sizeof udp6_pair));
}
END_TEST

START_TEST(a_short_ip6_or_a_wide_udp6_from_a_peer_is_reported_not_misread) {
  static const uint8_t ip6_4[] = {0x84, 192, 0, 2, 1};      /* a 4-byte "ip6" */
  static const uint8_t udp6_3[] = {0x83, 0x01, 0x00, 0x00}; /* 65536: too wide */
  uint8_t ip6[16];
  uint16_t port = 7;
  ethp2p_enr r;
  ethp2p_enode n;
  ethp2p_diag d = {0};
  build_dual(&r);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "ip6", 3, ip6_4, sizeof ip6_4), 0);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "udp6", 4, udp6_3, sizeof udp6_3), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&r, eip778_secret), 0);
  ck_assert_int_eq(ethp2p_enr_verify(&r, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_ip6_get(&r, ip6), ETHP2P_ETYPE);
  for (size_t i = 0; i < 16; i++)
    ck_assert_uint_eq(ip6[i], 0);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_UDP6, &port), ETHP2P_ETYPE);
  ck_assert_uint_eq(port, 0);
  ck_assert_int_eq(ethp2p_enode_from_record(&n, &r, &d), ETHP2P_ETYPE);
  ck_assert_ptr_nonnull(strstr(d.msg, "ip6"));
}
END_TEST

START_TEST(deleting_ip6_leaves_the_ipv4_endpoint_alone) {
  uint8_t ip[4], ip6[16];
  uint16_t port;
  ethp2p_enr r;
  build_dual(&r);
  ck_assert_int_eq(ethp2p_enr_del(&r, "ip6", 3), 0);
  ck_assert_int_eq(ethp2p_enr_del(&r, "udp6", 4), 0);
  ck_assert_int_eq(ethp2p_enr_ip6_get(&r, ip6), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_enr_ip_get(&r, ip), 0);
  ck_assert_uint_eq(ip[0], 203);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_UDP, &port), 0);
  ck_assert_uint_eq(port, 30303);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_TCP6, &port), 0);
  ck_assert_uint_eq(port, 30310);
}
END_TEST

START_TEST(ip6_values_are_shown_in_rfc5952_form_in_dumps) {
  static const struct {
    const char *in, *want;
  } v[] = {
      {"::102:304", "::102:304"}, /* IPv4-compatible: hex, as Go prints it */
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"2400:8907::f03c:92ff:fe6b:a13", "2400:8907::f03c:92ff:fe6b:a13"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t ip6[16];
    char out[64];
    ethp2p_enr r;
    ethp2p_rlp_item item;
    ck_assert_int_eq(inet_pton(AF_INET6, v[i].in, ip6), 1);
    ethp2p_enr_init(&r);
    ck_assert_int_eq(ethp2p_enr_ip6_set(&r, ip6), 0);
    ck_assert_int_eq(ethp2p_enr_raw_get(&r, "ip6", 3, &item), 0);
    ck_assert_int_eq(ethp2p_enr_value_format(out, sizeof out, NULL, "ip6", 3, &item), 0);
    ck_assert_str_eq(out, v[i].want);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("enr_dualstack");
  TCase *tc = tcase_create("dualstack");
  SRunner *sr;
  int failed;
  tcase_add_loop_test(tc, ip6_records_of_other_clients_decode_verify_and_read_field_by_field, 0,
                      (int)(sizeof cases / sizeof cases[0]));
  tcase_add_test(tc, our_signer_reproduces_the_chainsafe_dual_stack_record_byte_for_byte);
  tcase_add_test(tc, ip6_entries_are_encoded_as_a_16_byte_string_and_uint16_ports);
  tcase_add_test(tc, a_short_ip6_or_a_wide_udp6_from_a_peer_is_reported_not_misread);
  tcase_add_test(tc, deleting_ip6_leaves_the_ipv4_endpoint_alone);
  tcase_add_test(tc, ip6_values_are_shown_in_rfc5952_form_in_dumps);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
