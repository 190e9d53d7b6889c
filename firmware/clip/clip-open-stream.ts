// createClipOpenStream: the receiver's side. Accepts either a wire stream (wire-frames.ts) or a
// standard age file (a retry from the sender's outbox), enforces the size cap as bytes arrive,
// and resolves with the verified clip plus the standard age file to store.
// Bytes are taken synchronously, as they come off the socket: wire frames are decrypted, their
// pages CRC-checked and hashed for the signature as they arrive, and encrypted again for the stored
// copy (age-payload-stream.ts), so the end of an upload leaves only the signature check and the
// stored copy's last tag between the last byte and the result. The one wait
// is unwrapping the file key (X25519) at the start; bytes arriving meanwhile are held in order.
import { AGE_MAGIC, concatBytes, decryptAgeFile, deriveStreamKey, splitAgeHeader, unwrapFileKey } from './age-file.js';
import { AgePayloadStream } from './age-payload-stream.js';
import { ClipError } from './clip-error.js';
import { MAX_CLIP_BYTES, type ClipOpenStream, type ClipOpenStreamOptions, type ClipSender, type OpenedStreamedClip } from './clip-types.js';
import { checkSenderEarly, verifyClip } from './clip-verifier.js';
import { ClipPageScanner } from './clip-page-scan.js';
import { WIRE_MAGIC, WIRE_NONCE, WireFrameDecoder, wireKey } from './wire-frames.js';
import type { OpusTags } from '../audio/opus-tags.js';

function startsWith(bytes: Uint8Array, magic: Uint8Array): 'yes' | 'no' | 'maybe' {
  const n = Math.min(bytes.length, magic.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== magic[i]) return 'no';
  return n === magic.length ? 'yes' : 'maybe';
}

/** Anything that is not a ClipError is a bug on hostile input; report it as corrupt, typed. */
function asClipError(err: unknown): ClipError {
  return err instanceof ClipError ? err : new ClipError('corrupt', `unreadable clip: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** The wire stream once its header is read: keys, frame decoder, the plaintext and its pages so far. */
interface WireState {
  readonly ageHeader: Uint8Array;
  readonly nonce: Uint8Array;
  readonly frames: WireFrameDecoder;
  /** The stored copy's payload, encrypted as the plaintext arrives. */
  readonly payload: AgePayloadStream;
}

export function createClipOpenStream<S extends ClipSender>(opts: ClipOpenStreamOptions<S>): ClipOpenStream<S> {
  const cap = opts.maxBytes ?? MAX_CLIP_BYTES;
  let received = 0;
  // 'unwrapping': the wire header is read, its file key not yet unwrapped; 'wire-frames': `wire` is set.
  let mode: 'sniff' | 'age' | 'wire-header' | 'unwrapping' | 'wire-frames' = 'sniff';
  let buffered: Uint8Array[] = []; // raw bytes until the mode (and, for wire, the header) is known
  let held: Uint8Array[] = []; // bytes that arrived while unwrapping, in order
  let wire: WireState | undefined;
  const plaintext: Uint8Array[] = [];
  const scan = new ClipPageScanner();
  let senderChecked = false;
  let tags: OpusTags | undefined;
  let ended = false;
  let failed: ClipError | undefined;

  let resolve!: (v: OpenedStreamedClip<S>) => void;
  let reject!: (e: unknown) => void;
  const result = new Promise<OpenedStreamedClip<S>>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(() => undefined); // callers may only push and learn of a refusal from push()

  const fail = (err: unknown): ClipError => {
    failed ??= asClipError(err);
    reject(failed);
    return failed;
  };

  function addPlain(parts: Uint8Array[]): void {
    for (const p of parts) {
      plaintext.push(p);
      scan.push(p);
      wire!.payload.push(p);
    }
    // Refuse unknown senders (and unreadable versions) as soon as the tags are in; tags past 64 KiB
    // are not ours, and the full check at the end still decides everything.
    if (!senderChecked) {
      const early = checkSenderEarly(scan.pages, opts.contacts);
      if (early) tags = early;
      senderChecked = early !== undefined || scan.end > 64 * 1024;
    }
  }

  function take(chunk: Uint8Array): void {
    if (wire) return addPlain(wire.frames.push(chunk));
    if (mode === 'unwrapping') return void held.push(chunk);
    buffered.push(chunk);
    if (mode === 'age') return; // whole-file mode: kept as pieces, verified at the end
    const all = concatBytes(buffered);
    buffered = [all];
    if (mode === 'sniff') {
      const isWire = startsWith(all, WIRE_MAGIC);
      const isAge = startsWith(all, AGE_MAGIC);
      if (isWire === 'no' && isAge === 'no') throw new ClipError('not-age', 'neither a Torlk wire stream nor an age file');
      if (isWire === 'yes') mode = 'wire-header';
      else if (isAge === 'yes') mode = 'age';
      else return;
    }
    if (mode === 'age') return;
    const split = splitAgeHeader(all.subarray(WIRE_MAGIC.length));
    if (!split || split.rest.length < WIRE_NONCE) return;
    const ageHeader = split.header.slice();
    const nonce = split.rest.slice(0, WIRE_NONCE);
    held = [split.rest.subarray(WIRE_NONCE)];
    buffered = [];
    mode = 'unwrapping';
    unwrapFileKey(ageHeader, opts.identity.ageIdentity).then(
      (fileKey) => {
        if (failed) return;
        wire = { ageHeader, nonce, frames: new WireFrameDecoder(wireKey(fileKey, nonce)), payload: new AgePayloadStream(deriveStreamKey(fileKey, nonce)) };
        mode = 'wire-frames';
        try {
          for (const piece of held.splice(0)) addPlain(wire.frames.push(piece));
          if (ended) finish();
        } catch (err) {
          fail(err);
        }
      },
      fail,
    );
  }

  function finish(): void {
    if (mode === 'age') {
      const stored = concatBytes(buffered);
      decryptAgeFile(stored, opts.identity.ageIdentity)
        .then((plain) => ({ ...verifyClip(plain, opts), stored }))
        .then(resolve, fail);
      return;
    }
    if (!wire || !wire.frames.done) {
      if (mode === 'unwrapping') return; // the key comes, then finish() again
      if (received === 0) throw new ClipError('not-age', 'empty upload');
      throw new ClipError('truncated', mode === 'wire-frames' ? 'upload ended before the last wire frame' : 'upload ended inside the wire header');
    }
    const stored = concatBytes([wire.ageHeader, wire.nonce, ...wire.payload.finish()]);
    opts.beforeCheck?.();
    const plain = concatBytes(plaintext);
    const opened = verifyClip(plain, opts, scan, tags);
    resolve({ ...opened, stored });
  }

  return {
    push(chunk) {
      if (failed) throw failed;
      if (ended) throw new Error('ClipOpenStream.push after end');
      try {
        received += chunk.length;
        if (received > cap) throw new ClipError('too-large', `upload passed ${cap} bytes`);
        take(chunk);
      } catch (err) {
        throw fail(err);
      }
    },
    end() {
      if (ended || failed) return;
      ended = true;
      try {
        finish();
      } catch (err) {
        fail(err);
      }
    },
    abort(reason) {
      fail(reason instanceof ClipError ? reason : new ClipError('corrupt', `upload aborted: ${String((reason as Error)?.message ?? reason)}`, { cause: reason }));
    },
    result,
    get senderKnown() {
      return tags !== undefined;
    },
  };
}
