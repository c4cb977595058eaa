/*
 * nat/any.c — "any": race PCP (with its NAT-PMP downgrade) and UPnP; the
 * first that answers an external-address query wins and serves everything
 * afterwards.
 *
 * - Discovery is lazy: the first operation starts it; operations made while
 *   it runs wait in a queue and are replayed on the winner.
 * - UPnP comes through ethp2p_nat_upnp_create (nat/upnp.c);
 *   races PCP alone.
 * - nat->name is "any" until a winner is known, then the winner's name;
 *   nat->caps likewise become the winner's (until then: map and poll).
 * - A PCP-only gateway wins through the PCP candidate: its address probe is
 *   answered with a PCP ANNOUNCE (nat/pcp.c), possibly with 0.0.0.0 before
 *   the first MAP.
 * - rediscover() forgets the winner (once its pending operations finished);
 *   the next operation races again.
 * - A winner that answers but refuses every mapping (ANY_MAX_REFUSALS
 *   refusals in a row and not one grant since it won: say a router whose
 *   NAT-PMP/PCP is switched off for us but whose UPnP works) is replaced: it
 *   is forgotten like rediscover() does, and the next race runs without it.
 *   The exclusion holds for that one race: if no other candidate answers,
 *   the race after it tries every candidate again.
 * - If every candidate fails, queued operations fail with the last error
 *   (the caller counts connection failures from it) and the next operation
 *   starts a new race.
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/impl.h"

#define N_CAND 2
/* Refusals in a row, with no grant since winning, after which a winner is replaced. */
#define ANY_MAX_REFUSALS 2

typedef enum { OP_MAP, OP_UNMAP, OP_EXTIP } op_kind;

typedef struct any_op {
  struct any_op *next;
  op_kind kind;
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
} any_op;

typedef struct any_nat any_nat;

typedef struct any_probe {
  any_nat *owner;
  int idx;
} any_probe;

/* An operation forwarded to the winner. */
typedef struct any_fwd {
  struct any_fwd *next;
  any_nat *owner;
  op_kind kind;
  ethp2p_nat_map_cb map_cb;
  ethp2p_nat_done_cb done_cb;
  ethp2p_nat_extip_cb extip_cb;
  void *data;
} any_fwd;

struct any_nat {
  ethp2p_nat base;
  ethp2p_nat *cand[N_CAND];
  bool probing[N_CAND];
  any_probe probes[N_CAND];
  ethp2p_nat *winner;
  int winner_idx;      /* the winner's candidate slot */
  bool winner_granted; /* the winner granted a mapping since it won */
  unsigned refusals;   /* map refusals by the winner in a row */
  int excluded;        /* candidate slot left out of the next race, -1 = none */
  bool discovering;
  int last_err;
  any_op *head, *tail;
  any_fwd *fwds;
  bool have_key;
  uint8_t key[32];
  bool rediscover_pending;
  int busy;
  bool destroyed;
};

static bool leave(any_nat *a) {
  if (--a->busy == 0 && a->destroyed) {
    free(a);
    return true;
  }
  return a->destroyed;
}

static void on_winner_notify(ethp2p_nat *w, ethp2p_nat_event ev, const ethp2p_addr *ip,
                             void *data) {
  any_nat *a = data;
  a->busy++;
  ethp2p_nat_notify(&a->base, ev, ip);
  leave(a);
}

/* Before a winner is known: map and poll; and no delete of a replaced port
 * (the safe reading until the winner says how it deletes). */
#define ANY_CAPS                                                                                   \
  (ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DELETES_BY_INTERNAL)

static void drop_winner(any_nat *a) {
  ethp2p_nat_destroy(a->winner);
  a->winner = NULL;
  a->winner_granted = false;
  a->refusals = 0;
  a->base.name = "any";
  a->base.caps = ANY_CAPS;
  a->rediscover_pending = false;
}

/* ---- forwarding to the winner --------------------------------------------- */

static void fwd_unlink(any_nat *a, any_fwd *f) {
  for (any_fwd **pp = &a->fwds; *pp != NULL; pp = &(*pp)->next)
    if (*pp == f) {
      *pp = f->next;
      return;
    }
}

/* After a forwarded operation ends: mirror the winner's capabilities (they
 * may change), and apply a deferred rediscover once nothing is pending. */
static void fwd_done(any_nat *a) {
  if (a->winner != NULL)
    a->base.caps = a->winner->caps;
  if (a->rediscover_pending && a->fwds == NULL)
    drop_winner(a);
}

/* A refusal: the gateway answered and said no (not a timeout, not "ask for
 * a permanent lease", not "your address changed", which lead elsewhere). */
static bool is_refusal(int status) {
  return status != 0 && !ethp2p_nat_is_conn_failure(status) && status != ETHP2P_EPERMANENT &&
         status != ETHP2P_EADDRCHANGED;
}

/* Counts the winner's answers to mappings; one that refuses every mapping
 * is replaced once its pending operations finished (fwd_done). */
static void note_map_result(any_nat *a, ethp2p_nat *w, int status) {
  if (w != a->winner || a->rediscover_pending)
    return;
  if (status == 0) {
    a->winner_granted = true;
    a->refusals = 0;
  } else if (is_refusal(status)) {
    if (!a->winner_granted && ++a->refusals >= ANY_MAX_REFUSALS) {
      ethp2p_log(ETHP2P_LOG_INFO, "nat", "NAT mechanism refuses every mapping; racing the others",
                 "mechanism=%s refusals=%u err=%s", w->name, a->refusals, ethp2p_strerror(status));
      a->excluded = a->winner_idx;
      a->rediscover_pending = true;
    }
  } else {
    a->refusals = 0;
  }
}

static void fwd_map_cb(ethp2p_nat *w, const ethp2p_nat_map_result *res, void *data) {
  any_fwd *f = data;
  any_nat *a = f->owner;
  fwd_unlink(a, f);
  note_map_result(a, w, res->status);
  a->busy++;
  f->map_cb(&a->base, res, f->data);
  free(f);
  if (!leave(a))
    fwd_done(a);
}

static void fwd_done_cb(ethp2p_nat *w, int status, void *data) {
  any_fwd *f = data;
  any_nat *a = f->owner;
  fwd_unlink(a, f);
  a->busy++;
  if (f->done_cb != NULL)
    f->done_cb(&a->base, status, f->data);
  free(f);
  if (!leave(a))
    fwd_done(a);
}

static void fwd_extip_cb(ethp2p_nat *w, int status, const ethp2p_addr *ip, void *data) {
  any_fwd *f = data;
  any_nat *a = f->owner;
  fwd_unlink(a, f);
  a->busy++;
  f->extip_cb(&a->base, status, ip, f->data);
  free(f);
  if (!leave(a))
    fwd_done(a);
}

/* Starts op on the winner.  Returns 0 or the winner's synchronous error. */
static int forward(any_nat *a, const any_op *op) {
  any_fwd *f = calloc(1, sizeof *f);
  if (f == NULL)
    return ETHP2P_ENOMEM;
  f->owner = a;
  f->kind = op->kind;
  f->map_cb = op->map_cb;
  f->done_cb = op->done_cb;
  f->extip_cb = op->extip_cb;
  f->data = op->data;
  int rc;
  if (op->kind == OP_MAP)
    rc = ethp2p_nat_add_mapping(a->winner, op->proto, op->ext_hint, op->internal_port, op->desc,
                                op->lifetime_s, fwd_map_cb, f);
  else if (op->kind == OP_UNMAP)
    rc = ethp2p_nat_delete_mapping(a->winner, op->proto, op->external_port, op->internal_port,
                                   fwd_done_cb, f);
  else
    rc = ethp2p_nat_external_ip(a->winner, fwd_extip_cb, f);
  if (rc < 0) {
    free(f);
    return rc;
  }
  f->next = a->fwds;
  a->fwds = f;
  return 0;
}

/* Completes a queued op with an error (from a callback, never inside the user's call). */
static void fail_op(any_nat *a, const any_op *op, int status) {
  if (op->kind == OP_MAP) {
    ethp2p_nat_map_result res;
    memset(&res, 0, sizeof res);
    res.status = status;
    op->map_cb(&a->base, &res, op->data);
  } else if (op->kind == OP_UNMAP) {
    if (op->done_cb != NULL)
      op->done_cb(&a->base, status, op->data);
  } else {
    op->extip_cb(&a->base, status, NULL, op->data);
  }
}

/* ---- the race --------------------------------------------------------------- */

static void end_discovery(any_nat *a, const ethp2p_addr *ip) {
  a->discovering = false;
  a->excluded = -1; /* for one race only */
  for (int i = 0; i < N_CAND; i++) {
    if (a->cand[i] != NULL && a->cand[i] != a->winner)
      ethp2p_nat_destroy(a->cand[i]);
    a->cand[i] = NULL;
    a->probing[i] = false;
  }
  /* Replay or fail the queue. */
  a->busy++;
  while (a->head != NULL && !a->destroyed) {
    any_op *op = a->head;
    a->head = op->next;
    if (a->head == NULL)
      a->tail = NULL;
    if (a->winner == NULL) {
      fail_op(a, op, a->last_err);
    } else if (op->kind == OP_EXTIP && ip != NULL) {
      op->extip_cb(&a->base, 0, ip, op->data);
    } else {
      int rc = forward(a, op);
      if (rc < 0)
        fail_op(a, op, rc);
    }
    free(op);
  }
  leave(a);
}

static void on_probe(ethp2p_nat *cand, int status, const ethp2p_addr *ip, void *data) {
  any_probe *p = data;
  any_nat *a = p->owner;
  a->probing[p->idx] = false;
  if (a->winner != NULL || !a->discovering)
    return;
  if (status == 0) {
    a->winner = cand;
    a->winner_idx = p->idx;
    a->winner_granted = false;
    a->refusals = 0;
    a->base.name = cand->name;
    a->base.caps = cand->caps;
    ethp2p_nat_set_notify(cand, on_winner_notify, a);
    char ib[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_INFO, "nat", "NAT mechanism found", "mechanism=%s extip=%s", cand->name,
               ip != NULL ? ethp2p_addr_format(ip, false, ib, sizeof ib) : "?");
    ethp2p_addr copy;
    memset(&copy, 0, sizeof copy);
    if (ip != NULL)
      copy = *ip;
    end_discovery(a, ip != NULL ? &copy : NULL);
    return;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "NAT mechanism failed", "mechanism=%s err=%s", cand->name,
             ethp2p_strerror(status));
  a->last_err = status;
  for (int i = 0; i < N_CAND; i++)
    if (a->probing[i])
      return; /* still racing */
  end_discovery(a, NULL);
}

/* Starts the race.  Returns 0, or an error if no candidate could start. */
static int start_discovery(any_nat *a) {
  static const ethp2p_nat_kind kinds[N_CAND] = {ETHP2P_NAT_PCP, ETHP2P_NAT_UPNP};
  int err = ETHP2P_EUNSUPP;
  bool any_started = false;
  for (int i = 0; i < N_CAND; i++) {
    ethp2p_nat_spec spec;
    if (i == a->excluded) {
      ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "NAT mechanism left out of this race",
                 "mechanism=%s reason=refused-every-mapping",
                 kinds[i] == ETHP2P_NAT_UPNP ? "UPnP" : "PCP");
      continue;
    }
    memset(&spec, 0, sizeof spec);
    spec.kind = kinds[i];
    int rc = kinds[i] == ETHP2P_NAT_UPNP ? ethp2p_nat_upnp_create(a->base.env, &spec, &a->cand[i])
                                         : ethp2p_nat_pcp_create(a->base.env, &spec, &a->cand[i]);
    if (rc == 0 && a->have_key && kinds[i] == ETHP2P_NAT_PCP)
      (void)ethp2p_nat_pcp_set_nonce_key(a->cand[i], a->key);
    if (rc == 0) {
      a->probes[i].owner = a;
      a->probes[i].idx = i;
      rc = ethp2p_nat_external_ip(a->cand[i], on_probe, &a->probes[i]);
      if (rc < 0) {
        ethp2p_nat_destroy(a->cand[i]);
        a->cand[i] = NULL;
      }
    }
    if (rc < 0) {
      if (rc != ETHP2P_EUNSUPP || err == ETHP2P_EUNSUPP)
        err = rc;
      continue;
    }
    a->probing[i] = true;
    any_started = true;
  }
  if (!any_started && a->excluded >= 0) {
    a->excluded = -1; /* nothing else could start: the refusing one is better than none */
    return start_discovery(a);
  }
  if (!any_started)
    return err;
  a->discovering = true;
  a->last_err = ETHP2P_ETIMEDOUT;
  return 0;
}

static int submit(any_nat *a, const any_op *tmpl) {
  if (a->winner != NULL && !a->rediscover_pending)
    return forward(a, tmpl);
  if (a->winner != NULL && a->rediscover_pending && a->fwds == NULL)
    drop_winner(a);
  if (a->winner != NULL)
    return forward(a, tmpl); /* rediscovery waits for pending operations */
  any_op *op = malloc(sizeof *op);
  if (op == NULL)
    return ETHP2P_ENOMEM;
  *op = *tmpl;
  op->next = NULL;
  if (!a->discovering) {
    int rc = start_discovery(a);
    if (rc < 0) {
      free(op);
      return rc;
    }
  }
  if (a->tail != NULL)
    a->tail->next = op;
  else
    a->head = op;
  a->tail = op;
  return 0;
}

static int any_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint, uint16_t internal_port,
                   const char *desc, uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data) {
  if (cb == NULL)
    return ETHP2P_EINVAL;
  any_op op;
  memset(&op, 0, sizeof op);
  op.kind = OP_MAP;
  op.proto = proto;
  op.ext_hint = ext_hint;
  op.internal_port = internal_port;
  op.lifetime_s = lifetime_s;
  ethp2p_nat_copy_str(op.desc, sizeof op.desc, desc != NULL ? desc : "");
  op.map_cb = cb;
  op.data = data;
  return submit((any_nat *)nat, &op);
}

static int any_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                      uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  any_op op;
  memset(&op, 0, sizeof op);
  op.kind = OP_UNMAP;
  op.proto = proto;
  op.external_port = external_port;
  op.internal_port = internal_port;
  op.done_cb = cb;
  op.data = data;
  return submit((any_nat *)nat, &op);
}

static int any_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  if (cb == NULL)
    return ETHP2P_EINVAL;
  any_op op;
  memset(&op, 0, sizeof op);
  op.kind = OP_EXTIP;
  op.extip_cb = cb;
  op.data = data;
  return submit((any_nat *)nat, &op);
}

static void any_rediscover(ethp2p_nat *nat) {
  any_nat *a = (any_nat *)nat;
  if (a->winner == NULL)
    return;
  if (a->fwds == NULL)
    drop_winner(a);
  else
    a->rediscover_pending = true;
}

static void any_destroy(ethp2p_nat *nat) {
  any_nat *a = (any_nat *)nat;
  for (int i = 0; i < N_CAND; i++) {
    if (a->cand[i] != NULL && a->cand[i] != a->winner)
      ethp2p_nat_destroy(a->cand[i]);
    a->cand[i] = NULL;
  }
  ethp2p_nat_destroy(a->winner);
  a->winner = NULL;
  for (any_op *op = a->head, *n; op != NULL; op = n) {
    n = op->next;
    free(op);
  }
  a->head = a->tail = NULL;
  for (any_fwd *f = a->fwds, *n; f != NULL; f = n) {
    n = f->next;
    free(f);
  }
  a->fwds = NULL;
  if (a->busy == 0)
    free(a);
  else
    a->destroyed = true;
}

int ethp2p_nat_any_set_nonce_key(ethp2p_nat *nat, const uint8_t key[32]) {
  any_nat *a = (any_nat *)nat;
  if (nat->spec.kind != ETHP2P_NAT_ANY || nat->ops->destroy != any_destroy)
    return ETHP2P_EUNSUPP;
  memcpy(a->key, key, sizeof a->key);
  a->have_key = true;
  return 0;
}

static const ethp2p_nat_ops any_ops = {
    .add_mapping = any_add,
    .delete_mapping = any_delete,
    .external_ip = any_extip,
    .rediscover = any_rediscover,
    .destroy = any_destroy,
};

int ethp2p_nat_any_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (spec->kind != ETHP2P_NAT_ANY)
    return ETHP2P_EINVAL;
  any_nat *a = calloc(1, sizeof *a);
  if (a == NULL)
    return ETHP2P_ENOMEM;
  a->base.ops = &any_ops;
  a->base.env = env;
  a->base.spec = *spec;
  a->base.name = "any";
  a->base.can_map = true; /* deprecated mirror of caps, still read outside nat/ */
  a->base.caps = ANY_CAPS;
  a->excluded = -1;
  *out = &a->base;
  return 0;
}
