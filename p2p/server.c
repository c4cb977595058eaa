/*
 * p2p/server.c — the node's wiring (see ethp2p/server.h).
 */
#include "ethp2p/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discv5_attach.h"
#include "ethp2p/log.h"
#include "ethp2p/nodekey.h"
#include "ethp2p/secp.h"

#define SRV_MODULE "p2p"
#define SRV_PATH_MAX 1024
#define SRV_MAX_BOOTNODES 64
#define SRV_MAX_RESTRICT 32
#define SRV_MAX_NODES 256                /* entries kept from static/trusted-nodes.json */
#define SRV_NODES_FILE_MAX (1024 * 1024) /* larger node files are refused */
#define SRV_MAX_QUEUED 16                /* dial candidates waiting before the feed pauses */
#define SRV_FEED_PAUSE ETHP2P_SEC

struct ethp2p_server {
  ethp2p_env *env;
  ethp2p_server_config cfg;
  char datadir[SRV_PATH_MAX];
  ethp2p_localnode *ln;
  ethp2p_portmap *pm;
  ethp2p_tcp *tcp;
  ethp2p_discover *mux; /* the UDP socket */
  ethp2p_discv4 *v4;
  ethp2p_discv5_attached *v5; /* --discovery.v5: on the same socket, sharing v4's table */
  ethp2p_table v5_table;      /* the table discv5 uses when discv4 is off */
  bool v5_looked_up;          /* the first bootnode answered: refresh lookups run */
  ethp2p_timer *v5_timer;     /* the next discv5 refresh lookup */
  unsigned v5_refreshes;
  ethp2p_rlpx_host *host;
  ethp2p_discv4_iter *iter; /* feeds the host's dial candidates */
  ethp2p_timer *feed_timer;
  size_t nprotos; /* registered protocols: without any, discovered nodes are not dialed */
  ethp2p_enode *static_nodes, *trusted_nodes; /* from datadir, until the host has them */
  size_t nstatic, ntrusted;
  ethp2p_nodekey key; /* kept for discv4 until it starts (then wiped) */
  ethp2p_addr tcp_addr;
  ethp2p_addr udp_addr;
  ethp2p_portmap_sink ln_sink; /* the local node's sink, behind sink4_* */
  bool sink_dropped_v6;        /* the loop's last address was IPv6 and was not published */
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
  c->max_peers = 50;
}

/* <datadir>/<name>: a JSON array of enode URLs.  A missing file is no nodes. */
static int read_nodes_file(const ethp2p_server *srv, const char *name, ethp2p_enode **out,
                           size_t *n, ethp2p_diag *diag) {
  char path[SRV_PATH_MAX];
  char *text = NULL;
  size_t len;
  ethp2p_diag d;
  FILE *f;
  int rc;

  *out = NULL;
  *n = 0;
  if (srv->datadir[0] == 0)
    return 0;
  rc = snprintf(path, sizeof path, "%s/%s", srv->datadir, name);
  if (rc < 0 || (size_t)rc >= sizeof path)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "data directory path too long");
  f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    if (e == ENOENT)
      return 0;
    return ethp2p_diag_set(diag, e == EACCES ? ETHP2P_EPERM : ETHP2P_EIO, 0, "%s: %s", path,
                           strerror(e));
  }
  text = malloc(SRV_NODES_FILE_MAX + 1);
  if (text == NULL) {
    fclose(f);
    return ETHP2P_ENOMEM;
  }
  len = fread(text, 1, SRV_NODES_FILE_MAX + 1, f);
  rc = ferror(f) ? ETHP2P_EIO : 0;
  fclose(f);
  if (rc == 0 && len > SRV_NODES_FILE_MAX)
    rc = ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "%s: larger than %d bytes", path,
                         SRV_NODES_FILE_MAX);
  else if (rc != 0)
    ethp2p_diag_set(diag, rc, 0, "%s: read error", path);
  if (rc == 0) {
    *out = calloc(SRV_MAX_NODES, sizeof **out);
    if (*out == NULL)
      rc = ETHP2P_ENOMEM;
  }
  if (rc == 0) {
    memset(&d, 0, sizeof d);
    rc = ethp2p_rlpx_nodes_parse(*out, SRV_MAX_NODES, n, text, len, &d);
    if (rc != 0) {
      ethp2p_diag_set(diag, rc, d.offset, "%s: %s", path, d.msg[0] ? d.msg : ethp2p_strerror(rc));
      free(*out);
      *out = NULL;
      *n = 0;
    }
  }
  free(text);
  return rc;
}

static ethp2p_addr enode_addr(const ethp2p_enode *e) {
  ethp2p_addr a;
  memset(&a, 0, sizeof a);
  a.family = e->ip_len == 16 ? 6 : 4;
  memcpy(a.ip, e->ip, e->ip_len);
  a.port = e->tcp;
  return a;
}

/* --nodekeyhex, else --nodekey, else <datadir>/nodekey (created if missing),
 * else an ephemeral key. */
static int load_key(ethp2p_server *srv, ethp2p_nodekey *key, ethp2p_diag *diag) {
  const ethp2p_server_config *c = &srv->cfg;
  char path[SRV_PATH_MAX];
  int rc, n;

  if (c->nodekey_hex != NULL)
    return ethp2p_nodekey_parse(key, (const uint8_t *)c->nodekey_hex, strlen(c->nodekey_hex), diag);
  if (c->nodekey_file != NULL)
    return ethp2p_nodekey_load(key, c->nodekey_file, diag);
  if (srv->datadir[0] == 0) {
    ethp2p_log(ETHP2P_LOG_WARN, SRV_MODULE, "No data directory, using an ephemeral node key", "%s",
               "");
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
  if (srv->host != NULL && !srv->stopping) {
    (void)ethp2p_rlpx_host_accept(srv->host, conn); /* owns conn, also on failure */
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

/* What discovery does not take (the mux's default unhandled hook). */
static void on_datagram(void *data, const ethp2p_addr *from, const uint8_t *buf, size_t len) {
  ethp2p_server *srv = data;
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
    rc = ethp2p_discover_open(srv->env, &bind, &srv->mux);
    bind.port = 0;
  }
  if (rc != 0)
    rc = ethp2p_discover_open(srv->env, &bind, &srv->mux);
  if (rc != 0) {
    srv->mux = NULL;
    return ethp2p_diag_set(diag, rc, 0, "cannot open UDP %s: %s",
                           ethp2p_addr_format(&bind, true, text, sizeof text), ethp2p_strerror(rc));
  }
  ethp2p_discover_set_unhandled(srv->mux, on_datagram, srv);
  srv->udp_addr = ethp2p_discover_local_addr(srv->mux);
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

/* The IPv4 loop's sink.  An IPv6 address from it (extip:<IPv6>) is published
 * only by a node that listens on IPv6; this server has IPv4 sockets only, so
 * it is dropped (logged) and its withdrawal is not passed on either (it
 * would clear nothing of ours, or the IPv4 address). */
static bool is_v4mapped(const ethp2p_addr *a) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return a->family == 6 && memcmp(a->ip, prefix, sizeof prefix) == 0;
}

static void sink4_ip(void *data, const ethp2p_addr *ip) {
  ethp2p_server *srv = data;
  if (ip != NULL && ip->family == 6 && !is_v4mapped(ip)) {
    char text[ETHP2P_ADDRSTRLEN];
    srv->sink_dropped_v6 = true;
    ethp2p_log(ETHP2P_LOG_WARN, SRV_MODULE,
               "Not publishing an IPv6 address: the node listens on IPv4 only", "ip=%s",
               ethp2p_addr_format(ip, false, text, sizeof text));
    return;
  }
  if (ip == NULL && srv->sink_dropped_v6) {
    srv->sink_dropped_v6 = false;
    return;
  }
  srv->sink_dropped_v6 = false;
  if (srv->ln_sink.set_ip != NULL)
    srv->ln_sink.set_ip(srv->ln_sink.data, ip);
}
static void sink4_tcp(void *data, uint16_t port) {
  ethp2p_server *srv = data;
  if (srv->ln_sink.set_tcp != NULL)
    srv->ln_sink.set_tcp(srv->ln_sink.data, port);
}
static void sink4_udp(void *data, uint16_t port) {
  ethp2p_server *srv = data;
  if (srv->ln_sink.set_udp != NULL)
    srv->ln_sink.set_udp(srv->ln_sink.data, port);
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
  ethp2p_localnode_portmap_sink(srv->ln, &srv->ln_sink);
  sink.set_ip = sink4_ip;
  sink.set_tcp = sink4_tcp;
  sink.set_udp = sink4_udp;
  sink.data = srv;
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

int ethp2p_server_netrestrict_parse(const char *text, ethp2p_addr *nets, uint8_t *prefix,
                                    size_t max, ethp2p_diag *diag) {
  size_t n = 0, off = 0;
  if (text == NULL)
    return 0;
  while (text[off] != '\0') {
    char item[64];
    size_t len = strcspn(text + off, ",");
    if (len == 0) {
      off++;
      continue;
    }
    if (len >= sizeof item)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, off, "netrestrict entry too long");
    memcpy(item, text + off, len);
    item[len] = '\0';
    char *slash = strchr(item, '/');
    char *end = NULL;
    unsigned long bits;
    if (slash == NULL)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, off, "netrestrict entry \"%s\" is not IP/BITS",
                             item);
    *slash = '\0';
    bits = strtoul(slash + 1, &end, 10);
    if (n == max)
      return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, off, "more than %zu netrestrict entries", max);
    if (ethp2p_addr_parse_ip(&nets[n], item) != 0 || slash[1] < '0' || slash[1] > '9' ||
        *end != '\0' || bits > (nets[n].family == 4 ? 32u : 128u))
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, off,
                             "netrestrict entry \"%s/%s\" is not IP/BITS", item, slash + 1);
    prefix[n++] = (uint8_t)bits;
    off += len;
  }
  return (int)n;
}

static int host_record(void *data, ethp2p_enr *out) {
  return ethp2p_localnode_record(data, out);
}
static void host_statement(void *data, const ethp2p_addr *from, const ethp2p_addr *ep) {
  ethp2p_localnode_udp_statement(data, from, ep);
}
static void host_contact(void *data, const ethp2p_addr *to) {
  ethp2p_localnode_udp_contact(data, to);
}

/* Step 5: discv4 on the mux, with the parsed bootnodes and netrestrict. */
static int setup_discovery(ethp2p_server *srv, const ethp2p_server_config *cfg, ethp2p_diag *diag) {
  ethp2p_discover_node *boot = NULL;
  ethp2p_addr nets[SRV_MAX_RESTRICT];
  uint8_t prefix[SRV_MAX_RESTRICT];
  ethp2p_discv4_config dc;
  int rc, nr;

  if (cfg->nodiscover || cfg->discv4_off)
    return 0;
  if (cfg->nbootnodes > SRV_MAX_BOOTNODES)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "more than %d bootnodes", SRV_MAX_BOOTNODES);
  nr = ethp2p_server_netrestrict_parse(cfg->netrestrict, nets, prefix, SRV_MAX_RESTRICT, diag);
  if (nr < 0)
    return nr;
  if (cfg->nbootnodes > 0) {
    boot = calloc(cfg->nbootnodes, sizeof *boot);
    if (boot == NULL)
      return ETHP2P_ENOMEM;
  }
  for (size_t i = 0; i < cfg->nbootnodes; i++) {
    ethp2p_diag d;
    memset(&d, 0, sizeof d);
    rc = ethp2p_discover_node_parse(&boot[i], NULL, cfg->bootnodes[i], &d);
    if (rc != 0) {
      ethp2p_diag_set(diag, rc, 0, "bootnode %zu: %s", i + 1,
                      d.msg[0] ? d.msg : ethp2p_strerror(rc));
      free(boot);
      return rc;
    }
  }
  memset(&dc, 0, sizeof dc);
  memcpy(dc.secret, srv->key.secret, 32);
  dc.host.record = host_record;
  dc.host.statement = host_statement;
  dc.host.contact = host_contact;
  dc.host.data = srv->ln;
  dc.bootnodes = boot;
  dc.nbootnodes = cfg->nbootnodes;
  dc.restrict_nets = nets;
  dc.restrict_prefix = prefix;
  dc.nrestrict = (size_t)nr;
  rc = ethp2p_discv4_create(srv->mux, &dc, &srv->v4);
  ethp2p_secp_wipe(dc.secret, sizeof dc.secret);
  free(boot);
  if (rc != 0)
    return ethp2p_diag_set(diag, rc, 0, "cannot start discovery: %s", ethp2p_strerror(rc));
  return 0;
}

/* discv5 refresh lookups of our own ID: at the first bootnode answer, again 30 s
 * later (the bootnode meets the nodes that start after us in between), then
 * every 30 minutes (go-ethereum's refreshInterval). */
#define SRV_V5_FIRST_REFRESH (30 * ETHP2P_SEC)
#define SRV_V5_REFRESH (30 * ETHP2P_MIN)

static void v5_refresh(ethp2p_server *srv);

static void on_v5_self_lookup(void *data, int status, const ethp2p_enr *closest, size_t n) {
  ethp2p_server *srv = data;
  (void)closest;
  if (srv->stopping || srv->v5_timer == NULL)
    return;
  ethp2p_log(ETHP2P_LOG_DEBUG, SRV_MODULE, "Looked up our own ID over discv5", "found=%zu err=%d",
             status == 0 ? n : 0, status);
  ethp2p_timer_start(srv->v5_timer,
                     ethp2p_env_now(srv->env) +
                         (srv->v5_refreshes == 1 ? SRV_V5_FIRST_REFRESH : SRV_V5_REFRESH));
}

static void v5_refresh(ethp2p_server *srv) {
  uint8_t id[32];
  ethp2p_discv5 *v5 = ethp2p_discv5_attached_node(srv->v5);
  ethp2p_discv5_id(v5, id);
  srv->v5_refreshes++;
  if (ethp2p_discv5_lookup(v5, id, on_v5_self_lookup, srv) != 0 && srv->v5_timer != NULL)
    ethp2p_timer_start(srv->v5_timer, ethp2p_env_now(srv->env) + SRV_V5_REFRESH);
}

static void on_v5_timer(ethp2p_timer *t, void *data) {
  ethp2p_server *srv = data;
  (void)t;
  if (srv->v5 != NULL && !srv->stopping)
    v5_refresh(srv);
}

/* A discv5 bootnode answered: look up our own ID through it once, which fills the
 * table around us and makes us known there (go-ethereum's first refresh). */
static void on_v5_boot_pong(void *data, int status, const ethp2p_discv5_pong *pong) {
  ethp2p_server *srv = data;
  (void)pong;
  if (status != 0 || srv->v5 == NULL || srv->v5_looked_up || srv->stopping)
    return;
  srv->v5_looked_up = true;
  v5_refresh(srv);
}

/* Step 5b: discv5 beside discv4 on the one socket (go-ethereum runs both on the
 * discovery port), sharing discv4's table, or a table of its own when discv4 is
 * off.  Bootnodes given as enr: records are pinged over discv5 too; enode://
 * bootnodes carry no record, which discv5 needs. */
static int setup_discv5(ethp2p_server *srv, const ethp2p_server_config *cfg, ethp2p_diag *diag) {
  ethp2p_discv5_config c;
  ethp2p_table *table;
  ethp2p_discv5 *v5;
  int rc;

  if (cfg->nodiscover || !cfg->discv5)
    return 0;
  if (srv->v4 != NULL) {
    table = ethp2p_discv4_table(srv->v4);
  } else {
    uint8_t self[32];
    ethp2p_localnode_id(srv->ln, self);
    ethp2p_table_init(&srv->v5_table, self);
    table = &srv->v5_table;
  }
  memset(&c, 0, sizeof c);
  c.secret = srv->key.secret;
  c.retries = 2;
  rc = ethp2p_discv5_attach(srv->mux, table, srv->ln, &c, &srv->v5);
  if (rc != 0) {
    srv->v5 = NULL;
    return ethp2p_diag_set(diag, rc, 0, "cannot start discovery v5: %s", ethp2p_strerror(rc));
  }
  ethp2p_discv5_attach_set_next(srv->v5, on_datagram, srv);
  rc = ethp2p_timer_create(srv->env, &srv->v5_timer, on_v5_timer, srv);
  if (rc != 0) {
    srv->v5_timer = NULL;
    return ethp2p_diag_set(diag, rc, 0, "cannot start discovery v5: %s", ethp2p_strerror(rc));
  }
  v5 = ethp2p_discv5_attached_node(srv->v5);
  for (size_t i = 0; i < cfg->nbootnodes; i++) {
    ethp2p_discover_node n;
    ethp2p_discv5_peer peer;
    ethp2p_enr rec;
    if (strncmp(cfg->bootnodes[i], "enr:", 4) != 0 ||
        ethp2p_discover_node_parse(&n, &rec, cfg->bootnodes[i], NULL) != 0 ||
        ethp2p_discv5_peer_from_enr(&peer, &rec) != 0)
      continue; /* checked by setup_discovery, or an enode URL */
    (void)ethp2p_discv5_add_node(v5, &rec);
    rc = ethp2p_discv5_ping(v5, &peer, on_v5_boot_pong, srv);
    if (rc != 0)
      ethp2p_log(ETHP2P_LOG_WARN, SRV_MODULE, "Cannot ping a discv5 bootnode",
                 "index=%zu err=\"%s\"", i + 1, ethp2p_strerror(rc));
  }
  return 0;
}

static void on_rlpx_event(ethp2p_rlpx_host *h, const ethp2p_rlpx_event *ev, void *data) {
  ethp2p_server *srv = data;
  (void)h;
  if (srv->cfg.rlpx_event != NULL)
    srv->cfg.rlpx_event(srv, ev, srv->cfg.rlpx_event_data);
}

/* Step 6: the RLPx host, its protocols, the static and trusted nodes. */
static int setup_rlpx(ethp2p_server *srv, const ethp2p_server_config *cfg, ethp2p_diag *diag) {
  ethp2p_rlpx_host_config hc;
  int rc;

  memset(&hc, 0, sizeof hc);
  hc.secret = srv->key.secret;
  hc.client_id = cfg->client_id;
  hc.listen_port = srv->tcp_addr.port;
  hc.max_peers = cfg->max_peers;
  hc.on_event = on_rlpx_event;
  hc.event_data = srv;
  rc = ethp2p_rlpx_host_create(&srv->host, srv->env, &hc);
  if (rc != 0) {
    srv->host = NULL;
    return ethp2p_diag_set(diag, rc, 0, "cannot start RLPx: %s", ethp2p_strerror(rc));
  }
  for (size_t i = 0; i < cfg->nprotocols; i++) {
    rc = ethp2p_rlpx_host_register(srv->host, &cfg->protocols[i]);
    if (rc < 0)
      return ethp2p_diag_set(diag, rc, 0, "protocol %zu (%s/%u): %s", i + 1,
                             cfg->protocols[i].name ? cfg->protocols[i].name : "(null)",
                             (unsigned)cfg->protocols[i].version, ethp2p_strerror(rc));
    srv->nprotos++;
  }
  for (size_t i = 0; i < srv->ntrusted; i++)
    (void)ethp2p_rlpx_host_add_trusted(srv->host, srv->trusted_nodes[i].pubkey);
  for (size_t i = 0; i < srv->nstatic; i++) {
    ethp2p_addr a = enode_addr(&srv->static_nodes[i]);
    (void)ethp2p_rlpx_host_add_static(srv->host, srv->static_nodes[i].pubkey, &a);
  }
  free(srv->static_nodes);
  free(srv->trusted_nodes);
  srv->static_nodes = srv->trusted_nodes = NULL;
  srv->nstatic = srv->ntrusted = 0;
  return 0;
}

static bool dialable(void *data, const ethp2p_discover_node *n) {
  (void)data;
  return n->tcp != 0;
}

static void feed_next(ethp2p_server *srv);

static size_t max_dialed(const ethp2p_server *srv) {
  size_t m = (srv->cfg.max_peers != 0 ? srv->cfg.max_peers : 50) / 3;
  return m > 0 ? m : 1;
}

static void on_feed_node(void *data, int status, const ethp2p_discover_node *n) {
  ethp2p_server *srv = data;
  ethp2p_rlpx_host_stats st;
  if (status != 0 || srv->stopping)
    return; /* closed */
  ethp2p_addr a = n->addr;
  a.port = n->tcp;
  (void)ethp2p_rlpx_host_add_candidate(srv->host, n->pub64, &a);
  ethp2p_rlpx_host_stats_get(srv->host, &st);
  /* go-ethereum's dialer reads the iterator only while it has free dial slots
   * (a third of --maxpeers for dialed peers, dialRatio 3) */
  if (st.queued >= SRV_MAX_QUEUED || st.dialed + st.pending >= max_dialed(srv))
    ethp2p_timer_start(srv->feed_timer, ethp2p_env_now(srv->env) + SRV_FEED_PAUSE);
  else
    feed_next(srv);
}

static void feed_next(ethp2p_server *srv) {
  /* every session would end "useless peer" before a protocol is registered */
  if (srv->iter != NULL && !srv->stopping && srv->nprotos > 0)
    (void)ethp2p_discv4_iter_next(srv->iter, on_feed_node, srv);
}

static void on_feed_timer(ethp2p_timer *t, void *data) {
  (void)t;
  feed_next(data);
}

/* Discovery feeds the dial scheduler (go-ethereum's dialer reads an iterator). */
static int setup_feed(ethp2p_server *srv, ethp2p_diag *diag) {
  int rc;
  if (srv->v4 == NULL)
    return 0;
  rc = ethp2p_timer_create(srv->env, &srv->feed_timer, on_feed_timer, srv);
  if (rc != 0) {
    srv->feed_timer = NULL;
    return ethp2p_diag_set(diag, rc, 0, "cannot start the dialer: %s", ethp2p_strerror(rc));
  }
  rc = ethp2p_discv4_iter_create(srv->v4, dialable, NULL, &srv->iter);
  if (rc != 0) {
    srv->iter = NULL;
    return ethp2p_diag_set(diag, rc, 0, "cannot start the dialer: %s", ethp2p_strerror(rc));
  }
  feed_next(srv);
  return 0;
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
  /* nothing is written before the ports are ours and the node files parse */
  rc = read_nodes_file(srv, "static-nodes.json", &srv->static_nodes, &srv->nstatic, diag);
  if (rc == 0)
    rc = read_nodes_file(srv, "trusted-nodes.json", &srv->trusted_nodes, &srv->ntrusted, diag);
  if (rc != 0)
    goto out_fail;
  rc = open_sockets(srv, diag);
  if (rc != 0)
    goto out_fail;
  /* the strings are only needed during start */
  rc = load_key(srv, &key, diag);
  if (rc != 0)
    goto out_fail;
  srv->cfg.nodekey_hex = NULL;
  srv->cfg.nodekey_file = NULL;
  srv->cfg.datadir = NULL;
  /* PCP nonces derived from the node key: a restarted node renews and deletes
   * the mappings it made before (RFC 6887 section 11.3) */
  if (!srv->cfg.portmap.has_nonce_key &&
      ethp2p_portmap_config_set_node_key(&srv->cfg.portmap, key.secret) != 0)
    ethp2p_log(ETHP2P_LOG_WARN, SRV_MODULE, "Cannot derive the PCP nonce key", "%s", "");
  rc = ethp2p_localnode_create(env, &key, srv->datadir[0] ? srv->datadir : NULL, &srv->ln);
  srv->key = key;
  ethp2p_nodekey_wipe(&key);
  if (rc != 0) {
    ethp2p_diag_set(diag, rc, 0, "cannot set up the local record: %s", ethp2p_strerror(rc));
    goto out_fail;
  }
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
  rc = setup_rlpx(srv, cfg, diag);
  if (rc == 0)
    rc = setup_discovery(srv, cfg, diag);
  if (rc == 0)
    rc = setup_discv5(srv, cfg, diag);
  ethp2p_nodekey_wipe(&srv->key);
  srv->cfg.bootnodes = NULL;
  srv->cfg.nbootnodes = 0;
  srv->cfg.netrestrict = NULL;
  srv->cfg.client_id = NULL;
  srv->cfg.protocols = NULL;
  srv->cfg.nprotocols = 0;
  if (rc == 0)
    rc = setup_feed(srv, diag);
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

ethp2p_localnode *ethp2p_server_localnode(ethp2p_server *srv) {
  return srv->ln;
}
ethp2p_portmap *ethp2p_server_portmap(ethp2p_server *srv) {
  return srv->pm;
}
ethp2p_discover *ethp2p_server_discover(ethp2p_server *srv) {
  return srv->mux;
}
ethp2p_discv4 *ethp2p_server_discv4(ethp2p_server *srv) {
  return srv->v4;
}
ethp2p_discv5 *ethp2p_server_discv5(ethp2p_server *srv) {
  return srv->v5 != NULL ? ethp2p_discv5_attached_node(srv->v5) : NULL;
}
ethp2p_rlpx_host *ethp2p_server_rlpx(ethp2p_server *srv) {
  return srv->host;
}
int ethp2p_server_register_protocol(ethp2p_server *srv, const ethp2p_rlpx_protocol *p) {
  if (srv == NULL || p == NULL)
    return ETHP2P_EINVAL;
  if (srv->host == NULL || srv->stopping)
    return ETHP2P_ESTATE;
  int rc = ethp2p_rlpx_host_register(srv->host, p);
  if (rc >= 0 && srv->nprotos++ == 0)
    feed_next(srv); /* the first protocol: start dialing discovered nodes */
  return rc;
}
ethp2p_addr ethp2p_server_tcp_addr(const ethp2p_server *srv) {
  return srv->tcp_addr;
}
ethp2p_addr ethp2p_server_udp_addr(const ethp2p_server *srv) {
  return srv->udp_addr;
}

/* The discovery feed ends before discv4 (the iterator belongs to it). */
static void stop_feed(ethp2p_server *srv) {
  ethp2p_discv4_iter_close(srv->iter);
  srv->iter = NULL;
  ethp2p_timer_destroy(srv->feed_timer);
  srv->feed_timer = NULL;
}

static void close_sockets(ethp2p_server *srv) {
  ethp2p_tcp_close(srv->tcp);
  srv->tcp = NULL;
  stop_feed(srv);
  ethp2p_rlpx_host_destroy(srv->host);
  srv->host = NULL;
  ethp2p_timer_destroy(srv->v5_timer);
  srv->v5_timer = NULL;
  ethp2p_discv5_detach(srv->v5); /* before discv4: it borrows discv4's table */
  srv->v5 = NULL;
  ethp2p_discv4_destroy(srv->v4);
  srv->v4 = NULL;
  ethp2p_discover_close(srv->mux);
  srv->mux = NULL;
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
  /* discovery ends first (go-ethereum closes it before the listeners) */
  stop_feed(srv);
  ethp2p_timer_destroy(srv->v5_timer);
  srv->v5_timer = NULL;
  ethp2p_discv5_detach(srv->v5);
  srv->v5 = NULL;
  ethp2p_discv4_destroy(srv->v4);
  srv->v4 = NULL;
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
  ethp2p_nodekey_wipe(&srv->key);
  free(srv->static_nodes);
  free(srv->trusted_nodes);
  free(srv);
}
