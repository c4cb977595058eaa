/*
 * nat/pinhole_codec.c — WANIPv6FirewallControl:1 requests and responses (see the header).
 */
#include "nat/pinhole_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/xml.h"

static const char *const action_names[] = {
    [ETHP2P_PINHOLE_GET_FIREWALL_STATUS] = "GetFirewallStatus",
    [ETHP2P_PINHOLE_GET_OUTBOUND_TIMEOUT] = "GetOutboundPinholeTimeout",
    [ETHP2P_PINHOLE_ADD] = "AddPinhole",
    [ETHP2P_PINHOLE_UPDATE] = "UpdatePinhole",
    [ETHP2P_PINHOLE_DELETE] = "DeletePinhole",
    [ETHP2P_PINHOLE_CHECK_WORKING] = "CheckPinholeWorking",
};

const char *ethp2p_pinhole_action_name(ethp2p_pinhole_action action) {
  if ((unsigned)action >= sizeof action_names / sizeof action_names[0])
    return NULL;
  return action_names[action];
}

int ethp2p_pinhole_fault_status(int code) {
  switch (code) {
  case 0:
    return 0;
  case 606:
  case 703:
    return ETHP2P_EPERM;
  case 701:
    return ETHP2P_EBUSY;
  case 401:
  case 702:
  case 705:
    return ETHP2P_EUNSUPP;
  case 704:
    return ETHP2P_ENOTFOUND;
  case 402:
  case 600:
  case 601:
  case 602:
  case 603:
  case 604:
  case 605:
  case 706:
  case 707:
  case 708:
    return ETHP2P_EINVAL;
  case 709:
    return ETHP2P_ESTATE;
  case 501:
    return ETHP2P_EIO;
  default:
    return ETHP2P_EREFUSED;
  }
}

static bool lease_ok(uint32_t s) {
  return s >= ETHP2P_PINHOLE_LEASE_MIN && s <= ETHP2P_PINHOLE_LEASE_MAX;
}

/* The five-tuple arguments of AddPinhole and GetOutboundPinholeTimeout (section 2.4.2,
 * 2.4.3), in the order of the service description. */
static int tuple_fields(const ethp2p_pinhole_req *req, ethp2p_soap_field *f, char rhost[64],
                        char rport[8], char client[64], char iport[8], char proto[8]) {
  if (req->internal_client.family != 6 || ethp2p_addr_is_unspecified(&req->internal_client))
    return ETHP2P_EINVAL;
  if (!req->remote_any && req->remote_host.family != 6)
    return ETHP2P_EINVAL;
  if (req->internal_port == 0)
    return ETHP2P_EINVAL;
  if (req->protocol != ETHP2P_PINHOLE_TCP && req->protocol != ETHP2P_PINHOLE_UDP)
    return ETHP2P_EINVAL;
  rhost[0] = '\0';
  if (!req->remote_any && ethp2p_addr_format(&req->remote_host, false, rhost, 64) == NULL)
    return ETHP2P_EINVAL;
  if (ethp2p_addr_format(&req->internal_client, false, client, 64) == NULL)
    return ETHP2P_EINVAL;
  snprintf(rport, 8, "%u", (unsigned)req->remote_port);
  snprintf(iport, 8, "%u", (unsigned)req->internal_port);
  snprintf(proto, 8, "%d", req->protocol);
  f[0] = (ethp2p_soap_field){"RemoteHost", rhost};
  f[1] = (ethp2p_soap_field){"RemotePort", rport};
  f[2] = (ethp2p_soap_field){"InternalClient", client};
  f[3] = (ethp2p_soap_field){"InternalPort", iport};
  f[4] = (ethp2p_soap_field){"Protocol", proto};
  return 0;
}

int ethp2p_pinhole_request_build(char *buf, size_t size, size_t *len,
                                 const ethp2p_pinhole_req *req) {
  if (req == NULL || len == NULL || (buf == NULL && size > 0))
    return ETHP2P_EINVAL;
  const char *name = ethp2p_pinhole_action_name(req->action);
  if (name == NULL)
    return ETHP2P_EINVAL;
  ethp2p_soap_field f[6];
  size_t n = 0;
  char rhost[64], rport[8], client[64], iport[8], proto[8], lease[16], uid[8];
  int rc;
  switch (req->action) {
  case ETHP2P_PINHOLE_GET_FIREWALL_STATUS:
    break;
  case ETHP2P_PINHOLE_GET_OUTBOUND_TIMEOUT:
  case ETHP2P_PINHOLE_ADD:
    if (req->action == ETHP2P_PINHOLE_ADD && !lease_ok(req->lease_s))
      return ETHP2P_ERANGE;
    rc = tuple_fields(req, f, rhost, rport, client, iport, proto);
    if (rc != 0)
      return rc;
    n = 5;
    if (req->action == ETHP2P_PINHOLE_ADD) {
      snprintf(lease, sizeof lease, "%u", (unsigned)req->lease_s);
      f[n++] = (ethp2p_soap_field){"LeaseTime", lease};
    }
    break;
  case ETHP2P_PINHOLE_UPDATE:
    if (!lease_ok(req->lease_s))
      return ETHP2P_ERANGE;
    snprintf(uid, sizeof uid, "%u", (unsigned)req->unique_id);
    snprintf(lease, sizeof lease, "%u", (unsigned)req->lease_s);
    f[n++] = (ethp2p_soap_field){"UniqueID", uid};
    f[n++] = (ethp2p_soap_field){"NewLeaseTime", lease};
    break;
  case ETHP2P_PINHOLE_DELETE:
  case ETHP2P_PINHOLE_CHECK_WORKING:
    snprintf(uid, sizeof uid, "%u", (unsigned)req->unique_id);
    f[n++] = (ethp2p_soap_field){"UniqueID", uid};
    break;
  }
  return ethp2p_soap_request_build(buf, size, len, ETHP2P_PINHOLE_SERVICE, name, f, n);
}

int ethp2p_pinhole_soap_action(char *buf, size_t size, ethp2p_pinhole_action action) {
  const char *name = ethp2p_pinhole_action_name(action);
  if (name == NULL)
    return ETHP2P_EINVAL;
  return ethp2p_soap_action_header(buf, size, ETHP2P_PINHOLE_SERVICE, name);
}

/* UPnP boolean (UDA 1.1 section 2.5, table 2-4): "0", "1", "false", "true", "no", "yes". */
static int parse_bool(const char *s, bool *out) {
  static const char *const f[] = {"0", "false", "no"}, *const t[] = {"1", "true", "yes"};
  for (size_t i = 0; i < 3; i++) {
    if (strcmp(s, f[i]) == 0) {
      *out = false;
      return 0;
    }
    if (strcmp(s, t[i]) == 0) {
      *out = true;
      return 0;
    }
  }
  return ETHP2P_EPROTO;
}

/* An unsigned decimal no larger than max (ui2/ui4): digits only, at most 10 of them. */
static int parse_uint(const char *s, uint32_t max, uint32_t *out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; s[i] != '\0'; i++) {
    if (s[i] < '0' || s[i] > '9' || i >= 10)
      return ETHP2P_EPROTO;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (i == 0 || v > max)
    return ETHP2P_EPROTO;
  *out = (uint32_t)v;
  return 0;
}

static int need_arg(const ethp2p_soap_msg *m, const char *name, const char **out,
                    ethp2p_diag *diag) {
  *out = ethp2p_soap_msg_arg(m, name);
  if (*out == NULL)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "%s without %s", m->action, name);
  return 0;
}

static int bad_value(ethp2p_diag *diag, const char *name, const char *v) {
  return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "%s is not a valid value: \"%.40s\"", name, v);
}

int ethp2p_pinhole_response_parse(ethp2p_pinhole_result *out, ethp2p_pinhole_action action,
                                  int http_status, const char *body, size_t len,
                                  ethp2p_diag *diag) {
  if (out == NULL || (body == NULL && len > 0))
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  const char *name = ethp2p_pinhole_action_name(action);
  if (name == NULL)
    return ETHP2P_EINVAL;
  if (http_status != 200 && http_status != 500)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "HTTP status %d to %s", http_status, name);
  ethp2p_soap_msg *m = calloc(1, sizeof *m);
  if (m == NULL)
    return ETHP2P_ENOMEM;
  int rc = ethp2p_soap_response_parse(m, name, body == NULL ? "" : body, len, diag);
  if (rc == ETHP2P_EREFUSED) {
    out->upnp_code = m->upnp_error_code;
    snprintf(out->upnp_desc, sizeof out->upnp_desc, "%s", m->upnp_error_desc);
    if (http_status != 500)
      rc = ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "UPnP fault %d with HTTP status %d",
                           m->upnp_error_code, http_status);
    else if (m->upnp_error_code == 0)
      rc = ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "SOAP fault without a UPnP errorCode");
    else
      rc = ethp2p_pinhole_fault_status(m->upnp_error_code);
    goto done;
  }
  if (rc != 0)
    goto done;
  if (http_status != 200) {
    rc = ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "%sResponse with HTTP status 500", name);
    goto done;
  }
  const char *v = NULL;
  uint32_t u = 0;
  switch (action) {
  case ETHP2P_PINHOLE_GET_FIREWALL_STATUS:
    if ((rc = need_arg(m, "FirewallEnabled", &v, diag)) != 0)
      break;
    if (parse_bool(v, &out->firewall_enabled) != 0) {
      rc = bad_value(diag, "FirewallEnabled", v);
      break;
    }
    if ((rc = need_arg(m, "InboundPinholeAllowed", &v, diag)) != 0)
      break;
    if (parse_bool(v, &out->inbound_pinhole_allowed) != 0)
      rc = bad_value(diag, "InboundPinholeAllowed", v);
    break;
  case ETHP2P_PINHOLE_GET_OUTBOUND_TIMEOUT:
    if ((rc = need_arg(m, "OutboundPinholeTimeout", &v, diag)) != 0)
      break;
    if (parse_uint(v, UINT32_MAX, &out->outbound_timeout_s) != 0)
      rc = bad_value(diag, "OutboundPinholeTimeout", v);
    break;
  case ETHP2P_PINHOLE_ADD:
    if ((rc = need_arg(m, "UniqueID", &v, diag)) != 0)
      break;
    if (parse_uint(v, UINT16_MAX, &u) != 0) {
      rc = bad_value(diag, "UniqueID", v);
      break;
    }
    out->unique_id = (uint16_t)u;
    break;
  case ETHP2P_PINHOLE_CHECK_WORKING:
    if ((rc = need_arg(m, "IsWorking", &v, diag)) != 0)
      break;
    if (parse_bool(v, &out->is_working) != 0)
      rc = bad_value(diag, "IsWorking", v);
    break;
  case ETHP2P_PINHOLE_UPDATE:
  case ETHP2P_PINHOLE_DELETE:
    break;
  }
done:
  free(m);
  return rc;
}
