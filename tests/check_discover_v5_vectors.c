/* tests/check_discover_v5_vectors.c — the discv5.1 codec against every vector of
 * ethereum/devp2p discv5/discv5-wire-test-vectors.md (testdata/discv5/), both
 * directions: we decode and open the spec's packets, and we rebuild them byte for byte. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/encoding.h"
#include "ethp2p/enr.h"
#include "ethp2p/secp.h"
#include "p2p/discover/v5wire.h"

/* --- the vector file: [section] then "key = hex" / "key += hex" ------------ */

#define MAXV 16
typedef struct vec {
  char key[MAXV][40];
  uint8_t val[MAXV][1400];
  size_t len[MAXV];
  int n;
} vec;

static void load(vec *v, const char *section) {
  const char *dir = getenv("ETHP2P_TESTDATA");
  char path[512], line[512], want[64];
  snprintf(path, sizeof path, "%s/discv5/wire-test-vectors.txt", dir ? dir : "testdata");
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  snprintf(want, sizeof want, "[%s]", section);
  memset(v, 0, sizeof *v);
  int in = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == '[') {
      in = strcmp(line, want) == 0;
      continue;
    }
    if (!in || line[0] == '#' || line[0] == 0)
      continue;
    char *eq = strstr(line, " = "), *pe = strstr(line, " += ");
    char *k = line, *hex;
    int idx = -1;
    if (pe != NULL) {
      *pe = 0;
      hex = pe + 4;
      for (int i = 0; i < v->n; i++)
        if (strcmp(v->key[i], k) == 0)
          idx = i;
      ck_assert_int_ge(idx, 0);
    } else {
      ck_assert_ptr_nonnull(eq);
      *eq = 0;
      hex = eq + 3;
      ck_assert_int_lt(v->n, MAXV);
      idx = v->n++;
      ck_assert_uint_lt(strlen(k), sizeof v->key[idx]);
      memcpy(v->key[idx], k, strlen(k) + 1);
    }
    size_t n = 0;
    ck_assert_int_eq(ethp2p_hex_decode(v->val[idx] + v->len[idx], sizeof v->val[idx] - v->len[idx],
                                       &n, hex, strlen(hex), NULL),
                     0);
    v->len[idx] += n;
  }
  fclose(f);
  ck_assert_msg(v->n > 0, "section %s missing", section);
}

static const uint8_t *get(const vec *v, const char *key, size_t *len) {
  for (int i = 0; i < v->n; i++)
    if (strcmp(v->key[i], key) == 0) {
      if (len != NULL)
        *len = v->len[i];
      return v->val[i];
    }
  ck_abort_msg("key %s missing", key);
  return NULL;
}

static uint64_t get_small(const vec *v, const char *key) {
  size_t n;
  const uint8_t *p = get(v, key, &n);
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++)
    x = x << 8 | p[i];
  return x;
}

static vec K, V; /* the keys, and the vector under test */
static uint8_t a_key[32], b_key[32], a_id[32], b_id[32], a_pub[33], b_pub[33];
static const uint8_t zero_iv[16];

static void setup(void) {
  load(&K, "keys");
  memcpy(a_key, get(&K, "node-a-key", NULL), 32);
  memcpy(b_key, get(&K, "node-b-key", NULL), 32);
  memcpy(a_id, get(&K, "node-a-id", NULL), 32);
  memcpy(b_id, get(&K, "node-b-id", NULL), 32);
  uint8_t pub64[64], id[32];
  ck_assert_int_eq(ethp2p_secp_pubkey(a_pub, pub64, a_key), 0);
  ethp2p_secp_node_id(id, pub64);
  ck_assert_mem_eq(id, a_id, 32); /* the spec's IDs belong to its keys */
  ck_assert_int_eq(ethp2p_secp_pubkey(b_pub, pub64, b_key), 0);
  ethp2p_secp_node_id(id, pub64);
  ck_assert_mem_eq(id, b_id, 32);
}

/* --- packets --------------------------------------------------------------- */

START_TEST(ping_message_packet_decodes_opens_and_rebuilds) {
  load(&V, "ping-message");
  size_t plen;
  const uint8_t *packet = get(&V, "packet", &plen);
  uint8_t scratch[ETHP2P_V5_HEADER_MAX], pt[ETHP2P_V5_MAX_PACKET], out[ETHP2P_V5_MAX_PACKET];
  ethp2p_v5_packet p;
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, packet, plen, NULL), 0);
  ck_assert_uint_eq(p.flag, ETHP2P_V5_FLAG_MESSAGE);
  ck_assert_mem_eq(p.src_id, get(&V, "src-node-id", NULL), 32);
  ck_assert_mem_eq(p.nonce, get(&V, "nonce", NULL), 12);
  size_t n;
  ck_assert_int_eq(ethp2p_v5_packet_open(pt, sizeof pt, &n, &p, get(&V, "read-key", NULL)), 0);
  ethp2p_v5_msg m;
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, pt, n, NULL), 0);
  ck_assert_uint_eq(m.type, ETHP2P_V5_PING);
  ck_assert_uint_eq(m.req_id_len, 4);
  ck_assert_mem_eq(m.req_id, get(&V, "req-id", NULL), 4);
  ck_assert_uint_eq(m.enr_seq, get_small(&V, "enr-seq"));

  /* rebuild: same iv (zero), nonce, key and message */
  uint8_t auth[32], mpt[64];
  size_t mlen, olen;
  ck_assert_int_eq(ethp2p_v5_msg_encode(mpt, sizeof mpt, &mlen, &m), 0);
  ethp2p_v5_authdata_message(auth, a_id);
  ck_assert_int_eq(ethp2p_v5_packet_encode(out, sizeof out, &olen, b_id, zero_iv,
                                           ETHP2P_V5_FLAG_MESSAGE, p.nonce, auth, 32,
                                           get(&V, "read-key", NULL), mpt, mlen),
                   0);
  ck_assert_uint_eq(olen, plen);
  ck_assert_mem_eq(out, packet, plen);
}
END_TEST

START_TEST(whoareyou_packet_decodes_and_rebuilds) {
  load(&V, "whoareyou");
  size_t plen, clen;
  const uint8_t *packet = get(&V, "packet", &plen);
  const uint8_t *challenge = get(&V, "challenge-data", &clen);
  uint8_t scratch[ETHP2P_V5_HEADER_MAX], out[ETHP2P_V5_MAX_PACKET], auth[24];
  ethp2p_v5_packet p;
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, packet, plen, NULL), 0);
  ck_assert_uint_eq(p.flag, ETHP2P_V5_FLAG_WHOAREYOU);
  ck_assert_mem_eq(p.nonce, get(&V, "request-nonce", NULL), 12);
  ck_assert_mem_eq(p.id_nonce, get(&V, "id-nonce", NULL), 16);
  ck_assert_uint_eq(p.enr_seq, get_small(&V, "enr-seq"));
  ck_assert_uint_eq(p.head_len, clen); /* the unmasked head is the challenge-data */
  ck_assert_mem_eq(p.head, challenge, clen);
  ck_assert_uint_eq(p.msg_len, 0);
  size_t olen;
  ethp2p_v5_authdata_whoareyou(auth, p.id_nonce, p.enr_seq);
  ck_assert_int_eq(ethp2p_v5_packet_encode(out, sizeof out, &olen, b_id, zero_iv,
                                           ETHP2P_V5_FLAG_WHOAREYOU, p.nonce, auth, 24, NULL, NULL,
                                           0),
                   0);
  ck_assert_uint_eq(olen, plen);
  ck_assert_mem_eq(out, packet, plen);
}
END_TEST

/* Both sides of a handshake vector: B (recipient) checks and opens it; A (initiator)
 * derives the same keys and signature from its ephemeral key and rebuilds the packet. */
static void check_handshake(const char *section) {
  load(&V, section);
  size_t plen, clen;
  const uint8_t *packet = get(&V, "packet", &plen);
  const uint8_t *challenge = get(&V, "challenge-data", &clen);
  const uint8_t *read_key = get(&V, "read-key", NULL);
  uint8_t scratch[ETHP2P_V5_HEADER_MAX], pt[ETHP2P_V5_MAX_PACKET], out[ETHP2P_V5_MAX_PACKET];
  ethp2p_v5_packet p;
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, packet, plen, NULL), 0);
  ck_assert_uint_eq(p.flag, ETHP2P_V5_FLAG_HANDSHAKE);
  ck_assert_mem_eq(p.src_id, a_id, 32);
  ck_assert_mem_eq(p.nonce, get(&V, "nonce", NULL), 12);
  ck_assert_mem_eq(p.eph_pub, get(&V, "ephemeral-pubkey", NULL), 33);
  ck_assert_int_eq(p.record != NULL, (int)get_small(&V, "has-record"));
  if (p.record != NULL) {
    ethp2p_enr rec;
    uint8_t id[32];
    ck_assert_int_eq(ethp2p_enr_decode_verify(&rec, p.record, p.record_len, NULL), 0);
    ck_assert_int_eq(ethp2p_enr_node_id(id, &rec), 0);
    ck_assert_mem_eq(id, a_id, 32);
  }
  /* recipient B */
  ck_assert_int_eq(ethp2p_v5_id_verify(p.id_sig, a_pub, challenge, clen, p.eph_pub, b_id), 0);
  ck_assert_int_eq(ethp2p_v5_id_verify(p.id_sig, b_pub, challenge, clen, p.eph_pub, b_id),
                   ETHP2P_ESIG);
  uint8_t ik[16], rk[16];
  ck_assert_int_eq(ethp2p_v5_derive_keys(ik, rk, b_key, p.eph_pub, a_id, b_id, challenge, clen), 0);
  ck_assert_mem_eq(ik, read_key, 16);
  size_t n;
  ck_assert_int_eq(ethp2p_v5_packet_open(pt, sizeof pt, &n, &p, ik), 0);
  ethp2p_v5_msg m;
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, pt, n, NULL), 0);
  ck_assert_uint_eq(m.type, ETHP2P_V5_PING);
  ck_assert_mem_eq(m.req_id, get(&V, "req-id", NULL), 4);
  ck_assert_uint_eq(m.enr_seq, get_small(&V, "enr-seq"));

  /* initiator A */
  const uint8_t *eph = get(&V, "ephemeral-key", NULL);
  uint8_t eph_pub[33], ik2[16], rk2[16], sig[64], auth[512], mpt[64];
  ck_assert_int_eq(ethp2p_secp_pubkey(eph_pub, NULL, eph), 0);
  ck_assert_mem_eq(eph_pub, p.eph_pub, 33);
  ck_assert_int_eq(ethp2p_v5_derive_keys(ik2, rk2, eph, b_pub, a_id, b_id, challenge, clen), 0);
  ck_assert_mem_eq(ik2, ik, 16);
  ck_assert_mem_eq(rk2, rk, 16);
  ck_assert_int_eq(ethp2p_v5_id_sign(sig, a_key, challenge, clen, eph_pub, b_id), 0);
  ck_assert_mem_eq(sig, p.id_sig, 64);
  size_t alen, mlen, olen;
  ck_assert_int_eq(ethp2p_v5_authdata_handshake(auth, sizeof auth, &alen, a_id, sig, eph_pub,
                                                p.record, p.record_len),
                   0);
  ck_assert_int_eq(ethp2p_v5_msg_encode(mpt, sizeof mpt, &mlen, &m), 0);
  ck_assert_int_eq(ethp2p_v5_packet_encode(out, sizeof out, &olen, b_id, zero_iv,
                                           ETHP2P_V5_FLAG_HANDSHAKE, p.nonce, auth, alen, ik2, mpt,
                                           mlen),
                   0);
  ck_assert_uint_eq(olen, plen);
  ck_assert_mem_eq(out, packet, plen);
}

START_TEST(ping_handshake_packet_both_sides) {
  check_handshake("ping-handshake");
}
END_TEST

START_TEST(ping_handshake_with_record_both_sides) {
  check_handshake("ping-handshake-enr");
}
END_TEST

/* --- cryptographic primitives ---------------------------------------------- */

START_TEST(ecdh_compressed_shared_point) {
  load(&V, "ecdh");
  uint8_t shared[33];
  ck_assert_int_eq(
      ethp2p_secp_ecdh_pub33(shared, get(&V, "public-key", NULL), get(&V, "secret-key", NULL)), 0);
  ck_assert_mem_eq(shared, get(&V, "shared-secret", NULL), 33);
}
END_TEST

START_TEST(key_derivation) {
  load(&V, "key-derivation");
  size_t clen;
  const uint8_t *challenge = get(&V, "challenge-data", &clen);
  uint8_t ik[16], rk[16];
  ck_assert_int_eq(ethp2p_v5_derive_keys(ik, rk, get(&V, "ephemeral-key", NULL),
                                         get(&V, "dest-pubkey", NULL), get(&V, "node-id-a", NULL),
                                         get(&V, "node-id-b", NULL), challenge, clen),
                   0);
  ck_assert_mem_eq(ik, get(&V, "initiator-key", NULL), 16);
  ck_assert_mem_eq(rk, get(&V, "recipient-key", NULL), 16);
  /* swapping the IDs changes the keys: they are bound to both identities */
  ck_assert_int_eq(ethp2p_v5_derive_keys(ik, rk, get(&V, "ephemeral-key", NULL),
                                         get(&V, "dest-pubkey", NULL), get(&V, "node-id-b", NULL),
                                         get(&V, "node-id-a", NULL), challenge, clen),
                   0);
  ck_assert_mem_ne(ik, get(&V, "initiator-key", NULL), 16);
}
END_TEST

START_TEST(id_nonce_signing_and_verifying) {
  load(&V, "id-nonce-signing");
  size_t clen;
  const uint8_t *challenge = get(&V, "challenge-data", &clen);
  const uint8_t *key = get(&V, "static-key", NULL);
  const uint8_t *eph = get(&V, "ephemeral-pubkey", NULL);
  const uint8_t *idb = get(&V, "node-id-b", NULL);
  uint8_t sig[64], pub[33];
  ck_assert_int_eq(ethp2p_v5_id_sign(sig, key, challenge, clen, eph, idb), 0);
  ck_assert_mem_eq(sig, get(&V, "id-signature", NULL), 64);
  ck_assert_int_eq(ethp2p_secp_pubkey(pub, NULL, key), 0);
  ck_assert_int_eq(ethp2p_v5_id_verify(sig, pub, challenge, clen, eph, idb), 0);
  uint8_t other[32];
  memcpy(other, idb, 32);
  other[31] ^= 1; /* signed for another recipient: refused */
  ck_assert_int_eq(ethp2p_v5_id_verify(sig, pub, challenge, clen, eph, other), ETHP2P_ESIG);
}
END_TEST

START_TEST(aes_gcm_message_encryption) {
  load(&V, "aes-gcm");
  size_t ptlen, adlen, ctlen, n;
  const uint8_t *pt = get(&V, "pt", &ptlen);
  const uint8_t *ad = get(&V, "ad", &adlen);
  const uint8_t *ct = get(&V, "message-ciphertext", &ctlen);
  uint8_t out[64];
  ck_assert_int_eq(ethp2p_aes_gcm_seal(out, sizeof out, &n, get(&V, "encryption-key", NULL),
                                       get(&V, "nonce", NULL), ad, adlen, pt, ptlen),
                   0);
  ck_assert_uint_eq(n, ctlen);
  ck_assert_mem_eq(out, ct, ctlen);
}
END_TEST

/* --- messages -------------------------------------------------------------- */

START_TEST(message_encodings) {
  ethp2p_v5_msg m, d;
  uint8_t out[64];
  size_t n, len;
  const uint8_t *want;

  load(&V, "msg-ping");
  want = get(&V, "rlp", &len);
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_V5_PING;
  m.req_id[0] = 1;
  m.req_id_len = 1;
  m.enr_seq = 1;
  ck_assert_int_eq(ethp2p_v5_msg_encode(out, sizeof out, &n, &m), 0);
  ck_assert_uint_eq(n, len);
  ck_assert_mem_eq(out, want, len);

  load(&V, "msg-pong");
  want = get(&V, "rlp", &len);
  m.type = ETHP2P_V5_PONG;
  m.to = ethp2p_addr_v4(127, 0, 0, 1, 5000);
  ck_assert_int_eq(ethp2p_v5_msg_encode(out, sizeof out, &n, &m), 0);
  ck_assert_uint_eq(n, len);
  ck_assert_mem_eq(out, want, len);
  ck_assert_int_eq(ethp2p_v5_msg_decode(&d, want, len, NULL), 0);
  ck_assert_uint_eq(d.to.family, 4);
  ck_assert_uint_eq(d.to.port, 5000);
  ck_assert_uint_eq(ethp2p_addr_v4_u32(&d.to), 0x7f000001u);

  load(&V, "msg-findnode");
  want = get(&V, "rlp", &len);
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_V5_FINDNODE;
  m.req_id[0] = 1;
  m.req_id_len = 1;
  m.ndist = 1;
  m.dist[0] = 256;
  ck_assert_int_eq(ethp2p_v5_msg_encode(out, sizeof out, &n, &m), 0);
  ck_assert_uint_eq(n, len);
  ck_assert_mem_eq(out, want, len);
  ck_assert_int_eq(ethp2p_v5_msg_decode(&d, want, len, NULL), 0);
  ck_assert_uint_eq(d.ndist, 1);
  ck_assert_uint_eq(d.dist[0], 256);
}
END_TEST

START_TEST(nodes_and_talk_round_trip) {
  /* the NODES record list carries records verbatim, TALKREQ its protocol and payload */
  const char *text = "enr:-HW4QBzimRxkmT18hMKaAL3IcZF1UcfTMPyi3Q1pxwZZbcZVRI8DC5infUAB_"
                     "UauARLOJtYTxaagKoGmIjzQxO2qUygBgmlkgnY0iXNlY3AyNTZrMaEDymNMrg1JrLQB2KTGtv6MV"
                     "bcNEVv0AHacwUAPMljNMTg";
  ethp2p_enr rec;
  uint8_t raw[300], out[800];
  size_t rlen, n;
  ck_assert_int_eq(ethp2p_enr_text_decode(&rec, text, strlen(text), NULL), 0);
  ck_assert_int_eq(ethp2p_enr_encode(raw, sizeof raw, &rlen, &rec), 0);
  ethp2p_v5_msg m, d;
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_V5_NODES;
  m.req_id_len = 2;
  m.req_id[0] = 0xab;
  m.req_id[1] = 0xcd;
  m.total = 2;
  m.nrecords = 2;
  m.records[0] = m.records[1] = raw;
  m.record_len[0] = m.record_len[1] = (uint16_t)rlen;
  ck_assert_int_eq(ethp2p_v5_msg_encode(out, sizeof out, &n, &m), 0);
  ck_assert_int_eq(ethp2p_v5_msg_decode(&d, out, n, NULL), 0);
  ck_assert_uint_eq(d.total, 2);
  ck_assert_uint_eq(d.nrecords, 2);
  ck_assert_uint_eq(d.record_len[1], rlen);
  ck_assert_mem_eq(d.records[1], raw, rlen);

  memset(&m, 0, sizeof m);
  m.type = ETHP2P_V5_TALKREQ;
  m.req_id_len = 1;
  m.req_id[0] = 7;
  m.proto = (const uint8_t *)"portal";
  m.proto_len = 6;
  m.payload = (const uint8_t *)"hello";
  m.payload_len = 5;
  ck_assert_int_eq(ethp2p_v5_msg_encode(out, sizeof out, &n, &m), 0);
  ck_assert_int_eq(ethp2p_v5_msg_decode(&d, out, n, NULL), 0);
  ck_assert_uint_eq(d.type, ETHP2P_V5_TALKREQ);
  ck_assert_uint_eq(d.proto_len, 6);
  ck_assert_mem_eq(d.proto, "portal", 6);
  ck_assert_uint_eq(d.payload_len, 5);
  ck_assert_mem_eq(d.payload, "hello", 5);
}
END_TEST

/* --- refusals -------------------------------------------------------------- */

START_TEST(bad_packets_are_refused_with_a_reason) {
  load(&V, "ping-message");
  size_t plen;
  const uint8_t *packet = get(&V, "packet", &plen);
  uint8_t buf[ETHP2P_V5_MAX_PACKET + 1], scratch[ETHP2P_V5_HEADER_MAX], pt[128];
  ethp2p_v5_packet p;
  ethp2p_diag diag;
  size_t n;
  /* addressed to another node: the header unmasks to garbage */
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, a_id, packet, plen, &diag), ETHP2P_EPROTO);
  ck_assert_ptr_nonnull(strstr(diag.msg, "discv5"));
  /* too short */
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, packet, 62, NULL), ETHP2P_ETRUNC);
  /* too long */
  memset(buf, 0, sizeof buf);
  memcpy(buf, packet, plen);
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, buf, sizeof buf, NULL),
                   ETHP2P_ETOOBIG);
  /* one flipped ciphertext bit: decodes, but the tag no longer authenticates */
  memcpy(buf, packet, plen);
  buf[plen - 1] ^= 0x01;
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, buf, plen, NULL), 0);
  ck_assert_int_eq(ethp2p_v5_packet_open(pt, sizeof pt, &n, &p, get(&V, "read-key", NULL)),
                   ETHP2P_ESIG);
  /* a flipped header bit changes the additional data: refused too */
  memcpy(buf, packet, plen);
  buf[30] ^= 0x01; /* inside the nonce */
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, buf, plen, NULL), 0);
  ck_assert_int_eq(ethp2p_v5_packet_open(pt, sizeof pt, &n, &p, get(&V, "read-key", NULL)),
                   ETHP2P_ESIG);
  /* authdata-size larger than the packet */
  memcpy(buf, packet, plen);
  buf[16 + 21] ^= 0x04; /* 0x0020 -> 0x0420 (masked; XOR passes through CTR) */
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, buf, plen, &diag), ETHP2P_ETOOBIG);
  buf[16 + 21] ^= 0x04;
  buf[16 + 22] ^= 0x40; /* 0x0020 -> 0x0060: past the end of this 95-byte packet */
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, buf, plen, &diag), ETHP2P_ETRUNC);
  /* version 2 */
  memcpy(buf, packet, plen);
  buf[16 + 7] ^= 0x03;
  ck_assert_int_eq(ethp2p_v5_packet_decode(&p, scratch, b_id, buf, plen, NULL), ETHP2P_EUNSUPP);
}
END_TEST

START_TEST(bad_messages_are_refused_with_a_reason) {
  ethp2p_v5_msg m;
  ethp2p_diag diag;
  static const uint8_t unknown[] = {0x07, 0xc2, 0x01, 0x01};
  static const uint8_t long_id[] = {0x01, 0xcb, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x01};
  static const uint8_t bad_ip[] = {0x02, 0xc9, 0x01, 0x01, 0x83, 127, 0, 1, 0x82, 0x13, 0x88};
  static const uint8_t big_port[] = {0x02, 0xcb, 0x01, 0x01, 0x84, 127, 0, 0, 1, 0x83, 1, 0, 0};
  static const uint8_t far_dist[] = {0x03, 0xc5, 0x01, 0xc3, 0x82, 0x01, 0x01};
  static const uint8_t missing[] = {0x01, 0xc1, 0x01};
  static const uint8_t extra[] = {0x01, 0xc3, 0x01, 0x01, 0x05}; /* ignored extra element */
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, unknown, sizeof unknown, NULL), ETHP2P_EUNSUPP);
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, long_id, sizeof long_id, &diag), ETHP2P_ESYNTAX);
  ck_assert_ptr_nonnull(strstr(diag.msg, "request-id"));
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, bad_ip, sizeof bad_ip, NULL), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, big_port, sizeof big_port, NULL), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, far_dist, sizeof far_dist, NULL), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, missing, sizeof missing, &diag), ETHP2P_ESYNTAX);
  ck_assert_ptr_nonnull(strstr(diag.msg, "enr-seq"));
  ck_assert_int_eq(ethp2p_v5_msg_decode(&m, extra, sizeof extra, NULL), 0);
  ck_assert_uint_eq(m.enr_seq, 1);
}
END_TEST

START_TEST(log_distance) {
  uint8_t a[32] = {0}, b[32] = {0};
  ck_assert_uint_eq(ethp2p_v5_log_distance(a, b), 0);
  b[31] = 1;
  ck_assert_uint_eq(ethp2p_v5_log_distance(a, b), 1);
  b[0] = 0x80;
  ck_assert_uint_eq(ethp2p_v5_log_distance(a, b), 256);
  b[0] = 0;
  b[30] = 0x10;
  ck_assert_uint_eq(ethp2p_v5_log_distance(a, b), 13);
}
END_TEST

START_TEST(request_ids_match_with_leading_zeros_stripped) {
  /* regression: @chainsafe/discv5 answered a request ID 00 a1 b2 .. as a1 b2 .., and the
   * response matched no request (about one request in 256 timed out) */
  const uint8_t ours[8] = {0x00, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07};
  ck_assert(ethp2p_v5_req_id_equal(ours, 8, ours + 1, 7));
  ck_assert(ethp2p_v5_req_id_equal(ours + 1, 7, ours, 8));
  ck_assert(ethp2p_v5_req_id_equal(ours, 8, ours, 8));
  ck_assert(!ethp2p_v5_req_id_equal(ours, 8, ours + 2, 6));
  const uint8_t other[8] = {0x00, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x08};
  ck_assert(!ethp2p_v5_req_id_equal(ours, 8, other, 8));
  const uint8_t zero[2] = {0, 0};
  ck_assert(ethp2p_v5_req_id_equal(zero, 2, zero, 0));
  ck_assert(!ethp2p_v5_req_id_equal(zero, 2, ours + 1, 7));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("discover_v5_vectors");
  TCase *tc = tcase_create("vectors");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, ping_message_packet_decodes_opens_and_rebuilds);
  tcase_add_test(tc, whoareyou_packet_decodes_and_rebuilds);
  tcase_add_test(tc, ping_handshake_packet_both_sides);
  tcase_add_test(tc, ping_handshake_with_record_both_sides);
  tcase_add_test(tc, ecdh_compressed_shared_point);
  tcase_add_test(tc, key_derivation);
  tcase_add_test(tc, id_nonce_signing_and_verifying);
  tcase_add_test(tc, aes_gcm_message_encryption);
  tcase_add_test(tc, message_encodings);
  tcase_add_test(tc, nodes_and_talk_round_trip);
  tcase_add_test(tc, bad_packets_are_refused_with_a_reason);
  tcase_add_test(tc, bad_messages_are_refused_with_a_reason);
  tcase_add_test(tc, log_distance);
  tcase_add_test(tc, request_ids_match_with_leading_zeros_stripped);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
