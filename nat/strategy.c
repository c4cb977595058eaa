/*
 * nat/strategy.c — derived profile facts and the pairwise connection
 * strategy (the class names are in core/natclass.c).  Pure functions: no I/O, no time.
 *
 * The strategy model (docs/doctor.md has the long form).  For one side X:
 *   open(X)      mapping EI and filtering EI: anyone who knows X's reflexive
 *                address reaches X, and X's replies come from that address.
 *   known(X)     the peer can address X's external port for their flow:
 *                mapping EI (the reflexive port), or a predictable allocation
 *                (port-preserving, port-contiguous: port prediction).
 *   admits(R,I)  R's NAT lets I's packet in once R has sent toward I's
 *                (predicted) endpoint: R's filtering is not APD, or R
 *                predicted I's port, i.e. known(I).
 *   reach(I->R)  known(R) and admits(R, I).
 *   reply(R->I)  R's answer to the endpoint it saw passes I's NAT: R's
 *                mapping is not APD (the answer leaves from the port I
 *                addressed), or R had predicted I correctly (known(I)), or
 *                I's filtering is not APD (a new port from R's IP is fine).
 * direct      if open(A) or open(B);
 * hole-punch  else if reach(A->B) and reply(B->A), or the same from B;
 * relay       otherwise.
 * Unknown classes count as the worst (APD, random); no NAT counts as EI
 * mapping with port preservation.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ethp2p/natbehavior.h"

const char *ethp2p_nat_strategy_name(ethp2p_nat_strategy s) {
  switch (s) {
  case ETHP2P_NAT_STRATEGY_DIRECT:
    return "direct";
  case ETHP2P_NAT_STRATEGY_HOLE_PUNCH:
    return "hole-punch";
  case ETHP2P_NAT_STRATEGY_RELAY:
    return "relay";
  default:
    return "unknown";
  }
}

/* The classes the model works with: unknown -> worst, no NAT -> EI/PP. */
typedef struct side {
  ethp2p_nat_policy m, f;
  ethp2p_nat_alloc a;
} side;

static side side_of(const ethp2p_nat_profile *p) {
  side s;
  s.m = p->mapping == ETHP2P_NAT_POLICY_UNKNOWN ? ETHP2P_NAT_POLICY_APD : p->mapping;
  s.f = p->filtering == ETHP2P_NAT_POLICY_UNKNOWN ? ETHP2P_NAT_POLICY_APD : p->filtering;
  s.a = p->allocation == ETHP2P_NAT_ALLOC_UNKNOWN ? ETHP2P_NAT_ALLOC_RANDOM : p->allocation;
  if (p->behind_nat == ETHP2P_NAT_TRI_NO) {
    s.m = ETHP2P_NAT_POLICY_EI;
    s.a = ETHP2P_NAT_ALLOC_PRESERVING;
  }
  return s;
}

static bool side_open(side x) {
  return x.m == ETHP2P_NAT_POLICY_EI && x.f == ETHP2P_NAT_POLICY_EI;
}

static bool side_known(side x) {
  return x.m == ETHP2P_NAT_POLICY_EI || x.a != ETHP2P_NAT_ALLOC_RANDOM;
}

static bool side_admits(side r, side i) {
  return r.f != ETHP2P_NAT_POLICY_APD || side_known(i);
}

static bool side_reach(side i, side r) {
  return side_known(r) && side_admits(r, i);
}

static bool side_reply(side r, side i) {
  return r.m != ETHP2P_NAT_POLICY_APD || side_known(i) || i.f != ETHP2P_NAT_POLICY_APD;
}

static bool side_works(side i, side r) {
  return side_reach(i, r) && side_reply(r, i);
}

void ethp2p_nat_profile_derive(ethp2p_nat_profile *p) {
  side s = side_of(p);
  p->can_receive_unsolicited = side_open(s);
  p->requires_relay = !side_known(s);
}

bool ethp2p_nat_profile_fresh(const ethp2p_nat_profile *p, ethp2p_time now) {
  uint32_t ttl = p->valid_for_s != 0 ? p->valid_for_s : ETHP2P_NAT_PROFILE_TTL_S;
  if (p->measured_at == 0 || now < p->measured_at)
    return false;
  return now - p->measured_at < (ethp2p_time)ttl * ETHP2P_SEC;
}

static void say(char *reason, size_t size, const char *fmt, const char *x, const char *y) {
  if (reason != NULL && size > 0)
    snprintf(reason, size, fmt, x, y);
}

ethp2p_nat_strategy ethp2p_nat_strategy_pair(const ethp2p_nat_profile *a,
                                             const ethp2p_nat_profile *b, char *reason,
                                             size_t reason_size) {
  side sa = side_of(a), sb = side_of(b);
  if (side_open(sb) || side_open(sa)) {
    const char *who = side_open(sb) ? "B" : "A", *other = side_open(sb) ? "A" : "B";
    say(reason, reason_size,
        "%s accepts unsolicited packets (endpoint-independent mapping and filtering): %s "
        "connects to its reflexive address",
        who, other);
    return ETHP2P_NAT_STRATEGY_DIRECT;
  }
  if (side_works(sa, sb) || side_works(sb, sa)) {
    bool ab = side_works(sa, sb);
    if (reason != NULL && reason_size > 0)
      snprintf(reason, reason_size,
               "simultaneous open: %s can address %s's external port and both NATs admit the "
               "exchange after each side has sent",
               ab ? "A" : "B", ab ? "B" : "A");
    return ETHP2P_NAT_STRATEGY_HOLE_PUNCH;
  }
  if (!side_known(sa) && !side_known(sb))
    say(reason, reason_size, "neither %s's nor %s's external port can be predicted", "A", "B");
  else if (!side_known(sa))
    say(reason, reason_size,
        "%s's external port cannot be predicted and %s filters by address and port", "A", "B");
  else if (!side_known(sb))
    say(reason, reason_size,
        "%s's external port cannot be predicted and %s filters by address and port", "B", "A");
  else
    say(reason, reason_size, "replies between %s and %s come from unpredicted ports", "A", "B");
  return ETHP2P_NAT_STRATEGY_RELAY;
}
