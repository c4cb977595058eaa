/*
 * p2p/rlpx/nodes_file.c — go-ethereum's static-nodes.json and trusted-nodes.json:
 * a JSON array (RFC 8259) of enode URL strings.  A small strict reader: the
 * array, strings, whitespace; nothing else is valid there.
 */
#include <string.h>

#include "ethp2p/rlpx.h"

static size_t skip_ws(const char *t, size_t len, size_t i) {
  while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
    i++;
  return i;
}

/* Reads a string at t[i] == '"' into buf; returns the offset after it or 0 on error. */
static size_t read_string(const char *t, size_t len, size_t i, char *buf, size_t cap, size_t *blen,
                          ethp2p_diag *diag, int *rc) {
  size_t n = 0;
  i++; /* opening quote */
  while (i < len && t[i] != '"') {
    char ch = t[i];
    if ((unsigned char)ch < 0x20) {
      *rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "control character in a string");
      return 0;
    }
    if (ch == '\\') {
      if (i + 1 >= len || (t[i + 1] != '"' && t[i + 1] != '\\' && t[i + 1] != '/')) {
        *rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "unsupported escape in an enode URL");
        return 0;
      }
      ch = t[++i];
    }
    if (n + 1 >= cap) {
      *rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "string longer than an enode URL can be");
      return 0;
    }
    buf[n++] = ch;
    i++;
  }
  if (i >= len) {
    *rc = ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "unterminated string");
    return 0;
  }
  buf[n] = '\0';
  *blen = n;
  return i + 1;
}

int ethp2p_rlpx_nodes_parse(ethp2p_enode *out, size_t cap, size_t *n, const char *text, size_t len,
                            ethp2p_diag *diag) {
  char url[ETHP2P_ENODE_INPUT_MAX + 1];
  size_t i, count = 0;
  int rc = 0;
  if (n == NULL || (out == NULL && cap) || (text == NULL && len))
    return ETHP2P_EINVAL;
  *n = 0;
  i = skip_ws(text, len, 0);
  if (i >= len || text[i] != '[')
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "expected a JSON array of enode URLs");
  i = skip_ws(text, len, i + 1);
  if (i < len && text[i] == ']') {
    i = skip_ws(text, len, i + 1);
    if (i != len)
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "data after the array");
    return 0;
  }
  for (;;) {
    size_t ulen = 0, start = i;
    ethp2p_diag d;
    if (i >= len || text[i] != '"')
      return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "expected a string");
    i = read_string(text, len, i, url, sizeof url, &ulen, diag, &rc);
    if (i == 0)
      return rc;
    if (count == cap)
      return ethp2p_diag_set(diag, ETHP2P_ESPACE, start, "more than %zu nodes", cap);
    memset(&d, 0, sizeof d);
    rc = ethp2p_enode_parse(&out[count], url, ulen, &d);
    if (rc != 0)
      return ethp2p_diag_set(diag, rc, start, "node %zu: %s", count + 1, d.msg);
    if (out[count].ip_len == 0 || out[count].tcp == 0)
      return ethp2p_diag_set(diag, ETHP2P_EINVAL, start, "node %zu has no address or TCP port",
                             count + 1);
    count++;
    i = skip_ws(text, len, i);
    if (i < len && text[i] == ',') {
      i = skip_ws(text, len, i + 1);
      continue;
    }
    if (i < len && text[i] == ']')
      break;
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "expected ',' or ']'");
  }
  i = skip_ws(text, len, i + 1);
  if (i != len)
    return ethp2p_diag_set(diag, ETHP2P_ESYNTAX, i, "data after the array");
  *n = count;
  return 0;
}
