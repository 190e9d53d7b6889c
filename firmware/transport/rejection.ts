// Why the receiver refused an upload, and the HTTP status each reason gets. Every reason has its
// own status so a sender (and a person reading curl output) can tell them apart without parsing
// text, and its own log line on the receiver.

export type RejectReason =
  | 'truncated' // the clip ended early (body cut off, incomplete age stream)
  | 'garbage' // not an age file / not a Torlk clip at all
  | 'unknown-sender' // signed by a key that is not one of our contacts
  | 'wrong-channel' // known sender, but the clip's channel is not one we share with them
  | 'wrong-recipient' // encrypted to someone else's age key
  | 'replay' // a sequence number we already accepted, under a different clip id
  | 'stale' // created-at older than the replay window
  | 'future' // created-at too far ahead of our clock
  | 'oversized' // body larger than the cap
  | 'tampered' // signature or age authentication failed: some byte was altered
  | 'timeout' // headers or body too slow
  | 'disk-full' // we could not store it
  | 'bad-request' // not parseable HTTP/1.1 (the parser gave up before our handler ran)
  | 'headers-too-large' // request line + headers over the parser's limit
  | 'not-found' // wrong path
  | 'method' // not POST
  | 'internal'; // a bug on our side; logged with the stack

export const rejectStatus: Readonly<Record<RejectReason, number>> = {
  truncated: 400,
  'bad-request': 400,
  'unknown-sender': 401,
  'wrong-channel': 403,
  'not-found': 404,
  method: 405,
  timeout: 408,
  replay: 409,
  stale: 410,
  oversized: 413,
  garbage: 415,
  'headers-too-large': 431,
  'wrong-recipient': 421,
  tampered: 422,
  future: 425,
  internal: 500,
  'disk-full': 507,
};

/**
 * Reasons a sender should keep retrying (the receiver may be fixed: it adds us as a contact, frees
 * disk, its clock is corrected). The others mean these bytes will never be accepted.
 */
export const retryableReasons: ReadonlySet<RejectReason> = new Set<RejectReason>([
  'unknown-sender',
  'wrong-channel',
  'timeout',
  'disk-full',
  'internal',
  'future',
]);

/** Thrown by a ClipOpener (or the receiver's own checks) to refuse a clip for a stated reason. */
export class ClipRejection extends Error {
  override readonly name = 'ClipRejection';
  constructor(
    readonly reason: RejectReason,
    detail: string,
  ) {
    super(`clip rejected (${reason}): ${detail}`);
  }
  get status(): number {
    return rejectStatus[this.reason];
  }
}

export function isRejectReason(value: unknown): value is RejectReason {
  return typeof value === 'string' && Object.hasOwn(rejectStatus, value);
}
