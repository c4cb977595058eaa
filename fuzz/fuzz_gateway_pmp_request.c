/*
 * fuzz/fuzz_gateway_pmp_request.c — NAT-PMP requests (RFC 6886 §3.2-3.5) at the
 * gateway's server on a simulated router (nat/gateway/pmp.c), several
 * datagrams per input with time passing and restarts in between.  The input
 * layout and the invariants are in fuzz/fuzz_gateway_udp.h.
 *
 * Fix-up bits (ctl >> 6): 1 forces version 0 so most datagrams reach the
 * NAT-PMP decoder; 2 also forces a map opcode (1 or 2) and a non-zero lifetime;
 * 3 leaves the bytes as they are.
 */
#include "fuzz/fuzz_gateway_udp.h"

static void pmp_fixup(uint8_t *buf, size_t len, unsigned bits, const ethp2p_addr *sender) {
  (void)sender;
  if (bits == 3 || len < 2)
    return;
  if (bits == 0 || bits == 1) {
    buf[0] = ETHP2P_PMP_VERSION;
    buf[1] &= 0x7f;
    return;
  }
  buf[0] = ETHP2P_PMP_VERSION;
  buf[1] = (uint8_t)(1 + (buf[1] & 1)); /* map UDP or TCP */
  if (len >= 12 && buf[8] == 0 && buf[9] == 0 && buf[10] == 0 && buf[11] == 0)
    buf[11] = 60;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fgw_run(data, size, 1, pmp_fixup);
}
