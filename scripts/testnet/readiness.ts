// Waiting for the private network to be usable, driven by tor's own events rather than sleeps:
// a client's STATUS_CLIENT PROGRESS=100, a service's HS_DESC UPLOADED, then SOCKS connects retried
// until one succeeds (a descriptor can be uploaded before the client's HSDir lookup finds it).
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { socksConnect } from '../../firmware/tor/socks5-client.js';
import { SocksError } from '../../firmware/tor/socks-error.js';
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
  /**
   * Upper bound on one attempt (default 10 s): a stalled rendezvous otherwise holds the stream for
   * tor's 120 s, while a good cold connect here takes under a second even on a loaded machine.
   */
  readonly attemptTimeoutMs?: number;
}

/** The tor to connect through: a harness TorNode or the firmware's own supervised tor. */
export interface SocksVia {
  readonly name: string;
  readonly socksPort: number | undefined;
  /** True once that tor has exited for good: stop retrying. */
  isDead?(): boolean;
  /** Its recent log lines, for the error. */
  tail?(): string;
}

/** A harness node as a SocksVia. */
export function viaNode(node: TorNode): SocksVia {
  return { name: node.name, socksPort: node.ports.socks, isDead: () => node.exited, tail: () => node.tail() };
}

/**
 * Retries SOCKS5 connects (the firmware's own client) through `via` until `host` answers; resolves
 * with the open stream, which the caller owns, and the number of attempts it took. Stops early on a
 * failure tor calls permanent (bad address, client auth missing or wrong).
 */
export async function waitReachable(via: SocksVia | TorNode, host: string, opts: ReachOptions = {}): Promise<{ socket: Socket; attempts: number }> {
  const v = 'ports' in via ? viaNode(via) : via;
  const port = opts.port ?? 80;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  let attempts = 0;
  let last = 'no attempt made';
  while (Date.now() < deadline && !v.isDead?.()) {
    const socksPort = v.socksPort;
    if (socksPort === undefined) throw new TypeError(`${v.name} has no SocksPort`);
    attempts++;
    try {
      const timeoutMs = Math.max(1000, Math.min(opts.attemptTimeoutMs ?? 10_000, deadline - Date.now()));
      const socket = await socksConnect({ socksPort, host, port, timeoutMs });
      return { socket, attempts };
    } catch (e) {
      if (!(e instanceof SocksError)) throw e;
      last = e.message;
      if (!e.retryable) break;
    }
    await delay(opts.retryDelayMs ?? 500);
  }
  const reason = v.isDead?.() ? `tor exited; last attempt: ${last}` : `${attempts} attempts failed; last: ${last}`;
  throw new TestnetNotReadyError(v.name, `reach ${host}:${port}`, reason, v.tail?.() ?? '');
}
