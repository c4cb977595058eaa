/*
 * nat/http_client.c — one HTTP/1.1 request/response exchange on the environment's TCP
 * interface: connect (bounded by an env timer), write the request, parse the response with
 * the bounded parser of nat/http.c, and report exactly once.  See nat/http.h.
 */
#include "nat/http.h"

#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"

struct ethp2p_http_client {
  ethp2p_env *env;
  ethp2p_tcp *tcp;
  ethp2p_timer *timer;
  uint8_t *req;
  size_t req_len;
  ethp2p_http_parser parser;
  ethp2p_http_client_cb cb;
  void *data;
  ethp2p_diag diag;
  bool finished;
};

static void client_free(ethp2p_http_client *c) {
  ethp2p_tcp_close(c->tcp);
  ethp2p_timer_destroy(c->timer);
  ethp2p_http_parser_close(&c->parser);
  free(c->req);
  free(c);
}

/* Reports once, then frees everything. */
static void client_finish(ethp2p_http_client *c, int status) {
  if (c->finished)
    return;
  c->finished = true;
  ethp2p_timer_stop(c->timer);
  ethp2p_tcp_close(c->tcp);
  c->tcp = NULL;
  c->cb(c, status, status == 0 ? &c->parser.msg : NULL, c->data);
  client_free(c);
}

/* Maps a parser error to the client's outcome. */
static int client_map_parse_error(int rc) {
  switch (rc) {
  case ETHP2P_ETOOBIG:
  case ETHP2P_ENOMEM:
    return rc;
  default:
    return ETHP2P_EPROTO;
  }
}

static void client_on_read(ethp2p_tcp *conn, int status, const uint8_t *buf, size_t len,
                           void *data) {
  ethp2p_http_client *c = data;
  int rc;
  if (c->finished)
    return;
  if (status == 0) {
    rc = ethp2p_http_parser_feed(&c->parser, buf, len, NULL, &c->diag);
    if (rc == 1)
      client_finish(c, 0);
    else if (rc < 0)
      client_finish(c, client_map_parse_error(rc));
    return;
  }
  if (status == ETHP2P_ECLOSED) {
    rc = ethp2p_http_parser_eof(&c->parser, &c->diag);
    client_finish(c, rc == 1 ? 0 : ETHP2P_EPROTO);
    return;
  }
  /* A reset after a complete close-delimited body cannot be told apart from truncation:
   * report the connection error. */
  client_finish(c, status);
}

static void client_on_connect(ethp2p_tcp *conn, int status, void *data) {
  ethp2p_http_client *c = data;
  int rc;
  if (c->finished)
    return;
  if (status != 0) {
    client_finish(c, status);
    return;
  }
  rc = ethp2p_tcp_read_start(conn, client_on_read, c);
  if (rc == 0)
    rc = ethp2p_tcp_write(conn, c->req, c->req_len);
  if (rc != 0)
    client_finish(c, rc);
}

static void client_on_timeout(ethp2p_timer *timer, void *data) {
  ethp2p_http_client *c = data;
  ethp2p_diag_set(&c->diag, ETHP2P_ETIMEDOUT, c->parser.offset, "no complete response in time");
  client_finish(c, ETHP2P_ETIMEDOUT);
}

int ethp2p_http_client_start(ethp2p_env *env, ethp2p_http_client **out, const ethp2p_addr *to,
                             const ethp2p_addr *from, const uint8_t *req, size_t req_len,
                             size_t body_cap, bool head_only, ethp2p_time timeout,
                             ethp2p_http_client_cb cb, void *data) {
  ethp2p_http_client *c;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (env == NULL || to == NULL || req == NULL || req_len == 0 || cb == NULL || timeout == 0)
    return ETHP2P_EINVAL;
  c = calloc(1, sizeof *c);
  if (c == NULL)
    return ETHP2P_ENOMEM;
  c->env = env;
  c->cb = cb;
  c->data = data;
  ethp2p_http_parser_init(&c->parser, ETHP2P_HTTP_RESPONSE, body_cap, head_only);
  c->req = malloc(req_len);
  if (c->req == NULL) {
    rc = ETHP2P_ENOMEM;
    goto out_free;
  }
  memcpy(c->req, req, req_len);
  c->req_len = req_len;
  rc = ethp2p_timer_create(env, &c->timer, client_on_timeout, c);
  if (rc != 0)
    goto out_free;
  rc = ethp2p_tcp_connect(env, &c->tcp, to, from, client_on_connect, c);
  if (rc != 0) {
    c->tcp = NULL;
    goto out_free;
  }
  ethp2p_timer_start(c->timer, ethp2p_env_now(env) + timeout);
  if (out != NULL)
    *out = c;
  return 0;

out_free:
  client_free(c);
  return rc;
}

void ethp2p_http_client_cancel(ethp2p_http_client *client) {
  if (client == NULL || client->finished)
    return;
  client->finished = true;
  client_free(client);
}

const ethp2p_diag *ethp2p_http_client_diag(const ethp2p_http_client *client) {
  return &client->diag;
}
