/*
 * p2p/discover/v4_codec.c — discv4 packets (devp2p discv4.md "Wire Protocol",
 * EIP-8 "Changes to the RLPx Discovery Protocol", EIP-868 ENRRequest/ENRResponse).
 *
 *   0        32                 97   98
 *   +--------+------------------+----+-----------------------------+
 *   |  hash  | signature (r s v)|type| packet-data (RLP list) ...  |
 *   +--------+------------------+----+-----------------------------+
 *   hash = keccak256(pkt[32..]), signature over keccak256(pkt[97..]).
 */
#include <string.h>

#include "ethp2p/discv4.h"
#include "ethp2p/keccak.h"
#include "ethp2p/rlp.h"
#include "ethp2p/secp.h"

#define SIG_OFF 32
#define TYPE_OFF 97
#define DATA_OFF 98

const char *ethp2p_discv4_type_name(unsigned type) {
  switch (type) {
  case ETHP2P_DISCV4_PING:
    return "ping";
  case ETHP2P_DISCV4_PONG:
    return "pong";
  case ETHP2P_DISCV4_FINDNODE:
    return "findnode";
  case ETHP2P_DISCV4_NEIGHBORS:
    return "neighbors";
  case ETHP2P_DISCV4_ENRREQUEST:
    return "enrrequest";
  case ETHP2P_DISCV4_ENRRESPONSE:
    return "enrresponse";
  default:
    return "unknown";
  }
}

bool ethp2p_discv4_expired(uint64_t expiration, uint64_t now_s) {
  return expiration < now_s;
}

/* ---------------------------------------------------------------------------
 * Decoding helpers.  `what` names the field in diagnostics; offsets are
 * offsets in the whole packet.
 * ------------------------------------------------------------------------- */

static int next_elem(ethp2p_rlp_iter *it, ethp2p_rlp_item *out, const char *what,
                     ethp2p_diag *diag) {
  int rc = ethp2p_rlp_iter_next(it, out, diag);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, it->offset, "packet data ends before %s", what);
  return 0;
}

static int get_uint(const ethp2p_rlp_item *item, uint64_t *v, const char *what, ethp2p_diag *diag) {
  int rc = ethp2p_rlp_uint64(v, item, NULL);
  if (rc != 0)
    return ethp2p_diag_set(diag, rc, item->offset, "%s is not an unsigned integer of <= 8 bytes",
                           what);
  return 0;
}

static int get_port(const ethp2p_rlp_item *item, uint16_t *port, const char *what,
                    ethp2p_diag *diag) {
  uint64_t v;
  int rc = get_uint(item, &v, what, diag);
  if (rc != 0)
    return rc;
  if (v > 65535)
    return ethp2p_diag_set(diag, ETHP2P_ERANGE, item->offset, "%s %llu is above 65535", what,
                           (unsigned long long)v);
  *port = (uint16_t)v;
  return 0;
}

static int get_fixed(const ethp2p_rlp_item *item, uint8_t *out, size_t n, const char *what,
                     ethp2p_diag *diag) {
  if (item->is_list || item->payload_len != n)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, item->offset, "%s must be a %zu-byte string", what,
                           n);
  memcpy(out, item->payload, n);
  return 0;
}

/* endpoint = [ip, udp-port, tcp-port, ...]; an IP of a length other than 4 or
 * 16 leaves family 0 (go-ethereum keeps any bytes; we cannot use them). */
static int get_endpoint(const ethp2p_rlp_item *item, ethp2p_discv4_endpoint *ep, const char *what,
                        ethp2p_diag *diag) {
  ethp2p_rlp_iter it;
  ethp2p_rlp_item ip, udp, tcp;
  int rc;

  memset(ep, 0, sizeof *ep);
  if (!item->is_list)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, item->offset, "%s endpoint must be a list", what);
  ethp2p_rlp_iter_init(&it, item);
  if ((rc = next_elem(&it, &ip, "endpoint ip", diag)) != 0 ||
      (rc = next_elem(&it, &udp, "endpoint udp port", diag)) != 0 ||
      (rc = next_elem(&it, &tcp, "endpoint tcp port", diag)) != 0)
    return rc;
  if (ip.is_list)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, ip.offset, "%s ip must be a string", what);
  if ((rc = get_port(&udp, &ep->addr.port, "udp port", diag)) != 0 ||
      (rc = get_port(&tcp, &ep->tcp, "tcp port", diag)) != 0)
    return rc;
  if (ip.payload_len == 4 || ip.payload_len == 16) {
    ep->addr.family = ip.payload_len == 4 ? 4 : 6;
    memcpy(ep->addr.ip, ip.payload, ip.payload_len);
  }
  return 0;
}

/* An optional enr-seq slot: taken only when it is a canonical integer. */
static void get_opt_seq(ethp2p_rlp_iter *it, bool *has, uint64_t *seq) {
  ethp2p_rlp_item item;
  *has = false;
  *seq = 0;
  if (ethp2p_rlp_iter_next(it, &item, NULL) == 1 && ethp2p_rlp_uint64(seq, &item, NULL) == 0)
    *has = true;
  else
    *seq = 0;
}

static int decode_ping(ethp2p_discv4_packet *p, ethp2p_rlp_iter *it, ethp2p_diag *diag) {
  ethp2p_rlp_item v, from, to, exp;
  int rc;
  if ((rc = next_elem(it, &v, "version", diag)) != 0 ||
      (rc = next_elem(it, &from, "from", diag)) != 0 ||
      (rc = next_elem(it, &to, "to", diag)) != 0 ||
      (rc = next_elem(it, &exp, "expiration", diag)) != 0)
    return rc;
  /* EIP-8: the version is not validated (any integer; a non-integer reads as 0) */
  if (ethp2p_rlp_uint64(&p->u.ping.version, &v, NULL) != 0)
    p->u.ping.version = 0;
  if ((rc = get_endpoint(&from, &p->u.ping.from, "from", diag)) != 0 ||
      (rc = get_endpoint(&to, &p->u.ping.to, "to", diag)) != 0 ||
      (rc = get_uint(&exp, &p->expiration, "expiration", diag)) != 0)
    return rc;
  get_opt_seq(it, &p->u.ping.has_seq, &p->u.ping.enr_seq);
  return 0;
}

static int decode_pong(ethp2p_discv4_packet *p, ethp2p_rlp_iter *it, ethp2p_diag *diag) {
  ethp2p_rlp_item to, tok, exp;
  int rc;
  if ((rc = next_elem(it, &to, "to", diag)) != 0 ||
      (rc = next_elem(it, &tok, "ping hash", diag)) != 0 ||
      (rc = next_elem(it, &exp, "expiration", diag)) != 0)
    return rc;
  if ((rc = get_endpoint(&to, &p->u.pong.to, "to", diag)) != 0 ||
      (rc = get_fixed(&tok, p->u.pong.ping_hash, 32, "ping hash", diag)) != 0 ||
      (rc = get_uint(&exp, &p->expiration, "expiration", diag)) != 0)
    return rc;
  get_opt_seq(it, &p->u.pong.has_seq, &p->u.pong.enr_seq);
  return 0;
}

static int decode_findnode(ethp2p_discv4_packet *p, ethp2p_rlp_iter *it, ethp2p_diag *diag) {
  ethp2p_rlp_item target, exp;
  int rc;
  if ((rc = next_elem(it, &target, "target", diag)) != 0 ||
      (rc = next_elem(it, &exp, "expiration", diag)) != 0)
    return rc;
  if ((rc = get_fixed(&target, p->u.findnode.target, 64, "target", diag)) != 0)
    return rc;
  return get_uint(&exp, &p->expiration, "expiration", diag);
}

/* node = [ip, udp, tcp, key, ...]; returns 0 when usable, else the node is skipped. */
static int decode_rnode(const ethp2p_rlp_item *item, ethp2p_discv4_rnode *n) {
  ethp2p_rlp_iter it;
  ethp2p_rlp_item ip, udp, tcp, key;
  memset(n, 0, sizeof *n);
  if (!item->is_list || ethp2p_rlp_iter_init(&it, item) != 0)
    return ETHP2P_ETYPE;
  if (next_elem(&it, &ip, "ip", NULL) != 0 || next_elem(&it, &udp, "udp", NULL) != 0 ||
      next_elem(&it, &tcp, "tcp", NULL) != 0 || next_elem(&it, &key, "key", NULL) != 0)
    return ETHP2P_ETRUNC;
  if (ip.is_list || (ip.payload_len != 4 && ip.payload_len != 16))
    return ETHP2P_ETYPE;
  if (get_port(&udp, &n->ep.addr.port, "udp", NULL) != 0 ||
      get_port(&tcp, &n->ep.tcp, "tcp", NULL) != 0 || get_fixed(&key, n->pub64, 64, "key", NULL))
    return ETHP2P_ETYPE;
  n->ep.addr.family = ip.payload_len == 4 ? 4 : 6;
  memcpy(n->ep.addr.ip, ip.payload, ip.payload_len);
  return 0;
}

static int decode_neighbors(ethp2p_discv4_packet *p, ethp2p_rlp_iter *it, ethp2p_diag *diag) {
  ethp2p_rlp_item nodes, exp, node;
  ethp2p_rlp_iter nit;
  int rc;
  if ((rc = next_elem(it, &nodes, "nodes", diag)) != 0 ||
      (rc = next_elem(it, &exp, "expiration", diag)) != 0)
    return rc;
  if (!nodes.is_list)
    return ethp2p_diag_set(diag, ETHP2P_ETYPE, nodes.offset, "nodes must be a list");
  ethp2p_rlp_iter_init(&nit, &nodes);
  while ((rc = ethp2p_rlp_iter_next(&nit, &node, diag)) == 1) {
    if (p->u.neighbors.n == ETHP2P_DISCV4_MAX_NEIGHBORS)
      return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, node.offset, "more than %d nodes",
                             ETHP2P_DISCV4_MAX_NEIGHBORS);
    if (decode_rnode(&node, &p->u.neighbors.nodes[p->u.neighbors.n]) == 0)
      p->u.neighbors.n++;
    else
      p->u.neighbors.skipped++;
  }
  if (rc < 0)
    return rc;
  return get_uint(&exp, &p->expiration, "expiration", diag);
}

static int decode_enrresponse(ethp2p_discv4_packet *p, ethp2p_rlp_iter *it, ethp2p_diag *diag) {
  ethp2p_rlp_item tok, rec;
  int rc;
  if ((rc = next_elem(it, &tok, "request hash", diag)) != 0 ||
      (rc = next_elem(it, &rec, "record", diag)) != 0)
    return rc;
  if ((rc = get_fixed(&tok, p->u.enrresponse.request_hash, 32, "request hash", diag)) != 0)
    return rc;
  rc = ethp2p_enr_decode(&p->u.enrresponse.record, rec.raw, rec.raw_len, NULL);
  if (rc != 0)
    return ethp2p_diag_set(diag, rc, rec.offset, "record does not decode: %s", ethp2p_strerror(rc));
  return 0;
}

int ethp2p_discv4_decode(ethp2p_discv4_packet *out, uint8_t sender_pub64[64], uint8_t hash[32],
                         const uint8_t *pkt, size_t len, ethp2p_diag *diag) {
  uint8_t h[32], pub[64];
  ethp2p_rlp_item body;
  ethp2p_rlp_iter it;
  int rc;

  if (out != NULL)
    memset(out, 0, sizeof *out);
  if (sender_pub64 != NULL)
    memset(sender_pub64, 0, 64);
  if (hash != NULL)
    memset(hash, 0, 32);
  if (out == NULL || (pkt == NULL && len > 0))
    return ETHP2P_EINVAL;
  if (len < DATA_OFF + 1)
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "packet of %zu bytes is shorter than %d", len,
                           DATA_OFF + 1);
  if (len > ETHP2P_DISCV4_MAX_PACKET)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, ETHP2P_DISCV4_MAX_PACKET,
                           "packet of %zu bytes is longer than %d", len, ETHP2P_DISCV4_MAX_PACKET);
  ethp2p_keccak256(h, pkt + SIG_OFF, len - SIG_OFF);
  if (memcmp(h, pkt, 32) != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESIG, 0, "packet hash does not match");
  ethp2p_keccak256(h, pkt + TYPE_OFF, len - TYPE_OFF);
  if (ethp2p_secp_recover(pub, pkt + SIG_OFF, h) != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESIG, SIG_OFF, "no public key recovers from the signature");
  out->type = pkt[TYPE_OFF];
  if (out->type < ETHP2P_DISCV4_PING || out->type > ETHP2P_DISCV4_ENRRESPONSE) {
    unsigned t = out->type;
    memset(out, 0, sizeof *out);
    return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, TYPE_OFF, "unknown packet type 0x%02x", t);
  }
  /* EIP-8: data after the first RLP value is ignored */
  rc = ethp2p_rlp_decode_prefix(&body, NULL, pkt + DATA_OFF, len - DATA_OFF, DATA_OFF, diag);
  if (rc != 0)
    goto out_fail;
  if (!body.is_list) {
    rc = ethp2p_diag_set(diag, ETHP2P_ETYPE, DATA_OFF, "packet data must be an RLP list");
    goto out_fail;
  }
  ethp2p_rlp_iter_init(&it, &body);
  switch (out->type) {
  case ETHP2P_DISCV4_PING:
    rc = decode_ping(out, &it, diag);
    break;
  case ETHP2P_DISCV4_PONG:
    rc = decode_pong(out, &it, diag);
    break;
  case ETHP2P_DISCV4_FINDNODE:
    rc = decode_findnode(out, &it, diag);
    break;
  case ETHP2P_DISCV4_NEIGHBORS:
    rc = decode_neighbors(out, &it, diag);
    break;
  case ETHP2P_DISCV4_ENRREQUEST: {
    ethp2p_rlp_item exp;
    rc = next_elem(&it, &exp, "expiration", diag);
    if (rc == 0)
      rc = get_uint(&exp, &out->expiration, "expiration", diag);
    break;
  }
  default:
    rc = decode_enrresponse(out, &it, diag);
    break;
  }
  if (rc != 0)
    goto out_fail;
  if (sender_pub64 != NULL)
    memcpy(sender_pub64, pub, 64);
  if (hash != NULL)
    memcpy(hash, pkt, 32);
  return 0;

out_fail:
  memset(out, 0, sizeof *out);
  return rc;
}

/* ---------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------- */

static void put_ip(ethp2p_rlp_enc *e, const ethp2p_addr *a) {
  if (a->family == 4)
    ethp2p_rlp_enc_bytes(e, a->ip, 4);
  else if (a->family == 6)
    ethp2p_rlp_enc_bytes(e, a->ip, 16);
  else
    ethp2p_rlp_enc_bytes(e, NULL, 0);
}

static void put_endpoint(ethp2p_rlp_enc *e, const ethp2p_discv4_endpoint *ep) {
  ethp2p_rlp_enc_list_begin(e);
  put_ip(e, &ep->addr);
  ethp2p_rlp_enc_uint64(e, ep->addr.port);
  ethp2p_rlp_enc_uint64(e, ep->tcp);
  ethp2p_rlp_enc_list_end(e);
}

static int encode_body(ethp2p_rlp_enc *e, const ethp2p_discv4_packet *p) {
  ethp2p_rlp_enc_list_begin(e);
  switch (p->type) {
  case ETHP2P_DISCV4_PING:
    ethp2p_rlp_enc_uint64(e, p->u.ping.version);
    put_endpoint(e, &p->u.ping.from);
    put_endpoint(e, &p->u.ping.to);
    ethp2p_rlp_enc_uint64(e, p->expiration);
    if (p->u.ping.has_seq)
      ethp2p_rlp_enc_uint64(e, p->u.ping.enr_seq);
    break;
  case ETHP2P_DISCV4_PONG:
    put_endpoint(e, &p->u.pong.to);
    ethp2p_rlp_enc_bytes(e, p->u.pong.ping_hash, 32);
    ethp2p_rlp_enc_uint64(e, p->expiration);
    if (p->u.pong.has_seq)
      ethp2p_rlp_enc_uint64(e, p->u.pong.enr_seq);
    break;
  case ETHP2P_DISCV4_FINDNODE:
    ethp2p_rlp_enc_bytes(e, p->u.findnode.target, 64);
    ethp2p_rlp_enc_uint64(e, p->expiration);
    break;
  case ETHP2P_DISCV4_NEIGHBORS:
    if (p->u.neighbors.n > ETHP2P_DISCV4_NEIGHBORS_PER_PACKET)
      return ETHP2P_EINVAL;
    ethp2p_rlp_enc_list_begin(e);
    for (size_t i = 0; i < p->u.neighbors.n; i++) {
      const ethp2p_discv4_rnode *n = &p->u.neighbors.nodes[i];
      if (n->ep.addr.family != 4 && n->ep.addr.family != 6)
        return ETHP2P_EINVAL;
      ethp2p_rlp_enc_list_begin(e);
      put_ip(e, &n->ep.addr);
      ethp2p_rlp_enc_uint64(e, n->ep.addr.port);
      ethp2p_rlp_enc_uint64(e, n->ep.tcp);
      ethp2p_rlp_enc_bytes(e, n->pub64, 64);
      ethp2p_rlp_enc_list_end(e);
    }
    ethp2p_rlp_enc_list_end(e);
    ethp2p_rlp_enc_uint64(e, p->expiration);
    break;
  case ETHP2P_DISCV4_ENRREQUEST:
    ethp2p_rlp_enc_uint64(e, p->expiration);
    break;
  case ETHP2P_DISCV4_ENRRESPONSE: {
    uint8_t rec[ETHP2P_ENR_MAX_SIZE];
    size_t rlen;
    int rc;
    if (!ethp2p_enr_is_signed(&p->u.enrresponse.record))
      return ETHP2P_ESTATE;
    rc = ethp2p_enr_encode(rec, sizeof rec, &rlen, &p->u.enrresponse.record);
    if (rc != 0)
      return rc;
    ethp2p_rlp_enc_bytes(e, p->u.enrresponse.request_hash, 32);
    ethp2p_rlp_enc_raw(e, rec, rlen);
    break;
  }
  default:
    return ETHP2P_EINVAL;
  }
  return ethp2p_rlp_enc_list_end(e);
}

int ethp2p_discv4_encode(uint8_t *out, size_t cap, size_t *out_len, uint8_t hash[32],
                         const ethp2p_discv4_packet *p, const uint8_t secret[32]) {
  uint8_t h[32];
  ethp2p_rlp_enc e;
  size_t blen, total;
  int rc;

  if (out_len != NULL)
    *out_len = 0;
  if (hash != NULL)
    memset(hash, 0, 32);
  if (out == NULL || p == NULL || secret == NULL)
    return ETHP2P_EINVAL;
  if (cap < DATA_OFF + 1)
    return ETHP2P_ESPACE;
  ethp2p_rlp_enc_init(&e, out + DATA_OFF, cap - DATA_OFF);
  rc = encode_body(&e, p);
  if (rc == 0)
    rc = ethp2p_rlp_enc_finish(&e, &blen);
  if (rc != 0)
    return rc == ETHP2P_ESPACE && cap >= ETHP2P_DISCV4_MAX_PACKET ? ETHP2P_ETOOBIG : rc;
  total = DATA_OFF + blen;
  if (total > ETHP2P_DISCV4_MAX_PACKET)
    return ETHP2P_ETOOBIG;
  out[TYPE_OFF] = p->type;
  ethp2p_keccak256(h, out + TYPE_OFF, total - TYPE_OFF);
  rc = ethp2p_secp_sign_recoverable(out + SIG_OFF, h, secret);
  if (rc != 0)
    return rc;
  ethp2p_keccak256(out, out + SIG_OFF, total - SIG_OFF);
  if (hash != NULL)
    memcpy(hash, out, 32);
  if (out_len != NULL)
    *out_len = total;
  return 0;
}
