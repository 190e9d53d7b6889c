// How sure one run's latency verdict is: the e2e bench's goal compares the median of a handful of
// talks with the median of the echo probes, and on a loaded two-core machine either median moves
// by a tenth between runs. A percentile bootstrap (resampling the talks and the probes, each with
// replacement, and taking the ratio of medians each time) gives the range that ratio could have
// come out in. Written here: it is twenty lines, and the npm bootstrap package I found
// (compute-bootstrap) takes one sample and is no longer kept. The generator is seeded, so the same
// samples always give the same range.

import { median } from './median.js';

/** Mulberry32: a small seeded generator, uniform in [0, 1). Not for anything secret. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RatioInterval {
  /** median(numerator) / median(denominator) of the samples themselves. */
  readonly ratio: number;
  readonly low: number;
  readonly high: number;
  /** The central share of bootstrap ratios between low and high, e.g. 0.9. */
  readonly level: number;
}

/** Percentile bootstrap interval of median(numerator) / median(denominator). */
export function medianRatioInterval(
  numerator: readonly number[],
  denominator: readonly number[],
  { level = 0.9, rounds = 4000, seed = 1 }: { level?: number; rounds?: number; seed?: number } = {},
): RatioInterval {
  if (numerator.length === 0 || denominator.length === 0) throw new RangeError('a ratio interval needs samples on both sides');
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be between 0 and 1, got ${level}`);
  const random = seededRandom(seed);
  const resample = (xs: readonly number[]) => Array.from(xs, () => xs[Math.floor(random() * xs.length)]!);
  const ratios = Array.from({ length: rounds }, () => median(resample(numerator)) / median(resample(denominator))).sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  const at = (q: number) => ratios[Math.min(rounds - 1, Math.max(0, Math.round(q * (rounds - 1))))]!;
  return { ratio: median(numerator) / median(denominator), low: at(tail), high: at(1 - tail), level };
}
