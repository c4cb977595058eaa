/*
 * nat/pinhole_codec.h — UPnP IGDv2 WANIPv6FirewallControl:1 control messages
 *
 * Pure: no I/O.  Builds the SOAP request bodies of the six actions of the service
 * (UPnP-gw-WANIPv6FirewallControl-v1-Service, section 2.4) into caller buffers, and
 * parses the responses and UPnP faults (UDA 1.1 section 3.2.2) into one result.
 *
 *   GetFirewallStatus          -> FirewallEnabled, InboundPinholeAllowed (boolean)
 *   GetOutboundPinholeTimeout  RemoteHost, RemotePort, InternalClient, InternalPort,
 *                              Protocol -> OutboundPinholeTimeout (ui4, seconds)
 *   AddPinhole                 RemoteHost, RemotePort, InternalClient, InternalPort,
 *                              Protocol, LeaseTime (1..86400) -> UniqueID (ui2)
 *   UpdatePinhole              UniqueID, NewLeaseTime (1..86400)
 *   DeletePinhole              UniqueID
 *   CheckPinholeWorking        UniqueID -> IsWorking (boolean)
 *
 * Wildcards (section 2.3): RemoteHost "" (any remote address), RemotePort 0 (any
 * remote port).  This codec never wildcards InternalClient, InternalPort or Protocol
 * (routers refuse them: 706, 707, 708), so it refuses to build such requests.
 *
 * Errors (section 2.4, and UDA 1.1 section 3.2.2 for 4xx/6xx) map to generic statuses;
 * the router's code stays in ethp2p_pinhole_result.upnp_code for logs:
 *   606 Action not authorized               ETHP2P_EPERM
 *   701 PinholeSpaceExhausted               ETHP2P_EBUSY
 *   702 FirewallDisabled                    ETHP2P_EUNSUPP  (nothing to open: no firewall)
 *   703 InboundPinholeNotAllowed            ETHP2P_EPERM
 *   704 NoSuchEntry                         ETHP2P_ENOTFOUND
 *   705 ProtocolNotSupported                ETHP2P_EUNSUPP
 *   706 InternalPortWildcardingNotAllowed   ETHP2P_EINVAL
 *   707 ProtocolWildcardingNotAllowed       ETHP2P_EINVAL
 *   708 WildCardNotPermittedInSrcIP         ETHP2P_EINVAL  (the name miniupnpd 2.3.1 sends)
 *   709 NoTrafficReceived                   ETHP2P_ESTATE  (CheckPinholeWorking: unknown yet)
 *   401 Invalid Action                      ETHP2P_EUNSUPP
 *   402 Invalid Args, 600..605              ETHP2P_EINVAL
 *   501 Action Failed                       ETHP2P_EIO
 *   any other code                          ETHP2P_EREFUSED
 */
#ifndef ETHP2P_NAT_PINHOLE_CODEC_H
#define ETHP2P_NAT_PINHOLE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_PINHOLE_SERVICE "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"
#define ETHP2P_PINHOLE_LEASE_MIN 1u
#define ETHP2P_PINHOLE_LEASE_MAX 86400u
#define ETHP2P_PINHOLE_TCP 6
#define ETHP2P_PINHOLE_UDP 17
/* Largest request body the builder writes (the AddPinhole envelope with two full IPv6
 * addresses is about 600 bytes). */
#define ETHP2P_PINHOLE_MAX_REQUEST 1024

typedef enum ethp2p_pinhole_action {
  ETHP2P_PINHOLE_GET_FIREWALL_STATUS = 0,
  ETHP2P_PINHOLE_GET_OUTBOUND_TIMEOUT,
  ETHP2P_PINHOLE_ADD,
  ETHP2P_PINHOLE_UPDATE,
  ETHP2P_PINHOLE_DELETE,
  ETHP2P_PINHOLE_CHECK_WORKING,
} ethp2p_pinhole_action;

/* The SOAP action name ("AddPinhole"), or NULL for a value outside the enum. */
const char *ethp2p_pinhole_action_name(ethp2p_pinhole_action action);

/* The arguments of one request; which fields are read depends on the action. */
typedef struct ethp2p_pinhole_req {
  ethp2p_pinhole_action action;
  /* GetOutboundPinholeTimeout, AddPinhole: */
  bool remote_any;             /* RemoteHost "" (wildcard); else remote_host */
  ethp2p_addr remote_host;     /* IPv6; its port is ignored */
  uint16_t remote_port;        /* 0 = wildcard */
  ethp2p_addr internal_client; /* IPv6, not unspecified; its port is ignored */
  uint16_t internal_port;      /* 1..65535 */
  int protocol;                /* ETHP2P_PINHOLE_TCP or ETHP2P_PINHOLE_UDP */
  /* AddPinhole LeaseTime, UpdatePinhole NewLeaseTime: 1..86400 seconds. */
  uint32_t lease_s;
  /* UpdatePinhole, DeletePinhole, CheckPinholeWorking: */
  uint16_t unique_id;
} ethp2p_pinhole_req;

/*
 * Builds the SOAP envelope of req into buf (NUL-terminated when there is room; the NUL
 * is not counted in *len).  Send it with ethp2p_pinhole_soap_action as SOAPAction.
 * Returns 0; ETHP2P_EINVAL (NULL, unknown action, a non-IPv6 or unspecified
 * InternalClient, a non-IPv6 RemoteHost, InternalPort 0, protocol not 6 or 17);
 * ETHP2P_ERANGE (a lease outside 1..86400: refused before anything is sent);
 * ETHP2P_ESPACE (buf too small; *len = size needed).
 */
int ethp2p_pinhole_request_build(char *buf, size_t size, size_t *len,
                                 const ethp2p_pinhole_req *req);

/* Writes the quoted SOAPAction header value "\"<service>#<action>\"" NUL-terminated.
 * Returns 0, ETHP2P_EINVAL (unknown action), ETHP2P_ESPACE. */
int ethp2p_pinhole_soap_action(char *buf, size_t size, ethp2p_pinhole_action action);

/* What a response said. */
typedef struct ethp2p_pinhole_result {
  bool firewall_enabled;        /* GetFirewallStatus */
  bool inbound_pinhole_allowed; /* GetFirewallStatus */
  uint32_t outbound_timeout_s;  /* GetOutboundPinholeTimeout */
  uint16_t unique_id;           /* AddPinhole */
  bool is_working;              /* CheckPinholeWorking */
  int upnp_code;                /* a fault's errorCode, 0 when none */
  char upnp_desc[128];          /* a fault's errorDescription ("" when none) */
} ethp2p_pinhole_result;

/*
 * Parses the HTTP body of the router's answer to `action` (http_status: the HTTP status
 * line's code; UDA 1.1 section 3.2.2 sends faults with 500).  *out is zeroed first.
 * Returns 0 with the action's out-arguments filled; for a UPnP fault the mapped status
 * of its code (table above) with out->upnp_code/upnp_desc set; ETHP2P_EPROTO (a success
 * status with a fault, a response to another action, a required out-argument missing or
 * not a valid UPnP boolean/ui2/ui4, a non-200/500 status); parse errors of the SOAP
 * envelope (ETHP2P_ESYNTAX, ETHP2P_ETOOBIG, ETHP2P_EDEPTH, ETHP2P_EUNSUPP, ETHP2P_ENOMEM).
 * Never reads past body[len].
 */
int ethp2p_pinhole_response_parse(ethp2p_pinhole_result *out, ethp2p_pinhole_action action,
                                  int http_status, const char *body, size_t len, ethp2p_diag *diag);

/* The generic status for a UPnP error code (table above); 0 for code 0. */
int ethp2p_pinhole_fault_status(int upnp_code);

#ifdef __cplusplus
}
#endif
#endif
