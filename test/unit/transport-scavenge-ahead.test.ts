import { afterEach, describe, expect, it } from 'vitest';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HEADROOM_BYTES, ScavengeAhead } from '../../firmware/transport/scavenge-ahead.js';

/** A ScavengeAhead whose deferred checks wait in a queue the test runs, with a free-space dial. */
function harness(free = 0) {
  const queue: (() => void)[] = [];
  const state = { free, scavenges: 0 };
  const ahead = new ScavengeAhead({
    scavenge: () => void state.scavenges++,
    youngFreeBytes: () => state.free,
    headroomBytes: 1000,
    defer: (check) => void queue.push(check),
  });
  const runTurn = () => queue.splice(0).forEach((check) => check());
  /** A piece of untimed work, then the turn after it: the scavenges so far. */
  const workThenTurn = () => (ahead.afterWork(), runTurn(), state.scavenges);
  return { ahead, state, queue, runTurn, workThenTurn };
}

/** Puts `gc` on globalThis (or removes it, for undefined) until the returned function restores it. */
function withGlobalGc(gc: unknown): () => void {
  const g = globalThis as { gc?: unknown };
  const had = g.gc;
  if (gc === undefined) delete g.gc;
  else g.gc = gc;
  return () => {
    if (had === undefined) delete g.gc;
    else g.gc = had;
  };
}

describe('ScavengeAhead', () => {
  it('after untimed work, scavenges on the next turn when less than the headroom is free, and not when enough is', () => {
    const h = harness(999);
    h.ahead.afterWork();
    expect(h.state.scavenges).toBe(0); // never inside the work's own turn
    h.runTurn();
    expect(h.state.scavenges).toBe(1);
    h.state.free = 1000;
    expect(h.workThenTurn()).toBe(1);
  });

  it('checks once per turn however many pieces of work came in it', () => {
    const h = harness();
    for (let i = 0; i < 5; i++) h.ahead.afterWork();
    expect(h.queue).toHaveLength(1);
    h.runTurn();
    expect(h.state.scavenges).toBe(1);
  });

  it('a timed part that starts before the check holds it off; once it ends, work is followed by a scavenge again', () => {
    const h = harness();
    h.ahead.afterWork(); // the last chunk...
    const end = h.ahead.timed(); // ...and the body's end in the same turn
    h.runTurn();
    expect(h.state.scavenges).toBe(0);
    expect(h.workThenTurn()).toBe(0); // another upload's chunk while this one is timed
    end();
    expect(h.workThenTurn()).toBe(1);
  });

  it('overlapping timed parts (two uploads): no scavenge until both ended; ending one twice counts once', () => {
    const h = harness();
    const endA = h.ahead.timed();
    const endB = h.ahead.timed();
    endA();
    endA();
    expect(h.workThenTurn()).toBe(0);
    endB();
    expect(h.workThenTurn()).toBe(1);
  });

  it('without a collector (node started without --expose-gc) does nothing and schedules nothing', () => {
    const restore = withGlobalGc(undefined);
    try {
      const queue: (() => void)[] = [];
      const ahead = new ScavengeAhead({ youngFreeBytes: () => 0, defer: (c) => void queue.push(c) });
      ahead.afterWork();
      expect(queue).toHaveLength(0);
    } finally {
      restore();
    }
  });

  it('reads V8\'s young generation: a headroom above any free space always scavenges, none never does', () => {
    let scavenges = 0;
    const defer = (check: () => void) => check();
    new ScavengeAhead({ scavenge: () => void scavenges++, headroomBytes: Number.MAX_SAFE_INTEGER, defer }).afterWork();
    expect(scavenges).toBe(1);
    new ScavengeAhead({ scavenge: () => void scavenges++, headroomBytes: 0, defer }).afterWork();
    expect(scavenges).toBe(1);
    expect(HEADROOM_BYTES).toBeLessThan(1024 * 1024); // torlk.service's young generation is ~1 MB
  });

  describe('with node\'s gc exposed, as torlk.service runs it', () => {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());

    it('runs a minor collection (a scavenge), not a full one', async () => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (options?: unknown) => void;
      restore = withGlobalGc(gc);
      const kinds: number[] = [];
      const observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
      });
      observer.observe({ entryTypes: ['gc'] });
      try {
        new ScavengeAhead({ headroomBytes: Number.MAX_SAFE_INTEGER, defer: (check) => check() }).afterWork();
        await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
      } finally {
        observer.disconnect();
      }
      expect(kinds).toContain(perfConstants.NODE_PERFORMANCE_GC_MINOR);
    });

    it('asks node\'s gc for the minor kind', () => {
      const calls: unknown[] = [];
      restore = withGlobalGc((options?: unknown) => void calls.push(options));
      new ScavengeAhead({ headroomBytes: Number.MAX_SAFE_INTEGER, defer: (check) => check() }).afterWork();
      expect(calls).toEqual([{ type: 'minor' }]);
    });
  });
});
