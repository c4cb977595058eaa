/*
 * cmd/ethp2p/cmd_node.c — `ethp2p node`: run a node on real sockets.
 *
 * Logs go to stderr (go-ethereum style); stdout gets the record's text form
 * ("enr:...") at start and after every change, one per line, flushed, so a
 * script can follow it.  SIGINT/SIGTERM delete the port mappings (bounded
 * wait) and exit 0; the second and third signals are ignored (with a warning),
 * the fourth forces the exit, with status 1.
 *
 * At the default verbosity the node says what it could not do: no gateway
 * answered within NODE_ANSWER_BOUND, a router that refuses a mapping (with its
 * reason), a mapping that keeps failing.  (A private/CGNAT external address is
 * warned about by the port-mapping loop itself.)  Every option is checked before
 * any file or socket is touched (a bad --bootnodes entry or --netrestrict network
 * is a usage error naming it).
 *
 * Discovery (go-ethereum's flags --bootnodes, --discovery.v4, --discovery.v5,
 * --nodiscover, --netrestrict) runs in the server on the UDP port; this command
 * says at INFO when the table first holds peers, logs its size at DEBUG every
 * 30 s, and warns when the bootnodes stay silent; --discovery.v5 adds discv5
 * on the same port.  RLPx: --maxpeers, --identity, and static/trusted nodes
 * from the data directory.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/localnode.h"
#include "ethp2p/log.h"
#include "ethp2p/metrics.h"
#include "ethp2p/nat.h"
#include "ethp2p/server.h"

/* Mapping deletes get this long after a signal; the process is gone well
 * within the 5 s an init system or a test allows. */
#define NODE_STOP_BOUND (3 * ETHP2P_SEC)
#define NODE_FORCE_SIGNALS 4 /* the 4th signal during shutdown forces the exit */
/* When no gateway has answered this long after start, the node says so (the RFC
 * retransmissions go on in the background; `nat extip`/`nat map` give up after
 * the same time). */
#define NODE_ANSWER_BOUND_MS 10000
/* Discovery: the table is looked at every second (INFO on the first peers), its
 * size logged at DEBUG every NODE_TABLE_LOG_S, and a node whose bootnodes have
 * not answered after NODE_BOOT_WARN_S says so. */
#define NODE_TABLE_POLL_MS 1000
#define NODE_TABLE_LOG_S 30
#define NODE_BOOT_WARN_S 30
/* The server takes at most this many bootnodes. */
#define NODE_MAX_BOOTNODES 64

typedef struct node_state {
  uv_loop_t *loop;
  ethp2p_server *srv;
  uv_signal_t sigint, sigterm;
  uv_timer_t answer_timer;
  int signals;
  bool stopped, forced;
  ethp2p_nat_kind nat_kind;
  bool nat_answered;      /* a mapping was granted or an external address reported */
  int warned_code[2];     /* router code last warned about, per proto (tcp, udp); 0 none */
  bool warned_failing[2]; /* "keeps failing" said for this proto since its last success */
  uv_timer_t table_timer;
  unsigned table_ticks;
  bool table_found; /* "found its first peers" said */
  size_t nbootnodes;
} node_state;

static void usage(FILE *out) {
  fprintf(out,
          "Usage: ethp2p node [options]\n\n"
          "Runs a node: loads or creates its key, listens on TCP and UDP, keeps its ports\n"
          "mapped through the router and prints its record (enr:...) on stdout at start\n"
          "and after every change.\n\n"
          "Options (also spelled -name or -name=value, as geth and Go's flag package):\n"
          "  --datadir DIR            data directory (default ~/.ethp2p): nodekey, enr-seq\n"
          "  --nat SPEC               none|any|extip:IPv4|upnp|pmp[:IPv4 GW]|pcp[:IPv4 GW]|\n"
          "                           stun[:HOST:PORT,...] (default any; host names resolved)\n"
          "  --port N                 TCP listening port (default 30303, 0 = any free)\n"
          "  --discport N             UDP discovery port (default: same as --port);\n"
          "                           --discovery.port is the same option (geth's name)\n"
          "  --listen IP              IPv4 address of this host to listen on (default 0.0.0.0;\n"
          "                           loopback and private addresses are not port-mapped)\n"
          "  --nodekey FILE           node key file (64 hex characters)\n"
          "  --nodekeyhex HEX         node key as hex (for testing)\n"
          "  --verbosity 0-5          log level: 0 silent .. 3 info .. 5 trace (default 3)\n"
          "  --log.format FMT         terminal|json|logfmt (default terminal)\n"
          "  --nat.lease D            mapping lifetime asked for (default 2h where the\n"
          "                           router reports restarts, else 10m)\n"
          "  --nat.refresh D          refresh after success (default 8m)\n"
          "  --nat.retry D            retry after failure (default 5m)\n"
          "  --nat.extip-interval D   external address poll (default 2m)\n"
          "  --bootnodes LIST         comma-separated enode:// URLs or enr: records to\n"
          "                           start discovery from (at most 64)\n"
          "  --discovery.v4[=BOOL]    discv4 on the UDP port (default true; alias --discv4)\n"
          "  --discovery.v5[=BOOL]    discv5 on the same UDP port (default false; alias\n"
          "                           --discv5); enr: bootnodes are used by both\n"
          "  --nodiscover             no discovery at all (the UDP port stays open)\n"
          "  --netrestrict CIDRS      talk to discovery peers only in these IPv4/IPv6\n"
          "                           networks (comma-separated, e.g. 10.0.0.0/8)\n"
          "  --maxpeers N             RLPx peers at most (default 50); static and trusted\n"
          "                           nodes come from <datadir>/static-nodes.json and\n"
          "                           trusted-nodes.json\n"
          "  --identity NAME          client ID in our Hello (default ethp2p/v<version>)\n"
          "  --metrics                serve Prometheus metrics (/metrics) and JSON (/status)\n"
          "  --metrics.addr IP        metrics server address (default 127.0.0.1)\n"
          "  --metrics.port N         metrics server port (default 6060)\n"
          "Switches also take =true / =false (--discovery.v4=false).\n"
          "Durations: 500ms, 30s, 10m, 2h, 1d or plain seconds (at most 30 days;\n"
          "--nat.lease at least 1s).\n"
          "SIGINT/SIGTERM: delete the mappings (at most 3 s) and exit 0; the 4th signal\n"
          "forces the exit (status 1).\n");
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out) {
  uint64_t v;
  if (!cli_parse_uint(s, max, &v))
    return false;
  *out = (unsigned long)v;
  return true;
}

static bool parse_duration(const char *s, ethp2p_time *out) {
  uint64_t ms;
  if (!cli_parse_duration(s, &ms))
    return false;
  *out = (ethp2p_time)ms * ETHP2P_MSEC;
  return true;
}

/* mkdir -p with mode 0700 for the parts we create. */
static int make_dirs(const char *path) {
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf)
    return -1;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] == '/' || buf[i] == 0) {
      char c = buf[i];
      buf[i] = 0;
      if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
      buf[i] = c;
    }
  }
  return 0;
}

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  char text[ETHP2P_ENR_TEXT_MAX + 1];
  (void)ln;
  (void)data;
  if (ethp2p_enr_text_encode(text, sizeof text, NULL, rec) == 0) {
    fprintf(stdout, "%s\n", text);
    fflush(stdout);
  }
}

/* RLPx peers as the server's host reports them (inbound TCP goes to the host). */
static void on_rlpx_event(ethp2p_server *srv, const ethp2p_rlpx_event *ev, void *data) {
  static const char *const what[] = {"RLPx peer added", "RLPx peer rejected", "RLPx dial failed",
                                     "RLPx peer removed", "RLPx peer answered a ping"};
  char text[ETHP2P_ADDRSTRLEN] = "?";
  (void)srv;
  (void)data;
  if ((unsigned)ev->kind >= sizeof what / sizeof what[0] || !ethp2p_log_enabled(ETHP2P_LOG_DEBUG))
    return;
  ethp2p_addr_format(&ev->addr, true, text, sizeof text);
  ethp2p_log(ETHP2P_LOG_DEBUG, "node", what[ev->kind], "addr=%s inbound=%s reason=%d err=\"%s\"",
             text, ev->inbound ? "true" : "false", ev->info.reason,
             ev->info.error != 0 ? ethp2p_strerror(ev->info.error) : "");
}

/* Index 0 for TCP, 1 for UDP. */
static int proto_slot(ethp2p_proto p) {
  return p == ETHP2P_PROTO_UDP ? 1 : 0;
}

/* The name of a router's result code, as far as we know it.  UPnP IGD error
 * codes (UPnP IGD:2 WANIPConnection §2.4) are >= 400; below that NAT-PMP
 * (RFC 6886 §3.5) or PCP (RFC 6887 §7.4) result codes. */
static const char *router_reason(const char *nat_name, int code) {
  static const struct {
    int code;
    const char *name;
  } upnp[] = {
      {402, "Invalid Args"},
      {501, "Action Failed"},
      {606, "Action not authorized"},
      {714, "NoSuchEntryInArray"},
      {715, "WildCardNotPermittedInSrcIP"},
      {716, "WildCardNotPermittedInExtPort"},
      {718, "ConflictInMappingEntry"},
      {724, "SamePortValuesRequired"},
      {725, "OnlyPermanentLeasesSupported"},
      {726, "RemoteHostOnlySupportsWildcard"},
      {727, "ExternalPortOnlySupportsWildcard"},
      {728, "NoPortMapsAvailable"},
      {729, "ConflictWithOtherMechanisms"},
  };
  if (code >= 400) {
    for (size_t i = 0; i < sizeof upnp / sizeof upnp[0]; i++)
      if (upnp[i].code == code)
        return upnp[i].name;
    return "UPnP error";
  }
  if (nat_name != NULL && strcmp(nat_name, "NAT-PMP") == 0)
    return ethp2p_pmp_result_name((unsigned)code);
  return ethp2p_pcp_result_name((unsigned)code);
}

static const char *nat_protocols(ethp2p_nat_kind kind) {
  switch (kind) {
  case ETHP2P_NAT_UPNP:
    return "UPnP";
  case ETHP2P_NAT_PMP:
    return "NAT-PMP";
  case ETHP2P_NAT_PCP:
    return "PCP or NAT-PMP";
  default:
    return "UPnP, NAT-PMP or PCP";
  }
}

/* The IPv4 address the current record advertises, as text ("none" without one). */
static void record_ip(ethp2p_server *srv, char *out, size_t cap) {
  ethp2p_enr rec;
  uint8_t ip[4];
  snprintf(out, cap, "none");
  if (ethp2p_localnode_record(ethp2p_server_localnode(srv), &rec) == 0 &&
      ethp2p_enr_ip_get(&rec, ip) == 0)
    snprintf(out, cap, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static void on_answer_timer(uv_timer_t *t) {
  node_state *st = t->data;
  ethp2p_portmap *pm = ethp2p_server_portmap(st->srv);
  char ip[ETHP2P_ADDRSTRLEN], msg[200];
  if (st->nat_answered || st->signals > 0)
    return;
  record_ip(st->srv, ip, sizeof ip);
  if (st->nat_kind == ETHP2P_NAT_STUN) {
    snprintf(msg, sizeof msg,
             "No STUN server answered; the record advertises %s; run `ethp2p nat doctor`", ip);
  } else if (st->nat_kind == ETHP2P_NAT_ANY || st->nat_kind == ETHP2P_NAT_UPNP ||
             st->nat_kind == ETHP2P_NAT_PMP || st->nat_kind == ETHP2P_NAT_PCP) {
    if (ethp2p_portmap_mappings(pm, NULL, 0) == 0)
      return; /* nothing to map (loopback or private listen address) */
    snprintf(msg, sizeof msg,
             "No gateway answered %s; the record advertises %s; run `ethp2p nat doctor`",
             nat_protocols(st->nat_kind), ip);
  } else {
    return;
  }
  ethp2p_log(ETHP2P_LOG_WARN, "node", msg, "waited=%ds nat=%s", NODE_ANSWER_BOUND_MS / 1000,
             ethp2p_portmap_nat(pm)->name);
}

/* Turns the port-mapping loop's events into what a user needs to hear at the
 * default verbosity (the loop's own lines cover successes and private addresses). */
static void on_portmap_event(ethp2p_portmap *pm, const ethp2p_portmap_event *ev, void *data) {
  node_state *st = data;
  int slot = proto_slot(ev->proto);
  const char *nat_name = ethp2p_portmap_nat(pm)->name;

  switch (ev->type) {
  case ETHP2P_PORTMAP_EV_MAPPING_ADDED:
  case ETHP2P_PORTMAP_EV_MAPPING_RENEWED:
    st->nat_answered = true;
    if (st->warned_code[slot] != 0 || st->warned_failing[slot])
      ethp2p_log(ETHP2P_LOG_INFO, "node", "Port mapping works again", "proto=%s port=%u",
                 ethp2p_proto_name(ev->proto), ev->external_port);
    st->warned_code[slot] = 0;
    st->warned_failing[slot] = false;
    break;
  case ETHP2P_PORTMAP_EV_EXTIP_CHANGED:
  case ETHP2P_PORTMAP_EV_EXTIP_PRIVATE:
  case ETHP2P_PORTMAP_EV_GATEWAY_FOUND:
    st->nat_answered = true;
    break;
  case ETHP2P_PORTMAP_EV_MAPPING_FAILED:
    if (ev->router_code != 0) {
      /* The router answered and said no: it will say so again at every retry. */
      st->nat_answered = true;
      if (st->warned_code[slot] == ev->router_code)
        break;
      st->warned_code[slot] = ev->router_code;
      ethp2p_log(ETHP2P_LOG_WARN, "node", "Router refuses the port mapping",
                 "proto=%s port=%u code=%d reason=\"%s\" failures=%u interface=%s",
                 ethp2p_proto_name(ev->proto), ev->internal_port, ev->router_code,
                 router_reason(nat_name, ev->router_code), ev->failures, nat_name);
    } else if (ev->failures >= 2 && !st->warned_failing[slot] &&
               (st->nat_answered || !ethp2p_nat_is_conn_failure(ev->status))) {
      /* Silence from the start is the answer timer's business. */
      st->warned_failing[slot] = true;
      ethp2p_log(ETHP2P_LOG_WARN, "node", "Port mapping keeps failing",
                 "proto=%s port=%u failures=%u err=\"%s\" interface=%s",
                 ethp2p_proto_name(ev->proto), ev->internal_port, ev->failures,
                 ethp2p_strerror(ev->status), nat_name);
    }
    break;
  default:
    break;
  }
}

/* Splits --bootnodes (commas, blanks around entries ignored, as geth) into
 * list[] pointing into *buf (the caller frees it) and checks every entry the
 * way discovery will read it.  Prints the reason naming the bad entry.
 * Returns the number of entries, or -1. */
static int split_bootnodes(const char *text, char **buf, const char **list, size_t max) {
  size_t n = 0;
  char *p;
  *buf = strdup(text);
  if (*buf == NULL) {
    fprintf(stderr, "ethp2p node: out of memory\n");
    return -1;
  }
  p = *buf;
  while (*p != 0) {
    char *end = strchr(p, ','), *e;
    ethp2p_discover_node node;
    ethp2p_diag d;
    int rc;
    if (end != NULL)
      *end = 0;
    while (*p == ' ' || *p == '\t')
      p++;
    e = p + strlen(p);
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
      *--e = 0;
    if (*p != 0) {
      if (n == max) {
        fprintf(stderr, "ethp2p node: more than %zu --bootnodes\n", max);
        return -1;
      }
      memset(&d, 0, sizeof d);
      rc = ethp2p_discover_node_parse(&node, NULL, p, &d);
      if (rc != 0) {
        fprintf(stderr, "ethp2p node: invalid bootnode %zu \"%.60s%s\": %s\n", n + 1, p,
                strlen(p) > 60 ? "..." : "", d.msg[0] ? d.msg : ethp2p_strerror(rc));
        return -1;
      }
      list[n++] = p;
    }
    if (end == NULL)
      break;
    p = end + 1;
  }
  return (int)n;
}

/* Discovery as the user sees it: INFO when the table first holds peers, the
 * size at DEBUG now and then, a WARN when the bootnodes stay silent. */
static void on_table_timer(uv_timer_t *t) {
  node_state *st = t->data;
  ethp2p_discv4 *v4 = ethp2p_server_discv4(st->srv);
  ethp2p_discv4_stats ds;
  if (v4 == NULL || st->signals > 0)
    return;
  st->table_ticks++;
  ethp2p_discv4_get_stats(v4, &ds);
  if (!st->table_found && ds.table_len > 0) {
    st->table_found = true;
    ethp2p_log(ETHP2P_LOG_INFO, "node", "Discovery found its first peers", "table=%zu after=%us",
               ds.table_len, st->table_ticks * NODE_TABLE_POLL_MS / 1000);
  }
  if (!st->table_found && st->nbootnodes > 0 &&
      st->table_ticks == NODE_BOOT_WARN_S * 1000 / NODE_TABLE_POLL_MS)
    ethp2p_log(ETHP2P_LOG_WARN, "node", "No discovery peers yet: the bootnodes did not answer",
               "bootnodes=%zu waited=%ds pings_sent=%llu pongs=%llu", st->nbootnodes,
               NODE_BOOT_WARN_S, (unsigned long long)ds.tx[ETHP2P_DISCV4_PING],
               (unsigned long long)ds.rx[ETHP2P_DISCV4_PONG]);
  if (st->table_ticks % (NODE_TABLE_LOG_S * 1000 / NODE_TABLE_POLL_MS) == 0 &&
      ethp2p_log_enabled(ETHP2P_LOG_DEBUG))
    ethp2p_log(ETHP2P_LOG_DEBUG, "node", "Discovery table",
               "size=%zu pings_in=%llu pongs_in=%llu findnode_in=%llu neighbors_in=%llu "
               "lookups=%llu timeouts=%llu",
               ds.table_len, (unsigned long long)ds.rx[ETHP2P_DISCV4_PING],
               (unsigned long long)ds.rx[ETHP2P_DISCV4_PONG],
               (unsigned long long)ds.rx[ETHP2P_DISCV4_FINDNODE],
               (unsigned long long)ds.rx[ETHP2P_DISCV4_NEIGHBORS], (unsigned long long)ds.lookups,
               (unsigned long long)ds.timeouts);
}

static void on_stopped(ethp2p_server *srv, int status, void *data) {
  node_state *st = data;
  (void)srv;
  (void)status;
  st->stopped = true;
  uv_stop(st->loop);
}

static void on_signal(uv_signal_t *h, int signum) {
  node_state *st = h->data;
  st->signals++;
  /* Like geth: further signals do not cut the clean shutdown short (tools such as
   * timeout(1) or a service manager may deliver one SIGTERM twice — to the process and
   * to its group — and quitting then would leave mappings on the router); only an
   * insistent user forces the exit.  The shutdown itself is bounded anyway. */
  if (st->signals > 1) {
    if (st->signals < NODE_FORCE_SIGNALS) {
      ethp2p_log(ETHP2P_LOG_WARN, "node", "Already shutting down, interrupt more to force exit",
                 "times=%d", NODE_FORCE_SIGNALS - st->signals);
      return;
    }
    ethp2p_log(ETHP2P_LOG_WARN, "node", "Forced exit, mappings may be left on the router", "%s",
               "");
    st->forced = true;
    uv_stop(st->loop);
    return;
  }
  ethp2p_log(ETHP2P_LOG_INFO, "node", "Got interrupt, shutting down...", "signal=%s",
             signum == SIGINT ? "SIGINT" : "SIGTERM");
  if (ethp2p_server_stop(st->srv, NODE_STOP_BOUND, on_stopped, st) != 0)
    uv_stop(st->loop);
}

static void close_walk_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Whether ip (IPv4) belongs to this host: binding a UDP socket to it is the test
 * the listeners would fail later. */
static int check_local_ip(const ethp2p_addr *ip) {
  struct sockaddr_in sin;
  int fd, rc = 0;
  if (ip->family != 4 || ethp2p_addr_is_unspecified(ip))
    return 0;
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0; /* cannot tell; the listener will say */
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  memcpy(&sin.sin_addr, ip->ip, 4);
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
    rc = errno;
  close(fd);
  return rc;
}

enum node_opt_id {
  OPT_DATADIR,
  OPT_NAT,
  OPT_PORT,
  OPT_DISCPORT,
  OPT_LISTEN,
  OPT_NODEKEY,
  OPT_NODEKEYHEX,
  OPT_VERBOSITY,
  OPT_LOGFMT,
  OPT_LEASE,
  OPT_REFRESH,
  OPT_RETRY,
  OPT_EXTIP_INTERVAL,
  OPT_METRICS,
  OPT_METRICS_ADDR,
  OPT_METRICS_PORT,
  OPT_BOOTNODES,
  OPT_DISCV4,
  OPT_DISCV5,
  OPT_NODISCOVER,
  OPT_NETRESTRICT,
  OPT_MAXPEERS,
  OPT_IDENTITY,
};

static const struct node_opt {
  const char *name;
  enum node_opt_id id;
  bool has_value;
} node_opts[] = {
    {"--datadir", OPT_DATADIR, true},
    {"--nat", OPT_NAT, true},
    {"--port", OPT_PORT, true},
    {"--discport", OPT_DISCPORT, true},
    {"--discovery.port", OPT_DISCPORT, true}, /* geth's name */
    {"--listen", OPT_LISTEN, true},
    {"--nodekey", OPT_NODEKEY, true},
    {"--nodekeyhex", OPT_NODEKEYHEX, true},
    {"--verbosity", OPT_VERBOSITY, true},
    {"--log.format", OPT_LOGFMT, true},
    {"--nat.lease", OPT_LEASE, true},
    {"--nat.refresh", OPT_REFRESH, true},
    {"--nat.retry", OPT_RETRY, true},
    {"--nat.extip-interval", OPT_EXTIP_INTERVAL, true},
    {"--metrics", OPT_METRICS, false},
    {"--metrics.addr", OPT_METRICS_ADDR, true},
    {"--metrics.port", OPT_METRICS_PORT, true},
    {"--bootnodes", OPT_BOOTNODES, true},
    {"--discovery.v4", OPT_DISCV4, false},
    {"--discv4", OPT_DISCV4, false}, /* geth's alias */
    {"--discovery.v5", OPT_DISCV5, false},
    {"--discv5", OPT_DISCV5, false}, /* geth's alias */
    {"--nodiscover", OPT_NODISCOVER, false},
    {"--netrestrict", OPT_NETRESTRICT, true},
    {"--maxpeers", OPT_MAXPEERS, true},
    {"--identity", OPT_IDENTITY, true},
};

static const struct node_opt *find_opt(const char *name) {
  for (size_t i = 0; i < sizeof node_opts / sizeof node_opts[0]; i++)
    if (strcmp(node_opts[i].name, name) == 0)
      return &node_opts[i];
  return NULL;
}

/* The command; *bootnodes_buf (the split --bootnodes) is freed by the caller
 * whatever the way out. */
static int node_main(int argc, char **argv, char **bootnodes_buf) {
  ethp2p_server_config cfg;
  const char *datadir = NULL, *natspec = "any";
  char home_dir[PATH_MAX];
  unsigned long verbosity = 3, v;
  bool discport_set = false;
  int logfmt = CLI_LOG_TERMINAL, rc, exit_code = CLI_EXIT_OK;
  ethp2p_diag diag;
  uv_loop_t loop;
  ethp2p_env *env = NULL;
  node_state st;
  bool metrics_on = false;
  const char *metrics_addr = "127.0.0.1";
  unsigned long metrics_port = 6060;
  ethp2p_metrics *metrics = NULL;
  ethp2p_addr metrics_at;
  struct stat sb;
  const char *bootnodes_text = NULL;
  const char *bootnodes[NODE_MAX_BOOTNODES];

  ethp2p_server_config_default(&cfg);
  argc = cli_go_flags(argc, argv);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    char name[40];
    const char *eq = strchr(a, '=');
    size_t nl = eq != NULL ? (size_t)(eq - a) : strlen(a);
    const struct node_opt *o;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return CLI_EXIT_OK;
    }
    if (strncmp(a, "--", 2) != 0) {
      fprintf(stderr, "ethp2p node: unexpected argument \"%s\" (see --help)\n", a);
      return CLI_EXIT_USAGE;
    }
    if (nl >= sizeof name || (o = find_opt((memcpy(name, a, nl), name[nl] = 0, name))) == NULL) {
      fprintf(stderr, "ethp2p node: unknown option %.*s (see --help)\n", (int)nl, a);
      return CLI_EXIT_USAGE;
    }
    if (!o->has_value) { /* a switch, as in go-ethereum; Go also takes -name=true|false */
      if (eq != NULL && strcmp(eq + 1, "true") != 0 && strcmp(eq + 1, "false") != 0) {
        fprintf(stderr, "ethp2p node: %s is a switch: give it alone, or =true / =false\n", name);
        return CLI_EXIT_USAGE;
      }
      bool on = eq == NULL || strcmp(eq + 1, "true") == 0;
      if (o->id == OPT_METRICS)
        metrics_on = on;
      else if (o->id == OPT_DISCV4)
        cfg.discv4_off = !on;
      else if (o->id == OPT_DISCV5)
        cfg.discv5 = on;
      else
        cfg.nodiscover = on;
      continue;
    }
    if (eq != NULL) {
      val = eq + 1;
    } else if (i + 1 < argc) {
      val = argv[++i];
    } else {
      fprintf(stderr, "ethp2p node: %s needs a value\n", name);
      return CLI_EXIT_USAGE;
    }
    switch (o->id) {
    case OPT_DATADIR:
      if (*val == 0) {
        fprintf(stderr, "ethp2p node: --datadir needs a directory\n");
        return CLI_EXIT_USAGE;
      }
      datadir = val;
      break;
    case OPT_NAT:
      natspec = val;
      break;
    case OPT_PORT:
    case OPT_DISCPORT:
      if (!parse_uint(val, 65535, &v)) {
        fprintf(stderr, "ethp2p node: invalid port \"%s\" for %s (0-65535)\n", val, name);
        return CLI_EXIT_USAGE;
      }
      if (o->id == OPT_PORT) {
        cfg.port = (uint16_t)v;
      } else {
        cfg.discport = (uint16_t)v;
        discport_set = true;
      }
      break;
    case OPT_LISTEN:
      if (ethp2p_addr_parse_ip(&cfg.listen, val) != 0 || cfg.listen.family != 4) {
        fprintf(stderr, "ethp2p node: --listen needs an IPv4 address, got \"%s\"\n", val);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_METRICS_ADDR:
      metrics_addr = val;
      break;
    case OPT_METRICS_PORT:
      if (!parse_uint(val, 65535, &metrics_port)) {
        fprintf(stderr, "ethp2p node: invalid port \"%s\" for --metrics.port (0-65535)\n", val);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_NODEKEY:
      cfg.nodekey_file = val;
      break;
    case OPT_NODEKEYHEX:
      cfg.nodekey_hex = val;
      break;
    case OPT_VERBOSITY:
      if (!parse_uint(val, 5, &verbosity)) {
        fprintf(stderr, "ethp2p node: --verbosity must be 0..5, got \"%s\"\n", val);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_LOGFMT:
      if ((logfmt = cli_log_format_parse(val)) < 0) {
        fprintf(stderr, "ethp2p node: --log.format must be terminal, json or logfmt, got \"%s\"\n",
                val);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_LEASE:
    case OPT_REFRESH:
    case OPT_RETRY:
    case OPT_EXTIP_INTERVAL: {
      ethp2p_time d;
      if (!parse_duration(val, &d) || (o->id == OPT_LEASE && d < ETHP2P_SEC)) {
        fprintf(stderr,
                "ethp2p node: invalid duration \"%s\" for %s (like 500ms, 30s, 10m, 2h; "
                "%s at most 30 days)\n",
                val, name, o->id == OPT_LEASE ? "at least 1s," : "above 0,");
        return CLI_EXIT_USAGE;
      }
      if (o->id == OPT_LEASE)
        cfg.portmap.lease = d;
      else if (o->id == OPT_REFRESH)
        cfg.portmap.refresh = d;
      else if (o->id == OPT_RETRY)
        cfg.portmap.retry = d;
      else
        cfg.portmap.extip_interval = d;
      break;
    }
    case OPT_BOOTNODES:
      bootnodes_text = val; /* split and checked below */
      break;
    case OPT_NETRESTRICT:
      cfg.netrestrict = *val != 0 ? val : NULL;
      break;
    case OPT_MAXPEERS:
      if (!parse_uint(val, 100000, &v) || v == 0) {
        fprintf(stderr, "ethp2p node: invalid --maxpeers \"%s\" (1-100000)\n", val);
        return CLI_EXIT_USAGE;
      }
      cfg.max_peers = (size_t)v;
      break;
    case OPT_IDENTITY:
      if (*val == 0 || strlen(val) > 200) {
        fprintf(stderr, "ethp2p node: --identity needs a client name of 1-200 characters\n");
        return CLI_EXIT_USAGE;
      }
      cfg.client_id = val;
      break;
    case OPT_METRICS:
    case OPT_DISCV4:
    case OPT_DISCV5:
    case OPT_NODISCOVER:
      break;
    }
  }
  if (!discport_set)
    cfg.discport = cfg.port;
  {
    char err[128] = "";
    if (ethp2p_nat_spec_parse(&cfg.nat, natspec, err, sizeof err) != 0) {
      fprintf(stderr, "ethp2p node: invalid --nat \"%s\": %s\n", natspec, err);
      return CLI_EXIT_USAGE;
    }
    if (cli_check_nat_family(&cfg.nat, natspec, "ethp2p node") != 0)
      return CLI_EXIT_USAGE;
  }
  if (bootnodes_text != NULL) {
    int n = split_bootnodes(bootnodes_text, bootnodes_buf, bootnodes, NODE_MAX_BOOTNODES);
    if (n < 0)
      return CLI_EXIT_USAGE;
    cfg.bootnodes = bootnodes;
    cfg.nbootnodes = (size_t)n;
  }
  if (cfg.netrestrict != NULL) {
    ethp2p_addr nets[32];
    uint8_t prefix[32];
    memset(&diag, 0, sizeof diag);
    if (ethp2p_server_netrestrict_parse(cfg.netrestrict, nets, prefix, 32, &diag) < 0) {
      fprintf(stderr, "ethp2p node: invalid --netrestrict \"%s\": %s\n", cfg.netrestrict, diag.msg);
      return CLI_EXIT_USAGE;
    }
  }
  /* Everything below checks the options against the host before anything is
   * created: a refused start leaves no key, directory or socket behind. */
  if (metrics_on) {
    if (ethp2p_addr_parse_ip(&metrics_at, metrics_addr) != 0) {
      fprintf(stderr, "ethp2p node: invalid --metrics.addr \"%s\": not an IP address\n",
              metrics_addr);
      return CLI_EXIT_USAGE;
    }
    metrics_at.port = (uint16_t)metrics_port;
  }
  if ((rc = check_local_ip(&cfg.listen)) != 0) {
    char text[ETHP2P_ADDRSTRLEN];
    fprintf(stderr, "ethp2p node: --listen %s: %s\n",
            ethp2p_addr_format(&cfg.listen, false, text, sizeof text),
            rc == EADDRNOTAVAIL ? "not an address of this host (see `ip addr`)" : strerror(rc));
    return CLI_EXIT_INVALID;
  }
  if (cfg.nodekey_hex == NULL && cfg.nodekey_file != NULL && access(cfg.nodekey_file, R_OK) != 0) {
    fprintf(stderr, "ethp2p node: cannot open key file %s: %s\n", cfg.nodekey_file,
            strerror(errno));
    return CLI_EXIT_INVALID;
  }
  if (cfg.nat.kind == ETHP2P_NAT_STUN && cli_resolve_stun(&cfg.nat, "ethp2p node") != 0)
    return CLI_EXIT_INVALID;

  if (datadir == NULL) {
    const char *home = getenv("HOME");
    int n;
    if (home == NULL || *home == 0) {
      fprintf(stderr, "ethp2p node: HOME is not set; pass --datadir\n");
      return CLI_EXIT_USAGE;
    }
    n = snprintf(home_dir, sizeof home_dir, "%s/.ethp2p", home);
    if (n < 0 || (size_t)n >= sizeof home_dir) {
      fprintf(stderr, "ethp2p node: HOME is too long; pass --datadir\n");
      return CLI_EXIT_USAGE;
    }
    datadir = home_dir;
  }
  if (stat(datadir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "ethp2p node: data directory %s is a file, not a directory\n", datadir);
    return CLI_EXIT_INVALID;
  }
  if (make_dirs(datadir) != 0) {
    fprintf(stderr, "ethp2p node: cannot create data directory %s: %s\n", datadir, strerror(errno));
    return CLI_EXIT_INVALID;
  }
  cfg.datadir = datadir;
  cfg.rlpx_event = on_rlpx_event; /* inbound TCP goes to the server's RLPx host */

  ethp2p_log_set_sink(verbosity == 0 ? NULL : cli_log_sink, &logfmt, (ethp2p_log_level)verbosity);
  if (uv_loop_init(&loop) != 0) {
    fprintf(stderr, "ethp2p node: cannot create event loop\n");
    return CLI_EXIT_INVALID;
  }
  rc = ethp2p_uvenv_create(&loop, &env);
  if (rc != 0) {
    fprintf(stderr, "ethp2p node: cannot create environment: %s\n", ethp2p_strerror(rc));
    uv_loop_close(&loop);
    return CLI_EXIT_INVALID;
  }
  memset(&st, 0, sizeof st);
  st.loop = &loop;
  st.nat_kind = cfg.nat.kind;
  memset(&diag, 0, sizeof diag);
  rc = ethp2p_server_start(env, &cfg, &st.srv, &diag);
  if (rc != 0) {
    fprintf(stderr, "ethp2p node: %s\n", diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
    exit_code = CLI_EXIT_INVALID;
    goto out_env;
  }
  ethp2p_localnode_subscribe(ethp2p_server_localnode(st.srv), on_record, NULL);
  (void)ethp2p_portmap_subscribe(ethp2p_server_portmap(st.srv), on_portmap_event, &st);
  if (metrics_on) {
    if ((rc = ethp2p_metrics_create(env, &metrics)) != 0 ||
        (rc = ethp2p_metrics_attach_portmap(metrics, ethp2p_server_portmap(st.srv))) != 0 ||
        (rc = ethp2p_metrics_attach_localnode(metrics, ethp2p_server_localnode(st.srv))) != 0 ||
        (rc = ethp2p_metrics_serve(metrics, &metrics_at)) != 0) {
      fprintf(stderr, "ethp2p node: cannot serve metrics on %s:%lu: %s\n", metrics_addr,
              metrics_port, ethp2p_strerror(rc));
      exit_code = CLI_EXIT_INVALID;
      goto out_srv;
    }
  }
  {
    ethp2p_portmap *pm = ethp2p_server_portmap(st.srv);
    char ip[ETHP2P_ADDRSTRLEN];
    record_ip(st.srv, ip, sizeof ip);
    if (cfg.nat.kind == ETHP2P_NAT_NONE)
      ethp2p_log(ETHP2P_LOG_INFO, "node", "Port mapping is off (--nat none)", "advertised_ip=%s",
                 ip);
    else if ((ethp2p_portmap_nat(pm)->caps & ETHP2P_NAT_CAP_MAP) != 0 &&
             ethp2p_portmap_mappings(pm, NULL, 0) == 0)
      ethp2p_log(ETHP2P_LOG_INFO, "node",
                 "Not mapping ports: the listen address is loopback or private", "advertised_ip=%s",
                 ip);
  }
  uv_signal_init(&loop, &st.sigint);
  uv_signal_init(&loop, &st.sigterm);
  st.sigint.data = &st;
  st.sigterm.data = &st;
  uv_signal_start(&st.sigint, on_signal, SIGINT);
  uv_signal_start(&st.sigterm, on_signal, SIGTERM);
  uv_timer_init(&loop, &st.answer_timer);
  st.answer_timer.data = &st;
  uv_timer_start(&st.answer_timer, on_answer_timer, NODE_ANSWER_BOUND_MS, 0);
  /* discovery: what runs, and what this build cannot run */
  st.nbootnodes = cfg.nbootnodes;
  if (cfg.nodiscover) {
    ethp2p_log(ETHP2P_LOG_INFO, "node", "Discovery is off (--nodiscover)", "%s", "");
  } else {
    if (ethp2p_server_discv5(st.srv) != NULL)
      ethp2p_log(ETHP2P_LOG_INFO, "node", "Discovery v5 runs on the UDP port", "udp=%u",
                 ethp2p_server_udp_addr(st.srv).port);
    if (ethp2p_server_discv4(st.srv) == NULL)
      ethp2p_log(ETHP2P_LOG_INFO, "node", "Discovery is off (--discovery.v4=false)", "%s", "");
    else if (cfg.nbootnodes == 0)
      ethp2p_log(ETHP2P_LOG_INFO, "node",
                 "Discovery runs without bootnodes: waiting for peers to contact us", "udp=%u",
                 ethp2p_server_udp_addr(st.srv).port);
  }
  uv_timer_init(&loop, &st.table_timer);
  st.table_timer.data = &st;
  uv_timer_start(&st.table_timer, on_table_timer, NODE_TABLE_POLL_MS, NODE_TABLE_POLL_MS);

  uv_run(&loop, UV_RUN_DEFAULT);
  if (st.forced)
    exit_code = CLI_EXIT_INVALID;

  uv_close((uv_handle_t *)&st.sigint, NULL);
  uv_close((uv_handle_t *)&st.sigterm, NULL);
  uv_close((uv_handle_t *)&st.answer_timer, NULL);
  uv_close((uv_handle_t *)&st.table_timer, NULL);
out_srv:
  ethp2p_metrics_destroy(metrics); /* before the server it observes; NULL is fine */
  ethp2p_server_destroy(st.srv);
out_env:
  ethp2p_uvenv_destroy(env);
  uv_walk(&loop, close_walk_cb, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  (void)uv_loop_close(&loop);
  ethp2p_log_set_sink(NULL, NULL, ETHP2P_LOG_CRIT);
  return exit_code;
}

int ethp2p_cmd_node(int argc, char **argv) {
  char *bootnodes_buf = NULL;
  int rc = node_main(argc, argv, &bootnodes_buf);
  free(bootnodes_buf);
  return rc;
}
