/* fuzz/fuzz_gateway_soap_request.c — SOAP control requests as the gateway parses them
 * (nat/xml.h), plus the SOAPAction header parser on the first line of the input.
 * Round trip: a parsed request rebuilt with its arguments parses to the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ethp2p_soap_msg m, again;
  static char out[64 * 1024];
  ethp2p_soap_field f[ETHP2P_SOAP_MAX_ARGS];
  char hdr[256], st[128], action[64];
  const uint8_t *nl = memchr(data, '\n', size < 255 ? size : 255);
  size_t i, len;
  if (nl != NULL) {
    memcpy(hdr, data, (size_t)(nl - data));
    hdr[nl - data] = '\0';
    (void)ethp2p_soap_action_parse(hdr, st, sizeof st, action, sizeof action);
  }
  if (ethp2p_soap_request_parse(&m, (const char *)data, size, NULL) != 0)
    return 0;
  for (i = 0; i < m.nargs; i++) {
    f[i].name = m.args[i].name;
    f[i].value = m.args[i].value;
  }
  if (ethp2p_soap_request_build(out, sizeof out, &len, m.service_type, m.action, f, m.nargs) != 0)
    return 0;
  if (ethp2p_soap_request_parse(&again, out, len, NULL) != 0)
    abort();
  if (again.nargs != m.nargs || strcmp(again.action, m.action) != 0)
    abort();
  for (i = 0; i < m.nargs; i++)
    if (strcmp(again.args[i].value, m.args[i].value) != 0)
      abort();
  return 0;
}
