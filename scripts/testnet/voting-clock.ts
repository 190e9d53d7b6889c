// When the authorities vote. Tor aligns voting rounds to the wall clock: a round's consensus becomes
// valid at a multiple of the voting interval, and authorities vote VoteDelay + DistDelay before
// that. A network launched a second or two before a vote gets a first consensus without the relays
// (their descriptors have not reached the authorities yet): no onion paths can be built from it,
// and after it the network runs on the slower 20 s rounds. Seen here as a 47 s start against 17-25 s
// (run check --dir logs: launch 20:42:55.3, vote 20:42:57.1). So the launch waits out such a round.

export interface VotingSchedule {
  readonly intervalS: number;
  readonly voteDelayS: number;
  readonly distDelayS: number;
}

/** Only the first consensus, which everything waits for, is voted on the short clock. */
export const firstRound: VotingSchedule = { intervalS: 10, voteDelayS: 2, distDelayS: 2 };
/** 10 s rounds throughout left relays unbootstrapped in one of four planning runs; 20 s did not. */
export const laterRounds: VotingSchedule = { intervalS: 20, voteDelayS: 4, distDelayS: 4 };

/** Relays need this long after launch to have their descriptors on the authorities (loaded 2-core machine). */
export const relayUploadLeadMs = 4500;

/**
 * How long to wait before launching the authorities and relays at `nowMs` (epoch ms) so that the
 * first vote they take part in comes at least `leadMs` after launch. Returns 0 when it already does.
 */
export function launchDelayMs(nowMs: number, leadMs = relayUploadLeadMs, round: VotingSchedule = firstRound): number {
  const interval = round.intervalS * 1000;
  const before = (round.voteDelayS + round.distDelayS) * 1000;
  const closes = round.distDelayS * 1000;
  // The next consensus time whose voting has not closed yet.
  let validAfter = Math.ceil(nowMs / interval) * interval;
  if (validAfter - closes <= nowMs) validAfter += interval;
  const vote = validAfter - before;
  if (vote - nowMs >= leadMs) return 0;
  // An authority that starts while a round is open still votes in it, so wait until the round has
  // closed (plus 0.5 s); the next vote is then 7.5 s after launch.
  return validAfter - closes + 500 - nowMs;
}
