/*
 * cmd/ethp2p/cmd_enr.c — `ethp2p enr dump|decode`: decode, verify and explain a record.
 *
 * Output follows go-ethereum's `devp2p enrdump`:
 *
 *   Node ID: a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7
 *   URLv4:   enode://ca634cae...@127.0.0.1:0?discport=30303
 *   Record has sequence number 1 and 4 key/value pairs.
 *     "id"        "v4"
 *     "ip"        127.0.0.1
 *     "secp256k1" a103ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138
 *     "udp"       30303
 *
 * The text output is byte for byte what go-ethereum's cmd/devp2p enrdump prints
 * for a valid record (its dumpRecord/attrFormatters): keys quoted as Go's
 * strconv.Quote and padded by their raw length; "id" quoted; "ip" and "ip6" as
 * addresses when 4 (or, as go-ethereum's check has it, 6) bytes long; tcp, udp,
 * tcp6, udp6 as decimal when they decode as an RLP uint64; everything else,
 * secp256k1 included, as the hex of the raw RLP item; a value its formatter
 * refuses as raw hex followed by " (!)".  Explanations (fork IDs, subnets) and
 * the malformed-value reasons are in --json only.
 * Unlike devp2p, an invalid record (bad signature included) is not dumped: it
 * exits 1 with "invalid record: <reason>" on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/encoding.h"
#include "ethp2p/enode.h"
#include "ethp2p/enr.h"
#include "ethp2p/error.h"
#include "ethp2p/secp.h"

/* Biggest input read from stdin or taken as an argument; records are <= 300 bytes,
 * so anything near this is refused anyway, but with a clear message. */
#define ENR_INPUT_MAX 65536

static const char enr_usage_text[] =
    "Usage: ethp2p enr <command> [options]\n"
    "\n"
    "Decode, verify and explain Ethereum Node Records (EIP-778, identity scheme \"v4\").\n"
    "\n"
    "Commands:\n"
    "  dump [--json] [RECORD | -]   verify a record and print its contents (alias: decode)\n"
    "\n"
    "Run 'ethp2p enr dump --help' for details.\n";

static const char enr_dump_help_text[] =
    "Usage: ethp2p enr dump [--json] [RECORD | - | --file FILE]\n"
    "       ethp2p enr decode [--json] [RECORD | - | --file FILE]\n"
    "\n"
    "Decodes a node record, verifies its \"v4\" signature and prints its node ID, its\n"
    "enode URL, its sequence number and every key/value pair, like go-ethereum's\n"
    "`devp2p enrdump`.\n"
    "\n"
    "RECORD is one of:\n"
    "  enr:<base64url>      the text form (strict base64url without padding)\n"
    "  <hex> or 0x<hex>     the binary record in hexadecimal\n"
    "  -  (or nothing)      read standard input: either text form or the raw binary\n"
    "                       record; surrounding whitespace is ignored (with no\n"
    "                       argument and a terminal as input, dump stops with a usage\n"
    "                       error instead of waiting)\n"
    "  --file FILE          read the record from FILE (- = standard input), as\n"
    "                       devp2p's -file; the same forms as standard input\n"
    "\n"
    "The text output is exactly devp2p enrdump's: \"id\" quoted, \"ip\"/\"ip6\" as an\n"
    "address when 4 (or 6) bytes long, tcp/udp/tcp6/udp6 as numbers, every other key\n"
    "(secp256k1, quic, eth, eth2, ...) as the hex of its raw RLP item, and a value\n"
    "that does not fit its key's format as raw hex followed by \" (!)\".  Like devp2p,\n"
    "that shows a 16-byte ip6 as raw hex with (!); --json gives the address, and\n"
    "explains eth (fork ID), eth2 (fork digest, next fork), attnets and syncnets.\n"
    "Error positions: \"character N of the input\" counts from 0 at the first byte\n"
    "given (prefix and whitespace included); \"byte N of the record\" counts in the\n"
    "decoded binary record.\n"
    "\n"
    "Options:\n"
    "  --json       print one JSON object instead of text: node_id; enode (null, with\n"
    "               enode_error saying why, if an entry it needs is malformed); seq (a\n"
    "               number, or a decimal string above 2^63-1); signature (hex); record\n"
    "               (enr: text); pairs, an array of {key, key_hex, raw, value\n"
    "               [, malformed][, info]} in record order (also -json)\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 valid record, 1 invalid record (message \"invalid record: <reason>\"\n"
    "on stderr, bad signature included), 2 usage error.\n"
    "\n"
    "Examples:\n"
    "  ethp2p enr dump "
    "enr:-"
    "IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgml"
    "kgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8\n"
    "  ethp2p key to-enr node.key | ethp2p enr dump --json -\n";

static const char dump_hint[] = "Run 'ethp2p enr dump --help' for usage.\n";

static bool is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Shrinks [*p, *p + *len) to drop leading and trailing whitespace. */
static void trim(const uint8_t **p, size_t *len) {
  while (*len > 0 && is_space((*p)[0])) {
    (*p)++;
    (*len)--;
  }
  while (*len > 0 && is_space((*p)[*len - 1]))
    (*len)--;
}

static bool all_hex(const uint8_t *p, size_t len) {
  if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    p += 2;
    len -= 2;
  }
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = p[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
      return false;
  }
  return true;
}

static bool looks_base64url(const uint8_t *p, size_t len) {
  if (len < 8)
    return false;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = p[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
          c == '_'))
      return false;
  }
  return true;
}

static int invalid(const char *msg) {
  fprintf(stderr, "invalid record: %s\n", msg);
  return CLI_EXIT_INVALID;
}

/*
 * One place per error, counted from one origin: a problem in the text (base64url,
 * hex digits) is at "character N of the input", counted from 0 at the first byte
 * of the argument or of standard input (leading whitespace and the "enr:" or "0x"
 * prefix included); a problem in the record's structure is at "byte N of the
 * record" (the decoded binary, from 0).  skip = characters before what the
 * decoder saw (trimmed whitespace).
 */
static int invalid_at(const ethp2p_diag *d, bool text_error, size_t skip) {
  char msg[sizeof d->msg];
  bool record_note;
  snprintf(msg, sizeof msg, "%s", d->msg[0] ? d->msg : "malformed");
  record_note = cli_strip_positions(msg);
  if (text_error && !record_note)
    fprintf(stderr, "invalid record: %s (at character %zu of the input)\n", msg, d->offset + skip);
  else
    fprintf(stderr, "invalid record: %s (at byte %zu of the record)\n", msg, d->offset);
  return CLI_EXIT_INVALID;
}

/*
 * Turns the user's input into a decoded (not yet verified) record.  in/len is
 * the argument or all of stdin; from_stdin allows raw binary input.
 */
static int decode_input(ethp2p_enr *rec, const uint8_t *in, size_t len, bool from_stdin,
                        const char *arg_for_hint) {
  const uint8_t *t = in;
  size_t tlen = len, skip;
  ethp2p_diag d = {0};
  int err;

  trim(&t, &tlen);
  skip = (size_t)(t - in);
  if (tlen == 0)
    return invalid("empty input");
  if (tlen >= 4 && memcmp(t, "enr:", 4) == 0) {
    err = ethp2p_enr_text_decode(rec, (const char *)t, tlen, &d);
    return err == 0 ? 0 : invalid_at(&d, true, skip);
  }
  if (all_hex(t, tlen)) {
    uint8_t bin[ENR_INPUT_MAX / 2 + 1];
    size_t blen = 0;
    err = ethp2p_hex_decode(bin, sizeof bin, &blen, (const char *)t, tlen, &d);
    if (err != 0)
      return invalid_at(&d, true, skip);
    err = ethp2p_enr_decode(rec, bin, blen, &d);
    return err == 0 ? 0 : invalid_at(&d, false, 0);
  }
  if (tlen >= 8 && strncmp((const char *)t, "enode://", 8) == 0)
    return invalid("this is an enode URL, not a node record (enr:...)");
  if (!from_stdin) {
    if (arg_for_hint != NULL && access(arg_for_hint, F_OK) == 0) {
      fprintf(stderr,
              "ethp2p enr dump: \"%s\" is a file, not a record; read it with\n"
              "  ethp2p enr dump --file %s    or    ethp2p enr dump - < %s\n",
              arg_for_hint, arg_for_hint, arg_for_hint);
      return CLI_EXIT_USAGE;
    }
    if (looks_base64url(t, tlen))
      return invalid("missing \"enr:\" prefix before the base64url text");
    return invalid("input is neither \"enr:\" text nor hex");
  }
  /* Raw binary from stdin: use the bytes as they are (whitespace may be data). */
  err = ethp2p_enr_decode(rec, in, len, &d);
  if (err != 0 && looks_base64url(t, tlen))
    return invalid("missing \"enr:\" prefix before the base64url text");
  return err == 0 ? 0 : invalid_at(&d, false, 0);
}

/* Writes key bytes as go's strconv.Quote would: printable ASCII as is, \" \\ and \xNN escapes. */
static void quote_key(char *out, size_t cap, const uint8_t *k, size_t klen, bool quotes) {
  size_t pos = 0;
  if (cap == 0)
    return;
#define PUTC(c)                                                                                    \
  do {                                                                                             \
    if (pos + 1 < cap)                                                                             \
      out[pos++] = (char)(c);                                                                      \
  } while (0)
  if (quotes)
    PUTC('"');
  for (size_t i = 0; i < klen; i++) {
    uint8_t c = k[i];
    if (c == '"' || c == '\\') {
      PUTC('\\');
      PUTC(c);
    } else if (c >= 0x20 && c < 0x7f) {
      PUTC(c);
    } else {
      static const char hx[] = "0123456789abcdef";
      PUTC('\\');
      PUTC('x');
      PUTC(hx[c >> 4]);
      PUTC(hx[c & 15]);
    }
  }
  if (quotes)
    PUTC('"');
#undef PUTC
  out[pos] = '\0';
}

/* The URLv4 line's text: the enode URL, or why there is none. */
static void enode_text(char *out, size_t cap, const ethp2p_enr *rec, bool *ok) {
  ethp2p_enode node;
  ethp2p_diag d = {0};
  *ok = false;
  if (ethp2p_enode_from_record(&node, rec, &d) != 0) {
    snprintf(out, cap, "(none: %s)", d.msg);
    return;
  }
  if (ethp2p_enode_format(&node, out, cap) < 0) {
    snprintf(out, cap, "(none)");
    return;
  }
  *ok = true;
}

static bool key_is(const uint8_t *k, size_t klen, const char *name) {
  return klen == strlen(name) && memcmp(k, name, klen) == 0;
}

/* Appends the numbers of the set bits of an SSZ bitvector (bit i = byte i/8, bit i%8). */
static void set_bits(char *out, size_t cap, const uint8_t *bits, size_t nbytes) {
  size_t pos = strlen(out);
  bool any = false;
  for (size_t i = 0; i < nbytes * 8 && pos + 8 < cap; i++) {
    if ((bits[i / 8] >> (i % 8)) & 1) {
      int n = snprintf(out + pos, cap - pos, "%s%zu", any ? ", " : "", i);
      if (n < 0)
        return;
      pos += (size_t)n;
      any = true;
    }
  }
  if (!any)
    snprintf(out + pos, cap - pos, "none");
}

/*
 * A reading of well-known entries that EIP-778 leaves to other specifications,
 * written to out ("" if key is not one of them or the value has another shape):
 *   eth       EIP-2124 fork ID, [[fork hash (4 bytes), next fork (uint64)], ...]
 *   eth2      consensus ENRForkID (SSZ): fork digest 4, next fork version 4, next fork epoch 8 LE
 *   attnets   consensus attestation subnets, SSZ Bitvector[64]
 *   syncnets  consensus sync committee subnets, SSZ Bitvector[4]
 * The raw value is always printed as well; this only explains it.
 */
static void annotate(char *out, size_t cap, const uint8_t *k, size_t klen,
                     const ethp2p_rlp_item *v) {
  out[0] = '\0';
  if (key_is(k, klen, "eth2") && !v->is_list && v->payload_len == 16) {
    const uint8_t *p = v->payload;
    uint64_t epoch = 0;
    for (int i = 7; i >= 0; i--)
      epoch = epoch << 8 | p[8 + i];
    if (epoch == UINT64_MAX)
      snprintf(out, cap, "fork digest %02x%02x%02x%02x, no next fork scheduled", p[0], p[1], p[2],
               p[3]);
    else
      snprintf(out, cap,
               "fork digest %02x%02x%02x%02x, next fork version %02x%02x%02x%02x at epoch %" PRIu64,
               p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], epoch);
  } else if (key_is(k, klen, "attnets") && !v->is_list && v->payload_len == 8) {
    snprintf(out, cap, "attestation subnets: ");
    set_bits(out, cap, v->payload, 8);
  } else if (key_is(k, klen, "syncnets") && !v->is_list && v->payload_len == 1 &&
             v->payload[0] < 16) {
    snprintf(out, cap, "sync committee subnets: ");
    set_bits(out, cap, v->payload, 1);
  } else if (key_is(k, klen, "eth") && v->is_list) {
    ethp2p_rlp_iter it, inner;
    ethp2p_rlp_item fork, hash, next;
    uint64_t nx = 0;
    if (ethp2p_rlp_iter_init(&it, v) != 0 || ethp2p_rlp_iter_next(&it, &fork, NULL) != 1 ||
        ethp2p_rlp_iter_init(&inner, &fork) != 0 ||
        ethp2p_rlp_iter_next(&inner, &hash, NULL) != 1 || hash.is_list || hash.payload_len != 4 ||
        ethp2p_rlp_iter_next(&inner, &next, NULL) != 1 ||
        ethp2p_rlp_uint64(&nx, &next, NULL) != 0 || ethp2p_rlp_iter_next(&inner, &next, NULL) != 0)
      return;
    if (nx == 0)
      snprintf(out, cap, "fork ID: hash %02x%02x%02x%02x, no next fork announced", hash.payload[0],
               hash.payload[1], hash.payload[2], hash.payload[3]);
    else
      snprintf(out, cap, "fork ID: hash %02x%02x%02x%02x, next fork at %" PRIu64, hash.payload[0],
               hash.payload[1], hash.payload[2], hash.payload[3], nx);
  }
}

/* Appends c to out[*pos] if it fits (out stays NUL-terminated by the caller). */
static void put(char *out, size_t cap, size_t *pos, char c) {
  if (*pos + 1 < cap)
    out[(*pos)++] = c;
}

/* Length of the UTF-8 sequence at p (1..4), or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and values above U+10FFFF included). */
static size_t utf8_len(const uint8_t *p, size_t n, uint32_t *cp) {
  size_t len;
  uint32_t v, min;
  if (p[0] < 0x80) {
    *cp = p[0];
    return 1;
  }
  if ((p[0] & 0xe0) == 0xc0) {
    len = 2, v = p[0] & 0x1fu, min = 0x80;
  } else if ((p[0] & 0xf0) == 0xe0) {
    len = 3, v = p[0] & 0x0fu, min = 0x800;
  } else if ((p[0] & 0xf8) == 0xf0) {
    len = 4, v = p[0] & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    v = v << 6 | (p[i] & 0x3fu);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    return 0;
  *cp = v;
  return len;
}

/* Writes b as Go's strconv.Quote does: double quotes; \" and \\; \a \b \f \n \r
 * \t \v; other control bytes and invalid UTF-8 as \xNN; C1 controls, U+00A0 and
 * U+00AD as \u00NN; other non-ASCII characters as they are (Go prints the
 * printable ones literally; ENR keys and ids are ASCII in practice). */
static void go_quote(char *out, size_t cap, const uint8_t *b, size_t n) {
  static const char hx[] = "0123456789abcdef";
  size_t pos = 0;
  if (cap == 0)
    return;
  put(out, cap, &pos, '"');
  for (size_t i = 0; i < n;) {
    uint32_t cp = 0;
    size_t len = utf8_len(b + i, n - i, &cp);
    if (len == 0) {
      put(out, cap, &pos, '\\');
      put(out, cap, &pos, 'x');
      put(out, cap, &pos, hx[b[i] >> 4]);
      put(out, cap, &pos, hx[b[i] & 15]);
      i++;
      continue;
    }
    if (cp == '"' || cp == '\\') {
      put(out, cap, &pos, '\\');
      put(out, cap, &pos, (char)cp);
    } else if (cp >= 0x20 && cp < 0x7f) {
      put(out, cap, &pos, (char)cp);
    } else if (cp < 0x20 || cp == 0x7f) {
      static const char esc[] = "abtnvfr"; /* \a=7 .. \r=13 */
      put(out, cap, &pos, '\\');
      if (cp >= 7 && cp <= 13) {
        put(out, cap, &pos, esc[cp - 7]);
      } else {
        put(out, cap, &pos, 'x');
        put(out, cap, &pos, hx[cp >> 4]);
        put(out, cap, &pos, hx[cp & 15]);
      }
    } else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0xa0 || cp == 0xad) {
      put(out, cap, &pos, '\\');
      put(out, cap, &pos, 'u');
      put(out, cap, &pos, '0');
      put(out, cap, &pos, '0');
      put(out, cap, &pos, hx[cp >> 4]);
      put(out, cap, &pos, hx[cp & 15]);
    } else {
      for (size_t j = 0; j < len; j++)
        put(out, cap, &pos, (char)b[i + j]);
    }
    i += len;
  }
  put(out, cap, &pos, '"');
  out[pos] = '\0';
}

/* One value as devp2p enrdump shows it (go-ethereum cmd/devp2p attrFormatters):
 * false when the key's formatter refuses the value (the caller prints raw hex + " (!)"). */
static bool devp2p_value(char *out, size_t cap, const uint8_t *k, size_t klen,
                         const ethp2p_rlp_item *v) {
  if (key_is(k, klen, "id")) {
    if (v->is_list)
      return false;
    go_quote(out, cap, v->payload, v->payload_len);
    return true;
  }
  if (key_is(k, klen, "ip") || key_is(k, klen, "ip6")) {
    const uint8_t *p = v->payload;
    if (v->is_list || (v->payload_len != 4 && v->payload_len != 6))
      return false; /* go-ethereum's check: 4 or 6 bytes (so a 16-byte ip6 is "(!)") */
    if (v->payload_len == 4) {
      snprintf(out, cap, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
    } else { /* Go's net.IP.String for a length it does not know: "?" + hex */
      out[0] = '?';
      ethp2p_hex_encode(out + 1, cap - 1, NULL, p, 6);
    }
    return true;
  }
  if (key_is(k, klen, "tcp") || key_is(k, klen, "udp") || key_is(k, klen, "tcp6") ||
      key_is(k, klen, "udp6")) {
    uint64_t x = 0;
    if (ethp2p_rlp_uint64(&x, v, NULL) != 0)
      return false;
    snprintf(out, cap, "%" PRIu64, x);
    return true;
  }
  ethp2p_hex_encode(out, cap, NULL, v->raw, v->raw_len);
  return true;
}

static int dump_text(const ethp2p_enr *rec, const uint8_t id[32]) {
  char idhex[65], url[ETHP2P_ENODE_URL_MAX], val[1024], key[4 * ETHP2P_ENR_MAX_SIZE + 8];
  size_t n = ethp2p_enr_pair_count(rec), longest = 0;
  bool ok;

  ethp2p_hex_encode(idhex, sizeof idhex, NULL, id, 32);
  enode_text(url, sizeof url, rec, &ok);
  printf("Node ID: %s\n", idhex);
  printf("URLv4:   %s\n", url);
  printf("Record has sequence number %" PRIu64 " and %zu key/value pairs.\n", ethp2p_enr_seq(rec),
         n);
  for (size_t i = 0; i < n; i++) {
    ethp2p_rlp_item k, v;
    ethp2p_enr_pair_at(rec, i, &k, &v);
    if (k.payload_len > longest)
      longest = k.payload_len;
  }
  for (size_t i = 0; i < n; i++) {
    ethp2p_rlp_item k, v;
    ethp2p_enr_pair_at(rec, i, &k, &v);
    go_quote(key, sizeof key, k.payload, k.payload_len);
    /* Padded by the raw key length, as devp2p does (not the quoted length). */
    printf("  %s%*s", key, (int)(longest - k.payload_len + 1), "");
    if (devp2p_value(val, sizeof val, k.payload, k.payload_len, &v)) {
      printf("%s\n", val);
    } else {
      ethp2p_hex_encode(val, sizeof val, NULL, v.raw, v.raw_len);
      printf("%s (!)\n", val);
    }
  }
  return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}

/* The typed JSON value of a well-formed pair (value_check passed). */
static json_t *json_value(const uint8_t *k, size_t klen, const ethp2p_rlp_item *v) {
  char buf[4 * ETHP2P_ENR_MAX_SIZE + 8];
  static const char *const ports[] = {"tcp", "udp", "tcp6", "udp6", "quic", "quic6"};
  for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
    if (klen == strlen(ports[i]) && memcmp(k, ports[i], klen) == 0) {
      uint64_t port = 0;
      ethp2p_rlp_uint64(&port, v, NULL);
      return json_integer((json_int_t)port);
    }
  }
  if (klen == 2 && memcmp(k, "id", 2) == 0) {
    json_t *s = json_stringn((const char *)v->payload, v->payload_len);
    if (s != NULL)
      return s;
    quote_key(buf, sizeof buf, v->payload, v->payload_len, false);
    return json_string(buf);
  }
  if ((klen == 2 && memcmp(k, "ip", 2) == 0) || (klen == 3 && memcmp(k, "ip6", 3) == 0) ||
      (klen == 9 && memcmp(k, "secp256k1", 9) == 0)) {
    ethp2p_enr_value_format(buf, sizeof buf, NULL, k, klen, v);
    return json_string(buf);
  }
  ethp2p_hex_encode(buf, sizeof buf, NULL, v->raw, v->raw_len);
  return json_string(buf);
}

static json_t *json_pair(const ethp2p_rlp_item *k, const ethp2p_rlp_item *v) {
  char buf[4 * ETHP2P_ENR_MAX_SIZE + 8];
  ethp2p_diag d = {0};
  json_t *o = json_object();

  quote_key(buf, sizeof buf, k->payload, k->payload_len, false);
  json_object_set_new(o, "key", json_string(buf));
  ethp2p_hex_encode(buf, sizeof buf, NULL, k->payload, k->payload_len);
  json_object_set_new(o, "key_hex", json_string(buf));
  ethp2p_hex_encode(buf, sizeof buf, NULL, v->raw, v->raw_len);
  json_object_set_new(o, "raw", json_string(buf));
  if (ethp2p_enr_value_check(k->payload, k->payload_len, v, &d) != 0) {
    json_object_set_new(o, "value", json_null());
    json_object_set_new(o, "malformed", json_string(d.msg));
  } else {
    json_object_set_new(o, "value", json_value(k->payload, k->payload_len, v));
  }
  annotate(buf, sizeof buf, k->payload, k->payload_len, v);
  if (buf[0] != '\0')
    json_object_set_new(o, "info", json_string(buf));
  return o;
}

static int dump_json(const ethp2p_enr *rec, const uint8_t id[32]) {
  char idhex[65], url[ETHP2P_ENODE_URL_MAX], sig[2 * ETHP2P_ENR_SIG_MAX + 1];
  char text[ETHP2P_ENR_TEXT_MAX + 1];
  size_t n = ethp2p_enr_pair_count(rec), siglen = 0;
  const uint8_t *s = ethp2p_enr_signature(rec, &siglen);
  uint64_t seq = ethp2p_enr_seq(rec);
  json_t *o = json_object(), *pairs = json_array();
  char *dumped;
  bool ok;

  ethp2p_hex_encode(idhex, sizeof idhex, NULL, id, 32);
  ethp2p_hex_encode(sig, sizeof sig, NULL, s, siglen);
  enode_text(url, sizeof url, rec, &ok);
  ethp2p_enr_text_encode(text, sizeof text, NULL, rec);
  json_object_set_new(o, "node_id", json_string(idhex));
  json_object_set_new(o, "enode", ok ? json_string(url) : json_null());
  if (!ok)
    json_object_set_new(o, "enode_error", json_string(url));
  if (seq <= (uint64_t)INT64_MAX) {
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
  } else {
    char dec[24];
    snprintf(dec, sizeof dec, "%" PRIu64, seq);
    json_object_set_new(o, "seq", json_string(dec));
  }
  json_object_set_new(o, "signature", json_string(sig));
  json_object_set_new(o, "record", json_string(text));
  for (size_t i = 0; i < n; i++) {
    ethp2p_rlp_item k, v;
    ethp2p_enr_pair_at(rec, i, &k, &v);
    json_array_append_new(pairs, json_pair(&k, &v));
  }
  json_object_set_new(o, "pairs", pairs);
  dumped = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (dumped == NULL) {
    fprintf(stderr, "ethp2p enr dump: out of memory\n");
    return CLI_EXIT_INVALID;
  }
  printf("%s\n", dumped);
  free(dumped);
  return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}

static int enr_dump(int argc, char **argv) {
  bool json = false, only_args = false, from_stdin;
  int nargs = 0;
  const char *src = "-", *file = NULL;
  uint8_t *buf = NULL;
  size_t len = 0;
  ethp2p_enr rec;
  ethp2p_diag d = {0};
  uint8_t id[32];
  int rc;

  /* Hand-parsed: a record's base64 text usually starts with '-' ("-IS4Q..." when the
   * "enr:" prefix was forgotten), which getopt would take for options. */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!only_args && strcmp(a, "--json") == 0) {
      json = true;
    } else if (!only_args && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      fputs(enr_dump_help_text, stdout);
      return CLI_EXIT_OK;
    } else if (!only_args && strcmp(a, "--") == 0) {
      only_args = true;
    } else if (!only_args && (strcmp(a, "--file") == 0 || strcmp(a, "-file") == 0 ||
                              strncmp(a, "--file=", 7) == 0 || strncmp(a, "-file=", 6) == 0)) {
      /* devp2p's -file FILE ("-" = stdin); Go's flag spellings all work */
      const char *eq = strchr(a, '=');
      if (eq != NULL) {
        file = eq + 1;
      } else if (i + 1 < argc) {
        file = argv[++i];
      } else {
        fprintf(stderr, "ethp2p enr %s: --file needs a file name (or - for stdin)\n%s", argv[0],
                dump_hint);
        return CLI_EXIT_USAGE;
      }
      if (*file == 0) {
        fprintf(stderr, "ethp2p enr %s: --file needs a file name (or - for stdin)\n%s", argv[0],
                dump_hint);
        return CLI_EXIT_USAGE;
      }
    } else if (!only_args && strcmp(a, "-json") == 0) {
      json = true;
    } else if (!only_args && (strncmp(a, "--", 2) == 0 || (a[0] == '-' && strlen(a) == 2))) {
      fprintf(stderr, "ethp2p enr %s: unknown option \"%s\"\n%s", argv[0], a, dump_hint);
      return CLI_EXIT_USAGE;
    } else {
      if (nargs == 1) {
        fprintf(stderr, "ethp2p enr %s: expected one record, got more arguments\n%s", argv[0],
                dump_hint);
        return CLI_EXIT_USAGE;
      }
      src = a;
      nargs++;
    }
  }
  if (file != NULL && nargs != 0) {
    fprintf(stderr,
            "ethp2p enr %s: give the record either as an argument or with --file, not both\n%s",
            argv[0], dump_hint);
    return CLI_EXIT_USAGE;
  }
  if (file != NULL)
    src = file;
  if (nargs == 0 && file == NULL && isatty(STDIN_FILENO)) {
    /* Nothing piped in: waiting on the terminal would look like a hang. */
    fprintf(stderr, "ethp2p enr %s: no record given (pass one, or pipe it in and use -)\n%s",
            argv[0], dump_hint);
    return CLI_EXIT_USAGE;
  }
  from_stdin = strcmp(src, "-") == 0 || file != NULL; /* read bytes: text, hex or binary */
  if (from_stdin) {
    errno = 0;
    rc = cli_read_all(file != NULL ? file : "-", ENR_INPUT_MAX, &buf, &len);
    if (rc == ETHP2P_ETOOBIG)
      return invalid("input too large (a record is at most 300 bytes)");
    if (rc != 0) {
      if (file != NULL && strcmp(file, "-") != 0)
        fprintf(stderr, "ethp2p enr %s: cannot read %s: %s\n", argv[0], file,
                errno != 0 ? strerror(errno) : ethp2p_strerror(rc));
      else
        fprintf(stderr, "ethp2p enr %s: cannot read standard input: %s\n", argv[0],
                ethp2p_strerror(rc));
      return CLI_EXIT_INVALID;
    }
  } else {
    len = strlen(src);
    if (len > ENR_INPUT_MAX)
      return invalid("input too large (a record is at most 300 bytes)");
  }
  rc = decode_input(&rec, from_stdin ? buf : (const uint8_t *)src, len, from_stdin,
                    from_stdin ? NULL : src);
  free(buf);
  if (rc != 0)
    return rc;
  rc = ethp2p_enr_verify(&rec, &d);
  if (rc != 0)
    return invalid(d.msg[0] != '\0' ? d.msg : ethp2p_strerror(rc));
  if (ethp2p_enr_node_id(id, &rec) != 0)
    return invalid("cannot derive the node ID");
  return json ? dump_json(&rec, id) : dump_text(&rec, id);
}

int ethp2p_cmd_enr(int argc, char **argv) {
  if (argc < 2) {
    fputs(enr_usage_text, stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    fputs(enr_usage_text, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "dump") == 0 || strcmp(argv[1], "decode") == 0)
    return enr_dump(argc - 1, argv + 1);
  fprintf(stderr, "ethp2p enr: unknown command \"%s\"\n\n%s", argv[1], enr_usage_text);
  return CLI_EXIT_USAGE;
}
