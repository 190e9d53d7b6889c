// The tor layer as the rest of the firmware uses it. Start one supervised tor, publish the radio's
// onion service, register contacts' client-auth keys, and open streams through SOCKS.
import { addClientAuth as addClientAuthOnce } from './client-auth.js';
import { OnionService, type OnionServiceOptions } from './onion-service.js';
import { TorSupervisor, type TorSupervisorOptions } from './tor-supervisor.js';

export { TorSupervisor, type TorSupervisorOptions } from './tor-supervisor.js';
export { TorStatusStream, ledPatternFor, type TorStatus, type TorLedPattern } from './tor-status.js';
export { OnionService } from './onion-service.js';
export { socksConnect, type SocksConnectOptions } from './socks5-client.js';
export { SocksError, type SocksFailure } from './socks-error.js';
export { ControlConnection, type ControlEvent } from './control-connection.js';
export { stopProcess, waitForExit } from './process-stop.js';
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

/** Gives tor our client-auth key for a contact's onion, now and after every restart. */
export async function addClientAuth(tor: TorInstance, onionAddress: string, privateKey: Uint8Array): Promise<void> {
  await addClientAuthOnce(tor.control, onionAddress, privateKey);
  await tor.onReady((control) => addClientAuthOnce(control, onionAddress, privateKey), false);
}
