// Inbox.beginUpload: a live upload journalled as it arrives, its tail before its checks finish. Committed, it is kept like add()'s;
// released, it goes with the journal's next emptying; caught by a stop in between (the journal as a
// crash leaves it), the next open asks the judge and keeps only what it passes. The judge here is
// the radio's own (recoveryJudge over the real opener and rules), on real sealed clips.
import { describe, expect, it } from 'vitest';
import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Inbox, InboxClosedError, inboxKey, JOURNAL_FILE, type InboxReservation, type RecoveryJudge } from '../../firmware/store/inbox.js';
import { parseJournal } from '../../firmware/store/inbox-journal.js';
import { DiskFullError, type AtomicFs } from '../../firmware/store/atomic-file.js';
import { captureLog } from '../support/capture-log.js';
import { signReceipt } from '../../firmware/transport/receipt.js';
import type { InboundClip } from '../../firmware/transport/clip-opener.js';
import { clipOpener } from '../../firmware/transport/clip-adapter.js';
import { recoveryJudge } from '../../firmware/transport/clip-acceptance.js';
import { inboxTestBed, seal, type Party } from './transport-fixtures.js';

const bed = inboxTestBed('torlk-inbox-reserve-');

/** The radio's judge for bob: alice is his contact on "family". */
function bobsJudge(contacts: () => Party[] = () => [bed.alice]): RecoveryJudge {
  const open = clipOpener({ identity: { ageIdentity: bed.bob.ageIdentity, ageRecipient: bed.bob.ageRecipient }, contacts: () => contacts().map((p) => p.card) });
  return recoveryJudge(open, { policy: (channel, key) => channel === 'family' && contacts().some((p) => p.signing.id === key), signer: bed.bob.signing });
}

/** A clip from alice to bob as bob's receiver would have it once checked: the age file, its fields, its receipt at `at`. */
async function arriving(at = Date.now(), options: { createdAt?: number } = {}) {
  const createdAt = options.createdAt ?? at - 1000;
  const { sealed, header } = await seal({ from: bed.alice, to: [bed.bob], ogg: bed.ogg, createdAt });
  const clip: InboundClip = { clipId: header.clipId, senderKey: header.sender, senderName: 'alice', channel: header.channel, sequence: header.sequence, createdAt, durationMs: header.durationMs };
  return { clip, sealed, at, receipt: signReceipt(bed.bob.signing, clip.clipId, sealed, at) };
}

/** A whole body journalled at once, its tail reserved (what the receiver does piece by piece). */
function reserve(inbox: Inbox, body: Uint8Array, at: number): InboxReservation {
  const upload = inbox.beginUpload();
  upload.push(body);
  return upload.reserve(at);
}

/**
 * A clip reserved and committed (its receipt sent) with the write-out held, then a stop: the
 * directory the stop leaves. `withJudge`: whether the running inbox had the radio's judge.
 */
async function committedThenStopped(withJudge = true) {
  const dir = bed.dir();
  const inbox = await Inbox.open({ dir, holdMaterialisation: true, ...(withJudge ? { judge: bobsJudge() } : {}) });
  const a = await arriving();
  await reserve(inbox, a.sealed, a.at).commit(a.clip, a.sealed, a.receipt);
  const stopped = await stoppedCopy(dir);
  await inbox.close();
  return { a, stopped };
}

async function journalSize(dir: string): Promise<number> {
  return (await stat(join(dir, JOURNAL_FILE))).size;
}

/** What a stop leaves: a new directory holding the journal as it is now (and nothing written out). */
async function stoppedCopy(dir: string): Promise<string> {
  const copy = bed.dir();
  await mkdir(copy);
  await copyFile(join(dir, JOURNAL_FILE), join(copy, JOURNAL_FILE));
  return copy;
}

describe('Inbox.reserve', () => {
  it('commit: kept under the reservation\'s arrival time and receipt, announced, written out; the journal then empties', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir, judge: bobsJudge() });
    const a = await arriving(1_700_000_000_000 + 5);
    const reservation = reserve(inbox, a.sealed, a.at);
    expect(reservation.receivedAt).toBe(a.at);
    const announced: string[] = [];
    inbox.on('clip', (e) => announced.push(e.clipId));
    const entry = await reservation.commit(a.clip, a.sealed, a.receipt);
    expect(entry).toMatchObject({ clipId: a.clip.clipId, receivedAt: a.at, receipt: a.receipt, played: false, hasAudio: true });
    expect(announced).toEqual([a.clip.clipId]);
    expect(inbox.get(a.clip.clipId)).toBe(entry);
    expect(await inbox.flush()).toBe(true);
    expect(await journalSize(dir)).toBe(0);
    expect(JSON.parse(await readFile(join(dir, `${entry.key}.json`), 'utf8'))).toMatchObject({ clipId: a.clip.clipId, receivedAt: a.at, receipt: a.receipt });
    await expect(reservation.commit(a.clip, a.sealed, a.receipt)).rejects.toThrow(/already settled/);
    await inbox.close();
  });

  it('release: nothing kept, and the entry goes with the next emptying', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir, judge: bobsJudge() });
    const refused = await arriving();
    const kept = await arriving();
    const reservation = reserve(inbox, refused.sealed, refused.at);
    await inbox.add(kept.clip, kept.sealed, kept.receipt); // queued behind the reservation's write
    expect(parseJournal(await readFile(join(dir, JOURNAL_FILE))).entries).toHaveLength(2);
    // Unreleased, the reservation holds the journal: the write-out leaves it whole.
    expect(await inbox.flush()).toBe(true);
    expect(parseJournal(await readFile(join(dir, JOURNAL_FILE))).entries).toHaveLength(2);
    reservation.release();
    reservation.release(); // twice is harmless
    expect(await inbox.flush()).toBe(true);
    expect(await journalSize(dir)).toBe(0);
    expect(inbox.entries().map((e) => e.clipId)).toEqual([kept.clip.clipId]);
    await inbox.close();
  });

  it('a stop after the receipt went out, before the write-out: the next open keeps the clip with that very receipt', async () => {
    const { a, stopped } = await committedThenStopped();

    const reopened = await Inbox.open({ dir: stopped, judge: bobsJudge() });
    const entry = reopened.get(a.clip.clipId)!;
    expect(entry).toMatchObject({ ...a.clip, receivedAt: a.at, receipt: a.receipt, played: false, hasAudio: true });
    expect(reopened.next()?.clipId).toBe(a.clip.clipId);
    expect(Buffer.from(await reopened.read(entry)).equals(Buffer.from(a.sealed))).toBe(true);
    expect((await readdir(stopped)).sort()).toEqual([`${entry.key}.clip`, `${entry.key}.json`, JOURNAL_FILE].sort());
    expect(await journalSize(stopped)).toBe(0);
    await reopened.close();
  });

  it('a stop before the verdict: the judge decides at open, each clip in journal order, and what it refuses is dropped', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir, judge: bobsJudge(), holdMaterialisation: true });
    const good = await arriving();
    const forged = await seal({
      from: { ...bed.alice, signing: { ...bed.alice.signing, publicKey: bed.alice.signing.publicKey, sign: (m: Uint8Array) => bed.bob.signing.sign(m) } } as Party,
      to: [bed.bob],
      ogg: bed.ogg,
    });
    const stale = await arriving(Date.now(), { createdAt: Date.now() - 9 * 24 * 3600_000 });
    reserve(inbox, good.sealed, good.at);
    reserve(inbox, forged.sealed, good.at);
    reserve(inbox, stale.sealed, stale.at);
    reserve(inbox, good.sealed, good.at + 1); // the same clip again (a second upload): kept once
    const last = await arriving();
    await inbox.add(last.clip, last.sealed, last.receipt); // behind the four writes
    const stopped = await stoppedCopy(dir);
    await inbox.close();

    const { result: reopened, lines } = await captureLog('info', () => Inbox.open({ dir: stopped, judge: bobsJudge() }));
    expect(reopened.entries().map((e) => e.clipId)).toEqual([good.clip.clipId, last.clip.clipId]);
    expect(reopened.get(good.clip.clipId)).toMatchObject({ receivedAt: good.at, receipt: good.receipt });
    const refusals = lines.filter((l) => String(l.msg).includes('refused on a second look')).map((l) => String(l.reason));
    expect(refusals).toEqual([expect.stringMatching(/^tampered: .*signature/), expect.stringMatching(/^stale: /), expect.stringMatching(/^duplicate: /)]);
    expect(await journalSize(stopped)).toBe(0);
    expect((await readdir(stopped)).filter((f) => f !== JOURNAL_FILE)).toHaveLength(4); // two clips, two records
    await reopened.close();
  });

  it('a contact removed before the open: their reserved clip is refused then (the rules of the day apply)', async () => {
    const { a, stopped } = await committedThenStopped();
    const reopened = await Inbox.open({ dir: stopped, judge: bobsJudge(() => []) });
    expect(reopened.entries()).toEqual([]);
    await reopened.close();
  });

  it('without a judge, or with one that fails, the clips stay in the journal untouched for an open that can decide', async () => {
    const { a, stopped } = await committedThenStopped(false);
    const journal = await readFile(join(stopped, JOURNAL_FILE));

    const { result: blind, lines: warned } = await captureLog('warn', () => Inbox.open({ dir: stopped }));
    expect(blind.entries()).toEqual([]);
    expect(warned).toEqual([expect.objectContaining({ level: 'warn', clips: 1, msg: expect.stringMatching(/until an open can check them/) })]);
    const b = await arriving();
    await blind.add(b.clip, b.sealed, b.receipt); // its write-out must not empty the journal either
    await blind.close();
    expect(blind.get(b.clip.clipId)).toBeDefined();
    expect((await readFile(join(stopped, JOURNAL_FILE))).subarray(0, journal.length).equals(journal)).toBe(true);

    const failing: RecoveryJudge = () => Promise.reject(new Error('judge bug'));
    const { result: confused, lines: errors } = await captureLog('error', () => Inbox.open({ dir: stopped, judge: failing }));
    expect(confused.get(a.clip.clipId)).toBeUndefined();
    expect(errors).toEqual([expect.objectContaining({ level: 'error', msg: expect.stringMatching(/could not judge/) })]);
    await confused.close();
    expect((await readFile(join(stopped, JOURNAL_FILE))).subarray(0, journal.length).equals(journal)).toBe(true);

    const decided = await Inbox.open({ dir: stopped, judge: bobsJudge() });
    expect(decided.get(a.clip.clipId)).toMatchObject({ receipt: a.receipt, receivedAt: a.at });
    await decided.close();
  });

  it('a clip whose files were written before the stop is not kept twice, and its files are left as they are', async () => {
    const dir = bed.dir();
    const inbox = await Inbox.open({ dir, judge: bobsJudge(), holdMaterialisation: true });
    const a = await arriving();
    await reserve(inbox, a.sealed, a.at).commit(a.clip, a.sealed, a.receipt);
    const journal = await readFile(join(dir, JOURNAL_FILE));
    await inbox.markPlayed(a.clip.clipId); // writes it out and empties the journal
    await inbox.close();
    await fsp.writeFile(join(dir, JOURNAL_FILE), journal); // that emptying lost in a power cut
    const inode = (await stat(join(dir, `${inboxKey(a.clip.clipId)}.clip`))).ino;
    const reopened = await Inbox.open({ dir, judge: bobsJudge() });
    expect(reopened.entries().map((e) => [e.clipId, e.played])).toEqual([[a.clip.clipId, true]]);
    expect((await stat(join(dir, `${inboxKey(a.clip.clipId)}.clip`))).ino).toBe(inode);
    expect(await journalSize(dir)).toBe(0);
    await reopened.close();
  });

  it('a full disk on the reservation\'s write: commit() throws DiskFullError, nothing kept, the journal parseable', async () => {
    const dir = bed.dir();
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const fs: AtomicFs = {
      ...fsp,
      open: (async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        if (!String(args[0]).endsWith(JOURNAL_FILE)) return handle;
        return Object.assign(handle, { write: () => Promise.reject(enospc()) });
      }) as typeof fsp.open,
    };
    const inbox = await Inbox.open({ dir, fs, judge: bobsJudge() });
    const a = await arriving();
    await expect(reserve(inbox, a.sealed, a.at).commit(a.clip, a.sealed, a.receipt)).rejects.toBeInstanceOf(DiskFullError);
    expect(inbox.get(a.clip.clipId)).toBeUndefined();
    expect(parseJournal(await readFile(join(dir, JOURNAL_FILE)))).toMatchObject({ entries: [], tornBytes: 0 });
    await inbox.close();
  });

  it('refuses an upload after close()', async () => {
    const inbox = await Inbox.open({ dir: bed.dir(), judge: bobsJudge() });
    await inbox.close();
    expect(() => inbox.beginUpload()).toThrow(InboxClosedError);
  });
});
