// The production Connector: a SOCKS5 stream through the radio's own tor (firmware/tor). The SOCKS
// port is read at each connect, so after the supervisor restarts tor on a new port the outbox's
// next retry simply uses it. SocksError carries `retryable`, which the sender passes on.
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
  /** Called when the connect after a successful recover() went through: the peer is back. */
  readonly recovered?: (host: string) => void;
}

export function torConnector(options: TorConnectorOptions): Connector {
  const connect = (host: string, port: number) =>
    socksConnect({ socksPort: options.socksPort(), host, port, timeoutMs: options.timeoutMs ?? 30_000 });
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
