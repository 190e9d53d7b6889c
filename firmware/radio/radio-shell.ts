// The thin shell around the pure machine: it holds the state, feeds events in one at a time, runs
// the effects through injected ports, keeps the machine's timers and drives the LED. All decisions
// live in radio-machine.ts; this file only translates. The app wiring binds Button, Microphone,
// Speaker and Outbox to the ports and feeds their results back with dispatch().
import type { Button } from '../../hardware/button.js';
import type { Led } from '../../hardware/led.js';
import { createLog, type Log } from '../log.js';
import { ledPatternFor, type LedPatternName } from './led-patterns.js';
import { LedPlayer } from './led-player.js';
import { createRadioState, transition, type RadioOptions } from './radio-machine.js';
import type { DiscardReason, HardwareDevice, RadioEffect, RadioEvent, RadioState, RadioTimerId } from './radio-types.js';
import { systemScheduler, type Scheduler, type TimerHandle } from './scheduler.js';

/**
 * What the shell asks of the rest of the radio. Calls are synchronous kick-offs: long work runs
 * asynchronously and reports back through RadioShell.dispatch (e.g. `playbackEnded`, `hardwareFault`,
 * `clipDelivered`). A port that throws is reported to the machine as a fault of its device.
 */
export interface RadioPorts {
  /** Starts capturing and streaming a clip (Microphone.record, and the sender's early connect). */
  startRecording(recordingId: string): void;
  /** Ends the recording normally; sendClip for the same id follows immediately. */
  stopRecording(recordingId: string): void;
  /** Drops the recording and aborts any stream of it: nothing of it may be delivered. */
  discardRecording(recordingId: string, reason: DiscardReason): void;
  /** Hands the finished clip to the outbox (persist first, deliver or queue while Tor is down). */
  sendClip(recordingId: string, durationMs: number): void;
  /** Plays an inbox clip; dispatch `playbackEnded` with the same playbackId when it finishes. */
  play(playbackId: string, clipId: string): void;
  /** Stops that playback at once (talk has priority). No `playbackEnded` is needed afterwards. */
  stopPlayback(playbackId: string): void;
}

export interface RadioShellOptions {
  readonly ports: RadioPorts;
  readonly led?: Led;
  /** Must share the button's clock (performance.now() by default), since timer events and edges are compared. */
  readonly scheduler?: Scheduler;
  readonly radio?: RadioOptions;
  readonly log?: Log;
}

const portDevice: Record<'startRecording' | 'stopRecording' | 'discardRecording' | 'play' | 'stopPlayback', HardwareDevice> = {
  startRecording: 'microphone',
  stopRecording: 'microphone',
  discardRecording: 'microphone',
  play: 'speaker',
  stopPlayback: 'speaker',
};

export class RadioShell {
  #state: RadioState;
  readonly #ports: RadioPorts;
  readonly #scheduler: Scheduler;
  readonly #log: Log;
  readonly #led: LedPlayer | null;
  readonly #timers = new Map<RadioTimerId, TimerHandle>();
  readonly #queue: RadioEvent[] = [];
  #running = false;
  #closed = false;

  constructor(options: RadioShellOptions) {
    this.#ports = options.ports;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#log = options.log ?? createLog('radio');
    this.#state = createRadioState(options.radio);
    this.#led = options.led
      ? new LedPlayer(options.led, this.#scheduler, {
          onError: (err) => this.dispatch({ type: 'hardwareFault', device: 'led', reason: errorText(err), at: this.#scheduler.now() }),
        })
      : null;
    this.#showLed();
  }

  /** Shows the state's pattern; a change is logged, so a device without eyes on it (or its journal) shows the LED too. */
  #showLed(): void {
    if (!this.#led) return;
    const pattern = ledPatternFor(this.#state);
    if (this.#led.current === pattern.name) return;
    this.#led.show(pattern);
    this.#log.info('led', { pattern: pattern.name });
  }

  get state(): RadioState {
    return this.#state;
  }

  get ledPattern(): LedPatternName {
    return ledPatternFor(this.#state).name;
  }

  /** The current time on the shell's clock, for stamping events. */
  now(): number {
    return this.#scheduler.now();
  }

  /**
   * Feeds one event. Events dispatched while another is being handled (a port reporting back
   * synchronously) wait their turn, so the machine always sees one event at a time, in order.
   * Events after close() are dropped: late results of work that was cancelled.
   */
  dispatch(event: RadioEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    if (this.#running) return;
    this.#running = true;
    try {
      for (let next = this.#queue.shift(); next && !this.#closed; next = this.#queue.shift()) this.#handle(next);
    } finally {
      this.#running = false;
      this.#queue.length = 0;
    }
  }

  /** Feeds a button's edges in. Returns the unsubscribe function. */
  attachButton(button: Button): () => void {
    return button.onEdge((edge) => this.dispatch({ type: edge.kind, at: edge.at }));
  }

  /** Cancels the machine's timers and darkens the LED. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const handle of this.#timers.values()) this.#scheduler.clearTimeout(handle);
    this.#timers.clear();
    this.#led?.stop();
  }

  #handle(event: RadioEvent): void {
    const { state, effects } = transition(this.#state, event);
    this.#state = state;
    this.#log.debug('event', { event: event.type, activity: state.activity.kind, effects: effects.map((e) => e.type) });
    for (const effect of effects) this.#run(effect);
    if (!this.#closed) this.#showLed();
  }

  #run(effect: RadioEffect): void {
    switch (effect.type) {
      case 'startTimer': {
        const old = this.#timers.get(effect.id);
        if (old !== undefined) this.#scheduler.clearTimeout(old);
        const handle = this.#scheduler.setTimeout(() => {
          this.#timers.delete(effect.id);
          this.dispatch({ type: 'timer', id: effect.id, at: this.#scheduler.now() });
        }, effect.ms);
        this.#timers.set(effect.id, handle);
        return;
      }
      case 'cancelTimer': {
        const handle = this.#timers.get(effect.id);
        if (handle !== undefined) this.#scheduler.clearTimeout(handle);
        this.#timers.delete(effect.id);
        return;
      }
      case 'log':
        this.#log[effect.level](effect.message);
        return;
      case 'sendClip':
        try {
          this.#ports.sendClip(effect.recordingId, effect.durationMs);
        } catch (err) {
          // The outbox could not even take the clip (disk full?): say so loudly; the LED stops "sending".
          this.#log.error('outbox refused a clip', { recordingId: effect.recordingId, err });
          this.dispatch({ type: 'clipFailed', clipId: effect.recordingId, reason: 'storage', at: this.#scheduler.now() });
        }
        return;
      default:
        this.#runDevicePort(effect);
    }
  }

  #runDevicePort(effect: Extract<RadioEffect, { type: keyof typeof portDevice }>): void {
    try {
      switch (effect.type) {
        case 'startRecording':
          return this.#ports.startRecording(effect.recordingId);
        case 'stopRecording':
          return this.#ports.stopRecording(effect.recordingId);
        case 'discardRecording':
          return this.#ports.discardRecording(effect.recordingId, effect.reason);
        case 'play':
          return this.#ports.play(effect.playbackId, effect.clipId);
        case 'stopPlayback':
          return this.#ports.stopPlayback(effect.playbackId);
      }
    } catch (err) {
      const device = portDevice[effect.type];
      this.#log.error(`${effect.type} failed`, { device, err });
      this.dispatch({ type: 'hardwareFault', device, reason: errorText(err), at: this.#scheduler.now() });
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
