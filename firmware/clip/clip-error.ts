// The one error type of the clip format. Callers branch on `reason`, never on the message.
import { OggFormatError, OggWriterError } from '../audio/ogg-errors.js';
import type { ClipErrorReason } from './clip-types.js';

export class ClipError extends Error {
  override readonly name = 'ClipError';
  constructor(
    readonly reason: ClipErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${message}`, options);
  }
}

/**
 * firmware/audio's Ogg codec reports malformed bytes as OggFormatError, and tags too big to encode
 * as OggWriterError; to the clip layer both mean a corrupt clip. `what` names the bytes ("input
 * Ogg Opus", "clip"). Any other error is returned unchanged, to be rethrown as it is.
 */
export function clipErrorFromOgg(err: unknown, what: string): unknown {
  if (err instanceof OggFormatError || err instanceof OggWriterError) return new ClipError('corrupt', `${what}: ${err.message}`, { cause: err });
  return err;
}
