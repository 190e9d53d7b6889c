// The e2e bench's interval for its latency ratio (test/bench/ratio-interval.ts): it must bracket
// the ratio it reports, narrow as samples agree, widen as they scatter, and repeat itself.
import { describe, expect, it } from 'vitest';
import { median } from '../bench/median.js';
import { medianRatioInterval } from '../bench/ratio-interval.js';

describe('median', () => {
  it('takes the middle sample, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('medianRatioInterval', () => {
  const talks = [13, 14, 16, 16, 18, 18, 20, 33, 58];
  const echoes = [15, 15, 18, 10, 11, 15, 12, 15, 15, 15, 15, 11, 15, 15, 15, 14, 12, 15, 12, 15, 16, 11, 11, 11, 17, 15, 12, 11, 12, 16, 14, 12, 22, 13];

  it('reports the ratio of the medians, inside its interval', () => {
    const r = medianRatioInterval(talks, echoes);
    expect(r.ratio).toBeCloseTo(18 / 15, 10); // the 17th and 18th of the 34 probes are both 15
    expect(r.low).toBeLessThan(r.ratio);
    expect(r.high).toBeGreaterThan(r.ratio);
    expect(r.level).toBe(0.9);
  });

  it('is a point when every sample agrees', () => {
    const r = medianRatioInterval([20, 20, 20], [10, 10]);
    expect(r).toEqual({ ratio: 2, low: 2, high: 2, level: 0.9 });
  });

  it('widens with the talks\' scatter and with the level', () => {
    const tight = medianRatioInterval([17, 18, 18, 18, 19, 18, 17, 19, 18], echoes);
    const loose = medianRatioInterval(talks, echoes);
    expect(loose.high - loose.low).toBeGreaterThan(tight.high - tight.low);
    const wider = medianRatioInterval(talks, echoes, { level: 0.99 });
    expect(wider.low).toBeLessThanOrEqual(loose.low);
    expect(wider.high).toBeGreaterThanOrEqual(loose.high);
  });

  it('stays within the ratios the samples can make', () => {
    const r = medianRatioInterval(talks, echoes);
    expect(r.low).toBeGreaterThanOrEqual(Math.min(...talks) / Math.max(...echoes));
    expect(r.high).toBeLessThanOrEqual(Math.max(...talks) / Math.min(...echoes));
  });

  it('gives the same range for the same samples and seed, another for another seed', () => {
    const a = medianRatioInterval(talks, echoes);
    expect(medianRatioInterval(talks, echoes)).toEqual(a);
    const b = medianRatioInterval(talks, echoes, { seed: 7 });
    expect([b.low, b.high]).not.toEqual([a.low, a.high]);
  });

  it('refuses empty samples and a level outside (0, 1)', () => {
    expect(() => medianRatioInterval([], echoes)).toThrow(RangeError);
    expect(() => medianRatioInterval(talks, [])).toThrow(RangeError);
    expect(() => medianRatioInterval(talks, echoes, { level: 1 })).toThrow(RangeError);
  });
});
