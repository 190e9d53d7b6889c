// When tor keeps dying, wait longer between restarts (exponential, capped) so a broken setup does
// not spin the Pi's CPU; a run that stayed up long enough resets the count. Pure: the supervisor
// feeds it run lengths and gets delays back, so the schedule is tested without timers.

export interface BackoffPolicy {
  /** Delay before the first restart. */
  initialMs: number;
  /** Multiplier per consecutive failure. */
  factor: number;
  /** Upper bound on the delay. */
  maxMs: number;
  /** A run at least this long counts as healthy and resets the schedule. */
  healthyAfterMs: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 1000, factor: 2, maxMs: 60_000, healthyAfterMs: 60_000 };

export interface BackoffState {
  /** Consecutive short runs so far. */
  failures: number;
}

/** Given how long the last run lasted, returns the delay before the next start and the new state. */
export function nextRestart(
  policy: BackoffPolicy,
  state: BackoffState,
  lastRunMs: number,
): { delayMs: number; state: BackoffState } {
  if (!(policy.initialMs >= 0 && policy.factor >= 1 && policy.maxMs >= policy.initialMs)) {
    throw new TypeError('backoff policy needs initialMs >= 0, factor >= 1, maxMs >= initialMs');
  }
  const failures = lastRunMs >= policy.healthyAfterMs ? 0 : state.failures;
  const delayMs = Math.min(policy.maxMs, policy.initialMs * policy.factor ** failures);
  return { delayMs, state: { failures: failures + 1 } };
}
