// The image's fake hardware clock (/usr/lib/torlk/clock): save is atomic and never moves the saved
// time backwards; restore never moves the clock back and ignores a damaged file. (Moving the clock
// forward is not exercised here: it would set this machine's clock; the QEMU boot test covers it.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const script = new URL('../../scripts/image/overlay/usr/lib/torlk/clock', import.meta.url).pathname;
let dir: string;
let file: string;
const clock = (arg: string) => spawnSync('bash', [script, arg], { encoding: 'utf8', env: { ...process.env, TORLK_CLOCK_FILE: file } });
const now = () => Math.floor(Date.now() / 1000);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'torlk-clock-'));
  file = join(dir, '.clock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('clock save', () => {
  it('writes the current time, and leaves no temporary file', () => {
    const before = now();
    expect(clock('save').status).toBe(0);
    const saved = Number(readFileSync(file, 'utf8').trim());
    expect(saved).toBeGreaterThanOrEqual(before);
    expect(saved).toBeLessThanOrEqual(now());
    expect(readdirSync(dir)).toEqual(['.clock']);
  });
  it('never replaces a later saved time with an earlier one', () => {
    const future = now() + 86400 * 365;
    writeFileSync(file, `${future}\n`);
    expect(clock('save').status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${future}\n`);
  });
  it('overwrites a damaged file', () => {
    writeFileSync(file, 'garbage\n');
    const r = clock('save');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/ignoring unreadable/);
    expect(Number(readFileSync(file, 'utf8'))).toBeGreaterThan(1_700_000_000);
  });
});

describe('clock restore', () => {
  it('does nothing without a saved time, or with one in the past', () => {
    expect(clock('restore').status).toBe(0);
    expect(existsSync(file)).toBe(false);
    writeFileSync(file, '1000000000\n');
    const r = clock('restore');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });
  it('ignores a damaged file', () => {
    writeFileSync(file, '12abc\n');
    const r = clock('restore');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/ignoring unreadable/);
  });
  it('refuses an unknown action', () => {
    const r = clock('sideways');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage/);
  });
});
