import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { base32Decode, base32Encode } from '../../firmware/tor/base32.js';
import { OnionKeyError } from '../../firmware/tor/errors.js';
import {
  addOnionKeyBlob,
  generateOnionKey,
  loadOnionKey,
  loadOrCreateOnionKey,
  onionKeyFromSeed,
  parseOnionAddress,
  serviceIdFromPublicKey,
} from '../../firmware/tor/onion-key.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'torlk-onion-key-'));
  dirs.push(d);
  return d;
};

describe('base32 (RFC 4648 §10 vectors)', () => {
  const vectors: Array<[string, string]> = [
    ['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI'],
  ];
  it.each(vectors)('%j ↔ %s', (plain, encoded) => {
    expect(base32Encode(Buffer.from(plain))).toBe(encoded);
    expect(Buffer.from(base32Decode(encoded)).toString()).toBe(plain);
    expect(Buffer.from(base32Decode(encoded.toLowerCase() + '===')).toString()).toBe(plain);
  });
  it('rejects characters outside the alphabet', () => {
    expect(() => base32Decode('MZ1W')).toThrow(TypeError);
  });
});

describe('onion key derivation', () => {
  it('matches the ServiceID tor 0.4.9.11 gave for the seed 32 × 0x07 (recorded in test/fixtures/tor)', () => {
    const key = onionKeyFromSeed(Buffer.alloc(32, 7));
    expect(key.serviceId).toBe('5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxqd');
    const recorded = readFileSync(new URL('../fixtures/tor/control-session.server.bin', import.meta.url), 'latin1');
    expect(recorded).toContain(`ServiceID=${key.serviceId}`);
  });

  it('derives the RFC 8032 test-1 public key and a clamped expanded key', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const key = onionKeyFromSeed(seed);
    expect(Buffer.from(key.publicKey).toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(key.expandedKey).toHaveLength(64);
    expect(key.expandedKey[0]! & 7).toBe(0);
    expect(key.expandedKey[31]! & 0xc0).toBe(0x40);
    expect(addOnionKeyBlob(key)).toMatch(/^ED25519-V3:[A-Za-z0-9+/]{86}==$/);
  });

  it('round-trips an address through parseOnionAddress, with or without .onion, any case', () => {
    const key = generateOnionKey();
    for (const form of [key.serviceId, `${key.serviceId}.onion`, key.serviceId.toUpperCase()]) {
      const parsed = parseOnionAddress(form);
      expect(parsed.serviceId).toBe(key.serviceId);
      expect(Buffer.from(parsed.publicKey)).toEqual(Buffer.from(key.publicKey));
    }
    expect(serviceIdFromPublicKey(key.publicKey)).toBe(key.serviceId);
  });

  it('rejects malformed addresses: length, alphabet, checksum, version', () => {
    const id = onionKeyFromSeed(Buffer.alloc(32, 7)).serviceId;
    expect(() => parseOnionAddress(id.slice(1))).toThrow(/not a v3 onion address/);
    expect(() => parseOnionAddress(`${id.slice(0, -1)}1`)).toThrow(/not a v3 onion address/);
    const flipped = (id[0] === 'a' ? 'b' : 'a') + id.slice(1);
    expect(() => parseOnionAddress(flipped)).toThrow(/bad checksum/);
    const raw = base32Decode(id);
    raw[34] = 4;
    expect(() => parseOnionAddress(base32Encode(raw).toLowerCase())).toThrow(/version 4/);
    expect(() => onionKeyFromSeed(new Uint8Array(31))).toThrow(TypeError);
  });
});

describe('onion key file', () => {
  it('is created once with mode 0600 and reloads to the same identity', async () => {
    const path = join(tempDir(), 'onion-key.pem');
    const first = await loadOrCreateOnionKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateOnionKey(path);
    expect(again.serviceId).toBe(first.serviceId);
    // openssl reads it: it is a standard PKCS#8 ed25519 key.
    const text = execFileSync('openssl', ['pkey', '-in', path, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/ED25519 Private-Key/);
  });

  it('refuses a key file others can read', async () => {
    const path = join(tempDir(), 'onion-key.pem');
    await loadOrCreateOnionKey(path);
    chmodSync(path, 0o644);
    await expect(loadOnionKey(path)).rejects.toThrow(OnionKeyError);
    await expect(loadOnionKey(path)).rejects.toThrow(/chmod 600/);
  });

  it('refuses a corrupt or non-ed25519 key file, and does not overwrite it', async () => {
    const dir = tempDir();
    const corrupt = join(dir, 'corrupt.pem');
    writeFileSync(corrupt, 'not a key', { mode: 0o600 });
    await expect(loadOrCreateOnionKey(corrupt)).rejects.toThrow(OnionKeyError);
    expect(readFileSync(corrupt, 'utf8')).toBe('not a key');
    const x25519 = join(dir, 'x.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'x25519', '-out', x25519]);
    chmodSync(x25519, 0o600);
    await expect(loadOnionKey(x25519)).rejects.toThrow(/x25519/);
  });

  it('reports a missing directory as the filesystem error', async () => {
    await expect(loadOrCreateOnionKey(join(tempDir(), 'no', 'such', 'key.pem'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
