/*
 * fuzz/fuzz_enr_enode.c — the enode URL parser on arbitrary bytes.
 *
 * Properties: parsing never crashes; a refusal always says why; an accepted URL
 * formats without error, and the formatted URL parses back to the same node and
 * formats to the same text (format is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/enode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_enode a, b;
  ethp2p_diag d = {0};
  char out[ETHP2P_ENODE_URL_MAX], again[ETHP2P_ENODE_URL_MAX];
  int n, m;

  if (ethp2p_enode_parse(&a, (const char *)data, size, &d) != 0) {
    if (d.msg[0] == '\0' || d.offset > size + 1)
      abort();
    return 0;
  }
  n = ethp2p_enode_format(&a, out, sizeof out);
  if (n <= 0 || (size_t)n != strlen(out))
    abort();
  if (ethp2p_enode_parse(&b, out, (size_t)n, NULL) != 0 || !ethp2p_enode_equal(&a, &b))
    abort();
  m = ethp2p_enode_format(&b, again, sizeof again);
  if (m != n || memcmp(out, again, (size_t)n) != 0)
    abort();
  return 0;
}
