/*
 * nat/behavior.c — RFC 5780 NAT behaviour discovery on the environment.
 *
 * Sockets and tests (RFC 5780 §4; "server" is the first that answers Test I,
 * A1:P1 its address, A2:P2 its OTHER-ADDRESS):
 *   S  the primary socket (cfg.bind):
 *      Test I    S -> A1:P1                  mapped M1 (the reflexive address)
 *      §4.3 II   S -> A2:P1                  M2 == M1: endpoint-independent
 *      §4.3 III  S -> A2:P2                  M3 == M2: address-dependent,
 *                                            else address-and-port-dependent
 *   F  a fresh socket, so S's mapping tests open no permissions for it:
 *      Test I    F -> A1:P1
 *      §4.4 II   F -> A1:P1 CHANGE(IP, port) answered: endpoint-independent
 *      §4.4 III  F -> A1:P1 CHANGE(port)     answered: address-dependent,
 *                                            neither: address-and-port-dependent
 *   P0..Pk fresh sockets, one after the other once S's and F's bindings exist,
 *      each -> A1:P1: every external port == its local port: port-preserving;
 *      equal non-zero steps between consecutive ports: port-contiguous (the
 *      step is port_delta); otherwise random.
 *   Hairpinning (§4.5): S and P0 send to each other's mapped address, a few
 *      times each (with endpoint-independent mapping the first packets open
 *      the filters for the later ones); anything received: yes.  Nothing
 *      received counts as "no" only when mapping or filtering is
 *      endpoint-independent; otherwise filtering alone may have dropped it:
 *      unknown.
 * If the server has no OTHER-ADDRESS, a second configured server on another
 * IP still decides whether mapping is endpoint-independent; filtering stays
 * unknown.  If the reflexive address is ours, there is no NAT: mapping is
 * endpoint-independent and allocation port-preserving by definition, and the
 * filtering tests then measure a host firewall.
 *
 * Retransmission (RFC 8489 §6.2.1, bounded): sends at 0, rto, 3 rto, ...
 * with the interval doubling up to 4 rto; a transaction fails one interval
 * after its last send.  The whole run ends at time_limit with what is known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/natbehavior.h"
#include "nat/stun_codec.h"

#define NB_MAX_TXN 16
#define NB_MAX_OBS 32
#define NB_SOCK_S 0
#define NB_SOCK_F 1
#define NB_SOCK_P0 2
#define NB_MAX_SOCKS (NB_SOCK_P0 + ETHP2P_NATB_MAX_ALLOC_PROBES)
#define NB_HAIRPIN_SENDS 4

typedef enum txn_kind {
  TX_TEST1,  /* S -> server[srv] */
  TX_MAP2,   /* S -> A2:P1 */
  TX_MAP3,   /* S -> A2:P2 */
  TX_ALTSRV, /* S -> servers[alt] (no OTHER-ADDRESS) */
  TX_F1,     /* F -> A1:P1 */
  TX_F2,     /* F -> A1:P1 change IP and port */
  TX_F3,     /* F -> A1:P1 change port */
  TX_ALLOC,  /* P[arg] -> A1:P1 */
} txn_kind;

typedef struct nb_txn {
  bool active;
  txn_kind kind;
  int sock;
  int arg;
  ethp2p_addr dest;
  uint32_t change;
  uint8_t txid[ETHP2P_STUN_TXID_LEN];
  unsigned sent;
  ethp2p_time next_at, interval;
} nb_txn;

typedef struct nb_sock {
  struct ethp2p_natb *nb;
  ethp2p_udp *udp;
  ethp2p_addr local;
  ethp2p_addr mapped; /* from its Test I / probe, family 0 if none */
} nb_sock;

typedef struct nb_obs {
  uint16_t local_port;
  ethp2p_addr observer, seen;
} nb_obs;

/* Filtering test state. */
typedef enum { FT_PENDING = 0, FT_YES, FT_NO } ft_state;

struct ethp2p_natb {
  ethp2p_env *env;
  ethp2p_natb_config cfg;
  ethp2p_timer *timer;
  ethp2p_natb_done_cb cb;
  void *cb_data;
  bool running, complete;
  int status;
  ethp2p_time started, deadline;

  nb_sock socks[NB_MAX_SOCKS];
  nb_txn txns[NB_MAX_TXN];

  /* The run in progress. */
  ethp2p_nat_profile cur;
  size_t srv;             /* index of the server being tried / used */
  ethp2p_addr a1p1, a2p2; /* server primary and OTHER-ADDRESS */
  ethp2p_addr m1, m2;     /* mapped addresses of Test I and II */
  bool mapping_done, filtering_done, alloc_done, hairpin_done, f1_ok;
  ft_state f2, f3;
  unsigned alloc_next, alloc_answered;
  uint16_t alloc_local[ETHP2P_NATB_MAX_ALLOC_PROBES], alloc_ext[ETHP2P_NATB_MAX_ALLOC_PROBES];
  bool hp_started;
  unsigned hp_sent;
  ethp2p_time hp_next_at;
  uint8_t hp_txid[ETHP2P_STUN_TXID_LEN];

  ethp2p_nat_profile profile; /* cached result */
  nb_obs obs[NB_MAX_OBS];
  size_t n_obs, obs_next;
};

static void nb_log(ethp2p_log_level lvl, const char *msg, const char *kv) {
  if (ethp2p_log_enabled(lvl))
    ethp2p_log(lvl, "natb", msg, "%s", kv);
}

static void note(ethp2p_natb *nb, const char *text) {
  size_t len = strlen(nb->cur.note);
  if (len > 0 && len + 2 < sizeof nb->cur.note) {
    nb->cur.note[len++] = ';';
    nb->cur.note[len++] = ' ';
    nb->cur.note[len] = '\0';
  }
  snprintf(nb->cur.note + len, sizeof nb->cur.note - len, "%s", text);
}

/* ---- configuration -------------------------------------------------------- */

void ethp2p_natb_config_default(ethp2p_natb_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->rto = 200 * ETHP2P_MSEC;
  cfg->max_tries = 5;
  cfg->time_limit = 10 * ETHP2P_SEC;
  cfg->alloc_probes = 4;
  cfg->valid_for_s = ETHP2P_NAT_PROFILE_TTL_S;
}

static void config_fill(ethp2p_natb_config *c) {
  if (c->bind.family == 0)
    c->bind.family = c->servers[0].family; /* the wildcard of the servers' family */
  if (c->rto == 0)
    c->rto = 200 * ETHP2P_MSEC;
  if (c->max_tries == 0)
    c->max_tries = 5;
  if (c->time_limit == 0)
    c->time_limit = 10 * ETHP2P_SEC;
  if (c->alloc_probes == 0)
    c->alloc_probes = 4;
  if (c->alloc_probes > ETHP2P_NATB_MAX_ALLOC_PROBES)
    c->alloc_probes = ETHP2P_NATB_MAX_ALLOC_PROBES;
  if (c->valid_for_s == 0)
    c->valid_for_s = ETHP2P_NAT_PROFILE_TTL_S;
}

/* ---- sockets and transactions ---------------------------------------------- */

static void on_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                    void *data);
static void pump(ethp2p_natb *nb, ethp2p_time now);

static int sock_open(ethp2p_natb *nb, int idx, const ethp2p_addr *bind) {
  nb_sock *s = &nb->socks[idx];
  ethp2p_addr any;
  memset(s, 0, sizeof *s);
  s->nb = nb;
  if (bind == NULL) {
    memset(&any, 0, sizeof any);
    any.family = nb->cfg.bind.family;
    memcpy(any.ip, nb->cfg.bind.ip, sizeof any.ip);
    bind = &any;
  }
  int rc = ethp2p_udp_open(nb->env, &s->udp, bind, 0, on_recv, s);
  if (rc != 0) {
    s->udp = NULL;
    return rc;
  }
  if (ethp2p_udp_local_addr(s->udp, &s->local) != 0)
    s->local = *bind;
  return 0;
}

static void socks_close(ethp2p_natb *nb) {
  for (size_t i = 0; i < NB_MAX_SOCKS; i++) {
    ethp2p_udp_close(nb->socks[i].udp);
    nb->socks[i].udp = NULL;
  }
}

static void txn_send(ethp2p_natb *nb, nb_txn *t) {
  uint8_t buf[128];
  ethp2p_stun_msg m;
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_STUN_BINDING_REQUEST;
  memcpy(m.txid, t->txid, sizeof m.txid);
  if (t->change != 0) {
    m.present |= ETHP2P_STUN_HAS_CHANGE_REQUEST;
    m.change_request = t->change;
  }
  int n = ethp2p_stun_encode(buf, sizeof buf, &m, NULL);
  if (n > 0 && nb->socks[t->sock].udp != NULL)
    (void)ethp2p_udp_send(nb->socks[t->sock].udp, &t->dest, buf, (size_t)n);
}

static void txn_start(ethp2p_natb *nb, txn_kind kind, int sock, int arg, const ethp2p_addr *dest,
                      uint32_t change) {
  nb_txn *t = NULL;
  for (size_t i = 0; i < NB_MAX_TXN; i++) {
    if (!nb->txns[i].active) {
      t = &nb->txns[i];
      break;
    }
  }
  if (t == NULL)
    return; /* cannot happen: at most 8 are ever active */
  memset(t, 0, sizeof *t);
  t->active = true;
  t->kind = kind;
  t->sock = sock;
  t->arg = arg;
  t->dest = *dest;
  t->change = change;
  ethp2p_env_random(nb->env, t->txid, sizeof t->txid);
  t->interval = nb->cfg.rto;
  t->next_at = ethp2p_env_now(nb->env); /* sent by the pump on the next turn */
  ethp2p_timer_start(nb->timer, t->next_at);
}

static nb_txn *txn_find(ethp2p_natb *nb, int sock, const uint8_t *txid) {
  for (size_t i = 0; i < NB_MAX_TXN; i++) {
    nb_txn *t = &nb->txns[i];
    if (t->active && t->sock == sock && memcmp(t->txid, txid, sizeof t->txid) == 0)
      return t;
  }
  return NULL;
}

/* ---- phases ----------------------------------------------------------------- */

static void phase_after_bindings(ethp2p_natb *nb);
static void phase_hairpin(ethp2p_natb *nb);

static void complete(ethp2p_natb *nb, int status) {
  if (nb->complete)
    return;
  nb->complete = true;
  nb->status = status;
  for (size_t i = 0; i < NB_MAX_TXN; i++)
    nb->txns[i].active = false;
  ethp2p_timer_start(nb->timer, ethp2p_env_now(nb->env));
}

static void check_done(ethp2p_natb *nb) {
  if (nb->mapping_done && nb->filtering_done && nb->alloc_done && nb->hairpin_done)
    complete(nb, 0);
}

static bool addr_is_ours(ethp2p_natb *nb, const ethp2p_addr *mapped, const nb_sock *s) {
  ethp2p_iface ifs[32];
  size_t n = 0;
  if (mapped->port != s->local.port)
    return false;
  if (ethp2p_addr_equal(mapped, &s->local, false))
    return true;
  if (ethp2p_env_interfaces(nb->env, ifs, 32, &n) != 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (ethp2p_addr_equal(&ifs[i].addr, mapped, false))
      return true;
  return false;
}

static void mapping_set(ethp2p_natb *nb, ethp2p_nat_policy p) {
  nb->cur.mapping = p;
  nb->mapping_done = true;
  phase_after_bindings(nb);
}

static void filtering_eval(ethp2p_natb *nb) {
  if (nb->filtering_done)
    return;
  if (nb->f2 == FT_YES)
    nb->cur.filtering = ETHP2P_NAT_POLICY_EI;
  else if (nb->f2 == FT_NO && nb->f3 == FT_YES)
    nb->cur.filtering = ETHP2P_NAT_POLICY_AD;
  else if (nb->f2 == FT_NO && nb->f3 == FT_NO)
    nb->cur.filtering = ETHP2P_NAT_POLICY_APD;
  else
    return;
  nb->filtering_done = true;
  /* F2 answered: F3 no longer matters. */
  for (size_t i = 0; i < NB_MAX_TXN; i++)
    if (nb->txns[i].active && nb->txns[i].kind == TX_F3)
      nb->txns[i].active = false;
  check_done(nb);
}

static void alloc_next(ethp2p_natb *nb) {
  unsigned k = nb->alloc_next;
  if (k >= nb->cfg.alloc_probes) {
    return;
  }
  nb->alloc_next++;
  if (sock_open(nb, NB_SOCK_P0 + (int)k, NULL) != 0) {
    nb->alloc_local[k] = 0;
    nb->alloc_ext[k] = 0;
    alloc_next(nb);
    return;
  }
  nb->alloc_local[k] = nb->socks[NB_SOCK_P0 + k].local.port;
  txn_start(nb, TX_ALLOC, NB_SOCK_P0 + (int)k, (int)k, &nb->a1p1, 0);
}

static void alloc_eval(ethp2p_natb *nb) {
  unsigned n = nb->cfg.alloc_probes, got = 0;
  bool preserving = true, contiguous = true;
  int32_t delta = 0;
  uint16_t prev = 0;
  bool have_prev = false;
  for (unsigned i = 0; i < n; i++) {
    if (nb->alloc_ext[i] == 0) {
      have_prev = false; /* a gap breaks the sequence */
      continue;
    }
    got++;
    if (nb->alloc_ext[i] != nb->alloc_local[i])
      preserving = false;
    if (have_prev) {
      int32_t d = (int32_t)nb->alloc_ext[i] - (int32_t)prev;
      if (delta == 0)
        delta = d;
      if (d != delta || d == 0 || d > 16 || d < -16)
        contiguous = false;
    }
    prev = nb->alloc_ext[i];
    have_prev = true;
  }
  if (nb->cur.behind_nat == ETHP2P_NAT_TRI_NO) {
    nb->cur.allocation = ETHP2P_NAT_ALLOC_PRESERVING;
  } else if (got < 2) {
    nb->cur.allocation = ETHP2P_NAT_ALLOC_UNKNOWN;
    note(nb, "allocation: too few probes answered");
  } else if (preserving) {
    nb->cur.allocation = ETHP2P_NAT_ALLOC_PRESERVING;
  } else if (contiguous && delta != 0 && got >= 3) {
    nb->cur.allocation = ETHP2P_NAT_ALLOC_CONTIGUOUS;
    nb->cur.port_delta = delta;
  } else {
    nb->cur.allocation = ETHP2P_NAT_ALLOC_RANDOM;
  }
  nb->alloc_done = true;
  phase_hairpin(nb);
  check_done(nb);
}

/* Allocation starts once S's mapping tests and F's binding are settled, so
 * the probes' bindings are the only new ones while they run. */
static void phase_after_bindings(ethp2p_natb *nb) {
  if (!nb->mapping_done || !(nb->f1_ok || nb->filtering_done) || nb->alloc_next > 0 ||
      nb->alloc_done)
    return;
  alloc_next(nb);
}

static void hairpin_send(ethp2p_natb *nb) {
  uint8_t buf[64];
  ethp2p_stun_msg m;
  nb_sock *s = &nb->socks[NB_SOCK_S], *p = &nb->socks[NB_SOCK_P0];
  memset(&m, 0, sizeof m);
  m.type = ETHP2P_STUN_BINDING_INDICATION;
  memcpy(m.txid, nb->hp_txid, sizeof m.txid);
  int n = ethp2p_stun_encode(buf, sizeof buf, &m, NULL);
  if (n <= 0)
    return;
  /* Alternate who goes first, so whichever NAT needs an opened filter gets it. */
  if (nb->hp_sent % 2 == 0) {
    (void)ethp2p_udp_send(s->udp, &p->mapped, buf, (size_t)n);
    (void)ethp2p_udp_send(p->udp, &s->mapped, buf, (size_t)n);
  } else {
    (void)ethp2p_udp_send(p->udp, &s->mapped, buf, (size_t)n);
    (void)ethp2p_udp_send(s->udp, &p->mapped, buf, (size_t)n);
  }
  nb->hp_sent++;
}

static void phase_hairpin(ethp2p_natb *nb) {
  nb_sock *s = &nb->socks[NB_SOCK_S], *p = &nb->socks[NB_SOCK_P0];
  if (nb->hairpin_done || nb->hp_started)
    return;
  if (nb->cfg.skip_hairpin || nb->cur.behind_nat == ETHP2P_NAT_TRI_NO || s->udp == NULL ||
      p->udp == NULL || s->mapped.family == 0 || p->mapped.family == 0) {
    nb->hairpin_done = true;
    return;
  }
  nb->hp_started = true;
  ethp2p_env_random(nb->env, nb->hp_txid, sizeof nb->hp_txid);
  nb->hp_next_at = ethp2p_env_now(nb->env);
  ethp2p_timer_start(nb->timer, nb->hp_next_at);
}

static void hairpin_result(ethp2p_natb *nb, bool received) {
  if (nb->hairpin_done)
    return;
  if (received)
    nb->cur.hairpinning = ETHP2P_NAT_TRI_YES;
  else if (nb->cur.mapping == ETHP2P_NAT_POLICY_EI || nb->cur.filtering == ETHP2P_NAT_POLICY_EI)
    nb->cur.hairpinning = ETHP2P_NAT_TRI_NO;
  else
    nb->cur.hairpinning = ETHP2P_NAT_TRI_UNKNOWN;
  nb->hairpin_done = true;
  check_done(nb);
}

/* ---- responses ---------------------------------------------------------------- */

static void on_test1(ethp2p_natb *nb, const ethp2p_stun_msg *m, const ethp2p_addr *from) {
  nb_sock *s = &nb->socks[NB_SOCK_S];
  nb->m1 = m->xor_mapped;
  s->mapped = m->xor_mapped;
  nb->cur.reflexive = m->xor_mapped;
  nb->cur.server = nb->cfg.servers[nb->srv];
  nb->a1p1 = nb->cfg.servers[nb->srv];
  nb->cur.behind_nat = addr_is_ours(nb, &nb->m1, s) ? ETHP2P_NAT_TRI_NO : ETHP2P_NAT_TRI_YES;
  (void)from;
  if (m->present & ETHP2P_STUN_HAS_OTHER_ADDRESS) {
    nb->a2p2 = m->other_address;
    nb->cur.server_other = m->other_address;
  }
  if (nb->a2p2.family != 0 && !ethp2p_addr_equal(&nb->a2p2, &nb->a1p1, false) &&
      nb->a2p2.port != nb->a1p1.port) {
    ethp2p_addr a2p1 = nb->a2p2;
    a2p1.port = nb->a1p1.port;
    if (nb->cur.behind_nat == ETHP2P_NAT_TRI_NO) {
      nb->cur.mapping = ETHP2P_NAT_POLICY_EI;
      nb->mapping_done = true;
    } else {
      txn_start(nb, TX_MAP2, NB_SOCK_S, 0, &a2p1, 0);
    }
    if (sock_open(nb, NB_SOCK_F, NULL) == 0) {
      txn_start(nb, TX_F1, NB_SOCK_F, 0, &nb->a1p1, 0);
    } else {
      note(nb, "filtering: could not open a second socket");
      nb->filtering_done = true;
    }
  } else {
    nb->a2p2.family = 0;
    note(nb, "the STUN server has no alternate address (no RFC 5780 support): filtering unknown");
    nb->filtering_done = true;
    if (nb->cur.behind_nat == ETHP2P_NAT_TRI_NO) {
      nb->cur.mapping = ETHP2P_NAT_POLICY_EI;
      nb->mapping_done = true;
    } else {
      /* Another configured server on another IP still tells EI from not. */
      size_t alt = nb->cfg.n_servers;
      for (size_t i = 0; i < nb->cfg.n_servers; i++) {
        if (i != nb->srv && !ethp2p_addr_equal(&nb->cfg.servers[i], &nb->a1p1, false)) {
          alt = i;
          break;
        }
      }
      if (alt < nb->cfg.n_servers) {
        txn_start(nb, TX_ALTSRV, NB_SOCK_S, (int)alt, &nb->cfg.servers[alt], 0);
      } else {
        note(nb, "mapping unknown: no second server address");
        nb->mapping_done = true;
      }
    }
  }
  phase_after_bindings(nb);
  check_done(nb);
}

static void on_success(ethp2p_natb *nb, nb_txn *t, const ethp2p_stun_msg *m,
                       const ethp2p_addr *from) {
  nb_txn tx = *t;
  t->active = false;
  switch (tx.kind) {
  case TX_TEST1:
    on_test1(nb, m, from);
    break;
  case TX_MAP2:
    nb->m2 = m->xor_mapped;
    if (ethp2p_addr_equal(&nb->m2, &nb->m1, true))
      mapping_set(nb, ETHP2P_NAT_POLICY_EI);
    else
      txn_start(nb, TX_MAP3, NB_SOCK_S, 0, &nb->a2p2, 0);
    break;
  case TX_MAP3:
    mapping_set(nb, ethp2p_addr_equal(&m->xor_mapped, &nb->m2, true) ? ETHP2P_NAT_POLICY_AD
                                                                     : ETHP2P_NAT_POLICY_APD);
    break;
  case TX_ALTSRV:
    if (ethp2p_addr_equal(&m->xor_mapped, &nb->m1, true)) {
      mapping_set(nb, ETHP2P_NAT_POLICY_EI);
    } else {
      note(nb, "mapping is not endpoint-independent (a second server saw another port), but "
               "address-dependent and address-and-port-dependent cannot be told apart");
      mapping_set(nb, ETHP2P_NAT_POLICY_UNKNOWN);
    }
    break;
  case TX_F1:
    nb->f1_ok = true;
    nb->socks[NB_SOCK_F].mapped = m->xor_mapped;
    txn_start(nb, TX_F2, NB_SOCK_F, 0, &nb->a1p1, ETHP2P_STUN_CHANGE_IP | ETHP2P_STUN_CHANGE_PORT);
    txn_start(nb, TX_F3, NB_SOCK_F, 0, &nb->a1p1, ETHP2P_STUN_CHANGE_PORT);
    phase_after_bindings(nb);
    break;
  case TX_F2:
    /* The answer must really come from the other IP and port (§4.4). */
    if (!ethp2p_addr_equal(from, &nb->a1p1, false) && from->port != nb->a1p1.port) {
      nb->f2 = FT_YES;
    } else {
      note(nb, "filtering unknown: the server ignored CHANGE-REQUEST");
      nb->filtering_done = true;
    }
    filtering_eval(nb);
    break;
  case TX_F3:
    if (ethp2p_addr_equal(from, &nb->a1p1, false) && from->port != nb->a1p1.port) {
      nb->f3 = FT_YES;
    } else if (!nb->filtering_done) {
      note(nb, "filtering unknown: the server ignored CHANGE-REQUEST");
      nb->filtering_done = true;
    }
    filtering_eval(nb);
    break;
  case TX_ALLOC: {
    nb_sock *p = &nb->socks[tx.sock];
    p->mapped = m->xor_mapped;
    nb->alloc_ext[tx.arg] = m->xor_mapped.port;
    nb->alloc_answered++;
    if (nb->alloc_next < nb->cfg.alloc_probes)
      alloc_next(nb);
    else
      alloc_eval(nb);
    break;
  }
  }
  check_done(nb);
}

static void on_failure(ethp2p_natb *nb, nb_txn *t) {
  nb_txn tx = *t;
  t->active = false;
  switch (tx.kind) {
  case TX_TEST1:
    if (nb->srv + 1 < nb->cfg.n_servers) {
      nb->srv++;
      txn_start(nb, TX_TEST1, NB_SOCK_S, 0, &nb->cfg.servers[nb->srv], 0);
    } else {
      note(nb, "no STUN server answered");
      complete(nb, ETHP2P_ETIMEDOUT);
    }
    break;
  case TX_MAP2:
  case TX_MAP3:
  case TX_ALTSRV:
    note(nb, "mapping unknown: the alternate address did not answer");
    mapping_set(nb, ETHP2P_NAT_POLICY_UNKNOWN);
    break;
  case TX_F1:
    note(nb, "filtering unknown: no answer on the second socket");
    nb->filtering_done = true;
    phase_after_bindings(nb);
    break;
  case TX_F2:
    nb->f2 = FT_NO;
    filtering_eval(nb);
    break;
  case TX_F3:
    nb->f3 = FT_NO;
    filtering_eval(nb);
    break;
  case TX_ALLOC:
    nb->alloc_ext[tx.arg] = 0;
    if (nb->alloc_next < nb->cfg.alloc_probes)
      alloc_next(nb);
    else
      alloc_eval(nb);
    break;
  }
  check_done(nb);
}

static void on_recv(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                    void *data) {
  nb_sock *s = data;
  ethp2p_natb *nb = s->nb;
  ethp2p_stun_msg m;
  (void)udp;
  if (!nb->running || nb->complete || ethp2p_stun_decode(&m, buf, len, NULL) != 0)
    return;
  int idx = (int)(s - nb->socks);
  if (m.type == ETHP2P_STUN_BINDING_INDICATION) {
    if (nb->hp_started && memcmp(m.txid, nb->hp_txid, sizeof m.txid) == 0)
      hairpin_result(nb, true);
    return;
  }
  nb_txn *t = txn_find(nb, idx, m.txid);
  if (t == NULL)
    return;
  if (m.type == ETHP2P_STUN_BINDING_SUCCESS) {
    if (m.present & ETHP2P_STUN_HAS_XOR_MAPPED) {
      /* fine */
    } else if (m.present & ETHP2P_STUN_HAS_MAPPED) {
      m.xor_mapped = m.mapped; /* an RFC 3489 server */
    } else {
      return; /* useless: let it retransmit */
    }
    on_success(nb, t, &m, from);
  } else if (m.type == ETHP2P_STUN_BINDING_ERROR) {
    char kv[96];
    snprintf(kv, sizeof kv, "code=%u", (unsigned)m.error_code);
    nb_log(ETHP2P_LOG_DEBUG, "STUN error response", kv);
    on_failure(nb, t);
  }
}

/* ---- the timer: retransmissions, hairpin probes, deadline, completion -------- */

static void finish_now(ethp2p_natb *nb) {
  ethp2p_natb_done_cb cb = nb->cb;
  void *data = nb->cb_data;
  ethp2p_nat_profile *p = &nb->cur;
  if (!nb->mapping_done && p->mapping == ETHP2P_NAT_POLICY_UNKNOWN && nb->status == 0)
    note(nb, "time limit reached");
  p->measured_at = ethp2p_env_now(nb->env);
  p->measured_at_ms = ethp2p_env_wall_ms(nb->env);
  p->valid_for_s = nb->cfg.valid_for_s;
  p->local = nb->socks[NB_SOCK_S].local;
  nb->profile = *p;
  nb->running = false;
  nb->complete = false;
  socks_close(nb);
  ethp2p_timer_stop(nb->timer);
  nb->cb = NULL;
  if (nb->n_obs > 0) {
    /* Apply stored observations to the fresh profile. */
    size_t n = nb->n_obs;
    nb_obs saved[NB_MAX_OBS];
    memcpy(saved, nb->obs, n * sizeof saved[0]);
    nb->n_obs = 0;
    nb->obs_next = 0;
    nb->profile.observations = 0;
    for (size_t i = 0; i < n; i++)
      (void)ethp2p_natb_observe(nb, saved[i].local_port, &saved[i].observer, &saved[i].seen);
  }
  ethp2p_nat_profile_derive(&nb->profile);
  {
    char kv[200];
    snprintf(kv, sizeof kv, "mapping=%s filtering=%s allocation=%s hairpinning=%s status=%d",
             ethp2p_nat_policy_name(nb->profile.mapping),
             ethp2p_nat_policy_name(nb->profile.filtering),
             ethp2p_nat_alloc_name(nb->profile.allocation),
             ethp2p_nat_tri_name(nb->profile.hairpinning), nb->status);
    nb_log(ETHP2P_LOG_DEBUG, "NAT behaviour measured", kv);
  }
  if (cb != NULL)
    cb(nb, nb->status, &nb->profile, data); /* last: cb may destroy or restart nb */
}

static void pump(ethp2p_natb *nb, ethp2p_time now) {
  ethp2p_time next = nb->deadline;
  for (size_t i = 0; i < NB_MAX_TXN && nb->running && !nb->complete; i++) {
    nb_txn *t = &nb->txns[i];
    if (!t->active)
      continue;
    if (t->next_at <= now) {
      if (t->sent >= nb->cfg.max_tries) {
        on_failure(nb, t);
        i = (size_t)-1; /* the table changed: start over */
        continue;
      }
      txn_send(nb, t);
      t->sent++;
      t->next_at = now + t->interval;
      if (t->interval < 4 * nb->cfg.rto)
        t->interval *= 2;
    }
  }
  if (nb->complete)
    return;
  if (nb->hp_started && !nb->hairpin_done && nb->hp_next_at <= now) {
    if (nb->hp_sent >= NB_HAIRPIN_SENDS) {
      hairpin_result(nb, false);
    } else {
      hairpin_send(nb);
      nb->hp_next_at = now + nb->cfg.rto;
    }
  }
  if (nb->complete)
    return;
  for (size_t i = 0; i < NB_MAX_TXN; i++)
    if (nb->txns[i].active && nb->txns[i].next_at < next)
      next = nb->txns[i].next_at;
  if (nb->hp_started && !nb->hairpin_done && nb->hp_next_at < next)
    next = nb->hp_next_at;
  ethp2p_timer_start(nb->timer, next);
}

static void on_timer(ethp2p_timer *timer, void *data) {
  ethp2p_natb *nb = data;
  ethp2p_time now = ethp2p_env_now(nb->env);
  (void)timer;
  if (!nb->running)
    return;
  if (!nb->complete && now >= nb->deadline) {
    /* Out of time: whatever is still pending stays unknown. */
    if (!nb->alloc_done && nb->alloc_answered >= 2) {
      nb->alloc_next = nb->cfg.alloc_probes;
      alloc_eval(nb);
    }
    if (!nb->hairpin_done && nb->hp_started)
      hairpin_result(nb, false);
    if (!nb->filtering_done)
      note(nb, "filtering unknown: time limit reached");
    complete(nb, nb->cur.reflexive.family != 0 ? 0 : ETHP2P_ETIMEDOUT);
  }
  if (nb->complete) {
    finish_now(nb);
    return;
  }
  pump(nb, now);
}

/* ---- public API ---------------------------------------------------------------- */

int ethp2p_natb_create(ethp2p_env *env, const ethp2p_natb_config *cfg, ethp2p_natb **out) {
  ethp2p_natb *nb;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || cfg == NULL || cfg->n_servers == 0 || cfg->n_servers > ETHP2P_NATB_MAX_SERVERS)
    return ETHP2P_EINVAL;
  for (size_t i = 0; i < cfg->n_servers; i++)
    if ((cfg->servers[i].family != 4 && cfg->servers[i].family != 6) || cfg->servers[i].port == 0)
      return ETHP2P_EINVAL;
  nb = calloc(1, sizeof(*nb));
  if (nb == NULL)
    return ETHP2P_ENOMEM;
  nb->env = env;
  nb->cfg = *cfg;
  config_fill(&nb->cfg);
  if (ethp2p_timer_create(env, &nb->timer, on_timer, nb) != 0) {
    free(nb);
    return ETHP2P_ENOMEM;
  }
  *out = nb;
  return 0;
}

void ethp2p_natb_stop(ethp2p_natb *nb) {
  if (nb == NULL || !nb->running)
    return;
  nb->running = false;
  nb->complete = false;
  nb->cb = NULL;
  memset(nb->txns, 0, sizeof nb->txns);
  socks_close(nb);
  ethp2p_timer_stop(nb->timer);
}

int ethp2p_natb_start(ethp2p_natb *nb, ethp2p_natb_done_cb cb, void *data) {
  if (nb == NULL)
    return ETHP2P_EINVAL;
  ethp2p_natb_stop(nb);
  memset(&nb->cur, 0, sizeof nb->cur);
  memset(nb->txns, 0, sizeof nb->txns);
  nb->srv = 0;
  memset(&nb->a1p1, 0, sizeof nb->a1p1);
  memset(&nb->a2p2, 0, sizeof nb->a2p2);
  memset(&nb->m1, 0, sizeof nb->m1);
  memset(&nb->m2, 0, sizeof nb->m2);
  nb->mapping_done = nb->filtering_done = nb->alloc_done = nb->hairpin_done = false;
  nb->f1_ok = false;
  nb->f2 = nb->f3 = FT_PENDING;
  nb->alloc_next = nb->alloc_answered = 0;
  memset(nb->alloc_local, 0, sizeof nb->alloc_local);
  memset(nb->alloc_ext, 0, sizeof nb->alloc_ext);
  nb->hp_started = false;
  nb->hp_sent = 0;
  nb->status = 0;
  int rc = sock_open(nb, NB_SOCK_S, &nb->cfg.bind);
  if (rc != 0)
    return rc;
  nb->cb = cb;
  nb->cb_data = data;
  nb->running = true;
  nb->complete = false;
  nb->started = ethp2p_env_now(nb->env);
  nb->deadline = nb->started + nb->cfg.time_limit;
  txn_start(nb, TX_TEST1, NB_SOCK_S, 0, &nb->cfg.servers[0], 0);
  return 0;
}

bool ethp2p_natb_running(const ethp2p_natb *nb) {
  return nb != NULL && nb->running;
}

const ethp2p_nat_profile *ethp2p_natb_profile(const ethp2p_natb *nb) {
  return &nb->profile;
}

int ethp2p_natb_refresh(ethp2p_natb *nb, ethp2p_time now, ethp2p_natb_done_cb cb, void *data) {
  if (nb == NULL)
    return ETHP2P_EINVAL;
  if (nb->running || ethp2p_nat_profile_fresh(&nb->profile, now))
    return 0;
  int rc = ethp2p_natb_start(nb, cb, data);
  return rc == 0 ? 1 : rc;
}

static ethp2p_nat_policy stricter(ethp2p_nat_policy cur, ethp2p_nat_policy ev) {
  if (cur == ETHP2P_NAT_POLICY_UNKNOWN)
    return ev;
  return ev > cur ? ev : cur;
}

int ethp2p_natb_observe(ethp2p_natb *nb, uint16_t local_port, const ethp2p_addr *observer,
                        const ethp2p_addr *seen) {
  ethp2p_nat_profile *p;
  ethp2p_nat_policy evidence = ETHP2P_NAT_POLICY_UNKNOWN;
  bool agree_two_ips = false;
  if (nb == NULL || observer == NULL || seen == NULL || observer->family == 0 ||
      seen->family == 0 || seen->port == 0)
    return ETHP2P_EINVAL;
  p = &nb->profile;
  for (size_t i = 0; i < nb->n_obs; i++) {
    const nb_obs *o = &nb->obs[i];
    if (o->local_port != local_port)
      continue;
    bool same_ip = ethp2p_addr_equal(&o->observer, observer, false);
    if (same_ip && o->observer.port == observer->port)
      continue; /* the same observer again: no comparison */
    if (o->seen.port != seen->port) {
      evidence = stricter(evidence, same_ip ? ETHP2P_NAT_POLICY_APD : ETHP2P_NAT_POLICY_AD);
    } else if (!same_ip && ethp2p_addr_equal(&o->seen, seen, false)) {
      agree_two_ips = true;
    }
  }
  /* Keep the last NB_MAX_OBS observations (a ring). */
  nb->obs[nb->obs_next].local_port = local_port;
  nb->obs[nb->obs_next].observer = *observer;
  nb->obs[nb->obs_next].seen = *seen;
  nb->obs_next = (nb->obs_next + 1) % NB_MAX_OBS;
  if (nb->n_obs < NB_MAX_OBS)
    nb->n_obs++;
  p->observations++;
  if (p->reflexive.family == 0)
    p->reflexive = *seen;
  else if (!ethp2p_addr_equal(&p->reflexive, seen, false))
    p->observed_ip_mismatch = true;
  if (evidence != ETHP2P_NAT_POLICY_UNKNOWN) {
    if (p->mapping == ETHP2P_NAT_POLICY_UNKNOWN || evidence > p->mapping)
      p->mapping = stricter(p->mapping, evidence);
  } else if (agree_two_ips && p->mapping == ETHP2P_NAT_POLICY_UNKNOWN && p->measured_at == 0) {
    p->mapping = ETHP2P_NAT_POLICY_EI;
  }
  ethp2p_nat_profile_derive(p);
  return 0;
}

void ethp2p_natb_destroy(ethp2p_natb *nb) {
  if (nb == NULL)
    return;
  ethp2p_natb_stop(nb);
  ethp2p_timer_destroy(nb->timer);
  free(nb);
}
