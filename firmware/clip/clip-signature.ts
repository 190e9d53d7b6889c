// The clip signature: Ed25519 (node:crypto) over a domain-separated SHA-512 digest of every Ogg
// byte before the signature page. Hashing first lets sender and receiver work page by page; the
// digest is collision resistant, so signing it is as strong as signing the bytes.
// The signature rides in a second logical Ogg stream ("TorlkSig"): its BOS page sits right after
// the OpusHead page, its EOS page (the last page of the file) carries the 64-byte signature.
// opusinfo lists it as "type unknown" without a warning; players skip it (docs/clip-format.md).
import { createHash, type Hash } from 'node:crypto';
import { verifyEd25519 } from '../identity/ed25519-verify.js';

export const SIGNATURE_STREAM_MAGIC = new TextEncoder().encode('TorlkSig\x01');
export const SIGNATURE_BYTES = 64;
const DOMAIN = new TextEncoder().encode('torlk clip signature v1\0');

export function startClipDigest(): Hash {
  return createHash('sha512');
}

/** The message the sender signs: domain label, then SHA-512 of the signed Ogg bytes. */
export function signedMessage(digest: Hash): Uint8Array {
  const d = digest.digest();
  const out = new Uint8Array(DOMAIN.length + d.length);
  out.set(DOMAIN);
  out.set(d, DOMAIN.length);
  return out;
}

/** Verifies with a base64url raw Ed25519 public key; false on any malformed key or signature. */
export function verifyClipSignature(signingKey: string, message: Uint8Array, signature: Uint8Array): boolean {
  return signature.length === SIGNATURE_BYTES && verifyEd25519(signingKey, message, signature);
}

export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}
