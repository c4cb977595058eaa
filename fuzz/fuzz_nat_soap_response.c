/* fuzz/fuzz_nat_soap_response.c — SOAP responses and faults (nat/xml.h).  Round trip: a
 * parsed success response rebuilt with the same arguments parses to the same arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ethp2p_soap_msg m, again;
  static char out[64 * 1024];
  ethp2p_soap_field f[ETHP2P_SOAP_MAX_ARGS];
  size_t i, len, n;
  if (ethp2p_soap_parse(&m, (const char *)data, size, NULL) != 0)
    return 0;
  (void)ethp2p_soap_response_parse(&again, "AddPortMapping", (const char *)data, size, NULL);
  n = strlen(m.action);
  if (m.is_fault || n <= 8 || strcmp(m.action + n - 8, "Response") != 0)
    return 0;
  for (i = 0; i < m.nargs; i++) {
    f[i].name = m.args[i].name;
    f[i].value = m.args[i].value;
  }
  m.action[n - 8] = '\0';
  if (ethp2p_soap_response_build(out, sizeof out, &len, m.service_type, m.action, f, m.nargs) != 0)
    return 0; /* names that are not plain XML names are not rebuilt */
  if (ethp2p_soap_response_parse(&again, m.action, out, len, NULL) != 0)
    abort();
  if (again.nargs != m.nargs)
    abort();
  for (i = 0; i < m.nargs; i++)
    if (strcmp(again.args[i].name, m.args[i].name) != 0)
      abort();
  return 0;
}
