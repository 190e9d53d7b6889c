// Property and fuzz tests of the Ogg Opus reader and writer: whatever the bytes, the reader either
// returns or throws OggFormatError (never another error, never hangs); whatever the caller's
// write/flush pattern, the writer's output reads back exactly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OggFormatError } from '../../firmware/audio/ogg-errors.js';
import { OggOpusDemuxer, readOggOpus } from '../../firmware/audio/ogg-opus-reader.js';
import { OggOpusWriter } from '../../firmware/audio/ogg-opus-writer.js';
import { decodeOggPage, encodeOggPage, type OggPage } from '../../firmware/audio/ogg-page.js';

/** A packet of `frames` 20 ms SILK frames (code 0 or code 3) with `length` bytes. */
const packetArb = fc
  .record({ length: fc.integer({ min: 2, max: 700 }), code3: fc.boolean(), frames: fc.integer({ min: 1, max: 6 }), fill: fc.integer({ min: 0, max: 255 }) })
  .map(({ length, code3, frames, fill }) => {
    const p = new Uint8Array(length).fill(fill);
    p[0] = (9 << 3) | (code3 ? 3 : 0);
    if (code3) p[1] = frames;
    return p;
  });

type Step = { kind: 'packet'; data: Uint8Array } | { kind: 'flush' };
const stepsArb = fc.array(fc.oneof({ weight: 5, arbitrary: packetArb.map((data): Step => ({ kind: 'packet', data })) }, { weight: 1, arbitrary: fc.constant<Step>({ kind: 'flush' }) }), { minLength: 1, maxLength: 200 });

function writeSteps(steps: Step[], trim: number, comments: Array<[string, string]> = []) {
  const w = new OggOpusWriter({ inputSampleRate: 48000, preSkip: 312, comments, maxPageSamples: 9600 });
  const out: Uint8Array[] = [];
  const packets: Uint8Array[] = [];
  let last = 0;
  let total = 0;
  for (const s of steps) {
    if (s.kind === 'flush') out.push(...w.flush());
    else {
      out.push(...w.write(s.data));
      packets.push(s.data);
      last = s.data[0]! & 3 ? 960 * s.data[1]! : 960;
      total += last;
    }
  }
  if (packets.length === 0) {
    const p = Uint8Array.from([9 << 3, 0]);
    out.push(...w.write(p));
    packets.push(p);
    last = 960;
    total = 960;
  }
  const input = total - 312 - Math.min(trim, last - 1, total - 312);
  out.push(...w.end(input));
  return { bytes: Buffer.concat(out), packets, input };
}

function onlyTypedErrors(bytes: Uint8Array): void {
  try {
    readOggOpus(bytes);
  } catch (err) {
    if (!(err instanceof OggFormatError)) throw err;
  }
}

const sample = writeSteps(
  Array.from({ length: 60 }, (_, i): Step => (i % 17 === 16 ? { kind: 'flush' } : { kind: 'packet', data: Uint8Array.from([9 << 3, i, i, i, i]) })),
  100,
  [['TORLK', 'x']],
).bytes;

describe('OggOpusWriter properties', () => {
  it('any write/flush pattern reads back with the same packets, granules and trimmed length', () => {
    fc.assert(
      fc.property(stepsArb, fc.nat(5000), (steps, trim) => {
        const { bytes, packets, input } = writeSteps(steps, trim);
        const file = readOggOpus(bytes);
        expect(file.packets.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(packets.map((p) => Buffer.from(p).toString('hex')));
        expect(file.finalGranule).toBe(312 + input);
        expect(file.durationSamples).toBe(input);
        for (let i = 1; i < file.packets.length; i++) expect(file.packets[i]!.granule).toBeGreaterThan(file.packets[i - 1]!.granule);
      }),
      { numRuns: 500 },
    );
  });

  it('any comment list with valid keys round-trips', () => {
    const key = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7d }).filter((c) => c !== 0x3d).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.string({ unit: 'grapheme', maxLength: 50 })), { maxLength: 20 }), (comments) => {
        const { bytes } = writeSteps([], 0, comments);
        expect(readOggOpus(bytes).tags.comments).toEqual(comments);
      }),
      { numRuns: 300 },
    );
  });
});

describe('readOggOpus fuzz: only OggFormatError, whatever the input', () => {
  it('random bytes, with and without a capture pattern in front', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, magic) => {
        onlyTypedErrors(magic ? Buffer.concat([Buffer.from('OggS\0'), bytes]) : bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('every truncation of a valid file is reported as truncated', () => {
    for (let cut = 0; cut < sample.length; cut++) {
      let problem = 'none';
      try {
        readOggOpus(sample.subarray(0, cut));
      } catch (err) {
        if (!(err instanceof OggFormatError)) throw err;
        problem = err.problem;
      }
      expect(problem, `cut at ${cut}`).toBe('truncated');
    }
  });

  it('bit flips of a valid file', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(sample.length * 8 - 1), { minLength: 1, maxLength: 8 }), (bits) => {
        const copy = Uint8Array.from(sample);
        for (const b of bits) copy[b >> 3]! ^= 1 << (b & 7);
        onlyTypedErrors(copy);
      }),
      { numRuns: 3000 },
    );
  });

  it('page-aware mutations that keep the CRC valid reach the Opus checks', () => {
    const pages: OggPage[] = [];
    for (let at = 0; at < sample.length; ) {
      const parsed = decodeOggPage(sample, at)!;
      pages.push(parsed.page);
      at += parsed.length;
    }
    const mutation = fc.record({
      page: fc.nat(pages.length - 1),
      field: fc.constantFrom('body', 'granule', 'flags', 'sequence', 'serial', 'drop', 'swap', 'lacing'),
      value: fc.integer(),
      byte: fc.nat(),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const list = pages.map((p) => ({ ...p, body: Uint8Array.from(p.body), lacing: Uint8Array.from(p.lacing) }));
        for (const m of mutations) {
          const i = m.page % list.length;
          const p = list[i]!;
          if (m.field === 'body' && p.body.length > 0) p.body[m.byte % p.body.length] = m.value & 255;
          if (m.field === 'granule') list[i] = { ...p, granule: BigInt(m.value) };
          if (m.field === 'flags') list[i] = { ...p, continued: (m.value & 1) === 1, bos: (m.value & 2) === 2, eos: (m.value & 4) === 4 };
          if (m.field === 'sequence') list[i] = { ...p, sequence: m.value >>> 0 };
          if (m.field === 'serial') list[i] = { ...p, serial: m.value >>> 0 };
          if (m.field === 'drop' && list.length > 1) list.splice(i, 1);
          if (m.field === 'swap' && i + 1 < list.length) [list[i], list[i + 1]] = [list[i + 1]!, p];
          if (m.field === 'lacing' && p.lacing.length > 1) {
            // move one byte between two segments: the body length stays consistent with the table
            const j = m.byte % (p.lacing.length - 1);
            if (p.lacing[j]! > 0 && p.lacing[j + 1]! < 255) {
              p.lacing[j]!--;
              p.lacing[j + 1]!++;
            }
          }
        }
        onlyTypedErrors(Buffer.concat(list.map((p) => encodeOggPage(p))));
      }),
      { numRuns: 3000 },
    );
  });

  it('random chunkings of a valid file give the same packets as one push', () => {
    const whole = readOggOpus(sample);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        const d = new OggOpusDemuxer();
        let count = 0;
        let at = 0;
        for (let i = 0; at < sample.length; i++) {
          const size = sizes[i % sizes.length]!;
          count += d.push(sample.subarray(at, at + size)).filter((e) => e.kind === 'audio').length;
          at += size;
        }
        expect(count).toBe(whole.packets.length);
        expect(d.end().finalGranule).toBe(whole.finalGranule);
      }),
      { numRuns: 500 },
    );
  });
});
