/*
 * core/natclass.c — names and parsers of the NAT behaviour classes
 * (ethp2p/natclass.h).  Pure functions.
 */
#include <stddef.h>
#include <strings.h>

#include "ethp2p/error.h"
#include "ethp2p/natclass.h"

const char *ethp2p_nat_policy_name(ethp2p_nat_policy p) {
  switch (p) {
  case ETHP2P_NAT_POLICY_EI:
    return "endpoint-independent";
  case ETHP2P_NAT_POLICY_AD:
    return "address-dependent";
  case ETHP2P_NAT_POLICY_APD:
    return "address-and-port-dependent";
  default:
    return "unknown";
  }
}

const char *ethp2p_nat_alloc_name(ethp2p_nat_alloc a) {
  switch (a) {
  case ETHP2P_NAT_ALLOC_PRESERVING:
    return "port-preserving";
  case ETHP2P_NAT_ALLOC_CONTIGUOUS:
    return "port-contiguous";
  case ETHP2P_NAT_ALLOC_RANDOM:
    return "random";
  default:
    return "unknown";
  }
}

const char *ethp2p_nat_tri_name(ethp2p_nat_tri t) {
  switch (t) {
  case ETHP2P_NAT_TRI_YES:
    return "yes";
  case ETHP2P_NAT_TRI_NO:
    return "no";
  default:
    return "unknown";
  }
}

/* One spelling of a class and its value. */
typedef struct spelling {
  const char *name;
  int value;
} spelling;

/* Looks text up in tab (case-insensitive).  Returns 0 with *out set, or ETHP2P_ESYNTAX. */
static int lookup(const spelling *tab, size_t n, const char *text, int *out) {
  if (text == NULL)
    return ETHP2P_ESYNTAX;
  for (size_t i = 0; i < n; i++) {
    if (strcasecmp(text, tab[i].name) == 0) {
      *out = tab[i].value;
      return 0;
    }
  }
  return ETHP2P_ESYNTAX;
}

int ethp2p_nat_policy_parse(const char *text, ethp2p_nat_policy *out) {
  static const spelling names[] = {
      {"endpoint-independent", ETHP2P_NAT_POLICY_EI},
      {"ei", ETHP2P_NAT_POLICY_EI},
      {"address-dependent", ETHP2P_NAT_POLICY_AD},
      {"host-dependent", ETHP2P_NAT_POLICY_AD},
      {"ad", ETHP2P_NAT_POLICY_AD},
      {"hd", ETHP2P_NAT_POLICY_AD},
      {"address-and-port-dependent", ETHP2P_NAT_POLICY_APD},
      {"port-dependent", ETHP2P_NAT_POLICY_APD},
      {"apd", ETHP2P_NAT_POLICY_APD},
      {"pd", ETHP2P_NAT_POLICY_APD},
      {"unknown", ETHP2P_NAT_POLICY_UNKNOWN},
  };
  int v;
  if (out == NULL || lookup(names, sizeof names / sizeof names[0], text, &v) != 0)
    return ETHP2P_ESYNTAX;
  *out = (ethp2p_nat_policy)v;
  return 0;
}

int ethp2p_nat_alloc_parse(const char *text, ethp2p_nat_alloc *out) {
  static const spelling names[] = {
      {"port-preserving", ETHP2P_NAT_ALLOC_PRESERVING},
      {"pp", ETHP2P_NAT_ALLOC_PRESERVING},
      {"port-contiguous", ETHP2P_NAT_ALLOC_CONTIGUOUS},
      {"pc", ETHP2P_NAT_ALLOC_CONTIGUOUS},
      {"random", ETHP2P_NAT_ALLOC_RANDOM},
      {"rd", ETHP2P_NAT_ALLOC_RANDOM},
      {"unknown", ETHP2P_NAT_ALLOC_UNKNOWN},
  };
  int v;
  if (out == NULL || lookup(names, sizeof names / sizeof names[0], text, &v) != 0)
    return ETHP2P_ESYNTAX;
  *out = (ethp2p_nat_alloc)v;
  return 0;
}
