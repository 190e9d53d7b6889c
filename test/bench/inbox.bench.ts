// What storing a received 20 KB clip costs before its receipt can go out (issue 6: release-to-
// delivered latency). Inbox.add (one O_DSYNC journal append) against, in the same run on the
// same disk, the store it replaced: clip and record each written atomically (temp + write + fsync
// + rename) in parallel, then one directory fsync. A raw append + fdatasync of the same bytes to an
// open file is the floor. Interleaved, each after an idle gap (as clips arrive), median of 50.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Inbox } from '../../firmware/store/inbox.js';
import { syncDir, writeFileAtomic } from '../../firmware/store/atomic-file.js';
import type { SignedReceipt } from '../../firmware/transport/receipt.js';
import { median } from './median.js';

const ROUNDS = 50;
const WARMUP = 5;
const GAP_MS = 15;
const say = (s: string) => console.error(`inbox bench: ${s}`);

const dir = mkdtempSync(join(tmpdir(), 'torlk-inbox-bench-'));
const rows: object[] = [];
try {
  const inbox = await Inbox.open({ dir: join(dir, 'inbox') });
  const oldDir = join(dir, 'two-files');
  await mkdir(oldDir);
  const raw = await open(join(dir, 'raw'), 'a', 0o600);
  const times = { add: [] as number[], twoFiles: [] as number[], raw: [] as number[], writtenOut: [] as number[] };
  const receipt = { receipt: JSON.stringify({ v: 1, clip: '0'.repeat(32), sha256: '0'.repeat(64), by: 'b'.repeat(43), at: Date.now() }), sig: 's'.repeat(86) } as SignedReceipt;
  const pause = () => new Promise((r) => setTimeout(r, GAP_MS));
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const sealed = new Uint8Array(randomBytes(20 * 1024));
    const clipId = randomBytes(16).toString('hex');
    const clip = { clipId, senderKey: 'k'.repeat(43), senderName: 'alice', channel: 'family', sequence: i, createdAt: Date.now(), durationMs: 3000 };
    const keep = i >= WARMUP;

    await pause();
    let t0 = performance.now();
    await inbox.add(clip, sealed, receipt);
    const added = performance.now();
    if (!(await inbox.flush())) throw new Error('the inbox could not write a clip to its files');
    if (keep) {
      times.add.push(added - t0);
      times.writtenOut.push(performance.now() - t0);
    }

    await pause();
    t0 = performance.now();
    await Promise.all([
      writeFileAtomic(join(oldDir, `${clipId}.clip`), sealed, { syncDir: false }),
      writeFileAtomic(join(oldDir, `${clipId}.json`), JSON.stringify({ ...clip, receivedAt: Date.now(), receipt }), { syncDir: false }),
    ]);
    await syncDir(oldDir);
    if (keep) times.twoFiles.push(performance.now() - t0);

    await pause();
    t0 = performance.now();
    await raw.write(sealed, 0, sealed.length);
    await raw.datasync();
    if (keep) times.raw.push(performance.now() - t0);
    await raw.truncate(0); // as the journal is emptied once the clip has its files
  }
  await raw.close();
  await inbox.close();

  const add = median(times.add);
  const twoFiles = median(times.twoFiles);
  const floor = median(times.raw);
  say(`Inbox.add ${add.toFixed(3)} ms, two atomic files + dir fsync ${twoFiles.toFixed(3)} ms, append + fdatasync ${floor.toFixed(3)} ms, add until the clip's own files are written ${median(times.writtenOut).toFixed(3)} ms`);
  rows.push({
    metric: `Inbox.add of a 20 KB clip, until the receipt may go out (median of ${ROUNDS})`,
    value: add,
    unit: 'ms',
    reference: { name: 'clip + record as two atomic files in parallel + one dir fsync (the store before the journal)', value: twoFiles },
    ratio: add / twoFiles,
    // One flush instead of two sequential ones on an SD card.
    goal: '<= 0.6',
    pass: add / twoFiles <= 0.6,
  });
  rows.push({
    metric: 'Inbox.add of a 20 KB clip, against its floor',
    value: add,
    unit: 'ms',
    reference: { name: 'append 20 KB + fdatasync to an open file', value: floor },
    ratio: add / floor,
  });
  rows.push({
    metric: "Inbox.add until the clip's own files are written (background, after the receipt)",
    value: median(times.writtenOut),
    unit: 'ms',
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`BENCH_JSON ${JSON.stringify({ section: 'inbox', rows })}`);
