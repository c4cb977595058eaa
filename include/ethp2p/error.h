/*
 * ethp2p/error.h — the one error table of the project.
 *
 * Every fallible function returns 0 (or a non-negative count) on success and a
 * negative ETHP2P_E* code on failure.  The table below is the single source of
 * the codes, their names and their messages (like libuv's UV_ERRNO_MAP).
 *
 * Parsers of outside bytes additionally fill an optional ethp2p_diag with a
 * human sentence and the byte offset where the problem was found, because
 * users read those messages.
 */
#ifndef ETHP2P_ERROR_H
#define ETHP2P_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message) */
#define ETHP2P_ERRNO_MAP(X)                                                                        \
  X(EINVAL, -1, "invalid argument")                                                                \
  X(ENOMEM, -2, "out of memory")                                                                   \
  X(ETOOBIG, -3, "input too large")                                                                \
  X(ETRUNC, -4, "input truncated")                                                                 \
  X(ENONCANON, -5, "non-canonical encoding")                                                       \
  X(ETRAILING, -6, "trailing data after item")                                                     \
  X(EDEPTH, -7, "nesting too deep")                                                                \
  X(ETYPE, -8, "unexpected item type")                                                             \
  X(ESIG, -9, "invalid signature")                                                                 \
  X(ESCHEME, -10, "unknown identity scheme")                                                       \
  X(EORDER, -11, "keys not sorted or not unique")                                                  \
  X(ENOTFOUND, -12, "not found")                                                                   \
  X(ESPACE, -13, "output buffer too small")                                                        \
  X(EIO, -14, "i/o error")                                                                         \
  X(EPERM, -15, "permission denied")                                                               \
  X(EKEY, -16, "invalid key")                                                                      \
  X(ESYNTAX, -17, "syntax error")                                                                  \
  X(ETIMEDOUT, -18, "timed out")                                                                   \
  X(ECONNREFUSED, -19, "connection refused")                                                       \
  X(ECONNRESET, -20, "connection reset")                                                           \
  X(EADDRINUSE, -21, "address in use")                                                             \
  X(ENETUNREACH, -22, "network unreachable")                                                       \
  X(ECANCELED, -23, "operation canceled")                                                          \
  X(EBUSY, -24, "resource busy")                                                                   \
  X(EPROTO, -25, "protocol error")                                                                 \
  X(EUNSUPP, -26, "not supported")                                                                 \
  X(EREFUSED, -27, "request refused by peer")                                                      \
  X(ECLOSED, -28, "handle closed")                                                                 \
  X(ENOGATEWAY, -29, "no gateway found")                                                           \
  X(ESTATE, -30, "invalid state")                                                                  \
  X(ERANGE, -31, "value out of range")                                                             \
  X(EEXIST, -32, "already exists")                                                                 \
  X(EPERMANENT, -33, "gateway grants only permanent leases")                                       \
  X(EADDRCHANGED, -34, "local address changed")

enum {
#define ETHP2P_ERR_ENUM(name, val, msg) ETHP2P_##name = (val),
  ETHP2P_ERRNO_MAP(ETHP2P_ERR_ENUM)
#undef ETHP2P_ERR_ENUM
};

/* Returns a static message for an error code ("unknown error" otherwise). */
const char *ethp2p_strerror(int err);
/* Returns the static name of an error code, e.g. "ETHP2P_ETRUNC". */
const char *ethp2p_err_name(int err);

/*
 * Diagnostics for parsers of outside bytes.  Every parser that takes an
 * `ethp2p_diag *diag` accepts NULL.  On failure it writes one sentence to
 * diag->msg (without a trailing newline) and the byte offset in the input
 * where the problem was detected to diag->offset.  On success diag is left
 * as it was.
 */
typedef struct ethp2p_diag {
  size_t offset;
  char msg[192];
} ethp2p_diag;

/* printf-style helper used by parsers; returns `err` so callers can write
 * `return ethp2p_diag_set(diag, ETHP2P_ETRUNC, off, "...", ...);`.  NULL diag is fine. */
int ethp2p_diag_set(ethp2p_diag *diag, int err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif
#endif
