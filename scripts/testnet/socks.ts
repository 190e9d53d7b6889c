// A small SOCKS5 CONNECT (RFC 1928) used by the harness to probe onion reachability through a
// client tor. Names go to tor unresolved (socks5h). Tor's onion-service reply codes 0xF0-0xF7 are
// kept in the error, which the `socks` npm package loses. The firmware has its own client in
// firmware/tor; this one only has to say "connected" or "not yet, because ...".
import { createConnection, type Socket } from 'node:net';

const replyText: Record<number, string> = {
  0x01: 'general failure',
  0x02: 'not allowed by ruleset',
  0x03: 'network unreachable',
  0x04: 'host unreachable',
  0x05: 'connection refused',
  0x06: 'TTL expired',
  0x07: 'command not supported',
  0x08: 'address type not supported',
  0xf0: 'onion descriptor not found',
  0xf1: 'onion descriptor invalid',
  0xf2: 'onion introduction failed',
  0xf3: 'onion rendezvous failed',
  0xf4: 'onion client authorization missing',
  0xf5: 'onion client authorization wrong',
  0xf6: 'onion address invalid',
  0xf7: 'onion introduction timed out',
};

/** SOCKS5 negotiation failed: `reply` is the server's reply code, undefined for transport errors. */
export class HarnessSocksError extends Error {
  override readonly name = 'HarnessSocksError';
  constructor(
    readonly target: string,
    readonly reply: number | undefined,
    detail: string,
  ) {
    super(`SOCKS5 connect to ${target} failed: ${detail}`);
  }
}

/**
 * Connects through the SOCKS5 proxy on 127.0.0.1:socksPort to host:port; resolves the open stream,
 * with any bytes that followed the reply still buffered for the caller's first read.
 */
export function socks5Connect(socksPort: number, host: string, port: number, timeoutMs = 15_000): Promise<Socket> {
  const target = `${host}:${port}`;
  const hostBytes = Buffer.from(host, 'utf8');
  if (hostBytes.length === 0 || hostBytes.length > 255) {
    return Promise.reject(new HarnessSocksError(target, undefined, 'host name must be 1-255 bytes'));
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return Promise.reject(new HarnessSocksError(target, undefined, `bad port ${port}`));
  }
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: socksPort });
    let stage: 'greeting' | 'connect' = 'greeting';
    let buf = Buffer.alloc(0);
    const fail = (reply: number | undefined, detail: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new HarnessSocksError(target, reply, detail));
    };
    const timer = setTimeout(() => fail(undefined, `no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (e) => fail(undefined, e.message));
    socket.once('close', () => fail(undefined, 'proxy closed the connection'));
    socket.once('connect', () => socket.write(Buffer.from([0x05, 0x01, 0x00])));
    // 'readable' + read() rather than 'data': the stream never flows during the handshake, so bytes
    // that follow the reply stay buffered for the caller instead of being emitted to nobody.
    socket.on('readable', function onReadable() {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) buf = Buffer.concat([buf, chunk]);
      if (stage === 'greeting') {
        if (buf.length < 2) return;
        if (buf[0] !== 0x05 || buf[1] !== 0x00) return fail(undefined, `proxy refused no-auth (${buf.subarray(0, 2).toString('hex')})`);
        buf = buf.subarray(2);
        stage = 'connect';
        const portBytes = Buffer.from([port >> 8, port & 0xff]);
        socket.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00, 0x03, hostBytes.length]), hostBytes, portBytes]));
      }
      if (buf.length < 5) return;
      const rep = buf[1] ?? 0xff;
      if (buf[0] !== 0x05) return fail(undefined, `bad reply version ${buf[0]}`);
      if (rep !== 0x00) return fail(rep, `reply 0x${rep.toString(16).padStart(2, '0')} (${replyText[rep] ?? 'unknown'})`);
      const atyp = buf[3];
      const addrLen = atyp === 0x01 ? 4 : atyp === 0x04 ? 16 : atyp === 0x03 ? 1 + (buf[4] ?? 0) : -1;
      if (addrLen < 0) return fail(undefined, `bad reply address type ${atyp}`);
      const total = 4 + addrLen + 2;
      if (buf.length < total) return;
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      const rest = buf.subarray(total);
      if (rest.length) socket.unshift(rest);
      resolve(socket);
    });
  });
}
