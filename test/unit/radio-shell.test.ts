// The shell with the simulated button and LED (hardware/sim) and fake time: it must run the
// machine's effects through the ports, keep its timers, drive the LED and turn port failures into
// fault events, without deciding anything itself.
import { describe, expect, it } from 'vitest';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import type { Log, LogFields } from '../../firmware/log.js';
import { ManualScheduler } from '../../firmware/radio/manual-scheduler.js';
import { RadioConfigError, RadioInputError } from '../../firmware/radio/radio-errors.js';
import { RadioShell, type RadioPorts } from '../../firmware/radio/radio-shell.js';
import type { RadioOptions } from '../../firmware/radio/radio-state.js';

/** Records port calls; individual calls can be made to throw, or to report back synchronously. */
class PortLog implements RadioPorts {
  readonly calls: string[] = [];
  fail = new Map<keyof RadioPorts, Error>();
  onPlay?: (playbackId: string, clipId: string) => void;
  #call(name: keyof RadioPorts, text: string): void {
    this.calls.push(text);
    const err = this.fail.get(name);
    if (err) throw err;
  }
  startRecording(id: string) {
    this.#call('startRecording', `startRecording ${id}`);
  }
  stopRecording(id: string) {
    this.#call('stopRecording', `stopRecording ${id}`);
  }
  discardRecording(id: string, reason: string) {
    this.#call('discardRecording', `discardRecording ${id} ${reason}`);
  }
  sendClip(id: string, ms: number) {
    this.#call('sendClip', `sendClip ${id} ${ms}`);
  }
  play(playbackId: string, clipId: string) {
    this.#call('play', `play ${playbackId} ${clipId}`);
    this.onPlay?.(playbackId, clipId);
  }
  stopPlayback(id: string) {
    this.#call('stopPlayback', `stopPlayback ${id}`);
  }
}

function memoryLog(lines: { level: string; msg: string; fields?: LogFields }[]): Log {
  const at = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  const log: Log = { debug: () => {}, info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

function setup(radio: RadioOptions = {}) {
  const clock = new ManualScheduler(1000);
  const led = new RecordingLed({ clock: () => clock.now() });
  const button = new ScriptedButton({ clock: () => clock.now(), sleep: async (ms) => clock.advance(ms) });
  const ports = new PortLog();
  const logs: { level: string; msg: string; fields?: LogFields }[] = [];
  const shell = new RadioShell({ ports, led, scheduler: clock, radio, log: memoryLog(logs) });
  shell.attachButton(button);
  shell.dispatch({ type: 'torConnected', at: clock.now() });
  return { clock, led, button, ports, shell, logs };
}

describe('RadioShell', () => {
  it('logs each LED pattern change once (a device\'s journal shows its LED)', async () => {
    const { button, logs } = setup();
    await button.hold(2000);
    const led = logs.filter((l) => l.msg === 'led').map((l) => l.fields?.pattern);
    expect(led).toEqual(['bootstrapping', 'connected', 'recording', 'sending']);
  });

  it('records while the button is held and hands the clip to the outbox', async () => {
    const { button, ports, led, shell } = setup();
    expect(led.pattern).toBe('connected');
    button.press();
    expect(led.pattern).toBe('recording');
    expect(led.on).toBe(true);
    button.release();
    expect(ports.calls).toEqual(['startRecording r-1', 'discardRecording r-1 tooShort']);
    await button.hold(2000);
    expect(ports.calls.slice(2)).toEqual(['startRecording r-2', 'stopRecording r-2', 'sendClip r-2 2000']);
    expect(led.pattern).toBe('sending');
    shell.dispatch({ type: 'clipDelivered', clipId: 'r-2', at: shell.now() });
    expect(led.pattern).toBe('delivered');
  });

  it('runs the max-length timer itself: the clip is cut and sent, and the LED warns', () => {
    const { button, ports, led, clock } = setup({ maxLengthMs: 5000 });
    button.press();
    clock.advance(5000);
    expect(ports.calls).toEqual(['startRecording r-1', 'stopRecording r-1', 'sendClip r-1 5000']);
    expect(led.pattern).toBe('maxLength');
    clock.advance(10_000);
    expect(led.pattern).toBe('maxLength'); // still held
    button.release();
    clock.advance(2000); // the notice runs out
    expect(led.pattern).toBe('sending');
    expect(ports.calls).toHaveLength(3);
  });

  it('cancels the max-length timer on release, so a long gap never cuts the next recording', () => {
    const { button, ports, clock } = setup({ maxLengthMs: 5000 });
    button.press();
    clock.advance(3000);
    button.release();
    clock.advance(1000);
    button.press();
    clock.advance(3000); // 7 s after the first press: a leaked timer would fire here
    expect(ports.calls).toEqual(['startRecording r-1', 'stopRecording r-1', 'sendClip r-1 3000', 'startRecording r-2']);
    expect(clock.pendingCount).toBeGreaterThan(0);
  });

  it('plays incoming clips in turn and replays the last one on a double press', async () => {
    const { button, ports, shell, clock, led } = setup();
    shell.dispatch({ type: 'clipArrived', clipId: 'c-a', at: clock.now() });
    shell.dispatch({ type: 'clipArrived', clipId: 'c-b', at: clock.now() });
    expect(led.pattern).toBe('playing');
    shell.dispatch({ type: 'playbackEnded', playbackId: 'r-1', at: clock.now() });
    shell.dispatch({ type: 'playbackEnded', playbackId: 'r-2', at: clock.now() });
    expect(led.pattern).toBe('connected');
    await button.hold(100);
    clock.advance(100);
    await button.hold(100);
    expect(ports.calls).toEqual([
      'play r-1 c-a',
      'play r-2 c-b',
      'startRecording r-3',
      'discardRecording r-3 tooShort',
      'startRecording r-4',
      'discardRecording r-4 doublePress',
      'play r-5 c-b',
    ]);
  });

  it('talk interrupts playback; the clip plays again after the talk', async () => {
    const { button, ports, shell, clock } = setup();
    shell.dispatch({ type: 'clipArrived', clipId: 'c-a', at: clock.now() });
    await button.hold(1000);
    expect(ports.calls).toEqual(['play r-1 c-a', 'stopPlayback r-1', 'startRecording r-2', 'stopRecording r-2', 'sendClip r-2 1000', 'play r-3 c-a']);
  });

  it('handles events a port reports back synchronously after the current one, in order', () => {
    const { ports, shell, clock } = setup();
    ports.onPlay = (playbackId) => shell.dispatch({ type: 'playbackEnded', playbackId, at: clock.now() });
    shell.dispatch({ type: 'clipArrived', clipId: 'c-a', at: clock.now() });
    shell.dispatch({ type: 'clipArrived', clipId: 'c-b', at: clock.now() });
    expect(ports.calls).toEqual(['play r-1 c-a', 'play r-2 c-b']);
    expect(shell.state.unheard).toEqual([]);
    expect(shell.state.lastHeard).toBe('c-b');
  });

  it('a microphone that throws becomes a fault: LED shows it, presses are refused until it recovers', () => {
    const { button, ports, shell, led, logs, clock } = setup();
    ports.fail.set('startRecording', new Error('arecord: no such device'));
    button.press();
    // The recording that never started is discarded, not sent.
    expect(ports.calls).toEqual(['startRecording r-1', 'discardRecording r-1 tooShort']);
    expect(shell.state.faults).toEqual([{ device: 'microphone', reason: 'arecord: no such device' }]);
    expect(led.pattern).toBe('fault');
    expect(logs.some((l) => l.level === 'error' && l.msg === 'startRecording failed')).toBe(true);
    button.release();
    ports.fail.clear();
    button.press();
    expect(ports.calls).toHaveLength(2);
    expect(logs.at(-1)).toMatchObject({ level: 'warn', msg: 'press ignored: the microphone is faulted' });
    button.release();
    shell.dispatch({ type: 'hardwareRecovered', device: 'microphone', at: clock.now() });
    button.press();
    expect(ports.calls.at(-1)).toBe('startRecording r-2');
  });

  it('a speaker that throws becomes a fault and the clip stays unheard', () => {
    const { ports, shell, clock, led } = setup();
    ports.fail.set('play', new Error('EIO'));
    shell.dispatch({ type: 'clipArrived', clipId: 'c-a', at: clock.now() });
    expect(shell.state.unheard.map((c) => c.clipId)).toEqual(['c-a']);
    expect(shell.state.activity.kind).toBe('idle');
    expect(led.pattern).toBe('fault');
    ports.fail.clear();
    shell.dispatch({ type: 'hardwareRecovered', device: 'speaker', at: clock.now() });
    expect(ports.calls).toEqual(['play r-1 c-a', 'stopPlayback r-1', 'play r-2 c-a']);
  });

  it('an outbox that refuses a clip is logged as an error and the LED stops saying "sending"', async () => {
    const { ports, button, shell, logs, led } = setup();
    ports.fail.set('sendClip', new Error('ENOSPC: no space left on device'));
    await button.hold(1000);
    expect(shell.state.outgoing).toEqual([]);
    expect(led.pattern).toBe('connected');
    expect(logs.find((l) => l.msg === 'outbox refused a clip')).toMatchObject({ level: 'error', fields: { recordingId: 'r-1' } });
  });

  it('an LED that fails is reported as an LED fault, and not hammered', () => {
    const clock = new ManualScheduler();
    const ports = new PortLog();
    let writes = 0;
    const shell = new RadioShell({
      ports,
      scheduler: clock,
      log: memoryLog([]),
      led: { write: () => void (writes++, (() => { throw new Error('EPERM'); })()), close: async () => {} },
    });
    // One failed write for the first pattern, one for the fault pattern it causes, then silence.
    expect(writes).toBe(2);
    clock.advance(10_000);
    shell.dispatch({ type: 'torConnected', at: clock.now() });
    expect(shell.state.faults).toEqual([{ device: 'led', reason: 'EPERM' }]);
    expect(writes).toBe(2);
    expect(clock.pendingCount).toBe(0);
  });

  it('close() cancels timers, darkens the LED and drops late events', () => {
    const { button, shell, clock, led, ports } = setup();
    button.press();
    shell.close();
    shell.close();
    expect(clock.pendingCount).toBe(0);
    expect(led.on).toBe(false);
    shell.dispatch({ type: 'release', at: clock.now() });
    expect(ports.calls).toEqual(['startRecording r-1']);
  });

  it('the button can be detached', () => {
    const clock = new ManualScheduler();
    const button = new ScriptedButton({ clock: () => clock.now() });
    const ports = new PortLog();
    const shell = new RadioShell({ ports, scheduler: clock, log: memoryLog([]) });
    const detach = shell.attachButton(button);
    detach();
    button.press();
    expect(ports.calls).toEqual([]);
    expect(shell.ledPattern).toBe('bootstrapping');
  });

  it('throws on a malformed event and keeps working', () => {
    const { shell, button, ports } = setup();
    expect(() => shell.dispatch({ type: 'press', at: Number.NaN })).toThrow(RadioInputError);
    button.press();
    expect(ports.calls).toEqual(['startRecording r-1']);
  });

  it('refuses bad options', () => {
    expect(() => new RadioShell({ ports: new PortLog(), radio: { minTapMs: -1 } })).toThrow(RadioConfigError);
  });
});
