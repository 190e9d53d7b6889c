// The Ogg page checksum (RFC 3533 section 6): CRC-32 with polynomial 0x04C11DB7, initial value 0,
// no reflection of input or output and no final XOR. It differs from zlib's CRC-32 (reflected,
// 0xEDB88320, inverted), so node:zlib's crc32 cannot be used. Eight bytes per step ("slicing by 8",
// eight 256-entry tables): the firmware runs with --jitless, where the byte-at-a-time loop cost
// ~55 us per KiB and every page is checksummed when written, sealed and received.

const TABLES = 8;
const tables: Uint32Array[] = [];
for (let k = 0; k < TABLES; k++) tables.push(new Uint32Array(256));
const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
for (let i = 0; i < 256; i++) {
  let r = i << 24;
  for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  t0[i] = r >>> 0;
}
// tables[k][i]: the CRC of byte i followed by k zero bytes.
for (let k = 1; k < TABLES; k++) {
  const prev = tables[k - 1]!;
  const next = tables[k]!;
  for (let i = 0; i < 256; i++) next[i] = ((prev[i]! << 8) ^ t0[prev[i]! >>> 24]!) >>> 0;
}

/** CRC of `bytes`, continuing from `crc` (0 for a fresh checksum). */
export function oggCrc32(bytes: Uint8Array, crc = 0): number {
  let c = crc >>> 0;
  let i = 0;
  for (const whole = bytes.length - 7; i < whole; i += 8) {
    const hi = c ^ ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!);
    const lo = (bytes[i + 4]! << 24) | (bytes[i + 5]! << 16) | (bytes[i + 6]! << 8) | bytes[i + 7]!;
    c = t7[hi >>> 24]! ^ t6[(hi >>> 16) & 0xff]! ^ t5[(hi >>> 8) & 0xff]! ^ t4[hi & 0xff]! ^ t3[lo >>> 24]! ^ t2[(lo >>> 16) & 0xff]! ^ t1[(lo >>> 8) & 0xff]! ^ t0[lo & 0xff]!;
  }
  for (; i < bytes.length; i++) c = (c << 8) ^ t0[((c >>> 24) ^ bytes[i]!) & 0xff]!;
  return c >>> 0;
}
