/*
 * cmd/ethp2p/main.c — the `ethp2p` binary: dispatches to one subcommand.
 *
 * Subcommands are weak symbols, each defined in its own cmd_<name>.c.  Adding
 * one means one row in ETHP2P_COMMANDS below and its file; a row whose file is
 * not built is left out of the help and answers "unknown command".
 */
#include <stdio.h>
#include <string.h>

#include "cmd/ethp2p/cli.h"

#define ETHP2P_COMMANDS(X)                                                                   \
  X(node, "run a node: key, record, listeners, port mapping")                               \
  X(sim, "run the node in the simulated world and print a timeline")                        \
  X(enr, "decode, verify and explain Ethereum Node Records")                                \
  X(key, "generate node keys and derive IDs, enode URLs and records")                       \
  X(rlp, "dump and check RLP")                                                              \
  X(nat, "talk to the gateway: extip, map, unmap, doctor")                                  \
  X(gateway, "run a UPnP IGD / NAT-PMP / PCP gateway emulator")                            \
  X(discv4, "talk discovery v4 to a node: ping, resolve, requestenr, crawl")                \
  X(discv5, "talk discovery v5 to a node: ping, resolve, crawl, listen")                    \
  X(rlpx, "talk RLPx to a node: ping (handshake and Hello)")                                \
  X(version, "print the version")

#define DECLARE_CMD(name, help) int ethp2p_cmd_##name(int argc, char **argv) __attribute__((weak));
ETHP2P_COMMANDS(DECLARE_CMD)
#undef DECLARE_CMD

struct command {
  const char *name;
  const char *help;
  int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
#define ROW(name, help) {#name, help, ethp2p_cmd_##name},
    ETHP2P_COMMANDS(ROW)
#undef ROW
};

static void usage(FILE *out) {
  fprintf(out, "ethp2p — Ethereum node identity and NAT traversal\n\n"
               "Usage: ethp2p <command> [options]\n\nCommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (commands[i].fn != NULL)
      fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
  fprintf(out, "\nRun 'ethp2p <command> --help' for the options of a command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    /* The one version: project(ethp2p VERSION ...) in CMakeLists.txt. */
    printf("ethp2p %s\n", ETHP2P_VERSION_STRING);
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name) == 0 && commands[i].fn != NULL)
      return commands[i].fn(argc - 1, argv + 1);
  }
  fprintf(stderr, "ethp2p: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return CLI_EXIT_USAGE;
}
