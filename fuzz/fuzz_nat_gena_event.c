/* fuzz/fuzz_nat_gena_event.c — what the UPnP client's event listener parses: an HTTP
 * request (nat/http.h) and then a GENA NOTIFY with its propertyset (nat/gena.h).  A parsed
 * event is rebuilt and parsed again to the same SID, SEQ and variables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/gena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_http_parser p, q;
  ethp2p_gena_event ev, again;
  ethp2p_soap_field f[ETHP2P_SOAP_MAX_ARGS];
  uint8_t out[8192];
  size_t len, i;
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_REQUEST, 16384, false);
  if (ethp2p_http_parser_feed(&p, data, size, NULL, NULL) != 1 ||
      ethp2p_gena_event_parse(&ev, &p.msg, NULL) != 0) {
    ethp2p_http_parser_close(&p);
    return 0;
  }
  for (i = 0; i < ev.props.nvars; i++)
    f[i] = (ethp2p_soap_field){ev.props.vars[i].name, ev.props.vars[i].value};
  if (ethp2p_gena_event_build(out, sizeof out, &len, "/e", "h:1", ev.sid, ev.seq, f,
                              ev.props.nvars) == 0) {
    ethp2p_http_parser_init(&q, ETHP2P_HTTP_REQUEST, 16384, false);
    if (ethp2p_http_parser_feed(&q, out, len, NULL, NULL) != 1 ||
        ethp2p_gena_event_parse(&again, &q.msg, NULL) != 0 || again.seq != ev.seq ||
        strcmp(again.sid, ev.sid) != 0 || again.props.nvars != ev.props.nvars)
      abort();
    for (i = 0; i < ev.props.nvars; i++)
      if (strcmp(again.props.vars[i].value, ev.props.vars[i].value) != 0)
        abort();
    ethp2p_http_parser_close(&q);
  }
  ethp2p_http_parser_close(&p);
  return 0;
}
