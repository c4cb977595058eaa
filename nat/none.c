/*
 * nat/none.c — "none": no mechanism.  Nothing is mapped and no address is
 * known; every operation fails at once with ETHP2P_EUNSUPP (and so never calls
 * its callback).  The port-mapping loop drains its registrations on it.
 */
#include <stdlib.h>

#include "ethp2p/nat.h"
#include "nat/impl.h"

static int none_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint, uint16_t internal_port,
                    const char *desc, uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data) {
  return ETHP2P_EUNSUPP;
}

static int none_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                       uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  return ETHP2P_EUNSUPP;
}

static int none_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  return ETHP2P_EUNSUPP;
}

static void none_destroy(ethp2p_nat *nat) {
  free(nat);
}

static const ethp2p_nat_ops none_ops = {
    .add_mapping = none_add,
    .delete_mapping = none_delete,
    .external_ip = none_extip,
    .rediscover = NULL,
    .destroy = none_destroy,
};

int ethp2p_nat_none_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (spec->kind != ETHP2P_NAT_NONE)
    return ETHP2P_EINVAL;
  ethp2p_nat *nat = calloc(1, sizeof *nat);
  if (nat == NULL)
    return ETHP2P_ENOMEM;
  nat->ops = &none_ops;
  nat->env = env;
  nat->spec = *spec;
  nat->name = "none";
  nat->caps = 0;
  *out = nat;
  return 0;
}
