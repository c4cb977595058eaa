/* fuzz/fuzz_nat_ssdp_notify.c — SSDP NOTIFY datagrams (nat/ssdp.h), with a round trip:
 * a NOTIFY that parses, rebuilt and parsed again, gives the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/ssdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_ssdp_notify n, again;
  ethp2p_diag diag;
  uint8_t out[3 * ETHP2P_SSDP_MAX_LEN];
  size_t len;
  if (ethp2p_ssdp_notify_parse(&n, data, size, &diag) != 0)
    return 0;
  if (ethp2p_ssdp_notify_build(out, sizeof out, &len, &n) != 0)
    abort();
  if (len > ETHP2P_SSDP_MAX_LEN)
    return 0; /* every field at its maximum can exceed the input cap */
  if (ethp2p_ssdp_notify_parse(&again, out, len, &diag) != 0)
    abort();
  if (again.nts != n.nts || strcmp(again.nt, n.nt) != 0 || strcmp(again.usn, n.usn) != 0 ||
      again.bootid != n.bootid || again.has_bootid != n.has_bootid ||
      again.configid != n.configid || again.next_bootid != n.next_bootid ||
      (n.nts != ETHP2P_SSDP_NTS_BYEBYE && strcmp(again.location, n.location) != 0))
    abort();
  return 0;
}
