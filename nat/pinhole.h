/*
 * nat/pinhole.h — an IPv6 firewall pinhole kept open through a router's UPnP IGDv2
 * WANIPv6FirewallControl:1 service (UPnP-gw-WANIPv6FirewallControl-v1-Service).
 *
 * Given the service's control URL (from the device description; an IP literal host,
 * e.g. "http://[3fff:0:1::1]:5000/ctl/IP6FCtl"), the client:
 *   - opens a pinhole with AddPinhole for our IPv6 address and a port (RemoteHost and
 *     RemotePort wildcarded: any peer may connect);
 *   - renews it with UpdatePinhole when two thirds of the lease have passed; a router
 *     that lost it (704 NoSuchEntry, or 402 from miniupnpd 2.3.1, which answers that for
 *     an unknown UniqueID) gets a fresh AddPinhole at once;
 *   - deletes it with DeletePinhole on request.
 *
 * InternalClient is read at every request (never frozen): by default our best address
 * on the router's link (ethp2p_nat_local_addr_toward: stable global first, never
 * deprecated or tentative).  When it changed since the pinhole was opened, renewal
 * deletes the stale pinhole and adds one for the new address.  The HTTP connection is
 * made from that same address, since routers (miniupnpd) only let a control point open
 * pinholes for itself.
 *
 * Failures are reported with the generic status and the router's UPnP code (see
 * nat/pinhole_codec.h).  A failed add or renewal is retried after 5 s, doubling up to
 * 5 min, except for refusals that will not change by retrying (EPERM, EUNSUPP, EINVAL):
 * those stop the client until ethp2p_pinhole_start is called again.
 *
 * Threading: everything runs on the environment's loop; callbacks run from it.
 */
#ifndef ETHP2P_NAT_PINHOLE_H
#define ETHP2P_NAT_PINHOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "nat/pinhole_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ethp2p_pinhole ethp2p_pinhole;

typedef enum ethp2p_pinhole_event {
  ETHP2P_PINHOLE_EV_OPENED = 1, /* AddPinhole succeeded (info.unique_id, info.internal) */
  ETHP2P_PINHOLE_EV_RENEWED,    /* UpdatePinhole succeeded (info.expires moved) */
  ETHP2P_PINHOLE_EV_FAILED,     /* a request failed (info.status, info.upnp_code, info.action) */
  ETHP2P_PINHOLE_EV_DELETED,    /* DeletePinhole answered (info.status 0, or its failure) */
  ETHP2P_PINHOLE_EV_CHECKED,    /* CheckPinholeWorking answered (info.is_working or failure) */
  ETHP2P_PINHOLE_EV_STATUS,     /* GetFirewallStatus answered (info.firewall_enabled,
                                   info.inbound_pinhole_allowed, or failure) */
} ethp2p_pinhole_event;

typedef struct ethp2p_pinhole_info {
  ethp2p_pinhole_event event;
  ethp2p_pinhole_action action; /* the request that produced the event */
  int status;                   /* 0 or a negative ETHP2P_E* */
  int upnp_code;                /* the router's UPnP errorCode, 0 when none */
  uint16_t unique_id;           /* the router's UniqueID of the pinhole */
  ethp2p_addr internal;         /* InternalClient and InternalPort of the pinhole */
  ethp2p_time expires;          /* env time the lease ends (0 when none) */
  bool is_working;              /* EV_CHECKED */
  bool firewall_enabled;        /* EV_STATUS */
  bool inbound_pinhole_allowed; /* EV_STATUS */
  bool retrying;                /* EV_FAILED: a retry is scheduled */
} ethp2p_pinhole_info;

/* Called for every event; info is borrowed for the call.  The callback may call
 * ethp2p_pinhole_delete, _check or _stop, but not ethp2p_pinhole_free. */
typedef void (*ethp2p_pinhole_cb)(ethp2p_pinhole *p, const ethp2p_pinhole_info *info, void *data);

/* Our InternalClient toward `router` (an IPv6 address, port ignored): 0 with *out set, or
 * a negative code.  The default is ethp2p_nat_local_addr_toward. */
typedef int (*ethp2p_pinhole_addr_fn)(ethp2p_env *env, const ethp2p_addr *router, ethp2p_addr *out,
                                      void *data);

typedef struct ethp2p_pinhole_config {
  const char *control_url;           /* absolute http:// URL with an IPv6 literal host; copied.
                                        A link-local host may carry a zone ("%25eth0"), which
                                        is dropped for `scope` (ethp2p_ssdp_url_parse_zoned) */
  uint32_t scope;                    /* zone (interface index) of a link-local host; 0 = none */
  int protocol;                      /* ETHP2P_PINHOLE_TCP or ETHP2P_PINHOLE_UDP */
  uint16_t port;                     /* InternalPort, 1..65535 */
  uint32_t lease_s;                  /* 1..86400 */
  ethp2p_time timeout;               /* per HTTP exchange; 0 = 5 s */
  ethp2p_pinhole_addr_fn local_addr; /* NULL = ethp2p_nat_local_addr_toward */
  void *local_addr_data;
} ethp2p_pinhole_config;

/*
 * Creates a client (idle until ethp2p_pinhole_start).
 * Returns 0; ETHP2P_EINVAL (NULL, a URL that does not parse or whose host is not an IPv6
 * literal, port 0, protocol not 6/17); ETHP2P_ERANGE (lease outside 1..86400);
 * ETHP2P_ENOMEM.  Out: *out, freed with ethp2p_pinhole_free.
 */
int ethp2p_pinhole_new(ethp2p_env *env, ethp2p_pinhole **out, const ethp2p_pinhole_config *cfg,
                       ethp2p_pinhole_cb cb, void *data);

/* Sends AddPinhole now (cancelling a retry wait) and keeps the pinhole renewed.
 * Returns 0, ETHP2P_EBUSY (a request is in flight), or the immediate send error. */
int ethp2p_pinhole_start(ethp2p_pinhole *p);

/* Sends DeletePinhole for the open pinhole and stops renewing (EV_DELETED follows).  A
 * renewal or check in flight is cancelled (no event for it).
 * Returns 0, ETHP2P_ESTATE (no pinhole open), or the immediate send error. */
int ethp2p_pinhole_delete(ethp2p_pinhole *p);

/* Sends CheckPinholeWorking (EV_CHECKED follows).  Returns 0, ETHP2P_ESTATE (no pinhole
 * open), ETHP2P_EBUSY (a request in flight), or the immediate send error. */
int ethp2p_pinhole_check(ethp2p_pinhole *p);

/* Sends GetFirewallStatus (EV_STATUS follows): whether the router filters at all and
 * whether it lets control points open inbound pinholes.  Needs no open pinhole.
 * Returns 0, ETHP2P_EBUSY (a request in flight), or the immediate send error. */
int ethp2p_pinhole_firewall_status(ethp2p_pinhole *p);

/* Stops renewing and retrying without telling the router (the lease runs out). */
void ethp2p_pinhole_stop(ethp2p_pinhole *p);

/* True while a pinhole is open (added and not deleted); *info gets its state if not NULL. */
bool ethp2p_pinhole_is_open(const ethp2p_pinhole *p, ethp2p_pinhole_info *info);

/* Cancels any request in flight (no callback) and frees p.  NULL is fine. */
void ethp2p_pinhole_free(ethp2p_pinhole *p);

#ifdef __cplusplus
}
#endif
#endif
