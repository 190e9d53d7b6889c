// The clip header as OpusTags comments (RFC 7845 section 5.2), so any Ogg tool shows it:
//   TORLK_VERSION=1  TORLK_CLIP_ID=<hex32>  TORLK_SENDER=<base64url ed25519>  TORLK_CHANNEL=<name>
//   TORLK_SEQUENCE=<int>  TORLK_CREATED_AT=<ISO 8601 UTC>  TORLK_CODEC=opus  TORLK_RECIPIENT=<age1...> (one per recipient)
// The duration is not a tag: a streamed clip's tags are written before the user lets go; it comes
// from the signed last granule position instead.
import { ClipError } from './clip-error.js';
import { CLIP_FORMAT_VERSION, type ClipHeader } from './clip-types.js';

export interface OpusTags {
  readonly vendor: string;
  readonly comments: readonly string[];
}

const MAGIC = new TextEncoder().encode('OpusTags');
const PREFIX = 'TORLK_';

export function parseOpusTags(packet: Uint8Array): OpusTags {
  if (packet.length < 16 || MAGIC.some((b, i) => packet[i] !== b)) throw new ClipError('corrupt', 'second Opus packet is not OpusTags');
  const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
  const dec = new TextDecoder('utf-8', { fatal: true });
  let at = 8;
  const take = (): string => {
    if (at + 4 > packet.length) throw new ClipError('corrupt', 'OpusTags truncated');
    const n = view.getUint32(at, true);
    if (at + 4 + n > packet.length) throw new ClipError('corrupt', 'OpusTags string runs past the packet');
    const bytes = packet.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    try {
      return dec.decode(bytes);
    } catch (err) {
      throw new ClipError('corrupt', 'OpusTags string is not UTF-8', { cause: err });
    }
  };
  const vendor = take();
  if (at + 4 > packet.length) throw new ClipError('corrupt', 'OpusTags truncated before the comment count');
  const count = view.getUint32(at, true);
  at += 4;
  // Each comment needs at least its 4-byte length, which bounds a hostile count.
  if (count > (packet.length - at) / 4) throw new ClipError('corrupt', `OpusTags claims ${count} comments`);
  const comments: string[] = [];
  for (let i = 0; i < count; i++) comments.push(take());
  return { vendor, comments };
}

export function encodeOpusTags(tags: OpusTags): Uint8Array {
  const enc = new TextEncoder();
  const strings = [tags.vendor, ...tags.comments].map((s) => enc.encode(s));
  const out = new Uint8Array(8 + 4 + strings.reduce((n, s) => n + 4 + s.length, 0));
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  let at = 8;
  const put = (s: Uint8Array) => {
    view.setUint32(at, s.length, true);
    out.set(s, at + 4);
    at += 4 + s.length;
  };
  put(strings[0]!);
  view.setUint32(at, tags.comments.length, true);
  at += 4;
  for (const s of strings.slice(1)) put(s);
  return out;
}

/** The header fields carried in tags: everything but the duration. */
export type TaggedHeader = Omit<ClipHeader, 'durationMs'>;

/** Replaces any TORLK_* comments with the clip header, keeping the vendor and other comments. */
export function withClipHeader(tags: OpusTags, header: TaggedHeader): OpusTags {
  const kept = tags.comments.filter((c) => !c.toUpperCase().startsWith(PREFIX));
  return {
    vendor: tags.vendor,
    comments: [
      ...kept,
      `TORLK_VERSION=${header.version}`,
      `TORLK_CLIP_ID=${header.clipId}`,
      `TORLK_SENDER=${header.sender}`,
      `TORLK_CHANNEL=${header.channel}`,
      `TORLK_SEQUENCE=${header.sequence}`,
      `TORLK_CREATED_AT=${new Date(header.createdAt).toISOString()}`,
      `TORLK_CODEC=${header.codec}`,
      ...header.recipients.map((r) => `TORLK_RECIPIENT=${r}`),
    ],
  };
}

function fields(tags: OpusTags): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const c of tags.comments) {
    const eq = c.indexOf('=');
    if (eq < 0 || !c.toUpperCase().startsWith(PREFIX)) continue;
    const key = c.slice(0, eq).toUpperCase();
    map.set(key, [...(map.get(key) ?? []), c.slice(eq + 1)]);
  }
  return map;
}

function single(map: Map<string, string[]>, key: string): string {
  const v = map.get(key);
  if (!v || v.length !== 1) throw new ClipError('bad-header', `${key} must appear exactly once (found ${v?.length ?? 0})`);
  return v[0]!;
}

/** Before the signature is checked, only these two are needed: the version and who to verify. */
export function readVersionAndSender(tags: OpusTags): { version: number; sender: string } {
  const map = fields(tags);
  const version = single(map, 'TORLK_VERSION');
  if (version !== String(CLIP_FORMAT_VERSION)) throw new ClipError('unsupported-version', `clip format version "${version}", this firmware reads ${CLIP_FORMAT_VERSION}`);
  const sender = single(map, 'TORLK_SENDER');
  if (!SIGNING_KEY.test(sender)) throw new ClipError('bad-header', 'TORLK_SENDER is not a base64url Ed25519 key');
  return { version: CLIP_FORMAT_VERSION, sender };
}

export const SIGNING_KEY = /^[A-Za-z0-9_-]{43}$/;
export const CLIP_ID = /^[0-9a-f]{32}$/;
/** Channel names: what a user can type in torlk.toml and see on a terminal. */
export const CHANNEL_NAME = /^[\p{L}\p{N}_.-][\p{L}\p{N} _.-]{0,62}$/u;
export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** The full header, checked strictly (called after the signature verified). */
export function readClipHeader(tags: OpusTags, durationMs: number): ClipHeader {
  const map = fields(tags);
  const { sender } = readVersionAndSender(tags);
  const clipId = single(map, 'TORLK_CLIP_ID');
  if (!CLIP_ID.test(clipId)) throw new ClipError('bad-header', 'TORLK_CLIP_ID is not 32 hex digits');
  const channel = single(map, 'TORLK_CHANNEL');
  if (!CHANNEL_NAME.test(channel)) throw new ClipError('bad-header', `TORLK_CHANNEL "${channel}" is not a valid channel name`);
  const seqText = single(map, 'TORLK_SEQUENCE');
  const sequence = Number(seqText);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(seqText) || !Number.isSafeInteger(sequence)) throw new ClipError('bad-header', `TORLK_SEQUENCE "${seqText}" is not a safe integer`);
  const createdText = single(map, 'TORLK_CREATED_AT');
  const createdAt = Date.parse(createdText);
  if (!Number.isFinite(createdAt) || new Date(createdAt).toISOString() !== createdText) throw new ClipError('bad-header', `TORLK_CREATED_AT "${createdText}" is not an ISO 8601 UTC time`);
  const codec = single(map, 'TORLK_CODEC');
  if (codec !== 'opus') throw new ClipError('bad-header', `TORLK_CODEC "${codec}" is not opus`);
  const recipients = map.get('TORLK_RECIPIENT') ?? [];
  if (recipients.length === 0 || !recipients.every((r) => AGE_RECIPIENT.test(r))) throw new ClipError('bad-header', 'TORLK_RECIPIENT missing or not an age1... recipient');
  return { version: CLIP_FORMAT_VERSION, clipId, sender, channel, sequence, createdAt, durationMs, codec, recipients };
}
