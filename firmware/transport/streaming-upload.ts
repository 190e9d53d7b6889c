// The press-to-release path: at press the radio starts one StreamingUpload per recipient, which
// opens the tor stream at once (circuit set-up overlaps the talking), then writes the sealed
// clip's bytes as the microphone produces them. At release only the tail, the final frame and the
// receipt's round trip are left. If anything fails the radio still has the clip in the outbox
// (persisted at release, see Outbox.enqueue's `hold`), which retries it: nothing is lost and the
// receiver's dedupe makes sure nothing plays twice.
import { createLog } from '../log.js';
import { uploadClip, type BodySink, type Connector, type Delivered, type LiveBody, type Recipient } from './sender.js';
import type { ScavengeAhead } from './scavenge-ahead.js';

const log = createLog('streaming-upload');

export interface StreamingUploadOptions {
  readonly connector: Connector;
  readonly recipient: Recipient;
  /** The clip id the radio chose at press time (SealHeader.clipId): the receipt must name it. */
  readonly clipId: string;
  readonly responseTimeoutMs?: number;
  /** Keeps a scavenge out of the release and receipt (default: the process's own). */
  readonly scavenge?: ScavengeAhead;
}

export class StreamingUpload implements LiveBody {
  /** Settles once: the verified delivery, or a DeliveryError. Never rejects unobserved. */
  readonly result: Promise<Delivered>;
  // Until the request is open: what the microphone produced, and how the body ended.
  #queued: Uint8Array[] = [];
  #ending: { end: true } | { fail: Error } | undefined;
  #sink: BodySink | undefined;
  /** hold() came before the request was open. */
  #held = false;
  /** No more bytes are taken: ended, aborted, or the sender gave up. */
  #closed = false;

  private constructor(options: StreamingUploadOptions) {
    this.result = uploadClip({ ...options, body: this });
    this.result.catch((err: unknown) => log.info('streaming upload failed', { to: options.recipient.name, err }));
  }

  /** Connects now and returns at once; bytes written before the stream is up are queued. */
  static start(options: StreamingUploadOptions): StreamingUpload {
    return new StreamingUpload(options);
  }

  /** Sends the next sealed bytes (wire stream pages). Ignored after end() or abort(). */
  write(chunk: Uint8Array): void {
    if (this.#closed) return;
    if (this.#sink) this.#sink.write(chunk);
    else this.#queued.push(chunk);
  }

  /** The user released: the rest of the body goes out in one write with its end (BodySink.hold). */
  hold(): void {
    if (this.#closed) return;
    if (this.#sink) this.#sink.hold();
    else this.#held = true;
  }

  /** The clip is complete: finish the body and wait for the receipt via `result`. */
  end(): Promise<Delivered> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#sink) this.#sink.end();
      else this.#ending = { end: true };
    }
    return this.result;
  }

  /** Cancels (recording failed, radio shutting down): the receiver sees a cut body and stores nothing. */
  abort(reason: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sink) this.#sink.fail(reason);
    else this.#ending = { fail: reason };
  }

  /** LiveBody: the request is open (called by uploadClip). */
  connect(sink: BodySink): void {
    const queued = this.#queued;
    this.#queued = [];
    if (this.#held) sink.hold();
    for (const chunk of queued) sink.write(chunk);
    const ending = this.#ending;
    if (ending && 'fail' in ending) return sink.fail(ending.fail);
    if (ending) return sink.end();
    if (!this.#closed) this.#sink = sink;
  }

  /** LiveBody: the receiver answered early or the stream broke; later writes are dropped. */
  cancel(): void {
    this.#closed = true;
    this.#sink = undefined;
    this.#queued = [];
  }
}
