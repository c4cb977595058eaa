/*
 * bench/bench_p2p_node.c — how cheap the node is to run.
 *
 *   BENCH sim_node_days           simulated node-days per second of the whole
 *                                 stack (`ethp2p sim --nat pmp`: server, record,
 *                                 port-mapping loop, NAT-PMP client, gateway
 *                                 emulator, simulated router), router restart
 *                                 every 6 h; needs the ethp2p binary next to
 *                                 this one (target >= 1000)
 *   BENCH sim_node_days_mocknat   the same node code (server, record, loop) with
 *                                 an in-process NAT that answers at once: the
 *                                 node's own cost
 *   BENCH node_idle_wakeups_per_min  events per simulated minute in that world
 *                                 (timers of the node and the NAT's replies)
 *   BENCH node_rss_kb             resident memory of `ethp2p node --nat none` on
 *                                 loopback after start-up (target <= 8192)
 *   BENCH sim_pmp_restart_to_mapped_ms, sim_pcp_restart_to_mapped_ms
 *                                 simulated time from a router restart to both
 *                                 mappings granted again (mean and max over the
 *                                 restarts of `ethp2p sim --nat pmp|pcp`, the
 *                                 real clients against the gateway emulator);
 *                                 against the RFC bound, the 5 s PCP ANNOUNCE
 *                                 delay of RFC 6887 §14.1.3 (ratio printed).
 *                                 The emulator announces a restart over NAT-PMP
 *                                 as well, which is taken without that delay;
 *                                 a router that sends only the PCP ANNOUNCE
 *                                 (miniupnpd at start) costs a PCP client a
 *                                 random 0-5 s more.
 *   BENCH pmp_requests_per_node_day, pcp_requests_per_node_day
 *                                 datagrams the node sends its router per
 *                                 simulated day in a quiet world (`ethp2p sim
 *                                 --nat pmp|pcp`, 30 days, no restarts), read
 *                                 from the clients' debug log (one line per
 *                                 transmission, retransmissions included);
 *                                 split into mapping requests (MAP) and
 *                                 address/liveness requests (NAT-PMP opcode 0,
 *                                 PCP ANNOUNCE); the mapping figure against
 *                                 what a 10 min lease renewed at half its
 *                                 lifetime costs (2 mappings x 288 a day).
 *
 * This file links only the p2p layer and the simulator (its name says so), so
 * the full stack is measured through the binary.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ethp2p/nat.h"
#include "ethp2p/server.h"
#include "ethp2p/sim.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a NAT that answers every request 1 ms later ------------------------------ */

typedef struct fast_req {
  struct fast_req *next;
  ethp2p_timer *t;
  struct fast_nat *fn;
  char kind;
  ethp2p_proto proto;
  uint16_t port;
  uint32_t life;
  ethp2p_nat_map_cb map_cb;
  ethp2p_nat_done_cb done_cb;
  ethp2p_nat_extip_cb ip_cb;
  void *data;
} fast_req;

typedef struct fast_nat {
  ethp2p_nat base;
  fast_req *reqs;
  unsigned ops;
} fast_nat;

static void fast_fire(ethp2p_timer *t, void *data) {
  fast_req *r = data;
  fast_nat *fn = r->fn;
  (void)t;
  for (fast_req **p = &fn->reqs; *p; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      break;
    }
  ethp2p_timer_destroy(r->t);
  if (r->kind == 'a') {
    ethp2p_nat_map_result res;
    memset(&res, 0, sizeof res);
    res.external_port = r->port;
    res.lifetime_s = r->life;
    r->map_cb(&fn->base, &res, r->data);
  } else if (r->kind == 'd') {
    r->done_cb(&fn->base, 0, r->data);
  } else {
    ethp2p_addr ip = ethp2p_addr_v4(20, 9, 9, 9, 0);
    r->ip_cb(&fn->base, 0, &ip, r->data);
  }
  free(r);
}

static int fast_req_new(fast_nat *fn, char kind, void *data, fast_req **out) {
  fast_req *r = calloc(1, sizeof *r);
  if (r == NULL)
    return ETHP2P_ENOMEM;
  if (ethp2p_timer_create(fn->base.env, &r->t, fast_fire, r) != 0) {
    free(r);
    return ETHP2P_ENOMEM;
  }
  r->fn = fn;
  r->kind = kind;
  r->data = data;
  r->next = fn->reqs;
  fn->reqs = r;
  fn->ops++;
  ethp2p_timer_start(r->t, ethp2p_env_now(fn->base.env) + ETHP2P_MSEC);
  *out = r;
  return 0;
}

static int fast_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t hint, uint16_t internal,
                    const char *desc, uint32_t life, ethp2p_nat_map_cb cb, void *data) {
  fast_req *r;
  int rc = fast_req_new((fast_nat *)nat, 'a', data, &r);
  (void)desc;
  if (rc != 0)
    return rc;
  r->proto = proto;
  r->port = hint ? hint : internal;
  r->life = life;
  r->map_cb = cb;
  return 0;
}

static int fast_del(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext, uint16_t internal,
                    ethp2p_nat_done_cb cb, void *data) {
  fast_req *r;
  int rc = fast_req_new((fast_nat *)nat, 'd', data, &r);
  (void)proto;
  (void)ext;
  (void)internal;
  if (rc != 0)
    return rc;
  r->done_cb = cb;
  return 0;
}

static int fast_ip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  fast_req *r;
  int rc = fast_req_new((fast_nat *)nat, 'x', data, &r);
  if (rc != 0)
    return rc;
  r->ip_cb = cb;
  return 0;
}

static void fast_destroy(ethp2p_nat *nat) {
  fast_nat *fn = (fast_nat *)nat;
  while (fn->reqs != NULL) {
    fast_req *r = fn->reqs;
    fn->reqs = r->next;
    ethp2p_timer_destroy(r->t);
    free(r);
  }
  free(fn);
}

static const ethp2p_nat_ops fast_ops = {fast_add, fast_del, fast_ip, NULL, fast_destroy};

/* Runs one node for `days` simulated days; returns wall seconds. */
static double mock_run(unsigned days, double *events_per_min) {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *host;
  ethp2p_server *srv;
  ethp2p_server_config sc;
  fast_nat *fn = calloc(1, sizeof *fn);
  double t0;
  uint64_t ev0;

  if (fn == NULL || ethp2p_sim_create(&sim, 42) != 0 ||
      ethp2p_sim_nat_create(sim, &box, "router", NULL) != 0 ||
      ethp2p_sim_nat_add_host(box, &host, "node", NULL) != 0)
    exit(1);
  fn->base.ops = &fast_ops;
  fn->base.env = ethp2p_sim_host_env(host);
  fn->base.spec.kind = ETHP2P_NAT_PMP;
  fn->base.name = "fast";
  fn->base.can_map = true;
  fn->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DETECTS_RESTART;
  ethp2p_server_config_default(&sc);
  sc.nodekey_hex = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
  sc.nat_override = &fn->base;
  if (ethp2p_server_start(ethp2p_sim_host_env(host), &sc, &srv, NULL) != 0)
    exit(1);
  ethp2p_sim_run(sim, ETHP2P_MIN);
  ev0 = ethp2p_sim_events(sim);
  t0 = now_s();
  ethp2p_sim_run(sim, (ethp2p_time)days * ETHP2P_DAY);
  t0 = now_s() - t0;
  *events_per_min = (double)(ethp2p_sim_events(sim) - ev0) / ((double)days * 24 * 60);
  ethp2p_server_destroy(srv);
  ethp2p_sim_destroy(sim);
  return t0;
}

/* ---- the binary ------------------------------------------------------------------ */

static int sibling(char *out, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", out, cap - 16);
  char *slash;
  if (n <= 0)
    return -1;
  out[n] = 0;
  slash = strrchr(out, '/');
  if (slash == NULL)
    return -1;
  memcpy(slash + 1, "ethp2p", 7);
  return access(out, X_OK);
}

static double full_run(const char *bin, unsigned days) {
  char cmd[1400];
  double t0;
  int rc;
  snprintf(cmd, sizeof cmd,
           "'%s' sim --nat pmp --days %u --seed 7 --router-restart-every 6h --probe-every 0 "
           "--summary-only >/dev/null",
           bin, days);
  t0 = now_s();
  rc = system(cmd);
  if (rc != 0)
    return -1;
  return now_s() - t0;
}

/* "dD HH:MM:SS.mmm" at the start of a timeline line, in ms; -1 if not one. */
static long long line_ms(const char *line) {
  unsigned d, h, m, sec, ms;
  if (sscanf(line, "d%u %u:%u:%u.%u", &d, &h, &m, &sec, &ms) != 5)
    return -1;
  return ((((long long)d * 24 + h) * 60 + m) * 60 + sec) * 1000 + ms;
}

/* Runs `ethp2p sim --nat <nat>` with a restart every 2 h for `days` and reads
 * its timeline: for each router restart, the simulated time until two
 * mappings (TCP and UDP) were granted again.  Returns the number of restarts
 * measured (0 on failure); *mean_ms and *max_ms get the figures. */
static int restart_to_mapped(const char *bin, const char *nat, unsigned days, double *mean_ms,
                             double *max_ms) {
  char cmd[1400], line[512];
  FILE *f;
  long long restart_at = -1, sum = 0, max = 0;
  int adds = 0, n = 0;
  snprintf(cmd, sizeof cmd,
           "'%s' sim --nat %s --days %u --seed 11 --router-restart-every 2h --probe-every 0", bin,
           nat, days);
  f = popen(cmd, "r");
  if (f == NULL)
    return 0;
  while (fgets(line, sizeof line, f) != NULL) {
    long long t = line_ms(line);
    if (t < 0)
      continue;
    if (strstr(line, " router ") != NULL && strstr(line, "restart") != NULL) {
      restart_at = t;
      adds = 0;
    } else if (restart_at >= 0 && strstr(line, "mapping-added") != NULL && ++adds == 2) {
      long long d = t - restart_at;
      sum += d;
      if (d > max)
        max = d;
      n++;
      restart_at = -1;
    }
  }
  if (pclose(f) != 0 || n == 0)
    return 0;
  *mean_ms = (double)sum / n;
  *max_ms = (double)max;
  return n;
}

/* Runs `ethp2p sim --nat <nat>` for `days` quiet days with the clients' debug
 * log on and counts the requests sent to the router.  Returns 0 on success. */
static int router_requests(const char *bin, const char *nat, unsigned days, unsigned long *maps,
                           unsigned long *others) {
  char cmd[1400], line[1024];
  FILE *f;
  *maps = *others = 0;
  snprintf(cmd, sizeof cmd,
           "'%s' sim --nat %s --days %u --seed 7 --probe-every 0 --summary-only --verbosity 4 "
           "2>&1 >/dev/null",
           bin, nat, days);
  f = popen(cmd, "r");
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strstr(line, "NAT-PMP request") != NULL)
      ++*(strstr(line, "op=extaddr") != NULL ? others : maps);
    else if (strstr(line, "PCP MAP request") != NULL)
      ++*maps;
    else if (strstr(line, "PCP ANNOUNCE request") != NULL)
      ++*others;
  }
  return pclose(f) == 0 && *maps > 0 ? 0 : -1;
}

static long node_rss_kb(const char *bin) {
  char dir[] = "/tmp/ethp2p-bench-node-XXXXXX", out[64], line[256];
  long rss = -1;
  int pipefd[2];
  pid_t pid;
  FILE *f;

  if (mkdtemp(dir) == NULL || pipe(pipefd) != 0)
    return -1;
  pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    execl(bin, bin, "node", "--datadir", dir, "--nat", "none", "--listen", "127.0.0.1", "--port",
          "0", "--verbosity", "0", (char *)NULL);
    _exit(127);
  }
  close(pipefd[1]);
  f = fdopen(pipefd[0], "r");
  if (pid > 0 && f != NULL && fgets(line, sizeof line, f) != NULL &&
      strncmp(line, "enr:", 4) == 0) {
    FILE *st;
    usleep(200000);
    snprintf(out, sizeof out, "/proc/%d/status", (int)pid);
    st = fopen(out, "r");
    while (st != NULL && fgets(line, sizeof line, st) != NULL)
      if (strncmp(line, "VmRSS:", 6) == 0)
        rss = strtol(line + 6, NULL, 10);
    if (st != NULL)
      fclose(st);
  }
  if (pid > 0) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
  }
  if (f != NULL)
    fclose(f);
  snprintf(line, sizeof line, "rm -rf '%s'", dir);
  if (system(line) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
  return rss;
}

int main(void) {
  char bin[1024];
  double epm = 0, secs;
  const unsigned mock_days = 2000, full_days = 2000;

  secs = mock_run(mock_days, &epm);
  printf("BENCH sim_node_days_mocknat %.0f node-days/s\n", mock_days / secs);
  printf("BENCH node_idle_wakeups_per_min %.2f events/min\n", epm);
  if (sibling(bin, sizeof bin) == 0) {
    secs = full_run(bin, full_days);
    if (secs > 0)
      printf("BENCH sim_node_days %.0f node-days/s\n", full_days / secs);
    else
      printf("# ethp2p sim failed; sim_node_days not measured\n");
    {
      static const char *const nats[] = {"pmp", "pcp"};
      for (size_t i = 0; i < 2; i++) {
        double mean = 0, max = 0;
        int n = restart_to_mapped(bin, nats[i], 2, &mean, &max);
        if (n > 0) {
          printf("BENCH sim_%s_restart_to_mapped_ms %.1f ms (mean of %d restarts)\n", nats[i], mean,
                 n);
          printf("BENCH sim_%s_restart_to_mapped_max_ms %.1f ms\n", nats[i], max);
          printf("BENCH sim_%s_restart_to_mapped_vs_announce_delay %.4f (max / 5000 ms)\n", nats[i],
                 max / 5000.0);
        } else {
          printf("# sim_%s_restart_to_mapped_ms not measured\n", nats[i]);
        }
      }
    }
    {
      static const char *const nats[] = {"pmp", "pcp"};
      const unsigned days = 30;
      for (size_t i = 0; i < 2; i++) {
        unsigned long maps, others;
        if (router_requests(bin, nats[i], days, &maps, &others) == 0) {
          printf("BENCH %s_requests_per_node_day %.1f requests/day (%s, %u quiet days)\n", nats[i],
                 (double)(maps + others) / days, nats[i], days);
          printf("BENCH %s_map_requests_per_node_day %.1f requests/day\n", nats[i],
                 (double)maps / days);
          printf("BENCH %s_address_requests_per_node_day %.1f requests/day\n", nats[i],
                 (double)others / days);
          printf("BENCH %s_map_requests_vs_10min_lease %.4f (of 576/day)\n", nats[i],
                 (double)maps / days / 576.0);
        } else {
          printf("# %s_requests_per_node_day not measured\n", nats[i]);
        }
      }
    }
    {
      long rss = node_rss_kb(bin);
      if (rss > 0)
        printf("BENCH node_rss_kb %ld kB\n", rss);
      else
        printf("# node_rss_kb not measured\n");
    }
  } else {
    printf("# no ethp2p binary next to this benchmark: sim_node_days and node_rss_kb skipped\n");
  }
  return 0;
}
