// The receiver journals a live upload as it arrives and its tail while it checks the clip
// (Inbox.beginUpload), and the radio's RecoveryJudge decides on such uploads after a stop. Real
// clips streamed to a real receiver on loopback: pieces go to the journal during the talk and the
// small tail's write is issued before the signature check; a stop after the receipt keeps the clip
// with the very receipt the sender holds; a forged clip is refused live and again after a stop; a
// cut-off upload leaves nothing; an outbox retry (an age file) and a live clip over
// RESERVE_MAX_BYTES are journalled only once checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inbox, JOURNAL_FILE } from '../../firmware/store/inbox.js';
import { parseJournal } from '../../firmware/store/inbox-journal.js';
import type { AtomicFs } from '../../firmware/store/atomic-file.js';
import { clipOpener } from '../../firmware/transport/clip-adapter.js';
import { recoveryJudge, type AcceptanceRules } from '../../firmware/transport/clip-acceptance.js';
import type { ClipOpener } from '../../firmware/transport/clip-opener.js';
import { RESERVE_MAX_BYTES, startReceiver, type Receiver } from '../../firmware/transport/receiver.js';
import { verifyReceipt, type SignedReceipt } from '../../firmware/transport/receipt.js';
import { ClipSealer } from '../../firmware/clip/clip-sealer.js';
import { makeOgg, makeParty, seal, sealWire, type Party } from './transport-fixtures.js';

let alice: Party, bob: Party, mallory: Party;
let ogg: Uint8Array;
let root: string;
let n = 0;

beforeAll(async () => {
  [alice, bob, mallory] = (await Promise.all(['alice', 'bob', 'mallory'].map(makeParty))) as [Party, Party, Party];
  ogg = await makeOgg(10);
  root = await mkdtemp(join(tmpdir(), 'torlk-acceptance-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** Bob's receiver, wired as the radio wires it, with every journal write and check start noted in `events`. */
async function bobsReceiver(options: { holdMaterialisation?: boolean } = {}) {
  const dir = join(root, `rx${n++}`);
  const events: string[] = [];
  const fs: AtomicFs = {
    ...fsp,
    open: (async (...args: Parameters<typeof fsp.open>) => {
      const handle = await fsp.open(...args);
      if (!String(args[0]).endsWith(JOURNAL_FILE)) return handle;
      const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<unknown>;
      return Object.assign(handle, { write: (...a: unknown[]) => (events.push('journal write'), write(...a)) });
    }) as typeof fsp.open,
  };
  const real = clipOpener({ identity: { ageIdentity: bob.ageIdentity, ageRecipient: bob.ageRecipient }, contacts: () => [alice.card] });
  // The check runs synchronously right after beforeCheck returns: noting it there marks its start.
  const open: ClipOpener = (hooks) => real({ beforeCheck: () => (hooks?.beforeCheck?.(), void events.push('check starts')) });
  const rules: AcceptanceRules = { policy: (channel, key) => channel === 'family' && key === alice.signing.id, signer: bob.signing };
  const inbox = await Inbox.open({ dir, fs, judge: recoveryJudge(real, rules), holdMaterialisation: options.holdMaterialisation ?? false });
  // A clock that moves on each reading: a receipt dated at any moment but the clip's arrival would show.
  let clock = Date.now();
  const receiver: Receiver = await startReceiver({ inbox, open, ...rules, now: () => (clock += 7) });
  return {
    dir, inbox, receiver, events,
    /** What a stop leaves now: the journal alone, in a new directory, reopened with the radio's judge. */
    async reopenStopped(): Promise<Inbox> {
      const copy = join(root, `stopped${n++}`);
      await mkdir(copy);
      await copyFile(join(dir, JOURNAL_FILE), join(copy, JOURNAL_FILE));
      return Inbox.open({ dir: copy, judge: recoveryJudge(real, rules) });
    },
    /** A stop now would keep nothing, and (released) the next write-out empties the journal. */
    async expectNothingKept(): Promise<void> {
      const reopened = await this.reopenStopped();
      expect(reopened.entries()).toEqual([]);
      await reopened.close();
      expect(await inbox.flush()).toBe(true);
      expect(await this.journalRecords()).toEqual([]);
    },
    async journal() {
      return parseJournal(await readFile(join(dir, JOURNAL_FILE))).entries;
    },
    async journalRecords(): Promise<unknown[]> {
      return parseJournal(await readFile(join(dir, JOURNAL_FILE))).entries.map((e) => e.record);
    },
    close: async () => {
      await receiver.close();
      await inbox.close();
    },
  };
}

function post(port: number, body: Uint8Array): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/clip', method: 'POST', agent: false, headers: { 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const wire = (frames: Uint8Array[]) => Buffer.concat(frames);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Streams a wire stream as a talk does: the frames a few ms apart, then after a pause the last
 * two (the last page and the signature) with the body's end. `cut`: the connection is destroyed
 * instead of the end.
 */
async function postLive(port: number, frames: Uint8Array[], options: { cut?: boolean } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const req = request({ host: '127.0.0.1', port, path: '/v1/clip', method: 'POST', agent: false });
  const answered = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
  });
  for (const frame of frames.slice(0, -2)) {
    req.write(frame);
    await pause(5);
  }
  await pause(100);
  if (options.cut) {
    req.destroy();
    await answered.catch(() => undefined);
    return { status: 0, json: {} };
  }
  req.end(wire(frames.slice(-2)));
  return answered;
}

describe('the receiver journals a live clip while it checks it', () => {
  it('writes pieces while the body arrives and issues the small tail\'s write before the signature check starts', async () => {
    const rx = await bobsReceiver({ holdMaterialisation: true });
    try {
      const { frames, header } = await sealWire({ from: alice, to: [bob], ogg });
      const body = wire(frames);
      const reply = await postLive(rx.receiver.port, frames);
      expect(reply.status).toBe(200);
      expect(verifyReceipt(reply.json, { signingKey: bob.signing.publicKey, clipId: header.clipId }).clip).toBe(header.clipId);
      const entries = await rx.journal();
      const tail = entries.at(-1)!;
      const pieces = entries.slice(0, -1);
      expect(pieces.length).toBeGreaterThanOrEqual(2);
      expect(pieces.map((e) => e.record)).toEqual(pieces.map((_, i) => ({ upload: expect.any(String), piece: i })));
      expect(tail.record).toEqual({ unverified: true, receivedAt: rx.inbox.get(header.clipId)!.receivedAt, upload: (pieces[0]!.record as { upload: string }).upload, pieces: pieces.length });
      // The journal holds the body as received, and the end left only a small write.
      expect(Buffer.concat(entries.map((e) => e.sealed)).equals(body)).toBe(true);
      expect(tail.sealed.length).toBeLessThan(body.length / 3);
      expect(rx.events.slice(-2)).toEqual(['journal write', 'check starts']);
      expect(rx.events.filter((e) => e === 'journal write')).toHaveLength(entries.length);
    } finally {
      await rx.close();
    }
  });

  it('a stop after the receipt went out: the next open keeps the clip under the very receipt the sender holds', async () => {
    const rx = await bobsReceiver({ holdMaterialisation: true });
    try {
      const { frames, header, stored } = await sealWire({ from: alice, to: [bob], ogg });
      const reply = await postLive(rx.receiver.port, frames);
      expect(reply.status).toBe(200);
      const reopened = await rx.reopenStopped();
      const entry = reopened.get(header.clipId)!;
      expect(entry).toMatchObject({ senderName: 'alice', channel: 'family', sequence: header.sequence, played: false });
      expect(entry.receipt).toEqual(reply.json as unknown as SignedReceipt);
      expect(Buffer.from(await reopened.read(entry)).equals(Buffer.from(stored))).toBe(true);
      await reopened.close();
    } finally {
      await rx.close();
    }
  });

  it('a forged clip (a contact\'s name, another key\'s signature): refused live, nothing kept, and refused again after a stop', async () => {
    const rx = await bobsReceiver({ holdMaterialisation: true });
    try {
      const forger = { publicKey: alice.signing.publicKey, sign: (m: Uint8Array) => mallory.signing.sign(m) };
      const sealer = await ClipSealer.start({ signer: forger, recipients: [bob.ageRecipient], header: { channel: 'family', sequence: 7, createdAt: Date.now() } });
      const frames = [sealer.preamble, ...sealer.push(ogg), ...sealer.finish().frames];
      const reply = await postLive(rx.receiver.port, frames);
      expect(reply).toMatchObject({ status: 422, json: { error: 'tampered' } });
      expect(rx.events.slice(-2)).toEqual(['journal write', 'check starts']); // journalled ahead of its check
      // The refusal does not wait for that write: wait for the tail before a stop is taken.
      for (let i = 0; i < 100 && !(await rx.journalRecords()).some((r) => (r as { unverified?: boolean }).unverified); i++) await pause(10);
      expect((await rx.journalRecords()).at(-1)).toMatchObject({ unverified: true });
      expect(rx.inbox.entries()).toEqual([]);
      await rx.expectNothingKept();
    } finally {
      await rx.close();
    }
  });

  it('an upload whose tags name no contact is refused at its tags and never reaches the journal', async () => {
    const rx = await bobsReceiver({ holdMaterialisation: true });
    try {
      const { frames } = await sealWire({ from: mallory, to: [bob], ogg });
      // The receiver answers 401 and closes mid-body: the rest of the writes may fail.
      const reply = await postLive(rx.receiver.port, frames).catch(() => ({ status: 0, json: {} }));
      expect([0, 401]).toContain(reply.status);
      expect(rx.events).toEqual([]);
      expect(await rx.journalRecords()).toEqual([]);
    } finally {
      await rx.close();
    }
  });

  it('an upload cut off mid-body leaves pieces without a tail: nothing is kept after a stop, and the journal empties', async () => {
    const rx = await bobsReceiver({ holdMaterialisation: true });
    try {
      const { frames } = await sealWire({ from: alice, to: [bob], ogg });
      await postLive(rx.receiver.port, frames, { cut: true });
      await pause(50);
      const records = await rx.journalRecords();
      expect(records.length).toBeGreaterThanOrEqual(2);
      expect(records.every((r) => 'piece' in (r as object))).toBe(true);
      await rx.expectNothingKept();
    } finally {
      await rx.close();
    }
  });

  it('journals only once checked: an outbox retry (an age file) and a live clip over RESERVE_MAX_BYTES', async () => {
    const rx = await bobsReceiver({ holdMaterialisation: true });
    try {
      const retry = await seal({ from: alice, to: [bob], ogg });
      expect((await post(rx.receiver.port, retry.sealed)).status).toBe(200);
      expect(rx.events).toEqual(['journal write']);
      expect((await rx.journalRecords()).map((r) => (r as { clipId?: string }).clipId)).toEqual([retry.header.clipId]);
      const long = await makeOgg(150);
      const big = await sealWire({ from: alice, to: [bob], ogg: long });
      expect(big.stored.length).toBeGreaterThan(RESERVE_MAX_BYTES);
      expect((await postLive(rx.receiver.port, big.frames)).status).toBe(200);
      // Pieces up to the limit, then nothing until the clip was checked: its whole record last.
      expect(rx.events.slice(-2)).toEqual(['check starts', 'journal write']);
      const records = await rx.journalRecords();
      expect(records.at(-1)).toMatchObject({ clipId: big.header.clipId });
      expect(records.filter((r) => (r as { unverified?: boolean }).unverified)).toEqual([]);
      // Those pieces have no tail: a stop now would keep the clip from its record, once.
      const reopened = await rx.reopenStopped();
      expect(reopened.entries().map((e) => e.clipId)).toEqual([retry.header.clipId, big.header.clipId]);
      await reopened.close();
    } finally {
      await rx.close();
    }
  });
});
