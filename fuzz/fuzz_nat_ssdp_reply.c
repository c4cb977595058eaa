/* fuzz/fuzz_nat_ssdp_reply.c — SSDP search responses (nat/ssdp.h), with a round trip:
 * a reply that parses, rebuilt and parsed again, gives the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/ssdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_ssdp_reply r, again;
  ethp2p_diag diag;
  uint8_t out[3 * ETHP2P_SSDP_MAX_LEN];
  size_t len;
  if (ethp2p_ssdp_reply_parse(&r, data, size, &diag) != 0)
    return 0;
  if (r.location[0] == '\0' || r.st[0] == '\0')
    return 0;
  if (ethp2p_ssdp_reply_build(out, sizeof out, &len, &r) != 0)
    abort();
  if (len > ETHP2P_SSDP_MAX_LEN)
    return 0; /* our own output may exceed the input cap when every field is at its maximum */
  if (ethp2p_ssdp_reply_parse(&again, out, len, &diag) != 0)
    abort();
  if (strcmp(again.location, r.location) != 0 || strcmp(again.st, r.st) != 0 ||
      strcmp(again.usn, r.usn) != 0 || strcmp(again.server, r.server) != 0 ||
      again.status != r.status || again.max_age != r.max_age)
    abort();
  return 0;
}
