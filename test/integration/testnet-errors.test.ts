// Failure paths of the private-network harness against the real tor binaries: missing tools, a
// taken port, a bad torrc, bad options, and a harness that dies without calling stop().
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, test } from 'vitest';
import { tracked } from '../../scripts/testnet/exit-hook.js';
import { KeyGenerationError } from '../../scripts/testnet/gencert.js';
import { startTestnet, Testnet, TestnetConfigError } from '../../scripts/testnet/network.js';
import { findFreePorts, releasePorts } from '../../scripts/testnet/ports.js';
import { launchTorNode, TorStartError } from '../../scripts/testnet/tor-node.js';
import { torrcLines, type AuthorityDescriptor } from '../../scripts/testnet/torrc.js';

const scratch: string[] = [];
afterAll(async () => {
  for (const d of scratch) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'torlk-testnet-err-'));
  scratch.push(d);
  return d;
}

// An authority nobody runs: tor accepts the line and simply never bootstraps, which is all these
// tests need from it.
const phantomAuthority: AuthorityDescriptor = {
  nickname: 'phantom', orPort: 1, dirPort: 2, v3ident: 'A'.repeat(40), fingerprint: 'B'.repeat(40),
};

function clientTorrc(dataDir: string, control: number, socks: number): string[] {
  return torrcLines({ role: 'client', nickname: 'errclient', dataDir, controlPort: control, socksPort: socks, ownerPid: process.pid, authorities: [phantomAuthority] });
}

// Dead or a zombie (an orphaned tor reparented to a PID 1 that does not reap): either way, gone.
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('testnet harness errors', () => {
  test('a missing tor binary is named, and nothing is left running', async () => {
    const err = await startTestnet({ torBinary: '/nonexistent/tor' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyGenerationError);
    expect((err as Error).message).toMatch(/tor is not installed/);
    expect(tracked()).toEqual({ pids: [], dirs: [] });
  });

  test('a missing tor-gencert is named', async () => {
    const err = await startTestnet({ gencertBinary: '/nonexistent/tor-gencert' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyGenerationError);
    expect((err as Error).message).toMatch(/tor-gencert is not installed/);
    expect(tracked()).toEqual({ pids: [], dirs: [] });
  });

  test('launching a node with a missing binary gives TorStartError', async () => {
    const dir = await tempDir();
    const [control, socks] = await findFreePorts(2);
    const err = await launchTorNode({
      role: 'client', nickname: 'errclient', dataDir: join(dir, 'n'), ports: { control: control!, socks: socks! },
      torrc: clientTorrc(join(dir, 'n'), control!, socks!), torBinary: '/nonexistent/tor',
    }).catch((e: unknown) => e);
    releasePorts([control!, socks!]);
    expect(err).toBeInstanceOf(TorStartError);
    expect((err as Error).message).toMatch(/\/nonexistent\/tor is not installed/);
  });

  test('a taken port gives TorStartError with tor\'s own bind error', async () => {
    const dir = await tempDir();
    const [control, socks] = await findFreePorts(2);
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(socks, '127.0.0.1', r));
    try {
      const err = await launchTorNode({
        role: 'client', nickname: 'errclient', dataDir: join(dir, 'n'), ports: { control: control!, socks: socks! },
        torrc: clientTorrc(join(dir, 'n'), control!, socks!),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TorStartError);
      expect((err as Error).message).toMatch(new RegExp(`errclient did not start: exited with code 1[\\s\\S]*Could not bind to 127\\.0\\.0\\.1:${socks}`));
    } finally {
      squatter.close();
      releasePorts([control!, socks!]);
    }
  });

  test('an invalid torrc gives TorStartError quoting tor', async () => {
    const dir = await tempDir();
    const [control, socks] = await findFreePorts(2);
    const err = await launchTorNode({
      role: 'client', nickname: 'errclient', dataDir: join(dir, 'n'), ports: { control: control!, socks: socks! },
      torrc: [...clientTorrc(join(dir, 'n'), control!, socks!), 'NoSuchTorOption 1'],
    }).catch((e: unknown) => e);
    releasePorts([control!, socks!]);
    expect(err).toBeInstanceOf(TorStartError);
    expect((err as Error).message).toMatch(/Unknown option 'NoSuchTorOption'/);
  });

  test.each([
    [{ authorities: 0 }, /authorities must be an integer from 1 to 9, got 0/],
    [{ authorities: 2.5 }, /authorities must be an integer/],
    [{ relays: -1 }, /relays must be an integer from 0 to 30, got -1/],
    [{ relays: Number.NaN }, /relays must be an integer/],
  ])('bad counts %o are refused before anything starts', async (opts, message) => {
    await expect(startTestnet(opts)).rejects.toThrow(TestnetConfigError);
    await expect(startTestnet(opts)).rejects.toThrow(message);
  });

  test('a non-empty dir is refused: DataDirectories must be fresh', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'leftover'), 'x');
    await expect(startTestnet({ dir })).rejects.toThrow(/is not empty/);
  });

  test('an onion service on a bad port is refused', async () => {
    const net = new Testnet(await tempDir(), false, [], [], [], [], {});
    await expect(net.startOnionService(0)).rejects.toThrow(/port 0 is not in 1-65535/);
    await expect(net.startOnionService(8080, 70000)).rejects.toThrow(TestnetConfigError);
  });
});

describe('a harness that dies leaves no tor behind', () => {
  // A separate node process plays the test runner: it starts a tor and a tracked temp dir, reports
  // them, and is then killed from outside.
  async function startHarness(): Promise<{ child: ReturnType<typeof spawn>; pid: number; dir: string }> {
    const work = await tempDir();
    const entry = join(work, 'harness.ts');
    const root = resolve(import.meta.dirname, '../..');
    await writeFile(entry, `
      import { mkdtemp } from 'node:fs/promises';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      import { trackTempDir } from ${JSON.stringify(join(root, 'scripts/testnet/exit-hook.ts'))};
      import { findFreePorts } from ${JSON.stringify(join(root, 'scripts/testnet/ports.ts'))};
      import { launchTorNode } from ${JSON.stringify(join(root, 'scripts/testnet/tor-node.ts'))};
      import { torrcLines } from ${JSON.stringify(join(root, 'scripts/testnet/torrc.ts'))};
      const dir = await mkdtemp(join(tmpdir(), 'torlk-testnet-hook-'));
      trackTempDir(dir);
      const [control, socks] = await findFreePorts(2);
      const authorities = [${JSON.stringify(phantomAuthority)}];
      const dataDir = join(dir, 'n');
      const torrc = torrcLines({ role: 'client', nickname: 'orphan', dataDir, controlPort: control, socksPort: socks, ownerPid: process.pid, authorities });
      const node = await launchTorNode({ role: 'client', nickname: 'orphan', dataDir, ports: { control, socks }, torrc });
      process.stdout.write(JSON.stringify({ pid: node.pid, dir }) + '\\n');
      setInterval(() => {}, 1000);
    `);
    const bundle = join(work, 'harness.mjs');
    await build({ entryPoints: [entry], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
    const child = spawn(process.execPath, [bundle], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((res, rej) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) res(out.split('\n')[0]!);
      });
      child.once('exit', (code) => rej(new Error(`harness exited early with ${code}`)));
    });
    const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
    scratch.push(dir);
    return { child, pid, dir };
  }

  test('SIGTERM to the harness: the exit hook kills tor at once and removes the temp dir', async () => {
    const { child, pid, dir } = await startHarness();
    expect(alive(pid)).toBe(true);
    expect(existsSync(dir)).toBe(true);
    const exited = new Promise((r) => child.once('exit', (code, signal) => r(signal)));
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(await eventually(() => !alive(pid), 2000)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });

  test('SIGKILL to the harness: tor exits by itself because it is owned (TAKEOWNERSHIP)', async () => {
    const { child, pid } = await startHarness();
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    const gone = await eventually(() => !alive(pid), 10_000);
    if (!gone) process.kill(pid, 'SIGKILL');
    expect(gone).toBe(true);
  });
});
