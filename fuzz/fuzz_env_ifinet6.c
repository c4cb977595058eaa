/*
 * fuzz/fuzz_env_ifinet6.c — the /proc/net/if_inet6 parser (ethp2p_uvenv_if_inet6_flags).
 *
 * The first 16 bytes are the address looked up, the next byte the length of the
 * device name (mod 16) and that many bytes the name; the rest is the table.
 * Properties beyond "no crash, no sanitizer report":
 *   - a failure is ENOTFOUND with *flags = 0;
 *   - the same bytes give the same answer;
 *   - parsing is line-local: a found address is still found after the table is
 *     prefixed with a junk line, and with the same flags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env_uv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char junk[] = "junk line\n";
  uint8_t ip[16];
  char name[16], *prefixed;
  size_t nlen, tlen;
  uint32_t fl, again;
  const char *text;
  int rc;
  if (size < 17 || size > 4096)
    return 0;
  memcpy(ip, data, 16);
  nlen = data[16] % 16;
  if (size < 17 + nlen)
    return 0;
  memcpy(name, data + 17, nlen);
  name[nlen] = '\0';
  text = (const char *)data + 17 + nlen;
  tlen = size - 17 - nlen;
  rc = ethp2p_uvenv_if_inet6_flags(text, tlen, ip, name, &fl);
  if (rc != 0 && (rc != ETHP2P_ENOTFOUND || fl != 0))
    abort();
  if (ethp2p_uvenv_if_inet6_flags(text, tlen, ip, name, &again) != rc || again != fl)
    abort();
  prefixed = malloc(sizeof junk - 1 + tlen);
  if (prefixed == NULL)
    return 0;
  memcpy(prefixed, junk, sizeof junk - 1);
  memcpy(prefixed + sizeof junk - 1, text, tlen);
  if (rc == 0 &&
      (ethp2p_uvenv_if_inet6_flags(prefixed, sizeof junk - 1 + tlen, ip, name, &again) != 0 ||
       again != fl))
    abort();
  free(prefixed);
  return 0;
}
