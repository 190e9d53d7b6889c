// A button driven by code: tests and demos press, release and hold it. It stands in for the GPIO
// button behind the same interface. Its edges are already clean (no contact bounce to filter).
import type { Button, ButtonEdge } from '../button.js';
import { ButtonEdges } from './button-edges.js';

export interface ScriptedButtonOptions {
  /** Monotonic milliseconds for edge timestamps (default performance.now). */
  clock?: () => number;
  /** How hold() waits (default setTimeout). A test with a manual clock passes one that advances it. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ScriptedButton implements Button {
  readonly #edges = new ButtonEdges();
  readonly #clock: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: ScriptedButtonOptions = {}) {
    this.#clock = options.clock ?? (() => performance.now());
    this.#sleep = options.sleep ?? realSleep;
  }

  get pressed(): boolean {
    return this.#edges.pressed;
  }

  onEdge(listener: (edge: ButtonEdge) => void): () => void {
    return this.#edges.onEdge(listener);
  }

  /** Presses the button. Pressing a held button does nothing, as on the real one. */
  press(): void {
    this.#edges.level(true, this.#clock());
  }

  release(): void {
    this.#edges.level(false, this.#clock());
  }

  /** Presses, waits `ms`, releases. Resolves after the release. */
  async hold(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`"ms" must be a non-negative number, got ${String(ms)}`);
    this.press();
    await this.#sleep(ms);
    this.release();
  }

  async close(): Promise<void> {
    this.#edges.close();
  }
}
