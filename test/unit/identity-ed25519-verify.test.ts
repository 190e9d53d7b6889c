// Ed25519 checks against contacts' base64url keys, with the key objects kept between checks.
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { cachedKeyCount, verifyEd25519 } from '../../firmware/identity/ed25519-verify.js';

function keyPair(): { id: string; sign(m: Uint8Array): Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const id = publicKey.export({ format: 'jwk' }).x!;
  return { id, sign: (m) => new Uint8Array(sign(null, m, privateKey)) };
}

describe('verifyEd25519', () => {
  const message = new TextEncoder().encode('torlk test message');

  it('accepts the signer\'s signature, every time (the kept key object gives the same answer)', () => {
    const k = keyPair();
    const sig = k.sign(message);
    for (let i = 0; i < 3; i++) expect(verifyEd25519(k.id, message, sig)).toBe(true);
  });

  it('refuses another message, another signer, a flipped bit, and malformed keys or signatures', () => {
    const k = keyPair();
    const other = keyPair();
    const sig = k.sign(message);
    expect(verifyEd25519(k.id, new TextEncoder().encode('torlk test messagE'), sig)).toBe(false);
    expect(verifyEd25519(other.id, message, sig)).toBe(false);
    const flipped = sig.slice();
    flipped[10]! ^= 1;
    expect(verifyEd25519(k.id, message, flipped)).toBe(false);
    expect(verifyEd25519(k.id, message, sig.subarray(0, 63))).toBe(false);
    expect(verifyEd25519('not a key', message, sig)).toBe(false);
    expect(verifyEd25519(k.id.slice(0, 42), message, sig)).toBe(false);
    expect(verifyEd25519('A'.repeat(43), message, sig)).toBe(false); // well-formed, but not this signer
  });

  it('keeps a bounded number of key objects', () => {
    const keys = Array.from({ length: 80 }, keyPair);
    for (const k of keys) expect(verifyEd25519(k.id, message, k.sign(message))).toBe(true);
    expect(cachedKeyCount()).toBeLessThanOrEqual(64);
    // An evicted key is made again and still verifies.
    expect(verifyEd25519(keys[0]!.id, message, keys[0]!.sign(message))).toBe(true);
  });
});
