// The production Connector: a SOCKS5 stream through the radio's own tor (firmware/tor). The SOCKS
// port is read at each connect, so after the supervisor restarts tor on a new port the outbox's
// next retry simply uses it. SocksError carries `retryable`, which the sender passes on.
import { SocksError } from '../tor/socks-error.js';
import { socksConnect } from '../tor/socks5-client.js';
import type { Connector } from './sender.js';

export interface TorConnectorOptions {
  /** Current SOCKS port of the radio's tor. */
  readonly socksPort: () => number;
  /** Whole handshake, rendezvous included. Longer than a cold onion connect (~0.5 s), shorter than tor's own 120 s. */
  readonly timeoutMs?: number;
  /**
   * Called when a connect fails; resolves true when it changed tor's state so that one more
   * connect now may succeed (e.g. it refetched a restarted peer's descriptor). Without it, or on
   * false, the failure goes to the caller, whose backoff decides when to try again.
   */
  readonly recover?: (host: string, err: unknown) => Promise<boolean>;
  /**
   * Watches a connect to `host` for a rendezvous that tor will never complete; onStall ends the
   * connect early with a retryable SocksError 'timeout' (and so goes to recover()).
   */
  readonly watchStall?: (host: string, onStall: (detail: string) => void) => (() => void) | undefined;
  /** Called when the connect after a successful recover() went through: the peer is back. */
  readonly recovered?: (host: string) => void;
}

export function torConnector(options: TorConnectorOptions): Connector {
  const connect = async (host: string, port: number) => {
    const abort = new AbortController();
    let stalled: string | undefined;
    const unwatch = options.watchStall?.(host, (detail) => {
      stalled = detail;
      abort.abort();
    });
    try {
      return await socksConnect({ socksPort: options.socksPort(), host, port, timeoutMs: options.timeoutMs ?? 30_000, signal: abort.signal });
    } catch (err) {
      // Our own abort reads 'aborted' (not retryable); a stall is a timeout that came early.
      if (stalled !== undefined) throw new SocksError('timeout', `${host}:${port}`, undefined, stalled);
      throw err;
    } finally {
      unwatch?.();
    }
  };
  return async (host, port) => {
    try {
      return await connect(host, port);
    } catch (err) {
      if (!options.recover || !(await options.recover(host, err))) throw err;
      // Once only: a second failure is the caller's to retry later, so a peer that is really
      // off never turns one delivery attempt into a loop.
      const socket = await connect(host, port);
      options.recovered?.(host);
      return socket;
    }
  };
}
