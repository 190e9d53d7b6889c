// Ogg pages (RFC 3533 section 6), just enough for the clip layer's page surgery: inserting the
// signature stream's pages, replacing the OpusTags packet and renumbering the pages after it.
// Hand-written because the clip layer works on whole pages (bytes it signs) and must accept pages
// as they arrive; the Ogg Opus reader/writer in firmware/audio work on packets.
import { oggCrc32 } from '../audio/ogg-crc.js';

export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

export interface OggPage {
  readonly headerType: number;
  /** Granule position; -1n means "no packet ends on this page". */
  readonly granule: bigint;
  readonly serial: number;
  readonly sequence: number;
  /** Lacing values, one per segment. */
  readonly lacing: Uint8Array;
  readonly body: Uint8Array;
}

/** Thrown for structurally broken pages; the clip layer turns it into ClipError('corrupt'). */
export class OggPageError extends Error {
  override readonly name = 'OggPageError';
}

const HEADER_BYTES = 27;

/**
 * Parses the page starting at `offset`. Returns null when `bytes` ends before the page does (wait
 * for more), the page and its byte length otherwise. Throws OggPageError on a bad capture pattern,
 * version or checksum: clips are produced by us, so there is no resynchronisation.
 */
export function parseOggPage(bytes: Uint8Array, offset: number): { page: OggPage; length: number } | null {
  if (bytes.length - offset < HEADER_BYTES) return null;
  if (bytes[offset] !== 0x4f || bytes[offset + 1] !== 0x67 || bytes[offset + 2] !== 0x67 || bytes[offset + 3] !== 0x53) {
    throw new OggPageError(`no Ogg capture pattern at byte ${offset}`);
  }
  if (bytes[offset + 4] !== 0) throw new OggPageError(`unknown Ogg version ${bytes[offset + 4]} at byte ${offset}`);
  const nsegs = bytes[offset + 26]!;
  if (bytes.length - offset < HEADER_BYTES + nsegs) return null;
  const lacing = bytes.slice(offset + HEADER_BYTES, offset + HEADER_BYTES + nsegs);
  let bodyLength = 0;
  for (const l of lacing) bodyLength += l;
  const length = HEADER_BYTES + nsegs + bodyLength;
  if (bytes.length - offset < length) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
  const stored = view.getUint32(22, true);
  const raw = bytes.slice(offset, offset + length);
  raw.fill(0, 22, 26);
  if (oggCrc32(raw) !== stored) throw new OggPageError(`Ogg page checksum mismatch at byte ${offset}`);
  const page: OggPage = {
    headerType: bytes[offset + 5]!,
    granule: view.getBigInt64(6, true),
    serial: view.getUint32(14, true),
    sequence: view.getUint32(18, true),
    lacing,
    body: raw.slice(HEADER_BYTES + nsegs),
  };
  if (page.headerType & ~0x07) throw new OggPageError(`unknown Ogg header flags 0x${page.headerType.toString(16)}`);
  return { page, length };
}

/** Serialises a page, computing its checksum. */
export function serializeOggPage(page: OggPage): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + page.lacing.length + page.body.length);
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53, 0, page.headerType]);
  view.setBigInt64(6, page.granule, true);
  view.setUint32(14, page.serial, true);
  view.setUint32(18, page.sequence, true);
  out[26] = page.lacing.length;
  out.set(page.lacing, HEADER_BYTES);
  out.set(page.body, HEADER_BYTES + page.lacing.length);
  view.setUint32(22, oggCrc32(out), true);
  return out;
}

/**
 * Lays one packet out on as many pages as it needs (255 segments per page), the way RFC 7845
 * requires for header packets: the packet starts a fresh page and its last page ends with it.
 */
export function packetToPages(
  packet: Uint8Array,
  opts: { serial: number; firstSequence: number; granule: bigint; headerType: number },
): OggPage[] {
  const pages: OggPage[] = [];
  // Lacing: 255s then a final value < 255 (0 when the length is a multiple of 255).
  const lacing: number[] = [];
  for (let left = packet.length; ; left -= 255) {
    if (left >= 255) lacing.push(255);
    else {
      lacing.push(left);
      break;
    }
  }
  let bodyOffset = 0;
  for (let i = 0; i < lacing.length; i += 255) {
    const pageLacing = Uint8Array.from(lacing.slice(i, i + 255));
    const bodyLength = pageLacing.reduce((a, b) => a + b, 0);
    const last = i + 255 >= lacing.length;
    let headerType = i === 0 ? opts.headerType & ~OGG_EOS : OGG_CONTINUED;
    if (last) headerType |= opts.headerType & OGG_EOS;
    pages.push({
      headerType,
      granule: last ? opts.granule : -1n,
      serial: opts.serial,
      sequence: opts.firstSequence + pages.length,
      lacing: pageLacing,
      body: packet.slice(bodyOffset, bodyOffset + bodyLength),
    });
    bodyOffset += bodyLength;
  }
  return pages;
}

/** True when the page's last segment completes a packet (lacing value < 255). */
export function pageEndsPacket(page: OggPage): boolean {
  const n = page.lacing.length;
  return n > 0 && page.lacing[n - 1]! < 255;
}
