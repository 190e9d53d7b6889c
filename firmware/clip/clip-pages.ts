// The clip layer's view of Ogg pages. The page codec is firmware/audio's (ogg-page.ts, RFC 3533);
// the clip layer works on whole pages because those are the bytes it signs and re-lays (the
// signature stream, the replaced OpusTags), and it reports a broken page as ClipError('corrupt').
import { decodeOggPage, type OggPage } from '../audio/ogg-page.js';
import { clipErrorFromOgg } from './clip-error.js';

/**
 * decodeOggPage with its OggFormatError turned into ClipError('corrupt'); `what` names the bytes
 * ("input Ogg Opus", "clip") for the message. Null means the bytes end before the page does.
 */
export function decodeClipPage(bytes: Uint8Array, offset: number, what: string): { page: OggPage; length: number } | null {
  try {
    return decodeOggPage(bytes, offset);
  } catch (err) {
    throw clipErrorFromOgg(err, what);
  }
}

/** The signed duration: last granule position minus the OpusHead pre-skip, at 48 kHz, in ms. */
export function clipDurationMs(lastGranule: bigint, preSkip: number): number {
  return Math.max(0, Math.round(Number(lastGranule - BigInt(preSkip)) / 48));
}
