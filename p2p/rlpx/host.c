/*
 * p2p/rlpx/host.c — the RLPx host: inbound and dialed connections, the checks
 * after Hello (self, duplicates, useless peers, limits), static and trusted
 * nodes, the inbound throttle, and routing of messages to protocols by their
 * offsets in the shared message ID space (rlpx.md "Message ID-based
 * Multiplexing").  See ethp2p/rlpx.h, section 6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

#define MAX_PROTOS ETHP2P_RLPX_MAX_CAPS
#define MAX_TRUSTED 64
#define THROTTLE_SLOTS 256
#define STATIC_BACKOFF_MIN (5 * ETHP2P_SEC)
#define STATIC_BACKOFF_MAX (5 * ETHP2P_MIN)
#define QUEUE_MAX 256
#define HISTORY_MAX 512
#define HISTORY_AFTER_SESSION (30 * ETHP2P_SEC)
#define HISTORY_BACKOFF_MIN (30 * ETHP2P_SEC)
#define HISTORY_BACKOFF_MAX (10 * ETHP2P_MIN)

/* A dial candidate waiting for a slot. */
typedef struct candidate {
  uint8_t pub[64];
  ethp2p_addr addr;
} candidate;

/* A node recently dialed: not dialed again before `until`. */
typedef struct history {
  uint8_t pub[64];
  ethp2p_time until;
  ethp2p_time backoff; /* the next failure's back-off */
  bool used;
} history;

typedef struct static_node {
  struct static_node *next;
  ethp2p_rlpx_host *h;
  uint8_t pub[64];
  ethp2p_addr addr;
  ethp2p_timer *timer;
  ethp2p_time backoff;
  bool connected; /* a conn for it exists (pending or up) */
} static_node;

struct ethp2p_rlpx_peer {
  struct ethp2p_rlpx_peer *next;
  ethp2p_rlpx_host *h;
  ethp2p_rlpx_conn *conn;
  static_node *st;
  bool inbound, up, trusted;
  bool was_up;  /* replaced by a duplicate connection: still owes peer_removed */
  int rejected; /* the reason we refused it with, -1 = none */
  uint8_t pub[64];
  bool have_pub;
  ethp2p_addr addr;
  uint8_t nshared;
  ethp2p_rlpx_shared shared[MAX_PROTOS];
  void *user;
};

struct ethp2p_rlpx_host {
  ethp2p_env *env;
  ethp2p_rlpx_host_config cfg;
  uint8_t secret[32];
  uint8_t pub[64];
  char client_id[ETHP2P_RLPX_CLIENT_ID_MAX + 1];
  ethp2p_rlpx_protocol protos[MAX_PROTOS];
  char names[MAX_PROTOS][ETHP2P_RLPX_CAP_NAME_MAX + 1];
  ethp2p_rlpx_cap caps[MAX_PROTOS];
  size_t nprotos;
  ethp2p_tcp *listener;
  ethp2p_rlpx_peer *peers;
  static_node *statics;
  uint8_t trusted[MAX_TRUSTED][64];
  size_t ntrusted;
  struct {
    ethp2p_addr ip;
    ethp2p_time at;
  } throttle[THROTTLE_SLOTS];
  candidate queue[QUEUE_MAX];
  size_t nqueue;
  history hist[HISTORY_MAX];
  ethp2p_rlpx_host_stats stats;
};

static void emit(ethp2p_rlpx_host *h, ethp2p_rlpx_event_kind kind, ethp2p_rlpx_peer *p,
                 const ethp2p_rlpx_close_info *info) {
  ethp2p_rlpx_event ev;
  if (h->cfg.on_event == NULL)
    return;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.peer =
      kind == ETHP2P_RLPX_EV_ADDED || kind == ETHP2P_RLPX_EV_REMOVED || kind == ETHP2P_RLPX_EV_PONG
          ? p
          : NULL;
  ev.pub = p->have_pub ? p->pub : NULL;
  ev.addr = p->addr;
  ev.inbound = p->inbound;
  if (info != NULL)
    ev.info = *info;
  else
    ev.info.reason = -1;
  h->cfg.on_event(h, &ev, h->cfg.event_data);
}

static bool is_trusted(const ethp2p_rlpx_host *h, const uint8_t pub[64]) {
  size_t i;
  for (i = 0; i < h->ntrusted; i++)
    if (memcmp(h->trusted[i], pub, 64) == 0)
      return true;
  return false;
}

static size_t max_dialed(const ethp2p_rlpx_host *h) {
  size_t n = h->cfg.max_peers / h->cfg.dial_ratio;
  return n > 0 ? n : 1;
}

static void count(const ethp2p_rlpx_host *h, size_t *up, size_t *in_up, size_t *dial_up,
                  size_t *pending_in, size_t *dialed_all) {
  const ethp2p_rlpx_peer *p;
  *up = *in_up = *dial_up = *pending_in = *dialed_all = 0;
  for (p = h->peers; p != NULL; p = p->next) {
    if (p->up) {
      (*up)++;
      if (p->inbound)
        (*in_up)++;
      else
        (*dial_up)++;
    } else if (p->inbound) {
      (*pending_in)++;
    }
    if (!p->inbound)
      (*dialed_all)++;
  }
}

static void unlink_peer(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p) {
  ethp2p_rlpx_peer **pp;
  for (pp = &h->peers; *pp != NULL; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      return;
    }
}

static void static_schedule(static_node *st) {
  ethp2p_timer_start(st->timer, ethp2p_env_now(st->h->env) + st->backoff);
  st->backoff = st->backoff * 2 > STATIC_BACKOFF_MAX ? STATIC_BACKOFF_MAX : st->backoff * 2;
}

static void reject(ethp2p_rlpx_peer *p, unsigned reason) {
  p->rejected = (int)reason;
  p->h->stats.rejected++;
  ethp2p_rlpx_conn_disconnect(p->conn, reason);
}

static void peer_up(ethp2p_rlpx_conn *c, const ethp2p_rlpx_hello *hello, void *data) {
  ethp2p_rlpx_peer *p = data, *q;
  ethp2p_rlpx_host *h = p->h;
  ethp2p_rlpx_proto_id ids[MAX_PROTOS];
  size_t i, n = 0, up, in_up, dial_up, pend, dialed;
  memcpy(p->pub, ethp2p_rlpx_conn_remote_pub(c), 64);
  p->have_pub = true;
  p->trusted = is_trusted(h, p->pub);
  if (memcmp(p->pub, h->pub, 64) == 0) {
    reject(p, ETHP2P_RLPX_DISC_SELF);
    return;
  }
  for (q = h->peers; q != NULL; q = q->next)
    if (q != p && q->up && memcmp(q->pub, p->pub, 64) == 0) {
      /* Two connections to one node (both sides dialed at once).  Both ends keep
       * the one dialed by the node with the smaller key, so they agree on it. */
      bool keep_dialed = memcmp(h->pub, p->pub, 64) < 0;
      if (p->inbound == q->inbound || p->inbound == keep_dialed) {
        reject(p, ETHP2P_RLPX_DISC_ALREADY_CONNECTED);
        return;
      }
      q->up = false; /* q leaves through peer_removed once its close completes */
      q->rejected = ETHP2P_RLPX_DISC_ALREADY_CONNECTED;
      q->h->stats.rejected++;
      ethp2p_rlpx_conn_disconnect(q->conn, ETHP2P_RLPX_DISC_ALREADY_CONNECTED);
      q->was_up = true;
      break;
    }
  for (i = 0; i < h->nprotos; i++) {
    ids[i].name = h->names[i];
    ids[i].version = h->protos[i].version;
    ids[i].length = h->protos[i].length;
  }
  if (ethp2p_rlpx_match_caps(p->shared, MAX_PROTOS, &n, ids, h->nprotos, hello->caps,
                             hello->ncaps) != 0 ||
      n == 0) {
    reject(p, ETHP2P_RLPX_DISC_USELESS_PEER);
    return;
  }
  count(h, &up, &in_up, &dial_up, &pend, &dialed);
  if (!p->trusted &&
      (up >= h->cfg.max_peers || (p->inbound && in_up >= h->cfg.max_peers - max_dialed(h)))) {
    reject(p, ETHP2P_RLPX_DISC_TOO_MANY_PEERS);
    return;
  }
  p->nshared = (uint8_t)n;
  p->up = true;
  if (p->st != NULL)
    p->st->backoff = STATIC_BACKOFF_MIN;
  ethp2p_log(ETHP2P_LOG_DEBUG, "rlpx", "Peer added", "client=\"%s\" inbound=%d shared=%zu",
             hello->client_id, (int)p->inbound, n);
  emit(h, ETHP2P_RLPX_EV_ADDED, p, NULL);
  for (i = 0; i < p->nshared && p->up; i++) {
    const ethp2p_rlpx_protocol *pr = &h->protos[p->shared[i].local];
    if (pr->peer_added != NULL)
      pr->peer_added(h, p, pr->data);
  }
}

static void peer_msg(ethp2p_rlpx_conn *c, uint64_t code, const uint8_t *payload, size_t len,
                     void *data) {
  ethp2p_rlpx_peer *p = data;
  size_t i;
  (void)c;
  if (!p->up)
    return;
  for (i = 0; i < p->nshared; i++) {
    const ethp2p_rlpx_shared *s = &p->shared[i];
    if (code >= s->offset && code < (uint64_t)s->offset + s->length) {
      const ethp2p_rlpx_protocol *pr = &p->h->protos[s->local];
      if (pr->message != NULL)
        pr->message(p->h, p, (uint32_t)(code - s->offset), payload, len, pr->data);
      return;
    }
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "rlpx", "Message code outside the shared protocols", "code=%llu",
             (unsigned long long)code);
  ethp2p_rlpx_conn_disconnect(p->conn, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
}

/* Folds an ended connection into the reason and failure counters. */
static void count_close(ethp2p_rlpx_host *h, const ethp2p_rlpx_close_info *info, bool session) {
  if (info->reason >= 0) {
    size_t i = info->reason <= 0x0b ? (size_t)info->reason : 12;
    if (info->remote)
      h->stats.reasons_received[i]++;
    else
      h->stats.reasons_sent[i]++;
  }
  if (session)
    return;
  switch (info->error) {
  case ETHP2P_ECONNREFUSED:
  case ETHP2P_ENETUNREACH:
    h->stats.failures_by_cause[0]++;
    break;
  case ETHP2P_ETIMEDOUT:
    h->stats.failures_by_cause[1]++;
    break;
  case ETHP2P_ESIG:
  case ETHP2P_EPROTO:
  case ETHP2P_EKEY:
  case ETHP2P_ETOOBIG:
    h->stats.failures_by_cause[2]++;
    break;
  case ETHP2P_ECLOSED:
  case ETHP2P_ECONNRESET:
    h->stats.failures_by_cause[3]++;
    break;
  default:
    h->stats.failures_by_cause[4]++;
    break;
  }
}

static history *hist_find(ethp2p_rlpx_host *h, const uint8_t pub[64]) {
  size_t i;
  for (i = 0; i < HISTORY_MAX; i++)
    if (h->hist[i].used && memcmp(h->hist[i].pub, pub, 64) == 0)
      return &h->hist[i];
  return NULL;
}

/* Records the end of a dialed connection (up = the session had come up). */
static void hist_record(ethp2p_rlpx_host *h, const uint8_t pub[64], bool up) {
  ethp2p_time now = ethp2p_env_now(h->env);
  history *e = hist_find(h, pub);
  size_t i, oldest = 0;
  if (e == NULL) {
    for (i = 0; i < HISTORY_MAX && e == NULL; i++)
      if (!h->hist[i].used || h->hist[i].until <= now)
        e = &h->hist[i];
    for (i = 0; e == NULL && i < HISTORY_MAX; i++)
      if (h->hist[i].until < h->hist[oldest].until)
        oldest = i;
    if (e == NULL)
      e = &h->hist[oldest];
    memset(e, 0, sizeof *e);
    memcpy(e->pub, pub, 64);
    e->used = true;
    e->backoff = HISTORY_BACKOFF_MIN;
  }
  if (up) {
    e->until = now + HISTORY_AFTER_SESSION;
    e->backoff = HISTORY_BACKOFF_MIN;
  } else {
    e->until = now + e->backoff;
    e->backoff = e->backoff * 2 > HISTORY_BACKOFF_MAX ? HISTORY_BACKOFF_MAX : e->backoff * 2;
  }
}

static bool in_backoff(ethp2p_rlpx_host *h, const uint8_t pub[64]) {
  history *e = hist_find(h, pub);
  return e != NULL && ethp2p_env_now(h->env) < e->until;
}

static int dial(ethp2p_rlpx_host *h, const uint8_t pub[64], const ethp2p_addr *addr,
                static_node *st);
static ethp2p_rlpx_peer *find_pub(ethp2p_rlpx_host *h, const uint8_t pub[64]);

/* Dials queued candidates while dialed slots are free. */
static void run_queue(ethp2p_rlpx_host *h) {
  size_t up, in_up, dial_up, pend, dialed;
  count(h, &up, &in_up, &dial_up, &pend, &dialed);
  while (h->nqueue > 0 && dialed < max_dialed(h)) {
    candidate c = h->queue[0];
    memmove(h->queue, h->queue + 1, (h->nqueue - 1) * sizeof h->queue[0]);
    h->nqueue--;
    if (find_pub(h, c.pub) != NULL || in_backoff(h, c.pub))
      continue;
    if (dial(h, c.pub, &c.addr, NULL) == 0) {
      dialed++;
    } else {
      hist_record(h, c.pub, false);
    }
  }
}

static void peer_closed(ethp2p_rlpx_conn *c, const ethp2p_rlpx_close_info *info, void *data) {
  ethp2p_rlpx_peer *p = data;
  ethp2p_rlpx_host *h = p->h;
  uint64_t in = 0, out = 0;
  size_t i;
  ethp2p_rlpx_conn_bytes(c, &in, &out);
  h->stats.bytes_in += in;
  h->stats.bytes_out += out;
  count_close(h, info, p->up || p->rejected >= 0 || info->reason >= 0);
  unlink_peer(h, p);
  if (p->up || p->was_up) {
    for (i = 0; i < p->nshared; i++) {
      const ethp2p_rlpx_protocol *pr = &h->protos[p->shared[i].local];
      if (pr->peer_removed != NULL)
        pr->peer_removed(h, p, info, pr->data);
    }
    emit(h, ETHP2P_RLPX_EV_REMOVED, p, info);
  } else if (p->rejected >= 0) {
    emit(h, ETHP2P_RLPX_EV_REJECTED, p, info);
  } else {
    if (info->reason >= 0 && info->remote)
      emit(h, ETHP2P_RLPX_EV_REJECTED, p, info); /* the peer refused us */
    else {
      h->stats.handshake_failures++;
      emit(h, ETHP2P_RLPX_EV_FAILED, p, info);
    }
  }
  if (p->st != NULL) {
    p->st->connected = false;
    static_schedule(p->st);
  }
  if (!p->inbound && p->st == NULL)
    hist_record(h, p->pub, p->up);
  free(p);
  run_queue(h);
}

static void peer_pong(ethp2p_rlpx_conn *c, ethp2p_time rtt, void *data) {
  ethp2p_rlpx_peer *p = data;
  ethp2p_rlpx_event ev;
  (void)c;
  if (!p->up || p->h->cfg.on_event == NULL)
    return;
  memset(&ev, 0, sizeof ev);
  ev.kind = ETHP2P_RLPX_EV_PONG;
  ev.peer = p;
  ev.pub = p->pub;
  ev.addr = p->addr;
  ev.inbound = p->inbound;
  ev.info.reason = -1;
  ev.rtt = rtt;
  p->h->cfg.on_event(p->h, &ev, p->h->cfg.event_data);
}

static const ethp2p_rlpx_conn_cbs peer_cbs = {peer_up, peer_msg, peer_pong, peer_closed};

static void conn_config(const ethp2p_rlpx_host *h, ethp2p_rlpx_conn_config *cc) {
  memset(cc, 0, sizeof *cc);
  cc->secret = h->secret;
  cc->client_id = h->client_id;
  cc->caps = h->caps;
  cc->ncaps = h->nprotos;
  cc->listen_port = h->cfg.listen_port;
  cc->handshake_timeout = h->cfg.handshake_timeout;
  cc->ping_interval = h->cfg.ping_interval;
  cc->read_timeout = h->cfg.read_timeout;
  cc->max_frame = h->cfg.max_frame;
}

static ethp2p_rlpx_peer *find_pub(ethp2p_rlpx_host *h, const uint8_t pub[64]) {
  ethp2p_rlpx_peer *p;
  for (p = h->peers; p != NULL; p = p->next)
    if (p->have_pub && memcmp(p->pub, pub, 64) == 0)
      return p;
  return NULL;
}

static int dial(ethp2p_rlpx_host *h, const uint8_t pub[64], const ethp2p_addr *addr,
                static_node *st) {
  ethp2p_rlpx_conn_config cc;
  ethp2p_rlpx_peer *p;
  int rc;
  if (find_pub(h, pub) != NULL)
    return ETHP2P_EEXIST;
  p = calloc(1, sizeof *p);
  if (p == NULL)
    return ETHP2P_ENOMEM;
  p->h = h;
  p->st = st;
  p->rejected = -1;
  memcpy(p->pub, pub, 64);
  p->have_pub = true;
  p->addr = *addr;
  conn_config(h, &cc);
  rc = ethp2p_rlpx_conn_dial(&p->conn, h->env, &cc, pub, addr, &peer_cbs, p);
  if (rc != 0) {
    free(p);
    return rc;
  }
  p->next = h->peers;
  h->peers = p;
  h->stats.dials++;
  if (st != NULL)
    st->connected = true;
  return 0;
}

static void static_fire(ethp2p_timer *t, void *data) {
  static_node *st = data;
  (void)t;
  if (st->connected)
    return;
  if (dial(st->h, st->pub, &st->addr, st) != 0 && !st->connected)
    static_schedule(st);
}

int ethp2p_rlpx_host_create(ethp2p_rlpx_host **out, ethp2p_env *env,
                            const ethp2p_rlpx_host_config *cfg) {
  ethp2p_rlpx_host *h;
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || cfg == NULL || cfg->secret == NULL)
    return ETHP2P_EINVAL;
  h = calloc(1, sizeof *h);
  if (h == NULL)
    return ETHP2P_ENOMEM;
  rc = ethp2p_secp_pubkey(NULL, h->pub, cfg->secret);
  if (rc != 0) {
    free(h);
    return rc;
  }
  h->env = env;
  h->cfg = *cfg;
  memcpy(h->secret, cfg->secret, 32);
  h->cfg.secret = NULL;
  snprintf(h->client_id, sizeof h->client_id, "%s",
           cfg->client_id != NULL ? cfg->client_id : ETHP2P_RLPX_DEFAULT_CLIENT_ID);
  h->cfg.client_id = NULL;
  if (h->cfg.max_peers == 0)
    h->cfg.max_peers = 50;
  if (h->cfg.dial_ratio == 0)
    h->cfg.dial_ratio = 3;
  if (h->cfg.max_pending == 0)
    h->cfg.max_pending = 50;
  if (h->cfg.inbound_throttle == 0)
    h->cfg.inbound_throttle = 30 * ETHP2P_SEC;
  *out = h;
  return 0;
}

void ethp2p_rlpx_host_destroy(ethp2p_rlpx_host *h) {
  ethp2p_rlpx_peer *p, *pn;
  static_node *st, *sn;
  if (h == NULL)
    return;
  for (p = h->peers; p != NULL; p = pn) {
    pn = p->next;
    ethp2p_rlpx_conn_destroy(p->conn);
    free(p);
  }
  for (st = h->statics; st != NULL; st = sn) {
    sn = st->next;
    ethp2p_timer_destroy(st->timer);
    free(st);
  }
  ethp2p_tcp_close(h->listener);
  ethp2p_secp_wipe(h->secret, sizeof h->secret);
  free(h);
}

int ethp2p_rlpx_host_register(ethp2p_rlpx_host *h, const ethp2p_rlpx_protocol *p) {
  size_t i, n;
  if (h == NULL || p == NULL || p->name == NULL || p->length == 0)
    return ETHP2P_EINVAL;
  n = strlen(p->name);
  if (n == 0 || n > ETHP2P_RLPX_CAP_NAME_MAX)
    return ETHP2P_EINVAL;
  if (h->peers != NULL)
    return ETHP2P_ESTATE;
  for (i = 0; i < h->nprotos; i++)
    if (strcmp(h->names[i], p->name) == 0 && h->protos[i].version == p->version)
      return ETHP2P_EEXIST;
  if (h->nprotos == MAX_PROTOS)
    return ETHP2P_ESPACE;
  i = h->nprotos++;
  h->protos[i] = *p;
  memcpy(h->names[i], p->name, n + 1);
  h->protos[i].name = h->names[i];
  memcpy(h->caps[i].name, p->name, n + 1);
  h->caps[i].version = p->version;
  return (int)i;
}

static bool throttle_exempt(const ethp2p_addr *a) {
  return ethp2p_addr_is_loopback(a) || ethp2p_addr_is_private(a);
}

/* True when ip connected within the throttle window (and records this attempt). */
static bool throttled(ethp2p_rlpx_host *h, const ethp2p_addr *ip) {
  ethp2p_time now = ethp2p_env_now(h->env);
  size_t i, free_slot = THROTTLE_SLOTS, oldest = 0;
  for (i = 0; i < THROTTLE_SLOTS; i++) {
    bool live = h->throttle[i].ip.family != 0 && now < h->throttle[i].at + h->cfg.inbound_throttle;
    if (live && ethp2p_addr_equal(&h->throttle[i].ip, ip, false))
      return true;
    if (!live && free_slot == THROTTLE_SLOTS)
      free_slot = i;
    if (h->throttle[i].at < h->throttle[oldest].at)
      oldest = i;
  }
  i = free_slot != THROTTLE_SLOTS ? free_slot : oldest;
  h->throttle[i].ip = *ip;
  h->throttle[i].at = now;
  return false;
}

int ethp2p_rlpx_host_accept(ethp2p_rlpx_host *h, ethp2p_tcp *tcp) {
  ethp2p_rlpx_conn_config cc;
  ethp2p_rlpx_peer *p;
  ethp2p_addr from;
  size_t up, in_up, dial_up, pend, dialed;
  int rc;
  if (h == NULL || tcp == NULL) {
    ethp2p_tcp_close(tcp);
    return ETHP2P_EINVAL;
  }
  memset(&from, 0, sizeof from);
  (void)ethp2p_tcp_peer_addr(tcp, &from);
  count(h, &up, &in_up, &dial_up, &pend, &dialed);
  if (pend >= h->cfg.max_pending) {
    ethp2p_tcp_close(tcp);
    h->stats.rejected++;
    return ETHP2P_EBUSY;
  }
  if (!throttle_exempt(&from) && throttled(h, &from)) {
    ethp2p_tcp_close(tcp);
    h->stats.throttled++;
    return ETHP2P_EREFUSED;
  }
  p = calloc(1, sizeof *p);
  if (p == NULL) {
    ethp2p_tcp_close(tcp);
    return ETHP2P_ENOMEM;
  }
  p->h = h;
  p->inbound = true;
  p->rejected = -1;
  p->addr = from;
  conn_config(h, &cc);
  rc = ethp2p_rlpx_conn_accept(&p->conn, h->env, &cc, tcp, &peer_cbs, p);
  if (rc != 0) {
    free(p);
    return rc;
  }
  p->next = h->peers;
  h->peers = p;
  h->stats.accepts++;
  return 0;
}

static void on_accept(ethp2p_tcp *l, ethp2p_tcp *tcp, void *data) {
  (void)l;
  (void)ethp2p_rlpx_host_accept(data, tcp);
}

int ethp2p_rlpx_host_listen(ethp2p_rlpx_host *h, const ethp2p_addr *bind) {
  if (h == NULL || bind == NULL)
    return ETHP2P_EINVAL;
  if (h->listener != NULL)
    return ETHP2P_ESTATE;
  return ethp2p_tcp_listen(h->env, &h->listener, bind, on_accept, h);
}

int ethp2p_rlpx_host_local_addr(const ethp2p_rlpx_host *h, ethp2p_addr *out) {
  if (h == NULL || out == NULL)
    return ETHP2P_EINVAL;
  if (h->listener == NULL)
    return ETHP2P_ESTATE;
  return ethp2p_tcp_local_addr(h->listener, out);
}

int ethp2p_rlpx_host_dial(ethp2p_rlpx_host *h, const uint8_t pub[64], const ethp2p_addr *addr) {
  size_t up, in_up, dial_up, pend, dialed;
  if (h == NULL || pub == NULL || addr == NULL)
    return ETHP2P_EINVAL;
  count(h, &up, &in_up, &dial_up, &pend, &dialed);
  if (!is_trusted(h, pub) && dialed >= max_dialed(h))
    return ETHP2P_EBUSY;
  return dial(h, pub, addr, NULL);
}

int ethp2p_rlpx_host_add_candidate(ethp2p_rlpx_host *h, const uint8_t pub[64],
                                   const ethp2p_addr *addr) {
  size_t i;
  if (h == NULL || pub == NULL || addr == NULL)
    return ETHP2P_EINVAL;
  if (ethp2p_secp_pub64_check(pub) != 0)
    return ETHP2P_EKEY;
  if (memcmp(pub, h->pub, 64) == 0 || find_pub(h, pub) != NULL)
    return ETHP2P_EEXIST;
  for (i = 0; i < h->nqueue; i++)
    if (memcmp(h->queue[i].pub, pub, 64) == 0)
      return ETHP2P_EEXIST;
  if (in_backoff(h, pub))
    return ETHP2P_EBUSY;
  if (h->nqueue == QUEUE_MAX)
    return ETHP2P_ESPACE;
  memcpy(h->queue[h->nqueue].pub, pub, 64);
  h->queue[h->nqueue].addr = *addr;
  h->nqueue++;
  run_queue(h);
  return 0;
}

int ethp2p_rlpx_host_add_static(ethp2p_rlpx_host *h, const uint8_t pub[64],
                                const ethp2p_addr *addr) {
  static_node *st;
  int rc;
  if (h == NULL || pub == NULL || addr == NULL)
    return ETHP2P_EINVAL;
  if (ethp2p_secp_pub64_check(pub) != 0)
    return ETHP2P_EKEY;
  for (st = h->statics; st != NULL; st = st->next)
    if (memcmp(st->pub, pub, 64) == 0)
      return ETHP2P_EEXIST;
  st = calloc(1, sizeof *st);
  if (st == NULL)
    return ETHP2P_ENOMEM;
  st->h = h;
  memcpy(st->pub, pub, 64);
  st->addr = *addr;
  st->backoff = STATIC_BACKOFF_MIN;
  rc = ethp2p_timer_create(h->env, &st->timer, static_fire, st);
  if (rc != 0) {
    free(st);
    return rc;
  }
  st->next = h->statics;
  h->statics = st;
  ethp2p_timer_start(st->timer, ethp2p_env_now(h->env)); /* next loop turn */
  return 0;
}

int ethp2p_rlpx_host_add_trusted(ethp2p_rlpx_host *h, const uint8_t pub[64]) {
  if (h == NULL || pub == NULL)
    return ETHP2P_EINVAL;
  if (is_trusted(h, pub))
    return ETHP2P_EEXIST;
  if (h->ntrusted == MAX_TRUSTED)
    return ETHP2P_ESPACE;
  memcpy(h->trusted[h->ntrusted++], pub, 64);
  return 0;
}

void ethp2p_rlpx_host_stats_get(const ethp2p_rlpx_host *h, ethp2p_rlpx_host_stats *out) {
  const ethp2p_rlpx_peer *p;
  size_t dialed;
  if (out == NULL)
    return;
  memset(out, 0, sizeof *out);
  if (h == NULL)
    return;
  *out = h->stats;
  out->queued = h->nqueue;
  count(h, &out->peers, &out->inbound, &out->dialed, &out->pending, &dialed);
  for (p = h->peers; p != NULL; p = p->next) {
    uint64_t in = 0, o = 0;
    ethp2p_rlpx_conn_bytes(p->conn, &in, &o);
    out->bytes_in += in;
    out->bytes_out += o;
  }
}

int ethp2p_rlpx_peer_send(ethp2p_rlpx_peer *p, int proto, uint32_t code, const uint8_t *payload,
                          size_t len) {
  size_t i;
  if (p == NULL || proto < 0)
    return ETHP2P_EINVAL;
  for (i = 0; i < p->nshared; i++)
    if (p->shared[i].local == (size_t)proto) {
      if (code >= p->shared[i].length)
        return ETHP2P_EINVAL;
      return ethp2p_rlpx_conn_send(p->conn, p->shared[i].offset + code, payload, len);
    }
  return ETHP2P_ENOTFOUND;
}

int ethp2p_rlpx_peer_ping(ethp2p_rlpx_peer *p) {
  if (p == NULL)
    return ETHP2P_EINVAL;
  return p->up ? ethp2p_rlpx_conn_ping(p->conn) : ETHP2P_ESTATE;
}

void ethp2p_rlpx_peer_disconnect(ethp2p_rlpx_peer *p, unsigned reason) {
  if (p != NULL)
    ethp2p_rlpx_conn_disconnect(p->conn, reason);
}
const uint8_t *ethp2p_rlpx_peer_pub(const ethp2p_rlpx_peer *p) {
  return p ? p->pub : NULL;
}
const ethp2p_rlpx_hello *ethp2p_rlpx_peer_hello(const ethp2p_rlpx_peer *p) {
  return p ? ethp2p_rlpx_conn_remote_hello(p->conn) : NULL;
}
ethp2p_addr ethp2p_rlpx_peer_addr(const ethp2p_rlpx_peer *p) {
  ethp2p_addr a;
  memset(&a, 0, sizeof a);
  return p ? p->addr : a;
}
bool ethp2p_rlpx_peer_inbound(const ethp2p_rlpx_peer *p) {
  return p != NULL && p->inbound;
}
uint32_t ethp2p_rlpx_peer_version(const ethp2p_rlpx_peer *p, int proto) {
  size_t i;
  for (i = 0; p != NULL && proto >= 0 && i < p->nshared; i++)
    if (p->shared[i].local == (size_t)proto)
      return p->h->protos[proto].version;
  return 0;
}
void ethp2p_rlpx_peer_set_user(ethp2p_rlpx_peer *p, void *user) {
  if (p != NULL)
    p->user = user;
}
void *ethp2p_rlpx_peer_user(const ethp2p_rlpx_peer *p) {
  return p ? p->user : NULL;
}
