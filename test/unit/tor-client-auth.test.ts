import { execFileSync } from 'node:child_process';
import { diffieHellman, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { base32Decode } from '../../firmware/tor/base32.js';
import {
  clientAuthKeyPairFromPrivate,
  encodeClientAuthPrivateKey,
  encodeClientAuthPublicKey,
  generateClientAuthKeyPair,
  parseClientAuthPublicKey,
} from '../../firmware/tor/client-auth.js';

describe('x25519 client-auth keys', () => {
  it('derives the same public key as openssl does for an x25519 key it generated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'torlk-x25519-'));
    try {
      const pem = join(dir, 'k.pem');
      execFileSync('openssl', ['genpkey', '-algorithm', 'x25519', '-out', pem]);
      const text = execFileSync('openssl', ['pkey', '-in', pem, '-noout', '-text'], { encoding: 'utf8' });
      const hexBlock = (label: string) =>
        new RegExp(`${label}:\\n((?:\\s+[0-9a-f:]+\\n)+)`).exec(text)![1]!.replace(/[\s:]/g, '');
      const pair = clientAuthKeyPairFromPrivate(Buffer.from(hexBlock('priv'), 'hex'));
      expect(Buffer.from(pair.publicKey).toString('hex')).toBe(hexBlock('pub'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('encodes the public key as tor’s ClientAuthV3 wants: 52 base32 chars, uppercase, no padding', () => {
    const pair = generateClientAuthKeyPair();
    const text = encodeClientAuthPublicKey(pair.publicKey);
    expect(text).toMatch(/^[A-Z2-7]{52}$/);
    expect(Buffer.from(parseClientAuthPublicKey(text))).toEqual(Buffer.from(pair.publicKey));
    expect(Buffer.from(parseClientAuthPublicKey(`descriptor:x25519:${text.toLowerCase()}`))).toEqual(Buffer.from(pair.publicKey));
    expect(Buffer.from(base32Decode(text))).toEqual(Buffer.from(pair.publicKey));
  });

  it('encodes the private key as base64 with padding (ONION_CLIENT_AUTH_ADD x25519:...)', () => {
    const pair = generateClientAuthKeyPair();
    const text = encodeClientAuthPrivateKey(pair.privateKey);
    expect(text).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(text, 'base64')).toEqual(Buffer.from(pair.privateKey));
  });

  it('generates pairs that agree on a shared secret (the key really is x25519)', () => {
    const a = generateClientAuthKeyPair();
    const b = generateClientAuthKeyPair();
    const toPriv = (k: Uint8Array) =>
      createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), k]), format: 'der', type: 'pkcs8' });
    const ab = diffieHellman({ privateKey: toPriv(a.privateKey), publicKey: createPublicKey(toPriv(b.privateKey)) });
    const ba = diffieHellman({ privateKey: toPriv(b.privateKey), publicKey: createPublicKey(toPriv(a.privateKey)) });
    expect(ab).toEqual(ba);
  });

  it('rejects keys of the wrong size or encoding', () => {
    expect(() => clientAuthKeyPairFromPrivate(new Uint8Array(31))).toThrow(TypeError);
    expect(() => encodeClientAuthPublicKey(new Uint8Array(33))).toThrow(TypeError);
    expect(() => encodeClientAuthPrivateKey(new Uint8Array(0))).toThrow(TypeError);
    expect(() => parseClientAuthPublicKey('A'.repeat(51))).toThrow(/52 base32/);
    expect(() => parseClientAuthPublicKey('1'.repeat(52))).toThrow(TypeError);
    expect(() => parseClientAuthPublicKey('descriptor:ed25519:' + 'A'.repeat(52))).toThrow(TypeError);
  });
});
