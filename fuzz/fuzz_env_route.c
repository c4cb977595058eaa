/*
 * fuzz/fuzz_env_route.c — the /proc/net/route parser (ethp2p_uvenv_route_parse).
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a success yields a usable IPv4 gateway (family 4, port 0, not 0.0.0.0);
 *   - a failure is ENOTFOUND and leaves the output zeroed;
 *   - the same bytes give the same answer;
 *   - parsing is line-local: input + "\n" + input still finds a default route
 *     when input alone did (the gateway may differ only by a lower metric).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env_uv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_addr gw, again;
  char *twice;
  int rc;
  if (size > 4096)
    return 0;
  rc = ethp2p_uvenv_route_parse((const char *)data, size, &gw);
  if (rc == 0) {
    if (gw.family != 4 || gw.port != 0 || ethp2p_addr_is_unspecified(&gw))
      abort();
  } else {
    static const ethp2p_addr zero;
    if (rc != ETHP2P_ENOTFOUND || memcmp(&gw, &zero, sizeof(gw)) != 0)
      abort();
  }
  /* Deterministic: the same bytes give the same answer. */
  if (ethp2p_uvenv_route_parse((const char *)data, size, &again) != rc ||
      !ethp2p_addr_equal(&gw, &again, true))
    abort();
  /* Line-local: input + "\n" + input still finds a default route if input did. */
  twice = malloc(2 * size + 1);
  if (twice == NULL)
    return 0;
  memcpy(twice, data, size);
  twice[size] = '\n';
  memcpy(twice + size + 1, data, size);
  if (rc == 0 && ethp2p_uvenv_route_parse(twice, 2 * size + 1, &again) != 0)
    abort();
  free(twice);
  return 0;
}
