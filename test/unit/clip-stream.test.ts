// The streaming sealer/opener: same clip as the non-streaming API, at any split of the bytes, with
// the size cap enforced as bytes arrive and the stored file byte-identical on both sides.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipError } from '../../firmware/clip/clip-error.js';
import { ClipSealer } from '../../firmware/clip/clip-sealer.js';
import { createClipOpenStream } from '../../firmware/clip/clip-open-stream.js';
import { openClip } from '../../firmware/clip/open-clip.js';
import { concatBytes } from '../../firmware/clip/age-file.js';
import type { ClipHeader } from '../../firmware/clip/clip-types.js';
import { WIRE_MAGIC } from '../../firmware/clip/wire-frames.js';
import { decodeOggPage } from '../../firmware/audio/ogg-page.js';
import { cleanup, makeDevice, makeOgg, openInPieces, reason, splitAt, type TestDevice } from './clip-fixtures.js';

let ogg: Uint8Array;
let alice: TestDevice;
let bob: TestDevice;
const header = { channel: 'family', sequence: 3, createdAt: Date.UTC(2026, 10, 24, 20, 30) };

beforeAll(async () => {
  ogg = makeOgg(3);
  [alice, bob] = await Promise.all([makeDevice('alice'), makeDevice('bob')]);
});
afterAll(cleanup);

const startSealer = () => ClipSealer.start({ header, signer: alice.signer, recipients: [bob.identity.ageRecipient] });

async function sealStreaming(pieces: Uint8Array[]): Promise<{ wire: Uint8Array; stored: Uint8Array; header: ClipHeader }> {
  const s = await startSealer();
  const wire = [s.preamble, ...pieces.flatMap((p) => s.push(p))];
  const { frames, header: h } = s.finish();
  return { wire: concatBytes([...wire, ...frames]), stored: s.stored(), header: h };
}

const openStreaming = (pieces: Uint8Array[]) => openInPieces({ identity: bob.identity, contacts: [alice.contact] }, pieces);

describe('streaming seal', () => {
  it('gives wire frames back as the pages come in, before the clip ends', async () => {
    const s = await startSealer();
    expect(Buffer.from(s.preamble.subarray(0, WIRE_MAGIC.length)).toString()).toBe('torlk-wire/v1\n');
    const early = s.push(ogg.subarray(0, 4000));
    expect(early.length).toBeGreaterThan(0);
    expect(early[0]!.length).toBeGreaterThan(20); // a frame with the first pages, before the end
    expect(s.push(new Uint8Array(0))).toEqual([]);
    s.push(ogg.subarray(4000));
    const { frames, header: h } = s.finish();
    expect(frames).toHaveLength(1); // the signature frame, flagged last
    expect(new DataView(frames[0]!.buffer, frames[0]!.byteOffset).getUint32(0) >>> 31).toBe(1);
    expect(h.channel).toBe('family');
  });

  it('its stored file opens with openClip, and the wire opens to the same clip and the same stored bytes', async () => {
    const { wire, stored, header: sealedHeader } = await sealStreaming([ogg]);
    const plain = await openClip(stored, { identity: bob.identity, contacts: [alice.contact] });
    expect(plain.header).toEqual(sealedHeader);
    const streamed = await openStreaming([wire]);
    expect(streamed.header).toEqual(sealedHeader);
    expect(streamed.ogg).toEqual(plain.ogg);
    expect(Buffer.from(streamed.stored).equals(Buffer.from(stored))).toBe(true);
  });

  it('throws on a bad header at start and on bad Ogg input mid-stream', async () => {
    expect(() => ClipSealer.start({ header: { ...header, channel: '' }, signer: alice.signer, recipients: [bob.identity.ageRecipient] })).toThrow(TypeError);
    const s = await startSealer();
    let err: unknown;
    try {
      s.push(new Uint8Array(64));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClipError);
    expect((err as ClipError).reason).toBe('corrupt');
  });

  it('knows the stored file\'s length before building it (one age chunk and several), and builds it once', async () => {
    for (const long of [makeOgg(1), ogg, makeOgg(40)]) {
      const s = await startSealer();
      s.push(long);
      s.finish();
      const bytes = s.storedBytes;
      const stored = s.stored();
      expect(stored.length).toBe(bytes);
      expect(s.stored()).toBe(stored);
    }
    expect(makeOgg(40).length).toBeGreaterThan(64 * 1024); // so the last case spans two age chunks
  });

  it('gives the receiver the sender\'s stored bytes when the clip spans several age chunks, streamed in pieces', async () => {
    const long = makeOgg(40);
    const pages: Uint8Array[] = [];
    for (let at = 0; at < long.length; at += 1500) pages.push(long.subarray(at, at + 1500));
    const { wire, stored } = await sealStreaming(pages);
    expect(stored.length).toBeGreaterThan(64 * 1024 + 200);
    const opened = await openStreaming(splitAt(wire, [300, 5000, 64 * 1024, 64 * 1024 + 700, 90_000]));
    expect(Buffer.from(opened.stored).equals(Buffer.from(stored))).toBe(true);
    expect((await openClip(opened.stored, { identity: bob.identity, contacts: [alice.contact] })).ogg).toEqual(opened.ogg);
  });

  it('refuses to finish before the Opus EOS page, and takes nothing after finishing', async () => {
    const cut = await startSealer();
    cut.push(ogg.subarray(0, 1000));
    expect(() => cut.finish()).toThrow(ClipError);
    expect(() => cut.stored()).toThrow(/before finish/);
    expect(() => cut.storedBytes).toThrow(/before finish/);
    const done = await startSealer();
    done.push(ogg);
    done.finish();
    expect(() => done.push(ogg)).toThrow(/after finish/);
    expect(() => done.finish()).toThrow(/twice/);
  });
});

describe('streaming open', () => {
  it('any split of the Ogg input and of the wire gives the same clip and byte-identical stored file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), async (inCuts, wireCuts) => {
        const { wire, stored, header: h } = await sealStreaming(splitAt(ogg, inCuts));
        const opened = await openStreaming(splitAt(wire, wireCuts));
        expect(opened.header).toEqual(h);
        expect(Buffer.from(opened.stored).equals(Buffer.from(stored))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('accepts a standard age file (an outbox retry), in pieces', async () => {
    const { stored } = await sealStreaming([ogg]);
    const opened = await openStreaming(splitAt(stored, [1, 2, 3, 100, 5000]));
    expect(opened.stored).toEqual(stored);
    expect(opened.sender.name).toBe('alice');
  });

  it('one byte at a time', async () => {
    const { wire } = await sealStreaming([ogg]);
    const opened = await openStreaming(Array.from(wire, (b) => Uint8Array.of(b)));
    expect(opened.header.durationMs).toBe(3000);
  });

  it('too-large: the push that passes the cap throws, before the rest arrives', async () => {
    const { wire } = await sealStreaming([ogg]);
    const o = createClipOpenStream({ identity: bob.identity, contacts: [alice.contact], maxBytes: 1000 });
    o.push(wire.subarray(0, 1000));
    expect(() => o.push(wire.subarray(1000, 1001))).toThrow(expect.objectContaining({ reason: 'too-large' }));
    expect(await reason(o.result)).toBe('too-large');
    expect(() => o.push(wire.subarray(1001, 1002))).toThrow(expect.objectContaining({ reason: 'too-large' }));
  });

  it('truncated wire; corrupt: a flipped frame byte, bytes after the last frame', async () => {
    const { wire } = await sealStreaming([ogg]);
    expect(await reason(openStreaming([wire.subarray(0, wire.length - 1)]))).toBe('truncated');
    expect(await reason(openStreaming([wire.subarray(0, 200)]))).toBe('truncated');
    expect(await reason(openStreaming([wire.subarray(0, 5)]))).toBe('truncated');
    const flipped = wire.slice();
    flipped[flipped.length - 30]! ^= 0x80;
    expect(await reason(openStreaming([flipped]))).toBe('corrupt');
    expect(await reason(openStreaming([wire, Uint8Array.of(0)]))).toBe('corrupt');
  });

  it('not-age, wrong-key, unknown-sender over the wire', async () => {
    expect(await reason(openStreaming([new TextEncoder().encode('GET / HTTP/1.1\r\n')]))).toBe('not-age');
    expect(await reason(openStreaming([]))).toBe('not-age');
    const { wire } = await sealStreaming([ogg]);
    const carol = await makeDevice('carol');
    const asCarol = createClipOpenStream({ identity: carol.identity, contacts: [alice.contact] });
    asCarol.push(wire); // held while the file key is tried
    expect(await reason(asCarol.result)).toBe('wrong-key');
    expect(() => asCarol.push(wire)).toThrow(expect.objectContaining({ reason: 'wrong-key' }));
    const strangers = createClipOpenStream({ identity: bob.identity, contacts: [] });
    strangers.push(wire); // refused early, as soon as the tags are in
    expect(await reason(strangers.result)).toBe('unknown-sender');
    strangers.end();
    expect(await reason(strangers.result)).toBe('unknown-sender');
  });

  it('unknown-sender is refused as soon as the tags arrive, before the rest is uploaded', async () => {
    // Feed the sealer the header pages first, as the Ogg writer does at press time.
    const head = decodeOggPage(ogg, 0)!.length;
    const headers = head + decodeOggPage(ogg, head)!.length;
    const { wire } = await sealStreaming(splitAt(ogg, [headers]));
    // Prefix + first frame (head, TorlkSig BOS, tags): the bytes uploaded at press time.
    const s = await startSealer();
    const pressTime = concatBytes([s.preamble, ...s.push(ogg.subarray(0, headers))]);
    expect(wire.length - pressTime.length).toBeGreaterThan(ogg.length - headers); // the audio is not in it
    const o = createClipOpenStream({ identity: bob.identity, contacts: [{ name: 'dave', signingKey: bob.signer.id }] });
    o.push(pressTime);
    expect(await reason(o.result)).toBe('unknown-sender');
    expect(() => o.push(wire.subarray(pressTime.length))).toThrow(expect.objectContaining({ reason: 'unknown-sender' }));
    // A contact's clip, split inside its first frame, passes the early check and opens.
    const ok = createClipOpenStream({ identity: bob.identity, contacts: [alice.contact] });
    ok.push(wire.subarray(0, 700));
    await new Promise((r) => setImmediate(r));
    ok.push(wire.subarray(700));
    ok.end();
    await expect(ok.result).resolves.toBeTruthy();
  });

  it('wrong-channel over the wire', async () => {
    const { wire } = await sealStreaming([ogg]);
    const o = createClipOpenStream({ identity: bob.identity, contacts: [alice.contact], expectChannel: 'work' });
    o.push(wire);
    o.end();
    expect(await reason(o.result)).toBe('wrong-channel');
  });
});
