/*
 * ethp2p/encoding.h — hex and base64url (RFC 4648 section 5, no padding).
 * Pure functions over caller buffers; no allocation.
 *
 * Text inputs are (pointer, length) pairs and need not be NUL-terminated.
 * Text outputs are always NUL-terminated on success, and the returned length
 * excludes the NUL.
 */
#ifndef ETHP2P_ENCODING_H
#define ETHP2P_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Characters needed to hex-encode n bytes (without NUL). */
#define ETHP2P_HEX_LEN(n) ((n)*2)
/* Characters needed to base64url-encode n bytes without padding (without NUL). */
#define ETHP2P_BASE64URL_LEN(n) (((n) / 3) * 4 + (((n) % 3) ? ((n) % 3) + 1 : 0))
/* Upper bound of the bytes decoded from n base64url characters. */
#define ETHP2P_BASE64URL_DECODED_MAX(n) (((n) / 4) * 3 + 2)

/*
 * Lowercase hex of in[0..in_len) into out, NUL-terminated.
 * Returns 0, or ETHP2P_ESPACE if cap < 2*in_len + 1 (out untouched then).
 * Out: *out_len (may be NULL) = 2*in_len.
 */
int ethp2p_hex_encode(char *out, size_t cap, size_t *out_len, const uint8_t *in, size_t in_len);

/*
 * Decodes hex text: an optional "0x" or "0X" prefix, then pairs of digits in
 * either case.  Nothing else (no spaces, no newline).
 * Returns: 0;
 *   ETHP2P_ESYNTAX  odd number of digits, or a character that is not a hex digit
 *                   (diag->offset = its offset in the text, prefix included)
 *   ETHP2P_ESPACE   the result does not fit in cap bytes
 * Out: out[0..*out_len); on failure *out_len = 0 and out's content is unspecified.
 * Empty text (or just "0x") decodes to zero bytes.
 */
int ethp2p_hex_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t in_len,
                      ethp2p_diag *diag);

/*
 * base64url (alphabet A-Z a-z 0-9 - _) without padding, NUL-terminated.
 * Returns 0 or ETHP2P_ESPACE if cap < ETHP2P_BASE64URL_LEN(in_len) + 1.
 * Out: *out_len (may be NULL).
 */
int ethp2p_base64url_encode(char *out, size_t cap, size_t *out_len, const uint8_t *in,
                            size_t in_len);

/*
 * Strict base64url decoding without padding.  Refuses, with the offset of the
 * offending character in diag:
 *   '=' anywhere, any character outside the alphabet (including '+', '/',
 *   whitespace)                                         -> ETHP2P_ESYNTAX
 *   a length of 1 mod 4 (a lone 6-bit group)            -> ETHP2P_ESYNTAX
 *   non-zero unused bits in the last character          -> ETHP2P_ENONCANON
 *   output larger than cap                              -> ETHP2P_ESPACE
 * So every byte string has exactly one accepted text.
 * Out: out[0..*out_len); *out_len = 0 on failure.
 */
int ethp2p_base64url_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in,
                            size_t in_len, ethp2p_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
