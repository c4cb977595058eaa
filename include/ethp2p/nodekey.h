/*
 * ethp2p/nodekey.h — node keys: secp256k1 secrets and go-ethereum's key-file format.
 *
 * A node key is 32 bytes that form a valid secp256k1 secret (not zero, less than
 * the curve order n).  Its file form is the one go-ethereum's `nodekey` uses:
 *
 *   64 hexadecimal characters, nothing before them, no "0x" prefix.
 *
 * Writing: ethp2p writes exactly 64 lowercase characters and no newline, into a
 * file created with mode 0600, atomically (temporary file in the same folder,
 * fsync, then link/rename into place, then fsync of the folder).
 *
 * Reading: the same 64 characters, lowercase or uppercase (go-ethereum's hex
 * decoder takes both), optionally followed by at most two line-ending bytes
 * ('\n' or '\r', so "\n" and "\r\n" both work, as in go-ethereum's LoadECDSA).
 * Everything else is refused with a sentence that says what is wrong and where:
 * leading whitespace, a "0x" prefix, trailing spaces or text, non-hex
 * characters, fewer or more than 64 characters, binary junk, a file larger than
 * ETHP2P_NODEKEY_FILE_MAX bytes, the zero key and keys >= n.
 *
 * The file functions are the only I/O in enr/: they touch the file system and
 * nothing else, never print, and are shared by `ethp2p key` and `ethp2p node`.
 *
 * Secrets: every buffer that held key material is wiped before it is released;
 * callers should wipe their ethp2p_nodekey with ethp2p_nodekey_wipe().
 */
#ifndef ETHP2P_NODEKEY_H
#define ETHP2P_NODEKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes in a secret key. */
#define ETHP2P_NODEKEY_SIZE 32
/* Characters in the key-file text (without terminator). */
#define ETHP2P_NODEKEY_HEX_LEN 64
/* Largest key file the loader reads before refusing it (64 + 2 line-end bytes fit easily). */
#define ETHP2P_NODEKEY_FILE_MAX 1024

typedef struct ethp2p_nodekey {
  uint8_t secret[ETHP2P_NODEKEY_SIZE]; /* big-endian scalar, 0 < secret < n */
} ethp2p_nodekey;

/* Options of ethp2p_nodekey_save(). */
#define ETHP2P_NODEKEY_OVERWRITE 1u /* replace an existing file instead of refusing */

/*
 * Returns true if the 32 bytes are a valid secp256k1 secret (0 < s < n).
 * Runs in constant time with respect to the bytes.
 */
bool ethp2p_nodekey_secret_valid(const uint8_t secret[ETHP2P_NODEKEY_SIZE]);

/*
 * Generates a fresh key from the operating system's CSPRNG (getrandom(2)),
 * drawing again in the (astronomically unlikely) case that 32 bytes are not a
 * valid secret.
 * Returns: 0, or ETHP2P_EIO if the random generator failed (key is then zeroed).
 * Out: key.
 */
int ethp2p_nodekey_generate(ethp2p_nodekey *key);

/*
 * Parses the contents of a key file (see the format above).
 * Returns: 0; ETHP2P_ETOOBIG (more than ETHP2P_NODEKEY_FILE_MAX bytes),
 *   ETHP2P_ETRUNC (fewer than 64 characters), ETHP2P_ESYNTAX (non-hex character,
 *   0x prefix, whitespace, trailing bytes), ETHP2P_EKEY (zero or >= n).
 * Out: key (zeroed on failure); diag (may be NULL) gets the reason and byte offset.
 * In: text, len — need not be NUL-terminated; len 0 is "too short".
 */
int ethp2p_nodekey_parse(ethp2p_nodekey *key, const uint8_t *text, size_t len, ethp2p_diag *diag);

/*
 * Writes the 64 lowercase hex characters of key plus a NUL into out.
 * Returns: 0, or ETHP2P_ESPACE if outlen < 65 (out then holds "" if outlen > 0).
 * The caller should wipe out after use: it is the secret.
 */
int ethp2p_nodekey_format(const ethp2p_nodekey *key, char *out, size_t outlen);

/*
 * Loads a key file.
 * Returns: 0; ETHP2P_ENOTFOUND if the file does not exist; ETHP2P_EPERM if it
 *   cannot be read for lack of permission; ETHP2P_EIO for other file errors or
 *   if path is not a regular file; any error of ethp2p_nodekey_parse().
 * Out: key (zeroed on failure); diag (may be NULL) says what was wrong.
 * A key file that group or others may read is accepted, with a warning logged
 * (module "nodekey") because the key should stay private.
 */
int ethp2p_nodekey_load(ethp2p_nodekey *key, const char *path, ethp2p_diag *diag);

/*
 * Saves key to path in the key-file format, mode 0600, atomically: a reader sees
 * either no file (or the old one) or the complete new one, never a partial key.
 * Without ETHP2P_NODEKEY_OVERWRITE an existing path is left untouched.
 * Returns: 0; ETHP2P_EEXIST if path exists and flags lack OVERWRITE;
 *   ETHP2P_EPERM or ETHP2P_EIO on file-system errors; ETHP2P_EKEY if key is not
 *   a valid secret (nothing is written then).
 * In: flags — 0 or ETHP2P_NODEKEY_OVERWRITE.  diag may be NULL.
 */
int ethp2p_nodekey_save(const ethp2p_nodekey *key, const char *path, unsigned flags,
                        ethp2p_diag *diag);

/* Overwrites the secret with zeros in a way the compiler cannot drop. NULL is fine. */
void ethp2p_nodekey_wipe(ethp2p_nodekey *key);

#ifdef __cplusplus
}
#endif
#endif
