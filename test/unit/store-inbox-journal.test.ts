// The inbox's write-ahead journal: its file format (round trip, torn tails, flipped bytes), its
// failure handling (a full disk, a failing disk), and the inbox around it: a clip is durable once
// add() returns (SIGKILL before its own files exist loses nothing), replays are idempotent, and a
// full disk during the background write-out loses nothing either.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { constants as fsConstants } from 'node:fs';
import { build } from 'esbuild';
import { Inbox, inboxKey, JOURNAL_FILE, WRITE_OUT_DELAY_MS } from '../../firmware/store/inbox.js';
import { encodeJournalEntry, InboxJournal, InboxJournalError, JOURNAL_MAGIC, parseJournal, type JournalFs } from '../../firmware/store/inbox-journal.js';
import { DiskFullError, type AtomicFs } from '../../firmware/store/atomic-file.js';
import { captureLog } from '../support/capture-log.js';
import { signReceipt, type SignedReceipt } from '../../firmware/transport/receipt.js';
import type { InboundClip } from '../../firmware/transport/clip-opener.js';
import { inboxTestBed, seal } from './transport-fixtures.js';

const bed = inboxTestBed('torlk-inbox-journal-');
/**
 * A filesystem whose opens of temp files (the clip's own files being written out, not the journal)
 * get `fault()`'s promise instead while it returns one.
 */
function tempOpens(fault: () => Promise<never> | undefined): AtomicFs {
  return {
    ...fsp,
    open: (async (...args: Parameters<typeof fsp.open>) => {
      const failed = String(args[0]).includes('.tmp-') ? fault() : undefined;
      return failed ?? fsp.open(...args);
    }) as typeof fsp.open,
  };
}

/** A journal file's path in a new, empty directory. */
async function freshJournalPath(): Promise<string> {
  const dir = bed.dir();
  await fsp.mkdir(dir);
  return join(dir, JOURNAL_FILE);
}

async function received(): Promise<{ clip: InboundClip; sealed: Uint8Array; receipt: SignedReceipt }> {
  const createdAt = Date.now();
  const { sealed, header } = await seal({ from: bed.alice, to: [bed.bob], ogg: bed.ogg, createdAt });
  const clip: InboundClip = { clipId: header.clipId, senderKey: header.sender, senderName: 'alice', channel: header.channel, sequence: header.sequence, createdAt, durationMs: header.durationMs };
  return { clip, sealed, receipt: signReceipt(bed.bob.signing, clip.clipId, sealed, Date.now()) };
}

function ageDecrypt(dir: string, file: string): Buffer {
  const idFile = `${bed.dir()}.key`;
  execFileSync('sh', ['-c', 'umask 077 && cat > "$0"', idFile], { input: bed.bob.ageIdentity + '\n' });
  return execFileSync('age', ['-d', '-i', idFile, file]);
}

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

type Write = (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
/** An fs whose journal handles' calls go through `faults` (each may fail or pass to the real call). */
function journalFaults(faults: { write?: (real: Write, b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>; truncate?: (real: (len: number) => Promise<void>, len: number) => Promise<void> }, base: AtomicFs = { ...fsp }): AtomicFs {
  return {
    ...base,
    open: (async (...args: Parameters<typeof fsp.open>) => {
      const handle = await base.open(...args);
      if (!String(args[0]).endsWith(JOURNAL_FILE)) return handle;
      const real = { write: handle.write.bind(handle) as Write, truncate: handle.truncate.bind(handle) };
      return Object.assign(handle, {
        write: (b: Uint8Array, o: number, l: number) => (faults.write ? faults.write(real.write, b, o, l) : real.write(b, o, l)),
        truncate: (len: number) => (faults.truncate ? faults.truncate(real.truncate, len) : real.truncate(len)),
      });
    }) as typeof fsp.open,
  };
}

describe('journal format', () => {
  const entries = [
    { record: { clipId: 'a'.repeat(32), senderName: 'Zoë ✓', n: 1 }, sealed: new Uint8Array(randomBytes(300)) },
    { record: { clipId: 'b'.repeat(32), nested: { x: [1, 2] } }, sealed: new Uint8Array(0) },
    { record: { clipId: 'c'.repeat(32) }, sealed: new Uint8Array(randomBytes(200)) },
  ];
  const encoded = entries.map((e) => encodeJournalEntry(e.record, e.sealed));
  const file = Buffer.concat(encoded);
  const lastStart = encoded[0]!.length + encoded[1]!.length;

  it('lays an entry out as documented and round-trips every entry', () => {
    const e = encoded[0]!;
    const json = Buffer.from(JSON.stringify(entries[0]!.record), 'utf8');
    expect([...e.subarray(0, 4)]).toEqual([...JOURNAL_MAGIC]);
    expect(e.readUInt32BE(4)).toBe(json.length);
    expect(e.readUInt32BE(8)).toBe(300);
    expect(e.subarray(12, 12 + json.length).equals(json)).toBe(true);
    expect(e.subarray(12 + json.length, 12 + json.length + 300).equals(Buffer.from(entries[0]!.sealed))).toBe(true);
    expect(e.subarray(-32).equals(createHash('sha256').update(e.subarray(0, -32)).digest())).toBe(true);
    expect(e.length).toBe(12 + json.length + 300 + 32);

    const parsed = parseJournal(file);
    expect(parsed.entries).toEqual(entries);
    expect(parsed.validBytes).toBe(file.length);
    expect(parsed.tornBytes).toBe(0);
    expect(parseJournal(new Uint8Array(0))).toEqual({ entries: [], validBytes: 0, tornBytes: 0 });
  });

  it('drops a torn last entry cut at every offset, keeping all earlier ones', () => {
    for (let cut = lastStart; cut < file.length; cut++) {
      const parsed = parseJournal(file.subarray(0, cut));
      expect(parsed.entries).toEqual(entries.slice(0, 2));
      expect(parsed.validBytes).toBe(lastStart);
      expect(parsed.tornBytes).toBe(cut - lastStart);
    }
  });

  it('cuts a torn tail off the file at open, at every offset of the last entry', async () => {
    const path = await freshJournalPath();
    for (let cut = lastStart + 1; cut < file.length; cut++) {
      await writeFile(path, file.subarray(0, cut));
      const journal = await InboxJournal.open(path);
      expect(journal.recovered).toEqual(entries.slice(0, 2));
      expect(journal.size).toBe(lastStart);
      await journal.close();
      expect((await stat(path)).size).toBe(lastStart);
    }
  });

  it('drops an entry with a flipped byte (and what follows it), keeping the earlier ones', () => {
    for (let at = encoded[0]!.length; at < lastStart; at++) {
      const bad = Buffer.from(file);
      bad[at]! ^= 0x01;
      const parsed = parseJournal(bad);
      expect(parsed.entries).toEqual(entries.slice(0, 1));
      expect(parsed.validBytes).toBe(encoded[0]!.length);
    }
    for (let at = lastStart; at < file.length; at += 7) {
      const bad = Buffer.from(file);
      bad[at]! ^= 0x80;
      expect(parseJournal(bad).entries).toEqual(entries.slice(0, 2));
    }
  });
});

describe('InboxJournal appends', () => {
  const sealed = new Uint8Array(randomBytes(5000));

  it('serialises concurrent appends, creates the file 0600, and empties it on clear', async () => {
    const path = await freshJournalPath();
    const journal = await InboxJournal.open(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => journal.append({ i }, sealed.subarray(0, 100 * i))));
    const parsed = parseJournal(await readFile(path));
    expect(parsed.entries.map((e) => e.record)).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    expect(parsed.entries.map((e) => e.sealed.length)).toEqual(Array.from({ length: 20 }, (_, i) => 100 * i));
    expect(parsed.tornBytes).toBe(0);
    expect(journal.size).toBe(parsed.validBytes);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await journal.clear();
    expect((await stat(path)).size).toBe(0);
    await journal.append({ after: true }, sealed);
    expect(parseJournal(await readFile(path)).entries.map((e) => e.record)).toEqual([{ after: true }]);
    await journal.close();
    await expect(journal.append({}, sealed)).rejects.toMatchObject({ name: 'InboxJournalError', operation: 'closed' });
  });

  it('starts an append\'s write within the call when nothing is queued (the receiver checks the clip meanwhile), else after the one before', async () => {
    const path = await freshJournalPath();
    const writes: string[] = [];
    const journal = await InboxJournal.open(path, journalFaults({ write: (real, b, o, l) => (writes.push(String(b.length)), real(b, o, l)) }));
    const first = journal.append({ first: true }, sealed);
    expect(writes).toHaveLength(1); // synchronously, before append() returned
    const second = journal.append({ second: true }, sealed);
    expect(writes).toHaveLength(1); // queued behind the first
    await Promise.all([first, second]);
    expect(writes).toHaveLength(2);
    journal.append({ third: true }, sealed).catch(() => undefined);
    expect(writes).toHaveLength(3); // idle again: at once
    await journal.close();
    expect(parseJournal(await readFile(path)).entries.map((e) => e.record)).toEqual([{ first: true }, { second: true }, { third: true }]);
  });

  it('a full disk mid-append: DiskFullError, the partial entry cut off, and the next append works once space is back', async () => {
    const path = await freshJournalPath();
    let full = false;
    const fs = journalFaults({
      write: async (real, b, o, l) => {
        if (!full) return real(b, o, l);
        if (o === 0) return real(b, o, 1000); // part of the entry reaches the file first
        throw enospc();
      },
    });
    const journal = await InboxJournal.open(path, fs);
    await journal.append({ first: 1 }, sealed);
    const before = (await stat(path)).size;
    full = true;
    const err = await journal.append({ second: 2 }, sealed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as DiskFullError).path).toBe(path);
    expect((await stat(path)).size).toBe(before);
    expect(parseJournal(await readFile(path))).toMatchObject({ tornBytes: 0, entries: [{ record: { first: 1 } }] });
    full = false;
    await journal.append({ third: 3 }, sealed);
    expect(parseJournal(await readFile(path)).entries.map((e) => e.record)).toEqual([{ first: 1 }, { third: 3 }]);
    await journal.close();
  });

  it('a failed write (not a full disk): typed error with the path and step, the partial entry cut off', async () => {
    const path = await freshJournalPath();
    let fail = true;
    const journal = await InboxJournal.open(path, journalFaults({
      // Part of the entry reaches the file, then the disk fails.
      write: async (real, b, o, l) => (fail && o > 0 ? Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })) : real(b, o, fail ? Math.min(l, 100) : l)),
    }));
    const err = await journal.append({ x: 1 }, sealed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InboxJournalError);
    expect(err).toMatchObject({ path, operation: 'write' });
    expect((err as Error).message).toMatch(/journal.*write failed.*EIO/);
    expect((await stat(path)).size).toBe(0);
    fail = false;
    await journal.append({ y: 2 }, sealed);
    expect(parseJournal(await readFile(path)).entries.map((e) => e.record)).toEqual([{ y: 2 }]);
    await journal.close();
  });

  it('is open O_DSYNC in the kernel, so an append is on the medium when its write returns', async () => {
    const path = await freshJournalPath();
    let fd = -1;
    const journal = await InboxJournal.open(path, {
      open: (async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        fd = handle.fd;
        return handle;
      }) as typeof fsp.open,
    });
    // The file description's flags as the kernel holds them (octal), not what we asked for.
    const flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
    expect(flags & fsConstants.O_DSYNC).toBe(fsConstants.O_DSYNC);
    expect(flags & fsConstants.O_APPEND).toBe(fsConstants.O_APPEND);
    await journal.close();
  });

  it('when even the cut-back fails, refuses every later append with that error until reopened', async () => {
    const path = await freshJournalPath();
    let broken = true;
    const journal = await InboxJournal.open(path, journalFaults({
      write: async (real, b, o, l) => (broken && o > 0 ? Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) : real(b, o, broken ? Math.min(l, 100) : l)),
      truncate: async (real, len) => (broken ? Promise.reject(Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' })) : real(len)),
    }));
    const first = await journal.append({ a: 1 }, sealed).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(InboxJournalError);
    expect(first).toMatchObject({ operation: 'truncate' });
    expect((first as Error).message).toMatch(/EROFS/);
    broken = false; // the disk recovers, but this journal may end in a partial entry: still refused
    expect(await journal.append({ b: 2 }, sealed).catch((e: unknown) => e)).toBe(first);
    await journal.close();
    // A restart reads the partial entry as a torn tail and cuts it off.
    const reopened = await InboxJournal.open(path);
    expect(reopened.recovered).toEqual([]);
    expect((await stat(path)).size).toBe(0);
    await reopened.append({ c: 3 }, sealed);
    expect(parseJournal(await readFile(path)).entries.map((e) => e.record)).toEqual([{ c: 3 }]);
    await reopened.close();
  });

  it('says which file and step when the journal cannot be opened', async () => {
    const fs: JournalFs = { open: (async () => Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))) as unknown as typeof fsp.open };
    await expect(InboxJournal.open('/nowhere/journal', fs)).rejects.toMatchObject({ name: 'InboxJournalError', operation: 'open', path: '/nowhere/journal' });
  });
});

describe('Inbox with its journal', () => {
  let bundle: string;
  beforeAll(async () => {
    bundle = join(bed.root, 'child.mjs');
    await build({ entryPoints: [join(import.meta.dirname, 'store-inbox-journal-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' });
  });

  it('a SIGKILL after add() returned, before the clip has its own files: reopen has it, playable, same receipt, unplayed', async () => {
    const dir = bed.dir();
    const work = bed.dir();
    await fsp.mkdir(work);
    const clips = [await received(), await received()];
    const list = join(work, 'list.json');
    await writeFile(list, JSON.stringify(await Promise.all(clips.map(async (c, i) => {
      const path = join(work, `clip${i}.age`);
      await writeFile(path, c.sealed);
      return { clip: c.clip, path, receipt: c.receipt };
    }))));
    const child = spawn(process.execPath, [bundle, dir, list], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TORLK_LOG: 'silent' } });
    const exited = new Promise((r) => child.once('exit', r));
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.split('\n').filter((l) => l.startsWith('added ')).length === 2) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited (${code}) before adding both clips: ${out}`)));
      });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // Killed inside the window: nothing but the journal on disk.
    expect(await readdir(dir)).toEqual([JOURNAL_FILE]);
    expect((await stat(join(dir, JOURNAL_FILE))).size).toBeGreaterThan(clips[0]!.sealed.length + clips[1]!.sealed.length);
    const sentReceipts = out.split('\n').filter((l) => l.startsWith('added ')).map((l) => JSON.parse(l.slice(6)) as SignedReceipt);

    const inbox = await Inbox.open({ dir });
    try {
      for (const [i, c] of clips.entries()) {
        const entry = inbox.get(c.clip.clipId)!;
        expect(entry).toBeDefined();
        expect(entry.played).toBe(false);
        expect(entry.receipt).toEqual(sentReceipts[i]);
        expect(entry.receipt).toEqual(c.receipt);
        expect(Buffer.from(await inbox.read(entry)).equals(Buffer.from(c.sealed))).toBe(true);
        const plain = ageDecrypt(dir, join(dir, `${entry.key}.clip`));
        expect(plain.subarray(0, 4).toString()).toBe('OggS');
      }
      expect(inbox.next()?.clipId).toBe(clips[0]!.clip.clipId);
      expect((await stat(join(dir, JOURNAL_FILE))).size).toBe(0);
      expect((await readdir(dir)).sort()).toEqual([...clips.flatMap((c) => [`${inboxKey(c.clip.clipId)}.clip`, `${inboxKey(c.clip.clipId)}.json`]), JOURNAL_FILE].sort());
    } finally {
      await inbox.close();
    }
  });

  it('a full disk on the journal append: DiskFullError, nothing indexed, journal parseable; works again once space is back', async () => {
    const dir = bed.dir();
    let full = false;
    const inbox = await Inbox.open({ dir, fs: journalFaults({ write: async (real, b, o, l) => (full ? (o === 0 ? real(b, o, 500) : Promise.reject(enospc())) : real(b, o, l)) }) });
    const kept = await received();
    await inbox.add(kept.clip, kept.sealed, kept.receipt);
    await inbox.flush();
    const lost = await received();
    full = true;
    const clipEvents: string[] = [];
    inbox.on('clip', (e) => clipEvents.push(e.clipId));
    await expect(inbox.add(lost.clip, lost.sealed, lost.receipt)).rejects.toBeInstanceOf(DiskFullError);
    expect(clipEvents).toEqual([]);
    expect(inbox.get(lost.clip.clipId)).toBeUndefined();
    expect(inbox.findBySequence(lost.clip.senderKey, lost.clip.sequence)).toBeUndefined();
    expect(parseJournal(await readFile(join(dir, JOURNAL_FILE)))).toMatchObject({ tornBytes: 0 });
    expect(await inbox.flush()).toBe(true);
    expect((await readdir(dir)).filter((f) => f.startsWith(inboxKey(lost.clip.clipId)))).toEqual([]);
    full = false;
    await inbox.add(lost.clip, lost.sealed, lost.receipt);
    expect(clipEvents).toEqual([lost.clip.clipId]);
    await inbox.close();
    const reopened = await Inbox.open({ dir });
    expect(reopened.entries().map((e) => e.clipId)).toEqual([kept.clip.clipId, lost.clip.clipId]);
    await reopened.close();
  });

  it('a full disk during the write-out: add() succeeds, read() works, a warning is logged, the next add and a reopen write it', async () => {
    const dir = bed.dir();
    let full = true;
    const fs = tempOpens(() => (full ? Promise.reject(enospc()) : undefined));
    const a = await received();
    const { lines } = await captureLog('warn', async () => {
      const inbox = await Inbox.open({ dir, fs });
      const entry = await inbox.add(a.clip, a.sealed, a.receipt);
      expect(await inbox.flush()).toBe(false);
      expect(Buffer.from(await inbox.read(entry)).equals(Buffer.from(a.sealed))).toBe(true);
      expect(inbox.next()?.clipId).toBe(a.clip.clipId);
      expect(await readdir(dir)).toEqual([JOURNAL_FILE]);
      expect(parseJournal(await readFile(join(dir, JOURNAL_FILE))).entries.map((e) => (e.record as { clipId: string }).clipId)).toEqual([a.clip.clipId]);
      // Playing it needs its files: refused with the disk's error, nothing marked.
      await expect(inbox.markPlayed(a.clip.clipId)).rejects.toBeInstanceOf(DiskFullError);
      expect(entry.played).toBe(false);
      await inbox.close(); // gives up (the disk is still full); the journal keeps the clip
    });
    const warning = lines.find((l) => l.level === 'warn' && String(l.msg).includes('journal keeps them'));
    expect(warning).toMatchObject({ c: 'inbox', dir, clips: [a.clip.clipId], err: { name: 'DiskFullError' } });

    // Reopened with the disk still full: the clip is indexed from the journal and served from memory.
    const { result: stillFull, lines: atOpen } = await captureLog('warn', () => Inbox.open({ dir, fs }));
    expect(atOpen).toEqual([expect.objectContaining({ level: 'warn', clips: [a.clip.clipId] })]);
    const entry = stillFull.get(a.clip.clipId)!;
    expect(entry.receipt).toEqual(a.receipt);
    expect(Buffer.from(await stillFull.read(entry)).equals(Buffer.from(a.sealed))).toBe(true);
    // Space is back: the next add writes both clips and empties the journal.
    full = false;
    const b = await received();
    await stillFull.add(b.clip, b.sealed, b.receipt);
    expect(await stillFull.flush()).toBe(true);
    expect((await stat(join(dir, JOURNAL_FILE))).size).toBe(0);
    expect(ageDecrypt(dir, join(dir, `${entry.key}.clip`)).subarray(0, 4).toString()).toBe('OggS');
    await stillFull.close();

    // And a reopen alone (no add) writes a journalled clip too.
    const dir2 = bed.dir();
    full = true;
    const c = await received();
    await captureLog('error', async () => {
      const inbox = await Inbox.open({ dir: dir2, fs });
      await inbox.add(c.clip, c.sealed, c.receipt);
      await inbox.close();
    });
    full = false;
    const reopened = await Inbox.open({ dir: dir2 });
    expect(reopened.get(c.clip.clipId)?.played).toBe(false);
    expect((await readFile(join(dir2, `${inboxKey(c.clip.clipId)}.clip`))).equals(Buffer.from(c.sealed))).toBe(true);
    expect((await stat(join(dir2, JOURNAL_FILE))).size).toBe(0);
    await reopened.close();
  });

  it('writes a clip\'s own files WRITE_OUT_DELAY_MS after add(), one write-out for clips that came meanwhile; close() writes them at once', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir });
    const [a, b] = [await received(), await received()];
    const t0 = performance.now();
    const ea = await inbox.add(a.clip, a.sealed, a.receipt);
    const eb = await inbox.add(b.clip, b.sealed, b.receipt);
    await new Promise((r) => setTimeout(r, WRITE_OUT_DELAY_MS / 2));
    expect(await readdir(dir)).toEqual([JOURNAL_FILE]);
    const want = [`${ea.key}.clip`, `${ea.key}.json`, `${eb.key}.clip`, `${eb.key}.json`, JOURNAL_FILE].sort();
    for (;;) {
      if ((await readdir(dir)).length === want.length && (await stat(join(dir, JOURNAL_FILE))).size === 0) break;
      expect(performance.now() - t0).toBeLessThan(WRITE_OUT_DELAY_MS + 5000);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await readdir(dir)).sort()).toEqual(want);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(WRITE_OUT_DELAY_MS - 1);
    const c = await received();
    const ec = await inbox.add(c.clip, c.sealed, c.receipt);
    await inbox.close();
    expect((await readFile(join(dir, `${ec.key}.clip`))).equals(Buffer.from(c.sealed))).toBe(true);
    expect((await stat(join(dir, JOURNAL_FILE))).size).toBe(0);
  });

  it('read() and markPlayed() right after add(), before the write-out: consistent files', async () => {
    const dir = bed.dir();
    const held = await Inbox.open({ dir, holdMaterialisation: true });
    const a = await received();
    const entry = await held.add(a.clip, a.sealed, a.receipt);
    expect(await readdir(dir)).toEqual([JOURNAL_FILE]); // nothing written out yet
    expect(Buffer.from(await held.read(entry)).equals(Buffer.from(a.sealed))).toBe(true);
    await held.markPlayed(a.clip.clipId);
    expect((await readdir(dir)).sort()).toEqual([`${entry.key}.clip`, `${entry.key}.json`, `${entry.key}.played`, JOURNAL_FILE].sort());
    expect((await readFile(join(dir, `${entry.key}.clip`))).equals(Buffer.from(a.sealed))).toBe(true);
    expect((await stat(join(dir, JOURNAL_FILE))).size).toBe(0);
    expect(Buffer.from(await held.read(entry)).equals(Buffer.from(a.sealed))).toBe(true);
    await held.close();

    // Without the hold: play racing the background write-out, several clips at once.
    const inbox = await Inbox.open({ dir });
    expect(inbox.get(a.clip.clipId)?.played).toBe(true);
    const more = [await received(), await received(), await received()];
    await Promise.all(more.map(async (m) => {
      const e = await inbox.add(m.clip, m.sealed, m.receipt);
      const bytes = await inbox.read(e);
      await inbox.markPlayed(m.clip.clipId);
      expect(Buffer.from(bytes).equals(Buffer.from(m.sealed))).toBe(true);
    }));
    await inbox.close();
    const reopened = await Inbox.open({ dir });
    // Added in the same millisecond: compare as sets.
    const byId = (x: unknown[], y: unknown[]) => String(x[0]).localeCompare(String(y[0]));
    expect(reopened.entries().map((e) => [e.clipId, e.played, e.hasAudio]).sort(byId)).toEqual([a, ...more].map((m) => [m.clip.clipId, true, true]).sort(byId));
    for (const m of more) expect((await readFile(join(dir, `${inboxKey(m.clip.clipId)}.clip`))).equals(Buffer.from(m.sealed))).toBe(true);
    expect((await readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    await reopened.close();
  });

  it('orders clips received in the same millisecond by created-at and sequence, the same after a reopen', async () => {
    const dir = bed.dir();
    const now = () => 1_000_000; // every clip received at once
    const inbox = await Inbox.open({ dir, now });
    const first = await received();
    const second = await received();
    const later = { ...second.clip, createdAt: first.clip.createdAt }; // created in the same ms too: sequence decides
    // Added out of order, so insertion order is not what the test sees.
    await inbox.add(later, second.sealed, second.receipt);
    await inbox.add(first.clip, first.sealed, first.receipt);
    expect(first.clip.sequence).toBeLessThan(later.sequence);
    const order = [first.clip.clipId, later.clipId];
    expect(inbox.entries().map((e) => e.clipId)).toEqual(order);
    await inbox.close();
    const reopened = await Inbox.open({ dir, now });
    expect(reopened.entries().map((e) => e.clipId)).toEqual(order);
    expect(reopened.next()?.clipId).toBe(first.clip.clipId);
    // Both played: at open the last played is the later arrival of the two, by the same order.
    await reopened.markPlayed(later.clipId);
    await reopened.markPlayed(first.clip.clipId);
    await reopened.close();
    const again = await Inbox.open({ dir, now });
    expect(again.last()?.clipId).toBe(later.clipId);
    await again.close();
  });

  it('replays idempotently: a journal never emptied (crash after the write-out) changes nothing, twice over', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir, holdMaterialisation: true });
    const a = await received();
    const b = await received();
    await inbox.add(a.clip, a.sealed, a.receipt);
    await inbox.add(b.clip, b.sealed, b.receipt);
    const journalBytes = await readFile(join(dir, JOURNAL_FILE));
    await inbox.markPlayed(a.clip.clipId); // writes both clips out, empties the journal
    await inbox.close();
    // The truncate was lost (power cut): the journal still holds both entries.
    await writeFile(join(dir, JOURNAL_FILE), journalBytes);
    const files = async () => {
      const names = (await readdir(dir)).filter((f) => f !== JOURNAL_FILE).sort();
      return Promise.all(names.map(async (f) => ({ f, ino: (await stat(join(dir, f))).ino, bytes: (await readFile(join(dir, f))).toString('base64') })));
    };
    const before = await files();
    expect(before.map((x) => x.f)).toHaveLength(5);
    for (let round = 0; round < 2; round++) {
      const reopened = await Inbox.open({ dir });
      expect(await files()).toEqual(before); // same inodes: nothing rewritten
      expect(reopened.entries().map((e) => [e.clipId, e.played])).toEqual([[a.clip.clipId, true], [b.clip.clipId, false]]);
      expect(reopened.last()?.clipId).toBe(a.clip.clipId);
      expect((await stat(join(dir, JOURNAL_FILE))).size).toBe(0);
      await reopened.close();
      await writeFile(join(dir, JOURNAL_FILE), journalBytes);
    }
    // A crash halfway through the write-out (the clip written, its record not): the replay completes it.
    await rm(join(dir, `${inboxKey(b.clip.clipId)}.json`));
    const completed = await Inbox.open({ dir });
    expect(completed.get(b.clip.clipId)?.receipt).toEqual(b.receipt);
    expect(await files()).toEqual(before.map((x) => (x.f === `${inboxKey(b.clip.clipId)}.json` ? { ...x, ino: expect.any(Number) } : x)));
    await completed.close();
  });

  it('drops a torn last entry at open with an info log of its size, keeping the earlier clips', async () => {
    const source = bed.dir();
    const inbox = await Inbox.open({ dir: source, holdMaterialisation: true });
    const a = await received();
    const b = await received();
    await inbox.add(a.clip, a.sealed, a.receipt);
    const firstEnd = (await stat(join(source, JOURNAL_FILE))).size;
    await inbox.add(b.clip, b.sealed, b.receipt);
    const journalBytes = await readFile(join(source, JOURNAL_FILE));
    await captureLog('error', () => inbox.close());
    for (const cut of [firstEnd + 1, firstEnd + 12, firstEnd + 500, journalBytes.length - 33, journalBytes.length - 1]) {
      const dir = bed.dir();
      await fsp.mkdir(dir);
      await writeFile(join(dir, JOURNAL_FILE), journalBytes.subarray(0, cut));
      const { result: reopened, lines } = await captureLog('info', () => Inbox.open({ dir }));
      expect(reopened.entries().map((e) => e.clipId)).toEqual([a.clip.clipId]);
      expect(reopened.get(b.clip.clipId)).toBeUndefined();
      expect(lines.filter((l) => String(l.msg).includes('torn tail'))).toEqual([expect.objectContaining({ level: 'info', bytes: cut - firstEnd })]);
      expect((await readdir(dir)).sort()).toEqual([`${inboxKey(a.clip.clipId)}.clip`, `${inboxKey(a.clip.clipId)}.json`, JOURNAL_FILE]);
      expect((await stat(join(dir, JOURNAL_FILE))).size).toBe(0);
      await reopened.close();
    }
  });

  it('one clip failing to be written does not hold up the others; pruning waits while the journal holds a clip', async () => {
    const dir = bed.dir();
    const [a, b, c] = [await received(), await received(), await received()];
    let failB = true;
    const fs: AtomicFs = {
      ...fsp,
      open: (async (...args: Parameters<typeof fsp.open>) => {
        if (failB && String(args[0]).includes(`.tmp-${inboxKey(b.clip.clipId)}`)) throw Object.assign(new Error('EIO: i/o error, open'), { code: 'EIO' });
        return fsp.open(...args);
      }) as typeof fsp.open,
    };
    const inbox = await Inbox.open({ dir, fs, keepPlayed: 1 });
    await captureLog('error', async () => {
      await inbox.add(a.clip, a.sealed, a.receipt);
      await inbox.add(b.clip, b.sealed, b.receipt);
      await inbox.add(c.clip, c.sealed, c.receipt);
      expect(await inbox.flush()).toBe(false);
      await inbox.markPlayed(a.clip.clipId); // a has its files: playable while b's keep failing
      await expect(inbox.markPlayed(b.clip.clipId)).rejects.toMatchObject({ name: 'AtomicWriteError' });
      await inbox.markPlayed(c.clip.clipId);
    });
    // keepPlayed 1 would drop a's audio now, but the journal still holds a (b keeps it from being
    // emptied): a replay would bring the file back, so the prune waits.
    expect(inbox.get(a.clip.clipId)?.hasAudio).toBe(true);
    expect((await readdir(dir)).includes(`${inboxKey(a.clip.clipId)}.clip`)).toBe(true);
    failB = false;
    expect(await inbox.flush()).toBe(true);
    expect((await stat(join(dir, JOURNAL_FILE))).size).toBe(0);
    await inbox.markPlayed(b.clip.clipId);
    expect(inbox.entries().map((e) => [e.clipId, e.played, e.hasAudio])).toEqual([[a.clip.clipId, true, false], [b.clip.clipId, true, true], [c.clip.clipId, true, false]]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.clip'))).toEqual([`${inboxKey(b.clip.clipId)}.clip`]);
    await inbox.close();
  });

  it('close() is bounded when the write-out hangs; the journal keeps the clip for the next open', async () => {
    const dir = bed.dir();
    let hang = true;
    const fs = tempOpens(() => (hang ? new Promise<never>(() => undefined) : undefined)); // a disk that never answers
    const inbox = await Inbox.open({ dir, fs, closeTimeoutMs: 200 });
    const a = await received();
    await inbox.add(a.clip, a.sealed, a.receipt);
    const t0 = performance.now();
    await captureLog('error', () => inbox.close());
    expect(performance.now() - t0).toBeLessThan(2000);
    await expect(inbox.add(a.clip, a.sealed, a.receipt)).rejects.toMatchObject({ name: 'InboxClosedError' });
    hang = false;
    const reopened = await Inbox.open({ dir });
    expect(reopened.get(a.clip.clipId)?.receipt).toEqual(a.receipt);
    expect((await readFile(join(dir, `${inboxKey(a.clip.clipId)}.clip`))).equals(Buffer.from(a.sealed))).toBe(true);
    await reopened.close();
  });
});
