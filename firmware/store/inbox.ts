// Received clips, kept encrypted at rest: the stored file is the sealed clip as a standard age file
// to this device's own key (`age -d -i <identity>` opens it). Beside it, a small JSON record (who,
// when, the receipt we signed) and, once played, a `.played` marker. Clip and record are written
// atomically and made durable by one directory fsync before the receipt is sent; at open, a record
// whose clip is missing (and was never played) or a clip without a record is a crash in between and
// is swept: no receipt went out, so the sender retries.
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createLog } from '../log.js';
import type { InboundClip } from '../transport/clip-opener.js';
import type { SignedReceipt } from '../transport/receipt.js';
import { isTempName, removeFileDurably, syncDir, writeFileAtomic, type AtomicFs } from './atomic-file.js';

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
  fs?: AtomicFs;
}

export function inboxKey(clipId: string): string {
  return createHash('sha256').update(clipId).digest('hex').slice(0, 32);
}

export class Inbox extends EventEmitter<{ clip: [InboxEntry] }> {
  private readonly byKey = new Map<string, InboxEntry>();
  private readonly bySequence = new Map<string, InboxEntry>();
  private lastPlayed: InboxEntry | undefined;

  private constructor(private readonly opts: Required<Omit<InboxOptions, 'fs'>> & { fs?: AtomicFs }) {
    super();
  }

  static async open(options: InboxOptions): Promise<Inbox> {
    const inbox = new Inbox({
      keepPlayed: 50,
      retainMs: 8 * 24 * 3600_000,
      now: Date.now,
      ...options,
    });
    await inbox.load();
    return inbox;
  }

  private path(key: string, ext: 'clip' | 'json' | 'played'): string {
    return join(this.opts.dir, `${key}.${ext}`);
  }

  private async load(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    const names = new Set(await readdir(this.opts.dir));
    const cutoff = this.opts.now() - this.opts.retainMs;
    for (const name of names) {
      if (isTempName(name)) {
        await removeFileDurably(join(this.opts.dir, name));
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const key = name.slice(0, -5);
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
        // Crash between the two renames and the directory fsync: no receipt went out, the sender retries.
        log.warn('removing uncommitted inbox record', { file: name });
        await this.forget(key);
        continue;
      }
      if (entry.createdAt < cutoff && entry.played) {
        await this.forget(key);
        continue;
      }
      this.index(entry);
    }
    // Clips without a record: a crash between the two writes. The sender got no receipt and will retry.
    for (const name of names) {
      const key = name.replace(/\.(clip|played)$/, '');
      if (key !== name && !this.byKey.has(key) && !isTempName(name)) {
        log.warn('removing uncommitted inbox file', { file: name });
        await removeFileDurably(join(this.opts.dir, name));
      }
    }
    const played = [...this.byKey.values()].filter((e) => e.played && e.hasAudio);
    this.lastPlayed = played.sort((a, b) => a.receivedAt - b.receivedAt).at(-1);
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

  get(clipId: string): InboxEntry | undefined {
    return this.byKey.get(inboxKey(clipId));
  }

  findBySequence(senderKey: string, sequence: number): InboxEntry | undefined {
    return this.bySequence.get(`${senderKey}#${sequence}`);
  }

  /** All records, oldest received first. */
  entries(): InboxEntry[] {
    return [...this.byKey.values()].sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /**
   * Stores a verified clip and its receipt, then emits 'clip'. Throws DiskFullError (nothing kept)
   * when the disk is full. Callers dedupe first; adding a known clip id is a programming error.
   */
  async add(clip: InboundClip, sealed: Uint8Array, receipt: SignedReceipt): Promise<InboxEntry> {
    const key = inboxKey(clip.clipId);
    if (this.byKey.has(key)) throw new Error(`inbox already holds clip ${clip.clipId}`);
    const entry: InboxEntry = {
      clipId: clip.clipId,
      senderKey: clip.senderKey,
      senderName: clip.senderName,
      channel: clip.channel,
      sequence: clip.sequence,
      createdAt: clip.createdAt,
      ...(clip.durationMs !== undefined ? { durationMs: clip.durationMs } : {}),
      key,
      receivedAt: this.opts.now(),
      receipt,
      played: false,
      hasAudio: true,
    };
    const fsOpt = this.opts.fs ? { fs: this.opts.fs } : {};
    const { played: _p, hasAudio: _h, key: _k, ...record } = entry;
    // Both files in parallel, then one directory fsync for both renames: the receipt goes out only
    // after it, and at open a record without its clip (and never played) counts as uncommitted.
    const writes = await Promise.allSettled([
      writeFileAtomic(this.path(key, 'clip'), sealed, { ...fsOpt, syncDir: false }),
      writeFileAtomic(this.path(key, 'json'), JSON.stringify(record), { ...fsOpt, syncDir: false }),
    ]);
    const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    try {
      if (failed) throw failed.reason;
      await syncDir(this.opts.dir, this.opts.fs);
    } catch (err) {
      await removeFileDurably(this.path(key, 'json')).catch(() => undefined);
      await removeFileDurably(this.path(key, 'clip')).catch(() => undefined);
      throw err;
    }
    this.index(entry);
    this.emit('clip', entry);
    return entry;
  }

  /** The oldest clip not yet played: the head of the playback queue. */
  next(): InboxEntry | undefined {
    return this.entries().find((e) => !e.played && e.hasAudio);
  }

  /** The sealed bytes of a stored clip (an age file to this device); open them with the clip module. */
  async read(entry: InboxEntry): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.path(entry.key, 'clip')));
  }

  /** Records that a clip was played (durably, so a restart does not play it again). */
  async markPlayed(clipId: string): Promise<void> {
    const entry = this.get(clipId);
    if (!entry) throw new Error(`inbox has no clip ${clipId}`);
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
    const played = this.entries().filter((e) => e.played && e.hasAudio && e !== this.lastPlayed);
    const excess = played.length - Math.max(0, this.opts.keepPlayed - 1);
    for (const e of played.slice(0, Math.max(0, excess))) {
      await removeFileDurably(this.path(e.key, 'clip'));
      e.hasAudio = false;
    }
    // Records past the replay window: a clip that old is refused as stale before dedupe is asked.
    const cutoff = this.opts.now() - this.opts.retainMs;
    for (const e of [...this.byKey.values()]) {
      if (!e.played || e.createdAt >= cutoff || e === this.lastPlayed) continue;
      await this.forget(e.key);
      this.unindex(e);
    }
  }
}
