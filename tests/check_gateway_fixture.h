/*
 * tests/check_gateway_fixture.h — the simulated world the gateway suites share:
 * a NAT box running the gateway on its inside address (192.168.1.1), two LAN
 * hosts (192.168.1.2 and .3), and one internet host.  The gateway's mirror
 * hook drives the box's port-forward table; the box's reboot and address
 * change hooks drive the gateway, the way a router's firmware would.
 * Header-only (static functions) so each check_gateway_*.c stays one file.
 */
#ifndef CHECK_GATEWAY_FIXTURE_H
#define CHECK_GATEWAY_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/gateway.h"
#include "ethp2p/sim.h"

#define FX_SEED 0x6a7e3a7u
#define FX_FN static __attribute__((unused))
#define FX_MAX_EVENTS 64

typedef struct fx_udp {
  ethp2p_udp *udp;
  int n;
  uint8_t buf[2048];
  size_t len;
  ethp2p_addr from;
} fx_udp;

typedef struct fx {
  ethp2p_sim *sim;
  ethp2p_sim_nat *nat;
  ethp2p_sim_host *box, *h1, *h2, *wan;
  ethp2p_env *e1, *e2, *ewan;
  ethp2p_gw_config cfg;
  ethp2p_gateway *gw;
  ethp2p_addr gwaddr, ext;
  int n_changes;
  ethp2p_gw_change changes[FX_MAX_EVENTS];
  ethp2p_gw_mapping mappings[FX_MAX_EVENTS];
  int mirror_fail; /* make the mirror refuse adds */
} fx;

FX_FN void fx_on_change(ethp2p_gateway *gw, ethp2p_gw_change change, const ethp2p_gw_mapping *m,
                        void *data) {
  fx *f = data;
  (void)gw;
  if (f->n_changes < FX_MAX_EVENTS) {
    f->changes[f->n_changes] = change;
    f->mappings[f->n_changes] = *m;
  }
  f->n_changes++;
}

/* The gateway's mapping table drives the simulated box's forwards. */
FX_FN int fx_mirror(void *data, bool add, const ethp2p_gw_mapping *m, const ethp2p_addr *ext) {
  fx *f = data;
  (void)ext;
  if (!add) {
    ethp2p_sim_nat_forward_remove(f->nat, (uint8_t)m->proto, m->external_port);
    return 0;
  }
  if (f->mirror_fail)
    return ETHP2P_EIO;
  ethp2p_sim_forward fw = {(uint8_t)m->proto, m->external_port, m->internal, m->expires};
  return ethp2p_sim_nat_forward_add(f->nat, &fw);
}

/* Router firmware: a reboot restarts the services, an address change announces. */
FX_FN void fx_nat_hook(ethp2p_sim_nat *nat, ethp2p_sim_nat_event ev, void *data) {
  fx *f = data;
  if (ev == ETHP2P_SIM_NAT_REBOOTED) {
    ethp2p_gw_restart(f->gw);
  } else if (ev == ETHP2P_SIM_NAT_EXTADDR_CHANGED) {
    ethp2p_addr a = ethp2p_sim_nat_external_addr(nat);
    ethp2p_gw_set_external_ip(f->gw, &a);
  }
}

/* Builds the world; cfg_edit (may be NULL) adjusts the config before start. */
FX_FN void fx_setup(fx *f, void (*cfg_edit)(ethp2p_gw_config *cfg)) {
  memset(f, 0, sizeof *f);
  ck_assert_int_eq(ethp2p_sim_create(&f->sim, FX_SEED), 0);
  ck_assert_int_eq(ethp2p_sim_nat_create(f->sim, &f->nat, "router", NULL), 0);
  f->box = ethp2p_sim_nat_host(f->nat);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(f->nat, &f->h1, "alice", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_nat_add_host(f->nat, &f->h2, "bob", NULL), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(f->sim, &f->wan, "peer", NULL), 0);
  f->e1 = ethp2p_sim_host_env(f->h1);
  f->e2 = ethp2p_sim_host_env(f->h2);
  f->ewan = ethp2p_sim_host_env(f->wan);
  f->gwaddr = ethp2p_sim_nat_inside_addr(f->nat);
  f->ext = ethp2p_sim_nat_external_addr(f->nat);
  ethp2p_gw_config_default(&f->cfg);
  f->cfg.lan_addr = f->gwaddr;
  f->cfg.external_ip = f->ext;
  f->cfg.http_port = 5000;
  snprintf(f->cfg.uuid, sizeof f->cfg.uuid, "%s", "4d696e69-5550-6e50-0000-000000000001");
  if (cfg_edit != NULL)
    cfg_edit(&f->cfg);
  ck_assert_int_eq(ethp2p_gw_create(ethp2p_sim_host_env(f->box), &f->cfg, &f->gw), 0);
  ethp2p_gw_set_change_cb(f->gw, fx_on_change, f);
  ethp2p_gw_set_mirror(f->gw, fx_mirror, f);
  ck_assert_int_eq(ethp2p_sim_nat_hook_add(f->nat, fx_nat_hook, f), 0);
  ck_assert_int_eq(ethp2p_gw_start(f->gw), 0);
  /* Let the start-up announcements go out. */
  ethp2p_sim_run(f->sim, 2 * ETHP2P_MIN);
}

FX_FN void fx_teardown(fx *f) {
  ethp2p_gw_destroy(f->gw);
  ethp2p_sim_destroy(f->sim);
}

FX_FN void fx_udp_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                       void *data) {
  fx_udp *u = data;
  (void)udp;
  u->n++;
  u->from = *from;
  u->len = len < sizeof u->buf ? len : sizeof u->buf;
  memcpy(u->buf, buf, u->len);
}

FX_FN void fx_udp_open(fx_udp *u, ethp2p_env *env, uint16_t port) {
  ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, port);
  memset(u, 0, sizeof *u);
  ck_assert_int_eq(ethp2p_udp_open(env, &u->udp, &any, ETHP2P_UDP_REUSEADDR, fx_udp_recv, u), 0);
}

/* Sends buf to the gateway's port `port` and runs the world until a reply
 * (or 2 s).  Returns the number of datagrams received meanwhile. */
FX_FN int fx_exchange(fx *f, fx_udp *u, uint16_t port, const uint8_t *buf, size_t len) {
  ethp2p_addr to = f->gwaddr;
  int before = u->n;
  to.port = port;
  ck_assert_int_eq(ethp2p_udp_send(u->udp, &to, buf, len), 0);
  for (int i = 0; i < 200 && u->n == before; i++)
    ethp2p_sim_run(f->sim, 10 * ETHP2P_MSEC);
  return u->n - before;
}

FX_FN int fx_count(const fx *f, ethp2p_gw_change change) {
  int n = 0;
  for (int i = 0; i < f->n_changes && i < FX_MAX_EVENTS; i++)
    if (f->changes[i] == change)
      n++;
  return n;
}

#endif
