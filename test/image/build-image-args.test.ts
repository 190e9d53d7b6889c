// scripts/build-image's own errors, without building anything: bad arguments, and a failing step
// that names itself (the tools check, with mmdebstrap hidden from PATH).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = new URL('../../scripts/build-image', import.meta.url).pathname;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'torlk-build-args-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const build = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync('/bin/bash', [script, ...args], { encoding: 'utf8', env });

describe('scripts/build-image', () => {
  it('requires --board', () => {
    const r = build([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--board zero2w\|zerow is required/);
  });
  it('refuses an unknown board', () => {
    const r = build(['--board', 'pi5']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown board 'pi5'/);
  });
  it('refuses an unknown option', () => {
    const r = build(['--board', 'zero2w', '--fast']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option --fast/);
  });
  it('names the step that failed', () => {
    // A PATH with the basics but no mmdebstrap, mtools or bmaptool.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const t of ['node', 'mkdir', 'mktemp', 'id', 'dirname', 'date', 'tail', 'rm', 'cat', 'sed', 'sha256sum', 'cut']) {
      const which = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(which, join(bin, t));
    }
    const out = join(dir, 'out');
    const r = build(['--board', 'zero2w', '--out', out], { ...process.env, PATH: bin });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/step 1\/7 "check tools" FAILED/);
    expect(r.stderr).toMatch(/missing tools: .*mmdebstrap/);
  });
});
