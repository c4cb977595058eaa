// tests/interop/discv5_peer.mjs — a real @chainsafe/discv5 (11.0.0) node on loopback
// for the ethp2p interop test.  Prints one line per fact, for the shell test to check:
//
//   ENR <enr:...>                 our record (once listening)
//   PONG <seq> <ip>:<port>        our PING to --target was answered (its view of us)
//   FOUND0 <enr:...>              FINDNODE distance 0 to --target returned its record
//   LOOKUP <n> <ids...>           a lookup through --target found these node IDs
//   TALK <hex>                    TALKREQ "ethp2p-echo" answered with these bytes
//   ERROR <what> <message>        a step failed (the process exits 1 at the end)
//   DONE
//
//   BOOT <id>                     a --boot node answered our PING
//   TABLE <ids...>                the table, each time it changes during --stay and at
//                                 its end (a test waits for its node to appear)
//
// Usage: node discv5_peer.mjs --port P [--target ENR] [--stay SECONDS] [--boot ENR,...]
// Loopback only: it binds 127.0.0.1 and talks to the records it is given.
import { Discv5 } from "@chainsafe/discv5";
import { SignableENR, ENR } from "@chainsafe/enr";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const port = Number(opt("--port", "0"));
const target = opt("--target", null);
const stay = Number(opt("--stay", "0"));
const boot = opt("--boot", null);
let failed = false;

const say = (line) => process.stdout.write(line + "\n");
const fail = (what, err) => {
  failed = true;
  say(`ERROR ${what} ${err && err.message ? err.message : err}`);
};
const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`${what} timed out`)), ms))]);
const hex = (b) => Buffer.from(b).toString("hex");

const privateKey = await generateKeyPair("secp256k1");
const enr = SignableENR.createFromPrivateKey(privateKey);
enr.ip = "127.0.0.1";
enr.udp = port;
const d5 = Discv5.create({
  enr,
  privateKey,
  bindAddrs: { ip4: multiaddr(`/ip4/127.0.0.1/udp/${port}`) },
  config: { requestTimeout: 2000, requestRetries: 1, lookupTimeout: 5000, enrUpdate: false },
});
d5.on("talkReqReceived", (src, _enr, req) => {
  // answers TALKREQ "ethp2p-echo" with the bytes reversed
  if (Buffer.from(req.protocol).toString() === "ethp2p-echo")
    d5.sendTalkResp(src, req.id, Uint8Array.from(req.request).reverse()).catch(() => {});
});
await d5.start();
say(`ENR ${d5.enr.encodeTxt()}`);

for (const e of boot ? boot.split(",") : []) {
  // a bootnode: into the table, then a PING so that it learns us too
  const b = ENR.decodeTxt(e);
  d5.addEnr(b);
  try {
    await withTimeout(d5.sendPing(b), 8000, "boot ping");
    say(`BOOT ${b.nodeId}`);
  } catch (err) {
    fail("boot", err);
  }
}

if (target) {
  const t = ENR.decodeTxt(target);
  d5.addEnr(t);
  try {
    const pong = await withTimeout(d5.sendPing(t), 8000, "ping");
    const o = pong.addr.ip.octets;
    say(`PONG ${pong.enrSeq} ${Array.from(o).join(".")}:${pong.addr.port}`);
  } catch (e) {
    fail("ping", e);
  }
  try {
    const recs = await withTimeout(d5.sendFindNode(t, [0]), 8000, "findnode");
    for (const r of recs) say(`FOUND0 ${r.encodeTxt()}`);
    if (recs.length === 0) fail("findnode", "no record at distance 0");
  } catch (e) {
    fail("findnode", e);
  }
  try {
    const resp = await withTimeout(
      d5.sendTalkReq(t, Buffer.from("hello"), "ethp2p-echo"),
      8000,
      "talkreq",
    );
    say(`TALK ${hex(resp)}`);
  } catch (e) {
    fail("talkreq", e);
  }
  try {
    const found = await withTimeout(d5.findRandomNode(), 15000, "lookup");
    say(`LOOKUP ${found.length} ${found.map((r) => r.nodeId).join(" ")}`);
  } catch (e) {
    fail("lookup", e);
  }
}

if (stay > 0) {
  // keep answering; report the table whenever it changes so the test sees who is known
  // as soon as it is (readiness signalled, not slept); the test ends us when it is done
  const table = () => d5.kadValues().map((r) => r.nodeId).join(" ");
  const t0 = Date.now();
  let last = null;
  while (Date.now() - t0 < stay * 1000) {
    const now = table();
    if (now !== last && now !== "") say(`TABLE ${now}`);
    last = now;
    await new Promise((r) => setTimeout(r, 100));
    if (process.stdin.destroyed) break;
  }
  say(`TABLE ${table()}`);
}
await d5.stop();
say("DONE");
process.exit(failed ? 1 : 0);
