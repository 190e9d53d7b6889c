// The clip header as OpusTags comments (RFC 7845 section 5.2), so any Ogg tool shows it:
//   TORLK_VERSION=1  TORLK_CLIP_ID=<hex32>  TORLK_SENDER=<base64url ed25519>  TORLK_CHANNEL=<name>
//   TORLK_SEQUENCE=<int>  TORLK_CREATED_AT=<ISO 8601 UTC>  TORLK_CODEC=opus  TORLK_RECIPIENT=<age1...> (one per recipient)
// The duration is not a tag: a streamed clip's tags are written before the user lets go; it comes
// from the signed last granule position instead.
// The OpusTags packet itself is firmware/audio's codec (opus-tags.ts); this file maps the header
// onto its comments and its errors onto ClipError.
import { decodeOpusTags, encodeOpusTags, type OpusComment, type OpusTags } from '../audio/opus-tags.js';
import { ClipError, clipErrorFromOgg } from './clip-error.js';
import { CLIP_FORMAT_VERSION, MAX_CLIP_BYTES, type ClipHeader } from './clip-types.js';

const PREFIX = 'TORLK_';

/** Decodes the OpusTags packet; a malformed one is a corrupt clip (`what` says whose: input or clip). */
export function decodeClipTags(packet: Uint8Array, what: string): OpusTags {
  try {
    return decodeOpusTags(packet);
  } catch (err) {
    throw clipErrorFromOgg(err, what);
  }
}

/**
 * Encodes the tags for a clip. The limit is the clip's own size cap: tags larger than that could
 * never be opened. The comments come from decoded input plus validated header fields, so the
 * codec's other refusals (bad keys, lone surrogates) cannot happen; the size one is the input's fault.
 */
export function encodeClipTags(tags: OpusTags): Uint8Array {
  try {
    return encodeOpusTags(tags, MAX_CLIP_BYTES);
  } catch (err) {
    throw clipErrorFromOgg(err, 'input Ogg Opus');
  }
}

/** The header fields carried in tags: everything but the duration. */
export type TaggedHeader = Omit<ClipHeader, 'durationMs'>;

/** Replaces any TORLK_* comments with the clip header, keeping the vendor and other comments. */
export function withClipHeader(tags: OpusTags, header: TaggedHeader): OpusTags {
  const kept = tags.comments.filter(([key]) => !key.toUpperCase().startsWith(PREFIX));
  const torlk: OpusComment[] = [
    ['TORLK_VERSION', String(header.version)],
    ['TORLK_CLIP_ID', header.clipId],
    ['TORLK_SENDER', header.sender],
    ['TORLK_CHANNEL', header.channel],
    ['TORLK_SEQUENCE', String(header.sequence)],
    ['TORLK_CREATED_AT', new Date(header.createdAt).toISOString()],
    ['TORLK_CODEC', header.codec],
    ...header.recipients.map((r): OpusComment => ['TORLK_RECIPIENT', r]),
  ];
  return { vendor: tags.vendor, comments: [...kept, ...torlk] };
}

function fields(tags: OpusTags): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [name, value] of tags.comments) {
    const key = name.toUpperCase();
    if (!key.startsWith(PREFIX)) continue;
    map.set(key, [...(map.get(key) ?? []), value]);
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
