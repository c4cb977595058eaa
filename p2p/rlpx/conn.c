/*
 * p2p/rlpx/conn.c — one RLPx connection on the environment's TCP: the
 * auth/ack handshake, the Hello exchange, framed messages with snappy,
 * Ping/Pong keepalive, timeouts and Disconnect (rlpx.md "Initial Handshake",
 * "Framing", "P2P Capability").
 *
 * Memory: the handshake state (about 4 KB) lives only until the secrets are
 * derived; the read buffer holds at most one frame (bounded by max_frame) plus
 * the rest of the last read chunk, and is freed whenever it is empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/rlp.h"
#include "ethp2p/rlpx.h"
#include "ethp2p/secp.h"

#define DEFAULT_HS_TIMEOUT (5 * ETHP2P_SEC)
#define DEFAULT_PING_INTERVAL (15 * ETHP2P_SEC)
#define DEFAULT_READ_TIMEOUT (30 * ETHP2P_SEC)
#define CLOSE_LINGER (2 * ETHP2P_SEC)

enum conn_state { ST_CONNECTING, ST_HANDSHAKE, ST_HELLO, ST_UP, ST_CLOSING, ST_CLOSED };

struct ethp2p_rlpx_conn {
  ethp2p_env *env;
  ethp2p_tcp *tcp;
  ethp2p_timer *timer;
  ethp2p_rlpx_conn_cbs cbs;
  void *data;
  void *user;
  /* configuration (copied) */
  uint8_t secret[32];
  uint8_t pub[64];
  char client_id[ETHP2P_RLPX_CLIENT_ID_MAX + 1];
  ethp2p_rlpx_cap *caps;
  size_t ncaps;
  uint16_t listen_port;
  bool mirror_caps;
  ethp2p_time hs_timeout, ping_interval, read_timeout;
  size_t max_frame;
  /* session */
  enum conn_state state;
  bool dialed;
  bool have_remote_pub;
  uint8_t remote_pub[64];
  ethp2p_addr peer;
  ethp2p_rlpx_hs *hs;
  ethp2p_rlpx_frame *frame;
  ethp2p_rlpx_hello *remote_hello;
  bool hello_sent, hello_recv, snappy;
  /* reading */
  uint8_t *rbuf;
  size_t rlen, rcap;
  bool in_body;
  size_t body_len, body_need;
  /* time */
  ethp2p_time hs_deadline, last_read, next_ping, ping_sent, close_at, auth_sent, hs_rtt;
  bool ping_out;
  uint64_t bytes_in, bytes_out;
  ethp2p_rlpx_close_info info;
  int busy;
  bool dead;
};

static ethp2p_time now_of(ethp2p_rlpx_conn *c) {
  return ethp2p_env_now(c->env);
}

static void conn_free(ethp2p_rlpx_conn *c) {
  ethp2p_timer_destroy(c->timer);
  ethp2p_tcp_close(c->tcp);
  ethp2p_rlpx_frame_destroy(c->frame);
  if (c->hs != NULL) {
    ethp2p_rlpx_hs_wipe(c->hs);
    free(c->hs);
  }
  free(c->remote_hello);
  free(c->rbuf);
  free(c->caps);
  ethp2p_secp_wipe(c->secret, sizeof c->secret);
  free(c);
}

/* Enter/leave a callback from the environment: frees a conn destroyed meanwhile. */
static void enter(ethp2p_rlpx_conn *c) {
  c->busy++;
}
static void leave(ethp2p_rlpx_conn *c) {
  if (--c->busy == 0 && c->dead)
    conn_free(c);
}

/* Ends the connection: closes the socket, reports on_close once. */
static void finish(ethp2p_rlpx_conn *c) {
  if (c->state == ST_CLOSED || c->dead)
    return;
  c->state = ST_CLOSED;
  ethp2p_tcp_close(c->tcp);
  c->tcp = NULL;
  ethp2p_timer_stop(c->timer);
  ethp2p_log(ETHP2P_LOG_DEBUG, "rlpx", "Connection closed", "error=%s reason=%d remote=%d",
             c->info.error ? ethp2p_strerror(c->info.error) : "none", c->info.reason,
             (int)c->info.remote);
  c->busy++;
  if (c->cbs.on_close != NULL)
    c->cbs.on_close(c, &c->info, c->data);
  c->busy--;
  c->dead = true;
  if (c->busy == 0)
    conn_free(c);
}

static void rearm(ethp2p_rlpx_conn *c) {
  ethp2p_time t = 0;
  if (c->state == ST_CLOSED || c->dead)
    return;
  if (c->state == ST_CLOSING)
    t = c->close_at;
  else if (c->state != ST_UP)
    t = c->hs_deadline;
  else {
    t = c->last_read + c->read_timeout;
    if (c->next_ping < t)
      t = c->next_ping;
  }
  ethp2p_timer_start(c->timer, t);
}

static int write_raw(ethp2p_rlpx_conn *c, const uint8_t *buf, size_t len) {
  int rc = ethp2p_tcp_write(c->tcp, buf, len);
  if (rc == 0)
    c->bytes_out += len;
  return rc;
}

/* Frames and writes one message; the payload is compressed when snappy is on. */
static int send_msg(ethp2p_rlpx_conn *c, uint64_t code, const uint8_t *payload, size_t len) {
  size_t hdr = ethp2p_rlp_uint64_len(code), max_body, body_len, wire_len;
  uint8_t *buf, *body;
  ethp2p_rlp_enc e;
  int rc;
  if (c->frame == NULL || c->tcp == NULL)
    return ETHP2P_ESTATE;
  if (len > ETHP2P_RLPX_MSG_MAX)
    return ETHP2P_ETOOBIG;
  max_body = hdr + (c->snappy && code != ETHP2P_RLPX_MSG_HELLO ? ethp2p_rlpx_snappy_max(len) : len);
  if (max_body > ETHP2P_RLPX_FRAME_MAX)
    return ETHP2P_ETOOBIG;
  buf = malloc(ethp2p_rlpx_frame_len(max_body));
  if (buf == NULL)
    return ETHP2P_ENOMEM;
  body = buf + ETHP2P_RLPX_FRAME_HEADER;
  ethp2p_rlp_enc_init(&e, body, hdr);
  ethp2p_rlp_enc_uint64(&e, code);
  rc = ethp2p_rlp_enc_finish(&e, NULL);
  body_len = hdr;
  if (rc == 0 && c->snappy && code != ETHP2P_RLPX_MSG_HELLO) {
    size_t n = 0;
    rc = ethp2p_rlpx_snappy_compress(body + hdr, max_body - hdr, &n, payload, len);
    body_len += n;
  } else if (rc == 0 && len > 0) {
    memcpy(body + hdr, payload, len);
    body_len += len;
  }
  if (rc == 0)
    rc = ethp2p_rlpx_frame_seal(c->frame, buf, ethp2p_rlpx_frame_len(max_body), &wire_len, body,
                                body_len);
  if (rc == 0)
    rc = write_raw(c, buf, wire_len);
  free(buf);
  return rc;
}

static int send_hello(ethp2p_rlpx_conn *c, const ethp2p_rlpx_cap *caps, size_t ncaps) {
  ethp2p_rlpx_hello *h = calloc(1, sizeof *h);
  uint8_t buf[2048];
  size_t n;
  int rc;
  if (h == NULL)
    return ETHP2P_ENOMEM;
  h->version = ETHP2P_RLPX_VERSION;
  memcpy(h->client_id, c->client_id, sizeof h->client_id);
  if (ncaps > ETHP2P_RLPX_MAX_CAPS)
    ncaps = ETHP2P_RLPX_MAX_CAPS;
  if (ncaps > 0)
    memcpy(h->caps, caps, ncaps * sizeof *caps);
  h->ncaps = ncaps;
  h->listen_port = c->listen_port;
  memcpy(h->id, c->pub, 64);
  rc = ethp2p_rlpx_hello_encode(buf, sizeof buf, &n, h);
  free(h);
  if (rc == 0)
    rc = send_msg(c, ETHP2P_RLPX_MSG_HELLO, buf, n);
  if (rc == 0)
    c->hello_sent = true;
  return rc;
}

/* Fails the connection with err; sends Disconnect(reason) first when the session
 * is up and reason >= 0. */
static void fail(ethp2p_rlpx_conn *c, int err, int reason) {
  if (c->state == ST_CLOSED || c->dead)
    return;
  if (reason >= 0 && c->frame != NULL && c->state != ST_CLOSING) {
    uint8_t d[4];
    size_t n;
    if (ethp2p_rlpx_disconnect_encode(d, sizeof d, &n, (unsigned)reason) == 0)
      (void)send_msg(c, ETHP2P_RLPX_MSG_DISCONNECT, d, n);
  }
  c->info.error = err;
  if (reason >= 0) {
    c->info.reason = reason;
    c->info.remote = false;
  }
  ethp2p_log(ETHP2P_LOG_DEBUG, "rlpx", "Dropping peer", "error=%s reason=%d", ethp2p_strerror(err),
             reason);
  finish(c);
}

static void maybe_up(ethp2p_rlpx_conn *c) {
  ethp2p_time now;
  if (!c->hello_sent || !c->hello_recv || c->state != ST_HELLO)
    return;
  c->state = ST_UP;
  c->info.handshake_done = true;
  now = now_of(c);
  c->last_read = now;
  c->next_ping = now + c->ping_interval;
  rearm(c);
  if (c->cbs.on_up != NULL)
    c->cbs.on_up(c, c->remote_hello, c->data);
}

static void on_hello(ethp2p_rlpx_conn *c, const uint8_t *p, size_t n) {
  ethp2p_diag d;
  int rc;
  if (c->hello_recv) {
    fail(c, ETHP2P_EPROTO, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
    return;
  }
  c->remote_hello = calloc(1, sizeof *c->remote_hello);
  if (c->remote_hello == NULL) {
    fail(c, ETHP2P_ENOMEM, ETHP2P_RLPX_DISC_TCP_ERROR);
    return;
  }
  memset(&d, 0, sizeof d);
  rc = ethp2p_rlpx_hello_decode(c->remote_hello, p, n, &d);
  if (rc != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "rlpx", "Bad Hello", "err=\"%s\"", d.msg);
    fail(c, rc, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
    return;
  }
  if (memcmp(c->remote_hello->id, c->remote_pub, 64) != 0) {
    fail(c, ETHP2P_EKEY, ETHP2P_RLPX_DISC_UNEXPECTED_IDENTITY);
    return;
  }
  c->hello_recv = true;
  c->snappy = c->remote_hello->version >= 5;
  if (!c->hello_sent) {
    rc = send_hello(c, c->mirror_caps ? c->remote_hello->caps : c->caps,
                    c->mirror_caps ? c->remote_hello->ncaps : c->ncaps);
    if (rc != 0) {
      fail(c, rc, -1);
      return;
    }
  }
  maybe_up(c);
}

/* One decrypted frame: rlp(msg-id) || payload. */
static void on_frame(ethp2p_rlpx_conn *c, const uint8_t *body, size_t len) {
  ethp2p_rlp_item id;
  size_t used;
  uint64_t code;
  const uint8_t *p;
  size_t n;
  uint8_t *plain = NULL;
  if (ethp2p_rlp_decode_prefix(&id, &used, body, len, 0, NULL) != 0 ||
      ethp2p_rlp_uint64(&code, &id, NULL) != 0) {
    fail(c, ETHP2P_EPROTO, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
    return;
  }
  p = body + used;
  n = len - used;
  c->last_read = now_of(c);
  if (!c->hello_recv && code != ETHP2P_RLPX_MSG_HELLO && code != ETHP2P_RLPX_MSG_DISCONNECT) {
    fail(c, ETHP2P_EPROTO, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
    return;
  }
  if (code == ETHP2P_RLPX_MSG_HELLO) {
    on_hello(c, p, n);
    return;
  }
  if (c->snappy) {
    int rc = ethp2p_rlpx_snappy_uncompress(&plain, &n, p, n, ETHP2P_RLPX_MSG_MAX);
    if (rc != 0 && code == ETHP2P_RLPX_MSG_DISCONNECT) {
      /* Some peers (ethereumjs) send Disconnect uncompressed even after Hello v5:
       * read the reason from the raw bytes then, as they do themselves. */
      n = len - used;
      rc = 0;
    } else if (rc == 0) {
      p = plain;
    }
    if (rc != 0) {
      fail(c, rc, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
      return;
    }
  }
  switch (code) {
  case ETHP2P_RLPX_MSG_DISCONNECT: {
    unsigned reason = 0;
    if (ethp2p_rlpx_disconnect_decode(&reason, p, n) != 0)
      reason = ETHP2P_RLPX_DISC_PROTOCOL_ERROR;
    c->info.error = 0;
    c->info.reason = (int)reason;
    c->info.remote = true;
    ethp2p_log(ETHP2P_LOG_DEBUG, "rlpx", "Peer disconnected", "reason=\"%s\"",
               ethp2p_rlpx_reason_string(reason));
    finish(c);
    break;
  }
  case ETHP2P_RLPX_MSG_PING: {
    static const uint8_t empty[1] = {0xc0};
    int rc = send_msg(c, ETHP2P_RLPX_MSG_PONG, empty, 1);
    if (rc != 0)
      fail(c, rc, -1);
    break;
  }
  case ETHP2P_RLPX_MSG_PONG:
    if (c->ping_out) {
      c->ping_out = false;
      if (c->cbs.on_pong != NULL)
        c->cbs.on_pong(c, now_of(c) - c->ping_sent, c->data);
    }
    break;
  default:
    if (code < ETHP2P_RLPX_BASE_LEN)
      break; /* unknown base-protocol message: ignored */
    if (c->state == ST_UP && c->cbs.on_msg != NULL)
      c->cbs.on_msg(c, code, p, n, c->data);
    break;
  }
  free(plain);
}

/* Secrets are in: set up the frame codec and drop the handshake state. */
static int start_session(ethp2p_rlpx_conn *c) {
  ethp2p_rlpx_secrets s;
  int rc = ethp2p_rlpx_hs_secrets(c->hs, &s);
  if (rc == 0)
    rc = ethp2p_rlpx_frame_create(&c->frame, &s);
  ethp2p_secp_wipe(&s, sizeof s);
  if (rc != 0)
    return rc;
  if (!c->have_remote_pub) {
    memcpy(c->remote_pub, c->hs->remote_pub, 64);
    c->have_remote_pub = true;
  }
  ethp2p_rlpx_hs_wipe(c->hs);
  free(c->hs);
  c->hs = NULL;
  c->state = ST_HELLO;
  if (!(c->dialed && c->mirror_caps))
    return send_hello(c, c->caps, c->ncaps);
  return 0;
}

static void random_bytes(ethp2p_rlpx_conn *c, uint8_t *p, size_t n) {
  ethp2p_env_random(c->env, p, n);
}

/* Consumes complete handshake packets and frames from rbuf. */
static void process(ethp2p_rlpx_conn *c) {
  size_t off = 0;
  while (!c->dead && c->state != ST_CLOSED && c->state != ST_CLOSING) {
    const uint8_t *in = c->rbuf + off;
    size_t avail = c->rlen - off;
    int rc;
    if (c->state == ST_HANDSHAKE) {
      size_t used = 0;
      rc = c->dialed ? ethp2p_rlpx_hs_read_ack(c->hs, in, avail, &used)
                     : ethp2p_rlpx_hs_read_auth(c->hs, in, avail, &used);
      if (rc == ETHP2P_ETRUNC)
        break;
      if (rc == 0 && !c->dialed) {
        uint8_t ack[ETHP2P_RLPX_HS_MAX], rnd[ETHP2P_RLPX_HS_RANDOM_LEN];
        size_t n = 0;
        random_bytes(c, rnd, sizeof rnd);
        rc = ethp2p_rlpx_hs_write_ack(c->hs, ack, sizeof ack, &n, rnd);
        if (rc == 0)
          rc = write_raw(c, ack, n);
      }
      if (rc == 0 && c->dialed)
        c->hs_rtt = now_of(c) - c->auth_sent;
      if (rc == 0)
        rc = start_session(c);
      if (rc != 0) {
        ethp2p_log(ETHP2P_LOG_DEBUG, "rlpx", "Handshake failed", "err=%s", ethp2p_strerror(rc));
        fail(c, rc, -1);
        return;
      }
      off += used;
      continue;
    }
    if (!c->in_body) {
      if (avail < ETHP2P_RLPX_FRAME_HEADER)
        break;
      rc = ethp2p_rlpx_frame_open_header(c->frame, in, c->max_frame, &c->body_len, &c->body_need);
      if (rc != 0) {
        fail(c, rc, rc == ETHP2P_ETOOBIG ? ETHP2P_RLPX_DISC_PROTOCOL_ERROR : -1);
        return;
      }
      c->in_body = true;
      off += ETHP2P_RLPX_FRAME_HEADER;
      continue;
    }
    if (avail < c->body_need)
      break;
    rc = ethp2p_rlpx_frame_open_body(c->frame, c->rbuf + off, c->body_need);
    if (rc != 0) {
      fail(c, rc, -1);
      return;
    }
    c->in_body = false;
    off += c->body_need;
    on_frame(c, c->rbuf + off - c->body_need, c->body_len);
  }
  if (c->dead || c->state == ST_CLOSED)
    return;
  /* Keep the unread tail; free the buffer when empty so idle peers hold nothing. */
  if (off > 0) {
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
  }
  if (c->rlen == 0) {
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = 0;
  }
}

/* Most bytes that may sit in rbuf: a handshake packet, or a header and one body. */
static size_t read_cap(const ethp2p_rlpx_conn *c) {
  if (c->state == ST_HANDSHAKE)
    return ETHP2P_RLPX_HS_MAX;
  return ETHP2P_RLPX_FRAME_HEADER + c->max_frame + 16 + 16;
}

static void on_read(ethp2p_tcp *tcp, int status, const uint8_t *buf, size_t len, void *data) {
  ethp2p_rlpx_conn *c = data;
  (void)tcp;
  enter(c);
  if (status != 0) {
    if (c->state != ST_CLOSING)
      c->info.error = status;
    finish(c);
    leave(c);
    return;
  }
  c->bytes_in += len;
  if (c->state == ST_CLOSING) { /* draining after our Disconnect */
    leave(c);
    return;
  }
  while (len > 0 && !c->dead && c->state != ST_CLOSED && c->state != ST_CLOSING) {
    /* Append at most what the current state may need, then process. */
    size_t room = read_cap(c) - c->rlen, take = len < 65536 ? len : 65536;
    if (room == 0) {
      fail(c, ETHP2P_ETOOBIG, ETHP2P_RLPX_DISC_PROTOCOL_ERROR);
      break;
    }
    if (take > room)
      take = room;
    if (c->rlen + take > c->rcap) {
      uint8_t *nb = realloc(c->rbuf, c->rlen + take);
      if (nb == NULL) {
        fail(c, ETHP2P_ENOMEM, ETHP2P_RLPX_DISC_TCP_ERROR);
        break;
      }
      c->rbuf = nb;
      c->rcap = c->rlen + take;
    }
    memcpy(c->rbuf + c->rlen, buf, take);
    c->rlen += take;
    buf += take;
    len -= take;
    process(c);
  }
  rearm(c);
  leave(c);
}

static void on_timer(ethp2p_timer *t, void *data) {
  ethp2p_rlpx_conn *c = data;
  ethp2p_time now = now_of(c);
  (void)t;
  enter(c);
  if (c->state == ST_CLOSING) {
    if (now >= c->close_at)
      finish(c);
  } else if (c->state != ST_UP && c->state != ST_CLOSED) {
    if (now >= c->hs_deadline)
      fail(c, ETHP2P_ETIMEDOUT, -1);
  } else if (c->state == ST_UP) {
    if (now >= c->last_read + c->read_timeout) {
      fail(c, ETHP2P_ETIMEDOUT, ETHP2P_RLPX_DISC_READ_TIMEOUT);
    } else if (now >= c->next_ping) {
      (void)ethp2p_rlpx_conn_ping(c);
      c->next_ping = now + c->ping_interval;
    }
  }
  rearm(c);
  leave(c);
}

static int conn_new(ethp2p_rlpx_conn **out, ethp2p_env *env, const ethp2p_rlpx_conn_config *cfg,
                    const ethp2p_rlpx_conn_cbs *cbs, void *data) {
  ethp2p_rlpx_conn *c;
  int rc;
  *out = NULL;
  if (env == NULL || cfg == NULL || cfg->secret == NULL || (cfg->caps == NULL && cfg->ncaps) ||
      cfg->ncaps > ETHP2P_RLPX_MAX_CAPS)
    return ETHP2P_EINVAL;
  c = calloc(1, sizeof *c);
  if (c == NULL)
    return ETHP2P_ENOMEM;
  c->env = env;
  if (cbs != NULL)
    c->cbs = *cbs;
  c->data = data;
  rc = ethp2p_secp_pubkey(NULL, c->pub, cfg->secret);
  if (rc != 0) {
    free(c);
    return rc;
  }
  memcpy(c->secret, cfg->secret, 32);
  snprintf(c->client_id, sizeof c->client_id, "%s",
           cfg->client_id ? cfg->client_id : ETHP2P_RLPX_DEFAULT_CLIENT_ID);
  if (cfg->ncaps > 0) {
    c->caps = malloc(cfg->ncaps * sizeof *c->caps);
    if (c->caps == NULL) {
      conn_free(c);
      return ETHP2P_ENOMEM;
    }
    memcpy(c->caps, cfg->caps, cfg->ncaps * sizeof *c->caps);
    c->ncaps = cfg->ncaps;
  }
  c->listen_port = cfg->listen_port;
  c->mirror_caps = cfg->mirror_caps;
  c->hs_timeout = cfg->handshake_timeout ? cfg->handshake_timeout : DEFAULT_HS_TIMEOUT;
  c->ping_interval = cfg->ping_interval ? cfg->ping_interval : DEFAULT_PING_INTERVAL;
  c->read_timeout = cfg->read_timeout ? cfg->read_timeout : DEFAULT_READ_TIMEOUT;
  c->max_frame = cfg->max_frame && cfg->max_frame < ETHP2P_RLPX_FRAME_MAX ? cfg->max_frame
                                                                          : ETHP2P_RLPX_FRAME_MAX;
  c->info.reason = -1;
  rc = ethp2p_timer_create(env, &c->timer, on_timer, c);
  if (rc == 0) {
    c->hs = calloc(1, sizeof *c->hs);
    if (c->hs == NULL)
      rc = ETHP2P_ENOMEM;
  }
  if (rc != 0) {
    conn_free(c);
    return rc;
  }
  c->hs_deadline = ethp2p_env_now(env) + c->hs_timeout;
  *out = c;
  return 0;
}

/* Fresh ephemeral key and nonce, then the handshake state for our role. */
static int hs_start(ethp2p_rlpx_conn *c) {
  uint8_t eph[32], nonce[32];
  int rc, tries;
  for (tries = 0; tries < 4; tries++) {
    random_bytes(c, eph, sizeof eph);
    if (ethp2p_secp_secret_check(eph) == 0)
      break;
  }
  random_bytes(c, nonce, sizeof nonce);
  rc = ethp2p_rlpx_hs_init(c->hs, c->dialed, c->secret, eph, nonce,
                           c->dialed ? c->remote_pub : NULL);
  ethp2p_secp_wipe(eph, sizeof eph);
  return rc;
}

static void on_connect(ethp2p_tcp *tcp, int status, void *data) {
  ethp2p_rlpx_conn *c = data;
  uint8_t auth[ETHP2P_RLPX_HS_MAX], rnd[ETHP2P_RLPX_HS_RANDOM_LEN];
  size_t n = 0;
  int rc = status;
  (void)tcp;
  enter(c);
  if (rc == 0) {
    c->state = ST_HANDSHAKE;
    (void)ethp2p_tcp_peer_addr(c->tcp, &c->peer);
    random_bytes(c, rnd, sizeof rnd);
    rc = ethp2p_rlpx_hs_write_auth(c->hs, auth, sizeof auth, &n, rnd);
  }
  if (rc == 0)
    rc = ethp2p_tcp_read_start(c->tcp, on_read, c);
  if (rc == 0) {
    c->auth_sent = now_of(c);
    rc = write_raw(c, auth, n);
  }
  if (rc != 0)
    fail(c, rc, -1);
  else
    rearm(c);
  leave(c);
}

int ethp2p_rlpx_conn_dial(ethp2p_rlpx_conn **out, ethp2p_env *env,
                          const ethp2p_rlpx_conn_config *cfg, const uint8_t remote_pub[64],
                          const ethp2p_addr *to, const ethp2p_rlpx_conn_cbs *cbs, void *data) {
  ethp2p_rlpx_conn *c;
  int rc;
  if (out == NULL)
    return ETHP2P_EINVAL;
  *out = NULL;
  if (remote_pub == NULL || to == NULL)
    return ETHP2P_EINVAL;
  if (ethp2p_secp_pub64_check(remote_pub) != 0)
    return ETHP2P_EKEY;
  rc = conn_new(&c, env, cfg, cbs, data);
  if (rc != 0)
    return rc;
  c->dialed = true;
  c->peer = *to;
  memcpy(c->remote_pub, remote_pub, 64);
  c->have_remote_pub = true;
  rc = hs_start(c);
  if (rc == 0)
    rc = ethp2p_tcp_connect(env, &c->tcp, to, NULL, on_connect, c);
  if (rc != 0) {
    c->tcp = NULL;
    conn_free(c);
    return rc;
  }
  c->state = ST_CONNECTING;
  rearm(c);
  *out = c;
  return 0;
}

int ethp2p_rlpx_conn_accept(ethp2p_rlpx_conn **out, ethp2p_env *env,
                            const ethp2p_rlpx_conn_config *cfg, ethp2p_tcp *tcp,
                            const ethp2p_rlpx_conn_cbs *cbs, void *data) {
  ethp2p_rlpx_conn *c;
  int rc;
  if (out == NULL || tcp == NULL) {
    ethp2p_tcp_close(tcp);
    return ETHP2P_EINVAL;
  }
  rc = conn_new(&c, env, cfg, cbs, data);
  if (rc != 0) {
    ethp2p_tcp_close(tcp);
    return rc;
  }
  c->tcp = tcp;
  (void)ethp2p_tcp_peer_addr(tcp, &c->peer);
  rc = hs_start(c);
  if (rc == 0)
    rc = ethp2p_tcp_read_start(tcp, on_read, c);
  if (rc != 0) {
    conn_free(c);
    return rc;
  }
  c->state = ST_HANDSHAKE;
  rearm(c);
  *out = c;
  return 0;
}

int ethp2p_rlpx_conn_send(ethp2p_rlpx_conn *c, uint64_t code, const uint8_t *payload, size_t len) {
  if (c == NULL || (payload == NULL && len))
    return ETHP2P_EINVAL;
  if (c->state != ST_UP || c->dead)
    return ETHP2P_ESTATE;
  return send_msg(c, code, payload, len);
}

int ethp2p_rlpx_conn_ping(ethp2p_rlpx_conn *c) {
  static const uint8_t empty[1] = {0xc0};
  int rc;
  if (c == NULL)
    return ETHP2P_EINVAL;
  if (c->state != ST_UP || c->dead)
    return ETHP2P_ESTATE;
  rc = send_msg(c, ETHP2P_RLPX_MSG_PING, empty, 1);
  if (rc == 0 && !c->ping_out) {
    c->ping_out = true;
    c->ping_sent = now_of(c);
  }
  return rc;
}

void ethp2p_rlpx_conn_disconnect(ethp2p_rlpx_conn *c, unsigned reason) {
  if (c == NULL || c->dead || c->state == ST_CLOSED || c->state == ST_CLOSING)
    return;
  if (c->frame != NULL) {
    uint8_t d[4];
    size_t n;
    if (ethp2p_rlpx_disconnect_encode(d, sizeof d, &n, reason) == 0)
      (void)send_msg(c, ETHP2P_RLPX_MSG_DISCONNECT, d, n);
    (void)ethp2p_tcp_shutdown(c->tcp);
  }
  c->info.error = 0;
  c->info.reason = (int)reason;
  c->info.remote = false;
  c->state = ST_CLOSING;
  c->close_at = now_of(c) + (c->frame != NULL ? CLOSE_LINGER : 0);
  rearm(c);
}

void ethp2p_rlpx_conn_destroy(ethp2p_rlpx_conn *c) {
  if (c == NULL || c->dead)
    return;
  c->dead = true;
  c->state = ST_CLOSED;
  if (c->busy == 0)
    conn_free(c);
}

const ethp2p_rlpx_hello *ethp2p_rlpx_conn_remote_hello(const ethp2p_rlpx_conn *c) {
  return c != NULL && c->hello_recv ? c->remote_hello : NULL;
}
const uint8_t *ethp2p_rlpx_conn_remote_pub(const ethp2p_rlpx_conn *c) {
  return c != NULL && c->have_remote_pub ? c->remote_pub : NULL;
}
bool ethp2p_rlpx_conn_dialed(const ethp2p_rlpx_conn *c) {
  return c != NULL && c->dialed;
}
ethp2p_addr ethp2p_rlpx_conn_peer_addr(const ethp2p_rlpx_conn *c) {
  ethp2p_addr a;
  memset(&a, 0, sizeof a);
  return c != NULL ? c->peer : a;
}
ethp2p_time ethp2p_rlpx_conn_handshake_rtt(const ethp2p_rlpx_conn *c) {
  return c != NULL ? c->hs_rtt : 0;
}
void ethp2p_rlpx_conn_bytes(const ethp2p_rlpx_conn *c, uint64_t *in, uint64_t *out) {
  if (in != NULL)
    *in = c != NULL ? c->bytes_in : 0;
  if (out != NULL)
    *out = c != NULL ? c->bytes_out : 0;
}
void ethp2p_rlpx_conn_set_user(ethp2p_rlpx_conn *c, void *user) {
  if (c != NULL)
    c->user = user;
}
void *ethp2p_rlpx_conn_user(const ethp2p_rlpx_conn *c) {
  return c != NULL ? c->user : NULL;
}
