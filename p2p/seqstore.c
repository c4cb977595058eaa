/*
 * p2p/seqstore.c — the record's sequence number, kept durably in the data
 * directory (see ethp2p/localnode.h).
 *
 * Crash safety: the value is written to a temp file that is fsynced and then
 * renamed over the real file (rename is atomic on POSIX file systems), and the
 * directory is fsynced so the rename itself survives a power cut.  A crash at
 * any point leaves either the old file or the new one, plus perhaps a torn
 * temp file that the next open removes unread.  Whatever happens, the start
 * value is max(stored, now_ms), so a lost or old file still never lowers seq.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ethp2p/localnode.h"

/* "18446744073709551615\n" and some slack for a CR. */
#define SEQ_FILE_MAX 32

static int errno_code(int e) {
  return e == EACCES || e == EPERM || e == EROFS ? ETHP2P_EPERM : ETHP2P_EIO;
}

static int join(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  return n < 0 || (size_t)n >= cap ? ETHP2P_ETOOBIG : 0;
}

/* Strict decimal: 1..20 digits, no leading zero (except "0"), value fits in
 * 64 bits, optionally one "\n" (or "\r\n") and nothing else. */
static int parse_seq(const char *buf, size_t len, uint64_t *out) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < len && buf[i] >= '0' && buf[i] <= '9') {
    unsigned d = (unsigned)(buf[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return ETHP2P_ESYNTAX;
    v = v * 10 + d;
    i++;
  }
  if (i == 0 || i > 20 || (i > 1 && buf[0] == '0'))
    return ETHP2P_ESYNTAX;
  if (i < len && buf[i] == '\r')
    i++;
  if (i < len && buf[i] == '\n')
    i++;
  if (i != len)
    return ETHP2P_ESYNTAX;
  *out = v;
  return 0;
}

static int read_file(const char *path, uint64_t *seq) {
  char buf[SEQ_FILE_MAX + 1];
  size_t len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? ETHP2P_ENOTFOUND : errno_code(errno);
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof buf - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      close(fd);
      return ETHP2P_EIO;
    }
    if (n == 0)
      break;
    len += (size_t)n;
    if (len == sizeof buf) {
      close(fd);
      return ETHP2P_ESYNTAX; /* longer than any valid value */
    }
  }
  close(fd);
  return parse_seq(buf, len, seq);
}

int ethp2p_seqstore_read(const char *dir, uint64_t *seq) {
  char path[ETHP2P_SEQSTORE_PATH_MAX];
  int rc;
  *seq = 0;
  if (dir == NULL)
    return ETHP2P_EINVAL;
  rc = join(path, sizeof path, dir, ETHP2P_SEQSTORE_FILE);
  if (rc != 0)
    return rc;
  return read_file(path, seq);
}

int ethp2p_seqstore_open(ethp2p_seqstore *st, const char *dir, int64_t now_ms, uint64_t *seq) {
  uint64_t stored = 0, now = now_ms > 0 ? (uint64_t)now_ms : 0;
  int rc;

  memset(st, 0, sizeof *st);
  *seq = now;
  if (dir == NULL)
    return ETHP2P_EINVAL;
  if (strlen(dir) >= sizeof st->dir)
    return ETHP2P_ETOOBIG;
  memcpy(st->dir, dir, strlen(dir) + 1);
  if (join(st->path, sizeof st->path, dir, ETHP2P_SEQSTORE_FILE) != 0 ||
      join(st->tmp, sizeof st->tmp, dir, ETHP2P_SEQSTORE_FILE ".tmp") != 0)
    return ETHP2P_ETOOBIG;
  /* A temp file is the remains of a crash mid-write: never trust it. */
  (void)unlink(st->tmp);
  rc = read_file(st->path, &stored);
  if (rc == ETHP2P_ENOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  st->saved = stored;
  if (stored > *seq)
    *seq = stored;
  return 0;
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno_code(errno);
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int ethp2p_seqstore_save(ethp2p_seqstore *st, uint64_t seq) {
  char buf[SEQ_FILE_MAX];
  int fd, dfd, rc, n;

  if (st == NULL || st->path[0] == 0)
    return ETHP2P_EINVAL;
  n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", seq);
  fd = open(st->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return errno_code(errno);
  rc = write_all(fd, buf, (size_t)n);
  if (rc == 0 && fsync(fd) != 0)
    rc = errno_code(errno);
  if (close(fd) != 0 && rc == 0)
    rc = ETHP2P_EIO;
  if (rc == 0 && rename(st->tmp, st->path) != 0)
    rc = errno_code(errno);
  if (rc != 0) {
    (void)unlink(st->tmp);
    return rc;
  }
  /* Make the rename durable. */
  dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    if (fsync(dfd) != 0 && errno != EINVAL)
      rc = ETHP2P_EIO;
    close(dfd);
  }
  if (rc == 0)
    st->saved = seq;
  return rc;
}
