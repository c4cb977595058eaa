/* fuzz/fuzz_nat_device_desc.c — UPnP device descriptions (nat/xml.h) and the URL helpers
 * the client applies to what they contain. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/http.h"
#include "nat/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ethp2p_upnp_desc d;
  size_t i;
  if (ethp2p_upnp_desc_parse(&d, (const char *)data, size, NULL) != 0)
    return 0;
  if (d.nservices > ETHP2P_UPNP_MAX_SERVICES)
    abort();
  for (i = 0; i < d.nservices; i++) {
    char url[512];
    ethp2p_http_url u;
    if (d.services[i].kind == ETHP2P_UPNP_SVC_NONE || d.services[i].control_url[0] == '\0')
      abort();
    if (ethp2p_http_url_resolve(url, sizeof url,
                                ethp2p_upnp_desc_base(&d, "http://192.168.1.1:5000/rootDesc.xml"),
                                d.services[i].control_url) == 0)
      (void)ethp2p_http_url_parse(&u, url, NULL);
  }
  return 0;
}
