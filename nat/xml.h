/*
 * nat/xml.h — UPnP XML: device descriptions (UDA 1.1 §2.3) and SOAP 1.1 control messages
 * (UDA 1.1 §3.2), parsed with expat, plus builders with XML escaping.
 *
 * Pure: no I/O.  The UPnP client parses descriptions and SOAP responses and builds SOAP
 * requests; the gateway emulator (nat/gateway/) parses SOAP requests and builds SOAP
 * responses and faults with the same code.
 *
 * Tolerance (real routers): namespaces are not processed; every element is matched by its
 * local name (the part after the last ':'), so missing, undeclared or unusual prefixes and
 * missing default namespaces all parse.  Text values are trimmed of XML whitespace.
 * Element and value names compare case-sensitively except service and device types, which
 * compare case-insensitively.
 *
 * Safety: input larger than ETHP2P_XML_MAX_INPUT is ETHP2P_ETOOBIG; element nesting deeper
 * than ETHP2P_XML_MAX_DEPTH is ETHP2P_EDEPTH; a document declaring entities (DOCTYPE with
 * <!ENTITY>) is refused (ETHP2P_EUNSUPP) — no router needs them and they are the
 * billion-laughs door; external entities are never loaded.  Values longer than their
 * fixed-size field are ETHP2P_ETOOBIG, never silently truncated (a truncated control URL
 * would be worse than none).
 */
#ifndef ETHP2P_NAT_XML_H
#define ETHP2P_NAT_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_XML_MAX_INPUT (64 * 1024)
#define ETHP2P_XML_MAX_DEPTH 32

/* ---------------------------------------------------------------------------
 * Device descriptions.
 * ------------------------------------------------------------------------- */
#define ETHP2P_UPNP_SVC_WANIP2 "urn:schemas-upnp-org:service:WANIPConnection:2"
#define ETHP2P_UPNP_SVC_WANIP1 "urn:schemas-upnp-org:service:WANIPConnection:1"
#define ETHP2P_UPNP_SVC_WANPPP1 "urn:schemas-upnp-org:service:WANPPPConnection:1"
/* IGDv2's IPv6 firewall (UPnP-gw-WANIPv6FirewallControl-v1-Service): pinholes, no mapping. */
#define ETHP2P_UPNP_SVC_WANIP6FC1 "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"

/* The services a client can use.  The three IPv4 port-mapping services come first, best
 * first (their enum order is the preference of nat/upnp.c); WANIP6FC1 is the IPv6 firewall
 * (nat/upnp6.c), never a port-mapping service: IPv4 clients must skip it. */
typedef enum ethp2p_upnp_svc_kind {
  ETHP2P_UPNP_SVC_NONE = 0,
  ETHP2P_UPNP_SVC_KIND_WANIP2 = 1,
  ETHP2P_UPNP_SVC_KIND_WANIP1 = 2,
  ETHP2P_UPNP_SVC_KIND_WANPPP1 = 3,
  ETHP2P_UPNP_SVC_KIND_WANIP6FC1 = 4,
} ethp2p_upnp_svc_kind;

/* Maps a serviceType string to its kind (case-insensitive, trimmed); NONE for others. */
ethp2p_upnp_svc_kind ethp2p_upnp_svc_kind_of(const char *service_type);

typedef struct ethp2p_upnp_service {
  ethp2p_upnp_svc_kind kind;
  char service_type[128]; /* as written, trimmed */
  char service_id[128];
  char control_url[256]; /* as written (may be relative); resolve with ethp2p_http_url_resolve */
  char scpd_url[256];
  char event_url[256];
  char device_type[128]; /* deviceType of the device that lists the service */
} ethp2p_upnp_service;

#define ETHP2P_UPNP_MAX_SERVICES 8

typedef struct ethp2p_upnp_desc {
  char url_base[256];         /* <URLBase> (UDA 1.0; "" if absent) */
  char root_device_type[128]; /* deviceType of the root device */
  char friendly_name[128];    /* of the root device ("" if absent) */
  size_t nservices;
  /* WANIPConnection:1/:2, WANPPPConnection:1 and WANIPv6FirewallControl:1 services found
   * anywhere in the device tree (embedded devices included), in document order.  Other
   * services are skipped. */
  ethp2p_upnp_service services[ETHP2P_UPNP_MAX_SERVICES];
} ethp2p_upnp_desc;

/*
 * Parses a device description.  Services without a controlURL are skipped; more than
 * ETHP2P_UPNP_MAX_SERVICES usable services keep the first ones.
 * Returns 0; ETHP2P_ESYNTAX (not well-formed XML, or no <root>/<device>); ETHP2P_ETOOBIG;
 * ETHP2P_EDEPTH; ETHP2P_EUNSUPP (entity declarations); ETHP2P_ENOMEM.  *out is zeroed first.
 * A description with no usable service parses fine (nservices = 0).
 */
int ethp2p_upnp_desc_parse(ethp2p_upnp_desc *out, const char *xml, size_t len, ethp2p_diag *diag);

/* The base URL control URLs are relative to: url_base when set, else `location`. */
const char *ethp2p_upnp_desc_base(const ethp2p_upnp_desc *desc, const char *location);

/* ---------------------------------------------------------------------------
 * SOAP messages (requests, responses and faults share one parsed form).
 *
 *   <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
 *       s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
 *     <s:Body>
 *       <u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">
 *         <NewRemoteHost></NewRemoteHost> ...
 *       </u:AddPortMapping>
 *     </s:Body>
 *   </s:Envelope>
 *
 * Fault (UDA 1.1 §3.2.2):
 *   <s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>
 *     <detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">
 *       <errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription>
 *     </UPnPError></detail></s:Fault>
 * ------------------------------------------------------------------------- */
#define ETHP2P_SOAP_MAX_ARGS 24

typedef struct ethp2p_soap_arg {
  char name[64];   /* local name, e.g. "NewExternalPort" */
  char value[256]; /* text, entities decoded, trimmed */
} ethp2p_soap_arg;

typedef struct ethp2p_soap_msg {
  /* Local name of the first element inside Body: "AddPortMapping" in a request,
   * "AddPortMappingResponse" in a response, "Fault" in a fault. */
  char action[64];
  char service_type[128]; /* the action element's namespace (xmlns or xmlns:prefix), or "" */
  size_t nargs;
  ethp2p_soap_arg args[ETHP2P_SOAP_MAX_ARGS]; /* the action element's children, in order */
  bool is_fault;
  char fault_code[64];       /* faultcode text, e.g. "s:Client" */
  char fault_string[128];    /* faultstring, e.g. "UPnPError" */
  int upnp_error_code;       /* detail/UPnPError/errorCode, 0 if absent or unreadable */
  char upnp_error_desc[128]; /* detail/UPnPError/errorDescription */
} ethp2p_soap_msg;

/*
 * Parses a SOAP envelope (request, response or fault).  Requires an Envelope root with a
 * Body holding one element.  More than ETHP2P_SOAP_MAX_ARGS arguments is ETHP2P_ETOOBIG.
 * Returns 0, ETHP2P_ESYNTAX, ETHP2P_ETOOBIG, ETHP2P_EDEPTH, ETHP2P_EUNSUPP, ETHP2P_ENOMEM.
 * *out is zeroed first.
 */
int ethp2p_soap_parse(ethp2p_soap_msg *out, const char *xml, size_t len, ethp2p_diag *diag);

/*
 * Parses a response to `action` (e.g. "AddPortMapping"): success when the body element is
 * "<action>Response" (returns 0), a fault (returns ETHP2P_EREFUSED with out->is_fault and
 * the UPnP error filled), anything else ETHP2P_EPROTO.  Parse errors as ethp2p_soap_parse.
 */
int ethp2p_soap_response_parse(ethp2p_soap_msg *out, const char *action, const char *xml,
                               size_t len, ethp2p_diag *diag);

/*
 * Parses a control request (gateway side): the body element must not be a fault and must
 * not end in "Response"; action = its local name.  Returns as ethp2p_soap_parse, or
 * ETHP2P_EPROTO for a response or fault.
 */
int ethp2p_soap_request_parse(ethp2p_soap_msg *out, const char *xml, size_t len, ethp2p_diag *diag);

/* The value of the argument with local name `name`, or NULL. */
const char *ethp2p_soap_msg_arg(const ethp2p_soap_msg *msg, const char *name);

/* A name/value pair for the builders. */
typedef struct ethp2p_soap_field {
  const char *name;
  const char *value;
} ethp2p_soap_field;

/*
 * Builds a request envelope: <u:ACTION xmlns:u="SERVICE_TYPE"> with the fields as child
 * elements (values XML-escaped).  Use the SOAPAction header "SERVICE_TYPE#ACTION" (quoted)
 * with it — see ethp2p_soap_action_header.
 * Returns 0, ETHP2P_EINVAL (NULL, or a name that is not a plain XML name), ETHP2P_ESPACE
 * (*len = size needed).  buf is NUL-terminated when there is room (not counted in *len).
 */
int ethp2p_soap_request_build(char *buf, size_t size, size_t *len, const char *service_type,
                              const char *action, const ethp2p_soap_field *fields, size_t nfields);

/* Builds a response envelope: <u:ACTIONResponse xmlns:u="SERVICE_TYPE"> with the fields. */
int ethp2p_soap_response_build(char *buf, size_t size, size_t *len, const char *service_type,
                               const char *action, const ethp2p_soap_field *fields, size_t nfields);

/* Builds a UPnPError fault envelope (send it with HTTP 500).  desc NULL = the standard name
 * from ethp2p_upnp_error_name. */
int ethp2p_soap_fault_build(char *buf, size_t size, size_t *len, int code, const char *desc);

/* Writes "\"SERVICE_TYPE#ACTION\"" (with the quotes, UDA 1.1 §3.2.1) NUL-terminated. */
int ethp2p_soap_action_header(char *buf, size_t size, const char *service_type, const char *action);

/*
 * Parses a SOAPAction header value (gateway side): optional surrounding quotes,
 * "SERVICE_TYPE#ACTION".  Writes both parts NUL-terminated.  Returns 0, ETHP2P_ESYNTAX
 * (no '#'), ETHP2P_ETOOBIG.
 */
int ethp2p_soap_action_parse(const char *value, char *service_type, size_t st_size, char *action,
                             size_t action_size);

/* ---------------------------------------------------------------------------
 * GENA event bodies (UDA 1.1 §4.3.2):
 *
 *   <?xml version="1.0"?>
 *   <e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">
 *     <e:property><ExternalIPAddress>203.0.113.7</ExternalIPAddress></e:property>
 *     <e:property><ConnectionStatus>Connected</ConnectionStatus></e:property>
 *   </e:propertyset>
 *
 * Each <property> holds one evented state variable.  Matched by local names as above.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_upnp_propertyset {
  size_t nvars;
  ethp2p_soap_arg vars[ETHP2P_SOAP_MAX_ARGS]; /* name = variable name, value = its text */
} ethp2p_upnp_propertyset;

/*
 * Parses a propertyset.  Requires the root <propertyset>; a <property> with no element
 * child is skipped; a variable holding child elements keeps only its text after the last
 * child (their text is never part of the value).  More than ETHP2P_SOAP_MAX_ARGS variables, or a
 * name/value over its field, is ETHP2P_ETOOBIG. Returns 0, ETHP2P_ESYNTAX, ETHP2P_ETOOBIG,
 * ETHP2P_EDEPTH, ETHP2P_EUNSUPP, ETHP2P_ENOMEM. *out is zeroed first.
 */
int ethp2p_upnp_propertyset_parse(ethp2p_upnp_propertyset *out, const char *xml, size_t len,
                                  ethp2p_diag *diag);

/* The value of the variable `name` (the last one when repeated), or NULL. */
const char *ethp2p_upnp_propertyset_get(const ethp2p_upnp_propertyset *ps, const char *name);

/* Builds a propertyset with one <e:property> per field (names must be plain XML names,
 * values are escaped).  Returns 0, ETHP2P_EINVAL, ETHP2P_ESPACE (*len = size needed). */
int ethp2p_upnp_propertyset_build(char *buf, size_t size, size_t *len,
                                  const ethp2p_soap_field *fields, size_t nfields);

/* Escapes & < > " ' for element text or attribute values; NUL-terminated.
 * Returns 0 or ETHP2P_ESPACE (*len, if not NULL, = size needed without the NUL). */
int ethp2p_xml_escape(char *out, size_t size, size_t *len, const char *in);

/* The standard name of a UPnP control error code ("ConflictInMappingEntry" for 718,
 * "OnlyPermanentLeasesSupported" for 725, ...); "" for unknown codes. */
const char *ethp2p_upnp_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
