/*
 * enr/enode.c — enode URLs (see ethp2p/enode.h for the grammar and the choices).
 *
 * The URL is parsed left to right by hand rather than with a general URL parser:
 * the grammar is small, and a hand parser can name the exact offset of a problem.
 */
#include "ethp2p/enode.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "enr/ip6text.h"
#include "ethp2p/enr.h"
#include "ethp2p/secp.h"

#define SCHEME "enode://"
#define SCHEME_LEN 8
#define KEY_HEX 128

static const char hexdigits[] = "0123456789abcdef";

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static bool pubkey_on_curve(const uint8_t pubkey[64]) {
  uint8_t pub33[ETHP2P_SECP_PUB33_LEN];
  return ethp2p_secp_pub64_to_pub33(pub33, pubkey) == 0;
}

/* Parses the 128 hex digits of the key at s[0..]. */
static int parse_key(ethp2p_enode *node, const char *s, size_t len, size_t base,
                     ethp2p_diag *diag) {
  size_t i;
  for (i = 0; i < len && i < KEY_HEX; i++) {
    if (hexval(s[i]) < 0)
      break;
  }
  if (i < KEY_HEX) {
    if (i < len && s[i] != '@')
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base + i,
                             "invalid character in node ID at offset %zu: want 128 hex digits",
                             base + i);
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base + i, "node ID has %zu hex digits, want 128",
                           i);
  }
  if (len > KEY_HEX && hexval(s[KEY_HEX]) >= 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base + KEY_HEX,
                           "node ID has more than 128 hex digits");
  for (i = 0; i < 64; i++)
    node->pubkey[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
  if (!pubkey_on_curve(node->pubkey))
    return ethp2p_diag_set(diag, ETHP2P_EKEY, base,
                           "node ID is not a valid secp256k1 public key (not on the curve)");
  return 0;
}

/* Parses a decimal port of 1..5 digits occupying all of s[0..len). */
static int parse_port(uint16_t *out, const char *s, size_t len, size_t base, const char *what,
                      ethp2p_diag *diag) {
  unsigned long v = 0;
  if (len == 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base, "missing %s", what);
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base + i,
                             "invalid %s: unexpected character at offset %zu", what, base + i);
    if (i >= 5)
      return ethp2p_diag_set(diag, ETHP2P_ERANGE, base, "invalid %s: more than 65535", what);
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v > 65535)
    return ethp2p_diag_set(diag, ETHP2P_ERANGE, base, "invalid %s: %lu is more than 65535", what,
                           v);
  *out = (uint16_t)v;
  return 0;
}

static bool dns_name_like(const char *s, size_t len) {
  bool alpha = false;
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      alpha = true;
    else if (!((c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
  }
  return alpha;
}

/*
 * Brackets (RFC 3986 section 3.2.2): an IP literal is "[" address "]" at the very
 * start of the host; any other '[' or ']' (a second pair, a lone one, one inside
 * an IPv4 host) is refused here with its offset, before the address is looked at.
 */
static int check_brackets(const char *s, size_t len, size_t base, ethp2p_diag *diag) {
  bool open = false, closed = false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '[' && i == 0) {
      open = true;
    } else if (s[i] == ']' && open && !closed) {
      closed = true;
    } else if (s[i] == '[' || s[i] == ']') {
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base + i,
                             "unbalanced '%c' at offset %zu: an IPv6 host is written "
                             "[address]:port",
                             s[i], base + i);
    }
  }
  return 0;
}

/*
 * Parses "host:port" (host IPv4 or [IPv6]) at s[0..len) where len stops at '?'
 * or the end.  base is the offset of s in the whole URL.
 */
static int parse_hostport(ethp2p_enode *node, const char *s, size_t len, size_t base,
                          ethp2p_diag *diag) {
  char buf[64];
  size_t hostlen, portoff;
  int err;

  if (len == 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base, "missing host after '@'");
  if ((err = check_brackets(s, len, base, diag)) != 0)
    return err;
  if (s[0] == '[') {
    const char *close = memchr(s, ']', len);
    if (close == NULL)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base, "missing ']' after IPv6 address");
    hostlen = (size_t)(close - s) - 1;
    if (memchr(s + 1, '%', hostlen) != NULL)
      return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, base + 1,
                             "IPv6 zone identifiers are not supported in enode URLs");
    if (hostlen == 0 || hostlen >= sizeof buf)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base + 1, "invalid IPv6 address");
    memcpy(buf, s + 1, hostlen);
    buf[hostlen] = '\0';
    if (inet_pton(AF_INET6, buf, node->ip) != 1)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base + 1, "invalid IPv6 address \"%s\"", buf);
    node->ip_len = 16;
    /* ::ffff:a.b.c.d is an IPv4 address written as IPv6 (Go's To4 does the same). */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(node->ip, mapped, sizeof mapped) == 0) {
      memmove(node->ip, node->ip + 12, 4);
      memset(node->ip + 4, 0, 12);
      node->ip_len = 4;
    }
    portoff = hostlen + 2;
  } else {
    const char *colon = memchr(s, ':', len);
    hostlen = colon != NULL ? (size_t)(colon - s) : len;
    if (colon != NULL && memchr(colon + 1, ':', len - hostlen - 1) != NULL)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base,
                             "IPv6 addresses must be written in brackets, e.g. [::1]:30303");
    if (hostlen == 0)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base, "missing host after '@'");
    if (hostlen >= sizeof buf)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base, "invalid IP address (too long)");
    memcpy(buf, s, hostlen);
    buf[hostlen] = '\0';
    if (inet_pton(AF_INET, buf, node->ip) != 1) {
      if (dns_name_like(buf, hostlen))
        return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, base,
                               "host \"%s\" is a DNS name; enode URLs need an IP address", buf);
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base, "invalid IP address \"%s\"", buf);
    }
    node->ip_len = 4;
    portoff = hostlen;
  }
  if (portoff >= len || s[portoff] != ':')
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base + portoff,
                           portoff >= len ? "missing port after host"
                                          : "unexpected character after host, want ':'");
  err =
      parse_port(&node->tcp, s + portoff + 1, len - portoff - 1, base + portoff + 1, "port", diag);
  node->udp = node->tcp;
  return err;
}

static int parse_query(ethp2p_enode *node, const char *s, size_t len, size_t base,
                       ethp2p_diag *diag) {
  static const char key[] = "discport=";
  const size_t klen = sizeof key - 1;
  if (len < klen || memcmp(s, key, klen) != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, base,
                           "unknown query in enode URL: only \"discport=N\" is allowed");
  if (memchr(s, '&', len) != NULL)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX,
                           base + (size_t)((const char *)memchr(s, '&', len) - s),
                           "unknown query in enode URL: only \"discport=N\" is allowed");
  return parse_port(&node->udp, s + klen, len - klen, base + klen, "discport", diag);
}

int ethp2p_enode_parse(ethp2p_enode *node, const char *url, size_t len, ethp2p_diag *diag) {
  size_t off = 0, end;
  const char *q;
  int err;

  memset(node, 0, sizeof *node);
  if (url == NULL)
    len = 0;
  if (len > ETHP2P_ENODE_INPUT_MAX)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, ETHP2P_ENODE_INPUT_MAX,
                           "enode URL too long: %zu bytes, at most %d", len,
                           ETHP2P_ENODE_INPUT_MAX);
  if (len >= SCHEME_LEN && strncasecmp(url, SCHEME, SCHEME_LEN) == 0) {
    off = SCHEME_LEN;
  } else if (len != KEY_HEX) {
    const char *sep = len > 0 ? memchr(url, ':', len) : NULL;
    if (sep != NULL)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "invalid URL scheme, want \"enode://\"");
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0,
                           "not an enode URL: want enode://<128 hex digits>@ip:port");
  }
  if ((err = parse_key(node, url + off, len - off, off, diag)) != 0)
    goto fail;
  off += KEY_HEX;
  if (off == len)
    return 0; /* incomplete node: key only */
  if (url[off] != '@') {
    err =
        ethp2p_diag_set(diag, ETHP2P_ESYNTAX, off, "unexpected character after node ID, want '@'");
    goto fail;
  }
  off++;
  /* Reject what a general URL parser would quietly accept and we would drop. */
  for (size_t i = off; i < len; i++) {
    if (url[i] == '#' || url[i] == '/' || url[i] == '@' || url[i] == ' ' || url[i] == '\0' ||
        (unsigned char)url[i] < 0x20 || (unsigned char)url[i] >= 0x7f) {
      err = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i,
                            "unexpected character at offset %zu in the address part", i);
      goto fail;
    }
  }
  q = memchr(url + off, '?', len - off);
  end = q != NULL ? (size_t)(q - url) : len;
  if ((err = parse_hostport(node, url + off, end - off, off, diag)) != 0)
    goto fail;
  if (q != NULL && (err = parse_query(node, q + 1, len - end - 1, end + 1, diag)) != 0)
    goto fail;
  return 0;
fail:
  memset(node, 0, sizeof *node);
  return err;
}

/* Appends s to out at *pos; returns -1 once the space runs out. */
static int put(char *out, size_t outlen, size_t *pos, const char *s, size_t n) {
  if (*pos + n + 1 > outlen)
    return -1;
  memcpy(out + *pos, s, n);
  *pos += n;
  out[*pos] = '\0';
  return 0;
}

int ethp2p_enode_format(const ethp2p_enode *node, char *out, size_t outlen) {
  char tmp[INET6_ADDRSTRLEN + 32];
  size_t pos = 0;
  int n;

  if (outlen > 0)
    out[0] = '\0';
  if (node->ip_len != 0 && node->ip_len != 4 && node->ip_len != 16)
    return ETHP2P_EINVAL;
  if (put(out, outlen, &pos, SCHEME, SCHEME_LEN) != 0)
    goto nospace;
  for (size_t i = 0; i < 64; i++) {
    char h[2] = {hexdigits[node->pubkey[i] >> 4], hexdigits[node->pubkey[i] & 15]};
    if (put(out, outlen, &pos, h, 2) != 0)
      goto nospace;
  }
  if (node->ip_len == 0)
    return (int)pos;
  if (put(out, outlen, &pos, "@", 1) != 0)
    goto nospace;
  if (node->ip_len == 4) {
    n = snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", node->ip[0], node->ip[1], node->ip[2],
                 node->ip[3]);
  } else {
    char a[ETHP2P_IP6TEXT_MAX];
    ethp2p_ip6text_format(a, node->ip);
    n = snprintf(tmp, sizeof tmp, "[%s]", a);
  }
  if (put(out, outlen, &pos, tmp, (size_t)n) != 0)
    goto nospace;
  n = snprintf(tmp, sizeof tmp, ":%u", node->tcp);
  if (put(out, outlen, &pos, tmp, (size_t)n) != 0)
    goto nospace;
  if (node->udp != node->tcp) {
    n = snprintf(tmp, sizeof tmp, "?discport=%u", node->udp);
    if (put(out, outlen, &pos, tmp, (size_t)n) != 0)
      goto nospace;
  }
  return (int)pos;
nospace:
  if (outlen > 0)
    out[0] = '\0';
  return ETHP2P_ESPACE;
}

int ethp2p_enode_init(ethp2p_enode *node, const uint8_t pubkey[64], const uint8_t *ip,
                      size_t ip_len, uint16_t tcp, uint16_t udp) {
  memset(node, 0, sizeof *node);
  if (ip_len != 0 && ip_len != 4 && ip_len != 16)
    return ETHP2P_EINVAL;
  if (ip_len != 0 && ip == NULL)
    return ETHP2P_EINVAL;
  if (!pubkey_on_curve(pubkey))
    return ETHP2P_EKEY;
  memcpy(node->pubkey, pubkey, 64);
  if (ip_len > 0)
    memcpy(node->ip, ip, ip_len);
  node->ip_len = (uint8_t)ip_len;
  node->tcp = tcp;
  node->udp = udp;
  return 0;
}

bool ethp2p_enode_equal(const ethp2p_enode *a, const ethp2p_enode *b) {
  return memcmp(a->pubkey, b->pubkey, 64) == 0 && a->ip_len == b->ip_len &&
         memcmp(a->ip, b->ip, a->ip_len) == 0 && a->tcp == b->tcp && a->udp == b->udp;
}

/* ip.IsValid() && !IsMulticast() in go-ethereum's terms. */
static bool endpoint_ip_ok(const uint8_t *ip, size_t len) {
  if (len == 4)
    return (ip[0] & 0xf0) != 0xe0; /* 224.0.0.0/4 */
  return ip[0] != 0xff;            /* ff00::/8 */
}

/* go-ethereum's localityScore: unspecified 0, loopback 1, link-local 2, private 3, else 4. */
static int locality_score(const uint8_t *ip, size_t len) {
  static const uint8_t zero16[16];
  if (len == 4) {
    if (memcmp(ip, zero16, 4) == 0)
      return 0;
    if (ip[0] == 127)
      return 1;
    if (ip[0] == 169 && ip[1] == 254)
      return 2;
    if (ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xf0) == 16) || (ip[0] == 192 && ip[1] == 168))
      return 3;
    return 4;
  }
  if (memcmp(ip, zero16, 16) == 0)
    return 0;
  if (memcmp(ip, zero16, 15) == 0 && ip[15] == 1)
    return 1;
  if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
    return 2;
  if ((ip[0] & 0xfe) == 0xfc)
    return 3;
  return 4;
}

/* Reads an optional port: absent -> 0; malformed -> error (never read as 0 silently). */
static int port_or_zero(const ethp2p_enr *rec, ethp2p_enr_port which, uint16_t *port, bool *found,
                        ethp2p_diag *diag) {
  int err = ethp2p_enr_port_get(rec, which, port);
  *found = err == 0;
  if (err == ETHP2P_ENOTFOUND) {
    *port = 0;
    return 0;
  }
  if (err != 0)
    return ethp2p_diag_set(diag, err, 0, "record's \"%s\" entry is malformed",
                           ethp2p_enr_port_key(which));
  return 0;
}

int ethp2p_enode_from_record(ethp2p_enode *node, const ethp2p_enr *rec, ethp2p_diag *diag) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  uint8_t ip4[4], ip6[16];
  bool v4 = false, v6 = false, found;
  int err;

  memset(node, 0, sizeof *node);
  err = ethp2p_enr_pubkey64(node->pubkey, rec);
  if (err == ETHP2P_ENOTFOUND)
    return ethp2p_diag_set(diag, err, 0, "record has no \"secp256k1\" public key");
  if (err != 0)
    return ethp2p_diag_set(diag, err, 0, "record's \"secp256k1\" entry is not a valid public key");

  err = ethp2p_enr_ip_get(rec, ip4);
  if (err == ETHP2P_ETYPE)
    goto malformed_ip;
  v4 = err == 0 && endpoint_ip_ok(ip4, 4);
  err = ethp2p_enr_ip6_get(rec, ip6);
  if (err == ETHP2P_ETYPE)
    goto malformed_ip6;
  v6 = err == 0 && endpoint_ip_ok(ip6, 16);
  if (v4 && v6 && locality_score(ip4, 4) < locality_score(ip6, 16))
    v4 = false;
  if (!v4 && v6 && memcmp(ip6, mapped, 12) == 0) {
    /* An IPv4 address written as IPv6 takes the IPv4 ports (go-ethereum's setIP6). */
    memcpy(ip4, ip6 + 12, 4);
    v4 = true;
  }
  if (v4) {
    memcpy(node->ip, ip4, 4);
    node->ip_len = 4;
    if ((err = port_or_zero(rec, ETHP2P_ENR_TCP, &node->tcp, &found, diag)) != 0 ||
        (err = port_or_zero(rec, ETHP2P_ENR_UDP, &node->udp, &found, diag)) != 0)
      goto fail;
  } else if (v6) {
    memcpy(node->ip, ip6, 16);
    node->ip_len = 16;
    if ((err = port_or_zero(rec, ETHP2P_ENR_TCP6, &node->tcp, &found, diag)) != 0)
      goto fail;
    if (!found && (err = port_or_zero(rec, ETHP2P_ENR_TCP, &node->tcp, &found, diag)) != 0)
      goto fail;
    if ((err = port_or_zero(rec, ETHP2P_ENR_UDP6, &node->udp, &found, diag)) != 0)
      goto fail;
    if (!found && (err = port_or_zero(rec, ETHP2P_ENR_UDP, &node->udp, &found, diag)) != 0)
      goto fail;
  }
  return 0;
malformed_ip:
  err = ethp2p_diag_set(diag, ETHP2P_ETYPE, 0, "record's \"ip\" entry is malformed");
  goto fail;
malformed_ip6:
  err = ethp2p_diag_set(diag, ETHP2P_ETYPE, 0, "record's \"ip6\" entry is malformed");
fail:
  memset(node, 0, sizeof *node);
  return err;
}
