/*
 * enr/encoding.c — hex and strict unpadded base64url (RFC 4648 sections 5 and 3.5:
 * "the pad bits MUST be set to zero by conforming encoders"; we also reject
 * them on decode so every byte string has exactly one text).
 */
#include "ethp2p/encoding.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int ethp2p_hex_encode(char *out, size_t cap, size_t *out_len, const uint8_t *in, size_t in_len) {
  size_t i;
  if (out_len != NULL)
    *out_len = 0;
  if (out == NULL || in_len > (SIZE_MAX - 1) / 2 || cap < 2 * in_len + 1)
    return ETHP2P_ESPACE;
  for (i = 0; i < in_len; i++) {
    out[2 * i] = hex_digits[in[i] >> 4];
    out[2 * i + 1] = hex_digits[in[i] & 15];
  }
  out[2 * in_len] = '\0';
  if (out_len != NULL)
    *out_len = 2 * in_len;
  return 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void describe_char(char *buf, size_t n, char c) {
  unsigned char u = (unsigned char)c;
  if (u >= 0x21 && u <= 0x7e) {
    buf[0] = '\'';
    buf[1] = c;
    buf[2] = '\'';
    buf[3] = '\0';
  } else {
    static const char h[] = "0123456789abcdef";
    if (n < 5)
      return;
    buf[0] = '0';
    buf[1] = 'x';
    buf[2] = h[u >> 4];
    buf[3] = h[u & 15];
    buf[4] = '\0';
  }
}

int ethp2p_hex_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t in_len,
                      ethp2p_diag *diag) {
  size_t start = 0, i, n;
  char what[8];
  *out_len = 0;
  if (in == NULL && in_len > 0)
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "no input");
  if (in_len >= 2 && in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
    start = 2;
  for (i = start; i < in_len; i++) {
    if (hex_value(in[i]) < 0) {
      describe_char(what, sizeof what, in[i]);
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "invalid hex character %s at offset %zu",
                             what, i);
    }
  }
  if ((in_len - start) % 2 != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, in_len, "odd number of hex digits (%zu)",
                           in_len - start);
  n = (in_len - start) / 2;
  if (n > cap)
    return ethp2p_diag_set(diag, ETHP2P_ESPACE, start,
                           "hex decodes to %zu bytes, at most %zu allowed", n, cap);
  for (i = 0; i < n; i++)
    out[i] = (uint8_t)(hex_value(in[start + 2 * i]) << 4 | hex_value(in[start + 2 * i + 1]));
  *out_len = n;
  return 0;
}

int ethp2p_base64url_encode(char *out, size_t cap, size_t *out_len, const uint8_t *in,
                            size_t in_len) {
  size_t need, i, o = 0;
  uint32_t v;
  if (out_len != NULL)
    *out_len = 0;
  if (in_len > (SIZE_MAX / 4) * 3 - 3)
    return ETHP2P_ESPACE;
  need = ETHP2P_BASE64URL_LEN(in_len);
  if (out == NULL || cap < need + 1)
    return ETHP2P_ESPACE;
  for (i = 0; i + 3 <= in_len; i += 3) {
    v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
    out[o++] = b64url[v & 63];
  }
  if (in_len - i == 1) {
    v = (uint32_t)in[i] << 16;
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
  } else if (in_len - i == 2) {
    v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
  }
  out[o] = '\0';
  if (out_len != NULL)
    *out_len = o;
  return 0;
}

static int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

int ethp2p_base64url_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in,
                            size_t in_len, ethp2p_diag *diag) {
  size_t i, n, o = 0, rem;
  uint32_t acc = 0;
  int bits = 0, v;
  char what[8];
  *out_len = 0;
  if (in == NULL && in_len > 0)
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "no input");
  for (i = 0; i < in_len; i++) {
    if (b64url_value(in[i]) < 0) {
      if (in[i] == '=')
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i,
                               "padding '=' at offset %zu is not allowed in base64url", i);
      describe_char(what, sizeof what, in[i]);
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i,
                             "invalid base64url character %s at offset %zu", what, i);
    }
  }
  rem = in_len % 4;
  if (rem == 1)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, in_len - 1,
                           "base64url length %zu is impossible (a lone character at the end)",
                           in_len);
  n = in_len / 4 * 3 + (rem == 0 ? 0 : rem - 1);
  if (n > cap)
    return ethp2p_diag_set(diag, ETHP2P_ESPACE, 0,
                           "base64url decodes to %zu bytes, at most %zu allowed", n, cap);
  for (i = 0; i < in_len; i++) {
    v = b64url_value(in[i]);
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  /* Unused low bits of the last character (2 or 4 of them) must be zero. */
  if (bits > 0 && acc != 0) {
    *out_len = 0;
    return ethp2p_diag_set(diag, ETHP2P_ENONCANON, in_len - 1,
                           "non-zero unused bits in the last base64url character at offset %zu",
                           in_len - 1);
  }
  *out_len = o;
  return 0;
}
