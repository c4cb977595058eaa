/* tests/check_enr_record.c — ENR records (EIP-778, "v4"), their text form and the secp256k1
 * operations behind them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/encoding.h"
#include "ethp2p/enr.h"
#include "ethp2p/keccak.h"
#include "ethp2p/secp.h"

/* EIP-778 example (PROTOCOLS.md). */
static const char *eip778_key = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
static const char *eip778_text =
    "enr:-"
    "IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBg"
    "mlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
static const char *eip778_id = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";
static const char *eip778_pub64 = "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138"
                                  "7574077f301b421bc84df7266c44e9e6"
                                  "d569fc56be00812904767bf5ccd1fc7f";

static size_t unhex(uint8_t *out, size_t cap, const char *h) {
  size_t n = 0;
  ck_assert_int_eq(ethp2p_hex_decode(out, cap, &n, h, strlen(h), NULL), 0);
  return n;
}

static const char *tohex(const uint8_t *p, size_t n) {
  static char buf[700];
  ck_assert_int_eq(ethp2p_hex_encode(buf, sizeof buf, NULL, p, n), 0);
  return buf;
}

static void eip778_secret(uint8_t key[32]) {
  ck_assert_uint_eq(unhex(key, 32, eip778_key), 32);
}

static void eip778_record(ethp2p_enr *r) {
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_enr_text_decode(r, eip778_text, strlen(eip778_text), &d), 0);
}

/* Builds rlp([sig, seq, pairs of rec...]) by hand, with any signature bytes. */
static size_t encode_with_sig(uint8_t *out, size_t cap, const ethp2p_enr *rec, const uint8_t *sig,
                              size_t sig_len) {
  ethp2p_rlp_enc e;
  ethp2p_rlp_item k, v;
  size_t i, n;
  ethp2p_rlp_enc_init(&e, out, cap);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_bytes(&e, sig, sig_len);
  ethp2p_rlp_enc_uint64(&e, ethp2p_enr_seq(rec));
  for (i = 0; i < ethp2p_enr_pair_count(rec); i++) {
    ck_assert_int_eq(ethp2p_enr_pair_at(rec, i, &k, &v), 0);
    ethp2p_rlp_enc_raw(&e, k.raw, k.raw_len);
    ethp2p_rlp_enc_raw(&e, v.raw, v.raw_len);
  }
  ethp2p_rlp_enc_list_end(&e);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), 0);
  return n;
}

/* Signs rec's content as v4 would, whatever its id/secp256k1 say. */
static size_t encode_signed_raw(uint8_t *out, size_t cap, const ethp2p_enr *rec) {
  uint8_t key[32], hash[32], sig[64];
  eip778_secret(key);
  ethp2p_enr_signing_hash(hash, rec);
  ck_assert_int_eq(ethp2p_secp_sign(sig, hash, key), 0);
  return encode_with_sig(out, cap, rec, sig, 64);
}

/* ---- EIP-778 ---- */

START_TEST(eip778_example_is_reproduced_byte_for_byte_from_its_key) {
  ethp2p_enr r;
  uint8_t key[32];
  const uint8_t ip[4] = {127, 0, 0, 1};
  char text[ETHP2P_ENR_TEXT_MAX + 1];
  size_t n;
  eip778_secret(key);
  ethp2p_enr_init(&r);
  ck_assert_int_eq(ethp2p_enr_seq_set(&r, 1), 0);
  ck_assert_int_eq(ethp2p_enr_ip_set(&r, ip), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&r, ETHP2P_ENR_UDP, 30303), 0);
  ck_assert(!ethp2p_enr_is_signed(&r));
  ck_assert_int_eq(ethp2p_enr_sign(&r, key), 0);
  ck_assert(ethp2p_enr_is_signed(&r));
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 1);
  ck_assert_int_eq(ethp2p_enr_text_encode(text, sizeof text, &n, &r), 0);
  ck_assert_str_eq(text, eip778_text);
  ck_assert_uint_eq(n, strlen(eip778_text));
}
END_TEST

START_TEST(eip778_example_decodes_verifies_and_has_the_right_node_id) {
  ethp2p_enr r;
  uint8_t id[32], pub64[64], ip[4];
  uint16_t port = 0;
  char s[16];
  eip778_record(&r);
  ck_assert_int_eq(ethp2p_enr_verify(&r, NULL), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 1);
  ck_assert_uint_eq(ethp2p_enr_pair_count(&r), 4);
  ck_assert_int_eq(ethp2p_enr_node_id(id, &r), 0);
  ck_assert_str_eq(tohex(id, 32), eip778_id);
  ck_assert_int_eq(ethp2p_enr_pubkey64(pub64, &r), 0);
  ck_assert_str_eq(tohex(pub64, 64), eip778_pub64);
  ck_assert_int_eq(ethp2p_enr_id_get(&r, s, sizeof s), 0);
  ck_assert_str_eq(s, "v4");
  ck_assert_int_eq(ethp2p_enr_ip_get(&r, ip), 0);
  ck_assert_mem_eq(ip, "\x7f\x00\x00\x01", 4);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_UDP, &port), 0);
  ck_assert_uint_eq(port, 30303);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_TCP, &port), ETHP2P_ENOTFOUND);
  ck_assert_uint_eq(port, 0);
}
END_TEST

START_TEST(decoded_record_encodes_to_its_input_and_text) {
  ethp2p_enr r;
  uint8_t bin[300], bin2[300];
  char text[ETHP2P_ENR_TEXT_MAX + 1];
  size_t n, n2;
  ethp2p_diag d;
  eip778_record(&r);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), 0);
  ck_assert_uint_eq(n, 134);
  ck_assert_uint_eq(ethp2p_enr_encoded_len(&r), 134);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, &d), 0);
  ck_assert_int_eq(ethp2p_enr_encode(bin2, sizeof bin2, &n2, &r), 0);
  ck_assert_uint_eq(n2, n);
  ck_assert_mem_eq(bin2, bin, n);
  ck_assert_int_eq(ethp2p_enr_encode(bin2, n - 1, &n2, &r), ETHP2P_ESPACE);
  ck_assert_int_eq(ethp2p_enr_text_encode(text, sizeof text, NULL, &r), 0);
  ck_assert_str_eq(text, eip778_text);
  ck_assert_int_eq(ethp2p_enr_text_encode(text, strlen(eip778_text), NULL, &r), ETHP2P_ESPACE);
}
END_TEST

START_TEST(values_are_formatted_for_dumps) {
  ethp2p_enr r;
  ethp2p_rlp_item k, v;
  char out[128];
  const char *want[] = {"\"v4\"", "127.0.0.1",
                        "03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138",
                        "30303"};
  size_t i, n;
  eip778_record(&r);
  for (i = 0; i < 4; i++) {
    ck_assert_int_eq(ethp2p_enr_pair_at(&r, i, &k, &v), 0);
    ck_assert_int_eq(ethp2p_enr_value_format(out, sizeof out, &n, k.payload, k.payload_len, &v), 0);
    ck_assert_str_eq(out, want[i]);
  }
  ck_assert_int_eq(ethp2p_enr_pair_at(&r, 4, &k, &v), ETHP2P_ERANGE);
  ck_assert_int_eq(ethp2p_enr_pair_at(&r, 1, &k, &v), 0);
  ck_assert_int_eq(ethp2p_enr_value_format(out, 4, &n, "ip", 2, &v), ETHP2P_ESPACE);
  ck_assert_uint_eq(n, 9);
  ck_assert_str_eq(out, "127");
}
END_TEST

/* ---- decoding rules: one failing case each ---- */

static const struct {
  const char *name;
  const char *hex; /* "SIG" expands to a 64-byte signature string */
  int err;
} structure_bad[] = {
    {"not a list", "8180", ETHP2P_ETYPE},
    {"empty list", "c0", ETHP2P_ETYPE},
    {"signature only", "c180", ETHP2P_ETYPE},
    {"signature is a list", "c2c001", ETHP2P_ETYPE},
    {"signature longer than 64 bytes",
     "f844b841"
     "0000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000"
     "01",
     ETHP2P_ESIG},
    {"seq is a list", "c380c001", ETHP2P_ETYPE},
    {"seq with a leading zero", "c480820001", ETHP2P_ENONCANON},
    {"seq longer than 8 bytes", "cb8089010000000000000000", ETHP2P_ERANGE},
    {"odd number of elements (key without value)", "c58001826964", ETHP2P_ETYPE},
    {"key is a list", "c58001c18001", ETHP2P_ETYPE},
    {"keys not sorted", "cc800182697001826964820001", ETHP2P_EORDER},
    {"duplicate key", "cc800182696401826964820001", ETHP2P_EORDER},
    {"longer key before its prefix", "cb8001836970360182697001", ETHP2P_EORDER},
    {"non-canonical value", "c780018269648105", ETHP2P_ENONCANON},
    {"non-canonical list header", "f8038001 80", ETHP2P_ENONCANON},
    {"truncated", "c6800182696482", ETHP2P_ETRUNC},
    {"trailing bytes", "c2800100", ETHP2P_ETRAILING},
    {"empty input", "", ETHP2P_ETRUNC},
};

START_TEST(each_structure_rule_is_enforced) {
  uint8_t in[400];
  char hex[800];
  size_t j = 0, n;
  const char *h = structure_bad[_i].hex;
  ethp2p_enr r;
  ethp2p_diag d = {0};
  int rc;
  for (; *h; h++)
    if (*h != ' ')
      hex[j++] = *h;
  hex[j] = '\0';
  n = unhex(in, sizeof in, hex);
  rc = ethp2p_enr_decode(&r, n ? in : NULL, n, &d);
  ck_assert_msg(rc == structure_bad[_i].err, "%s: got %s (%s)", structure_bad[_i].name,
                ethp2p_err_name(rc), d.msg);
  ck_assert_uint_gt(strlen(d.msg), 0);
  ck_assert(!ethp2p_enr_is_signed(&r));
  ck_assert_uint_eq(ethp2p_enr_pair_count(&r), 0);
}
END_TEST

START_TEST(diagnostics_name_the_offending_key_and_offset) {
  uint8_t in[32];
  size_t n = unhex(in, sizeof in, "cc800182697001826964820001");
  ethp2p_enr r;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_enr_decode(&r, in, n, &d), ETHP2P_EORDER);
  ck_assert_uint_eq(d.offset, 7);
  ck_assert_ptr_nonnull(strstr(d.msg, "\"id\""));
  n = unhex(in, sizeof in, "c58001826964");
  ck_assert_int_eq(ethp2p_enr_decode(&r, in, n, &d), ETHP2P_ETYPE);
  ck_assert_ptr_nonnull(strstr(d.msg, "\"id\""));
  ck_assert_ptr_nonnull(strstr(d.msg, "no value"));
}
END_TEST

START_TEST(records_over_300_bytes_are_refused) {
  uint8_t in[400], big[250];
  ethp2p_rlp_enc e;
  ethp2p_enr r;
  ethp2p_diag d = {0};
  size_t n;
  memset(big, 0x41, sizeof big);
  ethp2p_rlp_enc_init(&e, in, sizeof in);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_bytes(&e, big, 64);
  ethp2p_rlp_enc_uint64(&e, 1);
  ethp2p_rlp_enc_bytes(&e, "z", 1);
  ethp2p_rlp_enc_bytes(&e, big, 228);
  ethp2p_rlp_enc_list_end(&e);
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, &n), 0);
  ck_assert_uint_eq(n, 301);
  ck_assert_int_eq(ethp2p_enr_decode(&r, in, n, &d), ETHP2P_ETOOBIG);
  ck_assert_uint_eq(d.offset, 300);
}
END_TEST

START_TEST(bad_signature_is_refused) {
  ethp2p_enr r;
  uint8_t bin[300];
  size_t n;
  ethp2p_diag d = {0};
  eip778_record(&r);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), 0);
  bin[10] ^= 0x01; /* inside r */
  ck_assert_int_eq(ethp2p_enr_decode(&r, bin, n, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_verify(&r, &d), ETHP2P_ESIG);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, NULL), ETHP2P_ESIG);
  ck_assert(!ethp2p_enr_is_signed(&r));
  bin[10] ^= 0x01;
  bin[n - 1] ^= 0x01; /* the udp port: content changed under the signature */
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, NULL), ETHP2P_ESIG);
}
END_TEST

static void sub_from_order(uint8_t s[32]) {
  static const uint8_t order[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                    0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  int i, borrow = 0;
  for (i = 31; i >= 0; i--) {
    int v = order[i] - s[i] - borrow;
    borrow = v < 0;
    s[i] = (uint8_t)(v + (borrow ? 256 : 0));
  }
}

START_TEST(high_s_signature_is_refused) {
  ethp2p_enr r;
  uint8_t sig[64], bin[300], hash[32], pub33[33];
  size_t n, slen;
  eip778_record(&r);
  memcpy(sig, ethp2p_enr_signature(&r, &slen), 64);
  ck_assert_uint_eq(slen, 64);
  sub_from_order(sig + 32); /* (r, n - s) is the same signature mathematically */
  n = encode_with_sig(bin, sizeof bin, &r, sig, 64);
  ck_assert_int_eq(ethp2p_enr_decode(&r, bin, n, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_verify(&r, NULL), ETHP2P_ESIG);
  ethp2p_enr_signing_hash(hash, &r);
  ck_assert_int_eq(ethp2p_enr_secp256k1_get(&r, pub33), 0);
  ck_assert_int_eq(ethp2p_secp_verify(sig, hash, pub33), ETHP2P_ESIG);
  sub_from_order(sig + 32);
  ck_assert_int_eq(ethp2p_secp_verify(sig, hash, pub33), 0);
}
END_TEST

START_TEST(wrong_or_missing_identity_is_refused) {
  ethp2p_enr r;
  uint8_t bin[300], pub33[33], key[32], sig[64];
  size_t n;
  ethp2p_diag d = {0};
  eip778_secret(key);
  ck_assert_int_eq(ethp2p_secp_pubkey(pub33, NULL, key), 0);

  ethp2p_enr_init(&r);
  ethp2p_enr_id_set(&r, "v5");
  ethp2p_enr_secp256k1_set(&r, pub33);
  n = encode_signed_raw(bin, sizeof bin, &r);
  ck_assert_int_eq(ethp2p_enr_decode(&r, bin, n, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_verify(&r, &d), ETHP2P_ESCHEME);

  ethp2p_enr_init(&r);
  ethp2p_enr_secp256k1_set(&r, pub33);
  n = encode_signed_raw(bin, sizeof bin, &r);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, &d), ETHP2P_ESCHEME);

  ethp2p_enr_init(&r);
  ethp2p_enr_id_set(&r, "v4");
  n = encode_signed_raw(bin, sizeof bin, &r);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, &d), ETHP2P_EKEY);
  ck_assert_ptr_nonnull(strstr(d.msg, "secp256k1"));

  ethp2p_enr_init(&r);
  ethp2p_enr_id_set(&r, "v4");
  ethp2p_enr_bytes_set(&r, "secp256k1", 9, pub33, 32);
  n = encode_signed_raw(bin, sizeof bin, &r);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, &d), ETHP2P_EKEY);

  pub33[0] = 0x05; /* not a compressed point */
  ethp2p_enr_init(&r);
  ethp2p_enr_id_set(&r, "v4");
  ethp2p_enr_secp256k1_set(&r, pub33);
  n = encode_signed_raw(bin, sizeof bin, &r);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, &d), ETHP2P_EKEY);

  /* a 63-byte signature */
  eip778_record(&r);
  memset(sig, 0x11, sizeof sig);
  n = encode_with_sig(bin, sizeof bin, &r, sig, 63);
  ck_assert_int_eq(ethp2p_enr_decode(&r, bin, n, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_verify(&r, &d), ETHP2P_ESIG);

  ethp2p_enr_init(&r);
  ck_assert_int_eq(ethp2p_enr_verify(&r, &d), ETHP2P_ESTATE);
}
END_TEST

/* ---- text form ---- */

START_TEST(text_form_is_strict) {
  ethp2p_enr r;
  ethp2p_diag d = {0};
  char t[600];
  size_t len = strlen(eip778_text);
  memcpy(t, eip778_text, len + 1);
  t[0] = 'E';
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, t, len, &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, t + 4, len - 4, &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, "enr", 3, &d), ETHP2P_ESYNTAX);
  /* '=' padding */
  memcpy(t, eip778_text, len);
  t[len] = '=';
  t[len + 1] = '=';
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, t, len + 2, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, len);
  /* standard-alphabet character */
  memcpy(t, eip778_text, len + 1);
  t[5] = '+';
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, t, len, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 5);
  /* whitespace, trailing newline */
  memcpy(t, eip778_text, len);
  t[len] = '\n';
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, t, len + 1, &d), ETHP2P_ESYNTAX);
  /* non-zero unused bits in the last character ("...dl8" -> "...dl9") */
  memcpy(t, eip778_text, len + 1);
  ck_assert_int_eq(t[len - 1], '8');
  t[len - 1] = '9';
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, t, len, &d), ETHP2P_ENONCANON);
  ck_assert_uint_eq(d.offset, len - 1);
  /* impossible length */
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, eip778_text, len - 2, &d), ETHP2P_ESYNTAX);
  /* too long for 300 bytes */
  memcpy(t, "enr:", 4);
  memset(t + 4, 'A', 404);
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, t, 408, &d), ETHP2P_ETOOBIG);
  /* a truncated record (well-formed base64url of its first 131 bytes) */
  {
    uint8_t bin[300];
    size_t n;
    eip778_record(&r);
    ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), 0);
    memcpy(t, "enr:", 4);
    ck_assert_int_eq(ethp2p_base64url_encode(t + 4, sizeof t - 4, &n, bin, n - 3), 0);
    ck_assert_int_eq(ethp2p_enr_text_decode(&r, t, 4 + n, &d), ETHP2P_ETRUNC);
  }
  /* and the original is fine */
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, eip778_text, len, &d), 0);
}
END_TEST

START_TEST(success_leaves_diag_alone_and_text_errors_say_where) {
  ethp2p_enr r;
  ethp2p_diag d;
  char t[600];
  uint8_t bin[300];
  size_t n;
  memset(&d, 0, sizeof d);
  memcpy(d.msg, "untouched", 10);
  d.offset = 77;
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, eip778_text, strlen(eip778_text), &d), 0);
  ck_assert_int_eq(ethp2p_enr_verify(&r, &d), 0);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), 0);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, &d), 0);
  ck_assert_str_eq(d.msg, "untouched");
  ck_assert_uint_eq(d.offset, 77);
  /* a record error inside valid text names the decoded byte */
  bin[0] = 0xc0; /* claims an empty list: the rest is trailing */
  memcpy(t, "enr:", 4);
  ck_assert_int_eq(ethp2p_base64url_encode(t + 4, sizeof t - 4, &n, bin, 134), 0);
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, t, 4 + n, &d), ETHP2P_ETRAILING);
  ck_assert_uint_eq(d.offset, 1);
  ck_assert_ptr_nonnull(strstr(d.msg, "byte 1 of the decoded record"));
}
END_TEST

/* ---- signature state and seq ---- */

START_TEST(changing_a_signed_record_drops_the_signature_and_bumps_seq_once) {
  ethp2p_enr r;
  uint8_t key[32], bin[300];
  const uint8_t ip[4] = {127, 0, 0, 1}, ip2[4] = {10, 0, 0, 1};
  size_t n;
  eip778_secret(key);
  eip778_record(&r);
  /* same value: no change */
  ck_assert_int_eq(ethp2p_enr_ip_set(&r, ip), 0);
  ck_assert(ethp2p_enr_is_signed(&r));
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 1);
  /* a change */
  ck_assert_int_eq(ethp2p_enr_ip_set(&r, ip2), 0);
  ck_assert(!ethp2p_enr_is_signed(&r));
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 2);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), ETHP2P_ESTATE);
  ck_assert_int_eq(ethp2p_enr_verify(&r, NULL), ETHP2P_ESTATE);
  /* further changes while unsigned do not bump again */
  ck_assert_int_eq(ethp2p_enr_port_set(&r, ETHP2P_ENR_TCP, 30303), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 2);
  ck_assert_int_eq(ethp2p_enr_sign(&r, key), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 2);
  ck_assert_int_eq(ethp2p_enr_verify(&r, NULL), 0);
  /* delete */
  ck_assert_int_eq(ethp2p_enr_del(&r, "nope", 4), ETHP2P_ENOTFOUND);
  ck_assert(ethp2p_enr_is_signed(&r));
  ck_assert_int_eq(ethp2p_enr_del(&r, "tcp", 3), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 3);
  ck_assert(!ethp2p_enr_is_signed(&r));
  /* seq_set drops the signature without a bump */
  ck_assert_int_eq(ethp2p_enr_sign(&r, key), 0);
  ck_assert_int_eq(ethp2p_enr_seq_set(&r, 100), 0);
  ck_assert(!ethp2p_enr_is_signed(&r));
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 100);
  ck_assert_ptr_null(ethp2p_enr_signature(&r, &n));
  ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(seq_bump_past_the_maximum_is_refused) {
  ethp2p_enr r, before;
  uint8_t key[32];
  eip778_secret(key);
  ethp2p_enr_init(&r);
  ethp2p_enr_seq_set(&r, UINT64_MAX);
  ck_assert_int_eq(ethp2p_enr_sign(&r, key), 0);
  ck_assert_int_eq(ethp2p_enr_verify(&r, NULL), 0);
  before = r;
  ck_assert_int_eq(ethp2p_enr_port_set(&r, ETHP2P_ENR_UDP, 1), ETHP2P_ERANGE);
  ck_assert_mem_eq(&r, &before, sizeof r);
  ck_assert(ethp2p_enr_is_signed(&r));
}
END_TEST

START_TEST(signing_is_deterministic_and_a_new_key_bumps_seq) {
  ethp2p_enr a, b;
  uint8_t key[32], key2[32], e1[300], e2[300], id[32], pub64[64];
  size_t n1, n2;
  eip778_secret(key);
  eip778_record(&a);
  b = a;
  ck_assert_int_eq(ethp2p_enr_sign(&b, key), 0); /* same key, same content */
  ck_assert_uint_eq(ethp2p_enr_seq(&b), 1);
  ck_assert_int_eq(ethp2p_enr_encode(e1, sizeof e1, &n1, &a), 0);
  ck_assert_int_eq(ethp2p_enr_encode(e2, sizeof e2, &n2, &b), 0);
  ck_assert_uint_eq(n1, n2);
  ck_assert_mem_eq(e1, e2, n1);
  memset(key2, 0x22, sizeof key2);
  ck_assert_int_eq(ethp2p_enr_sign(&b, key2), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&b), 2);
  ck_assert_int_eq(ethp2p_enr_verify(&b, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_node_id(id, &b), 0);
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub64, key2), 0);
  {
    uint8_t want[32];
    ethp2p_keccak256(want, pub64, 64);
    ck_assert_mem_eq(id, want, 32);
  }
  /* an invalid secret leaves the record alone */
  memset(key2, 0, sizeof key2);
  a = b;
  ck_assert_int_eq(ethp2p_enr_sign(&b, key2), ETHP2P_EKEY);
  ck_assert_mem_eq(&a, &b, sizeof a);
}
END_TEST

/* ---- malformed optional values ---- */

START_TEST(malformed_known_values_decode_and_verify_but_getters_say_etype) {
  ethp2p_enr r;
  uint8_t bin[300], ip[4], ip6[16], pub[33];
  uint16_t port = 7;
  size_t n;
  ethp2p_rlp_item v;
  ethp2p_diag d = {0};
  char out[200];
  eip778_record(&r);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "tcp", 3, (const uint8_t *)"\x83\x01\x02\x03", 4), 0);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "ip", 2, (const uint8_t *)"\x85\x01\x02\x03\x04\x05", 6),
                   0);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "udp", 3, (const uint8_t *)"\x82\x00\x50", 3), 0);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "ip6", 3, (const uint8_t *)"\xc0", 1), 0);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "quic", 4, (const uint8_t *)"\x80", 1), 0);
  {
    uint8_t key[32];
    eip778_secret(key);
    ck_assert_int_eq(ethp2p_enr_sign(&r, key), 0);
  }
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), 0);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, &d), 0);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_TCP, &port), ETHP2P_ETYPE);
  ck_assert_uint_eq(port, 0);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_UDP, &port), ETHP2P_ETYPE);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_QUIC, &port), 0);
  ck_assert_uint_eq(port, 0);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_UDP6, &port), ETHP2P_ENOTFOUND);
  memset(ip, 0xee, sizeof ip);
  ck_assert_int_eq(ethp2p_enr_ip_get(&r, ip), ETHP2P_ETYPE);
  ck_assert_mem_eq(ip, "\0\0\0\0", 4);
  ck_assert_int_eq(ethp2p_enr_ip6_get(&r, ip6), ETHP2P_ETYPE);
  ck_assert_int_eq(ethp2p_enr_secp256k1_get(&r, pub), 0);
  ck_assert_int_eq(ethp2p_enr_raw_get(&r, "tcp", 3, &v), 0);
  ck_assert_int_eq(ethp2p_enr_value_check("tcp", 3, &v, &d), ETHP2P_ETYPE);
  ck_assert_ptr_nonnull(strstr(d.msg, "3 bytes"));
  ck_assert_int_eq(ethp2p_enr_value_format(out, sizeof out, NULL, "tcp", 3, &v), 0);
  ck_assert_ptr_nonnull(strstr(out, "83010203 (malformed: "));
  ck_assert_int_eq(ethp2p_enr_raw_get(&r, "udp", 3, &v), 0);
  ck_assert_int_eq(ethp2p_enr_value_check("udp", 3, &v, &d), ETHP2P_ETYPE);
  ck_assert_ptr_nonnull(strstr(d.msg, "leading zero"));
  ck_assert_int_eq(ethp2p_enr_raw_get(&r, "ip", 2, &v), 0);
  ck_assert_int_eq(ethp2p_enr_value_check("ip", 2, &v, &d), ETHP2P_ETYPE);
  ck_assert_ptr_nonnull(strstr(d.msg, "must be 4 bytes, got 5"));
  ck_assert_int_eq(ethp2p_enr_uint_get(&r, "tcp", 3, &(uint64_t){0}), 0);
}
END_TEST

START_TEST(typed_setters_and_getters_round_trip) {
  ethp2p_enr r;
  uint8_t ip6[16], back[16];
  uint16_t port;
  unsigned p;
  char id[3];
  for (p = 0; p < 16; p++)
    ip6[p] = (uint8_t)(0x20 + p);
  ethp2p_enr_init(&r);
  ck_assert_int_eq(ethp2p_enr_ip6_set(&r, ip6), 0);
  for (p = ETHP2P_ENR_TCP; p <= ETHP2P_ENR_QUIC6; p++)
    ck_assert_int_eq(ethp2p_enr_port_set(&r, (ethp2p_enr_port)p, (uint16_t)(1000 * p + 127)), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&r, (ethp2p_enr_port)42, 1), ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_enr_ip6_get(&r, back), 0);
  ck_assert_mem_eq(back, ip6, 16);
  for (p = ETHP2P_ENR_TCP; p <= ETHP2P_ENR_QUIC6; p++) {
    ck_assert_int_eq(ethp2p_enr_port_get(&r, (ethp2p_enr_port)p, &port), 0);
    ck_assert_uint_eq(port, 1000 * p + 127);
  }
  ck_assert_str_eq(ethp2p_enr_port_key(ETHP2P_ENR_QUIC6), "quic6");
  ck_assert_ptr_null(ethp2p_enr_port_key((ethp2p_enr_port)6));
  ck_assert_int_eq(ethp2p_enr_port_set(&r, ETHP2P_ENR_TCP, 0), 0);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_TCP, &port), 0);
  ck_assert_uint_eq(port, 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&r, ETHP2P_ENR_TCP, 65535), 0);
  ck_assert_int_eq(ethp2p_enr_port_get(&r, ETHP2P_ENR_TCP, &port), 0);
  ck_assert_uint_eq(port, 65535);
  ck_assert_int_eq(ethp2p_enr_id_get(&r, id, sizeof id), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_enr_id_set(&r, "v4x"), 0);
  ck_assert_int_eq(ethp2p_enr_id_get(&r, id, sizeof id), ETHP2P_ESPACE);
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 0);
  ck_assert_int_eq(ethp2p_enr_uint_set(&r, "n", 1, 0x0102030405ull), 0);
  {
    uint64_t v = 0;
    ck_assert_int_eq(ethp2p_enr_uint_get(&r, "n", 1, &v), 0);
    ck_assert_uint_eq(v, 0x0102030405ull);
    ck_assert_int_eq(ethp2p_enr_uint_get(&r, "ip6", 3, &v), ETHP2P_ETYPE);
    ck_assert_int_eq(ethp2p_enr_uint_get(&r, "zz", 2, &v), ETHP2P_ENOTFOUND);
  }
}
END_TEST

/* A record filled to 300 bytes with seq 0 must not grow past 300 through a longer seq. */
START_TEST(seq_set_refuses_a_seq_that_would_push_the_record_over_300_bytes) {
  static const uint8_t secret[32] = {1};
  uint8_t big[255], bin[ETHP2P_ENR_MAX_SIZE + 16];
  size_t fill, len;
  ethp2p_enr r, before;
  ethp2p_enr_init(&r);
  ck_assert_int_eq(ethp2p_enr_sign(&r, secret), 0); /* id and secp256k1 in place */
  big[0] = 0xb8;
  for (fill = 250; fill > 0; fill--) {
    big[1] = (uint8_t)fill;
    memset(big + 2, 0x42, fill);
    if (ethp2p_enr_raw_set(&r, "zz", 2, big, 2 + fill) == 0)
      break;
  }
  ck_assert_uint_eq(ethp2p_enr_encoded_len(&r), ETHP2P_ENR_MAX_SIZE);
  before = r;
  ck_assert_int_eq(ethp2p_enr_seq_set(&r, 1796221191592ull), ETHP2P_ETOOBIG);
  ck_assert_uint_eq(ethp2p_enr_seq(&r), 1); /* the fill bumped the signed record once */
  ck_assert_mem_eq(&r, &before, sizeof r);
  ck_assert_int_eq(ethp2p_enr_seq_set(&r, 127), 0); /* still one byte: fits */
  ck_assert_int_eq(ethp2p_enr_sign(&r, secret), 0);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &len, &r), 0);
  ck_assert_uint_eq(len, ETHP2P_ENR_MAX_SIZE);
}
END_TEST

START_TEST(raw_set_takes_exactly_one_canonical_item) {
  ethp2p_enr r;
  ethp2p_enr_init(&r);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "k", 1, (const uint8_t *)"\x81\x05", 2),
                   ETHP2P_ENONCANON);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "k", 1, (const uint8_t *)"\x01\x02", 2),
                   ETHP2P_ETRAILING);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "k", 1, (const uint8_t *)"", 0), ETHP2P_ETRUNC);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, NULL, 1, (const uint8_t *)"\x01", 1), ETHP2P_EINVAL);
  ck_assert_uint_eq(ethp2p_enr_pair_count(&r), 0);
}
END_TEST

/* ---- unknown keys and nested values ---- */

START_TEST(unknown_keys_and_nested_values_are_preserved) {
  static const char *eth_hex = "c7c68488c3f3f380";        /* eth = [[forkhash, next]] */
  static const char *deep_hex = "cac2c0c0c6c5c4c3c2c180"; /* nested empty lists */
  ethp2p_enr r;
  uint8_t key[32], eth[16], deep[16], bin[300], bin2[300];
  size_t ne = unhex(eth, sizeof eth, eth_hex), nd = unhex(deep, sizeof deep, deep_hex), n, n2;
  ethp2p_rlp_item v;
  char out[100];
  eip778_secret(key);
  eip778_record(&r);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "eth", 3, eth, ne), 0);
  ck_assert_int_eq(ethp2p_enr_raw_set(&r, "\x00\xff", 2, deep, nd), 0);
  ck_assert_int_eq(ethp2p_enr_bytes_set(&r, "zzz", 3, "\x00", 1), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&r, key), 0);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), 0);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, NULL), 0);
  ck_assert_uint_eq(ethp2p_enr_pair_count(&r), 7);
  ck_assert_int_eq(ethp2p_enr_raw_get(&r, "eth", 3, &v), 0);
  ck_assert(v.is_list);
  ck_assert_uint_eq(v.raw_len, ne);
  ck_assert_mem_eq(v.raw, eth, ne);
  ck_assert_int_eq(ethp2p_enr_value_format(out, sizeof out, NULL, "eth", 3, &v), 0);
  ck_assert_str_eq(out, eth_hex);
  ck_assert_int_eq(ethp2p_enr_raw_get(&r, "\x00\xff", 2, &v), 0);
  ck_assert_mem_eq(v.raw, deep, nd);
  /* first key in byte order is the binary one */
  ck_assert_int_eq(ethp2p_enr_pair_at(&r, 0, &v, NULL), 0);
  ck_assert_mem_eq(v.payload, "\x00\xff", 2);
  ck_assert_int_eq(ethp2p_enr_encode(bin2, sizeof bin2, &n2, &r), 0);
  ck_assert_uint_eq(n2, n);
  ck_assert_mem_eq(bin2, bin, n);
}
END_TEST

START_TEST(changes_that_would_exceed_300_bytes_are_refused) {
  ethp2p_enr r, before;
  uint8_t key[32], big[300], bin[300];
  size_t room, n;
  memset(big, 0x5a, sizeof big);
  eip778_secret(key);
  eip778_record(&r);
  room = 300 - ethp2p_enr_encoded_len(&r); /* 166 */
  before = r;
  ck_assert_int_eq(ethp2p_enr_bytes_set(&r, "x", 1, big, room - 3), ETHP2P_ETOOBIG);
  ck_assert_mem_eq(&r, &before, sizeof r);
  /* key 1 + string header 2 + data, and the list header grows by one byte */
  ck_assert_int_eq(ethp2p_enr_bytes_set(&r, "x", 1, big, room - 4), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&r, key), 0);
  ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), 0);
  ck_assert_uint_eq(n, 300);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, n, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_bytes_set(&r, "y", 1, "", 0), ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_enr_id_set(&r, "v44"), ETHP2P_ETOOBIG);
  ck_assert(ethp2p_enr_is_signed(&r));
}
END_TEST

/* ---- random records ---- */

static uint64_t rng_state = 0x853c49e6748fea9bull;
static uint32_t rng(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33);
}

static void random_value(uint8_t *out, size_t cap, size_t *len) {
  ethp2p_rlp_enc e;
  uint8_t data[40];
  size_t i, n;
  ethp2p_rlp_enc_init(&e, out, cap);
  switch (rng() % 4) {
  case 0:
    ethp2p_rlp_enc_uint64(&e, ((uint64_t)rng() << 32 | rng()) >> (rng() % 64));
    break;
  case 1:
    ethp2p_rlp_enc_list_begin(&e);
    for (i = rng() % 4; i > 0; i--) {
      if (rng() % 3 == 0) {
        ethp2p_rlp_enc_list_begin(&e);
        ethp2p_rlp_enc_uint64(&e, rng() % 300);
        ethp2p_rlp_enc_list_end(&e);
      } else {
        ethp2p_rlp_enc_bytes(&e, "abcdef", rng() % 7);
      }
    }
    ethp2p_rlp_enc_list_end(&e);
    break;
  default:
    n = rng() % sizeof data;
    for (i = 0; i < n; i++)
      data[i] = (uint8_t)rng();
    ethp2p_rlp_enc_bytes(&e, data, n);
  }
  ck_assert_int_eq(ethp2p_rlp_enc_finish(&e, len), 0);
}

START_TEST(random_records_round_trip) {
  static const char *known[] = {"id",   "ip",  "ip6",  "tcp", "udp", "tcp6",    "udp6",
                                "quic", "eth", "snap", "les", "bsc", "attnets", "syncnets"};
  int round, i, nkeys;
  for (round = 0; round < 300; round++) {
    ethp2p_enr r, back;
    uint8_t key[32], val[64], bin[300], bin2[300], kb[8], id[32], pub64[64], want[32];
    char text[ETHP2P_ENR_TEXT_MAX + 1];
    size_t vlen, n, n2, tl, k;
    uint8_t pub33[33];
    do {
      for (k = 0; k < 32; k++)
        key[k] = (uint8_t)rng();
    } while (ethp2p_secp_secret_check(key) != 0);
    ck_assert_int_eq(ethp2p_secp_pubkey(pub33, NULL, key), 0);
    ethp2p_enr_init(&r);
    ethp2p_enr_seq_set(&r, ((uint64_t)rng() << 32 | rng()) >> (rng() % 64));
    /* identity first, so random pairs can never leave too little room to sign */
    ck_assert_int_eq(ethp2p_enr_id_set(&r, "v4"), 0);
    ck_assert_int_eq(ethp2p_enr_secp256k1_set(&r, pub33), 0);
    nkeys = (int)(rng() % 10);
    for (i = 0; i < nkeys; i++) {
      random_value(val, sizeof val, &vlen);
      if (rng() % 2) {
        const char *kn = known[rng() % (sizeof known / sizeof known[0])];
        if (strcmp(kn, "id") == 0)
          continue; /* keep the identity */
        (void)ethp2p_enr_raw_set(&r, kn, strlen(kn), val, vlen);
      } else {
        size_t kl = rng() % sizeof kb;
        for (k = 0; k < kl; k++)
          kb[k] = (uint8_t)rng();
        (void)ethp2p_enr_raw_set(&r, kb, kl, val, vlen);
      }
    }
    ck_assert_int_eq(ethp2p_enr_sign(&r, key), 0);
    ck_assert_int_eq(ethp2p_enr_encode(bin, sizeof bin, &n, &r), 0);
    ck_assert_uint_le(n, 300);
    ck_assert_uint_eq(n, ethp2p_enr_encoded_len(&r));
    ck_assert_int_eq(ethp2p_enr_decode_verify(&back, bin, n, NULL), 0);
    ck_assert_uint_eq(ethp2p_enr_seq(&back), ethp2p_enr_seq(&r));
    ck_assert_uint_eq(ethp2p_enr_pair_count(&back), ethp2p_enr_pair_count(&r));
    for (k = 0; k < ethp2p_enr_pair_count(&r); k++) {
      ethp2p_rlp_item k1, v1, k2, v2;
      ethp2p_enr_pair_at(&r, k, &k1, &v1);
      ethp2p_enr_pair_at(&back, k, &k2, &v2);
      ck_assert_uint_eq(k1.raw_len, k2.raw_len);
      ck_assert_mem_eq(k1.raw, k2.raw, k1.raw_len);
      ck_assert_uint_eq(v1.raw_len, v2.raw_len);
      ck_assert_mem_eq(v1.raw, v2.raw, v1.raw_len);
    }
    ck_assert_int_eq(ethp2p_enr_encode(bin2, sizeof bin2, &n2, &back), 0);
    ck_assert_uint_eq(n2, n);
    ck_assert_mem_eq(bin2, bin, n);
    ck_assert_int_eq(ethp2p_enr_text_encode(text, sizeof text, &tl, &r), 0);
    ck_assert_int_eq(ethp2p_enr_text_decode(&back, text, tl, NULL), 0);
    ck_assert_int_eq(ethp2p_enr_encode(bin2, sizeof bin2, &n2, &back), 0);
    ck_assert_mem_eq(bin2, bin, n);
    ck_assert_int_eq(ethp2p_enr_node_id(id, &back), 0);
    ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub64, key), 0);
    ethp2p_secp_node_id(want, pub64);
    ck_assert_mem_eq(id, want, 32);
  }
}
END_TEST

/* ---- secp256k1 ---- */

START_TEST(invalid_secrets_are_refused) {
  uint8_t s[32], pub[33], sig[64], hash[32] = {1};
  memset(s, 0, sizeof s);
  ck_assert_int_eq(ethp2p_secp_secret_check(s), ETHP2P_EKEY);
  ck_assert_int_eq(ethp2p_secp_pubkey(pub, NULL, s), ETHP2P_EKEY);
  ck_assert_int_eq(ethp2p_secp_sign(sig, hash, s), ETHP2P_EKEY);
  sub_from_order(s); /* s = n */
  ck_assert_int_eq(ethp2p_secp_secret_check(s), ETHP2P_EKEY);
  memset(s, 0xff, sizeof s);
  ck_assert_int_eq(ethp2p_secp_secret_check(s), ETHP2P_EKEY);
  s[0] = 0x7f;
  ck_assert_int_eq(ethp2p_secp_secret_check(s), 0);
}
END_TEST

START_TEST(keys_convert_between_forms_and_signatures_are_low_s) {
  uint8_t key[32], pub33[33], pub64[64], c33[33], d64[64], hash[32], sig[64], sig2[64];
  int i;
  eip778_secret(key);
  ck_assert_int_eq(ethp2p_secp_pubkey(pub33, pub64, key), 0);
  ck_assert_str_eq(tohex(pub64, 64), eip778_pub64);
  ck_assert_int_eq(ethp2p_secp_pub64_to_pub33(c33, pub64), 0);
  ck_assert_mem_eq(c33, pub33, 33);
  ck_assert_int_eq(ethp2p_secp_pub33_to_pub64(d64, pub33), 0);
  ck_assert_mem_eq(d64, pub64, 64);
  pub64[63] ^= 1;
  ck_assert_int_eq(ethp2p_secp_pub64_to_pub33(c33, pub64), ETHP2P_EKEY);
  for (i = 0; i < 20; i++) {
    ethp2p_keccak256(hash, &i, sizeof i);
    ck_assert_int_eq(ethp2p_secp_sign(sig, hash, key), 0);
    ck_assert_int_eq(ethp2p_secp_sign(sig2, hash, key), 0);
    ck_assert_mem_eq(sig, sig2, 64);
    ck_assert_uint_lt(sig[32], 0x80); /* s <= n/2 starts below 0x80 */
    ck_assert_int_eq(ethp2p_secp_verify(sig, hash, pub33), 0);
    hash[0] ^= 1;
    ck_assert_int_eq(ethp2p_secp_verify(sig, hash, pub33), ETHP2P_ESIG);
  }
  ck_assert_int_eq(ethp2p_secp_secret_generate(key), 0);
  ck_assert_int_eq(ethp2p_secp_secret_check(key), 0);
  ck_assert_ptr_nonnull(ethp2p_secp_context());
}
END_TEST

/* ---- testdata/enr vectors ---- */

static size_t read_file(const char *name, uint8_t *buf, size_t cap) {
  const char *dir = getenv("ETHP2P_TESTDATA");
  char path[512];
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "%s/enr/%s", dir != NULL ? dir : "testdata", name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static const char *valid_vectors[] = {"eip778", "full", "malformed-values"};

START_TEST(testdata_records_decode_verify_and_agree_in_all_three_forms) {
  char name[64], text[600];
  uint8_t bin[400], hexbuf[800], back[300];
  size_t nb, nt, nh, n;
  ethp2p_enr r;
  ethp2p_diag d = {0};
  snprintf(name, sizeof name, "%s.bin", valid_vectors[_i]);
  nb = read_file(name, bin, sizeof bin);
  snprintf(name, sizeof name, "%s.txt", valid_vectors[_i]);
  nt = read_file(name, (uint8_t *)text, sizeof text - 1);
  while (nt > 0 && text[nt - 1] == '\n')
    nt--;
  snprintf(name, sizeof name, "%s.hex", valid_vectors[_i]);
  nh = read_file(name, hexbuf, sizeof hexbuf);
  while (nh > 0 && hexbuf[nh - 1] == '\n')
    nh--;
  ck_assert_int_eq(ethp2p_enr_decode_verify(&r, bin, nb, &d), 0);
  ck_assert_int_eq(ethp2p_enr_encode(back, sizeof back, &n, &r), 0);
  ck_assert_uint_eq(n, nb);
  ck_assert_mem_eq(back, bin, nb);
  ck_assert_int_eq(ethp2p_enr_text_decode(&r, text, nt, &d), 0);
  ck_assert_int_eq(ethp2p_enr_verify(&r, &d), 0);
  ck_assert_int_eq(ethp2p_enr_encode(back, sizeof back, &n, &r), 0);
  ck_assert_mem_eq(back, bin, nb);
  ck_assert_int_eq(ethp2p_hex_decode(back, sizeof back, &n, (const char *)hexbuf, nh, &d), 0);
  ck_assert_uint_eq(n, nb);
  ck_assert_mem_eq(back, bin, nb);
}
END_TEST

START_TEST(testdata_invalid_records_fail_with_their_listed_error) {
  char buf[8192];
  size_t len = read_file("invalid-records.txt", (uint8_t *)buf, sizeof buf - 1);
  char *line = buf, *end = buf + len;
  int count = 0;
  buf[len] = '\0';
  while (line < end) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    char *code, *hex;
    uint8_t bin[300];
    size_t n;
    ethp2p_enr r;
    ethp2p_diag d = {0};
    int rc;
    if (nl == NULL)
      nl = end;
    *nl = '\0';
    if (line[0] != '#' && line[0] != '\0') {
      /* name TAB code TAB hex */
      code = strchr(line, '\t');
      ck_assert_ptr_nonnull(code);
      *code++ = '\0';
      hex = strchr(code, '\t');
      ck_assert_ptr_nonnull(hex);
      *hex++ = '\0';
      ck_assert_int_eq(ethp2p_hex_decode(bin, sizeof bin, &n, hex, strlen(hex), NULL), 0);
      rc = ethp2p_enr_decode_verify(&r, bin, n, &d);
      ck_assert_msg(strcmp(ethp2p_err_name(rc), code) == 0, "%s: got %s (%s), want %s", line,
                    ethp2p_err_name(rc), d.msg, code);
      count++;
    }
    line = nl + 1;
  }
  ck_assert_int_ge(count, 10);
}
END_TEST

START_TEST(live_network_records_decode_verify_and_reencode_unchanged) {
  char buf[4096];
  size_t len = read_file("live-records.txt", (uint8_t *)buf, sizeof buf - 1);
  char *line = buf, *end = buf + len;
  int count = 0;
  while (line < end) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t ll = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
    if (ll > 0 && line[0] != '#') {
      ethp2p_enr r;
      ethp2p_diag d = {0};
      char text[ETHP2P_ENR_TEXT_MAX + 1];
      size_t tl;
      uint8_t id[32];
      ck_assert_msg(ethp2p_enr_text_decode(&r, line, ll, &d) == 0, "%.*s: %s", (int)ll, line,
                    d.msg);
      ck_assert_msg(ethp2p_enr_verify(&r, &d) == 0, "%.*s: %s", (int)ll, line, d.msg);
      ck_assert_int_eq(ethp2p_enr_node_id(id, &r), 0);
      ck_assert_int_eq(ethp2p_enr_text_encode(text, sizeof text, &tl, &r), 0);
      ck_assert_uint_eq(tl, ll);
      ck_assert_mem_eq(text, line, ll);
      count++;
    }
    line += ll + 1;
  }
  ck_assert_int_ge(count, 5);
}
END_TEST

int main(void) {
  Suite *s = suite_create("enr_record");
  TCase *tc = tcase_create("record");
  TCase *ts = tcase_create("secp");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, eip778_example_is_reproduced_byte_for_byte_from_its_key);
  tcase_add_test(tc, eip778_example_decodes_verifies_and_has_the_right_node_id);
  tcase_add_test(tc, decoded_record_encodes_to_its_input_and_text);
  tcase_add_test(tc, values_are_formatted_for_dumps);
  tcase_add_loop_test(tc, each_structure_rule_is_enforced, 0,
                      (int)(sizeof structure_bad / sizeof structure_bad[0]));
  tcase_add_test(tc, diagnostics_name_the_offending_key_and_offset);
  tcase_add_test(tc, records_over_300_bytes_are_refused);
  tcase_add_test(tc, bad_signature_is_refused);
  tcase_add_test(tc, high_s_signature_is_refused);
  tcase_add_test(tc, wrong_or_missing_identity_is_refused);
  tcase_add_test(tc, text_form_is_strict);
  tcase_add_test(tc, success_leaves_diag_alone_and_text_errors_say_where);
  tcase_add_test(tc, changing_a_signed_record_drops_the_signature_and_bumps_seq_once);
  tcase_add_test(tc, seq_bump_past_the_maximum_is_refused);
  tcase_add_test(tc, signing_is_deterministic_and_a_new_key_bumps_seq);
  tcase_add_test(tc, malformed_known_values_decode_and_verify_but_getters_say_etype);
  tcase_add_test(tc, typed_setters_and_getters_round_trip);
  tcase_add_test(tc, raw_set_takes_exactly_one_canonical_item);
  tcase_add_test(tc, seq_set_refuses_a_seq_that_would_push_the_record_over_300_bytes);
  tcase_add_test(tc, unknown_keys_and_nested_values_are_preserved);
  tcase_add_test(tc, changes_that_would_exceed_300_bytes_are_refused);
  tcase_add_test(tc, random_records_round_trip);
  tcase_add_loop_test(tc, testdata_records_decode_verify_and_agree_in_all_three_forms, 0,
                      (int)(sizeof valid_vectors / sizeof valid_vectors[0]));
  tcase_add_test(tc, testdata_invalid_records_fail_with_their_listed_error);
  tcase_add_test(tc, live_network_records_decode_verify_and_reencode_unchanged);
  tcase_add_test(ts, invalid_secrets_are_refused);
  tcase_add_test(ts, keys_convert_between_forms_and_signatures_are_low_s);
  suite_add_tcase(s, tc);
  suite_add_tcase(s, ts);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
