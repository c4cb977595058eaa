/*
 * fuzz/fuzz_gateway_policy.c — the text the `ethp2p gateway` command line and
 * the simulator hand to the gateway: allowed port ranges
 * (ethp2p_gw_policy_parse_allow, "1024-65535,80") and quirk names
 * (ethp2p_gw_quirk_parse), plus the NAT behaviour names of
 * include/ethp2p/natbehavior.h.
 * Properties: no crash; a failed parse leaves the policy unchanged; a parsed
 * list has at most ETHP2P_GW_MAX_RANGES ranges, each lo <= hi, lo >= 1, and
 * every port in it is allowed; a quirk name maps to one bit whose name parses
 * back to the same bit; a behaviour name parses back from its own name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/gateway.h"
#include "ethp2p/natbehavior.h"

#define TEXT_CAP 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char text[TEXT_CAP + 1];
  ethp2p_gw_policy p, before;
  unsigned bit = 0, again = 0;
  if (size > TEXT_CAP)
    size = TEXT_CAP;
  memcpy(text, data, size);
  text[size] = '\0';

  ethp2p_gw_policy_default(&p);
  p.n_allow = 1;
  p.allow[0].lo = 7;
  p.allow[0].hi = 9;
  before = p;
  if (ethp2p_gw_policy_parse_allow(&p, text) != 0) {
    if (memcmp(&p, &before, sizeof p) != 0)
      abort();
  } else {
    if (p.n_allow > ETHP2P_GW_MAX_RANGES)
      abort();
    for (size_t i = 0; i < p.n_allow; i++) {
      if (p.allow[i].lo == 0 || p.allow[i].lo > p.allow[i].hi)
        abort();
      if (!ethp2p_gw_policy_port_allowed(&p, p.allow[i].lo) ||
          !ethp2p_gw_policy_port_allowed(&p, p.allow[i].hi))
        abort();
    }
  }

  if (ethp2p_gw_quirk_parse(text, &bit) == 0) {
    const char *name = ethp2p_gw_quirk_name(bit);
    if (bit == 0 || (bit & (bit - 1)) != 0 || name == NULL ||
        ethp2p_gw_quirk_parse(name, &again) != 0 || again != bit)
      abort();
  }

  ethp2p_nat_policy pol = (ethp2p_nat_policy)0x55;
  if (ethp2p_nat_policy_parse(text, &pol) == 0) {
    ethp2p_nat_policy back = (ethp2p_nat_policy)0x55;
    if (ethp2p_nat_policy_parse(ethp2p_nat_policy_name(pol), &back) != 0 || back != pol)
      abort();
  } else if (pol != (ethp2p_nat_policy)0x55) {
    abort(); /* *out untouched on error */
  }
  ethp2p_nat_alloc alloc = (ethp2p_nat_alloc)0x55;
  if (ethp2p_nat_alloc_parse(text, &alloc) == 0) {
    ethp2p_nat_alloc back = (ethp2p_nat_alloc)0x55;
    if (ethp2p_nat_alloc_parse(ethp2p_nat_alloc_name(alloc), &back) != 0 || back != alloc)
      abort();
  } else if (alloc != (ethp2p_nat_alloc)0x55) {
    abort();
  }
  return 0;
}
