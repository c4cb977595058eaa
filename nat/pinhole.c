/*
 * nat/pinhole.c — WANIPv6FirewallControl:1 pinhole client (see nat/pinhole.h).
 */
#include "nat/pinhole.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "nat/http.h"
#include "nat/impl.h"
#include "nat/ssdp.h"

#define PINHOLE_DEFAULT_TIMEOUT (5 * ETHP2P_SEC)
#define PINHOLE_RETRY_MIN (5 * ETHP2P_SEC)
#define PINHOLE_RETRY_MAX (5 * ETHP2P_MIN)
#define PINHOLE_BODY_CAP 8192

struct ethp2p_pinhole {
  ethp2p_env *env;
  ethp2p_pinhole_cb cb;
  void *data;
  char url[512];
  ethp2p_http_url ctrl;
  int protocol;
  uint16_t port;
  uint32_t lease_s;
  ethp2p_time timeout;
  ethp2p_pinhole_addr_fn local_addr;
  void *local_addr_data;

  ethp2p_http_client *http; /* the request in flight, or NULL */
  ethp2p_pinhole_action inflight;
  bool user_delete;    /* the DELETE in flight was asked for by the user */
  bool running;        /* keep the pinhole open (renew, retry) */
  ethp2p_timer *timer; /* renewal or retry */
  ethp2p_time backoff;

  bool open;
  uint16_t unique_id;
  ethp2p_addr internal; /* InternalClient with InternalPort */
  ethp2p_time expires;
};

static int default_local_addr(ethp2p_env *env, const ethp2p_addr *router, ethp2p_addr *out,
                              void *data) {
  (void)data;
  return ethp2p_nat_local_addr_toward(env, router, out);
}

static void fill_info(const ethp2p_pinhole *p, ethp2p_pinhole_info *info, ethp2p_pinhole_event ev,
                      ethp2p_pinhole_action action, int status, int code) {
  memset(info, 0, sizeof *info);
  info->event = ev;
  info->action = action;
  info->status = status;
  info->upnp_code = code;
  info->unique_id = p->unique_id;
  info->internal = p->internal;
  info->expires = p->open ? p->expires : 0;
}

static void on_http(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp, void *data);

/* Sends `action`.  For AddPinhole (and the two queries that name no pinhole) our address
 * is read now; the other actions name the open pinhole and are sent from its address. */
static int send_action(ethp2p_pinhole *p, ethp2p_pinhole_action action) {
  if (p->http != NULL)
    return ETHP2P_EBUSY;
  ethp2p_pinhole_req req = {.action = action,
                            .remote_any = true,
                            .protocol = p->protocol,
                            .internal_port = p->port,
                            .lease_s = p->lease_s,
                            .unique_id = p->unique_id};
  ethp2p_addr from;
  if (action == ETHP2P_PINHOLE_ADD || action == ETHP2P_PINHOLE_GET_OUTBOUND_TIMEOUT ||
      action == ETHP2P_PINHOLE_GET_FIREWALL_STATUS) {
    int rc = p->local_addr(p->env, &p->ctrl.addr, &from, p->local_addr_data);
    if (rc != 0)
      return rc;
    if (from.family != 6)
      return ETHP2P_ENOTFOUND;
    from.port = 0;
    req.internal_client = from;
  } else {
    from = p->internal;
    from.port = 0;
  }
  char body[ETHP2P_PINHOLE_MAX_REQUEST], soapaction[160], host[ETHP2P_ADDRSTRLEN];
  uint8_t msg[ETHP2P_PINHOLE_MAX_REQUEST + 1024];
  size_t body_len = 0, msg_len = 0;
  int rc = ethp2p_pinhole_request_build(body, sizeof body, &body_len, &req);
  if (rc == 0)
    rc = ethp2p_pinhole_soap_action(soapaction, sizeof soapaction, action);
  if (rc != 0)
    return rc;
  ethp2p_addr_format(&p->ctrl.addr, true, host, sizeof host);
  const ethp2p_http_field hdr[] = {
      {"Host", host},
      {"Content-Type", "text/xml; charset=\"utf-8\""},
      {"SOAPAction", soapaction},
      {"Connection", "close"},
      {"User-Agent", "ethp2p UPnP/1.1"},
  };
  rc = ethp2p_http_request_build(msg, sizeof msg, &msg_len, "POST", p->ctrl.path, hdr,
                                 sizeof hdr / sizeof hdr[0], (const uint8_t *)body, body_len, 0);
  if (rc != 0)
    return rc;
  char fromtxt[ETHP2P_ADDRSTRLEN];
  ethp2p_log(ETHP2P_LOG_DEBUG, "pinhole", "Request", "action=%s url=%s internal=%s port=%u id=%u",
             ethp2p_pinhole_action_name(action), p->url,
             ethp2p_addr_format(&from, false, fromtxt, sizeof fromtxt), (unsigned)p->port,
             (unsigned)p->unique_id);
  rc = ethp2p_http_client_start(p->env, &p->http, &p->ctrl.addr, &from, msg, msg_len,
                                PINHOLE_BODY_CAP, false, p->timeout, on_http, p);
  if (rc != 0) {
    p->http = NULL;
    return rc;
  }
  p->inflight = action;
  if (action == ETHP2P_PINHOLE_ADD)
    p->internal = from, p->internal.port = p->port;
  return 0;
}

static bool permanent(int status) {
  return status == ETHP2P_EPERM || status == ETHP2P_EUNSUPP || status == ETHP2P_EINVAL;
}

static void schedule(ethp2p_pinhole *p, ethp2p_time at) {
  ethp2p_timer_start(p->timer, at);
}

/* A failed add or renewal: retry later, or stop for good. */
static void failed(ethp2p_pinhole *p, ethp2p_pinhole_action action, int status, int code) {
  ethp2p_pinhole_info info;
  fill_info(p, &info, ETHP2P_PINHOLE_EV_FAILED, action, status, code);
  if (p->running && !permanent(status)) {
    schedule(p, ethp2p_env_now(p->env) + p->backoff);
    info.retrying = true;
    p->backoff = p->backoff * 2 > PINHOLE_RETRY_MAX ? PINHOLE_RETRY_MAX : p->backoff * 2;
  } else {
    p->running = false;
  }
  ethp2p_log(ETHP2P_LOG_INFO, "pinhole", "Request failed", "action=%s err=%s upnp_code=%d retry=%d",
             ethp2p_pinhole_action_name(action), ethp2p_err_name(status), code, info.retrying);
  p->cb(p, &info, p->data);
}

static void renew_at(ethp2p_pinhole *p, ethp2p_time now) {
  p->expires = now + (ethp2p_time)p->lease_s * ETHP2P_SEC;
  p->backoff = PINHOLE_RETRY_MIN;
  if (p->running)
    schedule(p, now + (ethp2p_time)p->lease_s * ETHP2P_SEC * 2 / 3);
}

/* Sends `action` as part of keeping the pinhole (not a user call): an immediate error is
 * a failure like any other. */
static void keep(ethp2p_pinhole *p, ethp2p_pinhole_action action) {
  int rc = send_action(p, action);
  if (rc != 0)
    failed(p, action, rc, 0);
}

static void on_timer(ethp2p_timer *t, void *data) {
  (void)t;
  ethp2p_pinhole *p = data;
  if (!p->running)
    return;
  if (p->http != NULL) {
    /* A check or status query is in flight: renew right after it. */
    schedule(p, ethp2p_env_now(p->env) + ETHP2P_SEC);
    return;
  }
  if (!p->open) {
    keep(p, ETHP2P_PINHOLE_ADD);
    return;
  }
  /* Renewal: UpdatePinhole cannot move a pinhole, so a changed address means delete
   * the stale one and add one for the new address. */
  ethp2p_addr now_addr;
  if (p->local_addr(p->env, &p->ctrl.addr, &now_addr, p->local_addr_data) == 0 &&
      now_addr.family == 6 && !ethp2p_addr_equal(&now_addr, &p->internal, false)) {
    char a[ETHP2P_ADDRSTRLEN], b[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_INFO, "pinhole", "Our address changed: moving the pinhole",
               "old=%s new=%s id=%u", ethp2p_addr_format(&p->internal, false, a, sizeof a),
               ethp2p_addr_format(&now_addr, false, b, sizeof b), (unsigned)p->unique_id);
    p->user_delete = false;
    if (send_action(p, ETHP2P_PINHOLE_DELETE) != 0) {
      /* The old address may be gone already: the stale pinhole then just expires. */
      p->open = false;
      keep(p, ETHP2P_PINHOLE_ADD);
    }
    return;
  }
  keep(p, ETHP2P_PINHOLE_UPDATE);
}

static void on_http(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp, void *data) {
  ethp2p_pinhole *p = data;
  ethp2p_pinhole_action action = p->inflight;
  ethp2p_pinhole_result r;
  ethp2p_diag diag = {0};
  int rc = status;
  p->http = NULL;
  memset(&r, 0, sizeof r);
  if (status == 0) {
    rc = ethp2p_pinhole_response_parse(&r, action, resp->status, (const char *)resp->body,
                                       resp->body_len, &diag);
    if (rc != 0 && r.upnp_code == 0)
      ethp2p_log(ETHP2P_LOG_DEBUG, "pinhole", "Bad response", "action=%s http=%d err=\"%s\"",
                 ethp2p_pinhole_action_name(action), resp->status, diag.msg);
    else if (r.upnp_code != 0)
      ethp2p_log(ETHP2P_LOG_DEBUG, "pinhole", "UPnP fault", "action=%s code=%d desc=\"%s\"",
                 ethp2p_pinhole_action_name(action), r.upnp_code, r.upnp_desc);
  } else {
    ethp2p_log(ETHP2P_LOG_DEBUG, "pinhole", "HTTP exchange failed",
               "action=%s err=%s detail=\"%s\"", ethp2p_pinhole_action_name(action),
               ethp2p_err_name(status), ethp2p_http_client_diag(c)->msg);
  }
  ethp2p_time now = ethp2p_env_now(p->env);
  ethp2p_pinhole_info info;
  switch (action) {
  case ETHP2P_PINHOLE_ADD:
    if (rc != 0) {
      failed(p, action, rc, r.upnp_code);
      return;
    }
    p->open = true;
    p->unique_id = r.unique_id;
    renew_at(p, now);
    fill_info(p, &info, ETHP2P_PINHOLE_EV_OPENED, action, 0, 0);
    p->cb(p, &info, p->data);
    return;
  case ETHP2P_PINHOLE_UPDATE:
    if (rc == ETHP2P_ENOTFOUND || r.upnp_code == 402) {
      /* The router lost it (reboot, expiry): open a new one now.  miniupnpd 2.3.1
       * (nftables) answers 402 Invalid Args, not 704, for a UniqueID it no longer has:
       * it checks the pinhole's owner on an entry it did not find.  Our arguments are
       * valid by construction (lease checked, the router's own UniqueID). */
      p->open = false;
      fill_info(p, &info, ETHP2P_PINHOLE_EV_FAILED, action, rc, r.upnp_code);
      info.retrying = p->running;
      p->cb(p, &info, p->data);
      if (p->running && p->http == NULL)
        keep(p, ETHP2P_PINHOLE_ADD);
      return;
    }
    if (rc != 0) {
      failed(p, action, rc, r.upnp_code);
      return;
    }
    renew_at(p, now);
    fill_info(p, &info, ETHP2P_PINHOLE_EV_RENEWED, action, 0, 0);
    p->cb(p, &info, p->data);
    return;
  case ETHP2P_PINHOLE_DELETE:
    if (!p->user_delete) {
      /* Moving to a new address: the stale pinhole is gone or will expire. */
      p->open = false;
      if (p->running)
        keep(p, ETHP2P_PINHOLE_ADD);
      return;
    }
    p->user_delete = false;
    if (rc == 0 || rc == ETHP2P_ENOTFOUND)
      p->open = false;
    fill_info(p, &info, ETHP2P_PINHOLE_EV_DELETED, action, rc, r.upnp_code);
    p->cb(p, &info, p->data);
    return;
  case ETHP2P_PINHOLE_GET_FIREWALL_STATUS:
    fill_info(p, &info, ETHP2P_PINHOLE_EV_STATUS, action, rc, r.upnp_code);
    info.firewall_enabled = rc == 0 && r.firewall_enabled;
    info.inbound_pinhole_allowed = rc == 0 && r.inbound_pinhole_allowed;
    p->cb(p, &info, p->data);
    return;
  case ETHP2P_PINHOLE_CHECK_WORKING:
    fill_info(p, &info, ETHP2P_PINHOLE_EV_CHECKED, action, rc, r.upnp_code);
    info.is_working = rc == 0 && r.is_working;
    p->cb(p, &info, p->data);
    return;
  default:
    return;
  }
}

int ethp2p_pinhole_new(ethp2p_env *env, ethp2p_pinhole **out, const ethp2p_pinhole_config *cfg,
                       ethp2p_pinhole_cb cb, void *data) {
  if (out != NULL)
    *out = NULL;
  if (env == NULL || out == NULL || cfg == NULL || cb == NULL || cfg->control_url == NULL)
    return ETHP2P_EINVAL;
  if (cfg->port == 0 ||
      (cfg->protocol != ETHP2P_PINHOLE_TCP && cfg->protocol != ETHP2P_PINHOLE_UDP))
    return ETHP2P_EINVAL;
  if (cfg->lease_s < ETHP2P_PINHOLE_LEASE_MIN || cfg->lease_s > ETHP2P_PINHOLE_LEASE_MAX)
    return ETHP2P_ERANGE;
  if (strlen(cfg->control_url) >= sizeof((ethp2p_pinhole *)0)->url)
    return ETHP2P_EINVAL;
  ethp2p_pinhole *p = calloc(1, sizeof *p);
  if (p == NULL)
    return ETHP2P_ENOMEM;
  if (ethp2p_ssdp_url_parse_zoned(&p->ctrl, cfg->control_url, cfg->scope, NULL) != 0 ||
      !p->ctrl.has_addr || p->ctrl.addr.family != 6) {
    free(p);
    return ETHP2P_EINVAL;
  }
  if (ethp2p_timer_create(env, &p->timer, on_timer, p) != 0) {
    free(p);
    return ETHP2P_ENOMEM;
  }
  snprintf(p->url, sizeof p->url, "%s", cfg->control_url);
  p->env = env;
  p->cb = cb;
  p->data = data;
  p->protocol = cfg->protocol;
  p->port = cfg->port;
  p->lease_s = cfg->lease_s;
  p->timeout = cfg->timeout != 0 ? cfg->timeout : PINHOLE_DEFAULT_TIMEOUT;
  p->local_addr = cfg->local_addr != NULL ? cfg->local_addr : default_local_addr;
  p->local_addr_data = cfg->local_addr_data;
  p->backoff = PINHOLE_RETRY_MIN;
  *out = p;
  return 0;
}

int ethp2p_pinhole_start(ethp2p_pinhole *p) {
  if (p == NULL)
    return ETHP2P_EINVAL;
  if (p->http != NULL)
    return ETHP2P_EBUSY;
  ethp2p_timer_stop(p->timer);
  p->running = true;
  p->backoff = PINHOLE_RETRY_MIN;
  int rc = send_action(p, p->open ? ETHP2P_PINHOLE_UPDATE : ETHP2P_PINHOLE_ADD);
  if (rc != 0)
    p->running = false;
  return rc;
}

int ethp2p_pinhole_delete(ethp2p_pinhole *p) {
  if (p == NULL)
    return ETHP2P_EINVAL;
  if (!p->open)
    return ETHP2P_ESTATE;
  if (p->http != NULL) {
    /* A renewal or check in flight gives way: the pinhole is going anyway. */
    ethp2p_http_client_cancel(p->http);
    p->http = NULL;
  }
  p->running = false;
  ethp2p_timer_stop(p->timer);
  int rc = send_action(p, ETHP2P_PINHOLE_DELETE);
  if (rc == 0)
    p->user_delete = true;
  return rc;
}

int ethp2p_pinhole_check(ethp2p_pinhole *p) {
  if (p == NULL)
    return ETHP2P_EINVAL;
  if (!p->open)
    return ETHP2P_ESTATE;
  return send_action(p, ETHP2P_PINHOLE_CHECK_WORKING);
}

int ethp2p_pinhole_firewall_status(ethp2p_pinhole *p) {
  if (p == NULL)
    return ETHP2P_EINVAL;
  return send_action(p, ETHP2P_PINHOLE_GET_FIREWALL_STATUS);
}

void ethp2p_pinhole_stop(ethp2p_pinhole *p) {
  if (p == NULL)
    return;
  p->running = false;
  ethp2p_timer_stop(p->timer);
}

bool ethp2p_pinhole_is_open(const ethp2p_pinhole *p, ethp2p_pinhole_info *info) {
  if (p == NULL)
    return false;
  if (info != NULL)
    fill_info(p, info, ETHP2P_PINHOLE_EV_OPENED, ETHP2P_PINHOLE_ADD, 0, 0);
  return p->open;
}

void ethp2p_pinhole_free(ethp2p_pinhole *p) {
  if (p == NULL)
    return;
  if (p->http != NULL)
    ethp2p_http_client_cancel(p->http);
  ethp2p_timer_destroy(p->timer);
  free(p);
}
