import { describe, expect, it } from 'vitest';
import { OggFormatError } from '../../firmware/audio/ogg-errors.js';
import { decodeOggPage, encodeOggPage, GRANULE_NONE, lacingFor, OGG_MAX_PAGE_BYTES, pageEndsPacket, pagesForPacket, type OggPage } from '../../firmware/audio/ogg-page.js';

const page: OggPage = {
  continued: true,
  bos: false,
  eos: true,
  granule: 0x0102030405060708n,
  serial: 0xdeadbeef,
  sequence: 7,
  lacing: Uint8Array.from([255, 3]),
  body: new Uint8Array(258).fill(0x5a),
};

describe('Ogg page framing', () => {
  it('lays the header out as RFC 3533 section 6 says', () => {
    const bytes = encodeOggPage(page);
    expect(bytes.length).toBe(27 + 2 + 258);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('OggS');
    expect(bytes[4]).toBe(0);
    expect(bytes[5]).toBe(0x05); // continued | eos
    expect([...bytes.subarray(6, 14)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect([...bytes.subarray(14, 18)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect([...bytes.subarray(18, 22)]).toEqual([7, 0, 0, 0]);
    expect(bytes[26]).toBe(2);
  });

  it('round-trips and verifies the CRC', () => {
    const parsed = decodeOggPage(encodeOggPage(page), 0)!;
    expect(parsed.length).toBe(287);
    expect(parsed.page).toEqual(page);
  });

  it('matches a page written by libogg (opusenc): the 19-byte OpusHead BOS page', () => {
    // First page of `opusenc --serial 1` on 16 kHz mono input, CRC as libogg computed it.
    const hex = '4f676753000200000000000000000100000000000000579db60b01134f7075734865616401013801803e0000000000';
    const bytes = Buffer.from(hex, 'hex');
    const parsed = decodeOggPage(bytes, 0)!;
    expect(parsed.page).toMatchObject({ bos: true, serial: 1, sequence: 0, granule: 0n });
    expect(Buffer.from(encodeOggPage(parsed.page)).equals(bytes)).toBe(true);
  });

  it('does not modify a Buffer it parses (Buffer#slice shares memory)', () => {
    const bytes = Buffer.from(encodeOggPage(page));
    const before = Buffer.from(bytes);
    decodeOggPage(bytes, 0);
    expect(bytes.equals(before)).toBe(true);
  });

  it('asks for more bytes (null) until the page is complete, at any offset', () => {
    const bytes = Buffer.concat([Buffer.from('xx'), encodeOggPage(page)]);
    for (let end = 2; end < bytes.length; end++) expect(decodeOggPage(bytes.subarray(0, end), 2)).toBeNull();
    expect(decodeOggPage(bytes, 2)?.length).toBe(287);
  });

  it('rejects a wrong capture pattern from the first byte, without waiting for a full header', () => {
    expect(() => decodeOggPage(Uint8Array.from([0x4f, 0x67, 0x00]), 0, 100)).toThrow(OggFormatError);
    expect(() => decodeOggPage(Uint8Array.from([0x4f, 0x67, 0x00]), 0, 100)).toThrow(/at byte 100/);
  });

  it('computes lacing: multiples of 255 end with a 0 value', () => {
    expect(lacingFor(0)).toEqual([0]);
    expect(lacingFor(254)).toEqual([254]);
    expect(lacingFor(255)).toEqual([255, 0]);
    expect(lacingFor(510)).toEqual([255, 255, 0]);
    expect(lacingFor(600)).toEqual([255, 255, 90]);
  });

  it('refuses to encode an inconsistent page', () => {
    expect(() => encodeOggPage({ ...page, lacing: new Uint8Array(256).fill(1), body: new Uint8Array(256) })).toThrow(RangeError);
    expect(() => encodeOggPage({ ...page, body: new Uint8Array(3) })).toThrow(/lacing sums to 258/);
    expect(OGG_MAX_PAGE_BYTES).toBe(65307);
  });
});

describe('one packet alone on its pages (pagesForPacket)', () => {
  const packet = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
  const join = (pages: OggPage[]) => Buffer.concat(pages.map((p) => p.body));

  it.each([
    // [packet bytes, pages, lacing values on the last page]
    [0, 1, 1],
    [254, 1, 1],
    [255, 1, 2], // 255 then a 0 that ends the packet
    [255 * 254 + 254, 1, 255], // the largest packet that fits one page
    [255 * 255, 2, 1], // 255 full segments fill page one; the closing 0 needs a second page
    [255 * 255 * 2 + 1000, 3, 4],
  ])('%i bytes → %i page(s), the last with %i lacing values', (n, pageCount, lastLacing) => {
    const data = packet(n);
    const pages = pagesForPacket(data, { serial: 9, sequence: 5, granule: 0n });
    expect(pages.length).toBe(pageCount);
    expect(pages.at(-1)!.lacing.length).toBe(lacingFor(n).length - 255 * (pageCount - 1));
    expect(pages.at(-1)!.lacing.length).toBe(lastLacing);
    expect(join(pages).equals(Buffer.from(data))).toBe(true);
    pages.forEach((p, i) => {
      expect(p.sequence).toBe(5 + i);
      expect(p.serial).toBe(9);
      expect(p.continued).toBe(i > 0);
      // Only the last page completes the packet, so only it carries the granule.
      expect(pageEndsPacket(p)).toBe(i === pages.length - 1);
      expect(p.granule).toBe(i === pages.length - 1 ? 0n : GRANULE_NONE);
      // Every page is a valid page that decodes to itself.
      expect(decodeOggPage(encodeOggPage(p), 0)!.page).toEqual({ ...p, lacing: new Uint8Array(p.lacing), body: new Uint8Array(p.body) });
    });
  });

  it('puts BOS on the first page only and EOS on the last only', () => {
    const pages = pagesForPacket(packet(255 * 255 + 10), { serial: 1, sequence: 0, granule: 480n, bos: true, eos: true });
    expect(pages.map((p) => [p.bos, p.eos, p.continued, p.granule])).toEqual([
      [true, false, false, GRANULE_NONE],
      [false, true, true, 480n],
    ]);
    const single = pagesForPacket(packet(10), { serial: 1, sequence: 0, granule: 0n, bos: true, eos: true });
    expect(single.map((p) => [p.bos, p.eos, p.continued])).toEqual([[true, true, false]]);
    expect(pagesForPacket(packet(10), { serial: 1, sequence: 0, granule: 0n })[0]).toMatchObject({ bos: false, eos: false });
  });

  it('pageEndsPacket: false for an empty lacing table or a last value of 255', () => {
    expect(pageEndsPacket({ ...page, lacing: new Uint8Array(0), body: new Uint8Array(0) })).toBe(false);
    expect(pageEndsPacket({ ...page, lacing: Uint8Array.from([3, 255]), body: new Uint8Array(258) })).toBe(false);
    expect(pageEndsPacket({ ...page, lacing: Uint8Array.from([255, 0]), body: new Uint8Array(255) })).toBe(true);
  });
});
