// v3 onion addresses (tor rend-spec-v3, "Encoding onion addresses"):
//   base32(PUBKEY | CHECKSUM | VERSION) + ".onion", CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2], VERSION = 3.
// Checked here so a contact card with a mistyped address is refused when it is added, not when
// tor fails to find the descriptor minutes later.
import { createHash } from 'node:crypto';
import { base32Decode, base32Encode } from '../tor/base32.js';

export function onionAddressFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new TypeError('an onion public key is 32 bytes');
  const checksum = createHash('sha3-256').update('.onion checksum').update(publicKey).update(Uint8Array.of(3)).digest();
  const raw = new Uint8Array(35);
  raw.set(publicKey);
  raw.set(checksum.subarray(0, 2), 32);
  raw[34] = 3;
  return `${base32Encode(raw).toLowerCase()}.onion`;
}

/** True for a well-formed v3 address ("<56 base32>.onion", any case) with a valid checksum. */
export function isOnionV3(address: string): boolean {
  const m = /^([a-z2-7]{56})\.onion$/i.exec(address);
  if (!m) return false;
  const raw = base32Decode(m[1]!);
  if (raw[34] !== 3) return false;
  return onionAddressFromPublicKey(raw.subarray(0, 32)) === address.toLowerCase();
}
