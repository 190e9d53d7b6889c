// The benchmark's microphone for its 200-clip memory run: the demo's file-fed microphone (the addon
// on an ALSA file PCM, real time) for the timed talks, and for the memory run a replay of packets the
// addon encoded earlier, handed over as fast as the firmware takes them, so 200 clips take minutes
// rather than real time. Everything after the microphone is the real firmware.
import type { OpusPacket, OpusStreamFormat, Recording, RecordingSummary } from '../../hardware/microphone.js';
import { FileFedMicrophone } from '../../firmware/app/file-fed-microphone.js';

class ReplayRecording implements Recording {
  #stop!: () => void;
  readonly #stopped = new Promise<void>((resolve) => (this.#stop = resolve));

  constructor(
    readonly format: OpusStreamFormat,
    private readonly source: readonly OpusPacket[],
  ) {}

  get packets(): AsyncIterable<OpusPacket> {
    const { source } = this;
    const stopped = this.#stopped;
    return (async function* () {
      yield* source;
      await stopped; // like a held button: the recording ends at release
    })();
  }

  async stop(): Promise<RecordingSummary> {
    this.#stop();
    // The first preSkip samples of decoder output are the encoder's lookahead, not input: a real
    // recording's sample count is what its packets carry after it.
    const carried = this.source.reduce((n, p) => n + p.samples, 0);
    const lookahead = Math.ceil((this.format.preSkip * this.format.sampleRate) / 48000);
    return { samples: carried - lookahead, packets: this.source.length, xruns: 0 };
  }
}

export class ReplayMicrophone extends FileFedMicrophone {
  #replay: { format: OpusStreamFormat; packets: readonly OpusPacket[] } | undefined;

  /** From now on record() replays these packets; useFile() switches back. */
  useReplay(format: OpusStreamFormat, packets: readonly OpusPacket[]): void {
    this.#replay = { format, packets };
  }

  useFile(): void {
    this.#replay = undefined;
  }

  override record(): Recording {
    return this.#replay ? new ReplayRecording(this.#replay.format, this.#replay.packets) : super.record();
  }
}
