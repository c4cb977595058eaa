/*
 * nat/upnp6.h — UPnP IGDv2 WANIPv6FirewallControl:1 as an IPv6 NAT mechanism (private to
 * nat/; the port-mapping loop drives it through ethp2p/nat.h like any ethp2p_nat).
 *
 * Nothing is translated: a "mapping" is a firewall pinhole for our own global IPv6 address
 * and the internal port, the external port is the internal port and the external address
 * is ours (ethp2p_nat_local_addr_toward the router).
 *
 * Discovery (lazy, on the first operation, again after rediscover()):
 *   1. SSDP M-SEARCH (InternetGatewayDevice:2, then :1 and WANConnectionDevice:2/:1) to
 *      [ff02::c]:1900 on every up, non-loopback, multicast interface with an IPv6 address
 *      (the zone is the interface), and unicast to the IPv6 default router (its zone when
 *      link-local).  Each socket is bound to our best address on its interface (a stable
 *      global one first), so the answer comes from the router's address on our prefix.
 *      miniupnpd 2.3.1 with ipv6_listening_ip binds its IPv6 SSDP socket to that unicast
 *      address and never hears ff02::c: only the unicast search reaches it.
 *   2. A reply counts only if its LOCATION host is its sender (ethp2p_ssdp_location_parse;
 *      a link-local host gets the zone the reply came in on).
 *   3. The description must list WANIPv6FirewallControl:1 with a control URL on the
 *      LOCATION host.  The IPv4 description of the same device is not used: the IPv6 one
 *      is what the router hands to IPv6 control points, and its host is the address the
 *      router checks pinhole owners against.
 *   4. GetFirewallStatus: FirewallEnabled 0 answers every add_mapping with ETHP2P_EUNSUPP
 *      (router_code 702, "FirewallDisabled") and InboundPinholeAllowed 0 with ETHP2P_EPERM
 *      (703, "InboundPinholeNotAllowed"), without further requests, until rediscover().
 *
 * add_mapping: AddPinhole (RemoteHost/RemotePort wildcarded, InternalClient our address,
 * InternalPort = the port, lease 1..86400 s; lifetime 0 asks 86400 s, pinholes are never
 * permanent), or UpdatePinhole with the UniqueID when we hold that pinhole for the same
 * address (704, or 402 from miniupnpd, means the router lost it: AddPinhole again).  Our
 * address changed since: AddPinhole for the new one (the stale pinhole expires).
 * delete_mapping: DeletePinhole by UniqueID (704 counts as deleted; nothing held is 0).
 * external_ip: our address toward the router, no request.
 * Statuses as nat/pinhole_codec.h maps the router's codes; ETHP2P_ENOGATEWAY when no
 * device answers.
 */
#ifndef ETHP2P_NAT_UPNP6_H
#define ETHP2P_NAT_UPNP6_H

#include "ethp2p/attrs.h"
#include "ethp2p/env.h"
#include "ethp2p/nat.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Creates the IGDv2 pinhole NAT.  No I/O before the first operation.
 * Returns: 0, ETHP2P_EINVAL (NULL), ETHP2P_ENOMEM.
 * Args: env (borrowed, outlives the NAT).
 * Out: out: the NAT (name "UPnP-IPv6", spec kind ETHP2P_NAT_UPNP), owned by the caller
 *   (ethp2p_nat_destroy); NULL on failure.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_nat_upnp6_create(ethp2p_env *env, ethp2p_nat **out);

/* SOAP and HTTP exchanges started so far (for tests). */
unsigned ethp2p_nat_upnp6_requests(const ethp2p_nat *nat);

#ifdef __cplusplus
}
#endif
#endif
