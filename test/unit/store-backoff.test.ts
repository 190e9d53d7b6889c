import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { backoffDelay, defaultBackoff } from '../../firmware/store/backoff.js';

describe('backoffDelay', () => {
  it('doubles from 5 s with half the delay random, capped at 30 min', () => {
    expect(backoffDelay(1, 0)).toBe(2_500);
    expect(backoffDelay(1, 0.999999)).toBe(5_000);
    expect(backoffDelay(2, 0)).toBe(5_000);
    expect(backoffDelay(3, 0.5)).toBe(15_000);
    expect(backoffDelay(10, 0)).toBe(900_000);
    expect(backoffDelay(11, 0.9999999)).toBe(1_800_000);
    expect(backoffDelay(10_000, 0.5)).toBe(1_350_000);
  });

  it('rejects nonsense input with a TypeError', () => {
    expect(() => backoffDelay(0, 0.5)).toThrow(TypeError);
    expect(() => backoffDelay(1.5, 0.5)).toThrow(TypeError);
    expect(() => backoffDelay(1, 1)).toThrow(TypeError);
    expect(() => backoffDelay(1, Number.NaN)).toThrow(TypeError);
  });

  test.prop([fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })])(
    'stays within [half, full] of the capped exponential, and never decreases at fixed jitter',
    (n, r) => {
      const d = backoffDelay(n, r);
      const capped = Math.min(defaultBackoff.maxMs, defaultBackoff.baseMs * 2 ** Math.min(n - 1, 60));
      expect(d).toBeGreaterThanOrEqual(Math.floor(capped / 2));
      expect(d).toBeLessThanOrEqual(capped);
      expect(backoffDelay(n + 1, r)).toBeGreaterThanOrEqual(d);
    },
  );
});
