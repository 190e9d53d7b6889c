// WAV file → Ogg Opus clip, with the addon's standalone encoder (the same libopus settings as the
// capture thread) and the streaming Ogg writer. Used by tools, tests, the bench and the demo's
// WAV-file microphone; on the device, audio comes from the capture thread instead.

import { encodeClip } from '../../hardware/i2s-audio/encoder.js';
import { OggOpusWriter } from './ogg-opus-writer.js';
import type { OpusComment } from './opus-tags.js';
import { readWav, type PcmAudio } from './wav.js';

export interface EncodeWavOptions {
  /** Target VBR bitrate in bit/s, 8000..32000 (default 16000). */
  readonly bitrate?: number;
  /** libopus complexity 0..10 (the encoder's default when absent). */
  readonly complexity?: number;
  readonly comments?: readonly OpusComment[];
  readonly vendor?: string;
  readonly serial?: number;
}

/** Mixes stereo to mono by averaging: the encoder and the radio are mono. */
export function toMono(audio: PcmAudio): Int16Array {
  if (audio.channels === 1) return audio.samples;
  const mono = new Int16Array(audio.samples.length / 2);
  for (let i = 0; i < mono.length; i++) mono[i] = (audio.samples[2 * i]! + audio.samples[2 * i + 1]!) >> 1;
  return mono;
}

/** Encodes mono 16-bit PCM at an Opus rate into a complete Ogg Opus file. */
export function encodePcmToOggOpus(pcm: Int16Array, sampleRate: number, options: EncodeWavOptions = {}): Uint8Array {
  const encoderOptions = { sampleRate, ...(options.bitrate === undefined ? {} : { bitrate: options.bitrate }), ...(options.complexity === undefined ? {} : { complexity: options.complexity }) };
  const { format, packets } = encodeClip(pcm, encoderOptions);
  const writer = new OggOpusWriter({
    inputSampleRate: sampleRate,
    preSkip: format.preSkip,
    ...(options.comments ? { comments: options.comments } : {}),
    ...(options.vendor ? { vendor: options.vendor } : {}),
    ...(options.serial === undefined ? {} : { serial: options.serial }),
  });
  const pages: Uint8Array[] = [];
  for (const p of packets) pages.push(...writer.write(p.data));
  pages.push(...writer.end(pcm.length));
  return Buffer.concat(pages);
}

/** Reads a 16-bit PCM WAV (throws WavFormatError with a sox hint otherwise) and encodes it. */
export function encodeWavToOggOpus(wav: Uint8Array, options: EncodeWavOptions = {}): Uint8Array {
  const audio = readWav(wav);
  return encodePcmToOggOpus(toMono(audio), audio.sampleRate, options);
}
