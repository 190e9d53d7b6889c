// What must hold in every state the machine can reach. The types already rule out most nonsense
// (recording and playing at once cannot be written down); these are the rules types cannot express.
// Used by the property test after every step, and cheap enough to call in the shell when debugging.
import { RadioConfigError, RadioInvariantError } from './radio-errors.js';
import { checkRadioConfig, isFaulted } from './radio-state.js';
import { hardwareDevices, type RadioState } from './radio-types.js';

function seqOf(state: RadioState, id: string): number {
  const prefix = `${state.idPrefix}-`;
  if (!id.startsWith(prefix)) return Number.NaN;
  return Number(id.slice(prefix.length));
}

function unique(values: readonly string[]): boolean {
  return new Set(values).size === values.length;
}

export function assertInvariants(state: RadioState): void {
  const a = state.activity;
  const fail = (violation: string): never => {
    throw new RadioInvariantError(violation, a.kind);
  };
  try {
    checkRadioConfig(state.config);
  } catch (err) {
    if (err instanceof RadioConfigError) fail(`config: ${err.message}`);
    throw err;
  }
  if (!Number.isInteger(state.nextSeq) || state.nextSeq < 1) fail(`nextSeq ${state.nextSeq} is not a positive integer`);
  if (state.tor.kind === 'bootstrapping' && !(state.tor.progress >= 0 && state.tor.progress <= 100)) {
    fail(`tor progress ${state.tor.progress} outside 0–100`);
  }
  if (!unique(state.unheard.map((c) => c.clipId))) fail('a clip is queued twice in unheard');
  if (!unique(state.outgoing)) fail('a clip is listed twice in outgoing');
  const devices = state.faults.map((f) => f.device);
  if (!unique(devices)) fail('a device is faulted twice');
  const ordered = [...devices].sort((x, y) => hardwareDevices.indexOf(x) - hardwareDevices.indexOf(y));
  if (ordered.some((d, i) => d !== devices[i])) fail('faults are not in device order');

  switch (a.kind) {
    case 'idle':
      // Idle with something to play is only allowed when the speaker cannot play it.
      if (state.unheard.length > 0 && !isFaulted(state, 'speaker')) fail('idle while an unheard clip waits and the speaker works');
      break;
    case 'recording':
      if (isFaulted(state, 'microphone')) fail('recording with a faulted microphone');
      if (!(seqOf(state, a.recordingId) < state.nextSeq)) fail(`recording id ${a.recordingId} was not issued`);
      if (!Number.isFinite(a.pressedAt)) fail('recording without a press time');
      break;
    case 'playing':
      if (isFaulted(state, 'speaker')) fail('playing with a faulted speaker');
      if (!(seqOf(state, a.playbackId) < state.nextSeq)) fail(`playback id ${a.playbackId} was not issued`);
      if (a.source === 'queue' && state.unheard[0]?.clipId !== a.clipId) fail('playing a queued clip that is not the oldest unheard');
      if (a.source === 'replay' && state.lastHeard !== a.clipId) fail('replaying a clip that is not the last heard');
      break;
    case 'tapped':
      if (!Number.isFinite(a.releasedAt)) fail('tapped without a release time');
      break;
    case 'heldPastLimit':
      if (!Number.isFinite(a.since)) fail('held past the limit without a time');
      break;
  }
}
