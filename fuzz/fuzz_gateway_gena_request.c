/* fuzz/fuzz_gateway_gena_request.c — what the gateway's eventSubURL parses: an HTTP
 * request (nat/http.h), then SUBSCRIBE / renewal / UNSUBSCRIBE (nat/gena.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nat/gena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_http_parser p;
  ethp2p_gena_request r;
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_REQUEST, 4096, false);
  if (ethp2p_http_parser_feed(&p, data, size, NULL, NULL) == 1) {
    int rc = ethp2p_gena_request_parse(&r, &p.msg, NULL);
    if (rc == 0 && r.kind == ETHP2P_GENA_SUBSCRIBE && r.ncallbacks == 0)
      abort();
    if (rc == 0 && r.kind != ETHP2P_GENA_SUBSCRIBE && strncasecmp(r.sid, "uuid:", 5) != 0)
      abort();
    for (size_t i = 0; i < r.ncallbacks; i++)
      if (strlen(r.callbacks[i]) == 0 || strchr(r.callbacks[i], '>') != NULL)
        abort();
  }
  ethp2p_http_parser_close(&p);
  return 0;
}
