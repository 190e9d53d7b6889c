// AgePayloadStream: age's STREAM payload encrypted as bytes arrive must be byte-identical to
// encryptPayload over the whole plaintext, at any chunking, across the 64 KiB chunk boundaries
// where the last-chunk flag moves; and the age-encryption library must open the resulting file.
import { randomBytes } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { concatBytes, createAgeHeader, deriveStreamKey, encryptPayload, PAYLOAD_NONCE, STREAM_CHUNK } from '../../firmware/clip/age-file.js';
import { AgePayloadStream } from '../../firmware/clip/age-payload-stream.js';
import { splitAt } from './clip-fixtures.js';

const key = new Uint8Array(randomBytes(32));
const plaintext = new Uint8Array(randomBytes(3 * STREAM_CHUNK + 100));

function streamed(pieces: readonly Uint8Array[], k: Uint8Array = key): Uint8Array {
  const s = new AgePayloadStream(k);
  for (const p of pieces) s.push(p);
  return concatBytes(s.finish());
}

const same = (a: Uint8Array, b: Uint8Array) => expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);

describe('AgePayloadStream', () => {
  // Around each chunk boundary: a full last chunk, and one byte more (a middle chunk, then a short last).
  const lengths = [0, 1, STREAM_CHUNK - 1, STREAM_CHUNK, STREAM_CHUNK + 1, 2 * STREAM_CHUNK, 2 * STREAM_CHUNK + 1, 3 * STREAM_CHUNK + 100];

  it.each(lengths)('matches encryptPayload for %i bytes pushed whole', (n) => {
    const plain = plaintext.subarray(0, n);
    same(streamed([plain]), encryptPayload(key, plain));
  });

  it.each(lengths)('matches encryptPayload for %i bytes pushed in 1000-byte pieces, with empty pushes between', (n) => {
    const plain = plaintext.subarray(0, n);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < n; at += 1000) pieces.push(plain.subarray(at, at + 1000), new Uint8Array(0));
    same(streamed(pieces), encryptPayload(key, plain));
  });

  test.prop([fc.integer({ min: 0, max: plaintext.length }), fc.array(fc.nat(), { maxLength: 12 })], { numRuns: 60 })(
    'matches encryptPayload at any length and split',
    (n, cuts) => {
      const plain = plaintext.subarray(0, n);
      same(streamed(splitAt(plain, cuts)), encryptPayload(key, plain));
    },
  );

  it('makes a file the age-encryption library opens (its own STREAM code, not ours)', async () => {
    const identity = await generateX25519Identity();
    const { header, fileKey } = await createAgeHeader([await identityToRecipient(identity)]);
    const nonce = new Uint8Array(randomBytes(PAYLOAD_NONCE));
    const plain = plaintext.subarray(0, 2 * STREAM_CHUNK + 7);
    const payload = streamed(splitAt(plain, [5, 70_000, STREAM_CHUNK * 2]), deriveStreamKey(fileKey, nonce));
    const d = new Decrypter();
    d.addIdentity(identity);
    same(await d.decrypt(concatBytes([header, nonce, payload])), plain);
  });

  it('is not the same payload under another key (the key is used, not just carried)', () => {
    const plain = plaintext.subarray(0, 500);
    expect(Buffer.from(streamed([plain], new Uint8Array(randomBytes(32)))).equals(Buffer.from(encryptPayload(key, plain)))).toBe(false);
  });

  it('refuses bytes after finish, and a second finish', () => {
    const s = new AgePayloadStream(key);
    s.push(plaintext.subarray(0, 10));
    s.finish();
    expect(() => s.push(plaintext.subarray(0, 1))).toThrow(/after finish/);
    expect(() => s.finish()).toThrow(/twice/);
  });
});
