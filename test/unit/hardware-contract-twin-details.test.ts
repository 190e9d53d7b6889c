// What the simulated twins promise beyond the shared contract: scripted holds, the keyboard's
// key-repeat heuristic and terminal handling, and the LED's timeline and drawing.
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ButtonEdge } from '../../hardware/button.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { KeyboardButton, type KeyInput } from '../../hardware/sim/keyboard-button.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { TerminalLed } from '../../hardware/sim/terminal-led.js';

describe('ScriptedButton', () => {
  it('hold(ms) presses, waits through the injected sleep, and releases on the injected clock', async () => {
    let now = 0;
    const button = new ScriptedButton({ clock: () => now, sleep: async (ms) => void (now += ms) });
    const edges: ButtonEdge[] = [];
    button.onEdge((e) => edges.push(e));
    await button.hold(300);
    expect(edges).toEqual([
      { kind: 'press', at: 0 },
      { kind: 'release', at: 300 },
    ]);
    expect(button.pressed).toBe(false);
  });

  it.each([-1, Number.NaN])('rejects hold(%s)', async (ms) => {
    await expect(new ScriptedButton().hold(ms)).rejects.toThrow(TypeError);
  });

  it('ignores press() and release() after close', async () => {
    const button = new ScriptedButton();
    const edges: ButtonEdge[] = [];
    button.onEdge((e) => edges.push(e));
    await button.close();
    button.press();
    expect(edges).toEqual([]);
  });
});

/** A stand-in terminal that records raw-mode switches. */
function fakeTty(): KeyInput & { stream: PassThrough; rawCalls: boolean[]; paused: boolean } {
  const stream = new PassThrough();
  const tty = {
    stream,
    rawCalls: [] as boolean[],
    paused: false,
    isTTY: true,
    isRaw: false,
    on: (e: 'data', l: (c: Buffer | string) => void) => stream.on(e, l),
    removeListener: (e: 'data', l: (c: Buffer | string) => void) => stream.removeListener(e, l),
    resume: () => stream.resume(),
    pause: () => {
      tty.paused = true;
      return stream.pause();
    },
    setRawMode: (mode: boolean) => {
      tty.rawCalls.push(mode);
      tty.isRaw = mode;
    },
  };
  return tty;
}

describe('KeyboardButton', () => {
  it('puts a terminal in raw mode and gives it back as it was on close', async () => {
    const tty = fakeTty();
    const button = new KeyboardButton({ input: tty, onInterrupt: () => {} });
    expect(tty.rawCalls).toEqual([true]);
    await button.close();
    await button.close();
    expect(tty.rawCalls).toEqual([true, false]);
    expect(tty.paused).toBe(true);
  });

  it('restores the terminal at process exit if close() was never reached', async () => {
    const tty = fakeTty();
    const before = process.listenerCount('exit');
    const button = new KeyboardButton({ input: tty, onInterrupt: () => {} });
    expect(process.listenerCount('exit')).toBe(before + 1);
    const hook = process.listeners('exit').at(-1) as () => void;
    hook();
    expect(tty.rawCalls).toEqual([true, false]);
    await button.close();
    expect(process.listenerCount('exit')).toBe(before);
  });

  it('leaves a non-terminal input alone', async () => {
    const input = new PassThrough();
    const button = new KeyboardButton({ input });
    input.write(' ');
    await sleep(5);
    expect(button.pressed).toBe(true);
    await button.close();
  });

  it('counts a space without repeats as a tap: release carries the press time', async () => {
    const input = new PassThrough();
    let now = 100;
    const button = new KeyboardButton({ input, firstRepeatMs: 30, repeatGapMs: 20, clock: () => now });
    const edges: ButtonEdge[] = [];
    button.onEdge((e) => edges.push(e));
    input.write(' ');
    await sleep(5);
    now = 500;
    await sleep(50);
    expect(edges).toEqual([
      { kind: 'press', at: 100 },
      { kind: 'release', at: 100 },
    ]);
    await button.close();
  });

  it('holds while repeats flow and releases at the last repeat once they stop', async () => {
    const input = new PassThrough();
    let now = 0;
    const button = new KeyboardButton({ input, firstRepeatMs: 40, repeatGapMs: 25, clock: () => now });
    const edges: ButtonEdge[] = [];
    button.onEdge((e) => edges.push(e));
    input.write(' ');
    await sleep(5);
    for (const t of [30, 40, 50, 60, 70]) {
      now = t;
      input.write(' ');
      await sleep(10);
    }
    expect(button.pressed).toBe(true);
    now = 999;
    await sleep(60);
    expect(edges).toEqual([
      { kind: 'press', at: 0 },
      { kind: 'release', at: 70 },
    ]);
    await button.close();
  });

  it('treats repeats batched in one chunk as one sighting', async () => {
    const input = new PassThrough();
    const button = new KeyboardButton({ input, firstRepeatMs: 40, repeatGapMs: 25 });
    const edges: ButtonEdge[] = [];
    button.onEdge((e) => edges.push(e));
    input.write('    ');
    await sleep(5);
    expect(edges.map((e) => e.kind)).toEqual(['press']);
    await button.close();
  });

  it('hands Ctrl-C to onInterrupt and other keys to onOtherKey, without pressing', async () => {
    const input = new PassThrough();
    const interrupts: number[] = [];
    const others: string[] = [];
    const button = new KeyboardButton({ input, onInterrupt: () => interrupts.push(1), onOtherKey: (k) => others.push(k) });
    input.write('q');
    await sleep(5);
    input.write('\u0003');
    await sleep(5);
    expect(interrupts).toEqual([1]);
    expect(others).toEqual(['q']);
    expect(button.pressed).toBe(false);
    await button.close();
  });

  it.each([
    [{ key: '' }, '"key" must be one character'],
    [{ key: 'ab' }, '"key" must be one character'],
    [{ firstRepeatMs: 0 }, '"firstRepeatMs" must be a positive number'],
    [{ repeatGapMs: -5 }, '"repeatGapMs" must be a positive number'],
  ])('rejects bad options %o', (options, text) => {
    const input = new PassThrough();
    expect(() => new KeyboardButton({ input, ...options })).toThrow(text);
    input.destroy();
  });
});

describe('RecordingLed', () => {
  it('records level changes on its clock, pattern names, and every write', async () => {
    let now = 0;
    const led = new RecordingLed({ clock: () => now });
    led.describe('bootstrapping');
    for (const [t, on] of [[10, true], [20, true], [30, false], [40, true]] as const) {
      now = t;
      led.write(on);
    }
    now = 50;
    led.describe('connected');
    led.describe('connected');
    now = 60;
    await led.close();
    expect(led.timeline).toEqual([
      { at: 10, on: true },
      { at: 30, on: false },
      { at: 40, on: true },
      { at: 60, on: false },
    ]);
    expect(led.patterns).toEqual([
      { at: 0, pattern: 'bootstrapping' },
      { at: 50, pattern: 'connected' },
    ]);
    expect(led.writes).toBe(4);
  });

  it('keeps only the newest maxEntries changes', () => {
    const led = new RecordingLed({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) led.write(i % 2 === 0);
    expect(led.timeline.map((s) => s.on)).toEqual([false, true, false]);
  });

  it.each([0, 1.5, -1])('rejects maxEntries %s', (maxEntries) => {
    expect(() => new RecordingLed({ maxEntries })).toThrow(TypeError);
  });
});

describe('TerminalLed', () => {
  it('redraws one terminal line in place, green dot when lit, and ends the line on close', async () => {
    const out: string[] = [];
    const led = new TerminalLed({ output: { isTTY: true, write: (s: string) => out.push(s) } });
    led.describe('connected');
    led.write(true);
    led.write(true);
    led.write(false);
    expect(led.line()).toBe('○ connected');
    await led.close();
    expect(out).toEqual([
      '\r\u001b[2K○ connected',
      '\r\u001b[2K\u001b[32m●\u001b[0m connected',
      '\r\u001b[2K○ connected',
      '\n',
    ]);
  });

  it('draws without colour when asked', () => {
    const out: string[] = [];
    const led = new TerminalLed({ output: { isTTY: true, write: (s: string) => out.push(s) }, color: false });
    led.write(true);
    expect(out).toEqual(['\r\u001b[2K●']);
  });

  it('into a pipe, writes one line per pattern change and none per blink', async () => {
    const out: string[] = [];
    const led = new TerminalLed({ output: { write: (s: string) => out.push(s) } });
    led.describe('bootstrapping');
    for (let i = 0; i < 20; i++) led.write(i % 2 === 0);
    led.describe('connected');
    await led.close();
    expect(out).toEqual(['led: bootstrapping\n', 'led: connected\n']);
  });
});
