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

  ethp2p_addr static_ip;
  ethp2p_addr fallback_ip;
  uint16_t fallback_udp;
  ethp2p_iptrack track;

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
  ethp2p_enr_seq_set(&next, seq);
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
    ethp2p_log(ETHP2P_LOG_DEBUG, LN_MODULE, "Local record signed", "id=%s seq=%" PRIu64
               " size=%zu", idh, seq, ethp2p_enr_encoded_len(&ln->cur));
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

/* Recomputes ip/udp from static > predicted > fallback. */
static void update_endpoint(ethp2p_localnode *ln) {
  ethp2p_addr ip, pred;
  uint16_t udp = ln->fallback_udp;

  memset(&ip, 0, sizeof ip);
  if (ln->fallback_ip.family == 4)
    ip = ln->fallback_ip;
  if (ln->static_ip.family == 4) {
    ip = ln->static_ip;
  } else if (ethp2p_iptrack_predict(&ln->track, ethp2p_env_now(ln->env), &pred) &&
             pred.family == 4) {
    ip = pred;
    udp = pred.port;
  }
  if (ip.family == 4 && !ethp2p_addr_is_unspecified(&ip))
    (void)ethp2p_enr_ip_set(&ln->work, ip.ip);
  else
    (void)del_key(&ln->work, "ip");
  if (udp != 0)
    (void)ethp2p_enr_port_set(&ln->work, ETHP2P_ENR_UDP, udp);
  else
    (void)del_key(&ln->work, "udp");
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
  ethp2p_iptrack_init(&ln->track, 0, 0, 0);
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

void ethp2p_localnode_id(const ethp2p_localnode *ln, uint8_t id[32]) { memcpy(id, ln->id, 32); }

int ethp2p_localnode_seq_error(const ethp2p_localnode *ln) { return ln->seq_err; }

int ethp2p_localnode_set_port(ethp2p_localnode *ln, ethp2p_enr_port which, uint16_t port) {
  const char *k = ethp2p_enr_port_key(which);
  int rc;
  if (ln == NULL || k == NULL)
    return ETHP2P_EINVAL;
  if (which == ETHP2P_ENR_UDP) {
    ethp2p_localnode_set_fallback_udp(ln, port);
    return 0;
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

static int set_ip(ethp2p_localnode *ln, ethp2p_addr *dst, const ethp2p_addr *ip) {
  if (ln == NULL)
    return ETHP2P_EINVAL;
  if (ip != NULL && ip->family != 0 && ip->family != 4)
    return ETHP2P_EUNSUPP;
  if (ip == NULL || ip->family == 0) {
    memset(dst, 0, sizeof *dst);
  } else {
    *dst = *ip;
    dst->port = 0;
  }
  update_endpoint(ln);
  return 0;
}

int ethp2p_localnode_set_static_ip(ethp2p_localnode *ln, const ethp2p_addr *ip) {
  return set_ip(ln, &ln->static_ip, ip);
}

int ethp2p_localnode_set_fallback_ip(ethp2p_localnode *ln, const ethp2p_addr *ip) {
  return set_ip(ln, &ln->fallback_ip, ip);
}

void ethp2p_localnode_set_fallback_udp(ethp2p_localnode *ln, uint16_t port) {
  ln->fallback_udp = port;
  update_endpoint(ln);
}

void ethp2p_localnode_udp_statement(ethp2p_localnode *ln, const ethp2p_addr *from,
                                    const ethp2p_addr *endpoint) {
  ethp2p_iptrack_add_statement(&ln->track, from, endpoint, ethp2p_env_now(ln->env));
  update_endpoint(ln);
}

void ethp2p_localnode_udp_contact(ethp2p_localnode *ln, const ethp2p_addr *to) {
  ethp2p_iptrack_add_contact(&ln->track, to, ethp2p_env_now(ln->env));
}

static void sink_ip(void *data, const ethp2p_addr *ip) {
  (void)ethp2p_localnode_set_static_ip(data, ip);
}
static void sink_tcp(void *data, uint16_t port) {
  (void)ethp2p_localnode_set_port(data, ETHP2P_ENR_TCP, port);
}
static void sink_udp(void *data, uint16_t port) { ethp2p_localnode_set_fallback_udp(data, port); }

void ethp2p_localnode_portmap_sink(ethp2p_localnode *ln, ethp2p_portmap_sink *out) {
  out->set_ip = sink_ip;
  out->set_tcp = sink_tcp;
  out->set_udp = sink_udp;
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
