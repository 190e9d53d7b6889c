// Typed audio errors. Each carries what a user needs: which device, what failed, ALSA's own words.

/**
 * missing: no such device; busy: held by another program; permission: not allowed to open it;
 * unplugged: failed while running; format: cannot do the format/rate/channels asked for;
 * config: the ALSA configuration fragment is bad; ended: the simulated input is used up;
 * closed: the device was closed during the operation; state: called at the wrong time;
 * codec: libopus refused (corrupt packet, ...).
 */
export type AudioErrorCode =
  | 'missing' | 'busy' | 'permission' | 'unplugged' | 'format' | 'config' | 'ended' | 'closed' | 'state' | 'codec';

const codes: ReadonlySet<string> = new Set(['missing', 'busy', 'permission', 'unplugged', 'format', 'config', 'ended', 'closed', 'state', 'codec']);

export interface AudioErrorDetails {
  device: string;
  /** Negative errno from ALSA, when ALSA reported the failure. */
  errno?: number;
  /** ALSA's snd_strerror() text. */
  alsaMessage?: string;
}

export class AudioDeviceError extends Error {
  override name = 'AudioDeviceError';
  readonly device: string;
  readonly errno: number | undefined;
  readonly alsaMessage: string | undefined;
  constructor(
    readonly code: AudioErrorCode,
    message: string,
    details: AudioErrorDetails,
  ) {
    super(message);
    this.device = details.device;
    this.errno = details.errno;
    this.alsaMessage = details.alsaMessage;
  }
}

/** A failure of the microphone (capture side). */
export class MicrophoneError extends AudioDeviceError {
  override name = 'MicrophoneError';
}

/** A failure of the speaker (playback side). */
export class SpeakerError extends AudioDeviceError {
  override name = 'SpeakerError';
}

/** Opus encoding or decoding failed, e.g. a corrupt packet. */
export class OpusCodecError extends Error {
  override name = 'OpusCodecError';
}

/** An option is out of range or of the wrong kind. */
export class AudioOptionError extends RangeError {
  override name = 'AudioOptionError';
}

/** The native addon could not be found or loaded. */
export class AddonLoadError extends Error {
  override name = 'AddonLoadError';
  constructor(
    message: string,
    readonly searched: readonly string[],
  ) {
    super(message);
  }
}

interface NativeFailure {
  code?: unknown;
  message?: unknown;
  errno?: unknown;
  alsaMessage?: unknown;
}

/** Turns what the addon threw or reported into a typed error of the given class. */
export function toAudioError(
  Kind: typeof MicrophoneError | typeof SpeakerError,
  device: string,
  failure: unknown,
): AudioDeviceError | AudioOptionError {
  if (failure instanceof AudioDeviceError || failure instanceof AudioOptionError) return failure;
  const f = (typeof failure === 'object' && failure !== null ? failure : {}) as NativeFailure;
  const message = typeof f.message === 'string' ? f.message : String(failure);
  const code = typeof f.code === 'string' && codes.has(f.code) ? (f.code as AudioErrorCode) : undefined;
  if (code === undefined) {
    // A TypeError/RangeError from argument checks in the addon: the caller's mistake, not the device's.
    if (failure instanceof RangeError || failure instanceof TypeError) return new AudioOptionError(message);
    return new Kind('state', message, { device });
  }
  return new Kind(code, message, {
    device,
    ...(typeof f.errno === 'number' && f.errno !== 0 ? { errno: f.errno } : {}),
    ...(typeof f.alsaMessage === 'string' && f.alsaMessage !== '' ? { alsaMessage: f.alsaMessage } : {}),
  });
}
