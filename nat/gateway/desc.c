/*
 * nat/gateway/desc.c — the UPnP documents the gateway serves: the root device
 * description (UDA 1.1 §2.3) of an InternetGatewayDevice:1 or :2 with one
 * WANDevice, one WANConnectionDevice and a WANIPConnection service, and the
 * service descriptions (SCPD, UDA 1.1 §2.5) of WANIPConnection,
 * WANCommonInterfaceConfig and Layer3Forwarding.  Also a capped text buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/gateway/gw_internal.h"

/* ---- gw_buf --------------------------------------------------------------- */

void gw_buf_init(gw_buf *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->max = max;
}

static bool buf_reserve(gw_buf *b, size_t extra) {
  size_t want, ncap;
  char *np;
  if (b->failed)
    return false;
  want = b->len + extra + 1;
  if (want > b->max) {
    b->failed = true;
    return false;
  }
  if (want <= b->cap)
    return true;
  ncap = b->cap ? b->cap : 256;
  while (ncap < want)
    ncap *= 2;
  if (ncap > b->max)
    ncap = b->max;
  np = realloc(b->p, ncap);
  if (np == NULL) {
    b->failed = true;
    return false;
  }
  b->p = np;
  b->cap = ncap;
  return true;
}

void gw_buf_add(gw_buf *b, const char *s, size_t n) {
  if (!buf_reserve(b, n))
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void gw_buf_puts(gw_buf *b, const char *s) {
  gw_buf_add(b, s, strlen(s));
}

void gw_buf_printf(gw_buf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !buf_reserve(b, (size_t)n)) {
    b->failed = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void gw_buf_xml(gw_buf *b, const char *s) {
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '&':
      gw_buf_puts(b, "&amp;");
      break;
    case '<':
      gw_buf_puts(b, "&lt;");
      break;
    case '>':
      gw_buf_puts(b, "&gt;");
      break;
    case '"':
      gw_buf_puts(b, "&quot;");
      break;
    case '\'':
      gw_buf_puts(b, "&apos;");
      break;
    default:
      gw_buf_add(b, s, 1);
    }
  }
}

void gw_buf_free(gw_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- URNs ----------------------------------------------------------------- */

const char *gw_desc_igd_urn(const ethp2p_gateway *gw) {
  return gw->cfg.policy.igd_version == 1 ? "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
                                         : "urn:schemas-upnp-org:device:InternetGatewayDevice:2";
}
const char *gw_desc_wandev_urn(const ethp2p_gateway *gw) {
  return gw->cfg.policy.igd_version == 1 ? "urn:schemas-upnp-org:device:WANDevice:1"
                                         : "urn:schemas-upnp-org:device:WANDevice:2";
}
const char *gw_desc_wanconn_urn(const ethp2p_gateway *gw) {
  return gw->cfg.policy.igd_version == 1 ? "urn:schemas-upnp-org:device:WANConnectionDevice:1"
                                         : "urn:schemas-upnp-org:device:WANConnectionDevice:2";
}
const char *gw_desc_wanip_urn(const ethp2p_gateway *gw) {
  return gw->cfg.policy.igd_version == 1 ? "urn:schemas-upnp-org:service:WANIPConnection:1"
                                         : "urn:schemas-upnp-org:service:WANIPConnection:2";
}

/* ---- root description ------------------------------------------------------ */

static void service(gw_buf *b, const char *type, const char *id, const char *scpd, const char *ctl,
                    const char *evt) {
  gw_buf_printf(b,
                "<service><serviceType>%s</serviceType><serviceId>%s</serviceId>"
                "<SCPDURL>%s</SCPDURL><controlURL>%s</controlURL><eventSubURL>%s</eventSubURL>"
                "</service>",
                type, id, scpd, ctl, evt);
}

void gw_desc_uuid(const ethp2p_gateway *gw, int which, char *buf, size_t size) {
  const char *uuid = gw->cfg.uuid;
  size_t n = strlen(uuid);
  char last = n ? uuid[n - 1] : '0';
  char suffix = last;
  if (which == 1)
    suffix = last == '0' ? '1' : '0';
  else if (which == 2)
    suffix = last == '2' ? '3' : '2';
  snprintf(buf, size, "%.*s%c", (int)(n ? n - 1 : 0), uuid, suffix);
}

static void device_head(gw_buf *b, const ethp2p_gateway *gw, const char *type, const char *name,
                        int which) {
  char uuid[48];
  gw_desc_uuid(gw, which, uuid, sizeof uuid);
  gw_buf_printf(b,
                "<device><deviceType>%s</deviceType><friendlyName>%s</friendlyName>"
                "<manufacturer>ethp2p</manufacturer><manufacturerURL>https://example.invalid/"
                "</manufacturerURL><modelDescription>ethp2p gateway emulator</modelDescription>"
                "<modelName>ethp2p-gateway</modelName><modelNumber>0.1</modelNumber>"
                "<serialNumber>00000000</serialNumber><UDN>uuid:%s</UDN>",
                type, name, uuid);
}

static int root_desc(const ethp2p_gateway *gw, gw_buf *b) {
  char lan[ETHP2P_ADDRSTRLEN];
  ethp2p_addr_format(&gw->cfg.lan_addr, false, lan, sizeof lan);
  gw_buf_puts(b, "<?xml version=\"1.0\"?>\r\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
                 "<specVersion><major>1</major><minor>1</minor></specVersion>");
  device_head(b, gw, gw_desc_igd_urn(gw), "ethp2p gateway", 0);
  gw_buf_puts(b, "<serviceList>");
  service(b, GW_URN_L3F, "urn:upnp-org:serviceId:L3Forwarding1", GW_PATH_SCPD_L3F, GW_PATH_CTL_L3F,
          "/evt/L3F");
  gw_buf_puts(b, "</serviceList><deviceList>");
  device_head(b, gw, gw_desc_wandev_urn(gw), "WANDevice", 1);
  gw_buf_puts(b, "<serviceList>");
  service(b, GW_URN_CIF, "urn:upnp-org:serviceId:WANCommonIFC1", GW_PATH_SCPD_CIF, GW_PATH_CTL_CIF,
          "/evt/CmnIfCfg");
  gw_buf_puts(b, "</serviceList><deviceList>");
  device_head(b, gw, gw_desc_wanconn_urn(gw), "WANConnectionDevice", 2);
  gw_buf_puts(b, "<serviceList>");
  service(b, gw_desc_wanip_urn(gw), "urn:upnp-org:serviceId:WANIPConn1", GW_PATH_SCPD_IP,
          GW_PATH_CTL_IP, GW_PATH_EVT);
  gw_buf_puts(b, "</serviceList></device></deviceList></device></deviceList>");
  gw_buf_printf(b, "<presentationURL>http://%s/</presentationURL></device></root>\r\n", lan);
  return 0;
}

/* ---- SCPDs ------------------------------------------------------------------ */

typedef struct arg_def {
  const char *name;
  bool out;
  const char *var;
} arg_def;

static void action(gw_buf *b, const char *name, const arg_def *args, size_t n) {
  gw_buf_printf(b, "<action><name>%s</name>", name);
  if (n > 0) {
    gw_buf_puts(b, "<argumentList>");
    for (size_t i = 0; i < n; i++)
      gw_buf_printf(b,
                    "<argument><name>%s</name><direction>%s</direction>"
                    "<relatedStateVariable>%s</relatedStateVariable></argument>",
                    args[i].name, args[i].out ? "out" : "in", args[i].var);
    gw_buf_puts(b, "</argumentList>");
  }
  gw_buf_puts(b, "</action>");
}

static void var(gw_buf *b, const char *name, const char *type, bool events) {
  gw_buf_printf(b,
                "<stateVariable sendEvents=\"%s\"><name>%s</name><dataType>%s</dataType>"
                "</stateVariable>",
                events ? "yes" : "no", name, type);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const arg_def add_args[] = {
    {"NewRemoteHost", false, "RemoteHost"},
    {"NewExternalPort", false, "ExternalPort"},
    {"NewProtocol", false, "PortMappingProtocol"},
    {"NewInternalPort", false, "InternalPort"},
    {"NewInternalClient", false, "InternalClient"},
    {"NewEnabled", false, "PortMappingEnabled"},
    {"NewPortMappingDescription", false, "PortMappingDescription"},
    {"NewLeaseDuration", false, "PortMappingLeaseDuration"},
};
static const arg_def add_any_args[] = {
    {"NewRemoteHost", false, "RemoteHost"},
    {"NewExternalPort", false, "ExternalPort"},
    {"NewProtocol", false, "PortMappingProtocol"},
    {"NewInternalPort", false, "InternalPort"},
    {"NewInternalClient", false, "InternalClient"},
    {"NewEnabled", false, "PortMappingEnabled"},
    {"NewPortMappingDescription", false, "PortMappingDescription"},
    {"NewLeaseDuration", false, "PortMappingLeaseDuration"},
    {"NewReservedPort", true, "ExternalPort"},
};
static const arg_def del_args[] = {
    {"NewRemoteHost", false, "RemoteHost"},
    {"NewExternalPort", false, "ExternalPort"},
    {"NewProtocol", false, "PortMappingProtocol"},
};
static const arg_def generic_args[] = {
    {"NewPortMappingIndex", false, "PortMappingNumberOfEntries"},
    {"NewRemoteHost", true, "RemoteHost"},
    {"NewExternalPort", true, "ExternalPort"},
    {"NewProtocol", true, "PortMappingProtocol"},
    {"NewInternalPort", true, "InternalPort"},
    {"NewInternalClient", true, "InternalClient"},
    {"NewEnabled", true, "PortMappingEnabled"},
    {"NewPortMappingDescription", true, "PortMappingDescription"},
    {"NewLeaseDuration", true, "PortMappingLeaseDuration"},
};
static const arg_def specific_args[] = {
    {"NewRemoteHost", false, "RemoteHost"},
    {"NewExternalPort", false, "ExternalPort"},
    {"NewProtocol", false, "PortMappingProtocol"},
    {"NewInternalPort", true, "InternalPort"},
    {"NewInternalClient", true, "InternalClient"},
    {"NewEnabled", true, "PortMappingEnabled"},
    {"NewPortMappingDescription", true, "PortMappingDescription"},
    {"NewLeaseDuration", true, "PortMappingLeaseDuration"},
};
static const arg_def list_args[] = {
    {"NewStartPort", false, "ExternalPort"},
    {"NewEndPort", false, "ExternalPort"},
    {"NewProtocol", false, "PortMappingProtocol"},
    {"NewManage", false, "A_ARG_TYPE_Manage"},
    {"NewNumberOfPorts", false, "PortMappingNumberOfEntries"},
    {"NewPortListing", true, "A_ARG_TYPE_PortListing"},
};
static const arg_def delrange_args[] = {
    {"NewStartPort", false, "ExternalPort"},
    {"NewEndPort", false, "ExternalPort"},
    {"NewProtocol", false, "PortMappingProtocol"},
    {"NewManage", false, "A_ARG_TYPE_Manage"},
};
static const arg_def extip_args[] = {{"NewExternalIPAddress", true, "ExternalIPAddress"}};
static const arg_def status_args[] = {
    {"NewConnectionStatus", true, "ConnectionStatus"},
    {"NewLastConnectionError", true, "LastConnectionError"},
    {"NewUptime", true, "Uptime"},
};
static const arg_def rsip_args[] = {
    {"NewRSIPAvailable", true, "RSIPAvailable"},
    {"NewNATEnabled", true, "NATEnabled"},
};
static const arg_def conntype_args[] = {
    {"NewConnectionType", true, "ConnectionType"},
    {"NewPossibleConnectionTypes", true, "PossibleConnectionTypes"},
};

static int scpd_wanip(const ethp2p_gateway *gw, gw_buf *b) {
  gw_buf_puts(b, "<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
                 "<specVersion><major>1</major><minor>0</minor></specVersion><actionList>");
  action(b, "GetConnectionTypeInfo", conntype_args, N(conntype_args));
  action(b, "GetStatusInfo", status_args, N(status_args));
  if ((gw->cfg.quirks & ETHP2P_GW_Q_NO_NATRSIP) == 0)
    action(b, "GetNATRSIPStatus", rsip_args, N(rsip_args));
  action(b, "GetGenericPortMappingEntry", generic_args, N(generic_args));
  action(b, "GetSpecificPortMappingEntry", specific_args, N(specific_args));
  action(b, "AddPortMapping", add_args, N(add_args));
  if (gw->cfg.policy.igd_version >= 2) {
    action(b, "AddAnyPortMapping", add_any_args, N(add_any_args));
    action(b, "DeletePortMappingRange", delrange_args, N(delrange_args));
    action(b, "GetListOfPortMappings", list_args, N(list_args));
  }
  action(b, "DeletePortMapping", del_args, N(del_args));
  action(b, "GetExternalIPAddress", extip_args, N(extip_args));
  gw_buf_puts(b, "</actionList><serviceStateTable>");
  var(b, "ConnectionType", "string", false);
  var(b, "PossibleConnectionTypes", "string", true);
  var(b, "ConnectionStatus", "string", true);
  var(b, "Uptime", "ui4", false);
  var(b, "LastConnectionError", "string", false);
  var(b, "RSIPAvailable", "boolean", false);
  var(b, "NATEnabled", "boolean", false);
  var(b, "ExternalIPAddress", "string", true);
  var(b, "PortMappingNumberOfEntries", "ui2", true);
  var(b, "PortMappingEnabled", "boolean", false);
  var(b, "PortMappingLeaseDuration", "ui4", false);
  var(b, "RemoteHost", "string", false);
  var(b, "ExternalPort", "ui2", false);
  var(b, "InternalPort", "ui2", false);
  var(b, "PortMappingProtocol", "string", false);
  var(b, "InternalClient", "string", false);
  var(b, "PortMappingDescription", "string", false);
  if (gw->cfg.policy.igd_version >= 2) {
    var(b, "A_ARG_TYPE_Manage", "boolean", false);
    var(b, "A_ARG_TYPE_PortListing", "string", false);
  }
  gw_buf_puts(b, "</serviceStateTable></scpd>\r\n");
  return 0;
}

static const arg_def link_args[] = {
    {"NewWANAccessType", true, "WANAccessType"},
    {"NewLayer1UpstreamMaxBitRate", true, "Layer1UpstreamMaxBitRate"},
    {"NewLayer1DownstreamMaxBitRate", true, "Layer1DownstreamMaxBitRate"},
    {"NewPhysicalLinkStatus", true, "PhysicalLinkStatus"},
};
static const arg_def sent_args[] = {{"NewTotalBytesSent", true, "TotalBytesSent"}};
static const arg_def recv_args[] = {{"NewTotalBytesReceived", true, "TotalBytesReceived"}};
static const arg_def psent_args[] = {{"NewTotalPacketsSent", true, "TotalPacketsSent"}};
static const arg_def precv_args[] = {{"NewTotalPacketsReceived", true, "TotalPacketsReceived"}};

static int scpd_cif(gw_buf *b) {
  gw_buf_puts(b, "<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
                 "<specVersion><major>1</major><minor>0</minor></specVersion><actionList>");
  action(b, "GetCommonLinkProperties", link_args, N(link_args));
  action(b, "GetTotalBytesSent", sent_args, N(sent_args));
  action(b, "GetTotalBytesReceived", recv_args, N(recv_args));
  action(b, "GetTotalPacketsSent", psent_args, N(psent_args));
  action(b, "GetTotalPacketsReceived", precv_args, N(precv_args));
  gw_buf_puts(b, "</actionList><serviceStateTable>");
  var(b, "WANAccessType", "string", false);
  var(b, "Layer1UpstreamMaxBitRate", "ui4", false);
  var(b, "Layer1DownstreamMaxBitRate", "ui4", false);
  var(b, "PhysicalLinkStatus", "string", true);
  var(b, "TotalBytesSent", "ui4", false);
  var(b, "TotalBytesReceived", "ui4", false);
  var(b, "TotalPacketsSent", "ui4", false);
  var(b, "TotalPacketsReceived", "ui4", false);
  gw_buf_puts(b, "</serviceStateTable></scpd>\r\n");
  return 0;
}

static const arg_def l3f_args[] = {
    {"NewDefaultConnectionService", true, "DefaultConnectionService"}};

static int scpd_l3f(gw_buf *b) {
  gw_buf_puts(b, "<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
                 "<specVersion><major>1</major><minor>0</minor></specVersion><actionList>");
  action(b, "GetDefaultConnectionService", l3f_args, N(l3f_args));
  gw_buf_puts(b, "</actionList><serviceStateTable>");
  var(b, "DefaultConnectionService", "string", true);
  gw_buf_puts(b, "</serviceStateTable></scpd>\r\n");
  return 0;
}

int gw_desc_get(const ethp2p_gateway *gw, const char *path, char **out, size_t *len) {
  gw_buf b;
  *out = NULL;
  *len = 0;
  gw_buf_init(&b, 64 * 1024);
  if (strcmp(path, GW_PATH_ROOTDESC) == 0)
    root_desc(gw, &b);
  else if (strcmp(path, GW_PATH_SCPD_IP) == 0)
    scpd_wanip(gw, &b);
  else if (strcmp(path, GW_PATH_SCPD_CIF) == 0)
    scpd_cif(&b);
  else if (strcmp(path, GW_PATH_SCPD_L3F) == 0)
    scpd_l3f(&b);
  else
    return ETHP2P_ENOTFOUND;
  if (b.failed) {
    gw_buf_free(&b);
    return ETHP2P_ENOMEM;
  }
  *out = b.p;
  *len = b.len;
  return 0;
}
