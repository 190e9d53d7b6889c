// The production ClipOpener: firmware/clip's streaming opener behind the receiver's seam, and the
// clip format's failure reasons mapped onto the receiver's (each with its own HTTP status). Wire
// frames are decrypted as they arrive, so at the end of the body only the signature check is left.
import { ClipError } from '../clip/clip-error.js';
import { createClipOpenStream } from '../clip/clip-open-stream.js';
import type { ClipErrorReason, ClipIdentity, ClipSender } from '../clip/clip-types.js';
import type { ClipOpener, OpenedInbound, OpenHooks } from './clip-opener.js';
import { ClipRejection, type RejectReason } from './rejection.js';

// 'corrupt' covers an altered byte and a clip cut inside an age chunk alike: cryptographically the
// two are the same failed tag, so both are 'tampered'. A cut the format can see (inside the age
// header, before the last wire frame) is 'truncated'.
const reasonMap: Record<ClipErrorReason, RejectReason> = {
  'not-age': 'garbage',
  'unsupported-version': 'garbage',
  'bad-header': 'garbage',
  'wrong-key': 'wrong-recipient',
  'not-addressed': 'wrong-recipient',
  corrupt: 'tampered',
  'bad-signature': 'tampered',
  'unknown-sender': 'unknown-sender',
  'wrong-channel': 'wrong-channel',
  'too-large': 'oversized',
  truncated: 'truncated',
};

export function rejectionFor(err: unknown): unknown {
  if (err instanceof ClipError) return new ClipRejection(reasonMap[err.reason as ClipErrorReason] ?? 'garbage', err.message);
  return err;
}

export interface ClipAdapterOptions {
  readonly identity: ClipIdentity;
  /** Read at each upload, so contacts added at run time count at once. */
  readonly contacts: () => readonly ClipSender[];
  readonly maxBytes?: number;
}

export function clipOpener(options: ClipAdapterOptions): ClipOpener {
  return (hooks: OpenHooks = {}) => {
    // Wire stream (live upload) or standard age file (outbox retry): the clip module sniffs which.
    const inner = createClipOpenStream({
      identity: options.identity,
      contacts: options.contacts(),
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
      ...(hooks.beforeCheck ? { beforeCheck: hooks.beforeCheck } : {}),
    });
    const result = inner.result.then(
      (opened): OpenedInbound => {
        const h = opened.header;
        return {
          clipId: h.clipId,
          senderKey: h.sender,
          senderName: opened.sender.name,
          channel: h.channel,
          sequence: h.sequence,
          createdAt: h.createdAt,
          durationMs: h.durationMs,
          stored: opened.stored,
          ogg: opened.ogg,
        };
      },
      (err: unknown) => {
        throw rejectionFor(err);
      },
    );
    result.catch(() => undefined); // the receiver learns of an early refusal from push() too
    return {
      push: (chunk) => {
        try {
          inner.push(chunk);
        } catch (err) {
          throw rejectionFor(err);
        }
      },
      end: () => inner.end(),
      abort: (reason) => inner.abort(reason),
      result,
      get senderKnown() {
        return inner.senderKnown;
      },
    };
  };
}
