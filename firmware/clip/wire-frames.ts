// The wire stream (docs/clip-format.md "Wire stream"): how a clip travels while it is still being
// recorded. A standard age file can't be flushed early (its STREAM chunks are 64 KiB, ~30 s of
// speech, and the last chunk's flag is only known at the end), so the wire carries:
//   "torlk-wire/v1\n" | age header (unchanged) | 16-byte nonce N | frames
//   frame = u32 big-endian word (bit 31: last frame; bits 0-16: plaintext length, at most 65536)
//           | ChaCha20-Poly1305 ciphertext and tag
// with age's own STREAM construction (11-byte counter nonce plus last flag) under the key
// HKDF-SHA-256(file key, salt N, info "torlk-wire/v1 frames"). The distinct label keeps wire keys
// apart from the age payload key HKDF(file key, N, "payload"), which the receiver then uses to
// re-emit the clip as a standard age file (same header, same N): no nonce is ever reused.
import { concatBytes, deriveStreamKey, openChunk, sealChunk, STREAM_CHUNK, STREAM_TAG } from './age-file.js';
import { ClipError } from './clip-error.js';

export const WIRE_MAGIC = new TextEncoder().encode('torlk-wire/v1\n');
export const WIRE_NONCE = 16;
const WIRE_LABEL = new TextEncoder().encode('torlk-wire/v1 frames');
const LAST = 0x80000000;

export function wireKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return deriveStreamKey(fileKey, nonce, WIRE_LABEL);
}

/** Encodes one frame. Non-last frames must not be empty; a frame holds at most 64 KiB. */
export function encodeWireFrame(key: Uint8Array, counter: number, last: boolean, plaintext: Uint8Array): Uint8Array {
  if (plaintext.length > STREAM_CHUNK) throw new RangeError(`wire frame of ${plaintext.length} bytes exceeds ${STREAM_CHUNK}`);
  if (!last && plaintext.length === 0) throw new RangeError('only the last wire frame may be empty');
  const sealed = sealChunk(key, counter, last, plaintext);
  const out = new Uint8Array(4 + sealed.length);
  new DataView(out.buffer).setUint32(0, (last ? LAST : 0) + plaintext.length);
  out.set(sealed, 4);
  return out;
}

/**
 * Incremental frame decoder: feed bytes as they arrive, get plaintext back. Throws ClipError
 * 'corrupt' on a bad length word, a failed tag or bytes after the last frame.
 */
export class WireFrameDecoder {
  // Bytes are kept as a list and joined only once a whole frame is there, so a peer trickling a
  // frame one byte at a time costs linear, not quadratic, work.
  private parts: Uint8Array[] = [];
  private have = 0;
  private need = 4;
  private counter = 0;
  done = false;

  constructor(private readonly key: Uint8Array) {}

  push(bytes: Uint8Array): Uint8Array[] {
    if (this.done) {
      if (bytes.length > 0) throw new ClipError('corrupt', 'bytes after the last wire frame');
      return [];
    }
    this.parts.push(bytes);
    this.have += bytes.length;
    if (this.have < this.need) return [];
    const joined = concatBytes(this.parts);
    const out: Uint8Array[] = [];
    let at = 0;
    this.need = 4;
    while (joined.length - at >= 4) {
      const word = new DataView(joined.buffer, joined.byteOffset + at, 4).getUint32(0);
      const last = (word & LAST) !== 0;
      const length = word & 0x7fffffff;
      if (length > STREAM_CHUNK) throw new ClipError('corrupt', `wire frame ${this.counter} claims ${length} bytes (limit ${STREAM_CHUNK})`);
      if (!last && length === 0) throw new ClipError('corrupt', `wire frame ${this.counter} is empty but not last`);
      if (joined.length - at < 4 + length + STREAM_TAG) {
        this.need = 4 + length + STREAM_TAG;
        break;
      }
      const plain = openChunk(this.key, this.counter, last, joined.subarray(at + 4, at + 4 + length + STREAM_TAG));
      if (plain === null) throw new ClipError('corrupt', `wire frame ${this.counter} failed authentication`);
      out.push(plain);
      this.counter++;
      at += 4 + length + STREAM_TAG;
      if (last) {
        this.done = true;
        if (at !== joined.length) throw new ClipError('corrupt', 'bytes after the last wire frame');
        break;
      }
    }
    const rest = joined.slice(at);
    this.parts = rest.length ? [rest] : [];
    this.have = rest.length;
    return out;
  }
}
