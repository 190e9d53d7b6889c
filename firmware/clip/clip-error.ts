// The one error type of the clip format. Callers branch on `reason`, never on the message.
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
