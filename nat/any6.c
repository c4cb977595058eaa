/*
 * nat/any6.c — "any" for IPv6: PCP over IPv6 first, then UPnP IGDv2 pinholes.
 *
 * The IPv4 "any" (nat/any.c) races its candidates on an external-address
 * query, because each one has to ask its gateway.  Over IPv6 nothing is
 * translated: both candidates answer external_ip() with our own address
 * without a request, so a race would always be won by whoever is asked first.
 * What tells the mechanisms apart is whether the router grants a pinhole, so
 * this wrapper decides on add_mapping:
 * - Operations go to the current candidate (PCP first).
 * - Until some candidate has granted a pinhole, a failed add_mapping is
 *   retried once on the other candidate, which becomes the current one.  The
 *   caller sees one result: the second candidate's.
 * - Once a candidate granted, it is the winner and its failures reach the
 *   caller unchanged (the loop decides what to do, as with any NAT), until
 *   rediscover() forgets the winner.
 * - nat->name and nat->caps are the current candidate's; notifications of the
 *   current candidate are passed on, the other's are dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/impl.h"
#include "nat/upnp6.h"

#define N_CAND6 2

typedef enum { OP6_MAP = 1, OP6_UNMAP, OP6_EXTIP } any6_op_kind;

typedef struct any6 any6;

typedef struct any6_op {
  struct any6_op *next;
  any6 *owner;
  any6_op_kind kind;
  int cand;  /* candidate the operation is running on */
  int tries; /* candidates tried so far */
  ethp2p_proto proto;
  uint16_t ext_hint;
  uint16_t internal_port;
  uint16_t external_port;
  uint32_t lifetime_s;
  char desc[64];
  ethp2p_nat_map_cb map_cb;
  ethp2p_nat_done_cb done_cb;
  ethp2p_nat_extip_cb extip_cb;
  void *data;
} any6_op;

struct any6 {
  ethp2p_nat base;
  ethp2p_nat *cand[N_CAND6]; /* created lazily; NULL when it could not be created */
  bool tried_create[N_CAND6];
  int cur;
  bool granted; /* cur is the winner */
  any6_op *ops; /* in flight, freed on destroy */
  bool have_key;
  uint8_t key[32];
};

static const ethp2p_nat_ops any6_ops;

static void cand_notify(ethp2p_nat *nat, ethp2p_nat_event ev, const ethp2p_addr *ip, void *data) {
  any6 *a = data;
  if (a->cand[a->cur] == nat)
    ethp2p_nat_notify(&a->base, ev, ip);
}

/* The candidate i, created on first use.  NULL when it cannot exist here. */
static ethp2p_nat *cand_get(any6 *a, int i) {
  if (a->cand[i] != NULL || a->tried_create[i])
    return a->cand[i];
  a->tried_create[i] = true;
  int rc;
  if (i == 0) {
    ethp2p_nat_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.kind = ETHP2P_NAT_PCP;
    rc = ethp2p_nat_pcp6_create(a->base.env, &spec, &a->cand[i]);
    if (rc == 0 && a->have_key)
      (void)ethp2p_nat_pcp_set_nonce_key(a->cand[i], a->key); /* only EUNSUPP for other kinds */
  } else {
    rc = ethp2p_nat_upnp6_create(a->base.env, &a->cand[i]);
  }
  if (rc != 0) {
    a->cand[i] = NULL;
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "IPv6 NAT mechanism unavailable", "mechanism=%s err=%s",
               i == 0 ? "PCP" : "UPnP", ethp2p_strerror(rc));
    return NULL;
  }
  ethp2p_nat_set_notify(a->cand[i], cand_notify, a);
  return a->cand[i];
}

static void set_cur(any6 *a, int i) {
  a->cur = i;
  if (a->cand[i] != NULL) {
    a->base.name = a->cand[i]->name;
    a->base.caps = a->cand[i]->caps;
  }
}

static void op_unlink(any6 *a, any6_op *op) {
  for (any6_op **p = &a->ops; *p != NULL; p = &(*p)->next) {
    if (*p == op) {
      *p = op->next;
      return;
    }
  }
}

static int op_start(any6_op *op);

static void on_map(ethp2p_nat *nat, const ethp2p_nat_map_result *res, void *data) {
  any6_op *op = data;
  any6 *a = op->owner;
  (void)nat;
  if (res->status == 0) {
    if (!a->granted)
      ethp2p_log(ETHP2P_LOG_INFO, "nat", "IPv6 NAT mechanism chosen", "mechanism=%s",
                 a->cand[op->cand]->name);
    a->granted = true;
    set_cur(a, op->cand);
  } else if (!a->granted && op->tries < N_CAND6) {
    int other = (op->cand + 1) % N_CAND6;
    if (cand_get(a, other) != NULL) {
      ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "IPv6 pinhole refused, trying the other mechanism",
                 "from=%s to=%s err=%s", a->cand[op->cand]->name, a->cand[other]->name,
                 ethp2p_strerror(res->status));
      set_cur(a, other);
      op->cand = other;
      if (op_start(op) == 0)
        return;
    }
  }
  op_unlink(a, op);
  ethp2p_nat_map_result out = *res;
  ethp2p_nat_map_cb cb = op->map_cb;
  void *cbdata = op->data;
  free(op);
  cb(&a->base, &out, cbdata);
}

static void on_done(ethp2p_nat *nat, int status, void *data) {
  any6_op *op = data;
  any6 *a = op->owner;
  (void)nat;
  op_unlink(a, op);
  ethp2p_nat_done_cb cb = op->done_cb;
  void *cbdata = op->data;
  free(op);
  if (cb != NULL)
    cb(&a->base, status, cbdata);
}

static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  any6_op *op = data;
  any6 *a = op->owner;
  (void)nat;
  op_unlink(a, op);
  ethp2p_nat_extip_cb cb = op->extip_cb;
  void *cbdata = op->data;
  free(op);
  cb(&a->base, status, ip, cbdata);
}

/* Runs op on its candidate.  Returns 0 (the callback will come) or an error
 * (no callback). */
static int op_start(any6_op *op) {
  ethp2p_nat *c = cand_get(op->owner, op->cand);
  if (c == NULL)
    return ETHP2P_EUNSUPP;
  op->tries++;
  switch (op->kind) {
  case OP6_MAP:
    return ethp2p_nat_add_mapping(c, op->proto, op->ext_hint, op->internal_port, op->desc,
                                  op->lifetime_s, on_map, op);
  case OP6_UNMAP:
    return ethp2p_nat_delete_mapping(c, op->proto, op->external_port, op->internal_port, on_done,
                                     op);
  case OP6_EXTIP:
    return ethp2p_nat_external_ip(c, on_extip, op);
  }
  return ETHP2P_EINVAL;
}

/* Starts a new operation on the current candidate, or the other one when the
 * current cannot be created. */
static int op_submit(any6 *a, any6_op *op) {
  op->owner = a;
  op->cand = a->cur;
  if (cand_get(a, op->cand) == NULL && !a->granted) {
    int other = (a->cur + 1) % N_CAND6;
    if (cand_get(a, other) == NULL) {
      free(op);
      return ETHP2P_EUNSUPP;
    }
    op->cand = other;
  }
  set_cur(a, op->cand);
  int rc = op_start(op);
  if (rc < 0 && op->kind == OP6_MAP && !a->granted && rc != ETHP2P_EINVAL) {
    /* the current one failed at once (no IPv6 router for PCP, say): the other */
    int other = (op->cand + 1) % N_CAND6;
    if (cand_get(a, other) != NULL) {
      set_cur(a, other);
      op->cand = other;
      rc = op_start(op);
    }
  }
  if (rc < 0) {
    free(op);
    return rc;
  }
  op->next = a->ops;
  a->ops = op;
  return 0;
}

static int any6_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint, uint16_t internal_port,
                    const char *desc, uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data) {
  if (cb == NULL)
    return ETHP2P_EINVAL;
  any6_op *op = calloc(1, sizeof *op);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->kind = OP6_MAP;
  op->proto = proto;
  op->ext_hint = ext_hint;
  op->internal_port = internal_port;
  op->lifetime_s = lifetime_s;
  if (desc != NULL)
    snprintf(op->desc, sizeof op->desc, "%s", desc);
  op->map_cb = cb;
  op->data = data;
  return op_submit((any6 *)nat, op);
}

static int any6_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                       uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  any6_op *op = calloc(1, sizeof *op);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->kind = OP6_UNMAP;
  op->proto = proto;
  op->external_port = external_port;
  op->internal_port = internal_port;
  op->done_cb = cb;
  op->data = data;
  op->tries = N_CAND6; /* a delete is never moved to the other mechanism */
  return op_submit((any6 *)nat, op);
}

static int any6_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  if (cb == NULL)
    return ETHP2P_EINVAL;
  any6_op *op = calloc(1, sizeof *op);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  op->kind = OP6_EXTIP;
  op->extip_cb = cb;
  op->data = data;
  op->tries = N_CAND6;
  return op_submit((any6 *)nat, op);
}

static void any6_rediscover(ethp2p_nat *nat) {
  any6 *a = (any6 *)nat;
  a->granted = false;
  for (int i = 0; i < N_CAND6; i++)
    if (a->cand[i] != NULL)
      ethp2p_nat_rediscover(a->cand[i]);
  set_cur(a, 0);
}

static void any6_destroy(ethp2p_nat *nat) {
  any6 *a = (any6 *)nat;
  for (int i = 0; i < N_CAND6; i++)
    if (a->cand[i] != NULL)
      ethp2p_nat_destroy(a->cand[i]); /* drops their callbacks */
  while (a->ops != NULL) {
    any6_op *next = a->ops->next;
    free(a->ops);
    a->ops = next;
  }
  free(a);
}

static const ethp2p_nat_ops any6_ops = {
    .add_mapping = any6_add,
    .delete_mapping = any6_delete,
    .external_ip = any6_extip,
    .rediscover = any6_rediscover,
    .destroy = any6_destroy,
};

bool ethp2p_nat_is_any6(const ethp2p_nat *nat) {
  return nat != NULL && nat->ops == &any6_ops;
}

int ethp2p_nat_any6_set_nonce_key(ethp2p_nat *nat, const uint8_t key[32]) {
  any6 *a = (any6 *)nat;
  memcpy(a->key, key, sizeof a->key);
  a->have_key = true;
  if (a->cand[0] != NULL)
    return ethp2p_nat_pcp_set_nonce_key(a->cand[0], key);
  return 0;
}

int ethp2p_nat_any6_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (spec->kind != ETHP2P_NAT_ANY)
    return ETHP2P_EINVAL;
  any6 *a = calloc(1, sizeof *a);
  if (a == NULL)
    return ETHP2P_ENOMEM;
  a->base.ops = &any6_ops;
  a->base.env = env;
  a->base.spec = *spec;
  a->base.name = "any";
  a->base.caps = ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP;
  *out = &a->base;
  return 0;
}
