// ClipPageScanner decodes a clip's pages as the plaintext arrives; verifyClip then only decodes the
// rest. Whatever the chunking, the result (or the error) must be exactly what verifyClip gives on
// the whole plaintext alone, and the Ogg it returns must be the signed Opus pages' own bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeOggPage, encodeOggPage, oggPageBytesNeeded } from '../../firmware/audio/ogg-page.js';
import { concatBytes, decryptAgeFile } from '../../firmware/clip/age-file.js';
import { ClipPageScanner } from '../../firmware/clip/clip-page-scan.js';
import { verifyClip } from '../../firmware/clip/clip-verifier.js';
import { sealClip } from '../../firmware/clip/seal-clip.js';
import { cleanup, makeDevice, makeOgg, type TestDevice } from './clip-fixtures.js';

let alice: TestDevice;
let bob: TestDevice;
let plain: Uint8Array;
const header = { channel: 'family', sequence: 3, createdAt: Date.UTC(2026, 10, 24, 23, 0, 0) };

beforeAll(async () => {
  [alice, bob] = await Promise.all([makeDevice('alice'), makeDevice('bob')]);
  const sealed = await sealClip({ ogg: makeOgg(1.5), header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
  plain = await decryptAgeFile(sealed, bob.identity.ageIdentity);
});
afterAll(cleanup);

const opts = () => ({ identity: bob.identity, contacts: [alice.contact] });

/** The plaintext cut at these positions, pushed into a scanner piece by piece. */
function scanned(bytes: Uint8Array, cuts: number[]): ClipPageScanner {
  const scan = new ClipPageScanner();
  const at = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  for (let i = 1; i < at.length; i++) scan.push(bytes.subarray(at[i - 1]!, at[i]!));
  return scan;
}

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (err) {
    return { err: String(err), reason: (err as { reason?: string }).reason };
  }
}

describe('ClipPageScanner with verifyClip', () => {
  it('decodes every whole page as it arrives and keeps only the unfinished one', () => {
    const scan = scanned(plain, [1, 2, 100, 101, 5000]);
    let pages = 0;
    for (let at = 0; at < plain.length; pages++) at += decodeOggPage(plain, at)!.length;
    expect(scan.pages).toHaveLength(pages);
    expect(scan.end).toBe(plain.length);
    expect(scan.pages.map((p) => p.offset)[1]).toBe(decodeOggPage(plain, 0)!.length);
  });

  it('gives the same opened clip as the whole plaintext, for any chunking', () => {
    const whole = verifyClip(plain, opts());
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: plain.length }), { maxLength: 30 }), (cuts) => {
        expect(verifyClip(plain, opts(), scanned(plain, cuts))).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('returns the Opus pages\' own signed bytes, which are what re-encoding the pages gives', () => {
    const { ogg } = verifyClip(plain, opts(), scanned(plain, [777]));
    const pages = [];
    for (let at = 0; at < plain.length; ) {
      const r = decodeOggPage(plain, at)!;
      pages.push(r.page);
      at += r.length;
    }
    const opus = [pages[0]!, ...pages.slice(2, -1)];
    expect(Buffer.from(ogg).equals(Buffer.from(concatBytes(opus.map(encodeOggPage))))).toBe(true);
  });

  it('a damaged page stops the scan quietly, and verifyClip reports the same error as without a scan', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: plain.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.array(fc.integer({ min: 0, max: plain.length }), { maxLength: 8 }), (at, flip, cuts) => {
        const bad = plain.slice();
        bad[at]! ^= flip;
        let scan: ClipPageScanner | undefined;
        expect(() => (scan = scanned(bad, cuts))).not.toThrow();
        expect(outcome(() => verifyClip(bad, opts(), scan))).toEqual(outcome(() => verifyClip(bad, opts())));
      }),
      { numRuns: 300 },
    );
  });

  it('pieces one byte long give the same pages, each page joined once (oggPageBytesNeeded)', () => {
    const bytewise = scanned(plain, Array.from({ length: plain.length }, (_, i) => i));
    const whole = scanned(plain, []);
    expect(bytewise.end).toBe(plain.length);
    expect(bytewise.pages.map((p) => p.offset)).toEqual(whole.pages.map((p) => p.offset));
    const first = decodeOggPage(plain, 0)!.length;
    expect(oggPageBytesNeeded(plain.subarray(0, 10), 0)).toBe(27);
    expect(oggPageBytesNeeded(plain.subarray(0, 27), 0)).toBe(27 + plain[26]!);
    expect(oggPageBytesNeeded(plain, 0)).toBe(first);
  });

  it('a plaintext cut short leaves its last page pending, and verifyClip calls it truncated', () => {
    const cut = plain.subarray(0, plain.length - 10);
    const scan = scanned(cut, [50, 3000]);
    expect(scan.end).toBeLessThan(cut.length);
    expect(() => verifyClip(cut, opts(), scan)).toThrow(/truncated inside the Ogg page/);
  });
});
