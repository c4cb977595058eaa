/*
 * nat/impl.h — internal to nat/: the constructors behind ethp2p_nat_create, the
 * announcement listener shared by the NAT-PMP, PCP, UPnP and any clients, and
 * small helpers every implementation uses.  Not installed; not a contract
 * outside nat/.
 */
#ifndef ETHP2P_NAT_IMPL_H
#define ETHP2P_NAT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/nat.h"
#include "nat/stun_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ethp2p_nat_epoch ethp2p_nat_epoch; /* below */

/*
 * Constructors, one per kind.  Each returns 0 with *out set, or a negative
 * code (ETHP2P_ENOMEM, ETHP2P_EINVAL for a spec of another kind) with *out
 * NULL.  No I/O happens before the first operation.  The NAT is freed with
 * ethp2p_nat_destroy().
 */
int ethp2p_nat_none_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
int ethp2p_nat_extip_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
int ethp2p_nat_pmp_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
int ethp2p_nat_pcp_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
/*
 * PCP over IPv6 (nat/pcp.c): MAP requests that open firewall pinholes for our
 * own address.  The server is spec->addr (an IPv6 address; a link-local one
 * without a zone takes the default router's) or the IPv6 default router
 * (ethp2p_env_default_gateway6, zone included).  The client address is
 * ethp2p_nat_local_addr_toward(server), read again for every request, and the
 * request socket is bound to it so the source is the address the MAP names.
 * Suggested external address ::, external port = the hint (internal port when
 * 0); ANNOUNCE heard on [ff02::1]:5350 on the server's link; renewal, epochs,
 * nonces (ethp2p_nat_set_pcp_nonce_key) and deletion as over IPv4.  No
 * NAT-PMP downgrade (IPv4-only): a NAT-PMP-only answer fails the request with
 * ETHP2P_EUNSUPP.  external_ip answers our address toward the server without
 * a query (a pinhole does not translate); map results carry it as
 * external_ip (or the server's, if it names another).  spec: kind PCP, no
 * address or an IPv6 one (else ETHP2P_EINVAL).
 */
int ethp2p_nat_pcp6_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
int ethp2p_nat_stun_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
int ethp2p_nat_any_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
/* Implemented in nat/upnp.c.  A plain (strong) reference on purpose: a weak one
 * would not pull upnp.o out of the static library, and programs would silently
 * run without UPnP. */
int ethp2p_nat_upnp_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);

/*
 * NAT-PMP with options, for PCP's per-request downgrade: with
 * listen_announcements false it does not open its own 224.0.0.1:5350
 * listener (the PCP client already has one); shared_epoch (may be NULL) is
 * an epoch record to use instead of its own, so one gateway restart seen by
 * both protocols is reported once.  shared_epoch must outlive the NAT.
 */
int ethp2p_nat_pmp_create_opts(ethp2p_env *env, const ethp2p_nat_spec *spec,
                               bool listen_announcements, ethp2p_nat_epoch *shared_epoch,
                               ethp2p_nat **out);

/* ethp2p_nat_set_pcp_nonce_key (ethp2p/nat.h) dispatches to these. */
int ethp2p_nat_pcp_set_nonce_key(ethp2p_nat *nat, const uint8_t key[32]);
int ethp2p_nat_any_set_nonce_key(ethp2p_nat *nat, const uint8_t key[32]);
/* "any" over IPv6 (nat/any6.c): PCP over IPv6 first, UPnP IGDv2 pinholes when
 * PCP grants nothing.  spec->kind must be ETHP2P_NAT_ANY. */
int ethp2p_nat_any6_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out);
bool ethp2p_nat_is_any6(const ethp2p_nat *nat);
int ethp2p_nat_any6_set_nonce_key(ethp2p_nat *nat, const uint8_t key[32]);

/* Raises a notification if the NAT has a notify callback. */
void ethp2p_nat_notify(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip);

/*
 * Gateway discovery used by NAT-PMP and PCP: spec->addr when given; else the
 * routing table's default gateway; only if the table has none, x.y.z.1 of the
 * first up, non-loopback, private IPv4 interface address (go-ethereum's
 * guess).  Returns 0 or ETHP2P_ENOGATEWAY.  *guessed tells which path won.
 */
int ethp2p_nat_find_gateway(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_addr *gw,
                            bool *guessed);
/* Our IPv4 address toward gw: the up interface whose prefix contains gw, else
 * the first up non-loopback IPv4 address.  For an IPv6 gw: our best address on
 * its link (stable global, temporary, ULA, link-local; never deprecated or
 * tentative; see nat/spec.c).  Returns 0 or ETHP2P_ENOTFOUND. */
int ethp2p_nat_local_addr_toward(ethp2p_env *env, const ethp2p_addr *gw, ethp2p_addr *out);

/*
 * Epoch bookkeeping shared by a client and its announcement listener, so a
 * gateway restart is reported once whichever packet shows it first.
 */
struct ethp2p_nat_epoch {
  bool valid;
  uint32_t epoch_s;
  ethp2p_time at;
};

/* Records a new epoch value seen at `now`; returns true when it shows the
 * gateway lost state (RFC 6886 §3.6 when pcp is false, RFC 6887 §8.5 when
 * true).  The first value is always accepted. */
bool ethp2p_nat_epoch_update(ethp2p_nat_epoch *e, bool pcp, uint32_t epoch_s, ethp2p_time now);

/*
 * Announcement listener (RFC 6886 §3.2.1, RFC 6887 §14.1.3).
 *
 * Binds UDP 224.0.0.1:5350 with ETHP2P_UDP_REUSEADDR (0.0.0.0:5350 if the
 * environment cannot bind a group address), joins 224.0.0.1 on the interface
 * toward the gateway, and also listens on 5351 for the legacy NAT-PMP port
 * when that bind is possible.  For an IPv6 gateway (a PCP server): binds
 * [ff02::1]:5350 (or [::]:5350), joins ff02::1 on the interface of our
 * address toward the gateway, no legacy port, and NAT-PMP packets are
 * ignored (NAT-PMP is IPv4-only).  Only datagrams whose source IP is the gateway
 * and source port 5351 count; anything else is ignored (and counted).
 * NAT-PMP opcode-128 replies with result 0 and PCP ANNOUNCE responses are
 * understood; every other packet is ignored.
 *
 * It raises through cb: ETHP2P_NAT_EV_STATE_LOST when the announced epoch
 * shows a restart (checked against `epoch`, which the owner shares with its
 * own replies, or a private record when NULL; for a PCP ANNOUNCE to a PCP
 * client, after a random delay of at most ETHP2P_NAT_ANNOUNCE_MAX_DELAY,
 * RFC 6887 §14.1.3), then
 * ETHP2P_NAT_EV_EXTIP_ANNOUNCED when a NAT-PMP announcement carries an
 * address different from the last one known (repeats of the same series
 * are folded).
 */
typedef struct ethp2p_nat_announce ethp2p_nat_announce;
#define ETHP2P_NAT_ANNOUNCE_MAX_DELAY (5 * ETHP2P_SEC)
typedef void (*ethp2p_nat_announce_cb)(void *data, ethp2p_nat_event ev, const ethp2p_addr *ip);

/* Starts listening.  gateway: the only accepted source.  epoch may be NULL;
 * it must outlive the listener.  Returns 0, ETHP2P_ENOMEM or the bind error
 * (e.g. ETHP2P_EADDRINUSE); on error *out is NULL. */
int ethp2p_nat_announce_start(ethp2p_env *env, const ethp2p_addr *gateway, ethp2p_nat_epoch *epoch,
                              ethp2p_nat_announce_cb cb, void *data, ethp2p_nat_announce **out);
/* Tells the listener the external address the owner learned another way, so
 * an announcement of the same address is not reported as news. */
void ethp2p_nat_announce_note_extip(ethp2p_nat_announce *a, const ethp2p_addr *ip);
/* Applies the RFC 6887 §14.1.3 random delay to restarts seen in PCP
 * ANNOUNCEs (for PCP clients; off by default). */
void ethp2p_nat_announce_set_pcp_delay(ethp2p_nat_announce *a, bool on);
/* Number of datagrams ignored (wrong source, not an announcement). */
unsigned ethp2p_nat_announce_ignored(const ethp2p_nat_announce *a);
/* Stops and frees (NULL is fine).  No callback runs afterwards. */
void ethp2p_nat_announce_stop(ethp2p_nat_announce *a);

/* Servers the stun mechanism uses when the spec names none (stun_codec.h). */
#define ETHP2P_NAT_STUN_DEFAULT_SERVERS ETHP2P_STUN_DEFAULT_SERVERS

/* Copies src into dst (size bytes, always NUL-terminated, truncating). */
void ethp2p_nat_copy_str(char *dst, size_t size, const char *src);

#ifdef __cplusplus
}
#endif
#endif
