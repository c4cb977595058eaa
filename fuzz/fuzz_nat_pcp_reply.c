/*
 * fuzz/fuzz_nat_pcp_reply.c — PCP response/ANNOUNCE and request decoders
 * (nat/pcp_codec.h).  Properties: no crash; whatever decodes re-encodes and
 * decodes to the same struct (reserved bits are not kept, so the property is
 * on the struct, not the bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/pcp_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_diag diag;
  uint8_t buf[ETHP2P_PCP_MAX_LEN];
  ethp2p_pcp_response resp, resp2;
  int rc = ethp2p_pcp_response_decode(&resp, data, size, &diag);
  if (rc == 0 && (resp.opcode == ETHP2P_PCP_OP_MAP || resp.opcode == ETHP2P_PCP_OP_ANNOUNCE)) {
    int n = ethp2p_pcp_response_encode(buf, sizeof buf, &resp);
    if (n <= 0 || ethp2p_pcp_response_decode(&resp2, buf, (size_t)n, NULL) != 0 ||
        memcmp(&resp, &resp2, sizeof resp) != 0)
      abort();
  } else if (rc < 0 && diag.offset > size + ETHP2P_PCP_MAX_LEN) {
    abort();
  }
  ethp2p_pcp_request req, req2;
  if (ethp2p_pcp_request_decode(&req, data, size, &diag) == 0 &&
      (req.client_ip.family == 4 || req.client_ip.family == 6)) {
    int n = ethp2p_pcp_request_encode(buf, sizeof buf, &req);
    if (n <= 0 || ethp2p_pcp_request_decode(&req2, buf, (size_t)n, NULL) != 0 ||
        memcmp(&req, &req2, sizeof req) != 0)
      abort();
  }
  return 0;
}
