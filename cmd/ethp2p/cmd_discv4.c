/*
 * cmd/ethp2p/cmd_discv4.c — `ethp2p discv4 ping|requestenr|resolve|crawl`, in
 * the spirit of go-ethereum's `devp2p discv4` tool.  Each run opens one UDP
 * socket, starts discv4 with a local record (ephemeral key unless --nodekey or
 * --nodekeyhex), does its job within --timeout and prints text or --json.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/discv4.h"
#include "ethp2p/encoding.h"
#include "ethp2p/enode.h"
#include "ethp2p/env_uv.h"
#include "ethp2p/localnode.h"
#include "ethp2p/nodekey.h"

#define MAX_BOOT 16
#define CRAWL_MAX 4096

static const char discv4_help[] =
    "Usage: ethp2p discv4 <command> [options] NODE\n"
    "\n"
    "Commands (NODE is an enode:// URL or an enr: record):\n"
    "  ping NODE         send a Ping, wait for the Pong: round trip, where NODE sees us, its "
    "enr-seq\n"
    "  requestenr NODE   bond with NODE and ask for its record (EIP-868)\n"
    "  resolve NODE      look NODE's key up in the DHT (NODE and --bootnodes as seeds), then\n"
    "                    fetch its newest record\n"
    "  crawl [NODE...]   walk the DHT from NODE and --bootnodes with random lookups until\n"
    "                    --timeout; print every node found (and its record when it answers)\n"
    "\n"
    "Options:\n"
    "  --json               one JSON object on stdout\n"
    "  --timeout SECONDS    give up after this long (default 5; crawl 30), 1..3600\n"
    "  --bootnodes LIST     comma-separated enode:// URLs or enr: records\n"
    "  --listen ADDR        local UDP address (default 0.0.0.0:0)\n"
    "  --nodekey FILE       our key from a key file (default: a fresh ephemeral key)\n"
    "  --nodekeyhex HEX     our key as 64 hex digits\n"
    "  -v                   log discovery traffic on stderr (twice: every packet)\n"
    "\n"
    "Exit status: 0 success, 1 no answer or invalid node, 2 usage error.\n";

typedef enum { SUB_PING, SUB_REQUESTENR, SUB_RESOLVE, SUB_CRAWL } sub_t;

typedef struct app {
  sub_t sub;
  const char *subname;
  bool json;
  int verbose;
  unsigned timeout_s;
  ethp2p_addr listen;
  const char *nodekey_file, *nodekey_hex;
  ethp2p_discover_node target;
  bool have_target;
  ethp2p_discover_node boot[MAX_BOOT];
  size_t nboot;

  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_localnode *ln;
  ethp2p_discover *mux;
  ethp2p_discv4 *v4;
  ethp2p_timer *deadline;
  int exit_code;
  bool done;

  /* crawl */
  ethp2p_discover_node *found;
  ethp2p_enr *recs;
  bool *have_rec;
  size_t nfound;
  unsigned lookups_running;
} app;

static int usage_error(const app *a, const char *fmt, const char *arg) {
  fprintf(stderr, "ethp2p discv4%s%s: ", a->subname != NULL ? " " : "",
          a->subname != NULL ? a->subname : "");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  return CLI_EXIT_USAGE;
}

static int parse_node(app *a, ethp2p_discover_node *n, const char *text) {
  ethp2p_diag diag;
  memset(&diag, 0, sizeof diag);
  int rc = ethp2p_discover_node_parse(n, NULL, text, &diag);
  if (rc != 0) {
    fprintf(stderr, "ethp2p discv4 %s: invalid node \"%.80s\": %s\n", a->subname, text,
            diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
    return -1;
  }
  return 0;
}

static int parse_bootnodes(app *a, const char *list) {
  char buf[8192];
  if (strlen(list) >= sizeof buf) {
    fprintf(stderr, "ethp2p discv4 %s: --bootnodes is too long\n", a->subname);
    return -1;
  }
  memcpy(buf, list, strlen(list) + 1);
  for (char *p = buf, *q; p != NULL && *p != '\0'; p = q) {
    q = strchr(p, ',');
    if (q != NULL)
      *q++ = '\0';
    if (*p == '\0')
      continue;
    if (a->nboot == MAX_BOOT) {
      fprintf(stderr, "ethp2p discv4 %s: more than %d bootnodes\n", a->subname, MAX_BOOT);
      return -1;
    }
    if (parse_node(a, &a->boot[a->nboot], p) != 0)
      return -1;
    a->nboot++;
  }
  return 0;
}

static void finish(app *a, int code) {
  if (a->done)
    return;
  a->done = true;
  a->exit_code = code;
  uv_stop(&a->loop);
}

static void hex(char *out, const uint8_t *b, size_t n) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = d[b[i] >> 4];
    out[2 * i + 1] = d[b[i] & 15];
  }
  out[2 * n] = 0;
}

static void print_json(json_t *o) {
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
  if (s != NULL) {
    printf("%s\n", s);
    free(s);
  }
  json_decref(o);
}

/* Record fields for text and JSON output. */
static json_t *record_json(const ethp2p_enr *rec) {
  char text[ETHP2P_ENR_TEXT_MAX + 1], idhex[65], url[ETHP2P_ENODE_URL_MAX];
  uint8_t id[32];
  ethp2p_discover_node n;
  json_t *o = json_object();
  if (ethp2p_enr_text_encode(text, sizeof text, NULL, rec) == 0)
    json_object_set_new(o, "enr", json_string(text));
  json_object_set_new(o, "seq", json_integer((json_int_t)ethp2p_enr_seq(rec)));
  if (ethp2p_enr_node_id(id, rec) == 0) {
    hex(idhex, id, 32);
    json_object_set_new(o, "id", json_string(idhex));
  }
  if (ethp2p_discover_node_from_record(&n, rec) == 0 &&
      ethp2p_discover_node_format(&n, url, sizeof url) > 0)
    json_object_set_new(o, "enode", json_string(url));
  return o;
}

static void print_record(app *a, const ethp2p_enr *rec) {
  json_t *o = record_json(rec);
  if (a->json) {
    print_json(o);
    return;
  }
  json_t *v;
  if ((v = json_object_get(o, "enr")) != NULL)
    printf("%s\n", json_string_value(v));
  printf("seq     %lld\n", (long long)json_integer_value(json_object_get(o, "seq")));
  if ((v = json_object_get(o, "id")) != NULL)
    printf("id      %s\n", json_string_value(v));
  if ((v = json_object_get(o, "enode")) != NULL)
    printf("enode   %s\n", json_string_value(v));
  json_decref(o);
}

/* --- ping ------------------------------------------------------------- */

static void on_pong(void *data, int status, const ethp2p_discv4_pong_info *p) {
  app *a = data;
  char url[ETHP2P_ENODE_URL_MAX] = "", seen[ETHP2P_ADDRSTRLEN], at[ETHP2P_ADDRSTRLEN];
  if (status != 0) {
    fprintf(stderr, "ethp2p discv4 ping: no pong from %s: %s\n",
            ethp2p_addr_format(&a->target.addr, true, at, sizeof at),
            status == ETHP2P_ETIMEDOUT ? "timed out (500 ms)" : ethp2p_strerror(status));
    finish(a, CLI_EXIT_INVALID);
    return;
  }
  ethp2p_discover_node n = a->target;
  memcpy(n.pub64, p->pub64, 64);
  (void)ethp2p_discover_node_format(&n, url, sizeof url);
  ethp2p_addr_format(&p->to, true, seen, sizeof seen);
  if (a->json) {
    json_t *o = json_object();
    json_object_set_new(o, "node", json_string(url));
    json_object_set_new(o, "rtt_ms", json_real((double)p->rtt / 1e6));
    json_object_set_new(o, "seen_as", json_string(seen));
    json_object_set_new(o, "enr_seq",
                        p->has_seq ? json_integer((json_int_t)p->enr_seq) : json_null());
    print_json(o);
  } else {
    printf("pong from %s\n", url);
    printf("rtt      %.3f ms\n", (double)p->rtt / 1e6);
    printf("seen as  %s\n", seen);
    if (p->has_seq)
      printf("enr-seq  %llu\n", (unsigned long long)p->enr_seq);
  }
  finish(a, CLI_EXIT_OK);
}

/* --- requestenr / resolve ------------------------------------------------ */

static void on_record(void *data, int status, const ethp2p_enr *rec) {
  app *a = data;
  char at[ETHP2P_ADDRSTRLEN];
  if (status != 0) {
    const char *why = status == ETHP2P_ETIMEDOUT   ? "no answer (timed out)"
                      : status == ETHP2P_ENOTFOUND ? "node not found in the DHT"
                      : status == ETHP2P_ESIG      ? "record not signed by that node"
                                                   : ethp2p_strerror(status);
    fprintf(stderr, "ethp2p discv4 %s: %s: %s\n", a->subname,
            ethp2p_addr_format(&a->target.addr, true, at, sizeof at), why);
    finish(a, CLI_EXIT_INVALID);
    return;
  }
  print_record(a, rec);
  finish(a, CLI_EXIT_OK);
}

/* --- crawl ---------------------------------------------------------------- */

static int crawl_index(app *a, const uint8_t id[32]) {
  for (size_t i = 0; i < a->nfound; i++)
    if (memcmp(a->found[i].id, id, 32) == 0)
      return (int)i;
  return -1;
}

static void on_crawl_record(void *data, int status, const ethp2p_enr *rec) {
  app *a = data;
  uint8_t id[32];
  if (status != 0 || rec == NULL || ethp2p_enr_node_id(id, rec) != 0)
    return;
  int i = crawl_index(a, id);
  if (i >= 0) {
    a->recs[i] = *rec;
    a->have_rec[i] = true;
  }
}

static void crawl_add(app *a, const ethp2p_discover_node *n) {
  if (crawl_index(a, n->id) >= 0 || a->nfound == CRAWL_MAX)
    return;
  a->found[a->nfound] = *n;
  a->have_rec[a->nfound] = false;
  a->nfound++;
  (void)ethp2p_discv4_request_enr(a->v4, n, on_crawl_record, a);
}

static void start_crawl_lookup(app *a);

static void on_crawl_lookup(void *data, int status, const ethp2p_discover_node *nodes, size_t n) {
  app *a = data;
  a->lookups_running--;
  if (status != 0 || a->done)
    return;
  for (size_t i = 0; i < n; i++)
    crawl_add(a, &nodes[i]);
  ethp2p_discover_node all[256];
  size_t k = ethp2p_table_nodes(ethp2p_discv4_table(a->v4), all, 256);
  for (size_t i = 0; i < k; i++)
    crawl_add(a, &all[i]);
  start_crawl_lookup(a);
}

static void start_crawl_lookup(app *a) {
  while (a->lookups_running < 3 && !a->done) {
    if (ethp2p_discv4_lookup(a->v4, NULL, on_crawl_lookup, a) != 0)
      return;
    a->lookups_running++;
  }
}

static void print_crawl(app *a) {
  if (a->json) {
    json_t *arr = json_array();
    for (size_t i = 0; i < a->nfound; i++) {
      json_t *o;
      if (a->have_rec[i]) {
        o = record_json(&a->recs[i]);
      } else {
        char url[ETHP2P_ENODE_URL_MAX], idhex[65];
        o = json_object();
        hex(idhex, a->found[i].id, 32);
        json_object_set_new(o, "id", json_string(idhex));
        if (ethp2p_discover_node_format(&a->found[i], url, sizeof url) > 0)
          json_object_set_new(o, "enode", json_string(url));
      }
      json_array_append_new(arr, o);
    }
    json_t *top = json_object();
    json_object_set_new(top, "nodes", arr);
    json_object_set_new(top, "count", json_integer((json_int_t)a->nfound));
    print_json(top);
    return;
  }
  for (size_t i = 0; i < a->nfound; i++) {
    char url[ETHP2P_ENODE_URL_MAX], text[ETHP2P_ENR_TEXT_MAX + 1];
    (void)ethp2p_discover_node_format(&a->found[i], url, sizeof url);
    if (a->have_rec[i] && ethp2p_enr_text_encode(text, sizeof text, NULL, &a->recs[i]) == 0)
      printf("%s %s\n", url, text);
    else
      printf("%s\n", url);
  }
  fprintf(stderr, "crawl: %zu nodes\n", a->nfound);
}

/* --- run -------------------------------------------------------------- */

static void on_deadline(ethp2p_timer *t, void *data) {
  app *a = data;
  (void)t;
  if (a->sub == SUB_CRAWL) {
    finish(a, a->nfound > 0 ? CLI_EXIT_OK : CLI_EXIT_INVALID);
    return;
  }
  fprintf(stderr, "ethp2p discv4 %s: no result within %u s\n", a->subname, a->timeout_s);
  finish(a, CLI_EXIT_INVALID);
}

static int load_key(app *a, ethp2p_nodekey *key) {
  ethp2p_diag diag;
  int rc;
  memset(&diag, 0, sizeof diag);
  if (a->nodekey_hex != NULL)
    rc = ethp2p_nodekey_parse(key, (const uint8_t *)a->nodekey_hex, strlen(a->nodekey_hex), &diag);
  else if (a->nodekey_file != NULL)
    rc = ethp2p_nodekey_load(key, a->nodekey_file, &diag);
  else
    rc = ethp2p_nodekey_generate(key);
  if (rc != 0)
    fprintf(stderr, "ethp2p discv4 %s: bad node key: %s\n", a->subname,
            diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
  return rc;
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

static int start_job(app *a) {
  switch (a->sub) {
  case SUB_PING:
    return ethp2p_discv4_ping(a->v4, &a->target, on_pong, a);
  case SUB_REQUESTENR:
    return ethp2p_discv4_request_enr(a->v4, &a->target, on_record, a);
  case SUB_RESOLVE:
    return ethp2p_discv4_resolve(a->v4, a->target.pub64, on_record, a);
  case SUB_CRAWL:
    a->found = calloc(CRAWL_MAX, sizeof *a->found);
    a->recs = calloc(CRAWL_MAX, sizeof *a->recs);
    a->have_rec = calloc(CRAWL_MAX, sizeof *a->have_rec);
    if (a->found == NULL || a->recs == NULL || a->have_rec == NULL)
      return ETHP2P_ENOMEM;
    for (size_t i = 0; i < a->nboot; i++)
      crawl_add(a, &a->boot[i]);
    start_crawl_lookup(a);
    return a->lookups_running > 0 ? 0 : ETHP2P_ENOTFOUND;
  }
  return ETHP2P_EINVAL;
}

static int run(app *a) {
  static int log_format = 0;
  ethp2p_nodekey key;
  ethp2p_discv4_config cfg;
  int rc;

  ethp2p_log_set_sink(cli_log_sink, &log_format,
                      a->verbose > 1   ? ETHP2P_LOG_TRACE
                      : a->verbose > 0 ? ETHP2P_LOG_DEBUG
                                       : ETHP2P_LOG_WARN);
  if (load_key(a, &key) != 0)
    return CLI_EXIT_INVALID;
  a->exit_code = CLI_EXIT_INVALID;
  if (uv_loop_init(&a->loop) != 0) {
    fprintf(stderr, "ethp2p discv4: cannot create the event loop\n");
    return CLI_EXIT_INVALID;
  }
  rc = ethp2p_uvenv_create(&a->loop, &a->env);
  if (rc != 0) {
    fprintf(stderr, "ethp2p discv4: cannot create the environment: %s\n", ethp2p_strerror(rc));
    uv_loop_close(&a->loop);
    return CLI_EXIT_INVALID;
  }
  rc = ethp2p_discover_open(a->env, &a->listen, &a->mux);
  if (rc != 0) {
    char t[ETHP2P_ADDRSTRLEN];
    fprintf(stderr, "ethp2p discv4 %s: cannot open UDP %s: %s\n", a->subname,
            ethp2p_addr_format(&a->listen, true, t, sizeof t), ethp2p_strerror(rc));
    goto out;
  }
  rc = ethp2p_localnode_create(a->env, &key, NULL, &a->ln);
  if (rc != 0) {
    fprintf(stderr, "ethp2p discv4: cannot create the local record: %s\n", ethp2p_strerror(rc));
    goto out;
  }
  {
    ethp2p_addr local = ethp2p_discover_local_addr(a->mux), fb = a->listen;
    if (fb.family != 4 || ethp2p_addr_is_unspecified(&fb))
      fb = ethp2p_addr_v4(127, 0, 0, 1, 0);
    (void)ethp2p_localnode_set_fallback_ip(a->ln, &fb);
    ethp2p_localnode_set_fallback_udp(a->ln, local.port);
  }
  memset(&cfg, 0, sizeof cfg);
  memcpy(cfg.secret, key.secret, 32);
  cfg.host.record = host_record;
  cfg.host.statement = host_statement;
  cfg.host.contact = host_contact;
  cfg.host.data = a->ln;
  cfg.bootnodes = a->boot;
  cfg.nbootnodes = a->nboot;
  cfg.no_maintenance = true;
  rc = ethp2p_discv4_create(a->mux, &cfg, &a->v4);
  memset(cfg.secret, 0, sizeof cfg.secret);
  if (rc != 0) {
    fprintf(stderr, "ethp2p discv4: cannot start discovery: %s\n", ethp2p_strerror(rc));
    goto out;
  }
  rc = ethp2p_timer_create(a->env, &a->deadline, on_deadline, a);
  if (rc != 0)
    goto out;
  ethp2p_timer_start(a->deadline, ethp2p_env_now(a->env) + (ethp2p_time)a->timeout_s * ETHP2P_SEC);
  rc = start_job(a);
  if (rc != 0) {
    char at[ETHP2P_ADDRSTRLEN];
    fprintf(stderr, "ethp2p discv4 %s: cannot send to %s: %s\n", a->subname,
            ethp2p_addr_format(&a->target.addr, true, at, sizeof at),
            rc == ETHP2P_ENOTFOUND ? "no node to start from (give NODE or --bootnodes)"
                                   : ethp2p_strerror(rc));
    goto out;
  }
  uv_run(&a->loop, UV_RUN_DEFAULT);
  if (a->sub == SUB_CRAWL)
    print_crawl(a);
out:
  ethp2p_nodekey_wipe(&key);
  ethp2p_timer_destroy(a->deadline);
  ethp2p_discv4_destroy(a->v4);
  ethp2p_discover_close(a->mux);
  ethp2p_localnode_destroy(a->ln);
  ethp2p_uvenv_destroy(a->env);
  uv_loop_close(&a->loop);
  free(a->found);
  free(a->recs);
  free(a->have_rec);
  return a->exit_code;
}

int ethp2p_cmd_discv4(int argc, char **argv) {
  static app a;
  const char *positional[MAX_BOOT];
  size_t npos = 0;
  bool timeout_given = false;

  memset(&a, 0, sizeof a);
  a.listen = ethp2p_addr_v4(0, 0, 0, 0, 0);
  a.timeout_s = 5;
  if (argc < 2) {
    fputs(discv4_help, stderr);
    return CLI_EXIT_USAGE;
  }
  a.subname = argv[1];
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    fputs(discv4_help, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "ping") == 0)
    a.sub = SUB_PING;
  else if (strcmp(argv[1], "requestenr") == 0)
    a.sub = SUB_REQUESTENR;
  else if (strcmp(argv[1], "resolve") == 0)
    a.sub = SUB_RESOLVE;
  else if (strcmp(argv[1], "crawl") == 0)
    a.sub = SUB_CRAWL;
  else {
    a.subname = NULL;
    usage_error(&a, "unknown command \"%s\" (ping, requestenr, resolve, crawl)", argv[1]);
    return CLI_EXIT_USAGE;
  }
  for (int i = 2; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
      fputs(discv4_help, stdout);
      return CLI_EXIT_OK;
    } else if (strcmp(o, "--json") == 0) {
      a.json = true;
    } else if (strcmp(o, "-v") == 0) {
      a.verbose++;
    } else if (strcmp(o, "-vv") == 0) {
      a.verbose += 2;
    } else if (strcmp(o, "--timeout") == 0 || strcmp(o, "--bootnodes") == 0 ||
               strcmp(o, "--listen") == 0 || strcmp(o, "--nodekey") == 0 ||
               strcmp(o, "--nodekeyhex") == 0) {
      if (v == NULL)
        return usage_error(&a, "%s needs a value", o);
      i++;
      if (strcmp(o, "--timeout") == 0) {
        char *end;
        unsigned long t = strtoul(v, &end, 10);
        if (*v < '0' || *v > '9' || *end != '\0' || t < 1 || t > 3600)
          return usage_error(&a, "--timeout must be 1..3600 seconds, got \"%s\"", v);
        a.timeout_s = (unsigned)t;
        timeout_given = true;
      } else if (strcmp(o, "--bootnodes") == 0) {
        if (parse_bootnodes(&a, v) != 0)
          return CLI_EXIT_INVALID;
      } else if (strcmp(o, "--listen") == 0) {
        if (ethp2p_addr_parse(&a.listen, v, 0) != 0)
          return usage_error(&a, "--listen needs IP or IP:PORT, got \"%s\"", v);
      } else if (strcmp(o, "--nodekey") == 0) {
        a.nodekey_file = v;
      } else {
        a.nodekey_hex = v;
      }
    } else if (o[0] == '-' && o[1] != '\0') {
      return usage_error(&a, "unknown option \"%s\"", o);
    } else {
      if (npos == MAX_BOOT)
        return usage_error(&a, "too many nodes (at most %s)", "16");
      positional[npos++] = o;
    }
  }
  if (a.sub == SUB_CRAWL) {
    if (!timeout_given)
      a.timeout_s = 30;
    for (size_t i = 0; i < npos; i++) {
      if (a.nboot == MAX_BOOT)
        return usage_error(&a, "too many nodes (at most %s)", "16");
      if (parse_node(&a, &a.boot[a.nboot], positional[i]) != 0)
        return CLI_EXIT_INVALID;
      a.nboot++;
    }
    if (a.nboot == 0)
      return usage_error(&a, "%s", "give at least one NODE or --bootnodes");
  } else {
    if (npos != 1)
      return usage_error(&a, "%s", "needs exactly one NODE (enode:// URL or enr: record)");
    if (parse_node(&a, &a.target, positional[0]) != 0)
      return CLI_EXIT_INVALID;
    a.have_target = true;
    if (a.sub == SUB_RESOLVE && a.nboot < MAX_BOOT)
      a.boot[a.nboot++] = a.target; /* the node itself seeds the lookup */
  }
  return run(&a);
}
