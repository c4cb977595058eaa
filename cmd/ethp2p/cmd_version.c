/*
 * cmd/ethp2p/cmd_version.c — `ethp2p version`: what this binary is, laid out as
 * `geth version` (a name line, then "Key: value" lines).
 *
 * The version string is ETHP2P_VERSION_STRING, the same define p2p/metrics.c
 * reports as ethp2p_build_info; the build may set it from CMake's
 * PROJECT_VERSION, and both fall back to the same literal.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <uv.h>

#include "cmd/ethp2p/cli.h"

#ifndef ETHP2P_VERSION_STRING
#define ETHP2P_VERSION_STRING "0.1.0"
#endif

static const char version_help[] = "Usage: ethp2p version\n"
                                   "\n"
                                   "Prints the version of ethp2p and of the libraries it runs on.\n"
                                   "(`ethp2p --version` prints \"ethp2p <version>\" only.)\n";

int ethp2p_cmd_version(int argc, char **argv) {
  struct utsname u;
  if (argc > 1) {
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
      fputs(version_help, stdout);
      return CLI_EXIT_OK;
    }
    fprintf(stderr, "ethp2p version: unexpected argument \"%s\"\n%s", argv[1], version_help);
    return CLI_EXIT_USAGE;
  }
  printf("ethp2p\n");
  printf("Version: %s\n", ETHP2P_VERSION_STRING);
  if (uname(&u) == 0) {
    printf("Architecture: %s\n", u.machine);
    printf("Operating System: %s\n", u.sysname);
  }
  printf("libuv: %s\n", uv_version_string());
  printf("OpenSSL: %s\n", OpenSSL_version(OPENSSL_VERSION));
  return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}
