// The push-to-talk state machine: a pure function from (state, event) to (state, effects).
// No timers, no clock, no I/O: time arrives in each event's `at`, timeouts arrive as `timer` events
// the machine asked for with `startTimer`, and the shell (radio-shell.ts) runs the effects.
// Half duplex: at most one of recording or playing at a time, and talk has priority.
import { checkRadioEvent } from './radio-event-check.js';
import type {
  Activity,
  DiscardReason,
  HardwareDevice,
  RadioEffect,
  RadioEvent,
  RadioState,
  Transition,
} from './radio-types.js';

import { isFaulted } from './radio-state.js';

export { createRadioState, isFaulted, type RadioOptions } from './radio-state.js';


/** Collects effects while a transition builds its next state. Local to one call, so still pure. */
class Step {
  readonly effects: RadioEffect[] = [];
  constructor(public state: RadioState) {}

  emit(effect: RadioEffect): this {
    this.effects.push(effect);
    return this;
  }

  set(patch: Partial<RadioState>): this {
    this.state = { ...this.state, ...patch };
    return this;
  }

  nextId(): string {
    const id = `${this.state.idPrefix}-${this.state.nextSeq}`;
    this.set({ nextSeq: this.state.nextSeq + 1 });
    return id;
  }

  /** Leaves the current activity: plays the oldest unheard clip if the speaker can, else idles. */
  settle(): this {
    const head = this.state.unheard[0];
    if (head && !isFaulted(this.state, 'speaker')) return this.play(head.clipId, 'queue');
    return this.set({ activity: { kind: 'idle' } });
  }

  play(clipId: string, source: 'queue' | 'replay'): this {
    const playbackId = this.nextId();
    return this.set({ activity: { kind: 'playing', playbackId, clipId, source } }).emit({ type: 'play', playbackId, clipId });
  }

  startRecording(at: number, afterTap: boolean): this {
    const recordingId = this.nextId();
    this.set({ activity: { kind: 'recording', recordingId, pressedAt: at, afterTap } });
    this.emit({ type: 'startRecording', recordingId });
    return this.emit({ type: 'startTimer', id: 'maxLength', ms: this.state.config.maxLengthMs });
  }

  /** Ends a recording that is long enough to keep: it goes to the outbox exactly once. */
  keepRecording(recordingId: string, durationMs: number): this {
    this.emit({ type: 'stopRecording', recordingId }).emit({ type: 'sendClip', recordingId, durationMs });
    return this.set({ outgoing: [...this.state.outgoing, recordingId] });
  }

  discardRecording(recordingId: string, reason: DiscardReason): this {
    return this.emit({ type: 'discardRecording', recordingId, reason });
  }

  showNotice(kind: 'delivered' | 'maxLength', at: number): this {
    const ms = kind === 'delivered' ? this.state.config.deliveredNoticeMs : this.state.config.maxLengthNoticeMs;
    this.set({ notice: { kind, since: at } });
    return this.emit({ type: 'startTimer', id: 'notice', ms });
  }

  log(level: 'info' | 'warn', message: string): this {
    return this.emit({ type: 'log', level, message });
  }

  done(): Transition {
    return { state: this.state, effects: this.effects };
  }
}

function onPress(step: Step, activity: Activity, at: number): Step {
  if (activity.kind === 'recording' || activity.kind === 'heldPastLimit') {
    return step.log('warn', `press while ${activity.kind} ignored (missed release?)`);
  }
  if (isFaulted(step.state, 'microphone')) return step.log('warn', 'press ignored: the microphone is faulted');
  if (activity.kind === 'playing') {
    // Talk has priority. A queued clip stays at the head of `unheard`, so it plays again later.
    step.emit({ type: 'stopPlayback', playbackId: activity.playbackId });
    return step.startRecording(at, false);
  }
  if (activity.kind === 'tapped') {
    step.emit({ type: 'cancelTimer', id: 'doublePress' });
    // The window timer may not have fired yet when the press is already late: check the timestamps.
    return step.startRecording(at, at - activity.releasedAt <= step.state.config.doublePressWindowMs);
  }
  return step.startRecording(at, false);
}

function onRelease(step: Step, activity: Activity, at: number): Step {
  if (activity.kind === 'heldPastLimit') return step.settle();
  if (activity.kind !== 'recording') return step;
  step.emit({ type: 'cancelTimer', id: 'maxLength' });
  const durationMs = Math.max(0, at - activity.pressedAt);
  if (durationMs >= step.state.config.minTapMs) return step.keepRecording(activity.recordingId, durationMs).settle();
  if (!activity.afterTap) {
    step.discardRecording(activity.recordingId, 'tooShort');
    step.set({ activity: { kind: 'tapped', releasedAt: at } });
    return step.emit({ type: 'startTimer', id: 'doublePress', ms: step.state.config.doublePressWindowMs });
  }
  step.discardRecording(activity.recordingId, 'doublePress');
  if (isFaulted(step.state, 'speaker')) return step.log('warn', 'double press: the speaker is faulted').settle();
  // A clip the first tap interrupted (or any still unheard) is "the last clip" the user means.
  if (step.state.unheard.length > 0) return step.settle();
  const last = step.state.lastHeard;
  if (last === null) return step.log('info', 'double press: no clip heard yet to replay').settle();
  return step.play(last, 'replay');
}

function onTimer(step: Step, activity: Activity, id: 'maxLength' | 'doublePress' | 'notice', at: number): Step {
  if (id === 'maxLength' && activity.kind === 'recording') {
    step.keepRecording(activity.recordingId, step.state.config.maxLengthMs);
    step.set({ activity: { kind: 'heldPastLimit', since: at } });
    return step.showNotice('maxLength', at);
  }
  if (id === 'doublePress' && activity.kind === 'tapped') return step.settle();
  if (id === 'notice' && step.state.notice !== null) return step.set({ notice: null });
  return step; // a timer the current state no longer waits for
}

function onFault(step: Step, activity: Activity, device: HardwareDevice, reason: string, at: number): Step {
  const others = step.state.faults.filter((f) => f.device !== device);
  const faults = [...others, { device, reason }];
  // Fixed device order keeps equal situations equal, whatever order faults arrived in.
  faults.sort((a, b) => deviceOrder(a.device) - deviceOrder(b.device));
  step.set({ faults });
  if (device === 'microphone' && activity.kind === 'recording') {
    step.emit({ type: 'cancelTimer', id: 'maxLength' });
    const durationMs = Math.max(0, at - activity.pressedAt);
    // What was captured before the fault is kept if it is long enough to be speech: lose nothing.
    if (durationMs >= step.state.config.minTapMs) step.keepRecording(activity.recordingId, durationMs);
    else step.discardRecording(activity.recordingId, 'tooShort');
    return step.settle();
  }
  if (device === 'speaker' && activity.kind === 'playing') {
    // The clip stays unheard (if it came from the queue) and plays once the speaker recovers.
    step.emit({ type: 'stopPlayback', playbackId: activity.playbackId });
    return step.settle();
  }
  return step;
}

const deviceRank: Record<HardwareDevice, number> = { microphone: 0, speaker: 1, button: 2, led: 3 };
function deviceOrder(device: HardwareDevice): number {
  return deviceRank[device];
}

/** The radio's transition function. Pure: the same state and event always give the same result. */
export function transition(state: RadioState, event: RadioEvent): Transition {
  checkRadioEvent(event);
  const step = new Step(state);
  const activity = state.activity;
  switch (event.type) {
    case 'press':
      return onPress(step, activity, event.at).done();
    case 'release':
      return onRelease(step, activity, event.at).done();
    case 'timer':
      return onTimer(step, activity, event.id, event.at).done();
    case 'clipArrived': {
      if (state.unheard.some((c) => c.clipId === event.clipId)) return step.done(); // already waiting
      step.set({ unheard: [...state.unheard, { clipId: event.clipId, arrivedAt: event.at }] });
      return (activity.kind === 'idle' ? step.settle() : step).done();
    }
    case 'playbackEnded': {
      if (activity.kind !== 'playing' || activity.playbackId !== event.playbackId) return step.done(); // stale
      if (activity.source === 'queue') {
        step.set({ unheard: state.unheard.filter((c) => c.clipId !== activity.clipId), lastHeard: activity.clipId });
      }
      return step.settle().done();
    }
    case 'torStarting':
      return step.set({ tor: { kind: 'starting' } }).done();
    case 'torBootstrapping':
      return step.set({ tor: { kind: 'bootstrapping', progress: event.progress } }).done();
    case 'torConnected':
      return step.set({ tor: { kind: 'connected' } }).done();
    case 'torError':
      return step.set({ tor: { kind: 'error', reason: event.reason } }).done();
    case 'torClockWrong':
      return step.set({ tor: { kind: 'clockWrong', detail: event.detail } }).done();
    case 'clipQueued':
      if (!state.outgoing.includes(event.clipId)) step.set({ outgoing: [...state.outgoing, event.clipId] });
      return step.done();
    case 'clipDelivered':
      step.set({ outgoing: state.outgoing.filter((id) => id !== event.clipId) });
      // The max-length warning matters more than good news: do not cut it short.
      if (state.notice?.kind !== 'maxLength') step.showNotice('delivered', event.at);
      return step.done();
    case 'clipFailed':
      step.set({ outgoing: state.outgoing.filter((id) => id !== event.clipId) });
      return step.log('warn', `clip ${event.clipId} not delivered: ${event.reason}`).done();
    case 'hardwareFault':
      return onFault(step, activity, event.device, event.reason, event.at).done();
    case 'hardwareRecovered': {
      if (!isFaulted(state, event.device)) return step.done();
      step.set({ faults: state.faults.filter((f) => f.device !== event.device) });
      return (event.device === 'speaker' && activity.kind === 'idle' ? step.settle() : step).done();
    }
  }
}
