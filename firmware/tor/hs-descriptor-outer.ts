// The outer (plaintext) layer of a v3 onion service descriptor (rend-spec-v3 §2.4 "Hidden service
// descriptors: outer wrapper"), as far as the radio reads it: the revision-counter. A service raises
// it with every descriptor it publishes, so a different counter means the service was up since.
//   "hs-descriptor" SP version NL          at start, exactly once
//   "descriptor-lifetime" SP minutes NL    exactly once
//   "descriptor-signing-key-cert" NL cert  exactly once
//   "revision-counter" SP Integer NL       exactly once (an 8-byte unsigned integer)
//   "superencrypted" NL encrypted-string   exactly once
//   "signature" SP signature NL            exactly once, at end
import { TorError } from './errors.js';

/** A descriptor text that is not a v3 outer layer with one valid revision-counter. */
export class OnionDescriptorError extends TorError {
  override name = 'OnionDescriptorError';
  constructor(readonly serviceId: string | undefined, reason: string) {
    super(`onion descriptor${serviceId ? ` of ${serviceId}` : ''}: ${reason}`);
  }
}

const MAX_U64 = (1n << 64n) - 1n;

/** The outer revision-counter as a canonical decimal string (64-bit values do not fit a number). */
export function parseOuterRevisionCounter(text: string, serviceId?: string): string {
  const lines = text.split(/\r?\n/);
  if (!/^hs-descriptor 3$/.test(lines[0] ?? '')) {
    throw new OnionDescriptorError(serviceId, `does not start with "hs-descriptor 3" (${JSON.stringify((lines[0] ?? '').slice(0, 40))})`);
  }
  // Keywords sit at line starts outside the BEGIN/END blocks, whose base64 lines cannot hold a space.
  const counters = lines.filter((l) => l.startsWith('revision-counter ') || l === 'revision-counter');
  if (counters.length !== 1) throw new OnionDescriptorError(serviceId, `has ${counters.length} revision-counter lines, not exactly one`);
  const value = /^revision-counter ([0-9]{1,20})$/.exec(counters[0] as string)?.[1];
  if (value === undefined || BigInt(value) > MAX_U64) {
    throw new OnionDescriptorError(serviceId, `malformed ${JSON.stringify((counters[0] as string).slice(0, 60))}`);
  }
  return BigInt(value).toString();
}
