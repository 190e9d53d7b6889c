// The e2e bench splits each streamed talk with bob's "clip stored" log line (workMs, verifyMs,
// storeMs), read off his stderr as it arrives (test/bench/e2e-firmware-process.ts). A misread line
// would silently drop a talk's split, or stop the bench with an error naming the clip.
import { describe, expect, it } from 'vitest';
import { ReceiverLog } from '../bench/e2e-firmware-process.js';

const stored = (clipId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 'info', scope: 'receiver', msg: 'clip stored', clipId, from: 'alice', bytes: 19993, workMs: 3.7, verifyMs: 0.9, storeMs: 1.6, ...extra }) + '\n';

describe('ReceiverLog', () => {
  it('keeps workMs, verifyMs and storeMs per clip id', () => {
    const log = new ReceiverLog();
    log.feed(stored('c1') + stored('c2', { workMs: 4.2, verifyMs: 1.1, storeMs: 2 }));
    expect(log.byClip.get('c1')).toEqual({ workMs: 3.7, verifyMs: 0.9, storeMs: 1.6 });
    expect(log.byClip.get('c2')).toEqual({ workMs: 4.2, verifyMs: 1.1, storeMs: 2 });
  });

  it('joins a line split between reads, at any point', () => {
    const text = stored('split');
    for (let cut = 1; cut < text.length; cut++) {
      const log = new ReceiverLog();
      log.feed(text.slice(0, cut));
      expect(log.byClip.has('split')).toBe(cut === text.length); // nothing until the newline
      log.feed(text.slice(cut));
      expect(log.byClip.get('split')?.verifyMs, `cut at ${cut}`).toBe(0.9);
    }
  });

  it('waits for the newline: a line still being written is not read', () => {
    const log = new ReceiverLog();
    log.feed(stored('late').trimEnd());
    expect(log.byClip.size).toBe(0);
    log.feed('\n');
    expect(log.byClip.has('late')).toBe(true);
  });

  it('skips other lines, text that is not JSON, and lines without all three timings', () => {
    const log = new ReceiverLog();
    log.feed(
      JSON.stringify({ msg: 'receiver listening', port: 1 }) + '\n' +
        'clip stored, said something that is not JSON\n' +
        stored('no-verify', { verifyMs: undefined }) +
        stored('text-store', { storeMs: '1.6' }) +
        JSON.stringify({ msg: 'duplicate upload, original receipt returned', clipId: 'dup', workMs: 1, verifyMs: 1, storeMs: 1 }) + '\n' +
        stored('good'),
    );
    expect([...log.byClip.keys()]).toEqual(['good']);
  });
});
