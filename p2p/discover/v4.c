/*
 * p2p/discover/v4.c — the discv4 protocol on a socket mux (see ethp2p/discv4.h
 * for the rules, which follow go-ethereum's p2p/discover/v4_udp.go).
 *
 * Requests in flight live in a fixed array of slots.  A FindNode or ENRRequest
 * to a node without a fresh endpoint proof goes through three stages:
 *   BOND  our Ping is out, waiting for the Pong;
 *   WAIT  Pong received, waiting (at most resp_timeout) for the node's own Ping,
 *         which means it now holds a proof for us;
 *   SENT  the request is out, waiting for its reply.
 * One timer, armed at the earliest deadline, times them out.
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/discv4.h"
#include "ethp2p/keccak.h"
#include "ethp2p/log.h"
#include "ethp2p/secp.h"

#define V4_MODULE "discv4"
#define PENDING_MAX 256
#define BONDS_MAX 512
#define ITER_SEEN_MAX 4096
#define ITER_QUEUE_MAX 64

typedef enum {
  P_FREE = 0,
  P_USER_PING,   /* ping_cb */
  P_BONDBACK,    /* after their Ping: add them to the table on our Pong */
  P_REVALIDATE,  /* table check */
  P_USER_ENR,    /* enr_cb */
  P_SEQ_FETCH,   /* a higher enr-seq was announced: update the table's seq */
  P_USER_FIND,   /* nodes_cb */
  P_LOOKUP_FIND, /* answer to a lookup */
  P_RESOLVE_ENR, /* resolve of a table node: enr_cb, or a lookup when it fails */
} p_kind;

typedef enum { ST_BOND = 1, ST_WAIT, ST_SENT } p_stage;

typedef struct lkctx lkctx;

typedef struct pending {
  p_kind kind;
  p_stage stage;
  ethp2p_discover_node node; /* id all zero: any sender at that IP (bare-address ping) */
  bool any_id;
  uint8_t want;     /* reply type expected now */
  uint8_t hash[32]; /* hash of the request (Pong/ENRResponse token) */
  uint8_t target[64];
  ethp2p_time sent, deadline;
  ethp2p_discv4_ping_cb ping_cb;
  ethp2p_discv4_enr_cb enr_cb;
  ethp2p_discv4_nodes_cb nodes_cb;
  void *data;
  lkctx *lk;
  ethp2p_discover_node *found; /* FindNode only: ETHP2P_TABLE_BUCKET_SIZE, heap */
  size_t nfound;
  size_t nreceived; /* nodes received, usable or not (go-ethereum counts these) */
} pending;

typedef struct bond {
  uint8_t id[32];
  ethp2p_addr ip; /* port 0 */
  ethp2p_time ping_rx, pong_rx, used;
} bond;

typedef enum { LK_USER = 1, LK_REFRESH, LK_ITER, LK_RESOLVE } lk_kind;

struct lkctx {
  ethp2p_discv4 *d;
  ethp2p_lookup *lk;
  lk_kind kind;
  uint8_t target64[64];
  uint8_t target[32];
  ethp2p_discv4_nodes_cb nodes_cb;
  ethp2p_discv4_enr_cb enr_cb;
  void *data;
  ethp2p_discv4_iter *it;
  lkctx *next;
};

struct ethp2p_discv4_iter {
  ethp2p_discv4 *d;
  ethp2p_discv4_filter_fn filter;
  void *filter_data;
  ethp2p_discv4_iter_cb cb;
  void *cb_data;
  ethp2p_timer *timer;
  bool lookup_running;
  unsigned empty_walks; /* walks in a row that found no node not yet delivered */
  ethp2p_discover_node queue[ITER_QUEUE_MAX];
  size_t nqueue;
  uint8_t (*seen)[32];
  size_t nseen;
  ethp2p_discv4_iter *next;
};

struct ethp2p_discv4 {
  ethp2p_env *env;
  ethp2p_discover *mux;
  uint8_t secret[32];
  uint8_t pub64[64];
  uint8_t id[32];
  ethp2p_discv4_host host;
  ethp2p_discv4_config cfg;
  ethp2p_discover_node *boot;
  size_t nboot;
  ethp2p_addr *rnets;
  uint8_t *rprefix;
  size_t nrestrict;
  ethp2p_table table;
  pending pend[PENDING_MAX];
  bond bonds[BONDS_MAX];
  ethp2p_timer *ptimer, *reval_timer, *refresh_timer;
  lkctx *lookups;
  ethp2p_discv4_iter *iters;
  ethp2p_discv4_stats stats;
  ethp2p_discv4_packet pkt; /* scratch for decoding (large) */
  ethp2p_discv4_packet out; /* scratch for encoding */
  bool destroying;
};

static void lookup_done(void *data, const ethp2p_discover_node *nodes, size_t n);
static int lookup_begin(ethp2p_discv4 *d, int kind, const uint8_t *target64, lkctx **out);

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

static uint64_t now_s(ethp2p_discv4 *d) {
  int64_t ms = ethp2p_env_wall_ms(d->env);
  return ms > 0 ? (uint64_t)ms / 1000 : 0;
}

static uint64_t expiration(ethp2p_discv4 *d) {
  return now_s(d) + ETHP2P_DISCV4_EXPIRATION_S;
}

static bool allowed(const ethp2p_discv4 *d, const ethp2p_addr *a) {
  if (d->nrestrict == 0)
    return true;
  for (size_t i = 0; i < d->nrestrict; i++)
    if (ethp2p_addr_same_subnet(a, &d->rnets[i], d->rprefix[i]))
      return true;
  return false;
}

static bool zero64(const uint8_t *p) {
  for (size_t i = 0; i < 64; i++)
    if (p[i] != 0)
      return false;
  return true;
}

static bond *bond_get(ethp2p_discv4 *d, const uint8_t id[32], const ethp2p_addr *ip, bool create) {
  bond *oldest = &d->bonds[0];
  for (size_t i = 0; i < BONDS_MAX; i++) {
    bond *b = &d->bonds[i];
    if (b->used != 0 && memcmp(b->id, id, 32) == 0 && ethp2p_addr_equal(&b->ip, ip, false))
      return b;
    if (b->used < oldest->used)
      oldest = b;
  }
  if (!create)
    return NULL;
  memset(oldest, 0, sizeof *oldest);
  memcpy(oldest->id, id, 32);
  oldest->ip = *ip;
  oldest->ip.port = 0;
  oldest->used = ethp2p_env_now(d->env) | 1;
  return oldest;
}

static bool fresh(const ethp2p_discv4 *d, ethp2p_time t, ethp2p_time now) {
  return t != 0 && now - t < d->cfg.bond_expiration;
}

/* True if we have a Pong from (id, ip) within the bond expiration. */
static bool proven(ethp2p_discv4 *d, const uint8_t id[32], const ethp2p_addr *ip) {
  bond *b = bond_get(d, id, ip, false);
  return b != NULL && fresh(d, b->pong_rx, ethp2p_env_now(d->env));
}

/* go-ethereum's netutil.CheckRelayIP, simplified: loopback addresses only go to
 * loopback requesters, LAN addresses only to LAN or loopback requesters. */
static bool relay_ok(const ethp2p_addr *requester, const ethp2p_addr *n) {
  if (ethp2p_addr_is_unspecified(n) || ethp2p_addr_is_multicast(n))
    return false;
  if (ethp2p_addr_is_loopback(n) && !ethp2p_addr_is_loopback(requester))
    return false;
  if (ethp2p_addr_is_private(n) && !ethp2p_addr_is_private(requester) &&
      !ethp2p_addr_is_loopback(requester))
    return false;
  return true;
}

static int send_packet(ethp2p_discv4 *d, const ethp2p_addr *to, ethp2p_discv4_packet *p,
                       uint8_t hash[32]) {
  uint8_t buf[ETHP2P_DISCV4_MAX_PACKET];
  size_t len;
  int rc = ethp2p_discv4_encode(buf, sizeof buf, &len, hash, p, d->secret);
  if (rc != 0)
    return rc;
  rc = ethp2p_discover_send(d->mux, to, buf, len);
  if (rc == 0 && p->type < 7)
    d->stats.tx[p->type]++;
  return rc;
}

/* Our endpoint for Ping's `from`: the record's ip/udp/tcp, else the socket's. */
static void our_endpoint(ethp2p_discv4 *d, ethp2p_discv4_endpoint *ep, uint64_t *seq) {
  ethp2p_enr rec;
  uint8_t ip[4];
  uint16_t port;
  memset(ep, 0, sizeof *ep);
  ep->addr = ethp2p_discover_local_addr(d->mux);
  *seq = 0;
  if (d->host.record(d->host.data, &rec) != 0)
    return;
  *seq = ethp2p_enr_seq(&rec);
  if (ethp2p_enr_ip_get(&rec, ip) == 0)
    ep->addr = ethp2p_addr_v4(ip[0], ip[1], ip[2], ip[3], ep->addr.port);
  if (ethp2p_enr_port_get(&rec, ETHP2P_ENR_UDP, &port) == 0)
    ep->addr.port = port;
  if (ethp2p_enr_port_get(&rec, ETHP2P_ENR_TCP, &port) == 0)
    ep->tcp = port;
}

static uint64_t our_seq(ethp2p_discv4 *d) {
  ethp2p_enr rec;
  return d->host.record(d->host.data, &rec) == 0 ? ethp2p_enr_seq(&rec) : 0;
}

/* ---------------------------------------------------------------------------
 * Pending requests
 * ------------------------------------------------------------------------- */

static void arm_ptimer(ethp2p_discv4 *d) {
  ethp2p_time first = 0;
  for (size_t i = 0; i < PENDING_MAX; i++)
    if (d->pend[i].kind != P_FREE && (first == 0 || d->pend[i].deadline < first))
      first = d->pend[i].deadline;
  if (first == 0)
    ethp2p_timer_stop(d->ptimer);
  else
    ethp2p_timer_start(d->ptimer, first);
}

static pending *pend_alloc(ethp2p_discv4 *d) {
  for (size_t i = 0; i < PENDING_MAX; i++)
    if (d->pend[i].kind == P_FREE) {
      memset(&d->pend[i], 0, sizeof d->pend[i]);
      return &d->pend[i];
    }
  return NULL;
}

static int send_ping(ethp2p_discv4 *d, pending *p) {
  ethp2p_discv4_packet *o = &d->out;
  uint64_t seq;
  int rc;
  memset(o, 0, sizeof *o);
  o->type = ETHP2P_DISCV4_PING;
  o->expiration = expiration(d);
  o->u.ping.version = 4;
  our_endpoint(d, &o->u.ping.from, &seq);
  o->u.ping.to.addr = p->node.addr;
  o->u.ping.to.tcp = p->node.tcp;
  o->u.ping.has_seq = true;
  o->u.ping.enr_seq = seq;
  rc = send_packet(d, &p->node.addr, o, p->hash);
  if (rc != 0)
    return rc;
  if (d->host.contact != NULL)
    d->host.contact(d->host.data, &p->node.addr);
  p->want = ETHP2P_DISCV4_PONG;
  p->sent = ethp2p_env_now(d->env);
  p->deadline = p->sent + d->cfg.resp_timeout;
  return 0;
}

static int send_request(ethp2p_discv4 *d, pending *p) {
  ethp2p_discv4_packet *o = &d->out;
  int rc;
  memset(o, 0, sizeof *o);
  o->expiration = expiration(d);
  if (p->kind == P_USER_FIND || p->kind == P_LOOKUP_FIND) {
    o->type = ETHP2P_DISCV4_FINDNODE;
    memcpy(o->u.findnode.target, p->target, 64);
    p->want = ETHP2P_DISCV4_NEIGHBORS;
  } else {
    o->type = ETHP2P_DISCV4_ENRREQUEST;
    p->want = ETHP2P_DISCV4_ENRRESPONSE;
  }
  rc = send_packet(d, &p->node.addr, o, p->hash);
  if (rc != 0)
    return rc;
  p->stage = ST_SENT;
  p->sent = ethp2p_env_now(d->env);
  p->deadline = p->sent + d->cfg.resp_timeout;
  return 0;
}

/* Completes p (freed first, so callbacks may start new requests). */
static void complete(ethp2p_discv4 *d, pending *slot, int status,
                     const ethp2p_discv4_pong_info *pong, const ethp2p_enr *rec) {
  pending p = *slot;
  ethp2p_time now = ethp2p_env_now(d->env);
  slot->kind = P_FREE;
  slot->found = NULL; /* p owns it now */
  if (status == ETHP2P_ETIMEDOUT)
    d->stats.timeouts++;
  switch (p.kind) {
  case P_USER_PING:
    p.ping_cb(p.data, status, pong);
    break;
  case P_BONDBACK:
    if (status == 0 && !d->destroying)
      (void)ethp2p_table_add_seen(&d->table, &p.node, now);
    break;
  case P_REVALIDATE:
    if (d->destroying)
      break;
    (void)ethp2p_table_checked(&d->table, p.node.id, status == 0,
                               status == 0 && pong->has_seq ? pong->enr_seq : 0, now);
    break;
  case P_USER_ENR:
    p.enr_cb(p.data, status, rec);
    break;
  case P_RESOLVE_ENR: {
    lkctx *c;
    if (status == 0 || d->destroying || lookup_begin(d, LK_RESOLVE, p.node.pub64, &c) != 0) {
      p.enr_cb(p.data, status, rec);
      break;
    }
    c->enr_cb = p.enr_cb; /* the node moved or left: look it up */
    c->data = p.data;
    break;
  }
  case P_SEQ_FETCH:
    if (status == 0 && !d->destroying) {
      ethp2p_discover_node n;
      if (ethp2p_discover_node_from_record(&n, rec) == 0)
        (void)ethp2p_table_checked(&d->table, n.id, true, n.seq, now);
    }
    break;
  case P_USER_FIND:
    if (status == ETHP2P_ETIMEDOUT && p.nfound > 0)
      status = 0; /* go-ethereum keeps what came before the timeout */
    p.nodes_cb(p.data, status, p.found, status == 0 ? p.nfound : 0);
    break;
  case P_LOOKUP_FIND:
    if (status == ETHP2P_ETIMEDOUT && p.nfound > 0)
      status = 0;
    if (status == 0 && !d->destroying)
      (void)ethp2p_table_add_seen(&d->table, &p.node, now);
    ethp2p_lookup_answer(p.lk->lk, p.node.id, status, p.found, status == 0 ? p.nfound : 0);
    break;
  default:
    break;
  }
  free(p.found);
}

static void on_ptimer(ethp2p_timer *t, void *data) {
  ethp2p_discv4 *d = data;
  ethp2p_time now = ethp2p_env_now(d->env);
  (void)t;
  for (size_t i = 0; i < PENDING_MAX; i++) {
    pending *p = &d->pend[i];
    if (p->kind == P_FREE || p->deadline > now)
      continue;
    if (p->stage == ST_WAIT) {
      /* their Ping did not come; ask anyway, as go-ethereum does after its sleep */
      int rc = send_request(d, p);
      if (rc != 0)
        complete(d, p, rc, NULL, NULL);
      continue;
    }
    complete(d, p, ETHP2P_ETIMEDOUT, NULL, NULL);
  }
  arm_ptimer(d);
}

/* Starts a request of kind k to n (Ping kinds ping; the others bond first when
 * needed).  Returns 0 or an error (nothing pending then). */
static int start(ethp2p_discv4 *d, p_kind k, const ethp2p_discover_node *n, const uint8_t *target,
                 pending **out) {
  pending *p;
  int rc;
  if (n == NULL || n->addr.family == 0 || n->addr.port == 0)
    return ETHP2P_EINVAL;
  if (!allowed(d, &n->addr))
    return ETHP2P_EPERM;
  p = pend_alloc(d);
  if (p == NULL)
    return ETHP2P_EBUSY;
  if (k == P_USER_FIND || k == P_LOOKUP_FIND) {
    p->found = calloc(ETHP2P_TABLE_BUCKET_SIZE, sizeof *p->found);
    if (p->found == NULL)
      return ETHP2P_ENOMEM;
  }
  p->kind = k;
  p->node = *n;
  p->any_id = zero64(n->pub64);
  if (target != NULL)
    memcpy(p->target, target, 64);
  if (k == P_USER_PING || k == P_BONDBACK || k == P_REVALIDATE) {
    p->stage = ST_SENT;
    rc = send_ping(d, p);
  } else if (!p->any_id && proven(d, n->id, &n->addr)) {
    rc = send_request(d, p);
  } else {
    p->stage = ST_BOND;
    rc = send_ping(d, p);
  }
  if (rc != 0) {
    p->kind = P_FREE;
    free(p->found);
    p->found = NULL;
    return rc;
  }
  *out = p;
  arm_ptimer(d);
  return 0;
}

/* ---------------------------------------------------------------------------
 * Inbound packets
 * ------------------------------------------------------------------------- */

static void fetch_if_newer(ethp2p_discv4 *d, const uint8_t id[32], bool has_seq, uint64_t seq) {
  const ethp2p_table_entry *e;
  pending *p;
  if (!has_seq)
    return;
  e = ethp2p_table_find(&d->table, id);
  if (e == NULL || seq <= e->node.seq)
    return;
  for (size_t i = 0; i < PENDING_MAX; i++)
    if (d->pend[i].kind == P_SEQ_FETCH && memcmp(d->pend[i].node.id, id, 32) == 0)
      return; /* already fetching */
  ethp2p_discover_node n = e->node;
  (void)start(d, P_SEQ_FETCH, &n, NULL, &p);
}

static void handle_ping(ethp2p_discv4 *d, const ethp2p_addr *from, const uint8_t pub[64],
                        const uint8_t hash[32]) {
  ethp2p_discv4_packet *in = &d->pkt, *o = &d->out;
  ethp2p_discover_node n;
  ethp2p_time now = ethp2p_env_now(d->env);
  bond *b;
  pending *p;
  uint16_t tcp = in->u.ping.from.tcp;
  bool has_seq = in->u.ping.has_seq;
  uint64_t seq = in->u.ping.enr_seq;

  if (ethp2p_discover_node_init(&n, pub, from, tcp) != 0)
    return;
  memset(o, 0, sizeof *o);
  o->type = ETHP2P_DISCV4_PONG;
  o->expiration = expiration(d);
  o->u.pong.to.addr = *from;
  o->u.pong.to.tcp = tcp;
  memcpy(o->u.pong.ping_hash, hash, 32);
  o->u.pong.has_seq = true;
  o->u.pong.enr_seq = our_seq(d);
  (void)send_packet(d, from, o, NULL);

  b = bond_get(d, n.id, from, true);
  b->ping_rx = now;
  b->used = now | 1;
  /* requests waiting for this node's Ping may go now */
  for (size_t i = 0; i < PENDING_MAX; i++) {
    p = &d->pend[i];
    if (p->kind != P_FREE && p->stage == ST_WAIT && memcmp(p->node.id, n.id, 32) == 0) {
      int rc = send_request(d, p);
      if (rc != 0)
        complete(d, p, rc, NULL, NULL);
    }
  }
  if (fresh(d, b->pong_rx, now))
    (void)ethp2p_table_add_seen(&d->table, &n, now);
  else
    (void)start(d, P_BONDBACK, &n, NULL, &p);
  fetch_if_newer(d, n.id, has_seq, seq);
  arm_ptimer(d);
}

/* The first slot expecting `type` from (id, ip) that accepts the reply. */
static pending *match(ethp2p_discv4 *d, uint8_t type, const uint8_t id[32], const ethp2p_addr *from,
                      const uint8_t *token) {
  for (size_t i = 0; i < PENDING_MAX; i++) {
    pending *p = &d->pend[i];
    if (p->kind == P_FREE || p->want != type || p->stage == ST_WAIT)
      continue;
    if (!ethp2p_addr_equal(&p->node.addr, from, false))
      continue;
    if (!p->any_id && memcmp(p->node.id, id, 32) != 0)
      continue;
    if (token != NULL && memcmp(p->hash, token, 32) != 0)
      continue;
    return p;
  }
  return NULL;
}

static void handle_pong(ethp2p_discv4 *d, const ethp2p_addr *from, const uint8_t pub[64]) {
  ethp2p_discv4_packet *in = &d->pkt;
  ethp2p_discv4_pong_info info;
  ethp2p_time now = ethp2p_env_now(d->env);
  uint8_t id[32];
  pending *p;
  bond *b;

  ethp2p_secp_node_id(id, pub);
  p = match(d, ETHP2P_DISCV4_PONG, id, from, in->u.pong.ping_hash);
  if (p == NULL) {
    d->stats.unsolicited++;
    return;
  }
  b = bond_get(d, id, from, true);
  b->pong_rx = now;
  b->used = now | 1;
  if (d->host.statement != NULL && in->u.pong.to.addr.family != 0)
    d->host.statement(d->host.data, from, &in->u.pong.to.addr);
  memset(&info, 0, sizeof info);
  info.to = in->u.pong.to.addr;
  info.has_seq = in->u.pong.has_seq;
  info.enr_seq = in->u.pong.enr_seq;
  info.rtt = now - p->sent;
  memcpy(info.pub64, pub, 64);
  if (p->stage == ST_BOND) {
    /* bonded; give the node resp_timeout to ping us back (it wants a proof too) */
    if (p->any_id)
      memcpy(p->node.pub64, pub, 64), memcpy(p->node.id, id, 32), p->any_id = false;
    b = bond_get(d, id, from, false);
    if (b != NULL && fresh(d, b->ping_rx, now)) {
      int rc = send_request(d, p);
      if (rc != 0)
        complete(d, p, rc, NULL, NULL);
    } else {
      p->stage = ST_WAIT;
      p->want = 0;
      p->deadline = now + d->cfg.resp_timeout;
    }
  } else {
    if (p->any_id)
      memcpy(p->node.pub64, pub, 64), memcpy(p->node.id, id, 32);
    complete(d, p, 0, &info, NULL);
  }
  fetch_if_newer(d, id, info.has_seq, info.enr_seq);
  arm_ptimer(d);
}

static void handle_findnode(ethp2p_discv4 *d, const ethp2p_addr *from, const uint8_t pub[64]) {
  ethp2p_discover_node closest[ETHP2P_TABLE_BUCKET_SIZE];
  ethp2p_discv4_packet *o = &d->out;
  uint8_t id[32], target[32], tkey[64];
  size_t n, k = 0;

  ethp2p_secp_node_id(id, pub);
  if (!proven(d, id, from)) {
    d->stats.unbonded++;
    return;
  }
  memcpy(tkey, d->pkt.u.findnode.target, 64);
  ethp2p_keccak256(target, tkey, 64);
  n = ethp2p_table_closest(&d->table, target, closest, ETHP2P_TABLE_BUCKET_SIZE);
  memset(o, 0, sizeof *o);
  o->type = ETHP2P_DISCV4_NEIGHBORS;
  o->expiration = expiration(d);
  for (size_t i = 0; i < n; i++) {
    if (!relay_ok(from, &closest[i].addr))
      continue;
    ethp2p_discv4_rnode *r = &o->u.neighbors.nodes[k++];
    r->ep.addr = closest[i].addr;
    r->ep.tcp = closest[i].tcp;
    memcpy(r->pub64, closest[i].pub64, 64);
    if (k == ETHP2P_DISCV4_NEIGHBORS_PER_PACKET) {
      o->u.neighbors.n = k;
      (void)send_packet(d, from, o, NULL);
      k = 0;
    }
  }
  if (k > 0 || n == 0) {
    o->u.neighbors.n = k;
    (void)send_packet(d, from, o, NULL);
  }
}

static void handle_neighbors(ethp2p_discv4 *d, const ethp2p_addr *from, const uint8_t pub[64]) {
  ethp2p_discv4_packet *in = &d->pkt;
  uint8_t id[32];
  pending *p;

  ethp2p_secp_node_id(id, pub);
  p = match(d, ETHP2P_DISCV4_NEIGHBORS, id, from, NULL);
  if (p == NULL) {
    d->stats.unsolicited++;
    return;
  }
  p->nreceived += in->u.neighbors.n + in->u.neighbors.skipped;
  for (size_t i = 0; i < in->u.neighbors.n; i++) {
    const ethp2p_discv4_rnode *r = &in->u.neighbors.nodes[i];
    ethp2p_discover_node n;
    if (p->nfound == ETHP2P_TABLE_BUCKET_SIZE)
      break;
    /* go-ethereum refuses UDP ports <= 1024 (errLowPort) */
    if (r->ep.addr.port <= 1024 || !allowed(d, &r->ep.addr) || !relay_ok(from, &r->ep.addr))
      continue;
    if (ethp2p_discover_node_init(&n, r->pub64, &r->ep.addr, r->ep.tcp) != 0)
      continue;
    if (memcmp(n.id, d->id, 32) == 0)
      continue;
    p->found[p->nfound++] = n;
  }
  if (p->nreceived >= ETHP2P_TABLE_BUCKET_SIZE) {
    complete(d, p, 0, NULL, NULL);
    arm_ptimer(d);
  }
}

static void handle_enrrequest(ethp2p_discv4 *d, const ethp2p_addr *from, const uint8_t pub[64],
                              const uint8_t hash[32]) {
  ethp2p_discv4_packet *o = &d->out;
  uint8_t id[32];

  ethp2p_secp_node_id(id, pub);
  if (!proven(d, id, from)) {
    d->stats.unbonded++;
    return;
  }
  memset(o, 0, sizeof *o);
  o->type = ETHP2P_DISCV4_ENRRESPONSE;
  memcpy(o->u.enrresponse.request_hash, hash, 32);
  if (d->host.record(d->host.data, &o->u.enrresponse.record) != 0)
    return;
  (void)send_packet(d, from, o, NULL);
}

static void handle_enrresponse(ethp2p_discv4 *d, const ethp2p_addr *from, const uint8_t pub[64]) {
  ethp2p_discv4_packet *in = &d->pkt;
  uint8_t id[32], rid[32];
  pending *p;
  int status = 0;

  ethp2p_secp_node_id(id, pub);
  p = match(d, ETHP2P_DISCV4_ENRRESPONSE, id, from, in->u.enrresponse.request_hash);
  if (p == NULL) {
    d->stats.unsolicited++;
    return;
  }
  /* the record must verify and belong to the node we asked */
  if (ethp2p_enr_verify(&in->u.enrresponse.record, NULL) != 0 ||
      ethp2p_enr_node_id(rid, &in->u.enrresponse.record) != 0 || memcmp(rid, id, 32) != 0)
    status = ETHP2P_ESIG;
  complete(d, p, status, NULL, status == 0 ? &in->u.enrresponse.record : NULL);
  arm_ptimer(d);
}

static bool on_packet(void *data, const ethp2p_addr *from, const uint8_t *pkt, size_t len) {
  ethp2p_discv4 *d = data;
  uint8_t pub[64], hash[32];
  ethp2p_discv4_packet *in = &d->pkt;

  if (ethp2p_discv4_decode(in, pub, hash, pkt, len, NULL) != 0) {
    d->stats.rx[0]++;
    return false; /* not discv4: the mux offers it to discv5 */
  }
  d->stats.rx[in->type]++;
  if (!allowed(d, from))
    return true;
  if (in->type != ETHP2P_DISCV4_ENRRESPONSE && ethp2p_discv4_expired(in->expiration, now_s(d))) {
    d->stats.expired++;
    return true;
  }
  if (ethp2p_log_enabled(ETHP2P_LOG_TRACE)) {
    char a[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_TRACE, V4_MODULE, "<< packet", "type=%s addr=%s len=%zu",
               ethp2p_discv4_type_name(in->type), ethp2p_addr_format(from, true, a, sizeof a), len);
  }
  switch (in->type) {
  case ETHP2P_DISCV4_PING:
    handle_ping(d, from, pub, hash);
    break;
  case ETHP2P_DISCV4_PONG:
    handle_pong(d, from, pub);
    break;
  case ETHP2P_DISCV4_FINDNODE:
    handle_findnode(d, from, pub);
    break;
  case ETHP2P_DISCV4_NEIGHBORS:
    handle_neighbors(d, from, pub);
    break;
  case ETHP2P_DISCV4_ENRREQUEST:
    handle_enrrequest(d, from, pub, hash);
    break;
  default:
    handle_enrresponse(d, from, pub);
    break;
  }
  return true;
}

/* ---------------------------------------------------------------------------
 * Lookups
 * ------------------------------------------------------------------------- */

static int lookup_query(void *data, ethp2p_lookup *lk, const ethp2p_discover_node *n,
                        const uint8_t target[32]) {
  lkctx *c = data;
  pending *p;
  int rc;
  (void)lk;
  (void)target;
  if (c->d->destroying)
    return ETHP2P_ECANCELED;
  rc = start(c->d, P_LOOKUP_FIND, n, c->target64, &p);
  if (rc == 0)
    p->lk = c;
  return rc;
}

static void lk_unlink(ethp2p_discv4 *d, lkctx *c) {
  for (lkctx **pp = &d->lookups; *pp != NULL; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      return;
    }
}

/* Seeds: the table's closest to target, else the bootnodes. */
static size_t seeds_for(ethp2p_discv4 *d, const uint8_t target[32], ethp2p_discover_node *out,
                        size_t max) {
  size_t n = ethp2p_table_closest(&d->table, target, out, max);
  for (size_t i = 0; i < d->nboot && n < max; i++) {
    bool dup = false;
    for (size_t j = 0; j < n && !dup; j++)
      dup = memcmp(out[j].id, d->boot[i].id, 32) == 0;
    if (!dup)
      out[n++] = d->boot[i];
  }
  return n;
}

static int lookup_begin(ethp2p_discv4 *d, int kind, const uint8_t *target64, lkctx **out) {
  ethp2p_discover_node seeds[ETHP2P_TABLE_BUCKET_SIZE + 16];
  lkctx *c = calloc(1, sizeof *c);
  size_t n;
  int rc;
  if (c == NULL)
    return ETHP2P_ENOMEM;
  c->d = d;
  c->kind = (lk_kind)kind;
  if (target64 != NULL)
    memcpy(c->target64, target64, 64);
  else
    ethp2p_env_random(d->env, c->target64, 64);
  ethp2p_keccak256(c->target, c->target64, 64);
  n = seeds_for(d, c->target, seeds, sizeof seeds / sizeof seeds[0]);
  c->next = d->lookups;
  d->lookups = c;
  rc = ethp2p_lookup_start(d->env, c->target, d->id, seeds, n, lookup_query, c, lookup_done, c,
                           &c->lk);
  if (rc != 0) {
    lk_unlink(d, c);
    free(c);
    return rc;
  }
  d->stats.lookups++;
  *out = c;
  return 0;
}

static void iter_feed(ethp2p_discv4_iter *it, const ethp2p_discover_node *nodes, size_t n);

static void lookup_done(void *data, const ethp2p_discover_node *nodes, size_t n) {
  lkctx *c = data;
  ethp2p_discv4 *d = c->d;
  pending *p;
  int rc;
  lk_unlink(d, c);
  switch (c->kind) {
  case LK_USER:
    c->nodes_cb(c->data, 0, nodes, n);
    break;
  case LK_ITER:
    c->it->lookup_running = false;
    iter_feed(c->it, nodes, n);
    break;
  case LK_RESOLVE:
    for (size_t i = 0; i < n; i++)
      if (memcmp(nodes[i].pub64, c->target64, 64) == 0) {
        rc = start(d, P_USER_ENR, &nodes[i], NULL, &p);
        if (rc == 0) {
          p->enr_cb = c->enr_cb;
          p->data = c->data;
        } else {
          c->enr_cb(c->data, rc, NULL);
        }
        free(c);
        return;
      }
    c->enr_cb(c->data, ETHP2P_ENOTFOUND, NULL);
    break;
  default:
    break;
  }
  free(c);
}

/* ---------------------------------------------------------------------------
 * Maintenance: revalidation and refresh
 * ------------------------------------------------------------------------- */

static void on_reval(ethp2p_timer *t, void *data) {
  ethp2p_discv4 *d = data;
  uint32_t r;
  const ethp2p_table_entry *e;
  pending *p;
  (void)t;
  ethp2p_env_random(d->env, (uint8_t *)&r, sizeof r);
  e = ethp2p_table_pick_check(&d->table, r);
  if (e != NULL) {
    ethp2p_discover_node n = e->node;
    (void)start(d, P_REVALIDATE, &n, NULL, &p);
  }
  ethp2p_env_random(d->env, (uint8_t *)&r, sizeof r);
  ethp2p_timer_start(d->reval_timer,
                     ethp2p_env_now(d->env) +
                         (ethp2p_time)(r % 1000) * d->cfg.revalidate_interval / 1000 + ETHP2P_MSEC);
}

static void refresh(ethp2p_discv4 *d) {
  lkctx *c;
  (void)lookup_begin(d, LK_REFRESH, d->pub64, &c);
  for (int i = 0; i < 3; i++)
    (void)lookup_begin(d, LK_REFRESH, NULL, &c);
}

static void on_refresh(ethp2p_timer *t, void *data) {
  ethp2p_discv4 *d = data;
  (void)t;
  refresh(d);
  ethp2p_timer_start(d->refresh_timer, ethp2p_env_now(d->env) + d->cfg.refresh_interval);
}

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

int ethp2p_discv4_create(ethp2p_discover *mux, const ethp2p_discv4_config *cfg,
                         ethp2p_discv4 **out) {
  ethp2p_discv4 *d;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (mux == NULL || cfg == NULL || out == NULL || cfg->host.record == NULL)
    return ETHP2P_EINVAL;
  d = calloc(1, sizeof *d);
  if (d == NULL)
    return ETHP2P_ENOMEM;
  d->env = ethp2p_discover_env(mux);
  d->mux = mux;
  d->cfg = *cfg;
  d->host = cfg->host;
  memcpy(d->secret, cfg->secret, 32);
  memset(d->cfg.secret, 0, 32);
  d->cfg.bootnodes = NULL;
  d->cfg.restrict_nets = NULL;
  d->cfg.restrict_prefix = NULL;
  if (d->cfg.resp_timeout == 0)
    d->cfg.resp_timeout = 500 * ETHP2P_MSEC;
  if (d->cfg.bond_expiration == 0)
    d->cfg.bond_expiration = 24 * ETHP2P_HOUR;
  if (d->cfg.revalidate_interval == 0)
    d->cfg.revalidate_interval = 10 * ETHP2P_SEC;
  if (d->cfg.refresh_interval == 0)
    d->cfg.refresh_interval = 30 * ETHP2P_MIN;
  rc = ethp2p_secp_pubkey(NULL, d->pub64, d->secret);
  if (rc != 0)
    goto out_fail;
  ethp2p_secp_node_id(d->id, d->pub64);
  ethp2p_table_init(&d->table, d->id);
  rc = ETHP2P_ENOMEM;
  if (cfg->nbootnodes > 0) {
    d->boot = calloc(cfg->nbootnodes, sizeof *d->boot);
    if (d->boot == NULL)
      goto out_fail;
    for (size_t i = 0; i < cfg->nbootnodes; i++)
      if (memcmp(cfg->bootnodes[i].id, d->id, 32) != 0)
        d->boot[d->nboot++] = cfg->bootnodes[i];
  }
  if (cfg->nrestrict > 0) {
    d->rnets = calloc(cfg->nrestrict, sizeof *d->rnets);
    d->rprefix = calloc(cfg->nrestrict, 1);
    if (d->rnets == NULL || d->rprefix == NULL)
      goto out_fail;
    memcpy(d->rnets, cfg->restrict_nets, cfg->nrestrict * sizeof *d->rnets);
    memcpy(d->rprefix, cfg->restrict_prefix, cfg->nrestrict);
    d->nrestrict = cfg->nrestrict;
  }
  if (ethp2p_timer_create(d->env, &d->ptimer, on_ptimer, d) != 0 ||
      ethp2p_timer_create(d->env, &d->reval_timer, on_reval, d) != 0 ||
      ethp2p_timer_create(d->env, &d->refresh_timer, on_refresh, d) != 0)
    goto out_fail;
  ethp2p_discover_set_handler(mux, on_packet, d);
  if (!cfg->no_maintenance) {
    ethp2p_time now = ethp2p_env_now(d->env);
    ethp2p_timer_start(d->reval_timer, now + d->cfg.revalidate_interval / 2);
    /* first refresh on the next turn (bootnodes), then every refresh_interval */
    ethp2p_timer_start(d->refresh_timer, now);
  }
  *out = d;
  return 0;

out_fail:
  ethp2p_discv4_destroy(d);
  return rc;
}

void ethp2p_discv4_destroy(ethp2p_discv4 *d) {
  if (d == NULL)
    return;
  d->destroying = true;
  if (d->mux != NULL)
    ethp2p_discover_set_handler(d->mux, NULL, NULL);
  while (d->iters != NULL)
    ethp2p_discv4_iter_close(d->iters);
  /* lookups: user callbacks get ECANCELED, then the lookups are cancelled */
  while (d->lookups != NULL) {
    lkctx *c = d->lookups;
    d->lookups = c->next;
    if (c->kind == LK_USER)
      c->nodes_cb(c->data, ETHP2P_ECANCELED, NULL, 0);
    else if (c->kind == LK_RESOLVE)
      c->enr_cb(c->data, ETHP2P_ECANCELED, NULL);
    ethp2p_lookup_cancel(c->lk);
    c->kind = 0; /* its pending queries still point here until answered below */
    c->next = NULL;
    /* freed after the pending loop */
    for (size_t i = 0; i < PENDING_MAX; i++)
      if (d->pend[i].kind == P_LOOKUP_FIND && d->pend[i].lk == c) {
        pending p = d->pend[i];
        d->pend[i].kind = P_FREE;
        d->pend[i].found = NULL;
        free(p.found);
        ethp2p_lookup_answer(c->lk, p.node.id, ETHP2P_ECANCELED, NULL, 0);
      }
    free(c);
  }
  for (size_t i = 0; i < PENDING_MAX; i++)
    if (d->pend[i].kind != P_FREE)
      complete(d, &d->pend[i], ETHP2P_ECANCELED, NULL, NULL);
  ethp2p_timer_destroy(d->ptimer);
  ethp2p_timer_destroy(d->reval_timer);
  ethp2p_timer_destroy(d->refresh_timer);
  free(d->boot);
  free(d->rnets);
  free(d->rprefix);
  ethp2p_secp_wipe(d->secret, sizeof d->secret);
  free(d);
}

void ethp2p_discv4_self(const ethp2p_discv4 *d, uint8_t id[32]) {
  memcpy(id, d->id, 32);
}
ethp2p_table *ethp2p_discv4_table(ethp2p_discv4 *d) {
  return &d->table;
}

int ethp2p_discv4_ping(ethp2p_discv4 *d, const ethp2p_discover_node *n, ethp2p_discv4_ping_cb cb,
                       void *data) {
  pending *p;
  int rc;
  if (d == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  rc = start(d, P_USER_PING, n, NULL, &p);
  if (rc == 0) {
    p->ping_cb = cb;
    p->data = data;
  }
  return rc;
}

int ethp2p_discv4_request_enr(ethp2p_discv4 *d, const ethp2p_discover_node *n,
                              ethp2p_discv4_enr_cb cb, void *data) {
  pending *p;
  int rc;
  if (d == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  rc = start(d, P_USER_ENR, n, NULL, &p);
  if (rc == 0) {
    p->enr_cb = cb;
    p->data = data;
  }
  return rc;
}

int ethp2p_discv4_findnode(ethp2p_discv4 *d, const ethp2p_discover_node *n,
                           const uint8_t target[64], ethp2p_discv4_nodes_cb cb, void *data) {
  pending *p;
  int rc;
  if (d == NULL || cb == NULL || target == NULL)
    return ETHP2P_EINVAL;
  rc = start(d, P_USER_FIND, n, target, &p);
  if (rc == 0) {
    p->nodes_cb = cb;
    p->data = data;
  }
  return rc;
}

int ethp2p_discv4_lookup(ethp2p_discv4 *d, const uint8_t target[64], ethp2p_discv4_nodes_cb cb,
                         void *data) {
  lkctx *c;
  int rc;
  if (d == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  rc = lookup_begin(d, LK_USER, target, &c);
  if (rc == 0) {
    c->nodes_cb = cb;
    c->data = data;
  }
  return rc;
}

int ethp2p_discv4_resolve(ethp2p_discv4 *d, const uint8_t pub64[64], ethp2p_discv4_enr_cb cb,
                          void *data) {
  lkctx *c;
  int rc;
  if (d == NULL || cb == NULL || pub64 == NULL)
    return ETHP2P_EINVAL;
  {
    /* go-ethereum's Resolve: ask the node we know first, look it up if that fails */
    uint8_t id[32];
    const ethp2p_table_entry *e;
    pending *p;
    ethp2p_secp_node_id(id, pub64);
    e = ethp2p_table_find(&d->table, id);
    if (e != NULL) {
      ethp2p_discover_node n = e->node;
      if (start(d, P_RESOLVE_ENR, &n, NULL, &p) == 0) {
        p->enr_cb = cb;
        p->data = data;
        return 0;
      }
    }
  }
  rc = lookup_begin(d, LK_RESOLVE, pub64, &c);
  if (rc == 0) {
    c->enr_cb = cb;
    c->data = data;
  }
  return rc;
}

void ethp2p_discv4_get_stats(const ethp2p_discv4 *d, ethp2p_discv4_stats *out) {
  *out = d->stats;
  out->table_len = ethp2p_table_len(&d->table);
}

/* ---------------------------------------------------------------------------
 * Iterator
 * ------------------------------------------------------------------------- */

static bool iter_seen_add(ethp2p_discv4_iter *it, const uint8_t id[32]) {
  for (size_t i = 0; i < it->nseen; i++)
    if (memcmp(it->seen[i], id, 32) == 0)
      return false;
  if (it->nseen == ITER_SEEN_MAX)
    it->nseen = 0; /* forget and start over: a long walk may repeat nodes */
  memcpy(it->seen[it->nseen++], id, 32);
  return true;
}

static void iter_feed(ethp2p_discv4_iter *it, const ethp2p_discover_node *nodes, size_t n) {
  for (size_t i = 0; i < n && it->nqueue < ITER_QUEUE_MAX; i++) {
    if (it->filter != NULL && !it->filter(it->filter_data, &nodes[i]))
      continue;
    if (iter_seen_add(it, nodes[i].id))
      it->queue[it->nqueue++] = nodes[i];
  }
  /* Deliver (or walk again) on the next turn.  A walk that found nothing new
   * waits before the next one: 1 s as go-ethereum's lookupIterator does, then
   * doubling up to 30 s while walks stay empty, so a small or saturated network
   * is not walked once a second forever. */
  if (it->nqueue == 0) {
    unsigned shift = it->empty_walks < 5 ? it->empty_walks : 5;
    ethp2p_time wait = ETHP2P_SEC << shift;
    if (wait > 30 * ETHP2P_SEC)
      wait = 30 * ETHP2P_SEC;
    it->empty_walks++;
    ethp2p_timer_start(it->timer, ethp2p_env_now(it->d->env) + wait);
  } else {
    it->empty_walks = 0;
    ethp2p_timer_start(it->timer, ethp2p_env_now(it->d->env));
  }
}

static void on_iter_timer(ethp2p_timer *t, void *data) {
  ethp2p_discv4_iter *it = data;
  lkctx *c;
  (void)t;
  if (it->cb == NULL)
    return;
  if (it->nqueue > 0) {
    ethp2p_discv4_iter_cb cb = it->cb;
    ethp2p_discover_node n = it->queue[0];
    memmove(&it->queue[0], &it->queue[1], (it->nqueue - 1) * sizeof it->queue[0]);
    it->nqueue--;
    it->cb = NULL;
    cb(it->cb_data, 0, &n);
    return;
  }
  if (it->lookup_running)
    return;
  /* table nodes first (cheap), then a random walk */
  {
    ethp2p_discover_node tn[64];
    size_t k = ethp2p_table_nodes(&it->d->table, tn, 64), before = it->nqueue;
    for (size_t i = 0; i < k && it->nqueue < ITER_QUEUE_MAX; i++)
      if ((it->filter == NULL || it->filter(it->filter_data, &tn[i])) &&
          iter_seen_add(it, tn[i].id))
        it->queue[it->nqueue++] = tn[i];
    if (it->nqueue > before) {
      ethp2p_timer_start(it->timer, ethp2p_env_now(it->d->env));
      return;
    }
  }
  if (lookup_begin(it->d, LK_ITER, NULL, &c) == 0) {
    c->it = it;
    it->lookup_running = true;
  } else {
    ethp2p_timer_start(it->timer, ethp2p_env_now(it->d->env) + ETHP2P_SEC);
  }
}

int ethp2p_discv4_iter_create(ethp2p_discv4 *d, ethp2p_discv4_filter_fn filter, void *filter_data,
                              ethp2p_discv4_iter **out) {
  ethp2p_discv4_iter *it;
  *out = NULL;
  it = calloc(1, sizeof *it);
  if (it == NULL)
    return ETHP2P_ENOMEM;
  it->seen = calloc(ITER_SEEN_MAX, 32);
  if (it->seen == NULL || ethp2p_timer_create(d->env, &it->timer, on_iter_timer, it) != 0) {
    free(it->seen);
    free(it);
    return ETHP2P_ENOMEM;
  }
  it->d = d;
  it->filter = filter;
  it->filter_data = filter_data;
  it->next = d->iters;
  d->iters = it;
  *out = it;
  return 0;
}

int ethp2p_discv4_iter_next(ethp2p_discv4_iter *it, ethp2p_discv4_iter_cb cb, void *data) {
  if (it == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  if (it->cb != NULL)
    return ETHP2P_EBUSY;
  it->cb = cb;
  it->cb_data = data;
  ethp2p_timer_start(it->timer, ethp2p_env_now(it->d->env));
  return 0;
}

void ethp2p_discv4_iter_close(ethp2p_discv4_iter *it) {
  ethp2p_discv4 *d;
  if (it == NULL)
    return;
  d = it->d;
  for (ethp2p_discv4_iter **pp = &d->iters; *pp != NULL; pp = &(*pp)->next)
    if (*pp == it) {
      *pp = it->next;
      break;
    }
  /* a running walk keeps going but no longer feeds this iterator */
  for (lkctx *c = d->lookups; c != NULL; c = c->next)
    if (c->kind == LK_ITER && c->it == it)
      c->kind = LK_REFRESH;
  if (it->cb != NULL) {
    ethp2p_discv4_iter_cb cb = it->cb;
    it->cb = NULL;
    cb(it->cb_data, ETHP2P_ECANCELED, NULL);
  }
  ethp2p_timer_destroy(it->timer);
  free(it->seen);
  free(it);
}
