/*
 * fuzz/fuzz_gateway_http_server.c — the gateway's whole HTTP side
 * (nat/gateway/http.c -> desc.c / soap.c) fed arbitrary request bytes over a
 * simulated TCP connection from a LAN host.  fuzz_gateway_http_request covers
 * the request parser alone; this target covers connection handling, routing,
 * limits and the quirks that change the answers.
 *
 * Input: byte 0 picks the write size (1..256) the client splits the rest
 * into; byte 1 the router: bit 0 IGDv1, bit 1 chunked bodies, bit 2
 * unnamespaced SOAP, bit 3 no-concurrent, bit 4 no-natrsip, bit 5 slow
 * replies (300 ms); the rest is the request stream (pipelining allowed).
 * Properties checked (abort() on violation):
 *   - the answer, if any, starts with an HTTP/1.1 response head whose status
 *     is one http.c documents (200 400 404 405 408 413 414 431 500 501);
 *   - the server closes the connection by its whole-request deadline;
 *   - afterwards it still serves GET /rootDesc.xml with 200 (nothing broke it),
 *     it holds no connection, and all is freed at the end (leak check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/gateway.h"
#include "ethp2p/log.h"
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

static void quiet(void *data, ethp2p_log_level level, const char *module, const char *msg,
                  const char *kv) {
  (void)data;
  (void)level;
  (void)module;
  (void)msg;
  (void)kv;
}

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

/* Sends req, runs the world past the server's deadline; returns the first status or 0. */
static int exchange(ethp2p_sim *sim, ethp2p_env *env, const ethp2p_addr *to, const uint8_t *req,
                    size_t len, size_t chunk, ethp2p_time deadline) {
  static client c;
  memset(&c, 0, sizeof c);
  c.req = req;
  c.len = len;
  c.chunk = chunk;
  if (ethp2p_tcp_connect(env, &c.tcp, to, NULL, on_connect, &c) != 0)
    abort();
  ethp2p_sim_run(sim, deadline + 2 * ETHP2P_SEC);
  if (!c.done)
    abort(); /* every connection ends by the whole-request deadline */
  if (c.rlen == 0)
    return 0;
  ethp2p_http_parser p;
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_RESPONSE, sizeof c.resp, false);
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
  case 408:
  case 412: /* GENA: SUBSCRIBE without CALLBACK/NT, or an unknown SID (UDA 1.1 §4.1) */
  case 413:
  case 414:
  case 431:
  case 500:
  case 501:
  case 503: /* GENA: no subscription slot left */
    return code;
  default:
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2 || size > 32768)
    return 0;
  ethp2p_sim *sim;
  ethp2p_sim_nat *nat;
  ethp2p_sim_host *lan;
  ethp2p_gateway *gw;
  ethp2p_gw_config cfg;
  ethp2p_log_set_sink(quiet, NULL, ETHP2P_LOG_TRACE);
  if (ethp2p_sim_create(&sim, 7) != 0 || ethp2p_sim_nat_create(sim, &nat, "r", NULL) != 0 ||
      ethp2p_sim_nat_add_host(nat, &lan, "a", NULL) != 0)
    abort();
  ethp2p_gw_config_default(&cfg);
  cfg.lan_addr = ethp2p_sim_nat_inside_addr(nat);
  cfg.external_ip = ethp2p_sim_nat_external_addr(nat);
  cfg.http_port = 5000;
  cfg.announce_count = 0;
  cfg.policy.pmp = cfg.policy.pcp = false;
  cfg.policy.igd_version = (data[1] & 1) ? 1 : 2;
  if (data[1] & 2)
    cfg.quirks |= ETHP2P_GW_Q_CHUNKED;
  if (data[1] & 4)
    cfg.quirks |= ETHP2P_GW_Q_UNNAMESPACED_SOAP;
  if (data[1] & 8)
    cfg.quirks |= ETHP2P_GW_Q_NO_CONCURRENT;
  if (data[1] & 16)
    cfg.quirks |= ETHP2P_GW_Q_NO_NATRSIP;
  if (data[1] & 32) {
    cfg.quirks |= ETHP2P_GW_Q_SLOW;
    cfg.slow_ms = 300;
  }
  if (ethp2p_gw_create(ethp2p_sim_host_env(ethp2p_sim_nat_host(nat)), &cfg, &gw) != 0 ||
      ethp2p_gw_start(gw) != 0)
    abort();
  ethp2p_addr at = cfg.lan_addr;
  at.port = 5000;
  ethp2p_time deadline = (ethp2p_time)cfg.http_timeout_ms * ETHP2P_MSEC;
  ethp2p_env *cenv = ethp2p_sim_host_env(lan);
  exchange(sim, cenv, &at, data + 2, size - 2, (size_t)data[0] + 1, deadline);
  static const char get[] = "GET /rootDesc.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (exchange(sim, cenv, &at, (const uint8_t *)get, sizeof get - 1, sizeof get, deadline) != 200)
    abort();
  if (ethp2p_gw_http_connections(gw) != 0)
    abort();
  ethp2p_gw_destroy(gw);
  ethp2p_sim_destroy(sim);
  ethp2p_log_set_sink(NULL, NULL, ETHP2P_LOG_INFO);
  return 0;
}
