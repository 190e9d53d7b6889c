// Tor figures on the private network (scripts/testnet), each the median of 3 unless noted:
// 1. testnet start → the firmware's onion reachable: a fresh network, two firmware tors (A serves
//    its restricted onion, B holds the client-auth key) until B's first HTTP reply. Reference: B's
//    own bootstrap to 100 % in the same run (the floor set by the network's voting rounds).
// 2. warm round trip: a new SOCKS stream over B's existing rendezvous circuit plus one GET (median
//    of 20). Reference: the same GET straight to the receiver on loopback, without tor.
// 3. cold connect: after SIGNAL NEWNYM (fresh descriptor fetch, introduction, rendezvous) until
//    the GET is answered. Reference: the warm round trip above.
// Progress goes to stderr; the last stdout line is BENCH_JSON (scripts/bench.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestnet, type Testnet } from '../../scripts/testnet/network.js';
import {
  addClientAuth,
  generateClientAuthKeyPair,
  newCircuits,
  publishOnion,
  SocksError,
  socksConnect,
  startTor,
  type TorInstance,
} from '../../firmware/tor/index.js';
import { loadOrCreateOnionKey } from '../../firmware/tor/onion-key.js';
import { median } from './median.js';

const RUNS = 3;
const WARM_SAMPLES = 20;
const say = (msg: string) => process.stderr.write(`tor.bench: ${msg}\n`);

function get(createConnection: (() => net.Socket) | undefined, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...(createConnection ? { createConnection } : { port, agent: false }), host, path: '/' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

/** Stream + GET through `tor`, retrying retryable failures until the deadline. */
async function getOverTor(tor: TorInstance, address: string, deadline: number): Promise<string> {
  for (;;) {
    try {
      const socket = await socksConnect({ socksPort: tor.socksPort!, host: address, port: 80, timeoutMs: 30_000 });
      return await get(() => socket, address, 80);
    } catch (err) {
      if (!(err instanceof SocksError && err.retryable) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

interface RunResult {
  startToReachableS: number;
  bootstrapS: number;
  warmMs: number[];
  directMs: number[];
  coldMs: number;
}

async function oneRun(run: number, localPort: number): Promise<RunResult> {
  const root = mkdtempSync(join(tmpdir(), 'torlk-tor-bench-'));
  const tors: TorInstance[] = [];
  let net: Testnet | undefined;
  try {
    const t0 = performance.now();
    net = await startTestnet();
    const extra = net.torrcLinesForClient();
    const [a, b] = await Promise.all(
      ['a', 'b'].map((name) => startTor({ dataDir: join(root, name), extraConfig: extra })),
    );
    tors.push(a!, b!);
    const bootstrapped = b!.status.waitFor((s) => s.state === 'connected').then(() => performance.now());
    await a!.status.waitFor((s) => s.state === 'connected');
    const key = await loadOrCreateOnionKey(join(root, 'onion-key.pem'));
    const auth = generateClientAuthKeyPair();
    const { address, service } = await publishOnion({ tor: a!, key, localPort, authorizedClients: [auth.publicKey] });
    await addClientAuth(b!, address, auth.privateKey);
    await service.waitForUpload(a!.control);
    const bootstrapAt = await bootstrapped;
    const body = await getOverTor(b!, address, Date.now() + 120_000);
    if (body !== 'torlk bench') throw new Error(`unexpected body ${JSON.stringify(body)}`);
    const reachableAt = performance.now();
    say(`run ${run}: reachable ${((reachableAt - t0) / 1000).toFixed(1)} s after testnet start`);

    const warmMs: number[] = [];
    const directMs: number[] = [];
    for (let i = 0; i < WARM_SAMPLES; i++) {
      let t = performance.now();
      await getOverTor(b!, address, Date.now() + 30_000);
      warmMs.push(performance.now() - t);
      t = performance.now();
      await get(undefined, '127.0.0.1', localPort);
      directMs.push(performance.now() - t);
    }
    await newCircuits(b!);
    await new Promise((r) => setTimeout(r, 200)); // let NEWNYM take effect before timing
    const tc = performance.now();
    await getOverTor(b!, address, Date.now() + 60_000);
    const coldMs = performance.now() - tc;
    say(`run ${run}: warm median ${median(warmMs).toFixed(0)} ms, cold ${coldMs.toFixed(0)} ms`);
    return { startToReachableS: (reachableAt - t0) / 1000, bootstrapS: (bootstrapAt - t0) / 1000, warmMs, directMs, coldMs };
  } finally {
    await Promise.all(tors.map((t) => t.stop()));
    await net?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const server = http.createServer((_req, res) => res.end('torlk bench'));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const localPort = (server.address() as net.AddressInfo).port;
const results: RunResult[] = [];
try {
  for (let run = 1; run <= RUNS; run++) results.push(await oneRun(run, localPort));
} finally {
  server.close();
}

const reach = median(results.map((r) => r.startToReachableS));
const boot = median(results.map((r) => r.bootstrapS));
const warm = median(results.flatMap((r) => r.warmMs));
const direct = median(results.flatMap((r) => r.directMs));
const cold = median(results.map((r) => r.coldMs));
const row = (metric: string, value: number, unit: string, ref: { name: string; value: number }, goal: string, pass: boolean) => ({
  metric, value, unit, reference: ref, ratio: value / ref.value, goal, pass,
});
const rows = [
  row('testnet start → onion reachable (median of 3)', reach, 's', { name: 'client bootstrap 100 %', value: boot }, '<= 60 s', reach <= 60),
  row('warm connect + GET round trip (median)', warm, 'ms', { name: 'same GET on loopback, no tor', value: direct }, '<= 250 ms', warm <= 250),
  row('cold connect + GET after NEWNYM (median of 3)', cold, 'ms', { name: 'warm round trip', value: warm }, '<= 2000 ms', cold <= 2000),
];
process.stdout.write(`BENCH_JSON ${JSON.stringify({ section: 'tor', rows })}\n`);
