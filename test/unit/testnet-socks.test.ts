// The harness's SOCKS5 probe against recorded tor replies, delivered split at every byte boundary,
// plus the bad inputs it must refuse before sending anything.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { HarnessSocksError, socks5Connect } from '../../scripts/testnet/socks.js';

// tor 0.4.9.11's answers: method choice, then CONNECT success (IPv4 0.0.0.0:0) or an onion error.
const methodOk = [0x05, 0x00];
const connected = [0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
const descNotFound = [0x05, 0xf0, 0x00, 0x01, 0, 0, 0, 0, 0, 0];

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/**
 * A loopback peer playing tor's side: the first two bytes of `reply` answer the greeting, the rest
 * answer the CONNECT request; each part is written in pieces cut at the offsets in `cuts`.
 */
async function peer(reply: number[], cuts: number[]): Promise<{ port: number; received: Promise<Buffer> }> {
  let gotAll: (b: Buffer) => void = () => {};
  const received = new Promise<Buffer>((r) => (gotAll = r));
  const bytes = Buffer.from(reply);
  const writePieces = async (sock: Socket, from: number, to: number) => {
    let at = from;
    for (const cut of [...cuts.filter((c) => c > from && c < to), to]) {
      if (cut > at) sock.write(bytes.subarray(at, cut));
      at = cut;
      await new Promise((r) => setImmediate(r));
    }
  };
  const server = createServer((sock: Socket) => {
    // Without this, Nagle holds each later piece until the client's delayed ACK (~40 ms).
    sock.setNoDelay(true);
    let seen = Buffer.alloc(0);
    let phase = 0;
    sock.on('data', async (d: Buffer) => {
      seen = Buffer.concat([seen, d]);
      if (phase === 0 && seen.length >= 3) {
        phase = 1;
        await writePieces(sock, 0, Math.min(2, bytes.length));
        if (bytes.length <= 2) sock.end();
      }
      if (phase === 1 && seen.length >= 3 + 5 && seen.length >= 3 + 5 + (seen[7] ?? 0) + 2) {
        phase = 2;
        gotAll(seen);
        await writePieces(sock, 2, bytes.length);
        if (bytes.length < methodOk.length + connected.length) sock.end();
      }
    });
    sock.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, received };
}

describe('harness SOCKS5 probe', () => {
  const success = [...methodOk, ...connected, 0x48, 0x49];
  test.each(Array.from({ length: success.length - 1 }, (_, i) => i + 1))('success split at byte %i; bytes after the reply stay readable', async (cut) => {
    const { port, received } = await peer(success, [cut]);
    const socket = await socks5Connect(port, 'example.onion', 80, 2000);
    const request = await received;
    expect([...request]).toEqual([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, 13, ...Buffer.from('example.onion'), 0x00, 80]);
    // Read late, after the peer's last piece has had time to arrive: nothing may be lost meanwhile.
    await new Promise((r) => setTimeout(r, 20));
    let early = '';
    await new Promise<void>((r) => {
      socket.on('data', (d: Buffer) => {
        early += d.toString();
        if (early.length >= 2) r();
      });
      setTimeout(r, 1000);
    });
    expect(early).toBe('HI');
    socket.destroy();
  });

  const failure = [...methodOk, ...descNotFound];
  test.each(Array.from({ length: failure.length - 1 }, (_, i) => i + 1))('0xF0 split at byte %i keeps the code', async (cut) => {
    const { port } = await peer(failure, [cut]);
    const err = await socks5Connect(port, 'example.onion', 80, 2000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessSocksError);
    expect((err as HarnessSocksError).reply).toBe(0xf0);
    expect((err as Error).message).toMatch(/reply 0xf0 \(onion descriptor not found\)/);
  });

  test.each([
    [[0x05, 0xff], /proxy refused no-auth/],
    [[0x04, 0x00], /proxy refused no-auth/],
    [[...methodOk, 0x04, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0], /bad reply version 4/],
    [[...methodOk, 0x05, 0x00, 0x00, 0x07, 0, 0], /bad reply address type 7/],
    [[...methodOk, 0x05, 0x00, 0x00], /proxy closed the connection/],
    [[0x05], /proxy closed the connection/],
  ])('adversarial reply %j is a typed error', async (reply, message) => {
    const { port } = await peer(reply, []);
    await expect(socks5Connect(port, 'example.onion', 80, 2000)).rejects.toThrow(message);
  });

  test('a silent proxy times out', async () => {
    const server = createServer(() => {});
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await expect(socks5Connect(port, 'example.onion', 80, 200)).rejects.toThrow(/no answer within 200 ms/);
  });

  test('nothing listening: transport error without a reply code', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const err = await socks5Connect(port, 'example.onion', 80, 2000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessSocksError);
    expect((err as HarnessSocksError).reply).toBeUndefined();
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  test.each([
    ['', 80, /host name must be 1-255 bytes/],
    ['x'.repeat(256), 80, /host name must be 1-255 bytes/],
    ['example.onion', 0, /bad port 0/],
    ['example.onion', 65536, /bad port 65536/],
    ['example.onion', 8.5, /bad port 8.5/],
  ])('bad target %j:%d is refused before connecting', async (host, port, message) => {
    await expect(socks5Connect(1, host, port)).rejects.toThrow(message);
  });
});
