// The radio's onion service: ADD_ONION with our persistent key, Flags=Detach (it outlives the
// control connection) and V3Auth (restricted discovery: only listed contacts can fetch the
// descriptor), virtual port 80 → the local HTTP receiver on 127.0.0.1. Proof-of-work defenses are
// asked for and dropped only if this tor does not know the keyword. Detached services live in
// tor's memory, so publish() runs again after every tor restart (see attach()).
import { createLog } from '../log.js';
import { encodeClientAuthPublicKey } from './client-auth.js';
import type { ControlConnection, ControlEvent } from './control-connection.js';
import { parseKeywords } from './control-keywords.js';
import { replyKeyValues } from './control-reply-parser.js';
import { ControlReplyError, TorError } from './errors.js';
import { addOnionKeyBlob, type OnionKey } from './onion-key.js';
import type { TorSupervisor } from './tor-supervisor.js';

const log = createLog('tor:onion');

/** One `Port=` of the service: a virtual port on the .onion → a port on 127.0.0.1. */
export interface ServicePort {
  readonly virtualPort: number;
  readonly localPort: number;
}

export interface OnionServiceOptions {
  key: OnionKey;
  /** Port of the local receiver on 127.0.0.1. */
  localPort: number;
  /** The port contacts dial on the .onion; default 80. */
  virtualPort?: number;
  /** Contacts' x25519 client-auth public keys. Must not be empty: an open service is not offered. */
  authorizedClients: readonly Uint8Array[];
  /** Ask tor for PoW DoS defenses (default true; skipped if this tor lacks them). */
  powDefenses?: boolean;
  /**
   * More virtual ports on the same service, each to a port on 127.0.0.1. Only the e2e benchmark
   * sets one (an echo beside the receiver, so its round-trip reference crosses the talks' own
   * circuit); a radio's config has no way to, so a device publishes its receiver alone.
   */
  extraPorts?: readonly ServicePort[];
}

export class OnionService {
  readonly address: string;
  private powSupported: boolean;
  private readonly watched = new WeakSet<ControlConnection>();
  private readonly uploadedOn = new WeakSet<ControlConnection>();
  private readonly uploadWaiters = new Set<{ control: ControlConnection; done: () => void }>();

  /** The receiver's port first, then the extra ones. */
  private readonly ports: readonly ServicePort[];

  constructor(private readonly options: OnionServiceOptions) {
    this.ports = [{ virtualPort: options.virtualPort ?? 80, localPort: options.localPort }, ...(options.extraPorts ?? [])];
    for (const port of this.ports.flatMap((p) => [p.localPort, p.virtualPort])) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`not a TCP port: ${port}`);
    }
    const virtualPorts = this.ports.map((p) => p.virtualPort);
    // Tor would pick among the targets of a repeated virtual port at random, per stream.
    if (new Set(virtualPorts).size !== virtualPorts.length) throw new TypeError(`virtual port listed twice: ${virtualPorts.join(', ')}`);
    if (options.authorizedClients.length === 0) {
      throw new TypeError('an onion service needs at least one authorised contact (restricted discovery is always on)');
    }
    for (const client of options.authorizedClients) encodeClientAuthPublicKey(client); // TypeError on a bad key, now rather than at publish
    this.address = `${options.key.serviceId}.onion`;
    this.powSupported = options.powDefenses ?? true;
  }

  get serviceId(): string {
    return this.options.key.serviceId;
  }

  /** Publishes on this tor. Publishing twice on the same tor is harmless. */
  async publish(control: ControlConnection): Promise<void> {
    await this.watchUploads(control);
    try {
      await this.addOnion(control, this.powSupported);
    } catch (err) {
      if (this.powSupported && err instanceof ControlReplyError && /PoW/i.test(err.replyText)) {
        log.warn('this tor has no proof-of-work defenses; publishing without them');
        this.powSupported = false;
        await this.addOnion(control, false);
      } else if (err instanceof ControlReplyError && /collision/i.test(err.replyText)) {
        return; // already published on this tor
      } else throw err;
    }
  }

  /** Publishes now and after every restart of the supervised tor. Returns a detach function. */
  attach(tor: TorSupervisor): Promise<() => void> {
    return tor.onReady((control) => this.publish(control));
  }

  /**
   * Resolves once a descriptor of this service has reached an HSDir (HS_DESC UPLOADED) on this
   * control connection's tor — immediately if that already happened, since publish() starts
   * watching before its ADD_ONION, so an early upload is never missed.
   */
  async waitForUpload(control: ControlConnection, timeoutMs = 120_000): Promise<void> {
    if (this.uploadedOn.has(control)) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        control,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.uploadWaiters.delete(waiter);
        reject(new TorError(`descriptor of ${this.address} was not uploaded within ${timeoutMs} ms`));
      }, timeoutMs);
      this.uploadWaiters.add(waiter);
      this.watchUploads(control).catch((err: Error) => {
        clearTimeout(timer);
        this.uploadWaiters.delete(waiter);
        reject(err);
      });
    });
  }

  private async watchUploads(control: ControlConnection): Promise<void> {
    if (this.watched.has(control)) return;
    this.watched.add(control);
    control.on('HS_DESC', (event: ControlEvent) => {
      const { positional } = parseKeywords(event.text);
      if (positional[0] !== 'UPLOADED' || positional[1] !== this.serviceId) return;
      this.uploadedOn.add(control);
      for (const waiter of this.uploadWaiters) {
        if (waiter.control !== control) continue;
        this.uploadWaiters.delete(waiter);
        waiter.done();
      }
    });
    await control.subscribe('HS_DESC');
  }

  async remove(control: ControlConnection): Promise<void> {
    await control.command(`DEL_ONION ${this.serviceId}`);
  }

  private async addOnion(control: ControlConnection, pow: boolean): Promise<void> {
    const parts = [
      'ADD_ONION',
      addOnionKeyBlob(this.options.key),
      'Flags=Detach,V3Auth',
      ...(pow ? ['PoWDefensesEnabled=1'] : []),
      ...this.ports.map((p) => `Port=${p.virtualPort},127.0.0.1:${p.localPort}`),
      ...this.options.authorizedClients.map((k) => `ClientAuthV3=${encodeClientAuthPublicKey(k)}`),
    ];
    // Tor echoes an undecodable key in its error; the base64 part is the secret to blank out.
    const reply = await control.command(parts.join(' '), [Buffer.from(this.options.key.expandedKey).toString('base64')]);
    const serviceId = replyKeyValues(reply).get('ServiceID');
    if (serviceId !== this.serviceId) {
      throw new TorError(`tor published ${serviceId ?? 'nothing'} but our key derives ${this.serviceId}`);
    }
    log.info('onion published', { address: this.address, pow, clients: this.options.authorizedClients.length });
  }
}
