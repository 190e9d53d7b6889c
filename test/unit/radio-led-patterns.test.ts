// One LED must say eleven things: every pair of patterns has to differ in a way a person sees
// without a stopwatch. And ledPatternFor must pick by the documented priority.
import { describe, expect, it } from 'vitest';
import { ledPatternFor, ledPatterns, ledPriority, type LedPattern, type LedPatternName } from '../../firmware/radio/led-patterns.js';
import { createRadioState } from '../../firmware/radio/radio-machine.js';
import { defaultRadioConfig, type RadioState } from '../../firmware/radio/radio-types.js';

interface Signature {
  kind: 'steady' | 'once' | 'blinking';
  period: number;
  duty: number;
  /** Blinks per group (on-runs per period). */
  pulses: number;
}

function signature(p: LedPattern): Signature {
  const period = p.steps.reduce((t, s) => t + s.ms, 0);
  const lit = p.steps.filter((s) => s.on).reduce((t, s) => t + s.ms, 0);
  const pulses = p.steps.filter((s, i) => s.on && !p.steps[i - 1]?.on).length;
  const steady = p.steps.every((s) => s.on === p.steps[0]?.on);
  return { kind: !p.repeat ? 'once' : steady ? 'steady' : 'blinking', period, duty: lit / period, pulses };
}

/** Why a person can tell a from b, or null when they cannot. Margins: 2× in rate, 25 points in duty. */
function difference(a: Signature, b: Signature): string | null {
  if (a.kind !== b.kind) return `${a.kind} vs ${b.kind}`;
  if (a.kind !== 'blinking') return null; // two steady or two one-shot patterns look alike
  if (a.pulses !== b.pulses) return `${a.pulses} vs ${b.pulses} blinks per group`;
  const ratio = Math.max(a.period, b.period) / Math.min(a.period, b.period);
  if (ratio >= 2) return `rate differs ${ratio.toFixed(1)}×`;
  if (Math.abs(a.duty - b.duty) >= 0.25) return `lit ${Math.round(a.duty * 100)}% vs ${Math.round(b.duty * 100)}%`;
  return null;
}

const names = Object.keys(ledPatterns) as LedPatternName[];

describe('LED patterns', () => {
  it('cover the situations the issues list', () => {
    expect(names.sort()).toEqual(
      ['bootstrapping', 'clockWrong', 'connected', 'delivered', 'fault', 'maxLength', 'playing', 'recording', 'sending', 'torError', 'unheard'].sort(),
    );
    expect([...ledPriority].sort()).toEqual(names.sort());
    for (const n of names) expect(ledPatterns[n].name).toBe(n);
  });

  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = names[i]!;
      const b = names[j]!;
      it(`${a} and ${b} look different on one LED`, () => {
        expect(difference(signature(ledPatterns[a]), signature(ledPatterns[b])), `${a} vs ${b}`).not.toBeNull();
      });
    }
  }

  it('the checker itself rejects look-alikes', () => {
    const blink = (on: number, off: number): LedPattern => ({ name: 'connected', meaning: '', looksLike: '', repeat: true, steps: [{ on: true, ms: on }, { on: false, ms: off }] });
    expect(difference(signature(blink(500, 500)), signature(blink(400, 400)))).toBeNull();
    expect(difference(signature(blink(500, 500)), signature(blink(600, 400)))).toBeNull();
    expect(difference(signature(blink(500, 500)), signature(blink(250, 250)))).not.toBeNull();
  });

  for (const n of names) {
    it(`${n} has visible steps, a readable period and groups separated by a clear pause`, () => {
      const p = ledPatterns[n];
      expect(p.steps.length).toBeGreaterThan(0);
      for (const s of p.steps) expect(s.ms).toBeGreaterThanOrEqual(40); // shorter flashes blur together
      const sig = signature(p);
      expect(sig.period).toBeLessThanOrEqual(3000); // a person should not wait longer to read it
      if (sig.pulses > 1) {
        const offs = p.steps.filter((s) => !s.on).map((s) => s.ms);
        const pause = Math.max(...offs);
        const gaps = offs.filter((ms) => ms !== pause);
        for (const g of gaps) expect(pause).toBeGreaterThanOrEqual(3 * g);
      }
      expect(p.meaning.length).toBeGreaterThan(5);
      expect(p.looksLike.length).toBeGreaterThan(5);
    });
  }

  it('the one-shot "delivered" fits inside the delivered notice', () => {
    expect(signature(ledPatterns.delivered).period).toBeLessThanOrEqual(defaultRadioConfig.deliveredNoticeMs);
  });
});

// Each situation as a patch on an idle, connected radio; patches in the same slot cannot coexist.
const situations: Record<LedPatternName, { slot: string; patch: Partial<RadioState> }> = {
  fault: { slot: 'faults', patch: { faults: [{ device: 'microphone', reason: 'EIO' }] } },
  clockWrong: { slot: 'tor', patch: { tor: { kind: 'clockWrong', detail: 'x' } } },
  recording: { slot: 'activity', patch: { nextSeq: 2, activity: { kind: 'recording', recordingId: 'r-1', pressedAt: 0, afterTap: false } } },
  maxLength: { slot: 'notice', patch: { notice: { kind: 'maxLength', since: 0 } } },
  playing: { slot: 'activity', patch: { nextSeq: 2, lastHeard: 'a', activity: { kind: 'playing', playbackId: 'r-1', clipId: 'a', source: 'replay' } } },
  delivered: { slot: 'notice', patch: { notice: { kind: 'delivered', since: 0 } } },
  sending: { slot: 'outgoing', patch: { outgoing: ['o-1'] } },
  torError: { slot: 'tor', patch: { tor: { kind: 'error', reason: 'x' } } },
  unheard: { slot: 'unheard', patch: { unheard: [{ clipId: 'u', arrivedAt: 0 }] } },
  bootstrapping: { slot: 'tor', patch: { tor: { kind: 'bootstrapping', progress: 30 } } },
  connected: { slot: 'tor', patch: { tor: { kind: 'connected' } } },
};

describe('ledPatternFor', () => {
  const idle = { ...createRadioState(), tor: { kind: 'connected' } } as RadioState;

  it('shows each situation on its own', () => {
    for (const n of names) expect(ledPatternFor({ ...idle, ...situations[n].patch }).name).toBe(n);
    expect(ledPatternFor(createRadioState()).name).toBe('bootstrapping'); // tor "starting"
  });

  it('shows "maxLength" while the button is held past the limit, without a notice', () => {
    expect(ledPatternFor({ ...idle, activity: { kind: 'heldPastLimit', since: 0 } }).name).toBe('maxLength');
  });

  for (let i = 0; i < ledPriority.length; i++) {
    for (let j = i + 1; j < ledPriority.length; j++) {
      const hi = ledPriority[i]!;
      const lo = ledPriority[j]!;
      if (situations[hi].slot === situations[lo].slot) continue; // cannot happen together
      it(`prefers ${hi} over ${lo}`, () => {
        expect(ledPatternFor({ ...idle, ...situations[lo].patch, ...situations[hi].patch }).name).toBe(hi);
      });
    }
  }
});
