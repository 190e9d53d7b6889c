// The pattern player on the simulated LED (hardware/sim/recording-led.ts), driven by fake time.
import { describe, expect, it } from 'vitest';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import type { Led } from '../../hardware/led.js';
import { LedPatternError, LedPlayer } from '../../firmware/radio/led-player.js';
import { ledPatterns, type LedPattern } from '../../firmware/radio/led-patterns.js';
import { ManualScheduler } from '../../firmware/radio/manual-scheduler.js';

function setup() {
  const clock = new ManualScheduler(0);
  const led = new RecordingLed({ clock: () => clock.now() });
  const player = new LedPlayer(led, clock);
  return { clock, led, player };
}

describe('LedPlayer', () => {
  it('plays a repeating pattern step by step, on the pattern timing', () => {
    const { clock, led, player } = setup();
    player.show(ledPatterns.torError); // on 150, off 150, on 150, off 1550
    clock.advance(4000);
    expect(led.timeline).toEqual([
      { at: 0, on: true },
      { at: 150, on: false },
      { at: 300, on: true },
      { at: 450, on: false },
      { at: 2000, on: true },
      { at: 2150, on: false },
      { at: 2300, on: true },
      { at: 2450, on: false },
      { at: 4000, on: true },
    ]);
    expect(led.patterns).toEqual([{ at: 0, pattern: 'torError' }]);
    expect(player.current).toBe('torError');
  });

  it('holds a steady pattern with one write and no busy timers', () => {
    const { clock, led, player } = setup();
    player.show(ledPatterns.recording);
    clock.advance(10_000);
    expect(led.timeline).toEqual([{ at: 0, on: true }]);
    expect(led.writes).toBe(1);
    expect(clock.pendingCount).toBe(1); // one tick a second, which writes nothing
  });

  it('plays a one-shot once and leaves the LED dark', () => {
    const { clock, led, player } = setup();
    player.show(ledPatterns.delivered);
    clock.advance(5000);
    expect(led.timeline).toEqual([
      { at: 0, on: true },
      { at: 1200, on: false },
    ]);
    expect(clock.pendingCount).toBe(0);
  });

  it('switches patterns at once, cancelling the old timing, and names the new one', () => {
    const { clock, led, player } = setup();
    player.show(ledPatterns.bootstrapping);
    clock.advance(200);
    player.show(ledPatterns.connected);
    clock.advance(2999);
    expect(led.patterns.map((p) => p.pattern)).toEqual(['bootstrapping', 'connected']);
    // bootstrapping's own "off at 500" never happens: connected (50 on, 2950 off) from 200 turns it off at 250.
    expect(led.timeline).toEqual([
      { at: 0, on: true },
      { at: 250, on: false },
    ]);
    clock.advance(1);
    expect(led.timeline.at(-1)).toEqual({ at: 3200, on: true });
    expect(clock.pendingCount).toBe(1);
  });

  it('showing the pattern already on keeps its rhythm', () => {
    const { clock, led, player } = setup();
    player.show(ledPatterns.bootstrapping);
    clock.advance(400);
    player.show(ledPatterns.bootstrapping);
    clock.advance(200);
    expect(led.timeline).toEqual([
      { at: 0, on: true },
      { at: 500, on: false },
    ]);
    expect(led.patterns).toHaveLength(1);
  });

  it('stop() darkens the LED and cancels its timer', () => {
    const { clock, led, player } = setup();
    player.show(ledPatterns.recording);
    player.stop();
    expect(led.on).toBe(false);
    expect(clock.pendingCount).toBe(0);
    expect(player.current).toBeNull();
  });

  it('works with an LED that has no describe()', () => {
    const writes: boolean[] = [];
    const bare: Led = { write: (on) => void writes.push(on), close: async () => {} };
    const clock = new ManualScheduler();
    new LedPlayer(bare, clock).show(ledPatterns.sending);
    clock.advance(300);
    expect(writes).toEqual([true, false, true]);
  });

  it('reports a failing LED once and stops driving it', () => {
    const errors: unknown[] = [];
    let calls = 0;
    const broken: Led = {
      write: () => {
        calls++;
        throw new Error('EIO writing /sys/class/gpio/gpio539/value');
      },
      close: async () => {},
    };
    const clock = new ManualScheduler();
    const player = new LedPlayer(broken, clock, { onError: (e) => errors.push(e) });
    player.show(ledPatterns.sending);
    clock.advance(5000);
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    expect(clock.pendingCount).toBe(0);
    player.show(ledPatterns.sending); // same pattern: no retry storm
    expect(calls).toBe(1);
  });

  it('rejects patterns it cannot play', () => {
    const { player } = setup();
    const bad = (steps: LedPattern['steps']): LedPattern => ({ ...ledPatterns.sending, name: 'fault', steps });
    expect(() => player.show(bad([]))).toThrow(LedPatternError);
    expect(() => player.show(bad([{ on: true, ms: 0 }]))).toThrow('has a step of 0 ms');
    expect(() => player.show(bad([{ on: true, ms: Number.NaN }]))).toThrow(LedPatternError);
    expect(() => player.show(bad([{ on: true, ms: -10 }]))).toThrow(LedPatternError);
  });
});

describe('ManualScheduler', () => {
  it('fires due timers in order, with now() at each due time, including timers set on the way', () => {
    const s = new ManualScheduler(100);
    const seen: string[] = [];
    s.setTimeout(() => seen.push(`b@${s.now()}`), 20);
    s.setTimeout(() => {
      seen.push(`a@${s.now()}`);
      s.setTimeout(() => seen.push(`c@${s.now()}`), 5);
    }, 10);
    const cleared = s.setTimeout(() => seen.push('never'), 15);
    s.clearTimeout(cleared);
    s.advance(50);
    expect(seen).toEqual(['a@110', 'c@115', 'b@120']);
    expect(s.now()).toBe(150);
  });

  it('rejects negative or NaN durations', () => {
    const s = new ManualScheduler();
    expect(() => s.advance(-1)).toThrow(RangeError);
    expect(() => s.setTimeout(() => {}, Number.NaN)).toThrow(RangeError);
  });
});
