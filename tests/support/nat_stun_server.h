/*
 * tests/support/nat_stun_server.h — a STUN Binding server with RFC 5780 behaviour-discovery
 * support, on the environment (ethp2p/env.h): it runs on a simulated internet
 * host in tests and on real sockets (libuv) as well.  Test-only: not part of
 * the installed library; compiled into the check_nat_* suites (and, through
 * tests/support/integration_stun_server.c, the check_integration_* ones).
 *
 * With an alternate address it listens on four sockets, the primary and
 * alternate IPs crossed with the primary and alternate ports
 * (RFC 5780 §4.1):
 *      A1:P1   A1:P2   A2:P1   A2:P2
 * A Binding request received on (Ai, Pj) is answered (RFC 8489 §6.3.1,
 * RFC 5780 §6.1) with XOR-MAPPED-ADDRESS and MAPPED-ADDRESS = the source the
 * request came from, RESPONSE-ORIGIN = the socket the answer leaves from,
 * OTHER-ADDRESS = (A(1-i), P(1-j)), and SOFTWARE when configured.
 * CHANGE-REQUEST (RFC 5780 §7.2) moves the answer: "change IP" sends it from
 * A(1-i), "change port" from P(1-j), both from the diagonal socket.
 * Without an alternate address the server has one socket, sends no
 * OTHER-ADDRESS and answers a CHANGE-REQUEST with error 420 (RFC 5780 §6.1).
 * A request with unknown comprehension-required attributes gets 420 too
 * (RFC 8489 §6.3.1.1).  A request with FINGERPRINT gets one back.
 * Anything that is not a well-formed Binding request is dropped silently.
 */
#ifndef ETHP2P_TESTS_NAT_STUN_SERVER_H
#define ETHP2P_TESTS_NAT_STUN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ethp2p_stun_server_config {
  ethp2p_addr primary;   /* A1:P1; port 0 lets the environment choose P1 */
  ethp2p_addr alternate; /* A2:P2; family 0 = no alternate (plain RFC 8489 server);
                            port 0 = P1 + 1 */
  char software[64];     /* SOFTWARE attribute value, "" = none */
} ethp2p_stun_server_config;

/* Counters since create. */
typedef struct ethp2p_stun_server_stats {
  uint64_t requests;  /* Binding requests decoded */
  uint64_t responses; /* success responses sent */
  uint64_t errors;    /* error responses sent */
  uint64_t changed;   /* responses sent from another socket because of CHANGE-REQUEST */
  uint64_t dropped;   /* datagrams that were not Binding requests */
} ethp2p_stun_server_stats;

typedef struct ethp2p_stun_server ethp2p_stun_server;

/*
 * Opens the sockets and starts answering.  cfg is copied.
 * Returns 0; ETHP2P_EINVAL (NULL, primary family 0, families differ, both
 * addresses equal, alternate port equal to the primary port); or the
 * environment's bind error (nothing stays open).  *out is NULL on error.
 */
int ethp2p_stun_server_create(ethp2p_env *env, const ethp2p_stun_server_config *cfg,
                              ethp2p_stun_server **out);

/* Closes the sockets and frees the server (NULL is fine). */
void ethp2p_stun_server_destroy(ethp2p_stun_server *srv);

/* The bound primary (A1:P1) and alternate (A2:P2, family 0 if none) endpoints. */
ethp2p_addr ethp2p_stun_server_primary(const ethp2p_stun_server *srv);
ethp2p_addr ethp2p_stun_server_alternate(const ethp2p_stun_server *srv);

/* Copies the counters. */
ethp2p_stun_server_stats ethp2p_stun_server_get_stats(const ethp2p_stun_server *srv);

/* While false, the server drops every request (a server that went away);
 * default true. */
void ethp2p_stun_server_set_enabled(ethp2p_stun_server *srv, bool enabled);

#ifdef __cplusplus
}
#endif
#endif
