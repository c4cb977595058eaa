/* tests/check_enr_nodekey.c — node keys and the go-ethereum key-file format. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ethp2p/nodekey.h"
#include "ethp2p/secp.h"

/* The EIP-778 example key and its node ID. */
static const char eip778_hex[] = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
static const uint8_t eip778_id[32] = {
    0xa4, 0x48, 0xf2, 0x4c, 0x6d, 0x18, 0xe5, 0x75, 0x45, 0x3d, 0xb1, 0x31, 0x71, 0x56, 0x2b, 0x71,
    0x99, 0x98, 0x73, 0xdb, 0x5b, 0x28, 0x6d, 0xf9, 0x57, 0xaf, 0x19, 0x9e, 0xc9, 0x46, 0x17, 0xf7};
/* The secp256k1 group order n. */
static const char order_hex[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
static const char order_minus1_hex[] =
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140";

static char tmpdir[256];

static void make_tmpdir(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/check_enr_nodekey.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void) {
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  char p[512];
  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
    chmod(p, 0700);
    if (rmdir(p) != 0)
      unlink(p);
  }
  closedir(d);
  rmdir(tmpdir);
}

static void path_in_tmp(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
  close(fd);
  chmod(path, mode);
}

static size_t count_dir_entries(void) {
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  size_t n = 0;
  ck_assert_ptr_nonnull(d);
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static int parse_str(ethp2p_nodekey *key, const char *s, ethp2p_diag *d) {
  return ethp2p_nodekey_parse(key, (const uint8_t *)s, strlen(s), d);
}

static void assert_zero_key(const ethp2p_nodekey *key) {
  for (size_t i = 0; i < sizeof key->secret; i++)
    ck_assert_uint_eq(key->secret[i], 0);
}

START_TEST(parse_accepts_eip778_key_and_derives_its_node_id) {
  ethp2p_nodekey key;
  uint8_t pub64[64], id[32];
  ck_assert_int_eq(parse_str(&key, eip778_hex, NULL), 0);
  ck_assert_uint_eq(key.secret[0], 0xb7);
  ck_assert_uint_eq(key.secret[31], 0x91);
  ck_assert_int_eq(ethp2p_secp_pubkey(NULL, pub64, key.secret), 0);
  ethp2p_secp_node_id(id, pub64);
  ck_assert_mem_eq(id, eip778_id, 32);
}
END_TEST

START_TEST(parse_accepts_uppercase_and_up_to_two_line_end_bytes) {
  static const char *const good[] = {"\n", "\r\n", "\n\n", "\r", "\r\r", "\n\r"};
  char text[80];
  ethp2p_nodekey a, b;
  ck_assert_int_eq(parse_str(&a, eip778_hex, NULL), 0);
  for (size_t i = 0; i < 64; i++)
    text[i] = (char)(eip778_hex[i] >= 'a' ? eip778_hex[i] - 32 : eip778_hex[i]);
  text[64] = '\0';
  ck_assert_int_eq(parse_str(&b, text, NULL), 0);
  ck_assert_mem_eq(a.secret, b.secret, 32);
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    snprintf(text, sizeof text, "%s%s", eip778_hex, good[i]);
    ck_assert_int_eq(parse_str(&b, text, NULL), 0);
    ck_assert_mem_eq(a.secret, b.secret, 32);
  }
}
END_TEST

START_TEST(parse_refuses_three_line_end_bytes) {
  char text[80];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  snprintf(text, sizeof text, "%s\n\n\n", eip778_hex);
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 66);
  ck_assert_ptr_nonnull(strstr(d.msg, "line end"));
  assert_zero_key(&key);
}
END_TEST

START_TEST(parse_refuses_empty_and_short_input) {
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, (const uint8_t *)"", 0, &d), ETHP2P_ETRUNC);
  ck_assert_ptr_nonnull(strstr(d.msg, "empty"));
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, (const uint8_t *)eip778_hex, 63, &d), ETHP2P_ETRUNC);
  ck_assert_ptr_nonnull(strstr(d.msg, "too short"));
  ck_assert_uint_eq(d.offset, 63);
  /* 62 characters and a newline: "too short", pointing at the newline. */
  char text[80];
  memcpy(text, eip778_hex, 62);
  text[62] = '\n';
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, (const uint8_t *)text, 63, &d), ETHP2P_ETRUNC);
  ck_assert_uint_eq(d.offset, 62);
  assert_zero_key(&key);
}
END_TEST

START_TEST(parse_refuses_65_hex_characters) {
  char text[80];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  snprintf(text, sizeof text, "%sa", eip778_hex);
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_ESYNTAX);
  ck_assert_ptr_nonnull(strstr(d.msg, "too long"));
  ck_assert_uint_eq(d.offset, 64);
}
END_TEST

START_TEST(parse_refuses_0x_prefix) {
  char text[80];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  snprintf(text, sizeof text, "0x%s", eip778_hex);
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_ESYNTAX);
  ck_assert_ptr_nonnull(strstr(d.msg, "0x"));
  ck_assert_uint_eq(d.offset, 0);
  /* A 0x prefix on 62 digits (64 characters in all) is refused too. */
  memcpy(text, "0X", 2);
  memcpy(text + 2, eip778_hex, 62);
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, (const uint8_t *)text, 64, &d), ETHP2P_ESYNTAX);
}
END_TEST

START_TEST(parse_refuses_surrounding_whitespace) {
  char text[80];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  snprintf(text, sizeof text, " %s", eip778_hex);
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_ESYNTAX);
  ck_assert_ptr_nonnull(strstr(d.msg, "whitespace"));
  snprintf(text, sizeof text, "\n%s", eip778_hex);
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_ESYNTAX);
  snprintf(text, sizeof text, "%s ", eip778_hex);
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 64);
  snprintf(text, sizeof text, "%s\t\n", eip778_hex);
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_ESYNTAX);
}
END_TEST

START_TEST(parse_names_first_non_hex_character_and_offset) {
  char text[80];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  snprintf(text, sizeof text, "%s", eip778_hex);
  text[10] = 'g';
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 10);
  ck_assert_ptr_nonnull(strstr(d.msg, "'g'"));
  assert_zero_key(&key);
}
END_TEST

START_TEST(parse_refuses_binary_junk) {
  uint8_t junk[64];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(0xb7 ^ (i * 37));
  junk[0] = 0x00;
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, junk, sizeof junk, &d), ETHP2P_ESYNTAX);
  ck_assert_ptr_nonnull(strstr(d.msg, "byte 0x00"));
  ck_assert_uint_eq(d.offset, 0);
  /* A valid key followed by a NUL byte (a C string written with its terminator). */
  uint8_t text[65];
  memcpy(text, eip778_hex, 64);
  text[64] = 0;
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, text, 65, &d), ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 64);
}
END_TEST

START_TEST(parse_refuses_zero_key) {
  char text[65];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  memset(text, '0', 64);
  text[64] = '\0';
  ck_assert_int_eq(parse_str(&key, text, &d), ETHP2P_EKEY);
  ck_assert_ptr_nonnull(strstr(d.msg, "zero"));
}
END_TEST

START_TEST(parse_refuses_keys_at_or_above_group_order) {
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  char ff[65];
  ck_assert_int_eq(parse_str(&key, order_hex, &d), ETHP2P_EKEY);
  ck_assert_ptr_nonnull(strstr(d.msg, "order"));
  memset(ff, 'f', 64);
  ff[64] = '\0';
  ck_assert_int_eq(parse_str(&key, ff, &d), ETHP2P_EKEY);
  assert_zero_key(&key);
  /* n - 1 is the largest valid key. */
  ck_assert_int_eq(parse_str(&key, order_minus1_hex, &d), 0);
  ck_assert_uint_eq(key.secret[31], 0x40);
}
END_TEST

START_TEST(parse_refuses_input_over_the_cap) {
  static uint8_t big[ETHP2P_NODEKEY_FILE_MAX + 1];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  memcpy(big, eip778_hex, 64);
  memset(big + 64, '\n', sizeof big - 64);
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, big, sizeof big, &d), ETHP2P_ETOOBIG);
  ck_assert_ptr_nonnull(strstr(d.msg, "too large"));
  ck_assert_int_eq(ethp2p_nodekey_parse(&key, NULL, 5, &d), ETHP2P_EINVAL);
}
END_TEST

START_TEST(format_writes_64_lowercase_characters) {
  ethp2p_nodekey key;
  char out[65], small[64];
  char upper[65];
  for (size_t i = 0; i < 64; i++)
    upper[i] = (char)(eip778_hex[i] >= 'a' ? eip778_hex[i] - 32 : eip778_hex[i]);
  upper[64] = '\0';
  ck_assert_int_eq(parse_str(&key, upper, NULL), 0);
  ck_assert_int_eq(ethp2p_nodekey_format(&key, out, sizeof out), 0);
  ck_assert_str_eq(out, eip778_hex);
  ck_assert_int_eq(ethp2p_nodekey_format(&key, small, sizeof small), ETHP2P_ESPACE);
  ck_assert_str_eq(small, "");
}
END_TEST

START_TEST(generate_gives_distinct_valid_keys) {
  ethp2p_nodekey a, b;
  ck_assert_int_eq(ethp2p_nodekey_generate(&a), 0);
  ck_assert_int_eq(ethp2p_nodekey_generate(&b), 0);
  ck_assert(ethp2p_nodekey_secret_valid(a.secret));
  ck_assert(ethp2p_nodekey_secret_valid(b.secret));
  ck_assert(memcmp(a.secret, b.secret, 32) != 0);
}
END_TEST

START_TEST(wipe_zeroes_the_secret) {
  ethp2p_nodekey key;
  ck_assert_int_eq(parse_str(&key, eip778_hex, NULL), 0);
  ethp2p_nodekey_wipe(&key);
  assert_zero_key(&key);
  ethp2p_nodekey_wipe(NULL);
}
END_TEST

START_TEST(save_creates_mode_0600_with_exact_content_and_no_leftovers) {
  char path[512], buf[100];
  ethp2p_nodekey key, back;
  struct stat st;
  mode_t old = umask(0);
  int fd;
  ssize_t n;

  make_tmpdir();
  path_in_tmp(path, sizeof path, "nodekey");
  ck_assert_int_eq(parse_str(&key, eip778_hex, NULL), 0);
  ck_assert_int_eq(ethp2p_nodekey_save(&key, path, 0, NULL), 0);
  umask(old);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  fd = open(path, O_RDONLY);
  n = read(fd, buf, sizeof buf);
  close(fd);
  ck_assert_int_eq(n, 64);
  ck_assert_mem_eq(buf, eip778_hex, 64);
  ck_assert_uint_eq(count_dir_entries(), 1);
  ck_assert_int_eq(ethp2p_nodekey_load(&back, path, NULL), 0);
  ck_assert_mem_eq(back.secret, key.secret, 32);
  remove_tmpdir();
}
END_TEST

START_TEST(save_refuses_to_overwrite_unless_asked) {
  char path[512], buf[16];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  int fd;

  make_tmpdir();
  path_in_tmp(path, sizeof path, "existing");
  write_file(path, "keep me", 7, 0644);
  ck_assert_int_eq(ethp2p_nodekey_generate(&key), 0);
  ck_assert_int_eq(ethp2p_nodekey_save(&key, path, 0, &d), ETHP2P_EEXIST);
  ck_assert_ptr_nonnull(strstr(d.msg, "already exists"));
  fd = open(path, O_RDONLY);
  ck_assert_int_eq(read(fd, buf, sizeof buf), 7);
  close(fd);
  ck_assert_mem_eq(buf, "keep me", 7);
  ck_assert_uint_eq(count_dir_entries(), 1);
  ck_assert_int_eq(ethp2p_nodekey_save(&key, path, ETHP2P_NODEKEY_OVERWRITE, &d), 0);
  ethp2p_nodekey back;
  ck_assert_int_eq(ethp2p_nodekey_load(&back, path, &d), 0);
  ck_assert_mem_eq(back.secret, key.secret, 32);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  ck_assert_uint_eq(count_dir_entries(), 1);
  remove_tmpdir();
}
END_TEST

START_TEST(save_refuses_invalid_key_and_missing_folder) {
  char path[512];
  ethp2p_nodekey zero, key;
  ethp2p_diag d = {0};
  make_tmpdir();
  memset(&zero, 0, sizeof zero);
  path_in_tmp(path, sizeof path, "k");
  ck_assert_int_eq(ethp2p_nodekey_save(&zero, path, 0, &d), ETHP2P_EKEY);
  ck_assert_int_eq(access(path, F_OK), -1);
  ck_assert_int_eq(ethp2p_nodekey_generate(&key), 0);
  path_in_tmp(path, sizeof path, "no/such/dir/k");
  ck_assert_int_eq(ethp2p_nodekey_save(&key, path, 0, &d), ETHP2P_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(d.msg, "cannot"));
  ck_assert_int_eq(ethp2p_nodekey_save(&key, "", 0, &d), ETHP2P_EINVAL);
  remove_tmpdir();
}
END_TEST

START_TEST(load_accepts_geth_file_with_trailing_newline) {
  char path[512], text[80];
  ethp2p_nodekey key;
  make_tmpdir();
  path_in_tmp(path, sizeof path, "geth-nodekey");
  snprintf(text, sizeof text, "%s\n", eip778_hex);
  write_file(path, text, 65, 0600);
  ck_assert_int_eq(ethp2p_nodekey_load(&key, path, NULL), 0);
  ck_assert_uint_eq(key.secret[0], 0xb7);
  remove_tmpdir();
}
END_TEST

START_TEST(load_reports_missing_file_directory_and_oversized_file) {
  char path[512];
  static char big[4096];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  make_tmpdir();
  path_in_tmp(path, sizeof path, "absent");
  ck_assert_int_eq(ethp2p_nodekey_load(&key, path, &d), ETHP2P_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(d.msg, "absent"));
  ck_assert_int_eq(ethp2p_nodekey_load(&key, tmpdir, &d), ETHP2P_EIO);
  ck_assert_ptr_nonnull(strstr(d.msg, "not a regular file"));
  ck_assert_int_eq(ethp2p_nodekey_load(&key, "/dev/null", &d), ETHP2P_EIO);
  /* A FIFO with no writer must not block the loader. */
  path_in_tmp(path, sizeof path, "fifo");
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  ck_assert_int_eq(ethp2p_nodekey_load(&key, path, &d), ETHP2P_EIO);
  ck_assert_ptr_nonnull(strstr(d.msg, "not a regular file"));
  path_in_tmp(path, sizeof path, "big");
  memset(big, 'a', sizeof big);
  write_file(path, big, sizeof big, 0600);
  ck_assert_int_eq(ethp2p_nodekey_load(&key, path, &d), ETHP2P_ETOOBIG);
  ck_assert_int_eq(ethp2p_nodekey_load(&key, "", &d), ETHP2P_EINVAL);
  remove_tmpdir();
}
END_TEST

START_TEST(load_refuses_bad_content_with_the_parser_reason) {
  char path[512], text[80];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  make_tmpdir();
  path_in_tmp(path, sizeof path, "prefixed");
  snprintf(text, sizeof text, "0x%s", eip778_hex);
  write_file(path, text, strlen(text), 0600);
  ck_assert_int_eq(ethp2p_nodekey_load(&key, path, &d), ETHP2P_ESYNTAX);
  ck_assert_ptr_nonnull(strstr(d.msg, "0x"));
  assert_zero_key(&key);
  remove_tmpdir();
}
END_TEST

START_TEST(load_refuses_unreadable_file) {
  char path[512];
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  if (geteuid() == 0)
    return; /* root reads anything; nothing to check */
  make_tmpdir();
  path_in_tmp(path, sizeof path, "locked");
  write_file(path, eip778_hex, 64, 0000);
  ck_assert_int_eq(ethp2p_nodekey_load(&key, path, &d), ETHP2P_EPERM);
  remove_tmpdir();
}
END_TEST

int main(void) {
  Suite *s = suite_create("enr_nodekey");
  TCase *parse = tcase_create("parse");
  TCase *file = tcase_create("file");
  SRunner *sr;
  int failed;

  tcase_add_test(parse, parse_accepts_eip778_key_and_derives_its_node_id);
  tcase_add_test(parse, parse_accepts_uppercase_and_up_to_two_line_end_bytes);
  tcase_add_test(parse, parse_refuses_three_line_end_bytes);
  tcase_add_test(parse, parse_refuses_empty_and_short_input);
  tcase_add_test(parse, parse_refuses_65_hex_characters);
  tcase_add_test(parse, parse_refuses_0x_prefix);
  tcase_add_test(parse, parse_refuses_surrounding_whitespace);
  tcase_add_test(parse, parse_names_first_non_hex_character_and_offset);
  tcase_add_test(parse, parse_refuses_binary_junk);
  tcase_add_test(parse, parse_refuses_zero_key);
  tcase_add_test(parse, parse_refuses_keys_at_or_above_group_order);
  tcase_add_test(parse, parse_refuses_input_over_the_cap);
  tcase_add_test(parse, format_writes_64_lowercase_characters);
  tcase_add_test(parse, generate_gives_distinct_valid_keys);
  tcase_add_test(parse, wipe_zeroes_the_secret);
  tcase_add_test(file, save_creates_mode_0600_with_exact_content_and_no_leftovers);
  tcase_add_test(file, save_refuses_to_overwrite_unless_asked);
  tcase_add_test(file, save_refuses_invalid_key_and_missing_folder);
  tcase_add_test(file, load_accepts_geth_file_with_trailing_newline);
  tcase_add_test(file, load_reports_missing_file_directory_and_oversized_file);
  tcase_add_test(file, load_refuses_bad_content_with_the_parser_reason);
  tcase_add_test(file, load_refuses_unreadable_file);
  suite_add_tcase(s, parse);
  suite_add_tcase(s, file);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
