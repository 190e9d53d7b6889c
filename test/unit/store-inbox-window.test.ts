// The inbox's dedupe records are bounded by the replay window while the radio runs (not only at
// open): a radio that runs for months keeps only the records a replay could still match.
import { describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Inbox, inboxKey } from '../../firmware/store/inbox.js';
import { signReceipt } from '../../firmware/transport/receipt.js';
import type { InboundClip } from '../../firmware/transport/clip-opener.js';
import { inboxTestBed, seal } from './transport-fixtures.js';

const DAY = 24 * 3600_000;
const bed = inboxTestBed('torlk-inbox-window-');

async function add(inbox: Inbox, createdAt: number): Promise<InboundClip> {
  const { sealed, header } = await seal({ from: bed.alice, to: [bed.bob], ogg: bed.ogg, createdAt });
  const clip: InboundClip = { clipId: header.clipId, senderKey: header.sender, senderName: 'alice', channel: header.channel, sequence: header.sequence, createdAt, durationMs: header.durationMs };
  await inbox.add(clip, sealed, signReceipt(bed.bob.signing, clip.clipId, sealed, createdAt));
  return clip;
}

describe('Inbox records and the replay window, while running', () => {
  it('drops played records past the window at the next play, from memory and disk; keeps unplayed and the last played', async () => {
    const dir = join(bed.root, 'a');
    let now = 1_000 * DAY;
    const inbox = await Inbox.open({ dir, retainMs: 8 * DAY, now: () => now });
    const old1 = await add(inbox, now);
    const old2 = await add(inbox, now);
    const oldUnplayed = await add(inbox, now);
    await inbox.markPlayed(old1.clipId);
    await inbox.markPlayed(old2.clipId);
    now += 9 * DAY;
    const fresh = await add(inbox, now);
    expect(inbox.get(old1.clipId)).toBeDefined(); // nothing played since: not yet swept
    await inbox.markPlayed(fresh.clipId);
    for (const gone of [old1, old2]) {
      expect(inbox.get(gone.clipId)).toBeUndefined();
      expect(inbox.findBySequence(gone.senderKey, gone.sequence)).toBeUndefined();
    }
    expect(inbox.get(oldUnplayed.clipId)?.played).toBe(false); // still to be heard: never dropped
    expect(inbox.last()?.clipId).toBe(fresh.clipId);
    const names = await readdir(dir);
    for (const gone of [old1, old2]) expect(names.filter((n) => n.startsWith(inboxKey(gone.clipId)))).toEqual([]);
    expect(names).toContain(`${inboxKey(fresh.clipId)}.json`);
    expect(inbox.entries().map((e) => e.clipId).sort()).toEqual([oldUnplayed.clipId, fresh.clipId].sort());
  });

  it('keeps every played record inside the window', async () => {
    let now = 2_000 * DAY;
    const inbox = await Inbox.open({ dir: join(bed.root, 'b'), retainMs: 8 * DAY, now: () => now });
    const clips = [];
    for (let i = 0; i < 3; i++) {
      clips.push(await add(inbox, now));
      await inbox.markPlayed(clips.at(-1)!.clipId);
      now += 2 * DAY;
    }
    expect(clips.every((c) => inbox.get(c.clipId)?.played)).toBe(true);
  });
});
