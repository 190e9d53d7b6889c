// A Scheduler whose clock only moves when told to: the simulated twin of systemScheduler, shipped
// (not a vi.mock) so the radio shell, the LED player and the app wiring all test with fake time.
import type { Scheduler, TimerHandle } from './scheduler.js';

interface Pending {
  readonly due: number;
  readonly order: number;
  readonly callback: () => void;
}

export class ManualScheduler implements Scheduler {
  #now: number;
  #order = 0;
  readonly #pending = new Map<object, Pending>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    if (!(ms >= 0)) throw new RangeError(`ManualScheduler.setTimeout: ms must be ≥ 0, got ${ms}`);
    const handle = {};
    this.#pending.set(handle, { due: this.#now + ms, order: this.#order++, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#pending.delete(handle);
  }

  /** Timers not yet fired or cleared. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Moves the clock forward by `ms`, firing every timer that falls due on the way, in due order
   * (ties in the order they were set), with now() equal to each timer's due time as it fires.
   * Timers set by callbacks fire too if they fall due within the advance.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualScheduler.advance: ms must be ≥ 0, got ${ms}`);
    const until = this.#now + ms;
    for (;;) {
      let next: [object, Pending] | undefined;
      for (const entry of this.#pending) {
        const [, p] = entry;
        if (p.due > until) continue;
        if (!next || p.due < next[1].due || (p.due === next[1].due && p.order < next[1].order)) next = entry;
      }
      if (!next) break;
      this.#pending.delete(next[0]);
      this.#now = next[1].due;
      next[1].callback();
    }
    this.#now = until;
  }
}
