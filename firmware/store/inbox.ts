// Received clips, kept encrypted at rest: the stored file is the sealed clip as a standard age file
// to this device's own key (`age -d -i <identity>` opens it). Beside it, a small JSON record (who,
// when, the receipt we signed) and, once played, a `.played` marker.
//
// A new clip is made durable by ONE durable append (O_DSYNC) to the inbox journal (inbox-journal.ts)
// before add() returns and the receipt is sent: one flush instead of two file writes and a
// directory fsync, which on an SD card is the difference between one and two 5-30 ms flushes.
// The clip and record files are then written in the background (atomically, one directory fsync
// for both); until they are, the clip's bytes stay in memory (read() serves them), and playing
// it (markPlayed) waits for them. Once every journalled clip has its files, the journal is emptied.
// At open the journal is replayed first (idempotently: files that already match are left alone),
// then the directory is scanned: a record whose clip is missing (and was never played) or a clip
// without a record is a crash in between and is swept: no receipt went out, so the sender retries.
//
// A live upload is journalled as it arrives (beginUpload(), inbox-upload.ts): its body in pieces
// while the sender talks, its last bytes (the tail) as it ends, just before its checks, so the
// durable write left at the end is small and runs in the thread pool while this thread checks the
// signature and signs the receipt; the receipt still waits for both. Those entries hold only the
// body and its arrival time. If the radio stops before the check's verdict is known, nothing says
// whether it passed, so at open the inbox asks its RecoveryJudge (the receiver's own rules:
// signature, sender, channel, replay window, at the time the clip arrived) and keeps the clip only
// if it passes, with the very receipt it would have sent (Ed25519 signatures are deterministic).
// A refused body is dropped with the journal's next emptying.
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createLog } from '../log.js';
import type { InboundClip } from '../transport/clip-opener.js';
import type { SignedReceipt } from '../transport/receipt.js';
import type { SeenClips } from '../transport/replay-window.js';
import { isTempName, removeFileDurably, syncDir, writeFileAtomic, type AtomicFs } from './atomic-file.js';
import { InboxJournal } from './inbox-journal.js';
import { isUploadRecord, journalledBodies, UploadPieces, type JournalledBody } from './inbox-upload.js';

const log = createLog('inbox');

export interface InboxEntry extends InboundClip {
  /** File-name-safe key derived from clipId. */
  readonly key: string;
  readonly receivedAt: number;
  readonly receipt: SignedReceipt;
  played: boolean;
  /** False once the audio was pruned (old and played); the record stays for dedupe. */
  hasAudio: boolean;
}

export interface InboxOptions {
  dir: string;
  /** Played clips whose audio is kept (for replay and inspection); older ones are pruned. */
  keepPlayed?: number;
  /**
   * Played records older than this (by created-at) are dropped, at open and after each play while
   * running: the replay window no longer needs them, and a radio that runs for months must not keep
   * every record it ever received in memory.
   */
  retainMs?: number;
  now?: () => number;
  /** Also the journal's open, so a test's full disk reaches the journal too. */
  fs?: AtomicFs;
  /** How long close() waits for clips still being written to their files (the journal keeps them anyway). */
  closeTimeoutMs?: number;
  /**
   * Tests only: do not write journalled clips to their files in the background (markPlayed, close
   * and open still do), so a test can stop the process inside that window.
   */
  holdMaterialisation?: boolean;
  /**
   * Decides on live uploads journalled to their end whose verdict a stop cut off. Without it
   * they stay in the journal, untouched, for an open that has one.
   */
  judge?: RecoveryJudge;
}

/** A clip kept at open, with its stored form and the receipt it would have had; or why it is not kept. */
export type RecoveryVerdict =
  | { readonly clip: InboundClip; readonly stored: Uint8Array; readonly receipt: SignedReceipt }
  | { readonly refused: string };

/** Checks an upload's body again as the receiver would have when it arrived (at `receivedAt`). */
export type RecoveryJudge = (body: Uint8Array, receivedAt: number, seen: SeenClips<InboxEntry>) => Promise<RecoveryVerdict>;

/** A live upload, journalled as it arrives (see the top of this file). */
export interface LiveUpload {
  /** The next body bytes, as received (kept, not copied). */
  push(bytes: Uint8Array): void;
  /** The body ended and its check starts: the tail's durable write is issued (see InboxReservation). */
  reserve(receivedAt: number): InboxReservation;
  /** The upload was cut off or refused before its end: nothing more is written for it. */
  abandon(): void;
}

/** An upload journalled to its end while its checks run: commit() once they pass, release() otherwise. */
export interface InboxReservation {
  /** The arrival time the journal holds: the receipt's `at` and the replay check's clock. */
  readonly receivedAt: number;
  /** Stores the checked clip (`stored`: its age file) under its receipt once the journal holds all of it (like add()). */
  commit(clip: InboundClip, stored: Uint8Array, receipt: SignedReceipt): Promise<InboxEntry>;
  /** The clip is refused: its journal entries go with the next emptying (and it is refused again if a stop comes first). */
  release(): void;
}

/**
 * How long after add() a clip's own files are written: the journal already holds it durably, and
 * the write-out (two files, three fsyncs, ~0.5 ms of this thread) would otherwise run while the
 * receipt crosses this radio's tor and the clip starts to play.
 */
export const WRITE_OUT_DELAY_MS = 200;

/** The inbox's journal file name, inside the inbox directory. */
export const JOURNAL_FILE = 'journal';

/** add() after close(). */
export class InboxClosedError extends Error {
  override readonly name = 'InboxClosedError';
  constructor(readonly dir: string) {
    super(`inbox ${dir} is closed: no more clips can be stored`);
  }
}

/** What <key>.json holds (and the journal's record): the entry without its derived fields. */
type StoredRecord = Omit<InboxEntry, 'key' | 'played' | 'hasAudio'>;

function entryFor(clip: InboundClip, receivedAt: number, receipt: SignedReceipt): InboxEntry {
  return {
    clipId: clip.clipId,
    senderKey: clip.senderKey,
    senderName: clip.senderName,
    channel: clip.channel,
    sequence: clip.sequence,
    createdAt: clip.createdAt,
    ...(clip.durationMs !== undefined ? { durationMs: clip.durationMs } : {}),
    key: inboxKey(clip.clipId),
    receivedAt,
    receipt,
    played: false,
    hasAudio: true,
  };
}

function recordOf(entry: InboxEntry): StoredRecord {
  const { played: _p, hasAudio: _h, key: _k, ...record } = entry;
  return record;
}

/** A journalled clip whose own files are not written yet: its bytes stay in memory until they are. */
interface Unwritten {
  readonly entry: InboxEntry;
  readonly record: StoredRecord;
  readonly sealed: Uint8Array;
  /** False while its journal append is in flight: not durable yet, so not to be written out. */
  journaled: boolean;
  /** Replayed from the journal at open: its files may exist already; only missing or differing ones are written. */
  readonly recovered: boolean;
}

/**
 * Oldest received first. Clips received in the same millisecond go by created-at, then sequence,
 * then id: otherwise their order (and so which plays next) would follow the order they were
 * indexed in, which a restart changes.
 */
function byArrival(a: InboxEntry, b: InboxEntry): number {
  return a.receivedAt - b.receivedAt || a.createdAt - b.createdAt || a.sequence - b.sequence || (a.clipId < b.clipId ? -1 : a.clipId > b.clipId ? 1 : 0);
}

export function inboxKey(clipId: string): string {
  return createHash('sha256').update(clipId).digest('hex').slice(0, 32);
}

export class Inbox extends EventEmitter<{ clip: [InboxEntry] }> {
  private readonly byKey = new Map<string, InboxEntry>();
  private readonly bySequence = new Map<string, InboxEntry>();
  private lastPlayed: InboxEntry | undefined;
  private readonly unwritten = new Map<string, Unwritten>();
  /** Keys whose entries the journal file still holds: removing their files waits (a replay would restore them). */
  private readonly inJournal = new Set<string>();
  private materialising: Promise<void> | undefined;
  private writeOutTimer: NodeJS.Timeout | undefined;
  private rerun = false;
  private lastFailure: unknown;
  private closing: Promise<void> | undefined;
  /** Live uploads neither committed, released nor abandoned: their entries are in (or on their way to) the journal. */
  private openUploads = 0;
  /** Uploads journalled to their end found at open, not yet judged. */
  private unjudged: JournalledBody[] = [];

  private constructor(
    private readonly opts: Required<Omit<InboxOptions, 'fs' | 'judge'>> & Pick<InboxOptions, 'fs' | 'judge'>,
    private readonly journal: InboxJournal,
  ) {
    super();
  }

  static async open(options: InboxOptions): Promise<Inbox> {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const journal = await InboxJournal.open(join(options.dir, JOURNAL_FILE), options.fs);
    const inbox = new Inbox({
      keepPlayed: 50,
      retainMs: 8 * 24 * 3600_000,
      now: Date.now,
      closeTimeoutMs: 5_000,
      holdMaterialisation: false,
      ...options,
    }, journal);
    try {
      // Journal first: the directory scan's sweeping rules must see the replayed files.
      inbox.recover();
      await inbox.materialise();
      await inbox.load();
      // After the scan: the judge's dedupe and replay checks need every clip the inbox holds.
      if (await inbox.judgeReserved()) await inbox.materialise();
    } catch (err) {
      await journal.close().catch(() => undefined);
      throw err;
    }
    return inbox;
  }

  /** Takes the journal's entries as unwritten clips; materialise() then writes what is missing. */
  private recover(): void {
    const { bodies, broken } = journalledBodies(this.journal.recovered);
    if (broken > 0) log.error('inbox journal uploads with pieces missing, ignored', { path: this.journal.path, uploads: broken });
    this.unjudged = bodies;
    for (const { record, sealed } of this.journal.recovered) {
      if (isUploadRecord(record)) continue;
      const r = record as StoredRecord | null;
      if (typeof r?.clipId !== 'string') {
        // Checksummed, so written by us; only a bug could get here. The next clear drops it.
        log.error('inbox journal entry without a clip id, ignored', { path: this.journal.path });
        continue;
      }
      const key = inboxKey(r.clipId);
      this.unwritten.set(key, { entry: { ...r, key, played: false, hasAudio: true }, record: r, sealed, journaled: true, recovered: true });
      this.inJournal.add(key);
    }
  }

  /**
   * Puts each upload the journal holds to its end to the judge, oldest first, and keeps (as a
   * journalled clip still to be written out) each one it passes. True when any was decided: a
   * write-out pass then writes what was kept and can empty the journal.
   */
  private async judgeReserved(): Promise<boolean> {
    if (this.unjudged.length === 0) return false;
    const judge = this.opts.judge;
    if (!judge) {
      log.warn('the inbox journal holds clips received before their checks finished; kept there until an open can check them', {
        dir: this.opts.dir, clips: this.unjudged.length,
      });
      return false;
    }
    const undecided: typeof this.unjudged = [];
    for (const reserved of this.unjudged) {
      const { bytes, receivedAt } = reserved;
      let verdict: RecoveryVerdict;
      try {
        verdict = await judge(bytes, receivedAt, this.seen);
      } catch (err) {
        // A judge that throws has no verdict (a bug): the entry stays, and keeps the journal from being emptied.
        log.error('could not judge a clip journalled before its checks finished; it stays in the journal', { dir: this.opts.dir, err });
        undecided.push(reserved);
        continue;
      }
      if ('refused' in verdict) {
        log.info('a clip journalled before its checks finished is refused on a second look; dropped', { dir: this.opts.dir, reason: verdict.refused });
        continue;
      }
      const entry = entryFor(verdict.clip, receivedAt, verdict.receipt);
      // Its files may exist already (a write-out before the stop): then the scan has indexed it.
      if (this.byKey.has(entry.key)) continue;
      this.unwritten.set(entry.key, { entry, record: recordOf(entry), sealed: verdict.stored, journaled: true, recovered: true });
      this.inJournal.add(entry.key);
      this.index(entry);
    }
    const decided = this.unjudged.length > undecided.length;
    this.unjudged = undecided;
    return decided;
  }

  private path(key: string, ext: 'clip' | 'json' | 'played'): string {
    return join(this.opts.dir, `${key}.${ext}`);
  }

  private async load(): Promise<void> {
    const names = new Set(await readdir(this.opts.dir));
    const cutoff = this.opts.now() - this.opts.retainMs;
    // Journalled clips whose files could not be written (a full disk): served from memory, their
    // partial files left alone, retried at the next add.
    for (const { entry } of this.unwritten.values()) {
      entry.played = names.has(`${entry.key}.played`);
      this.index(entry);
    }
    for (const name of names) {
      if (isTempName(name)) {
        await removeFileDurably(join(this.opts.dir, name));
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const key = name.slice(0, -5);
      if (this.unwritten.has(key)) continue;
      let entry: InboxEntry;
      try {
        const record = JSON.parse(await readFile(join(this.opts.dir, name), 'utf8')) as InboxEntry;
        entry = { ...record, key, played: names.has(`${key}.played`), hasAudio: names.has(`${key}.clip`) };
      } catch (err) {
        // Cannot happen through writeFileAtomic; if the card was edited by hand, keep the files for a human.
        log.error('unreadable inbox record, ignored', { file: name, err });
        continue;
      }
      if (!entry.hasAudio && !entry.played) {
        // Left by a crash between the two renames and the directory fsync of the store before the
        // journal (now a replay restores both files): no receipt went out, the sender retries.
        log.warn('removing uncommitted inbox record', { file: name });
        await this.forget(key);
        continue;
      }
      if (entry.createdAt < cutoff && entry.played && !this.inJournal.has(key)) {
        await this.forget(key);
        continue;
      }
      this.index(entry);
    }
    // Clips without a record: a crash between the two writes (before the journal, or a stray
    // marker). The sender got no receipt and will retry.
    for (const name of names) {
      const key = name.replace(/\.(clip|played)$/, '');
      if (key !== name && !this.byKey.has(key) && !isTempName(name)) {
        log.warn('removing uncommitted inbox file', { file: name });
        await removeFileDurably(join(this.opts.dir, name));
      }
    }
    const played = [...this.byKey.values()].filter((e) => e.played && e.hasAudio);
    this.lastPlayed = played.sort(byArrival).at(-1);
  }

  private index(entry: InboxEntry): void {
    this.byKey.set(entry.key, entry);
    this.bySequence.set(`${entry.senderKey}#${entry.sequence}`, entry);
  }

  private async forget(key: string): Promise<void> {
    for (const ext of ['played', 'clip', 'json'] as const) await removeFileDurably(this.path(key, ext));
  }

  private unindex(entry: InboxEntry): void {
    this.byKey.delete(entry.key);
    if (this.bySequence.get(`${entry.senderKey}#${entry.sequence}`) === entry) this.bySequence.delete(`${entry.senderKey}#${entry.sequence}`);
  }

  /** The clips held, as the replay window asks about them (receiver and judge alike). */
  readonly seen: SeenClips<InboxEntry> = {
    byClipId: (clipId) => this.get(clipId),
    bySequence: (senderKey, sequence) => this.findBySequence(senderKey, sequence),
  };

  get(clipId: string): InboxEntry | undefined {
    return this.byKey.get(inboxKey(clipId));
  }

  findBySequence(senderKey: string, sequence: number): InboxEntry | undefined {
    return this.bySequence.get(`${senderKey}#${sequence}`);
  }

  /** All records, oldest received first (byArrival). */
  entries(): InboxEntry[] {
    return [...this.byKey.values()].sort(byArrival);
  }

  /**
   * Stores a verified clip and its receipt, then emits 'clip'. Throws DiskFullError (nothing kept)
   * when the disk is full. Callers dedupe first; adding a known clip id is a programming error.
   */
  add(clip: InboundClip, sealed: Uint8Array, receipt: SignedReceipt): Promise<InboxEntry> {
    return this.keep(entryFor(clip, this.opts.now(), receipt), sealed, (record) => this.journal.append(record, sealed));
  }

  /** Starts journalling a live upload as it arrives (see LiveUpload). Throws InboxClosedError after close(). */
  beginUpload(): LiveUpload {
    if (this.closing) throw new InboxClosedError(this.opts.dir);
    const pieces = new UploadPieces(this.journal);
    this.openUploads++;
    let open = true;
    const settle = () => {
      if (open) this.openUploads--;
      open = false;
    };
    let reserved = false;
    return {
      push: (bytes) => pieces.push(bytes),
      reserve: (receivedAt) => {
        if (reserved || !open) throw new Error('LiveUpload.reserve after reserve() or abandon()');
        reserved = true;
        const written = pieces.end(receivedAt);
        written.catch(() => undefined); // a release() never looks; a commit() gets the failure
        return {
          receivedAt,
          commit: (clip, stored, receipt) => {
            if (!open) return Promise.reject(new Error(`inbox reservation for clip ${clip.clipId} was already settled`));
            // keep() puts the clip in `unwritten` before it first waits, so the journal stays unemptied.
            const kept = this.keep(entryFor(clip, receivedAt, receipt), stored, () => written);
            settle();
            return kept;
          },
          release: settle,
        };
      },
      abandon: () => {
        if (reserved) return; // the reservation settles it
        pieces.stop();
        settle();
      },
    };
  }

  /** add() and commit(): index the entry once `journalled` (its journal write) resolves. */
  private async keep(entry: InboxEntry, sealed: Uint8Array, journalled: (record: StoredRecord) => Promise<void>): Promise<InboxEntry> {
    if (this.closing) throw new InboxClosedError(this.opts.dir);
    const key = entry.key;
    if (this.byKey.has(key) || this.unwritten.has(key)) throw new Error(`inbox already holds clip ${entry.clipId}`);
    const record = recordOf(entry);
    // In `unwritten` before the append so the journal is not emptied while it is in flight.
    const unwritten: Unwritten = { entry, record, sealed, journaled: false, recovered: false };
    this.unwritten.set(key, unwritten);
    this.inJournal.add(key);
    try {
      // The receipt goes out only after this: one durable append.
      await journalled(record);
    } catch (err) {
      this.unwritten.delete(key);
      this.inJournal.delete(key);
      throw err;
    }
    unwritten.journaled = true;
    this.index(entry);
    // Well after the caller's reply (WRITE_OUT_DELAY_MS); one write-out for the clips that came meanwhile.
    if (!this.opts.holdMaterialisation) {
      this.writeOutTimer ??= setTimeout(() => {
        this.writeOutTimer = undefined;
        void this.materialise();
      }, WRITE_OUT_DELAY_MS);
    }
    this.emit('clip', entry);
    return entry;
  }

  /**
   * Writes every journalled clip still only in the journal to its own files and empties the
   * journal once none is left. Resolves true when nothing is left unwritten; false after a failure
   * (logged; the journal and memory keep the clips, and the next add, markPlayed, close or open retries).
   */
  async flush(): Promise<boolean> {
    await this.materialise();
    return this.unwritten.size === 0;
  }

  /** Runs write-out passes until nothing new arrived during the last one; one run at a time. Never rejects. */
  private materialise(): Promise<void> {
    if (this.materialising) {
      this.rerun = true;
      return this.materialising;
    }
    const run = async () => {
      try {
        for (;;) {
          this.rerun = false;
          const ok = await this.writeOut().catch((err: unknown) => {
            this.lastFailure = err;
            log.error('inbox write-out failed unexpectedly', { dir: this.opts.dir, err });
            return false;
          });
          // Stop on failure rather than spin on a full disk; the next add or open retries.
          if (!ok || !this.rerun) return;
        }
      } finally {
        // Synchronously after the last rerun check: a caller arriving later starts a new run.
        this.materialising = undefined;
      }
    };
    this.materialising = run();
    return this.materialising;
  }

  /** One pass: every journalled unwritten clip to its files, one directory fsync, then maybe empty the journal. */
  private async writeOut(): Promise<boolean> {
    const batch = [...this.unwritten.values()].filter((u) => u.journaled);
    if (batch.length > 0) {
      const results = await Promise.allSettled(batch.map((u) => this.writeFiles(u)));
      // Clips whose files were written count as written after the directory fsync, even if another
      // clip's failed: one bad clip must not keep the others from playing.
      const done = batch.filter((_, i) => results[i]!.status === 'fulfilled');
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      let err: unknown = failed?.reason;
      if (done.length > 0) {
        try {
          await syncDir(this.opts.dir, this.opts.fs);
          for (const u of done) if (this.unwritten.get(u.entry.key) === u) this.unwritten.delete(u.entry.key);
        } catch (syncErr) {
          err ??= syncErr;
        }
      }
      if (err !== undefined) {
        this.lastFailure = err;
        log.warn('received clips are not in their own files yet; the journal keeps them and the next clip or open retries', {
          dir: this.opts.dir, clips: batch.filter((u) => this.unwritten.has(u.entry.key)).map((u) => u.entry.clipId), err,
        });
        return false;
      }
    }
    this.lastFailure = undefined;
    // Nothing unwritten, no append in flight (its clip would be in `unwritten`), no live upload
    // still arriving or awaiting its verdict, and none left to judge: the journal's entries all
    // have their files or were refused. An append queued after this clear runs after it.
    if (this.unwritten.size === 0 && this.openUploads === 0 && this.unjudged.length === 0 && this.journal.size > 0) {
      const cleared = [...this.inJournal];
      try {
        await this.journal.clear();
        for (const key of cleared) this.inJournal.delete(key);
      } catch (err) {
        log.warn('could not empty the inbox journal; its entries are replayed (harmlessly) at the next open', { err });
      }
    }
    return true;
  }

  /** The clip and record files of one journalled clip (atomic each; the caller fsyncs the directory). */
  private async writeFiles(u: Unwritten): Promise<void> {
    const json = Buffer.from(JSON.stringify(u.record), 'utf8');
    const files: [string, Uint8Array][] = [
      [this.path(u.entry.key, 'clip'), u.sealed],
      [this.path(u.entry.key, 'json'), json],
    ];
    const fsOpt = this.opts.fs ? { fs: this.opts.fs } : {};
    const writes = await Promise.allSettled(
      files.map(async ([path, data]) => {
        // A replay after a crash that came after the write-out: leave matching files alone.
        if (u.recovered && (await sameContent(path, data))) return;
        await writeFileAtomic(path, data, { ...fsOpt, syncDir: false });
      }),
    );
    const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Waits until this clip is in its own files (writing them now if needed); throws the write-out's error if it cannot be. */
  private async written(key: string): Promise<void> {
    if (!this.unwritten.has(key)) return;
    await this.materialise();
    if (this.unwritten.has(key)) {
      throw this.lastFailure ?? new Error(`inbox clip ${this.unwritten.get(key)?.entry.clipId} is not in its files yet`);
    }
  }

  /**
   * Waits (at most closeTimeoutMs) for clips still being written to their files, then closes the
   * journal. Whatever is still unwritten stays in the journal and is written at the next open.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.writeOutTimer); // written out below, now
      this.writeOutTimer = undefined;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.opts.closeTimeoutMs);
      });
      try {
        const outcome = await Promise.race([this.materialise().then(() => 'done' as const), deadline]);
        if (this.unwritten.size > 0) {
          log.warn('closing the inbox with clips not yet in their files; the journal keeps them for the next open', {
            dir: this.opts.dir, clips: this.unwritten.size, timedOut: outcome === 'timeout',
          });
        }
        const closed = this.journal.close().catch((err: unknown) => log.warn('could not close the inbox journal', { err }));
        // A hung disk must not hang the radio's shutdown: past the deadline the close finishes on its own.
        if (outcome === 'done') await Promise.race([closed, deadline]);
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.closing;
  }

  /** The oldest clip not yet played: the head of the playback queue. */
  next(): InboxEntry | undefined {
    return this.entries().find((e) => !e.played && e.hasAudio);
  }

  /** The sealed bytes of a stored clip (an age file to this device); open them with the clip module. */
  async read(entry: InboxEntry): Promise<Uint8Array> {
    // Not yet in its file: straight from memory, so playback need not wait for the write-out.
    const unwritten = this.unwritten.get(entry.key);
    if (unwritten) return unwritten.sealed;
    return new Uint8Array(await readFile(this.path(entry.key, 'clip')));
  }

  /** Records that a clip was played (durably, so a restart does not play it again). */
  async markPlayed(clipId: string): Promise<void> {
    const entry = this.get(clipId);
    if (!entry) throw new Error(`inbox has no clip ${clipId}`);
    // A .played marker must not land before the files it marks (nor race their write).
    await this.written(entry.key);
    if (!entry.played) {
      await writeFileAtomic(this.path(entry.key, 'played'), '', this.opts.fs ? { fs: this.opts.fs } : {});
      entry.played = true;
    }
    this.lastPlayed = entry;
    await this.prune();
  }

  /** The clip a double press replays: the last one played. */
  last(): InboxEntry | undefined {
    return this.lastPlayed;
  }

  private async prune(): Promise<void> {
    // Entries the journal still holds are left for a later prune: a replay would bring their files back.
    const played = this.entries().filter((e) => e.played && e.hasAudio && e !== this.lastPlayed && !this.inJournal.has(e.key));
    const excess = played.length - Math.max(0, this.opts.keepPlayed - 1);
    for (const e of played.slice(0, Math.max(0, excess))) {
      await removeFileDurably(this.path(e.key, 'clip'));
      e.hasAudio = false;
    }
    // Records past the replay window: a clip that old is refused as stale before dedupe is asked.
    const cutoff = this.opts.now() - this.opts.retainMs;
    for (const e of [...this.byKey.values()]) {
      if (!e.played || e.createdAt >= cutoff || e === this.lastPlayed || this.inJournal.has(e.key)) continue;
      await this.forget(e.key);
      this.unindex(e);
    }
  }
}

/** True when `path` exists with exactly `data` in it. */
async function sameContent(path: string, data: Uint8Array): Promise<boolean> {
  try {
    return Buffer.from(data.buffer, data.byteOffset, data.length).equals(await readFile(path));
  } catch {
    return false;
  }
}
