import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { makeOgg, makeParty, RecordingScavenge, seal, sealWire, startTestReceiver, type Party, type TestReceiver } from './transport-fixtures.js';
import { verifyReceipt } from '../../firmware/transport/receipt.js';
import { openClip } from '../../firmware/clip/open-clip.js';
import { ANNOUNCE_AFTER_RECEIPT_MS, type Rejection } from '../../firmware/transport/receiver.js';
import type { AtomicFs } from '../../firmware/store/atomic-file.js';
import { JOURNAL_FILE } from '../../firmware/store/inbox.js';

let alice: Party, bob: Party, carol: Party, dave: Party;
let ogg: Uint8Array;
let rx: TestReceiver;
const rejections: Rejection[] = [];

beforeAll(async () => {
  [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(makeParty)) as [Party, Party, Party, Party];
  ogg = await makeOgg(1);
  rx = await startTestReceiver({
    me: bob,
    contacts: [alice, dave],
    channels: { family: [alice], work: [dave] },
    limits: { maxBytes: 64 * 1024, headersTimeoutMs: 600, bodyIdleMs: 400 },
  });
  rx.receiver.events.on('rejected', (r) => rejections.push(r));
});
afterAll(async () => {
  await rx?.close();
});

interface Reply {
  status: number;
  json: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

function post(body: Uint8Array, options: { path?: string; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: rx.receiver.port, path: options.path ?? '/v1/clip', method: options.method ?? 'POST', agent: false, headers: { 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes on a fresh TCP connection and returns everything the server sends back before closing. */
function raw(write: (s: Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(rx.receiver.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', (e) => (chunks.length ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(e)));
    s.on('connect', () => write(s));
  });
}

async function storedFiles(): Promise<string[]> {
  // A stored clip's own files are written just after its receipt goes out (the journal made it durable).
  await rx.inbox.flush();
  return (await readdir(rx.inbox === undefined ? '' : `${rx.dir}/inbox`)).sort();
}

/** Runs a rejected upload and checks: expected status and reason, one log event, nothing stored. */
async function expectRefused(send: () => Promise<number>, status: number, reason: string): Promise<void> {
  const before = await storedFiles();
  const count = rejections.length;
  expect(await send()).toBe(status);
  await new Promise((r) => setTimeout(r, 20));
  expect(rejections.slice(count).map((r) => r.reason)).toEqual([reason]);
  expect(await storedFiles()).toEqual(before);
}

describe('receiver: accepted clips', () => {
  it('stores a valid clip and answers with a receipt signed by the receiver', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    const reply = await post(sealed);
    expect(reply.status).toBe(200);
    const receipt = verifyReceipt(reply.json, { signingKey: bob.signing.publicKey, clipId: header.clipId });
    expect(receipt.clip).toBe(header.clipId);
    const entry = rx.inbox.get(header.clipId)!;
    expect(entry.senderName).toBe('alice');
    expect(Buffer.from(await rx.inbox.read(entry)).equals(Buffer.from(sealed))).toBe(true);
  });

  it('accepts the streaming sealer\'s wire stream and stores it as a standard age file', async () => {
    const { frames, stored, header } = await sealWire({ from: alice, to: [bob], ogg });
    expect(frames.length).toBeGreaterThan(3);
    const reply = await post(Buffer.concat(frames));
    expect(reply.status).toBe(200);
    verifyReceipt(reply.json, { signingKey: bob.signing.publicKey, clipId: header.clipId });
    const entry = rx.inbox.get(header.clipId)!;
    expect(Buffer.from(await rx.inbox.read(entry)).equals(Buffer.from(stored))).toBe(true);
  });

  it('announces a new clip with its verified audio (no second open to play it), a moment after its receipt', async () => {
    const events: { clipId: string; ogg: Uint8Array | undefined; at: number }[] = [];
    const onClip = (e: { clipId: string }, audio: Uint8Array | undefined) => events.push({ clipId: e.clipId, ogg: audio, at: performance.now() });
    rx.receiver.events.on('clip', onClip);
    try {
      const { frames, stored, header } = await sealWire({ from: alice, to: [bob], ogg });
      // Only this clip's: the one an earlier test stored may still be announced meanwhile.
      const mine = () => events.filter((e) => e.clipId === header.clipId);
      expect((await post(Buffer.concat(frames))).status).toBe(200);
      const answered = performance.now();
      expect(mine()).toEqual([]);
      await new Promise((r) => setTimeout(r, ANNOUNCE_AFTER_RECEIPT_MS + 50));
      expect(mine()[0]!.at - answered).toBeGreaterThan(ANNOUNCE_AFTER_RECEIPT_MS / 2);
      const opened = await openClip(stored, { identity: { ageIdentity: bob.ageIdentity, ageRecipient: bob.ageRecipient }, contacts: [alice.card] });
      expect(mine()).toHaveLength(1);
      expect(Buffer.from(mine()[0]!.ogg!).equals(Buffer.from(opened.ogg))).toBe(true);
    } finally {
      rx.receiver.events.off('clip', onClip);
    }
  });

  it('answers a duplicate with the original receipt and stores nothing new', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    const first = await post(sealed);
    const files = await storedFiles();
    const again = await post(sealed);
    expect(again.status).toBe(200);
    expect(again.headers['torlk-duplicate']).toBe('1');
    expect(again.json).toEqual(first.json);
    expect(await storedFiles()).toEqual(files);
    expect(rx.inbox.entries().filter((e) => e.clipId === header.clipId)).toHaveLength(1);
  });
});

describe('receiver: every kind of rejection has its own status, stores nothing, and the server keeps serving', () => {
  it('409 replay: a used sequence number under a new clip id', async () => {
    const { sealed } = await seal({ from: alice, to: [bob], ogg, sequence: 5000 });
    expect((await post(sealed)).status).toBe(200);
    const replay = await seal({ from: alice, to: [bob], ogg, sequence: 5000 });
    await expectRefused(async () => (await post(replay.sealed)).status, 409, 'replay');
  });

  it('410 stale and 425 future: created-at outside the window', async () => {
    const old = await seal({ from: alice, to: [bob], ogg, createdAt: Date.now() - 9 * 24 * 3600_000 });
    await expectRefused(async () => (await post(old.sealed)).status, 410, 'stale');
    const ahead = await seal({ from: alice, to: [bob], ogg, createdAt: Date.now() + 3600_000 });
    await expectRefused(async () => (await post(ahead.sealed)).status, 425, 'future');
  });

  it('422 tampered: one byte changed in the ciphertext', async () => {
    const { sealed } = await seal({ from: alice, to: [bob], ogg });
    const bad = Uint8Array.from(sealed);
    bad[bad.length - 100]! ^= 0x01;
    const reply = await post(bad);
    expect(reply.json.error).toBe('tampered');
    await expectRefused(async () => (await post(bad)).status, 422, 'tampered');
  });

  it('401 unknown sender', async () => {
    const { sealed } = await seal({ from: carol, to: [bob], ogg });
    await expectRefused(async () => (await post(sealed)).status, 401, 'unknown-sender');
  });

  it('403 wrong channel: a known contact on a channel we do not share with them', async () => {
    const { sealed } = await seal({ from: alice, to: [bob], ogg, channel: 'work' });
    await expectRefused(async () => (await post(sealed)).status, 403, 'wrong-channel');
    const fromDave = await seal({ from: dave, to: [bob], ogg, channel: 'family' });
    await expectRefused(async () => (await post(fromDave.sealed)).status, 403, 'wrong-channel');
  });

  it('421 wrong recipient: encrypted to someone else', async () => {
    const { sealed } = await seal({ from: alice, to: [carol], ogg });
    await expectRefused(async () => (await post(sealed)).status, 421, 'wrong-recipient');
  });

  it('415 garbage: random bytes and a text body', async () => {
    await expectRefused(async () => (await post(randomBytes(3000))).status, 415, 'garbage');
    await expectRefused(async () => (await post(Buffer.from('hello, is this the radio?'))).status, 415, 'garbage');
  });

  it('400 truncated: the body stops before its declared length', async () => {
    const { sealed } = await seal({ from: alice, to: [bob], ogg });
    await expectRefused(async () => {
      const text = await raw((s) => {
        s.write(`POST /v1/clip HTTP/1.1\r\nhost: x\r\ncontent-length: ${sealed.length}\r\n\r\n`);
        s.end(sealed.subarray(0, sealed.length >> 1));
      });
      return Number(text.slice(9, 12));
    }, 400, 'truncated');
  });

  it('400 truncated: a complete request whose wire stream lacks its last frame', async () => {
    const { frames } = await sealWire({ from: alice, to: [bob], ogg });
    await expectRefused(async () => (await post(Buffer.concat(frames.slice(0, -1)))).status, 400, 'truncated');
  });

  it('413 oversized: a declared length over the cap is refused before any body byte is read', async () => {
    const count = rejections.length;
    const text = await raw((s) => s.write(`POST /v1/clip HTTP/1.1\r\nhost: x\r\ncontent-length: ${10 * 1024 * 1024}\r\n\r\n`));
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(rejections[count]).toMatchObject({ reason: 'oversized', bytesRead: 0 });
  });

  it('413 oversized: a chunked body is cut at the cap and the rest is never read', async () => {
    const before = await storedFiles();
    const count = rejections.length;
    let written = 0;
    // A real clip's age header first, so the opener keeps reading (a garbage start would be refused early).
    const { sealed } = await seal({ from: alice, to: [bob], ogg });
    const head = sealed.subarray(0, 300);
    const text = await raw((s) => {
      s.write('POST /v1/clip HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n');
      s.write(`${head.length.toString(16)}\r\n`);
      s.write(head);
      s.write('\r\n');
      const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x61), Buffer.from('\r\n')]);
      // Try to push 256 MiB; a server that drained the body would let all of it through.
      const pump = () => {
        while (written < 256 * 1024 * 1024 && !s.destroyed) {
          written += 0x10000;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      pump();
    });
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    const rej = rejections[count]!;
    expect(rej.reason).toBe('oversized');
    expect(rej.bytesRead).toBeLessThanOrEqual(64 * 1024 + 0x10000);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(await storedFiles()).toEqual(before);
  });

  it('408 timeout: headers that never finish (slowloris) and a body that stalls', async () => {
    await expectRefused(async () => {
      const text = await raw((s) => s.write('POST /v1/clip HTTP/1.1\r\nhost: x\r\n'));
      return Number(text.slice(9, 12));
    }, 408, 'timeout');
    const { sealed } = await seal({ from: alice, to: [bob], ogg });
    await expectRefused(async () => {
      const text = await raw((s) => {
        s.write(`POST /v1/clip HTTP/1.1\r\nhost: x\r\ncontent-length: ${sealed.length}\r\n\r\n`);
        s.write(sealed.subarray(0, 100));
      });
      return Number(text.slice(9, 12));
    }, 408, 'timeout');
  });

  it('400 bad request, 404 and 405 for things that are not an upload', async () => {
    await expectRefused(async () => Number((await raw((s) => s.write('\x16\x03\x01 not http at all\r\n\r\n'))).slice(9, 12)), 400, 'bad-request');
    await expectRefused(async () => (await post(new Uint8Array(1), { path: '/admin' })).status, 404, 'not-found');
    await expectRefused(async () => (await post(new Uint8Array(0), { method: 'PUT' })).status, 405, 'method');
  });

  it('still serves a valid clip after all of the above', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    expect((await post(sealed)).status).toBe(200);
    expect(rx.inbox.get(header.clipId)).toBeDefined();
  });
});

describe('receiver: a sender that hangs up while its clip is being stored', () => {
  it('keeps the clip and still announces it, though the receipt never leaves', async () => {
    let bodyIn!: () => void;
    const bodyRead = new Promise<void>((r) => (bodyIn = r));
    const fs: AtomicFs = {
      ...fsp,
      // The journal's durable write waits until the sender is gone, so the receipt has no socket left.
      open: (async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        if (!String(args[0]).endsWith(JOURNAL_FILE)) return handle;
        const write = handle.write.bind(handle) as (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
        return Object.assign(handle, {
          write: async (b: Uint8Array, o: number, l: number) => {
            bodyIn();
            await new Promise((r) => setTimeout(r, 200));
            return write(b, o, l);
          },
        });
      }) as typeof fsp.open,
    };
    const slow = await startTestReceiver({ me: bob, contacts: [alice], fs });
    const announced: string[] = [];
    slow.receiver.events.on('clip', (e) => announced.push(e.clipId));
    try {
      const { frames, header } = await sealWire({ from: alice, to: [bob], ogg });
      const body = Buffer.concat(frames);
      const sock = connect(slow.receiver.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.write(`POST /v1/clip HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`);
      sock.write(body);
      await bodyRead;
      sock.destroy();
      const until = Date.now() + 5000;
      while (announced.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(announced).toEqual([header.clipId]);
      expect(slow.inbox.get(header.clipId)).toBeDefined();
    } finally {
      await slow.close();
    }
  });
});

describe('receiver: 507 when the disk is full', () => {
  it('refuses with 507, stores nothing, then accepts once space is back', async () => {
    let full = true;
    const fs: AtomicFs = {
      ...fsp,
      // The inbox journal is where a clip is first written: its appends hit the full disk.
      open: (async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        if (!String(args[0]).endsWith(JOURNAL_FILE)) return handle;
        const write = handle.write.bind(handle) as (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
        return Object.assign(handle, {
          write: async (b: Uint8Array, o: number, l: number) => {
            if (full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
            return write(b, o, l);
          },
        });
      }) as typeof fsp.open,
    };
    const disk = await startTestReceiver({ me: bob, contacts: [alice], fs });
    try {
      const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
      const send = () =>
        new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: disk.receiver.port, path: '/v1/clip', method: 'POST', agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(sealed);
        });
      expect(await send()).toBe(507);
      expect(await readdir(`${disk.dir}/inbox`)).toEqual([JOURNAL_FILE]);
      full = false;
      expect(await send()).toBe(200);
      expect(disk.inbox.get(header.clipId)).toBeDefined();
    } finally {
      await disk.close();
    }
  });
});

describe('receiver: a scavenge is kept out of the last chunk\'s way', () => {
  it('makes room after each chunk mid-body, none from the body\'s end until the receipt is out, and always ends the timed part', async () => {
    const scavenge = new RecordingScavenge();
    const own = await startTestReceiver({ me: bob, contacts: [alice], scavenge });
    try {
      const { frames, header } = await sealWire({ from: alice, to: [bob], ogg });
      const chunk = (b: Uint8Array) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
      const answer = await new Promise<string>((resolve, reject) => {
        const s = connect(own.receiver.port, '127.0.0.1');
        s.setNoDelay(true);
        let text = '';
        s.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          // The receipt is in: the timed part must already be over.
          if (/\r\n\r\n\{.*\}$/s.test(text)) resolve(text), s.destroy();
        });
        s.on('error', reject);
        s.on('connect', async () => {
          s.write('POST /v1/clip HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n');
          for (const f of frames.slice(0, -1)) {
            s.write(chunk(f));
            await new Promise((r) => setTimeout(r, 5));
          }
          s.write(Buffer.concat([chunk(frames.at(-1)!), Buffer.from('0\r\n\r\n')])); // the release burst
        });
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
      expect(own.inbox.get(header.clipId)).toBeDefined();
      const timedAt = scavenge.seen.indexOf('timed');
      expect(scavenge.seen.filter((e) => e === 'work').length).toBeGreaterThanOrEqual(frames.length - 1);
      expect(scavenge.seen.slice(timedAt)).toEqual(['timed', 'timed-end']);

      // Refused after its end (its last frame missing): the timed part still ends.
      scavenge.seen.length = 0;
      const { frames: cut } = await sealWire({ from: alice, to: [bob], ogg });
      const refused = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: own.receiver.port, path: '/v1/clip', method: 'POST', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(Buffer.concat(cut.slice(0, -1)));
      });
      expect(refused).toBe(400);
      expect(scavenge.seen.slice(scavenge.seen.indexOf('timed'))).toEqual(['timed', 'timed-end']);
    } finally {
      await own.close();
    }
  });
});
