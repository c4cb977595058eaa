/*
 * p2p/discover/v5.c — a discv5.1 node: sessions, handshakes, requests and answers
 * on the environment interface.  The wire format is in v5wire.c; this file is the
 * protocol of discv5-wire.md "Sessions" / "Handshake" and discv5-theory.md.
 *
 * Sessions are kept in a fixed array (config.session_cap) keyed by (node ID,
 * endpoint); a full cache evicts the least recently used entry.  Pending
 * requests live in a fixed array too; one timer is armed at the earliest
 * request deadline.
 *
 * Handshake, as initiator A (we have a request for B and no session):
 *   1. send a message packet with random content (B cannot decrypt it);
 *   2. B answers WHOAREYOU whose request-nonce is our packet's nonce;
 *   3. we derive keys from an ephemeral key and B's static key over the
 *      WHOAREYOU's challenge-data, sign the id-nonce, and send the request again
 *      inside a handshake packet (with our record when B's enr-seq is older).
 * As recipient B: a message we cannot decrypt gets a WHOAREYOU (a new handshake
 * even when a session exists: the peer may have lost its keys); the handshake
 * packet is checked (signature, record, message tag) before the session is kept.
 */
#include "ethp2p/discv5.h"

#include <stdlib.h>
#include <string.h>

#include "enr/crypto.h"
#include "ethp2p/log.h"
#include "ethp2p/secp.h"
#include "p2p/discover/v5wire.h"

#define MOD "discv5"
#define MAX_REQUESTS 64
#define MAX_TALK 8
#define TALK_NAME_MAX 32
#define NODES_BUDGET 1100 /* record bytes per NODES message, below 1280 with all overhead */
#define MAX_NODES_TOTAL 8 /* NODES messages accepted per response */
#define MAX_HANDSHAKES_PER_REQ 2
#define MAX_CHALLENGES 64
#define HANDSHAKE_TIMEOUT (2 * ETHP2P_SEC) /* a challenge older than this is refused */
#define WHOAREYOU_IPS 256                  /* per-IP rate-limit buckets */
#define WHOAREYOU_IP_RATE 10               /* default per second, per IP */
#define WHOAREYOU_RATE 200                 /* default per second, overall */

typedef struct session {
  bool used;
  uint8_t id[32];
  ethp2p_addr addr;
  bool established;
  uint8_t write_key[16], read_key[16];
  /* The read key of the session this one replaced.  When both nodes start a handshake at
   * once, each ends up writing with the keys of one handshake and reading those of the
   * other; keeping the previous read key lets both directions decrypt. */
  bool has_prev;
  uint8_t prev_read_key[16];
  uint64_t last_used;
} session;

/* A WHOAREYOU we sent and whose handshake we wait for.  Kept apart from the sessions:
 * an unauthenticated packet (anyone can send one, from any address) must not evict an
 * established session, only an older pending challenge. */
typedef struct challenge {
  bool used;
  uint8_t id[32];
  ethp2p_addr addr;
  ethp2p_time at;
  uint8_t data[ETHP2P_V5_CHALLENGE_LEN]; /* challenge-data */
  size_t len;
} challenge;

/* A token bucket as GCRA: tat is the "theoretical arrival time" of the next packet;
 * a packet passes while tat - now <= tolerance (the burst), and moves tat by one interval. */
typedef struct rate_bucket {
  ethp2p_addr ip; /* port 0; family 0 = unused */
  ethp2p_time tat;
} rate_bucket;

typedef struct store_entry {
  bool used;
  uint8_t id[32];
  uint8_t pub33[33];
  ethp2p_enr rec;
  uint64_t stamp;
} store_entry;

typedef struct request {
  bool used;
  bool internal; /* a record fetch: no user callback */
  uint8_t type;  /* ETHP2P_V5_PING, _FINDNODE, _TALKREQ */
  uint8_t req_id[8];
  ethp2p_discv5_peer peer;
  uint8_t pt[ETHP2P_V5_MAX_PACKET];
  size_t pt_len;
  uint8_t nonce[ETHP2P_V5_NONCE_LEN]; /* of the packet last sent */
  bool awaiting; /* sent the handshake-starting packet, waiting for its WHOAREYOU */
  bool queued;   /* waits for another request's handshake; nothing sent yet */
  unsigned handshakes;
  ethp2p_time deadline;
  unsigned tries_left;
  union {
    ethp2p_discv5_pong_cb pong;
    ethp2p_discv5_nodes_cb nodes;
    ethp2p_discv5_talk_cb talk;
  } cb;
  void *data;
  uint16_t dist[ETHP2P_DISCV5_NODES_MAX];
  size_t ndist;
  uint64_t total, received;
  ethp2p_enr *recs; /* ETHP2P_DISCV5_NODES_MAX, FINDNODE only */
  size_t nrecs;
} request;

typedef struct talk_handler {
  char name[TALK_NAME_MAX + 1];
  size_t len;
  ethp2p_discv5_talk_fn fn;
  void *data;
} talk_handler;

struct ethp2p_discv5 {
  ethp2p_env *env;
  ethp2p_discv5_config cfg;
  uint8_t secret[32];
  uint8_t pub33[33];
  uint8_t id[32];
  ethp2p_enr record;
  uint8_t record_raw[ETHP2P_ENR_MAX_SIZE];
  size_t record_len;
  ethp2p_udp *udp;
  ethp2p_timer *timer;
  ethp2p_aes_block *mask; /* AES-128 keyed by our ID[0..16): unmasks every header */
  session *sessions;
  size_t nsessions;
  challenge challenges[MAX_CHALLENGES];
  rate_bucket wya_ips[WHOAREYOU_IPS];
  ethp2p_time wya_tat; /* the global bucket */
  store_entry *store;
  uint64_t clock; /* LRU stamps */
  request reqs[MAX_REQUESTS];
  talk_handler talk[MAX_TALK];
  size_t ntalk;
  ethp2p_discv5_stats stats;
  bool closing;                              /* destroy runs: no new requests */
  ethp2p_enr found[ETHP2P_DISCV5_NODES_MAX]; /* FINDNODE answer scratch */
};

/* --- helpers --------------------------------------------------------------- */

int ethp2p_discv5_peer_from_enr(ethp2p_discv5_peer *peer, const ethp2p_enr *rec) {
  uint8_t ip[16];
  uint16_t port = 0;
  memset(peer, 0, sizeof *peer);
  if (ethp2p_enr_secp256k1_get(rec, peer->pub33) != 0 || ethp2p_enr_node_id(peer->id, rec) != 0) {
    memset(peer, 0, sizeof *peer);
    return ETHP2P_EKEY;
  }
  if (ethp2p_enr_ip_get(rec, ip) == 0 && ethp2p_enr_port_get(rec, ETHP2P_ENR_UDP, &port) == 0 &&
      port != 0) {
    peer->addr = ethp2p_addr_v4(ip[0], ip[1], ip[2], ip[3], port);
    peer->seq = ethp2p_enr_seq(rec);
    return 0;
  }
  if (ethp2p_enr_ip6_get(rec, ip) == 0 && ethp2p_enr_port_get(rec, ETHP2P_ENR_UDP6, &port) == 0 &&
      port != 0) {
    peer->addr.family = 6;
    memcpy(peer->addr.ip, ip, 16);
    peer->addr.port = port;
    peer->seq = ethp2p_enr_seq(rec);
    return 0;
  }
  return ETHP2P_ENOTFOUND;
}

static void hex8(char out[17], const uint8_t *id) {
  static const char d[] = "0123456789abcdef";
  for (int i = 0; i < 8; i++) {
    out[2 * i] = d[id[i] >> 4];
    out[2 * i + 1] = d[id[i] & 15];
  }
  out[16] = 0;
}

static int transmit(ethp2p_discv5 *v5, const ethp2p_addr *to, const uint8_t *buf, size_t len) {
  int rc = v5->cfg.send != NULL ? v5->cfg.send(v5->cfg.send_data, to, buf, len)
                                : ethp2p_udp_send(v5->udp, to, buf, len);
  if (rc == 0)
    v5->stats.packets_out++;
  return rc;
}

/* --- sessions (LRU) -------------------------------------------------------- */

static session *session_find(ethp2p_discv5 *v5, const uint8_t id[32], const ethp2p_addr *addr) {
  for (size_t i = 0; i < v5->nsessions; i++) {
    session *s = &v5->sessions[i];
    if (s->used && memcmp(s->id, id, 32) == 0 && ethp2p_addr_equal(&s->addr, addr, true)) {
      s->last_used = ++v5->clock;
      return s;
    }
  }
  return NULL;
}

static session *session_get(ethp2p_discv5 *v5, const uint8_t id[32], const ethp2p_addr *addr) {
  session *s = session_find(v5, id, addr), *oldest = NULL;
  if (s != NULL)
    return s;
  for (size_t i = 0; i < v5->nsessions; i++) {
    s = &v5->sessions[i];
    if (!s->used) {
      oldest = s;
      break;
    }
    if (oldest == NULL || s->last_used < oldest->last_used)
      oldest = s;
  }
  if (oldest->used)
    ethp2p_secp_wipe(oldest, sizeof *oldest); /* evicted */
  memset(oldest, 0, sizeof *oldest);
  oldest->used = true;
  memcpy(oldest->id, id, 32);
  oldest->addr = *addr;
  oldest->last_used = ++v5->clock;
  return oldest;
}

/* New keys from a handshake; the old read key is kept as the fallback. */
static void session_rekey(session *s, const uint8_t write_key[16], const uint8_t read_key[16]) {
  s->has_prev = s->established;
  if (s->established)
    memcpy(s->prev_read_key, s->read_key, 16);
  s->established = true;
  memcpy(s->write_key, write_key, 16);
  memcpy(s->read_key, read_key, 16);
}

/* --- node store ------------------------------------------------------------- */

static store_entry *store_find(const ethp2p_discv5 *v5, const uint8_t id[32]) {
  for (size_t i = 0; i < v5->cfg.store_cap; i++)
    if (v5->store[i].used && memcmp(v5->store[i].id, id, 32) == 0)
      return &v5->store[i];
  return NULL;
}

/* Keeps a verified record (the newer seq wins) and tells the table. */
static void store_put(ethp2p_discv5 *v5, const ethp2p_enr *rec, const ethp2p_addr *from) {
  uint8_t id[32], pub[33];
  if (ethp2p_enr_node_id(id, rec) != 0 || ethp2p_enr_secp256k1_get(rec, pub) != 0)
    return;
  if (memcmp(id, v5->id, 32) == 0)
    return;
  store_entry *e = store_find(v5, id);
  if (e != NULL && ethp2p_enr_seq(&e->rec) > ethp2p_enr_seq(rec))
    return;
  if (e == NULL) {
    for (size_t i = 0; i < v5->cfg.store_cap; i++) {
      store_entry *c = &v5->store[i];
      if (!c->used) {
        e = c;
        break;
      }
      if (e == NULL || c->stamp < e->stamp)
        e = c;
    }
  }
  e->used = true;
  memcpy(e->id, id, 32);
  memcpy(e->pub33, pub, 33);
  e->rec = *rec;
  e->stamp = ++v5->clock;
  if (v5->cfg.on_node != NULL)
    v5->cfg.on_node(v5->cfg.node_data, rec, from);
}

int ethp2p_discv5_add_node(ethp2p_discv5 *v5, const ethp2p_enr *rec) {
  int rc = ethp2p_enr_verify(rec, NULL);
  if (rc != 0)
    return rc;
  store_put(v5, rec, NULL);
  return 0;
}

int ethp2p_discv5_lookup_record(const ethp2p_discv5 *v5, const uint8_t id[32], ethp2p_enr *out) {
  const store_entry *e = store_find(v5, id);
  if (e == NULL)
    return ETHP2P_ENOTFOUND;
  *out = e->rec;
  return 0;
}

size_t ethp2p_discv5_store_count(const ethp2p_discv5 *v5) {
  size_t n = 0;
  for (size_t i = 0; i < v5->cfg.store_cap; i++)
    n += v5->store[i].used;
  return n;
}

int ethp2p_discv5_store_at(const ethp2p_discv5 *v5, size_t i, ethp2p_enr *out) {
  for (size_t k = 0; k < v5->cfg.store_cap; k++)
    if (v5->store[k].used && i-- == 0) {
      *out = v5->store[k].rec;
      return 0;
    }
  return ETHP2P_ERANGE;
}

/* --- sending ----------------------------------------------------------------- */

static void fresh(ethp2p_discv5 *v5, uint8_t *p, size_t n) {
  ethp2p_env_random(v5->env, p, n);
}

/* A message packet inside an established session. */
static int send_in_session(ethp2p_discv5 *v5, session *s, const uint8_t *pt, size_t pt_len,
                           uint8_t nonce_out[12]) {
  uint8_t iv[16], nonce[12], auth[32], out[ETHP2P_V5_MAX_PACKET];
  size_t n;
  fresh(v5, iv, sizeof iv);
  fresh(v5, nonce, sizeof nonce);
  ethp2p_v5_authdata_message(auth, v5->id);
  int rc = ethp2p_v5_packet_encode(out, sizeof out, &n, s->id, iv, ETHP2P_V5_FLAG_MESSAGE, nonce,
                                   auth, 32, s->write_key, pt, pt_len);
  if (rc != 0)
    return rc;
  if (nonce_out != NULL)
    memcpy(nonce_out, nonce, 12);
  return transmit(v5, &s->addr, out, n);
}

/* A message packet the peer cannot decrypt: it asks for a handshake (WHOAREYOU). */
static int send_random(ethp2p_discv5 *v5, const ethp2p_discv5_peer *p, uint8_t nonce_out[12]) {
  uint8_t iv[16], junk[20 + ETHP2P_V5_TAG_LEN], auth[32], out[128];
  size_t n;
  fresh(v5, iv, sizeof iv);
  fresh(v5, nonce_out, 12);
  fresh(v5, junk, sizeof junk); /* looks like a 20-byte message and its tag */
  ethp2p_v5_authdata_message(auth, v5->id);
  int rc = ethp2p_v5_packet_encode(out, sizeof out, &n, p->id, iv, ETHP2P_V5_FLAG_MESSAGE,
                                   nonce_out, auth, 32, NULL, junk, sizeof junk);
  if (rc != 0)
    return rc;
  return transmit(v5, &p->addr, out, n);
}

/* Sends a request: inside the session, or (no session) as the packet that starts a
 * handshake — unless another request to the same node already started one: then this
 * one waits and goes out in the new session (one handshake per node, not per request;
 * two WHOAREYOUs in flight would replace each other's challenge at the peer). */
static int send_request(ethp2p_discv5 *v5, request *r) {
  session *s = session_find(v5, r->peer.id, &r->peer.addr);
  r->awaiting = r->queued = false;
  if (s != NULL && s->established)
    return send_in_session(v5, s, r->pt, r->pt_len, r->nonce);
  for (size_t i = 0; i < MAX_REQUESTS; i++) {
    request *o = &v5->reqs[i];
    if (o->used && o != r && o->awaiting && memcmp(o->peer.id, r->peer.id, 32) == 0 &&
        ethp2p_addr_equal(&o->peer.addr, &r->peer.addr, true)) {
      memset(r->nonce, 0, sizeof r->nonce);
      r->queued = true;
      return 0; /* behind o's handshake */
    }
  }
  int rc = send_random(v5, &r->peer, r->nonce);
  r->awaiting = rc == 0;
  return rc;
}

/* A PING asks the peer for our endpoint: tell localnode we contacted it. */
static void contacted(ethp2p_discv5 *v5, const request *r) {
  if (r->type == ETHP2P_V5_PING && v5->cfg.on_contact != NULL)
    v5->cfg.on_contact(v5->cfg.contact_data, &r->peer.addr);
}

static int send_msg(ethp2p_discv5 *v5, session *s, const ethp2p_v5_msg *m) {
  uint8_t pt[ETHP2P_V5_MAX_PACKET];
  size_t n;
  int rc = ethp2p_v5_msg_encode(pt, sizeof pt, &n, m);
  if (rc != 0)
    return rc;
  return send_in_session(v5, s, pt, n, NULL);
}

/* --- requests ---------------------------------------------------------------- */

static void rearm(ethp2p_discv5 *v5) {
  ethp2p_time next = 0;
  if (v5->timer == NULL)
    return;
  for (size_t i = 0; i < MAX_REQUESTS; i++)
    if (v5->reqs[i].used && (next == 0 || v5->reqs[i].deadline < next))
      next = v5->reqs[i].deadline;
  if (next != 0)
    ethp2p_timer_start(v5->timer, next);
  else
    ethp2p_timer_stop(v5->timer);
}

/* Frees the slot first, then runs the callback (which may start new requests). */
static void complete(ethp2p_discv5 *v5, request *r, int status, const ethp2p_v5_msg *m) {
  request done = *r;
  r->used = false;
  r->recs = NULL;
  if (status == ETHP2P_ETIMEDOUT)
    v5->stats.timeouts++;
  if (!done.internal) {
    switch (done.type) {
    case ETHP2P_V5_PING: {
      ethp2p_discv5_pong pong = {0};
      if (m != NULL) {
        pong.enr_seq = m->enr_seq;
        pong.to = m->to;
      }
      done.cb.pong(done.data, status, status == 0 ? &pong : NULL);
      break;
    }
    case ETHP2P_V5_FINDNODE:
      done.cb.nodes(done.data, status, done.recs, status == 0 ? done.nrecs : 0);
      break;
    case ETHP2P_V5_TALKREQ:
      done.cb.talk(done.data, status, m != NULL ? m->payload : NULL,
                   m != NULL ? m->payload_len : 0);
      break;
    }
  }
  free(done.recs);
  rearm(v5);
}

static request *request_new(ethp2p_discv5 *v5, const ethp2p_discv5_peer *peer, uint8_t type) {
  if (v5->closing)
    return NULL;
  for (size_t i = 0; i < MAX_REQUESTS; i++) {
    request *r = &v5->reqs[i];
    if (r->used)
      continue;
    memset(r, 0, sizeof *r);
    r->used = true;
    r->type = type;
    r->peer = *peer;
    /* No leading zero byte: @chainsafe/discv5 treats request IDs as integers and answers
     * with the zeros stripped (matching is tolerant of that too, see match()). */
    do
      fresh(v5, r->req_id, 1);
    while (r->req_id[0] == 0);
    fresh(v5, r->req_id + 1, sizeof r->req_id - 1);
    r->tries_left = v5->cfg.retries;
    return r;
  }
  return NULL;
}

static int request_start(ethp2p_discv5 *v5, request *r, ethp2p_v5_msg *m) {
  m->req_id_len = sizeof r->req_id;
  memcpy(m->req_id, r->req_id, sizeof r->req_id);
  int rc = ethp2p_v5_msg_encode(r->pt, sizeof r->pt, &r->pt_len, m);
  if (rc == 0)
    rc = send_request(v5, r);
  if (rc != 0) {
    free(r->recs);
    r->recs = NULL;
    r->used = false;
    return rc;
  }
  v5->stats.requests++;
  contacted(v5, r);
  r->deadline = ethp2p_env_now(v5->env) + v5->cfg.request_timeout;
  rearm(v5);
  return 0;
}

static bool peer_ok(const ethp2p_discv5_peer *p) {
  return p != NULL && p->addr.family != 0;
}

int ethp2p_discv5_ping(ethp2p_discv5 *v5, const ethp2p_discv5_peer *peer, ethp2p_discv5_pong_cb cb,
                       void *data) {
  if (!peer_ok(peer) || cb == NULL)
    return ETHP2P_EINVAL;
  request *r = request_new(v5, peer, ETHP2P_V5_PING);
  if (r == NULL)
    return ETHP2P_EBUSY;
  r->cb.pong = cb;
  r->data = data;
  ethp2p_v5_msg m = {.type = ETHP2P_V5_PING, .enr_seq = ethp2p_enr_seq(&v5->record)};
  return request_start(v5, r, &m);
}

static int findnode_start(ethp2p_discv5 *v5, const ethp2p_discv5_peer *peer,
                          const uint16_t *distances, size_t n, ethp2p_discv5_nodes_cb cb,
                          void *data, bool internal) {
  if (!peer_ok(peer) || (cb == NULL && !internal) || n == 0 || n > ETHP2P_DISCV5_NODES_MAX)
    return ETHP2P_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (distances[i] > 256)
      return ETHP2P_EINVAL;
  request *r = request_new(v5, peer, ETHP2P_V5_FINDNODE);
  if (r == NULL)
    return ETHP2P_EBUSY;
  r->recs = calloc(ETHP2P_DISCV5_NODES_MAX, sizeof *r->recs);
  if (r->recs == NULL) {
    r->used = false;
    return ETHP2P_ENOMEM;
  }
  r->internal = internal;
  r->cb.nodes = cb;
  r->data = data;
  ethp2p_v5_msg m = {.type = ETHP2P_V5_FINDNODE, .ndist = (uint16_t)n};
  for (size_t i = 0; i < n; i++)
    m.dist[i] = r->dist[i] = distances[i];
  r->ndist = n;
  return request_start(v5, r, &m);
}

int ethp2p_discv5_findnode(ethp2p_discv5 *v5, const ethp2p_discv5_peer *peer,
                           const uint16_t *distances, size_t n, ethp2p_discv5_nodes_cb cb,
                           void *data) {
  return findnode_start(v5, peer, distances, n, cb, data, false);
}

int ethp2p_discv5_talkreq(ethp2p_discv5 *v5, const ethp2p_discv5_peer *peer, const char *proto,
                          const uint8_t *req, size_t len, ethp2p_discv5_talk_cb cb, void *data) {
  if (!peer_ok(peer) || cb == NULL || proto == NULL || strlen(proto) > TALK_NAME_MAX ||
      len > 1000 || (req == NULL && len > 0))
    return ETHP2P_EINVAL;
  request *r = request_new(v5, peer, ETHP2P_V5_TALKREQ);
  if (r == NULL)
    return ETHP2P_EBUSY;
  r->cb.talk = cb;
  r->data = data;
  ethp2p_v5_msg m = {.type = ETHP2P_V5_TALKREQ,
                     .proto = (const uint8_t *)proto,
                     .proto_len = strlen(proto),
                     .payload = req,
                     .payload_len = len};
  return request_start(v5, r, &m);
}

/* The peer announced enr-seq `seq`: fetch its record if ours is older. */
/* The peer announced enr-seq `seq`: fetch its record if the one we know is older.  The
 * one we know is the stored record, else `known` (the record a request was made from,
 * seq and key in *known; NULL if none). */
static void maybe_fetch(ethp2p_discv5 *v5, const uint8_t id[32], const ethp2p_addr *from,
                        uint64_t seq, const ethp2p_discv5_peer *known) {
  store_entry *e = store_find(v5, id);
  ethp2p_discv5_peer p = {.addr = *from};
  memcpy(p.id, id, 32);
  if (e != NULL) {
    if (ethp2p_enr_seq(&e->rec) >= seq)
      return;
    memcpy(p.pub33, e->pub33, 33);
  } else if (known != NULL && known->seq < seq) {
    memcpy(p.pub33, known->pub33, 33);
  } else {
    return;
  }
  for (size_t i = 0; i < MAX_REQUESTS; i++)
    if (v5->reqs[i].used && v5->reqs[i].internal && memcmp(v5->reqs[i].peer.id, id, 32) == 0)
      return; /* already fetching */
  static const uint16_t zero = 0;
  char h[17];
  hex8(h, id);
  ethp2p_log(ETHP2P_LOG_DEBUG, MOD, "Fetching newer record", "id=%s seq=%llu", h,
             (unsigned long long)seq);
  (void)findnode_start(v5, &p, &zero, 1, NULL, NULL, true);
}

static void on_timer(ethp2p_timer *t, void *data) {
  ethp2p_discv5 *v5 = data;
  (void)t;
  ethp2p_time now = ethp2p_env_now(v5->env);
  for (size_t i = 0; i < MAX_REQUESTS; i++) {
    request *r = &v5->reqs[i];
    if (!r->used || r->deadline > now)
      continue;
    if (r->tries_left > 0) {
      r->tries_left--;
      r->deadline = now + v5->cfg.request_timeout;
      if (send_request(v5, r) == 0) {
        contacted(v5, r);
        continue;
      }
    }
    if (r->type == ETHP2P_V5_FINDNODE && r->received > 0)
      complete(v5, r, 0, NULL); /* partial NODES: what arrived */
    else
      complete(v5, r, ETHP2P_ETIMEDOUT, NULL);
  }
  rearm(v5);
}

/* --- answering --------------------------------------------------------------- */

static void answer_findnode(ethp2p_discv5 *v5, session *s, const ethp2p_v5_msg *q) {
  ethp2p_enr *found = v5->found;
  uint8_t raw[ETHP2P_DISCV5_NODES_MAX][ETHP2P_ENR_MAX_SIZE];
  size_t rawlen[ETHP2P_DISCV5_NODES_MAX], n = 0;
  for (size_t i = 0; i < q->ndist && n < ETHP2P_DISCV5_NODES_MAX; i++) {
    unsigned d = q->dist[i];
    bool dup = false;
    for (size_t j = 0; j < i; j++)
      dup |= q->dist[j] == d;
    if (dup)
      continue;
    if (d == 0) {
      memcpy(raw[n], v5->record_raw, v5->record_len);
      rawlen[n++] = v5->record_len;
      continue;
    }
    size_t got = 0;
    if (v5->cfg.findnode != NULL) {
      got = v5->cfg.findnode(v5->cfg.findnode_data, d, found, ETHP2P_DISCV5_NODES_MAX - n);
      if (got > ETHP2P_DISCV5_NODES_MAX - n)
        got = ETHP2P_DISCV5_NODES_MAX - n;
    } else {
      for (size_t k = 0; k < v5->cfg.store_cap && n + got < ETHP2P_DISCV5_NODES_MAX; k++) {
        const store_entry *e = &v5->store[k];
        if (e->used && ethp2p_v5_log_distance(e->id, v5->id) == d)
          found[got++] = e->rec;
      }
    }
    for (size_t k = 0; k < got; k++)
      if (ethp2p_enr_encode(raw[n], sizeof raw[n], &rawlen[n], &found[k]) == 0)
        n++;
  }
  /* split into messages of at most NODES_BUDGET record bytes */
  size_t groups = 0, start[ETHP2P_DISCV5_NODES_MAX + 1];
  size_t acc = NODES_BUDGET + 1;
  for (size_t i = 0; i < n; i++) {
    if (acc + rawlen[i] > NODES_BUDGET) {
      start[groups++] = i;
      acc = 0;
    }
    acc += rawlen[i];
  }
  start[groups] = n;
  ethp2p_v5_msg m = {.type = ETHP2P_V5_NODES, .req_id_len = q->req_id_len};
  memcpy(m.req_id, q->req_id, q->req_id_len);
  m.total = groups == 0 ? 1 : groups;
  if (groups == 0) {
    (void)send_msg(v5, s, &m);
    return;
  }
  for (size_t g = 0; g < groups; g++) {
    m.nrecords = 0;
    for (size_t i = start[g]; i < start[g + 1]; i++) {
      m.records[m.nrecords] = raw[i];
      m.record_len[m.nrecords++] = (uint16_t)rawlen[i];
    }
    (void)send_msg(v5, s, &m);
  }
}

static void answer_talk(ethp2p_discv5 *v5, session *s, const ethp2p_v5_msg *q) {
  uint8_t resp[1000];
  size_t n = 0;
  for (size_t i = 0; i < v5->ntalk; i++) {
    talk_handler *h = &v5->talk[i];
    if (h->len == q->proto_len && memcmp(h->name, q->proto, h->len) == 0) {
      ethp2p_discv5_peer from = {.addr = s->addr};
      memcpy(from.id, s->id, 32);
      store_entry *e = store_find(v5, s->id);
      if (e != NULL)
        memcpy(from.pub33, e->pub33, 33);
      n = h->fn(h->data, &from, q->payload, q->payload_len, resp, sizeof resp);
      if (n > sizeof resp)
        n = 0;
      break;
    }
  }
  ethp2p_v5_msg m = {.type = ETHP2P_V5_TALKRESP, .req_id_len = q->req_id_len};
  memcpy(m.req_id, q->req_id, q->req_id_len);
  m.payload = resp;
  m.payload_len = n;
  (void)send_msg(v5, s, &m);
}

static request *match(ethp2p_discv5 *v5, const uint8_t id[32], const ethp2p_v5_msg *m,
                      uint8_t type) {
  for (size_t i = 0; i < MAX_REQUESTS; i++) {
    request *r = &v5->reqs[i];
    if (r->used && r->type == type &&
        ethp2p_v5_req_id_equal(r->req_id, sizeof r->req_id, m->req_id, m->req_id_len) &&
        memcmp(r->peer.id, id, 32) == 0)
      return r;
  }
  return NULL;
}

static void take_nodes(ethp2p_discv5 *v5, request *r, const ethp2p_v5_msg *m,
                       const ethp2p_addr *from) {
  ethp2p_enr rec;
  uint8_t id[32];
  for (size_t i = 0; i < m->nrecords; i++) {
    if (ethp2p_enr_decode_verify(&rec, m->records[i], m->record_len[i], NULL) != 0 ||
        ethp2p_enr_node_id(id, &rec) != 0)
      continue;
    unsigned d = ethp2p_v5_log_distance(id, r->peer.id);
    bool asked = false;
    for (size_t k = 0; k < r->ndist; k++)
      asked |= r->dist[k] == d;
    if (!asked)
      continue; /* a record at a distance we did not ask for: not trusted */
    store_put(v5, &rec, d == 0 ? from : NULL);
    if (r->nrecs < ETHP2P_DISCV5_NODES_MAX)
      r->recs[r->nrecs++] = rec;
  }
  r->received++;
  if (r->total == 0)
    r->total = m->total > MAX_NODES_TOTAL ? MAX_NODES_TOTAL : (m->total == 0 ? 1 : m->total);
  if (r->received >= r->total)
    complete(v5, r, 0, m);
}

static void dispatch(ethp2p_discv5 *v5, session *s, const ethp2p_addr *from, const uint8_t *pt,
                     size_t len) {
  ethp2p_v5_msg m;
  ethp2p_diag diag;
  char h[17];
  hex8(h, s->id);
  if (ethp2p_v5_msg_decode(&m, pt, len, &diag) != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, MOD, "Dropped bad message", "id=%s err=\"%s\"", h, diag.msg);
    return;
  }
  ethp2p_log(ETHP2P_LOG_TRACE, MOD, "<< message", "id=%s type=%u", h, m.type);
  request *r;
  switch (m.type) {
  case ETHP2P_V5_PING: {
    ethp2p_v5_msg pong = {.type = ETHP2P_V5_PONG,
                          .req_id_len = m.req_id_len,
                          .enr_seq = ethp2p_enr_seq(&v5->record),
                          .to = *from};
    memcpy(pong.req_id, m.req_id, m.req_id_len);
    (void)send_msg(v5, s, &pong);
    maybe_fetch(v5, s->id, from, m.enr_seq, NULL);
    break;
  }
  case ETHP2P_V5_FINDNODE:
    answer_findnode(v5, s, &m);
    break;
  case ETHP2P_V5_TALKREQ:
    answer_talk(v5, s, &m);
    break;
  case ETHP2P_V5_PONG:
    if ((r = match(v5, s->id, &m, ETHP2P_V5_PING)) == NULL)
      break;
    if (v5->cfg.on_statement != NULL)
      v5->cfg.on_statement(v5->cfg.statement_data, from, &m.to);
    ethp2p_discv5_peer pinged = r->peer;
    complete(v5, r, 0, &m);
    maybe_fetch(v5, s->id, from, m.enr_seq, &pinged);
    break;
  case ETHP2P_V5_NODES:
    if ((r = match(v5, s->id, &m, ETHP2P_V5_FINDNODE)) != NULL)
      take_nodes(v5, r, &m, from);
    break;
  case ETHP2P_V5_TALKRESP:
    if ((r = match(v5, s->id, &m, ETHP2P_V5_TALKREQ)) != NULL)
      complete(v5, r, 0, &m);
    break;
  }
}

/* --- incoming packets -------------------------------------------------------- */

static challenge *challenge_find(ethp2p_discv5 *v5, const uint8_t id[32], const ethp2p_addr *addr) {
  for (size_t i = 0; i < MAX_CHALLENGES; i++) {
    challenge *c = &v5->challenges[i];
    if (c->used && memcmp(c->id, id, 32) == 0 && ethp2p_addr_equal(&c->addr, addr, true))
      return c;
  }
  return NULL;
}

static bool gcra_ok(ethp2p_time tat, ethp2p_time now, unsigned rate) {
  ethp2p_time interval = ETHP2P_SEC / rate;
  return tat <= now || tat - now <= (2 * (ethp2p_time)rate - 1) * interval;
}

static void gcra_take(ethp2p_time *tat, ethp2p_time now, unsigned rate) {
  *tat = (*tat > now ? *tat : now) + ETHP2P_SEC / rate;
}

/* May we send a WHOAREYOU to `to`?  Takes a token from its IP's bucket (an IPv6 /64
 * counts as one IP) and the global one when both have one; a new IP takes the bucket
 * that refills first. */
static bool whoareyou_allowed(ethp2p_discv5 *v5, const ethp2p_addr *to) {
  ethp2p_time now = ethp2p_env_now(v5->env);
  ethp2p_addr ip = *to;
  ip.port = 0;
  if (ip.family == 6)
    memset(ip.ip + 8, 0, 8); /* one IPv6 host owns a /64: one bucket per /64 */
  rate_bucket *b = NULL;
  for (size_t i = 0; i < WHOAREYOU_IPS; i++) {
    rate_bucket *c = &v5->wya_ips[i];
    if (c->ip.family != 0 && ethp2p_addr_equal(&c->ip, &ip, false)) {
      b = c;
      break;
    }
    if (b == NULL || c->ip.family == 0 || (b->ip.family != 0 && c->tat < b->tat))
      b = c;
  }
  if (b->ip.family == 0 || !ethp2p_addr_equal(&b->ip, &ip, false)) {
    b->ip = ip;
    b->tat = 0;
  }
  if (!gcra_ok(b->tat, now, v5->cfg.whoareyou_ip_rate) ||
      !gcra_ok(v5->wya_tat, now, v5->cfg.whoareyou_rate)) {
    v5->stats.whoareyou_limited++;
    return false;
  }
  gcra_take(&b->tat, now, v5->cfg.whoareyou_ip_rate);
  gcra_take(&v5->wya_tat, now, v5->cfg.whoareyou_rate);
  return true;
}

static void send_whoareyou(ethp2p_discv5 *v5, const ethp2p_v5_packet *pkt,
                           const ethp2p_addr *from) {
  if (!whoareyou_allowed(v5, from)) {
    char h[17];
    hex8(h, pkt->src_id);
    ethp2p_log(ETHP2P_LOG_TRACE, MOD, "WHOAREYOU rate-limited", "id=%s", h);
    return;
  }
  challenge *ch = challenge_find(v5, pkt->src_id, from);
  if (ch == NULL) {
    for (size_t i = 0; i < MAX_CHALLENGES; i++) {
      challenge *c = &v5->challenges[i];
      if (!c->used) {
        ch = c;
        break;
      }
      if (ch == NULL || c->at < ch->at)
        ch = c; /* the oldest pending challenge gives way */
    }
  }
  const store_entry *e = store_find(v5, pkt->src_id);
  uint8_t iv[16], idn[16], auth[24], out[ETHP2P_V5_MAX_PACKET];
  size_t n;
  fresh(v5, iv, sizeof iv);
  fresh(v5, idn, sizeof idn);
  ethp2p_v5_authdata_whoareyou(auth, idn, e != NULL ? ethp2p_enr_seq(&e->rec) : 0);
  if (ethp2p_v5_packet_encode(out, sizeof out, &n, pkt->src_id, iv, ETHP2P_V5_FLAG_WHOAREYOU,
                              pkt->nonce, auth, sizeof auth, NULL, NULL, 0) != 0)
    return;
  /* challenge-data = masking-iv || static-header || authdata, i.e. the unmasked head */
  memset(ch, 0, sizeof *ch);
  ch->used = true;
  memcpy(ch->id, pkt->src_id, 32);
  ch->addr = *from;
  ch->at = ethp2p_env_now(v5->env);
  uint8_t *c = ch->data;
  memcpy(c, iv, 16);
  memcpy(c + 16, "discv5", 6);
  c[22] = 0;
  c[23] = 1;
  c[24] = ETHP2P_V5_FLAG_WHOAREYOU;
  memcpy(c + 25, pkt->nonce, 12);
  c[37] = 0;
  c[38] = sizeof auth;
  memcpy(c + 39, auth, sizeof auth);
  ch->len = 39 + sizeof auth;
  (void)transmit(v5, from, out, n);
}

static void on_message_packet(ethp2p_discv5 *v5, const ethp2p_v5_packet *pkt,
                              const ethp2p_addr *from) {
  uint8_t pt[ETHP2P_V5_MAX_PACKET];
  size_t n;
  session *s = session_find(v5, pkt->src_id, from);
  if (s != NULL && s->established &&
      (ethp2p_v5_packet_open(pt, sizeof pt, &n, pkt, s->read_key) == 0 ||
       (s->has_prev && ethp2p_v5_packet_open(pt, sizeof pt, &n, pkt, s->prev_read_key) == 0))) {
    dispatch(v5, s, from, pt, n);
    return;
  }
  if (s != NULL && s->established)
    v5->stats.decrypt_failures++;
  send_whoareyou(v5, pkt, from);
}

static void on_whoareyou(ethp2p_discv5 *v5, const ethp2p_v5_packet *pkt, const ethp2p_addr *from) {
  request *r = NULL;
  for (size_t i = 0; i < MAX_REQUESTS; i++)
    if (v5->reqs[i].used && !v5->reqs[i].queued && memcmp(v5->reqs[i].nonce, pkt->nonce, 12) == 0 &&
        ethp2p_addr_equal(&v5->reqs[i].peer.addr, from, true))
      r = &v5->reqs[i];
  if (r == NULL || r->handshakes >= MAX_HANDSHAKES_PER_REQ)
    return; /* unsolicited, or a handshake loop */
  r->handshakes++;
  uint8_t eph[32], eph_pub[33], ik[16], rk[16], sig[64], auth[ETHP2P_V5_HEADER_MAX];
  uint8_t iv[16], nonce[12], out[ETHP2P_V5_MAX_PACKET];
  size_t alen, n;
  do
    fresh(v5, eph, sizeof eph);
  while (ethp2p_secp_secret_check(eph) != 0);
  int rc = ethp2p_secp_pubkey(eph_pub, NULL, eph);
  if (rc == 0)
    rc = ethp2p_v5_derive_keys(ik, rk, eph, r->peer.pub33, v5->id, r->peer.id, pkt->head,
                               pkt->head_len);
  ethp2p_secp_wipe(eph, sizeof eph);
  if (rc == 0)
    rc = ethp2p_v5_id_sign(sig, v5->secret, pkt->head, pkt->head_len, eph_pub, r->peer.id);
  /* enr-seq 0 means the peer knows no record of ours (even one with seq 0) */
  bool with_record = pkt->enr_seq == 0 || pkt->enr_seq < ethp2p_enr_seq(&v5->record);
  if (rc == 0)
    rc = ethp2p_v5_authdata_handshake(auth, sizeof auth, &alen, v5->id, sig, eph_pub,
                                      with_record ? v5->record_raw : NULL,
                                      with_record ? v5->record_len : 0);
  fresh(v5, iv, sizeof iv);
  fresh(v5, nonce, sizeof nonce);
  if (rc == 0)
    rc = ethp2p_v5_packet_encode(out, sizeof out, &n, r->peer.id, iv, ETHP2P_V5_FLAG_HANDSHAKE,
                                 nonce, auth, alen, ik, r->pt, r->pt_len);
  if (rc != 0) {
    v5->stats.handshake_failures++;
    complete(v5, r, ETHP2P_ESIG, NULL); /* e.g. the peer's key in its record is invalid */
    return;
  }
  session *s = session_get(v5, r->peer.id, from);
  session_rekey(s, ik, rk);
  ethp2p_secp_wipe(ik, 16);
  ethp2p_secp_wipe(rk, 16);
  memcpy(r->nonce, nonce, 12);
  r->awaiting = false;
  v5->stats.handshakes++;
  (void)transmit(v5, from, out, n);
  /* other requests to this peer that wait for a WHOAREYOU go out in the new session */
  for (size_t i = 0; i < MAX_REQUESTS; i++) {
    request *o = &v5->reqs[i];
    if (o->used && o != r && memcmp(o->peer.id, r->peer.id, 32) == 0 &&
        ethp2p_addr_equal(&o->peer.addr, from, true)) {
      o->awaiting = o->queued = false;
      (void)send_in_session(v5, s, o->pt, o->pt_len, o->nonce);
    }
  }
}

static void on_handshake(ethp2p_discv5 *v5, const ethp2p_v5_packet *pkt, const ethp2p_addr *from) {
  challenge *ch = challenge_find(v5, pkt->src_id, from);
  char h[17];
  hex8(h, pkt->src_id);
  if (ch == NULL || ethp2p_env_now(v5->env) - ch->at > HANDSHAKE_TIMEOUT) {
    ethp2p_log(ETHP2P_LOG_DEBUG, MOD, "Dropped unsolicited handshake", "id=%s", h);
    return;
  }
  ethp2p_enr rec;
  uint8_t pub[33], id[32], ik[16], rk[16], pt[ETHP2P_V5_MAX_PACKET];
  size_t n;
  bool have_rec = false;
  const char *why = NULL;
  if (pkt->record != NULL) {
    if (ethp2p_enr_decode_verify(&rec, pkt->record, pkt->record_len, NULL) != 0 ||
        ethp2p_enr_node_id(id, &rec) != 0 || memcmp(id, pkt->src_id, 32) != 0 ||
        ethp2p_enr_secp256k1_get(&rec, pub) != 0) {
      why = "bad record";
      goto fail;
    }
    have_rec = true;
  } else {
    const store_entry *e = store_find(v5, pkt->src_id);
    if (e == NULL) {
      why = "no record";
      goto fail;
    }
    memcpy(pub, e->pub33, 33);
  }
  if (ethp2p_v5_id_verify(pkt->id_sig, pub, ch->data, ch->len, pkt->eph_pub, v5->id) != 0) {
    why = "bad id signature";
    goto fail;
  }
  if (ethp2p_v5_derive_keys(ik, rk, v5->secret, pkt->eph_pub, pkt->src_id, v5->id, ch->data,
                            ch->len) != 0) {
    why = "bad ephemeral key";
    goto fail;
  }
  if (ethp2p_v5_packet_open(pt, sizeof pt, &n, pkt, ik) != 0) {
    why = "message does not decrypt";
    goto fail;
  }
  memset(ch, 0, sizeof *ch); /* used once */
  session *s = session_get(v5, pkt->src_id, from);
  session_rekey(s, rk, ik);
  ethp2p_secp_wipe(ik, 16);
  ethp2p_secp_wipe(rk, 16);
  v5->stats.handshakes++;
  if (have_rec)
    store_put(v5, &rec, from);
  ethp2p_log(ETHP2P_LOG_TRACE, MOD, "Handshake done", "id=%s", h);
  dispatch(v5, s, from, pt, n);
  return;
fail:
  v5->stats.handshake_failures++;
  ethp2p_log(ETHP2P_LOG_DEBUG, MOD, "Refused handshake", "id=%s why=\"%s\"", h, why);
}

int ethp2p_discv5_handle_packet(ethp2p_discv5 *v5, const ethp2p_addr *from, const uint8_t *in,
                                size_t len) {
  uint8_t scratch[ETHP2P_V5_HEADER_MAX];
  ethp2p_v5_packet pkt;
  int rc = ethp2p_v5_packet_decode_masked(&pkt, scratch, v5->mask, in, len, NULL);
  if (rc == ETHP2P_EPROTO || rc == ETHP2P_ETRUNC || rc == ETHP2P_ETOOBIG)
    return ETHP2P_EPROTO;
  v5->stats.packets_in++;
  if (ethp2p_log_enabled(ETHP2P_LOG_TRACE)) {
    char a[ETHP2P_ADDRSTRLEN], h[17] = "-";
    if (rc == 0 && pkt.flag != ETHP2P_V5_FLAG_WHOAREYOU)
      hex8(h, pkt.src_id);
    ethp2p_log(ETHP2P_LOG_TRACE, MOD, "<< packet", "from=%s flag=%d id=%s len=%zu err=%s",
               ethp2p_addr_format(from, true, a, sizeof a), rc == 0 ? pkt.flag : -1, h, len,
               rc == 0 ? "none" : ethp2p_err_name(rc));
  }
  if (rc != 0)
    return 0;
  switch (pkt.flag) {
  case ETHP2P_V5_FLAG_MESSAGE:
    on_message_packet(v5, &pkt, from);
    break;
  case ETHP2P_V5_FLAG_WHOAREYOU:
    on_whoareyou(v5, &pkt, from);
    break;
  case ETHP2P_V5_FLAG_HANDSHAKE:
    on_handshake(v5, &pkt, from);
    break;
  }
  return 0;
}

static void on_udp(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                   void *data) {
  (void)udp;
  (void)ethp2p_discv5_handle_packet(data, from, buf, len);
}

/* --- lifecycle --------------------------------------------------------------- */

static int take_record(ethp2p_discv5 *v5, const ethp2p_enr *rec) {
  uint8_t pub[33];
  if (rec == NULL || !ethp2p_enr_is_signed(rec) || ethp2p_enr_secp256k1_get(rec, pub) != 0 ||
      memcmp(pub, v5->pub33, 33) != 0)
    return ETHP2P_EINVAL;
  size_t n;
  if (ethp2p_enr_encode(v5->record_raw, sizeof v5->record_raw, &n, rec) != 0)
    return ETHP2P_EINVAL;
  v5->record = *rec;
  v5->record_len = n;
  return 0;
}

int ethp2p_discv5_create(ethp2p_env *env, const ethp2p_discv5_config *cfg, ethp2p_discv5 **out) {
  *out = NULL;
  if (env == NULL || cfg == NULL || cfg->secret == NULL || cfg->record == NULL)
    return ETHP2P_EINVAL;
  ethp2p_discv5 *v5 = calloc(1, sizeof *v5);
  if (v5 == NULL)
    return ETHP2P_ENOMEM;
  int rc;
  uint8_t pub64[64];
  v5->env = env;
  v5->cfg = *cfg;
  v5->cfg.secret = NULL;
  v5->cfg.record = NULL;
  if (v5->cfg.session_cap == 0)
    v5->cfg.session_cap = 256;
  if (v5->cfg.store_cap == 0)
    v5->cfg.store_cap = 128;
  if (v5->cfg.request_timeout == 0)
    v5->cfg.request_timeout = ETHP2P_SEC;
  if (v5->cfg.whoareyou_ip_rate == 0)
    v5->cfg.whoareyou_ip_rate = WHOAREYOU_IP_RATE;
  if (v5->cfg.whoareyou_rate == 0)
    v5->cfg.whoareyou_rate = WHOAREYOU_RATE;
  memcpy(v5->secret, cfg->secret, 32);
  if ((rc = ethp2p_secp_pubkey(v5->pub33, pub64, v5->secret)) != 0)
    goto fail;
  ethp2p_secp_node_id(v5->id, pub64);
  if ((rc = take_record(v5, cfg->record)) != 0)
    goto fail;
  v5->nsessions = v5->cfg.session_cap;
  v5->sessions = calloc(v5->nsessions, sizeof *v5->sessions);
  v5->store = calloc(v5->cfg.store_cap, sizeof *v5->store);
  if (v5->sessions == NULL || v5->store == NULL) {
    rc = ETHP2P_ENOMEM;
    goto fail;
  }
  if ((rc = ethp2p_aes_block_new(&v5->mask, v5->id, 16)) != 0)
    goto fail;
  if ((rc = ethp2p_timer_create(env, &v5->timer, on_timer, v5)) != 0)
    goto fail;
  if (cfg->send == NULL && (rc = ethp2p_udp_open(env, &v5->udp, &cfg->bind, 0, on_udp, v5)) != 0)
    goto fail;
  *out = v5;
  return 0;
fail:
  ethp2p_discv5_destroy(v5);
  return rc;
}

void ethp2p_discv5_destroy(ethp2p_discv5 *v5) {
  if (v5 == NULL)
    return;
  v5->closing = true;
  for (size_t i = 0; i < MAX_REQUESTS; i++)
    if (v5->reqs[i].used)
      complete(v5, &v5->reqs[i], ETHP2P_ECANCELED, NULL);
  ethp2p_udp_close(v5->udp);
  ethp2p_timer_destroy(v5->timer);
  ethp2p_aes_block_free(v5->mask);
  if (v5->sessions != NULL)
    ethp2p_secp_wipe(v5->sessions, v5->nsessions * sizeof *v5->sessions);
  free(v5->sessions);
  free(v5->store);
  ethp2p_secp_wipe(v5->secret, sizeof v5->secret);
  free(v5);
}

int ethp2p_discv5_set_record(ethp2p_discv5 *v5, const ethp2p_enr *rec) {
  return take_record(v5, rec);
}

const ethp2p_enr *ethp2p_discv5_record(const ethp2p_discv5 *v5) {
  return &v5->record;
}

void ethp2p_discv5_id(const ethp2p_discv5 *v5, uint8_t id[32]) {
  memcpy(id, v5->id, 32);
}

int ethp2p_discv5_local_addr(ethp2p_discv5 *v5, ethp2p_addr *out) {
  if (v5->udp == NULL)
    return ETHP2P_ESTATE;
  return ethp2p_udp_local_addr(v5->udp, out);
}

int ethp2p_discv5_talk_register(ethp2p_discv5 *v5, const char *proto, ethp2p_discv5_talk_fn fn,
                                void *data) {
  size_t len = proto != NULL ? strlen(proto) : 0;
  if (fn == NULL || len == 0 || len > TALK_NAME_MAX)
    return ETHP2P_EINVAL;
  for (size_t i = 0; i < v5->ntalk; i++)
    if (v5->talk[i].len == len && memcmp(v5->talk[i].name, proto, len) == 0)
      return ETHP2P_EEXIST;
  if (v5->ntalk >= MAX_TALK)
    return ETHP2P_ENOMEM;
  talk_handler *h = &v5->talk[v5->ntalk++];
  memcpy(h->name, proto, len + 1);
  h->len = len;
  h->fn = fn;
  h->data = data;
  return 0;
}

size_t ethp2p_discv5_session_drop(ethp2p_discv5 *v5, const uint8_t id[32]) {
  size_t n = 0;
  for (size_t i = 0; i < v5->nsessions; i++)
    if (v5->sessions[i].used && memcmp(v5->sessions[i].id, id, 32) == 0) {
      ethp2p_secp_wipe(&v5->sessions[i], sizeof v5->sessions[i]);
      n++;
    }
  return n;
}

void ethp2p_discv5_stats_get(const ethp2p_discv5 *v5, ethp2p_discv5_stats *out) {
  *out = v5->stats;
  out->sessions = 0;
  for (size_t i = 0; i < v5->nsessions; i++)
    out->sessions += v5->sessions[i].used && v5->sessions[i].established;
}
