/*
 * fuzz/fuzz_nat_stun.c — STUN message decoder (nat/stun_codec.h).
 * Properties: no crash; a decoded message re-encodes (with a fingerprint) and
 * decodes to the same type, transaction ID, attributes and values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/stun_codec.h"

static bool same_addr(const ethp2p_addr *a, const ethp2p_addr *b) {
  return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_diag diag;
  ethp2p_stun_msg m, back;
  if (ethp2p_stun_decode(&m, data, size, &diag) != 0)
    return 0;
  if (m.present & ETHP2P_STUN_HAS_INTEGRITY)
    (void)ethp2p_stun_check_integrity(&m, data, size, (const uint8_t *)"k", 1);
  uint8_t buf[ETHP2P_STUN_MAX_LEN];
  ethp2p_stun_encode_opts opts = {.fingerprint = true};
  int n = ethp2p_stun_encode(buf, sizeof buf, &m, &opts);
  if (n <= 0 || ethp2p_stun_decode(&back, buf, (size_t)n, NULL) != 0)
    abort();
  uint32_t keep = ~(uint32_t)(ETHP2P_STUN_HAS_INTEGRITY | ETHP2P_STUN_HAS_FINGERPRINT);
  if (back.type != m.type || memcmp(back.txid, m.txid, 12) != 0 ||
      (back.present & keep) != (m.present & keep) || !back.fingerprint_ok ||
      !same_addr(&back.mapped, &m.mapped) || !same_addr(&back.xor_mapped, &m.xor_mapped) ||
      !same_addr(&back.response_origin, &m.response_origin) ||
      !same_addr(&back.other_address, &m.other_address) ||
      back.change_request != m.change_request || back.response_port != m.response_port ||
      back.error_code != m.error_code || strcmp(back.error_reason, m.error_reason) != 0 ||
      strcmp(back.software, m.software) != 0)
    abort();
  return 0;
}
