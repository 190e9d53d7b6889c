// One recording from the AlsaMicrophone: packets are queued as the capture thread delivers them and
// read through an async iterator; the end (or a fault) settles both the iterator and stop().
import type { OpusPacket, OpusStreamFormat, Recording, RecordingSummary } from '../microphone.js';
import type { MicrophoneError } from './errors.js';

export class AlsaRecording implements Recording {
  private readonly queue: OpusPacket[] = [];
  private waiter: (() => void) | undefined;
  private summary: RecordingSummary | undefined;
  private failure: MicrophoneError | undefined;
  private readonly settled: Promise<RecordingSummary>;
  private resolveSettled!: (s: RecordingSummary) => void;
  private rejectSettled!: (e: Error) => void;
  private iterating = false;

  constructor(
    readonly id: number,
    readonly format: OpusStreamFormat,
    private readonly requestStop: () => void,
  ) {
    this.settled = new Promise((res, rej) => {
      this.resolveSettled = res;
      this.rejectSettled = rej;
    });
    // stop() may never be called when the recording faults; keep that from being an unhandled rejection.
    this.settled.catch(() => undefined);
  }

  get done(): boolean {
    return this.summary !== undefined || this.failure !== undefined;
  }

  /** From the capture thread's events. */
  push(packets: readonly OpusPacket[]): void {
    if (this.done) return;
    this.queue.push(...packets);
    this.wake();
  }

  finish(summary: RecordingSummary): void {
    if (this.done) return;
    this.summary = summary;
    this.resolveSettled(summary);
    this.wake();
  }

  fail(err: MicrophoneError): void {
    if (this.done) return;
    this.failure = err;
    this.rejectSettled(err);
    this.wake();
  }

  stop(): Promise<RecordingSummary> {
    if (!this.done) this.requestStop();
    return this.settled;
  }

  get packets(): AsyncIterable<OpusPacket> {
    return { [Symbol.asyncIterator]: () => this.iterate() };
  }

  private async *iterate(): AsyncGenerator<OpusPacket> {
    if (this.iterating) throw new Error('a recording can be iterated only once');
    this.iterating = true;
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.summary) return;
      await new Promise<void>((res) => (this.waiter = res));
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
