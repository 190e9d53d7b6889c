// Ed25519 signature checks against contacts' raw public keys (base64url, as on contact cards).
// node:crypto needs a KeyObject, and making one costs as much as the check itself (~75 us against
// ~85 us here): the receiver checks every clip and the sender every receipt against the same few
// contacts, so the objects are kept, a bounded number of them.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

const MAX_KEYS = 64;
const keys = new Map<string, KeyObject>();

function publicKey(id: string): KeyObject {
  let key = keys.get(id);
  if (key) return key;
  key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: id }, format: 'jwk' });
  // Oldest first out: a Map iterates in insertion order.
  if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
  keys.set(id, key);
  return key;
}

/** Whether `signature` is `id`'s Ed25519 signature of `message`; false for any malformed key or signature. */
export function verifyEd25519(id: string, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || !/^[A-Za-z0-9_-]{43}$/.test(id)) return false;
  try {
    return verify(null, message, publicKey(id), signature);
  } catch {
    return false;
  }
}

/** How many key objects are held (tests: the cache stays bounded). */
export function cachedKeyCount(): number {
  return keys.size;
}
