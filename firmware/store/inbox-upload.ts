// A live upload's body in the inbox journal, written while it arrives, so that what is left at its
// end is a small entry whose write is issued before the clip's check and runs during it. (The
// flush itself costs the same for 600 B or 21 KB here, 0.82-0.90 ms; what the pieces save is
// copying and hashing the whole ~21 KB entry after the last byte, 0.38 ms against 0.19 jitless.)
//
// The body is journalled as received (the wire stream, which only grows), not as the age file the
// inbox keeps (its last age chunk is encrypted again when the clip outgrows it). Journal records:
//   {"upload": id, "piece": n}                      + the next bytes of upload `id` (n = 0, 1, ...)
//   {"unverified": true, "receivedAt": t, "upload": id, "pieces": k}  + the body's last bytes
// The second, the tail, is written as the body ends, just before the clip is checked; the inbox's
// judge opens the joined body at the next start if the check's verdict was cut off (inbox.ts).
// Pieces without a tail are an upload cut off mid-body, or refused: no receipt went out for them.
import { randomBytes } from 'node:crypto';
import type { InboxJournal, JournalEntry } from './inbox-journal.js';

function join(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Bytes gathered before a piece is written: a few durable writes per talk, not one per page. */
export const PIECE_MIN_BYTES = 4096;

interface PieceRecord {
  readonly upload: string;
  readonly piece: number;
}

/** The body's last bytes, written as its check starts. */
interface TailRecord {
  readonly unverified: true;
  readonly receivedAt: number;
  readonly upload: string;
  readonly pieces: number;
}

function isPiece(record: unknown): record is PieceRecord {
  const r = record as Partial<PieceRecord> | null;
  return typeof r?.upload === 'string' && typeof r.piece === 'number' && !('unverified' in r);
}

function isTail(record: unknown): record is TailRecord {
  const r = record as Partial<TailRecord> | null;
  return r?.unverified === true && typeof r.receivedAt === 'number' && typeof r.upload === 'string' && typeof r.pieces === 'number';
}

/** True for the records of this file (pieces and tails): the inbox's replay skips them. */
export function isUploadRecord(record: unknown): boolean {
  return isPiece(record) || isTail(record);
}

export interface JournalledBody {
  /** The upload's body as received (a wire stream). */
  readonly bytes: Uint8Array;
  readonly receivedAt: number;
}

/**
 * The bodies whose tail the journal holds, in tail order, each joined from its pieces. A tail
 * whose pieces are not all there (not written by this code) is counted in `broken` and left out.
 */
export function journalledBodies(entries: readonly JournalEntry[]): { bodies: JournalledBody[]; broken: number } {
  const pieces = new Map<string, Uint8Array[] | 'out of order'>();
  const bodies: JournalledBody[] = [];
  let broken = 0;
  for (const { record, sealed } of entries) {
    if (isPiece(record)) {
      const list = pieces.get(record.upload) ?? [];
      if (list === 'out of order') continue;
      if (record.piece === list.length) {
        list.push(sealed);
        pieces.set(record.upload, list);
      } else {
        pieces.set(record.upload, 'out of order');
      }
    } else if (isTail(record)) {
      const list = pieces.get(record.upload) ?? [];
      if (list === 'out of order' || list.length !== record.pieces) {
        broken++;
        continue;
      }
      bodies.push({ bytes: join([...list, sealed]), receivedAt: record.receivedAt });
    }
  }
  return { bodies, broken };
}

/**
 * Writes one upload's body to the journal as it arrives: a piece whenever PIECE_MIN_BYTES have
 * gathered and no piece is being written, then the tail. A piece that fails (a full disk; the
 * journal cuts it off again) ends the pieces: its bytes and the rest go in the tail.
 */
export class UploadPieces {
  readonly #id = randomBytes(8).toString('hex');
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Pieces written, or the one being written. */
  #pieces = 0;
  #writing: Promise<void> | undefined;
  /** A piece write decided, to start after this turn's events (see push). */
  #scheduled: NodeJS.Immediate | undefined;
  #stopped = false;
  #ended = false;

  constructor(private readonly journal: InboxJournal) {}

  /** The next body bytes (kept, not copied). */
  push(bytes: Uint8Array): void {
    if (this.#ended) throw new Error('UploadPieces.push after its tail');
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    // Not at once: a body's last bytes and its end come in one read (the end a tick later), and
    // those bytes belong in the tail, not in a piece that the tail would have to wait for.
    if (!this.#scheduled && this.#pendingBytes >= PIECE_MIN_BYTES) {
      this.#scheduled = setImmediate(() => {
        this.#scheduled = undefined;
        this.#writePiece();
      });
    }
  }

  #writePiece(): void {
    if (this.#writing || this.#stopped || this.#ended || this.#pendingBytes < PIECE_MIN_BYTES) return;
    const parts = this.#pending;
    const n = this.#pieces++;
    this.#pending = [];
    this.#pendingBytes = 0;
    const record: PieceRecord = { upload: this.#id, piece: n };
    this.#writing = this.journal.append(record, join(parts)).then(
      () => {
        this.#writing = undefined;
        this.#writePiece(); // bytes that gathered meanwhile
      },
      () => {
        this.#writing = undefined;
        this.#stopped = true;
        this.#pieces = n;
        this.#pending = [...parts, ...this.#pending];
        this.#pendingBytes = this.#pending.reduce((sum, p) => sum + p.length, 0);
      },
    );
  }

  /**
   * Writes the tail: durable when this resolves. Its write is issued within this call unless a
   * piece is still being written (then right after that piece's outcome, which the tail counts).
   */
  end(receivedAt: number): Promise<void> {
    if (this.#ended) throw new Error('UploadPieces.end called twice');
    this.#ended = true;
    clearImmediate(this.#scheduled);
    const writeTail = () => {
      const record: TailRecord = { unverified: true, receivedAt, upload: this.#id, pieces: this.#pieces };
      return this.journal.append(record, join(this.#pending));
    };
    return this.#writing ? this.#writing.then(writeTail) : writeTail();
  }

  /** No tail will come (the upload was cut off or refused): no more pieces. */
  stop(): void {
    this.#stopped = true;
    clearImmediate(this.#scheduled);
  }
}
