// Anyone can encrypt to a radio's public age key, so the plaintext inside a well-encrypted wire
// stream is attacker-controlled too. Build valid wire streams around hostile plaintexts (random,
// or a real clip with page edits and bit flips), split the frames anywhere, and check the opener
// only ever answers with a ClipError — through the early sender check and the final verification.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ClipError } from '../../firmware/clip/clip-error.js';
import { sealClip } from '../../firmware/clip/seal-clip.js';
import { concatBytes, createAgeHeader, decryptAgeFile } from '../../firmware/clip/age-file.js';
import { encodeWireFrame, WIRE_MAGIC, wireKey } from '../../firmware/clip/wire-frames.js';
import { cleanup, makeDevice, makeOgg, openInPieces, splitAt, type TestDevice } from '../unit/clip-fixtures.js';

let alice: TestDevice;
let bob: TestDevice;
let plain: Uint8Array;
let ageHeader: Uint8Array;
let fileKey: Uint8Array;

beforeAll(async () => {
  [alice, bob] = await Promise.all([makeDevice('alice'), makeDevice('bob')]);
  const sealed = await sealClip({ ogg: makeOgg(1), header: { channel: 'c', sequence: 1, createdAt: 0 }, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
  plain = await decryptAgeFile(sealed, bob.identity.ageIdentity);
  ({ header: ageHeader, fileKey } = await createAgeHeader([bob.identity.ageRecipient]));
});
afterAll(cleanup);

/** A valid wire stream (to bob) carrying `plaintext`, cut into frames at `cuts`. */
function wireFor(plaintext: Uint8Array, cuts: number[]): Uint8Array {
  const nonce = new Uint8Array(16).fill(9);
  const key = wireKey(fileKey, nonce);
  const points = [...new Set(cuts.map((c) => c % (plaintext.length + 1)))].filter((p) => p > 0).sort((a, b) => a - b);
  const frames: Uint8Array[] = [];
  let prev = 0;
  const bounds = [...points.filter((p) => p < plaintext.length), plaintext.length];
  bounds.forEach((p, i) => {
    const last = i === bounds.length - 1;
    // Frames hold at most 64 KiB; these plaintexts are far smaller.
    frames.push(encodeWireFrame(key, i, last, plaintext.subarray(prev, p)));
    prev = p;
  });
  return concatBytes([WIRE_MAGIC, ageHeader, nonce, ...frames]);
}

async function openWire(wire: Uint8Array, split: number[], contacts = [alice.contact]): Promise<unknown> {
  return openInPieces({ identity: bob.identity, contacts }, splitAt(wire, split)).then(
    () => 'accepted',
    (e: unknown) => e,
  );
}

function mustReject(outcome: unknown): void {
  if (!(outcome instanceof ClipError)) throw new Error(`expected a ClipError, got ${outcome === 'accepted' ? 'acceptance' : String(outcome)}`);
}

describe('hostile plaintext inside valid wire frames', () => {
  it('the honest plaintext opens at any framing (the harness is sound)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), async (frames, split) => {
        if ((await openWire(wireFor(plain, frames), split)) !== 'accepted') throw new Error('honest clip refused');
      }),
      { numRuns: 100 },
    );
  });

  it('random plaintext → ClipError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 6 }), async (p, frames) => {
        mustReject(await openWire(wireFor(p, frames), []));
      }),
      { numRuns: 1500 },
    );
  });

  it('a real clip with bit flips or cut short, framed anywhere → ClipError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 3 }),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (flips, cut, frames, split) => {
          const p = plain.slice(0, flips.length === 0 ? cut % plain.length : plain.length);
          // Distinct positions: two equal flips of one byte would cancel into the original clip.
          const touched = new Set<number>();
          for (const f of flips) {
            const at = f.at % p.length;
            if (!touched.has(at)) p[at]! ^= f.xor;
            touched.add(at);
          }
          mustReject(await openWire(wireFor(p, frames), split));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('a stranger\'s well-formed clip is refused whatever the framing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), async (frames, split) => {
        const outcome = await openWire(wireFor(plain, frames), split, []);
        mustReject(outcome);
        if ((outcome as ClipError).reason !== 'unknown-sender') throw new Error(`reason ${(outcome as ClipError).reason}`);
      }),
      { numRuns: 300 },
    );
  });
});
