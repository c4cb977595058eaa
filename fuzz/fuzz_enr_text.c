/* fuzz/fuzz_enr_text.c — "enr:" text decoding.  Strict base64url and canonical RLP make the
 * text of a record unique, so a decoded text must encode back to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/enr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_enr r;
  ethp2p_diag d;
  char out[ETHP2P_ENR_TEXT_MAX + 1];
  size_t n = 0;
  int rc = ethp2p_enr_text_decode(&r, (const char *)data, size, &d);
  if (rc != 0) {
    if (d.msg[0] == '\0' || d.offset > size + ETHP2P_ENR_MAX_SIZE)
      abort();
    return 0;
  }
  if (ethp2p_enr_text_encode(out, sizeof out, &n, &r) != 0 || n != size ||
      memcmp(out, data, size) != 0)
    abort();
  (void)ethp2p_enr_verify(&r, NULL);
  return 0;
}
