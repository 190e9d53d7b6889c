import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import { Outbox, outboxItemId, type OutboxItem } from '../../firmware/store/outbox.js';
import { DiskFullError, type AtomicFs } from '../../firmware/store/atomic-file.js';
import { backoffDelay } from '../../firmware/store/backoff.js';
import type { Delivered, Recipient } from '../../firmware/transport/sender.js';
import { uploadClip } from '../../firmware/transport/sender.js';
import { makeOgg, makeParty, seal, startTestReceiver, type Party } from './transport-fixtures.js';
import { connect, type Socket } from 'node:net';
import { setLogSink } from '../../firmware/log.js';

const bob: Recipient = { name: 'bob', host: 'bobbobbob.onion', port: 80, signingKey: 'k'.repeat(43) };
const carol: Recipient = { name: 'carol', host: 'carolcarol.onion', port: 80, signingKey: 'c'.repeat(43) };
const fakeDelivered = (clip: string): Delivered => ({ receipt: { v: 1, clip, sha256: '', by: '', at: 0 }, duplicate: false, bytesSent: 0, waitMs: 0 });
const fast = { baseMs: 20, maxMs: 40, factor: 2, jitter: 0.5 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'torlk-outbox-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const freshDir = () => join(root, `o${n++}`);
const clip = (size = 1000) => ({ clipId: randomBytes(16).toString('hex'), sealed: randomBytes(size) });
/** An fs over `base` that records the name of every file or directory opened (temp files while writing, files and dirs to fsync) and fsync'd, in order. */
function syncRecordingFs(base: AtomicFs = { ...fsp }): { fs: AtomicFs; opened: string[]; synced: string[] } {
  const opened: string[] = [];
  const synced: string[] = [];
  const open = (async (...args: Parameters<typeof fsp.open>) => {
    opened.push(basename(String(args[0])));
    const handle = await base.open(...args);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => (synced.push(basename(String(args[0]))), sync());
    return handle;
  }) as typeof fsp.open;
  return { fs: { ...base, open }, opened, synced };
}
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Outbox', () => {
  it('persists every clip before its first send attempt, then removes it on a receipt', async () => {
    const dir = freshDir();
    const c = clip();
    const seenOnDisk: boolean[] = [];
    const outbox = await Outbox.open({
      dir,
      deliver: async (item, sealed) => {
        const file = await readFile(join(dir, `${item.id}.item`));
        seenOnDisk.push(file.subarray(file.indexOf(0x0a) + 1).equals(Buffer.from(c.sealed)) && Buffer.from(sealed).equals(Buffer.from(c.sealed)));
        return fakeDelivered(item.clipId);
      },
    });
    const events: string[] = [];
    outbox.on('queued', (i) => events.push(`queued ${i.recipient.name}`));
    outbox.on('delivered', (i) => events.push(`delivered ${i.recipient.name}`));
    outbox.start();
    await outbox.enqueue(c, [bob, carol]);
    await until(() => events.length === 4);
    expect(seenOnDisk).toEqual([true, true]);
    expect(events.sort()).toEqual(['delivered bob', 'delivered carol', 'queued bob', 'queued carol']);
    expect(await readdir(dir)).toEqual([]);
    await outbox.stop();
  });

  it('retries on the backoff schedule, persisting the retry state', async () => {
    const dir = freshDir();
    let t = 1_000_000;
    let calls = 0;
    let stateSeenBySecondAttempt: unknown;
    const outbox = await Outbox.open({
      dir,
      now: () => t,
      random: () => 0.5,
      backoff: fast,
      deliver: async (item) => {
        calls += 1;
        if (calls === 2) stateSeenBySecondAttempt = JSON.parse(await readFile(join(dir, `${item.id}.state`), 'utf8'));
        if (calls < 3) throw Object.assign(new Error(`offline #${calls}`), { retryable: true });
        return fakeDelivered(item.clipId);
      },
    });
    const retries: OutboxItem[] = [];
    outbox.on('retry', (i) => {
      retries.push({ ...i });
      t += 1000; // the injected clock passes the retry time; the real timer fires ~15 ms later
    });
    const delivered = new Promise((r) => outbox.once('delivered', r));
    outbox.start();
    await outbox.enqueue(clip(), [bob]);
    await delivered;
    expect(calls).toBe(3);
    expect(retries[0]).toMatchObject({ attempts: 1, nextAttemptAt: 1_000_000 + backoffDelay(1, 0.5, fast), lastError: 'offline #1' });
    expect(retries[1]).toMatchObject({ attempts: 2, nextAttemptAt: 1_001_000 + backoffDelay(2, 0.5, fast), lastError: 'offline #2' });
    expect(stateSeenBySecondAttempt).toEqual({ attempts: 1, nextAttemptAt: 1_000_000 + backoffDelay(1, 0.5, fast), lastError: 'offline #1' });
    expect(await readdir(dir)).toEqual([]);
    await outbox.stop();
  });

  it('drops a clip when it expires, and at once on a permanent refusal', async () => {
    const dir = freshDir();
    const outbox = await Outbox.open({
      dir,
      expiryMs: 150,
      backoff: fast,
      deliver: async (item) => {
        throw Object.assign(new Error(item.recipient.name === 'bob' ? 'offline' : 'tampered'), { retryable: item.recipient.name === 'bob' });
      },
    });
    const failed: string[] = [];
    outbox.on('failed', (i, why) => failed.push(`${i.recipient.name}: ${why}`));
    outbox.start();
    await outbox.enqueue(clip(), [bob, carol]);
    await until(() => failed.length === 2);
    expect(failed[0]).toBe('carol: tampered');
    expect(failed[1]).toMatch(/^bob: expired after \d+ attempts; last error: offline$/);
    expect(await readdir(dir)).toEqual([]);
    await outbox.stop();
  });

  it('delivers one clip at a time per recipient, in the order they were queued', async () => {
    const dir = freshDir();
    const order: string[] = [];
    let active = 0;
    let t = 0;
    const outbox = await Outbox.open({
      dir,
      now: () => ++t,
      deliver: async (item) => {
        active += 1;
        expect(active).toBe(1);
        order.push(item.clipId);
        await new Promise((r) => setTimeout(r, 5));
        active -= 1;
        return fakeDelivered(item.clipId);
      },
    });
    const clips = [clip(), clip(), clip(), clip()];
    for (const c of clips) await outbox.enqueue(c, [bob]);
    outbox.start();
    await until(() => order.length === 4);
    expect(order).toEqual(clips.map((c) => c.clipId));
    await outbox.stop();
  });

  it('holds a clip for a streaming upload: markDelivered finishes it, release hands it back', async () => {
    const dir = freshDir();
    const attempts: string[] = [];
    const outbox = await Outbox.open({ dir, deliver: async (item) => (attempts.push(item.clipId), fakeDelivered(item.clipId)) });
    outbox.start();
    const a = clip();
    const b = clip();
    await outbox.enqueue(a, [bob], { hold: true });
    await outbox.enqueue(b, [bob], { hold: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(attempts).toEqual([]);
    await outbox.markDelivered(a.clipId, bob, fakeDelivered(a.clipId));
    outbox.release(b.clipId, bob);
    await until(() => attempts.length === 1);
    expect(attempts).toEqual([b.clipId]);
    expect(outbox.pending()).toEqual([]);
    await outbox.stop();
  });

  it('writes a held clip after its wait but fsyncs it only when its live upload fails, has no receipt in time, or at stop', async () => {
    const dir = freshDir();
    const { fs, synced } = syncRecordingFs();
    const itemFile = (c: { clipId: string }) => `${outboxItemId(c.clipId, bob)}.item`;
    const attempts: string[] = [];
    // Each outbox send waits for the fsyncs above it, so the removal's comes after them.
    const deliver = async (item: OutboxItem) => (attempts.push(item.clipId), await until(() => synced.length >= 2), fakeDelivered(item.clipId));
    const outbox = await Outbox.open({ dir, fs, heldSyncMs: 300, deliver });
    outbox.start();
    // Delivered live: written, never fsync'd, and its removal costs no fsync either.
    const live = clip();
    await outbox.enqueue(live, [bob], { hold: true });
    expect(await readdir(dir)).toEqual([itemFile(live)]);
    await outbox.markDelivered(live.clipId, bob, fakeDelivered(live.clipId));
    expect(await readdir(dir)).toEqual([]);
    expect(synced).toEqual([]);
    // The live upload failed: fsync'd (file, then directory) at once, then sent by the outbox.
    const failed = clip();
    await outbox.enqueue(failed, [bob], { hold: true });
    outbox.release(failed.clipId, bob);
    await until(() => synced.length === 3);
    expect(attempts).toEqual([failed.clipId]);
    // Made durable, so its removal is too (the directory's second fsync).
    expect(synced).toEqual([itemFile(failed), basename(dir), basename(dir)]);
    // No receipt within heldSyncMs: fsync'd then, still held.
    synced.length = 0;
    const slow = clip();
    await outbox.enqueue(slow, [bob], { hold: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(synced).toEqual([]);
    await until(() => synced.length === 2);
    expect(synced).toEqual([itemFile(slow), basename(dir)]);
    // stop() leaves nothing unsynced.
    synced.length = 0;
    const last = clip();
    await outbox.enqueue(last, [bob], { hold: true });
    await outbox.stop();
    expect(synced).toEqual([itemFile(last), basename(dir)]);
    expect(attempts).toEqual([failed.clipId]);
    expect(outbox.pending().map((i) => i.clipId).sort()).toEqual([slow.clipId, last.clipId].sort());
    // Reopened (as after a SIGKILL, when held clips may never have been fsync'd): each found is made durable.
    synced.length = 0;
    const reopened = await Outbox.open({ dir, fs, deliver: async () => new Promise<Delivered>(() => undefined) });
    await until(() => synced.length === 4);
    expect(synced.filter((f) => f.endsWith('.item')).sort()).toEqual([itemFile(slow), itemFile(last)].sort());
    await reopened.stop();
  });

  describe('a held clip waits heldWriteDelayMs before its file is written', () => {
    it('delivered within the wait: no file is ever opened, written or synced, and the bytes are never built', async () => {
      const dir = freshDir();
      const { fs, opened, synced } = syncRecordingFs();
      const outbox = await Outbox.open({ dir, fs, heldWriteDelayMs: 200, deliver: async () => Promise.reject(new Error('not sent by the outbox')) });
      const delivered: string[] = [];
      outbox.on('delivered', (i) => delivered.push(i.clipId));
      const c = clip();
      let built = 0;
      const enqueued = outbox.enqueue({ clipId: c.clipId, sealed: () => (built++, c.sealed) }, [bob], { hold: true });
      await new Promise((r) => setTimeout(r, 20));
      await outbox.markDelivered(c.clipId, bob, fakeDelivered(c.clipId));
      expect(delivered).toEqual([c.clipId]);
      await enqueued;
      await new Promise((r) => setTimeout(r, 250));
      expect(opened).toEqual([]);
      expect(await readdir(dir)).toEqual([]);
      await outbox.stop();
      expect(opened).toEqual([]);
      expect(synced).toEqual([]);
      expect(built).toBe(0);
    });

    it('no receipt within the wait: written then, not before', async () => {
      const dir = freshDir();
      const { fs } = syncRecordingFs();
      const outbox = await Outbox.open({ dir, fs, heldWriteDelayMs: 150, deliver: async () => fakeDelivered('') });
      const c = clip();
      let built = 0;
      const t0 = performance.now();
      const enqueued = outbox.enqueue({ clipId: c.clipId, sealed: () => (built++, c.sealed) }, [bob, carol], { hold: true });
      await new Promise((r) => setTimeout(r, 60));
      expect(await readdir(dir)).toEqual([]);
      expect(built).toBe(0);
      await enqueued;
      expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
      expect((await readdir(dir)).sort()).toEqual([`${outboxItemId(c.clipId, bob)}.item`, `${outboxItemId(c.clipId, carol)}.item`].sort());
      expect(built).toBe(2);
      const file = await readFile(join(dir, `${outboxItemId(c.clipId, bob)}.item`));
      expect(file.subarray(file.indexOf(0x0a) + 1).equals(Buffer.from(c.sealed))).toBe(true);
      await outbox.stop();
    });

    it('its live upload failing ends the wait: written and made durable at once, then sent', async () => {
      const dir = freshDir();
      const { fs, synced } = syncRecordingFs();
      const attempts: string[] = [];
      const outbox = await Outbox.open({ dir, fs, heldWriteDelayMs: 10_000, deliver: async (item) => (attempts.push(item.clipId), fakeDelivered(item.clipId)) });
      outbox.start();
      const c = clip();
      const t0 = performance.now();
      const enqueued = outbox.enqueue(c, [bob], { hold: true });
      outbox.release(c.clipId, bob);
      await enqueued;
      await until(() => attempts.length === 1);
      expect(performance.now() - t0).toBeLessThan(5000);
      // The item's file fsync'd (then its directory) before the outbox sent it.
      expect(synced.slice(0, 2)).toEqual([`${outboxItemId(c.clipId, bob)}.item`, basename(dir)]);
      await outbox.stop();
    });

    it('stop() ends the wait: the clip is written and durable when it resolves', async () => {
      const dir = freshDir();
      const { fs, synced } = syncRecordingFs();
      const outbox = await Outbox.open({ dir, fs, heldWriteDelayMs: 10_000, deliver: async () => fakeDelivered('') });
      const c = clip();
      const enqueued = outbox.enqueue(c, [bob], { hold: true });
      const t0 = performance.now();
      await outbox.stop();
      await enqueued;
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(await readdir(dir)).toEqual([`${outboxItemId(c.clipId, bob)}.item`]);
      expect(synced).toEqual([`${outboxItemId(c.clipId, bob)}.item`, basename(dir)]);
    });
  });

  describe('a held clip whose file is still being written', () => {
    /** An fs whose renames of .item files (the last step of writing one) wait for `open()`, and which records fsyncs. */
    function gatedFs(opts: { failWrite?: boolean } = {}) {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const { fs: recording, synced } = syncRecordingFs();
      const fs: AtomicFs = {
        ...recording,
        rename: (async (from: string, to: string) => {
          if (!to.endsWith('.item')) return fsp.rename(from, to);
          await gate;
          if (opts.failWrite) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          return fsp.rename(from, to);
        }) as typeof fsp.rename,
      };
      return { fs, synced, open };
    }

    it('is delivered the moment its receipt comes, and its file removed once written, with no fsync', async () => {
      const dir = freshDir();
      const { fs, synced, open } = gatedFs();
      const outbox = await Outbox.open({ dir, fs, heldWriteDelayMs: 0, deliver: async () => Promise.reject(new Error('the outbox must not send a held clip')) });
      const events: string[] = [];
      outbox.on('queued', (i) => events.push(`queued ${i.recipient.name}`));
      outbox.on('delivered', (i) => events.push(`delivered ${i.recipient.name}`));
      outbox.start();
      const c = clip();
      const enqueued = outbox.enqueue(c, [bob], { hold: true });
      expect(events).toEqual(['queued bob']);
      const marked = outbox.markDelivered(c.clipId, bob, fakeDelivered(c.clipId));
      expect(events).toEqual(['queued bob', 'delivered bob']);
      expect(outbox.pending()).toEqual([]);
      open();
      await enqueued;
      await marked;
      expect(await readdir(dir)).toEqual([]);
      expect(synced).toEqual([]);
      await outbox.stop();
    });

    it('is not sent until written; a live upload failing meanwhile makes it durable once written, then the outbox sends it', async () => {
      const dir = freshDir();
      const { fs, synced, open } = gatedFs();
      const attempts: string[] = [];
      const outbox = await Outbox.open({ dir, fs, heldWriteDelayMs: 0, deliver: async (item, sealed) => (attempts.push(`${item.clipId}:${sealed.length}`), fakeDelivered(item.clipId)) });
      outbox.start();
      const c = clip(1234);
      const enqueued = outbox.enqueue(c, [bob], { hold: true });
      outbox.release(c.clipId, bob);
      outbox.kick();
      await new Promise((r) => setTimeout(r, 50));
      expect(attempts).toEqual([]);
      expect(synced).toEqual([]);
      open();
      await enqueued;
      await until(() => attempts.length === 1);
      expect(attempts).toEqual([`${c.clipId}:1234`]);
      expect(synced.slice(0, 2)).toEqual([`${outboxItemId(c.clipId, bob)}.item`, basename(dir)]);
      await outbox.stop();
    });

    it('stop() waits for the write and leaves the clip durable', async () => {
      const dir = freshDir();
      const { fs, synced, open } = gatedFs();
      const outbox = await Outbox.open({ dir, fs, heldWriteDelayMs: 0, deliver: async () => fakeDelivered('') });
      const c = clip();
      const enqueued = outbox.enqueue(c, [bob], { hold: true });
      let stopped = false;
      const stopping = outbox.stop().then(() => (stopped = true));
      await new Promise((r) => setTimeout(r, 30));
      expect(stopped).toBe(false);
      open();
      await enqueued;
      await stopping;
      expect(synced).toEqual([`${outboxItemId(c.clipId, bob)}.item`, basename(dir)]);
      expect(await readdir(dir)).toEqual([`${outboxItemId(c.clipId, bob)}.item`]);
    });

    it('a full disk: no error once its receipt came (nothing left behind), DiskFullError before', async () => {
      const delivered = freshDir();
      const late = gatedFs({ failWrite: true });
      const outbox = await Outbox.open({ dir: delivered, fs: late.fs, heldWriteDelayMs: 0, deliver: async () => fakeDelivered('') });
      const c = clip();
      const enqueued = outbox.enqueue(c, [bob], { hold: true });
      const marked = outbox.markDelivered(c.clipId, bob, fakeDelivered(c.clipId));
      late.open();
      await enqueued;
      await marked;
      expect(await readdir(delivered)).toEqual([]);
      await outbox.stop();

      const undelivered = freshDir();
      const full = gatedFs({ failWrite: true });
      const other = await Outbox.open({ dir: undelivered, fs: full.fs, heldWriteDelayMs: 0, deliver: async () => fakeDelivered('') });
      const d = clip();
      const failing = other.enqueue(d, [bob], { hold: true });
      full.open();
      await expect(failing).rejects.toBeInstanceOf(DiskFullError);
      expect(other.pending()).toEqual([]);
      expect(await readdir(undelivered)).toEqual([]);
      await other.stop();
    });
  });

  it('survives a restart: queued clips and their retry state come back; leftovers are swept', async () => {
    const dir = freshDir();
    const c = clip(5000);
    const first = await Outbox.open({ dir, backoff: fast, deliver: async () => Promise.reject(Object.assign(new Error('offline'), { retryable: true })) });
    first.start();
    await first.enqueue(c, [bob]);
    await new Promise<void>((r) => first.once('retry', () => r()));
    await first.stop();
    await writeFile(join(dir, '.tmp-deadbeef.item.123'), 'half a write');
    await writeFile(join(dir, `${'f'.repeat(32)}.state`), '{}');
    let got: Uint8Array | undefined;
    const second = await Outbox.open({ dir, deliver: async (item, sealed) => ((got = sealed), fakeDelivered(item.clipId)) });
    expect(second.pending()).toMatchObject([{ clipId: c.clipId, attempts: 1, lastError: 'offline' }]);
    expect(await readdir(dir)).toEqual([`${outboxItemId(c.clipId, bob)}.item`, `${outboxItemId(c.clipId, bob)}.state`].sort());
    second.kick();
    second.start();
    await until(() => got !== undefined);
    expect(Buffer.from(got!).equals(Buffer.from(c.sealed))).toBe(true);
    await second.stop();
  });

  it('reports damaged item files and keeps them for a person to inspect', async () => {
    const dir = freshDir();
    await fsp.mkdir(dir);
    await writeFile(join(dir, `${'a'.repeat(32)}.item`), 'no header line at all');
    await writeFile(join(dir, `${'b'.repeat(32)}.item`), '{"nope": 1}\nbytes');
    const lines: string[] = [];
    const prev = setLogSink((l) => lines.push(l));
    const outbox = await Outbox.open({ dir, deliver: async () => fakeDelivered('') }).finally(() => setLogSink(prev));
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['skipping damaged outbox item', 'skipping damaged outbox item']);
    expect(outbox.corrupt.map((e) => e.message).sort()).toEqual([
      `outbox file ${'a'.repeat(32)}.item is damaged: no header line`,
      `outbox file ${'b'.repeat(32)}.item is damaged: header fields missing`,
    ]);
    expect(outbox.pending()).toEqual([]);
    expect((await readdir(dir)).length).toBe(2);
  });

  it('announces a delivery before its files are removed, and a removal that fails only means one more send', async () => {
    const dir = freshDir();
    const c = clip();
    let failUnlink = true;
    const fs: AtomicFs = {
      ...fsp,
      unlink: (async (path: Parameters<typeof fsp.unlink>[0]) => {
        if (failUnlink && String(path).endsWith('.item')) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        return fsp.unlink(path);
      }) as typeof fsp.unlink,
    };
    const sent: string[] = [];
    const deliver = async (item: OutboxItem) => (sent.push(item.clipId), fakeDelivered(item.clipId));
    const first = await Outbox.open({ dir, fs, deliver });
    const delivered: string[] = [];
    first.on('delivered', (i) => delivered.push(i.clipId));
    first.start();
    await first.enqueue(c, [bob]);
    await until(() => delivered.length === 1);
    await first.stop();
    expect(first.pending()).toEqual([]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.item'))).toHaveLength(1);
    // After a restart the leftover goes out again (the receiver answers it as a duplicate).
    failUnlink = false;
    const again = await Outbox.open({ dir, fs, deliver });
    again.on('delivered', (i) => delivered.push(i.clipId));
    again.start();
    await until(() => delivered.length === 2);
    await again.stop();
    expect(sent).toEqual([c.clipId, c.clipId]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.item'))).toEqual([]);
  });

  it('refuses to enqueue on a full disk with DiskFullError and leaves nothing behind', async () => {
    const dir = freshDir();
    const fs: AtomicFs = {
      ...fsp,
      open: (async (...args: Parameters<typeof fsp.open>) => {
        if (String(args[0]).includes('.tmp-')) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
        return fsp.open(...args);
      }) as typeof fsp.open,
    };
    const outbox = await Outbox.open({ dir, fs, deliver: async () => fakeDelivered('') });
    await expect(outbox.enqueue(clip(), [bob])).rejects.toBeInstanceOf(DiskFullError);
    expect(outbox.pending()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('Outbox crash safety (SIGKILL a real child process mid-write)', () => {
  let bundle: string;
  let alice: Party, bobParty: Party;
  let clips: { clipId: string; path: string; recipients: Recipient[] }[];
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'torlk-crash-'));
    bundle = join(work, 'child.mjs');
    await build({ entryPoints: [join(import.meta.dirname, 'store-outbox-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent', external: ['age-encryption'] });
    [alice, bobParty] = (await Promise.all(['alice', 'bob'].map(makeParty))) as [Party, Party];
    const ogg = await makeOgg(1);
    clips = [];
    for (let i = 0; i < 40; i++) {
      const { sealed, header } = await seal({ from: alice, to: [bobParty], ogg });
      const path = join(work, `clip${i}.age`);
      await writeFile(path, sealed);
      clips.push({ clipId: header.clipId, path, recipients: [] });
    }
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('loses nothing, leaves nothing half-written, and every clip is delivered exactly once after the restart', async () => {
    const rx = await startTestReceiver({ me: bobParty, contacts: [alice] });
    try {
      const recipient = rx.recipient;
      const list = join(work, 'list.json');
      await writeFile(list, JSON.stringify(clips.map((c) => ({ ...c, recipients: [recipient] }))));
      const dir = join(work, 'outbox');
      const acknowledged = new Set<string>();
      for (let round = 0; round < 5; round++) {
        // Each round kills the child at a different moment; the outbox directory carries over.
        const child = spawn(process.execPath, [bundle, dir, list], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TORLK_LOG: 'silent' } });
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        const killAfter = 20 + round * 40;
        await until(() => out.includes('ready\n'), 10_000);
        await new Promise((r) => setTimeout(r, killAfter));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        for (const line of out.split('\n')) if (line.startsWith('queued ')) acknowledged.add(line.slice(7));
        const reopened = await Outbox.open({ dir, deliver: async () => fakeDelivered('') });
        expect(reopened.corrupt).toEqual([]);
        const pending = new Set(reopened.pending().map((i) => i.clipId));
        for (const id of acknowledged) expect(pending.has(id)).toBe(true);
        expect((await readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
      }
      expect(acknowledged.size).toBeGreaterThan(0);
      // The radio restarts for real: its outbox delivers to the receiver over loopback TCP.
      const direct = (host: string, port: number) =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(port, host);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
      const outbox = await Outbox.open({ dir, deliver: (item, sealed) => uploadClip({ connector: direct, recipient: item.recipient, body: sealed, clipId: item.clipId }) });
      const pendingIds = outbox.pending().map((i) => i.clipId);
      outbox.kick();
      outbox.start();
      await until(() => outbox.pending().length === 0, 20_000);
      await outbox.stop();
      expect(rx.inbox.entries().map((e) => e.clipId).sort()).toEqual([...new Set(pendingIds)].sort());
      for (const id of acknowledged) expect(rx.inbox.get(id)).toBeDefined();
    } finally {
      await rx.close();
    }
  });
});
