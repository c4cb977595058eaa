/*
 * cmd/ethp2p/cmd_key.c — `ethp2p key generate|to-id|to-enode|to-enr`.
 *
 * Key files use go-ethereum's format (see include/ethp2p/nodekey.h): a key made
 * here works as geth's --nodekey and the other way round.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/encoding.h"
#include "ethp2p/enode.h"
#include "ethp2p/enr.h"
#include "ethp2p/error.h"
#include "ethp2p/log.h"
#include "ethp2p/nodekey.h"
#include "ethp2p/secp.h"

#define DEFAULT_PORT 30303

static const char key_usage_text[] =
    "Usage: ethp2p key <command> [options] FILE\n"
    "\n"
    "Generate node keys and derive node IDs, enode URLs and signed records from them.\n"
    "A key file holds 64 hex characters (go-ethereum's nodekey format, mode 0600).\n"
    "\n"
    "Commands:\n"
    "  generate [--force] FILE                          write a new random key to FILE\n"
    "  to-id FILE                                       print the node ID of the key\n"
    "  to-enode FILE [--ip IP] [--tcp N] [--udp N]      print the enode URL of the key\n"
    "  to-enr FILE [--ip IP] [--tcp N] [--udp N] [--seq N]\n"
    "                                                   print a signed record (enr:...)\n"
    "\n"
    "Run 'ethp2p key <command> --help' for the options of a command.\n";

static const char key_generate_help[] =
    "Usage: ethp2p key generate [--force] FILE\n"
    "\n"
    "Writes a new secp256k1 node key, drawn from the operating system's CSPRNG, to\n"
    "FILE as 64 lowercase hex characters without newline, with mode 0600.  The file\n"
    "is written atomically (temporary file, fsync, rename).  The node ID of the new\n"
    "key is printed on standard output.\n"
    "\n"
    "Options:\n"
    "  -f, --force  replace FILE if it exists (default: refuse and exit 1)\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 written, 1 FILE exists or cannot be written, 2 usage error.\n"
    "\n"
    "Example:\n"
    "  ethp2p key generate node.key\n";

static const char key_to_id_help[] =
    "Usage: ethp2p key to-id FILE\n"
    "\n"
    "Prints the node ID of the key in FILE: Keccak-256 of the 64-byte public key, as\n"
    "64 lowercase hex characters.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 ok, 1 FILE is missing or not a valid key file, 2 usage error.\n";

static const char key_to_enode_help[] =
    "Usage: ethp2p key to-enode FILE [--ip IP] [--tcp N] [--udp N]\n"
    "\n"
    "Prints the enode URL of the key in FILE:\n"
    "  enode://<128 hex public key>@IP:TCP[?discport=UDP]\n"
    "\n"
    "Options:\n"
    "  --ip IP      IPv4 or IPv6 address of the node (default 127.0.0.1)\n"
    "  --tcp N      TCP (RLPx) port, 0..65535 (default 30303; 0 = no TCP listener)\n"
    "  --udp N      UDP (discovery) port, 0..65535 (default: the TCP port); written as\n"
    "               ?discport=N only when it differs from the TCP port\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 ok, 1 FILE is missing or not a valid key file, 2 usage error.\n"
    "\n"
    "Example:\n"
    "  ethp2p key to-enode node.key --ip 203.0.113.7 --tcp 30303 --udp 30301\n";

static const char key_to_enr_help[] =
    "Usage: ethp2p key to-enr FILE [--ip IP] [--tcp N] [--udp N] [--seq N]\n"
    "\n"
    "Prints a node record (EIP-778, scheme \"v4\") signed with the key in FILE, in text\n"
    "form (enr:...).  It always holds id and secp256k1; ip/ip6, tcp and udp only when\n"
    "given.  Signing is deterministic (RFC 6979), so the same key and options give the\n"
    "same record.\n"
    "\n"
    "Options:\n"
    "  --ip IP      address: an IPv4 address sets \"ip\", an IPv6 address sets \"ip6\"\n"
    "  --tcp N      TCP port, 1..65535 (sets \"tcp\"; with EIP-778 it also applies to IPv6)\n"
    "  --udp N      UDP (discovery) port, 1..65535 (sets \"udp\")\n"
    "  --seq N      sequence number, 0..18446744073709551615 (default 1)\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 ok, 1 FILE is missing or not a valid key file, 2 usage error.\n"
    "\n"
    "Example (reproduces the example record of EIP-778 from its key):\n"
    "  ethp2p key to-enr eip778.key --ip 127.0.0.1 --udp 30303 --seq 1\n";

/* Parses a decimal number in [min, max]; no sign, no spaces, no leading garbage. */
static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (s == NULL || *s == '\0')
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
      return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  if (v < min || v > max)
    return false;
  *out = v;
  return true;
}

/* Parses an IPv4 or IPv6 address; an IPv4-mapped IPv6 address becomes IPv4. */
static bool parse_ip(const char *s, uint8_t ip[16], size_t *len) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (inet_pton(AF_INET, s, ip) == 1) {
    *len = 4;
    return true;
  }
  if (inet_pton(AF_INET6, s, ip) == 1) {
    *len = 16;
    if (memcmp(ip, mapped, 12) == 0) {
      memmove(ip, ip + 12, 4);
      *len = 4;
    }
    return true;
  }
  return false;
}

struct key_opts {
  bool force, have_ip, have_tcp, have_udp, have_seq;
  uint8_t ip[16];
  size_t ip_len;
  uint64_t tcp, udp, seq;
  const char *file;
};

enum { OPT_IP = 256, OPT_TCP, OPT_UDP, OPT_SEQ };

/* The text of the option getopt just refused: "-x" for a short one, else the argument. */
static const char *bad_option(char **argv, char *buf, size_t cap) {
  if (optopt > 0 && optopt < 256) {
    snprintf(buf, cap, "-%c", optopt);
    return buf;
  }
  return argv[optind - 1];
}

/* "--name" of the long option whose getopt value is c. */
static const char *option_name(int c, const struct option *opts) {
  static char buf[32];
  for (; opts->name != NULL; opts++) {
    if (opts->val == c) {
      snprintf(buf, sizeof buf, "--%s", opts->name);
      return buf;
    }
  }
  return "?";
}

static int usage_error(const char *cmd, const char *fmt, const char *arg) {
  fprintf(stderr, "ethp2p key %s: ", cmd);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nRun 'ethp2p key %s --help' for usage.\n", cmd);
  return CLI_EXIT_USAGE;
}

/*
 * Parses the options of one key subcommand.  allowed is a string of the option
 * letters that apply: f(orce) i(p) t(cp) u(dp) s(eq).  port_min is 0 or 1.
 * Returns -1 to go on, otherwise the exit code to return.
 */
static int parse_opts(int argc, char **argv, const char *help, const char *allowed,
                      uint64_t port_min, struct key_opts *o) {
  static const struct option opts[] = {
      {"force", no_argument, NULL, 'f'},
      {"ip", required_argument, NULL, OPT_IP},
      {"tcp", required_argument, NULL, OPT_TCP},
      {"udp", required_argument, NULL, OPT_UDP},
      {"seq", required_argument, NULL, OPT_SEQ},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *cmd = argv[0];
  char optbuf[8];
  int c;

  memset(o, 0, sizeof *o);
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
    const char *which = c == 'f'       ? "f"
                        : c == OPT_IP  ? "i"
                        : c == OPT_TCP ? "t"
                        : c == OPT_UDP ? "u"
                        : c == OPT_SEQ ? "s"
                                       : NULL;
    if (c == 'h') {
      fputs(help, stdout);
      return CLI_EXIT_OK;
    }
    if (c == ':')
      return usage_error(cmd, "option \"%s\" needs a value", argv[optind - 1]);
    if (c == '?')
      return usage_error(cmd, "unknown option \"%s\"", bad_option(argv, optbuf, sizeof optbuf));
    if (which == NULL || strchr(allowed, which[0]) == NULL)
      return usage_error(cmd, "option \"%s\" does not apply here", option_name(c, opts));
    switch (c) {
    case 'f':
      o->force = true;
      break;
    case OPT_IP:
      if (!parse_ip(optarg, o->ip, &o->ip_len))
        return usage_error(cmd, "invalid IP address \"%s\"", optarg);
      o->have_ip = true;
      break;
    case OPT_TCP:
      if (!parse_uint(optarg, port_min, 65535, &o->tcp))
        return usage_error(cmd,
                           port_min ? "invalid --tcp \"%s\": want a port 1..65535"
                                    : "invalid --tcp \"%s\": want a port 0..65535",
                           optarg);
      o->have_tcp = true;
      break;
    case OPT_UDP:
      if (!parse_uint(optarg, port_min, 65535, &o->udp))
        return usage_error(cmd,
                           port_min ? "invalid --udp \"%s\": want a port 1..65535"
                                    : "invalid --udp \"%s\": want a port 0..65535",
                           optarg);
      o->have_udp = true;
      break;
    case OPT_SEQ:
      if (!parse_uint(optarg, 0, UINT64_MAX, &o->seq))
        return usage_error(cmd, "invalid --seq \"%s\": want 0..18446744073709551615", optarg);
      o->have_seq = true;
      break;
    }
  }
  if (argc - optind != 1)
    return usage_error(cmd, "%s",
                       argc - optind == 0 ? "missing key FILE argument"
                                          : "expected exactly one key FILE");
  o->file = argv[optind];
  return -1;
}

/* Loads the key file; prints the reason and returns false on failure. */
static bool load_key(const char *cmd, const char *file, ethp2p_nodekey *key) {
  ethp2p_diag d = {0};
  int err = ethp2p_nodekey_load(key, file, &d);
  if (err == 0)
    return true;
  if (err == ETHP2P_ENOTFOUND || err == ETHP2P_EPERM || err == ETHP2P_EIO || err == ETHP2P_EINVAL)
    fprintf(stderr, "ethp2p key %s: %s\n", cmd, d.msg);
  else
    fprintf(stderr, "ethp2p key %s: invalid key file %s: %s\n", cmd, file, d.msg);
  return false;
}

static int key_generate(int argc, char **argv) {
  struct key_opts o;
  ethp2p_nodekey key;
  ethp2p_diag d = {0};
  uint8_t pub64[64], id[32];
  char idhex[65];
  int rc = parse_opts(argc, argv, key_generate_help, "f", 0, &o);

  if (rc >= 0)
    return rc;
  if (ethp2p_nodekey_generate(&key) != 0) {
    fprintf(stderr, "ethp2p key generate: the random number generator failed\n");
    return CLI_EXIT_INVALID;
  }
  rc = ethp2p_nodekey_save(&key, o.file, o.force ? ETHP2P_NODEKEY_OVERWRITE : 0, &d);
  if (rc == 0)
    rc = ethp2p_secp_pubkey(NULL, pub64, key.secret);
  ethp2p_nodekey_wipe(&key);
  if (rc == ETHP2P_EEXIST) {
    fprintf(stderr, "ethp2p key generate: %s (use --force to replace it)\n", d.msg);
    return CLI_EXIT_INVALID;
  }
  if (rc != 0) {
    fprintf(stderr, "ethp2p key generate: %s\n", d.msg[0] ? d.msg : ethp2p_strerror(rc));
    return CLI_EXIT_INVALID;
  }
  ethp2p_secp_node_id(id, pub64);
  ethp2p_hex_encode(idhex, sizeof idhex, NULL, id, sizeof id);
  printf("%s\n", idhex);
  fprintf(stderr, "Wrote a new node key to %s (mode 0600)\n", o.file);
  return CLI_EXIT_OK;
}

/* Loads FILE and derives the 64-byte public key. */
static bool key_pub64(const char *cmd, const char *file, uint8_t pub64[64]) {
  ethp2p_nodekey key;
  int err;
  if (!load_key(cmd, file, &key))
    return false;
  err = ethp2p_secp_pubkey(NULL, pub64, key.secret);
  ethp2p_nodekey_wipe(&key);
  if (err != 0) {
    fprintf(stderr, "ethp2p key %s: cannot derive the public key: %s\n", cmd, ethp2p_strerror(err));
    return false;
  }
  return true;
}

static int key_to_id(int argc, char **argv) {
  struct key_opts o;
  uint8_t pub64[64], id[32];
  char idhex[65];
  int rc = parse_opts(argc, argv, key_to_id_help, "", 0, &o);

  if (rc >= 0)
    return rc;
  if (!key_pub64(argv[0], o.file, pub64))
    return CLI_EXIT_INVALID;
  ethp2p_secp_node_id(id, pub64);
  ethp2p_hex_encode(idhex, sizeof idhex, NULL, id, sizeof id);
  printf("%s\n", idhex);
  return CLI_EXIT_OK;
}

static int key_to_enode(int argc, char **argv) {
  static const uint8_t localhost[4] = {127, 0, 0, 1};
  struct key_opts o;
  uint8_t pub64[64];
  ethp2p_enode node;
  char url[ETHP2P_ENODE_URL_MAX];
  int rc = parse_opts(argc, argv, key_to_enode_help, "itu", 0, &o);

  if (rc >= 0)
    return rc;
  if (!o.have_ip) {
    memcpy(o.ip, localhost, 4);
    o.ip_len = 4;
  }
  if (!o.have_tcp)
    o.tcp = DEFAULT_PORT;
  if (!o.have_udp)
    o.udp = o.tcp;
  if (!key_pub64(argv[0], o.file, pub64))
    return CLI_EXIT_INVALID;
  if (ethp2p_enode_init(&node, pub64, o.ip, o.ip_len, (uint16_t)o.tcp, (uint16_t)o.udp) != 0 ||
      ethp2p_enode_format(&node, url, sizeof url) < 0) {
    fprintf(stderr, "ethp2p key to-enode: cannot build the enode URL\n");
    return CLI_EXIT_INVALID;
  }
  printf("%s\n", url);
  return CLI_EXIT_OK;
}

static int key_to_enr(int argc, char **argv) {
  struct key_opts o;
  ethp2p_nodekey key;
  ethp2p_enr rec;
  char text[ETHP2P_ENR_TEXT_MAX + 1];
  int err = 0;
  int rc = parse_opts(argc, argv, key_to_enr_help, "itus", 1, &o);

  if (rc >= 0)
    return rc;
  if (!load_key(argv[0], o.file, &key))
    return CLI_EXIT_INVALID;
  ethp2p_enr_init(&rec);
  err = ethp2p_enr_seq_set(&rec, o.have_seq ? o.seq : 1);
  if (err == 0 && o.have_ip)
    err = o.ip_len == 4 ? ethp2p_enr_ip_set(&rec, o.ip) : ethp2p_enr_ip6_set(&rec, o.ip);
  if (err == 0 && o.have_tcp)
    err = ethp2p_enr_port_set(&rec, ETHP2P_ENR_TCP, (uint16_t)o.tcp);
  if (err == 0 && o.have_udp)
    err = ethp2p_enr_port_set(&rec, ETHP2P_ENR_UDP, (uint16_t)o.udp);
  if (err == 0)
    err = ethp2p_enr_sign(&rec, key.secret);
  ethp2p_nodekey_wipe(&key);
  if (err == 0)
    err = ethp2p_enr_text_encode(text, sizeof text, NULL, &rec);
  if (err != 0) {
    fprintf(stderr, "ethp2p key to-enr: cannot build the record: %s\n", ethp2p_strerror(err));
    return CLI_EXIT_INVALID;
  }
  printf("%s\n", text);
  return CLI_EXIT_OK;
}

int ethp2p_cmd_key(int argc, char **argv) {
  static int terminal_format = 0;
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } cmds[] = {
      {"generate", key_generate},
      {"to-id", key_to_id},
      {"to-enode", key_to_enode},
      {"to-enr", key_to_enr},
  };
  if (argc < 2) {
    fputs(key_usage_text, stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    fputs(key_usage_text, stdout);
    return CLI_EXIT_OK;
  }
  /* Warnings from the key loader (e.g. a key file others can read) reach the user. */
  ethp2p_log_set_sink(cli_log_sink, &terminal_format, ETHP2P_LOG_WARN);
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (strcmp(argv[1], cmds[i].name) == 0)
      return cmds[i].fn(cli_go_flags(argc - 1, argv + 1), argv + 1); /* -ip as devp2p's docs */
  fprintf(stderr, "ethp2p key: unknown command \"%s\"\n\n%s", argv[1], key_usage_text);
  return CLI_EXIT_USAGE;
}
