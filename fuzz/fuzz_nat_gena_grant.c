/* fuzz/fuzz_nat_gena_grant.c — the router's answer to SUBSCRIBE or a renewal: an HTTP
 * response (nat/http.h) read to its end, then the SID/TIMEOUT grant (nat/gena.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nat/gena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_http_parser p;
  ethp2p_gena_grant g;
  int rc;
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_RESPONSE, 4096, false);
  rc = ethp2p_http_parser_feed(&p, data, size, NULL, NULL);
  if (rc == 0)
    rc = ethp2p_http_parser_eof(&p, NULL);
  if (rc == 1) {
    rc = ethp2p_gena_grant_parse(&g, &p.msg, NULL);
    if (rc == 0 && (strncasecmp(g.sid, "uuid:", 5) != 0 || strlen(g.sid) >= sizeof g.sid))
      abort();
    if (rc != 0 && (g.sid[0] != '\0' || g.timeout_s != 0))
      abort(); /* zeroed on failure */
  }
  ethp2p_http_parser_close(&p);
  return 0;
}
