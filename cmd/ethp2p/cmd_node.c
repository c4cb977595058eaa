/*
 * cmd/ethp2p/cmd_node.c — `ethp2p node`: run a node on real sockets.
 *
 * Logs go to stderr (go-ethereum style); stdout gets the record's text form
 * ("enr:...") at start and after every change, one per line, flushed, so a
 * script can follow it.  SIGINT/SIGTERM delete the port mappings (bounded
 * wait) and exit 0; a second signal exits at once.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/localnode.h"
#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "ethp2p/metrics.h"
#include "ethp2p/server.h"

/* Mapping deletes get this long after a signal; the process is gone well
 * within the 5 s an init system or a test allows. */
#define NODE_STOP_BOUND (3 * ETHP2P_SEC)
#define NODE_FORCE_SIGNALS 4 /* the 4th signal during shutdown forces the exit */

typedef struct node_state {
  uv_loop_t *loop;
  ethp2p_server *srv;
  uv_signal_t sigint, sigterm;
  int signals;
  bool stopped;
} node_state;

static void usage(FILE *out) {
  fprintf(out,
          "Usage: ethp2p node [options]\n\n"
          "Runs a node: loads or creates its key, listens on TCP and UDP, keeps its ports\n"
          "mapped through the router and prints its record (enr:...) on stdout at start\n"
          "and after every change.\n\n"
          "Options:\n"
          "  --datadir DIR            data directory (default ~/.ethp2p): nodekey, enr-seq\n"
          "  --nat SPEC               none|any|extip:IP|upnp|pmp[:GW]|pcp[:GW]|stun[:HOST:PORT]\n"
          "                           (default any)\n"
          "  --port N                 TCP listening port (default 30303, 0 = any free)\n"
          "  --discport N             UDP discovery port (default: same as --port)\n"
          "  --listen IP              address to listen on (default 0.0.0.0; loopback and\n"
          "                           private addresses are not port-mapped)\n"
          "  --nodekey FILE           node key file (64 hex characters)\n"
          "  --nodekeyhex HEX         node key as hex (for testing)\n"
          "  --verbosity 0-5          log level: 0 silent .. 3 info .. 5 trace (default 3)\n"
          "  --log.format FMT         terminal|json (default terminal)\n"
          "  --nat.lease D            mapping lifetime asked for (default 10m)\n"
          "  --nat.refresh D          refresh after success (default 8m)\n"
          "  --nat.retry D            retry after failure (default 5m)\n"
          "  --nat.extip-interval D   external address poll (default 2m)\n"
          "  --metrics                serve Prometheus metrics (/metrics) and JSON (/status)\n"
          "  --metrics.addr IP        metrics server address (default 127.0.0.1)\n"
          "  --metrics.port N         metrics server port (default 6060)\n"
          "Durations: 500ms, 30s, 10m, 2h, or plain seconds.\n");
}

/* Decimal 0..max, whole string. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *out) {
  unsigned long v = 0;
  if (s == NULL || *s == 0)
    return false;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    v = v * 10 + (unsigned long)(*p - '0');
    if (v > max)
      return false;
  }
  *out = v;
  return true;
}

/* "500ms", "30s", "10m", "2h", "1d" or plain seconds; > 0, at most 30 days. */
static bool parse_duration(const char *s, ethp2p_time *out) {
  char num[24];
  size_t n = 0;
  unsigned long v;
  ethp2p_time unit = ETHP2P_SEC;
  while (s[n] >= '0' && s[n] <= '9' && n < sizeof num - 1) {
    num[n] = s[n];
    n++;
  }
  num[n] = 0;
  if (!parse_uint(num, 30UL * 24 * 3600 * 1000, &v) || v == 0)
    return false;
  if (strcmp(s + n, "ms") == 0)
    unit = ETHP2P_MSEC;
  else if (strcmp(s + n, "s") == 0 || s[n] == 0)
    unit = ETHP2P_SEC;
  else if (strcmp(s + n, "m") == 0)
    unit = ETHP2P_MIN;
  else if (strcmp(s + n, "h") == 0)
    unit = ETHP2P_HOUR;
  else if (strcmp(s + n, "d") == 0)
    unit = ETHP2P_DAY;
  else
    return false;
  *out = (ethp2p_time)v * unit;
  return *out <= 30 * ETHP2P_DAY;
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

static void on_accept(ethp2p_server *srv, ethp2p_tcp *conn, void *data) {
  ethp2p_addr peer;
  char text[ETHP2P_ADDRSTRLEN] = "?";
  (void)srv;
  (void)data;
  if (ethp2p_tcp_peer_addr(conn, &peer) == 0)
    ethp2p_addr_format(&peer, true, text, sizeof text);
  ethp2p_log(ETHP2P_LOG_INFO, "p2p", "Inbound connection, closing it (no protocols)", "addr=%s",
             text);
  ethp2p_tcp_close(conn);
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
    ethp2p_log(ETHP2P_LOG_WARN, "node", "Forced exit", "%s", "");
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

int ethp2p_cmd_node(int argc, char **argv) {
  ethp2p_server_config cfg;
  const char *datadir = NULL, *natspec = "any", *logfmt = "terminal";
  char home_dir[PATH_MAX];
  unsigned long verbosity = 3, v;
  bool discport_set = false;
  int json = 0, rc, exit_code = CLI_EXIT_OK;
  ethp2p_diag diag;
  uv_loop_t loop;
  ethp2p_env *env = NULL;
  node_state st;
  bool metrics_on = false;
  const char *metrics_addr = "127.0.0.1";
  unsigned long metrics_port = 6060;
  ethp2p_metrics *metrics = NULL;

  ethp2p_server_config_default(&cfg);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    char name[40];
    const char *eq = strchr(a, '=');
    size_t nl = eq != NULL ? (size_t)(eq - a) : strlen(a);
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return CLI_EXIT_OK;
    }
    if (strncmp(a, "--", 2) != 0 || nl >= sizeof name) {
      fprintf(stderr, "ethp2p node: unexpected argument \"%s\"\n", a);
      return CLI_EXIT_USAGE;
    }
    memcpy(name, a, nl);
    name[nl] = 0;
    if (strcmp(a, "--metrics") == 0) { /* a switch, as in go-ethereum */
      metrics_on = true;
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
    if (strcmp(name, "--datadir") == 0) {
      datadir = val;
    } else if (strcmp(name, "--nat") == 0) {
      natspec = val;
    } else if (strcmp(name, "--port") == 0 || strcmp(name, "--discport") == 0) {
      if (!parse_uint(val, 65535, &v)) {
        fprintf(stderr, "ethp2p node: invalid port \"%s\" for %s\n", val, name);
        return CLI_EXIT_USAGE;
      }
      if (strcmp(name, "--port") == 0) {
        cfg.port = (uint16_t)v;
      } else {
        cfg.discport = (uint16_t)v;
        discport_set = true;
      }
    } else if (strcmp(name, "--listen") == 0) {
      if (ethp2p_addr_parse_ip(&cfg.listen, val) != 0 || cfg.listen.family != 4) {
        fprintf(stderr, "ethp2p node: --listen needs an IPv4 address, got \"%s\"\n", val);
        return CLI_EXIT_USAGE;
      }
    } else if (strcmp(name, "--metrics.addr") == 0) {
      metrics_addr = val;
    } else if (strcmp(name, "--metrics.port") == 0) {
      if (!parse_uint(val, 65535, &metrics_port)) {
        fprintf(stderr, "ethp2p node: invalid port \"%s\" for --metrics.port\n", val);
        return CLI_EXIT_USAGE;
      }
    } else if (strcmp(name, "--nodekey") == 0) {
      cfg.nodekey_file = val;
    } else if (strcmp(name, "--nodekeyhex") == 0) {
      cfg.nodekey_hex = val;
    } else if (strcmp(name, "--verbosity") == 0) {
      if (!parse_uint(val, 5, &verbosity)) {
        fprintf(stderr, "ethp2p node: --verbosity must be 0..5\n");
        return CLI_EXIT_USAGE;
      }
    } else if (strcmp(name, "--log.format") == 0) {
      logfmt = val;
      if (strcmp(val, "terminal") != 0 && strcmp(val, "json") != 0) {
        fprintf(stderr, "ethp2p node: --log.format must be terminal or json\n");
        return CLI_EXIT_USAGE;
      }
    } else if (strcmp(name, "--nat.lease") == 0 || strcmp(name, "--nat.refresh") == 0 ||
               strcmp(name, "--nat.retry") == 0 || strcmp(name, "--nat.extip-interval") == 0) {
      ethp2p_time d;
      if (!parse_duration(val, &d) || (strcmp(name, "--nat.lease") == 0 && d < ETHP2P_SEC)) {
        fprintf(stderr, "ethp2p node: invalid duration \"%s\" for %s\n", val, name);
        return CLI_EXIT_USAGE;
      }
      if (strcmp(name, "--nat.lease") == 0)
        cfg.portmap.lease = d;
      else if (strcmp(name, "--nat.refresh") == 0)
        cfg.portmap.refresh = d;
      else if (strcmp(name, "--nat.retry") == 0)
        cfg.portmap.retry = d;
      else
        cfg.portmap.extip_interval = d;
    } else {
      fprintf(stderr, "ethp2p node: unknown option %s (see --help)\n", name);
      return CLI_EXIT_USAGE;
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
  }
  json = strcmp(logfmt, "json") == 0;
  ethp2p_log_set_sink(verbosity == 0 ? NULL : cli_log_sink, &json,
                      (ethp2p_log_level)verbosity);

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
  if (make_dirs(datadir) != 0) {
    fprintf(stderr, "ethp2p node: cannot create data directory %s: %s\n", datadir,
            strerror(errno));
    return CLI_EXIT_INVALID;
  }
  cfg.datadir = datadir;
  cfg.accept_cb = on_accept;

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
  memset(&diag, 0, sizeof diag);
  rc = ethp2p_server_start(env, &cfg, &st.srv, &diag);
  if (rc != 0) {
    fprintf(stderr, "ethp2p node: %s\n", diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
    exit_code = CLI_EXIT_INVALID;
    goto out_env;
  }
  ethp2p_localnode_subscribe(ethp2p_server_localnode(st.srv), on_record, NULL);
  if (metrics_on) {
    ethp2p_addr at;
    if (ethp2p_addr_parse_ip(&at, metrics_addr) != 0) {
      fprintf(stderr, "ethp2p node: invalid --metrics.addr \"%s\"\n", metrics_addr);
      exit_code = CLI_EXIT_USAGE;
      goto out_srv;
    }
    at.port = (uint16_t)metrics_port;
    if ((rc = ethp2p_metrics_create(env, &metrics)) != 0 ||
        (rc = ethp2p_metrics_attach_portmap(metrics, ethp2p_server_portmap(st.srv))) != 0 ||
        (rc = ethp2p_metrics_attach_localnode(metrics, ethp2p_server_localnode(st.srv))) != 0 ||
        (rc = ethp2p_metrics_serve(metrics, &at)) != 0) {
      fprintf(stderr, "ethp2p node: cannot serve metrics on %s:%lu: %s\n", metrics_addr,
              metrics_port, ethp2p_strerror(rc));
      exit_code = CLI_EXIT_INVALID;
      goto out_srv;
    }
  }
  uv_signal_init(&loop, &st.sigint);
  uv_signal_init(&loop, &st.sigterm);
  st.sigint.data = &st;
  st.sigterm.data = &st;
  uv_signal_start(&st.sigint, on_signal, SIGINT);
  uv_signal_start(&st.sigterm, on_signal, SIGTERM);

  uv_run(&loop, UV_RUN_DEFAULT);

  uv_close((uv_handle_t *)&st.sigint, NULL);
  uv_close((uv_handle_t *)&st.sigterm, NULL);
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
