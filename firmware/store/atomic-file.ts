// Crash-safe file replacement: write a temp file beside the target, fsync it, rename it over the
// target, then fsync the directory so the rename itself survives a power cut. A reader (or a
// process restarted after SIGKILL) sees either the old file or the new one, never a torn one.
// With `sync: false` the fsyncs are left to a later makeDurable(): still whole after a SIGKILL
// (the page cache outlives the process), not yet after a power cut.
// Hand-written: write-file-atomic does the same but does not fsync the directory and is not installed.
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** The few filesystem calls this module makes; tests inject a twin that fails like a full disk. */
export interface AtomicFs {
  open: typeof open;
  rename: typeof rename;
  unlink: typeof unlink;
}
const realFs: AtomicFs = { open, rename, unlink };

/** The disk (or its quota) is full: nothing was written and the old file, if any, is intact. */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  readonly code = 'ENOSPC';
  constructor(readonly path: string, readonly bytes: number) {
    super(`disk full: could not write ${bytes} bytes to ${path}; free some space (old clips, logs) and retry`);
  }
}

/** Any other failure to write; `cause` is the underlying fs error. */
export class AtomicWriteError extends Error {
  override readonly name = 'AtomicWriteError';
  constructor(readonly path: string, override readonly cause: unknown) {
    super(`could not write ${path}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** ENOSPC or EDQUOT: the disk or the user's quota is full. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Temp files start with this so a directory scan can skip (and sweep) leftovers of a crash. */
export const TEMP_PREFIX = '.tmp-';

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** fsyncs what `path` names, a file or a directory. */
async function syncPath(path: string, fs: AtomicFs): Promise<void> {
  const handle = await fs.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory so entries created, renamed or removed in it are durable. */
export async function syncDir(dir: string, fs: AtomicFs = realFs): Promise<void> {
  await syncPath(dir, fs);
}

/**
 * Atomically replaces `path` with `data` (mode 0600 by default: clips and keys are private).
 * Throws DiskFullError on ENOSPC/EDQUOT, AtomicWriteError otherwise; the temp file is removed either way.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: {
    mode?: number;
    fs?: AtomicFs;
    /** false: the caller fsyncs the directory once for several files. */
    syncDir?: boolean;
    /** false: no fsync at all; the caller calls makeDurable() when it has to survive a power cut. */
    sync?: boolean;
  } = {},
): Promise<void> {
  const fs = options.fs ?? realFs;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const dir = dirname(path);
  const temp = join(dir, `${TEMP_PREFIX}${basename(path)}.${randomBytes(6).toString('hex')}`);
  let created = false;
  try {
    const handle = await fs.open(temp, 'wx', options.mode ?? 0o600);
    created = true;
    try {
      // writeFile loops over partial writes; sync before close so the data is on disk before the rename.
      await handle.writeFile(bytes);
      if (options.sync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
    created = false;
    if (options.sync !== false && options.syncDir !== false) await syncDir(dir, fs);
  } catch (err) {
    if (created) await fs.unlink(temp).catch(() => undefined);
    if (isNoSpace(err)) throw new DiskFullError(path, bytes.length);
    throw new AtomicWriteError(path, err);
  }
}

/** fsyncs a file written with `sync: false`, then its directory: from here it survives a power cut. */
export async function makeDurable(path: string, fs: AtomicFs = realFs): Promise<void> {
  await syncPath(path, fs);
  await syncDir(dirname(path), fs);
}

/**
 * Removes `path` and makes the removal durable; a missing file is not an error. `durable: false`
 * skips the directory fsync, for a file that was never made durable itself.
 */
export async function removeFileDurably(path: string, fs: AtomicFs = realFs, options: { durable?: boolean } = {}): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return;
    throw err;
  }
  if (options.durable !== false) await syncDir(dirname(path), fs);
}
