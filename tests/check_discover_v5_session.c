/* tests/check_discover_v5_session.c — discv5 nodes talking in the simulated world:
 * handshakes both ways, session reuse, the bounded session cache, re-handshake after a
 * lost session, timeouts with retries, NODES split over messages, TALKREQ handlers,
 * PONG statements and record fetches triggered by a higher enr-seq. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discv5.h"
#include "ethp2p/secp.h"
#include "ethp2p/sim.h"
#include "p2p/discover/v5wire.h"

#define PORT 9000

typedef struct node {
  ethp2p_sim_host *host;
  uint8_t key[32];
  ethp2p_enr rec;
  ethp2p_discv5 *v5;
  ethp2p_discv5_peer peer;
  int statements;
  ethp2p_addr last_reporter, last_endpoint;
} node;

static ethp2p_sim *w;

static void make_record(node *n, uint64_t seq) {
  ethp2p_addr a = ethp2p_sim_host_addr(n->host);
  ethp2p_enr_init(&n->rec);
  ck_assert_int_eq(ethp2p_enr_seq_set(&n->rec, seq), 0);
  ck_assert_int_eq(ethp2p_enr_ip_set(&n->rec, a.ip), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&n->rec, ETHP2P_ENR_UDP, PORT), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&n->rec, n->key), 0);
  ck_assert_int_eq(ethp2p_discv5_peer_from_enr(&n->peer, &n->rec), 0);
}

static void on_statement(void *data, const ethp2p_addr *reporter, const ethp2p_addr *endpoint) {
  node *n = data;
  n->statements++;
  n->last_reporter = *reporter;
  n->last_endpoint = *endpoint;
}

static void start(node *n, size_t session_cap, unsigned retries) {
  ethp2p_discv5_config cfg = {0};
  cfg.secret = n->key;
  cfg.record = &n->rec;
  cfg.bind = ethp2p_addr_v4(0, 0, 0, 0, PORT);
  cfg.session_cap = session_cap;
  cfg.retries = retries;
  cfg.request_timeout = ETHP2P_SEC;
  cfg.on_statement = on_statement;
  cfg.statement_data = n;
  ck_assert_int_eq(ethp2p_discv5_create(ethp2p_sim_host_env(n->host), &cfg, &n->v5), 0);
}

static void node_init(node *n, const char *name, uint8_t seed) {
  memset(n, 0, sizeof *n);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &n->host, name, NULL), 0);
  memset(n->key, seed, 32);
  make_record(n, 1);
  start(n, 0, 0);
}

static node A, B, C, D;

static void setup(void) {
  ck_assert_int_eq(ethp2p_sim_create(&w, 5), 0);
  node_init(&A, "a", 0x11);
  node_init(&B, "b", 0x22);
}

static void teardown(void) {
  node *all[] = {&A, &B, &C, &D};
  for (int i = 0; i < 4; i++) {
    ethp2p_discv5_destroy(all[i]->v5);
    all[i]->v5 = NULL;
  }
  ethp2p_sim_destroy(w);
}

typedef struct result {
  int calls, status;
  ethp2p_discv5_pong pong;
  ethp2p_enr recs[ETHP2P_DISCV5_NODES_MAX];
  size_t n;
  uint8_t resp[64];
  size_t resp_len;
  ethp2p_time at;
} result;

static void pong_cb(void *data, int status, const ethp2p_discv5_pong *pong) {
  result *r = data;
  r->calls++;
  r->status = status;
  r->at = ethp2p_sim_now(w);
  if (pong != NULL)
    r->pong = *pong;
}

static void nodes_cb(void *data, int status, const ethp2p_enr *recs, size_t n) {
  result *r = data;
  r->calls++;
  r->status = status;
  r->n = n;
  for (size_t i = 0; i < n; i++)
    r->recs[i] = recs[i];
}

static void talk_cb(void *data, int status, const uint8_t *resp, size_t len) {
  result *r = data;
  r->calls++;
  r->status = status;
  ck_assert_uint_le(len, sizeof r->resp);
  if (len > 0)
    memcpy(r->resp, resp, len);
  r->resp_len = len;
}

static ethp2p_discv5_stats stats(node *n) {
  ethp2p_discv5_stats s;
  ethp2p_discv5_stats_get(n->v5, &s);
  return s;
}

START_TEST(ping_handshakes_then_reuses_the_session_both_ways) {
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.pong.enr_seq, 1);
  /* B saw A at A's address and port 9000, and A was told so */
  ck_assert(ethp2p_addr_equal(&r.pong.to, &A.peer.addr, true));
  ck_assert_int_eq(A.statements, 1);
  ck_assert(ethp2p_addr_equal(&A.last_reporter, &B.peer.addr, true));
  ck_assert(ethp2p_addr_equal(&A.last_endpoint, &A.peer.addr, true));
  ck_assert_uint_eq(stats(&A).handshakes, 1);
  ck_assert_uint_eq(stats(&B).handshakes, 1);
  /* random packet, WHOAREYOU, handshake, PONG */
  ck_assert_uint_eq(stats(&A).packets_out, 2);
  ck_assert_uint_eq(stats(&B).packets_out, 2);
  /* B learned A's record from the handshake */
  ethp2p_enr got;
  ck_assert_int_eq(ethp2p_discv5_lookup_record(B.v5, A.peer.id, &got), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&got), 1);

  /* again, and the other way: the session is reused, no new handshake */
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  result r2 = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(B.v5, &A.peer, pong_cb, &r2), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(r2.calls, 1);
  ck_assert_int_eq(r2.status, 0);
  ck_assert(ethp2p_addr_equal(&r2.pong.to, &B.peer.addr, true));
  ck_assert_uint_eq(stats(&A).handshakes, 1);
  ck_assert_uint_eq(stats(&B).handshakes, 1);
  ck_assert_uint_eq(stats(&A).packets_out, 4);
  ck_assert_uint_eq(stats(&A).sessions, 1);
  /* dropping the session makes the next request handshake again */
  ck_assert_uint_eq(ethp2p_discv5_session_drop(A.v5, B.peer.id), 1);
  ck_assert_uint_eq(stats(&A).sessions, 0);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(stats(&A).handshakes, 2);
}
END_TEST

START_TEST(findnode_distance_zero_returns_the_record) {
  result r = {0};
  uint16_t d = 0;
  ck_assert_int_eq(ethp2p_discv5_findnode(A.v5, &B.peer, &d, 1, nodes_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.n, 1);
  uint8_t a[300], b[300];
  size_t an, bn;
  ck_assert_int_eq(ethp2p_enr_encode(a, sizeof a, &an, &r.recs[0]), 0);
  ck_assert_int_eq(ethp2p_enr_encode(b, sizeof b, &bn, &B.rec), 0);
  ck_assert_uint_eq(an, bn);
  ck_assert_mem_eq(a, b, an);
}
END_TEST

START_TEST(nodes_are_split_over_messages_and_checked_for_distance) {
  /* 40 random records in B's store; ask for the four farthest distances (which hold
   * about 15/16 of all IDs): 16 records must come back, more than one NODES message holds */
  size_t want = 0;
  for (int i = 0; i < 40; i++) {
    uint8_t k[32], id[32];
    ethp2p_enr rec;
    ck_assert_int_eq(ethp2p_secp_secret_generate(k), 0);
    ethp2p_enr_init(&rec);
    uint8_t ip[4] = {10, 0, 0, (uint8_t)i};
    ck_assert_int_eq(ethp2p_enr_ip_set(&rec, ip), 0);
    ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP, 30303), 0);
    ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_TCP, 30303), 0);
    ck_assert_int_eq(ethp2p_enr_sign(&rec, k), 0);
    ck_assert_int_eq(ethp2p_discv5_add_node(B.v5, &rec), 0);
    ck_assert_int_eq(ethp2p_enr_node_id(id, &rec), 0);
    want += ethp2p_v5_log_distance(id, B.peer.id) >= 253;
  }
  ck_assert_uint_ge(want, 16); /* holds for this seedless draw with overwhelming odds */
  result r = {0};
  uint16_t d[4] = {256, 255, 254, 253};
  ck_assert_int_eq(ethp2p_discv5_findnode(A.v5, &B.peer, d, 4, nodes_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.n, ETHP2P_DISCV5_NODES_MAX);
  for (size_t i = 0; i < r.n; i++) {
    uint8_t id[32];
    ck_assert_int_eq(ethp2p_enr_node_id(id, &r.recs[i]), 0);
    ck_assert_uint_ge(ethp2p_v5_log_distance(id, B.peer.id), 253);
  }
  /* B sent more than one NODES message (plus WHOAREYOU) */
  ck_assert_uint_ge(stats(&B).packets_out, 3);
  ck_assert_uint_eq(ethp2p_discv5_store_count(A.v5), 16);
}
END_TEST

START_TEST(unanswered_requests_time_out_after_the_retries) {
  ethp2p_discv5_destroy(A.v5);
  A.v5 = NULL;
  start(&A, 0, 2);
  ethp2p_discv5_destroy(B.v5); /* nobody answers at B's address */
  B.v5 = NULL;
  result r = {0};
  ethp2p_time t0 = ethp2p_sim_now(w);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC + ETHP2P_SEC / 2);
  ck_assert_int_eq(r.calls, 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(r.at - t0, 3 * ETHP2P_SEC);
  ck_assert_uint_eq(stats(&A).packets_out, 3); /* the first try and two retries */
  ck_assert_uint_eq(stats(&A).timeouts, 1);
}
END_TEST

START_TEST(a_lost_session_is_handshaken_again) {
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  /* B restarts and forgets its keys; A still has its session */
  ethp2p_discv5_destroy(B.v5);
  start(&B, 0, 0);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(stats(&A).handshakes, 2);
  ck_assert_uint_eq(stats(&B).handshakes, 1);
}
END_TEST

static size_t echo(void *data, const ethp2p_discv5_peer *from, const uint8_t *req, size_t len,
                   uint8_t *resp, size_t cap) {
  int *calls = data;
  (*calls)++;
  ck_assert_mem_eq(from->id, A.peer.id, 32);
  ck_assert_uint_le(len, cap);
  for (size_t i = 0; i < len; i++)
    resp[i] = req[len - 1 - i];
  return len;
}

START_TEST(talkreq_reaches_its_handler_and_unknown_protocols_get_empty_answers) {
  int calls = 0;
  ck_assert_int_eq(ethp2p_discv5_talk_register(B.v5, "echo", echo, &calls), 0);
  ck_assert_int_eq(ethp2p_discv5_talk_register(B.v5, "echo", echo, &calls), ETHP2P_EEXIST);
  result r = {0};
  ck_assert_int_eq(
      ethp2p_discv5_talkreq(A.v5, &B.peer, "echo", (const uint8_t *)"abc", 3, talk_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.resp_len, 3);
  ck_assert_mem_eq(r.resp, "cba", 3);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(
      ethp2p_discv5_talkreq(A.v5, &B.peer, "nope", (const uint8_t *)"abc", 3, talk_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.resp_len, 0);
  ck_assert_int_eq(calls, 1);
}
END_TEST

START_TEST(a_higher_enr_seq_in_ping_makes_the_peer_fetch_the_record) {
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ethp2p_enr got;
  ck_assert_int_eq(ethp2p_discv5_lookup_record(B.v5, A.peer.id, &got), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&got), 1);
  /* A's record changes (seq 2); its next PING carries the new seq */
  ck_assert_int_eq(ethp2p_enr_port_set(&A.rec, ETHP2P_ENR_TCP, 30303), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&A.rec, A.key), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&A.rec), 2);
  ck_assert_int_eq(ethp2p_discv5_set_record(A.v5, &A.rec), 0);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(ethp2p_discv5_lookup_record(B.v5, A.peer.id, &got), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&got), 2);
  /* and a record that is not ours is refused */
  ck_assert_int_eq(ethp2p_discv5_set_record(A.v5, &B.rec), ETHP2P_EINVAL);
}
END_TEST

START_TEST(a_higher_enr_seq_in_pong_makes_us_fetch_the_record) {
  /* A pings B from B's record (seq 1); B's record moves to seq 2; the next PONG says so
   * and A fetches the new record */
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ethp2p_enr got;
  ck_assert_int_eq(ethp2p_discv5_lookup_record(A.v5, B.peer.id, &got), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_enr_port_set(&B.rec, ETHP2P_ENR_TCP, 30303), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&B.rec, B.key), 0);
  ck_assert_int_eq(ethp2p_discv5_set_record(B.v5, &B.rec), 0);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0); /* B.peer.seq is 1 */
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.pong.enr_seq, 2);
  ck_assert_int_eq(ethp2p_discv5_lookup_record(A.v5, B.peer.id, &got), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&got), 2);
}
END_TEST

START_TEST(concurrent_requests_share_one_handshake) {
  /* regression: three requests at once used to start three handshakes; B kept only the
   * last challenge, so the first handshake was refused */
  result p = {0}, f = {0}, t = {0};
  uint16_t d = 0;
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &p), 0);
  ck_assert_int_eq(ethp2p_discv5_findnode(A.v5, &B.peer, &d, 1, nodes_cb, &f), 0);
  ck_assert_int_eq(ethp2p_discv5_talkreq(A.v5, &B.peer, "x", NULL, 0, talk_cb, &t), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(p.calls, 1);
  ck_assert_int_eq(p.status, 0);
  ck_assert_int_eq(f.calls, 1);
  ck_assert_int_eq(f.status, 0);
  ck_assert_uint_eq(f.n, 1);
  ck_assert_int_eq(t.calls, 1);
  ck_assert_int_eq(t.status, 0);
  ck_assert_uint_eq(stats(&A).handshakes, 1);
  ck_assert_uint_eq(stats(&B).handshakes, 1);
  ck_assert_uint_eq(stats(&B).handshake_failures, 0);
}
END_TEST

START_TEST(simultaneous_handshakes_from_both_sides_settle) {
  result ra = {0}, rb = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &ra), 0);
  ck_assert_int_eq(ethp2p_discv5_ping(B.v5, &A.peer, pong_cb, &rb), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(ra.calls, 1);
  ck_assert_int_eq(ra.status, 0);
  ck_assert_int_eq(rb.calls, 1);
  ck_assert_int_eq(rb.status, 0);
  /* and the sessions they settled on work both ways without another handshake */
  ethp2p_discv5_stats a0 = stats(&A), b0 = stats(&B);
  memset(&ra, 0, sizeof ra);
  memset(&rb, 0, sizeof rb);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &ra), 0);
  ck_assert_int_eq(ethp2p_discv5_ping(B.v5, &A.peer, pong_cb, &rb), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(ra.status, 0);
  ck_assert_int_eq(rb.status, 0);
  ck_assert_uint_eq(stats(&A).handshakes, a0.handshakes);
  ck_assert_uint_eq(stats(&B).handshakes, b0.handshakes);
}
END_TEST

START_TEST(the_session_cache_is_bounded_and_evicts_the_least_recently_used) {
  ethp2p_discv5_destroy(B.v5);
  start(&B, 2, 0);
  node_init(&C, "c", 0x33);
  node_init(&D, "d", 0x44);
  node *order[] = {&A, &C, &D};
  for (int i = 0; i < 3; i++) {
    result r = {0};
    ck_assert_int_eq(ethp2p_discv5_ping(order[i]->v5, &B.peer, pong_cb, &r), 0);
    ethp2p_sim_run(w, ETHP2P_SEC / 2);
    ck_assert_int_eq(r.status, 0);
  }
  ck_assert_uint_eq(stats(&B).sessions, 2);
  ck_assert_uint_eq(stats(&B).handshakes, 3);
  /* D (recent) keeps its session; A (least recently used) was evicted */
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(D.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(stats(&B).handshakes, 3);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(stats(&B).handshakes, 4);
  ck_assert_uint_eq(stats(&A).handshakes, 2);
}
END_TEST

START_TEST(a_peer_with_the_wrong_key_fails_the_handshake) {
  /* A believes B's ID has another key: B's WHOAREYOU comes, but B refuses the handshake
   * (the id signature and the keys do not match), so the ping times out */
  ethp2p_discv5_peer wrong = B.peer;
  uint8_t k[32], pub[33];
  memset(k, 0x55, 32);
  ck_assert_int_eq(ethp2p_secp_pubkey(pub, NULL, k), 0);
  memcpy(wrong.pub33, pub, 33);
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &wrong, pong_cb, &r), 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, ETHP2P_ETIMEDOUT);
  ck_assert_uint_eq(stats(&B).handshakes, 0);
  ck_assert_uint_eq(stats(&B).handshake_failures, 1); /* the message did not decrypt */
  ck_assert_uint_eq(stats(&B).sessions, 0);
}
END_TEST

START_TEST(a_record_with_seq_zero_still_travels_in_the_handshake) {
  /* regression: WHOAREYOU enr-seq 0 means "no record known"; a seq-0 record must be sent */
  ethp2p_discv5_destroy(A.v5);
  make_record(&A, 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&A.rec), 0);
  start(&A, 0, 0);
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(stats(&B).handshakes, 1);
}
END_TEST

typedef struct lresult {
  int calls, status;
  size_t n;
  uint8_t first[32];
  bool found;
} lresult;

static uint8_t lookup_target[32];

static void lookup_cb(void *data, int status, const ethp2p_enr *closest, size_t n) {
  lresult *r = data;
  r->calls++;
  r->status = status;
  r->n = n;
  for (size_t i = 0; i < n; i++) {
    uint8_t id[32];
    ck_assert_int_eq(ethp2p_enr_node_id(id, &closest[i]), 0);
    if (i == 0)
      memcpy(r->first, id, 32);
    r->found |= memcmp(id, lookup_target, 32) == 0;
  }
}

START_TEST(a_lookup_walks_a_ring_to_the_target) {
  /* 12 nodes in a ring, each knowing only its next 3; node 0 looks up node 8 */
  enum { N = 12 };
  static node ring[N];
  for (int i = 0; i < N; i++) {
    char name[8];
    name[0] = 'r';
    name[1] = (char)('a' + i);
    name[2] = 0;
    node_init(&ring[i], name, (uint8_t)(0x60 + i));
  }
  for (int i = 0; i < N; i++)
    for (int k = 1; k <= 3; k++)
      ck_assert_int_eq(ethp2p_discv5_add_node(ring[i].v5, &ring[(i + k) % N].rec), 0);
  memcpy(lookup_target, ring[8].peer.id, 32);
  lresult r = {0};
  ck_assert_int_eq(ethp2p_discv5_lookup(ring[0].v5, lookup_target, lookup_cb, &r), 0);
  ck_assert_int_eq(r.calls, 0); /* never inside the call */
  ethp2p_sim_run(w, 10 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert(r.found);
  ck_assert_mem_eq(r.first, lookup_target, 32); /* the closest to itself comes first */
  ck_assert_uint_gt(ethp2p_discv5_store_count(ring[0].v5), 3);
  for (int i = 0; i < N; i++)
    ethp2p_discv5_destroy(ring[i].v5);
  /* an empty store cannot start a lookup, and says so without calling back */
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_lookup(A.v5, lookup_target, lookup_cb, &r), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(r.calls, 0);
}
END_TEST

START_TEST(a_flood_of_unauthenticated_packets_does_not_evict_sessions) {
  /* regression: a WHOAREYOU used to take a session slot, so packets from made-up IDs at
   * made-up addresses evicted real sessions */
  ethp2p_discv5_destroy(B.v5);
  start(&B, 4, 0);
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(stats(&B).handshakes, 1);
  for (int i = 0; i < 100; i++) {
    uint8_t fake[32], iv[16] = {0}, nonce[12] = {0}, key[16] = {0}, junk[20] = {0}, auth[32];
    uint8_t out[200];
    size_t n;
    memset(fake, i + 1, sizeof fake);
    nonce[0] = (uint8_t)i;
    ethp2p_v5_authdata_message(auth, fake);
    ck_assert_int_eq(ethp2p_v5_packet_encode(out, sizeof out, &n, B.peer.id, iv,
                                             ETHP2P_V5_FLAG_MESSAGE, nonce, auth, 32, key, junk,
                                             sizeof junk),
                     0);
    ethp2p_addr from = ethp2p_addr_v4(198, 51, 100, (uint8_t)i, 4000);
    ck_assert_int_eq(ethp2p_discv5_handle_packet(B.v5, &from, out, n), 0);
  }
  ck_assert_uint_eq(stats(&B).packets_out, 2 + 100); /* a WHOAREYOU each */
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(stats(&B).handshakes, 1); /* A's session survived */
  ck_assert_uint_eq(stats(&B).sessions, 1);
}
END_TEST

/* An undecryptable message packet from node `fake_id` (as an attacker makes them). */
static size_t junk_packet(uint8_t *out, size_t cap, const uint8_t to[32], uint32_t i) {
  uint8_t fake[32] = {0}, iv[16] = {0}, nonce[12] = {0}, key[16] = {0}, junk[20] = {0}, auth[32];
  size_t n;
  memcpy(fake, &i, sizeof i);
  memcpy(nonce, &i, sizeof i);
  ethp2p_v5_authdata_message(auth, fake);
  ck_assert_int_eq(ethp2p_v5_packet_encode(out, cap, &n, to, iv, ETHP2P_V5_FLAG_MESSAGE, nonce,
                                           auth, 32, key, junk, sizeof junk),
                   0);
  return n;
}

START_TEST(whoareyous_are_rate_limited_per_ip) {
  uint8_t out[200];
  /* 100 packets from one IP (many ports, many IDs) at one instant: the burst (2 x 10/s) */
  for (uint32_t i = 0; i < 100; i++) {
    size_t n = junk_packet(out, sizeof out, B.peer.id, i);
    ethp2p_addr from = ethp2p_addr_v4(198, 51, 100, 7, (uint16_t)(4000 + i));
    ck_assert_int_eq(ethp2p_discv5_handle_packet(B.v5, &from, out, n), 0);
  }
  ck_assert_uint_eq(stats(&B).packets_out, 20);
  ck_assert_uint_eq(stats(&B).whoareyou_limited, 80);
  /* an IPv6 /64 is one host: its addresses share a bucket */
  for (uint32_t i = 0; i < 50; i++) {
    size_t k = junk_packet(out, sizeof out, B.peer.id, 500 + i);
    ethp2p_addr from = {.family = 6, .port = 4000};
    from.ip[0] = 0x20;
    from.ip[1] = 0x01;
    from.ip[2] = 0x0d;
    from.ip[3] = 0xb8;
    from.ip[15] = (uint8_t)i; /* interface IDs differ */
    from.ip[9] = (uint8_t)(i * 7);
    ck_assert_int_eq(ethp2p_discv5_handle_packet(B.v5, &from, out, k), 0);
  }
  ck_assert_uint_eq(stats(&B).whoareyou_limited, 80 + 30); /* 20 passed (the sim has no
                                                              IPv6 route: none is sent) */
  /* another IP has its own bucket */
  ethp2p_addr other = ethp2p_addr_v4(198, 51, 100, 8, 4000);
  size_t n = junk_packet(out, sizeof out, B.peer.id, 1000);
  ck_assert_int_eq(ethp2p_discv5_handle_packet(B.v5, &other, out, n), 0);
  ck_assert_uint_eq(stats(&B).packets_out, 21);
  /* one second later the first IP has 10 more */
  ethp2p_sim_run(w, ETHP2P_SEC);
  for (uint32_t i = 0; i < 50; i++) {
    n = junk_packet(out, sizeof out, B.peer.id, 2000 + i);
    ethp2p_addr from = ethp2p_addr_v4(198, 51, 100, 7, 4000);
    ck_assert_int_eq(ethp2p_discv5_handle_packet(B.v5, &from, out, n), 0);
  }
  ck_assert_uint_eq(stats(&B).packets_out, 31);
  /* a real peer elsewhere still gets its handshake */
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(whoareyous_are_rate_limited_overall_with_bounded_memory) {
  uint8_t out[200];
  /* 5,000 packets from 5,000 addresses (more than the per-IP table holds) at once: the
   * global burst (2 x 200/s) goes out, nothing more */
  for (uint32_t i = 0; i < 5000; i++) {
    size_t n = junk_packet(out, sizeof out, B.peer.id, i);
    ethp2p_addr from = ethp2p_addr_v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 30303);
    ck_assert_int_eq(ethp2p_discv5_handle_packet(B.v5, &from, out, n), 0);
  }
  ck_assert_uint_eq(stats(&B).packets_out, 400);
  ck_assert_uint_eq(stats(&B).whoareyou_limited, 4600);
  /* while the flood lasts, A's handshake may be refused; once the bucket refills it works */
  ethp2p_sim_run(w, ETHP2P_SEC);
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(stats(&B).handshakes, 1);
}
END_TEST

static int contacts;
static ethp2p_addr contact_to;
static void on_contact(void *data, const ethp2p_addr *to) {
  (void)data;
  contacts++;
  contact_to = *to;
}

START_TEST(a_ping_reports_the_contact_for_localnode) {
  ethp2p_discv5_destroy(A.v5);
  ethp2p_discv5_config cfg = {0};
  cfg.secret = A.key;
  cfg.record = &A.rec;
  cfg.bind = ethp2p_addr_v4(0, 0, 0, 0, PORT);
  cfg.on_contact = on_contact;
  cfg.retries = 1;
  ck_assert_int_eq(ethp2p_discv5_create(ethp2p_sim_host_env(A.host), &cfg, &A.v5), 0);
  contacts = 0;
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &B.peer, pong_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(contacts, 1);
  ck_assert(ethp2p_addr_equal(&contact_to, &B.peer.addr, true));
  /* a FINDNODE asks for no endpoint: no contact */
  uint16_t d = 0;
  ck_assert_int_eq(ethp2p_discv5_findnode(A.v5, &B.peer, &d, 1, nodes_cb, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC / 2);
  ck_assert_int_eq(contacts, 1);
  /* a retried PING is a contact each time it goes out */
  ethp2p_discv5_peer silent = B.peer;
  silent.addr.port = PORT + 1;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_ping(A.v5, &silent, pong_cb, &r), 0);
  ethp2p_sim_run(w, 3 * ETHP2P_SEC);
  ck_assert_int_eq(r.status, ETHP2P_ETIMEDOUT);
  ck_assert_int_eq(contacts, 3);
}
END_TEST

START_TEST(garbage_is_not_discv5_and_changes_nothing) {
  uint8_t junk[100];
  memset(junk, 0xa5, sizeof junk);
  ck_assert_int_eq(ethp2p_discv5_handle_packet(B.v5, &A.peer.addr, junk, sizeof junk),
                   ETHP2P_EPROTO);
  ck_assert_int_eq(ethp2p_discv5_handle_packet(B.v5, &A.peer.addr, junk, 10), ETHP2P_EPROTO);
  ck_assert_uint_eq(stats(&B).packets_out, 0);
  ck_assert_uint_eq(stats(&B).sessions, 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("discover_v5_session");
  TCase *tc = tcase_create("session");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, ping_handshakes_then_reuses_the_session_both_ways);
  tcase_add_test(tc, findnode_distance_zero_returns_the_record);
  tcase_add_test(tc, nodes_are_split_over_messages_and_checked_for_distance);
  tcase_add_test(tc, unanswered_requests_time_out_after_the_retries);
  tcase_add_test(tc, a_lost_session_is_handshaken_again);
  tcase_add_test(tc, talkreq_reaches_its_handler_and_unknown_protocols_get_empty_answers);
  tcase_add_test(tc, a_higher_enr_seq_in_ping_makes_the_peer_fetch_the_record);
  tcase_add_test(tc, a_higher_enr_seq_in_pong_makes_us_fetch_the_record);
  tcase_add_test(tc, concurrent_requests_share_one_handshake);
  tcase_add_test(tc, simultaneous_handshakes_from_both_sides_settle);
  tcase_add_test(tc, the_session_cache_is_bounded_and_evicts_the_least_recently_used);
  tcase_add_test(tc, a_peer_with_the_wrong_key_fails_the_handshake);
  tcase_add_test(tc, a_record_with_seq_zero_still_travels_in_the_handshake);
  tcase_add_test(tc, a_lookup_walks_a_ring_to_the_target);
  tcase_add_test(tc, a_flood_of_unauthenticated_packets_does_not_evict_sessions);
  tcase_add_test(tc, whoareyous_are_rate_limited_per_ip);
  tcase_add_test(tc, whoareyous_are_rate_limited_overall_with_bounded_memory);
  tcase_add_test(tc, a_ping_reports_the_contact_for_localnode);
  tcase_add_test(tc, garbage_is_not_discv5_and_changes_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
