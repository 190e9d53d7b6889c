// sealClip/openClip round trips and one test per ClipError reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealClip, sealClipWithHeader } from '../../firmware/clip/seal-clip.js';
import { openClip } from '../../firmware/clip/open-clip.js';
import { decryptAgeFile, assembleAgeFile, createAgeHeader, concatBytes } from '../../firmware/clip/age-file.js';
import { decodeOggPage, encodeOggPage, pagesForPacket, type OggPage } from '../../firmware/audio/ogg-page.js';
import { decodeOpusTags, encodeOpusTags, MAX_TAGS_BYTES, type OpusComment } from '../../firmware/audio/opus-tags.js';
import { signedMessage, startClipDigest } from '../../firmware/clip/clip-signature.js';
import { cleanup, makeDevice, makeOgg, reason, type TestDevice } from './clip-fixtures.js';

let ogg: Uint8Array;
let alice: TestDevice;
let bob: TestDevice;
let carol: TestDevice;
const header = { channel: 'family', sequence: 42, createdAt: Date.UTC(2026, 10, 24, 20, 0, 0) };

beforeAll(async () => {
  ogg = makeOgg(1.5);
  [alice, bob, carol] = await Promise.all([makeDevice('alice'), makeDevice('bob'), makeDevice('carol')]);
});
afterAll(cleanup);

const sealForBob = () => sealClip({ ogg, header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
const openAsBob = (bytes: Uint8Array, extra: { expectChannel?: string; maxBytes?: number } = {}) =>
  openClip(bytes, { identity: bob.identity, contacts: [alice.contact, carol.contact], ...extra });

/** Re-encrypts a (possibly modified) plaintext to `recipients`, as an attacker holding it could. */
async function reEncrypt(plain: Uint8Array, recipients: string[]): Promise<Uint8Array> {
  const { header: h, fileKey } = await createAgeHeader(recipients);
  return assembleAgeFile(h, fileKey, plain);
}

describe('sealClip → openClip', () => {
  it('round-trips header, sender and audio', async () => {
    const { sealed, header: sealedHeader } = await sealClipWithHeader({ ogg, header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
    const opened = await openAsBob(sealed, { expectChannel: 'family' });
    expect(opened.sender).toEqual(alice.contact);
    expect(opened.header).toEqual(sealedHeader);
    expect(opened.header).toMatchObject({ version: 1, channel: 'family', sequence: 42, createdAt: header.createdAt, codec: 'opus', sender: alice.signer.id, recipients: [bob.identity.ageRecipient] });
    expect(opened.header.clipId).toMatch(/^[0-9a-f]{32}$/);
    expect(opened.header.durationMs).toBe(1500);
    // Same audio packets: every Opus page after the tags is byte-identical to the input's.
    const pagesOf = (b: Uint8Array) => {
      const out: Uint8Array[] = [];
      for (let at = 0; at < b.length; ) {
        const r = decodeOggPage(b, at)!;
        out.push(r.page.body);
        at += r.length;
      }
      return out;
    };
    expect(pagesOf(opened.ogg).slice(2)).toEqual(pagesOf(ogg).slice(2));
  });

  it('seals to several recipients, each can open', async () => {
    const sealed = await sealClip({ ogg, header, signer: alice.signer, recipients: [bob.identity.ageRecipient, carol.identity.ageRecipient] });
    const asCarol = await openClip(sealed, { identity: carol.identity, contacts: [alice.contact] });
    const asBob = await openAsBob(sealed);
    expect(asCarol.header.recipients).toEqual(asBob.header.recipients);
  });

  it('keeps the encoder\'s own comments and replaces forged TORLK_ ones', async () => {
    const tagged = makeOgg(0.5, ['--comment', 'TORLK_CHANNEL=evil', '--comment', 'TITLE=hello']);
    const sealed = await sealClip({ ogg: tagged, header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });
    const opened = await openAsBob(sealed);
    expect(opened.header.channel).toBe('family');
    expect(Buffer.from(opened.ogg).includes('TITLE=hello')).toBe(true);
    expect(Buffer.from(opened.ogg).includes('TORLK_CHANNEL=evil')).toBe(false);
  });

  it('rejects bad seal input with TypeError or a corrupt-input ClipError', async () => {
    const bad = (h: object, r = [bob.identity.ageRecipient]) => sealClip({ ogg, header: { ...header, ...h }, signer: alice.signer, recipients: r });
    await expect(bad({ channel: '' })).rejects.toThrow(TypeError);
    await expect(bad({ channel: 'a\nb' })).rejects.toThrow(TypeError);
    await expect(bad({ sequence: -1 })).rejects.toThrow(TypeError);
    await expect(bad({ sequence: 1.5 })).rejects.toThrow(TypeError);
    await expect(bad({ createdAt: Number.NaN })).rejects.toThrow(TypeError);
    await expect(bad({ clipId: 'XYZ' })).rejects.toThrow(TypeError);
    await expect(bad({}, [])).rejects.toThrow(TypeError);
    await expect(bad({}, ['age1notarecipient'])).rejects.toThrow(TypeError);
    expect(await reason(sealClip({ ogg: ogg.subarray(0, ogg.length - 10), header, signer: alice.signer, recipients: [bob.identity.ageRecipient] }))).toBe('corrupt');
    expect(await reason(sealClip({ ogg: new Uint8Array(100), header, signer: alice.signer, recipients: [bob.identity.ageRecipient] }))).toBe('corrupt');
    expect(await reason(sealClip({ ogg: concatBytes([ogg, ogg]), header, signer: alice.signer, recipients: [bob.identity.ageRecipient] }))).toBe('corrupt');
  });
});

describe('every ClipError reason', () => {
  it('not-age: random bytes, and an empty input', async () => {
    expect(await reason(openAsBob(new TextEncoder().encode('RIFF....WAVEfmt and more bytes here')))).toBe('not-age');
    expect(await reason(openAsBob(new Uint8Array(0)))).toBe('not-age');
  });

  it('wrong-key: sealed to carol, opened by bob', async () => {
    const sealed = await sealClip({ ogg, header, signer: alice.signer, recipients: [carol.identity.ageRecipient] });
    expect(await reason(openAsBob(sealed))).toBe('wrong-key');
  });

  it('corrupt: one flipped byte in the payload, truncation, and a broken header MAC', async () => {
    const sealed = await sealForBob();
    const flipped = sealed.slice();
    flipped[flipped.length - 100]! ^= 0x01;
    expect(await reason(openAsBob(flipped))).toBe('corrupt');
    expect(await reason(openAsBob(sealed.subarray(0, sealed.length - 1)))).toBe('corrupt');
    expect(await reason(openAsBob(sealed.subarray(0, 30)))).toBe('truncated');
    expect(await reason(openAsBob(sealed.subarray(0, 10)))).toBe('truncated');
    const mac = sealed.slice();
    const at = Buffer.from(mac).indexOf('\n--- ') + 6;
    mac[at] = mac[at] === 0x41 ? 0x42 : 0x41;
    expect(await reason(openAsBob(mac))).toBe('corrupt');
  });

  it('bad-signature: a re-encrypted clip whose audio was changed', async () => {
    const plain = await decryptAgeFile(await sealForBob(), bob.identity.ageIdentity);
    // Change one byte inside the last audio page and fix its CRC, so only the signature can tell.
    const pages: { start: number; len: number }[] = [];
    for (let at = 0; at < plain.length; ) {
      const r = decodeOggPage(plain, at)!;
      pages.push({ start: at, len: r.length });
      at += r.length;
    }
    const target = pages[pages.length - 2]!;
    const { page } = decodeOggPage(plain, target.start)!;
    const body = page.body.slice();
    body[body.length - 1]! ^= 0x55;
    const forged = concatBytes([plain.subarray(0, target.start), encodeOggPage({ ...page, body }), plain.subarray(target.start + target.len)]);
    expect(await reason(openAsBob(await reEncrypt(forged, [bob.identity.ageRecipient])))).toBe('bad-signature');
  });

  it('unknown-sender: signed by someone not in contacts', async () => {
    const mallory = await makeDevice('mallory');
    const sealed = await sealClip({ ogg, header, signer: mallory.signer, recipients: [bob.identity.ageRecipient] });
    expect(await reason(openAsBob(sealed))).toBe('unknown-sender');
  });

  it('not-addressed: carol re-encrypts alice\'s clip to bob', async () => {
    const toCarol = await sealClip({ ogg, header, signer: alice.signer, recipients: [carol.identity.ageRecipient] });
    const plain = await decryptAgeFile(toCarol, carol.identity.ageIdentity);
    expect(await reason(openAsBob(await reEncrypt(plain, [bob.identity.ageRecipient])))).toBe('not-addressed');
  });

  it('wrong-channel: expectChannel differs', async () => {
    expect(await reason(openAsBob(await sealForBob(), { expectChannel: 'work' }))).toBe('wrong-channel');
  });

  it('too-large: over maxBytes, checked before decrypting', async () => {
    const sealed = await sealForBob();
    expect(await reason(openAsBob(sealed, { maxBytes: sealed.length - 1 }))).toBe('too-large');
    await expect(openAsBob(sealed, { maxBytes: sealed.length })).resolves.toBeTruthy();
  });

  /** A clip signed by alice whose OpusTags comments were edited before signing. */
  async function signedWithTags(edit: (c: string[]) => string[]): Promise<Uint8Array> {
    const plain = await decryptAgeFile(await sealForBob(), bob.identity.ageIdentity);
    const pages: { page: OggPage; bytes: Uint8Array }[] = [];
    for (let at = 0; at < plain.length; ) {
      const r = decodeOggPage(plain, at)!;
      pages.push({ page: r.page, bytes: plain.subarray(at, at + r.length) });
      at += r.length;
    }
    const tagsPage = pages[2]!.page;
    const tags = decodeOpusTags(tagsPage.body);
    // The edits work on "KEY=value" text, as a tool editing the comments would.
    const edited = edit(tags.comments.map(([k, v]) => `${k}=${v}`)).map((c): OpusComment => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)]);
    const body = encodeOpusTags({ vendor: tags.vendor, comments: edited }, MAX_TAGS_BYTES);
    const [newTags] = pagesForPacket(body, { serial: tagsPage.serial, sequence: 1, granule: 0n });
    const signedPart = concatBytes([pages[0]!.bytes, pages[1]!.bytes, encodeOggPage(newTags!), ...pages.slice(3, -1).map((p) => p.bytes)]);
    const signature = alice.signer.sign(signedMessage(startClipDigest().update(signedPart)));
    const sigPage = pages[pages.length - 1]!.page;
    return reEncrypt(concatBytes([signedPart, encodeOggPage({ ...sigPage, body: signature })]), [bob.identity.ageRecipient]);
  }

  it('re-signing unchanged tags still opens (the helper below is sound)', async () => {
    await expect(openAsBob(await signedWithTags((c) => c))).resolves.toBeTruthy();
  });

  it('unsupported-version: TORLK_VERSION=2', async () => {
    const clip = await signedWithTags((c) => c.map((x) => (x.startsWith('TORLK_VERSION=') ? 'TORLK_VERSION=2' : x)));
    expect(await reason(openAsBob(clip))).toBe('unsupported-version');
  });

  it.each([
    ['a missing clip id', (c: string[]) => c.filter((x) => !x.startsWith('TORLK_CLIP_ID='))],
    ['a duplicated channel', (c: string[]) => [...c, 'TORLK_CHANNEL=other']],
    ['a non-numeric sequence', (c: string[]) => c.map((x) => (x.startsWith('TORLK_SEQUENCE=') ? 'TORLK_SEQUENCE=1e3' : x))],
    ['a local time', (c: string[]) => c.map((x) => (x.startsWith('TORLK_CREATED_AT=') ? 'TORLK_CREATED_AT=2026-11-24 20:00' : x))],
    ['another codec', (c: string[]) => c.map((x) => (x.startsWith('TORLK_CODEC=') ? 'TORLK_CODEC=vorbis' : x))],
    ['no recipient', (c: string[]) => c.filter((x) => !x.startsWith('TORLK_RECIPIENT='))],
    ['a malformed sender', (c: string[]) => c.map((x) => (x.startsWith('TORLK_SENDER=') ? 'TORLK_SENDER=abc' : x))],
  ])('bad-header: %s', async (_what, edit) => {
    expect(await reason(openAsBob(await signedWithTags(edit)))).toBe('bad-header');
  });
});
