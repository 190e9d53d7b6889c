// Opus encoding without ALSA: for `torlk seal in.wav`, tools and tests. Same libopus settings as the
// capture thread (mono, VOIP, voice, VBR, 20 ms frames).
import type { OpusPacket, OpusStreamFormat } from '../microphone.js';
import { AudioOptionError, OpusCodecError } from './errors.js';
import { loadAddon, type NativeEncoder } from './index.js';

export interface OpusEncoderOptions {
  /** 8000, 12000, 16000 (default), 24000 or 48000. */
  sampleRate?: number;
  /** Target VBR bitrate, 8000..32000 bit/s (default 16000). */
  bitrate?: number;
  /** 0..10 (default 5: on a Pi Zero it halves the CPU of 10 and costs ~3 % in size at 16 kbit/s). */
  complexity?: number;
}

/** The input rates libopus encodes directly: the one list the encoder, decoder, speaker, WAV reader and Ogg writer check. */
export const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

/** Checks encoder options the way the firmware's config expects them; throws AudioOptionError. */
export function checkEncoderOptions(o: OpusEncoderOptions): Required<OpusEncoderOptions> {
  const sampleRate = o.sampleRate ?? 16000;
  const bitrate = o.bitrate ?? 16000;
  const complexity = o.complexity ?? 5;
  if (!OPUS_RATES.includes(sampleRate)) throw new AudioOptionError(`Opus sample rate must be one of ${OPUS_RATES.join(', ')}; got ${sampleRate}`);
  if (!Number.isInteger(bitrate) || bitrate < 8000 || bitrate > 32000) throw new AudioOptionError(`bitrate must be 8000..32000 bit/s; got ${bitrate}`);
  if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) throw new AudioOptionError(`complexity must be 0..10; got ${complexity}`);
  return { sampleRate, bitrate, complexity };
}

export class OpusEncoder {
  readonly sampleRate: number;
  /** Samples per 20 ms frame at sampleRate. */
  readonly frameSamples: number;
  /** Encoder lookahead at sampleRate. */
  readonly lookahead: number;
  private readonly native: NativeEncoder;

  constructor(options: OpusEncoderOptions = {}) {
    const o = checkEncoderOptions(options);
    this.native = new (loadAddon().Encoder)(o);
    this.sampleRate = o.sampleRate;
    this.frameSamples = this.native.frameSamples;
    this.lookahead = this.native.lookahead;
  }

  /** The stream parameters an Ogg writer needs (pre-skip in 48 kHz samples, RFC 7845). */
  get format(): OpusStreamFormat {
    return { sampleRate: this.sampleRate, channels: 1, frameSamples: this.frameSamples, preSkip: (this.lookahead * 48000) / this.sampleRate };
  }

  /** Encodes exactly one 20 ms frame. */
  encode(pcm: Int16Array): Uint8Array {
    if (!(pcm instanceof Int16Array)) throw new AudioOptionError('encode() takes an Int16Array');
    if (pcm.length !== this.frameSamples) throw new AudioOptionError(`encode() takes exactly ${this.frameSamples} samples (20 ms); got ${pcm.length}`);
    try {
      return new Uint8Array(this.native.encode(pcm));
    } catch (err) {
      throw new OpusCodecError((err as Error).message);
    }
  }

  reset(): void {
    this.native.reset();
  }
}

/**
 * Encodes a whole mono clip the way the microphone does: 20 ms packets, the last one padded with
 * silence, plus enough silent packets to cover the lookahead so the decoder can output every sample.
 * Each packet's `samples` counts only real input samples (0 for pure padding).
 */
export function encodeClip(pcm: Int16Array, options: OpusEncoderOptions = {}): { format: OpusStreamFormat; packets: OpusPacket[] } {
  const enc = new OpusEncoder(options);
  const n = enc.frameSamples;
  const packets: OpusPacket[] = [];
  const frame = new Int16Array(n);
  for (let at = 0; at < pcm.length + enc.lookahead; at += n) {
    frame.fill(0);
    const real = Math.max(0, Math.min(n, pcm.length - at));
    if (real > 0) frame.set(pcm.subarray(at, at + real));
    packets.push({ data: enc.encode(frame), samples: real });
  }
  return { format: enc.format, packets };
}
