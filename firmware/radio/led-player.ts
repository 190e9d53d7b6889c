// Plays a blink pattern (led-patterns.ts) on a Led: one timer per step, looping if the pattern
// repeats, dark after a one-shot. Time comes from an injected Scheduler so tests use fake time.
import type { Led } from '../../hardware/led.js';
import type { LedPattern, LedPatternName } from './led-patterns.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

/** A pattern the player cannot play (no steps, or a step that is not a positive finite duration). */
export class LedPatternError extends Error {
  override readonly name = 'LedPatternError';
  constructor(
    readonly pattern: string,
    readonly problem: string,
  ) {
    super(`LED pattern "${pattern}" ${problem}`);
  }
}

export interface LedPlayerOptions {
  /** Called when the LED refuses a write (GPIO gone). The pattern stops until a different one is shown. */
  onError?: (err: unknown) => void;
}

export class LedPlayer {
  readonly #led: Led;
  readonly #scheduler: Scheduler;
  readonly #onError: (err: unknown) => void;
  #pattern: LedPattern | null = null;
  #timer: TimerHandle | null = null;
  #lit: boolean | null = null;

  constructor(led: Led, scheduler: Scheduler, options: LedPlayerOptions = {}) {
    this.#led = led;
    this.#scheduler = scheduler;
    this.#onError = options.onError ?? (() => {});
  }

  /** The pattern showing now, or null before the first show() and after stop(). */
  get current(): LedPatternName | null {
    return this.#pattern?.name ?? null;
  }

  /**
   * Shows a pattern. Showing the pattern already on is a no-op, so a blink keeps its rhythm while
   * the radio's state changes in ways the LED does not show.
   */
  show(pattern: LedPattern): void {
    if (this.#pattern?.name === pattern.name) return;
    if (pattern.steps.length === 0) throw new LedPatternError(pattern.name, 'has no steps');
    for (const s of pattern.steps) {
      if (!(Number.isFinite(s.ms) && s.ms > 0)) throw new LedPatternError(pattern.name, `has a step of ${s.ms} ms`);
    }
    this.#cancel();
    this.#pattern = pattern;
    try {
      this.#led.describe?.(pattern.name);
    } catch (err) {
      this.#onError(err);
    }
    this.#step(0);
  }

  /** Stops the pattern and darkens the LED. */
  stop(): void {
    this.#cancel();
    this.#pattern = null;
    this.#write(false);
  }

  #cancel(): void {
    if (this.#timer !== null) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #step(index: number): void {
    const pattern = this.#pattern;
    if (!pattern) return;
    const step = pattern.steps[index];
    if (!step) {
      if (pattern.repeat) return this.#step(0);
      this.#write(false); // a one-shot leaves the LED dark until the next show()
      return;
    }
    if (!this.#write(step.on)) return;
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = null;
      this.#step(index + 1);
    }, step.ms);
  }

  /** Writes only changes (writes reach GPIO sysfs). Returns false when the LED failed. */
  #write(on: boolean): boolean {
    if (this.#lit === on) return true;
    try {
      this.#led.write(on);
      this.#lit = on;
      return true;
    } catch (err) {
      this.#lit = null;
      this.#cancel();
      this.#onError(err);
      return false;
    }
  }
}
