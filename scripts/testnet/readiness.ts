// Waiting for the private network to be usable, driven by tor's own events rather than sleeps:
// a client's STATUS_CLIENT PROGRESS=100, a service's HS_DESC UPLOADED, then SOCKS connects retried
// until one succeeds (a descriptor can be uploaded before the client's HSDir lookup finds it).
import type { Socket } from 'node:net';
import { HarnessSocksError, socks5Connect } from './socks.js';
import type { TorNode } from './tor-node.js';

/** A node did not reach a state in time (or exited while waiting). Names it and shows its log tail. */
export class TestnetNotReadyError extends Error {
  override readonly name = 'TestnetNotReadyError';
  constructor(
    readonly node: string,
    readonly waitingFor: string,
    readonly reason: string,
    readonly logTail: string,
  ) {
    super(`testnet node ${node} did not ${waitingFor}: ${reason}${logTail ? `\nlast lines of its notice log:\n${logTail}` : ''}`);
  }
}

/** Resolves once `check()` holds, re-checking whenever the node reports an event or exits. */
export function waitUntil(node: TorNode, waitingFor: string, check: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const evaluate = () => {
      if (check()) return done(), resolve();
      if (node.exited) return done(), reject(new TestnetNotReadyError(node.name, waitingFor, `tor exited (code ${node.exitCode})`, node.tail()));
    };
    const timer = setTimeout(() => {
      done();
      reject(new TestnetNotReadyError(node.name, waitingFor, `timed out after ${(timeoutMs / 1000).toFixed(0)} s (bootstrap at ${node.progress}%)`, node.tail()));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      node.off('change', evaluate);
    };
    node.on('change', evaluate);
    evaluate();
  });
}

export function waitBootstrapped(node: TorNode, timeoutMs = 120_000): Promise<void> {
  return waitUntil(node, 'reach bootstrap PROGRESS=100', () => node.progress >= 100, timeoutMs);
}

/** Waits for the first HS_DESC UPLOADED of `serviceId` (56 base32 chars, ".onion" optional). */
export function waitDescriptorUploaded(node: TorNode, serviceId: string, timeoutMs = 120_000): Promise<void> {
  const id = serviceId.replace(/\.onion$/, '');
  return waitUntil(node, `upload the descriptor of ${id}.onion`, () => node.uploaded.has(id), timeoutMs);
}

export interface ReachOptions {
  readonly port?: number;
  readonly timeoutMs?: number;
  /** Pause between failed attempts; tor answers "not found" in under a second before the descriptor is fetchable. */
  readonly retryDelayMs?: number;
  /** Upper bound on one attempt: a stalled rendezvous otherwise holds the stream for tor's 120 s. */
  readonly attemptTimeoutMs?: number;
}

/**
 * Retries SOCKS5 connects through `client` until `host` answers; resolves with the open stream
 * (the caller owns it) and the number of attempts it took.
 */
export async function waitReachable(client: TorNode, host: string, opts: ReachOptions = {}): Promise<{ socket: Socket; attempts: number }> {
  const socksPort = client.ports.socks;
  if (socksPort === undefined) throw new TypeError(`${client.name} has no SocksPort`);
  const port = opts.port ?? 80;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  let attempts = 0;
  let last = 'no attempt made';
  while (Date.now() < deadline) {
    if (client.exited) break;
    attempts++;
    try {
      const remaining = Math.max(1000, Math.min(opts.attemptTimeoutMs ?? 20_000, deadline - Date.now()));
      const socket = await socks5Connect(socksPort, host, port, remaining);
      return { socket, attempts };
    } catch (e) {
      if (!(e instanceof HarnessSocksError)) throw e;
      last = e.message;
      // 0xF6: tor rejected the address itself; waiting cannot make it valid.
      if (e.reply === 0xf6) break;
    }
    await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 500));
  }
  const reason = client.exited ? `tor exited (code ${client.exitCode}); last attempt: ${last}` : `${attempts} attempts failed; last: ${last}`;
  throw new TestnetNotReadyError(client.name, `reach ${host}:${port}`, reason, client.tail());
}
