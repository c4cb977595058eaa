/*
 * nat/gateway/gw_internal.h — what the gateway's parts share (not installed).
 *
 *   table.c   the mapping table (one for UPnP, NAT-PMP and PCP)
 *   policy.c  router settings, quirk names, port choice
 *   gateway.c lifecycle, epoch, leases, the grant logic, announcements
 *   pmp.c     NAT-PMP and PCP server on one UDP socket (RFC 6886, RFC 6887)
 *   ssdp.c    SSDP responder
 *   http.c    bounded HTTP/1.1 server
 *   soap.c    SOAP control actions
 *   desc.c    root device description and SCPD documents
 *   gena.c    GENA eventing: subscriptions on the eventSubURL and event NOTIFYs
 */
#ifndef ETHP2P_NAT_GATEWAY_INTERNAL_H
#define ETHP2P_NAT_GATEWAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ethp2p/env.h"
#include "ethp2p/gateway.h"

/* ---- table.c ----------------------------------------------------------- */

typedef struct gw_table {
  ethp2p_gw_mapping *items; /* insertion order; indices are GetGeneric indices */
  size_t n;
  size_t cap;
} gw_table;

int gw_table_init(gw_table *t, size_t cap);
void gw_table_free(gw_table *t);
/* Index of the mapping with this protocol and external port, or -1. */
long gw_table_find_ext(const gw_table *t, ethp2p_proto proto, uint16_t ext_port);
/* Index of the mapping for this internal client IP and port (first one), or -1. */
long gw_table_find_int(const gw_table *t, ethp2p_proto proto, const ethp2p_addr *internal);
/* Number of mappings whose internal client IP is ip. */
size_t gw_table_count_client(const gw_table *t, const ethp2p_addr *ip);
/* Appends a copy.  Returns 0 or ETHP2P_ESPACE. */
int gw_table_add(gw_table *t, const ethp2p_gw_mapping *m);
/* Removes index i, keeping the order of the others. */
void gw_table_remove(gw_table *t, size_t i);
/* Earliest expiry of a timed mapping, or 0 if none. */
ethp2p_time gw_table_next_expiry(const gw_table *t);

/* ---- policy.c ---------------------------------------------------------- */

/* Port choice for a new mapping.  rnd returns a random 32-bit value. */
typedef uint32_t (*gw_rand_fn)(void *ctx);
/* Finds a free allowed external port: `hint` first unless skip_hint, then
 * upward (wrapping) through the allowed ranges; with random_first, up to 64
 * random allowed ports first.  Returns the port or 0 if none is free. */
uint16_t gw_policy_pick_port(const ethp2p_gw_policy *p, const gw_table *t, ethp2p_proto proto,
                             uint16_t hint, bool skip_hint, bool random_first, gw_rand_fn rnd,
                             void *ctx);
/* Applies the lease cap: 0 (permanent) or longer than the cap becomes the cap. */
uint32_t gw_policy_cap_lease(const ethp2p_gw_policy *p, uint32_t lease_s);
/* Checks a policy for consistency.  Returns 0 or ETHP2P_EINVAL. */
int gw_policy_check(const ethp2p_gw_policy *p);

/* ---- gateway.c: the grant logic shared by the three protocols ----------- */

typedef enum gw_status {
  GW_OK = 0,
  GW_E_NOT_REQUESTER,    /* internal client is not the requesting host */
  GW_E_PORT_NOT_ALLOWED, /* the exact port asked for is outside the allowed ranges */
  GW_E_CONFLICT,         /* the exact port is mapped to another client */
  GW_E_NO_PORTS,         /* no free allowed port */
  GW_E_TABLE_FULL,       /* max_mappings reached */
  GW_E_CLIENT_QUOTA,     /* max_per_client reached */
  GW_E_NONCE,            /* PCP: the mapping belongs to another nonce */
  GW_E_PERMANENT_ONLY,   /* policy accepts only lease 0 */
  GW_E_MIRROR,           /* the forwarder refused */
  GW_E_NOT_FOUND,        /* delete/lookup of a missing mapping */
} gw_status;

const char *gw_status_name(gw_status st);

typedef struct gw_request {
  ethp2p_gw_origin origin;
  ethp2p_proto proto;
  ethp2p_addr requester; /* requesting host (IP; port ignored) */
  ethp2p_addr internal;  /* internal client IP and port */
  uint16_t ext_port;     /* wanted external port; 0 = same as internal */
  bool exact;            /* only ext_port will do (UPnP AddPortMapping) */
  bool key_by_internal;  /* renew the mapping of this internal endpoint (PMP, PCP) */
  uint32_t lease_s;      /* 0 = permanent */
  const char *desc;
  const uint8_t *nonce; /* PCP nonce or NULL */
} gw_request;

/* Creates or renews a mapping.  *out gets the resulting mapping on GW_OK. */
gw_status gw_map(ethp2p_gateway *gw, const gw_request *rq, ethp2p_gw_mapping *out);
/* Deletes the mapping at table index i (event DELETED). */
void gw_unmap_index(ethp2p_gateway *gw, size_t i, ethp2p_gw_change why);

/* ---- the gateway object ------------------------------------------------- */

struct gw_http;
struct gw_gena;
struct gw_delayed;
struct gw_pmp;
struct gw_ssdp;

struct ethp2p_gateway {
  ethp2p_env *env;
  ethp2p_gw_config cfg;
  ethp2p_addr external_ip;
  gw_table table;
  bool running;
  ethp2p_time epoch_start;
  ethp2p_timer *expiry_timer;
  unsigned restarts;
  uint16_t http_port; /* bound port */
  ethp2p_gw_change_cb change_cb;
  void *change_data;
  ethp2p_gw_mirror_cb mirror_cb;
  void *mirror_data;
  ethp2p_gw_listeners_cb notify_gate; /* NULL: always advertise */
  void *notify_gate_data;
  struct gw_pmp *pmp;
  struct gw_ssdp *ssdp;
  struct gw_http *http;
  /* no-concurrent quirk: the connection whose SOAP request is in progress. */
  void *soap_busy_owner;
  struct gw_delayed *delayed; /* queued slow replies */
  unsigned lan_prefix;        /* prefix of the LAN interface, 0 = unknown (accept all) */
  struct gw_gena *gena;
  uint32_t bootid; /* BOOTID.UPNP.ORG: new at every start and restart */
  ethp2p_gw_stats stats;
};

/* True if `from` is on the LAN (same subnet as the LAN address), or the LAN
 * prefix is unknown.  Requests from elsewhere are ignored (RFC 6886 §3). */
bool gw_from_lan(const ethp2p_gateway *gw, const ethp2p_addr *from);

/* Time helpers. */
static inline ethp2p_time gw_now(const ethp2p_gateway *gw) {
  return ethp2p_env_now(gw->env);
}
uint32_t gw_random_u32(void *gw);
/* True if the drop quirk says this reply is lost (draws from the env PRNG). */
bool gw_should_drop(ethp2p_gateway *gw);
/* Delay before sending a reply (slow quirk), 0 otherwise. */
ethp2p_time gw_reply_delay(const ethp2p_gateway *gw);
/* Remaining lease seconds of m at now (0 for permanent). */
uint32_t gw_remaining_s(const ethp2p_gateway *gw, const ethp2p_gw_mapping *m);

/* ---- delayed UDP replies (slow quirk), gateway.c ----------------------- */
/* Sends buf from udp to `to`, now or after the slow delay; drops per quirk. */
void gw_udp_reply(ethp2p_gateway *gw, ethp2p_udp *udp, const ethp2p_addr *to, const uint8_t *buf,
                  size_t len);
/* Cancels queued delayed replies that use udp (before it is closed). */
void gw_udp_cancel(ethp2p_gateway *gw, ethp2p_udp *udp);

/* ---- pmp.c ------------------------------------------------------------- */
int gw_pmp_start(ethp2p_gateway *gw);
void gw_pmp_stop(ethp2p_gateway *gw);
/* Starts an announcement series (NAT-PMP external address + PCP ANNOUNCE). */
void gw_pmp_announce(ethp2p_gateway *gw);

/* ---- ssdp.c ------------------------------------------------------------ */
/* Binds, joins, and (unless the no-notify quirk) advertises ssdp:alive now and every
 * notify interval. */
int gw_ssdp_start(ethp2p_gateway *gw);
/* byebye: send ssdp:byebye first (a clean stop), not on a restart. */
void gw_ssdp_stop(ethp2p_gateway *gw, bool byebye);

/* ---- gena.c ------------------------------------------------------------ */
int gw_gena_init(ethp2p_gateway *gw);
/* Drops every subscription (restart, stop) and frees (free=true). */
void gw_gena_clear(ethp2p_gateway *gw, bool free_all);
/* Handles SUBSCRIBE / UNSUBSCRIBE on path: fills the response status and, for a grant,
 * sid/timeout headers into hdr (static storage until the next call).  After the grant
 * is sent, call gw_gena_after_grant to send the initial event. */
typedef struct gw_gena_answer {
  int status;
  const char *reason;
  char sid[64];
  char timeout[32];
  bool grant;    /* SID/TIMEOUT headers go with the answer */
  void *initial; /* the subscription owed its initial event (opaque) */
} gw_gena_answer;
void gw_gena_handle(ethp2p_gateway *gw, const void *msg, const char *path, const ethp2p_addr *peer,
                    gw_gena_answer *out);
void gw_gena_after_grant(ethp2p_gateway *gw, void *sub);
/* Sends the WANIPConnection event (ExternalIPAddress, ConnectionStatus) to everyone. */
void gw_gena_notify_all(ethp2p_gateway *gw);

/* ---- http.c ------------------------------------------------------------ */
int gw_http_start(ethp2p_gateway *gw, uint16_t port);
void gw_http_stop(ethp2p_gateway *gw);
unsigned gw_http_count(const ethp2p_gateway *gw);

/* ---- soap.c ------------------------------------------------------------ */

/* A response body and status produced by the SOAP layer. */
typedef struct gw_soap_reply {
  int status; /* 200 or 500 */
  char *body; /* malloc'd, owned by the caller */
  size_t len;
} gw_soap_reply;

/* Handles one control POST.  path is the request path, soapaction the header
 * value (may be NULL), body the request body, requester the TCP peer.
 * Fills *out (the caller frees out->body).  Returns 0 or ETHP2P_ENOMEM. */
int gw_soap_handle(ethp2p_gateway *gw, const char *path, const char *soapaction,
                   const uint8_t *body, size_t body_len, const ethp2p_addr *requester,
                   gw_soap_reply *out);

/* ---- desc.c ------------------------------------------------------------ */

#define GW_PATH_ROOTDESC "/rootDesc.xml"
#define GW_PATH_SCPD_IP "/WANIPCn.xml"
#define GW_PATH_SCPD_CIF "/WANCfg.xml"
#define GW_PATH_SCPD_L3F "/L3F.xml"
#define GW_PATH_CTL_IP "/ctl/IPConn"
#define GW_PATH_CTL_CIF "/ctl/CmnIfCfg"
#define GW_PATH_CTL_L3F "/ctl/L3F"
#define GW_PATH_EVT "/evt/IPConn"

/* Builds the document served at path (malloc'd into *out, length *len).
 * Returns 0, ETHP2P_ENOTFOUND (no such document) or ETHP2P_ENOMEM. */
int gw_desc_get(const ethp2p_gateway *gw, const char *path, char **out, size_t *len);
/* Device type / service type URNs for the configured IGD version. */
const char *gw_desc_igd_urn(const ethp2p_gateway *gw);
const char *gw_desc_wandev_urn(const ethp2p_gateway *gw);
const char *gw_desc_wanconn_urn(const ethp2p_gateway *gw);
const char *gw_desc_wanip_urn(const ethp2p_gateway *gw);
/* UUID (without "uuid:") of device `which`: 0 root, 1 WANDevice, 2 WANConnectionDevice. */
void gw_desc_uuid(const ethp2p_gateway *gw, int which, char *buf, size_t size);
#define GW_URN_CIF "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
#define GW_URN_L3F "urn:schemas-upnp-org:service:Layer3Forwarding:1"

/* XML-escapes s (& < > " ') into b (desc.c). */
void gw_buf_xml(ethp2p_buf *b, const char *s);

#endif
