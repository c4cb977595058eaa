/* core/hex.c — see core/hex.h. */
#include "core/hex.h"

#include <stdint.h>

#include "ethp2p/error.h"

int ethp2p_hex_digit(int c) {
  /* Each range test yields an all-ones mask (via the sign bit) or zero. */
  int d = c - '0', l = (c | 0x20) - 'a';
  int is_d = ((d >= 0) & (d <= 9));
  int is_l = ((l >= 0) & (l <= 5));
  return (d & -is_d) | ((l + 10) & -is_l) | (-1 & -(1 - (is_d | is_l)));
}

int ethp2p_hex_to_bytes(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t in_len,
                        size_t *bad_at) {
  if (out_len != NULL)
    *out_len = 0;
  if ((in == NULL && in_len > 0) || (out == NULL && cap > 0))
    return ETHP2P_EINVAL;
  if (in_len % 2 != 0) {
    if (bad_at != NULL)
      *bad_at = in_len;
    return ETHP2P_ESYNTAX;
  }
  if (cap < in_len / 2)
    return ETHP2P_ESPACE;
  for (size_t i = 0; i < in_len; i += 2) {
    int hi = ethp2p_hex_digit((unsigned char)in[i]),
        lo = ethp2p_hex_digit((unsigned char)in[i + 1]);
    if (hi < 0 || lo < 0) {
      if (bad_at != NULL)
        *bad_at = hi < 0 ? i : i + 1;
      return ETHP2P_ESYNTAX;
    }
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  if (out_len != NULL)
    *out_len = in_len / 2;
  return 0;
}

int ethp2p_bytes_to_hex(char *out, size_t cap, size_t *out_len, const uint8_t *in, size_t n) {
  static const char digits[] = "0123456789abcdef";
  if (n > (SIZE_MAX - 1) / 2)
    return ETHP2P_ESPACE;
  if (out_len != NULL)
    *out_len = 2 * n;
  if (out == NULL || cap < 2 * n + 1) {
    if (out != NULL && cap > 0)
      out[0] = '\0';
    return ETHP2P_ESPACE;
  }
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
  return 0;
}
