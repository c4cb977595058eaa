/*
 * cmd/ethp2p/cmd_rlp.c — `ethp2p rlp dump`: check RLP strictly and print its structure.
 *
 * The structure text is enr/rlp.c's dumper (go-ethereum's rlpdump layout): strings
 * of printable ASCII in quotes, other strings in hex, lists in brackets with
 * two-space indentation.  Only canonical RLP is accepted (see ethp2p/rlp.h).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/encoding.h"
#include "ethp2p/error.h"
#include "ethp2p/rlp.h"

/* Largest input accepted (binary bytes, or hex text from stdin). */
#define RLP_INPUT_MAX (1u << 20)

static const char rlp_usage_text[] =
    "Usage: ethp2p rlp <command> [options]\n"
    "\n"
    "Check and explain Recursive Length Prefix (RLP) data.\n"
    "\n"
    "Commands:\n"
    "  dump HEX | -   check that the input is one canonical RLP item and print its structure\n"
    "\n"
    "Run 'ethp2p rlp dump --help' for details.\n";

static const char rlp_dump_help_text[] =
    "Usage: ethp2p rlp dump HEX | -\n"
    "\n"
    "Decodes one RLP item strictly and prints its structure like go-ethereum's rlpdump:\n"
    "strings of printable ASCII in double quotes, other strings in hex, lists as\n"
    "[ ... ] with one element per line, indented two spaces per level.\n"
    "\n"
    "Input:\n"
    "  HEX   the data in hexadecimal, with or without 0x; surrounding whitespace ignored\n"
    "  -     read standard input (at most 1 MiB): hex text as above, or raw binary\n"
    "\n"
    "Only the canonical encoding is accepted: a single byte below 0x80 must stand\n"
    "alone, lengths use their shortest form (no leading zero bytes, long form only\n"
    "from 56 bytes), the input is one item with nothing after it, and lists nest at\n"
    "most 32 deep.  Anything else exits 1 with the reason and where: \"at character N\n"
    "of the input\" (from 0, prefix and whitespace included) for bad hex, \"at byte N of\n"
    "the RLP data\" for bad RLP.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 valid, 1 malformed or non-canonical input, 2 usage error.\n"
    "\n"
    "Examples:\n"
    "  ethp2p rlp dump c88363617483646f67          # [\"cat\", \"dog\"]\n"
    "  ethp2p rlp dump 0x8105                      # exits 1: non-canonical\n";

static const char dump_hint[] = "Run 'ethp2p rlp dump --help' for usage.\n";

static bool is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool all_hex(const uint8_t *p, size_t len) {
  if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    p += 2;
    len -= 2;
  }
  for (size_t i = 0; i < len; i++) {
    uint8_t c = p[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
      return false;
  }
  return true;
}

/* Dumps in[0..len) or reports why it is not canonical RLP. */
static int dump_bytes(const uint8_t *in, size_t len) {
  ethp2p_rlp_item item;
  ethp2p_diag d = {0};
  size_t need = 0;
  char *text;
  int err = ethp2p_rlp_decode(&item, in, len, &d);

  if (err != 0) {
    (void)cli_strip_positions(d.msg);
    fprintf(stderr, "invalid RLP: %s (at byte %zu of the RLP data)\n", d.msg, d.offset);
    return CLI_EXIT_INVALID;
  }
  err = ethp2p_rlp_dump(NULL, 0, &need, &item);
  if (err != 0 && err != ETHP2P_ESPACE) {
    fprintf(stderr, "invalid RLP: %s\n", ethp2p_strerror(err));
    return CLI_EXIT_INVALID;
  }
  text = malloc(need + 1);
  if (text == NULL) {
    fprintf(stderr, "ethp2p rlp dump: out of memory\n");
    return CLI_EXIT_INVALID;
  }
  err = ethp2p_rlp_dump(text, need + 1, NULL, &item);
  if (err == 0)
    printf("%s\n", text);
  else
    fprintf(stderr, "ethp2p rlp dump: %s\n", ethp2p_strerror(err));
  free(text);
  if (err != 0)
    return CLI_EXIT_INVALID;
  return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}

/* Decodes hex text (trimmed; skip = the characters trimmed off its front) and dumps it. */
static int dump_hex(const uint8_t *t, size_t tlen, size_t skip) {
  uint8_t *bin;
  size_t blen = 0;
  ethp2p_diag d = {0};
  int rc;

  bin = malloc(tlen / 2 + 1);
  if (bin == NULL) {
    fprintf(stderr, "ethp2p rlp dump: out of memory\n");
    return CLI_EXIT_INVALID;
  }
  if (ethp2p_hex_decode(bin, tlen / 2 + 1, &blen, (const char *)t, tlen, &d) != 0) {
    (void)cli_strip_positions(d.msg);
    fprintf(stderr, "invalid hex: %s (at character %zu of the input)\n", d.msg, d.offset + skip);
    free(bin);
    return CLI_EXIT_INVALID;
  }
  rc = dump_bytes(bin, blen);
  free(bin);
  return rc;
}

static int rlp_dump(int argc, char **argv) {
  static const struct option opts[] = {
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const uint8_t *t;
  uint8_t *buf = NULL;
  size_t len, tlen;
  int c, rc;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') {
      fputs(rlp_dump_help_text, stdout);
      return CLI_EXIT_OK;
    }
    if (optopt > 0 && optopt < 256)
      fprintf(stderr, "ethp2p rlp dump: unknown option \"-%c\"\n%s", optopt, dump_hint);
    else
      fprintf(stderr, "ethp2p rlp dump: unknown option \"%s\"\n%s", argv[optind - 1], dump_hint);
    return CLI_EXIT_USAGE;
  }
  if (argc - optind != 1) {
    fprintf(stderr, "ethp2p rlp dump: %s\n%s",
            argc - optind == 0 ? "missing HEX argument (or - for standard input)"
                               : "expected exactly one argument",
            dump_hint);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[optind], "-") != 0) {
    t = (const uint8_t *)argv[optind];
    tlen = strlen(argv[optind]);
    if (tlen > 2 * (size_t)RLP_INPUT_MAX + 2) {
      fprintf(stderr, "invalid RLP: input larger than %u bytes\n", RLP_INPUT_MAX);
      return CLI_EXIT_INVALID;
    }
    while (tlen > 0 && is_space(t[0])) {
      t++;
      tlen--;
    }
    while (tlen > 0 && is_space(t[tlen - 1]))
      tlen--;
    return dump_hex(t, tlen, (size_t)(t - (const uint8_t *)argv[optind]));
  }
  rc = cli_read_all("-", 2 * (size_t)RLP_INPUT_MAX + 2, &buf, &len);
  if (rc != 0) {
    fprintf(stderr, "invalid RLP: %s\n",
            rc == ETHP2P_ETOOBIG ? "input too large (at most 1 MiB)" : ethp2p_strerror(rc));
    return CLI_EXIT_INVALID;
  }
  t = buf;
  tlen = len;
  while (tlen > 0 && is_space(t[0])) {
    t++;
    tlen--;
  }
  while (tlen > 0 && is_space(t[tlen - 1]))
    tlen--;
  /* Text that is entirely hex is taken as hex; anything else is raw binary. */
  if (tlen > 0 && all_hex(t, tlen))
    rc = dump_hex(t, tlen, (size_t)(t - buf));
  else if (len > RLP_INPUT_MAX) {
    fprintf(stderr, "invalid RLP: input too large (at most 1 MiB)\n");
    rc = CLI_EXIT_INVALID;
  } else
    rc = dump_bytes(buf, len);
  free(buf);
  return rc;
}

int ethp2p_cmd_rlp(int argc, char **argv) {
  if (argc < 2) {
    fputs(rlp_usage_text, stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    fputs(rlp_usage_text, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "dump") == 0)
    return rlp_dump(argc - 1, argv + 1);
  fprintf(stderr, "ethp2p rlp: unknown command \"%s\"\n\n%s", argv[1], rlp_usage_text);
  return CLI_EXIT_USAGE;
}
