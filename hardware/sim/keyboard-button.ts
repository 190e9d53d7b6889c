// The talk button on a laptop: hold the space bar to talk.
//
// Terminals send no key-up events: a held key arrives once, then (after the keyboard's repeat delay,
// 250-660 ms on common systems) as auto-repeats every 30-40 ms. So the heuristic is:
//   - the first space is the press;
//   - after it, we wait up to `firstRepeatMs` (default 700) for the first repeat;
//   - once repeats flow, `repeatGapMs` (default 150) without one means the key was let go;
//   - the release is stamped with the last space seen, which is when the finger was last known down.
// A press that never repeats was a tap: its release carries the press's own timestamp, and the
// radio ignores taps. Holds shorter than the terminal's repeat delay therefore also count as taps.
import type { Button, ButtonEdge } from '../button.js';
import { ButtonEdges } from './button-edges.js';

/** What KeyboardButton needs from its input: a byte stream, and raw mode when it is a terminal. */
export interface KeyInput {
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
  readonly isTTY?: boolean;
  readonly isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface KeyboardButtonOptions {
  /** Default process.stdin. Tests pass a PassThrough. */
  input?: KeyInput;
  /** The talk key (one character). Default space. */
  key?: string;
  firstRepeatMs?: number;
  repeatGapMs?: number;
  /** Raw mode swallows Ctrl-C; called when it is typed. Default: send SIGINT to this process. */
  onInterrupt?: () => void;
  /** Every other key typed, for the demo's own shortcuts. */
  onOtherKey?: (text: string) => void;
  clock?: () => number;
}

const CTRL_C = '\u0003';

export class KeyboardButton implements Button {
  readonly #edges = new ButtonEdges();
  readonly #input: KeyInput;
  readonly #key: string;
  readonly #firstRepeatMs: number;
  readonly #repeatGapMs: number;
  readonly #onInterrupt: () => void;
  readonly #onOtherKey: ((text: string) => void) | undefined;
  readonly #clock: () => number;
  readonly #wasRaw: boolean | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastSeen = 0;
  #closed = false;

  constructor(options: KeyboardButtonOptions = {}) {
    this.#input = options.input ?? process.stdin;
    this.#key = options.key ?? ' ';
    if (this.#key.length !== 1) throw new TypeError(`"key" must be one character, got ${JSON.stringify(this.#key)}`);
    this.#firstRepeatMs = positive('firstRepeatMs', options.firstRepeatMs ?? 700);
    this.#repeatGapMs = positive('repeatGapMs', options.repeatGapMs ?? 150);
    this.#onInterrupt = options.onInterrupt ?? (() => process.kill(process.pid, 'SIGINT'));
    this.#onOtherKey = options.onOtherKey;
    this.#clock = options.clock ?? (() => performance.now());
    if (this.#input.isTTY && typeof this.#input.setRawMode === 'function') {
      // Raw mode: keys arrive one by one, unechoed, without waiting for Enter.
      this.#wasRaw = this.#input.isRaw ?? false;
      this.#input.setRawMode(true);
      // A crash that skips close() must not leave the user's shell in raw mode.
      process.once('exit', this.#restoreTerminal);
    }
    this.#input.on('data', this.#onData);
    this.#input.resume();
  }

  get pressed(): boolean {
    return this.#edges.pressed;
  }

  onEdge(listener: (edge: ButtonEdge) => void): () => void {
    return this.#edges.onEdge(listener);
  }

  readonly #onData = (chunk: Buffer | string): void => {
    if (this.#closed) return;
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (text.includes(CTRL_C)) {
      this.#onInterrupt();
      return;
    }
    const others = text.split(this.#key).join('');
    if (others.length > 0) this.#onOtherKey?.(others);
    // Several repeats can arrive in one chunk when the event loop was busy: one sighting.
    if (others.length !== text.length) this.#sawKey();
  };

  #sawKey(): void {
    const now = this.#clock();
    this.#lastSeen = now;
    clearTimeout(this.#timer);
    if (!this.#edges.pressed) {
      this.#edges.level(true, now);
      this.#timer = setTimeout(this.#release, this.#firstRepeatMs);
    } else {
      this.#timer = setTimeout(this.#release, this.#repeatGapMs);
    }
  }

  readonly #release = (): void => {
    this.#timer = undefined;
    this.#edges.level(false, this.#lastSeen);
  };

  /** Stops listening and gives the terminal back as it was. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#edges.close();
    this.#input.removeListener('data', this.#onData);
    process.removeListener('exit', this.#restoreTerminal);
    this.#restoreTerminal();
    this.#input.pause();
  }

  readonly #restoreTerminal = (): void => {
    if (this.#wasRaw !== undefined) this.#input.setRawMode?.(this.#wasRaw);
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`"${name}" must be a positive number of ms, got ${String(value)}`);
  return value;
}
