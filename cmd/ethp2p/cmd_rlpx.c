/*
 * cmd/ethp2p/cmd_rlpx.c — `ethp2p rlpx ping ENODE|ENR`: dial a node over RLPx,
 * finish the handshake and the Hello exchange, print the peer's Hello and the
 * round trips (auth -> ack, Ping -> Pong), then leave with "client quitting".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/encoding.h"
#include "ethp2p/enode.h"
#include "ethp2p/enr.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/log.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

static const char rlpx_help[] =
    "Usage: ethp2p rlpx ping [options] ENODE|ENR\n"
    "\n"
    "Dials the node over TCP, runs the RLPx handshake (EIP-8) and the devp2p\n"
    "Hello exchange, sends Pings, prints the peer's client ID, capabilities and\n"
    "round trips, then disconnects with \"client quitting\".\n"
    "\n"
    "By default our Hello repeats the peer's own capabilities, so that the peer\n"
    "keeps the connection long enough to answer a Ping (a peer with no shared\n"
    "capability disconnects with \"useless peer\").  --cap sets them instead.\n"
    "\n"
    "Options:\n"
    "  --count N          Pings to send, one after the other (default 1, 0 = none)\n"
    "  --timeout SECONDS  give up after this long (default 10)\n"
    "  --cap NAME/VERSION advertise this capability (repeatable)\n"
    "  --identity NAME    our client ID (default ethp2p/v<version>)\n"
    "  --nodekeyhex HEX   our node key (default: a fresh random key)\n"
    "  --json             print one JSON object\n"
    "  -v, --verbose      log the connection (twice for trace)\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 Hello received and every Ping answered, 1 failure, 2 usage.\n"
    "\n"
    "Usage: ethp2p rlpx listen [options]\n"
    "\n"
    "Accepts RLPx peers, prints each peer's Hello, Pings it once, answers its\n"
    "Pings, and prints why each peer left.  One line per event.\n"
    "\n"
    "Options:\n"
    "  --addr IP          address to listen on (default 127.0.0.1)\n"
    "  --port N           TCP port (default 30303, 0 = any free port)\n"
    "  --cap NAME/VERSION a capability to run (repeatable; default tiny/1)\n"
    "  --maxpeers N       peer limit (default 50)\n"
    "  --identity NAME    our client ID (default ethp2p/v<version>)\n"
    "  --nodekeyhex HEX   our node key (default: a fresh random key)\n"
    "  --max-frame BYTES  largest frame accepted (default 16777215)\n"
    "  --static-nodes FILE  dial these nodes and keep them (JSON array of enode URLs,\n"
    "                     as go-ethereum's static-nodes.json)\n"
    "  --trusted-nodes FILE nodes admitted beyond --maxpeers (same format)\n"
    "  --once             exit after the first peer has left\n"
    "  --duration SECONDS exit after this long (default: run until killed)\n"
    "  --json             events as JSON lines\n"
    "  -v, --verbose      log connections (twice for trace)\n";

typedef struct ping_app {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_timer *deadline;
  ethp2p_rlpx_conn *conn;
  unsigned count, pongs;
  ethp2p_time rtt_sum, rtt_min, rtt_max;
  bool json, up, closed, quitting;
  ethp2p_rlpx_hello hello;
  ethp2p_time hs_rtt;
  ethp2p_rlpx_close_info info;
  const char *stage;
  int exit_code;
  char target[ETHP2P_ENODE_URL_MAX + 1];
} ping_app;

static int usage(const char *msg, const char *arg) {
  fprintf(stderr, "ethp2p rlpx: ");
  fprintf(stderr, msg, arg);
  fprintf(stderr, "\n(see ethp2p rlpx ping --help)\n");
  return CLI_EXIT_USAGE;
}

/* Parses ENODE or ENR into key + TCP endpoint; prints the reason on failure. */
static int parse_target(const char *text, uint8_t pub[64], ethp2p_addr *to) {
  ethp2p_diag d;
  memset(&d, 0, sizeof d);
  memset(to, 0, sizeof *to);
  if (strncmp(text, "enr:", 4) == 0) {
    ethp2p_enr rec;
    uint8_t ip[4];
    uint16_t port = 0;
    int rc = ethp2p_enr_text_decode(&rec, text, strlen(text), &d);
    if (rc == 0)
      rc = ethp2p_enr_verify(&rec, &d);
    if (rc != 0) {
      fprintf(stderr, "ethp2p rlpx: bad record: %s\n", d.msg[0] ? d.msg : ethp2p_strerror(rc));
      return -1;
    }
    if (ethp2p_enr_pubkey64(pub, &rec) != 0 || ethp2p_enr_ip_get(&rec, ip) != 0 ||
        ethp2p_enr_port_get(&rec, ETHP2P_ENR_TCP, &port) != 0 || port == 0) {
      fprintf(stderr, "ethp2p rlpx: the record has no secp256k1 key, ip or tcp port\n");
      return -1;
    }
    *to = ethp2p_addr_v4(ip[0], ip[1], ip[2], ip[3], port);
    return 0;
  }
  {
    ethp2p_enode n;
    int rc = ethp2p_enode_parse(&n, text, strlen(text), &d);
    if (rc != 0) {
      fprintf(stderr, "ethp2p rlpx: bad enode URL: %s\n", d.msg[0] ? d.msg : ethp2p_strerror(rc));
      return -1;
    }
    if (n.ip_len == 0 || n.tcp == 0) {
      fprintf(stderr, "ethp2p rlpx: the enode URL has no address or TCP port\n");
      return -1;
    }
    memcpy(pub, n.pubkey, 64);
    to->family = n.ip_len == 4 ? 4 : 6;
    memcpy(to->ip, n.ip, n.ip_len);
    to->port = n.tcp;
  }
  return 0;
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s != '\0'; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      printf("\\%c", ch);
    else if (ch < 0x20 || ch >= 0x7f)
      printf("\\u%04x", ch);
    else
      putchar(ch);
  }
  putchar('"');
}

static void print_text_safe(const char *s) {
  for (; *s != '\0'; s++)
    putchar((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?');
}

static double ms(ethp2p_time t) {
  return (double)t / 1e6;
}

static void report(ping_app *app) {
  size_t i;
  if (app->json) {
    printf("{\"target\":");
    json_str(app->target);
    printf(",\"ok\":%s", app->exit_code == 0 ? "true" : "false");
    if (app->up) {
      printf(",\"client_id\":");
      json_str(app->hello.client_id);
      printf(",\"p2p_version\":%llu,\"listen_port\":%u,\"caps\":[",
             (unsigned long long)app->hello.version, app->hello.listen_port);
      for (i = 0; i < app->hello.ncaps; i++) {
        printf("%s{\"name\":", i ? "," : "");
        json_str(app->hello.caps[i].name);
        printf(",\"version\":%u}", app->hello.caps[i].version);
      }
      printf("],\"handshake_rtt_ms\":%.3f", ms(app->hs_rtt));
      printf(",\"pings\":%u,\"pongs\":%u", app->count, app->pongs);
      if (app->pongs > 0)
        printf(",\"rtt_ms\":{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f}", ms(app->rtt_min),
               ms(app->rtt_sum / app->pongs), ms(app->rtt_max));
    }
    if (app->info.reason >= 0 && app->info.remote) {
      printf(",\"peer_disconnect\":{\"reason\":%d,\"text\":", app->info.reason);
      json_str(ethp2p_rlpx_reason_string((unsigned)app->info.reason));
      printf("}");
    }
    if (app->exit_code != 0) {
      printf(",\"error\":");
      json_str(app->stage);
    }
    printf("}\n");
    return;
  }
  if (app->up) {
    printf("client    ");
    print_text_safe(app->hello.client_id);
    printf("\nversion   %llu\ncaps      ", (unsigned long long)app->hello.version);
    for (i = 0; i < app->hello.ncaps; i++) {
      printf("%s", i ? ", " : "");
      print_text_safe(app->hello.caps[i].name);
      printf("/%u", app->hello.caps[i].version);
    }
    printf("%s\nport      %u\nhandshake %.3f ms (auth -> ack)\n", app->hello.ncaps ? "" : "(none)",
           app->hello.listen_port, ms(app->hs_rtt));
    if (app->pongs > 0)
      printf("rtt       min %.3f / avg %.3f / max %.3f ms (%u of %u pings)\n", ms(app->rtt_min),
             ms(app->rtt_sum / app->pongs), ms(app->rtt_max), app->pongs, app->count);
  }
  if (app->info.reason >= 0 && app->info.remote)
    printf("peer disconnected: %s (0x%02x)\n",
           ethp2p_rlpx_reason_string((unsigned)app->info.reason), app->info.reason);
  if (app->exit_code != 0)
    fprintf(stderr, "ethp2p rlpx ping: %s\n", app->stage);
}

static void quit(ping_app *app, int code) {
  if (app->quitting)
    return;
  app->quitting = true;
  app->exit_code = code;
  ethp2p_rlpx_conn_disconnect(app->conn, ETHP2P_RLPX_DISC_QUITTING);
}

static void on_up(ethp2p_rlpx_conn *c, const ethp2p_rlpx_hello *h, void *data) {
  ping_app *app = data;
  app->up = true;
  app->hello = *h;
  app->hs_rtt = ethp2p_rlpx_conn_handshake_rtt(c);
  app->stage = "no Pong before the timeout";
  if (app->count == 0) {
    quit(app, 0);
    return;
  }
  if (ethp2p_rlpx_conn_ping(c) != 0)
    quit(app, CLI_EXIT_INVALID);
}

static void on_pong(ethp2p_rlpx_conn *c, ethp2p_time rtt, void *data) {
  ping_app *app = data;
  app->pongs++;
  app->rtt_sum += rtt;
  if (app->pongs == 1 || rtt < app->rtt_min)
    app->rtt_min = rtt;
  if (rtt > app->rtt_max)
    app->rtt_max = rtt;
  if (app->pongs >= app->count)
    quit(app, 0);
  else if (ethp2p_rlpx_conn_ping(c) != 0)
    quit(app, CLI_EXIT_INVALID);
}

static void on_close(ethp2p_rlpx_conn *c, const ethp2p_rlpx_close_info *info, void *data) {
  ping_app *app = data;
  static char why[160];
  (void)c;
  app->conn = NULL;
  app->closed = true;
  app->info = *info;
  if (!app->quitting) {
    app->exit_code = CLI_EXIT_INVALID;
    if (info->remote)
      snprintf(why, sizeof why, "the peer disconnected %s: %s",
               info->handshake_done ? "after the Hello" : "during the handshake",
               ethp2p_rlpx_reason_string((unsigned)info->reason));
    else if (!info->handshake_done && info->error == ETHP2P_ECLOSED)
      snprintf(why, sizeof why,
               "the peer closed the connection during the handshake (is the node key in the "
               "URL right?)");
    else
      snprintf(why, sizeof why, "%s failed: %s",
               info->handshake_done ? "the session" : "the handshake",
               ethp2p_strerror(info->error));
    app->stage = why;
  }
  uv_stop(&app->loop);
}

static void on_deadline(ethp2p_timer *t, void *data) {
  ping_app *app = data;
  (void)t;
  if (app->quitting) { /* the peer did not close after our Disconnect: stop anyway */
    uv_stop(&app->loop);
    return;
  }
  if (!app->up)
    app->stage = "timed out before the Hello exchange finished";
  quit(app, CLI_EXIT_INVALID);
  ethp2p_timer_start(app->deadline, ethp2p_env_now(app->env) + 3 * ETHP2P_SEC);
}

static int parse_cap(const char *s, ethp2p_rlpx_cap *cap) {
  const char *slash = strchr(s, '/');
  char *end;
  unsigned long v;
  if (slash == NULL || slash == s || (size_t)(slash - s) > ETHP2P_RLPX_CAP_NAME_MAX)
    return -1;
  v = strtoul(slash + 1, &end, 10);
  if (*end != '\0' || slash[1] == '\0' || v > UINT32_MAX)
    return -1;
  memset(cap, 0, sizeof *cap);
  memcpy(cap->name, s, (size_t)(slash - s));
  cap->version = (uint32_t)v;
  return 0;
}

static int cmd_ping(int argc, char **argv) {
  enum { OPT_COUNT = 256, OPT_TIMEOUT, OPT_CAP, OPT_IDENTITY, OPT_KEYHEX, OPT_JSON };
  static const struct option opts[] = {
      {"count", required_argument, NULL, OPT_COUNT},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"cap", required_argument, NULL, OPT_CAP},
      {"identity", required_argument, NULL, OPT_IDENTITY},
      {"nodekeyhex", required_argument, NULL, OPT_KEYHEX},
      {"json", no_argument, NULL, OPT_JSON},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  static ping_app app;
  static int log_format;
  ethp2p_rlpx_cap caps[ETHP2P_RLPX_MAX_CAPS];
  ethp2p_rlpx_conn_config cfg;
  ethp2p_rlpx_conn_cbs cbs = {on_up, NULL, on_pong, on_close};
  uint8_t key[32], pub[64];
  ethp2p_addr to;
  const char *identity = ETHP2P_RLPX_DEFAULT_CLIENT_ID, *keyhex = NULL;
  unsigned long timeout_s = 10, count = 1;
  size_t ncaps = 0;
  int c, verbose = 0, rc;
  char *end;
  memset(&app, 0, sizeof app);
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(rlpx_help, stdout);
      return CLI_EXIT_OK;
    case 'v':
      verbose++;
      break;
    case OPT_COUNT:
      count = strtoul(optarg, &end, 10);
      if (*end != '\0' || optarg[0] == '\0' || count > 1000)
        return usage("--count: expected 0..1000, got \"%s\"", optarg);
      break;
    case OPT_TIMEOUT:
      timeout_s = strtoul(optarg, &end, 10);
      if (*end != '\0' || optarg[0] == '\0' || timeout_s == 0 || timeout_s > 3600)
        return usage("--timeout: expected 1..3600 seconds, got \"%s\"", optarg);
      break;
    case OPT_CAP:
      if (ncaps == ETHP2P_RLPX_MAX_CAPS || parse_cap(optarg, &caps[ncaps]) != 0)
        return usage("--cap: expected NAME/VERSION (e.g. eth/68), got \"%s\"", optarg);
      ncaps++;
      break;
    case OPT_IDENTITY:
      if (strlen(optarg) > ETHP2P_RLPX_CLIENT_ID_MAX)
        return usage("--identity: longer than 255 bytes%s", "");
      identity = optarg;
      break;
    case OPT_KEYHEX:
      keyhex = optarg;
      break;
    case OPT_JSON:
      app.json = true;
      break;
    case ':':
      return usage("option %s needs a value", argv[optind - 1]);
    default:
      return usage("unknown option %s", argv[optind - 1]);
    }
  }
  if (optind + 1 != argc)
    return usage("expected exactly one ENODE or ENR argument%s", "");
  if (parse_target(argv[optind], pub, &to) != 0)
    return CLI_EXIT_INVALID;
  snprintf(app.target, sizeof app.target, "%s", argv[optind]);
  if (keyhex != NULL) {
    size_t n = 0;
    if (ethp2p_hex_decode(key, sizeof key, &n, keyhex, strlen(keyhex), NULL) != 0 || n != 32 ||
        ethp2p_secp_secret_check(key) != 0)
      return usage("--nodekeyhex: expected 64 hex digits of a valid secp256k1 key%s", "");
  } else if (ethp2p_secp_secret_generate(key) != 0) {
    fprintf(stderr, "ethp2p rlpx: cannot generate a node key\n");
    return CLI_EXIT_INVALID;
  }
  ethp2p_log_set_sink(cli_log_sink, &log_format,
                      verbose > 1 ? ETHP2P_LOG_TRACE
                                  : (verbose ? ETHP2P_LOG_DEBUG : ETHP2P_LOG_WARN));
  app.count = (unsigned)count;
  app.exit_code = CLI_EXIT_INVALID;
  app.stage = "connecting";
  if (uv_loop_init(&app.loop) != 0) {
    fprintf(stderr, "ethp2p rlpx: cannot create the event loop\n");
    return CLI_EXIT_INVALID;
  }
  rc = ethp2p_uvenv_create(&app.loop, &app.env);
  if (rc == 0)
    rc = ethp2p_timer_create(app.env, &app.deadline, on_deadline, &app);
  memset(&cfg, 0, sizeof cfg);
  cfg.secret = key;
  cfg.client_id = identity;
  cfg.caps = caps;
  cfg.ncaps = ncaps;
  cfg.mirror_caps = ncaps == 0;
  cfg.handshake_timeout = timeout_s * ETHP2P_SEC;
  if (rc == 0)
    rc = ethp2p_rlpx_conn_dial(&app.conn, app.env, &cfg, pub, &to, &cbs, &app);
  ethp2p_secp_wipe(key, sizeof key);
  if (rc != 0) {
    char addr[ETHP2P_ADDRSTRLEN];
    fprintf(stderr, "ethp2p rlpx ping: cannot dial %s: %s\n",
            ethp2p_addr_format(&to, true, addr, sizeof addr), ethp2p_strerror(rc));
  } else {
    ethp2p_timer_start(app.deadline, ethp2p_env_now(app.env) + timeout_s * ETHP2P_SEC);
    uv_run(&app.loop, UV_RUN_DEFAULT);
    report(&app);
  }
  ethp2p_rlpx_conn_destroy(app.conn);
  ethp2p_timer_destroy(app.deadline);
  if (app.env != NULL) {
    ethp2p_uvenv_destroy(app.env);
    uv_run(&app.loop, UV_RUN_NOWAIT);
  }
  (void)uv_loop_close(&app.loop);
  return rc != 0 ? CLI_EXIT_INVALID : app.exit_code;
}

/* ---- listen ---- */
typedef struct listen_app {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_rlpx_host *host;
  ethp2p_timer *stop;
  bool json, once;
} listen_app;

static void print_id(const uint8_t *pub) {
  char hex[129];
  if (pub == NULL) {
    printf("unknown");
    return;
  }
  (void)ethp2p_hex_encode(hex, sizeof hex, NULL, pub, 64);
  printf("%.16s", hex);
}

static void listen_event(ethp2p_rlpx_host *h, const ethp2p_rlpx_event *ev, void *data) {
  listen_app *app = data;
  static const char *names[] = {"added", "rejected", "failed", "removed", "pong"};
  char addr[ETHP2P_ADDRSTRLEN];
  size_t i;
  (void)h;
  ethp2p_addr_format(&ev->addr, true, addr, sizeof addr);
  if (app->json) {
    char hex[129] = "";
    if (ev->pub != NULL)
      (void)ethp2p_hex_encode(hex, sizeof hex, NULL, ev->pub, 64);
    printf("{\"event\":\"%s\",\"id\":\"%s\",\"addr\":\"%s\",\"inbound\":%s", names[ev->kind], hex,
           addr, ev->inbound ? "true" : "false");
  } else {
    printf("peer %-8s id=", names[ev->kind]);
    print_id(ev->pub);
    printf(" addr=%s inbound=%d", addr, (int)ev->inbound);
  }
  if (ev->kind == ETHP2P_RLPX_EV_ADDED) {
    const ethp2p_rlpx_hello *hello = ethp2p_rlpx_peer_hello(ev->peer);
    if (app->json) {
      printf(",\"client_id\":");
      json_str(hello->client_id);
      printf(",\"caps\":[");
      for (i = 0; i < hello->ncaps; i++) {
        printf("%s", i ? "," : "");
        json_str(hello->caps[i].name);
      }
      printf("]");
    } else {
      printf(" client=\"");
      print_text_safe(hello->client_id);
      printf("\" version=%llu caps=", (unsigned long long)hello->version);
      for (i = 0; i < hello->ncaps; i++) {
        printf("%s", i ? "," : "");
        print_text_safe(hello->caps[i].name);
        printf("/%u", hello->caps[i].version);
      }
    }
    (void)ethp2p_rlpx_peer_ping(ev->peer);
  } else if (ev->kind == ETHP2P_RLPX_EV_PONG) {
    printf(app->json ? ",\"rtt_ms\":%.3f" : " rtt=%.3fms", ms(ev->rtt));
  } else {
    const char *why = ev->info.reason >= 0 ? ethp2p_rlpx_reason_string((unsigned)ev->info.reason)
                                           : ethp2p_strerror(ev->info.error);
    if (app->json) {
      printf(",\"reason\":%d,\"by_peer\":%s,\"why\":", ev->info.reason,
             ev->info.remote ? "true" : "false");
      json_str(why);
    } else {
      printf(" reason=%d by_peer=%d why=\"%s\"", ev->info.reason, (int)ev->info.remote, why);
    }
  }
  printf(app->json ? "}\n" : "\n");
  fflush(stdout);
  if (app->once && (ev->kind == ETHP2P_RLPX_EV_REMOVED || ev->kind == ETHP2P_RLPX_EV_REJECTED))
    uv_stop(&app->loop);
}

/* Reads a node list file and adds its nodes; prints why on failure and returns
 * ETHP2P_ESTATE then (the error is already reported). */
static int load_nodes(ethp2p_rlpx_host *h, const char *path, bool is_static) {
  static ethp2p_enode nodes[256];
  ethp2p_diag d;
  uint8_t *text = NULL;
  size_t len = 0, n = 0, i;
  int rc = cli_read_all(path, 1 << 20, &text, &len);
  if (rc != 0) {
    fprintf(stderr, "ethp2p rlpx listen: cannot read %s: %s\n", path, ethp2p_strerror(rc));
    return ETHP2P_ESTATE;
  }
  memset(&d, 0, sizeof d);
  rc = ethp2p_rlpx_nodes_parse(nodes, 256, &n, (const char *)text, len, &d);
  free(text);
  if (rc != 0) {
    fprintf(stderr, "ethp2p rlpx listen: %s: %s (at byte %zu)\n", path,
            d.msg[0] ? d.msg : ethp2p_strerror(rc), d.offset);
    return ETHP2P_ESTATE;
  }
  for (i = 0; i < n; i++) {
    ethp2p_addr a;
    memset(&a, 0, sizeof a);
    a.family = nodes[i].ip_len == 4 ? 4 : 6;
    memcpy(a.ip, nodes[i].ip, nodes[i].ip_len);
    a.port = nodes[i].tcp;
    rc = is_static ? ethp2p_rlpx_host_add_static(h, nodes[i].pubkey, &a)
                   : ethp2p_rlpx_host_add_trusted(h, nodes[i].pubkey);
    if (rc != 0 && rc != ETHP2P_EEXIST) {
      fprintf(stderr, "ethp2p rlpx listen: %s: node %zu: %s\n", path, i + 1, ethp2p_strerror(rc));
      return ETHP2P_ESTATE;
    }
  }
  return 0;
}

static void listen_stop(ethp2p_timer *t, void *data) {
  listen_app *app = data;
  (void)t;
  uv_stop(&app->loop);
}

static int cmd_listen(int argc, char **argv) {
  enum {
    OPT_ADDR = 256,
    OPT_PORT,
    OPT_CAP,
    OPT_MAXPEERS,
    OPT_IDENTITY,
    OPT_KEYHEX,
    OPT_ONCE,
    OPT_DURATION,
    OPT_JSON,
    OPT_MAXFRAME,
    OPT_STATIC,
    OPT_TRUSTED
  };
  static const struct option opts[] = {
      {"addr", required_argument, NULL, OPT_ADDR},
      {"port", required_argument, NULL, OPT_PORT},
      {"cap", required_argument, NULL, OPT_CAP},
      {"maxpeers", required_argument, NULL, OPT_MAXPEERS},
      {"identity", required_argument, NULL, OPT_IDENTITY},
      {"nodekeyhex", required_argument, NULL, OPT_KEYHEX},
      {"once", no_argument, NULL, OPT_ONCE},
      {"max-frame", required_argument, NULL, OPT_MAXFRAME},
      {"static-nodes", required_argument, NULL, OPT_STATIC},
      {"trusted-nodes", required_argument, NULL, OPT_TRUSTED},
      {"duration", required_argument, NULL, OPT_DURATION},
      {"json", no_argument, NULL, OPT_JSON},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  static listen_app app;
  static int log_format;
  ethp2p_rlpx_cap caps[ETHP2P_RLPX_MAX_CAPS];
  ethp2p_rlpx_host_config cfg;
  ethp2p_addr bind = ethp2p_addr_v4(127, 0, 0, 1, 30303), local;
  const char *identity = ETHP2P_RLPX_DEFAULT_CLIENT_ID, *keyhex = NULL, *static_file = NULL,
             *trusted_file = NULL;
  unsigned long maxpeers = 50, duration = 0, port = 30303, max_frame = 0;
  uint8_t key[32], pub[64];
  size_t ncaps = 0, i;
  int c, verbose = 0, rc;
  char *end;
  memset(&app, 0, sizeof app);
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(rlpx_help, stdout);
      return CLI_EXIT_OK;
    case 'v':
      verbose++;
      break;
    case OPT_ADDR:
      if (ethp2p_addr_parse_ip(&bind, optarg) != 0)
        return usage("--addr: expected an IP address, got \"%s\"", optarg);
      break;
    case OPT_PORT:
      port = strtoul(optarg, &end, 10);
      if (*end != '\0' || optarg[0] == '\0' || port > 65535)
        return usage("--port: expected 0..65535, got \"%s\"", optarg);
      break;
    case OPT_CAP:
      if (ncaps == ETHP2P_RLPX_MAX_CAPS || parse_cap(optarg, &caps[ncaps]) != 0)
        return usage("--cap: expected NAME/VERSION (e.g. eth/68), got \"%s\"", optarg);
      ncaps++;
      break;
    case OPT_MAXPEERS:
      maxpeers = strtoul(optarg, &end, 10);
      if (*end != '\0' || optarg[0] == '\0' || maxpeers == 0 || maxpeers > 100000)
        return usage("--maxpeers: expected 1..100000, got \"%s\"", optarg);
      break;
    case OPT_IDENTITY:
      if (strlen(optarg) > ETHP2P_RLPX_CLIENT_ID_MAX)
        return usage("--identity: longer than 255 bytes%s", "");
      identity = optarg;
      break;
    case OPT_KEYHEX:
      keyhex = optarg;
      break;
    case OPT_ONCE:
      app.once = true;
      break;
    case OPT_STATIC:
      static_file = optarg;
      break;
    case OPT_TRUSTED:
      trusted_file = optarg;
      break;
    case OPT_MAXFRAME:
      max_frame = strtoul(optarg, &end, 10);
      if (*end != '\0' || optarg[0] == '\0' || max_frame < 1024 ||
          max_frame > ETHP2P_RLPX_FRAME_MAX)
        return usage("--max-frame: expected 1024..16777215, got \"%s\"", optarg);
      break;
    case OPT_DURATION:
      duration = strtoul(optarg, &end, 10);
      if (*end != '\0' || optarg[0] == '\0' || duration == 0 || duration > 86400 * 365)
        return usage("--duration: expected a number of seconds, got \"%s\"", optarg);
      break;
    case OPT_JSON:
      app.json = true;
      break;
    case ':':
      return usage("option %s needs a value", argv[optind - 1]);
    default:
      return usage("unknown option %s", argv[optind - 1]);
    }
  }
  if (optind != argc)
    return usage("unexpected argument \"%s\"", argv[optind]);
  bind.port = (uint16_t)port;
  if (ncaps == 0) {
    memset(&caps[0], 0, sizeof caps[0]);
    memcpy(caps[0].name, "tiny", 5);
    caps[0].version = 1;
    ncaps = 1;
  }
  if (keyhex != NULL) {
    size_t n = 0;
    if (ethp2p_hex_decode(key, sizeof key, &n, keyhex, strlen(keyhex), NULL) != 0 || n != 32 ||
        ethp2p_secp_secret_check(key) != 0)
      return usage("--nodekeyhex: expected 64 hex digits of a valid secp256k1 key%s", "");
  } else if (ethp2p_secp_secret_generate(key) != 0) {
    fprintf(stderr, "ethp2p rlpx: cannot generate a node key\n");
    return CLI_EXIT_INVALID;
  }
  (void)ethp2p_secp_pubkey(NULL, pub, key);
  ethp2p_log_set_sink(cli_log_sink, &log_format,
                      verbose > 1 ? ETHP2P_LOG_TRACE
                                  : (verbose ? ETHP2P_LOG_DEBUG : ETHP2P_LOG_WARN));
  if (uv_loop_init(&app.loop) != 0) {
    fprintf(stderr, "ethp2p rlpx: cannot create the event loop\n");
    return CLI_EXIT_INVALID;
  }
  rc = ethp2p_uvenv_create(&app.loop, &app.env);
  memset(&cfg, 0, sizeof cfg);
  cfg.secret = key;
  cfg.client_id = identity;
  cfg.listen_port = (uint16_t)port;
  cfg.max_peers = maxpeers;
  cfg.max_frame = max_frame;
  cfg.on_event = listen_event;
  cfg.event_data = &app;
  if (rc == 0)
    rc = ethp2p_rlpx_host_create(&app.host, app.env, &cfg);
  ethp2p_secp_wipe(key, sizeof key);
  for (i = 0; rc == 0 && i < ncaps; i++) {
    /* The CLI knows no protocol's messages: it runs each capability with 16 codes
     * and ignores what arrives, which is enough to be a non-useless peer. */
    ethp2p_rlpx_protocol p = {caps[i].name, caps[i].version, 16, NULL, NULL, NULL, NULL};
    int id = ethp2p_rlpx_host_register(app.host, &p);
    rc = id < 0 ? id : 0;
  }
  if (rc == 0 && trusted_file != NULL)
    rc = load_nodes(app.host, trusted_file, false);
  if (rc == 0 && static_file != NULL)
    rc = load_nodes(app.host, static_file, true);
  if (rc == ETHP2P_ESTATE) {
    ethp2p_rlpx_host_destroy(app.host);
    ethp2p_uvenv_destroy(app.env);
    uv_run(&app.loop, UV_RUN_NOWAIT);
    (void)uv_loop_close(&app.loop);
    return CLI_EXIT_INVALID;
  }
  if (rc == 0)
    rc = ethp2p_rlpx_host_listen(app.host, &bind);
  if (rc == 0)
    rc = ethp2p_rlpx_host_local_addr(app.host, &local);
  if (rc == 0 && duration > 0) {
    rc = ethp2p_timer_create(app.env, &app.stop, listen_stop, &app);
    if (rc == 0)
      ethp2p_timer_start(app.stop, ethp2p_env_now(app.env) + duration * ETHP2P_SEC);
  }
  if (rc != 0) {
    char a[ETHP2P_ADDRSTRLEN];
    fprintf(stderr, "ethp2p rlpx listen: cannot listen on %s: %s\n",
            ethp2p_addr_format(&bind, true, a, sizeof a), ethp2p_strerror(rc));
  } else {
    char hex[129], a[ETHP2P_ADDRSTRLEN];
    (void)ethp2p_hex_encode(hex, sizeof hex, NULL, pub, 64);
    ethp2p_addr_format(&local, true, a, sizeof a);
    if (app.json)
      printf("{\"event\":\"listening\",\"enode\":\"enode://%s@%s\"}\n", hex, a);
    else
      printf("listening enode://%s@%s\n", hex, a);
    fflush(stdout);
    uv_run(&app.loop, UV_RUN_DEFAULT);
  }
  ethp2p_rlpx_host_destroy(app.host);
  ethp2p_timer_destroy(app.stop);
  if (app.env != NULL) {
    ethp2p_uvenv_destroy(app.env);
    uv_run(&app.loop, UV_RUN_NOWAIT);
  }
  (void)uv_loop_close(&app.loop);
  return rc != 0 ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}

int ethp2p_cmd_rlpx(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    fputs(rlpx_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "ping") == 0)
    return cmd_ping(argc - 1, argv + 1);
  if (strcmp(argv[1], "listen") == 0)
    return cmd_listen(argc - 1, argv + 1);
  fprintf(stderr, "ethp2p rlpx: unknown subcommand \"%s\" (try: ping, listen)\n", argv[1]);
  return CLI_EXIT_USAGE;
}
