/*
 * nat/upnp_watch.c — SSDP advertisements and GENA events of one UPnP device.  See
 * nat/upnp_watch.h.
 */
#include "nat/upnp_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "nat/gena.h"
#include "nat/http.h"
#include "nat/impl.h"
#include "nat/ssdp.h"

#define W_LOG "upnp"
#define W_DEFAULT_TIMEOUT 1800u
#define W_HTTP_TIMEOUT (3 * ETHP2P_SEC)
#define W_RETRY_FIRST (30 * ETHP2P_SEC)
#define W_RETRY_MAX (10 * ETHP2P_MIN)
#define W_MAX_REFUSALS 3
#define W_MAX_CONNS 4
#define W_CONN_TIMEOUT (5 * ETHP2P_SEC)
#define W_EVENT_BODY_CAP (16 * 1024)
#define W_CALLBACK_PATH "/ethp2p/upnp-event"

typedef struct w_conn {
  struct upnp_watch *w;
  ethp2p_tcp *tcp;
  ethp2p_timer *timer;
  ethp2p_http_parser parser;
  bool answered;
} w_conn;

struct upnp_watch {
  ethp2p_env *env;
  upnp_watch_config cfg;
  upnp_watch_cb cb;
  void *data;
  unsigned cb_depth;
  bool dead; /* stopped inside a callback: freed when it returns */

  /* SSDP */
  ethp2p_udp *ssdp;
  bool gone; /* said ssdp:byebye: its next ssdp:alive is a restart whatever the BOOTID */
  bool have_bootid;
  uint32_t bootid;

  /* GENA */
  upnp_sub_state state;
  ethp2p_http_url event;
  ethp2p_tcp *listener;
  uint16_t listen_port;
  ethp2p_timer *timer; /* renewal or retry */
  ethp2p_http_client *http;
  ethp2p_gena_grant grant;
  unsigned refusals;
  ethp2p_time backoff;
  unsigned requests;
  w_conn *conns[W_MAX_CONNS];
  bool have_ip; /* last address known (evented or noted by the owner) */
  ethp2p_addr ip;
  bool evented;  /* ip came from an event of the current subscription */
  bool deferred; /* WAITING for upnp_watch_go */
};

static void w_free(upnp_watch *w);

/* Runs the owner's callback; returns true if the watch was stopped inside it. */
static bool w_emit(upnp_watch *w, upnp_watch_event ev, const ethp2p_addr *ip, const char *why) {
  w->cb_depth++;
  w->cb(w->data, ev, ip, why);
  w->cb_depth--;
  if (w->dead && w->cb_depth == 0) {
    w_free(w);
    return true;
  }
  return w->dead;
}

/* ---------------------------------------------------------------------------
 * SSDP advertisements.
 * ------------------------------------------------------------------------- */
static void w_on_ssdp(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                      void *data) {
  upnp_watch *w = data;
  ethp2p_ssdp_notify n;
  ethp2p_diag diag = {0};
  char why[96];
  (void)udp;
  if (w->dead || !ethp2p_addr_equal(from, &w->cfg.device, false))
    return;
  if (ethp2p_ssdp_notify_parse(&n, buf, len, &diag) != 0)
    return; /* searches of other hosts, replies, junk */
  if (n.nts == ETHP2P_SSDP_NTS_BYEBYE) {
    if (w->gone)
      return; /* the rest of the series */
    w->gone = true;
    ethp2p_log(ETHP2P_LOG_INFO, W_LOG, "UPnP gateway says it is leaving", "nt=%s", n.nt);
    w_emit(w, UPNP_WATCH_GONE, NULL, "ssdp:byebye");
    return;
  }
  if (n.nts == ETHP2P_SSDP_NTS_UPDATE) {
    if (n.has_next_bootid) {
      w->have_bootid = true;
      w->bootid = n.next_bootid;
    }
    return;
  }
  /* ssdp:alive */
  if (w->gone) {
    w->gone = false;
    w->have_bootid = n.has_bootid;
    w->bootid = n.bootid;
    ethp2p_nat_copy_str(w->cfg.location, sizeof w->cfg.location, n.location);
    ethp2p_log(ETHP2P_LOG_INFO, W_LOG, "UPnP gateway is back", "location=%s", n.location);
    w_emit(w, UPNP_WATCH_RESTART, NULL, "ssdp:alive after ssdp:byebye");
    return;
  }
  if (n.has_bootid && w->have_bootid && n.bootid != w->bootid) {
    snprintf(why, sizeof why, "BOOTID %u -> %u", (unsigned)w->bootid, (unsigned)n.bootid);
    w->bootid = n.bootid;
    ethp2p_nat_copy_str(w->cfg.location, sizeof w->cfg.location, n.location);
    ethp2p_log(ETHP2P_LOG_INFO, W_LOG, "UPnP gateway restarted", "why=\"%s\"", why);
    w_emit(w, UPNP_WATCH_RESTART, NULL, why);
    return;
  }
  if (n.has_bootid && !w->have_bootid) {
    w->have_bootid = true;
    w->bootid = n.bootid;
  }
  if (strcmp(n.location, w->cfg.location) != 0 && n.nt[0] != '\0' &&
      strstr(n.nt, "InternetGatewayDevice") != NULL) {
    snprintf(why, sizeof why, "new LOCATION");
    ethp2p_log(ETHP2P_LOG_INFO, W_LOG, "UPnP gateway moved its description", "old=%s new=%s",
               w->cfg.location, n.location);
    ethp2p_nat_copy_str(w->cfg.location, sizeof w->cfg.location, n.location);
    w_emit(w, UPNP_WATCH_RESTART, NULL, why);
  }
}

static void w_ssdp_start(upnp_watch *w) {
  ethp2p_addr bind = ethp2p_addr_v4(0, 0, 0, 0, ETHP2P_SSDP_PORT), group, iface = w->cfg.local;
  int rc;
  if (w->cfg.no_ssdp)
    return;
  ethp2p_addr_parse_ip(&group, ETHP2P_SSDP_GROUP_V4);
  rc = ethp2p_udp_open(w->env, &w->ssdp, &bind, ETHP2P_UDP_REUSEADDR, w_on_ssdp, w);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "Cannot listen for SSDP advertisements", "err=%s",
               ethp2p_strerror(rc));
    w->ssdp = NULL;
    return;
  }
  iface.port = 0;
  rc = ethp2p_udp_join(w->ssdp, &group, &iface);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "Cannot join the SSDP group", "err=%s",
               ethp2p_strerror(rc));
    ethp2p_udp_close(w->ssdp);
    w->ssdp = NULL;
  }
}

/* ---------------------------------------------------------------------------
 * GENA subscription: one transition function.
 * ------------------------------------------------------------------------- */
static void w_subscribe(upnp_watch *w, bool renew);

static void w_set_state(upnp_watch *w, upnp_sub_state next, ethp2p_time at) {
  w->state = next;
  switch (next) {
  case UPNP_SUB_ACTIVE:
  case UPNP_SUB_WAITING:
    ethp2p_timer_start(w->timer, at);
    break;
  case UPNP_SUB_UNSUPPORTED:
  case UPNP_SUB_OFF:
    ethp2p_timer_stop(w->timer);
    w->grant.sid[0] = '\0';
    break;
  case UPNP_SUB_SUBSCRIBING:
  case UPNP_SUB_RENEWING:
    ethp2p_timer_stop(w->timer);
    break;
  }
}

static void w_retry_later(upnp_watch *w, const char *why) {
  ethp2p_time now = ethp2p_env_now(w->env);
  w->backoff = w->backoff == 0 ? W_RETRY_FIRST : w->backoff * 2;
  if (w->backoff > W_RETRY_MAX)
    w->backoff = W_RETRY_MAX;
  w->grant.sid[0] = '\0';
  ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "UPnP event subscription failed", "why=\"%s\" retry_s=%u",
             why, (unsigned)(w->backoff / ETHP2P_SEC));
  w_set_state(w, UPNP_SUB_WAITING, now + w->backoff);
}

static void w_on_sub_reply(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp,
                           void *data) {
  upnp_watch *w = data;
  ethp2p_gena_grant g;
  ethp2p_diag diag = {0};
  bool renewing = w->state == UPNP_SUB_RENEWING;
  ethp2p_time now = ethp2p_env_now(w->env);
  int rc;
  (void)c;
  w->http = NULL;
  if (status != 0) {
    w_retry_later(w, ethp2p_strerror(status));
    return;
  }
  rc = ethp2p_gena_grant_parse(&g, resp, &diag);
  if (rc == ETHP2P_EREFUSED && renewing) {
    /* 412: the router no longer knows our SID (it restarted): subscribe afresh. */
    w->grant.sid[0] = '\0';
    w_subscribe(w, false);
    return;
  }
  if (rc != 0) {
    if (rc == ETHP2P_EREFUSED && ++w->refusals >= W_MAX_REFUSALS) {
      ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "UPnP gateway refuses event subscriptions", "http=%d",
                 resp->status);
      w_set_state(w, UPNP_SUB_UNSUPPORTED, 0);
      return;
    }
    w_retry_later(w, diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
    return;
  }
  w->refusals = 0;
  w->backoff = 0;
  if (!renewing)
    w->evented = false; /* until this subscription's initial event */
  w->grant = g;
  ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "UPnP event subscription granted", "sid=%s timeout_s=%u",
             g.sid, (unsigned)g.timeout_s);
  if (g.timeout_s == 0) {
    w->state = UPNP_SUB_ACTIVE; /* infinite: never renewed */
    ethp2p_timer_stop(w->timer);
    return;
  }
  w_set_state(w, UPNP_SUB_ACTIVE, now + (ethp2p_time)g.timeout_s * ETHP2P_SEC * 3 / 4);
}

static void w_subscribe(upnp_watch *w, bool renew) {
  char host[ETHP2P_ADDRSTRLEN], cb[96], local[ETHP2P_ADDRSTRLEN];
  uint8_t req[1024];
  size_t len;
  int rc;
  ethp2p_addr_format(&w->event.addr, true, host, sizeof host);
  ethp2p_addr_format(&w->cfg.local, false, local, sizeof local);
  snprintf(cb, sizeof cb, "http://%s:%u%s", local, w->listen_port, W_CALLBACK_PATH);
  rc =
      ethp2p_gena_subscribe_build(req, sizeof req, &len, w->event.path, host, renew ? NULL : cb,
                                  renew ? w->grant.sid : NULL, w->cfg.timeout_s, "ethp2p UPnP/1.1");
  if (rc == 0)
    rc = ethp2p_http_client_start(w->env, &w->http, &w->event.addr, NULL, req, len, 4096, false,
                                  W_HTTP_TIMEOUT, w_on_sub_reply, w);
  if (rc != 0) {
    w->http = NULL;
    w_retry_later(w, ethp2p_strerror(rc));
    return;
  }
  w->requests++;
  w_set_state(w, renew ? UPNP_SUB_RENEWING : UPNP_SUB_SUBSCRIBING, 0);
}

static void w_on_timer(ethp2p_timer *t, void *data) {
  upnp_watch *w = data;
  (void)t;
  if (w->state == UPNP_SUB_ACTIVE)
    w_subscribe(w, true);
  else if (w->state == UPNP_SUB_WAITING)
    w_subscribe(w, false);
}

/* ---------------------------------------------------------------------------
 * Event server (UDA 1.1 §4.3): one request per connection.
 * ------------------------------------------------------------------------- */
static void w_conn_close(w_conn *c) {
  upnp_watch *w = c->w;
  for (size_t i = 0; i < W_MAX_CONNS; i++)
    if (w->conns[i] == c)
      w->conns[i] = NULL;
  ethp2p_timer_destroy(c->timer);
  ethp2p_tcp_close(c->tcp);
  ethp2p_http_parser_close(&c->parser);
  free(c);
}

static void w_conn_answer(w_conn *c, int code, const char *reason) {
  uint8_t out[256];
  size_t len;
  ethp2p_http_field f[2] = {{"Connection", "close"}, {"Server", "ethp2p UPnP/1.1"}};
  if (ethp2p_http_response_build(out, sizeof out, &len, code, reason, f, 2, NULL, 0, 0) == 0)
    ethp2p_tcp_write(c->tcp, out, len);
  ethp2p_tcp_shutdown(c->tcp);
  c->answered = true;
  ethp2p_timer_start(c->timer, ethp2p_env_now(c->w->env) + ETHP2P_SEC);
}

/* Handles one complete request; returns true if the watch was stopped. */
static bool w_handle_event(w_conn *c) {
  upnp_watch *w = c->w;
  ethp2p_gena_event ev;
  ethp2p_diag diag = {0};
  const char *v;
  ethp2p_addr ip;
  int rc = ethp2p_gena_event_parse(&ev, &c->parser.msg, &diag);
  if (rc == ETHP2P_EPROTO) {
    w_conn_answer(c, 412, "Precondition Failed");
    return false;
  }
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "Bad UPnP event", "err=%s why=\"%s\"", ethp2p_err_name(rc),
               diag.msg);
    w_conn_answer(c, 400, "Bad Request");
    return false;
  }
  /* Ours, or the initial event racing the SUBSCRIBE response (no SID known yet). */
  if (w->grant.sid[0] != '\0' ? strcmp(ev.sid, w->grant.sid) != 0
                              : w->state != UPNP_SUB_SUBSCRIBING) {
    w_conn_answer(c, 412, "Precondition Failed");
    return false;
  }
  w_conn_answer(c, 200, "OK");
  v = ethp2p_upnp_propertyset_get(&ev.props, "ConnectionStatus");
  if (v != NULL)
    ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "UPnP event", "seq=%u status=%s", (unsigned)ev.seq, v);
  v = ethp2p_upnp_propertyset_get(&ev.props, "ExternalIPAddress");
  if (v == NULL || ethp2p_addr_parse_ip(&ip, v) != 0 || ip.family != 4 ||
      ethp2p_addr_is_unspecified(&ip))
    return false;
  if (w->have_ip && ethp2p_addr_equal(&ip, &w->ip, false)) {
    w->evented = true; /* the router events this variable: the poll may rely on it */
    return false;
  }
  w->have_ip = true;
  w->ip = ip;
  w->evented = true;
  ethp2p_log(ETHP2P_LOG_INFO, W_LOG, "UPnP gateway announced its external address", "ip=%s seq=%u",
             v, (unsigned)ev.seq);
  return w_emit(w, UPNP_WATCH_EXTIP, &ip, "GENA event");
}

static void w_conn_on_read(ethp2p_tcp *t, int status, const uint8_t *buf, size_t len, void *data) {
  w_conn *c = data;
  int rc;
  (void)t;
  if (status != 0) {
    w_conn_close(c);
    return;
  }
  if (c->answered)
    return;
  rc = ethp2p_http_parser_feed(&c->parser, buf, len, NULL, NULL);
  if (rc == 0)
    return;
  if (rc < 0) {
    w_conn_answer(c, rc == ETHP2P_ETOOBIG ? 413 : 400,
                  rc == ETHP2P_ETOOBIG ? "Payload Too Large" : "Bad Request");
    return;
  }
  w_handle_event(c); /* c stays valid: it is closed by its timer, or with the watch */
}

static void w_conn_on_timer(ethp2p_timer *t, void *data) {
  (void)t;
  w_conn_close(data);
}

static void w_on_accept(ethp2p_tcp *l, ethp2p_tcp *tcp, void *data) {
  upnp_watch *w = data;
  ethp2p_addr peer;
  w_conn *c;
  size_t slot = W_MAX_CONNS;
  (void)l;
  for (size_t i = 0; i < W_MAX_CONNS; i++)
    if (w->conns[i] == NULL) {
      slot = i;
      break;
    }
  if (slot == W_MAX_CONNS || ethp2p_tcp_peer_addr(tcp, &peer) != 0 ||
      !ethp2p_addr_equal(&peer, &w->cfg.device, false) || (c = calloc(1, sizeof *c)) == NULL) {
    ethp2p_tcp_close(tcp); /* only the device may send us events */
    return;
  }
  c->w = w;
  c->tcp = tcp;
  ethp2p_http_parser_init(&c->parser, ETHP2P_HTTP_REQUEST, W_EVENT_BODY_CAP, false);
  if (ethp2p_timer_create(w->env, &c->timer, w_conn_on_timer, c) != 0) {
    ethp2p_tcp_close(tcp);
    free(c);
    return;
  }
  w->conns[slot] = c;
  ethp2p_timer_start(c->timer, ethp2p_env_now(w->env) + W_CONN_TIMEOUT);
  if (ethp2p_tcp_read_start(tcp, w_conn_on_read, c) != 0)
    w_conn_close(c);
}

static void w_gena_start(upnp_watch *w) {
  ethp2p_addr bind = w->cfg.local, local;
  ethp2p_diag diag = {0};
  int rc;
  if (w->cfg.event_url[0] == '\0' ||
      ethp2p_http_url_parse(&w->event, w->cfg.event_url, &diag) != 0 || !w->event.has_addr ||
      !ethp2p_addr_equal(&w->event.addr, &w->cfg.device, false)) {
    if (w->cfg.event_url[0] != '\0')
      ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "Unusable eventSubURL", "url=\"%s\"", w->cfg.event_url);
    return;
  }
  bind.port = 0;
  rc = ethp2p_tcp_listen(w->env, &w->listener, &bind, w_on_accept, w);
  if (rc == 0)
    rc = ethp2p_tcp_local_addr(w->listener, &local);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "Cannot listen for UPnP events", "err=%s",
               ethp2p_strerror(rc));
    ethp2p_tcp_close(w->listener);
    w->listener = NULL;
    return;
  }
  w->listen_port = local.port;
  if (w->cfg.gena_deferred) {
    w->state = UPNP_SUB_WAITING; /* upnp_watch_go arms the timer */
    w->deferred = true;
    return;
  }
  /* From the next loop turn, so no callback can run inside upnp_watch_start. */
  w_set_state(w, UPNP_SUB_WAITING, ethp2p_env_now(w->env));
}

/* ---------------------------------------------------------------------------
 * Lifecycle.
 * ------------------------------------------------------------------------- */
int upnp_watch_start(ethp2p_env *env, const upnp_watch_config *cfg, upnp_watch_cb cb, void *data,
                     upnp_watch **out) {
  upnp_watch *w;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || cfg == NULL || cb == NULL || cfg->device.family != 4 || cfg->local.family != 4)
    return ETHP2P_EINVAL;
  w = calloc(1, sizeof *w);
  if (w == NULL)
    return ETHP2P_ENOMEM;
  w->env = env;
  w->cfg = *cfg;
  if (w->cfg.timeout_s == 0)
    w->cfg.timeout_s = W_DEFAULT_TIMEOUT;
  w->cb = cb;
  w->data = data;
  w->have_bootid = cfg->has_bootid;
  w->bootid = cfg->bootid;
  if (ethp2p_timer_create(env, &w->timer, w_on_timer, w) != 0) {
    free(w);
    return ETHP2P_ENOMEM;
  }
  w_ssdp_start(w);
  w_gena_start(w);
  *out = w;
  return 0;
}

static void w_free(upnp_watch *w) {
  if (w->http != NULL)
    ethp2p_http_client_cancel(w->http);
  for (size_t i = 0; i < W_MAX_CONNS; i++)
    if (w->conns[i] != NULL)
      w_conn_close(w->conns[i]);
  ethp2p_udp_close(w->ssdp);
  ethp2p_tcp_close(w->listener);
  ethp2p_timer_destroy(w->timer);
  free(w);
}

void upnp_watch_stop(upnp_watch *w) {
  if (w == NULL || w->dead)
    return;
  w->dead = true;
  if (w->cb_depth == 0)
    w_free(w);
}

static void w_on_unsub_reply(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp,
                             void *data) {
  upnp_watch *w = data;
  (void)c;
  w->http = NULL;
  ethp2p_log(ETHP2P_LOG_DEBUG, W_LOG, "UPnP event subscription cancelled", "err=%s http=%d",
             status != 0 ? ethp2p_strerror(status) : "none", status == 0 ? resp->status : 0);
}

void upnp_watch_unsubscribe(upnp_watch *w) {
  char host[ETHP2P_ADDRSTRLEN];
  uint8_t req[512];
  size_t len;
  bool granted;
  if (w == NULL || w->dead || w->state == UPNP_SUB_OFF || w->state == UPNP_SUB_UNSUPPORTED)
    return;
  granted =
      w->grant.sid[0] != '\0' && (w->state == UPNP_SUB_ACTIVE || w->state == UPNP_SUB_RENEWING);
  if (w->http != NULL) {
    ethp2p_http_client_cancel(w->http);
    w->http = NULL;
  }
  if (granted) {
    /* UDA 1.1 §4.1.4: cancel the subscription. */
    ethp2p_addr_format(&w->event.addr, true, host, sizeof host);
    if (ethp2p_gena_unsubscribe_build(req, sizeof req, &len, w->event.path, host, w->grant.sid) ==
            0 &&
        ethp2p_http_client_start(w->env, &w->http, &w->event.addr, NULL, req, len, 1024, false,
                                 W_HTTP_TIMEOUT, w_on_unsub_reply, w) == 0)
      w->requests++;
    else
      w->http = NULL;
  }
  w->evented = false;
  w_set_state(w, UPNP_SUB_OFF, 0);
}

void upnp_watch_resubscribe(upnp_watch *w) {
  if (w == NULL || w->dead || w->state != UPNP_SUB_OFF || w->listener == NULL)
    return;
  w->deferred = false;
  w->refusals = 0;
  w->backoff = 0;
  w_set_state(w, UPNP_SUB_WAITING, ethp2p_env_now(w->env));
}

upnp_sub_state upnp_watch_sub_state(const upnp_watch *w) {
  return w != NULL ? w->state : UPNP_SUB_OFF;
}

bool upnp_watch_extip(const upnp_watch *w, ethp2p_addr *out) {
  if (w == NULL || !w->have_ip || !w->evented ||
      (w->state != UPNP_SUB_ACTIVE && w->state != UPNP_SUB_RENEWING))
    return false;
  *out = w->ip;
  return true;
}

void upnp_watch_note_extip(upnp_watch *w, const ethp2p_addr *ip) {
  if (w == NULL || ip == NULL)
    return;
  w->have_ip = true;
  w->ip = *ip;
  w->ip.port = 0;
}

void upnp_watch_go(upnp_watch *w) {
  if (w == NULL || w->dead || !w->deferred)
    return;
  w->deferred = false;
  if (w->state == UPNP_SUB_WAITING)
    w_set_state(w, UPNP_SUB_WAITING, ethp2p_env_now(w->env));
}

const char *upnp_watch_location(const upnp_watch *w) {
  return w != NULL ? w->cfg.location : "";
}

unsigned upnp_watch_requests(const upnp_watch *w) {
  return w != NULL ? w->requests : 0;
}
