/*
 * ethp2p/portmap.h — the port-mapping loop.
 *
 * Keeps a node's ports mapped through whatever NAT it sits behind and keeps the
 * endpoint published in its record true, without churning the record.  The
 * loop runs on the environment's clock (two alarms: refresh and external
 * address) and talks to the NAT through the ethp2p_nat vtable (ethp2p/nat.h)
 * and to the record only through a small sink (set IP, set TCP port, set UDP
 * port), so it is testable alone on a hand-advanced clock.
 *
 * The loop decides from the NAT's capabilities (nat->caps) and the generic
 * statuses of its answers alone (ethp2p/nat.h); it never asks which protocol
 * it drives.  Rules (go-ethereum's p2p/server_nat.go, RFC 6886 and RFC 6887),
 * defaults in ethp2p_portmap_config_default():
 *   - ask for go-ethereum's 10 min lease, except that by default (lease 0)
 *     a NAT with ETHP2P_NAT_CAP_DETECTS_RESTART is asked for 2 h (RFC 6886
 *     §3.3 recommends 7200 s; such a NAT reports a router restart itself, so
 *     a long lease loses nothing and the router is asked 12 times less);
 *     renew when the protocol says
 *     (ethp2p_nat_map_result.renew_after_ms: NAT-PMP at 1/2 of the granted
 *     lifetime, PCP at a random point in [1/2, 5/8]), else 8 min after a
 *     success (at half the grant for the automatic long lease), or at half
 *     the grant when the router granted less than asked (or a timed lease
 *     where a permanent one was asked); never later than the lease end;
 *   - a failed renewal is retried before the lease ends (at half the time
 *     left, at least 2 s apart, at most `retry`); a mapping without a
 *     running lease is retried every `retry` (5 min);
 *   - the external address is polled every 2 min (ETHP2P_NAT_CAP_POLL_EXTIP),
 *     set once for ETHP2P_NAT_CAP_STATIC_IP, and taken from map results that
 *     carry it (PCP MAP), so a gateway that cannot be polled still reports it;
 *   - the current external port is the hint of every refresh, so a router's
 *     alternative port sticks; the record changes only when the mapped port or
 *     the external address changes (TCP port as the `tcp` entry, UDP port as
 *     the fallback UDP port);
 *   - after 5 consecutive failed refreshes the external port is given up (and
 *     deleted if its lease still runs: never a port that is not ours) and the
 *     loop starts over from the wanted port;
 *   - a NAT without ETHP2P_NAT_CAP_MAP drains registrations (kept for
 *     listings in state ETHP2P_PORTMAP_DRAINED, nothing mapped).
 * Additions (Erlang nat, go-libp2p):
 *   - ETHP2P_NAT_EV_STATE_LOST (epoch reset, restart announcement): every
 *     mapping is reported lost and re-added at once, and the address re-read;
 *   - ETHP2P_NAT_EV_EXTIP_ANNOUNCED: the address is taken at once (and the
 *     mappings refreshed when it changed);
 *   - ETHP2P_NAT_EV_GATEWAY_GONE and a status of ETHP2P_EADDRCHANGED: the
 *     gateway is rediscovered at once and every mapping re-added;
 *   - ETHP2P_EPERMANENT (the router grants only permanent leases): asked again
 *     at once with lifetime 0, and that mapping stays permanent from then on;
 *   - the loop counts consecutive connection-level failures itself
 *     (ethp2p_nat_is_conn_failure on every status, reset by any answer);
 *     after `rediscover_after` (3) in a row the gateway is rediscovered, one
 *     rediscovery at a time and at most one per `retry` during an outage, and
 *     every mapping re-applied; GATEWAY_LOST / GATEWAY_FOUND mark the outage;
 *     the first address poll that fails that way re-tries the mappings at once;
 *   - a private, loopback or carrier-grade-NAT external address (double NAT) is
 *     reported (event + warning) and never advertised; an address that was
 *     advertised before is withdrawn;
 *   - a failed address query keeps the last good address;
 *   - a NAT without ETHP2P_NAT_CAP_DETECTS_RESTART never says it lost state, so
 *     every successful address poll also re-adds its mappings (same port, no
 *     record change): a router restart is repaired within one poll;
 *   - a renewal answered with a different port: where deletes go by internal
 *     port (ETHP2P_NAT_CAP_DELETES_BY_INTERNAL: NAT-PMP, PCP) the new grant
 *     replaced the old one and it is left alone (a delete would remove the
 *     new one); where they go by external port (UPnP) the old one is deleted
 *     if it is still ours (its grant to us runs), else left to whoever holds
 *     it; a router that moves ports on every renewal also stops the per-poll
 *     re-adds;
 *   - no port 0 ever reaches the sink;
 *   - shutdown deletes every mapping that was made, with a bounded wait.
 *
 * Ownership: the loop owns the NAT handed to it (destroyed by
 * ethp2p_portmap_destroy, which also drops its pending callbacks).  The sink's
 * data pointer is borrowed and must outlive the loop.
 */
#ifndef ETHP2P_PORTMAP_H
#define ETHP2P_PORTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "ethp2p/nat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* At most this many registrations (one per protocol is what a node needs). */
#define ETHP2P_PORTMAP_MAX 4
/* At most this many event subscribers. */
#define ETHP2P_PORTMAP_MAX_SUBS 8
/* Longest mapping description kept (longer names are cut). */
#define ETHP2P_PORTMAP_NAME_MAX 48

typedef struct ethp2p_portmap ethp2p_portmap;

/* Intervals and thresholds; every field may be changed before create. */
/* go-ethereum's lease, asked from NATs that cannot tell when the router restarted. */
#define ETHP2P_PORTMAP_LEASE (10 * ETHP2P_MIN)
/* RFC 6886 §3.3's recommended lease, asked from NATs that can (routers may grant less). */
#define ETHP2P_PORTMAP_LONG_LEASE (2 * ETHP2P_HOUR)

typedef struct ethp2p_portmap_config {
  /* Lifetime asked for; whole seconds are sent.  0 (the default) = automatic:
   * long_lease from a NAT whose caps include ETHP2P_NAT_CAP_DETECTS_RESTART
   * (read at every request: `any` reports its winner's), ETHP2P_PORTMAP_LEASE
   * from the others.  Any other value is asked from every NAT. */
  ethp2p_time lease;
  ethp2p_time long_lease;     /* automatic lease of restart-detecting NATs (2 h; 0 = that) */
  ethp2p_time refresh;        /* refresh after a success (8 min) */
  ethp2p_time retry;          /* retry after a failure (5 min) */
  ethp2p_time extip_interval; /* external-address poll (2 min) */
  unsigned max_failures;      /* failed refreshes before the external port is given up (5) */
  unsigned rediscover_after;  /* consecutive connection failures before rediscovery (3) */
  bool allow_private_extip;   /* advertise private/CGNAT external addresses (labs only) */
  /* Re-add the mappings after every successful address poll: 0 = only for NATs
   * without ETHP2P_NAT_CAP_DETECTS_RESTART (a router restart is otherwise
   * noticed only at the next refresh), 1 = always, -1 = never. */
  int poll_refresh;
  /* A 32-byte secret (e.g. derived from the node key) from which PCP nonces are
   * derived, so a restarted node renews and deletes the mappings it made before
   * (RFC 6887 §11.3).  Applied by ethp2p_portmap_create through
   * ethp2p_nat_set_pcp_nonce_key; ignored by NATs without PCP. */
  bool has_nonce_key;
  uint8_t nonce_key[32];
  /* The address family this loop keeps reachable: 0 or 4 = IPv4 (mappings),
   * 6 = IPv6 (pinholes, sink ethp2p_localnode_portmap_sink6).  Only labels
   * the events (ethp2p_portmap_event.family) for now. */
  int family;
} ethp2p_portmap_config;

/* Fills c with the defaults: go-ethereum's values (above), lease 0 (automatic)
 * and long_lease ETHP2P_PORTMAP_LONG_LEASE. */
void ethp2p_portmap_config_default(ethp2p_portmap_config *c);

/*
 * Derives c->nonce_key from the node's secret key and sets c->has_nonce_key,
 * so a restarted node derives the same PCP nonces for the same mappings
 * (RFC 6887 §11.3) while nobody without the node key can: key =
 * HMAC-SHA256(secret, "ethp2p pcp nonce key").  The secret is only read.
 * Returns 0, ETHP2P_EINVAL (NULL argument) or the HMAC's error (c unchanged).
 */
int ethp2p_portmap_config_set_node_key(ethp2p_portmap_config *c, const uint8_t secret[32]);

/* Where the loop writes the endpoint.  Each function is called only when the
 * value changes.  set_ip: ip == NULL withdraws the address. set_tcp/set_udp
 * never receive 0.  Any member may be NULL (ignored). */
typedef struct ethp2p_portmap_sink {
  void (*set_ip)(void *data, const ethp2p_addr *ip);
  void (*set_tcp)(void *data, uint16_t port);
  void (*set_udp)(void *data, uint16_t port);
  void *data;
} ethp2p_portmap_sink;

typedef enum ethp2p_portmap_event_type {
  ETHP2P_PORTMAP_EV_MAPPING_ADDED = 1, /* first grant, or a grant of a different port */
  ETHP2P_PORTMAP_EV_MAPPING_RENEWED,   /* same port granted again */
  ETHP2P_PORTMAP_EV_MAPPING_FAILED,    /* an add/refresh failed (status, failures) */
  ETHP2P_PORTMAP_EV_MAPPING_LOST,      /* gateway lost state, lease expired, or given up */
  ETHP2P_PORTMAP_EV_EXTIP_CHANGED,     /* a new public external address (addr) */
  ETHP2P_PORTMAP_EV_EXTIP_PRIVATE,     /* the gateway reports a private/CGNAT address (addr) */
  ETHP2P_PORTMAP_EV_GATEWAY_LOST,      /* repeated connection failures; rediscovering */
  ETHP2P_PORTMAP_EV_GATEWAY_FOUND,     /* an operation succeeded after GATEWAY_LOST */
  ETHP2P_PORTMAP_EV_RECORD_UPDATED,    /* the sink was told something new */
  ETHP2P_PORTMAP_EV_STOPPED,           /* shutdown finished (status 0 or ETIMEDOUT) */
} ethp2p_portmap_event_type;

/* "mapping-added", "mapping-renewed", ... */
const char *ethp2p_portmap_event_name(ethp2p_portmap_event_type type);

typedef struct ethp2p_portmap_event {
  ethp2p_portmap_event_type type;
  ethp2p_time time;           /* env clock */
  ethp2p_proto proto;         /* mapping events; 0 otherwise */
  uint16_t internal_port;     /* mapping events */
  uint16_t external_port;     /* mapping events: the port now (0 = none) */
  uint16_t old_external_port; /* ADDED/LOST: the port before (0 = none) */
  uint32_t lifetime_s;        /* ADDED/RENEWED: granted lifetime, 0 = permanent */
  unsigned failures;          /* FAILED: consecutive failures of this mapping */
  int status;                 /* FAILED/STOPPED: ETHP2P_E* code */
  int router_code;            /* FAILED: router's code, 0 when none */
  ethp2p_addr addr;           /* EXTIP_*: the address (family 0 when withdrawn) */
  const char *reason;         /* static text: "gateway lost state", "given up", ... */
  int family;                 /* the loop's family: 4 or 6 (ethp2p_portmap_config.family) */
} ethp2p_portmap_event;

/* ev is valid only during the call.  Callbacks may read the loop's state but
 * must not destroy it. */
typedef void (*ethp2p_portmap_event_cb)(ethp2p_portmap *pm, const ethp2p_portmap_event *ev,
                                        void *data);

/* Shutdown finished: status 0 when every delete was answered, ETHP2P_ETIMEDOUT
 * when the bound passed first. */
typedef void (*ethp2p_portmap_stop_cb)(ethp2p_portmap *pm, int status, void *data);

/* Where a registration stands. */
typedef enum ethp2p_portmap_state {
  ETHP2P_PORTMAP_DRAINED = 1, /* the NAT cannot map (none, extip, stun): never attempted */
  ETHP2P_PORTMAP_UNMAPPED,    /* not (or no longer) granted; attempts continue */
  ETHP2P_PORTMAP_MAPPED,      /* granted, and its lease runs */
} ethp2p_portmap_state;

/* "drained", "unmapped", "mapped" */
const char *ethp2p_portmap_state_name(ethp2p_portmap_state state);

/* One registration's state, for listings (what metrics and /status read). */
typedef struct ethp2p_portmap_mapping {
  ethp2p_proto proto;
  uint16_t internal_port;
  uint16_t wanted_port;   /* external port asked for first */
  uint16_t external_port; /* current external port, 0 = none */
  ethp2p_portmap_state state;
  bool mapped;              /* state == ETHP2P_PORTMAP_MAPPED */
  bool permanent;           /* the router only grants permanent leases */
  bool in_flight;           /* a request is outstanding */
  unsigned failures;        /* consecutive failed attempts */
  ethp2p_time expires;      /* lease end (0 = permanent or none) */
  ethp2p_time next_attempt; /* next add/refresh (UINT64_MAX when none is due) */
  /* Totals since the registration (counters for metrics). */
  uint64_t added;   /* grants of a new port (ETHP2P_PORTMAP_EV_MAPPING_ADDED) */
  uint64_t renewed; /* grants of the same port (..._RENEWED) */
  uint64_t failed;  /* failed adds and refreshes (..._FAILED) */
  uint64_t lost;    /* grants lost (..._LOST) */
  char name[ETHP2P_PORTMAP_NAME_MAX];
} ethp2p_portmap_mapping;

/* Creates the loop for nat (taking ownership of it) and the sink; cfg NULL means
 * defaults.  Nothing happens until ethp2p_portmap_start.  On failure nat is
 * still the caller's.  Returns 0, ETHP2P_EINVAL (a zero interval, a lease
 * under 1 s, or lease <= refresh: the mapping would expire before its
 * refresh; with lease 0 both ETHP2P_PORTMAP_LEASE and long_lease are checked;
 * logged with the values) or ETHP2P_ENOMEM. */
int ethp2p_portmap_create(ethp2p_env *env, ethp2p_nat *nat, const ethp2p_portmap_config *cfg,
                          const ethp2p_portmap_sink *sink, ethp2p_portmap **out);

/* Registers a port to keep mapped: proto TCP or UDP, the local port, the
 * external port wanted (0 = same as internal) and a description for the router.
 * Registering a protocol again replaces its registration (an old mapping is
 * deleted).  May be called before or after start; the mapping is attempted on
 * the next loop turn.  With a NAT that cannot map, the registration is kept
 * but nothing is done (drained).  Returns 0, ETHP2P_EINVAL (port 0, bad proto),
 * ETHP2P_ESPACE (table full) or ETHP2P_ESTATE (stopping). */
int ethp2p_portmap_add(ethp2p_portmap *pm, ethp2p_proto proto, uint16_t internal_port,
                       uint16_t wanted_port, const char *name);

/* Starts the alarms (and, for extip, sets the static IP at once).  Returns 0 or
 * ETHP2P_ESTATE when already started. */
int ethp2p_portmap_start(ethp2p_portmap *pm);

/* Subscribes to events.  Returns a positive id for unsubscribe, or ETHP2P_ESPACE. */
int ethp2p_portmap_subscribe(ethp2p_portmap *pm, ethp2p_portmap_event_cb cb, void *data);
/* Removes a subscription (unknown ids are ignored). */
void ethp2p_portmap_unsubscribe(ethp2p_portmap *pm, int id);

/* Copies up to cap registrations into out; returns the number of registrations
 * (which may exceed cap). */
size_t ethp2p_portmap_mappings(const ethp2p_portmap *pm, ethp2p_portmap_mapping *out, size_t cap);

/* The external address last reported by the NAT (family 0 if none yet), and
 * whether it is the one advertised (public, or allowed by the config). */
bool ethp2p_portmap_external_ip(const ethp2p_portmap *pm, ethp2p_addr *out);

/* The NAT the loop drives (still owned by the loop). */
ethp2p_nat *ethp2p_portmap_nat(const ethp2p_portmap *pm);

/* Stops the loop and deletes every mapping that was made.  cb (may be NULL)
 * runs once, on a later loop turn, when all deletes were answered or after
 * `bound` (ETHP2P_ETIMEDOUT), whichever is first; the event
 * ETHP2P_PORTMAP_EV_STOPPED is sent at the same moment.  Returns 0 or
 * ETHP2P_ESTATE when already stopping. */
int ethp2p_portmap_stop(ethp2p_portmap *pm, ethp2p_time bound, ethp2p_portmap_stop_cb cb,
                        void *data);

/* Frees the loop and destroys its NAT (pending NAT callbacks are dropped).
 * Without a prior stop, mappings are left on the router. NULL is fine. */
void ethp2p_portmap_destroy(ethp2p_portmap *pm);

#ifdef __cplusplus
}
#endif
#endif
