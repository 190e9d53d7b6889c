// KeyboardButton on a real terminal: a pseudo-terminal made by util-linux `script`, with a child
// process reading its own stdin. This proves raw mode is entered and given back, key repeats hold
// the button, and Ctrl-C still interrupts, with a kernel tty rather than a stream stand-in.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHILD = `
import { KeyboardButton } from ${JSON.stringify(resolve('hardware/sim/keyboard-button.ts'))};
const say = (line: string) => process.stdout.write(line + '\\n');
process.on('SIGINT', () => say('SIGINT'));
const button = new KeyboardButton({
  // Wide margins: a busy 2-core test machine may delay the writer by tens of milliseconds.
  firstRepeatMs: 400,
  repeatGapMs: 150,
  onOtherKey: (keys) => {
    if (!keys.includes('q')) return;
    void button.close().then(() => {
      say('RAW ' + String(process.stdin.isRaw));
      process.exit(0);
    });
  },
});
button.onEdge((e) => say('EDGE ' + e.kind));
say('RAW ' + String(process.stdin.isRaw));
`;

let dir: string;
let childJs: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'torlk-tty-'));
  writeFileSync(join(dir, 'child.ts'), CHILD);
  childJs = join(dir, 'child.cjs');
  await build({ entryPoints: [join(dir, 'child.ts')], outfile: childJs, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(2000).then(() => false)])) return;
  child.kill('SIGKILL');
  await exited;
}

describe('KeyboardButton on a pseudo-terminal', () => {
  it('enters raw mode, holds while keys repeat, releases when they stop, passes Ctrl-C on, restores the tty', async () => {
    // -q quiet, -f flush output at once, -e return the child's exit code, -c the command.
    const child = spawn('script', ['-qfec', `${process.execPath} ${childJs}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const waitFor = async (text: string, ms = 5000) => {
      const until = Date.now() + ms;
      while (!out.includes(text)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${JSON.stringify(text)}; got ${JSON.stringify(out)}`);
        await sleep(10);
      }
    };
    try {
      await waitFor('RAW true');
      // A held space bar: one key, then auto-repeat every 30 ms after a 150 ms delay.
      child.stdin!.write(' ');
      await sleep(150);
      for (let i = 0; i < 10; i++) {
        child.stdin!.write(' ');
        await sleep(30);
      }
      await waitFor('EDGE press');
      expect(out).not.toContain('EDGE release');
      await waitFor('EDGE release', 2000);
      child.stdin!.write('\u0003');
      await waitFor('SIGINT');
      child.stdin!.write('q');
      await waitFor('RAW false');
      const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));
      expect(code).toBe(0);
      const lines = out.split(/\r?\n/).filter((l) => /^(RAW|EDGE|SIGINT)/.test(l));
      expect(lines).toEqual(['RAW true', 'EDGE press', 'EDGE release', 'SIGINT', 'RAW false']);
    } finally {
      await stop(child);
    }
  });
});
