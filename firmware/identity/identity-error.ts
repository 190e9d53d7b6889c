// Errors about the device's key files. `code` is for callers; the message is for the user and
// always names the file.
export type IdentityErrorCode = 'exists' | 'missing' | 'bad-file' | 'unsafe-permissions' | 'no-data-dir';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly code: IdentityErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
