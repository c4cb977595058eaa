/*
 * examples/node_nat.c — start a node with a NAT spec and print every new version of
 * its record (and what the port-mapping loop does), optionally serving Prometheus
 * metrics.
 *
 *   node_nat [--nat SPEC] [--listen IP] [--port N] [--datadir DIR] [--seconds N]
 *            [--metrics IP:PORT]
 *
 *   --nat       none | any | upnp | pmp[:GW] | pcp[:GW] | extip:IP | stun[:HOST:PORT]
 *               (default any)
 *   --listen    IP to bind (default 0.0.0.0); --port the TCP and UDP port (default 30303,
 *               0 = any free port)
 *   --datadir   where the node key and the record's seq live (default: nothing on disk,
 *               a new key each run)
 *   --seconds   stop after N seconds (default 0: until Ctrl-C); stopping deletes the
 *               mappings the node made
 *   --metrics   serve /metrics and /status on IP:PORT (e.g. 127.0.0.1:6060)
 *
 * Build against an installed ethp2p:
 *   cc node_nat.c $(pkg-config --cflags --libs ethp2p) -o node_nat
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <ethp2p/env_uv.h>
#include <ethp2p/localnode.h>
#include <ethp2p/log.h>
#include <ethp2p/metrics.h>
#include <ethp2p/nat.h>
#include <ethp2p/portmap.h>
#include <ethp2p/server.h>

typedef struct app {
  uv_loop_t loop;
  uv_timer_t deadline;
  uv_signal_t sigint, sigterm;
  ethp2p_env *env;
  ethp2p_server *srv;
  ethp2p_metrics *metrics;
  int stopping;
} app;

/* Library log lines go to stderr, one per line. */
static void log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                     const char *kv) {
  (void)data;
  fprintf(stderr, "%-5s [%s] %s %s\n", ethp2p_log_level_name(level), module, msg, kv);
}

/* A new, signed version of the local record (printed once per seq). */
static unsigned long long last_seq;

static void print_record(unsigned long long seq, const char *text) {
  if (seq == last_seq)
    return;
  last_seq = seq;
  printf("record seq=%llu %s\n", seq, text);
  fflush(stdout);
}

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  (void)ln, (void)data;
  char text[ETHP2P_ENR_TEXT_MAX + 1];
  size_t len;
  if (ethp2p_enr_text_encode(text, sizeof text, &len, rec) == 0)
    print_record((unsigned long long)ethp2p_enr_seq(rec), text);
}

/* What the port-mapping loop did. */
static void on_portmap(ethp2p_portmap *pm, const ethp2p_portmap_event *ev, void *data) {
  (void)pm, (void)data;
  char ip[ETHP2P_ADDRSTRLEN] = "";
  if (ev->addr.family != 0)
    ethp2p_addr_format(&ev->addr, false, ip, sizeof ip);
  if (ev->proto != 0)
    printf("portmap %s %s %u -> %u %s\n", ethp2p_portmap_event_name(ev->type),
           ethp2p_proto_name(ev->proto), ev->internal_port, ev->external_port, ev->reason);
  else if (ip[0] != '\0')
    printf("portmap %s %s %s\n", ethp2p_portmap_event_name(ev->type), ip, ev->reason);
  else
    printf("portmap %s %s\n", ethp2p_portmap_event_name(ev->type), ev->reason);
  fflush(stdout);
}

static void on_stopped(ethp2p_server *srv, int status, void *data) {
  app *a = data;
  (void)srv;
  printf("stopped (%s)\n", status == 0 ? "mappings deleted" : ethp2p_strerror(status));
  uv_stop(&a->loop);
}

static void stop(app *a) {
  if (a->stopping++ > 0) {
    uv_stop(&a->loop); /* second request: leave now */
    return;
  }
  if (ethp2p_server_stop(a->srv, 5 * ETHP2P_SEC, on_stopped, a) != 0)
    uv_stop(&a->loop);
}

static void on_deadline(uv_timer_t *t) {
  stop(t->data);
}
static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  stop(s->data);
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--nat SPEC] [--listen IP] [--port N] [--datadir DIR] [--seconds N]\n"
          "          [--metrics IP:PORT]\n",
          argv0);
  return 2;
}

static int parse_num(const char *s, unsigned long max, unsigned long *out) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v > max)
    return -1;
  *out = v;
  return 0;
}

static void close_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

int main(int argc, char **argv) {
  const char *nat = "any", *listen = "0.0.0.0", *datadir = NULL, *metrics_at = NULL;
  unsigned long port = 30303, seconds = 0;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL)
      return usage(argv[0]);
    if (strcmp(o, "--nat") == 0)
      nat = v;
    else if (strcmp(o, "--listen") == 0)
      listen = v;
    else if (strcmp(o, "--datadir") == 0)
      datadir = v;
    else if (strcmp(o, "--metrics") == 0)
      metrics_at = v;
    else if (strcmp(o, "--port") == 0 && parse_num(v, 65535, &port) == 0)
      ;
    else if (strcmp(o, "--seconds") == 0 && parse_num(v, 86400 * 365, &seconds) == 0)
      ;
    else
      return usage(argv[0]);
    i++;
  }

  /* The configuration: what `ethp2p node` would do with the same flags. */
  ethp2p_server_config cfg;
  ethp2p_server_config_default(&cfg);
  char err[128] = "";
  if (ethp2p_nat_spec_parse(&cfg.nat, nat, err, sizeof err) != 0) {
    fprintf(stderr, "invalid --nat \"%s\": %s\n", nat, err);
    return 2;
  }
  if (ethp2p_addr_parse_ip(&cfg.listen, listen) != 0) {
    fprintf(stderr, "invalid --listen \"%s\"\n", listen);
    return 2;
  }
  cfg.port = cfg.discport = (uint16_t)port;
  cfg.datadir = datadir;
  ethp2p_log_set_sink(log_sink, NULL, ETHP2P_LOG_INFO);

  /* One libuv loop, one environment on it, the node on the environment. */
  app a;
  memset(&a, 0, sizeof a);
  int rc = uv_loop_init(&a.loop);
  if (rc == 0)
    rc = ethp2p_uvenv_create(&a.loop, &a.env);
  if (rc != 0) {
    fprintf(stderr, "cannot set up the loop: %d\n", rc);
    return 1;
  }
  ethp2p_diag diag = {0};
  int exit_code = 0;
  rc = ethp2p_server_start(a.env, &cfg, &a.srv, &diag);
  if (rc != 0) {
    fprintf(stderr, "cannot start the node: %s\n", diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
    exit_code = 1;
    goto out_env;
  }
  ethp2p_localnode *ln = ethp2p_server_localnode(a.srv);
  ethp2p_portmap *pm = ethp2p_server_portmap(a.srv);
  ethp2p_localnode_subscribe(ln, on_record, NULL);
  ethp2p_portmap_subscribe(pm, on_portmap, NULL);
  char text[ETHP2P_ENR_TEXT_MAX + 1];
  if (ethp2p_localnode_text(ln, text, sizeof text) == 0)
    print_record((unsigned long long)ethp2p_localnode_seq(ln), text);
  ethp2p_addr tcp = ethp2p_server_tcp_addr(a.srv);
  char abuf[ETHP2P_ADDRSTRLEN];
  printf("listening on %s (nat %s)\n", ethp2p_addr_format(&tcp, true, abuf, sizeof abuf), nat);

  if (metrics_at != NULL) {
    ethp2p_addr at;
    if (ethp2p_addr_parse(&at, metrics_at, 6060) != 0 ||
        (rc = ethp2p_metrics_create(a.env, &a.metrics)) != 0 ||
        (rc = ethp2p_metrics_attach_portmap(a.metrics, pm)) != 0 ||
        (rc = ethp2p_metrics_attach_localnode(a.metrics, ln)) != 0 ||
        (rc = ethp2p_metrics_serve(a.metrics, &at)) != 0) {
      fprintf(stderr, "cannot serve metrics on %s: %s\n", metrics_at, ethp2p_strerror(rc));
      exit_code = 1;
      goto out_srv;
    }
    ethp2p_metrics_local_addr(a.metrics, &at);
    printf("metrics on http://%s/metrics\n", ethp2p_addr_format(&at, true, abuf, sizeof abuf));
  }
  fflush(stdout);

  uv_signal_init(&a.loop, &a.sigint);
  uv_signal_init(&a.loop, &a.sigterm);
  a.sigint.data = a.sigterm.data = &a;
  uv_signal_start(&a.sigint, on_signal, SIGINT);
  uv_signal_start(&a.sigterm, on_signal, SIGTERM);
  uv_timer_init(&a.loop, &a.deadline);
  a.deadline.data = &a;
  if (seconds > 0)
    uv_timer_start(&a.deadline, on_deadline, (uint64_t)seconds * 1000, 0);

  uv_run(&a.loop, UV_RUN_DEFAULT);

  uv_close((uv_handle_t *)&a.sigint, NULL);
  uv_close((uv_handle_t *)&a.sigterm, NULL);
  uv_close((uv_handle_t *)&a.deadline, NULL);
out_srv:
  ethp2p_metrics_destroy(a.metrics); /* before the server that owns pm and ln */
  ethp2p_server_destroy(a.srv);
out_env:
  ethp2p_uvenv_destroy(a.env);
  uv_walk(&a.loop, close_cb, NULL);
  uv_run(&a.loop, UV_RUN_DEFAULT);
  uv_loop_close(&a.loop);
  return exit_code;
}
