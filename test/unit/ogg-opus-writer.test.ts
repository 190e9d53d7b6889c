import { describe, expect, it } from 'vitest';
import { OggFormatError, OggWriterError } from '../../firmware/audio/ogg-errors.js';
import { OggOpusWriter, type OggOpusWriterOptions } from '../../firmware/audio/ogg-opus-writer.js';
import { readOggOpus } from '../../firmware/audio/ogg-opus-reader.js';
import { decodeOggPage, type OggPage } from '../../firmware/audio/ogg-page.js';

// A syntactically valid 20 ms Opus packet: TOC config 9 (SILK wideband 20 ms), code 0.
const packet20ms = (length = 40, fill = 7) => {
  const p = new Uint8Array(length).fill(fill);
  p[0] = 9 << 3;
  return p;
};

const pagesOf = (bytes: Uint8Array[]): OggPage[] => bytes.map((b) => decodeOggPage(b, 0)!.page);

const base: OggOpusWriterOptions = { inputSampleRate: 16000, preSkip: 312, serial: 0x1234 };

/** Writes `n` 20 ms packets and ends with the sample count they carry at 16 kHz minus `short`. */
function clip(n: number, options: Partial<OggOpusWriterOptions> = {}, short = 0): Uint8Array[] {
  const w = new OggOpusWriter({ ...base, ...options });
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(...w.write(packet20ms(30 + (i % 50), i)));
  out.push(...w.end(n * 320 - 104 - short));
  return out;
}

describe('OggOpusWriter headers', () => {
  it('puts OpusHead alone on the BOS page and OpusTags on the next page, both at granule 0', () => {
    const w = new OggOpusWriter({ ...base, comments: [['TORLK_FROM', 'alice']] });
    const pages = pagesOf(w.flush());
    expect(pages).toHaveLength(2);
    const [head, tags] = pages as [OggPage, OggPage];
    expect(head).toMatchObject({ bos: true, eos: false, continued: false, granule: 0n, serial: 0x1234, sequence: 0 });
    expect([...head.body]).toEqual([
      ...new TextEncoder().encode('OpusHead'),
      1, // version
      1, // channels
      0x38, 0x01, // pre-skip 312, little-endian
      0x80, 0x3e, 0x00, 0x00, // 16000 Hz
      0, 0, // output gain
      0, // mapping family
    ]);
    expect(tags).toMatchObject({ bos: false, granule: 0n, sequence: 1 });
    expect(new TextDecoder().decode(tags.body)).toContain('TORLK_FROM=alice');
  });

  it('spreads a large OpusTags packet over continued pages and the reader gets it back', () => {
    const big = 'x'.repeat(70_000);
    const bytes = clip(3, { comments: [['NOTE', big], ['TORLK_CLIP', 'v1 😀']] });
    const pages = pagesOf(bytes);
    expect(pages[1]!.continued).toBe(false);
    expect(pages[1]!.granule).toBe(-1n);
    expect(pages[2]!.continued).toBe(true);
    expect(pages[2]!.granule).toBe(0n);
    const file = readOggOpus(Buffer.concat(bytes));
    expect(file.tags.comments).toEqual([['NOTE', big], ['TORLK_CLIP', 'v1 😀']]);
  });

  it.each([
    ['an empty key', ''],
    ['a key with "="', 'A=B'],
    ['a key with a control character', 'A\nB'],
    ['a key with a non-ASCII character', 'CLÉ'],
    ['a key with "~" (0x7E)', 'A~'],
  ])('rejects %s', (_, key) => {
    expect(() => new OggOpusWriter({ ...base, comments: [[key, 'v']] })).toThrow(OggWriterError);
  });

  it('rejects a value or vendor with a lone surrogate instead of silently rewriting it', () => {
    expect(() => new OggOpusWriter({ ...base, comments: [['K', 'a\ud800b']] })).toThrow(/surrogate/);
    expect(() => new OggOpusWriter({ ...base, vendor: '\udc00' })).toThrow(/surrogate/);
  });

  it('rejects tags over the reader limit', () => {
    expect(() => new OggOpusWriter({ ...base, comments: [['K', 'v'.repeat(1 << 20)]] })).toThrow(/limit/);
  });

  it.each([
    [{ inputSampleRate: 44100 }, /not an Opus rate/],
    [{ preSkip: -1 }, /pre-skip/],
    [{ preSkip: 65536 }, /pre-skip/],
    [{ preSkip: 1.5 }, /pre-skip/],
    [{ channels: 3 as 1 }, /channels/],
    [{ serial: 2 ** 32 }, /serial/],
    [{ maxPageSamples: 0 }, /maxPageSamples/],
  ])('rejects bad options %o', (bad, message) => {
    expect(() => new OggOpusWriter({ ...base, ...bad })).toThrow(message);
  });
});

describe('OggOpusWriter audio pages', () => {
  it('streams: headers on the first call, then a page per second of audio, granules counting 48 kHz samples', () => {
    const w = new OggOpusWriter(base);
    const first = w.write(packet20ms());
    expect(pagesOf(first).map((p) => p.sequence)).toEqual([0, 1]);
    const later: Uint8Array[] = [];
    for (let i = 1; i < 120; i++) later.push(...w.write(packet20ms()));
    const pages = pagesOf(later);
    expect(pages.map((p) => p.granule)).toEqual([48000n, 96000n]);
    expect(pages.map((p) => p.lacing.length)).toEqual([50, 50]);
    expect(pages.every((p) => !p.eos && !p.continued)).toBe(true);
  });

  it('flush() closes the page early but keeps the newest packet for the EOS page', () => {
    const w = new OggOpusWriter(base);
    w.flush();
    w.write(packet20ms());
    expect(w.flush()).toEqual([]); // one packet: held back
    for (let i = 0; i < 9; i++) w.write(packet20ms());
    const flushed = pagesOf(w.flush());
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.granule).toBe(9n * 960n);
    const last = pagesOf(w.end(10 * 320 - 104));
    expect(last).toHaveLength(1);
    expect(last[0]!).toMatchObject({ eos: true, granule: 312n + 3n * (10n * 320n - 104n) });
    expect(last[0]!.lacing.length).toBe(1);
  });

  it('trims the end through the final granule: pre-skip plus the input length at 48 kHz', () => {
    const pages = pagesOf(clip(10, {}, 50));
    const final = pages[pages.length - 1]!;
    expect(final.eos).toBe(true);
    expect(final.granule).toBe(BigInt(312 + 3 * (10 * 320 - 104 - 50)));
    expect(pages.filter((p) => p.eos)).toHaveLength(1);
  });

  it('rounds a non-48 kHz-multiple end up so no input sample is lost (12 kHz input)', () => {
    const w = new OggOpusWriter({ ...base, inputSampleRate: 12000 });
    w.write(packet20ms());
    w.write(packet20ms());
    const [final] = pagesOf(w.end(300));
    expect(final!.granule).toBe(BigInt(312 + 1200));
  });

  it('lays out a 255-byte packet as lacing 255,0 and a 600-byte one as 255,255,90', () => {
    const w = new OggOpusWriter(base);
    w.write(packet20ms(255));
    w.write(packet20ms(600));
    const pages = pagesOf(w.end(2 * 320 - 104));
    expect([...pages.at(-1)!.lacing]).toEqual([255, 0, 255, 255, 90]);
  });

  it('closes a page before its lacing table would pass 255 values', () => {
    const w = new OggOpusWriter({ ...base, maxPageSamples: 10 * 48000 });
    const out: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) out.push(...w.write(packet20ms(600))); // 3 lacing values each
    const audio = pagesOf(out).slice(2);
    expect(audio[0]!.lacing.length).toBe(255);
    expect(audio[0]!.granule).toBe(85n * 960n);
  });

  it('reads back exactly: packets, granules, duration', () => {
    const bytes = clip(137, {}, 17);
    const file = readOggOpus(Buffer.concat(bytes));
    expect(file.packets).toHaveLength(137);
    expect(file.packets.map((p) => p.data[1])).toEqual(Array.from({ length: 137 }, (_, i) => i & 0xff));
    expect(file.finalGranule).toBe(312 + 3 * (137 * 320 - 104 - 17));
    expect(file.durationSamples).toBe(3 * (137 * 320 - 104 - 17));
    expect(file.packets.at(-2)!.granule).toBe(136 * 960);
    expect(file.packets.at(-1)!.granule).toBe(file.finalGranule);
  });
});

describe('OggOpusWriter misuse', () => {
  it.each([
    ['an empty packet', new Uint8Array(0), /empty/],
    ['a code 3 packet with no frame count', new Uint8Array([0x4b]), /frame count/],
    ['a code 3 packet with zero frames', new Uint8Array([0x4b, 0x00]), /zero frames/],
    ['a packet over 120 ms', new Uint8Array([0x4b, 7]), /120 ms/],
    ['a code 1 packet with an odd payload', new Uint8Array([0x49, 1, 2, 3]), /odd/],
    ['a code 2 packet whose frame length overruns', new Uint8Array([0x4a, 200, 1]), /past the end/],
  ])('rejects %s', (_, packet, message) => {
    const w = new OggOpusWriter(base);
    expect(() => w.write(packet)).toThrow(message);
    expect(() => w.write(packet)).toThrow(OggWriterError);
  });

  it('refuses end() with no audio (it would need an empty EOS page)', () => {
    expect(() => new OggOpusWriter(base).end(0)).toThrow(/no audio packet/);
  });

  it('refuses an end that claims more samples than the packets carry', () => {
    const w = new OggOpusWriter(base);
    w.write(packet20ms());
    expect(() => w.end(320)).toThrow(/only reach/);
  });

  it('refuses an end trim longer than the last packet', () => {
    const w = new OggOpusWriter(base);
    w.write(packet20ms());
    w.write(packet20ms());
    expect(() => w.end(100)).toThrow(/more than the last packet/);
    expect(() => w.end(-1)).toThrow(/non-negative/);
    expect(() => w.end(Number.NaN)).toThrow(/non-negative/);
  });

  it('refuses any call after end()', () => {
    const w = new OggOpusWriter(base);
    w.write(packet20ms());
    w.end(200);
    expect(() => w.write(packet20ms())).toThrow(/after end/);
    expect(() => w.flush()).toThrow(/after end/);
    expect(() => w.end(200)).toThrow(/twice/);
  });

  it('writes nothing the reader rejects when the caller flushes after every packet', () => {
    const w = new OggOpusWriter(base);
    const out: Uint8Array[] = [];
    for (let i = 0; i < 30; i++) out.push(...w.write(packet20ms()), ...w.flush());
    out.push(...w.end(30 * 320 - 104));
    expect(() => readOggOpus(Buffer.concat(out))).not.toThrow(OggFormatError);
    expect(readOggOpus(Buffer.concat(out)).packets).toHaveLength(30);
  });
});
