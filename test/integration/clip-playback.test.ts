// Playing a received clip: from the inbox's sealed file (opened and verified again), or, for a clip
// the receiver verified a moment ago, from that verified audio without touching the inbox. Real
// libopus and libasound: the simulated speaker decodes and plays into a raw file (ALSA file plugin).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeStoredClip, playStoredClip, UnplayableClipError } from '../../firmware/app/clip-playback.js';
import { openClip } from '../../firmware/clip/open-clip.js';
import type { Inbox, InboxEntry } from '../../firmware/store/inbox.js';
import type { Speaker } from '../../hardware/speaker.js';
import { createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import { makeOgg, makeParty, seal, type Party } from '../unit/transport-fixtures.js';

let alice: Party, bob: Party;
let sealed: Uint8Array;
let clipId: string;
let verifiedOgg: Uint8Array;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'torlk-playback-'));
  [alice, bob] = (await Promise.all(['alice', 'bob'].map(makeParty))) as [Party, Party];
  const s = await seal({ from: alice, to: [bob], ogg: await makeOgg(1) });
  sealed = s.sealed;
  clipId = s.header.clipId;
  verifiedOgg = (await openClip(sealed, { identity: { ageIdentity: bob.ageIdentity, ageRecipient: bob.ageRecipient }, contacts: [alice.card] })).ogg;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
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

/** The simulated speaker: libopus decodes, ALSA's file plugin writes the samples to `name`. */
function fileSpeaker(name: string): Speaker & { output: () => Promise<Buffer> } {
  const outfile = join(dir, name);
  return Object.assign(createSimSpeaker({ outfile, rate: 16000 }), { output: () => readFile(outfile) });
}

describe('playStoredClip', () => {
  const opts = (inbox: Inbox, speaker: Speaker) => ({
    inbox, clipId, speaker, signal: new AbortController().signal,
    identity: { ageIdentity: bob.ageIdentity, ageRecipient: bob.ageRecipient }, contacts: [alice.card],
  });

  it('plays a clip just verified by the receiver from that audio, without reading the inbox: the same samples', async () => {
    const fromDisk = fileSpeaker('disk.raw');
    const stored = inboxWith(sealed);
    const disk = await playStoredClip(opts(stored, fromDisk));
    expect(stored.reads).toBe(1);
    const fresh = fileSpeaker('fresh.raw');
    // The sealed file is unreadable: only the verified audio can be what plays.
    const damaged = inboxWith(new TextEncoder().encode('age-encryption.org/v1\nnot really'));
    const result = await playStoredClip({ ...opts(damaged, fresh), verifiedOgg });
    expect(damaged.reads).toBe(0);
    expect(result.samples).toBe(disk.samples);
    expect(result.samples).toBeGreaterThan(15000); // the 1 s tone, not an empty playback
    const [a, b] = await Promise.all([fromDisk.output(), fresh.output()]);
    expect(b.length).toBe(result.samples * 2);
    expect(b.equals(a)).toBe(true);
    await expect(decodeStoredClip(opts(damaged, fresh))).rejects.toBeInstanceOf(UnplayableClipError);
    await Promise.all([fromDisk.close(), fresh.close()]);
  });

  it('refuses verified audio that is not an Ogg Opus clip as unplayable, not as a speaker fault', async () => {
    const speaker = fileSpeaker('never.raw');
    await expect(playStoredClip({ ...opts(inboxWith(sealed), speaker), verifiedOgg: new Uint8Array([1, 2, 3]) })).rejects.toBeInstanceOf(UnplayableClipError);
    await expect(speaker.output()).rejects.toThrow(/ENOENT/);
    await speaker.close();
  });
});
