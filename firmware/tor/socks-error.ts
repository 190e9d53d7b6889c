// Typed SOCKS5 failures that keep the reply code, including tor's ExtendedErrors onion codes
// 0xF0–0xF7 (tor man page, SocksPort ExtendedErrors), and say whether trying again can help.
// The `socks` npm package turns those codes into "rejected connection - undefined", hence this.

export type SocksFailure =
  /** Nothing listens on the SOCKS port: tor is not running or not ready yet. */
  | 'proxy-unreachable'
  /** The proxy answered with a reply code other than success. */
  | 'reply'
  /** Our own connect timeout expired (e.g. a stalled rendezvous). */
  | 'timeout'
  /** The proxy closed the connection before the handshake finished. */
  | 'closed'
  /** The proxy sent bytes that are not SOCKS5. */
  | 'protocol'
  /** The caller aborted. */
  | 'aborted';

interface CodeInfo {
  meaning: string;
  retryable: boolean;
}

export const socksReplyCodes: Readonly<Record<number, CodeInfo>> = {
  0x01: { meaning: 'general failure', retryable: true },
  0x02: { meaning: 'connection not allowed by ruleset', retryable: false },
  0x03: { meaning: 'network unreachable', retryable: true },
  // Early after start-up, or before the descriptor is published, tor answers 0x04.
  0x04: { meaning: 'host unreachable', retryable: true },
  // The onion is up but nothing listens behind its port (receiver restarting).
  0x05: { meaning: 'connection refused', retryable: true },
  0x06: { meaning: 'TTL expired (tor timed out building the connection)', retryable: true },
  0x07: { meaning: 'command not supported', retryable: false },
  0x08: { meaning: 'address type not supported', retryable: false },
  0xf0: { meaning: 'onion service descriptor not found', retryable: true },
  0xf1: { meaning: 'onion service descriptor is invalid', retryable: false },
  0xf2: { meaning: 'onion service introduction failed', retryable: true },
  0xf3: { meaning: 'onion service rendezvous failed', retryable: true },
  0xf4: { meaning: 'onion service requires client authorization, and we have no key for it', retryable: false },
  0xf5: { meaning: 'onion service client authorization is wrong', retryable: false },
  0xf6: { meaning: 'invalid onion address', retryable: false },
  0xf7: { meaning: 'onion service introduction timed out', retryable: true },
};

export class SocksError extends Error {
  override name = 'SocksError';
  /** Whether the same request may succeed later (tor not ready, descriptor not yet published, timeouts). */
  readonly retryable: boolean;

  constructor(
    readonly failure: SocksFailure,
    /** Destination we asked for, "host:port". */
    readonly destination: string,
    /** The SOCKS5 reply code when failure is "reply". */
    readonly code?: number,
    detail?: string,
  ) {
    const info = code === undefined ? undefined : socksReplyCodes[code];
    const hex = code === undefined ? '' : ` (SOCKS 0x${code.toString(16).padStart(2, '0').toUpperCase()})`;
    const what =
      failure === 'reply'
        ? `${info?.meaning ?? 'unknown reply code'}${hex}`
        : failure === 'proxy-unreachable'
          ? `tor's SOCKS port is not accepting connections${detail ? ` (${detail})` : ''}`
          : (detail ?? failure);
    super(`cannot reach ${destination} through tor: ${what}`);
    this.retryable =
      failure === 'reply'
        ? (info?.retryable ?? false)
        : failure === 'proxy-unreachable' || failure === 'timeout' || failure === 'closed';
  }
}
