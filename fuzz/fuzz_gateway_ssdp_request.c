/* fuzz/fuzz_gateway_ssdp_request.c — M-SEARCH requests as the gateway's SSDP responder
 * parses them (nat/ssdp.h), with a round trip through the builder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/ssdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_ssdp_search s, again;
  ethp2p_diag diag;
  uint8_t out[3 * ETHP2P_SSDP_MAX_LEN];
  size_t len;
  if (ethp2p_ssdp_search_parse(&s, data, size, &diag) != 0)
    return 0;
  (void)ethp2p_ssdp_st_is_gateway(s.st);
  if (ethp2p_ssdp_search_build(out, sizeof out, &len, &s) != 0)
    abort();
  if (len > ETHP2P_SSDP_MAX_LEN)
    return 0;
  if (ethp2p_ssdp_search_parse(&again, out, len, &diag) != 0)
    abort();
  if (strcmp(again.st, s.st) != 0 || again.mx != s.mx || !again.man_quoted ||
      strcmp(again.user_agent, s.user_agent) != 0 ||
      (s.host[0] != '\0' && strcmp(again.host, s.host) != 0))
    abort();
  return 0;
}
