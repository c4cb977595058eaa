/*
 * nat/gateway/ssdp.c — SSDP responder (UPnP Device Architecture 1.1 §1.3).
 *
 * Listens on 239.255.255.250:1900 (joined on the LAN address) and answers an
 * M-SEARCH for ssdp:all, upnp:rootdevice, one of our device UUIDs, or one of
 * our device/service types with a version not above ours (§1.3.2: a device of
 * version N answers searches for versions 1..N, echoing the version asked),
 * with a unicast reply carrying LOCATION.  Replies are sent at once instead of
 * after a random delay within MX (fine for one device on a LAN; document).
 *
 * Advertisements (§1.2), as miniupnpd 2.3.1 sends them: ssdp:alive for the root device,
 * each device UUID and type and each service type, with BOOTID.UPNP.ORG and
 * CONFIGID.UPNP.ORG, at start (and after a restart, with the new BOOTID) and every
 * notify interval; ssdp:byebye for the same set at a clean stop.  Sent from the SSDP
 * socket out of the LAN interface to 239.255.255.250:1900.  The no-notify quirk leaves
 * all of them out (routers with advertisements off, or lost multicast).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "ethp2p/log.h"
#include "nat/gateway/gw_internal.h"
#include "nat/ssdp.h"

#define LOGMOD "gateway"
#define SSDP_SERVER "Linux/6 UPnP/1.1 ethp2p-gateway/0.1"
#define SSDP_MAX_AGE 120

#define SSDP_CONFIGID 1337

#define SSDP_SERIES 10

/* The formatted datagrams of the last ssdp:alive series and what they were
 * built from: the series repeats every notify interval with the same bytes
 * until the boot id, the description's location or the device changes, so
 * it is formatted once and re-sent (formatting used to dominate the cost of
 * a simulated router). */
typedef struct ssdp_cache {
  bool valid;
  ethp2p_ssdp_nts nts;
  uint32_t bootid;
  ethp2p_addr lan_addr; /* with http_port, what LOCATION is formatted from */
  uint16_t http_port;
  char uuid[sizeof(((ethp2p_gw_config *)0)->uuid)];
  int igd_version;
  ethp2p_buf data;         /* the datagrams back to back */
  size_t len[SSDP_SERIES]; /* each one's length; 0 = not built */
} ssdp_cache;

struct gw_ssdp {
  ethp2p_gateway *gw;
  ethp2p_udp *udp;
  ethp2p_timer *notify_timer;
  ssdp_cache cache;
};

static bool cache_matches(const ssdp_cache *c, const ethp2p_gateway *gw, ethp2p_ssdp_nts nts) {
  return c->valid && c->data.err == 0 && c->nts == nts && c->bootid == gw->bootid &&
         c->igd_version == (int)gw->cfg.policy.igd_version && c->http_port == gw->http_port &&
         ethp2p_addr_equal(&c->lan_addr, &gw->cfg.lan_addr, true) &&
         strcmp(c->uuid, gw->cfg.uuid) == 0;
}

/* Formats one advertisement series into the cache: every (NT, USN) pair the
 * device has. */
static void build_series(ethp2p_gateway *gw, ssdp_cache *c, ethp2p_ssdp_nts nts,
                         const char *location) {
  char uuid[3][48];
  const char *types[6];
  const int owner[6] = {0, 1, 2, 2, 1, 0};
  ethp2p_ssdp_notify n;
  uint8_t buf[ETHP2P_SSDP_MAX_LEN];
  size_t len;
  ethp2p_buf_free(&c->data);
  ethp2p_buf_init(&c->data, SSDP_SERIES * ETHP2P_SSDP_MAX_LEN + 1);
  c->data.err = 0;
  c->valid = true;
  c->nts = nts;
  c->bootid = gw->bootid;
  c->lan_addr = gw->cfg.lan_addr;
  c->http_port = gw->http_port;
  c->igd_version = (int)gw->cfg.policy.igd_version;
  snprintf(c->uuid, sizeof c->uuid, "%s", gw->cfg.uuid);
  for (int i = 0; i < 3; i++)
    gw_desc_uuid(gw, i, uuid[i], sizeof uuid[i]);
  types[0] = gw_desc_igd_urn(gw);
  types[1] = gw_desc_wandev_urn(gw);
  types[2] = gw_desc_wanconn_urn(gw);
  types[3] = gw_desc_wanip_urn(gw);
  types[4] = GW_URN_CIF;
  types[5] = GW_URN_L3F;
  for (int k = 0; k < SSDP_SERIES; k++) {
    memset(&n, 0, sizeof n);
    n.nts = nts;
    n.max_age = SSDP_MAX_AGE;
    n.has_bootid = true;
    n.bootid = gw->bootid;
    n.has_configid = true;
    n.configid = SSDP_CONFIGID;
    snprintf(n.server, sizeof n.server, "%s", SSDP_SERVER);
    snprintf(n.location, sizeof n.location, "%s", location);
    if (k == 0) {
      snprintf(n.nt, sizeof n.nt, "upnp:rootdevice");
      snprintf(n.usn, sizeof n.usn, "uuid:%s::upnp:rootdevice", uuid[0]);
    } else if (k <= 3) {
      snprintf(n.nt, sizeof n.nt, "uuid:%s", uuid[k - 1]);
      snprintf(n.usn, sizeof n.usn, "uuid:%s", uuid[k - 1]);
    } else {
      snprintf(n.nt, sizeof n.nt, "%s", types[k - 4]);
      snprintf(n.usn, sizeof n.usn, "uuid:%s::%s", uuid[owner[k - 4]], types[k - 4]);
    }
    c->len[k] = 0;
    if (ethp2p_ssdp_notify_build(buf, sizeof buf, &len, &n) != 0)
      continue;
    ethp2p_buf_add(&c->data, (const char *)buf, len);
    c->len[k] = len;
  }
}

/* One advertisement series, from the cache when nothing it depends on changed. */
static void advertise(ethp2p_gateway *gw, ethp2p_ssdp_nts nts) {
  ssdp_cache *c;
  size_t off = 0;
  if ((gw->cfg.quirks & ETHP2P_GW_Q_NO_NOTIFY) || gw->ssdp == NULL)
    return;
  if (gw->notify_gate != NULL && !gw->notify_gate(gw->notify_gate_data))
    return; /* nobody on the LAN would hear it */
  c = &gw->ssdp->cache;
  if (!cache_matches(c, gw, nts)) {
    char location[sizeof(((ethp2p_ssdp_notify *)0)->location)];
    if (ethp2p_gw_location(gw, location, sizeof location) != 0)
      return;
    build_series(gw, c, nts, location);
  }
  if (c->data.err != 0) { /* no memory: format each datagram as before */
    c->valid = false;
    return;
  }
  for (int k = 0; k < SSDP_SERIES; k++) {
    if (c->len[k] == 0)
      continue;
    if (ethp2p_udp_send(gw->ssdp->udp, &gw->cfg.ssdp_group, (const uint8_t *)c->data.p + off,
                        c->len[k]) == 0)
      gw->stats.notifies_sent++;
    off += c->len[k];
  }
}

static void on_notify_timer(ethp2p_timer *t, void *data) {
  ethp2p_gateway *gw = data;
  advertise(gw, ETHP2P_SSDP_NTS_ALIVE);
  ethp2p_timer_start(t, gw_now(gw) + (ethp2p_time)gw->cfg.notify_interval_s * ETHP2P_SEC);
}

static void send_reply(ethp2p_gateway *gw, const ethp2p_addr *to, const char *st,
                       const char *uuid) {
  ethp2p_ssdp_reply r;
  uint8_t buf[ETHP2P_SSDP_MAX_LEN];
  size_t len = 0;
  memset(&r, 0, sizeof r);
  r.status = 200;
  r.max_age = SSDP_MAX_AGE;
  if (ethp2p_gw_location(gw, r.location, sizeof r.location) != 0)
    return;
  snprintf(r.st, sizeof r.st, "%s", st);
  snprintf(r.server, sizeof r.server, "%s", SSDP_SERVER);
  r.has_bootid = true;
  r.bootid = gw->bootid;
  if (strncmp(st, "uuid:", 5) == 0)
    snprintf(r.usn, sizeof r.usn, "uuid:%s", uuid);
  else
    snprintf(r.usn, sizeof r.usn, "uuid:%s::%s", uuid, st);
  if (ethp2p_ssdp_reply_build(buf, sizeof buf, &len, &r) != 0)
    return;
  gw_udp_reply(gw, gw->ssdp->udp, to, buf, len);
}

/* "urn:schemas-upnp-org:device:WANDevice:2" matches `ours` (same URN, version
 * <= ours).  Versions compare as numbers. */
static bool urn_matches(const char *st, const char *ours) {
  const char *sc = strrchr(st, ':'), *oc = strrchr(ours, ':');
  unsigned long sv = 0, ov = 0;
  if (sc == NULL || oc == NULL || sc - st != oc - ours)
    return false;
  if (strncasecmp(st, ours, (size_t)(sc - st)) != 0)
    return false;
  for (const char *p = sc + 1; *p; p++) {
    if (*p < '0' || *p > '9' || sv > 1000)
      return false;
    sv = sv * 10 + (unsigned long)(*p - '0');
  }
  for (const char *p = oc + 1; *p; p++)
    ov = ov * 10 + (unsigned long)(*p - '0');
  return sc[1] != '\0' && sv >= 1 && sv <= ov;
}

static void on_search(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                      void *data) {
  ethp2p_gateway *gw = data;
  ethp2p_ssdp_search s;
  ethp2p_diag diag = {0};
  char uuid[3][48];
  const char *types[6];
  const int owner[6] = {0, 1, 2, 2, 1, 0};
  bool all;
  (void)udp;
  if (!gw_from_lan(gw, from))
    return; /* only the LAN may discover us */
  /* Not a search (our own NOTIFYs looped back every interval, others' replies):
   * the parser would refuse the request line; skip its checks and diagnosis. */
  if (len < 9 || memcmp(buf, "M-SEARCH ", 9) != 0)
    return;
  if (ethp2p_ssdp_search_parse(&s, buf, len, &diag) != 0)
    return; /* NOTIFY, replies of others, junk */
  if (strcmp(s.man, "ssdp:discover") != 0)
    return;
  for (int i = 0; i < 3; i++)
    gw_desc_uuid(gw, i, uuid[i], sizeof uuid[i]);
  types[0] = gw_desc_igd_urn(gw);
  types[1] = gw_desc_wandev_urn(gw);
  types[2] = gw_desc_wanconn_urn(gw);
  types[3] = gw_desc_wanip_urn(gw);
  types[4] = GW_URN_CIF;
  types[5] = GW_URN_L3F;
  all = strcmp(s.st, "ssdp:all") == 0;
  if (all || strcmp(s.st, "upnp:rootdevice") == 0)
    send_reply(gw, from, "upnp:rootdevice", uuid[0]);
  for (int i = 0; i < 3; i++) {
    char st[160];
    snprintf(st, sizeof st, "uuid:%s", uuid[i]);
    if (all || strcasecmp(s.st, st) == 0)
      send_reply(gw, from, st, uuid[i]);
  }
  for (int i = 0; i < 6; i++) {
    if (all)
      send_reply(gw, from, types[i], uuid[owner[i]]);
    else if (urn_matches(s.st, types[i]))
      send_reply(gw, from, s.st, uuid[owner[i]]);
  }
}

int gw_ssdp_start(ethp2p_gateway *gw) {
  struct gw_ssdp *s = calloc(1, sizeof *s);
  ethp2p_addr bind = gw->cfg.ssdp_bind;
  int rc;
  if (s == NULL)
    return ETHP2P_ENOMEM;
  s->gw = gw;
  if (bind.family == 0)
    bind = ethp2p_addr_v4(0, 0, 0, 0, gw->cfg.ssdp_port);
  rc = ethp2p_udp_open(gw->env, &s->udp, &bind, ETHP2P_UDP_REUSEADDR, on_search, gw);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_ERROR, LOGMOD, "Cannot bind SSDP socket", "port=%u err=%s", bind.port,
               ethp2p_strerror(rc));
    free(s);
    return rc;
  }
  rc = ethp2p_udp_join(s->udp, &gw->cfg.ssdp_group, &gw->cfg.lan_addr);
  if (rc != 0) /* e.g. no multicast on that interface: unicast searches still work */
    ethp2p_log(ETHP2P_LOG_WARN, LOGMOD, "Cannot join SSDP group; answering unicast searches only",
               "err=%s", ethp2p_strerror(rc));
  ethp2p_udp_set_multicast(s->udp, &gw->cfg.lan_addr, 2); /* advertisements leave on the LAN */
  rc = ethp2p_timer_create(gw->env, &s->notify_timer, on_notify_timer, gw);
  if (rc != 0) {
    ethp2p_udp_close(s->udp);
    free(s);
    return rc;
  }
  gw->ssdp = s;
  /* From the next loop turn: the HTTP port is known by then (restart moves it). */
  ethp2p_timer_start(s->notify_timer, gw_now(gw));
  return 0;
}

void gw_ssdp_stop(ethp2p_gateway *gw, bool byebye) {
  struct gw_ssdp *s = gw->ssdp;
  if (s == NULL)
    return;
  if (byebye)
    advertise(gw, ETHP2P_SSDP_NTS_BYEBYE);
  ethp2p_timer_destroy(s->notify_timer);
  ethp2p_buf_free(&s->cache.data);
  gw_udp_cancel(gw, s->udp);
  ethp2p_udp_close(s->udp);
  free(s);
  gw->ssdp = NULL;
}
