/* tests/check_nat_ssdp.c — SSDP M-SEARCH / reply / NOTIFY codec (nat/ssdp.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nat/ssdp.h"

static size_t read_fixture(const char *name, uint8_t *buf, size_t cap) {
  char path[512];
  const char *dir = getenv("ETHP2P_TESTDATA");
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "%s/upnp/%s", dir != NULL ? dir : "testdata", name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))
#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

START_TEST(search_build_has_exact_bytes) {
  ethp2p_ssdp_search s;
  uint8_t buf[512];
  size_t len;
  static const char want[] = "M-SEARCH * HTTP/1.1\r\n"
                             "HOST: 239.255.255.250:1900\r\n"
                             "MAN: \"ssdp:discover\"\r\n"
                             "MX: 1\r\n"
                             "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n"
                             "\r\n";
  memset(&s, 0, sizeof s);
  s.mx = 1;
  COPY(s.st, ETHP2P_SSDP_ST_IGD2);
  ck_assert_int_eq(ethp2p_ssdp_search_build(buf, sizeof buf, &len, &s), 0);
  ck_assert_uint_eq(len, sizeof want - 1);
  ck_assert(memcmp(buf, want, len) == 0);
}
END_TEST

START_TEST(search_build_unicast_omits_mx_and_reports_space) {
  ethp2p_ssdp_search s;
  uint8_t buf[512];
  size_t len, need;
  memset(&s, 0, sizeof s);
  s.mx = -1;
  COPY(s.host, "192.168.1.1:1900");
  COPY(s.st, "ssdp:all");
  ck_assert_int_eq(ethp2p_ssdp_search_build(buf, sizeof buf, &len, &s), 0);
  ck_assert_ptr_null(strstr((char *)buf, "MX:"));
  ck_assert_ptr_nonnull(strstr((char *)buf, "HOST: 192.168.1.1:1900\r\n"));
  need = len;
  ck_assert_int_eq(ethp2p_ssdp_search_build(buf, 10, &len, &s), ETHP2P_ESPACE);
  ck_assert_uint_eq(len, need);
  COPY(s.st, "a\r\nb");
  ck_assert_int_eq(ethp2p_ssdp_search_build(buf, sizeof buf, &len, &s), ETHP2P_EINVAL);
}
END_TEST

START_TEST(search_parse_round_trips_and_reads_upnpc_capture) {
  ethp2p_ssdp_search s, p;
  uint8_t buf[512];
  size_t len;
  memset(&s, 0, sizeof s);
  s.mx = 3;
  COPY(s.st, ETHP2P_SSDP_ST_WANCONN1);
  COPY(s.user_agent, "ethp2p/0.1 UPnP/1.1");
  ck_assert_int_eq(ethp2p_ssdp_search_build(buf, sizeof buf, &len, &s), 0);
  ck_assert_int_eq(ethp2p_ssdp_search_parse(&p, buf, len, NULL), 0);
  ck_assert_str_eq(p.st, ETHP2P_SSDP_ST_WANCONN1);
  ck_assert_str_eq(p.man, "ssdp:discover");
  ck_assert(p.man_quoted);
  ck_assert_int_eq(p.mx, 3);
  ck_assert_str_eq(p.host, "239.255.255.250:1900");
  ck_assert_str_eq(p.user_agent, "ethp2p/0.1 UPnP/1.1");

  len = read_fixture("ssdp_search_upnpc.txt", buf, sizeof buf);
  ck_assert_int_eq(ethp2p_ssdp_search_parse(&p, buf, len, NULL), 0);
  ck_assert_int_eq(p.mx, 2);
  ck_assert_str_eq(p.st, ETHP2P_SSDP_ST_IGD1);
}
END_TEST

START_TEST(search_parse_is_case_insensitive_and_tolerates_lf) {
  ethp2p_ssdp_search p;
  ck_assert_int_eq(ethp2p_ssdp_search_parse(&p,
                                            S("M-SEARCH * HTTP/1.1\n"
                                              "host:239.255.255.250:1900\n"
                                              "man:   ssdp:discover  \n"
                                              "st:\tupnp:rootdevice\t\n"
                                              "x-unknown: 1\n"
                                              "\n"),
                                            NULL),
                   0);
  ck_assert_str_eq(p.st, "upnp:rootdevice");
  ck_assert_str_eq(p.man, "ssdp:discover");
  ck_assert(!p.man_quoted);
  ck_assert_int_eq(p.mx, -1);
}
END_TEST

START_TEST(search_parse_refuses_bad_requests) {
  ethp2p_ssdp_search p;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_ssdp_search_parse(&p, S("NOTIFY * HTTP/1.1\r\nST: x\r\n\r\n"), &d),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(
      ethp2p_ssdp_search_parse(&p, S("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n\r\n"), &d),
      ETHP2P_ESYNTAX);
  ck_assert_str_eq(d.msg, "M-SEARCH without ST");
  ck_assert_int_eq(ethp2p_ssdp_search_parse(&p, S("M-SEARCH * HTTP/1.1\r\nST: x\r\n\r\n"), &d),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(
      ethp2p_ssdp_search_parse(
          &p, S("M-SEARCH * HTTP/1.1\r\nST: x\r\nMAN: \"ssdp:discover\"\r\nMX: -1\r\n\r\n"), &d),
      ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_search_parse(&p, S("M-SEARCH * HTTP/1.1\r\nST: x\r\n"), &d),
                   ETHP2P_ETRUNC);
  ck_assert_int_eq(
      ethp2p_ssdp_search_parse(&p, S("M-SEARCH * HTTP/1.1\r\nST : x\r\nMAN: a\r\n\r\n"), &d),
      ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 21);
  ck_assert_int_eq(ethp2p_ssdp_search_parse(&p, S("M-SEARCH * HTTP/1.1\r\nST: \0x\r\n\r\n"), &d),
                   ETHP2P_ESYNTAX);
  ck_assert_str_eq(p.st, ""); /* zeroed on failure */
}
END_TEST

START_TEST(reply_parse_reads_miniupnpd_capture) {
  ethp2p_ssdp_reply r;
  uint8_t buf[2048];
  size_t len = read_fixture("ssdp_reply_miniupnpd.txt", buf, sizeof buf);
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&r, buf, len, NULL), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.location, "http://192.168.1.1:5000/rootDesc.xml");
  ck_assert_str_eq(r.st, ETHP2P_SSDP_ST_IGD1);
  ck_assert_str_eq(r.server, "Debian/12 UPnP/1.1 MiniUPnPd/2.3.1");
  ck_assert_uint_eq(r.max_age, 120);
  ck_assert(strncmp(r.usn, "uuid:9a4b2f36", 13) == 0);
  ck_assert(ethp2p_ssdp_st_is_gateway(r.st));
}
END_TEST

START_TEST(reply_build_round_trips) {
  ethp2p_ssdp_reply r, p;
  uint8_t buf[ETHP2P_SSDP_MAX_LEN];
  size_t len;
  memset(&r, 0, sizeof r);
  r.status = 200;
  r.max_age = 1800;
  COPY(r.location, "http://192.168.1.1:2869/igd.xml");
  COPY(r.st, ETHP2P_SSDP_ST_WANCONN2);
  COPY(r.usn, "uuid:x::urn:schemas-upnp-org:device:WANConnectionDevice:2");
  COPY(r.server, "ethp2p-gateway/0.1 UPnP/1.1");
  ck_assert_int_eq(ethp2p_ssdp_reply_build(buf, sizeof buf, &len, &r), 0);
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&p, buf, len, NULL), 0);
  ck_assert_mem_eq(&p, &r, sizeof p);
}
END_TEST

START_TEST(reply_parse_mixed_case_headers_and_cache_control_lists) {
  ethp2p_ssdp_reply r;
  ck_assert_int_eq(
      ethp2p_ssdp_reply_parse(&r,
                              S("HTTP/1.0 200\r\n"
                                "Location:http://10.0.0.1/d.xml\r\n"
                                "cache-control: no-cache=\"Ext\", max-age = 90\r\n"
                                "sT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
                                "Location: http://evil/\r\n"
                                "\r\n"),
                              NULL),
      0);
  ck_assert_str_eq(r.location, "http://10.0.0.1/d.xml");
  ck_assert_uint_eq(r.max_age, 90);
  ck_assert_str_eq(r.usn, "");
}
END_TEST

START_TEST(reply_parse_refuses_missing_fields_and_oversize) {
  ethp2p_ssdp_reply r;
  ethp2p_diag d = {0};
  uint8_t big[ETHP2P_SSDP_MAX_LEN + 1];
  char loc[400];
  char dgram[600];
  int n;
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&r, S("HTTP/1.1 200 OK\r\nST: x\r\n\r\n"), &d),
                   ETHP2P_ESYNTAX);
  ck_assert_str_eq(d.msg, "reply without LOCATION");
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&r, S("HTTP/1.1 404 Not Found\r\n\r\n"), &d), 0);
  ck_assert_int_eq(r.status, 404);
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&r, S("NOTIFY * HTTP/1.1\r\nLOCATION: x\r\n\r\n"), &d),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&r, S("HTTP/1.1 20 OK\r\n\r\n"), &d), ETHP2P_ESYNTAX);
  memset(big, 'a', sizeof big);
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&r, big, sizeof big, &d), ETHP2P_ETOOBIG);
  memset(loc, 'b', sizeof loc);
  loc[sizeof loc - 1] = '\0';
  n = snprintf(dgram, sizeof dgram, "HTTP/1.1 200 OK\r\nLOCATION: %s\r\nST: x\r\n\r\n", loc);
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&r, (uint8_t *)dgram, (size_t)n, &d), ETHP2P_ETOOBIG);
  ck_assert_uint_eq(d.offset, 17);
}
END_TEST

START_TEST(reply_parse_never_reads_past_any_truncation) {
  uint8_t buf[2048];
  size_t len = read_fixture("ssdp_reply_miniupnpd.txt", buf, sizeof buf), i;
  for (i = 0; i < len; i++) {
    ethp2p_ssdp_reply r;
    uint8_t *copy = malloc(i + 1);
    int rc;
    memcpy(copy, buf, i);
    rc = ethp2p_ssdp_reply_parse(&r, copy, i, NULL);
    ck_assert_int_ne(rc, 0);
    free(copy);
  }
}
END_TEST

/* The shape miniupnpd 2.3.1 sends (minissdp.c SendSSDPNotify), OPT and 01-NLS included. */
static const char mupnp_alive[] = "NOTIFY * HTTP/1.1\r\n"
                                  "HOST: 239.255.255.250:1900\r\n"
                                  "CACHE-CONTROL: max-age=120\r\n"
                                  "LOCATION: http://192.168.50.1:5000/rootDesc.xml\r\n"
                                  "SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n"
                                  "NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
                                  "USN: uuid:b7a1c0de-0000-4000-8000-000000000001::"
                                  "urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
                                  "NTS: ssdp:alive\r\n"
                                  "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
                                  "01-NLS: 1700000000\r\n"
                                  "BOOTID.UPNP.ORG: 1700000000\r\n"
                                  "CONFIGID.UPNP.ORG: 1337\r\n"
                                  "\r\n";

static const char mupnp_byebye[] =
    "NOTIFY * HTTP/1.1\r\n"
    "HOST: 239.255.255.250:1900\r\n"
    "NT: upnp:rootdevice\r\n"
    "USN: uuid:b7a1c0de-0000-4000-8000-000000000001::upnp:rootdevice\r\n"
    "NTS: ssdp:byebye\r\n"
    "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
    "01-NLS: 1700000000\r\n"
    "BOOTID.UPNP.ORG: 1700000000\r\n"
    "CONFIGID.UPNP.ORG: 1337\r\n"
    "\r\n";

START_TEST(notify_parse_reads_miniupnpd_alive_and_byebye) {
  ethp2p_ssdp_notify n;
  ck_assert_int_eq(ethp2p_ssdp_notify_parse(&n, S(mupnp_alive), NULL), 0);
  ck_assert_int_eq(n.nts, ETHP2P_SSDP_NTS_ALIVE);
  ck_assert_str_eq(n.nt, ETHP2P_SSDP_ST_IGD1);
  ck_assert_str_eq(n.location, "http://192.168.50.1:5000/rootDesc.xml");
  ck_assert_uint_eq(n.max_age, 120);
  ck_assert(n.has_bootid);
  ck_assert_uint_eq(n.bootid, 1700000000u);
  ck_assert(n.has_configid);
  ck_assert_uint_eq(n.configid, 1337);
  ck_assert(!n.has_next_bootid);
  ck_assert_str_eq(n.server, "Debian/12 UPnP/1.1 MiniUPnPd/2.3.1");
  ck_assert_int_eq(ethp2p_ssdp_notify_parse(&n, S(mupnp_byebye), NULL), 0);
  ck_assert_int_eq(n.nts, ETHP2P_SSDP_NTS_BYEBYE);
  ck_assert_str_eq(n.nt, "upnp:rootdevice");
  ck_assert_str_eq(n.location, "");
  ck_assert_uint_eq(n.bootid, 1700000000u);
}
END_TEST

START_TEST(notify_build_round_trips_each_kind) {
  ethp2p_ssdp_notify n, back;
  uint8_t buf[ETHP2P_SSDP_MAX_LEN];
  size_t len;
  for (int k = ETHP2P_SSDP_NTS_ALIVE; k <= ETHP2P_SSDP_NTS_UPDATE; k++) {
    memset(&n, 0, sizeof n);
    n.nts = (ethp2p_ssdp_nts)k;
    COPY(n.nt, ETHP2P_SSDP_ST_IGD2);
    COPY(n.usn, "uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:2");
    COPY(n.location, "http://10.0.0.1:80/d.xml");
    COPY(n.server, "Test/1 UPnP/1.1 t/1");
    n.max_age = 1800;
    n.has_bootid = true;
    n.bootid = 7;
    n.has_configid = true;
    n.configid = 9;
    n.has_next_bootid = k == ETHP2P_SSDP_NTS_UPDATE;
    n.next_bootid = 8;
    ck_assert_int_eq(ethp2p_ssdp_notify_build(buf, sizeof buf, &len, &n), 0);
    ck_assert_int_eq(ethp2p_ssdp_notify_parse(&back, buf, len, NULL), 0);
    ck_assert_int_eq(back.nts, k);
    ck_assert_str_eq(back.nt, n.nt);
    ck_assert_str_eq(back.usn, n.usn);
    ck_assert_str_eq(back.location, k == ETHP2P_SSDP_NTS_BYEBYE ? "" : n.location);
    ck_assert_uint_eq(back.max_age, k == ETHP2P_SSDP_NTS_ALIVE ? 1800 : 0);
    ck_assert_uint_eq(back.bootid, 7);
    ck_assert_uint_eq(back.configid, 9);
    ck_assert(back.has_next_bootid == (k == ETHP2P_SSDP_NTS_UPDATE));
    ck_assert_str_eq(back.host, "239.255.255.250:1900");
  }
  /* Too small a buffer says how much is needed. */
  ck_assert_int_eq(ethp2p_ssdp_notify_build(buf, 10, &len, &n), ETHP2P_ESPACE);
  ck_assert_uint_gt(len, 10);
  /* Refused: alive without LOCATION, CR/LF in a value, bad NTS. */
  n.nts = ETHP2P_SSDP_NTS_ALIVE;
  n.location[0] = '\0';
  ck_assert_int_eq(ethp2p_ssdp_notify_build(buf, sizeof buf, &len, &n), ETHP2P_EINVAL);
  COPY(n.location, "http://10.0.0.1/\r\nX: y");
  ck_assert_int_eq(ethp2p_ssdp_notify_build(buf, sizeof buf, &len, &n), ETHP2P_EINVAL);
  COPY(n.location, "http://10.0.0.1/");
  n.nts = (ethp2p_ssdp_nts)9;
  ck_assert_int_eq(ethp2p_ssdp_notify_build(buf, sizeof buf, &len, &n), ETHP2P_EINVAL);
}
END_TEST

START_TEST(notify_parse_refuses_what_is_not_a_usable_notify) {
  ethp2p_ssdp_notify n;
  ck_assert_int_eq(
      ethp2p_ssdp_notify_parse(&n, S("M-SEARCH * HTTP/1.1\r\nST: a\r\nMAN: x\r\n\r\n"), NULL),
      ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_notify_parse(&n, S("HTTP/1.1 200 OK\r\nST: a\r\n\r\n"), NULL),
                   ETHP2P_ESYNTAX);
  /* no NT */
  ck_assert_int_eq(ethp2p_ssdp_notify_parse(
                       &n, S("NOTIFY * HTTP/1.1\r\nNTS: ssdp:byebye\r\nUSN: uuid:a\r\n\r\n"), NULL),
                   ETHP2P_ESYNTAX);
  /* no USN */
  ck_assert_int_eq(ethp2p_ssdp_notify_parse(
                       &n, S("NOTIFY * HTTP/1.1\r\nNT: a\r\nNTS: ssdp:byebye\r\n\r\n"), NULL),
                   ETHP2P_ESYNTAX);
  /* alive without LOCATION */
  ck_assert_int_eq(
      ethp2p_ssdp_notify_parse(
          &n, S("NOTIFY * HTTP/1.1\r\nNT: a\r\nNTS: ssdp:alive\r\nUSN: uuid:a\r\n\r\n"), NULL),
      ETHP2P_ESYNTAX);
  /* unknown NTS */
  ck_assert_int_eq(
      ethp2p_ssdp_notify_parse(
          &n, S("NOTIFY * HTTP/1.1\r\nNT: a\r\nNTS: ssdp:sleep\r\nUSN: uuid:a\r\n\r\n"), NULL),
      ETHP2P_EUNSUPP);
  /* BOOTID above 31 bits, or not a number */
  ck_assert_int_eq(ethp2p_ssdp_notify_parse(&n,
                                            S("NOTIFY * HTTP/1.1\r\nNT: a\r\nNTS: ssdp:byebye\r\n"
                                              "USN: uuid:a\r\nBOOTID.UPNP.ORG: 2147483648\r\n\r\n"),
                                            NULL),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_notify_parse(&n,
                                            S("NOTIFY * HTTP/1.1\r\nNT: a\r\nNTS: ssdp:byebye\r\n"
                                              "USN: uuid:a\r\nBOOTID.UPNP.ORG: -1\r\n\r\n"),
                                            NULL),
                   ETHP2P_ESYNTAX);
  ck_assert(!n.has_bootid); /* zeroed on failure */
  /* lower-case names and LF-only lines are fine */
  ck_assert_int_eq(ethp2p_ssdp_notify_parse(&n,
                                            S("NOTIFY * HTTP/1.1\nnt: a\nnts: ssdp:byebye\n"
                                              "usn: uuid:a\nbootid.upnp.org: 2147483647\n\n"),
                                            NULL),
                   0);
  ck_assert_uint_eq(n.bootid, 2147483647u);
}
END_TEST

START_TEST(notify_parse_never_reads_past_any_truncation) {
  size_t i;
  for (i = 0; i < sizeof mupnp_alive - 1; i++) {
    ethp2p_ssdp_notify n;
    uint8_t *copy = malloc(i + 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, mupnp_alive, i);
    ck_assert_int_ne(ethp2p_ssdp_notify_parse(&n, copy, i, NULL), 0);
    free(copy);
  }
}
END_TEST

START_TEST(st_is_gateway_knows_the_four_targets) {
  ck_assert(ethp2p_ssdp_st_is_gateway(ETHP2P_SSDP_ST_IGD1));
  ck_assert(ethp2p_ssdp_st_is_gateway("URN:schemas-upnp-org:device:WANConnectionDevice:2"));
  ck_assert(!ethp2p_ssdp_st_is_gateway("upnp:rootdevice"));
  ck_assert(!ethp2p_ssdp_st_is_gateway(NULL));
}
END_TEST

static ethp2p_addr addr6(const char *s, uint32_t scope) {
  ethp2p_addr a;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&a, s), 0);
  a.scope = scope;
  return a;
}

/* The answer the real miniupnpd 2.3.1 gave to a unicast M-SEARCH over IPv6
 * (tests/pinhole_miniupnpd_test.sh): a bracketed LOCATION on its own address. */
START_TEST(ipv6_reply_from_miniupnpd_has_a_bracketed_location_on_its_sender) {
  uint8_t buf[ETHP2P_SSDP_MAX_LEN];
  size_t n = read_fixture("ssdp_reply_miniupnpd_v6.txt", buf, sizeof buf);
  ethp2p_ssdp_reply r;
  ethp2p_http_url u;
  char ip[ETHP2P_ADDRSTRLEN];
  ck_assert_int_eq(ethp2p_ssdp_reply_parse(&r, buf, n, NULL), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.location, "http://[3fff:0:1::1]:5000/rootDesc.xml");
  ck_assert(ethp2p_ssdp_st_is_gateway(r.st));
  ethp2p_addr from = addr6("3fff:0:1::1", 0);
  from.port = 1900;
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, r.location, &from, NULL), 0);
  ck_assert(u.has_addr);
  ck_assert_str_eq(ethp2p_addr_format(&u.addr, true, ip, sizeof ip), "[3fff:0:1::1]:5000");
  ck_assert_uint_eq(u.addr.scope, 0);
  ck_assert_str_eq(u.path, "/rootDesc.xml");
  /* The same datagram from another host is a spoof (or a relay): refused. */
  ethp2p_addr other = addr6("3fff:0:1::2", 0);
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, r.location, &other, &d), ETHP2P_EPERM);
  ck_assert_uint_eq(u.has_addr, false);
  ck_assert_ptr_nonnull(strstr(d.msg, "not the sender"));
}
END_TEST

START_TEST(link_local_locations_take_the_zone_they_came_in_on) {
  ethp2p_http_url u;
  char ip[ETHP2P_ADDRSTRLEN];
  ethp2p_addr from = addr6("fe80::1", 7);
  /* RFC 6874 form, the bare '%' form, and none: the device's zone name means nothing here,
   * the datagram's interface (7) is what a connection needs. */
  static const char *const ok[] = {"http://[fe80::1%25br-lan]:5000/rootDesc.xml",
                                   "http://[FE80::1%eth0]:5000/rootDesc.xml",
                                   "http://[fe80::1]:5000/rootDesc.xml"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    ck_assert_msg(ethp2p_ssdp_location_parse(&u, ok[i], &from, NULL) == 0, "%s", ok[i]);
    ck_assert_str_eq(ethp2p_addr_format(&u.addr, true, ip, sizeof ip), "[fe80::1]:5000");
    ck_assert_uint_eq(u.addr.scope, 7);
    ck_assert_int_eq(strcasecmp(u.host, "fe80::1"), 0); /* as written, without the zone */
    ck_assert_str_eq(u.path, "/rootDesc.xml");
  }
  /* A zone on a global address, an empty or odd zone, an unbracketed host. */
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://[3fff::1%25eth0]:5000/", &from, NULL),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://[fe80::1%25]:5000/", &from, NULL),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://[fe80::1%]:5000/", &from, NULL),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://[fe80::1%e/0]:5000/", &from, NULL),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://[fe80::1%25e th]:5000/", &from, NULL),
                   ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://[fe80::2%25eth0]:5000/", &from, NULL),
                   ETHP2P_EPERM);
  /* A name, an IPv4 host for an IPv6 sender, and the reverse. */
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://router.lan:5000/", &from, NULL),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://192.168.1.1:5000/", &from, NULL),
                   ETHP2P_EINVAL);
  ethp2p_addr v4 = ethp2p_addr_v4(192, 168, 1, 1, 1900);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://[fe80::1]:5000/", &v4, NULL),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "http://192.168.1.1:5000/d.xml", &v4, NULL), 0);
  ck_assert_uint_eq(u.addr.family, 4);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(&u, "https://[fe80::1]/", &from, NULL),
                   ETHP2P_EUNSUPP);
  ck_assert_int_eq(ethp2p_ssdp_location_parse(NULL, "http://[fe80::1]/", &from, NULL),
                   ETHP2P_EINVAL);
  /* Control URLs resolved against such a LOCATION keep their zone too. */
  ck_assert_int_eq(
      ethp2p_ssdp_url_parse_zoned(&u, "http://[fe80::1%25lan]:5000/ctl/IP6FCtl", 3, NULL), 0);
  ck_assert_uint_eq(u.addr.scope, 3);
  ck_assert_str_eq(u.path, "/ctl/IP6FCtl");
  ck_assert_int_eq(ethp2p_ssdp_url_parse_zoned(&u, "http://[3fff::1]:5000/ctl", 3, NULL), 0);
  ck_assert_uint_eq(u.addr.scope, 0);
}
END_TEST

START_TEST(ipv6_search_goes_to_the_link_local_group) {
  ethp2p_ssdp_search s, back;
  uint8_t buf[512];
  size_t len;
  memset(&s, 0, sizeof s);
  s.mx = 1;
  COPY(s.st, ETHP2P_SSDP_ST_IGD2);
  COPY(s.host, ETHP2P_SSDP_HOST_V6);
  ck_assert_int_eq(ethp2p_ssdp_search_build(buf, sizeof buf, &len, &s), 0);
  ck_assert_ptr_nonnull(memmem(buf, len, "HOST: [FF02::C]:1900\r\n", 22));
  ck_assert_int_eq(ethp2p_ssdp_search_parse(&back, buf, len, NULL), 0);
  ck_assert_str_eq(back.host, "[FF02::C]:1900");
  ethp2p_addr g;
  ck_assert_int_eq(ethp2p_addr_parse_ip(&g, ETHP2P_SSDP_GROUP_V6), 0);
  ck_assert(ethp2p_addr_is_multicast(&g));
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_ssdp");
  TCase *tc = tcase_create("ssdp");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, search_build_has_exact_bytes);
  tcase_add_test(tc, search_build_unicast_omits_mx_and_reports_space);
  tcase_add_test(tc, search_parse_round_trips_and_reads_upnpc_capture);
  tcase_add_test(tc, search_parse_is_case_insensitive_and_tolerates_lf);
  tcase_add_test(tc, search_parse_refuses_bad_requests);
  tcase_add_test(tc, reply_parse_reads_miniupnpd_capture);
  tcase_add_test(tc, reply_build_round_trips);
  tcase_add_test(tc, reply_parse_mixed_case_headers_and_cache_control_lists);
  tcase_add_test(tc, reply_parse_refuses_missing_fields_and_oversize);
  tcase_add_test(tc, reply_parse_never_reads_past_any_truncation);
  tcase_add_test(tc, st_is_gateway_knows_the_four_targets);
  tcase_add_test(tc, notify_parse_reads_miniupnpd_alive_and_byebye);
  tcase_add_test(tc, notify_build_round_trips_each_kind);
  tcase_add_test(tc, notify_parse_refuses_what_is_not_a_usable_notify);
  tcase_add_test(tc, notify_parse_never_reads_past_any_truncation);
  tcase_add_test(tc, ipv6_reply_from_miniupnpd_has_a_bracketed_location_on_its_sender);
  tcase_add_test(tc, link_local_locations_take_the_zone_they_came_in_on);
  tcase_add_test(tc, ipv6_search_goes_to_the_link_local_group);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
