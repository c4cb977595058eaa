/*
 * env/uv_sys.c — the host's interfaces (getifaddrs, both families) and the
 * default gateways (IPv4 from /proc/net/route, IPv6 from /proc/net/ipv6_route)
 * for the libuv environment.
 *
 * getifaddrs rather than uv_interface_addresses: libuv drops interfaces that are
 * down and does not report the up/multicast flags the NAT code wants to see.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env/uv_int.h"

#define ROUTE_TEXT_MAX (1u << 20) /* /proc/net/route of a busy router is far smaller */
#define ROUTE_MIN_FIELDS 8        /* Iface Destination Gateway Flags RefCnt Use Metric Mask */
#define RTF_UP_BIT 0x0001u        /* <linux/route.h> RTF_UP */
#define RTF_GATEWAY_BIT 0x0002u   /* <linux/route.h> RTF_GATEWAY */

/* ---------------------------------------------------------------------------
 * /proc/net/route
 *
 * Written by the kernel's fib_route_seq_show() as a header line and then one line
 * per route:
 *   "%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u\n"
 *   Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
 * Destination, Gateway and Mask are the __be32 values printed as host integers.
 * ------------------------------------------------------------------------- */
typedef struct route_field {
  const char *p;
  size_t len;
} route_field;

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool parse_hex32(route_field f, uint32_t *out) {
  uint32_t v = 0;
  size_t i;
  if (f.len == 0 || f.len > 8)
    return false;
  for (i = 0; i < f.len; i++) {
    char c = f.p[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (unsigned)(c - 'A' + 10);
    else
      return false;
    v = v << 4 | d;
  }
  *out = v;
  return true;
}

/* The kernel prints the u32 route priority with %d, so large metrics appear negative. */
static bool parse_metric(route_field f, uint32_t *out) {
  int64_t v = 0;
  size_t i = 0;
  bool neg = false;
  if (f.len > 0 && f.p[0] == '-') {
    neg = true;
    i = 1;
  }
  if (f.len == i || f.len - i > 10)
    return false;
  for (; i < f.len; i++) {
    if (f.p[i] < '0' || f.p[i] > '9')
      return false;
    v = v * 10 + (f.p[i] - '0');
  }
  if (neg)
    v = -v;
  if (v < INT32_MIN || v > (int64_t)UINT32_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

/* Splits one line into whitespace-separated fields; returns how many (<= cap). */
static size_t split_fields(const char *line, size_t len, route_field *f, size_t cap) {
  size_t n = 0, i = 0;
  while (i < len && n < cap) {
    size_t start;
    while (i < len && is_space(line[i]))
      i++;
    if (i == len)
      break;
    start = i;
    while (i < len && !is_space(line[i]))
      i++;
    f[n].p = line + start;
    f[n].len = i - start;
    n++;
  }
  return n;
}

/* A default route's gateway and metric from one line; false if the line is not one. */
static bool route_line_default(const char *line, size_t len, uint8_t gw[4], uint32_t *metric) {
  route_field f[ROUTE_MIN_FIELDS];
  uint32_t dest, gateway, flags, mask;
  if (split_fields(line, len, f, ROUTE_MIN_FIELDS) < ROUTE_MIN_FIELDS)
    return false;
  if (!parse_hex32(f[1], &dest) || !parse_hex32(f[2], &gateway) || !parse_hex32(f[3], &flags) ||
      !parse_metric(f[6], metric) || !parse_hex32(f[7], &mask))
    return false;
  if (dest != 0 || mask != 0 || gateway == 0)
    return false;
  if ((flags & (RTF_UP_BIT | RTF_GATEWAY_BIT)) != (RTF_UP_BIT | RTF_GATEWAY_BIT))
    return false;
  memcpy(gw, &gateway, 4); /* back to the in-memory (network order) bytes */
  return true;
}

int ethp2p_uvenv_route_parse(const char *text, size_t len, ethp2p_addr *gw) {
  size_t pos = 0;
  bool found = false;
  uint32_t best = 0;
  if (gw == NULL)
    return ETHP2P_EINVAL;
  memset(gw, 0, sizeof(*gw));
  if (text == NULL)
    return ETHP2P_ENOTFOUND;
  if (len > ROUTE_TEXT_MAX)
    len = ROUTE_TEXT_MAX;
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl != NULL ? (size_t)(nl - text) : len;
    uint8_t ip[4];
    uint32_t metric;
    if (route_line_default(text + pos, end - pos, ip, &metric) && (!found || metric < best)) {
      *gw = ethp2p_addr_v4(ip[0], ip[1], ip[2], ip[3], 0);
      best = metric;
      found = true;
    }
    pos = end + 1;
  }
  return found ? 0 : ETHP2P_ENOTFOUND;
}

/* Reads at most ROUTE_TEXT_MAX bytes of a /proc file into a new buffer (the
 * caller frees *text).  Returns 0, ETHP2P_EUNSUPP (no such file: the kernel has
 * no such table), ETHP2P_EIO or ETHP2P_ENOMEM. */
static int read_proc(const char *path, char **text, size_t *len) {
  int fd;
  *text = NULL;
  *len = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? ETHP2P_EUNSUPP : ETHP2P_EIO;
  *text = malloc(ROUTE_TEXT_MAX);
  if (*text == NULL) {
    close(fd);
    return ETHP2P_ENOMEM;
  }
  while (*len < ROUTE_TEXT_MAX) {
    ssize_t r = read(fd, *text + *len, ROUTE_TEXT_MAX - *len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(*text);
      *text = NULL;
      close(fd);
      return ETHP2P_EIO;
    }
    if (r == 0)
      break;
    *len += (size_t)r;
  }
  close(fd);
  return 0;
}

int uvenv_default_gateway(ethp2p_env *env, ethp2p_addr *gw) {
  char *text;
  size_t len;
  int rc;
  (void)env;
  if (gw == NULL)
    return ETHP2P_EINVAL;
  memset(gw, 0, sizeof(*gw));
  rc = read_proc("/proc/net/route", &text, &len);
  if (rc != 0)
    return rc;
  rc = ethp2p_uvenv_route_parse(text, len, gw);
  free(text);
  return rc;
}

/* ---------------------------------------------------------------------------
 * /proc/net/ipv6_route
 *
 * Written by the kernel's ipv6_route_native_seq_show() (net/ipv6/route.c), no
 * header line, one line per route:
 *   "%pi6 %02x %pi6 %02x %pi6 %08x %08x %08x %08x %8s\n"
 *   Destination DstLen Source SrcLen NextHop Metric RefCnt Use Flags Device
 * where %pi6 is the address as 32 hex digits in network order without colons.
 * The default route is ::/0 with RTF_UP and RTF_GATEWAY; a "::/0 reject" route
 * on lo (flags RTF_REJECT, no gateway) is what a host without IPv6 uplink has.
 * ------------------------------------------------------------------------- */
#define ROUTE6_FIELDS 10
#define RTF_REJECT_BIT 0x0200u /* <linux/route.h> RTF_REJECT */
#define ROUTE6_IFNAME_MAX 15   /* IFNAMSIZ - 1 */

static bool parse_hex128(route_field f, uint8_t out[16]) {
  if (f.len != 32)
    return false;
  for (size_t i = 0; i < 16; i++) {
    uint32_t b;
    route_field byte = {f.p + 2 * i, 2};
    if (!parse_hex32(byte, &b))
      return false;
    out[i] = (uint8_t)b;
  }
  return true;
}

/* A default route's next hop, metric and device from one line; false if the
 * line is not one (or does not parse). */
static bool route6_line_default(const char *line, size_t len, uint8_t gw[16], uint32_t *metric,
                                route_field *dev) {
  static const uint8_t zero[16];
  route_field f[ROUTE6_FIELDS + 1];
  uint8_t dst[16];
  uint32_t dst_len, flags;
  if (split_fields(line, len, f, ROUTE6_FIELDS + 1) != ROUTE6_FIELDS)
    return false;
  if (!parse_hex128(f[0], dst) || f[1].len != 2 || !parse_hex32(f[1], &dst_len) ||
      !parse_hex128(f[4], gw) || f[5].len != 8 || !parse_hex32(f[5], metric) || f[8].len != 8 ||
      !parse_hex32(f[8], &flags))
    return false;
  if (dst_len != 0 || memcmp(dst, zero, 16) != 0 || memcmp(gw, zero, 16) == 0)
    return false;
  if ((flags & (RTF_UP_BIT | RTF_GATEWAY_BIT)) != (RTF_UP_BIT | RTF_GATEWAY_BIT) ||
      (flags & RTF_REJECT_BIT) != 0)
    return false;
  if (f[9].len == 0 || f[9].len > ROUTE6_IFNAME_MAX)
    return false;
  for (size_t i = 0; i < f[9].len; i++)
    if (f[9].p[i] < 0x21 || f[9].p[i] > 0x7e) /* a name is printable (no NUL, no control) */
      return false;
  *dev = f[9];
  return true;
}

int ethp2p_uvenv_route6_parse(const char *text, size_t len, ethp2p_addr *gw, char *ifname,
                              size_t ifname_size) {
  size_t pos = 0;
  bool found = false;
  uint32_t best = 0;
  if (gw == NULL || (ifname == NULL && ifname_size > 0))
    return ETHP2P_EINVAL;
  memset(gw, 0, sizeof(*gw));
  if (ifname_size > 0)
    ifname[0] = '\0';
  if (text == NULL)
    return ETHP2P_ENOTFOUND;
  if (len > ROUTE_TEXT_MAX)
    len = ROUTE_TEXT_MAX;
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl != NULL ? (size_t)(nl - text) : len;
    uint8_t ip[16];
    uint32_t metric;
    route_field dev;
    if (route6_line_default(text + pos, end - pos, ip, &metric, &dev) &&
        (!found || metric < best)) {
      memset(gw, 0, sizeof(*gw));
      gw->family = 6;
      memcpy(gw->ip, ip, 16);
      if (ifname_size > 0)
        snprintf(ifname, ifname_size, "%.*s", (int)dev.len, dev.p);
      best = metric;
      found = true;
    }
    pos = end + 1;
  }
  return found ? 0 : ETHP2P_ENOTFOUND;
}

int uvenv_default_gateway6(ethp2p_env *env, ethp2p_addr *gw) {
  char *text, dev[ROUTE6_IFNAME_MAX + 1];
  size_t len;
  int rc;
  (void)env;
  if (gw == NULL)
    return ETHP2P_EINVAL;
  memset(gw, 0, sizeof(*gw));
  rc = read_proc("/proc/net/ipv6_route", &text, &len);
  if (rc != 0)
    return rc;
  rc = ethp2p_uvenv_route6_parse(text, len, gw, dev, sizeof(dev));
  free(text);
  if (rc == 0 && gw->ip[0] == 0xfe && (gw->ip[1] & 0xc0) == 0x80) {
    /* A link-local router is only reachable through its interface. */
    gw->scope = if_nametoindex(dev);
    if (gw->scope == 0) {
      memset(gw, 0, sizeof(*gw));
      return ETHP2P_ENOTFOUND; /* the interface went away meanwhile */
    }
  }
  return rc;
}

/* ---------------------------------------------------------------------------
 * /proc/net/if_inet6
 *
 * Written by the kernel's if6_seq_show() (net/ipv6/addrconf.c), no header line:
 *   "%pi6 %02x %02x %02x %02x %8s\n"
 *   Address Ifindex PrefixLen Scope Flags Device
 * %02x is a minimum width: an index above 255 has more digits.  Flags are the
 * low 8 bits of the address's IFA_F_* flags.
 * ------------------------------------------------------------------------- */
#define IFINET6_FIELDS 6

int ethp2p_uvenv_if_inet6_flags(const char *text, size_t len, const uint8_t ip[16],
                                const char *ifname, uint32_t *flags) {
  size_t pos = 0, nlen;
  if (flags == NULL)
    return ETHP2P_EINVAL;
  *flags = 0;
  if (ip == NULL || ifname == NULL)
    return ETHP2P_EINVAL;
  if (text == NULL)
    return ETHP2P_ENOTFOUND;
  if (len > ROUTE_TEXT_MAX)
    len = ROUTE_TEXT_MAX;
  nlen = strlen(ifname);
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl != NULL ? (size_t)(nl - text) : len;
    route_field f[IFINET6_FIELDS + 1];
    uint8_t addr[16];
    uint32_t v, fl;
    if (split_fields(text + pos, end - pos, f, IFINET6_FIELDS + 1) == IFINET6_FIELDS &&
        parse_hex128(f[0], addr) && parse_hex32(f[1], &v) && parse_hex32(f[2], &v) && v <= 128 &&
        parse_hex32(f[3], &v) && parse_hex32(f[4], &fl) && memcmp(addr, ip, 16) == 0 &&
        f[5].len == nlen && memcmp(f[5].p, ifname, nlen) == 0) {
      *flags = fl;
      return 0;
    }
    pos = end + 1;
  }
  return ETHP2P_ENOTFOUND;
}

/* ---------------------------------------------------------------------------
 * Interfaces
 * ------------------------------------------------------------------------- */

/* Number of leading one bits of a netmask (stops at the first zero bit). */
static uint8_t prefix_len_of(const ethp2p_addr *mask) {
  size_t n = mask->family == 4 ? 4 : 16, i;
  uint8_t bits = 0;
  for (i = 0; i < n; i++) {
    uint8_t b = mask->ip[i];
    if (b == 0xff) {
      bits += 8;
      continue;
    }
    while (b & 0x80) {
      bits++;
      b = (uint8_t)(b << 1);
    }
    break;
  }
  return bits;
}

/* IPv6 address state from the kernel's table (text may be NULL: unknown). */
static void iface_v6_state(ethp2p_iface *it, const char *text, size_t len) {
  uint32_t fl;
  if (it->addr.family != 6 || text == NULL ||
      ethp2p_uvenv_if_inet6_flags(text, len, it->addr.ip, it->name, &fl) != 0)
    return;
  it->temporary = (fl & ETHP2P_IFA_F_TEMPORARY) != 0;
  it->deprecated = (fl & ETHP2P_IFA_F_DEPRECATED) != 0;
  it->tentative = (fl & (ETHP2P_IFA_F_TENTATIVE | ETHP2P_IFA_F_DADFAILED)) != 0;
}

int uvenv_interfaces(ethp2p_env *env, ethp2p_iface *out, size_t cap, size_t *n) {
  struct ifaddrs *list, *ifa;
  size_t count = 0, v6len = 0;
  char *v6text = NULL;
  (void)env;
  if (n == NULL || (out == NULL && cap > 0))
    return ETHP2P_EINVAL;
  *n = 0;
  if (getifaddrs(&list) != 0)
    return ETHP2P_EIO;
  if (cap > 0 && read_proc("/proc/net/if_inet6", &v6text, &v6len) != 0)
    v6text = NULL; /* no IPv6, or no /proc: the state stays "unknown" */
  for (ifa = list; ifa != NULL && count < cap; ifa = ifa->ifa_next) {
    ethp2p_iface *it = &out[count];
    ethp2p_addr mask;
    memset(it, 0, sizeof(*it));
    if (ifa->ifa_addr == NULL || !uvenv_from_sockaddr(ifa->ifa_addr, &it->addr))
      continue;
    snprintf(it->name, sizeof(it->name), "%s", ifa->ifa_name != NULL ? ifa->ifa_name : "");
    it->addr.port = 0;
    it->prefix_len = 0;
    if (ifa->ifa_netmask != NULL && uvenv_from_sockaddr(ifa->ifa_netmask, &mask) &&
        mask.family == it->addr.family)
      it->prefix_len = prefix_len_of(&mask);
    it->index = ifa->ifa_name != NULL ? if_nametoindex(ifa->ifa_name) : 0;
    if (it->addr.family == 6 && ((it->addr.ip[0] == 0xfe && (it->addr.ip[1] & 0xc0) == 0x80) ||
                                 (it->addr.ip[0] == 0xff && (it->addr.ip[1] & 0x0f) == 0x02)))
      it->addr.scope = it->index; /* link scope: the address needs its zone */
    else
      it->addr.scope = 0;
    it->up = (ifa->ifa_flags & IFF_UP) != 0;
    it->loopback = (ifa->ifa_flags & IFF_LOOPBACK) != 0;
    it->multicast = (ifa->ifa_flags & IFF_MULTICAST) != 0;
    iface_v6_state(it, v6text, v6len);
    count++;
  }
  free(v6text);
  freeifaddrs(list);
  *n = count;
  return 0;
}

int uvenv_iface_name_of(const ethp2p_addr *a, char *name, size_t size) {
  struct ifaddrs *list, *ifa;
  int rc = ETHP2P_ENOTFOUND;
  if (getifaddrs(&list) != 0)
    return ETHP2P_EIO;
  for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
    ethp2p_addr x;
    if (ifa->ifa_addr == NULL || ifa->ifa_name == NULL || !uvenv_from_sockaddr(ifa->ifa_addr, &x))
      continue;
    if (ethp2p_addr_equal(&x, a, false)) {
      snprintf(name, size, "%s", ifa->ifa_name);
      rc = 0;
      break;
    }
  }
  freeifaddrs(list);
  return rc;
}
