/* fuzz/fuzz_enr_record.c — binary ENR decoding and v4 verification.  A decoded record must
 * encode back to exactly the input; every getter and the dump formatter must cope with it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/enr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_enr r;
  ethp2p_diag d;
  uint8_t out[ETHP2P_ENR_MAX_SIZE], id[32], pub64[64], ip[16];
  char buf[1024];
  size_t n = 0, i;
  uint16_t port;
  int rc = ethp2p_enr_decode(&r, data, size, &d);
  if (rc != 0) {
    if (ethp2p_enr_is_signed(&r) || ethp2p_enr_pair_count(&r) != 0)
      abort();
    return 0;
  }
  if (ethp2p_enr_encode(out, sizeof out, &n, &r) != 0 || n != size || memcmp(out, data, n) != 0)
    abort();
  if (ethp2p_enr_encoded_len(&r) != size)
    abort();
  for (i = 0; i < ethp2p_enr_pair_count(&r); i++) {
    ethp2p_rlp_item k, v;
    size_t fl = 0;
    if (ethp2p_enr_pair_at(&r, i, &k, &v) != 0 || k.is_list)
      abort();
    rc = ethp2p_enr_value_format(buf, sizeof buf, &fl, k.payload, k.payload_len, &v);
    if (rc != 0 || strlen(buf) != fl)
      abort();
  }
  (void)ethp2p_enr_id_get(&r, buf, sizeof buf);
  (void)ethp2p_enr_ip_get(&r, ip);
  (void)ethp2p_enr_ip6_get(&r, ip);
  for (i = ETHP2P_ENR_TCP; i <= ETHP2P_ENR_QUIC6; i++)
    (void)ethp2p_enr_port_get(&r, (ethp2p_enr_port)i, &port);
  rc = ethp2p_enr_verify(&r, &d);
  if (rc == 0) {
    if (ethp2p_enr_node_id(id, &r) != 0 || ethp2p_enr_pubkey64(pub64, &r) != 0)
      abort();
  }
  /* a change drops the signature and bumps seq once */
  {
    uint64_t seq = ethp2p_enr_seq(&r);
    rc = ethp2p_enr_bytes_set(&r, "fz", 2, data, size > 8 ? 8 : size);
    if (rc == 0 && !ethp2p_enr_is_signed(&r) && ethp2p_enr_seq(&r) != seq + 1)
      abort();
  }
  return 0;
}
