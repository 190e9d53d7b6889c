// The radio's own tor, as the app uses it: start it supervised, publish this radio's onion service
// (restricted discovery: only the contacts' client-auth keys may fetch its descriptor), hand tor our
// client-auth key for every contact's onion, and translate tor's status into radio-core events.
// Tor is started in the background: the radio records and queues clips while tor is still starting.
import { join } from 'node:path';
import type { Contact } from '../contacts/contact.js';
import type { DeviceIdentity } from '../identity/device-identity.js';
import { createLog } from '../log.js';
import type { RadioEvent } from '../radio/radio-types.js';
import {
  addClientAuth, newCircuits, OnionRefetcher, parseClientAuthPublicKey, parseOnionAddress, publishOnion, RendezvousWatch, TorSupervisor, type OnionRefetcherOptions,
  type ServicePort, type TorInstance, type TorStatus,
} from '../tor/index.js';
import { OnionPresenceWatch, type OnionPresenceWatchOptions } from '../tor/onion-presence.js';
import type { Connector } from '../transport/sender.js';
import { torConnector } from '../transport/tor-connector.js';
import { TorNotRunningError } from './app-errors.js';

const log = createLog('app:tor');

export interface TorLinkOptions {
  /** Extra torrc lines (the private test network's DirAuthority lines). */
  readonly extraConfig?: readonly string[];
  readonly torBinary?: string;
  /** Tor's DataDirectory; default <data>/tor. */
  readonly dataDir?: string;
  /** SOCKS connect + rendezvous budget per stream. */
  readonly connectTimeoutMs?: number;
  /** Rate limits of the stale-onion remedy (HSFETCH per onion, NEWNYM overall). */
  readonly refetch?: Pick<OnionRefetcherOptions, 'refetchIntervalMs' | 'newnymIntervalMs' | 'fetchTimeoutMs'>;
  /** How long after INTRODUCE_ACK a rendezvous may take before the connect is ended as stalled. */
  readonly rendezvousStallMs?: number;
  /** How often a contact with queued clips is looked up for a new descriptor (watchPresence). */
  readonly presence?: Pick<OnionPresenceWatchOptions, 'intervalMs' | 'jitter' | 'fetchTimeoutMs'>;
  /** The e2e benchmark's echo beside the receiver (OnionServiceOptions.extraPorts); never from a config. */
  readonly extraServicePorts?: readonly ServicePort[];
}

type WithoutAt<E> = E extends unknown ? Omit<E, 'at'> : never;
/** The radio-core events that come from tor, without their timestamp. */
export type TorRadioEvent = WithoutAt<Extract<RadioEvent, { type: 'torStarting' | 'torBootstrapping' | 'torConnected' | 'torError' | 'torClockWrong' }>>;

/** Radio-core event (without its timestamp) for a tor status. */
export function radioEventForTor(status: TorStatus): TorRadioEvent {
  switch (status.state) {
    case 'starting':
      return { type: 'torStarting' };
    case 'bootstrapping':
      return { type: 'torBootstrapping', progress: status.progress };
    case 'connected':
      return { type: 'torConnected' };
    case 'clockWrong':
      return { type: 'torClockWrong', detail: `clock reads ${status.now.toISOString()}, before this firmware was built (${status.buildTime.toISOString()})` };
    case 'error':
      return { type: 'torError', reason: status.error.message };
  }
}

export class TorLink {
  #tor: TorInstance | undefined;
  #onion: string | undefined;
  #stopped = false;
  readonly #statusListeners = new Set<(s: TorStatus) => void>();
  readonly #reachableListeners = new Set<(onion: string) => void>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #presenceWatches = new Set<OnionPresenceWatch>();
  /** Refreshes tor's view of a contact whose radio restarted (new intro points) after a failed connect. */
  readonly refetcher: OnionRefetcher;
  /** Ends a connect early when its rendezvous stalled (an old intro point acked for a contact that is off). */
  readonly rendezvous: RendezvousWatch;
  /** Settles when tor is up and the onion published (or rejects with why it could not start). */
  readonly ready: Promise<void>;

  constructor(
    private readonly identity: DeviceIdentity,
    private readonly contacts: readonly Contact[],
    private readonly localPort: number,
    private readonly options: TorLinkOptions = {},
  ) {
    this.refetcher = new OnionRefetcher({
      ...options.refetch,
      control: () => this.#running().control,
      newCircuits: () => newCircuits(this.#running()),
    });
    this.rendezvous = new RendezvousWatch({
      control: () => this.#running().control,
      ...(options.rendezvousStallMs !== undefined ? { stallMs: options.rendezvousStallMs } : {}),
    });
    this.ready = this.#start();
    this.ready.catch((err: unknown) => {
      log.error('tor did not start', { err });
      this.#emit({ state: 'error', error: err instanceof Error ? err : new Error(String(err)) });
    });
  }

  get tor(): TorInstance | undefined {
    return this.#tor;
  }

  /** Our onion address, once published. */
  get onion(): string | undefined {
    return this.#onion;
  }

  /** The SOCKS port once tor runs. */
  get socksPort(): number | undefined {
    return this.#tor?.socksPort;
  }

  /**
   * Calls the listener when a contact's onion answered again right after tor refreshed its view of
   * it (their radio restarted): the moment to retry the other clips queued for them (outbox.kick()).
   * Only on success, so a contact that stays off never shortcuts the outbox's backoff.
   */
  onContactReachable(listener: (onion: string) => void): () => void {
    this.#reachableListeners.add(listener);
    return () => this.#reachableListeners.delete(listener);
  }

  /**
   * Looks up the onions `hosts()` names (the contacts with queued clips) every ~150 s, one
   * HSFETCH at a time, and calls onFresh when one published a new descriptor: its radio was up
   * since, the moment to retry their clips (outbox.kick()) instead of waiting out the backoff.
   * Returns the function that stops the watch (stop() stops it too).
   */
  watchPresence(hosts: () => readonly string[], onFresh: (onion: string) => void): () => void {
    const watch = new OnionPresenceWatch({
      ...this.options.presence,
      control: () => this.#running().control,
      hosts,
      onFresh,
    });
    this.#presenceWatches.add(watch);
    watch.start();
    return () => {
      watch.stop();
      this.#presenceWatches.delete(watch);
    };
  }

  /** Calls the listener on every status change (tor's own stream once tor exists). */
  onStatus(listener: (s: TorStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /**
   * Streams through this tor; before tor is up, a retryable failure the outbox will retry. A connect
   * to an onion that fails because tor's view of it is stale (the contact's radio restarted) makes
   * tor refetch its descriptor, and is then tried once more at once instead of after the backoff.
   */
  connector(): Connector {
    const viaTor = torConnector({
      socksPort: () => {
        const port = this.#tor?.socksPort;
        if (port === undefined) throw new TorNotRunningError(this.#stopped ? 'the radio is stopping' : 'tor is still starting');
        return port;
      },
      ...(this.options.connectTimeoutMs !== undefined ? { timeoutMs: this.options.connectTimeoutMs } : {}),
      watchStall: (host, onStall) => {
        if (!/\.onion$/i.test(host) || this.#stopped) return undefined;
        let serviceId: string;
        try {
          serviceId = parseOnionAddress(host).serviceId;
        } catch {
          return undefined; // tor answers a malformed onion with 0xF6, which the caller must see
        }
        return this.rendezvous.watch(serviceId, onStall);
      },
      recover: async (host, err) => {
        if (this.#stopped) return false;
        const { action } = await this.refetcher.afterFailure(host, err);
        return action === 'refetched' || action === 'new-circuits';
      },
      recovered: (host) => {
        log.info('contact reachable again after tor refreshed its onion state', { onion: host });
        for (const l of [...this.#reachableListeners]) {
          try {
            l(host);
          } catch (err) {
            log.error('contact-reachable listener threw', { err });
          }
        }
      },
    });
    return async (host, port) => viaTor(host, port);
  }

  /** The supervisor, once started and not stopping; the refetcher's way to reach tor. */
  #running(): TorInstance {
    if (!this.#tor || this.#stopped) throw new TorNotRunningError(this.#stopped ? 'the radio is stopping' : 'tor is still starting');
    return this.#tor;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const w of this.#presenceWatches) w.stop();
    this.#presenceWatches.clear();
    // Stopping the supervisor also ends a start still waiting (for a plausible clock, for tor).
    await this.#tor?.stop();
    await this.ready.catch(() => undefined);
  }

  #emit(status: TorStatus): void {
    for (const l of [...this.#statusListeners]) {
      try {
        l(status);
      } catch (err) {
        log.error('tor status listener threw', { err });
      }
    }
  }

  async #start(): Promise<void> {
    const tor = new TorSupervisor({
      dataDir: this.options.dataDir ?? join(this.identity.dataDir, 'tor'),
      ...(this.options.torBinary !== undefined ? { torBinary: this.options.torBinary } : {}),
      ...(this.options.extraConfig ? { extraConfig: this.options.extraConfig } : {}),
    });
    this.#tor = tor;
    // Subscribed before start, so "clock wrong" and "starting" reach the radio while tor waits.
    this.#unsubscribe.push(tor.status.subscribe((s) => this.#emit(s)));
    await tor.start();
    if (this.#stopped) return;
    // Our key for each contact's service first, so the first connect to them needs no second try.
    const secret = this.identity.clientAuth.pair.privateKey;
    for (const c of this.contacts) await addClientAuth(tor, c.onion, secret);
    if (this.contacts.length === 0) {
      log.warn('no contacts: the onion service is not published (restricted discovery needs at least one client)');
      return;
    }
    const { address } = await publishOnion({
      tor,
      key: this.identity.onion.key,
      localPort: this.localPort,
      authorizedClients: this.contacts.map((c) => parseClientAuthPublicKey(c.clientAuthKey)),
      ...(this.options.extraServicePorts ? { extraPorts: this.options.extraServicePorts } : {}),
    });
    this.#onion = address;
    log.info('onion published', { address });
  }
}
