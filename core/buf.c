/* core/buf.c — see core/buf.h. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/error.h"

void ethp2p_buf_init(ethp2p_buf *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->max = max;
}

static int reserve(ethp2p_buf *b, size_t extra) {
  size_t want, ncap;
  char *np;
  if (b->err != 0)
    return b->err;
  if (extra >= b->max || b->len + extra + 1 > b->max)
    return b->err = ETHP2P_ETOOBIG;
  want = b->len + extra + 1;
  if (want <= b->cap)
    return 0;
  ncap = b->cap != 0 ? b->cap : 256;
  while (ncap < want)
    ncap *= 2;
  if (ncap > b->max)
    ncap = b->max;
  if ((np = realloc(b->p, ncap)) == NULL)
    return b->err = ETHP2P_ENOMEM;
  b->p = np;
  b->cap = ncap;
  return 0;
}

void ethp2p_buf_add(ethp2p_buf *b, const char *s, size_t n) {
  if (reserve(b, n) != 0)
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void ethp2p_buf_puts(ethp2p_buf *b, const char *s) {
  ethp2p_buf_add(b, s, strlen(s));
}

void ethp2p_buf_vprintf(ethp2p_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  int n;
  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) {
    if (b->err == 0)
      b->err = ETHP2P_EINVAL;
    return;
  }
  if (reserve(b, (size_t)n) != 0)
    return;
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void ethp2p_buf_printf(ethp2p_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ethp2p_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void ethp2p_buf_free(ethp2p_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}
