// Per-suite access to the private Tor network (scripts/testnet). A suite calls useTestnet() once at
// top level: ONE network starts in beforeAll and stops in afterAll, whatever the tests did. Helpers
// start extra client and onion-service tors joined to it and wait for them on tor's events.
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startTor, type TorInstance, type TorSupervisorOptions } from '../../firmware/tor/index.js';
import { startTestnet, type OnionServiceNode, type Testnet, type TestnetOptions } from '../../scripts/testnet/network.js';
import {
  TestnetNotReadyError, waitBootstrapped, waitDescriptorUploaded, waitReachable as waitReachableVia, type ReachOptions, type SocksVia,
} from '../../scripts/testnet/readiness.js';
import type { TorNode } from '../../scripts/testnet/tor-node.js';
import type { Socket } from 'node:net';

export { closeServer, httpGetOver, startCheckServer, checkBody } from '../../scripts/testnet/onion-check.js';
export { TestnetNotReadyError };
export type { OnionServiceNode, SocksVia, Testnet, TorNode };

export interface TestnetHandle {
  /** The running network; throws if read before beforeAll ran or after it failed. */
  readonly net: Testnet;
  /** performance.now() when startTestnet was called, for start-to-ready figures. */
  readonly startedAt: number;
  /**
   * Starts the firmware's own supervised tor (firmware/tor startTor) joined to the network through
   * `torrcLinesForClient()`, in a fresh DataDirectory inside the network's dir. It is stopped in
   * afterAll before the network. Wait on it with waitConnected().
   */
  startFirmwareTor(options?: Partial<TorSupervisorOptions>): Promise<TorInstance>;
}

/** Starts one network for the calling suite (beforeAll) and stops it (afterAll). */
export function useTestnet(opts: TestnetOptions = {}): TestnetHandle {
  let net: Testnet | undefined;
  let startedAt = 0;
  let firmwareCount = 0;
  const firmwareTors: TorInstance[] = [];
  beforeAll(async () => {
    startedAt = performance.now();
    net = await startTestnet(opts);
  });
  afterAll(async () => {
    try {
      await Promise.all(firmwareTors.map((t) => t.stop()));
    } finally {
      await net?.stop();
    }
  });
  const handle: TestnetHandle = {
    get net(): Testnet {
      if (!net) throw new Error('useTestnet(): the network is not running (did beforeAll fail?)');
      return net;
    },
    get startedAt(): number {
      return startedAt;
    },
    async startFirmwareTor(options = {}) {
      const n = handle.net;
      const tor = await startTor({
        dataDir: join(n.dir, `firmware${firmwareCount++}`),
        ...options,
        extraConfig: [...n.torrcLinesForClient(), ...(options.extraConfig ?? [])],
      });
      firmwareTors.push(tor);
      return tor;
    },
  };
  return handle;
}

/** The firmware tor as something waitReachable() can connect through. */
export function viaFirmwareTor(tor: TorInstance, name = `firmware tor in ${tor.dataDir}`): SocksVia {
  return { name, get socksPort() { return tor.socksPort; } };
}

/** Resolves once the firmware tor reports "connected" (bootstrap 100 %); a typed error names it otherwise. */
export async function waitConnected(tor: TorInstance, timeoutMs = 120_000): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    await tor.status.waitFor((s) => s.state === 'connected', abort.signal);
  } catch {
    const s = tor.status.current;
    const where = s.state === 'bootstrapping' ? `bootstrap at ${s.progress}% (${s.summary})` : s.state === 'error' ? s.error.message : s.state;
    throw new TestnetNotReadyError(`firmware tor in ${tor.dataDir}`, 'reach bootstrap PROGRESS=100', `timed out after ${timeoutMs / 1000} s; ${where}`, '');
  } finally {
    clearTimeout(timer);
  }
}

/** A client tor joined to `net`, returned once it has bootstrapped to 100 %. */
export async function startClientTor(net: Testnet, timeoutMs = 120_000): Promise<TorNode> {
  const client = await net.startClient();
  await waitBootstrapped(client, timeoutMs);
  return client;
}

/**
 * An onion service tor forwarding port 80 of its onion to 127.0.0.1:targetPort, returned once its
 * descriptor has been uploaded to an HSDir.
 */
export async function startOnionServiceTor(net: Testnet, targetPort: number, timeoutMs = 120_000): Promise<OnionServiceNode> {
  const service = await net.startOnionService(targetPort);
  await waitDescriptorUploaded(service.node, service.onion, timeoutMs);
  return service;
}

/** Retries SOCKS connects through `client` (a harness node or viaFirmwareTor(...)) until `onion` answers; resolves with the open stream. */
export async function waitReachable(client: TorNode | SocksVia, onion: string, opts: ReachOptions = {}): Promise<Socket> {
  return (await waitReachableVia(client, onion, opts)).socket;
}
