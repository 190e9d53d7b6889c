// Opus decoding without ALSA: tests, tools, and checking clips before they are played.
import type { OpusPacket, OpusStreamFormat } from '../microphone.js';
import { AudioOptionError, OpusCodecError } from './errors.js';
import { OPUS_RATES } from './encoder.js';
import { loadAddon, type NativeDecoder } from './index.js';

export class OpusDecoder {
  private readonly native: NativeDecoder;

  /** sampleRate is the output rate; Opus decodes any stream at any of its rates. */
  constructor(readonly sampleRate = 16000) {
    if (!OPUS_RATES.includes(sampleRate)) throw new AudioOptionError(`Opus sample rate must be one of ${OPUS_RATES.join(', ')}; got ${sampleRate}`);
    this.native = new (loadAddon().Decoder)({ sampleRate });
  }

  /** Decodes one packet; throws OpusCodecError for a corrupt or empty one. */
  decode(packet: Uint8Array): Int16Array {
    if (!(packet instanceof Uint8Array)) throw new AudioOptionError('decode() takes a Uint8Array');
    if (packet.length === 0) throw new OpusCodecError('decode() got an empty packet');
    try {
      return this.native.decode(packet);
    } catch (err) {
      throw new OpusCodecError((err as Error).message);
    }
  }

  reset(): void {
    this.native.reset();
  }
}

/**
 * Decodes a whole clip to mono PCM at outRate, dropping the pre-skip and trimming the end padding,
 * so the result lines up sample for sample with what was captured.
 */
export function decodeClip(format: OpusStreamFormat, packets: Iterable<OpusPacket>, outRate = format.sampleRate): Int16Array {
  const dec = new OpusDecoder(outRate);
  const parts: Int16Array[] = [];
  let inputSamples = 0;
  for (const p of packets) {
    parts.push(dec.decode(p.data));
    inputSamples += p.samples;
  }
  const all = new Int16Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const skip = Math.round((format.preSkip * outRate) / 48000);
  const total = Math.round((inputSamples * outRate) / format.sampleRate);
  return all.slice(skip, Math.min(all.length, skip + total));
}
