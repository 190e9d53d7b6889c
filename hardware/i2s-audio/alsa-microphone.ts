// The Microphone on the i2s-audio addon: an ALSA capture PCM (the I2S MEMS mic, the laptop's
// default device, or a file PCM in simulation) conditioned and Opus-encoded on the addon's thread.
import { readFileSync } from 'node:fs';
import { createLog } from '../../firmware/log.js';
import type { Microphone, OpusStreamFormat, Recording } from '../microphone.js';
import { AlsaRecording } from './alsa-recording.js';
import { checkEncoderOptions } from './encoder.js';
import { AudioOptionError, MicrophoneError, toAudioError } from './errors.js';
import { loadAddon, type NativeCapture, type NativeCaptureEvent, type NativeCaptureOptions, type SampleFormat } from './index.js';

const log = createLog('microphone');

export interface AlsaMicrophoneOptions {
  /** ALSA PCM name: `default`, `hw:CARD=sndrpigooglevoi,DEV=0`, or a name defined in `config`. */
  device?: string;
  /** ALSA configuration fragment (see alsa-config.ts), or a file holding one. */
  config?: string;
  configFile?: string;
  /** S32_LE stereo for I2S MEMS mics; S16_LE mono (default) for laptops. */
  format?: SampleFormat;
  channels?: 1 | 2;
  /** Which slot of a stereo frame holds the mic (L/R pin to GND = 0). */
  slot?: number;
  /** Capture and encoder rate (an Opus rate; default 16000). */
  rate?: number;
  /** Allow a plug-type device (`default`) to resample to `rate` (default true). */
  resample?: boolean;
  /** Gain after DC removal; I2S MEMS mics need about +24..+30 dB. Default 0. */
  gainDb?: number;
  /** One-pole DC-blocking high-pass at 10 Hz (default on). */
  highPass?: boolean;
  bitrate?: number;
  complexity?: number;
  /** Audio kept from before record() (default 400, at least 300 recommended). */
  preRollMs?: number;
  /** Audio kept after stop() while the speaker is still talking (default 200). */
  tailMs?: number;
  /**
   * A stop() after this long of quiet (every 20 ms block 30 dB under the recording's loudest, or
   * under -60 dBFS) ends the recording at once, without the tail: nothing is being said that the
   * tail could save, and the clip reaches its listener sooner. Default: tailMs; 0 always keeps the tail.
   */
  quietMs?: number;
  /** Audio dropped after every (re)open while the mic and the DC filter settle (default 250). */
  settleMs?: number;
  /** Sleep to real time per period (simulation: the file plugin has no clock). */
  pace?: boolean;
  /** Stop after this many frames (simulation: the file plugin repeats stale data past its input). */
  maxFrames?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Receives the conditioned 16-bit samples each recording encodes (tests, level meters). */
  onPcm?: (samples: Int16Array) => void;
}

export class AlsaMicrophone implements Microphone {
  readonly device: string;
  private readonly options: NativeCaptureOptions;
  private native: NativeCapture | undefined;
  private current: AlsaRecording | undefined;
  private format: OpusStreamFormat | undefined;
  private readonly faultListeners = new Set<(err: Error) => void>();
  private readonly recoveredListeners = new Set<() => void>();
  private ended = false;
  private lastFault: MicrophoneError | undefined;

  constructor(private readonly opts: AlsaMicrophoneOptions = {}) {
    this.device = opts.device ?? 'default';
    const enc = checkEncoderOptions({ sampleRate: opts.rate ?? 16000, bitrate: opts.bitrate ?? 16000, complexity: opts.complexity ?? 5 });
    if (opts.format !== undefined && opts.format !== 'S16_LE' && opts.format !== 'S32_LE') throw new AudioOptionError(`format must be S16_LE or S32_LE; got ${String(opts.format)}`);
    const channels = opts.channels ?? (opts.format === 'S32_LE' ? 2 : 1);
    if (channels !== 1 && channels !== 2) throw new AudioOptionError(`channels must be 1 or 2; got ${String(channels)}`);
    const slot = opts.slot ?? 0;
    if (!Number.isInteger(slot) || slot < 0 || slot >= channels) throw new AudioOptionError(`slot must be 0..${channels - 1}; got ${slot}`);
    for (const key of ['preRollMs', 'tailMs', 'quietMs', 'settleMs'] as const) {
      const v = opts[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 10000)) throw new AudioOptionError(`${key} must be 0..10000; got ${v}`);
    }
    if (opts.gainDb !== undefined && !(opts.gainDb >= -40 && opts.gainDb <= 60)) throw new AudioOptionError(`gainDb must be -40..60; got ${opts.gainDb}`);
    if (opts.maxFrames !== undefined && !(Number.isInteger(opts.maxFrames) && opts.maxFrames > 0)) throw new AudioOptionError(`maxFrames must be a positive integer; got ${opts.maxFrames}`);
    let config = opts.config;
    if (opts.configFile !== undefined) {
      try {
        config = readFileSync(opts.configFile, 'utf8');
      } catch (err) {
        throw new MicrophoneError('config', `cannot read ALSA config ${opts.configFile}: ${(err as Error).message}`, { device: this.device });
      }
    }
    this.options = {
      device: this.device,
      ...(config !== undefined ? { config } : {}),
      format: opts.format ?? 'S16_LE',
      channels,
      slot,
      rate: enc.sampleRate,
      bitrate: enc.bitrate,
      complexity: enc.complexity,
      gainDb: opts.gainDb ?? 0,
      highPass: opts.highPass ?? true,
      preRollMs: opts.preRollMs ?? 400,
      tailMs: opts.tailMs ?? 200,
      quietMs: opts.quietMs ?? opts.tailMs ?? 200,
      settleMs: opts.settleMs ?? 250,
      pace: opts.pace ?? false,
      resample: opts.resample ?? true,
      pcmTap: opts.onPcm !== undefined,
      ...(opts.maxFrames !== undefined ? { maxFrames: opts.maxFrames } : {}),
      ...(opts.retryMinMs !== undefined ? { retryMinMs: opts.retryMinMs } : {}),
      ...(opts.retryMaxMs !== undefined ? { retryMaxMs: opts.retryMaxMs } : {}),
    };
  }

  async open(): Promise<void> {
    if (this.native) return;
    let native: NativeCapture;
    try {
      native = new (loadAddon().Capture)(this.options);
      native.start((event) => this.onEvent(event));
    } catch (err) {
      throw toAudioError(MicrophoneError, this.device, err);
    }
    this.native = native;
    this.ended = false;
    const info = native.info();
    this.format = { sampleRate: info.rate, channels: 1, frameSamples: info.frameSamples, preSkip: (info.lookahead * 48000) / info.rate };
    log.info('open', { device: this.device, rate: info.rate, format: this.options.format });
  }

  record(): Recording {
    if (!this.native || !this.format) throw new MicrophoneError('closed', `microphone ${this.device} is not open`, { device: this.device });
    if (this.current && !this.current.done) throw new MicrophoneError('state', `microphone ${this.device} is already recording`, { device: this.device });
    const native = this.native;
    const id = native.record();
    this.current = new AlsaRecording(id, this.format, () => native.stopRecording());
    return this.current;
  }

  onFault(listener: (err: Error) => void): () => void {
    this.faultListeners.add(listener);
    return () => this.faultListeners.delete(listener);
  }

  /** The device came back after a fault; capture (and the pre-roll) has resumed. */
  onRecovered(listener: () => void): () => void {
    this.recoveredListeners.add(listener);
    return () => this.recoveredListeners.delete(listener);
  }

  /** Capture counters: frames read, xruns recovered, whether the device is faulted now. */
  stats(): { framesCaptured: number; xruns: number; faulted: boolean; ended: boolean } {
    const info = this.native?.info();
    return { framesCaptured: info?.framesCaptured ?? 0, xruns: info?.xruns ?? 0, faulted: info?.faulted ?? false, ended: this.ended };
  }

  /** Stops the capture thread (safe from inside any callback) and ends a recording with 'closed'. */
  async close(): Promise<void> {
    const native = this.native;
    this.native = undefined;
    if (!native) return;
    native.close();
    this.current?.fail(new MicrophoneError('closed', `microphone ${this.device} was closed during a recording`, { device: this.device }));
    log.info('closed', { device: this.device });
  }

  // A throwing listener must not become an uncaught exception inside the addon's callback.
  private notify(listener: () => void): void {
    try {
      listener();
    } catch (err) {
      log.error('listener threw', { device: this.device, err });
    }
  }

  private onEvent(event: NativeCaptureEvent): void {
    if (!this.native) return; // closed: drop batches already in flight
    const rec = this.current;
    switch (event.type) {
      case 'packets':
        if (rec?.id === event.recording) rec.push(event.packets);
        break;
      case 'pcm':
        if (rec?.id === event.recording && this.opts.onPcm) {
          const onPcm = this.opts.onPcm;
          this.notify(() => onPcm(event.samples));
        }
        break;
      case 'end':
        if (rec?.id !== event.recording) break;
        if (event.reason === 'stopped' || event.reason === 'eof') rec.finish({ samples: event.samples, packets: event.packets, xruns: event.xruns });
        else rec.fail(this.lastFault ?? new MicrophoneError('closed', `microphone ${this.device} stopped during the recording`, { device: this.device }));
        break;
      case 'fault': {
        const err = toAudioError(MicrophoneError, this.device, event.error) as MicrophoneError;
        this.lastFault = err;
        log.warn('fault', { device: this.device, err });
        for (const l of this.faultListeners) this.notify(() => l(err));
        break;
      }
      case 'recovered':
        this.lastFault = undefined;
        log.info('recovered', { device: this.device });
        for (const l of this.recoveredListeners) this.notify(l);
        break;
      case 'eof':
        this.ended = true;
        break;
    }
  }
}
