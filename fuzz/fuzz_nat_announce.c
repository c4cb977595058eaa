/*
 * fuzz/fuzz_nat_announce.c — the client's listener for NAT-PMP/PCP
 * announcements on 224.0.0.1:5350 (nat/announce.c), which anybody on the LAN
 * can send to.  A simulated LAN with the router's inside address as the
 * gateway; datagrams come from the gateway (port 5351 or another port) or from
 * a second LAN host, with time passing in between.
 *
 * Input: records of ctl, len, len bytes.  ctl bits 0-1 sender (0 gateway:5351,
 * 1 gateway:5350, 2 other LAN host:5351, 3 gateway:5351); bits 2-4 time to pass
 * first (0 .. 30 days); bit 5 stop the listener from inside the next callback;
 * bits 6-7 fix-ups (1: NAT-PMP announcement header, 2: PCP ANNOUNCE header).
 * Properties (abort() on violation): no event from a datagram that did not
 * come from gateway:5351; EXTIP_ANNOUNCED only for a NAT-PMP announcement and
 * with its address; at most one STATE_LOST and one EXTIP_ANNOUNCED per
 * datagram; no callback after stop; nothing leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/log.h"
#include "ethp2p/sim.h"
#include "nat/impl.h"

typedef struct state {
  ethp2p_nat_announce *ann;
  int lost, extip;
  ethp2p_addr last_ip;
  bool stop_in_cb, stopped;
} state;

static void quiet(void *data, ethp2p_log_level level, const char *module, const char *msg,
                  const char *kv) {
  (void)data;
  (void)level;
  (void)module;
  (void)msg;
  (void)kv;
}

static void on_event(void *data, ethp2p_nat_event ev, const ethp2p_addr *ip) {
  state *s = data;
  if (s->stopped)
    abort(); /* no callback after stop */
  if (ev == ETHP2P_NAT_EV_STATE_LOST) {
    s->lost++;
  } else if (ev == ETHP2P_NAT_EV_EXTIP_ANNOUNCED) {
    if (ip == NULL || ip->family != 4)
      abort();
    s->extip++;
    s->last_ip = *ip;
  } else {
    abort();
  }
  if (s->stop_in_cb) {
    ethp2p_nat_announce_stop(s->ann);
    s->stopped = true;
  }
}

static void ignore(ethp2p_udp *udp, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                   void *data) {
  (void)udp;
  (void)from;
  (void)buf;
  (void)len;
  (void)data;
}

static const ethp2p_time steps[8] = {
    0,          100 * ETHP2P_MSEC, ETHP2P_SEC, 3 * ETHP2P_SEC,
    ETHP2P_MIN, ETHP2P_HOUR,       ETHP2P_DAY, 30 * ETHP2P_DAY,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static state s;
  ethp2p_sim *sim;
  ethp2p_sim_nat *nat;
  ethp2p_sim_host *me, *other;
  ethp2p_udp *tx[3];
  uint8_t buf[256];
  size_t off = 0;
  int records = 0;

  ethp2p_log_set_sink(quiet, NULL, ETHP2P_LOG_TRACE);
  memset(&s, 0, sizeof s);
  if (ethp2p_sim_create(&sim, 0xa770u) != 0 || ethp2p_sim_nat_create(sim, &nat, "r", NULL) != 0 ||
      ethp2p_sim_nat_add_host(nat, &me, "me", NULL) != 0 ||
      ethp2p_sim_nat_add_host(nat, &other, "other", NULL) != 0)
    abort();
  ethp2p_addr gw = ethp2p_sim_nat_inside_addr(nat);
  ethp2p_env *genv = ethp2p_sim_host_env(ethp2p_sim_nat_host(nat));
  ethp2p_addr b5351 = gw, b5350 = gw, o5351 = ethp2p_sim_host_addr(other);
  b5351.port = o5351.port = 5351;
  b5350.port = 5350;
  if (ethp2p_udp_open(genv, &tx[0], &b5351, ETHP2P_UDP_REUSEADDR, ignore, NULL) != 0 ||
      ethp2p_udp_open(genv, &tx[1], &b5350, ETHP2P_UDP_REUSEADDR, ignore, NULL) != 0 ||
      ethp2p_udp_open(ethp2p_sim_host_env(other), &tx[2], &o5351, ETHP2P_UDP_REUSEADDR, ignore,
                      NULL) != 0)
    abort();
  if (ethp2p_nat_announce_start(ethp2p_sim_host_env(me), &gw, NULL, on_event, &s, &s.ann) != 0)
    abort();
  ethp2p_addr group = ethp2p_addr_v4(224, 0, 0, 1, 5350);

  while (off + 2 <= size && records++ < 64 && !s.stopped) {
    uint8_t ctl = data[off];
    size_t len = data[off + 1];
    off += 2;
    if (len > size - off)
      len = size - off;
    memcpy(buf, data + off, len);
    off += len;
    unsigned who = ctl & 3u, fix = ctl >> 6;
    if (who == 3)
      who = 0;
    if (fix == 1 && len >= 4) { /* NAT-PMP external-address announcement, result 0 */
      buf[0] = 0;
      buf[1] = 0x80;
      buf[2] = buf[3] = 0;
    } else if (fix == 2 && len >= 4) { /* PCP ANNOUNCE response, result 0 */
      buf[0] = 2;
      buf[1] = 0x80;
      buf[3] = 0;
    }
    if (steps[(ctl >> 2) & 7u] != 0)
      ethp2p_sim_run(sim, steps[(ctl >> 2) & 7u]);
    s.stop_in_cb = (ctl & 0x20) != 0;
    int lost0 = s.lost, extip0 = s.extip;
    if (ethp2p_udp_send(tx[who], &group, buf, len) != 0)
      continue;
    ethp2p_sim_run(sim, 50 * ETHP2P_MSEC);
    if (who != 0 && (s.lost != lost0 || s.extip != extip0))
      abort(); /* a stranger (or the wrong port) moved the client */
    if (s.lost - lost0 > 1 || s.extip - extip0 > 1)
      abort();
    if (s.extip != extip0) {
      if (len < 12 || buf[0] != 0 || buf[1] != 0x80 || memcmp(s.last_ip.ip, buf + 8, 4) != 0)
        abort();
    }
  }
  if (!s.stopped)
    ethp2p_nat_announce_stop(s.ann);
  for (int i = 0; i < 3; i++)
    ethp2p_udp_close(tx[i]);
  ethp2p_sim_destroy(sim);
  ethp2p_log_set_sink(NULL, NULL, ETHP2P_LOG_INFO);
  return 0;
}
