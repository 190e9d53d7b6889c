// v3 onion client authorisation ("restricted discovery", rend-spec-v3 §2.5.1.2): each contact has
// an x25519 keypair; the service lists contacts' public keys (ClientAuthV3=, base32, 52 chars) and
// each client gives tor its private key (ONION_CLIENT_AUTH_ADD ... x25519:<base64>).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { base32Decode, base32Encode } from './base32.js';
import type { ControlConnection } from './control-connection.js';
import { parseOnionAddress } from './onion-key.js';

export interface ClientAuthKeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

const pkcs8X25519Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function generateClientAuthKeyPair(): ClientAuthKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  return clientAuthKeyPairFromPrivate(Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
}

export function clientAuthKeyPairFromPrivate(privateKey: Uint8Array): ClientAuthKeyPair {
  if (privateKey.length !== 32) throw new TypeError(`an x25519 private key is 32 bytes, got ${privateKey.length}`);
  const key = createPrivateKey({ key: Buffer.concat([pkcs8X25519Prefix, privateKey]), format: 'der', type: 'pkcs8' });
  return { publicKey: raw(createPublicKey(key)), privateKey: Uint8Array.from(privateKey) };
}

/** Tor's ClientAuthV3 form: base32, uppercase, no padding (52 chars). */
export function encodeClientAuthPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new TypeError(`an x25519 public key is 32 bytes, got ${publicKey.length}`);
  return base32Encode(publicKey);
}

/** Accepts "<52 base32>" or tor's file form "descriptor:x25519:<52 base32>". Throws TypeError. */
export function parseClientAuthPublicKey(text: string): Uint8Array {
  const body = text.trim().replace(/^descriptor:x25519:/i, '');
  if (!/^[A-Za-z2-7]{52}$/.test(body)) {
    throw new TypeError(`not an x25519 client-auth public key (52 base32 characters): ${JSON.stringify(text)}`);
  }
  return base32Decode(body);
}

/** The value ONION_CLIENT_AUTH_ADD takes after "x25519:" (base64 with padding). Secret. */
export function encodeClientAuthPrivateKey(privateKey: Uint8Array): string {
  if (privateKey.length !== 32) throw new TypeError(`an x25519 private key is 32 bytes, got ${privateKey.length}`);
  return Buffer.from(privateKey).toString('base64');
}

export interface AddClientAuthOptions {
  /** A label tor shows in ONION_CLIENT_AUTH_VIEW. */
  clientName?: string;
}

/**
 * Gives tor our private key for a contact's restricted onion, so it can decrypt that descriptor.
 * Lives only in tor's memory: call again after a tor restart (the supervisor's onReady does).
 */
export async function addClientAuth(
  control: ControlConnection,
  onionAddress: string,
  privateKey: Uint8Array,
  options: AddClientAuthOptions = {},
): Promise<void> {
  const { serviceId } = parseOnionAddress(onionAddress);
  const secret = encodeClientAuthPrivateKey(privateKey);
  let command = `ONION_CLIENT_AUTH_ADD ${serviceId} x25519:${secret}`;
  if (options.clientName !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(options.clientName)) {
      throw new TypeError('clientName must be 1–16 letters, digits, "_" or "-"');
    }
    command += ` ClientName=${options.clientName}`;
  }
  await control.command(command, [secret]); // 250 OK, or 252 when tor already held (and now decrypted) the descriptor
}

export async function removeClientAuth(control: ControlConnection, onionAddress: string): Promise<void> {
  await control.command(`ONION_CLIENT_AUTH_REMOVE ${parseOnionAddress(onionAddress).serviceId}`);
}

function raw(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url'));
}
