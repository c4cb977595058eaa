/*
 * nat/doctor_render.c — the doctor's words (ethp2p/doctor.h): the verdict's
 * reason and advice, and the report as one screen of text.  Only reads the
 * report and the verdict; every sentence lives here, none in the decision.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "ethp2p/doctor.h"

#define SCREEN_MAX (64 * 1024)

static const char *fmt_ip(const ethp2p_addr *a, char *buf, size_t n) {
  return a->family == 0 ? "-" : ethp2p_addr_format(a, false, buf, n);
}

/* Our LAN address: the up IPv4 interface on the gateway's subnet, else the first up one. */
static const ethp2p_addr *local_ip(const ethp2p_doctor_report *r) {
  for (size_t i = 0; i < r->n_ifaces; i++) {
    const ethp2p_iface *f = &r->ifaces[i];
    if (f->up && !f->loopback && f->addr.family == 4 &&
        (!r->have_gw || ethp2p_addr_same_subnet(&f->addr, &r->gw, f->prefix_len)))
      return &f->addr;
  }
  for (size_t i = 0; i < r->n_ifaces; i++)
    if (r->ifaces[i].up && !r->ifaces[i].loopback && r->ifaces[i].addr.family == 4)
      return &r->ifaces[i].addr;
  return NULL;
}

/* The --nat value that selects gateway protocol i. */
static const char *nat_flag(int i) {
  return i == ETHP2P_DOCTOR_UPNP ? "upnp" : i == ETHP2P_DOCTOR_PMP ? "pmp" : "pcp";
}

void ethp2p_doctor_explain(const ethp2p_doctor_report *r, const ethp2p_doctor_verdict *v,
                           ethp2p_doctor_prose *out) {
  const ethp2p_doctor_extaddr *e = &v->ext;
  const ethp2p_nat_profile *pr = &r->profile;
  const ethp2p_doctor_gateway *g = v->gateway >= 0 ? &r->gateways[v->gateway] : NULL;
  const ethp2p_addr *lip = local_ip(r);
  char ext[ETHP2P_ADDRSTRLEN], loc[ETHP2P_ADDRSTRLEN], st[ETHP2P_ADDRSTRLEN];
  unsigned n = r->config.port;
  bool stun_known = pr->reflexive.family != 0, answered = false;
  const char *fwd_advice_fmt = "forward tcp/%u and udp/%u on the router to %s:%u by hand and run "
                               "with --nat extip:%s";

  memset(out, 0, sizeof *out);
  fmt_ip(&e->addr, ext, sizeof ext);
  if (lip != NULL)
    fmt_ip(lip, loc, sizeof loc);
  else
    snprintf(loc, sizeof loc, "this host");
  fmt_ip(&e->stun, st, sizeof st);
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++)
    if (r->gateways[i].probed && r->gateways[i].extip_status == 0)
      answered = true;

  switch (v->why) {
  case ETHP2P_DOCTOR_CASE_DECLARED:
    if (stun_known && e->disagrees)
      snprintf(out->reason, sizeof out->reason,
               "you declared the external address %s but STUN sees %s", ext, st);
    else
      snprintf(out->reason, sizeof out->reason,
               "the external address is declared (%s); inbound connections cannot be tested "
               "from inside",
               ext);
    snprintf(out->advice, sizeof out->advice,
             "make sure tcp/%u and udp/%u are forwarded by hand to %s:%u; ask a peer or an "
             "outside port checker to connect",
             n, n, loc, n);
    break;
  case ETHP2P_DOCTOR_CASE_MAPPED_DOUBLE_NAT:
    if (e->disagrees)
      snprintf(out->reason, sizeof out->reason,
               "%s mapped the ports, but the router's external address %s is not what the "
               "internet sees (%s): another NAT sits upstream (double NAT)",
               g->label, ext, st);
    else
      snprintf(out->reason, sizeof out->reason,
               "%s mapped the ports, but the router's external address %s is %s: another NAT "
               "sits upstream (double NAT)",
               g->label, ext, e->cgnat ? "carrier-grade NAT space (100.64/10)" : "private");
    snprintf(out->advice, sizeof out->advice,
             "put the upstream modem in bridge mode or forward tcp/%u and udp/%u there too; "
             "behind carrier-grade NAT ask the ISP for a public IPv4 address, or rely on "
             "outbound connections and relays",
             n, n);
    break;
  case ETHP2P_DOCTOR_CASE_MAPPED: {
    unsigned tp = g->map[ETHP2P_DOCTOR_TCP].external_port;
    unsigned up = g->map[ETHP2P_DOCTOR_UDP].external_port;
    snprintf(out->reason, sizeof out->reason,
             "the router forwards tcp/%u -> %s:%u and udp/%u -> %s:%u via %s", n, ext, tp, n, ext,
             up, g->label);
    if (tp != n || up != n)
      snprintf(out->advice, sizeof out->advice,
               "the router grants other external ports than %u; run the node with --nat %s so "
               "it keeps the mapping and advertises the granted ports",
               n, nat_flag(v->gateway));
    else
      snprintf(out->advice, sizeof out->advice,
               "run the node with --nat any (or --nat %s) so it renews the mapping",
               nat_flag(v->gateway));
    break;
  }
  case ETHP2P_DOCTOR_CASE_PUBLIC_HOST: {
    char pb[ETHP2P_ADDRSTRLEN];
    fmt_ip(v->public_iface, pb, sizeof pb);
    snprintf(out->reason, sizeof out->reason, "this host has the public address %s (no NAT)%s", pb,
             v->filtered ? ", but a firewall filters unsolicited packets" : "");
    snprintf(out->advice, sizeof out->advice,
             "make sure the host firewall allows tcp/%u and udp/%u in; run with --nat extip:%s", n,
             n, pb);
    break;
  }
  case ETHP2P_DOCTOR_CASE_REFUSED: {
    const ethp2p_doctor_map *m = g->map[ETHP2P_DOCTOR_TCP].add_status != 0
                                     ? &g->map[ETHP2P_DOCTOR_TCP]
                                     : &g->map[ETHP2P_DOCTOR_UDP];
    if (m->router_code != 0)
      snprintf(out->reason, sizeof out->reason,
               "%s answered but refused the test mapping: code %d %s", g->label, m->router_code,
               m->router_msg);
    else
      snprintf(out->reason, sizeof out->reason, "%s answered but the test mapping failed: %s",
               g->label, ethp2p_strerror(m->add_status));
    snprintf(out->advice, sizeof out->advice, fwd_advice_fmt, n, n, loc, n,
             e->addr.family != 0 ? ext : "<external IP>");
    break;
  }
  case ETHP2P_DOCTOR_CASE_STUN_NAT:
    snprintf(out->reason, sizeof out->reason,
             "%s and STUN shows a NAT (%s mapping, %s filtering): unsolicited connections are "
             "dropped%s",
             answered ? "the router maps no ports"
             : r->config.spec.kind == ETHP2P_NAT_NONE
                 ? "no port-mapping protocol was tried (--nat none)"
                 : "no port-mapping protocol answered (UPnP, NAT-PMP, PCP)",
             ethp2p_nat_policy_name(pr->mapping), ethp2p_nat_policy_name(pr->filtering),
             pr->can_receive_unsolicited ? " for TCP (UDP peers may reach you after you send "
                                           "to them: full cone)"
                                         : "");
    snprintf(out->advice, sizeof out->advice,
             "enable UPnP or NAT-PMP on the router, or forward tcp/%u and udp/%u by hand to "
             "%s:%u and run with --nat extip:%s",
             n, n, loc, n, e->addr.family != 0 ? ext : "<external IP>");
    break;
  default:
    snprintf(out->reason, sizeof out->reason, "%s and %s",
             r->config.spec.kind == ETHP2P_NAT_NONE
                 ? "no port-mapping protocol was tried (--nat none)"
             : !r->have_gw ? "there is no default gateway"
                           : "no port-mapping protocol answered (UPnP, NAT-PMP, PCP)",
             r->config.n_stun == 0 ? "no STUN server was given"
             : !stun_known         ? "no STUN server answered"
                           : "STUN sees this host's own address, which is not globally routable");
    snprintf(out->advice, sizeof out->advice,
             "enable UPnP or NAT-PMP on the router, or forward tcp/%u and udp/%u by hand and use "
             "--nat extip:IP; run with --stun HOST:PORT (an RFC 5780 server) to learn how the "
             "NAT behaves",
             n, n);
    break;
  }
}

static void screen_map(ethp2p_buf *b, const char *proto, unsigned port,
                       const ethp2p_doctor_map *m) {
  if (!m->tried)
    return;
  ethp2p_buf_printf(b, "               test mapping %s/%u: ", proto, port);
  if (m->add_status != 0) {
    if (m->router_code != 0)
      ethp2p_buf_printf(b, "refused, code %d %s\n", m->router_code, m->router_msg);
    else
      ethp2p_buf_printf(b, "failed: %s\n", ethp2p_strerror(m->add_status));
    return;
  }
  ethp2p_buf_printf(b, "added -> external port %u (lease %u s), %s, %s\n", m->external_port,
                    (unsigned)m->lifetime_s, m->confirmed ? "confirmed" : "not confirmed",
                    m->deleted ? "deleted" : "NOT deleted (expires by itself)");
}

static void screen(ethp2p_buf *out, const ethp2p_doctor_report *r) {
  char b[ETHP2P_ADDRSTRLEN], c[ETHP2P_ADDRSTRLEN];
  ethp2p_doctor_verdict v;
  ethp2p_doctor_prose words;
  const ethp2p_doctor_extaddr *e = &v.ext;
  const ethp2p_nat_profile *p = &r->profile;
  unsigned port = r->config.port;

  ethp2p_doctor_decide(r, &v);
  ethp2p_doctor_explain(r, &v, &words);
  ethp2p_buf_printf(out, "ethp2p nat doctor: port %u\n\nLocal addresses\n", port);
  for (size_t i = 0; i < r->n_ifaces; i++)
    ethp2p_buf_printf(out, "  %-12s %s/%u%s\n", r->ifaces[i].name,
                      fmt_ip(&r->ifaces[i].addr, b, sizeof b), (unsigned)r->ifaces[i].prefix_len,
                      r->ifaces[i].loopback ? " (loopback)" : "");
  ethp2p_buf_printf(out, "Default gateway  %s\n\nGateway protocols\n",
                    r->have_gw ? fmt_ip(&r->gw, b, sizeof b) : "none");
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    const ethp2p_doctor_gateway *q = &r->gateways[i];
    ethp2p_buf_printf(out, "  %-12s ", q->label);
    if (!q->probed) {
      ethp2p_buf_puts(out, "not probed (--nat)\n");
    } else if (q->extip_status != 0) {
      ethp2p_buf_printf(out, "no: %s\n",
                        q->timed_out || q->extip_status == ETHP2P_ETIMEDOUT
                            ? "no answer"
                            : ethp2p_strerror(q->extip_status));
    } else {
      ethp2p_buf_printf(out, "yes: external address %s\n", fmt_ip(&q->extip, b, sizeof b));
    }
    if (i == ETHP2P_DOCTOR_UPNP && r->upnp.answered) {
      const ethp2p_doctor_upnp *s = &r->upnp;
      ethp2p_buf_printf(out, "               %s%s%s%s\n", s->desc_ok ? s->device_type : s->st,
                        s->friendly_name[0] ? " \"" : "", s->friendly_name,
                        s->friendly_name[0] ? "\"" : "");
      if (s->server[0] != '\0')
        ethp2p_buf_printf(out, "               server: %s\n", s->server);
      for (size_t k = 0; k < s->nservices; k++)
        ethp2p_buf_printf(out, "               service: %s\n", s->services[k]);
      if (s->chosen_service[0] != '\0')
        ethp2p_buf_printf(out, "               uses: %s (%s)\n", s->chosen_service, s->choice);
      if (s->devices_found > 1)
        ethp2p_buf_printf(out, "               devices answering: %zu\n", s->devices_found);
    }
    screen_map(out, "tcp", port, &q->map[ETHP2P_DOCTOR_TCP]);
    screen_map(out, "udp", port, &q->map[ETHP2P_DOCTOR_UDP]);
  }
  ethp2p_buf_printf(out, "\nExternal address %s", fmt_ip(&e->addr, b, sizeof b));
  if (e->source != NULL)
    ethp2p_buf_printf(out, " (from %s)", e->source);
  if (e->private_)
    ethp2p_buf_puts(out, " [PRIVATE: double NAT]");
  if (e->cgnat)
    ethp2p_buf_puts(out, " [CARRIER-GRADE NAT: double NAT]");
  if (e->disagrees)
    ethp2p_buf_printf(out, " [STUN sees %s: another NAT upstream]", fmt_ip(&e->stun, c, sizeof c));
  ethp2p_buf_puts(out, "\n\nNAT behaviour");
  if (r->config.n_stun == 0) {
    ethp2p_buf_puts(out, ": unknown: no STUN server (use --stun HOST:PORT)\n");
  } else {
    ethp2p_buf_printf(out, " (STUN %s)\n",
                      p->server.family ? ethp2p_addr_format(&p->server, true, b, sizeof b)
                                       : "no answer");
    ethp2p_buf_printf(out, "  mapping      %s\n  filtering    %s\n  allocation   %s",
                      ethp2p_nat_policy_name(p->mapping), ethp2p_nat_policy_name(p->filtering),
                      ethp2p_nat_alloc_name(p->allocation));
    if (p->allocation == ETHP2P_NAT_ALLOC_CONTIGUOUS)
      ethp2p_buf_printf(out, " (delta %d)", (int)p->port_delta);
    ethp2p_buf_printf(
        out, "\n  hairpinning  %s\n  reflexive    %s\n", ethp2p_nat_tri_name(p->hairpinning),
        p->reflexive.family ? ethp2p_addr_format(&p->reflexive, true, b, sizeof b) : "-");
    ethp2p_buf_printf(
        out, "  behind NAT   %s; accepts unsolicited: %s; needs a relay for strict peers: %s\n",
        ethp2p_nat_tri_name(p->behind_nat), p->can_receive_unsolicited ? "yes" : "no",
        p->requires_relay ? "yes" : "no");
    if (p->note[0] != '\0')
      ethp2p_buf_printf(out, "  note         %s\n", p->note);
  }
  ethp2p_buf_printf(out, "\nreachable from the internet on tcp/%u and udp/%u: %s\n", port, port,
                    ethp2p_doctor_answer_name(v.answer));
  ethp2p_buf_printf(out, "  why:        %s\n  what to do: %s\n", words.reason, words.advice);
}

/* Copies a rendered text out (shared with nat/doctor_json.c's contract). */
static int copy_out(const char *text, size_t n, char *buf, size_t size, size_t *len) {
  *len = n;
  if (buf == NULL || size <= n)
    return ETHP2P_ESPACE;
  memcpy(buf, text, n + 1);
  return 0;
}

int ethp2p_doctor_render_text(const ethp2p_doctor_report *r, char *buf, size_t size, size_t *len) {
  ethp2p_buf b;
  int rc;
  if (r == NULL || len == NULL || (buf == NULL && size > 0))
    return ETHP2P_EINVAL;
  *len = 0;
  ethp2p_buf_init(&b, SCREEN_MAX);
  screen(&b, r);
  rc = b.err != 0 ? b.err : copy_out(b.p != NULL ? b.p : "", b.len, buf, size, len);
  if (rc != 0 && buf != NULL && size > 0)
    buf[0] = '\0';
  ethp2p_buf_free(&b);
  return rc;
}
