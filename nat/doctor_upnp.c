/*
 * nat/doctor_upnp.c — the UPnP device details the doctor shows (search
 * target, SERVER, LOCATION, device type, friendly name, services).
 *
 * A bridge, kept as small as possible: the node's UPnP client (nat/upnp.c)
 * does not report the device it chose yet, so this file runs a search with
 * the client's rules — so that the doctor never shows a router the node
 * would reject:
 *   - searches from every up, non-loopback, multicast IPv4 interface to
 *     239.255.255.250:1900 (TTL 2), and unicast to the default gateway from
 *     the interface on its subnet; InternetGatewayDevice:1 alone at t = 0,
 *     then IGD:1, IGD:2, WANConnectionDevice:2, :1 at 250 and 750 ms; MX 1
 *     (nat/upnp.c's upnp_search_targets and disc_send_burst);
 *   - a reply counts only with status 200, a gateway search target, and a
 *     LOCATION whose (IPv4) host is the address the datagram came from;
 *   - the description is fetched with the client's headers, cap (64 KiB) and
 *     timeout (3 s), and parsed by the client's parser (nat/xml.h).
 * It goes away when nat/upnp.c exports the device it found (docs/doctor.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/doctor_impl.h"
#include "nat/http.h"
#include "nat/ssdp.h"
#include "nat/xml.h"

#define UPNP_RESEND_1 (250 * ETHP2P_MSEC)
#define UPNP_RESEND_2 (750 * ETHP2P_MSEC)
#define UPNP_HTTP_TIMEOUT (3 * ETHP2P_SEC)
#define UPNP_DESC_CAP (64 * 1024)
#define UPNP_MX 1

_Static_assert(ETHP2P_DOCTOR_MAX_SERVICES == ETHP2P_UPNP_MAX_SERVICES,
               "the report holds every service the description parser keeps");

static const char *const search_targets[] = {ETHP2P_SSDP_ST_IGD1, ETHP2P_SSDP_ST_IGD2,
                                             ETHP2P_SSDP_ST_WANCONN2, ETHP2P_SSDP_ST_WANCONN1};

static void close_socks(doctor_upnp_probe *u) {
  for (size_t i = 0; i < u->nsocks; i++) {
    ethp2p_udp_close(u->socks[i].udp);
    u->socks[i].udp = NULL;
  }
  u->nsocks = 0;
}

static void on_desc(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp, void *data) {
  ethp2p_doctor *d = data;
  ethp2p_doctor_upnp *s = &d->r.upnp;
  ethp2p_upnp_desc *desc;
  (void)c;
  d->upnp.http = NULL;
  s->desc_status = status;
  if (status == 0 && resp->status == 200 && (desc = calloc(1, sizeof *desc)) != NULL) {
    if (ethp2p_upnp_desc_parse(desc, (const char *)resp->body, resp->body_len, NULL) == 0) {
      s->desc_ok = true;
      snprintf(s->device_type, sizeof s->device_type, "%s", desc->root_device_type);
      snprintf(s->friendly_name, sizeof s->friendly_name, "%s", desc->friendly_name);
      for (size_t i = 0; i < desc->nservices && i < ETHP2P_DOCTOR_MAX_SERVICES; i++)
        snprintf(s->services[s->nservices++], sizeof s->services[0], "%s",
                 desc->services[i].service_type);
    }
    free(desc);
  }
  doctor_check_done(d);
}

static void fetch(ethp2p_doctor *d, const ethp2p_http_url *url) {
  char host[ETHP2P_ADDRSTRLEN];
  uint8_t req[1024];
  size_t len;
  ethp2p_addr_format(&url->addr, true, host, sizeof host);
  ethp2p_http_field hdr[3] = {
      {"Host", host}, {"Connection", "close"}, {"User-Agent", "ethp2p UPnP/1.1"}};
  if (ethp2p_http_request_build(req, sizeof req, &len, "GET", url->path, hdr, 3, NULL, 0, 0) != 0)
    return;
  if (ethp2p_http_client_start(d->env, &d->upnp.http, &url->addr, NULL, req, len, UPNP_DESC_CAP,
                               false, UPNP_HTTP_TIMEOUT, on_desc, d) != 0)
    d->upnp.http = NULL;
}

static void on_reply(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                     void *data) {
  doctor_upnp_sock *sk = data;
  ethp2p_doctor *d = sk->d;
  ethp2p_doctor_upnp *s = &d->r.upnp;
  ethp2p_ssdp_reply r;
  ethp2p_http_url url;
  (void)udp;
  if (s->answered || ethp2p_ssdp_reply_parse(&r, buf, len, NULL) != 0 || r.status != 200 ||
      !ethp2p_ssdp_st_is_gateway(r.st))
    return;
  if (ethp2p_http_url_parse(&url, r.location, NULL) != 0 || !url.has_addr || url.addr.family != 4 ||
      !ethp2p_addr_equal(&url.addr, from, false))
    return; /* LOCATION on another host: the node would not use it either */
  s->answered = true;
  snprintf(s->st, sizeof s->st, "%s", r.st);
  snprintf(s->server, sizeof s->server, "%s", r.server);
  snprintf(s->location, sizeof s->location, "%s", r.location);
  fetch(d, &url);
  doctor_check_done(d);
}

static void send_burst(ethp2p_doctor *d) {
  doctor_upnp_probe *u = &d->upnp;
  ethp2p_addr group;
  ethp2p_addr_parse_ip(&group, ETHP2P_SSDP_GROUP_V4);
  group.port = ETHP2P_SSDP_PORT;
  size_t nt = u->bursts == 0 ? 1 : sizeof search_targets / sizeof search_targets[0];
  for (size_t i = 0; i < u->nsocks; i++) {
    bool unicast = d->r.have_gw && d->r.gw.family == 4 &&
                   ethp2p_addr_same_subnet(&d->r.gw, &u->socks[i].iface, u->socks[i].prefix);
    for (size_t t = 0; t < nt; t++) {
      ethp2p_ssdp_search q;
      uint8_t buf[512];
      size_t len;
      memset(&q, 0, sizeof q);
      q.mx = UPNP_MX;
      snprintf(q.st, sizeof q.st, "%s", search_targets[t]);
      if (ethp2p_ssdp_search_build(buf, sizeof buf, &len, &q) == 0)
        (void)ethp2p_udp_send(u->socks[i].udp, &group, buf, len);
      if (unicast) {
        ethp2p_addr to = d->r.gw;
        char h[ETHP2P_ADDRSTRLEN];
        to.port = ETHP2P_SSDP_PORT;
        snprintf(q.host, sizeof q.host, "%s", ethp2p_addr_format(&to, true, h, sizeof h));
        if (ethp2p_ssdp_search_build(buf, sizeof buf, &len, &q) == 0)
          (void)ethp2p_udp_send(u->socks[i].udp, &to, buf, len);
      }
    }
  }
  u->bursts++;
}

static void on_burst(ethp2p_timer *t, void *data) {
  ethp2p_doctor *d = data;
  (void)t;
  if (d->r.upnp.answered || d->upnp.nsocks == 0 || d->upnp.bursts >= 3)
    return;
  send_burst(d);
  if (d->upnp.bursts < 3)
    ethp2p_timer_start(d->upnp.timer, d->started_at + UPNP_RESEND_2);
}

void doctor_upnp_start(ethp2p_doctor *d) {
  doctor_upnp_probe *u = &d->upnp;
  ethp2p_iface *ifs = d->r.ifaces;
  d->r.upnp.probed = true;
  for (size_t i = 0; i < d->r.n_ifaces && u->nsocks < DOCTOR_UPNP_MAX_SOCKS; i++) {
    doctor_upnp_sock *s = &u->socks[u->nsocks];
    ethp2p_addr bind = ifs[i].addr;
    if (!ifs[i].up || ifs[i].loopback || !ifs[i].multicast || ifs[i].addr.family != 4)
      continue;
    bind.port = 0;
    s->d = d;
    s->iface = bind;
    s->prefix = ifs[i].prefix_len;
    if (ethp2p_udp_open(d->env, &s->udp, &bind, 0, on_reply, s) != 0) {
      s->udp = NULL;
      continue;
    }
    (void)ethp2p_udp_set_multicast(s->udp, &bind, 2); /* UDA 1.1 §1.3.2: TTL 2 */
    u->nsocks++;
  }
  if (u->nsocks == 0 || ethp2p_timer_create(d->env, &u->timer, on_burst, d) != 0) {
    u->timer = NULL;
    close_socks(u);
    return;
  }
  send_burst(d);
  ethp2p_timer_start(u->timer, d->started_at + UPNP_RESEND_1);
}

bool doctor_upnp_busy(const ethp2p_doctor *d) {
  return d->upnp.http != NULL;
}

void doctor_upnp_stop(ethp2p_doctor *d) {
  doctor_upnp_probe *u = &d->upnp;
  if (u->http != NULL) {
    ethp2p_http_client_cancel(u->http);
    u->http = NULL;
  }
  close_socks(u);
  ethp2p_timer_destroy(u->timer);
  u->timer = NULL;
}
