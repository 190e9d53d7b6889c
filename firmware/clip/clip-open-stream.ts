// createClipOpenStream: the receiver's side. Accepts either a wire stream (wire-frames.ts) or a
// standard age file (a retry from the sender's outbox), enforces the size cap as bytes arrive,
// and resolves with the verified clip plus the standard age file to store.
import { AGE_MAGIC, assembleAgeFile, concatBytes, decryptAgeFile, splitAgeHeader, unwrapFileKey } from './age-file.js';
import { ClipError } from './clip-error.js';
import { MAX_CLIP_BYTES, type ClipOpenStream, type ClipSender, type OpenClipOptions, type OpenedStreamedClip } from './clip-types.js';
import { checkSenderEarly, verifyClip } from './clip-verifier.js';
import { ClipPageScanner } from './clip-page-scan.js';
import { WIRE_MAGIC, WIRE_NONCE, WireFrameDecoder, wireKey } from './wire-frames.js';

function startsWith(bytes: Uint8Array, magic: Uint8Array): 'yes' | 'no' | 'maybe' {
  const n = Math.min(bytes.length, magic.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== magic[i]) return 'no';
  return n === magic.length ? 'yes' : 'maybe';
}

/** Anything that is not a ClipError is a bug on hostile input; report it as corrupt, typed. */
function asClipError(err: unknown): ClipError {
  return err instanceof ClipError ? err : new ClipError('corrupt', `unreadable clip: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export function createClipOpenStream<S extends ClipSender>(opts: OpenClipOptions<S>): ClipOpenStream<S> {
  const cap = opts.maxBytes ?? MAX_CLIP_BYTES;
  let received = 0;
  let mode: 'sniff' | 'age' | 'wire-header' | 'wire-frames' = 'sniff';
  let buffered: Uint8Array[] = []; // raw bytes until the mode (and, for wire, the header) is known
  let ageHeader: Uint8Array | undefined;
  let fileKey: Uint8Array | undefined;
  let nonce: Uint8Array | undefined;
  let frames: WireFrameDecoder | undefined;
  const plaintext: Uint8Array[] = [];
  const scan = new ClipPageScanner();
  let senderChecked = false;

  function addPlain(parts: Uint8Array[]): void {
    for (const p of parts) {
      plaintext.push(p);
      scan.push(p);
    }
    // Refuse unknown senders (and unreadable versions) as soon as the tags are in; tags past 64 KiB
    // are not ours, and the full check at the end still decides everything.
    if (!senderChecked) senderChecked = checkSenderEarly(scan.pages, opts.contacts) || scan.end > 64 * 1024;
  }

  let resolve!: (v: OpenedStreamedClip<S>) => void;
  let reject!: (e: unknown) => void;
  const result = new Promise<OpenedStreamedClip<S>>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(() => undefined); // callers may await only the writable

  async function take(chunk: Uint8Array): Promise<void> {
    received += chunk.length;
    if (received > cap) throw new ClipError('too-large', `upload passed ${cap} bytes`);
    if (mode === 'wire-frames') {
      addPlain(frames!.push(chunk));
      return;
    }
    buffered.push(chunk);
    if (mode === 'age') return; // whole-file mode: kept as pieces, verified at close
    const all = concatBytes(buffered);
    buffered = [all];
    if (mode === 'sniff') {
      const wire = startsWith(all, WIRE_MAGIC);
      const age = startsWith(all, AGE_MAGIC);
      if (wire === 'no' && age === 'no') throw new ClipError('not-age', 'neither a Torlk wire stream nor an age file');
      if (wire === 'yes') mode = 'wire-header';
      else if (age === 'yes') mode = 'age';
      else return;
    }
    if (mode === 'age') return;
    const split = splitAgeHeader(all.subarray(WIRE_MAGIC.length));
    if (!split) return;
    if (split.rest.length < WIRE_NONCE) return;
    ageHeader = split.header.slice();
    fileKey = await unwrapFileKey(ageHeader, opts.identity.ageIdentity);
    nonce = split.rest.slice(0, WIRE_NONCE);
    frames = new WireFrameDecoder(wireKey(fileKey, nonce));
    mode = 'wire-frames';
    buffered = [];
    addPlain(frames.push(split.rest.subarray(WIRE_NONCE)));
  }

  async function finish(): Promise<OpenedStreamedClip<S>> {
    if (mode === 'age') {
      const stored = concatBytes(buffered);
      const opened = verifyClip(await decryptAgeFile(stored, opts.identity.ageIdentity), opts);
      return { ...opened, stored };
    }
    if (mode !== 'wire-frames' || !frames!.done) {
      if (received === 0) throw new ClipError('not-age', 'empty upload');
      throw new ClipError('truncated', mode === 'wire-frames' ? 'upload ended before the last wire frame' : 'upload ended inside the wire header');
    }
    const plain = concatBytes(plaintext);
    const opened = verifyClip(plain, opts, scan);
    return { ...opened, stored: assembleAgeFile(ageHeader!, fileKey!, plain, nonce!) };
  }

  let failed: ClipError | undefined;
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (failed) throw failed;
      try {
        await take(chunk);
      } catch (err) {
        failed = asClipError(err);
        reject(failed);
        throw failed;
      }
    },
    async close() {
      try {
        resolve(await finish());
      } catch (err) {
        failed = asClipError(err);
        reject(failed);
        throw failed;
      }
    },
    abort(reason) {
      reject(reason instanceof ClipError ? reason : new ClipError('corrupt', `upload aborted: ${String((reason as Error)?.message ?? reason)}`, { cause: reason }));
    },
  });
  return { writable, result };
}
