// The supervisor, control client, authentication and onion publishing against a real, lone tor
// with DisableNetwork 1: no network is needed, and nothing leaves the machine (everything the
// tests check works before bootstrap). The private-network tests are in tor-onion.test.ts.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addClientAuth, generateClientAuthKeyPair, publishOnion, startTor, type TorInstance } from '../../firmware/tor/index.js';
import { ControlConnection } from '../../firmware/tor/control-connection.js';
import { TorBinaryMissingError, TorExitedError, TorPortInUseError, TorStartTimeoutError } from '../../firmware/tor/errors.js';
import { loadOrCreateOnionKey } from '../../firmware/tor/onion-key.js';
import { TorSupervisor } from '../../firmware/tor/tor-supervisor.js';
import type { TorStatus } from '../../firmware/tor/tor-status.js';

const root = mkdtempSync(join(tmpdir(), 'torlk-tor-standalone-'));
const running: TorInstance[] = [];
const servers: net.Server[] = [];
let n = 0;
const dataDir = () => join(root, `tor${n++}`);
const offline = ['DisableNetwork 1'];

afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop()));
  for (const s of servers.splice(0)) s.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function start(options: Partial<Parameters<typeof startTor>[0]> = {}): Promise<TorInstance> {
  const tor = await startTor({ dataDir: dataDir(), extraConfig: offline, ...options });
  running.push(tor);
  return tor;
}

describe('supervised tor (lone, DisableNetwork)', () => {
  it('starts, authenticates with SAFECOOKIE over one control connection, owns tor, and stops it by PID', async () => {
    const tor = await start();
    const pid = tor.pid!;
    expect(alive(pid)).toBe(true);
    expect(statSync(tor.dataDir).mode & 0o777).toBe(0o700);
    const info = await tor.control.getInfo('version', 'config-text');
    expect(info.get('version')).toMatch(/^0\.4\./);
    expect(info.get('config-text')).toMatch(/SocksPort 127\.0\.0\.1:auto ExtendedErrors/);
    expect(info.get('config-text')).toMatch(/CookieAuthentication 1/);
    expect(tor.status.current).toMatchObject({ state: 'bootstrapping', progress: 0 });
    await expect(tor.start()).rejects.toThrow(/already started/); // one supervisor, one tor
    await tor.stop();
    expect(alive(pid)).toBe(false);
  });

  it('a second controller can authenticate by SAFECOOKIE too (PROTOCOLINFO reports it)', async () => {
    const tor = await start();
    const port = Number(/:(\d+)"?$/.exec((await tor.control.getInfo('net/listeners/control')).get('net/listeners/control')!)![1]);
    const second = await ControlConnection.connect({ port });
    try {
      const { authenticate } = await import('../../firmware/tor/control-auth.js');
      const info = await authenticate(second);
      expect(info.methods).toContain('SAFECOOKIE');
      expect(info.cookieFile).toBe(join(tor.dataDir, 'control_auth_cookie'));
    } finally {
      await second.close();
    }
  });

  it('tor exits with its owner: closing the owning control connection ends the process', async () => {
    const tor = new TorSupervisor({ dataDir: dataDir(), extraConfig: offline, backoff: { initialMs: 60_000, factor: 1, maxMs: 60_000, healthyAfterMs: 1 } });
    running.push(tor);
    await tor.start();
    const pid = tor.pid!;
    await tor.control.close();
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  });

  it('publishes the onion before bootstrap with V3Auth and PoW, at the address derived in Node', async () => {
    const tor = await start();
    const key = await loadOrCreateOnionKey(join(root, `key${n++}.pem`));
    const contact = generateClientAuthKeyPair();
    const { address } = await publishOnion({ tor, key, localPort: 8080, authorizedClients: [contact.publicKey] });
    expect(address).toBe(`${key.serviceId}.onion`);
    const detached = (await tor.control.getInfo('onions/detached')).get('onions/detached');
    expect(detached).toContain(key.serviceId);
  });

  it('registers a contact’s client-auth key with tor', async () => {
    const tor = await start();
    const peer = await loadOrCreateOnionKey(join(root, `key${n++}.pem`));
    const mine = generateClientAuthKeyPair();
    await addClientAuth(tor, peer.serviceId, mine.privateKey);
    const view = await tor.control.command(`ONION_CLIENT_AUTH_VIEW ${peer.serviceId}`);
    expect(view.lines.map((l) => l.text).join('\n')).toContain(
      `CLIENT ${peer.serviceId} x25519:${Buffer.from(mine.privateKey).toString('base64')}`,
    );
    await expect(addClientAuth(tor, 'not-an-onion', mine.privateKey)).rejects.toThrow(TypeError);
  });

  it('restarts tor killed with SIGKILL, keeps the SOCKS port, and re-publishes the onion', async () => {
    const tor = new TorSupervisor({
      dataDir: dataDir(),
      extraConfig: offline,
      socksPort: 'auto',
      backoff: { initialMs: 200, factor: 2, maxMs: 1000, healthyAfterMs: 60_000 },
    });
    running.push(tor);
    const states: TorStatus['state'][] = [];
    tor.status.subscribe((s) => states.push(s.state));
    await tor.start();
    const key = await loadOrCreateOnionKey(join(root, `key${n++}.pem`));
    await publishOnion({ tor, key, localPort: 8080, authorizedClients: [generateClientAuthKeyPair().publicKey] });
    const firstPid = tor.pid!;
    const restarted = tor.nextReady();
    process.kill(firstPid, 'SIGKILL');
    await restarted;
    expect(tor.pid).not.toBe(firstPid);
    expect(alive(firstPid)).toBe(false);
    expect(states).toContain('error');
    expect(states.at(-1)).toBe('bootstrapping');
    const detached = (await tor.control.getInfo('onions/detached')).get('onions/detached');
    expect(detached).toContain(key.serviceId);
  });

  it('restarts on a new SOCKS port when another program took ours while tor was down', async () => {
    // DisableNetwork opens no SOCKS listener, so this tor has network on, pointed at a directory
    // authority on a closed loopback port: it listens for SOCKS and never reaches past 127.0.0.1.
    const fp = 'A'.repeat(40);
    const tor = new TorSupervisor({
      dataDir: dataDir(),
      extraConfig: ['TestingTorNetwork 1', `DirAuthority nowhere orport=9 no-v2 v3ident=${fp} 127.0.0.1:9 ${fp}`, 'ClientUseIPv6 0'],
      backoff: { initialMs: 300, factor: 1, maxMs: 300, healthyAfterMs: 60_000 },
    });
    running.push(tor);
    await tor.start();
    const oldPort = tor.socksPort!;
    const errors: string[] = [];
    tor.status.subscribe((s) => {
      if (s.state === 'error') errors.push(s.error.name);
    });
    const back = tor.nextReady();
    const dead = new Promise<void>((r) => {
      const pid = tor.pid!;
      process.kill(pid, 'SIGKILL');
      const poll = setInterval(() => {
        if (!alive(pid)) {
          clearInterval(poll);
          r();
        }
      }, 20);
    });
    await dead;
    // Squat the port before the 300 ms restart: the first restart fails on it, the next must not.
    const squatter = net.createServer();
    servers.push(squatter);
    await new Promise<void>((r, j) => squatter.once('error', j).listen(oldPort, '127.0.0.1', r));
    const gaveUp = new Promise<string>((r) => setTimeout(() => r('still restarting on the taken port after 20 s'), 20_000).unref());
    expect(await Promise.race([back.then(() => 'restarted'), gaveUp])).toBe('restarted');
    expect(errors).toContain('TorPortInUseError');
    expect(tor.socksPort).toBeGreaterThan(0);
    expect(tor.socksPort).not.toBe(oldPort);
    const info = await tor.control.getInfo('net/listeners/socks');
    expect(info.get('net/listeners/socks')).toContain(`:${tor.socksPort}`);
  });

  it('waits with clockWrong while the clock is before the build date, and starts once it is set', async () => {
    let now = new Date('1970-01-01T00:00:05Z');
    const tor = new TorSupervisor({
      dataDir: dataDir(),
      extraConfig: offline,
      buildTime: new Date('2026-01-01T00:00:00Z'),
      now: () => now,
      clockRecheckMs: 50,
    });
    running.push(tor);
    const started = tor.start();
    await tor.status.waitFor((s) => s.state === 'clockWrong');
    await new Promise((r) => setTimeout(r, 200));
    expect(tor.pid).toBeUndefined(); // no tor while the clock is wrong
    now = new Date('2026-11-24T00:00:00Z');
    await started;
    expect(tor.pid).toBeGreaterThan(0);
  });

  it('a missing tor binary gives TorBinaryMissingError and an error status', async () => {
    const tor = new TorSupervisor({ dataDir: dataDir(), torBinary: join(root, 'no-such-tor') });
    const err = await tor.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorBinaryMissingError);
    expect(String(err)).toMatch(/tor binary not found or not executable: .*no-such-tor/);
    expect(tor.status.current).toMatchObject({ state: 'error' });
  });

  it('a taken SOCKS port gives TorPortInUseError quoting tor’s own reason', async () => {
    const squatter = net.createServer();
    servers.push(squatter);
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as net.AddressInfo).port;
    const tor = new TorSupervisor({ dataDir: dataDir(), socksPort: port });
    const err = await tor.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorPortInUseError);
    expect(err).toMatchObject({ address: `127.0.0.1:${port}`, exitCode: 1 });
    expect(String(err)).toContain(`tor exited with code 1: Could not bind to 127.0.0.1:${port}: Address already in use`);
  });
  it('a bad torrc option gives TorExitedError with tor’s own complaint', async () => {
    const tor = new TorSupervisor({ dataDir: dataDir(), extraConfig: ['NoSuchOption 1'] });
    const err = await tor.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorExitedError);
    expect(String(err)).toMatch(/tor exited with code 1: .*NoSuchOption/);
  });

  it('tightens an existing DataDirectory to mode 0700 before starting tor', async () => {
    const dir = dataDir();
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    await start({ dataDir: dir });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('a binary that never opens a control port gives TorStartTimeoutError and is stopped', async () => {
    const fake = join(root, `silent-tor-${n++}`);
    writeFileSync(fake, '#!/bin/sh\nexec sleep 120\n', { mode: 0o755 });
    const tor = new TorSupervisor({ dataDir: dataDir(), torBinary: fake, startTimeoutMs: 300 });
    await expect(tor.start()).rejects.toThrow(TorStartTimeoutError);
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(fake));
    expect(left).toEqual([]);
  });
});
