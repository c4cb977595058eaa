/*
 * cmd/ethp2p/cmd_discv5.c — `ethp2p discv5`: talk Node Discovery v5.1 to nodes,
 * in the spirit of go-ethereum's `devp2p discv5` tool, on the real (libuv)
 * environment.
 *
 *   ethp2p discv5 ping ENR       PING, print the PONG (our endpoint as the node saw it)
 *   ethp2p discv5 resolve ENR    the node's newest record (PING, then FINDNODE 0)
 *   ethp2p discv5 crawl ENR...   every record reachable from the given nodes
 *   ethp2p discv5 listen         run a node: print its record and answer requests
 *
 * Exit codes: 0 success, 1 invalid record or no answer, 2 usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/discv5.h"
#include "ethp2p/encoding.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/nodekey.h"
#include "ethp2p/secp.h"

static const char discv5_help[] =
    "Usage: ethp2p discv5 <command> [options]\n"
    "\n"
    "Talk Node Discovery v5.1 (protocol \"discv5\", version 1) to other nodes.\n"
    "\n"
    "Commands:\n"
    "  ping ENR        send a PING and print the PONG (our endpoint as the node saw it)\n"
    "  resolve ENR     print the node's newest record (PING, then FINDNODE distance 0)\n"
    "  crawl ENR...    ask every node found for its neighbours; print every record\n"
    "  listen          run a node that prints its record and answers PING, FINDNODE, TALKREQ\n"
    "\n"
    "Options:\n"
    "  --bind ADDR       local UDP address (default 0.0.0.0:0; listen 0.0.0.0:30303)\n"
    "  --extip IP        listen: the IP put in our record (default: the bind IP)\n"
    "  --nodekey FILE    listen: the node key file (default: a fresh key)\n"
    "  --bootnodes LIST  listen: comma-separated enr: records to ping at start\n"
    "  --timeout S       seconds per request attempt (default 2)\n"
    "  --retries N       further attempts after a timeout (default 1)\n"
    "  --duration S      crawl: stop after S seconds (default 30); listen: run S seconds\n"
    "                    (default: until interrupted)\n"
    "  --json            machine-readable output\n"
    "  -v, --verbose     log protocol events on stderr (twice: every packet)\n";

enum { SUB_PING, SUB_RESOLVE, SUB_CRAWL, SUB_LISTEN };

#define CRAWL_MAX 4096
#define CRAWL_PARALLEL 8

typedef struct crawl_node {
  ethp2p_enr rec;
  ethp2p_discv5_peer peer;
  bool asked, answered;
} crawl_node;

typedef struct app {
  int sub;
  const char *name;
  bool json;
  int verbose;
  ethp2p_addr bind;
  bool have_extip;
  ethp2p_addr extip;
  const char *nodekey;
  const char *bootnodes;
  double timeout_s, duration_s;
  unsigned retries;
  char **targets;
  int ntargets;

  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_discv5 *v5;
  ethp2p_timer *deadline;
  uv_signal_t sigint, sigterm;
  bool signals;
  int exit_code;
  bool looked_up;
  bool stopping; /* destroy is cancelling the requests: callbacks only clean up */
  ethp2p_time started;
  /* ping / resolve */
  ethp2p_enr target;
  ethp2p_discv5_peer peer;
  /* crawl */
  crawl_node *nodes;
  size_t nnodes, inflight;
} app;

/* --- output ----------------------------------------------------------------- */

static void id_hex(char out[65], const uint8_t id[32]) {
  size_t n;
  (void)ethp2p_hex_encode(out, 65, &n, id, 32);
}

static void print_record(app *a, const ethp2p_enr *rec, bool last) {
  char text[ETHP2P_ENR_TEXT_MAX + 1], idh[65], addr[ETHP2P_ADDRSTRLEN] = "";
  size_t n;
  uint8_t id[32] = {0};
  ethp2p_discv5_peer p;
  (void)ethp2p_enr_text_encode(text, sizeof text, &n, rec);
  (void)ethp2p_enr_node_id(id, rec);
  id_hex(idh, id);
  if (ethp2p_discv5_peer_from_enr(&p, rec) == 0)
    ethp2p_addr_format(&p.addr, true, addr, sizeof addr);
  if (a->json)
    printf("  {\"id\":\"%s\",\"seq\":%llu,\"udp\":\"%s\",\"enr\":\"%s\"}%s\n", idh,
           (unsigned long long)ethp2p_enr_seq(rec), addr, text, last ? "" : ",");
  else
    printf("%s seq=%llu udp=%s\n  %s\n", idh, (unsigned long long)ethp2p_enr_seq(rec),
           addr[0] ? addr : "-", text);
}

static void finish(app *a, int code) {
  a->exit_code = code;
  uv_stop(&a->loop);
}

/* --- argument parsing --------------------------------------------------------- */

static int parse_enr(app *a, const char *text, ethp2p_enr *rec, ethp2p_discv5_peer *peer) {
  ethp2p_diag diag = {0};
  int rc = ethp2p_enr_text_decode(rec, text, strlen(text), &diag);
  if (rc == 0)
    rc = ethp2p_enr_verify(rec, &diag);
  if (rc != 0) {
    fprintf(stderr, "ethp2p discv5 %s: invalid enr: %s (%s)\n", a->name,
            diag.msg[0] ? diag.msg : ethp2p_strerror(rc), ethp2p_err_name(rc));
    return rc;
  }
  rc = ethp2p_discv5_peer_from_enr(peer, rec);
  if (rc != 0) {
    fprintf(stderr, "ethp2p discv5 %s: the record has no UDP endpoint (ip/udp or ip6/udp6)\n",
            a->name);
    return rc;
  }
  return 0;
}

static bool parse_seconds(const char *s, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end != 0 || v < 0 || v > 86400 * 365)
    return false;
  *out = v;
  return true;
}

static int parse_args(app *a, int argc, char **argv) {
  static const struct option opts[] = {{"bind", required_argument, NULL, 'b'},
                                       {"extip", required_argument, NULL, 'e'},
                                       {"nodekey", required_argument, NULL, 'k'},
                                       {"bootnodes", required_argument, NULL, 'B'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"retries", required_argument, NULL, 'r'},
                                       {"duration", required_argument, NULL, 'd'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"verbose", no_argument, NULL, 'v'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *bind = a->sub == SUB_LISTEN ? "0.0.0.0:30303" : "0.0.0.0:0";
  int c;
  a->timeout_s = 2;
  a->retries = 1;
  a->duration_s = a->sub == SUB_CRAWL ? 30 : 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
    switch (c) {
    case 'b':
      bind = optarg;
      break;
    case 'e':
      if (ethp2p_addr_parse_ip(&a->extip, optarg) != 0) {
        fprintf(stderr, "ethp2p discv5: --extip: not an IP address: %s\n", optarg);
        return CLI_EXIT_USAGE;
      }
      a->have_extip = true;
      break;
    case 'k':
      a->nodekey = optarg;
      break;
    case 'B':
      a->bootnodes = optarg;
      break;
    case 't':
      if (!parse_seconds(optarg, &a->timeout_s) || a->timeout_s < 0.01 || a->timeout_s > 60) {
        fprintf(stderr, "ethp2p discv5: --timeout: want seconds in 0.01..60, got %s\n", optarg);
        return CLI_EXIT_USAGE;
      }
      break;
    case 'r': {
      char *end;
      unsigned long v = strtoul(optarg, &end, 10);
      if (end == optarg || *end != 0 || v > 10) {
        fprintf(stderr, "ethp2p discv5: --retries: want 0..10, got %s\n", optarg);
        return CLI_EXIT_USAGE;
      }
      a->retries = (unsigned)v;
      break;
    }
    case 'd':
      if (!parse_seconds(optarg, &a->duration_s)) {
        fprintf(stderr, "ethp2p discv5: --duration: want seconds, got %s\n", optarg);
        return CLI_EXIT_USAGE;
      }
      break;
    case 'j':
      a->json = true;
      break;
    case 'v':
      a->verbose++;
      break;
    case 'h':
      fputs(discv5_help, stdout);
      return -1;
    default:
      fputs(discv5_help, stderr);
      return CLI_EXIT_USAGE;
    }
  }
  if (ethp2p_addr_parse(&a->bind, bind, 0) != 0) {
    fprintf(stderr, "ethp2p discv5: --bind: not an address: %s\n", bind);
    return CLI_EXIT_USAGE;
  }
  a->targets = argv + optind;
  a->ntargets = argc - optind;
  bool need = a->sub == SUB_PING || a->sub == SUB_RESOLVE;
  if ((need && a->ntargets != 1) || (a->sub == SUB_CRAWL && a->ntargets < 1) ||
      (a->sub == SUB_LISTEN && a->ntargets != 0)) {
    fprintf(stderr, "ethp2p discv5 %s: %s\n", a->name,
            a->sub == SUB_LISTEN  ? "takes no arguments"
            : a->sub == SUB_CRAWL ? "needs at least one enr: record"
                                  : "needs exactly one enr: record");
    return CLI_EXIT_USAGE;
  }
  return 0;
}

/* --- callbacks ------------------------------------------------------------------ */

static void on_deadline(ethp2p_timer *t, void *data) {
  app *a = data;
  (void)t;
  if (a->sub == SUB_CRAWL) {
    if (a->verbose)
      fprintf(stderr, "ethp2p discv5 crawl: --duration reached\n");
    finish(a, -1); /* print what we have */
    return;
  }
  finish(a, CLI_EXIT_OK);
}

static void on_signal(uv_signal_t *s, int signum) {
  app *a = s->data;
  (void)signum;
  finish(a, a->sub == SUB_CRAWL ? -1 : CLI_EXIT_OK);
}

static void no_answer(app *a, int status) {
  char addr[ETHP2P_ADDRSTRLEN];
  ethp2p_addr_format(&a->peer.addr, true, addr, sizeof addr);
  if (status == ETHP2P_ETIMEDOUT)
    fprintf(stderr,
            "ethp2p discv5 %s: no answer from %s within %.3g s (%u %s): unreachable, or "
            "not a discv5 node with this key\n",
            a->name, addr, a->timeout_s * (a->retries + 1), a->retries + 1,
            a->retries == 0 ? "attempt" : "attempts");
  else
    fprintf(stderr, "ethp2p discv5 %s: %s: %s\n", a->name, addr, ethp2p_strerror(status));
  finish(a, CLI_EXIT_INVALID);
}

static void on_resolve_nodes(void *data, int status, const ethp2p_enr *recs, size_t n) {
  app *a = data;
  if (a->stopping)
    return;
  if (status != 0) {
    no_answer(a, status);
    return;
  }
  /* the newest of what the node sent and what we were given */
  const ethp2p_enr *best = &a->target;
  for (size_t i = 0; i < n; i++)
    if (ethp2p_enr_seq(&recs[i]) > ethp2p_enr_seq(best))
      best = &recs[i];
  if (a->json)
    printf("[\n");
  print_record(a, best, true);
  if (a->json)
    printf("]\n");
  finish(a, CLI_EXIT_OK);
}

static void on_pong(void *data, int status, const ethp2p_discv5_pong *pong) {
  app *a = data;
  if (a->stopping)
    return;
  if (status != 0) {
    no_answer(a, status);
    return;
  }
  if (a->sub == SUB_RESOLVE) {
    static const uint16_t zero = 0;
    int rc = ethp2p_discv5_findnode(a->v5, &a->peer, &zero, 1, on_resolve_nodes, a);
    if (rc != 0)
      no_answer(a, rc);
    return;
  }
  char idh[65], from[ETHP2P_ADDRSTRLEN], to[ETHP2P_ADDRSTRLEN];
  double rtt = (double)(ethp2p_env_now(a->env) - a->started) / 1e6;
  id_hex(idh, a->peer.id);
  ethp2p_addr_format(&a->peer.addr, true, from, sizeof from);
  ethp2p_addr_format(&pong->to, true, to, sizeof to);
  if (a->json)
    printf("{\"id\":\"%s\",\"udp\":\"%s\",\"enr_seq\":%llu,\"recipient\":\"%s\",\"rtt_ms\":%.3f}\n",
           idh, from, (unsigned long long)pong->enr_seq, to, rtt);
  else
    printf("PONG from %s (%s): enr-seq %llu, it sees us at %s, %.3f ms\n", from, idh,
           (unsigned long long)pong->enr_seq, to, rtt);
  fflush(stdout);
  finish(a, CLI_EXIT_OK);
}

/* --- crawl ----------------------------------------------------------------------- */

static void crawl_next(app *a);

static void crawl_add(app *a, const ethp2p_enr *rec) {
  ethp2p_discv5_peer p;
  if (ethp2p_discv5_peer_from_enr(&p, rec) != 0)
    return;
  for (size_t i = 0; i < a->nnodes; i++)
    if (memcmp(a->nodes[i].peer.id, p.id, 32) == 0) {
      if (ethp2p_enr_seq(rec) > ethp2p_enr_seq(&a->nodes[i].rec))
        a->nodes[i].rec = *rec;
      return;
    }
  if (a->nnodes >= CRAWL_MAX)
    return;
  crawl_node *n = &a->nodes[a->nnodes++];
  memset(n, 0, sizeof *n);
  n->rec = *rec;
  n->peer = p;
}

typedef struct crawl_req {
  app *a;
  size_t index;
} crawl_req;

static void on_crawl_nodes(void *data, int status, const ethp2p_enr *recs, size_t n) {
  crawl_req *r = data;
  app *a = r->a;
  a->inflight--;
  if (a->stopping) {
    free(r);
    return;
  }
  if (status == 0)
    a->nodes[r->index].answered = true;
  else if (a->verbose)
    fprintf(stderr, "ethp2p discv5 crawl: no answer from node %zu: %s\n", r->index,
            ethp2p_strerror(status));
  for (size_t i = 0; i < n; i++)
    crawl_add(a, &recs[i]);
  free(r);
  crawl_next(a);
}

static void crawl_next(app *a) {
  /* distance 0 (its own newest record) and the 15 farthest distances, where almost
   * all of a node's table lives */
  uint16_t d[16];
  d[0] = 0;
  for (int i = 1; i < 16; i++)
    d[i] = (uint16_t)(257 - i);
  for (size_t i = 0; i < a->nnodes && a->inflight < CRAWL_PARALLEL; i++) {
    crawl_node *n = &a->nodes[i];
    if (n->asked)
      continue;
    n->asked = true;
    crawl_req *r = malloc(sizeof *r);
    if (r == NULL)
      break;
    r->a = a;
    r->index = i;
    if (ethp2p_discv5_findnode(a->v5, &n->peer, d, 16, on_crawl_nodes, r) != 0) {
      free(r);
      continue;
    }
    a->inflight++;
  }
  if (a->inflight == 0)
    finish(a, -1);
}

static int crawl_report(app *a) {
  size_t answered = 0;
  for (size_t i = 0; i < a->nnodes; i++)
    answered += a->nodes[i].answered;
  if (a->json)
    printf("[\n");
  for (size_t i = 0; i < a->nnodes; i++)
    print_record(a, &a->nodes[i].rec, i + 1 == a->nnodes);
  if (a->json)
    printf("]\n");
  fprintf(stderr, "ethp2p discv5 crawl: %zu nodes found, %zu answered\n", a->nnodes, answered);
  return answered > 0 ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}

/* --- listen ----------------------------------------------------------------------- */

static void on_node(void *data, const ethp2p_enr *rec, const ethp2p_addr *from) {
  app *a = data;
  char idh[65], addr[ETHP2P_ADDRSTRLEN] = "-";
  uint8_t id[32];
  if (ethp2p_enr_node_id(id, rec) != 0)
    return;
  id_hex(idh, id);
  if (from != NULL)
    ethp2p_addr_format(from, true, addr, sizeof addr);
  if (a->sub == SUB_LISTEN) {
    if (a->json)
      printf("{\"event\":\"node\",\"id\":\"%s\",\"seq\":%llu,\"from\":\"%s\"}\n", idh,
             (unsigned long long)ethp2p_enr_seq(rec), addr);
    else
      printf("node %s seq=%llu from %s\n", idh, (unsigned long long)ethp2p_enr_seq(rec), addr);
    fflush(stdout);
  }
}

static void on_self_lookup(void *data, int status, const ethp2p_enr *closest, size_t n) {
  app *a = data;
  (void)closest;
  if (a->stopping || status != 0)
    return;
  if (a->json)
    printf("{\"event\":\"lookup\",\"found\":%zu,\"known\":%zu}\n", n,
           ethp2p_discv5_store_count(a->v5));
  else
    printf("lookup of our own id: %zu closest, %zu nodes known\n", n,
           ethp2p_discv5_store_count(a->v5));
  fflush(stdout);
}

/* A bootnode answered: look up our own ID through it (fills the node store and makes
 * us known around our ID, as go-ethereum's first table refresh does). */
static void on_boot_pong(void *data, int status, const ethp2p_discv5_pong *pong) {
  app *a = data;
  (void)pong;
  if (a->stopping)
    return;
  if (status != 0) {
    fprintf(stderr, "ethp2p discv5 listen: bootnode did not answer: %s\n", ethp2p_strerror(status));
    return;
  }
  if (!a->looked_up) {
    uint8_t id[32];
    ethp2p_discv5_id(a->v5, id);
    a->looked_up = ethp2p_discv5_lookup(a->v5, id, on_self_lookup, a) == 0;
  }
}

static void ping_bootnodes(app *a) {
  char *list = strdup(a->bootnodes), *save = NULL;
  if (list == NULL)
    return;
  for (char *t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
    ethp2p_enr rec;
    ethp2p_discv5_peer p;
    if (parse_enr(a, t, &rec, &p) != 0)
      continue;
    (void)ethp2p_discv5_add_node(a->v5, &rec);
    int rc = ethp2p_discv5_ping(a->v5, &p, on_boot_pong, a);
    if (rc != 0)
      fprintf(stderr, "ethp2p discv5 listen: cannot ping a bootnode: %s\n", ethp2p_strerror(rc));
  }
  free(list);
}

/* --- setup -------------------------------------------------------------------------- */

static int make_node(app *a) {
  ethp2p_nodekey key;
  ethp2p_diag diag = {0};
  int rc;
  if (a->nodekey != NULL) {
    rc = ethp2p_nodekey_load(&key, a->nodekey, &diag);
    if (rc != 0) {
      fprintf(stderr, "ethp2p discv5: --nodekey %s: %s\n", a->nodekey,
              diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
      return rc;
    }
  } else if ((rc = ethp2p_nodekey_generate(&key)) != 0) {
    fprintf(stderr, "ethp2p discv5: cannot generate a key: %s\n", ethp2p_strerror(rc));
    return rc;
  }
  ethp2p_enr rec;
  ethp2p_enr_init(&rec);
  rc = ethp2p_enr_seq_set(&rec, 1);
  if (rc == 0)
    rc = ethp2p_enr_sign(&rec, key.secret);
  ethp2p_discv5_config cfg = {0};
  cfg.secret = key.secret;
  cfg.record = &rec;
  cfg.bind = a->bind;
  cfg.retries = a->retries;
  cfg.request_timeout = (ethp2p_time)(a->timeout_s * 1e9);
  cfg.on_node = on_node;
  cfg.node_data = a;
  if (rc == 0)
    rc = ethp2p_discv5_create(a->env, &cfg, &a->v5);
  if (rc != 0) {
    char b[ETHP2P_ADDRSTRLEN];
    fprintf(stderr, "ethp2p discv5: cannot open UDP %s: %s\n",
            ethp2p_addr_format(&a->bind, true, b, sizeof b), ethp2p_strerror(rc));
    ethp2p_nodekey_wipe(&key);
    return rc;
  }
  /* the record names the bound endpoint (or --extip) */
  ethp2p_addr local;
  if (ethp2p_discv5_local_addr(a->v5, &local) == 0) {
    const ethp2p_addr *ip = a->have_extip ? &a->extip : &local;
    if (!ethp2p_addr_is_unspecified(ip)) {
      if (ip->family == 4)
        rc = ethp2p_enr_ip_set(&rec, ip->ip);
      else
        rc = ethp2p_enr_ip6_set(&rec, ip->ip);
      if (rc == 0)
        rc = ethp2p_enr_port_set(&rec, ip->family == 4 ? ETHP2P_ENR_UDP : ETHP2P_ENR_UDP6,
                                 local.port);
    } else if (a->sub == SUB_LISTEN) {
      fprintf(stderr, "ethp2p discv5 listen: bound to an unspecified address; the record has no "
                      "IP (use --extip or --bind IP:PORT)\n");
      rc = ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP, local.port);
    }
    if (rc == 0)
      rc = ethp2p_enr_sign(&rec, key.secret);
    if (rc == 0)
      rc = ethp2p_discv5_set_record(a->v5, &rec);
  }
  ethp2p_nodekey_wipe(&key);
  return rc;
}

static int run(app *a) {
  int rc;
  if (a->sub == SUB_PING || a->sub == SUB_RESOLVE) {
    if (parse_enr(a, a->targets[0], &a->target, &a->peer) != 0)
      return CLI_EXIT_INVALID;
  }
  ethp2p_log_set_sink(cli_log_sink, &(int){0},
                      a->verbose > 1 ? ETHP2P_LOG_TRACE
                                     : (a->verbose ? ETHP2P_LOG_DEBUG : ETHP2P_LOG_WARN));
  if (uv_loop_init(&a->loop) != 0) {
    fprintf(stderr, "ethp2p discv5: cannot create the event loop\n");
    return CLI_EXIT_INVALID;
  }
  a->exit_code = CLI_EXIT_INVALID;
  rc = ethp2p_uvenv_create(&a->loop, &a->env);
  if (rc != 0) {
    fprintf(stderr, "ethp2p discv5: cannot create the environment: %s\n", ethp2p_strerror(rc));
    uv_loop_close(&a->loop);
    return CLI_EXIT_INVALID;
  }
  rc = make_node(a);
  if (rc == 0)
    rc = ethp2p_timer_create(a->env, &a->deadline, on_deadline, a);
  if (rc == 0) {
    a->signals = true;
    uv_signal_init(&a->loop, &a->sigint);
    uv_signal_init(&a->loop, &a->sigterm);
    a->sigint.data = a->sigterm.data = a;
    uv_signal_start(&a->sigint, on_signal, SIGINT);
    uv_signal_start(&a->sigterm, on_signal, SIGTERM);
    a->started = ethp2p_env_now(a->env);
    if (a->duration_s > 0)
      ethp2p_timer_start(a->deadline, a->started + (ethp2p_time)(a->duration_s * 1e9));
    switch (a->sub) {
    case SUB_PING:
    case SUB_RESOLVE:
      rc = ethp2p_discv5_ping(a->v5, &a->peer, on_pong, a);
      break;
    case SUB_CRAWL:
      a->nodes = calloc(CRAWL_MAX, sizeof *a->nodes);
      if (a->nodes == NULL) {
        rc = ETHP2P_ENOMEM;
        break;
      }
      for (int i = 0; i < a->ntargets; i++) {
        ethp2p_enr rec;
        ethp2p_discv5_peer p;
        if (parse_enr(a, a->targets[i], &rec, &p) != 0) {
          rc = ETHP2P_EINVAL;
          break;
        }
        crawl_add(a, &rec);
      }
      if (rc == 0)
        crawl_next(a);
      break;
    case SUB_LISTEN: {
      char text[ETHP2P_ENR_TEXT_MAX + 1], idh[65], addr[ETHP2P_ADDRSTRLEN];
      size_t n;
      uint8_t id[32];
      ethp2p_addr local;
      (void)ethp2p_enr_text_encode(text, sizeof text, &n, ethp2p_discv5_record(a->v5));
      ethp2p_discv5_id(a->v5, id);
      id_hex(idh, id);
      (void)ethp2p_discv5_local_addr(a->v5, &local);
      ethp2p_addr_format(&local, true, addr, sizeof addr);
      if (a->json)
        printf("{\"event\":\"listening\",\"id\":\"%s\",\"udp\":\"%s\",\"enr\":\"%s\"}\n", idh, addr,
               text);
      else
        printf("%s\nid %s\nlistening on udp %s\n", text, idh, addr);
      fflush(stdout);
      if (a->bootnodes != NULL)
        ping_bootnodes(a);
      break;
    }
    }
    if (rc == 0)
      uv_run(&a->loop, UV_RUN_DEFAULT);
    else if (a->sub != SUB_CRAWL)
      fprintf(stderr, "ethp2p discv5 %s: %s\n", a->name, ethp2p_strerror(rc));
  }
  if (rc == 0 && a->sub == SUB_CRAWL)
    a->exit_code = crawl_report(a);
  else if (rc != 0)
    a->exit_code = CLI_EXIT_INVALID;
  a->stopping = true;
  ethp2p_discv5_destroy(a->v5); /* pending requests end with ECANCELED; nothing printed */
  a->v5 = NULL;
  ethp2p_timer_destroy(a->deadline);
  if (a->signals) {
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_run(&a->loop, UV_RUN_NOWAIT);
  }
  ethp2p_uvenv_destroy(a->env);
  uv_loop_close(&a->loop);
  free(a->nodes);
  return a->exit_code;
}

int ethp2p_cmd_discv5(int argc, char **argv) {
  static const struct {
    const char *name;
    int sub;
  } subs[] = {
      {"ping", SUB_PING}, {"resolve", SUB_RESOLVE}, {"crawl", SUB_CRAWL}, {"listen", SUB_LISTEN}};
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(discv5_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  app a;
  memset(&a, 0, sizeof a);
  a.sub = -1;
  for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
    if (strcmp(argv[1], subs[i].name) == 0) {
      a.sub = subs[i].sub;
      a.name = subs[i].name;
    }
  if (a.sub < 0) {
    fprintf(stderr, "ethp2p discv5: unknown command \"%s\"\n\n%s", argv[1], discv5_help);
    return CLI_EXIT_USAGE;
  }
  int rc = parse_args(&a, argc - 1, argv + 1);
  if (rc != 0)
    return rc < 0 ? CLI_EXIT_OK : rc;
  return run(&a);
}
