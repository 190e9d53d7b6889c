// Builds a clip's signed Ogg, page by page, from an Ogg Opus stream as it is produced:
//   OpusHead page, TorlkSig BOS page, OpusTags with the TORLK_* header, the audio pages
//   (renumbered if the new tags need more pages), and at the end the TorlkSig EOS page with the
//   signature. Used by sealClip (all at once) and by the streaming sealer (as the mic produces).
import { randomBytes, randomInt } from 'node:crypto';
import { ClipError } from './clip-error.js';
import { signedMessage, startClipDigest, base64url, SIGNATURE_STREAM_MAGIC } from './clip-signature.js';
import { encodeClipTags, decodeClipTags, withClipHeader, CHANNEL_NAME, CLIP_ID, AGE_RECIPIENT } from './clip-tags.js';
import { CLIP_FORMAT_VERSION, type ClipHeader, type ClipSigner, type SealHeader } from './clip-types.js';
import { clipDurationMs, decodeClipPage } from './clip-pages.js';
import { encodeOggPage, pageEndsPacket, pagesForPacket, type OggPage } from '../audio/ogg-page.js';
import { isOpusHead, OPUS_HEAD_BYTES } from '../audio/opus-head.js';
import { concatBytes } from './age-file.js';

const INPUT = 'input Ogg Opus';

function inputError(msg: string): ClipError {
  return new ClipError('corrupt', `${INPUT}: ${msg}`);
}

export function checkSealHeader(h: SealHeader, recipients: readonly string[]): void {
  if (!CHANNEL_NAME.test(h.channel)) throw new TypeError(`"channel" ${JSON.stringify(h.channel)} is not a valid channel name`);
  if (!Number.isSafeInteger(h.sequence) || h.sequence < 0) throw new TypeError(`"sequence" ${h.sequence} is not a non-negative safe integer`);
  if (!Number.isSafeInteger(h.createdAt) || h.createdAt < 0 || h.createdAt > 8.64e15) throw new TypeError(`"createdAt" ${h.createdAt} is not a time in ms`);
  if (h.clipId !== undefined && !CLIP_ID.test(h.clipId)) throw new TypeError(`"clipId" must be 32 lowercase hex digits`);
  if (recipients.length === 0) throw new TypeError('"recipients" must name at least one age1... recipient');
  for (const r of recipients) if (!AGE_RECIPIENT.test(r)) throw new TypeError(`"${r}" is not an age X25519 recipient (age1...)`);
}

export class ClipAssembler {
  readonly header: Omit<ClipHeader, 'durationMs'>;
  private pending: Uint8Array = new Uint8Array(0);
  private phase: 'head' | 'tags' | 'audio' | 'ended' = 'head';
  private serial = 0;
  private readonly sigSerial: number;
  private preSkip = 0;
  private lastGranule = 0n;
  private tagParts: Uint8Array[] = [];
  private tagPages = 0;
  private seqShift = 0;
  private nextSeq = 0;
  private audioPages = 0;
  private readonly digest = startClipDigest();

  constructor(header: SealHeader, recipients: readonly string[], private readonly signer: ClipSigner) {
    checkSealHeader(header, recipients);
    this.header = {
      version: CLIP_FORMAT_VERSION,
      clipId: header.clipId ?? randomBytes(16).toString('hex'),
      sender: base64url(signer.publicKey),
      channel: header.channel,
      sequence: header.sequence,
      createdAt: header.createdAt,
      codec: 'opus',
      recipients: [...recipients],
    };
    this.sigSerial = randomInt(1, 0xffffffff);
  }

  /** Feeds Ogg bytes (any chunking); returns the clip bytes that are now final. */
  push(bytes: Uint8Array): Uint8Array {
    if (this.phase === 'ended' && bytes.length > 0) throw inputError('bytes after the Opus EOS page');
    this.pending = this.pending.length ? concatBytes([this.pending, bytes]) : bytes;
    const out: Uint8Array[] = [];
    let at = 0;
    for (;;) {
      const parsed = decodeClipPage(this.pending, at, INPUT);
      if (!parsed) break;
      at += parsed.length;
      for (const page of this.onPage(parsed.page)) {
        const b = encodeOggPage(page);
        this.digest.update(b);
        out.push(b);
      }
    }
    this.pending = this.pending.slice(at);
    return concatBytes(out);
  }

  /** Ends the clip: returns the signature page and the final header (with the duration). */
  finish(): { tail: Uint8Array; header: ClipHeader } {
    if (this.phase !== 'ended') throw inputError('ended before the Opus EOS page');
    if (this.audioPages === 0) throw inputError('no audio pages');
    if (this.pending.length) throw inputError('trailing bytes after the last page');
    const signature = this.signer.sign(signedMessage(this.digest));
    const [page] = pagesForPacket(signature, { serial: this.sigSerial, sequence: 1, granule: 0n, eos: true });
    const durationMs = clipDurationMs(this.lastGranule, this.preSkip);
    return { tail: encodeOggPage(page!), header: { ...this.header, durationMs } };
  }

  private onPage(page: OggPage): OggPage[] {
    if (this.phase === 'head') {
      const head = page.body;
      const isHead = head.length >= OPUS_HEAD_BYTES && isOpusHead(head);
      if (!page.bos || !isHead || page.lacing.length !== 1) throw inputError('first page is not a lone OpusHead BOS page');
      this.serial = page.serial;
      if (this.sigSerial === this.serial) throw inputError('serial collision, seal again');
      this.preSkip = head[10]! | (head[11]! << 8);
      this.phase = 'tags';
      this.nextSeq = 1;
      const sigBos = pagesForPacket(SIGNATURE_STREAM_MAGIC, { serial: this.sigSerial, sequence: 0, granule: 0n, bos: true });
      return [page, ...sigBos];
    }
    if (this.phase === 'ended') throw inputError('pages after the Opus EOS page');
    if (page.serial !== this.serial || page.bos) throw inputError('more than one logical stream');
    if (page.sequence !== this.nextSeq) throw inputError(`page ${page.sequence} out of order (expected ${this.nextSeq})`);
    this.nextSeq++;
    if (this.phase === 'tags') {
      if (this.tagParts.length > 0 !== page.continued) throw inputError('OpusTags continuation flag is wrong');
      this.tagParts.push(page.body);
      this.tagPages++;
      if (!pageEndsPacket(page)) return [];
      if (page.lacing.length > 0 && page.lacing.slice(0, -1).some((l) => l < 255)) throw inputError('audio shares a page with OpusTags');
      const tags = withClipHeader(decodeClipTags(concatBytes(this.tagParts), INPUT), this.header);
      const pages = pagesForPacket(encodeClipTags(tags), { serial: this.serial, sequence: 1, granule: 0n });
      this.seqShift = pages.length - this.tagPages;
      this.phase = 'audio';
      return pages;
    }
    this.audioPages++;
    if (page.granule >= 0n) this.lastGranule = page.granule;
    if (page.eos) this.phase = 'ended';
    return [{ ...page, sequence: page.sequence + this.seqShift }];
  }
}
