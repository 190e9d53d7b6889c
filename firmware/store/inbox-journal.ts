// The inbox's write-ahead journal: a received clip is durable after ONE durable append (O_DSYNC)
// to an already-open file, so the receipt can go out without waiting for the two atomic file
// writes and the directory fsync of the clip's own files (two flushes of 5-30 ms each on an SD
// card). The inbox writes those files in the background and empties the journal once they all
// exist; at open it replays whatever the journal still holds.
//
// File: <inbox>/journal, append-only, mode 0600, opened O_DSYNC: a write returns once its bytes
// (and the size that reaches them) are on the medium, as write + fdatasync would, in one system
// call and one trip through libuv's thread pool instead of two (each trip waits for a thread and
// then for the event loop, which a loaded two-core machine stretches to ~0.5 ms). A sequence of
// entries, each written with one buffer and one write call (looping on partial writes):
//
//   offset        size  field
//   0             4     magic and version: "TKJ" 0x01
//   4             4     R, byte length of the record JSON (u32, big-endian)
//   8             4     S, byte length of the sealed clip (u32, big-endian)
//   12            R     the record, JSON in UTF-8 (exactly the inbox's <key>.json content)
//   12+R          S     the sealed clip (an age file to this device, exactly <key>.clip)
//   12+R+S        32    SHA-256 over bytes 0 .. 12+R+S of this entry
//
// Parsing stops at the first entry that is incomplete or fails its checksum: that is the torn tail
// of an append cut by a crash (no receipt went out for it, the sender retries), and it is cut off
// at open. There is deliberately no resynchronising scan past a bad entry: a clip's bytes are
// chosen by its sender, who could embed something that looks like a valid entry.
import { constants as fsConstants } from 'node:fs';
import { open as fsOpen, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createLog } from '../log.js';
import { DiskFullError, isNoSpace } from './atomic-file.js';

const log = createLog('inbox-journal');

export const JOURNAL_MAGIC = Uint8Array.from([0x54, 0x4b, 0x4a, 0x01]);
const HEADER_BYTES = 12;
const HASH_BYTES = 32;
/** Read and append (every write lands at the end, reads start at 0), each write durable on return. */
export const JOURNAL_OPEN_FLAGS = fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_DSYNC;

/** The one filesystem call the journal makes itself; tests inject a twin whose handles fail like a full disk. */
export interface JournalFs {
  open: typeof fsOpen;
}

export interface JournalEntry {
  /** The parsed record JSON. */
  readonly record: unknown;
  readonly sealed: Uint8Array;
}

export interface ParsedJournal {
  readonly entries: JournalEntry[];
  /** Bytes up to the end of the last good entry. */
  readonly validBytes: number;
  /** Bytes after it: a torn or corrupt tail. */
  readonly tornBytes: number;
}

/** Any journal failure other than a full disk; `operation` says which step, `cause` is the fs error. */
export class InboxJournalError extends Error {
  override readonly name = 'InboxJournalError';
  constructor(
    readonly path: string,
    readonly operation: 'open' | 'read' | 'write' | 'truncate' | 'closed',
    override readonly cause?: unknown,
    detail?: string,
  ) {
    super(`inbox journal ${path}: ${operation} failed${detail ? ` (${detail})` : ''}${cause !== undefined ? `: ${cause instanceof Error ? cause.message : String(cause)}` : ''}`);
  }
}

/** One entry as written to the file (see the format above). */
export function encodeJournalEntry(record: unknown, sealed: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  const entry = Buffer.allocUnsafe(HEADER_BYTES + json.length + sealed.length + HASH_BYTES);
  entry.set(JOURNAL_MAGIC, 0);
  entry.writeUInt32BE(json.length, 4);
  entry.writeUInt32BE(sealed.length, 8);
  json.copy(entry, HEADER_BYTES);
  entry.set(sealed, HEADER_BYTES + json.length);
  const bodyEnd = HEADER_BYTES + json.length + sealed.length;
  createHash('sha256').update(entry.subarray(0, bodyEnd)).digest().copy(entry, bodyEnd);
  return entry;
}

/** Every complete, checksummed entry from the start of `bytes`, up to the first bad one. */
export function parseJournal(bytes: Uint8Array): ParsedJournal {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const entries: JournalEntry[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < HEADER_BYTES || !buf.subarray(at, at + 4).equals(JOURNAL_MAGIC)) break;
    const recordLen = buf.readUInt32BE(at + 4);
    const sealedLen = buf.readUInt32BE(at + 8);
    const bodyEnd = at + HEADER_BYTES + recordLen + sealedLen;
    const end = bodyEnd + HASH_BYTES;
    if (end > buf.length) break;
    const digest = createHash('sha256').update(buf.subarray(at, bodyEnd)).digest();
    if (!digest.equals(buf.subarray(bodyEnd, end))) break;
    let record: unknown;
    try {
      record = JSON.parse(buf.toString('utf8', at + HEADER_BYTES, at + HEADER_BYTES + recordLen));
    } catch {
      break; // checksummed yet not JSON: not written by us; treat it like any other bad entry
    }
    // A copy: the caller keeps these bytes in memory, not the whole file they were read from.
    entries.push({ record, sealed: new Uint8Array(buf.subarray(at + HEADER_BYTES + recordLen, bodyEnd)) });
    at = end;
  }
  return { entries, validBytes: at, tornBytes: buf.length - at };
}

export class InboxJournal {
  /** Operations on the file run one at a time, in call order (appends, clears, close). */
  private tail: Promise<unknown> = Promise.resolve();
  /** Operations enqueued and not yet settled. */
  private queued = 0;
  private bytes: number;
  private broken: InboxJournalError | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** The complete entries found at open, oldest first (the torn tail, if any, already cut off). */
    readonly recovered: readonly JournalEntry[],
    validBytes: number,
  ) {
    this.bytes = validBytes;
  }

  /** Opens (creating) the journal, reads what it holds and cuts off a torn tail. */
  static async open(path: string, fs: JournalFs = { open: fsOpen }): Promise<InboxJournal> {
    let handle: FileHandle;
    try {
      handle = await fs.open(path, JOURNAL_OPEN_FLAGS, 0o600);
    } catch (err) {
      throw new InboxJournalError(path, 'open', err);
    }
    try {
      let parsed: ParsedJournal;
      try {
        parsed = parseJournal(await handle.readFile());
      } catch (err) {
        throw new InboxJournalError(path, 'read', err);
      }
      if (parsed.tornBytes > 0) {
        log.info('dropping the torn tail of the inbox journal (an append cut short; no receipt went out for it)', {
          path, bytes: parsed.tornBytes, keptEntries: parsed.entries.length,
        });
        try {
          await handle.truncate(parsed.validBytes);
        } catch (err) {
          throw new InboxJournalError(path, 'truncate', err, `cutting the torn tail at ${parsed.validBytes}`);
        }
      }
      return new InboxJournal(path, handle, parsed.entries, parsed.validBytes);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /** Bytes in the file as far as this journal knows (its own appends and truncates). */
  get size(): number {
    return this.bytes;
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    // With nothing queued the operation starts in this call, not a microtask later: an append's
    // write is then in the thread pool before the caller's next synchronous step (the receiver
    // checks the clip meanwhile).
    const run = this.queued === 0 ? op() : this.tail.then(op);
    this.queued++;
    this.tail = run.then(
      () => void this.queued--,
      () => void this.queued--,
    );
    return run;
  }

  /**
   * Appends one entry (O_DSYNC: durable when the write returns): once this resolves the clip
   * survives a crash or power cut.
   * On failure the file is cut back to its size before this append (so it stays parseable) and
   * DiskFullError (ENOSPC/EDQUOT) or InboxJournalError is thrown. If even that cut fails, every
   * later append is refused with the cut's error until the journal is opened again.
   */
  append(record: unknown, sealed: Uint8Array): Promise<void> {
    const entry = encodeJournalEntry(record, sealed);
    return this.enqueue(async () => {
      if (this.broken) throw this.broken;
      if (this.closed) throw new InboxJournalError(this.path, 'closed', undefined, 'append after close');
      const before = this.bytes;
      try {
        for (let at = 0; at < entry.length; ) {
          const { bytesWritten } = await this.handle.write(entry, at, entry.length - at);
          if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${at} of ${entry.length}`);
          at += bytesWritten;
        }
      } catch (err) {
        try {
          await this.handle.truncate(before);
        } catch (cutErr) {
          this.broken = new InboxJournalError(this.path, 'truncate', cutErr, `after a failed write (${err instanceof Error ? err.message : String(err)}), the journal may end in a partial entry; refusing appends until restart`);
          throw this.broken;
        }
        if (isNoSpace(err)) throw new DiskFullError(this.path, entry.length);
        throw new InboxJournalError(this.path, 'write', err, `appending ${entry.length} bytes`);
      }
      this.bytes = before + entry.length;
    });
  }

  /**
   * Empties the journal. The caller ensures every entry appended so far is in its own files; an
   * append called after this runs after it. Not fsynced: a truncate lost in a power cut only
   * replays entries whose files already exist.
   */
  clear(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed || this.bytes === 0) return;
      try {
        await this.handle.truncate(0);
      } catch (err) {
        throw new InboxJournalError(this.path, 'truncate', err, 'emptying the journal');
      }
      this.bytes = 0;
    });
  }

  /** Closes the file after the operations already queued. */
  close(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.handle.close();
    });
  }
}
