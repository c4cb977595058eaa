/* fuzz/fuzz_enr_rlp.c — strict RLP decoding.  On success the structure must re-encode to
 * exactly the input (canonical forms only), and the dumper must agree on its own length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t out[1 << 16];
  static char text[1 << 18];
  ethp2p_rlp_item it;
  ethp2p_rlp_enc e;
  ethp2p_diag d;
  size_t n = 0, tl = 0, tl2 = 0;
  int rc;
  if (size > sizeof out)
    return 0;
  rc = ethp2p_rlp_decode(&it, data, size, &d);
  if (rc != 0) {
    if (rc > 0 || d.offset > size || d.msg[0] == '\0')
      abort();
    return 0;
  }
  ethp2p_rlp_enc_init(&e, out, sizeof out);
  if (ethp2p_rlp_reencode(&e, &it) != 0 || ethp2p_rlp_enc_finish(&e, &n) != 0)
    abort();
  if (n != size || memcmp(out, data, size) != 0)
    abort();
  rc = ethp2p_rlp_dump(text, sizeof text, &tl, &it);
  if (rc != 0 && rc != ETHP2P_ESPACE)
    abort();
  if (rc == 0 && strlen(text) != tl)
    abort();
  /* a small buffer reports the same length and stays terminated */
  rc = ethp2p_rlp_dump(text, 8, &tl2, &it);
  if (tl2 != tl || strlen(text) > 7 || (rc == 0) != (tl <= 7))
    abort();
  if (!it.is_list) {
    uint64_t v;
    (void)ethp2p_rlp_uint64(&v, &it, NULL);
  } else if (ethp2p_rlp_list_count(&it, NULL) < 0) {
    abort();
  }
  return 0;
}
