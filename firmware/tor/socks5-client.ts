// A SOCKS5 CONNECT client (RFC 1928, RFC 1929 for stream-isolation credentials) for tor's SOCKS
// port. Hand-written (about 150 lines) because the `socks` package loses tor's extended reply
// codes. The host name always goes to tor (ATYP 3, "socks5h"): .onion names cannot be resolved
// locally and must not leak to DNS. The returned socket suits http.request({createConnection}).
import net from 'node:net';
import { SocksError } from './socks-error.js';

export interface SocksConnectOptions {
  /** Tor's SOCKS address; default 127.0.0.1. */
  socksHost?: string;
  socksPort: number;
  /** Destination name, e.g. "<56 chars>.onion". Sent to tor unresolved. */
  host: string;
  port: number;
  /** Our own limit for the whole handshake, rendezvous included (default 60 s; tor's SocksTimeout is 120 s). */
  timeoutMs?: number;
  /** Tor isolates streams with different credentials onto different circuits (IsolateSOCKSAuth). */
  isolation?: { username: string; password: string };
  signal?: AbortSignal;
}

/** What the handshake reader wants next, fed bytes in any split. Pure; exported for tests. */
export type ReadResult = { done: false } | { done: true; rest: Buffer } | { done: true; error: { failure: 'reply' | 'protocol'; code?: number; detail?: string } };

/**
 * Reads the server's side of the handshake: method choice, optional auth status, CONNECT reply.
 * `usesAuth` says whether we offered username/password.
 */
export class Socks5HandshakeReader {
  private buffered = Buffer.alloc(0);
  private stage: 'method' | 'auth' | 'reply' = 'method';

  constructor(private readonly usesAuth: boolean) {}

  push(chunk: Uint8Array): ReadResult {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const b = this.buffered;
      if (this.stage === 'method') {
        if (b.length < 2) return { done: false };
        if (b[0] !== 0x05) return protocol(`not a SOCKS5 server (version byte 0x${hex(b[0])})`);
        const wanted = this.usesAuth ? 0x02 : 0x00;
        if (b[1] !== wanted) return protocol(`server chose authentication method 0x${hex(b[1])}`);
        this.buffered = b.subarray(2);
        this.stage = this.usesAuth ? 'auth' : 'reply';
        continue;
      }
      if (this.stage === 'auth') {
        if (b.length < 2) return { done: false };
        if (b[0] !== 0x01) return protocol(`bad auth reply version 0x${hex(b[0])}`);
        if (b[1] !== 0x00) return protocol('SOCKS username/password rejected');
        this.buffered = b.subarray(2);
        this.stage = 'reply';
        continue;
      }
      if (b.length < 2) return { done: false };
      if (b[0] !== 0x05) return protocol(`bad reply version 0x${hex(b[0])}`);
      // Tor sends the full reply even on failure; the code is all we need, so fail fast.
      if (b[1] !== 0x00) return { done: true, error: { failure: 'reply', code: b[1] as number } };
      if (b.length < 4) return { done: false };
      if (b[2] !== 0x00) return protocol(`reserved byte is 0x${hex(b[2])}`);
      const atyp = b[3];
      let addrLen: number;
      if (atyp === 0x01) addrLen = 4;
      else if (atyp === 0x04) addrLen = 16;
      else if (atyp === 0x03) {
        if (b.length < 5) return { done: false };
        addrLen = 1 + (b[4] as number);
      } else return protocol(`unknown address type 0x${hex(atyp)}`);
      const total = 4 + addrLen + 2;
      if (b.length < total) return { done: false };
      return { done: true, rest: Buffer.from(b.subarray(total)) };
    }
  }
}

/** The client's greeting and CONNECT request, written in one go (tor accepts pipelining). */
export function socks5Request(host: string, port: number, isolation?: { username: string; password: string }): Buffer {
  const name = Buffer.from(host, 'utf8');
  if (name.length < 1 || name.length > 255) throw new TypeError(`SOCKS host name must be 1–255 bytes: ${JSON.stringify(host)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`not a TCP port: ${port}`);
  const parts: Buffer[] = [Buffer.from(isolation ? [0x05, 0x01, 0x02] : [0x05, 0x01, 0x00])];
  if (isolation) {
    const u = Buffer.from(isolation.username, 'utf8');
    const p = Buffer.from(isolation.password, 'utf8');
    if (u.length < 1 || u.length > 255 || p.length < 1 || p.length > 255) {
      throw new TypeError('SOCKS isolation username and password must be 1–255 bytes');
    }
    parts.push(Buffer.from([0x01, u.length]), u, Buffer.from([p.length]), p);
  }
  parts.push(Buffer.from([0x05, 0x01, 0x00, 0x03, name.length]), name, Buffer.from([port >> 8, port & 0xff]));
  return Buffer.concat(parts);
}

/** Opens a stream to host:port through tor. Rejects with SocksError. */
export function socksConnect(options: SocksConnectOptions): Promise<net.Socket> {
  const destination = `${options.host}:${options.port}`;
  const request = socks5Request(options.host, options.port, options.isolation); // validates before any I/O
  return new Promise((resolve, reject) => {
    const socket = net.connect(options.socksPort, options.socksHost ?? '127.0.0.1');
    const reader = new Socks5HandshakeReader(options.isolation !== undefined);
    let settled = false;
    let connected = false;
    const fail = (err: SocksError) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(
      () => fail(new SocksError('timeout', destination, undefined, `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => fail(new SocksError('aborted', destination, undefined, 'aborted'));
    const onError = (err: NodeJS.ErrnoException) =>
      fail(
        new SocksError(connected ? 'closed' : 'proxy-unreachable', destination, undefined, `${err.code ?? err.message}`),
      );
    const onClose = () => fail(new SocksError('closed', destination, undefined, 'tor closed the connection during the handshake'));
    // 'readable' + read() rather than 'data': the socket must not be left in flowing mode, or the
    // peer's first bytes could be emitted before the caller (e.g. http) has attached its listener.
    const onReadable = () => {
      let chunk: Buffer | null;
      while (!settled && (chunk = socket.read() as Buffer | null) !== null) {
        const result = reader.push(chunk);
        if (!result.done) continue;
        if ('error' in result) {
          fail(new SocksError(result.error.failure, destination, result.error.code, result.error.detail));
          return;
        }
        settled = true;
        cleanup();
        if (result.rest.length > 0) socket.unshift(result.rest); // early bytes from the peer belong to the caller
        resolve(socket);
      }
    };
    function cleanup() {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('readable', onReadable);
      socket.off('error', onError);
      socket.off('close', onClose);
    }
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('readable', onReadable);
    socket.once('connect', () => {
      connected = true;
      socket.write(request);
    });
  });
}

function protocol(detail: string): ReadResult {
  return { done: true, error: { failure: 'protocol', detail } };
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0');
}
