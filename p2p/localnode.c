/*
 * p2p/localnode.c — the local record (see ethp2p/localnode.h).
 *
 * Two records are kept: `work`, the content as it should be now (unsigned
 * after a change), and `cur`, the last signed version.  Signing happens on
 * demand: it compares the content of both first, so a change that was undone
 * gives no new version; otherwise seq = previous + 1, the seq is stored, and
 * the signed record replaces `cur`.  Subscribers are told from a timer armed
 * at "now", so a burst of changes within one event gives one version.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/localnode.h"
#include "ethp2p/log.h"
#include "ethp2p/secp.h"

#define LN_MODULE "p2p"

typedef struct ln_sub {
  int id;
  ethp2p_localnode_cb cb;
  void *data;
} ln_sub;

/* go-ethereum's lnEndpoint: what one family's endpoint is made of. */
typedef struct ln_endpoint {
  ethp2p_addr static_ip;   /* family 0 = none */
  ethp2p_addr fallback_ip; /* family 0 = none */
  uint16_t fallback_udp;
  ethp2p_iptrack track;
} ln_endpoint;

struct ethp2p_localnode {
  ethp2p_env *env;
  ethp2p_nodekey key;
  uint8_t id[32];
  ethp2p_enr work;
  ethp2p_enr cur;
  bool have_cur;
  uint64_t seq; /* seq of cur, or the start value before the first signing */

  bool persist;
  ethp2p_seqstore store;
  int seq_err;

  ln_endpoint ep4, ep6; /* one per family, never mixed */
  uint16_t tcp4, tcp6;  /* TCP ports per family (tcp6 is written only when it differs) */
  int sink_family;      /* family of the last address the IPv4 sink set (4 or 6) */

  ethp2p_timer *notify_timer;
  bool notify_armed;
  bool notified_any;
  uint64_t notified_seq;
  ln_sub subs[ETHP2P_LOCALNODE_MAX_SUBS];
  int next_sub_id;
};

static void id_hex(const uint8_t id[32], char out[17]) {
  static const char hx[] = "0123456789abcdef";
  for (int i = 0; i < 8; i++) {
    out[2 * i] = hx[id[i] >> 4];
    out[2 * i + 1] = hx[id[i] & 15];
  }
  out[16] = 0;
}

/* True if a and b hold the same key/value pairs (seq and signature aside). */
static bool same_content(const ethp2p_enr *a, const ethp2p_enr *b) {
  ethp2p_enr x = *a;
  uint8_t h1[32], h2[32];
  ethp2p_enr_seq_set(&x, ethp2p_enr_seq(b));
  ethp2p_enr_signing_hash(h1, &x);
  ethp2p_enr_signing_hash(h2, b);
  return memcmp(h1, h2, 32) == 0;
}

static void store_seq(ethp2p_localnode *ln) {
  int rc;
  if (!ln->persist)
    return;
  rc = ethp2p_seqstore_save(&ln->store, ln->seq);
  if (rc != 0 && rc != ln->seq_err)
    ethp2p_log(ETHP2P_LOG_ERROR, LN_MODULE,
               "Couldn't store record sequence number; running with the in-memory value",
               "dir=%s seq=%" PRIu64 " err=\"%s\"", ln->store.dir, ln->seq, ethp2p_strerror(rc));
  else if (rc == 0 && ln->seq_err != 0)
    ethp2p_log(ETHP2P_LOG_INFO, LN_MODULE, "Record sequence number stored again",
               "dir=%s seq=%" PRIu64, ln->store.dir, ln->seq);
  ln->seq_err = rc;
}

/* Signs `work` if it changed since the last version. */
static int sign_now(ethp2p_localnode *ln) {
  ethp2p_enr next;
  uint64_t seq;
  int rc;

  if (ethp2p_enr_is_signed(&ln->work))
    return 0;
  if (ln->have_cur && same_content(&ln->work, &ln->cur)) {
    ln->work = ln->cur; /* changed and changed back: same version */
    return 0;
  }
  if (ln->seq == UINT64_MAX)
    return ETHP2P_ERANGE;
  seq = ln->seq + 1;
  next = ln->work;
  rc = ethp2p_enr_seq_set(&next, seq);
  if (rc == 0)
    rc = ethp2p_enr_sign(&next, ln->key.secret);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_ERROR, LN_MODULE, "Couldn't sign local record", "err=\"%s\"",
               ethp2p_strerror(rc));
    return rc;
  }
  ln->seq = seq;
  ln->work = next;
  ln->cur = next;
  ln->have_cur = true;
  store_seq(ln);
  if (ethp2p_log_enabled(ETHP2P_LOG_DEBUG)) {
    char idh[17];
    id_hex(ln->id, idh);
    ethp2p_log(ETHP2P_LOG_DEBUG, LN_MODULE, "Local record signed", "id=%s seq=%" PRIu64 " size=%zu",
               idh, seq, ethp2p_enr_encoded_len(&ln->cur));
  }
  return 0;
}

static void notify_cb(ethp2p_timer *t, void *data) {
  ethp2p_localnode *ln = data;
  (void)t;
  ln->notify_armed = false;
  if (sign_now(ln) != 0 || !ln->have_cur)
    return;
  if (ln->notified_any && ln->notified_seq == ln->seq)
    return;
  ln->notified_any = true;
  ln->notified_seq = ln->seq;
  for (size_t i = 0; i < ETHP2P_LOCALNODE_MAX_SUBS; i++) {
    ln_sub s = ln->subs[i];
    if (s.cb != NULL)
      s.cb(ln, &ln->cur, s.data);
  }
}

static void changed(ethp2p_localnode *ln) {
  if (ethp2p_enr_is_signed(&ln->work) || ln->notify_armed)
    return;
  ln->notify_armed = true;
  ethp2p_timer_start(ln->notify_timer, ethp2p_env_now(ln->env));
}

static int del_key(ethp2p_enr *rec, const char *key) {
  int rc = ethp2p_enr_del(rec, key, strlen(key));
  return rc == ETHP2P_ENOTFOUND ? 0 : rc;
}

/* The IPv4 view of a (family 4, or an IPv4-mapped IPv6 address as family 4);
 * other IPv6 addresses are returned as they are.  Port and scope are kept. */
static ethp2p_addr normalize(const ethp2p_addr *a) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  ethp2p_addr out = *a;
  if (a->family == 6 && memcmp(a->ip, mapped, sizeof mapped) == 0) {
    memset(out.ip, 0, sizeof out.ip);
    memcpy(out.ip, a->ip + 12, 4);
    out.family = 4;
    out.scope = 0;
  }
  return out;
}

static ln_endpoint *endpoint_of(ethp2p_localnode *ln, int family) {
  return family == 6 ? &ln->ep6 : &ln->ep4;
}

/* go-ethereum's lnEndpoint.get: static > predicted > fallback for one family. */
static bool endpoint_get(ethp2p_localnode *ln, int family, ethp2p_addr *out) {
  ln_endpoint *ep = endpoint_of(ln, family);
  ethp2p_addr pred;
  memset(out, 0, sizeof *out);
  if (ep->fallback_ip.family == family)
    *out = ep->fallback_ip;
  out->port = ep->fallback_udp;
  if (ep->static_ip.family == family) {
    *out = ep->static_ip;
    out->port = ep->fallback_udp;
  } else if (ethp2p_iptrack_predict(&ep->track, ethp2p_env_now(ln->env), &pred) &&
             pred.family == family) {
    *out = pred;
  }
  out->scope = 0;
  return out->family == family && !ethp2p_addr_is_unspecified(out);
}

/* tcp from the IPv4 port; tcp6 only while the IPv6 port differs from it. */
static int update_tcp(ethp2p_localnode *ln) {
  int rc = ln->tcp4 != 0 ? ethp2p_enr_port_set(&ln->work, ETHP2P_ENR_TCP, ln->tcp4)
                         : del_key(&ln->work, "tcp");
  int rc6 = ln->tcp6 != 0 && ln->tcp6 != ln->tcp4
                ? ethp2p_enr_port_set(&ln->work, ETHP2P_ENR_TCP6, ln->tcp6)
                : del_key(&ln->work, "tcp6");
  changed(ln);
  return rc != 0 ? rc : rc6;
}

/* Recomputes ip/udp and ip6/udp6 (go-ethereum's updateEndpoints). */
static void update_endpoint(ethp2p_localnode *ln) {
  ethp2p_addr e4, e6;
  bool have4 = endpoint_get(ln, 4, &e4), have6 = endpoint_get(ln, 6, &e6);
  uint16_t udp4 = e4.port, udp6 = e6.port;

  if (have4)
    (void)ethp2p_enr_ip_set(&ln->work, e4.ip);
  else
    (void)del_key(&ln->work, "ip");
  if (have6)
    (void)ethp2p_enr_ip6_set(&ln->work, e6.ip);
  else
    (void)del_key(&ln->work, "ip6");
  if (udp4 != 0)
    (void)ethp2p_enr_port_set(&ln->work, ETHP2P_ENR_UDP, udp4);
  else
    (void)del_key(&ln->work, "udp");
  if (udp6 != 0 && udp6 != udp4)
    (void)ethp2p_enr_port_set(&ln->work, ETHP2P_ENR_UDP6, udp6);
  else
    (void)del_key(&ln->work, "udp6");
  changed(ln);
}

int ethp2p_localnode_create(ethp2p_env *env, const ethp2p_nodekey *key, const char *datadir,
                            ethp2p_localnode **out) {
  ethp2p_localnode *ln;
  uint8_t pub33[33], pub64[64];
  int64_t now_ms;
  int rc;

  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (env == NULL || key == NULL)
    return ETHP2P_EINVAL;
  if (ethp2p_secp_pubkey(pub33, pub64, key->secret) != 0)
    return ETHP2P_EKEY;
  ln = calloc(1, sizeof *ln);
  if (ln == NULL)
    return ETHP2P_ENOMEM;
  ln->env = env;
  ln->key = *key;
  ethp2p_secp_node_id(ln->id, pub64);
  ethp2p_iptrack_init(&ln->ep4.track, 0, 0, 0);
  ethp2p_iptrack_init(&ln->ep6.track, 0, 0, 0);
  ln->next_sub_id = 1;
  now_ms = ethp2p_env_wall_ms(env);
  ln->seq = now_ms > 0 ? (uint64_t)now_ms : 0;
  if (datadir != NULL) {
    rc = ethp2p_seqstore_open(&ln->store, datadir, now_ms, &ln->seq);
    if (rc == ETHP2P_ETOOBIG || rc == ETHP2P_EINVAL)
      goto out_free;
    if (rc != 0)
      ethp2p_log(ETHP2P_LOG_WARN, LN_MODULE,
                 "Couldn't read stored record sequence number; starting from the clock",
                 "dir=%s err=\"%s\"", datadir, ethp2p_strerror(rc));
    ln->persist = true;
  }
  rc = ethp2p_timer_create(env, &ln->notify_timer, notify_cb, ln);
  if (rc != 0)
    goto out_free;
  ethp2p_enr_init(&ln->work);
  /* The first version is signed with seq + 1: size checks must count that seq's
   * bytes from the start (with seq 0 a full record would pass them, then fail to sign). */
  ethp2p_enr_seq_set(&ln->work, ln->seq < UINT64_MAX ? ln->seq + 1 : ln->seq);
  if ((rc = ethp2p_enr_id_set(&ln->work, "v4")) != 0 ||
      (rc = ethp2p_enr_secp256k1_set(&ln->work, pub33)) != 0)
    goto out_timer;
  changed(ln);
  *out = ln;
  return 0;

out_timer:
  ethp2p_timer_destroy(ln->notify_timer);
out_free:
  ethp2p_nodekey_wipe(&ln->key);
  free(ln);
  return rc;
}

void ethp2p_localnode_destroy(ethp2p_localnode *ln) {
  if (ln == NULL)
    return;
  ethp2p_timer_destroy(ln->notify_timer);
  ethp2p_nodekey_wipe(&ln->key);
  free(ln);
}

int ethp2p_localnode_record(ethp2p_localnode *ln, ethp2p_enr *out) {
  int rc = sign_now(ln);
  if (ln->have_cur)
    *out = ln->cur;
  else
    ethp2p_enr_init(out);
  return rc;
}

int ethp2p_localnode_text(ethp2p_localnode *ln, char *out, size_t cap) {
  int rc = sign_now(ln);
  if (rc != 0 && !ln->have_cur)
    return rc;
  return ethp2p_enr_text_encode(out, cap, NULL, &ln->cur);
}

uint64_t ethp2p_localnode_seq(ethp2p_localnode *ln) {
  (void)sign_now(ln);
  return ln->seq;
}

void ethp2p_localnode_id(const ethp2p_localnode *ln, uint8_t id[32]) {
  memcpy(id, ln->id, 32);
}

int ethp2p_localnode_seq_error(const ethp2p_localnode *ln) {
  return ln->seq_err;
}

int ethp2p_localnode_set_port(ethp2p_localnode *ln, ethp2p_enr_port which, uint16_t port) {
  const char *k = ethp2p_enr_port_key(which);
  int rc;
  if (ln == NULL || k == NULL)
    return ETHP2P_EINVAL;
  switch (which) {
  case ETHP2P_ENR_UDP:
    ethp2p_localnode_set_fallback_udp(ln, port);
    return 0;
  case ETHP2P_ENR_UDP6:
    ethp2p_localnode_set_fallback_udp6(ln, port);
    return 0;
  case ETHP2P_ENR_TCP:
  case ETHP2P_ENR_TCP6: {
    uint16_t *slot = which == ETHP2P_ENR_TCP ? &ln->tcp4 : &ln->tcp6, old = *slot;
    *slot = port;
    rc = update_tcp(ln);
    if (rc != 0) { /* refused (the record is full): keep the old port and record */
      *slot = old;
      (void)update_tcp(ln);
    }
    return rc;
  }
  default:
    break;
  }
  rc = port != 0 ? ethp2p_enr_port_set(&ln->work, which, port) : del_key(&ln->work, k);
  changed(ln);
  return rc;
}

int ethp2p_localnode_set_raw(ethp2p_localnode *ln, const char *key, const uint8_t *raw,
                             size_t raw_len) {
  int rc;
  if (ln == NULL || key == NULL || raw == NULL)
    return ETHP2P_EINVAL;
  rc = ethp2p_enr_raw_set(&ln->work, key, strlen(key), raw, raw_len);
  changed(ln);
  return rc;
}

int ethp2p_localnode_del(ethp2p_localnode *ln, const char *key) {
  int rc;
  if (ln == NULL || key == NULL)
    return ETHP2P_EINVAL;
  rc = del_key(&ln->work, key);
  changed(ln);
  return rc;
}

enum ip_slot { SLOT_STATIC, SLOT_FALLBACK };

static ethp2p_addr *slot_of(ethp2p_localnode *ln, int family, enum ip_slot slot) {
  ln_endpoint *ep = endpoint_of(ln, family);
  return slot == SLOT_STATIC ? &ep->static_ip : &ep->fallback_ip;
}

/* Sets one family's static or fallback IP; clear_family says which one NULL clears. */
static int set_ip(ethp2p_localnode *ln, enum ip_slot slot, const ethp2p_addr *ip, int only_family,
                  int clear_family) {
  ethp2p_addr a;
  if (ln == NULL)
    return ETHP2P_EINVAL;
  if (ip == NULL || ip->family == 0) {
    memset(slot_of(ln, clear_family, slot), 0, sizeof(ethp2p_addr));
    update_endpoint(ln);
    return 0;
  }
  if (ip->family != 4 && ip->family != 6)
    return ETHP2P_EINVAL;
  a = normalize(ip);
  if (only_family != 0 && a.family != only_family)
    return ETHP2P_EINVAL;
  a.port = 0;
  a.scope = 0;
  *slot_of(ln, a.family, slot) = a;
  update_endpoint(ln);
  return 0;
}

int ethp2p_localnode_set_static_ip(ethp2p_localnode *ln, const ethp2p_addr *ip) {
  return set_ip(ln, SLOT_STATIC, ip, 0, 4);
}

int ethp2p_localnode_set_fallback_ip(ethp2p_localnode *ln, const ethp2p_addr *ip) {
  return set_ip(ln, SLOT_FALLBACK, ip, 0, 4);
}

int ethp2p_localnode_set_static_ip6(ethp2p_localnode *ln, const ethp2p_addr *ip) {
  return set_ip(ln, SLOT_STATIC, ip, 6, 6);
}

int ethp2p_localnode_set_fallback_ip6(ethp2p_localnode *ln, const ethp2p_addr *ip) {
  return set_ip(ln, SLOT_FALLBACK, ip, 6, 6);
}

void ethp2p_localnode_set_fallback_udp(ethp2p_localnode *ln, uint16_t port) {
  ln->ep4.fallback_udp = port;
  ln->ep6.fallback_udp = port;
  update_endpoint(ln);
}

void ethp2p_localnode_set_fallback_udp6(ethp2p_localnode *ln, uint16_t port) {
  ln->ep6.fallback_udp = port;
  update_endpoint(ln);
}

#define LN_MAX_IFACES 64

int ethp2p_localnode_set_fallback_ip6_from_host(ethp2p_localnode *ln, ethp2p_addr *chosen) {
  ethp2p_iface ifs[LN_MAX_IFACES];
  size_t n = 0;
  int rc;
  if (chosen != NULL)
    memset(chosen, 0, sizeof *chosen);
  if (ln == NULL)
    return ETHP2P_EINVAL;
  rc = ethp2p_env_interfaces(ln->env, ifs, LN_MAX_IFACES, &n);
  if (rc != 0)
    return rc;
  /* Pass 0: stable addresses; pass 1: privacy (temporary) ones, which change daily. */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < n; i++) {
      const ethp2p_iface *it = &ifs[i];
      if (!it->up || it->loopback || it->addr.family != 6 || !ethp2p_addr_is_public(&it->addr) ||
          it->deprecated || it->tentative || it->temporary != (pass == 1))
        continue;
      (void)ethp2p_localnode_set_fallback_ip6(ln, &it->addr);
      if (chosen != NULL) {
        *chosen = it->addr;
        chosen->port = 0;
        chosen->scope = 0;
      }
      return 0;
    }
  }
  (void)ethp2p_localnode_set_fallback_ip6(ln, NULL);
  return ETHP2P_ENOTFOUND;
}

void ethp2p_localnode_udp_statement(ethp2p_localnode *ln, const ethp2p_addr *from,
                                    const ethp2p_addr *endpoint) {
  ethp2p_addr f, e;
  if (ln == NULL || from == NULL || endpoint == NULL || (from->family != 4 && from->family != 6) ||
      (endpoint->family != 4 && endpoint->family != 6))
    return;
  f = normalize(from);
  e = normalize(endpoint);
  if (f.family != e.family)
    return; /* one family's peer cannot tell us the other family's endpoint */
  f.scope = 0;
  e.scope = 0;
  ethp2p_iptrack_add_statement(&endpoint_of(ln, e.family)->track, &f, &e, ethp2p_env_now(ln->env));
  update_endpoint(ln);
}

void ethp2p_localnode_udp_contact(ethp2p_localnode *ln, const ethp2p_addr *to) {
  ethp2p_addr t;
  if (ln == NULL || to == NULL || (to->family != 4 && to->family != 6))
    return;
  t = normalize(to);
  t.scope = 0;
  ethp2p_iptrack_add_contact(&endpoint_of(ln, t.family)->track, &t, ethp2p_env_now(ln->env));
}

bool ethp2p_localnode_endpoint(ethp2p_localnode *ln, int family, ethp2p_addr *out) {
  if (ln == NULL || (family != 4 && family != 6)) {
    memset(out, 0, sizeof *out);
    return false;
  }
  if (!endpoint_get(ln, family, out)) {
    memset(out, 0, sizeof *out);
    return false;
  }
  return true;
}

/* The loop reports one address; a withdrawal (NULL) clears the family it set
 * last, so extip:<IPv6> followed by a withdrawal never touches IPv4. */
static void sink_ip(void *data, const ethp2p_addr *ip) {
  ethp2p_localnode *ln = data;
  if (ip == NULL || ip->family == 0) {
    if (ln->sink_family == 6)
      (void)ethp2p_localnode_set_static_ip6(ln, NULL);
    else
      (void)ethp2p_localnode_set_static_ip(ln, NULL);
    return;
  }
  if (ethp2p_localnode_set_static_ip(ln, ip) == 0)
    ln->sink_family = normalize(ip).family;
}
static void sink_tcp(void *data, uint16_t port) {
  (void)ethp2p_localnode_set_port(data, ETHP2P_ENR_TCP, port);
}
static void sink_udp(void *data, uint16_t port) {
  ethp2p_localnode_set_fallback_udp(data, port);
}

void ethp2p_localnode_portmap_sink(ethp2p_localnode *ln, ethp2p_portmap_sink *out) {
  out->set_ip = sink_ip;
  out->set_tcp = sink_tcp;
  out->set_udp = sink_udp;
  out->data = ln;
}

static void sink6_ip(void *data, const ethp2p_addr *ip) {
  if (ip == NULL || ip->family == 0 || normalize(ip).family == 6)
    (void)ethp2p_localnode_set_static_ip6(data, ip);
}
static void sink6_tcp(void *data, uint16_t port) {
  (void)ethp2p_localnode_set_port(data, ETHP2P_ENR_TCP6, port);
}
static void sink6_udp(void *data, uint16_t port) {
  ethp2p_localnode_set_fallback_udp6(data, port);
}

void ethp2p_localnode_portmap_sink6(ethp2p_localnode *ln, ethp2p_portmap_sink *out) {
  out->set_ip = sink6_ip;
  out->set_tcp = sink6_tcp;
  out->set_udp = sink6_udp;
  out->data = ln;
}

int ethp2p_localnode_subscribe(ethp2p_localnode *ln, ethp2p_localnode_cb cb, void *data) {
  if (ln == NULL || cb == NULL)
    return ETHP2P_EINVAL;
  for (size_t i = 0; i < ETHP2P_LOCALNODE_MAX_SUBS; i++) {
    if (ln->subs[i].cb == NULL) {
      ln->subs[i].cb = cb;
      ln->subs[i].data = data;
      ln->subs[i].id = ln->next_sub_id++;
      return ln->subs[i].id;
    }
  }
  return ETHP2P_ESPACE;
}

void ethp2p_localnode_unsubscribe(ethp2p_localnode *ln, int id) {
  if (ln == NULL || id <= 0)
    return;
  for (size_t i = 0; i < ETHP2P_LOCALNODE_MAX_SUBS; i++)
    if (ln->subs[i].cb != NULL && ln->subs[i].id == id)
      memset(&ln->subs[i], 0, sizeof ln->subs[i]);
}
