/*
 * nat/upnp_watch.h — internal to nat/: what the UPnP client learns from the gateway without
 * asking (UPnP Device Architecture 1.1 §1.2 and §4).
 *
 * One watch follows one discovered device:
 *   - SSDP advertisements: a UDP socket on 0.0.0.0:1900 (shared, ETHP2P_UDP_REUSEADDR)
 *     joined to 239.255.255.250 on our address toward the device.  Only NOTIFY datagrams
 *     from the device's IP count.  ssdp:alive with a BOOTID.UPNP.ORG other than the one
 *     known, or with a LOCATION other than the description we use, means the device
 *     restarted (UDA 1.1 §1.2.2: BOOTID changes at every boot) -> UPNP_WATCH_RESTART;
 *     ssdp:byebye -> UPNP_WATCH_GONE (once per series), and the next ssdp:alive from the
 *     same IP -> UPNP_WATCH_RESTART (the device is back without its mappings), so the
 *     owner keeps the watch after GONE; ssdp:update moves the known BOOTID to NEXTBOOTID.
 *   - GENA events of the WAN connection service: a TCP listener on our address toward the
 *     device (port chosen by the environment), SUBSCRIBE to the service's eventSubURL with
 *     that CALLBACK, renewal at 3/4 of the granted timeout, a fresh SUBSCRIBE when a
 *     renewal is refused (412: the router lost the subscription), retries with backoff
 *     (30 s doubling to 10 min) when the router does not answer; after 3 refusals of a
 *     fresh SUBSCRIBE the router is taken not to event (UPNP_SUB_UNSUPPORTED) and the
 *     client's poll is all there is.  A propertyset with an ExternalIPAddress that differs
 *     from the last one known -> UPNP_WATCH_EXTIP.  Events whose SID is not ours, or that
 *     come from another host, get 412 and are ignored.
 *
 * The caller restarts the watch after rediscovery (a restarted router forgets
 * subscriptions).  upnp_watch_unsubscribe cancels the subscription (UNSUBSCRIBE, §4.1.4)
 * while the watch lives; the UPnP client calls it when it deletes its last mapping (the
 * node's shutdown).  upnp_watch_stop sends nothing: a request outliving its owner could
 * outlive the environment too; a subscription left behind expires at its timeout.
 */
#ifndef ETHP2P_NAT_UPNP_WATCH_H
#define ETHP2P_NAT_UPNP_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/nat.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum upnp_watch_event {
  UPNP_WATCH_RESTART = 1, /* the device restarted (new BOOTID or LOCATION) */
  UPNP_WATCH_GONE,        /* ssdp:byebye */
  UPNP_WATCH_EXTIP,       /* an evented ExternalIPAddress (ip set) */
} upnp_watch_event;

/* The subscription's state (one transition function in upnp_watch.c). */
typedef enum upnp_sub_state {
  UPNP_SUB_OFF = 0,     /* no eventSubURL: nothing to do */
  UPNP_SUB_SUBSCRIBING, /* SUBSCRIBE in flight */
  UPNP_SUB_ACTIVE,      /* granted; renewal timer armed */
  UPNP_SUB_RENEWING,    /* renewal in flight */
  UPNP_SUB_WAITING,     /* no answer or a refusal: next SUBSCRIBE on the timer */
  UPNP_SUB_UNSUPPORTED, /* refused 3 times: the router does not event; poll only */
} upnp_sub_state;

typedef void (*upnp_watch_cb)(void *data, upnp_watch_event ev, const ethp2p_addr *ip,
                              const char *why);

typedef struct upnp_watch_config {
  ethp2p_addr device; /* the device's IP (port ignored): the only accepted source */
  ethp2p_addr local;  /* our address toward it (port ignored) */
  char location[256]; /* the description URL in use */
  bool has_bootid;    /* BOOTID.UPNP.ORG from the search reply, when it had one */
  uint32_t bootid;
  char event_url[512]; /* absolute eventSubURL of the WAN service; "" = no GENA */
  uint32_t timeout_s;  /* subscription asked for; 0 = 1800 */
  bool no_ssdp;        /* do not listen for NOTIFY (tests that own port 1900) */
  bool gena_deferred;  /* subscribe only at upnp_watch_go (when the owner's queue is idle) */
} upnp_watch_config;

typedef struct upnp_watch upnp_watch;

/* Starts watching.  Failing to bind 1900 or to listen for events is logged and leaves
 * that half off; only ETHP2P_ENOMEM / ETHP2P_EINVAL fail.  cb runs from the env loop,
 * never inside this call.  Returns 0 with *out set, or the error with *out NULL. */
int upnp_watch_start(ethp2p_env *env, const upnp_watch_config *cfg, upnp_watch_cb cb, void *data,
                     upnp_watch **out);
/* Stops and frees (an exchange in flight is cancelled).  NULL is fine.  Safe inside cb. */
void upnp_watch_stop(upnp_watch *w);
/* Sends UNSUBSCRIBE when subscribed and stops subscribing (state OFF); advertisements
 * are still followed.  upnp_watch_resubscribe starts again (no-op unless OFF with an
 * eventSubURL). */
void upnp_watch_unsubscribe(upnp_watch *w);
void upnp_watch_resubscribe(upnp_watch *w);
/* The subscription's state. */
upnp_sub_state upnp_watch_sub_state(const upnp_watch *w);
/* The external address from an event of the granted subscription (the initial event
 * counts); false if none came, so a router that grants but never events is still polled. */
bool upnp_watch_extip(const upnp_watch *w, ethp2p_addr *out);
/* The owner learned the external address another way (a poll). */
void upnp_watch_note_extip(upnp_watch *w, const ethp2p_addr *ip);
/* Starts a deferred subscription now (no-op otherwise).  The UPnP client calls it when its
 * request queue is empty, so SUBSCRIBE never competes with the first mappings on routers
 * that serve one request at a time. */
void upnp_watch_go(upnp_watch *w);
/* The description URL the device advertises now (its last LOCATION). */
const char *upnp_watch_location(const upnp_watch *w);
/* Counters for tests and benchmarks: GENA requests sent (SUBSCRIBE, renewals). */
unsigned upnp_watch_requests(const upnp_watch *w);

/* ---------------------------------------------------------------------------
 * What the UPnP client's last discovery found (nat/upnp.c), for the doctor: every device
 * that answered the search with a usable LOCATION, its description, each WAN service it
 * ranked and the one it chose, with why.  Plain data.
 * ------------------------------------------------------------------------- */
#define UPNP_DISC_MAX_DEVICES 8
#define UPNP_DISC_MAX_SERVICES 8 /* = ETHP2P_UPNP_MAX_SERVICES (nat/xml.h) */

typedef struct upnp_disc_ranked {
  char service_type[128];
  unsigned rank; /* 4 = at the default gateway, 2 = Connected, 1 = routable address */
  bool have_ip;  /* GetExternalIPAddress gave an address */
  ethp2p_addr extip;
} upnp_disc_ranked;

typedef struct upnp_disc_device {
  char location[256]; /* LOCATION of the search reply (its host is the sender) */
  char st[256], server[128];
  ethp2p_addr host;
  bool at_gateway; /* the routing table's default gateway */
  bool desc_ok;    /* the description was fetched and parsed */
  int desc_status; /* else why not (0 = not fetched) */
  char device_type[128], friendly_name[128];
  char services[UPNP_DISC_MAX_SERVICES][128]; /* every service of the description */
  size_t nservices;
  upnp_disc_ranked ranked[UPNP_DISC_MAX_SERVICES]; /* WAN services checked, in order */
  size_t nranked;
} upnp_disc_device;

typedef struct upnp_disc_info {
  upnp_disc_device devices[UPNP_DISC_MAX_DEVICES]; /* in the order they answered */
  size_t ndevices;
  bool chosen;              /* a service was chosen */
  size_t chosen_device;     /* index into devices */
  char chosen_service[128]; /* its serviceType */
  char why[160]; /* e.g. "at the default gateway, connected, routable external address" */
} upnp_disc_info;

/* Copies what the last discovery of the UPnP client `nat` (ethp2p_nat_upnp_create) found
 * into *out; also while a discovery runs (what it found so far).
 * Returns: true when nat is a UPnP client (*out filled), false otherwise (*out zeroed).
 * Args: nat: the client (not NULL).  Out: out: caller-owned. */
bool upnp_discovery_info(const ethp2p_nat *nat, upnp_disc_info *out);

#ifdef __cplusplus
}
#endif
#endif
