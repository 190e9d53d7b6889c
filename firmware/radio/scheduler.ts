// Time, injected: the LED player and the radio shell take a Scheduler instead of calling
// setTimeout/performance.now themselves, so tests drive them with ManualScheduler and never sleep.

export type TimerHandle = object;

export interface Scheduler {
  /** Monotonic milliseconds, the same clock as ButtonEdge.at (performance.now() on a real radio). */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock. Timers are unref'd: the radio's own I/O keeps the process alive, not a blink. */
export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout(callback, ms) {
    const t = setTimeout(callback, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
