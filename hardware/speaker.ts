// The speaker, as the firmware sees it: it decodes Opus and plays to ALSA (the I2S amplifier or the
// default device). Types only.

import type { OpusPacket, OpusStreamFormat } from './microphone.js';

export interface PlaybackResult {
  /** Samples played at the speaker's rate. */
  readonly samples: number;
  /** True when playback was stopped early (talk has priority). */
  readonly interrupted: boolean;
}

export interface Speaker {
  /**
   * Plays one clip's packets. Resolves when the last sample has been handed to the device, or early
   * with interrupted=true when the signal aborts. Rejects with a SpeakerError on device failure.
   */
  play(format: OpusStreamFormat, packets: Iterable<OpusPacket> | AsyncIterable<OpusPacket>, signal?: AbortSignal): Promise<PlaybackResult>;
  close(): Promise<void>;
}
