// age's STREAM payload (https://age-encryption.org/v1, "Payload"), encrypted as the plaintext
// arrives rather than all at once: byte for byte what encryptPayload (age-file.ts) makes of the
// same plaintext. The receiver stores each clip as a standard age file to itself; encrypting the
// whole 10 s clip after its last byte cost ~0.2 ms under --jitless, between that byte and the receipt.
// Hand-written: the age-encryption library's streaming encrypter is a WHATWG stream over its own
// pure-JS ChaCha20-Poly1305, and we need synchronous pushes and OpenSSL.
//
// The catch is the last-chunk flag, which is part of each chunk's nonce: a chunk is sealed as the
// last one until a byte past its 64 KiB arrives. Then, and only then, it is sealed again as a
// middle chunk from the plaintext kept for it (64 KiB: 0.4-0.5 ms jitless, while bytes still arrive).
// A clip under 64 KiB (~30 s at 16 kbit/s) is encrypted once. Each (key, nonce) pair still
// encrypts one plaintext: an encryption under the last flag given up for a middle chunk is
// discarded unseen, and its nonce is never used again (the next chunk has the next counter).
import { createCipheriv, type CipherChaCha20Poly1305 } from 'node:crypto';
import { concatBytes, sealChunk, STREAM_CHUNK, STREAM_TAG, streamNonce } from './age-file.js';

export class AgePayloadStream {
  readonly #key: Uint8Array;
  /** Sealed middle chunks, in order. */
  readonly #sealed: Uint8Array[] = [];
  /** The current chunk: its number, its plaintext so far, and its ciphertext so far as the last chunk. */
  #counter = 0;
  #plain: Uint8Array[] = [];
  #plainBytes = 0;
  #body: Uint8Array[] = [];
  #cipher: CipherChaCha20Poly1305;
  #finished = false;

  constructor(payloadKey: Uint8Array) {
    this.#key = payloadKey;
    this.#cipher = this.#lastChunkCipher();
  }

  #lastChunkCipher(): CipherChaCha20Poly1305 {
    return createCipheriv('chacha20-poly1305', this.#key, streamNonce(this.#counter, true), { authTagLength: STREAM_TAG });
  }

  /** The next plaintext bytes, in any chunking. The caller must not change them afterwards (they are kept, not copied). */
  push(bytes: Uint8Array): void {
    if (this.#finished) throw new Error('AgePayloadStream.push after finish');
    for (let at = 0; at < bytes.length; ) {
      if (this.#plainBytes === STREAM_CHUNK) this.#closeMiddleChunk();
      const part = bytes.subarray(at, at + STREAM_CHUNK - this.#plainBytes);
      this.#plain.push(part);
      this.#plainBytes += part.length;
      this.#body.push(this.#cipher.update(part));
      at += part.length;
    }
  }

  /** A full chunk followed by more bytes is a middle chunk: sealed again without the last flag. */
  #closeMiddleChunk(): void {
    this.#sealed.push(sealChunk(this.#key, this.#counter, false, concatBytes(this.#plain)));
    this.#counter++;
    this.#plain = [];
    this.#plainBytes = 0;
    this.#body = [];
    this.#cipher = this.#lastChunkCipher();
  }

  /** The whole payload, as encryptPayload would make it; the stream takes no more bytes after this. */
  finish(): Uint8Array[] {
    if (this.#finished) throw new Error('AgePayloadStream.finish called twice');
    this.#finished = true;
    this.#body.push(this.#cipher.final());
    return [...this.#sealed, ...this.#body, this.#cipher.getAuthTag()];
  }
}
