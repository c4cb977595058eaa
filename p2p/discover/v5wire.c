/*
 * p2p/discover/v5wire.c — the discv5.1 wire codec: masked header, authdata,
 * message encryption, key schedule, id-nonce signature and the six messages.
 * See v5wire.h for the packet layout; section names refer to
 * ethereum/devp2p discv5/discv5-wire.md.
 */
#include "p2p/discover/v5wire.h"

#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/rlp.h"
#include "ethp2p/secp.h"

static const uint8_t protocol_id[6] = {'d', 'i', 's', 'c', 'v', '5'};
static const char kdf_text[] = "discovery v5 key agreement";
static const char idsig_text[] = "discovery v5 identity proof";

static void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

static uint64_t get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

/* --- "Packet Encoding" ---------------------------------------------------- */

static int parse_authdata(ethp2p_v5_packet *pkt, ethp2p_diag *diag) {
  const uint8_t *a = pkt->authdata;
  size_t n = pkt->authdata_len;
  const size_t at = ETHP2P_V5_IV_LEN + ETHP2P_V5_STATIC_LEN;
  switch (pkt->flag) {
  case ETHP2P_V5_FLAG_MESSAGE:
    if (n != 32)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, at,
                             "message packet authdata must be 32 bytes, got %zu", n);
    memcpy(pkt->src_id, a, 32);
    if (pkt->msg_len < ETHP2P_V5_TAG_LEN)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, at + n, "message shorter than its tag");
    return 0;
  case ETHP2P_V5_FLAG_WHOAREYOU:
    if (n != ETHP2P_V5_WHOAREYOU_AUTH_LEN)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, at,
                             "WHOAREYOU authdata must be 24 bytes, got %zu", n);
    if (pkt->msg_len != 0)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, at + n, "WHOAREYOU carries %zu message bytes",
                             pkt->msg_len);
    memcpy(pkt->id_nonce, a, ETHP2P_V5_ID_NONCE_LEN);
    pkt->enr_seq = get_be64(a + ETHP2P_V5_ID_NONCE_LEN);
    return 0;
  case ETHP2P_V5_FLAG_HANDSHAKE: {
    if (n < 34)
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, at, "handshake authdata of %zu bytes", n);
    memcpy(pkt->src_id, a, 32);
    uint8_t sig_size = a[32], key_size = a[33];
    if (sig_size != 64 || key_size != 33)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, at + 32,
                             "handshake sig-size %u / eph-key-size %u, want 64 / 33", sig_size,
                             key_size);
    if (n < 34u + sig_size + key_size)
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, at + 34, "handshake authdata truncated");
    pkt->id_sig = a + 34;
    pkt->eph_pub = a + 34 + sig_size;
    size_t rest = n - 34 - sig_size - key_size;
    if (rest > 0) {
      pkt->record = a + 34 + sig_size + key_size;
      pkt->record_len = rest;
    }
    if (pkt->msg_len < ETHP2P_V5_TAG_LEN)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, at + n, "message shorter than its tag");
    return 0;
  }
  default:
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, ETHP2P_V5_IV_LEN + 8, "unknown flag %u",
                           pkt->flag);
  }
}

/* AES-CTR keystream over a block encryptor: out = in XOR AES(iv + k) for blocks k from
 * `block` on (the header is unmasked in two parts: static header, then authdata). */
static int mask_xor(ethp2p_aes_block *mask, const uint8_t iv[16], size_t offset, uint8_t *out,
                    const uint8_t *in, size_t len) {
  uint8_t ctr[16], ks[16];
  while (len > 0) {
    uint64_t blk = offset / 16;
    size_t at = offset % 16, take = 16 - at < len ? 16 - at : len;
    memcpy(ctr, iv, 16);
    for (int i = 15; i >= 0 && blk > 0; i--) { /* ctr = iv + blk, big-endian, 128 bits */
      unsigned sum = ctr[i] + (unsigned)(blk & 0xff);
      ctr[i] = (uint8_t)sum;
      blk = (blk >> 8) + (sum >> 8);
    }
    if (ethp2p_aes_block_encrypt(mask, ks, ctr) != 0)
      return ETHP2P_EIO;
    for (size_t i = 0; i < take; i++)
      out[i] = in[i] ^ ks[at + i];
    out += take;
    in += take;
    offset += take;
    len -= take;
  }
  return 0;
}

bool ethp2p_v5_req_id_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  while (alen > 0 && a[0] == 0) {
    a++;
    alen--;
  }
  while (blen > 0 && b[0] == 0) {
    b++;
    blen--;
  }
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

int ethp2p_v5_packet_decode(ethp2p_v5_packet *pkt, uint8_t scratch[ETHP2P_V5_HEADER_MAX],
                            const uint8_t local_id[32], const uint8_t *in, size_t len,
                            ethp2p_diag *diag) {
  ethp2p_aes_block *mask = NULL;
  memset(pkt, 0, sizeof *pkt);
  if (ethp2p_aes_block_new(&mask, local_id, 16) != 0)
    return ETHP2P_ENOMEM;
  int rc = ethp2p_v5_packet_decode_masked(pkt, scratch, mask, in, len, diag);
  ethp2p_aes_block_free(mask);
  return rc;
}

int ethp2p_v5_packet_decode_masked(ethp2p_v5_packet *pkt, uint8_t scratch[ETHP2P_V5_HEADER_MAX],
                                   ethp2p_aes_block *mask, const uint8_t *in, size_t len,
                                   ethp2p_diag *diag) {
  int rc;
  memset(pkt, 0, sizeof *pkt);
  if (in == NULL || len < ETHP2P_V5_MIN_PACKET)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "packet of %zu bytes, minimum is %d", len,
                           ETHP2P_V5_MIN_PACKET);
  if (len > ETHP2P_V5_MAX_PACKET)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, ETHP2P_V5_MAX_PACKET,
                           "packet of %zu bytes, maximum is %d", len, ETHP2P_V5_MAX_PACKET);
  const uint8_t *iv = in;
  memcpy(scratch, iv, ETHP2P_V5_IV_LEN);
  rc = mask_xor(mask, iv, 0, scratch + ETHP2P_V5_IV_LEN, in + ETHP2P_V5_IV_LEN,
                ETHP2P_V5_STATIC_LEN);
  if (rc != 0)
    goto out;
  const uint8_t *sh = scratch + ETHP2P_V5_IV_LEN;
  if (memcmp(sh, protocol_id, sizeof protocol_id) != 0) {
    rc = ethp2p_diag_set(diag, ETHP2P_EPROTO, ETHP2P_V5_IV_LEN,
                         "protocol-id is not \"discv5\" (not a v5 packet for this node)");
    goto out;
  }
  uint16_t version = (uint16_t)(sh[6] << 8 | sh[7]);
  if (version != 1) {
    rc = ethp2p_diag_set(diag, ETHP2P_EUNSUPP, ETHP2P_V5_IV_LEN + 6, "version %u, want 1", version);
    goto out;
  }
  pkt->flag = sh[8];
  memcpy(pkt->nonce, sh + 9, ETHP2P_V5_NONCE_LEN);
  size_t alen = (size_t)sh[21] << 8 | sh[22];
  size_t hlen = ETHP2P_V5_IV_LEN + ETHP2P_V5_STATIC_LEN + alen;
  if (hlen > ETHP2P_V5_HEADER_MAX) {
    rc = ethp2p_diag_set(diag, ETHP2P_ETOOBIG, ETHP2P_V5_IV_LEN + 21,
                         "authdata-size %zu is larger than any valid packet's", alen);
    goto out;
  }
  if (hlen > len) {
    rc = ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "authdata-size %zu runs past the packet", alen);
    goto out;
  }
  rc = mask_xor(mask, iv, ETHP2P_V5_STATIC_LEN, scratch + ETHP2P_V5_IV_LEN + ETHP2P_V5_STATIC_LEN,
                in + ETHP2P_V5_IV_LEN + ETHP2P_V5_STATIC_LEN, alen);
  if (rc != 0)
    goto out;
  pkt->head = scratch;
  pkt->head_len = hlen;
  pkt->authdata = scratch + ETHP2P_V5_IV_LEN + ETHP2P_V5_STATIC_LEN;
  pkt->authdata_len = alen;
  pkt->msg = in + hlen;
  pkt->msg_len = len - hlen;
  rc = parse_authdata(pkt, diag);
out:
  if (rc != 0)
    memset(pkt, 0, sizeof *pkt);
  return rc;
}

int ethp2p_v5_packet_encode(uint8_t *out, size_t cap, size_t *out_len, const uint8_t dest_id[32],
                            const uint8_t iv[ETHP2P_V5_IV_LEN], uint8_t flag,
                            const uint8_t nonce[ETHP2P_V5_NONCE_LEN], const uint8_t *authdata,
                            size_t authdata_len, const uint8_t *key, const uint8_t *pt,
                            size_t pt_len) {
  *out_len = 0;
  bool random_msg = flag != ETHP2P_V5_FLAG_WHOAREYOU && key == NULL;
  if (authdata_len > 0xffff || (authdata_len > 0 && authdata == NULL) ||
      (random_msg && (pt == NULL || pt_len < ETHP2P_V5_TAG_LEN)))
    return ETHP2P_EINVAL;
  size_t hlen = ETHP2P_V5_IV_LEN + ETHP2P_V5_STATIC_LEN + authdata_len;
  size_t mlen = flag == ETHP2P_V5_FLAG_WHOAREYOU ? 0
                : random_msg                     ? pt_len
                                                 : pt_len + ETHP2P_V5_TAG_LEN;
  if (hlen + mlen > ETHP2P_V5_MAX_PACKET)
    return ETHP2P_ETOOBIG;
  if (hlen + mlen > cap)
    return ETHP2P_ESPACE;
  memcpy(out, iv, ETHP2P_V5_IV_LEN);
  uint8_t *sh = out + ETHP2P_V5_IV_LEN;
  memcpy(sh, protocol_id, 6);
  sh[6] = 0;
  sh[7] = 1;
  sh[8] = flag;
  memcpy(sh + 9, nonce, ETHP2P_V5_NONCE_LEN);
  sh[21] = (uint8_t)(authdata_len >> 8);
  sh[22] = (uint8_t)authdata_len;
  if (authdata_len > 0)
    memcpy(sh + ETHP2P_V5_STATIC_LEN, authdata, authdata_len);
  int rc;
  if (random_msg) {
    memcpy(out + hlen, pt, pt_len);
  } else if (flag != ETHP2P_V5_FLAG_WHOAREYOU) {
    size_t sealed = 0;
    rc = ethp2p_aes_gcm_seal(out + hlen, cap - hlen, &sealed, key, nonce, out, hlen, pt, pt_len);
    if (rc != 0)
      return rc;
  }
  rc = ethp2p_aes_ctr_once(sh, sh, hlen - ETHP2P_V5_IV_LEN, dest_id, 16, iv);
  if (rc != 0)
    return rc;
  *out_len = hlen + mlen;
  return 0;
}

int ethp2p_v5_packet_open(uint8_t *out, size_t cap, size_t *out_len, const ethp2p_v5_packet *pkt,
                          const uint8_t key[ETHP2P_V5_KEY_LEN]) {
  *out_len = 0;
  if (pkt->msg_len < ETHP2P_V5_TAG_LEN)
    return ETHP2P_ESIG;
  return ethp2p_aes_gcm_open(out, cap, out_len, key, pkt->nonce, pkt->head, pkt->head_len, pkt->msg,
                             pkt->msg_len);
}

size_t ethp2p_v5_authdata_message(uint8_t out[32], const uint8_t src_id[32]) {
  memcpy(out, src_id, 32);
  return 32;
}

size_t ethp2p_v5_authdata_whoareyou(uint8_t out[24], const uint8_t id_nonce[16], uint64_t enr_seq) {
  memcpy(out, id_nonce, 16);
  put_be64(out + 16, enr_seq);
  return 24;
}

int ethp2p_v5_authdata_handshake(uint8_t *out, size_t cap, size_t *out_len,
                                 const uint8_t src_id[32], const uint8_t sig[64],
                                 const uint8_t eph_pub[33], const uint8_t *record,
                                 size_t record_len) {
  size_t n = 34 + 64 + 33 + (record != NULL ? record_len : 0);
  *out_len = 0;
  if (n > cap)
    return ETHP2P_ESPACE;
  memcpy(out, src_id, 32);
  out[32] = 64;
  out[33] = 33;
  memcpy(out + 34, sig, 64);
  memcpy(out + 98, eph_pub, 33);
  if (record != NULL && record_len > 0)
    memcpy(out + 131, record, record_len);
  *out_len = n;
  return 0;
}

/* --- "Handshake" key schedule and id-nonce signature ----------------------- */

int ethp2p_v5_derive_keys(uint8_t initiator_key[16], uint8_t recipient_key[16],
                          const uint8_t secret[32], const uint8_t pub[33], const uint8_t id_a[32],
                          const uint8_t id_b[32], const uint8_t *challenge, size_t challenge_len) {
  uint8_t shared[33], info[sizeof kdf_text - 1 + 64], kd[32];
  int rc = ethp2p_secp_ecdh_pub33(shared, pub, secret);
  if (rc != 0)
    goto fail;
  memcpy(info, kdf_text, sizeof kdf_text - 1);
  memcpy(info + sizeof kdf_text - 1, id_a, 32);
  memcpy(info + sizeof kdf_text - 1 + 32, id_b, 32);
  rc = ethp2p_hkdf_sha256(kd, sizeof kd, challenge, challenge_len, shared, sizeof shared, info,
                          sizeof info);
  if (rc != 0)
    goto fail;
  memcpy(initiator_key, kd, 16);
  memcpy(recipient_key, kd + 16, 16);
  ethp2p_secp_wipe(kd, sizeof kd);
  ethp2p_secp_wipe(shared, sizeof shared);
  return 0;
fail:
  memset(initiator_key, 0, 16);
  memset(recipient_key, 0, 16);
  ethp2p_secp_wipe(shared, sizeof shared);
  return rc;
}

static int idsig_hash(uint8_t hash[32], const uint8_t *challenge, size_t challenge_len,
                      const uint8_t eph_pub[33], const uint8_t id_b[32]) {
  const void *parts[4] = {idsig_text, challenge, eph_pub, id_b};
  const size_t lens[4] = {sizeof idsig_text - 1, challenge_len, 33, 32};
  return ethp2p_sha256_parts(hash, 4, parts, lens);
}

int ethp2p_v5_id_sign(uint8_t sig[64], const uint8_t static_secret[32], const uint8_t *challenge,
                      size_t challenge_len, const uint8_t eph_pub[33], const uint8_t id_b[32]) {
  uint8_t h[32];
  int rc = idsig_hash(h, challenge, challenge_len, eph_pub, id_b);
  if (rc != 0) {
    memset(sig, 0, 64);
    return rc;
  }
  return ethp2p_secp_sign(sig, h, static_secret);
}

int ethp2p_v5_id_verify(const uint8_t sig[64], const uint8_t pub[33], const uint8_t *challenge,
                        size_t challenge_len, const uint8_t eph_pub[33], const uint8_t id_b[32]) {
  uint8_t h[32];
  int rc = idsig_hash(h, challenge, challenge_len, eph_pub, id_b);
  if (rc != 0)
    return rc;
  return ethp2p_secp_verify(sig, h, pub);
}

/* --- "Protocol Messages" --------------------------------------------------- */

static int next_item(ethp2p_rlp_iter *it, ethp2p_rlp_item *item, const char *what,
                     ethp2p_diag *diag) {
  int rc = ethp2p_rlp_iter_next(it, item, diag);
  if (rc == 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, it->offset, "missing %s", what);
  return rc < 0 ? rc : 0;
}

static int read_uint(uint64_t *v, ethp2p_rlp_iter *it, const char *what, ethp2p_diag *diag) {
  ethp2p_rlp_item item;
  int rc = next_item(it, &item, what, diag);
  if (rc != 0)
    return rc;
  rc = ethp2p_rlp_uint64(v, &item, diag);
  if (rc != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, item.offset, "%s is not a canonical integer",
                           what);
  return 0;
}

static int read_bytes(ethp2p_rlp_item *item, ethp2p_rlp_iter *it, const char *what,
                      ethp2p_diag *diag) {
  int rc = next_item(it, item, what, diag);
  if (rc != 0)
    return rc;
  if (item->is_list)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, item->offset, "%s is a list", what);
  return 0;
}

static int decode_body(ethp2p_v5_msg *m, ethp2p_rlp_iter *it, ethp2p_diag *diag) {
  ethp2p_rlp_item item;
  int rc;
  switch (m->type) {
  case ETHP2P_V5_PING:
    return read_uint(&m->enr_seq, it, "enr-seq", diag);
  case ETHP2P_V5_PONG: {
    uint64_t port;
    if ((rc = read_uint(&m->enr_seq, it, "enr-seq", diag)) != 0 ||
        (rc = read_bytes(&item, it, "recipient-ip", diag)) != 0)
      return rc;
    if (item.payload_len != 4 && item.payload_len != 16)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, item.offset,
                             "recipient-ip of %zu bytes, want 4 or 16", item.payload_len);
    m->to.family = item.payload_len == 4 ? 4 : 6;
    memcpy(m->to.ip, item.payload, item.payload_len);
    if ((rc = read_uint(&port, it, "recipient-port", diag)) != 0)
      return rc;
    if (port > 65535)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "recipient-port %llu out of range",
                             (unsigned long long)port);
    m->to.port = (uint16_t)port;
    return 0;
  }
  case ETHP2P_V5_FINDNODE: {
    if ((rc = next_item(it, &item, "distances", diag)) != 0)
      return rc;
    if (!item.is_list)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, item.offset, "distances is not a list");
    ethp2p_rlp_iter dit;
    ethp2p_rlp_item d;
    ethp2p_rlp_iter_init(&dit, &item);
    while ((rc = ethp2p_rlp_iter_next(&dit, &d, diag)) > 0) {
      uint64_t v;
      if (ethp2p_rlp_uint64(&v, &d, NULL) != 0 || v > 256)
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, d.offset, "distance is not in 0..256");
      if (m->ndist >= ETHP2P_V5_MAX_DISTANCES)
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, d.offset, "more than %d distances",
                               ETHP2P_V5_MAX_DISTANCES);
      m->dist[m->ndist++] = (uint16_t)v;
    }
    return rc;
  }
  case ETHP2P_V5_NODES: {
    if ((rc = read_uint(&m->total, it, "total", diag)) != 0 ||
        (rc = next_item(it, &item, "records", diag)) != 0)
      return rc;
    if (!item.is_list)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, item.offset, "records is not a list");
    ethp2p_rlp_iter rit;
    ethp2p_rlp_item r;
    ethp2p_rlp_iter_init(&rit, &item);
    while ((rc = ethp2p_rlp_iter_next(&rit, &r, diag)) > 0) {
      if (!r.is_list || r.raw_len > ETHP2P_ENR_MAX_SIZE)
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.offset,
                               "record is not a list of at most 300 bytes");
      if (m->nrecords >= ETHP2P_V5_MAX_RECORDS)
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.offset, "more than %d records",
                               ETHP2P_V5_MAX_RECORDS);
      m->records[m->nrecords] = r.raw;
      m->record_len[m->nrecords] = (uint16_t)r.raw_len;
      m->nrecords++;
    }
    return rc;
  }
  case ETHP2P_V5_TALKREQ:
    if ((rc = read_bytes(&item, it, "protocol", diag)) != 0)
      return rc;
    m->proto = item.payload;
    m->proto_len = item.payload_len;
    /* the request bytes follow */
    __attribute__((fallthrough));
  case ETHP2P_V5_TALKRESP:
    if ((rc = read_bytes(&item, it, m->type == ETHP2P_V5_TALKREQ ? "request" : "response", diag)) !=
        0)
      return rc;
    m->payload = item.payload;
    m->payload_len = item.payload_len;
    return 0;
  default:
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 0, "unknown message type 0x%02x", m->type);
  }
}

int ethp2p_v5_msg_decode(ethp2p_v5_msg *m, const uint8_t *in, size_t len, ethp2p_diag *diag) {
  memset(m, 0, sizeof *m);
  if (in == NULL || len < 1)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, 0, "empty message");
  m->type = in[0];
  if (m->type < ETHP2P_V5_PING || m->type > ETHP2P_V5_TALKRESP) {
    int t = m->type;
    memset(m, 0, sizeof *m);
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 0, "unknown message type 0x%02x", t);
  }
  ethp2p_rlp_item top, item;
  ethp2p_rlp_iter it;
  int rc = ethp2p_rlp_decode(&top, in + 1, len - 1, diag);
  if (rc != 0)
    goto fail;
  if (!top.is_list) {
    rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 1, "message data is not a list");
    goto fail;
  }
  ethp2p_rlp_iter_init(&it, &top);
  if ((rc = read_bytes(&item, &it, "request-id", diag)) != 0)
    goto fail;
  if (item.payload_len > ETHP2P_V5_REQID_MAX) {
    rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, item.offset + 1,
                         "request-id of %zu bytes, maximum is 8", item.payload_len);
    goto fail;
  }
  memcpy(m->req_id, item.payload, item.payload_len);
  m->req_id_len = (uint8_t)item.payload_len;
  rc = decode_body(m, &it, diag);
  if (rc != 0)
    goto fail;
  return 0; /* elements after the known ones are ignored */
fail : {
  int t = m->type;
  memset(m, 0, sizeof *m);
  m->type = (uint8_t)t;
  return rc;
}
}

int ethp2p_v5_msg_encode(uint8_t *out, size_t cap, size_t *out_len, const ethp2p_v5_msg *m) {
  ethp2p_rlp_enc e;
  size_t n = 0;
  *out_len = 0;
  if (cap < 1 || m->req_id_len > ETHP2P_V5_REQID_MAX)
    return cap < 1 ? ETHP2P_ESPACE : ETHP2P_EINVAL;
  out[0] = m->type;
  ethp2p_rlp_enc_init(&e, out + 1, cap - 1);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_bytes(&e, m->req_id, m->req_id_len);
  switch (m->type) {
  case ETHP2P_V5_PING:
    ethp2p_rlp_enc_uint64(&e, m->enr_seq);
    break;
  case ETHP2P_V5_PONG:
    if (m->to.family != 4 && m->to.family != 6)
      return ETHP2P_EINVAL;
    ethp2p_rlp_enc_uint64(&e, m->enr_seq);
    ethp2p_rlp_enc_bytes(&e, m->to.ip, m->to.family == 4 ? 4 : 16);
    ethp2p_rlp_enc_uint64(&e, m->to.port);
    break;
  case ETHP2P_V5_FINDNODE:
    if (m->ndist > ETHP2P_V5_MAX_DISTANCES)
      return ETHP2P_EINVAL;
    ethp2p_rlp_enc_list_begin(&e);
    for (size_t i = 0; i < m->ndist; i++)
      ethp2p_rlp_enc_uint64(&e, m->dist[i]);
    ethp2p_rlp_enc_list_end(&e);
    break;
  case ETHP2P_V5_NODES:
    if (m->nrecords > ETHP2P_V5_MAX_RECORDS)
      return ETHP2P_EINVAL;
    ethp2p_rlp_enc_uint64(&e, m->total);
    ethp2p_rlp_enc_list_begin(&e);
    for (size_t i = 0; i < m->nrecords; i++)
      ethp2p_rlp_enc_raw(&e, m->records[i], m->record_len[i]);
    ethp2p_rlp_enc_list_end(&e);
    break;
  case ETHP2P_V5_TALKREQ:
    ethp2p_rlp_enc_bytes(&e, m->proto, m->proto_len);
    ethp2p_rlp_enc_bytes(&e, m->payload, m->payload_len);
    break;
  case ETHP2P_V5_TALKRESP:
    ethp2p_rlp_enc_bytes(&e, m->payload, m->payload_len);
    break;
  default:
    return ETHP2P_EINVAL;
  }
  ethp2p_rlp_enc_list_end(&e);
  int rc = ethp2p_rlp_enc_finish(&e, &n);
  if (rc != 0)
    return rc;
  *out_len = n + 1;
  return 0;
}

unsigned ethp2p_v5_log_distance(const uint8_t a[32], const uint8_t b[32]) {
  for (int i = 0; i < 32; i++) {
    uint8_t x = a[i] ^ b[i];
    if (x != 0) {
      unsigned bits = 0;
      while (x != 0) {
        bits++;
        x >>= 1;
      }
      return (unsigned)(31 - i) * 8 + bits;
    }
  }
  return 0;
}
