// Ogg page framing (RFC 3533 section 6): a 27-byte header, a lacing table of up to 255 segment
// sizes, then the body. Packets are cut into 255-byte segments; a lacing value below 255 ends a
// packet, so a packet whose length is a multiple of 255 ends with a 0 lacing value.

import { oggCrc32 } from './ogg-crc.js';
import { OggFormatError } from './ogg-errors.js';

export const OGG_HEADER_BYTES = 27;
/** Largest possible page: header, 255 lacing values, 255 full segments. */
export const OGG_MAX_PAGE_BYTES = OGG_HEADER_BYTES + 255 + 255 * 255;
/** The granule position of a page on which no packet completes. */
export const GRANULE_NONE = -1n;

const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;

export interface OggPage {
  /** The first packet on this page continues one begun on the previous page. */
  readonly continued: boolean;
  readonly bos: boolean;
  readonly eos: boolean;
  /** Signed 64-bit granule position; GRANULE_NONE when no packet completes here. */
  readonly granule: bigint;
  readonly serial: number;
  readonly sequence: number;
  readonly lacing: Uint8Array;
  readonly body: Uint8Array;
}

/** Lacing values for a packet of `length` bytes that is laid out whole. */
export function lacingFor(length: number): number[] {
  const values: number[] = new Array<number>(Math.floor(length / 255)).fill(255);
  values.push(length % 255);
  return values;
}

/** True when the page's last segment completes a packet (a lacing value below 255 ends one). */
export function pageEndsPacket(page: OggPage): boolean {
  const n = page.lacing.length;
  return n > 0 && page.lacing[n - 1]! < 255;
}

export interface PacketPagesOptions {
  readonly serial: number;
  readonly sequence: number;
  /** Granule position of the last page, the one on which the packet completes. */
  readonly granule: bigint;
  /** Mark the first page beginning-of-stream. */
  readonly bos?: boolean;
  /** Mark the last page end-of-stream. */
  readonly eos?: boolean;
}

/**
 * Lays one packet out alone on as many pages as it needs (255 lacing values a page), as RFC 7845
 * section 3 requires for header packets: it starts a fresh page and its last page ends with it.
 * Pages before the last complete no packet, so they carry GRANULE_NONE.
 */
export function pagesForPacket(packet: Uint8Array, opts: PacketPagesOptions): OggPage[] {
  const lacing = lacingFor(packet.length);
  const pages: OggPage[] = [];
  let consumed = 0;
  for (let i = 0; i < lacing.length; i += 255) {
    const chunk = Uint8Array.from(lacing.slice(i, i + 255));
    const bytes = chunk.reduce((n, v) => n + v, 0);
    const last = i + 255 >= lacing.length;
    pages.push({
      continued: i > 0,
      bos: i === 0 && (opts.bos ?? false),
      eos: last && (opts.eos ?? false),
      granule: last ? opts.granule : GRANULE_NONE,
      serial: opts.serial,
      sequence: opts.sequence + pages.length,
      lacing: chunk,
      body: packet.subarray(consumed, consumed + bytes),
    });
    consumed += bytes;
  }
  return pages;
}

export function encodeOggPage(page: OggPage): Uint8Array {
  if (page.lacing.length > 255) throw new RangeError(`an Ogg page holds at most 255 lacing values, got ${page.lacing.length}`);
  const bodyLength = page.lacing.reduce((sum, v) => sum + v, 0);
  if (bodyLength !== page.body.length) throw new RangeError(`lacing sums to ${bodyLength} bytes but the body has ${page.body.length}`);
  const out = new Uint8Array(OGG_HEADER_BYTES + page.lacing.length + bodyLength);
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53], 0); // "OggS"
  out[4] = 0; // stream structure version
  out[5] = (page.continued ? FLAG_CONTINUED : 0) | (page.bos ? FLAG_BOS : 0) | (page.eos ? FLAG_EOS : 0);
  view.setBigInt64(6, page.granule, true);
  view.setUint32(14, page.serial >>> 0, true);
  view.setUint32(18, page.sequence >>> 0, true);
  // bytes 22..25: CRC, computed below over the page with this field zero
  out[26] = page.lacing.length;
  out.set(page.lacing, OGG_HEADER_BYTES);
  out.set(page.body, OGG_HEADER_BYTES + page.lacing.length);
  view.setUint32(22, oggCrc32(out), true);
  return out;
}

/**
 * How many bytes from `buf[offset]` on must be at hand before decodeOggPage can finish the page
 * there: the whole page's length once its header and lacing are in, else what reading them needs.
 * Lets a caller collecting a page from small pieces wait for all of it instead of retrying each.
 */
export function oggPageBytesNeeded(buf: Uint8Array, offset: number): number {
  const available = buf.length - offset;
  if (available < OGG_HEADER_BYTES) return OGG_HEADER_BYTES;
  const segments = buf[offset + 26]!;
  if (available < OGG_HEADER_BYTES + segments) return OGG_HEADER_BYTES + segments;
  let length = OGG_HEADER_BYTES + segments;
  for (let i = 0; i < segments; i++) length += buf[offset + OGG_HEADER_BYTES + i]!;
  return length;
}

/**
 * Parses the page starting at `buf[offset]`. Returns null when `buf` ends before the page does
 * (call again with more bytes); throws OggFormatError as soon as the bytes present are wrong.
 * `streamOffset` is the position of `buf[0]` in the whole stream, for error messages. `checkCrc`
 * false skips the CRC (and the copy it needs) for bytes whose integrity is already established: a
 * clip whose signature verified, which covers every byte.
 */
export function decodeOggPage(buf: Uint8Array, offset: number, streamOffset = 0, checkCrc = true): { page: OggPage; length: number } | null {
  const at = streamOffset + offset;
  const available = buf.length - offset;
  const magic = [0x4f, 0x67, 0x67, 0x53];
  for (let i = 0; i < Math.min(4, available); i++) {
    if (buf[offset + i] !== magic[i]) throw new OggFormatError('capture-pattern', 'expected "OggS" page capture pattern', at);
  }
  if (available < OGG_HEADER_BYTES) return null;
  const view = new DataView(buf.buffer, buf.byteOffset + offset, available);
  if (view.getUint8(4) !== 0) throw new OggFormatError('version', `stream structure version ${view.getUint8(4)}, only 0 exists`, at);
  const flags = view.getUint8(5);
  if (flags & ~0x07) throw new OggFormatError('flags', `unknown header type bits 0x${flags.toString(16)}`, at);
  const segments = view.getUint8(26);
  if (available < OGG_HEADER_BYTES + segments) return null;
  const lacing = buf.subarray(offset + OGG_HEADER_BYTES, offset + OGG_HEADER_BYTES + segments);
  let bodyLength = 0;
  for (const v of lacing) bodyLength += v;
  const length = OGG_HEADER_BYTES + segments + bodyLength;
  if (available < length) return null;
  // A copy (not Buffer#slice, which shares memory) when checking: the CRC field is zeroed for it.
  const bytes = checkCrc ? new Uint8Array(buf.subarray(offset, offset + length)) : buf.subarray(offset, offset + length);
  if (checkCrc) {
    const stored = view.getUint32(22, true);
    bytes.fill(0, 22, 26);
    const computed = oggCrc32(bytes);
    if (computed !== stored) {
      throw new OggFormatError('crc', `page CRC 0x${stored.toString(16)} but contents give 0x${computed.toString(16)}`, at);
    }
  }
  return {
    page: {
      continued: (flags & FLAG_CONTINUED) !== 0,
      bos: (flags & FLAG_BOS) !== 0,
      eos: (flags & FLAG_EOS) !== 0,
      granule: view.getBigInt64(6, true),
      serial: view.getUint32(14, true),
      sequence: view.getUint32(18, true),
      lacing: bytes.subarray(OGG_HEADER_BYTES, OGG_HEADER_BYTES + segments),
      body: bytes.subarray(OGG_HEADER_BYTES + segments),
    },
    length,
  };
}
