/* cmd/ethp2p/cli.c — helpers shared by the subcommands. */
#include "cmd/ethp2p/cli.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "ethp2p/error.h"
#include "ethp2p/nat.h"

int cli_read_all(const char *path, size_t max, uint8_t **out, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  uint8_t *buf;
  size_t n = 0, cap = 4096;
  int err = 0;

  *out = NULL;
  *len = 0;
  if (f == NULL)
    return ETHP2P_EIO;
  buf = malloc(cap + 1);
  if (buf == NULL) {
    err = ETHP2P_ENOMEM;
    goto out_close;
  }
  for (;;) {
    size_t got;
    if (n == cap) {
      uint8_t *nb;
      if (cap > max) {
        err = ETHP2P_ETOOBIG;
        goto out_free;
      }
      cap *= 2;
      nb = realloc(buf, cap + 1);
      if (nb == NULL) {
        err = ETHP2P_ENOMEM;
        goto out_free;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    err = ETHP2P_EIO;
    goto out_free;
  }
  if (n > max) {
    err = ETHP2P_ETOOBIG;
    goto out_free;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  goto out_close;
out_free:
  free(buf);
out_close:
  if (f != stdin)
    fclose(f);
  return err;
}

/* RFC 3339 local time with milliseconds and the zone offset ("+01:00", "Z" for UTC). */
static void rfc3339_now(char *out, size_t cap) {
  struct timeval tv;
  struct tm tm;
  char base[32];
  long off;
  int ms;

  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  off = tm.tm_gmtoff / 60;
  ms = (int)(tv.tv_usec / 1000) % 1000;
  if (off == 0) {
    snprintf(out, cap, "%.20s.%03dZ", base, ms);
  } else {
    int a = (int)((off < 0 ? -off : off) % (24 * 60));
    snprintf(out, cap, "%.20s.%03d%c%02d:%02d", base, ms, off < 0 ? '-' : '+', a / 60, a % 60);
  }
}

/* Writes s as a JSON string body (no quotes), escaping what RFC 8259 §7 requires. */
static void json_escape(FILE *f, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c == '\n')
      fputs("\\n", f);
    else if (c == '\t')
      fputs("\\t", f);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
}

/* One "key=value" pair of a kv string: value either "quoted \"text\"" or up to
 * the next space.  Returns false at the end. */
typedef struct kv_pair {
  const char *key, *val;
  size_t klen, vlen;
  bool quoted; /* the value was quoted; its escapes (\" and \\) are still in it */
} kv_pair;

/* Whether p starts "key=": a run of key characters followed by '='. */
static bool starts_pair(const char *p) {
  const char *q = p;
  while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
         *q == '_' || *q == '-' || *q == '.')
    q++;
  return q > p && *q == '=';
}

static bool kv_next(const char **pp, kv_pair *kvp) {
  const char *p = *pp;
  while (*p == ' ')
    p++;
  if (*p == 0)
    return false;
  kvp->key = p;
  while (*p != 0 && *p != '=' && *p != ' ')
    p++;
  kvp->klen = (size_t)(p - kvp->key);
  kvp->quoted = false;
  if (*p != '=') { /* a bare word: keep it as a value of key "" */
    kvp->val = kvp->key;
    kvp->vlen = kvp->klen;
    kvp->klen = 0;
    *pp = p;
    return true;
  }
  p++;
  if (*p == '"') {
    kvp->quoted = true;
    kvp->val = ++p;
    while (*p != 0 && *p != '"') {
      if (*p == '\\' && p[1] != 0)
        p++;
      p++;
    }
    kvp->vlen = (size_t)(p - kvp->val);
    if (*p == '"')
      p++;
  } else {
    /* Unquoted values may hold spaces (a path); the value ends at the space
     * that starts the next "key=" or at the end. */
    kvp->val = p;
    while (*p != 0 && !(*p == ' ' && starts_pair(p + 1)))
      p++;
    kvp->vlen = (size_t)(p - kvp->val);
  }
  *pp = p;
  return true;
}

/* A JSON number we are willing to emit: an optional '-' and 1..18 digits, no leading 0. */
static bool is_json_int(const char *s, size_t n) {
  size_t i = 0;
  if (n > 0 && s[0] == '-')
    i = 1;
  if (n == i || n - i > 18 || (s[i] == '0' && n - i > 1))
    return false;
  for (; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static void json_kv(FILE *f, const char *kv) {
  kv_pair p;
  while (kv_next(&kv, &p)) {
    fputs(",\"", f);
    if (p.klen == 0)
      fputs("extra", f);
    else
      json_escape(f, p.key, p.klen);
    fputs("\":", f);
    if (!p.quoted && is_json_int(p.val, p.vlen)) {
      fwrite(p.val, 1, p.vlen, f);
      continue;
    }
    fputc('"', f);
    for (size_t i = 0; i < p.vlen; i++) {
      if (p.quoted && p.val[i] == '\\' && i + 1 < p.vlen)
        i++; /* the library's escape: take the next character literally */
      json_escape(f, p.val + i, 1);
    }
    fputc('"', f);
  }
}

static void lower(FILE *f, const char *s) {
  for (; *s; s++)
    fputc(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s, f);
}

void cli_log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                  const char *kv) {
  int format = data != NULL ? *(const int *)data : CLI_LOG_TERMINAL;
  char ts[64];

  if (format == CLI_LOG_JSON) {
    rfc3339_now(ts, sizeof ts);
    fprintf(stderr, "{\"t\":\"%s\",\"lvl\":\"", ts);
    lower(stderr, ethp2p_log_level_name(level));
    fputs("\",\"msg\":\"", stderr);
    json_escape(stderr, msg, strlen(msg));
    fputs("\",\"module\":\"", stderr);
    json_escape(stderr, module, strlen(module));
    fputc('"', stderr);
    json_kv(stderr, kv);
    fputs("}\n", stderr);
  } else if (format == CLI_LOG_LOGFMT) {
    rfc3339_now(ts, sizeof ts);
    fprintf(stderr, "t=%s lvl=", ts);
    lower(stderr, ethp2p_log_level_name(level));
    fputs(" msg=\"", stderr);
    for (const char *p = msg; *p; p++)
      fprintf(stderr, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    fprintf(stderr, "\" module=%s%s%s\n", module, *kv ? " " : "", kv);
  } else {
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof ts, "%m-%d|%H:%M:%S", &tm);
    fprintf(stderr, "%-5s[%s.%03ld] %-40s %s\n", ethp2p_log_level_name(level), ts,
            (long)(tv.tv_usec / 1000), msg, kv);
  }
}

int cli_log_format_parse(const char *s) {
  if (strcmp(s, "terminal") == 0)
    return CLI_LOG_TERMINAL;
  if (strcmp(s, "json") == 0)
    return CLI_LOG_JSON;
  if (strcmp(s, "logfmt") == 0)
    return CLI_LOG_LOGFMT;
  return -1;
}

bool cli_parse_uint(const char *s, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (s == NULL || *s == 0)
    return false;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    if ((uint64_t)(*p - '0') > max || v > (max - (uint64_t)(*p - '0')) / 10)
      return false;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  *out = v;
  return true;
}

bool cli_parse_duration(const char *s, uint64_t *out_ms) {
  static const struct {
    const char *suffix;
    uint64_t ms;
  } units[] = {{"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  const uint64_t max_ms = 30ull * 86400000;
  char num[24];
  size_t n = 0;
  uint64_t v;
  if (s == NULL)
    return false;
  while (s[n] >= '0' && s[n] <= '9') {
    if (n == sizeof num - 1)
      return false;
    num[n] = s[n];
    n++;
  }
  num[n] = 0;
  if (!cli_parse_uint(num, max_ms, &v) || v == 0)
    return false;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(s + n, units[i].suffix) == 0) {
      if (v > max_ms / units[i].ms)
        return false;
      *out_ms = v * units[i].ms;
      return true;
    }
  }
  return false;
}

int cli_go_flags(int argc, char **argv) {
  static char pool[1 << 18]; /* Linux caps one argument at 128 KiB (MAX_ARG_STRLEN) */
  size_t used = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    size_t n;
    if (strcmp(a, "--") == 0)
      break;
    if (a[0] != '-' || a[1] == '-' || a[1] == 0 || a[2] == 0 || a[2] == '=')
      continue;
    if (!((a[1] >= 'a' && a[1] <= 'z') || (a[1] >= 'A' && a[1] <= 'Z')))
      continue; /* "-5", "-IS4Q..." style values are not flags */
    n = strlen(a);
    if (used + n + 2 > sizeof pool)
      break; /* absurdly long command lines keep their spelling */
    pool[used] = '-';
    memcpy(pool + used + 1, a, n + 1);
    argv[i] = pool + used;
    used += n + 2;
  }
  return argc;
}

/* STUN servers may be host names; the library takes IP literals only, so
 * resolve them here (the command may touch the OS; the library may not). */
int cli_resolve_stun(ethp2p_nat_spec *spec, const char *who) {
  char in[sizeof spec->stun_servers], out[sizeof spec->stun_servers];
  size_t o = 0;
  snprintf(in, sizeof in, "%s",
           spec->stun_servers[0] != '\0' ? spec->stun_servers : ETHP2P_STUN_DEFAULT_SERVERS);
  out[0] = '\0';
  for (char *p = in; *p != '\0';) {
    char *end = strchr(p, ',');
    if (end != NULL)
      *end = '\0';
    char host[256] = "", port[16] = "3478";
    char *colon = strrchr(p, ':');
    if (colon != NULL && strchr(p, ':') == colon) {
      snprintf(host, sizeof host, "%.*s", (int)(colon - p), p);
      snprintf(port, sizeof port, "%s", colon + 1);
    } else {
      snprintf(host, sizeof host, "%s", p);
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    char ip[64];
    if (getaddrinfo(host, port, &hints, &res) == 0 && res != NULL &&
        getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST) == 0) {
      int n = snprintf(out + o, sizeof out - o, "%s%s:%s", o > 0 ? "," : "", ip, port);
      if (n > 0 && (size_t)n < sizeof out - o)
        o += (size_t)n;
    } else {
      fprintf(stderr, "%s: cannot resolve STUN server %s\n", who, host);
    }
    if (res != NULL)
      freeaddrinfo(res);
    if (end == NULL)
      break;
    p = end + 1;
  }
  if (o == 0) {
    fprintf(stderr, "%s: no usable STUN server\n", who);
    return -1;
  }
  snprintf(spec->stun_servers, sizeof spec->stun_servers, "%s", out);
  return 0;
}

/* --nat checks the library's parser leaves to us: NAT-PMP is IPv4-only (RFC 6886
 * §3), PCP over IPv6 and an IPv6 extip (the record's ip6) are not done yet. */
int cli_check_nat_family(const ethp2p_nat_spec *spec, const char *text, const char *who) {
  if (!spec->has_addr || spec->addr.family != 6)
    return 0;
  switch (spec->kind) {
  case ETHP2P_NAT_PMP:
    fprintf(stderr,
            "%s: invalid --nat \"%s\": NAT-PMP is IPv4-only; give the IPv4 "
            "address of the gateway\n",
            who, text);
    break;
  case ETHP2P_NAT_PCP:
    fprintf(stderr,
            "%s: invalid --nat \"%s\": PCP over IPv6 is not supported yet; "
            "give the IPv4 address of the gateway\n",
            who, text);
    break;
  case ETHP2P_NAT_EXTIP:
    fprintf(stderr,
            "%s: invalid --nat \"%s\": an IPv6 external address (the record's "
            "ip6) is not supported yet; give an IPv4 address\n",
            who, text);
    break;
  default:
    return 0;
  }
  return -1;
}

/* Removes the library's own position notes from msg (" at offset N", " (byte N
 * of the decoded record)"): they count from other origins (the base64 payload,
 * the hex digits) than the one place we print.  Returns whether a "decoded
 * record" note was there, i.e. the error is in the record's bytes, not in its text. */
bool cli_strip_positions(char *msg) {
  bool record_note = false;
  char *p;
  while ((p = strstr(msg, " at offset ")) != NULL) {
    char *e = p + strlen(" at offset ");
    while (*e >= '0' && *e <= '9')
      e++;
    memmove(p, e, strlen(e) + 1);
  }
  while ((p = strstr(msg, " (byte ")) != NULL) {
    char *e = p + strlen(" (byte ");
    while (*e >= '0' && *e <= '9')
      e++;
    if (strncmp(e, " of the decoded record)", 23) != 0)
      break;
    memmove(p, e + 23, strlen(e + 23) + 1);
    record_note = true;
  }
  return record_note;
}
