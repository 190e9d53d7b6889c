// The logger: JSON lines on stderr, written a few ms after the call in one batch (never inside the
// call), with the time of the call, in order, and flushed when the process exits; a sink set with
// setLogSink gets every line at once. The stderr cases run in a child process of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createLog, setLogLevel, setLogSink } from '../../firmware/log.js';

let dir: string;
let child: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'torlk-log-'));
  // Logs three lines around a busy stretch, reports (on stdout) whether stderr was written inside
  // the calls, then exits at once or after a turn.
  const entry = join(dir, 'child.ts');
  writeFileSync(
    entry,
    `import { createLog } from ${JSON.stringify(join(import.meta.dirname, '../../firmware/log.ts'))};
const writes: number[] = [];
const real = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string) => (writes.push(performance.now()), real(chunk))) as typeof process.stderr.write;
const log = createLog('test');
const t0 = performance.now();
log.info('one', { n: 1 });
const busyUntil = Date.now() + 30;
while (Date.now() < busyUntil);
log.warn('two', { err: new Error('boom') });
log.debug('hidden');
log.info('three');
process.stdout.write(JSON.stringify({ writesInCalls: writes.length }) + '\\n');
if (process.argv[2] === 'exit') process.exit(3);
setTimeout(() => process.stdout.write(JSON.stringify({ writes: writes.map((w) => w - t0) }) + '\\n'), 200);
`,
  );
  child = join(dir, 'child.mjs');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: child, logLevel: 'silent' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [child, ...args], { encoding: 'utf8', env: { ...process.env, TORLK_LOG: 'info' } });
const lines = (stderr: string) => stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('log to stderr', () => {
  it('writes nothing inside the calls, then every line in one write, in order, with the time of each call', () => {
    const r = run();
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { writesInCalls?: number; writes?: number[] });
    expect(out[0]!.writesInCalls).toBe(0);
    expect(out[1]!.writes).toHaveLength(1);
    const logged = lines(r.stderr);
    expect(logged.map((l) => l.msg)).toEqual(['one', 'two', 'three']);
    expect(logged[0]).toMatchObject({ level: 'info', c: 'test', n: 1 });
    expect(logged[1]).toMatchObject({ level: 'warn', err: { name: 'Error', message: 'boom' } });
    // 'two' was logged after the busy 30 ms: its time is its own, not the batch's.
    expect(Date.parse(logged[1]!.t as string) - Date.parse(logged[0]!.t as string)).toBeGreaterThanOrEqual(29);
  });

  it('writes the pending lines when the process exits right after logging', () => {
    const r = run('exit');
    expect(r.status).toBe(3);
    expect(lines(r.stderr).map((l) => l.msg)).toEqual(['one', 'two', 'three']);
  });
});

describe('setLogSink', () => {
  it('hands each line to the sink inside the call, and gives the previous sink back', () => {
    const got: string[] = [];
    setLogLevel('info');
    const previous = setLogSink((l) => got.push(l));
    try {
      createLog('sink').info('now', { x: 2 });
      expect(got.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([expect.objectContaining({ c: 'sink', msg: 'now', x: 2 })]);
    } finally {
      expect(setLogSink(previous)).not.toBe(previous);
      setLogLevel('warn');
    }
  });
});
