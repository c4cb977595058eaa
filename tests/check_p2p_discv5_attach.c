/* tests/check_p2p_discv5_attach.c — ethp2p_discv5_attach in the simulated world: two
 * nodes, each with discv4 and discv5 on one socket (the discover mux), sharing discv4's
 * table and localnode's record.  They find each other over discv5, their tables learn
 * of each other, FINDNODE is answered from the table, discv4 packets still reach discv4,
 * record updates reach discv5, and detach unplugs discv5 only. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discover.h"
#include "ethp2p/discv4.h"
#include "ethp2p/discv5.h"
#include "ethp2p/discv5_attach.h"
#include "ethp2p/localnode.h"
#include "ethp2p/sim.h"

#define PORT 30303

typedef struct side {
  ethp2p_sim_host *host;
  ethp2p_nodekey key;
  ethp2p_localnode *ln;
  ethp2p_discover *mux;
  ethp2p_discv4 *v4;
  ethp2p_discv5_attached *at;
  uint8_t id[32];
} side;

static ethp2p_sim *w;
static side A, B;

static int host_record(void *data, ethp2p_enr *out) {
  return ethp2p_localnode_record(data, out);
}

static void side_init(side *s, const char *name, uint8_t seed) {
  memset(s, 0, sizeof *s);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &s->host, name, NULL), 0);
  ethp2p_env *env = ethp2p_sim_host_env(s->host);
  memset(s->key.secret, seed, 32);
  ck_assert_int_eq(ethp2p_localnode_create(env, &s->key, NULL, &s->ln), 0);
  ethp2p_addr ip = ethp2p_sim_host_addr(s->host);
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(s->ln, &ip), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(s->ln, ETHP2P_ENR_UDP, PORT), 0);
  ethp2p_addr bind = ethp2p_addr_v4(0, 0, 0, 0, PORT);
  ck_assert_int_eq(ethp2p_discover_open(env, &bind, &s->mux), 0);
  ethp2p_discv4_config c4 = {0};
  memcpy(c4.secret, s->key.secret, 32);
  c4.host.record = host_record;
  c4.host.data = s->ln;
  c4.no_maintenance = true;
  ck_assert_int_eq(ethp2p_discv4_create(s->mux, &c4, &s->v4), 0);
  ethp2p_discv5_config c5 = {0};
  c5.secret = s->key.secret;
  c5.request_timeout = ETHP2P_SEC;
  ck_assert_int_eq(ethp2p_discv5_attach(s->mux, ethp2p_discv4_table(s->v4), s->ln, &c5, &s->at), 0);
  ethp2p_localnode_id(s->ln, s->id);
}

static void side_free(side *s) {
  ethp2p_discv5_detach(s->at);
  ethp2p_discv4_destroy(s->v4);
  ethp2p_discover_close(s->mux);
  ethp2p_localnode_destroy(s->ln);
}

static void setup(void) {
  ck_assert_int_eq(ethp2p_sim_create(&w, 7), 0);
  side_init(&A, "a", 0x41);
  side_init(&B, "b", 0x42);
}

static void teardown(void) {
  side_free(&A);
  side_free(&B);
  ethp2p_sim_destroy(w);
}

static ethp2p_enr record_of(side *s) {
  ethp2p_enr rec;
  ck_assert_int_eq(ethp2p_localnode_record(s->ln, &rec), 0);
  return rec;
}

typedef struct result {
  int calls, status;
  ethp2p_enr recs[ETHP2P_DISCV5_NODES_MAX];
  size_t n;
} result;

static void pong5(void *data, int status, const ethp2p_discv5_pong *p) {
  result *r = data;
  (void)p;
  r->calls++;
  r->status = status;
}
static void pong4(void *data, int status, const ethp2p_discv4_pong_info *p) {
  result *r = data;
  (void)p;
  r->calls++;
  r->status = status;
}
static void nodes5(void *data, int status, const ethp2p_enr *recs, size_t n) {
  result *r = data;
  r->calls++;
  r->status = status;
  r->n = n;
  for (size_t i = 0; i < n; i++)
    r->recs[i] = recs[i];
}
static void lookup5(void *data, int status, const ethp2p_enr *recs, size_t n) {
  nodes5(data, status, recs, n);
}

static ethp2p_discv5 *v5(side *s) {
  return ethp2p_discv5_attached_node(s->at);
}

START_TEST(discv5_and_discv4_share_the_socket_and_the_table) {
  /* A knows B's record (a bootnode) and looks up its own ID over discv5 */
  ethp2p_enr rb = record_of(&B);
  ck_assert_int_eq(ethp2p_discv5_add_node(v5(&A), &rb), 0);
  ck_assert_ptr_nonnull(ethp2p_table_find(ethp2p_discv4_table(A.v4), B.id)); /* found */
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_lookup(v5(&A), A.id, lookup5, &r), 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  /* B learned A from the handshake: A is in B's table, seen alive */
  ck_assert_ptr_nonnull(ethp2p_table_find(ethp2p_discv4_table(B.v4), A.id));
  ethp2p_discv5_stats s5;
  ethp2p_discv5_stats_get(v5(&B), &s5);
  ck_assert_uint_ge(s5.handshakes, 1);
  /* the mux gave those datagrams to discv5 (discv4 did not take them) */
  ethp2p_discover_stats ms;
  ethp2p_discover_get_stats(B.mux, &ms);
  ck_assert_uint_ge(ms.unhandled, 2);
  ck_assert_uint_eq(ms.dropped, 0);
  /* B answers FINDNODE from its table: at A's distance it knows A */
  ethp2p_discv5_peer pb;
  ck_assert_int_eq(ethp2p_discv5_peer_from_enr(&pb, &rb), 0);
  uint16_t d = (uint16_t)ethp2p_discover_logdist(A.id, B.id);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv5_findnode(v5(&A), &pb, &d, 1, nodes5, &r), 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.n, 1);
  uint8_t got[32];
  ck_assert_int_eq(ethp2p_enr_node_id(got, &r.recs[0]), 0);
  ck_assert_mem_eq(got, A.id, 32);
  /* a discv4 PING on the same sockets still reaches discv4 */
  ethp2p_discover_node nb;
  ck_assert_int_eq(ethp2p_discover_node_from_record(&nb, &rb), 0);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv4_ping(A.v4, &nb, pong4, &r), 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ethp2p_discv4_stats s4;
  ethp2p_discv4_get_stats(B.v4, &s4);
  ck_assert_uint_ge(s4.rx[ETHP2P_DISCV4_PING], 1);
}
END_TEST

START_TEST(a_new_localnode_record_reaches_discv5) {
  uint64_t before = ethp2p_enr_seq(ethp2p_discv5_record(v5(&A)));
  ck_assert_int_eq(ethp2p_localnode_set_port(A.ln, ETHP2P_ENR_TCP, 30304), 0);
  ethp2p_enr now = record_of(&A);
  ethp2p_sim_run(w, ETHP2P_SEC / 10); /* subscribers hear on the next loop turn */
  ck_assert_uint_gt(ethp2p_enr_seq(&now), before);
  ck_assert_uint_eq(ethp2p_enr_seq(ethp2p_discv5_record(v5(&A))), ethp2p_enr_seq(&now));
}
END_TEST

START_TEST(detach_unplugs_discv5_and_leaves_discv4) {
  ethp2p_enr rb = record_of(&B);
  ethp2p_discv5_peer pb;
  ck_assert_int_eq(ethp2p_discv5_peer_from_enr(&pb, &rb), 0);
  ethp2p_discv5_detach(B.at);
  B.at = NULL;
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(v5(&A), &pb, pong5, &r), 0);
  ethp2p_sim_run(w, 3 * ETHP2P_SEC);
  ck_assert_int_eq(r.status, ETHP2P_ETIMEDOUT);
  ethp2p_discover_stats ms;
  ethp2p_discover_get_stats(B.mux, &ms);
  ck_assert_uint_ge(ms.dropped, 1); /* no hook: counted and dropped */
  ethp2p_discover_node nb;
  ck_assert_int_eq(ethp2p_discover_node_from_record(&nb, &rb), 0);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(ethp2p_discv4_ping(A.v4, &nb, pong4, &r), 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(r.status, 0);
}
END_TEST

static int nexts;
static size_t next_len;
static void on_next(void *data, const ethp2p_addr *from, const uint8_t *pkt, size_t len) {
  (void)data;
  (void)from;
  (void)pkt;
  nexts++;
  next_len = len;
}

START_TEST(other_datagrams_go_on_to_the_next_hook) {
  nexts = 0;
  ethp2p_discv5_attach_set_next(B.at, on_next, NULL);
  uint8_t junk[100];
  memset(junk, 0xa5, sizeof junk); /* neither discv4 nor discv5 */
  ethp2p_addr from = ethp2p_sim_host_addr(A.host);
  from.port = 5000;
  ethp2p_discover_input(B.mux, &from, junk, sizeof junk);
  ck_assert_int_eq(nexts, 1);
  ck_assert_uint_eq(next_len, sizeof junk);
  /* a discv5 packet does not reach it */
  ethp2p_enr rb = record_of(&B);
  ethp2p_discv5_peer pb;
  ck_assert_int_eq(ethp2p_discv5_peer_from_enr(&pb, &rb), 0);
  result r = {0};
  ck_assert_int_eq(ethp2p_discv5_ping(v5(&A), &pb, pong5, &r), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(nexts, 1);
  /* after detach the mux hands everything unhandled to the next hook itself */
  ethp2p_discv5_detach(B.at);
  B.at = NULL;
  ethp2p_discover_input(B.mux, &from, junk, sizeof junk);
  ck_assert_int_eq(nexts, 2);
}
END_TEST

START_TEST(attach_refuses_a_key_that_is_not_localnode_s) {
  uint8_t other[32];
  memset(other, 0x77, sizeof other);
  ethp2p_discv5_config c5 = {0};
  c5.secret = other;
  ethp2p_discv5_attached *at = (void *)1;
  ck_assert_int_eq(ethp2p_discv5_attach(A.mux, ethp2p_discv4_table(A.v4), A.ln, &c5, &at),
                   ETHP2P_EINVAL);
  ck_assert_ptr_null(at);
  ck_assert_int_eq(ethp2p_discv5_attach(NULL, ethp2p_discv4_table(A.v4), A.ln, &c5, &at),
                   ETHP2P_EINVAL);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("p2p_discv5_attach");
  TCase *tc = tcase_create("attach");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, discv5_and_discv4_share_the_socket_and_the_table);
  tcase_add_test(tc, a_new_localnode_record_reaches_discv5);
  tcase_add_test(tc, detach_unplugs_discv5_and_leaves_discv4);
  tcase_add_test(tc, other_datagrams_go_on_to_the_next_hook);
  tcase_add_test(tc, attach_refuses_a_key_that_is_not_localnode_s);
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
