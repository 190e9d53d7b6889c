// The e2e bench starts each firmware process with the Environment= lines of the image's
// torlk.service (test/bench/e2e-firmware-process.ts): if it misread them, the bench would measure
// memory under settings the device does not run with.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { firmwareEnvironment, firmwareNodeArgs, firmwareNodeOptions, parseEnvironmentLine, ServiceUnitError } from '../bench/e2e-firmware-process.js';

const dirs: string[] = [];
function unit(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'torlk-unit-env-'));
  dirs.push(dir);
  const path = join(dir, 'torlk.service');
  writeFileSync(path, text);
  return path;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('parseEnvironmentLine (systemd Environment= syntax)', () => {
  it('splits assignments on spaces, keeps quoted spaces, drops the quotes', () => {
    expect(parseEnvironmentLine(`A=1 "B=two words" 'C=x"y' D=a\\ b`)).toEqual([
      ['A', '1'],
      ['B', 'two words'],
      ['C', 'x"y'],
      ['D', 'a b'],
    ]);
  });

  it('keeps an = inside a value and allows an empty value', () => {
    expect(parseEnvironmentLine('NODE_OPTIONS=--max-old-space-size=64 EMPTY=')).toEqual([
      ['NODE_OPTIONS', '--max-old-space-size=64'],
      ['EMPTY', ''],
    ]);
  });

  it('refuses what it would misread', () => {
    expect(() => parseEnvironmentLine('"A=open')).toThrow(ServiceUnitError);
    expect(() => parseEnvironmentLine('NOVALUE')).toThrow(/not NAME=value/);
    expect(() => parseEnvironmentLine('HOME=%h')).toThrow(/specifiers/);
  });
});

describe('firmwareEnvironment', () => {
  it('collects every Environment= line, later ones winning, and nothing else', () => {
    const path = unit(
      [
        '[Service]',
        'Environment=A=1 B=2',
        '# Environment=COMMENTED=1',
        'Environment="NODE_OPTIONS=--x --y=2"',
        'Environment=B=3',
        'ExecStart=/usr/bin/node x.cjs',
      ].join('\n'),
    );
    expect(firmwareEnvironment(path)).toEqual({ A: '1', B: '3', NODE_OPTIONS: '--x --y=2' });
    expect(firmwareNodeOptions(path)).toBe('--x --y=2');
  });

  it('fails without NODE_OPTIONS rather than run node with its defaults', () => {
    expect(() => firmwareEnvironment(unit('[Service]\nEnvironment=A=1\n'))).toThrow(/no Environment=NODE_OPTIONS/);
  });

  it('reads the real unit: the node flags and the malloc setting the device runs with', () => {
    const env = firmwareEnvironment();
    expect(env.NODE_OPTIONS).toMatch(/--max-old-space-size=\d+/);
    expect(env.MALLOC_ARENA_MAX).toMatch(/^\d+$/);
    expect(env.TORLK_LOG).toBeDefined();
  });
});

describe('firmwareNodeArgs (node flags on ExecStart=)', () => {
  it('takes the flags between node and the script, not the script or its arguments', () => {
    expect(firmwareNodeArgs(unit('ExecStart=/usr/bin/node --optimize-for-size --stack-size=900 /opt/torlk/torlk.cjs radio --sim\n'))).toEqual([
      '--optimize-for-size',
      '--stack-size=900',
    ]);
    expect(firmwareNodeArgs(unit('ExecStart=/usr/bin/node /opt/torlk/torlk.cjs radio\n'))).toEqual([]);
  });

  it('refuses a unit whose ExecStart it cannot mirror', () => {
    expect(() => firmwareNodeArgs(unit('ExecStart=/opt/torlk/run radio\n'))).toThrow(/does not start node/);
    expect(() => firmwareNodeArgs(unit('[Service]\n'))).toThrow(/no ExecStart/);
  });

  it('reads the real unit', () => {
    expect(firmwareNodeArgs().every((a) => a.startsWith('--'))).toBe(true);
  });
});
