/*
 * fuzz/fuzz_enr_keyfile.c — the node key-file parser on arbitrary bytes.
 *
 * Properties: parsing never crashes; a refusal zeroes the key and says why; an
 * accepted file holds a valid secret whose lowercase text equals the file's first
 * 64 characters (case-folded), and that text parses back to the same key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nodekey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_nodekey key, back;
  ethp2p_diag d = {0};
  char text[ETHP2P_NODEKEY_HEX_LEN + 1];

  if (ethp2p_nodekey_parse(&key, data, size, &d) != 0) {
    for (size_t i = 0; i < sizeof key.secret; i++)
      if (key.secret[i] != 0)
        abort();
    if (d.msg[0] == '\0')
      abort();
    return 0;
  }
  if (size < ETHP2P_NODEKEY_HEX_LEN || size > ETHP2P_NODEKEY_HEX_LEN + 2)
    abort();
  if (!ethp2p_nodekey_secret_valid(key.secret))
    abort();
  if (ethp2p_nodekey_format(&key, text, sizeof text) != 0)
    abort();
  for (size_t i = 0; i < ETHP2P_NODEKEY_HEX_LEN; i++) {
    uint8_t c = data[i];
    if (c >= 'A' && c <= 'F')
      c = (uint8_t)(c - 'A' + 'a');
    if ((char)c != text[i])
      abort();
  }
  if (ethp2p_nodekey_parse(&back, (const uint8_t *)text, ETHP2P_NODEKEY_HEX_LEN, NULL) != 0 ||
      memcmp(back.secret, key.secret, sizeof key.secret) != 0)
    abort();
  ethp2p_nodekey_wipe(&key);
  ethp2p_nodekey_wipe(&back);
  return 0;
}
