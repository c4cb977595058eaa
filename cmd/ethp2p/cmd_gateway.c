/*
 * cmd/ethp2p/cmd_gateway.c — `ethp2p gateway`: the UPnP IGD / NAT-PMP / PCP
 * router emulator (nat/gateway/) on real sockets.
 *
 * It binds on the LAN address only: SSDP 239.255.255.250:1900 joined on that
 * interface, NAT-PMP/PCP on LAN:5351, HTTP on LAN:--http-port (or a port the
 * OS picks).  It does not forward packets; it keeps the mapping table and
 * answers like a router.  stdout gets one line per mapping change; logs go to
 * stderr.  SIGUSR1 announces the external address, SIGHUP simulates a router
 * restart, SIGINT/SIGTERM exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/error.h"
#include "ethp2p/gateway.h"
#include "ethp2p/log.h"

static const char gateway_help_text[] =
    "Usage: ethp2p gateway --lan-addr ADDR --external-ip ADDR [options]\n"
    "\n"
    "Runs a router emulator: a UPnP Internet Gateway Device (SSDP, HTTP, SOAP),\n"
    "a NAT-PMP server and a PCP server sharing one table of port mappings, with\n"
    "router policies and switchable quirks.  It answers on the LAN address only and\n"
    "forwards no packets.  One line per mapping change is printed on stdout.\n"
    "\n"
    "Required:\n"
    "  --lan-addr ADDR        IPv4 address of this host on the LAN to serve\n"
    "  --external-ip ADDR     external (WAN) IPv4 address to report\n"
    "\n"
    "Protocols:\n"
    "  --no-upnp              disable UPnP (SSDP + HTTP)\n"
    "  --no-pmp               disable NAT-PMP\n"
    "  --no-pcp               disable PCP\n"
    "  --igd 1|2              InternetGatewayDevice version (default 2)\n"
    "  --http-port N          HTTP port (default: chosen by the OS)\n"
    "\n"
    "Policy:\n"
    "  --allow PORTS          allowed external ports, e.g. 1024-65535,80 (default all)\n"
    "  --max-mappings N       mappings in the table (default 128)\n"
    "  --max-per-client N     mappings per internal client (default 32)\n"
    "  --lease-cap S          longest lease in seconds; 0 = no cap (default 0)\n"
    "  --permanent-only       UPnP accepts only lease 0 (error 725 otherwise)\n"
    "  --same-port-only       UPnP requires external port = internal port (724)\n"
    "  --any-client           allow mappings for other hosts than the requester\n"
    "\n"
    "Quirks and faults (repeat --quirk):\n"
    "  --quirk NAME           no-natrsip, unnamespaced-soap, chunked, pmp-alt-port,\n"
    "                         random-port, no-concurrent, http-port-moves, slow, drop,\n"
    "                         no-notify (no SSDP advertisements), no-gena (no events)\n"
    "  --notify-interval S    SSDP ssdp:alive interval in seconds (default 30)\n"
    "  --slow-ms N            delay of the slow quirk (default 500)\n"
    "  --drop-percent N       chance of the drop quirk (default 50)\n"
    "\n"
    "Other:\n"
    "  -v, --verbose          debug logs on stderr\n"
    "  -h, --help             show this help\n"
    "\n"
    "Signals: SIGUSR1 announces the external address (NAT-PMP/PCP announcements and a\n"
    "UPnP event to subscribers), SIGHUP simulates a router restart (mappings, epoch and\n"
    "subscriptions lost; ssdp:alive with a new BOOTID), SIGINT/SIGTERM exit 0 (after\n"
    "ssdp:byebye).\n"
    "\n"
    "Output lines: <change> <proto> <external port> -> <client>:<port> lease <s>s by <protocol>\n"
    "  e.g. added tcp 4000 -> 192.168.50.2:4000 lease 604800s by UPnP \"upnpc\"\n"
    "\n"
    "Example (as root in a network namespace):\n"
    "  ethp2p gateway --lan-addr 192.168.50.1 --external-ip 11.22.33.44 --http-port 5000\n";

typedef struct gw_app {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_gateway *gw;
  uv_signal_t sig_int, sig_term, sig_usr1, sig_hup;
  unsigned nsignals; /* handles initialised so far: only those may be closed */
  int exit_code;
} gw_app;

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
  char *end;
  unsigned long v;
  if (s == NULL || *s < '0' || *s > '9')
    return ETHP2P_ESYNTAX;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return ETHP2P_ESYNTAX;
  *out = v;
  return 0;
}

static void on_change(ethp2p_gateway *gw, ethp2p_gw_change change, const ethp2p_gw_mapping *m,
                      void *data) {
  char ib[ETHP2P_ADDRSTRLEN];
  (void)gw;
  (void)data;
  printf("%s %s %u -> %s lease %us by %s", ethp2p_gw_change_name(change),
         ethp2p_proto_name(m->proto), m->external_port,
         ethp2p_addr_format(&m->internal, true, ib, sizeof ib), m->lease_s,
         ethp2p_gw_origin_name(m->origin));
  if (m->origin == ETHP2P_GW_UPNP && m->desc[0] != '\0') { /* NAT-PMP/PCP have none */
    putchar(' ');
    putchar('"');
    for (const char *p = m->desc; *p; p++)
      putchar((*p >= 0x20 && *p < 0x7f && *p != '"') ? *p : '?');
    putchar('"');
  }
  putchar('\n');
  fflush(stdout);
}

static void on_signal(uv_signal_t *h, int signum) {
  gw_app *app = h->data;
  char b[ETHP2P_ADDRSTRLEN];
  if (signum == SIGUSR1) {
    ethp2p_gw_announce(app->gw);
    fprintf(stderr, "gateway: announcing external address\n");
    return;
  }
  if (signum == SIGHUP) {
    int rc = ethp2p_gw_restart(app->gw);
    if (rc != 0) {
      fprintf(stderr, "gateway: restart failed: %s\n", ethp2p_strerror(rc));
      app->exit_code = CLI_EXIT_INVALID;
      uv_stop(&app->loop);
      return;
    }
    if (ethp2p_gw_location(app->gw, b, sizeof b) == 0 && ethp2p_gw_http_port(app->gw) != 0)
      fprintf(stderr, "gateway: restarted, epoch reset, http port %u\n",
              ethp2p_gw_http_port(app->gw));
    else
      fprintf(stderr, "gateway: restarted, epoch reset\n");
    return;
  }
  uv_stop(&app->loop);
}

static void close_cb(uv_handle_t *h) {
  (void)h;
}

/* True if addr is configured on one of this host's interfaces. */
static bool addr_is_local(ethp2p_env *env, const ethp2p_addr *addr) {
  ethp2p_iface ifs[64];
  size_t n = 0;
  if (ethp2p_env_interfaces(env, ifs, sizeof ifs / sizeof ifs[0], &n) != 0)
    return true; /* cannot tell: let the bind say */
  for (size_t i = 0; i < n; i++)
    if (ethp2p_addr_equal(&ifs[i].addr, addr, false))
      return true;
  return false;
}

/* The start error in a user's words. */
static void report_start_error(const ethp2p_gw_config *cfg, int rc) {
  char lan[ETHP2P_ADDRSTRLEN];
  ethp2p_addr_format(&cfg->lan_addr, false, lan, sizeof lan);
  if (rc == ETHP2P_EADDRINUSE) {
    char http[16] = "";
    if (cfg->policy.upnp && cfg->http_port != 0)
      snprintf(http, sizeof http, ", %u/tcp", cfg->http_port);
    fprintf(stderr,
            "ethp2p gateway: cannot start: a port is already in use on %s (%s%s%s); is another "
            "gateway or router daemon running?\n",
            lan, cfg->policy.upnp ? "1900/udp" : "",
            (cfg->policy.pmp || cfg->policy.pcp) ? (cfg->policy.upnp ? ", 5351/udp" : "5351/udp")
                                                 : "",
            http);
  } else {
    fprintf(stderr, "ethp2p gateway: cannot start on %s: %s\n", lan, ethp2p_strerror(rc));
  }
}

static int signals_start(gw_app *app) {
  struct {
    uv_signal_t *h;
    int sig;
  } s[] = {{&app->sig_int, SIGINT},
           {&app->sig_term, SIGTERM},
           {&app->sig_usr1, SIGUSR1},
           {&app->sig_hup, SIGHUP}};
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    if (uv_signal_init(&app->loop, s[i].h) != 0)
      return ETHP2P_EIO;
    app->nsignals++;
    s[i].h->data = app;
    if (uv_signal_start(s[i].h, on_signal, s[i].sig) != 0)
      return ETHP2P_EIO;
  }
  return 0;
}

static void signals_close(gw_app *app) {
  uv_signal_t *s[] = {&app->sig_int, &app->sig_term, &app->sig_usr1, &app->sig_hup};
  /* A failed start never initialised them: uv_close on a zeroed handle aborts. */
  for (size_t i = 0; i < app->nsignals; i++)
    if (!uv_is_closing((uv_handle_t *)s[i]))
      uv_close((uv_handle_t *)s[i], close_cb);
}

enum {
  OPT_LAN = 1000,
  OPT_EXT,
  OPT_NO_UPNP,
  OPT_NO_PMP,
  OPT_NO_PCP,
  OPT_ALLOW,
  OPT_MAX,
  OPT_MAX_CLIENT,
  OPT_LEASE_CAP,
  OPT_HTTP_PORT,
  OPT_QUIRK,
  OPT_IGD,
  OPT_PERMANENT,
  OPT_SAME_PORT,
  OPT_ANY_CLIENT,
  OPT_SLOW_MS,
  OPT_DROP,
  OPT_NOTIFY_INTERVAL,
};

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "ethp2p gateway: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nRun 'ethp2p gateway --help' for usage.\n");
  return CLI_EXIT_USAGE;
}

/* Fills cfg from the command line.  Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, ethp2p_gw_config *cfg, int *verbose) {
  static const struct option opts[] = {
      {"lan-addr", required_argument, NULL, OPT_LAN},
      {"external-ip", required_argument, NULL, OPT_EXT},
      {"no-upnp", no_argument, NULL, OPT_NO_UPNP},
      {"no-pmp", no_argument, NULL, OPT_NO_PMP},
      {"no-pcp", no_argument, NULL, OPT_NO_PCP},
      {"allow", required_argument, NULL, OPT_ALLOW},
      {"max-mappings", required_argument, NULL, OPT_MAX},
      {"max-per-client", required_argument, NULL, OPT_MAX_CLIENT},
      {"lease-cap", required_argument, NULL, OPT_LEASE_CAP},
      {"http-port", required_argument, NULL, OPT_HTTP_PORT},
      {"quirk", required_argument, NULL, OPT_QUIRK},
      {"igd", required_argument, NULL, OPT_IGD},
      {"permanent-only", no_argument, NULL, OPT_PERMANENT},
      {"same-port-only", no_argument, NULL, OPT_SAME_PORT},
      {"any-client", no_argument, NULL, OPT_ANY_CLIENT},
      {"slow-ms", required_argument, NULL, OPT_SLOW_MS},
      {"drop-percent", required_argument, NULL, OPT_DROP},
      {"notify-interval", required_argument, NULL, OPT_NOTIFY_INTERVAL},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool have_lan = false, have_ext = false;
  unsigned long v;
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(gateway_help_text, stdout);
      return CLI_EXIT_OK;
    case 'v':
      (*verbose)++;
      break;
    case OPT_LAN:
      if (ethp2p_addr_parse_ip(&cfg->lan_addr, optarg) != 0 || cfg->lan_addr.family != 4)
        return usage_error("--lan-addr: not an IPv4 address: %s", optarg);
      have_lan = true;
      break;
    case OPT_EXT:
      if (ethp2p_addr_parse_ip(&cfg->external_ip, optarg) != 0 || cfg->external_ip.family != 4)
        return usage_error("--external-ip: not an IPv4 address: %s", optarg);
      have_ext = true;
      break;
    case OPT_NO_UPNP:
      cfg->policy.upnp = false;
      break;
    case OPT_NO_PMP:
      cfg->policy.pmp = false;
      break;
    case OPT_NO_PCP:
      cfg->policy.pcp = false;
      break;
    case OPT_ALLOW:
      if (ethp2p_gw_policy_parse_allow(&cfg->policy, optarg) != 0)
        return usage_error("--allow: expected ports or ranges like 1024-65535,80: %s", optarg);
      break;
    case OPT_MAX:
      if (parse_uint(optarg, 65535, &v) != 0 || v == 0)
        return usage_error("--max-mappings: expected 1..65535: %s", optarg);
      cfg->policy.max_mappings = (unsigned)v;
      break;
    case OPT_MAX_CLIENT:
      if (parse_uint(optarg, 65535, &v) != 0 || v == 0)
        return usage_error("--max-per-client: expected 1..65535: %s", optarg);
      cfg->policy.max_per_client = (unsigned)v;
      break;
    case OPT_LEASE_CAP:
      if (parse_uint(optarg, UINT32_MAX, &v) != 0)
        return usage_error("--lease-cap: expected seconds: %s", optarg);
      cfg->policy.lease_cap_s = (uint32_t)v;
      break;
    case OPT_HTTP_PORT:
      if (parse_uint(optarg, 65535, &v) != 0)
        return usage_error("--http-port: expected 0..65535: %s", optarg);
      cfg->http_port = (uint16_t)v;
      break;
    case OPT_QUIRK: {
      unsigned bit;
      if (ethp2p_gw_quirk_parse(optarg, &bit) != 0)
        return usage_error("--quirk: unknown quirk \"%s\" (see --help)", optarg);
      cfg->quirks |= bit;
      break;
    }
    case OPT_IGD:
      if (parse_uint(optarg, 2, &v) != 0 || v < 1)
        return usage_error("--igd: expected 1 or 2: %s", optarg);
      cfg->policy.igd_version = (unsigned)v;
      break;
    case OPT_PERMANENT:
      cfg->policy.permanent_only = true;
      break;
    case OPT_SAME_PORT:
      cfg->policy.same_port_only = true;
      break;
    case OPT_ANY_CLIENT:
      cfg->policy.internal_must_be_requester = false;
      break;
    case OPT_SLOW_MS:
      if (parse_uint(optarg, 600000, &v) != 0)
        return usage_error("--slow-ms: expected milliseconds: %s", optarg);
      cfg->slow_ms = (uint32_t)v;
      break;
    case OPT_NOTIFY_INTERVAL:
      if (parse_uint(optarg, 86400, &v) != 0 || v == 0)
        return usage_error("--notify-interval: expected 1..86400 seconds: %s", optarg);
      cfg->notify_interval_s = (uint32_t)v;
      break;
    case OPT_DROP:
      if (parse_uint(optarg, 100, &v) != 0)
        return usage_error("--drop-percent: expected 0..100: %s", optarg);
      cfg->drop_percent = (unsigned)v;
      break;
    default:
      return usage_error("unknown or incomplete option: %s", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return usage_error("unexpected argument: %s", argv[optind]);
  if (!have_lan)
    return usage_error("%s", "--lan-addr is required");
  if (!have_ext)
    return usage_error("%s", "--external-ip is required");
  if (!cfg->policy.upnp && !cfg->policy.pmp && !cfg->policy.pcp) {
    /* Well-formed, but nothing could start: a failed start, not a usage error. */
    fprintf(stderr, "ethp2p gateway: cannot start: every service is disabled "
                    "(--no-upnp, --no-pmp and --no-pcp all given)\n");
    return CLI_EXIT_INVALID;
  }
  return -1;
}

int ethp2p_cmd_gateway(int argc, char **argv) {
  ethp2p_gw_config cfg;
  gw_app app;
  int verbose = 0, log_format = 0, rc;
  char loc[128], quirks[256], lan[ETHP2P_ADDRSTRLEN], ext[ETHP2P_ADDRSTRLEN];

  ethp2p_gw_config_default(&cfg);
  rc = parse_args(argc, argv, &cfg, &verbose);
  if (rc >= 0)
    return rc;
  ethp2p_log_set_sink(cli_log_sink, &log_format,
                      verbose > 1 ? ETHP2P_LOG_TRACE
                                  : (verbose ? ETHP2P_LOG_DEBUG : ETHP2P_LOG_WARN));
  memset(&app, 0, sizeof app);
  if (uv_loop_init(&app.loop) != 0) {
    fprintf(stderr, "ethp2p gateway: cannot create the event loop\n");
    return CLI_EXIT_INVALID;
  }
  rc = ethp2p_uvenv_create(&app.loop, &app.env);
  if (rc != 0) {
    fprintf(stderr, "ethp2p gateway: cannot create the environment: %s\n", ethp2p_strerror(rc));
    uv_loop_close(&app.loop);
    return CLI_EXIT_INVALID;
  }
  if (!addr_is_local(app.env, &cfg.lan_addr)) {
    fprintf(stderr,
            "ethp2p gateway: cannot start: %s is not an address of this host (see `ip addr`)\n",
            ethp2p_addr_format(&cfg.lan_addr, false, lan, sizeof lan));
    app.exit_code = CLI_EXIT_INVALID;
    goto out;
  }
  rc = ethp2p_gw_create(app.env, &cfg, &app.gw);
  if (rc == 0) {
    ethp2p_gw_set_change_cb(app.gw, on_change, &app);
    rc = ethp2p_gw_start(app.gw);
  }
  if (rc != 0) {
    report_start_error(&cfg, rc);
    app.exit_code = CLI_EXIT_INVALID;
    goto out;
  }
  if (signals_start(&app) != 0) {
    fprintf(stderr, "ethp2p gateway: cannot install signal handlers\n");
    app.exit_code = CLI_EXIT_INVALID;
    goto out;
  }
  ethp2p_gw_quirks_format(cfg.quirks, quirks, sizeof quirks);
  ethp2p_addr_format(&cfg.lan_addr, false, lan, sizeof lan);
  ethp2p_addr_format(&cfg.external_ip, false, ext, sizeof ext);
  if (ethp2p_gw_location(app.gw, loc, sizeof loc) != 0)
    loc[0] = '\0';
  fprintf(stderr, "gateway: lan %s external %s upnp %s pmp %s pcp %s igd %u quirks %s\n", lan, ext,
          cfg.policy.upnp ? loc : "off", cfg.policy.pmp ? "on" : "off",
          cfg.policy.pcp ? "on" : "off", cfg.policy.igd_version, quirks[0] ? quirks : "none");
  uv_run(&app.loop, UV_RUN_DEFAULT);
  fprintf(stderr, "gateway: stopping\n");

out:
  ethp2p_gw_destroy(app.gw);
  signals_close(&app);
  ethp2p_uvenv_destroy(app.env);
  uv_run(&app.loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&app.loop) != 0)
    fprintf(stderr, "ethp2p gateway: handles left open at exit\n");
  return app.exit_code;
}
