/*
 * nat/extip.c — "extip:IP": a static external address and no mapping.
 * external_ip answers the configured address (on the next loop turn, through
 * a timer, never inside the call); add/delete fail with ETHP2P_EUNSUPP.
 */
#include <stdlib.h>

#include "ethp2p/nat.h"
#include "nat/impl.h"

#define MAX_PENDING 16

typedef struct extip_nat {
  ethp2p_nat base;
  ethp2p_timer *timer;
  size_t n;
  struct {
    ethp2p_nat_extip_cb cb;
    void *data;
  } pending[MAX_PENDING];
} extip_nat;

static int extip_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint, uint16_t internal_port,
                     const char *desc, uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data) {
  return ETHP2P_EUNSUPP;
}

static int extip_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                        uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  return ETHP2P_EUNSUPP;
}

static void extip_fire(ethp2p_timer *t, void *data) {
  extip_nat *x = data;
  /* One per turn: a callback may queue more or destroy the NAT. */
  if (x->n > 0) {
    ethp2p_nat_extip_cb cb = x->pending[0].cb;
    void *cbdata = x->pending[0].data;
    for (size_t i = 1; i < x->n; i++)
      x->pending[i - 1] = x->pending[i];
    x->n--;
    ethp2p_addr ip = x->base.spec.addr;
    bool more = x->n > 0;
    if (more) /* re-arm first so a destroy inside cb also stops it */
      ethp2p_timer_start(x->timer, ethp2p_env_now(x->base.env));
    cb(&x->base, 0, &ip, cbdata);
  }
}

static int extip_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  extip_nat *x = (extip_nat *)nat;
  if (cb == NULL)
    return ETHP2P_EINVAL;
  if (x->n == MAX_PENDING)
    return ETHP2P_EBUSY;
  if (x->timer == NULL) {
    int rc = ethp2p_timer_create(nat->env, &x->timer, extip_fire, x);
    if (rc < 0)
      return rc;
  }
  x->pending[x->n].cb = cb;
  x->pending[x->n].data = data;
  x->n++;
  ethp2p_timer_start(x->timer, ethp2p_env_now(nat->env));
  return 0;
}

static void extip_destroy(ethp2p_nat *nat) {
  extip_nat *x = (extip_nat *)nat;
  ethp2p_timer_destroy(x->timer);
  free(x);
}

static const ethp2p_nat_ops extip_ops = {
    .add_mapping = extip_add,
    .delete_mapping = extip_delete,
    .external_ip = extip_extip,
    .rediscover = NULL,
    .destroy = extip_destroy,
};

int ethp2p_nat_extip_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (spec->kind != ETHP2P_NAT_EXTIP || !spec->has_addr)
    return ETHP2P_EINVAL;
  extip_nat *x = calloc(1, sizeof *x);
  if (x == NULL)
    return ETHP2P_ENOMEM;
  x->base.ops = &extip_ops;
  x->base.env = env;
  x->base.spec = *spec;
  x->base.name = "extip";
  x->base.caps = ETHP2P_NAT_CAP_STATIC_IP;
  *out = &x->base;
  return 0;
}
