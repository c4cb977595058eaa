/* tests/check_rlpx_conn.c — RLPx connections in the simulated world (20 ms links):
 * handshake + Hello both ways, messages with snappy, Ping/Pong, Disconnect reasons
 * read by the other side, timeouts, and hostile bytes on the port. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlp.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"
#include "ethp2p/sim.h"

typedef struct side {
  ethp2p_rlpx_conn *conn;
  int ups, pongs, closes, msgs;
  ethp2p_rlpx_hello hello;
  ethp2p_rlpx_close_info info;
  ethp2p_time rtt, closed_at;
  uint64_t last_code;
  uint8_t last_msg[4096];
  size_t last_len;
  unsigned disconnect_on_up; /* 0 = no; else reason + 1 */
} side;

static ethp2p_sim *w;
static ethp2p_sim_host *ha, *hb;
static ethp2p_tcp *listener;
static side A, B;
static uint8_t key_a[32], key_b[32], pub_a[64], pub_b[64];
static ethp2p_rlpx_cap caps_a[] = {{"eth", 68}, {"tiny", 1}};
static ethp2p_rlpx_cap caps_b[] = {{"tiny", 1}};
static ethp2p_rlpx_conn_config cfg_b;
static ethp2p_time hs_timeout_b;
static size_t max_frame_b;

static void on_up(ethp2p_rlpx_conn *c, const ethp2p_rlpx_hello *h, void *data) {
  side *s = data;
  (void)c;
  s->ups++;
  s->hello = *h;
  if (s->disconnect_on_up)
    ethp2p_rlpx_conn_disconnect(c, s->disconnect_on_up - 1);
}
static void on_msg(ethp2p_rlpx_conn *c, uint64_t code, const uint8_t *p, size_t n, void *data) {
  side *s = data;
  (void)c;
  s->msgs++;
  s->last_code = code;
  s->last_len = n < sizeof s->last_msg ? n : sizeof s->last_msg;
  memcpy(s->last_msg, p, s->last_len);
}
static void on_pong(ethp2p_rlpx_conn *c, ethp2p_time rtt, void *data) {
  side *s = data;
  (void)c;
  s->pongs++;
  s->rtt = rtt;
}
static void on_close(ethp2p_rlpx_conn *c, const ethp2p_rlpx_close_info *info, void *data) {
  side *s = data;
  (void)c;
  s->closes++;
  s->info = *info;
  s->closed_at = ethp2p_sim_now(w);
  s->conn = NULL;
}
static const ethp2p_rlpx_conn_cbs cbs = {on_up, on_msg, on_pong, on_close};

static void on_accept(ethp2p_tcp *l, ethp2p_tcp *tcp, void *data) {
  (void)l;
  (void)data;
  cfg_b.handshake_timeout = hs_timeout_b;
  cfg_b.max_frame = max_frame_b;
  ck_assert_int_eq(ethp2p_rlpx_conn_accept(&B.conn, ethp2p_sim_host_env(hb), &cfg_b, tcp, &cbs, &B),
                   0);
}

static void setup(void) {
  ethp2p_addr bind = ethp2p_addr_v4(0, 0, 0, 0, 30303);
  size_t i;
  memset(&A, 0, sizeof A);
  memset(&B, 0, sizeof B);
  for (i = 0; i < 32; i++) {
    key_a[i] = (uint8_t)(i + 1);
    key_b[i] = (uint8_t)(0x40 + i);
  }
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub_a, key_a), 0);
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub_b, key_b), 0);
  ck_assert_int_eq(ethp2p_sim_create(&w, 7), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &ha, "a", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(w, &hb, "b", NULL), 0);
  memset(&cfg_b, 0, sizeof cfg_b);
  cfg_b.secret = key_b;
  cfg_b.client_id = "node-b/v1";
  cfg_b.caps = caps_b;
  cfg_b.ncaps = 1;
  cfg_b.listen_port = 30303;
  hs_timeout_b = 0;
  max_frame_b = 0;
  ck_assert_int_eq(ethp2p_tcp_listen(ethp2p_sim_host_env(hb), &listener, &bind, on_accept, NULL),
                   0);
}

static void teardown(void) {
  ethp2p_rlpx_conn_destroy(A.conn);
  ethp2p_rlpx_conn_destroy(B.conn);
  ethp2p_tcp_close(listener);
  ethp2p_sim_destroy(w);
}

static ethp2p_addr b_addr(void) {
  ethp2p_addr a = ethp2p_sim_host_addr(hb);
  a.port = 30303;
  return a;
}

static void dial_a(bool mirror, const uint8_t *remote) {
  ethp2p_rlpx_conn_config cfg;
  ethp2p_addr to = b_addr();
  memset(&cfg, 0, sizeof cfg);
  cfg.secret = key_a;
  cfg.client_id = "node-a/v1";
  cfg.caps = caps_a;
  cfg.ncaps = 2;
  cfg.mirror_caps = mirror;
  ck_assert_int_eq(ethp2p_rlpx_conn_dial(&A.conn, ethp2p_sim_host_env(ha), &cfg,
                                         remote ? remote : pub_b, &to, &cbs, &A),
                   0);
}

START_TEST(dialer_and_listener_exchange_hellos) {
  dial_a(false, NULL);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(A.ups, 1);
  ck_assert_int_eq(B.ups, 1);
  ck_assert_str_eq(A.hello.client_id, "node-b/v1");
  ck_assert_str_eq(B.hello.client_id, "node-a/v1");
  ck_assert_uint_eq(B.hello.ncaps, 2);
  ck_assert_str_eq(B.hello.caps[1].name, "tiny");
  ck_assert_uint_eq(A.hello.listen_port, 30303);
  ck_assert_uint_eq(A.hello.version, 5);
  ck_assert_mem_eq(A.hello.id, pub_b, 64);
  ck_assert_mem_eq(ethp2p_rlpx_conn_remote_pub(B.conn), pub_a, 64);
  ck_assert(ethp2p_rlpx_conn_dialed(A.conn));
  ck_assert(!ethp2p_rlpx_conn_dialed(B.conn));
  /* connect (SYN/SYN-ACK) then auth -> ack: one 40 ms round trip for the handshake */
  ck_assert_uint_eq(ethp2p_rlpx_conn_handshake_rtt(A.conn), 40 * ETHP2P_MSEC);
  ck_assert_int_eq(A.closes + B.closes, 0);
}
END_TEST

START_TEST(mirroring_dialer_advertises_the_remote_caps) {
  dial_a(true, NULL);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.ups, 1);
  ck_assert_uint_eq(B.hello.ncaps, 1);
  ck_assert_str_eq(B.hello.caps[0].name, "tiny");
}
END_TEST

START_TEST(application_messages_cross_compressed_both_ways) {
  uint8_t big[3000];
  uint64_t in_a, out_a;
  memset(big, 'z', sizeof big);
  big[0] = 0xb9; /* an RLP string of 2997 bytes: 0xb9 0x0b 0xb5 ... */
  big[1] = 0x0b;
  big[2] = 0xb5;
  dial_a(false, NULL);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_rlpx_conn_send(A.conn, 0x10, big, sizeof big), 0);
  ck_assert_int_eq(ethp2p_rlpx_conn_send(B.conn, 0x11, (const uint8_t *)"\x82hi", 3), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.msgs, 1);
  ck_assert_uint_eq(B.last_code, 0x10);
  ck_assert_uint_eq(B.last_len, sizeof big);
  ck_assert_mem_eq(B.last_msg, big, sizeof big);
  ck_assert_int_eq(A.msgs, 1);
  ck_assert_uint_eq(A.last_code, 0x11);
  ck_assert_mem_eq(A.last_msg, "\x82hi", 3);
  ethp2p_rlpx_conn_bytes(A.conn, &in_a, &out_a);
  ck_assert_uint_lt(out_a, 1500); /* 3000 bytes of 'z' went out snappy-compressed */
}
END_TEST

START_TEST(ping_is_answered_with_pong_after_one_round_trip) {
  dial_a(false, NULL);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(ethp2p_rlpx_conn_ping(A.conn), 0);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(A.pongs, 1);
  ck_assert_uint_eq(A.rtt, 40 * ETHP2P_MSEC);
}
END_TEST

START_TEST(keepalive_pings_keep_an_idle_session_up) {
  dial_a(false, NULL);
  ethp2p_sim_run(w, 5 * ETHP2P_MIN);
  ck_assert_int_eq(A.closes + B.closes, 0);
  ck_assert_int_ge(A.pongs, 15); /* one per 15 s */
}
END_TEST

START_TEST(each_side_reads_the_other_sides_disconnect_reason) {
  dial_a(false, NULL);
  B.disconnect_on_up = ETHP2P_RLPX_DISC_USELESS_PEER + 1;
  ethp2p_sim_run(w, 5 * ETHP2P_SEC);
  ck_assert_int_eq(A.closes, 1);
  ck_assert(A.info.remote);
  ck_assert_int_eq(A.info.reason, ETHP2P_RLPX_DISC_USELESS_PEER);
  ck_assert_int_eq(A.info.error, 0);
  ck_assert_int_eq(B.closes, 1);
  ck_assert(!B.info.remote);
  ck_assert_int_eq(B.info.reason, ETHP2P_RLPX_DISC_USELESS_PEER);
  /* B closed when A ended the stream, not after the 2 s linger */
  ck_assert_uint_lt(B.closed_at, ETHP2P_SIM_START + ETHP2P_SEC);
}
END_TEST

START_TEST(dialing_the_wrong_key_fails_the_handshake) {
  uint8_t other[64];
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, other, key_a), 0);
  dial_a(false, other);
  ethp2p_sim_run(w, 10 * ETHP2P_SEC);
  ck_assert_int_eq(A.ups + B.ups, 0);
  ck_assert_int_eq(A.closes, 1);
  ck_assert_int_ne(A.info.error, 0);
  ck_assert(!A.info.handshake_done);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.error, ETHP2P_ESIG);
}
END_TEST

/* A raw TCP client on host a that writes what the test says. */
static ethp2p_tcp *raw;
static const uint8_t *raw_data;
static size_t raw_len;
static int raw_closed;
static void raw_read(ethp2p_tcp *t, int status, const uint8_t *b, size_t n, void *d) {
  (void)t;
  (void)b;
  (void)n;
  (void)d;
  if (status != 0)
    raw_closed++;
}
static void raw_connected(ethp2p_tcp *t, int status, void *d) {
  (void)d;
  ck_assert_int_eq(status, 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(t, raw_read, NULL), 0);
  if (raw_len > 0)
    ck_assert_int_eq(ethp2p_tcp_write(t, raw_data, raw_len), 0);
}
static void raw_dial(const uint8_t *data, size_t len) {
  ethp2p_addr to = b_addr();
  raw_data = data;
  raw_len = len;
  raw_closed = 0;
  ck_assert_int_eq(
      ethp2p_tcp_connect(ethp2p_sim_host_env(ha), &raw, &to, NULL, raw_connected, NULL), 0);
}

START_TEST(silent_client_is_dropped_at_the_handshake_timeout) {
  raw_dial(NULL, 0);
  ethp2p_sim_run(w, 4 * ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.error, ETHP2P_ETIMEDOUT);
  ck_assert_int_eq(raw_closed, 1);
  ethp2p_tcp_close(raw);
}
END_TEST

START_TEST(junk_on_the_port_closes_the_connection) {
  static uint8_t junk[20000];
  size_t i;
  for (i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 37 + (size_t)_i);
  if (_i == 1)
    junk[0] = 0x04; /* looks like a pre-EIP-8 auth */
  if (_i == 2) {
    junk[0] = 0x01; /* a plausible EIP-8 size prefix (400) */
    junk[1] = 0x90;
  }
  raw_dial(junk, sizeof junk);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_ne(B.info.error, 0);
  ck_assert(!B.info.handshake_done);
  ck_assert_int_eq(raw_closed, 1);
  ethp2p_tcp_close(raw);
}
END_TEST

START_TEST(half_handshake_waits_then_times_out) {
  /* The first 100 bytes of a real auth, then nothing. */
  static uint8_t auth[ETHP2P_RLPX_HS_MAX];
  static ethp2p_rlpx_hs hs;
  uint8_t eph[32], nonce[32] = {1}, rnd[ETHP2P_RLPX_HS_RANDOM_LEN] = {2};
  size_t n;
  memset(eph, 0x11, sizeof eph);
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs, true, key_a, eph, nonce, pub_b), 0);
  ck_assert_int_eq(ethp2p_rlpx_hs_write_auth(&hs, auth, sizeof auth, &n, rnd), 0);
  hs_timeout_b = 3 * ETHP2P_SEC;
  raw_dial(auth, 100);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 0);
  ethp2p_sim_run(w, 2 * ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.error, ETHP2P_ETIMEDOUT);
  ethp2p_tcp_close(raw);
}
END_TEST

/* A hand-driven peer: real handshake with the codecs, then frames the test picks. */
static ethp2p_rlpx_hs hs_raw;
static ethp2p_rlpx_frame *raw_frame;
static uint8_t raw_in[8192];
static size_t raw_in_len;
static int raw_ups;

static void manual_read(ethp2p_tcp *t, int status, const uint8_t *b, size_t n, void *d) {
  size_t used;
  (void)d;
  (void)t;
  if (status != 0) {
    raw_closed++;
    return;
  }
  if (raw_frame != NULL)
    return;
  ck_assert_uint_le(raw_in_len + n, sizeof raw_in);
  memcpy(raw_in + raw_in_len, b, n);
  raw_in_len += n;
  if (ethp2p_rlpx_hs_read_ack(&hs_raw, raw_in, raw_in_len, &used) == 0) {
    ethp2p_rlpx_secrets s;
    ck_assert_int_eq(ethp2p_rlpx_hs_secrets(&hs_raw, &s), 0);
    ck_assert_int_eq(ethp2p_rlpx_frame_create(&raw_frame, &s), 0);
    raw_ups++;
  }
}
static void manual_connected(ethp2p_tcp *t, int status, void *d) {
  uint8_t auth[ETHP2P_RLPX_HS_MAX], eph[32], nonce[32] = {3}, rnd[ETHP2P_RLPX_HS_RANDOM_LEN] = {4};
  size_t n;
  (void)d;
  ck_assert_int_eq(status, 0);
  memset(eph, 0x22, sizeof eph);
  ck_assert_int_eq(ethp2p_rlpx_hs_init(&hs_raw, true, key_a, eph, nonce, pub_b), 0);
  ck_assert_int_eq(ethp2p_rlpx_hs_write_auth(&hs_raw, auth, sizeof auth, &n, rnd), 0);
  ck_assert_int_eq(ethp2p_tcp_read_start(t, manual_read, NULL), 0);
  ck_assert_int_eq(ethp2p_tcp_write(t, auth, n), 0);
}
static void manual_dial(void) {
  ethp2p_addr to = b_addr();
  raw_frame = NULL;
  raw_in_len = 0;
  raw_ups = 0;
  raw_closed = 0;
  ck_assert_int_eq(
      ethp2p_tcp_connect(ethp2p_sim_host_env(ha), &raw, &to, NULL, manual_connected, NULL), 0);
}
static void manual_send(const uint8_t *body, size_t n) {
  static uint8_t wire[70000];
  size_t len;
  ck_assert_int_eq(ethp2p_rlpx_frame_seal(raw_frame, wire, sizeof wire, &len, body, n), 0);
  ck_assert_int_eq(ethp2p_tcp_write(raw, wire, len), 0);
}
static void manual_hello_v(uint64_t version) {
  ethp2p_rlpx_hello h;
  uint8_t buf[600];
  size_t n;
  memset(&h, 0, sizeof h);
  h.version = version;
  strcpy(h.client_id, "manual");
  h.ncaps = 1;
  strcpy(h.caps[0].name, "tiny");
  h.caps[0].version = 1;
  memcpy(h.id, pub_a, 64);
  buf[0] = 0x80; /* msg-id 0 */
  ck_assert_int_eq(ethp2p_rlpx_hello_encode(buf + 1, sizeof buf - 1, &n, &h), 0);
  manual_send(buf, n + 1);
}
static void manual_hello(void) {
  manual_hello_v(4); /* no snappy */
}

START_TEST(oversized_frame_is_refused_at_its_header) {
  static uint8_t body[5000];
  max_frame_b = 4096;
  manual_dial();
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(raw_ups, 1);
  manual_hello();
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.ups, 1);
  body[0] = 0x10;
  manual_send(body, 4097); /* one byte over B's limit */
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.error, ETHP2P_ETOOBIG);
  ck_assert_int_eq(B.info.reason, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
  ck_assert_int_eq(raw_closed, 1);
  ethp2p_tcp_close(raw);
  ethp2p_rlpx_frame_destroy(raw_frame);
}
END_TEST

START_TEST(message_before_hello_is_a_protocol_breach) {
  manual_dial();
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(raw_ups, 1);
  manual_send((const uint8_t *)"\x02\xc0", 2); /* Ping before Hello */
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.error, ETHP2P_EPROTO);
  ck_assert_int_eq(B.info.reason, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
  ethp2p_tcp_close(raw);
  ethp2p_rlpx_frame_destroy(raw_frame);
}
END_TEST

START_TEST(silent_peer_after_hello_hits_the_read_timeout) {
  manual_dial();
  ethp2p_sim_run(w, ETHP2P_SEC);
  manual_hello();
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.ups, 1);
  ethp2p_sim_run(w, 25 * ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 0); /* B pinged at 15 s; no answer yet counts until 30 s */
  ethp2p_sim_run(w, 10 * ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.error, ETHP2P_ETIMEDOUT);
  ck_assert_int_eq(B.info.reason, ETHP2P_RLPX_DISC_READ_TIMEOUT);
  ethp2p_tcp_close(raw);
  ethp2p_rlpx_frame_destroy(raw_frame);
}
END_TEST

START_TEST(hello_with_another_identity_is_refused) {
  ethp2p_rlpx_hello h;
  uint8_t buf[600];
  size_t n;
  manual_dial();
  ethp2p_sim_run(w, ETHP2P_SEC);
  memset(&h, 0, sizeof h);
  h.version = 5;
  memcpy(h.id, pub_b, 64); /* not the key that did the handshake */
  buf[0] = 0x80;
  ck_assert_int_eq(ethp2p_rlpx_hello_encode(buf + 1, sizeof buf - 1, &n, &h), 0);
  manual_send(buf, n + 1);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.reason, ETHP2P_RLPX_DISC_UNEXPECTED_IDENTITY);
  ck_assert_int_eq(B.ups, 0);
  ethp2p_tcp_close(raw);
  ethp2p_rlpx_frame_destroy(raw_frame);
}
END_TEST

START_TEST(uncompressed_disconnect_after_hello_v5_is_still_read) {
  /* ethereumjs sends Disconnect without snappy even when both Hellos say 5. */
  manual_dial();
  ethp2p_sim_run(w, ETHP2P_SEC);
  manual_hello_v(5);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.ups, 1);
  manual_send((const uint8_t *)"\x01\x10", 2); /* Disconnect, bare reason 0x10, raw */
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert(B.info.remote);
  ck_assert_int_eq(B.info.error, 0);
  ck_assert_int_eq(B.info.reason, ETHP2P_RLPX_DISC_SUBPROTOCOL);
  ethp2p_tcp_close(raw);
  ethp2p_rlpx_frame_destroy(raw_frame);
}
END_TEST

/* Malformed frame bodies after a good Hello: each drops the peer with "breach of
 * protocol" (0x02).  0: the message ID is not RLP; 1: it is a list; 2: a Ping whose
 * payload is not snappy although both Hellos said 5; 3: a message ID above 64 bits. */
static const struct {
  const char *body;
  size_t len;
  int err;
} bad_bodies[] = {
    {"\xb8", 1, ETHP2P_EPROTO},
    {"\xc0\xc0", 2, ETHP2P_EPROTO},
    {"\x02\xff\xff\xff\xff\xff", 6, ETHP2P_EPROTO},
    {"\x89\x01\x00\x00\x00\x00\x00\x00\x00\x00", 10, ETHP2P_EPROTO},
};

START_TEST(malformed_frame_body_is_a_protocol_breach) {
  manual_dial();
  ethp2p_sim_run(w, ETHP2P_SEC);
  manual_hello_v(5);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.ups, 1);
  manual_send((const uint8_t *)bad_bodies[_i].body, bad_bodies[_i].len);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.error, bad_bodies[_i].err);
  ck_assert_int_eq(B.info.reason, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
  ethp2p_tcp_close(raw);
  ethp2p_rlpx_frame_destroy(raw_frame);
}
END_TEST

START_TEST(destroy_inside_a_callback_is_safe) {
  dial_a(false, NULL);
  ethp2p_sim_run(w, ETHP2P_SEC);
  ethp2p_rlpx_conn_destroy(A.conn);
  A.conn = NULL;
  ethp2p_sim_run(w, ETHP2P_SEC);
  ck_assert_int_eq(A.closes, 0); /* destroy reports nothing */
  ck_assert_int_eq(B.closes, 1);
  ck_assert_int_eq(B.info.error, ETHP2P_ECLOSED);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rlpx_conn");
  TCase *tc = tcase_create("conn");
  SRunner *sr;
  int failed;
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, dialer_and_listener_exchange_hellos);
  tcase_add_test(tc, mirroring_dialer_advertises_the_remote_caps);
  tcase_add_test(tc, application_messages_cross_compressed_both_ways);
  tcase_add_test(tc, ping_is_answered_with_pong_after_one_round_trip);
  tcase_add_test(tc, keepalive_pings_keep_an_idle_session_up);
  tcase_add_test(tc, each_side_reads_the_other_sides_disconnect_reason);
  tcase_add_test(tc, dialing_the_wrong_key_fails_the_handshake);
  tcase_add_test(tc, silent_client_is_dropped_at_the_handshake_timeout);
  tcase_add_loop_test(tc, junk_on_the_port_closes_the_connection, 0, 3);
  tcase_add_test(tc, half_handshake_waits_then_times_out);
  tcase_add_test(tc, oversized_frame_is_refused_at_its_header);
  tcase_add_test(tc, message_before_hello_is_a_protocol_breach);
  tcase_add_test(tc, silent_peer_after_hello_hits_the_read_timeout);
  tcase_add_test(tc, hello_with_another_identity_is_refused);
  tcase_add_test(tc, uncompressed_disconnect_after_hello_v5_is_still_read);
  tcase_add_loop_test(tc, malformed_frame_body_is_a_protocol_breach, 0,
                      (int)(sizeof bad_bodies / sizeof bad_bodies[0]));
  tcase_add_test(tc, destroy_inside_a_callback_is_safe);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
