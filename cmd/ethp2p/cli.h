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

#include <stddef.h>
#include <stdint.h>

#include "ethp2p/log.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_INVALID 1
#define CLI_EXIT_USAGE 2

/* `ethp2p nat doctor` lives in cmd_doctor.c; cmd_nat.c dispatches to it (argv[0] = "doctor"). */
int ethp2p_cmd_nat_doctor(int argc, char **argv);

/* Reads all of `path` ("-" = stdin) into a fresh buffer of at most max bytes
 * (plus a NUL terminator not counted in *len).  Returns 0 or a negative
 * ETHP2P_E* code (ETOOBIG past max).  The caller frees *out. */
int cli_read_all(const char *path, size_t max, uint8_t **out, size_t *len);

/* Log sink printing go-ethereum-style lines on stderr:
 *   terminal: "INFO [11-22|01:02:03.456] Mapped port    proto=tcp port=30303"
 *   json:     {"t":"...","lvl":"info","module":"nat","msg":"...","kv":"..."}
 * data must point to an int: 0 terminal, 1 json. */
void cli_log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                  const char *kv);

#endif
