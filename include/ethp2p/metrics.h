/*
 * ethp2p/metrics.h — what a running node tells its operator: Prometheus metrics
 * (text exposition format 0.0.4) on GET /metrics and a JSON status on GET /status,
 * served over the environment's TCP interface (ethp2p/env.h).
 *
 * Sources:
 *   - the port-mapping loop (ethp2p/portmap.h): the metrics object subscribes to its
 *     event stream (counters, the last events) and reads its mapping list and
 *     external address when a page is rendered;
 *   - the local node (ethp2p/localnode.h): the metrics object subscribes to record
 *     changes and keeps a copy of the latest signed record (rendering never signs);
 *   - or anything else, pushed by hand: ethp2p_metrics_portmap_event() and
 *     ethp2p_metrics_set_record() are what the two attach functions call, public so
 *     applications with their own loop (and tests) can drive the metrics directly.
 *
 * Wiring (the whole of it; see docs/library-api.md):
 *     ethp2p_metrics *m;
 *     ethp2p_metrics_create(env, &m);
 *     ethp2p_metrics_attach_portmap(m, pm);
 *     ethp2p_metrics_attach_localnode(m, ln);
 *     ethp2p_addr at; ethp2p_addr_parse(&at, "127.0.0.1", 6060);
 *     ethp2p_metrics_serve(m, &at);
 *     ... run the loop ...
 *     ethp2p_metrics_destroy(m);      // BEFORE destroying pm and ln
 *
 * Series (all names start with ethp2p_; see docs/operators.md for the full list):
 *   ethp2p_build_info{version}                           gauge, 1
 *   ethp2p_node_start_time_seconds                       gauge, Unix time of create
 *   ethp2p_enr_seq                                       gauge, seq of the latest record
 *   ethp2p_enr_updates_total                             counter, record versions seen
 *   ethp2p_nat_info{mechanism,spec}                      gauge, 1 (e.g. mechanism="NAT-PMP")
 *   ethp2p_nat_mapping_up{proto,internal_port}           gauge, 1 mapped / 0 not
 *   ethp2p_nat_mapping_external_port{proto,internal_port}  gauge
 *   ethp2p_nat_mapping_permanent{proto,internal_port}    gauge, 1 for a permanent lease
 *   ethp2p_nat_mapping_lease_remaining_seconds{...}      gauge, 0 when permanent or unmapped
 *   ethp2p_nat_mapping_expiry_timestamp_seconds{...}     gauge, Unix time the lease ends
 *   ethp2p_nat_mapping_consecutive_failures{...}         gauge
 *   ethp2p_nat_mappings_added_total{...}                 counter (first grants, new ports)
 *   ethp2p_nat_mapping_renewals_total{...}               counter
 *   ethp2p_nat_mapping_failures_total{...}               counter
 *   ethp2p_nat_mappings_lost_total{...}                  counter
 *   ethp2p_nat_external_address_changes_total            counter
 *   ethp2p_nat_external_address_private_total            counter (double NAT reports)
 *   ethp2p_nat_external_address_info{address,advertised} gauge, 1 (absent when unknown)
 *   ethp2p_nat_gateway_up                                gauge, 0 between gateway-lost and -found
 *   ethp2p_nat_gateway_lost_total                        counter
 *   ethp2p_nat_first_mapping_seconds                     gauge, create -> first grant
 *   ethp2p_nat_events_total{event}                       counter, every portmap event by name
 *   ethp2p_metrics_http_requests_total{code}             counter, requests answered
 *
 * HTTP server: HTTP/1.1 (and 1.0) requests parsed with the bounded parser of
 * nat/http.h; one request per connection (responses carry "Connection: close").
 *   GET|HEAD /metrics  200 text/plain; version=0.0.4; charset=utf-8
 *   GET|HEAD /status   200 application/json
 *   GET|HEAD /         200 a short text index
 *   other paths        404;  other methods 405 (with Allow: GET, HEAD)
 *   malformed request  400;  header section over 8 KiB or 48 fields: 431;  a body: 413
 * Bounds: at most ETHP2P_METRICS_MAX_CONNS connections at once (further ones are
 * closed at once), each closed after ETHP2P_METRICS_IDLE of no complete request;
 * a bad request never affects other connections or the listener.
 *
 * Threading: everything runs on the environment's loop thread; nothing here is
 * thread safe.  Errors: 0 or a negative ETHP2P_E* code (ethp2p/error.h).
 */
#ifndef ETHP2P_METRICS_H
#define ETHP2P_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ethp2p/enr.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "ethp2p/portmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Events kept for /status (the oldest is dropped first). */
#define ETHP2P_METRICS_EVENTS 32
/* Concurrent HTTP connections; more are closed as soon as they are accepted. */
#define ETHP2P_METRICS_MAX_CONNS 16
/* A connection without a complete request for this long is closed. */
#define ETHP2P_METRICS_IDLE (10 * ETHP2P_SEC)
/* Largest page rendered; beyond it rendering fails (ETHP2P_ETOOBIG) and the server
 * answers 503. */
#define ETHP2P_METRICS_PAGE_MAX (256 * 1024)
/* Mappings tracked from events when no portmap is attached. */
#define ETHP2P_METRICS_MAX_MAPPINGS 8

typedef struct ethp2p_metrics ethp2p_metrics;
/* Opaque here; ethp2p/localnode.h defines its functions. */
typedef struct ethp2p_localnode ethp2p_localnode;

/*
 * Creates an empty metrics object on env; "node start" (ethp2p_node_start_time_seconds,
 * and the origin of ethp2p_nat_first_mapping_seconds) is now.
 * Returns 0, ETHP2P_EINVAL (NULL argument) or ETHP2P_ENOMEM.
 * Out: *out (NULL on failure), owned by the caller; free with ethp2p_metrics_destroy.
 * env is borrowed and must outlive the object.
 */
int ethp2p_metrics_create(ethp2p_env *env, ethp2p_metrics **out);

/*
 * Frees everything: closes the listener and every connection (their callbacks never
 * run again), unsubscribes from the portmap and the local node.  NULL is fine.
 * Must run BEFORE the attached portmap or local node is destroyed.
 */
void ethp2p_metrics_destroy(ethp2p_metrics *m);

/*
 * Follows a port-mapping loop: subscribes to its events and reads its mapping list,
 * external address and NAT (mechanism and spec) whenever a page is rendered.
 * pm is borrowed and must outlive m (or be detached by destroying m first).
 * Returns 0, ETHP2P_EINVAL, ETHP2P_ESTATE (a portmap is already attached) or the
 * subscription error (ETHP2P_ESPACE: the loop has no free subscriber slot).
 */
int ethp2p_metrics_attach_portmap(ethp2p_metrics *m, ethp2p_portmap *pm);

/*
 * Follows the local node: takes its current record at once and every new version
 * afterwards (through ethp2p_localnode_subscribe), for ethp2p_enr_seq and /status.
 * ln is borrowed and must outlive m.  Returns 0, ETHP2P_EINVAL, ETHP2P_ESTATE
 * (already attached), ETHP2P_ESPACE (no subscriber slot) or the signing error of
 * ethp2p_localnode_record.
 * (Defined in p2p/metrics_localnode.c, so programs that never call it do not link
 * the local node.)
 */
int ethp2p_metrics_attach_localnode(ethp2p_metrics *m, ethp2p_localnode *ln);

/*
 * Feeds one port-mapping event by hand (what attach_portmap's subscription does):
 * counters, the event ring for /status and, while no portmap is attached, the
 * mapping table (up, external port, lease end, failures).  ev is copied; ev->reason
 * must be a static string (portmap's are).  NULL arguments are ignored.
 */
void ethp2p_metrics_portmap_event(ethp2p_metrics *m, const ethp2p_portmap_event *ev);

/*
 * Sets the record shown as ethp2p_enr_seq and in /status (what attach_localnode's
 * subscription does).  rec must be signed; it is copied.  Counts one record update
 * when the encoding differs from the previous one.
 * Returns 0, ETHP2P_EINVAL (NULL) or ETHP2P_ESTATE (unsigned record).
 */
int ethp2p_metrics_set_record(ethp2p_metrics *m, const ethp2p_enr *rec);

/*
 * Sets the NAT mechanism and spec shown by ethp2p_nat_info while no portmap is attached
 * (with one, its NAT's name and spec are used).  Both strings are copied (cut at 63
 * bytes); NULL clears.  Returns 0 or ETHP2P_EINVAL.
 */
int ethp2p_metrics_set_nat(ethp2p_metrics *m, const char *mechanism, const char *spec);

/*
 * Renders the /metrics page (exposition format 0.0.4, "\n" line ends, HELP and TYPE
 * for every family, label values escaped: \\ \" \n) into a new NUL-terminated heap
 * string.  Returns 0 or ETHP2P_ENOMEM / ETHP2P_ETOOBIG (over ETHP2P_METRICS_PAGE_MAX).
 * Out: *out (free() it) and *len (may be NULL), NULL / 0 on failure.
 */
int ethp2p_metrics_render(ethp2p_metrics *m, char **out, size_t *len);

/*
 * Renders the /status JSON document (compact, one line) into a new NUL-terminated
 * heap string:
 *   {"version", "uptime_seconds", "start_time_unix_ms",
 *    "node": {"enr", "seq", "id", "ip", "tcp", "udp"} or null,
 *    "nat": {"mechanism", "spec", "external_ip", "advertised", "gateway_up"},
 *    "mappings": [{"proto", "internal_port", "external_port", "mapped", "permanent",
 *                  "lease_remaining_seconds", "expires_unix_ms", "failures", "name"}],
 *    "events": [{"time_unix_ms", "event", "proto", "internal_port", "external_port",
 *                "lifetime_seconds", "failures", "status", "address", "reason"}]}
 * Events are oldest first, at most ETHP2P_METRICS_EVENTS.  Fields that do not apply to
 * an event are omitted.  Returns 0 or ETHP2P_ENOMEM.  Out: *out (free() it), *len.
 */
int ethp2p_metrics_status_json(ethp2p_metrics *m, char **out, size_t *len);

/*
 * Starts the HTTP server on `listen` (port 0 picks a free port; see local_addr).
 * Operators should bind 127.0.0.1 or a private address: the pages are not secret but
 * there is no authentication.  Returns 0, ETHP2P_EINVAL, ETHP2P_ESTATE (already
 * serving) or the environment's listen error (ETHP2P_EADDRINUSE, ETHP2P_EPERM, ...).
 */
int ethp2p_metrics_serve(ethp2p_metrics *m, const ethp2p_addr *listen);

/* The address the server listens on.  Returns 0, ETHP2P_ESTATE (not serving) or the
 * environment's error. */
int ethp2p_metrics_local_addr(ethp2p_metrics *m, ethp2p_addr *out);

#ifdef __cplusplus
}
#endif
#endif
