/*
 * ethp2p/natbehavior.h — what kind of NAT are we behind, and can two peers
 * reach each other?
 *
 * Three parts:
 *   1. A NAT behaviour profile (ethp2p_nat_profile): the NATCracker triple
 *      (mapping, allocation, filtering), hairpinning, the reflexive address,
 *      the port delta of contiguous allocation, when it was measured and how
 *      long it stays valid, and two derived answers (can_receive_unsolicited,
 *      requires_relay).
 *   2. Discovery (ethp2p_natb, nat/behavior.c): RFC 5780 behaviour discovery
 *      against a STUN server with two addresses, asynchronous on an
 *      environment (ethp2p/env.h), every request retransmitted and the whole
 *      run bounded in time; the result is cached and can be refreshed, and
 *      observations from other sources (peers telling us the address they
 *      see) can be added to the same profile.
 *   3. Pairwise strategy (nat/strategy.c): a pure function of two profiles ->
 *      direct, hole punch or relay, with a one-line reason.  The rules are
 *      written out in docs/doctor.md.
 *
 * The classes themselves (ethp2p_nat_policy, ethp2p_nat_alloc, ethp2p_nat_tri)
 * are in ethp2p/natclass.h, shared with the simulator's NAT boxes (ethp2p/sim.h).
 *
 * Naming rule: a function is named after the type it acts on or returns —
 * ethp2p_natb_* for the discovery object ethp2p_natb, ethp2p_nat_profile_*
 * for ethp2p_nat_profile, ethp2p_nat_strategy_* for ethp2p_nat_strategy, and
 * ethp2p_nat_{policy,alloc,tri}_* for the classes (natclass.h).
 *
 * Names.  RFC 4787/5780 call the middle class "address-dependent";
 * NATCracker calls it "host-dependent" (HD) and the last one "port-dependent"
 * (PD).  We use the RFC names: EI = endpoint-independent, AD =
 * address-dependent (NATCracker HD), APD = address-and-port-dependent
 * (NATCracker PD).  Allocation: port-preserving (PP), port-contiguous (PC),
 * random (RD).
 */
#ifndef ETHP2P_NATBEHAVIOR_H
#define ETHP2P_NATBEHAVIOR_H

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

#define ETHP2P_NAT_PROFILE_TTL_S 300 /* default valid_for (macula detector) */

/* A NAT behaviour profile.  A zeroed struct is "nothing known". */
typedef struct ethp2p_nat_profile {
  ethp2p_nat_policy mapping;
  ethp2p_nat_policy filtering;
  ethp2p_nat_alloc allocation;
  int32_t port_delta; /* contiguous: the step between new bindings; else 0 */
  ethp2p_nat_tri hairpinning;
  ethp2p_nat_tri behind_nat; /* NO: the reflexive address is one of ours */
  ethp2p_addr local;         /* the local endpoint the primary probe used */
  ethp2p_addr reflexive;     /* our address and port as the server saw it (family 0: none) */
  ethp2p_addr server;        /* the STUN server that answered (family 0: none) */
  ethp2p_addr server_other;  /* its OTHER-ADDRESS (family 0: it has none) */
  ethp2p_time measured_at;   /* env monotonic time of the measurement (0: never) */
  int64_t measured_at_ms;    /* env wall clock, Unix ms */
  uint32_t valid_for_s;      /* how long the profile stays valid (default 300) */
  /* Derived (ethp2p_nat_profile_derive): */
  bool can_receive_unsolicited; /* mapping EI and filtering EI (or no NAT and filtering EI) */
  bool requires_relay;          /* non-EI mapping with random allocation: nobody can
                                   predict our port, so only a peer that accepts
                                   unsolicited packets reaches us without a relay */
  /* Observations added with ethp2p_natb_observe(). */
  unsigned observations;
  bool observed_ip_mismatch; /* a peer saw another IP than `reflexive` */
  char note[160];            /* why something is unknown, "" if nothing to say */
} ethp2p_nat_profile;

/* Recomputes can_receive_unsolicited and requires_relay from the triple. */
void ethp2p_nat_profile_derive(ethp2p_nat_profile *p);
/* True when the profile was measured and now < measured_at + valid_for_s. */
bool ethp2p_nat_profile_fresh(const ethp2p_nat_profile *p, ethp2p_time now);

/* ---------------------------------------------------------------------------
 * Discovery
 * ------------------------------------------------------------------------- */

#define ETHP2P_NATB_MAX_SERVERS 4
#define ETHP2P_NATB_MAX_ALLOC_PROBES 8

typedef struct ethp2p_natb_config {
  /* STUN servers (IP literal and port).  The first that answers is used; it
   * should support RFC 5780 (OTHER-ADDRESS).  If it does not, a second server
   * on another IP still decides whether mapping is endpoint-independent. */
  ethp2p_addr servers[ETHP2P_NATB_MAX_SERVERS];
  size_t n_servers;
  ethp2p_addr bind;       /* local address for the probes; family 0 = the wildcard of
                             servers[0]'s family; the port is used for the primary
                             socket (0 = any); fresh sockets use the same IP, port 0 */
  ethp2p_time rto;        /* first retransmission timeout (0 = 200 ms); doubles */
  unsigned max_tries;     /* requests per transaction (0 = 5) */
  ethp2p_time time_limit; /* bound on the whole run (0 = 10 s) */
  unsigned alloc_probes;  /* fresh sockets for the allocation test (0 = 4, max 8;
                             at least 3 to see a delta) */
  bool skip_hairpin;      /* don't test hairpinning */
  uint32_t valid_for_s;   /* 0 = ETHP2P_NAT_PROFILE_TTL_S */
} ethp2p_natb_config;

/* Defaults for everything (no servers). */
void ethp2p_natb_config_default(ethp2p_natb_config *cfg);

typedef struct ethp2p_natb ethp2p_natb;

/* Discovery finished: status 0 when a server answered (the profile may still
 * have unknown parts), ETHP2P_ETIMEDOUT when no server answered (everything
 * unknown), ETHP2P_ECANCELED never (a stopped run calls nothing).  profile is
 * the cached profile, valid until the next start or destroy. */
typedef void (*ethp2p_natb_done_cb)(ethp2p_natb *nb, int status, const ethp2p_nat_profile *profile,
                                    void *data);

/*
 * Creates a discovery object on env (no I/O yet).
 * Returns: 0; ETHP2P_EINVAL (NULL, no server, a server with family 0 or port
 *   0); ETHP2P_ENOMEM.
 * Args: env: must outlive the object.
 * In:   cfg: copied.
 * Out:  *out the object (caller owns it: free with ethp2p_natb_destroy);
 *       NULL on error.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_natb_create(ethp2p_env *env, const ethp2p_natb_config *cfg,
                                                 ethp2p_natb **out);

/*
 * Starts (or restarts: a run in progress is abandoned) a measurement.
 * Observations made so far are kept and re-applied to the new result.
 * Returns: 0, or a bind error from the environment (cb is not called then).
 * Args: nb: the object; cb, data: run exactly once, later (never inside this
 *   call), unless the object is stopped or destroyed first.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_natb_start(ethp2p_natb *nb, ethp2p_natb_done_cb cb,
                                                void *data);

/* Abandons a run in progress (no callback).  The cached profile stays. */
void ethp2p_natb_stop(ethp2p_natb *nb);

/* True while a run is in progress. */
bool ethp2p_natb_running(const ethp2p_natb *nb);

/* The cached profile (zeroed before the first result).
 * Returns: borrowed; valid until the next start, refresh or destroy. */
const ethp2p_nat_profile *ethp2p_natb_profile(const ethp2p_natb *nb);

/*
 * Starts a refresh if the cached profile is missing or stale at `now` and no
 * run is in progress.
 * Returns: 1 if a run was started (cb runs later, as for ethp2p_natb_start);
 *   0 if the cache is fresh or a run is already going (cb is not called); or
 *   a bind error.
 * In: now: the environment's monotonic time.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_natb_refresh(ethp2p_natb *nb, ethp2p_time now,
                                                  ethp2p_natb_done_cb cb, void *data);

/*
 * Adds an observation from another source: `observer` (a peer, another STUN
 * server) says that packets from our local port `local_port` arrive from
 * `seen` (IP and port).  Rules (kept per local port, the last 32 observations):
 *   - two observers on different IPs seeing different ports for one local
 *     port: mapping is not endpoint-independent (at least address-dependent);
 *   - two observers on the same IP but different ports seeing different
 *     ports: address-and-port-dependent;
 *   - an IP different from the profile's reflexive IP sets
 *     observed_ip_mismatch.
 * Observations only ever make the mapping class stricter than what STUN
 * measured; they never relax it.  Returns 0 or ETHP2P_EINVAL.
 */
int ethp2p_natb_observe(ethp2p_natb *nb, uint16_t local_port, const ethp2p_addr *observer,
                        const ethp2p_addr *seen);

/* Stops and frees (NULL is fine).  No callback runs afterwards. */
void ethp2p_natb_destroy(ethp2p_natb *nb);

/* ---------------------------------------------------------------------------
 * Pairwise strategy (pure; nat/strategy.c, rules in docs/doctor.md)
 * ------------------------------------------------------------------------- */

typedef enum ethp2p_nat_strategy {
  ETHP2P_NAT_STRATEGY_DIRECT = 1, /* one side just connects to the other */
  ETHP2P_NAT_STRATEGY_HOLE_PUNCH, /* both send at once to (predicted) endpoints */
  ETHP2P_NAT_STRATEGY_RELAY,      /* neither works: go through a third party */
} ethp2p_nat_strategy;

/* "direct", "hole-punch", "relay". */
const char *ethp2p_nat_strategy_name(ethp2p_nat_strategy s);

/*
 * Decides how peers a and b can connect.  Unknown parts of a profile count as
 * the worst case (address-and-port-dependent, random).  A profile with
 * behind_nat NO counts as endpoint-independent mapping with port-preserving
 * allocation (a host firewall still filters as measured).  reason (may be
 * NULL) gets one sentence naming the side that decides.
 */
ethp2p_nat_strategy ethp2p_nat_strategy_pair(const ethp2p_nat_profile *a,
                                             const ethp2p_nat_profile *b, char *reason,
                                             size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
