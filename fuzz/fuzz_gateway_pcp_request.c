/*
 * fuzz/fuzz_gateway_pcp_request.c — PCP requests (RFC 6887 §7-15: MAP,
 * ANNOUNCE, options, version negotiation) at the gateway's server on a
 * simulated router (nat/gateway/pmp.c).  Datagram lengths are counted in
 * 4-byte units (PCP messages are multiples of 4, at most 1100 bytes, §7).
 * The input layout and the invariants are in fuzz/fuzz_gateway_udp.h.
 *
 * Fix-up bits (ctl >> 6): 0 and 1 force version 2, a request (R bit clear) and
 * the sender's own address in the client-address field (§8.3), so the fuzzer
 * reaches the MAP logic instead of ADDRESS_MISMATCH; 2 does the same and sets
 * opcode MAP (1); 3 leaves the bytes as they are.
 */
#include "fuzz/fuzz_gateway_udp.h"

static void pcp_fixup(uint8_t *buf, size_t len, unsigned bits, const ethp2p_addr *sender) {
  if (bits == 3 || len < 2)
    return;
  buf[0] = ETHP2P_PCP_VERSION;
  buf[1] &= 0x7f;
  if (bits == 2)
    buf[1] = ETHP2P_PCP_OP_MAP;
  if (len >= 24)
    ethp2p_pcp_addr_to_wire(buf + 8, sender);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fgw_run(data, size, 4, pcp_fixup);
}
