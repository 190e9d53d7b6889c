// The radio core's vocabulary: state, events (inputs) and effects (outputs) as discriminated unions.
// The transition function in radio-machine.ts maps (state, event) → (state, effects) and does no I/O;
// timers are requested through effects and come back as events, so every input carries its own time.

/** Timers the machine asks the shell to run. One timer per id: starting a running id replaces it. */
export type RadioTimerId = 'maxLength' | 'doublePress' | 'notice';
export const radioTimerIds: readonly RadioTimerId[] = ['maxLength', 'doublePress', 'notice'];

export type HardwareDevice = 'microphone' | 'speaker' | 'button' | 'led';
export const hardwareDevices: readonly HardwareDevice[] = ['microphone', 'speaker', 'button', 'led'];

export interface RadioConfig {
  /** Presses released sooner than this are taps: their recording is discarded, never sent. */
  readonly minTapMs: number;
  /** A recording is cut off (and sent) after this long, with the max-length warning. */
  readonly maxLengthMs: number;
  /** Two taps whose gap (first release → second press) is within this window replay the last clip. */
  readonly doublePressWindowMs: number;
  /** How long the one-shot "delivered" notice shows. */
  readonly deliveredNoticeMs: number;
  /** How long the max-length warning shows at least (it also shows while the button stays held). */
  readonly maxLengthNoticeMs: number;
}

export const defaultRadioConfig: RadioConfig = {
  minTapMs: 250,
  maxLengthMs: 60_000,
  doublePressWindowMs: 400,
  deliveredNoticeMs: 1_500,
  maxLengthNoticeMs: 2_000,
};

/** Tor as the LED needs to know it. `starting` is bootstrapping before the first progress report. */
export type TorState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'bootstrapping'; readonly progress: number }
  | { readonly kind: 'connected' }
  | { readonly kind: 'error'; readonly reason: string }
  | { readonly kind: 'clockWrong'; readonly detail: string };

/** A received clip waiting to be heard. The id is the inbox's. */
export interface UnheardClip {
  readonly clipId: string;
  readonly arrivedAt: number;
}

/** What the radio is doing with its microphone and speaker: at most one thing at a time (half duplex). */
export type Activity =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'recording';
      readonly recordingId: string;
      readonly pressedAt: number;
      /** True when this press followed a short tap inside the double-press window. */
      readonly afterTap: boolean;
    }
  /** A short tap was released; a second tap within the window means "replay". Playback waits meanwhile. */
  | { readonly kind: 'tapped'; readonly releasedAt: number }
  | {
      readonly kind: 'playing';
      readonly playbackId: string;
      readonly clipId: string;
      /** `queue`: the head of `unheard`, removed only when it plays to the end. `replay`: an already heard clip. */
      readonly source: 'queue' | 'replay';
    }
  /** The max length cut the recording off while the button is still held: wait for the release. */
  | { readonly kind: 'heldPastLimit'; readonly since: number };

export type Notice = { readonly kind: 'delivered' | 'maxLength'; readonly since: number } | null;

export interface RadioState {
  readonly config: RadioConfig;
  /** Prefix of recording and playback ids, so ids from different boots never collide in the outbox. */
  readonly idPrefix: string;
  /** Next number for a recording or playback id. */
  readonly nextSeq: number;
  readonly activity: Activity;
  readonly tor: TorState;
  /** Received clips not yet played to the end, oldest first. */
  readonly unheard: readonly UnheardClip[];
  /** The last clip heard to the end: what a double press replays. */
  readonly lastHeard: string | null;
  /** Clips handed to the outbox and not yet delivered or given up on, oldest first. */
  readonly outgoing: readonly string[];
  /** Hardware currently faulted, with the reason, in a fixed device order. */
  readonly faults: readonly { readonly device: HardwareDevice; readonly reason: string }[];
  readonly notice: Notice;
}

/** Every input. `at` is a monotonic millisecond timestamp (the button's clock, performance.now()). */
export type RadioEvent =
  | { readonly type: 'press'; readonly at: number }
  | { readonly type: 'release'; readonly at: number }
  | { readonly type: 'timer'; readonly id: RadioTimerId; readonly at: number }
  | { readonly type: 'clipArrived'; readonly clipId: string; readonly at: number }
  /** The speaker finished a clip it was asked to play (not sent after stopPlayback, ignored if stale). */
  | { readonly type: 'playbackEnded'; readonly playbackId: string; readonly at: number }
  | { readonly type: 'torStarting'; readonly at: number }
  | { readonly type: 'torBootstrapping'; readonly progress: number; readonly at: number }
  | { readonly type: 'torConnected'; readonly at: number }
  | { readonly type: 'torError'; readonly reason: string; readonly at: number }
  | { readonly type: 'torClockWrong'; readonly detail: string; readonly at: number }
  /** The outbox persisted a clip (ours from this boot, or one left from an earlier boot). */
  | { readonly type: 'clipQueued'; readonly clipId: string; readonly at: number }
  | { readonly type: 'clipDelivered'; readonly clipId: string; readonly at: number }
  | { readonly type: 'clipFailed'; readonly clipId: string; readonly reason: 'expired' | 'rejected' | 'storage'; readonly at: number }
  | { readonly type: 'hardwareFault'; readonly device: HardwareDevice; readonly reason: string; readonly at: number }
  | { readonly type: 'hardwareRecovered'; readonly device: HardwareDevice; readonly at: number };

export type RadioEventType = RadioEvent['type'];

export type DiscardReason = 'tooShort' | 'doublePress';

/** Every output. The shell runs them in order. */
export type RadioEffect =
  /** Start capturing (and streaming) a clip. */
  | { readonly type: 'startRecording'; readonly recordingId: string }
  /** Finish the clip (it is kept: a sendClip for the same id follows at once). */
  | { readonly type: 'stopRecording'; readonly recordingId: string }
  /** Throw the in-flight recording and any stream of it away: it must never be sent. */
  | { readonly type: 'discardRecording'; readonly recordingId: string; readonly reason: DiscardReason }
  /** Hand the finished clip to the outbox, which persists and delivers it (or queues it while Tor is down). */
  | { readonly type: 'sendClip'; readonly recordingId: string; readonly durationMs: number }
  | { readonly type: 'play'; readonly playbackId: string; readonly clipId: string }
  | { readonly type: 'stopPlayback'; readonly playbackId: string }
  | { readonly type: 'startTimer'; readonly id: RadioTimerId; readonly ms: number }
  | { readonly type: 'cancelTimer'; readonly id: RadioTimerId }
  /** Something a person debugging the radio wants to know (an ignored press, an empty replay). */
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly message: string };

export interface Transition {
  readonly state: RadioState;
  readonly effects: readonly RadioEffect[];
}

// Runtime lists of the unions' tags. Written as Records so that adding a member to a union without
// listing it here is a compile error; the state × event test matrix is generated from these lists.
const activityKindSet: Record<Activity['kind'], true> = {
  idle: true,
  recording: true,
  tapped: true,
  playing: true,
  heldPastLimit: true,
};
export const activityKinds = Object.keys(activityKindSet) as readonly Activity['kind'][];

const eventTypeSet: Record<RadioEventType, true> = {
  press: true,
  release: true,
  timer: true,
  clipArrived: true,
  playbackEnded: true,
  torStarting: true,
  torBootstrapping: true,
  torConnected: true,
  torError: true,
  torClockWrong: true,
  clipQueued: true,
  clipDelivered: true,
  clipFailed: true,
  hardwareFault: true,
  hardwareRecovered: true,
};
export const radioEventTypes = Object.keys(eventTypeSet) as readonly RadioEventType[];
