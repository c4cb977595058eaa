/*
 * ethp2p/sim.h — the simulated world: a deterministic discrete-event network
 * that implements the environment (ethp2p/env.h) for every simulated host.
 *
 * Model
 *   - One world (ethp2p_sim) owns a virtual monotonic clock, ONE event queue
 *     (a 4-ary min-heap keyed by (time, insertion sequence), so events due at
 *     the same time fire in the order they were queued) and ONE seeded PRNG
 *     (xoshiro256** seeded through splitmix64).  The PRNG is the only source of
 *     chance: link jitter and loss, ephemeral and NAT port choice, and every
 *     host's env random().  Same seed + same program => same events, byte for
 *     byte (see ethp2p_sim_trace_hash).
 *   - Networks (ethp2p_sim_net) are segments: a LAN, or the "internet" (WAN)
 *     that every world has from the start.  Each network has one link setting
 *     (latency, jitter, loss) applied to every datagram crossing it.  Multicast
 *     reaches every host on the segment that joined the group (the sender's own
 *     host included, like IP_MULTICAST_LOOP) and never crosses a router.  As on
 *     Linux, every host is a member of 224.0.0.1 (all hosts): a socket bound to
 *     the wildcard address receives it on its port without joining.
 *   - Hosts have up to ETHP2P_SIM_MAX_IFACES interfaces (an address and a
 *     prefix on one network) plus an implicit loopback 127.0.0.1/8, and an
 *     optional IPv4 default gateway.  Routing: own address or loopback is
 *     delivered locally (next loop turn); otherwise the interface whose prefix
 *     contains the destination (longest prefix; a /0 interface means "on-link
 *     for everything", which is how internet hosts are attached); otherwise the
 *     default gateway; otherwise ETHP2P_ENETUNREACH.
 *   - NAT boxes (ethp2p_sim_nat) are hosts with an inside interface on their
 *     own LAN and an outside interface (on the internet, or on another box's
 *     LAN for double NAT).  Their behaviour is the NATCracker triple (mapping,
 *     filtering, allocation) plus binding timeouts, hairpinning and a table of
 *     port forwards with leases (the data plane a gateway emulator drives).
 *     Services (NAT-PMP, PCP, UPnP) run ON the box host through its env: they
 *     may bind UDP/TCP on the inside and on the outside address.
 *
 * Time: virtual "now" starts at ETHP2P_SIM_START (1 s) and only moves when the
 * world runs.  wall_ms is ETHP2P_SIM_WALL_EPOCH_MS (2026-01-01T00:00:00Z) plus
 * the virtual time elapsed since the start.
 *
 * Datagrams: latency + uniform jitter in [0, jitter] per crossing, loss drawn
 * per crossing.  Jitter may reorder datagrams, as on a real network.
 * TCP: a connection is a stream of segments (SYN, SYN-ACK, data, FIN, RST)
 * that cross the same networks and NAT boxes as datagrams and get each
 * network's fixed latency, but NO jitter and NO loss: the simulated TCP is
 * reliable and in order (retransmission is not modelled).  A SYN that nobody
 * answers (no host, filtered by a NAT, host down) makes connect fail with
 * ETHP2P_ETIMEDOUT after the world's connect timeout (default 20 s); a SYN to a
 * port nobody listens on is answered with RST: ETHP2P_ECONNREFUSED.
 *
 * Handle lifetime rules of env.h hold: no callback runs inside the call that
 * arms it, and after close no callback of that handle runs.  Handle memory is
 * released after the current event finishes, so closing anything (even other
 * handles) inside any callback is safe.
 *
 * Hosts, networks and NAT boxes live until the world is destroyed.
 * Threading: none; a world is used from one thread.
 */
#ifndef ETHP2P_SIM_H
#define ETHP2P_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/attrs.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "ethp2p/natclass.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ethp2p_sim ethp2p_sim;
typedef struct ethp2p_sim_net ethp2p_sim_net;
typedef struct ethp2p_sim_host ethp2p_sim_host;
typedef struct ethp2p_sim_nat ethp2p_sim_nat;

#define ETHP2P_SIM_START ETHP2P_SEC                     /* virtual now right after create */
#define ETHP2P_SIM_WALL_EPOCH_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define ETHP2P_SIM_MAX_IFACES 4
#define ETHP2P_SIM_UDP 17 /* protocol numbers, same values as ethp2p_proto */
#define ETHP2P_SIM_TCP 6

/* ---------------------------------------------------------------------------
 * The world
 * ------------------------------------------------------------------------- */

/*
 * Creates a world seeded with `seed`, with an empty internet network.
 * Returns: 0 or ETHP2P_ENOMEM.
 * Out: *out the world (caller owns it: free with ethp2p_sim_destroy); NULL on error.
 * In:  seed: every random choice of the world derives from it.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_sim_create(ethp2p_sim **out, uint64_t seed);
/* Frees the world and everything in it (hosts, handles, queued events).  No
 * callback runs.  Handles still open become invalid.  NULL is fine.  Not from
 * inside a callback of the world. */
void ethp2p_sim_destroy(ethp2p_sim *sim);
/* The seed the world was created with (print it when a test fails). */
uint64_t ethp2p_sim_seed(const ethp2p_sim *sim);
/* Virtual monotonic time, ns. */
ethp2p_time ethp2p_sim_now(const ethp2p_sim *sim);
/* Virtual wall clock, Unix ms. */
int64_t ethp2p_sim_wall_ms(const ethp2p_sim *sim);
/* Next value of the world's PRNG (the same generator the hosts use). */
uint64_t ethp2p_sim_random_u64(ethp2p_sim *sim);

/* Runs every event due at or before now + duration, then sets now to that
 * time.  Returns the number of events processed.  The run functions are not
 * re-entrant: call them from outside the world's callbacks. */
uint64_t ethp2p_sim_run(ethp2p_sim *sim, ethp2p_time duration);
/* Same with an absolute time (a time in the past runs nothing). */
uint64_t ethp2p_sim_run_until(ethp2p_sim *sim, ethp2p_time t);
/* Runs until the queue is empty (now stays at the last event's time).
 * Returns 0 when idle, or ETHP2P_EBUSY after max_events events with work
 * still queued (a periodic timer never lets a world go idle). */
int ethp2p_sim_run_until_idle(ethp2p_sim *sim, uint64_t max_events);
/* Makes the innermost run call return after the current event (callable from
 * callbacks). */
void ethp2p_sim_stop(ethp2p_sim *sim);
/* Events processed since creation / events queued now. */
uint64_t ethp2p_sim_events(const ethp2p_sim *sim);
size_t ethp2p_sim_pending(const ethp2p_sim *sim);
/* TCP connect timeout for SYNs nobody answers (default 20 s). */
void ethp2p_sim_set_tcp_connect_timeout(ethp2p_sim *sim, ethp2p_time timeout);

/* ---------------------------------------------------------------------------
 * Trace: every event (timer fire, datagram sent / delivered / dropped with a
 * reason, NAT binding created / expired, forward added / removed / expired,
 * NAT reboot / address change / down / up, TCP connect / accept / refuse /
 * timeout / reset / close) is folded into a 64-bit hash (FNV-1a style, a
 * word at a time) over a compact binary record (kind, time, host, addresses,
 * length, reason).  Same seed and same program => same hash.
 * ------------------------------------------------------------------------- */
uint64_t ethp2p_sim_trace_hash(const ethp2p_sim *sim);
/* Optional text trace for debugging: one line per event (no newline), valid
 * only during the call.  NULL removes the sink.  Formatting costs time only
 * while a sink is set; the hash does not depend on it. */
typedef void (*ethp2p_sim_trace_cb)(void *data, ethp2p_time now, const char *line);
void ethp2p_sim_set_trace_sink(ethp2p_sim *sim, ethp2p_sim_trace_cb cb, void *data);

/* Why a datagram or segment was dropped (in the trace and in counters). */
typedef enum ethp2p_sim_drop {
  ETHP2P_SIM_DROP_LOSS = 1,   /* link loss */
  ETHP2P_SIM_DROP_NO_HOST,    /* nobody on the network has that address */
  ETHP2P_SIM_DROP_HOST_DOWN,  /* receiving host (or NAT box) is down */
  ETHP2P_SIM_DROP_NO_SOCKET,  /* no UDP socket on that port */
  ETHP2P_SIM_DROP_FILTERED,   /* NAT filtering refused an inbound packet */
  ETHP2P_SIM_DROP_NO_BINDING, /* NAT: no binding or forward for the port */
  ETHP2P_SIM_DROP_HAIRPIN,    /* NAT: hairpinning is off */
  ETHP2P_SIM_DROP_NO_PORT,    /* NAT: no external port left */
  ETHP2P_SIM_DROP_NOT_ROUTED, /* not for this host and it does not route */
  ETHP2P_SIM_DROP_TTL,        /* forwarding loop */
  ETHP2P_SIM_DROP_COUNT
} ethp2p_sim_drop;

/* Number of drops for a reason since creation (0 for unknown reasons). */
uint64_t ethp2p_sim_drops(const ethp2p_sim *sim, ethp2p_sim_drop reason);
/* Static name of a drop reason ("loss", "filtered", ...). */
const char *ethp2p_sim_drop_name(ethp2p_sim_drop reason);

/* ---------------------------------------------------------------------------
 * Networks and links
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_sim_link {
  ethp2p_time latency; /* one-way, added to every crossing */
  ethp2p_time jitter;  /* plus uniform [0, jitter] (datagrams only) */
  double loss;         /* probability in [0, 1] that a datagram is lost */
} ethp2p_sim_link;

/* The world's internet (WAN).  Default link: 20 ms latency, no jitter, no loss. */
ethp2p_sim_net *ethp2p_sim_internet(ethp2p_sim *sim);
/*
 * Creates an empty network (a LAN segment).  Default link: 1 ms latency, no
 * jitter, no loss.
 * Returns: 0 or ETHP2P_ENOMEM.
 * Out: *out the network (owned by the world, lives until ethp2p_sim_destroy).
 * In:  name: copied (truncated to 31 bytes).
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_sim_net_create(ethp2p_sim *sim, ethp2p_sim_net **out,
                                                    const char *name);
/* Sets the link of a network (applies to datagrams sent from now on).
 * Returns: 0 or ETHP2P_EINVAL (loss outside [0, 1]; the link is unchanged).
 * In: link: copied. */
int ethp2p_sim_net_set_link(ethp2p_sim_net *net, const ethp2p_sim_link *link);
ethp2p_sim_link ethp2p_sim_net_link(const ethp2p_sim_net *net);

/* ---------------------------------------------------------------------------
 * Hosts
 * ------------------------------------------------------------------------- */

/*
 * Creates a host with no interface (only loopback).
 * Returns: 0 or ETHP2P_ENOMEM.
 * Out: *out the host (owned by the world, lives until ethp2p_sim_destroy).
 * In:  name: copied.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_sim_host_create(ethp2p_sim *sim, ethp2p_sim_host **out,
                                                     const char *name);
/*
 * Adds an interface eth0, eth1, ... on `net`.
 * Returns: 0; ETHP2P_EINVAL (bad family or prefix); ETHP2P_ESPACE (already
 *   ETHP2P_SIM_MAX_IFACES interfaces); ETHP2P_EEXIST (address already used on
 *   that network).  On error the host is unchanged.
 * In: addr: the interface address (port ignored); prefix_len: its prefix.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_sim_host_add_iface(ethp2p_sim_host *host, ethp2p_sim_net *net,
                                                        const ethp2p_addr *addr,
                                                        unsigned prefix_len);
/* Sets (gw != NULL) or clears (NULL) the IPv4 default gateway; an IPv6 gw sets
 * the IPv6 default router instead (as ethp2p_sim_host_set_gateway6). */
void ethp2p_sim_host_set_gateway(ethp2p_sim_host *host, const ethp2p_addr *gw);
/*
 * Sets or clears the IPv6 default router: the next hop of ::/0, which the
 * host's env reports through ethp2p_env_default_gateway6 (0 with the address,
 * ETHP2P_ENOTFOUND when none is set).  IPv6 packets to no connected prefix go
 * to it over the up interface whose prefix holds it; the IPv4 gateway is not
 * touched.
 * Args: host: the host.
 * In: gw: an IPv6 address (port ignored; its zone is kept and reported);
 *     NULL or a non-IPv6 address clears the router.
 */
void ethp2p_sim_host_set_gateway6(ethp2p_sim_host *host, const ethp2p_addr *gw);
/* A host that is down drops everything it receives and every send fails
 * silently (the datagram is dropped).  Its timers still fire. */
void ethp2p_sim_host_set_up(ethp2p_sim_host *host, bool up);
/*
 * How many UDP sockets on other hosts would receive a datagram that `host`
 * sends to the multicast `group` now: sockets bound to the group's port (on
 * the wildcard or the group address) that joined the group on an interface of
 * a network `host` is attached to (for 224.0.0.1, every wildcard socket on
 * the port).  What a LAN switch with IGMP snooping knows; a service given
 * only its env can skip announcements nobody would hear.
 * Returns: the count (0 for a NULL host or a non-multicast group).
 * Args: host: the sender.  In: group: the group address and port.
 */
size_t ethp2p_sim_udp_group_listeners(ethp2p_sim_host *host, const ethp2p_addr *group);
/* The host's environment: pass it to protocol code.  Owned by the host. */
ethp2p_env *ethp2p_sim_host_env(ethp2p_sim_host *host);
/* The host's name and the address of its first interface (zeroed if none). */
const char *ethp2p_sim_host_name(const ethp2p_sim_host *host);
ethp2p_addr ethp2p_sim_host_addr(const ethp2p_sim_host *host);
/* The host behind an env made by a simulated world (NULL for other envs, e.g.
 * libuv's), its world, and its NAT box when the host is one (else NULL).  A
 * service given only its env (a gateway emulator) finds its box this way. */
ethp2p_sim_host *ethp2p_sim_host_of(ethp2p_env *env);
ethp2p_sim *ethp2p_sim_host_world(ethp2p_sim_host *host);
ethp2p_sim_nat *ethp2p_sim_host_nat(ethp2p_sim_host *host);

/*
 * Creates an internet host with one address on the internet network (/0, so
 * it reaches every internet address directly).
 * Returns: 0; ETHP2P_ENOMEM; ETHP2P_EINVAL or ETHP2P_EEXIST (addr unusable or
 *   taken).
 * Out: *out the host (owned by the world).
 * In:  name: copied; addr: NULL picks the next address of the world's public
 *   pool (20.0.0.1, 20.0.0.2, ...).
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_sim_host_create_public(ethp2p_sim *sim, ethp2p_sim_host **out,
                                                            const char *name,
                                                            const ethp2p_addr *addr);

/* ---------------------------------------------------------------------------
 * NAT boxes
 * ------------------------------------------------------------------------- */

/* A box's behaviour uses the one NAT vocabulary (ethp2p/natclass.h):
 *   mapping, filtering  ETHP2P_NAT_POLICY_EI / _AD / _APD
 *   allocation          ETHP2P_NAT_ALLOC_PRESERVING: external port = internal
 *                       port if free, else the next free;
 *                       ETHP2P_NAT_ALLOC_CONTIGUOUS: previous allocation + 1
 *                       (skipping ports in use);
 *                       ETHP2P_NAT_ALLOC_RANDOM: uniform in [1024, 65535], not
 *                       in use.
 * The _UNKNOWN values are not a behaviour: ethp2p_sim_nat_create refuses them.
 *
 * Deprecated spellings of the same values, kept so older callers build; new
 * code uses the natclass.h names. */
typedef ethp2p_nat_policy ethp2p_sim_nat_dep;
typedef ethp2p_nat_alloc ethp2p_sim_nat_alloc;
#define ETHP2P_SIM_NAT_EI ETHP2P_NAT_POLICY_EI
#define ETHP2P_SIM_NAT_AD ETHP2P_NAT_POLICY_AD
#define ETHP2P_SIM_NAT_APD ETHP2P_NAT_POLICY_APD
#define ETHP2P_SIM_NAT_PRESERVE ETHP2P_NAT_ALLOC_PRESERVING
#define ETHP2P_SIM_NAT_CONTIGUOUS ETHP2P_NAT_ALLOC_CONTIGUOUS
#define ETHP2P_SIM_NAT_RANDOM ETHP2P_NAT_ALLOC_RANDOM
#define ethp2p_sim_nat_dep_name ethp2p_nat_policy_name
#define ethp2p_sim_nat_alloc_name ethp2p_nat_alloc_name

typedef struct ethp2p_sim_nat_config {
  ethp2p_nat_policy mapping;   /* not _UNKNOWN */
  ethp2p_nat_policy filtering; /* not _UNKNOWN */
  ethp2p_nat_alloc allocation; /* not _UNKNOWN */
  ethp2p_time udp_timeout;     /* 0 = 120 s (RFC 4787 REQ-5) */
  ethp2p_time tcp_timeout;     /* 0 = 2 h 4 min (RFC 5382 REQ-5) */
  bool hairpin;
  /* Outside: network (NULL = the internet), address (family 0 = next from
   * the public pool), prefix (outside == internet: ignored, /0), gateway
   * (family 0 = none; needed when outside is another box's LAN). */
  ethp2p_sim_net *outside;
  ethp2p_addr outside_addr;
  unsigned outside_prefix;
  ethp2p_addr outside_gateway;
  /* Inside: the box's LAN address (family 0 = 192.168.1.1) and prefix (0 = 24). */
  ethp2p_addr inside_addr;
  unsigned inside_prefix;
} ethp2p_sim_nat_config;

/* The common home router: EI mapping, APD filtering, port-preserving,
 * hairpinning on, default timeouts, internet outside, 192.168.1.1/24 inside. */
ethp2p_sim_nat_config ethp2p_sim_nat_config_default(void);

/*
 * Creates a NAT box: a host named `name` with eth0 = outside, eth1 = inside,
 * and a new LAN network "<name>-lan" behind it.
 * Returns: 0; ETHP2P_ENOMEM; ETHP2P_EINVAL (an unknown or out-of-range class,
 *   a bad address); ETHP2P_EEXIST (an address already taken).
 * Out: *out the box (owned by the world); NULL on error.
 * In:  name: copied; cfg: copied, NULL = ethp2p_sim_nat_config_default().
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_sim_nat_create(ethp2p_sim *sim, ethp2p_sim_nat **out,
                                                    const char *name,
                                                    const ethp2p_sim_nat_config *cfg);
/*
 * Adds a host on the box's LAN with the box's inside address as default
 * gateway.
 * Returns: 0, ETHP2P_ENOMEM, ETHP2P_EINVAL, ETHP2P_EEXIST.
 * Out: *out the host (owned by the world).
 * In:  name: copied; addr: NULL picks the next free address after the box's
 *   (192.168.1.2, .3, ...).
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_sim_nat_add_host(ethp2p_sim_nat *nat, ethp2p_sim_host **out,
                                                      const char *name, const ethp2p_addr *addr);
ethp2p_sim_host *ethp2p_sim_nat_host(ethp2p_sim_nat *nat);
ethp2p_sim_net *ethp2p_sim_nat_lan(ethp2p_sim_nat *nat);
ethp2p_addr ethp2p_sim_nat_external_addr(const ethp2p_sim_nat *nat); /* port 0 */
ethp2p_addr ethp2p_sim_nat_inside_addr(const ethp2p_sim_nat *nat);   /* port 0 */
const ethp2p_sim_nat_config *ethp2p_sim_nat_config_get(const ethp2p_sim_nat *nat);
/* Changes hairpinning or timeouts at run time (applies from now on). */
void ethp2p_sim_nat_set_hairpin(ethp2p_sim_nat *nat, bool on);
void ethp2p_sim_nat_set_timeouts(ethp2p_sim_nat *nat, ethp2p_time udp, ethp2p_time tcp);
/* Live dynamic bindings (expired ones are not counted). */
size_t ethp2p_sim_nat_binding_count(ethp2p_sim_nat *nat);

/* Operations.  Each is traced and reported to the event hooks below.
 *   reboot:      every dynamic binding and every forward is lost, the reboot
 *                counter rises, contiguous allocation restarts elsewhere.
 *   set_external_addr: the outside interface gets `addr`; dynamic bindings
 *                are lost (their translations used the old address), forwards
 *                are kept.  Returns 0, ETHP2P_EINVAL, ETHP2P_EEXIST.
 *   down:        the box drops every packet it receives (inside or outside)
 *                and sends nothing; state is kept (bindings still age).
 *   up:          it comes back. */
void ethp2p_sim_nat_reboot(ethp2p_sim_nat *nat);
int ethp2p_sim_nat_set_external_addr(ethp2p_sim_nat *nat, const ethp2p_addr *addr);
void ethp2p_sim_nat_down(ethp2p_sim_nat *nat);
void ethp2p_sim_nat_up(ethp2p_sim_nat *nat);
bool ethp2p_sim_nat_is_up(const ethp2p_sim_nat *nat);
uint32_t ethp2p_sim_nat_reboots(const ethp2p_sim_nat *nat);

typedef enum ethp2p_sim_nat_event {
  ETHP2P_SIM_NAT_REBOOTED = 1,
  ETHP2P_SIM_NAT_EXTADDR_CHANGED,
  ETHP2P_SIM_NAT_WENT_DOWN,
  ETHP2P_SIM_NAT_CAME_UP,
} ethp2p_sim_nat_event;
/* Hook run synchronously inside the operation (after the state changed) so
 * services on the box can react: a gateway emulator restarts its epoch and
 * forgets its leases on REBOOTED, announces on EXTADDR_CHANGED. */
typedef void (*ethp2p_sim_nat_hook)(ethp2p_sim_nat *nat, ethp2p_sim_nat_event ev, void *data);
/*
 * Registers a hook.  Hooks run in registration order; a hook may add or remove
 * hooks while it runs (one removed is skipped, one added runs from the next
 * event on; core/observers.h).  The same (cb, data) twice runs twice.
 * Returns: 0; ETHP2P_EINVAL (NULL cb); ETHP2P_ENOMEM.
 * Args: cb, data: kept until removed or the world is destroyed.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_sim_nat_hook_add(ethp2p_sim_nat *nat, ethp2p_sim_nat_hook cb,
                                                      void *data);
/* Removes the first hook with the same cb and data.
 * Returns: 0 or ETHP2P_ENOTFOUND. */
int ethp2p_sim_nat_hook_remove(ethp2p_sim_nat *nat, ethp2p_sim_nat_hook cb, void *data);

/* ---------------------------------------------------------------------------
 * Port forwards (the data plane of UPnP / NAT-PMP / PCP mappings).
 *
 * A forward sends packets of `proto` arriving at the box's external address
 * on `external_port` to `internal` (address and port), whatever the filtering
 * policy, and translates the internal endpoint's outbound packets to that
 * external port (so peers see the mapped port).  Forwards take precedence over
 * dynamic bindings on the same port; dynamic allocation avoids forwarded ports.
 * A forward has a lease: it disappears at `expires` (absolute virtual time;
 * 0 = permanent), on remove, on reboot.  Expiry is traced at its exact time.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_sim_forward {
  uint8_t proto;          /* ETHP2P_SIM_UDP or ETHP2P_SIM_TCP */
  uint16_t external_port; /* 1..65535 */
  ethp2p_addr internal;   /* address and port (port 1..65535) */
  ethp2p_time expires;    /* 0 = never */
} ethp2p_sim_forward;

/*
 * Adds or replaces the forward for (proto, external_port).
 * Returns: 0; ETHP2P_EINVAL (bad proto, port 0, internal port 0, expiry not
 *   in the future; nothing changes); ETHP2P_ENOMEM.
 * In: fwd: copied.
 */
int ethp2p_sim_nat_forward_add(ethp2p_sim_nat *nat, const ethp2p_sim_forward *fwd);
/* Removes it.  Returns 0 or ETHP2P_ENOTFOUND. */
int ethp2p_sim_nat_forward_remove(ethp2p_sim_nat *nat, uint8_t proto, uint16_t external_port);
/* Copies the live forward for (proto, external_port).
 * Returns: 0 or ETHP2P_ENOTFOUND.  Out: *out (zeroed when not found). */
int ethp2p_sim_nat_forward_lookup(ethp2p_sim_nat *nat, uint8_t proto, uint16_t external_port,
                                  ethp2p_sim_forward *out);
/* Copies up to cap live forwards (sorted by proto, then port) into out and
 * returns how many exist (may exceed cap). */
size_t ethp2p_sim_nat_forward_list(ethp2p_sim_nat *nat, ethp2p_sim_forward *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
