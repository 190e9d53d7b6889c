// One press of the talk button, from the transport's side. At press: a StreamingUpload per
// recipient (tor streams open while the user speaks). While held: every sealed chunk goes to all
// of them. At release: the complete clip is written to the outbox *held* (so a firmware crash from
// here on loses nothing; it is fsync'd only if no receipt comes soon, see outbox.ts), then each
// upload's outcome settles its outbox item: a verified receipt marks it delivered, a failure hands
// it to the outbox's retries. The receiver dedupes by clip id, so a
// retry after a stream that did get through stores and plays nothing twice.
import type { Outbox } from '../store/outbox.js';
import { createLog } from '../log.js';
import type { Connector, Delivered, Recipient } from './sender.js';
import { StreamingUpload } from './streaming-upload.js';

const log = createLog('talk-session');

export interface TalkSessionOptions {
  readonly connector: Connector;
  readonly outbox: Outbox;
  readonly recipients: readonly Recipient[];
  /** Chosen at press time and given to the sealer (SealHeader.clipId), so receipts can be checked. */
  readonly clipId: string;
  readonly responseTimeoutMs?: number;
}

export interface RecipientOutcome {
  readonly recipient: Recipient;
  /** 'streamed': delivered by the live upload; 'queued': the outbox took over. */
  readonly via: 'streamed' | 'queued';
  readonly delivered?: Delivered;
  readonly error?: Error;
}

export class TalkSession {
  private readonly uploads: StreamingUpload[];
  private released = false;

  private constructor(private readonly opts: TalkSessionOptions) {
    this.uploads = opts.recipients.map((recipient) =>
      StreamingUpload.start({
        connector: opts.connector,
        recipient,
        clipId: opts.clipId,
        ...(opts.responseTimeoutMs !== undefined ? { responseTimeoutMs: opts.responseTimeoutMs } : {}),
      }),
    );
  }

  /** Call at press: connects to every recipient now. */
  static press(options: TalkSessionOptions): TalkSession {
    return new TalkSession(options);
  }

  /** Sealed wire bytes, as the sealer produces them. */
  write(chunk: Uint8Array): void {
    for (const u of this.uploads) u.write(chunk);
  }

  /** The user released: what is still to be sealed goes out with the end, in one write per upload. */
  hold(): void {
    for (const u of this.uploads) u.hold();
  }

  /**
   * The wire stream is complete (its last frame was written): end the live bodies now, in the same
   * turn as that frame, so the receiver can verify while this radio still assembles and persists
   * the clip. release() follows with the stored copy. Idempotent.
   */
  finish(): void {
    for (const u of this.uploads) u.end().catch(() => undefined);
  }

  /**
   * Call at release with the complete clip as a standard age file (ClipSealer.stored()), or a
   * function that builds it: the outbox calls it only when it writes the clip.
   * Resolves once it is in the outbox (throws DiskFullError if it cannot be); `outcomes` then tells,
   * per recipient, whether the live stream delivered it or the outbox took over. A receipt that
   * comes back while the outbox is still writing the clip counts at once (Outbox.enqueue).
   */
  async release(stored: Uint8Array | (() => Uint8Array)): Promise<{ outcomes: Promise<RecipientOutcome[]> }> {
    if (this.released) throw new Error('TalkSession.release called twice');
    this.released = true;
    const { outbox, recipients, clipId } = this.opts;
    // The live bodies are finished first (if finish() was not called already): the outbox write
    // then runs in parallel with the last bytes' trip, not in front.
    const ends = this.uploads.map((u) => u.end());
    for (const e of ends) e.catch(() => undefined);
    // In the outbox from this call on, written in the background of the receipt's round trip.
    const persisted = outbox.enqueue({ clipId, sealed: stored }, recipients, { hold: true });
    const outcomes = Promise.all(
      ends.map(async (end, i): Promise<RecipientOutcome> => {
        const recipient = recipients[i]!;
        try {
          const delivered = await end;
          await outbox.markDelivered(clipId, recipient, delivered);
          return { recipient, via: 'streamed', delivered };
        } catch (err) {
          log.info('live upload failed, outbox takes over', { to: recipient.name, err });
          // Not persisted (a full disk): nothing to hand over; release() then throws it.
          await persisted.catch(() => undefined);
          outbox.release(clipId, recipient);
          return { recipient, via: 'queued', error: err instanceof Error ? err : new Error(String(err)) };
        }
      }),
    );
    await persisted;
    return { outcomes };
  }

  /** The recording failed: cancel the live uploads; nothing was persisted, nothing is sent. */
  abort(reason: Error): void {
    for (const u of this.uploads) u.abort(reason);
  }
}
