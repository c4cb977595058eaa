/*
 * nat/http.h — a small bounded HTTP/1.1 message codec (RFC 9112), URL helpers, and a
 * one-exchange HTTP client on the environment's TCP interface.
 *
 * The parser and builders are pure (no I/O): the UPnP client parses responses with them and
 * the gateway emulator (nat/gateway/) parses requests and builds responses with them.
 * The client (nat/http_client.c) is the only part that touches the environment.
 *
 * Parser model: caller-owned ethp2p_http_parser, fed bytes in arbitrary pieces.  The head
 * (start line + header fields) is kept in a fixed buffer inside the parser; the body is
 * copied to a heap buffer that never grows past the caller's body cap.  Everything read
 * from the wire has a cap:
 *   head (start line + fields)   ETHP2P_HTTP_MAX_HEAD bytes           -> ETHP2P_ETOOBIG
 *   number of header fields      ETHP2P_HTTP_MAX_HEADERS              -> ETHP2P_ETOOBIG
 *   body (after de-chunking)     body_cap given to init               -> ETHP2P_ETOOBIG
 *   one chunk-size line          ETHP2P_HTTP_MAX_CHUNK_LINE (with extensions)
 *   trailer section              ETHP2P_HTTP_MAX_TRAILER bytes
 *
 * Body framing (RFC 9112 §6.3), in this order:
 *   - responses to HEAD (see head_only), 1xx, 204 and 304 have no body;
 *   - Transfer-Encoding: the value must be exactly "chunked" (case-insensitive, OWS
 *     trimmed); other codings are ETHP2P_EUNSUPP.  In a request, Transfer-Encoding together
 *     with Content-Length is refused (ETHP2P_ESYNTAX, request smuggling); in a response the
 *     chunked coding wins (§6.3 item 3);
 *   - Content-Length: 1*DIGIT, overflow-checked; repeated fields must agree; a list or a
 *     sign is ETHP2P_ESYNTAX;
 *   - otherwise a request has no body and a response's body runs to end of stream
 *     (close-delimited; call ethp2p_http_parser_eof when the peer closes).
 * Chunked (§7.1): chunk-size is 1*HEXDIG (no sign, no spaces before it, overflow-checked),
 * chunk extensions after ';' are skipped, chunk data must be followed by CRLF, the last
 * chunk "0" may be followed by trailer fields, which are read and ignored.
 * Interim 1xx responses (other than 101) are skipped and parsing continues with the final
 * response.  LF-only line ends are accepted; obsolete line folding is accepted in responses
 * (replaced by spaces) and refused in requests.
 */
#ifndef ETHP2P_NAT_HTTP_H
#define ETHP2P_NAT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_HTTP_MAX_HEAD 8192
#define ETHP2P_HTTP_MAX_HEADERS 48
#define ETHP2P_HTTP_MAX_CHUNK_LINE 256
#define ETHP2P_HTTP_MAX_TRAILER 4096

typedef enum ethp2p_http_kind {
  ETHP2P_HTTP_REQUEST = 1,
  ETHP2P_HTTP_RESPONSE = 2,
} ethp2p_http_kind;

typedef enum ethp2p_http_framing {
  ETHP2P_HTTP_FRAMING_NONE = 0, /* no body */
  ETHP2P_HTTP_FRAMING_LENGTH,   /* Content-Length */
  ETHP2P_HTTP_FRAMING_CHUNKED,  /* Transfer-Encoding: chunked */
  ETHP2P_HTTP_FRAMING_CLOSE,    /* response body delimited by end of stream */
} ethp2p_http_framing;

/* One header field; both strings are NUL-terminated, borrowed from the parser. */
typedef struct ethp2p_http_header {
  const char *name;
  const char *value; /* OWS-trimmed */
} ethp2p_http_header;

/*
 * A parsed message.  Every pointer borrows from the parser that produced it and stays
 * valid until that parser is reset or closed.  Fields of the other kind are NULL / 0.
 */
typedef struct ethp2p_http_msg {
  ethp2p_http_kind kind;
  int version_minor;  /* HTTP/1.<minor>, 0 or 1 */
  const char *method; /* request: "GET", "POST", ... */
  const char *target; /* request: "/rootDesc.xml", "*" */
  int status;         /* response: 100..999 */
  const char *reason; /* response: reason phrase, may be "" */
  size_t nheaders;
  ethp2p_http_header headers[ETHP2P_HTTP_MAX_HEADERS];
  ethp2p_http_framing framing;
  uint64_t content_length; /* when framing == LENGTH */
  const uint8_t *body;     /* body bytes, followed by a NUL not counted in body_len; "" if none */
  size_t body_len;
} ethp2p_http_msg;

/* The parser.  Treat everything but `msg` as private. */
typedef struct ethp2p_http_parser {
  ethp2p_http_msg msg; /* complete when feed returned 1 */
  /* private */
  ethp2p_http_kind kind;
  bool head_only;
  int state;
  size_t body_cap;
  size_t offset; /* bytes consumed so far, for diagnostics */
  size_t head_len;
  size_t line_start; /* index in head[] of the current line */
  char head[ETHP2P_HTTP_MAX_HEAD + 1];
  uint8_t *body;
  size_t body_len;
  size_t body_alloc;
  uint64_t remaining; /* bytes left in the Content-Length body or the current chunk */
  char line[ETHP2P_HTTP_MAX_CHUNK_LINE + 1];
  size_t line_len;
  size_t trailer_len;
} ethp2p_http_parser;

/*
 * Initializes caller memory for one message of `kind`.  body_cap bounds the (decoded)
 * body.  head_only: the response answers a HEAD request (no body whatever the headers say).
 * No allocation happens here; ethp2p_http_parser_close must still be called.
 */
void ethp2p_http_parser_init(ethp2p_http_parser *p, ethp2p_http_kind kind, size_t body_cap,
                             bool head_only);

/*
 * Feeds bytes.  Returns 1 when the message is complete (p->msg is filled; *consumed says
 * how many bytes of buf belonged to it — the rest is the next message), 0 when all of buf
 * was consumed and more is needed, or a negative code: ETHP2P_ESYNTAX (malformed),
 * ETHP2P_ETOOBIG (a cap was hit), ETHP2P_EUNSUPP (unsupported transfer coding),
 * ETHP2P_ENOMEM, ETHP2P_ESTATE (already complete or failed).  After an error the parser
 * stays failed until reset.  consumed may be NULL; diag may be NULL (offset = bytes of the
 * stream consumed before the problem).
 */
int ethp2p_http_parser_feed(ethp2p_http_parser *p, const uint8_t *buf, size_t len, size_t *consumed,
                            ethp2p_diag *diag);

/*
 * The peer closed the stream.  Returns 1 if that completes the message (close-delimited
 * body, or an already complete message), ETHP2P_ETRUNC if the message was cut short
 * (including "nothing received at all"), ETHP2P_ESTATE after a failure.
 */
int ethp2p_http_parser_eof(ethp2p_http_parser *p, ethp2p_diag *diag);

/* True once feed or eof returned 1. */
bool ethp2p_http_parser_done(const ethp2p_http_parser *p);

/* Forgets the current message (freeing its body) and gets ready for the next one. */
void ethp2p_http_parser_reset(ethp2p_http_parser *p);

/* Frees the body buffer.  Safe to call twice. */
void ethp2p_http_parser_close(ethp2p_http_parser *p);

/* The first header named `name` (case-insensitive), or NULL. */
const char *ethp2p_http_msg_header(const ethp2p_http_msg *msg, const char *name);

/* ---------------------------------------------------------------------------
 * Builders.  Each writes a complete message into buf (not NUL-terminated).
 * Returns 0, ETHP2P_EINVAL (NULL argument, CR/LF/NUL in a field, empty name), or
 * ETHP2P_ESPACE with *len set to the size needed.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_http_field {
  const char *name;
  const char *value;
} ethp2p_http_field;

/* Don't add Content-Length: the caller frames the body itself (chunked body built with
 * ethp2p_http_chunked_build plus a Transfer-Encoding field, or a close-delimited body). */
#define ETHP2P_HTTP_BUILD_NO_LENGTH 0x1

/* "METHOD target HTTP/1.1", the fields in order, Content-Length when body_len > 0 (or the
 * method is POST/PUT) unless NO_LENGTH, an empty line, the body. */
int ethp2p_http_request_build(uint8_t *buf, size_t size, size_t *len, const char *method,
                              const char *target, const ethp2p_http_field *fields, size_t nfields,
                              const uint8_t *body, size_t body_len, unsigned flags);

/* "HTTP/1.1 status reason", the fields, Content-Length (always, unless NO_LENGTH), an
 * empty line, the body. */
int ethp2p_http_response_build(uint8_t *buf, size_t size, size_t *len, int status,
                               const char *reason, const ethp2p_http_field *fields, size_t nfields,
                               const uint8_t *body, size_t body_len, unsigned flags);

/* Encodes data as a chunked body (RFC 9112 §7.1): chunks of at most chunk_len bytes
 * (lower-case hex sizes), then "0\r\n\r\n".  chunk_len 0 is EINVAL. */
int ethp2p_http_chunked_build(uint8_t *buf, size_t size, size_t *len, const uint8_t *data,
                              size_t data_len, size_t chunk_len);

/* ---------------------------------------------------------------------------
 * URLs (RFC 3986, the subset routers use: http://host[:port][/path]).
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_http_url {
  char host[256]; /* without brackets for IPv6 literals */
  uint16_t port;  /* 80 when absent */
  char path[512]; /* "/..." including any query; "/" when absent */
  bool has_addr;  /* host is an IP literal; addr then holds it with `port` */
  ethp2p_addr addr;
} ethp2p_http_url;

/*
 * Parses an absolute http URL (scheme case-insensitive; https and others are
 * ETHP2P_EUNSUPP; userinfo is refused; port must be 1..65535).  Returns 0,
 * ETHP2P_ESYNTAX, ETHP2P_ETOOBIG, ETHP2P_EUNSUPP.  *out is zeroed first.
 */
int ethp2p_http_url_parse(ethp2p_http_url *out, const char *url, ethp2p_diag *diag);

/*
 * Resolves a reference against a base URL the way UPnP descriptions need (RFC 3986 §5.2,
 * without dot-segment removal): an absolute "http://..." ref is returned as is; "/p"
 * replaces the base path; "//host/p" replaces the authority; anything else is appended to
 * the base's directory.  base must be absolute.  Writes a NUL-terminated string.
 * Returns 0, ETHP2P_EINVAL, ETHP2P_ESYNTAX (bad base), ETHP2P_ESPACE.
 */
int ethp2p_http_url_resolve(char *out, size_t size, const char *base, const char *ref);

/* ---------------------------------------------------------------------------
 * Client (nat/http_client.c): one request/response exchange on a fresh TCP connection.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_http_client ethp2p_http_client;

/*
 * Outcome of an exchange.  status 0: resp is the complete response (any HTTP status code;
 * borrowed, valid only during the call).  Otherwise resp is NULL and status is one of:
 *   ETHP2P_ECONNREFUSED   connection refused
 *   ETHP2P_ETIMEDOUT      connect or the whole exchange took longer than the timeout
 *   ETHP2P_ECONNRESET     the connection was reset / broke during the exchange
 *   ETHP2P_ETOOBIG        the response exceeded a cap (head or body_cap)
 *   ETHP2P_EPROTO         the response was malformed or cut short (see ethp2p_http_client_diag)
 *   ETHP2P_ENETUNREACH, ETHP2P_EIO, ...  other connection errors from the environment
 * The exchange is finished when the callback returns: the client frees itself then.
 */
typedef void (*ethp2p_http_client_cb)(ethp2p_http_client *client, int status,
                                      const ethp2p_http_msg *resp, void *data);

/*
 * Starts an exchange: connect to `to` (from `from`, or any local address when NULL),
 * write req (copied), read and parse the response (body at most body_cap bytes; head_only
 * when req is a HEAD), all within `timeout` nanoseconds measured on the env clock.
 * Returns 0 (cb will run exactly once, later, unless cancelled) or a negative code
 * (ETHP2P_EINVAL, ETHP2P_ENOMEM, or the env's immediate connect error; cb never runs).
 * Out: *out the handle, owned by the client machinery until cb returns or cancel.
 */
int ethp2p_http_client_start(ethp2p_env *env, ethp2p_http_client **out, const ethp2p_addr *to,
                             const ethp2p_addr *from, const uint8_t *req, size_t req_len,
                             size_t body_cap, bool head_only, ethp2p_time timeout,
                             ethp2p_http_client_cb cb, void *data);

/* Aborts an exchange that has not called back yet: closes the connection, frees the
 * handle; cb never runs.  Must not be called from inside or after the callback. */
void ethp2p_http_client_cancel(ethp2p_http_client *client);

/* During the callback: what was wrong with the response (EPROTO / ETOOBIG), else "". */
const ethp2p_diag *ethp2p_http_client_diag(const ethp2p_http_client *client);

#ifdef __cplusplus
}
#endif
#endif
