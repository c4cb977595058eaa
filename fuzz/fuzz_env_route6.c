/*
 * fuzz/fuzz_env_route6.c — the /proc/net/ipv6_route parser (ethp2p_uvenv_route6_parse).
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a success yields a usable router: family 6, port 0, scope 0, not ::, and a
 *     device name of 1..15 characters without whitespace;
 *   - a failure is ENOTFOUND with the output zeroed and the name empty;
 *   - the same bytes give the same answer, with or without a name buffer;
 *   - parsing is line-local: input + "\n" + input still finds a router when input did.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env_uv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_addr gw, again;
  char dev[16], *twice;
  size_t n;
  int rc;
  if (size > 4096)
    return 0;
  rc = ethp2p_uvenv_route6_parse((const char *)data, size, &gw, dev, sizeof(dev));
  if (rc == 0) {
    n = strlen(dev);
    if (gw.family != 6 || gw.port != 0 || gw.scope != 0 || ethp2p_addr_is_unspecified(&gw) ||
        n == 0 || n > 15 || strpbrk(dev, " \t\r\n") != NULL)
      abort();
  } else {
    static const ethp2p_addr zero;
    if (rc != ETHP2P_ENOTFOUND || memcmp(&gw, &zero, sizeof(gw)) != 0 || dev[0] != '\0')
      abort();
  }
  if (ethp2p_uvenv_route6_parse((const char *)data, size, &again, NULL, 0) != rc ||
      !ethp2p_addr_equal(&gw, &again, true))
    abort();
  twice = malloc(2 * size + 1);
  if (twice == NULL)
    return 0;
  memcpy(twice, data, size);
  twice[size] = '\n';
  memcpy(twice + size + 1, data, size);
  if (rc == 0 && ethp2p_uvenv_route6_parse(twice, 2 * size + 1, &again, NULL, 0) != 0)
    abort();
  free(twice);
  return 0;
}
