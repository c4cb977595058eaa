/*
 * nat/doctor_json.c — the doctor's report as one JSON object
 * (ethp2p/doctor.h).  The field names are a contract, written out in
 * docs/doctor.md; the verdict's words come from nat/doctor_render.c.
 * Built with jansson (indent 2, keys in insertion order).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ethp2p/doctor.h"

static json_t *jaddr(const ethp2p_addr *a, bool port) {
  char b[ETHP2P_ADDRSTRLEN];
  if (a == NULL || a->family == 0)
    return json_null();
  return json_string(ethp2p_addr_format(a, port, b, sizeof b));
}

static json_t *jerr(int status) {
  return status == 0 || status == ETHP2P_DOCTOR_PENDING ? json_null()
                                                        : json_string(ethp2p_strerror(status));
}

static json_t *json_map(const ethp2p_doctor_map *m) {
  json_t *o = json_object();
  json_object_set_new(o, "tried", json_boolean(m->tried));
  json_object_set_new(o, "added", json_boolean(m->tried && m->add_status == 0));
  json_object_set_new(o, "external_port",
                      m->add_status == 0 && m->tried ? json_integer(m->external_port)
                                                     : json_null());
  json_object_set_new(o, "lifetime", json_integer(m->lifetime_s));
  json_object_set_new(o, "confirmed", json_boolean(m->confirmed));
  json_object_set_new(o, "deleted", json_boolean(m->deleted));
  json_object_set_new(o, "router_code", json_integer(m->router_code));
  json_object_set_new(o, "router_message", json_string(m->router_msg));
  json_object_set_new(o, "error", m->tried ? jerr(m->add_status) : json_null());
  return o;
}

static json_t *json_upnp(json_t *o, const ethp2p_doctor_upnp *s) {
  json_t *sv = json_array();
  json_object_set_new(o, "ssdp_answered", json_boolean(s->answered));
  json_object_set_new(o, "igd_version",
                      !s->answered ? json_null()
                      : strstr(s->desc_ok ? s->device_type : s->st, "Device:2") != NULL
                          ? json_integer(2)
                          : json_integer(1));
  json_object_set_new(o, "device_type", json_string(s->desc_ok ? s->device_type : s->st));
  json_object_set_new(o, "friendly_name", json_string(s->friendly_name));
  json_object_set_new(o, "server", json_string(s->server));
  json_object_set_new(o, "location", json_string(s->location));
  for (size_t k = 0; k < s->nservices; k++)
    json_array_append_new(sv, json_string(s->services[k]));
  json_object_set_new(o, "services", sv);
  json_object_set_new(o, "devices_found", json_integer((json_int_t)s->devices_found));
  json_object_set_new(o, "chosen_service",
                      s->chosen_service[0] ? json_string(s->chosen_service) : json_null());
  json_object_set_new(o, "choice", s->choice[0] ? json_string(s->choice) : json_null());
  return o;
}

static json_t *report_json(const ethp2p_doctor_report *r) {
  json_t *root = json_object(), *ifs = json_array(), *protos = json_object();
  ethp2p_doctor_verdict v;
  ethp2p_doctor_prose words;
  const ethp2p_doctor_extaddr *e = &v.ext;
  char line[160];
  ethp2p_doctor_decide(r, &v);
  ethp2p_doctor_explain(r, &v, &words);
  json_object_set_new(root, "port", json_integer(r->config.port));
  for (size_t i = 0; i < r->n_ifaces; i++) {
    json_t *f = json_object();
    json_object_set_new(f, "interface", json_string(r->ifaces[i].name));
    json_object_set_new(f, "address", jaddr(&r->ifaces[i].addr, false));
    json_object_set_new(f, "prefix", json_integer(r->ifaces[i].prefix_len));
    json_object_set_new(f, "loopback", json_boolean(r->ifaces[i].loopback));
    json_array_append_new(ifs, f);
  }
  json_object_set_new(root, "local_addresses", ifs);
  json_object_set_new(root, "default_gateway", r->have_gw ? jaddr(&r->gw, false) : json_null());
  for (int i = 0; i < ETHP2P_DOCTOR_NGW; i++) {
    const ethp2p_doctor_gateway *p = &r->gateways[i];
    json_t *o = json_object();
    json_object_set_new(o, "probed", json_boolean(p->probed));
    json_object_set_new(o, "answered", json_boolean(p->probed && p->extip_status == 0));
    json_object_set_new(o, "external_address",
                        p->extip_status == 0 ? jaddr(&p->extip, false) : json_null());
    json_object_set_new(o, "error", p->probed ? jerr(p->extip_status) : json_null());
    json_t *tm = json_object();
    json_object_set_new(tm, "tcp", json_map(&p->map[ETHP2P_DOCTOR_TCP]));
    json_object_set_new(tm, "udp", json_map(&p->map[ETHP2P_DOCTOR_UDP]));
    json_object_set_new(o, "test_mapping", tm);
    if (i == ETHP2P_DOCTOR_UPNP)
      json_upnp(o, &r->upnp);
    json_object_set_new(protos, p->key, o);
  }
  json_object_set_new(root, "protocols", protos);

  json_t *ea = json_object();
  json_object_set_new(ea, "address", jaddr(&e->addr, false));
  json_object_set_new(ea, "source", e->source != NULL ? json_string(e->source) : json_null());
  json_object_set_new(ea, "private", json_boolean(e->private_));
  json_object_set_new(ea, "cgnat", json_boolean(e->cgnat));
  json_object_set_new(ea, "double_nat", json_boolean(e->double_nat));
  json_object_set_new(ea, "stun_address", jaddr(&e->stun, false));
  json_object_set_new(ea, "disagrees_with_stun", json_boolean(e->disagrees));
  json_object_set_new(root, "external_address", ea);

  const ethp2p_nat_profile *p = &r->profile;
  json_t *b = json_object();
  json_object_set_new(b, "tested", json_boolean(r->config.n_stun > 0));
  json_object_set_new(b, "server", jaddr(&p->server, true));
  json_object_set_new(b, "server_other_address", jaddr(&p->server_other, true));
  json_object_set_new(b, "mapping", json_string(ethp2p_nat_policy_name(p->mapping)));
  json_object_set_new(b, "filtering", json_string(ethp2p_nat_policy_name(p->filtering)));
  json_object_set_new(b, "allocation", json_string(ethp2p_nat_alloc_name(p->allocation)));
  json_object_set_new(b, "port_delta", json_integer(p->port_delta));
  json_object_set_new(b, "hairpinning", json_string(ethp2p_nat_tri_name(p->hairpinning)));
  json_object_set_new(b, "behind_nat", json_string(ethp2p_nat_tri_name(p->behind_nat)));
  json_object_set_new(b, "reflexive_address", jaddr(&p->reflexive, true));
  json_object_set_new(b, "can_receive_unsolicited", json_boolean(p->can_receive_unsolicited));
  json_object_set_new(b, "requires_relay", json_boolean(p->requires_relay));
  json_object_set_new(b, "measured_at",
                      p->measured_at_ms != 0 ? json_integer(p->measured_at_ms) : json_null());
  json_object_set_new(b, "valid_for", json_integer(p->valid_for_s));
  json_object_set_new(b, "note",
                      json_string(r->config.n_stun == 0 ? "unknown: no STUN server" : p->note));
  json_object_set_new(root, "behavior", b);

  json_t *vo = json_object();
  const char *answer = ethp2p_doctor_answer_name(v.answer);
  snprintf(line, sizeof line, "reachable from the internet on tcp/%u and udp/%u: %s",
           (unsigned)r->config.port, (unsigned)r->config.port, answer);
  json_object_set_new(vo, "reachable", json_string(answer));
  json_object_set_new(vo, "tcp_port", json_integer(r->config.port));
  json_object_set_new(vo, "udp_port", json_integer(r->config.port));
  json_object_set_new(vo, "line", json_string(line));
  json_object_set_new(vo, "reason", json_string(words.reason));
  json_object_set_new(vo, "advice", json_string(words.advice));
  json_object_set_new(root, "verdict", vo);
  return root;
}

int ethp2p_doctor_render_json(const ethp2p_doctor_report *r, char *buf, size_t size, size_t *len) {
  json_t *j;
  char *s;
  size_t n;
  int rc = 0;
  if (r == NULL || len == NULL || (buf == NULL && size > 0))
    return ETHP2P_EINVAL;
  *len = 0;
  if ((j = report_json(r)) == NULL)
    return ETHP2P_ENOMEM;
  s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(j);
  if (s == NULL)
    return ETHP2P_ENOMEM;
  n = strlen(s);
  *len = n;
  if (buf == NULL || size <= n)
    rc = ETHP2P_ESPACE;
  else
    memcpy(buf, s, n + 1);
  if (rc != 0 && buf != NULL && size > 0)
    buf[0] = '\0';
  free(s);
  return rc;
}
