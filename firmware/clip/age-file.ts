// Our use of age (https://age-encryption.org/v1): the header (recipient stanzas, file key, MAC)
// comes from the age-encryption library; the payload is age's STREAM (ChaCha20-Poly1305 over
// 64 KiB chunks, 11-byte big-endian counter nonce plus a last-chunk flag), done here with
// node:crypto (OpenSSL: much faster than pure JS on a Pi Zero) so the same STREAM code also
// serves the wire framing (wire-frames.ts) without reaching into the library's internals.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Decrypter, Encrypter, type Identity, type Recipient, type Stanza } from 'age-encryption';
import { ClipError } from './clip-error.js';

export const AGE_MAGIC = new TextEncoder().encode('age-encryption.org/v1\n');
export const STREAM_CHUNK = 64 * 1024;
export const STREAM_TAG = 16;
export const PAYLOAD_NONCE = 16;
/** Our clips carry one to a few X25519 stanzas (~120 bytes each); anything past this is not ours. */
export const MAX_AGE_HEADER = 16 * 1024;

const labelPayload = new TextEncoder().encode('payload');

/** age's payload key: HKDF-SHA-256(ikm = file key, salt = nonce, info = label). */
export function deriveStreamKey(fileKey: Uint8Array, nonce: Uint8Array, info: Uint8Array = labelPayload): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', fileKey, nonce, info, 32));
}

/** A STREAM chunk's 12-byte nonce: the chunk counter, big-endian, then the last-chunk flag. */
export function streamNonce(counter: number, last: boolean): Uint8Array {
  // Counters stay far below 2^32 (a clip is at most a few MiB), so the top 7 bytes stay zero.
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) throw new RangeError(`STREAM counter ${counter} out of range`);
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(7, counter);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

export function sealChunk(key: Uint8Array, counter: number, last: boolean, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, streamNonce(counter, last), { authTagLength: STREAM_TAG });
  const body = c.update(plaintext);
  c.final();
  const out = new Uint8Array(body.length + STREAM_TAG);
  out.set(body);
  out.set(c.getAuthTag(), body.length);
  return out;
}

/** Returns null when the tag does not verify (wrong key, counter, last flag or a changed byte). */
export function openChunk(key: Uint8Array, counter: number, last: boolean, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < STREAM_TAG) return null;
  const d = createDecipheriv('chacha20-poly1305', key, streamNonce(counter, last), { authTagLength: STREAM_TAG });
  d.setAuthTag(sealed.subarray(sealed.length - STREAM_TAG));
  const body = d.update(sealed.subarray(0, sealed.length - STREAM_TAG));
  try {
    d.final();
  } catch {
    return null;
  }
  return new Uint8Array(body);
}

/** age payload: STREAM over 64 KiB chunks; only the last may be short, and empty only if all is. */
export function encryptPayload(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const chunks = Math.max(1, Math.ceil(plaintext.length / STREAM_CHUNK));
  const out = new Uint8Array(plaintext.length + chunks * STREAM_TAG);
  for (let i = 0; i < chunks; i++) {
    const part = plaintext.subarray(i * STREAM_CHUNK, (i + 1) * STREAM_CHUNK);
    out.set(sealChunk(key, i, i === chunks - 1, part), i * (STREAM_CHUNK + STREAM_TAG));
  }
  return out;
}

export function decryptPayload(key: Uint8Array, sealed: Uint8Array): Uint8Array {
  const full = STREAM_CHUNK + STREAM_TAG;
  const chunks = Math.max(1, Math.ceil(sealed.length / full));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < chunks; i++) {
    const last = i === chunks - 1;
    const plain = openChunk(key, i, last, sealed.subarray(i * full, (i + 1) * full));
    if (plain === null) throw new ClipError('corrupt', `age payload chunk ${i} failed authentication`);
    if (last && plain.length === 0 && i > 0) throw new ClipError('corrupt', 'age payload ends with an empty chunk');
    parts.push(plain);
  }
  return concatBytes(parts);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

/**
 * Builds an age header for `recipients` and returns it with its file key. The library draws the
 * file key inside Encrypter.encrypt; a Recipient (its public extension point) sees it and adds no
 * stanza, so the header is exactly what `age -r` would accept.
 */
export async function createAgeHeader(recipients: readonly string[]): Promise<{ header: Uint8Array; fileKey: Uint8Array }> {
  if (recipients.length === 0) throw new TypeError('"recipients" must name at least one age1... recipient');
  let fileKey: Uint8Array | undefined;
  const capture: Recipient = {
    wrapFileKey(key) {
      fileKey = key.slice();
      return [];
    },
  };
  const enc = new Encrypter();
  for (const r of recipients) {
    if (!/^age1[02-9ac-hj-np-z]{58}$/.test(r)) throw new TypeError(`"${r}" is not an age X25519 recipient (age1...)`);
    enc.addRecipient(r);
  }
  enc.addRecipient(capture);
  // A stream, read here, rather than a Uint8Array: for byte input the library collects its output
  // through `new Response(...)`, which loads Node's fetch machinery (undici, about 4 MB resident)
  // into a firmware that never fetches anything.
  const empty = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const reader = (await enc.encrypt(empty)).getReader();
  const parts: Uint8Array[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  const split = splitAgeHeader(concatBytes(parts));
  if (!split || !fileKey) throw new Error('age-encryption produced no header');
  return { header: split.header, fileKey };
}

/**
 * Finds the end of the age header (the "--- <MAC>" line). Returns null when more bytes are needed.
 * Throws ClipError 'not-age' when the bytes do not start like an age file, 'corrupt' when the
 * header runs past MAX_AGE_HEADER.
 */
export function splitAgeHeader(bytes: Uint8Array): { header: Uint8Array; rest: Uint8Array } | null {
  const n = Math.min(bytes.length, AGE_MAGIC.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== AGE_MAGIC[i]) throw new ClipError('not-age', 'not an age file (no "age-encryption.org/v1" line)');
  if (bytes.length < AGE_MAGIC.length) return null;
  const limit = Math.min(bytes.length, MAX_AGE_HEADER);
  for (let i = AGE_MAGIC.length - 1; i + 4 < limit; i++) {
    if (bytes[i] === 0x0a && bytes[i + 1] === 0x2d && bytes[i + 2] === 0x2d && bytes[i + 3] === 0x2d) {
      const end = bytes.indexOf(0x0a, i + 4);
      if (end === -1) return bytes.length >= MAX_AGE_HEADER ? tooLong() : null;
      return { header: bytes.subarray(0, end + 1), rest: bytes.subarray(end + 1) };
    }
  }
  return bytes.length >= MAX_AGE_HEADER ? tooLong() : null;
}

function tooLong(): never {
  throw new ClipError('corrupt', `age header longer than ${MAX_AGE_HEADER} bytes`);
}

/**
 * Unwraps the file key with the device's identity. Two observer identities around the real one
 * tell apart "header did not parse", "no stanza for us" and "ours, but the MAC or stanza is bad",
 * because the library's errors are plain Errors without codes.
 */
export async function unwrapFileKey(header: Uint8Array, ageIdentity: string): Promise<Uint8Array> {
  let parsed = false;
  let noMatch = false;
  const before: Identity = {
    unwrapFileKey(_s: Stanza[]) {
      parsed = true;
      return null;
    },
  };
  const after: Identity = {
    unwrapFileKey(_s: Stanza[]) {
      noMatch = true;
      return null;
    },
  };
  const dec = new Decrypter();
  dec.addIdentity(before);
  dec.addIdentity(ageIdentity);
  dec.addIdentity(after);
  try {
    return await dec.decryptHeader(header);
  } catch (err) {
    if (!parsed) throw new ClipError('corrupt', 'age header does not parse', { cause: err });
    if (noMatch) throw new ClipError('wrong-key', 'the clip is not encrypted to this device\'s age identity', { cause: err });
    throw new ClipError('corrupt', 'age header MAC or stanza is invalid', { cause: err });
  }
}

/** Decrypts a whole standard age file (binary, not armored) with one X25519 identity. */
export async function decryptAgeFile(file: Uint8Array, ageIdentity: string): Promise<Uint8Array> {
  const split = splitAgeHeader(file);
  if (!split) throw new ClipError('truncated', 'age file truncated inside its header');
  const fileKey = await unwrapFileKey(split.header, ageIdentity);
  if (split.rest.length < PAYLOAD_NONCE) throw new ClipError('truncated', 'age file truncated before its payload nonce');
  const key = deriveStreamKey(fileKey, split.rest.subarray(0, PAYLOAD_NONCE));
  return decryptPayload(key, split.rest.subarray(PAYLOAD_NONCE));
}

/** Bytes of the age file assembleAgeFile makes from a header and plaintext of these lengths. */
export function ageFileLength(headerBytes: number, plaintextBytes: number): number {
  return headerBytes + PAYLOAD_NONCE + plaintextBytes + Math.max(1, Math.ceil(plaintextBytes / STREAM_CHUNK)) * STREAM_TAG;
}

/** A standard age file from its header and plaintext (age-payload-stream.ts makes the payload as bytes arrive). */
export function assembleAgeFile(
  header: Uint8Array,
  fileKey: Uint8Array,
  plaintext: Uint8Array,
  nonce: Uint8Array = randomBytes(PAYLOAD_NONCE),
): Uint8Array {
  const payload = encryptPayload(deriveStreamKey(fileKey, nonce), plaintext);
  const out = new Uint8Array(header.length + PAYLOAD_NONCE + payload.length);
  out.set(header);
  out.set(nonce, header.length);
  out.set(payload, header.length + PAYLOAD_NONCE);
  return out;
}
