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
}

export function torConnector(options: TorConnectorOptions): Connector {
  return (host, port) => socksConnect({ socksPort: options.socksPort(), host, port, timeoutMs: options.timeoutMs ?? 30_000 });
}
