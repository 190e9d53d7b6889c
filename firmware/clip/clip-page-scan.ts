// Splits a clip's plaintext into Ogg pages as it arrives, so the streaming opener has decoded (and
// CRC-checked) every page by the time the last one lands, and verifyClip at the end only has the
// tail left: on the device (node --jitless, a Pi Zero) decoding a whole 10 s clip at the end cost
// milliseconds of release-to-delivered. A page that does not decode stops the scan without a word:
// verifyClip meets the same bytes at the end and reports them, so a clip still gets one reason.
import { concatBytes } from './age-file.js';
import { decodeClipPage } from './clip-pages.js';
import type { OggPage } from '../audio/ogg-page.js';

export interface ScannedPage {
  readonly page: OggPage;
  /** Where the page starts in the whole plaintext. */
  readonly offset: number;
}

/** Pages decoded so far: they cover the plaintext's first `end` bytes exactly. */
export interface PageScan {
  readonly pages: readonly ScannedPage[];
  readonly end: number;
}

export class ClipPageScanner implements PageScan {
  readonly pages: ScannedPage[] = [];
  #end = 0;
  /** Bytes after the last whole page (the start of a page still arriving). */
  #pending: Uint8Array = new Uint8Array(0);
  #stopped = false;

  get end(): number {
    return this.#end;
  }

  /** The next plaintext bytes, in order. */
  push(bytes: Uint8Array): void {
    if (this.#stopped || bytes.length === 0) return;
    const buf = this.#pending.length === 0 ? bytes : concatBytes([this.#pending, bytes]);
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
      this.pages.push({ page: r.page, offset: this.#end });
      this.#end += r.length;
      at += r.length;
    }
    // A copy: the decoded pages keep their own views of buf, the rest waits for more bytes.
    this.#pending = buf.slice(at);
  }
}
