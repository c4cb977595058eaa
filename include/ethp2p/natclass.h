/*
 * ethp2p/natclass.h — the vocabulary of NAT behaviour (RFC 4787, RFC 5780,
 * NATCracker): mapping and filtering policy, port allocation, and a yes/no
 * that may be unknown.  One set for everything that speaks of NAT
 * behaviour: the discovery that measures it (ethp2p/natbehavior.h), the
 * pairwise strategy, the doctor (ethp2p/doctor.h), and the simulator's NAT
 * boxes that implement it (ethp2p/sim.h).  The names and parsers live in
 * core/natclass.c, below both the simulator and nat/.
 *
 * Zero is "unknown" in each enum: a zeroed profile knows nothing.  A NAT box
 * of the simulator must be given a known class (ETHP2P_EINVAL otherwise).
 */
#ifndef ETHP2P_NATCLASS_H
#define ETHP2P_NATCLASS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Mapping or filtering policy (RFC 4787 §4.1, §5; RFC 5780 §4.3, §4.4). */
typedef enum ethp2p_nat_policy {
  ETHP2P_NAT_POLICY_UNKNOWN = 0,
  ETHP2P_NAT_POLICY_EI,  /* endpoint-independent */
  ETHP2P_NAT_POLICY_AD,  /* address-dependent (NATCracker: host-dependent) */
  ETHP2P_NAT_POLICY_APD, /* address-and-port-dependent (NATCracker: port-dependent) */
} ethp2p_nat_policy;

/* Port allocation (NATCracker; RFC 4787 §4.2.1 "port preservation"). */
typedef enum ethp2p_nat_alloc {
  ETHP2P_NAT_ALLOC_UNKNOWN = 0,
  ETHP2P_NAT_ALLOC_PRESERVING, /* external port = internal port */
  ETHP2P_NAT_ALLOC_CONTIGUOUS, /* each new binding = previous + port_delta */
  ETHP2P_NAT_ALLOC_RANDOM,
} ethp2p_nat_alloc;

/* A yes/no answer that may not be known. */
typedef enum ethp2p_nat_tri {
  ETHP2P_NAT_TRI_UNKNOWN = 0,
  ETHP2P_NAT_TRI_YES,
  ETHP2P_NAT_TRI_NO,
} ethp2p_nat_tri;

/* Static names: "endpoint-independent", "address-dependent",
 * "address-and-port-dependent", "unknown". */
const char *ethp2p_nat_policy_name(ethp2p_nat_policy p);
/* "port-preserving", "port-contiguous", "random", "unknown". */
const char *ethp2p_nat_alloc_name(ethp2p_nat_alloc a);
/* "yes", "no", "unknown". */
const char *ethp2p_nat_tri_name(ethp2p_nat_tri t);
/* Parses the names above; also the NATCracker abbreviations EI/HD/PD/AD/APD
 * and PP/PC/RD and "host-dependent"/"port-dependent" (case-insensitive).
 * Returns 0 or ETHP2P_ESYNTAX (*out untouched). */
int ethp2p_nat_policy_parse(const char *text, ethp2p_nat_policy *out);
int ethp2p_nat_alloc_parse(const char *text, ethp2p_nat_alloc *out);

#ifdef __cplusplus
}
#endif
#endif
