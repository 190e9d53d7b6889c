// scripts/flash: every refusal, on fakes that cannot harm a disk (plain files, the system disk's
// name that it must refuse), and the write + read-back verification into a plain file with
// --allow-file, through bmaptool and through xz | dd.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const flash = new URL('../../scripts/flash', import.meta.url).pathname;
let dir: string;
let img: string;
let xz: string;

function runFlash(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('bash', [flash, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, input: '' });
  return { code: r.status, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'torlk-flash-'));
  img = join(dir, 'card.img');
  // 8 MiB, mostly holes, with data at a few places (like a real image: bmap maps only those).
  const buf = Buffer.alloc(8 << 20);
  for (const off of [0, 1 << 20, 5 << 20]) buf.fill(Buffer.from(`torlk ${off} `), off, off + 65536);
  writeFileSync(img, buf);
  execFileSync('fallocate', ['--dig-holes', img]);
  execFileSync('bmaptool', ['create', '-o', `${img}.bmap`, img]);
  execFileSync('xz', ['-k', '-T1', img]);
  xz = `${img}.xz`;
  execFileSync('sh', ['-c', `cd "${dir}" && sha256sum card.img.xz > card.img.xz.sha256`]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/flash refuses', () => {
  it('a plain file as DEVICE', () => {
    const target = join(dir, 'not-a-disk');
    writeFileSync(target, 'keep me');
    const r = runFlash(['--yes', xz, target]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not a block device/);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
  });

  it('the system disk, which is also mounted', () => {
    const root = execFileSync('findmnt', ['-no', 'SOURCE', '/'], { encoding: 'utf8' }).trim();
    const disk = execFileSync('lsblk', ['-sno', 'NAME,TYPE', root], { encoding: 'utf8' })
      .split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[1] === 'disk')?.[0]?.replace(/^[^a-zA-Z0-9]+/, '');
    expect(disk, `the disk behind / (${root})`).toBeTruthy();
    const r = runFlash(['--yes', xz, `/dev/${disk}`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/system disk/);
    expect(r.err).toMatch(/is mounted/);
  });

  it('a device that does not exist', () => {
    const r = runFlash(['--yes', xz, '/dev/torlk-no-such-card']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/does not exist/);
  });

  it('a missing image, a damaged .xz and a .sha256 mismatch', () => {
    const target = join(dir, 't1');
    writeFileSync(target, '');
    expect(runFlash(['--yes', '--allow-file', join(dir, 'missing.img.xz'), target]).err).toMatch(/does not exist or cannot be read/);
    const bad = join(dir, 'bad.img.xz');
    writeFileSync(bad, readFileSync(xz).subarray(0, 200));
    expect(runFlash(['--yes', '--allow-file', bad, target]).err).toMatch(/not a valid xz file/);
    const other = join(dir, 'other.img.xz');
    writeFileSync(other, readFileSync(xz));
    writeFileSync(`${other}.sha256`, `${'0'.repeat(64)}  other.img.xz\n`);
    expect(runFlash(['--yes', '--allow-file', other, target]).err).toMatch(/does not match/);
  });

  it('writing without --yes when there is no terminal to ask', () => {
    const target = join(dir, 't2');
    writeFileSync(target, '');
    const r = runFlash(['--allow-file', xz, target]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pass --yes/);
  });

  it('wrong arguments', () => {
    expect(runFlash([xz]).err).toMatch(/usage/);
    expect(runFlash(['--bogus', xz, 'x']).err).toMatch(/unknown option/);
  });
});

describe('scripts/flash writes and verifies (into a plain file)', () => {
  it('with bmaptool, checking each mapped range read back', () => {
    const target = join(dir, 'card-bmap');
    writeFileSync(target, Buffer.alloc(8 << 20, 0xee)); // stale data where the bmap maps nothing
    const r = runFlash(['--yes', '--allow-file', xz, target]);
    expect(r.err).toMatch(/bmaptool/);
    expect(r.err).toMatch(/verified \d+ mapped ranges/);
    expect(r.code).toBe(0);
    const got = readFileSync(target);
    const want = readFileSync(img);
    expect(got.subarray(5 << 20, (5 << 20) + 65536).equals(want.subarray(5 << 20, (5 << 20) + 65536))).toBe(true);
  });

  it('with xz | dd, comparing the whole image read back', () => {
    const target = join(dir, 'card-dd');
    writeFileSync(target, '');
    const r = runFlash(['--yes', '--allow-file', xz, target], { TORLK_FLASH_NO_BMAP: '1' });
    expect(r.err).toMatch(/writing with dd/);
    expect(r.code).toBe(0);
    expect(readFileSync(target).equals(readFileSync(img))).toBe(true);
  });
});
