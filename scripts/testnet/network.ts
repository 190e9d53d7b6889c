// The private Tor network on loopback: directory authorities and non-exit relays from Debian's tor,
// plus client and onion-service tors joined to it on demand. One network serves a whole test suite
// (or the demo); stop() ends every process by PID and removes the temp dir.
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { createLog } from '../../firmware/log.js';
import { trackTempDir, untrackTempDir } from './exit-hook.js';
import { createAuthorityIdentity, routerFingerprint } from './gencert.js';
import { defaultPortRange, findFreePorts, releasePorts, type PortRange } from './ports.js';
import { launchTorNode, TorStartError, type TorNode } from './tor-node.js';
import { launchDelayMs } from './voting-clock.js';
import { clientJoinLines, torrcLines, type AuthorityDescriptor, type NodeConfig, type NodeRole } from './torrc.js';

const log = createLog('testnet');

export interface TestnetOptions {
  /** Where DataDirectories go. Default: a fresh temp dir, removed by stop(). A given dir is kept. */
  readonly dir?: string;
  readonly authorities?: number;
  readonly relays?: number;
  readonly torBinary?: string;
  readonly gencertBinary?: string;
  readonly portRange?: PortRange;
}

/** The options cannot make a working network. */
export class TestnetConfigError extends Error {
  override readonly name = 'TestnetConfigError';
}

export interface OnionServiceNode {
  readonly node: TorNode;
  /** "<56 base32>.onion" */
  readonly onion: string;
  readonly virtualPort: number;
  readonly targetPort: number;
}

export class Testnet {
  readonly extras: TorNode[] = [];
  private nextIndex: number;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
    readonly authorities: readonly TorNode[],
    readonly relays: readonly TorNode[],
    readonly authorityDescriptors: readonly AuthorityDescriptor[],
    private readonly ports: number[],
    private readonly opts: TestnetOptions,
  ) {
    this.nextIndex = authorities.length + relays.length;
  }

  /** Lines a tor started elsewhere (the firmware's supervisor) adds to its torrc to join this network. */
  torrcLinesForClient(): string[] {
    return clientJoinLines(this.authorityDescriptors);
  }

  /** Every tor of the network, harness-started clients and services included. */
  nodes(): TorNode[] {
    return [...this.authorities, ...this.relays, ...this.extras];
  }

  pids(): number[] {
    return this.nodes().map((n) => n.pid);
  }

  /** Starts a client tor with a SocksPort on 127.0.0.1. Wait on it with waitBootstrapped(). */
  async startClient(): Promise<TorNode> {
    return retryPortRace(async () => {
      const [control, socks] = await this.reservePorts(2);
      return this.launchExtra('client', 'c', { control: control!, socks: socks! });
    });
  }

  /** Starts a tor publishing an onion service that forwards `virtualPort` to 127.0.0.1:targetPort. */
  async startOnionService(targetPort: number, virtualPort = 80): Promise<OnionServiceNode> {
    for (const p of [targetPort, virtualPort]) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new TestnetConfigError(`onion service port ${p} is not in 1-65535`);
    }
    const node = await retryPortRace(async () => {
      const [control] = await this.reservePorts(1);
      return this.launchExtra('onion-service', 'h', { control: control! }, { virtualPort, targetPort });
    });
    // Tor writes hs/hostname while reading its config, before the control port opens.
    const onion = (await readFile(join(node.dataDir, 'hs', 'hostname'), 'utf8')).trim();
    return { node, onion, virtualPort, targetPort };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.nodes().map((n) => n.stop()));
    releasePorts(this.ports);
    if (this.ownsDir) {
      await rm(this.dir, { recursive: true, force: true });
      untrackTempDir(this.dir);
    }
    log.info('testnet stopped', { dir: this.dir });
  }

  private async reservePorts(count: number): Promise<number[]> {
    if (this.stopped) throw new TestnetConfigError('the testnet is stopped');
    const ports = await findFreePorts(count, this.opts.portRange ?? defaultPortRange);
    this.ports.push(...ports);
    return ports;
  }

  private async launchExtra(role: NodeRole, suffix: string, ports: TorNode['ports'], onion?: NodeConfig['onion']): Promise<TorNode> {
    const nickname = `test${String(this.nextIndex++).padStart(3, '0')}${suffix}`;
    const dataDir = join(this.dir, nickname);
    const config: NodeConfig = {
      role, nickname, dataDir, controlPort: ports.control, socksPort: ports.socks, ownerPid: process.pid,
      authorities: this.authorityDescriptors, ...(onion ? { onion } : {}),
    };
    const node = await launchTorNode({ role, nickname, dataDir, ports, torrc: torrcLines(config), torBinary: this.opts.torBinary });
    this.extras.push(node);
    return node;
  }
}

/**
 * Another process (a suite running beside this one) can bind a probed port before tor does; tor
 * then exits with "Could not bind". Such a start is retried with fresh ports, twice at most.
 */
export async function retryPortRace<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (e) {
      const raced = e instanceof TorStartError && /Could not bind|Address already in use/.test(e.message);
      if (!raced || attempt >= 3) throw e;
      log.warn('a probed port was taken before tor bound it; retrying with fresh ports', { attempt, error: e.message });
    }
  }
}

function checkCount(value: number, what: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TestnetConfigError(`${what} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

async function prepareDir(opts: TestnetOptions): Promise<{ dir: string; owns: boolean }> {
  if (opts.dir === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'torlk-testnet-'));
    trackTempDir(dir);
    return { dir, owns: true };
  }
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  if ((await readdir(opts.dir)).length > 0) {
    throw new TestnetConfigError(`testnet dir ${opts.dir} is not empty: each run needs fresh DataDirectories`);
  }
  return { dir: opts.dir, owns: false };
}

/**
 * Starts the authorities and relays and returns once every one has opened its control port.
 * The first consensus follows within one or two voting rounds (20 s each); clients started right
 * away bootstrap as soon as it exists.
 */
export async function startTestnet(opts: TestnetOptions = {}): Promise<Testnet> {
  const authorityCount = opts.authorities ?? 3;
  const relayCount = opts.relays ?? 3;
  checkCount(authorityCount, 'authorities', 1, 9);
  checkCount(relayCount, 'relays', 0, 30);
  return retryPortRace(() => startServers(opts, authorityCount, relayCount));
}

async function startServers(opts: TestnetOptions, authorityCount: number, relayCount: number): Promise<Testnet> {
  const { dir, owns } = await prepareDir(opts);
  const servers = authorityCount + relayCount;
  let ports: number[] = [];
  const launched: TorNode[] = [];
  try {
    ports = await findFreePorts(3 * servers, opts.portRange ?? defaultPortRange);
    const plan = Array.from({ length: servers }, (_, i) => ({
      role: (i < authorityCount ? 'authority' : 'relay') as NodeRole,
      nickname: `test${String(i).padStart(3, '0')}${i < authorityCount ? 'a' : 'r'}`,
      dataDir: join(dir, `test${String(i).padStart(3, '0')}${i < authorityCount ? 'a' : 'r'}`),
      ports: { or: ports[3 * i]!, dir: ports[3 * i + 1]!, control: ports[3 * i + 2]! },
    }));
    const descriptors = await Promise.all(
      plan.slice(0, authorityCount).map(async (p): Promise<AuthorityDescriptor> => {
        await mkdir(p.dataDir, { recursive: true, mode: 0o700 });
        const v3ident = await createAuthorityIdentity(p.dataDir, `127.0.0.1:${p.ports.dir}`, opts.gencertBinary);
        const fingerprint = await routerFingerprint(p.dataDir, opts.torBinary);
        return { nickname: p.nickname, orPort: p.ports.or, dirPort: p.ports.dir, v3ident, fingerprint };
      }),
    );
    // Not a readiness sleep: the voting clock is the wall clock, and launching just before a vote
    // costs a whole extra round (voting-clock.ts). At most 8.5 s, usually less.
    const wait = launchDelayMs(Date.now());
    if (wait > 0) {
      log.debug('waiting out a voting round before launch', { ms: wait });
      await delay(wait);
    }
    const results = await Promise.allSettled(
      plan.map(async (p) => {
        const config: NodeConfig = {
          role: p.role, nickname: p.nickname, dataDir: p.dataDir, controlPort: p.ports.control,
          orPort: p.ports.or, dirPort: p.ports.dir, ownerPid: process.pid, authorities: descriptors,
        };
        const node = await launchTorNode({ ...p, torrc: torrcLines(config), torBinary: opts.torBinary });
        launched.push(node);
        return node;
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const nodes = results.map((r) => (r as PromiseFulfilledResult<TorNode>).value);
    log.info('testnet started', { dir, pids: nodes.map((n) => n.pid) });
    return new Testnet(dir, owns, nodes.slice(0, authorityCount), nodes.slice(authorityCount), descriptors, ports, opts);
  } catch (e) {
    await Promise.all(launched.map((n) => n.stop()));
    releasePorts(ports);
    if (owns) {
      await rm(dir, { recursive: true, force: true });
      untrackTempDir(dir);
    } else {
      // The given dir was empty when we started, so everything in it is ours; a retry needs it empty.
      for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
    }
    throw e;
  }
}
