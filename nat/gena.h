/*
 * nat/gena.h — GENA eventing codec (UPnP Device Architecture 1.1 §4): SUBSCRIBE, renewal
 * and UNSUBSCRIBE requests and their responses, and the event NOTIFY a publisher sends to
 * a subscriber's CALLBACK URL.
 *
 * Pure functions over caller buffers and over messages already parsed by the bounded HTTP
 * parser (nat/http.h): no I/O, no allocation.  The UPnP client (nat/upnp_gena.c) builds
 * subscriptions and parses responses and events; the gateway emulator (nat/gateway/gena.c)
 * parses subscriptions and builds responses and events with the same code.
 *
 * Wire forms (CRLF line ends; header names case-insensitive):
 *
 *   SUBSCRIBE /evt/IPConn HTTP/1.1          HTTP/1.1 200 OK
 *   HOST: 192.168.1.1:5000                  SID: uuid:6f0b...
 *   CALLBACK: <http://192.168.1.2:4000/e>   TIMEOUT: Second-1800
 *   NT: upnp:event                          (§4.1.2; a renewal carries SID instead of
 *   TIMEOUT: Second-1800                     CALLBACK and NT, §4.1.3)
 *
 *   UNSUBSCRIBE /evt/IPConn HTTP/1.1        (§4.1.4)
 *   HOST: 192.168.1.1:5000
 *   SID: uuid:6f0b...
 *
 *   NOTIFY /e HTTP/1.1                      (§4.3.2; body: a propertyset, nat/xml.h)
 *   HOST: 192.168.1.2:4000
 *   CONTENT-TYPE: text/xml; charset="utf-8"
 *   NT: upnp:event
 *   NTS: upnp:propchange
 *   SID: uuid:6f0b...
 *   SEQ: 0
 */
#ifndef ETHP2P_NAT_GENA_H
#define ETHP2P_NAT_GENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/error.h"
#include "nat/http.h"
#include "nat/xml.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_GENA_SID_MAX 128
#define ETHP2P_GENA_MAX_CALLBACKS 4

/*
 * Builds a request: kind SUBSCRIBE (callback set, sid NULL), a renewal (SUBSCRIBE with sid,
 * callback NULL) or UNSUBSCRIBE (method "UNSUBSCRIBE", sid set).  path: the eventSubURL's
 * path; host: its "ip:port".  timeout_s 0 asks for "Second-infinite" (subscribe/renew only).
 * Returns: 0, ETHP2P_EINVAL (NULL/empty argument, a sid with an unsubscribe-only or
 *   subscribe-only combination that the section forbids, CR/LF in a value), ETHP2P_ESPACE
 *   (*len = size needed).
 */
int ethp2p_gena_subscribe_build(uint8_t *buf, size_t size, size_t *len, const char *path,
                                const char *host, const char *callback, const char *sid,
                                uint32_t timeout_s, const char *user_agent);
int ethp2p_gena_unsubscribe_build(uint8_t *buf, size_t size, size_t *len, const char *path,
                                  const char *host, const char *sid);

/* A subscription as granted (the response to SUBSCRIBE or to a renewal). */
typedef struct ethp2p_gena_grant {
  char sid[ETHP2P_GENA_SID_MAX]; /* "uuid:..." */
  uint32_t timeout_s;            /* 0 = infinite */
} ethp2p_gena_grant;

/*
 * Parses the response to a SUBSCRIBE or renewal.  Status 200 with SID ("uuid:" followed
 * by 1..123 visible characters) and TIMEOUT ("Second-N" or "Second-infinite",
 * case-insensitive; absent = 1800, the UDA's recommended minimum) is success.
 * Returns: 0; ETHP2P_EREFUSED for another status (412 Precondition Failed: the SID is
 *   unknown, subscribe again); ETHP2P_ESYNTAX (no or bad SID, unreadable TIMEOUT);
 *   ETHP2P_ETOOBIG.  *out is zeroed first.
 */
int ethp2p_gena_grant_parse(ethp2p_gena_grant *out, const ethp2p_http_msg *resp, ethp2p_diag *diag);

/* A parsed SUBSCRIBE / UNSUBSCRIBE request (publisher side). */
typedef enum ethp2p_gena_req_kind {
  ETHP2P_GENA_SUBSCRIBE = 1, /* new subscription: callbacks and NT set */
  ETHP2P_GENA_RENEW,         /* SUBSCRIBE with SID */
  ETHP2P_GENA_UNSUBSCRIBE,
} ethp2p_gena_req_kind;

typedef struct ethp2p_gena_request {
  ethp2p_gena_req_kind kind;
  size_t ncallbacks;
  char callbacks[ETHP2P_GENA_MAX_CALLBACKS][256]; /* the URLs inside <...>, in order */
  char sid[ETHP2P_GENA_SID_MAX];
  uint32_t timeout_s; /* requested; 0 = infinite or absent */
} ethp2p_gena_request;

/*
 * Parses a SUBSCRIBE or UNSUBSCRIBE request.  A SUBSCRIBE with SID together with CALLBACK
 * or NT is ETHP2P_EINVAL (§4.1.3: 400 Bad Request); a new SUBSCRIBE without CALLBACK or
 * with an NT other than "upnp:event" is ETHP2P_EPROTO (412 Precondition Failed); an
 * UNSUBSCRIBE without SID is ETHP2P_EPROTO too.  CALLBACK holds one or more "<url>" with
 * nothing but spaces between them; more than ETHP2P_GENA_MAX_CALLBACKS keep the first.
 * Returns: 0, ETHP2P_EINVAL, ETHP2P_EPROTO, ETHP2P_ESYNTAX (another method, malformed
 *   CALLBACK or TIMEOUT), ETHP2P_ETOOBIG.  *out is zeroed first.
 */
int ethp2p_gena_request_parse(ethp2p_gena_request *out, const ethp2p_http_msg *req,
                              ethp2p_diag *diag);

/* An event notification (subscriber side). */
typedef struct ethp2p_gena_event {
  char sid[ETHP2P_GENA_SID_MAX];
  uint32_t seq; /* 0 for the initial event, then +1 per event (wrapping to 1) */
  ethp2p_upnp_propertyset props;
} ethp2p_gena_event;

/*
 * Parses an event NOTIFY request: method NOTIFY, NT "upnp:event", NTS "upnp:propchange",
 * SID, SEQ (decimal, 32-bit) and a propertyset body.
 * Returns: 0; ETHP2P_EPROTO (NT/NTS missing or other values, no SID: answer 412);
 *   ETHP2P_ESYNTAX (not NOTIFY, bad SEQ, body not a propertyset); errors of
 *   ethp2p_upnp_propertyset_parse.  *out is zeroed first.
 */
int ethp2p_gena_event_parse(ethp2p_gena_event *out, const ethp2p_http_msg *req, ethp2p_diag *diag);

/*
 * Builds an event NOTIFY request to the callback URL's path on host ("ip:port") with the
 * given variables as a propertyset body.
 * Returns: 0, ETHP2P_EINVAL, ETHP2P_ESPACE (*len = size needed).
 */
int ethp2p_gena_event_build(uint8_t *buf, size_t size, size_t *len, const char *path,
                            const char *host, const char *sid, uint32_t seq,
                            const ethp2p_soap_field *vars, size_t nvars);

#ifdef __cplusplus
}
#endif
#endif
