// Stopping the capture thread from inside its own JS callback, hundreds of times, while the thread is
// flooding the thread-safe function (unpaced file PCM, queue full): close() must abort the function
// before joining or it deadlocks. Also checks that no threads are left behind.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimMicrophone } from '../../hardware/sim/sim-audio.js';
import { collect } from '../fixtures/audio/recording-collector.js';
import { makeTempDir, writeS16, type TempDir } from '../fixtures/audio/speech-fixture.js';

let dir: TempDir;
let infile: string;
beforeAll(() => {
  dir = makeTempDir();
  const s = new Int16Array(16000);
  for (let i = 0; i < s.length; i++) s[i] = Math.round(3000 * Math.sin(i / 5));
  infile = writeS16(join(dir.path, 'tone.raw'), s);
});
afterAll(() => dir.remove());

function threads(): number {
  const m = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m?.[1]);
}

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // hold the JS thread so the capture thread fills the queue and blocks in BlockingCall
  }
}

describe('stop from inside the callback', () => {
  it('survives 300 open/record/close-in-callback cycles with the queue full', async () => {
    const before = threads();
    let closedInside = 0;
    for (let i = 0; i < 300; i++) {
      let inside = false;
      // Unpaced, and far past the end of the file: the file plugin just repeats stale data.
      const mic = createSimMicrophone({
        infile,
        pace: false,
        maxFrames: 16000 * 3600,
        settleMs: i % 2 === 0 ? 0 : 20,
        onPcm: () => {
          if (inside) return;
          inside = true;
          busyWait(i % 10 === 0 ? 30 : 2);
          void mic.close();
          closedInside++;
        },
      });
      await mic.open();
      const rec = mic.record();
      const got = collect(rec);
      await expect(got.done).rejects.toMatchObject({ code: 'closed' });
      await mic.close();
    }
    expect(closedInside).toBe(300);
    expect(threads()).toBeLessThanOrEqual(before + 2);
  });

  it('closes promptly from outside while paced, idle or recording, and close() is idempotent', async () => {
    for (let i = 0; i < 20; i++) {
      const mic = createSimMicrophone({ infile, settleMs: 0 });
      await mic.open();
      const rec = i % 2 === 0 ? mic.record() : undefined;
      await new Promise((r) => setTimeout(r, i * 3));
      const t0 = performance.now();
      await mic.close();
      await mic.close();
      expect(performance.now() - t0).toBeLessThan(500); // one 20 ms period, plus a loaded machine
      if (rec) await expect(rec.stop()).rejects.toMatchObject({ code: 'closed' });
    }
  });

  // A release after quiet is finished on the JS thread (no tail), racing the capture thread that
  // floods the queue: every stop must end its recording, with every packet delivered once, in order.
  it('ends 100 quiet recordings from the JS thread while the queue floods, losing no packet', async () => {
    const silence = writeS16(join(dir.path, 'silence.raw'), new Int16Array(16000));
    for (let i = 0; i < 100; i++) {
      const mic = createSimMicrophone({ infile: silence, pace: false, maxFrames: 16000 * 3600, settleMs: 0, preRollMs: 100, tailMs: 200 });
      try {
        await mic.open();
        const rec = mic.record();
        const got = collect(rec);
        // Let more than the quiet window (200 ms) in, then hold the JS thread on some rounds so the
        // capture thread is blocked on a full queue (engine lock held) when stop() comes.
        while (got.packets.length < 12 + (i % 7)) await new Promise((r) => setImmediate(r));
        if (i % 3 === 0) busyWait(5 + (i % 4) * 10);
        const summary = await rec.stop();
        const packets = await got.done;
        expect(packets.length).toBe(summary.packets);
        expect(packets.reduce((n, p) => n + p.samples, 0)).toBe(summary.samples);
      } finally {
        await mic.close();
      }
    }
  });

  it('can be reopened after close', async () => {
    const mic = createSimMicrophone({ infile, settleMs: 0 });
    for (let i = 0; i < 3; i++) {
      await mic.open();
      const rec = mic.record();
      await new Promise((r) => setTimeout(r, 60));
      const s = await rec.stop();
      expect(s.samples).toBeGreaterThan(0);
      await mic.close();
    }
  });
});
