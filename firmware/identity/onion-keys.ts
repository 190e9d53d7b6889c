// The device's two tor keys, as the identity stores them (PKCS#8 PEM files, mode 0600). The key
// material and tor's encodings come from firmware/tor (onion-key.ts, client-auth.ts); this module
// only adds PEM round-trips and the small surface the identity and the card need.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { addOnionKeyBlob, generateOnionKey, onionKeyFromSeed, type OnionKey as TorOnionKey } from '../tor/onion-key.js';
import { clientAuthKeyPairFromPrivate, encodeClientAuthPrivateKey, encodeClientAuthPublicKey, generateClientAuthKeyPair, type ClientAuthKeyPair } from '../tor/client-auth.js';

const PKCS8_PREFIX = {
  ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
  x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
};

function toPem(type: 'ed25519' | 'x25519', secret: Uint8Array): string {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[type], secret]), format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The 32-byte secret of a PEM private key of `type`; TypeError otherwise. */
function fromPem(pem: string, type: 'ed25519' | 'x25519'): Uint8Array {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new TypeError(`not a PEM private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== type) throw new TypeError(`expected an ${type} key, found ${key.asymmetricKeyType}`);
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).d as string, 'base64url'));
}

export class OnionKey {
  /** "<56 chars>.onion" */
  readonly address: string;
  private constructor(readonly key: TorOnionKey) {
    this.address = `${key.serviceId}.onion`;
  }
  static generate(): OnionKey {
    return new OnionKey(generateOnionKey());
  }
  static fromPem(pem: string): OnionKey {
    return new OnionKey(onionKeyFromSeed(fromPem(pem, 'ed25519')));
  }
  /** Same file format as firmware/tor's loadOnionKey reads. */
  toPem(): string {
    return toPem('ed25519', this.key.seed);
  }
  /** "ED25519-V3:<base64 of the 64-byte expanded key>", as ADD_ONION takes it. Secret. */
  serviceKey(): string {
    return addOnionKeyBlob(this.key);
  }
}

export class ClientAuthKey {
  /** Public key in tor's base32 form (52 chars), for ClientAuthV3= on the contact's service. */
  readonly publicKey: string;
  private constructor(readonly pair: ClientAuthKeyPair) {
    this.publicKey = encodeClientAuthPublicKey(pair.publicKey);
  }
  static generate(): ClientAuthKey {
    return new ClientAuthKey(generateClientAuthKeyPair());
  }
  static fromPem(pem: string): ClientAuthKey {
    return new ClientAuthKey(clientAuthKeyPairFromPrivate(fromPem(pem, 'x25519')));
  }
  toPem(): string {
    return toPem('x25519', this.pair.privateKey);
  }
  /** "x25519:<base64 private key>", as ONION_CLIENT_AUTH_ADD takes it. Secret. */
  clientAuthSecret(): string {
    return `x25519:${encodeClientAuthPrivateKey(this.pair.privateKey)}`;
  }
}
