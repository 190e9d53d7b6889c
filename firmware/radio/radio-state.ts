// Building the radio's initial state from options, with the options checked once, here, so the
// transition function can trust its config.
import { RadioConfigError } from './radio-errors.js';
import { defaultRadioConfig, type HardwareDevice, type RadioConfig, type RadioState, type TorState } from './radio-types.js';

export interface RadioOptions extends Partial<RadioConfig> {
  /** Prefix for recording/playback ids; pass something unique per boot (default "r"). */
  readonly idPrefix?: string;
  /** Tor's state at start (default: starting). */
  readonly tor?: TorState;
}

function checkMs(field: keyof RadioConfig, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new RadioConfigError(field, value, `must be a finite number of milliseconds ≥ ${min}`);
  }
}

/** Validates a full config. Throws RadioConfigError naming the first bad field. */
export function checkRadioConfig(config: RadioConfig): RadioConfig {
  checkMs('minTapMs', config.minTapMs, 0);
  checkMs('maxLengthMs', config.maxLengthMs, 1);
  checkMs('doublePressWindowMs', config.doublePressWindowMs, 1);
  checkMs('deliveredNoticeMs', config.deliveredNoticeMs, 1);
  checkMs('maxLengthNoticeMs', config.maxLengthNoticeMs, 1);
  // A limit at or under the tap minimum would turn every recording into a discarded tap.
  if (config.maxLengthMs <= config.minTapMs) {
    throw new RadioConfigError('maxLengthMs', config.maxLengthMs, `must be greater than minTapMs (${config.minTapMs})`);
  }
  return config;
}

export function createRadioState(options: RadioOptions = {}): RadioState {
  const { idPrefix = 'r', tor = { kind: 'starting' }, ...overrides } = options;
  const config: RadioConfig = { ...defaultRadioConfig };
  for (const key of Object.keys(defaultRadioConfig) as (keyof RadioConfig)[]) {
    const value = overrides[key];
    if (value !== undefined) (config as Record<keyof RadioConfig, number>)[key] = value;
  }
  checkRadioConfig(config);
  if (typeof idPrefix !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(idPrefix)) {
    throw new RadioConfigError('idPrefix', idPrefix, 'must be 1–32 letters, digits, "_" or "-"');
  }
  return {
    config,
    idPrefix,
    nextSeq: 1,
    activity: { kind: 'idle' },
    tor,
    unheard: [],
    lastHeard: null,
    outgoing: [],
    faults: [],
    notice: null,
  };
}

export function isFaulted(state: RadioState, device: HardwareDevice): boolean {
  return state.faults.some((f) => f.device === device);
}
