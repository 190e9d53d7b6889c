// Per-suite access to the private Tor network (scripts/testnet). A suite calls useTestnet() once at
// top level: ONE network starts in beforeAll and stops in afterAll, whatever the tests did. Helpers
// start extra client and onion-service tors joined to it and wait for them on tor's events.
import { afterAll, beforeAll } from 'vitest';
import { startTestnet, type OnionServiceNode, type Testnet, type TestnetOptions } from '../../scripts/testnet/network.js';
import { waitBootstrapped, waitDescriptorUploaded, waitReachable as waitReachableVia, type ReachOptions } from '../../scripts/testnet/readiness.js';
import type { TorNode } from '../../scripts/testnet/tor-node.js';
import type { Socket } from 'node:net';

export { closeServer, httpGetOver, startCheckServer, checkBody } from '../../scripts/testnet/onion-check.js';
export { TestnetNotReadyError } from '../../scripts/testnet/readiness.js';
export type { OnionServiceNode, Testnet, TorNode };

export interface TestnetHandle {
  /** The running network; throws if read before beforeAll ran or after it failed. */
  readonly net: Testnet;
  /** performance.now() when startTestnet was called, for start-to-ready figures. */
  readonly startedAt: number;
}

/** Starts one network for the calling suite (beforeAll) and stops it (afterAll). */
export function useTestnet(opts: TestnetOptions = {}): TestnetHandle {
  let net: Testnet | undefined;
  let startedAt = 0;
  beforeAll(async () => {
    startedAt = performance.now();
    net = await startTestnet(opts);
  });
  afterAll(async () => {
    await net?.stop();
  });
  return {
    get net(): Testnet {
      if (!net) throw new Error('useTestnet(): the network is not running (did beforeAll fail?)');
      return net;
    },
    get startedAt(): number {
      return startedAt;
    },
  };
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

/** Retries SOCKS connects through `client` until `onion` answers; resolves with the open stream. */
export async function waitReachable(client: TorNode, onion: string, opts: ReachOptions = {}): Promise<Socket> {
  return (await waitReachableVia(client, onion, opts)).socket;
}
