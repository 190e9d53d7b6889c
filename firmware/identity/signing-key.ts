// The device's Ed25519 signing key (node:crypto). Stored as PKCS#8 PEM, the format `openssl pkey`
// reads, so a user can inspect or back it up with standard tools.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { ClipSigner } from '../clip/clip-types.js';

export class SigningKey implements ClipSigner {
  readonly publicKey: Uint8Array;
  /** base64url of the raw public key: the id in contact cards and TORLK_SENDER. */
  readonly id: string;

  private constructor(private readonly key: KeyObject) {
    const jwk = createPublicKey(key).export({ format: 'jwk' });
    if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 private key');
    this.id = jwk.x;
    this.publicKey = new Uint8Array(Buffer.from(jwk.x, 'base64url'));
  }

  static generate(): SigningKey {
    return new SigningKey(generateKeyPairSync('ed25519').privateKey);
  }

  /** Throws TypeError when the PEM is not an Ed25519 private key. */
  static fromPem(pem: string): SigningKey {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch (err) {
      throw new TypeError(`not a PEM private key: ${(err as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`expected an Ed25519 key, found ${key.asymmetricKeyType}`);
    return new SigningKey(key);
  }

  toPem(): string {
    return this.key.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.key));
  }
}
