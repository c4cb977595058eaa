/*
 * bench/bench_upnp_soap.c — what a node costs its UPnP router: SOAP requests per
 * node-day in the simulated world.  A node's port-mapping loop (ethp2p/portmap.h, default
 * settings: TCP and UDP on one port) runs through `--nat upnp` against the gateway
 * emulator (ethp2p/gateway.h, as miniupnpd: SSDP advertisements and GENA events) for one
 * simulated day, with a router restart and a WAN address change in it; the gateway counts
 * every control POST it answers.
 *
 * Printed:
 *   BENCH upnp_soap_requests_per_node_day N requests   (goal <= 1500)
 *   BENCH upnp_soap_requests_per_node_day_no_events N requests (quirks no-notify, no-gena)
 *   BENCH upnp_soap_requests_per_node_day_no_readd[_no_events] N requests: the same with
 *       the loop's re-add at every poll off (portmap poll_refresh -1), i.e. what a loop
 *       that honours ETHP2P_NAT_CAP_DETECTS_RESTART costs
 *   BENCH upnp_soap_requests_floor_per_node_day N requests  (reference measured in the same
 *       run: the renewals the lease forces, 24 h / refresh x 2 mappings, plus one poll
 *       request per extip interval)
 *   BENCH upnp_soap_vs_floor R ratio
 *   BENCH upnp_gena_requests_per_node_day N requests (SUBSCRIBE and renewals, not SOAP)
 * The figure depends on the loop: with ETHP2P_NAT_CAP_DETECTS_RESTART set (the UPnP
 * client sets it) a loop that honours the cap stops re-adding every mapping at every
 * poll; one that does not re-adds 2 mappings per poll (~1440 a day on top).
 * Named bench_upnp_* (not bench_nat_*) because it drives the loop of p2p/ and the
 * gateway emulator: the build links a bench_nat_* program with the nat layer only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/gateway.h"
#include "ethp2p/nat.h"
#include "ethp2p/portmap.h"
#include "ethp2p/sim.h"

typedef struct bench_lab {
  ethp2p_sim *sim;
  ethp2p_sim_nat *box;
  ethp2p_sim_host *node;
  ethp2p_gateway *gw;
  ethp2p_portmap *pm;
} bench_lab;

static int mirror(void *data, bool add, const ethp2p_gw_mapping *m, const ethp2p_addr *ext) {
  bench_lab *l = data;
  ethp2p_sim_forward f;
  (void)ext;
  if (!add)
    return ethp2p_sim_nat_forward_remove(l->box, (uint8_t)m->proto, m->external_port), 0;
  memset(&f, 0, sizeof f);
  f.proto = (uint8_t)m->proto;
  f.external_port = m->external_port;
  f.internal = m->internal;
  f.expires = m->expires;
  return ethp2p_sim_nat_forward_add(l->box, &f);
}

static void box_hook(ethp2p_sim_nat *nat, ethp2p_sim_nat_event ev, void *data) {
  bench_lab *l = data;
  if (ev == ETHP2P_SIM_NAT_REBOOTED) {
    ethp2p_gw_restart(l->gw);
  } else if (ev == ETHP2P_SIM_NAT_EXTADDR_CHANGED) {
    ethp2p_addr a = ethp2p_sim_nat_external_addr(nat);
    ethp2p_gw_set_external_ip(l->gw, &a);
  }
}

static void sink_ip(void *data, const ethp2p_addr *ip) {
  (void)data;
  (void)ip;
}
static void sink_port(void *data, uint16_t port) {
  (void)data;
  (void)port;
}

static int die(const char *what, int rc) {
  fprintf(stderr, "bench_upnp_soap: %s: %s\n", what, ethp2p_strerror(rc));
  exit(1);
}

/* One simulated day; returns the SOAP requests the gateway answered. */
static unsigned run_day(unsigned quirks, int poll_refresh, unsigned *gena, ethp2p_time *refresh,
                        ethp2p_time *poll) {
  bench_lab l;
  ethp2p_gw_config gc;
  ethp2p_portmap_config pc;
  ethp2p_portmap_sink sink = {sink_ip, sink_port, sink_port, NULL};
  ethp2p_nat_spec spec;
  ethp2p_nat *nat;
  ethp2p_gw_stats st;
  ethp2p_addr newip = ethp2p_addr_v4(198, 51, 100, 23, 0);
  int rc;
  memset(&l, 0, sizeof l);
  if ((rc = ethp2p_sim_create(&l.sim, 0xbe7c4u)) != 0)
    die("sim", rc);
  if ((rc = ethp2p_sim_nat_create(l.sim, &l.box, "router", NULL)) != 0)
    die("nat box", rc);
  if ((rc = ethp2p_sim_nat_add_host(l.box, &l.node, "node", NULL)) != 0)
    die("host", rc);
  ethp2p_gw_config_default(&gc);
  gc.lan_addr = ethp2p_sim_nat_inside_addr(l.box);
  gc.external_ip = ethp2p_sim_nat_external_addr(l.box);
  gc.quirks = quirks;
  gc.policy.pmp = gc.policy.pcp = false;
  if ((rc = ethp2p_gw_create(ethp2p_sim_host_env(ethp2p_sim_nat_host(l.box)), &gc, &l.gw)) != 0)
    die("gateway", rc);
  ethp2p_gw_set_mirror(l.gw, mirror, &l);
  if ((rc = ethp2p_sim_nat_hook_add(l.box, box_hook, &l)) != 0)
    die("hook", rc);
  if ((rc = ethp2p_gw_start(l.gw)) != 0)
    die("gateway start", rc);
  memset(&spec, 0, sizeof spec);
  spec.kind = ETHP2P_NAT_UPNP;
  if ((rc = ethp2p_nat_create(ethp2p_sim_host_env(l.node), &spec, &nat)) != 0)
    die("nat", rc);
  ethp2p_portmap_config_default(&pc);
  pc.poll_refresh = poll_refresh;
  *refresh = pc.refresh;
  *poll = pc.extip_interval;
  if ((rc = ethp2p_portmap_create(ethp2p_sim_host_env(l.node), nat, &pc, &sink, &l.pm)) != 0)
    die("portmap", rc);
  ethp2p_portmap_add(l.pm, ETHP2P_PROTO_TCP, 30303, 30303, "ethp2p tcp");
  ethp2p_portmap_add(l.pm, ETHP2P_PROTO_UDP, 30303, 30303, "ethp2p udp");
  if ((rc = ethp2p_portmap_start(l.pm)) != 0)
    die("portmap start", rc);
  ethp2p_sim_run(l.sim, 7 * ETHP2P_HOUR);
  ethp2p_sim_nat_reboot(l.box);
  ethp2p_sim_run(l.sim, 6 * ETHP2P_HOUR);
  ethp2p_sim_nat_set_external_addr(l.box, &newip);
  ethp2p_sim_run(l.sim, 11 * ETHP2P_HOUR);
  ethp2p_gw_get_stats(l.gw, &st);
  *gena = st.subscribes + st.renewals + st.unsubscribes;
  ethp2p_portmap_destroy(l.pm);
  ethp2p_sim_run(l.sim, ETHP2P_SEC);
  ethp2p_gw_destroy(l.gw);
  ethp2p_sim_destroy(l.sim);
  return st.soap_requests;
}

int main(void) {
  unsigned gena = 0, gena2 = 0;
  ethp2p_time refresh = 0, poll = 0;
  /* The loop as it is built here (its default re-add-at-poll rule), and with re-adding at
   * polls off, which is what a loop honouring ETHP2P_NAT_CAP_DETECTS_RESTART does. */
  unsigned with = run_day(0, 0, &gena, &refresh, &poll);
  unsigned without =
      run_day(ETHP2P_GW_Q_NO_NOTIFY | ETHP2P_GW_Q_NO_GENA, 0, &gena2, &refresh, &poll);
  unsigned cap = run_day(0, -1, &gena2, &refresh, &poll);
  unsigned cap_without =
      run_day(ETHP2P_GW_Q_NO_NOTIFY | ETHP2P_GW_Q_NO_GENA, -1, &gena2, &refresh, &poll);
  double floor = 2.0 * (double)ETHP2P_DAY / (double)refresh + (double)ETHP2P_DAY / (double)poll;
  printf("BENCH upnp_soap_requests_per_node_day %u requests\n", with);
  printf("BENCH upnp_soap_requests_per_node_day_no_events %u requests\n", without);
  printf("BENCH upnp_soap_requests_per_node_day_no_readd %u requests\n", cap);
  printf("BENCH upnp_soap_requests_per_node_day_no_readd_no_events %u requests\n", cap_without);
  printf("BENCH upnp_soap_requests_floor_per_node_day %.0f requests\n", floor);
  printf("BENCH upnp_soap_vs_floor %.2f ratio\n", (double)with / floor);
  printf("BENCH upnp_soap_no_readd_vs_floor %.2f ratio\n", (double)cap / floor);
  printf("BENCH upnp_gena_requests_per_node_day %u requests\n", gena);
  return 0;
}
