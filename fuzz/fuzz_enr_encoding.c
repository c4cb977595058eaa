/*
 * fuzz/fuzz_enr_encoding.c — the hex and base64url text decoders of
 * include/ethp2p/encoding.h (key files, `enr:` text, CLI arguments).
 * Properties: no crash; a failure leaves *out_len 0 and a diag offset inside
 * the text; base64url is canonical (decode -> encode gives the same text,
 * encoding.h: "every byte string has exactly one accepted text"); hex decode
 * -> encode gives the same digits up to case and the "0x" prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/encoding.h"

#define CAP 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t bin[CAP];
  static char text[2 * CAP + 8];
  const char *in = (const char *)data;
  ethp2p_diag diag;
  size_t n = 77, tn;

  if (size > CAP)
    size = CAP;
  /* base64url */
  if (ethp2p_base64url_decode(bin, sizeof bin, &n, in, size, &diag) == 0) {
    if (ethp2p_base64url_encode(text, sizeof text, &tn, bin, n) != 0 || tn != size ||
        memcmp(text, in, size) != 0)
      abort();
  } else if (n != 0 || diag.offset > size) {
    abort();
  }
  /* hex, with and without a room limit */
  n = 77;
  if (ethp2p_hex_decode(bin, sizeof bin, &n, in, size, &diag) == 0) {
    size_t skip = size >= 2 && in[0] == '0' && (in[1] == 'x' || in[1] == 'X') ? 2 : 0;
    if (ethp2p_hex_encode(text, sizeof text, &tn, bin, n) != 0 || tn != size - skip)
      abort();
    for (size_t i = 0; i < tn; i++) {
      char c = in[skip + i];
      if (c >= 'A' && c <= 'F')
        c = (char)(c - 'A' + 'a');
      if (c != text[i])
        abort();
    }
  } else if (n != 0 || diag.offset > size) {
    abort();
  }
  n = 77;
  if (ethp2p_hex_decode(bin, 4, &n, in, size, NULL) == 0 && n > 4)
    abort();
  return 0;
}
