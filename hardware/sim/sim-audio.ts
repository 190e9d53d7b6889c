// The simulated microphone and speaker: the real i2s-audio addon on ALSA `file`-plugin PCMs, so tests
// and the laptop demo exercise real libasound and libopus without sound hardware.
// The mic reads raw samples (S16_LE mono, or S32_LE stereo shaped like an I2S MEMS mic) paced to real
// time and stops at the end of the file; the speaker writes raw samples to a file.
import { statSync } from 'node:fs';
import { fileCaptureConfig, filePlaybackConfig } from '../i2s-audio/alsa-config.js';
import { AlsaMicrophone, type AlsaMicrophoneOptions } from '../i2s-audio/alsa-microphone.js';
import { AlsaSpeaker, type AlsaSpeakerOptions } from '../i2s-audio/alsa-speaker.js';
import { AudioOptionError, MicrophoneError } from '../i2s-audio/errors.js';

export interface SimMicrophoneOptions extends Omit<AlsaMicrophoneOptions, 'device' | 'config' | 'configFile'> {
  /** Raw interleaved samples in `format` × `channels` at `rate` (no WAV header). */
  infile: string;
  /** See fileCaptureConfig: a FIFO here lets a test unplug the mic mid-stream. */
  copyTo?: string;
}

export function createSimMicrophone(o: SimMicrophoneOptions): AlsaMicrophone {
  const format = o.format ?? 'S16_LE';
  const channels = o.channels ?? (format === 'S32_LE' ? 2 : 1);
  let maxFrames = o.maxFrames;
  if (maxFrames === undefined) {
    let size: number;
    try {
      size = statSync(o.infile).size;
    } catch (err) {
      throw new MicrophoneError('missing', `simulated microphone input ${o.infile}: ${(err as Error).message}`, { device: 'sim_mic' });
    }
    maxFrames = Math.floor(size / (channels * (format === 'S32_LE' ? 4 : 2)));
    if (maxFrames === 0) throw new AudioOptionError(`simulated microphone input ${o.infile} holds no whole frame`);
  }
  const { infile, copyTo, ...rest } = o;
  return new AlsaMicrophone({
    ...rest,
    format,
    channels,
    device: 'sim_mic',
    config: fileCaptureConfig({ name: 'sim_mic', infile, ...(copyTo !== undefined ? { copyTo } : {}) }),
    pace: o.pace ?? true,
    maxFrames,
  });
}

export interface SimSpeakerOptions extends Omit<AlsaSpeakerOptions, 'device' | 'config' | 'configFile'> {
  /** Raw output; `%r`/`%c` expand to rate and channels. Rewritten for every clip. */
  outfile: string;
}

export function createSimSpeaker(o: SimSpeakerOptions): AlsaSpeaker {
  const { outfile, ...rest } = o;
  return new AlsaSpeaker({ ...rest, device: 'sim_spk', config: filePlaybackConfig({ name: 'sim_spk', outfile }) });
}
