/*
 * p2p/metrics_impl.h — private layout of ethp2p_metrics, shared by p2p/metrics.c (state,
 * rendering), p2p/metrics_http.c (the HTTP server) and p2p/metrics_localnode.c (the
 * local-node subscription, a file of its own so programs that never attach a local node
 * do not link it).  Not installed.
 */
#ifndef ETHP2P_P2P_METRICS_IMPL_H
#define ETHP2P_P2P_METRICS_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "ethp2p/metrics.h"

/* Per (proto, internal port), only while no portmap is attached (events pushed by
 * hand): counters and state derived from events.  With a portmap attached
 * everything comes from its own list (ethp2p_portmap_mappings). */
typedef struct metrics_map {
  bool used;
  ethp2p_proto proto;
  uint16_t internal_port;
  uint64_t added, renewed, failed, lost;
  bool up;
  bool permanent;
  uint16_t external_port;
  ethp2p_time expires; /* 0 = permanent or none */
  unsigned failures;
} metrics_map;

typedef struct metrics_event {
  ethp2p_portmap_event ev;
  int64_t wall_ms;
} metrics_event;

/* HTTP status codes counted in ethp2p_metrics_http_requests_total. */
#define METRICS_HTTP_CODES 7
extern const int ethp2p_metrics_http_codes_[METRICS_HTTP_CODES];

typedef struct metrics_conn metrics_conn;

struct ethp2p_metrics {
  ethp2p_env *env;
  ethp2p_time start;
  int64_t start_wall_ms;

  ethp2p_portmap *pm;
  int pm_sub;

  ethp2p_localnode *ln;
  int ln_sub;
  void (*ln_detach)(ethp2p_metrics *m); /* set by attach_localnode */

  bool has_record;
  ethp2p_enr record;
  uint64_t record_updates;

  char mechanism[64];
  char spec[64];

  metrics_map maps[ETHP2P_METRICS_MAX_MAPPINGS];
  uint64_t ev_counts[16]; /* by ethp2p_portmap_event_type */
  uint64_t extip_changes, extip_private, gw_lost;
  bool gw_up;
  bool first_known;
  ethp2p_time first_mapping; /* duration since start */
  ethp2p_addr extip;         /* from events */
  bool extip_advertised;

  metrics_event ring[ETHP2P_METRICS_EVENTS];
  size_t ring_next, ring_n;

  /* HTTP server (p2p/metrics_http.c) */
  ethp2p_tcp *listener;
  metrics_conn *conns;
  size_t nconns;
  uint64_t http_counts[METRICS_HTTP_CODES];
  uint64_t http_refused; /* connections closed at accept (limit) */
};

/* Closes the listener and every connection (metrics_http.c). */
void ethp2p_metrics_http_close_(ethp2p_metrics *m);
/* Counts a response with this status code. */
void ethp2p_metrics_http_count_(ethp2p_metrics *m, int code);

#endif
