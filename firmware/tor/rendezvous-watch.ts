// Notices a stalled rendezvous: tor's client got INTRODUCE_ACK (the intro point took our
// introduction) but the service never joined the rendezvous circuit. Seen when a contact's radio
// went off and one of its old intro points still acked introductions: tor then waits for its own
// 120 s SocksTimeout and never tries another intro point, so our connect hangs until its timeout.
// Rendezvous circuits are followed through CIRC / CIRC_MINOR events (control-spec §4.1.1, §4.1.14):
// HS_STATE=HSCR_ESTABLISHED_WAITING means "intro acked, waiting for RENDEZVOUS2"; HSCR_JOINED or
// the circuit closing ends the wait. A wait longer than stallMs is reported for that onion.
import { createLog } from '../log.js';
import type { ControlEvent } from './control-connection.js';
import { parseKeywords } from './control-keywords.js';
import type { RefetchControl } from './onion-refetch.js';

const log = createLog('tor:rendezvous');

export interface RendezvousWatchOptions {
  /** Tor's current control connection; may throw while tor restarts (then nothing is watched). */
  readonly control: () => RefetchControl;
  /** Longest normal wait from INTRODUCE_ACK to the service joining (it builds a circuit to our rendezvous point). */
  readonly stallMs?: number;
}

/** Generous for a Pi Zero service building a 3-hop circuit on the public network; ~0.1 s on the private one. */
export const DEFAULT_RENDEZVOUS_STALL_MS = 10_000;

type StallListener = (detail: string) => void;

export class RendezvousWatch {
  readonly #opts: RendezvousWatchOptions;
  readonly #watched = new WeakSet<RefetchControl>();
  /** Rendezvous circuits waiting for the service, by circuit id. */
  readonly #waiting = new Map<string, { serviceId: string; timer: NodeJS.Timeout }>();
  readonly #listeners = new Map<string, Set<StallListener>>();

  constructor(options: RendezvousWatchOptions) {
    this.#opts = options;
  }

  /**
   * Calls onStall if, while this watch is on, a rendezvous circuit for `serviceId` waits longer
   * than stallMs after its introduction was acked. Returns the function that ends the watch.
   */
  watch(serviceId: string, onStall: StallListener): () => void {
    this.#ensureSubscribed();
    let set = this.#listeners.get(serviceId);
    if (!set) this.#listeners.set(serviceId, (set = new Set()));
    set.add(onStall);
    return () => {
      set.delete(onStall);
      if (set.size === 0) this.#listeners.delete(serviceId);
    };
  }

  #onCircuitEvent(control: RefetchControl, event: ControlEvent): void {
    const { positional, values } = parseKeywords(event.text);
    const [id, status] = positional;
    if (id === undefined) return;
    const hsState = values.get('HS_STATE');
    const serviceId = values.get('REND_QUERY')?.toLowerCase().replace(/\.onion$/, '');
    const ended = status === 'CLOSED' || status === 'FAILED' || hsState === 'HSCR_JOINED';
    if (ended || (hsState !== undefined && hsState !== 'HSCR_ESTABLISHED_WAITING')) {
      this.#clear(id);
      return;
    }
    if (hsState !== 'HSCR_ESTABLISHED_WAITING' || !serviceId || this.#waiting.has(id)) return;
    const stallMs = this.#opts.stallMs ?? DEFAULT_RENDEZVOUS_STALL_MS;
    const timer = setTimeout(() => {
      this.#waiting.delete(id);
      const detail = `rendezvous stalled: the introduction was acked but the service did not join within ${stallMs} ms`;
      log.info('rendezvous stalled', { onion: serviceId, circuit: id, stallMs });
      // Closed, or tor attaches the next stream to this same dead circuit ("pending-join circ
      // already here, with intro ack. Stalling.") and that connect hangs with no event to see.
      control.command(`CLOSECIRCUIT ${id}`).catch((err: unknown) => log.debug('could not close the stalled circuit', { circuit: id, err }));
      for (const l of [...(this.#listeners.get(serviceId) ?? [])]) l(detail);
    }, stallMs);
    timer.unref();
    this.#waiting.set(id, { serviceId, timer });
    log.debug('introduction acked; waiting for the service to join', { onion: serviceId, circuit: id });
  }

  #clear(id: string): void {
    const w = this.#waiting.get(id);
    if (!w) return;
    clearTimeout(w.timer);
    this.#waiting.delete(id);
  }

  #ensureSubscribed(): void {
    let control: RefetchControl;
    try {
      control = this.#opts.control();
    } catch {
      return; // tor is between runs: the next watch subscribes on the new connection
    }
    if (this.#watched.has(control)) return;
    this.#watched.add(control);
    const off = ['CIRC', 'CIRC_MINOR'].map((name) => control.on(name, (e) => this.#onCircuitEvent(control, e)));
    control.subscribe('CIRC', 'CIRC_MINOR').catch((err: unknown) => {
      for (const o of off) o();
      this.#watched.delete(control);
      log.warn('cannot follow rendezvous circuits; a stalled one ends only at the connect timeout', { err });
    });
  }
}
