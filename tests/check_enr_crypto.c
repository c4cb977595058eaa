/* tests/check_enr_crypto.c — the shared wire-protocol primitives against published vectors
 * (FIPS 180-2, RFC 4231, RFC 5869, SP 800-38A, FIPS 197, GCM spec) and the secp256k1
 * recoverable-signature and ECDH additions against their algebraic properties. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/encoding.h"
#include "ethp2p/error.h"
#include "ethp2p/keccak.h"
#include "ethp2p/secp.h"

static size_t unhex(uint8_t *out, size_t cap, const char *hex) {
  size_t n = 0;
  ck_assert_int_eq(ethp2p_hex_decode(out, cap, &n, hex, strlen(hex), NULL), 0);
  return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want) {
  uint8_t w[256];
  size_t wn = unhex(w, sizeof w, want);
  ck_assert_uint_eq(wn, n);
  ck_assert_mem_eq(got, w, n);
}

START_TEST(sha256_abc_and_parts) {
  uint8_t out[32];
  const void *parts[2] = {"a", "bc"};
  size_t lens[2] = {1, 2};
  ck_assert_int_eq(ethp2p_sha256(out, "abc", 3), 0);
  assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  memset(out, 0, sizeof out);
  ck_assert_int_eq(ethp2p_sha256_parts(out, 2, parts, lens), 0);
  assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(hmac_rfc4231_case2) {
  uint8_t out[32];
  const char *data = "what do ya want for nothing?";
  ck_assert_int_eq(ethp2p_hmac_sha256(out, "Jefe", 4, data, strlen(data)), 0);
  assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(hmac_sha1_rfc2202_case2) {
  uint8_t out[20];
  const char *data = "what do ya want for nothing?";
  ck_assert_int_eq(ethp2p_hmac_sha1(out, "Jefe", 4, data, strlen(data)), 0);
  assert_hex(out, 20, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}
END_TEST

START_TEST(hkdf_rfc5869_case1_and_limits) {
  uint8_t ikm[22], salt[13], info[10], okm[42];
  memset(ikm, 0x0b, sizeof ikm);
  for (int i = 0; i < 13; i++)
    salt[i] = (uint8_t)i;
  for (int i = 0; i < 10; i++)
    info[i] = (uint8_t)(0xf0 + i);
  ck_assert_int_eq(
      ethp2p_hkdf_sha256(okm, sizeof okm, salt, sizeof salt, ikm, sizeof ikm, info, sizeof info),
      0);
  assert_hex(
      okm, 42,
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  /* RFC 5869 case 3: no salt, no info */
  ck_assert_int_eq(ethp2p_hkdf_sha256(okm, sizeof okm, NULL, 0, ikm, sizeof ikm, NULL, 0), 0);
  assert_hex(
      okm, 42,
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  ck_assert_int_eq(ethp2p_hkdf_sha256(okm, 0, NULL, 0, ikm, sizeof ikm, NULL, 0), ETHP2P_EINVAL);
}
END_TEST

START_TEST(aes_ctr_sp800_38a_streaming) {
  uint8_t key[32], iv[16], pt[64], ct[64];
  ethp2p_aes_ctr *c;
  unhex(iv, 16, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  unhex(pt, 64,
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  unhex(key, 16, "2b7e151628aed2a6abf7158809cf4f3c");
  ck_assert_int_eq(ethp2p_aes_ctr_once(ct, pt, 64, key, 16, iv), 0);
  assert_hex(ct, 64,
             "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
             "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee");
  /* AES-256, fed in odd pieces: the stream continues across calls */
  unhex(key, 32, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  ck_assert_int_eq(ethp2p_aes_ctr_new(&c, key, 32, iv), 0);
  ck_assert_int_eq(ethp2p_aes_ctr_xor(c, ct, pt, 5), 0);
  ck_assert_int_eq(ethp2p_aes_ctr_xor(c, ct + 5, pt + 5, 27), 0);
  ck_assert_int_eq(ethp2p_aes_ctr_xor(c, ct + 32, pt + 32, 32), 0);
  ethp2p_aes_ctr_free(c);
  assert_hex(ct, 64,
             "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
             "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6");
  ck_assert_int_eq(ethp2p_aes_ctr_new(&c, key, 24, iv), ETHP2P_EINVAL);
  ck_assert_ptr_null(c);
}
END_TEST

START_TEST(aes_block_fips197) {
  uint8_t key[32], in[16], out[16];
  ethp2p_aes_block *b;
  unhex(in, 16, "00112233445566778899aabbccddeeff");
  unhex(key, 16, "000102030405060708090a0b0c0d0e0f");
  ck_assert_int_eq(ethp2p_aes_block_new(&b, key, 16), 0);
  ck_assert_int_eq(ethp2p_aes_block_encrypt(b, out, in), 0);
  assert_hex(out, 16, "69c4e0d86a7b0430d8cdb78070b4c55a");
  /* a second block with the same encryptor gives the same answer (no chaining) */
  ck_assert_int_eq(ethp2p_aes_block_encrypt(b, out, in), 0);
  assert_hex(out, 16, "69c4e0d86a7b0430d8cdb78070b4c55a");
  ethp2p_aes_block_free(b);
  unhex(key, 32, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  ck_assert_int_eq(ethp2p_aes_block_new(&b, key, 32), 0);
  ck_assert_int_eq(ethp2p_aes_block_encrypt(b, out, in), 0);
  assert_hex(out, 16, "8ea2b7ca516745bfeafc49904b496089");
  ethp2p_aes_block_free(b);
}
END_TEST

START_TEST(gcm_vectors_and_tamper) {
  uint8_t key[16], nonce[12], pt[64], ad[32], ct[80], back[64];
  size_t n = 0, m = 0, ptlen, adlen;
  /* GCM spec test case 2: zero key, zero IV, one zero block */
  memset(key, 0, sizeof key);
  memset(nonce, 0, sizeof nonce);
  memset(pt, 0, 16);
  ck_assert_int_eq(ethp2p_aes_gcm_seal(ct, sizeof ct, &n, key, nonce, NULL, 0, pt, 16), 0);
  ck_assert_uint_eq(n, 32);
  assert_hex(ct, 32, "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
  /* test case 4: with additional data and a 60-byte plaintext */
  unhex(key, 16, "feffe9928665731c6d6a8f9467308308");
  unhex(nonce, 12, "cafebabefacedbaddecaf888");
  ptlen = unhex(pt, sizeof pt,
                "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  adlen = unhex(ad, sizeof ad, "feedfacedeadbeeffeedfacedeadbeefabaddad2");
  ck_assert_int_eq(ethp2p_aes_gcm_seal(ct, sizeof ct, &n, key, nonce, ad, adlen, pt, ptlen), 0);
  assert_hex(ct, n,
             "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
             "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
             "5bc94fbc3221a5db94fae95ae7121a47");
  ck_assert_int_eq(ethp2p_aes_gcm_open(back, sizeof back, &m, key, nonce, ad, adlen, ct, n), 0);
  ck_assert_uint_eq(m, ptlen);
  ck_assert_mem_eq(back, pt, ptlen);
  ct[3] ^= 1;
  ck_assert_int_eq(ethp2p_aes_gcm_open(back, sizeof back, &m, key, nonce, ad, adlen, ct, n),
                   ETHP2P_ESIG);
  ck_assert_uint_eq(m, 0);
  for (size_t i = 0; i < ptlen; i++)
    ck_assert_uint_eq(back[i], 0);
  ck_assert_int_eq(ethp2p_aes_gcm_open(back, sizeof back, &m, key, nonce, ad, adlen, ct, 15),
                   ETHP2P_ETRUNC);
  ck_assert_int_eq(ethp2p_aes_gcm_seal(ct, 20, &n, key, nonce, NULL, 0, pt, 16), ETHP2P_ESPACE);
}
END_TEST

START_TEST(ct_equal_works) {
  ck_assert(ethp2p_ct_equal("abcd", "abcd", 4));
  ck_assert(!ethp2p_ct_equal("abcd", "abce", 4));
  ck_assert(ethp2p_ct_equal("x", "y", 0));
}
END_TEST

static void key_of(uint8_t secret[32], uint8_t pub33[33], uint8_t pub64[64], uint8_t fill) {
  memset(secret, fill, 32);
  ck_assert_int_eq(ethp2p_secp_pubkey(pub33, pub64, secret), 0);
}

START_TEST(recoverable_sign_recovers_signer) {
  uint8_t secret[32], pub33[33], pub64[64], hash[32], sig[65], got[64], plain[64];
  key_of(secret, pub33, pub64, 0x11);
  ethp2p_keccak256(hash, "discv4", 6);
  ck_assert_int_eq(ethp2p_secp_sign_recoverable(sig, hash, secret), 0);
  ck_assert_uint_le(sig[64], 1);
  ck_assert_int_eq(ethp2p_secp_recover(got, sig, hash), 0);
  ck_assert_mem_eq(got, pub64, 64);
  /* r || s is the same deterministic, low-S signature the plain signer makes */
  ck_assert_int_eq(ethp2p_secp_sign(plain, hash, secret), 0);
  ck_assert_mem_eq(plain, sig, 64);
  /* another hash recovers another key (or none); a bad recid never recovers */
  hash[0] ^= 1;
  if (ethp2p_secp_recover(got, sig, hash) == 0)
    ck_assert(memcmp(got, pub64, 64) != 0);
  sig[64] = 7;
  ck_assert_int_eq(ethp2p_secp_recover(got, sig, hash), ETHP2P_ESIG);
  for (int i = 0; i < 64; i++)
    ck_assert_uint_eq(got[i], 0);
  memset(secret, 0, 32);
  ck_assert_int_eq(ethp2p_secp_sign_recoverable(sig, hash, secret), ETHP2P_EKEY);
}
END_TEST

START_TEST(ecdh_is_symmetric_in_both_forms) {
  uint8_t a[32], a33[33], a64[64], b[32], b33[33], b64[64];
  uint8_t x1[32], x2[32], s1[33], s2[33], bad[64];
  key_of(a, a33, a64, 0x21);
  key_of(b, b33, b64, 0x42);
  ck_assert_int_eq(ethp2p_secp_ecdh_x(x1, b64, a), 0);
  ck_assert_int_eq(ethp2p_secp_ecdh_x(x2, a64, b), 0);
  ck_assert_mem_eq(x1, x2, 32);
  ck_assert_int_eq(ethp2p_secp_ecdh_pub33(s1, b33, a), 0);
  ck_assert_int_eq(ethp2p_secp_ecdh_pub33(s2, a33, b), 0);
  ck_assert_mem_eq(s1, s2, 33);
  ck_assert(s1[0] == 2 || s1[0] == 3);
  ck_assert_mem_eq(s1 + 1, x1, 32);
  ck_assert_int_eq(ethp2p_secp_pub64_check(a64), 0);
  memset(bad, 0x5a, sizeof bad);
  ck_assert_int_eq(ethp2p_secp_pub64_check(bad), ETHP2P_EKEY);
  ck_assert_int_eq(ethp2p_secp_ecdh_x(x1, bad, a), ETHP2P_EKEY);
  for (int i = 0; i < 32; i++)
    ck_assert_uint_eq(x1[i], 0);
  b33[0] = 0x05;
  ck_assert_int_eq(ethp2p_secp_ecdh_pub33(s1, b33, a), ETHP2P_EKEY);
}
END_TEST

int main(void) {
  Suite *s = suite_create("enr_crypto");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, sha256_abc_and_parts);
  tcase_add_test(tc, hmac_rfc4231_case2);
  tcase_add_test(tc, hmac_sha1_rfc2202_case2);
  tcase_add_test(tc, hkdf_rfc5869_case1_and_limits);
  tcase_add_test(tc, aes_ctr_sp800_38a_streaming);
  tcase_add_test(tc, aes_block_fips197);
  tcase_add_test(tc, gcm_vectors_and_tamper);
  tcase_add_test(tc, ct_equal_works);
  tcase_add_test(tc, recoverable_sign_recovers_signer);
  tcase_add_test(tc, ecdh_is_symmetric_in_both_forms);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
