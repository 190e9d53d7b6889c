// Notices that a contact whose clips wait in the outbox is back: the outbox alone retries an absent
// contact every 15-30 min once its backoff has grown, a long wait for a walkie-talkie. Every
// intervalMs (with jitter) this asks tor for each such onion's descriptor afresh (HSFETCH), one
// onion at a time, then reads the descriptor tor now holds (GETINFO hs/client/desc/id/<id>,
// control-spec §3.9) and its outer revision-counter. A service publishes a new descriptor, with a
// new counter, whenever its tor starts (and hourly while up): a counter different from the one seen
// before means the contact was up since, and the listener (outbox.kick) retries at once.
// The first look at an onion only records. An HSDir answering NOT_FOUND (the contact was off longer
// than the descriptor's lifetime) records "gone"; a later descriptor with another counter is fresh.
// Anything inconclusive (no answer, other failures, tor restarting) is logged at debug and skipped.
import { createLog } from '../log.js';
import { ControlReplyError } from './errors.js';
import { parseOuterRevisionCounter } from './hs-descriptor-outer.js';
import { HsDescFetcher, type RefetchControl } from './hs-desc-fetch.js';
import { parseOnionAddress } from './onion-key.js';

const log = createLog('tor:presence');

// Tor asks each HSDir about one onion at most once per 15 min, and about 6 HSDirs hold it: a
// look every 150 s walks through them in 15 min and never meets that limit, where every 60 s would
// run dry after 6 min and then time out until minute 15. A return is noticed within ~3 min.
export const DEFAULT_PRESENCE_INTERVAL_MS = 150_000;
/** Each wait is intervalMs × (1 ± jitter/2), so radios started together do not poll in step. */
export const DEFAULT_PRESENCE_JITTER = 0.2;
/** An HSFETCH on a Pi Zero over the public network takes a few seconds; 15 s leaves room. */
export const DEFAULT_PRESENCE_FETCH_TIMEOUT_MS = 15_000;

/** Runs fn after ms; returns what cancels it (injected by unit tests). */
export type Schedule = (fn: () => void, ms: number) => () => void;

export interface OnionPresenceWatchOptions {
  /** Tor's current control connection; may throw while tor restarts (that round is skipped). */
  readonly control: () => RefetchControl;
  /** The hosts to watch now, asked before every round; only v3 ".onion" hosts are watched. */
  readonly hosts: () => readonly string[];
  /** Called with "<id>.onion" when that onion published a new descriptor since the last look. */
  readonly onFresh: (onion: string) => void;
  readonly intervalMs?: number;
  readonly jitter?: number;
  /** How long to wait for HS_DESC RECEIVED or FAILED after HSFETCH. */
  readonly fetchTimeoutMs?: number;
  readonly schedule?: Schedule;
  readonly random?: () => number;
}

/** What the last look at an onion found; `counter` survives a "gone" so an old copy is not news. */
interface Seen {
  counter: string | undefined;
  gone: boolean;
}

const realSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref(); // a pending look never keeps the process alive
  return () => clearTimeout(t);
};

export class OnionPresenceWatch {
  readonly #opts: OnionPresenceWatchOptions;
  readonly #fetcher: HsDescFetcher;
  readonly #seen = new Map<string, Seen>();
  #cancelTimer: (() => void) | undefined;
  #round: Promise<void> | undefined;
  #running = false;
  /** Set by stop(): a round in flight ends without calling the listener. */
  #stopped = false;

  constructor(options: OnionPresenceWatchOptions) {
    this.#opts = options;
    this.#fetcher = new HsDescFetcher(options.control);
  }

  /** Starts the rounds, the first after one interval (tor is usually still starting then). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = false;
    this.#scheduleNext();
  }

  /** Stops the rounds; a look in flight finishes without calling the listener. */
  stop(): void {
    this.#running = false;
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /** One round now (tests; the timer calls it too); a round already running is shared, never doubled. */
  checkNow(): Promise<void> {
    this.#round ??= this.#lookAtAll().finally(() => (this.#round = undefined));
    return this.#round;
  }

  /** The newest revision counter seen for an onion ("<id>.onion" or the bare id), if any. */
  lastCounter(onion: string): string | undefined {
    return this.#seen.get(onion.toLowerCase().replace(/\.onion$/, ''))?.counter;
  }

  #scheduleNext(): void {
    if (!this.#running) return;
    const interval = this.#opts.intervalMs ?? DEFAULT_PRESENCE_INTERVAL_MS;
    const jitter = this.#opts.jitter ?? DEFAULT_PRESENCE_JITTER;
    const ms = Math.max(0, Math.round(interval * (1 - jitter / 2 + jitter * (this.#opts.random ?? Math.random)())));
    this.#cancelTimer = (this.#opts.schedule ?? realSchedule)(() => {
      this.#cancelTimer = undefined;
      void this.checkNow().then(() => this.#scheduleNext());
    }, ms);
  }

  async #lookAtAll(): Promise<void> {
    const ids = this.#serviceIds();
    // Forget onions with nothing queued any more: when clips for them are queued again, the first
    // look records afresh instead of comparing with a counter from hours ago.
    for (const id of this.#seen.keys()) if (!ids.includes(id)) this.#seen.delete(id);
    for (const id of ids) {
      if (this.#stopped) return;
      await this.#lookAt(id);
    }
  }

  #serviceIds(): string[] {
    let hosts: readonly string[];
    try {
      hosts = this.#opts.hosts();
    } catch (err) {
      log.debug('could not list the onions to watch', { err });
      return [];
    }
    const ids = new Set<string>();
    for (const host of hosts) {
      if (!/\.onion$/i.test(host)) continue;
      try {
        ids.add(parseOnionAddress(host).serviceId);
      } catch {
        // not a v3 onion: the outbox reports its own errors for it
      }
    }
    return [...ids];
  }

  async #lookAt(id: string): Promise<void> {
    const timeoutMs = this.#opts.fetchTimeoutMs ?? DEFAULT_PRESENCE_FETCH_TIMEOUT_MS;
    let counter: string;
    try {
      const fetched = await this.#fetcher.fetch(id, timeoutMs);
      if (fetched.outcome === 'timeout') {
        // Also what tor does when every responsible HSDir was asked for this onion lately.
        log.debug('no descriptor answer in time; trying next round', { onion: id, timeoutMs });
        return;
      }
      if (fetched.outcome === 'failed') {
        if (fetched.reason === 'NOT_FOUND') this.#record(id, undefined);
        else log.debug('descriptor fetch failed; trying next round', { onion: id, reason: fetched.reason });
        return;
      }
      const cached = await this.#readCounter(id);
      if (cached === undefined) {
        log.debug('tor reported the descriptor but holds none; trying next round', { onion: id });
        return;
      }
      counter = cached;
    } catch (err) {
      log.debug('presence look skipped', { onion: id, err });
      return;
    }
    this.#record(id, counter);
  }

  /** The outer revision-counter of the descriptor in tor's client cache; undefined if it has none. */
  async #readCounter(id: string): Promise<string | undefined> {
    const key = `hs/client/desc/id/${id}`;
    let text: string | undefined;
    try {
      const reply = await this.#opts.control().command(`GETINFO ${key}`);
      // 250+hs/client/desc/id/<id>= then the descriptor as a data block.
      text = reply.lines.find((l) => l.text === `${key}=`)?.data;
    } catch (err) {
      if (err instanceof ControlReplyError && err.code === 551) return undefined; // "Not found in cache"
      throw err;
    }
    if (text === undefined) return undefined;
    return parseOuterRevisionCounter(text, id);
  }

  /** `counter` undefined: the HSDir has no descriptor (the contact was off past its lifetime). */
  #record(id: string, counter: string | undefined): void {
    const before = this.#seen.get(id);
    if (counter === undefined) {
      if (before) before.gone = true;
      else this.#seen.set(id, { counter: undefined, gone: true });
      log.debug('onion has no descriptor on its HSDir', { onion: id });
      return;
    }
    this.#seen.set(id, { counter, gone: false });
    // First look: nothing to compare with. Same counter (even after a "gone" from another HSDir):
    // the same old descriptor, not news.
    if (!before || before.counter === counter) return;
    if (this.#stopped) return;
    log.info('contact published a new onion descriptor: retrying its clips now', { onion: id, counter, after: before.gone ? 'gone' : before.counter });
    try {
      this.#opts.onFresh(`${id}.onion`);
    } catch (err) {
      log.error('presence listener threw', { err });
    }
  }
}
