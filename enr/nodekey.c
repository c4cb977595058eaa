/*
 * enr/nodekey.c — node keys and go-ethereum's key-file format (see ethp2p/nodekey.h).
 *
 * The format follows go-ethereum's crypto.LoadECDSA/SaveECDSA: exactly 64 hex
 * characters, up to two trailing line-ending bytes tolerated on load, written
 * lowercase without a newline with mode 0600.  Secrets are decoded without
 * branching on their bytes and wiped from every buffer that held them.
 */
#include "ethp2p/nodekey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ethp2p/log.h"
#include "ethp2p/secp.h"

#define MODULE "nodekey"

static const char hexdigits[] = "0123456789abcdef";

/* Overwrites n bytes in a way the optimiser keeps. */
static void wipe(void *p, size_t n) {
  if (p != NULL && n > 0)
    ethp2p_secp_wipe(p, n);
}

void ethp2p_nodekey_wipe(ethp2p_nodekey *key) {
  if (key != NULL)
    wipe(key->secret, sizeof key->secret);
}

bool ethp2p_nodekey_secret_valid(const uint8_t secret[ETHP2P_NODEKEY_SIZE]) {
  /* libsecp256k1 checks 0 < s < n in constant time. */
  return ethp2p_secp_secret_check(secret) == 0;
}

/*
 * Value of one hex digit without branching on it (it is part of a secret), or
 * -1 when c is no hex digit.  Each range test below is mask arithmetic.
 */
static int hex_nibble_ct(uint8_t c) {
  int v = -1;
  int x = c;
  /* '0'..'9' */
  v += (((0x2f - x) & (x - 0x3a)) >> 8) & (x - 0x2f);
  /* 'A'..'F' -> 10..15 */
  v += (((0x40 - x) & (x - 0x47)) >> 8) & (x - 0x36);
  /* 'a'..'f' -> 10..15 */
  v += (((0x60 - x) & (x - 0x67)) >> 8) & (x - 0x56);
  return v;
}

static bool is_hex_char(uint8_t c) {
  return hex_nibble_ct(c) >= 0;
}

/* Describes byte c for a message: 'g' for printable characters, 0x07 otherwise. */
static void describe_byte(uint8_t c, char *out, size_t outlen) {
  if (c >= 0x21 && c < 0x7f && c != '\'')
    snprintf(out, outlen, "'%c'", c);
  else
    snprintf(out, outlen, "byte 0x%02x", c);
}

static int parse_fail(ethp2p_nodekey *key, ethp2p_diag *diag, int err, size_t off, const char *msg,
                      ...) __attribute__((format(printf, 5, 6)));

static int parse_fail(ethp2p_nodekey *key, ethp2p_diag *diag, int err, size_t off, const char *msg,
                      ...) {
  ethp2p_nodekey_wipe(key);
  if (diag != NULL) {
    va_list ap;
    va_start(ap, msg);
    diag->offset = off;
    vsnprintf(diag->msg, sizeof diag->msg, msg, ap);
    va_end(ap);
  }
  return err;
}

/* Checks the 64 characters one by one so the message can name the first bad one. */
static int check_hex_part(ethp2p_nodekey *key, const uint8_t *text, size_t len, ethp2p_diag *diag) {
  size_t n = len < ETHP2P_NODEKEY_HEX_LEN ? len : ETHP2P_NODEKEY_HEX_LEN;
  char what[16];

  if (len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    return parse_fail(key, diag, ETHP2P_ESYNTAX, 0,
                      "key file starts with \"0x\"; it must hold only the 64 hex characters");
  for (size_t i = 0; i < n; i++) {
    uint8_t c = text[i];
    if (is_hex_char(c))
      continue;
    if ((c == '\n' || c == '\r') && i > 0)
      return parse_fail(key, diag, ETHP2P_ETRUNC, i,
                        "key file too short: %zu hex characters before the line end, want 64", i);
    if ((c == ' ' || c == '\t' || c == '\n' || c == '\r') && i == 0)
      return parse_fail(key, diag, ETHP2P_ESYNTAX, 0,
                        "key file starts with whitespace; want 64 hex characters at the start");
    describe_byte(c, what, sizeof what);
    return parse_fail(key, diag, ETHP2P_ESYNTAX, i,
                      "invalid character %s at offset %zu: a key file holds 64 hex characters",
                      what, i);
  }
  if (len == 0)
    return parse_fail(key, diag, ETHP2P_ETRUNC, 0, "key file is empty, want 64 hex characters");
  if (len < ETHP2P_NODEKEY_HEX_LEN)
    return parse_fail(key, diag, ETHP2P_ETRUNC, len,
                      "key file too short: %zu hex characters, want 64", len);
  return 0;
}

/* After the 64 characters only "\n", "\r\n", "\r", "\n\n" (at most two bytes) may follow. */
static int check_tail(ethp2p_nodekey *key, const uint8_t *text, size_t len, ethp2p_diag *diag) {
  char what[16];
  for (size_t i = ETHP2P_NODEKEY_HEX_LEN; i < len; i++) {
    uint8_t c = text[i];
    if (c == '\n' || c == '\r') {
      if (i - ETHP2P_NODEKEY_HEX_LEN >= 2)
        return parse_fail(key, diag, ETHP2P_ESYNTAX, i,
                          "key file has more than one line end after the key");
      continue;
    }
    if (is_hex_char(c) && i == ETHP2P_NODEKEY_HEX_LEN)
      return parse_fail(key, diag, ETHP2P_ESYNTAX, i,
                        "key file too long: more than 64 hex characters");
    describe_byte(c, what, sizeof what);
    return parse_fail(key, diag, ETHP2P_ESYNTAX, i,
                      "unexpected %s at offset %zu after the 64 hex characters", what, i);
  }
  return 0;
}

int ethp2p_nodekey_parse(ethp2p_nodekey *key, const uint8_t *text, size_t len, ethp2p_diag *diag) {
  int err;
  uint8_t zero = 0;

  ethp2p_nodekey_wipe(key);
  if (text == NULL && len > 0)
    return parse_fail(key, diag, ETHP2P_EINVAL, 0, "no key text given");
  if (len > ETHP2P_NODEKEY_FILE_MAX)
    return parse_fail(key, diag, ETHP2P_ETOOBIG, ETHP2P_NODEKEY_FILE_MAX,
                      "key file too large: %zu bytes, a key file is 64 hex characters", len);
  if ((err = check_hex_part(key, text, len, diag)) != 0)
    return err;
  if ((err = check_tail(key, text, len, diag)) != 0)
    return err;
  for (size_t i = 0; i < ETHP2P_NODEKEY_SIZE; i++) {
    int hi = hex_nibble_ct(text[2 * i]), lo = hex_nibble_ct(text[2 * i + 1]);
    key->secret[i] = (uint8_t)((hi << 4) | lo);
    zero |= key->secret[i];
  }
  if (zero == 0)
    return parse_fail(key, diag, ETHP2P_EKEY, 0, "key is zero, which is no valid secp256k1 key");
  if (!ethp2p_nodekey_secret_valid(key->secret))
    return parse_fail(key, diag, ETHP2P_EKEY, 0,
                      "key is not below the secp256k1 group order, so it is no valid key");
  return 0;
}

int ethp2p_nodekey_format(const ethp2p_nodekey *key, char *out, size_t outlen) {
  if (outlen < ETHP2P_NODEKEY_HEX_LEN + 1) {
    if (outlen > 0)
      out[0] = '\0';
    return ETHP2P_ESPACE;
  }
  for (size_t i = 0; i < ETHP2P_NODEKEY_SIZE; i++) {
    out[2 * i] = hexdigits[key->secret[i] >> 4];
    out[2 * i + 1] = hexdigits[key->secret[i] & 15];
  }
  out[ETHP2P_NODEKEY_HEX_LEN] = '\0';
  return 0;
}

int ethp2p_nodekey_generate(ethp2p_nodekey *key) {
  /* The kernel's CSPRNG, redrawn if a draw is not a valid secret (see secp.h). */
  return ethp2p_secp_secret_generate(key->secret);
}

/* Maps an errno value of a file operation to our codes. */
static int errno_code(int e) {
  switch (e) {
  case ENOENT:
  case ENOTDIR:
    return ETHP2P_ENOTFOUND;
  case EACCES:
  case EPERM:
  case EROFS:
    return ETHP2P_EPERM;
  case EEXIST:
    return ETHP2P_EEXIST;
  default:
    return ETHP2P_EIO;
  }
}

static int file_fail(ethp2p_diag *diag, int e, const char *what, const char *path) {
  return ethp2p_diag_set(diag, errno_code(e), 0, "cannot %s key file %s: %s", what, path,
                         strerror(e));
}

int ethp2p_nodekey_load(ethp2p_nodekey *key, const char *path, ethp2p_diag *diag) {
  uint8_t buf[ETHP2P_NODEKEY_FILE_MAX + 1];
  size_t n = 0;
  struct stat st;
  int fd, err;

  ethp2p_nodekey_wipe(key);
  if (path == NULL || path[0] == '\0')
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "no key file name given");
  /* O_NONBLOCK: opening a FIFO must not hang; it is refused below as not a regular file. */
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return file_fail(diag, errno, "open", path);
  if (fstat(fd, &st) != 0) {
    err = file_fail(diag, errno, "inspect", path);
    goto out_close;
  }
  if (!S_ISREG(st.st_mode)) {
    err = ethp2p_diag_set(diag, ETHP2P_EIO, 0, "key file %s is not a regular file", path);
    goto out_close;
  }
  if (st.st_size > ETHP2P_NODEKEY_FILE_MAX) {
    err = ethp2p_diag_set(diag, ETHP2P_ETOOBIG, ETHP2P_NODEKEY_FILE_MAX,
                          "key file too large: %lld bytes, a key file is 64 hex characters",
                          (long long)st.st_size);
    goto out_close;
  }
  /* Read up to one byte more than allowed so a file that grew is still caught. */
  while (n < sizeof buf) {
    ssize_t got = read(fd, buf + n, sizeof buf - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      err = file_fail(diag, errno, "read", path);
      goto out_wipe;
    }
    if (got == 0)
      break;
    n += (size_t)got;
  }
  err = ethp2p_nodekey_parse(key, buf, n, diag);
  if (err == 0 && (st.st_mode & 077) != 0)
    ethp2p_log(ETHP2P_LOG_WARN, MODULE, "Key file is readable by other users", "path=%s mode=%03o",
               path, (unsigned)(st.st_mode & 0777));
out_wipe:
  wipe(buf, sizeof buf);
out_close:
  close(fd);
  return err;
}

/* Writes all of buf, retrying on EINTR and short writes. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t put = write(fd, buf, len);
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      return -1;
    buf += put;
    len -= (size_t)put;
  }
  return 0;
}

/* fsyncs the folder holding path so the new directory entry survives a crash. */
static void sync_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir;
  int fd;

  if (slash == NULL) {
    dir = strdup(".");
  } else {
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    dir = malloc(n + 1);
    if (dir != NULL) {
      memcpy(dir, path, n);
      dir[n] = '\0';
    }
  }
  if (dir == NULL)
    return;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(dir);
}

/* Moves tmp to path; without overwrite an existing path makes it fail with EEXIST. */
static int place_file(const char *tmp, const char *path, bool overwrite) {
  if (overwrite)
    return rename(tmp, path);
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return -1;
  /* File systems without RENAME_NOREPLACE: link() refuses an existing name too. */
  if (link(tmp, path) != 0)
    return -1;
  (void)unlink(tmp);
  return 0;
}

int ethp2p_nodekey_save(const ethp2p_nodekey *key, const char *path, unsigned flags,
                        ethp2p_diag *diag) {
  char text[ETHP2P_NODEKEY_HEX_LEN + 1];
  bool overwrite = (flags & ETHP2P_NODEKEY_OVERWRITE) != 0;
  struct stat st;
  size_t plen;
  char *tmp;
  int fd, err = 0;

  if (path == NULL || path[0] == '\0')
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "no key file name given");
  if (key == NULL || !ethp2p_nodekey_secret_valid(key->secret))
    return ethp2p_diag_set(diag, ETHP2P_EKEY, 0, "refusing to save an invalid key");
  if (!overwrite && lstat(path, &st) == 0)
    return ethp2p_diag_set(diag, ETHP2P_EEXIST, 0, "key file %s already exists; not overwriting it",
                           path);
  plen = strlen(path);
  tmp = malloc(plen + sizeof ".tmp-XXXXXX");
  if (tmp == NULL)
    return ethp2p_diag_set(diag, ETHP2P_ENOMEM, 0, "out of memory");
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
  fd = mkostemp(tmp, O_CLOEXEC); /* created with mode 0600 */
  if (fd < 0) {
    err = file_fail(diag, errno, "create a temporary file for", path);
    goto out_free;
  }
  ethp2p_nodekey_format(key, text, sizeof text);
  if (fchmod(fd, 0600) != 0 || write_all(fd, text, ETHP2P_NODEKEY_HEX_LEN) != 0 || fsync(fd) != 0) {
    err = file_fail(diag, errno, "write", path);
    close(fd);
    goto out_unlink;
  }
  if (close(fd) != 0) {
    err = file_fail(diag, errno, "write", path);
    goto out_unlink;
  }
  if (place_file(tmp, path, overwrite) != 0) {
    if (errno == EEXIST)
      err = ethp2p_diag_set(diag, ETHP2P_EEXIST, 0,
                            "key file %s already exists; not overwriting it", path);
    else
      err = file_fail(diag, errno, "save", path);
    goto out_unlink;
  }
  sync_parent(path);
  goto out_wipe;
out_unlink:
  (void)unlink(tmp);
out_wipe:
  wipe(text, sizeof text);
out_free:
  free(tmp);
  return err;
}
