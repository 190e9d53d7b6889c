import { describe, expect, it } from 'vitest';
import { OggFormatError } from '../../firmware/audio/ogg-errors.js';
import { decodeOggPage, encodeOggPage, lacingFor, OGG_MAX_PAGE_BYTES, type OggPage } from '../../firmware/audio/ogg-page.js';

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
