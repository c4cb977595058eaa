/*
 * tests/check_p2p_server_rlpx.c — RLPx run by the server in the simulated
 * world: two servers with a tiny protocol find each other from one bootnode,
 * connect and exchange a message each way; the bootnode, sharing no
 * capability, disconnects them as "useless peer"; a malformed
 * static-nodes.json and a port in use are start errors that write nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ethp2p/server.h"
#include "ethp2p/sim.h"

static ethp2p_sim *sim;

typedef struct side {
  char tag;       /* 'A' or 'B' */
  int proto;      /* id from registration */
  int added;      /* peer_added calls */
  int received;   /* code-0 messages received */
  uint8_t got[8]; /* last one's payload */
  size_t gotlen;
} side;

static side sides[2];
static int useless_seen; /* events with reason "useless peer" */

static void tiny_added(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, void *data) {
  side *s = data;
  uint8_t msg[4] = {0x83, 't', '-', (uint8_t)s->tag}; /* RLP string "t-A" / "t-B" */
  (void)h;
  s->added++;
  ck_assert_int_eq(ethp2p_rlpx_peer_send(p, s->proto, 0, msg, sizeof msg), 0);
}
static void tiny_message(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, uint32_t code,
                         const uint8_t *payload, size_t len, void *data) {
  side *s = data;
  (void)h, (void)p;
  if (code != 0 || len > sizeof s->got)
    return;
  s->received++;
  memcpy(s->got, payload, len);
  s->gotlen = len;
}
static void tiny_removed(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p,
                         const ethp2p_rlpx_close_info *info, void *data) {
  (void)h, (void)p, (void)info, (void)data;
}
static void on_event(ethp2p_server *srv, const ethp2p_rlpx_event *ev, void *data) {
  (void)srv, (void)data;
  if ((ev->kind == ETHP2P_RLPX_EV_REJECTED || ev->kind == ETHP2P_RLPX_EV_REMOVED) &&
      ev->info.reason == ETHP2P_RLPX_DISC_USELESS_PEER)
    useless_seen++;
}

static ethp2p_server *start_at(int i, const char *boot, side *s, const char *datadir) {
  ethp2p_sim_host *h;
  ethp2p_server_config c;
  ethp2p_server *srv;
  ethp2p_diag diag = {0};
  ethp2p_rlpx_protocol tiny;
  char name[16];
  ethp2p_addr a = ethp2p_addr_v4(20, (uint8_t)(i + 1), 0, 1, 0);
  const char *b[1] = {boot};

  snprintf(name, sizeof name, "pub%d", i);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, name, &a), 0);
  ethp2p_server_config_default(&c);
  c.nat.kind = ETHP2P_NAT_NONE;
  c.datadir = datadir;
  c.rlpx_event = on_event;
  if (boot != NULL) {
    c.bootnodes = b;
    c.nbootnodes = 1;
  }
  memset(&tiny, 0, sizeof tiny);
  tiny.name = "tiny";
  tiny.version = 1;
  tiny.length = 2;
  tiny.peer_added = tiny_added;
  tiny.message = tiny_message;
  tiny.peer_removed = tiny_removed;
  tiny.data = s;
  if (s != NULL) {
    c.protocols = &tiny;
    c.nprotocols = 1;
  }
  int rc = ethp2p_server_start(ethp2p_sim_host_env(h), &c, &srv, &diag);
  ck_assert_msg(rc == 0, "start: %s (%s)", ethp2p_strerror(rc), diag.msg);
  ck_assert_ptr_nonnull(ethp2p_server_rlpx(srv));
  if (s != NULL)
    s->proto = 0; /* the first of cfg.protocols */
  return srv;
}

static void boot_url(ethp2p_server *boot, char *url, size_t cap) {
  ethp2p_enr rec;
  ethp2p_discover_node bn;
  ck_assert_int_eq(ethp2p_localnode_record(ethp2p_server_localnode(boot), &rec), 0);
  ck_assert_int_eq(ethp2p_discover_node_from_record(&bn, &rec), 0);
  bn.addr = ethp2p_addr_v4(20, 1, 0, 1, ethp2p_server_udp_addr(boot).port);
  ck_assert_int_gt(ethp2p_discover_node_format(&bn, url, cap), 0);
}

START_TEST(two_servers_find_each_other_and_talk_over_rlpx) {
  ethp2p_server *boot, *a, *b;
  char url[300];
  ethp2p_rlpx_host_stats st;

  ck_assert_int_eq(ethp2p_sim_create(&sim, 11), 0);
  memset(sides, 0, sizeof sides);
  sides[0].tag = 'A';
  sides[1].tag = 'B';
  useless_seen = 0;
  boot = start_at(0, NULL, NULL, NULL); /* no protocol at all */
  boot_url(boot, url, sizeof url);
  a = start_at(1, url, &sides[0], NULL);
  b = start_at(2, url, &sides[1], NULL);
  /* registering after the first peer is refused by the host, not before */
  ethp2p_sim_run(sim, 2 * ETHP2P_MIN);

  ck_assert_int_ge(sides[0].added, 1);
  ck_assert_int_ge(sides[1].added, 1);
  ck_assert_int_ge(sides[0].received, 1);
  ck_assert_int_ge(sides[1].received, 1);
  ck_assert_uint_eq(sides[0].gotlen, 4);
  ck_assert_mem_eq(sides[0].got, "\x83t-B", 4);
  ck_assert_uint_eq(sides[1].gotlen, 4);
  ck_assert_mem_eq(sides[1].got, "\x83t-A", 4);
  ethp2p_rlpx_host_stats_get(ethp2p_server_rlpx(a), &st);
  ck_assert_uint_eq(st.peers, 1); /* B only: the bootnode is useless */
  /* the bootnode shares nothing: it disconnected whoever connected */
  ethp2p_rlpx_host_stats_get(ethp2p_server_rlpx(boot), &st);
  ck_assert_uint_eq(st.peers, 0);
  ck_assert_uint_ge(st.reasons_sent[ETHP2P_RLPX_DISC_USELESS_PEER] +
                        st.reasons_received[ETHP2P_RLPX_DISC_USELESS_PEER],
                    1);
  ck_assert_int_ge(useless_seen, 1);
  ethp2p_rlpx_protocol late = {.name = "late", .version = 1, .length = 1};
  ck_assert_int_eq(ethp2p_server_register_protocol(a, &late), ETHP2P_ESTATE);

  ethp2p_server_destroy(a);
  ethp2p_server_destroy(b);
  ethp2p_server_destroy(boot);
  ethp2p_sim_destroy(sim);
  sim = NULL;
}
END_TEST

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}
static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

START_TEST(bad_node_files_and_busy_ports_write_nothing) {
  char dir[] = "/tmp/ethp2p_srv_rlpx_XXXXXX", path[256], key[256];
  ethp2p_sim_host *h;
  ethp2p_server_config c;
  ethp2p_server *s = NULL, *first = NULL;
  ethp2p_diag diag;

  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(key, sizeof key, "%s/nodekey", dir);
  ck_assert_int_eq(ethp2p_sim_create(&sim, 5), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, "h", NULL), 0);
  ethp2p_server_config_default(&c);
  c.nat.kind = ETHP2P_NAT_NONE;
  c.nodiscover = true;
  c.datadir = dir;

  /* a malformed static-nodes.json */
  snprintf(path, sizeof path, "%s/static-nodes.json", dir);
  write_file(path, "[\"enode://zz@1.2.3.4:30303\"]");
  memset(&diag, 0, sizeof diag);
  ck_assert_int_lt(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &s, &diag), 0);
  ck_assert_ptr_null(s);
  ck_assert_msg(strstr(diag.msg, "static-nodes.json") != NULL, "diag: %s", diag.msg);
  ck_assert(!exists(key));
  /* a malformed trusted-nodes.json (static now fine) */
  write_file(path, "[]");
  snprintf(path, sizeof path, "%s/trusted-nodes.json", dir);
  write_file(path, "[\"enode://");
  memset(&diag, 0, sizeof diag);
  ck_assert_int_lt(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &s, &diag), 0);
  ck_assert_msg(strstr(diag.msg, "trusted-nodes.json") != NULL, "diag: %s", diag.msg);
  ck_assert(!exists(key));
  unlink(path);

  /* the ports in use: no key file either */
  c.datadir = NULL;
  ck_assert_int_eq(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &first, NULL), 0);
  c.datadir = dir;
  memset(&diag, 0, sizeof diag);
  ck_assert_int_eq(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &s, &diag), ETHP2P_EADDRINUSE);
  ck_assert(!exists(key));
  ethp2p_server_destroy(first);
  /* and with the ports free, the key file is created */
  ck_assert_int_eq(ethp2p_server_start(ethp2p_sim_host_env(h), &c, &s, &diag), 0);
  ck_assert(exists(key));
  ethp2p_server_destroy(s);

  snprintf(path, sizeof path, "%s/static-nodes.json", dir);
  unlink(path);
  unlink(key);
  snprintf(path, sizeof path, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(path), 0);
  ethp2p_sim_destroy(sim);
  sim = NULL;
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_server_rlpx");
  TCase *tc = tcase_create("server_rlpx");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, two_servers_find_each_other_and_talk_over_rlpx);
  tcase_add_test(tc, bad_node_files_and_busy_ports_write_nothing);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
