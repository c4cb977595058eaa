/*
 * nat/doctor_impl.h — internal to nat/doctor*.c: the probing state behind
 * ethp2p_doctor (ethp2p/doctor.h).  Not installed.
 */
#ifndef ETHP2P_NAT_DOCTOR_IMPL_H
#define ETHP2P_NAT_DOCTOR_IMPL_H

#include "ethp2p/doctor.h"

#define DOCTOR_UPNP_MAX_SOCKS 8

/* The UPnP device details (nat/doctor_upnp.c).  A bridge: the search and the
 * description fetch follow nat/upnp.c's discovery rules (same targets and
 * bursts, MX 1, a reply counts only if its LOCATION host is its sender)
 * until the UPnP client reports the device it chose itself. */
typedef struct doctor_upnp_sock {
  struct ethp2p_doctor *d;
  ethp2p_udp *udp;
  ethp2p_addr iface; /* port 0 */
  unsigned prefix;
} doctor_upnp_sock;

typedef struct doctor_upnp_probe {
  doctor_upnp_sock socks[DOCTOR_UPNP_MAX_SOCKS];
  size_t nsocks;
  unsigned bursts;
  ethp2p_timer *timer;
  struct ethp2p_http_client *http;
} doctor_upnp_probe;

/* The live state of one gateway protocol. */
typedef struct doctor_gw_run {
  bool done; /* the chain finished (or was cut off) */
  ethp2p_nat *nat;
  int step; /* mapping test step, see proto_step in nat/doctor.c */
} doctor_gw_run;

struct ethp2p_doctor {
  ethp2p_env *env;
  ethp2p_doctor_report r;
  ethp2p_doctor_done_cb cb;
  void *cb_data;
  bool started, finished;
  ethp2p_timer *timer;
  ethp2p_time started_at;
  doctor_gw_run gw[ETHP2P_DOCTOR_NGW];
  int mapping_turn; /* protocol whose mapping test runs, -1 none yet */
  doctor_upnp_probe upnp;
  ethp2p_natb *natb;
};

/* Re-checks whether everything is done (nat/doctor.c); probes call it after
 * each answer. */
void doctor_check_done(struct ethp2p_doctor *d);

/* nat/doctor_upnp.c: starts the search (sets r.upnp.probed); true while a
 * description fetch is in flight; closes everything (idempotent). */
void doctor_upnp_start(struct ethp2p_doctor *d);
bool doctor_upnp_busy(const struct ethp2p_doctor *d);
void doctor_upnp_stop(struct ethp2p_doctor *d);

#endif
