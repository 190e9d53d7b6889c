// Every activity × every event of the radio machine, with the expected state and effects written
// out. The two axes come from the unions' runtime lists (activityKinds, radioEventTypes): add an
// activity or an event type and this file fails until the new pairs have expectations.
import { describe, expect, it } from 'vitest';
import { createRadioState, transition } from '../../firmware/radio/radio-machine.js';
import { assertInvariants } from '../../firmware/radio/radio-invariants.js';
import {
  activityKinds,
  radioEventTypes,
  type Activity,
  type RadioEffect,
  type RadioEvent,
  type RadioEventType,
  type RadioState,
  type Transition,
} from '../../firmware/radio/radio-types.js';

type Kind = Activity['kind'];

function run(state: RadioState, events: readonly RadioEvent[]): RadioState {
  return events.reduce((s, e) => transition(s, e).state, state);
}

// Common context: Tor connected, one clip already heard ("heard-1"), one clip in the outbox ("o-old").
const base = run(createRadioState({ idPrefix: 'r' }), [
  { type: 'torConnected', at: 1 },
  { type: 'clipArrived', clipId: 'heard-1', at: 10 },
  { type: 'playbackEnded', playbackId: 'r-1', at: 20 },
  { type: 'clipQueued', clipId: 'o-old', at: 30 },
]);

/** One reachable state per activity, and "now" for events sent to it. */
const fixtures: Record<Kind, { state: RadioState; now: number }> = {
  idle: { state: base, now: 2000 },
  recording: { state: run(base, [{ type: 'press', at: 1000 }]), now: 1500 },
  tapped: { state: run(base, [{ type: 'press', at: 1000 }, { type: 'release', at: 1100 }]), now: 1200 },
  playing: { state: run(base, [{ type: 'clipArrived', clipId: 'c-1', at: 1000 }]), now: 1500 },
  heldPastLimit: {
    state: run(base, [{ type: 'press', at: 1000 }, { type: 'timer', id: 'maxLength', at: 61_000 }]),
    now: 62_000,
  },
};

interface Variant {
  /** Events applied to the fixture before the one under test (setting up a fault to recover from). */
  prepare?: (now: number) => RadioEvent[];
  event: (s: RadioState, now: number) => RadioEvent;
}

const currentPlayback = (s: RadioState) => (s.activity.kind === 'playing' ? s.activity.playbackId : 'r-2');
const pressedAt = (s: RadioState) => (s.activity.kind === 'recording' ? s.activity.pressedAt : 0);

/** Every event type, with the variants that take different paths through the machine. */
const variants: Record<RadioEventType, Record<string, Variant>> = {
  press: {
    press: { event: (s, now) => ({ type: 'press', at: s.activity.kind === 'tapped' ? s.activity.releasedAt + 100 : now }) },
    pressLate: { event: (s, now) => ({ type: 'press', at: s.activity.kind === 'tapped' ? s.activity.releasedAt + 1000 : now }) },
  },
  release: {
    releaseShort: { event: (s, now) => ({ type: 'release', at: s.activity.kind === 'recording' ? pressedAt(s) + 100 : now }) },
    releaseLong: { event: (s, now) => ({ type: 'release', at: s.activity.kind === 'recording' ? pressedAt(s) + 1000 : now }) },
  },
  timer: {
    timerMaxLength: { event: (_s, now) => ({ type: 'timer', id: 'maxLength', at: now }) },
    timerDoublePress: { event: (_s, now) => ({ type: 'timer', id: 'doublePress', at: now }) },
    timerNotice: { event: (_s, now) => ({ type: 'timer', id: 'notice', at: now }) },
  },
  clipArrived: { clipArrived: { event: (_s, now) => ({ type: 'clipArrived', clipId: 'c-new', at: now }) } },
  playbackEnded: {
    playbackEndedCurrent: { event: (s, now) => ({ type: 'playbackEnded', playbackId: currentPlayback(s), at: now }) },
    playbackEndedStale: { event: (_s, now) => ({ type: 'playbackEnded', playbackId: 'r-999', at: now }) },
  },
  torStarting: { torStarting: { event: (_s, now) => ({ type: 'torStarting', at: now }) } },
  torBootstrapping: { torBootstrapping: { event: (_s, now) => ({ type: 'torBootstrapping', progress: 45, at: now }) } },
  torConnected: { torConnected: { event: (_s, now) => ({ type: 'torConnected', at: now }) } },
  torError: { torError: { event: (_s, now) => ({ type: 'torError', reason: 'tor exited with code 1', at: now }) } },
  torClockWrong: { torClockWrong: { event: (_s, now) => ({ type: 'torClockWrong', detail: 'consensus 3 days in the future', at: now }) } },
  clipQueued: { clipQueued: { event: (_s, now) => ({ type: 'clipQueued', clipId: 'o-new', at: now }) } },
  clipDelivered: { clipDelivered: { event: (_s, now) => ({ type: 'clipDelivered', clipId: 'o-old', at: now }) } },
  clipFailed: { clipFailed: { event: (_s, now) => ({ type: 'clipFailed', clipId: 'o-old', reason: 'expired', at: now }) } },
  hardwareFault: {
    faultMicrophone: { event: (_s, now) => ({ type: 'hardwareFault', device: 'microphone', reason: 'EIO', at: now }) },
    faultSpeaker: { event: (_s, now) => ({ type: 'hardwareFault', device: 'speaker', reason: 'EIO', at: now }) },
    faultButton: { event: (_s, now) => ({ type: 'hardwareFault', device: 'button', reason: 'unexported', at: now }) },
  },
  hardwareRecovered: {
    recoverButton: {
      prepare: (now) => [{ type: 'hardwareFault', device: 'button', reason: 'unexported', at: now }],
      event: (_s, now) => ({ type: 'hardwareRecovered', device: 'button', at: now }),
    },
    recoverNotFaulted: { event: (_s, now) => ({ type: 'hardwareRecovered', device: 'speaker', at: now }) },
  },
};

type Check = (before: RadioState, after: Transition, event: RadioEvent) => void;

const unchanged: Check = (before, t) => {
  expect(t.state).toEqual(before);
  expect(t.effects).toEqual([]);
};
const ignoredWithLog: Check = (before, t) => {
  expect(t.state).toEqual(before);
  expect(t.effects.map((e) => e.type)).toEqual(['log']);
};
const onlyFields = (patch: (before: RadioState, e: RadioEvent) => Partial<RadioState>, effects: RadioEffect[] = []): Check => (before, t, e) => {
  expect(t.state).toEqual({ ...before, ...patch(before, e) });
  expect(t.effects).toEqual(effects);
};
const everywhere = (check: Check): Record<Kind, Check> => ({ idle: check, recording: check, tapped: check, playing: check, heldPastLimit: check });
const fault = (device: 'microphone' | 'speaker' | 'button') => (b: RadioState) => ({ faults: [...b.faults, { device, reason: device === 'button' ? 'unexported' : 'EIO' }] });
const startRec = (id: string): RadioEffect[] => [{ type: 'startRecording', recordingId: id }, { type: 'startTimer', id: 'maxLength', ms: 60_000 }];

const pressChecks: Record<Kind, Check> = {
  idle: (_b, t) => {
    expect(t.state.activity).toEqual({ kind: 'recording', recordingId: 'r-2', pressedAt: 2000, afterTap: false });
    expect(t.effects).toEqual(startRec('r-2'));
  },
  recording: ignoredWithLog,
  tapped: (_b, t) => {
    expect(t.state.activity).toEqual({ kind: 'recording', recordingId: 'r-3', pressedAt: 1200, afterTap: true });
    expect(t.effects).toEqual([{ type: 'cancelTimer', id: 'doublePress' }, ...startRec('r-3')]);
  },
  playing: (b, t) => {
    expect(t.state.activity).toEqual({ kind: 'recording', recordingId: 'r-3', pressedAt: 1500, afterTap: false });
    expect(t.effects).toEqual([{ type: 'stopPlayback', playbackId: 'r-2' }, ...startRec('r-3')]);
    expect(t.state.unheard).toEqual(b.unheard); // the interrupted clip is still unheard
  },
  heldPastLimit: ignoredWithLog,
};

const releaseOthers = { idle: unchanged, tapped: unchanged, playing: unchanged, heldPastLimit: onlyFields(() => ({ activity: { kind: 'idle' } })) };

const expectations: Record<Kind, Record<string, Check>> = {} as Record<Kind, Record<string, Check>>;
const byVariant: Record<string, Record<Kind, Check>> = {
  press: pressChecks,
  pressLate: {
    ...pressChecks,
    tapped: (_b, t) => {
      expect(t.state.activity).toEqual({ kind: 'recording', recordingId: 'r-3', pressedAt: 2100, afterTap: false });
      expect(t.effects).toEqual([{ type: 'cancelTimer', id: 'doublePress' }, ...startRec('r-3')]);
    },
  },
  releaseShort: {
    ...releaseOthers,
    recording: onlyFields(() => ({ activity: { kind: 'tapped', releasedAt: 1100 } }), [
      { type: 'cancelTimer', id: 'maxLength' },
      { type: 'discardRecording', recordingId: 'r-2', reason: 'tooShort' },
      { type: 'startTimer', id: 'doublePress', ms: 400 },
    ]),
  },
  releaseLong: {
    ...releaseOthers,
    recording: onlyFields(() => ({ activity: { kind: 'idle' }, outgoing: ['o-old', 'r-2'] }), [
      { type: 'cancelTimer', id: 'maxLength' },
      { type: 'stopRecording', recordingId: 'r-2' },
      { type: 'sendClip', recordingId: 'r-2', durationMs: 1000 },
    ]),
  },
  timerMaxLength: {
    ...everywhere(unchanged),
    recording: onlyFields(() => ({ activity: { kind: 'heldPastLimit', since: 1500 }, outgoing: ['o-old', 'r-2'], notice: { kind: 'maxLength', since: 1500 } }), [
      { type: 'stopRecording', recordingId: 'r-2' },
      { type: 'sendClip', recordingId: 'r-2', durationMs: 60_000 },
      { type: 'startTimer', id: 'notice', ms: 2000 },
    ]),
  },
  timerDoublePress: { ...everywhere(unchanged), tapped: onlyFields(() => ({ activity: { kind: 'idle' } })) },
  timerNotice: { ...everywhere(unchanged), heldPastLimit: onlyFields(() => ({ notice: null })) },
  clipArrived: {
    ...everywhere(onlyFields((b, e) => ({ unheard: [...b.unheard, { clipId: 'c-new', arrivedAt: e.at }] }))),
    idle: onlyFields(() => ({ unheard: [{ clipId: 'c-new', arrivedAt: 2000 }], nextSeq: 3, activity: { kind: 'playing', playbackId: 'r-2', clipId: 'c-new', source: 'queue' } }), [
      { type: 'play', playbackId: 'r-2', clipId: 'c-new' },
    ]),
  },
  playbackEndedCurrent: {
    ...everywhere(unchanged),
    playing: onlyFields(() => ({ unheard: [], lastHeard: 'c-1', activity: { kind: 'idle' } })),
  },
  playbackEndedStale: everywhere(unchanged),
  torStarting: everywhere(onlyFields(() => ({ tor: { kind: 'starting' } }))),
  torBootstrapping: everywhere(onlyFields(() => ({ tor: { kind: 'bootstrapping', progress: 45 } }))),
  torConnected: everywhere(unchanged), // the fixtures are already connected
  torError: everywhere(onlyFields(() => ({ tor: { kind: 'error', reason: 'tor exited with code 1' } }))),
  torClockWrong: everywhere(onlyFields(() => ({ tor: { kind: 'clockWrong', detail: 'consensus 3 days in the future' } }))),
  clipQueued: everywhere(onlyFields((b) => ({ outgoing: [...b.outgoing, 'o-new'] }))),
  clipDelivered: {
    ...everywhere(
      onlyFields((b, e) => ({ outgoing: b.outgoing.filter((id) => id !== 'o-old'), notice: { kind: 'delivered', since: e.at } }), [
        { type: 'startTimer', id: 'notice', ms: 1500 },
      ]),
    ),
    // The max-length warning is not cut short by good news.
    heldPastLimit: onlyFields((b) => ({ outgoing: b.outgoing.filter((id) => id !== 'o-old') })),
  },
  clipFailed: everywhere((b, t) => {
    expect(t.state).toEqual({ ...b, outgoing: b.outgoing.filter((id) => id !== 'o-old') });
    expect(t.effects).toEqual([{ type: 'log', level: 'warn', message: 'clip o-old not delivered: expired' }]);
  }),
  faultMicrophone: {
    ...everywhere(onlyFields(fault('microphone'))),
    recording: onlyFields((b) => ({ ...fault('microphone')(b), activity: { kind: 'idle' }, outgoing: ['o-old', 'r-2'] }), [
      { type: 'cancelTimer', id: 'maxLength' },
      { type: 'stopRecording', recordingId: 'r-2' },
      { type: 'sendClip', recordingId: 'r-2', durationMs: 500 },
    ]),
  },
  faultSpeaker: {
    ...everywhere(onlyFields(fault('speaker'))),
    playing: onlyFields((b) => ({ ...fault('speaker')(b), activity: { kind: 'idle' } }), [{ type: 'stopPlayback', playbackId: 'r-2' }]),
  },
  faultButton: everywhere(onlyFields(fault('button'))),
  recoverButton: everywhere(onlyFields(() => ({ faults: [] }))),
  recoverNotFaulted: everywhere(unchanged),
};
for (const kind of activityKinds) {
  expectations[kind] = {};
  for (const [variant, checks] of Object.entries(byVariant)) expectations[kind][variant] = checks[kind];
}

describe('radio machine: every activity × every event', () => {
  it('has a fixture for every activity and variants for every event type', () => {
    expect(Object.keys(fixtures).sort()).toEqual([...activityKinds].sort());
    for (const kind of activityKinds) expect(fixtures[kind].state.activity.kind).toBe(kind);
    expect(Object.keys(variants).sort()).toEqual([...radioEventTypes].sort());
    const variantNames = Object.values(variants).flatMap((v) => Object.keys(v));
    expect(Object.keys(byVariant).sort()).toEqual(variantNames.sort());
  });

  for (const kind of activityKinds) {
    for (const type of radioEventTypes) {
      for (const [name, variant] of Object.entries(variants[type])) {
        it(`${kind} × ${type} (${name})`, () => {
          const check = expectations[kind][name];
          if (!check) throw new Error(`no expectation written for ${kind} × ${name}`);
          const { state: fixture, now } = fixtures[kind];
          const before = run(fixture, variant.prepare?.(now) ?? []);
          const event = variant.event(before, now);
          expect(event.type).toBe(type);
          const after = transition(before, event);
          check(before, after, event);
          assertInvariants(after.state);
        });
      }
    }
  }
});
