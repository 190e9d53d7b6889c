// The tor layer as the rest of the firmware uses it. Start one supervised tor, publish the radio's
// onion service, register contacts' client-auth keys, and open streams through SOCKS.
import { addClientAuth as addClientAuthOnce } from './client-auth.js';
import { OnionService, type OnionServiceOptions } from './onion-service.js';
import { TorSupervisor, type TorSupervisorOptions } from './tor-supervisor.js';

export { TorSupervisor, type TorSupervisorOptions } from './tor-supervisor.js';
export { TorStatusStream, type TorStatus } from './tor-status.js';
export { OnionService, type ServicePort } from './onion-service.js';
export { socksConnect, type SocksConnectOptions } from './socks5-client.js';
export { SocksError, type SocksFailure } from './socks-error.js';
export { ControlConnection, type ControlEvent } from './control-connection.js';
export { stopProcess, waitForExit } from './process-stop.js';
export { OnionRefetcher, isStaleOnionFailure, type OnionRefetcherOptions, type RefetchOutcome } from './onion-refetch.js';
export { RendezvousWatch, type RendezvousWatchOptions } from './rendezvous-watch.js';
export { loadOrCreateOnionKey, parseOnionAddress, type OnionKey } from './onion-key.js';
export {
  generateClientAuthKeyPair,
  encodeClientAuthPublicKey,
  parseClientAuthPublicKey,
  clientAuthKeyPairFromPrivate,
  type ClientAuthKeyPair,
} from './client-auth.js';
export * from './errors.js';

/** A running, supervised tor: `socksPort`, `control`, `status`, `stop()`. */
export type TorInstance = TorSupervisor;

/** Starts tor (after the clock check) and resolves once its control port is authenticated. */
export async function startTor(options: TorSupervisorOptions): Promise<TorInstance> {
  const tor = new TorSupervisor(options);
  await tor.start();
  return tor;
}

export interface PublishOnionOptions extends OnionServiceOptions {
  tor: TorInstance;
}

/** Publishes the onion service now and again after every tor restart. */
export async function publishOnion(options: PublishOnionOptions): Promise<{ address: string; service: OnionService }> {
  const { tor, ...serviceOptions } = options;
  const service = new OnionService(serviceOptions);
  await service.publish(tor.control); // first publish reports its error to the caller
  await tor.onReady((control) => service.publish(control), false);
  return { address: service.address, service };
}

// Client-auth keys given to each tor, so they can be given again: tor forgets them on restart and
// also on SIGNAL NEWNYM (it purges non-permanent client auth with the rest of its onion state).
const clientAuthKeys = new WeakMap<TorInstance, Map<string, Uint8Array>>();

/** Gives tor our client-auth key for a contact's onion, now and after every restart. */
export async function addClientAuth(tor: TorInstance, onionAddress: string, privateKey: Uint8Array): Promise<void> {
  await addClientAuthOnce(tor.control, onionAddress, privateKey);
  let keys = clientAuthKeys.get(tor);
  if (!keys) {
    const fresh = new Map<string, Uint8Array>();
    clientAuthKeys.set(tor, (keys = fresh));
    await tor.onReady(async (control) => {
      for (const [onion, key] of fresh) await addClientAuthOnce(control, onion, key);
    }, false);
  }
  keys.set(onionAddress, privateKey);
}

/**
 * SIGNAL NEWNYM: new circuits and a cold onion-service state (fresh descriptors and intro points),
 * the remedy for a stalled rendezvous. Re-adds the client-auth keys NEWNYM throws away.
 */
export async function newCircuits(tor: TorInstance): Promise<void> {
  const control = tor.control;
  await control.command('SIGNAL NEWNYM');
  for (const [onion, key] of clientAuthKeys.get(tor) ?? []) await addClientAuthOnce(control, onion, key);
}
