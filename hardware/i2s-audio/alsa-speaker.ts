// The Speaker on the i2s-audio addon: decodes a clip's Opus packets and plays them to an ALSA
// playback PCM (the I2S amplifier, the default device, or a file PCM in simulation). The PCM is
// opened per clip, so a device that was unplugged and came back simply works on the next clip.
import { readFileSync } from 'node:fs';
import { createLog } from '../../firmware/log.js';
import type { OpusPacket, OpusStreamFormat } from '../microphone.js';
import type { PlaybackResult, Speaker } from '../speaker.js';
import { OPUS_RATES } from './encoder.js';
import { AudioOptionError, SpeakerError, toAudioError } from './errors.js';
import { loadAddon, type NativePcmOptions, type NativePlayer, type SampleFormat } from './index.js';

const log = createLog('speaker');

export interface AlsaSpeakerOptions {
  /** ALSA PCM name (`default`, the amplifier's `hw:` name, or one defined in `config`). */
  device?: string;
  config?: string;
  configFile?: string;
  /** Device format: MAX98357A-style I2S amps take S16_LE or S32_LE stereo. Default S16_LE. */
  format?: SampleFormat;
  channels?: 1 | 2;
  /** Device rate, an Opus rate (default 48000; the decoder resamples nothing, Opus decodes at any rate). */
  rate?: number;
  /** Allow a plug-type device (`default`) to resample to `rate` (default true). */
  resample?: boolean;
  /** Sleep to real time (simulation: a file PCM takes samples instantly). */
  pace?: boolean;
}

export class AlsaSpeaker implements Speaker {
  readonly device: string;
  private readonly options: NativePcmOptions;
  private player: NativePlayer | undefined;
  private playing: Promise<unknown> | undefined;
  private closed = false;

  constructor(opts: AlsaSpeakerOptions = {}) {
    this.device = opts.device ?? 'default';
    const rate = opts.rate ?? 48000;
    if (!OPUS_RATES.includes(rate)) throw new AudioOptionError(`speaker rate must be one of ${OPUS_RATES.join(', ')}; got ${rate}`);
    if (opts.format !== undefined && opts.format !== 'S16_LE' && opts.format !== 'S32_LE') throw new AudioOptionError(`format must be S16_LE or S32_LE; got ${String(opts.format)}`);
    const channels = opts.channels ?? 1;
    if (channels !== 1 && channels !== 2) throw new AudioOptionError(`channels must be 1 or 2; got ${String(channels)}`);
    let config = opts.config;
    if (opts.configFile !== undefined) {
      try {
        config = readFileSync(opts.configFile, 'utf8');
      } catch (err) {
        throw new SpeakerError('config', `cannot read ALSA config ${opts.configFile}: ${(err as Error).message}`, { device: this.device });
      }
    }
    this.options = { device: this.device, ...(config !== undefined ? { config } : {}), format: opts.format ?? 'S16_LE', channels, rate, pace: opts.pace ?? false, resample: opts.resample ?? true };
  }

  async play(format: OpusStreamFormat, packets: Iterable<OpusPacket> | AsyncIterable<OpusPacket>, signal?: AbortSignal): Promise<PlaybackResult> {
    if (this.closed) throw new SpeakerError('closed', `speaker ${this.device} is closed`, { device: this.device });
    if (this.playing) throw new SpeakerError('state', `speaker ${this.device} is already playing`, { device: this.device });
    if (!OPUS_RATES.includes(format.sampleRate) || format.channels !== 1 || !(format.preSkip >= 0))
      throw new AudioOptionError(`unsupported Opus stream: ${JSON.stringify(format)}`);
    const list: Uint8Array[] = [];
    let total = 0;
    const add = (p: OpusPacket) => {
      list.push(p.data);
      total += p.samples;
    };
    // An array is walked synchronously: a for-await costs a microtask per packet (~550 for 11 s).
    if (Symbol.iterator in packets) for (const p of packets) add(p);
    else {
      for await (const p of packets) {
        if (signal?.aborted) return { samples: 0, interrupted: true };
        add(p);
      }
    }
    if (signal?.aborted) return { samples: 0, interrupted: true };
    if (list.length === 0) return { samples: 0, interrupted: false };
    let player: NativePlayer;
    try {
      player = this.player ??= new (loadAddon().Player)(this.options);
    } catch (err) {
      throw toAudioError(SpeakerError, this.device, err);
    }
    const onAbort = () => player.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const run = player.play(list, { inputRate: format.sampleRate, preSkip: format.preSkip, totalSamples: total });
      this.playing = run.catch(() => undefined);
      const r = await run;
      if (r.underruns > 0) log.warn('underruns', { device: this.device, underruns: r.underruns });
      return { samples: r.samples, interrupted: r.interrupted };
    } catch (err) {
      throw toAudioError(SpeakerError, this.device, err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.playing = undefined;
    }
  }

  /** Interrupts a clip that is playing and waits for the device to be released. */
  async close(): Promise<void> {
    this.closed = true;
    this.player?.interrupt();
    await this.playing;
  }
}
