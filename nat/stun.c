/*
 * nat/stun.c — "stun[:servers]": the external address from STUN Binding
 * (RFC 8489), nothing mapped.
 *
 * - Servers: spec->stun_servers, "ip:port,ip:port..." (port defaults to 3478),
 *   IPv6 as "[v6]:port" or a bare v6 literal.  Each family has its own socket
 *   (opened on first use; IPv6 sockets are IPv6-only), so an IPv6 server
 *   answers with our IPv6 address (XOR-MAPPED-ADDRESS family 0x02).
 *   Only IP literals are used here: the library does no DNS (the command
 *   resolves host names before creating the NAT); other entries are skipped
 *   with a log line.  An empty list uses ETHP2P_NAT_STUN_DEFAULT_SERVERS, which
 *   is names only and so needs the command's resolution too; with no usable
 *   server external_ip fails at once with ETHP2P_ENOTFOUND.
 * - Retransmission (§6.2.1): RTO 500 ms doubling; RFC 8489 allows Rc = 7
 *   sends and a last wait of Rm × RTO (39.5 s).  We bound it: 4 sends (0,
 *   0.5, 1.5, 3.5 s) and give up on a server at 7.5 s, then try the next
 *   server.  When every server failed: ETHP2P_ETIMEDOUT (one connection
 *   failure counted) or the last error.
 * - Only a response with our transaction ID from the server's address counts.
 *   XOR-MAPPED-ADDRESS is preferred to MAPPED-ADDRESS (old RFC 3489 servers).
 *   An error response or a success carrying unknown comprehension-required
 *   attributes (§6.3.4) moves on to the next server.
 * - Callers asking while a query runs share its answer.
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/nat.h"
#include "nat/impl.h"
#include "nat/stun_codec.h"

#define STUN_MAX_SERVERS 8
#define STUN_SENDS_PER_SERVER 4
#define STUN_WAIT_PER_SERVER (15 * ETHP2P_STUN_RTO) /* 7.5 s */
#define STUN_MAX_WAITERS 16

typedef struct stun_waiter {
  ethp2p_nat_extip_cb cb;
  void *data;
} stun_waiter;

typedef struct stun_nat {
  ethp2p_nat base;
  ethp2p_addr servers[STUN_MAX_SERVERS];
  size_t n_servers;
  ethp2p_udp *udp;  /* IPv4 servers */
  ethp2p_udp *udp6; /* IPv6 servers (IPv6 sockets are IPv6-only) */
  ethp2p_timer *timer;
  bool running;
  size_t server; /* index being tried */
  unsigned sends;
  ethp2p_time started;
  int last_err;
  int open_err; /* the current server's socket could not be opened */
  uint8_t txid[ETHP2P_STUN_TXID_LEN];
  size_t n_waiters;
  stun_waiter waiters[STUN_MAX_WAITERS];
  int busy;
  bool destroyed;
} stun_nat;

static int stun_add(ethp2p_nat *nat, ethp2p_proto proto, uint16_t ext_hint, uint16_t internal_port,
                    const char *desc, uint32_t lifetime_s, ethp2p_nat_map_cb cb, void *data) {
  return ETHP2P_EUNSUPP;
}

static int stun_delete(ethp2p_nat *nat, ethp2p_proto proto, uint16_t external_port,
                       uint16_t internal_port, ethp2p_nat_done_cb cb, void *data) {
  return ETHP2P_EUNSUPP;
}

/* Calls every waiter with the outcome; returns true if the NAT died. */
static bool finish(stun_nat *s, int status, const ethp2p_addr *ip) {
  s->running = false;
  ethp2p_timer_stop(s->timer);
  size_t n = s->n_waiters;
  stun_waiter w[STUN_MAX_WAITERS];
  memcpy(w, s->waiters, n * sizeof w[0]);
  s->n_waiters = 0;
  s->busy++;
  for (size_t i = 0; i < n && !s->destroyed; i++)
    w[i].cb(&s->base, status, status == 0 ? ip : NULL, w[i].data);
  if (--s->busy == 0 && s->destroyed) {
    free(s);
    return true;
  }
  return s->destroyed;
}

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data);

/* The socket of the server's family, opened on first use. */
static int socket_for(stun_nat *s, const ethp2p_addr *server, ethp2p_udp **out) {
  ethp2p_udp **slot = server->family == 6 ? &s->udp6 : &s->udp;
  if (*slot == NULL) {
    ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, 0);
    if (server->family == 6) {
      memset(&any, 0, sizeof any);
      any.family = 6;
    }
    int rc = ethp2p_udp_open(s->base.env, slot, &any, 0, on_datagram, s);
    if (rc < 0) {
      *slot = NULL;
      return rc;
    }
  }
  *out = *slot;
  return 0;
}

static void send_request(stun_nat *s, ethp2p_time now) {
  ethp2p_stun_msg msg;
  memset(&msg, 0, sizeof msg);
  msg.type = ETHP2P_STUN_BINDING_REQUEST;
  memcpy(msg.txid, s->txid, sizeof s->txid);
  uint8_t buf[64];
  int n = ethp2p_stun_encode(buf, sizeof buf, &msg, NULL);
  const ethp2p_addr *to = &s->servers[s->server];
  ethp2p_udp *udp = NULL;
  int open_rc = socket_for(s, to, &udp);
  if (open_rc < 0) {
    /* e.g. no IPv6 here: skip to the next server on the next turn */
    char ab[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "No socket for this STUN server", "to=%s err=%s",
               ethp2p_addr_format(to, true, ab, sizeof ab), ethp2p_strerror(open_rc));
    s->open_err = open_rc;
    s->sends = STUN_SENDS_PER_SERVER;
    ethp2p_timer_start(s->timer, now);
    return;
  }
  if (n > 0) {
    int rc = ethp2p_udp_send(udp, to, buf, (size_t)n);
    char ab[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "STUN binding request", "to=%s try=%u err=%s",
               ethp2p_addr_format(to, true, ab, sizeof ab), s->sends + 1,
               rc < 0 ? ethp2p_strerror(rc) : "none");
  }
  if (s->sends == 0)
    s->started = now;
  s->sends++;
  ethp2p_time deadline = s->sends < STUN_SENDS_PER_SERVER
                             ? now + (ETHP2P_STUN_RTO << (s->sends - 1))
                             : s->started + STUN_WAIT_PER_SERVER;
  ethp2p_timer_start(s->timer, deadline);
}

/* Moves to the next server (new transaction) or finishes. */
static void next_server(stun_nat *s, ethp2p_time now) {
  s->server++;
  s->sends = 0;
  if (s->server >= s->n_servers) {
    finish(s, s->last_err, NULL);
    return;
  }
  ethp2p_env_random(s->base.env, s->txid, sizeof s->txid);
  send_request(s, now);
}

static void on_timer(ethp2p_timer *t, void *data) {
  stun_nat *s = data;
  if (!s->running)
    return;
  ethp2p_time now = ethp2p_env_now(s->base.env);
  if (s->sends == 0) {
    ethp2p_env_random(s->base.env, s->txid, sizeof s->txid);
    send_request(s, now);
  } else if (s->sends < STUN_SENDS_PER_SERVER) {
    send_request(s, now);
  } else {
    s->last_err = s->open_err != 0 ? s->open_err : ETHP2P_ETIMEDOUT;
    s->open_err = 0;
    next_server(s, now);
  }
}

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  stun_nat *s = data;
  if (!s->running || s->sends == 0 || !ethp2p_addr_equal(from, &s->servers[s->server], true))
    return;
  ethp2p_stun_msg msg;
  ethp2p_diag diag = {0};
  if (ethp2p_stun_decode(&msg, buf, len, &diag) != 0) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored malformed STUN message", "err=\"%s\" offset=%zu",
               diag.msg, diag.offset);
    return;
  }
  if (memcmp(msg.txid, s->txid, sizeof s->txid) != 0 ||
      (msg.type != ETHP2P_STUN_BINDING_SUCCESS && msg.type != ETHP2P_STUN_BINDING_ERROR)) {
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored STUN message for another transaction",
               "type=0x%04x", msg.type);
    return;
  }
  ethp2p_time now = ethp2p_env_now(s->base.env);
  const ethp2p_addr *ip = NULL;
  if (msg.type == ETHP2P_STUN_BINDING_SUCCESS && msg.n_unknown == 0) {
    if (msg.present & ETHP2P_STUN_HAS_XOR_MAPPED)
      ip = &msg.xor_mapped;
    else if (msg.present & ETHP2P_STUN_HAS_MAPPED)
      ip = &msg.mapped;
  }
  char ab[ETHP2P_ADDRSTRLEN];
  ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "STUN binding response", "type=0x%04x mapped=%s error=%u",
             msg.type, ip != NULL ? ethp2p_addr_format(ip, true, ab, sizeof ab) : "none",
             msg.error_code);
  if (ip == NULL) {
    s->last_err = msg.type == ETHP2P_STUN_BINDING_ERROR ? ETHP2P_EREFUSED : ETHP2P_EPROTO;
    next_server(s, now);
    return;
  }
  ethp2p_addr out = *ip;
  out.port = 0;
  finish(s, 0, &out);
}

static int stun_extip(ethp2p_nat *nat, ethp2p_nat_extip_cb cb, void *data) {
  stun_nat *s = (stun_nat *)nat;
  if (cb == NULL)
    return ETHP2P_EINVAL;
  if (s->n_servers == 0)
    return ETHP2P_ENOTFOUND;
  if (s->n_waiters == STUN_MAX_WAITERS)
    return ETHP2P_EBUSY;
  if (s->timer == NULL) {
    int rc = ethp2p_timer_create(nat->env, &s->timer, on_timer, s);
    if (rc < 0)
      return rc;
  }
  s->waiters[s->n_waiters].cb = cb;
  s->waiters[s->n_waiters].data = data;
  s->n_waiters++;
  if (!s->running) {
    s->running = true;
    s->server = 0;
    s->sends = 0;
    s->last_err = ETHP2P_ETIMEDOUT;
    ethp2p_timer_start(s->timer, ethp2p_env_now(nat->env));
  }
  return 0;
}

static void stun_destroy(ethp2p_nat *nat) {
  stun_nat *s = (stun_nat *)nat;
  ethp2p_udp_close(s->udp);
  ethp2p_udp_close(s->udp6);
  s->udp = s->udp6 = NULL;
  ethp2p_timer_destroy(s->timer);
  s->timer = NULL;
  s->n_waiters = 0;
  if (s->busy == 0)
    free(s);
  else
    s->destroyed = true;
}

static const ethp2p_nat_ops stun_ops = {
    .add_mapping = stun_add,
    .delete_mapping = stun_delete,
    .external_ip = stun_extip,
    .rediscover = NULL,
    .destroy = stun_destroy,
};

/* Parses "ip:port,ip:port" into s->servers, skipping names. */
static void parse_servers(stun_nat *s, const char *list) {
  const char *p = list;
  while (*p != '\0' && s->n_servers < STUN_MAX_SERVERS) {
    const char *end = strchr(p, ',');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    char one[128];
    if (n > 0 && n < sizeof one) {
      memcpy(one, p, n);
      one[n] = '\0';
      ethp2p_addr a;
      if (ethp2p_addr_parse(&a, one, ETHP2P_STUN_DEFAULT_PORT) == 0 && a.port != 0)
        s->servers[s->n_servers++] = a;
      else
        ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Skipped STUN server that is not an IP literal",
                   "server=%s", one);
    }
    p += n;
    if (*p == ',')
      p++;
  }
}

int ethp2p_nat_stun_create(ethp2p_env *env, const ethp2p_nat_spec *spec, ethp2p_nat **out) {
  *out = NULL;
  if (spec->kind != ETHP2P_NAT_STUN)
    return ETHP2P_EINVAL;
  stun_nat *s = calloc(1, sizeof *s);
  if (s == NULL)
    return ETHP2P_ENOMEM;
  s->base.ops = &stun_ops;
  s->base.env = env;
  s->base.spec = *spec;
  s->base.name = "STUN";
  s->base.caps = ETHP2P_NAT_CAP_POLL_EXTIP;
  parse_servers(s, spec->stun_servers[0] != '\0' ? spec->stun_servers
                                                 : ETHP2P_NAT_STUN_DEFAULT_SERVERS);
  *out = &s->base;
  return 0;
}
