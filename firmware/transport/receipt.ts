// Delivery receipts: the receiver signs "I stored clip X (these exact bytes)" with its Ed25519
// signing key, and the sender only counts a clip as delivered once that signature verifies
// against the key on the recipient's contact card. Without it a man in the middle (or a confused
// tor) could make the outbox drop a clip that never arrived.
//
// Wire form (response body of POST /v1/clip):
//   {"receipt":"<canonical JSON string>","sig":"<base64 Ed25519 signature>"}
// The signature covers the UTF-8 bytes of "torlk-receipt-v1\n" followed by the receipt string, so
// it cannot be confused with any other signature the same key makes.
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { verifyEd25519 } from '../identity/ed25519-verify.js';

const DOMAIN = 'torlk-receipt-v1\n';
// DER prefixes that wrap a raw 32-byte Ed25519 seed / public key (RFC 8410), so node:crypto can use them.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface Receipt {
  readonly v: 1;
  /** The clip's id (from its signed header). */
  readonly clip: string;
  /** SHA-256 (hex) of the sealed bytes the receiver stored. */
  readonly sha256: string;
  /** The receiver's Ed25519 public key, base64url (as on contact cards). */
  readonly by: string;
  /** Receiver's clock when it stored the clip, ms since the epoch. */
  readonly at: number;
}

export interface SignedReceipt {
  readonly receipt: string;
  readonly sig: string;
}

/** Something that signs with the device's Ed25519 key (the identity module holds the secret). */
export interface ReceiptSigner {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** The receipt was missing, malformed, signed by the wrong key or about another clip. */
export class ReceiptError extends Error {
  override readonly name = 'ReceiptError';
  constructor(
    readonly reason: 'malformed' | 'bad-signature' | 'wrong-signer' | 'wrong-clip',
    detail: string,
  ) {
    super(`receipt rejected (${reason}): ${detail}`);
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A ReceiptSigner over a raw 32-byte Ed25519 seed (the form age-style key files and tests hold). */
export function ed25519Signer(seed: Uint8Array): ReceiptSigner {
  if (seed.length !== 32) throw new TypeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  return { publicKey, sign: (message) => new Uint8Array(sign(null, message, key)) };
}

export function signReceipt(signer: ReceiptSigner, clip: string, sealed: Uint8Array, at: number): SignedReceipt {
  const body: Receipt = { v: 1, clip, sha256: sha256Hex(sealed), by: Buffer.from(signer.publicKey).toString('base64url'), at };
  const receipt = JSON.stringify(body);
  const sig = Buffer.from(signer.sign(Buffer.from(DOMAIN + receipt, 'utf8'))).toString('base64url');
  return { receipt, sig };
}

/**
 * Checks a receipt from `signingKey` (the recipient's card) for the clip we sent: by its id when the
 * caller knows it, else by the hash of the bytes we sent. Returns the parsed receipt or throws ReceiptError.
 */
export function verifyReceipt(
  signed: unknown,
  expect: { signingKey: Uint8Array; clipId?: string; sha256?: string },
): Receipt {
  const s = signed as Partial<SignedReceipt> | null;
  if (typeof s !== 'object' || s === null || typeof s.receipt !== 'string' || typeof s.sig !== 'string') {
    throw new ReceiptError('malformed', 'expected {"receipt": string, "sig": string}');
  }
  const signer = Buffer.from(expect.signingKey).toString('base64url');
  const ok = verifyEd25519(signer, Buffer.from(DOMAIN + s.receipt, 'utf8'), Buffer.from(s.sig, 'base64'));
  if (!ok) throw new ReceiptError('bad-signature', 'signature does not verify with the recipient\'s signing key');
  let r: Receipt;
  try {
    r = JSON.parse(s.receipt) as Receipt;
  } catch {
    throw new ReceiptError('malformed', 'receipt is not JSON');
  }
  if (r?.v !== 1 || typeof r.clip !== 'string' || typeof r.sha256 !== 'string' || typeof r.at !== 'number' || typeof r.by !== 'string') {
    throw new ReceiptError('malformed', 'receipt fields missing or of the wrong type');
  }
  if (r.by !== signer) {
    throw new ReceiptError('wrong-signer', 'receipt names a different receiver key');
  }
  if (expect.clipId !== undefined ? r.clip !== expect.clipId : expect.sha256 !== undefined && r.sha256 !== expect.sha256) {
    throw new ReceiptError('wrong-clip', `receipt is for clip ${r.clip}`);
  }
  return r;
}
