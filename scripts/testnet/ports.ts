// Free-port probing on 127.0.0.1 for the private Tor network. Each tor node needs up to four ports
// (OR, Dir, Control, Socks), so a handful are picked at once. Ports come from a range below Linux's
// ephemeral range (32768+) so an outgoing connection's source port cannot take one between the probe
// and tor's bind; the start point is random so suites running side by side rarely probe the same ones.
import { createServer } from 'node:net';

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

export const defaultPortRange: PortRange = { low: 15000, high: 32000 };

/** No free port could be found in the range after probing all of it. */
export class NoFreePortError extends Error {
  override readonly name = 'NoFreePortError';
  constructor(
    readonly wanted: number,
    readonly found: number,
    readonly range: PortRange,
  ) {
    super(`only ${found} of ${wanted} free ports on 127.0.0.1 in ${range.low}-${range.high}`);
  }
}

/** The range given is not usable (reversed, outside 1-65535, not integers). */
export class BadPortRangeError extends Error {
  override readonly name = 'BadPortRangeError';
  constructor(readonly range: PortRange) {
    super(`bad port range ${range.low}-${range.high}: need integers with 1 <= low <= high <= 65535`);
  }
}

// Ports handed out by this process and not yet released: a second network started in the same
// process before the first one's tors have bound must not get them again.
const reserved = new Set<number>();

/** Whether a TCP listener can bind 127.0.0.1:port right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Finds `count` distinct ports that are free on 127.0.0.1 and not reserved by this process, and
 * reserves them until `releasePorts` is called.
 */
export async function findFreePorts(count: number, range: PortRange = defaultPortRange): Promise<number[]> {
  const { low, high } = range;
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high) {
    throw new BadPortRangeError(range);
  }
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`port count must be a non-negative integer, got ${count}`);
  const span = high - low + 1;
  const start = Math.floor(Math.random() * span);
  const found: number[] = [];
  for (let i = 0; i < span && found.length < count; i++) {
    const port = low + ((start + i) % span);
    if (reserved.has(port)) continue;
    if (await isPortFree(port)) {
      reserved.add(port);
      found.push(port);
    }
  }
  if (found.length < count) {
    releasePorts(found);
    throw new NoFreePortError(count, found.length, range);
  }
  return found;
}

/** Returns ports to the pool once the processes that bound them have exited. */
export function releasePorts(ports: Iterable<number>): void {
  for (const p of ports) reserved.delete(p);
}
