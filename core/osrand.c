/* core/osrand.c — getrandom(2) and explicit_bzero; see osrand.h for why. */
#include "core/osrand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "ethp2p/error.h"

int ethp2p_os_random(uint8_t *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = getrandom(buf + got, len - got, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      explicit_bzero(buf, len);
      return ETHP2P_EIO;
    }
    got += (size_t)r;
  }
  return 0;
}

void ethp2p_wipe(void *p, size_t len) {
  if (p != NULL && len > 0)
    explicit_bzero(p, len);
}
