/* cmd/ethp2p/cli.c — helpers shared by the subcommands. */
#include "cmd/ethp2p/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "ethp2p/error.h"

int cli_read_all(const char *path, size_t max, uint8_t **out, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  uint8_t *buf;
  size_t n = 0, cap = 4096;
  int err = 0;

  *out = NULL;
  *len = 0;
  if (f == NULL)
    return ETHP2P_EIO;
  buf = malloc(cap + 1);
  if (buf == NULL) {
    err = ETHP2P_ENOMEM;
    goto out_close;
  }
  for (;;) {
    size_t got;
    if (n == cap) {
      uint8_t *nb;
      if (cap > max) {
        err = ETHP2P_ETOOBIG;
        goto out_free;
      }
      cap *= 2;
      nb = realloc(buf, cap + 1);
      if (nb == NULL) {
        err = ETHP2P_ENOMEM;
        goto out_free;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    err = ETHP2P_EIO;
    goto out_free;
  }
  if (n > max) {
    err = ETHP2P_ETOOBIG;
    goto out_free;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  goto out_close;
out_free:
  free(buf);
out_close:
  if (f != stdin)
    fclose(f);
  return err;
}

void cli_log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                  const char *kv) {
  int json = data != NULL && *(const int *)data == 1;
  struct timeval tv;
  struct tm tm;
  char ts[64];

  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  if (json) {
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    /* msg and kv come from our own code, but quote defensively anyway. */
    fprintf(stderr, "{\"t\":\"%s.%03ld\",\"lvl\":\"", ts, (long)(tv.tv_usec / 1000));
    for (const char *p = ethp2p_log_level_name(level); *p; p++)
      fputc(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p, stderr);
    fprintf(stderr, "\",\"module\":\"%s\",\"msg\":\"", module);
    for (const char *p = msg; *p; p++)
      fprintf(stderr, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    fprintf(stderr, "\",\"kv\":\"");
    for (const char *p = kv; *p; p++)
      fprintf(stderr, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    fprintf(stderr, "\"}\n");
  } else {
    strftime(ts, sizeof ts, "%m-%d|%H:%M:%S", &tm);
    fprintf(stderr, "%-5s[%s.%03ld] %-40s %s\n", ethp2p_log_level_name(level), ts,
            (long)(tv.tv_usec / 1000), msg, kv);
  }
}
