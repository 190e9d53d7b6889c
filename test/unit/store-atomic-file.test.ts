import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicWriteError, DiskFullError, writeFileAtomic, type AtomicFs } from '../../firmware/store/atomic-file.js';
import * as fsp from 'node:fs/promises';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'torlk-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A filesystem whose writes fail with ENOSPC after `okBytes` bytes, like a nearly full card. */
function fullDiskFs(): AtomicFs {
  return {
    ...fsp,
    open: (async (...args: Parameters<typeof open>) => {
      const handle = await open(...args);
      return new Proxy(handle, {
        get(target, prop, receiver) {
          if (prop === 'writeFile') {
            return async () => {
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    }) as typeof open,
  };
}

describe('writeFileAtomic', () => {
  it('replaces the file with mode 0600 and leaves no temp file', async () => {
    const p = join(dir, 'a.bin');
    await writeFileAtomic(p, 'first');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(p))]).toEqual([1, 2, 3]);
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((n) => n.includes('a.bin'))).toEqual(['a.bin']);
  });

  it('on ENOSPC throws DiskFullError, keeps the old content and removes the temp file', async () => {
    const p = join(dir, 'b.bin');
    await writeFile(p, 'old');
    const err = await writeFileAtomic(p, 'new content', { fs: fullDiskFs() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskFullError);
    expect((err as DiskFullError).message).toMatch(/disk full: could not write 11 bytes to .*b\.bin/);
    expect(await readFile(p, 'utf8')).toBe('old');
    expect((await readdir(dir)).filter((n) => n.includes('b.bin'))).toEqual(['b.bin']);
  });

  it('wraps other failures in AtomicWriteError naming the path', async () => {
    const p = join(dir, 'missing-dir', 'c.bin');
    const err = await writeFileAtomic(p, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtomicWriteError);
    expect((err as AtomicWriteError).path).toBe(p);
  });
});

// A real full disk: a 64 KiB tmpfs (we run as root in CI and here).
describe('writeFileAtomic on a real full tmpfs', () => {
  const mnt = join(tmpdir(), `torlk-tmpfs-${process.pid}`);
  beforeAll(async () => {
    await mkdir(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  });
  afterAll(async () => {
    execFileSync('umount', [mnt]);
    await rm(mnt, { recursive: true, force: true });
  });

  it('fails with DiskFullError and leaves nothing half-written', async () => {
    const p = join(mnt, 'clip.bin');
    await writeFileAtomic(p, Buffer.alloc(16 * 1024, 1));
    const err = await writeFileAtomic(p, Buffer.alloc(200 * 1024, 2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskFullError);
    expect(await readdir(mnt)).toEqual(['clip.bin']);
    expect((await readFile(p)).equals(Buffer.alloc(16 * 1024, 1))).toBe(true);
  });
});
