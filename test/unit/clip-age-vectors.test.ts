// The C2SP age test vectors (npm cctv-age) run through our age layer (firmware/clip/age-file.ts):
// it must decrypt what should decrypt, to the right payload, and fail closed, with the right
// ClipError reason, on everything else.
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import * as vectors from 'cctv-age';
import { describe, expect, it } from 'vitest';
import { decryptAgeFile } from '../../firmware/clip/age-file.js';
import { ClipError } from '../../firmware/clip/clip-error.js';

interface Vector {
  name: string;
  expect: string;
  payloadSha256?: string;
  identities: string[];
  armored: boolean;
  passphrase: boolean;
  compressed: boolean;
  body: Uint8Array;
}

function parseVector(name: string, bytes: Uint8Array): Vector {
  const blank = Buffer.from(bytes).indexOf('\n\n');
  const meta = Buffer.from(bytes.subarray(0, blank)).toString('utf8').split('\n');
  const v: Vector = { name, expect: '', identities: [], armored: false, passphrase: false, compressed: false, body: bytes.subarray(blank + 2) };
  for (const line of meta) {
    const [key, value = ''] = [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)];
    if (key === 'expect') v.expect = value;
    else if (key === 'payload') v.payloadSha256 = value;
    else if (key === 'identity') v.identities.push(value);
    else if (key === 'armored') v.armored = value === 'yes';
    else if (key === 'passphrase') v.passphrase = true;
    else if (key === 'compressed') v.compressed = true;
  }
  // Large STREAM vectors ship zlib-compressed ("compressed: zlib"); the age file is the inflated body.
  if (v.compressed) v.body = new Uint8Array(inflateSync(v.body));
  return v;
}

const all = Object.entries(vectors as Record<string, unknown>)
  .filter((e): e is [string, Uint8Array] => e[1] instanceof Uint8Array)
  .map(([n, b]) => parseVector(n, b));
// Torlk clips are binary (never armored) and use exactly one X25519 identity; vectors for
// passphrases, armor, post-quantum identities and several identities test features we do not use.
const ours = all.filter(
  (v) => !v.armored && !v.passphrase && v.identities.length === 1 && v.identities[0]!.startsWith('AGE-SECRET-KEY-1'),
);

describe('cctv-age vectors through our age layer', () => {
  it('covers the X25519, header, HMAC and STREAM vectors', () => {
    expect(all.length).toBeGreaterThan(140);
    expect(ours.length).toBeGreaterThan(60);
    for (const prefix of ['x25519', 'stream_', 'hmac_', 'stanza_', 'header_crlf', 'version_unsupported']) {
      expect(ours.some((v) => v.name.startsWith(prefix))).toBe(true);
    }
  });

  it.each(ours.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const attempt = decryptAgeFile(v.body, v.identities[0]!);
    if (v.expect === 'success') {
      const plain = await attempt;
      expect(createHash('sha256').update(plain).digest('hex')).toBe(v.payloadSha256);
      return;
    }
    const err = await attempt.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClipError);
    const reason = (err as ClipError).reason;
    if (v.expect === 'no match') expect(reason).toBe('wrong-key');
    else if (v.expect === 'payload failure' || v.expect === 'HMAC failure') expect(reason).toBe('corrupt');
    // The vectors count a file cut before its payload nonce as a header failure; we say truncated.
    else if (v.name === 'stream_no_nonce' || v.name === 'stream_short_nonce') expect(reason).toBe('truncated');
    else expect(['corrupt', 'not-age']).toContain(reason);
  });
});
