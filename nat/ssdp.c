/*
 * nat/ssdp.c — SSDP codec: M-SEARCH request/response (UPnP Device Architecture 1.1 §1.3) and
 * NOTIFY advertisements (§1.2).
 * See nat/ssdp.h for the accepted forms.
 */
#include "nat/ssdp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One line of the datagram: [start, end) without the line terminator. */
typedef struct ssdp_line {
  const char *s;
  size_t n;
  size_t off; /* offset of the line in the datagram */
} ssdp_line;

typedef struct ssdp_reader {
  const char *buf;
  size_t len;
  size_t pos;
} ssdp_reader;

/* Next line; returns 0 on success, ETHP2P_ETRUNC when no line terminator remains,
 * ETHP2P_ESYNTAX for a CR that does not end the line. */
static int ssdp_next_line(ssdp_reader *r, ssdp_line *line) {
  const char *start = r->buf + r->pos;
  const char *nl = memchr(start, '\n', r->len - r->pos);
  size_t n;
  if (nl == NULL)
    return ETHP2P_ETRUNC;
  n = (size_t)(nl - start);
  line->s = start;
  line->off = r->pos;
  if (n > 0 && start[n - 1] == '\r')
    n--;
  line->n = n;
  r->pos += (size_t)(nl - start) + 1;
  if (memchr(start, '\r', n) != NULL)
    return ETHP2P_ESYNTAX;
  return 0;
}

static int ssdp_line_error(int rc, const ssdp_line *l, size_t len, ethp2p_diag *diag) {
  if (rc == ETHP2P_ESYNTAX)
    return ethp2p_diag_set(diag, rc, l->off, "bare CR inside a line");
  return ethp2p_diag_set(diag, ETHP2P_ETRUNC, len, "header block does not end with an empty line");
}

static bool ssdp_is_ows(char c) {
  return c == ' ' || c == '\t';
}

/* Copies a trimmed value into a field; ETHP2P_ETOOBIG if it does not fit. */
static int ssdp_copy(char *dst, size_t size, const char *s, size_t n, const char *what, size_t off,
                     ethp2p_diag *diag) {
  if (n >= size)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, off, "%s value is %zu bytes, at most %zu allowed",
                           what, n, size - 1);
  memcpy(dst, s, n);
  dst[n] = '\0';
  return 0;
}

static bool ssdp_name_is(const char *s, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/* Splits "Name: value" into name and trimmed value; ESYNTAX for a line without ':'. */
static int ssdp_split(const ssdp_line *l, const char **name, size_t *name_n, const char **val,
                      size_t *val_n, ethp2p_diag *diag) {
  const char *colon = memchr(l->s, ':', l->n);
  const char *v, *e;
  if (colon == NULL || colon == l->s)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, l->off, "header line without a name and ':'");
  *name = l->s;
  *name_n = (size_t)(colon - l->s);
  /* No whitespace between the name and the colon (RFC 9112 §5.1). */
  if (ssdp_is_ows(l->s[*name_n - 1]))
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, l->off, "whitespace before ':' in a header");
  v = colon + 1;
  e = l->s + l->n;
  while (v < e && ssdp_is_ows(*v))
    v++;
  while (e > v && ssdp_is_ows(e[-1]))
    e--;
  *val = v;
  *val_n = (size_t)(e - v);
  return 0;
}

/* Parses 1*DIGIT into *out (bounded); false if not all digits or too large. */
static bool ssdp_parse_uint(const char *s, size_t n, uint32_t max, uint32_t *out) {
  uint64_t v = 0;
  size_t i;
  if (n == 0 || n > 10)
    return false;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > max)
    return false;
  *out = (uint32_t)v;
  return true;
}

static int ssdp_check_len(size_t len, ethp2p_diag *diag) {
  if (len > ETHP2P_SSDP_MAX_LEN)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, ETHP2P_SSDP_MAX_LEN,
                           "datagram of %zu bytes is larger than %d", len, ETHP2P_SSDP_MAX_LEN);
  return 0;
}

/* A NUL byte anywhere would let C strings disagree with the wire bytes. */
static int ssdp_check_nul(const uint8_t *buf, size_t len, ethp2p_diag *diag) {
  const uint8_t *z = memchr(buf, 0, len);
  if (z != NULL)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, (size_t)(z - buf), "NUL byte in datagram");
  return 0;
}

/* Extracts max-age=N from a CACHE-CONTROL value (RFC 9111 §5.2.2.1); 0 if absent. */
static uint32_t ssdp_max_age(const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t start, tok;
    while (i < n && (ssdp_is_ows(s[i]) || s[i] == ','))
      i++;
    start = i;
    while (i < n && s[i] != ',')
      i++;
    tok = i - start;
    if (tok > 8 && strncasecmp(s + start, "max-age", 7) == 0) {
      size_t j = start + 7;
      uint32_t v;
      while (j < i && ssdp_is_ows(s[j]))
        j++;
      if (j < i && s[j] == '=') {
        size_t k;
        j++;
        while (j < i && ssdp_is_ows(s[j]))
          j++;
        k = i;
        while (k > j && ssdp_is_ows(s[k - 1]))
          k--;
        if (ssdp_parse_uint(s + j, k - j, UINT32_MAX, &v))
          return v;
      }
    }
  }
  return 0;
}

/* UDA 1.1 §1.3.2: "M-SEARCH * HTTP/1.1" */
int ethp2p_ssdp_search_parse(ethp2p_ssdp_search *out, const uint8_t *buf, size_t len,
                             ethp2p_diag *diag) {
  ssdp_reader r = {(const char *)buf, len, 0};
  ssdp_line l;
  bool have_st = false, have_man = false, have_mx = false, have_host = false, have_ua = false;
  int rc;
  if (out == NULL || (buf == NULL && len > 0))
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  out->mx = -1;
  if ((rc = ssdp_check_len(len, diag)) != 0 || (rc = ssdp_check_nul(buf, len, diag)) != 0)
    return rc;
  if ((rc = ssdp_next_line(&r, &l)) != 0)
    return ssdp_line_error(rc, &l, len, diag);
  if (!(l.n == 19 && memcmp(l.s, "M-SEARCH * HTTP/1.1", 19) == 0) &&
      !(l.n == 19 && memcmp(l.s, "M-SEARCH * HTTP/1.0", 19) == 0))
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "not an M-SEARCH request line");
  for (;;) {
    const char *name, *val;
    size_t name_n, val_n;
    if ((rc = ssdp_next_line(&r, &l)) != 0)
      return ssdp_line_error(rc, &l, len, diag);
    if (l.n == 0)
      break;
    if ((rc = ssdp_split(&l, &name, &name_n, &val, &val_n, diag)) != 0)
      return rc;
    if (ssdp_name_is(name, name_n, "ST") && !have_st) {
      if ((rc = ssdp_copy(out->st, sizeof out->st, val, val_n, "ST", l.off, diag)) != 0)
        return rc;
      have_st = true;
    } else if (ssdp_name_is(name, name_n, "MAN") && !have_man) {
      if (val_n >= 2 && val[0] == '"' && val[val_n - 1] == '"') {
        out->man_quoted = true;
        val++;
        val_n -= 2;
      }
      if ((rc = ssdp_copy(out->man, sizeof out->man, val, val_n, "MAN", l.off, diag)) != 0)
        return rc;
      have_man = true;
    } else if (ssdp_name_is(name, name_n, "MX") && !have_mx) {
      uint32_t mx;
      if (!ssdp_parse_uint(val, val_n, 3600, &mx))
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, l.off, "MX is not a number of seconds");
      out->mx = (int)mx;
      have_mx = true;
    } else if (ssdp_name_is(name, name_n, "HOST") && !have_host) {
      if ((rc = ssdp_copy(out->host, sizeof out->host, val, val_n, "HOST", l.off, diag)) != 0)
        return rc;
      have_host = true;
    } else if (ssdp_name_is(name, name_n, "USER-AGENT") && !have_ua) {
      if ((rc = ssdp_copy(out->user_agent, sizeof out->user_agent, val, val_n, "USER-AGENT", l.off,
                          diag)) != 0)
        return rc;
      have_ua = true;
    }
  }
  if (!have_st || out->st[0] == '\0')
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.pos, "M-SEARCH without ST");
  if (!have_man)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.pos, "M-SEARCH without MAN");
  return 0;
}

/* UDA 1.1 §1.3.3: "HTTP/1.1 200 OK" plus LOCATION, ST, USN, ... */
int ethp2p_ssdp_reply_parse(ethp2p_ssdp_reply *out, const uint8_t *buf, size_t len,
                            ethp2p_diag *diag) {
  ssdp_reader r = {(const char *)buf, len, 0};
  ssdp_line l;
  bool have_loc = false, have_st = false, have_usn = false, have_server = false, have_cc = false;
  uint32_t status;
  int rc;
  if (out == NULL || (buf == NULL && len > 0))
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  if ((rc = ssdp_check_len(len, diag)) != 0 || (rc = ssdp_check_nul(buf, len, diag)) != 0)
    return rc;
  if ((rc = ssdp_next_line(&r, &l)) != 0)
    return ssdp_line_error(rc, &l, len, diag);
  /* "HTTP/1.x NNN[ reason]" */
  if (l.n < 12 || memcmp(l.s, "HTTP/1.", 7) != 0 || (l.s[7] != '0' && l.s[7] != '1') ||
      l.s[8] != ' ' || !ssdp_parse_uint(l.s + 9, 3, 999, &status) || status < 100 ||
      (l.n > 12 && l.s[12] != ' '))
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "not an HTTP/1.x status line");
  out->status = (int)status;
  for (;;) {
    const char *name, *val;
    size_t name_n, val_n;
    if ((rc = ssdp_next_line(&r, &l)) != 0)
      return ssdp_line_error(rc, &l, len, diag);
    if (l.n == 0)
      break;
    if ((rc = ssdp_split(&l, &name, &name_n, &val, &val_n, diag)) != 0)
      return rc;
    if (ssdp_name_is(name, name_n, "LOCATION") && !have_loc) {
      if ((rc = ssdp_copy(out->location, sizeof out->location, val, val_n, "LOCATION", l.off,
                          diag)) != 0)
        return rc;
      have_loc = true;
    } else if (ssdp_name_is(name, name_n, "ST") && !have_st) {
      if ((rc = ssdp_copy(out->st, sizeof out->st, val, val_n, "ST", l.off, diag)) != 0)
        return rc;
      have_st = true;
    } else if (ssdp_name_is(name, name_n, "USN") && !have_usn) {
      if ((rc = ssdp_copy(out->usn, sizeof out->usn, val, val_n, "USN", l.off, diag)) != 0)
        return rc;
      have_usn = true;
    } else if (ssdp_name_is(name, name_n, "SERVER") && !have_server) {
      if ((rc = ssdp_copy(out->server, sizeof out->server, val, val_n, "SERVER", l.off, diag)) != 0)
        return rc;
      have_server = true;
    } else if (ssdp_name_is(name, name_n, "CACHE-CONTROL") && !have_cc) {
      out->max_age = ssdp_max_age(val, val_n);
      have_cc = true;
    } else if (ssdp_name_is(name, name_n, "BOOTID.UPNP.ORG") && !out->has_bootid) {
      out->has_bootid = ssdp_parse_uint(val, val_n, 0x7fffffffu, &out->bootid);
    }
  }
  if (out->status == 200 && (out->location[0] == '\0' || out->st[0] == '\0'))
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.pos,
                           out->location[0] == '\0' ? "reply without LOCATION"
                                                    : "reply without ST");
  return 0;
}

/* UDA 1.1 §1.2: "NOTIFY * HTTP/1.1" plus NT, NTS, USN, LOCATION, BOOTID.UPNP.ORG, ... */
int ethp2p_ssdp_notify_parse(ethp2p_ssdp_notify *out, const uint8_t *buf, size_t len,
                             ethp2p_diag *diag) {
  ssdp_reader r = {(const char *)buf, len, 0};
  ssdp_line l;
  bool have_nt = false, have_nts = false, have_usn = false, have_loc = false, have_host = false,
       have_server = false, have_cc = false;
  int rc;
  if (out == NULL || (buf == NULL && len > 0))
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  if ((rc = ssdp_check_len(len, diag)) != 0 || (rc = ssdp_check_nul(buf, len, diag)) != 0)
    return rc;
  if ((rc = ssdp_next_line(&r, &l)) != 0)
    return ssdp_line_error(rc, &l, len, diag);
  if (!(l.n == 17 &&
        (memcmp(l.s, "NOTIFY * HTTP/1.1", 17) == 0 || memcmp(l.s, "NOTIFY * HTTP/1.0", 17) == 0)))
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "not a NOTIFY request line");
  for (;;) {
    const char *name, *val;
    size_t name_n, val_n;
    uint32_t *num = NULL;
    bool *flag = NULL;
    if ((rc = ssdp_next_line(&r, &l)) != 0)
      return ssdp_line_error(rc, &l, len, diag);
    if (l.n == 0)
      break;
    if ((rc = ssdp_split(&l, &name, &name_n, &val, &val_n, diag)) != 0)
      return rc;
    if (ssdp_name_is(name, name_n, "NT") && !have_nt) {
      if ((rc = ssdp_copy(out->nt, sizeof out->nt, val, val_n, "NT", l.off, diag)) != 0)
        return rc;
      have_nt = true;
    } else if (ssdp_name_is(name, name_n, "NTS") && !have_nts) {
      if (ssdp_name_is(val, val_n, "ssdp:alive"))
        out->nts = ETHP2P_SSDP_NTS_ALIVE;
      else if (ssdp_name_is(val, val_n, "ssdp:byebye"))
        out->nts = ETHP2P_SSDP_NTS_BYEBYE;
      else if (ssdp_name_is(val, val_n, "ssdp:update"))
        out->nts = ETHP2P_SSDP_NTS_UPDATE;
      else
        return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, l.off, "unknown NTS");
      have_nts = true;
    } else if (ssdp_name_is(name, name_n, "USN") && !have_usn) {
      if ((rc = ssdp_copy(out->usn, sizeof out->usn, val, val_n, "USN", l.off, diag)) != 0)
        return rc;
      have_usn = true;
    } else if (ssdp_name_is(name, name_n, "LOCATION") && !have_loc) {
      if ((rc = ssdp_copy(out->location, sizeof out->location, val, val_n, "LOCATION", l.off,
                          diag)) != 0)
        return rc;
      have_loc = true;
    } else if (ssdp_name_is(name, name_n, "HOST") && !have_host) {
      if ((rc = ssdp_copy(out->host, sizeof out->host, val, val_n, "HOST", l.off, diag)) != 0)
        return rc;
      have_host = true;
    } else if (ssdp_name_is(name, name_n, "SERVER") && !have_server) {
      if ((rc = ssdp_copy(out->server, sizeof out->server, val, val_n, "SERVER", l.off, diag)) != 0)
        return rc;
      have_server = true;
    } else if (ssdp_name_is(name, name_n, "CACHE-CONTROL") && !have_cc) {
      out->max_age = ssdp_max_age(val, val_n);
      have_cc = true;
    } else if (ssdp_name_is(name, name_n, "BOOTID.UPNP.ORG") && !out->has_bootid) {
      num = &out->bootid;
      flag = &out->has_bootid;
    } else if (ssdp_name_is(name, name_n, "CONFIGID.UPNP.ORG") && !out->has_configid) {
      num = &out->configid;
      flag = &out->has_configid;
    } else if (ssdp_name_is(name, name_n, "NEXTBOOTID.UPNP.ORG") && !out->has_next_bootid) {
      num = &out->next_bootid;
      flag = &out->has_next_bootid;
    }
    if (num != NULL) {
      /* UDA 1.1 §1.2.2: "a non-negative 31-bit integer" in decimal. */
      if (!ssdp_parse_uint(val, val_n, 0x7fffffffu, num))
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, l.off, "%.*s is not a 31-bit number",
                               (int)name_n, name);
      *flag = true;
    }
  }
  if (!have_nt || out->nt[0] == '\0')
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.pos, "NOTIFY without NT");
  if (!have_nts)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.pos, "NOTIFY without NTS");
  if (!have_usn || out->usn[0] == '\0')
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.pos, "NOTIFY without USN");
  if (out->nts != ETHP2P_SSDP_NTS_BYEBYE && out->location[0] == '\0')
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, r.pos, "ssdp:alive or update without LOCATION");
  return 0;
}

/* ---------------------------------------------------------------------------
 * Builders.
 * ------------------------------------------------------------------------- */
typedef struct ssdp_out {
  uint8_t *buf;
  size_t size;
  size_t len; /* bytes needed so far (may exceed size) */
} ssdp_out;

static void ssdp_put(ssdp_out *o, const char *s) {
  size_t n = strlen(s);
  if (o->len < o->size)
    memcpy(o->buf + o->len, s, o->len + n <= o->size ? n : o->size - o->len);
  o->len += n;
}

static bool ssdp_value_ok(const char *s) {
  return s != NULL && strpbrk(s, "\r\n") == NULL;
}

static void ssdp_put_header(ssdp_out *o, const char *name, const char *value) {
  ssdp_put(o, name);
  ssdp_put(o, ": ");
  ssdp_put(o, value);
  ssdp_put(o, "\r\n");
}

static int ssdp_finish(ssdp_out *o, size_t *len) {
  *len = o->len;
  if (o->len > o->size)
    return ETHP2P_ESPACE;
  if (o->len < o->size)
    o->buf[o->len] = 0;
  return 0;
}

int ethp2p_ssdp_search_build(uint8_t *buf, size_t size, size_t *len,
                             const ethp2p_ssdp_search *search) {
  ssdp_out o = {buf, size, 0};
  char mx[16];
  if (len == NULL || search == NULL || (buf == NULL && size > 0))
    return ETHP2P_EINVAL;
  *len = 0;
  if (search->st[0] == '\0' || !ssdp_value_ok(search->st) || !ssdp_value_ok(search->host) ||
      !ssdp_value_ok(search->user_agent))
    return ETHP2P_EINVAL;
  ssdp_put(&o, "M-SEARCH * HTTP/1.1\r\n");
  ssdp_put_header(&o, "HOST", search->host[0] != '\0' ? search->host : "239.255.255.250:1900");
  ssdp_put_header(&o, "MAN", "\"ssdp:discover\"");
  if (search->mx >= 0) {
    snprintf(mx, sizeof mx, "%d", search->mx);
    ssdp_put_header(&o, "MX", mx);
  }
  ssdp_put_header(&o, "ST", search->st);
  if (search->user_agent[0] != '\0')
    ssdp_put_header(&o, "USER-AGENT", search->user_agent);
  ssdp_put(&o, "\r\n");
  return ssdp_finish(&o, len);
}

int ethp2p_ssdp_reply_build(uint8_t *buf, size_t size, size_t *len,
                            const ethp2p_ssdp_reply *reply) {
  ssdp_out o = {buf, size, 0};
  char line[64];
  if (len == NULL || reply == NULL || (buf == NULL && size > 0))
    return ETHP2P_EINVAL;
  *len = 0;
  if (reply->location[0] == '\0' || reply->st[0] == '\0' || !ssdp_value_ok(reply->location) ||
      !ssdp_value_ok(reply->st) || !ssdp_value_ok(reply->usn) || !ssdp_value_ok(reply->server) ||
      reply->status < 100 || reply->status > 999)
    return ETHP2P_EINVAL;
  snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", reply->status,
           reply->status == 200 ? "OK" : "Error");
  ssdp_put(&o, line);
  if (reply->max_age > 0) {
    snprintf(line, sizeof line, "max-age=%u", (unsigned)reply->max_age);
    ssdp_put_header(&o, "CACHE-CONTROL", line);
  }
  ssdp_put(&o, "EXT:\r\n");
  ssdp_put_header(&o, "LOCATION", reply->location);
  if (reply->server[0] != '\0')
    ssdp_put_header(&o, "SERVER", reply->server);
  ssdp_put_header(&o, "ST", reply->st);
  if (reply->usn[0] != '\0')
    ssdp_put_header(&o, "USN", reply->usn);
  if (reply->has_bootid) {
    snprintf(line, sizeof line, "%u", (unsigned)(reply->bootid & 0x7fffffffu));
    ssdp_put_header(&o, "BOOTID.UPNP.ORG", line);
  }
  ssdp_put(&o, "\r\n");
  return ssdp_finish(&o, len);
}

int ethp2p_ssdp_notify_build(uint8_t *buf, size_t size, size_t *len, const ethp2p_ssdp_notify *n) {
  static const char *const nts_names[] = {"", "ssdp:alive", "ssdp:byebye", "ssdp:update"};
  ssdp_out o = {buf, size, 0};
  char line[64];
  bool alive, byebye;
  if (len == NULL || n == NULL || (buf == NULL && size > 0))
    return ETHP2P_EINVAL;
  *len = 0;
  if (n->nts < ETHP2P_SSDP_NTS_ALIVE || n->nts > ETHP2P_SSDP_NTS_UPDATE)
    return ETHP2P_EINVAL;
  alive = n->nts == ETHP2P_SSDP_NTS_ALIVE;
  byebye = n->nts == ETHP2P_SSDP_NTS_BYEBYE;
  if (n->nt[0] == '\0' || n->usn[0] == '\0' || (!byebye && n->location[0] == '\0') ||
      !ssdp_value_ok(n->nt) || !ssdp_value_ok(n->usn) || !ssdp_value_ok(n->location) ||
      !ssdp_value_ok(n->server) || !ssdp_value_ok(n->host))
    return ETHP2P_EINVAL;
  ssdp_put(&o, "NOTIFY * HTTP/1.1\r\n");
  ssdp_put_header(&o, "HOST", n->host[0] != '\0' ? n->host : "239.255.255.250:1900");
  if (alive && n->max_age > 0) {
    snprintf(line, sizeof line, "max-age=%u", (unsigned)n->max_age);
    ssdp_put_header(&o, "CACHE-CONTROL", line);
  }
  if (!byebye)
    ssdp_put_header(&o, "LOCATION", n->location);
  if (alive && n->server[0] != '\0')
    ssdp_put_header(&o, "SERVER", n->server);
  ssdp_put_header(&o, "NT", n->nt);
  ssdp_put_header(&o, "NTS", nts_names[n->nts]);
  ssdp_put_header(&o, "USN", n->usn);
  if (n->has_bootid) {
    snprintf(line, sizeof line, "%u", (unsigned)(n->bootid & 0x7fffffffu));
    ssdp_put_header(&o, "BOOTID.UPNP.ORG", line);
  }
  if (n->has_configid) {
    snprintf(line, sizeof line, "%u", (unsigned)(n->configid & 0x7fffffffu));
    ssdp_put_header(&o, "CONFIGID.UPNP.ORG", line);
  }
  if (n->has_next_bootid) {
    snprintf(line, sizeof line, "%u", (unsigned)(n->next_bootid & 0x7fffffffu));
    ssdp_put_header(&o, "NEXTBOOTID.UPNP.ORG", line);
  }
  ssdp_put(&o, "\r\n");
  return ssdp_finish(&o, len);
}

bool ethp2p_ssdp_st_is_gateway(const char *st) {
  static const char *const targets[] = {ETHP2P_SSDP_ST_IGD1, ETHP2P_SSDP_ST_IGD2,
                                        ETHP2P_SSDP_ST_WANCONN1, ETHP2P_SSDP_ST_WANCONN2};
  size_t i;
  if (st == NULL)
    return false;
  for (i = 0; i < sizeof targets / sizeof targets[0]; i++)
    if (strcasecmp(st, targets[i]) == 0)
      return true;
  return false;
}

/* ---------------------------------------------------------------------------
 * LOCATION hosts (bracketed IPv6, zones).
 * ------------------------------------------------------------------------- */
static bool ssdp_is_link_local6(const ethp2p_addr *a) {
  return a->family == 6 && a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80;
}

static bool ssdp_zone_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '~' || c == '-';
}

static int ssdp_url_parse_zoned(ethp2p_http_url *out, const char *url, uint32_t scope,
                                ethp2p_diag *diag) {
  char copy[1024];
  const char *auth, *lb, *rb, *pct, *zone;
  size_t n;
  int rc;
  if (out == NULL || url == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  n = strlen(url);
  if (n >= sizeof copy)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 0, "URL of %zu bytes is too long", n);
  auth = strncasecmp(url, "http://", 7) == 0 ? url + 7 : NULL;
  lb = auth != NULL && auth[0] == '[' ? auth : NULL;
  rb = lb != NULL ? strchr(lb, ']') : NULL;
  pct = rb != NULL ? memchr(lb, '%', (size_t)(rb - lb)) : NULL;
  if (pct == NULL) {
    rc = ethp2p_http_url_parse(out, url, diag);
    if (rc == 0 && out->has_addr && ssdp_is_link_local6(&out->addr))
      out->addr.scope = scope;
    return rc;
  }
  /* RFC 6874 section 2: "%25" then the zone; devices also send a bare '%'. */
  zone = pct + 1;
  if (rb - zone >= 2 && zone[0] == '2' && zone[1] == '5')
    zone += 2;
  if (zone == rb)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, (size_t)(pct - url), "empty zone in IPv6 host");
  for (const char *c = zone; c < rb; c++)
    if (!ssdp_zone_char(*c))
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, (size_t)(c - url), "bad character in zone");
  memcpy(copy, url, (size_t)(pct - url));
  memcpy(copy + (pct - url), rb, n - (size_t)(rb - url) + 1);
  rc = ethp2p_http_url_parse(out, copy, diag);
  if (rc != 0)
    return rc;
  if (!out->has_addr || !ssdp_is_link_local6(&out->addr)) {
    memset(out, 0, sizeof *out);
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, (size_t)(pct - url),
                           "a zone on an address that is not link-local");
  }
  out->addr.scope = scope;
  return 0;
}

int ethp2p_ssdp_url_parse_zoned(ethp2p_http_url *out, const char *url, uint32_t scope,
                                ethp2p_diag *diag) {
  int rc = ssdp_url_parse_zoned(out, url, scope, diag);
  if (rc != 0 && out != NULL)
    memset(out, 0, sizeof *out); /* ethp2p_http_url_parse leaves what it had read */
  return rc;
}

int ethp2p_ssdp_location_parse(ethp2p_http_url *out, const char *location, const ethp2p_addr *from,
                               ethp2p_diag *diag) {
  int rc;
  if (out == NULL || location == NULL || from == NULL)
    return ETHP2P_EINVAL;
  rc = ethp2p_ssdp_url_parse_zoned(out, location, from->scope, diag);
  if (rc != 0)
    return rc;
  if (!out->has_addr || out->addr.family != from->family) {
    memset(out, 0, sizeof *out);
    return ethp2p_diag_set(diag, ETHP2P_EINVAL, 0, "LOCATION host is not an IPv%u literal",
                           (unsigned)from->family);
  }
  if (!ethp2p_addr_equal(&out->addr, from, false)) {
    memset(out, 0, sizeof *out);
    return ethp2p_diag_set(diag, ETHP2P_EPERM, 0, "LOCATION host is not the sender");
  }
  if (!ssdp_is_link_local6(&out->addr))
    out->addr.scope = 0;
  return 0;
}
