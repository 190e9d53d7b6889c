// createClipSealStream: seal while the user talks. Ogg pages go in as the encoder produces them;
// wire bytes come out right away (one frame per write); at close the signature frame ends the
// stream and `sealed` gives the same clip as a standard age file for the outbox.
import { randomBytes } from 'node:crypto';
import { assembleAgeFile, concatBytes, createAgeHeader, STREAM_CHUNK } from './age-file.js';
import { ClipAssembler } from './clip-assembler.js';
import type { ClipHeader, ClipSealStream, ClipSigner, SealHeader } from './clip-types.js';
import { encodeWireFrame, WIRE_MAGIC, WIRE_NONCE, wireKey } from './wire-frames.js';

export interface ClipSealStreamOptions {
  readonly header: SealHeader;
  readonly signer: ClipSigner;
  readonly recipients: readonly string[];
}

export function createClipSealStream(opts: ClipSealStreamOptions): ClipSealStream {
  // Validates the header synchronously, so a bad call throws here rather than mid-stream.
  const asm = new ClipAssembler(opts.header, opts.recipients, opts.signer);
  const nonce = new Uint8Array(randomBytes(WIRE_NONCE));
  const plaintext: Uint8Array[] = [];
  const ready = createAgeHeader(opts.recipients);
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let counter = 0;
  let resolveSealed!: (v: { header: ClipHeader; stored: Uint8Array }) => void;
  let rejectSealed!: (e: unknown) => void;
  const sealed = new Promise<{ header: ClipHeader; stored: Uint8Array }>((res, rej) => {
    resolveSealed = res;
    rejectSealed = rej;
  });
  sealed.catch(() => undefined); // the caller may only watch the streams

  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      out = c;
    },
  });

  const emit = async (bytes: Uint8Array, last: boolean) => {
    const { fileKey } = await ready;
    const key = wireKey(fileKey, nonce);
    for (let at = 0; at < bytes.length || (last && at === 0); at += STREAM_CHUNK) {
      const part = bytes.subarray(at, at + STREAM_CHUNK);
      out.enqueue(encodeWireFrame(key, counter++, last && at + STREAM_CHUNK >= bytes.length, part));
    }
  };
  const fail = (err: unknown) => {
    rejectSealed(err);
    try {
      out.error(err);
    } catch {
      // already errored or closed
    }
  };

  const writable = new WritableStream<Uint8Array>({
    async start() {
      try {
        const { header } = await ready;
        out.enqueue(concatBytes([WIRE_MAGIC, header, nonce]));
      } catch (err) {
        fail(err);
        throw err;
      }
    },
    async write(chunk) {
      try {
        const bytes = asm.push(chunk);
        if (bytes.length === 0) return;
        plaintext.push(bytes);
        await emit(bytes, false);
      } catch (err) {
        fail(err);
        throw err;
      }
    },
    async close() {
      try {
        const { tail, header } = asm.finish();
        plaintext.push(tail);
        await emit(tail, true);
        out.close();
        // The stored copy can wait a turn of the event loop; the last frame is on its way first.
        await new Promise<void>((r) => setImmediate(r));
        const { header: ageHeader, fileKey } = await ready;
        resolveSealed({ header, stored: assembleAgeFile(ageHeader, fileKey, concatBytes(plaintext), nonce) });
      } catch (err) {
        fail(err);
        throw err;
      }
    },
    abort(reason) {
      fail(reason);
    },
  });
  return { writable, readable, sealed };
}
