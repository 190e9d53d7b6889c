// Retry schedule for the outbox, as a pure function so the schedule is tested without timers.
// Exponential with "equal jitter": half the capped delay is fixed, half is random. The fixed half
// keeps a flapping peer from being hammered; the random half keeps several radios that lost the
// same peer from retrying in lockstep.

export interface BackoffPolicy {
  /** Delay before the second attempt (after the first failure). */
  readonly baseMs: number;
  /** Upper bound on any single delay. */
  readonly maxMs: number;
  /** Growth per failure. */
  readonly factor: number;
  /** Share of the delay that is random, 0..1. */
  readonly jitter: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 5_000, maxMs: 30 * 60_000, factor: 2, jitter: 0.5 };

/**
 * Milliseconds to wait after `failures` failed attempts (1 = the first failure).
 * `random` is a number in [0, 1), injected so the result is deterministic in tests.
 */
export function backoffDelay(failures: number, random: number, policy: BackoffPolicy = defaultBackoff): number {
  if (!Number.isInteger(failures) || failures < 1) throw new TypeError(`failures must be an integer >= 1, got ${failures}`);
  if (!(random >= 0 && random < 1)) throw new TypeError(`random must be in [0, 1), got ${random}`);
  // Cap the exponent before Math.pow so a queue that failed for a week cannot overflow to Infinity.
  const exponent = Math.min(failures - 1, 60);
  const capped = Math.min(policy.maxMs, policy.baseMs * Math.pow(policy.factor, exponent));
  const fixed = capped * (1 - policy.jitter);
  return Math.round(fixed + capped * policy.jitter * random);
}
