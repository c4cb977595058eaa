/* tests/check_rlpx_handshake.c — the RLPx handshake and session secrets against the
 * EIP-8 test vectors (testdata/rlpx/eip8_vectors.txt), the pre-EIP-8 handshake and
 * first frames of cpp-ethereum's vectors (testdata/rlpx/cpp_ethereum_vectors.txt),
 * plus our own writer talking
 * to our reader in both formats, truncation, tampering and size limits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/encoding.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

/* ---- the vector file: "name = hex" with continuation lines ---- */
#define MAXV 48
static struct {
  char name[64];
  uint8_t bytes[1024];
  size_t len;
} vec[MAXV];
static size_t nvec;

static void load_file(const char *name) {
  const char *dir = getenv("ETHP2P_TESTDATA");
  char path[512], line[256], hex[2400];
  size_t hexlen = 0;
  FILE *f;
  ck_assert_ptr_nonnull(dir);
  snprintf(path, sizeof path, "%s/rlpx/%s", dir, name);
  f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  hex[0] = '\0';
  for (;;) {
    char *ok = fgets(line, sizeof line, f);
    bool cont = ok != NULL && (line[0] == ' ' || line[0] == '\t');
    char *p, *q;
    if (ok != NULL && (line[0] == '#' || line[0] == '\n'))
      continue;
    if (!cont && hexlen > 0) {
      ck_assert_int_eq(ethp2p_hex_decode(vec[nvec - 1].bytes, sizeof vec[0].bytes,
                                         &vec[nvec - 1].len, hex, hexlen, NULL),
                       0);
      hexlen = 0;
    }
    if (ok == NULL)
      break;
    p = line;
    if (!cont) {
      char *eq = strchr(line, '=');
      ck_assert_ptr_nonnull(eq);
      ck_assert_uint_lt(nvec, MAXV);
      for (q = eq; q > line && (q[-1] == ' '); q--)
        ;
      ck_assert_uint_lt((size_t)(q - line), sizeof vec[0].name);
      memcpy(vec[nvec].name, line, (size_t)(q - line));
      vec[nvec].name[q - line] = '\0';
      nvec++;
      p = eq + 1;
    }
    for (; *p != '\0'; p++)
      if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')) {
        ck_assert_uint_lt(hexlen, sizeof hex);
        hex[hexlen++] = *p;
      }
  }
  fclose(f);
}

static void load_vectors(void) {
  if (nvec > 0)
    return;
  load_file("eip8_vectors.txt");
  load_file("cpp_ethereum_vectors.txt");
}

static const uint8_t *v(const char *name, size_t *len) {
  size_t i;
  load_vectors();
  for (i = 0; i < nvec; i++)
    if (strcmp(vec[i].name, name) == 0) {
      if (len != NULL)
        *len = vec[i].len;
      return vec[i].bytes;
    }
  ck_abort_msg("no vector %s", name);
  return NULL;
}

static void pub_of(uint8_t pub[64], const char *key) {
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub, v(key, NULL)), 0);
}

static void rnd_fill(uint8_t *r, size_t n, unsigned seed) {
  size_t i;
  for (i = 0; i < n; i++)
    r[i] = (uint8_t)(seed * 131 + i * 29 + 7);
}

static ethp2p_rlpx_hs hs_a, hs_b; /* large: static */

/* ---- B reads each of A's auth packets ---- */
static const struct {
  const char *name;
  bool eip8;
} auths[] = {{"auth1", false}, {"auth2", true}, {"auth3", true}};

START_TEST(recipient_reads_each_eip8_auth_vector) {
  uint8_t pub_a[64], eph_a[64];
  size_t len, used = 0;
  const uint8_t *pkt = v(auths[_i].name, &len);
  pub_of(pub_a, "static_key_a");
  pub_of(eph_a, "ephemeral_key_a");
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_b, false, v("static_key_b", NULL),
                                       v("ephemeral_key_b", NULL), v("nonce_b", NULL), NULL),
                   0);
  ck_assert_int_eq(ethp2p_rlpx_hs_read_auth(&hs_b, pkt, len, &used), 0);
  ck_assert_uint_eq(used, len);
  ck_assert(hs_b.eip8 == auths[_i].eip8);
  ck_assert_mem_eq(hs_b.remote_pub, pub_a, 64);
  ck_assert_mem_eq(hs_b.remote_eph_pub, eph_a, 64);
  ck_assert_mem_eq(hs_b.init_nonce, v("nonce_a", NULL), 32);
}
END_TEST

static const struct {
  const char *name;
  bool eip8;
} acks[] = {{"ack1", false}, {"ack2", true}, {"ack3", true}};

START_TEST(initiator_reads_each_eip8_ack_vector) {
  uint8_t pub_b[64], eph_b[64], out[ETHP2P_RLPX_HS_MAX], rnd[ETHP2P_RLPX_HS_RANDOM_LEN];
  size_t len, used = 0, n;
  const uint8_t *pkt = v(acks[_i].name, &len);
  pub_of(pub_b, "static_key_b");
  pub_of(eph_b, "ephemeral_key_b");
  rnd_fill(rnd, sizeof rnd, 1);
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_a, true, v("static_key_a", NULL),
                                       v("ephemeral_key_a", NULL), v("nonce_a", NULL), pub_b),
                   0);
  /* An ack is only read after an auth went out. */
  ck_assert_int_eq(ethp2p_rlpx_hs_read_ack(&hs_a, pkt, len, &used), ETHP2P_ESTATE);
  ck_assert_int_eq(ethp2p_rlpx_hs_write_auth(&hs_a, out, sizeof out, &n, rnd), 0);
  ck_assert_int_eq(ethp2p_rlpx_hs_read_ack(&hs_a, pkt, len, &used), 0);
  ck_assert_uint_eq(used, len);
  ck_assert_mem_eq(hs_a.remote_eph_pub, eph_b, 64);
  ck_assert_mem_eq(hs_a.resp_nonce, v("nonce_b", NULL), 32);
}
END_TEST

static void digest_of(const ethp2p_keccak256_ctx *k, uint8_t out[32]) {
  ethp2p_keccak256_ctx c = *k;
  ethp2p_keccak256_final(&c, out);
}

/* Both sides' secrets for (Auth2, Ack2), from the vector values. */
static void vector_secrets(ethp2p_rlpx_secrets *a, ethp2p_rlpx_secrets *b) {
  uint8_t eph_a[64], eph_b[64];
  size_t auth_len, ack_len;
  const uint8_t *auth = v("auth2", &auth_len), *ack = v("ack2", &ack_len);
  pub_of(eph_a, "ephemeral_key_a");
  pub_of(eph_b, "ephemeral_key_b");
  ck_assert_int_eq(ethp2p_rlpx_secrets_derive(b, false, v("ephemeral_key_b", NULL), eph_a,
                                              v("nonce_a", NULL), v("nonce_b", NULL), auth,
                                              auth_len, ack, ack_len, NULL),
                   0);
  ck_assert_int_eq(ethp2p_rlpx_secrets_derive(a, true, v("ephemeral_key_a", NULL), eph_b,
                                              v("nonce_a", NULL), v("nonce_b", NULL), auth,
                                              auth_len, ack, ack_len, NULL),
                   0);
}

START_TEST(recipient_derives_the_vector_aes_and_mac_secrets) {
  ethp2p_rlpx_secrets a, b;
  uint8_t d[32];
  vector_secrets(&a, &b);
  ck_assert_mem_eq(b.aes, v("aes_secret", NULL), 32);
  ck_assert_mem_eq(b.mac, v("mac_secret", NULL), 32);
  ethp2p_keccak256_update(&b.ingress, "foo", 3);
  digest_of(&b.ingress, d);
  ck_assert_mem_eq(d, v("ingress_mac_foo", NULL), 32);
}
END_TEST

START_TEST(initiator_egress_mac_equals_recipient_ingress_mac) {
  ethp2p_rlpx_secrets a, b;
  uint8_t da[32], db[32];
  vector_secrets(&a, &b);
  ck_assert_mem_eq(a.aes, b.aes, 32);
  ck_assert_mem_eq(a.mac, b.mac, 32);
  digest_of(&a.egress, da);
  digest_of(&b.ingress, db);
  ck_assert_mem_eq(da, db, 32);
  digest_of(&a.ingress, da);
  digest_of(&b.egress, db);
  ck_assert_mem_eq(da, db, 32);
  digest_of(&a.egress, da);
  digest_of(&a.ingress, db);
  ck_assert(memcmp(da, db, 32) != 0);
}
END_TEST

/* Sends body from `from` to `to` through a sealed frame and checks it arrives. */
static void frame_trip(ethp2p_rlpx_frame *from, ethp2p_rlpx_frame *to, const uint8_t *body,
                       size_t n) {
  static uint8_t wire[70000];
  size_t len, body_len, need;
  ck_assert_int_eq(ethp2p_rlpx_frame_seal(from, wire, sizeof wire, &len, body, n), 0);
  ck_assert_uint_eq(len, ethp2p_rlpx_frame_len(n));
  ck_assert_uint_eq(len % 16, 0);
  if (n > 0)
    ck_assert(memcmp(wire + 32, body, n) != 0); /* encrypted */
  ck_assert_int_eq(ethp2p_rlpx_frame_open_header(to, wire, ETHP2P_RLPX_FRAME_MAX, &body_len, &need),
                   0);
  ck_assert_uint_eq(body_len, n);
  ck_assert_uint_eq(32 + need, len);
  ck_assert_int_eq(ethp2p_rlpx_frame_open_body(to, wire + 32, need), 0);
  ck_assert_mem_eq(wire + 32, body, n);
}

START_TEST(first_frames_from_vector_secrets_open_on_the_other_side) {
  ethp2p_rlpx_secrets a, b;
  ethp2p_rlpx_frame *fa, *fb;
  /* Hello-sized, then sizes around the 16-byte padding edge, both directions. */
  static const size_t sizes[] = {1, 15, 16, 17, 100, 1024, 0, 65000};
  uint8_t body[65000];
  size_t i;
  vector_secrets(&a, &b);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&fa, &a), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&fb, &b), 0);
  for (i = 0; i < sizeof body; i++)
    body[i] = (uint8_t)(i * 13);
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    frame_trip(fa, fb, body, sizes[i]);
    frame_trip(fb, fa, body + 3, sizes[i] > 3 ? sizes[i] - 3 : 0);
  }
  ethp2p_rlpx_frame_destroy(fa);
  ethp2p_rlpx_frame_destroy(fb);
}
END_TEST

START_TEST(tampered_frame_header_or_body_is_refused) {
  ethp2p_rlpx_secrets a, b;
  ethp2p_rlpx_frame *fa, *fb;
  uint8_t wire[256], body[40] = {1, 2, 3};
  size_t len, body_len, need;
  vector_secrets(&a, &b);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&fa, &a), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&fb, &b), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_seal(fa, wire, sizeof wire, &len, body, sizeof body), 0);
  wire[_i % len] ^= 0x01;
  if (_i % len < 32) {
    ck_assert_int_eq(
        ethp2p_rlpx_frame_open_header(fb, wire, ETHP2P_RLPX_FRAME_MAX, &body_len, &need),
        ETHP2P_ESIG);
  } else {
    ck_assert_int_eq(
        ethp2p_rlpx_frame_open_header(fb, wire, ETHP2P_RLPX_FRAME_MAX, &body_len, &need), 0);
    ck_assert_int_eq(ethp2p_rlpx_frame_open_body(fb, wire + 32, need), ETHP2P_ESIG);
  }
  ethp2p_rlpx_frame_destroy(fa);
  ethp2p_rlpx_frame_destroy(fb);
}
END_TEST

START_TEST(frame_above_the_limit_is_refused_at_the_header) {
  ethp2p_rlpx_secrets a, b;
  ethp2p_rlpx_frame *fa, *fb;
  static uint8_t wire[5000], body[4096];
  size_t len, body_len = 1, need = 1;
  vector_secrets(&a, &b);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&fa, &a), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&fb, &b), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_seal(fa, wire, sizeof wire, &len, body, sizeof body), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_open_header(fb, wire, 4095, &body_len, &need), ETHP2P_ETOOBIG);
  ck_assert_uint_eq(body_len, 0);
  ck_assert_uint_eq(need, 0);
  ck_assert_int_eq(
      ethp2p_rlpx_frame_seal(fa, wire, sizeof wire, &len, body, ETHP2P_RLPX_FRAME_MAX + 1),
      ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_rlpx_frame_seal(fa, wire, 100, &len, body, 100), ETHP2P_ESPACE);
  ethp2p_rlpx_frame_destroy(fa);
  ethp2p_rlpx_frame_destroy(fb);
}
END_TEST

START_TEST(every_truncated_auth_asks_for_more_bytes) {
  size_t len, cut, used;
  const uint8_t *pkt = v(auths[_i].name, &len);
  for (cut = 0; cut < len; cut++) {
    ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_b, false, v("static_key_b", NULL),
                                         v("ephemeral_key_b", NULL), v("nonce_b", NULL), NULL),
                     0);
    ck_assert_int_eq(ethp2p_rlpx_hs_read_auth(&hs_b, pkt, cut, &used), ETHP2P_ETRUNC);
    ck_assert_uint_gt(used, cut);
    ck_assert_uint_le(used, len);
  }
}
END_TEST

START_TEST(flipped_byte_in_an_auth_is_refused) {
  static uint8_t pkt[1024];
  size_t len, used, i;
  const uint8_t *orig = v("auth2", &len);
  for (i = 2; i < len; i += 7) {
    memcpy(pkt, orig, len);
    pkt[i] ^= 0x80;
    ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_b, false, v("static_key_b", NULL),
                                         v("ephemeral_key_b", NULL), v("nonce_b", NULL), NULL),
                     0);
    ck_assert_int_ne(ethp2p_rlpx_hs_read_auth(&hs_b, pkt, len, &used), 0);
    ck_assert(!hs_b.have_auth);
  }
}
END_TEST

START_TEST(auth_with_the_wrong_key_is_refused) {
  size_t len, used;
  const uint8_t *pkt = v("auth2", &len);
  /* A's key is not the recipient's: the ECIES tag cannot verify. */
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_b, false, v("static_key_a", NULL),
                                       v("ephemeral_key_b", NULL), v("nonce_b", NULL), NULL),
                   0);
  ck_assert_int_eq(ethp2p_rlpx_hs_read_auth(&hs_b, pkt, len, &used), ETHP2P_ESIG);
}
END_TEST

START_TEST(size_prefix_above_the_cap_is_refused_without_waiting) {
  uint8_t pkt[4] = {0x7f, 0xff, 0, 0};
  size_t used = 9;
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_b, false, v("static_key_b", NULL),
                                       v("ephemeral_key_b", NULL), v("nonce_b", NULL), NULL),
                   0);
  ck_assert_int_eq(ethp2p_rlpx_hs_read_auth(&hs_b, pkt, sizeof pkt, &used), ETHP2P_ETOOBIG);
  ck_assert_uint_eq(used, 0);
  pkt[0] = 0x00;
  pkt[1] = 0x10; /* smaller than the ECIES overhead */
  ck_assert_int_eq(ethp2p_rlpx_hs_read_auth(&hs_b, pkt, sizeof pkt, &used), ETHP2P_EPROTO);
}
END_TEST

/* Our writer against our reader: A dials B with fresh keys. */
static void run_pair(unsigned seed, bool old_auth, ethp2p_rlpx_secrets *sa, ethp2p_rlpx_secrets *sb,
                     size_t *auth_len, size_t *ack_len) {
  uint8_t pub_b[64], rnd[ETHP2P_RLPX_HS_RANDOM_LEN];
  static uint8_t auth[ETHP2P_RLPX_HS_MAX], ack[ETHP2P_RLPX_HS_MAX];
  size_t used;
  pub_of(pub_b, "static_key_b");
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_a, true, v("static_key_a", NULL),
                                       v("ephemeral_key_a", NULL), v("nonce_a", NULL), pub_b),
                   0);
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_b, false, v("static_key_b", NULL),
                                       v("ephemeral_key_b", NULL), v("nonce_b", NULL), NULL),
                   0);
  if (old_auth) {
    const uint8_t *a1 = v("auth1", auth_len);
    memcpy(auth, a1, *auth_len);
  } else {
    rnd_fill(rnd, sizeof rnd, seed);
    ck_assert_int_eq(ethp2p_rlpx_hs_write_auth(&hs_a, auth, sizeof auth, auth_len, rnd), 0);
  }
  ck_assert_int_eq(ethp2p_rlpx_hs_read_auth(&hs_b, auth, *auth_len, &used), 0);
  ck_assert_uint_eq(used, *auth_len);
  rnd_fill(rnd, sizeof rnd, seed + 1000);
  ck_assert_int_eq(ethp2p_rlpx_hs_write_ack(&hs_b, ack, sizeof ack, ack_len, rnd), 0);
  if (old_auth) {
    /* A never wrote the auth itself: give it the vector's, as if it had. */
    memcpy(hs_a.auth, auth, *auth_len);
    hs_a.auth_len = (uint16_t)*auth_len;
    hs_a.have_auth = true;
  }
  ck_assert_int_eq(ethp2p_rlpx_hs_read_ack(&hs_a, ack, *ack_len, &used), 0);
  ck_assert_uint_eq(used, *ack_len);
  ck_assert_int_eq(ethp2p_rlpx_hs_secrets(&hs_a, sa), 0);
  ck_assert_int_eq(ethp2p_rlpx_hs_secrets(&hs_b, sb), 0);
}

START_TEST(our_auth_and_ack_complete_a_handshake_with_padding_in_range) {
  ethp2p_rlpx_secrets sa, sb;
  uint8_t pub_a[64], da[32], db[32];
  size_t auth_len, ack_len;
  run_pair((unsigned)_i, false, &sa, &sb, &auth_len, &ack_len);
  /* auth body 169 bytes + 100..300 padding + ECIES 113 + prefix 2 */
  ck_assert_uint_ge(auth_len, 169 + 100 + 113 + 2);
  ck_assert_uint_le(auth_len, 169 + 300 + 113 + 2);
  ck_assert_uint_ge(ack_len, 102 + 100 + 113 + 2);
  ck_assert(hs_b.eip8);
  pub_of(pub_a, "static_key_a");
  ck_assert_mem_eq(sb.remote_pub, pub_a, 64);
  ck_assert_mem_eq(sa.aes, sb.aes, 32);
  digest_of(&sa.egress, da);
  digest_of(&sb.ingress, db);
  ck_assert_mem_eq(da, db, 32);
}
END_TEST

START_TEST(pre_eip8_auth_is_answered_with_a_pre_eip8_ack) {
  ethp2p_rlpx_secrets sa, sb;
  size_t auth_len, ack_len;
  run_pair(5, true, &sa, &sb, &auth_len, &ack_len);
  ck_assert(!hs_b.eip8);
  ck_assert_uint_eq(ack_len, ETHP2P_RLPX_ACK_V4_LEN);
  ck_assert_mem_eq(sa.mac, sb.mac, 32);
}
END_TEST

START_TEST(padding_length_varies_with_the_random_bytes) {
  ethp2p_rlpx_secrets sa, sb;
  size_t l1, l2, ack;
  run_pair(1, false, &sa, &sb, &l1, &ack);
  run_pair(2, false, &sa, &sb, &l2, &ack);
  ck_assert_uint_ne(l1, l2);
}
END_TEST

START_TEST(ecies_round_trip_and_shared_data_is_authenticated) {
  uint8_t pub_b[64], ct[300], pt[200], iv[16] = {9};
  const char *msg = "hello ecies";
  size_t n, m;
  pub_of(pub_b, "static_key_b");
  ck_assert_int_eq(ethp2p_rlpx_ecies_encrypt(ct, sizeof ct, &n, pub_b, v("ephemeral_key_a", NULL),
                                             iv, (const uint8_t *)msg, strlen(msg),
                                             (const uint8_t *)"ab", 2),
                   0);
  ck_assert_uint_eq(n, strlen(msg) + ETHP2P_RLPX_ECIES_OVERHEAD);
  ck_assert_int_eq(ethp2p_rlpx_ecies_decrypt(pt, sizeof pt, &m, v("static_key_b", NULL), ct, n,
                                             (const uint8_t *)"ab", 2),
                   0);
  ck_assert_uint_eq(m, strlen(msg));
  ck_assert_mem_eq(pt, msg, m);
  ck_assert_int_eq(ethp2p_rlpx_ecies_decrypt(pt, sizeof pt, &m, v("static_key_b", NULL), ct, n,
                                             (const uint8_t *)"ac", 2),
                   ETHP2P_ESIG);
  ck_assert_uint_eq(m, 0);
  ck_assert_int_eq(ethp2p_rlpx_ecies_decrypt(pt, sizeof pt, &m, v("static_key_b", NULL), ct,
                                             ETHP2P_RLPX_ECIES_OVERHEAD - 1, NULL, 0),
                   ETHP2P_ETRUNC);
}
END_TEST

/* ---- cpp-ethereum's pre-EIP-8 vectors, with the first frames ---- */
START_TEST(receiver_reads_the_cpp_ethereum_pre_eip8_auth) {
  uint8_t pub_i[64], eph_i[64];
  size_t len, used = 0;
  const uint8_t *pkt = v("cpp_auth_ciphertext", &len);
  pub_of(pub_i, "cpp_initiator_private_key");
  pub_of(eph_i, "cpp_initiator_ephemeral_private_key");
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_b, false, v("cpp_receiver_private_key", NULL),
                                       v("cpp_receiver_ephemeral_private_key", NULL),
                                       v("cpp_receiver_nonce", NULL), NULL),
                   0);
  ck_assert_int_eq(ethp2p_rlpx_hs_read_auth(&hs_b, pkt, len, &used), 0);
  ck_assert_uint_eq(used, ETHP2P_RLPX_AUTH_V4_LEN);
  ck_assert(!hs_b.eip8);
  ck_assert_mem_eq(hs_b.remote_pub, pub_i, 64);
  ck_assert_mem_eq(hs_b.remote_eph_pub, eph_i, 64);
  ck_assert_mem_eq(hs_b.init_nonce, v("cpp_initiator_nonce", NULL), 32);
}
END_TEST

START_TEST(initiator_reads_the_cpp_ethereum_pre_eip8_ack) {
  uint8_t pub_r[64], eph_r[64], out[ETHP2P_RLPX_HS_MAX], rnd[ETHP2P_RLPX_HS_RANDOM_LEN];
  size_t len, used = 0, n;
  const uint8_t *pkt = v("cpp_authresp_ciphertext", &len);
  pub_of(pub_r, "cpp_receiver_private_key");
  pub_of(eph_r, "cpp_receiver_ephemeral_private_key");
  rnd_fill(rnd, sizeof rnd, 3);
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_a, true, v("cpp_initiator_private_key", NULL),
                                       v("cpp_initiator_ephemeral_private_key", NULL),
                                       v("cpp_initiator_nonce", NULL), pub_r),
                   0);
  ck_assert_int_eq(ethp2p_rlpx_hs_write_auth(&hs_a, out, sizeof out, &n, rnd), 0);
  ck_assert_int_eq(ethp2p_rlpx_hs_read_ack(&hs_a, pkt, len, &used), 0);
  ck_assert_uint_eq(used, ETHP2P_RLPX_ACK_V4_LEN);
  ck_assert_mem_eq(hs_a.remote_eph_pub, eph_r, 64);
  ck_assert_mem_eq(hs_a.resp_nonce, v("cpp_receiver_nonce", NULL), 32);
}
END_TEST

static void cpp_secrets(ethp2p_rlpx_secrets *ini, ethp2p_rlpx_secrets *rec) {
  uint8_t eph_i[64], eph_r[64];
  size_t auth_len, ack_len;
  const uint8_t *auth = v("cpp_auth_ciphertext", &auth_len);
  const uint8_t *ack = v("cpp_authresp_ciphertext", &ack_len);
  pub_of(eph_i, "cpp_initiator_ephemeral_private_key");
  pub_of(eph_r, "cpp_receiver_ephemeral_private_key");
  ck_assert_int_eq(
      ethp2p_rlpx_secrets_derive(ini, true, v("cpp_initiator_ephemeral_private_key", NULL), eph_r,
                                 v("cpp_initiator_nonce", NULL), v("cpp_receiver_nonce", NULL),
                                 auth, auth_len, ack, ack_len, NULL),
      0);
  ck_assert_int_eq(
      ethp2p_rlpx_secrets_derive(rec, false, v("cpp_receiver_ephemeral_private_key", NULL), eph_i,
                                 v("cpp_initiator_nonce", NULL), v("cpp_receiver_nonce", NULL),
                                 auth, auth_len, ack, ack_len, NULL),
      0);
}

START_TEST(cpp_ethereum_secrets_and_initial_macs_match) {
  ethp2p_rlpx_secrets ini, rec;
  uint8_t d[32];
  cpp_secrets(&ini, &rec);
  ck_assert_mem_eq(ini.aes, v("cpp_aes_secret", NULL), 32);
  ck_assert_mem_eq(ini.mac, v("cpp_mac_secret", NULL), 32);
  ck_assert_mem_eq(rec.aes, v("cpp_aes_secret", NULL), 32);
  digest_of(&ini.egress, d);
  ck_assert_mem_eq(d, v("cpp_initial_egress_mac", NULL), 32);
  digest_of(&rec.ingress, d);
  ck_assert_mem_eq(d, v("cpp_initial_egress_mac", NULL), 32);
  digest_of(&ini.ingress, d);
  ck_assert_mem_eq(d, v("cpp_initial_ingress_mac", NULL), 32);
  digest_of(&rec.egress, d);
  ck_assert_mem_eq(d, v("cpp_initial_ingress_mac", NULL), 32);
}
END_TEST

/* Opens one vector frame with `f` and checks it holds a Hello from `sender_key`;
 * then seals the same frame-data with `seal` and expects the vector's bytes. */
static void open_vector_hello(ethp2p_rlpx_frame *f, ethp2p_rlpx_frame *seal, const char *name,
                              const char *sender_key) {
  uint8_t wire[256], again[256], pub[64];
  ethp2p_rlpx_hello h;
  size_t len, body_len, need, n;
  const uint8_t *pkt = v(name, &len);
  ck_assert_uint_le(len, sizeof wire);
  memcpy(wire, pkt, len);
  ck_assert_int_eq(ethp2p_rlpx_frame_open_header(f, wire, ETHP2P_RLPX_FRAME_MAX, &body_len, &need),
                   0);
  ck_assert_uint_eq(32 + need, len);
  ck_assert_int_eq(ethp2p_rlpx_frame_open_body(f, wire + 32, need), 0);
  ck_assert_uint_eq(wire[32], 0x80); /* message ID 0: Hello */
  ck_assert_int_eq(ethp2p_rlpx_hello_decode(&h, wire + 33, body_len - 1, NULL), 0);
  pub_of(pub, sender_key);
  ck_assert_mem_eq(h.id, pub, 64);
  ck_assert_int_eq(ethp2p_rlpx_frame_seal(seal, again, sizeof again, &n, wire + 32, body_len), 0);
  ck_assert_uint_eq(n, len);
  ck_assert_mem_eq(again + 32, pkt + 32, len - 32); /* body and MACs byte for byte */
}

START_TEST(cpp_ethereum_first_frames_open_and_reseal_identically) {
  ethp2p_rlpx_secrets ini, rec;
  ethp2p_rlpx_frame *fi, *fr, *si, *sr;
  cpp_secrets(&ini, &rec);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&fi, &ini), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&fr, &rec), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&si, &ini), 0);
  ck_assert_int_eq(ethp2p_rlpx_frame_create(&sr, &rec), 0);
  open_vector_hello(fr, si, "cpp_initiator_hello_packet", "cpp_initiator_private_key");
  open_vector_hello(fi, sr, "cpp_receiver_hello_packet", "cpp_receiver_private_key");
  ethp2p_rlpx_frame_destroy(fi);
  ethp2p_rlpx_frame_destroy(fr);
  ethp2p_rlpx_frame_destroy(si);
  ethp2p_rlpx_frame_destroy(sr);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rlpx_handshake");
  TCase *tc = tcase_create("handshake");
  SRunner *sr;
  int failed;
  tcase_add_loop_test(tc, recipient_reads_each_eip8_auth_vector, 0, 3);
  tcase_add_loop_test(tc, initiator_reads_each_eip8_ack_vector, 0, 3);
  tcase_add_test(tc, recipient_derives_the_vector_aes_and_mac_secrets);
  tcase_add_test(tc, initiator_egress_mac_equals_recipient_ingress_mac);
  tcase_add_test(tc, first_frames_from_vector_secrets_open_on_the_other_side);
  tcase_add_loop_test(tc, tampered_frame_header_or_body_is_refused, 0, 96);
  tcase_add_test(tc, frame_above_the_limit_is_refused_at_the_header);
  tcase_add_loop_test(tc, every_truncated_auth_asks_for_more_bytes, 0, 3);
  tcase_add_test(tc, flipped_byte_in_an_auth_is_refused);
  tcase_add_test(tc, auth_with_the_wrong_key_is_refused);
  tcase_add_test(tc, size_prefix_above_the_cap_is_refused_without_waiting);
  tcase_add_loop_test(tc, our_auth_and_ack_complete_a_handshake_with_padding_in_range, 0, 4);
  tcase_add_test(tc, pre_eip8_auth_is_answered_with_a_pre_eip8_ack);
  tcase_add_test(tc, padding_length_varies_with_the_random_bytes);
  tcase_add_test(tc, ecies_round_trip_and_shared_data_is_authenticated);
  tcase_add_test(tc, receiver_reads_the_cpp_ethereum_pre_eip8_auth);
  tcase_add_test(tc, initiator_reads_the_cpp_ethereum_pre_eip8_ack);
  tcase_add_test(tc, cpp_ethereum_secrets_and_initial_macs_match);
  tcase_add_test(tc, cpp_ethereum_first_frames_open_and_reseal_identically);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
