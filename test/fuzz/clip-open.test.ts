// Property/fuzz tests of everything that reads untrusted clip bytes: the opener, the streaming
// opener, the decrypted-clip verifier and the tag parser. Hostile input must end in a ClipError
// (never another exception, never acceptance of altered bytes). Thousands of cases per run.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipError } from '../../firmware/clip/clip-error.js';
import { sealClip } from '../../firmware/clip/seal-clip.js';
import { openClip } from '../../firmware/clip/open-clip.js';
import { verifyClip } from '../../firmware/clip/clip-verifier.js';
import { decodeClipTags } from '../../firmware/clip/clip-tags.js';
import { ClipSealer } from '../../firmware/clip/clip-sealer.js';
import { concatBytes, decryptAgeFile } from '../../firmware/clip/age-file.js';
import { decodeOggPage, encodeOggPage, type OggPage } from '../../firmware/audio/ogg-page.js';
import { cleanup, makeDevice, makeOgg, openInPieces, splitAt, type TestDevice } from '../unit/clip-fixtures.js';

let alice: TestDevice;
let bob: TestDevice;
let sealed: Uint8Array;
let plain: Uint8Array;
let wire: Uint8Array;
const header = { channel: 'family', sequence: 1, createdAt: Date.UTC(2026, 0, 1) };

beforeAll(async () => {
  [alice, bob] = await Promise.all([makeDevice('alice'), makeDevice('bob')]);
  const ogg = makeOgg(1);
  sealed = await sealClip({ ogg, header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
  plain = await decryptAgeFile(sealed, bob.identity.ageIdentity);
  const s = await ClipSealer.start({ header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
  wire = concatBytes([s.preamble, ...s.push(ogg), ...s.finish().frames]);
});
afterAll(cleanup);

const opts = () => ({ identity: bob.identity, contacts: [alice.contact] });

async function onlyClipErrors(p: Promise<unknown>): Promise<ClipError> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!(err instanceof ClipError)) throw new Error(`expected a ClipError, got ${err === null ? 'success' : String(err)}`);
  return err;
}

/** Flips bits at distinct positions (two equal flips of one byte would cancel into the original clip). */
function mutate(bytes: Uint8Array, edits: { at: number; xor: number }[]): Uint8Array {
  const out = bytes.slice();
  const touched = new Set<number>();
  for (const e of edits) {
    const at = e.at % out.length;
    if (touched.has(at)) continue;
    touched.add(at);
    out[at]! ^= e.xor;
  }
  return out;
}
const edits = fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 });

describe('openClip on hostile bytes', () => {
  it('random bytes → ClipError', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (b) => void (await onlyClipErrors(openClip(b, opts())))), { numRuns: 2000 });
  });

  it('random bytes after a valid age magic line → ClipError', async () => {
    const magic = new TextEncoder().encode('age-encryption.org/v1\n');
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (b) => void (await onlyClipErrors(openClip(concatBytes([magic, b]), opts())))), { numRuns: 1000 });
  });

  it('every truncation point class → ClipError', async () => {
    await fc.assert(fc.asyncProperty(fc.nat(sealed.length - 1), async (n) => void (await onlyClipErrors(openClip(sealed.subarray(0, n), opts())))), { numRuns: 1000 });
  });

  it('bit flips anywhere → ClipError', async () => {
    await fc.assert(fc.asyncProperty(edits, async (e) => void (await onlyClipErrors(openClip(mutate(sealed, e), opts())))), { numRuns: 2000 });
  });
});

describe('verifyClip on altered plaintext (what a recipient could re-encrypt)', () => {
  it('bit flips → ClipError', () => {
    fc.assert(
      fc.property(edits, (e) => {
        expect(() => verifyClip(mutate(plain, e), opts())).toThrow(ClipError);
      }),
      { numRuns: 3000 },
    );
  });

  const pages: OggPage[] = [];
  beforeAll(() => {
    for (let at = 0; at < plain.length; ) {
      const r = decodeOggPage(plain, at)!;
      pages.push(r.page);
      at += r.length;
    }
  });

  it('page-level edits with valid CRCs (drop, duplicate, swap, flags, granule, body) → ClipError', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('drop' as const), i: fc.nat() }),
      fc.record({ kind: fc.constant('dup' as const), i: fc.nat() }),
      fc.record({ kind: fc.constant('swap' as const), i: fc.nat(), j: fc.nat() }),
      fc.record({ kind: fc.constant('flags' as const), i: fc.nat(), v: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('granule' as const), i: fc.nat(), v: fc.bigInt({ min: -1n, max: 1n << 40n }) }),
      fc.record({ kind: fc.constant('body' as const), i: fc.nat(), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('seq' as const), i: fc.nat(), v: fc.nat(20) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 3 }), (ops) => {
        const ps = pages.map((p) => ({ ...p }));
        for (const o of ops) {
          const i = o.i % ps.length;
          if (o.kind === 'drop') ps.splice(i, 1);
          else if (o.kind === 'dup') ps.splice(i, 0, ps[i]!);
          else if (o.kind === 'swap') [ps[i], ps[o.j % ps.length]] = [ps[o.j % ps.length]!, ps[i]!];
          else if (o.kind === 'flags') ps[i] = { ...ps[i]!, continued: (o.v & 1) !== 0, bos: (o.v & 2) !== 0, eos: (o.v & 4) !== 0 };
          else if (o.kind === 'granule') ps[i] = { ...ps[i]!, granule: o.v };
          else if (o.kind === 'seq') ps[i] = { ...ps[i]!, sequence: o.v };
          else if (ps[i]!.body.length > 0) {
            const body = ps[i]!.body.slice();
            body[o.at % body.length]! ^= o.xor;
            ps[i] = { ...ps[i]!, body };
          }
          if (ps.length === 0) return;
        }
        const bytes = concatBytes(ps.map(encodeOggPage));
        fc.pre(!Buffer.from(bytes).equals(Buffer.from(plain)));
        expect(() => verifyClip(bytes, opts())).toThrow(ClipError);
      }),
      { numRuns: 3000 },
    );
  });

  it('decodeClipTags on random packets → ClipError or a parse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, withMagic) => {
        const packet = withMagic ? concatBytes([new TextEncoder().encode('OpusTags'), b]) : b;
        try {
          const t = decodeClipTags(packet, 'clip');
          expect(typeof t.vendor).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(ClipError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('streaming opener on hostile uploads', () => {
  const openPieces = (bytes: Uint8Array, cuts: number[], maxBytes?: number) =>
    openInPieces({ ...opts(), ...(maxBytes === undefined ? {} : { maxBytes }) }, splitAt(bytes, cuts));

  it('random bytes, and random bytes after the wire magic → ClipError', async () => {
    const magic = new TextEncoder().encode('torlk-wire/v1\n');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 5 }), async (b, m, cuts) => {
        await onlyClipErrors(openPieces(m ? concatBytes([magic, b]) : b, cuts));
      }),
      { numRuns: 1500 },
    );
  });

  it('bit flips and truncations of a real wire stream, split anywhere → ClipError', async () => {
    await fc.assert(
      fc.asyncProperty(edits, fc.nat(wire.length), fc.array(fc.nat(), { maxLength: 6 }), async (e, cut, cuts) => {
        await onlyClipErrors(openPieces(mutate(wire, e).subarray(0, Math.max(1, cut)), cuts));
      }),
      { numRuns: 1500 },
    );
  });

  it('the size cap holds at every split', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: wire.length - 1 }), fc.array(fc.nat(), { maxLength: 6 }), async (cap, cuts) => {
        const err = await onlyClipErrors(openPieces(wire, cuts, cap));
        // Either the cap trips, or an earlier, cheaper check (wrong key can't happen here) does.
        expect(err.reason).toBe('too-large');
      }),
      { numRuns: 500 },
    );
  });
});
