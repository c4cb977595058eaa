/*
 * core/hex.h — hexadecimal digits and strings, internal to the library.
 * The one decoder behind ethp2p_hex_decode (ethp2p/encoding.h), the HTTP
 * chunk-size parser, enode and key-file parsing; the one encoder behind the
 * metrics labels.  Upper- and lower-case digits are accepted; no prefix
 * ("0x") and no whitespace are.
 */
#ifndef ETHP2P_CORE_HEX_H
#define ETHP2P_CORE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value 0-15 of hex digit c, or -1 if c is not one.  Data-independent
 * timing (no table, no branch on c), so it may read secret key text. */
int ethp2p_hex_digit(int c);

/*
 * Decodes in_len hex digits (an even number) into bytes.
 * Returns: 0; ETHP2P_EINVAL (NULL with a non-zero length); ETHP2P_ESYNTAX
 *   (odd length or a non-digit; *bad_at, when not NULL, is its offset);
 *   ETHP2P_ESPACE (cap < in_len / 2).
 * Out: out[0 .. in_len/2), *out_len (may be NULL) the byte count; on failure
 *   *out_len is 0 and out is unspecified.
 */
int ethp2p_hex_to_bytes(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t in_len,
                        size_t *bad_at);

/*
 * Encodes n bytes as 2n lower-case digits and a NUL.
 * Returns: 0; ETHP2P_ESPACE (cap < 2n + 1: out is "" when cap > 0).
 * Out: out; *out_len (may be NULL) the text length 2n, also on ETHP2P_ESPACE
 *   (the length needed, as every encoder of the library reports it).
 */
int ethp2p_bytes_to_hex(char *out, size_t cap, size_t *out_len, const uint8_t *in, size_t n);

#endif
