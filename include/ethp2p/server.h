/*
 * ethp2p/server.h — the node: key, listeners, local record and port mapping
 * wired together (what `ethp2p node` and `ethp2p sim` run).
 *
 * Start-up, in order (go-ethereum's Server.Start is the model):
 *   0. <datadir>/static-nodes.json and trusted-nodes.json are read (a JSON
 *      array of enode URLs each; a missing file is an empty list);
 *   1. a TCP listener and a UDP socket on the listen address (TCP port
 *      `port`, UDP port `discport`, 0 = any free port) — before anything is
 *      written, so a port in use leaves the datadir as it was;
 *   2. the key: nodekey_hex, else nodekey_file (must exist), else
 *      <datadir>/nodekey (created with mode 0600 when missing); the PCP nonce
 *      key is derived from it (ethp2p_portmap_config_set_node_key) unless the
 *      portmap config already has one;
 *   3. the local record (seq stored in datadir): `tcp` = the TCP port,
 *      fallback UDP = the UDP port, fallback IP = the listen IP when it is a
 *      specific address, else 127.0.0.1 (as go-ethereum);
 *   4. the NAT from the spec and the port-mapping loop, with TCP and UDP
 *      registered unless the listen address is loopback or private (nothing
 *      to map there);
 *   5. discovery on the UDP socket (unless `nodiscover`): the socket is an
 *      ethp2p_discover mux; discv4 (unless `discv4_off`) answers on it with the
 *      local record, bonds with the bootnodes and keeps its table fresh; PONG
 *      statements feed the local node's endpoint prediction.  Datagrams that
 *      discv4 does not take go to the mux's unhandled hook: udp_cb by default,
 *      or whatever ethp2p_discover_set_unhandled(ethp2p_server_discover(srv), ...)
 *      installs (discv5).
 *   6. RLPx (ethp2p/rlpx.h): an ethp2p_rlpx_host with the node key, client_id,
 *      max_peers and the TCP port; the protocols of cfg->protocols are
 *      registered (ids 0..nprotocols-1 in that order); accepted TCP connections
 *      go to it (unless accept_cb is set: then they go to accept_cb); the static
 *      and trusted nodes are added; nodes that discv4's iterator yields with a
 *      TCP port become dial candidates (ethp2p_rlpx_host_add_candidate), pulled
 *      only while fewer than 16 wait in the host's dial queue (else once a second)
 *      and only once a protocol is registered (without one every session would
 *      end "useless peer").
 * Stopping ends discovery, deletes the mappings with a bounded wait, then
 * closes the sockets and the RLPx host (its peers are dropped).
 *
 * Works on any environment (libuv or the simulated world).  The server owns
 * everything it creates.  Threading: the environment's loop only.
 */
#ifndef ETHP2P_SERVER_H
#define ETHP2P_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/discover.h"
#include "ethp2p/discv4.h"
#include "ethp2p/discv5.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "ethp2p/localnode.h"
#include "ethp2p/nat.h"
#include "ethp2p/portmap.h"
#include "ethp2p/rlpx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_DEFAULT_PORT 30303

typedef struct ethp2p_server ethp2p_server;

/* A connection arrived; the callee owns conn (close it or read from it). */
typedef void (*ethp2p_server_accept_cb)(ethp2p_server *srv, ethp2p_tcp *conn, void *data);
/* A datagram arrived on the discovery socket (buf valid during the call). */
typedef void (*ethp2p_server_udp_cb)(ethp2p_server *srv, const ethp2p_addr *from,
                                     const uint8_t *buf, size_t len, void *data);
/* Stop finished: status 0, or ETHP2P_ETIMEDOUT when mapping deletes were not
 * all answered within the bound. */
typedef void (*ethp2p_server_stop_cb)(ethp2p_server *srv, int status, void *data);

typedef struct ethp2p_server_config {
  const char *datadir;               /* nodekey and seq live here; NULL = nothing on disk */
  const char *nodekey_file;          /* --nodekey FILE (NULL = not given) */
  const char *nodekey_hex;           /* --nodekeyhex HEX (NULL = not given); wins over the file */
  ethp2p_addr listen;                /* IP to bind (family 0 = 0.0.0.0); its port is ignored */
  uint16_t port;                     /* TCP port (0 = any free) */
  uint16_t discport;                 /* UDP port (0 = any free) */
  ethp2p_nat_spec nat;               /* the --nat spec */
  ethp2p_nat *nat_override;          /* a ready NAT to use instead of creating one from the
                                        spec; the server takes ownership (tests, sim) */
  ethp2p_portmap_config portmap;     /* intervals; a zero field takes its default */
  ethp2p_server_accept_cb accept_cb; /* NULL: log and close */
  void *accept_data;
  ethp2p_server_udp_cb udp_cb; /* datagrams discovery does not take; NULL: ignore */
  void *udp_data;
  /* Discovery (go-ethereum's --nodiscover, --discovery.v4, --discovery.v5,
   * --bootnodes, --netrestrict). */
  bool nodiscover;              /* no discovery at all (the socket stays open for udp_cb) */
  bool discv4_off;              /* --discovery.v4=false */
  bool discv5;                  /* --discovery.v5: discv5 on the same socket, sharing
                                   discv4's table (its own when discv4 is off); enr:
                                   bootnodes are pinged over discv5 as well */
  const char *const *bootnodes; /* enode:// URLs or enr: records (copied at start) */
  size_t nbootnodes;
  const char *netrestrict; /* "10.0.0.0/8,192.168.0.0/16" (NULL = no restriction) */
  /* RLPx (go-ethereum's --identity, --maxpeers). */
  const char *client_id;                 /* NULL = ETHP2P_RLPX_DEFAULT_CLIENT_ID (copied) */
  size_t max_peers;                      /* default 50 */
  const ethp2p_rlpx_protocol *protocols; /* registered at start (copied); protocol i gets id i */
  size_t nprotocols;
  /* Peer events (added, rejected with the reason, failed, removed); NULL = none. */
  void (*rlpx_event)(ethp2p_server *srv, const ethp2p_rlpx_event *ev, void *data);
  void *rlpx_event_data;
} ethp2p_server_config;

/* Fills c with defaults: no datadir, listen 0.0.0.0, ports 30303, --nat any,
 * go-ethereum's port-mapping intervals, discv4 on, no bootnodes, max_peers 50,
 * the default client ID, no protocols. */
void ethp2p_server_config_default(ethp2p_server_config *c);

/*
 * Creates and starts the server on env (steps 1-4 above).  Strings in cfg are
 * copied.  Returns 0; ETHP2P_EINVAL (bad config); a key error
 * (ETHP2P_ENOTFOUND for a missing --nodekey file, ETHP2P_ESYNTAX/ETRUNC/EKEY for a
 * bad key, ETHP2P_EPERM/EIO on file errors) with diag saying which; a bad bootnode
 * or netrestrict entry (the parser's code, diag naming the entry); a malformed
 * static-nodes.json / trusted-nodes.json (the parser's code, diag naming the file
 * and the element); a protocol the RLPx host refuses (its code, diag naming it);
 * a socket error (ETHP2P_EADDRINUSE, ...); ETHP2P_ENOMEM.  On failure nothing is left open, and a
 * nat_override is destroyed.  diag may be NULL.
 */
int ethp2p_server_start(ethp2p_env *env, const ethp2p_server_config *cfg, ethp2p_server **out,
                        ethp2p_diag *diag);

/* The parts, owned by the server. */
ethp2p_localnode *ethp2p_server_localnode(ethp2p_server *srv);
ethp2p_portmap *ethp2p_server_portmap(ethp2p_server *srv);
/* The discovery socket mux (always there) and discv4 (NULL when off). */
ethp2p_discover *ethp2p_server_discover(ethp2p_server *srv);
ethp2p_discv4 *ethp2p_server_discv4(ethp2p_server *srv);
/* The RLPx host (NULL after stop finished).  Its protocols' callbacks receive it;
 * ethp2p_rlpx_peer_send etc. work on the peers it hands out. */
ethp2p_rlpx_host *ethp2p_server_rlpx(ethp2p_server *srv);
/* The discv5 node (borrowed; NULL unless cfg.discv5): TALKREQ handlers
 * (ethp2p_discv5_talk_register), lookups, stats. */
ethp2p_discv5 *ethp2p_server_discv5(ethp2p_server *srv);
/* Registers an application protocol after start, before the first peer (dials
 * start on a later loop turn, so right after ethp2p_server_start is in time).
 * Returns its id (>= 0, for ethp2p_rlpx_peer_send) or ethp2p_rlpx_host_register's
 * error (ETHP2P_EINVAL, EEXIST, ESPACE, ESTATE when peers exist or stopping). */
int ethp2p_server_register_protocol(ethp2p_server *srv, const ethp2p_rlpx_protocol *p);
/* Parses a netrestrict list ("a.b.c.d/n,..."; at most max entries).
 * Returns the number of networks, or ETHP2P_ESYNTAX / ETHP2P_ETOOBIG with diag. */
int ethp2p_server_netrestrict_parse(const char *text, ethp2p_addr *nets, uint8_t *prefix,
                                    size_t max, ethp2p_diag *diag);
/* Local addresses actually bound (ports resolved when 0 was asked). */
ethp2p_addr ethp2p_server_tcp_addr(const ethp2p_server *srv);
ethp2p_addr ethp2p_server_udp_addr(const ethp2p_server *srv);

/* Deletes the mappings (waiting at most `bound`), then closes the sockets and
 * calls cb (may be NULL) once, on a later loop turn.  cb runs inside the
 * port-mapping loop's callbacks: do not call ethp2p_server_destroy from it;
 * leave the loop (or defer to a later turn) and destroy afterwards.  Returns 0
 * or ETHP2P_ESTATE when already stopping. */
int ethp2p_server_stop(ethp2p_server *srv, ethp2p_time bound, ethp2p_server_stop_cb cb, void *data);

/* Frees everything (stop first to delete mappings).  NULL is fine. */
void ethp2p_server_destroy(ethp2p_server *srv);

#ifdef __cplusplus
}
#endif
#endif
