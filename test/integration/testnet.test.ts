// The private Tor network itself, against real tor: loopback-only listeners, an onion reachable
// through a client, readiness errors that name the node, and nothing left after stop().
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { afterAll, describe, expect, test } from 'vitest';
import type { TorInstance } from '../../firmware/tor/index.js';
import { base32Encode } from '../../firmware/tor/base32.js';
import { isLoopback, listenersOf } from '../../scripts/testnet/listeners.js';
import { waitBootstrapped } from '../../scripts/testnet/readiness.js';
import {
  checkBody, closeServer, httpGetOver, startCheckServer, startClientTor, startOnionServiceTor,
  TestnetNotReadyError, useTestnet, viaFirmwareTor, waitConnected, waitReachable, type TorNode,
} from '../support/testnet.js';

const testnet = useTestnet();

// A well-formed v3 address (rend-spec-v3: base32(pubkey || checksum || 0x03)) for a fresh key nobody publishes.
function unpublishedOnion(): string {
  const spki = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const pub = spki.subarray(spki.length - 32);
  const version = Buffer.from([3]);
  const checksum = createHash('sha3-256').update(Buffer.concat([Buffer.from('.onion checksum'), pub, version])).digest().subarray(0, 2);
  return `${base32Encode(Buffer.concat([pub, checksum, version])).toLowerCase()}.onion`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('private tor network', () => {
  let client: TorNode | undefined;
  let onion: string | undefined;
  let server: Server | undefined;
  let firmwareTor: TorInstance | undefined;
  afterAll(async () => {
    if (server) await closeServer(server);
  });

  test('3 authorities and 3 relays listen on 127.0.0.1 only, each on its OR, Dir and Control port', async () => {
    const { net } = testnet;
    expect(net.authorities).toHaveLength(3);
    expect(net.relays).toHaveLength(3);
    const listeners = await listenersOf(net.pids());
    for (const node of [...net.authorities, ...net.relays]) {
      const own = listeners.filter((l) => l.pids.includes(node.pid));
      expect(own.map((l) => l.port).sort()).toEqual([node.ports.or, node.ports.dir, node.ports.control].sort());
      expect(statSync(node.dataDir).mode & 0o777).toBe(0o700);
    }
    expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
    expect(net.torrcLinesForClient().filter((l) => l.startsWith('DirAuthority '))).toHaveLength(3);
  });

  test('an HTTP server behind an onion answers through a client tor', async () => {
    const { net, startedAt } = testnet;
    const http = await startCheckServer();
    server = http.server;
    const [c, service] = await Promise.all([startClientTor(net), startOnionServiceTor(net, http.port)]);
    client = c;
    onion = service.onion;
    const socket = await waitReachable(c, service.onion, { timeoutMs: 90_000 });
    const reachedS = (performance.now() - startedAt) / 1000;
    const reply = await httpGetOver(socket, service.onion);
    socket.destroy();
    expect(reply).toEqual({ status: 200, body: checkBody });
    process.stderr.write(`testnet: start to onion reachable ${reachedS.toFixed(1)} s\n`);
    const listeners = await listenersOf(net.pids());
    expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
    expect(listeners.filter((l) => l.pids.includes(c.pid)).map((l) => l.port).sort()).toEqual([c.ports.control, c.ports.socks].sort());
  });

  test("the firmware's own supervised tor joins with torrcLinesForClient() and reaches the onion", async () => {
    expect(onion).toBeDefined();
    firmwareTor = await testnet.startFirmwareTor();
    await waitConnected(firmwareTor, 90_000);
    const socket = await waitReachable(viaFirmwareTor(firmwareTor), onion!, { timeoutMs: 60_000 });
    const reply = await httpGetOver(socket, onion!);
    socket.destroy();
    expect(reply).toEqual({ status: 200, body: checkBody });
    const listeners = await listenersOf([firmwareTor.pid!]);
    expect(listeners.length).toBeGreaterThanOrEqual(2);
    expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
  });

  test('an onion nobody publishes is reported as unreachable, naming the client and its SOCKS reply', async () => {
    expect(client).toBeDefined();
    const nowhere = unpublishedOnion();
    const err = await waitReachable(client!, nowhere, { timeoutMs: 4000, attemptTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestnetNotReadyError);
    expect((err as TestnetNotReadyError).node).toBe(client!.name);
    // 0xF0: descriptor not found on any HSDir (the client SocksPort has ExtendedErrors).
    expect((err as Error).message).toContain(`reach ${nowhere}:80: `);
    expect((err as Error).message).toMatch(/onion service descriptor not found \(SOCKS 0xF0\)/);
  });

  test('a malformed onion address fails with tor\'s invalid-address reply', async () => {
    const bad = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad.onion';
    const started = performance.now();
    const err = await waitReachable(client!, bad, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestnetNotReadyError);
    // Permanent (SocksError.retryable is false): no retries until the deadline.
    expect(performance.now() - started).toBeLessThan(5000);
    expect((err as Error).message).toMatch(/1 attempts failed/);
    expect((err as Error).message).toMatch(/invalid onion address \(SOCKS 0xF6\)/);
  });

  test('a readiness timeout names the node and shows its notice log', async () => {
    const fresh = await testnet.net.startClient();
    // A tor cannot bootstrap within 20 ms of opening its control port: it needs a consensus first.
    const err = await waitBootstrapped(fresh, 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestnetNotReadyError);
    expect((err as TestnetNotReadyError).node).toBe(fresh.name);
    expect((err as Error).message).toMatch(new RegExp(`${fresh.name} did not reach bootstrap PROGRESS=100: timed out`));
    expect((err as TestnetNotReadyError).logTail).toMatch(/\[notice\]/);
  });

  test('a node that dies is reported at once, not at the timeout', async () => {
    const doomed = await testnet.net.startClient();
    const waiting = waitBootstrapped(doomed, 60_000).catch((e: unknown) => e);
    process.kill(doomed.pid, 'SIGKILL');
    const err = await waiting;
    expect(err).toBeInstanceOf(TestnetNotReadyError);
    expect((err as Error).message).toMatch(/tor exited/);
  });

  test('stop() ends every tor by PID, frees every port and removes the temp dir', async () => {
    const { net } = testnet;
    const pids = [...net.pids(), ...(firmwareTor?.pid ? [firmwareTor.pid] : [])];
    expect(pids.length).toBeGreaterThanOrEqual(9);
    expect(pids.filter(alive).length).toBeGreaterThan(0);
    await firmwareTor?.stop();
    await net.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(await listenersOf(pids)).toEqual([]);
    expect(existsSync(net.dir)).toBe(false);
  });
});
