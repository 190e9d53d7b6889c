// The Opus comment header (RFC 7845 section 5.2), Vorbis-comment layout: "OpusTags", a vendor
// string, then user comments "KEY=value". Keys are ASCII 0x20-0x7D without '=', compared
// case-insensitively; values are UTF-8. Torlk's clip header travels in these comments.

import { OggFormatError, OggWriterError } from './ogg-errors.js';
import { startsWithMagic } from './opus-head.js';

export type OpusComment = readonly [key: string, value: string];

export interface OpusTags {
  readonly vendor: string;
  readonly comments: OpusComment[];
}

const MAGIC = 'OpusTags';
/** Default limit on an OpusTags packet, shared by writer and reader so what one writes the other reads. */
export const MAX_TAGS_BYTES = 1 << 20;
const loneSurrogate = /\p{Cs}/u;

/** Why `key` cannot be a comment field name, or undefined when it can. */
export function commentKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'comment key is empty';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c > 0x7d || c === 0x3d) return `comment key ${JSON.stringify(key)} has character 0x${c.toString(16)} (allowed: ASCII 0x20-0x7D except '=')`;
  }
  return undefined;
}

export function encodeOpusTags(tags: OpusTags, maxBytes: number): Uint8Array {
  const utf8 = new TextEncoder();
  const strings: Uint8Array[] = [];
  const add = (text: string, what: string) => {
    // TextEncoder would silently turn a lone surrogate into U+FFFD, changing the signed header.
    if (loneSurrogate.test(text)) throw new OggWriterError(`${what} contains a lone UTF-16 surrogate; it cannot be written as UTF-8`);
    strings.push(utf8.encode(text));
  };
  add(tags.vendor, 'vendor string');
  for (const [key, value] of tags.comments) {
    const problem = commentKeyProblem(key);
    if (problem) throw new OggWriterError(problem);
    add(`${key}=${value}`, `comment ${key}`);
  }
  const length = MAGIC.length + 4 * (strings.length + 1) + strings.reduce((n, s) => n + s.length, 0);
  if (length > maxBytes) throw new OggWriterError(`OpusTags would be ${length} bytes, over the ${maxBytes}-byte limit`);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out.set(utf8.encode(MAGIC), 0);
  let at = MAGIC.length;
  const putString = (s: Uint8Array) => {
    view.setUint32(at, s.length, true);
    out.set(s, at + 4);
    at += 4 + s.length;
  };
  putString(strings[0]!);
  view.setUint32(at, strings.length - 1, true);
  at += 4;
  for (const s of strings.slice(1)) putString(s);
  return out;
}

export function isOpusTags(packet: Uint8Array): boolean {
  return startsWithMagic(packet, MAGIC);
}

/** Parses and validates an OpusTags packet; trailing padding or binary data is allowed and ignored. */
export function decodeOpusTags(packet: Uint8Array, offset?: number): OpusTags {
  const bad = (detail: string) => new OggFormatError('opus-tags', detail, offset);
  if (!isOpusTags(packet)) throw bad('second packet does not start with "OpusTags"');
  const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let at = MAGIC.length;
  const readString = (what: string): string => {
    if (at + 4 > packet.length) throw bad(`${what} length runs past the end of the packet`);
    const length = view.getUint32(at, true);
    if (length > packet.length - at - 4) throw bad(`${what} of ${length} bytes runs past the end of the packet`);
    const bytes = packet.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    try {
      return utf8.decode(bytes);
    } catch {
      throw bad(`${what} is not valid UTF-8`);
    }
  };
  const vendor = readString('vendor string');
  if (at + 4 > packet.length) throw bad('comment count runs past the end of the packet');
  const count = view.getUint32(at, true);
  at += 4;
  // Each comment takes at least 4 bytes, so a larger count is a lie; checking first bounds the loop.
  if (count > (packet.length - at) / 4) throw bad(`comment count ${count} cannot fit in ${packet.length - at} bytes`);
  const comments: OpusComment[] = [];
  for (let i = 0; i < count; i++) {
    const text = readString(`comment ${i}`);
    const eq = text.indexOf('=');
    if (eq < 0) throw bad(`comment ${i} has no '='`);
    const key = text.slice(0, eq);
    const problem = commentKeyProblem(key);
    if (problem) throw bad(problem);
    comments.push([key, text.slice(eq + 1)]);
  }
  return { vendor, comments };
}
