// Checks a decrypted clip (the signed Ogg) strictly, in the order that gives a user the most
// useful reason: structure ('corrupt'), version, sender ('unknown-sender'), signature, then the
// signed header's content, the recipient binding and the channel.
import { ClipError } from './clip-error.js';
import { SIGNATURE_BYTES, SIGNATURE_STREAM_MAGIC, signedMessage, startClipDigest, verifyClipSignature } from './clip-signature.js';
import { decodeClipTags, readClipHeader, readVersionAndSender } from './clip-tags.js';
import type { ClipSender, OpenClipOptions, OpenedClip } from './clip-types.js';
import { clipDurationMs, decodeClipPage } from './clip-pages.js';
import { pageEndsPacket, type OggPage } from '../audio/ogg-page.js';
import type { PageScan, ScannedPage } from './clip-page-scan.js';
import { isOpusHead, OPUS_HEAD_BYTES } from '../audio/opus-head.js';
import type { OpusTags } from '../audio/opus-tags.js';
import { concatBytes } from './age-file.js';

function corrupt(msg: string): ClipError {
  return new ClipError('corrupt', msg);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface Layout {
  opus: OggPage[];
  /** The Opus pages' bytes: the playable Ogg Opus file. */
  ogg: Uint8Array;
  signedLength: number;
  signature: Uint8Array;
  tagsPacket: Uint8Array;
  preSkip: number;
  lastGranule: bigint;
}

/**
 * Splits the clip into its pages and checks the layout of docs/clip-format.md. `scanned`: pages the
 * streaming opener already decoded from the start of `plain` (clip-page-scan.ts); only the rest is
 * decoded here.
 */
function readLayout(plain: Uint8Array, scanned?: PageScan): Layout {
  const pages: ScannedPage[] = scanned ? [...scanned.pages] : [];
  for (let at = scanned?.end ?? 0; at < plain.length; ) {
    const r = decodeClipPage(plain, at, 'clip');
    if (!r) throw corrupt(`clip truncated inside the Ogg page at byte ${at}`);
    pages.push({ page: r.page, offset: at, bytes: plain.subarray(at, at + r.length) });
    at += r.length;
  }
  if (pages.length < 5) throw corrupt(`clip has ${pages.length} Ogg pages, at least 5 expected`);
  const head = pages[0]!.page;
  const sigBos = pages[1]!.page;
  const sigEos = pages[pages.length - 1]!;
  if (!head.bos || head.lacing.length !== 1 || head.body.length < OPUS_HEAD_BYTES || !isOpusHead(head.body)) throw corrupt('first page is not an OpusHead BOS page');
  if (head.body[8] !== 1) throw corrupt(`OpusHead version ${head.body[8]} is not 1`);
  if (!sigBos.bos || sigBos.serial === head.serial || sigBos.sequence !== 0 || !sameBytes(sigBos.body, SIGNATURE_STREAM_MAGIC) || sigBos.lacing.length !== 1) throw corrupt('second page is not the TorlkSig BOS page');
  const sig = sigEos.page;
  // The signature page is outside the signed bytes, so every header field of it is pinned here.
  if (sig.serial !== sigBos.serial || !sig.eos || sig.bos || sig.continued || sig.sequence !== 1 || sig.granule !== 0n || sig.body.length !== SIGNATURE_BYTES || sig.lacing.length !== 1) throw corrupt('last page is not the TorlkSig signature page');
  const opus = [head];
  for (const { page } of pages.slice(2, -1)) {
    if (page.serial !== head.serial || page.bos) throw corrupt('unexpected logical stream between the header and the signature');
    if (page.sequence !== opus.length) throw corrupt(`Opus page ${page.sequence} out of order`);
    if (opus[opus.length - 1]!.eos) throw corrupt('Opus pages after the EOS page');
    opus.push(page);
  }
  if (!opus[opus.length - 1]!.eos) throw corrupt('Opus stream has no EOS page');
  // OpusTags: the second packet, alone on its page(s) (RFC 7845 section 3).
  const parts: Uint8Array[] = [];
  let i = 1;
  for (; i < opus.length; i++) {
    const p = opus[i]!;
    if (parts.length > 0 !== p.continued) throw corrupt('OpusTags continuation flag is wrong');
    parts.push(p.body);
    if (pageEndsPacket(p)) break;
  }
  const lastTags = opus[i];
  if (!lastTags || lastTags.lacing.slice(0, -1).some((l) => l < 255)) throw corrupt('OpusTags packet is not alone on its pages');
  if (i + 1 >= opus.length) throw corrupt('clip has no audio pages');
  const preSkip = head.body[10]! | (head.body[11]! << 8);
  let lastGranule = 0n;
  for (const p of opus.slice(i + 1)) if (p.granule >= 0n) lastGranule = p.granule;
  // The Opus stream's own bytes, as signed: the first page, then everything from the third page up
  // to the signature page (the TorlkSig BOS page sits between them).
  const ogg = concatBytes([plain.subarray(0, pages[1]!.offset), plain.subarray(pages[2]!.offset, sigEos.offset)]);
  return { opus, ogg, signedLength: sigEos.offset, signature: sig.body, tagsPacket: concatBytes(parts), preSkip, lastGranule };
}

/**
 * `scanned` (the streaming opener's pages and digest of `plain`'s start) and `tags` (the OpusTags it
 * decoded from those pages for checkSenderEarly) spare the work already done while bytes arrived.
 * The scanner's digest is continued, so it must not be used again.
 */
export function verifyClip<S extends ClipSender>(plain: Uint8Array, opts: OpenClipOptions<S>, scanned?: PageScan, tags0?: OpusTags): OpenedClip<S> {
  const layout = readLayout(plain, scanned);
  const tags = tags0 ?? decodeClipTags(layout.tagsPacket, 'clip');
  const { sender: senderKey } = readVersionAndSender(tags);
  const sender = opts.contacts.find((c) => c.signingKey === senderKey);
  if (!sender) throw new ClipError('unknown-sender', `clip signed by ${senderKey}, who is not among your contacts`);
  const prior = scanned?.digest;
  const digest = prior && prior.upTo <= layout.signedLength ? prior.hash.update(plain.subarray(prior.upTo, layout.signedLength)) : startClipDigest().update(plain.subarray(0, layout.signedLength));
  if (!verifyClipSignature(senderKey, signedMessage(digest), layout.signature)) {
    throw new ClipError('bad-signature', `signature of ${sender.name}'s clip does not verify: it was changed after signing`);
  }
  const durationMs = clipDurationMs(layout.lastGranule, layout.preSkip);
  const header = readClipHeader(tags, durationMs);
  if (!header.recipients.includes(opts.identity.ageRecipient)) {
    throw new ClipError('not-addressed', `${sender.name} signed this clip for other recipients; it was re-encrypted to this device`);
  }
  if (opts.expectChannel !== undefined && header.channel !== opts.expectChannel) {
    throw new ClipError('wrong-channel', `clip is for channel "${header.channel}", this radio is on "${opts.expectChannel}"`);
  }
  return { header, ogg: layout.ogg, sender };
}

/**
 * Early check for the streaming opener: once the OpusTags packet has arrived, refuse a clip whose
 * version we can't read or whose sender is not a contact, without waiting for the whole upload.
 * `pages`: the clip's pages decoded so far (clip-page-scan.ts). Once the check ran and passed: the
 * decoded tags, for verifyClip, or null when they did not decode (verifyClip reports that);
 * undefined while the tags are still incomplete. Structural problems are left to verifyClip at the
 * end, so a clip gets one reason either way.
 */
export function checkSenderEarly(pages: readonly ScannedPage[], contacts: readonly ClipSender[]): OpusTags | null | undefined {
  const parts: Uint8Array[] = [];
  for (const { page } of pages.slice(2)) { // after OpusHead and the TorlkSig BOS page
    parts.push(page.body);
    if (!pageEndsPacket(page)) continue;
    let tags;
    try {
      tags = decodeClipTags(concatBytes(parts), 'clip');
    } catch {
      return null;
    }
    const { sender } = readVersionAndSender(tags);
    if (!contacts.some((c) => c.signingKey === sender)) throw new ClipError('unknown-sender', `clip signed by ${sender}, who is not among your contacts`);
    return tags;
  }
  return undefined;
}
