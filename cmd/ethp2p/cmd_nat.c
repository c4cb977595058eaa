/*
 * cmd/ethp2p/cmd_nat.c — `ethp2p nat`: talk to the gateway with one NAT
 * mechanism on the real (libuv) environment.
 *
 *   ethp2p nat extip --nat SPEC
 *   ethp2p nat map   --nat SPEC --proto tcp|udp --port N [--external-port N] [--lifetime S]
 *   ethp2p nat unmap --nat SPEC --proto tcp|udp --port N [--external-port N]
 *
 * Exit codes: 0 success, 1 the operation failed (the router's code and meaning
 * are printed), 2 usage error (including a bad --nat spec, with go-ethereum's
 * error text).  -v logs every exchange with the router on stderr.
 *
 * Each command gives up after --timeout (default 10 s; the protocols' own
 * retransmission schedules, up to 128 s for NAT-PMP, are the node's background
 * business) and then, as after any failure to reach the gateway, prints what it
 * tried and what to do next.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/nat.h"

#define DEFAULT_LIFETIME 3600u
#define DEFAULT_TIMEOUT_MS 10000u
#define NONCE_KEY_FILE "pcp-nonce.key"

static const char nat_help[] =
    "Usage: ethp2p nat <command> [options]\n"
    "\n"
    "Talk to the gateway (home router) with one NAT traversal mechanism.\n"
    "\n"
    "Commands:\n"
    "  extip   print the external IP address\n"
    "  map     ask the gateway to forward a port\n"
    "  unmap   remove a forwarding\n"
    "  doctor  one report: what the gateway supports, what the world sees, how the\n"
    "          NAT behaves, and whether the node is reachable (and why not)\n"
    "\n"
    "Run 'ethp2p nat <command> --help' for the options of a command.\n";

static const char extip_help[] =
    "Usage: ethp2p nat extip [--nat SPEC] [--timeout D] [-v]\n"
    "\n"
    "Prints the external IP address the mechanism reports.\n"
    "\n"
    "Options:\n"
    "  --nat SPEC    none|off, any|auto|on, extip:IP, upnp, pmp[:GATEWAY], pcp[:GATEWAY],\n"
    "                stun[:HOST:PORT,...] (default any); gateways and extip are IPv4\n"
    "  --timeout D   give up after D (default 10s; like 500ms, 30s, 2m; at most 30 days)\n"
    "  -v, --verbose log each exchange with the router on stderr\n"
    "  -h, --help    this text\n";

static const char map_help[] =
    "Usage: ethp2p nat map [--nat SPEC] --proto tcp|udp --port N [--external-port N]\n"
    "                      [--lifetime SECONDS] [--timeout D] [-v]\n"
    "\n"
    "Asks the gateway to forward an external port to PORT on this host and prints\n"
    "  mapped <proto> <port> -> <external ip>:<external port> lifetime <s>s via <mechanism>\n"
    "The router may grant another external port than the one asked for.\n"
    "\n"
    "Options:\n"
    "  --nat SPEC            mechanism (default any; see 'ethp2p nat extip --help')\n"
    "  --proto tcp|udp       protocol\n"
    "  --port N              internal port (1-65535)\n"
    "  --external-port N     external port wanted (default: the internal port)\n"
    "  --lifetime SECONDS    lease (default 3600; 0 asks for a permanent lease where\n"
    "                        the protocol has one, else its longest usual lease)\n"
    "  --timeout D           give up after D (default 10s; like 500ms, 30s, 2m)\n"
    "  -v, --verbose         log each exchange with the router on stderr\n"
    "  -h, --help            this text\n";

static const char unmap_help[] =
    "Usage: ethp2p nat unmap [--nat SPEC] --proto tcp|udp --port N [--external-port N]\n"
    "                        [--timeout D] [-v]\n"
    "\n"
    "Removes the forwarding of PORT (made by 'ethp2p nat map').\n"
    "\n"
    "Options:\n"
    "  --nat SPEC            mechanism (default any)\n"
    "  --proto tcp|udp       protocol\n"
    "  --port N              internal port\n"
    "  --external-port N     external port of the mapping (default: the internal port;\n"
    "                        UPnP deletes by external port)\n"
    "  --timeout D           give up after D (default 10s)\n"
    "\n"
    "PCP needs the mapping's nonce to delete it; map and unmap derive it from a key\n"
    "kept in $ETHP2P_DATADIR (default ~/.ethp2p)/pcp-nonce.key.\n"
    "  -v, --verbose         log each exchange with the router on stderr\n"
    "  -h, --help            this text\n";

typedef enum { SUB_EXTIP, SUB_MAP, SUB_UNMAP } subcommand;

typedef struct nat_args {
  subcommand sub;
  const char *nat_text;
  ethp2p_nat_spec spec;
  bool have_proto, have_port;
  ethp2p_proto proto;
  uint16_t port;
  uint16_t external_port;
  uint32_t lifetime;
  uint64_t timeout_ms;
  int verbose;
} nat_args;

typedef struct nat_app {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_nat *nat;
  nat_args *args;
  int exit_code;
  bool done;
  ethp2p_nat_map_result map;
  uv_timer_t timer;
} nat_app;

static int usage_error(const char *sub, const char *fmt, const char *arg) {
  fprintf(stderr, "ethp2p nat%s%s: ", sub != NULL ? " " : "", sub != NULL ? sub : "");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  return CLI_EXIT_USAGE;
}

static int parse_port(const char *s, uint16_t *out, bool allow_zero) {
  unsigned long v = 0;
  if (s == NULL || *s == '\0' || strlen(s) > 5)
    return -1;
  for (const char *p = s; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    v = v * 10 + (unsigned long)(*p - '0');
  }
  if (v > 65535 || (v == 0 && !allow_zero))
    return -1;
  *out = (uint16_t)v;
  return 0;
}

static int parse_u32(const char *s, uint32_t *out) {
  unsigned long long v = 0;
  if (s == NULL || *s == '\0' || strlen(s) > 10)
    return -1;
  for (const char *p = s; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    v = v * 10 + (unsigned long long)(*p - '0');
  }
  if (v > UINT32_MAX)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, nat_args *a) {
  enum { OPT_NAT = 256, OPT_PROTO, OPT_PORT, OPT_EXT_PORT, OPT_LIFETIME, OPT_TIMEOUT };
  static const struct option opts[] = {
      {"nat", required_argument, NULL, OPT_NAT},
      {"proto", required_argument, NULL, OPT_PROTO},
      {"port", required_argument, NULL, OPT_PORT},
      {"external-port", required_argument, NULL, OPT_EXT_PORT},
      {"lifetime", required_argument, NULL, OPT_LIFETIME},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *sub = argv[0];
  const char *help = a->sub == SUB_EXTIP ? extip_help : a->sub == SUB_MAP ? map_help : unmap_help;
  int c;
  optind = 1;
  opterr = 0;
  a->nat_text = "any";
  a->lifetime = DEFAULT_LIFETIME;
  a->timeout_ms = DEFAULT_TIMEOUT_MS;
  while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(help, stdout);
      return CLI_EXIT_OK;
    case 'v':
      a->verbose++;
      break;
    case OPT_NAT:
      a->nat_text = optarg;
      break;
    case OPT_PROTO:
      if (a->sub == SUB_EXTIP)
        return usage_error(sub, "%s", "--proto does not apply to extip");
      if (strcmp(optarg, "tcp") == 0 || strcmp(optarg, "TCP") == 0)
        a->proto = ETHP2P_PROTO_TCP;
      else if (strcmp(optarg, "udp") == 0 || strcmp(optarg, "UDP") == 0)
        a->proto = ETHP2P_PROTO_UDP;
      else
        return usage_error(sub, "--proto: expected tcp or udp, got \"%s\"", optarg);
      a->have_proto = true;
      break;
    case OPT_PORT:
      if (a->sub == SUB_EXTIP)
        return usage_error(sub, "%s", "--port does not apply to extip");
      if (parse_port(optarg, &a->port, false) != 0)
        return usage_error(sub, "--port: expected 1-65535, got \"%s\"", optarg);
      a->have_port = true;
      break;
    case OPT_EXT_PORT:
      if (a->sub == SUB_EXTIP)
        return usage_error(sub, "%s", "--external-port does not apply to extip");
      if (parse_port(optarg, &a->external_port, false) != 0)
        return usage_error(sub, "--external-port: expected 1-65535, got \"%s\"", optarg);
      break;
    case OPT_LIFETIME:
      if (a->sub != SUB_MAP)
        return usage_error(sub, "%s", "--lifetime applies to map only");
      if (parse_u32(optarg, &a->lifetime) != 0)
        return usage_error(sub, "--lifetime: expected seconds, got \"%s\"", optarg);
      break;
    case OPT_TIMEOUT:
      if (!cli_parse_duration(optarg, &a->timeout_ms))
        return usage_error(sub,
                           "--timeout: expected a duration above 0 and at most 30 days "
                           "(like 500ms, 30s, 2m), got \"%s\"",
                           optarg);
      break;
    case ':':
      return usage_error(sub, "option %s needs a value", argv[optind - 1]);
    default:
      return usage_error(sub, "unknown option %s (see --help)", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return usage_error(sub, "unexpected argument \"%s\"", argv[optind]);
  char err[128];
  if (ethp2p_nat_spec_parse(&a->spec, a->nat_text, err, sizeof err) != 0) {
    fprintf(stderr, "ethp2p nat %s: invalid --nat \"%s\": %s\n", sub, a->nat_text, err);
    return CLI_EXIT_USAGE;
  }
  {
    char who[32];
    snprintf(who, sizeof who, "ethp2p nat %s", sub);
    /* pcp:<IPv6> is the IPv6 PCP client (firewall pinholes), which the library has */
    if (a->spec.kind != ETHP2P_NAT_PCP && cli_check_nat_family(&a->spec, a->nat_text, who) != 0)
      return CLI_EXIT_USAGE;
    /* The grammar has no zone (fe80::1%eth0 is not an IP), and a link-local
     * address means nothing without one: ask for the server's global address. */
    if (a->spec.kind == ETHP2P_NAT_PCP && a->spec.has_addr && a->spec.addr.family == 6 &&
        a->spec.addr.ip[0] == 0xfe && (a->spec.addr.ip[1] & 0xc0) == 0x80) {
      fprintf(stderr,
              "%s: invalid --nat \"%s\": a link-local PCP server needs its interface, which "
              "--nat cannot name; give the server's global (or ULA) IPv6 address\n",
              who, a->nat_text);
      return CLI_EXIT_USAGE;
    }
  }
  if (a->sub != SUB_EXTIP && (!a->have_proto || !a->have_port))
    return usage_error(sub, "%s", "--proto and --port are required (see --help)");
  return -1;
}

/*
 * PCP deletes need the nonce the mapping was made with (RFC 6887 §11.3), and
 * `nat unmap` runs in a new process.  So the command keeps a 32-byte secret
 * in $ETHP2P_DATADIR (default ~/.ethp2p)/pcp-nonce.key (mode 0600) from which
 * nonces are derived.  Without it (no home, read-only disk) nonces are random
 * and only this run can delete its PCP mappings.
 */
/* True when every STUN server in list is an IP literal ("1.2.3.4:3478",
 * "[2001:db8::1]:3478", "2001:db8::1"): the library takes those as they are, so
 * nothing needs resolving (and the resolver would miss IPv6 literals). */
static bool stun_all_literals(const char *list) {
  if (list[0] == '\0')
    return false; /* the default list: host names */
  for (const char *p = list; *p != '\0';) {
    const char *end = strchr(p, ',');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    char one[128];
    ethp2p_addr addr;
    if (n == 0 || n >= sizeof one)
      return false;
    memcpy(one, p, n);
    one[n] = '\0';
    if (ethp2p_addr_parse(&addr, one, 3478) != 0)
      return false;
    p += n;
    if (*p == ',')
      p++;
  }
  return true;
}

static int nonce_key(ethp2p_env *env, uint8_t key[32]) {
  char dir[512], path[600];
  const char *d = getenv("ETHP2P_DATADIR");
  const char *home = getenv("HOME");
  if (d != NULL && *d != '\0')
    snprintf(dir, sizeof dir, "%s", d);
  else if (home != NULL && *home != '\0')
    snprintf(dir, sizeof dir, "%s/.ethp2p", home);
  else
    return -1;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return -1;
  snprintf(path, sizeof path, "%s/%s", dir, NONCE_KEY_FILE);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, key, 32);
    close(fd);
    return n == 32 ? 0 : -1;
  }
  ethp2p_env_random(env, key, 32);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, key, 32);
  if (close(fd) != 0 || n != 32) {
    unlink(path);
    return -1;
  }
  return 0;
}

static const char *meaning_of(const ethp2p_nat *nat, const ethp2p_nat_map_result *res) {
  if (res->router_code == 0 || res->router_msg[0] == '\0')
    return NULL;
  if (strcmp(ethp2p_pcp_result_name((unsigned)res->router_code), res->router_msg) == 0)
    return ethp2p_pcp_result_meaning((unsigned)res->router_code);
  if (strcmp(ethp2p_pmp_result_name((unsigned)res->router_code), res->router_msg) == 0)
    return ethp2p_pmp_result_meaning((unsigned)res->router_code);
  return NULL;
}

static const char *sub_name(subcommand sub) {
  return sub == SUB_EXTIP ? "extip" : sub == SUB_MAP ? "map" : "unmap";
}

/* What the command tried, and what the user can do: printed after a timeout and
 * after any failure to reach the gateway (the router refusing is said by its code). */
static void print_advice(nat_app *app) {
  const ethp2p_nat_spec *spec = &app->args->spec;
  ethp2p_addr gw;
  char gwtext[ETHP2P_ADDRSTRLEN] = "";
  bool have_gw = false;
  if (spec->has_addr) {
    gw = spec->addr;
    have_gw = true;
  } else if (ethp2p_env_default_gateway(app->env, &gw) == 0 && gw.family == 4) {
    have_gw = true;
  }
  if (have_gw)
    ethp2p_addr_format(&gw, false, gwtext, sizeof gwtext);
  fprintf(stderr, "  tried:\n");
  switch (spec->kind) {
  case ETHP2P_NAT_ANY:
  case ETHP2P_NAT_UPNP:
    fprintf(stderr, "    UPnP IGD: SSDP search (M-SEARCH) to 239.255.255.250:1900%s%s%s\n",
            have_gw ? ", expecting the gateway " : "", gwtext, have_gw ? " to reply" : "");
    if (spec->kind == ETHP2P_NAT_UPNP)
      break;
    /* any races PCP (which falls back to NAT-PMP) too */
    __attribute__((fallthrough));
  case ETHP2P_NAT_PCP:
  case ETHP2P_NAT_PMP:
    if (have_gw && spec->has_addr && spec->addr.family == 6)
      fprintf(stderr, "    PCP over IPv6: UDP requests to [%s]:5351 (the server given)\n", gwtext);
    else if (have_gw)
      fprintf(stderr, "    %s: UDP requests to %s:5351 (%s)\n",
              spec->kind == ETHP2P_NAT_PMP ? "NAT-PMP" : "PCP and NAT-PMP", gwtext,
              spec->has_addr ? "the gateway given" : "the default gateway");
    else
      fprintf(stderr, "    %s: no default gateway in the routing table (give one: --nat %s:IP)\n",
              spec->kind == ETHP2P_NAT_PMP ? "NAT-PMP" : "PCP and NAT-PMP",
              spec->kind == ETHP2P_NAT_PMP ? "pmp" : "pcp");
    break;
  case ETHP2P_NAT_STUN:
    fprintf(stderr, "    STUN binding requests to %s\n", spec->stun_servers);
    break;
  default:
    fprintf(stderr, "    %s\n", app->nat != NULL ? app->nat->name : app->args->nat_text);
  }
  fprintf(stderr, "  what to do:\n");
  if (spec->kind == ETHP2P_NAT_STUN) {
    fprintf(stderr, "    - check that this host reaches the internet over UDP (a firewall may "
                    "drop STUN)\n"
                    "    - try other servers: --nat stun:HOST:PORT\n");
  } else {
    fprintf(stderr, "    - turn on UPnP or NAT-PMP/PCP in the router's settings, or\n"
                    "    - forward the port by hand on the router and run the node with\n"
                    "      --nat extip:<your public IPv4 address>\n");
  }
  fprintf(stderr, "    - run `ethp2p nat doctor` for a full report of what works here\n");
}

static void finish(nat_app *app, int code) {
  app->exit_code = code;
  app->done = true;
  uv_stop(&app->loop);
}

static void on_timeout(uv_timer_t *t) {
  nat_app *app = t->data;
  uint64_t ms = app->args->timeout_ms;
  fprintf(stderr, "ethp2p nat %s: no answer via %s within %llu%s (--timeout)\n",
          sub_name(app->args->sub), app->nat->name,
          (unsigned long long)(ms % 1000 == 0 ? ms / 1000 : ms), ms % 1000 == 0 ? "s" : "ms");
  print_advice(app);
  finish(app, CLI_EXIT_INVALID);
}

static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  nat_app *app = data;
  char ib[ETHP2P_ADDRSTRLEN];
  if (app->args->sub == SUB_EXTIP) {
    if (status == 0) {
      printf("%s\n", ethp2p_addr_format(ip, false, ib, sizeof ib));
      app->exit_code = CLI_EXIT_OK;
    } else {
      fprintf(stderr, "ethp2p nat extip: no external address via %s: %s\n", nat->name,
              ethp2p_strerror(status));
      print_advice(app);
      app->exit_code = CLI_EXIT_INVALID;
    }
  } else {
    /* After a successful map: print the line with the address (or "?"). */
    printf("mapped %s %u -> %s:%u lifetime %us via %s\n", ethp2p_proto_name(app->args->proto),
           app->args->port, status == 0 ? ethp2p_addr_format(ip, false, ib, sizeof ib) : "?",
           app->map.external_port, (unsigned)app->map.lifetime_s, nat->name);
    app->exit_code = CLI_EXIT_OK;
  }
  finish(app, app->exit_code);
}

static void on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  nat_app *app = data;
  app->map = *res;
  if (res->status == 0) {
    /* PCP's MAP reply already names the external address: no second round trip. */
    if (res->external_ip.family != 0) {
      on_extip(nat, 0, &res->external_ip, app);
      return;
    }
    int rc = ethp2p_nat_external_ip(nat, on_extip, app);
    if (rc == 0)
      return;
    on_extip(nat, rc, NULL, app);
    return;
  }
  const char *meaning = meaning_of(nat, res);
  if (res->router_code != 0)
    fprintf(stderr, "ethp2p nat map: %s refused the mapping: code %d %s%s%s%s\n", nat->name,
            res->router_code, res->router_msg, meaning != NULL ? " (" : "",
            meaning != NULL ? meaning : "", meaning != NULL ? ")" : "");
  else {
    fprintf(stderr, "ethp2p nat map: mapping failed via %s: %s\n", nat->name,
            ethp2p_strerror(res->status));
    print_advice(app);
  }
  finish(app, CLI_EXIT_INVALID);
}

static void on_unmap(ethp2p_nat *nat, int status, void *data) {
  nat_app *app = data;
  if (status == 0) {
    printf("unmapped %s %u via %s\n", ethp2p_proto_name(app->args->proto), app->args->port,
           nat->name);
    app->exit_code = CLI_EXIT_OK;
  } else {
    fprintf(stderr, "ethp2p nat unmap: failed via %s: %s\n", nat->name, ethp2p_strerror(status));
    if (ethp2p_nat_is_conn_failure(status))
      print_advice(app);
    app->exit_code = CLI_EXIT_INVALID;
  }
  finish(app, app->exit_code);
}

static int run(nat_args *a) {
  static int log_format = 0;
  ethp2p_log_set_sink(cli_log_sink, &log_format,
                      a->verbose > 1 ? ETHP2P_LOG_TRACE
                                     : (a->verbose ? ETHP2P_LOG_DEBUG : ETHP2P_LOG_WARN));
  if (a->spec.kind == ETHP2P_NAT_STUN && !stun_all_literals(a->spec.stun_servers) &&
      cli_resolve_stun(&a->spec, "ethp2p nat") != 0)
    return CLI_EXIT_INVALID;
  nat_app app;
  memset(&app, 0, sizeof app);
  app.args = a;
  app.exit_code = CLI_EXIT_INVALID;
  if (uv_loop_init(&app.loop) != 0) {
    fprintf(stderr, "ethp2p nat: cannot create the event loop\n");
    return CLI_EXIT_INVALID;
  }
  int rc = ethp2p_uvenv_create(&app.loop, &app.env);
  if (rc != 0) {
    fprintf(stderr, "ethp2p nat: cannot create the environment: %s\n", ethp2p_strerror(rc));
    uv_loop_close(&app.loop);
    return CLI_EXIT_INVALID;
  }
  rc = ethp2p_nat_create(app.env, &a->spec, &app.nat);
  if (rc == 0 && (a->spec.kind == ETHP2P_NAT_PCP || a->spec.kind == ETHP2P_NAT_ANY)) {
    uint8_t key[32];
    if (nonce_key(app.env, key) == 0)
      (void)ethp2p_nat_set_pcp_nonce_key(app.nat, key);
    else
      fprintf(stderr, "ethp2p nat: no PCP nonce key; PCP mappings made now can be deleted only "
                      "by this run\n");
    memset(key, 0, sizeof key);
  }
  if (rc == 0) {
    switch (a->sub) {
    case SUB_EXTIP:
      rc = ethp2p_nat_external_ip(app.nat, on_extip, &app);
      break;
    case SUB_MAP:
      rc = ethp2p_nat_add_mapping(app.nat, a->proto, a->external_port, a->port, "ethp2p",
                                  a->lifetime, on_map, &app);
      break;
    case SUB_UNMAP:
      rc = ethp2p_nat_delete_mapping(app.nat, a->proto,
                                     a->external_port != 0 ? a->external_port : a->port, a->port,
                                     on_unmap, &app);
      break;
    }
  }
  if (rc == 0) {
    uv_timer_init(&app.loop, &app.timer);
    app.timer.data = &app;
    uv_timer_start(&app.timer, on_timeout, a->timeout_ms, 0);
    uv_run(&app.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&app.timer, NULL);
  } else {
    fprintf(stderr, "ethp2p nat %s: %s: %s\n",
            a->sub == SUB_EXTIP ? "extip"
            : a->sub == SUB_MAP ? "map"
                                : "unmap",
            app.nat != NULL ? app.nat->name : a->nat_text,
            rc == ETHP2P_EUNSUPP ? "not supported by this mechanism" : ethp2p_strerror(rc));
  }
  ethp2p_nat_destroy(app.nat);
  ethp2p_uvenv_destroy(app.env);
  uv_run(&app.loop, UV_RUN_DEFAULT); /* the closes */
  uv_loop_close(&app.loop);
  return app.exit_code;
}

int ethp2p_cmd_nat(int argc, char **argv) {
  if (argc < 2) {
    fputs(nat_help, stderr);
    return CLI_EXIT_USAGE;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
    fputs(nat_help, stdout);
    return CLI_EXIT_OK;
  }
  nat_args a;
  memset(&a, 0, sizeof a);
  if (strcmp(sub, "extip") == 0)
    a.sub = SUB_EXTIP;
  else if (strcmp(sub, "map") == 0)
    a.sub = SUB_MAP;
  else if (strcmp(sub, "unmap") == 0)
    a.sub = SUB_UNMAP;
  else if (strcmp(sub, "doctor") == 0)
    return ethp2p_cmd_nat_doctor(argc - 1, argv + 1); /* cmd_doctor.c; argv[0] = "doctor" */
  else {
    fprintf(stderr, "ethp2p nat: unknown command \"%s\"\n\n", sub);
    fputs(nat_help, stderr);
    return CLI_EXIT_USAGE;
  }
  int rc = parse_args(cli_go_flags(argc - 1, argv + 1), argv + 1, &a);
  if (rc >= 0)
    return rc;
  return run(&a);
}
