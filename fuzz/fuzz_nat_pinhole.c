/*
 * fuzz/fuzz_nat_pinhole.c — WANIPv6FirewallControl:1 response parser
 * (ethp2p_pinhole_response_parse).
 *
 * The first byte picks the action and the HTTP status (200 or 500); the rest is the body.
 * Properties beyond "no crash, no sanitizer report":
 *   - a success never carries a fault code, and comes only with HTTP 200;
 *   - a status mapped from a fault equals ethp2p_pinhole_fault_status of the code kept;
 *   - the same bytes give the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/pinhole_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 16384)
    return 0;
  ethp2p_pinhole_action action = (ethp2p_pinhole_action)(data[0] % 6);
  int http = (data[0] & 0x80) ? 500 : 200;
  const char *body = (const char *)data + 1;
  size_t len = size - 1;
  ethp2p_pinhole_result r, again;
  int rc = ethp2p_pinhole_response_parse(&r, action, http, body, len, NULL);
  if (rc == 0 && (r.upnp_code != 0 || http != 200))
    abort();
  if (rc != 0 && r.upnp_code != 0 && rc != ETHP2P_EPROTO &&
      rc != ethp2p_pinhole_fault_status(r.upnp_code))
    abort();
  int rc2 = ethp2p_pinhole_response_parse(&again, action, http, body, len, NULL);
  if (rc2 != rc || memcmp(&r, &again, sizeof r) != 0)
    abort();
  return 0;
}
