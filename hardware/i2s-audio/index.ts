// The one module that loads the i2s-audio native addon, lazily, through node-gyp-build.
// It searches, in order: $TORLK_ADDON_DIR; beside the bundle (dist/i2s-audio, the layout on the SD
// image); the repository's hardware/i2s-audio found upwards from the bundle, the entry script or the
// working directory. Each directory may hold build/Release (a local node-gyp build) or prebuilds/.
// node-gyp-build itself is required at run time from node_modules near those directories (like
// onoff, which the bundle also leaves external), never imported statically: a static import would
// make every module that merely imports the audio types fail to link where node_modules is not on
// the resolution path (the bench runner's bundles in /tmp), long before any audio is used.
import type NodeGypBuild from 'node-gyp-build';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { AddonLoadError } from './errors.js';

export type SampleFormat = 'S16_LE' | 'S32_LE';

export interface NativePcmOptions {
  device: string;
  /** ALSA configuration fragment opened with snd_pcm_open_lconf (no environment variable needed). */
  config?: string;
  format?: SampleFormat;
  channels?: number;
  rate?: number;
  periodFrames?: number;
  /** Allow a plug-type PCM to resample (default true); false demands the exact rate. */
  resample?: boolean;
  /** Sleep to real time per period: the file plugin over a null slave has no clock. */
  pace?: boolean;
}

export interface NativeCaptureOptions extends NativePcmOptions {
  slot?: number;
  gainDb?: number;
  highPass?: boolean;
  bitrate?: number;
  complexity?: number;
  preRollMs?: number;
  tailMs?: number;
  quietMs?: number;
  settleMs?: number;
  maxFrames?: number;
  pcmTap?: boolean;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface NativeFailure {
  code: string;
  message: string;
  errno: number;
  alsaMessage: string;
}

export type NativeCaptureEvent =
  | { type: 'packets'; recording: number; packets: { data: Buffer; samples: number }[] }
  | { type: 'pcm'; recording: number; samples: Int16Array }
  | { type: 'end'; recording: number; reason: 'stopped' | 'eof' | 'fault' | 'closed'; samples: number; packets: number; xruns: number }
  | { type: 'fault'; error: NativeFailure }
  | { type: 'recovered' }
  | { type: 'eof' };

export interface NativeCaptureInfo {
  framesCaptured: number;
  xruns: number;
  faulted: boolean;
  running: boolean;
  rate: number;
  frameSamples: number;
  lookahead: number;
}

export interface NativeCapture {
  /** Opens the device (throws a failure object on error) and starts the thread; returns the period size. */
  start(onEvents: (event: NativeCaptureEvent) => void): number;
  record(): number;
  stopRecording(): void;
  /** Stops the thread and closes the device; safe to call from inside onEvents. */
  close(): void;
  info(): NativeCaptureInfo;
}

export interface NativeClip {
  inputRate: number;
  /** RFC 7845 pre-skip in 48 kHz samples. */
  preSkip: number;
  /** Input samples (at inputRate) to play after pre-skip; 0 plays everything decoded. */
  totalSamples: number;
}

export interface NativePlayer {
  play(packets: Uint8Array[], clip: NativeClip): Promise<{ samples: number; interrupted: boolean; underruns: number }>;
  interrupt(): void;
}

export interface NativeEncoder {
  encode(pcm: Int16Array): Buffer;
  reset(): void;
  readonly lookahead: number;
  readonly frameSamples: number;
}

export interface NativeDecoder {
  decode(packet: Uint8Array): Int16Array;
  reset(): void;
}

export interface I2sAudioAddon {
  Capture: new (options: NativeCaptureOptions) => NativeCapture;
  Player: new (options: NativePcmOptions) => NativePlayer;
  Encoder: new (options: { sampleRate?: number; bitrate?: number; complexity?: number }) => NativeEncoder;
  Decoder: new (options: { sampleRate?: number }) => NativeDecoder;
  versions: { alsa: string; opus: string };
}

let cached: I2sAudioAddon | undefined;

/** Directories searched for the addon, most specific first. */
export function addonSearchDirs(): string[] {
  const dirs: string[] = [];
  const env = process.env.TORLK_ADDON_DIR;
  if (env) dirs.push(resolve(env));
  // In the CommonJS bundle __dirname is dist/; from TypeScript sources it does not exist.
  const here = typeof __dirname === 'string' ? __dirname : undefined;
  if (here) dirs.push(join(here, 'i2s-audio'));
  const starts = [here, process.argv[1] ? dirname(resolve(process.argv[1])) : undefined, process.cwd()];
  for (const start of starts) {
    if (!start) continue;
    for (let d = start; ; d = dirname(d)) {
      const candidate = join(d, 'hardware', 'i2s-audio');
      if (existsSync(join(candidate, 'binding.gyp'))) dirs.push(candidate);
      if (dirname(d) === d) break;
    }
  }
  return [...new Set(dirs)];
}

function requireNodeGypBuild(dirs: readonly string[]): typeof NodeGypBuild | undefined {
  const bases = [...dirs, process.cwd()];
  if (typeof __filename === 'string') bases.unshift(dirname(__filename));
  for (const base of bases) {
    try {
      return createRequire(join(base, 'noop.js'))('node-gyp-build') as typeof NodeGypBuild;
    } catch {
      // not resolvable from here; try the next base
    }
  }
  return undefined;
}

/** Loads the addon once; throws AddonLoadError naming every directory searched. */
export function loadAddon(): I2sAudioAddon {
  if (cached) return cached;
  const dirs = addonSearchDirs();
  const nodeGypBuild = requireNodeGypBuild(dirs);
  if (!nodeGypBuild) {
    throw new AddonLoadError(`cannot load the i2s-audio addon: the node-gyp-build package is not installed near ${[...dirs, process.cwd()].join(', ')} (run npm ci)`, dirs);
  }
  const problems: string[] = [];
  for (const dir of dirs) {
    let file: string;
    try {
      file = nodeGypBuild.resolve(dir);
    } catch {
      problems.push(`${dir}: no build/Release or matching prebuild`);
      continue;
    }
    try {
      cached = nodeGypBuild(dir) as I2sAudioAddon;
      return cached;
    } catch (err) {
      // Found but failed to load: usually libasound2 or libopus0 is missing on this system.
      problems.push(`${file}: ${(err as Error).message}`);
    }
  }
  throw new AddonLoadError(
    `cannot load the i2s-audio addon (build it with \`npm rebuild\` or \`npm ci\`, or set TORLK_ADDON_DIR):\n  ${problems.join('\n  ') || 'no directory to search'}`,
    dirs,
  );
}
