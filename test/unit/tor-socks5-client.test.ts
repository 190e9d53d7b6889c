// Protocol tests of the SOCKS5 client: the handshake reader on recorded and adversarial server
// bytes split at every boundary, and socksConnect against a tiny scripted loopback server. The
// tests against real tor (F4 from a real onion, ECONNREFUSED from a dead tor) are integration tests.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { SocksError, socksReplyCodes } from '../../firmware/tor/socks-error.js';
import { Socks5HandshakeReader, socks5Request, socksConnect, type ReadResult } from '../../firmware/tor/socks5-client.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function feedSplit(bytes: Buffer, cut: number, auth = false): ReadResult {
  const reader = new Socks5HandshakeReader(auth);
  const first = reader.push(bytes.subarray(0, cut));
  // Once the reader is done, later bytes go straight to the caller, after the reader's rest.
  if (first.done) return 'rest' in first ? { done: true, rest: Buffer.concat([first.rest, bytes.subarray(cut)]) } : first;
  return reader.push(bytes.subarray(cut));
}

// What tor 0.4.9.11 sends: method choice, then a reply with ATYP 1 0.0.0.0:0.
const torSuccess = Buffer.from([0x05, 0x00, 0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
const torF4 = Buffer.from([0x05, 0x00, 0x05, 0xf4, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);

describe('Socks5HandshakeReader', () => {
  it('accepts tor’s success reply split at every boundary, keeping trailing peer bytes', () => {
    const bytes = Buffer.concat([torSuccess, Buffer.from('HTTP/1.1')]);
    for (let i = 0; i <= bytes.length; i++) {
      const r = feedSplit(bytes, i);
      expect(r.done && 'rest' in r && r.rest.toString()).toBe('HTTP/1.1');
    }
  });

  it('reads domain and IPv6 bound addresses of any length', () => {
    const domain = Buffer.concat([Buffer.from([5, 0, 5, 0, 0, 3, 7]), Buffer.from('example'), Buffer.from([0, 80, 0x42])]);
    const v6 = Buffer.concat([Buffer.from([5, 0, 5, 0, 0, 4]), Buffer.alloc(16), Buffer.from([1, 2])]);
    for (const [bytes, rest] of [[domain, 1], [v6, 0]] as const) {
      for (let i = 0; i <= bytes.length; i++) {
        const r = feedSplit(bytes, i);
        expect(r.done && 'rest' in r && r.rest.length).toBe(rest);
      }
    }
  });

  it('reports tor’s extended code 0xF4 at every split', () => {
    for (let i = 0; i <= torF4.length; i++) {
      expect(feedSplit(torF4, i)).toEqual({ done: true, error: { failure: 'reply', code: 0xf4 } });
    }
  });

  it('handles the username/password sub-negotiation (stream isolation)', () => {
    const bytes = Buffer.from([0x05, 0x02, 0x01, 0x00, ...torSuccess.subarray(2)]);
    for (let i = 0; i <= bytes.length; i++) expect(feedSplit(bytes, i, true)).toMatchObject({ done: true, rest: Buffer.alloc(0) });
    expect(feedSplit(Buffer.from([0x05, 0x02, 0x01, 0x01]), 4, true)).toMatchObject({ error: { failure: 'protocol' } });
  });

  it.each([
    ['a SOCKS4 server', [0x04, 0x5a]],
    ['no acceptable method', [0x05, 0xff]],
    ['a method we did not offer', [0x05, 0x02]],
    ['a bad reply version', [0x05, 0x00, 0x04, 0x00]],
    ['a non-zero reserved byte', [0x05, 0x00, 0x05, 0x00, 0x01, 0x01]],
    ['an unknown address type', [0x05, 0x00, 0x05, 0x00, 0x00, 0x09]],
    ['HTTP from a web server', [...Buffer.from('HTTP/1.1 400')]],
  ])('rejects %s as a protocol error at every split', (_name, raw) => {
    const bytes = Buffer.from(raw);
    for (let i = 0; i <= bytes.length; i++) expect(feedSplit(bytes, i)).toMatchObject({ done: true, error: { failure: 'protocol' } });
  });

  it('waits for more on every strict prefix of a valid reply', () => {
    for (let i = 0; i < torSuccess.length; i++) expect(new Socks5HandshakeReader(false).push(torSuccess.subarray(0, i))).toEqual({ done: false });
  });
});

describe('socks5Request', () => {
  it('sends the name unresolved (ATYP 3, socks5h) and the port big-endian', () => {
    expect(socks5Request('ab.onion', 80)).toEqual(
      Buffer.from([5, 1, 0, 5, 1, 0, 3, 8, ...Buffer.from('ab.onion'), 0, 80]),
    );
    expect(socks5Request('x', 65535, { username: 'u', password: 'p' })).toEqual(
      Buffer.from([5, 1, 2, 1, 1, 0x75, 1, 0x70, 5, 1, 0, 3, 1, 0x78, 0xff, 0xff]),
    );
  });
  it('rejects names and ports that cannot be encoded', () => {
    expect(() => socks5Request('', 80)).toThrow(TypeError);
    expect(() => socks5Request('a'.repeat(256), 80)).toThrow(TypeError);
    expect(() => socks5Request('a', 0)).toThrow(TypeError);
    expect(() => socks5Request('a', 70000)).toThrow(TypeError);
    expect(() => socks5Request('a', 80, { username: '', password: 'p' })).toThrow(TypeError);
  });
});

describe('SocksError classification', () => {
  it.each([
    [0xf0, true], [0xf1, false], [0xf2, true], [0xf3, true], [0xf4, false], [0xf5, false], [0xf6, false], [0xf7, true],
    [0x01, true], [0x02, false], [0x04, true], [0x06, true], [0x07, false], [0x08, false],
  ])('code %i retryable=%s', (code, retryable) => {
    const err = new SocksError('reply', 'x.onion:80', code);
    expect(err.retryable).toBe(retryable);
    expect(err.code).toBe(code);
    expect(err.message).toContain(`0x${code.toString(16).padStart(2, '0').toUpperCase()}`);
    expect(err.message).toContain(socksReplyCodes[code]!.meaning);
  });
  it('treats an unknown code as permanent and says so', () => {
    const err = new SocksError('reply', 'x:1', 0x99);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/unknown reply code \(SOCKS 0x99\)/);
  });
});

/** A loopback server that answers each client with the given bytes (then optionally more). */
async function scriptedSocks(answer: (req: Buffer, socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (req) => answer(req, socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

describe('socksConnect against a scripted server', () => {
  it('returns a socket http.request can use, with no byte of the response lost', async () => {
    const port = await scriptedSocks((req, socket) => {
      // Everything in one write: handshake reply and the HTTP response right behind it.
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'),
      );
      expect(req.subarray(3, 7)).toEqual(Buffer.from([5, 1, 0, 3]));
      socket.write(torSuccess);
    });
    const socket = await socksConnect({ socksPort: port, host: 'peer.onion', port: 80, timeoutMs: 5000 });
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({ createConnection: () => socket, host: 'peer.onion', path: '/' }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('hello');
  });

  it('keeps peer bytes that arrive in the same chunk as the handshake reply', async () => {
    const port = await scriptedSocks((_req, socket) => socket.write(Buffer.concat([torSuccess, Buffer.from('early')])));
    const socket = await socksConnect({ socksPort: port, host: 'peer.onion', port: 80 });
    cleanups.push(() => socket.destroy());
    await new Promise((r) => setTimeout(r, 20)); // nothing may be emitted before we listen
    const data = await new Promise<string>((r) => socket.once('data', (d) => r(d.toString())));
    expect(data).toBe('early');
  });

  it('rejects with the extended code, one byte at a time', async () => {
    const port = await scriptedSocks((_req, socket) => {
      let i = 0;
      const tick = setInterval(() => (i < torF4.length ? socket.write(torF4.subarray(i, ++i)) : clearInterval(tick)), 2);
      cleanups.push(() => clearInterval(tick));
    });
    const err = await socksConnect({ socksPort: port, host: 'peer.onion', port: 80 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocksError);
    expect(err).toMatchObject({ failure: 'reply', code: 0xf4, retryable: false, destination: 'peer.onion:80' });
  });

  it('times out on a server that never answers (a stalled rendezvous)', async () => {
    const port = await scriptedSocks(() => {});
    const t0 = performance.now();
    const err = await socksConnect({ socksPort: port, host: 'peer.onion', port: 80, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ failure: 'timeout', retryable: true });
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('reports a closed connection mid-handshake as retryable', async () => {
    const port = await scriptedSocks((_req, socket) => socket.end(Buffer.from([5, 0, 5])));
    await expect(socksConnect({ socksPort: port, host: 'peer.onion', port: 80 })).rejects.toMatchObject({ failure: 'closed', retryable: true });
  });

  it('reports a dead SOCKS port as proxy-unreachable (tor not ready), retryable', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    const err = await socksConnect({ socksPort: port, host: 'peer.onion', port: 80 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ failure: 'proxy-unreachable', retryable: true });
    expect(String(err)).toMatch(/ECONNREFUSED/);
  });

  it('stops when aborted, and validates arguments before connecting', async () => {
    const port = await scriptedSocks(() => {});
    const ac = new AbortController();
    const p = socksConnect({ socksPort: port, host: 'peer.onion', port: 80, signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ failure: 'aborted', retryable: false });
    expect(() => socksConnect({ socksPort: port, host: '', port: 80 })).toThrow(TypeError);
  });
});

describe('Socks5HandshakeReader on arbitrary bytes', () => {
  fcTest.prop([fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 64 }), fc.boolean()])(
    'never throws, and a split never changes the outcome',
    (bytes, cut, auth) => {
      const whole = new Socks5HandshakeReader(auth).push(bytes);
      const split = feedSplit(Buffer.from(bytes), Math.min(cut, bytes.length), auth);
      expect(split).toEqual(whole.done && 'rest' in whole ? { done: true, rest: whole.rest } : whole);
    },
  );
});
