// Clips over the REAL private Tor network (one network for this file, test/support/testnet.ts):
// alice's client tor → bob's onion service tor → bob's receiver on 127.0.0.1. Covers delivery,
// store-and-forward while bob is offline, tor killed mid-upload, and a sender SIGKILLed right
// after recording. Each clip must be stored exactly once at bob.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import { useTestnet, startClientTor, startOnionServiceTor, waitReachable, type TorNode, type OnionServiceNode } from '../support/testnet.js';
import { makeOgg, makeParty, seal, sealWire, startTestReceiver, type Party, type TestReceiver } from '../unit/transport-fixtures.js';
import { torConnector } from '../../firmware/transport/tor-connector.js';
import { DeliveryError, uploadClip, type Recipient } from '../../firmware/transport/sender.js';
import { inboxKey } from '../../firmware/store/inbox.js';
import { TalkSession } from '../../firmware/transport/talk-session.js';
import { Outbox } from '../../firmware/store/outbox.js';
import { ClipSealer } from '../../firmware/clip/clip-sealer.js';
import type { Rejection } from '../../firmware/transport/receiver.js';
import { setLogLevel, setLogSink } from '../../firmware/log.js';

const tn = useTestnet();
let work: string;
let alice: Party, bob: Party, carol: Party, dave: Party;
let ogg: Uint8Array;
let rx: TestReceiver;
let rxPort = 0;
let service: OnionServiceNode;
let client: TorNode;
let bobAt: Recipient;
const rejections: Rejection[] = [];
// Reads the *current* client tor: a test replaces it after killing it.
const connector = torConnector({ socksPort: () => client.ports.socks!, timeoutMs: 30_000 });
const fastRetry = { baseMs: 300, maxMs: 1500, factor: 2, jitter: 0.5 };

async function startBob(): Promise<void> {
  rx = await startTestReceiver({
    me: bob,
    contacts: [alice, dave],
    channels: { family: [alice], work: [dave] },
    dir: join(work, 'bob'),
    limits: { maxBytes: 256 * 1024 },
    ...(rxPort ? { port: rxPort } : {}),
  });
  rxPort = rx.receiver.port;
  rx.receiver.events.on('rejected', (r) => rejections.push(r));
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'torlk-clips-tor-'));
  [alice, bob, carol, dave] = (await Promise.all(['alice', 'bob', 'carol', 'dave'].map(makeParty))) as [Party, Party, Party, Party];
  ogg = await makeOgg(3);
  await startBob();
  [service, client] = await Promise.all([startOnionServiceTor(tn.net, rxPort), startClientTor(tn.net)]);
  (await waitReachable(client, service.onion, { timeoutMs: 120_000 })).destroy();
  bobAt = { name: 'bob', host: service.onion, port: 80, signingKey: bob.signing.id };
});
afterAll(async () => {
  await rx?.close();
  await rm(work, { recursive: true, force: true });
});

/** Seals `ogg` with the streaming sealer, feeding `onFrame` as frames come out (paced like a live mic when `paceMs`). */
async function talkInto(session: TalkSession, clipId: string, paceMs = 0): Promise<Uint8Array> {
  const sealer = await ClipSealer.start({ signer: alice.signing, recipients: [bob.ageRecipient], header: { channel: 'family', sequence: Date.now(), createdAt: Date.now(), clipId } });
  session.write(sealer.preamble);
  const piece = 2000; // ~1 s of 16 kbit/s Opus
  for (let at = 0; at < ogg.length; at += piece) {
    for (const frame of sealer.push(ogg.subarray(at, at + piece))) session.write(frame);
    if (paceMs) await new Promise((r) => setTimeout(r, paceMs));
  }
  for (const frame of sealer.finish().frames) session.write(frame);
  return sealer.stored();
}

describe('clips over the private Tor network', () => {
  it('A → B: a streamed clip is delivered, verified and stored once; figures against the onion round trip', async () => {
    // Reference: one request/response round trip on a warm circuit. Each sample opens its stream
    // first (excluded), then times a tiny upload that the receiver refuses at once.
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const probe = await connector(service.onion, 80);
      rtts.push(
        await new Promise<number>((resolve, reject) => {
          const t0 = performance.now();
          probe.once('data', () => resolve(performance.now() - t0));
          probe.once('error', reject);
          setTimeout(() => reject(new Error('probe: no answer in 30 s')), 30_000).unref();
          probe.resume();
          probe.write('POST /v1/clip HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello');
        }),
      );
      probe.destroy();
    }
    const outbox = await Outbox.open({ dir: join(work, 'alice-outbox-1'), deliver: (item, sealed) => uploadClip({ connector, recipient: item.recipient, body: sealed, clipId: item.clipId }) });
    outbox.start();
    const clipId = randomBytes(16).toString('hex');
    const session = TalkSession.press({ connector, outbox, recipients: [bobAt], clipId });
    const stored = await talkInto(session, clipId, 300);
    const releasedAt = performance.now();
    // The receiver's own timings (verify, store) come from its 'clip stored' log line.
    let receiverLine = '';
    setLogLevel('info');
    const prevSink = setLogSink((l) => {
      if (l.includes('"clip stored"')) receiverLine = l;
    });
    const { outcomes } = await session.release(stored);
    const persistedAt = performance.now() - releasedAt;
    const [outcome] = await outcomes;
    const latency = performance.now() - releasedAt;
    setLogSink(prevSink);
    setLogLevel('warn');
    const { verifyMs, storeMs, workMs } = JSON.parse(receiverLine) as { verifyMs: number; storeMs: number; workMs: number };
    expect(outcome).toMatchObject({ via: 'streamed' });
    // The sender's wait after its last byte holds the receiver's whole work (from the last chunk on,
    // so at least verify + store, each rounded to 0.1 ms) plus tor's round trip.
    const { waitMs } = outcome!.delivered!;
    expect(workMs).toBeGreaterThanOrEqual(verifyMs + storeMs - 0.15);
    expect(waitMs).toBeGreaterThan(workMs);
    expect(latency).toBeGreaterThan(waitMs);
    expect(outcome!.delivered!.receipt.clip).toBe(clipId);
    expect(outbox.pending()).toEqual([]);
    expect(rx.inbox.entries().filter((e) => e.clipId === clipId)).toHaveLength(1);
    const rtt = rtts.sort((a, b) => a - b)[2]!;
    process.stderr.write(
      `clips-over-tor: onion RTT median ${rtt.toFixed(1)} ms; streamed release-to-delivered ${latency.toFixed(1)} ms (${(latency / rtt).toFixed(2)} x RTT): ` +
        `outbox persisted at +${persistedAt.toFixed(1)} ms (in parallel), receiver: verify ${verifyMs} ms, store ${storeMs} ms; ` +
        `waited ${waitMs.toFixed(1)} ms after the last byte, of which the receiver ${workMs} ms; ` +
        `clip ${stored.length} bytes for 3 s of audio\n`,
    );
    await outbox.stop();
  });

  it('refuses replayed, tampered, unknown-sender, wrong-channel, oversized, truncated and garbage uploads, each with its own status, and keeps serving', async () => {
    const send = (body: Uint8Array) => uploadClip({ connector, recipient: bobAt, body }).then(() => 200, (e: DeliveryError) => `${e.status} ${e.reason}`);
    const before = rx.inbox.entries().length;
    const first = await seal({ from: alice, to: [bob], ogg, sequence: 424242 });
    expect(await send(first.sealed)).toBe(200);
    const replay = await seal({ from: alice, to: [bob], ogg, sequence: 424242 });
    const tampered = Uint8Array.from((await seal({ from: alice, to: [bob], ogg })).sealed);
    tampered[tampered.length >> 1]! ^= 0x20;
    const wire = await sealWire({ from: alice, to: [bob], ogg });
    const results = {
      replay: await send(replay.sealed),
      tampered: await send(tampered),
      unknownSender: await send((await seal({ from: carol, to: [bob], ogg })).sealed),
      wrongChannel: await send((await seal({ from: alice, to: [bob], ogg, channel: 'work' })).sealed),
      oversized: await send(new Uint8Array(300 * 1024)),
      truncated: await send(Buffer.concat(wire.frames.slice(0, -1))),
      garbage: await send(randomBytes(2000)),
    };
    expect(results).toEqual({
      replay: '409 replay',
      tampered: '422 tampered',
      unknownSender: '401 unknown-sender',
      wrongChannel: '403 wrong-channel',
      oversized: '413 oversized',
      truncated: '400 truncated',
      garbage: '415 garbage',
    });
    expect(rx.inbox.entries().length).toBe(before + 1);
    // Still serving, and what it stored is a standard age file that opens to a valid Ogg Opus stream.
    const good = await seal({ from: alice, to: [bob], ogg });
    expect(await send(good.sealed)).toBe(200);
    const idFile = join(work, 'bob-age.key');
    await writeFile(idFile, bob.ageIdentity + '\n', { mode: 0o600 });
    expect(await rx.inbox.flush()).toBe(true); // the clip's own file is written after the receipt
    const storedFile = join(rx.dir, 'inbox', `${inboxKey(good.header.clipId)}.clip`);
    const ogg2 = join(work, 'received.ogg');
    execFileSync('age', ['-d', '-i', idFile, '-o', ogg2, storedFile]);
    expect(execFileSync('opusinfo', [ogg2]).toString()).toMatch(/Playback length: 0m:0[23]/);
  });

  it('B offline while A talks: queued, then delivered when B comes back', async () => {
    await rx.close(); // bob's radio is off (its onion descriptor is still out there, as after a crash)
    const outbox = await Outbox.open({ dir: join(work, 'alice-outbox-2'), backoff: fastRetry, deliver: (item, sealed) => uploadClip({ connector, recipient: item.recipient, body: sealed, clipId: item.clipId }) });
    const retries: string[] = [];
    outbox.on('retry', (_i, e) => retries.push(e.message));
    outbox.start();
    const clipId = randomBytes(16).toString('hex');
    const session = TalkSession.press({ connector, outbox, recipients: [bobAt], clipId });
    const stored = await talkInto(session, clipId);
    const { outcomes } = await session.release(stored);
    expect((await outcomes)[0]).toMatchObject({ via: 'queued' });
    await until(() => retries.length >= 2, 60_000, 'two failed retries');
    const delivered = new Promise((r) => outbox.once('delivered', r));
    await startBob();
    await delivered;
    expect(rx.inbox.entries().filter((e) => e.clipId === clipId)).toHaveLength(1);
    await outbox.stop();
  });

  it('tor killed mid-upload: delivered after tor restarts, stored exactly once', async () => {
    const outbox = await Outbox.open({ dir: join(work, 'alice-outbox-3'), backoff: fastRetry, deliver: (item, sealed) => uploadClip({ connector, recipient: item.recipient, body: sealed, clipId: item.clipId }) });
    outbox.start();
    const clipId = randomBytes(16).toString('hex');
    const session = TalkSession.press({ connector, outbox, recipients: [bobAt], clipId });
    // Talk for a while so the stream is open and carrying frames, then kill alice's tor.
    const sealer = await ClipSealer.start({ signer: alice.signing, recipients: [bob.ageRecipient], header: { channel: 'family', sequence: Date.now(), createdAt: Date.now(), clipId } });
    const send = (frames: Uint8Array[]) => {
      for (const frame of frames) session.write(frame);
    };
    send([sealer.preamble]);
    const half = ogg.length >> 1;
    send(sealer.push(ogg.subarray(0, half)));
    await new Promise((r) => setTimeout(r, 1500));
    const rejectedBefore = rejections.length;
    process.kill(client.pid, 'SIGKILL');
    send(sealer.push(ogg.subarray(half)));
    send(sealer.finish().frames);
    const { outcomes } = await session.release(sealer.stored());
    expect((await outcomes)[0]).toMatchObject({ via: 'queued' });
    expect(outbox.pending()).toHaveLength(1);
    // The receiver saw a cut upload and stored nothing.
    await until(() => rejections.length > rejectedBefore, 30_000, 'the receiver to notice the cut stream');
    // Whether the receiver's tor closes the stream (truncated) or just goes quiet (timeout after the
    // body deadline) depends on how the dead circuit is noticed; either way nothing is stored.
    expect(rejections.slice(rejectedBefore).map((r) => r.reason).filter((r) => r === 'truncated' || r === 'timeout')).not.toHaveLength(0);
    expect(rx.inbox.get(clipId)).toBeUndefined();
    // tor comes back (the supervisor restarts it; here: a fresh client tor on the same network).
    client = await startClientTor(tn.net);
    const delivered = new Promise((r) => outbox.once('delivered', r));
    outbox.kick();
    await delivered;
    expect(rx.inbox.entries().filter((e) => e.clipId === clipId)).toHaveLength(1);
    await outbox.stop();
  });

  it('sender SIGKILLed right after recording: delivered after its restart', async () => {
    const bundle = join(work, 'outbox-child.mjs');
    await build({ entryPoints: [join(import.meta.dirname, '../unit/store-outbox-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' });
    const { stored, header } = await sealWire({ from: alice, to: [bob], ogg });
    const clipFile = join(work, 'recorded.age');
    await writeFile(clipFile, stored);
    const list = join(work, 'list.json');
    await writeFile(list, JSON.stringify([{ clipId: header.clipId, path: clipFile, recipients: [bobAt] }]));
    const dir = join(work, 'alice-outbox-4');
    const child = spawn(process.execPath, [bundle, dir, list], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TORLK_LOG: 'silent' } });
    let out = '';
    const killed = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // "Right after recording": the moment the clip is persisted, the power goes.
        if (out.includes(`queued ${header.clipId}`)) child.kill('SIGKILL');
      });
      child.once('exit', () => resolve());
    });
    await killed;
    expect(out).toContain(`queued ${header.clipId}`);
    expect(rx.inbox.get(header.clipId)).toBeUndefined();
    const restarted = await Outbox.open({ dir, backoff: fastRetry, deliver: (item, sealed) => uploadClip({ connector, recipient: item.recipient, body: sealed, clipId: item.clipId }) });
    expect(restarted.pending().map((i) => i.clipId)).toEqual([header.clipId]);
    const delivered = new Promise((r) => restarted.once('delivered', r));
    restarted.start();
    await delivered;
    expect(rx.inbox.entries().filter((e) => e.clipId === header.clipId)).toHaveLength(1);
    await restarted.stop();
  });
});
