import { describe, expect, it } from 'vitest';
import { OggFormatError, type OggProblem } from '../../firmware/audio/ogg-errors.js';
import { OggOpusDemuxer, readOggOpus } from '../../firmware/audio/ogg-opus-reader.js';
import { OggOpusWriter } from '../../firmware/audio/ogg-opus-writer.js';
import { encodeOggPage, lacingFor, type OggPage } from '../../firmware/audio/ogg-page.js';
import { encodeOpusHead } from '../../firmware/audio/opus-head.js';
import { encodeOpusTags } from '../../firmware/audio/opus-tags.js';

const packet20ms = (fill = 1) => Uint8Array.from([9 << 3, fill, fill, fill]);
const head = encodeOpusHead({ channels: 1, preSkip: 312, inputSampleRate: 16000 });
const tags = encodeOpusTags({ vendor: 'test', comments: [['A', 'b']] }, 1 << 20);

type PageSpec = Partial<Omit<OggPage, 'lacing' | 'body'>> & { packets?: Uint8Array[]; lacing?: number[]; body?: Uint8Array };

/** Builds pages by hand; sequence numbers count per serial unless given. */
function stream(specs: PageSpec[]): Uint8Array {
  const seq = new Map<number, number>();
  return Buffer.concat(
    specs.map((s) => {
      const serial = s.serial ?? 1;
      const sequence = s.sequence ?? seq.get(serial) ?? 0;
      seq.set(serial, sequence + 1);
      const packets = s.packets ?? [];
      return encodeOggPage({
        continued: s.continued ?? false,
        bos: s.bos ?? false,
        eos: s.eos ?? false,
        granule: s.granule ?? 0n,
        serial,
        sequence,
        lacing: Uint8Array.from(s.lacing ?? packets.flatMap((p) => lacingFor(p.length))),
        body: s.body ?? Buffer.concat(packets),
      });
    }),
  );
}

const headers: PageSpec[] = [{ bos: true, packets: [head] }, { packets: [tags] }];
const valid = (): PageSpec[] => [...headers, { packets: [packet20ms(), packet20ms()], granule: 1920n }, { packets: [packet20ms()], granule: 2500n, eos: true }];

function problemOf(bytes: Uint8Array): OggProblem | 'none' {
  try {
    readOggOpus(bytes);
    return 'none';
  } catch (err) {
    if (err instanceof OggFormatError) return err.problem;
    throw err;
  }
}

describe('readOggOpus on valid streams', () => {
  it('reads a hand-built stream: head, tags, packet granules, end trim, duration', () => {
    const file = readOggOpus(stream(valid()));
    expect(file.head).toMatchObject({ channels: 1, preSkip: 312, inputSampleRate: 16000, version: 1 });
    expect(file.tags).toEqual({ vendor: 'test', comments: [['A', 'b']] });
    expect(file.packets.map((p) => p.granule)).toEqual([960, 1920, 2500]);
    expect(file.finalGranule).toBe(2500);
    expect(file.durationSamples).toBe(2500 - 312);
    expect(file.durationSeconds).toBeCloseTo(2188 / 48000, 9);
  });

  it('accepts a start offset on the first audio page and measures duration from it', () => {
    const pages = valid();
    pages[2] = { packets: [packet20ms(), packet20ms()], granule: 10_000n };
    pages[3] = { packets: [packet20ms()], granule: 10_500n, eos: true };
    const file = readOggOpus(stream(pages));
    expect(file.startGranule).toBe(10_000 - 1920);
    expect(file.durationSamples).toBe(10_500 - 8080 - 312);
  });

  it('accepts a single audio page that is also the EOS page with a trimmed granule', () => {
    const file = readOggOpus(stream([...headers, { packets: [packet20ms(), packet20ms()], granule: 1000n, eos: true }]));
    expect(file.finalGranule).toBe(1000);
    expect(file.packets.map((p) => p.granule)).toEqual([960, 1000]);
  });

  it('joins a packet continued over pages, with granule -1 on the page where nothing completes', () => {
    const big = new Uint8Array(600).fill(3);
    big[0] = 9 << 3;
    const pages: PageSpec[] = [
      ...headers,
      { lacing: [255], body: big.subarray(0, 255), granule: -1n },
      { continued: true, lacing: [255, 90], body: big.subarray(255), granule: 960n, eos: true },
    ];
    const file = readOggOpus(stream(pages));
    expect(file.packets).toHaveLength(1);
    expect(Buffer.from(file.packets[0]!.data).equals(Buffer.from(big))).toBe(true);
  });

  it('passes a second logical stream through as other-stream packets', () => {
    const sig = new TextEncoder().encode('TorlkSig\x01signature-bytes');
    const pages: PageSpec[] = [
      { bos: true, packets: [head] },
      { bos: true, serial: 9, packets: [sig] },
      { packets: [tags] },
      { packets: [packet20ms()], granule: 960n, eos: true },
      { serial: 9, packets: [new Uint8Array([1, 2, 3])], eos: true, granule: 0n },
    ];
    const file = readOggOpus(stream(pages));
    expect(file.packets).toHaveLength(1);
    expect(file.otherStreams).toEqual([{ serial: 9, packets: [sig, new Uint8Array([1, 2, 3])] }]);
  });

  it('finds the Opus stream even when another stream begins first', () => {
    const pages: PageSpec[] = [{ bos: true, serial: 9, packets: [new Uint8Array([7])] }, ...valid(), { serial: 9, eos: true, packets: [] }];
    const file = readOggOpus(stream(pages));
    expect(file.serial).toBe(1);
    expect(file.otherStreams[0]!.serial).toBe(9);
  });

  it('gives the same events whatever the chunking (streaming push)', () => {
    const w = new OggOpusWriter({ inputSampleRate: 16000, preSkip: 312 });
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 120; i++) parts.push(...w.write(packet20ms(i)));
    parts.push(...w.end(120 * 320 - 200));
    const bytes = Buffer.concat(parts);
    const whole = readOggOpus(bytes);
    for (const size of [1, 7, 4096]) {
      const d = new OggOpusDemuxer();
      const granules: number[] = [];
      for (let at = 0; at < bytes.length; at += size) {
        for (const e of d.push(bytes.subarray(at, at + size))) if (e.kind === 'audio') granules.push(e.packet.granule);
      }
      expect(granules).toEqual(whole.packets.map((p) => p.granule));
      expect(d.end().finalGranule).toBe(whole.finalGranule);
    }
  });

  it('streams events in order: head, tags, then audio packets as their pages complete', () => {
    const d = new OggOpusDemuxer();
    const bytes = stream(valid());
    const kinds = d.push(bytes.subarray(0, 60)).map((e) => e.kind);
    kinds.push(...d.push(bytes.subarray(60)).map((e) => e.kind));
    expect(kinds).toEqual(['head', 'tags', 'audio', 'audio', 'audio']);
    expect(d.end().packetCount).toBe(3);
  });

  it('reports an incomplete stream from end() after streaming', () => {
    const d = new OggOpusDemuxer();
    d.push(stream(valid().slice(0, 3)));
    expect(() => d.end()).toThrow(OggFormatError);
  });

  it('ignores padding after the comments in OpusTags', () => {
    const padded = Buffer.concat([tags, new Uint8Array(512)]);
    const file = readOggOpus(stream([headers[0]!, { packets: [padded] }, ...valid().slice(2)]));
    expect(file.tags.comments).toEqual([['A', 'b']]);
  });
});

const le32 = (n: number) => Uint8Array.from([n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24]);
const tagsWith = (...parts: Uint8Array[]) => Buffer.concat([new TextEncoder().encode('OpusTags'), ...parts]);
const str = (s: string | Uint8Array) => {
  const b = typeof s === 'string' ? new TextEncoder().encode(s) : s;
  return Buffer.concat([le32(b.length), b]);
};
const withHead = (mutate: (h: Uint8Array) => void, length = 19) => {
  const h = new Uint8Array(length);
  h.set(head.subarray(0, Math.min(19, length)));
  mutate(h);
  return stream([{ bos: true, packets: [h] }, ...valid().slice(1)]);
};
const withTags = (t: Uint8Array) => stream([headers[0]!, { packets: [t] }, ...valid().slice(2)]);
const corrupt = (bytes: Uint8Array, at: number, value: number) => {
  const copy = Uint8Array.from(bytes);
  copy[at] = value;
  return copy;
};

describe('readOggOpus rejects malformed input with a typed error', () => {
  const good = stream(valid());
  const cases: Array<[string, () => Uint8Array, OggProblem]> = [
    ['empty input', () => new Uint8Array(0), 'truncated'],
    ['a wrong capture pattern', () => corrupt(good, 0, 0x50), 'capture-pattern'],
    ['garbage after the last page', () => Buffer.concat([good, new TextEncoder().encode('junk')]), 'capture-pattern'],
    ['a stray "O" after the last page', () => Buffer.concat([good, new Uint8Array([0x4f])]), 'truncated'],
    ['stream structure version 1', () => corrupt(good, 4, 1), 'version'],
    ['unknown header type bits', () => corrupt(good, 5, 0x0a), 'flags'],
    ['a flipped body bit (CRC)', () => corrupt(good, 40, good[40]! ^ 1), 'crc'],
    ['input cut inside a page', () => good.subarray(0, good.length - 3), 'truncated'],
    ['input cut at a page boundary, before EOS', () => stream(valid().slice(0, 3)), 'truncated'],
    ['a missing page (sequence gap)', () => stream([...headers, { packets: [packet20ms()], granule: 960n, eos: true, sequence: 3 }]), 'sequence'],
    ['a repeated page', () => stream([...headers, { packets: [tags], sequence: 1 }, ...valid().slice(2)]), 'sequence'],
    ['a page of a stream that never began', () => stream([...valid().slice(0, 3), { serial: 5, packets: [packet20ms()] }]), 'stream-structure'],
    ['two BOS pages for one stream', () => stream([headers[0]!, { bos: true, packets: [head], sequence: 1 }]), 'stream-structure'],
    ['a chained stream after the end', () => stream([...valid(), { bos: true, serial: 2, packets: [head] }]), 'chained'],
    ['a page after EOS', () => stream([...valid(), { packets: [packet20ms()], granule: 3000n }]), 'stream-structure'],
    ['a continued flag with nothing to continue', () => stream([...headers, { continued: true, packets: [packet20ms()], granule: 960n, eos: true }]), 'stream-structure'],
    ['a packet left unfinished by the next page', () => stream([...headers, { lacing: [255], body: new Uint8Array(255).fill(72), granule: -1n }, { packets: [packet20ms()], granule: 960n, eos: true }]), 'stream-structure'],
    ['an EOS page ending inside a packet', () => stream([...headers, { lacing: [255], body: new Uint8Array(255).fill(72), granule: -1n, eos: true }]), 'stream-structure'],
    ['a BOS page continuing a packet', () => stream([{ bos: true, continued: true, packets: [head] }]), 'stream-structure'],
    ['no Opus stream at all', () => stream([{ bos: true, packets: [new TextEncoder().encode('\x01vorbis')] }, { packets: [tags] }]), 'no-opus-stream'],
    ['a stream that ends after OpusHead', () => stream([{ bos: true, eos: true, packets: [head] }]), 'truncated'],
    ['a stream that ends after OpusTags', () => stream([headers[0]!, { packets: [tags], eos: true }]), 'truncated'],
    ['OpusHead sharing its page', () => stream([{ bos: true, packets: [head, tags] }]), 'opus-head'],
    ['OpusHead on a page with a granule', () => stream([{ bos: true, packets: [head], granule: 5n }, ...valid().slice(1)]), 'granule'],
    ['OpusHead version 16', () => withHead((h) => (h[8] = 16)), 'opus-head'],
    ['OpusHead with 0 channels', () => withHead((h) => (h[9] = 0)), 'opus-head'],
    ['OpusHead with 3 channels in family 0', () => withHead((h) => (h[9] = 3)), 'opus-head'],
    ['OpusHead with mapping family 1', () => withHead((h) => (h[18] = 1)), 'opus-head'],
    ['a short OpusHead', () => withHead(() => undefined, 18), 'opus-head'],
    ['OpusTags missing', () => stream([headers[0]!, { packets: [packet20ms()], granule: 960n, eos: true }]), 'opus-tags'],
    ['audio on the OpusTags page', () => stream([headers[0]!, { packets: [tags, packet20ms()] }]), 'opus-tags'],
    ['OpusTags on a page with a granule', () => stream([headers[0]!, { packets: [tags], granule: 960n }]), 'granule'],
    ['an OpusTags vendor length past the end', () => withTags(tagsWith(le32(1000), new Uint8Array(4))), 'opus-tags'],
    ['an OpusTags without a comment count', () => withTags(tagsWith(str('v'))), 'opus-tags'],
    ['an OpusTags comment count that cannot fit', () => withTags(tagsWith(str('v'), le32(0xffffffff))), 'opus-tags'],
    ['a comment without "="', () => withTags(tagsWith(str('v'), le32(1), str('NOEQUALS'))), 'opus-tags'],
    ['a comment with an empty key', () => withTags(tagsWith(str('v'), le32(1), str('=x'))), 'opus-tags'],
    ['a comment that is not UTF-8', () => withTags(tagsWith(str('v'), le32(1), str(Uint8Array.from([0x41, 0x3d, 0xff])))), 'opus-tags'],
    ['a vendor that is not UTF-8', () => withTags(tagsWith(str(Uint8Array.from([0xc3])), le32(0))), 'opus-tags'],
    ['an empty audio packet', () => stream([...headers, { packets: [new Uint8Array(0)], granule: 0n, eos: true }]), 'opus-packet'],
    ['an audio packet over 120 ms', () => stream([...headers, { packets: [Uint8Array.from([0x4b, 63])], granule: 960n, eos: true }]), 'opus-packet'],
    ['a first audio page granule below its samples', () => stream([...headers, { packets: [packet20ms(), packet20ms()], granule: 1000n }, { packets: [packet20ms()], granule: 2880n, eos: true }]), 'granule'],
    ['a granule that skips ahead mid-stream', () => stream([...headers, { packets: [packet20ms()], granule: 960n }, { packets: [packet20ms()], granule: 2000n }, { packets: [packet20ms()], granule: 2960n, eos: true }]), 'granule'],
    ['an EOS granule beyond its packets', () => stream([...headers, { packets: [packet20ms()], granule: 960n }, { packets: [packet20ms()], granule: 1921n, eos: true }]), 'granule'],
    ['an EOS granule trimming past the previous page', () => stream([...headers, { packets: [packet20ms()], granule: 960n }, { packets: [packet20ms()], granule: 959n, eos: true }]), 'granule'],
    ['a page completing packets with granule -1', () => stream([...headers, { packets: [packet20ms()], granule: -1n, eos: true }]), 'granule'],
    ['a negative granule', () => stream([...headers, { packets: [packet20ms()], granule: -5n, eos: true }]), 'granule'],
    ['a granule beyond 2^53', () => stream([...headers, { packets: [packet20ms()], granule: 2n ** 60n, eos: true }]), 'granule'],
    ['a page with a granule but no completed packet', () => stream([...headers, { lacing: [255], body: new Uint8Array(255).fill(72), granule: 5n }, { continued: true, lacing: [0], body: new Uint8Array(0), granule: 0n, eos: true }]), 'granule'],
  ];
  it.each(cases)('%s', (_, make, problem) => {
    expect(problemOf(make())).toBe(problem);
  });

  it('verified: page CRCs are not computed again, and every other defect is still refused', () => {
    const badCrc = corrupt(good, 22, good[22]! ^ 0xff); // the first page's CRC field itself
    expect(problemOf(badCrc)).toBe('crc');
    const read = readOggOpus(badCrc, { verified: true });
    expect(read.packets).toEqual(readOggOpus(good).packets);
    expect(read.durationSamples).toBe(readOggOpus(good).durationSamples);
    for (const [, make, problem] of cases) {
      if (problem === 'crc') continue;
      let got: OggProblem | 'none' = 'none';
      try {
        readOggOpus(make(), { verified: true });
      } catch (err) {
        got = (err as OggFormatError).problem;
      }
      expect(got).toBe(problem);
    }
  });

  it('names the byte offset of the bad page', () => {
    const bad = corrupt(good, 40, good[40]! ^ 1);
    expect(() => readOggOpus(bad)).toThrow(/at byte 0/);
    const err = (() => {
      try {
        readOggOpus(stream([...headers, { packets: [packet20ms()], granule: 960n, eos: true, sequence: 3 }]));
      } catch (e) {
        return e as OggFormatError;
      }
    })();
    expect(err?.offset).toBe(stream(headers).length);
  });

  it('bounds memory: a packet over the limit, too many streams, too much other-stream data', () => {
    const big = new Uint8Array(2000).fill(9);
    big[0] = 9 << 3;
    const bytes = stream([...headers, { packets: [big], granule: 960n, eos: true }]);
    expect(() => readOggOpus(bytes, { maxPacketBytes: 1000 })).toThrow(/exceeds 1000 bytes/);
    const many = stream([{ bos: true, packets: [head] }, ...[2, 3, 4, 5].map((serial) => ({ bos: true, serial, packets: [new Uint8Array([1])] }))]);
    expect(problemOf(many)).toBe('too-large');
    const other = stream([headers[0]!, { bos: true, serial: 2, packets: [new Uint8Array(3000)] }, ...valid().slice(1), { serial: 2, eos: true }]);
    expect(() => readOggOpus(other, { maxOtherStreamBytes: 1000 })).toThrow(OggFormatError);
  });
});
