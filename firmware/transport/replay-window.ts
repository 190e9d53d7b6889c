// The receiver's replay window, as a pure function over what the inbox already holds.
// - the same clip id again is a *duplicate*: the sender lost our receipt and retried, so it gets the
//   original receipt back (and nothing plays twice);
// - a known (sender, sequence) under a new clip id is a *replay* (or a sender bug): refused;
// - created-at older than the window is *stale*: the inbox no longer remembers that far back, so we
//   cannot tell a replay from a first delivery; created-at far in the future is refused too, or a
//   forged timestamp could pin an entry past the window.
// The window must outlast the sender's outbox expiry (7 days by default), so store-and-forward works.
import type { InboundClip } from './clip-opener.js';

export interface ReplayPolicy {
  /** How far back created-at may be. */
  readonly maxAgeMs: number;
  /** How far ahead of our clock created-at may be (clock skew between radios). */
  readonly maxSkewMs: number;
}

export const defaultReplayPolicy: ReplayPolicy = { maxAgeMs: 8 * 24 * 3600_000, maxSkewMs: 10 * 60_000 };

export interface SeenClips<E> {
  byClipId(clipId: string): E | undefined;
  bySequence(senderKey: string, sequence: number): E | undefined;
}

export type ReplayVerdict<E> =
  | { readonly kind: 'fresh' }
  | { readonly kind: 'duplicate'; readonly entry: E }
  | { readonly kind: 'replay' | 'stale' | 'future'; readonly detail: string };

export function judgeReplay<E>(clip: InboundClip, now: number, seen: SeenClips<E>, policy: ReplayPolicy = defaultReplayPolicy): ReplayVerdict<E> {
  const entry = seen.byClipId(clip.clipId);
  if (entry !== undefined) return { kind: 'duplicate', entry };
  if (seen.bySequence(clip.senderKey, clip.sequence) !== undefined) {
    return { kind: 'replay', detail: `sequence ${clip.sequence} from ${clip.senderName} was already used by another clip` };
  }
  if (clip.createdAt < now - policy.maxAgeMs) {
    return { kind: 'stale', detail: `created ${Math.round((now - clip.createdAt) / 3600_000)} h ago, window is ${Math.round(policy.maxAgeMs / 3600_000)} h` };
  }
  if (clip.createdAt > now + policy.maxSkewMs) {
    return { kind: 'future', detail: `created ${Math.round((clip.createdAt - now) / 1000)} s ahead of our clock` };
  }
  return { kind: 'fresh' };
}
