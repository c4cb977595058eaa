/*
 * ethp2p/gateway.h — a router emulator: UPnP IGD (SSDP + HTTP + SOAP), NAT-PMP
 * (RFC 6886) and PCP (RFC 6887) servers over one table of port mappings, with
 * router-like policies and switchable quirks and faults.
 *
 * The gateway runs on an environment (ethp2p/env.h): on libuv for `ethp2p
 * gateway`, or on a simulated NAT box host.  It binds its services on the LAN
 * address it is given and never sends anything to the outside.  It does not
 * forward packets itself; a mirror hook (ethp2p_gw_set_mirror) lets the owner
 * apply every mapping to a real or simulated forwarder.
 *
 * Lifecycle: ethp2p_gw_create() -> ethp2p_gw_start() -> ... -> ethp2p_gw_stop()
 * -> ethp2p_gw_destroy().  All calls run on the env's loop thread.
 * See docs/gateway.md for behaviour, result codes and quirks.
 */
#ifndef ETHP2P_GATEWAY_H
#define ETHP2P_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "ethp2p/nat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which protocol created a mapping. */
typedef enum ethp2p_gw_origin {
  ETHP2P_GW_UPNP = 1,
  ETHP2P_GW_PMP = 2,
  ETHP2P_GW_PCP = 3,
} ethp2p_gw_origin;

/* "UPnP", "NAT-PMP", "PCP" */
const char *ethp2p_gw_origin_name(ethp2p_gw_origin origin);

/* One port mapping (a copy; the table keeps its own). */
typedef struct ethp2p_gw_mapping {
  ethp2p_proto proto;
  uint16_t external_port;
  ethp2p_addr internal; /* internal client IP and internal port */
  char desc[64];        /* description (UPnP) or "" */
  uint32_t lease_s;     /* granted lease in seconds; 0 = permanent */
  ethp2p_time expires;  /* env time of expiry; 0 = permanent */
  ethp2p_gw_origin origin;
  bool has_nonce; /* PCP: owned by this nonce */
  uint8_t nonce[12];
} ethp2p_gw_mapping;

#define ETHP2P_GW_MAX_RANGES 8

typedef struct ethp2p_gw_port_range {
  uint16_t lo, hi; /* inclusive */
} ethp2p_gw_port_range;

/* Router settings.  ethp2p_gw_policy_default() fills sensible values. */
typedef struct ethp2p_gw_policy {
  ethp2p_gw_port_range allow[ETHP2P_GW_MAX_RANGES]; /* allowed external ports */
  size_t n_allow;                                   /* 0 = every port 1..65535 */
  unsigned max_mappings;                            /* whole table, >= 1 */
  unsigned max_per_client;                          /* per internal client IP, >= 1 */
  uint32_t lease_cap_s;                             /* 0 = no cap; permanent requests get the cap */
  bool internal_must_be_requester; /* UPnP 718 (IGDv1) / 606 (IGDv2); PCP ADDRESS_MISMATCH */
  bool permanent_only;             /* UPnP 725 for a non-zero lease */
  bool same_port_only;             /* UPnP 724 when external != internal port */
  unsigned igd_version;            /* 1 or 2 */
  bool upnp, pmp, pcp;             /* protocols enabled */
} ethp2p_gw_policy;

/* Defaults: all ports, 128 mappings, 32 per client, no lease cap, internal
 * client must be the requester, timed leases allowed, IGDv2, all protocols. */
void ethp2p_gw_policy_default(ethp2p_gw_policy *p);

/* Parses "1024-65535,80,443" into p->allow.  Returns 0, ETHP2P_ESYNTAX or
 * ETHP2P_ETOOBIG (more than ETHP2P_GW_MAX_RANGES ranges).  p is unchanged on error. */
int ethp2p_gw_policy_parse_allow(ethp2p_gw_policy *p, const char *text);

/* True if external port `port` is allowed by the policy. */
bool ethp2p_gw_policy_port_allowed(const ethp2p_gw_policy *p, uint16_t port);

/* Quirks and faults, each a behaviour seen in the field (docs/gateway.md). */
typedef enum ethp2p_gw_quirk {
  ETHP2P_GW_Q_NO_NATRSIP = 1u << 0,        /* GetNATRSIPStatus answers 401 Invalid Action */
  ETHP2P_GW_Q_UNNAMESPACED_SOAP = 1u << 1, /* SOAP response elements without u: namespace */
  ETHP2P_GW_Q_CHUNKED = 1u << 2,           /* HTTP bodies sent chunked */
  ETHP2P_GW_Q_PMP_ALT_PORT = 1u << 3,      /* NAT-PMP/PCP never grant the suggested port */
  ETHP2P_GW_Q_RANDOM_PORT = 1u << 4,       /* every new mapping gets a random port */
  ETHP2P_GW_Q_NO_CONCURRENT = 1u << 5,     /* SOAP request while another is open -> 501 */
  ETHP2P_GW_Q_HTTP_PORT_MOVES = 1u << 6,   /* restart listens on a new HTTP port */
  ETHP2P_GW_Q_SLOW = 1u << 7,              /* every reply delayed by slow_ms */
  ETHP2P_GW_Q_DROP = 1u << 8,              /* replies dropped with drop_percent chance */
  ETHP2P_GW_Q_NO_NOTIFY = 1u << 9,         /* no SSDP advertisements (alive, byebye) */
  ETHP2P_GW_Q_NO_GENA = 1u << 10,          /* SUBSCRIBE answered 501: no events */
} ethp2p_gw_quirk;

/* Parses a quirk name ("no-natrsip", "chunked", ...).  Returns 0 and sets
 * *bit, or ETHP2P_ENOTFOUND. */
int ethp2p_gw_quirk_parse(const char *name, unsigned *bit);
/* The name of one quirk bit, or NULL. */
const char *ethp2p_gw_quirk_name(unsigned bit);
/* Writes the names of all bits in `quirks`, comma-separated, into buf. */
void ethp2p_gw_quirks_format(unsigned quirks, char *buf, size_t size);

typedef struct ethp2p_gw_config {
  ethp2p_addr lan_addr;    /* inside address services bind on (port ignored) */
  ethp2p_addr external_ip; /* reported external address */
  ethp2p_gw_policy policy;
  unsigned quirks;         /* ETHP2P_GW_Q_* bits */
  uint32_t slow_ms;        /* delay for ETHP2P_GW_Q_SLOW (default 500) */
  unsigned drop_percent;   /* chance for ETHP2P_GW_Q_DROP, 0..100 (default 50) */
  uint16_t http_port;      /* 0 = let the env choose */
  uint16_t pmp_port;       /* NAT-PMP/PCP server port (default 5351) */
  uint16_t ssdp_port;      /* default 1900 */
  ethp2p_addr ssdp_bind;   /* SSDP socket bind address; unset = 0.0.0.0:ssdp_port */
  ethp2p_addr ssdp_group;  /* default 239.255.255.250:1900 */
  ethp2p_addr announce_to; /* NAT-PMP/PCP announcements, default 224.0.0.1:5350 */
  unsigned announce_count; /* announcements per event, default 10 (RFC 6886 3.2.1), 0 = none */
  /* HTTP server limits. */
  size_t http_max_header;       /* default 8192 bytes */
  size_t http_max_body;         /* default 16384 bytes */
  unsigned http_max_conns;      /* default 64 */
  unsigned http_max_per_client; /* default 8 */
  uint32_t http_timeout_ms;     /* whole-request deadline, default 5000 */
  char uuid[40];                /* device UUID; "" = derived from env random at create */
  /* SSDP advertisements (UDA 1.1 §1.2), as miniupnpd 2.3.1 sends them: ssdp:alive for
   * every device and service at start, after a restart (with a new BOOTID.UPNP.ORG) and
   * every notify_interval_s; ssdp:byebye at a clean stop. */
  uint32_t notify_interval_s; /* default 30 (miniupnpd's notify_interval) */
} ethp2p_gw_config;

/* Fills defaults (policy defaults, ports, groups, limits); the caller sets
 * lan_addr and external_ip. */
void ethp2p_gw_config_default(ethp2p_gw_config *cfg);

typedef struct ethp2p_gateway ethp2p_gateway;

typedef enum ethp2p_gw_change {
  ETHP2P_GW_ADDED = 1,
  ETHP2P_GW_RENEWED, /* same mapping, new lease or fields */
  ETHP2P_GW_DELETED, /* deleted by a client */
  ETHP2P_GW_EXPIRED, /* lease ran out */
  ETHP2P_GW_CLEARED, /* lost in a restart or stop */
} ethp2p_gw_change;

/* "added", "renewed", "deleted", "expired", "cleared" */
const char *ethp2p_gw_change_name(ethp2p_gw_change change);

/* Called after every change of the table; m is valid only during the call.
 * The callback must not destroy the gateway. */
typedef void (*ethp2p_gw_change_cb)(ethp2p_gateway *gw, ethp2p_gw_change change,
                                    const ethp2p_gw_mapping *m, void *data);

/* Mirror hook: add=true before a mapping is granted (a non-zero return refuses
 * it: UPnP 501, NAT-PMP 3, PCP NETWORK_FAILURE), add=false after it is gone.
 * external_ip is the gateway's current external address. */
typedef int (*ethp2p_gw_mirror_cb)(void *data, bool add, const ethp2p_gw_mapping *m,
                                   const ethp2p_addr *external_ip);

/* Creates a gateway on env (no I/O yet; env must outlive it).  cfg is copied.  Returns 0,
 * ETHP2P_EINVAL (no LAN/external address, bad policy) or ETHP2P_ENOMEM.  *out is NULL on error. */
int ethp2p_gw_create(ethp2p_env *env, const ethp2p_gw_config *cfg, ethp2p_gateway **out);
/* Stops (if running) and frees the gateway.  NULL is fine. */
void ethp2p_gw_destroy(ethp2p_gateway *gw);

/* Binds the enabled services and sends the start announcements.  The epoch
 * starts now.  Returns 0 or the first bind error (nothing stays bound). */
int ethp2p_gw_start(ethp2p_gateway *gw);
/* Closes every socket and connection; the table is cleared (CLEARED events). */
void ethp2p_gw_stop(ethp2p_gateway *gw);
/* A router restart: mappings and epoch are lost, services rebind (with
 * ETHP2P_GW_Q_HTTP_PORT_MOVES the HTTP port changes), announcements are sent.
 * Returns 0 or a bind error (the gateway is then stopped). */
int ethp2p_gw_restart(ethp2p_gateway *gw);
/* Changes the external address and announces it (NAT-PMP and PCP announcements, and a
 * GENA event with ExternalIPAddress to every subscriber). */
void ethp2p_gw_set_external_ip(ethp2p_gateway *gw, const ethp2p_addr *ip);
/* Sends an announcement series now, and the WANIPConnection event to every subscriber
 * (as miniupnpd does on SIGUSR1). */
void ethp2p_gw_announce(ethp2p_gateway *gw);

/* Sets (or clears, cb NULL) the table-change callback; data is passed back. */
void ethp2p_gw_set_change_cb(ethp2p_gateway *gw, ethp2p_gw_change_cb cb, void *data);
/* Sets (or clears) the mirror hook.  Set it before start so no mapping is missed. */
void ethp2p_gw_set_mirror(ethp2p_gateway *gw, ethp2p_gw_mirror_cb cb, void *data);
/* Asked before each SSDP advertisement series (ssdp:alive at start, restart and every
 * notify interval; ssdp:byebye at a clean stop): false = nobody on the LAN would hear it,
 * so the series is neither sent nor counted in notifies_sent (the timer keeps its
 * schedule).  The simulator's owner answers it from group membership
 * (ethp2p_sim_udp_group_listeners) so a quiet simulated LAN costs one timer per
 * interval instead of ten datagrams. */
typedef bool (*ethp2p_gw_listeners_cb)(void *data);
/* Sets (or clears, cb NULL: always advertise) the advertisement gate; data is passed
 * back. */
void ethp2p_gw_set_notify_gate(ethp2p_gateway *gw, ethp2p_gw_listeners_cb cb, void *data);
/* Replaces the quirk bits at run time (takes effect with the next request). */
void ethp2p_gw_set_quirks(ethp2p_gateway *gw, unsigned quirks);

/* Copies up to cap mappings into out (in table order); returns the number of
 * mappings in the table (may exceed cap). */
size_t ethp2p_gw_mappings(const ethp2p_gateway *gw, ethp2p_gw_mapping *out, size_t cap);
/* Seconds since the epoch started (start or restart). */
uint32_t ethp2p_gw_epoch(const ethp2p_gateway *gw);
/* The bound HTTP port (0 when UPnP is off or stopped). */
uint16_t ethp2p_gw_http_port(const ethp2p_gateway *gw);
/* The root description URL, e.g. "http://192.168.1.1:5000/rootDesc.xml". */
int ethp2p_gw_location(const ethp2p_gateway *gw, char *buf, size_t size);
/* Current external address. */
ethp2p_addr ethp2p_gw_external_ip(const ethp2p_gateway *gw);
/* Number of open HTTP connections (for tests and logs). */
unsigned ethp2p_gw_http_connections(const ethp2p_gateway *gw);

/* What the gateway has served and sent, for tests and benchmarks. */
typedef struct ethp2p_gw_stats {
  unsigned soap_requests; /* control POSTs answered (any action, faults included) */
  unsigned gets;          /* description GETs */
  unsigned subscribes;    /* new GENA subscriptions granted */
  unsigned renewals;      /* renewals granted */
  unsigned unsubscribes;  /* subscriptions cancelled */
  unsigned events_sent;   /* event NOTIFY requests sent */
  unsigned notifies_sent; /* SSDP advertisement datagrams sent */
  uint32_t bootid;        /* current BOOTID.UPNP.ORG */
  unsigned subscriptions; /* active subscriptions */
} ethp2p_gw_stats;
void ethp2p_gw_get_stats(const ethp2p_gateway *gw, ethp2p_gw_stats *out);

#ifdef __cplusplus
}
#endif
#endif
