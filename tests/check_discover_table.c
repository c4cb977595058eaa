/*
 * tests/check_discover_table.c — the Kademlia table: bucket index by
 * log-distance, bucket size and replacements, subnet limits (2 per /24 per
 * bucket, 10 per /24 in the table, LAN exempt), revalidation results,
 * closest-first ordering, events; plus the log-distance helpers and node
 * parsing from enode URLs and records.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discover.h"
#include "ethp2p/keccak.h"
#include "ethp2p/secp.h"

static ethp2p_table tab;
static uint8_t self[32];

/* A node whose ID is exactly `id` (keys are not needed by the table). */
static ethp2p_discover_node mk(const uint8_t id[32], uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  ethp2p_discover_node n;
  memset(&n, 0, sizeof n);
  memcpy(n.id, id, 32);
  n.addr = ethp2p_addr_v4(a, b, c, d, 30303);
  return n;
}

/* An ID at log-distance 256 from self (top bit differs) with a distinct tail. */
static void far_id(uint8_t id[32], unsigned k) {
  memcpy(id, self, 32);
  id[0] ^= 0x80;
  id[30] = (uint8_t)(k >> 8);
  id[31] ^= (uint8_t)(k + 1);
}

static void setup(void) {
  memset(self, 0x11, 32);
  ethp2p_table_init(&tab, self);
}

START_TEST(log_distance_and_bucket_index_follow_go_ethereum) {
  uint8_t a[32] = {0}, b[32] = {0};
  setup();
  ck_assert_uint_eq(ethp2p_discover_logdist(a, b), 0);
  b[31] = 1;
  ck_assert_uint_eq(ethp2p_discover_logdist(a, b), 1);
  b[0] = 0x80;
  ck_assert_uint_eq(ethp2p_discover_logdist(a, b), 256);
  b[0] = 0x01;
  ck_assert_uint_eq(ethp2p_discover_logdist(a, b), 249);
  /* bucket 0 takes log-distances <= 239, buckets 1..16 take 240..256 */
  uint8_t id[32];
  memcpy(id, self, 32);
  ck_assert_int_eq(ethp2p_table_bucket_index(&tab, id), -1);
  id[31] ^= 1;
  ck_assert_int_eq(ethp2p_table_bucket_index(&tab, id), 0);
  memcpy(id, self, 32);
  id[2] ^= 0x80; /* log-distance 240 */
  ck_assert_int_eq(ethp2p_table_bucket_index(&tab, id), 0);
  id[2] ^= 0x80;
  id[1] ^= 0x01; /* 241 */
  ck_assert_int_eq(ethp2p_table_bucket_index(&tab, id), 1);
  far_id(id, 0);
  ck_assert_int_eq(ethp2p_table_bucket_index(&tab, id), 16);
  /* distcmp */
  memset(a, 0, 32);
  memset(b, 0, 32);
  uint8_t t[32] = {0};
  a[31] = 1;
  b[31] = 2;
  ck_assert_int_eq(ethp2p_discover_distcmp(t, a, b), -1);
  ck_assert_int_eq(ethp2p_discover_distcmp(t, b, a), 1);
  ck_assert_int_eq(ethp2p_discover_distcmp(t, a, a), 0);
}
END_TEST

START_TEST(full_bucket_keeps_ten_replacements_and_promotes_on_failure) {
  uint8_t id[32];
  ethp2p_discover_node n;
  setup();
  for (unsigned k = 0; k < 16; k++) {
    far_id(id, k);
    n = mk(id, 30, (uint8_t)k, 0, 1); /* each in its own /24 */
    ck_assert_int_eq(ethp2p_table_add_seen(&tab, &n, 1), 1);
  }
  ck_assert_uint_eq(ethp2p_table_len(&tab), 16);
  for (unsigned k = 16; k < 30; k++) {
    far_id(id, k);
    n = mk(id, 30, (uint8_t)k, 0, 1);
    ck_assert_int_eq(ethp2p_table_add_seen(&tab, &n, 2), 0);
  }
  ck_assert_uint_eq(tab.buckets[16].nrepl, 10);
  ck_assert_uint_eq(ethp2p_table_len(&tab), 16);
  /* the newest replacement (k = 29) takes the place of a node that fails */
  far_id(id, 3);
  ck_assert_int_eq(ethp2p_table_checked(&tab, id, false, 0, 3), 0);
  ck_assert_ptr_null(ethp2p_table_find(&tab, id));
  far_id(id, 29);
  ck_assert_ptr_nonnull(ethp2p_table_find(&tab, id));
  ck_assert_uint_eq(ethp2p_table_len(&tab), 16);
  ck_assert_uint_eq(tab.buckets[16].nrepl, 9);
  /* a node that answers moves to the front with its seq */
  far_id(id, 0);
  ck_assert_int_eq(ethp2p_table_checked(&tab, id, true, 7, 4), 0);
  ck_assert_mem_eq(tab.buckets[16].entries[0].node.id, id, 32);
  ck_assert_uint_eq(tab.buckets[16].entries[0].node.seq, 7);
  ck_assert_uint_eq(tab.buckets[16].entries[0].checks, 1);
}
END_TEST

START_TEST(subnet_limits_two_per_bucket_and_ten_per_table) {
  uint8_t id[32];
  ethp2p_discover_node n;
  setup();
  /* same /24 (40.1.2.x) in one bucket: the third is refused */
  for (unsigned k = 0; k < 3; k++) {
    far_id(id, k);
    n = mk(id, 40, 1, 2, (uint8_t)(k + 1));
    ck_assert_int_eq(ethp2p_table_add_seen(&tab, &n, 1), k < 2 ? 1 : ETHP2P_EBUSY);
  }
  /* across buckets: at most 10 in the table */
  int added = 0;
  for (unsigned b = 1; b <= 15; b++) {
    for (unsigned k = 0; k < 2; k++) {
      memcpy(id, self, 32);
      /* log-distance 240 + b - 1 ... lands in bucket b - 1 + ... */
      unsigned bit = 239 + b; /* 240..254 */
      id[(256 - bit) / 8] ^= (uint8_t)(1u << ((bit - 1) % 8));
      id[31] ^= (uint8_t)(0x40 + k);
      n = mk(id, 40, 1, 2, (uint8_t)(10 + 2 * b + k));
      if (ethp2p_table_add_seen(&tab, &n, 1) == 1)
        added++;
    }
  }
  ck_assert_int_eq(added, 8); /* 2 already in bucket 16 + 8 = 10 */
  ck_assert_uint_eq(ethp2p_table_len(&tab), 10);
  /* LAN and loopback addresses are exempt */
  for (unsigned k = 10; k < 14; k++) {
    far_id(id, k);
    n = mk(id, 192, 168, 1, (uint8_t)k);
    ck_assert_int_eq(ethp2p_table_add_seen(&tab, &n, 1), 1);
  }
  /* our own ID and address-less nodes never enter */
  n = mk(self, 1, 2, 3, 4);
  ck_assert_int_eq(ethp2p_table_add_seen(&tab, &n, 1), ETHP2P_EINVAL);
  far_id(id, 99);
  n = mk(id, 1, 2, 3, 4);
  n.addr.port = 0;
  ck_assert_int_eq(ethp2p_table_add_found(&tab, &n, 1), ETHP2P_EINVAL);
}
END_TEST

START_TEST(closest_returns_nodes_sorted_by_distance_to_target) {
  uint8_t id[32], target[32];
  ethp2p_discover_node n, out[8];
  setup();
  for (unsigned k = 0; k < 40; k++) {
    uint8_t seed[2] = {(uint8_t)k, 0x5a};
    ethp2p_keccak256(id, seed, 2);
    n = mk(id, 50, (uint8_t)k, 1, 1);
    (void)ethp2p_table_add_found(&tab, &n, 1);
  }
  memset(target, 0xee, 32);
  size_t got = ethp2p_table_closest(&tab, target, out, 8);
  ck_assert_uint_eq(got, 8);
  for (size_t i = 1; i < got; i++)
    ck_assert_int_le(ethp2p_discover_distcmp(target, out[i - 1].id, out[i].id), 0);
  /* nothing in the table is closer than the last one returned, unless returned */
  ethp2p_discover_node all[300];
  size_t na = ethp2p_table_nodes(&tab, all, 300);
  ck_assert_uint_eq(na, ethp2p_table_len(&tab));
  for (size_t i = 0; i < na; i++) {
    bool in = false;
    for (size_t j = 0; j < got; j++)
      in = in || memcmp(all[i].id, out[j].id, 32) == 0;
    if (!in)
      ck_assert_int_ge(ethp2p_discover_distcmp(target, all[i].id, out[got - 1].id), 0);
  }
}
END_TEST

static int added_ev, removed_ev;
static void on_ev(void *data, ethp2p_table_event ev, const ethp2p_discover_node *n) {
  (void)data;
  (void)n;
  if (ev == ETHP2P_TABLE_ADDED)
    added_ev++;
  else
    removed_ev++;
}

START_TEST(events_report_additions_and_removals) {
  uint8_t id[32];
  ethp2p_discover_node n;
  setup();
  added_ev = removed_ev = 0;
  ethp2p_table_set_events(&tab, on_ev, NULL);
  far_id(id, 1);
  n = mk(id, 60, 0, 0, 1);
  ck_assert_int_eq(ethp2p_table_add_seen(&tab, &n, 1), 1);
  ck_assert_int_eq(ethp2p_table_add_seen(&tab, &n, 2), 1); /* already there: no event */
  ck_assert_int_eq(ethp2p_table_remove(&tab, id), 0);
  ck_assert_int_eq(ethp2p_table_remove(&tab, id), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(added_ev, 1);
  ck_assert_int_eq(removed_ev, 1);
  ck_assert_ptr_null(ethp2p_table_pick_check(&tab, 5));
}
END_TEST

START_TEST(nodes_parse_from_enode_urls_and_records) {
  ethp2p_discover_node n;
  ethp2p_enr rec, back;
  ethp2p_diag diag;
  uint8_t sk[32], pub[64];
  char url[300], text[ETHP2P_ENR_TEXT_MAX + 1];
  memset(sk, 0x07, 32);
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub, sk), 0);
  ethp2p_addr a = ethp2p_addr_v4(127, 0, 0, 1, 30301);
  ck_assert_int_eq(ethp2p_discover_node_init(&n, pub, &a, 30303), 0);
  ck_assert_int_gt(ethp2p_discover_node_format(&n, url, sizeof url), 0);
  ck_assert(strstr(url, "@127.0.0.1:30303?discport=30301") != NULL);
  ethp2p_discover_node p;
  ck_assert_int_eq(ethp2p_discover_node_parse(&p, NULL, url, &diag), 0);
  ck_assert_mem_eq(p.id, n.id, 32);
  ck_assert(ethp2p_addr_equal(&p.addr, &a, true));
  ck_assert_uint_eq(p.tcp, 30303);
  /* a record */
  ethp2p_enr_init(&rec);
  ck_assert_int_eq(ethp2p_enr_ip_set(&rec, a.ip), 0);
  ck_assert_int_eq(ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP, 30301), 0);
  ck_assert_int_eq(ethp2p_enr_sign(&rec, sk), 0);
  ck_assert_int_eq(ethp2p_enr_text_encode(text, sizeof text, NULL, &rec), 0);
  ck_assert_int_eq(ethp2p_discover_node_parse(&p, &back, text, &diag), 0);
  ck_assert_mem_eq(p.id, n.id, 32);
  ck_assert_uint_eq(p.addr.port, 30301);
  ck_assert_uint_eq(p.seq, ethp2p_enr_seq(&rec));
  /* invalid input: clear errors, zeroed output */
  ck_assert_int_eq(ethp2p_discover_node_parse(&p, NULL, "enode://1234", &diag), ETHP2P_ESYNTAX);
  ck_assert_int_lt(ethp2p_discover_node_parse(&p, NULL, "enr:-garbage", &diag), 0);
  snprintf(url, sizeof url, "enode://");
  for (int i = 0; i < 64; i++)
    snprintf(url + strlen(url), sizeof url - strlen(url), "%02x", pub[i]);
  ck_assert_int_eq(ethp2p_discover_node_parse(&p, NULL, url, &diag), ETHP2P_EINVAL);
  ck_assert(strstr(diag.msg, "no IP") != NULL);
  uint8_t zero[32] = {0};
  ck_assert_mem_eq(p.id, zero, 32);
  /* a record without an endpoint */
  ethp2p_enr_init(&rec);
  ck_assert_int_eq(ethp2p_enr_sign(&rec, sk), 0);
  ck_assert_int_eq(ethp2p_enr_text_encode(text, sizeof text, NULL, &rec), 0);
  ck_assert_int_eq(ethp2p_discover_node_parse(&p, NULL, text, &diag), ETHP2P_EINVAL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("discover_table");
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, log_distance_and_bucket_index_follow_go_ethereum);
  tcase_add_test(tc, full_bucket_keeps_ten_replacements_and_promotes_on_failure);
  tcase_add_test(tc, subnet_limits_two_per_bucket_and_ten_per_table);
  tcase_add_test(tc, closest_returns_nodes_sorted_by_distance_to_target);
  tcase_add_test(tc, events_report_additions_and_removals);
  tcase_add_test(tc, nodes_parse_from_enode_urls_and_records);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
