// The outbox: every sealed clip is written here (atomically, fsync'd; a held one see below)
// before its first send attempt, one file per (clip, recipient), and stays until that recipient's
// signed receipt comes back or it expires. Failed attempts are retried with exponential backoff
// and jitter, one delivery at a time per recipient so clips arrive in order. A SIGKILL at any
// moment loses nothing: on restart the files are re-read and retried, and the receiver's dedupe by
// clip id turns a retry of an already-delivered clip into "here is your receipt again".
//
// A held clip (a live upload is delivering it as the user releases) is in the outbox from the
// moment enqueue() is called, but its file is written only heldWriteDelayMs (50 ms) later, or at
// once if that upload fails: the release burst and the receipt's round trip get the CPU and the
// disk first (on a one-core Zero W the radio's own tor forwards the last bytes while the firmware
// would be writing; two radios sharing one machine flushed each other's writes). A receipt within
// that moment means the file is never written at all. Once written it is fsync'd only when the
// upload fails, when it has no receipt after heldSyncMs, or at stop(); usually the receipt comes
// first and the file is unlinked before the kernel ever wrote it: no fsyncs on the SD card for a
// clip delivered live. A SIGKILL within heldWriteDelayMs of release, or a power cut within
// heldSyncMs, loses the clip if the upload did not get through either: the same exposure as the
// last moments (or seconds) of talk before the release, which live only in RAM. Items found at
// open are fsync'd in the background: a SIGKILL may have left held ones in the page cache only.
// No attempt starts on an item whose file is not written yet.
//
// Files, for item id I (a hash of clip id and recipient):
//   I.item   one JSON line {clipId, recipient, createdAt, expiresAt}, then the sealed bytes
//   I.state  {attempts, nextAttemptAt, lastError} — rewritten after each failed attempt; optional
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createLog } from '../log.js';
import type { Delivered, Recipient } from '../transport/sender.js';
import { isTempName, makeDurable, removeFileDurably, writeFileAtomic, type AtomicFs } from './atomic-file.js';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js';

const log = createLog('outbox');

export interface OutboxItem {
  readonly id: string;
  readonly clipId: string;
  readonly recipient: Recipient;
  readonly createdAt: number;
  readonly expiresAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
  /** A streaming upload owns this delivery for now (not persisted: after a crash it is retried). */
  held: boolean;
}

/** Sends one clip to one recipient; throws (ideally a DeliveryError with `retryable`) on failure. */
export type Deliver = (item: OutboxItem, sealed: Uint8Array) => Promise<Delivered>;

export interface OutboxEvents {
  queued: [OutboxItem];
  delivered: [OutboxItem, Delivered];
  retry: [OutboxItem, Error];
  failed: [OutboxItem, string];
}

export interface OutboxOptions {
  dir: string;
  deliver: Deliver;
  /** How long a clip is retried before it is dropped (7 days by default). */
  expiryMs?: number;
  backoff?: BackoffPolicy;
  now?: () => number;
  random?: () => number;
  fs?: AtomicFs;
  /** How long a held clip may go without fsync while its live upload runs (2 s by default). */
  heldSyncMs?: number;
  /** How long a held clip waits before its file is written, unless its upload fails first (50 ms by default). */
  heldWriteDelayMs?: number;
}

/** The outbox files could not be read back (hand-edited or damaged card); the item is skipped. */
export class OutboxCorruptError extends Error {
  override readonly name = 'OutboxCorruptError';
  constructor(readonly file: string, detail: string) {
    super(`outbox file ${file} is damaged: ${detail}`);
  }
}

export const DEFAULT_EXPIRY_MS = 7 * 24 * 3600_000;
export const DEFAULT_HELD_SYNC_MS = 2000;
export const DEFAULT_HELD_WRITE_DELAY_MS = 50;

export function outboxItemId(clipId: string, recipient: Recipient): string {
  return createHash('sha256').update(`${clipId}\n${recipient.host}`).digest('hex').slice(0, 32);
}

export class Outbox extends EventEmitter<OutboxEvents> {
  private readonly items = new Map<string, OutboxItem>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly busyRecipients = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Held items written without fsync: the timer that makes each durable if no receipt comes first. */
  private readonly unsynced = new Map<string, NodeJS.Timeout>();
  /**
   * Items whose file enqueue() has still to write: each promise settles, never rejecting, with
   * whether the file exists now (false: delivered before it was written, or the write failed).
   */
  private readonly writing = new Map<string, Promise<boolean>>();
  /** Held items waiting out heldWriteDelayMs: calling one ends the wait now. */
  private readonly heldWaits = new Map<string, () => void>();
  /** fsyncs under way (makeDurable), so stop() can wait for them. */
  private readonly syncing = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly random: () => number;
  /** Files that could not be parsed at open, left in place for a person to inspect. */
  readonly corrupt: OutboxCorruptError[] = [];

  private constructor(private readonly opts: OutboxOptions) {
    super();
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  static async open(options: OutboxOptions): Promise<Outbox> {
    const outbox = new Outbox(options);
    await outbox.load();
    return outbox;
  }

  private file(id: string, ext: 'item' | 'state'): string {
    return join(this.opts.dir, `${id}.${ext}`);
  }

  private get fsOpt(): { fs?: AtomicFs } {
    return this.opts.fs ? { fs: this.opts.fs } : {};
  }

  private async load(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    const names = await readdir(this.opts.dir);
    for (const name of names) {
      // Leftovers of a write that a crash interrupted: the rename never happened, so nothing refers to them.
      if (isTempName(name)) await removeFileDurably(join(this.opts.dir, name));
    }
    for (const name of names.filter((n) => n.endsWith('.item'))) {
      const id = name.slice(0, -5);
      try {
        const { header } = await this.readItem(id);
        let state: Partial<OutboxItem> = {};
        if (names.includes(`${id}.state`)) {
          state = JSON.parse(await readFile(this.file(id, 'state'), 'utf8')) as Partial<OutboxItem>;
        }
        this.items.set(id, {
          id,
          ...header,
          attempts: state.attempts ?? 0,
          nextAttemptAt: state.nextAttemptAt ?? 0,
          ...(state.lastError ? { lastError: state.lastError } : {}),
          held: false,
        });
        // Possibly one a SIGKILL left unsynced (held at release): in the page cache, not yet on the card.
        this.unsynced.set(id, setTimeout(() => this.sync(id), 0).unref());
      } catch (err) {
        const e = err instanceof OutboxCorruptError ? err : new OutboxCorruptError(name, String(err));
        log.error('skipping damaged outbox item', { file: name, err: e });
        this.corrupt.push(e);
      }
    }
    // A state file whose item is gone: the delivery finished and the crash came between the two unlinks.
    for (const name of names.filter((n) => n.endsWith('.state'))) {
      if (!this.items.has(name.slice(0, -6))) await removeFileDurably(join(this.opts.dir, name));
    }
    if (this.items.size > 0) log.info('outbox reopened', { pending: this.items.size });
  }

  private async readItem(id: string): Promise<{ header: Omit<OutboxItem, 'id' | 'attempts' | 'nextAttemptAt' | 'held'>; sealed: Uint8Array }> {
    const bytes = await readFile(this.file(id, 'item'));
    const newline = bytes.indexOf(0x0a);
    if (newline < 0) throw new OutboxCorruptError(`${id}.item`, 'no header line');
    let header: Omit<OutboxItem, 'id' | 'attempts' | 'nextAttemptAt' | 'held'>;
    try {
      header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as typeof header;
    } catch {
      throw new OutboxCorruptError(`${id}.item`, 'header is not JSON');
    }
    if (typeof header.clipId !== 'string' || typeof header.recipient?.host !== 'string' || typeof header.expiresAt !== 'number') {
      throw new OutboxCorruptError(`${id}.item`, 'header fields missing');
    }
    return { header, sealed: new Uint8Array(bytes.buffer, bytes.byteOffset + newline + 1, bytes.length - newline - 1) };
  }

  /**
   * Persists `sealed` for each recipient (durably, before returning) and schedules delivery.
   * With `hold`, no attempt starts until release() — a streaming upload is already delivering it —
   * the file is written after heldWriteDelayMs unless that upload delivered it first, and fsync'd
   * only if it does not end in a receipt soon (see the top). `sealed` may be a function that builds
   * the bytes: it is called only when a file is written.
   * Enqueuing a clip that is already queued for a recipient is a no-op. Throws DiskFullError.
   */
  async enqueue(clip: { clipId: string; sealed: Uint8Array | (() => Uint8Array) }, recipients: readonly Recipient[], options: { hold?: boolean } = {}): Promise<OutboxItem[]> {
    const held = options.hold === true;
    const created: OutboxItem[] = [];
    const writes: { item: OutboxItem; written: Promise<boolean> }[] = [];
    // Every item is registered before the first await: markDelivered() finds it while it waits or is written.
    for (const recipient of recipients) {
      const id = outboxItemId(clip.clipId, recipient);
      const existing = this.items.get(id);
      if (existing) {
        created.push(existing);
        continue;
      }
      const createdAt = this.now();
      const header = { clipId: clip.clipId, recipient, createdAt, expiresAt: createdAt + (this.opts.expiryMs ?? DEFAULT_EXPIRY_MS) };
      const item: OutboxItem = { id, ...header, attempts: 0, nextAttemptAt: createdAt, held };
      const write = async () => {
        const line = Buffer.from(JSON.stringify(header) + '\n', 'utf8');
        const sealed = typeof clip.sealed === 'function' ? clip.sealed() : clip.sealed;
        await writeFileAtomic(this.file(id, 'item'), Buffer.concat([line, sealed]), { ...this.fsOpt, sync: !held });
        return true;
      };
      // A held item delivered while it waits is never written.
      const written = held ? this.heldWait(id).then(() => (this.items.get(id) === item ? write() : false)) : write();
      this.writing.set(id, written.catch(() => false));
      this.items.set(id, item);
      writes.push({ item, written });
      created.push(item);
      this.emit('queued', item);
    }
    let failure: unknown;
    for (const { item, written } of writes) {
      try {
        await written;
      } catch (err) {
        // Delivered while it was written: it needs no copy. Otherwise it is not in the outbox.
        if (this.items.get(item.id) === item) {
          this.items.delete(item.id);
          failure ??= err;
        }
        continue;
      } finally {
        this.writing.delete(item.id);
      }
      if (this.items.get(item.id) !== item) continue; // delivered while written: finish() removes the file
      log.info('clip queued', { clipId: clip.clipId, to: item.recipient.name, held: item.held });
      if (!held) continue;
      // unref: a process that exits meanwhile keeps the file anyway (the page cache outlives it).
      this.unsynced.set(item.id, setTimeout(() => this.sync(item.id), this.opts.heldSyncMs ?? DEFAULT_HELD_SYNC_MS).unref());
      // Its live upload failed while the file was written (release()): durable now.
      if (!item.held) this.sync(item.id);
    }
    if (failure !== undefined) throw failure;
    this.schedule();
    return created;
  }

  /** Resolves after heldWriteDelayMs, or as soon as the wait is ended (writeNow). */
  private heldWait(id: string): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.heldWaits.delete(id);
        resolve();
      };
      const timer = setTimeout(end, this.opts.heldWriteDelayMs ?? DEFAULT_HELD_WRITE_DELAY_MS);
      this.heldWaits.set(id, end);
    });
  }

  /** A held item's write starts now (its upload failed, the outbox stops) or, if it was delivered, is skipped now. */
  private writeNow(id: string): void {
    this.heldWaits.get(id)?.();
  }

  /** Items still waiting for a receipt, oldest first. */
  pending(): OutboxItem[] {
    return [...this.items.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The streaming upload got a verified receipt: the queued copy is done. */
  async markDelivered(clipId: string, recipient: Recipient, delivered: Delivered): Promise<void> {
    const item = this.items.get(outboxItemId(clipId, recipient));
    if (item) await this.finish(item, delivered);
  }

  /** The streaming upload failed: let the outbox retry this delivery now. */
  release(clipId: string, recipient: Recipient): void {
    const id = outboxItemId(clipId, recipient);
    const item = this.items.get(id);
    if (!item) return;
    item.held = false;
    // From here the outbox alone carries the clip: it must survive a power cut now.
    this.writeNow(id);
    this.sync(id);
    this.schedule();
  }

  /** Retry everything now (tor just came back): resets the backoff wait, not the attempt count. */
  kick(): void {
    for (const item of this.items.values()) item.nextAttemptAt = Math.min(item.nextAttemptAt, this.now());
    this.schedule();
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  /** Stops scheduling; resolves when attempts already in flight have settled and every clip is fsync'd. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    // Files still to be written first (now): enqueue() marks each unsynced when it is done.
    for (const id of [...this.heldWaits.keys()]) this.writeNow(id);
    while (this.writing.size > 0) await Promise.all(this.writing.values());
    for (const id of [...this.unsynced.keys()]) this.sync(id);
    await Promise.allSettled([...this.inFlight.values(), ...this.syncing]);
  }

  /** Makes a held item's file durable (once; a no-op if it already is or is gone). */
  private sync(id: string): void {
    if (!this.forgetUnsynced(id)) return;
    const done = makeDurable(this.file(id, 'item'), this.opts.fs)
      .catch((err: unknown) => {
        // Delivered meanwhile (unlinked): nothing to keep. Otherwise the copy is still in the page
        // cache and sent from there; only a power cut could lose it now.
        if ((err as { code?: unknown }).code !== 'ENOENT') log.error('could not fsync an outbox clip', { id, err });
      })
      .finally(() => this.syncing.delete(done));
    this.syncing.add(done);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    const now = this.now();
    let wake = Infinity;
    for (const item of this.pending()) {
      if (item.held || this.inFlight.has(item.id) || this.writing.has(item.id)) continue;
      if (item.expiresAt <= now) {
        void this.expire(item);
        continue;
      }
      if (this.busyRecipients.has(item.recipient.host)) continue;
      if (item.nextAttemptAt <= now) {
        this.attempt(item);
        continue;
      }
      wake = Math.min(wake, item.nextAttemptAt, item.expiresAt);
    }
    if (wake !== Infinity) this.timer = setTimeout(() => this.schedule(), Math.min(wake - now, 2 ** 31 - 1));
  }

  private attempt(item: OutboxItem): void {
    this.busyRecipients.add(item.recipient.host);
    const run = (async () => {
      try {
        const { sealed } = await this.readItem(item.id);
        const delivered = await this.opts.deliver(item, sealed);
        await this.finish(item, delivered);
      } catch (err) {
        await this.failed(item, err instanceof Error ? err : new Error(String(err)));
      }
    })().finally(() => {
      this.inFlight.delete(item.id);
      this.busyRecipients.delete(item.recipient.host);
      this.schedule();
    });
    this.inFlight.set(item.id, run);
  }

  private async finish(item: OutboxItem, delivered: Delivered): Promise<void> {
    if (!this.items.delete(item.id)) return;
    // Said first, persisted after: the receipt already proves delivery, and the two fsync'd removals
    // (4-5 ms here, more on an SD card) would otherwise sit in release-to-delivered. A power cut
    // in between leaves the item on disk; it is sent again and the receiver answers it as a
    // duplicate with its original receipt, playing nothing twice.
    log.info('clip delivered', { clipId: item.clipId, to: item.recipient.name, attempts: item.attempts + 1 });
    this.emit('delivered', item, delivered);
    const fs = this.opts.fs;
    // A held item delivered before its fsync (or before its file was even written) was never made
    // durable, so neither is its removal: at worst a power cut brings it back, to be answered as a
    // duplicate.
    const writing = this.writing.get(item.id);
    this.writeNow(item.id); // still waiting to be written: it never will be
    const durable = !this.forgetUnsynced(item.id) && writing === undefined;
    if (writing && !(await writing)) return; // no file: nothing to remove
    await Promise.all([removeFileDurably(this.file(item.id, 'item'), fs, { durable }), removeFileDurably(this.file(item.id, 'state'), fs, { durable })]).catch((err: unknown) =>
      log.warn('delivered clip still on disk: it will be sent again and answered as a duplicate', { clipId: item.clipId, to: item.recipient.name, err }),
    );
  }

  /** A held item leaves unsynced: no fsync for it any more. True if it was still waiting for one. */
  private forgetUnsynced(id: string): boolean {
    const timer = this.unsynced.get(id);
    clearTimeout(timer);
    return this.unsynced.delete(id);
  }

  private async drop(item: OutboxItem, why: string): Promise<void> {
    if (!this.items.delete(item.id)) return;
    this.forgetUnsynced(item.id);
    await removeFileDurably(this.file(item.id, 'item'));
    await removeFileDurably(this.file(item.id, 'state'));
    log.warn('clip dropped', { clipId: item.clipId, to: item.recipient.name, why });
    this.emit('failed', item, why);
  }

  private async expire(item: OutboxItem): Promise<void> {
    await this.drop(item, `expired after ${item.attempts} attempts${item.lastError ? `; last error: ${item.lastError}` : ''}`);
  }

  private async failed(item: OutboxItem, err: Error): Promise<void> {
    if (!this.items.has(item.id)) return;
    if ((err as { retryable?: unknown }).retryable === false) return this.drop(item, err.message);
    item.attempts += 1;
    item.lastError = err.message;
    item.nextAttemptAt = this.now() + backoffDelay(item.attempts, this.random(), this.opts.backoff ?? defaultBackoff);
    const state = { attempts: item.attempts, nextAttemptAt: item.nextAttemptAt, lastError: item.lastError };
    // Losing this write (full disk) only forgets the backoff; the clip itself is already safe.
    await writeFileAtomic(this.file(item.id, 'state'), JSON.stringify(state), this.fsOpt).catch((e: unknown) =>
      log.warn('could not persist retry state', { err: e }),
    );
    log.info('delivery failed, will retry', { clipId: item.clipId, to: item.recipient.name, attempts: item.attempts, inMs: item.nextAttemptAt - this.now(), err: err.message });
    this.emit('retry', item, err);
  }
}
