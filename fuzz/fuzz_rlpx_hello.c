/* fuzz/fuzz_rlpx_hello.c — the Hello decoder on outside bytes.  A decoded Hello
 * re-encodes and decodes to the same struct; a refusal says why and leaves the
 * struct zeroed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlpx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ethp2p_rlpx_hello h, g, zero;
  static uint8_t out[8192];
  ethp2p_diag d;
  size_t n;
  int rc;
  memset(&d, 0, sizeof d);
  rc = ethp2p_rlpx_hello_decode(&h, data, size, &d);
  if (rc != 0) {
    if (rc > 0 || d.msg[0] == '\0' || memcmp(&h, &zero, sizeof h) != 0)
      abort();
    return 0;
  }
  if (h.ncaps > ETHP2P_RLPX_MAX_CAPS || strlen(h.client_id) > ETHP2P_RLPX_CLIENT_ID_MAX)
    abort();
  if (ethp2p_rlpx_hello_encode(out, sizeof out, &n, &h) != 0)
    abort();
  if (ethp2p_rlpx_hello_decode(&g, out, n, NULL) != 0 || memcmp(&g, &h, sizeof h) != 0)
    abort();
  return 0;
}
