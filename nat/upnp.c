/*
 * nat/upnp.c — the UPnP IGD client (UPnP Device Architecture 1.1, WANIPConnection:1/:2,
 * WANPPPConnection:1) behind the NAT interface of ethp2p/nat.h.
 *
 * Discovery (lazy, on the first operation, again after rediscover()):
 *   1. SSDP M-SEARCH (nat/ssdp.h) for InternetGatewayDevice:1/:2 and WANConnectionDevice:1/:2
 *      from every up, non-loopback, multicast IPv4 interface to 239.255.255.250:1900 (TTL 2),
 *      plus the same searches unicast to the routing table's default gateway.  The first
 *      burst (t = 0) is only InternetGatewayDevice:1, multicast and unicast; all four
 *      targets follow at 250 and 750 ms; the window closes after 2 s, but discovery
 *      finishes as soon as a usable device answers.  MX is 1, the smallest value UDA
 *      allows (miniupnpd may wait up to MX seconds before answering).
 *   2. A reply is used only if its LOCATION host is the address the datagram came from.
 *   3. The description (HTTP GET, 64 KiB cap, 3 s) is parsed; services are tried in the
 *      order WANIPConnection:2, :1, WANPPPConnection:1.  A control URL on another host than
 *      the LOCATION host is refused.  GetNATRSIPStatus picks the first service with
 *      NewNatEnabled=1; a failed or missing GetNATRSIPStatus is tolerated (routers that lack
 *      it), a service that says NAT is off is skipped.
 *   4. GetStatusInfo and GetExternalIPAddress rank the service as miniupnpc's
 *      UPNP_GetValidIGD does, with the default gateway above all: at the gateway (4) >
 *      Connected (2; a fault counts as connected) > routable external address (1).  A
 *      connected service with a routable address is used at once; the gateway's connected
 *      service as soon as the gateway's services are checked; otherwise the best one seen
 *      when the window closes.  NewUptime is the baseline; the address answers the first
 *      poll.  upnp_discovery_info (nat/upnp_watch.h) reports it all (the doctor reads it).
 *   5. The device at the default gateway is preferred over other answers (mesh nodes,
 *      second routers): others are held back until 1 s into the search unless it answers.
 *
 * A DHCP change of our LAN address: while mappings are held, the address toward the device
 * is read from the interfaces every second; when it changed, our old mappings are deleted
 * (refused in miniupnpd's secure mode: they expire) and STATE_LOST makes the loop re-map.
 *
 * Operations are serialised: one SOAP exchange at a time, each on its own connection.
 * Spacing: go-ethereum waits 200 ms between any two requests because some routers fail
 * concurrent requests.  Serialising already prevents concurrency, and the target is
 * a mapping within 100 ms of start, so we space requests 200 ms apart only after a request
 * failed (fault or connection error) — the case where a struggling router gets a pause.
 *
 * Mapping: on WANIPConnection:2, AddPortMapping with the wanted port first — on a renewal
 * that is the port we hold, so a router that picks a random port for every
 * AddAnyPortMapping cannot churn the record (go-ethereum #31418/#31566) — and
 * AddAnyPortMapping (the router picks and returns NewReservedPort) only when the router
 * refuses the exact port; back to AddPortMapping when AddAny is not implemented
 * (401/602).  AddPortMapping tries the wanted port (up to 4 times on transient faults, as
 * go-ethereum does), then on conflict (718, 729) up to 3 random ports in [10000, 65534].
 * 724 SamePortValuesRequired retries with external = internal port.  IGDv2 leases are
 * clamped to 604800 s.  DeletePortMapping treats 714 NoSuchEntryInArray as success.
 * NewInternalClient is our address toward the router at each request.
 *
 * Generic statuses (ethp2p/nat.h) instead of protocol codes: 725 OnlyPermanentLeasesSupported
 * is ETHP2P_EPERMANENT (router_code 725 kept; the caller asks again with lifetime 0); a
 * conflict (718/606/729) after our LAN address changed is ETHP2P_EADDRCHANGED; a router that
 * does not answer gives the connection error (ETIMEDOUT, ECONNREFUSED, ...; ENOGATEWAY when
 * discovery finds nothing).  The loop counts those; this file keeps no counter.
 *
 * Following the router (nat/upnp_watch.h): SSDP NOTIFY (restart = new BOOTID.UPNP.ORG or
 * LOCATION -> ETHP2P_NAT_EV_STATE_LOST, ssdp:byebye -> ETHP2P_NAT_EV_GATEWAY_GONE) and GENA
 * events of the WAN service (ExternalIPAddress -> ETHP2P_NAT_EV_EXTIP_ANNOUNCED).  The poll
 * (external_ip) asks GetStatusInfo first: NewUptime growing less than the time passed is a
 * restart (STATE_LOST); the address then comes from the last event while subscribed (one
 * request per poll) or from GetExternalIPAddress.  Hence ETHP2P_NAT_CAP_DETECTS_RESTART and
 * ETHP2P_NAT_CAP_ANNOUNCES_EXTIP.
 *
 * Parts: discovery (SSDP search, description, service choice), the request queue (ops, the
 * pump and retry timers), the exchange (one SOAP call in flight), and the watch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/http.h"
#include "nat/impl.h"
#include "nat/ssdp.h"
#include "nat/upnp_watch.h"
#include "nat/xml.h"

#define UPNP_WINDOW (2 * ETHP2P_SEC)
#define UPNP_RESEND_1 (250 * ETHP2P_MSEC)
#define UPNP_RESEND_2 (750 * ETHP2P_MSEC)
#define UPNP_HTTP_TIMEOUT (3 * ETHP2P_SEC)
#define UPNP_DESC_CAP (64 * 1024)
#define UPNP_SOAP_CAP (16 * 1024)
#define UPNP_ERROR_SPACING (200 * ETHP2P_MSEC)
#define UPNP_MAX_IFACES 8
#define UPNP_MAX_CANDS 8
#define UPNP_WANTED_TRIES 4
#define UPNP_RANDOM_TRIES 3
#define UPNP_V2_MAX_LEASE 604800u
#define UPNP_MAX_ATTEMPTS 10
#define UPNP_MX 1
#define UPNP_UPTIME_FRESH (10 * ETHP2P_SEC)
#define UPNP_ADDR_CHECK (1 * ETHP2P_SEC)

/* IGD:1 first: every IGD answers it (UDA 1.1 §1.3.2 requires answering older versions). */
static const char *const upnp_search_targets[] = {ETHP2P_SSDP_ST_IGD1, ETHP2P_SSDP_ST_IGD2,
                                                  ETHP2P_SSDP_ST_WANCONN2, ETHP2P_SSDP_ST_WANCONN1};

typedef enum { OP_MAP = 1, OP_UNMAP, OP_EXTIP } upnp_op_kind;

typedef struct upnp_op {
  struct upnp_op *next;
  upnp_op_kind kind;
  ethp2p_proto proto;
  uint16_t wanted; /* wanted external port */
  uint16_t port;   /* external port of the current attempt */
  uint16_t internal_port;
  char desc[64];
  uint32_t lease;
  unsigned wanted_tries, random_tries;
  bool use_any;      /* try AddAnyPortMapping */
  bool any_later;    /* IGDv2: the exact port first, AddAnyPortMapping if it is refused */
  bool tried_same;   /* already retried with external = internal */
  bool addr_changed; /* our address toward the router is not the one at discovery */
  bool cleanup;      /* OP_UNMAP of our own mapping for our old LAN address (no caller) */
  unsigned attempts; /* requests sent for this op */
  ethp2p_nat_map_cb map_cb;
  ethp2p_nat_done_cb done_cb;
  ethp2p_nat_extip_cb extip_cb;
  void *data;
} upnp_op;

typedef struct upnp_device {
  char location[256];
  ethp2p_addr host;     /* LOCATION host (port = its HTTP port) */
  ethp2p_addr internal; /* our address toward the device at the last request, port 0 */
  ethp2p_upnp_svc_kind kind;
  char service_type[128];
  char control[512]; /* absolute control URL */
  ethp2p_http_url ctrl;
  char event[512]; /* absolute eventSubURL, "" if none */
  bool has_bootid; /* BOOTID.UPNP.ORG of the search reply */
  uint32_t bootid;
  size_t info;   /* its device's entry in upnp->info.devices */
  unsigned rank; /* UPNP_RANK_* found while choosing it */
  bool have_up;  /* its GetStatusInfo NewUptime while choosing, the poll's baseline */
  uint32_t up_s;
  ethp2p_time up_at;
} upnp_device;

typedef struct upnp upnp;

typedef struct upnp_sock {
  upnp *u;
  ethp2p_udp *udp;
  ethp2p_addr iface; /* port 0 */
  unsigned prefix;
} upnp_sock;

typedef struct upnp_cand {
  char location[256];
  ethp2p_http_url url;
  size_t sock; /* index of the socket the reply came in on */
  bool has_bootid;
  uint32_t bootid;
  size_t info; /* its entry in upnp->info.devices */
} upnp_cand;

/* How good a service is, as miniupnpc's UPNP_GetValidIGD ranks them, with the device at
 * the default gateway above all: gateway > Connected > routable external address. */
enum {
  UPNP_RANK_ROUTABLE = 1,  /* GetExternalIPAddress gave a public address */
  UPNP_RANK_CONNECTED = 2, /* GetStatusInfo said Connected (or has no such action) */
  UPNP_RANK_GATEWAY = 4,   /* the device is the routing table's default gateway */
};

typedef void (*upnp_soap_done)(upnp *u, int status, const ethp2p_soap_msg *msg);

/* The device: one explicit state instead of have_dev + discovering flags. */
typedef enum upnp_dev_state {
  UPNP_DEV_UNKNOWN = 0, /* none known: the next queued op starts a discovery */
  UPNP_DEV_SEARCHING,   /* SSDP search and description/service checks running */
  UPNP_DEV_KNOWN,       /* u->dev is in use; ops run */
} upnp_dev_state;

struct upnp {
  ethp2p_nat base;
  /* the request queue */
  ethp2p_timer *pump;  /* starts the next queued op (next loop turn, or after spacing) */
  ethp2p_timer *retry; /* the current map op's next attempt, after spacing */
  ethp2p_timer *disc_timer;
  ethp2p_timer *addr_timer; /* while we hold mappings: is our LAN address still the same? */
  upnp_op *head, *tail, *cur;
  upnp_dev_state dev_state;
  upnp_device dev;
  bool any_unsupported; /* AddAnyPortMapping answered 401/602 */
  ethp2p_time next_req_at;
  unsigned cb_depth;
  bool destroy_pending;

  /* what the device tells us without being asked (nat/upnp_watch.h) */
  upnp_watch *watch;
  bool have_uptime; /* GetStatusInfo's NewUptime, to see a restart in the poll */
  uint32_t uptime_s;
  ethp2p_time uptime_at;
  char hint[256]; /* LOCATION the device advertised when it came back: fetched at once */
  bool have_ip;   /* the last external address learned (poll or event), seeds a new watch */
  ethp2p_addr last_ip;
  unsigned soap_requests; /* SOAP exchanges started (for tests and benchmarks) */
  /* Mappings we hold: events matter while there is one; the last delete unsubscribes. */
  struct {
    ethp2p_proto proto;
    uint16_t port;
  } held[16];
  size_t nheld;

  /* discovery (while dev_state == UPNP_DEV_SEARCHING) */
  bool window_over;
  unsigned bursts;
  ethp2p_time disc_start;
  upnp_sock socks[UPNP_MAX_IFACES];
  size_t nsocks;
  bool have_gw;
  ethp2p_addr gw;
  upnp_cand cands[UPNP_MAX_CANDS];
  size_t ncands, cand_idx;
  ethp2p_upnp_desc *desc;
  size_t svc_order[ETHP2P_UPNP_MAX_SERVICES];
  size_t nsvc, svc_idx;
  upnp_device trial;
  bool have_fallback; /* the best usable service short of the best rank: used if no better */
  upnp_device fallback;
  unsigned fallback_rank;
  ethp2p_addr fallback_ip;
  bool fetching;
  upnp_disc_info info; /* what the last discovery found (upnp_discovery_info) */
  ethp2p_addr disc_ip; /* external address read while choosing the service */
  bool have_disc_ip;

  /* the one exchange in flight */
  ethp2p_http_client *http;
  upnp_soap_done soap_done;
  char soap_action[48];
  ethp2p_soap_msg soap; /* parsed response of the last exchange */
};

static void upnp_pump_later(upnp *u);
static void upnp_watch_begin(upnp *u);
static void upnp_check_uptime(upnp *u, const ethp2p_soap_msg *msg, bool *restarted);
static void disc_next_cand(upnp *u);
static void disc_try_service(upnp *u);
static void op_start(upnp *u, upnp_op *op);
static void upnp_disc_start(upnp *u);
static void map_attempt(upnp *u);

/* ---------------------------------------------------------------------------
 * Small helpers.
 * ------------------------------------------------------------------------- */
static void upnp_copy(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size)
    n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static bool upnp_is_conn_error(int status) {
  return status == ETHP2P_ECONNREFUSED || status == ETHP2P_ETIMEDOUT ||
         status == ETHP2P_ECONNRESET || status == ETHP2P_ENETUNREACH || status == ETHP2P_EIO;
}

static const char *upnp_proto_upper(ethp2p_proto p) {
  return p == ETHP2P_PROTO_UDP ? "UDP" : "TCP";
}

static uint16_t upnp_random_port(upnp *u) {
  uint8_t b[2];
  ethp2p_env_random(u->base.env, b, sizeof b);
  return (uint16_t)(10000 + ((unsigned)b[0] << 8 | b[1]) % 55535u); /* [10000, 65534] */
}

static bool upnp_parse_port(const char *s, uint16_t *out) {
  uint32_t v = 0;
  size_t i;
  if (s == NULL || s[0] == '\0')
    return false;
  for (i = 0; s[i]; i++) {
    if (s[i] < '0' || s[i] > '9' || i >= 5)
      return false;
    v = v * 10 + (uint32_t)(s[i] - '0');
  }
  if (v == 0 || v > 65535)
    return false;
  *out = (uint16_t)v;
  return true;
}

/* Runs a user callback; returns true if the NAT was destroyed inside it (stop touching u). */
#define UPNP_CALL(u, call)                                                                         \
  do {                                                                                             \
    (u)->cb_depth++;                                                                               \
    call;                                                                                          \
    (u)->cb_depth--;                                                                               \
  } while (0)

static void upnp_free(upnp *u);

static bool upnp_gone(upnp *u) {
  if (u->cb_depth == 0 && u->destroy_pending) {
    upnp_free(u);
    return true;
  }
  return false;
}

/* The one place dev_state changes (and is logged). */
static void upnp_set_dev_state(upnp *u, upnp_dev_state next) {
  static const char *const names[] = {"unknown", "searching", "known"};
  if (u->dev_state == next)
    return;
  ethp2p_log(ETHP2P_LOG_TRACE, "upnp", "Device state", "from=%s to=%s", names[u->dev_state],
             names[next]);
  u->dev_state = next;
}

/* ---------------------------------------------------------------------------
 * Operations queue.
 * ------------------------------------------------------------------------- */

/* Completes op with a map result (or the done / extip outcome); frees it. */
static void op_complete(upnp *u, upnp_op *op, int status, const ethp2p_nat_map_result *res,
                        const ethp2p_addr *ip) {
  switch (op->kind) {
  case OP_MAP: {
    ethp2p_nat_map_result r;
    if (res != NULL)
      r = *res;
    else
      memset(&r, 0, sizeof r);
    r.status = status;
    UPNP_CALL(u, op->map_cb(&u->base, &r, op->data));
    break;
  }
  case OP_UNMAP:
    if (op->done_cb != NULL) /* NULL: our own cleanup after a LAN address change */
      UPNP_CALL(u, op->done_cb(&u->base, status, op->data));
    break;
  case OP_EXTIP:
    UPNP_CALL(u, op->extip_cb(&u->base, status, status == 0 ? ip : NULL, op->data));
    break;
  }
  free(op);
}

/* The current op is done: report it and let the queue move on. */
static void op_finish(upnp *u, int status, const ethp2p_nat_map_result *res,
                      const ethp2p_addr *ip) {
  upnp_op *op = u->cur;
  u->cur = NULL;
  op_complete(u, op, status, res, ip);
  if (upnp_gone(u))
    return;
  upnp_pump_later(u);
}

static void upnp_pump(upnp *u) {
  ethp2p_time now;
  upnp_op *op;
  if (u->cur == NULL && u->head == NULL && u->dev_state == UPNP_DEV_KNOWN)
    upnp_watch_go(u->watch); /* idle: the deferred subscription may start */
  if (u->cur != NULL || u->dev_state == UPNP_DEV_SEARCHING || u->head == NULL)
    return;
  if (u->dev_state == UPNP_DEV_UNKNOWN) {
    upnp_disc_start(u);
    return;
  }
  now = ethp2p_env_now(u->base.env);
  if (now < u->next_req_at) {
    ethp2p_timer_start(u->pump, u->next_req_at);
    return;
  }
  /* Mappings queued together with an address request go first: a caller that publishes
   * the address as soon as it has it (the record) then never advertises a port the router
   * does not forward yet.  Otherwise first in, first out. */
  {
    upnp_op **pp = &u->head, *prev = NULL;
    while (*pp != NULL && (*pp)->kind == OP_EXTIP) {
      prev = *pp;
      pp = &(*pp)->next;
    }
    if (*pp == NULL) {
      pp = &u->head;
      prev = NULL;
    }
    op = *pp;
    *pp = op->next;
    if (u->tail == op)
      u->tail = prev;
  }
  op->next = NULL;
  u->cur = op;
  op_start(u, op);
}

static void upnp_on_pump(ethp2p_timer *t, void *data) {
  (void)t;
  upnp_pump(data);
}

static void upnp_on_retry(ethp2p_timer *t, void *data) {
  upnp *u = data;
  (void)t;
  if (u->cur != NULL && u->cur->kind == OP_MAP)
    map_attempt(u);
}

static void upnp_pump_later(upnp *u) {
  ethp2p_timer_start(u->pump, ethp2p_env_now(u->base.env));
}

static void upnp_enqueue(upnp *u, upnp_op *op) {
  if (u->tail != NULL)
    u->tail->next = op;
  else
    u->head = op;
  u->tail = op;
  if (u->cur == NULL && u->dev_state != UPNP_DEV_SEARCHING)
    upnp_pump_later(u);
}

/* Fails every queued op (not the current one) with status. */
static bool upnp_fail_queue(upnp *u, int status) {
  while (u->head != NULL) {
    upnp_op *op = u->head;
    u->head = op->next;
    if (u->head == NULL)
      u->tail = NULL;
    op_complete(u, op, status, NULL, NULL);
    if (upnp_gone(u))
      return true;
  }
  return false;
}

/* ---------------------------------------------------------------------------
 * SOAP exchange (UDA 1.1 §3.2.1: POST with a quoted SOAPAction header).
 * ------------------------------------------------------------------------- */
static void soap_on_http(ethp2p_http_client *c, int status, const ethp2p_http_msg *resp,
                         void *data) {
  upnp *u = data;
  upnp_soap_done done = u->soap_done;
  ethp2p_diag diag = {0};
  int rc;
  u->http = NULL;
  u->soap_done = NULL;
  if (status != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "SOAP exchange failed", "action=%s err=%s detail=\"%s\"",
               u->soap_action, ethp2p_strerror(status), ethp2p_http_client_diag(c)->msg);
    u->next_req_at = ethp2p_env_now(u->base.env) + UPNP_ERROR_SPACING;
    done(u, status, NULL);
    return;
  }
  rc = ethp2p_soap_response_parse(&u->soap, u->soap_action, (const char *)resp->body,
                                  resp->body_len, &diag);
  if (rc == 0 && resp->status != 200)
    rc = ETHP2P_EPROTO;
  if (rc == ETHP2P_EREFUSED) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "SOAP fault", "action=%s http=%d code=%d desc=\"%s\"",
               u->soap_action, resp->status, u->soap.upnp_error_code, u->soap.upnp_error_desc);
  } else if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Bad SOAP response", "action=%s http=%d err=\"%s\"",
               u->soap_action, resp->status, diag.msg);
    rc = ETHP2P_EPROTO;
  } else {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "SOAP response", "action=%s args=%zu", u->soap_action,
               u->soap.nargs);
  }
  if (rc != 0)
    u->next_req_at = ethp2p_env_now(u->base.env) + UPNP_ERROR_SPACING;
  done(u, rc, rc == 0 || rc == ETHP2P_EREFUSED ? &u->soap : NULL);
}

/* Starts one SOAP call on dev; on an immediate error, done runs from the next loop turn
 * is not needed: the caller gets the error back and handles it. */
static int upnp_soap(upnp *u, const upnp_device *dev, const char *action,
                     const ethp2p_soap_field *fields, size_t nfields, upnp_soap_done done) {
  char body[4096], soapaction[256], host[ETHP2P_ADDRSTRLEN];
  uint8_t req[6144];
  size_t body_len, req_len;
  int rc;
  ethp2p_http_field hdr[5];
  rc = ethp2p_soap_request_build(body, sizeof body, &body_len, dev->service_type, action, fields,
                                 nfields);
  if (rc != 0)
    return rc;
  rc = ethp2p_soap_action_header(soapaction, sizeof soapaction, dev->service_type, action);
  if (rc != 0)
    return rc;
  ethp2p_addr_format(&dev->ctrl.addr, true, host, sizeof host);
  hdr[0] = (ethp2p_http_field){"Host", host};
  hdr[1] = (ethp2p_http_field){"Content-Type", "text/xml; charset=\"utf-8\""};
  hdr[2] = (ethp2p_http_field){"SOAPAction", soapaction};
  hdr[3] = (ethp2p_http_field){"Connection", "close"};
  hdr[4] = (ethp2p_http_field){"User-Agent", "ethp2p UPnP/1.1"};
  rc = ethp2p_http_request_build(req, sizeof req, &req_len, "POST", dev->ctrl.path, hdr, 5,
                                 (const uint8_t *)body, body_len, 0);
  if (rc != 0)
    return rc;
  upnp_copy(u->soap_action, sizeof u->soap_action, action);
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "SOAP request", "action=%s url=%s service=%s", action,
             dev->control, dev->service_type);
  u->soap_done = done;
  rc = ethp2p_http_client_start(u->base.env, &u->http, &dev->ctrl.addr, NULL, req, req_len,
                                UPNP_SOAP_CAP, false, UPNP_HTTP_TIMEOUT, soap_on_http, u);
  if (rc != 0) {
    u->soap_done = NULL;
    u->http = NULL;
  } else {
    u->soap_requests++;
  }
  return rc;
}

/* ---------------------------------------------------------------------------
 * Discovery.
 * ------------------------------------------------------------------------- */
static void disc_close_socks(upnp *u) {
  size_t i;
  for (i = 0; i < u->nsocks; i++) {
    ethp2p_udp_close(u->socks[i].udp);
    u->socks[i].udp = NULL;
  }
  u->nsocks = 0;
}

static void disc_cleanup(upnp *u) {
  disc_close_socks(u);
  ethp2p_timer_stop(u->disc_timer);
  free(u->desc);
  u->desc = NULL;
  u->fetching = false;
}

static void disc_success(upnp *u);
static void disc_take_fallback(upnp *u);

static void disc_fail(upnp *u, int status) {
  if (u->have_fallback) {
    /* Nothing better answered in the window: the best service seen. */
    disc_take_fallback(u);
    return;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "No usable UPnP gateway", "candidates=%zu err=%s", u->ncands,
             ethp2p_strerror(status));
  disc_cleanup(u);
  upnp_set_dev_state(u, UPNP_DEV_UNKNOWN);
  if (upnp_fail_queue(u, status))
    return;
}

static void disc_success(upnp *u) {
  char ip[ETHP2P_ADDRSTRLEN];
  u->dev = u->trial;
  u->have_fallback = false;
  u->info.chosen = true;
  u->info.chosen_device = u->trial.info;
  upnp_copy(u->info.chosen_service, sizeof u->info.chosen_service, u->trial.service_type);
  u->have_uptime = u->trial.have_up; /* the chosen service's baseline */
  u->uptime_s = u->trial.up_s;
  u->uptime_at = u->trial.up_at;
  disc_cleanup(u);
  upnp_set_dev_state(u, UPNP_DEV_KNOWN); /* the uptime baseline was just read */
  upnp_watch_begin(u);
  ethp2p_log(ETHP2P_LOG_INFO, "upnp", "Found UPnP gateway", "location=%s service=%s internal=%s",
             u->dev.location, u->dev.service_type,
             ethp2p_addr_format(&u->dev.internal, false, ip, sizeof ip));
  upnp_pump_later(u);
}

static void disc_send_burst(upnp *u) {
  size_t i, t;
  ethp2p_addr group;
  ethp2p_addr_parse_ip(&group, ETHP2P_SSDP_GROUP_V4);
  group.port = ETHP2P_SSDP_PORT;
  for (i = 0; i < u->nsocks; i++) {
    bool unicast =
        u->have_gw && ethp2p_addr_same_subnet(&u->gw, &u->socks[i].iface, u->socks[i].prefix);
    /* The first burst is one search per destination: measured against miniupnpd 2.3.1,
     * eight searches at once delay its first answer from ~60 ms to ~110 ms. */
    size_t nt = u->bursts == 0 ? 1 : sizeof upnp_search_targets / sizeof upnp_search_targets[0];
    for (t = 0; t < nt; t++) {
      ethp2p_ssdp_search s;
      uint8_t buf[512];
      size_t len;
      memset(&s, 0, sizeof s);
      s.mx = UPNP_MX;
      upnp_copy(s.st, sizeof s.st, upnp_search_targets[t]);
      if (ethp2p_ssdp_search_build(buf, sizeof buf, &len, &s) == 0)
        ethp2p_udp_send(u->socks[i].udp, &group, buf, len);
      if (unicast) {
        ethp2p_addr to = u->gw;
        char host[ETHP2P_ADDRSTRLEN];
        to.port = ETHP2P_SSDP_PORT;
        upnp_copy(s.host, sizeof s.host, ethp2p_addr_format(&to, true, host, sizeof host));
        if (ethp2p_ssdp_search_build(buf, sizeof buf, &len, &s) == 0)
          ethp2p_udp_send(u->socks[i].udp, &to, buf, len);
      }
    }
  }
  u->bursts++;
}

static void disc_on_timer(ethp2p_timer *t, void *data) {
  upnp *u = data;
  ethp2p_time now = ethp2p_env_now(u->base.env);
  if (u->dev_state != UPNP_DEV_SEARCHING)
    return;
  if (u->bursts < 3 && !u->window_over) {
    disc_send_burst(u);
    ethp2p_timer_start(u->disc_timer, u->disc_start + (u->bursts == 2 ? UPNP_RESEND_2
                                                       : u->have_gw ? UPNP_RESEND_2 + UPNP_RESEND_1
                                                                    : UPNP_WINDOW));
    return;
  }
  if (!u->fetching && u->cand_idx < u->ncands)
    disc_next_cand(u); /* answers held back for the default gateway's */
  if (u->dev_state != UPNP_DEV_SEARCHING)
    return;
  if (now >= u->disc_start + UPNP_WINDOW) {
    u->window_over = true;
    disc_close_socks(u);
    if (!u->fetching && u->cand_idx >= u->ncands)
      disc_fail(u, ETHP2P_ENOGATEWAY);
    return;
  }
  ethp2p_timer_start(u->disc_timer, u->disc_start + UPNP_WINDOW);
}

static bool disc_cand_is_gw(const upnp *u, const upnp_cand *c);

/* Records a device that answered the search (upnp_discovery_info); returns its index. */
static size_t disc_info_add(upnp *u, const upnp_cand *c, const char *st, const char *server) {
  upnp_disc_device *dd = &u->info.devices[u->info.ndevices];
  memset(dd, 0, sizeof *dd);
  upnp_copy(dd->location, sizeof dd->location, c->location);
  upnp_copy(dd->st, sizeof dd->st, st);
  upnp_copy(dd->server, sizeof dd->server, server);
  dd->host = c->url.addr;
  dd->at_gateway = disc_cand_is_gw(u, c);
  return u->info.ndevices++;
}

static void disc_on_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                         void *data) {
  upnp_sock *s = data;
  upnp *u = s->u;
  ethp2p_ssdp_reply r;
  ethp2p_diag diag = {0};
  upnp_cand *c;
  size_t i;
  if (u->dev_state != UPNP_DEV_SEARCHING)
    return;
  if (ethp2p_ssdp_reply_parse(&r, buf, len, &diag) != 0) {
    ethp2p_log(ETHP2P_LOG_TRACE, "upnp", "Ignoring SSDP datagram", "len=%zu err=\"%s\"", len,
               diag.msg);
    return;
  }
  if (r.status != 200 || !ethp2p_ssdp_st_is_gateway(r.st))
    return;
  for (i = 0; i < u->ncands; i++)
    if (strcmp(u->cands[i].location, r.location) == 0)
      return;
  if (u->ncands == UPNP_MAX_CANDS)
    return;
  c = &u->cands[u->ncands];
  if (ethp2p_http_url_parse(&c->url, r.location, &diag) != 0 || !c->url.has_addr ||
      c->url.addr.family != 4) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Ignoring SSDP reply with unusable LOCATION",
               "location=\"%s\"", r.location);
    return;
  }
  if (!ethp2p_addr_equal(&c->url.addr, from, false)) {
    char ip[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Ignoring SSDP reply whose LOCATION is another host",
               "from=%s location=\"%s\"", ethp2p_addr_format(from, false, ip, sizeof ip),
               r.location);
    return;
  }
  upnp_copy(c->location, sizeof c->location, r.location);
  c->sock = (size_t)(s - u->socks);
  c->has_bootid = r.has_bootid;
  c->bootid = r.bootid;
  c->info = disc_info_add(u, c, r.st, r.server);
  u->ncands++;
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "SSDP reply", "location=%s st=%s server=\"%s\"", r.location,
             r.st, r.server);
  if (!u->fetching)
    disc_next_cand(u);
}

/* Our address toward the device: an interface whose subnet holds it, else the reply's. */
static ethp2p_addr disc_internal_addr(upnp *u, const upnp_cand *c) {
  size_t i;
  for (i = 0; i < u->nsocks; i++)
    if (ethp2p_addr_same_subnet(&u->socks[i].iface, &c->url.addr, u->socks[i].prefix))
      return u->socks[i].iface;
  return u->socks[c->sock].iface;
}

/* A service has been ranked: the best rank there is (connected with a routable address)
 * is taken at once; anything less is kept as the fallback if it beats the one kept, and
 * the search goes on (next service, next device). */
static void disc_ranked(upnp *u, const ethp2p_addr *ip) {
  char why[160];
  upnp_disc_device *dd = &u->info.devices[u->trial.info];
  const unsigned top = UPNP_RANK_CONNECTED | UPNP_RANK_ROUTABLE;
  snprintf(why, sizeof why, "%s%s%s",
           (u->trial.rank & UPNP_RANK_GATEWAY) ? "at the default gateway, " : "",
           (u->trial.rank & UPNP_RANK_CONNECTED) ? "connected" : "not connected",
           (u->trial.rank & UPNP_RANK_ROUTABLE)
               ? ", routable external address"
               : (ip != NULL ? ", private or unusable external address" : ", no external address"));
  if (dd->nranked < ETHP2P_UPNP_MAX_SERVICES) {
    upnp_disc_ranked *r = &dd->ranked[dd->nranked++];
    upnp_copy(r->service_type, sizeof r->service_type, u->trial.service_type);
    r->rank = u->trial.rank;
    r->have_ip = ip != NULL;
    if (ip != NULL)
      r->extip = *ip;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Ranked WAN service",
             "location=%s service=%s rank=%u why=\"%s\"", u->trial.location, u->trial.service_type,
             u->trial.rank, why);
  if ((u->trial.rank & top) == top) {
    upnp_copy(u->info.why, sizeof u->info.why, why);
    u->have_disc_ip = ip != NULL;
    if (ip != NULL)
      u->disc_ip = *ip;
    disc_success(u);
    return;
  }
  if (!u->have_fallback || u->trial.rank > u->fallback_rank) {
    u->fallback = u->trial;
    u->fallback_rank = u->trial.rank;
    u->have_fallback = true;
    upnp_copy(u->info.why, sizeof u->info.why, why);
    u->have_disc_ip = ip != NULL;
    if (ip != NULL)
      u->fallback_ip = *ip;
  }
  disc_try_service(u);
}

static void disc_take_fallback(upnp *u) {
  u->trial = u->fallback;
  u->have_fallback = false;
  if (u->have_disc_ip)
    u->disc_ip = u->fallback_ip;
  disc_success(u);
}

/* GetExternalIPAddress: a public address is what miniupnpc's UPNP_GetValidIGD prefers; a
 * private, CGNAT or unspecified one (double NAT, a WAN link still coming up) ranks lower. */
static void disc_on_extip(upnp *u, int status, const ethp2p_soap_msg *msg) {
  ethp2p_addr ip;
  const char *v = status == 0 ? ethp2p_soap_msg_arg(msg, "NewExternalIPAddress") : NULL;
  if (upnp_is_conn_error(status)) {
    disc_next_cand(u);
    return;
  }
  if (v == NULL || ethp2p_addr_parse_ip(&ip, v) != 0 || ip.family != 4) {
    u->next_req_at = 0; /* a fault here says nothing about the router's health */
    disc_ranked(u, NULL);
    return;
  }
  if (!ethp2p_addr_is_unspecified(&ip) && !ethp2p_addr_is_private(&ip) &&
      !ethp2p_addr_is_cgnat(&ip) && !ethp2p_addr_is_loopback(&ip))
    u->trial.rank |= UPNP_RANK_ROUTABLE;
  disc_ranked(u, ethp2p_addr_is_unspecified(&ip) ? NULL : &ip);
}

/* GetStatusInfo (WANIPConnection §2.4.6): Connected ranks above not connected, as in
 * miniupnpc's UPNP_GetValidIGD; NewUptime is the baseline the poll compares against.  A
 * fault (routers without the action) counts as connected. */
static void disc_on_status(upnp *u, int status, const ethp2p_soap_msg *msg) {
  if (status == 0) {
    const char *cs = ethp2p_soap_msg_arg(msg, "NewConnectionStatus");
    bool restarted;
    if (cs != NULL && cs[0] != '\0' && strcmp(cs, "Connected") != 0) {
      ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Service is not connected", "service=%s status=%s",
                 u->trial.service_type, cs);
    } else {
      u->trial.rank |= UPNP_RANK_CONNECTED;
    }
    u->have_uptime = false; /* this service's own reading, not another device's */
    upnp_check_uptime(u, msg, &restarted);
    u->trial.have_up = u->have_uptime;
    u->trial.up_s = u->uptime_s;
    u->trial.up_at = u->uptime_at;
  } else if (upnp_is_conn_error(status)) {
    disc_next_cand(u);
    return;
  } else {
    u->next_req_at = 0; /* a missing action says nothing about the router's health */
    u->trial.rank |= UPNP_RANK_CONNECTED;
  }
  if (upnp_soap(u, &u->trial, "GetExternalIPAddress", NULL, 0, disc_on_extip) != 0)
    disc_next_cand(u);
}

static void disc_check_status(upnp *u) {
  if (upnp_soap(u, &u->trial, "GetStatusInfo", NULL, 0, disc_on_status) != 0)
    disc_next_cand(u);
}

static void disc_on_natrsip(upnp *u, int status, const ethp2p_soap_msg *msg) {
  if (status == 0) {
    const char *en = ethp2p_soap_msg_arg(msg, "NewNatEnabled");
    if (en != NULL && (strcmp(en, "0") == 0 || strcasecmp(en, "false") == 0)) {
      ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Service has NAT disabled", "service=%s",
                 u->trial.service_type);
      disc_try_service(u);
      return;
    }
    disc_check_status(u);
    return;
  }
  if (upnp_is_conn_error(status)) {
    disc_next_cand(u);
    return;
  }
  /* A fault or an unreadable answer: tolerated (some routers lack GetNATRSIPStatus).  A
   * missing action says nothing about the router's health: no spacing before the next. */
  u->next_req_at = 0;
  disc_check_status(u);
}

static void disc_try_service(upnp *u) {
  const upnp_cand *c = &u->cands[u->cand_idx - 1];
  while (u->svc_idx < u->nsvc) {
    const ethp2p_upnp_service *svc = &u->desc->services[u->svc_order[u->svc_idx++]];
    upnp_device *d = &u->trial;
    ethp2p_diag diag = {0};
    memset(d, 0, sizeof *d);
    if (ethp2p_http_url_resolve(d->control, sizeof d->control,
                                ethp2p_upnp_desc_base(u->desc, c->location),
                                svc->control_url) != 0 ||
        ethp2p_http_url_parse(&d->ctrl, d->control, &diag) != 0 || !d->ctrl.has_addr) {
      ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Unusable control URL", "url=\"%s\"", svc->control_url);
      continue;
    }
    if (!ethp2p_addr_equal(&d->ctrl.addr, &c->url.addr, false)) {
      ethp2p_log(ETHP2P_LOG_WARN, "upnp", "Refusing control URL on another host",
                 "location=%s control=%s", c->location, d->control);
      continue;
    }
    upnp_copy(d->location, sizeof d->location, c->location);
    d->host = c->url.addr;
    d->internal = disc_internal_addr(u, c);
    d->has_bootid = c->has_bootid;
    d->bootid = c->bootid;
    d->info = c->info;
    d->rank = disc_cand_is_gw(u, c) ? UPNP_RANK_GATEWAY : 0;
    if (svc->event_url[0] == '\0' ||
        ethp2p_http_url_resolve(d->event, sizeof d->event,
                                ethp2p_upnp_desc_base(u->desc, c->location), svc->event_url) != 0)
      d->event[0] = '\0';
    d->kind = svc->kind;
    upnp_copy(d->service_type, sizeof d->service_type, svc->service_type);
    /* Address the service by its canonical type, as written by the device. */
    if (upnp_soap(u, d, "GetNATRSIPStatus", NULL, 0, disc_on_natrsip) == 0)
      return;
  }
  disc_next_cand(u);
}

static void disc_on_desc(ethp2p_http_client *cl, int status, const ethp2p_http_msg *resp,
                         void *data) {
  upnp *u = data;
  const upnp_cand *c = &u->cands[u->cand_idx - 1];
  ethp2p_diag diag = {0};
  size_t i, k;
  u->http = NULL;
  if (status != 0 || resp->status != 200) {
    u->info.devices[c->info].desc_status = status != 0 ? status : ETHP2P_EPROTO;
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Description fetch failed", "location=%s err=%s http=%d",
               c->location, status != 0 ? ethp2p_strerror(status) : "none",
               status == 0 ? resp->status : 0);
    disc_next_cand(u);
    return;
  }
  if (u->desc == NULL && (u->desc = malloc(sizeof *u->desc)) == NULL) {
    disc_next_cand(u);
    return;
  }
  if (ethp2p_upnp_desc_parse(u->desc, (const char *)resp->body, resp->body_len, &diag) != 0) {
    u->info.devices[c->info].desc_status = ETHP2P_EPROTO;
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Bad device description", "location=%s err=\"%s\" at=%zu",
               c->location, diag.msg, diag.offset);
    disc_next_cand(u);
    return;
  }
  {
    upnp_disc_device *dd = &u->info.devices[c->info];
    dd->desc_ok = true;
    upnp_copy(dd->device_type, sizeof dd->device_type, u->desc->root_device_type);
    upnp_copy(dd->friendly_name, sizeof dd->friendly_name, u->desc->friendly_name);
    dd->nservices = 0;
    for (i = 0; i < u->desc->nservices && i < ETHP2P_UPNP_MAX_SERVICES; i++)
      upnp_copy(dd->services[dd->nservices++], sizeof dd->services[0],
                u->desc->services[i].service_type);
  }
  /* Preference: WANIPConnection:2, :1, WANPPPConnection:1 (enum order), document order within. */
  u->nsvc = 0;
  for (k = ETHP2P_UPNP_SVC_KIND_WANIP2; k <= ETHP2P_UPNP_SVC_KIND_WANPPP1; k++)
    for (i = 0; i < u->desc->nservices; i++)
      if ((size_t)u->desc->services[i].kind == k)
        u->svc_order[u->nsvc++] = i;
  u->svc_idx = 0;
  disc_try_service(u);
}

static bool disc_cand_is_gw(const upnp *u, const upnp_cand *c) {
  return u->have_gw && ethp2p_addr_equal(&c->url.addr, &u->gw, false);
}

/* Moves the best untried candidate to cand_idx: the device at the default gateway first
 * (mesh nodes and second routers answer too, sometimes faster), else the first answer.
 * Returns false to wait: no gateway answer yet but it may still come (before the second
 * burst has had its answers). */
static bool disc_pick_cand(upnp *u) {
  size_t i;
  for (i = u->cand_idx; i < u->ncands; i++) {
    if (disc_cand_is_gw(u, &u->cands[i])) {
      upnp_cand t = u->cands[u->cand_idx];
      u->cands[u->cand_idx] = u->cands[i];
      u->cands[i] = t;
      return true;
    }
  }
  if (u->have_gw && !u->window_over &&
      ethp2p_env_now(u->base.env) < u->disc_start + UPNP_RESEND_2 + UPNP_RESEND_1)
    return false;
  return true;
}

static void disc_next_cand(upnp *u) {
  const unsigned gw_ok = UPNP_RANK_GATEWAY | UPNP_RANK_CONNECTED;
  if (u->have_fallback && (u->fallback_rank & gw_ok) == gw_ok) {
    /* The gateway's connected service: no other device outranks it (even with a private
     * external address, as behind a double NAT). */
    disc_take_fallback(u);
    return;
  }
  while (u->cand_idx < u->ncands) {
    const upnp_cand *c;
    if (!disc_pick_cand(u)) {
      u->fetching = false;
      return; /* the disc timer comes back */
    }
    c = &u->cands[u->cand_idx++];
    char host[ETHP2P_ADDRSTRLEN];
    uint8_t req[1024];
    size_t len;
    ethp2p_http_field hdr[3];
    ethp2p_addr_format(&c->url.addr, true, host, sizeof host);
    hdr[0] = (ethp2p_http_field){"Host", host};
    hdr[1] = (ethp2p_http_field){"Connection", "close"};
    hdr[2] = (ethp2p_http_field){"User-Agent", "ethp2p UPnP/1.1"};
    if (ethp2p_http_request_build(req, sizeof req, &len, "GET", c->url.path, hdr, 3, NULL, 0, 0) !=
        0)
      continue;
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Fetching device description", "location=%s", c->location);
    if (ethp2p_http_client_start(u->base.env, &u->http, &c->url.addr, NULL, req, len, UPNP_DESC_CAP,
                                 false, UPNP_HTTP_TIMEOUT, disc_on_desc, u) == 0) {
      u->fetching = true;
      return;
    }
  }
  u->fetching = false;
  if (u->window_over)
    disc_fail(u, ETHP2P_ENOGATEWAY);
}

static void upnp_disc_start(upnp *u) {
  ethp2p_iface ifs[16];
  size_t n = 0, i;
  upnp_set_dev_state(u, UPNP_DEV_SEARCHING);
  u->have_fallback = false;
  u->window_over = false;
  u->bursts = 0;
  u->ncands = u->cand_idx = 0;
  u->fetching = false;
  u->have_disc_ip = false;
  memset(&u->info, 0, sizeof u->info);
  u->disc_start = ethp2p_env_now(u->base.env);
  u->have_gw = ethp2p_env_default_gateway(u->base.env, &u->gw) == 0 && u->gw.family == 4;
  if (ethp2p_env_interfaces(u->base.env, ifs, sizeof ifs / sizeof ifs[0], &n) != 0)
    n = 0;
  for (i = 0; i < n && u->nsocks < UPNP_MAX_IFACES; i++) {
    upnp_sock *s = &u->socks[u->nsocks];
    ethp2p_addr bind = ifs[i].addr;
    if (!ifs[i].up || ifs[i].loopback || !ifs[i].multicast || ifs[i].addr.family != 4)
      continue;
    bind.port = 0;
    s->u = u;
    s->iface = bind;
    s->prefix = ifs[i].prefix_len;
    if (ethp2p_udp_open(u->base.env, &s->udp, &bind, 0, disc_on_recv, s) != 0) {
      s->udp = NULL;
      continue;
    }
    ethp2p_udp_set_multicast(s->udp, &bind, 2); /* UDA 1.1 §1.3.2: TTL 2 by default */
    u->nsocks++;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Searching for UPnP gateways", "interfaces=%zu", u->nsocks);
  if (u->nsocks == 0) {
    disc_fail(u, ETHP2P_ENOGATEWAY);
    return;
  }
  disc_send_burst(u);
  ethp2p_timer_start(u->disc_timer, u->disc_start + UPNP_RESEND_1);
  if (u->hint[0] != '\0') {
    upnp_cand *c = &u->cands[0];
    ethp2p_diag diag = {0};
    if (ethp2p_http_url_parse(&c->url, u->hint, &diag) == 0 && c->url.has_addr &&
        c->url.addr.family == 4 &&
        (!u->have_gw || ethp2p_addr_equal(&c->url.addr, &u->gw, false))) {
      upnp_copy(c->location, sizeof c->location, u->hint);
      c->sock = 0;
      c->has_bootid = false;
      c->info = disc_info_add(u, c, "", "");
      u->ncands = 1;
      ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Using the advertised description", "location=%s",
                 u->hint);
      disc_next_cand(u);
    }
    u->hint[0] = '\0';
  }
}

/* ---------------------------------------------------------------------------
 * Following the device: restarts, departures and address changes it tells us about
 * (nat/upnp_watch.h), and the uptime the poll reads.
 * ------------------------------------------------------------------------- */

/* Forgets the device (and its watch); the next operation discovers again. */
static void upnp_forget(upnp *u) {
  upnp_watch_stop(u->watch);
  u->watch = NULL;
  if (u->dev_state == UPNP_DEV_KNOWN)
    upnp_set_dev_state(u, UPNP_DEV_UNKNOWN);
  u->have_uptime = false;
  u->have_disc_ip = false;
  u->any_unsupported = false;
}

/* Raises a notification; returns true if the NAT was destroyed inside it. */
static bool upnp_raise(upnp *u, ethp2p_nat_event ev, const ethp2p_addr *ip) {
  UPNP_CALL(u, ethp2p_nat_notify(&u->base, ev, ip));
  return upnp_gone(u);
}

static void upnp_on_watch(void *data, upnp_watch_event ev, const ethp2p_addr *ip, const char *why) {
  upnp *u = data;
  switch (ev) {
  case UPNP_WATCH_RESTART:
    /* Fetch the description again (a restart may move the HTTP port) and re-map. */
    ethp2p_log(ETHP2P_LOG_INFO, "upnp", "UPnP gateway lost its mappings", "why=\"%s\"", why);
    /* Its advertisement named the description: no need to wait for search answers (a
     * device may delay those up to MX). */
    upnp_copy(u->hint, sizeof u->hint, upnp_watch_location(u->watch));
    upnp_forget(u);
    upnp_raise(u, ETHP2P_NAT_EV_STATE_LOST, NULL);
    break;
  case UPNP_WATCH_GONE:
    /* Forget the device but keep listening: its ssdp:alive when it is back is a restart. */
    if (u->dev_state == UPNP_DEV_KNOWN)
      upnp_set_dev_state(u, UPNP_DEV_UNKNOWN);
    u->have_uptime = false;
    upnp_raise(u, ETHP2P_NAT_EV_GATEWAY_GONE, NULL);
    break;
  case UPNP_WATCH_EXTIP: {
    bool news = u->have_ip;
    u->have_ip = true;
    u->last_ip = *ip;
    /* An address we never reported (the first subscription's initial event) is not news:
     * the caller's own external_ip() answers it, in order with the mappings it queued
     * before (a record must not advertise a port the router does not forward yet). */
    if (news)
      upnp_raise(u, ETHP2P_NAT_EV_EXTIP_ANNOUNCED, ip);
    break;
  } break;
  }
}

static void upnp_watch_begin(upnp *u) {
  upnp_watch_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.device = u->dev.host;
  cfg.local = u->dev.internal;
  upnp_copy(cfg.location, sizeof cfg.location, u->dev.location);
  cfg.has_bootid = u->dev.has_bootid;
  cfg.bootid = u->dev.bootid;
  upnp_copy(cfg.event_url, sizeof cfg.event_url, u->dev.event);
  cfg.gena_deferred = true; /* SUBSCRIBE once the queued requests are done (upnp_pump) */
  upnp_watch_stop(u->watch);
  u->watch = NULL;
  if (upnp_watch_start(u->base.env, &cfg, upnp_on_watch, u, &u->watch) != 0)
    u->watch = NULL; /* the poll still follows the router */
  else if (u->have_ip)
    upnp_watch_note_extip(u->watch, &u->last_ip); /* so its initial event is not news */
}

/* Reads GetStatusInfo's NewUptime; *restarted when it grew less than the time that passed
 * since the last reading (the device booted again since). */
static void upnp_check_uptime(upnp *u, const ethp2p_soap_msg *msg, bool *restarted) {
  const char *v = ethp2p_soap_msg_arg(msg, "NewUptime");
  ethp2p_time now = ethp2p_env_now(u->base.env);
  uint32_t up = 0;
  size_t i;
  *restarted = false;
  if (v == NULL || v[0] == '\0')
    return;
  for (i = 0; v[i] != '\0'; i++) {
    if (v[i] < '0' || v[i] > '9' || i >= 10)
      return;
    up = up * 10 + (uint32_t)(v[i] - '0');
  }
  if (u->have_uptime) {
    /* Uptime grows with the time that passed unless the device booted again in between
     * (even when it has been up longer since than it was before).  5 s of slack for
     * rounding and for the exchanges' own delays. */
    uint64_t expect = (uint64_t)u->uptime_s + (now - u->uptime_at) / ETHP2P_SEC;
    if ((uint64_t)up + 5 < expect)
      *restarted = true;
  }
  u->have_uptime = true;
  u->uptime_s = up;
  u->uptime_at = now;
}

/* ---------------------------------------------------------------------------
 * Operations.
 * ------------------------------------------------------------------------- */
static void map_fail(upnp *u, int status, const ethp2p_soap_msg *msg) {
  ethp2p_nat_map_result r;
  memset(&r, 0, sizeof r);
  r.external_port = 0;
  if (msg != NULL && msg->is_fault) {
    r.router_code = msg->upnp_error_code;
    upnp_copy(r.router_msg, sizeof r.router_msg,
              msg->upnp_error_desc[0] ? msg->upnp_error_desc
                                      : ethp2p_upnp_error_name(msg->upnp_error_code));
  }
  op_finish(u, status, &r, NULL);
}

static void held_add(upnp *u, ethp2p_proto proto, uint16_t port) {
  size_t i;
  for (i = 0; i < u->nheld; i++)
    if (u->held[i].proto == proto && u->held[i].port == port)
      return;
  if (u->nheld < sizeof u->held / sizeof u->held[0]) {
    u->held[u->nheld].proto = proto;
    u->held[u->nheld].port = port;
    u->nheld++;
  }
  upnp_watch_resubscribe(u->watch); /* after an earlier last delete */
}

static void held_remove(upnp *u, ethp2p_proto proto, uint16_t port) {
  size_t i;
  for (i = 0; i < u->nheld; i++) {
    if (u->held[i].proto == proto && u->held[i].port == port) {
      u->held[i] = u->held[--u->nheld];
      if (u->nheld == 0)
        upnp_watch_unsubscribe(u->watch); /* UDA 1.1 §4.1.4, e.g. at the node's shutdown */
      return;
    }
  }
}

/* Our LAN address toward the device, read from the interfaces once a second while we hold
 * mappings (no traffic): after a DHCP change the router forwards our ports to an address
 * that is no longer ours, so that is a loss of the mappings (ETHP2P_NAT_EV_STATE_LOST, the
 * loop re-maps at once, and each request carries the new NewInternalClient). */
static void upnp_on_addr_timer(ethp2p_timer *t, void *data) {
  upnp *u = data;
  ethp2p_addr now_addr;
  (void)t;
  if (u->dev_state != UPNP_DEV_KNOWN || u->nheld == 0)
    return;
  ethp2p_timer_start(u->addr_timer, ethp2p_env_now(u->base.env) + UPNP_ADDR_CHECK);
  if (ethp2p_nat_local_addr_toward(u->base.env, &u->dev.host, &now_addr) != 0)
    return; /* no address toward it right now (between leases): look again */
  now_addr.port = 0;
  if (ethp2p_addr_equal(&now_addr, &u->dev.internal, false))
    return;
  {
    char a[ETHP2P_ADDRSTRLEN], b[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_INFO, "upnp", "Our LAN address changed; mapping again", "old=%s new=%s",
               ethp2p_addr_format(&u->dev.internal, false, a, sizeof a),
               ethp2p_addr_format(&now_addr, false, b, sizeof b));
  }
  u->dev.internal = now_addr;
  upnp_watch_begin(u); /* its listener and group membership were on the old address */
  /* What the router holds forwards to our old address and makes it refuse the same ports
   * for the new one (718): delete our own mappings first, so the loop gets the ports its
   * record advertises back.  A router that refuses (secure mode: 606 from another host)
   * leaves them to expire; the re-map then takes other ports. */
  for (size_t i = 0; i < u->nheld; i++) {
    upnp_op *op = calloc(1, sizeof *op);
    if (op == NULL)
      break;
    op->kind = OP_UNMAP;
    op->cleanup = true;
    op->proto = u->held[i].proto;
    op->port = u->held[i].port;
    upnp_enqueue(u, op);
  }
  upnp_raise(u, ETHP2P_NAT_EV_STATE_LOST, NULL);
}

static void map_ok(upnp *u, uint16_t port) {
  ethp2p_nat_map_result r;
  char ip[ETHP2P_ADDRSTRLEN];
  held_add(u, u->cur->proto, port);
  ethp2p_timer_start(u->addr_timer, ethp2p_env_now(u->base.env) + UPNP_ADDR_CHECK);
  memset(&r, 0, sizeof r);
  r.external_port = port;
  r.lifetime_s = u->cur->lease;
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Mapped port",
             "proto=%s internal=%s:%u external=%u lease=%u", upnp_proto_upper(u->cur->proto),
             ethp2p_addr_format(&u->dev.internal, false, ip, sizeof ip), u->cur->internal_port,
             port, (unsigned)r.lifetime_s);
  op_finish(u, 0, &r, NULL);
}

static void map_on_reply(upnp *u, int status, const ethp2p_soap_msg *msg) {
  upnp_op *op = u->cur;
  int code = msg != NULL && msg->is_fault ? msg->upnp_error_code : 0;
  if (status == 0) {
    if (op->use_any) {
      uint16_t port;
      if (!upnp_parse_port(ethp2p_soap_msg_arg(msg, "NewReservedPort"), &port)) {
        map_fail(u, ETHP2P_EPROTO, NULL);
        return;
      }
      map_ok(u, port);
    } else {
      map_ok(u, op->port);
    }
    return;
  }
  if (status != ETHP2P_EREFUSED) {
    map_fail(u, status, msg);
    return;
  }
  /* A UPnP fault: decide the next attempt. */
  if (code == 725 && op->lease != 0) {
    /* OnlyPermanentLeasesSupported: the caller asks again with lifetime 0. */
    map_fail(u, ETHP2P_EPERMANENT, msg);
    return;
  }
  if (op->addr_changed && (code == 718 || code == 606 || code == 729)) {
    /* Refused while our LAN address is not the one the router knew: what it holds is
     * for our old address.  Rediscover instead of fighting over ports. */
    map_fail(u, ETHP2P_EADDRCHANGED, msg);
    return;
  }
  if (op->any_later && code != 606 && code != 724) {
    /* IGDv2 refused the exact port (taken, outside its range, ...): let it choose. */
    op->any_later = false;
    op->use_any = true;
  } else if (op->use_any && (code == 401 || code == 602)) {
    u->any_unsupported = true;
    op->use_any = false;
  } else if (op->use_any) {
    map_fail(u, status, msg);
    return;
  } else if (code == 724 && !op->tried_same && op->port != op->internal_port) {
    op->tried_same = true;
    op->port = op->internal_port;
  } else if (code == 718 || code == 729 || op->wanted_tries >= UPNP_WANTED_TRIES ||
             op->random_tries > 0) {
    if (op->random_tries >= UPNP_RANDOM_TRIES || code == 728 || code == 606) {
      map_fail(u, status, msg);
      return;
    }
    op->random_tries++;
    op->port = upnp_random_port(u);
  } else if (code == 728 || code == 606 || code == 402 || code == 716 || code == 727) {
    map_fail(u, status, msg); /* retrying the same request cannot help */
    return;
  }
  /* The next attempt waits out the spacing the failed exchange set. */
  if (++op->attempts >= UPNP_MAX_ATTEMPTS) {
    map_fail(u, status, msg);
    return;
  }
  ethp2p_timer_start(u->retry, u->next_req_at);
}

/* NewInternalClient is our address toward the router now, not at discovery (a DHCP change
 * would otherwise make every refresh fail forever). */
static void upnp_refresh_internal(upnp *u, upnp_op *op) {
  ethp2p_addr now_addr;
  if (ethp2p_nat_local_addr_toward(u->base.env, &u->dev.host, &now_addr) != 0)
    return;
  now_addr.port = 0;
  if (ethp2p_addr_equal(&now_addr, &u->dev.internal, false))
    return;
  {
    char a[ETHP2P_ADDRSTRLEN], b[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_INFO, "upnp", "Our LAN address changed", "old=%s new=%s",
               ethp2p_addr_format(&u->dev.internal, false, a, sizeof a),
               ethp2p_addr_format(&now_addr, false, b, sizeof b));
  }
  u->dev.internal = now_addr;
  op->addr_changed = true;
  upnp_watch_begin(u); /* its listener and group membership were on the old address */
}

static void map_attempt(upnp *u) {
  upnp_op *op = u->cur;
  char ext[8], in[8], lease[16], client[ETHP2P_ADDRSTRLEN];
  ethp2p_soap_field f[8];
  int rc;
  uint32_t l = op->lease;
  if (u->dev.kind == ETHP2P_UPNP_SVC_KIND_WANIP2 && l > UPNP_V2_MAX_LEASE)
    l = UPNP_V2_MAX_LEASE;
  op->lease = l;
  snprintf(ext, sizeof ext, "%u", op->use_any ? op->wanted : op->port);
  snprintf(in, sizeof in, "%u", op->internal_port);
  snprintf(lease, sizeof lease, "%u", (unsigned)l);
  upnp_refresh_internal(u, op);
  ethp2p_addr_format(&u->dev.internal, false, client, sizeof client);
  /* Argument order is the SCPD's; some routers insist on it. */
  f[0] = (ethp2p_soap_field){"NewRemoteHost", ""};
  f[1] = (ethp2p_soap_field){"NewExternalPort", ext};
  f[2] = (ethp2p_soap_field){"NewProtocol", upnp_proto_upper(op->proto)};
  f[3] = (ethp2p_soap_field){"NewInternalPort", in};
  f[4] = (ethp2p_soap_field){"NewInternalClient", client};
  f[5] = (ethp2p_soap_field){"NewEnabled", "1"};
  f[6] = (ethp2p_soap_field){"NewPortMappingDescription", op->desc};
  f[7] = (ethp2p_soap_field){"NewLeaseDuration", lease};
  if (!op->use_any)
    op->wanted_tries += op->port == op->wanted ? 1 : 0;
  rc = upnp_soap(u, &u->dev, op->use_any ? "AddAnyPortMapping" : "AddPortMapping", f, 8,
                 map_on_reply);
  if (rc != 0)
    map_fail(u, rc, NULL);
}

static void unmap_on_reply(upnp *u, int status, const ethp2p_soap_msg *msg) {
  if (status == ETHP2P_EREFUSED && msg != NULL && msg->upnp_error_code == 714)
    status = 0; /* NoSuchEntryInArray: the mapping is gone, which is what was asked */
  if (u->cur->cleanup && status == ETHP2P_EREFUSED)
    u->next_req_at = 0; /* a policy answer (606 in secure mode), not a struggling router */
  if (status == 0 && !u->cur->cleanup)
    held_remove(u, u->cur->proto, u->cur->port); /* a cleanup's port is mapped again next */
  op_finish(u, status, NULL, NULL);
}

static void extip_on_reply(upnp *u, int status, const ethp2p_soap_msg *msg);

static void extip_ask(upnp *u) {
  int rc = upnp_soap(u, &u->dev, "GetExternalIPAddress", NULL, 0, extip_on_reply);
  if (rc != 0)
    op_finish(u, rc, NULL, NULL);
}

/* The poll: GetStatusInfo first, whose NewUptime shows a restart (then STATE_LOST, and the
 * loop re-maps), then the address — from the last GENA event while subscribed, so a poll
 * is one request, else GetExternalIPAddress. */
static void extip_on_status(upnp *u, int status, const ethp2p_soap_msg *msg) {
  ethp2p_addr ip;
  bool restarted = false;
  /* The address read while choosing the service answers only the first poll after it. */
  bool disc_ip = u->have_disc_ip;
  u->have_disc_ip = false;
  if (status != 0 && status != ETHP2P_EREFUSED && status != ETHP2P_EPROTO) {
    op_finish(u, status, NULL, NULL); /* the router did not answer */
    return;
  }
  if (status == 0)
    upnp_check_uptime(u, msg, &restarted);
  if (restarted) {
    ethp2p_log(ETHP2P_LOG_INFO, "upnp", "UPnP gateway lost its mappings",
               "why=\"uptime went down\" uptime_s=%u", (unsigned)u->uptime_s);
    upnp_watch_begin(u); /* the router forgot our subscription too */
    if (upnp_raise(u, ETHP2P_NAT_EV_STATE_LOST, NULL))
      return;
    if (u->cur == NULL)
      return;
  }
  if (!restarted && upnp_watch_extip(u->watch, &ip)) {
    op_finish(u, 0, NULL, &ip);
    return;
  }
  if (!restarted && status == ETHP2P_EPROTO && msg == NULL && disc_ip) {
    /* Read while choosing the service, moments ago: not asked twice. */
    ip = u->disc_ip;
    upnp_watch_note_extip(u->watch, &ip);
    u->have_ip = true;
    u->last_ip = ip;
    op_finish(u, 0, NULL, &ip);
    return;
  }
  extip_ask(u);
}

static void extip_on_reply(upnp *u, int status, const ethp2p_soap_msg *msg) {
  ethp2p_addr ip;
  const char *v;
  if (status != 0) {
    op_finish(u, status, NULL, NULL);
    return;
  }
  v = ethp2p_soap_msg_arg(msg, "NewExternalIPAddress");
  if (v == NULL || ethp2p_addr_parse_ip(&ip, v) != 0 || ethp2p_addr_is_unspecified(&ip)) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Router gave no usable external address", "value=\"%s\"",
               v != NULL ? v : "");
    op_finish(u, ETHP2P_EPROTO, NULL, NULL);
    return;
  }
  upnp_watch_note_extip(u->watch, &ip);
  u->have_ip = true;
  u->last_ip = ip;
  op_finish(u, 0, NULL, &ip);
}

static void op_start(upnp *u, upnp_op *op) {
  int rc = 0;
  switch (op->kind) {
  case OP_MAP:
    op->port = op->wanted;
    op->use_any = false;
    op->any_later = u->dev.kind == ETHP2P_UPNP_SVC_KIND_WANIP2 && !u->any_unsupported;
    map_attempt(u);
    return;
  case OP_UNMAP: {
    char ext[8];
    ethp2p_soap_field f[3];
    snprintf(ext, sizeof ext, "%u", op->port);
    f[0] = (ethp2p_soap_field){"NewRemoteHost", ""};
    f[1] = (ethp2p_soap_field){"NewExternalPort", ext};
    f[2] = (ethp2p_soap_field){"NewProtocol", upnp_proto_upper(op->proto)};
    rc = upnp_soap(u, &u->dev, "DeletePortMapping", f, 3, unmap_on_reply);
    break;
  }
  case OP_EXTIP:
    /* The uptime was just read (discovery ends with GetStatusInfo): no second reading. */
    if (u->have_uptime && ethp2p_env_now(u->base.env) < u->uptime_at + UPNP_UPTIME_FRESH) {
      extip_on_status(u, ETHP2P_EPROTO, NULL);
      return;
    }
    rc = upnp_soap(u, &u->dev, "GetStatusInfo", NULL, 0, extip_on_status);
    break;
  }
  if (rc != 0)
    op_finish(u, rc, NULL, NULL);
}

/* ---------------------------------------------------------------------------
 * The NAT vtable.
 * ------------------------------------------------------------------------- */
static int upnp_add_mapping(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint,
                            uint16_t internal_port, const char *desc, uint32_t lifetime_s,
                            ethp2p_nat_map_cb cb, void *data) {
  upnp *u = (upnp *)nat;
  upnp_op *op;
  if (cb == NULL || internal_port == 0 || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP))
    return ETHP2P_EINVAL;
  op = calloc(1, sizeof *op);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->kind = OP_MAP;
  op->proto = proto;
  op->wanted = ext_hint != 0 ? ext_hint : internal_port;
  op->internal_port = internal_port;
  op->lease = lifetime_s;
  upnp_copy(op->desc, sizeof op->desc, desc != NULL && desc[0] != '\0' ? desc : "ethp2p");
  op->map_cb = cb;
  op->data = data;
  upnp_enqueue(u, op);
  return 0;
}

static int upnp_delete_mapping(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                               uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  upnp *u = (upnp *)nat;
  upnp_op *op;
  if (cb == NULL || (proto != ETHP2P_PROTO_TCP && proto != ETHP2P_PROTO_UDP) ||
      (external_port == 0 && internal_port == 0))
    return ETHP2P_EINVAL;
  op = calloc(1, sizeof *op);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->kind = OP_UNMAP;
  op->proto = proto;
  op->port = external_port != 0 ? external_port : internal_port;
  op->internal_port = internal_port;
  op->done_cb = cb;
  op->data = data;
  upnp_enqueue(u, op);
  return 0;
}

static int upnp_external_ip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  upnp *u = (upnp *)nat;
  upnp_op *op;
  if (cb == NULL)
    return ETHP2P_EINVAL;
  op = calloc(1, sizeof *op);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->kind = OP_EXTIP;
  op->extip_cb = cb;
  op->data = data;
  upnp_enqueue(u, op);
  return 0;
}

static void upnp_rediscover(ethp2p_nat *nat) {
  upnp *u = (upnp *)nat;
  ethp2p_log(ETHP2P_LOG_DEBUG, "upnp", "Forgetting UPnP gateway", "location=%s",
             u->dev_state == UPNP_DEV_KNOWN ? u->dev.location : "");
  upnp_forget(u);
}

static void upnp_free(upnp *u) {
  upnp_op *op;
  if (u->http != NULL)
    ethp2p_http_client_cancel(u->http);
  disc_close_socks(u);
  upnp_watch_stop(u->watch);
  ethp2p_timer_destroy(u->pump);
  ethp2p_timer_destroy(u->retry);
  ethp2p_timer_destroy(u->disc_timer);
  ethp2p_timer_destroy(u->addr_timer);
  free(u->desc);
  free(u->cur);
  while ((op = u->head) != NULL) {
    u->head = op->next;
    free(op);
  }
  free(u);
}

static void upnp_destroy(ethp2p_nat *nat) {
  upnp *u = (upnp *)nat;
  if (u->cb_depth > 0) {
    /* Inside one of our callbacks: finish unwinding first.  Stop all activity now. */
    u->destroy_pending = true;
    if (u->http != NULL) {
      ethp2p_http_client_cancel(u->http);
      u->http = NULL;
    }
    disc_close_socks(u);
    upnp_watch_stop(u->watch);
    u->watch = NULL;
    ethp2p_timer_stop(u->pump);
    ethp2p_timer_stop(u->retry);
    ethp2p_timer_stop(u->disc_timer);
    ethp2p_timer_stop(u->addr_timer);
    u->dev_state = UPNP_DEV_UNKNOWN; /* no transition: nothing may run any more */
    while (u->head != NULL) {
      upnp_op *op = u->head;
      u->head = op->next;
      free(op);
    }
    u->tail = NULL;
    return;
  }
  upnp_free(u);
}

static const ethp2p_nat_ops upnp_ops = {
    .add_mapping = upnp_add_mapping,
    .delete_mapping = upnp_delete_mapping,
    .external_ip = upnp_external_ip,
    .rediscover = upnp_rediscover,
    .destroy = upnp_destroy,
};

_Static_assert(UPNP_DISC_MAX_DEVICES >= UPNP_MAX_CANDS, "every candidate has its entry");
_Static_assert(UPNP_DISC_MAX_SERVICES == ETHP2P_UPNP_MAX_SERVICES, "every service has its entry");

bool upnp_discovery_info(const ethp2p_nat *nat, upnp_disc_info *out) {
  memset(out, 0, sizeof *out);
  if (nat == NULL || nat->ops != &upnp_ops)
    return false;
  *out = ((const upnp *)nat)->info;
  return true;
}

int ethp2p_nat_upnp_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  upnp *u;
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL)
    return ETHP2P_EINVAL;
  if (spec != NULL && spec->kind != ETHP2P_NAT_UPNP)
    return ETHP2P_EINVAL;
  u = calloc(1, sizeof *u);
  if (u == NULL)
    return ETHP2P_ENOMEM;
  u->base.ops = &upnp_ops;
  u->base.env = env;
  if (spec != NULL)
    u->base.spec = *spec;
  else
    u->base.spec.kind = ETHP2P_NAT_UPNP;
  u->base.name = "UPnP";
  /* Restarts are seen in NOTIFY (new BOOTID/LOCATION) and in the poll's uptime; address
   * changes come as GENA events; the poll stays as the fallback. */
  u->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DETECTS_RESTART |
                 ETHP2P_NAT_CAP_ANNOUNCES_EXTIP;
  rc = ethp2p_timer_create(env, &u->pump, upnp_on_pump, u);
  if (rc == 0)
    rc = ethp2p_timer_create(env, &u->retry, upnp_on_retry, u);
  if (rc == 0)
    rc = ethp2p_timer_create(env, &u->disc_timer, disc_on_timer, u);
  if (rc == 0)
    rc = ethp2p_timer_create(env, &u->addr_timer, upnp_on_addr_timer, u);
  if (rc != 0) {
    ethp2p_timer_destroy(u->pump);
    ethp2p_timer_destroy(u->retry);
    ethp2p_timer_destroy(u->disc_timer);
    free(u);
    return rc;
  }
  *out = &u->base;
  return 0;
}
