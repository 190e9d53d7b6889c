// Scenarios through the radio machine: the behaviours issue 2 and issue 5 ask for, told as stories,
// plus every kind of bad option and malformed event.
import { describe, expect, it } from 'vitest';
import { RadioConfigError, RadioInputError, RadioInvariantError } from '../../firmware/radio/radio-errors.js';
import { assertInvariants } from '../../firmware/radio/radio-invariants.js';
import { createRadioState, transition } from '../../firmware/radio/radio-machine.js';
import type { RadioEffect, RadioEvent, RadioState } from '../../firmware/radio/radio-types.js';
import { ledPatternFor } from '../../firmware/radio/led-patterns.js';

/** Runs events in order, checking invariants after each; returns the last state and all effects. */
function play(events: readonly RadioEvent[], state: RadioState = createRadioState()) {
  const effects: RadioEffect[] = [];
  for (const e of events) {
    const t = transition(state, e);
    state = t.state;
    effects.push(...t.effects);
    assertInvariants(state);
  }
  return { state, effects };
}
const types = (effects: readonly RadioEffect[]) => effects.map((e) => e.type);
const sends = (effects: readonly RadioEffect[]) => effects.filter((e) => e.type === 'sendClip');

describe('push to talk', () => {
  it('records from press to release and sends the clip once', () => {
    const { state, effects } = play([
      { type: 'press', at: 100 },
      { type: 'release', at: 3100 },
    ]);
    expect(types(effects)).toEqual(['startRecording', 'startTimer', 'cancelTimer', 'stopRecording', 'sendClip']);
    expect(sends(effects)).toEqual([{ type: 'sendClip', recordingId: 'r-1', durationMs: 3000 }]);
    expect(state.outgoing).toEqual(['r-1']);
  });

  it('keeps a press exactly at the tap minimum, discards one a millisecond shorter', () => {
    expect(sends(play([{ type: 'press', at: 0 }, { type: 'release', at: 250 }]).effects)).toHaveLength(1);
    const short = play([{ type: 'press', at: 0 }, { type: 'release', at: 249 }]);
    expect(sends(short.effects)).toHaveLength(0);
    expect(short.effects).toContainEqual({ type: 'discardRecording', recordingId: 'r-1', reason: 'tooShort' });
  });

  it('honours a configured tap minimum', () => {
    const s = createRadioState({ minTapMs: 1000 });
    expect(sends(play([{ type: 'press', at: 0 }, { type: 'release', at: 900 }], s).effects)).toHaveLength(0);
  });

  it('cuts a recording at the maximum length, sends it, warns until release, then waits for a new press', () => {
    const s = createRadioState({ maxLengthMs: 5000 });
    const atLimit = play([{ type: 'press', at: 0 }, { type: 'timer', id: 'maxLength', at: 5000 }], s);
    expect(sends(atLimit.effects)).toEqual([{ type: 'sendClip', recordingId: 'r-1', durationMs: 5000 }]);
    expect(atLimit.state.activity.kind).toBe('heldPastLimit');
    expect(ledPatternFor(atLimit.state).name).toBe('maxLength');
    const released = play([{ type: 'release', at: 9000 }], atLimit.state);
    expect(released.effects).toEqual([]); // the release does not send a second clip
    expect(ledPatternFor(released.state).name).toBe('maxLength'); // the notice outlives a quick release
    const after = play([{ type: 'timer', id: 'notice', at: 9500 }], released.state);
    expect(ledPatternFor(after.state).name).toBe('sending');
  });

  it('keeps recording and queues the clip for sending while Tor is down', () => {
    const { state, effects } = play([
      { type: 'torError', reason: 'tor exited with code 1', at: 0 },
      { type: 'press', at: 10 },
    ]);
    expect(ledPatternFor(state).name).toBe('recording');
    const done = play([{ type: 'release', at: 2000 }], state);
    expect(sends([...effects, ...done.effects])).toHaveLength(1);
    expect(ledPatternFor(done.state).name).toBe('sending');
    const delivered = play([{ type: 'torConnected', at: 5000 }, { type: 'clipDelivered', clipId: 'r-1', at: 6000 }], done.state);
    expect(delivered.state.outgoing).toEqual([]);
    expect(ledPatternFor(delivered.state).name).toBe('delivered');
    expect(ledPatternFor(play([{ type: 'timer', id: 'notice', at: 7500 }], delivered.state).state).name).toBe('connected');
  });

  it('tracks clips the outbox reports from an earlier boot, and forgets failed ones with a warning', () => {
    const { state, effects } = play([
      { type: 'clipQueued', clipId: 'old-1', at: 0 },
      { type: 'clipQueued', clipId: 'old-1', at: 1 },
      { type: 'clipQueued', clipId: 'old-2', at: 2 },
      { type: 'clipFailed', clipId: 'old-1', reason: 'expired', at: 3 },
    ]);
    expect(state.outgoing).toEqual(['old-2']);
    expect(effects).toEqual([{ type: 'log', level: 'warn', message: 'clip old-1 not delivered: expired' }]);
  });

  it('ignores a press or release that repeats the last edge', () => {
    const { effects } = play([
      { type: 'release', at: 0 },
      { type: 'press', at: 10 },
      { type: 'press', at: 20 },
      { type: 'release', at: 1000 },
      { type: 'release', at: 1010 },
    ]);
    expect(types(effects).filter((t) => t === 'startRecording')).toHaveLength(1);
    expect(sends(effects)).toEqual([{ type: 'sendClip', recordingId: 'r-1', durationMs: 990 }]);
  });

  it('reports a zero duration, not a negative one, when the clock steps back', () => {
    const { effects } = play([{ type: 'press', at: 1000 }, { type: 'release', at: 500 }]);
    expect(effects).toContainEqual({ type: 'discardRecording', recordingId: 'r-1', reason: 'tooShort' });
  });

  it('uses the id prefix so ids from different boots differ', () => {
    const { effects } = play([{ type: 'press', at: 0 }], createRadioState({ idPrefix: 'boot7' }));
    expect(effects[0]).toEqual({ type: 'startRecording', recordingId: 'boot7-1' });
  });
});

describe('incoming clips', () => {
  const connected = play([{ type: 'torConnected', at: 0 }]).state;

  it('play one at a time, oldest first, and the LED says unheard while they wait', () => {
    const r = play(
      [
        { type: 'press', at: 0 },
        { type: 'clipArrived', clipId: 'a', at: 100 },
        { type: 'clipArrived', clipId: 'b', at: 200 },
      ],
      connected,
    );
    expect(types(r.effects)).not.toContain('play'); // not while talking
    const released = play([{ type: 'release', at: 1000 }], r.state);
    expect(released.effects.filter((e) => e.type === 'play')).toEqual([{ type: 'play', playbackId: 'r-2', clipId: 'a' }]);
    const next = play([{ type: 'playbackEnded', playbackId: 'r-2', at: 2000 }], released.state);
    expect(next.effects).toEqual([{ type: 'play', playbackId: 'r-3', clipId: 'b' }]);
    const done = play([{ type: 'playbackEnded', playbackId: 'r-3', at: 3000 }], next.state);
    expect(done.state.unheard).toEqual([]);
    expect(done.state.lastHeard).toBe('b');
  });

  it('a press during playback stops it and records; the clip stays unheard and plays again afterwards', () => {
    const playing = play([{ type: 'clipArrived', clipId: 'a', at: 0 }], connected);
    const talking = play([{ type: 'press', at: 500 }], playing.state);
    expect(types(talking.effects)).toEqual(['stopPlayback', 'startRecording', 'startTimer']);
    expect(talking.state.unheard.map((c) => c.clipId)).toEqual(['a']);
    expect(ledPatternFor(talking.state).name).toBe('recording');
    const after = play([{ type: 'release', at: 2000 }], talking.state);
    expect(after.effects.at(-1)).toEqual({ type: 'play', playbackId: 'r-3', clipId: 'a' });
    // The interrupted playback's late report must not end the new one.
    const stale = play([{ type: 'playbackEnded', playbackId: 'r-1', at: 2100 }], after.state);
    expect(stale.state).toEqual(after.state);
  });

  it('a duplicate arrival of a waiting clip is queued once', () => {
    const { state } = play([{ type: 'press', at: 0 }, { type: 'clipArrived', clipId: 'a', at: 1 }, { type: 'clipArrived', clipId: 'a', at: 2 }], connected);
    expect(state.unheard.map((c) => c.clipId)).toEqual(['a']);
  });

  it('wait while the speaker is faulted and play when it recovers', () => {
    const faulted = play([{ type: 'hardwareFault', device: 'speaker', reason: 'EIO', at: 0 }, { type: 'clipArrived', clipId: 'a', at: 1 }], connected);
    expect(faulted.effects).toEqual([]);
    expect(ledPatternFor(faulted.state).name).toBe('fault');
    const back = play([{ type: 'hardwareRecovered', device: 'speaker', at: 2 }], faulted.state);
    expect(back.effects).toEqual([{ type: 'play', playbackId: 'r-1', clipId: 'a' }]);
  });

  it('a speaker fault mid-clip stops it and keeps it unheard', () => {
    const r = play([{ type: 'clipArrived', clipId: 'a', at: 0 }, { type: 'hardwareFault', device: 'speaker', reason: 'EIO', at: 1 }], connected);
    expect(types(r.effects)).toEqual(['play', 'stopPlayback']);
    expect(r.state.unheard.map((c) => c.clipId)).toEqual(['a']);
    expect(r.state.activity.kind).toBe('idle');
  });
});

describe('double press replays the last clip', () => {
  const heard = play([
    { type: 'torConnected', at: 0 },
    { type: 'clipArrived', clipId: 'a', at: 0 },
    { type: 'playbackEnded', playbackId: 'r-1', at: 1000 },
  ]).state;

  it('two short taps within the window replay it, and neither tap is sent', () => {
    const r = play(
      [
        { type: 'press', at: 2000 },
        { type: 'release', at: 2100 },
        { type: 'press', at: 2400 },
        { type: 'release', at: 2500 },
      ],
      heard,
    );
    expect(sends(r.effects)).toEqual([]);
    expect(r.effects.filter((e) => e.type === 'discardRecording').map((e) => (e as { reason: string }).reason)).toEqual(['tooShort', 'doublePress']);
    expect(r.effects.at(-1)).toEqual({ type: 'play', playbackId: 'r-4', clipId: 'a' });
    expect(r.state.activity).toEqual({ kind: 'playing', playbackId: 'r-4', clipId: 'a', source: 'replay' });
    const ended = play([{ type: 'playbackEnded', playbackId: 'r-4', at: 4000 }], r.state);
    expect(ended.state.lastHeard).toBe('a');
    expect(ended.state.activity.kind).toBe('idle');
  });

  it('a second tap after the window is just another tap', () => {
    const r = play(
      [
        { type: 'press', at: 2000 },
        { type: 'release', at: 2100 },
        { type: 'timer', id: 'doublePress', at: 2500 },
        { type: 'press', at: 2600 },
        { type: 'release', at: 2700 },
      ],
      heard,
    );
    expect(types(r.effects)).not.toContain('play');
    expect(r.state.activity.kind).toBe('tapped');
  });

  it('a tap then a long press sends the long press', () => {
    const r = play(
      [
        { type: 'press', at: 2000 },
        { type: 'release', at: 2100 },
        { type: 'press', at: 2300 },
        { type: 'release', at: 4300 },
      ],
      heard,
    );
    expect(sends(r.effects)).toEqual([{ type: 'sendClip', recordingId: 'r-3', durationMs: 2000 }]);
  });

  it('a double press during playback restarts the interrupted clip, not an older one', () => {
    const playing = play([{ type: 'clipArrived', clipId: 'b', at: 1500 }], heard);
    const r = play([{ type: 'press', at: 2000 }, { type: 'release', at: 2100 }, { type: 'press', at: 2200 }, { type: 'release', at: 2300 }], playing.state);
    expect(r.effects.at(-1)).toEqual({ type: 'play', playbackId: 'r-5', clipId: 'b' });
    expect(r.state.activity).toMatchObject({ kind: 'playing', clipId: 'b', source: 'queue' });
  });

  it('with nothing heard yet, says so and idles', () => {
    const r = play([
      { type: 'press', at: 0 },
      { type: 'release', at: 100 },
      { type: 'press', at: 200 },
      { type: 'release', at: 300 },
    ]);
    expect(r.effects.at(-1)).toEqual({ type: 'log', level: 'info', message: 'double press: no clip heard yet to replay' });
    expect(r.state.activity.kind).toBe('idle');
  });

  it('with a faulted speaker, says so and idles', () => {
    const s = play([{ type: 'hardwareFault', device: 'speaker', reason: 'EIO', at: 1500 }], heard).state;
    const r = play([{ type: 'press', at: 2000 }, { type: 'release', at: 2100 }, { type: 'press', at: 2200 }, { type: 'release', at: 2300 }], s);
    expect(r.effects.at(-1)).toEqual({ type: 'log', level: 'warn', message: 'double press: the speaker is faulted' });
  });

  it('clips arriving between the taps wait for the window, then play', () => {
    const r = play([{ type: 'press', at: 2000 }, { type: 'release', at: 2100 }, { type: 'clipArrived', clipId: 'b', at: 2200 }], heard);
    expect(types(r.effects)).not.toContain('play');
    const after = play([{ type: 'timer', id: 'doublePress', at: 2500 }], r.state);
    expect(after.effects).toEqual([{ type: 'play', playbackId: 'r-3', clipId: 'b' }]);
  });
});

describe('hardware faults', () => {
  it('a press with a faulted microphone records nothing and says why', () => {
    const r = play([{ type: 'hardwareFault', device: 'microphone', reason: 'no such device', at: 0 }, { type: 'press', at: 10 }, { type: 'release', at: 2000 }]);
    expect(r.effects).toEqual([{ type: 'log', level: 'warn', message: 'press ignored: the microphone is faulted' }]);
    expect(ledPatternFor(r.state).name).toBe('fault');
  });

  it('a microphone fault during a short recording discards it', () => {
    const r = play([{ type: 'press', at: 0 }, { type: 'hardwareFault', device: 'microphone', reason: 'EIO', at: 100 }]);
    expect(r.effects).toContainEqual({ type: 'discardRecording', recordingId: 'r-1', reason: 'tooShort' });
    expect(sends(r.effects)).toEqual([]);
  });

  it('a second fault of the same device replaces the reason, and faults stay in device order', () => {
    const r = play([
      { type: 'hardwareFault', device: 'led', reason: 'x', at: 0 },
      { type: 'hardwareFault', device: 'speaker', reason: 'first', at: 1 },
      { type: 'hardwareFault', device: 'speaker', reason: 'second', at: 2 },
    ]);
    expect(r.state.faults).toEqual([{ device: 'speaker', reason: 'second' }, { device: 'led', reason: 'x' }]);
    expect(play([{ type: 'hardwareRecovered', device: 'speaker', at: 3 }, { type: 'hardwareRecovered', device: 'led', at: 4 }], r.state).state.faults).toEqual([]);
  });
});

describe('bad options', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['negative tap minimum', { minTapMs: -1 }, 'minTapMs'],
    ['NaN tap minimum', { minTapMs: Number.NaN }, 'minTapMs'],
    ['string max length', { maxLengthMs: '60000' }, 'maxLengthMs'],
    ['infinite max length', { maxLengthMs: Number.POSITIVE_INFINITY }, 'maxLengthMs'],
    ['max length not above the tap minimum', { minTapMs: 500, maxLengthMs: 500 }, 'maxLengthMs'],
    ['zero double-press window', { doublePressWindowMs: 0 }, 'doublePressWindowMs'],
    ['zero delivered notice', { deliveredNoticeMs: 0 }, 'deliveredNoticeMs'],
    ['negative max-length notice', { maxLengthNoticeMs: -5 }, 'maxLengthNoticeMs'],
    ['empty id prefix', { idPrefix: '' }, 'idPrefix'],
    ['id prefix with a space', { idPrefix: 'a b' }, 'idPrefix'],
  ];
  for (const [name, options, field] of cases) {
    it(`rejects ${name}`, () => {
      const err = (() => {
        try {
          createRadioState(options as never);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(RadioConfigError);
      expect((err as RadioConfigError).field).toBe(field);
      expect((err as Error).message).toContain(field);
    });
  }

  it('accepts the defaults from the issue', () => {
    expect(createRadioState().config).toMatchObject({ minTapMs: 250, maxLengthMs: 60_000, doublePressWindowMs: 400 });
  });
});

describe('malformed events', () => {
  const s = createRadioState();
  const cases: [string, unknown, string][] = [
    ['an unknown type', { type: 'explode', at: 0 }, 'unknown event type'],
    ['no type', { at: 0 }, 'unknown event type'],
    ['null', null, 'unknown event type'],
    ['a missing timestamp', { type: 'press' }, '"at"'],
    ['a NaN timestamp', { type: 'release', at: Number.NaN }, '"at"'],
    ['an unknown timer', { type: 'timer', id: 'egg', at: 0 }, 'unknown timer id'],
    ['an empty clip id', { type: 'clipArrived', clipId: '', at: 0 }, 'clipId'],
    ['a numeric clip id', { type: 'clipDelivered', clipId: 7, at: 0 }, 'clipId'],
    ['a queued clip without id', { type: 'clipQueued', at: 0 }, 'clipId'],
    ['a failure without id', { type: 'clipFailed', reason: 'expired', at: 0 }, 'clipId'],
    ['an unknown failure reason', { type: 'clipFailed', clipId: 'a', reason: 'bored', at: 0 }, 'failure reason'],
    ['a playback end without id', { type: 'playbackEnded', at: 0 }, 'playbackId'],
    ['progress above 100', { type: 'torBootstrapping', progress: 101, at: 0 }, 'progress'],
    ['negative progress', { type: 'torBootstrapping', progress: -1, at: 0 }, 'progress'],
    ['NaN progress', { type: 'torBootstrapping', progress: Number.NaN, at: 0 }, 'progress'],
    ['a tor error without reason', { type: 'torError', at: 0 }, 'reason'],
    ['a clock report without detail', { type: 'torClockWrong', at: 0 }, 'detail'],
    ['a fault of an unknown device', { type: 'hardwareFault', device: 'toaster', reason: 'x', at: 0 }, 'unknown device'],
    ['a fault without reason', { type: 'hardwareFault', device: 'speaker', at: 0 }, 'reason'],
    ['a recovery of an unknown device', { type: 'hardwareRecovered', device: 'toaster', at: 0 }, 'unknown device'],
  ];
  for (const [name, event, text] of cases) {
    it(`rejects ${name} with a RadioInputError`, () => {
      expect(() => transition(s, event as RadioEvent)).toThrow(RadioInputError);
      expect(() => transition(s, event as RadioEvent)).toThrow(text);
    });
  }
});

describe('assertInvariants', () => {
  const ok = createRadioState();
  const broken: [string, RadioState][] = [
    ['idle with a playable clip waiting', { ...ok, unheard: [{ clipId: 'a', arrivedAt: 0 }] }],
    ['recording with a faulted microphone', { ...ok, nextSeq: 2, activity: { kind: 'recording', recordingId: 'r-1', pressedAt: 0, afterTap: false }, faults: [{ device: 'microphone', reason: 'x' }] }],
    ['a recording id never issued', { ...ok, activity: { kind: 'recording', recordingId: 'r-9', pressedAt: 0, afterTap: false } }],
    ['playing a queued clip that is not the head', { ...ok, nextSeq: 2, unheard: [{ clipId: 'a', arrivedAt: 0 }, { clipId: 'b', arrivedAt: 0 }], activity: { kind: 'playing', playbackId: 'r-1', clipId: 'b', source: 'queue' } }],
    ['replaying something never heard', { ...ok, nextSeq: 2, activity: { kind: 'playing', playbackId: 'r-1', clipId: 'b', source: 'replay' } }],
    ['playing with a faulted speaker', { ...ok, nextSeq: 2, lastHeard: 'b', faults: [{ device: 'speaker', reason: 'x' }], activity: { kind: 'playing', playbackId: 'r-1', clipId: 'b', source: 'replay' } }],
    ['a clip queued twice', { ...ok, faults: [{ device: 'speaker', reason: 'x' }], unheard: [{ clipId: 'a', arrivedAt: 0 }, { clipId: 'a', arrivedAt: 1 }] }],
    ['an outgoing clip listed twice', { ...ok, outgoing: ['a', 'a'] }],
    ['faults out of order', { ...ok, faults: [{ device: 'led', reason: 'x' }, { device: 'microphone', reason: 'y' }] }],
    ['tor progress out of range', { ...ok, tor: { kind: 'bootstrapping', progress: 200 } }],
    ['a zero nextSeq', { ...ok, nextSeq: 0 }],
    ['a bad config', { ...ok, config: { ...ok.config, minTapMs: -1 } }],
    ['a tap without time', { ...ok, activity: { kind: 'tapped', releasedAt: Number.NaN } }],
    ['a held-past-limit without time', { ...ok, activity: { kind: 'heldPastLimit', since: Number.NaN } }],
  ];
  for (const [name, state] of broken) {
    it(`catches ${name}`, () => expect(() => assertInvariants(state)).toThrow(RadioInvariantError));
  }
  it('accepts the initial state', () => expect(() => assertInvariants(ok)).not.toThrow());
});
