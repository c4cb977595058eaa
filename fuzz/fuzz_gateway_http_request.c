/* fuzz/fuzz_gateway_http_request.c — HTTP/1.1 requests as the gateway's HTTP server parses
 * them (nat/http.h): one piece versus byte-at-a-time must agree, and pipelined leftovers
 * are parsed as the next request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_http_parser a, b;
  size_t used = 0, i, total = 0;
  int ra, rb = 0;
  ethp2p_http_parser_init(&a, ETHP2P_HTTP_REQUEST, 2048, false);
  ethp2p_http_parser_init(&b, ETHP2P_HTTP_REQUEST, 2048, false);
  ra = ethp2p_http_parser_feed(&a, data, size, &used, NULL);
  for (i = 0; i < size; i++) {
    size_t u = 0;
    rb = ethp2p_http_parser_feed(&b, data + i, 1, &u, NULL);
    total += u;
    if (rb != 0)
      break;
  }
  if (ra != rb)
    abort();
  if (ra == 1) {
    if (used != total || strcmp(a.msg.method, b.msg.method) != 0 ||
        strcmp(a.msg.target, b.msg.target) != 0 || a.msg.body_len != b.msg.body_len ||
        memcmp(a.msg.body, b.msg.body, a.msg.body_len) != 0)
      abort();
    (void)ethp2p_http_msg_header(&a.msg, "SOAPAction");
    ethp2p_http_parser_reset(&a);
    (void)ethp2p_http_parser_feed(&a, data + used, size - used, NULL, NULL);
  }
  ethp2p_http_parser_close(&a);
  ethp2p_http_parser_close(&b);
  return 0;
}
