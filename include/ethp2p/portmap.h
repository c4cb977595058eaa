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
 * Rules (go-ethereum's p2p/server_nat.go, see PROTOCOLS.md), defaults in
 * ethp2p_portmap_config_default():
 *   - ask for a 10 min lease; refresh 8 min after a success (sooner when the
 *     router grants less than asked: at half the grant, at least 10 s apart);
 *     retry 5 min after a failure; poll the external address every 2 min;
 *   - the current external port is the hint of every refresh, so a router's
 *     alternative port sticks; the record changes only when the mapped port or
 *     the external address changes (TCP port as the `tcp` entry, UDP port as
 *     the fallback UDP port);
 *   - after 5 consecutive failed refreshes the external port is given up: the
 *     loop deletes it and starts over from the wanted port (go-ethereum deletes
 *     on the 6th; we count the give-up attempt as the 5th failure);
 *   - `none` drains registrations (nothing is mapped or polled); `extip` sets the
 *     static IP at once and maps nothing; `stun` only polls the address.
 * Additions (Erlang nat, go-libp2p):
 *   - ETHP2P_NAT_EV_STATE_LOST (epoch reset, restart announcement): every
 *     mapping is reported lost and re-added at once, and the address re-read;
 *   - ETHP2P_NAT_EV_EXTIP_ANNOUNCED: the address is taken at once (and the
 *     mappings refreshed when it changed);
 *   - a router that only grants permanent leases (UPnP 725
 *     OnlyPermanentLeasesSupported, or ETHP2P_EUNSUPP) is asked again at once
 *     with lifetime 0, and that mapping stays permanent from then on (refreshed
 *     on the normal 8 min cadence, never a timed-then-permanent pair each time);
 *   - the first address poll that fails at the connection level re-tries the
 *     mappings at once (go-ethereum does so on every failed poll);
 *   - after 3 consecutive connection-level failures (nat->conn_failures >= 3)
 *     the gateway is rediscovered, one rediscovery at a time, and every mapping
 *     re-applied; GATEWAY_LOST / GATEWAY_FOUND events mark the outage;
 *   - a private, loopback or carrier-grade-NAT external address (double NAT) is
 *     reported (event + warning) and never advertised; an address that was
 *     advertised before is withdrawn;
 *   - a failed address query keeps the last good address (go-ethereum clears
 *     it, which churns the record on every lost reply);
 *   - UPnP never says it lost state, so with UPnP every successful address
 *     poll also re-adds the mappings (same port, no record change): a router
 *     restart is repaired within one poll (2 min) instead of one refresh (8);
 *   - a renewal answered with a different port (routers that treat every
 *     AddAnyPortMapping as new) makes the loop delete the old port after the
 *     new one is granted, and stop the per-poll re-adds for that NAT;
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
typedef struct ethp2p_portmap_config {
  ethp2p_time lease;          /* lifetime asked for (10 min); whole seconds are sent */
  ethp2p_time refresh;        /* refresh after a success (8 min) */
  ethp2p_time retry;          /* retry after a failure (5 min) */
  ethp2p_time extip_interval; /* external-address poll (2 min) */
  unsigned max_failures;      /* failed refreshes before the external port is given up (5) */
  unsigned rediscover_after;  /* consecutive connection failures before rediscovery (3) */
  bool allow_private_extip;   /* advertise private/CGNAT external addresses (labs only) */
  /* Re-add the mappings after every successful address poll: 0 = only for NATs
   * that never report a lost state (UPnP has no epoch or announcements, so a
   * router restart is otherwise noticed only at the next 8 min refresh),
   * 1 = always, -1 = never. */
  int poll_refresh;
} ethp2p_portmap_config;

/* Fills c with go-ethereum's values (above). */
void ethp2p_portmap_config_default(ethp2p_portmap_config *c);

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
  ethp2p_time time;            /* env clock */
  ethp2p_proto proto;          /* mapping events; 0 otherwise */
  uint16_t internal_port;      /* mapping events */
  uint16_t external_port;      /* mapping events: the port now (0 = none) */
  uint16_t old_external_port;  /* ADDED/LOST: the port before (0 = none) */
  uint32_t lifetime_s;         /* ADDED/RENEWED: granted lifetime, 0 = permanent */
  unsigned failures;           /* FAILED: consecutive failures of this mapping */
  int status;                  /* FAILED/STOPPED: ETHP2P_E* code */
  int router_code;             /* FAILED: router's code, 0 when none */
  ethp2p_addr addr;            /* EXTIP_*: the address (family 0 when withdrawn) */
  const char *reason;          /* static text: "gateway lost state", "given up", ... */
} ethp2p_portmap_event;

/* ev is valid only during the call.  Callbacks may read the loop's state but
 * must not destroy it. */
typedef void (*ethp2p_portmap_event_cb)(ethp2p_portmap *pm, const ethp2p_portmap_event *ev,
                                        void *data);

/* Shutdown finished: status 0 when every delete was answered, ETHP2P_ETIMEDOUT
 * when the bound passed first. */
typedef void (*ethp2p_portmap_stop_cb)(ethp2p_portmap *pm, int status, void *data);

/* One registration's state, for listings. */
typedef struct ethp2p_portmap_mapping {
  ethp2p_proto proto;
  uint16_t internal_port;
  uint16_t wanted_port;        /* external port asked for first */
  uint16_t external_port;      /* current external port, 0 = none */
  bool mapped;                 /* the last add/refresh succeeded and its lease runs */
  bool permanent;              /* the router only grants permanent leases */
  bool in_flight;              /* a request is outstanding */
  unsigned failures;           /* consecutive failed attempts */
  ethp2p_time expires;         /* lease end (0 = permanent or none) */
  ethp2p_time next_attempt;    /* next add/refresh (UINT64_MAX when none is due) */
  char name[ETHP2P_PORTMAP_NAME_MAX];
} ethp2p_portmap_mapping;

/* Creates the loop for nat (taking ownership of it) and the sink; cfg NULL means
 * defaults.  Nothing happens until ethp2p_portmap_start.  On failure nat is
 * still the caller's.  Returns 0, ETHP2P_EINVAL or ETHP2P_ENOMEM. */
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
