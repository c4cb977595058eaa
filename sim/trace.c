/*
 * sim/trace.c — the event trace: a running 64-bit hash over a compact binary
 * record of every event, and an optional text sink.
 *
 * Record: five 64-bit words, kind << 32 | host, now, a, b, c.  Packet records
 * use a = src endpoint key, b = dst endpoint key, c = proto << 56 | tcp flags
 * << 48 | reason << 32 | length.  Each word is folded in FNV-1a fashion but a
 * word at a time (xor, multiply by a 64-bit odd constant, xor-shift), which
 * mixes as well for our purpose and costs five multiplies per event.
 */
#include <stdarg.h>
#include <stdio.h>

#include "sim/sim_internal.h"

static inline uint64_t fold_u64(uint64_t h, uint64_t v) {
  h = (h ^ v) * UINT64_C(0x9e3779b97f4a7c15);
  return h ^ (h >> 29);
}

static const char *const kind_names[SIM_TR_COUNT] = {
    [SIM_TR_TIMER] = "timer",
    [SIM_TR_SEND] = "send",
    [SIM_TR_DELIVER] = "deliver",
    [SIM_TR_DROP] = "drop",
    [SIM_TR_NAT_OUT] = "nat-out",
    [SIM_TR_NAT_IN] = "nat-in",
    [SIM_TR_BIND_NEW] = "bind-new",
    [SIM_TR_BIND_EXPIRE] = "bind-expire",
    [SIM_TR_FWD_ADD] = "fwd-add",
    [SIM_TR_FWD_REMOVE] = "fwd-remove",
    [SIM_TR_FWD_EXPIRE] = "fwd-expire",
    [SIM_TR_NAT_REBOOT] = "nat-reboot",
    [SIM_TR_NAT_EXTADDR] = "nat-extaddr",
    [SIM_TR_NAT_DOWN] = "nat-down",
    [SIM_TR_NAT_UP] = "nat-up",
    [SIM_TR_TCP_CONNECT] = "tcp-connect",
    [SIM_TR_TCP_ACCEPT] = "tcp-accept",
    [SIM_TR_TCP_REFUSED] = "tcp-refused",
    [SIM_TR_TCP_TIMEOUT] = "tcp-timeout",
    [SIM_TR_TCP_RESET] = "tcp-reset",
    [SIM_TR_TCP_CLOSE] = "tcp-close",
};

static const char *const drop_names[ETHP2P_SIM_DROP_COUNT] = {
    [ETHP2P_SIM_DROP_LOSS] = "loss",
    [ETHP2P_SIM_DROP_NO_HOST] = "no-host",
    [ETHP2P_SIM_DROP_HOST_DOWN] = "host-down",
    [ETHP2P_SIM_DROP_NO_SOCKET] = "no-socket",
    [ETHP2P_SIM_DROP_FILTERED] = "filtered",
    [ETHP2P_SIM_DROP_NO_BINDING] = "no-binding",
    [ETHP2P_SIM_DROP_HAIRPIN] = "hairpin-off",
    [ETHP2P_SIM_DROP_NO_PORT] = "no-port",
    [ETHP2P_SIM_DROP_NOT_ROUTED] = "not-routed",
    [ETHP2P_SIM_DROP_TTL] = "ttl",
};

const char *ethp2p_sim_drop_name(ethp2p_sim_drop reason) {
  if ((int)reason <= 0 || reason >= ETHP2P_SIM_DROP_COUNT)
    return "unknown";
  return drop_names[reason];
}

uint64_t ethp2p_sim_trace_hash(const ethp2p_sim *sim) {
  return sim->trace_hash;
}

void ethp2p_sim_set_trace_sink(ethp2p_sim *sim, ethp2p_sim_trace_cb cb, void *data) {
  sim->trace_cb = cb;
  sim->trace_data = data;
}

static void fold(ethp2p_sim *sim, uint8_t kind, uint32_t host, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t h = sim->trace_hash;
  h = fold_u64(h, (uint64_t)kind << 32 | host);
  h = fold_u64(h, sim->now);
  h = fold_u64(h, a);
  h = fold_u64(h, b);
  h = fold_u64(h, c);
  sim->trace_hash = h;
}

static const char *host_name(ethp2p_sim *sim, uint32_t id) {
  ethp2p_sim_host *h;
  for (h = sim->hosts; h != NULL; h = h->next)
    if (h->id == id)
      return h->name;
  return "-";
}

/* Endpoint key back to text (IPv4 keys are reversible; others print as hex). */
static const char *key_str(uint64_t key, char *buf, size_t size) {
  if (key == 0) {
    snprintf(buf, size, "any");
  } else if ((key >> 56) == 4) {
    snprintf(buf, size, "%u.%u.%u.%u:%u", (unsigned)(key >> 40) & 0xff,
             (unsigned)(key >> 32) & 0xff, (unsigned)(key >> 24) & 0xff,
             (unsigned)(key >> 16) & 0xff, (unsigned)key & 0xffff);
  } else {
    snprintf(buf, size, "#%016llx", (unsigned long long)key);
  }
  return buf;
}

static const char *proto_str(uint64_t proto) {
  return proto == ETHP2P_SIM_TCP ? "tcp" : "udp";
}

void sim_trace(ethp2p_sim *sim, uint8_t kind, uint32_t host, uint64_t a, uint64_t b, uint64_t c) {
  char line[256], x[48], y[48];
  const char *name, *hn;
  fold(sim, kind, host, a, b, c);
  if (sim->trace_cb == NULL)
    return;
  name = kind < SIM_TR_COUNT && kind_names[kind] ? kind_names[kind] : "?";
  hn = host_name(sim, host);
  switch (kind) {
  case SIM_TR_TIMER:
    snprintf(line, sizeof(line), "%s host=%s id=%llu", name, hn, (unsigned long long)a);
    break;
  case SIM_TR_BIND_NEW:
  case SIM_TR_BIND_EXPIRE:
    snprintf(line, sizeof(line), "%s host=%s %s %s -> port %u (remote %s)", name, hn,
             proto_str(c >> 16), key_str(a, x, sizeof(x)), (unsigned)(c & 0xffff),
             key_str(b, y, sizeof(y)));
    break;
  case SIM_TR_FWD_ADD:
  case SIM_TR_FWD_REMOVE:
  case SIM_TR_FWD_EXPIRE:
    snprintf(line, sizeof(line), "%s host=%s %s port %u -> %s expires=%llu", name, hn,
             proto_str(a >> 16), (unsigned)(a & 0xffff), key_str(b, x, sizeof(x)),
             (unsigned long long)c);
    break;
  case SIM_TR_NAT_REBOOT:
    snprintf(line, sizeof(line), "%s host=%s reboots=%llu bindings=%llu forwards=%llu", name, hn,
             (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
    break;
  case SIM_TR_NAT_EXTADDR:
    snprintf(line, sizeof(line), "%s host=%s addr=%s", name, hn, key_str(a, x, sizeof(x)));
    break;
  case SIM_TR_NAT_DOWN:
  case SIM_TR_NAT_UP:
    snprintf(line, sizeof(line), "%s host=%s", name, hn);
    break;
  default: /* tcp-*: local, remote */
    snprintf(line, sizeof(line), "%s host=%s %s <-> %s", name, hn, key_str(a, x, sizeof(x)),
             key_str(b, y, sizeof(y)));
    break;
  }
  sim->trace_cb(sim->trace_data, sim->now, line);
}

void sim_trace_pkt(ethp2p_sim *sim, uint8_t kind, uint32_t host, const sim_pkt *p,
                   uint32_t reason) {
  uint64_t c = ((uint64_t)p->proto << 56) | ((uint64_t)p->tcp_flags << 48) |
               ((uint64_t)(reason & 0xffff) << 32) | (uint32_t)p->len;
  fold(sim, kind, host, sim_ep_key(&p->src), sim_ep_key(&p->dst), c);
  if (sim->trace_cb != NULL) {
    char line[256], s[ETHP2P_ADDRSTRLEN], d[ETHP2P_ADDRSTRLEN];
    snprintf(line, sizeof(line), "%s host=%s %s %s -> %s len=%zu%s%s%s%s",
             kind < SIM_TR_COUNT && kind_names[kind] ? kind_names[kind] : "?", host_name(sim, host),
             p->proto == ETHP2P_SIM_TCP ? "tcp" : "udp", sim_ep_str(&p->src, true, s, sizeof(s)),
             sim_ep_str(&p->dst, true, d, sizeof(d)), p->len,
             p->proto == ETHP2P_SIM_TCP ? " flags=" : "",
             p->proto == ETHP2P_SIM_TCP ? (p->tcp_flags & SIM_TCP_SYN      ? "syn"
                                           : p->tcp_flags & SIM_TCP_SYNACK ? "synack"
                                           : p->tcp_flags & SIM_TCP_FIN    ? "fin"
                                           : p->tcp_flags & SIM_TCP_RST    ? "rst"
                                                                           : "data")
                                        : "",
             reason ? " reason=" : "", reason ? ethp2p_sim_drop_name((ethp2p_sim_drop)reason) : "");
    sim->trace_cb(sim->trace_data, sim->now, line);
  }
}

void sim_trace_note(ethp2p_sim *sim, const char *fmt, ...) {
  char line[256];
  va_list ap;
  if (sim->trace_cb == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  sim->trace_cb(sim->trace_data, sim->now, line);
}
