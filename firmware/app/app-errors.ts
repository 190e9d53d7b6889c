// Why a radio could not start or run, with what the user has to do about it. Errors from the parts
// (IdentityError, ConfigError, TorError, MicrophoneError, ...) keep their own classes and reach the
// user as they are; these are the ones only the wiring can see.

export type RadioAppProblem =
  /** No [device] channel and no channel to pick: the radio would not know whom to talk to. */
  | 'no-channel'
  /** The current channel has no members. */
  | 'empty-channel'
  /** start() on a started app, or a port used after stop(). */
  | 'state';

export class RadioAppError extends Error {
  override readonly name = 'RadioAppError';
  constructor(
    readonly problem: RadioAppProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** tor is not running right now (starting, restarting, or failed): a connect cannot even be tried. */
export class TorNotRunningError extends Error {
  override readonly name = 'TorNotRunningError';
  /** The outbox retries: tor comes back on its own (supervised). */
  readonly retryable = true;
  constructor(detail: string) {
    super(`no stream through tor: ${detail}`);
  }
}
