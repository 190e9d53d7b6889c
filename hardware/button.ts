// The talk button, as the firmware sees it. Types only: drivers live in hardware/gpio and hardware/sim.

/** One debounced edge. `at` is a monotonic millisecond timestamp (performance.now() on this process's clock). */
export interface ButtonEdge {
  readonly kind: 'press' | 'release';
  readonly at: number;
}

export interface Button {
  /** Subscribes to debounced edges. Returns a function that unsubscribes. */
  onEdge(listener: (edge: ButtonEdge) => void): () => void;
  /** Whether the button is held right now. */
  readonly pressed: boolean;
  /** Releases the pin (unexport) or the terminal. Idempotent. */
  close(): Promise<void>;
}
