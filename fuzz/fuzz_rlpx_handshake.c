/* fuzz/fuzz_rlpx_handshake.c — the auth and ack readers on outside bytes.  The
 * recipient (EIP-8 key B) reads the input as an auth, the initiator (key A, after
 * writing its own auth) as an ack.  Checks: ETRUNC asks for more than was given and
 * no more than the cap; success consumes at most the input and yields secrets; a
 * failure leaves the handshake unfinished. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key_a[32] = {0x49, 0xa7, 0xb3, 0x7a, 0xa6, 0xf6, 0x64, 0x59, 0x17, 0xe7, 0xb8,
                                  0x07, 0xe9, 0xd1, 0xc0, 0x0d, 0x4f, 0xa7, 0x1f, 0x18, 0x34, 0x3b,
                                  0x0d, 0x41, 0x22, 0xa4, 0xd2, 0xdf, 0x64, 0xdd, 0x6f, 0xee};
static const uint8_t key_b[32] = {0xb7, 0x1c, 0x71, 0xa6, 0x7e, 0x11, 0x77, 0xad, 0x4e, 0x90, 0x16,
                                  0x95, 0xe1, 0xb4, 0xb9, 0xee, 0x17, 0xae, 0x16, 0xc6, 0x66, 0x8d,
                                  0x31, 0x3e, 0xac, 0x2f, 0x96, 0xdb, 0xcd, 0xa3, 0xf2, 0x91};

static void check(int rc, size_t used, size_t size, const ethp2p_rlpx_hs *hs, bool ack) {
  ethp2p_rlpx_secrets s;
  if (rc == ETHP2P_ETRUNC) {
    if (used <= size || used > ETHP2P_RLPX_HS_MAX)
      abort();
  } else if (rc == 0) {
    if (used == 0 || used > size)
      abort();
    if (ack && ethp2p_rlpx_hs_secrets(hs, &s) != 0)
      abort();
  } else if (rc > 0 || used != 0 || (ack ? hs->have_ack : hs->have_auth)) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ethp2p_rlpx_hs a, b;
  static uint8_t auth[ETHP2P_RLPX_HS_MAX];
  uint8_t eph[32], nonce[32], pub_b[64], rnd[ETHP2P_RLPX_HS_RANDOM_LEN];
  size_t used = 0, n;
  int rc;
  memset(eph, 0x33, sizeof eph);
  memset(nonce, 0x44, sizeof nonce);
  memset(rnd, 0x55, sizeof rnd);
  if (ethp2p_secp_pubkey(NULL, pub_b, key_b) != 0)
    abort();
  if (ethp2p_rlpx_hs_init(&b, false, key_b, eph, nonce, NULL) != 0)
    abort();
  rc = ethp2p_rlpx_hs_read_auth(&b, data, size, &used);
  check(rc, used, size, &b, false);
  if (rc == 0 && ethp2p_rlpx_hs_write_ack(&b, auth, sizeof auth, &n, rnd) != 0)
    abort();
  if (ethp2p_rlpx_hs_init(&a, true, key_a, eph, nonce, pub_b) != 0 ||
      ethp2p_rlpx_hs_write_auth(&a, auth, sizeof auth, &n, rnd) != 0)
    abort();
  used = 0;
  rc = ethp2p_rlpx_hs_read_ack(&a, data, size, &used);
  check(rc, used, size, &a, true);
  return 0;
}
