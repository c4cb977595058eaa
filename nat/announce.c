/*
 * nat/announce.c — listener for gateway announcements on 224.0.0.1:5350, and
 * for an IPv6 PCP server's on [ff02::1]:5350.
 *
 * RFC 6886 §3.2.1: on boot and on external address change a NAT-PMP gateway
 * multicasts its external-address response (opcode 128) to 224.0.0.1:5350,
 * up to 10 times at doubling intervals.  RFC 6887 §14.1.3: a PCP server that
 * lost state multicasts an unsolicited ANNOUNCE response to the same address.
 * Only packets from the gateway's IP and port 5351 are believed: anybody on
 * the LAN can send to the group.  See nat/impl.h for the contract.
 *
 * §14.1.3 asks a client that learns of a restart from an ANNOUNCE to wait a
 * random 0 to 5 s before renewing, so that every client on the LAN does not
 * hit the restarted server at once: for a PCP client
 * (ethp2p_nat_announce_set_pcp_delay) the STATE_LOST of a PCP ANNOUNCE is
 * raised after such a delay (from env random), one per restart (announcements
 * that arrive meanwhile are folded).  A NAT-PMP announcement, and any
 * announcement for a NAT-PMP client (RFC 6886 §3.2.1 asks for no delay),
 * raises it at once.
 */
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "nat/impl.h"
#include "nat/pcp_codec.h"
#include "nat/pmp_codec.h"

struct ethp2p_nat_announce {
  ethp2p_env *env;
  ethp2p_udp *udp;        /* 224.0.0.1:5350 */
  ethp2p_udp *legacy_udp; /* 224.0.0.1:5351, best effort */
  ethp2p_addr gateway;
  ethp2p_nat_epoch own_epoch;
  ethp2p_nat_epoch *epoch;
  bool have_ip;
  ethp2p_addr last_ip;
  unsigned ignored;
  ethp2p_timer *delay; /* a PCP restart's STATE_LOST, after the §14.1.3 delay */
  bool delay_armed;
  bool pcp_delay;   /* the owner is a PCP client: apply the §14.1.3 delay */
  bool dispatching; /* inside a callback: stop() defers the free */
  bool dead;        /* stopped while dispatching */
  ethp2p_nat_announce_cb cb;
  void *data;
};

static void on_pmp(ethp2p_nat_announce *a, const uint8_t *buf, size_t len, ethp2p_time now) {
  ethp2p_pmp_reply r;
  ethp2p_diag diag;
  if (ethp2p_pmp_reply_decode(&r, buf, len, &diag) != 0 || r.opcode != ETHP2P_PMP_OP_EXTADDR ||
      r.result != 0 || r.header_only) {
    a->ignored++;
    return;
  }
  ethp2p_addr ip =
      ethp2p_addr_v4(r.external_ip[0], r.external_ip[1], r.external_ip[2], r.external_ip[3], 0);
  bool lost = ethp2p_nat_epoch_update(a->epoch, false, r.epoch_s, now);
  bool news = !a->have_ip || !ethp2p_addr_equal(&ip, &a->last_ip, false);
  a->have_ip = true;
  a->last_ip = ip;
  char ipbuf[ETHP2P_ADDRSTRLEN];
  ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "NAT-PMP announcement", "epoch=%u extip=%s lost=%d new=%d",
             (unsigned)r.epoch_s, ethp2p_addr_format(&ip, false, ipbuf, sizeof ipbuf), lost, news);
  if (lost)
    a->cb(a->data, ETHP2P_NAT_EV_STATE_LOST, NULL);
  if (news && !a->dead) /* the first callback may have stopped us */
    a->cb(a->data, ETHP2P_NAT_EV_EXTIP_ANNOUNCED, &ip);
}

static void on_pcp(ethp2p_nat_announce *a, const uint8_t *buf, size_t len, ethp2p_time now) {
  ethp2p_pcp_response r;
  ethp2p_diag diag;
  if (ethp2p_pcp_response_decode(&r, buf, len, &diag) != 0 || r.opcode != ETHP2P_PCP_OP_ANNOUNCE ||
      r.result != ETHP2P_PCP_RESULT_SUCCESS) {
    a->ignored++;
    return;
  }
  bool lost = ethp2p_nat_epoch_update(a->epoch, true, r.epoch_s, now);
  ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "PCP ANNOUNCE", "epoch=%u lost=%d", (unsigned)r.epoch_s,
             lost);
  if (!lost)
    return;
  if (a->delay == NULL || !a->pcp_delay) {
    a->cb(a->data, ETHP2P_NAT_EV_STATE_LOST, NULL); /* NAT-PMP owner, or no timer: at once */
    return;
  }
  if (a->delay_armed)
    return; /* this restart is already being reported */
  uint8_t b[2];
  ethp2p_env_random(a->env, b, sizeof b);
  ethp2p_time wait = ETHP2P_NAT_ANNOUNCE_MAX_DELAY / 1000 * (((unsigned)b[0] << 8 | b[1]) % 1001);
  a->delay_armed = true;
  ethp2p_timer_start(a->delay, now + wait);
}

static void on_delay(ethp2p_timer *t, void *data) {
  ethp2p_nat_announce *a = data;
  (void)t;
  a->delay_armed = false;
  a->dispatching = true;
  a->cb(a->data, ETHP2P_NAT_EV_STATE_LOST, NULL);
  a->dispatching = false;
  if (a->dead)
    free(a);
}

static void on_datagram(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                        void *data) {
  ethp2p_nat_announce *a = data;
  if (!ethp2p_addr_equal(from, &a->gateway, false) || from->port != ETHP2P_PMP_PORT || len < 1) {
    a->ignored++;
    char fb[ETHP2P_ADDRSTRLEN];
    ethp2p_log(ETHP2P_LOG_DEBUG, "nat", "Ignored announcement from a stranger", "from=%s",
               ethp2p_addr_format(from, true, fb, sizeof fb));
    return;
  }
  ethp2p_time now = ethp2p_env_now(a->env);
  a->dispatching = true;
  if (buf[0] == ETHP2P_PMP_VERSION && a->gateway.family == 4) /* NAT-PMP is IPv4-only */
    on_pmp(a, buf, len, now);
  else if (buf[0] == ETHP2P_PCP_VERSION)
    on_pcp(a, buf, len, now);
  else
    a->ignored++;
  a->dispatching = false;
  if (a->dead)
    free(a);
}

/* The all-nodes group of the gateway's family: 224.0.0.1, or ff02::1 for an
 * IPv6 PCP server (RFC 6887 section 14.1.3 names both). */
static ethp2p_addr all_nodes(const ethp2p_nat_announce *a, uint16_t port) {
  ethp2p_addr g = ethp2p_addr_v4(224, 0, 0, 1, port);
  if (a->gateway.family == 6) {
    memset(&g, 0, sizeof g);
    g.family = 6;
    g.ip[0] = 0xff;
    g.ip[1] = 0x02;
    g.ip[15] = 1;
    g.port = port;
  }
  return g;
}

static int open_group(ethp2p_nat_announce *a, uint16_t port, const ethp2p_addr *iface,
                      ethp2p_udp **out) {
  ethp2p_addr group = all_nodes(a, port);
  int rc = ethp2p_udp_open(a->env, out, &group, ETHP2P_UDP_REUSEADDR, on_datagram, a);
  if (rc < 0) {
    ethp2p_addr any = ethp2p_addr_v4(0, 0, 0, 0, port);
    if (a->gateway.family == 6) {
      memset(&any, 0, sizeof any);
      any.family = 6;
      any.port = port;
    }
    rc = ethp2p_udp_open(a->env, out, &any, ETHP2P_UDP_REUSEADDR, on_datagram, a);
    if (rc < 0)
      return rc;
  }
  group.port = 0;
  rc = ethp2p_udp_join(*out, &group, iface);
  if (rc < 0 && iface != NULL)
    rc = ethp2p_udp_join(*out, &group, NULL);
  if (rc < 0) {
    ethp2p_udp_close(*out);
    *out = NULL;
  }
  return rc;
}

int ethp2p_nat_announce_start(ethp2p_env *env, const ethp2p_addr *gateway, ethp2p_nat_epoch *epoch,
                              ethp2p_nat_announce_cb cb, void *data, ethp2p_nat_announce **out) {
  *out = NULL;
  ethp2p_nat_announce *a = calloc(1, sizeof *a);
  if (a == NULL)
    return ETHP2P_ENOMEM;
  a->env = env;
  a->gateway = *gateway;
  a->gateway.port = 0;
  a->epoch = epoch != NULL ? epoch : &a->own_epoch;
  a->cb = cb;
  a->data = data;
  if (ethp2p_timer_create(env, &a->delay, on_delay, a) < 0)
    a->delay = NULL;
  ethp2p_addr local;
  const ethp2p_addr *iface = NULL;
  if (ethp2p_nat_local_addr_toward(env, gateway, &local) == 0)
    iface = &local;
  int rc = open_group(a, ETHP2P_PMP_CLIENT_PORT, iface, &a->udp);
  if (rc < 0) {
    ethp2p_timer_destroy(a->delay);
    free(a);
    return rc;
  }
  /* Legacy: early NAT-PMP gateways announced to port 5351 (RFC 6886 §3.2.1
   * notes the change).  Best effort: the port may be taken on a gateway.
   * IPv4 only, as NAT-PMP. */
  if (gateway->family != 4 || open_group(a, ETHP2P_PMP_PORT, iface, &a->legacy_udp) < 0)
    a->legacy_udp = NULL;
  *out = a;
  return 0;
}

void ethp2p_nat_announce_note_extip(ethp2p_nat_announce *a, const ethp2p_addr *ip) {
  if (a == NULL)
    return;
  a->have_ip = true;
  a->last_ip = *ip;
  a->last_ip.port = 0;
}

void ethp2p_nat_announce_set_pcp_delay(ethp2p_nat_announce *a, bool on) {
  if (a != NULL)
    a->pcp_delay = on;
}

unsigned ethp2p_nat_announce_ignored(const ethp2p_nat_announce *a) {
  return a != NULL ? a->ignored : 0;
}

void ethp2p_nat_announce_stop(ethp2p_nat_announce *a) {
  if (a == NULL || a->dead)
    return;
  ethp2p_udp_close(a->udp);
  ethp2p_udp_close(a->legacy_udp);
  a->udp = a->legacy_udp = NULL;
  ethp2p_timer_destroy(a->delay); /* safe inside its own callback */
  a->delay = NULL;
  a->delay_armed = false;
  if (a->dispatching)
    a->dead = true; /* on_datagram frees it when the callback returns */
  else
    free(a);
}
