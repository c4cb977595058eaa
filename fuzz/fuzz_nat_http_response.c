/* fuzz/fuzz_nat_http_response.c — the bounded HTTP/1.1 response parser (nat/http.h).
 * Property: feeding the input in one piece or split at a point chosen by the first byte
 * gives the same outcome and the same body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/http.h"

static int run(ethp2p_http_parser *p, const uint8_t *data, size_t size, size_t split) {
  size_t used = 0;
  int rc;
  ethp2p_http_parser_init(p, ETHP2P_HTTP_RESPONSE, 4096, false);
  rc = ethp2p_http_parser_feed(p, data, split, &used, NULL);
  if (rc == 0)
    rc = ethp2p_http_parser_feed(p, data + split, size - split, &used, NULL);
  if (rc == 0)
    rc = ethp2p_http_parser_eof(p, NULL);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_http_parser a, b;
  size_t split;
  int ra, rb;
  if (size == 0)
    return 0;
  split = data[0] % size;
  ra = run(&a, data + 1, size - 1, 0);
  rb = run(&b, data + 1, size - 1, split > size - 1 ? size - 1 : split);
  if (ra != rb)
    abort();
  if (ra == 1) {
    if (a.msg.status != b.msg.status || a.msg.body_len != b.msg.body_len ||
        memcmp(a.msg.body, b.msg.body, a.msg.body_len) != 0 || a.msg.body[a.msg.body_len] != 0 ||
        a.msg.nheaders != b.msg.nheaders)
      abort();
    (void)ethp2p_http_msg_header(&a.msg, "Content-Type");
  }
  ethp2p_http_parser_close(&a);
  ethp2p_http_parser_close(&b);
  return 0;
}
