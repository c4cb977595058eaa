/* fuzz/fuzz_nat_ssdp_location.c — LOCATION hosts of SSDP answers (nat/ssdp.h): bracketed
 * IPv6, zones, the sender check.  The first byte picks the sender (IPv4, global IPv6 or
 * link-local IPv6 with a zone); the rest is the LOCATION value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/ssdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char loc[1100];
  ethp2p_http_url u;
  ethp2p_addr from;
  ethp2p_diag diag;
  if (size < 1 || size - 1 >= sizeof loc)
    return 0;
  memcpy(loc, data + 1, size - 1);
  loc[size - 1] = '\0';
  static const char *const senders[] = {"192.168.1.1", "3fff:0:1::1", "fe80::1"};
  if (ethp2p_addr_parse_ip(&from, senders[data[0] % 3]) != 0)
    abort();
  from.scope = data[0] % 3 == 2 ? 5 : 0;
  int rc = ethp2p_ssdp_location_parse(&u, loc, &from, &diag);
  if (rc == 0) {
    /* Accepted: the host is the sender, with the sender's zone when link-local. */
    if (!u.has_addr || !ethp2p_addr_equal(&u.addr, &from, false) || u.addr.scope != from.scope)
      abort();
    if (strchr(u.host, '%') != NULL)
      abort();
  } else if (u.has_addr || u.host[0] != '\0') {
    abort(); /* zeroed on failure */
  }
  uint32_t scope = data[0];
  if (ethp2p_ssdp_url_parse_zoned(&u, loc, scope, &diag) == 0 && u.has_addr && u.addr.scope != 0 &&
      u.addr.scope != scope)
    abort();
  return 0;
}
