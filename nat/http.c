/*
 * nat/http.c — bounded, incremental HTTP/1.1 message parser (RFC 9112), builders and URL
 * helpers.  Pure: no I/O.  See nat/http.h for the accepted forms and the caps.
 */
#include "nat/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
  HS_HEAD = 0,
  HS_BODY_LENGTH,
  HS_BODY_CLOSE,
  HS_CHUNK_SIZE,
  HS_CHUNK_DATA,
  HS_CHUNK_DATA_END, /* expecting CR or LF after chunk data */
  HS_CHUNK_DATA_LF,  /* saw CR, expecting LF */
  HS_TRAILER,
  HS_DONE,
  HS_FAILED,
};

static const uint8_t http_empty_body[1] = {0};

void ethp2p_http_parser_init(ethp2p_http_parser *p, ethp2p_http_kind kind, size_t body_cap,
                             bool head_only) {
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->body_cap = body_cap;
  p->head_only = head_only;
  p->state = HS_HEAD;
  p->msg.kind = kind;
  p->msg.body = http_empty_body;
}

void ethp2p_http_parser_close(ethp2p_http_parser *p) {
  if (p == NULL)
    return;
  free(p->body);
  p->body = NULL;
  p->body_len = 0;
  p->body_alloc = 0;
  p->msg.body = http_empty_body;
  p->msg.body_len = 0;
}

void ethp2p_http_parser_reset(ethp2p_http_parser *p) {
  ethp2p_http_kind kind = p->kind;
  size_t cap = p->body_cap;
  bool head_only = p->head_only;
  size_t offset = p->offset;
  ethp2p_http_parser_close(p);
  ethp2p_http_parser_init(p, kind, cap, head_only);
  p->offset = offset;
}

bool ethp2p_http_parser_done(const ethp2p_http_parser *p) {
  return p->state == HS_DONE;
}

const char *ethp2p_http_msg_header(const ethp2p_http_msg *msg, const char *name) {
  size_t i;
  for (i = 0; i < msg->nheaders; i++)
    if (strcasecmp(msg->headers[i].name, name) == 0)
      return msg->headers[i].value;
  return NULL;
}

/* RFC 9110 §5.6.2 tchar */
static bool http_is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    return true;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool http_is_ows(char c) {
  return c == ' ' || c == '\t';
}

static int http_fail(ethp2p_http_parser *p, ethp2p_diag *diag, int err, size_t off,
                     const char *msg) {
  p->state = HS_FAILED;
  return ethp2p_diag_set(diag, err, off, "%s", msg);
}

/* Appends body bytes, growing the buffer up to the cap (one spare byte for the NUL). */
static int http_body_append(ethp2p_http_parser *p, const uint8_t *data, size_t n) {
  if (n > p->body_cap - p->body_len)
    return ETHP2P_ETOOBIG;
  if (p->body_len + n + 1 > p->body_alloc) {
    size_t want = p->body_alloc ? p->body_alloc : 1024;
    uint8_t *nb;
    while (want < p->body_len + n + 1)
      want *= 2;
    if (want > p->body_cap + 1)
      want = p->body_cap + 1;
    nb = realloc(p->body, want);
    if (nb == NULL)
      return ETHP2P_ENOMEM;
    p->body = nb;
    p->body_alloc = want;
  }
  memcpy(p->body + p->body_len, data, n);
  p->body_len += n;
  p->body[p->body_len] = 0;
  return 0;
}

static void http_complete(ethp2p_http_parser *p) {
  p->state = HS_DONE;
  p->msg.body = p->body != NULL ? p->body : http_empty_body;
  p->msg.body_len = p->body_len;
}

/* Parses "1.<d>" after "HTTP/" (RFC 9112 §2.3); only HTTP/1.x is spoken here. */
static bool http_version(const char *s, int *minor) {
  if (strncmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9')
    return false;
  *minor = s[7] - '0';
  return true;
}

/* Parses 1*DIGIT with overflow check. */
static bool http_parse_decimal(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (*s == '\0')
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    if (v > (UINT64_MAX - 9) / 10)
      return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return true;
}

/* The head is complete in p->head[0..head_len): split it in place and decide framing. */
static int http_parse_head(ethp2p_http_parser *p, size_t base_off, ethp2p_diag *diag) {
  char *h = p->head;
  size_t n = p->head_len, i, line_no = 0;
  ethp2p_http_msg *m = &p->msg;
  const char *te = NULL;
  bool have_cl = false;
  uint64_t cl = 0;

  h[n] = '\0';
  /* Obsolete line folding (RFC 9112 §5.2): refuse in requests, unfold in responses. */
  for (i = 0; i + 1 < n; i++) {
    if (h[i] == '\n' && http_is_ows(h[i + 1])) {
      size_t first_nl = (size_t)((char *)memchr(h, '\n', n) - h);
      if (p->kind == ETHP2P_HTTP_REQUEST || i == first_nl)
        return http_fail(p, diag, ETHP2P_ESYNTAX, base_off + i + 1,
                         "header line starts with whitespace (obsolete folding)");
      h[i] = ' ';
      if (i > 0 && h[i - 1] == '\r')
        h[i - 1] = ' ';
    }
  }
  i = 0;
  while (i < n) {
    char *line = h + i, *end = memchr(line, '\n', n - i), *cr;
    size_t line_off = base_off + i;
    size_t ln;
    if (end == NULL)
      break;
    ln = (size_t)(end - line);
    i += ln + 1;
    if (ln > 0 && line[ln - 1] == '\r')
      ln--;
    line[ln] = '\0';
    cr = memchr(line, '\r', ln);
    if (cr != NULL)
      return http_fail(p, diag, ETHP2P_ESYNTAX, line_off + (size_t)(cr - line), "bare CR in head");
    if (ln == 0)
      break; /* end of head */
    if (line_no++ == 0) {
      if (p->kind == ETHP2P_HTTP_REQUEST) {
        /* request-line = method SP request-target SP HTTP-version (RFC 9112 §3) */
        char *sp1 = strchr(line, ' '), *sp2, *c;
        if (sp1 == NULL || sp1 == line)
          return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "malformed request line");
        *sp1 = '\0';
        for (c = line; *c; c++)
          if (!http_is_tchar((unsigned char)*c))
            return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "bad character in method");
        sp2 = strchr(sp1 + 1, ' ');
        if (sp2 == NULL || sp2 == sp1 + 1)
          return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "malformed request line");
        *sp2 = '\0';
        for (c = sp1 + 1; *c; c++)
          if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "bad character in request target");
        if (!http_version(sp2 + 1, &m->version_minor) || sp2[9] != '\0')
          return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "unsupported HTTP version");
        m->method = line;
        m->target = sp1 + 1;
      } else {
        /* status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4);
         * a missing SP after the code is tolerated (seen on routers). */
        char *c;
        if (!http_version(line, &m->version_minor) || line[8] != ' ' || line[9] < '1' ||
            line[9] > '9' || line[10] < '0' || line[10] > '9' || line[11] < '0' || line[11] > '9' ||
            (line[12] != '\0' && line[12] != ' '))
          return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "malformed status line");
        m->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        m->reason = line[12] == ' ' ? line + 13 : line + 12;
        for (c = line + 12; *c; c++)
          if ((unsigned char)*c < 0x20 && *c != '\t')
            return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "control character in reason");
      }
      continue;
    }
    {
      /* field-line = field-name ":" OWS field-value OWS (RFC 9112 §5) */
      char *colon = strchr(line, ':'), *v, *e, *c;
      if (colon == NULL || colon == line)
        return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "header line without a name and ':'");
      for (c = line; c < colon; c++)
        if (!http_is_tchar((unsigned char)*c))
          return http_fail(p, diag, ETHP2P_ESYNTAX, line_off + (size_t)(c - line),
                           "bad character in header name");
      *colon = '\0';
      v = colon + 1;
      while (http_is_ows(*v))
        v++;
      e = v + strlen(v);
      while (e > v && http_is_ows(e[-1]))
        e--;
      *e = '\0';
      for (c = v; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
          return http_fail(p, diag, ETHP2P_ESYNTAX, line_off + (size_t)(c - line),
                           "control character in header value");
      if (m->nheaders == ETHP2P_HTTP_MAX_HEADERS)
        return http_fail(p, diag, ETHP2P_ETOOBIG, line_off, "too many header fields");
      m->headers[m->nheaders].name = line;
      m->headers[m->nheaders].value = v;
      m->nheaders++;
      if (strcasecmp(line, "Content-Length") == 0) {
        uint64_t v64;
        if (!http_parse_decimal(v, &v64))
          return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "Content-Length is not a number");
        if (have_cl && v64 != cl)
          return http_fail(p, diag, ETHP2P_ESYNTAX, line_off, "conflicting Content-Length fields");
        have_cl = true;
        cl = v64;
      } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
        if (te != NULL)
          return http_fail(p, diag, ETHP2P_EUNSUPP, line_off, "more than one Transfer-Encoding");
        te = v;
      }
    }
  }

  /* Message body length, RFC 9112 §6.3. */
  if (p->kind == ETHP2P_HTTP_RESPONSE &&
      (p->head_only || m->status < 200 || m->status == 204 || m->status == 304)) {
    m->framing = ETHP2P_HTTP_FRAMING_NONE;
    return 0;
  }
  if (te != NULL) {
    if (strcasecmp(te, "chunked") != 0)
      return http_fail(p, diag, ETHP2P_EUNSUPP, base_off, "unsupported Transfer-Encoding");
    if (have_cl && p->kind == ETHP2P_HTTP_REQUEST)
      return http_fail(p, diag, ETHP2P_ESYNTAX, base_off,
                       "both Transfer-Encoding and Content-Length in a request");
    m->framing = ETHP2P_HTTP_FRAMING_CHUNKED;
    return 0;
  }
  if (have_cl) {
    if (cl > p->body_cap)
      return http_fail(p, diag, ETHP2P_ETOOBIG, base_off, "Content-Length exceeds the body cap");
    m->framing = cl > 0 ? ETHP2P_HTTP_FRAMING_LENGTH : ETHP2P_HTTP_FRAMING_NONE;
    m->content_length = cl;
    return 0;
  }
  m->framing =
      p->kind == ETHP2P_HTTP_REQUEST ? ETHP2P_HTTP_FRAMING_NONE : ETHP2P_HTTP_FRAMING_CLOSE;
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); line has no line end. */
static int http_chunk_size(ethp2p_http_parser *p, size_t off, ethp2p_diag *diag) {
  const char *s = p->line;
  uint64_t v = 0;
  size_t i = 0;
  int d;
  if (hexval(s[0]) < 0)
    return http_fail(p, diag, ETHP2P_ESYNTAX, off, "chunk size is not hexadecimal");
  while ((d = hexval(s[i])) >= 0) {
    if (v > (UINT64_MAX >> 4))
      return http_fail(p, diag, ETHP2P_ETOOBIG, off, "chunk size overflows");
    v = (v << 4) | (uint64_t)d;
    i++;
  }
  /* What may follow: BWS ";" chunk-ext, or nothing. */
  while (http_is_ows(s[i]))
    i++;
  if (s[i] != '\0' && s[i] != ';')
    return http_fail(p, diag, ETHP2P_ESYNTAX, off, "junk after chunk size");
  for (; s[i]; i++)
    if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
      return http_fail(p, diag, ETHP2P_ESYNTAX, off, "control character in chunk extension");
  if (v > p->body_cap - p->body_len)
    return http_fail(p, diag, ETHP2P_ETOOBIG, off, "chunked body exceeds the body cap");
  p->remaining = v;
  p->state = v == 0 ? HS_TRAILER : HS_CHUNK_DATA;
  p->line_len = 0;
  return 0;
}

int ethp2p_http_parser_feed(ethp2p_http_parser *p, const uint8_t *buf, size_t len, size_t *consumed,
                            ethp2p_diag *diag) {
  size_t i = 0;
  int rc;
  if (consumed != NULL)
    *consumed = 0;
  if (p->state == HS_DONE || p->state == HS_FAILED)
    return ethp2p_diag_set(diag, ETHP2P_ESTATE, p->offset, "parser already finished");
  if (buf == NULL && len > 0)
    return ETHP2P_EINVAL;

  while (i < len && p->state != HS_DONE) {
    size_t off = p->offset + i;
    uint8_t c = buf[i];
    switch (p->state) {
    case HS_HEAD: {
      const uint8_t *nl;
      size_t take;
      /* Copy up to and including the next LF in one go. */
      nl = memchr(buf + i, '\n', len - i);
      take = nl != NULL ? (size_t)(nl - (buf + i)) + 1 : len - i;
      if (memchr(buf + i, 0, take) != NULL)
        return http_fail(p, diag, ETHP2P_ESYNTAX, off, "NUL byte in head");
      if (take > ETHP2P_HTTP_MAX_HEAD - p->head_len)
        return http_fail(p, diag, ETHP2P_ETOOBIG, off, "head larger than the cap");
      memcpy(p->head + p->head_len, buf + i, take);
      p->head_len += take;
      i += take;
      if (nl == NULL)
        break;
      {
        size_t ls = p->line_start, ln = p->head_len - 1 - ls;
        if (ln > 0 && p->head[p->head_len - 2] == '\r')
          ln--;
        if (ln != 0) {
          p->line_start = p->head_len;
          break;
        }
        if (ls == 0) {
          /* Empty lines before the start line are ignored (RFC 9112 §2.2). */
          p->head_len = 0;
          break;
        }
      }
      /* End of head. */
      rc = http_parse_head(p, p->offset + i - p->head_len, diag);
      if (rc != 0)
        return rc;
      if (p->kind == ETHP2P_HTTP_RESPONSE && p->msg.status >= 100 && p->msg.status < 200 &&
          p->msg.status != 101) {
        /* Interim response: forget it and read the final one (RFC 9110 §15.2). */
        memset(&p->msg, 0, sizeof p->msg);
        p->msg.kind = p->kind;
        p->msg.body = http_empty_body;
        p->head_len = 0;
        p->line_start = 0;
        break;
      }
      switch (p->msg.framing) {
      case ETHP2P_HTTP_FRAMING_NONE:
        http_complete(p);
        break;
      case ETHP2P_HTTP_FRAMING_LENGTH:
        p->remaining = p->msg.content_length;
        p->state = HS_BODY_LENGTH;
        break;
      case ETHP2P_HTTP_FRAMING_CHUNKED:
        p->state = HS_CHUNK_SIZE;
        p->line_len = 0;
        break;
      case ETHP2P_HTTP_FRAMING_CLOSE:
        p->state = HS_BODY_CLOSE;
        break;
      }
      break;
    }
    case HS_BODY_LENGTH:
    case HS_CHUNK_DATA: {
      size_t take = len - i;
      if ((uint64_t)take > p->remaining)
        take = (size_t)p->remaining;
      rc = http_body_append(p, buf + i, take);
      if (rc != 0)
        return http_fail(p, diag, rc, off,
                         rc == ETHP2P_ETOOBIG ? "body exceeds the cap" : "out of memory");
      p->remaining -= take;
      i += take;
      if (p->remaining == 0) {
        if (p->state == HS_BODY_LENGTH)
          http_complete(p);
        else
          p->state = HS_CHUNK_DATA_END;
      }
      break;
    }
    case HS_BODY_CLOSE: {
      size_t take = len - i;
      rc = http_body_append(p, buf + i, take);
      if (rc != 0)
        return http_fail(p, diag, rc, off,
                         rc == ETHP2P_ETOOBIG ? "body exceeds the cap" : "out of memory");
      i += take;
      break;
    }
    case HS_CHUNK_DATA_END:
      i++;
      if (c == '\r')
        p->state = HS_CHUNK_DATA_LF;
      else if (c == '\n')
        p->state = HS_CHUNK_SIZE;
      else
        return http_fail(p, diag, ETHP2P_ESYNTAX, off, "chunk data not followed by CRLF");
      break;
    case HS_CHUNK_DATA_LF:
      i++;
      if (c != '\n')
        return http_fail(p, diag, ETHP2P_ESYNTAX, off, "chunk data not followed by CRLF");
      p->state = HS_CHUNK_SIZE;
      break;
    case HS_CHUNK_SIZE:
    case HS_TRAILER:
      i++;
      if (c == '\n') {
        if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
          p->line_len--;
        p->line[p->line_len] = '\0';
        if (memchr(p->line, '\r', p->line_len) != NULL)
          return http_fail(p, diag, ETHP2P_ESYNTAX, off, "bare CR in chunk line");
        if (p->state == HS_CHUNK_SIZE) {
          rc = http_chunk_size(p, off, diag);
          if (rc != 0)
            return rc;
        } else if (p->line_len == 0) {
          http_complete(p); /* end of trailer section */
        } else {
          /* A trailer field: must look like one, then ignored. */
          char *colon = strchr(p->line, ':');
          size_t k;
          if (colon == NULL || colon == p->line)
            return http_fail(p, diag, ETHP2P_ESYNTAX, off, "malformed trailer field");
          for (k = 0; p->line + k < colon; k++)
            if (!http_is_tchar((unsigned char)p->line[k]))
              return http_fail(p, diag, ETHP2P_ESYNTAX, off, "bad character in trailer name");
          p->line_len = 0;
        }
        break;
      }
      if (c == 0)
        return http_fail(p, diag, ETHP2P_ESYNTAX, off, "NUL byte in chunk line");
      if (p->line_len == ETHP2P_HTTP_MAX_CHUNK_LINE)
        return http_fail(p, diag, ETHP2P_ETOOBIG, off,
                         p->state == HS_CHUNK_SIZE ? "chunk-size line too long"
                                                   : "trailer field too long");
      if (p->state == HS_TRAILER && ++p->trailer_len > ETHP2P_HTTP_MAX_TRAILER)
        return http_fail(p, diag, ETHP2P_ETOOBIG, off, "trailer section too large");
      p->line[p->line_len++] = (char)c;
      break;
    default:
      return http_fail(p, diag, ETHP2P_ESTATE, off, "bad parser state");
    }
  }
  p->offset += i;
  if (consumed != NULL)
    *consumed = i;
  return p->state == HS_DONE ? 1 : 0;
}

int ethp2p_http_parser_eof(ethp2p_http_parser *p, ethp2p_diag *diag) {
  switch (p->state) {
  case HS_DONE:
    return 1;
  case HS_BODY_CLOSE:
    http_complete(p);
    return 1;
  case HS_FAILED:
    return ethp2p_diag_set(diag, ETHP2P_ESTATE, p->offset, "parser already failed");
  case HS_HEAD:
    if (p->head_len == 0 && p->offset == 0)
      return ethp2p_diag_set(diag, ETHP2P_ETRUNC, p->offset, "connection closed without a message");
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, p->offset, "connection closed inside the head");
  default:
    return ethp2p_diag_set(diag, ETHP2P_ETRUNC, p->offset, "connection closed inside the body");
  }
}

/* ---------------------------------------------------------------------------
 * Builders.
 * ------------------------------------------------------------------------- */
typedef struct http_out {
  uint8_t *buf;
  size_t size;
  size_t len;
} http_out;

static void out_bytes(http_out *o, const void *s, size_t n) {
  if (o->len < o->size && n > 0)
    memcpy(o->buf + o->len, s, o->len + n <= o->size ? n : o->size - o->len);
  o->len += n;
}

static void out_str(http_out *o, const char *s) {
  out_bytes(o, s, strlen(s));
}

static bool http_field_ok(const char *name, const char *value) {
  const char *c;
  if (name == NULL || value == NULL || name[0] == '\0')
    return false;
  for (c = name; *c; c++)
    if (!http_is_tchar((unsigned char)*c))
      return false;
  return strpbrk(value, "\r\n") == NULL;
}

static int http_build(http_out *o, size_t *len, const char *start_line,
                      const ethp2p_http_field *fields, size_t nfields, const uint8_t *body,
                      size_t body_len, bool add_length) {
  size_t i;
  char cl[40];
  out_str(o, start_line);
  for (i = 0; i < nfields; i++) {
    if (!http_field_ok(fields[i].name, fields[i].value))
      return ETHP2P_EINVAL;
    out_str(o, fields[i].name);
    out_str(o, ": ");
    out_str(o, fields[i].value);
    out_str(o, "\r\n");
  }
  if (add_length) {
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", body_len);
    out_str(o, cl);
  }
  out_str(o, "\r\n");
  if (body_len > 0)
    out_bytes(o, body, body_len);
  *len = o->len;
  return o->len > o->size ? ETHP2P_ESPACE : 0;
}

int ethp2p_http_request_build(uint8_t *buf, size_t size, size_t *len, const char *method,
                              const char *target, const ethp2p_http_field *fields, size_t nfields,
                              const uint8_t *body, size_t body_len, unsigned flags) {
  http_out o = {buf, size, 0};
  char line[600];
  const char *c;
  bool add_length;
  if (len == NULL || method == NULL || target == NULL || (buf == NULL && size > 0) ||
      (body == NULL && body_len > 0) || (fields == NULL && nfields > 0))
    return ETHP2P_EINVAL;
  *len = 0;
  if (method[0] == '\0' || target[0] == '\0')
    return ETHP2P_EINVAL;
  for (c = method; *c; c++)
    if (!http_is_tchar((unsigned char)*c))
      return ETHP2P_EINVAL;
  for (c = target; *c; c++)
    if ((unsigned char)*c <= 0x20 || *c == 0x7f)
      return ETHP2P_EINVAL;
  if (snprintf(line, sizeof line, "%s %s HTTP/1.1\r\n", method, target) >= (int)sizeof line)
    return ETHP2P_EINVAL;
  add_length = !(flags & ETHP2P_HTTP_BUILD_NO_LENGTH) &&
               (body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0);
  return http_build(&o, len, line, fields, nfields, body, body_len, add_length);
}

int ethp2p_http_response_build(uint8_t *buf, size_t size, size_t *len, int status,
                               const char *reason, const ethp2p_http_field *fields, size_t nfields,
                               const uint8_t *body, size_t body_len, unsigned flags) {
  http_out o = {buf, size, 0};
  char line[160];
  if (len == NULL || (buf == NULL && size > 0) || (body == NULL && body_len > 0) ||
      (fields == NULL && nfields > 0) || status < 100 || status > 999)
    return ETHP2P_EINVAL;
  *len = 0;
  if (reason == NULL)
    reason = "";
  if (strpbrk(reason, "\r\n") != NULL ||
      snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, reason) >= (int)sizeof line)
    return ETHP2P_EINVAL;
  return http_build(&o, len, line, fields, nfields, body, body_len,
                    !(flags & ETHP2P_HTTP_BUILD_NO_LENGTH));
}

int ethp2p_http_chunked_build(uint8_t *buf, size_t size, size_t *len, const uint8_t *data,
                              size_t data_len, size_t chunk_len) {
  http_out o = {buf, size, 0};
  size_t off = 0;
  char hex[24];
  if (len == NULL || chunk_len == 0 || (buf == NULL && size > 0) || (data == NULL && data_len > 0))
    return ETHP2P_EINVAL;
  while (off < data_len) {
    size_t n = data_len - off < chunk_len ? data_len - off : chunk_len;
    snprintf(hex, sizeof hex, "%zx\r\n", n);
    out_str(&o, hex);
    out_bytes(&o, data + off, n);
    out_str(&o, "\r\n");
    off += n;
  }
  out_str(&o, "0\r\n\r\n");
  *len = o.len;
  return o.len > o.size ? ETHP2P_ESPACE : 0;
}

/* ---------------------------------------------------------------------------
 * URLs (RFC 3986 §3).
 * ------------------------------------------------------------------------- */
int ethp2p_http_url_parse(ethp2p_http_url *out, const char *url, ethp2p_diag *diag) {
  const char *p, *auth_end, *host, *host_end, *port_s = NULL, *path;
  size_t hn, pn;
  if (out == NULL || url == NULL)
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  if (strncasecmp(url, "http://", 7) != 0) {
    if (strstr(url, "://") != NULL)
      return ethp2p_diag_set(diag, ETHP2P_EUNSUPP, 0, "only http URLs are supported");
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 0, "not an absolute http URL");
  }
  p = url + 7;
  auth_end = p + strcspn(p, "/?#");
  if (memchr(p, '@', (size_t)(auth_end - p)) != NULL)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 7, "user information in URL is refused");
  if (*p == '[') {
    host = p + 1;
    host_end = memchr(host, ']', (size_t)(auth_end - host));
    if (host_end == NULL)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 7, "unterminated IPv6 literal");
    if (host_end + 1 < auth_end) {
      if (host_end[1] != ':')
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, (size_t)(host_end - url), "junk after ']'");
      port_s = host_end + 2;
    }
  } else {
    host = p;
    host_end = memchr(p, ':', (size_t)(auth_end - p));
    if (host_end != NULL)
      port_s = host_end + 1;
    else
      host_end = auth_end;
  }
  hn = (size_t)(host_end - host);
  if (hn == 0)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 7, "URL without a host");
  if (hn >= sizeof out->host)
    return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, 7, "URL host too long");
  memcpy(out->host, host, hn);
  out->host[hn] = '\0';
  if (strpbrk(out->host, " \t\r\n") != NULL)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, 7, "whitespace in URL host");
  out->port = 80;
  if (port_s != NULL && port_s < auth_end) {
    uint32_t v = 0;
    const char *c;
    for (c = port_s; c < auth_end; c++) {
      if (*c < '0' || *c > '9' || v > 65535)
        return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, (size_t)(c - url), "bad port in URL");
      v = v * 10 + (uint32_t)(*c - '0');
    }
    if (v == 0 || v > 65535)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, (size_t)(port_s - url), "port out of range");
    out->port = (uint16_t)v;
  }
  path = auth_end;
  pn = strcspn(path, "#");
  if (pn == 0 || path[0] != '/') {
    if (pn + 2 > sizeof out->path)
      return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, (size_t)(path - url), "URL path too long");
    out->path[0] = '/';
    memcpy(out->path + 1, path, pn);
    out->path[pn + 1] = '\0';
  } else {
    if (pn + 1 > sizeof out->path)
      return ethp2p_diag_set(diag, ETHP2P_ETOOBIG, (size_t)(path - url), "URL path too long");
    memcpy(out->path, path, pn);
    out->path[pn] = '\0';
  }
  if (strpbrk(out->path, " \t\r\n") != NULL)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, (size_t)(path - url), "whitespace in URL path");
  if (ethp2p_addr_parse_ip(&out->addr, out->host) == 0) {
    out->has_addr = true;
    out->addr.port = out->port;
  }
  return 0;
}

static bool http_has_scheme(const char *ref) {
  const char *c = ref;
  if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
    return false;
  for (c++; *c && *c != ':'; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '+' || *c == '-' || *c == '.'))
      return false;
  return *c == ':';
}

static int http_join(char *out, size_t size, const char *a, size_t an, const char *b) {
  size_t bn = strlen(b);
  if (an + bn + 1 > size)
    return ETHP2P_ESPACE;
  memmove(out, a, an);
  memcpy(out + an, b, bn + 1);
  return 0;
}

int ethp2p_http_url_resolve(char *out, size_t size, const char *base, const char *ref) {
  ethp2p_http_url u;
  const char *auth, *path_start, *path_end, *slash;
  if (out == NULL || base == NULL || ref == NULL || size == 0)
    return ETHP2P_EINVAL;
  if (ethp2p_http_url_parse(&u, base, NULL) != 0)
    return ETHP2P_ESYNTAX;
  auth = base + 7;
  path_start = auth + strcspn(auth, "/?#");
  if (http_has_scheme(ref))
    return http_join(out, size, "", 0, ref);
  if (ref[0] == '/' && ref[1] == '/')
    return http_join(out, size, "http:", 5, ref);
  if (ref[0] == '/')
    return http_join(out, size, base, (size_t)(path_start - base), ref);
  if (ref[0] == '\0')
    return http_join(out, size, base, strcspn(base, "#"), "");
  path_end = path_start + strcspn(path_start, "?#");
  if (ref[0] == '?')
    return http_join(out, size, base, (size_t)(path_end - base), ref);
  /* Merge (RFC 3986 §5.2.3): base path up to and including its last '/'. */
  slash = NULL;
  for (const char *c = path_start; c < path_end; c++)
    if (*c == '/')
      slash = c;
  if (slash == NULL) {
    int rc = http_join(out, size, base, (size_t)(path_start - base), "/");
    size_t n;
    if (rc != 0)
      return rc;
    n = strlen(out);
    return http_join(out, size, out, n, ref);
  }
  return http_join(out, size, base, (size_t)(slash + 1 - base), ref);
}
