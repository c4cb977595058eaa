/*
 * examples/rlpx_tiny.c — a tiny devp2p protocol on the ethp2p RLPx host.
 *
 * Protocol "tiny" version 1, two messages (codes relative to its offset):
 *   0 Say  [text]          answered with Echo
 *   1 Echo [text, count]   the text back and how many Says this peer has heard
 * Every peer that runs "tiny" gets a Say when it connects; a dialer that got its
 * Echo disconnects with "disconnect requested" and exits.  Peers without "tiny" are
 * dropped by the host as useless peers.
 *
 *   rlpx_tiny listen [PORT]     listen on 127.0.0.1:PORT (default 30303, 0 = any)
 *   rlpx_tiny dial ENODE        connect, say hello, print the echo, leave
 *
 * Build against an installed ethp2p:
 *   cc rlpx_tiny.c $(pkg-config --cflags --libs ethp2p) -o rlpx_tiny
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <ethp2p/enode.h>
#include <ethp2p/env_uv.h>
#include <ethp2p/rlp.h>
#include <ethp2p/rlpx.h>
#include <ethp2p/secp.h>

enum { TINY_SAY = 0, TINY_ECHO = 1, TINY_LENGTH = 2 };

typedef struct app {
  uv_loop_t loop;
  ethp2p_env *env;
  ethp2p_rlpx_host *host;
  int tiny; /* protocol id from ethp2p_rlpx_host_register */
  int dialer;
  unsigned says_heard;
} app;

static void short_id(char out[17], const uint8_t *pub) {
  static const char hex[] = "0123456789abcdef";
  int i;
  for (i = 0; i < 8; i++) {
    out[2 * i] = hex[pub[i] >> 4];
    out[2 * i + 1] = hex[pub[i] & 15];
  }
  out[16] = '\0';
}

/* Say: [text] */
static int send_say(app *a, ethp2p_rlpx_peer *p, const char *text) {
  uint8_t buf[300];
  ethp2p_rlp_enc e;
  size_t n;
  ethp2p_rlp_enc_init(&e, buf, sizeof buf);
  ethp2p_rlp_enc_list_begin(&e);
  ethp2p_rlp_enc_bytes(&e, text, strlen(text));
  ethp2p_rlp_enc_list_end(&e);
  if (ethp2p_rlp_enc_finish(&e, &n) != 0)
    return -1;
  return ethp2p_rlpx_peer_send(p, a->tiny, TINY_SAY, buf, n);
}

static void tiny_added(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, void *data) {
  app *a = data;
  char id[17];
  (void)h;
  short_id(id, ethp2p_rlpx_peer_pub(p));
  printf("tiny peer %s up (%s, \"%s\")\n", id, ethp2p_rlpx_peer_inbound(p) ? "inbound" : "dialed",
         ethp2p_rlpx_peer_hello(p)->client_id);
  send_say(a, p, "hello from rlpx_tiny");
}

static void tiny_message(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, uint32_t code,
                         const uint8_t *payload, size_t len, void *data) {
  app *a = data;
  ethp2p_rlp_item list, text, count;
  ethp2p_rlp_iter it;
  uint64_t n = 0;
  (void)h;
  /* Every message is a list whose first element is the text. */
  if (ethp2p_rlp_decode(&list, payload, len, NULL) != 0 || ethp2p_rlp_iter_init(&it, &list) != 0 ||
      ethp2p_rlp_iter_next(&it, &text, NULL) != 1 || text.is_list) {
    ethp2p_rlpx_peer_disconnect(p, ETHP2P_RLPX_DISC_SUBPROTOCOL);
    return;
  }
  if (code == TINY_SAY) {
    uint8_t buf[300];
    ethp2p_rlp_enc e;
    size_t out;
    a->says_heard++;
    printf("say  \"%.*s\"\n", (int)text.payload_len, (const char *)text.payload);
    ethp2p_rlp_enc_init(&e, buf, sizeof buf);
    ethp2p_rlp_enc_list_begin(&e);
    ethp2p_rlp_enc_bytes(&e, text.payload, text.payload_len);
    ethp2p_rlp_enc_uint64(&e, a->says_heard);
    ethp2p_rlp_enc_list_end(&e);
    if (ethp2p_rlp_enc_finish(&e, &out) == 0)
      ethp2p_rlpx_peer_send(p, a->tiny, TINY_ECHO, buf, out);
  } else if (code == TINY_ECHO) {
    if (ethp2p_rlp_iter_next(&it, &count, NULL) == 1)
      (void)ethp2p_rlp_uint64(&n, &count, NULL);
    printf("echo \"%.*s\" (says heard by the peer: %llu)\n", (int)text.payload_len,
           (const char *)text.payload, (unsigned long long)n);
    if (a->dialer)
      ethp2p_rlpx_peer_disconnect(p, ETHP2P_RLPX_DISC_REQUESTED);
  }
  fflush(stdout);
}

static void tiny_removed(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p,
                         const ethp2p_rlpx_close_info *info, void *data) {
  app *a = data;
  char id[17];
  (void)h;
  short_id(id, ethp2p_rlpx_peer_pub(p));
  printf("tiny peer %s gone: %s%s\n", id,
         info->reason >= 0 ? ethp2p_rlpx_reason_string((unsigned)info->reason)
                           : ethp2p_strerror(info->error),
         info->remote ? " (by the peer)" : "");
  fflush(stdout);
  if (a->dialer)
    uv_stop(&a->loop);
}

static void on_event(ethp2p_rlpx_host *h, const ethp2p_rlpx_event *ev, void *data) {
  app *a = data;
  (void)h;
  if (ev->kind == ETHP2P_RLPX_EV_REJECTED || ev->kind == ETHP2P_RLPX_EV_FAILED) {
    printf("connection refused or failed: %s\n",
           ev->info.reason >= 0 ? ethp2p_rlpx_reason_string((unsigned)ev->info.reason)
                                : ethp2p_strerror(ev->info.error));
    fflush(stdout);
    if (a->dialer)
      uv_stop(&a->loop);
  }
}

int main(int argc, char **argv) {
  static app a;
  ethp2p_rlpx_host_config cfg;
  ethp2p_rlpx_protocol tiny = {"tiny", 1, TINY_LENGTH, tiny_added, tiny_message, tiny_removed, &a};
  uint8_t key[32], pub[64];
  ethp2p_addr bind = ethp2p_addr_v4(127, 0, 0, 1, 30303), local;
  char hex[129];
  int rc, i;
  if (argc < 2 || (strcmp(argv[1], "listen") != 0 && strcmp(argv[1], "dial") != 0) ||
      (strcmp(argv[1], "dial") == 0 && argc != 3)) {
    fprintf(stderr, "usage: rlpx_tiny listen [PORT] | rlpx_tiny dial ENODE\n");
    return 2;
  }
  a.dialer = strcmp(argv[1], "dial") == 0;
  if (!a.dialer && argc == 3)
    bind.port = (uint16_t)strtoul(argv[2], NULL, 10);
  if (ethp2p_secp_secret_generate(key) != 0 || ethp2p_secp_pubkey(NULL, pub, key) != 0)
    return 1;
  if (uv_loop_init(&a.loop) != 0 || ethp2p_uvenv_create(&a.loop, &a.env) != 0)
    return 1;
  memset(&cfg, 0, sizeof cfg);
  cfg.secret = key;
  cfg.client_id = "rlpx_tiny/v1";
  cfg.listen_port = a.dialer ? 0 : bind.port;
  cfg.on_event = on_event;
  cfg.event_data = &a;
  rc = ethp2p_rlpx_host_create(&a.host, a.env, &cfg);
  ethp2p_secp_wipe(key, sizeof key);
  if (rc == 0) {
    a.tiny = ethp2p_rlpx_host_register(a.host, &tiny);
    rc = a.tiny < 0 ? a.tiny : 0;
  }
  if (rc == 0 && a.dialer) {
    ethp2p_enode n;
    ethp2p_addr to;
    rc = ethp2p_enode_parse(&n, argv[2], strlen(argv[2]), NULL);
    if (rc == 0 && (n.ip_len != 4 || n.tcp == 0))
      rc = ETHP2P_EINVAL;
    if (rc == 0) {
      to = ethp2p_addr_v4(n.ip[0], n.ip[1], n.ip[2], n.ip[3], n.tcp);
      rc = ethp2p_rlpx_host_dial(a.host, n.pubkey, &to);
    }
  } else if (rc == 0) {
    rc = ethp2p_rlpx_host_listen(a.host, &bind);
    if (rc == 0)
      rc = ethp2p_rlpx_host_local_addr(a.host, &local);
    if (rc == 0) {
      for (i = 0; i < 64; i++)
        snprintf(hex + 2 * i, 3, "%02x", pub[i]);
      printf("listening enode://%s@127.0.0.1:%u\n", hex, local.port);
      fflush(stdout);
    }
  }
  if (rc != 0) {
    fprintf(stderr, "rlpx_tiny: %s\n", ethp2p_strerror(rc));
  } else {
    uv_run(&a.loop, UV_RUN_DEFAULT);
  }
  ethp2p_rlpx_host_destroy(a.host);
  ethp2p_uvenv_destroy(a.env);
  uv_run(&a.loop, UV_RUN_NOWAIT);
  (void)uv_loop_close(&a.loop);
  return rc != 0 ? 1 : 0;
}
