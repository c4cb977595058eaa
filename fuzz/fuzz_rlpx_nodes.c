/* fuzz/fuzz_rlpx_nodes.c — static-nodes.json / trusted-nodes.json on outside bytes.
 * Every node returned has a valid key, an address and a TCP port; a refusal says
 * why at an offset inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ethp2p_enode nodes[8];
  ethp2p_diag d;
  size_t n = 99, i;
  int rc;
  memset(&d, 0, sizeof d);
  rc = ethp2p_rlpx_nodes_parse(nodes, 8, &n, (const char *)data, size, &d);
  if (rc != 0) {
    if (rc > 0 || n != 0 || d.offset > size || d.msg[0] == '\0')
      abort();
    return 0;
  }
  if (n > 8)
    abort();
  for (i = 0; i < n; i++)
    if (ethp2p_secp_pub64_check(nodes[i].pubkey) != 0 || nodes[i].tcp == 0 ||
        (nodes[i].ip_len != 4 && nodes[i].ip_len != 16))
      abort();
  return 0;
}
