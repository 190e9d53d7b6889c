// The production ClipOpener: firmware/clip's openClip behind the receiver's streaming seam, and
// the clip format's failure reasons mapped onto the receiver's (each with its own HTTP status).
// The body is collected as it arrives (bounded by the receiver's cap) and opened at its end;
// decrypting and verifying a 20 KB clip takes about 2 ms, so the latency cost is small.
import { ClipError } from '../clip/clip-error.js';
import { openClip } from '../clip/open-clip.js';
import type { ClipErrorReason, ClipIdentity, ClipSender } from '../clip/clip-types.js';
import type { ClipOpener, OpenedInbound } from './clip-opener.js';
import { ClipRejection, type RejectReason } from './rejection.js';

// 'corrupt' covers an altered byte and a clip cut inside an age chunk alike: cryptographically the
// two are the same failed tag, so both are 'tampered'. A clip format that can tell a cut at a frame
// boundary apart reports 'truncated' (listed here so that reason maps the day it exists).
const reasonMap: Record<ClipErrorReason | 'truncated', RejectReason> = {
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
  return () => {
    const chunks: Uint8Array[] = [];
    let settle!: { resolve: (v: OpenedInbound) => void; reject: (e: unknown) => void };
    const result = new Promise<OpenedInbound>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        chunks.push(chunk);
      },
      close: async () => {
        const bytes = Buffer.concat(chunks);
        try {
          const opened = await openClip(bytes, {
            identity: options.identity,
            contacts: options.contacts(),
            ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
          });
          const h = opened.header;
          settle.resolve({
            clipId: h.clipId,
            senderKey: h.sender,
            senderName: opened.sender.name,
            channel: h.channel,
            sequence: h.sequence,
            createdAt: h.createdAt,
            durationMs: h.durationMs,
            stored: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
          });
        } catch (err) {
          settle.reject(rejectionFor(err));
        }
      },
      abort: (reason) => settle.reject(reason),
    });
    return { writable, result };
  };
}
