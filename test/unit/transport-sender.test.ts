import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { makeOgg, makeParty, RecordingScavenge, seal, startTestReceiver, type Party, type TestReceiver } from './transport-fixtures.js';
import { DeliveryError, uploadClip, type Connector } from '../../firmware/transport/sender.js';
import { StreamingUpload } from '../../firmware/transport/streaming-upload.js';
import { SocksError } from '../../firmware/tor/socks-error.js';

/** Plain loopback TCP in place of SOCKS: this file tests the upload protocol, not tor. */
const direct: Connector = (host, port) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect(port, host);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });

let alice: Party, bob: Party, carol: Party;
let ogg: Uint8Array;
let rx: TestReceiver;
beforeAll(async () => {
  [alice, bob, carol] = (await Promise.all(['alice', 'bob', 'carol'].map(makeParty))) as [Party, Party, Party];
  ogg = await makeOgg(2);
  rx = await startTestReceiver({ me: bob, contacts: [alice] });
});
afterAll(async () => {
  await rx?.close();
});

async function failure(p: Promise<unknown>): Promise<DeliveryError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

/** A TCP server that misbehaves in a given way, for the sender's error paths. */
async function rogue(onSocket: (s: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) };
}

describe('uploadClip', () => {
  it('delivers a whole clip and verifies the receipt; a retry gets the same receipt as a duplicate', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    const first = await uploadClip({ connector: direct, recipient: rx.recipient, body: sealed, clipId: header.clipId });
    expect(first).toMatchObject({ duplicate: false, bytesSent: sealed.length });
    expect(first.receipt.clip).toBe(header.clipId);
    const again = await uploadClip({ connector: direct, recipient: rx.recipient, body: sealed });
    expect(again.duplicate).toBe(true);
    expect(again.receipt).toEqual(first.receipt);
  });

  it('leaves the stream open behind the receipt, for the sender to close once it is read', async () => {
    // Through tor, a receiver that ended its side right behind the receipt sent an END cell a
    // scheduler run after it, which held the receipt up at relays it was still crossing.
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    const ends: string[] = [];
    const relay = await rogue((s) => {
      const up = connect(rx.recipient.port, '127.0.0.1');
      up.on('error', () => s.destroy());
      s.on('data', (d) => up.write(d));
      up.on('data', (d) => s.write(d));
      up.on('end', () => {
        ends.push('receiver');
        s.end();
      });
      s.on('close', () => {
        ends.push('sender');
        up.destroy();
      });
    });
    try {
      const to = { ...rx.recipient, port: relay.port };
      await uploadClip({ connector: direct, recipient: to, body: sealed, clipId: header.clipId });
      const live = StreamingUpload.start({ connector: direct, recipient: to, clipId: header.clipId });
      live.write(sealed);
      expect((await live.end()).duplicate).toBe(true);
      for (let waited = 0; ends.length < 2 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      expect(ends).toEqual(['sender', 'sender']);
    } finally {
      await relay.close();
    }
  });

  it('a stream error after the receipt (the http client has let go of the kept-open socket) is harmless', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    let socket!: Socket;
    // As the SOCKS client hands it over: connected, with none of its own listeners left.
    const capture: Connector = async (h, p) => {
      socket = await direct(h, p);
      socket.removeAllListeners('error');
      return socket;
    };
    await uploadClip({ connector: capture, recipient: rx.recipient, body: sealed, clipId: header.clipId });
    // Before the sender's own close (a turn later): node's http client has removed its listeners.
    expect(socket.destroyed).toBe(false);
    expect(() => socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).not.toThrow();
  });

  it('turns refusals into typed, retryable or permanent DeliveryErrors', async () => {
    const unknown = await seal({ from: carol, to: [bob], ogg });
    const e1 = await failure(uploadClip({ connector: direct, recipient: rx.recipient, body: unknown.sealed }));
    expect(e1).toMatchObject({ reason: 'unknown-sender', status: 401, retryable: true, recipient: 'bob' });
    const tampered = Uint8Array.from((await seal({ from: alice, to: [bob], ogg })).sealed);
    tampered[200]! ^= 0xff;
    const e2 = await failure(uploadClip({ connector: direct, recipient: rx.recipient, body: tampered }));
    expect(e2).toMatchObject({ reason: 'tampered', status: 422, retryable: false });
  });

  it('refuses a receipt signed by a key other than the one on the card', async () => {
    const { sealed } = await seal({ from: alice, to: [bob], ogg });
    const impostorCard = { ...rx.recipient, signingKey: carol.signing.id };
    const e = await failure(uploadClip({ connector: direct, recipient: impostorCard, body: sealed }));
    expect(e).toMatchObject({ reason: 'bad-receipt', retryable: true });
  });

  it('reports connect failures with the connector\'s retryable flag', async () => {
    const socksFailure = (code: number): Connector => async () => {
      throw new SocksError('reply', 'x.onion:80', code);
    };
    const badAddress = await failure(uploadClip({ connector: socksFailure(0xf6), recipient: rx.recipient, body: new Uint8Array(10) }));
    expect(badAddress).toMatchObject({ reason: 'connect', retryable: false });
    expect(badAddress.message).toContain('0xF6');
    // Missing client auth heals once the user adds the contact's key: keep the clip queued.
    const noAuth = await failure(uploadClip({ connector: socksFailure(0xf4), recipient: rx.recipient, body: new Uint8Array(10) }));
    expect(noAuth).toMatchObject({ reason: 'connect', retryable: true });
    const notYetPublished = await failure(uploadClip({ connector: socksFailure(0xf0), recipient: rx.recipient, body: new Uint8Array(10) }));
    expect(notYetPublished).toMatchObject({ reason: 'connect', retryable: true });
    const closed = await rogue((s) => s.destroy());
    const dead: Connector = () => direct('127.0.0.1', closed.port + 0);
    await closed.close();
    expect(await failure(uploadClip({ connector: dead, recipient: rx.recipient, body: new Uint8Array(10) }))).toMatchObject({ reason: 'connect', retryable: true });
  });

  it('reports a peer that hangs up, answers nonsense, or never answers', async () => {
    const hangup = await rogue((s) => s.once('data', () => s.destroy()));
    const nonsense = await rogue((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello')));
    const silent = await rogue(() => undefined);
    try {
      const to = (port: number) => ({ ...rx.recipient, port });
      expect(await failure(uploadClip({ connector: direct, recipient: to(hangup.port), body: new Uint8Array(10) }))).toMatchObject({ reason: 'network', retryable: true });
      expect(await failure(uploadClip({ connector: direct, recipient: to(nonsense.port), body: new Uint8Array(10) }))).toMatchObject({ reason: 'bad-response', status: 200 });
      const e = await failure(uploadClip({ connector: direct, recipient: to(silent.port), body: new Uint8Array(10), responseTimeoutMs: 300 }));
      expect(e).toMatchObject({ reason: 'network', retryable: true });
      expect(e.message).toMatch(/no response 300 ms/);
    } finally {
      await Promise.all([hangup.close(), nonsense.close(), silent.close()]);
    }
  });

  it('reports a response cut short of its content-length, or larger than 16 KiB, as a network failure', async () => {
    // The body is taken once content-length bytes are in: fewer, then a hang-up, is a cut answer.
    const cut = await rogue((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"receipt":')));
    const huge = await rogue((s) => s.once('data', () => s.end(`HTTP/1.1 200 OK\r\ncontent-length: 20000\r\n\r\n${'x'.repeat(20000)}`)));
    try {
      const to = (port: number) => ({ ...rx.recipient, port });
      const c = await failure(uploadClip({ connector: direct, recipient: to(cut.port), body: new Uint8Array(10) }));
      expect(c).toMatchObject({ reason: 'network', retryable: true });
      const h = await failure(uploadClip({ connector: direct, recipient: to(huge.port), body: new Uint8Array(10) }));
      expect(h).toMatchObject({ reason: 'network', retryable: true });
      expect(h.message).toMatch(/larger than 16 KiB/);
    } finally {
      await Promise.all([cut.close(), huge.close()]);
    }
  });
});

describe('StreamingUpload', () => {
  it('connects at press time and has the clip on the wire before release', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    let socket: Socket | undefined;
    let connectedAt = 0;
    const watching: Connector = async (h, p) => {
      socket = await direct(h, p);
      connectedAt = performance.now();
      return socket;
    };
    const pressAt = performance.now();
    const upload = StreamingUpload.start({ connector: watching, recipient: rx.recipient, clipId: header.clipId });
    // The "microphone": 400-byte pieces every 10 ms.
    const tail = 400;
    for (let at = 0; at < sealed.length - tail; at += 400) {
      upload.write(sealed.subarray(at, Math.min(at + 400, sealed.length - tail)));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(connectedAt - pressAt).toBeLessThan(200);
    // At release, all but the tail (plus HTTP framing) is already out.
    expect(socket!.bytesWritten).toBeGreaterThan(sealed.length - tail);
    upload.write(sealed.subarray(sealed.length - tail));
    const delivered = await upload.end();
    expect(delivered).toMatchObject({ duplicate: false, bytesSent: sealed.length });
    expect(Buffer.from(await rx.inbox.read(rx.inbox.get(header.clipId)!)).equals(Buffer.from(sealed))).toBe(true);
  });

  /**
   * A live upload with all but the clip's last 300 bytes on the wire, and from then on the socket's
   * writes to the kernel counted (net.Socket's own _write/_writev; a writev counts its chunks).
   */
  async function uploadBeforeRelease(): Promise<{ upload: StreamingUpload; sealed: Uint8Array; cut: number; writes: number[] }> {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    let socket!: Socket;
    const capture: Connector = async (h, p) => (socket = await direct(h, p));
    const upload = StreamingUpload.start({ connector: capture, recipient: rx.recipient, clipId: header.clipId });
    const cut = sealed.length - 300;
    upload.write(sealed.subarray(0, cut));
    while (!socket || socket.bytesWritten < cut) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    const writes: number[] = [];
    const spied = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    for (const name of ['_write', '_writev'] as const) {
      const original = spied[name]!.bind(socket);
      spied[name] = (...args: unknown[]) => {
        writes.push(name === '_writev' ? (args[0] as unknown[]).length : 1);
        return original(...args);
      };
    }
    return { upload, sealed, cut, writes };
  }

  it('sends the release burst (last frames and the chunked terminator) as one TCP write', async () => {
    const { upload, sealed, cut, writes } = await uploadBeforeRelease();
    // Release: the last page's frame, the signature frame, then the end, in one turn.
    upload.write(sealed.subarray(cut, cut + 200));
    upload.write(sealed.subarray(cut + 200));
    const delivered = upload.end();
    expect(writes).toHaveLength(1); // already written, before this turn ends
    expect(writes[0]).toBeGreaterThanOrEqual(3); // chunk framing, both frames and the terminator together
    expect(await delivered).toMatchObject({ duplicate: false, bytesSent: sealed.length });
  });

  it('after hold() (the release), frames sealed turns apart still leave with the end as one TCP write', async () => {
    const { upload, sealed, cut, writes } = await uploadBeforeRelease();
    upload.hold();
    upload.write(sealed.subarray(cut, cut + 200));
    await new Promise((r) => setTimeout(r, 10)); // the signature frame takes a few turns to seal
    upload.write(sealed.subarray(cut + 200));
    await new Promise((r) => setTimeout(r, 10));
    expect(writes).toEqual([]); // held: nothing reached the kernel yet
    const delivered = upload.end();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBeGreaterThanOrEqual(3);
    expect(await delivered).toMatchObject({ duplicate: false, bytesSent: sealed.length });
  });

  it('waitMs counts from the body\'s last byte to the receipt: the peer\'s time, not the radio\'s own before the end', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    // A relay in front of the receiver that holds every answer back 80 ms (the "network").
    const slowAnswers = await rogue((s) => {
      const up = connect(rx.recipient.port, '127.0.0.1');
      up.on('error', () => s.destroy());
      s.on('data', (d) => up.write(d));
      up.on('data', (d) => setTimeout(() => s.write(d), 80));
    });
    try {
      const started = performance.now();
      const upload = StreamingUpload.start({ connector: direct, recipient: { ...rx.recipient, port: slowAnswers.port }, clipId: header.clipId });
      upload.write(sealed.subarray(0, sealed.length - 100));
      await new Promise((r) => setTimeout(r, 150)); // the user still talking: the radio's time
      upload.write(sealed.subarray(sealed.length - 100));
      const delivered = await upload.end();
      const total = performance.now() - started;
      expect(delivered.waitMs).toBeGreaterThanOrEqual(75);
      expect(delivered.waitMs).toBeLessThan(total - 140);
    } finally {
      await slowAnswers.close();
    }
  });

  it('makes room after each page mid-talk, none from the release (hold) until the receipt is checked', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    const scavenge = new RecordingScavenge();
    const seen = scavenge.seen;
    const upload = StreamingUpload.start({ connector: direct, recipient: rx.recipient, clipId: header.clipId, scavenge });
    const cut = sealed.length - 300;
    for (let at = 0; at < cut; at += 1000) {
      upload.write(sealed.subarray(at, Math.min(at + 1000, cut)));
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.length).toBeGreaterThanOrEqual(Math.floor(cut / 1000));
    expect(new Set(seen)).toEqual(new Set(['work']));
    upload.hold();
    upload.write(sealed.subarray(cut, cut + 150));
    upload.write(sealed.subarray(cut + 150));
    const { d, seen: whenDelivered } = await upload.end().then((d) => ({ d, seen: [...seen] }));
    expect(d).toMatchObject({ duplicate: false, bytesSent: sealed.length });
    expect(whenDelivered.slice(whenDelivered.indexOf('timed'))).toEqual(['timed', 'timed-end']);
  });

  it('ends the timed part when a held upload fails (a receipt for another clip, a stream cut after the release)', async () => {
    // A timed part left open would hold off every later scavenge in the process.
    const { sealed } = await seal({ from: alice, to: [bob], ogg });
    const wrongClip = new RecordingScavenge();
    const upload = StreamingUpload.start({ connector: direct, recipient: rx.recipient, clipId: 'f'.repeat(32), scavenge: wrongClip });
    upload.write(sealed.subarray(0, 1000));
    await new Promise((r) => setTimeout(r, 20)); // the stream is open, as mid-talk
    upload.hold();
    upload.write(sealed.subarray(1000));
    await expect(upload.end()).rejects.toMatchObject({ reason: 'bad-receipt' });
    expect(wrongClip.seen.slice(wrongClip.seen.indexOf('timed'))).toEqual(['timed', 'timed-end']);

    const cutOff = new RecordingScavenge();
    let socket!: Socket;
    const keep: Connector = async (host, port) => (socket = await direct(host, port));
    const broken = StreamingUpload.start({ connector: keep, recipient: rx.recipient, clipId: '0'.repeat(32), scavenge: cutOff });
    broken.write(sealed.subarray(0, 1000));
    await new Promise((r) => setTimeout(r, 20));
    broken.hold();
    socket.destroy();
    await expect(broken.end()).rejects.toMatchObject({ reason: 'network' });
    expect(cutOff.seen.slice(cutOff.seen.indexOf('timed'))).toEqual(['timed', 'timed-end']);
  });

  it('a hold() before the stream is open still ends in a delivered clip', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const slow: Connector = async (h, p) => (await gate, direct(h, p));
    const upload = StreamingUpload.start({ connector: slow, recipient: rx.recipient, clipId: header.clipId });
    upload.write(sealed.subarray(0, 1000));
    upload.hold();
    upload.write(sealed.subarray(1000));
    open();
    await new Promise((r) => setTimeout(r, 20));
    expect(await upload.end()).toMatchObject({ duplicate: false, bytesSent: sealed.length });
    expect(Buffer.from(await rx.inbox.read(rx.inbox.get(header.clipId)!)).equals(Buffer.from(sealed))).toBe(true);
  });

  it('a press released before the stream is open (hold, every page and the end queued) is delivered, in one TCP write', async () => {
    // A short press on a circuit still being built: all of it is replayed in the turn the stream opens.
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const writes: number[] = [];
    const slow: Connector = async (h, p) => {
      await gate;
      const socket = await direct(h, p);
      const spied = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
      for (const name of ['_write', '_writev'] as const) {
        const original = spied[name]!.bind(socket);
        spied[name] = (...args: unknown[]) => (writes.push(1), original(...args));
      }
      return socket;
    };
    const upload = StreamingUpload.start({ connector: slow, recipient: rx.recipient, clipId: header.clipId, responseTimeoutMs: 3000 });
    upload.write(sealed.subarray(0, 1000));
    upload.hold();
    upload.write(sealed.subarray(1000));
    const delivered = upload.end();
    open();
    expect(await delivered).toMatchObject({ duplicate: false, bytesSent: sealed.length });
    expect(writes).toEqual([1]);
    expect(Buffer.from(await rx.inbox.read(rx.inbox.get(header.clipId)!)).equals(Buffer.from(sealed))).toBe(true);
  });

  it('an aborted recording stores nothing at the receiver', async () => {
    const { sealed, header } = await seal({ from: alice, to: [bob], ogg });
    const upload = StreamingUpload.start({ connector: direct, recipient: rx.recipient, clipId: header.clipId });
    upload.write(sealed.subarray(0, 500));
    await new Promise((r) => setTimeout(r, 50));
    upload.abort(new Error('microphone unplugged'));
    const e = await upload.result.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(DeliveryError);
    await new Promise((r) => setTimeout(r, 50));
    expect(rx.inbox.get(header.clipId)).toBeUndefined();
  });

  it('stops streaming when the receiver refuses early (garbage in the first bytes)', async () => {
    const upload = StreamingUpload.start({ connector: direct, recipient: rx.recipient, clipId: '0'.repeat(32) });
    upload.write(Buffer.from('this is not an age file at all, and it keeps coming '.repeat(20)));
    const e = await upload.result.then(() => undefined, (x: unknown) => x);
    expect(e).toMatchObject({ reason: 'garbage', status: 415, retryable: false });
    // The microphone keeps going for a moment: those writes are dropped, not thrown.
    expect(() => upload.write(new Uint8Array(100))).not.toThrow();
    expect(() => upload.abort(new Error('released'))).not.toThrow();
    await expect(upload.end()).rejects.toMatchObject({ reason: 'garbage' });
  });
});
