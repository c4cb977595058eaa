/*
 * ethp2p/rlp.h — Recursive Length Prefix (RLP) codec: a strict decoder, an
 * encoder into caller buffers and a structure dumper.  Pure code, no I/O, no
 * allocation.
 *
 * Wire format (Ethereum Yellow Paper, appendix B):
 *
 *   byte 0x00..0x7f            the byte itself is a one-byte string
 *   0x80 + n      (n <= 55)    a string of n bytes follows
 *   0xb7 + k, BE length (k)    a string of >= 56 bytes; k = 1..8 length bytes
 *   0xc0 + n      (n <= 55)    a list whose payload is n bytes
 *   0xf7 + k, BE length (k)    a list with a payload of >= 56 bytes
 *
 * The decoder accepts only the canonical encoding of a value: a single byte
 * below 0x80 must stand alone (0x81 0x05 is refused), every length uses its
 * shortest form (short form below 56, no leading zero byte in a long length),
 * the input is not empty, nothing follows the top-level item, and lists nest
 * at most ETHP2P_RLP_MAX_DEPTH deep.  So decode -> encode is the identity on
 * everything the decoder accepts.
 *
 * Views: decoded items are borrowed views into the caller's input buffer; they
 * stay valid as long as that buffer does.
 */
#ifndef ETHP2P_RLP_H
#define ETHP2P_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest list nesting the decoder accepts (a top-level list is depth 1). */
#define ETHP2P_RLP_MAX_DEPTH 32
/* Deepest list nesting the encoder can have open at once (anything the decoder accepts re-encodes).
 */
#define ETHP2P_RLP_ENC_MAX_DEPTH ETHP2P_RLP_MAX_DEPTH
/* Largest header (prefix byte + 8 length bytes). */
#define ETHP2P_RLP_MAX_HEADER 9

/*
 * One decoded item, borrowed from the input buffer.
 *   raw/raw_len          the whole encoding (header + payload)
 *   payload/payload_len  the string bytes, or the concatenated encodings of a list's elements
 *   is_list              true for a list
 *   offset               offset of raw[0] in the top-level input (used in diagnostics)
 */
typedef struct ethp2p_rlp_item {
  const uint8_t *raw;
  size_t raw_len;
  const uint8_t *payload;
  size_t payload_len;
  size_t offset;
  bool is_list;
} ethp2p_rlp_item;

/*
 * Decodes one top-level item and checks the whole tree below it.
 * Returns: 0, or
 *   ETHP2P_ETRUNC     empty input, or a header/payload runs past the end (of the input or of the
 *                     enclosing list)
 *   ETHP2P_ENONCANON  a non-canonical form (single byte wrapped, short length in long form,
 *                     leading zero in a long length)
 *   ETHP2P_ETRAILING  bytes after the top-level item
 *   ETHP2P_EDEPTH     lists nest deeper than ETHP2P_RLP_MAX_DEPTH
 *   ETHP2P_ETOOBIG    a length does not fit in size_t
 *   ETHP2P_EINVAL     out or in is NULL (in may be NULL when in_len is 0; that is ETRUNC)
 * Out: *out is the top-level item (zeroed on failure); diag (may be NULL) says what and where.
 * In:  in/in_len, borrowed; out's pointers point into it.
 */
int ethp2p_rlp_decode(ethp2p_rlp_item *out, const uint8_t *in, size_t in_len, ethp2p_diag *diag);

/*
 * Like ethp2p_rlp_decode, but reads one item at the start of in and reports how
 * many bytes it used instead of refusing trailing bytes.  base_offset is added to
 * the offsets in the item and in diag (pass 0 for a fresh buffer).
 * Returns: the same codes as ethp2p_rlp_decode except ETHP2P_ETRAILING.
 * Out: *out, *used (may be NULL).
 */
int ethp2p_rlp_decode_prefix(ethp2p_rlp_item *out, size_t *used, const uint8_t *in, size_t in_len,
                             size_t base_offset, ethp2p_diag *diag);

/*
 * List iteration.  An iterator walks the elements of a list item (it never
 * allocates).  Each element's header is checked again (canonical forms, bounds),
 * so an iterator is safe on any item, including one that was not produced by
 * ethp2p_rlp_decode; nested lists are not descended into.
 */
typedef struct ethp2p_rlp_iter {
  const uint8_t *pos;
  const uint8_t *end;
  size_t offset; /* offset of pos in the top-level input */
} ethp2p_rlp_iter;

/* Starts iterating the elements of list.  Returns 0, or ETHP2P_ETYPE if list is not a list. */
int ethp2p_rlp_iter_init(ethp2p_rlp_iter *it, const ethp2p_rlp_item *list);
/* Returns 1 and fills *out with the next element, 0 at the end of the list, or a negative
 * decoding error (see ethp2p_rlp_decode) with diag filled. */
int ethp2p_rlp_iter_next(ethp2p_rlp_iter *it, ethp2p_rlp_item *out, ethp2p_diag *diag);
/* Counts the elements of a list.  Returns the count (>= 0) or a negative error. */
int ethp2p_rlp_list_count(const ethp2p_rlp_item *list, ethp2p_diag *diag);

/*
 * Reads a canonical unsigned integer: a string of at most 8 bytes without a
 * leading zero byte (0 is the empty string 0x80).
 * Returns: 0, ETHP2P_ETYPE (a list), ETHP2P_ERANGE (more than 8 bytes) or
 * ETHP2P_ENONCANON (leading zero byte).  *out is 0 on failure.
 */
int ethp2p_rlp_uint64(uint64_t *out, const ethp2p_rlp_item *item, ethp2p_diag *diag);

/* Number of bytes of the header for a string/list with a payload of len bytes
 * (for a one-byte string whose byte is < 0x80 the header is 0: use
 * ethp2p_rlp_bytes_len for strings). */
size_t ethp2p_rlp_header_len(size_t payload_len);
/* Encoded length of the string data[0..len). */
size_t ethp2p_rlp_bytes_len(const uint8_t *data, size_t len);
/* Encoded length of the canonical integer v. */
size_t ethp2p_rlp_uint64_len(uint64_t v);
/* Writes a list or string header for payload_len into out (at least ETHP2P_RLP_MAX_HEADER
 * bytes).  Returns the header length. */
size_t ethp2p_rlp_header_put(uint8_t *out, size_t payload_len, bool is_list);

/*
 * Encoder into a caller buffer with a cap.  Errors are sticky: after the first
 * failure every call returns the same error and the buffer content is
 * unspecified.  Lists are opened and closed; on close the payload is moved
 * right to make room for the header, so the output is canonical.
 *
 *   ethp2p_rlp_enc e;
 *   ethp2p_rlp_enc_init(&e, buf, sizeof buf);
 *   ethp2p_rlp_enc_list_begin(&e);
 *   ethp2p_rlp_enc_uint64(&e, 1);
 *   ethp2p_rlp_enc_bytes(&e, "v4", 2);
 *   ethp2p_rlp_enc_list_end(&e);
 *   if (ethp2p_rlp_enc_finish(&e, &len) == 0) ... buf[0..len) ...
 */
typedef struct ethp2p_rlp_enc {
  uint8_t *buf;
  size_t cap;
  size_t len;
  int err;
  unsigned depth;
  size_t open[ETHP2P_RLP_ENC_MAX_DEPTH];
} ethp2p_rlp_enc;

/* Starts encoding into buf[0..cap).  buf is borrowed until finish. */
void ethp2p_rlp_enc_init(ethp2p_rlp_enc *e, uint8_t *buf, size_t cap);
/* Appends a string.  Returns 0 or ETHP2P_ESPACE. */
int ethp2p_rlp_enc_bytes(ethp2p_rlp_enc *e, const void *data, size_t len);
/* Appends a canonical unsigned integer.  Returns 0 or ETHP2P_ESPACE. */
int ethp2p_rlp_enc_uint64(ethp2p_rlp_enc *e, uint64_t v);
/* Appends an already encoded item verbatim (not checked; use data from the decoder).
 * Returns 0 or ETHP2P_ESPACE. */
int ethp2p_rlp_enc_raw(ethp2p_rlp_enc *e, const void *raw, size_t len);
/* Opens a list.  Returns 0, ETHP2P_EDEPTH (too many open lists) or ETHP2P_ESPACE. */
int ethp2p_rlp_enc_list_begin(ethp2p_rlp_enc *e);
/* Closes the innermost open list.  Returns 0, ETHP2P_ESTATE (none open) or ETHP2P_ESPACE. */
int ethp2p_rlp_enc_list_end(ethp2p_rlp_enc *e);
/* Ends encoding.  Returns 0 with *len set (may be NULL), the sticky error, or
 * ETHP2P_ESTATE if a list is still open. */
int ethp2p_rlp_enc_finish(ethp2p_rlp_enc *e, size_t *len);

/*
 * Re-encodes an item tree from its decoded structure (strings through
 * ethp2p_rlp_enc_bytes, lists through begin/end), not by copying raw bytes.
 * Used by tests and fuzzers to check decode -> encode == input.
 * Returns 0 or an encoder/iterator error.
 */
int ethp2p_rlp_reencode(ethp2p_rlp_enc *e, const ethp2p_rlp_item *item);

/*
 * Writes the structure of item as text, like go-ethereum's rlpdump:
 *   - a string of printable ASCII (0x20..0x7e) or an empty string: "text" (with \" and \\ escaped)
 *   - any other string: lowercase hex without 0x
 *   - an empty list: []
 *   - a list: "[\n", its elements one per line indented two spaces per level and
 *     separated by ",\n", then "\n" and "]" at the list's own indentation.
 * No trailing newline.  out is always NUL-terminated when cap > 0.
 * Returns: 0; ETHP2P_ESPACE if the text (plus NUL) does not fit in cap bytes (the
 * text is truncated); or an iterator error for an item that was not decoded strictly.
 * Out: *text_len (may be NULL) = the full text length without the NUL, also on ESPACE,
 * so a caller can size a buffer and retry.
 */
int ethp2p_rlp_dump(char *out, size_t cap, size_t *text_len, const ethp2p_rlp_item *item);

#ifdef __cplusplus
}
#endif
#endif
