/*
 * nat/gena.c — GENA eventing codec (UPnP Device Architecture 1.1 §4).  See nat/gena.h.
 */
#include "nat/gena.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define GENA_DEFAULT_TIMEOUT 1800 /* UDA 1.1 §4.1.2: "SHOULD be greater than or equal to 1800" */

static bool gena_value_ok(const char *s) {
  return s != NULL && s[0] != '\0' && strpbrk(s, "\r\n") == NULL;
}

static bool gena_is_ows(char c) {
  return c == ' ' || c == '\t';
}

/* "uuid:" then 1..123 visible ASCII characters (§4.1.2: SID is "uuid:" subscription-UUID). */
static bool gena_sid_ok(const char *s) {
  size_t n;
  if (s == NULL || strncasecmp(s, "uuid:", 5) != 0)
    return false;
  n = strlen(s);
  if (n <= 5 || n >= ETHP2P_GENA_SID_MAX)
    return false;
  for (size_t i = 5; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
      return false;
  return true;
}

/* "Second-N" or "Second-infinite" (§4.1.2).  infinite -> 0.  N must be 1..2^31-1. */
static bool gena_timeout_parse(const char *s, uint32_t *out) {
  uint64_t v = 0;
  size_t i;
  if (strncasecmp(s, "Second-", 7) != 0)
    return false;
  s += 7;
  if (strcasecmp(s, "infinite") == 0) {
    *out = 0;
    return true;
  }
  for (i = 0; s[i] != '\0'; i++) {
    if (s[i] < '0' || s[i] > '9' || i >= 10)
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (i == 0 || v == 0 || v > 0x7fffffffu)
    return false;
  *out = (uint32_t)v;
  return true;
}

static bool gena_parse_u32(const char *s, uint32_t *out) {
  uint64_t v = 0;
  size_t i;
  for (i = 0; s[i] != '\0'; i++) {
    if (s[i] < '0' || s[i] > '9' || i >= 10)
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (i == 0 || v > UINT32_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

static int gena_copy(char *dst, size_t size, const char *src, const char *what, ethp2p_diag *diag) {
  size_t n = strlen(src);
  if (n >= size)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "%s of %zu bytes is too long", what, n);
  memcpy(dst, src, n + 1);
  return 0;
}

int ethp2p_gena_subscribe_build(uint8_t *buf, size_t size, size_t *len, const char *path,
                                const char *host, const char *callback, const char *sid,
                                uint32_t timeout_s, const char *user_agent) {
  char cb[300], timeout[32];
  ethp2p_http_field f[5];
  size_t n = 0;
  if (len == NULL)
    return ETHP2P_EINVAL;
  *len = 0;
  if (!gena_value_ok(path) || !gena_value_ok(host) || (callback == NULL) == (sid == NULL))
    return ETHP2P_EINVAL;
  if ((callback != NULL && (!gena_value_ok(callback) || strpbrk(callback, "<> ") != NULL)) ||
      (sid != NULL && !gena_sid_ok(sid)) || (user_agent != NULL && !gena_value_ok(user_agent)))
    return ETHP2P_EINVAL;
  f[n++] = (ethp2p_http_field){"HOST", host};
  if (user_agent != NULL)
    f[n++] = (ethp2p_http_field){"USER-AGENT", user_agent};
  if (callback != NULL) {
    int w = snprintf(cb, sizeof cb, "<%s>", callback);
    if (w < 0 || (size_t)w >= sizeof cb)
      return ETHP2P_EINVAL;
    f[n++] = (ethp2p_http_field){"CALLBACK", cb};
    f[n++] = (ethp2p_http_field){"NT", "upnp:event"};
  } else {
    f[n++] = (ethp2p_http_field){"SID", sid};
  }
  if (timeout_s == 0)
    snprintf(timeout, sizeof timeout, "Second-infinite");
  else
    snprintf(timeout, sizeof timeout, "Second-%u", (unsigned)timeout_s);
  f[n++] = (ethp2p_http_field){"TIMEOUT", timeout};
  return ethp2p_http_request_build(buf, size, len, "SUBSCRIBE", path, f, n, NULL, 0, 0);
}

int ethp2p_gena_unsubscribe_build(uint8_t *buf, size_t size, size_t *len, const char *path,
                                  const char *host, const char *sid) {
  ethp2p_http_field f[2];
  if (len == NULL)
    return ETHP2P_EINVAL;
  *len = 0;
  if (!gena_value_ok(path) || !gena_value_ok(host) || !gena_sid_ok(sid))
    return ETHP2P_EINVAL;
  f[0] = (ethp2p_http_field){"HOST", host};
  f[1] = (ethp2p_http_field){"SID", sid};
  return ethp2p_http_request_build(buf, size, len, "UNSUBSCRIBE", path, f, 2, NULL, 0, 0);
}

int ethp2p_gena_grant_parse(ethp2p_gena_grant *out, const ethp2p_http_msg *resp,
                            ethp2p_diag *diag) {
  const char *sid, *timeout;
  int rc;
  if (out == NULL || resp == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  if (resp->kind != ETHP2P_HTTP_RESPONSE)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "not an HTTP response");
  if (resp->status != 200)
    return ethp2p_diag_set(diag, ETHP2P_EREFUSED, 0, "subscription refused with HTTP %d",
                           resp->status);
  sid = ethp2p_http_msg_header(resp, "SID");
  if (sid == NULL)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "subscription response without SID");
  if (strlen(sid) >= ETHP2P_GENA_SID_MAX)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "SID of %zu bytes is too long", strlen(sid));
  if (!gena_sid_ok(sid))
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "SID is not uuid:...");
  timeout = ethp2p_http_msg_header(resp, "TIMEOUT");
  if (timeout == NULL) {
    out->timeout_s = GENA_DEFAULT_TIMEOUT;
  } else if (!gena_timeout_parse(timeout, &out->timeout_s)) {
    memset(out, 0, sizeof *out);
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "TIMEOUT is not Second-N");
  }
  rc = gena_copy(out->sid, sizeof out->sid, sid, "SID", diag);
  if (rc != 0)
    memset(out, 0, sizeof *out);
  return rc;
}

/* Reads "<url>[ <url>...]" (§4.1.2 CALLBACK). */
static int gena_callbacks_parse(ethp2p_gena_request *out, const char *s, ethp2p_diag *diag) {
  while (*s != '\0') {
    const char *end;
    size_t n;
    while (gena_is_ows(*s))
      s++;
    if (*s == '\0')
      break;
    if (*s != '<')
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "CALLBACK is not <url> ...");
    end = strchr(s + 1, '>');
    if (end == NULL)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "CALLBACK <url> is not closed");
    n = (size_t)(end - (s + 1));
    if (n == 0 || memchr(s + 1, '<', n) != NULL)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "empty or nested CALLBACK url");
    if (n >= sizeof out->callbacks[0])
      return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "CALLBACK url of %zu bytes is too long", n);
    if (out->ncallbacks < ETHP2P_GENA_MAX_CALLBACKS) {
      memcpy(out->callbacks[out->ncallbacks], s + 1, n);
      out->callbacks[out->ncallbacks][n] = '\0';
      out->ncallbacks++;
    }
    s = end + 1;
  }
  if (out->ncallbacks == 0)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "CALLBACK without a url");
  return 0;
}

int ethp2p_gena_request_parse(ethp2p_gena_request *out, const ethp2p_http_msg *req,
                              ethp2p_diag *diag) {
  const char *sid, *cb, *nt, *timeout;
  int rc = 0;
  if (out == NULL || req == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  if (req->kind != ETHP2P_HTTP_REQUEST || req->method == NULL)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "not an HTTP request");
  sid = ethp2p_http_msg_header(req, "SID");
  cb = ethp2p_http_msg_header(req, "CALLBACK");
  nt = ethp2p_http_msg_header(req, "NT");
  timeout = ethp2p_http_msg_header(req, "TIMEOUT");
  if (strcmp(req->method, "UNSUBSCRIBE") == 0) {
    if (cb != NULL || nt != NULL)
      rc = ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "UNSUBSCRIBE with CALLBACK or NT");
    else if (sid == NULL)
      rc = ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "UNSUBSCRIBE without SID");
    out->kind = ETHP2P_GENA_UNSUBSCRIBE;
  } else if (strcmp(req->method, "SUBSCRIBE") == 0) {
    if (sid != NULL) {
      if (cb != NULL || nt != NULL)
        rc = ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "renewal with CALLBACK or NT");
      out->kind = ETHP2P_GENA_RENEW;
    } else {
      if (cb == NULL || nt == NULL || strcmp(nt, "upnp:event") != 0)
        rc = ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "SUBSCRIBE without CALLBACK or NT upnp:event");
      else
        rc = gena_callbacks_parse(out, cb, diag);
      out->kind = ETHP2P_GENA_SUBSCRIBE;
    }
  } else {
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "not SUBSCRIBE or UNSUBSCRIBE");
  }
  if (rc == 0 && sid != NULL) {
    if (strlen(sid) >= ETHP2P_GENA_SID_MAX)
      rc = ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "SID too long");
    else if (!gena_sid_ok(sid))
      rc = ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "SID is not uuid:...");
    else
      memcpy(out->sid, sid, strlen(sid) + 1);
  }
  if (rc == 0 && timeout != NULL && out->kind != ETHP2P_GENA_UNSUBSCRIBE &&
      !gena_timeout_parse(timeout, &out->timeout_s))
    rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "TIMEOUT is not Second-N");
  if (rc != 0) {
    memset(out, 0, sizeof *out);
    return rc;
  }
  return 0;
}

int ethp2p_gena_event_parse(ethp2p_gena_event *out, const ethp2p_http_msg *req, ethp2p_diag *diag) {
  const char *nt, *nts, *sid, *seq;
  int rc;
  if (out == NULL || req == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  if (req->kind != ETHP2P_HTTP_REQUEST || req->method == NULL || strcmp(req->method, "NOTIFY") != 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "not a NOTIFY request");
  nt = ethp2p_http_msg_header(req, "NT");
  nts = ethp2p_http_msg_header(req, "NTS");
  sid = ethp2p_http_msg_header(req, "SID");
  seq = ethp2p_http_msg_header(req, "SEQ");
  /* §4.3.2: a missing or wrong NT/NTS or SID is answered with 412 Precondition Failed. */
  if (nt == NULL || strcmp(nt, "upnp:event") != 0 || nts == NULL ||
      strcmp(nts, "upnp:propchange") != 0)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0,
                           "NOTIFY without NT upnp:event and "
                           "NTS upnp:propchange");
  if (sid == NULL || !gena_sid_ok(sid))
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "NOTIFY without a uuid: SID");
  if (seq == NULL || !gena_parse_u32(seq, &out->seq))
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "NOTIFY SEQ is not a 32-bit number");
  memcpy(out->sid, sid, strlen(sid) + 1);
  rc = ethp2p_upnp_propertyset_parse(&out->props, (const char *)req->body, req->body_len, diag);
  if (rc != 0)
    memset(out, 0, sizeof *out);
  return rc;
}

int ethp2p_gena_event_build(uint8_t *buf, size_t size, size_t *len, const char *path,
                            const char *host, const char *sid, uint32_t seq,
                            const ethp2p_soap_field *vars, size_t nvars) {
  char body[4096], seqs[16];
  size_t body_len = 0;
  ethp2p_http_field f[6];
  int rc;
  if (len == NULL)
    return ETHP2P_EINVAL;
  *len = 0;
  if (!gena_value_ok(path) || !gena_value_ok(host) || !gena_sid_ok(sid))
    return ETHP2P_EINVAL;
  rc = ethp2p_upnp_propertyset_build(body, sizeof body, &body_len, vars, nvars);
  if (rc != 0)
    return rc == ETHP2P_ESPACE ? ETHP2P_EINVAL : rc;
  snprintf(seqs, sizeof seqs, "%u", (unsigned)seq);
  f[0] = (ethp2p_http_field){"HOST", host};
  f[1] = (ethp2p_http_field){"CONTENT-TYPE", "text/xml; charset=\"utf-8\""};
  f[2] = (ethp2p_http_field){"NT", "upnp:event"};
  f[3] = (ethp2p_http_field){"NTS", "upnp:propchange"};
  f[4] = (ethp2p_http_field){"SID", sid};
  f[5] = (ethp2p_http_field){"SEQ", seqs};
  return ethp2p_http_request_build(buf, size, len, "NOTIFY", path, f, 6, (const uint8_t *)body,
                                   body_len, 0);
}
