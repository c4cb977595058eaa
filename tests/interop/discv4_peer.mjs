// tests/interop/discv4_peer.mjs — a real discv4 peer (@ethereumjs/devp2p's DPT) on loopback.
//
// Usage: node discv4_peer.mjs PORT [--boot ENODE] [--us PRIVKEY_HEX:PORT]
//   Listens on 127.0.0.1:PORT with a fresh key and prints one line per event on stdout:
//     enode enode://<key>@127.0.0.1:PORT
//     added <peer id hex>          (a peer entered its table: it pinged and was answered)
//     found-us                     (the ethp2p node of --us entered its table)
//   --boot ENODE: bootstrap from that node (ping, then findneighbours).
//   --us KEY:PORT: our ethp2p node (its key, to know its ID, and its port); pinged every
//   2 s until it is in the table.
// Loopback only.
import { DPT } from '@ethereumjs/devp2p';
import { secp256k1 } from 'ethereum-cryptography/secp256k1.js';
import { randomBytes } from 'node:crypto';

const hex = (b) => Buffer.from(b).toString('hex');
const args = process.argv.slice(2);
const port = Number(args[0]);
let boot = null;
let us = null;
for (let i = 1; i < args.length; i++) {
  if (args[i] === '--boot') boot = args[++i];
  else if (args[i] === '--us') us = args[++i];
}

const key = new Uint8Array(randomBytes(32));
const pub = secp256k1.getPublicKey(key, false).subarray(1);
const dpt = new DPT(key, {
  endpoint: { address: '127.0.0.1', udpPort: port, tcpPort: port },
  refreshInterval: 4000,
  shouldFindNeighbours: true,
  shouldGetDnsPeers: false,
  timeout: 1000,
});
dpt.events.on('error', () => {}); // unknown packet types (ENRRequest) and timeouts
let usId = null;
let foundUs = false;
if (us !== null) {
  const [k, p] = us.split(':');
  usId = hex(secp256k1.getPublicKey(Uint8Array.from(Buffer.from(k, 'hex')), false).subarray(1));
  us = { address: '127.0.0.1', udpPort: Number(p), tcpPort: Number(p) };
}
dpt.events.on('peer:added', (peer) => {
  const id = hex(peer.id);
  console.log(`added ${id}`);
  if (id === usId && !foundUs) {
    foundUs = true;
    console.log('found-us');
  }
});
dpt.events.on('listening', () => {
  console.log(`enode enode://${hex(pub)}@127.0.0.1:${port}`);
  if (boot !== null) {
    const m = /^enode:\/\/([0-9a-f]{128})@([0-9.]+):(\d+)/.exec(boot);
    dpt.bootstrap({ address: m[2], udpPort: Number(m[3]) }).catch(() => {});
  }
  if (us !== null) {
    const tick = () => {
      if (foundUs) return;
      dpt.bootstrap(us).catch(() => {});
      setTimeout(tick, 2000);
    };
    tick();
  }
});
dpt.bind(port, '127.0.0.1');
process.on('SIGTERM', () => {
  dpt.destroy();
  process.exit(0);
});
