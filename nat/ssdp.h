/*
 * nat/ssdp.h — SSDP codec: M-SEARCH request and response (UPnP Device Architecture 1.1 §1.3)
 * and the NOTIFY advertisements ssdp:alive, ssdp:byebye and ssdp:update (UDA 1.1 §1.2).
 *
 * Pure functions over caller buffers: no I/O, no allocation.  Used by the UPnP clients
 * (nat/upnp.c over IPv4, nat/upnp6.c over IPv6: build searches, parse replies, check
 * LOCATION against the sender) and by the gateway emulator's SSDP responder
 * (nat/gateway/: parses searches, builds replies).
 *
 * Wire form (UDA 1.1 §1.3.2, §1.3.3), one UDP datagram each, CRLF line ends:
 *
 *   M-SEARCH * HTTP/1.1                  HTTP/1.1 200 OK
 *   HOST: 239.255.255.250:1900           CACHE-CONTROL: max-age=120
 *   MAN: "ssdp:discover"                 EXT:
 *   MX: 1                                LOCATION: http://192.168.1.1:5000/rootDesc.xml
 *   ST: urn:...:device:...:1             SERVER: OS/1.0 UPnP/1.1 miniupnpd/2.3
 *                                        ST: urn:...:device:...:1
 *                                        USN: uuid:...::urn:...:device:...:1
 *
 * Parsing rules: header names are case-insensitive; values are trimmed of spaces and tabs;
 * LF-only line ends are accepted (some routers send them); unknown headers are ignored;
 * a header repeated keeps its first value; a datagram longer than ETHP2P_SSDP_MAX_LEN is
 * refused; a value longer than its field is refused (ETHP2P_ETOOBIG), never truncated.
 * The MAN value must be the quoted string "ssdp:discover" (UDA §1.3.2); the unquoted form
 * is accepted too and reported through `man_quoted = false`, so a responder can decide.
 */
#ifndef ETHP2P_NAT_SSDP_H
#define ETHP2P_NAT_SSDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "nat/http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SSDP multicast group and port (UDA §1.3.2; the IPv6 link-local group is UDA 1.1
 * Appendix A, FF02::C, with HOST "[FF02::C]:1900"). */
#define ETHP2P_SSDP_GROUP_V4 "239.255.255.250"
#define ETHP2P_SSDP_GROUP_V6 "ff02::c"
#define ETHP2P_SSDP_HOST_V6 "[FF02::C]:1900"
#define ETHP2P_SSDP_PORT 1900
/* Largest datagram either parser accepts, and the buffer size the builders need at most. */
#define ETHP2P_SSDP_MAX_LEN 2048

/* Search targets the UPnP client uses. */
#define ETHP2P_SSDP_ST_IGD1 "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
#define ETHP2P_SSDP_ST_IGD2 "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
#define ETHP2P_SSDP_ST_WANCONN1 "urn:schemas-upnp-org:device:WANConnectionDevice:1"
#define ETHP2P_SSDP_ST_WANCONN2 "urn:schemas-upnp-org:device:WANConnectionDevice:2"

/* A parsed (or to-be-built) M-SEARCH request. */
typedef struct ethp2p_ssdp_search {
  char host[64];        /* HOST value, e.g. "239.255.255.250:1900" ("" if absent) */
  char st[256];         /* ST value (required) */
  char man[32];         /* MAN value without the quotes, e.g. "ssdp:discover" (required) */
  bool man_quoted;      /* true if MAN was a quoted string */
  int mx;               /* MX seconds; -1 if absent (unicast searches omit it, UDA §1.3.2) */
  char user_agent[128]; /* USER-AGENT value ("" if absent) */
} ethp2p_ssdp_search;

/* A parsed (or to-be-built) search response. */
typedef struct ethp2p_ssdp_reply {
  int status;         /* HTTP status code of the reply (200 for a match) */
  char location[256]; /* LOCATION: URL of the device description (required when status 200) */
  char st[256];       /* ST: the search target matched (required when status 200) */
  char usn[256];      /* USN ("" if absent) */
  char server[128];   /* SERVER ("" if absent) */
  uint32_t max_age;   /* CACHE-CONTROL max-age seconds, 0 if absent or unreadable */
  bool has_bootid;    /* BOOTID.UPNP.ORG (UDA 1.1 §1.3.3) was present and readable */
  uint32_t bootid;
} ethp2p_ssdp_reply;

/*
 * Builds an M-SEARCH request: request line, HOST, MAN "ssdp:discover" (quoted), ST, and MX
 * (omitted when search->mx < 0, as for unicast searches), USER-AGENT when non-empty.
 * search->host "" means "239.255.255.250:1900"; search->man is ignored (always ssdp:discover).
 * Returns: 0, ETHP2P_EINVAL (NULL arguments, empty st, CR/LF in a value), or ETHP2P_ESPACE
 *   (buf too small; *len is then the size needed).
 * Out: buf (not NUL-terminated unless room is left), *len the number of bytes written.
 */
int ethp2p_ssdp_search_build(uint8_t *buf, size_t size, size_t *len,
                             const ethp2p_ssdp_search *search);

/*
 * Parses an M-SEARCH request datagram (request line "M-SEARCH * HTTP/1.1").
 * Returns: 0; ETHP2P_ETOOBIG (datagram or a field over its cap); ETHP2P_ESYNTAX (not an
 *   M-SEARCH, malformed line, missing ST or MAN, unreadable MX); ETHP2P_ETRUNC (no end of
 *   header block).  *out is zeroed first, so a failure never leaves old contents.
 * Out: out (caller-owned).  In: buf/len the datagram.  diag may be NULL.
 */
int ethp2p_ssdp_search_parse(ethp2p_ssdp_search *out, const uint8_t *buf, size_t len,
                             ethp2p_diag *diag);

/*
 * Builds a search response ("HTTP/1.1 <status> OK" with CACHE-CONTROL max-age when
 * max_age > 0, EXT, LOCATION, SERVER, ST, USN, BOOTID.UPNP.ORG when has_bootid; empty
 * optional fields are left out).
 * Returns: 0, ETHP2P_EINVAL (NULL, empty location/st, CR/LF in a value), ETHP2P_ESPACE
 *   (*len = size needed).
 */
int ethp2p_ssdp_reply_build(uint8_t *buf, size_t size, size_t *len, const ethp2p_ssdp_reply *reply);

/*
 * Parses a search response datagram ("HTTP/1.x NNN ...").  A status other than 200 parses
 * fine (status set, other fields as found); a 200 without LOCATION or ST is ETHP2P_ESYNTAX.
 * A NOTIFY datagram is not a reply and gives ETHP2P_ESYNTAX.  An unreadable BOOTID.UPNP.ORG
 * leaves has_bootid false (the field is optional in a reply and only a hint).
 * Returns: as ethp2p_ssdp_search_parse.  *out is zeroed first.
 */
int ethp2p_ssdp_reply_parse(ethp2p_ssdp_reply *out, const uint8_t *buf, size_t len,
                            ethp2p_diag *diag);

/*
 * Advertisements (UDA 1.1 §1.2.2 ssdp:alive, §1.2.3 ssdp:update, §1.2.4 ssdp:byebye), sent
 * by a device to 239.255.255.250:1900 when it starts, every so often while it runs, and when
 * it leaves:
 *
 *   NOTIFY * HTTP/1.1
 *   HOST: 239.255.255.250:1900
 *   CACHE-CONTROL: max-age=120                     (alive)
 *   LOCATION: http://192.168.1.1:5000/rootDesc.xml (alive, update)
 *   NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1
 *   NTS: ssdp:alive | ssdp:byebye | ssdp:update
 *   SERVER: OS/1.0 UPnP/1.1 miniupnpd/2.3        (alive)
 *   USN: uuid:...::urn:...
 *   BOOTID.UPNP.ORG: 1700000000                    (UDA 1.1: a new value at every boot)
 *   CONFIGID.UPNP.ORG: 1337
 *   NEXTBOOTID.UPNP.ORG: 1700000001                (update: the BOOTID from now on)
 *
 * Parsing: the same header rules as above.  NT, NTS and USN are required; an ssdp:alive or
 * ssdp:update without LOCATION is ETHP2P_ESYNTAX; an NTS other than the three is
 * ETHP2P_EUNSUPP.  BOOTID/CONFIGID/NEXTBOOTID are 31-bit decimal numbers (UDA 1.1 §1.2.2);
 * an unreadable value is ETHP2P_ESYNTAX.
 */
typedef enum ethp2p_ssdp_nts {
  ETHP2P_SSDP_NTS_ALIVE = 1,
  ETHP2P_SSDP_NTS_BYEBYE,
  ETHP2P_SSDP_NTS_UPDATE,
} ethp2p_ssdp_nts;

typedef struct ethp2p_ssdp_notify {
  char host[64]; /* HOST ("" if absent) */
  char nt[256];  /* NT: notification type (required) */
  ethp2p_ssdp_nts nts;
  char usn[256];      /* USN (required) */
  char location[256]; /* LOCATION (required for alive and update) */
  char server[128];   /* SERVER ("" if absent) */
  uint32_t max_age;   /* CACHE-CONTROL max-age, 0 if absent */
  bool has_bootid;
  uint32_t bootid; /* BOOTID.UPNP.ORG */
  bool has_configid;
  uint32_t configid; /* CONFIGID.UPNP.ORG */
  bool has_next_bootid;
  uint32_t next_bootid; /* NEXTBOOTID.UPNP.ORG (update) */
} ethp2p_ssdp_notify;

/*
 * Parses a NOTIFY datagram ("NOTIFY * HTTP/1.1").
 * Returns: 0; ETHP2P_ETOOBIG, ETHP2P_ESYNTAX, ETHP2P_ETRUNC as the other parsers (an
 *   M-SEARCH or a search reply is ETHP2P_ESYNTAX); ETHP2P_EUNSUPP for an unknown NTS.
 *   *out is zeroed first.
 * Out: out (caller-owned).  In: buf/len the datagram.  diag may be NULL.
 */
int ethp2p_ssdp_notify_parse(ethp2p_ssdp_notify *out, const uint8_t *buf, size_t len,
                             ethp2p_diag *diag);

/*
 * Builds a NOTIFY datagram: HOST (notify->host, "" = 239.255.255.250:1900), CACHE-CONTROL
 * (alive, when max_age > 0), LOCATION (alive/update), NT, NTS, SERVER (alive, when
 * non-empty), USN, and BOOTID/CONFIGID/NEXTBOOTID when their has_ flag is set.
 * Returns: 0, ETHP2P_EINVAL (NULL, empty nt/usn, no location for alive/update, CR/LF in a
 *   value, bad nts), ETHP2P_ESPACE (*len = size needed).
 */
int ethp2p_ssdp_notify_build(uint8_t *buf, size_t size, size_t *len,
                             const ethp2p_ssdp_notify *notify);

/*
 * Reads the LOCATION of a search reply or advertisement and checks it against the sender
 * (the anti-spoofing rule of both UPnP clients: a device describes itself, never another
 * host).  The host must be an IP literal of the sender's family equal to the sender's
 * address.  IPv6 hosts are bracketed ("http://[3fff:0:1::1]:5000/rootDesc.xml"); a
 * link-local host may carry a zone, RFC 6874 form "[fe80::1%25eth0]" or the bare
 * "[fe80::1%eth0]" devices send.  The zone names the *device's* interface, which means
 * nothing here: it is dropped, and out->addr gets the sender's zone (the interface the
 * datagram came in on) instead, as does every link-local host.  out->host is the host as
 * written, without the zone.  A zone on a non-link-local address is ETHP2P_ESYNTAX.
 * Returns: 0; ETHP2P_ESYNTAX, ETHP2P_ETOOBIG, ETHP2P_EUNSUPP (the URL, as
 *   ethp2p_http_url_parse); ETHP2P_EINVAL (NULL, or the host is not an IP literal of the
 *   sender's family); ETHP2P_EPERM (the host is another address than the sender's).
 *   *out is zeroed on failure.
 * Out: out (caller-owned).  In: location (NUL-terminated), from (the datagram's source;
 *   its port is ignored).  diag may be NULL.
 */
int ethp2p_ssdp_location_parse(ethp2p_http_url *out, const char *location, const ethp2p_addr *from,
                               ethp2p_diag *diag);

/*
 * Parses an absolute http URL whose host may be a bracketed IPv6 literal with a zone (as
 * above; dropped, out->addr.scope = scope when the address is link-local, else 0).
 * Otherwise as ethp2p_http_url_parse, except that *out is zeroed on failure.  Used for control URLs
 * resolved against such a LOCATION.
 */
int ethp2p_ssdp_url_parse_zoned(ethp2p_http_url *out, const char *url, uint32_t scope,
                                ethp2p_diag *diag);

/* True if st is one of the four search targets above (exact, case-insensitive). */
bool ethp2p_ssdp_st_is_gateway(const char *st);

#ifdef __cplusplus
}
#endif
#endif
