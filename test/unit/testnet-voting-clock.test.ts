// The launch delay that keeps the first vote clear of the relays' start-up.
import { describe, expect, test } from 'vitest';
import { firstRound, launchDelayMs } from '../../scripts/testnet/voting-clock.js';

// 10 s rounds with 2 s + 2 s delays: the round for valid-after T votes at T-4 s and closes at T-2 s.
const T = Date.UTC(2026, 10, 24, 20, 43, 0);

describe('launchDelayMs', () => {
  test.each([
    // [launch offset from T in ms, expected delay in ms]
    [-10_000, 0], // vote at T-4 s is 6 s away
    [-8_500, 0], // exactly 4.5 s of lead
    [-8_499, 6_999], // too little lead: wait until T-1.5 s
    [-5_000, 3_500],
    [-3_100, 1_600], // the measured bad launch (vote 1.8 s later)
    [-2_001, 501], // round still open
    [-2_000, 0], // round closed: next vote at T+6 s, 8 s away
    [-1_500, 0],
    [0, 0], // next vote at T+6 s
  ])('launch %d ms from T waits %d ms', (offset, expected) => {
    expect(launchDelayMs(T + offset)).toBe(expected);
  });

  test('after the delay the first vote is always at least the lead away', () => {
    const voteOffset = (firstRound.voteDelayS + firstRound.distDelayS) * 1000;
    for (let now = T; now < T + 20_000; now += 37) {
      const launch = now + launchDelayMs(now);
      const interval = firstRound.intervalS * 1000;
      // First round still open at launch, and its vote time.
      let validAfter = Math.ceil(launch / interval) * interval;
      if (validAfter - firstRound.distDelayS * 1000 <= launch) validAfter += interval;
      expect(validAfter - voteOffset - launch).toBeGreaterThanOrEqual(4500);
      expect(launch - now).toBeLessThanOrEqual(8500);
    }
  });
});
