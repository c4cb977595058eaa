/*
 * tests/check_p2p_seqstore.c — the record's sequence number on disk: never
 * lower than before, atomic, tolerant of crashes and unwritable directories.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ethp2p/localnode.h"

static char dir[256];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/ethp2p-seqstore-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void path_of(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *content) {
  char p[512];
  FILE *f;
  path_of(p, sizeof p, name);
  f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  fputs(content, f);
  fclose(f);
}

static void rm_rf(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
  ck_assert_int_eq(system(cmd), 0);
}

START_TEST(empty_directory_starts_at_clock) {
  ethp2p_seqstore st;
  uint64_t seq = 0;
  make_dir();
  ck_assert_int_eq(ethp2p_seqstore_open(&st, dir, 1767225600123, &seq), 0);
  ck_assert_uint_eq(seq, 1767225600123u);
  ck_assert_int_eq(ethp2p_seqstore_read(dir, &seq), ETHP2P_ENOTFOUND);
  rm_rf();
}
END_TEST

START_TEST(saved_value_reads_back_and_file_is_private) {
  ethp2p_seqstore st;
  uint64_t seq = 0;
  char p[512];
  struct stat sb;
  make_dir();
  ck_assert_int_eq(ethp2p_seqstore_open(&st, dir, 1000, &seq), 0);
  ck_assert_int_eq(ethp2p_seqstore_save(&st, 1234567), 0);
  ck_assert_int_eq(ethp2p_seqstore_read(dir, &seq), 0);
  ck_assert_uint_eq(seq, 1234567);
  ck_assert_int_eq(ethp2p_seqstore_save(&st, UINT64_MAX), 0);
  ck_assert_int_eq(ethp2p_seqstore_read(dir, &seq), 0);
  ck_assert_uint_eq(seq, UINT64_MAX);
  path_of(p, sizeof p, ETHP2P_SEQSTORE_FILE);
  ck_assert_int_eq(stat(p, &sb), 0);
  ck_assert_int_eq(sb.st_mode & 0777, 0600);
  path_of(p, sizeof p, ETHP2P_SEQSTORE_FILE ".tmp");
  ck_assert_int_ne(access(p, F_OK), 0); /* no temp file left behind */
  rm_rf();
}
END_TEST

START_TEST(start_is_max_of_stored_and_clock) {
  ethp2p_seqstore st;
  uint64_t seq = 0;
  make_dir();
  write_file(ETHP2P_SEQSTORE_FILE, "5000\n");
  ck_assert_int_eq(ethp2p_seqstore_open(&st, dir, 4000, &seq), 0);
  ck_assert_uint_eq(seq, 5000); /* clock went backwards: stored wins */
  ck_assert_int_eq(ethp2p_seqstore_open(&st, dir, 6000, &seq), 0);
  ck_assert_uint_eq(seq, 6000); /* time moved on: clock wins */
  ck_assert_int_eq(ethp2p_seqstore_open(&st, dir, -5, &seq), 0);
  ck_assert_uint_eq(seq, 5000);
  rm_rf();
}
END_TEST

START_TEST(torn_temp_file_from_crash_is_ignored_and_removed) {
  ethp2p_seqstore st;
  uint64_t seq = 0;
  char p[512];
  make_dir();
  write_file(ETHP2P_SEQSTORE_FILE, "7000\n");
  /* a crash mid-write: half a number in the temp file */
  write_file(ETHP2P_SEQSTORE_FILE ".tmp", "99999");
  ck_assert_int_eq(ethp2p_seqstore_open(&st, dir, 10, &seq), 0);
  ck_assert_uint_eq(seq, 7000);
  path_of(p, sizeof p, ETHP2P_SEQSTORE_FILE ".tmp");
  ck_assert_int_ne(access(p, F_OK), 0);
  /* a crash before the first rename: only a temp file, no main file */
  write_file(ETHP2P_SEQSTORE_FILE ".tmp", "88");
  path_of(p, sizeof p, ETHP2P_SEQSTORE_FILE);
  ck_assert_int_eq(unlink(p), 0);
  ck_assert_int_eq(ethp2p_seqstore_open(&st, dir, 10, &seq), 0);
  ck_assert_uint_eq(seq, 10);
  rm_rf();
}
END_TEST

START_TEST(corrupt_files_are_refused_and_clock_used) {
  static const char *const bad[] = {"",
                                    "\n",
                                    "abc",
                                    "12x\n",
                                    "012\n",
                                    "-1\n",
                                    " 12\n",
                                    "18446744073709551616\n",
                                    "1\n\n",
                                    "1 \n",
                                    "123456789012345678901234567890\n"};
  make_dir();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ethp2p_seqstore st;
    uint64_t seq = 0;
    write_file(ETHP2P_SEQSTORE_FILE, bad[i]);
    ck_assert_msg(ethp2p_seqstore_open(&st, dir, 4242, &seq) == ETHP2P_ESYNTAX, "case %zu", i);
    ck_assert_uint_eq(seq, 4242);
  }
  {
    uint64_t seq = 0;
    write_file(ETHP2P_SEQSTORE_FILE, "0\n");
    ck_assert_int_eq(ethp2p_seqstore_read(dir, &seq), 0);
    ck_assert_uint_eq(seq, 0);
    write_file(ETHP2P_SEQSTORE_FILE, "18446744073709551615\r\n");
    ck_assert_int_eq(ethp2p_seqstore_read(dir, &seq), 0);
    ck_assert_uint_eq(seq, UINT64_MAX);
  }
  rm_rf();
}
END_TEST

START_TEST(unwritable_directory_reports_error_and_keeps_old_value) {
  ethp2p_seqstore st;
  uint64_t seq = 0;
  char p[512];
  make_dir();
  write_file(ETHP2P_SEQSTORE_FILE, "7000\n");
  ck_assert_int_eq(ethp2p_seqstore_open(&st, dir, 10, &seq), 0);
  /* the temp name is taken by a directory: no write can succeed (even as root) */
  path_of(p, sizeof p, ETHP2P_SEQSTORE_FILE ".tmp");
  ck_assert_int_eq(mkdir(p, 0700), 0);
  ck_assert_int_lt(ethp2p_seqstore_save(&st, 8000), 0);
  ck_assert_int_eq(ethp2p_seqstore_read(dir, &seq), 0);
  ck_assert_uint_eq(seq, 7000);
  ck_assert_int_eq(rmdir(p), 0);
  if (geteuid() != 0) {
    /* a read-only directory, for users whom permissions bind */
    ck_assert_int_eq(chmod(dir, 0500), 0);
    ck_assert_int_eq(ethp2p_seqstore_save(&st, 9000), ETHP2P_EPERM);
    ck_assert_int_eq(chmod(dir, 0700), 0);
  }
  ck_assert_int_eq(ethp2p_seqstore_save(&st, 9001), 0);
  ck_assert_int_eq(ethp2p_seqstore_read(dir, &seq), 0);
  ck_assert_uint_eq(seq, 9001);
  rm_rf();
}
END_TEST

START_TEST(missing_directory_and_long_paths) {
  ethp2p_seqstore st;
  uint64_t seq = 0;
  char longdir[2000];
  memset(longdir, 'a', sizeof longdir - 1);
  longdir[0] = '/';
  longdir[sizeof longdir - 1] = 0;
  ck_assert_int_eq(ethp2p_seqstore_open(&st, longdir, 5, &seq), ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_seqstore_open(&st, "/nonexistent-ethp2p-dir", 5, &seq), 0);
  ck_assert_uint_eq(seq, 5);
  ck_assert_int_lt(ethp2p_seqstore_save(&st, 6), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("p2p_seqstore");
  TCase *tc = tcase_create("seqstore");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, empty_directory_starts_at_clock);
  tcase_add_test(tc, saved_value_reads_back_and_file_is_private);
  tcase_add_test(tc, start_is_max_of_stored_and_clock);
  tcase_add_test(tc, torn_temp_file_from_crash_is_ignored_and_removed);
  tcase_add_test(tc, corrupt_files_are_refused_and_clock_used);
  tcase_add_test(tc, unwritable_directory_reports_error_and_keeps_old_value);
  tcase_add_test(tc, missing_directory_and_long_paths);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
