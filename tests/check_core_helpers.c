/*
 * tests/check_core_helpers.c — the shared internal helpers of core/: byte
 * order (core/bytes.h), hex digits and strings (core/hex.h), and the capped
 * growable text buffer (core/buf.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/bytes.h"
#include "core/hex.h"
#include "core/observers.h"
#include "ethp2p/error.h"

START_TEST(big_endian_round_trips_and_layout) {
  uint8_t b[8];
  ethp2p_put_be16(b, 0x1234);
  ck_assert_uint_eq(b[0], 0x12);
  ck_assert_uint_eq(b[1], 0x34);
  ck_assert_uint_eq(ethp2p_get_be16(b), 0x1234);
  ethp2p_put_be32(b, 0xdeadbeefu);
  ck_assert_uint_eq(b[0], 0xde);
  ck_assert_uint_eq(b[3], 0xef);
  ck_assert_uint_eq(ethp2p_get_be32(b), 0xdeadbeefu);
  ethp2p_put_be64(b, 0x0102030405060708ull);
  for (int i = 0; i < 8; i++)
    ck_assert_uint_eq(b[i], (unsigned)(i + 1));
  ck_assert(ethp2p_get_be64(b) == 0x0102030405060708ull);
  /* The high bit does not sign-extend. */
  const uint8_t hi[4] = {0xff, 0xff, 0xff, 0xfe};
  ck_assert_uint_eq(ethp2p_get_be16(hi), 0xffffu);
  ck_assert_uint_eq(ethp2p_get_be32(hi), 0xfffffffeu);
}
END_TEST

START_TEST(hex_digit_accepts_exactly_the_22_digits) {
  int n = 0;
  for (int c = -1; c < 256; c++) {
    int v = ethp2p_hex_digit(c);
    if (v >= 0)
      n++;
    if (c >= '0' && c <= '9')
      ck_assert_int_eq(v, c - '0');
    else if (c >= 'a' && c <= 'f')
      ck_assert_int_eq(v, c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      ck_assert_int_eq(v, c - 'A' + 10);
    else
      ck_assert_msg(v == -1, "char %d gave %d", c, v);
  }
  ck_assert_int_eq(n, 22);
}
END_TEST

START_TEST(hex_decode_and_encode) {
  uint8_t out[4];
  size_t n = 99, bad = 99;
  char txt[9];
  ck_assert_int_eq(ethp2p_hex_to_bytes(out, sizeof out, &n, "00fFa5", 6, &bad), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(out[1], 0xff);
  ck_assert_uint_eq(out[2], 0xa5);
  ck_assert_int_eq(ethp2p_hex_to_bytes(out, sizeof out, &n, "0g", 2, &bad), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(bad, 1);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(ethp2p_hex_to_bytes(out, sizeof out, &n, "abc", 3, &bad), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_hex_to_bytes(out, 2, &n, "aabbcc", 6, NULL), ETHP2P_ESPACE);
  ck_assert_int_eq(ethp2p_hex_to_bytes(out, sizeof out, &n, "", 0, NULL), 0);
  ck_assert_uint_eq(n, 0);
  const uint8_t in[4] = {0x00, 0x7f, 0x80, 0xff};
  ck_assert_int_eq(ethp2p_bytes_to_hex(txt, sizeof txt, &n, in, 4), 0);
  ck_assert_str_eq(txt, "007f80ff");
  ck_assert_uint_eq(n, 8);
  n = 0;
  ck_assert_int_eq(ethp2p_bytes_to_hex(txt, 8, &n, in, 4), ETHP2P_ESPACE);
  ck_assert_str_eq(txt, "");
  ck_assert_uint_eq(n, 8); /* the length needed */
  ck_assert_int_eq(ethp2p_bytes_to_hex(NULL, 0, &n, in, 3), ETHP2P_ESPACE);
  ck_assert_uint_eq(n, 6);
}
END_TEST

START_TEST(buf_grows_keeps_nul_and_stops_at_the_cap) {
  ethp2p_buf b;
  ethp2p_buf_init(&b, 1000);
  ethp2p_buf_puts(&b, "port ");
  ethp2p_buf_printf(&b, "%u/%s", 30303u, "tcp");
  ck_assert_int_eq(b.err, 0);
  ck_assert_str_eq(b.p, "port 30303/tcp");
  ck_assert_uint_eq(b.len, 14);
  for (int i = 0; i < 97; i++)
    ethp2p_buf_add(&b, "0123456789", 10); /* 14 + 970 = 984 bytes */
  ck_assert_int_eq(b.err, 0);
  ck_assert_uint_eq(b.len, 984);
  ck_assert_uint_le(b.cap, 1000);
  ethp2p_buf_printf(&b, "%s", "0123456789abcdef"); /* 1000 + NUL > cap: fails whole */
  ck_assert_int_eq(b.err, ETHP2P_ETOOBIG);
  ck_assert_uint_eq(b.len, 984);
  ck_assert_uint_eq(strlen(b.p), 984);
  ethp2p_buf_puts(&b, "x"); /* sticky: nothing more is added */
  ck_assert_uint_eq(b.len, 984);
  ethp2p_buf_free(&b);
  ck_assert_ptr_null(b.p);
  ethp2p_buf_init(&b, 1);
  ethp2p_buf_puts(&b, "");
  ck_assert_int_eq(b.err, 0);
  ethp2p_buf_puts(&b, "a");
  ck_assert_int_eq(b.err, ETHP2P_ETOOBIG);
  ethp2p_buf_free(&b);
}
END_TEST

/* Observers: order, removal of itself and of a later one during a notification, an add
 * during a notification not called for it, the cap. */
typedef struct obs_log {
  char seq[32];
  size_t n;
  ethp2p_observers *list;
} obs_log;

typedef void (*obs_cb)(obs_log *log, char tag);

static void obs_a(obs_log *log, char tag);
static void obs_b(obs_log *log, char tag);
static void obs_c(obs_log *log, char tag);

static void obs_record(obs_log *log, char c) {
  if (log->n + 1 < sizeof log->seq)
    log->seq[log->n++] = c;
}

static void obs_a(obs_log *log, char tag) { /* removes itself and c, adds b again */
  obs_record(log, 'a');
  if (tag == '1') {
    ck_assert_int_eq(ethp2p_observers_remove(log->list, (ethp2p_observer_fn)obs_a, log), 0);
    ck_assert_int_eq(ethp2p_observers_remove(log->list, (ethp2p_observer_fn)obs_c, log), 0);
    ck_assert_int_eq(ethp2p_observers_add(log->list, (ethp2p_observer_fn)obs_b, log), 0);
  }
}

static void obs_b(obs_log *log, char tag) {
  (void)tag;
  obs_record(log, 'b');
}

static void obs_c(obs_log *log, char tag) {
  (void)tag;
  obs_record(log, 'c');
}

static void obs_notify(ethp2p_observers *l, obs_log *log, char tag) {
  size_t n = ethp2p_observers_begin(l);
  for (size_t i = 0; i < n; i++) {
    const ethp2p_observer *o = ethp2p_observers_at(l, i);
    if (o != NULL)
      ((obs_cb)o->fn)((obs_log *)o->data, tag);
  }
  ethp2p_observers_end(l);
}

START_TEST(observers_are_safe_to_change_while_notifying) {
  ethp2p_observers l;
  obs_log log = {{0}, 0, &l};
  ethp2p_observers_init(&l, 3);
  ck_assert_int_eq(ethp2p_observers_add(&l, (ethp2p_observer_fn)obs_a, &log), 0);
  ck_assert_int_eq(ethp2p_observers_add(&l, (ethp2p_observer_fn)obs_b, &log), 0);
  ck_assert_int_eq(ethp2p_observers_add(&l, (ethp2p_observer_fn)obs_c, &log), 0);
  ck_assert_int_eq(ethp2p_observers_add(&l, (ethp2p_observer_fn)obs_c, &log), ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_observers_add(&l, NULL, &log), ETHP2P_EINVAL);
  obs_notify(&l, &log, '1'); /* a runs, removes a and c, adds b: b once, c skipped */
  ck_assert_str_eq(log.seq, "ab");
  ck_assert_uint_eq(ethp2p_observers_count(&l), 2);
  obs_notify(&l, &log, '2');
  ck_assert_str_eq(log.seq, "abbb");
  ck_assert_int_eq(ethp2p_observers_remove(&l, (ethp2p_observer_fn)obs_c, &log), ETHP2P_ENOTFOUND);
  ck_assert_int_eq(ethp2p_observers_remove(&l, (ethp2p_observer_fn)obs_b, &log), 0);
  ck_assert_uint_eq(ethp2p_observers_count(&l), 1);
  ethp2p_observers_free(&l);
}
END_TEST

int main(void) {
  Suite *s = suite_create("core_helpers");
  TCase *tc = tcase_create("helpers");
  tcase_add_test(tc, big_endian_round_trips_and_layout);
  tcase_add_test(tc, hex_digit_accepts_exactly_the_22_digits);
  tcase_add_test(tc, hex_decode_and_encode);
  tcase_add_test(tc, buf_grows_keeps_nul_and_stops_at_the_cap);
  tcase_add_test(tc, observers_are_safe_to_change_while_notifying);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
