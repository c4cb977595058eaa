/*
 * fuzz/fuzz_env_addr.c — the address text parsers of include/ethp2p/env.h
 * (ethp2p_addr_parse, ethp2p_addr_parse_ip) and their inverse ethp2p_addr_format.
 * Input: the first byte picks the default port, the rest is the text.
 * Properties: no crash; what parses formats to text that parses back to the
 * same address (with and without port); formatting never overruns
 * ETHP2P_ADDRSTRLEN; the formatted text is canonical (format(parse(format(a)))
 * is the same text); ethp2p_addr_is_public never holds for an address a narrower
 * predicate excludes, and does not depend on the port or the zone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env.h"

#define TEXT_CAP (2 * ETHP2P_ADDRSTRLEN)

/* is_public never contradicts the narrower predicates, and ignores port and zone. */
static void check_public(const ethp2p_addr *a) {
  ethp2p_addr z = *a;
  bool pub = ethp2p_addr_is_public(a);
  if (pub && (ethp2p_addr_is_unspecified(a) || ethp2p_addr_is_loopback(a) ||
              ethp2p_addr_is_private(a) || ethp2p_addr_is_cgnat(a) || ethp2p_addr_is_multicast(a)))
    abort();
  z.port ^= 0x5555;
  z.scope ^= 0xa5a5a5a5u;
  if (ethp2p_addr_is_public(&z) != pub)
    abort();
}

static void check_roundtrip(const ethp2p_addr *a) {
  char buf[ETHP2P_ADDRSTRLEN], buf2[ETHP2P_ADDRSTRLEN];
  ethp2p_addr b;
  /* With port: "[v6]:p" / "v4:p" must parse to the same family, IP and port. */
  ethp2p_addr_format(a, true, buf, sizeof buf);
  if (memchr(buf, '\0', sizeof buf) == NULL)
    abort();
  if (ethp2p_addr_parse(&b, buf, 0) != 0 || !ethp2p_addr_equal(a, &b, true))
    abort();
  ethp2p_addr_format(&b, true, buf2, sizeof buf2);
  if (strcmp(buf, buf2) != 0)
    abort();
  /* Without port: the IP literal alone. */
  ethp2p_addr_format(a, false, buf, sizeof buf);
  if (ethp2p_addr_parse_ip(&b, buf) != 0 || !ethp2p_addr_equal(a, &b, false) || b.port != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char text[TEXT_CAP + 1];
  ethp2p_addr a;
  uint16_t defport;
  if (size < 1)
    return 0;
  defport = (uint16_t)(data[0] * 257u);
  data++;
  size--;
  if (size > TEXT_CAP)
    size = TEXT_CAP;
  memcpy(text, data, size);
  text[size] = '\0';

  if (ethp2p_addr_parse(&a, text, defport) == 0) {
    if (a.family != 4 && a.family != 6)
      abort();
    check_roundtrip(&a);
    (void)ethp2p_addr_is_private(&a);
    (void)ethp2p_addr_is_cgnat(&a);
    (void)ethp2p_addr_is_multicast(&a);
    check_public(&a);
  } else if (a.family != 0) {
    abort(); /* a failed parse leaves the output unset */
  }
  if (ethp2p_addr_parse_ip(&a, text) == 0) {
    if ((a.family != 4 && a.family != 6) || a.port != 0)
      abort();
    check_roundtrip(&a);
  } else if (a.family != 0) {
    abort();
  }
  /* Any 19 bytes as a raw address must format and round-trip too. */
  if (size >= 19) {
    memset(&a, 0, sizeof a);
    a.family = (data[0] & 1) ? 6 : 4;
    memcpy(a.ip, data + 1, a.family == 4 ? 4 : 16);
    a.port = (uint16_t)(data[17] << 8 | data[18]);
    check_roundtrip(&a);
    check_public(&a);
  }
  return 0;
}
