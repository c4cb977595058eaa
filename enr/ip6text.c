/* enr/ip6text.c — RFC 5952 text of an IPv6 address (see enr/ip6text.h). */
#include "enr/ip6text.h"

#include <stdio.h>
#include <string.h>

size_t ethp2p_ip6text_format(char out[ETHP2P_IP6TEXT_MAX], const uint8_t ip[16]) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  unsigned g[8];
  int groups = 8, best = -1, bestlen = 0;
  size_t n = 0;

  for (int i = 0; i < 8; i++)
    g[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
  if (memcmp(ip, mapped, sizeof mapped) == 0)
    groups = 6; /* section 5: the last 32 bits as a dotted quad */
  /* Section 4.2.3: the longest run of zero groups, the first one on a tie. */
  for (int i = 0; i < groups;) {
    int j = i;
    while (j < groups && g[j] == 0)
      j++;
    if (j - i > bestlen) {
      best = i;
      bestlen = j - i;
    }
    i = j > i ? j : i + 1;
  }
  if (bestlen < 2) /* section 4.2.2: one zero group is not shortened */
    best = -1;
  for (int i = 0; i < groups; i++) {
    if (i == best) {
      n += (size_t)snprintf(out + n, ETHP2P_IP6TEXT_MAX - n, "::");
      i += bestlen - 1;
      continue;
    }
    n += (size_t)snprintf(out + n, ETHP2P_IP6TEXT_MAX - n, "%s%x",
                          (i > 0 && i != best + bestlen) ? ":" : "", g[i]);
  }
  if (groups == 6)
    n += (size_t)snprintf(out + n, ETHP2P_IP6TEXT_MAX - n, "%s%u.%u.%u.%u",
                          best + bestlen == 6 ? "" : ":", ip[12], ip[13], ip[14], ip[15]);
  return n;
}
