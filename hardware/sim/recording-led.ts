// An LED that remembers what it showed: tests assert on its timeline, the demo draws it.
import type { Led } from '../led.js';

export interface LedSample {
  readonly at: number;
  readonly on: boolean;
}

export interface PatternSample {
  readonly at: number;
  readonly pattern: string;
}

export interface RecordingLedOptions {
  /** Monotonic milliseconds (default performance.now). */
  clock?: () => number;
  /** Oldest entries are dropped beyond this, so a demo left running for days stays small. */
  maxEntries?: number;
}

export class RecordingLed implements Led {
  readonly #clock: () => number;
  readonly #maxEntries: number;
  readonly #timeline: LedSample[] = [];
  readonly #patterns: PatternSample[] = [];
  #on = false;
  #pattern: string | undefined;
  #closed = false;
  #writes = 0;

  constructor(options: RecordingLedOptions = {}) {
    this.#clock = options.clock ?? (() => performance.now());
    this.#maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new TypeError(`"maxEntries" must be a positive integer, got ${String(options.maxEntries)}`);
    }
  }

  /** Whether the LED is lit now. It starts dark. */
  get on(): boolean {
    return this.#on;
  }

  /** State changes only, oldest first: repeated writes of the same level are not changes. */
  get timeline(): readonly LedSample[] {
    return this.#timeline;
  }

  /** Pattern names passed to describe(), oldest first. */
  get patterns(): readonly PatternSample[] {
    return this.#patterns;
  }

  get pattern(): string | undefined {
    return this.#pattern;
  }

  /** Every write() accepted, changes or not (the pattern player's call rate). */
  get writes(): number {
    return this.#writes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(on: boolean): void {
    if (this.#closed) return; // a pattern tick racing shutdown is harmless
    this.#writes++;
    if (on === this.#on) return;
    this.#on = on;
    push(this.#timeline, { at: this.#clock(), on }, this.#maxEntries);
    this.changed();
  }

  describe(pattern: string): void {
    if (this.#closed || pattern === this.#pattern) return;
    this.#pattern = pattern;
    push(this.#patterns, { at: this.#clock(), pattern }, this.#maxEntries);
    this.changed();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#on) {
      this.#on = false;
      push(this.#timeline, { at: this.#clock(), on: false }, this.#maxEntries);
    }
    this.#closed = true;
    this.changed();
  }

  /** Called after every change of level, pattern or closed state; subclasses draw here. */
  protected changed(): void {}
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
