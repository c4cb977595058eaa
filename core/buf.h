/*
 * core/buf.h — a growable text buffer with a cap, internal to the library.
 * The one buffer behind every rendered page or document (the metrics page,
 * the gateway's descriptions and SOAP answers, the doctor's screen).
 *
 * Errors are sticky: the first failure (the cap, or no memory) is kept in
 * `err`, later appends do nothing, and the caller checks once at the end.
 * The text is always NUL-terminated when p is not NULL.
 */
#ifndef ETHP2P_CORE_BUF_H
#define ETHP2P_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ethp2p_buf {
  char *p;    /* the text (NULL until the first append); owned by the buffer */
  size_t len; /* bytes of text, without the NUL */
  size_t cap; /* bytes allocated */
  size_t max; /* the cap: len + 1 never exceeds it */
  int err;    /* 0, ETHP2P_ETOOBIG (cap reached) or ETHP2P_ENOMEM */
} ethp2p_buf;

/* An empty buffer that will hold at most max - 1 bytes of text.  No allocation. */
void ethp2p_buf_init(ethp2p_buf *b, size_t max);

/* Appends n bytes of s (which need not be NUL-terminated). */
void ethp2p_buf_add(ethp2p_buf *b, const char *s, size_t n);

/* Appends the NUL-terminated s. */
void ethp2p_buf_puts(ethp2p_buf *b, const char *s);

/* Appends formatted text.  Never cuts: text that does not fit fails as a whole. */
void ethp2p_buf_printf(ethp2p_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ethp2p_buf_vprintf(ethp2p_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Frees the text and returns the buffer to empty (max and err are kept). */
void ethp2p_buf_free(ethp2p_buf *b);

#endif
