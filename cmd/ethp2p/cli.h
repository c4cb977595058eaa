/*
 * cmd/ethp2p/cli.h — what every `ethp2p` subcommand shares.
 *
 * Each subcommand lives in cmd_<name>.c and defines
 *   int ethp2p_cmd_<name>(int argc, char **argv);   // argv[0] is the subcommand name
 * returning the process exit code.  Exit codes: 0 success, 1 invalid input or a
 * failed operation, 2 usage error.  Only cmd/ prints to stdout/stderr.
 */
#ifndef ETHP2P_CMD_CLI_H
#define ETHP2P_CMD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/log.h"
#include "ethp2p/nat.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_INVALID 1
#define CLI_EXIT_USAGE 2

/* `ethp2p nat doctor` lives in cmd_doctor.c; cmd_nat.c dispatches to it (argv[0] = "doctor"). */
int ethp2p_cmd_nat_doctor(int argc, char **argv);

/* Reads all of `path` ("-" = stdin) into a fresh buffer of at most max bytes
 * (plus a NUL terminator not counted in *len).  Returns 0 or a negative
 * ETHP2P_E* code (ETOOBIG past max).  The caller frees *out. */
int cli_read_all(const char *path, size_t max, uint8_t **out, size_t *len);

/* Log formats for cli_log_sink (the int its data points to). */
#define CLI_LOG_TERMINAL 0
#define CLI_LOG_JSON 1
#define CLI_LOG_LOGFMT 2

/* Log sink printing go-ethereum-style lines on stderr:
 *   terminal: "INFO [11-22|01:02:03.456] Mapped port    proto=tcp port=30303"
 *   json:     {"t":"2026-11-22T01:02:03.456+01:00","lvl":"info","msg":"Mapped port",
 *              "module":"nat","proto":"tcp","port":30303}
 *             (every key=value pair a top-level member; decimal values as numbers)
 *   logfmt:   t=2026-11-22T01:02:03.456+01:00 lvl=info msg="Mapped port" module=nat proto=tcp ...
 * Timestamps of json and logfmt are RFC 3339 with the local zone offset.
 * data must point to an int: CLI_LOG_TERMINAL, CLI_LOG_JSON or CLI_LOG_LOGFMT. */
void cli_log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                  const char *kv);

/* Parses a --log.format value: "terminal", "json" or "logfmt" (as geth).
 * Returns the CLI_LOG_* value or -1. */
int cli_log_format_parse(const char *s);

/* Decimal 0..max, the whole string (no sign, no spaces).  Returns true and sets *out. */
bool cli_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* A duration: "500ms", "30s", "10m", "2h", "1d" or plain seconds; a whole number
 * of its unit, > 0 and at most 30 days.  Returns true and sets *out_ms (milliseconds). */
bool cli_parse_duration(const char *s, uint64_t *out_ms);

/* Rewrites Go flag-package spellings in place so getopt-style parsers accept them:
 * "-name" and "-name=value" with a name of two or more characters become "--name"
 * and "--name=value" (argv entries are replaced by pointers into a static pool
 * that lives until exit).  Arguments after "--" and single-letter options are
 * left alone, as is "-" (stdin).  Returns argc. */
int cli_go_flags(int argc, char **argv);
/* Resolves the host names of a stun spec's server list (the default list when
 * it is empty) to IPv4 literals, in place: the library takes IP literals only.
 * Names that do not resolve are reported on stderr as "<who>: cannot resolve
 * STUN server HOST" and dropped.  Returns 0, or -1 (with a message) when none is left. */
int cli_resolve_stun(ethp2p_nat_spec *spec, const char *who);
/* The --nat checks the library's parser leaves to the commands: NAT-PMP is
 * IPv4-only (RFC 6886 §3); PCP over IPv6 and an IPv6 extip (the record's ip6) are
 * not supported yet.  Prints "<who>: invalid --nat ..." and returns -1, or 0. */
int cli_check_nat_family(const ethp2p_nat_spec *spec, const char *text, const char *who);
/* Error positions, one origin everywhere: the commands print a problem in text
 * input as "(at character N of the input)", N counted from 0 at the first byte
 * the user gave (whitespace and prefixes included), and a problem in decoded
 * bytes as "(at byte N of the record)" / "(at byte N of the RLP data)".  This
 * removes the library's own notes from a diag message, which count from other
 * origins: " at offset N" and " (byte N of the decoded record)".  Returns true
 * when the latter was present (the error is in the decoded bytes). */
bool cli_strip_positions(char *msg);

#endif
