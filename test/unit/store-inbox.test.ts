import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Inbox, inboxKey, JOURNAL_FILE } from '../../firmware/store/inbox.js';
import { DiskFullError, type AtomicFs } from '../../firmware/store/atomic-file.js';
import { signReceipt } from '../../firmware/transport/receipt.js';
import type { InboundClip } from '../../firmware/transport/clip-opener.js';
import { inboxTestBed, seal } from './transport-fixtures.js';

const bed = inboxTestBed('torlk-inbox-');

async function received(createdAt = Date.now()): Promise<{ clip: InboundClip; sealed: Uint8Array }> {
  const { sealed, header } = await seal({ from: bed.alice, to: [bed.bob], ogg: bed.ogg, createdAt });
  return {
    sealed,
    clip: { clipId: header.clipId, senderKey: header.sender, senderName: 'alice', channel: header.channel, sequence: header.sequence, createdAt, durationMs: header.durationMs },
  };
}

async function add(inbox: Inbox, createdAt?: number): Promise<InboundClip> {
  const r = await received(createdAt);
  await inbox.add(r.clip, r.sealed, signReceipt(bed.bob.signing, r.clip.clipId, r.sealed, Date.now()));
  return r.clip;
}

describe('Inbox', () => {
  it('queues clips in arrival order and plays each exactly once, across restarts', async () => {
    const dir = bed.dir();
    let t = 1000;
    const inbox = await Inbox.open({ dir, now: () => ++t });
    const a = await add(inbox);
    const b = await add(inbox);
    const c = await add(inbox);
    expect(inbox.next()?.clipId).toBe(a.clipId);
    await inbox.markPlayed(a.clipId);
    expect(inbox.next()?.clipId).toBe(b.clipId);
    await inbox.markPlayed(b.clipId);

    // Power cut: a new process opens the same directory.
    const again = await Inbox.open({ dir, now: () => ++t });
    expect(again.next()?.clipId).toBe(c.clipId);
    expect(again.last()?.clipId).toBe(b.clipId);
    await again.markPlayed(c.clipId);
    expect(again.next()).toBeUndefined();
    const third = await Inbox.open({ dir });
    expect(third.next()).toBeUndefined();
    expect(third.entries().map((e) => e.played)).toEqual([true, true, true]);
  });

  it('keeps the last played clip for a replay (double press) and its bytes readable', async () => {
    const inbox = await Inbox.open({ dir: bed.dir() });
    expect(inbox.last()).toBeUndefined();
    const a = await add(inbox);
    await inbox.markPlayed(a.clipId);
    await inbox.markPlayed(a.clipId); // replaying marks again: harmless
    const last = inbox.last()!;
    expect(last.clipId).toBe(a.clipId);
    expect((await inbox.read(last)).length).toBeGreaterThan(1000);
  });

  it('stores clips encrypted at rest as standard age files that `age -d` opens', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir });
    const a = await add(inbox);
    expect(await inbox.flush()).toBe(true); // the clip's own file is written just after add() returns
    const file = join(dir, `${inboxKey(a.clipId)}.clip`);
    const raw = await fsp.readFile(file);
    expect(raw.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(raw.includes(Buffer.from('OpusHead'))).toBe(false);
    const idFile = join(dir, 'bob.key');
    await writeFile(idFile, bed.bob.ageIdentity + '\n', { mode: 0o600 });
    const plain = execFileSync('age', ['-d', '-i', idFile, file]);
    expect(plain.subarray(0, 4).toString()).toBe('OggS');
    expect(plain.includes(Buffer.from('OpusHead'))).toBe(true);
  });

  it('sweeps half-written files at open: temp files and clips whose record never landed', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir });
    const a = await add(inbox);
    await inbox.flush();
    await writeFile(join(dir, '.tmp-x.clip.abc'), 'partial');
    await writeFile(join(dir, `${'e'.repeat(32)}.clip`), 'orphan: crash between clip and record');
    await writeFile(join(dir, `${'d'.repeat(32)}.json`), JSON.stringify({ clipId: 'x', senderKey: 'k', sequence: 1, createdAt: Date.now() }));
    const reopened = await Inbox.open({ dir });
    expect(reopened.entries().map((e) => e.clipId)).toEqual([a.clipId]);
    expect((await readdir(dir)).sort()).toEqual([`${inboxKey(a.clipId)}.clip`, `${inboxKey(a.clipId)}.json`, JOURNAL_FILE]);
    expect((await fsp.stat(join(dir, JOURNAL_FILE))).size).toBe(0);
  });

  it('prunes the audio of old played clips but keeps their records for dedupe', async () => {
    const dir = bed.dir();
    let t = 0;
    const inbox = await Inbox.open({ dir, keepPlayed: 2, now: () => ++t });
    const clips = [];
    for (let i = 0; i < 4; i++) clips.push(await add(inbox));
    for (const c of clips) await inbox.markPlayed(c.clipId);
    expect(inbox.entries().map((e) => e.hasAudio)).toEqual([false, false, true, true]);
    expect(inbox.get(clips[0]!.clipId)).toBeDefined();
    expect(inbox.last()?.clipId).toBe(clips[3]!.clipId);
    expect((await readdir(dir)).filter((f) => f.endsWith('.clip'))).toHaveLength(2);
  });

  it('forgets played records once they are older than the replay window', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir });
    const old = await add(inbox, Date.now() - 9 * 24 * 3600_000);
    const fresh = await add(inbox);
    await inbox.markPlayed(old.clipId);
    const reopened = await Inbox.open({ dir });
    expect(reopened.get(old.clipId)).toBeUndefined();
    expect(reopened.get(fresh.clipId)).toBeDefined();
  });

  it('rejects bad calls: unknown clip, the same clip twice', async () => {
    const inbox = await Inbox.open({ dir: bed.dir() });
    await expect(inbox.markPlayed('0'.repeat(32))).rejects.toThrow(/no clip/);
    const r = await received();
    const receipt = signReceipt(bed.bob.signing, r.clip.clipId, r.sealed, 0);
    await inbox.add(r.clip, r.sealed, receipt);
    await expect(inbox.add(r.clip, r.sealed, receipt)).rejects.toThrow(/already holds/);
  });

  it('throws DiskFullError on a full disk and keeps nothing', async () => {
    const dir = bed.dir();
    const fs: AtomicFs = {
      ...fsp,
      // The journal append gets 1000 bytes onto the disk, then the disk is full: those must be cut off again.
      open: (async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        if (!String(args[0]).endsWith(JOURNAL_FILE)) return handle;
        let calls = 0;
        const write = handle.write.bind(handle) as (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
        return Object.assign(handle, {
          write: async (b: Uint8Array, o: number, l: number) => {
            if (++calls === 1) return write(b, o, Math.min(l, 1000));
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          },
        });
      }) as typeof fsp.open,
    };
    const inbox = await Inbox.open({ dir, fs });
    const r = await received();
    await expect(inbox.add(r.clip, r.sealed, signReceipt(bed.bob.signing, r.clip.clipId, r.sealed, 0))).rejects.toBeInstanceOf(DiskFullError);
    expect(await readdir(dir)).toEqual([JOURNAL_FILE]);
    expect((await fsp.stat(join(dir, JOURNAL_FILE))).size).toBe(0);
    expect(inbox.next()).toBeUndefined();
    expect(inbox.get(r.clip.clipId)).toBeUndefined();
  });
});
