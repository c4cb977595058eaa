/*
 * tests/support/nat_fake_gateway.h — a scripted NAT-PMP (RFC 6886) / PCP
 * (RFC 6887) responder for the NAT client suites (check_nat_pmp.c,
 * check_nat_pcp.c, check_nat_any.c), plus recorders for the client's
 * callbacks.
 *
 * The world: a simulated NAT box "gw" with two LAN hosts, "node" (the client
 * under test) and "evil" (a forger).  The responder listens on the box's
 * inside address, port 5351; it tells NAT-PMP from PCP by the version byte,
 * records what it was asked, and answers as the behaviour fields say.
 *
 * It keeps a mapping table the way real routers key it: NAT-PMP by protocol,
 * client address and internal port (RFC 6886 §3.3: a renewal may move the
 * external port; §3.4: a delete removes the client's mapping of the internal
 * port whatever external port it names); PCP by protocol, internal address
 * and port, owned by the nonce that made it (RFC 6887 §11.3: another nonce
 * gets NOT_AUTHORIZED; §15: a delete with the owning nonce removes it, one of
 * a mapping that does not exist succeeds).  A PCP request whose client
 * address is not its source gets ADDRESS_MISMATCH (§8.3).  Two
 * more sockets send forgeries: the box's inside address port 5352 (a wrong
 * source port) and evil:5351 (a wrong source host).
 *
 * Failures inside these helpers are Check assertions, so they fail the test
 * that called them.  Everything here runs on simulated time and addresses.
 */
#ifndef TESTS_SUPPORT_NAT_FAKE_GATEWAY_H
#define TESTS_SUPPORT_NAT_FAKE_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"

#define FAKE_GW_TABLE 16

/* One row of the fake gateway's table. */
typedef struct fake_gw_entry {
  bool used;
  bool pcp;             /* made by PCP (owned by nonce) */
  uint8_t proto;        /* 6 or 17 */
  ethp2p_addr internal; /* client address, port = internal port */
  uint16_t external_port;
  uint8_t nonce[12];
  ethp2p_time expires;
} fake_gw_entry;

/* The fake gateway.  Tests set the behaviour fields after fake_gw_init and
 * read the records; every other field belongs to the helper. */
typedef struct fake_gw {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *boxh, *host, *evil;
  ethp2p_udp *sock;      /* box inside:5351 */
  ethp2p_udp *alt_sock;  /* box inside:5352: a wrong source port */
  ethp2p_udp *evil_sock; /* evil:5351: a wrong source host */
  /* behaviour */
  unsigned drop_first;     /* ignore this many requests */
  bool silent;             /* record requests, answer none */
  bool pmp_only;           /* answer PCP with NAT-PMP "unsupported version" */
  bool pcp_only;           /* answer NAT-PMP with PCP UNSUPP_VERSION (RFC 6887 §9) */
  bool forge_first;        /* before the real reply, send forged ones from alt and evil */
  bool forge_wrong_nonce;  /* PCP: first answer with a flipped nonce, from the right source */
  bool refuse_pcp_delete;  /* PCP deletes get NOT_AUTHORIZED (nonce unknown to us) */
  bool forge_wrong_opcode; /* NAT-PMP: first answer another opcode, from the right source */
  uint32_t epoch_base;     /* epoch = base + elapsed seconds; 1000 after init */
  uint16_t grant_port;     /* 0 = the suggested port */
  uint16_t result;         /* result code of every answer (0 = success) */
  /* records */
  unsigned n_pmp, n_pcp;       /* requests received, dropped ones included */
  ethp2p_pmp_request last_pmp; /* the last NAT-PMP request */
  ethp2p_pcp_request last_pcp; /* the last PCP request */
  uint8_t nonces[8][12];       /* nonces of the first 8 PCP MAP requests */
  unsigned n_nonces;
  ethp2p_addr client;            /* source of the last request */
  ethp2p_time first_at, last_at; /* when the first and the last request arrived */
  unsigned n_announce_req;       /* PCP ANNOUNCE requests */
  unsigned n_pmp_extaddr;        /* NAT-PMP opcode-0 requests */
  fake_gw_entry table[FAKE_GW_TABLE];
} fake_gw;

/* The live row mapping external port `ext` of proto, or NULL. */
const fake_gw_entry *fake_gw_find(fake_gw *g, uint8_t proto, uint16_t ext);
/* Number of live rows. */
unsigned fake_gw_count(fake_gw *g);

/*
 * An environment that forwards everything to `inner` but reports its own
 * interface list (one interface `addr`/prefix, up), to play a DHCP change of
 * the client's LAN address under a NAT client.  Out: w (the env is &w->env).
 */
typedef struct fake_gw_env {
  ethp2p_env env;
  ethp2p_env_ops ops;
  ethp2p_env *inner;
  ethp2p_iface iface;
} fake_gw_env;
void fake_gw_env_wrap(fake_gw_env *w, ethp2p_env *inner, const ethp2p_addr *addr, unsigned prefix);

typedef struct fake_gw_rec fake_gw_rec;
/* Like fake_gw_make_nat, on the environment env (e.g. a fake_gw_env). */
ethp2p_nat *fake_gw_make_nat_on(fake_gw *g, ethp2p_env *env, const char *text, fake_gw_rec *r);

/* What the client's callbacks reported; `sim` stamps `at`. */
typedef struct fake_gw_rec {
  int map_calls, done_calls, extip_calls, lost, announced;
  ethp2p_nat_map_result map; /* the last map result */
  int done_status, extip_status;
  ethp2p_addr extip, announced_ip;
  ethp2p_time at; /* when the last map or external-address callback ran */
  ethp2p_sim *sim;
} fake_gw_rec;

/*
 * Builds the world and starts the responder.  Out: g (zeroed first; then
 * epoch_base = 1000, every behaviour off).  In: seed for the simulator.
 * Asserts on failure.  The caller frees with fake_gw_free.
 */
void fake_gw_init(fake_gw *g, uint64_t seed);

/* Closes the three sockets and destroys the world.  NATs created on g->host
 * must be destroyed first. */
void fake_gw_free(fake_gw *g);

/* Returns the NAT box's external address (port 0). */
ethp2p_addr fake_gw_ext_ip(fake_gw *g);

/*
 * Sends an announcement to 224.0.0.1:5350 from `u` (g->sock, g->alt_sock or
 * g->evil_sock) with the current epoch: a PCP ANNOUNCE (RFC 6887 §14.1.3) if
 * `pcp`, else a NAT-PMP external-address reply (RFC 6886 §3.2.1) naming `ip`
 * (ignored, may be NULL, when `pcp`).
 */
void fake_gw_announce(fake_gw *g, ethp2p_udp *u, bool pcp, const ethp2p_addr *ip);

/*
 * Parses `text` as a NAT spec and creates the client on g->host; zeroes `r`,
 * points it at g->sim and routes the NAT's notifications into it (counts of
 * state-lost and external-address announcements).  Returns the NAT, which
 * the caller destroys; `r` must outlive it.  Asserts on failure.
 */
ethp2p_nat *fake_gw_make_nat(fake_gw *g, const char *text, fake_gw_rec *r);

/* Callbacks for ethp2p_nat_add_mapping, ethp2p_nat_delete_mapping and
 * ethp2p_nat_external_ip; `data` is a fake_gw_rec that counts the calls and
 * keeps what the last one reported. */
void fake_gw_on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data);
void fake_gw_on_done(ethp2p_nat *nat, int status, void *data);
void fake_gw_on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data);

/*
 * An IPv6 PCP server that opens firewall pinholes (RFC 6887 section 8 over IPv6), on
 * any environment (the libuv one in a private network namespace): it answers on
 * [server]:5351 and keeps the same strict table as the IPv4 fake, keyed by protocol
 * and internal address and port, owned by the nonce that made it (§11.3: another
 * nonce gets NOT_AUTHORIZED; §15: a delete with the owning nonce removes it, one of a
 * mapping that does not exist succeeds).  A request whose client address is not its
 * source gets ADDRESS_MISMATCH (§8.3); an IPv4-mapped client address
 * MALFORMED_REQUEST (an IPv6 server has no IPv4 clients); a suggested external
 * address other than :: or the client's own CANNOT_PROVIDE_EXTERNAL unless
 * PREFER_FAILURE is absent (then it is ignored, §11.3).  A pinhole does not
 * translate: the assigned port is the internal port and the assigned address the
 * client's.  A second socket on [server]:5352 sends forgeries.
 */
typedef struct fake_gw6 {
  ethp2p_env *env;
  ethp2p_udp *sock;     /* [server]:5351 */
  ethp2p_udp *alt_sock; /* [server]:5352: a wrong source port */
  ethp2p_addr server;
  ethp2p_time t0;
  /* behaviour */
  bool silent;            /* record requests, answer none */
  bool pmp_only;          /* answer with NAT-PMP "unsupported version" (RFC 6887 §9) */
  bool forge_first;       /* before the real reply, a forged one from :5352 */
  bool forge_wrong_nonce; /* first answer with a flipped nonce, from the right source */
  uint32_t epoch_base;    /* epoch = base + seconds since init; 1000 after init */
  uint8_t result;         /* result code of every answer (0 = success) */
  /* records */
  unsigned n_pcp, n_announce_req;
  ethp2p_pcp_request last_pcp;
  ethp2p_addr client; /* source of the last request */
  fake_gw_entry table[FAKE_GW_TABLE];
} fake_gw6;

/* Opens the server on `server` (port 5351 is used).  Asserts on failure. */
void fake_gw6_init(fake_gw6 *g, ethp2p_env *env, const ethp2p_addr *server);
void fake_gw6_free(fake_gw6 *g);
/* Live rows; the row of (proto, internal address, internal port) or NULL. */
unsigned fake_gw6_count(fake_gw6 *g);
const fake_gw_entry *fake_gw6_find(fake_gw6 *g, uint8_t proto, const ethp2p_addr *internal,
                                   uint16_t port);
/* Multicasts an unsolicited ANNOUNCE (§14.1.3) with the current epoch to
 * [ff02::1]:5350 on interface `ifindex`, from the server socket (or the
 * wrong-port one when `from_alt`). */
void fake_gw6_announce(fake_gw6 *g, uint32_t ifindex, bool from_alt);

#endif /* TESTS_SUPPORT_NAT_FAKE_GATEWAY_H */
