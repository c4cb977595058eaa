/*
 * nat/doctor_verdict.c — the doctor's decision (ethp2p/doctor.h): which
 * external address, and can peers reach the node.  Pure functions of a
 * report: no I/O, no time, no text (the words are in nat/doctor_render.c).
 *
 * The rules, tried in order (docs/doctor.md has the long form):
 *   1. --nat extip:IP declared the address: unknown (nothing inside can test
 *      inbound connections).
 *   2. A protocol mapped both tcp/N and udp/N: yes, unless the external
 *      address it gave is private, carrier-grade NAT space, or not what STUN
 *      sees: then no (double NAT).
 *   3. This host has a globally routable address and STUN saw no NAT (or no
 *      STUN): yes, or no when STUN shows filtering (a firewall).
 *   4. A protocol answered but refused the test mapping: no.
 *   5. STUN shows a NAT: no.
 *   6. Otherwise: unknown.
 */
#include <string.h>

#include "ethp2p/doctor.h"

/* Globally routable IPv4: not private, CGNAT, loopback, link-local, multicast, 0/8,
 * 240/4, nor the documentation and benchmark ranges (RFC 5737, RFC 2544), which labs
 * use for "public" addresses but which the internet never routes. */
static bool addr_public(const ethp2p_addr *a) {
  const uint8_t *ip = a->ip;
  if (a->family != 4 || ethp2p_addr_is_private(a) || ethp2p_addr_is_cgnat(a) ||
      ethp2p_addr_is_loopback(a) || ethp2p_addr_is_unspecified(a) || ethp2p_addr_is_multicast(a))
    return false;
  if (ip[0] == 0 || ip[0] >= 240 || (ip[0] == 169 && ip[1] == 254))
    return false;
  if ((ip[0] == 192 && ip[1] == 0 && ip[2] == 2) || (ip[0] == 198 && ip[1] == 51 && ip[2] == 100) ||
      (ip[0] == 203 && ip[1] == 0 && ip[2] == 113) || (ip[0] == 198 && (ip[1] & 0xfe) == 18))
    return false;
  return true;
}

static const ethp2p_addr *public_iface(const ethp2p_doctor_report *r) {
  for (size_t i = 0; i < r->n_ifaces; i++)
    if (r->ifaces[i].up && !r->ifaces[i].loopback && addr_public(&r->ifaces[i].addr))
      return &r->ifaces[i].addr;
  return NULL;
}

void ethp2p_doctor_find_extaddr(const ethp2p_doctor_report *r, ethp2p_doctor_extaddr *out) {
  ethp2p_doctor_extaddr e;
  memset(&e, 0, sizeof e);
  if (r->config.spec.kind == ETHP2P_NAT_EXTIP) {
    e.addr = r->config.spec.addr;
    e.source = "extip";
  }
  for (int i = 0; i < ETHP2P_DOCTOR_NGW && e.addr.family == 0; i++) {
    const ethp2p_doctor_gateway *p = &r->gateways[i];
    if (p->probed && p->extip_status == 0 && p->extip.family != 0) {
      e.addr = p->extip;
      e.source = p->key;
    }
  }
  if (r->profile.reflexive.family != 0) {
    e.stun = r->profile.reflexive;
    e.stun.port = 0;
  }
  if (e.addr.family == 0 && e.stun.family != 0) {
    e.addr = e.stun;
    e.source = "stun";
  }
  if (e.addr.family != 0) {
    e.addr.port = 0;
    e.private_ = ethp2p_addr_is_private(&e.addr);
    e.cgnat = ethp2p_addr_is_cgnat(&e.addr);
    e.double_nat = e.private_ || e.cgnat;
    if (e.stun.family != 0 && strcmp(e.source, "stun") != 0 &&
        !ethp2p_addr_equal(&e.addr, &e.stun, false)) {
      e.disagrees = true;
      e.double_nat = true;
    }
  }
  *out = e;
}

void ethp2p_doctor_decide(const ethp2p_doctor_report *r, ethp2p_doctor_verdict *out) {
  ethp2p_doctor_verdict v;
  const ethp2p_nat_profile *pr = &r->profile;
  bool stun_known = pr->reflexive.family != 0;
  int mapped = -1, refused = -1;

  memset(&v, 0, sizeof v);
  v.gateway = -1;
  ethp2p_doctor_find_extaddr(r, &v.ext);
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    const ethp2p_doctor_gateway *p = &r->gateways[i];
    const ethp2p_doctor_map *tcp = &p->map[ETHP2P_DOCTOR_TCP], *udp = &p->map[ETHP2P_DOCTOR_UDP];
    if (!p->probed || p->extip_status != 0)
      continue;
    if (mapped < 0 && tcp->add_status == 0 && udp->add_status == 0 && tcp->tried && udp->tried)
      mapped = i;
    else if (refused < 0 && (tcp->tried || udp->tried))
      refused = i;
  }
  v.public_iface = public_iface(r);

  if (r->config.spec.kind == ETHP2P_NAT_EXTIP) {
    v.answer = ETHP2P_DOCTOR_UNKNOWN;
    v.why = ETHP2P_DOCTOR_CASE_DECLARED;
  } else if (mapped >= 0) {
    bool upstream = v.ext.private_ || v.ext.cgnat || v.ext.disagrees;
    v.answer = upstream ? ETHP2P_DOCTOR_NO : ETHP2P_DOCTOR_YES;
    v.why = upstream ? ETHP2P_DOCTOR_CASE_MAPPED_DOUBLE_NAT : ETHP2P_DOCTOR_CASE_MAPPED;
    v.gateway = mapped;
  } else if (v.public_iface != NULL && (!stun_known || pr->behind_nat == ETHP2P_NAT_TRI_NO)) {
    v.filtered = stun_known && pr->filtering != ETHP2P_NAT_POLICY_EI &&
                 pr->filtering != ETHP2P_NAT_POLICY_UNKNOWN;
    v.answer = v.filtered ? ETHP2P_DOCTOR_NO : ETHP2P_DOCTOR_YES;
    v.why = ETHP2P_DOCTOR_CASE_PUBLIC_HOST;
  } else if (refused >= 0) {
    v.answer = ETHP2P_DOCTOR_NO;
    v.why = ETHP2P_DOCTOR_CASE_REFUSED;
    v.gateway = refused;
  } else if (stun_known && pr->behind_nat == ETHP2P_NAT_TRI_YES) {
    v.answer = ETHP2P_DOCTOR_NO;
    v.why = ETHP2P_DOCTOR_CASE_STUN_NAT;
  } else {
    v.answer = ETHP2P_DOCTOR_UNKNOWN;
    v.why = ETHP2P_DOCTOR_CASE_NOTHING;
  }
  if (v.why != ETHP2P_DOCTOR_CASE_PUBLIC_HOST)
    v.public_iface = NULL;
  *out = v;
}

const char *ethp2p_doctor_answer_name(ethp2p_doctor_answer a) {
  switch (a) {
  case ETHP2P_DOCTOR_YES:
    return "yes";
  case ETHP2P_DOCTOR_NO:
    return "no";
  default:
    return "unknown";
  }
}
