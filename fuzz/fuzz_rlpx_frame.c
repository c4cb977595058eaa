/* fuzz/fuzz_rlpx_frame.c — frames on outside bytes.  Two codecs share secrets
 * derived from fixed handshake values.  (1) The input is opened as a stream of
 * frames by the ingress side: header MACs must fail on junk, the announced size is
 * bounded by the limit, and nothing reads past the input.  (2) The input is sealed
 * as a body by the other side and must open to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT 65536

static void secrets(ethp2p_rlpx_secrets *s, bool initiator) {
  uint8_t eph_a[32], eph_b[32], pub_a[64], pub_b[64], n1[32], n2[32];
  memset(eph_a, 0x21, 32);
  memset(eph_b, 0x42, 32);
  memset(n1, 1, 32);
  memset(n2, 2, 32);
  if (ethp2p_secp_pubkey(NULL, pub_a, eph_a) != 0 || ethp2p_secp_pubkey(NULL, pub_b, eph_b) != 0)
    abort();
  if (ethp2p_rlpx_secrets_derive(s, initiator, initiator ? eph_a : eph_b, initiator ? pub_b : pub_a,
                                 n1, n2, (const uint8_t *)"auth", 4, (const uint8_t *)"ack", 3,
                                 NULL) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t buf[LIMIT + 64], wire[LIMIT + 64];
  ethp2p_rlpx_secrets sa, sb;
  ethp2p_rlpx_frame *fa = NULL, *fb = NULL;
  size_t off = 0, body_len, need, len;
  if (size > LIMIT)
    return 0;
  secrets(&sa, true);
  secrets(&sb, false);
  if (ethp2p_rlpx_frame_create(&fa, &sa) != 0 || ethp2p_rlpx_frame_create(&fb, &sb) != 0)
    abort();
  /* (1) junk as frames */
  while (size - off >= ETHP2P_RLPX_FRAME_HEADER) {
    int rc = ethp2p_rlpx_frame_open_header(fb, data + off, LIMIT, &body_len, &need);
    if (rc != 0)
      break;
    if (body_len > LIMIT || need != ((body_len + 15) & ~(size_t)15) + 16)
      abort();
    off += ETHP2P_RLPX_FRAME_HEADER;
    if (size - off < need)
      break;
    memcpy(buf, data + off, need);
    if (ethp2p_rlpx_frame_open_body(fb, buf, need) != 0)
      break;
    off += need;
  }
  ethp2p_rlpx_frame_destroy(fb);
  fb = NULL;
  if (ethp2p_rlpx_frame_create(&fb, &sb) != 0)
    abort();
  /* (2) the input as a body: seal, open, compare */
  if (ethp2p_rlpx_frame_seal(fa, wire, sizeof wire, &len, data, size) != 0)
    abort();
  if (ethp2p_rlpx_frame_open_header(fb, wire, LIMIT, &body_len, &need) != 0 || body_len != size ||
      ETHP2P_RLPX_FRAME_HEADER + need != len)
    abort();
  if (ethp2p_rlpx_frame_open_body(fb, wire + ETHP2P_RLPX_FRAME_HEADER, need) != 0)
    abort();
  if (size > 0 && memcmp(wire + ETHP2P_RLPX_FRAME_HEADER, data, size) != 0)
    abort();
  ethp2p_rlpx_frame_destroy(fa);
  ethp2p_rlpx_frame_destroy(fb);
  return 0;
}
