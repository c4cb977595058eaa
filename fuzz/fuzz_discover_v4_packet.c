/*
 * fuzz/fuzz_discover_v4_packet.c — the discv4 packet decoder
 * (p2p/discover/v4_codec.c).
 * The input is tried twice: as a raw datagram, and as type byte + packet-data
 * wrapped in a valid hash and signature (so the fuzzer reaches the body
 * decoders).  Properties: no crash, no leak; a decoded body re-encodes and
 * decodes to the same type and expiration; the sender key recovers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discv4.h"
#include "ethp2p/keccak.h"
#include "ethp2p/secp.h"

static const uint8_t KEY[32] = {0x45, 0xa9, 0x15, 0xe4, 0xd0, 0x60, 0x14, 0x9e, 0xb4, 0x36, 0x59,
                                0x60, 0xe6, 0xa7, 0xa4, 0x5f, 0x33, 0x43, 0x93, 0x09, 0x30, 0x61,
                                0x11, 0x6b, 0x19, 0x7e, 0x32, 0x40, 0x06, 0x5f, 0xf2, 0xd8};

static ethp2p_discv4_packet p, back;

static void check(const uint8_t *pkt, size_t len) {
  uint8_t who[64], buf[ETHP2P_DISCV4_MAX_PACKET];
  size_t n;
  ethp2p_diag diag;
  if (ethp2p_discv4_decode(&p, who, NULL, pkt, len, &diag) != 0)
    return;
  if (p.type == ETHP2P_DISCV4_NEIGHBORS && p.u.neighbors.n > ETHP2P_DISCV4_NEIGHBORS_PER_PACKET)
    return; /* more than we send in one packet */
  int rc = ethp2p_discv4_encode(buf, sizeof buf, &n, NULL, &p, KEY);
  if (rc == ETHP2P_ETOOBIG || rc == ETHP2P_EINVAL)
    return; /* e.g. neighbors with an IP-less node are not sent */
  if (rc != 0)
    abort();
  if (ethp2p_discv4_decode(&back, NULL, NULL, buf, n, NULL) != 0 || back.type != p.type ||
      back.expiration != p.expiration)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t pkt[ETHP2P_DISCV4_MAX_PACKET];
  uint8_t h[32];
  check(data, size);
  if (size < 1 || size > ETHP2P_DISCV4_MAX_PACKET - 97)
    return 0;
  memcpy(pkt + 97, data, size);
  ethp2p_keccak256(h, pkt + 97, size);
  if (ethp2p_secp_sign_recoverable(pkt + 32, h, KEY) != 0)
    abort();
  ethp2p_keccak256(pkt, pkt + 32, 65 + size);
  check(pkt, 97 + size);
  return 0;
}
