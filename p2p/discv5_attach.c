/*
 * p2p/discv5_attach.c — a discv5 node on the discv4 node's socket mux, table and
 * localnode (ethp2p/discv5_attach.h says what is wired to what).
 */
#include "ethp2p/discv5_attach.h"

#include <stdlib.h>
#include <string.h>

#include "ethp2p/secp.h"

#define ANSWER_SCAN (ETHP2P_TABLE_NBUCKETS * ETHP2P_TABLE_BUCKET_SIZE)

struct ethp2p_discv5_attached {
  ethp2p_discover *mux;
  ethp2p_table *table;
  ethp2p_localnode *ln;
  ethp2p_discv5 *v5;
  int sub;                           /* localnode subscription, 0 = none */
  ethp2p_discover_unhandled_cb next; /* neither discv4 nor discv5 */
  void *next_data;
  ethp2p_discover_node scan[ANSWER_SCAN];
};

static int send_fn(void *data, const ethp2p_addr *to, const uint8_t *buf, size_t len) {
  ethp2p_discv5_attached *a = data;
  return ethp2p_discover_send(a->mux, to, buf, len);
}

static void unhandled(void *data, const ethp2p_addr *from, const uint8_t *pkt, size_t len) {
  ethp2p_discv5_attached *a = data;
  if (ethp2p_discv5_handle_packet(a->v5, from, pkt, len) == ETHP2P_EPROTO && a->next != NULL)
    a->next(a->next_data, from, pkt, len);
}

static void statement(void *data, const ethp2p_addr *reporter, const ethp2p_addr *endpoint) {
  ethp2p_discv5_attached *a = data;
  ethp2p_localnode_udp_statement(a->ln, reporter, endpoint);
}

static void contact(void *data, const ethp2p_addr *to) {
  ethp2p_discv5_attached *a = data;
  ethp2p_localnode_udp_contact(a->ln, to);
}

/* from is where the record came from: the node itself (handshake, FINDNODE 0) proves it
 * alive at that endpoint; a record relayed in NODES (or added by hand, from NULL) only
 * says the node exists. */
static void on_node(void *data, const ethp2p_enr *rec, const ethp2p_addr *from) {
  ethp2p_discv5_attached *a = data;
  ethp2p_discover_node n;
  if (ethp2p_discover_node_from_record(&n, rec) != 0)
    return;
  ethp2p_time now = ethp2p_env_now(ethp2p_discover_env(a->mux));
  if (from != NULL && ethp2p_addr_equal(from, &n.addr, true))
    (void)ethp2p_table_add_seen(a->table, &n, now);
  else
    (void)ethp2p_table_add_found(a->table, &n, now);
}

static size_t findnode(void *data, unsigned distance, ethp2p_enr *out, size_t cap) {
  ethp2p_discv5_attached *a = data;
  uint8_t self[32];
  ethp2p_discv5_id(a->v5, self);
  size_t n = ethp2p_table_nodes(a->table, a->scan, ANSWER_SCAN), k = 0;
  for (size_t i = 0; i < n && k < cap; i++)
    if (ethp2p_discover_logdist(self, a->scan[i].id) == distance &&
        ethp2p_discv5_lookup_record(a->v5, a->scan[i].id, &out[k]) == 0)
      k++;
  return k;
}

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  ethp2p_discv5_attached *a = data;
  (void)ln;
  (void)ethp2p_discv5_set_record(a->v5, rec);
}

int ethp2p_discv5_attach(ethp2p_discover *mux, ethp2p_table *table, ethp2p_localnode *ln,
                         const ethp2p_discv5_config *cfg, ethp2p_discv5_attached **out) {
  if (out != NULL)
    *out = NULL;
  if (mux == NULL || table == NULL || ln == NULL || cfg == NULL || cfg->secret == NULL ||
      out == NULL)
    return ETHP2P_EINVAL;
  ethp2p_discv5_attached *a = calloc(1, sizeof *a);
  if (a == NULL)
    return ETHP2P_ENOMEM;
  a->mux = mux;
  a->table = table;
  a->ln = ln;
  ethp2p_enr rec;
  int rc = ethp2p_localnode_record(ln, &rec);
  if (rc != 0)
    goto fail;
  ethp2p_discv5_config c = *cfg;
  c.record = &rec; /* create checks that it is the secret's */
  c.send = send_fn;
  c.send_data = a;
  c.on_statement = statement;
  c.statement_data = a;
  c.on_contact = contact;
  c.contact_data = a;
  c.on_node = on_node;
  c.node_data = a;
  c.findnode = findnode;
  c.findnode_data = a;
  if ((rc = ethp2p_discv5_create(ethp2p_discover_env(mux), &c, &a->v5)) != 0)
    goto fail;
  if ((rc = ethp2p_localnode_subscribe(ln, on_record, a)) < 0)
    goto fail;
  a->sub = rc;
  ethp2p_discover_set_unhandled(mux, unhandled, a);
  *out = a;
  return 0;
fail:
  ethp2p_discv5_destroy(a->v5);
  free(a);
  return rc;
}

void ethp2p_discv5_attach_set_next(ethp2p_discv5_attached *a, ethp2p_discover_unhandled_cb cb,
                                   void *data) {
  a->next = cb;
  a->next_data = data;
}

void ethp2p_discv5_detach(ethp2p_discv5_attached *a) {
  if (a == NULL)
    return;
  ethp2p_discover_set_unhandled(a->mux, a->next, a->next_data);
  if (a->sub > 0)
    ethp2p_localnode_unsubscribe(a->ln, a->sub);
  ethp2p_discv5_destroy(a->v5);
  free(a);
}

ethp2p_discv5 *ethp2p_discv5_attached_node(ethp2p_discv5_attached *a) {
  return a->v5;
}
