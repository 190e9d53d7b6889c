// When a connect to a contact's onion fails in a way that says "tor's picture of that service is
// stale" (descriptor not found, introduction failed or timed out, rendezvous failed, or our own
// connect timeout on a stalled rendezvous), tor would otherwise keep using the cached descriptor
// and intro points until its caches expire: minutes after a peer's radio restarted with new intro
// points. This asks tor for that onion's descriptor again (HSFETCH, control-spec §3.26) and, when a
// fresh fetch did not help, for a cold onion-client state (SIGNAL NEWNYM via newCircuits), both
// rate-limited so a peer that is really off costs one HSFETCH per refetchIntervalMs and the whole
// radio one NEWNYM per newnymIntervalMs, however often the outbox retries.
import { createLog } from '../log.js';
import { HsDescFetcher, type RefetchControl } from './hs-desc-fetch.js';
import { parseOnionAddress } from './onion-key.js';
import { SocksError } from './socks-error.js';

const log = createLog('tor:refetch');

/** Tor's ExtendedErrors codes that a fresh descriptor (new intro points) or new circuits can cure. */
export const staleOnionCodes: ReadonlySet<number> = new Set([
  0xf0, // descriptor not found: the peer's new descriptor may be up now
  0xf2, // introduction failed: intro points of an old descriptor
  0xf3, // rendezvous failed
  0xf7, // introduction timed out
]);

/** Whether a connect failure to `host` is one that refetching the onion's descriptor may cure. */
export function isStaleOnionFailure(host: string, err: unknown): boolean {
  if (!/\.onion$/i.test(host) || !(err instanceof SocksError)) return false;
  if (err.failure === 'reply') return err.code !== undefined && staleOnionCodes.has(err.code);
  // Our own connect timeout on an onion: a rendezvous that stalled on tor's side.
  return err.failure === 'timeout';
}

export type { RefetchControl } from './hs-desc-fetch.js';

export interface OnionRefetcherOptions {
  /** Tor's current control connection; may throw while tor restarts (then nothing is done). */
  readonly control: () => RefetchControl;
  /** SIGNAL NEWNYM and re-adding client-auth keys (index.ts newCircuits). */
  readonly newCircuits: () => Promise<void>;
  /** At most one HSFETCH per onion this often. */
  readonly refetchIntervalMs?: number;
  /** At most one NEWNYM (for any onion) this often: it throws away every onion's client state. */
  readonly newnymIntervalMs?: number;
  /** How long to wait for tor's HS_DESC RECEIVED or FAILED after HSFETCH. */
  readonly fetchTimeoutMs?: number;
  readonly now?: () => number;
}

export type RefetchOutcome =
  /** Tor fetched the descriptor again (RECEIVED): a new connect will use it. */
  | { readonly action: 'refetched' }
  /** Tor's onion-client state was reset (the refetch failed or was not enough). */
  | { readonly action: 'new-circuits' }
  /** Both remedies were used recently; the outbox's backoff decides the next try. */
  | { readonly action: 'rate-limited' }
  /** Not a failure a refetch cures (or not an onion). */
  | { readonly action: 'not-applicable' }
  /** Tor is between runs or refused; the error says why. */
  | { readonly action: 'unavailable'; readonly error: Error };

export const DEFAULT_REFETCH_INTERVAL_MS = 10_000;
export const DEFAULT_NEWNYM_INTERVAL_MS = 30_000;
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;

export class OnionRefetcher {
  readonly #opts: OnionRefetcherOptions;
  readonly #now: () => number;
  readonly #lastRefetch = new Map<string, number>();
  #lastNewnym = -Infinity;
  /** One remedy at a time per onion: concurrent failures share its outcome. */
  readonly #inFlight = new Map<string, Promise<RefetchOutcome>>();
  readonly #descFetch: HsDescFetcher;

  constructor(options: OnionRefetcherOptions) {
    this.#opts = options;
    this.#now = options.now ?? Date.now;
    this.#descFetch = new HsDescFetcher(options.control);
  }

  /**
   * Called after a failed connect to `host`; resolves once the remedy (if any) is done, never
   * rejects. A 'refetched' or 'new-circuits' outcome means one more connect now is worth it.
   */
  afterFailure(host: string, err: unknown): Promise<RefetchOutcome> {
    if (!isStaleOnionFailure(host, err)) return Promise.resolve({ action: 'not-applicable' });
    let serviceId: string;
    try {
      serviceId = parseOnionAddress(host).serviceId;
    } catch {
      return Promise.resolve({ action: 'not-applicable' });
    }
    const running = this.#inFlight.get(serviceId);
    if (running) return running;
    const remedy = this.#remedy(serviceId, err as SocksError).finally(() => this.#inFlight.delete(serviceId));
    this.#inFlight.set(serviceId, remedy);
    return remedy;
  }

  async #remedy(serviceId: string, cause: SocksError): Promise<RefetchOutcome> {
    const started = this.#now();
    try {
      // A connect that hung for our whole timeout is a stalled rendezvous, which a refetch does
      // not cure (the descriptor may be fine): reset tor's onion-client state first.
      if (cause.failure === 'timeout' && this.#newnymAllowed()) return await this.#newnym(serviceId, cause);
      const last = this.#lastRefetch.get(serviceId);
      if (last === undefined || started - last >= (this.#opts.refetchIntervalMs ?? DEFAULT_REFETCH_INTERVAL_MS)) {
        this.#lastRefetch.set(serviceId, started);
        const { outcome: result } = await this.#descFetch.fetch(serviceId, this.#opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS);
        log.info('refetched onion descriptor', { onion: serviceId, result, after: cause.message, ms: this.#now() - started });
        if (result === 'received') return { action: 'refetched' };
        // No descriptor came: tor may have asked every HSDir recently, a block NEWNYM lifts.
      }
      // Refetched already and still failing (or the fetch failed): stale intro or rendezvous state.
      if (this.#newnymAllowed()) return await this.#newnym(serviceId, cause);
      log.debug('onion still unreachable; remedies used recently', { onion: serviceId, after: cause.message });
      return { action: 'rate-limited' };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      log.warn('could not refresh onion state in tor', { onion: serviceId, err: error });
      return { action: 'unavailable', error };
    }
  }

  #newnymAllowed(): boolean {
    return this.#now() - this.#lastNewnym >= (this.#opts.newnymIntervalMs ?? DEFAULT_NEWNYM_INTERVAL_MS);
  }

  async #newnym(serviceId: string, cause: SocksError): Promise<RefetchOutcome> {
    this.#lastNewnym = this.#now();
    await this.#opts.newCircuits();
    // The cold state includes a fresh descriptor: no HSFETCH needed for a while.
    this.#lastRefetch.set(serviceId, this.#now());
    log.info('new circuits for a stale onion', { onion: serviceId, after: cause.message });
    return { action: 'new-circuits' };
  }
}
