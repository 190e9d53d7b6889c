// The microphone, as the firmware sees it. The driver captures, conditions and Opus-encodes on its own
// thread (hardware/i2s-audio); JavaScript only ever sees small Opus packets. Types only.

/** What every packet of a recording is: the firmware writes these parameters into OpusHead. */
export interface OpusStreamFormat {
  /** Input sample rate given to the encoder (16 kHz on the device). */
  readonly sampleRate: number;
  readonly channels: 1;
  /** Samples per packet at sampleRate (20 ms at 16 kHz = 320). */
  readonly frameSamples: number;
  /** Encoder lookahead to skip on decode, in 48 kHz samples (RFC 7845 pre-skip). */
  readonly preSkip: number;
}

export interface OpusPacket {
  readonly data: Uint8Array;
  /** Input samples (at sampleRate) this packet carries, before any end trimming. */
  readonly samples: number;
}

export interface RecordingSummary {
  /** Input samples captured into the clip, pre-roll and tail included, at sampleRate. */
  readonly samples: number;
  readonly packets: number;
  /** Capture overruns recovered during the recording. */
  readonly xruns: number;
}

/** One push-to-talk recording: packets flow while the button is held and for a short tail after. */
export interface Recording {
  readonly format: OpusStreamFormat;
  /** Packets in order, pre-roll first; the iterator ends after the tail, or throws a MicrophoneError. */
  readonly packets: AsyncIterable<OpusPacket>;
  /**
   * Ends the recording after the configured tail (about 200 ms), or at once when the speaker had
   * already gone quiet (no syllable left to save). Resolves when the last packet is out.
   */
  stop(): Promise<RecordingSummary>;
}

export interface Microphone {
  /** Opens the device and starts filling the pre-roll ring (the radio keeps it open while idle). */
  open(): Promise<void>;
  /** Starts a recording that begins with the pre-roll already captured. One at a time. */
  record(): Recording;
  /** Hardware faults after open (device unplugged, ...). Returns a function that unsubscribes. */
  onFault(listener: (err: Error) => void): () => void;
  close(): Promise<void>;
}
