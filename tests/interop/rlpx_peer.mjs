// tests/interop/rlpx_peer.mjs — a real devp2p peer (@ethereumjs/devp2p 10.0.0, its
// RLPx) for the ethp2p RLPx interop test.  Loopback only.
//
//   node rlpx_peer.mjs listen            listen on 127.0.0.1:<free port>; prints
//                                       "READY enode://<id>@127.0.0.1:<port>"
//   node rlpx_peer.mjs dial ENODE        connect to ENODE
// Options (after the mode): --disconnect-after-pong REASON (send Disconnect(REASON)
// once our Ping was answered), --key HEX (node key), --timeout MS (exit 3 after it),
// --send-big N (send one N-byte message right after the Hello).
//
// Every event is one line on stdout:
//   PEER_ADDED client=<clientId> version=<p2p version> caps=<name/ver,...> port=<n>
//   PONG                          the remote answered our Ping
//   TINY code=<c> data=<hex>      a message of the "tiny" protocol arrived
//   PEER_REMOVED reason=<n> name=<NAME> we=<true|false>
import { Common, Mainnet } from '@ethereumjs/common';
import { RLPx } from '@ethereumjs/devp2p';
import { bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes } from '@ethereumjs/util';
import { secp256k1 } from 'ethereum-cryptography/secp256k1.js';
import { randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
const mode = args[0];
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = (line) => process.stdout.write(line + '\n');

// The "tiny" protocol: message 0 = ping-like "hello tiny", answered with message 1.
class Tiny {
  constructor(version, peer, send) {
    this.version = version;
    this.peer = peer;
    this.send = send;
  }
  _handleMessage(code, data) {
    const payload = data instanceof Uint8Array ? data : new Uint8Array();
    out(`TINY code=${code} data=${bytesToHex(payload)}`);
    if (code === 0) this.send(1, payload);
  }
}

const key = opt('--key') ? hexToBytes('0x' + opt('--key')) : randomBytes(32);
const pub = secp256k1.getPublicKey(key, false).subarray(1);
const common = new Common({ chain: Mainnet });
const rlpx = new RLPx(key, {
  clientId: utf8ToBytes('ethereumjs-devp2p/interop'),
  capabilities: [{ name: 'tiny', version: 1, length: 2, constructor: Tiny }],
  common,
  maxPeers: 10,
  timeout: 5000,
  listenPort: null,
});
const discReason = opt('--disconnect-after-pong');

rlpx.events.on('peer:added', (peer) => {
  const h = peer.getHelloMessage();
  const caps = (h.capabilities ?? []).map((c) => `${c.name}/${c.version}`).join(',');
  out(`PEER_ADDED client=${typeof h.clientId === "string" ? h.clientId : bytesToUtf8(h.clientId)} version=${h.protocolVersion} caps=${caps} port=${h.port}`);
  // Wrap the Pong handler to report it, then ping at once (the library waits 15 s).
  const handlePong = peer._handlePong.bind(peer);
  peer._handlePong = () => {
    handlePong();
    out('PONG');
    if (discReason !== undefined) peer.disconnect(Number(discReason));
  };
  peer._sendPing();
  // Hostile test: one message far above the receiver's frame limit.
  if (opt('--send-big') !== undefined) peer._sendMessage(0x10, new Uint8Array(Number(opt('--send-big'))));
});
rlpx.events.on('peer:removed', (peer, reason, we) => {
  const names = Object.fromEntries(
    Object.entries({
      DISCONNECT_REQUESTED: 0, NETWORK_ERROR: 1, PROTOCOL_ERROR: 2, USELESS_PEER: 3,
      TOO_MANY_PEERS: 4, ALREADY_CONNECTED: 5, INCOMPATIBLE_VERSION: 6, INVALID_IDENTITY: 7,
      CLIENT_QUITTING: 8, UNEXPECTED_IDENTITY: 9, SAME_IDENTITY: 10, TIMEOUT: 11,
      SUBPROTOCOL_ERROR: 16,
    }).map(([k, v]) => [v, k]));
  out(`PEER_REMOVED reason=${reason} name=${names[reason] ?? 'UNKNOWN'} we=${we === true}`);
  // One peer per run: leave once it is gone (after the 2 s socket linger of a Disconnect).
  setTimeout(() => process.exit(0), 100).unref();
});
rlpx.events.on('peer:error', (peer, err) => out(`PEER_ERROR ${String(err.message ?? err).split('\n')[0]}`));
rlpx.events.on('error', (err) => out(`ERROR ${String(err.message ?? err).split('\n')[0]}`));

const timeout = Number(opt('--timeout') ?? 20000);
setTimeout(() => {
  out('TIMEOUT');
  process.exit(3);
}, timeout).unref();

if (mode === 'listen') {
  rlpx.events.once('listening', () => {
    const port = rlpx._server.address().port;
    out(`READY enode://${bytesToHex(pub).slice(2)}@127.0.0.1:${port}`);
  });
  rlpx.listen(0, '127.0.0.1');
} else if (mode === 'dial') {
  const m = /^enode:\/\/([0-9a-f]{128})@127\.0\.0\.1:(\d+)/.exec(args[1] ?? '');
  if (!m) {
    out('ERROR dial needs enode://<id>@127.0.0.1:<port> (loopback only)');
    process.exit(2);
  }
  rlpx
    .connect({ id: hexToBytes('0x' + m[1]), address: '127.0.0.1', tcpPort: Number(m[2]) })
    .catch((err) => out(`ERROR ${String(err.message ?? err).split('\n')[0]}`));
} else {
  out('ERROR usage: rlpx_peer.mjs listen|dial ENODE [options]');
  process.exit(2);
}
