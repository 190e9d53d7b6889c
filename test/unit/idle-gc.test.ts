// The radio collects garbage when a clip has ended and it is idle, and only then
// (firmware/app/idle-gc.ts): a collection while recording or playing would stall audio.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collectWhenIdle, radioIsIdle, type IdleSource } from '../../firmware/app/idle-gc.js';
import { createRadioState } from '../../firmware/radio/radio-state.js';
import type { RadioState } from '../../firmware/radio/radio-types.js';

class FakeApp extends EventEmitter implements IdleSource {
  shell: { state: RadioState } = { state: createRadioState() };
}

const busy = (patch: Partial<RadioState>): RadioState => ({ ...createRadioState(), ...patch });

describe('radioIsIdle', () => {
  it('is idle only with nothing recording, playing, unheard or awaiting a receipt', () => {
    expect(radioIsIdle(createRadioState())).toBe(true);
    expect(radioIsIdle(busy({ outgoing: ['c1'] }))).toBe(false);
    expect(radioIsIdle(busy({ unheard: [{ clipId: 'c1', arrivedAt: 0 }] }))).toBe(false);
    expect(radioIsIdle(busy({ activity: { kind: 'recording', recordingId: 'r1', pressedAt: 0, afterTap: false } }))).toBe(false);
    expect(radioIsIdle(busy({ activity: { kind: 'tapped', releasedAt: 0 } }))).toBe(false);
  });
});

describe('collectWhenIdle', () => {
  // A fake heap: clips add garbage, a collection removes it.
  const heap = (start = 10_000_000) => {
    const h = { used: start, collections: 0, gc: () => ((h.used = start), h.collections++), bytes: () => h.used };
    return h;
  };

  it('collects at idle once the old generation has grown enough since the last collection', async () => {
    const app = new FakeApp();
    const h = heap();
    const stop = collectWhenIdle(app, { gc: h.gc, oldGenerationBytes: h.bytes, growthBytes: 1000, delayMs: 5 });
    h.used += 600;
    app.emit('delivered');
    await sleep(30);
    expect(h.collections).toBe(0); // 600 B of garbage: not worth a collection yet
    h.used += 600;
    app.emit('played');
    await sleep(30);
    expect(h.collections).toBe(1);
    expect(h.used).toBe(10_000_000);
    stop();
  });

  it('collects once after a clip ends with the radio idle', async () => {
    const app = new FakeApp();
    let collections = 0;
    const stop = collectWhenIdle(app, { gc: () => collections++, growthBytes: 0, delayMs: 5 });
    app.emit('delivered');
    app.emit('played'); // two ends close together: one collection
    await sleep(40);
    expect(collections).toBe(1);
    app.emit('failed');
    await sleep(40);
    expect(collections).toBe(2);
    stop();
  });

  it('does not collect while the radio is busy, nor without clip ends, nor once stopped', async () => {
    const app = new FakeApp();
    let collections = 0;
    const stop = collectWhenIdle(app, { gc: () => collections++, growthBytes: 0, delayMs: 5 });
    await sleep(30);
    expect(collections).toBe(0);
    app.shell.state = busy({ outgoing: ['next'] }); // the next talk started before the delay ran out
    app.emit('delivered');
    await sleep(40);
    expect(collections).toBe(0);
    app.shell.state = createRadioState();
    stop();
    app.emit('played');
    await sleep(40);
    expect(collections).toBe(0);
    expect(app.listenerCount('played')).toBe(0);
  });

  it('is a no-op without a collector (node started without --expose-gc)', () => {
    const app = new FakeApp();
    const had = (globalThis as { gc?: unknown }).gc;
    delete (globalThis as { gc?: unknown }).gc;
    try {
      collectWhenIdle(app)();
      expect(app.listenerCount('delivered')).toBe(0);
    } finally {
      if (had) (globalThis as { gc?: unknown }).gc = had;
    }
  });
});
