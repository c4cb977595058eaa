/*
 * cmd/ethp2p/sim_network.c — `ethp2p sim --network N`: N real nodes
 * (ethp2p_server with discv4, the local record and the port-mapping loop) on
 * the simulated world, reproducible from --seed.
 *
 * The world:
 *   - K bootnodes on the internet (--nat extip:<their address>), started first;
 *     every other node has all of them as --bootnodes;
 *   - about a fifth of the others on the internet (--nat any: no gateway, so
 *     their record's address comes from their peers' PONGs);
 *   - the rest each behind its own NAT box: the box's type cycles through the
 *     27 mapping x allocation x filtering combinations, and its firmware through
 *     none, UPnP IGD and NAT-PMP (the gateway emulator, whose mappings become
 *     the box's port forwards), shifted each round so every type meets every
 *     firmware; these nodes run --nat any;
 *   - every node has its own /24 (the table's subnet limits are not what is
 *     measured here); nodes join in a random order over --join.
 * Measured (ground truth from the world, not from what nodes believe):
 *   - a table entry is "live" when it names a node of the world at an endpoint
 *     where any host can reach it unsolicited: a public node's address, a
 *     box's port forward to the node, or the binding of a full-cone box (EI
 *     mapping and filtering) as an outside observer sees it;
 *   - every 10 s: which nodes' tables hold at least 1 and 8 live entries;
 *   - at the end: an observer host learns where each node's discovery socket
 *     appears from outside; a prober host (that never talked to anyone) sends
 *     a datagram to each node's record endpoint (reachable = it arrives); every
 *     table is read (discovered = in another node's table); --lookups nodes
 *     each resolve a random reachable node by its key (ethp2p_discv4_resolve).
 * Same options, same seed => same output (the wall-clock line aside).
 */
#include "cmd/ethp2p/sim_network.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cmd/ethp2p/cli.h"
#include "ethp2p/discv4.h"
#include "ethp2p/enode.h"
#include "ethp2p/gateway.h"
#include "ethp2p/localnode.h"
#include "ethp2p/log.h"
#include "ethp2p/nodekey.h"
#include "ethp2p/secp.h"
#include "ethp2p/server.h"
#include "ethp2p/sim.h"

#define SN_PORT 30303
#define SN_MAX_NODES 5000
#define SN_MAX_BOOT 16
#define SN_SAMPLE (10 * ETHP2P_SEC)
#define SN_LIVE_MANY 8
#define SN_PROBER_PORT 40404
#define SN_OBSERVER_PORT 40405
#define SN_RESOLVE_WAIT (30 * ETHP2P_SEC)
#define SN_TABLE_MAX 512 /* 17 buckets x 16 entries = 272 */

typedef enum { SN_BOOT, SN_PUBLIC, SN_NAT } sn_kind;
typedef enum { SN_FW_NONE, SN_FW_UPNP, SN_FW_PMP } sn_fw;

/* Report classes (a row each). */
enum {
  C_BOOT,
  C_PUBLIC,
  C_UPNP,
  C_PMP,
  C_FULLCONE, /* no firmware, EI mapping + EI filtering */
  C_EI_FILT,  /* no firmware, EI mapping, AD/APD filtering */
  C_DEP_MAP,  /* no firmware, AD/APD mapping */
  C_COUNT
};
static const char *const class_name[C_COUNT] = {
    "bootnode",          "public",           "nat+upnp", "nat+pmp", "nat none full-cone",
    "nat none filtered", "nat none dep-map",
};
static const char *const class_key[C_COUNT] = {
    "bootnode",          "public",          "nat_upnp", "nat_pmp", "nat_none_fullcone",
    "nat_none_filtered", "nat_none_depmap",
};

typedef struct sn_world sn_world;

typedef struct sn_node {
  sn_world *w;
  unsigned idx;
  sn_kind kind;
  sn_fw fw;
  unsigned nat_type; /* 0..26: mapping * 9 + allocation * 3 + filtering */
  int cls;
  ethp2p_sim_host *host;
  ethp2p_sim_nat *box;
  ethp2p_gateway *gw;
  ethp2p_server *srv;
  ethp2p_addr lan;    /* the host's own address */
  ethp2p_addr public; /* its address, or its box's outside address */
  uint8_t id[32], pub64[64];
  char keyhex[ETHP2P_NODEKEY_HEX_LEN + 1];
  ethp2p_time started, t_live1, t_many, t_learned;
  bool up, probed, observed_ok;
  ethp2p_addr observed; /* where the observer saw its discovery socket */
  size_t live_end, table_end, known_by;
  bool rec_has; /* the record's endpoint when the run ended */
  ethp2p_addr rec_end;
  bool known_live; /* some table has it at a live endpoint */
} sn_node;

typedef struct sn_opts {
  unsigned n, nboot, lookups;
  ethp2p_time duration, join;
  uint64_t seed;
  bool json, bench;
  unsigned verbosity;
} sn_opts;

struct sn_world {
  sn_opts o;
  ethp2p_sim *sim;
  sn_node *nodes;
  unsigned started;
  unsigned *order; /* join order of the non-boot nodes */
  unsigned next_join;
  ethp2p_sim_host *prober, *observer;
  ethp2p_udp *prober_udp, *observer_udp;
  ethp2p_timer *join_timer, *sample_timer;
  ethp2p_time t0, t_all_started, end;
  /* id -> node (open addressing on the first 8 bytes of the id) */
  unsigned *hash;
  size_t hash_cap;
  char boot_url[SN_MAX_BOOT][ETHP2P_ENODE_URL_MAX];
  const char *boot_ptr[SN_MAX_BOOT];
  /* resolves */
  unsigned res_started, res_ok, res_failed_start;
  ethp2p_time res_sum;
  int exit_code;
};

/* ---- ids ---------------------------------------------------------------------------- */

static size_t hash_slot(const sn_world *w, const uint8_t id[32]) {
  uint64_t h;
  memcpy(&h, id, 8);
  return (size_t)(h & (w->hash_cap - 1));
}
static void hash_put(sn_world *w, unsigned idx) {
  size_t s = hash_slot(w, w->nodes[idx].id);
  while (w->hash[s] != UINT32_MAX)
    s = (s + 1) & (w->hash_cap - 1);
  w->hash[s] = idx;
}
static sn_node *hash_get(sn_world *w, const uint8_t id[32]) {
  size_t s = hash_slot(w, id);
  while (w->hash[s] != UINT32_MAX) {
    sn_node *n = &w->nodes[w->hash[s]];
    if (memcmp(n->id, id, 32) == 0)
      return n;
    s = (s + 1) & (w->hash_cap - 1);
  }
  return NULL;
}

/* ---- ground truth ------------------------------------------------------------------- */

/* Type t in 0..26 = mapping x allocation x filtering; each policy enum starts
 * at 1 (0 is "unknown" in ethp2p/natclass.h). */
static ethp2p_sim_nat_dep nat_mapping(unsigned t) {
  return (ethp2p_sim_nat_dep)(t / 9 + 1);
}
static ethp2p_sim_nat_alloc nat_alloc(unsigned t) {
  return (ethp2p_sim_nat_alloc)(t / 3 % 3 + 1);
}
static ethp2p_sim_nat_dep nat_filtering(unsigned t) {
  return (ethp2p_sim_nat_dep)(t % 3 + 1);
}

/* Where any host can reach n unsolicited right now (false: nowhere). */
static bool live_endpoint(sn_node *n, ethp2p_addr *ep) {
  if (!n->up)
    return false;
  if (n->kind != SN_NAT) {
    *ep = n->public;
    ep->port = SN_PORT;
    return true;
  }
  if (n->fw != SN_FW_NONE) {
    ethp2p_sim_forward f[8];
    size_t k = ethp2p_sim_nat_forward_list(n->box, f, 8);
    for (size_t i = 0; i < k && i < 8; i++)
      if (f[i].proto == ETHP2P_SIM_UDP && ethp2p_addr_equal(&f[i].internal, &n->lan, false) &&
          f[i].internal.port == SN_PORT) {
        *ep = n->public;
        ep->port = f[i].external_port;
        return true;
      }
    return false;
  }
  if (n->cls == C_FULLCONE && n->observed_ok) {
    *ep = n->observed;
    return true;
  }
  return false;
}

static bool same_ep(const ethp2p_addr *a, const ethp2p_addr *b) {
  return ethp2p_addr_equal(a, b, false) && a->port == b->port;
}

/* Live entries in n's table; with mark, also who is known (and at a live endpoint). */
static size_t count_live(sn_world *w, sn_node *n, bool mark, size_t *total) {
  ethp2p_discover_node buf[SN_TABLE_MAX];
  ethp2p_discv4 *v4 = ethp2p_server_discv4(n->srv);
  size_t k, live = 0;
  if (v4 == NULL)
    return 0;
  k = ethp2p_table_nodes(ethp2p_discv4_table(v4), buf, SN_TABLE_MAX);
  if (total != NULL)
    *total = k;
  for (size_t i = 0; i < k; i++) {
    sn_node *m = hash_get(w, buf[i].id);
    ethp2p_addr ep;
    bool ok;
    if (m == NULL || m == n)
      continue;
    ok = live_endpoint(m, &ep) && same_ep(&ep, &buf[i].addr);
    live += ok;
    if (mark) {
      m->known_by++;
      m->known_live |= ok;
    }
  }
  return live;
}

/* The record's IPv4 endpoint (false without one). */
static bool record_ep(sn_node *n, ethp2p_addr *ep) {
  ethp2p_enr rec;
  uint8_t ip[4];
  uint16_t udp;
  if (ethp2p_localnode_record(ethp2p_server_localnode(n->srv), &rec) != 0 ||
      ethp2p_enr_ip_get(&rec, ip) != 0 || ethp2p_enr_port_get(&rec, ETHP2P_ENR_UDP, &udp) != 0)
    return false;
  *ep = ethp2p_addr_v4(ip[0], ip[1], ip[2], ip[3], udp);
  return true;
}

/* ---- callbacks ----------------------------------------------------------------------- */

static void node_udp(ethp2p_server *srv, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                     void *data) {
  sn_node *n = data;
  (void)srv;
  (void)from;
  if (len == 8 && memcmp(buf, "prb", 4) == 0) {
    uint32_t idx;
    memcpy(&idx, buf + 4, 4);
    if (idx == n->idx)
      n->probed = true;
  }
}

static void observer_udp(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                         void *data) {
  sn_world *w = data;
  uint32_t idx;
  (void)u;
  if (len != 8 || memcmp(buf, "obs", 4) != 0)
    return;
  memcpy(&idx, buf + 4, 4);
  if (idx < w->o.n) {
    w->nodes[idx].observed = *from;
    w->nodes[idx].observed_ok = true;
  }
}

static void prober_udp(ethp2p_udp *u, const ethp2p_addr *from, const uint8_t *buf, size_t len,
                       void *data) {
  (void)u, (void)from, (void)buf, (void)len, (void)data;
}

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  sn_node *n = data;
  uint8_t ip[4];
  (void)ln;
  if (n->t_learned == 0 && ethp2p_enr_ip_get(rec, ip) == 0 && memcmp(ip, n->public.ip, 4) == 0)
    n->t_learned = ethp2p_sim_now(n->w->sim);
}

static int gw_mirror(void *data, bool add, const ethp2p_gw_mapping *m, const ethp2p_addr *ext) {
  sn_node *n = data;
  ethp2p_sim_forward f;
  (void)ext;
  if (!add) {
    (void)ethp2p_sim_nat_forward_remove(n->box, (uint8_t)m->proto, m->external_port);
    return 0;
  }
  memset(&f, 0, sizeof f);
  f.proto = (uint8_t)m->proto;
  f.external_port = m->external_port;
  f.internal = m->internal;
  f.expires = m->expires;
  return ethp2p_sim_nat_forward_add(n->box, &f);
}

/* Asks the node's discovery socket to send to the observer (where does it appear?). */
static void observe(sn_world *w, sn_node *n) {
  uint8_t msg[8] = {'o', 'b', 's', 0};
  ethp2p_addr to = ethp2p_sim_host_addr(w->observer);
  uint32_t idx = n->idx;
  to.port = SN_OBSERVER_PORT;
  memcpy(msg + 4, &idx, 4);
  (void)ethp2p_discover_send(ethp2p_server_discover(n->srv), &to, msg, sizeof msg);
}

/* ---- building -------------------------------------------------------------------------- */

static ethp2p_addr node_public_ip(unsigned i) {
  /* a /24 of its own: 21.x.y.1 */
  return ethp2p_addr_v4((uint8_t)(21 + (i >> 16)), (uint8_t)(i >> 8), (uint8_t)i, 1, 0);
}

static int start_node(sn_world *w, sn_node *n) {
  ethp2p_server_config sc;
  ethp2p_diag diag;
  char spec[64];
  int rc;
  ethp2p_server_config_default(&sc);
  sc.nodekey_hex = n->keyhex;
  sc.port = SN_PORT;
  sc.discport = SN_PORT;
  sc.udp_cb = node_udp;
  sc.udp_data = n;
  if (n->kind == SN_BOOT) {
    char ip[ETHP2P_ADDRSTRLEN];
    snprintf(spec, sizeof spec, "extip:%s", ethp2p_addr_format(&n->public, false, ip, sizeof ip));
  } else {
    snprintf(spec, sizeof spec, "any");
    sc.bootnodes = w->boot_ptr;
    sc.nbootnodes = w->o.nboot;
  }
  {
    char err[96] = "";
    if (ethp2p_nat_spec_parse(&sc.nat, spec, err, sizeof err) != 0) {
      fprintf(stderr, "ethp2p sim: bad NAT spec %s: %s\n", spec, err);
      return ETHP2P_EINVAL;
    }
  }
  memset(&diag, 0, sizeof diag);
  rc = ethp2p_server_start(ethp2p_sim_host_env(n->host), &sc, &n->srv, &diag);
  if (rc != 0) {
    fprintf(stderr, "ethp2p sim: node %u did not start: %s\n", n->idx,
            diag.msg[0] ? diag.msg : ethp2p_strerror(rc));
    return rc;
  }
  {
    ethp2p_enr rec;
    if ((rc = ethp2p_localnode_record(ethp2p_server_localnode(n->srv), &rec)) != 0 ||
        (rc = ethp2p_enr_pubkey64(n->pub64, &rec)) != 0 ||
        (rc = ethp2p_enr_node_id(n->id, &rec)) != 0)
      return rc;
  }
  hash_put(w, n->idx);
  (void)ethp2p_localnode_subscribe(ethp2p_server_localnode(n->srv), on_record, n);
  n->started = ethp2p_sim_now(w->sim);
  n->up = true;
  w->started++;
  return 0;
}

static void join_cb(ethp2p_timer *t, void *data) {
  sn_world *w = data;
  ethp2p_time now = ethp2p_sim_now(w->sim);
  unsigned others = w->o.n - w->o.nboot;
  while (w->next_join < others) {
    ethp2p_time due = w->t0 + w->o.join * w->next_join / (others ? others : 1);
    if (due > now) {
      ethp2p_timer_start(t, due);
      return;
    }
    if (start_node(w, &w->nodes[w->order[w->next_join]]) != 0) {
      w->exit_code = CLI_EXIT_INVALID;
      ethp2p_sim_stop(w->sim);
      return;
    }
    w->next_join++;
  }
  w->t_all_started = now;
}

static void sample_cb(ethp2p_timer *t, void *data) {
  sn_world *w = data;
  ethp2p_time now = ethp2p_sim_now(w->sim);
  for (unsigned i = 0; i < w->o.n; i++) {
    sn_node *n = &w->nodes[i];
    size_t live;
    if (!n->up)
      continue;
    if (n->cls == C_FULLCONE)
      observe(w, n); /* its live endpoint is its binding */
    if (n->t_many != 0)
      continue;
    live = count_live(w, n, false, NULL);
    if (live >= 1 && n->t_live1 == 0)
      n->t_live1 = now;
    if (live >= SN_LIVE_MANY)
      n->t_many = now;
  }
  ethp2p_timer_start(t, now + SN_SAMPLE);
}

static uint64_t rnd(sn_world *w) {
  return ethp2p_sim_random_u64(w->sim);
}

static int build(sn_world *w) {
  unsigned n = w->o.n, others = n - w->o.nboot, nat_i = 0;
  ethp2p_addr a;
  int rc;

  if ((rc = ethp2p_sim_create(&w->sim, w->o.seed)) != 0)
    return rc;
  w->t0 = ethp2p_sim_now(w->sim);
  w->end = w->t0 + w->o.duration;
  w->nodes = calloc(n, sizeof *w->nodes);
  w->order = calloc(others ? others : 1, sizeof *w->order);
  for (w->hash_cap = 16; w->hash_cap < 2 * (size_t)n; w->hash_cap *= 2)
    ;
  w->hash = malloc(w->hash_cap * sizeof *w->hash);
  if (w->nodes == NULL || w->order == NULL || w->hash == NULL)
    return ETHP2P_ENOMEM;
  memset(w->hash, 0xff, w->hash_cap * sizeof *w->hash);

  a = ethp2p_addr_v4(30, 0, 0, 1, 0);
  if ((rc = ethp2p_sim_host_create_public(w->sim, &w->prober, "prober", &a)) != 0)
    return rc;
  a = ethp2p_addr_v4(30, 0, 0, 2, 0);
  if ((rc = ethp2p_sim_host_create_public(w->sim, &w->observer, "observer", &a)) != 0)
    return rc;
  a = ethp2p_addr_v4(0, 0, 0, 0, SN_PROBER_PORT);
  if ((rc = ethp2p_udp_open(ethp2p_sim_host_env(w->prober), &w->prober_udp, &a, 0, prober_udp,
                            w)) != 0)
    return rc;
  a.port = SN_OBSERVER_PORT;
  if ((rc = ethp2p_udp_open(ethp2p_sim_host_env(w->observer), &w->observer_udp, &a, 0, observer_udp,
                            w)) != 0)
    return rc;

  for (unsigned i = 0; i < n; i++) {
    sn_node *nd = &w->nodes[i];
    char name[32];
    ethp2p_nodekey key;
    nd->w = w;
    nd->idx = i;
    nd->public = node_public_ip(i);
    if (i < w->o.nboot) {
      nd->kind = SN_BOOT;
      nd->cls = C_BOOT;
    } else if ((i - w->o.nboot) % 5 == 0) {
      nd->kind = SN_PUBLIC;
      nd->cls = C_PUBLIC;
    } else {
      unsigned round = nat_i / 27;
      nd->kind = SN_NAT;
      nd->nat_type = nat_i % 27;
      nd->fw = (sn_fw)((nat_i + round) % 3);
      nat_i++;
      if (nd->fw == SN_FW_UPNP)
        nd->cls = C_UPNP;
      else if (nd->fw == SN_FW_PMP)
        nd->cls = C_PMP;
      else if (nat_mapping(nd->nat_type) != ETHP2P_SIM_NAT_EI)
        nd->cls = C_DEP_MAP;
      else if (nat_filtering(nd->nat_type) == ETHP2P_SIM_NAT_EI)
        nd->cls = C_FULLCONE;
      else
        nd->cls = C_EI_FILT;
    }
    if (nd->kind != SN_NAT) {
      snprintf(name, sizeof name, "%s%u", nd->kind == SN_BOOT ? "boot" : "pub", i);
      if ((rc = ethp2p_sim_host_create_public(w->sim, &nd->host, name, &nd->public)) != 0)
        return rc;
    } else {
      ethp2p_sim_nat_config nc = ethp2p_sim_nat_config_default();
      nc.mapping = nat_mapping(nd->nat_type);
      nc.allocation = nat_alloc(nd->nat_type);
      nc.filtering = nat_filtering(nd->nat_type);
      nc.outside_addr = nd->public;
      snprintf(name, sizeof name, "box%u", i);
      if ((rc = ethp2p_sim_nat_create(w->sim, &nd->box, name, &nc)) != 0)
        return rc;
      snprintf(name, sizeof name, "node%u", i);
      if ((rc = ethp2p_sim_nat_add_host(nd->box, &nd->host, name, NULL)) != 0)
        return rc;
      if (nd->fw != SN_FW_NONE) {
        ethp2p_gw_config gc;
        ethp2p_gw_config_default(&gc);
        gc.lan_addr = ethp2p_sim_nat_inside_addr(nd->box);
        gc.external_ip = nd->public;
        gc.policy.upnp = nd->fw == SN_FW_UPNP;
        gc.policy.pmp = nd->fw == SN_FW_PMP;
        gc.policy.pcp = false;
        snprintf(gc.uuid, sizeof gc.uuid, "4d696e69-5550-6e50-0000-%012u", i);
        if ((rc = ethp2p_gw_create(ethp2p_sim_host_env(ethp2p_sim_nat_host(nd->box)), &gc,
                                   &nd->gw)) != 0)
          return rc;
        ethp2p_gw_set_mirror(nd->gw, gw_mirror, nd);
        if ((rc = ethp2p_gw_start(nd->gw)) != 0)
          return rc;
      }
    }
    nd->lan = ethp2p_sim_host_addr(nd->host);
    nd->lan.port = SN_PORT;
    /* a key from the world's seed */
    do {
      for (size_t k = 0; k < sizeof key.secret; k += 8) {
        uint64_t r = rnd(w);
        memcpy(key.secret + k, &r, 8);
      }
    } while (!ethp2p_nodekey_secret_valid(key.secret));
    ethp2p_nodekey_format(&key, nd->keyhex, sizeof nd->keyhex);
    ethp2p_nodekey_wipe(&key);
  }
  /* bootnodes first, then their URLs for everyone else */
  for (unsigned i = 0; i < w->o.nboot; i++) {
    sn_node *b = &w->nodes[i];
    ethp2p_enr rec;
    ethp2p_discover_node dn;
    if ((rc = start_node(w, b)) != 0)
      return rc;
    if ((rc = ethp2p_localnode_record(ethp2p_server_localnode(b->srv), &rec)) != 0 ||
        (rc = ethp2p_discover_node_from_record(&dn, &rec)) != 0)
      return rc;
    dn.addr = b->public;
    dn.addr.port = SN_PORT;
    if (ethp2p_discover_node_format(&dn, w->boot_url[i], sizeof w->boot_url[i]) < 0)
      return ETHP2P_ESPACE;
    w->boot_ptr[i] = w->boot_url[i];
  }
  /* join order: a shuffle from the seed */
  for (unsigned i = 0; i < others; i++)
    w->order[i] = w->o.nboot + i;
  for (unsigned i = others; i > 1; i--) {
    unsigned j = (unsigned)(rnd(w) % i), t = w->order[i - 1];
    w->order[i - 1] = w->order[j];
    w->order[j] = t;
  }
  if ((rc = ethp2p_timer_create(ethp2p_sim_host_env(w->prober), &w->join_timer, join_cb, w)) != 0 ||
      (rc = ethp2p_timer_create(ethp2p_sim_host_env(w->prober), &w->sample_timer, sample_cb, w)) !=
          0)
    return rc;
  ethp2p_timer_start(w->join_timer, w->t0);
  ethp2p_timer_start(w->sample_timer, w->t0 + SN_SAMPLE);
  return 0;
}

static void world_free(sn_world *w) {
  if (w->nodes != NULL)
    for (unsigned i = 0; i < w->o.n; i++) {
      ethp2p_server_destroy(w->nodes[i].srv);
      ethp2p_gw_destroy(w->nodes[i].gw);
    }
  ethp2p_sim_destroy(w->sim);
  free(w->nodes);
  free(w->order);
  free(w->hash);
}

/* ---- measuring at the end --------------------------------------------------------------- */

typedef struct sn_resolve {
  sn_world *w;
  sn_node *target;
  ethp2p_time at;
} sn_resolve;

static void resolve_cb(void *data, int status, const ethp2p_enr *rec) {
  sn_resolve *r = data;
  uint8_t id[32];
  if (status == 0 && ethp2p_enr_node_id(id, rec) == 0 && memcmp(id, r->target->id, 32) == 0) {
    r->w->res_ok++;
    r->w->res_sum += ethp2p_sim_now(r->w->sim) - r->at;
  }
}

static void measure(sn_world *w, sn_resolve *res) {
  unsigned n = w->o.n;
  unsigned *reach = malloc(n * sizeof *reach), nreach = 0;
  /* 1. where each discovery socket appears from outside */
  for (unsigned i = 0; i < n; i++)
    if (w->nodes[i].up)
      observe(w, &w->nodes[i]);
  ethp2p_sim_run(w->sim, ETHP2P_SEC);
  /* 2. a datagram from a stranger to each record's endpoint */
  for (unsigned i = 0; i < n; i++) {
    sn_node *nd = &w->nodes[i];
    ethp2p_addr ep;
    uint8_t msg[8] = {'p', 'r', 'b', 0};
    uint32_t idx = i;
    if (!nd->up || !record_ep(nd, &ep))
      continue;
    nd->rec_has = true;
    nd->rec_end = ep;
    memcpy(msg + 4, &idx, 4);
    (void)ethp2p_udp_send(w->prober_udp, &ep, msg, sizeof msg);
    (void)ethp2p_udp_send(w->prober_udp, &ep, msg, sizeof msg);
  }
  ethp2p_sim_run(w->sim, 2 * ETHP2P_SEC);
  /* 3. tables */
  for (unsigned i = 0; i < n; i++)
    if (w->nodes[i].up)
      w->nodes[i].live_end = count_live(w, &w->nodes[i], true, &w->nodes[i].table_end);
  /* 4. resolves of reachable nodes from random nodes */
  for (unsigned i = 0; reach != NULL && i < n; i++)
    if (w->nodes[i].probed)
      reach[nreach++] = i;
  for (unsigned k = 0; reach != NULL && nreach > 1 && k < w->o.lookups; k++) {
    sn_node *src = &w->nodes[(w->o.nboot + k * 7919u) % n], *dst;
    do
      dst = &w->nodes[reach[rnd(w) % nreach]];
    while (dst == src);
    res[k].w = w;
    res[k].target = dst;
    res[k].at = ethp2p_sim_now(w->sim);
    w->res_started++;
    if (!src->up || ethp2p_server_discv4(src->srv) == NULL ||
        ethp2p_discv4_resolve(ethp2p_server_discv4(src->srv), dst->pub64, resolve_cb, &res[k]) != 0)
      w->res_failed_start++;
  }
  ethp2p_sim_run(w->sim, SN_RESOLVE_WAIT);
  free(reach);
}

/* ---- report -------------------------------------------------------------------------------- */

static double sec(ethp2p_time t) {
  return (double)t / 1e9;
}

static int cmp_time(const void *a, const void *b) {
  ethp2p_time x = *(const ethp2p_time *)a, y = *(const ethp2p_time *)b;
  return x < y ? -1 : x > y;
}
static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

typedef struct sn_stats {
  unsigned nodes[C_COUNT], known[C_COUNT], reach[C_COUNT], both[C_COUNT], live1[C_COUNT];
  unsigned total, known_all, reach_all, both_all;
  unsigned reachable, reachable_live1, reachable_many;
  ethp2p_time live1_last, many_last, live1_p50, live1_p90; /* after each node's start */
  ethp2p_time live1_abs_last;                              /* since the world began */
  size_t live_p50, table_p50;
  /* no mapping protocol */
  unsigned ei_nodes, ei_right, ei_wrong, ei_none, dep_nodes, dep_claimed, dep_none;
  ethp2p_time learn_p50, learn_max;
  uint64_t packets, drops_filtered, drops_nobinding;
  uint64_t tx[7];
} sn_stats;

static void compute(sn_world *w, sn_stats *s) {
  unsigned n = w->o.n, nl = 0, nlearn = 0;
  ethp2p_time *lat = calloc(n, sizeof *lat), *learn = calloc(n, sizeof *learn);
  size_t *live = calloc(n, sizeof *live), *tab = calloc(n, sizeof *tab);
  memset(s, 0, sizeof *s);
  for (unsigned i = 0; i < n; i++) {
    sn_node *nd = &w->nodes[i];
    bool known = nd->known_by > 0;
    s->total++;
    s->nodes[nd->cls]++;
    s->known[nd->cls] += known;
    s->reach[nd->cls] += nd->probed;
    s->both[nd->cls] += known && nd->probed;
    s->live1[nd->cls] += nd->t_live1 != 0;
    s->known_all += known;
    s->reach_all += nd->probed;
    s->both_all += known && nd->probed;
    live[i] = nd->live_end;
    tab[i] = nd->table_end;
    if (nd->probed) {
      s->reachable++;
      if (nd->t_live1 != 0) {
        ethp2p_time d = nd->t_live1 - nd->started;
        s->reachable_live1++;
        lat[nl++] = d;
        if (d > s->live1_last)
          s->live1_last = d;
        if (nd->t_live1 - w->t0 > s->live1_abs_last)
          s->live1_abs_last = nd->t_live1 - w->t0;
      }
      if (nd->t_many != 0) {
        s->reachable_many++;
        if (nd->t_many - nd->started > s->many_last)
          s->many_last = nd->t_many - nd->started;
      }
    }
    if (nd->kind == SN_NAT && nd->fw == SN_FW_NONE) {
      ethp2p_addr ep = nd->rec_end;
      bool has = nd->rec_has && ep.ip[0] != 127;
      if (nat_mapping(nd->nat_type) == ETHP2P_SIM_NAT_EI) {
        s->ei_nodes++;
        if (!has)
          s->ei_none++;
        else if (nd->observed_ok && same_ep(&ep, &nd->observed))
          s->ei_right++;
        else
          s->ei_wrong++;
        if (has && nd->t_learned != 0 && nd->t_learned <= w->end)
          learn[nlearn++] = nd->t_learned - nd->started;

      } else {
        s->dep_nodes++;
        if (has)
          s->dep_claimed++;
        else
          s->dep_none++;
      }
    }
  }
  if (nl > 0) {
    qsort(lat, nl, sizeof *lat, cmp_time);
    s->live1_p50 = lat[nl / 2];
    s->live1_p90 = lat[nl * 9 / 10];
  }
  if (nlearn > 0) {
    qsort(learn, nlearn, sizeof *learn, cmp_time);
    s->learn_p50 = learn[nlearn / 2];
    s->learn_max = learn[nlearn - 1];
  }
  qsort(live, n, sizeof *live, cmp_size);
  qsort(tab, n, sizeof *tab, cmp_size);
  s->live_p50 = live[n / 2];
  s->table_p50 = tab[n / 2];
  s->drops_filtered = ethp2p_sim_drops(w->sim, ETHP2P_SIM_DROP_FILTERED);
  s->drops_nobinding = ethp2p_sim_drops(w->sim, ETHP2P_SIM_DROP_NO_BINDING);
  for (unsigned i = 0; i < n; i++) {
    ethp2p_discover_stats ds;
    if (w->nodes[i].srv == NULL)
      continue;
    ethp2p_discover_get_stats(ethp2p_server_discover(w->nodes[i].srv), &ds);
    s->packets += ds.tx_packets;
    if (ethp2p_server_discv4(w->nodes[i].srv) != NULL) {
      ethp2p_discv4_stats v4;
      ethp2p_discv4_get_stats(ethp2p_server_discv4(w->nodes[i].srv), &v4);
      for (int t = 0; t < 7; t++)
        s->tx[t] += v4.tx[t];
    }
  }
  free(lat);
  free(learn);
  free(live);
  free(tab);
}

static double pct(unsigned a, unsigned b) {
  return b ? 100.0 * a / b : 0.0;
}

static void print_text(sn_world *w, const sn_stats *s, double wall, double cpu,
                       double node_days_per_s, long rss_kb) {
  unsigned nat = w->o.n - s->nodes[C_BOOT] - s->nodes[C_PUBLIC];
  printf("ethp2p sim --network %u: seed %" PRIu64 ", %.0f s simulated, join over %.0f s\n", w->o.n,
         w->o.seed, sec(w->o.duration), sec(w->o.join));
  printf("world       %u bootnodes, %u public, %u behind NAT boxes (27 types; %u UPnP, %u "
         "NAT-PMP, %u no mapping protocol)\n",
         s->nodes[C_BOOT], s->nodes[C_PUBLIC], nat, s->nodes[C_UPNP], s->nodes[C_PMP],
         s->nodes[C_FULLCONE] + s->nodes[C_EI_FILT] + s->nodes[C_DEP_MAP]);
  printf("tables      %u of %u reachable nodes held live entries (checked every 10 s); the last "
         "%.0f s after its "
         "start (p50 %.0f s, p90 %.0f s), %.0f s into the run\n",
         s->reachable_live1, s->reachable, sec(s->live1_last), sec(s->live1_p50), sec(s->live1_p90),
         sec(s->live1_abs_last));
  printf("            %u of them held >= %d live entries (the last %.0f s after its start); at "
         "the end a table holds %zu entries, %zu live (medians)\n",
         s->reachable_many, SN_LIVE_MANY, sec(s->many_last), s->table_p50, s->live_p50);
  printf("lookups     %u of %u resolves of a reachable node by its key succeeded (%.1f%%), "
         "mean %.2f s; %u could not start\n",
         w->res_ok, w->res_started, pct(w->res_ok, w->res_started),
         w->res_ok ? sec(w->res_sum) / w->res_ok : 0.0, w->res_failed_start);
  printf("discover    %u of %u nodes are in another node's table (%.1f%%); %u reachable at "
         "their record's endpoint (%.1f%%); both: %u (%.1f%%)\n",
         s->known_all, s->total, pct(s->known_all, s->total), s->reach_all,
         pct(s->reach_all, s->total), s->both_all, pct(s->both_all, s->total));
  printf("pongs       no mapping protocol, EI mapping: %u nodes, %u put their right public "
         "endpoint in their record, %u a wrong one, %u none (learned p50 %.1f s, max %.1f s)\n",
         s->ei_nodes, s->ei_right, s->ei_wrong, s->ei_none, sec(s->learn_p50), sec(s->learn_max));
  printf("            no mapping protocol, AD/APD mapping (no endpoint to learn): %u nodes, %u "
         "claimed one, %u did not\n",
         s->dep_nodes, s->dep_claimed, s->dep_none);
  printf("by class    %-20s %6s %9s %9s %9s\n", "", "nodes", "in-table", "reachable", "live>=1");
  for (int c = 0; c < C_COUNT; c++)
    printf("            %-20s %6u %9u %9u %9u\n", class_name[c], s->nodes[c], s->known[c],
           s->reach[c], s->live1[c]);
  printf("traffic     %" PRIu64 " discovery packets sent, %" PRIu64 " filtered by NATs, %" PRIu64
         " without binding; %" PRIu64 " events\n",
         s->packets, s->drops_filtered, s->drops_nobinding, ethp2p_sim_events(w->sim));
  printf("            sent by type: ping %" PRIu64 ", pong %" PRIu64 ", findnode %" PRIu64
         ", neighbors %" PRIu64 ", enrrequest %" PRIu64 ", enrresponse %" PRIu64 "\n",
         s->tx[1], s->tx[2], s->tx[3], s->tx[4], s->tx[5], s->tx[6]);
  printf("trace hash  %016" PRIx64 "\n", ethp2p_sim_trace_hash(w->sim));
  printf("wall        %.2f s (%.2f s CPU) for %.0f simulated s: %.3f node-days per CPU second, "
         "max RSS %ld MB\n",
         wall, cpu, sec(ethp2p_sim_now(w->sim) - w->t0), node_days_per_s, rss_kb / 1024);
}

static void print_json(sn_world *w, const sn_stats *s, double wall, double cpu,
                       double node_days_per_s, long rss_kb) {
  json_t *o = json_object(), *cls = json_object();
  for (int c = 0; c < C_COUNT; c++)
    json_object_set_new(cls, class_key[c],
                        json_pack("{s:I,s:I,s:I,s:I}", "nodes", (json_int_t)s->nodes[c], "in_table",
                                  (json_int_t)s->known[c], "reachable", (json_int_t)s->reach[c],
                                  "live1", (json_int_t)s->live1[c]));
  json_object_set_new(o, "nodes", json_integer(w->o.n));
  json_object_set_new(o, "seed", json_integer((json_int_t)w->o.seed));
  json_object_set_new(o, "simulated_s", json_real(sec(ethp2p_sim_now(w->sim) - w->t0)));
  json_object_set_new(
      o, "tables",
      json_pack("{s:I,s:I,s:f,s:f,s:f,s:f,s:I,s:f,s:I,s:I}", "reachable", (json_int_t)s->reachable,
                "reachable_with_live", (json_int_t)s->reachable_live1, "last_live_after_start_s",
                sec(s->live1_last), "p50_live_after_start_s", sec(s->live1_p50),
                "p90_live_after_start_s", sec(s->live1_p90), "last_live_since_begin_s",
                sec(s->live1_abs_last), "reachable_with_8_live", (json_int_t)s->reachable_many,
                "last_8_live_after_start_s", sec(s->many_last), "median_entries",
                (json_int_t)s->table_p50, "median_live_entries", (json_int_t)s->live_p50));
  json_object_set_new(o, "lookups",
                      json_pack("{s:I,s:I,s:I,s:f}", "started", (json_int_t)w->res_started,
                                "succeeded", (json_int_t)w->res_ok, "not_started",
                                (json_int_t)w->res_failed_start, "mean_s",
                                w->res_ok ? sec(w->res_sum) / w->res_ok : 0.0));
  json_object_set_new(o, "discover",
                      json_pack("{s:I,s:I,s:I,s:I}", "nodes", (json_int_t)s->total, "in_table",
                                (json_int_t)s->known_all, "reachable", (json_int_t)s->reach_all,
                                "in_table_and_reachable", (json_int_t)s->both_all));
  json_object_set_new(o, "pongs",
                      json_pack("{s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:I,s:I}", "ei_mapping_nodes",
                                (json_int_t)s->ei_nodes, "right", (json_int_t)s->ei_right, "wrong",
                                (json_int_t)s->ei_wrong, "none", (json_int_t)s->ei_none,
                                "learned_p50_s", sec(s->learn_p50), "learned_max_s",
                                sec(s->learn_max), "dep_mapping_nodes", (json_int_t)s->dep_nodes,
                                "dep_claimed", (json_int_t)s->dep_claimed, "dep_none",
                                (json_int_t)s->dep_none));
  json_object_set_new(o, "classes", cls);
  json_object_set_new(o, "traffic",
                      json_pack("{s:I,s:I,s:I,s:I}", "packets_sent", (json_int_t)s->packets,
                                "filtered", (json_int_t)s->drops_filtered, "no_binding",
                                (json_int_t)s->drops_nobinding, "events",
                                (json_int_t)ethp2p_sim_events(w->sim)));
  {
    char h[20];
    snprintf(h, sizeof h, "%016" PRIx64, ethp2p_sim_trace_hash(w->sim));
    json_object_set_new(o, "trace_hash", json_string(h));
  }
  json_object_set_new(o, "wall",
                      json_pack("{s:f,s:f,s:f,s:I}", "seconds", wall, "cpu_seconds", cpu,
                                "node_days_per_cpu_s", node_days_per_s, "max_rss_kb",
                                (json_int_t)rss_kb));
  json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  json_decref(o);
}

/* ---- command --------------------------------------------------------------------------------- */

static void usage(FILE *out) {
  fprintf(out,
          "Usage: ethp2p sim --network N [options]\n\n"
          "Runs N real nodes (server, discv4, local record, port mapping) in the simulated\n"
          "world: a few public bootnodes, public nodes, and nodes behind NAT boxes of all 27\n"
          "mapping x allocation x filtering types, with a UPnP or NAT-PMP gateway or none.\n"
          "Prints how fast tables fill with live entries, lookup success, the share of\n"
          "nodes others can discover and reach, and how many nodes without a mapping\n"
          "protocol learned their public endpoint from PONGs.  Same seed, same output\n"
          "(except the wall line).\n\n"
          "Options:\n"
          "  --network N        nodes, %u..%u\n"
          "  --duration D       simulated time (default 1h; 30s, 10m, 2h, 1d)\n"
          "  --join D           nodes join in a random order over D (default 1m)\n"
          "  --bootnodes K      public bootnodes, 1..%u, at most N (default 4; 1 when N <= 4)\n"
          "  --lookups M        resolves measured at the end, 0..10000 (default 100)\n"
          "  --seed S           world seed (default 1)\n"
          "  --json             one JSON object\n"
          "  --bench            also print BENCH lines (node-days per CPU second; on\n"
          "                     stderr with --json)\n"
          "  --verbosity 0-5    node logs on stderr (default 0)\n",
          2u, SN_MAX_NODES, SN_MAX_BOOT);
}

int ethp2p_sim_network_wanted(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "network") == 0)
    return 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--network") == 0 || strncmp(argv[i], "--network=", 10) == 0)
      return 1;
  return 0;
}

static void sn_log_sink(void *data, ethp2p_log_level level, const char *module, const char *msg,
                        const char *kv) {
  sn_world *w = data;
  fprintf(stderr, "%-5s[%9.3f] %-8s %-40s %s\n", ethp2p_log_level_name(level),
          w->sim ? sec(ethp2p_sim_now(w->sim) - w->t0) : 0.0, module, msg, kv);
}

/* The cost of the crypto every discv4 packet pays (sign + recover), measured
 * now, per CPU second: the reference the BENCH ratio is taken against. */
static double crypto_per_s(void) {
  uint8_t secret[32], hash[32], sig[65], pub[64];
  struct timespec a, b;
  unsigned k = 0;
  double el;
  memset(secret, 7, sizeof secret);
  memset(hash, 1, sizeof hash);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  do {
    hash[0] = (uint8_t)k;
    if (ethp2p_secp_sign_recoverable(sig, hash, secret) != 0 ||
        ethp2p_secp_recover(pub, sig, hash) != 0)
      return 0;
    k++;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    el = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  } while (el < 0.3);
  return k / el;
}

int ethp2p_sim_network_cmd(int argc, char **argv) {
  sn_world *w = calloc(1, sizeof *w);
  sn_resolve *res = NULL;
  sn_stats s;
  struct timespec ta, tb, ca, cb;
  struct rusage ru;
  double wall, cpu, ndps;
  int rc;
  uint64_t v;
  bool boot_set = false;

  if (w == NULL)
    return CLI_EXIT_INVALID;
  w->o.nboot = 4;
  w->o.lookups = 100;
  w->o.duration = ETHP2P_HOUR;
  w->o.join = ETHP2P_MIN;
  w->o.seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    char name[32];
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a) : strlen(a);
    if (i == 1 && strcmp(a, "network") == 0)
      continue;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      free(w);
      return CLI_EXIT_OK;
    }
    if (nl >= sizeof name)
      nl = sizeof name - 1;
    memcpy(name, a, nl);
    name[nl] = 0;
    if (strcmp(name, "--json") == 0 || strcmp(name, "--bench") == 0) {
      if (eq != NULL) {
        fprintf(stderr, "ethp2p sim: %s takes no value\n", name);
        goto usage_err;
      }
      if (name[2] == 'j')
        w->o.json = true;
      else
        w->o.bench = true;
      continue;
    }
    if (strcmp(name, "--network") != 0 && strcmp(name, "--duration") != 0 &&
        strcmp(name, "--join") != 0 && strcmp(name, "--bootnodes") != 0 &&
        strcmp(name, "--lookups") != 0 && strcmp(name, "--seed") != 0 &&
        strcmp(name, "--verbosity") != 0) {
      fprintf(stderr,
              "ethp2p sim: unknown option %s for --network (see `ethp2p sim network --help`)\n",
              name);
      goto usage_err;
    }
    if (eq != NULL)
      val = eq + 1;
    else if (i + 1 < argc)
      val = argv[++i];
    else {
      fprintf(stderr, "ethp2p sim: %s needs a value\n", name);
      goto usage_err;
    }
    if (strcmp(name, "--network") == 0) {
      if (!cli_parse_uint(val, SN_MAX_NODES, &v) || v < 2) {
        fprintf(stderr, "ethp2p sim: --network must be 2..%u nodes, got \"%s\"\n", SN_MAX_NODES,
                val);
        goto usage_err;
      }
      w->o.n = (unsigned)v;
    } else if (strcmp(name, "--duration") == 0 || strcmp(name, "--join") == 0) {
      uint64_t ms;
      if (!cli_parse_duration(val, &ms)) {
        fprintf(stderr,
                "ethp2p sim: invalid duration \"%s\" for %s (like 30s, 10m, 2h, 1d; above 0, at "
                "most 30 days)\n",
                val, name);
        goto usage_err;
      }
      if (name[2] == 'd')
        w->o.duration = ms * ETHP2P_MSEC;
      else
        w->o.join = ms * ETHP2P_MSEC;
    } else if (strcmp(name, "--bootnodes") == 0) {
      if (!cli_parse_uint(val, SN_MAX_BOOT, &v) || v < 1) {
        fprintf(stderr, "ethp2p sim: --bootnodes must be 1..%u, got \"%s\"\n", SN_MAX_BOOT, val);
        goto usage_err;
      }
      w->o.nboot = (unsigned)v;
      boot_set = true;
    } else if (strcmp(name, "--lookups") == 0) {
      if (!cli_parse_uint(val, 10000, &v)) {
        fprintf(stderr, "ethp2p sim: --lookups must be 0..10000, got \"%s\"\n", val);
        goto usage_err;
      }
      w->o.lookups = (unsigned)v;
    } else if (strcmp(name, "--seed") == 0) {
      if (!cli_parse_uint(val, UINT64_MAX, &v)) {
        fprintf(stderr, "ethp2p sim: --seed must be an integer 0..2^64-1, got \"%s\"\n", val);
        goto usage_err;
      }
      w->o.seed = v;
    } else {
      if (!cli_parse_uint(val, 5, &v)) {
        fprintf(stderr, "ethp2p sim: --verbosity must be 0..5, got \"%s\"\n", val);
        goto usage_err;
      }
      w->o.verbosity = (unsigned)v;
    }
  }
  if (w->o.n == 0) {
    fprintf(stderr, "ethp2p sim: network mode needs --network N\n");
    goto usage_err;
  }
  if (!boot_set && w->o.nboot >= w->o.n)
    w->o.nboot = 1; /* a tiny world: one bootnode unless told otherwise */
  if (w->o.nboot > w->o.n) {
    fprintf(stderr, "ethp2p sim: --bootnodes %u is more than the %u nodes\n", w->o.nboot, w->o.n);
    goto usage_err;
  }
  if (w->o.join > w->o.duration) {
    fprintf(stderr, "ethp2p sim: --join must not be longer than --duration\n");
    goto usage_err;
  }
  res = calloc(w->o.lookups ? w->o.lookups : 1, sizeof *res);
  if (res == NULL) {
    free(w);
    return CLI_EXIT_INVALID;
  }
  ethp2p_log_set_sink(w->o.verbosity ? sn_log_sink : NULL, w, (ethp2p_log_level)w->o.verbosity);
  w->exit_code = CLI_EXIT_OK;
  clock_gettime(CLOCK_MONOTONIC, &ta);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
  rc = build(w);
  if (rc != 0) {
    fprintf(stderr, "ethp2p sim: could not build the world: %s\n", ethp2p_strerror(rc));
    w->exit_code = CLI_EXIT_INVALID;
    goto out;
  }
  ethp2p_sim_run_until(w->sim, w->end);
  if (w->exit_code != CLI_EXIT_OK)
    goto out;
  measure(w, res);
  clock_gettime(CLOCK_MONOTONIC, &tb);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
  wall = (double)(tb.tv_sec - ta.tv_sec) + (double)(tb.tv_nsec - ta.tv_nsec) / 1e9;
  cpu = (double)(cb.tv_sec - ca.tv_sec) + (double)(cb.tv_nsec - ca.tv_nsec) / 1e9;
  /* per CPU second: a busy shared machine does not skew it */
  ndps = cpu > 0 ? (double)w->o.n * sec(ethp2p_sim_now(w->sim) - w->t0) / 86400.0 / cpu : 0;
  getrusage(RUSAGE_SELF, &ru);
  compute(w, &s);
  if (w->o.json)
    print_json(w, &s, wall, cpu, ndps, ru.ru_maxrss);
  else
    print_text(w, &s, wall, cpu, ndps, ru.ru_maxrss);
  if (w->o.bench) {
    FILE *bout = w->o.json ? stderr : stdout; /* keep stdout one JSON object */
    double cps = crypto_per_s(), pps = cpu > 0 ? (double)s.packets / cpu : 0;
    fprintf(bout, "BENCH sim_discovery_node_days_per_s %.3f node-days/s\n", ndps);
    fprintf(bout, "BENCH sim_discovery_packets_per_s %.0f packets/s\n", pps);
    fprintf(bout, "BENCH sim_discovery_sign_recover_per_s %.0f ops/s\n", cps);
    /* 1.0 would mean the world costs nothing but each packet's sign + recover */
    fprintf(bout, "BENCH sim_discovery_packets_vs_crypto %.3f ratio\n", cps > 0 ? pps / cps : 0);
  }
  fflush(stdout);
out:
  rc = w->exit_code;
  world_free(w);
  ethp2p_log_set_sink(NULL, NULL, ETHP2P_LOG_CRIT);
  free(res);
  free(w);
  return rc;

usage_err:
  free(w);
  return CLI_EXIT_USAGE;
}
