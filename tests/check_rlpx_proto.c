/* tests/check_rlpx_proto.c — devp2p base protocol messages: the EIP-8 Hello vector,
 * Hello round trips and refusals, Disconnect forms, capability matching and the
 * snappy bounds. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/encoding.h"
#include "ethp2p/rlp.h"
#include "ethp2p/rlpx.h"

static size_t unhex(uint8_t *out, size_t cap, const char *hex) {
  size_t n = 0;
  ck_assert_int_eq(ethp2p_hex_decode(out, cap, &n, hex, strlen(hex), NULL), 0);
  return n;
}

/* EIP-8 "devp2p Base Protocol" vector: a Hello with extra list elements. */
static const char *eip8_hello =
    "f87137916b6e6574682f76302e39312f706c616e39cdc5836574683dc6846d6f726b1682270fb840"
    "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569"
    "bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877c883666f6f836261720304";

START_TEST(eip8_hello_with_extra_elements_decodes) {
  uint8_t in[200];
  ethp2p_rlpx_hello h;
  size_t n = unhex(in, sizeof in, eip8_hello);
  ck_assert_int_eq(ethp2p_rlpx_hello_decode(&h, in, n, NULL), 0);
  ck_assert_uint_eq(h.version, 0x37); /* the value on the wire */
  ck_assert_str_eq(h.client_id, "kneth/v0.91/plan9");
  ck_assert_uint_eq(h.ncaps, 2);
  ck_assert_str_eq(h.caps[0].name, "eth");
  ck_assert_uint_eq(h.caps[0].version, 61);
  ck_assert_str_eq(h.caps[1].name, "mork");
  ck_assert_uint_eq(h.caps[1].version, 22);
  ck_assert_uint_eq(h.listen_port, 9999);
  ck_assert_uint_eq(h.id[0], 0xfd);
  ck_assert_uint_eq(h.id[63], 0x77);
}
END_TEST

static void sample_hello(ethp2p_rlpx_hello *h) {
  memset(h, 0, sizeof *h);
  h->version = 5;
  strcpy(h->client_id, "ethp2p/test");
  strcpy(h->caps[0].name, "eth");
  h->caps[0].version = 68;
  strcpy(h->caps[1].name, "snap");
  h->caps[1].version = 1;
  h->ncaps = 2;
  h->listen_port = 30303;
  memset(h->id, 0xab, 64);
}

START_TEST(hello_round_trips) {
  ethp2p_rlpx_hello h, g;
  uint8_t buf[512];
  size_t n;
  sample_hello(&h);
  ck_assert_int_eq(ethp2p_rlpx_hello_encode(buf, sizeof buf, &n, &h), 0);
  ck_assert_int_eq(ethp2p_rlpx_hello_decode(&g, buf, n, NULL), 0);
  ck_assert_mem_eq(&g, &h, sizeof h);
  ck_assert_int_eq(ethp2p_rlpx_hello_encode(buf, 20, &n, &h), ETHP2P_ESPACE);
}
END_TEST

static const struct {
  const char *hex;
  int err;
} bad_hellos[] = {
    {"c0", ETHP2P_EPROTO},                   /* empty list */
    {"05", ETHP2P_EPROTO},                   /* not a list */
    {"c705826869c0808080", ETHP2P_EPROTO},   /* id not 64 bytes */
    {"c805826869c1c08080", ETHP2P_EPROTO},   /* capability is [[]] */
    {"c60580c0830100008080", ETHP2P_EPROTO}, /* trailing garbage / bad rlp */
    {"c9058268698105c08080", ETHP2P_EPROTO}, /* non-canonical single byte */
};

START_TEST(malformed_hellos_are_refused_with_a_reason) {
  uint8_t in[200];
  ethp2p_rlpx_hello h;
  ethp2p_diag d;
  size_t n = unhex(in, sizeof in, bad_hellos[_i].hex);
  memset(&d, 0, sizeof d);
  ck_assert_int_eq(ethp2p_rlpx_hello_decode(&h, in, n, &d), bad_hellos[_i].err);
  ck_assert_uint_eq(h.ncaps, 0);
  ck_assert_int_ne(d.msg[0], '\0');
}
END_TEST

START_TEST(hello_with_too_many_caps_or_a_long_client_id_is_refused) {
  ethp2p_rlpx_hello h;
  uint8_t buf[4096];
  size_t n, i;
  ethp2p_rlp_enc e;
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_uint64(&e, 5);
  ethp2p_rlp_enc_bytes(&e, "x", 1);
  ethp2p_rlp_enc_list_begin(&e);
  for (i = 0; i < ETHP2P_RLPX_MAX_CAPS + 1; i++) {
    ethp2p_rlp_enc_list_begin(&e);
    ethp2p_rlp_enc_bytes(&e, "eth", 3);
    ethp2p_rlp_enc_uint64(&e, i);
    ethp2p_rlp_enc_list_end(&e);
  }
  ethp2p_rlp_enc_list_end(&e);
  ethp2p_rlp_enc_uint64(&e, 1);
  ethp2p_rlp_enc_bytes(&e, buf + 1000, 64);
  ethp2p_rlp_enc_list_end(&e);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), 0);
  ck_assert_int_eq(ethp2p_rlpx_hello_decode(&h, buf, n, NULL), ETHP2P_ETOOBIG);

  memset(buf + 2000, 'a', 256);
  ethp2p_rlp_enc_init(&e, buf, 1500);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_uint64(&e, 5);
  ethp2p_rlp_enc_bytes(&e, buf + 2000, 256);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_list_end(&e);
  ethp2p_rlp_enc_uint64(&e, 1);
  ethp2p_rlp_enc_bytes(&e, buf + 1000, 64);
  ethp2p_rlp_enc_list_end(&e);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), 0);
  ck_assert_int_eq(ethp2p_rlpx_hello_decode(&h, buf, n, NULL), ETHP2P_ETOOBIG);
}
END_TEST

START_TEST(disconnect_reason_is_read_in_every_form_peers_send) {
  uint8_t buf[8];
  size_t n;
  unsigned r = 99;
  ck_assert_int_eq(ethp2p_rlpx_disconnect_encode(buf, sizeof buf, &n, 3), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(buf[0], 0xc1);
  ck_assert_uint_eq(buf[1], 0x03);
  ck_assert_int_eq(ethp2p_rlpx_disconnect_decode(&r, buf, n), 0);
  ck_assert_uint_eq(r, 3);
  buf[0] = 0x04; /* a bare reason (ethereumjs) */
  ck_assert_int_eq(ethp2p_rlpx_disconnect_decode(&r, buf, 1), 0);
  ck_assert_uint_eq(r, 4);
  buf[0] = 0xc0; /* [] */
  ck_assert_int_eq(ethp2p_rlpx_disconnect_decode(&r, buf, 1), 0);
  ck_assert_uint_eq(r, 0);
  buf[0] = 0x80; /* reason 0 as the empty string */
  ck_assert_int_eq(ethp2p_rlpx_disconnect_decode(&r, buf, 1), 0);
  ck_assert_uint_eq(r, 0);
  buf[0] = 0xc1;
  buf[1] = 0xc0; /* [[]] */
  ck_assert_int_eq(ethp2p_rlpx_disconnect_decode(&r, buf, 2), ETHP2P_EPROTO);
  buf[0] = 0xb8; /* truncated */
  ck_assert_int_eq(ethp2p_rlpx_disconnect_decode(&r, buf, 1), ETHP2P_EPROTO);
  ck_assert_str_eq(ethp2p_rlpx_reason_string(3), "useless peer");
  ck_assert_str_eq(ethp2p_rlpx_reason_string(0x0b), "read timeout");
  ck_assert_str_eq(ethp2p_rlpx_reason_string(0x55), "unknown reason");
}
END_TEST

START_TEST(shared_caps_take_the_highest_common_version_sorted_by_name) {
  static const ethp2p_rlpx_proto_id local[] = {
      {"snap", 1, 8}, {"eth", 67, 17}, {"eth", 68, 17}, {"les", 4, 23}, {"aaa", 1, 2}};
  ethp2p_rlpx_cap remote[] = {{"eth", 66}, {"eth", 67}, {"eth", 68},
                              {"snap", 1}, {"les", 3},  {"aaa", 1}};
  ethp2p_rlpx_shared out[8];
  size_t n = 99;
  ck_assert_int_eq(ethp2p_rlpx_match_caps(out, 8, &n, local, 5, remote, 6), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(out[0].local, 4); /* aaa/1 */
  ck_assert_uint_eq(out[0].offset, 0x10);
  ck_assert_uint_eq(out[1].local, 2); /* eth/68, not eth/67 */
  ck_assert_uint_eq(out[1].offset, 0x12);
  ck_assert_uint_eq(out[2].local, 0); /* snap/1; les has no common version */
  ck_assert_uint_eq(out[2].offset, 0x12 + 17);
  ck_assert_int_eq(ethp2p_rlpx_match_caps(out, 2, &n, local, 5, remote, 6), ETHP2P_ESPACE);
  /* Only eth/67 in common: it is used. */
  remote[2].version = 65;
  ck_assert_int_eq(ethp2p_rlpx_match_caps(out, 8, &n, local, 5, remote, 3), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_uint_eq(out[0].local, 1);
  ck_assert_int_eq(ethp2p_rlpx_match_caps(out, 8, &n, local, 5, remote, 0), 0);
  ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(snappy_round_trips_and_refuses_claims_above_the_limit) {
  static uint8_t in[5000], comp[6000];
  uint8_t *out = NULL;
  uint8_t bomb[6] = {0x80, 0x80, 0x80, 0x40, 0x00, 0x00}; /* claims 128 MiB */
  size_t n, m, i;
  for (i = 0; i < sizeof in; i++)
    in[i] = (uint8_t)(i % 7);
  ck_assert_uint_ge(sizeof comp, ethp2p_rlpx_snappy_max(sizeof in));
  ck_assert_int_eq(ethp2p_rlpx_snappy_compress(comp, sizeof comp, &n, in, sizeof in), 0);
  ck_assert_uint_lt(n, sizeof in);
  ck_assert_int_eq(ethp2p_rlpx_snappy_uncompress(&out, &m, comp, n, ETHP2P_RLPX_MSG_MAX), 0);
  ck_assert_uint_eq(m, sizeof in);
  ck_assert_mem_eq(out, in, m);
  free(out);
  ck_assert_int_eq(ethp2p_rlpx_snappy_uncompress(&out, &m, comp, n, 4999), ETHP2P_ETOOBIG);
  ck_assert_ptr_null(out);
  ck_assert_int_eq(ethp2p_rlpx_snappy_uncompress(&out, &m, bomb, sizeof bomb, ETHP2P_RLPX_MSG_MAX),
                   ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_rlpx_snappy_uncompress(&out, &m, comp, n - 3, ETHP2P_RLPX_MSG_MAX),
                   ETHP2P_EPROTO);
  ck_assert_ptr_null(out);
  ck_assert_int_eq(ethp2p_rlpx_snappy_uncompress(&out, &m, comp, 0, ETHP2P_RLPX_MSG_MAX),
                   ETHP2P_EPROTO);
}
END_TEST

#define K1                                                                                         \
  "enode://"                                                                                       \
  "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9" \
  "e6d569fc56be00812904767bf5ccd1fc7f"

START_TEST(static_nodes_file_lists_enode_urls) {
  ethp2p_enode nodes[4];
  size_t n = 9;
  const char *text =
      " [\n  \"" K1 "@127.0.0.1:30303\",\n  \"" K1 "@[::1]:30304?discport=30301\"\n]\n";
  ck_assert_int_eq(ethp2p_rlpx_nodes_parse(nodes, 4, &n, text, strlen(text), NULL), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(nodes[0].tcp, 30303);
  ck_assert_uint_eq(nodes[0].ip_len, 4);
  ck_assert_uint_eq(nodes[1].ip_len, 16);
  ck_assert_uint_eq(nodes[1].tcp, 30304);
  ck_assert_uint_eq(nodes[0].pubkey[0], 0xca);
  ck_assert_int_eq(ethp2p_rlpx_nodes_parse(nodes, 4, &n, "[]", 2, NULL), 0);
  ck_assert_uint_eq(n, 0);
  /* an escaped slash is still a slash */
  text = "[\"enode:\\/\\/ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138757407"
         "7f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f@10.0.0.1:1\"]";
  ck_assert_int_eq(ethp2p_rlpx_nodes_parse(nodes, 4, &n, text, strlen(text), NULL), 0);
  ck_assert_uint_eq(n, 1);
}
END_TEST

static const struct {
  const char *text;
  int err;
  size_t offset;
} bad_node_files[] = {
    {"", ETHP2P_ESYNTAX, 0},
    {"{}", ETHP2P_ESYNTAX, 0},
    {"[", ETHP2P_ESYNTAX, 1},
    {"[\"" K1 "@127.0.0.1:30303\"", ETHP2P_ESYNTAX, 155},
    {"[\"" K1 "@127.0.0.1:30303\",]", ETHP2P_ESYNTAX, 156},
    {"[\"" K1 "@127.0.0.1:30303\"] x", ETHP2P_ESYNTAX, 157},
    {"[\"" K1 "\"]", ETHP2P_EINVAL, 1},                /* no address */
    {"[\"enode://12@1.2.3.4:1\"]", ETHP2P_ESYNTAX, 1}, /* bad key */
    {"[\"a\\u0041\"]", ETHP2P_ESYNTAX, 3},
    {"[\"abc", ETHP2P_ESYNTAX, 5},
    {"[17]", ETHP2P_ESYNTAX, 1},
};

START_TEST(bad_static_nodes_files_are_refused_with_an_offset) {
  ethp2p_enode nodes[2];
  ethp2p_diag d;
  size_t n = 5;
  memset(&d, 0, sizeof d);
  ck_assert_int_eq(ethp2p_rlpx_nodes_parse(nodes, 2, &n, bad_node_files[_i].text,
                                           strlen(bad_node_files[_i].text), &d),
                   bad_node_files[_i].err);
  ck_assert_uint_eq(n, 0);
  ck_assert_uint_eq(d.offset, bad_node_files[_i].offset);
  ck_assert_int_ne(d.msg[0], '\0');
}
END_TEST

START_TEST(static_nodes_beyond_the_cap_are_refused) {
  ethp2p_enode nodes[1];
  size_t n;
  const char *text = "[\"" K1 "@127.0.0.1:1\", \"" K1 "@127.0.0.1:2\"]";
  ck_assert_int_eq(ethp2p_rlpx_nodes_parse(nodes, 1, &n, text, strlen(text), NULL), ETHP2P_ESPACE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rlpx_proto");
  TCase *tc = tcase_create("proto");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, eip8_hello_with_extra_elements_decodes);
  tcase_add_test(tc, hello_round_trips);
  tcase_add_loop_test(tc, malformed_hellos_are_refused_with_a_reason, 0,
                      (int)(sizeof bad_hellos / sizeof bad_hellos[0]));
  tcase_add_test(tc, hello_with_too_many_caps_or_a_long_client_id_is_refused);
  tcase_add_test(tc, disconnect_reason_is_read_in_every_form_peers_send);
  tcase_add_test(tc, shared_caps_take_the_highest_common_version_sorted_by_name);
  tcase_add_test(tc, snappy_round_trips_and_refuses_claims_above_the_limit);
  tcase_add_test(tc, static_nodes_file_lists_enode_urls);
  tcase_add_loop_test(tc, bad_static_nodes_files_are_refused_with_an_offset, 0,
                      (int)(sizeof bad_node_files / sizeof bad_node_files[0]));
  tcase_add_test(tc, static_nodes_beyond_the_cap_are_refused);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
