// Child process for the outbox crash test (bundled with esbuild by store-outbox.test.ts, then
// SIGKILLed at a random moment). It enqueues the clips listed in argv[3] one after another
// (every other one held, so not fsync'd), printing "queued <clipId>" once each enqueue has
// resolved, while failing deliveries keep rewriting the retry-state files, so the kill lands in
// every kind of write.
import { readFile } from 'node:fs/promises';
import { Outbox } from '../../firmware/store/outbox.js';
import type { Recipient } from '../../firmware/transport/sender.js';

const [dir, listFile] = process.argv.slice(2) as [string, string];
const list = JSON.parse(await readFile(listFile, 'utf8')) as { clipId: string; path: string; recipients: Recipient[] }[];
const outbox = await Outbox.open({
  dir,
  deliver: async () => {
    throw Object.assign(new Error('peer offline (simulated by the crash test)'), { retryable: true });
  },
  backoff: { baseMs: 1, maxMs: 5, factor: 2, jitter: 0.5 },
});
outbox.start();
process.stdout.write('ready\n');
for (const [i, clip] of list.entries()) {
  // Every other clip held, as at a release: written without fsync, a live upload that never answers.
  await outbox.enqueue({ clipId: clip.clipId, sealed: new Uint8Array(await readFile(clip.path)) }, clip.recipients, { hold: i % 2 === 1 });
  process.stdout.write(`queued ${clip.clipId}\n`);
}
process.stdout.write('all queued\n');
// Keep failing and rewriting state until killed.
setInterval(() => undefined, 1000);
