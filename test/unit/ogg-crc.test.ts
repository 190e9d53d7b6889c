import { describe, expect, it } from 'vitest';
import { oggCrc32 } from '../../firmware/audio/ogg-crc.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('oggCrc32 (poly 0x04C11DB7, init 0, unreflected, no final xor)', () => {
  it('matches the CRC-32/CKSUM catalogue check value with its final xor undone', () => {
    // CRC-32/CKSUM shares poly/init/reflection with Ogg and xors the result with 0xFFFFFFFF;
    // its check value for "123456789" is 0x765E7680.
    expect(oggCrc32(ascii('123456789'))).toBe((0x765e7680 ^ 0xffffffff) >>> 0);
  });

  it('is 0 for empty input and for a single zero byte', () => {
    expect(oggCrc32(new Uint8Array(0))).toBe(0);
    expect(oggCrc32(new Uint8Array([0]))).toBe(0);
  });

  it('gives the polynomial itself for the byte 0x01 followed by the register shift', () => {
    // One 0x01 byte shifts a single bit through 8 steps: the table entry 1 is the polynomial.
    expect(oggCrc32(new Uint8Array([0x01]))).toBe(0x04c11db7);
    expect(oggCrc32(new Uint8Array([0x80]))).toBe(0x690ce0ee);
  });

  it('continues across chunks exactly like one pass', () => {
    const data = ascii('OggS page bytes, split anywhere');
    for (let cut = 0; cut <= data.length; cut++) {
      expect(oggCrc32(data.subarray(cut), oggCrc32(data.subarray(0, cut)))).toBe(oggCrc32(data));
    }
  });

  it('equals a bit-at-a-time CRC for every length and alignment (the eight-byte steps and the tail)', () => {
    const bitwise = (bytes: Uint8Array): number => {
      let c = 0;
      for (const b of bytes) {
        c ^= b << 24;
        for (let bit = 0; bit < 8; bit++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      }
      return c >>> 0;
    };
    const data = new Uint8Array(2100);
    let x = 12345;
    for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    for (let len = 0; len <= 40; len++) for (let at = 0; at < 3; at++) expect(oggCrc32(data.subarray(at, at + len))).toBe(bitwise(data.subarray(at, at + len)));
    expect(oggCrc32(data)).toBe(bitwise(data));
  });

  it('differs from zlib CRC-32 (which Ogg does not use)', () => {
    expect(oggCrc32(ascii('123456789'))).not.toBe(0xcbf43926);
  });
});
