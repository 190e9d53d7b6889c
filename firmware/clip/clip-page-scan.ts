// Splits a clip's plaintext into Ogg pages as it arrives, so the streaming opener has decoded (and
// CRC-checked) every page by the time the last one lands, and verifyClip at the end only has the
// tail left: on the device (node --jitless, a Pi Zero) decoding a whole 10 s clip at the end cost
// milliseconds of release-to-delivered. A page that does not decode stops the scan without a word:
// verifyClip meets the same bytes at the end and reports them, so a clip still gets one reason.
import { concatBytes } from './age-file.js';
import { decodeClipPage } from './clip-pages.js';
import { oggPageBytesNeeded, type OggPage } from '../audio/ogg-page.js';
import { startClipDigest } from './clip-signature.js';
import type { Hash } from 'node:crypto';

export interface ScannedPage {
  readonly page: OggPage;
  /** Where the page starts in the whole plaintext. */
  readonly offset: number;
  /** The page as it was received (a view). */
  readonly bytes: Uint8Array;
}

/** Pages decoded so far: they cover the plaintext's first `end` bytes exactly. */
export interface PageScan {
  readonly pages: readonly ScannedPage[];
  readonly end: number;
  /**
   * The clip signature's digest (SHA-512) of the plaintext's first `upTo` bytes: every page but the
   * newest, so once the signature page has come it covers exactly the signed bytes. verifyClip
   * continues it instead of hashing the whole clip at the end.
   */
  readonly digest?: { readonly hash: Hash; readonly upTo: number };
}

export class ClipPageScanner implements PageScan {
  readonly pages: ScannedPage[] = [];
  readonly digest = { hash: startClipDigest(), upTo: 0 };
  #end = 0;
  /** Bytes after the last whole page (the start of a page still arriving), in the pieces they came in. */
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  /** Pending bytes the next page needs before decoding is worth a try: each piece is joined once a page, not once a piece, so a peer sending one-byte frames costs linear work. */
  #need = 1;
  #stopped = false;

  get end(): number {
    return this.#end;
  }

  /** The next plaintext bytes, in order. */
  push(bytes: Uint8Array): void {
    if (this.#stopped || bytes.length === 0) return;
    this.#pending.push(bytes);
    this.#pendingLength += bytes.length;
    if (this.#pendingLength < this.#need) return;
    const buf = this.#pending.length === 1 ? this.#pending[0]! : concatBytes(this.#pending);
    let at = 0;
    for (;;) {
      let r;
      try {
        r = decodeClipPage(buf, at, 'clip');
      } catch {
        this.#stopped = true; // verifyClip reports it at the end
        break;
      }
      if (!r) break;
      const previous = this.pages.at(-1);
      if (previous) {
        this.digest.hash.update(previous.bytes);
        this.digest.upTo = this.#end;
      }
      this.pages.push({ page: r.page, offset: this.#end, bytes: buf.subarray(at, at + r.length) });
      this.#end += r.length;
      at += r.length;
    }
    // A copy: the decoded pages keep their own views of buf, the rest waits for more bytes.
    const rest = buf.slice(at);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingLength = rest.length;
    this.#need = oggPageBytesNeeded(rest, 0);
  }
}
