// The clip layer reads and writes Ogg through firmware/audio's page and OpusTags codecs. These
// tests pin what that means for clips: the codec's errors become ClipError('corrupt') naming whose
// bytes were bad, other errors pass through, and a plaintext held in a Buffer is neither changed
// nor misread (Buffer#slice shares memory, which once zeroed CRC fields inside the signed bytes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OggFormatError, OggWriterError } from '../../firmware/audio/ogg-errors.js';
import { decodeOggPage, encodeOggPage, pagesForPacket, type OggPage } from '../../firmware/audio/ogg-page.js';
import { encodeOpusTags } from '../../firmware/audio/opus-tags.js';
import { concatBytes, decryptAgeFile } from '../../firmware/clip/age-file.js';
import { ClipError, clipErrorFromOgg } from '../../firmware/clip/clip-error.js';
import { decodeClipTags, withClipHeader } from '../../firmware/clip/clip-tags.js';
import { MAX_CLIP_BYTES } from '../../firmware/clip/clip-types.js';
import { verifyClip } from '../../firmware/clip/clip-verifier.js';
import { sealClip } from '../../firmware/clip/seal-clip.js';
import { cleanup, makeDevice, makeOgg, type TestDevice } from './clip-fixtures.js';

let ogg: Uint8Array;
let alice: TestDevice;
let bob: TestDevice;
const header = { channel: 'family', sequence: 7, createdAt: Date.UTC(2026, 10, 24, 21, 0, 0) };

beforeAll(async () => {
  ogg = makeOgg(0.5);
  [alice, bob] = await Promise.all([makeDevice('alice'), makeDevice('bob')]);
});
afterAll(cleanup);

function pagesOf(bytes: Uint8Array): OggPage[] {
  const pages: OggPage[] = [];
  for (let at = 0; at < bytes.length; ) {
    const r = decodeOggPage(bytes, at)!;
    pages.push(r.page);
    at += r.length;
  }
  return pages;
}

/** The input Ogg with its OpusTags packet replaced by `packet`, the audio pages renumbered after it. */
function withTagsPacket(packet: Uint8Array): Uint8Array {
  const [head, oldTags, ...audio] = pagesOf(ogg);
  expect(oldTags!.lacing.at(-1)).toBeLessThan(255); // opusenc's tags fit one page
  const tags = pagesForPacket(packet, { serial: head!.serial, sequence: 1, granule: 0n });
  const renumbered = audio.map((p, i) => ({ ...p, sequence: 1 + tags.length + i }));
  return concatBytes([head!, ...tags, ...renumbered].map(encodeOggPage));
}

async function sealError(input: Uint8Array): Promise<ClipError> {
  const err = await sealClip({ ogg: input, header, signer: alice.signer, recipients: [bob.identity.ageRecipient] }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClipError);
  return err as ClipError;
}

describe('clipErrorFromOgg', () => {
  it('turns the codec\'s format and writer errors into corrupt, naming whose bytes', () => {
    const format = clipErrorFromOgg(new OggFormatError('crc', 'page CRC 0x1 but contents give 0x2', 40), 'clip');
    expect(format).toBeInstanceOf(ClipError);
    expect(format).toMatchObject({ reason: 'corrupt', message: 'corrupt: clip: malformed Ogg Opus (crc): page CRC 0x1 but contents give 0x2 at byte 40' });
    const writer = clipErrorFromOgg(new OggWriterError('OpusTags would be 9 bytes, over the 8-byte limit'), 'input Ogg Opus');
    expect(writer).toMatchObject({ reason: 'corrupt', message: 'corrupt: input Ogg Opus: OpusTags would be 9 bytes, over the 8-byte limit' });
    expect((writer as ClipError).cause).toBeInstanceOf(OggWriterError);
  });

  it('returns any other error unchanged (a bug must not pass as a corrupt clip)', () => {
    const bug = new TypeError('x is undefined');
    expect(clipErrorFromOgg(bug, 'clip')).toBe(bug);
    const clip = new ClipError('truncated', 'cut');
    expect(clipErrorFromOgg(clip, 'clip')).toBe(clip);
  });
});

describe('the clip layer on firmware/audio\'s codecs', () => {
  it('verifies a plaintext held in a Buffer, and leaves the Buffer as it was', async () => {
    const sealed = await sealClip({ ogg, header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
    const plain = Buffer.from(await decryptAgeFile(sealed, bob.identity.ageIdentity));
    const before = Buffer.from(plain);
    const opened = verifyClip(plain, { identity: bob.identity, contacts: [alice.contact] });
    expect(opened.header.channel).toBe('family');
    expect(plain.equals(before)).toBe(true);
  });

  it('seals an input Ogg held in a Buffer to the same audio', async () => {
    const sealed = await sealClip({ ogg: Buffer.from(ogg), header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
    const opened = verifyClip(await decryptAgeFile(sealed, bob.identity.ageIdentity), { identity: bob.identity, contacts: [alice.contact] });
    expect(pagesOf(opened.ogg).slice(2)).toEqual(pagesOf(ogg).slice(2));
  });

  it('corrupt input: a page with a bad CRC names the input and the byte', async () => {
    const bad = new Uint8Array(ogg);
    bad[bad.length - 1]! ^= 1;
    const err = await sealError(bad);
    expect(err.reason).toBe('corrupt');
    expect(err.message).toMatch(/^corrupt: input Ogg Opus: malformed Ogg Opus \(crc\).* at byte \d+$/);
    expect(err.cause).toBeInstanceOf(OggFormatError);
  });

  it('corrupt input: an OpusTags comment without "=" (RFC 7845 section 5.2)', async () => {
    // Hand-made: the encoder refuses to write such a comment.
    const text = new TextEncoder();
    const parts = [text.encode('OpusTags'), Uint8Array.of(1, 0, 0, 0), text.encode('v'), Uint8Array.of(1, 0, 0, 0), Uint8Array.of(8, 0, 0, 0), text.encode('NOEQUALS')];
    const err = await sealError(withTagsPacket(concatBytes(parts)));
    expect(err.reason).toBe('corrupt');
    expect(err.message).toMatch(/input Ogg Opus: .*opus-tags.*comment 0 has no '='/);
  });

  it('corrupt input: a second packet that is not OpusTags', async () => {
    const err = await sealError(withTagsPacket(new TextEncoder().encode('NotTags!rest')));
    expect(err.message).toMatch(/input Ogg Opus: .*does not start with "OpusTags"/);
  });

  it('corrupt input: tags larger than a whole clip may be, refused while sealing', async () => {
    const huge = encodeOpusTags({ vendor: 'big', comments: [['PADDING', 'x'.repeat(MAX_CLIP_BYTES)]] }, 3 * MAX_CLIP_BYTES);
    const err = await sealError(withTagsPacket(huge));
    expect(err.reason).toBe('corrupt');
    expect(err.message).toMatch(/input Ogg Opus: OpusTags would be \d+ bytes, over the 2097152-byte limit/);
  });

  it('tags spread over several pages are re-laid and still open', async () => {
    const big = encodeOpusTags({ vendor: 'big', comments: [['PADDING', 'y'.repeat(70_000)]] }, 1 << 20);
    const sealed = await sealClip({ ogg: withTagsPacket(big), header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
    const opened = verifyClip(await decryptAgeFile(sealed, bob.identity.ageIdentity), { identity: bob.identity, contacts: [alice.contact] });
    const tags = decodeClipTags(concatBytes(pagesOf(opened.ogg).slice(1, 3).map((p) => p.body)), 'clip');
    expect(tags.comments[0]).toEqual(['PADDING', 'y'.repeat(70_000)]);
    expect(opened.header.sequence).toBe(7);
  });

  it('withClipHeader keeps other comments, drops TORLK_* ones whatever their case, and appends the header', () => {
    const tags = withClipHeader(
      { vendor: 'v', comments: [['TITLE', 'a=b'], ['torlk_channel', 'evil'], ['Torlk_Sender', 'x']] },
      { version: 1, clipId: '0'.repeat(32), sender: 'S'.repeat(43), channel: 'family', sequence: 3, createdAt: 0, codec: 'opus', recipients: ['r1', 'r2'] },
    );
    expect(tags.comments).toEqual([
      ['TITLE', 'a=b'],
      ['TORLK_VERSION', '1'],
      ['TORLK_CLIP_ID', '0'.repeat(32)],
      ['TORLK_SENDER', 'S'.repeat(43)],
      ['TORLK_CHANNEL', 'family'],
      ['TORLK_SEQUENCE', '3'],
      ['TORLK_CREATED_AT', '1970-01-01T00:00:00.000Z'],
      ['TORLK_CODEC', 'opus'],
      ['TORLK_RECIPIENT', 'r1'],
      ['TORLK_RECIPIENT', 'r2'],
    ]);
  });
});
