/*
 * tests/check_discover_v4_codec.c — the discv4 wire codec: EIP-8's test packets
 * (testdata/discv4), round trips of every type, the 1280-byte bound and
 * refusal of tampered or malformed packets.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discv4.h"
#include "ethp2p/encoding.h"
#include "ethp2p/keccak.h"
#include "ethp2p/secp.h"

static const char *EIP8_KEY = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
#define EIP8_EXPIRATION 1136239445u

static void hex_to(uint8_t *out, size_t n, const char *hex) {
  ck_assert_uint_eq(strlen(hex), 2 * n);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

/* Reads testdata/discv4/<name> (hex with line breaks) into buf. */
static size_t load_packet(const char *name, uint8_t *buf, size_t cap) {
  const char *dir = getenv("ETHP2P_TESTDATA");
  char path[1024], hex[4096];
  size_t n = 0;
  int c;
  FILE *f;
  snprintf(path, sizeof path, "%s/discv4/%s", dir != NULL ? dir : "testdata", name);
  f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  while ((c = fgetc(f)) != EOF)
    if (c != '\n' && c != '\r' && c != ' ')
      hex[n++] = (char)c;
  fclose(f);
  hex[n] = 0;
  ck_assert_uint_le(n / 2, cap);
  hex_to(buf, n / 2, hex);
  return n / 2;
}

static void eip8_pub(uint8_t pub[64]) {
  uint8_t sk[32];
  hex_to(sk, 32, EIP8_KEY);
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub, sk), 0);
}

static void check_ep(const ethp2p_discv4_endpoint *ep, const char *ip, uint16_t udp, uint16_t tcp) {
  ethp2p_addr want;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&want, ip), 0);
  want.port = udp;
  ck_assert_msg(ethp2p_addr_equal(&ep->addr, &want, true), "endpoint ip/udp differ for %s", ip);
  ck_assert_uint_eq(ep->tcp, tcp);
}

static ethp2p_discv4_packet pkt; /* large: keep off the stack */

static void decode_file(const char *name, unsigned type) {
  uint8_t buf[1400], pub[64], want[64], hash[32];
  ethp2p_diag diag = {0};
  size_t len = load_packet(name, buf, sizeof buf);
  int rc = ethp2p_discv4_decode(&pkt, pub, hash, buf, len, &diag);
  ck_assert_msg(rc == 0, "%s: %s (%s at %zu)", name, ethp2p_strerror(rc), diag.msg, diag.offset);
  ck_assert_uint_eq(pkt.type, type);
  eip8_pub(want);
  ck_assert_mem_eq(pub, want, 64);
  ck_assert_mem_eq(hash, buf, 32);
}

START_TEST(eip8_ping_version4_with_extra_elements_decodes) {
  decode_file("ping_v4_extra.hex", ETHP2P_DISCV4_PING);
  ck_assert_uint_eq(pkt.u.ping.version, 4);
  check_ep(&pkt.u.ping.from, "127.0.0.1", 3322, 5544);
  check_ep(&pkt.u.ping.to, "::1", 2222, 3333);
  ck_assert_uint_eq(pkt.expiration, EIP8_EXPIRATION);
  /* the first extra element (1) sits in the enr-seq slot */
  ck_assert(pkt.u.ping.has_seq);
  ck_assert_uint_eq(pkt.u.ping.enr_seq, 1);
}
END_TEST

START_TEST(eip8_ping_version555_with_trailing_data_decodes) {
  decode_file("ping_v555_extra_trailing.hex", ETHP2P_DISCV4_PING);
  ck_assert_uint_eq(pkt.u.ping.version, 555);
  check_ep(&pkt.u.ping.from, "2001:db8:3c4d:15::abcd:ef12", 3322, 5544);
  check_ep(&pkt.u.ping.to, "2001:db8:85a3:8d3:1319:8a2e:370:7348", 2222, 33338);
  ck_assert_uint_eq(pkt.expiration, EIP8_EXPIRATION);
  ck_assert(!pkt.u.ping.has_seq); /* a list in that slot is not a seq */
}
END_TEST

START_TEST(eip8_pong_with_trailing_data_decodes) {
  uint8_t tok[32];
  decode_file("pong_extra_trailing.hex", ETHP2P_DISCV4_PONG);
  check_ep(&pkt.u.pong.to, "2001:db8:85a3:8d3:1319:8a2e:370:7348", 2222, 33338);
  hex_to(tok, 32, "fbc914b16819237dcd8801d7e53f69e9719adecb3cc0e790c57e91ca4461c954");
  ck_assert_mem_eq(pkt.u.pong.ping_hash, tok, 32);
  ck_assert_uint_eq(pkt.expiration, EIP8_EXPIRATION);
  ck_assert(!pkt.u.pong.has_seq);
}
END_TEST

START_TEST(eip8_findnode_with_trailing_data_decodes) {
  uint8_t target[64];
  decode_file("findnode_extra_trailing.hex", ETHP2P_DISCV4_FINDNODE);
  hex_to(target, 64,
         "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df72"
         "66c44e9e6d569fc56be00812904767bf5ccd1fc7f");
  ck_assert_mem_eq(pkt.u.findnode.target, target, 64);
  ck_assert_uint_eq(pkt.expiration, EIP8_EXPIRATION);
}
END_TEST

START_TEST(eip8_neighbors_with_trailing_data_decodes) {
  uint8_t key[64];
  decode_file("neighbors_extra_trailing.hex", ETHP2P_DISCV4_NEIGHBORS);
  ck_assert_uint_eq(pkt.u.neighbors.n, 4);
  ck_assert_uint_eq(pkt.u.neighbors.skipped, 0);
  check_ep(&pkt.u.neighbors.nodes[0].ep, "99.33.22.55", 4444, 4445);
  check_ep(&pkt.u.neighbors.nodes[1].ep, "1.2.3.4", 1, 1);
  check_ep(&pkt.u.neighbors.nodes[2].ep, "2001:db8:3c4d:15::abcd:ef12", 3333, 3333);
  check_ep(&pkt.u.neighbors.nodes[3].ep, "2001:db8:85a3:8d3:1319:8a2e:370:7348", 999, 1000);
  hex_to(key, 64,
         "3155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d22"
         "4c523596b401065a97f74010610fce76382c0bf32");
  ck_assert_mem_eq(pkt.u.neighbors.nodes[0].pub64, key, 64);
  ck_assert_uint_eq(pkt.expiration, EIP8_EXPIRATION);
}
END_TEST

/* --- round trips ------------------------------------------------------- */

static uint8_t sk[32];
static uint8_t pub[64];

static void setup_key(void) {
  hex_to(sk, 32, "45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub, sk), 0);
}

static ethp2p_discv4_packet in, back;

static size_t round_trip(uint8_t *buf, size_t cap) {
  uint8_t h1[32], h2[32], who[64];
  size_t len;
  ethp2p_diag diag = {0};
  int rc;
  ck_assert_int_eq(ethp2p_discv4_encode(buf, cap, &len, h1, &in, sk), 0);
  ck_assert_uint_le(len, ETHP2P_DISCV4_MAX_PACKET);
  rc = ethp2p_discv4_decode(&back, who, h2, buf, len, &diag);
  ck_assert_msg(rc == 0, "%s: %s", ethp2p_strerror(rc), diag.msg);
  ck_assert_mem_eq(h1, h2, 32);
  ck_assert_mem_eq(who, pub, 64);
  ck_assert_uint_eq(back.type, in.type);
  ck_assert_uint_eq(back.expiration, in.expiration);
  return len;
}

START_TEST(ping_and_pong_round_trip_with_enr_seq) {
  uint8_t buf[1280];
  setup_key();
  memset(&in, 0, sizeof in);
  in.type = ETHP2P_DISCV4_PING;
  in.expiration = 1700000020;
  in.u.ping.version = 4;
  in.u.ping.from.addr = ethp2p_addr_v4(10, 0, 0, 1, 30303);
  in.u.ping.from.tcp = 30303;
  in.u.ping.to.addr = ethp2p_addr_v4(192, 0, 2, 7, 30301);
  in.u.ping.has_seq = true;
  in.u.ping.enr_seq = 0x0102030405ULL;
  round_trip(buf, sizeof buf);
  ck_assert(ethp2p_addr_equal(&back.u.ping.to.addr, &in.u.ping.to.addr, true));
  ck_assert_uint_eq(back.u.ping.from.tcp, 30303);
  ck_assert(back.u.ping.has_seq);
  ck_assert_uint_eq(back.u.ping.enr_seq, 0x0102030405ULL);

  memset(&in, 0, sizeof in);
  in.type = ETHP2P_DISCV4_PONG;
  in.expiration = 1700000021;
  in.u.pong.to.addr = ethp2p_addr_v4(203, 0, 113, 9, 40000);
  memset(in.u.pong.ping_hash, 0xab, 32);
  round_trip(buf, sizeof buf);
  ck_assert(ethp2p_addr_equal(&back.u.pong.to.addr, &in.u.pong.to.addr, true));
  ck_assert_mem_eq(back.u.pong.ping_hash, in.u.pong.ping_hash, 32);
  ck_assert(!back.u.pong.has_seq);
}
END_TEST

START_TEST(findnode_and_enr_request_round_trip) {
  uint8_t buf[1280];
  setup_key();
  memset(&in, 0, sizeof in);
  in.type = ETHP2P_DISCV4_FINDNODE;
  in.expiration = 99;
  memcpy(in.u.findnode.target, pub, 64);
  round_trip(buf, sizeof buf);
  ck_assert_mem_eq(back.u.findnode.target, pub, 64);

  memset(&in, 0, sizeof in);
  in.type = ETHP2P_DISCV4_ENRREQUEST;
  in.expiration = 12345;
  round_trip(buf, sizeof buf);
}
END_TEST

START_TEST(enr_response_carries_the_signed_record) {
  uint8_t buf[1280], a[300], b[300];
  size_t alen, blen;
  setup_key();
  memset(&in, 0, sizeof in);
  in.type = ETHP2P_DISCV4_ENRRESPONSE;
  memset(in.u.enrresponse.request_hash, 0x5a, 32);
  ethp2p_enr_init(&in.u.enrresponse.record);
  /* an unsigned record is refused */
  ck_assert_int_eq(ethp2p_discv4_encode(buf, sizeof buf, NULL, NULL, &in, sk), ETHP2P_ESTATE);
  uint8_t ip[4] = {127, 0, 0, 1};
  ck_assert_int_eq(ethp2p_enr_ip_set(&in.u.enrresponse.record, ip), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&in.u.enrresponse.record, ETHP2P_ENR_UDP, 30303), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&in.u.enrresponse.record, sk), 0);
  round_trip(buf, sizeof buf);
  ck_assert_mem_eq(back.u.enrresponse.request_hash, in.u.enrresponse.request_hash, 32);
  ck_assert_int_eq(ethp2p_enr_verify(&back.u.enrresponse.record, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_encode(a, sizeof a, &alen, &in.u.enrresponse.record), 0);
  ck_assert_int_eq(ethp2p_enr_encode(b, sizeof b, &blen, &back.u.enrresponse.record), 0);
  ck_assert_uint_eq(alen, blen);
  ck_assert_mem_eq(a, b, alen);
}
END_TEST

static void fill_worst_neighbors(size_t n) {
  memset(&in, 0, sizeof in);
  in.type = ETHP2P_DISCV4_NEIGHBORS;
  in.expiration = UINT64_MAX; /* longest integer */
  in.u.neighbors.n = n;
  for (size_t i = 0; i < n; i++) {
    ethp2p_discv4_rnode *r = &in.u.neighbors.nodes[i];
    ck_assert_int_eq(ethp2p_addr_parse(&r->ep.addr, "[2001:db8::ffff:ffff]:65535", 0), 0);
    r->ep.tcp = 65535;
    memset(r->pub64, 0xff, 64);
    r->pub64[0] = (uint8_t)i;
  }
}

START_TEST(neighbors_of_twelve_worst_case_nodes_fit_in_1280_bytes) {
  uint8_t buf[2048];
  size_t len;
  setup_key();
  fill_worst_neighbors(ETHP2P_DISCV4_NEIGHBORS_PER_PACKET);
  len = round_trip(buf, sizeof buf);
  ck_assert_uint_le(len, 1280);
  ck_assert_uint_eq(back.u.neighbors.n, ETHP2P_DISCV4_NEIGHBORS_PER_PACKET);
  for (size_t i = 0; i < back.u.neighbors.n; i++) {
    ck_assert_mem_eq(back.u.neighbors.nodes[i].pub64, in.u.neighbors.nodes[i].pub64, 64);
    ck_assert_uint_eq(back.u.neighbors.nodes[i].ep.tcp, 65535);
  }
  /* one node more is refused by the encoder: the caller must split */
  fill_worst_neighbors(ETHP2P_DISCV4_NEIGHBORS_PER_PACKET + 1);
  ck_assert_int_eq(ethp2p_discv4_encode(buf, sizeof buf, &len, NULL, &in, sk), ETHP2P_EINVAL);
}
END_TEST

START_TEST(tampered_truncated_and_oversized_packets_are_refused) {
  uint8_t buf[1400];
  size_t len;
  ethp2p_diag diag;
  setup_key();
  memset(&in, 0, sizeof in);
  in.type = ETHP2P_DISCV4_ENRREQUEST;
  in.expiration = 5;
  ck_assert_int_eq(ethp2p_discv4_encode(buf, sizeof buf, &len, NULL, &in, sk), 0);
  /* any flipped byte breaks the hash */
  for (size_t i = 0; i < len; i++) {
    buf[i] ^= 0x01;
    ck_assert_int_eq(ethp2p_discv4_decode(&back, NULL, NULL, buf, len, NULL), ETHP2P_ESIG);
    buf[i] ^= 0x01;
  }
  ck_assert_int_eq(ethp2p_discv4_decode(&back, NULL, NULL, buf, 98, &diag), ETHP2P_ETRUNC);
  ck_assert_int_eq(ethp2p_discv4_decode(&back, NULL, NULL, buf, 1281, &diag), ETHP2P_ETOOBIG);
  ck_assert_uint_eq(back.type, 0); /* zeroed on failure */
}
END_TEST

/* Builds a packet with a valid hash and signature around arbitrary data. */
static size_t forge(uint8_t *buf, uint8_t type, const uint8_t *data, size_t dlen) {
  uint8_t h[32];
  buf[97] = type;
  memcpy(buf + 98, data, dlen);
  ethp2p_keccak256(h, buf + 97, 1 + dlen);
  ck_assert_int_eq(ethp2p_secp_sign_recoverable(buf + 32, h, sk), 0);
  ethp2p_keccak256(buf, buf + 32, 66 + dlen);
  return 98 + dlen;
}

START_TEST(signed_but_malformed_bodies_are_refused_with_a_reason) {
  uint8_t buf[1400];
  ethp2p_diag diag;
  size_t len;
  setup_key();
  /* unknown type */
  const uint8_t exp_only[] = {0xc1, 0x05};
  len = forge(buf, 0x07, exp_only, sizeof exp_only);
  ck_assert_int_eq(ethp2p_discv4_decode(&back, NULL, NULL, buf, len, &diag), ETHP2P_EUNSUPP);
  /* known type, not a list */
  const uint8_t str[] = {0x05};
  len = forge(buf, ETHP2P_DISCV4_ENRREQUEST, str, sizeof str);
  ck_assert_int_eq(ethp2p_discv4_decode(&back, NULL, NULL, buf, len, &diag), ETHP2P_ETYPE);
  /* findnode with a 3-byte target */
  const uint8_t shortkey[] = {0xc5, 0x83, 1, 2, 3, 0x05};
  len = forge(buf, ETHP2P_DISCV4_FINDNODE, shortkey, sizeof shortkey);
  ck_assert_int_eq(ethp2p_discv4_decode(&back, NULL, NULL, buf, len, &diag), ETHP2P_ETYPE);
  ck_assert(strstr(diag.msg, "target") != NULL);
  /* ping missing its expiration */
  const uint8_t noexp[] = {0xc9, 0x04, 0xc3, 0x80, 0x80, 0x80, 0xc3, 0x80, 0x80, 0x80};
  len = forge(buf, ETHP2P_DISCV4_PING, noexp, sizeof noexp);
  ck_assert_int_eq(ethp2p_discv4_decode(&back, NULL, NULL, buf, len, &diag), ETHP2P_ETRUNC);
  ck_assert(strstr(diag.msg, "expiration") != NULL);
  /* a port above 65535 */
  const uint8_t bigport[] = {0xcc, 0x04, 0xc6, 0x80, 0x83, 1,    0,
                             0,    0x80, 0xc3, 0x80, 0x80, 0x80, 0x05};
  uint8_t fixed[sizeof bigport];
  memcpy(fixed, bigport, sizeof bigport);
  fixed[0] = (uint8_t)(0xc0 + sizeof bigport - 1);
  len = forge(buf, ETHP2P_DISCV4_PING, fixed, sizeof fixed);
  ck_assert_int_eq(ethp2p_discv4_decode(&back, NULL, NULL, buf, len, &diag), ETHP2P_ERANGE);
}
END_TEST

START_TEST(expiration_is_checked_against_unix_seconds) {
  ck_assert(!ethp2p_discv4_expired(100, 100));
  ck_assert(!ethp2p_discv4_expired(101, 100));
  ck_assert(ethp2p_discv4_expired(99, 100));
}
END_TEST

int main(void) {
  Suite *s = suite_create("discover_v4_codec");
  TCase *tc = tcase_create("v4_codec");
  tcase_add_test(tc, eip8_ping_version4_with_extra_elements_decodes);
  tcase_add_test(tc, eip8_ping_version555_with_trailing_data_decodes);
  tcase_add_test(tc, eip8_pong_with_trailing_data_decodes);
  tcase_add_test(tc, eip8_findnode_with_trailing_data_decodes);
  tcase_add_test(tc, eip8_neighbors_with_trailing_data_decodes);
  tcase_add_test(tc, ping_and_pong_round_trip_with_enr_seq);
  tcase_add_test(tc, findnode_and_enr_request_round_trip);
  tcase_add_test(tc, enr_response_carries_the_signed_record);
  tcase_add_test(tc, neighbors_of_twelve_worst_case_nodes_fit_in_1280_bytes);
  tcase_add_test(tc, tampered_truncated_and_oversized_packets_are_refused);
  tcase_add_test(tc, signed_but_malformed_bodies_are_refused_with_a_reason);
  tcase_add_test(tc, expiration_is_checked_against_unix_seconds);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
