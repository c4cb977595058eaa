/*
 * nat/doctor_impl.h — internal to nat/doctor*.c: the probing state behind
 * ethp2p_doctor (ethp2p/doctor.h).  Not installed.
 */
#ifndef ETHP2P_NAT_DOCTOR_IMPL_H
#define ETHP2P_NAT_DOCTOR_IMPL_H

#include "ethp2p/doctor.h"

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
  ethp2p_natb *natb;
};

/* Re-checks whether everything is done (nat/doctor.c); probes call it after
 * each answer. */
void doctor_check_done(struct ethp2p_doctor *d);

/* nat/doctor_upnp.c: copies what the UPnP client `nat` found in its discovery (the
 * node's own, nat/upnp.c) into d->r.upnp; called before that client is destroyed.  Does
 * nothing when nat is NULL, found nothing, or was already collected. */
void doctor_upnp_collect(struct ethp2p_doctor *d, const ethp2p_nat *nat);

#endif
