/*
 * ethp2p/doctor.h — why can (or can't) peers reach this node?
 *
 * The doctor behind `ethp2p nat doctor`, as a library: it probes what the
 * network offers and decides, in three separate steps.
 *
 *   1. Probing (ethp2p_doctor, nat/doctor.c): on any environment
 *      (ethp2p/env.h), so the same code runs on real sockets and in the
 *      simulated world.  It reads the local addresses and the default gateway,
 *      asks each gateway protocol (UPnP IGD, NAT-PMP, PCP) through the node's
 *      own NAT clients (ethp2p/nat.h) for the external address, runs a live
 *      test mapping of tcp/N and udp/N on each protocol that answered (add,
 *      confirm by renewing, delete; one protocol at a time), and measures the
 *      NAT behaviour (RFC 5780, ethp2p/natbehavior.h) when STUN servers are
 *      given.  Every probe is bounded: the whole run takes at most
 *      config.total_budget (default ETHP2P_DOCTOR_TOTAL_BUDGET).  Nothing is
 *      sent to the internet unless a STUN server is named.  The facts end up
 *      in a plain struct, ethp2p_doctor_report.
 *   2. Deciding (ethp2p_doctor_decide, nat/doctor_verdict.c): a pure function
 *      of a report: no I/O, no time, no text.  It names the case that applies
 *      (mapped, refused, double NAT, ...) and the answer yes/no/unknown.
 *   3. Rendering (nat/doctor_render.c): the verdict's reason and advice as
 *      English sentences, the whole report as one screen of text, or as one
 *      JSON object.  Renderers only read; they write into caller buffers.
 *
 * Conventions (as in the rest of ethp2p): functions returning int return 0
 * or a negative ETHP2P_E* code (ethp2p/error.h); "borrowed" pointers stay
 * owned by the callee and valid as long as stated; a struct the caller passes
 * in is copied unless stated otherwise.
 */
#ifndef ETHP2P_DOCTOR_H
#define ETHP2P_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/attrs.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "ethp2p/nat.h"
#include "ethp2p/natbehavior.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ETHP2P_DOCTOR_MAX_IFACES 16
#define ETHP2P_DOCTOR_MAX_SERVICES 8
#define ETHP2P_DOCTOR_TEST_LIFETIME 120u               /* seconds, test mappings */
#define ETHP2P_DOCTOR_GATEWAY_BUDGET (4 * ETHP2P_SEC)  /* external address questions */
#define ETHP2P_DOCTOR_SSDP_BUDGET (2500 * ETHP2P_MSEC) /* UPnP device details */
#define ETHP2P_DOCTOR_STUN_BUDGET (5 * ETHP2P_SEC)     /* RFC 5780 discovery */
#define ETHP2P_DOCTOR_TOTAL_BUDGET (7 * ETHP2P_SEC)    /* everything */

/* The gateway protocols, in the order they are reported. */
typedef enum ethp2p_doctor_gw {
  ETHP2P_DOCTOR_UPNP = 0,
  ETHP2P_DOCTOR_PMP,
  ETHP2P_DOCTOR_PCP,
  ETHP2P_DOCTOR_NGW
} ethp2p_doctor_gw;

/* Index into ethp2p_doctor_gateway.map. */
enum { ETHP2P_DOCTOR_TCP = 0, ETHP2P_DOCTOR_UDP = 1 };

/* A status field still waiting for its answer (never a final value). */
#define ETHP2P_DOCTOR_PENDING 1

/* What to probe. */
typedef struct ethp2p_doctor_config {
  ethp2p_nat_spec spec;                      /* which protocols: any (all), upnp, pmp[:GW],
                                                pcp[:GW], none, extip:IP (declared address) */
  ethp2p_addr stun[ETHP2P_NATB_MAX_SERVERS]; /* RFC 5780 servers, IP literal and port */
  size_t n_stun;                             /* 0: no STUN, nothing sent to the internet */
  uint16_t port;                             /* the node's port: tests tcp/port and udp/port */
  ethp2p_time total_budget;                  /* 0 = ETHP2P_DOCTOR_TOTAL_BUDGET */
} ethp2p_doctor_config;

/* One live test mapping (tcp or udp) on one protocol. */
typedef struct ethp2p_doctor_map {
  bool tried;
  int add_status;         /* 0 added; ETHP2P_DOCTOR_PENDING; or the failure */
  uint16_t external_port; /* granted external port (when added) */
  uint32_t lifetime_s;    /* granted lease */
  int router_code;        /* the router's own result code when it refused, else 0 */
  char router_msg[96];    /* and its text ("" if none) */
  bool confirmed;         /* a renewal returned the same external port */
  int confirm_status;
  bool deleted;
  int delete_status;
} ethp2p_doctor_map;

/* What one gateway protocol answered. */
typedef struct ethp2p_doctor_gateway {
  const char *key;          /* JSON name: "upnp", "natpmp", "pcp" (static) */
  const char *label;        /* screen name: "UPnP IGD", "NAT-PMP", "PCP" (static) */
  bool probed;              /* false: not selected by config.spec */
  bool timed_out;           /* cut off by a budget */
  int extip_status;         /* 0 answered; else why not (ETHP2P_ETIMEDOUT: no answer) */
  ethp2p_addr extip;        /* the external address it gave (port 0) */
  ethp2p_doctor_map map[2]; /* [ETHP2P_DOCTOR_TCP], [ETHP2P_DOCTOR_UDP] */
} ethp2p_doctor_gateway;

/* The UPnP device found by the node's own UPnP discovery (the doctor's UPnP probe is the
 * node's UPnP client) and its description: the device chosen, else the first that
 * answered. */
typedef struct ethp2p_doctor_upnp {
  bool probed, answered, desc_ok;
  bool collected; /* the client's discovery report was read */
  char st[256], server[128], location[256];
  char device_type[128], friendly_name[128];
  char services[ETHP2P_DOCTOR_MAX_SERVICES][128];
  size_t nservices;
  int desc_status;
  size_t devices_found;     /* devices whose search reply the client accepted */
  char chosen_service[128]; /* the WAN service the client chose ("" if none) */
  char choice[160]; /* why, e.g. "at the default gateway, connected, routable external address" */
} ethp2p_doctor_upnp;

/* Everything the doctor found.  Plain data: copy it freely. */
typedef struct ethp2p_doctor_report {
  ethp2p_doctor_config config; /* as run (total_budget filled in) */
  ethp2p_iface ifaces[ETHP2P_DOCTOR_MAX_IFACES];
  size_t n_ifaces;
  bool have_gw;
  ethp2p_addr gw; /* default gateway when have_gw */
  ethp2p_doctor_gateway gateways[ETHP2P_DOCTOR_NGW];
  ethp2p_doctor_upnp upnp;
  bool stun_done;             /* discovery finished (else cut off or not run) */
  int stun_status;            /* its status when stun_done */
  ethp2p_nat_profile profile; /* zeroed when no STUN server was given */
} ethp2p_doctor_report;

/* ---------------------------------------------------------------------------
 * Probing
 * ------------------------------------------------------------------------- */

typedef struct ethp2p_doctor ethp2p_doctor;

/* The report is complete.  Runs once per start, never inside the call that
 * started it.  The report stays readable until ethp2p_doctor_destroy. */
typedef void (*ethp2p_doctor_done_cb)(ethp2p_doctor *d, void *data);

/*
 * Creates a doctor on env.  No I/O happens before ethp2p_doctor_start.
 * Returns: 0; ETHP2P_EINVAL (NULL argument, port 0, more than
 *   ETHP2P_NATB_MAX_SERVERS STUN servers); ETHP2P_ENOMEM; a timer error of
 *   the environment.
 * Args: env: must outlive the doctor.
 * In:   cfg: copied.
 * Out:  *out: the doctor (caller owns it; free with ethp2p_doctor_destroy);
 *       NULL on error.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_doctor_create(ethp2p_env *env, const ethp2p_doctor_config *cfg,
                                                   ethp2p_doctor **out);

/*
 * Starts every probe.  cb runs exactly once, later, when every probe has
 * answered or its budget ran out (unless the doctor is destroyed first).
 * Returns: 0; ETHP2P_EINVAL (NULL d or cb, already started).  A probe that
 *   cannot start (no socket, no gateway) is reported in the report, not here.
 * Args: d: the doctor; cb, data: the completion callback and its argument.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_doctor_start(ethp2p_doctor *d, ethp2p_doctor_done_cb cb,
                                                  void *data);

/*
 * Concludes now with what is known: probes still running are stopped and
 * count as not answered (timed_out), the callback runs (inside this call) if
 * it has not run yet.  For an event loop that ran dry before the end.
 * Args: d: a started doctor (anything else: no effect).
 */
void ethp2p_doctor_conclude(ethp2p_doctor *d);

/* True once the callback has run (or would have, for a conclude). */
bool ethp2p_doctor_finished(const ethp2p_doctor *d);

/*
 * The facts gathered so far (complete once finished).
 * Returns: borrowed; valid until ethp2p_doctor_destroy.  Never NULL for a
 *   non-NULL d.
 */
const ethp2p_doctor_report *ethp2p_doctor_get_report(const ethp2p_doctor *d);

/* Stops every probe (no callback runs afterwards) and frees d.  NULL is fine. */
void ethp2p_doctor_destroy(ethp2p_doctor *d);

/* ---------------------------------------------------------------------------
 * Deciding (pure)
 * ------------------------------------------------------------------------- */

/* The external address and what is wrong with it. */
typedef struct ethp2p_doctor_extaddr {
  ethp2p_addr addr;   /* port 0; family 0: none known */
  const char *source; /* "upnp", "natpmp", "pcp", "extip", "stun"; NULL if none (static) */
  bool private_;      /* RFC 1918 space: another NAT upstream */
  bool cgnat;         /* 100.64/10: carrier-grade NAT upstream */
  bool double_nat;    /* private_, cgnat or disagrees */
  ethp2p_addr stun;   /* STUN's reflexive IP (port 0), family 0 if none */
  bool disagrees;     /* a gateway's address differs from STUN's */
} ethp2p_doctor_extaddr;

/*
 * Picks the external address from a report: the declared one (--nat extip),
 * else the first gateway protocol that gave one (UPnP, NAT-PMP, PCP order),
 * else STUN's reflexive address; and flags it.
 * Args: r: the report.  Out: *out (zeroed first).
 */
void ethp2p_doctor_find_extaddr(const ethp2p_doctor_report *r, ethp2p_doctor_extaddr *out);

typedef enum ethp2p_doctor_answer {
  ETHP2P_DOCTOR_UNKNOWN = 0,
  ETHP2P_DOCTOR_YES,
  ETHP2P_DOCTOR_NO,
} ethp2p_doctor_answer;

/* Which rule decided, in the order they are tried. */
typedef enum ethp2p_doctor_case {
  ETHP2P_DOCTOR_CASE_DECLARED = 1,      /* --nat extip: cannot be tested from inside */
  ETHP2P_DOCTOR_CASE_MAPPED_DOUBLE_NAT, /* mapped, but another NAT sits upstream: no */
  ETHP2P_DOCTOR_CASE_MAPPED,            /* a protocol mapped tcp and udp: yes */
  ETHP2P_DOCTOR_CASE_PUBLIC_HOST,       /* a public address on this host: yes, or no if
                                           STUN shows filtering */
  ETHP2P_DOCTOR_CASE_REFUSED,           /* a protocol answered, the test mapping failed */
  ETHP2P_DOCTOR_CASE_STUN_NAT,          /* no mapping, STUN shows a NAT: no */
  ETHP2P_DOCTOR_CASE_NOTHING,           /* nothing conclusive: unknown */
} ethp2p_doctor_case;

typedef struct ethp2p_doctor_verdict {
  ethp2p_doctor_answer answer;
  ethp2p_doctor_case why;
  int gateway;   /* ethp2p_doctor_gw that mapped (MAPPED*) or refused (REFUSED), else -1 */
  bool filtered; /* PUBLIC_HOST: STUN shows non-EI filtering (a firewall) */
  const ethp2p_addr *public_iface; /* PUBLIC_HOST: points into the report's ifaces */
  ethp2p_doctor_extaddr ext;       /* the external address the verdict used */
} ethp2p_doctor_verdict;

/*
 * Decides whether peers can reach the node on tcp/port and udp/port.
 * Pure: the same report always gives the same verdict.
 * Args: r: the report (borrowed by out->public_iface: keep r alive while
 *   using it).  Out: *out (zeroed first).
 */
void ethp2p_doctor_decide(const ethp2p_doctor_report *r, ethp2p_doctor_verdict *out);

/* "yes", "no", "unknown". */
const char *ethp2p_doctor_answer_name(ethp2p_doctor_answer a);

/* ---------------------------------------------------------------------------
 * Rendering (nat/doctor_render.c, nat/doctor_json.c)
 * ------------------------------------------------------------------------- */

/* The verdict in words. */
typedef struct ethp2p_doctor_prose {
  char reason[384]; /* why */
  char advice[384]; /* what to do */
} ethp2p_doctor_prose;

/*
 * Words for a verdict: one sentence each for the reason and the advice.
 * Args: r: the report the verdict came from; v: its verdict.
 * Out: *out (filled completely; sentences longer than the fields are cut).
 */
void ethp2p_doctor_explain(const ethp2p_doctor_report *r, const ethp2p_doctor_verdict *v,
                           ethp2p_doctor_prose *out);

/*
 * The report as one screen of text (the command's default output), ending in
 * the verdict line "reachable from the internet on tcp/N and udp/N: ANSWER",
 * its reason and advice, and a newline.
 * Returns: 0; ETHP2P_EINVAL (NULL r or len, NULL buf with size > 0);
 *   ETHP2P_ESPACE (buf too small: nothing useful written, *len is then the
 *   length needed, without the NUL); ETHP2P_ENOMEM.
 * In:  r.  Out: buf (NUL-terminated on success), *len the text length.
 *   buf may be NULL with size 0 to ask for the length.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_doctor_render_text(const ethp2p_doctor_report *r, char *buf,
                                                        size_t size, size_t *len);

/*
 * The report as one JSON object (indent 2, keys in a fixed order, no
 * trailing newline): port, local_addresses, default_gateway, protocols
 * {upnp, natpmp, pcp}, external_address, behavior, verdict.  The field names
 * are a contract (docs/doctor.md).
 * Returns, In, Out: as ethp2p_doctor_render_text.
 */
ETHP2P_WARN_UNUSED_RESULT int ethp2p_doctor_render_json(const ethp2p_doctor_report *r, char *buf,
                                                        size_t size, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
