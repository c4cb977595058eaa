/*
 * tests/check_p2p_localnode.c — the local record: lazy signing, seq rules and
 * persistence, endpoint precedence, subscribers; on the simulated clock.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ethp2p/enr.h"
#include "ethp2p/localnode.h"
#include "ethp2p/sim.h"

/* EIP-778's example key and node ID. */
static const char *const KEY_HEX =
    "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
static const uint8_t NODE_ID[32] = {
    0xa4, 0x48, 0xf2, 0x4c, 0x6d, 0x18, 0xe5, 0x75, 0x45, 0x3d, 0xb1, 0x31, 0x71, 0x56, 0x2b, 0x71,
    0x99, 0x98, 0x73, 0xdb, 0x5b, 0x28, 0x6d, 0xf9, 0x57, 0xaf, 0x19, 0x9e, 0xc9, 0x46, 0x17, 0xf7};

typedef struct world {
  ethp2p_sim *sim;
  ethp2p_sim_host *host;
  ethp2p_env *env;
  ethp2p_nodekey key;
  ethp2p_localnode *ln;
  unsigned versions;
  uint64_t last_seq;
  ethp2p_enr last;
  char dir[128];
} world;

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  world *w = data;
  uint8_t buf[ETHP2P_ENR_MAX_SIZE];
  size_t len;
  ethp2p_enr back;
  (void)ln;
  /* invariants of every published version */
  ck_assert(ethp2p_enr_is_signed(rec));
  ck_assert_int_eq(ethp2p_enr_verify(rec, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_encode(buf, sizeof buf, &len, rec), 0);
  ck_assert_uint_le(len, 300);
  ck_assert_int_eq(ethp2p_enr_decode_verify(&back, buf, len, NULL), 0);
  if (w->versions > 0)
    ck_assert_uint_gt(ethp2p_enr_seq(rec), w->last_seq);
  {
    uint16_t p;
    if (ethp2p_enr_port_get(rec, ETHP2P_ENR_TCP, &p) == 0)
      ck_assert_uint_ne(p, 0);
    if (ethp2p_enr_port_get(rec, ETHP2P_ENR_UDP, &p) == 0)
      ck_assert_uint_ne(p, 0);
  }
  w->last_seq = ethp2p_enr_seq(rec);
  w->last = *rec;
  w->versions++;
}

static void world_init(world *w, bool persist) {
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(ethp2p_sim_create(&w->sim, 7), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w->sim, &w->host, "node", NULL), 0);
  w->env = ethp2p_sim_host_env(w->host);
  ck_assert_int_eq(ethp2p_nodekey_parse(&w->key, (const uint8_t *)KEY_HEX, 64, NULL), 0);
  if (persist) {
    snprintf(w->dir, sizeof w->dir, "/tmp/ethp2p-localnode-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(w->dir));
  }
}

static void node_start(world *w) {
  ck_assert_int_eq(ethp2p_localnode_create(w->env, &w->key, w->dir[0] ? w->dir : NULL, &w->ln), 0);
  ck_assert_int_gt(ethp2p_localnode_subscribe(w->ln, on_record, w), 0);
}

static void node_stop(world *w) {
  ethp2p_localnode_destroy(w->ln);
  w->ln = NULL;
}

static void world_free(world *w) {
  if (w->ln != NULL)
    node_stop(w);
  ethp2p_sim_destroy(w->sim);
  if (w->dir[0]) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    ck_assert_int_eq(system(cmd), 0);
  }
}

static void turn(world *w) {
  ethp2p_sim_run(w->sim, ETHP2P_MSEC);
}

static uint32_t rec_ip(const ethp2p_enr *r) {
  uint8_t ip[4];
  if (ethp2p_enr_ip_get(r, ip) != 0)
    return 0;
  return (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
}
static uint16_t rec_port(const ethp2p_enr *r, ethp2p_enr_port which) {
  uint16_t p = 0;
  (void)ethp2p_enr_port_get(r, which, &p);
  return p;
}

START_TEST(first_record_has_identity_and_seq_from_wall_clock) {
  world w;
  ethp2p_enr r;
  uint8_t id[32];
  world_init(&w, false);
  node_start(&w);
  ethp2p_localnode_id(w.ln, id);
  ck_assert_mem_eq(id, NODE_ID, 32);
  ck_assert_int_eq(ethp2p_localnode_record(w.ln, &r), 0);
  ck_assert_uint_eq(ethp2p_enr_seq(&r), (uint64_t)ethp2p_sim_wall_ms(w.sim) + 1);
  ck_assert_int_eq(ethp2p_enr_verify(&r, NULL), 0);
  ck_assert_int_eq(ethp2p_enr_node_id(id, &r), 0);
  ck_assert_mem_eq(id, NODE_ID, 32);
  ck_assert_uint_eq(ethp2p_enr_pair_count(&r), 2); /* id, secp256k1 */
  {
    char text[ETHP2P_ENR_TEXT_MAX + 1];
    ck_assert_int_eq(ethp2p_localnode_text(w.ln, text, sizeof text), 0);
    ck_assert_int_eq(strncmp(text, "enr:", 4), 0);
  }
  world_free(&w);
}
END_TEST

START_TEST(burst_of_changes_gives_one_version_on_next_turn) {
  world w;
  uint64_t s0;
  world_init(&w, false);
  node_start(&w);
  turn(&w);
  ck_assert_uint_eq(w.versions, 1);
  s0 = w.last_seq;
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  ethp2p_localnode_set_fallback_udp(w.ln, 30301);
  {
    ethp2p_addr ip = ethp2p_addr_v4(1, 2, 3, 4, 0);
    ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &ip), 0);
  }
  ck_assert_uint_eq(w.versions, 1); /* never inside the call */
  turn(&w);
  ck_assert_uint_eq(w.versions, 2);
  ck_assert_uint_eq(w.last_seq, s0 + 1);
  ck_assert_uint_eq(rec_ip(&w.last), 0x01020304u);
  ck_assert_uint_eq(rec_port(&w.last, ETHP2P_ENR_TCP), 30303);
  ck_assert_uint_eq(rec_port(&w.last, ETHP2P_ENR_UDP), 30301);
  /* setting the same values again is no change at all */
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  ethp2p_localnode_set_fallback_udp(w.ln, 30301);
  turn(&w);
  ck_assert_uint_eq(w.versions, 2);
  ck_assert_uint_eq(ethp2p_localnode_seq(w.ln), s0 + 1);
  world_free(&w);
}
END_TEST

START_TEST(change_undone_before_signing_gives_no_version) {
  world w;
  uint64_t s;
  world_init(&w, false);
  node_start(&w);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  turn(&w);
  s = w.last_seq;
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 40000), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  turn(&w);
  ck_assert_uint_eq(w.last_seq, s);
  ck_assert_uint_eq(ethp2p_localnode_seq(w.ln), s);
  world_free(&w);
}
END_TEST

START_TEST(record_signed_on_demand_before_subscribers_run) {
  world w;
  ethp2p_enr r;
  uint64_t s;
  world_init(&w, false);
  node_start(&w);
  turn(&w);
  s = w.last_seq;
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 1234), 0);
  ck_assert_int_eq(ethp2p_localnode_record(w.ln, &r), 0); /* lazily signed now */
  ck_assert_uint_eq(ethp2p_enr_seq(&r), s + 1);
  ck_assert_uint_eq(rec_port(&r, ETHP2P_ENR_TCP), 1234);
  turn(&w);
  /* subscribers still hear of that version, exactly once */
  ck_assert_uint_eq(w.versions, 2);
  ck_assert_uint_eq(w.last_seq, s + 1);
  turn(&w);
  ck_assert_uint_eq(w.versions, 2);
  world_free(&w);
}
END_TEST

START_TEST(endpoint_precedence_static_predicted_fallback) {
  world w;
  ethp2p_addr fb = ethp2p_addr_v4(10, 0, 0, 5, 0), st = ethp2p_addr_v4(3, 3, 3, 3, 0);
  ethp2p_addr pred = ethp2p_addr_v4(4, 4, 4, 4, 45000);
  world_init(&w, false);
  node_start(&w);
  ck_assert_int_eq(ethp2p_localnode_set_fallback_ip(w.ln, &fb), 0);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  turn(&w);
  ck_assert_uint_eq(rec_ip(&w.last), 0x0a000005u);
  ck_assert_uint_eq(rec_port(&w.last, ETHP2P_ENR_UDP), 30303);
  /* 9 statements are not enough, the 10th makes a prediction: IP and port */
  for (unsigned i = 0; i < 10; i++) {
    ethp2p_addr from = ethp2p_addr_v4(20, 1, 1, (uint8_t)i, 30303);
    ethp2p_localnode_udp_statement(w.ln, &from, &pred);
    turn(&w);
    if (i < 9)
      ck_assert_uint_eq(rec_ip(&w.last), 0x0a000005u);
  }
  ck_assert_uint_eq(rec_ip(&w.last), 0x04040404u);
  ck_assert_uint_eq(rec_port(&w.last, ETHP2P_ENR_UDP), 45000);
  /* a static IP beats the prediction and keeps the fallback UDP port */
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &st), 0);
  turn(&w);
  ck_assert_uint_eq(rec_ip(&w.last), 0x03030303u);
  ck_assert_uint_eq(rec_port(&w.last, ETHP2P_ENR_UDP), 30303);
  /* clearing it brings the prediction back; an IPv6 static IP is IPv6's own and
   * leaves the IPv4 endpoint alone (check_p2p_localnode_dualstack has the rest) */
  ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, NULL), 0);
  turn(&w);
  ck_assert_uint_eq(rec_ip(&w.last), 0x04040404u);
  {
    ethp2p_addr v6;
    uint8_t ip6[16];
    ck_assert_int_eq(ethp2p_addr_parse_ip(&v6, "2001:db8::1"), 0);
    ck_assert_int_eq(ethp2p_localnode_set_static_ip(w.ln, &v6), 0);
    turn(&w);
    ck_assert_uint_eq(rec_ip(&w.last), 0x04040404u);
    ck_assert_int_eq(ethp2p_enr_ip6_get(&w.last, ip6), 0);
    ck_assert_mem_eq(ip6, v6.ip, 16);
  }
  /* after 5 minutes the statements are stale: the next update falls back */
  ethp2p_sim_run(w.sim, 6 * ETHP2P_MIN);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  turn(&w);
  ck_assert_uint_eq(rec_ip(&w.last), 0x0a000005u);
  world_free(&w);
}
END_TEST

START_TEST(port_zero_removes_entries) {
  world w;
  world_init(&w, false);
  node_start(&w);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 30303), 0);
  ethp2p_localnode_set_fallback_udp(w.ln, 30303);
  turn(&w);
  ck_assert_uint_eq(rec_port(&w.last, ETHP2P_ENR_TCP), 30303);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 0), 0);
  ethp2p_localnode_set_fallback_udp(w.ln, 0);
  turn(&w);
  {
    uint16_t p;
    ck_assert_int_eq(ethp2p_enr_port_get(&w.last, ETHP2P_ENR_TCP, &p), ETHP2P_ENOTFOUND);
    ck_assert_int_eq(ethp2p_enr_port_get(&w.last, ETHP2P_ENR_UDP, &p), ETHP2P_ENOTFOUND);
  }
  world_free(&w);
}
END_TEST

START_TEST(oversized_entry_refused_record_unchanged) {
  world w;
  uint8_t big[260];
  uint64_t s;
  world_init(&w, false);
  node_start(&w);
  turn(&w);
  s = w.last_seq;
  big[0] = 0xb9;
  big[1] = 0x01;
  big[2] = 0x01;
  memset(big + 3, 0x42, sizeof big - 3);
  ck_assert_int_eq(ethp2p_localnode_set_raw(w.ln, "junk", big, 3 + 257), ETHP2P_ETOOBIG);
  turn(&w);
  ck_assert_uint_eq(ethp2p_localnode_seq(w.ln), s);
  ck_assert_int_eq(
      ethp2p_localnode_set_raw(w.ln, "eth", (const uint8_t *)"\xc7\xc6\x84\x01\x02\x03\x04\x80", 8),
      0);
  turn(&w);
  ck_assert_uint_eq(w.last_seq, s + 1);
  ck_assert_int_eq(ethp2p_localnode_del(w.ln, "eth"), 0);
  turn(&w);
  ck_assert_uint_eq(w.last_seq, s + 2);
  world_free(&w);
}
END_TEST

START_TEST(seq_persisted_and_raised_across_restarts) {
  world w;
  uint64_t s1, stored;
  uint8_t id1[32], id2[32];
  world_init(&w, true);
  node_start(&w);
  for (unsigned i = 0; i < 5; i++) {
    ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, (uint16_t)(30000 + i)), 0);
    turn(&w);
  }
  s1 = w.last_seq;
  ck_assert_int_eq(ethp2p_seqstore_read(w.dir, &stored), 0);
  ck_assert_uint_eq(stored, s1); /* stored at every signing */
  ethp2p_localnode_id(w.ln, id1);
  node_stop(&w);
  /* same wall clock again (the simulated world restarts nothing, but a real
   * clock may step back): the stored value wins */
  node_start(&w);
  ethp2p_localnode_id(w.ln, id2);
  ck_assert_mem_eq(id1, id2, 32);
  ck_assert_uint_eq(ethp2p_localnode_seq(w.ln), s1 + 1);
  node_stop(&w);
  /* a day later the clock is far ahead */
  ethp2p_sim_run(w.sim, ETHP2P_DAY);
  node_start(&w);
  ck_assert_uint_eq(ethp2p_localnode_seq(w.ln), (uint64_t)ethp2p_sim_wall_ms(w.sim) + 1);
  ck_assert_int_eq(ethp2p_localnode_seq_error(w.ln), 0);
  world_free(&w);
}
END_TEST

START_TEST(crash_mid_write_never_lowers_seq) {
  world w;
  uint64_t s1;
  char p[300];
  FILE *f;
  world_init(&w, true);
  node_start(&w);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 1), 0);
  turn(&w);
  s1 = w.last_seq;
  node_stop(&w);
  /* the process died while writing a new value: a torn temp file remains */
  snprintf(p, sizeof p, "%s/%s.tmp", w.dir, ETHP2P_SEQSTORE_FILE);
  f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  fputs("1", f);
  fclose(f);
  node_start(&w);
  ck_assert_uint_gt(ethp2p_localnode_seq(w.ln), s1);
  world_free(&w);
}
END_TEST

START_TEST(unwritable_datadir_reported_node_keeps_running) {
  world w;
  uint64_t s;
  char p[300];
  world_init(&w, true);
  node_start(&w);
  turn(&w);
  s = w.last_seq;
  snprintf(p, sizeof p, "%s/%s.tmp", w.dir, ETHP2P_SEQSTORE_FILE);
  ck_assert_int_eq(mkdir(p, 0700), 0); /* every save fails from now on */
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 7), 0);
  turn(&w);
  ck_assert_uint_eq(w.last_seq, s + 1);
  ck_assert_int_ne(ethp2p_localnode_seq_error(w.ln), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 8), 0);
  turn(&w);
  ck_assert_uint_eq(w.last_seq, s + 2); /* in-memory seq still rises */
  ck_assert_int_eq(rmdir(p), 0);
  ck_assert_int_eq(ethp2p_localnode_set_port(w.ln, ETHP2P_ENR_TCP, 9), 0);
  turn(&w);
  ck_assert_int_eq(ethp2p_localnode_seq_error(w.ln), 0); /* recovered */
  {
    uint64_t stored;
    ck_assert_int_eq(ethp2p_seqstore_read(w.dir, &stored), 0);
    ck_assert_uint_eq(stored, s + 3);
  }
  world_free(&w);
}
END_TEST

START_TEST(portmap_sink_drives_record) {
  world w;
  ethp2p_portmap_sink sink;
  ethp2p_addr ip = ethp2p_addr_v4(5, 6, 7, 8, 0);
  world_init(&w, false);
  node_start(&w);
  ethp2p_localnode_portmap_sink(w.ln, &sink);
  sink.set_ip(sink.data, &ip);
  sink.set_tcp(sink.data, 40001);
  sink.set_udp(sink.data, 40002);
  turn(&w);
  ck_assert_uint_eq(rec_ip(&w.last), 0x05060708u);
  ck_assert_uint_eq(rec_port(&w.last, ETHP2P_ENR_TCP), 40001);
  ck_assert_uint_eq(rec_port(&w.last, ETHP2P_ENR_UDP), 40002);
  sink.set_ip(sink.data, NULL);
  turn(&w);
  ck_assert_uint_eq(rec_ip(&w.last), 0);
  world_free(&w);
}
END_TEST

START_TEST(bad_arguments_refused) {
  world w;
  ethp2p_localnode *ln = NULL;
  ethp2p_nodekey zero;
  world_init(&w, false);
  memset(&zero, 0, sizeof zero);
  ck_assert_int_eq(ethp2p_localnode_create(w.env, &zero, NULL, &ln), ETHP2P_EKEY);
  ck_assert_ptr_null(ln);
  ck_assert_int_eq(ethp2p_localnode_create(NULL, &w.key, NULL, &ln), ETHP2P_EINVAL);
  world_free(&w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_localnode");
  TCase *tc = tcase_create("localnode");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, first_record_has_identity_and_seq_from_wall_clock);
  tcase_add_test(tc, burst_of_changes_gives_one_version_on_next_turn);
  tcase_add_test(tc, change_undone_before_signing_gives_no_version);
  tcase_add_test(tc, record_signed_on_demand_before_subscribers_run);
  tcase_add_test(tc, endpoint_precedence_static_predicted_fallback);
  tcase_add_test(tc, port_zero_removes_entries);
  tcase_add_test(tc, oversized_entry_refused_record_unchanged);
  tcase_add_test(tc, seq_persisted_and_raised_across_restarts);
  tcase_add_test(tc, crash_mid_write_never_lowers_seq);
  tcase_add_test(tc, unwritable_datadir_reported_node_keeps_running);
  tcase_add_test(tc, portmap_sink_drives_record);
  tcase_add_test(tc, bad_arguments_refused);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
