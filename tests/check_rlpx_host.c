/* tests/check_rlpx_host.c — the RLPx host in the simulated world: protocols on
 * shared offsets, useless peers, peer limits and trusted nodes, self and
 * duplicate dials, the inbound throttle, static nodes redialed after a loss. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"
#include "ethp2p/sim.h"

#define NODES 4

typedef struct node {
  ethp2p_sim_host *sh;
  ethp2p_rlpx_host *h;
  uint8_t key[32], pub[64];
  int proto_tiny, proto_aaa;
  int added, removed, msgs, rejected, failed;
  uint32_t last_code;
  size_t last_len;
  uint8_t last[64];
  ethp2p_rlpx_peer *last_peer;
  ethp2p_rlpx_close_info last_info;
  int echo; /* answer tiny code 0 with code 1 */
} node;

static ethp2p_sim *w;
static node N[NODES];

static void tiny_added(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, void *data) {
  node *n = data;
  (void)h;
  n->added++;
  n->last_peer = p;
}
static void tiny_msg(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, uint32_t code, const uint8_t *pl,
                     size_t len, void *data) {
  node *n = data;
  (void)h;
  n->msgs++;
  n->last_code = code;
  n->last_len = len < sizeof n->last ? len : sizeof n->last;
  memcpy(n->last, pl, n->last_len);
  if (n->echo && code == 0)
    ck_assert_int_eq(ethp2p_rlpx_peer_send(p, n->proto_tiny, 1, pl, len), 0);
}
static void tiny_removed(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p,
                         const ethp2p_rlpx_close_info *info, void *data) {
  node *n = data;
  (void)h;
  n->removed++;
  n->last_info = *info;
  if (n->last_peer == p)
    n->last_peer = NULL;
}
static void on_event(ethp2p_rlpx_host *h, const ethp2p_rlpx_event *ev, void *data) {
  node *n = data;
  (void)h;
  if (ev->kind == ETHP2P_RLPX_EV_REJECTED) {
    n->rejected++;
    n->last_info = ev->info;
  } else if (ev->kind == ETHP2P_RLPX_EV_FAILED) {
    n->failed++;
    n->last_info = ev->info;
  }
}

static void make_node_on(int i, size_t max_peers, bool with_tiny, ethp2p_sim_host *on);
static void make_node(int i, size_t max_peers, bool with_tiny) {
  make_node_on(i, max_peers, with_tiny, NULL);
}

static void make_node_on(int i, size_t max_peers, bool with_tiny, ethp2p_sim_host *on) {
  node *n = &N[i];
  ethp2p_rlpx_host_config cfg;
  ethp2p_rlpx_protocol tiny = {"tiny", 1, 2, tiny_added, tiny_msg, tiny_removed, n};
  ethp2p_rlpx_protocol aaa = {"aaa", 1, 3, NULL, NULL, NULL, NULL};
  ethp2p_rlpx_protocol other = {"other", 1, 1, NULL, NULL, NULL, NULL};
  ethp2p_addr bind = ethp2p_addr_v4(0, 0, 0, 0, 30303);
  char name[8] = "n0";
  size_t k;
  name[1] = (char)('0' + i);
  memset(n, 0, sizeof *n);
  for (k = 0; k < 32; k++)
    n->key[k] = (uint8_t)(i * 16 + k + 1);
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, n->pub, n->key), 0);
  if (on != NULL)
    n->sh = on;
  else
    ck_assert_int_eq(ethp2p_sim_host_create_public(w, &n->sh, name, NULL), 0);
  memset(&cfg, 0, sizeof cfg);
  cfg.secret = n->key;
  cfg.client_id = name;
  cfg.listen_port = 30303;
  cfg.max_peers = max_peers;
  cfg.on_event = on_event;
  cfg.event_data = n;
  ck_assert_int_eq(ethp2p_rlpx_host_create(&n->h, ethp2p_sim_host_env(n->sh), &cfg), 0);
  if (with_tiny) {
    n->proto_aaa = ethp2p_rlpx_host_register(n->h, &aaa);
    n->proto_tiny = ethp2p_rlpx_host_register(n->h, &tiny);
    ck_assert_int_eq(n->proto_aaa, 0);
    ck_assert_int_eq(n->proto_tiny, 1);
    ck_assert_int_eq(ethp2p_rlpx_host_register(n->h, &tiny), ETHP2P_EEXIST);
  } else {
    ck_assert_int_eq(ethp2p_rlpx_host_register(n->h, &other), 0);
  }
  ck_assert_int_eq(ethp2p_rlpx_host_listen(n->h, &bind), 0);
}

static ethp2p_addr addr_of(int i) {
  ethp2p_addr a = ethp2p_sim_host_addr(N[i].sh);
  a.port = 30303;
  return a;
}

static void setup(void) {
  ck_assert_int_eq(ethp2p_sim_create(&w, 11), 0);
}
static void teardown(void) {
  int i;
  for (i = 0; i < NODES; i++)
    ethp2p_rlpx_host_destroy(N[i].h);
  memset(N, 0, sizeof N);
  ethp2p_sim_destroy(w);
}

START_TEST(two_hosts_run_a_protocol_on_its_shared_offset) {
  ethp2p_rlpx_host_stats st;
  make_node(0, 0, true);
  make_node(1, 0, true);
  N[1].echo = 1;
  {
    ethp2p_addr none;
    memset(&none, 0, sizeof none);
    ck_assert_int_ne(ethp2p_rlpx_host_dial(N[0].h, N[1].pub, &none), 0);
    ethp2p_rlpx_host_stats_get(N[0].h, &st);
    ck_assert_uint_eq(st.dials, 0);
  }
  make_node(2, 0, true);
  {
    ethp2p_addr to = addr_of(1);
    ck_assert_int_eq(ethp2p_rlpx_host_dial(N[2].h, N[1].pub, &to), 0);
    ck_assert_int_eq(ethp2p_rlpx_host_dial(N[2].h, N[1].pub, &to), ETHP2P_EEXIST);
  }
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(N[2].added, 1);
  ck_assert_int_eq(N[1].added, 1);
  ck_assert(!ethp2p_rlpx_peer_inbound(N[2].last_peer));
  ck_assert(ethp2p_rlpx_peer_inbound(N[1].last_peer));
  ck_assert_mem_eq(ethp2p_rlpx_peer_pub(N[1].last_peer), N[2].pub, 64);
  ck_assert_str_eq(ethp2p_rlpx_peer_hello(N[1].last_peer)->client_id, "n2");
  ck_assert_uint_eq(ethp2p_rlpx_peer_version(N[1].last_peer, N[1].proto_tiny), 1);
  ck_assert_int_eq(
      ethp2p_rlpx_peer_send(N[2].last_peer, N[2].proto_tiny, 2, (const uint8_t *)"\x80", 1),
      ETHP2P_EINVAL); /* tiny has 2 codes */
  ck_assert_int_eq(
      ethp2p_rlpx_peer_send(N[2].last_peer, N[2].proto_aaa, 0, (const uint8_t *)"\x80", 1), 0);
  ck_assert_int_eq(
      ethp2p_rlpx_peer_send(N[2].last_peer, N[2].proto_tiny, 0, (const uint8_t *)"\x83hey", 4), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  /* aaa (3 codes) sits at 0x10, tiny at 0x13: the code arrives relative */
  ck_assert_int_eq(N[1].msgs, 1);
  ck_assert_uint_eq(N[1].last_code, 0);
  ck_assert_int_eq(N[2].msgs, 1);
  ck_assert_uint_eq(N[2].last_code, 1);
  ck_assert_mem_eq(N[2].last, "\x83hey", 4);
  ethp2p_rlpx_host_stats_get(N[1].h, &st);
  ck_assert_uint_eq(st.peers, 1);
  ck_assert_uint_eq(st.inbound, 1);
  ck_assert_uint_eq(st.accepts, 1);
  ck_assert_uint_gt(st.bytes_in, 400);
  /* Disconnect: both sides see peer_removed, the remote with our reason */
  ethp2p_rlpx_peer_disconnect(N[2].last_peer, ETHP2P_RLPX_DISC_SUBPROTOCOL);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(N[2].removed, 1);
  ck_assert_int_eq(N[1].removed, 1);
  ck_assert(N[1].last_info.remote);
  ck_assert_int_eq(N[1].last_info.reason, ETHP2P_RLPX_DISC_SUBPROTOCOL);
  ethp2p_rlpx_host_stats_get(N[1].h, &st);
  ck_assert_uint_eq(st.peers, 0);
  ck_assert_uint_eq(st.reasons_received[12], 1);
  ethp2p_rlpx_host_stats_get(N[2].h, &st);
  ck_assert_uint_eq(st.reasons_sent[12], 1);
}
END_TEST

START_TEST(peer_without_a_shared_capability_is_a_useless_peer) {
  ethp2p_addr to;
  make_node(0, 0, true);
  make_node(1, 0, false);
  to = addr_of(1);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[0].h, N[1].pub, &to), 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added + N[1].added, 0);
  ck_assert_int_eq(N[0].rejected, 1);
  ck_assert_int_eq(N[0].last_info.reason, ETHP2P_RLPX_DISC_USELESS_PEER);
  ck_assert_int_eq(N[1].rejected, 1);
  ck_assert_int_eq(N[1].last_info.reason, ETHP2P_RLPX_DISC_USELESS_PEER);
}
END_TEST

START_TEST(peers_beyond_max_peers_are_refused_unless_trusted) {
  ethp2p_addr to;
  make_node(0, 1, true); /* max 1 peer: 1 dialed slot, 0 inbound slots */
  make_node(1, 0, true);
  make_node(2, 0, true);
  to = addr_of(0);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[1].h, N[0].pub, &to), 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 0);
  ck_assert_int_eq(N[0].rejected, 1);
  /* the dialer saw the Hello first, then the peer's Disconnect */
  ck_assert_int_eq(N[1].removed, 1);
  ck_assert(N[1].last_info.remote);
  ck_assert_int_eq(N[1].last_info.reason, ETHP2P_RLPX_DISC_TOO_MANY_PEERS);
  ck_assert_int_eq(ethp2p_rlpx_host_add_trusted(N[0].h, N[2].pub), 0);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[2].h, N[0].pub, &to), 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 1);
  ck_assert_int_eq(N[2].added, 1);
  /* and the one dialed slot: a second dial is refused up front */
  to = addr_of(1);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[0].h, N[1].pub, &to), 0);
  to = addr_of(2);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[0].h, N[3].pub, &to), ETHP2P_EBUSY);
}
END_TEST

START_TEST(dialing_ourselves_is_refused_after_the_hello) {
  ethp2p_addr to;
  make_node(0, 0, true);
  to = addr_of(0);
  /* Self-dial over the public address: the inbound side sees its own key. */
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[0].h, N[0].pub, &to), 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 0);
  ck_assert_int_ge(N[0].rejected, 1);
  ck_assert_int_eq(N[0].last_info.reason, ETHP2P_RLPX_DISC_SELF);
}
END_TEST

START_TEST(repeated_connections_from_one_public_ip_are_throttled) {
  ethp2p_rlpx_host_stats st;
  ethp2p_addr to;
  make_node(0, 0, true);
  make_node(1, 0, true);
  to = addr_of(0);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[1].h, N[0].pub, &to), 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 1);
  ethp2p_rlpx_peer_disconnect(N[1].last_peer, ETHP2P_RLPX_DISC_REQUESTED);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[1].h, N[0].pub, &to), 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ethp2p_rlpx_host_stats_get(N[0].h, &st);
  ck_assert_uint_eq(st.throttled, 1);
  ck_assert_int_eq(N[0].added, 1);
  ck_assert_int_eq(N[1].failed, 1);   /* closed before the handshake */
  ethp2p_sim_run(w, 30 * ETHP2P_SEC); /* the window passes */
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[1].h, N[0].pub, &to), 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 2);
}
END_TEST

START_TEST(static_node_is_redialed_after_a_loss) {
  ethp2p_addr to;
  make_node(0, 0, true);
  make_node(1, 0, true);
  to = addr_of(1);
  ck_assert_int_eq(ethp2p_rlpx_host_add_static(N[0].h, N[1].pub, &to), 0);
  ck_assert_int_eq(ethp2p_rlpx_host_add_static(N[0].h, N[1].pub, &to), ETHP2P_EEXIST);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 1);
  ethp2p_rlpx_peer_disconnect(N[1].last_peer, ETHP2P_RLPX_DISC_REQUESTED);
  ethp2p_sim_run(w, 3 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].removed, 1);
  ck_assert_int_eq(N[0].added, 1);
  /* Redials after 5, 10, 20 s of back-off; n1 throttles its IP for 30 s after
   * the first accept, so the third redial (at ~37 s) gets through. */
  ethp2p_sim_run(w, 20 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 1);
  ck_assert_int_ge(N[0].failed, 2);
  ethp2p_sim_run(w, 20 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 2);
}
END_TEST

START_TEST(candidates_are_dialed_as_slots_free_up) {
  ethp2p_rlpx_host_stats st;
  ethp2p_addr to;
  int i;
  make_node(0, 6, true); /* 6 / 3 = 2 dialed slots */
  for (i = 1; i <= 3; i++) {
    make_node(i, 0, true);
    to = addr_of(i);
    ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[i].pub, &to), 0);
    ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[i].pub, &to), ETHP2P_EEXIST);
  }
  ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[0].pub, &to), ETHP2P_EEXIST);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ethp2p_rlpx_host_stats_get(N[0].h, &st);
  ck_assert_int_eq(N[0].added, 2);
  ck_assert_uint_eq(st.dialed, 2);
  ck_assert_uint_eq(st.queued, 1);
  /* n1 leaves: the slot goes to the queued n3 */
  ethp2p_rlpx_peer_disconnect(N[1].last_peer, ETHP2P_RLPX_DISC_REQUESTED);
  ethp2p_sim_run(w, 3 * ETHP2P_SEC);
  ethp2p_rlpx_host_stats_get(N[0].h, &st);
  ck_assert_int_eq(N[0].added, 3);
  ck_assert_int_eq(N[3].added, 1);
  ck_assert_uint_eq(st.queued, 0);
  ck_assert_uint_eq(st.dialed, 2);
  /* n1 just had a session: it waits 30 s before it is a candidate again */
  to = addr_of(1);
  ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[1].pub, &to), ETHP2P_EBUSY);
}
END_TEST

START_TEST(failed_candidate_backs_off_doubling) {
  ethp2p_addr to;
  make_node(0, 0, true);
  make_node(1, 0, true);
  to = addr_of(1);
  to.port = 9; /* nobody listens: connection refused */
  ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[1].pub, &to), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(N[0].failed, 1);
  ck_assert_int_eq(N[0].last_info.error, ETHP2P_ECONNREFUSED);
  {
    ethp2p_rlpx_host_stats st;
    ethp2p_rlpx_host_stats_get(N[0].h, &st);
    ck_assert_uint_eq(st.failures_by_cause[0], 1);
    ck_assert_uint_eq(st.handshake_failures, 1);
  }
  ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[1].pub, &to), ETHP2P_EBUSY);
  ethp2p_sim_run(w, 30 * ETHP2P_SEC); /* first back-off: 30 s */
  ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[1].pub, &to), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(N[0].failed, 2);
  ethp2p_sim_run(w, 31 * ETHP2P_SEC); /* second: 60 s */
  ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[1].pub, &to), ETHP2P_EBUSY);
  ethp2p_sim_run(w, 30 * ETHP2P_SEC);
  to.port = 30303;
  ck_assert_int_eq(ethp2p_rlpx_host_add_candidate(N[0].h, N[1].pub, &to), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 1);
}
END_TEST

START_TEST(hosts_behind_two_nats_connect_through_a_port_forward) {
  ethp2p_sim_nat *nat1, *nat2;
  ethp2p_sim_host *h1, *h2;
  ethp2p_sim_forward fwd;
  ethp2p_addr to, seen;
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &nat1, "router1", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(w, &nat2, "router2", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(nat1, &h1, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(nat2, &h2, "b", NULL), 0);
  make_node_on(0, 0, true, h1);
  make_node_on(1, 0, true, h2);
  N[1].echo = 1;
  to = ethp2p_sim_nat_external_addr(nat2);
  to.port = 30303;
  /* No forward yet: router2 filters the SYN, the dial times out. */
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[0].h, N[1].pub, &to), 0);
  ethp2p_sim_run(w, 30 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].failed, 1);
  ck_assert_int_eq(N[0].last_info.error, ETHP2P_ETIMEDOUT);
  memset(&fwd, 0, sizeof fwd);
  fwd.proto = ETHP2P_SIM_TCP;
  fwd.external_port = 30303;
  fwd.internal = ethp2p_sim_host_addr(h2);
  fwd.internal.port = 30303;
  ck_assert_int_eq(ethp2p_sim_nat_forward_add(nat2, &fwd), 0);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[0].h, N[1].pub, &to), 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(N[0].added, 1);
  ck_assert_int_eq(N[1].added, 1);
  seen = ethp2p_rlpx_peer_addr(N[1].last_peer);
  {
    ethp2p_addr ext1 = ethp2p_sim_nat_external_addr(nat1);
    ck_assert(ethp2p_addr_equal(&seen, &ext1, false)); /* b sees router1's address */
  }
  ck_assert_int_eq(
      ethp2p_rlpx_peer_send(N[0].last_peer, N[0].proto_tiny, 0, (const uint8_t *)"\xc3\x82hi", 4),
      0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(N[0].msgs, 1);
  ck_assert_uint_eq(N[0].last_code, 1);
  ck_assert_mem_eq(N[0].last, "\xc3\x82hi", 4);
}
END_TEST

START_TEST(simultaneous_dials_keep_one_connection_both_sides_agree_on) {
  ethp2p_rlpx_host_stats s0, s1;
  ethp2p_addr to0, to1;
  int small;
  make_node(0, 0, true);
  make_node(1, 0, true);
  to0 = addr_of(0);
  to1 = addr_of(1);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[0].h, N[1].pub, &to1), 0);
  ck_assert_int_eq(ethp2p_rlpx_host_dial(N[1].h, N[0].pub, &to0), 0);
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ethp2p_rlpx_host_stats_get(N[0].h, &s0);
  ethp2p_rlpx_host_stats_get(N[1].h, &s1);
  ck_assert_uint_eq(s0.peers, 1);
  ck_assert_uint_eq(s1.peers, 1);
  ck_assert_uint_eq(s0.pending + s1.pending, 0);
  /* the kept connection is the one the smaller key dialed, on both ends */
  small = memcmp(N[0].pub, N[1].pub, 64) < 0 ? 0 : 1;
  ck_assert_ptr_nonnull(N[small].last_peer);
  ck_assert(!ethp2p_rlpx_peer_inbound(N[small].last_peer));
  ck_assert(ethp2p_rlpx_peer_inbound(N[1 - small].last_peer));
  /* and it stays up */
  ethp2p_sim_run(w, 60 * ETHP2P_SEC);
  ethp2p_rlpx_host_stats_get(N[0].h, &s0);
  ethp2p_rlpx_host_stats_get(N[1].h, &s1);
  ck_assert_uint_eq(s0.peers, 1);
  ck_assert_uint_eq(s1.peers, 1);
  ck_assert_int_eq(N[0].added - N[0].removed, 1);
  ck_assert_int_eq(N[1].added - N[1].removed, 1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rlpx_host");
  TCase *tc = tcase_create("host");
  SRunner *sr;
  int failed;
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, two_hosts_run_a_protocol_on_its_shared_offset);
  tcase_add_test(tc, peer_without_a_shared_capability_is_a_useless_peer);
  tcase_add_test(tc, peers_beyond_max_peers_are_refused_unless_trusted);
  tcase_add_test(tc, dialing_ourselves_is_refused_after_the_hello);
  tcase_add_test(tc, repeated_connections_from_one_public_ip_are_throttled);
  tcase_add_test(tc, static_node_is_redialed_after_a_loss);
  tcase_add_test(tc, candidates_are_dialed_as_slots_free_up);
  tcase_add_test(tc, failed_candidate_backs_off_doubling);
  tcase_add_test(tc, hosts_behind_two_nats_connect_through_a_port_forward);
  tcase_add_test(tc, simultaneous_dials_keep_one_connection_both_sides_agree_on);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
