// A Pi Zero has no real-time clock: until NTP syncs it may believe it is 1970 or the date the
// image was built. Tor with a wrong clock rejects every consensus and looks "stuck at 10%", so we
// refuse to start it while the clock is earlier than the firmware's build time, show the
// clock-wrong LED pattern, and wait for the time to be set. Clock and sleep are injected.

export interface ClockCheckOptions {
  /** The firmware's build time (firmware/build-info.ts buildTime). */
  buildTime: Date;
  now?: () => Date;
  /** Waits between checks; resolves early if the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** How often to look again while the clock is wrong. */
  recheckMs?: number;
  /** Called once each time the clock is found wrong (before waiting). */
  onClockWrong?: (now: Date, buildTime: Date) => void;
  signal?: AbortSignal;
}

export function isClockPlausible(now: Date, buildTime: Date): boolean {
  return now.getTime() >= buildTime.getTime();
}

/** Resolves with the current time once it is at or after the build time. Rejects if aborted. */
export async function waitForPlausibleClock(options: ClockCheckOptions): Promise<Date> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? defaultSleep;
  let reported = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const t = now();
    if (isClockPlausible(t, options.buildTime)) return t;
    if (!reported) options.onClockWrong?.(t, options.buildTime);
    reported = true;
    await sleep(options.recheckMs ?? 5000, options.signal);
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
