/* tests/check_nat_http.c — bounded HTTP/1.1 parser, builders and URL helpers (nat/http.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethp2p/env_uv.h"
#include "nat/http.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* Parses a whole message in one call; returns the feed result (eof applied when asked). */
static int parse_all(ethp2p_http_parser *p, ethp2p_http_kind kind, size_t cap, const char *msg,
                     size_t len, bool eof, ethp2p_diag *d) {
  size_t used = 0;
  int rc;
  ethp2p_http_parser_init(p, kind, cap, false);
  rc = ethp2p_http_parser_feed(p, (const uint8_t *)msg, len, &used, d);
  if (rc == 0 && eof)
    rc = ethp2p_http_parser_eof(p, d);
  return rc;
}

/* Feeds msg split at `split`, then (optionally) eof; returns the final result. */
static int parse_split(ethp2p_http_parser *p, ethp2p_http_kind kind, const char *msg, size_t len,
                       size_t split, bool eof) {
  size_t used = 0;
  int rc;
  ethp2p_http_parser_init(p, kind, 1 << 16, false);
  rc = ethp2p_http_parser_feed(p, (const uint8_t *)msg, split, &used, NULL);
  if (rc != 0)
    return rc;
  rc = ethp2p_http_parser_feed(p, (const uint8_t *)msg + split, len - split, &used, NULL);
  if (rc == 0 && eof)
    rc = ethp2p_http_parser_eof(p, NULL);
  return rc;
}

static const char resp_length[] = "HTTP/1.1 200 OK\r\n"
                                  "Content-Type: text/xml; charset=\"utf-8\"\r\n"
                                  "Content-Length: 11\r\n"
                                  "Server: miniupnpd\r\n"
                                  "\r\n"
                                  "hello world";
static const char resp_chunked[] = "HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n"
                                   "\r\n"
                                   "5;name=value;q=\"a b\"\r\n"
                                   "hello\r\n"
                                   "1\r\n"
                                   " \r\n"
                                   "00005\r\n"
                                   "world\r\n"
                                   "0\r\n"
                                   "X-Trailer: yes\r\n"
                                   "X-Other: 2\r\n"
                                   "\r\n";
static const char resp_close[] = "HTTP/1.0 200 OK\r\n"
                                 "Connection: close\r\n"
                                 "\r\n"
                                 "hello world";

START_TEST(response_with_content_length_exposes_fields_and_body) {
  ethp2p_http_parser p;
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, resp_length, sizeof resp_length - 1, false, NULL),
      1);
  ck_assert_int_eq(p.msg.status, 200);
  ck_assert_str_eq(p.msg.reason, "OK");
  ck_assert_int_eq(p.msg.version_minor, 1);
  ck_assert_uint_eq(p.msg.nheaders, 3);
  ck_assert_str_eq(ethp2p_http_msg_header(&p.msg, "content-type"), "text/xml; charset=\"utf-8\"");
  ck_assert_str_eq(ethp2p_http_msg_header(&p.msg, "SERVER"), "miniupnpd");
  ck_assert_ptr_null(ethp2p_http_msg_header(&p.msg, "Date"));
  ck_assert_int_eq(p.msg.framing, ETHP2P_HTTP_FRAMING_LENGTH);
  ck_assert_uint_eq(p.msg.body_len, 11);
  ck_assert_str_eq((const char *)p.msg.body, "hello world");
  ck_assert(ethp2p_http_parser_done(&p));
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(chunked_body_with_extensions_and_trailers_is_decoded) {
  ethp2p_http_parser p;
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, resp_chunked, sizeof resp_chunked - 1, false, NULL),
      1);
  ck_assert_int_eq(p.msg.framing, ETHP2P_HTTP_FRAMING_CHUNKED);
  ck_assert_uint_eq(p.msg.body_len, 11);
  ck_assert_str_eq((const char *)p.msg.body, "hello world");
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(every_split_point_gives_the_same_message) {
  static const struct {
    const char *msg;
    size_t len;
    bool eof;
  } cases[] = {
      {resp_length, sizeof resp_length - 1, false},
      {resp_chunked, sizeof resp_chunked - 1, false},
      {resp_close, sizeof resp_close - 1, true},
  };
  size_t c, split;
  for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (split = 0; split <= cases[c].len; split++) {
      ethp2p_http_parser p;
      ck_assert_int_eq(
          parse_split(&p, ETHP2P_HTTP_RESPONSE, cases[c].msg, cases[c].len, split, cases[c].eof),
          1);
      ck_assert_int_eq(p.msg.status, 200);
      ck_assert_uint_eq(p.msg.body_len, 11);
      ck_assert_str_eq((const char *)p.msg.body, "hello world");
      ethp2p_http_parser_close(&p);
    }
  }
}
END_TEST

START_TEST(byte_by_byte_feeding_matches_one_shot) {
  ethp2p_http_parser p;
  size_t i;
  int rc = 0;
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_RESPONSE, 1024, false);
  for (i = 0; i < sizeof resp_chunked - 1; i++) {
    size_t used = 0;
    rc = ethp2p_http_parser_feed(&p, (const uint8_t *)resp_chunked + i, 1, &used, NULL);
    ck_assert_uint_eq(used, 1);
    if (i + 2 < sizeof resp_chunked)
      ck_assert_int_eq(rc, 0);
  }
  ck_assert_int_eq(rc, 1);
  ck_assert_str_eq((const char *)p.msg.body, "hello world");
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(chunked_edge_cases_are_accepted_or_refused_precisely) {
  static const struct {
    const char *body; /* after the head */
    int want;
    const char *decoded;
  } cases[] = {
      {"0\r\n\r\n", 1, ""},
      {"A\r\n0123456789\r\n0\r\n\r\n", 1, "0123456789"},
      {"a\n0123456789\n0\n\n", 1, "0123456789"},
      {"3 ;ext\r\nabc\r\n0\r\n\r\n", 1, "abc"},
      {"3\t; a = b\r\nabc\r\n0;last\r\n\r\n", 1, "abc"},
      {"-3\r\nabc\r\n0\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"+3\r\nabc\r\n0\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {" 3\r\nabc\r\n0\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"0x3\r\nabc\r\n0\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"\r\nabc\r\n0\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"3\r\nabcX\r\n0\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"3\r\nabc\rX0\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"3\r\nabc\r\n0\r\nbad trailer\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"3\r\nabc\r\n0\r\n: no name\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"3\r\x01\nabc\r\n0\r\n\r\n", ETHP2P_ESYNTAX, NULL},
      {"ffffffffffffffffff\r\n", ETHP2P_ETOOBIG, NULL},
      {"10000\r\n", ETHP2P_ETOOBIG, NULL}, /* over the 1 KiB cap below */
      {"400\r\n", 0, NULL},                /* exactly the cap: fine so far */
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char msg[512];
    ethp2p_http_parser p;
    ethp2p_diag d = {0};
    int n = snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n%s",
                     cases[i].body);
    int rc = parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, msg, (size_t)n, false, &d);
    ck_assert_msg(rc == cases[i].want, "case %zu: got %d want %d (%s)", i, rc, cases[i].want,
                  d.msg);
    if (cases[i].decoded != NULL)
      ck_assert_str_eq((const char *)p.msg.body, cases[i].decoded);
    ethp2p_http_parser_close(&p);
  }
}
END_TEST

START_TEST(chunked_body_over_the_cap_across_chunks_is_too_big) {
  ethp2p_http_parser p;
  static const char msg[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n";
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 15, msg, sizeof msg - 1, false, NULL),
                   ETHP2P_ETOOBIG);
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 16, msg, sizeof msg - 1, false, NULL), 1);
  ck_assert_uint_eq(p.msg.body_len, 16);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(chunk_line_and_trailer_caps_hold) {
  char msg[8192];
  ethp2p_http_parser p;
  int n = snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
  memset(msg + n, 'e', 300);
  memcpy(msg + n + 300, "\r\n", 2);
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, msg, (size_t)n + 302, false, NULL),
                   ETHP2P_ETOOBIG);
  ethp2p_http_parser_close(&p);
  /* Trailer section: many short fields adding up past the cap. */
  n = snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
  while (n < 7000)
    n += snprintf(msg + n, sizeof msg - (size_t)n, "X-T: 0123456789012345678901234567890\r\n");
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, msg, (size_t)n, false, NULL),
                   ETHP2P_ETOOBIG);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(bad_content_lengths_are_refused) {
  static const struct {
    const char *head;
    int want;
  } cases[] = {
      {"Content-Length: -1\r\n", ETHP2P_ESYNTAX},
      {"Content-Length: 1a\r\n", ETHP2P_ESYNTAX},
      {"Content-Length: \r\n", ETHP2P_ESYNTAX},
      {"Content-Length: 3, 3\r\n", ETHP2P_ESYNTAX},
      {"Content-Length: +3\r\n", ETHP2P_ESYNTAX},
      {"Content-Length: 3\r\nContent-Length: 4\r\n", ETHP2P_ESYNTAX},
      {"Content-Length: 99999999999999999999999\r\n", ETHP2P_ESYNTAX},
      {"Content-Length: 2000\r\n", ETHP2P_ETOOBIG},
      {"Content-Length: 3\r\nContent-Length: 3\r\n", 1},
      {"Transfer-Encoding: gzip\r\n", ETHP2P_EUNSUPP},
      {"Transfer-Encoding: gzip, chunked\r\n", ETHP2P_EUNSUPP},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char msg[256];
    ethp2p_http_parser p;
    int n = snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\n%s\r\nabc", cases[i].head);
    int rc = parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, msg, (size_t)n, false, NULL);
    ck_assert_msg(rc == cases[i].want, "case %zu: got %d", i, rc);
    ethp2p_http_parser_close(&p);
  }
}
END_TEST

START_TEST(transfer_encoding_wins_in_responses_and_is_refused_with_length_in_requests) {
  ethp2p_http_parser p;
  static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
  static const char req[] = "POST /ctl HTTP/1.1\r\nContent-Length: 3\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, resp, sizeof resp - 1, false, NULL),
                   1);
  ck_assert_str_eq((const char *)p.msg.body, "ok");
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_REQUEST, 1024, req, sizeof req - 1, false, NULL),
                   ETHP2P_ESYNTAX);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(head_caps_and_header_count_are_enforced) {
  static char msg[ETHP2P_HTTP_MAX_HEAD + 256];
  ethp2p_http_parser p;
  ethp2p_diag d = {0};
  int n = snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\nX-Big: ");
  size_t i;
  memset(msg + n, 'x', ETHP2P_HTTP_MAX_HEAD);
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, msg, (size_t)n + ETHP2P_HTTP_MAX_HEAD, false, &d),
      ETHP2P_ETOOBIG);
  ck_assert_str_eq(d.msg, "head larger than the cap");
  ethp2p_http_parser_close(&p);
  n = snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\n");
  for (i = 0; i <= ETHP2P_HTTP_MAX_HEADERS; i++)
    n += snprintf(msg + n, sizeof msg - (size_t)n, "X-%zu: v\r\n", i);
  n += snprintf(msg + n, sizeof msg - (size_t)n, "\r\n");
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, msg, (size_t)n, false, &d),
                   ETHP2P_ETOOBIG);
  ck_assert_str_eq(d.msg, "too many header fields");
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(malformed_heads_are_refused) {
  static const char *const cases[] = {
      "HTTP/2.0 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/1.1  200 OK\r\n\r\n",
      "ICY 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n",
      "HTTP/1.1 200 OK\r\n folded-first\r\n\r\n",
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ethp2p_http_parser p;
    int rc = parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, cases[i], strlen(cases[i]), false, NULL);
    ck_assert_msg(rc == ETHP2P_ESYNTAX, "case %zu: got %d", i, rc);
    ck_assert_int_eq(ethp2p_http_parser_feed(&p, S("x"), NULL, NULL), ETHP2P_ESTATE);
    ethp2p_http_parser_close(&p);
  }
}
END_TEST

START_TEST(nul_byte_in_head_is_refused_with_offset) {
  ethp2p_http_parser p;
  ethp2p_diag d = {0};
  static const char msg[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, msg, sizeof msg - 1, false, &d),
                   ETHP2P_ESYNTAX);
  ck_assert_uint_eq(d.offset, 17);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(interim_responses_are_skipped_and_no_body_statuses_complete_at_once) {
  ethp2p_http_parser p;
  static const char cont[] =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  static const char nc[] = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, cont, sizeof cont - 1, false, NULL),
                   1);
  ck_assert_int_eq(p.msg.status, 200);
  ck_assert_str_eq((const char *)p.msg.body, "ok");
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, nc, sizeof nc - 1, false, NULL), 1);
  ck_assert_uint_eq(p.msg.body_len, 0);
  ethp2p_http_parser_close(&p);
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_RESPONSE, 1024, true);
  ck_assert_int_eq(
      ethp2p_http_parser_feed(&p, S("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"), NULL, NULL),
      1);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(obsolete_folding_is_unfolded_in_responses_and_refused_in_requests) {
  ethp2p_http_parser p;
  static const char resp[] = "HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\nContent-Length: 0\r\n\r\n";
  static const char req[] = "GET / HTTP/1.1\r\nX-Long: a\r\n b\r\n\r\n";
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, resp, sizeof resp - 1, false, NULL),
                   1);
  ck_assert_str_eq(ethp2p_http_msg_header(&p.msg, "X-Long"), "a    b");
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_REQUEST, 1024, req, sizeof req - 1, false, NULL),
                   ETHP2P_ESYNTAX);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(close_delimited_body_ends_at_eof_and_truncation_is_reported) {
  ethp2p_http_parser p;
  ethp2p_diag d = {0};
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, resp_close, sizeof resp_close - 1, false, NULL), 0);
  ck_assert_int_eq(p.msg.framing, ETHP2P_HTTP_FRAMING_CLOSE);
  ck_assert_int_eq(ethp2p_http_parser_eof(&p, NULL), 1);
  ck_assert_str_eq((const char *)p.msg.body, "hello world");
  ethp2p_http_parser_close(&p);
  /* Truncated Content-Length body, truncated chunked body, truncated head, nothing at all. */
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, resp_length, sizeof resp_length - 3, true, &d),
      ETHP2P_ETRUNC);
  ck_assert_str_eq(d.msg, "connection closed inside the body");
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, resp_chunked, sizeof resp_chunked - 3, true, NULL),
      ETHP2P_ETRUNC);
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, "HTTP/1.1 200", 12, true, &d),
                   ETHP2P_ETRUNC);
  ck_assert_str_eq(d.msg, "connection closed inside the head");
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(parse_all(&p, ETHP2P_HTTP_RESPONSE, 1024, "", 0, true, &d), ETHP2P_ETRUNC);
  ck_assert_str_eq(d.msg, "connection closed without a message");
  ethp2p_http_parser_close(&p);
  /* Close-delimited over the cap. */
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_RESPONSE, 5, resp_close, sizeof resp_close - 1, true, NULL),
      ETHP2P_ETOOBIG);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(requests_parse_and_pipelined_bytes_are_left_over) {
  ethp2p_http_parser p;
  size_t used = 0;
  static const char two[] = "\r\nPOST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.1.1:5000\r\n"
                            "SOAPAction: \"urn:x#A\"\r\nContent-Length: 4\r\n\r\nbody"
                            "GET /rootDesc.xml HTTP/1.0\r\n\r\n";
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_REQUEST, 1024, false);
  ck_assert_int_eq(ethp2p_http_parser_feed(&p, S(two), &used, NULL), 1);
  ck_assert_str_eq(p.msg.method, "POST");
  ck_assert_str_eq(p.msg.target, "/ctl/IPConn");
  ck_assert_str_eq(ethp2p_http_msg_header(&p.msg, "soapaction"), "\"urn:x#A\"");
  ck_assert_str_eq((const char *)p.msg.body, "body");
  ck_assert_uint_lt(used, sizeof two - 1);
  ethp2p_http_parser_reset(&p);
  ck_assert_int_eq(
      ethp2p_http_parser_feed(&p, (const uint8_t *)two + used, sizeof two - 1 - used, NULL, NULL),
      1);
  ck_assert_str_eq(p.msg.method, "GET");
  ck_assert_int_eq(p.msg.version_minor, 0);
  ck_assert_uint_eq(p.msg.body_len, 0);
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_REQUEST, 1024, "GET  / HTTP/1.1\r\n\r\n", 19, false, NULL),
      ETHP2P_ESYNTAX);
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(
      parse_all(&p, ETHP2P_HTTP_REQUEST, 1024, "GET / HTTP/1.1x\r\n\r\n", 19, false, NULL),
      ETHP2P_ESYNTAX);
  ethp2p_http_parser_close(&p);
}
END_TEST

START_TEST(builders_write_exact_bytes_and_report_space) {
  uint8_t buf[512];
  size_t len, need;
  ethp2p_http_field f[] = {{"Host", "192.168.1.1:5000"}, {"SOAPAction", "\"urn:x#A\""}};
  static const char want_req[] = "POST /ctl HTTP/1.1\r\nHost: 192.168.1.1:5000\r\n"
                                 "SOAPAction: \"urn:x#A\"\r\nContent-Length: 3\r\n\r\nabc";
  static const char want_resp[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
  ck_assert_int_eq(ethp2p_http_request_build(buf, sizeof buf, &len, "POST", "/ctl", f, 2,
                                             (const uint8_t *)"abc", 3, 0),
                   0);
  ck_assert_uint_eq(len, sizeof want_req - 1);
  ck_assert(memcmp(buf, want_req, len) == 0);
  need = len;
  ck_assert_int_eq(
      ethp2p_http_request_build(buf, 20, &len, "POST", "/ctl", f, 2, (const uint8_t *)"abc", 3, 0),
      ETHP2P_ESPACE);
  ck_assert_uint_eq(len, need);
  ck_assert_int_eq(ethp2p_http_response_build(buf, sizeof buf, &len, 500, "Internal Server Error",
                                              NULL, 0, NULL, 0, 0),
                   0);
  ck_assert_uint_eq(len, sizeof want_resp - 1);
  ck_assert(memcmp(buf, want_resp, len) == 0);
  f[1].value = "evil\r\nX: y";
  ck_assert_int_eq(ethp2p_http_request_build(buf, sizeof buf, &len, "GET", "/", f, 2, NULL, 0, 0),
                   ETHP2P_EINVAL);
  ck_assert_int_eq(
      ethp2p_http_request_build(buf, sizeof buf, &len, "GET", "/a b", NULL, 0, NULL, 0, 0),
      ETHP2P_EINVAL);
}
END_TEST

START_TEST(chunked_builder_round_trips_through_the_parser) {
  uint8_t body[3000], enc[4000], msg[4200];
  size_t i, enc_len, len;
  ethp2p_http_field te = {"Transfer-Encoding", "chunked"};
  ethp2p_http_parser p;
  for (i = 0; i < sizeof body; i++)
    body[i] = (uint8_t)(i * 7);
  ck_assert_int_eq(ethp2p_http_chunked_build(enc, sizeof enc, &enc_len, body, sizeof body, 1000),
                   0);
  ck_assert(memcmp(enc, "3e8\r\n", 5) == 0);
  ck_assert_int_eq(ethp2p_http_response_build(msg, sizeof msg, &len, 200, "OK", &te, 1, enc,
                                              enc_len, ETHP2P_HTTP_BUILD_NO_LENGTH),
                   0);
  ethp2p_http_parser_init(&p, ETHP2P_HTTP_RESPONSE, sizeof body, false);
  ck_assert_int_eq(ethp2p_http_parser_feed(&p, msg, len, NULL, NULL), 1);
  ck_assert_uint_eq(p.msg.body_len, sizeof body);
  ck_assert(memcmp(p.msg.body, body, sizeof body) == 0);
  ethp2p_http_parser_close(&p);
  ck_assert_int_eq(ethp2p_http_chunked_build(enc, sizeof enc, &enc_len, body, 1, 0), ETHP2P_EINVAL);
}
END_TEST

START_TEST(url_parse_handles_router_locations) {
  ethp2p_http_url u;
  ethp2p_diag d = {0};
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http://192.168.1.1:5000/rootDesc.xml", NULL), 0);
  ck_assert_str_eq(u.host, "192.168.1.1");
  ck_assert_uint_eq(u.port, 5000);
  ck_assert_str_eq(u.path, "/rootDesc.xml");
  ck_assert(u.has_addr);
  ck_assert_uint_eq(u.addr.port, 5000);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "HTTP://10.0.0.1", NULL), 0);
  ck_assert_uint_eq(u.port, 80);
  ck_assert_str_eq(u.path, "/");
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http://10.0.0.1:80?x=1#frag", NULL), 0);
  ck_assert_str_eq(u.path, "/?x=1");
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http://[fe80::1]:49000/igd.xml", NULL), 0);
  ck_assert_str_eq(u.host, "fe80::1");
  ck_assert(u.has_addr);
  ck_assert_int_eq(u.addr.family, 6);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http://router.lan/x", NULL), 0);
  ck_assert(!u.has_addr);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "https://10.0.0.1/", &d), ETHP2P_EUNSUPP);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http://user@10.0.0.1/", &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http://10.0.0.1:0/", &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http://10.0.0.1:65536/", &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http://10.0.0.1:5x/", &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "http:///x", &d), ETHP2P_ESYNTAX);
  ck_assert_int_eq(ethp2p_http_url_parse(&u, "/rootDesc.xml", &d), ETHP2P_ESYNTAX);
}
END_TEST

START_TEST(url_resolve_follows_rfc3986_merging) {
  char out[256];
  const char *base = "http://192.168.1.1:5000/dir/rootDesc.xml?q=1";
  ck_assert_int_eq(ethp2p_http_url_resolve(out, sizeof out, base, "/ctl/IPConn"), 0);
  ck_assert_str_eq(out, "http://192.168.1.1:5000/ctl/IPConn");
  ck_assert_int_eq(ethp2p_http_url_resolve(out, sizeof out, base, "ctl/IPConn"), 0);
  ck_assert_str_eq(out, "http://192.168.1.1:5000/dir/ctl/IPConn");
  ck_assert_int_eq(ethp2p_http_url_resolve(out, sizeof out, base, "http://10.9.9.9/x"), 0);
  ck_assert_str_eq(out, "http://10.9.9.9/x");
  ck_assert_int_eq(ethp2p_http_url_resolve(out, sizeof out, base, "//10.9.9.9:1/x"), 0);
  ck_assert_str_eq(out, "http://10.9.9.9:1/x");
  ck_assert_int_eq(ethp2p_http_url_resolve(out, sizeof out, base, "?z"), 0);
  ck_assert_str_eq(out, "http://192.168.1.1:5000/dir/rootDesc.xml?z");
  ck_assert_int_eq(ethp2p_http_url_resolve(out, sizeof out, "http://10.0.0.138:49152", "upnp/c"),
                   0);
  ck_assert_str_eq(out, "http://10.0.0.138:49152/upnp/c");
  ck_assert_int_eq(ethp2p_http_url_resolve(out, sizeof out, "http://10.0.0.138:49152/", "upnp/c"),
                   0);
  ck_assert_str_eq(out, "http://10.0.0.138:49152/upnp/c");
  ck_assert_int_eq(ethp2p_http_url_resolve(out, 10, base, "/ctl/IPConn"), ETHP2P_ESPACE);
  ck_assert_int_eq(ethp2p_http_url_resolve(out, sizeof out, "nope", "/x"), ETHP2P_ESYNTAX);
}
END_TEST

/* ---------------------------------------------------------------------------
 * The client on real loopback sockets (libuv environment): a tiny server writes a
 * scripted answer in pieces, the client must report exactly once with the right outcome.
 * ------------------------------------------------------------------------- */
typedef struct lb_server {
  ethp2p_tcp *listener;
  ethp2p_tcp *conn;
  const char *answer; /* NULL: accept and stay silent */
  size_t pieces;      /* write the answer in this many pieces */
  bool close_after;   /* close after writing (close-delimited bodies) */
  char got[2048];     /* what the client sent */
  size_t got_len;
} lb_server;

typedef struct lb_result {
  int calls;
  int status;
  int http_status;
  char body[4096];
  char diag[192];
} lb_result;

static void lb_on_read(ethp2p_tcp *c, int status, const uint8_t *buf, size_t len, void *data) {
  lb_server *s = data;
  if (status != 0)
    return;
  if (len > sizeof s->got - 1 - s->got_len)
    len = sizeof s->got - 1 - s->got_len;
  memcpy(s->got + s->got_len, buf, len);
  s->got_len += len;
  if (strstr(s->got, "\r\n\r\n") != NULL && s->answer != NULL) {
    size_t n = strlen(s->answer), step = (n + s->pieces - 1) / s->pieces, off;
    for (off = 0; off < n; off += step)
      ethp2p_tcp_write(c, (const uint8_t *)s->answer + off, off + step <= n ? step : n - off);
    s->answer = NULL;
    if (s->close_after) {
      ethp2p_tcp_close(c);
      s->conn = NULL;
    }
  }
}

static void lb_on_accept(ethp2p_tcp *l, ethp2p_tcp *c, void *data) {
  lb_server *s = data;
  s->conn = c;
  ck_assert_int_eq(ethp2p_tcp_read_start(c, lb_on_read, s), 0);
}

static void lb_on_result(ethp2p_http_client *cl, int status, const ethp2p_http_msg *resp,
                         void *data) {
  lb_result *r = data;
  r->calls++;
  r->status = status;
  snprintf(r->diag, sizeof r->diag, "%s", ethp2p_http_client_diag(cl)->msg);
  if (status == 0) {
    r->http_status = resp->status;
    snprintf(r->body, sizeof r->body, "%s", (const char *)resp->body);
  }
}

/* Runs one exchange against a loopback server scripted by s (NULL s: nobody listens). */
static void lb_exchange(lb_server *s, size_t body_cap, ethp2p_time timeout, lb_result *r) {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_addr at = ethp2p_addr_v4(127, 0, 0, 1, 0);
  ethp2p_http_client *cl;
  static const char req[] = "GET /rootDesc.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  memset(r, 0, sizeof *r);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(ethp2p_uvenv_create(&loop, &env), 0);
  if (s != NULL) {
    ck_assert_int_eq(ethp2p_tcp_listen(env, &s->listener, &at, lb_on_accept, s), 0);
    ck_assert_int_eq(ethp2p_tcp_local_addr(s->listener, &at), 0);
  } else {
    /* A port that was just free: listen, read the port, close. */
    ethp2p_tcp *tmp;
    ck_assert_int_eq(ethp2p_tcp_listen(env, &tmp, &at, lb_on_accept, NULL), 0);
    ck_assert_int_eq(ethp2p_tcp_local_addr(tmp, &at), 0);
    ethp2p_tcp_close(tmp);
  }
  ck_assert_int_eq(ethp2p_http_client_start(env, &cl, &at, NULL, (const uint8_t *)req,
                                            sizeof req - 1, body_cap, false, timeout, lb_on_result,
                                            r),
                   0);
  ck_assert_int_eq(r->calls, 0);
  while (r->calls == 0)
    uv_run(&loop, UV_RUN_ONCE);
  ethp2p_uvenv_destroy(env);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  ck_assert_int_eq(r->calls, 1);
  if (s != NULL)
    ck_assert(strncmp(s->got, "GET /rootDesc.xml HTTP/1.1\r\n", 28) == 0);
}

START_TEST(client_reads_a_chunked_response_written_in_pieces) {
  lb_server s;
  lb_result r;
  memset(&s, 0, sizeof s);
  s.answer = resp_chunked;
  s.pieces = 7;
  lb_exchange(&s, 4096, 3 * ETHP2P_SEC, &r);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(r.http_status, 200);
  ck_assert_str_eq(r.body, "hello world");
}
END_TEST

START_TEST(client_reads_a_close_delimited_response) {
  lb_server s;
  lb_result r;
  memset(&s, 0, sizeof s);
  s.answer = resp_close;
  s.pieces = 2;
  s.close_after = true;
  lb_exchange(&s, 4096, 3 * ETHP2P_SEC, &r);
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_eq(r.body, "hello world");
}
END_TEST

START_TEST(client_maps_refused_timeout_too_big_and_bad_response) {
  lb_server s;
  lb_result r;
  lb_exchange(NULL, 4096, 3 * ETHP2P_SEC, &r);
  ck_assert_int_eq(r.status, ETHP2P_ECONNREFUSED);

  memset(&s, 0, sizeof s); /* silent server */
  lb_exchange(&s, 4096, 200 * ETHP2P_MSEC, &r);
  ck_assert_int_eq(r.status, ETHP2P_ETIMEDOUT);

  memset(&s, 0, sizeof s);
  s.answer = resp_length;
  s.pieces = 1;
  lb_exchange(&s, 5, 3 * ETHP2P_SEC, &r);
  ck_assert_int_eq(r.status, ETHP2P_ETOOBIG);
  ck_assert_str_eq(r.diag, "Content-Length exceeds the body cap");

  memset(&s, 0, sizeof s);
  s.answer = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
  s.pieces = 1;
  lb_exchange(&s, 4096, 3 * ETHP2P_SEC, &r);
  ck_assert_int_eq(r.status, ETHP2P_EPROTO);

  memset(&s, 0, sizeof s); /* cut short, then closed */
  s.answer = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort";
  s.pieces = 1;
  s.close_after = true;
  lb_exchange(&s, 4096, 3 * ETHP2P_SEC, &r);
  ck_assert_int_eq(r.status, ETHP2P_EPROTO);
  ck_assert_str_eq(r.diag, "connection closed inside the body");
}
END_TEST

int main(void) {
  Suite *s = suite_create("nat_http");
  TCase *tc = tcase_create("http");
  SRunner *sr;
  int failed;
  tcase_add_test(tc, response_with_content_length_exposes_fields_and_body);
  tcase_add_test(tc, chunked_body_with_extensions_and_trailers_is_decoded);
  tcase_add_test(tc, every_split_point_gives_the_same_message);
  tcase_add_test(tc, byte_by_byte_feeding_matches_one_shot);
  tcase_add_test(tc, chunked_edge_cases_are_accepted_or_refused_precisely);
  tcase_add_test(tc, chunked_body_over_the_cap_across_chunks_is_too_big);
  tcase_add_test(tc, chunk_line_and_trailer_caps_hold);
  tcase_add_test(tc, bad_content_lengths_are_refused);
  tcase_add_test(tc, transfer_encoding_wins_in_responses_and_is_refused_with_length_in_requests);
  tcase_add_test(tc, head_caps_and_header_count_are_enforced);
  tcase_add_test(tc, malformed_heads_are_refused);
  tcase_add_test(tc, nul_byte_in_head_is_refused_with_offset);
  tcase_add_test(tc, interim_responses_are_skipped_and_no_body_statuses_complete_at_once);
  tcase_add_test(tc, obsolete_folding_is_unfolded_in_responses_and_refused_in_requests);
  tcase_add_test(tc, close_delimited_body_ends_at_eof_and_truncation_is_reported);
  tcase_add_test(tc, requests_parse_and_pipelined_bytes_are_left_over);
  tcase_add_test(tc, builders_write_exact_bytes_and_report_space);
  tcase_add_test(tc, chunked_builder_round_trips_through_the_parser);
  tcase_add_test(tc, url_parse_handles_router_locations);
  tcase_add_test(tc, url_resolve_follows_rfc3986_merging);
  suite_add_tcase(s, tc);
  tc = tcase_create("client");
  tcase_add_test(tc, client_reads_a_chunked_response_written_in_pieces);
  tcase_add_test(tc, client_reads_a_close_delimited_response);
  tcase_add_test(tc, client_maps_refused_timeout_too_big_and_bad_response);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
