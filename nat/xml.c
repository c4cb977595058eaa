/*
 * nat/xml.c — UPnP device descriptions (UDA 1.1 §2.3) and SOAP control messages (UDA 1.1
 * §3.2) with expat, plus builders.  Namespaces are deliberately not processed: elements are
 * matched by local name so that routers with missing or odd prefixes still parse.
 */
#include "nat/xml.h"

#include <expat.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define XML_TEXT_CAP 1024

/* Shared parse state: element stack of local names and the text of the current element. */
typedef struct xml_ctx {
  XML_Parser parser;
  int err; /* first error, 0 if none */
  ethp2p_diag *diag;
  int depth;
  char stack[ETHP2P_XML_MAX_DEPTH][64];
  char text[XML_TEXT_CAP];
  size_t text_len;
  bool text_overflow;
  void *user;
} xml_ctx;

static const char *xml_local(const char *name) {
  const char *c = strrchr(name, ':');
  return c != NULL ? c + 1 : name;
}

static void xml_stop(xml_ctx *x, int err, const char *msg) {
  if (x->err == 0) {
    XML_Index idx = XML_GetCurrentByteIndex(x->parser);
    x->err = ethp2p_diag_set(x->diag, err, idx < 0 ? 0 : (size_t)idx, "%s", msg);
  }
  XML_StopParser(x->parser, XML_FALSE);
}

/* Pushes a start tag; returns false (parser stopped) when too deep. */
static bool xml_push(xml_ctx *x, const char *name) {
  const char *local = xml_local(name);
  size_t n = strlen(local);
  if (x->depth >= ETHP2P_XML_MAX_DEPTH) {
    xml_stop(x, ETHP2P_EDEPTH, "elements nested too deep");
    return false;
  }
  if (n >= sizeof x->stack[0])
    n = sizeof x->stack[0] - 1; /* long names never match anything we look for */
  memcpy(x->stack[x->depth], local, n);
  x->stack[x->depth][n] = '\0';
  x->depth++;
  x->text_len = 0;
  x->text_overflow = false;
  return true;
}

/* Name of the element at depth d from the top (0 = current element). */
static const char *xml_up(const xml_ctx *x, int d) {
  return x->depth - 1 - d >= 0 ? x->stack[x->depth - 1 - d] : "";
}

static bool xml_is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void XMLCALL xml_chardata(void *data, const XML_Char *s, int len) {
  xml_ctx *x = data;
  if (len <= 0)
    return;
  if ((size_t)len > sizeof x->text - 1 - x->text_len) {
    x->text_overflow = true;
    return;
  }
  memcpy(x->text + x->text_len, s, (size_t)len);
  x->text_len += (size_t)len;
}

/* Copies the trimmed text of the element just ended into dst; ETOOBIG if it doesn't fit. */
static bool xml_take_text(xml_ctx *x, char *dst, size_t size, const char *what) {
  const char *s = x->text, *e = x->text + x->text_len;
  char msg[96];
  while (s < e && xml_is_space(*s))
    s++;
  while (e > s && xml_is_space(e[-1]))
    e--;
  if (x->text_overflow || (size_t)(e - s) >= size) {
    snprintf(msg, sizeof msg, "%s value longer than %zu bytes", what, size - 1);
    xml_stop(x, ETHP2P_ETOOBIG, msg);
    return false;
  }
  memcpy(dst, s, (size_t)(e - s));
  dst[e - s] = '\0';
  return true;
}

static void XMLCALL xml_entity_decl(void *data, const XML_Char *name, int is_param,
                                    const XML_Char *value, int value_len, const XML_Char *base,
                                    const XML_Char *system_id, const XML_Char *public_id,
                                    const XML_Char *notation) {
  xml_stop(data, ETHP2P_EUNSUPP, "entity declarations are not accepted");
}

/* Runs expat over the whole input with the given handlers. */
static int xml_run(xml_ctx *x, const char *xml, size_t len, XML_StartElementHandler start,
                   XML_EndElementHandler end) {
  enum XML_Status st;
  if (len > ETHP2P_XML_MAX_INPUT)
    return ethp2p_diag_set(x->diag, ETHP2P_ETOOBIG, ETHP2P_XML_MAX_INPUT,
                           "document of %zu bytes is larger than %d", len, ETHP2P_XML_MAX_INPUT);
  x->parser = XML_ParserCreate(NULL);
  if (x->parser == NULL)
    return ETHP2P_ENOMEM;
  XML_SetUserData(x->parser, x);
  XML_SetElementHandler(x->parser, start, end);
  XML_SetCharacterDataHandler(x->parser, xml_chardata);
  XML_SetEntityDeclHandler(x->parser, xml_entity_decl);
  XML_SetParamEntityParsing(x->parser, XML_PARAM_ENTITY_PARSING_NEVER);
  st = XML_Parse(x->parser, xml, (int)len, XML_TRUE);
  if (st == XML_STATUS_ERROR && x->err == 0) {
    XML_Index idx = XML_GetCurrentByteIndex(x->parser);
    enum XML_Error e = XML_GetErrorCode(x->parser);
    x->err = ethp2p_diag_set(x->diag, e == XML_ERROR_NO_MEMORY ? ETHP2P_ENOMEM : ETHP2P_ESYNTAX,
                             idx < 0 ? 0 : (size_t)idx, "XML: %s", XML_ErrorString(e));
  }
  XML_ParserFree(x->parser);
  x->parser = NULL;
  return x->err;
}

/* ---------------------------------------------------------------------------
 * Device descriptions (UDA 1.1 §2.3).
 * ------------------------------------------------------------------------- */
ethp2p_upnp_svc_kind ethp2p_upnp_svc_kind_of(const char *t) {
  size_t n;
  if (t == NULL)
    return ETHP2P_UPNP_SVC_NONE;
  while (xml_is_space(*t))
    t++;
  n = strlen(t);
  while (n > 0 && xml_is_space(t[n - 1]))
    n--;
#define XML_IS(s) (n == strlen(s) && strncasecmp(t, s, n) == 0)
  if (XML_IS(ETHP2P_UPNP_SVC_WANIP2))
    return ETHP2P_UPNP_SVC_KIND_WANIP2;
  if (XML_IS(ETHP2P_UPNP_SVC_WANIP1))
    return ETHP2P_UPNP_SVC_KIND_WANIP1;
  if (XML_IS(ETHP2P_UPNP_SVC_WANPPP1))
    return ETHP2P_UPNP_SVC_KIND_WANPPP1;
  if (XML_IS(ETHP2P_UPNP_SVC_WANIP6FC1))
    return ETHP2P_UPNP_SVC_KIND_WANIP6FC1;
#undef XML_IS
  return ETHP2P_UPNP_SVC_NONE;
}

typedef struct desc_ctx {
  ethp2p_upnp_desc *out;
  ethp2p_upnp_service cur; /* the service being read */
  bool in_service;
  int device_depth; /* number of open <device> elements */
  size_t device_first_svc[ETHP2P_XML_MAX_DEPTH];
  char device_type[ETHP2P_XML_MAX_DEPTH][128];
  bool saw_root, saw_device;
} desc_ctx;

static void XMLCALL desc_start(void *data, const XML_Char *name, const XML_Char **attrs) {
  xml_ctx *x = data;
  desc_ctx *d = x->user;
  if (!xml_push(x, name))
    return;
  if (x->depth == 1) {
    if (strcmp(xml_up(x, 0), "root") != 0)
      xml_stop(x, ETHP2P_ESYNTAX, "description root element is not <root>");
    d->saw_root = true;
    return;
  }
  if (strcmp(xml_up(x, 0), "device") == 0) {
    d->saw_device = true;
    d->device_first_svc[d->device_depth] = d->out->nservices;
    d->device_type[d->device_depth][0] = '\0';
    d->device_depth++;
  } else if (strcmp(xml_up(x, 0), "service") == 0 && strcmp(xml_up(x, 1), "serviceList") == 0) {
    memset(&d->cur, 0, sizeof d->cur);
    d->in_service = true;
  }
}

static void XMLCALL desc_end(void *data, const XML_Char *name) {
  xml_ctx *x = data;
  desc_ctx *d = x->user;
  const char *el = xml_up(x, 0), *parent = xml_up(x, 1);
  ethp2p_upnp_desc *o = d->out;
  if (d->in_service && strcmp(parent, "service") == 0) {
    if (strcmp(el, "serviceType") == 0)
      xml_take_text(x, d->cur.service_type, sizeof d->cur.service_type, "serviceType");
    else if (strcmp(el, "serviceId") == 0)
      xml_take_text(x, d->cur.service_id, sizeof d->cur.service_id, "serviceId");
    else if (strcmp(el, "controlURL") == 0)
      xml_take_text(x, d->cur.control_url, sizeof d->cur.control_url, "controlURL");
    else if (strcmp(el, "SCPDURL") == 0)
      xml_take_text(x, d->cur.scpd_url, sizeof d->cur.scpd_url, "SCPDURL");
    else if (strcmp(el, "eventSubURL") == 0)
      xml_take_text(x, d->cur.event_url, sizeof d->cur.event_url, "eventSubURL");
  } else if (d->in_service && strcmp(el, "service") == 0) {
    d->in_service = false;
    d->cur.kind = ethp2p_upnp_svc_kind_of(d->cur.service_type);
    if (d->cur.kind != ETHP2P_UPNP_SVC_NONE && d->cur.control_url[0] != '\0' &&
        o->nservices < ETHP2P_UPNP_MAX_SERVICES)
      o->services[o->nservices++] = d->cur;
  } else if (strcmp(el, "deviceType") == 0 && strcmp(parent, "device") == 0 &&
             d->device_depth > 0) {
    char *dt = d->device_type[d->device_depth - 1];
    if (xml_take_text(x, dt, sizeof d->device_type[0], "deviceType") && d->device_depth == 1)
      memcpy(o->root_device_type, dt, sizeof o->root_device_type);
  } else if (strcmp(el, "friendlyName") == 0 && strcmp(parent, "device") == 0 &&
             d->device_depth == 1) {
    xml_take_text(x, o->friendly_name, sizeof o->friendly_name, "friendlyName");
  } else if (strcmp(el, "URLBase") == 0 && strcmp(parent, "root") == 0 && x->depth == 2) {
    xml_take_text(x, o->url_base, sizeof o->url_base, "URLBase");
  } else if (strcmp(el, "device") == 0 && d->device_depth > 0) {
    /* Services listed by this device (and not by a nested one) get its type. */
    size_t i;
    d->device_depth--;
    for (i = d->device_first_svc[d->device_depth]; i < o->nservices; i++)
      if (o->services[i].device_type[0] == '\0')
        memcpy(o->services[i].device_type, d->device_type[d->device_depth],
               sizeof o->services[i].device_type);
  }
  x->depth--;
  x->text_len = 0;
  x->text_overflow = false;
}

int ethp2p_upnp_desc_parse(ethp2p_upnp_desc *out, const char *xml, size_t len, ethp2p_diag *diag) {
  xml_ctx x;
  desc_ctx d;
  int rc;
  if (out == NULL || (xml == NULL && len > 0))
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  memset(&x, 0, sizeof x);
  memset(&d, 0, sizeof d);
  d.out = out;
  x.diag = diag;
  x.user = &d;
  rc = xml_run(&x, xml, len, desc_start, desc_end);
  if (rc == 0 && (!d.saw_root || !d.saw_device))
    rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, len, "description has no <root> with a <device>");
  if (rc != 0)
    memset(out, 0, sizeof *out);
  return rc;
}

const char *ethp2p_upnp_desc_base(const ethp2p_upnp_desc *desc, const char *location) {
  return desc->url_base[0] != '\0' ? desc->url_base : location;
}

/* ---------------------------------------------------------------------------
 * SOAP (UDA 1.1 §3.2; SOAP 1.1 §4).
 * ------------------------------------------------------------------------- */
#define SOAP_MAX_NS 8

typedef struct soap_ctx {
  ethp2p_soap_msg *out;
  bool saw_envelope, saw_body, saw_action;
  int body_depth;   /* depth of <Body>, 0 if not inside */
  int action_depth; /* depth of the action element, 0 if not inside */
  size_t nns;
  char ns_prefix[SOAP_MAX_NS][32]; /* "" for the default namespace */
  char ns_uri[SOAP_MAX_NS][128];
} soap_ctx;

static void soap_record_ns(soap_ctx *s, const XML_Char **attrs) {
  size_t i;
  for (i = 0; attrs[i] != NULL; i += 2) {
    const char *a = attrs[i], *prefix;
    if (strcmp(a, "xmlns") == 0)
      prefix = "";
    else if (strncmp(a, "xmlns:", 6) == 0)
      prefix = a + 6;
    else
      continue;
    if (s->nns < SOAP_MAX_NS && strlen(prefix) < sizeof s->ns_prefix[0] &&
        strlen(attrs[i + 1]) < sizeof s->ns_uri[0]) {
      memcpy(s->ns_prefix[s->nns], prefix, strlen(prefix) + 1);
      memcpy(s->ns_uri[s->nns], attrs[i + 1], strlen(attrs[i + 1]) + 1);
      s->nns++;
    }
  }
}

static const char *soap_lookup_ns(const soap_ctx *s, const char *name) {
  const char *colon = strrchr(name, ':');
  size_t plen = colon != NULL ? (size_t)(colon - name) : 0;
  size_t i = s->nns;
  while (i-- > 0)
    if (strlen(s->ns_prefix[i]) == plen && strncmp(s->ns_prefix[i], name, plen) == 0)
      return s->ns_uri[i];
  return "";
}

static void XMLCALL soap_start(void *data, const XML_Char *name, const XML_Char **attrs) {
  xml_ctx *x = data;
  soap_ctx *s = x->user;
  if (!xml_push(x, name))
    return;
  if (x->depth <= 3)
    soap_record_ns(s, attrs);
  if (x->depth == 1) {
    if (strcmp(xml_up(x, 0), "Envelope") != 0)
      xml_stop(x, ETHP2P_ESYNTAX, "SOAP root element is not <Envelope>");
    s->saw_envelope = true;
    return;
  }
  if (x->depth == 2 && strcmp(xml_up(x, 0), "Body") == 0 && !s->saw_body) {
    s->saw_body = true;
    s->body_depth = 2;
    return;
  }
  if (s->body_depth == 2 && x->depth == 3 && !s->saw_action) {
    const char *local = xml_up(x, 0), *ns;
    s->saw_action = true;
    s->action_depth = 3;
    if (strlen(xml_local(name)) >= sizeof s->out->action) {
      xml_stop(x, ETHP2P_ETOOBIG, "SOAP action name too long");
      return;
    }
    memcpy(s->out->action, local, strlen(local) + 1);
    s->out->is_fault = strcmp(local, "Fault") == 0;
    ns = soap_lookup_ns(s, name);
    if (strlen(ns) < sizeof s->out->service_type)
      memcpy(s->out->service_type, ns, strlen(ns) + 1);
  }
}

static void XMLCALL soap_end(void *data, const XML_Char *name) {
  xml_ctx *x = data;
  soap_ctx *s = x->user;
  ethp2p_soap_msg *o = s->out;
  const char *el = xml_up(x, 0);
  if (s->action_depth == 3 && x->depth == 4 && !o->is_fault) {
    ethp2p_soap_arg *a;
    if (o->nargs == ETHP2P_SOAP_MAX_ARGS) {
      xml_stop(x, ETHP2P_ETOOBIG, "too many SOAP arguments");
      return;
    }
    a = &o->args[o->nargs];
    if (strlen(xml_local(name)) >= sizeof a->name) {
      xml_stop(x, ETHP2P_ETOOBIG, "SOAP argument name too long");
      return;
    }
    memcpy(a->name, el, strlen(el) + 1);
    if (!xml_take_text(x, a->value, sizeof a->value, "SOAP argument"))
      return;
    o->nargs++;
  } else if (s->action_depth == 3 && x->depth >= 4 && o->is_fault) {
    if (x->depth == 4 && strcmp(el, "faultcode") == 0)
      xml_take_text(x, o->fault_code, sizeof o->fault_code, "faultcode");
    else if (x->depth == 4 && strcmp(el, "faultstring") == 0)
      xml_take_text(x, o->fault_string, sizeof o->fault_string, "faultstring");
    else if (strcmp(el, "errorCode") == 0) {
      char v[16];
      if (xml_take_text(x, v, sizeof v, "errorCode")) {
        int code = 0;
        size_t i;
        for (i = 0; v[i] >= '0' && v[i] <= '9' && i < 6; i++)
          code = code * 10 + (v[i] - '0');
        o->upnp_error_code = v[i] == '\0' && i > 0 ? code : 0;
      }
    } else if (strcmp(el, "errorDescription") == 0)
      xml_take_text(x, o->upnp_error_desc, sizeof o->upnp_error_desc, "errorDescription");
  }
  if (x->depth == 3 && s->action_depth == 3)
    s->action_depth = -1; /* later siblings in Body are ignored */
  if (x->depth == 2 && s->body_depth == 2)
    s->body_depth = -1;
  x->depth--;
  x->text_len = 0;
  x->text_overflow = false;
}

int ethp2p_soap_parse(ethp2p_soap_msg *out, const char *xml, size_t len, ethp2p_diag *diag) {
  xml_ctx x;
  soap_ctx s;
  int rc;
  if (out == NULL || (xml == NULL && len > 0))
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  memset(&x, 0, sizeof x);
  memset(&s, 0, sizeof s);
  s.out = out;
  x.diag = diag;
  x.user = &s;
  rc = xml_run(&x, xml, len, soap_start, soap_end);
  if (rc == 0 && (!s.saw_envelope || !s.saw_body))
    rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, len, "SOAP envelope without a Body");
  if (rc == 0 && !s.saw_action)
    rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, len, "SOAP Body is empty");
  if (rc != 0)
    memset(out, 0, sizeof *out);
  return rc;
}

int ethp2p_soap_response_parse(ethp2p_soap_msg *out, const char *action, const char *xml,
                               size_t len, ethp2p_diag *diag) {
  int rc;
  size_t an;
  if (action == NULL)
    return ETHP2P_EINVAL;
  rc = ethp2p_soap_parse(out, xml, len, diag);
  if (rc != 0)
    return rc;
  if (out->is_fault)
    return ethp2p_diag_set(diag, ETHP2P_EREFUSED, 0, "SOAP fault %d %s", out->upnp_error_code,
                           out->upnp_error_desc[0] ? out->upnp_error_desc : out->fault_string);
  an = strlen(action);
  if (strncmp(out->action, action, an) != 0 || strcmp(out->action + an, "Response") != 0)
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "expected %.60sResponse, got %.60s", action,
                           out->action);
  return 0;
}

int ethp2p_soap_request_parse(ethp2p_soap_msg *out, const char *xml, size_t len,
                              ethp2p_diag *diag) {
  size_t n;
  int rc = ethp2p_soap_parse(out, xml, len, diag);
  if (rc != 0)
    return rc;
  n = strlen(out->action);
  if (out->is_fault || (n >= 8 && strcmp(out->action + n - 8, "Response") == 0))
    return ethp2p_diag_set(diag, ETHP2P_EPROTO, 0, "SOAP message is a %s, not a request",
                           out->is_fault ? "fault" : "response");
  return 0;
}

const char *ethp2p_soap_msg_arg(const ethp2p_soap_msg *msg, const char *name) {
  size_t i;
  for (i = 0; i < msg->nargs; i++)
    if (strcmp(msg->args[i].name, name) == 0)
      return msg->args[i].value;
  return NULL;
}

/* ---------------------------------------------------------------------------
 * GENA propertysets (UDA 1.1 §4.3.2).
 * ------------------------------------------------------------------------- */
typedef struct ps_ctx {
  ethp2p_upnp_propertyset *out;
  bool in_var; /* inside the variable element of the current <property> (depth 3) */
} ps_ctx;

static void XMLCALL ps_start(void *data, const XML_Char *name, const XML_Char **attrs) {
  xml_ctx *x = data;
  ps_ctx *p = x->user;
  (void)attrs;
  if (!xml_push(x, name))
    return;
  if (x->depth == 1 && strcmp(xml_up(x, 0), "propertyset") != 0)
    xml_stop(x, ETHP2P_ESYNTAX, "event root element is not <propertyset>");
  else if (x->depth == 3 && strcmp(xml_up(x, 1), "property") == 0)
    p->in_var = true;
}

static void XMLCALL ps_end(void *data, const XML_Char *name) {
  xml_ctx *x = data;
  ps_ctx *p = x->user;
  if (x->depth == 3 && p->in_var) {
    ethp2p_upnp_propertyset *o = p->out;
    const char *el = xml_up(x, 0);
    p->in_var = false;
    if (o->nvars == ETHP2P_SOAP_MAX_ARGS) {
      xml_stop(x, ETHP2P_ETOOBIG, "too many evented variables");
      return;
    }
    if (strlen(xml_local(name)) >= sizeof o->vars[0].name) {
      xml_stop(x, ETHP2P_ETOOBIG, "variable name too long");
      return;
    }
    memcpy(o->vars[o->nvars].name, el, strlen(el) + 1);
    if (!xml_take_text(x, o->vars[o->nvars].value, sizeof o->vars[0].value, "variable"))
      return;
    o->nvars++;
  }
  x->depth--;
  x->text_len = 0; /* text of a nested element is not the variable's */
  x->text_overflow = false;
}

int ethp2p_upnp_propertyset_parse(ethp2p_upnp_propertyset *out, const char *xml, size_t len,
                                  ethp2p_diag *diag) {
  xml_ctx x;
  ps_ctx p;
  int rc;
  if (out == NULL || (xml == NULL && len > 0))
    return ETHP2P_EINVAL;
  memset(out, 0, sizeof *out);
  memset(&x, 0, sizeof x);
  memset(&p, 0, sizeof p);
  p.out = out;
  x.diag = diag;
  x.user = &p;
  rc = xml_run(&x, xml, len, ps_start, ps_end);
  if (rc != 0)
    memset(out, 0, sizeof *out);
  return rc;
}

const char *ethp2p_upnp_propertyset_get(const ethp2p_upnp_propertyset *ps, const char *name) {
  size_t i;
  if (ps == NULL || name == NULL)
    return NULL;
  for (i = ps->nvars; i-- > 0;)
    if (strcmp(ps->vars[i].name, name) == 0)
      return ps->vars[i].value;
  return NULL;
}

/* ---------------------------------------------------------------------------
 * Builders.
 * ------------------------------------------------------------------------- */
typedef struct xml_out {
  char *buf;
  size_t size;
  size_t len;
} xml_out;

static void xo_bytes(xml_out *o, const char *s, size_t n) {
  if (o->len < o->size && n > 0)
    memcpy(o->buf + o->len, s, o->len + n <= o->size ? n : o->size - o->len);
  o->len += n;
}

static void xo_str(xml_out *o, const char *s) {
  xo_bytes(o, s, strlen(s));
}

static void xo_escaped(xml_out *o, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&':
      xo_str(o, "&amp;");
      break;
    case '<':
      xo_str(o, "&lt;");
      break;
    case '>':
      xo_str(o, "&gt;");
      break;
    case '"':
      xo_str(o, "&quot;");
      break;
    case '\'':
      xo_str(o, "&apos;");
      break;
    case '\r':
      xo_str(o, "&#13;"); /* a raw CR would be normalised away (XML 1.0 §2.11) */
      break;
    default:
      xo_bytes(o, s, 1);
    }
  }
}

static int xo_finish(xml_out *o, size_t *len) {
  if (len != NULL)
    *len = o->len;
  if (o->len >= o->size) {
    if (o->size > 0)
      o->buf[o->size - 1] = '\0';
    return ETHP2P_ESPACE;
  }
  o->buf[o->len] = '\0';
  return 0;
}

int ethp2p_xml_escape(char *out, size_t size, size_t *len, const char *in) {
  xml_out o = {out, size, 0};
  if ((out == NULL && size > 0) || in == NULL)
    return ETHP2P_EINVAL;
  xo_escaped(&o, in);
  return xo_finish(&o, len);
}

/* A plain XML name: [A-Za-z_][A-Za-z0-9._-]* (enough for UPnP argument names). */
static bool xml_name_ok(const char *s) {
  if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return false;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_' || *s == '-' || *s == '.'))
      return false;
  return true;
}

static const char soap_head[] =
    "<?xml version=\"1.0\"?>\r\n"
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>";
static const char soap_tail[] = "</s:Body></s:Envelope>\r\n";

static int soap_build(char *buf, size_t size, size_t *len, const char *service_type,
                      const char *action, const char *suffix, const ethp2p_soap_field *fields,
                      size_t nfields) {
  xml_out o = {buf, size, 0};
  size_t i;
  if ((buf == NULL && size > 0) || service_type == NULL || !xml_name_ok(action) ||
      (fields == NULL && nfields > 0))
    return ETHP2P_EINVAL;
  for (i = 0; i < nfields; i++)
    if (!xml_name_ok(fields[i].name) || fields[i].value == NULL)
      return ETHP2P_EINVAL;
  xo_str(&o, soap_head);
  xo_str(&o, "<u:");
  xo_str(&o, action);
  xo_str(&o, suffix);
  xo_str(&o, " xmlns:u=\"");
  xo_escaped(&o, service_type);
  xo_str(&o, "\">");
  for (i = 0; i < nfields; i++) {
    xo_str(&o, "<");
    xo_str(&o, fields[i].name);
    xo_str(&o, ">");
    xo_escaped(&o, fields[i].value);
    xo_str(&o, "</");
    xo_str(&o, fields[i].name);
    xo_str(&o, ">");
  }
  xo_str(&o, "</u:");
  xo_str(&o, action);
  xo_str(&o, suffix);
  xo_str(&o, ">");
  xo_str(&o, soap_tail);
  return xo_finish(&o, len);
}

int ethp2p_soap_request_build(char *buf, size_t size, size_t *len, const char *service_type,
                              const char *action, const ethp2p_soap_field *fields, size_t nfields) {
  return soap_build(buf, size, len, service_type, action, "", fields, nfields);
}

int ethp2p_soap_response_build(char *buf, size_t size, size_t *len, const char *service_type,
                               const char *action, const ethp2p_soap_field *fields,
                               size_t nfields) {
  return soap_build(buf, size, len, service_type, action, "Response", fields, nfields);
}

int ethp2p_soap_fault_build(char *buf, size_t size, size_t *len, int code, const char *desc) {
  xml_out o = {buf, size, 0};
  char num[16];
  if ((buf == NULL && size > 0) || code < 0 || code > 9999)
    return ETHP2P_EINVAL;
  if (desc == NULL)
    desc = ethp2p_upnp_error_name(code);
  snprintf(num, sizeof num, "%d", code);
  xo_str(&o, soap_head);
  xo_str(&o, "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
             "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>");
  xo_str(&o, num);
  xo_str(&o, "</errorCode><errorDescription>");
  xo_escaped(&o, desc);
  xo_str(&o, "</errorDescription></UPnPError></detail></s:Fault>");
  xo_str(&o, soap_tail);
  return xo_finish(&o, len);
}

int ethp2p_upnp_propertyset_build(char *buf, size_t size, size_t *len,
                                  const ethp2p_soap_field *fields, size_t nfields) {
  xml_out o = {buf, size, 0};
  size_t i;
  if ((buf == NULL && size > 0) || (fields == NULL && nfields > 0))
    return ETHP2P_EINVAL;
  for (i = 0; i < nfields; i++)
    if (!xml_name_ok(fields[i].name) || fields[i].value == NULL)
      return ETHP2P_EINVAL;
  xo_str(&o, "<?xml version=\"1.0\"?>\r\n"
             "<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">");
  for (i = 0; i < nfields; i++) {
    xo_str(&o, "<e:property><");
    xo_str(&o, fields[i].name);
    xo_str(&o, ">");
    xo_escaped(&o, fields[i].value);
    xo_str(&o, "</");
    xo_str(&o, fields[i].name);
    xo_str(&o, "></e:property>");
  }
  xo_str(&o, "</e:propertyset>\r\n");
  return xo_finish(&o, len);
}

int ethp2p_soap_action_header(char *buf, size_t size, const char *service_type,
                              const char *action) {
  int n;
  if (buf == NULL || size == 0 || service_type == NULL || action == NULL ||
      strpbrk(service_type, "\"\r\n#") != NULL || strpbrk(action, "\"\r\n#") != NULL)
    return ETHP2P_EINVAL;
  n = snprintf(buf, size, "\"%s#%s\"", service_type, action);
  return n < 0 || (size_t)n >= size ? ETHP2P_ESPACE : 0;
}

int ethp2p_soap_action_parse(const char *value, char *service_type, size_t st_size, char *action,
                             size_t action_size) {
  const char *s, *e, *hash;
  if (value == NULL || service_type == NULL || action == NULL || st_size == 0 || action_size == 0)
    return ETHP2P_EINVAL;
  s = value;
  while (*s == ' ' || *s == '\t')
    s++;
  e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  if (e - s >= 2 && *s == '"' && e[-1] == '"') {
    s++;
    e--;
  }
  hash = memchr(s, '#', (size_t)(e - s));
  if (hash == NULL || hash == s || hash + 1 == e)
    return ETHP2P_ESYNTAX;
  if ((size_t)(hash - s) >= st_size || (size_t)(e - hash - 1) >= action_size)
    return ETHP2P_ETOOBIG;
  memcpy(service_type, s, (size_t)(hash - s));
  service_type[hash - s] = '\0';
  memcpy(action, hash + 1, (size_t)(e - hash - 1));
  action[e - hash - 1] = '\0';
  return 0;
}

const char *ethp2p_upnp_error_name(int code) {
  switch (code) {
  case 401:
    return "Invalid Action";
  case 402:
    return "Invalid Args";
  case 501:
    return "Action Failed";
  case 600:
    return "Argument Value Invalid";
  case 601:
    return "Argument Value Out of Range";
  case 602:
    return "Optional Action Not Implemented";
  case 603:
    return "Out of Memory";
  case 604:
    return "Human Intervention Required";
  case 605:
    return "String Argument Too Long";
  case 606:
    return "Action not authorized";
  case 713:
    return "SpecifiedArrayIndexInvalid";
  case 714:
    return "NoSuchEntryInArray";
  case 715:
    return "WildCardNotPermittedInSrcIP";
  case 716:
    return "WildCardNotPermittedInExtPort";
  case 718:
    return "ConflictInMappingEntry";
  case 724:
    return "SamePortValuesRequired";
  case 725:
    return "OnlyPermanentLeasesSupported";
  case 726:
    return "RemoteHostOnlySupportsWildcard";
  case 727:
    return "ExternalPortOnlySupportsWildcard";
  case 728:
    return "NoPortMapsAvailable";
  case 729:
    return "ConflictWithOtherMechanisms";
  case 732:
    return "WildCardNotPermittedInIntPort";
  default:
    return "";
  }
}
