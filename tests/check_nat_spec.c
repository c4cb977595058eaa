/* tests/check_nat_spec.c — the --nat grammar (go-ethereum's nat.Parse + pcp), text form,
 * create dispatch, none and extip. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/nat.h"
#include "ethp2p/sim.h"
#include "nat/impl.h"

typedef struct spec_case {
  const char *text;
  int rc;
  ethp2p_nat_kind kind;
  const char *err;    /* expected error text (rc != 0) */
  const char *format; /* expected canonical text (rc == 0) */
} spec_case;

static const spec_case cases[] = {
    {"", 0, ETHP2P_NAT_NONE, NULL, "none"},
    {"none", 0, ETHP2P_NAT_NONE, NULL, "none"},
    {"NONE", 0, ETHP2P_NAT_NONE, NULL, "none"},
    {"off", 0, ETHP2P_NAT_NONE, NULL, "none"},
    {"none:1.2.3.4", 0, ETHP2P_NAT_NONE, NULL, "none"}, /* geth ignores the IP */
    {"any", 0, ETHP2P_NAT_ANY, NULL, "any"},
    {"Auto", 0, ETHP2P_NAT_ANY, NULL, "any"},
    {"on", 0, ETHP2P_NAT_ANY, NULL, "any"},
    {"upnp", 0, ETHP2P_NAT_UPNP, NULL, "upnp"},
    {"UPnP", 0, ETHP2P_NAT_UPNP, NULL, "upnp"},
    {"extip:1.2.3.4", 0, ETHP2P_NAT_EXTIP, NULL, "extip:1.2.3.4"},
    {"ExtIP:1.2.3.4", 0, ETHP2P_NAT_EXTIP, NULL, "extip:1.2.3.4"},
    {"ip:10.0.0.1", 0, ETHP2P_NAT_EXTIP, NULL, "extip:10.0.0.1"},
    {"extip:2001:db8::1", 0, ETHP2P_NAT_EXTIP, NULL, "extip:2001:db8::1"},
    {"pmp", 0, ETHP2P_NAT_PMP, NULL, "pmp"},
    {"natpmp", 0, ETHP2P_NAT_PMP, NULL, "pmp"},
    {"NAT-PMP", 0, ETHP2P_NAT_PMP, NULL, "pmp"},
    {"pmp:192.168.0.1", 0, ETHP2P_NAT_PMP, NULL, "pmp:192.168.0.1"},
    {"natpmp:192.168.0.1", 0, ETHP2P_NAT_PMP, NULL, "pmp:192.168.0.1"},
    {"pcp", 0, ETHP2P_NAT_PCP, NULL, "pcp"},
    {"PCP:192.168.1.1", 0, ETHP2P_NAT_PCP, NULL, "pcp:192.168.1.1"},
    {"stun", 0, ETHP2P_NAT_STUN, NULL, "stun"},
    {"stun:stun.example.org:3478", 0, ETHP2P_NAT_STUN, NULL, "stun:stun.example.org:3478"},
    {"stun:1.2.3.4:3478,5.6.7.8:19302", 0, ETHP2P_NAT_STUN, NULL,
     "stun:1.2.3.4:3478,5.6.7.8:19302"},
    {"stun:", 0, ETHP2P_NAT_STUN, NULL, "stun"}, /* empty: the default list */
    {"pmp:", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"extip", ETHP2P_ESYNTAX, 0, "missing IP address", NULL},
    {"ip", ETHP2P_ESYNTAX, 0, "missing IP address", NULL},
    {"extip:", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"extip:1.2.3", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"extip:example.org", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"pmp:gateway", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"pcp:1.2.3.4:5351", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"foo", ETHP2P_ESYNTAX, 0, "unknown mechanism \"foo\"", NULL},
    {"Foo", ETHP2P_ESYNTAX, 0, "unknown mechanism \"Foo\"", NULL},
    {"foo:bar", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL}, /* IP checked first, as geth */
    {"foo:1.2.3.4", ETHP2P_ESYNTAX, 0, "unknown mechanism \"foo\"", NULL},
    {"a\"b", ETHP2P_ESYNTAX, 0, "unknown mechanism \"a\\\"b\"", NULL},
    {"stun:host:0", ETHP2P_ESYNTAX, 0, "invalid STUN server address", NULL},
    {"stun:host:99999", ETHP2P_ESYNTAX, 0, "invalid STUN server address", NULL},
    {"stun:a:1,,b:2", ETHP2P_ESYNTAX, 0, "invalid STUN server address", NULL},
    /* IPv6 (issue 17) */
    {"extip:2a01:4f8:c17:1f2::1", 0, ETHP2P_NAT_EXTIP, NULL, "extip:2a01:4f8:c17:1f2::1"},
    {"extip:::ffff:203.0.113.7", 0, ETHP2P_NAT_EXTIP, NULL, "extip:203.0.113.7"},
    {"extip:[2001:db8::1]", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"extip:fe80::1%eth0", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"pmp:fe80::1", ETHP2P_ESYNTAX, 0,
     "NAT-PMP is IPv4-only (RFC 6886): give an IPv4 gateway, or \"pmp\" to use the default route",
     NULL},
    {"natpmp:2001:db8::1", ETHP2P_ESYNTAX, 0,
     "NAT-PMP is IPv4-only (RFC 6886): give an IPv4 gateway, or \"pmp\" to use the default route",
     NULL},
    {"pmp:::ffff:192.168.0.1", 0, ETHP2P_NAT_PMP, NULL, "pmp:192.168.0.1"},
    /* PCP is defined over IPv6 (RFC 6887 section 8): an IPv6 server opens pinholes */
    {"pcp:2001:db8::1", 0, ETHP2P_NAT_PCP, NULL, "pcp:2001:db8::1"},
    {"PCP:fe80::1", 0, ETHP2P_NAT_PCP, NULL, "pcp:fe80::1"},
    {"pcp:fe80::1%eth0", ETHP2P_ESYNTAX, 0, "invalid IP address", NULL},
    {"stun:[2001:db8::5]:3478", 0, ETHP2P_NAT_STUN, NULL, "stun:[2001:db8::5]:3478"},
    {"stun:2001:db8::5", 0, ETHP2P_NAT_STUN, NULL, "stun:2001:db8::5"},
    {"stun:2001:db8::", 0, ETHP2P_NAT_STUN, NULL, "stun:2001:db8::"},
    {"pcp:::ffff:192.168.1.1", 0, ETHP2P_NAT_PCP, NULL, "pcp:192.168.1.1"},
};

START_TEST(every_spec_form_parses_as_go_ethereum_does) {
  const spec_case *c = &cases[_i];
  ethp2p_nat_spec spec;
  char err[128] = "untouched";
  int rc = ethp2p_nat_spec_parse(&spec, c->text, err, sizeof err);
  ck_assert_msg(rc == c->rc, "%s: rc %d want %d (%s)", c->text, rc, c->rc, err);
  if (rc != 0) {
    ck_assert_str_eq(err, c->err);
    return;
  }
  ck_assert_int_eq(spec.kind, c->kind);
  ck_assert_str_eq(err, "");
  char text[300];
  ck_assert_int_eq(ethp2p_nat_spec_format(&spec, text, sizeof text), 0);
  ck_assert_str_eq(text, c->format);
  /* The text form parses back to the same spec. */
  ethp2p_nat_spec again;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&again, text, NULL, 0), 0);
  ck_assert_int_eq(again.kind, spec.kind);
  ck_assert_int_eq(again.has_addr, spec.has_addr);
  ck_assert(ethp2p_addr_equal(&again.addr, &spec.addr, true));
  ck_assert_str_eq(again.stun_servers, spec.stun_servers);
}
END_TEST

START_TEST(refused_ipv6_gateways_leave_the_spec_zeroed_and_extip_keeps_the_address) {
  ethp2p_nat_spec spec;
  char err[96]; /* the smallest buffer a command uses: the message fits */
  memset(&spec, 0xab, sizeof spec);
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "pmp:2001:db8::1", err, sizeof err),
                   ETHP2P_ESYNTAX);
  ck_assert_ptr_nonnull(strstr(err, "default route"));
  ck_assert_int_eq(spec.kind, ETHP2P_NAT_NONE);
  ck_assert(!spec.has_addr);
  ck_assert_uint_eq(spec.addr.family, 0);
  memset(&spec, 0xab, sizeof spec);
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "PCP:2001:db8::9", err, sizeof err), 0);
  ck_assert_int_eq(spec.kind, ETHP2P_NAT_PCP);
  ck_assert(spec.has_addr);
  ck_assert_uint_eq(spec.addr.family, 6);
  ck_assert_uint_eq(spec.addr.ip[15], 9);
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "extip:2a01:4f8::7", err, sizeof err), 0);
  ck_assert(spec.has_addr);
  ck_assert_uint_eq(spec.addr.family, 6);
  ck_assert_uint_eq(spec.addr.ip[0], 0x2a);
  ck_assert_uint_eq(spec.addr.ip[15], 7);
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "extip:::ffff:198.51.100.4", err, sizeof err), 0);
  ck_assert_uint_eq(spec.addr.family, 4);
  ck_assert_uint_eq(spec.addr.ip[3], 4);
}
END_TEST

/* ---- our address toward an IPv6 router (nat/spec.c) ---- */

static ethp2p_iface fake_ifs[8];
static size_t fake_n;

static int fake_interfaces(ethp2p_env *env, ethp2p_iface *out, size_t cap, size_t *n) {
  (void)env;
  *n = 0;
  for (size_t i = 0; i < fake_n && i < cap; i++)
    out[(*n)++] = fake_ifs[i];
  return 0;
}

static void fake_if(const char *name, uint32_t index, const char *ip, uint8_t plen) {
  ethp2p_iface *it = &fake_ifs[fake_n++];
  memset(it, 0, sizeof *it);
  snprintf(it->name, sizeof it->name, "%s", name);
  ck_assert_int_eq(ethp2p_addr_parse_ip(&it->addr, ip), 0);
  it->prefix_len = plen;
  it->up = true;
  it->loopback = strcmp(name, "lo") == 0;
  it->index = index;
  if (it->addr.family == 6 && it->addr.ip[0] == 0xfe)
    it->addr.scope = index;
}

static void toward(ethp2p_env *env, const char *gw_text, uint32_t gw_scope, int rc_want,
                   const char *want) {
  ethp2p_addr gw, out;
  char buf[ETHP2P_ADDRSTRLEN];
  ck_assert_int_eq(ethp2p_addr_parse_ip(&gw, gw_text), 0);
  gw.scope = gw_scope;
  int rc = ethp2p_nat_local_addr_toward(env, &gw, &out);
  ck_assert_msg(rc == rc_want, "toward %s: rc %d", gw_text, rc);
  if (rc == 0)
    ck_assert_str_eq(ethp2p_addr_format(&out, false, buf, sizeof buf), want);
  else
    ck_assert_uint_eq(out.family, 0);
}

START_TEST(our_address_toward_an_ipv6_router_is_a_global_one_on_its_link) {
  ethp2p_sim *sim;
  ethp2p_sim_host *h;
  ethp2p_env env;
  ethp2p_env_ops ops;
  ck_assert_int_eq(ethp2p_sim_create(&sim, 3), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, "h", NULL), 0);
  env = *ethp2p_sim_host_env(h);
  ops = *env.ops;
  ops.interfaces = fake_interfaces;
  env.ops = &ops;
  fake_n = 0;
  fake_if("lo", 1, "::1", 128);
  fake_if("eth0", 2, "192.168.1.20", 24);
  fake_if("eth0", 2, "fe80::20", 64);
  fake_if("eth0", 2, "fd00::20", 64);
  fake_if("eth0", 2, "2a01:4f8:1::a", 64);
  fake_ifs[fake_n - 1].temporary = true;
  fake_if("eth0", 2, "2a01:4f8:1::20", 64);
  fake_if("wlan0", 3, "fe80::30", 64);
  fake_if("wlan0", 3, "2a01:4f8:2::30", 64);
  /* The router advertises itself link-locally: its zone names the link. */
  toward(&env, "fe80::1", 2, 0, "2a01:4f8:1::20"); /* stable before temporary */
  toward(&env, "fe80::1", 3, 0, "2a01:4f8:2::30");
  /* A global router: the interface whose prefix holds it. */
  toward(&env, "2a01:4f8:2::1", 0, 0, "2a01:4f8:2::30");
  toward(&env, "fd00::1", 0, 0, "2a01:4f8:1::20");
  /* IPv4 is unchanged. */
  toward(&env, "192.168.1.1", 0, 0, "192.168.1.20");
  /* Only link-local left on the router's link: that one, with its zone. */
  fake_n = 3;
  toward(&env, "fe80::1", 2, 0, "fe80::20");
  fake_ifs[2].deprecated = true;
  toward(&env, "fe80::1", 2, ETHP2P_ENOTFOUND, NULL);
  ethp2p_sim_destroy(sim);
}
END_TEST

START_TEST(format_reports_small_buffers) {
  ethp2p_nat_spec spec;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "extip:1.2.3.4", NULL, 0), 0);
  char buf[8];
  ck_assert_int_eq(ethp2p_nat_spec_format(&spec, buf, sizeof buf), ETHP2P_ESPACE);
}
END_TEST

START_TEST(proto_names) {
  ck_assert_str_eq(ethp2p_proto_name(ETHP2P_PROTO_TCP), "tcp");
  ck_assert_str_eq(ethp2p_proto_name(ETHP2P_PROTO_UDP), "udp");
}
END_TEST

static int extip_calls;
static ethp2p_addr extip_seen;
static void on_extip(ethp2p_nat *nat, int status, const ethp2p_addr *ip, void *data) {
  ck_assert_int_eq(status, 0);
  extip_seen = *ip;
  extip_calls++;
}

START_TEST(extip_answers_later_and_cannot_map) {
  ethp2p_sim *sim;
  ethp2p_sim_host *h;
  ck_assert_int_eq(ethp2p_sim_create(&sim, 1), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, "h", NULL), 0);
  ethp2p_nat_spec spec;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "extip:198.51.100.4", NULL, 0), 0);
  ethp2p_nat *nat;
  ck_assert_int_eq(ethp2p_nat_create(ethp2p_sim_host_env(h), &spec, &nat), 0);
  ck_assert_str_eq(nat->name, "extip");
  ck_assert_uint_eq(nat->caps & ETHP2P_NAT_CAP_MAP, 0);
  extip_calls = 0;
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, NULL), 0);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, NULL), 0);
  ck_assert_int_eq(extip_calls, 0); /* never inside the call */
  ethp2p_sim_run(sim, ETHP2P_MSEC);
  ck_assert_int_eq(extip_calls, 2);
  ethp2p_addr want = ethp2p_addr_v4(198, 51, 100, 4, 0);
  ck_assert(ethp2p_addr_equal(&extip_seen, &want, false));
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "x", 60, NULL, NULL),
                   ETHP2P_EUNSUPP);
  char text[64];
  ck_assert_int_eq(ethp2p_nat_format(nat, text, sizeof text), 0);
  ck_assert_str_eq(text, "extip:198.51.100.4");
  ethp2p_nat_destroy(nat);
  ethp2p_sim_destroy(sim);
}
END_TEST

START_TEST(none_refuses_everything) {
  ethp2p_sim *sim;
  ethp2p_sim_host *h;
  ck_assert_int_eq(ethp2p_sim_create(&sim, 1), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, "h", NULL), 0);
  ethp2p_nat_spec spec;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "", NULL, 0), 0);
  ethp2p_nat *nat;
  ck_assert_int_eq(ethp2p_nat_create(ethp2p_sim_host_env(h), &spec, &nat), 0);
  ck_assert_str_eq(nat->name, "none");
  ck_assert_uint_eq(nat->caps & ETHP2P_NAT_CAP_MAP, 0);
  ck_assert_int_eq(ethp2p_nat_external_ip(nat, on_extip, NULL), ETHP2P_EUNSUPP);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_UDP, 1, 1, NULL, NULL),
                   ETHP2P_EUNSUPP);
  ethp2p_nat_destroy(nat);
  ethp2p_sim_destroy(sim);
}
END_TEST

START_TEST(create_dispatches_on_kind_and_names_the_mechanism) {
  ethp2p_sim *sim;
  ethp2p_sim_host *h;
  ck_assert_int_eq(ethp2p_sim_create(&sim, 1), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, "h", NULL), 0);
  static const struct {
    const char *spec;
    const char *name;
    bool can_map;
  } t[] = {{"pmp", "NAT-PMP", true},
           {"pcp", "PCP", true},
           {"pcp:192.168.1.1", "PCP", true},
           {"pcp:2001:db8::1", "PCP (IPv6)", true},
           {"stun:1.2.3.4:3478", "STUN", false},
           {"any", "any", true},
           {"none", "none", false}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    ethp2p_nat_spec spec;
    ethp2p_nat *nat;
    ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, t[i].spec, NULL, 0), 0);
    ck_assert_int_eq(ethp2p_nat_create(ethp2p_sim_host_env(h), &spec, &nat), 0);
    ck_assert_str_eq(nat->name, t[i].name);
    ck_assert_int_eq((nat->caps & ETHP2P_NAT_CAP_MAP) != 0, t[i].can_map);
    ethp2p_nat_destroy(nat);
  }
  ethp2p_sim_destroy(sim);
}
END_TEST

/* ethp2p_nat_create6: the IPv6 companion of each kind. */
START_TEST(create6_gives_pinholes_for_pcp_upnp_and_any_and_nothing_for_ipv4_only_kinds) {
  ethp2p_sim *sim;
  ethp2p_sim_host *h;
  ck_assert_int_eq(ethp2p_sim_create(&sim, 1), 0);
  ck_assert_int_eq(ethp2p_sim_host_create_public(sim, &h, "h", NULL), 0);
  static const struct {
    const char *spec;
    int rc;
    const char *name;
    unsigned caps;
  } t[] = {
      {"pcp", 0, "PCP (IPv6)",
       ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DETECTS_RESTART |
           ETHP2P_NAT_CAP_DELETES_BY_INTERNAL},
      {"pcp:2001:db8::1", 0, "PCP (IPv6)",
       ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DETECTS_RESTART |
           ETHP2P_NAT_CAP_DELETES_BY_INTERNAL},
      {"any", 0, "any", ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP},
      {"upnp", 0, "UPnP-IPv6",
       ETHP2P_NAT_CAP_MAP | ETHP2P_NAT_CAP_POLL_EXTIP | ETHP2P_NAT_CAP_DELETES_BY_INTERNAL},
      {"extip:2a01:4f8::7", 0, "extip", ETHP2P_NAT_CAP_STATIC_IP},
      {"pcp:192.168.1.1", ETHP2P_EUNSUPP, NULL, 0},
      {"extip:203.0.113.7", ETHP2P_EUNSUPP, NULL, 0},
      {"none", ETHP2P_EUNSUPP, NULL, 0},
      {"pmp", ETHP2P_EUNSUPP, NULL, 0},
      {"pmp:192.168.1.1", ETHP2P_EUNSUPP, NULL, 0},
      {"stun", ETHP2P_EUNSUPP, NULL, 0},
      {"stun:[2001:db8::5]:3478", ETHP2P_EUNSUPP, NULL, 0},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    ethp2p_nat_spec spec;
    ethp2p_nat *nat = (ethp2p_nat *)&spec; /* must be reset on failure */
    ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, t[i].spec, NULL, 0), 0);
    int rc = ethp2p_nat_create6(ethp2p_sim_host_env(h), &spec, &nat);
    ck_assert_msg(rc == t[i].rc, "%s: rc %d want %d", t[i].spec, rc, t[i].rc);
    if (rc != 0) {
      ck_assert_ptr_null(nat);
      continue;
    }
    ck_assert_str_eq(nat->name, t[i].name);
    ck_assert_uint_eq(nat->caps, t[i].caps);
    if (spec.kind == ETHP2P_NAT_PCP || spec.kind == ETHP2P_NAT_ANY) {
      static const uint8_t key[32] = {1};
      ck_assert_int_eq(ethp2p_nat_set_pcp_nonce_key(nat, key), 0);
    }
    ethp2p_nat_destroy(nat);
  }
  /* No IPv6 default router in the simulated world: the PCP6 client says so at its first use. */
  ethp2p_nat_spec spec;
  ethp2p_nat *nat;
  ck_assert_int_eq(ethp2p_nat_spec_parse(&spec, "pcp", NULL, 0), 0);
  ck_assert_int_eq(ethp2p_nat_create6(ethp2p_sim_host_env(h), &spec, &nat), 0);
  ck_assert_int_eq(ethp2p_nat_add_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, "", 600, NULL, NULL),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_nat_delete_mapping(nat, ETHP2P_PROTO_TCP, 0, 30303, NULL, NULL),
                   ETHP2P_ENOGATEWAY);
  ethp2p_nat_destroy(nat);
  ck_assert_int_eq(ethp2p_nat_create6(NULL, &spec, &nat), ETHP2P_EINVAL);
  ck_assert_ptr_null(nat);
  ethp2p_sim_destroy(sim);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_spec");
  TCase *tc = tcase_create("spec");
  tcase_add_loop_test(tc, every_spec_form_parses_as_go_ethereum_does, 0,
                      (int)(sizeof cases / sizeof cases[0]));
  tcase_add_test(tc, format_reports_small_buffers);
  tcase_add_test(tc, our_address_toward_an_ipv6_router_is_a_global_one_on_its_link);
  tcase_add_test(tc, refused_ipv6_gateways_leave_the_spec_zeroed_and_extip_keeps_the_address);
  tcase_add_test(tc, proto_names);
  tcase_add_test(tc, extip_answers_later_and_cannot_map);
  tcase_add_test(tc, none_refuses_everything);
  tcase_add_test(tc, create_dispatches_on_kind_and_names_the_mechanism);
  tcase_add_test(tc, create6_gives_pinholes_for_pcp_upnp_and_any_and_nothing_for_ipv4_only_kinds);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
