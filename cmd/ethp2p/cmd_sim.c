/*
 * cmd/ethp2p/cmd_sim.c — `ethp2p sim`: the real node code (server, local
 * record, port-mapping loop, NAT clients) in the simulated world, behind a
 * simulated router that runs the gateway emulator, for simulated days.
 *
 * The world: a NAT box ("router", EI mapping / APD filtering, port
 * preserving) whose inside address runs the gateway emulator (UPnP IGD,
 * NAT-PMP, PCP) and whose port-forward table follows the gateway's mappings;
 * the node on the router's LAN; a peer on the internet that probes the node
 * every few minutes through the endpoint in the node's latest record (a TCP
 * connect and a UDP datagram: reachable when both arrive).
 *
 * Output (stdout): a timeline with simulated timestamps (record versions,
 * mapping changes, router events, reachability changes) and a summary.  The
 * same options and seed print the same bytes.  Logs (--verbosity) go to
 * stderr with simulated timestamps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ethp2p/cli.h"
#include "cmd/ethp2p/sim_network.h"
#include "ethp2p/gateway.h"
#include "ethp2p/localnode.h"
#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "ethp2p/nodekey.h"
#include "ethp2p/portmap.h"
#include "ethp2p/server.h"
#include "ethp2p/sim.h"

#define SIM_MAX_QUIRKS 8
#define SIM_PROBE_WAIT (3 * ETHP2P_SEC)
#define SIM_TRUTH_POLL (100 * ETHP2P_MSEC)
#define SIM_TRUTH_LIMIT (2 * ETHP2P_HOUR)
#define SIM_PEER_UDP_PORT 40404

typedef struct sim_opts {
  const char *nat;
  double days;
  uint64_t seed;
  ethp2p_time restart_every;
  ethp2p_time ipchange_every;
  double loss;
  unsigned quirks;
  bool permanent_only;
  bool igdv1;
  ethp2p_time probe_every;
  unsigned verbosity;
  bool timeline;
} sim_opts;

typedef struct sim_world {
  sim_opts o;
  FILE *out;
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *node_host, *peer;
  ethp2p_env *peer_env;
  ethp2p_gateway *gw;
  ethp2p_server *srv;
  ethp2p_addr node_addr;
  ethp2p_time start, end;

  /* the node's latest record */
  ethp2p_enr rec;
  bool have_rec;
  unsigned versions;
  uint64_t first_seq, last_seq;
  unsigned violations;

  /* probes */
  ethp2p_timer *probe_timer, *probe_eval, *world_timer, *truth_timer;
  ethp2p_udp *peer_udp;
  ethp2p_tcp *probe_conn;
  uint32_t probe_id;
  bool tcp_ok, udp_seen;
  unsigned probes, probes_ok;
  bool reachable, reach_known;
  ethp2p_time unreachable_since;

  /* disruptions and recovery */
  ethp2p_time next_restart, next_ipchange;
  unsigned restarts, ipchanges, next_ip;
  bool disrupted;
  ethp2p_time disrupted_at;
  unsigned recoveries, unrecovered;
  ethp2p_time rec_sum, rec_max;

  /* portmap counters */
  unsigned ev_count[16];
  bool stopped;
  int stop_status;
} sim_world;

static sim_world *log_world; /* for the log sink's timestamps */

/* ---- output ------------------------------------------------------------------- */

static void fmt_time(const sim_world *w, ethp2p_time t, char *buf, size_t size) {
  ethp2p_time rel = t >= w->start ? t - w->start : 0;
  uint64_t ms = rel / ETHP2P_MSEC;
  snprintf(buf, size, "d%" PRIu64 " %02u:%02u:%02u.%03u", ms / 86400000u,
           (unsigned)(ms / 3600000u % 24), (unsigned)(ms / 60000u % 60),
           (unsigned)(ms / 1000u % 60), (unsigned)(ms % 1000u));
}

static void say(sim_world *w, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(sim_world *w, const char *who, const char *fmt, ...) {
  char ts[40];
  va_list ap;
  if (!w->o.timeline)
    return;
  fmt_time(w, ethp2p_sim_now(w->sim), ts, sizeof ts);
  fprintf(w->out, "%s  %-8s ", ts, who);
  va_start(ap, fmt);
  vfprintf(w->out, fmt, ap);
  va_end(ap);
  fputc('\n', w->out);
}

static void sim_log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                         const char *kv) {
  char ts[40] = "";
  (void)data;
  if (log_world != NULL)
    fmt_time(log_world, ethp2p_sim_now(log_world->sim), ts, sizeof ts);
  fprintf(stderr, "%-5s[%s] %-8s %-44s %s\n", ethp2p_log_level_name(level), ts, module, msg, kv);
}

/* ---- the truth: does the record lead a WAN host to the node? ---------------- */

static bool rec_endpoint(const sim_world *w, ethp2p_addr *ip, uint16_t *tcp, uint16_t *udp) {
  uint8_t b[4];
  if (!w->have_rec || ethp2p_enr_ip_get(&w->rec, b) != 0 ||
      ethp2p_enr_port_get(&w->rec, ETHP2P_ENR_TCP, tcp) != 0 ||
      ethp2p_enr_port_get(&w->rec, ETHP2P_ENR_UDP, udp) != 0)
    return false;
  *ip = ethp2p_addr_v4(b[0], b[1], b[2], b[3], 0);
  return true;
}

static bool forward_ok(sim_world *w, uint8_t proto, uint16_t ext, uint16_t internal_port) {
  ethp2p_sim_forward f;
  if (ethp2p_sim_nat_forward_lookup(w->box, proto, ext, &f) != 0)
    return false;
  return ethp2p_addr_equal(&f.internal, &w->node_addr, false) && f.internal.port == internal_port;
}

static bool record_true(sim_world *w) {
  ethp2p_addr ip, ext = ethp2p_sim_nat_external_addr(w->box);
  uint16_t tcp, udp;
  ethp2p_addr ta = ethp2p_server_tcp_addr(w->srv), ua = ethp2p_server_udp_addr(w->srv);
  if (!rec_endpoint(w, &ip, &tcp, &udp) || !ethp2p_addr_equal(&ip, &ext, false))
    return false;
  return forward_ok(w, ETHP2P_SIM_TCP, tcp, ta.port) && forward_ok(w, ETHP2P_SIM_UDP, udp, ua.port);
}

static void truth_cb(ethp2p_timer *t, void *data) {
  sim_world *w = data;
  ethp2p_time now = ethp2p_sim_now(w->sim);
  if (!w->disrupted)
    return;
  if (record_true(w)) {
    ethp2p_time d = now - w->disrupted_at;
    char buf[32];
    w->disrupted = false;
    w->recoveries++;
    w->rec_sum += d;
    if (d > w->rec_max)
      w->rec_max = d;
    snprintf(buf, sizeof buf, "%.1f s", (double)d / 1e9);
    say(w, "check", "record true again after %s", buf);
    return;
  }
  if (now - w->disrupted_at >= SIM_TRUTH_LIMIT) {
    w->disrupted = false;
    w->unrecovered++;
    say(w, "check", "record still not true 2 h after the disruption");
    return;
  }
  ethp2p_timer_start(t, now + SIM_TRUTH_POLL);
}

static void disruption(sim_world *w) {
  ethp2p_time now = ethp2p_sim_now(w->sim);
  if (!w->disrupted) {
    w->disrupted = true;
    w->disrupted_at = now;
  }
  ethp2p_timer_start(w->truth_timer, now + SIM_TRUTH_POLL);
}

/* ---- router firmware: gateway follows the box ------------------------------------ */

static int gw_mirror(void *data, bool add, const ethp2p_gw_mapping *m, const ethp2p_addr *ext) {
  sim_world *w = data;
  ethp2p_sim_forward f;
  (void)ext;
  if (!add) {
    ethp2p_sim_nat_forward_remove(w->box, (uint8_t)m->proto, m->external_port);
    return 0;
  }
  memset(&f, 0, sizeof f);
  f.proto = (uint8_t)m->proto;
  f.external_port = m->external_port;
  f.internal = m->internal;
  f.expires = m->expires;
  return ethp2p_sim_nat_forward_add(w->box, &f);
}

static void box_hook(ethp2p_sim_nat *nat, ethp2p_sim_nat_event ev, void *data) {
  sim_world *w = data;
  if (ev == ETHP2P_SIM_NAT_REBOOTED) {
    (void)ethp2p_gw_restart(w->gw);
  } else if (ev == ETHP2P_SIM_NAT_EXTADDR_CHANGED) {
    ethp2p_addr a = ethp2p_sim_nat_external_addr(nat);
    ethp2p_gw_set_external_ip(w->gw, &a);
  }
}

static void world_cb(ethp2p_timer *t, void *data) {
  sim_world *w = data;
  ethp2p_time now = ethp2p_sim_now(w->sim), next = UINT64_MAX;
  if (w->o.restart_every != 0 && now >= w->next_restart) {
    w->restarts++;
    say(w, "router", "restart (mappings and epoch lost)");
    ethp2p_sim_nat_reboot(w->box);
    w->next_restart += w->o.restart_every;
    disruption(w);
  }
  if (w->o.ipchange_every != 0 && now >= w->next_ipchange) {
    unsigned n = ++w->next_ip;
    ethp2p_addr a = ethp2p_addr_v4(20, 100, (uint8_t)(n / 250), (uint8_t)(n % 250 + 1), 0);
    char text[ETHP2P_ADDRSTRLEN];
    w->ipchanges++;
    say(w, "router", "external address changes to %s",
        ethp2p_addr_format(&a, false, text, sizeof text));
    (void)ethp2p_sim_nat_set_external_addr(w->box, &a);
    w->next_ipchange += w->o.ipchange_every;
    disruption(w);
  }
  if (w->o.restart_every != 0)
    next = w->next_restart;
  if (w->o.ipchange_every != 0 && w->next_ipchange < next)
    next = w->next_ipchange;
  if (next != UINT64_MAX && next < w->end)
    ethp2p_timer_start(t, next);
}

/* ---- the node's record and events ----------------------------------------------------- */

static void check_record(sim_world *w, const ethp2p_enr *rec) {
  uint8_t buf[ETHP2P_ENR_MAX_SIZE], ip[4];
  size_t len = 0;
  uint16_t p;
  bool ok = ethp2p_enr_verify(rec, NULL) == 0 &&
            ethp2p_enr_encode(buf, sizeof buf, &len, rec) == 0 && len <= ETHP2P_ENR_MAX_SIZE;
  if (w->versions > 0 && ethp2p_enr_seq(rec) <= w->last_seq)
    ok = false;
  if (ethp2p_enr_port_get(rec, ETHP2P_ENR_TCP, &p) == 0 && p == 0)
    ok = false;
  if (ethp2p_enr_port_get(rec, ETHP2P_ENR_UDP, &p) == 0 && p == 0)
    ok = false;
  if (ethp2p_enr_ip_get(rec, ip) == 0) {
    ethp2p_addr a = ethp2p_addr_v4(ip[0], ip[1], ip[2], ip[3], 0);
    if (ethp2p_addr_is_private(&a) || ethp2p_addr_is_cgnat(&a))
      ok = false;
  }
  if (!ok) {
    w->violations++;
    say(w, "check", "INVARIANT VIOLATED by record seq %" PRIu64, ethp2p_enr_seq(rec));
  }
}

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  sim_world *w = data;
  char ipt[24] = "-";
  uint8_t ip[4];
  uint16_t tcp = 0, udp = 0;
  (void)ln;
  check_record(w, rec);
  if (w->versions == 0)
    w->first_seq = ethp2p_enr_seq(rec);
  w->versions++;
  w->last_seq = ethp2p_enr_seq(rec);
  w->rec = *rec;
  w->have_rec = true;
  if (ethp2p_enr_ip_get(rec, ip) == 0)
    snprintf(ipt, sizeof ipt, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
  (void)ethp2p_enr_port_get(rec, ETHP2P_ENR_TCP, &tcp);
  (void)ethp2p_enr_port_get(rec, ETHP2P_ENR_UDP, &udp);
  say(w, "record", "v%u seq=+%" PRIu64 " ip=%s tcp=%u udp=%u size=%zu", w->versions,
      w->last_seq - w->first_seq, ipt, tcp, udp, ethp2p_enr_encoded_len(rec));
  if (w->disrupted)
    ethp2p_timer_start(w->truth_timer, ethp2p_sim_now(w->sim));
}

static void on_portmap(ethp2p_portmap *pm, const ethp2p_portmap_event *ev, void *data) {
  sim_world *w = data;
  char text[ETHP2P_ADDRSTRLEN];
  (void)pm;
  if ((unsigned)ev->type < 16)
    w->ev_count[ev->type]++;
  switch (ev->type) {
  case ETHP2P_PORTMAP_EV_MAPPING_ADDED:
    say(w, "portmap", "mapping-added %s %u -> %u lifetime=%" PRIu32 "s%s",
        ethp2p_proto_name(ev->proto), ev->internal_port, ev->external_port, ev->lifetime_s,
        ev->lifetime_s == 0 ? " (permanent)" : "");
    break;
  case ETHP2P_PORTMAP_EV_MAPPING_LOST:
    say(w, "portmap", "mapping-lost %s %u (%s)", ethp2p_proto_name(ev->proto),
        ev->old_external_port, ev->reason);
    break;
  case ETHP2P_PORTMAP_EV_MAPPING_FAILED:
    say(w, "portmap", "mapping-failed %s %u (%s, %s, failures=%u)", ethp2p_proto_name(ev->proto),
        ev->internal_port, ev->reason, ethp2p_strerror(ev->status), ev->failures);
    break;
  case ETHP2P_PORTMAP_EV_EXTIP_CHANGED:
  case ETHP2P_PORTMAP_EV_EXTIP_PRIVATE:
    say(w, "portmap", "%s %s (%s)", ethp2p_portmap_event_name(ev->type),
        ethp2p_addr_format(&ev->addr, false, text, sizeof text), ev->reason);
    break;
  case ETHP2P_PORTMAP_EV_GATEWAY_LOST:
  case ETHP2P_PORTMAP_EV_GATEWAY_FOUND:
    say(w, "portmap", "%s", ethp2p_portmap_event_name(ev->type));
    break;
  default:
    break; /* renewals and record updates are counted, not printed */
  }
}

/* ---- probes from the internet ----------------------------------------------------------- */

static void probe_conn_cb(ethp2p_tcp *conn, int status, void *data) {
  sim_world *w = data;
  if (conn != w->probe_conn)
    return;
  w->tcp_ok = status == 0;
  ethp2p_tcp_close(conn);
  w->probe_conn = NULL;
}

static void node_udp_cb(ethp2p_server *srv, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  sim_world *w = data;
  uint32_t id;
  (void)srv;
  (void)from;
  if (len == 8 && memcmp(buf, "prb", 3) == 0) {
    memcpy(&id, buf + 4, 4);
    if (id == w->probe_id)
      w->udp_seen = true;
  }
}

static void probe_eval_cb(ethp2p_timer *t, void *data) {
  sim_world *w = data;
  bool ok = w->tcp_ok && w->udp_seen;
  ethp2p_time now = ethp2p_sim_now(w->sim);
  (void)t;
  if (w->probe_conn != NULL) {
    ethp2p_tcp_close(w->probe_conn);
    w->probe_conn = NULL;
  }
  w->probes++;
  w->probes_ok += ok;
  if (!w->reach_known || ok != w->reachable) {
    if (ok && w->reach_known) {
      char d[32];
      snprintf(d, sizeof d, "%.1f min", (double)(now - w->unreachable_since) / 6e10);
      say(w, "probe", "reachable again (down for about %s)", d);
    } else if (ok) {
      say(w, "probe", "reachable from the internet");
    } else {
      say(w, "probe", "UNREACHABLE (tcp %s, udp %s)", w->tcp_ok ? "ok" : "failed",
          w->udp_seen ? "ok" : "lost");
      w->unreachable_since = now;
    }
  }
  w->reachable = ok;
  w->reach_known = true;
}

static void probe_cb(ethp2p_timer *t, void *data) {
  sim_world *w = data;
  ethp2p_time now = ethp2p_sim_now(w->sim);
  ethp2p_addr ip;
  uint16_t tcp, udp;
  ethp2p_timer_start(t, now + w->o.probe_every);
  w->probe_id++;
  w->tcp_ok = false;
  w->udp_seen = false;
  if (rec_endpoint(w, &ip, &tcp, &udp)) {
    uint8_t msg[8] = {'p', 'r', 'b', 0};
    ethp2p_addr to = ip;
    memcpy(msg + 4, &w->probe_id, 4);
    to.port = udp;
    /* three copies: a probe measures the record, not the link's loss */
    for (int i = 0; i < 3; i++)
      (void)ethp2p_udp_send(w->peer_udp, &to, msg, sizeof msg);
    to.port = tcp;
    if (ethp2p_tcp_connect(w->peer_env, &w->probe_conn, &to, NULL, probe_conn_cb, w) != 0)
      w->probe_conn = NULL;
  }
  ethp2p_timer_start(w->probe_eval, now + SIM_PROBE_WAIT);
}

static void peer_udp_cb(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  (void)u;
  (void)from;
  (void)buf;
  (void)len;
  (void)data;
}

static void on_stopped(ethp2p_server *srv, int status, void *data) {
  sim_world *w = data;
  (void)srv;
  w->stopped = true;
  w->stop_status = status;
}

/* ---- setup -------------------------------------------------------------------------------- */

static ethp2p_addr ssdp_group;

/* The router advertises over SSDP only when a LAN socket joined the group (the node's UPnP
 * client does; a NAT-PMP or PCP node does not): ten datagrams every 30 s that nobody hears
 * were most of the cost of a simulated day. */
static bool gw_lan_listens(void *data) {
  sim_world *w = data;
  return ethp2p_sim_udp_group_listeners(ethp2p_sim_nat_host(w->box), &ssdp_group) > 0;
}

static int world_build(sim_world *w) {
  ethp2p_sim_nat_config nc = ethp2p_sim_nat_config_default();
  ethp2p_sim_host *boxhost;
  ethp2p_gw_config gc;
  ethp2p_server_config sc;
  ethp2p_nodekey key;
  char hex[ETHP2P_NODEKEY_HEX_LEN + 1];
  ethp2p_diag diag;
  ethp2p_addr any;
  int rc;

  if ((rc = ethp2p_sim_create(&w->sim, w->o.seed)) != 0)
    return rc;
  w->start = ethp2p_sim_now(w->sim);
  w->end = w->start + (ethp2p_time)(w->o.days * (double)ETHP2P_DAY);
  log_world = w;
  if (w->o.loss > 0) {
    ethp2p_sim_link l = ethp2p_sim_net_link(ethp2p_sim_internet(w->sim));
    l.loss = w->o.loss;
    ethp2p_sim_net_set_link(ethp2p_sim_internet(w->sim), &l);
  }
  if ((rc = ethp2p_sim_nat_create(w->sim, &w->box, "router", &nc)) != 0)
    return rc;
  if (w->o.loss > 0) {
    ethp2p_sim_link l = ethp2p_sim_net_link(ethp2p_sim_nat_lan(w->box));
    l.loss = w->o.loss;
    ethp2p_sim_net_set_link(ethp2p_sim_nat_lan(w->box), &l);
  }
  boxhost = ethp2p_sim_nat_host(w->box);
  if ((rc = ethp2p_sim_nat_add_host(w->box, &w->node_host, "node", NULL)) != 0 ||
      (rc = ethp2p_sim_host_create_public(w->sim, &w->peer, "peer", NULL)) != 0)
    return rc;
  w->node_addr = ethp2p_sim_host_addr(w->node_host);
  w->peer_env = ethp2p_sim_host_env(w->peer);
  ethp2p_sim_set_tcp_connect_timeout(w->sim, 2 * ETHP2P_SEC);

  /* the router's firmware */
  ethp2p_gw_config_default(&gc);
  gc.lan_addr = ethp2p_sim_nat_inside_addr(w->box);
  gc.external_ip = ethp2p_sim_nat_external_addr(w->box);
  gc.quirks = w->o.quirks;
  gc.policy.permanent_only = w->o.permanent_only;
  if (w->o.igdv1)
    gc.policy.igd_version = 1;
  snprintf(gc.uuid, sizeof gc.uuid, "%s", "4d696e69-5550-6e50-0000-0000000000e6");
  if ((rc = ethp2p_gw_create(ethp2p_sim_host_env(boxhost), &gc, &w->gw)) != 0)
    return rc;
  ethp2p_gw_set_mirror(w->gw, gw_mirror, w);
  ssdp_group = gc.ssdp_group;
  ethp2p_gw_set_notify_gate(w->gw, gw_lan_listens, w);
  if ((rc = ethp2p_sim_nat_hook_add(w->box, box_hook, w)) != 0 ||
      (rc = ethp2p_gw_start(w->gw)) != 0)
    return rc;

  /* the node: a key drawn from the world's seed, no data directory */
  do {
    for (size_t i = 0; i < sizeof key.secret; i += 8) {
      uint64_t r = ethp2p_sim_random_u64(w->sim);
      memcpy(key.secret + i, &r, 8);
    }
  } while (!ethp2p_nodekey_secret_valid(key.secret));
  ethp2p_nodekey_format(&key, hex, sizeof hex);
  ethp2p_nodekey_wipe(&key);
  ethp2p_server_config_default(&sc);
  sc.nodekey_hex = hex;
  {
    char err[96] = "";
    if (ethp2p_nat_spec_parse(&sc.nat, w->o.nat, err, sizeof err) != 0) {
      fprintf(stderr, "ethp2p sim: invalid --nat \"%s\": %s\n", w->o.nat, err);
      return ETHP2P_ESYNTAX;
    }
  }
  sc.udp_cb = node_udp_cb;
  sc.udp_data = w;
  memset(&diag, 0, sizeof diag);
  rc = ethp2p_server_start(ethp2p_sim_host_env(w->node_host), &sc, &w->srv, &diag);
  memset(hex, 0, sizeof hex);
  if (rc != 0) {
    fprintf(stderr, "ethp2p sim: node did not start: %s\n",
            diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
    return rc;
  }
  ethp2p_localnode_subscribe(ethp2p_server_localnode(w->srv), on_record, w);
  ethp2p_portmap_subscribe(ethp2p_server_portmap(w->srv), on_portmap, w);

  /* the peer and the director */
  any = ethp2p_addr_v4(0, 0, 0, 0, SIM_PEER_UDP_PORT);
  if ((rc = ethp2p_udp_open(w->peer_env, &w->peer_udp, &any, 0, peer_udp_cb, w)) != 0 ||
      (rc = ethp2p_timer_create(w->peer_env, &w->probe_timer, probe_cb, w)) != 0 ||
      (rc = ethp2p_timer_create(w->peer_env, &w->probe_eval, probe_eval_cb, w)) != 0 ||
      (rc = ethp2p_timer_create(w->peer_env, &w->world_timer, world_cb, w)) != 0 ||
      (rc = ethp2p_timer_create(w->peer_env, &w->truth_timer, truth_cb, w)) != 0)
    return rc;
  /* probes run off the router's schedule (an odd offset), so a restart does
   * not always coincide with a probe */
  if (w->o.probe_every != 0)
    ethp2p_timer_start(w->probe_timer, w->start + 137 * ETHP2P_SEC);
  w->next_restart = w->start + w->o.restart_every;
  w->next_ipchange = w->start + w->o.ipchange_every;
  if ((w->o.restart_every != 0 && w->next_restart < w->end) ||
      (w->o.ipchange_every != 0 && w->next_ipchange < w->end))
    ethp2p_timer_start(w->world_timer,
                       w->o.restart_every != 0 &&
                               (w->o.ipchange_every == 0 || w->next_restart <= w->next_ipchange)
                           ? w->next_restart
                           : w->next_ipchange);
  /* the start is a disruption too: how long until the record is true? */
  disruption(w);
  return 0;
}

static void world_free(sim_world *w) {
  ethp2p_server_destroy(w->srv);
  ethp2p_gw_destroy(w->gw);
  ethp2p_sim_destroy(w->sim);
  log_world = NULL;
}

static void summary(sim_world *w) {
  unsigned left;
  ethp2p_sim_forward fw[16];
  left = (unsigned)ethp2p_sim_nat_forward_list(w->box, fw, 16);
  fprintf(w->out, "summary\n");
  fprintf(w->out, "  simulated            %.2f days, seed %" PRIu64 ", nat %s, loss %.3f\n",
          w->o.days, w->o.seed, w->o.nat, w->o.loss);
  if (w->probes > 0)
    fprintf(w->out, "  reachable            %.2f%% of %u probes from the internet\n",
            100.0 * w->probes_ok / w->probes, w->probes);
  else
    fprintf(w->out, "  reachable            not probed\n");
  fprintf(w->out, "  record versions      %u (seq first+0 .. first+%" PRIu64 ")\n", w->versions,
          w->versions ? w->last_seq - w->first_seq : 0);
  fprintf(
      w->out, "  mappings             added %u, renewed %u, failed %u, lost %u\n",
      w->ev_count[ETHP2P_PORTMAP_EV_MAPPING_ADDED], w->ev_count[ETHP2P_PORTMAP_EV_MAPPING_RENEWED],
      w->ev_count[ETHP2P_PORTMAP_EV_MAPPING_FAILED], w->ev_count[ETHP2P_PORTMAP_EV_MAPPING_LOST]);
  fprintf(w->out, "  router               %u restarts, %u address changes\n", w->restarts,
          w->ipchanges);
  if (w->recoveries > 0)
    fprintf(w->out, "  recovery             %u times, mean %.2f s, max %.2f s, unrecovered %u\n",
            w->recoveries, (double)w->rec_sum / w->recoveries / 1e9, (double)w->rec_max / 1e9,
            w->unrecovered + (w->disrupted ? 1 : 0));
  else
    fprintf(w->out, "  recovery             none, unrecovered %u\n",
            w->unrecovered + (w->disrupted ? 1 : 0));
  fprintf(w->out, "  invariant violations %u\n", w->violations);
  fprintf(w->out, "  shutdown             %s, %u forwards left on the router\n",
          !w->stopped           ? "did not finish"
          : w->stop_status == 0 ? "mappings deleted"
                                : "timed out",
          left);
  fprintf(w->out, "  trace hash           %016" PRIx64 "\n", ethp2p_sim_trace_hash(w->sim));
}

/* Runs the whole scenario; returns 0 or an error. Shared by the command and
 * by the benchmark's external timing. */
static int sim_run(sim_world *w) {
  int rc = world_build(w);
  if (rc != 0)
    return rc;
  ethp2p_sim_run_until(w->sim, w->end);
  ethp2p_timer_stop(w->probe_timer);
  ethp2p_timer_stop(w->probe_eval);
  say(w, "node", "shutting down");
  ethp2p_server_stop(w->srv, 5 * ETHP2P_SEC, on_stopped, w);
  /* a probe under way at the end is not counted */
  ethp2p_timer_stop(w->probe_timer);
  ethp2p_timer_stop(w->probe_eval);
  ethp2p_timer_stop(w->world_timer);
  ethp2p_sim_run(w->sim, 10 * ETHP2P_SEC);
  return 0;
}

/* ---- command ------------------------------------------------------------------------------- */

static void usage(FILE *out) {
  fprintf(out,
          "Usage: ethp2p sim [options]\n\n"
          "Runs the node in the simulated world behind a simulated router (the gateway\n"
          "emulator) and prints a timeline and a summary.  Same seed, same output.\n\n"
          "Options:\n"
          "  --nat pmp|pcp|upnp|any      mechanism the node uses (default any)\n"
          "  --days N                    simulated days, above 0 and at most 36500\n"
          "                              (default 1; fractions allowed: 0.5)\n"
          "  --seed S                    world seed, 0..2^64-1, decimal or 0x hex (default 1)\n"
          "  --router-restart-every D    reboot the router every D (e.g. 6h; default 0 = never)\n"
          "  --ip-change-every D         change the router's external address every D\n"
          "                              (e.g. 2d; default 0 = never)\n"
          "  --loss P                    datagram loss on every link, 0..1 (default 0)\n"
          "  --quirk NAME                router quirk (repeatable): gateway quirks such as\n"
          "                              pmp-alt-port, random-port, http-port-moves, chunked,\n"
          "                              no-concurrent, slow, drop; or permanent-only, igdv1\n"
          "  --probe-every D             internet probe interval (default 5m, 0 = none)\n"
          "  --summary-only              print only the summary\n"
          "  --verbosity 0-5             node logs on stderr with simulated time (default 0)\n"
          "  --network N                 many nodes with discovery instead (see\n"
          "                              `ethp2p sim network --help`)\n"
          "Durations: 500ms, 30s, 10m, 6h, 2d, or plain seconds; fractions allowed (1.5h);\n"
          "0 or from 100ms to 3650d.\n");
}

/* Shortest period a periodic option takes (what --help states). */
#define SIM_MIN_PERIOD (100 * ETHP2P_MSEC)

static bool parse_dur(const char *s, ethp2p_time *out) {
  char *end;
  double v, secs;
  ethp2p_time unit = ETHP2P_SEC;
  if (!((*s >= '0' && *s <= '9') || *s == '.'))
    return false; /* no sign, no space, no "inf"/"nan" */
  v = strtod(s, &end);
  if (end == s || !(v >= 0))
    return false;
  if (strcmp(end, "ms") == 0)
    unit = ETHP2P_MSEC;
  else if (strcmp(end, "s") == 0 || *end == 0)
    unit = ETHP2P_SEC;
  else if (strcmp(end, "m") == 0)
    unit = ETHP2P_MIN;
  else if (strcmp(end, "h") == 0)
    unit = ETHP2P_HOUR;
  else if (strcmp(end, "d") == 0)
    unit = ETHP2P_DAY;
  else
    return false;
  secs = v * (double)unit / (double)ETHP2P_SEC;
  if (!(secs <= 3650.0 * 86400))
    return false;
  *out = (ethp2p_time)(v * (double)unit);
  return *out == 0 || *out >= SIM_MIN_PERIOD;
}

int ethp2p_cmd_sim(int argc, char **argv) {
  sim_world *w = calloc(1, sizeof *w);
  int rc, exit_code = CLI_EXIT_OK;

  if (ethp2p_sim_network_wanted(argc, argv)) {
    free(w);
    return ethp2p_sim_network_cmd(argc, argv);
  }
  if (w == NULL)
    return CLI_EXIT_INVALID;
  w->out = stdout;
  w->o.nat = "any";
  w->o.days = 1;
  w->o.seed = 1;
  w->o.probe_every = 5 * ETHP2P_MIN;
  w->o.timeline = true;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = true;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      free(w);
      return CLI_EXIT_OK;
    }
    static const char *const with_value[] = {"--nat",
                                             "--days",
                                             "--seed",
                                             "--router-restart-every",
                                             "--ip-change-every",
                                             "--loss",
                                             "--quirk",
                                             "--probe-every",
                                             "--verbosity"};
    bool known = strcmp(a, "--summary-only") == 0;
    for (size_t k = 0; !known && k < sizeof with_value / sizeof with_value[0]; k++)
      known = strcmp(a, with_value[k]) == 0;
    if (!known) {
      fprintf(stderr, "ethp2p sim: unknown option %s (see --help)\n", a);
      goto usage_err;
    }
    if (strcmp(a, "--summary-only") == 0) {
      w->o.timeline = false;
      takes = false;
    } else if (val == NULL) {
      fprintf(stderr, "ethp2p sim: %s needs a value (see --help)\n", a);
      goto usage_err;
    } else if (strcmp(a, "--nat") == 0) {
      if (strcmp(val, "pmp") != 0 && strcmp(val, "pcp") != 0 && strcmp(val, "upnp") != 0 &&
          strcmp(val, "any") != 0) {
        fprintf(stderr, "ethp2p sim: --nat must be pmp, pcp, upnp or any\n");
        goto usage_err;
      }
      w->o.nat = val;
    } else if (strcmp(a, "--days") == 0) {
      char *end;
      w->o.days = strtod(val, &end);
      if (end == val || *end != 0 || !(w->o.days > 0) || w->o.days > 36500) {
        fprintf(stderr,
                "ethp2p sim: --days must be a number above 0 and at most 36500, got \"%s\"\n", val);
        goto usage_err;
      }
    } else if (strcmp(a, "--seed") == 0) {
      char *end;
      errno = 0;
      w->o.seed = strtoull(val, &end, 0);
      if (!(val[0] >= '0' && val[0] <= '9') || end == val || *end != 0 || errno == ERANGE) {
        fprintf(stderr, "ethp2p sim: --seed must be an integer 0..2^64-1, got \"%s\"\n", val);
        goto usage_err;
      }
    } else if (strcmp(a, "--router-restart-every") == 0 || strcmp(a, "--ip-change-every") == 0 ||
               strcmp(a, "--probe-every") == 0) {
      ethp2p_time d;
      if (!parse_dur(val, &d)) {
        fprintf(stderr,
                "ethp2p sim: invalid duration \"%s\" for %s (like 500ms, 30s, 6h, 2d: 0 or from "
                "100ms to 3650d)\n",
                val, a);
        goto usage_err;
      }
      if (strcmp(a, "--router-restart-every") == 0)
        w->o.restart_every = d;
      else if (strcmp(a, "--ip-change-every") == 0)
        w->o.ipchange_every = d;
      else
        w->o.probe_every = d;
    } else if (strcmp(a, "--loss") == 0) {
      char *end;
      w->o.loss = strtod(val, &end);
      if (end == val || *end != 0 || !(w->o.loss >= 0 && w->o.loss <= 1)) {
        fprintf(stderr, "ethp2p sim: --loss must be between 0 and 1, got \"%s\"\n", val);
        goto usage_err;
      }
    } else if (strcmp(a, "--quirk") == 0) {
      unsigned bit;
      if (strcmp(val, "permanent-only") == 0)
        w->o.permanent_only = true;
      else if (strcmp(val, "igdv1") == 0)
        w->o.igdv1 = true;
      else if (ethp2p_gw_quirk_parse(val, &bit) == 0)
        w->o.quirks |= bit;
      else {
        fprintf(stderr, "ethp2p sim: unknown quirk \"%s\"\n", val);
        goto usage_err;
      }
    } else if (strcmp(a, "--verbosity") == 0) {
      if (strlen(val) != 1 || val[0] < '0' || val[0] > '5') {
        fprintf(stderr, "ethp2p sim: --verbosity must be 0..5, got \"%s\"\n", val);
        goto usage_err;
      }
      w->o.verbosity = (unsigned)(val[0] - '0');
    }
    if (takes)
      i++;
  }
  ethp2p_log_set_sink(w->o.verbosity ? sim_log_sink : NULL, NULL, (ethp2p_log_level)w->o.verbosity);
  if (w->o.timeline)
    fprintf(w->out, "ethp2p sim: nat=%s days=%g seed=%" PRIu64 "\n", w->o.nat, w->o.days,
            w->o.seed);
  rc = sim_run(w);
  if (rc != 0) {
    fprintf(stderr, "ethp2p sim: could not build the world: %s\n", ethp2p_strerror(rc));
    exit_code = CLI_EXIT_INVALID;
  } else {
    summary(w);
    if (w->violations > 0)
      exit_code = CLI_EXIT_INVALID;
  }
  fflush(w->out);
  world_free(w);
  ethp2p_log_set_sink(NULL, NULL, ETHP2P_LOG_CRIT);
  free(w);
  return exit_code;

usage_err:
  free(w);
  return CLI_EXIT_USAGE;
}
