// The sender's clip sequence number, persisted in the data directory so it keeps increasing
// across restarts (receivers refuse a (sender, sequence) pair they have seen under another clip).
// One small file, replaced atomically; the number written is the last one handed out.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';

export const SEQUENCE_FILE = 'clip-sequence';

export class SequenceFileError extends Error {
  override readonly name = 'SequenceFileError';
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
  }
}

/** Returns the next sequence number (0 for a fresh device) and records it before returning. */
export async function nextSequence(dataDir: string): Promise<number> {
  const path = join(dataDir, SEQUENCE_FILE);
  let last = -1;
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new SequenceFileError(path, `holds ${JSON.stringify(text.slice(0, 20))}, not a sequence number; fix or remove it`);
    last = Number(text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const next = last + 1;
  await writeFileAtomic(path, `${next}\n`, { mode: 0o600 });
  return next;
}
