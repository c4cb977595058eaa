/*
 * bench/bench_p2p_discovery_sim.c — the real node (server + localnode + discv4)
 * in a simulated network: N nodes (default 1000), a fifth on public addresses
 * (three of them bootnodes), the rest each behind its own NAT box, cycling
 * through the 27 NAT types (mapping x filtering x allocation), none with a
 * mapping protocol.  Nodes join over the first minute; each runs a random
 * lookup every 2 minutes (an application walking the DHT).  Reproducible from
 * the seed.
 *
 * Prints (simulated time unless said otherwise):
 *   BENCH discv4_sim_all_tables_live_s  when every node's table first holds a live entry
 *   BENCH discv4_sim_lookup_success     share of resolves (random node -> random node) that
 *                                       returned the target's record, after 10 minutes;
 *                                       split into targets reachable unsolicited (public or
 *                                       endpoint-independent filtering) and filtered ones
 *   BENCH discv4_sim_discoverable       share of nodes in at least one other node's table
 *   BENCH discv4_sim_endpoint_learned_eim  share of nodes behind endpoint-independent-mapping
 *                                       NATs whose record carries their NAT's external IP
 *                                       (from PONGs only)
 *   BENCH discv4_sim_endpoint_learned_other  the same behind address(-and-port)-dependent
 *                                       mapping (expected 0: peers see different ports)
 *   BENCH discv4_sim_node_days_per_s    simulated node-days per second of CPU time
 *
 * Usage: bench_p2p_discovery_sim [N] [SEED]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ethp2p/server.h"
#include "ethp2p/sim.h"

#define NBOOT 3
#define RESOLVES 200

typedef struct simnode {
  ethp2p_sim_host *host;
  ethp2p_sim_nat *box; /* NULL: public */
  ethp2p_server *srv;
  ethp2p_timer *walk;
  int nat_type; /* 0..26, -1 public */
  uint8_t pub[64];
} simnode;

static ethp2p_sim *sim;
static simnode *nodes;
static int N;
static char boot_urls[NBOOT][300];
static const char *boot_ptrs[NBOOT];

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_walk_done(void *data, int status, const ethp2p_discover_node *ns, size_t n) {
  (void)data, (void)status, (void)ns, (void)n;
}

static void on_walk(ethp2p_timer *t, void *data) {
  simnode *sn = data;
  ethp2p_discv4 *v4 = ethp2p_server_discv4(sn->srv);
  (void)ethp2p_discv4_lookup(v4, NULL, on_walk_done, NULL);
  ethp2p_timer_start(t, ethp2p_env_now(ethp2p_sim_host_env(sn->host)) + 2 * ETHP2P_MIN);
}

static int start_node(int i) {
  simnode *sn = &nodes[i];
  ethp2p_server_config c;
  ethp2p_diag diag = {0};
  ethp2p_enr rec;
  int rc;
  ethp2p_server_config_default(&c);
  c.nat.kind = ETHP2P_NAT_NONE;
  if (i >= NBOOT) {
    c.bootnodes = boot_ptrs;
    c.nbootnodes = NBOOT;
  }
  rc = ethp2p_server_start(ethp2p_sim_host_env(sn->host), &c, &sn->srv, &diag);
  if (rc != 0) {
    fprintf(stderr, "node %d: %s (%s)\n", i, ethp2p_strerror(rc), diag.msg);
    return rc;
  }
  if (ethp2p_localnode_record(ethp2p_server_localnode(sn->srv), &rec) != 0 ||
      ethp2p_enr_pubkey64(sn->pub, &rec) != 0)
    return -1;
  if (ethp2p_timer_create(ethp2p_sim_host_env(sn->host), &sn->walk, on_walk, sn) != 0)
    return -1;
  ethp2p_timer_start(sn->walk, ethp2p_sim_now(sim) + 2 * ETHP2P_MIN);
  return 0;
}

static int make_hosts(void) {
  int npub = N / 5 < NBOOT ? NBOOT : N / 5;
  for (int i = 0; i < N; i++) {
    simnode *sn = &nodes[i];
    char name[24];
    snprintf(name, sizeof name, "n%d", i);
    if (i < npub) {
      ethp2p_addr a = ethp2p_addr_v4(20, (uint8_t)(i >> 8), (uint8_t)i, 1, 0);
      sn->nat_type = -1;
      if (ethp2p_sim_host_create_public(sim, &sn->host, name, &a) != 0)
        return -1;
    } else {
      ethp2p_sim_nat_config nc = ethp2p_sim_nat_config_default();
      int k = (i - npub) % 27;
      sn->nat_type = k;
      nc.mapping = (ethp2p_sim_nat_dep)(k % 3);
      nc.filtering = (ethp2p_sim_nat_dep)((k / 3) % 3);
      nc.allocation = (ethp2p_sim_nat_alloc)(k / 9);
      nc.outside_addr = ethp2p_addr_v4(30, (uint8_t)(i >> 8), (uint8_t)i, 1, 0);
      if (ethp2p_sim_nat_create(sim, &sn->box, name, &nc) != 0 ||
          ethp2p_sim_nat_add_host(sn->box, &sn->host, name, NULL) != 0)
        return -1;
    }
  }
  return 0;
}

typedef struct resolve_res {
  int done, ok;
} resolve_res;

static void on_resolved(void *data, int status, const ethp2p_enr *rec) {
  resolve_res *r = data;
  (void)rec;
  r->done++;
  if (status == 0)
    r->ok++;
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  double t0 = cpu_s();
  ethp2p_time all_live = 0;
  N = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1000;
  if (argc > 2)
    seed = strtoull(argv[2], NULL, 10);
  if (N < NBOOT + 1 || N > 60000)
    return 2;
  nodes = calloc((size_t)N, sizeof *nodes);
  if (nodes == NULL || ethp2p_sim_create(&sim, seed) != 0 || make_hosts() != 0)
    return 1;
  for (int i = 0; i < NBOOT; i++) {
    ethp2p_enr rec;
    ethp2p_discover_node bn;
    if (start_node(i) != 0 ||
        ethp2p_localnode_record(ethp2p_server_localnode(nodes[i].srv), &rec) != 0 ||
        ethp2p_discover_node_from_record(&bn, &rec) != 0)
      return 1;
    bn.addr = ethp2p_sim_host_addr(nodes[i].host);
    bn.addr.port = ethp2p_server_udp_addr(nodes[i].srv).port;
    if (ethp2p_discover_node_format(&bn, boot_urls[i], sizeof boot_urls[i]) < 0)
      return 1;
    boot_ptrs[i] = boot_urls[i];
  }
  /* join over the first minute */
  ethp2p_time join = ETHP2P_MIN / (ethp2p_time)N;
  for (int i = NBOOT; i < N; i++) {
    ethp2p_sim_run(sim, join);
    if (start_node(i) != 0)
      return 1;
  }
  /* run 10 minutes in 10 s steps, watching the tables */
  for (int step = 0; step < 60; step++) {
    ethp2p_sim_run(sim, 10 * ETHP2P_SEC);
    if (all_live == 0) {
      int live = 0;
      for (int i = 0; i < N; i++)
        if (ethp2p_table_len(ethp2p_discv4_table(ethp2p_server_discv4(nodes[i].srv))) > 0)
          live++;
      if (live == N)
        all_live = ethp2p_sim_now(sim);
    }
  }
  /* resolves, 20 at a time */
  resolve_res rr = {0, 0}, reach = {0, 0}, unreach = {0, 0};
  srand((unsigned)seed);
  for (int k = 0; k < RESOLVES; k += 20) {
    int started = 0;
    for (int j = 0; j < 20; j++) {
      int a = rand() % N, b = rand() % N;
      if (a == b)
        b = (b + 1) % N;
      /* reachable without a prior contact: public, or endpoint-independent filtering */
      bool open = nodes[b].box == NULL || (nodes[b].nat_type / 3) % 3 == ETHP2P_SIM_NAT_EI;
      resolve_res *r = open ? &reach : &unreach;
      if (ethp2p_discv4_resolve(ethp2p_server_discv4(nodes[a].srv), nodes[b].pub, on_resolved, r) ==
          0)
        started++;
      else
        r->done++;
    }
    ethp2p_sim_run(sim, 15 * ETHP2P_SEC);
    (void)started;
  }
  rr.done = reach.done + unreach.done;
  rr.ok = reach.ok + unreach.ok;
  /* discoverable: in some other node's table */
  int discoverable = 0, eim = 0, eim_ok = 0, other = 0, other_ok = 0;
  uint8_t(*ids)[32] = calloc((size_t)N, 32);
  if (ids == NULL)
    return 1;
  for (int i = 0; i < N; i++)
    ethp2p_localnode_id(ethp2p_server_localnode(nodes[i].srv), ids[i]);
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++)
      if (j != i &&
          ethp2p_table_find(ethp2p_discv4_table(ethp2p_server_discv4(nodes[j].srv)), ids[i])) {
        discoverable++;
        break;
      }
    if (nodes[i].box != NULL) {
      ethp2p_enr rec;
      uint8_t ip[4];
      ethp2p_addr ext = ethp2p_sim_nat_external_addr(nodes[i].box);
      bool ok = ethp2p_localnode_record(ethp2p_server_localnode(nodes[i].srv), &rec) == 0 &&
                ethp2p_enr_ip_get(&rec, ip) == 0 && memcmp(ip, ext.ip, 4) == 0;
      if (nodes[i].nat_type % 3 == ETHP2P_SIM_NAT_EI) {
        eim++;
        eim_ok += ok;
      } else {
        other++;
        other_ok += ok;
      }
    }
  }
  double cpu = cpu_s() - t0;
  double node_days = (double)N * (double)ethp2p_sim_now(sim) / (double)ETHP2P_DAY;
  printf("BENCH discv4_sim_nodes %d nodes\n", N);
  if (all_live != 0)
    printf("BENCH discv4_sim_all_tables_live_s %.0f s\n", (double)all_live / 1e9);
  else
    printf("BENCH discv4_sim_all_tables_live_s inf s\n");
  printf("BENCH discv4_sim_lookup_success %.3f ratio\n", (double)rr.ok / RESOLVES);
  printf("BENCH discv4_sim_lookup_success_open_targets %.3f ratio\n",
         reach.done ? (double)reach.ok / reach.done : 0.0);
  printf("BENCH discv4_sim_lookup_success_filtered_targets %.3f ratio\n",
         unreach.done ? (double)unreach.ok / unreach.done : 0.0);
  printf("BENCH discv4_sim_discoverable %.3f ratio\n", (double)discoverable / N);
  printf("BENCH discv4_sim_endpoint_learned_eim %.3f ratio\n", eim ? (double)eim_ok / eim : 0.0);
  printf("BENCH discv4_sim_endpoint_learned_other %.3f ratio\n",
         other ? (double)other_ok / other : 0.0);
  printf("BENCH discv4_sim_node_days_per_s %.3f node-days/s\n", node_days / cpu);
  for (int i = 0; i < N; i++) {
    ethp2p_timer_destroy(nodes[i].walk);
    ethp2p_server_destroy(nodes[i].srv);
  }
  free(ids);
  free(nodes);
  ethp2p_sim_destroy(sim);
  return 0;
}
