/*
 * fuzz/fuzz_p2p_metrics_http.c — the metrics HTTP server fed arbitrary request bytes
 * in the simulated world.
 *
 * Input: byte 0 picks the write size (1..256) the client splits the rest into.
 * Properties checked (abort() on violation):
 *   - whatever arrives, the answer (if any) is an HTTP/1.1 response head whose status is
 *     one the server documents (200 400 404 405 413 431 503), and the connection is
 *     closed by the server within the idle bound;
 *   - afterwards the server still answers GET /metrics with 200 (nothing broke it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/metrics.h"
#include "ethp2p/sim.h"
#include "nat/http.h"

typedef struct client {
  ethp2p_tcp *tcp;
  const uint8_t *req;
  size_t len, chunk;
  uint8_t resp[1 << 16];
  size_t rlen;
  bool done;
} client;

static void on_read(ethp2p_tcp *t, int status, const uint8_t *buf, size_t len, void *data) {
  client *c = data;
  if (status != 0) {
    c->done = true;
    ethp2p_tcp_close(t);
    c->tcp = NULL;
    return;
  }
  size_t n = len < sizeof c->resp - c->rlen ? len : sizeof c->resp - c->rlen;
  memcpy(c->resp + c->rlen, buf, n);
  c->rlen += n;
}

static void on_connect(ethp2p_tcp *t, int status, void *data) {
  client *c = data;
  if (status != 0) {
    c->done = true;
    ethp2p_tcp_close(t);
    c->tcp = NULL;
    return;
  }
  for (size_t off = 0; off < c->len; off += c->chunk) {
    size_t n = c->len - off < c->chunk ? c->len - off : c->chunk;
    if (ethp2p_tcp_write(t, c->req + off, n) != 0)
      break;
  }
  ethp2p_tcp_read_start(t, on_read, c);
}

static int exchange(ethp2p_sim *sim, ethp2p_env *env, const ethp2p_addr *to, const uint8_t *req,
                    size_t len, size_t chunk, bool must_answer) {
  static client c;
  memset(&c, 0, sizeof c);
  c.req = req;
  c.len = len;
  c.chunk = chunk;
  if (ethp2p_tcp_connect(env, &c.tcp, to, NULL, on_connect, &c) != 0)
    abort();
  ethp2p_sim_run(sim, ETHP2P_METRICS_IDLE + 5 * ETHP2P_SEC);
  if (!c.done)
    abort(); /* the server must close every connection within its bounds */
  if (c.rlen == 0) {
    if (must_answer)
      abort();
    return 0;
  }
  ethp2p_http_parser p;
  /* head_only: a HEAD request gets a head with Content-Length and no body. */
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_RESPONSE, sizeof c.resp, true);
  int rc = ethp2p_http_parser_feed(&p, c.resp, c.rlen, NULL, NULL);
  if (rc == 0)
    rc = ethp2p_http_parser_eof(&p, NULL);
  int code = rc == 1 ? p.msg.status : -1;
  ethp2p_http_parser_close(&p);
  switch (code) {
  case 200:
  case 400:
  case 404:
  case 405:
  case 413:
  case 431:
  case 503:
    return code;
  default:
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 32768)
    return 0;
  ethp2p_sim *sim;
  if (ethp2p_sim_create(&sim, 1) != 0)
    return 0;
  ethp2p_sim_host *node, *cl;
  ethp2p_addr a = ethp2p_addr_v4(20, 0, 0, 1, 0), b = ethp2p_addr_v4(20, 0, 0, 2, 0);
  ethp2p_metrics *m = NULL;
  if (ethp2p_sim_host_create_public(sim, &node, "node", &a) != 0 ||
      ethp2p_sim_host_create_public(sim, &cl, "client", &b) != 0 ||
      ethp2p_metrics_create(ethp2p_sim_host_env(node), &m) != 0)
    abort();
  ethp2p_addr at = ethp2p_addr_v4(20, 0, 0, 1, 6060);
  if (ethp2p_metrics_serve(m, &at) != 0)
    abort();
  ethp2p_env *cenv = ethp2p_sim_host_env(cl);
  exchange(sim, cenv, &at, data + 1, size - 1, (size_t)data[0] + 1, false);
  static const char get[] = "GET /metrics HTTP/1.1\r\n\r\n";
  if (exchange(sim, cenv, &at, (const uint8_t *)get, sizeof get - 1, sizeof get, true) != 200)
    abort();
  ethp2p_metrics_destroy(m);
  ethp2p_sim_destroy(sim);
  return 0;
}
