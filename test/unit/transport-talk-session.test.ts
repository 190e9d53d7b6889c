// The press-to-release path and the facade, with real device identities (firmware/identity), real
// sealed clips, real receivers and outboxes on disk; loopback TCP stands in for tor here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeviceIdentity, ownContact, type DeviceIdentity } from '../../firmware/identity/device-identity.js';
import { ClipSealer } from '../../firmware/clip/clip-sealer.js';
import { channelPolicyFor, openClipOutbox, recipientFor, startClipReceiver, type ChannelContact, type ClipReceiver } from '../../firmware/transport/clip-transport.js';
import { TalkSession } from '../../firmware/transport/talk-session.js';
import type { Connector, Recipient } from '../../firmware/transport/sender.js';
import { makeOgg } from './transport-fixtures.js';
import { randomBytes } from 'node:crypto';
import { cpSync, readdirSync } from 'node:fs';

let root: string;
let alice: DeviceIdentity, bob: DeviceIdentity, carol: DeviceIdentity;
let ogg: Uint8Array;
let bobRx: ClipReceiver, carolRx: ClipReceiver;
// Onion address → local receiver port: what tor does for us in production.
const routes = new Map<string, number>();
const direct: Connector = (host) =>
  new Promise<Socket>((resolve, reject) => {
    const port = routes.get(host);
    if (port === undefined) return reject(Object.assign(new Error(`no route to ${host}`), { retryable: true }));
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });

const asContact = (id: DeviceIdentity, name: string, channels: string[]): ChannelContact => ({ ...ownContact(id, name), channels });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'torlk-talk-'));
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(async (n) => (await createDeviceIdentity(join(root, n))).identity)) as [DeviceIdentity, DeviceIdentity, DeviceIdentity];
  ogg = await makeOgg(2);
  const aliceOnFamily = () => [asContact(alice, 'alice', ['family'])];
  bobRx = await startClipReceiver({ dataDir: join(root, 'bob'), identity: bob, contacts: aliceOnFamily });
  carolRx = await startClipReceiver({ dataDir: join(root, 'carol'), identity: carol, contacts: aliceOnFamily });
  routes.set(bob.onion.address, bobRx.port);
  routes.set(carol.onion.address, carolRx.port);
});
afterAll(async () => {
  await bobRx?.close();
  await carolRx?.close();
  await rm(root, { recursive: true, force: true });
});

const recipients = (): Recipient[] => [recipientFor(ownContact(bob, 'bob')), recipientFor(ownContact(carol, 'carol'))];

async function talk(outboxDir: string, clipId: string): Promise<{ session: TalkSession; stored: Uint8Array; outbox: Awaited<ReturnType<typeof openClipOutbox>> }> {
  const outbox = await openClipOutbox({ dataDir: outboxDir, connector: direct, backoff: { baseMs: 20, maxMs: 50, factor: 2, jitter: 0.5 } });
  outbox.start();
  const session = TalkSession.press({ connector: direct, outbox, recipients: recipients(), clipId });
  // The real streaming sealer: Ogg pages in as the encoder makes them, wire frames out at once.
  const sealer = await ClipSealer.start({
    signer: alice.signer,
    recipients: [bob.ageRecipient, carol.ageRecipient],
    header: { channel: 'family', sequence: Date.now(), createdAt: Date.now(), clipId },
  });
  session.write(sealer.preamble);
  for (let at = 0; at < ogg.length; at += 700) for (const frame of sealer.push(ogg.subarray(at, at + 700))) session.write(frame);
  for (const frame of sealer.finish().frames) session.write(frame);
  return { session, stored: sealer.stored(), outbox };
}

describe('TalkSession', () => {
  it('delivers to every recipient by the live stream and leaves the outbox empty', async () => {
    const clipId = randomBytes(16).toString('hex');
    const { session, stored, outbox } = await talk(join(root, 'a1'), clipId);
    const { outcomes } = await session.release(stored);
    expect((await outcomes).map((o) => `${o.recipient.name}:${o.via}`)).toEqual(['bob:streamed', 'carol:streamed']);
    expect(outbox.pending()).toEqual([]);
    expect(bobRx.inbox.get(clipId)?.senderName).toBe('alice');
    expect(carolRx.inbox.get(clipId)).toBeDefined();
    await outbox.stop();
  });

  it('falls back to the outbox for a recipient whose stream fails, and delivers it later', async () => {
    const clipId = randomBytes(16).toString('hex');
    routes.delete(carol.onion.address); // carol's radio is off
    const { session, stored, outbox } = await talk(join(root, 'a2'), clipId);
    const { outcomes } = await session.release(stored);
    expect((await outcomes).map((o) => `${o.recipient.name}:${o.via}`)).toEqual(['bob:streamed', 'carol:queued']);
    expect(outbox.pending().map((i) => i.recipient.name)).toEqual(['carol']);
    const delivered = new Promise((r) => outbox.once('delivered', r));
    routes.set(carol.onion.address, carolRx.port); // carol comes back
    await delivered;
    expect(carolRx.inbox.get(clipId)).toBeDefined();
    await outbox.stop();
  });

  it('never stores a clip twice when the radio dies between the stream\'s receipt and the outbox update', async () => {
    const clipId = randomBytes(16).toString('hex');
    const dir = join(root, 'a3');
    const { session, stored, outbox } = await talk(dir, clipId);
    // Power cut the moment the clip is persisted for both recipients, before any receipt is processed.
    const items = () => readdirSync(join(dir, 'outbox')).filter((f) => f.endsWith('.item'));
    let crashed!: () => void;
    const copied = new Promise<void>((r) => (crashed = r));
    const markDelivered = outbox.markDelivered.bind(outbox);
    outbox.markDelivered = async (...args) => {
      await copied;
      return markDelivered(...args);
    };
    const { outcomes } = await session.release(stored);
    expect(items()).toHaveLength(2);
    cpSync(dir, `${dir}-crashed`, { recursive: true });
    crashed();
    expect((await outcomes).map((o) => o.via)).toEqual(['streamed', 'streamed']);
    await outbox.stop();
    expect(bobRx.inbox.get(clipId)).toBeDefined();
    const restarted = await openClipOutbox({ dataDir: `${dir}-crashed`, connector: direct });
    expect(restarted.pending()).toHaveLength(2);
    const duplicates: boolean[] = [];
    restarted.on('delivered', (_i, d) => duplicates.push(d.duplicate));
    restarted.start();
    // 'delivered' fires once the item's files are durably gone.
    await new Promise<void>((r) => restarted.on('delivered', () => duplicates.length === 2 && r()));
    expect(restarted.pending()).toEqual([]);
    expect(duplicates).toEqual([true, true]);
    expect(bobRx.inbox.entries().filter((e) => e.clipId === clipId)).toHaveLength(1);
    await restarted.stop();
  });

  it('finish() ends the live bodies at once: the receivers store the clip before release() persists it', async () => {
    const clipId = randomBytes(16).toString('hex');
    const { session, stored, outbox } = await talk(join(root, 'a5'), clipId);
    const stored$ = (rx: ClipReceiver) => new Promise<void>((r) => rx.inbox.on('clip', (e) => e.clipId === clipId && r()));
    const both = Promise.all([stored$(bobRx), stored$(carolRx)]);
    session.finish();
    session.finish(); // idempotent
    await both;
    expect(outbox.pending()).toEqual([]); // nothing was handed to the outbox yet
    const { outcomes } = await session.release(stored);
    expect((await outcomes).map((o) => `${o.recipient.name}:${o.via}`)).toEqual(['bob:streamed', 'carol:streamed']);
    expect(outbox.pending()).toEqual([]);
    await outbox.stop();
  });

  it('abort() before release sends nothing that is stored', async () => {
    const clipId = randomBytes(16).toString('hex');
    const { session, outbox } = await talk(join(root, 'a4'), clipId);
    session.abort(new Error('microphone fault'));
    await new Promise((r) => setTimeout(r, 100));
    expect(bobRx.inbox.get(clipId)).toBeUndefined();
    expect(outbox.pending()).toEqual([]);
    await outbox.stop();
  });
});

describe('channelPolicyFor', () => {
  it('accepts a contact only on the channels listed for it', () => {
    const policy = channelPolicyFor(() => [asContact(alice, 'alice', ['family', 'hike'])]);
    expect(policy('family', alice.signer.id)).toBe(true);
    expect(policy('hike', alice.signer.id)).toBe(true);
    expect(policy('work', alice.signer.id)).toBe(false);
    expect(policy('family', bob.signer.id)).toBe(false);
  });
});
