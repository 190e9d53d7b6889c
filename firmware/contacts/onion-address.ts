// v3 onion address checks for contact cards, on top of firmware/tor/onion-key.ts (rend-spec-v3
// §6 encoding and checksum), so a card with a mistyped address is refused when it is added, not
// when tor fails to find the descriptor minutes later.
import { parseOnionAddress, serviceIdFromPublicKey } from '../tor/onion-key.js';

export function onionAddressFromPublicKey(publicKey: Uint8Array): string {
  return `${serviceIdFromPublicKey(publicKey)}.onion`;
}

/** True for "<56 base32>.onion" (any case) with version 3 and a valid checksum. */
export function isOnionV3(address: string): boolean {
  if (!/\.onion$/i.test(address)) return false;
  try {
    parseOnionAddress(address);
    return true;
  } catch {
    return false;
  }
}
