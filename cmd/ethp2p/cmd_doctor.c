/*
 * cmd/ethp2p/cmd_doctor.c — `ethp2p nat doctor`: why can (or can't) peers
 * reach this node?  One screen (or one JSON object) with the local addresses
 * and the default gateway, what each gateway protocol (UPnP IGD, NAT-PMP,
 * PCP) answered with a live test mapping, the external address and its
 * flags, the NAT behaviour (RFC 5780, with --stun) and the verdict
 * "reachable from the internet on tcp/N and udp/N: yes|no|unknown".
 *
 * The probing, the decision and the words are library code (ethp2p/doctor.h,
 * nat/doctor*.c); this file reads the options, runs the doctor on the libuv
 * environment, and prints what the library rendered.  No STUN server is used
 * unless named: nothing is sent to the internet by default.
 */
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/doctor.h"
#include "ethp2p/env_uv.h"

/* ---- the command -------------------------------------------------------------------- */

static const char doctor_help[] =
    "Usage: ethp2p nat doctor [--nat SPEC] [--stun HOST:PORT[,...]] [--port N] [--json] [-v]\n"
    "\n"
    "Tells in one screen what the gateway supports (UPnP IGD, NAT-PMP, PCP), what the world\n"
    "sees, how the NAT behaves (RFC 5780, with --stun) and whether peers can reach the node.\n"
    "A test mapping of tcp/N and udp/N is added, confirmed and deleted on each protocol.\n"
    "\n"
    "Options:\n"
    "  --nat SPEC        which protocols to probe: any (default: all), upnp, pmp[:GW], pcp[:GW],\n"
    "                    none (no gateway probes), extip:IP (the external address is IP)\n"
    "  --stun LIST       RFC 5780 STUN servers HOST:PORT[,HOST:PORT...] (default: none, so\n"
    "                    nothing is sent to the internet)\n"
    "  --port N          the node's port (default 30303)\n"
    "  --json            print the facts as one JSON object\n"
    "  -v, --verbose     log each exchange on stderr\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit codes: 0 reachable, 1 not reachable or unknown, 2 usage error.\n";

static int parse_stun_list(const char *text, ethp2p_doctor_config *o) {
  char buf[512];
  if (strlen(text) >= sizeof buf)
    return -1;
  snprintf(buf, sizeof buf, "%s", text);
  for (char *p = buf; p != NULL && *p != '\0';) {
    char *end = strchr(p, ',');
    if (end != NULL)
      *end = '\0';
    char host[512], port[16] = "3478";
    char *colon = strrchr(p, ':');
    if (colon != NULL && strchr(p, ':') == colon) {
      snprintf(host, sizeof host, "%.*s", (int)(colon - p), p);
      if (strlen(colon + 1) >= sizeof port)
        return -1;
      snprintf(port, sizeof port, "%s", colon + 1);
    } else {
      snprintf(host, sizeof host, "%s", p);
    }
    unsigned long pv = 0;
    for (const char *c = port; *c != '\0'; c++) {
      if (*c < '0' || *c > '9' || pv > 65535)
        return -1;
      pv = pv * 10 + (unsigned long)(*c - '0');
    }
    if (pv == 0 || pv > 65535 || o->n_stun >= ETHP2P_NATB_MAX_SERVERS)
      return -1;
    ethp2p_addr a;
    if (ethp2p_addr_parse_ip(&a, host) != 0) {
      struct addrinfo hints, *res = NULL;
      char ip[64];
      memset(&hints, 0, sizeof hints);
      hints.ai_family = AF_INET;
      hints.ai_socktype = SOCK_DGRAM;
      if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL ||
          getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST) != 0 ||
          ethp2p_addr_parse_ip(&a, ip) != 0) {
        if (res != NULL)
          freeaddrinfo(res);
        fprintf(stderr, "ethp2p nat doctor: cannot resolve STUN server \"%s\"\n", host);
        return -1;
      }
      freeaddrinfo(res);
    }
    a.port = (uint16_t)pv;
    o->stun[o->n_stun++] = a;
    p = end != NULL ? end + 1 : NULL;
  }
  return o->n_stun > 0 ? 0 : -1;
}

typedef struct doc_app {
  uv_loop_t loop;
  bool done;
} doc_app;

static void on_doctor_done(ethp2p_doctor *d, void *data) {
  doc_app *app = data;
  (void)d;
  app->done = true;
  uv_stop(&app->loop);
}

int ethp2p_cmd_nat_doctor(int argc, char **argv) {
  enum { OPT_NAT = 256, OPT_STUN, OPT_PORT, OPT_JSON };
  static const struct option opts[] = {
      {"nat", required_argument, NULL, OPT_NAT},
      {"stun", required_argument, NULL, OPT_STUN},
      {"port", required_argument, NULL, OPT_PORT},
      {"json", no_argument, NULL, OPT_JSON},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  ethp2p_doctor_config o;
  const char *nat_text = "any", *stun_text = NULL;
  bool json = false;
  int verbose = 0, c;
  char err[128];
  memset(&o, 0, sizeof o);
  o.port = 30303;
  /* argv[0] is "doctor"; tolerate a dispatcher that passes "nat doctor ...". */
  if (argc > 1 && strcmp(argv[0], "nat") == 0 && strcmp(argv[1], "doctor") == 0) {
    argc--;
    argv++;
  }
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(doctor_help, stdout);
      return CLI_EXIT_OK;
    case 'v':
      verbose++;
      break;
    case OPT_NAT:
      nat_text = optarg;
      break;
    case OPT_STUN:
      stun_text = optarg;
      break;
    case OPT_JSON:
      json = true;
      break;
    case OPT_PORT: {
      unsigned long v = 0;
      const char *s = optarg;
      if (*s == '\0' || strlen(s) > 5)
        v = 0;
      for (; *s != '\0'; s++)
        v = (*s >= '0' && *s <= '9') ? v * 10 + (unsigned long)(*s - '0') : 70000;
      if (v == 0 || v > 65535) {
        fprintf(stderr, "ethp2p nat doctor: --port: expected 1-65535, got \"%s\"\n", optarg);
        return CLI_EXIT_USAGE;
      }
      o.port = (uint16_t)v;
      break;
    }
    case ':':
      fprintf(stderr, "ethp2p nat doctor: option %s needs a value\n", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    default:
      fprintf(stderr, "ethp2p nat doctor: unknown option %s (see --help)\n", argv[optind - 1]);
      return CLI_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ethp2p nat doctor: unexpected argument \"%s\"\n", argv[optind]);
    return CLI_EXIT_USAGE;
  }
  if (ethp2p_nat_spec_parse(&o.spec, nat_text, err, sizeof err) != 0) {
    fprintf(stderr, "ethp2p nat doctor: invalid --nat \"%s\": %s\n", nat_text, err);
    return CLI_EXIT_USAGE;
  }
  if (o.spec.kind == ETHP2P_NAT_STUN && o.spec.stun_servers[0] != '\0' && stun_text == NULL)
    stun_text = o.spec.stun_servers;
  if (stun_text != NULL && parse_stun_list(stun_text, &o) != 0) {
    fprintf(stderr, "ethp2p nat doctor: --stun: expected HOST:PORT[,HOST:PORT...], got \"%s\"\n",
            stun_text);
    return CLI_EXIT_USAGE;
  }
  static int log_format = 0;
  ethp2p_log_set_sink(verbose ? cli_log_sink : NULL, &log_format,
                      verbose > 1 ? ETHP2P_LOG_TRACE : ETHP2P_LOG_DEBUG);

  doc_app app;
  ethp2p_env *env = NULL;
  ethp2p_doctor *d = NULL;
  memset(&app, 0, sizeof app);
  if (uv_loop_init(&app.loop) != 0) {
    fprintf(stderr, "ethp2p nat doctor: cannot create the event loop\n");
    return CLI_EXIT_INVALID;
  }
  int rc = ethp2p_uvenv_create(&app.loop, &env);
  if (rc == 0)
    rc = ethp2p_doctor_create(env, &o, &d);
  if (rc == 0)
    rc = ethp2p_doctor_start(d, on_doctor_done, &app);
  if (rc != 0) {
    fprintf(stderr, "ethp2p nat doctor: %s\n", ethp2p_strerror(rc));
  } else {
    while (!app.done && uv_run(&app.loop, UV_RUN_DEFAULT) != 0)
      ;
    if (!app.done) /* the loop ran dry: conclude with what is known */
      ethp2p_doctor_conclude(d);
  }
  int exit_code = CLI_EXIT_INVALID;
  if (rc == 0) {
    const ethp2p_doctor_report *r = ethp2p_doctor_get_report(d);
    ethp2p_doctor_verdict v;
    size_t len = 0;
    char *text = NULL;
    ethp2p_doctor_decide(r, &v);
    exit_code = v.answer == ETHP2P_DOCTOR_YES ? CLI_EXIT_OK : CLI_EXIT_INVALID;
    /* Ask for the length, then render into a buffer of that size. */
    rc = json ? ethp2p_doctor_render_json(r, NULL, 0, &len)
              : ethp2p_doctor_render_text(r, NULL, 0, &len);
    if (rc == ETHP2P_ESPACE && (text = malloc(len + 1)) != NULL)
      rc = json ? ethp2p_doctor_render_json(r, text, len + 1, &len)
                : ethp2p_doctor_render_text(r, text, len + 1, &len);
    if (rc == 0 && text != NULL) {
      fputs(text, stdout);
      if (json)
        fputc('\n', stdout);
    } else {
      fprintf(stderr, "ethp2p nat doctor: cannot render the report: %s\n",
              ethp2p_strerror(rc == ETHP2P_ESPACE ? ETHP2P_ENOMEM : rc));
      exit_code = CLI_EXIT_INVALID;
    }
    free(text);
  }
  ethp2p_doctor_destroy(d);
  ethp2p_uvenv_destroy(env);
  uv_loop_close(&app.loop);
  return exit_code;
}
