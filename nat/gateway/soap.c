/*
 * nat/gateway/soap.c — SOAP control (UDA 1.1 §3.2) for WANIPConnection:1/:2,
 * WANCommonInterfaceConfig:1 and Layer3Forwarding:1.
 *
 * Faults follow the WANIPConnection service templates (v1 §2.4, v2 §2.5) and
 * miniupnpd where the templates leave a choice:
 *   402 InvalidArgs            missing/unreadable argument, unknown protocol
 *   401 InvalidAction          unknown action, AddAnyPortMapping on IGDv1,
 *                              GetNATRSIPStatus with the no-natrsip quirk
 *   606 Action not authorized  IGDv2: internal client is not the requester, or
 *                              the port is outside the allowed ranges; delete
 *                              of another client's mapping (v1 and v2)
 *   718 ConflictInMapping      port held by another client; IGDv1: internal
 *                              client not the requester / port not allowed
 *   713 / 714                  bad index / no such mapping
 *   716 / 732                  wildcard external / internal port (732 on v2)
 *   724                        same_port_only policy and ports differ
 *   725                        permanent_only policy and a non-zero lease
 *   726                        a non-empty NewRemoteHost (wildcard only)
 *   728 NoPortMapsAvailable    IGDv2: table or client quota full (v1: 501)
 *   729                        IGDv2: port held by a NAT-PMP/PCP mapping of
 *                              another client
 *   501 ActionFailed           the forwarder refused; no-concurrent quirk
 *   730 PortMappingNotFound    IGDv2 list/delete-range: nothing in the range
 *   733 InconsistentParameters IGDv2 list/delete-range: start port > end port
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "ethp2p/log.h"
#include "nat/gateway/gw_internal.h"
#include "nat/xml.h"

#define LOGMOD "gateway"
#define IGD2_MAX_LEASE 604800u /* WANIPConnection:2 §2.3.17 */
#define WANIP_PREFIX "urn:schemas-upnp-org:service:WANIPConnection:"

typedef struct soap_ctx {
  ethp2p_gateway *gw;
  const ethp2p_soap_msg *req;
  const ethp2p_addr *requester;
  const char *service; /* service type for the response element */
  unsigned v;          /* IGD version */
  gw_soap_reply *out;
} soap_ctx;

/* ---- replies ----------------------------------------------------------------- */

static int reply_ok(soap_ctx *x, const char *action, const ethp2p_soap_field *f, size_t n) {
  ethp2p_buf b;
  bool ns = (x->gw->cfg.quirks & ETHP2P_GW_Q_UNNAMESPACED_SOAP) == 0;
  ethp2p_buf_init(&b, 32 * 1024);
  ethp2p_buf_puts(&b, "<?xml version=\"1.0\"?>\r\n<s:Envelope "
                      "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                      "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>");
  if (ns)
    ethp2p_buf_printf(&b, "<u:%sResponse xmlns:u=\"%s\">", action, x->service);
  else
    ethp2p_buf_printf(&b, "<%sResponse>", action);
  for (size_t i = 0; i < n; i++) {
    ethp2p_buf_printf(&b, "<%s>", f[i].name);
    if (strcmp(f[i].name, "NewPortListing") == 0) {
      /* A document as a string: CDATA, as miniupnpd sends it (miniupnpc's parser
       * does not decode entities).  The listing cannot contain "]]>": its text is
       * escaped, so every '>' in it closes a tag. */
      ethp2p_buf_puts(&b, "<![CDATA[");
      ethp2p_buf_puts(&b, f[i].value);
      ethp2p_buf_puts(&b, "]]>");
    } else {
      gw_buf_xml(&b, f[i].value);
    }
    ethp2p_buf_printf(&b, "</%s>", f[i].name);
  }
  ethp2p_buf_printf(&b, "</%s%sResponse></s:Body></s:Envelope>\r\n", ns ? "u:" : "", action);
  if (b.err != 0) {
    ethp2p_buf_free(&b);
    return ETHP2P_ENOMEM;
  }
  x->out->status = 200;
  x->out->body = b.p;
  x->out->len = b.len;
  return 0;
}

static int reply_fault(soap_ctx *x, int code) {
  size_t need = 0, cap = 2048;
  char *buf;
  ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "SOAP fault", "action=%s code=%d", x->req->action, code);
  buf = malloc(cap);
  if (buf == NULL)
    return ETHP2P_ENOMEM;
  const char *desc = ethp2p_upnp_error_name(code);
  if (desc == NULL || *desc == '\0')
    desc = code == 730   ? "PortMappingNotFound"
           : code == 733 ? "InconsistentParameters"
                         : "ActionFailed";
  if (ethp2p_soap_fault_build(buf, cap, &need, code, desc) != 0) {
    free(buf);
    return ETHP2P_ENOMEM;
  }
  x->out->status = 500;
  x->out->body = buf;
  x->out->len = need;
  return 0;
}

/* ---- arguments ----------------------------------------------------------------- */

static bool arg_uint(const soap_ctx *x, const char *name, uint32_t max, uint32_t *out) {
  const char *s = ethp2p_soap_msg_arg(x->req, name);
  uint64_t v = 0;
  if (s == NULL || *s == '\0')
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    v = v * 10 + (uint64_t)(*s - '0');
    if (v > max)
      return false;
  }
  *out = (uint32_t)v;
  return true;
}

static bool arg_proto(const soap_ctx *x, ethp2p_proto *out) {
  const char *s = ethp2p_soap_msg_arg(x->req, "NewProtocol");
  if (s == NULL)
    return false;
  if (strcasecmp(s, "TCP") == 0)
    *out = ETHP2P_PROTO_TCP;
  else if (strcasecmp(s, "UDP") == 0)
    *out = ETHP2P_PROTO_UDP;
  else
    return false;
  return true;
}

static const char *proto_upper(ethp2p_proto p) {
  return p == ETHP2P_PROTO_TCP ? "TCP" : "UDP";
}

/* NewRemoteHost must be present (may be empty).  Returns 0, 402 or 726. */
static int check_remote_host(const soap_ctx *x) {
  const char *rh = ethp2p_soap_msg_arg(x->req, "NewRemoteHost");
  if (rh == NULL)
    return 402;
  if (*rh != '\0' && strcmp(rh, "*") != 0)
    return 726;
  return 0;
}

/* ---- WANIPConnection actions ------------------------------------------------------ */

static int fault_for(const soap_ctx *x, gw_status st, const ethp2p_gw_mapping *holder) {
  switch (st) {
  case GW_E_NOT_REQUESTER:
  case GW_E_PORT_NOT_ALLOWED:
    return x->v >= 2 ? 606 : 718;
  case GW_E_CONFLICT:
    if (x->v >= 2 && holder != NULL && holder->origin != ETHP2P_GW_UPNP)
      return 729;
    return 718;
  case GW_E_TABLE_FULL:
  case GW_E_CLIENT_QUOTA:
  case GW_E_NO_PORTS:
    return x->v >= 2 ? 728 : 501;
  case GW_E_PERMANENT_ONLY:
    return 725;
  case GW_E_NONCE:
    return x->v >= 2 ? 729 : 718;
  default:
    return 501;
  }
}

static int add_mapping(soap_ctx *x, bool any) {
  ethp2p_gateway *gw = x->gw;
  const ethp2p_gw_policy *pol = &gw->cfg.policy;
  uint32_t ext, in, lease;
  ethp2p_proto proto;
  ethp2p_addr client;
  const char *ic = ethp2p_soap_msg_arg(x->req, "NewInternalClient");
  const char *desc = ethp2p_soap_msg_arg(x->req, "NewPortMappingDescription");
  int rh = check_remote_host(x);
  char port_s[8];

  if (rh == 402 || !arg_uint(x, "NewExternalPort", 65535, &ext) ||
      !arg_uint(x, "NewInternalPort", 65535, &in) || !arg_proto(x, &proto) || ic == NULL ||
      !arg_uint(x, "NewLeaseDuration", UINT32_MAX, &lease))
    return reply_fault(x, 402);
  if (ethp2p_addr_parse_ip(&client, ic) != 0 || client.family != 4)
    return reply_fault(x, 402);
  if (rh != 0)
    return reply_fault(x, rh);
  if (ext == 0 && !any)
    return reply_fault(x, 716);
  if (in == 0)
    return reply_fault(x, x->v >= 2 ? 732 : 402);
  if (pol->internal_must_be_requester && !ethp2p_addr_equal(&client, x->requester, false))
    return reply_fault(x, x->v >= 2 ? 606 : 718);
  if (pol->same_port_only && ext != 0 && ext != in)
    return reply_fault(x, 724);
  if (pol->permanent_only && lease != 0)
    return reply_fault(x, 725);
  if (x->v >= 2 && !pol->permanent_only) {
    /* WANIPConnection:2: 0 means the maximum, longer leases are clamped. */
    if (lease == 0 || lease > IGD2_MAX_LEASE)
      lease = IGD2_MAX_LEASE;
  }
  client.port = (uint16_t)in;
  gw_request g = {
      .origin = ETHP2P_GW_UPNP,
      .proto = proto,
      .requester = *x->requester,
      .internal = client,
      .ext_port = (uint16_t)ext,
      .exact = !any,
      .lease_s = lease,
      .desc = desc != NULL ? desc : "",
  };
  if (any && (gw->cfg.quirks & ETHP2P_GW_Q_RANDOM_PORT) == 0 && ext != 0) {
    /* AddAnyPortMapping: the wanted port if we can, any port otherwise. */
    long i = gw_table_find_ext(&gw->table, proto, (uint16_t)ext);
    if (i >= 0 && ethp2p_addr_equal(&gw->table.items[i].internal, &client, false))
      g.exact = true; /* it is ours already: update it */
  }
  ethp2p_gw_mapping m;
  gw_status st = gw_map(gw, &g, &m);
  if (st != GW_OK) {
    const ethp2p_gw_mapping *holder = NULL;
    long i = gw_table_find_ext(&gw->table, proto, (uint16_t)ext);
    if (i >= 0)
      holder = &gw->table.items[i];
    return reply_fault(x, fault_for(x, st, holder));
  }
  if (!any)
    return reply_ok(x, "AddPortMapping", NULL, 0);
  snprintf(port_s, sizeof port_s, "%u", m.external_port);
  ethp2p_soap_field f[] = {{"NewReservedPort", port_s}};
  return reply_ok(x, "AddAnyPortMapping", f, 1);
}

static int delete_mapping(soap_ctx *x) {
  ethp2p_gateway *gw = x->gw;
  uint32_t ext;
  ethp2p_proto proto;
  int rh = check_remote_host(x);
  if (rh == 402 || !arg_uint(x, "NewExternalPort", 65535, &ext) || !arg_proto(x, &proto))
    return reply_fault(x, 402);
  long i = gw_table_find_ext(&gw->table, proto, (uint16_t)ext);
  if (i < 0 || rh != 0)
    return reply_fault(x, 714);
  if (gw->cfg.policy.internal_must_be_requester &&
      !ethp2p_addr_equal(&gw->table.items[i].internal, x->requester, false))
    return reply_fault(x, 606);
  gw_unmap_index(gw, (size_t)i, ETHP2P_GW_DELETED);
  return reply_ok(x, "DeletePortMapping", NULL, 0);
}

static int entry_reply(soap_ctx *x, const char *action, const ethp2p_gw_mapping *m, bool generic) {
  char ext[8], in[8], lease[12], client[ETHP2P_ADDRSTRLEN];
  snprintf(ext, sizeof ext, "%u", m->external_port);
  snprintf(in, sizeof in, "%u", m->internal.port);
  snprintf(lease, sizeof lease, "%u", gw_remaining_s(x->gw, m));
  ethp2p_addr_format(&m->internal, false, client, sizeof client);
  ethp2p_soap_field f[] = {
      {"NewRemoteHost", ""},
      {"NewExternalPort", ext},
      {"NewProtocol", proto_upper(m->proto)},
      {"NewInternalPort", in},
      {"NewInternalClient", client},
      {"NewEnabled", "1"},
      {"NewPortMappingDescription", m->desc},
      {"NewLeaseDuration", lease},
  };
  if (generic)
    return reply_ok(x, action, f, 8);
  return reply_ok(x, action, f + 3, 5);
}

static int generic_entry(soap_ctx *x) {
  uint32_t idx;
  if (!arg_uint(x, "NewPortMappingIndex", UINT32_MAX, &idx))
    return reply_fault(x, 402);
  if (idx >= x->gw->table.n)
    return reply_fault(x, 713);
  return entry_reply(x, "GetGenericPortMappingEntry", &x->gw->table.items[idx], true);
}

static int specific_entry(soap_ctx *x) {
  uint32_t ext;
  ethp2p_proto proto;
  int rh = check_remote_host(x);
  if (rh == 402 || !arg_uint(x, "NewExternalPort", 65535, &ext) || !arg_proto(x, &proto))
    return reply_fault(x, 402);
  long i = gw_table_find_ext(&x->gw->table, proto, (uint16_t)ext);
  if (i < 0 || rh != 0)
    return reply_fault(x, 714);
  return entry_reply(x, "GetSpecificPortMappingEntry", &x->gw->table.items[i], false);
}

/* IGDv2: the requester's mappings (all with NewManage=1 when the policy lets
 * hosts manage others) with protocol `proto` and external port in [lo, hi]. */
static bool in_range(const soap_ctx *x, const ethp2p_gw_mapping *m, ethp2p_proto proto, uint32_t lo,
                     uint32_t hi, bool manage) {
  bool all = manage && !x->gw->cfg.policy.internal_must_be_requester;
  return m->proto == proto && m->external_port >= lo && m->external_port <= hi &&
         (all || ethp2p_addr_equal(&m->internal, x->requester, false));
}

static bool range_args(const soap_ctx *x, uint32_t *lo, uint32_t *hi, ethp2p_proto *proto,
                       bool *manage) {
  uint32_t mg;
  if (!arg_uint(x, "NewStartPort", 65535, lo) || !arg_uint(x, "NewEndPort", 65535, hi) ||
      !arg_proto(x, proto))
    return false;
  /* NewManage is a boolean: "0"/"1" (also "false"/"true"). */
  const char *m = ethp2p_soap_msg_arg(x->req, "NewManage");
  if (m != NULL && (strcasecmp(m, "true") == 0 || strcasecmp(m, "yes") == 0))
    *manage = true;
  else if (m != NULL && (strcasecmp(m, "false") == 0 || strcasecmp(m, "no") == 0))
    *manage = false;
  else if (arg_uint(x, "NewManage", 1, &mg))
    *manage = mg == 1;
  else
    return false;
  return true;
}

/* WANIPConnection:2 GetListOfPortMappings: NewPortListing is an escaped
 * PortMappingList document.  730 when nothing matches, 733 for start > end. */
static int list_mappings(soap_ctx *x) {
  uint32_t lo, hi, max;
  ethp2p_proto proto;
  bool manage;
  unsigned n = 0;
  ethp2p_buf b;
  if (!range_args(x, &lo, &hi, &proto, &manage) || !arg_uint(x, "NewNumberOfPorts", 65535, &max))
    return reply_fault(x, 402);
  if (lo > hi)
    return reply_fault(x, 733);
  ethp2p_buf_init(&b, 24 * 1024);
  ethp2p_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<p:PortMappingList "
                      "xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\">\n");
  for (size_t i = 0; i < x->gw->table.n; i++) {
    const ethp2p_gw_mapping *m = &x->gw->table.items[i];
    char client[ETHP2P_ADDRSTRLEN];
    if (!in_range(x, m, proto, lo, hi, manage))
      continue;
    if (max != 0 && n >= max)
      break;
    n++;
    ethp2p_addr_format(&m->internal, false, client, sizeof client);
    ethp2p_buf_printf(&b,
                      "<p:PortMappingEntry><p:NewRemoteHost></p:NewRemoteHost>"
                      "<p:NewExternalPort>%u</p:NewExternalPort><p:NewProtocol>%s</p:NewProtocol>"
                      "<p:NewInternalPort>%u</p:NewInternalPort>"
                      "<p:NewInternalClient>%s</p:NewInternalClient><p:NewEnabled>1</p:NewEnabled>"
                      "<p:NewDescription>",
                      m->external_port, proto_upper(m->proto), m->internal.port, client);
    gw_buf_xml(&b, m->desc);
    ethp2p_buf_printf(&b,
                      "</p:NewDescription><p:NewLeaseTime>%u</p:NewLeaseTime>"
                      "</p:PortMappingEntry>\n",
                      gw_remaining_s(x->gw, m));
  }
  ethp2p_buf_puts(&b, "</p:PortMappingList>\n");
  if (b.err != 0) {
    ethp2p_buf_free(&b);
    return reply_fault(x, 501); /* the listing outgrew its cap */
  }
  if (n == 0) {
    ethp2p_buf_free(&b);
    return reply_fault(x, 730);
  }
  ethp2p_soap_field f[] = {{"NewPortListing", b.p}};
  int rc = reply_ok(x, "GetListOfPortMappings", f, 1);
  ethp2p_buf_free(&b);
  return rc;
}

/* WANIPConnection:2 DeletePortMappingRange: 730 when nothing matches. */
static int delete_range(soap_ctx *x) {
  uint32_t lo, hi;
  ethp2p_proto proto;
  bool manage;
  unsigned n = 0;
  if (!range_args(x, &lo, &hi, &proto, &manage))
    return reply_fault(x, 402);
  if (lo > hi)
    return reply_fault(x, 733);
  size_t i = 0;
  while (i < x->gw->table.n) {
    if (in_range(x, &x->gw->table.items[i], proto, lo, hi, manage)) {
      gw_unmap_index(x->gw, i, ETHP2P_GW_DELETED);
      n++;
    } else {
      i++;
    }
  }
  if (n == 0)
    return reply_fault(x, 730);
  return reply_ok(x, "DeletePortMappingRange", NULL, 0);
}

static int wanip(soap_ctx *x) {
  const char *a = x->req->action;
  ethp2p_gateway *gw = x->gw;
  if (strcmp(a, "AddPortMapping") == 0)
    return add_mapping(x, false);
  if (strcmp(a, "AddAnyPortMapping") == 0)
    return x->v >= 2 ? add_mapping(x, true) : reply_fault(x, 401);
  if (strcmp(a, "DeletePortMapping") == 0)
    return delete_mapping(x);
  if (strcmp(a, "GetGenericPortMappingEntry") == 0)
    return generic_entry(x);
  if (strcmp(a, "GetListOfPortMappings") == 0)
    return x->v >= 2 ? list_mappings(x) : reply_fault(x, 401);
  if (strcmp(a, "DeletePortMappingRange") == 0)
    return x->v >= 2 ? delete_range(x) : reply_fault(x, 401);
  if (strcmp(a, "GetSpecificPortMappingEntry") == 0)
    return specific_entry(x);
  if (strcmp(a, "GetExternalIPAddress") == 0) {
    char ip[ETHP2P_ADDRSTRLEN];
    ethp2p_addr_format(&gw->external_ip, false, ip, sizeof ip);
    ethp2p_soap_field f[] = {{"NewExternalIPAddress", ip}};
    return reply_ok(x, a, f, 1);
  }
  if (strcmp(a, "GetStatusInfo") == 0) {
    char up[12];
    snprintf(up, sizeof up, "%u", ethp2p_gw_epoch(gw));
    ethp2p_soap_field f[] = {{"NewConnectionStatus", "Connected"},
                             {"NewLastConnectionError", "ERROR_NONE"},
                             {"NewUptime", up}};
    return reply_ok(x, a, f, 3);
  }
  if (strcmp(a, "GetNATRSIPStatus") == 0) {
    if (gw->cfg.quirks & ETHP2P_GW_Q_NO_NATRSIP)
      return reply_fault(x, 401);
    ethp2p_soap_field f[] = {{"NewRSIPAvailable", "0"}, {"NewNATEnabled", "1"}};
    return reply_ok(x, a, f, 2);
  }
  if (strcmp(a, "GetConnectionTypeInfo") == 0) {
    ethp2p_soap_field f[] = {{"NewConnectionType", "IP_Routed"},
                             {"NewPossibleConnectionTypes", "IP_Routed"}};
    return reply_ok(x, a, f, 2);
  }
  return reply_fault(x, 401);
}

static int common_if(soap_ctx *x) {
  const char *a = x->req->action;
  if (strcmp(a, "GetCommonLinkProperties") == 0) {
    ethp2p_soap_field f[] = {{"NewWANAccessType", "Ethernet"},
                             {"NewLayer1UpstreamMaxBitRate", "1000000000"},
                             {"NewLayer1DownstreamMaxBitRate", "1000000000"},
                             {"NewPhysicalLinkStatus", "Up"}};
    return reply_ok(x, a, f, 4);
  }
  static const char *const counters[][2] = {
      {"GetTotalBytesSent", "NewTotalBytesSent"},
      {"GetTotalBytesReceived", "NewTotalBytesReceived"},
      {"GetTotalPacketsSent", "NewTotalPacketsSent"},
      {"GetTotalPacketsReceived", "NewTotalPacketsReceived"},
  };
  for (size_t i = 0; i < 4; i++) {
    if (strcmp(a, counters[i][0]) == 0) {
      ethp2p_soap_field f[] = {{counters[i][1], "0"}};
      return reply_ok(x, a, f, 1);
    }
  }
  return reply_fault(x, 401);
}

static int l3f(soap_ctx *x) {
  char v[160], uuid[48];
  if (strcmp(x->req->action, "GetDefaultConnectionService") != 0)
    return reply_fault(x, 401);
  gw_desc_uuid(x->gw, 2, uuid, sizeof uuid);
  snprintf(v, sizeof v, "uuid:%s:WANConnectionDevice:%u,urn:upnp-org:serviceId:WANIPConn1", uuid,
           x->v);
  ethp2p_soap_field f[] = {{"NewDefaultConnectionService", v}};
  return reply_ok(x, x->req->action, f, 1);
}

/* True if `st` names WANIPConnection with a version we implement. */
static bool wanip_type_ok(const char *st, unsigned v) {
  size_t n = strlen(WANIP_PREFIX);
  if (strncasecmp(st, WANIP_PREFIX, n) != 0)
    return false;
  return (st[n] == '1' || (st[n] == '2' && v >= 2)) && st[n + 1] == '\0';
}

int gw_soap_handle(ethp2p_gateway *gw, const char *path, const char *soapaction,
                   const uint8_t *body, size_t body_len, const ethp2p_addr *requester,
                   gw_soap_reply *out) {
  ethp2p_soap_msg *msg;
  ethp2p_diag diag = {0};
  char hdr_type[160] = "", hdr_action[64] = "";
  soap_ctx x;
  int rc;

  memset(out, 0, sizeof *out);
  msg = calloc(1, sizeof *msg);
  if (msg == NULL)
    return ETHP2P_ENOMEM;
  x.gw = gw;
  x.req = msg;
  x.requester = requester;
  x.v = gw->cfg.policy.igd_version;
  x.out = out;
  x.service = gw_desc_wanip_urn(gw);
  rc = ethp2p_soap_request_parse(msg, (const char *)body, body_len, &diag);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, LOGMOD, "Bad SOAP request", "err=%s at=%zu why=\"%s\"",
               ethp2p_err_name(rc), diag.offset, diag.msg);
    rc = reply_fault(&x, rc == ETHP2P_ETOOBIG ? 402 : 401);
    goto out;
  }
  if (soapaction != NULL && ethp2p_soap_action_parse(soapaction, hdr_type, sizeof hdr_type,
                                                     hdr_action, sizeof hdr_action) == 0) {
    if (strcmp(hdr_action, msg->action) != 0) {
      rc = reply_fault(&x, 401);
      goto out;
    }
  } else if (soapaction != NULL) {
    rc = reply_fault(&x, 401);
    goto out;
  }
  if (hdr_type[0] == '\0')
    snprintf(hdr_type, sizeof hdr_type, "%s", msg->service_type);

  if (strcmp(path, GW_PATH_CTL_IP) == 0) {
    if (hdr_type[0] != '\0') {
      if (!wanip_type_ok(hdr_type, x.v)) {
        rc = reply_fault(&x, 401);
        goto out;
      }
      x.service = hdr_type;
    }
    rc = wanip(&x);
  } else if (strcmp(path, GW_PATH_CTL_CIF) == 0) {
    x.service = GW_URN_CIF;
    rc = common_if(&x);
  } else if (strcmp(path, GW_PATH_CTL_L3F) == 0) {
    x.service = GW_URN_L3F;
    rc = l3f(&x);
  } else {
    rc = reply_fault(&x, 401);
  }
out:
  free(msg);
  return rc;
}
