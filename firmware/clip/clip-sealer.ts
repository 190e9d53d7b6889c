// ClipSealer: seals a clip while the user talks (docs/clip-format.md "Wire stream"). Ogg bytes go in
// as the encoder produces them and the wire frames they complete come straight back from the same
// call, so nothing stands between the microphone and the socket: the WHATWG streams this replaced
// cost ~1 ms of promise plumbing per release under node --jitless (the device's V8). finish() ends
// the wire stream with the signature frame; stored() then gives the same clip as a standard age
// file (same age header and nonce) for the outbox and `age -d`, built when first asked for: a clip
// delivered live while the outbox waits to write it (outbox.ts) never needs it.
import { randomBytes } from 'node:crypto';
import { ageFileLength, assembleAgeFile, concatBytes, createAgeHeader, STREAM_CHUNK } from './age-file.js';
import { ClipAssembler } from './clip-assembler.js';
import type { ClipHeader, ClipSigner, SealHeader } from './clip-types.js';
import { encodeWireFrame, WIRE_MAGIC, WIRE_NONCE, wireKey } from './wire-frames.js';

export interface ClipSealerOptions {
  readonly header: SealHeader;
  readonly signer: ClipSigner;
  /** age recipients (`age1...`) the clip is encrypted and signed to. */
  readonly recipients: readonly string[];
}

export class ClipSealer {
  /** The wire stream's first bytes (magic, age header, frame nonce): they go out before any frame. */
  readonly preamble: Uint8Array;
  readonly #asm: ClipAssembler;
  readonly #ageHeader: Uint8Array;
  readonly #fileKey: Uint8Array;
  readonly #nonce = new Uint8Array(randomBytes(WIRE_NONCE));
  readonly #key: Uint8Array;
  readonly #plaintext: Uint8Array[] = [];
  #plaintextBytes = 0;
  #counter = 0;
  #finished = false;
  #stored: Uint8Array | undefined;

  /**
   * Checks the header and recipients at once (TypeError, thrown, not rejected); what takes time is
   * wrapping the file key to each recipient (X25519).
   */
  static start(options: ClipSealerOptions): Promise<ClipSealer> {
    const asm = new ClipAssembler(options.header, options.recipients, options.signer);
    return createAgeHeader(options.recipients).then(({ header, fileKey }) => new ClipSealer(asm, header, fileKey));
  }

  private constructor(asm: ClipAssembler, ageHeader: Uint8Array, fileKey: Uint8Array) {
    this.#asm = asm;
    this.#ageHeader = ageHeader;
    this.#fileKey = fileKey;
    this.#key = wireKey(fileKey, this.#nonce);
    this.preamble = concatBytes([WIRE_MAGIC, ageHeader, this.#nonce]);
  }

  /**
   * The next Ogg Opus bytes, in any chunking: returns the wire frames they complete (none while a
   * page is still partial). Throws ClipError 'corrupt' on input that is not one Ogg Opus stream.
   */
  push(ogg: Uint8Array): Uint8Array[] {
    if (this.#finished) throw new Error('ClipSealer.push after finish');
    const bytes = this.#asm.push(ogg);
    if (bytes.length === 0) return [];
    this.#plaintext.push(bytes);
    this.#plaintextBytes += bytes.length;
    return this.#frames(bytes, false);
  }

  /** After the Opus EOS page: the last wire frames (the signature's among them) and the clip's header. */
  finish(): { frames: Uint8Array[]; header: ClipHeader } {
    if (this.#finished) throw new Error('ClipSealer.finish called twice');
    const { tail, header } = this.#asm.finish();
    this.#finished = true;
    this.#plaintext.push(tail);
    this.#plaintextBytes += tail.length;
    return { frames: this.#frames(tail, true), header };
  }

  /** After finish(): the clip as a standard age file, built on the first call. */
  stored(): Uint8Array {
    if (!this.#finished) throw new Error('ClipSealer.stored before finish');
    this.#stored ??= assembleAgeFile(this.#ageHeader, this.#fileKey, concatBytes(this.#plaintext), this.#nonce);
    return this.#stored;
  }

  /** After finish(): the length of stored(), without building it. */
  get storedBytes(): number {
    if (!this.#finished) throw new Error('ClipSealer.storedBytes before finish');
    return ageFileLength(this.#ageHeader.length, this.#plaintextBytes);
  }

  #frames(bytes: Uint8Array, last: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let at = 0; at < bytes.length || (last && at === 0); at += STREAM_CHUNK) {
      out.push(encodeWireFrame(this.#key, this.#counter++, last && at + STREAM_CHUNK >= bytes.length, bytes.subarray(at, at + STREAM_CHUNK)));
    }
    return out;
  }
}
