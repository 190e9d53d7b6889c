// Property test of the radio machine: random configs and random event sequences, run through a
// model of the shell (timers fire when due, the speaker reports the playback it was asked for).
// After every step: invariants hold and the effects make sense for the world. At the end, with the
// button released and every timer run out: every recording passed the tap minimum was sent exactly
// once (and no other was), and every received clip was heard or is still waiting.
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { assertInvariants } from '../../firmware/radio/radio-invariants.js';
import { createRadioState, transition } from '../../firmware/radio/radio-machine.js';
import { hardwareDevices, type HardwareDevice, type RadioEvent, type RadioState, type RadioTimerId } from '../../firmware/radio/radio-types.js';

type Command =
  | { c: 'press' }
  | { c: 'release' }
  | { c: 'wait'; ms: number }
  | { c: 'arrive' }
  | { c: 'playbackEnds' }
  | { c: 'stalePlaybackEnd' }
  | { c: 'staleTimer'; id: RadioTimerId }
  | { c: 'tor'; kind: 'starting' | 'bootstrapping' | 'connected' | 'error' | 'clockWrong'; progress: number }
  | { c: 'outbox'; kind: 'queued' | 'delivered' | 'failed'; pick: number }
  | { c: 'fault'; device: HardwareDevice }
  | { c: 'recover'; device: HardwareDevice };

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.constant({ c: 'press' as const }), weight: 6 },
  { arbitrary: fc.constant({ c: 'release' as const }), weight: 6 },
  { arbitrary: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 8000 })).map((ms) => ({ c: 'wait' as const, ms })), weight: 8 },
  { arbitrary: fc.constant({ c: 'arrive' as const }), weight: 3 },
  { arbitrary: fc.constant({ c: 'playbackEnds' as const }), weight: 3 },
  { arbitrary: fc.constant({ c: 'stalePlaybackEnd' as const }), weight: 1 },
  { arbitrary: fc.constantFrom<RadioTimerId>('maxLength', 'doublePress', 'notice').map((id) => ({ c: 'staleTimer' as const, id })), weight: 1 },
  {
    arbitrary: fc.record({
      c: fc.constant('tor' as const),
      kind: fc.constantFrom('starting' as const, 'bootstrapping' as const, 'connected' as const, 'error' as const, 'clockWrong' as const),
      progress: fc.integer({ min: 0, max: 100 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ c: fc.constant('outbox' as const), kind: fc.constantFrom('queued' as const, 'delivered' as const, 'failed' as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.constantFrom(...hardwareDevices).map((device) => ({ c: 'fault' as const, device })), weight: 1 },
  { arbitrary: fc.constantFrom(...hardwareDevices).map((device) => ({ c: 'recover' as const, device })), weight: 2 },
);

const config = fc
  .record({ minTapMs: fc.integer({ min: 0, max: 600 }), extra: fc.integer({ min: 1, max: 6000 }), doublePressWindowMs: fc.integer({ min: 1, max: 800 }) })
  .map(({ minTapMs, extra, doublePressWindowMs }) => ({ minTapMs, maxLengthMs: minTapMs + extra, doublePressWindowMs }));

/** The world around the machine: the shell's timers, the microphone and speaker, and the ledger. */
class World {
  state: RadioState;
  now = 0;
  held = false;
  timers = new Map<RadioTimerId, number>();
  recording: { id: string; pressedAt: number } | null = null;
  playback: { id: string; clipId: string } | null = null;
  /** recording id → how it ended; `endedAt - pressedAt` is its duration. */
  recordings = new Map<string, { pressedAt: number; outcome: 'open' | 'stopped' | 'sent' | 'discarded'; sends: number; durationMs?: number; endedAt?: number }>();
  arrived: string[] = [];
  heard = new Set<string>();
  clipSeq = 0;

  constructor(options: { minTapMs: number; maxLengthMs: number; doublePressWindowMs: number }) {
    this.state = createRadioState(options);
  }

  feed(event: RadioEvent): void {
    const before = this.state;
    const { state, effects } = transition(before, event);
    this.state = state;
    for (const e of effects) {
      switch (e.type) {
        case 'startTimer':
          this.timers.set(e.id, this.now + e.ms);
          break;
        case 'cancelTimer':
          this.timers.delete(e.id);
          break;
        case 'startRecording':
          expect(this.recording, 'a recording started while one is open').toBeNull();
          expect(this.recordings.has(e.recordingId), 'recording id reused').toBe(false);
          expect(this.state.faults.some((f) => f.device === 'microphone')).toBe(false);
          expect(this.playback, 'recording while the speaker plays').toBeNull();
          this.recording = { id: e.recordingId, pressedAt: this.now };
          this.recordings.set(e.recordingId, { pressedAt: this.now, outcome: 'open', sends: 0 });
          break;
        case 'stopRecording':
        case 'discardRecording': {
          expect(this.recording?.id).toBe(e.recordingId);
          const r = this.recordings.get(e.recordingId)!;
          r.outcome = e.type === 'stopRecording' ? 'stopped' : 'discarded';
          r.endedAt = this.now;
          this.recording = null;
          break;
        }
        case 'sendClip': {
          const r = this.recordings.get(e.recordingId);
          expect(r?.outcome, 'sendClip without stopRecording just before').toBe('stopped');
          r!.outcome = 'sent';
          r!.sends++;
          r!.durationMs = e.durationMs;
          break;
        }
        case 'play':
          expect(this.playback, 'two playbacks at once').toBeNull();
          expect(this.recording, 'playing while recording').toBeNull();
          this.playback = { id: e.playbackId, clipId: e.clipId };
          break;
        case 'stopPlayback':
          expect(this.playback?.id).toBe(e.playbackId);
          this.playback = null;
          break;
        case 'log':
          break;
      }
    }
    assertInvariants(this.state);
    const a = this.state.activity;
    // The world and the machine agree on what is going on.
    expect(this.recording?.id ?? null).toBe(a.kind === 'recording' ? a.recordingId : null);
    expect(this.playback?.id ?? null).toBe(a.kind === 'playing' ? a.playbackId : null);
    if (a.kind === 'recording') expect(this.timers.has('maxLength')).toBe(true);
    if (a.kind === 'tapped') expect(this.timers.has('doublePress')).toBe(true);
    if (this.state.notice) expect(this.timers.has('notice')).toBe(true);
    // No clip is ever lost: each is heard or still waiting.
    for (const id of this.arrived) expect(this.heard.has(id) || this.state.unheard.some((c) => c.clipId === id), `clip ${id} lost`).toBe(true);
  }

  wait(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t <= until).sort((x, y) => x[1] - y[1])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = Math.max(this.now, due[1]);
      this.feed({ type: 'timer', id: due[0], at: this.now });
    }
    this.now = until;
  }

  endPlayback(): void {
    if (!this.playback) return;
    const a = this.state.activity;
    if (a.kind === 'playing' && a.source === 'queue') this.heard.add(a.clipId);
    const playbackId = this.playback.id;
    this.playback = null; // the speaker is done with it
    this.feed({ type: 'playbackEnded', playbackId, at: this.now });
  }

  run(cmd: Command): void {
    const at = this.now;
    switch (cmd.c) {
      case 'press':
        if (this.held) return; // the button driver never repeats an edge
        this.held = true;
        return this.feed({ type: 'press', at });
      case 'release':
        if (!this.held) return;
        this.held = false;
        return this.feed({ type: 'release', at });
      case 'wait':
        return this.wait(cmd.ms);
      case 'arrive': {
        const clipId = `c-${++this.clipSeq}`;
        this.arrived.push(clipId);
        return this.feed({ type: 'clipArrived', clipId, at });
      }
      case 'playbackEnds':
        return this.endPlayback();
      case 'stalePlaybackEnd':
        return this.feed({ type: 'playbackEnded', playbackId: 'r-0', at });
      case 'staleTimer':
        if (this.timers.has(cmd.id)) return; // only timers the shell is not running
        return this.feed({ type: 'timer', id: cmd.id, at });
      case 'tor':
        if (cmd.kind === 'starting') return this.feed({ type: 'torStarting', at });
        if (cmd.kind === 'bootstrapping') return this.feed({ type: 'torBootstrapping', progress: cmd.progress, at });
        if (cmd.kind === 'connected') return this.feed({ type: 'torConnected', at });
        if (cmd.kind === 'error') return this.feed({ type: 'torError', reason: 'exited', at });
        return this.feed({ type: 'torClockWrong', detail: 'skew', at });
      case 'outbox': {
        const out = this.state.outgoing;
        const clipId = out.length > 0 && cmd.pick % 3 !== 0 ? out[cmd.pick % out.length]! : `old-${cmd.pick % 5}`;
        if (cmd.kind === 'queued') return this.feed({ type: 'clipQueued', clipId, at });
        if (cmd.kind === 'delivered') return this.feed({ type: 'clipDelivered', clipId, at });
        return this.feed({ type: 'clipFailed', clipId, reason: 'expired', at });
      }
      case 'fault':
        return this.feed({ type: 'hardwareFault', device: cmd.device, reason: 'EIO', at });
      case 'recover':
        return this.feed({ type: 'hardwareRecovered', device: cmd.device, at });
    }
  }

  /** Lets go of the button, runs every timer out and heals the hardware, then plays what waits. */
  finish(): void {
    if (this.held) this.run({ c: 'release' });
    this.wait(1_000_000);
    for (const d of hardwareDevices) this.feed({ type: 'hardwareRecovered', device: d, at: this.now });
    for (let guard = 0; this.playback && guard < 10_000; guard++) this.endPlayback();
  }
}

test.prop([config, fc.array(command, { maxLength: 120 })], { numRuns: 3000 })(
  'no event sequence breaks an invariant, drops a recorded clip or loses a received one',
  (options, commands) => {
    const world = new World(options);
    for (const cmd of commands) world.run(cmd);
    world.finish();

    expect(world.recording).toBeNull();
    for (const [id, r] of world.recordings) {
      expect(r.outcome, `recording ${id} never ended`).not.toBe('open');
      expect(r.outcome, `recording ${id} stopped but not sent`).not.toBe('stopped');
      const length = r.endedAt! - r.pressedAt;
      // Kept exactly when it reached the tap minimum; sent exactly once.
      expect(r.outcome === 'sent', `recording ${id}: ${length} ms vs minimum ${options.minTapMs}`).toBe(length >= options.minTapMs);
      expect(r.sends).toBe(r.outcome === 'sent' ? 1 : 0);
      if (r.outcome === 'sent') expect(r.durationMs).toBe(Math.min(length, options.maxLengthMs));
    }
    // With the speaker working and time run out, everything received has been heard.
    expect(world.state.unheard).toEqual([]);
    for (const id of world.arrived) expect(world.heard.has(id)).toBe(true);
    expect(world.state.activity.kind).toBe('idle');
  },
);

test.prop([fc.array(command, { maxLength: 60 })], { numRuns: 500 })('the machine is deterministic: the same events give the same states and effects', (commands) => {
  const a = new World({ minTapMs: 250, maxLengthMs: 3000, doublePressWindowMs: 400 });
  const b = new World({ minTapMs: 250, maxLengthMs: 3000, doublePressWindowMs: 400 });
  for (const cmd of commands) {
    a.run(cmd);
    b.run(cmd);
    expect(b.state).toEqual(a.state);
  }
});
