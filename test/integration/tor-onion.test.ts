// Two firmware tors on the private Tor network (scripts/testnet, one network for this file):
// A publishes its onion with client auth for B; B connects through its SOCKS port and gets an HTTP
// reply; C, without the key, is refused with tor's extended code 0xF4; A's tor is SIGKILLed, the
// supervisor restarts it and the service comes back at the same address. B's presence watch reads
// the revision-counter of A's descriptor (HSFETCH + GETINFO hs/client/desc/id) and sees it change
// when A's tor restarts with the same key and republishes.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addClientAuth,
  generateClientAuthKeyPair,
  newCircuits,
  publishOnion,
  SocksError,
  socksConnect,
  startTor,
  type OnionService,
  type TorInstance,
} from '../../firmware/tor/index.js';
import { HsDescFetcher } from '../../firmware/tor/hs-desc-fetch.js';
import { parseOuterRevisionCounter } from '../../firmware/tor/hs-descriptor-outer.js';
import { loadOrCreateOnionKey } from '../../firmware/tor/onion-key.js';
import { OnionPresenceWatch } from '../../firmware/tor/onion-presence.js';
import { radioEventForTor } from '../../firmware/app/tor-link.js';
import { ledPatternFor, type LedPatternName } from '../../firmware/radio/led-patterns.js';
import { createRadioState, transition } from '../../firmware/radio/radio-machine.js';
import type { RadioEvent } from '../../firmware/radio/radio-types.js';
import { useTestnet } from '../support/testnet.js';

const testnet = useTestnet();
const root = mkdtempSync(join(tmpdir(), 'torlk-tor-onion-'));
const tors: TorInstance[] = [];
let server: http.Server;
let localPort = 0;
/** Behind an extra virtual port of A's onion (OnionServiceOptions.extraPorts, the e2e bench's echo). */
let extraServer: http.Server;
let extraPort = 0;
const EXTRA_VIRTUAL_PORT = 7;
let a: TorInstance, b: TorInstance, c: TorInstance;
let service: OnionService;
let address = '';
const ledA: LedPatternName[] = [];
const bKeys = generateClientAuthKeyPair();

async function firmwareTor(name: string): Promise<TorInstance> {
  const tor = await startTor({ dataDir: join(root, name), extraConfig: testnet.net.torrcLinesForClient() });
  tors.push(tor);
  return tor;
}

/** GET / through `tor`, retrying while the failure is retryable (descriptor not yet on the HSDirs...). */
async function getThrough(tor: TorInstance, deadlineMs = 90_000, port = 80): Promise<string> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    let socket: net.Socket;
    try {
      socket = await socksConnect({ socksPort: tor.socksPort!, host: address, port, timeoutMs: 15_000 });
    } catch (err) {
      if (err instanceof SocksError && err.retryable && Date.now() < until) {
        // A stalled introduction or rendezvous: a new identity re-fetches the descriptor.
        if (err.failure === 'timeout') await newCircuits(tor);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      throw err;
    }
    return new Promise((resolve, reject) => {
      const req = http.get({ createConnection: () => socket, host: address, path: '/' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      });
      req.on('error', reject);
    });
  }
}

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end('torlk receiver'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  localPort = (server.address() as net.AddressInfo).port;
  extraServer = http.createServer((_req, res) => res.end('extra port'));
  await new Promise<void>((r) => extraServer.listen(0, '127.0.0.1', r));
  extraPort = (extraServer.address() as net.AddressInfo).port;
  a = await firmwareTor('a');
  // The real path from tor to the LED: status → radio-core event → the radio's LED choice.
  let radio = createRadioState();
  a.status.subscribe((s) => {
    radio = transition(radio, { ...radioEventForTor(s), at: performance.now() } as RadioEvent).state;
    const p = ledPatternFor(radio).name;
    if (ledA.at(-1) !== p) ledA.push(p);
  });
  [b, c] = await Promise.all([firmwareTor('b'), firmwareTor('c')]);
  await Promise.all([a, b, c].map((t) => t.status.waitFor((s) => s.state === 'connected')));
});

afterAll(async () => {
  await Promise.all(tors.map((t) => t.stop()));
  server?.close();
  extraServer?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('firmware tors on the private network', () => {
  it('bootstrap events drive the LED from bootstrapping to connected', () => {
    expect(ledA[0]).toBe('bootstrapping');
    expect(ledA.at(-1)).toBe('connected');
    expect(a.socksPort).toBeGreaterThan(0);
  });

  it('A publishes its onion with client auth for B; B connects and gets an HTTP reply', async () => {
    const key = await loadOrCreateOnionKey(join(root, 'a-onion-key.pem'));
    ({ address, service } = await publishOnion({ tor: a, key, localPort, authorizedClients: [bKeys.publicKey], extraPorts: [{ virtualPort: EXTRA_VIRTUAL_PORT, localPort: extraPort }] }));
    expect(address).toBe(`${key.serviceId}.onion`);
    await service.waitForUpload(a.control, 120_000); // watched from before ADD_ONION: cannot miss it
    await addClientAuth(b, address, bKeys.privateKey);
    expect(await getThrough(b)).toBe('200 torlk receiver');
  });

  it('an extra virtual port of the same onion reaches its own local port', async () => {
    expect(await getThrough(b, 30_000, EXTRA_VIRTUAL_PORT)).toBe('200 extra port');
  });

  it('C, without the key, is refused with a typed permanent error (0xF4)', async () => {
    let err: unknown;
    const until = Date.now() + 60_000;
    for (;;) {
      err = await socksConnect({ socksPort: c.socksPort!, host: address, port: 80, timeoutMs: 30_000 }).then(
        (s) => (s.destroy(), undefined),
        (e: unknown) => e,
      );
      if (!(err instanceof SocksError && err.retryable && Date.now() < until)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(err).toBeInstanceOf(SocksError);
    expect(err).toMatchObject({ failure: 'reply', code: 0xf4, retryable: false });
    expect(String(err)).toMatch(/requires client authorization.*0xF4/);
  });

  it('real tor’s extended codes survive: a malformed onion is 0xF6 (permanent), an unpublished one 0xF0 (retryable)', async () => {
    const bad = await socksConnect({ socksPort: b.socksPort!, host: 'notanonionaddress.onion', port: 80, timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ failure: 'reply', code: 0xf6, retryable: false });
    const nobody = (await loadOrCreateOnionKey(join(root, 'never-published.pem'))).serviceId;
    const missing = await socksConnect({ socksPort: b.socksPort!, host: `${nobody}.onion`, port: 80, timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SocksError);
    expect(missing).toMatchObject({ failure: 'reply', code: 0xf0, retryable: true });
  });

  it('B’s presence watch reads A’s descriptor revision-counter, and sees a new one once A’s restarted tor republishes', async () => {
    const id = service.serviceId;
    // The parts against real tor: HSFETCH settles on HS_DESC RECEIVED, GETINFO gives the cached descriptor.
    expect(await new HsDescFetcher(() => b.control).fetch(id, 20_000)).toEqual({ outcome: 'received' });
    const text = (await b.control.getInfo(`hs/client/desc/id/${id}`)).get(`hs/client/desc/id/${id}`);
    expect(text).toMatch(/^hs-descriptor 3\n/);
    const first = parseOuterRevisionCounter(text!, id);
    expect(first).toMatch(/^[1-9][0-9]*$/);

    const fresh: string[] = [];
    const watch = new OnionPresenceWatch({ control: () => b.control, hosts: () => [address, 'example.org'], onFresh: (o) => fresh.push(o), fetchTimeoutMs: 20_000 });
    await watch.checkNow();
    const before = watch.lastCounter(address);
    expect(before).toMatch(/^[1-9][0-9]*$/);
    await watch.checkNow(); // nothing new published: nothing to report
    expect(fresh).toEqual([]);

    const restarted = a.nextReady();
    process.kill(a.pid!, 'SIGKILL');
    await restarted;
    await service.waitForUpload(a.control, 120_000);
    // The upload goes to every responsible HSDir at once; the one B asks may take a moment longer.
    const until = Date.now() + 60_000;
    let rounds = 0;
    while (fresh.length === 0 && Date.now() < until) {
      if (rounds++ > 0) await new Promise((r) => setTimeout(r, 1000));
      await watch.checkNow();
    }
    expect(fresh).toEqual([address]);
    expect(watch.lastCounter(address)).not.toBe(before);
    expect(BigInt(watch.lastCounter(address)!)).toBeGreaterThan(BigInt(before!));
  });

  it('when A’s tor is SIGKILLed, the supervisor restarts it and the service returns at the same address', async () => {
    const oldPid = a.pid!;
    const restarted = a.nextReady();
    ledA.length = 0;
    process.kill(oldPid, 'SIGKILL');
    await restarted;
    expect(a.pid).not.toBe(oldPid);
    expect(ledA).toContain('torError');
    await a.status.waitFor((s) => s.state === 'connected');
    expect((await a.control.getInfo('onions/detached')).get('onions/detached')).toContain(service.serviceId);
    await service.waitForUpload(a.control, 120_000); // the restarted tor's descriptor is on the HSDirs
    // B still holds the old descriptor and intro points; a new identity makes it fetch the new ones.
    await newCircuits(b); // also re-adds B's client-auth key, which NEWNYM purges
    expect(await getThrough(b, 120_000)).toBe('200 torlk receiver');
  });
});
