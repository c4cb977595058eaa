/*
 * p2p/metrics_http.c — the metrics HTTP server on the environment's TCP interface.
 *
 * One request per connection (RFC 9112 §9.6: the response carries "Connection: close"),
 * parsed with the bounded parser of nat/http.h.  After the response the write side is
 * shut down (FIN after the queued bytes) and the connection is closed when the client
 * closes its side or a short linger passes, so the response is never cut by our close.
 *
 * Bounds: ETHP2P_METRICS_MAX_CONNS connections (more are closed at accept), an idle
 * timer per connection (ETHP2P_METRICS_IDLE until a complete request), the parser's
 * head cap (8 KiB, 48 fields) and a small body cap.  Responses to errors:
 *   ETHP2P_ETOOBIG in the head      431 Request Header Fields Too Large (RFC 6585 §5)
 *   ETHP2P_ETOOBIG in the body      413 Content Too Large (RFC 9110 §15.5.14)
 *   any other parse error           400 Bad Request
 *   method other than GET, HEAD     405 Method Not Allowed + Allow (RFC 9110 §15.5.6)
 *   unknown path                    404 Not Found
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/metrics.h"
#include "nat/http.h"
#include "p2p/metrics_impl.h"

#define METRICS_BODY_CAP 1024
#define METRICS_LINGER (2 * ETHP2P_SEC)

const int ethp2p_metrics_http_codes_[METRICS_HTTP_CODES] = {200, 400, 404, 405, 413, 431, 503};

struct metrics_conn {
  ethp2p_metrics *m;
  ethp2p_tcp *tcp;
  ethp2p_timer *timer;
  metrics_conn *prev, *next;
  bool responded;
  ethp2p_http_parser parser;
};

void ethp2p_metrics_http_count_(ethp2p_metrics *m, int code) {
  for (size_t i = 0; i < METRICS_HTTP_CODES; i++)
    if (ethp2p_metrics_http_codes_[i] == code)
      m->http_counts[i]++;
}

static void conn_close(metrics_conn *c) {
  ethp2p_metrics *m = c->m;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    m->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  m->nconns--;
  ethp2p_timer_destroy(c->timer);
  ethp2p_tcp_close(c->tcp);
  ethp2p_http_parser_close(&c->parser);
  free(c);
}

void ethp2p_metrics_http_close_(ethp2p_metrics *m) {
  while (m->conns != NULL)
    conn_close(m->conns);
  if (m->listener != NULL) {
    ethp2p_tcp_close(m->listener);
    m->listener = NULL;
  }
}

static const char *reason_of(int code) {
  switch (code) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 413:
    return "Content Too Large";
  case 431:
    return "Request Header Fields Too Large";
  case 503:
    return "Service Unavailable";
  default:
    return "Internal Server Error";
  }
}

/* Sends the response, half-closes, and waits (bounded) for the client to close. */
static void respond(metrics_conn *c, int code, const char *ctype, const char *body, size_t body_len,
                    bool head_only) {
  ethp2p_http_field fields[4];
  size_t nf = 0;
  fields[nf++] = (ethp2p_http_field){"Content-Type", ctype};
  fields[nf++] = (ethp2p_http_field){"Connection", "close"};
  fields[nf++] = (ethp2p_http_field){"Cache-Control", "no-store"};
  if (code == 405)
    fields[nf++] = (ethp2p_http_field){"Allow", "GET, HEAD"};
  size_t need = 0;
  int rc = ethp2p_http_response_build(NULL, 0, &need, code, reason_of(code), fields, nf,
                                      (const uint8_t *)body, body_len, 0);
  uint8_t *buf = rc == ETHP2P_ESPACE ? malloc(need) : NULL;
  size_t len = 0;
  if (buf != NULL && ethp2p_http_response_build(buf, need, &len, code, reason_of(code), fields, nf,
                                                (const uint8_t *)body, body_len, 0) == 0) {
    if (head_only)
      len -= body_len;
    ethp2p_tcp_write(c->tcp, buf, len);
  }
  free(buf);
  ethp2p_metrics_http_count_(c->m, code);
  ethp2p_tcp_shutdown(c->tcp);
  c->responded = true;
  ethp2p_timer_start(c->timer, ethp2p_env_now(c->m->env) + METRICS_LINGER);
}

static void respond_text(metrics_conn *c, int code, const char *text, bool head_only) {
  respond(c, code, "text/plain; charset=utf-8", text, strlen(text), head_only);
}

/* Path of a request target without its query ("/metrics?x" -> "/metrics"). */
static bool path_is(const char *target, const char *path) {
  size_t n = strlen(path);
  return strncmp(target, path, n) == 0 && (target[n] == '\0' || target[n] == '?');
}

static void serve_request(metrics_conn *c, const ethp2p_http_msg *req) {
  bool head = strcmp(req->method, "HEAD") == 0;
  if (!head && strcmp(req->method, "GET") != 0) {
    respond_text(c, 405, "method not allowed: use GET\n", false);
    return;
  }
  char *page = NULL;
  size_t len = 0;
  int rc;
  if (path_is(req->target, "/metrics")) {
    rc = ethp2p_metrics_render(c->m, &page, &len);
    if (rc == 0)
      respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", page, len, head);
  } else if (path_is(req->target, "/status")) {
    rc = ethp2p_metrics_status_json(c->m, &page, &len);
    if (rc == 0)
      respond(c, 200, "application/json", page, len, head);
  } else if (path_is(req->target, "/")) {
    respond_text(c, 200,
                 "ethp2p node\n/metrics  Prometheus metrics (text format 0.0.4)\n"
                 "/status   record, mappings and recent events (JSON)\n",
                 head);
    return;
  } else {
    respond_text(c, 404, "not found: try /metrics or /status\n", head);
    return;
  }
  free(page);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_WARN, "metrics", "Could not render page", "path=%s err=%s", req->target,
               ethp2p_err_name(rc));
    respond_text(c, 503, "page could not be rendered\n", head);
  }
}

static void on_read(ethp2p_tcp *tcp, int status, const uint8_t *buf, size_t len, void *data) {
  metrics_conn *c = data;
  if (status != 0) {
    conn_close(c);
    return;
  }
  if (c->responded)
    return; /* the request is answered; drain until the client closes */
  ethp2p_diag diag;
  memset(&diag, 0, sizeof diag);
  int rc = ethp2p_http_parser_feed(&c->parser, buf, len, NULL, &diag);
  if (rc == 0)
    return;
  if (rc == 1) {
    serve_request(c, &c->parser.msg);
    return;
  }
  int code = 400;
  if (rc == ETHP2P_ETOOBIG)
    code = (strstr(diag.msg, "body") != NULL || strstr(diag.msg, "Content-Length") != NULL ||
            strstr(diag.msg, "chunk") != NULL)
               ? 413
               : 431;
  ethp2p_log(ETHP2P_LOG_DEBUG, "metrics", "Refused a request", "code=%d err=%s offset=%zu msg=%s",
             code, ethp2p_err_name(rc), diag.offset, diag.msg);
  respond_text(c, code, code == 400 ? "bad request\n" : reason_of(code), false);
}

static void on_timer(ethp2p_timer *t, void *data) {
  (void)t;
  conn_close(data);
}

static void on_accept(ethp2p_tcp *listener, ethp2p_tcp *tcp, void *data) {
  (void)listener;
  ethp2p_metrics *m = data;
  if (m->nconns >= ETHP2P_METRICS_MAX_CONNS) {
    m->http_refused++;
    ethp2p_tcp_close(tcp);
    return;
  }
  metrics_conn *c = calloc(1, sizeof *c);
  if (c == NULL) {
    ethp2p_tcp_close(tcp);
    return;
  }
  c->m = m;
  c->tcp = tcp;
  ethp2p_http_parser_init(&c->parser, ETHP2P_HTTP_REQUEST, METRICS_BODY_CAP, false);
  if (ethp2p_timer_create(m->env, &c->timer, on_timer, c) != 0) {
    ethp2p_tcp_close(tcp);
    free(c);
    return;
  }
  c->next = m->conns;
  if (m->conns != NULL)
    m->conns->prev = c;
  m->conns = c;
  m->nconns++;
  ethp2p_timer_start(c->timer, ethp2p_env_now(m->env) + ETHP2P_METRICS_IDLE);
  if (ethp2p_tcp_read_start(tcp, on_read, c) != 0)
    conn_close(c);
}

int ethp2p_metrics_serve(ethp2p_metrics *m, const ethp2p_addr *listen) {
  if (m == NULL || listen == NULL)
    return ETHP2P_EINVAL;
  if (m->listener != NULL)
    return ETHP2P_ESTATE;
  int rc = ethp2p_tcp_listen(m->env, &m->listener, listen, on_accept, m);
  char abuf[ETHP2P_ADDRSTRLEN];
  if (rc != 0) {
    m->listener = NULL;
    ethp2p_log(ETHP2P_LOG_ERROR, "metrics", "Could not start the metrics server", "addr=%s err=%s",
               ethp2p_addr_format(listen, true, abuf, sizeof abuf), ethp2p_err_name(rc));
    return rc;
  }
  ethp2p_addr at;
  if (ethp2p_tcp_local_addr(m->listener, &at) != 0)
    at = *listen;
  ethp2p_log(ETHP2P_LOG_INFO, "metrics", "Serving metrics", "addr=http://%s/metrics",
             ethp2p_addr_format(&at, true, abuf, sizeof abuf));
  return 0;
}

int ethp2p_metrics_local_addr(ethp2p_metrics *m, ethp2p_addr *out) {
  if (m == NULL || out == NULL)
    return ETHP2P_EINVAL;
  if (m->listener == NULL)
    return ETHP2P_ESTATE;
  return ethp2p_tcp_local_addr(m->listener, out);
}
