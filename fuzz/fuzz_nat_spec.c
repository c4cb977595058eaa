/*
 * fuzz/fuzz_nat_spec.c — the --nat grammar (ethp2p_nat_spec_parse, nat/spec.c),
 * which reads user and config-file text.  Properties: no crash; the error text
 * is always NUL-terminated inside its buffer; a spec that parses formats to
 * canonical text that parses back to the same spec, and formatting that text's
 * spec again gives the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nat.h"

#define TEXT_CAP 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char text[TEXT_CAP + 1], err[64], out[TEXT_CAP], out2[TEXT_CAP];
  ethp2p_nat_spec a, b;
  if (size > TEXT_CAP)
    size = TEXT_CAP;
  memcpy(text, data, size);
  text[size] = '\0';
  memset(err, 'x', sizeof err);
  if (ethp2p_nat_spec_parse(&a, text, err, sizeof err) != 0) {
    if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0')
      abort(); /* a failure always says why */
    return 0;
  }
  int n = ethp2p_nat_spec_format(&a, out, sizeof out);
  if (n < 0 || (size_t)n >= sizeof out)
    abort();
  if (ethp2p_nat_spec_parse(&b, out, err, sizeof err) != 0)
    abort();
  if (a.kind != b.kind || a.has_addr != b.has_addr ||
      (a.has_addr && !ethp2p_addr_equal(&a.addr, &b.addr, true)) ||
      strcmp(a.stun_servers, b.stun_servers) != 0)
    abort();
  n = ethp2p_nat_spec_format(&b, out2, sizeof out2);
  if (n < 0 || strcmp(out, out2) != 0)
    abort();
  return 0;
}
