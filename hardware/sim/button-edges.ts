// The bookkeeping every Button shares, real or simulated: listeners, the pressed state, strict
// press/release alternation and silence after close. Drivers feed it levels; it decides edges.
import type { ButtonEdge } from '../button.js';
import { createLog } from '../../firmware/log.js';

const log = createLog('button');

export class ButtonEdges {
  #pressed = false;
  #closed = false;
  #listeners = new Set<(edge: ButtonEdge) => void>();

  get pressed(): boolean {
    return this.#pressed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onEdge(listener: (edge: ButtonEdge) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('"listener" must be a function');
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Sets the level without emitting: the state found when a driver opens. */
  initial(pressed: boolean): void {
    this.#pressed = pressed;
  }

  /**
   * Reports a debounced level. Emits an edge only when the level changed, so a bounce that settles
   * back where it started, or a repeated report, never yields press-press or release-release.
   * Returns whether an edge was emitted.
   */
  level(pressed: boolean, at: number): boolean {
    if (this.#closed || pressed === this.#pressed) return false;
    this.#pressed = pressed;
    const edge: ButtonEdge = { kind: pressed ? 'press' : 'release', at };
    // Copy first: a listener may unsubscribe itself (or another) while we iterate.
    for (const listener of [...this.#listeners]) {
      try {
        listener(edge);
      } catch (err) {
        // One faulty listener must not stop the radio core from hearing the edge.
        log.error('button listener threw', { err, edge: edge.kind });
      }
    }
    return true;
  }

  /** Drops every listener; later level() calls are ignored. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }
}
