/*
 * env/addr.c — the ethp2p_addr value type: parsing, formatting, classification.
 *
 * Parsing policy (see docs/env.md):
 *   - IPv4 is a strict dotted quad: exactly four decimal parts of 1-3 digits, each
 *     <= 255, and no leading zeros ("01" is rejected: inet_aton would read it as
 *     octal, Go's net.ParseIP rejects it since 1.17; we refuse the ambiguity).
 *   - IPv6 follows RFC 4291 section 2.2 text forms (inet_pton), without zones.
 *   - A port is 1-5 decimal digits, <= 65535, without leading zeros ("0" is fine).
 *   - IPv6 with a port is written "[addr]:port" (RFC 3986 section 3.2.2); brackets
 *     around an IPv4 literal are rejected.
 *   - No whitespace anywhere; at most ETHP2P_ADDRSTRLEN - 1 characters.
 *   - IPv4-mapped IPv6 ("::ffff:1.2.3.4") stays family 6; the classification
 *     functions look at the embedded IPv4 address.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ethp2p/env.h"

ethp2p_addr ethp2p_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  ethp2p_addr out;
  memset(&out, 0, sizeof(out));
  out.family = 4;
  out.ip[0] = a;
  out.ip[1] = b;
  out.ip[2] = c;
  out.ip[3] = d;
  out.port = port;
  return out;
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Parses a decimal number of 1..maxdigits digits, no leading zero, value <= max,
 * occupying exactly s[0..len).  Returns false on any deviation. */
static bool parse_dec(const char *s, size_t len, size_t maxdigits, unsigned max, unsigned *out) {
  unsigned v = 0;
  size_t i;
  if (len == 0 || len > maxdigits)
    return false;
  if (len > 1 && s[0] == '0')
    return false;
  for (i = 0; i < len; i++) {
    if (!is_digit(s[i]))
      return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v > max)
    return false;
  *out = v;
  return true;
}

/* Strict dotted quad over s[0..len). */
static bool parse_v4(const char *s, size_t len, uint8_t ip[4]) {
  size_t start = 0;
  int part;
  for (part = 0; part < 4; part++) {
    size_t end = start;
    unsigned v;
    while (end < len && s[end] != '.')
      end++;
    if (!parse_dec(s + start, end - start, 3, 255, &v))
      return false;
    ip[part] = (uint8_t)v;
    if (part < 3) {
      if (end >= len) /* fewer than four parts */
        return false;
      start = end + 1;
    } else if (end != len) { /* a fifth part */
      return false;
    }
  }
  return true;
}

/* IPv6 text over s[0..len) via inet_pton, after our own character check (no zones). */
static bool parse_v6(const char *s, size_t len, uint8_t ip[16]) {
  char tmp[ETHP2P_ADDRSTRLEN];
  size_t i;
  if (len == 0 || len >= sizeof(tmp))
    return false;
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
      return false;
  }
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  return inet_pton(AF_INET6, tmp, ip) == 1;
}

static bool parse_ip_span(ethp2p_addr *out, const char *s, size_t len) {
  if (memchr(s, ':', len) != NULL) {
    if (!parse_v6(s, len, out->ip))
      return false;
    out->family = 6;
    return true;
  }
  if (!parse_v4(s, len, out->ip))
    return false;
  out->family = 4;
  return true;
}

int ethp2p_addr_parse_ip(ethp2p_addr *out, const char *text) {
  size_t len;
  if (out == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof(*out));
  if (text == NULL)
    return ETHP2P_EINVAL;
  len = strnlen(text, ETHP2P_ADDRSTRLEN);
  if (len == 0 || len >= ETHP2P_ADDRSTRLEN || !parse_ip_span(out, text, len)) {
    memset(out, 0, sizeof(*out));
    return ETHP2P_ESYNTAX;
  }
  return 0;
}

int ethp2p_addr_parse(ethp2p_addr *out, const char *text, uint16_t default_port) {
  const char *host, *colon;
  size_t len, hostlen;
  unsigned port = default_port;
  if (out == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof(*out));
  if (text == NULL)
    return ETHP2P_EINVAL;
  len = strnlen(text, ETHP2P_ADDRSTRLEN);
  if (len == 0 || len >= ETHP2P_ADDRSTRLEN)
    goto bad;

  if (text[0] == '[') {
    /* "[v6]" or "[v6]:port" */
    const char *close = memchr(text, ']', len);
    if (close == NULL)
      goto bad;
    host = text + 1;
    hostlen = (size_t)(close - host);
    if (memchr(host, ':', hostlen) == NULL) /* brackets are for IPv6 only */
      goto bad;
    if (!parse_v6(host, hostlen, out->ip))
      goto bad;
    out->family = 6;
    if (close + 1 != text + len) {
      const char *p = close + 1;
      if (*p != ':' || !parse_dec(p + 1, (size_t)(text + len - (p + 1)), 5, 65535, &port))
        goto bad;
    }
    out->port = (uint16_t)port;
    return 0;
  }

  colon = memchr(text, ':', len);
  if (colon != NULL && memchr(colon + 1, ':', (size_t)(text + len - (colon + 1))) != NULL) {
    /* Two or more colons: a bare IPv6 literal, no port. */
    if (!parse_v6(text, len, out->ip))
      goto bad;
    out->family = 6;
    out->port = (uint16_t)port;
    return 0;
  }
  hostlen = colon != NULL ? (size_t)(colon - text) : len;
  if (!parse_v4(text, hostlen, out->ip))
    goto bad;
  out->family = 4;
  if (colon != NULL && !parse_dec(colon + 1, (size_t)(text + len - (colon + 1)), 5, 65535, &port))
    goto bad;
  out->port = (uint16_t)port;
  return 0;

bad:
  memset(out, 0, sizeof(*out));
  return ETHP2P_ESYNTAX;
}

/* RFC 5952 section 4: lower-case hex without leading zeros, the longest run
 * (first on a tie) of two or more zero groups written "::", and dotted-quad
 * notation only for IPv4-mapped addresses (section 5).  glibc's inet_ntop also
 * uses it for the deprecated IPv4-compatible form (::1:80 -> ::0.1.0.128). */
static void format_v6(const uint8_t ip[16], char *out, size_t size) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  unsigned g[8];
  int i, best = -1, bestlen = 0, groups = 8;
  size_t n = 0;
  for (i = 0; i < 8; i++)
    g[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
  if (memcmp(ip, mapped, sizeof(mapped)) == 0)
    groups = 6; /* the last 32 bits are printed as IPv4 */
  for (i = 0; i < groups;) {
    int j = i;
    while (j < groups && g[j] == 0)
      j++;
    if (j - i > bestlen) {
      best = i;
      bestlen = j - i;
    }
    i = j > i ? j : i + 1;
  }
  if (bestlen < 2)
    best = -1;
  out[0] = '\0';
  for (i = 0; i < groups && n < size; i++) {
    if (i == best) {
      n += (size_t)snprintf(out + n, size - n, "::");
      i += bestlen - 1;
      continue;
    }
    n += (size_t)snprintf(out + n, size - n, "%s%x", (i > 0 && i != best + bestlen) ? ":" : "",
                          g[i]);
  }
  if (groups == 6 && n < size)
    snprintf(out + n, size - n, "%s%u.%u.%u.%u", best + bestlen == 6 ? "" : ":", ip[12], ip[13],
             ip[14], ip[15]);
}

char *ethp2p_addr_format(const ethp2p_addr *a, bool with_port, char *buf, size_t size) {
  char ip[INET6_ADDRSTRLEN];
  if (buf == NULL || size == 0)
    return buf;
  if (a == NULL || (a->family != 4 && a->family != 6)) {
    snprintf(buf, size, "<unset>");
    return buf;
  }
  if (a->family == 4) {
    snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3]);
    if (with_port)
      snprintf(buf, size, "%s:%u", ip, (unsigned)a->port);
    else
      snprintf(buf, size, "%s", ip);
    return buf;
  }
  format_v6(a->ip, ip, sizeof(ip));
  if (with_port)
    snprintf(buf, size, "[%s]:%u", ip, (unsigned)a->port);
  else
    snprintf(buf, size, "%s", ip);
  return buf;
}

static size_t ip_len(const ethp2p_addr *a) {
  return a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
}

bool ethp2p_addr_equal(const ethp2p_addr *a, const ethp2p_addr *b, bool with_port) {
  if (a == NULL || b == NULL || a->family != b->family)
    return false;
  if (memcmp(a->ip, b->ip, ip_len(a)) != 0)
    return false;
  return !with_port || a->port == b->port;
}

uint32_t ethp2p_addr_v4_u32(const ethp2p_addr *a) {
  if (a == NULL || a->family != 4)
    return 0;
  return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3];
}

/* The IPv4 view of a: family 4 as is, or an IPv4-mapped IPv6 address
 * (::ffff:0:0/96, RFC 4291 section 2.5.5.2). */
static bool as_v4(const ethp2p_addr *a, uint8_t v4[4]) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (a == NULL)
    return false;
  if (a->family == 4) {
    memcpy(v4, a->ip, 4);
    return true;
  }
  if (a->family == 6 && memcmp(a->ip, mapped, sizeof(mapped)) == 0) {
    memcpy(v4, a->ip + 12, 4);
    return true;
  }
  return false;
}

static bool is_v6(const ethp2p_addr *a) {
  return a != NULL && a->family == 6;
}

bool ethp2p_addr_is_unspecified(const ethp2p_addr *a) {
  static const uint8_t zero[16];
  if (a == NULL)
    return false;
  if (a->family == 4)
    return memcmp(a->ip, zero, 4) == 0;
  if (a->family == 6)
    return memcmp(a->ip, zero, 16) == 0;
  return false;
}

bool ethp2p_addr_is_loopback(const ethp2p_addr *a) {
  static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  uint8_t v4[4];
  if (as_v4(a, v4))
    return v4[0] == 127; /* 127.0.0.0/8, RFC 1122 section 3.2.1.3 */
  return is_v6(a) && memcmp(a->ip, one, 16) == 0;
}

bool ethp2p_addr_is_private(const ethp2p_addr *a) {
  uint8_t v4[4];
  if (as_v4(a, v4)) {
    return v4[0] == 10                               /* 10/8, RFC 1918 */
           || (v4[0] == 172 && (v4[1] & 0xf0) == 16) /* 172.16/12, RFC 1918 */
           || (v4[0] == 192 && v4[1] == 168)         /* 192.168/16, RFC 1918 */
           || (v4[0] == 169 && v4[1] == 254);        /* 169.254/16, RFC 3927 */
  }
  if (!is_v6(a))
    return false;
  return (a->ip[0] & 0xfe) == 0xfc                           /* fc00::/7, RFC 4193 */
         || (a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80); /* fe80::/10, RFC 4291 2.5.6 */
}

bool ethp2p_addr_is_cgnat(const ethp2p_addr *a) {
  uint8_t v4[4];
  /* 100.64.0.0/10, RFC 6598 section 7 */
  return as_v4(a, v4) && v4[0] == 100 && (v4[1] & 0xc0) == 64;
}

bool ethp2p_addr_is_multicast(const ethp2p_addr *a) {
  uint8_t v4[4];
  if (as_v4(a, v4))
    return (v4[0] & 0xf0) == 224;      /* 224.0.0.0/4, RFC 5771 */
  return is_v6(a) && a->ip[0] == 0xff; /* ff00::/8, RFC 4291 section 2.7 */
}

bool ethp2p_addr_same_subnet(const ethp2p_addr *a, const ethp2p_addr *b, unsigned prefix_len) {
  size_t full, i;
  unsigned rest;
  if (a == NULL || b == NULL || a->family != b->family || ip_len(a) == 0)
    return false;
  if (prefix_len > ip_len(a) * 8)
    return false;
  full = prefix_len / 8;
  rest = prefix_len % 8;
  for (i = 0; i < full; i++)
    if (a->ip[i] != b->ip[i])
      return false;
  if (rest != 0) {
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    if ((a->ip[full] & mask) != (b->ip[full] & mask))
      return false;
  }
  return true;
}

bool ethp2p_addr_is_public(const ethp2p_addr *a) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b}; /* 64:ff9b::/96, RFC 6052 2.1 */
  if (a == NULL || (a->family != 4 && a->family != 6))
    return false;
  if (ethp2p_addr_is_unspecified(a) || ethp2p_addr_is_loopback(a) || ethp2p_addr_is_private(a) ||
      ethp2p_addr_is_multicast(a))
    return false;
  if (a->family == 4) {
    return a->ip[0] != 0                /* 0.0.0.0/8 "this network", RFC 1122 3.2.1.3 */
           && (a->ip[0] & 0xf0) != 240  /* 240/4 reserved and the broadcast address */
           && !ethp2p_addr_is_cgnat(a); /* 100.64/10, RFC 6598 */
  }
  if (memcmp(a->ip, mapped, sizeof(mapped)) == 0) /* ::ffff:0:0/96, RFC 4291 2.5.5.2 */
    return false;
  if (memcmp(a->ip, nat64, sizeof(nat64)) == 0)
    return false;
  if (a->ip[0] == 0x20 && a->ip[1] == 0x01 && a->ip[2] == 0x0d && a->ip[3] == 0xb8)
    return false; /* 2001:db8::/32, RFC 3849 */
  return true;
}
