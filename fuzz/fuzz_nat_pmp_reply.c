/*
 * fuzz/fuzz_nat_pmp_reply.c — NAT-PMP reply/announcement and request decoders
 * (nat/pmp_codec.h).  Properties: no crash; a decoded reply re-encodes to the
 * bytes it came from (trailing bytes are ignored by design); a decoded request
 * re-encodes and decodes to the same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/pmp_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_diag diag;
  ethp2p_pmp_reply reply;
  uint8_t buf[ETHP2P_PMP_MAX_LEN];
  if (ethp2p_pmp_reply_decode(&reply, data, size, &diag) == 0) {
    int n = ethp2p_pmp_reply_encode(buf, sizeof buf, &reply);
    if (n <= 0 || (size_t)n > size || memcmp(buf, data, (size_t)n) != 0)
      abort();
  } else if (diag.offset > size) {
    abort();
  }
  ethp2p_pmp_request req, again;
  if (ethp2p_pmp_request_decode(&req, data, size, &diag) == 0) {
    int n = ethp2p_pmp_request_encode(buf, sizeof buf, &req);
    if (n <= 0 || ethp2p_pmp_request_decode(&again, buf, (size_t)n, NULL) != 0 ||
        memcmp(&req, &again, sizeof req) != 0)
      abort();
  }
  if (size >= 16) {
    uint32_t a, b;
    memcpy(&a, data, 4);
    memcpy(&b, data + 4, 4);
    ethp2p_time t1, t2;
    memcpy(&t1, data + 8, 4);
    memcpy(&t2, data + 12, 4);
    (void)ethp2p_pmp_epoch_lost(a, t1 * ETHP2P_MSEC, b, t2 * ETHP2P_MSEC);
  }
  return 0;
}
