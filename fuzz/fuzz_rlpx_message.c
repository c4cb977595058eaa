/* fuzz/fuzz_rlpx_message.c — the other base-protocol inputs: a Disconnect body and a
 * snappy-compressed payload (bounded to 1 MiB here: a bigger claim must be refused
 * before anything is allocated), and compress -> uncompress round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlpx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t comp[1 << 18];
  uint8_t *out = NULL;
  unsigned reason = 7;
  size_t n = 0, m = 0;
  int rc = ethp2p_rlpx_disconnect_decode(&reason, data, size);
  if (rc != 0 && rc != ETHP2P_EPROTO)
    abort();
  if (rc == 0 && reason > 0xff)
    abort();
  rc = ethp2p_rlpx_snappy_uncompress(&out, &n, data, size, 1u << 20);
  if (rc == 0) {
    if (n > (1u << 20) || (n > 0 && out == NULL))
      abort();
    free(out);
  } else if (out != NULL) {
    abort();
  }
  if (size <= 65536) {
    if (ethp2p_rlpx_snappy_compress(comp, sizeof comp, &m, data, size) != 0)
      abort();
    if (ethp2p_rlpx_snappy_uncompress(&out, &n, comp, m, 65536) != 0 || n != size ||
        (size > 0 && memcmp(out, data, size) != 0))
      abort();
    free(out);
  }
  return 0;
}
