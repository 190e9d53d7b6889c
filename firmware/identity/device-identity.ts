// The device's identity: four private keys in the data directory, each its own file, mode 0600.
//   age-identity.txt     age X25519 identity in age-keygen's format (`age -d -i` uses it as is)
//   signing-key.pem      Ed25519 clip signing key (PKCS#8)
//   onion-key.pem        Ed25519 onion service key (PKCS#8 seed; tor gets the expanded form)
//   client-auth-key.pem  x25519 key this device presents to contacts' onion services
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { writeFileAtomic } from '../store/atomic-file.js';
import type { ClipIdentity } from '../clip/clip-types.js';
import type { Contact } from '../contacts/contact.js';
import { AgeKeyFileError, formatAgeKeyFile, parseAgeKeyFile } from './age-key-file.js';
import { IdentityError } from './identity-error.js';
import { ClientAuthKey, OnionKey } from './onion-keys.js';
import { SigningKey } from './signing-key.js';

export const KEY_FILES = {
  age: 'age-identity.txt',
  signing: 'signing-key.pem',
  onion: 'onion-key.pem',
  clientAuth: 'client-auth-key.pem',
} as const;

export interface DeviceIdentity extends ClipIdentity {
  readonly dataDir: string;
  readonly signer: SigningKey;
  readonly onion: OnionKey;
  readonly clientAuth: ClientAuthKey;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/** Creates the four key files; refuses (IdentityError 'exists') if any is already there. */
export async function createDeviceIdentity(dataDir: string): Promise<{ identity: DeviceIdentity; created: string[] }> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new IdentityError('no-data-dir', dataDir, `cannot create the data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
  const paths = Object.values(KEY_FILES).map((f) => join(dataDir, f));
  for (const p of paths) {
    if (await exists(p)) throw new IdentityError('exists', p, `${p} already exists: this device has keys; refusing to overwrite them (move them away first if you really want new ones)`);
  }
  const ageIdentity = await generateX25519Identity();
  const ageRecipient = await identityToRecipient(ageIdentity);
  const signer = SigningKey.generate();
  const onion = OnionKey.generate();
  const clientAuth = ClientAuthKey.generate();
  const contents: [string, string][] = [
    [KEY_FILES.age, formatAgeKeyFile(ageIdentity, ageRecipient)],
    [KEY_FILES.signing, signer.toPem()],
    [KEY_FILES.onion, onion.toPem()],
    [KEY_FILES.clientAuth, clientAuth.toPem()],
  ];
  const created: string[] = [];
  for (const [name, text] of contents) {
    const path = join(dataDir, name);
    await writeFileAtomic(path, text, { mode: 0o600 });
    created.push(path);
  }
  return { identity: { dataDir, ageIdentity, ageRecipient, signer, onion, clientAuth }, created };
}

async function readKey(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new IdentityError('missing', path, `${path} is missing: run "torlk init" to create this device's keys`);
    throw err;
  }
  // Keys readable by others are refused, as ssh does: someone may already have copied them.
  if (info.mode & 0o077) throw new IdentityError('unsafe-permissions', path, `${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run "chmod 600 ${path}"`);
  return readFile(path, 'utf8');
}

export async function loadDeviceIdentity(dataDir: string): Promise<DeviceIdentity> {
  const path = (k: keyof typeof KEY_FILES) => join(dataDir, KEY_FILES[k]);
  const bad = (p: string, err: unknown) => new IdentityError('bad-file', p, `${p}: ${(err as Error).message}`, { cause: err });
  let age;
  try {
    age = await parseAgeKeyFile(await readKey(path('age')));
  } catch (err) {
    if (err instanceof AgeKeyFileError) throw bad(path('age'), err);
    throw err;
  }
  const load = async <T>(k: keyof typeof KEY_FILES, from: (pem: string) => T): Promise<T> => {
    const text = await readKey(path(k));
    try {
      return from(text);
    } catch (err) {
      throw bad(path(k), err);
    }
  };
  return {
    dataDir,
    ageIdentity: age.identity,
    ageRecipient: age.recipient,
    signer: await load('signing', SigningKey.fromPem),
    onion: await load('onion', OnionKey.fromPem),
    clientAuth: await load('clientAuth', ClientAuthKey.fromPem),
  };
}

/** This device as a contact (what `torlk card` prints). */
export function ownContact(identity: DeviceIdentity, name: string): Contact {
  return {
    name,
    onion: identity.onion.address,
    ageRecipient: identity.ageRecipient,
    signingKey: identity.signer.id,
    clientAuthKey: identity.clientAuth.publicKey,
  };
}
