/*
 * nat/ssdp.h — SSDP M-SEARCH request and response codec (UPnP Device Architecture 1.1 §1.3).
 *
 * Pure functions over caller buffers: no I/O, no allocation.  Used by the UPnP client
 * (nat/upnp.c: builds searches, parses replies) and by the gateway emulator's SSDP
 * responder (nat/gateway/: parses searches, builds replies).
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

#include "ethp2p/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SSDP multicast group and port (UDA §1.3.2). */
#define ETHP2P_SSDP_GROUP_V4 "239.255.255.250"
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
 * max_age > 0, EXT, LOCATION, SERVER, ST, USN; empty optional fields are left out).
 * Returns: 0, ETHP2P_EINVAL (NULL, empty location/st, CR/LF in a value), ETHP2P_ESPACE
 *   (*len = size needed).
 */
int ethp2p_ssdp_reply_build(uint8_t *buf, size_t size, size_t *len, const ethp2p_ssdp_reply *reply);

/*
 * Parses a search response datagram ("HTTP/1.x NNN ...").  A status other than 200 parses
 * fine (status set, other fields as found); a 200 without LOCATION or ST is ETHP2P_ESYNTAX.
 * A NOTIFY datagram is not a reply and gives ETHP2P_ESYNTAX.
 * Returns: as ethp2p_ssdp_search_parse.  *out is zeroed first.
 */
int ethp2p_ssdp_reply_parse(ethp2p_ssdp_reply *out, const uint8_t *buf, size_t len,
                            ethp2p_diag *diag);

/* True if st is one of the four search targets above (exact, case-insensitive). */
bool ethp2p_ssdp_st_is_gateway(const char *st);

#ifdef __cplusplus
}
#endif
#endif
