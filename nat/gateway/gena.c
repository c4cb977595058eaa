/*
 * nat/gateway/gena.c — GENA eventing of the WANIPConnection service (UDA 1.1 §4), as
 * miniupnpd 2.3.1 does it:
 *   - SUBSCRIBE on the eventSubURL (GW_PATH_EVT) with CALLBACK and NT upnp:event: 200 with
 *     SID "uuid:..." and TIMEOUT Second-N (what was asked, 1800 when absent or infinite),
 *     then the initial event (SEQ 0) to the first CALLBACK URL;
 *   - SUBSCRIBE with SID renews (412 for an unknown SID); UNSUBSCRIBE removes (412 for
 *     an unknown SID); malformed combinations are 400, a missing CALLBACK/NT is 412;
 *   - an event (SEQ + 1) with ExternalIPAddress and ConnectionStatus to every subscriber
 *     when the external address changes or on ethp2p_gw_announce (SIGUSR1);
 *   - subscriptions expire at their timeout and are lost in a restart.
 * The no-gena quirk answers every SUBSCRIBE with 501 (routers that do not event).
 * Events go out on a fresh TCP connection each (5 s deadline), from the LAN side only to
 * callback hosts on the LAN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "nat/gateway/gw_internal.h"
#include "nat/gena.h"
#include "nat/http.h"

#define LOGMOD "gateway"
#define GENA_MAX_SUBS 16
#define GENA_DEFAULT_TIMEOUT 1800u
#define GENA_SEND_TIMEOUT (5 * ETHP2P_SEC)
#define GENA_MAX_SENDING 32 /* events in flight; more are dropped (the next one carries all) */

typedef struct gw_sub {
  bool used;
  char sid[48];
  ethp2p_http_url callback;
  ethp2p_time expires;
  uint32_t seq; /* SEQ of the next event */
} gw_sub;

struct gw_gena {
  gw_sub subs[GENA_MAX_SUBS];
  unsigned next_id;
  ethp2p_http_client *sending[GENA_MAX_SENDING]; /* owned: cancelled at stop and destroy */
};

static void sent_cb(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp, void *data) {
  ethp2p_gateway *gw = data;
  (void)resp;
  for (size_t i = 0; gw->gena != NULL && i < GENA_MAX_SENDING; i++)
    if (gw->gena->sending[i] == c)
      gw->gena->sending[i] = NULL;
  if (status != 0)
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Event delivery failed", "err=%s",
               ethp2p_strerror(status));
}

static void cancel_sending(struct gw_gena *g) {
  for (size_t i = 0; i < GENA_MAX_SENDING; i++) {
    if (g->sending[i] != NULL)
      ethp2p_http_client_cancel(g->sending[i]);
    g->sending[i] = NULL;
  }
}

static void send_event(ethp2p_gateway *gw, gw_sub *s) {
  char host[ETHP2P_ADDRSTRLEN], ip[ETHP2P_ADDRSTRLEN];
  uint8_t req[4096];
  size_t len;
  size_t slot;
  ethp2p_soap_field f[2] = {
      {"ExternalIPAddress", ethp2p_addr_format(&gw->external_ip, false, ip, sizeof ip)},
      {"ConnectionStatus", "Connected"}};
  for (slot = 0; slot < GENA_MAX_SENDING && gw->gena->sending[slot] != NULL; slot++)
    ;
  if (slot == GENA_MAX_SENDING)
    return;
  ethp2p_addr_format(&s->callback.addr, true, host, sizeof host);
  if (ethp2p_gena_event_build(req, sizeof req, &len, s->callback.path, host, s->sid, s->seq, f,
                              2) != 0)
    return;
  /* SEQ wraps from 2^32-1 to 1 (§4.3.2: 0 is only the initial event). */
  s->seq = s->seq == UINT32_MAX ? 1 : s->seq + 1;
  if (ethp2p_http_client_start(gw->env, &gw->gena->sending[slot], &s->callback.addr, NULL, req, len,
                               1024, false, GENA_SEND_TIMEOUT, sent_cb, gw) == 0)
    gw->stats.events_sent++;
  else
    gw->gena->sending[slot] = NULL;
}

int gw_gena_init(ethp2p_gateway *gw) {
  gw->gena = calloc(1, sizeof *gw->gena);
  return gw->gena != NULL ? 0 : ETHP2P_ENOMEM;
}

void gw_gena_clear(ethp2p_gateway *gw, bool free_all) {
  if (gw->gena == NULL)
    return;
  cancel_sending(gw->gena);
  memset(gw->gena->subs, 0, sizeof gw->gena->subs);
  gw->stats.subscriptions = 0;
  if (free_all) {
    free(gw->gena);
    gw->gena = NULL;
  }
}

static gw_sub *find_sid(ethp2p_gateway *gw, const char *sid) {
  ethp2p_time now = gw_now(gw);
  for (size_t i = 0; i < GENA_MAX_SUBS; i++) {
    gw_sub *s = &gw->gena->subs[i];
    if (s->used && s->expires != 0 && s->expires <= now) {
      s->used = false; /* expired */
      gw->stats.subscriptions--;
    }
    if (s->used && strcmp(s->sid, sid) == 0)
      return s;
  }
  return NULL;
}

static uint32_t grant_timeout(uint32_t asked) {
  return asked == 0 ? GENA_DEFAULT_TIMEOUT : asked;
}

void gw_gena_handle(ethp2p_gateway *gw, const void *msgp, const char *path, const ethp2p_addr *peer,
                    gw_gena_answer *out) {
  const ethp2p_http_msg *msg = msgp;
  ethp2p_gena_request r;
  ethp2p_diag diag = {0};
  gw_sub *s;
  uint32_t t;
  int rc;
  memset(out, 0, sizeof *out);
  out->status = 200;
  out->reason = "OK";
  if (strcmp(path, GW_PATH_EVT) != 0) {
    out->status = 404;
    out->reason = "Not Found";
    return;
  }
  if (gw->cfg.quirks & ETHP2P_GW_Q_NO_GENA) {
    out->status = 501;
    out->reason = "Not Implemented";
    return;
  }
  rc = ethp2p_gena_request_parse(&r, msg, &diag);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Bad GENA request", "err=%s why=\"%s\"",
               ethp2p_err_name(rc), diag.msg);
    out->status = rc == ETHP2P_EPROTO ? 412 : 400;
    out->reason = rc == ETHP2P_EPROTO ? "Precondition Failed" : "Bad Request";
    return;
  }
  if (r.kind == ETHP2P_GENA_SUBSCRIBE) {
    ethp2p_http_url cb;
    size_t i;
    if (ethp2p_http_url_parse(&cb, r.callbacks[0], NULL) != 0 || !cb.has_addr ||
        !gw_from_lan(gw, &cb.addr)) {
      out->status = 412;
      out->reason = "Precondition Failed";
      return;
    }
    (void)peer;
    find_sid(gw, ""); /* drop expired ones */
    for (i = 0; i < GENA_MAX_SUBS && gw->gena->subs[i].used; i++)
      ;
    if (i == GENA_MAX_SUBS) {
      out->status = 503;
      out->reason = "Service Unavailable";
      return;
    }
    s = &gw->gena->subs[i];
    memset(s, 0, sizeof *s);
    s->used = true;
    s->callback = cb;
    snprintf(s->sid, sizeof s->sid, "uuid:%.8s-%04x-4000-8000-%012x", gw->cfg.uuid,
             (++gw->gena->next_id) & 0xffff, (unsigned)gw->bootid);
    gw->stats.subscribes++;
    gw->stats.subscriptions++;
    out->initial = s;
  } else {
    s = find_sid(gw, r.sid);
    if (s == NULL) {
      out->status = 412;
      out->reason = "Precondition Failed";
      return;
    }
    if (r.kind == ETHP2P_GENA_UNSUBSCRIBE) {
      s->used = false;
      gw->stats.unsubscribes++;
      gw->stats.subscriptions--;
      return;
    }
    gw->stats.renewals++;
  }
  t = grant_timeout(r.timeout_s);
  s->expires = gw_now(gw) + (ethp2p_time)t * ETHP2P_SEC;
  out->grant = true;
  snprintf(out->sid, sizeof out->sid, "%s", s->sid);
  snprintf(out->timeout, sizeof out->timeout, "Second-%u", (unsigned)t);
}

void gw_gena_after_grant(ethp2p_gateway *gw, void *sub) {
  gw_sub *s = sub;
  if (gw->gena == NULL || s == NULL || !s->used)
    return;
  send_event(gw, s); /* the initial event, SEQ 0 */
}

void gw_gena_notify_all(ethp2p_gateway *gw) {
  if (gw->gena == NULL || (gw->cfg.quirks & ETHP2P_GW_Q_NO_GENA))
    return;
  find_sid(gw, "");
  for (size_t i = 0; i < GENA_MAX_SUBS; i++)
    if (gw->gena->subs[i].used)
      send_event(gw, &gw->gena->subs[i]);
}
