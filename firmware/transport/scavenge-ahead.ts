// Keeps V8's young-generation collection (a scavenge: 0.6-2.4 ms here, several times that on a
// Pi Zero) out of the timed end of a talk: the sender's release burst and receipt, the receiver's
// last chunk to its receipt. V8 scavenges when the young generation is full, and with
// torlk.service's --max-semi-space-size=1 that is ~1 MB; the receiver's end of an upload allocates
// ~100 KB of it, so about one talk in ten had a scavenge right there (e2e bench: 7 of 68 talks in
// three runs, at the receiver or the sender; none in 24 talks with this).
// So after each untimed piece of work (a page mid-talk, a body chunk), once the turn is over, a
// scavenge runs if less than the headroom is free: the same collections, a little earlier. Needs
// node's --expose-gc (torlk.service); without it this does nothing.
import { getHeapSpaceStatistics } from 'node:v8';

/** Free young generation kept ahead of a timed part: a few times what one allocates. */
export const HEADROOM_BYTES = 384 * 1024;

export interface ScavengeAheadOptions {
  /** Runs a scavenge; default: node's gc({ type: 'minor' }) when --expose-gc gave one. */
  readonly scavenge?: () => void;
  /** Free bytes in the young generation; default: V8's new_space available size. */
  readonly youngFreeBytes?: () => number;
  readonly headroomBytes?: number;
  /** Runs the check after the current turn; default setImmediate. */
  readonly defer?: (check: () => void) => void;
}

function youngGenerationFree(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_available_size ?? Infinity;
}

function exposedScavenge(): (() => void) | undefined {
  const gc = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;
  return typeof gc === 'function' ? () => gc({ type: 'minor' }) : undefined;
}

export class ScavengeAhead {
  readonly #scavenge: (() => void) | undefined;
  readonly #free: () => number;
  readonly #headroom: number;
  readonly #defer: (check: () => void) => void;
  #checkPending = false;
  /** Timed parts in progress (two uploads can overlap): no scavenge is started while any is. */
  #timed = 0;

  constructor(options: ScavengeAheadOptions = {}) {
    this.#scavenge = options.scavenge ?? exposedScavenge();
    this.#free = options.youngFreeBytes ?? youngGenerationFree;
    this.#headroom = options.headroomBytes ?? HEADROOM_BYTES;
    this.#defer = options.defer ?? ((check) => void setImmediate(check));
  }

  /** Untimed work just ran: once this turn is over, make room, unless a timed part has started by then. */
  afterWork(): void {
    if (!this.#scavenge || this.#checkPending) return;
    this.#checkPending = true;
    this.#defer(() => {
      this.#checkPending = false;
      if (this.#timed === 0 && this.#free() < this.#headroom) this.#scavenge!();
    });
  }

  /** A timed part starts: no scavenge from here until the returned function is called (once is enough). */
  timed(): () => void {
    this.#timed++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#timed--;
    };
  }
}

/** The process's one: the sender's and the receiver's timed parts must see each other. */
export const scavengeAhead = new ScavengeAhead();
