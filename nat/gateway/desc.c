/*
 * nat/gateway/desc.c — the UPnP documents the gateway serves: the root device
 * description (UDA 1.1 §2.3) of an InternetGatewayDevice:1 or :2 with one
 * WANDevice, one WANConnectionDevice and a WANIPConnection service, and the
 * service descriptions (SCPD, UDA 1.1 §2.5) of WANIPConnection,
 * WANCommonInterfaceConfig and Layer3Forwarding, rendered into core/buf.h
 * buffers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "nat/gateway/gw_internal.h"

/* ---- XML text ----------------------------------------------------------- */

void gw_buf_xml(ethp2p_buf *b, const char *s) {
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '&':
      ethp2p_buf_puts(b, "&amp;");
      break;
    case '<':
      ethp2p_buf_puts(b, "&lt;");
      break;
    case '>':
      ethp2p_buf_puts(b, "&gt;");
      break;
    case '"':
      ethp2p_buf_puts(b, "&quot;");
      break;
    case '\'':
      ethp2p_buf_puts(b, "&apos;");
      break;
    default:
      ethp2p_buf_add(b, s, 1);
    }
  }
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

static void service(ethp2p_buf *b, const char *type, const char *id, const char *scpd,
                    const char *ctl, const char *evt) {
  ethp2p_buf_printf(b,
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

static void device_head(ethp2p_buf *b, const ethp2p_gateway *gw, const char *type, const char *name,
                        int which) {
  char uuid[48];
  gw_desc_uuid(gw, which, uuid, sizeof uuid);
  ethp2p_buf_printf(b,
                    "<device><deviceType>%s</deviceType><friendlyName>%s</friendlyName>"
                    "<manufacturer>ethp2p</manufacturer><manufacturerURL>https://example.invalid/"
                    "</manufacturerURL><modelDescription>ethp2p gateway emulator</modelDescription>"
                    "<modelName>ethp2p-gateway</modelName><modelNumber>0.1</modelNumber>"
                    "<serialNumber>00000000</serialNumber><UDN>uuid:%s</UDN>",
                    type, name, uuid);
}

static int root_desc(const ethp2p_gateway *gw, ethp2p_buf *b) {
  char lan[ETHP2P_ADDRSTRLEN];
  ethp2p_addr_format(&gw->cfg.lan_addr, false, lan, sizeof lan);
  ethp2p_buf_puts(b, "<?xml version=\"1.0\"?>\r\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
                     "<specVersion><major>1</major><minor>1</minor></specVersion>");
  device_head(b, gw, gw_desc_igd_urn(gw), "ethp2p gateway", 0);
  ethp2p_buf_puts(b, "<serviceList>");
  service(b, GW_URN_L3F, "urn:upnp-org:serviceId:L3Forwarding1", GW_PATH_SCPD_L3F, GW_PATH_CTL_L3F,
          "/evt/L3F");
  ethp2p_buf_puts(b, "</serviceList><deviceList>");
  device_head(b, gw, gw_desc_wandev_urn(gw), "WANDevice", 1);
  ethp2p_buf_puts(b, "<serviceList>");
  service(b, GW_URN_CIF, "urn:upnp-org:serviceId:WANCommonIFC1", GW_PATH_SCPD_CIF, GW_PATH_CTL_CIF,
          "/evt/CmnIfCfg");
  ethp2p_buf_puts(b, "</serviceList><deviceList>");
  device_head(b, gw, gw_desc_wanconn_urn(gw), "WANConnectionDevice", 2);
  ethp2p_buf_puts(b, "<serviceList>");
  service(b, gw_desc_wanip_urn(gw), "urn:upnp-org:serviceId:WANIPConn1", GW_PATH_SCPD_IP,
          GW_PATH_CTL_IP, GW_PATH_EVT);
  ethp2p_buf_puts(b, "</serviceList></device></deviceList></device></deviceList>");
  ethp2p_buf_printf(b, "<presentationURL>http://%s/</presentationURL></device></root>\r\n", lan);
  return 0;
}

/* ---- SCPDs ------------------------------------------------------------------ */

typedef struct arg_def {
  const char *name;
  bool out;
  const char *var;
} arg_def;

static void action(ethp2p_buf *b, const char *name, const arg_def *args, size_t n) {
  ethp2p_buf_printf(b, "<action><name>%s</name>", name);
  if (n > 0) {
    ethp2p_buf_puts(b, "<argumentList>");
    for (size_t i = 0; i < n; i++)
      ethp2p_buf_printf(b,
                        "<argument><name>%s</name><direction>%s</direction>"
                        "<relatedStateVariable>%s</relatedStateVariable></argument>",
                        args[i].name, args[i].out ? "out" : "in", args[i].var);
    ethp2p_buf_puts(b, "</argumentList>");
  }
  ethp2p_buf_puts(b, "</action>");
}

static void var(ethp2p_buf *b, const char *name, const char *type, bool events) {
  ethp2p_buf_printf(b,
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

static int scpd_wanip(const ethp2p_gateway *gw, ethp2p_buf *b) {
  ethp2p_buf_puts(b, "<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
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
  ethp2p_buf_puts(b, "</actionList><serviceStateTable>");
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
  ethp2p_buf_puts(b, "</serviceStateTable></scpd>\r\n");
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

static int scpd_cif(ethp2p_buf *b) {
  ethp2p_buf_puts(b, "<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
                     "<specVersion><major>1</major><minor>0</minor></specVersion><actionList>");
  action(b, "GetCommonLinkProperties", link_args, N(link_args));
  action(b, "GetTotalBytesSent", sent_args, N(sent_args));
  action(b, "GetTotalBytesReceived", recv_args, N(recv_args));
  action(b, "GetTotalPacketsSent", psent_args, N(psent_args));
  action(b, "GetTotalPacketsReceived", precv_args, N(precv_args));
  ethp2p_buf_puts(b, "</actionList><serviceStateTable>");
  var(b, "WANAccessType", "string", false);
  var(b, "Layer1UpstreamMaxBitRate", "ui4", false);
  var(b, "Layer1DownstreamMaxBitRate", "ui4", false);
  var(b, "PhysicalLinkStatus", "string", true);
  var(b, "TotalBytesSent", "ui4", false);
  var(b, "TotalBytesReceived", "ui4", false);
  var(b, "TotalPacketsSent", "ui4", false);
  var(b, "TotalPacketsReceived", "ui4", false);
  ethp2p_buf_puts(b, "</serviceStateTable></scpd>\r\n");
  return 0;
}

static const arg_def l3f_args[] = {
    {"NewDefaultConnectionService", true, "DefaultConnectionService"}};

static int scpd_l3f(ethp2p_buf *b) {
  ethp2p_buf_puts(b, "<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
                     "<specVersion><major>1</major><minor>0</minor></specVersion><actionList>");
  action(b, "GetDefaultConnectionService", l3f_args, N(l3f_args));
  ethp2p_buf_puts(b, "</actionList><serviceStateTable>");
  var(b, "DefaultConnectionService", "string", true);
  ethp2p_buf_puts(b, "</serviceStateTable></scpd>\r\n");
  return 0;
}

int gw_desc_get(const ethp2p_gateway *gw, const char *path, char **out, size_t *len) {
  ethp2p_buf b;
  *out = NULL;
  *len = 0;
  ethp2p_buf_init(&b, 64 * 1024);
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
  if (b.err != 0) {
    ethp2p_buf_free(&b);
    return ETHP2P_ENOMEM;
  }
  *out = b.p;
  *len = b.len;
  return 0;
}
