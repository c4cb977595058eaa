/*
 * ethp2p/nat.h — the NAT interface: one small vtable of asynchronous operations
 * implemented by none, extip, pmp, pcp, upnp, stun and any.
 *
 * All operations run on the environment's loop (ethp2p/env.h).  An operation
 * that returns an error never calls its callback; otherwise the callback runs
 * exactly once, later (never inside the call), unless the NAT is destroyed
 * first, in which case pending callbacks are dropped silently.
 *
 * --nat specs (case-insensitive names, as go-ethereum parses them, plus pcp):
 *   "" | none | off                 no mapping, drain registrations
 *   any | auto | on                 race PCP/NAT-PMP and UPnP; first that works wins
 *   extip:IP | ip:IP                a static external IP, no mapping
 *   upnp
 *   pmp | natpmp | nat-pmp[:GW]     NAT-PMP, gateway from the routing table unless given
 *   pcp[:GW]                        PCP (downgrades to NAT-PMP per request); an IPv6 GW
 *                                   is an IPv6 PCP server that opens firewall pinholes
 *   stun[:HOST:PORT]                external address only
 * Errors (the exact go-ethereum texts): "missing IP address", "invalid IP address",
 * `unknown mechanism "x"`.
 */
#ifndef ETHP2P_NAT_H
#define ETHP2P_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/attrs.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ethp2p_proto {
  ETHP2P_PROTO_TCP = 6,
  ETHP2P_PROTO_UDP = 17,
} ethp2p_proto;

/* "tcp" / "udp" */
const char *ethp2p_proto_name(ethp2p_proto proto);

typedef enum ethp2p_nat_kind {
  ETHP2P_NAT_NONE = 0,
  ETHP2P_NAT_ANY,
  ETHP2P_NAT_EXTIP,
  ETHP2P_NAT_UPNP,
  ETHP2P_NAT_PMP,
  ETHP2P_NAT_PCP,
  ETHP2P_NAT_STUN,
} ethp2p_nat_kind;

/* A parsed --nat spec (no I/O). */
typedef struct ethp2p_nat_spec {
  ethp2p_nat_kind kind;
  bool has_addr;          /* extip IP, or pmp/pcp gateway */
  ethp2p_addr addr;       /* port 0 */
  char stun_servers[256]; /* stun: "host:port[,host:port...]" or "" for the default list */
} ethp2p_nat_spec;

/* Parses a --nat value.  Returns 0, or ETHP2P_ESYNTAX with err set to the
 * go-ethereum text ("missing IP address", ...).  err may be NULL. */
int ethp2p_nat_spec_parse(ethp2p_nat_spec *out, const char *text, char *err, size_t errlen);
/* Writes the canonical text form ("none", "extip:1.2.3.4", "pmp:192.168.0.1",
 * "stun:host:port", ...) that parses back to the same spec. */
int ethp2p_nat_spec_format(const ethp2p_nat_spec *spec, char *buf, size_t size);

/* Result of add_mapping. */
typedef struct ethp2p_nat_map_result {
  int status;             /* 0 or ETHP2P_E* */
  uint16_t external_port; /* the port the router actually granted */
  uint32_t lifetime_s;    /* granted lifetime; 0 = permanent */
  int router_code;        /* protocol result / UPnP error code, 0 when none */
  char router_msg[96];    /* meaning of router_code ("ConflictInMappingEntry", ...) */
  /* The external address when the reply carried it (PCP MAP does); family 0
   * otherwise, and the caller asks external_ip() if it needs it. */
  ethp2p_addr external_ip;
  /* When the protocol says to renew this grant, in ms after the reply
   * (NAT-PMP: half the granted lifetime, RFC 6886 §3.3; PCP: a random point in
   * [1/2, 5/8] of it, RFC 6887 §11.2.1).  0 when the protocol has no rule
   * (UPnP, permanent leases): the caller keeps its own cadence. */
  uint32_t renew_after_ms;
} ethp2p_nat_map_result;

typedef struct ethp2p_nat ethp2p_nat;
typedef struct ethp2p_nat_ops ethp2p_nat_ops;

typedef void (*ethp2p_nat_map_cb)(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data);
typedef void (*ethp2p_nat_extip_cb)(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data);
typedef void (*ethp2p_nat_done_cb)(ethp2p_nat *nat, int status, void *data);

/* Notifications a NAT raises on its own. */
typedef enum ethp2p_nat_event {
  ETHP2P_NAT_EV_STATE_LOST = 1,  /* gateway lost its mappings (epoch reset, restart announcement,
                                    new BOOTID, uptime went down): re-add everything now */
  ETHP2P_NAT_EV_EXTIP_ANNOUNCED, /* gateway announced an external address (ip set) */
  ETHP2P_NAT_EV_GATEWAY_GONE,    /* the gateway said it is leaving (ssdp:byebye) or no longer
                                    knows us (our LAN address changed): rediscover, re-add */
} ethp2p_nat_event;

/*
 * Capabilities: what an implementation can do and how its gateway behaves.
 * The port-mapping loop decides from these bits and from the generic status
 * codes below alone; it never asks which protocol it drives.  An
 * implementation sets nat->caps when created and may change them later (any
 * takes its winner's); readers must not cache them.
 */
enum {
  ETHP2P_NAT_CAP_MAP = 1u << 0,                 /* add_mapping / delete_mapping do something */
  ETHP2P_NAT_CAP_STATIC_IP = 1u << 1,           /* the external address is fixed (extip): set it
                                                   once, never poll */
  ETHP2P_NAT_CAP_POLL_EXTIP = 1u << 2,          /* external_ip() asks the gateway: poll it */
  ETHP2P_NAT_CAP_DETECTS_RESTART = 1u << 3,     /* raises STATE_LOST itself when the gateway
                                                   loses its mappings; without it the loop
                                                   re-adds every mapping at each poll */
  ETHP2P_NAT_CAP_ANNOUNCES_EXTIP = 1u << 4,     /* raises EXTIP_ANNOUNCED itself on an address
                                                   change (announcements, GENA events); the poll
                                                   stays as a fallback */
  ETHP2P_NAT_CAP_DELETES_BY_INTERNAL = 1u << 5, /* delete_mapping removes the mapping of the
                                                   internal port whatever external port it
                                                   names (NAT-PMP §3.4, PCP §15): a port a
                                                   renewal replaced is never deleted.  Without
                                                   it deletes go by external port (UPnP) */
};

/*
 * Generic statuses (ethp2p_nat_map_result.status, and the status of
 * external_ip and delete callbacks), so the loop needs no protocol codes:
 *  - ethp2p_nat_is_conn_failure(status): the gateway did not answer or is
 *    not there (ETIMEDOUT, ECONNREFUSED, ECONNRESET, ENETUNREACH,
 *    ENOGATEWAY); after a few in a row the loop rediscovers.
 *  - ETHP2P_EPERMANENT: the gateway grants only permanent leases (UPnP 725);
 *    ask again with lifetime 0.
 *  - ETHP2P_EADDRCHANGED: the gateway refused because our LAN address is not
 *    the one it knows (PCP ADDRESS_MISMATCH, UPnP refusal for our old
 *    address); rediscover at once.
 * router_code/router_msg keep the protocol's own code for logs only.
 */
static inline int ethp2p_nat_is_conn_failure(int status) {
  return status == ETHP2P_ETIMEDOUT || status == ETHP2P_ECONNREFUSED ||
         status == ETHP2P_ECONNRESET || status == ETHP2P_ENETUNREACH || status == ETHP2P_ENOGATEWAY;
}
typedef void (*ethp2p_nat_notify_cb)(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip,
                                     void *data);

/*
 * external_ip may answer status 0 with the unspecified address (0.0.0.0): the
 * gateway answered but has no way to tell its address before a mapping exists
 * (a PCP-only server); the address then arrives in the map results
 * (ethp2p_nat_map_result.external_ip).
 *
 * delete_mapping removes the caller's mapping of internal_port.  Gateways key
 * mappings differently (NAT-PMP by internal port and client, RFC 6886 §3.4;
 * PCP by nonce, protocol and internal port, RFC 6887 §15; UPnP by external
 * port), so external_port is only a hint for the first two: a caller must not
 * delete an old external port while a newer grant for the same internal port
 * is live, or the newer one goes.
 */
struct ethp2p_nat_ops {
  /* lifetime_s 0 asks for a permanent lease.  ext_hint 0 = same as internal. */
  int (*add_mapping)(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint, uint16_t internal_port,
                     const char *desc, uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data);
  int (*delete_mapping)(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                        uint16_t internal_port, ethp2p_nat_done_cb cb, void *data);
  int (*external_ip)(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data);
  /* Forget the discovered gateway; the next operation discovers again. May be NULL. */
  void (*rediscover)(ethp2p_nat *nat);
  /* Cancels everything pending (callbacks dropped) and frees the NAT. */
  void (*destroy)(ethp2p_nat *nat);
};

struct ethp2p_nat {
  const ethp2p_nat_ops *ops;
  ethp2p_env *env;
  ethp2p_nat_spec spec;
  const char *name; /* for logs: "none", "extip", "NAT-PMP", "PCP", "UPnP", "STUN", "any" */
  unsigned caps;    /* ETHP2P_NAT_CAP_*; the port-mapping loop counts connection
                       failures from the statuses itself (ethp2p_nat_is_conn_failure) */
  ethp2p_nat_notify_cb notify_cb;
  void *notify_data;
};

/*
 * For tools that explain a router's answer (ethp2p nat, ethp2p node): the name
 * ("NOT_AUTHORIZED") and meaning of a NAT-PMP (RFC 6886 §3.5) or PCP (RFC 6887
 * §7.4) result code.  Static strings; an unknown code gives "UNKNOWN".
 */
const char *ethp2p_pmp_result_name(unsigned result);
const char *ethp2p_pmp_result_meaning(unsigned result);
const char *ethp2p_pcp_result_name(unsigned result);
const char *ethp2p_pcp_result_meaning(unsigned result);

/* The STUN servers the stun mechanism asks when a spec names none. */
#define ETHP2P_STUN_DEFAULT_SERVERS "stun.l.google.com:19302,stun.cloudflare.com:3478"

/*
 * PCP nonces from a 32-byte secret key, so a mapping made by one process can be
 * renewed or deleted by another (`nat map`, then `nat unmap`): each nonce is
 * HMAC-SHA256(key, protocol || internal port || client IP) truncated to 96 bits.
 * Works on pcp and any.  Call before the first operation.  Returns 0, or
 * ETHP2P_EUNSUPP for other kinds.
 */
int ethp2p_nat_set_pcp_nonce_key(ethp2p_nat *nat, const uint8_t key[32]);

/* Creates the NAT for a spec on env.  No I/O happens until the first operation
 * (discovery is lazy).  Returns 0 or a negative code. */
int ethp2p_nat_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
/*
 * Creates the IPv6 companion of a spec: the mechanism that opens firewall
 * pinholes for the node's own global IPv6 address (PCP MAP with an IPv6 client
 * address, or UPnP IGDv2 WANIPv6FirewallControl).  Nothing is translated: a
 * granted "mapping" keeps the internal port, and the external address is the
 * node's own.  The server runs a second port-mapping loop on it, whose sink is
 * the record's ip6/tcp6/udp6.  pcp and pcp:<IPv6> give PCP over IPv6 (name
 * "PCP (IPv6)", server from the spec or the IPv6 default router); upnp gives
 * UPnP IGDv2 pinholes (WANIPv6FirewallControl:1, found by SSDP over IPv6);
 * any tries PCP first and moves to UPnP when PCP grants nothing (the first
 * mechanism that grants a pinhole stays until rediscover()); extip:<IPv6>
 * gives the extip NAT for that address.  external_ip is our own address,
 * without a query.  No I/O happens before the first operation.
 * Returns: 0; ETHP2P_EINVAL for NULL arguments; ETHP2P_EUNSUPP when the spec
 *   has no IPv6 mechanism (none, pmp, stun, extip:<IPv4>, pcp:<IPv4>).
 * Args: env: the environment the NAT runs on (borrowed, must outlive it).
 * In: spec: the parsed --nat value (read only during the call).
 * Out: out: the new NAT, owned by the caller (ethp2p_nat_destroy); NULL on
 *   failure.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_nat_create6(ethp2p_env *env, const ethp2p_nat_spec *spec,
                                                 ethp2p_nat **out);
/*
 * PCP nonces are random per mapping and live as long as the NAT.  A caller
 * that must renew or delete a mapping from another process (a restarted node,
 * or `nat map` then `nat unmap` in a new run) gives a 32-byte secret key;
 * each nonce is then HMAC-SHA256(key, protocol || internal port || client IP)
 * truncated to 96 bits: stable across runs, unguessable without the key
 * (RFC 6887 §11.3).  Works on pcp and any (passed on to its PCP candidate).
 * Call before the first operation.  Returns 0, or ETHP2P_EUNSUPP for other
 * kinds.
 */
int ethp2p_nat_set_pcp_nonce_key(ethp2p_nat *nat, const uint8_t key[32]);
/* Sets the notification callback (NULL to stop notifications). */
void ethp2p_nat_set_notify(ethp2p_nat *nat, ethp2p_nat_notify_cb cb, void *data);
/* Writes the spec's text form; round-trips through ethp2p_nat_spec_parse. */
int ethp2p_nat_format(const ethp2p_nat *nat, char *buf, size_t size);

static inline int ethp2p_nat_add_mapping(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint,
                                         uint16_t internal_port, const char *desc,
                                         uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data) {
  return nat->ops->add_mapping(nat, proto, ext_hint, internal_port, desc, lifetime_s, cb, data);
}
static inline int ethp2p_nat_delete_mapping(ethp2p_nat *nat, ethp2p_proto proto,
                                            uint16_t external_port, uint16_t internal_port,
                                            ethp2p_nat_done_cb cb, void *data) {
  return nat->ops->delete_mapping(nat, proto, external_port, internal_port, cb, data);
}
static inline int ethp2p_nat_external_ip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  return nat->ops->external_ip(nat, cb, data);
}
static inline void ethp2p_nat_rediscover(ethp2p_nat *nat) {
  if (nat->ops->rediscover != NULL)
    nat->ops->rediscover(nat);
}
static inline void ethp2p_nat_destroy(ethp2p_nat *nat) {
  if (nat != NULL)
    nat->ops->destroy(nat);
}

#ifdef __cplusplus
}
#endif
#endif
