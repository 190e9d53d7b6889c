// The radio's onion identity: an ed25519 key generated once and kept for life, so contacts can
// keep the same address. Stored as a PKCS#8 PEM (openssl can read it) with mode 0600.
// Tor's ADD_ONION wants the *expanded* secret key (rend-spec-v3 / tor's ed25519 format):
// SHA-512(seed), first half clamped as for X25519/ed25519 scalars, then the second half.
// The .onion address (rend-spec-v3 §6): base32(pubkey ‖ checksum[0..2] ‖ version), with
// checksum = SHA3-256(".onion checksum" ‖ pubkey ‖ version) and version 0x03.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { base32Decode, base32Encode } from './base32.js';
import { OnionKeyError } from './errors.js';

export interface OnionKey {
  /** The 32-byte ed25519 seed (the secret). */
  seed: Uint8Array;
  publicKey: Uint8Array;
  /** 64-byte expanded secret key, as tor stores and ADD_ONION takes it. */
  expandedKey: Uint8Array;
  /** 56-character service id, lowercase, without ".onion". */
  serviceId: string;
}

const pkcs8Ed25519Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

export function onionKeyFromSeed(seed: Uint8Array): OnionKey {
  if (seed.length !== 32) throw new TypeError(`an ed25519 seed is 32 bytes, got ${seed.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Ed25519Prefix, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  const hash = createHash('sha512').update(seed).digest();
  hash[0] = (hash[0] as number) & 248;
  hash[31] = ((hash[31] as number) & 127) | 64;
  return { seed: Uint8Array.from(seed), publicKey, expandedKey: new Uint8Array(hash), serviceId: serviceIdFromPublicKey(publicKey) };
}

export function generateOnionKey(): OnionKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return onionKeyFromSeed(Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
}

export function serviceIdFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new TypeError(`an ed25519 public key is 32 bytes, got ${publicKey.length}`);
  const version = Buffer.from([3]);
  const checksum = createHash('sha3-256').update('.onion checksum').update(publicKey).update(version).digest().subarray(0, 2);
  return base32Encode(Buffer.concat([publicKey, checksum, version])).toLowerCase();
}

/**
 * Validates a v3 address ("<56 chars>" or "<56 chars>.onion", any case) and returns its service id
 * and public key. Throws TypeError naming what is wrong.
 */
export function parseOnionAddress(address: string): { serviceId: string; publicKey: Uint8Array } {
  const serviceId = address.toLowerCase().replace(/\.onion$/, '');
  if (!/^[a-z2-7]{56}$/.test(serviceId)) throw new TypeError(`not a v3 onion address: ${JSON.stringify(address)}`);
  const bytes = base32Decode(serviceId);
  const publicKey = bytes.subarray(0, 32);
  if (bytes[34] !== 3) throw new TypeError(`onion address ${serviceId} has version ${bytes[34]}, not 3`);
  if (serviceIdFromPublicKey(publicKey) !== serviceId) throw new TypeError(`onion address ${serviceId} has a bad checksum`);
  return { serviceId, publicKey: Uint8Array.from(publicKey) };
}

/** The key argument for ADD_ONION. Secret: never log it. */
export function addOnionKeyBlob(key: OnionKey): string {
  return `ED25519-V3:${Buffer.from(key.expandedKey).toString('base64')}`;
}

/** Loads the key at `path`, or creates it (mode 0600, written atomically) if there is none. */
export async function loadOrCreateOnionKey(path: string): Promise<OnionKey> {
  const existing = await loadOnionKey(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing) return existing;
  const key = generateOnionKey();
  const pem = createPrivateKey({
    key: Buffer.concat([pkcs8Ed25519Prefix, key.seed]),
    format: 'der',
    type: 'pkcs8',
  }).export({ format: 'pem', type: 'pkcs8' }) as string;
  const temp = `${path}.${process.pid}.tmp`;
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await file.writeFile(pem);
    await file.sync(); // the identity must survive a power cut right after first boot
  } finally {
    await file.close();
  }
  try {
    // link-free "create if absent": if another process won the race, keep its key.
    await stat(path);
    await unlink(temp);
    return loadOnionKey(path);
  } catch {
    await rename(temp, path);
    return key;
  }
}

/** Reads a key written by loadOrCreateOnionKey. Throws OnionKeyError (or ENOENT as is). */
export async function loadOnionKey(path: string): Promise<OnionKey> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new OnionKeyError(path, `readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  const file = await open(path, 'r');
  let text: string;
  try {
    text = await file.readFile('utf8');
  } finally {
    await file.close();
  }
  let seed: Buffer;
  try {
    const key = createPrivateKey({ key: text, format: 'pem' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`it is a ${key.asymmetricKeyType} key`);
    seed = Buffer.from(key.export({ format: 'jwk' }).d as string, 'base64url');
  } catch (err) {
    throw new OnionKeyError(path, `not an ed25519 private key PEM (${(err as Error).message})`);
  }
  return onionKeyFromSeed(seed);
}

function rawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url'));
}
