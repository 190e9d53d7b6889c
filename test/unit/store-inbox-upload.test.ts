// A live upload's body in the inbox journal (inbox-upload.ts): pieces while it arrives, the tail at
// its end, and the bodies joined back at open. On a real journal file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InboxJournal, parseJournal, type JournalFs } from '../../firmware/store/inbox-journal.js';
import { journalledBodies, PIECE_MIN_BYTES, UploadPieces } from '../../firmware/store/inbox-upload.js';

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'torlk-inbox-upload-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function journalAt(fs?: JournalFs): Promise<{ journal: InboxJournal; path: string }> {
  const dir = join(root, `d${n++}`);
  await mkdir(dir);
  const path = join(dir, 'journal');
  return { journal: await InboxJournal.open(path, fs), path };
}

const turn = () => new Promise((r) => setImmediate(r));
const bytes = (size: number) => new Uint8Array(randomBytes(size));
const records = async (path: string) => parseJournal(await readFile(path)).entries.map((e) => e.record);

describe('journalledBodies', () => {
  const entry = (record: unknown, data: Uint8Array) => ({ record, sealed: data });
  const [a0, a1, aTail, b0, bTail, c0] = [bytes(10), bytes(11), bytes(12), bytes(13), bytes(14), bytes(15)];

  it('joins each upload\'s pieces and tail, in tail order, through interleaved uploads', () => {
    const { bodies, broken } = journalledBodies([
      entry({ upload: 'a', piece: 0 }, a0),
      entry({ upload: 'b', piece: 0 }, b0),
      entry({ upload: 'c', piece: 0 }, c0), // no tail: cut off mid-body
      entry({ upload: 'a', piece: 1 }, a1),
      entry({ clipId: 'x', receivedAt: 1 }, bytes(5)), // a whole record from add(): not an upload's
      entry({ unverified: true, receivedAt: 20, upload: 'b', pieces: 1 }, bTail),
      entry({ unverified: true, receivedAt: 10, upload: 'a', pieces: 2 }, aTail),
      entry({ unverified: true, receivedAt: 30, upload: 'd', pieces: 0 }, a0), // a body under one piece: all in its tail
    ]);
    expect(broken).toBe(0);
    expect(bodies.map((b) => b.receivedAt)).toEqual([20, 10, 30]);
    expect(bodies.map((b) => Buffer.from(b.bytes).toString('hex'))).toEqual([
      Buffer.concat([b0, bTail]).toString('hex'),
      Buffer.concat([a0, a1, aTail]).toString('hex'),
      Buffer.from(a0).toString('hex'),
    ]);
  });

  it('leaves out (and counts) a tail whose pieces are not all there or out of order', () => {
    const { bodies, broken } = journalledBodies([
      entry({ upload: 'a', piece: 0 }, a0),
      entry({ unverified: true, receivedAt: 1, upload: 'a', pieces: 2 }, aTail), // piece 1 missing
      entry({ upload: 'b', piece: 1 }, b0), // piece 0 missing
      entry({ upload: 'b', piece: 0 }, b0),
      entry({ unverified: true, receivedAt: 2, upload: 'b', pieces: 2 }, bTail),
      entry({ unverified: true, receivedAt: 3, upload: 'z', pieces: 0 }, c0), // fine: no pieces
    ]);
    expect(broken).toBe(2);
    expect(bodies).toEqual([{ bytes: expect.anything(), receivedAt: 3 }]);
  });
});

describe('UploadPieces', () => {
  it('writes a piece once PIECE_MIN_BYTES gathered, a turn later; bytes and end in one turn go in the tail', async () => {
    const { journal, path } = await journalAt();
    const upload = new UploadPieces(journal);
    const body = [bytes(1000), bytes(PIECE_MIN_BYTES), bytes(300), bytes(PIECE_MIN_BYTES + 1)];
    upload.push(body[0]!);
    upload.push(body[1]!);
    expect(journal.size).toBe(0);
    await turn();
    await turn(); // the piece's write
    while (journal.size === 0) await turn();
    upload.push(body[2]!);
    upload.push(body[3]!); // past the threshold, and the end in the same turn: no piece for it
    await upload.end(1234);
    expect(await records(path)).toEqual([
      { upload: expect.any(String), piece: 0 },
      { unverified: true, receivedAt: 1234, upload: expect.any(String), pieces: 1 },
    ]);
    const { bodies } = journalledBodies(parseJournal(await readFile(path)).entries);
    expect(Buffer.from(bodies[0]!.bytes).equals(Buffer.concat(body))).toBe(true);
    expect(() => upload.push(bytes(1))).toThrow(/after its tail/);
    await journal.close();
  });

  it('a piece that fails (a full disk) ends the pieces; the tail carries its bytes, and the body joins back whole', async () => {
    let failNext = false;
    let settled = 0;
    const fs: JournalFs = {
      open: (async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        const write = handle.write.bind(handle) as (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
        return Object.assign(handle, {
          write: async (b: Uint8Array, o: number, l: number) => {
            try {
              if (!failNext) return await write(b, o, l);
              failNext = false;
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            } finally {
              settled++;
            }
          },
        });
      }) as typeof fsp.open,
    };
    const { journal, path } = await journalAt(fs);
    const upload = new UploadPieces(journal);
    const body: Uint8Array[] = [];
    /** Pushes `size` bytes; waits for the piece write it should cause to settle (and the journal to cut a failed one off). */
    const send = async (size: number, piece: boolean) => {
      body.push(bytes(size));
      const before = settled;
      upload.push(body.at(-1)!);
      if (!piece) return;
      for (let i = 0; i < 400 && settled === before; i++) await new Promise((r) => setTimeout(r, 5));
      await journal.append({ marker: true }, new Uint8Array(0)); // queued behind the cut-off
    };
    await send(PIECE_MIN_BYTES, true); // piece 0
    failNext = true;
    await send(PIECE_MIN_BYTES, true); // piece 1 fails, cut off again
    await send(PIECE_MIN_BYTES, false); // no more pieces
    await upload.end(5);
    expect(await records(path)).toEqual([
      { upload: expect.any(String), piece: 0 },
      { marker: true },
      { marker: true },
      { unverified: true, receivedAt: 5, upload: expect.any(String), pieces: 1 },
    ]);
    const { bodies, broken } = journalledBodies(parseJournal(await readFile(path)).entries);
    expect(broken).toBe(0);
    expect(Buffer.from(bodies[0]!.bytes).equals(Buffer.concat(body))).toBe(true);
    await journal.close();
  });

  it('the tail waits for a piece still being written, and counts it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fs: JournalFs = {
      open: (async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        const write = handle.write.bind(handle) as (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
        return Object.assign(handle, { write: async (b: Uint8Array, o: number, l: number) => (await gate, write(b, o, l)) });
      }) as typeof fsp.open,
    };
    const { journal, path } = await journalAt(fs);
    const upload = new UploadPieces(journal);
    const body = [bytes(PIECE_MIN_BYTES), bytes(100)];
    upload.push(body[0]!);
    await turn(); // piece 0 is being written (held)
    upload.push(body[1]!);
    const tail = upload.end(9);
    release();
    await tail;
    expect(await records(path)).toEqual([
      { upload: expect.any(String), piece: 0 },
      { unverified: true, receivedAt: 9, upload: expect.any(String), pieces: 1 },
    ]);
    expect(Buffer.from(journalledBodies(parseJournal(await readFile(path)).entries).bodies[0]!.bytes).equals(Buffer.concat(body))).toBe(true);
    await journal.close();
  });

  it('stop(): nothing more is written, not even a piece already decided', async () => {
    const { journal, path } = await journalAt();
    const upload = new UploadPieces(journal);
    upload.push(bytes(PIECE_MIN_BYTES * 2));
    upload.stop();
    await turn();
    await turn();
    await journal.append({ marker: true }, new Uint8Array(0));
    expect(await records(path)).toEqual([{ marker: true }]);
    await journal.close();
  });
});

