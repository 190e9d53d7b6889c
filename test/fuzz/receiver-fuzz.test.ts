// Property: whatever arrives, the receiver answers with one of its statuses (or closes), never
// stores anything it should not, and keeps serving. Thousands of cases: mutated real clips over
// HTTP, and raw bytes on a TCP socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect } from 'node:net';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { makeOgg, makeParty, seal, startTestReceiver, type Party, type TestReceiver } from '../unit/transport-fixtures.js';
import { rejectStatus } from '../../firmware/transport/rejection.js';
import { setLogLevel } from '../../firmware/log.js';

let alice: Party, bob: Party;
let rx: TestReceiver;
let valid: Uint8Array;
let validId: string;
const knownStatuses = new Set([200, ...Object.values(rejectStatus)]);

beforeAll(async () => {
  setLogLevel('silent');
  [alice, bob] = (await Promise.all(['alice', 'bob'].map(makeParty))) as [Party, Party];
  rx = await startTestReceiver({ me: bob, contacts: [alice], limits: { maxBytes: 32 * 1024, headersTimeoutMs: 300, bodyIdleMs: 300 } });
  const s = await seal({ from: alice, to: [bob], ogg: await makeOgg(1) });
  valid = s.sealed;
  validId = s.header.clipId;
  expect(await post(valid, 'content-length')).toBe(200);
  // Its own files are written a moment after the reply; count them from here on.
  expect(await rx.inbox.flush()).toBe(true);
});
afterAll(async () => {
  await rx?.close();
  setLogLevel('warn');
});

function post(body: Uint8Array, framing: 'content-length' | 'chunked', path = '/v1/clip', method = 'POST'): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: rx.receiver.port, path, method, agent: false, headers: framing === 'content-length' ? { 'content-length': body.length } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(-1));
    });
    // A refusal may close the connection while we are still writing; that is the receiver's right.
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

/** A mutation of the valid clip: flips, cuts, splices, insertions. */
const mutated = fc.oneof(
  fc.array(fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), { minLength: 1, maxLength: 8 }).map((flips) => {
    const b = Uint8Array.from(valid);
    for (const f of flips) b[f.at % b.length]! ^= 1 << f.bit;
    return b;
  }),
  fc.nat().map((cut) => valid.subarray(0, cut % valid.length)),
  fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 64 })).map(([at, junk]) => {
    const i = at % valid.length;
    return Uint8Array.from([...valid.subarray(0, i), ...junk, ...valid.subarray(i)]);
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => Uint8Array.from([...valid.subarray(a % valid.length), ...valid.subarray(0, b % valid.length)])),
  fc.uint8Array({ maxLength: 40_000 }),
  fc.string().map((s) => new TextEncoder().encode('age-encryption.org/v1\n' + s)),
);

describe('receiver under fuzzing', () => {
  it('answers every mutated or random body with a known status and stores none of them', async () => {
    const before = (await readdir(`${rx.dir}/inbox`)).length;
    await fc.assert(
      fc.asyncProperty(mutated, fc.constantFrom('content-length' as const, 'chunked' as const), async (body, framing) => {
        const status = await post(body, framing);
        // 200 only for the untouched clip (a duplicate); -1 = connection closed on an oversized body.
        expect(status === -1 || knownStatuses.has(status)).toBe(true);
        if (status === 200) expect(Buffer.from(body).equals(Buffer.from(valid))).toBe(true);
      }),
      { numRuns: 2500 },
    );
    // Anything stored by mistake would be journalled now and written by this flush.
    expect(await rx.inbox.flush()).toBe(true);
    expect((await readdir(`${rx.dir}/inbox`)).length).toBe(before);
    expect(rx.inbox.entries().map((e) => e.clipId)).toEqual([validId]);
  });

  it('survives raw bytes on the socket (broken HTTP, odd paths and methods) and keeps serving', async () => {
    const junkRequest = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      fc.tuple(fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'X'), fc.string({ maxLength: 30 }), fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })), { maxLength: 6 }), fc.uint8Array({ maxLength: 500 })).map(
        ([m, path, headers, body]) => Buffer.concat([Buffer.from(`${m} /${path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1'), body]),
      ),
    );
    await fc.assert(
      fc.asyncProperty(junkRequest, async (bytes) => {
        await new Promise<void>((resolve) => {
          const s = connect(rx.receiver.port, '127.0.0.1');
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.on('data', () => undefined);
          s.setTimeout(3000, () => s.destroy());
          s.on('connect', () => s.end(bytes));
        });
      }),
      { numRuns: 1500 },
    );
    expect(rx.inbox.entries().map((e) => e.clipId)).toEqual([validId]);
    const fresh = await seal({ from: alice, to: [bob], ogg: await makeOgg(1) });
    expect(await post(fresh.sealed, 'chunked')).toBe(200);
    expect(rx.inbox.get(fresh.header.clipId)).toBeDefined();
  });
});
