// One press of the talk button, from microphone to wire: Opus packets from the Recording go into the
// streaming Ogg writer, its pages into the clip sealer, and the sealer's wire frames into the
// TalkSession's live uploads — all while the user is still talking, each packet's frames in the
// turn it arrives. At the end it yields the sealed clip as a standard age file, which the caller
// hands to TalkSession.release (the outbox).
import { OggOpusWriter } from '../audio/ogg-opus-writer.js';
import { ClipSealer } from '../clip/clip-sealer.js';
import type { ClipHeader, ClipSigner } from '../clip/clip-types.js';
import type { Recording, RecordingSummary } from '../../hardware/microphone.js';
import type { TalkSession } from '../transport/talk-session.js';

export interface TalkOptions {
  /** A promise when the microphone is still finishing the previous recording's tail. */
  readonly recording: Recording | Promise<Recording>;
  readonly session: TalkSession;
  readonly clipId: string;
  readonly channel: string;
  readonly signer: ClipSigner;
  /** age recipients (`age1...`) of everyone on the channel. */
  readonly recipients: readonly string[];
  /** The next per-sender sequence number (persisted before it is used). */
  readonly sequence: () => Promise<number>;
  /** Wall-clock time of the press (the clip's created-at). */
  readonly createdAt: number;
}

export interface TalkResult {
  readonly header: ClipHeader;
  /**
   * The clip as a standard age file, for the outbox and `age -d`: built on the first call, which
   * the outbox makes only if it has to write the clip (usually the receipt comes first).
   */
  readonly stored: () => Uint8Array;
  readonly storedBytes: number;
  readonly summary: RecordingSummary;
  /** Wire bytes handed to each live upload. */
  readonly wireBytes: number;
}

/** The recording ended before release (microphone fault, or an empty recording). */
export class TalkFailedError extends Error {
  override readonly name = 'TalkFailedError';
}

export class Talk {
  /** Settles once: the sealed clip after stop(), or why there is none. */
  readonly done: Promise<TalkResult>;
  readonly #recording: Promise<Recording>;
  #stopping: Promise<RecordingSummary> | undefined;
  #aborted: Error | undefined;
  #wireBytes = 0;

  constructor(private readonly o: TalkOptions) {
    this.#recording = Promise.resolve(o.recording);
    this.#recording.catch(() => undefined); // reported through `done`
    this.done = this.#run();
    this.done.catch(() => undefined); // the app always observes it; this only silences the early reject
  }

  /** Settles once the microphone has let go of this recording (after `done`, and after the tail). */
  get micReleased(): Promise<void> {
    const settled = () => undefined;
    return this.done.then(settled, settled).then(() => this.#stopping?.then(settled, settled));
  }

  get wireBytes(): number {
    return this.#wireBytes;
  }

  /** Release: the recording ends after its tail; `done` then gives the clip. Idempotent. */
  stop(): void {
    if (!this.#stopping) this.o.session.hold();
    this.#stopping ??= this.#recording.then((r) => r.stop());
    this.#stopping.catch(() => undefined);
  }

  /** Discard: nothing of this clip may be delivered. The live uploads are cut. */
  abort(reason: Error): void {
    this.#aborted ??= reason;
    this.o.session.abort(reason);
    this.stop();
  }

  async #run(): Promise<TalkResult> {
    const { session } = this.o;
    let recording: Recording;
    try {
      recording = await this.#recording;
    } catch (err) {
      session.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    let sealer: ClipSealer;
    try {
      sealer = await ClipSealer.start({
        header: { channel: this.o.channel, sequence: await this.o.sequence(), createdAt: this.o.createdAt, clipId: this.o.clipId },
        signer: this.o.signer,
        recipients: this.o.recipients,
      });
    } catch (err) {
      this.stop(); // the microphone is free for the next press
      session.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    const send = (frames: readonly Uint8Array[]) => {
      for (const frame of frames) {
        this.#wireBytes += frame.length;
        session.write(frame);
      }
    };
    send([sealer.preamble]);
    const ogg = new OggOpusWriter({ inputSampleRate: recording.format.sampleRate, preSkip: recording.format.preSkip });
    const seal = (pages: readonly Uint8Array[]) => {
      for (const page of pages) send(sealer.push(page));
    };
    try {
      for await (const packet of recording.packets) {
        if (this.#aborted) break;
        seal(ogg.write(packet.data));
      }
      if (this.#aborted) throw this.#aborted;
      // The packets end after stop() (or when a simulated input runs out): take the summary then.
      this.stop();
      const summary = await this.#stopping!;
      if (summary.packets === 0) throw new TalkFailedError('the recording holds no audio');
      seal(ogg.end(summary.samples));
      const { frames, header } = sealer.finish();
      send(frames);
      // The last frame just went out: end the bodies with it (one TCP write).
      session.finish();
      return { header, stored: () => sealer.stored(), storedBytes: sealer.storedBytes, summary, wireBytes: this.#wireBytes };
    } catch (err) {
      const reason = err instanceof Error ? err : new Error(String(err));
      this.stop(); // end the recording too, so the microphone is free for the next press
      session.abort(reason);
      throw reason;
    }
  }
}
