/*
 * p2p/discover/discover.c — the shared discovery socket (see ethp2p/discover.h)
 * and the node helpers.
 */
#include "ethp2p/discover.h"

#include <stdlib.h>
#include <string.h>

#include "ethp2p/enode.h"
#include "ethp2p/secp.h"

#define MAX_DATAGRAM 1280

struct ethp2p_discover {
  ethp2p_env *env;
  ethp2p_udp *udp;
  ethp2p_addr local;
  ethp2p_discover_handler_cb handler;
  void *handler_data;
  ethp2p_discover_unhandled_cb unhandled;
  void *unhandled_data;
  ethp2p_discover_stats stats;
};

/* ---------------------------------------------------------------------------
 * Nodes
 * ------------------------------------------------------------------------- */

int ethp2p_discover_node_init(ethp2p_discover_node *n, const uint8_t pub64[64],
                              const ethp2p_addr *udp, uint16_t tcp) {
  memset(n, 0, sizeof *n);
  if (ethp2p_secp_pub64_check(pub64) != 0)
    return ETHP2P_EKEY;
  memcpy(n->pub64, pub64, 64);
  ethp2p_secp_node_id(n->id, pub64);
  if (udp != NULL)
    n->addr = *udp;
  n->tcp = tcp;
  return 0;
}

int ethp2p_discover_node_from_record(ethp2p_discover_node *n, const ethp2p_enr *rec) {
  ethp2p_enode en;
  ethp2p_addr a;
  int rc;
  memset(n, 0, sizeof *n);
  rc = ethp2p_enode_from_record(&en, rec, NULL);
  if (rc != 0)
    return rc;
  if (en.ip_len == 0 || en.udp == 0)
    return ETHP2P_ENOTFOUND;
  memset(&a, 0, sizeof a);
  a.family = en.ip_len == 4 ? 4 : 6;
  memcpy(a.ip, en.ip, en.ip_len);
  a.port = en.udp;
  rc = ethp2p_discover_node_init(n, en.pubkey, &a, en.tcp);
  if (rc == 0)
    n->seq = ethp2p_enr_seq(rec);
  return rc;
}

int ethp2p_discover_node_parse(ethp2p_discover_node *n, ethp2p_enr *rec, const char *text,
                               ethp2p_diag *diag) {
  ethp2p_enode en;
  ethp2p_addr a;
  int rc;

  memset(n, 0, sizeof *n);
  if (rec != NULL)
    ethp2p_enr_init(rec);
  if (text == NULL)
    return ETHP2P_EINVAL;
  if (strncmp(text, "enr:", 4) == 0) {
    ethp2p_enr r;
    rc = ethp2p_enr_text_decode(&r, text, strlen(text), diag);
    if (rc == 0)
      rc = ethp2p_enr_verify(&r, diag);
    if (rc != 0)
      return rc;
    rc = ethp2p_discover_node_from_record(n, &r);
    if (rc == ETHP2P_ENOTFOUND)
      return ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "record has no IP address and UDP port");
    if (rc != 0)
      return ethp2p_diag_set(diag, rc, 0, "record has an unusable key or endpoint");
    if (rec != NULL)
      *rec = r;
    return 0;
  }
  rc = ethp2p_enode_parse(&en, text, strlen(text), diag);
  if (rc != 0)
    return rc;
  if (en.ip_len == 0 || en.udp == 0)
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "enode URL has no IP address or UDP port");
  memset(&a, 0, sizeof a);
  a.family = en.ip_len == 4 ? 4 : 6;
  memcpy(a.ip, en.ip, en.ip_len);
  a.port = en.udp;
  return ethp2p_discover_node_init(n, en.pubkey, &a, en.tcp);
}

int ethp2p_discover_node_format(const ethp2p_discover_node *n, char *out, size_t cap) {
  ethp2p_enode en;
  int rc = ethp2p_enode_init(&en, n->pub64, n->addr.ip,
                             n->addr.family == 4   ? 4
                             : n->addr.family == 6 ? 16
                                                   : 0,
                             n->tcp, n->addr.port);
  if (rc != 0)
    return rc;
  return ethp2p_enode_format(&en, out, cap);
}

unsigned ethp2p_discover_logdist(const uint8_t a[32], const uint8_t b[32]) {
  for (unsigned i = 0; i < 32; i++) {
    uint8_t x = a[i] ^ b[i];
    if (x != 0) {
      unsigned bit = 7;
      while (!(x & (1u << bit)))
        bit--;
      return (31 - i) * 8 + bit + 1;
    }
  }
  return 0;
}

int ethp2p_discover_distcmp(const uint8_t target[32], const uint8_t a[32], const uint8_t b[32]) {
  for (unsigned i = 0; i < 32; i++) {
    uint8_t da = a[i] ^ target[i], db = b[i] ^ target[i];
    if (da < db)
      return -1;
    if (da > db)
      return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------------------
 * Socket mux
 * ------------------------------------------------------------------------- */

void ethp2p_discover_input(ethp2p_discover *d, const ethp2p_addr *from, const uint8_t *pkt,
                           size_t len) {
  d->stats.rx_packets++;
  d->stats.rx_bytes += len;
  if (d->handler != NULL && d->handler(d->handler_data, from, pkt, len))
    return;
  if (d->unhandled != NULL) {
    d->stats.unhandled++;
    d->unhandled(d->unhandled_data, from, pkt, len);
    return;
  }
  d->stats.dropped++;
}

static void on_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                    void *data) {
  (void)udp;
  ethp2p_discover_input(data, from, buf, len);
}

int ethp2p_discover_open(ethp2p_env *env, const ethp2p_addr *bind, ethp2p_discover **out) {
  ethp2p_discover *d;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (env == NULL || bind == NULL || out == NULL)
    return ETHP2P_EINVAL;
  d = calloc(1, sizeof *d);
  if (d == NULL)
    return ETHP2P_ENOMEM;
  d->env = env;
  rc = ethp2p_udp_open(env, &d->udp, bind, 0, on_recv, d);
  if (rc != 0) {
    free(d);
    return rc;
  }
  if (ethp2p_udp_local_addr(d->udp, &d->local) != 0)
    d->local = *bind;
  *out = d;
  return 0;
}

void ethp2p_discover_close(ethp2p_discover *d) {
  if (d == NULL)
    return;
  ethp2p_udp_close(d->udp);
  free(d);
}

ethp2p_env *ethp2p_discover_env(const ethp2p_discover *d) {
  return d->env;
}
ethp2p_addr ethp2p_discover_local_addr(const ethp2p_discover *d) {
  return d->local;
}

int ethp2p_discover_send(ethp2p_discover *d, const ethp2p_addr *to, const uint8_t *pkt,
                         size_t len) {
  int rc;
  if (len > MAX_DATAGRAM)
    return ETHP2P_ETOOBIG;
  rc = ethp2p_udp_send(d->udp, to, pkt, len);
  if (rc != 0) {
    d->stats.tx_errors++;
    return rc;
  }
  d->stats.tx_packets++;
  d->stats.tx_bytes += len;
  return 0;
}

void ethp2p_discover_set_unhandled(ethp2p_discover *d, ethp2p_discover_unhandled_cb cb,
                                   void *data) {
  d->unhandled = cb;
  d->unhandled_data = data;
}

void ethp2p_discover_set_handler(ethp2p_discover *d, ethp2p_discover_handler_cb cb, void *data) {
  d->handler = cb;
  d->handler_data = data;
}

void ethp2p_discover_get_stats(const ethp2p_discover *d, ethp2p_discover_stats *out) {
  *out = d->stats;
}
