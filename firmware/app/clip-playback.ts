// Playing one received clip: the inbox's sealed file is opened again (decrypted and its signature
// checked — what is at rest is only trusted once verified), its Ogg Opus stream read into packets
// with input-rate sample counts the speaker trims by, and played. Failures are split the way the
// radio core needs them: a clip that cannot be opened is skipped (nothing to play, never retried),
// a speaker that fails is a hardware fault.
import { readOggOpus } from '../audio/ogg-opus-reader.js';
import type { ClipIdentity, ClipSender } from '../clip/clip-types.js';
import { openClip } from '../clip/open-clip.js';
import type { Inbox } from '../store/inbox.js';
import type { OpusPacket, OpusStreamFormat } from '../../hardware/microphone.js';
import type { PlaybackResult, Speaker } from '../../hardware/speaker.js';

/** The stored clip could not be read or opened; it is marked played so it is not tried forever. */
export class UnplayableClipError extends Error {
  override readonly name = 'UnplayableClipError';
  constructor(
    readonly clipId: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`clip ${clipId} cannot be played: ${detail}`, options);
  }
}

export interface DecodedClip {
  readonly format: OpusStreamFormat;
  readonly packets: OpusPacket[];
  /** The Ogg Opus audio as the sender recorded it (TORLK tags, no signature stream). */
  readonly ogg: Uint8Array;
  readonly durationMs: number;
}

/**
 * Packets with sample counts at the input rate whose sum is the clip's playable length, which is how
 * the speaker knows where the audio ends (the last packets carry the encoder's end padding).
 * `verified`: the Ogg comes from a clip whose signature was just checked, so its page CRCs are not
 * computed again (under --jitless that was ~0.6 ms of a receiver's CPU per 10 s clip, spent while
 * its tor forwards the receipt).
 */
export function clipPackets(ogg: Uint8Array, options: { verified?: boolean } = {}): DecodedClip {
  const file = readOggOpus(ogg, { verified: options.verified ?? false });
  const rate = file.head.inputSampleRate;
  const total = Math.round((file.durationSamples * rate) / 48000);
  let left = total;
  const packets: OpusPacket[] = file.packets.map((p) => {
    const samples = Math.min(left, Math.round((p.samples * rate) / 48000));
    left -= samples;
    return { data: p.data, samples };
  });
  const first = file.packets[0];
  const frameSamples = first ? Math.round((first.samples * rate) / 48000) : Math.round(rate / 50);
  return {
    format: { sampleRate: rate, channels: 1, frameSamples, preSkip: file.head.preSkip },
    packets,
    ogg,
    durationMs: Math.round(file.durationSeconds * 1000),
  };
}

export interface PlayClipOptions {
  readonly inbox: Inbox;
  readonly clipId: string;
  readonly identity: ClipIdentity;
  readonly contacts: readonly ClipSender[];
  readonly speaker: Speaker;
  readonly signal: AbortSignal;
  /** The clip's audio as the receiver verified it moments ago: played as is, not opened again. */
  readonly verifiedOgg?: Uint8Array;
}

/** Opens the stored clip (UnplayableClipError if it cannot be) without touching the speaker. */
export async function decodeStoredClip(o: Omit<PlayClipOptions, 'speaker' | 'signal'>): Promise<DecodedClip> {
  const entry = o.inbox.get(o.clipId);
  if (!entry || !entry.hasAudio) throw new UnplayableClipError(o.clipId, 'it is not in the inbox (pruned or never stored)');
  try {
    const opened = await openClip(await o.inbox.read(entry), { identity: o.identity, contacts: o.contacts });
    return clipPackets(opened.ogg, { verified: true });
  } catch (err) {
    throw new UnplayableClipError(o.clipId, (err as Error).message, { cause: err });
  }
}

function decodeVerifiedOgg(clipId: string, ogg: Uint8Array): DecodedClip {
  try {
    return clipPackets(ogg, { verified: true });
  } catch (err) {
    throw new UnplayableClipError(clipId, (err as Error).message, { cause: err });
  }
}

/** Plays a stored clip to the speaker; the speaker's own errors pass through unchanged. */
export async function playStoredClip(o: PlayClipOptions): Promise<PlaybackResult & { clip: DecodedClip }> {
  const clip = o.verifiedOgg ? decodeVerifiedOgg(o.clipId, o.verifiedOgg) : await decodeStoredClip(o);
  const result = await o.speaker.play(clip.format, clip.packets, o.signal);
  return { ...result, clip };
}
