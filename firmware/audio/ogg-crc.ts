// The Ogg page checksum (RFC 3533 section 6): CRC-32 with polynomial 0x04C11DB7, initial value 0,
// no reflection of input or output and no final XOR. It differs from zlib's CRC-32 (reflected,
// 0xEDB88320, inverted), so node:zlib's crc32 cannot be used; a 256-entry table is enough here.

const table = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let r = i << 24;
  for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  table[i] = r >>> 0;
}

/** CRC of `bytes`, continuing from `crc` (0 for a fresh checksum). */
export function oggCrc32(bytes: Uint8Array, crc = 0): number {
  let c = crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = ((c << 8) ^ table[((c >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return c;
}
