// Playing a received clip: from the inbox's sealed file (opened and verified again), or, for a clip
// the receiver verified a moment ago, from that verified audio without touching the inbox.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeStoredClip, playStoredClip, UnplayableClipError } from '../../firmware/app/clip-playback.js';
import { openClip } from '../../firmware/clip/open-clip.js';
import type { Inbox, InboxEntry } from '../../firmware/store/inbox.js';
import type { OpusPacket, OpusStreamFormat } from '../../hardware/microphone.js';
import type { Speaker } from '../../hardware/speaker.js';
import { makeOgg, makeParty, seal, type Party } from './transport-fixtures.js';

let alice: Party, bob: Party;
let sealed: Uint8Array;
let clipId: string;
let verifiedOgg: Uint8Array;

beforeAll(async () => {
  [alice, bob] = (await Promise.all(['alice', 'bob'].map(makeParty))) as [Party, Party];
  const s = await seal({ from: alice, to: [bob], ogg: await makeOgg(1) });
  sealed = s.sealed;
  clipId = s.header.clipId;
  verifiedOgg = (await openClip(sealed, { identity: { ageIdentity: bob.ageIdentity, ageRecipient: bob.ageRecipient }, contacts: [alice.card] })).ogg;
});

/** An inbox holding the one clip, counting reads of its sealed file. */
function inboxWith(bytes: Uint8Array): Inbox & { reads: number } {
  const entry = { clipId, hasAudio: true } as InboxEntry;
  const inbox = {
    reads: 0,
    get: (id: string) => (id === clipId ? entry : undefined),
    read: async () => {
      inbox.reads++;
      return bytes;
    },
  };
  return inbox as unknown as Inbox & { reads: number };
}

/** A speaker that keeps what it was given. */
function recordingSpeaker(): Speaker & { played: { format: OpusStreamFormat; packets: OpusPacket[] }[] } {
  const played: { format: OpusStreamFormat; packets: OpusPacket[] }[] = [];
  return {
    played,
    async play(format, packets) {
      const list: OpusPacket[] = [];
      for await (const p of packets) list.push(p);
      played.push({ format, packets: list });
      return { samples: list.reduce((n, p) => n + p.samples, 0), interrupted: false };
    },
    close: async () => undefined,
  };
}

describe('playStoredClip', () => {
  const opts = (inbox: Inbox, speaker: Speaker) => ({
    inbox, clipId, speaker, signal: new AbortController().signal,
    identity: { ageIdentity: bob.ageIdentity, ageRecipient: bob.ageRecipient }, contacts: [alice.card],
  });

  it('plays a clip just verified by the receiver from that audio, without reading the inbox', async () => {
    const fromDisk = recordingSpeaker();
    const stored = inboxWith(sealed);
    await playStoredClip(opts(stored, fromDisk));
    expect(stored.reads).toBe(1);
    const fresh = recordingSpeaker();
    // The sealed file is unreadable: only the verified audio can be what plays.
    const damaged = inboxWith(new TextEncoder().encode('age-encryption.org/v1\nnot really'));
    const result = await playStoredClip({ ...opts(damaged, fresh), verifiedOgg });
    expect(damaged.reads).toBe(0);
    expect(fresh.played).toEqual(fromDisk.played);
    expect(result.samples).toBe(fromDisk.played[0]!.packets.reduce((n, p) => n + p.samples, 0));
    await expect(decodeStoredClip(opts(damaged, fresh))).rejects.toBeInstanceOf(UnplayableClipError);
  });

  it('refuses verified audio that is not an Ogg Opus clip as unplayable, not as a speaker fault', async () => {
    const speaker = recordingSpeaker();
    await expect(playStoredClip({ ...opts(inboxWith(sealed), speaker), verifiedOgg: new Uint8Array([1, 2, 3]) })).rejects.toBeInstanceOf(UnplayableClipError);
    expect(speaker.played).toEqual([]);
  });
});
