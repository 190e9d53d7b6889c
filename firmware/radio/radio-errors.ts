// Typed errors of the radio core. Each carries the fields a person needs to see what was wrong
// without reading the message, so callers never branch on message text.

/** A radio option is out of range ("minTapMs must be a finite number ≥ 0, got -5"). */
export class RadioConfigError extends Error {
  override readonly name = 'RadioConfigError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`radio option ${field} ${rule}, got ${JSON.stringify(value) ?? String(value)}`);
  }
}

/** An event handed to the machine is malformed: a bug in whoever built it, never user input. */
export class RadioInputError extends Error {
  override readonly name = 'RadioInputError';
  constructor(
    readonly eventType: string,
    readonly problem: string,
  ) {
    super(`bad radio event "${eventType}": ${problem}`);
  }
}

/** The machine reached a state it promises never to reach. Raised by assertInvariants. */
export class RadioInvariantError extends Error {
  override readonly name = 'RadioInvariantError';
  constructor(
    readonly violation: string,
    readonly activity: string,
  ) {
    super(`radio invariant broken while ${activity}: ${violation}`);
  }
}
