/*
 * p2p/metrics_localnode.c — ethp2p_metrics_attach_localnode: follows the local node's
 * record.  A file of its own so that programs that never call it (and tests of the
 * metrics alone) do not link the local node.
 */
#include "ethp2p/localnode.h"
#include "ethp2p/metrics.h"
#include "p2p/metrics_impl.h"

static void on_record(ethp2p_localnode *ln, const ethp2p_enr *rec, void *data) {
  (void)ln;
  ethp2p_metrics_set_record(data, rec);
}

static void detach(ethp2p_metrics *m) {
  if (m->ln != NULL)
    ethp2p_localnode_unsubscribe(m->ln, m->ln_sub);
  m->ln = NULL;
}

int ethp2p_metrics_attach_localnode(ethp2p_metrics *m, ethp2p_localnode *ln) {
  if (m == NULL || ln == NULL)
    return ETHP2P_EINVAL;
  if (m->ln != NULL)
    return ETHP2P_ESTATE;
  ethp2p_enr rec;
  int rc = ethp2p_localnode_record(ln, &rec);
  if (rc != 0)
    return rc;
  int id = ethp2p_localnode_subscribe(ln, on_record, m);
  if (id < 0)
    return id;
  ethp2p_metrics_set_record(m, &rec);
  m->ln = ln;
  m->ln_sub = id;
  m->ln_detach = detach;
  return 0;
}
