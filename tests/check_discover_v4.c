/*
 * tests/check_discover_v4.c — the discv4 protocol in the simulated world:
 * ping/pong and bonding, the endpoint proof before FindNode and ENRRequest,
 * expiry and unsolicited replies, Neighbors split to fit, ENR fetch on a higher
 * enr-seq, PONG statements, lookups and the iterator over a small network, and
 * the mux handing what discv4 cannot decode to the unhandled hook.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discv4.h"
#include "ethp2p/keccak.h"
#include "ethp2p/secp.h"
#include "ethp2p/sim.h"

#define PORT 30303
#define MAXN 40

typedef struct tnode {
  ethp2p_sim_host *host;
  ethp2p_env *env;
  ethp2p_discover *mux;
  ethp2p_discv4 *v4;
  uint8_t secret[32];
  uint8_t pub[64];
  ethp2p_enr rec;
  ethp2p_discover_node self;
  unsigned statements;
  ethp2p_addr last_statement;
  /* raw capture (nodes without discv4) */
  uint8_t rx[8][1280];
  size_t rxlen[8];
  size_t nrx;
} tnode;

static ethp2p_sim *sim;
static tnode nodes[MAXN];
static ethp2p_time refresh_interval;     /* 0 = default */
static ethp2p_time revalidate_interval;  /* 0 = default */
static const ethp2p_addr *restrict_nets; /* netrestrict for the next node_setup */
static const uint8_t *restrict_prefix;
static size_t nrestrict;

static int host_record(void *data, ethp2p_enr *out) {
  tnode *n = data;
  *out = n->rec;
  return 0;
}
static void host_statement(void *data, const ethp2p_addr *from, const ethp2p_addr *ep) {
  tnode *n = data;
  (void)from;
  n->statements++;
  n->last_statement = *ep;
}

static void on_raw(void *data, const ethp2p_addr *from, const uint8_t *pkt, size_t len) {
  tnode *n = data;
  (void)from;
  if (n->nrx < 8 && len <= 1280) {
    memcpy(n->rx[n->nrx], pkt, len);
    n->rxlen[n->nrx++] = len;
  }
}

/* A public host 20.<i>.0.1 (a /24 of its own) with a key derived from i. */
static void node_setup(int i, bool with_v4, const ethp2p_discover_node *boot, size_t nboot,
                       bool maintenance) {
  tnode *n = &nodes[i];
  ethp2p_addr a = ethp2p_addr_v4(20, (uint8_t)(i + 1), 0, 1, 0), bind;
  char name[16];
  uint8_t seed[4] = {'k', 'e', 'y', (uint8_t)i};
  memset(n, 0, sizeof *n);
  snprintf(name, sizeof name, "n%d", i);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &n->host, name, &a), 0);
  n->env = ethp2p_sim_host_env(n->host);
  ethp2p_keccak256(n->secret, seed, sizeof seed);
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, n->pub, n->secret), 0);
  ethp2p_enr_init(&n->rec);
  ck_assert_int_eq(ethp2p_enr_ip_set(&n->rec, a.ip), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&n->rec, ETHP2P_ENR_UDP, PORT), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&n->rec, ETHP2P_ENR_TCP, PORT), 0);
  ck_assert_int_eq(ethp2p_enr_seq_set(&n->rec, 1), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&n->rec, n->secret), 0);
  a.port = PORT;
  ck_assert_int_eq(ethp2p_discover_node_init(&n->self, n->pub, &a, PORT), 0);
  n->self.seq = 1;
  bind = ethp2p_addr_v4(0, 0, 0, 0, PORT);
  ck_assert_int_eq(ethp2p_discover_open(n->env, &bind, &n->mux), 0);
  ethp2p_discover_set_unhandled(n->mux, on_raw, n);
  if (with_v4) {
    ethp2p_discv4_config c;
    memset(&c, 0, sizeof c);
    memcpy(c.secret, n->secret, 32);
    c.host.record = host_record;
    c.host.statement = host_statement;
    c.host.data = n;
    c.bootnodes = boot;
    c.nbootnodes = nboot;
    c.no_maintenance = !maintenance;
    c.refresh_interval = refresh_interval;
    c.revalidate_interval = revalidate_interval;
    c.restrict_nets = restrict_nets;
    c.restrict_prefix = restrict_prefix;
    c.nrestrict = nrestrict;
    ck_assert_int_eq(ethp2p_discv4_create(n->mux, &c, &n->v4), 0);
  }
}

static void world(void) {
  ck_assert_int_eq(ethp2p_sim_create(&sim, 42), 0);
}

static void teardown_all(int count) {
  for (int i = 0; i < count; i++) {
    ethp2p_discv4_destroy(nodes[i].v4);
    ethp2p_discover_close(nodes[i].mux);
  }
  ethp2p_sim_destroy(sim);
  sim = NULL;
}

static void run(ethp2p_time t) {
  ethp2p_sim_run(sim, t);
}

/* Sends a raw packet from node `from` (no discv4) to node `to`. */
static void raw_send(int from, int to, ethp2p_discv4_packet *p, uint8_t hash[32]) {
  uint8_t buf[1280];
  size_t len;
  ck_assert_int_eq(ethp2p_discv4_encode(buf, sizeof buf, &len, hash, p, nodes[from].secret), 0);
  ck_assert_int_eq(ethp2p_discover_send(nodes[from].mux, &nodes[to].self.addr, buf, len), 0);
}

static uint64_t wall_s(int i) {
  return (uint64_t)ethp2p_env_wall_ms(nodes[i].env) / 1000;
}

/* --- ping / pong ------------------------------------------------------- */

typedef struct ping_res {
  int calls, status;
  ethp2p_discv4_pong_info pong;
} ping_res;

static void on_ping(void *data, int status, const ethp2p_discv4_pong_info *pong) {
  ping_res *r = data;
  r->calls++;
  r->status = status;
  if (pong != NULL)
    r->pong = *pong;
}

START_TEST(ping_gets_pong_with_our_endpoint_and_both_sides_bond) {
  ping_res r = {0};
  world();
  node_setup(0, true, NULL, 0, false);
  node_setup(1, true, NULL, 0, false);
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[0].v4, &nodes[1].self, on_ping, &r), 0);
  ck_assert_int_eq(r.calls, 0); /* never inside the call */
  run(2 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert(ethp2p_addr_equal(&r.pong.to, &nodes[0].self.addr, true));
  ck_assert(r.pong.has_seq);
  ck_assert_uint_eq(r.pong.enr_seq, 1);
  ck_assert_mem_eq(r.pong.pub64, nodes[1].pub, 64);
  /* the Pong's `to` is a statement for endpoint prediction */
  ck_assert_uint_ge(nodes[0].statements, 1);
  ck_assert(ethp2p_addr_equal(&nodes[0].last_statement, &nodes[0].self.addr, true));
  /* B pinged back (bonding) and both now hold each other */
  ck_assert_ptr_nonnull(ethp2p_table_find(ethp2p_discv4_table(nodes[1].v4), nodes[0].self.id));
  ck_assert_ptr_nonnull(ethp2p_table_find(ethp2p_discv4_table(nodes[0].v4), nodes[1].self.id));
  teardown_all(2);
}
END_TEST

START_TEST(ping_to_a_silent_address_times_out) {
  ping_res r = {0};
  ethp2p_discover_node ghost;
  world();
  node_setup(0, true, NULL, 0, false);
  node_setup(1, false, NULL, 0, false); /* no discv4: never answers */
  ghost = nodes[1].self;
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[0].v4, &ghost, on_ping, &r), 0);
  run(2 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, ETHP2P_ETIMEDOUT);
  /* the mux of the silent node got the Ping as an unhandled packet */
  ck_assert_uint_eq(nodes[1].nrx, 1);
  teardown_all(2);
}
END_TEST

START_TEST(expired_ping_is_dropped_and_fresh_ping_answered) {
  ethp2p_discv4_packet p;
  ethp2p_discv4_stats st;
  uint8_t hash[32], who[64];
  world();
  node_setup(0, false, NULL, 0, false); /* raw */
  node_setup(1, true, NULL, 0, false);
  memset(&p, 0, sizeof p);
  p.type = ETHP2P_DISCV4_PING;
  p.u.ping.version = 4;
  p.u.ping.from.addr = nodes[0].self.addr;
  p.u.ping.to.addr = nodes[1].self.addr;
  p.expiration = wall_s(0) - 1;
  raw_send(0, 1, &p, hash);
  run(ETHP2P_SEC);
  ethp2p_discv4_get_stats(nodes[1].v4, &st);
  ck_assert_uint_eq(st.expired, 1);
  ck_assert_uint_eq(nodes[0].nrx, 0);
  p.expiration = wall_s(0) + 20;
  raw_send(0, 1, &p, hash);
  run(ETHP2P_SEC);
  /* a Pong (for our hash) and B's own bonding Ping */
  ck_assert_uint_ge(nodes[0].nrx, 1);
  static ethp2p_discv4_packet back;
  ck_assert_int_eq(ethp2p_discv4_decode(&back, who, NULL, nodes[0].rx[0], nodes[0].rxlen[0], NULL),
                   0);
  ck_assert_uint_eq(back.type, ETHP2P_DISCV4_PONG);
  ck_assert_mem_eq(back.u.pong.ping_hash, hash, 32);
  ck_assert_mem_eq(who, nodes[1].pub, 64);
  ck_assert(ethp2p_addr_equal(&back.u.pong.to.addr, &nodes[0].self.addr, true));
  ck_assert(!ethp2p_discv4_expired(back.expiration, wall_s(0)));
  teardown_all(2);
}
END_TEST

START_TEST(findnode_and_enrrequest_without_endpoint_proof_get_no_answer) {
  static ethp2p_discv4_packet p;
  ethp2p_discv4_stats st;
  world();
  node_setup(0, false, NULL, 0, false);
  node_setup(1, true, NULL, 0, false);
  memset(&p, 0, sizeof p);
  p.type = ETHP2P_DISCV4_FINDNODE;
  p.expiration = wall_s(0) + 20;
  memcpy(p.u.findnode.target, nodes[0].pub, 64);
  raw_send(0, 1, &p, NULL);
  p.type = ETHP2P_DISCV4_ENRREQUEST;
  raw_send(0, 1, &p, NULL);
  /* and an unsolicited Pong */
  memset(&p, 0, sizeof p);
  p.type = ETHP2P_DISCV4_PONG;
  p.expiration = wall_s(0) + 20;
  p.u.pong.to.addr = nodes[1].self.addr;
  raw_send(0, 1, &p, NULL);
  run(ETHP2P_SEC);
  ethp2p_discv4_get_stats(nodes[1].v4, &st);
  ck_assert_uint_eq(st.unbonded, 2);
  ck_assert_uint_eq(st.unsolicited, 1);
  ck_assert_uint_eq(st.tx[ETHP2P_DISCV4_NEIGHBORS], 0);
  ck_assert_uint_eq(st.tx[ETHP2P_DISCV4_ENRRESPONSE], 0);
  ck_assert_uint_eq(nodes[0].nrx, 0);
  ck_assert_uint_eq(ethp2p_table_len(ethp2p_discv4_table(nodes[1].v4)), 0);
  teardown_all(2);
}
END_TEST

/* --- findnode, neighbors, enr ------------------------------------------ */

typedef struct nodes_res {
  int calls, status;
  ethp2p_discover_node got[32];
  size_t n;
} nodes_res;

static void on_nodes(void *data, int status, const ethp2p_discover_node *ns, size_t n) {
  nodes_res *r = data;
  r->calls++;
  r->status = status;
  r->n = n < 32 ? n : 32;
  if (n > 0)
    memcpy(r->got, ns, r->n * sizeof *ns);
}

START_TEST(findnode_bonds_first_and_collects_split_neighbors) {
  nodes_res r = {0};
  ethp2p_discv4_stats st;
  const int N = 20;
  world();
  for (int i = 0; i < N; i++)
    node_setup(i, true, NULL, 0, false);
  /* node 1 learns 18 others (all answer pings, so they enter its table) */
  for (int i = 2; i < N; i++) {
    ping_res pr = {0};
    ck_assert_int_eq(ethp2p_discv4_ping(nodes[i].v4, &nodes[1].self, on_ping, &pr), 0);
    run(ETHP2P_SEC);
    ck_assert_int_eq(pr.status, 0);
  }
  size_t len1 = ethp2p_table_len(ethp2p_discv4_table(nodes[1].v4));
  ck_assert_uint_ge(len1, 17);
  ck_assert_int_eq(ethp2p_discv4_findnode(nodes[0].v4, &nodes[1].self, nodes[0].pub, on_nodes, &r),
                   0);
  run(3 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  /* 16 sent over two packets (12 + 4) */
  ethp2p_discv4_get_stats(nodes[1].v4, &st);
  ck_assert_uint_eq(st.tx[ETHP2P_DISCV4_NEIGHBORS], 2);
  /* the answer is the 16 closest to the target in node 1's table, without
   * node 0 itself (which bonded, so it is in that table too) */
  uint8_t target[32];
  ethp2p_discover_node want[16];
  size_t k = 0;
  ethp2p_keccak256(target, nodes[0].pub, 64);
  size_t nw = ethp2p_table_closest(ethp2p_discv4_table(nodes[1].v4), target, want, 16);
  ck_assert_uint_eq(nw, 16);
  ck_assert_mem_eq(want[0].id, nodes[0].self.id, 32); /* distance 0 */
  ck_assert_uint_eq(r.n, 15);
  for (size_t i = 1; i < 16; i++)
    ck_assert_mem_eq(r.got[k++].id, want[i].id, 32);
  teardown_all(N);
}
END_TEST

typedef struct enr_res {
  int calls, status;
  ethp2p_enr rec;
} enr_res;

static void on_enr(void *data, int status, const ethp2p_enr *rec) {
  enr_res *r = data;
  r->calls++;
  r->status = status;
  if (rec != NULL)
    r->rec = *rec;
}

START_TEST(enr_request_returns_the_peers_record) {
  static enr_res r;
  uint8_t a[300], b[300];
  size_t alen, blen;
  memset(&r, 0, sizeof r);
  world();
  node_setup(0, true, NULL, 0, false);
  node_setup(1, true, NULL, 0, false);
  ck_assert_int_eq(ethp2p_discv4_request_enr(nodes[0].v4, &nodes[1].self, on_enr, &r), 0);
  run(3 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(ethp2p_enr_encode(a, sizeof a, &alen, &r.rec), 0);
  ck_assert_int_eq(ethp2p_enr_encode(b, sizeof b, &blen, &nodes[1].rec), 0);
  ck_assert_uint_eq(alen, blen);
  ck_assert_mem_eq(a, b, alen);
  teardown_all(2);
}
END_TEST

START_TEST(resolve_asks_a_table_node_directly_then_looks_it_up) {
  static enr_res r;
  ping_res pr = {0};
  ethp2p_discv4_stats st;
  memset(&r, 0, sizeof r);
  world();
  node_setup(0, true, NULL, 0, false);
  node_setup(1, true, NULL, 0, false);
  node_setup(2, false, NULL, 0, false); /* silent */
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[1].v4, &nodes[0].self, on_ping, &pr), 0);
  run(2 * ETHP2P_SEC);
  ck_assert_ptr_nonnull(ethp2p_table_find(ethp2p_discv4_table(nodes[0].v4), nodes[1].self.id));
  ck_assert_int_eq(ethp2p_discv4_resolve(nodes[0].v4, nodes[1].pub, on_enr, &r), 0);
  run(2 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ethp2p_discv4_get_stats(nodes[0].v4, &st);
  ck_assert_uint_eq(st.lookups, 0); /* answered without a lookup */
  /* a key no node knows: the lookup ends without it */
  ck_assert_int_eq(ethp2p_discv4_resolve(nodes[1].v4, nodes[2].pub, on_enr, &r), 0);
  run(3 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 2);
  ck_assert_int_eq(r.status, ETHP2P_ENOTFOUND);
  teardown_all(3);
}
END_TEST

START_TEST(higher_enr_seq_in_ping_makes_the_peer_fetch_the_new_record) {
  ping_res r = {0};
  const ethp2p_table_entry *e;
  world();
  node_setup(0, true, NULL, 0, false);
  node_setup(1, true, NULL, 0, false);
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[0].v4, &nodes[1].self, on_ping, &r), 0);
  run(2 * ETHP2P_SEC);
  e = ethp2p_table_find(ethp2p_discv4_table(nodes[1].v4), nodes[0].self.id);
  ck_assert_ptr_nonnull(e);
  ck_assert_uint_le(e->node.seq, 1);
  /* node 0's record changes: seq 2 */
  ck_assert_int_eq(ethp2p_enr_port_set(&nodes[0].rec, ETHP2P_ENR_TCP, 30304), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&nodes[0].rec, nodes[0].secret), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&nodes[0].rec), 2);
  ethp2p_discv4_stats before, after;
  ethp2p_discv4_get_stats(nodes[1].v4, &before);
  r.calls = 0;
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[0].v4, &nodes[1].self, on_ping, &r), 0);
  run(2 * ETHP2P_SEC);
  ethp2p_discv4_get_stats(nodes[1].v4, &after);
  ck_assert_uint_eq(after.tx[ETHP2P_DISCV4_ENRREQUEST], before.tx[ETHP2P_DISCV4_ENRREQUEST] + 1);
  e = ethp2p_table_find(ethp2p_discv4_table(nodes[1].v4), nodes[0].self.id);
  ck_assert_ptr_nonnull(e);
  ck_assert_uint_eq(e->node.seq, 2);
  teardown_all(2);
}
END_TEST

/* --- network ----------------------------------------------------------- */

START_TEST(network_bootstraps_and_lookup_resolves_every_node) {
  const int N = 24;
  static enr_res r;
  world();
  refresh_interval = 30 * ETHP2P_SEC;
  node_setup(0, true, NULL, 0, true);
  for (int i = 1; i < N; i++)
    node_setup(i, true, &nodes[0].self, 1, true);
  run(90 * ETHP2P_SEC);
  for (int i = 0; i < N; i++)
    ck_assert_msg(ethp2p_table_len(ethp2p_discv4_table(nodes[i].v4)) >= 5,
                  "node %d has only %zu table entries", i,
                  ethp2p_table_len(ethp2p_discv4_table(nodes[i].v4)));
  /* node 5 resolves every other node by key */
  int found = 0;
  for (int i = 0; i < N; i++) {
    if (i == 5)
      continue;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(ethp2p_discv4_resolve(nodes[5].v4, nodes[i].pub, on_enr, &r), 0);
    run(10 * ETHP2P_SEC);
    ck_assert_int_eq(r.calls, 1);
    if (r.status == 0) {
      uint8_t id[32];
      ck_assert_int_eq(ethp2p_enr_node_id(id, &r.rec), 0);
      ck_assert_mem_eq(id, nodes[i].self.id, 32);
      found++;
    }
  }
  ck_assert_int_eq(found, N - 1);
  refresh_interval = 0;
  teardown_all(N);
}
END_TEST

typedef struct iter_res {
  int calls;
  ethp2p_discover_node got[64];
  size_t n;
} iter_res;

static bool odd_filter(void *data, const ethp2p_discover_node *n) {
  (void)data;
  return n->addr.ip[1] % 2 == 1; /* 20.<odd>.0.1 = even node index */
}

static void on_iter(void *data, int status, const ethp2p_discover_node *n) {
  iter_res *r = data;
  r->calls++;
  if (status == 0 && r->n < 64)
    r->got[r->n++] = *n;
}

START_TEST(iterator_hands_out_filtered_nodes_once) {
  const int N = 16;
  static iter_res r;
  ethp2p_discv4_iter *it;
  memset(&r, 0, sizeof r);
  world();
  node_setup(0, true, NULL, 0, true);
  for (int i = 1; i < N; i++)
    node_setup(i, true, &nodes[0].self, 1, true);
  run(ETHP2P_MIN);
  ck_assert_int_eq(ethp2p_discv4_iter_create(nodes[3].v4, odd_filter, NULL, &it), 0);
  for (int k = 0; k < 8; k++) {
    ck_assert_int_eq(ethp2p_discv4_iter_next(it, on_iter, &r), 0);
    ck_assert_int_eq(ethp2p_discv4_iter_next(it, on_iter, &r), ETHP2P_EBUSY);
    run(10 * ETHP2P_SEC);
  }
  /* nodes 0, 2, 4, ..., 14: 8 nodes (node 3, the iterating one, is not among them) */
  ck_assert_uint_eq(r.n, 8);
  for (size_t i = 0; i < r.n; i++) {
    ck_assert(odd_filter(NULL, &r.got[i]));
    for (size_t j = 0; j < i; j++)
      ck_assert_mem_ne(r.got[i].id, r.got[j].id, 32);
  }
  /* a pending next is cancelled by close */
  ck_assert_int_eq(ethp2p_discv4_iter_next(it, on_iter, &r), 0);
  int before = r.calls;
  ethp2p_discv4_iter_close(it);
  ck_assert_int_eq(r.calls, before + 1);
  teardown_all(N);
}
END_TEST

static int unhandled_calls;
static void count_unhandled(void *data, const ethp2p_addr *from, const uint8_t *pkt, size_t len) {
  (void)data;
  (void)from;
  (void)pkt;
  (void)len;
  unhandled_calls++;
}

START_TEST(mux_passes_what_discv4_cannot_decode_to_the_unhandled_hook) {
  uint8_t junk[120];
  ethp2p_discover_stats st;
  world();
  node_setup(0, true, NULL, 0, false);
  node_setup(1, false, NULL, 0, false);
  unhandled_calls = 0;
  ethp2p_discover_set_unhandled(nodes[0].mux, count_unhandled, NULL);
  memset(junk, 0x42, sizeof junk); /* e.g. a discv5 packet */
  ck_assert_int_eq(ethp2p_discover_send(nodes[1].mux, &nodes[0].self.addr, junk, sizeof junk), 0);
  ping_res r = {0};
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[0].v4, &nodes[1].self, on_ping, &r), 0);
  run(ETHP2P_SEC);
  ck_assert_int_eq(unhandled_calls, 1);
  ethp2p_discover_get_stats(nodes[0].mux, &st);
  ck_assert_uint_eq(st.unhandled, 1);
  ck_assert_uint_eq(st.rx_packets, 1);
  ck_assert_uint_eq(st.tx_packets, 1);
  ck_assert_int_eq(ethp2p_discover_send(nodes[0].mux, &nodes[1].self.addr, junk, 1281),
                   ETHP2P_ETOOBIG);
  teardown_all(2);
}
END_TEST

START_TEST(revalidation_drops_a_node_that_stops_answering) {
  ping_res r = {0};
  ethp2p_discv4_stats st;
  world();
  revalidate_interval = 2 * ETHP2P_SEC;
  node_setup(0, true, NULL, 0, true);
  node_setup(1, true, NULL, 0, false);
  revalidate_interval = 0;
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[1].v4, &nodes[0].self, on_ping, &r), 0);
  run(2 * ETHP2P_SEC);
  ck_assert_ptr_nonnull(ethp2p_table_find(ethp2p_discv4_table(nodes[0].v4), nodes[1].self.id));
  /* alive: checks answered, entry kept */
  run(10 * ETHP2P_SEC);
  const ethp2p_table_entry *e =
      ethp2p_table_find(ethp2p_discv4_table(nodes[0].v4), nodes[1].self.id);
  ck_assert_ptr_nonnull(e);
  ck_assert_uint_ge(e->checks, 1);
  /* gone: the next check times out and the entry leaves the table */
  ethp2p_sim_host_set_up(nodes[1].host, false);
  run(10 * ETHP2P_SEC);
  ck_assert_ptr_null(ethp2p_table_find(ethp2p_discv4_table(nodes[0].v4), nodes[1].self.id));
  ethp2p_discv4_get_stats(nodes[0].v4, &st);
  ck_assert_uint_ge(st.timeouts, 1);
  teardown_all(2);
}
END_TEST

START_TEST(netrestrict_ignores_nodes_outside_the_allowed_networks) {
  ping_res r1 = {0}, r2 = {0};
  ethp2p_discv4_stats st;
  ethp2p_addr net = ethp2p_addr_v4(20, 2, 0, 0, 0); /* node 1 is 20.2.0.1 */
  uint8_t prefix = 16;
  world();
  restrict_nets = &net;
  restrict_prefix = &prefix;
  nrestrict = 1;
  node_setup(0, true, NULL, 0, false);
  nrestrict = 0;
  node_setup(1, true, NULL, 0, false);
  node_setup(2, true, NULL, 0, false);
  /* we do not talk to a node outside */
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[0].v4, &nodes[2].self, on_ping, &r1), ETHP2P_EPERM);
  /* and its Ping gets no Pong, while node 1's does */
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[2].v4, &nodes[0].self, on_ping, &r2), 0);
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[1].v4, &nodes[0].self, on_ping, &r1), 0);
  run(2 * ETHP2P_SEC);
  ck_assert_int_eq(r2.status, ETHP2P_ETIMEDOUT);
  ck_assert_int_eq(r1.status, 0);
  ethp2p_discv4_get_stats(nodes[0].v4, &st);
  ck_assert_uint_eq(st.tx[ETHP2P_DISCV4_PONG], 1);
  ck_assert_ptr_null(ethp2p_table_find(ethp2p_discv4_table(nodes[0].v4), nodes[2].self.id));
  ck_assert_ptr_nonnull(ethp2p_table_find(ethp2p_discv4_table(nodes[0].v4), nodes[1].self.id));
  teardown_all(3);
}
END_TEST

START_TEST(destroy_cancels_requests_in_flight) {
  ping_res r = {0};
  nodes_res nr = {0};
  world();
  node_setup(0, true, NULL, 0, false);
  node_setup(1, false, NULL, 0, false);
  ck_assert_int_eq(ethp2p_discv4_ping(nodes[0].v4, &nodes[1].self, on_ping, &r), 0);
  ck_assert_int_eq(ethp2p_discv4_lookup(nodes[0].v4, NULL, on_nodes, &nr), ETHP2P_ENOTFOUND);
  ethp2p_discv4_destroy(nodes[0].v4);
  nodes[0].v4 = NULL;
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, ETHP2P_ECANCELED);
  teardown_all(2);
}
END_TEST

int main(void) {
  Suite *s = suite_create("discover_v4");
  TCase *tc = tcase_create("v4");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, ping_gets_pong_with_our_endpoint_and_both_sides_bond);
  tcase_add_test(tc, ping_to_a_silent_address_times_out);
  tcase_add_test(tc, expired_ping_is_dropped_and_fresh_ping_answered);
  tcase_add_test(tc, findnode_and_enrrequest_without_endpoint_proof_get_no_answer);
  tcase_add_test(tc, findnode_bonds_first_and_collects_split_neighbors);
  tcase_add_test(tc, enr_request_returns_the_peers_record);
  tcase_add_test(tc, resolve_asks_a_table_node_directly_then_looks_it_up);
  tcase_add_test(tc, higher_enr_seq_in_ping_makes_the_peer_fetch_the_new_record);
  tcase_add_test(tc, network_bootstraps_and_lookup_resolves_every_node);
  tcase_add_test(tc, iterator_hands_out_filtered_nodes_once);
  tcase_add_test(tc, mux_passes_what_discv4_cannot_decode_to_the_unhandled_hook);
  tcase_add_test(tc, revalidation_drops_a_node_that_stops_answering);
  tcase_add_test(tc, netrestrict_ignores_nodes_outside_the_allowed_networks);
  tcase_add_test(tc, destroy_cancels_requests_in_flight);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
