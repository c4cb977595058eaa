/*
 * tests/support/nat_stun_server.c — a test STUN Binding server with RFC 5780 CHANGE-REQUEST,
 * RESPONSE-ORIGIN and OTHER-ADDRESS (see nat_stun_server.h).
 *
 * Socket k = 2*i + j listens on (A_i, P_j), i, j in {0, 1}; without an
 * alternate only socket 0 exists.  The answer to a request received on
 * socket (i, j) leaves from (i ^ change_ip, j ^ change_port).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/stun_codec.h"
#include "support/nat_stun_server.h"

typedef struct srv_sock {
  struct ethp2p_stun_server *srv;
  ethp2p_udp *udp;
  ethp2p_addr addr; /* bound address and port */
  unsigned ip_idx, port_idx;
} srv_sock;

struct ethp2p_stun_server {
  ethp2p_env *env;
  ethp2p_stun_server_config cfg;
  bool has_alt;
  bool enabled;
  srv_sock socks[4];
  ethp2p_stun_server_stats stats;
};

static srv_sock *sock_at(ethp2p_stun_server *s, unsigned ip_idx, unsigned port_idx) {
  return &s->socks[ip_idx * 2 + port_idx];
}

static void send_msg(srv_sock *out, const ethp2p_addr *to, const ethp2p_stun_msg *msg,
                     bool fingerprint) {
  uint8_t buf[ETHP2P_STUN_MAX_LEN];
  ethp2p_stun_encode_opts opts;
  memset(&opts, 0, sizeof opts);
  opts.fingerprint = fingerprint;
  int n = ethp2p_stun_encode(buf, sizeof buf, msg, &opts);
  if (n > 0)
    (void)ethp2p_udp_send(out->udp, to, buf, (size_t)n);
}

/* RFC 8489 §6.3.4 / §14.8: an error response with the same transaction ID. */
static void send_error(srv_sock *in, const ethp2p_addr *to, const ethp2p_stun_msg *req,
                       uint16_t code, const char *reason) {
  ethp2p_stun_server *s = in->srv;
  ethp2p_stun_msg m;
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_STUN_BINDING_ERROR;
  memcpy(m.txid, req->txid, sizeof m.txid);
  m.present = ETHP2P_STUN_HAS_ERROR_CODE;
  m.error_code = code;
  snprintf(m.error_reason, sizeof m.error_reason, "%s", reason);
  if (s->cfg.software[0] != '\0') {
    m.present |= ETHP2P_STUN_HAS_SOFTWARE;
    snprintf(m.software, sizeof m.software, "%s", s->cfg.software);
  }
  s->stats.errors++;
  send_msg(in, to, &m, (req->present & ETHP2P_STUN_HAS_FINGERPRINT) != 0);
}

static void on_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                    void *data) {
  srv_sock *in = data;
  ethp2p_stun_server *s = in->srv;
  ethp2p_stun_msg req, resp;
  (void)udp;
  if (!s->enabled || ethp2p_stun_decode(&req, buf, len, NULL) != 0 ||
      req.type != ETHP2P_STUN_BINDING_REQUEST) {
    s->stats.dropped++;
    return;
  }
  s->stats.requests++;
  if (req.n_unknown > 0) {
    send_error(in, from, &req, 420, "Unknown Attribute");
    return;
  }
  uint32_t change = (req.present & ETHP2P_STUN_HAS_CHANGE_REQUEST) ? req.change_request : 0;
  change &= ETHP2P_STUN_CHANGE_IP | ETHP2P_STUN_CHANGE_PORT;
  if (change != 0 && !s->has_alt) {
    /* RFC 5780 §6.1: no alternate address, so CHANGE-REQUEST is not understood. */
    send_error(in, from, &req, 420, "Unknown Attribute");
    return;
  }
  unsigned oi = in->ip_idx ^ ((change & ETHP2P_STUN_CHANGE_IP) ? 1u : 0u);
  unsigned op = in->port_idx ^ ((change & ETHP2P_STUN_CHANGE_PORT) ? 1u : 0u);
  srv_sock *out = s->has_alt ? sock_at(s, oi, op) : in;

  memset(&resp, 0, sizeof resp);
  resp.type = ETHP2P_STUN_BINDING_SUCCESS;
  memcpy(resp.txid, req.txid, sizeof resp.txid);
  resp.present = ETHP2P_STUN_HAS_XOR_MAPPED | ETHP2P_STUN_HAS_MAPPED;
  resp.xor_mapped = *from;
  resp.mapped = *from;
  if (s->has_alt) {
    /* RFC 5780 §7.3, §7.4. */
    resp.present |= ETHP2P_STUN_HAS_RESPONSE_ORIGIN | ETHP2P_STUN_HAS_OTHER_ADDRESS;
    resp.response_origin = out->addr;
    resp.other_address = sock_at(s, in->ip_idx ^ 1u, in->port_idx ^ 1u)->addr;
  }
  if (s->cfg.software[0] != '\0') {
    resp.present |= ETHP2P_STUN_HAS_SOFTWARE;
    snprintf(resp.software, sizeof resp.software, "%s", s->cfg.software);
  }
  s->stats.responses++;
  if (out != in)
    s->stats.changed++;
  send_msg(out, from, &resp, (req.present & ETHP2P_STUN_HAS_FINGERPRINT) != 0);
}

static void close_all(ethp2p_stun_server *s) {
  for (size_t i = 0; i < 4; i++) {
    ethp2p_udp_close(s->socks[i].udp);
    s->socks[i].udp = NULL;
  }
}

static int open_sock(ethp2p_stun_server *s, unsigned ip_idx, unsigned port_idx,
                     const ethp2p_addr *addr) {
  srv_sock *k = sock_at(s, ip_idx, port_idx);
  k->srv = s;
  k->ip_idx = ip_idx;
  k->port_idx = port_idx;
  int rc = ethp2p_udp_open(s->env, &k->udp, addr, 0, on_recv, k);
  if (rc != 0)
    return rc;
  rc = ethp2p_udp_local_addr(k->udp, &k->addr);
  if (rc != 0 || k->addr.port == 0)
    return rc != 0 ? rc : ETHP2P_EIO;
  /* Report the configured IP even when the env answers with a wildcard. */
  uint16_t port = k->addr.port;
  k->addr = *addr;
  k->addr.port = port;
  return 0;
}

int ethp2p_stun_server_create(ethp2p_env *env, const ethp2p_stun_server_config *cfg,
                              ethp2p_stun_server **out) {
  ethp2p_stun_server *s;
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || cfg == NULL || (cfg->primary.family != 4 && cfg->primary.family != 6))
    return ETHP2P_EINVAL;
  if (cfg->alternate.family != 0) {
    if (cfg->alternate.family != cfg->primary.family ||
        ethp2p_addr_equal(&cfg->primary, &cfg->alternate, false) ||
        (cfg->alternate.port != 0 && cfg->alternate.port == cfg->primary.port))
      return ETHP2P_EINVAL;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return ETHP2P_ENOMEM;
  s->env = env;
  s->cfg = *cfg;
  s->cfg.software[sizeof s->cfg.software - 1] = '\0';
  s->has_alt = cfg->alternate.family != 0;
  s->enabled = true;
  rc = open_sock(s, 0, 0, &cfg->primary);
  if (rc == 0 && s->has_alt) {
    ethp2p_addr a1 = cfg->primary, a2 = cfg->alternate;
    uint16_t p1 = s->socks[0].addr.port;
    uint16_t p2 = cfg->alternate.port != 0 ? cfg->alternate.port : (uint16_t)(p1 + 1);
    if (p2 == 0 || p2 == p1) {
      rc = ETHP2P_EINVAL;
    } else {
      a1.port = p2;
      rc = open_sock(s, 0, 1, &a1);
      a2.port = p1;
      if (rc == 0)
        rc = open_sock(s, 1, 0, &a2);
      a2.port = p2;
      if (rc == 0)
        rc = open_sock(s, 1, 1, &a2);
    }
  }
  if (rc != 0) {
    close_all(s);
    free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void ethp2p_stun_server_destroy(ethp2p_stun_server *srv) {
  if (srv == NULL)
    return;
  close_all(srv);
  free(srv);
}

ethp2p_addr ethp2p_stun_server_primary(const ethp2p_stun_server *srv) {
  return srv->socks[0].addr;
}

ethp2p_addr ethp2p_stun_server_alternate(const ethp2p_stun_server *srv) {
  ethp2p_addr none;
  if (srv->has_alt)
    return srv->socks[3].addr;
  memset(&none, 0, sizeof none);
  return none;
}

ethp2p_stun_server_stats ethp2p_stun_server_get_stats(const ethp2p_stun_server *srv) {
  return srv->stats;
}

void ethp2p_stun_server_set_enabled(ethp2p_stun_server *srv, bool enabled) {
  srv->enabled = enabled;
}
