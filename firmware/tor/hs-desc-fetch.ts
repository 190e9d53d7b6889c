// Asks tor to fetch an onion's descriptor afresh and waits for the outcome: HSFETCH (control-spec
// §3.26) is answered 250 at once, the fetch itself is reported later as an HS_DESC event (§4.1.25)
// RECEIVED or FAILED for that address. Shared by the stale-onion refetcher and the presence watch;
// one HS_DESC listener per control connection, however many fetches wait on it.
import type { EventListener } from './control-connection.js';
import { parseKeywords } from './control-keywords.js';
import type { Reply } from './control-reply-parser.js';

/** The part of ControlConnection the onion helpers need (a scripted fake in unit tests). */
export interface RefetchControl {
  command(line: string): Promise<Reply>;
  on(eventName: string, listener: EventListener): () => void;
  subscribe(...eventNames: string[]): Promise<void>;
}

export type DescFetchResult =
  /** Tor got a descriptor from an HSDir and holds it in its client cache now. */
  | { readonly outcome: 'received' }
  /** The HSDir had none (REASON=NOT_FOUND), refused, or what came could not be used. */
  | { readonly outcome: 'failed'; readonly reason: string | undefined }
  /** No RECEIVED or FAILED in time; tor also stays silent when every responsible HSDir was asked lately. */
  | { readonly outcome: 'timeout' };

interface Waiter {
  readonly serviceId: string;
  settle(result: DescFetchResult): void;
}

export class HsDescFetcher {
  readonly #control: () => RefetchControl;
  readonly #watched = new WeakSet<RefetchControl>();
  readonly #waiters = new Set<Waiter>();

  /** `control` gives tor's current control connection; it may throw while tor restarts. */
  constructor(control: () => RefetchControl) {
    this.#control = control;
  }

  /** HSFETCH of the bare 56-character service id; rejects only when tor is away or refuses the command. */
  async fetch(serviceId: string, timeoutMs: number): Promise<DescFetchResult> {
    const control = this.#control();
    await this.#watch(control);
    let settle: (r: DescFetchResult) => void = () => {};
    const result = new Promise<DescFetchResult>((resolve) => (settle = resolve));
    const waiter: Waiter = { serviceId, settle };
    const timer = setTimeout(() => settle({ outcome: 'timeout' }), timeoutMs);
    this.#waiters.add(waiter); // before HSFETCH: tor may answer within the same read
    try {
      // control-spec's HSAddress is the bare service id, without ".onion".
      await control.command(`HSFETCH ${serviceId}`);
      return await result;
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(waiter);
    }
  }

  async #watch(control: RefetchControl): Promise<void> {
    if (this.#watched.has(control)) return;
    this.#watched.add(control); // before awaiting, so concurrent fetches add one listener only
    // HS_DESC <action> <service id> <auth> <hsdir> ... [REASON=...]: HSFETCH asks one HSDir, so its
    // RECEIVED or FAILED settles the wait (a RECEIVED of tor's own concurrent fetch is just as fresh).
    const off = control.on('HS_DESC', (event) => {
      const { positional, values } = parseKeywords(event.text);
      const [action, id] = positional;
      if (action !== 'RECEIVED' && action !== 'FAILED') return;
      const result: DescFetchResult = action === 'RECEIVED' ? { outcome: 'received' } : { outcome: 'failed', reason: values.get('REASON') };
      for (const w of this.#waiters) if (w.serviceId === id) w.settle(result);
    });
    try {
      await control.subscribe('HS_DESC');
    } catch (err) {
      off();
      this.#watched.delete(control);
      throw err;
    }
  }
}
