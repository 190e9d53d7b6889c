// Typed failures of the tor layer. Callers branch on the class and its fields (code, retryable),
// never on message text; messages carry what a person needs to act ("tor exited with code 1:
// Could not bind to 127.0.0.1:9050: Address already in use").

export class TorError extends Error {
  override name = 'TorError';
}

/** Tor answered a control command with a non-2xx status. `command` is the verb only, never the arguments (they can hold keys). */
export class ControlReplyError extends TorError {
  override name = 'ControlReplyError';
  constructor(
    readonly command: string,
    readonly code: number,
    readonly replyText: string,
  ) {
    super(`tor refused ${command}: ${code} ${replyText}`);
  }
}

/** Bytes on the control port that break the protocol (bad status line, overlong line or reply). The connection is unusable after it. */
export class ControlProtocolError extends TorError {
  override name = 'ControlProtocolError';
}

/** The control connection closed (tor exited, or we closed it) with commands still waiting. */
export class ControlClosedError extends TorError {
  override name = 'ControlClosedError';
}

/** Cookie authentication failed: no usable method, unreadable cookie, or tor's SAFECOOKIE proof did not match. */
export class TorAuthError extends TorError {
  override name = 'TorAuthError';
}

/** The configured tor binary does not exist or cannot be executed. */
export class TorBinaryMissingError extends TorError {
  override name = 'TorBinaryMissingError';
  constructor(readonly binary: string, override readonly cause?: unknown) {
    super(`tor binary not found or not executable: ${binary} (install the "tor" package: scripts/setup)`);
  }
}

/** Tor exited before or after start-up. `torErrors` holds its own [err]/[warn] lines, newest last. */
export class TorExitedError extends TorError {
  override name = 'TorExitedError';
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly torErrors: readonly string[],
  ) {
    const how = exitCode !== null ? `with code ${exitCode}` : `on signal ${signal ?? 'unknown'}`;
    const why = pickReason(torErrors);
    super(`tor exited ${how}${why ? `: ${why}` : ''}`);
  }
}

/** Tor could not bind one of its listeners because another process holds the address. */
export class TorPortInUseError extends TorExitedError {
  override name = 'TorPortInUseError';
  constructor(
    readonly address: string,
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    torErrors: readonly string[],
  ) {
    super(exitCode, signal, torErrors);
  }
}

/** Tor did not open its control port in time (it is still running; it gets stopped). */
export class TorStartTimeoutError extends TorError {
  override name = 'TorStartTimeoutError';
}

/** The onion key file is unreadable, malformed or too widely readable. */
export class OnionKeyError extends TorError {
  override name = 'OnionKeyError';
  constructor(readonly path: string, reason: string) {
    super(`onion key ${path}: ${reason}`);
  }
}

// The most useful line is the newest specific warning (e.g. "Could not bind ..."), not tor's
// generic closing "[err] Reading config failed--see warnings above." nor harmless start-up noise.
function pickReason(lines: readonly string[]): string | undefined {
  const useful = lines
    .filter((l) => !/running Tor as root/i.test(l))
    .map((l) => l.replace(/^Failed to parse\/validate config: /, '').replace(/\s+Failing\.$/, ''));
  const generic = /see warnings above|^Failed to bind one of the listener ports/i;
  return [...useful].reverse().find((l) => !generic.test(l)) ?? useful[useful.length - 1];
}
