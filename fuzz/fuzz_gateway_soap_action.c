/*
 * fuzz/fuzz_gateway_soap_action.c — the gateway's SOAP control actions
 * (nat/gateway/soap.c: AddPortMapping, AddAnyPortMapping, DeletePortMapping,
 * DeletePortMappingRange, GetGenericPortMappingEntry, GetSpecificPortMappingEntry,
 * GetListOfPortMappings, GetExternalIPAddress, ...) on a simulated router, several
 * requests per input so that later requests see the mappings earlier ones made.
 * fuzz_gateway_soap_request covers the envelope parser alone; this target
 * covers what the handlers do with the arguments.
 *
 * Input: byte 0 router settings (bit 0 IGDv1, bit 1 unnamespaced replies, bit 2
 * permanent leases only, bit 3 same port only, bit 4 lease cap 3600 s, bits 5-7
 * table size 1 + n), then requests separated by "\n@@\n".  Each request: one
 * selector byte (bits 0-1 control path, bits 2-3 requester: LAN .2, LAN .3,
 * 10.9.9.9, LAN .2), the SOAPAction header up to the first '\n' (an empty line
 * means no header), then the body.
 *
 * Properties: no crash or leak; every reply is status 200 or 500; a 200 reply
 * parses with the project's own SOAP response parser as "<action>Response" and a
 * 500 reply as a fault with a UPnP error code; the table stays within its limits
 * with unique external ports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/gateway.h"
#include "ethp2p/log.h"
#include "ethp2p/sim.h"
#include "nat/gateway/gw_internal.h"
#include "nat/xml.h"

#define MAX_REQUESTS 16
#define SEP "\n@@\n"

static const char *const paths[4] = {GW_PATH_CTL_IP, GW_PATH_CTL_CIF, GW_PATH_CTL_L3F, "/ctl/nope"};

static void quiet(void *data, ethp2p_log_level level, const char *module, const char *msg,
                  const char *kv) {
  (void)data;
  (void)level;
  (void)module;
  (void)msg;
  (void)kv;
}

static void check_table(const ethp2p_gateway *gw, const ethp2p_gw_policy *p) {
  ethp2p_gw_mapping m[8];
  size_t n = ethp2p_gw_mappings(gw, m, 8);
  if (n > p->max_mappings || n > 8)
    abort();
  for (size_t i = 0; i < n; i++) {
    if (m[i].external_port == 0 || m[i].internal.port == 0)
      abort();
    if (p->permanent_only && m[i].lease_s != 0)
      abort();
    if (p->lease_cap_s != 0 && (m[i].lease_s == 0 || m[i].lease_s > p->lease_cap_s))
      abort();
    if (p->same_port_only && m[i].external_port != m[i].internal.port)
      abort();
    if (memchr(m[i].desc, '\0', sizeof m[i].desc) == NULL)
      abort();
    for (size_t j = i + 1; j < n; j++)
      if (m[j].proto == m[i].proto && m[j].external_port == m[i].external_port)
        abort();
  }
}

/* Prints the reply that broke a property, then aborts. */
static void fail(const gw_soap_reply *r, const char *why) {
  fprintf(stderr, "property violated: %s\nstatus %d body:\n%.*s\n", why, r->status,
          r->body != NULL ? (int)r->len : 0, r->body != NULL ? r->body : "");
  abort();
}

static void check_reply(const gw_soap_reply *r, const uint8_t *body, size_t body_len) {
  static ethp2p_soap_msg req, resp;
  if (r->body == NULL || r->len == 0)
    fail(r, "empty reply");
  if (r->status == 500) {
    if (ethp2p_soap_response_parse(&resp, "X", r->body, r->len, NULL) != ETHP2P_EREFUSED ||
        !resp.is_fault || resp.upnp_error_code == 0)
      fail(r, "a 500 is not a UPnP fault");
    return;
  }
  if (r->status != 200)
    fail(r, "status neither 200 nor 500");
  /* A 200 answers a request that parsed; its action names the response. */
  if (ethp2p_soap_request_parse(&req, (const char *)body, body_len, NULL) != 0)
    fail(r, "a 200 for a request that does not parse");
  int rc = ethp2p_soap_response_parse(&resp, req.action, r->body, r->len, NULL);
  /* NewPortListing is a whole document; the client-side parser caps a value at
   * 256 bytes (nat/xml.h) and says so with ETOOBIG, which is fine here. */
  if (rc == ETHP2P_ETOOBIG && strcmp(req.action, "GetListOfPortMappings") == 0)
    return;
  if (rc != 0)
    fail(r, "a 200 that does not parse as the action's response");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ethp2p_sim *sim;
  ethp2p_sim_nat *nat;
  ethp2p_sim_host *h[2];
  ethp2p_gateway *gw;
  ethp2p_gw_config cfg;
  ethp2p_addr req_addr[4];
  char header[256];
  size_t off = 1;
  int n = 0;

  if (size < 1)
    return 0;
  ethp2p_log_set_sink(quiet, NULL, ETHP2P_LOG_TRACE);
  if (ethp2p_sim_create(&sim, 0x50a9u) != 0 || ethp2p_sim_nat_create(sim, &nat, "r", NULL) != 0 ||
      ethp2p_sim_nat_add_host(nat, &h[0], "a", NULL) != 0 ||
      ethp2p_sim_nat_add_host(nat, &h[1], "b", NULL) != 0)
    abort();
  ethp2p_gw_config_default(&cfg);
  cfg.lan_addr = ethp2p_sim_nat_inside_addr(nat);
  cfg.external_ip = ethp2p_sim_nat_external_addr(nat);
  cfg.http_port = 5000;
  cfg.announce_count = 0;
  cfg.policy.pmp = cfg.policy.pcp = false;
  cfg.policy.igd_version = (data[0] & 1) ? 1 : 2;
  if (data[0] & 2)
    cfg.quirks |= ETHP2P_GW_Q_UNNAMESPACED_SOAP;
  cfg.policy.permanent_only = (data[0] & 4) != 0;
  cfg.policy.same_port_only = (data[0] & 8) != 0;
  if (data[0] & 16)
    cfg.policy.lease_cap_s = 3600;
  cfg.policy.max_mappings = 1u + (data[0] >> 5);
  cfg.policy.max_per_client = 4;
  if (ethp2p_gw_create(ethp2p_sim_host_env(ethp2p_sim_nat_host(nat)), &cfg, &gw) != 0)
    abort();
  if (ethp2p_gw_start(gw) != 0)
    abort();
  req_addr[0] = req_addr[3] = ethp2p_sim_host_addr(h[0]);
  req_addr[1] = ethp2p_sim_host_addr(h[1]);
  req_addr[2] = ethp2p_addr_v4(10, 9, 9, 9, 40000);

  while (off < size && n++ < MAX_REQUESTS) {
    const uint8_t *start = data + off;
    size_t rest = size - off;
    const uint8_t *end = memmem(start, rest, SEP, strlen(SEP));
    size_t len = end != NULL ? (size_t)(end - start) : rest;
    off += len + (end != NULL ? strlen(SEP) : 0);
    if (len < 1)
      continue;
    uint8_t sel = start[0];
    const uint8_t *p = start + 1;
    size_t plen = len - 1;
    const uint8_t *nl = memchr(p, '\n', plen);
    const char *action = NULL;
    if (nl != NULL && (size_t)(nl - p) < sizeof header) {
      memcpy(header, p, (size_t)(nl - p));
      header[nl - p] = '\0';
      if (header[0] != '\0' && memchr(header, '\0', (size_t)(nl - p)) == NULL)
        action = header;
      plen -= (size_t)(nl - p) + 1;
      p = nl + 1;
    }
    gw_soap_reply r;
    if (gw_soap_handle(gw, paths[sel & 3], action, p, plen, &req_addr[(sel >> 2) & 3], &r) != 0)
      abort();
    check_reply(&r, p, plen);
    free(r.body);
    check_table(gw, &cfg.policy);
    ethp2p_sim_run(sim, (ethp2p_time)(sel >> 4) * 10 * ETHP2P_MIN);
  }
  ethp2p_gw_destroy(gw);
  ethp2p_sim_destroy(sim);
  ethp2p_log_set_sink(NULL, NULL, ETHP2P_LOG_INFO);
  return 0;
}
