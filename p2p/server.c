/*
 * p2p/server.c — the node's wiring (see ethp2p/server.h).
 */
#include "ethp2p/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/nodekey.h"

#define SRV_MODULE "p2p"
#define SRV_PATH_MAX 1024

struct ethp2p_server {
  ethp2p_env *env;
  ethp2p_server_config cfg;
  char datadir[SRV_PATH_MAX];
  ethp2p_localnode *ln;
  ethp2p_portmap *pm;
  ethp2p_tcp *tcp;
  ethp2p_udp *udp;
  ethp2p_addr tcp_addr;
  ethp2p_addr udp_addr;
  bool stopping;
  ethp2p_server_stop_cb stop_cb;
  void *stop_data;
};

void ethp2p_server_config_default(ethp2p_server_config *c) {
  memset(c, 0, sizeof *c);
  c->listen = ethp2p_addr_v4(0, 0, 0, 0, 0);
  c->port = ETHP2P_DEFAULT_PORT;
  c->discport = ETHP2P_DEFAULT_PORT;
  c->nat.kind = ETHP2P_NAT_ANY;
  ethp2p_portmap_config_default(&c->portmap);
}

/* --nodekeyhex, else --nodekey, else <datadir>/nodekey (created if missing),
 * else an ephemeral key. */
static int load_key(ethp2p_server *srv, ethp2p_nodekey *key, ethp2p_diag *diag) {
  const ethp2p_server_config *c = &srv->cfg;
  char path[SRV_PATH_MAX];
  int rc, n;

  if (c->nodekey_hex != NULL)
    return ethp2p_nodekey_parse(key, (const uint8_t *)c->nodekey_hex, strlen(c->nodekey_hex),
                                diag);
  if (c->nodekey_file != NULL)
    return ethp2p_nodekey_load(key, c->nodekey_file, diag);
  if (srv->datadir[0] == 0) {
    ethp2p_log(ETHP2P_LOG_WARN, SRV_MODULE, "No data directory, using an ephemeral node key", "%s", "");
    return ethp2p_nodekey_generate(key);
  }
  n = snprintf(path, sizeof path, "%s/nodekey", srv->datadir);
  if (n < 0 || (size_t)n >= sizeof path)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "data directory path too long");
  rc = ethp2p_nodekey_load(key, path, diag);
  if (rc != ETHP2P_ENOTFOUND)
    return rc;
  rc = ethp2p_nodekey_generate(key);
  if (rc != 0)
    return ethp2p_diag_set(diag, rc, 0, "could not generate a node key");
  rc = ethp2p_nodekey_save(key, path, 0, diag);
  if (rc != 0)
    return rc;
  ethp2p_log(ETHP2P_LOG_INFO, SRV_MODULE, "Generated new node key", "file=%s", path);
  return 0;
}

static void on_accept(ethp2p_tcp *listener, ethp2p_tcp *conn, void *data) {
  ethp2p_server *srv = data;
  (void)listener;
  if (srv->cfg.accept_cb != NULL && !srv->stopping) {
    srv->cfg.accept_cb(srv, conn, srv->cfg.accept_data);
    return;
  }
  if (ethp2p_log_enabled(ETHP2P_LOG_DEBUG)) {
    ethp2p_addr peer;
    char text[ETHP2P_ADDRSTRLEN] = "?";
    if (ethp2p_tcp_peer_addr(conn, &peer) == 0)
      ethp2p_addr_format(&peer, true, text, sizeof text);
    ethp2p_log(ETHP2P_LOG_DEBUG, SRV_MODULE, "Inbound connection closed", "addr=%s", text);
  }
  ethp2p_tcp_close(conn);
}

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  ethp2p_server *srv = data;
  (void)udp;
  if (srv->cfg.udp_cb != NULL && !srv->stopping)
    srv->cfg.udp_cb(srv, from, buf, len, srv->cfg.udp_data);
}

static bool mappable(const ethp2p_addr *listen) {
  return listen->family == 0 || ethp2p_addr_is_unspecified(listen) ||
         (!ethp2p_addr_is_loopback(listen) && !ethp2p_addr_is_private(listen));
}

static int open_sockets(ethp2p_server *srv, ethp2p_diag *diag) {
  ethp2p_addr bind = srv->cfg.listen;
  char text[ETHP2P_ADDRSTRLEN];
  int rc;

  if (bind.family == 0)
    bind = ethp2p_addr_v4(0, 0, 0, 0, 0);
  bind.port = srv->cfg.port;
  rc = ethp2p_tcp_listen(srv->env, &srv->tcp, &bind, on_accept, srv);
  if (rc != 0) {
    srv->tcp = NULL;
    return ethp2p_diag_set(diag, rc, 0, "cannot listen on TCP %s: %s",
                           ethp2p_addr_format(&bind, true, text, sizeof text), ethp2p_strerror(rc));
  }
  if (ethp2p_tcp_local_addr(srv->tcp, &srv->tcp_addr) != 0)
    srv->tcp_addr = bind;
  bind.port = srv->cfg.discport;
  rc = ETHP2P_EINVAL;
  if (srv->cfg.discport == 0 && srv->cfg.port == 0) {
    /* both "any": prefer the TCP port for UDP too, so the record has one port */
    bind.port = srv->tcp_addr.port;
    rc = ethp2p_udp_open(srv->env, &srv->udp, &bind, 0, on_datagram, srv);
    bind.port = 0;
  }
  if (rc != 0)
    rc = ethp2p_udp_open(srv->env, &srv->udp, &bind, 0, on_datagram, srv);
  if (rc != 0) {
    srv->udp = NULL;
    return ethp2p_diag_set(diag, rc, 0, "cannot open UDP %s: %s",
                           ethp2p_addr_format(&bind, true, text, sizeof text), ethp2p_strerror(rc));
  }
  if (ethp2p_udp_local_addr(srv->udp, &srv->udp_addr) != 0)
    srv->udp_addr = bind;
  return 0;
}

static int setup_record(ethp2p_server *srv) {
  ethp2p_addr fb = srv->cfg.listen;
  int rc;
  if (fb.family != 4 || ethp2p_addr_is_unspecified(&fb))
    fb = ethp2p_addr_v4(127, 0, 0, 1, 0); /* go-ethereum's fallback */
  rc = ethp2p_localnode_set_port(srv->ln, ETHP2P_ENR_TCP, srv->tcp_addr.port);
  if (rc != 0)
    return rc;
  ethp2p_localnode_set_fallback_udp(srv->ln, srv->udp_addr.port);
  return ethp2p_localnode_set_fallback_ip(srv->ln, &fb);
}

static int setup_portmap(ethp2p_server *srv, ethp2p_nat *nat, ethp2p_diag *diag) {
  ethp2p_portmap_sink sink;
  ethp2p_portmap_config pc = srv->cfg.portmap;
  int rc;

  {
    /* zero fields take go-ethereum's values */
    ethp2p_portmap_config d;
    ethp2p_portmap_config_default(&d);
    if (pc.lease == 0)
      pc.lease = d.lease;
    if (pc.refresh == 0)
      pc.refresh = d.refresh;
    if (pc.retry == 0)
      pc.retry = d.retry;
    if (pc.extip_interval == 0)
      pc.extip_interval = d.extip_interval;
    if (pc.max_failures == 0)
      pc.max_failures = d.max_failures;
    if (pc.rediscover_after == 0)
      pc.rediscover_after = d.rediscover_after;
  }
  ethp2p_localnode_portmap_sink(srv->ln, &sink);
  rc = ethp2p_portmap_create(srv->env, nat, &pc, &sink, &srv->pm);
  if (rc != 0) {
    ethp2p_nat_destroy(nat);
    return ethp2p_diag_set(diag, rc, 0, "invalid port-mapping settings");
  }
  if (mappable(&srv->cfg.listen)) {
    (void)ethp2p_portmap_add(srv->pm, ETHP2P_PROTO_TCP, srv->tcp_addr.port, 0, "ethereum p2p");
    (void)ethp2p_portmap_add(srv->pm, ETHP2P_PROTO_UDP, srv->udp_addr.port, 0,
                             "ethereum peer discovery");
  }
  return ethp2p_portmap_start(srv->pm);
}

int ethp2p_server_start(ethp2p_env *env, const ethp2p_server_config *cfg, ethp2p_server **out,
                        ethp2p_diag *diag) {
  ethp2p_server *srv;
  ethp2p_nodekey key;
  ethp2p_nat *nat = cfg != NULL ? cfg->nat_override : NULL;
  int rc;

  if (out != NULL)
    *out = NULL;
  if (env == NULL || cfg == NULL || out == NULL) {
    ethp2p_nat_destroy(nat);
    return ETHP2P_EINVAL;
  }
  srv = calloc(1, sizeof *srv);
  if (srv == NULL) {
    ethp2p_nat_destroy(nat);
    return ETHP2P_ENOMEM;
  }
  srv->env = env;
  srv->cfg = *cfg;
  srv->cfg.nat_override = NULL;
  if (cfg->datadir != NULL) {
    size_t n = strlen(cfg->datadir);
    if (n >= sizeof srv->datadir) {
      rc = ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "data directory path too long");
      goto out_fail;
    }
    memcpy(srv->datadir, cfg->datadir, n + 1);
  }
  /* the strings are only needed during start */
  rc = load_key(srv, &key, diag);
  if (rc != 0)
    goto out_fail;
  srv->cfg.nodekey_hex = NULL;
  srv->cfg.nodekey_file = NULL;
  srv->cfg.datadir = NULL;
  rc = ethp2p_localnode_create(env, &key, srv->datadir[0] ? srv->datadir : NULL, &srv->ln);
  ethp2p_nodekey_wipe(&key);
  if (rc != 0) {
    ethp2p_diag_set(diag, rc, 0, "cannot set up the local record: %s", ethp2p_strerror(rc));
    goto out_fail;
  }
  rc = open_sockets(srv, diag);
  if (rc != 0)
    goto out_fail;
  rc = setup_record(srv);
  if (rc != 0) {
    ethp2p_diag_set(diag, rc, 0, "cannot set up the local record: %s", ethp2p_strerror(rc));
    goto out_fail;
  }
  if (nat == NULL) {
    rc = ethp2p_nat_create(env, &srv->cfg.nat, &nat);
    if (rc != 0) {
      nat = NULL;
      ethp2p_diag_set(diag, rc, 0, "cannot set up NAT: %s", ethp2p_strerror(rc));
      goto out_fail;
    }
  }
  rc = setup_portmap(srv, nat, diag);
  nat = NULL; /* owned by the loop (or destroyed) now */
  if (rc != 0)
    goto out_fail;
  {
    char t[ETHP2P_ADDRSTRLEN], u[ETHP2P_ADDRSTRLEN], nattext[128] = "";
    ethp2p_nat_format(ethp2p_portmap_nat(srv->pm), nattext, sizeof nattext);
    ethp2p_log(ETHP2P_LOG_INFO, SRV_MODULE, "Started P2P networking", "tcp=%s udp=%s nat=%s",
               ethp2p_addr_format(&srv->tcp_addr, true, t, sizeof t),
               ethp2p_addr_format(&srv->udp_addr, true, u, sizeof u), nattext);
  }
  *out = srv;
  return 0;

out_fail:
  ethp2p_nat_destroy(nat);
  ethp2p_server_destroy(srv);
  return rc;
}

ethp2p_localnode *ethp2p_server_localnode(ethp2p_server *srv) { return srv->ln; }
ethp2p_portmap *ethp2p_server_portmap(ethp2p_server *srv) { return srv->pm; }
ethp2p_addr ethp2p_server_tcp_addr(const ethp2p_server *srv) { return srv->tcp_addr; }
ethp2p_addr ethp2p_server_udp_addr(const ethp2p_server *srv) { return srv->udp_addr; }

static void close_sockets(ethp2p_server *srv) {
  ethp2p_tcp_close(srv->tcp);
  srv->tcp = NULL;
  ethp2p_udp_close(srv->udp);
  srv->udp = NULL;
}

static void on_portmap_stopped(ethp2p_portmap *pm, int status, void *data) {
  ethp2p_server *srv = data;
  (void)pm;
  close_sockets(srv);
  ethp2p_log(ETHP2P_LOG_INFO, SRV_MODULE, "P2P networking stopped", "mappings=%s",
             status == 0 ? "deleted" : "not all deleted");
  if (srv->stop_cb != NULL)
    srv->stop_cb(srv, status, srv->stop_data);
}

int ethp2p_server_stop(ethp2p_server *srv, ethp2p_time bound, ethp2p_server_stop_cb cb,
                       void *data) {
  if (srv == NULL)
    return ETHP2P_EINVAL;
  if (srv->stopping)
    return ETHP2P_ESTATE;
  srv->stopping = true;
  srv->stop_cb = cb;
  srv->stop_data = data;
  return ethp2p_portmap_stop(srv->pm, bound, on_portmap_stopped, srv);
}

void ethp2p_server_destroy(ethp2p_server *srv) {
  if (srv == NULL)
    return;
  ethp2p_portmap_destroy(srv->pm);
  close_sockets(srv);
  ethp2p_localnode_destroy(srv->ln);
  free(srv);
}
