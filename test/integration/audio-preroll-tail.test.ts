// Pre-roll and tail, sample-exact: the input is a counter (each sample is its own index), captured
// with the high-pass off and unity gain so the clip's samples say where in the input they came from.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimMicrophone } from '../../hardware/sim/sim-audio.js';
import { collect } from '../fixtures/audio/recording-collector.js';
import { concat } from '../fixtures/audio/signal-measures.js';
import { makeTempDir, writeS16, type TempDir } from '../fixtures/audio/speech-fixture.js';

const PERIOD = 320;
// Slack for the JS thread being descheduled between reading the frame counter and the call, when
// the whole suite shares two cores.
const SLACK = 4 * PERIOD;
let dir: TempDir;
let counter: string;

beforeAll(() => {
  dir = makeTempDir();
  const s = new Int16Array(16000 * 4);
  for (let i = 0; i < s.length; i++) s[i] = (i % 32768) - 16384;
  counter = writeS16(join(dir.path, 'counter.raw'), s);
});
afterAll(() => dir.remove());

const indexOf = (v: number) => v + 16384; // valid while indices stay below 32768 (2 s)

function expectContiguous(pcm: Int16Array): void {
  let breaks = 0;
  for (let i = 1; i < pcm.length; i++) if (pcm[i]! - pcm[i - 1]! !== 1) breaks++;
  expect(breaks).toBe(0);
}

describe('pre-roll and tail', () => {
  it('starts the clip the pre-roll before record() and ends it the tail after stop()', async () => {
    const clips: Int16Array[][] = [[], []];
    let which = 0;
    const mic = createSimMicrophone({ infile: counter, highPass: false, preRollMs: 400, tailMs: 200, onPcm: (s) => clips[which]!.push(s) });
    try {
      await mic.open();
      await sleep(700);
      const atRecord = mic.stats().framesCaptured;
      const rec = mic.record();
      const got = collect(rec);
      await sleep(400);
      const atStop = mic.stats().framesCaptured;
      const summary = await rec.stop();
      await got.done;
      const pcm = concat(clips[0]!);
      expect(pcm.length).toBe(summary.samples);
      expectContiguous(pcm);
      const first = indexOf(pcm[0]!);
      const last = indexOf(pcm[pcm.length - 1]!);
      expect(atRecord - first).toBeGreaterThanOrEqual(6400);
      expect(atRecord - first).toBeLessThanOrEqual(6400 + SLACK);
      expect(last + 1 - atStop).toBeGreaterThanOrEqual(3200 - PERIOD);
      expect(last + 1 - atStop).toBeLessThanOrEqual(3200 + SLACK);

      // A clip right after must not repeat audio the first one carried.
      which = 1;
      const again = mic.record();
      await sleep(100);
      await again.stop();
      const second = concat(clips[1]!);
      expect(second.length).toBeGreaterThan(0);
      expect(indexOf(second[0]!)).toBeGreaterThan(last);
    } finally {
      await mic.close();
    }
  });

  // Talk, then silence: a release after 200 ms of quiet needs no tail (nothing is being said that it
  // could save), so the clip ends at the release and reaches the listener sooner.
  it('ends the clip at once when released after a quiet stretch, and keeps the tail while talking', async () => {
    const talkThenQuiet = new Int16Array(16000 * 4);
    for (let i = 0; i < 16000 * 1.2; i++) talkThenQuiet[i] = Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 16000));
    // The quiet part is room noise 40 dB under the talking, not digital silence.
    for (let i = 16000 * 1.2; i < talkThenQuiet.length; i++) talkThenQuiet[i] = ((i * 7919) % 200) - 100;
    const file = writeS16(join(dir.path, 'talk-then-quiet.raw'), talkThenQuiet);
    const clipAfterQuiet = async (quietMs: number | undefined, stopAtFrame: number) => {
      const tap: Int16Array[] = [];
      const mic = createSimMicrophone({ infile: file, highPass: false, settleMs: 0, preRollMs: 400, tailMs: 200, ...(quietMs === undefined ? {} : { quietMs }), onPcm: (x) => tap.push(x) });
      try {
        await mic.open();
        await sleep(500);
        const atRecord = mic.stats().framesCaptured;
        const rec = mic.record();
        const got = collect(rec);
        while (mic.stats().framesCaptured < stopAtFrame) await sleep(5);
        const atStop = mic.stats().framesCaptured;
        const summary = await rec.stop();
        await got.done;
        expect(concat(tap).length).toBe(summary.samples);
        // What the clip holds beyond the pre-roll and the held time: the tail, or nothing.
        return { extra: summary.samples - 6400 - (atStop - atRecord), atStop };
      } finally {
        await mic.close();
      }
    };
    const quiet = await clipAfterQuiet(undefined, 16000 * 1.6); // 400 ms into the quiet
    expect(quiet.extra).toBeLessThanOrEqual(SLACK);
    expect(quiet.extra).toBeLessThan(3200 - PERIOD);
    const talking = await clipAfterQuiet(undefined, 16000 * 1.0); // mid-word
    expect(talking.extra).toBeGreaterThanOrEqual(3200 - PERIOD);
    const tailAlways = await clipAfterQuiet(0, 16000 * 1.6); // quietMs 0: the tail always
    expect(tailAlways.extra).toBeGreaterThanOrEqual(3200 - PERIOD);
    expect(() => createSimMicrophone({ infile: file, quietMs: 10001 })).toThrow(/quietMs/);
  });

  it('never puts the settle time into the pre-roll', async () => {
    const tap: Int16Array[] = [];
    const mic = createSimMicrophone({ infile: counter, highPass: false, preRollMs: 1000, settleMs: 250, onPcm: (s) => tap.push(s) });
    try {
      await mic.open();
      await sleep(500);
      const rec = mic.record();
      await sleep(50);
      await rec.stop();
      const pcm = concat(tap);
      expect(indexOf(pcm[0]!)).toBe(4000); // 250 ms at 16 kHz: everything before is dropped
      expectContiguous(pcm);
    } finally {
      await mic.close();
    }
  });

  it('ends a recording at the end of the simulated input, and later ones at once', async () => {
    const short = writeS16(join(dir.path, 'short.raw'), new Int16Array(16000 * 0.5).fill(1000));
    const mic = createSimMicrophone({ infile: short, settleMs: 0, highPass: false });
    try {
      await mic.open();
      const rec = mic.record();
      const got = collect(rec);
      const summary = await rec.stop();
      expect(summary.samples).toBeGreaterThanOrEqual(3200); // at least the tail
      await got.done;
      await sleep(600);
      expect(mic.stats().ended).toBe(true);
      expect(mic.stats().framesCaptured).toBe(8000); // not one stale frame past the file
      const late = mic.record();
      const packets = await collect(late).done;
      expect(packets).toHaveLength(0);
      expect(await late.stop()).toEqual({ samples: 0, packets: 0, xruns: 0 });
    } finally {
      await mic.close();
    }
  });

  it('rejects pre-roll, tail and settle times out of range', () => {
    expect(() => createSimMicrophone({ infile: counter, preRollMs: -1 })).toThrow(/preRollMs/);
    expect(() => createSimMicrophone({ infile: counter, tailMs: 10001 })).toThrow(/tailMs/);
    expect(() => createSimMicrophone({ infile: counter, settleMs: 1.5 })).toThrow(/settleMs/);
  });
});
