// Device identity: init creates four 0600 key files, refuses to overwrite, loads back the same
// keys, and every bad key file gets an IdentityError naming it.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDeviceIdentity, KEY_FILES, loadDeviceIdentity, ownContact } from '../../firmware/identity/device-identity.js';
import { IdentityError } from '../../firmware/identity/identity-error.js';
import { resolveDataDir } from '../../firmware/identity/data-dir.js';
import { AgeKeyFileError, formatAgeKeyFile, parseAgeKeyFile } from '../../firmware/identity/age-key-file.js';
import { SigningKey } from '../../firmware/identity/signing-key.js';
import { ClientAuthKey, OnionKey } from '../../firmware/identity/onion-keys.js';
import { isOnionV3 } from '../../firmware/contacts/onion-address.js';
import { checkContact } from '../../firmware/contacts/contact-card.js';
import { addOnionKeyBlob, loadOnionKey } from '../../firmware/tor/onion-key.js';
import { cleanup, tempDir } from './clip-fixtures.js';

afterAll(cleanup);

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(IdentityError);
  return (err as IdentityError).code;
}

describe('createDeviceIdentity / loadDeviceIdentity', () => {
  it('creates four private files and loads the same keys back', async () => {
    const dir = join(tempDir(), 'data');
    const { identity, created } = await createDeviceIdentity(dir);
    expect(created.map((p) => p.slice(dir.length + 1)).sort()).toEqual(Object.values(KEY_FILES).sort());
    for (const p of created) expect(statSync(p).mode & 0o777).toBe(0o600);
    const loaded = await loadDeviceIdentity(dir);
    expect(loaded.ageRecipient).toBe(identity.ageRecipient);
    expect(loaded.signer.id).toBe(identity.signer.id);
    expect(loaded.onion.address).toBe(identity.onion.address);
    expect(loaded.clientAuth.publicKey).toBe(identity.clientAuth.publicKey);
    expect(isOnionV3(loaded.onion.address)).toBe(true);
    expect(() => checkContact(ownContact(loaded, 'me'))).not.toThrow();
    // The tor supervisor reads the same file with firmware/tor's loader and gets the same address.
    const torKey = await loadOnionKey(join(dir, KEY_FILES.onion));
    expect(`${torKey.serviceId}.onion`).toBe(identity.onion.address);
    expect(addOnionKeyBlob(torKey)).toBe(identity.onion.serviceKey());
  });

  it('writes the age identity in age-keygen\'s format, usable by the age CLI', async () => {
    const dir = tempDir();
    const { identity } = await createDeviceIdentity(dir);
    const text = readFileSync(join(dir, KEY_FILES.age), 'utf8');
    expect(text).toMatch(/^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n# public key: age1[a-z0-9]{58}\nAGE-SECRET-KEY-1[A-Z0-9]{58}\n$/);
    // age-keygen -y prints the recipient of a key file: it must agree with ours.
    expect(execFileSync('age-keygen', ['-y', join(dir, KEY_FILES.age)]).toString().trim()).toBe(identity.ageRecipient);
  });

  it('refuses to overwrite existing keys', async () => {
    const dir = tempDir();
    await createDeviceIdentity(dir);
    const before = readFileSync(join(dir, KEY_FILES.signing), 'utf8');
    expect(await code(createDeviceIdentity(dir))).toBe('exists');
    expect(readFileSync(join(dir, KEY_FILES.signing), 'utf8')).toBe(before);
  });

  it('missing, world-readable and garbled key files each say which file', async () => {
    const dir = tempDir();
    expect(await code(loadDeviceIdentity(dir))).toBe('missing');
    await createDeviceIdentity(dir);
    chmodSync(join(dir, KEY_FILES.onion), 0o644);
    const err = await loadDeviceIdentity(dir).catch((e: IdentityError) => e);
    expect(err).toMatchObject({ code: 'unsafe-permissions', path: join(dir, KEY_FILES.onion) });
    chmodSync(join(dir, KEY_FILES.onion), 0o600);
    for (const name of Object.values(KEY_FILES)) {
      const path = join(dir, name);
      const keep = readFileSync(path, 'utf8');
      writeFileSync(path, 'garbage\n', { mode: 0o600 });
      const e = await loadDeviceIdentity(dir).catch((x: IdentityError) => x);
      expect(e).toMatchObject({ code: 'bad-file', path });
      writeFileSync(path, keep, { mode: 0o600 });
    }
    // A key of the wrong type in the right place.
    writeFileSync(join(dir, KEY_FILES.clientAuth), SigningKey.generate().toPem(), { mode: 0o600 });
    expect(await code(loadDeviceIdentity(dir))).toBe('bad-file');
  });

  it('cannot create a data dir under a file', async () => {
    const file = join(tempDir(), 'f');
    writeFileSync(file, '');
    expect(await code(createDeviceIdentity(join(file, 'data')))).toBe('no-data-dir');
  });
});

describe('age key file', () => {
  it('round-trips and reads age-keygen\'s own output', async () => {
    const out = execFileSync('age-keygen', { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const { identity, recipient } = await parseAgeKeyFile(out);
    expect(out).toContain(`# public key: ${recipient}`);
    expect((await parseAgeKeyFile(formatAgeKeyFile(identity, recipient))).recipient).toBe(recipient);
  });

  it.each([
    ['empty', ''],
    ['two identities', 'AGE-SECRET-KEY-1' + 'Q'.repeat(58) + '\nAGE-SECRET-KEY-1' + 'Q'.repeat(58)],
    ['a stray line', 'hello\n'],
    ['a post-quantum key', 'AGE-SECRET-KEY-PQ-1ABC\n'],
  ])('rejects %s', async (_what, text) => {
    await expect(parseAgeKeyFile(text)).rejects.toBeInstanceOf(AgeKeyFileError);
  });

  it('rejects a "# public key" comment that does not match', async () => {
    const a = execFileSync('age-keygen', { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const b = execFileSync('age-keygen', { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const mixed = a.split('\n').filter((l) => l.startsWith('# public')).concat(b.split('\n').filter((l) => l.startsWith('AGE-'))).join('\n');
    await expect(parseAgeKeyFile(mixed)).rejects.toThrow(/does not match/);
  });
});

describe('data dir and tor keys', () => {
  it('picks --data, then TORLK_DATA, then a writable device dir, then ~/.torlk', () => {
    const device = tempDir();
    expect(resolveDataDir({ flag: '/x/y', env: { TORLK_DATA: '/z' } })).toBe('/x/y');
    expect(resolveDataDir({ env: { TORLK_DATA: '/z' }, deviceDir: device })).toBe('/z');
    expect(resolveDataDir({ env: {}, deviceDir: device, home: '/home/u' })).toBe(device);
    expect(resolveDataDir({ env: {}, deviceDir: join(device, 'absent'), home: '/home/u' })).toBe('/home/u/.torlk');
  });

  it('derives tor\'s expanded onion key and base32 client-auth key', () => {
    const onion = OnionKey.generate();
    const expanded = Buffer.from(onion.serviceKey().replace(/^ED25519-V3:/, ''), 'base64');
    expect(expanded.length).toBe(64);
    expect(expanded[0]! & 7).toBe(0); // clamped scalar
    expect(expanded[31]! & 0xc0).toBe(0x40);
    expect(OnionKey.fromPem(onion.toPem()).address).toBe(onion.address);
    const ca = ClientAuthKey.generate();
    expect(ca.publicKey).toMatch(/^[A-Z2-7]{52}$/);
    expect(Buffer.from(ca.clientAuthSecret().replace(/^x25519:/, ''), 'base64').length).toBe(32);
    expect(() => OnionKey.fromPem(ca.toPem())).toThrow(TypeError);
  });
});
