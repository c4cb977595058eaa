/*
 * nat/spec.c — the --nat grammar (go-ethereum's nat.Parse plus pcp), its text
 * form, the create dispatch and helpers shared by the implementations.
 */
#include <stdio.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/impl.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"
#include "nat/upnp6.h"

const char *ethp2p_proto_name(ethp2p_proto proto) {
  switch (proto) {
  case ETHP2P_PROTO_TCP:
    return "tcp";
  case ETHP2P_PROTO_UDP:
    return "udp";
  default:
    return "?";
  }
}

void ethp2p_nat_copy_str(char *dst, size_t size, const char *src) {
  if (size == 0)
    return;
  size_t n = strnlen(src, size - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static void set_err(char *err, size_t errlen, const char *msg) {
  if (err != NULL && errlen > 0)
    ethp2p_nat_copy_str(err, errlen, msg);
}

static char lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive comparison of the mechanism name (len bytes) with `name`. */
static bool mech_is(const char *mech, size_t len, const char *name) {
  if (strlen(name) != len)
    return false;
  for (size_t i = 0; i < len; i++)
    if (lower(mech[i]) != name[i])
      return false;
  return true;
}

/* Go's %q for the "unknown mechanism" message (printable ASCII kept, the rest escaped). */
static void go_quote(char *out, size_t size, const char *s, size_t len) {
  size_t o = 0;
  if (size < 3) {
    if (size > 0)
      out[0] = '\0';
    return;
  }
  out[o++] = '"';
  for (size_t i = 0; i < len && o + 6 < size; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c >= 0x20 && c < 0x7f) {
      out[o++] = (char)c;
    } else {
      o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
    }
  }
  out[o++] = '"';
  out[o] = '\0';
}

/* Each STUN server entry is "host:port" or "host" (port 3478); host names are
 * allowed here (the command resolves them; the library needs IP literals). */
static bool stun_list_valid(const char *list) {
  const char *p = list;
  while (*p != '\0') {
    const char *end = strchr(p, ',');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    if (n == 0)
      return false;
    const char *colon = NULL;
    for (size_t i = 0; i < n; i++)
      if (p[i] == ':')
        colon = p + i;
    char lit[ETHP2P_ADDRSTRLEN];
    ethp2p_addr a6;
    bool bare6 = false; /* a bare IPv6 literal ("2001:db8::1", port 3478) */
    if (n < sizeof lit) {
      memcpy(lit, p, n);
      lit[n] = '\0';
      bare6 = ethp2p_addr_parse_ip(&a6, lit) == 0 && a6.family == 6;
    }
    if (p[0] != '[' && colon != NULL && !bare6) {
      size_t plen = (size_t)(p + n - colon - 1);
      unsigned port = 0;
      if (plen == 0 || plen > 5 || colon == p)
        return false;
      for (size_t i = 0; i < plen; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
          return false;
        port = port * 10 + (unsigned)(colon[1 + i] - '0');
      }
      if (port == 0 || port > 65535)
        return false;
    }
    p += n;
    if (*p == ',')
      p++;
  }
  return true;
}

/* The IPv4 address inside an IPv4-mapped IPv6 address (RFC 4291 2.5.5.2); others unchanged. */
static ethp2p_addr unmap_v4(const ethp2p_addr *a) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  ethp2p_addr out = *a;
  if (a->family == 6 && memcmp(a->ip, mapped, sizeof mapped) == 0) {
    memset(&out, 0, sizeof out);
    out.family = 4;
    memcpy(out.ip, a->ip + 12, 4);
  }
  return out;
}

int ethp2p_nat_spec_parse(ethp2p_nat_spec *out, const char *text, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (text == NULL)
    text = "";
  const char *colon = strchr(text, ':');
  size_t mlen = colon != NULL ? (size_t)(colon - text) : strlen(text);
  const char *after = colon != NULL ? colon + 1 : NULL;
  bool is_stun = mech_is(text, mlen, "stun");

  /* As go-ethereum: for every mechanism but stun, text after ':' must be an IP,
   * checked before the mechanism name. */
  ethp2p_addr ip;
  memset(&ip, 0, sizeof ip);
  if (after != NULL && !is_stun) {
    if (ethp2p_addr_parse_ip(&ip, after) != 0) {
      set_err(err, errlen, "invalid IP address");
      return ETHP2P_ESYNTAX;
    }
    ip = unmap_v4(&ip); /* ::ffff:a.b.c.d is the IPv4 address a.b.c.d (Go's To4) */
  }
  if (mlen == 0 || mech_is(text, mlen, "none") || mech_is(text, mlen, "off")) {
    out->kind = ETHP2P_NAT_NONE;
  } else if (mech_is(text, mlen, "any") || mech_is(text, mlen, "auto") ||
             mech_is(text, mlen, "on")) {
    out->kind = ETHP2P_NAT_ANY;
  } else if (mech_is(text, mlen, "extip") || mech_is(text, mlen, "ip")) {
    if (after == NULL) {
      set_err(err, errlen, "missing IP address");
      return ETHP2P_ESYNTAX;
    }
    out->kind = ETHP2P_NAT_EXTIP;
    out->has_addr = true;
    out->addr = ip;
  } else if (mech_is(text, mlen, "upnp")) {
    out->kind = ETHP2P_NAT_UPNP;
  } else if (mech_is(text, mlen, "pmp") || mech_is(text, mlen, "natpmp") ||
             mech_is(text, mlen, "nat-pmp") || mech_is(text, mlen, "pcp")) {
    out->kind = mech_is(text, mlen, "pcp") ? ETHP2P_NAT_PCP : ETHP2P_NAT_PMP;
    if (after != NULL && ip.family == 6 && out->kind == ETHP2P_NAT_PMP) {
      /* NAT-PMP exists only over IPv4 (RFC 6886 section 1).  PCP is defined over
       * IPv6 too (RFC 6887 section 8): pcp:<IPv6> is a PCP server that opens
       * firewall pinholes (nat/pcp.c, ethp2p_nat_pcp6_create). */
      memset(out, 0, sizeof *out);
      set_err(err, errlen,
              "NAT-PMP is IPv4-only (RFC 6886): give an IPv4 gateway, or \"pmp\" to use the "
              "default route");
      return ETHP2P_ESYNTAX;
    }
    if (after != NULL) {
      out->has_addr = true;
      out->addr = ip;
    }
  } else if (is_stun) {
    out->kind = ETHP2P_NAT_STUN;
    if (after != NULL) {
      if (strlen(after) >= sizeof out->stun_servers) {
        memset(out, 0, sizeof *out);
        set_err(err, errlen, "STUN server list too long");
        return ETHP2P_ESYNTAX;
      }
      if (!stun_list_valid(after)) {
        memset(out, 0, sizeof *out);
        set_err(err, errlen, "invalid STUN server address");
        return ETHP2P_ESYNTAX;
      }
      ethp2p_nat_copy_str(out->stun_servers, sizeof out->stun_servers, after);
    }
  } else {
    char quoted[96];
    char msg[128];
    go_quote(quoted, sizeof quoted, text, mlen);
    snprintf(msg, sizeof msg, "unknown mechanism %s", quoted);
    memset(out, 0, sizeof *out);
    set_err(err, errlen, msg);
    return ETHP2P_ESYNTAX;
  }
  out->addr.port = 0;
  return 0;
}

int ethp2p_nat_spec_format(const ethp2p_nat_spec *spec, char *buf, size_t size) {
  char ip[ETHP2P_ADDRSTRLEN];
  const char *name;
  const char *arg = NULL;
  switch (spec->kind) {
  case ETHP2P_NAT_NONE:
    name = "none";
    break;
  case ETHP2P_NAT_ANY:
    name = "any";
    break;
  case ETHP2P_NAT_UPNP:
    name = "upnp";
    break;
  case ETHP2P_NAT_EXTIP:
    name = "extip";
    break;
  case ETHP2P_NAT_PMP:
    name = "pmp";
    break;
  case ETHP2P_NAT_PCP:
    name = "pcp";
    break;
  case ETHP2P_NAT_STUN:
    name = "stun";
    break;
  default:
    return ETHP2P_EINVAL;
  }
  if ((spec->kind == ETHP2P_NAT_EXTIP || spec->kind == ETHP2P_NAT_PMP ||
       spec->kind == ETHP2P_NAT_PCP) &&
      spec->has_addr) {
    ethp2p_addr a = spec->addr;
    a.port = 0;
    arg = ethp2p_addr_format(&a, false, ip, sizeof ip);
  } else if (spec->kind == ETHP2P_NAT_EXTIP) {
    return ETHP2P_EINVAL; /* extip needs its address */
  } else if (spec->kind == ETHP2P_NAT_STUN && spec->stun_servers[0] != '\0') {
    arg = spec->stun_servers;
  }
  int n = arg != NULL ? snprintf(buf, size, "%s:%s", name, arg) : snprintf(buf, size, "%s", name);
  if (n < 0 || (size_t)n >= size)
    return ETHP2P_ESPACE;
  return 0;
}

int ethp2p_nat_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (env == NULL || spec == NULL)
    return ETHP2P_EINVAL;
  switch (spec->kind) {
  case ETHP2P_NAT_NONE:
    return ethp2p_nat_none_create(env, spec, out);
  case ETHP2P_NAT_EXTIP:
    return ethp2p_nat_extip_create(env, spec, out);
  case ETHP2P_NAT_PMP:
    return ethp2p_nat_pmp_create(env, spec, out);
  case ETHP2P_NAT_PCP:
    /* pcp:<IPv6> names an IPv6 server: its MAP opens a pinhole for our address */
    if (spec->has_addr && spec->addr.family == 6)
      return ethp2p_nat_pcp6_create(env, spec, out);
    return ethp2p_nat_pcp_create(env, spec, out);
  case ETHP2P_NAT_STUN:
    return ethp2p_nat_stun_create(env, spec, out);
  case ETHP2P_NAT_ANY:
    return ethp2p_nat_any_create(env, spec, out);
  case ETHP2P_NAT_UPNP:
    return ethp2p_nat_upnp_create(env, spec, out);
  default:
    return ETHP2P_EINVAL;
  }
}

/* The IPv6 companion of each kind (docs/ipv6.md):
 *   pcp, pcp:<IPv6>, any  PCP over IPv6 (server from the spec or the IPv6
 *                         default router); UPnP IGDv2 pinholes join any later
 *   extip:<IPv6>          the static address (the extip NAT), so the IPv6 loop
 *                         publishes it as ip6
 *   the rest              ETHP2P_EUNSUPP: none; pmp (IPv4-only); stun (an IPv6
 *                         STUN answer needs no pinhole loop); extip:<IPv4>;
 *                         pcp:<IPv4> (an IPv4 server opens no IPv6 pinholes);
 *                         upnp until its IGDv2 pinhole NAT exists. */
int ethp2p_nat_create6(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  if (out != NULL)
    *out = NULL;
  if (env == NULL || spec == NULL || out == NULL)
    return ETHP2P_EINVAL;
  switch (spec->kind) {
  case ETHP2P_NAT_PCP:
    if (spec->has_addr && spec->addr.family != 6)
      return ETHP2P_EUNSUPP;
    return ethp2p_nat_pcp6_create(env, spec, out);
  case ETHP2P_NAT_ANY:
    /* PCP over IPv6, then UPnP IGDv2 pinholes (nat/any6.c) */
    return ethp2p_nat_any6_create(env, spec, out);
  case ETHP2P_NAT_UPNP:
    return ethp2p_nat_upnp6_create(env, out);
  case ETHP2P_NAT_EXTIP:
    if (!spec->has_addr || spec->addr.family != 6)
      return ETHP2P_EUNSUPP;
    return ethp2p_nat_extip_create(env, spec, out);
  default:
    return ETHP2P_EUNSUPP;
  }
}

int ethp2p_nat_set_pcp_nonce_key(ethp2p_nat *nat, const uint8_t key[32]) {
  if (ethp2p_nat_is_any6(nat))
    return ethp2p_nat_any6_set_nonce_key(nat, key);
  switch (nat->spec.kind) {
  case ETHP2P_NAT_PCP:
    return ethp2p_nat_pcp_set_nonce_key(nat, key);
  case ETHP2P_NAT_ANY:
    return ethp2p_nat_any_set_nonce_key(nat, key);
  default:
    return ETHP2P_EUNSUPP;
  }
}

void ethp2p_nat_set_notify(ethp2p_nat *nat, ethp2p_nat_notify_cb cb, void *data) {
  nat->notify_cb = cb;
  nat->notify_data = data;
}

void ethp2p_nat_notify(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip) {
  if (nat->notify_cb != NULL)
    nat->notify_cb(nat, ev, ip, nat->notify_data);
}

int ethp2p_nat_format(const ethp2p_nat *nat, char *buf, size_t size) {
  return ethp2p_nat_spec_format(&nat->spec, buf, size);
}

/* ---- helpers shared by the implementations ------------------------------ */

#define MAX_IFACES 32

int ethp2p_nat_find_gateway(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_addr *gw,
                            bool *guessed) {
  *guessed = false;
  memset(gw, 0, sizeof *gw);
  if (spec != NULL && spec->has_addr) {
    *gw = spec->addr;
    gw->port = 0;
    return 0;
  }
  if (ethp2p_env_default_gateway(env, gw) == 0 && gw->family == 4) {
    gw->port = 0;
    return 0;
  }
  /* No default route: guess x.y.z.1 on a private network, as go-ethereum does. */
  ethp2p_iface ifs[MAX_IFACES];
  size_t n = 0;
  if (ethp2p_env_interfaces(env, ifs, MAX_IFACES, &n) != 0)
    n = 0;
  for (size_t i = 0; i < n; i++) {
    if (!ifs[i].up || ifs[i].loopback || ifs[i].addr.family != 4 ||
        !ethp2p_addr_is_private(&ifs[i].addr))
      continue;
    *gw = ifs[i].addr;
    gw->ip[3] = 1;
    gw->port = 0;
    if (ethp2p_addr_equal(gw, &ifs[i].addr, false))
      continue; /* we are x.y.z.1 ourselves */
    *guessed = true;
    return 0;
  }
  memset(gw, 0, sizeof *gw);
  return ETHP2P_ENOGATEWAY;
}

/* How good a's address is as our IPv6 address toward a router (higher is better):
 * a stable global address, then a temporary one, then ULA, then link-local. */
static int v6_rank(const ethp2p_iface *a) {
  if (ethp2p_addr_is_public(&a->addr))
    return a->temporary ? 3 : 4;
  if ((a->addr.ip[0] & 0xfe) == 0xfc)
    return 2;
  return 1;
}

/* IPv6: the PCP client address (RFC 6887 section 8.1: the address the MAP is for)
 * must be one of ours on the link toward the router.  A link-local router with a
 * zone names that link; otherwise the interface whose prefix holds the router
 * wins (longest prefix), else any interface.  On that link the best-ranked usable
 * address (up, not loopback, not deprecated or tentative) is chosen. */
static int local_addr_toward6(const ethp2p_iface *ifs, size_t n, const ethp2p_addr *gw,
                              ethp2p_addr *out) {
  bool link_local = gw->ip[0] == 0xfe && (gw->ip[1] & 0xc0) == 0x80;
  uint32_t link = 0;
  int best = -1;
  if (link_local && gw->scope != 0) {
    link = gw->scope;
  } else if (!link_local) {
    int on = -1;
    /* the router's own address is no link of ours toward it (a host that runs
     * the server itself, a test namespace), nor is loopback */
    for (size_t i = 0; i < n; i++)
      if (ifs[i].up && !ifs[i].loopback && ifs[i].addr.family == 6 &&
          !ethp2p_addr_equal(&ifs[i].addr, gw, false) &&
          ethp2p_addr_same_subnet(&ifs[i].addr, gw, ifs[i].prefix_len) &&
          (on < 0 || ifs[i].prefix_len > ifs[on].prefix_len))
        on = (int)i;
    if (on >= 0)
      link = ifs[on].index;
  }
  for (size_t i = 0; i < n; i++) {
    const ethp2p_iface *it = &ifs[i];
    if (!it->up || it->loopback || it->addr.family != 6 || it->deprecated || it->tentative ||
        ethp2p_addr_is_multicast(&it->addr) || ethp2p_addr_is_unspecified(&it->addr) ||
        ethp2p_addr_equal(&it->addr, gw, false))
      continue;
    if (link != 0 && it->index != link)
      continue;
    if (best < 0 || v6_rank(it) > v6_rank(&ifs[best]))
      best = (int)i;
  }
  if (best < 0)
    return ETHP2P_ENOTFOUND;
  *out = ifs[best].addr;
  out->port = 0;
  return 0;
}

int ethp2p_nat_local_addr_toward(ethp2p_env *env, const ethp2p_addr *gw, ethp2p_addr *out) {
  ethp2p_iface ifs[MAX_IFACES];
  size_t n = 0;
  memset(out, 0, sizeof *out);
  if (ethp2p_env_interfaces(env, ifs, MAX_IFACES, &n) != 0)
    return ETHP2P_ENOTFOUND;
  if (gw != NULL && gw->family == 6)
    return local_addr_toward6(ifs, n, gw, out);
  int best = -1;
  for (size_t i = 0; i < n; i++) {
    if (!ifs[i].up || ifs[i].addr.family != 4)
      continue;
    if (ethp2p_addr_same_subnet(&ifs[i].addr, gw, ifs[i].prefix_len) &&
        (best < 0 || ifs[i].prefix_len > ifs[best].prefix_len))
      best = (int)i;
  }
  if (best < 0)
    for (size_t i = 0; i < n; i++)
      if (ifs[i].up && !ifs[i].loopback && ifs[i].addr.family == 4) {
        best = (int)i;
        break;
      }
  if (best < 0)
    return ETHP2P_ENOTFOUND;
  *out = ifs[best].addr;
  out->port = 0;
  return 0;
}

bool ethp2p_nat_epoch_update(ethp2p_nat_epoch *e, bool pcp, uint32_t epoch_s, ethp2p_time now) {
  bool lost = false;
  if (e->valid)
    lost = pcp ? ethp2p_pcp_epoch_lost(e->epoch_s, e->at, epoch_s, now)
               : ethp2p_pmp_epoch_lost(e->epoch_s, e->at, epoch_s, now);
  e->valid = true;
  e->epoch_s = epoch_s;
  e->at = now;
  return lost;
}
