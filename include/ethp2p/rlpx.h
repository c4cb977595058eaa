/*
 * ethp2p/rlpx.h — RLPx, the encrypted TCP transport of devp2p, and its base
 * protocol (Hello, Disconnect, Ping, Pong), from the codecs up to a host that
 * keeps peers and runs application protocols on one loop.
 *
 * Specs: ethereum/devp2p rlpx.md ("Initial Handshake", "Framing",
 * "Capability Messaging", "P2P Capability") and EIP-8 (forward-compatible
 * handshake, Hello with extra elements).
 *
 * Layers, each usable alone:
 *   1. ECIES (ethp2p_rlpx_ecies_*): the asymmetric encryption of the handshake.
 *   2. The handshake (ethp2p_rlpx_hs_*): auth and ack in the EIP-8 format;
 *      pre-EIP-8 packets accepted on receive.  Pure: random bytes come from the
 *      caller.  ethp2p_rlpx_secrets_derive turns it into session secrets.
 *   3. Frames (ethp2p_rlpx_frame_*): AES-256-CTR + the keccak MACs.
 *   4. Base-protocol messages (ethp2p_rlpx_hello_*, _disconnect_*), capability
 *      matching, snappy.
 *   5. A connection (ethp2p_rlpx_conn_*) on the environment's TCP (env.h):
 *      handshake, Hello, keepalive, timeouts, Disconnect.
 *   6. A host (ethp2p_rlpx_host_*): listener, dialing, limits and the
 *      application protocol API.
 *
 * Conventions: 0 or a negative ETHP2P_E* code; outputs zeroed on failure;
 * public keys are 64 bytes (x || y), secrets 32 bytes.  Everything runs on
 * the environment's loop thread; nothing here locks.
 */
#ifndef ETHP2P_RLPX_H
#define ETHP2P_RLPX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethp2p/enode.h"
#include "ethp2p/env.h"
#include "ethp2p/error.h"
#include "ethp2p/keccak.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * 1. ECIES (rlpx.md "ECIES Encryption")
 *
 *   ciphertext = 0x04 || R (64) || iv (16) || c || d (32)
 *   S = x(r * K_B); kE || kM' = concatKDF-SHA256(S, 32); kM = SHA256(kM')
 *   c = AES-128-CTR(kE, iv, m); d = HMAC-SHA256(kM, iv || c || shared)
 * `shared` is the EIP-8 size prefix (2 bytes) or empty for pre-EIP-8 packets.
 * ------------------------------------------------------------------------- */
#define ETHP2P_RLPX_ECIES_OVERHEAD 113 /* 65 + 16 + 32 */

/*
 * Encrypts msg for pub64.
 * Returns 0, ETHP2P_ESPACE (outsize < len + 113), ETHP2P_EKEY (bad pub64 or
 * eph_secret), or a crypto error.
 * Out: out[0..len+113), *outlen.
 * In:  eph_secret (32, the one-time key r) and iv (16): random, from the caller.
 */
int ethp2p_rlpx_ecies_encrypt(uint8_t *out, size_t outsize, size_t *outlen, const uint8_t pub64[64],
                              const uint8_t eph_secret[32], const uint8_t iv[16],
                              const uint8_t *msg, size_t len, const uint8_t *shared,
                              size_t sharedlen);
/*
 * Decrypts with secret.  Returns 0, ETHP2P_ETRUNC (len < 113), ETHP2P_EKEY (R is
 * not a point), ETHP2P_ESIG (the tag does not verify: nothing is decrypted),
 * ETHP2P_ESPACE (outsize < len - 113).
 */
int ethp2p_rlpx_ecies_decrypt(uint8_t *out, size_t outsize, size_t *outlen,
                              const uint8_t secret[32], const uint8_t *in, size_t len,
                              const uint8_t *shared, size_t sharedlen);

/* ---------------------------------------------------------------------------
 * 2. The handshake (rlpx.md "Initial Handshake", EIP-8)
 *
 *   auth-body = [sig, initiator-pubk, initiator-nonce, auth-vsn, ...]
 *     sig = sign(ephemeral-privk, ecdh(static) ^ initiator-nonce)
 *   ack-body  = [recipient-ephemeral-pubk, recipient-nonce, ack-vsn, ...]
 *   packet    = size (2 bytes BE) || ecies(remote-pubk, body || padding, shared = size)
 *   pre-EIP-8 auth (307 bytes) = ecies(sig || keccak(eph-pubk) || pubk || nonce || 0x00)
 *   pre-EIP-8 ack  (210 bytes) = ecies(eph-pubk || nonce || 0x00)
 * Decoding ignores the version and extra list elements (EIP-8).  A recipient
 * answers a pre-EIP-8 auth with a pre-EIP-8 ack, an EIP-8 auth with an EIP-8 ack.
 * ------------------------------------------------------------------------- */
#define ETHP2P_RLPX_HS_MAX 2048      /* largest auth/ack packet accepted (bytes on the wire) */
#define ETHP2P_RLPX_AUTH_V4_LEN 307  /* pre-EIP-8 auth */
#define ETHP2P_RLPX_ACK_V4_LEN 210   /* pre-EIP-8 ack */
#define ETHP2P_RLPX_HS_RANDOM_LEN 49 /* bytes of randomness one write consumes */
#define ETHP2P_RLPX_HS_PAD_MIN 100   /* EIP-8 padding: 100 + (random byte % 201) junk bytes */

typedef struct ethp2p_rlpx_hs {
  bool initiator;
  bool eip8; /* the auth was (or is sent as) EIP-8 */
  bool have_auth, have_ack;
  uint8_t secret[32]; /* our static key */
  uint8_t eph_secret[32];
  uint8_t remote_pub[64];     /* initiator: given; recipient: read from the auth */
  uint8_t remote_eph_pub[64]; /* from the auth's signature or the ack */
  uint8_t init_nonce[32];
  uint8_t resp_nonce[32];
  uint16_t auth_len, ack_len;
  uint8_t auth[ETHP2P_RLPX_HS_MAX]; /* the packets as they crossed the wire (MAC seeds) */
  uint8_t ack[ETHP2P_RLPX_HS_MAX];
} ethp2p_rlpx_hs;

/*
 * Starts a handshake.  remote_pub is required for the initiator and ignored
 * (may be NULL) for the recipient.  eph_secret and nonce are fresh random values.
 * Returns 0 or ETHP2P_EKEY (an invalid secret, eph_secret or remote_pub).
 * The secrets are copied; ethp2p_rlpx_hs_wipe clears them.
 */
int ethp2p_rlpx_hs_init(ethp2p_rlpx_hs *hs, bool initiator, const uint8_t secret[32],
                        const uint8_t eph_secret[32], const uint8_t nonce[32],
                        const uint8_t *remote_pub);
void ethp2p_rlpx_hs_wipe(ethp2p_rlpx_hs *hs);

/*
 * Initiator: writes the EIP-8 auth packet (a copy stays in hs).
 * In: rnd[0..49): 32 bytes ECIES key, 16 bytes IV, 1 byte padding length;
 *     the padding bytes themselves come from keccak(rnd).
 * Returns 0, ETHP2P_ESTATE (not the initiator, or already written),
 * ETHP2P_ESPACE, ETHP2P_EKEY.  Out: out[0..*len).
 */
int ethp2p_rlpx_hs_write_auth(ethp2p_rlpx_hs *hs, uint8_t *out, size_t cap, size_t *len,
                              const uint8_t rnd[ETHP2P_RLPX_HS_RANDOM_LEN]);
/* Recipient: writes the ack in the format of the auth that was read (EIP-8 or
 * pre-EIP-8).  Same arguments and returns; ETHP2P_ESTATE before an auth was read. */
int ethp2p_rlpx_hs_write_ack(ethp2p_rlpx_hs *hs, uint8_t *out, size_t cap, size_t *len,
                             const uint8_t rnd[ETHP2P_RLPX_HS_RANDOM_LEN]);

/*
 * Reads the auth (recipient) or the ack (initiator) from the start of a stream
 * buffer.  Returns:
 *   0              a packet was read; *used = its length on the wire (bytes after
 *                  it, if any, are the first frames)
 *   ETHP2P_ETRUNC  more bytes are needed; *used = the total length now known to be
 *                  needed (read at least that many, then call again)
 *   ETHP2P_ETOOBIG the size prefix announces more than ETHP2P_RLPX_HS_MAX
 *   ETHP2P_ESIG    the ECIES tag or the auth signature does not verify
 *   ETHP2P_EPROTO  the body is not a well-formed auth/ack
 *   ETHP2P_EKEY    a public key in the body is not on the curve
 *   ETHP2P_ESTATE  wrong role, or already read
 * On any error other than ETRUNC the handshake must be abandoned.
 */
int ethp2p_rlpx_hs_read_auth(ethp2p_rlpx_hs *hs, const uint8_t *in, size_t len, size_t *used);
int ethp2p_rlpx_hs_read_ack(ethp2p_rlpx_hs *hs, const uint8_t *in, size_t len, size_t *used);

/* Session secrets (rlpx.md "Initial Handshake", secrets at the end). */
typedef struct ethp2p_rlpx_secrets {
  uint8_t remote_pub[64];
  uint8_t aes[32];
  uint8_t mac[32];
  ethp2p_keccak256_ctx egress;  /* seeded with (mac ^ remote nonce) || packet we sent */
  ethp2p_keccak256_ctx ingress; /* seeded with (mac ^ our nonce) || packet we received */
} ethp2p_rlpx_secrets;

/*
 * Derives the secrets from the raw values:
 *   ephemeral-key = ecdh(eph_secret, remote_eph_pub)
 *   shared-secret = keccak(ephemeral-key || keccak(resp_nonce || init_nonce))
 *   aes-secret    = keccak(ephemeral-key || shared-secret)
 *   mac-secret    = keccak(ephemeral-key || aes-secret)
 * auth and ack are the packets as they crossed the wire (size prefix included).
 * Returns 0 or ETHP2P_EKEY.  remote_pub (may be NULL) is copied into out.
 */
int ethp2p_rlpx_secrets_derive(ethp2p_rlpx_secrets *out, bool initiator,
                               const uint8_t eph_secret[32], const uint8_t remote_eph_pub[64],
                               const uint8_t init_nonce[32], const uint8_t resp_nonce[32],
                               const uint8_t *auth, size_t auth_len, const uint8_t *ack,
                               size_t ack_len, const uint8_t *remote_pub);
/* The same from a finished handshake.  Returns 0, ETHP2P_ESTATE (not finished) or EKEY. */
int ethp2p_rlpx_hs_secrets(const ethp2p_rlpx_hs *hs, ethp2p_rlpx_secrets *out);

/* ---------------------------------------------------------------------------
 * 3. Frames (rlpx.md "Framing")
 *
 *   frame  = header-ciphertext (16) || header-mac (16) || frame-ciphertext || frame-mac (16)
 *   header = frame-size (3 bytes BE) || rlp([0, 0]) || zero padding to 16
 *   frame-ciphertext = AES-256-CTR(aes-secret, frame-data || zero padding to 16),
 *     one keystream per direction across all frames, IV zero
 *   header-mac: egress.update(AES(mac-secret, egress.digest[:16]) ^ header-ciphertext),
 *     header-mac = egress.digest[:16]
 *   frame-mac:  egress.update(frame-ciphertext); seed = AES(mac, d[:16]) ^ d[:16]
 *     with d = egress.digest; egress.update(seed); frame-mac = egress.digest[:16]
 * AES(mac-secret, .) is AES-256 on one block.  frame-data = rlp(msg-id) || msg-data.
 * ------------------------------------------------------------------------- */
#define ETHP2P_RLPX_FRAME_HEADER 32             /* header-ciphertext + header-mac */
#define ETHP2P_RLPX_FRAME_MAX 0xffffffu         /* frame-size is 24 bits */
#define ETHP2P_RLPX_MSG_MAX (16u * 1024 * 1024) /* largest decompressed message */

typedef struct ethp2p_rlpx_frame ethp2p_rlpx_frame;

/* Creates the frame codec from the secrets (copied; the caller may wipe them).
 * Returns 0, ETHP2P_ENOMEM or a crypto error. */
int ethp2p_rlpx_frame_create(ethp2p_rlpx_frame **out, const ethp2p_rlpx_secrets *s);
/* Wipes and frees (NULL is fine). */
void ethp2p_rlpx_frame_destroy(ethp2p_rlpx_frame *f);

/* Bytes on the wire for a frame of body_len bytes of frame-data. */
size_t ethp2p_rlpx_frame_len(size_t body_len);
/*
 * Seals frame-data body[0..body_len) into out (cap >= ethp2p_rlpx_frame_len).
 * Returns 0, ETHP2P_ETOOBIG (body_len > 24 bits), ETHP2P_ESPACE.  The egress
 * stream advances only on success.
 */
int ethp2p_rlpx_frame_seal(ethp2p_rlpx_frame *f, uint8_t *out, size_t cap, size_t *len,
                           const uint8_t *body, size_t body_len);
/*
 * Opens a header: checks header-mac, decrypts, returns *body_len (frame-size)
 * and *need = the bytes of the rest (padded body + 16-byte MAC).
 * Returns 0, ETHP2P_ESIG (MAC), ETHP2P_ETOOBIG (frame-size > max_body).
 * After an error the codec is out of step: drop the connection.
 */
int ethp2p_rlpx_frame_open_header(ethp2p_rlpx_frame *f, const uint8_t in[32], size_t max_body,
                                  size_t *body_len, size_t *need);
/*
 * Opens the rest (in[0..need) as announced by open_header), decrypting in
 * place: the frame-data is in[0..body_len) afterwards.  Returns 0 or ETHP2P_ESIG.
 */
int ethp2p_rlpx_frame_open_body(ethp2p_rlpx_frame *f, uint8_t *in, size_t need);

/* ---------------------------------------------------------------------------
 * 4. Base protocol (rlpx.md "P2P Capability"): message IDs 0x00-0x0f.
 * ------------------------------------------------------------------------- */
enum {
  ETHP2P_RLPX_MSG_HELLO = 0x00,
  ETHP2P_RLPX_MSG_DISCONNECT = 0x01,
  ETHP2P_RLPX_MSG_PING = 0x02,
  ETHP2P_RLPX_MSG_PONG = 0x03,
  ETHP2P_RLPX_BASE_LEN = 0x10, /* application protocols start at 0x10 */
};
#define ETHP2P_RLPX_VERSION 5 /* our base protocol version: snappy from 5 on */
/* The client ID sent when none is configured: "ethp2p/v<library version>". */
#ifdef ETHP2P_VERSION_STRING
#define ETHP2P_RLPX_DEFAULT_CLIENT_ID ("ethp2p/v" ETHP2P_VERSION_STRING)
#else
#define ETHP2P_RLPX_DEFAULT_CLIENT_ID "ethp2p"
#endif

/* Disconnect reasons (rlpx.md "Disconnect (0x01)"). */
typedef enum ethp2p_rlpx_reason {
  ETHP2P_RLPX_DISC_REQUESTED = 0x00,
  ETHP2P_RLPX_DISC_TCP_ERROR = 0x01,
  ETHP2P_RLPX_DISC_PROTOCOL_ERROR = 0x02,
  ETHP2P_RLPX_DISC_USELESS_PEER = 0x03,
  ETHP2P_RLPX_DISC_TOO_MANY_PEERS = 0x04,
  ETHP2P_RLPX_DISC_ALREADY_CONNECTED = 0x05,
  ETHP2P_RLPX_DISC_INCOMPATIBLE_VERSION = 0x06,
  ETHP2P_RLPX_DISC_INVALID_IDENTITY = 0x07,
  ETHP2P_RLPX_DISC_QUITTING = 0x08,
  ETHP2P_RLPX_DISC_UNEXPECTED_IDENTITY = 0x09,
  ETHP2P_RLPX_DISC_SELF = 0x0a,
  ETHP2P_RLPX_DISC_READ_TIMEOUT = 0x0b,
  ETHP2P_RLPX_DISC_SUBPROTOCOL = 0x10,
} ethp2p_rlpx_reason;
/* "useless peer", ...; "unknown reason" outside the table.  Never NULL. */
const char *ethp2p_rlpx_reason_string(unsigned reason);

#define ETHP2P_RLPX_CAP_NAME_MAX 32 /* longest capability name kept */
#define ETHP2P_RLPX_MAX_CAPS 32     /* capabilities kept from a Hello (more are an error) */
#define ETHP2P_RLPX_CLIENT_ID_MAX 255

typedef struct ethp2p_rlpx_cap {
  char name[ETHP2P_RLPX_CAP_NAME_MAX + 1];
  uint32_t version;
} ethp2p_rlpx_cap;

/* Hello (0x00): [protocolVersion, clientId, [[cap, capVersion], ...], listenPort, nodeId, ...] */
typedef struct ethp2p_rlpx_hello {
  uint64_t version;
  char
      client_id[ETHP2P_RLPX_CLIENT_ID_MAX + 1]; /* NUL-terminated, NULs in the wire value refused */
  ethp2p_rlpx_cap caps[ETHP2P_RLPX_MAX_CAPS];
  size_t ncaps;
  uint16_t listen_port;
  uint8_t id[64]; /* the sender's public key */
} ethp2p_rlpx_hello;

/* Encodes the Hello's RLP (without the message ID).  Returns 0 or ETHP2P_ESPACE. */
int ethp2p_rlpx_hello_encode(uint8_t *out, size_t cap, size_t *len, const ethp2p_rlpx_hello *h);
/*
 * Decodes a Hello; extra trailing list elements are ignored (EIP-8).
 * Returns 0 or ETHP2P_EPROTO (with diag, may be NULL, saying what); a client ID
 * longer than 255 bytes or more than 32 capabilities is ETHP2P_ETOOBIG.
 */
int ethp2p_rlpx_hello_decode(ethp2p_rlpx_hello *h, const uint8_t *in, size_t len,
                             ethp2p_diag *diag);

/* Disconnect (0x01): writes [reason].  Returns 0 or ETHP2P_ESPACE. */
int ethp2p_rlpx_disconnect_encode(uint8_t *out, size_t cap, size_t *len, unsigned reason);
/* Reads [reason], a bare reason, or [] / empty (= 0).  Returns 0 or ETHP2P_EPROTO. */
int ethp2p_rlpx_disconnect_decode(unsigned *reason, const uint8_t *in, size_t len);

/* A protocol we run, for capability matching. */
typedef struct ethp2p_rlpx_proto_id {
  const char *name;
  uint32_t version;
  uint32_t length; /* number of message codes it uses */
} ethp2p_rlpx_proto_id;

/* A capability both sides run, placed in the message ID space. */
typedef struct ethp2p_rlpx_shared {
  size_t local;    /* index into the local table */
  uint32_t offset; /* first message ID (>= 0x10) */
  uint32_t length;
} ethp2p_rlpx_shared;

/*
 * Capability matching (rlpx.md "Message ID-based Multiplexing"): for each name
 * both sides run, the highest version both run; the shared names sorted
 * alphabetically get consecutive ID ranges from 0x10 on.
 * Returns 0 (*n = 0 means "useless peer") or ETHP2P_ESPACE (more than cap).
 */
int ethp2p_rlpx_match_caps(ethp2p_rlpx_shared *out, size_t cap, size_t *n,
                           const ethp2p_rlpx_proto_id *local, size_t nlocal,
                           const ethp2p_rlpx_cap *remote, size_t nremote);

/*
 * Message payload compression (snappy, after a Hello of version >= 5).
 * compress: out cap >= ethp2p_rlpx_snappy_max(len).
 * uncompress: refuses a claimed length above max (ETHP2P_ETOOBIG) before
 * allocating; *out is malloc'd (free it); ETHP2P_EPROTO for bad data.
 */
size_t ethp2p_rlpx_snappy_max(size_t len);
int ethp2p_rlpx_snappy_compress(uint8_t *out, size_t cap, size_t *outlen, const uint8_t *in,
                                size_t len);
int ethp2p_rlpx_snappy_uncompress(uint8_t **out, size_t *outlen, const uint8_t *in, size_t len,
                                  size_t max);

/* ---------------------------------------------------------------------------
 * 5. A connection on the environment's TCP.
 *
 * States: handshake (auth/ack) -> hello (both sides send Hello at once; the
 * dialer may wait for the remote Hello first, see mirror_caps) -> running ->
 * closing -> closed.  Timeouts: the handshake and Hello must finish within
 * handshake_timeout; when running, a Ping is sent after ping_interval of
 * silence and the peer is dropped (reason 0x0b) when nothing arrives for
 * read_timeout.  A Ping from the peer is answered with Pong.
 * Frames larger than max_frame, bad MACs, malformed messages: the connection
 * is dropped (Disconnect 0x02 when the session is up), memory stays bounded.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_rlpx_conn ethp2p_rlpx_conn;

typedef struct ethp2p_rlpx_conn_config {
  const uint8_t *secret;       /* our node key (32 bytes, copied) */
  const char *client_id;       /* copied; NULL = ETHP2P_RLPX_DEFAULT_CLIENT_ID */
  const ethp2p_rlpx_cap *caps; /* our capabilities (copied) */
  size_t ncaps;
  uint16_t listen_port;
  bool mirror_caps;              /* dialer only: wait for the remote Hello and advertise its caps
                                    (a probe such as `rlpx ping` that wants the peer to keep it) */
  ethp2p_time handshake_timeout; /* 0 = 5 s */
  ethp2p_time ping_interval;     /* 0 = 15 s */
  ethp2p_time read_timeout;      /* 0 = 30 s */
  size_t max_frame;              /* 0 = ETHP2P_RLPX_FRAME_MAX */
} ethp2p_rlpx_conn_config;

/* Why a connection ended, for on_close. */
typedef struct ethp2p_rlpx_close_info {
  int error;           /* 0 after a Disconnect either way; else an ETHP2P_E* code */
  int reason;          /* Disconnect reason, -1 when none was exchanged */
  bool remote;         /* the reason came from the peer */
  bool handshake_done; /* the Hello exchange had finished */
} ethp2p_rlpx_close_info;

typedef struct ethp2p_rlpx_conn_cbs {
  /* Both Hellos were exchanged; *remote is valid until the conn is freed. */
  void (*on_up)(ethp2p_rlpx_conn *c, const ethp2p_rlpx_hello *remote, void *data);
  /* A message with ID >= 0x10 (absolute ID); payload decompressed, valid during the call. */
  void (*on_msg)(ethp2p_rlpx_conn *c, uint64_t code, const uint8_t *payload, size_t len,
                 void *data);
  /* A Pong answered our Ping after rtt. */
  void (*on_pong)(ethp2p_rlpx_conn *c, ethp2p_time rtt, void *data);
  /* The connection ended.  Called once; the conn is freed when it returns. */
  void (*on_close)(ethp2p_rlpx_conn *c, const ethp2p_rlpx_close_info *info, void *data);
} ethp2p_rlpx_conn_cbs;

/*
 * Dials remote_pub at `to`.  Returns 0 or a setup error (EINVAL, EKEY, ENOMEM,
 * a tcp_connect error); on success the result comes through the callbacks
 * (a failed connect is on_close with the error).  cbs is copied.
 */
int ethp2p_rlpx_conn_dial(ethp2p_rlpx_conn **out, ethp2p_env *env,
                          const ethp2p_rlpx_conn_config *cfg, const uint8_t remote_pub[64],
                          const ethp2p_addr *to, const ethp2p_rlpx_conn_cbs *cbs, void *data);
/* Runs the recipient side on an accepted TCP handle (owned by the conn from now on,
 * also on failure). */
int ethp2p_rlpx_conn_accept(ethp2p_rlpx_conn **out, ethp2p_env *env,
                            const ethp2p_rlpx_conn_config *cfg, ethp2p_tcp *tcp,
                            const ethp2p_rlpx_conn_cbs *cbs, void *data);
/*
 * Sends message `code` (absolute ID) with payload (RLP, compressed here when
 * snappy is on).  Returns 0, ETHP2P_ESTATE (not up yet, or closing),
 * ETHP2P_ETOOBIG, ETHP2P_ENOMEM or a write error.
 */
int ethp2p_rlpx_conn_send(ethp2p_rlpx_conn *c, uint64_t code, const uint8_t *payload, size_t len);
/* Sends a Ping now (on_pong reports the round trip).  Returns 0 or ETHP2P_ESTATE. */
int ethp2p_rlpx_conn_ping(ethp2p_rlpx_conn *c);
/* Sends Disconnect(reason) when the session is up, then closes after the peer
 * ends the stream or 2 s; on_close follows (reason, remote = false). */
void ethp2p_rlpx_conn_disconnect(ethp2p_rlpx_conn *c, unsigned reason);
/* Closes at once, without callbacks.  Safe inside this conn's callbacks. */
void ethp2p_rlpx_conn_destroy(ethp2p_rlpx_conn *c);
/* The remote Hello (NULL before on_up), the remote key (NULL before the handshake
 * for an inbound conn), whether we dialed, the peer's address. */
const ethp2p_rlpx_hello *ethp2p_rlpx_conn_remote_hello(const ethp2p_rlpx_conn *c);
const uint8_t *ethp2p_rlpx_conn_remote_pub(const ethp2p_rlpx_conn *c);
bool ethp2p_rlpx_conn_dialed(const ethp2p_rlpx_conn *c);
ethp2p_addr ethp2p_rlpx_conn_peer_addr(const ethp2p_rlpx_conn *c);
/* Round trip of the auth -> ack exchange (dialer), 0 if unknown. */
ethp2p_time ethp2p_rlpx_conn_handshake_rtt(const ethp2p_rlpx_conn *c);
/* Bytes sent and received on the wire. */
void ethp2p_rlpx_conn_bytes(const ethp2p_rlpx_conn *c, uint64_t *in, uint64_t *out);
/* Application pointer (not used by the library). */
void ethp2p_rlpx_conn_set_user(ethp2p_rlpx_conn *c, void *user);
void *ethp2p_rlpx_conn_user(const ethp2p_rlpx_conn *c);

/* ---------------------------------------------------------------------------
 * 6. The host: peers and application protocols (go-ethereum's p2p.Server is
 * the model).
 *
 * The host accepts connections (its own listener, or TCP handles given to
 * ethp2p_rlpx_host_accept by a server that owns the port), dials, keeps the
 * peers that share a capability with it and routes their messages to the
 * registered protocols.  After the Hello exchange a peer is checked in this
 * order, each failure being a Disconnect with the reason shown:
 *   our own key (0x0a), already connected (0x05; of two connections made by
 *   simultaneous dials both ends keep the one the smaller key dialed: the other
 *   peer is removed after the new one was added), no shared capability (0x03,
 *   "useless peer"), then the limits unless the peer is trusted: more than
 *   max_peers (0x04); an inbound peer beyond max_peers - max_peers/dial_ratio
 *   inbound slots (0x04).
 * Inbound connections are refused before the handshake when more than
 * max_pending handshakes are running, or when the same IP connected less than
 * inbound_throttle ago (loopback and private addresses are exempt, as in
 * go-ethereum).  Static nodes are dialed and redialed after each loss with
 * back-off (5 s doubling up to 5 min).  Trusted nodes bypass the peer limits.
 *
 * Callbacks run on the loop; none runs inside the call that caused it.  A
 * protocol may send and disconnect from inside its callbacks.
 * ------------------------------------------------------------------------- */
typedef struct ethp2p_rlpx_host ethp2p_rlpx_host;
typedef struct ethp2p_rlpx_peer ethp2p_rlpx_peer;

/* An application protocol.  Codes passed to message and to peer_send are
 * relative: 0 .. length-1. */
typedef struct ethp2p_rlpx_protocol {
  const char *name; /* at most 32 bytes, copied */
  uint32_t version;
  uint32_t length; /* number of message codes, >= 1 */
  /* A peer that runs this protocol is up. */
  void (*peer_added)(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, void *data);
  /* A message of this protocol; payload (decompressed RLP) valid during the call. */
  void (*message)(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, uint32_t code, const uint8_t *payload,
                  size_t len, void *data);
  /* The peer is gone (after peer_added only); p is freed when this returns. */
  void (*peer_removed)(ethp2p_rlpx_host *h, ethp2p_rlpx_peer *p, const ethp2p_rlpx_close_info *info,
                       void *data);
  void *data;
} ethp2p_rlpx_protocol;

/* Peer lifecycle events for the application (and metrics). */
typedef enum ethp2p_rlpx_event_kind {
  ETHP2P_RLPX_EV_ADDED,    /* Hello done, checks passed: a peer */
  ETHP2P_RLPX_EV_REJECTED, /* refused before or right after the Hello (info says why) */
  ETHP2P_RLPX_EV_FAILED,   /* handshake or dial failed (info.error) */
  ETHP2P_RLPX_EV_REMOVED,  /* a peer left (info) */
  ETHP2P_RLPX_EV_PONG,     /* a peer answered ethp2p_rlpx_peer_ping after rtt */
} ethp2p_rlpx_event_kind;

typedef struct ethp2p_rlpx_event {
  ethp2p_rlpx_event_kind kind;
  ethp2p_rlpx_peer *peer; /* ADDED and REMOVED only */
  const uint8_t *pub;     /* remote key (NULL when not known yet) */
  ethp2p_addr addr;
  bool inbound;
  ethp2p_rlpx_close_info info; /* REJECTED, FAILED, REMOVED */
  ethp2p_time rtt;             /* PONG */
} ethp2p_rlpx_event;

typedef struct ethp2p_rlpx_host_config {
  const uint8_t *secret;         /* node key, 32 bytes (copied) */
  const char *client_id;         /* --identity; NULL = ETHP2P_RLPX_DEFAULT_CLIENT_ID */
  uint16_t listen_port;          /* advertised in Hello (0 = not listening) */
  size_t max_peers;              /* --maxpeers; 0 = 50 */
  unsigned dial_ratio;           /* at most max_peers/dial_ratio dialed peers; 0 = 3 */
  size_t max_pending;            /* inbound handshakes at once; 0 = 50 */
  ethp2p_time inbound_throttle;  /* 0 = 30 s */
  ethp2p_time handshake_timeout; /* the conn settings (0 = their defaults) */
  ethp2p_time ping_interval;
  ethp2p_time read_timeout;
  size_t max_frame;
  void (*on_event)(ethp2p_rlpx_host *h, const ethp2p_rlpx_event *ev, void *data);
  void *event_data;
} ethp2p_rlpx_host_config;

/* Counters since creation. */
typedef struct ethp2p_rlpx_host_stats {
  size_t peers, inbound, dialed, pending;
  size_t queued; /* dial candidates waiting */
  uint64_t dials, accepts, handshake_failures, rejected, throttled;
  uint64_t bytes_in, bytes_out; /* of closed connections plus live ones */
  /* Disconnect reasons of ended connections, by reason (0x00..0x0b; index 12 =
   * 0x10 subprotocol error or any other value), sent by us / by the peer. */
  uint64_t reasons_sent[13], reasons_received[13];
  /* Failed dials and handshakes by cause: [0] connect failed (refused, unreachable),
   * [1] timed out, [2] bad handshake (MAC, signature, malformed, too big),
   * [3] closed or reset by the peer, [4] other. */
  uint64_t failures_by_cause[5];
} ethp2p_rlpx_host_stats;

/* Creates a host (no listener yet).  Returns 0, ETHP2P_EINVAL, EKEY or ENOMEM. */
int ethp2p_rlpx_host_create(ethp2p_rlpx_host **out, ethp2p_env *env,
                            const ethp2p_rlpx_host_config *cfg);
/* Closes every connection and the listener without callbacks, then frees.
 * Not from inside a host callback. */
void ethp2p_rlpx_host_destroy(ethp2p_rlpx_host *h);
/* Registers a protocol (copied) before the first peer.  Returns its id (>= 0),
 * ETHP2P_EINVAL, ETHP2P_EEXIST (same name and version), ETHP2P_ESPACE (32 already),
 * ETHP2P_ESTATE (peers exist). */
int ethp2p_rlpx_host_register(ethp2p_rlpx_host *h, const ethp2p_rlpx_protocol *p);
/* Listens on bind (port 0 = any; see local_addr).  Returns 0 or a listen error. */
int ethp2p_rlpx_host_listen(ethp2p_rlpx_host *h, const ethp2p_addr *bind);
int ethp2p_rlpx_host_local_addr(const ethp2p_rlpx_host *h, ethp2p_addr *out);
/* Runs an inbound connection accepted elsewhere (the host owns tcp from now on,
 * also on failure).  Returns 0, ETHP2P_EBUSY (pending limit) or ETHP2P_EREFUSED
 * (throttled) — the handle is closed then. */
int ethp2p_rlpx_host_accept(ethp2p_rlpx_host *h, ethp2p_tcp *tcp);
/* Dials once.  Returns 0, ETHP2P_EEXIST (connected or dialing already), or a
 * dial error. */
int ethp2p_rlpx_host_dial(ethp2p_rlpx_host *h, const uint8_t pub[64], const ethp2p_addr *addr);
/*
 * Dial candidates, e.g. each node a discovery iterator yields.  Candidates wait in
 * a bounded queue (256) and are dialed while dialed slots are free
 * (max_peers / dial_ratio), skipping nodes already connected.  A node whose last
 * dialed connection ended is not dialed again for a while: 30 s after a session
 * that came up, and after a failed dial or handshake 30 s doubling per failure up
 * to 10 min (a bounded history of 512 nodes).
 * Returns 0 (queued), ETHP2P_EEXIST (connected or queued already), ETHP2P_EBUSY
 * (in back-off), ETHP2P_ESPACE (queue full), ETHP2P_EKEY (not a point).
 */
int ethp2p_rlpx_host_add_candidate(ethp2p_rlpx_host *h, const uint8_t pub[64],
                                   const ethp2p_addr *addr);
/*
 * Parses go-ethereum's static-nodes.json / trusted-nodes.json: a JSON array of
 * enode URL strings, e.g. ["enode://<128 hex>@10.0.0.1:30303", ...].  Whitespace
 * between tokens is free; inside strings only the escapes \" \\ \/ are known
 * (enode URLs need no others).  Pure, no allocation.
 * Returns 0; ETHP2P_ESYNTAX (not such an array; diag gives the offset);
 * ETHP2P_ESPACE (more than cap nodes); an ethp2p_enode_parse error for a bad URL
 * (diag says which element); a URL without an address or TCP port is ETHP2P_EINVAL.
 * Out: out[0..*n).
 */
int ethp2p_rlpx_nodes_parse(ethp2p_enode *out, size_t cap, size_t *n, const char *text, size_t len,
                            ethp2p_diag *diag);
/* Static nodes: dialed now and after every loss.  Trusted: bypass the limits. */
int ethp2p_rlpx_host_add_static(ethp2p_rlpx_host *h, const uint8_t pub[64],
                                const ethp2p_addr *addr);
int ethp2p_rlpx_host_add_trusted(ethp2p_rlpx_host *h, const uint8_t pub[64]);
void ethp2p_rlpx_host_stats_get(const ethp2p_rlpx_host *h, ethp2p_rlpx_host_stats *out);

/* Sends message `code` (relative) of protocol `proto` (an id from register).
 * Returns 0, ETHP2P_EINVAL (code out of range), ETHP2P_ENOTFOUND (the peer does
 * not run proto), or a send error. */
int ethp2p_rlpx_peer_send(ethp2p_rlpx_peer *p, int proto, uint32_t code, const uint8_t *payload,
                          size_t len);
/* Sends a Ping; the Pong is an ETHP2P_RLPX_EV_PONG event.  Returns 0 or ETHP2P_ESTATE. */
int ethp2p_rlpx_peer_ping(ethp2p_rlpx_peer *p);
/* Disconnects with reason; peer_removed follows. */
void ethp2p_rlpx_peer_disconnect(ethp2p_rlpx_peer *p, unsigned reason);
const uint8_t *ethp2p_rlpx_peer_pub(const ethp2p_rlpx_peer *p);
const ethp2p_rlpx_hello *ethp2p_rlpx_peer_hello(const ethp2p_rlpx_peer *p);
ethp2p_addr ethp2p_rlpx_peer_addr(const ethp2p_rlpx_peer *p);
bool ethp2p_rlpx_peer_inbound(const ethp2p_rlpx_peer *p);
/* The version of proto this peer runs, 0 if none. */
uint32_t ethp2p_rlpx_peer_version(const ethp2p_rlpx_peer *p, int proto);
void ethp2p_rlpx_peer_set_user(ethp2p_rlpx_peer *p, void *user);
void *ethp2p_rlpx_peer_user(const ethp2p_rlpx_peer *p);

#ifdef __cplusplus
}
#endif
#endif
