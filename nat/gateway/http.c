/*
 * nat/gateway/http.c — the bounded HTTP/1.1 server behind the UPnP IGD:
 * descriptions (GET) and SOAP control (POST), one request per connection
 * ("Connection: close", as miniupnpd does).
 *
 * Defences (hostile LAN clients must not stop it serving others):
 *   - a head cap (cfg.http_max_header, and the parser's own 8 KiB) -> 431;
 *     a body cap (cfg.http_max_body) -> 413; malformed -> 400;
 *   - one deadline per connection (cfg.http_timeout_ms from accept) -> 408;
 *   - at most cfg.http_max_per_client connections per client address: more
 *     are closed at accept;
 *   - at most cfg.http_max_conns connections: at the cap, the oldest
 *     connection still waiting for its request is evicted for the new one.
 * After a response the server half-closes and waits (up to 2 s) for the
 * client to close, so the response is never cut off by an early close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "nat/gateway/gw_internal.h"
#include "nat/http.h"
#include "nat/xml.h"

#define LOGMOD "gateway"
#define LINGER (2 * ETHP2P_SEC)
#define SERVER_HDR "Linux/6 UPnP/1.1 ethp2p-gateway/0.1"
#define CHUNK_LEN 128

enum conn_state {
  C_READING = 0, /* waiting for (the rest of) the request */
  C_DELAYED,     /* reply held back by the slow quirk */
  C_DROPPED,     /* reply dropped: wait for the deadline, then close */
  C_LINGER,      /* reply sent and FIN queued; waiting for the client to close */
};

typedef struct gw_conn {
  struct gw_conn *next, *prev;
  struct gw_http *srv;
  ethp2p_tcp *tcp;
  ethp2p_addr peer;
  ethp2p_timer *timer;
  enum conn_state state;
  ethp2p_http_parser parser;
  size_t received;
  unsigned eoh; /* consecutive line ends seen (CRs ignored) */
  bool head_done;
  uint8_t *pending;
  size_t pending_len;
} gw_conn;

struct gw_http {
  ethp2p_gateway *gw;
  ethp2p_tcp *listener;
  gw_conn *head, *tail; /* oldest first */
  unsigned n;
};

unsigned gw_http_count(const ethp2p_gateway *gw) {
  return gw->http ? gw->http->n : 0;
}

static void conn_close(gw_conn *c) {
  struct gw_http *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else
    s->tail = c->prev;
  s->n--;
  if (s->gw->soap_busy_owner == c)
    s->gw->soap_busy_owner = NULL;
  ethp2p_timer_destroy(c->timer);
  ethp2p_tcp_close(c->tcp);
  ethp2p_http_parser_close(&c->parser);
  free(c->pending);
  free(c);
}

static void conn_send_now(gw_conn *c, const uint8_t *buf, size_t len) {
  ethp2p_gateway *gw = c->srv->gw;
  ethp2p_tcp_write(c->tcp, buf, len);
  ethp2p_tcp_shutdown(c->tcp);
  c->state = C_LINGER;
  ethp2p_timer_start(c->timer, gw_now(gw) + LINGER);
}

/* Builds a full response with extra header fields.  soap: body is a SOAP envelope (EXT). */
static void respond_x(gw_conn *c, int status, const char *reason, const char *ctype,
                      const uint8_t *body, size_t body_len, bool soap,
                      const ethp2p_http_field *extra, size_t nextra) {
  ethp2p_gateway *gw = c->srv->gw;
  bool chunked = (gw->cfg.quirks & ETHP2P_GW_Q_CHUNKED) != 0 && body_len > 0;
  ethp2p_http_field f[8];
  size_t nf = 0, len = 0, clen = 0, cap;
  uint8_t *cbody = NULL, *out;
  unsigned flags = 0;
  ethp2p_time delay;

  f[nf++] = (ethp2p_http_field){"Server", SERVER_HDR};
  f[nf++] = (ethp2p_http_field){"Connection", "close"};
  if (ctype != NULL)
    f[nf++] = (ethp2p_http_field){"Content-Type", ctype};
  if (soap)
    f[nf++] = (ethp2p_http_field){"EXT", ""};
  for (size_t i = 0; i < nextra && nf < 7; i++)
    f[nf++] = extra[i];
  if (chunked) {
    f[nf++] = (ethp2p_http_field){"Transfer-Encoding", "chunked"};
    cap = body_len + (body_len / CHUNK_LEN + 2) * 16;
    cbody = malloc(cap);
    if (cbody == NULL ||
        ethp2p_http_chunked_build(cbody, cap, &clen, body, body_len, CHUNK_LEN) != 0) {
      free(cbody);
      conn_close(c);
      return;
    }
    body = cbody;
    body_len = clen;
    flags = ETHP2P_HTTP_BUILD_NO_LENGTH;
  }
  cap = body_len + 512;
  out = malloc(cap);
  if (out == NULL || ethp2p_http_response_build(out, cap, &len, status, reason, f, nf, body,
                                                body_len, flags) != 0) {
    free(out);
    free(cbody);
    conn_close(c);
    return;
  }
  free(cbody);
  delay = gw_reply_delay(gw);
  if (delay == 0) {
    conn_send_now(c, out, len);
    free(out);
    return;
  }
  c->pending = out;
  c->pending_len = len;
  c->state = C_DELAYED;
  ethp2p_timer_start(c->timer, gw_now(gw) + delay);
}

static void respond(gw_conn *c, int status, const char *reason, const char *ctype,
                    const uint8_t *body, size_t body_len, bool soap) {
  respond_x(c, status, reason, ctype, body, body_len, soap, NULL, 0);
}

static void respond_error(gw_conn *c, int status, const char *reason) {
  char body[128];
  int n =
      snprintf(body, sizeof body, "<html><body><h1>%d %s</h1></body></html>\r\n", status, reason);
  respond(c, status, reason, "text/html", (const uint8_t *)body, (size_t)n, false);
}

static void handle_get(gw_conn *c, const char *path) {
  char *doc = NULL;
  size_t len = 0;
  int rc = gw_desc_get(c->srv->gw, path, &doc, &len);
  c->srv->gw->stats.gets++;
  if (rc == ETHP2P_ENOTFOUND) {
    respond_error(c, 404, "Not Found");
    return;
  }
  if (rc != 0) {
    respond_error(c, 500, "Internal Server Error");
    return;
  }
  respond(c, 200, "OK", "text/xml; charset=\"utf-8\"", (const uint8_t *)doc, len, false);
  free(doc);
}

static void handle_post(gw_conn *c, const ethp2p_http_msg *msg, const char *path) {
  ethp2p_gateway *gw = c->srv->gw;
  gw_soap_reply rep = {0};
  char fault[1024];
  size_t flen = 0;

  if (strncmp(path, "/ctl/", 5) != 0) {
    respond_error(c, 404, "Not Found");
    return;
  }
  if ((gw->cfg.quirks & ETHP2P_GW_Q_NO_CONCURRENT) && gw->soap_busy_owner != NULL &&
      gw->soap_busy_owner != c) {
    /* Routers that serve one request at a time fail a second one that arrives while the
     * first is in progress: from its arrival until its connection is closed. */
    if (ethp2p_soap_fault_build(fault, sizeof fault, &flen, 501, "ActionFailed") == 0)
      respond(c, 500, "Internal Server Error", "text/xml; charset=\"utf-8\"",
              (const uint8_t *)fault, flen, true);
    else
      respond_error(c, 500, "Internal Server Error");
    return;
  }
  gw->soap_busy_owner = c;
  gw->stats.soap_requests++;
  if (gw_soap_handle(gw, path, ethp2p_http_msg_header(msg, "SOAPAction"), msg->body, msg->body_len,
                     &c->peer, &rep) != 0) {
    respond_error(c, 500, "Internal Server Error");
    return;
  }
  if (gw_should_drop(gw)) {
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Dropped SOAP reply (drop quirk)", "%s", "");
    c->state = C_DROPPED; /* the deadline timer closes it */
    free(rep.body);
    return;
  }
  respond(c, rep.status, rep.status == 200 ? "OK" : "Internal Server Error",
          "text/xml; charset=\"utf-8\"", (const uint8_t *)rep.body, rep.len, true);
  free(rep.body);
}

static void handle_gena(gw_conn *c, const ethp2p_http_msg *msg, const char *path) {
  ethp2p_gateway *gw = c->srv->gw;
  gw_gena_answer a;
  ethp2p_http_field f[2];
  gw_gena_handle(gw, msg, path, &c->peer, &a);
  if (!a.grant) {
    respond_x(c, a.status, a.reason, NULL, NULL, 0, false, NULL, 0);
    return;
  }
  f[0] = (ethp2p_http_field){"SID", a.sid};
  f[1] = (ethp2p_http_field){"TIMEOUT", a.timeout};
  respond_x(c, 200, "OK", NULL, NULL, 0, false, f, 2);
  /* After the grant is on its way, as miniupnpd does; a slow quirk delays the grant only. */
  gw_gena_after_grant(gw, a.initial);
}

static void handle_request(gw_conn *c) {
  const ethp2p_http_msg *msg = &c->parser.msg;
  char path[256];
  size_t n = strcspn(msg->target, "?#");
  if (n >= sizeof path) {
    respond_error(c, 414, "URI Too Long");
    return;
  }
  memcpy(path, msg->target, n);
  path[n] = '\0';
  if (strcmp(msg->method, "GET") == 0)
    handle_get(c, path);
  else if (strcmp(msg->method, "POST") == 0)
    handle_post(c, msg, path);
  else if (strcmp(msg->method, "SUBSCRIBE") == 0 || strcmp(msg->method, "UNSUBSCRIBE") == 0)
    handle_gena(c, msg, path);
  else
    respond_error(c, 405, "Method Not Allowed");
}

/* Tracks the end of the head ourselves, to tell 431 from 413 and to apply
 * the configured head cap. */
static void scan_head(gw_conn *c, const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len && !c->head_done; i++) {
    if (buf[i] == '\n') {
      if (++c->eoh == 2)
        c->head_done = true;
    } else if (buf[i] != '\r') {
      c->eoh = 0;
    }
  }
}

static void on_read(ethp2p_tcp *tcp, int status, const uint8_t *buf, size_t len, void *data) {
  gw_conn *c = data;
  ethp2p_gateway *gw = c->srv->gw;
  ethp2p_diag diag = {0};
  int rc;
  (void)tcp;
  if (status != 0) {
    conn_close(c);
    return;
  }
  if (c->state != C_READING)
    return; /* one request per connection: later bytes are ignored */
  c->received += len;
  scan_head(c, buf, len);
  if (!c->head_done && c->received > gw->cfg.http_max_header) {
    respond_error(c, 431, "Request Header Fields Too Large");
    return;
  }
  rc = ethp2p_http_parser_feed(&c->parser, buf, len, NULL, &diag);
  if (rc == 0)
    return;
  if (rc == 1) {
    handle_request(c);
    return;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Bad HTTP request", "err=%s at=%zu why=\"%s\"",
             ethp2p_err_name(rc), diag.offset, diag.msg);
  if (rc == ETHP2P_ETOOBIG)
    respond_error(c, c->head_done ? 413 : 431,
                  c->head_done ? "Payload Too Large" : "Request Header Fields Too Large");
  else if (rc == ETHP2P_EUNSUPP)
    respond_error(c, 501, "Not Implemented");
  else
    respond_error(c, 400, "Bad Request");
}

static void on_timer(ethp2p_timer *t, void *data) {
  gw_conn *c = data;
  (void)t;
  switch (c->state) {
  case C_READING:
    respond_error(c, 408, "Request Timeout");
    break;
  case C_DELAYED: {
    uint8_t *p = c->pending;
    c->pending = NULL;
    conn_send_now(c, p, c->pending_len);
    free(p);
    break;
  }
  case C_DROPPED:
  case C_LINGER:
    conn_close(c);
    break;
  }
}

static unsigned count_client(const struct gw_http *s, const ethp2p_addr *peer) {
  unsigned n = 0;
  for (const gw_conn *c = s->head; c; c = c->next)
    if (ethp2p_addr_equal(&c->peer, peer, false))
      n++;
  return n;
}

static void on_accept(ethp2p_tcp *listener, ethp2p_tcp *tcp, void *data) {
  struct gw_http *s = data;
  ethp2p_gateway *gw = s->gw;
  ethp2p_addr peer;
  gw_conn *c;
  (void)listener;
  if (ethp2p_tcp_peer_addr(tcp, &peer) != 0) {
    ethp2p_tcp_close(tcp);
    return;
  }
  if (!gw_from_lan(gw, &peer)) {
    ethp2p_tcp_close(tcp);
    return;
  }
  if (count_client(s, &peer) >= gw->cfg.http_max_per_client) {
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "HTTP client over its connection limit", "n=%u",
               gw->cfg.http_max_per_client);
    ethp2p_tcp_close(tcp);
    return;
  }
  if (s->n >= gw->cfg.http_max_conns) {
    gw_conn *victim = NULL;
    for (gw_conn *o = s->head; o; o = o->next) {
      if (o->state == C_READING) {
        victim = o;
        break;
      }
    }
    if (victim == NULL)
      victim = s->head;
    if (victim == NULL) {
      ethp2p_tcp_close(tcp);
      return;
    }
    conn_close(victim);
  }
  c = calloc(1, sizeof *c);
  if (c == NULL) {
    ethp2p_tcp_close(tcp);
    return;
  }
  c->srv = s;
  c->tcp = tcp;
  c->peer = peer;
  if (ethp2p_timer_create(gw->env, &c->timer, on_timer, c) != 0) {
    free(c);
    ethp2p_tcp_close(tcp);
    return;
  }
  ethp2p_http_parser_init(&c->parser, ETHP2P_HTTP_REQUEST, gw->cfg.http_max_body, false);
  c->prev = s->tail;
  if (s->tail)
    s->tail->next = c;
  else
    s->head = c;
  s->tail = c;
  s->n++;
  ethp2p_timer_start(c->timer, gw_now(gw) + (ethp2p_time)gw->cfg.http_timeout_ms * ETHP2P_MSEC);
  if (ethp2p_tcp_read_start(tcp, on_read, c) != 0)
    conn_close(c);
}

int gw_http_start(ethp2p_gateway *gw, uint16_t port) {
  struct gw_http *s = calloc(1, sizeof *s);
  ethp2p_addr bind = gw->cfg.lan_addr, local;
  int rc;
  if (s == NULL)
    return ETHP2P_ENOMEM;
  s->gw = gw;
  bind.port = port;
  rc = ethp2p_tcp_listen(gw->env, &s->listener, &bind, on_accept, s);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_ERROR, LOGMOD, "Cannot listen for HTTP", "port=%u err=%s", port,
               ethp2p_strerror(rc));
    free(s);
    return rc;
  }
  if (ethp2p_tcp_local_addr(s->listener, &local) == 0)
    gw->http_port = local.port;
  else
    gw->http_port = port;
  gw->http = s;
  return 0;
}

void gw_http_stop(ethp2p_gateway *gw) {
  struct gw_http *s = gw->http;
  if (s == NULL)
    return;
  while (s->head != NULL)
    conn_close(s->head);
  ethp2p_tcp_close(s->listener);
  free(s);
  gw->http = NULL;
  gw->soap_busy_owner = NULL;
}
