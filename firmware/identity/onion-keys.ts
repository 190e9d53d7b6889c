// The two tor keys of a device, kept as PKCS#8 PEM seeds (node:crypto):
// - the onion service key (Ed25519): tor's ADD_ONION wants the *expanded* key, SHA-512(seed) with
//   the first half clamped (tor rend-spec-v3 / ed25519 RFC 8032 section 5.1.5), so it is derived;
// - the client-auth key (x25519) this device presents to its contacts' onion services.
// Kept small and local until firmware/tor's own onion-key/client-auth modules land (then reuse them).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { base32Encode } from '../tor/base32.js';
import { onionAddressFromPublicKey } from '../contacts/onion-address.js';

function rawPublic(key: KeyObject): Uint8Array {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}

function rawPrivate(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.d as string, 'base64url'));
}

function loadPem(pem: string, type: 'ed25519' | 'x25519'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new TypeError(`not a PEM private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== type) throw new TypeError(`expected an ${type} key, found ${key.asymmetricKeyType}`);
  return key;
}

export class OnionKey {
  /** "<56 chars>.onion" */
  readonly address: string;
  private constructor(private readonly key: KeyObject) {
    this.address = onionAddressFromPublicKey(rawPublic(key));
  }
  static generate(): OnionKey {
    return new OnionKey(generateKeyPairSync('ed25519').privateKey);
  }
  static fromPem(pem: string): OnionKey {
    return new OnionKey(loadPem(pem, 'ed25519'));
  }
  toPem(): string {
    return this.key.export({ format: 'pem', type: 'pkcs8' }).toString();
  }
  /** "ED25519-V3:<base64 of the 64-byte expanded key>", as ADD_ONION takes it. */
  serviceKey(): string {
    const h = createHash('sha512').update(rawPrivate(this.key)).digest();
    h[0]! &= 248;
    h[31]! &= 127;
    h[31]! |= 64;
    return `ED25519-V3:${h.toString('base64')}`;
  }
}

export class ClientAuthKey {
  /** Public key in tor's base32 form (52 chars), for ClientAuthV3= on the contact's service. */
  readonly publicKey: string;
  private constructor(private readonly key: KeyObject) {
    this.publicKey = base32Encode(rawPublic(key));
  }
  static generate(): ClientAuthKey {
    return new ClientAuthKey(generateKeyPairSync('x25519').privateKey);
  }
  static fromPem(pem: string): ClientAuthKey {
    return new ClientAuthKey(loadPem(pem, 'x25519'));
  }
  toPem(): string {
    return this.key.export({ format: 'pem', type: 'pkcs8' }).toString();
  }
  /** "x25519:<base64 private key>", as ONION_CLIENT_AUTH_ADD takes it. */
  clientAuthSecret(): string {
    return `x25519:${Buffer.from(rawPrivate(this.key)).toString('base64')}`;
  }
}
