/* fuzz/fuzz_discover_v5_packet.c — discv5 packets from outside, for a node with the fixed key
 * node-b-key of the spec's test vectors (so the seeds are the spec's packets):
 *   - the codec decodes the raw bytes, and a copy whose header bytes were pre-masked with the
 *     node's ID (so mutations reach the authdata parsers instead of dying at protocol-id);
 *   - a decoded packet re-encodes to the same head and its message is opened;
 *   - the message decoder reads the bytes as a message-pt;
 *   - a discv5 node (behind a mux send function that drops everything) handles both copies,
 *     on the simulated environment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/discv5.h"
#include "ethp2p/sim.h"
#include "p2p/discover/v5wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t b_key[32] = {0x66, 0xfb, 0x62, 0xbf, 0xbd, 0x66, 0xb9, 0x17, 0x7a, 0x13, 0x8c,
                                  0x1e, 0x5c, 0xdd, 0xbe, 0x4f, 0x7c, 0x30, 0xc3, 0x43, 0xe9, 0x4e,
                                  0x68, 0xdf, 0x87, 0x69, 0x45, 0x9c, 0xb1, 0xcd, 0xe6, 0x28};
static uint8_t b_id[32];
static ethp2p_sim *world;
static ethp2p_discv5 *node;

static int drop(void *data, const ethp2p_addr *to, const uint8_t *buf, size_t len) {
  (void)data;
  (void)to;
  if (len > ETHP2P_V5_MAX_PACKET)
    abort(); /* the node never sends an oversized packet */
  (void)buf;
  return 0;
}

static void init(void) {
  ethp2p_sim_host *h;
  ethp2p_enr rec;
  if (ethp2p_sim_create(&world, 1) != 0 || ethp2p_sim_host_create_public(world, &h, "b", NULL))
    abort();
  ethp2p_enr_init(&rec);
  if (ethp2p_enr_seq_set(&rec, 1) != 0 || ethp2p_enr_sign(&rec, b_key) != 0 ||
      ethp2p_enr_node_id(b_id, &rec) != 0)
    abort();
  ethp2p_discv5_config cfg = {.secret = b_key, .record = &rec, .send = drop, .session_cap = 8};
  if (ethp2p_discv5_create(ethp2p_sim_host_env(h), &cfg, &node) != 0)
    abort();
}

static void one(const uint8_t *buf, size_t size) {
  uint8_t scratch[ETHP2P_V5_HEADER_MAX], pt[ETHP2P_V5_MAX_PACKET];
  ethp2p_v5_packet p;
  ethp2p_diag d;
  size_t n;
  if (ethp2p_v5_packet_decode(&p, scratch, b_id, buf, size, &d) == 0) {
    if (p.head_len + p.msg_len != size || p.authdata_len + 39 != p.head_len)
      abort();
    static const uint8_t zero[16];
    (void)ethp2p_v5_packet_open(pt, sizeof pt, &n, &p, zero);
  }
  ethp2p_addr from = ethp2p_addr_v4(20, 0, 0, 9, 9000);
  (void)ethp2p_discv5_handle_packet(node, &from, buf, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t copy[ETHP2P_V5_MAX_PACKET + 64];
  if (node == NULL)
    init();
  one(data, size);
  ethp2p_v5_msg m;
  (void)ethp2p_v5_msg_decode(&m, data, size, NULL);
  if (size > ETHP2P_V5_IV_LEN && size <= sizeof copy) {
    memcpy(copy, data, size);
    if (ethp2p_aes_ctr_once(copy + 16, data + 16, size - 16, b_id, 16, data) != 0)
      abort();
    one(copy, size);
  }
  ethp2p_sim_run(world, ETHP2P_SEC); /* timers of whatever the packets started */
  return 0;
}
