// Protocol tests of the control connection and cookie authentication against a scripted loopback
// peer that speaks tor's reply format (the real-tor tests are in test/integration/tor-*.test.ts).
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { authenticate, safeCookieHashes, parseProtocolInfo } from '../../firmware/tor/control-auth.js';
import { ControlConnection, type ControlEvent } from '../../firmware/tor/control-connection.js';
import { ControlReplyParser } from '../../firmware/tor/control-reply-parser.js';
import { ControlClosedError, ControlProtocolError, ControlReplyError, TorAuthError } from '../../firmware/tor/errors.js';
import { scriptedControlPeer, type Script, type ScriptedPeer } from '../fixtures/tor/scripted-control-peer.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function scriptedTor(script: Script): Promise<ScriptedPeer> {
  const peer = await scriptedControlPeer(script);
  cleanups.push(() => peer.close());
  return peer;
}

describe('ControlConnection', () => {
  it('matches pipelined replies to commands in order and routes 650 events to listeners', async () => {
    const { control } = await scriptedTor((line) => {
      if (line === 'GETINFO version') return '650 STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED\n250-version=0.4.9.11\n250 OK\n';
      if (line === 'GETINFO config-text') return '250+config-text=\nSocksPort 0\n.\n250 OK\n';
      return '510 Unrecognized command\n';
    });
    const events: ControlEvent[] = [];
    control.on('STATUS_CLIENT', (e) => events.push(e));
    const [a, b, c] = await Promise.allSettled([
      control.getInfo('version'),
      control.getInfo('config-text'),
      control.command('BOGUS'),
    ]);
    expect(a).toEqual({ status: 'fulfilled', value: new Map([['version', '0.4.9.11']]) });
    expect(b).toEqual({ status: 'fulfilled', value: new Map([['config-text', 'SocksPort 0']]) });
    expect(c.status).toBe('rejected');
    expect((c as PromiseRejectedResult).reason).toBeInstanceOf(ControlReplyError);
    expect((c as PromiseRejectedResult).reason).toMatchObject({ command: 'BOGUS', code: 510 });
    expect(events).toEqual([
      { name: 'STATUS_CLIENT', text: 'NOTICE CIRCUIT_ESTABLISHED', lines: [{ code: 650, sep: ' ', text: 'STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED' }] },
    ]);
  });

  it('keeps one SETEVENTS set that grows with each subscriber', async () => {
    const { control, received } = await scriptedTor(() => '250 OK\n');
    await control.subscribe('STATUS_CLIENT');
    await control.subscribe('HS_DESC', 'STATUS_CLIENT');
    await control.subscribe('HS_DESC');
    expect(received).toEqual(['SETEVENTS STATUS_CLIENT', 'SETEVENTS STATUS_CLIENT HS_DESC']);
    await expect(control.subscribe('bad name')).rejects.toThrow(TypeError);
  });

  it('blanks secrets out of tor’s error text', async () => {
    const { control } = await scriptedTor(() => '553 Invalid private key "c2VjcmV0"\n');
    const err = await control.command('ONION_CLIENT_AUTH_ADD x x25519:c2VjcmV0', ['c2VjcmV0']).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ControlReplyError);
    expect(String(err)).not.toContain('c2VjcmV0');
    expect(String(err)).toContain('<secret>');
  });

  it('refuses a command containing CR or LF (no command injection)', async () => {
    const { control } = await scriptedTor(() => '250 OK\n');
    expect(() => control.request('GETINFO version\r\nSIGNAL HALT')).toThrow(TypeError);
  });

  it('rejects waiting commands with ControlClosedError when tor goes away', async () => {
    const { control, peer } = await scriptedTor(() => undefined);
    const pending = control.command('GETINFO version');
    await new Promise((r) => setTimeout(r, 50));
    peer().destroy();
    await expect(pending).rejects.toThrow(ControlClosedError);
    await expect(control.command('GETINFO version')).rejects.toThrow(ControlClosedError);
    expect(control.closed).toBe(true);
  });

  it('closes on garbage rather than mismatching later replies', async () => {
    const { control } = await scriptedTor(() => 'HTTP/1.0 400 Bad Request\n');
    const closed = new Promise<Error | undefined>((r) => control.onClose(r));
    await expect(control.command('GETINFO version')).rejects.toThrow(ControlClosedError);
    expect(await closed).toBeInstanceOf(ControlProtocolError);
  });

  it('reports an unreachable control port as ControlClosedError', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    await expect(ControlConnection.connect({ port })).rejects.toThrow(/cannot reach tor's control port/);
  });
});

describe('SAFECOOKIE', () => {
  it('computes both hashes per control-spec §3.24 (vector computed with openssl dgst -hmac)', () => {
    const { serverHash, clientHash } = safeCookieHashes(Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3));
    expect(serverHash.toString('hex')).toBe('1830d2de6e061e60adfa2c0c2a9257b7126e51b074f39bd4519d89229df08827');
    expect(clientHash.toString('hex')).toBe('8d81b806c8314911da68057896783b1f28f640a588c9a2cfe902d371806bbf1a');
  });

  it('parses the recorded PROTOCOLINFO reply', () => {
    const bytes = Buffer.from(
      '250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/tmp/a \\"b\\"/control_auth_cookie"\r\n250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n',
    );
    const info = parseProtocolInfo(new ControlReplyParser().push(bytes)[0]!);
    expect(info).toEqual({ methods: ['COOKIE', 'SAFECOOKIE'], cookieFile: '/tmp/a "b"/control_auth_cookie', torVersion: '0.4.9.11' });
  });
});

describe('authenticate()', () => {
  const cookie = Buffer.alloc(32, 0x5a);
  function cookieFile(bytes: Buffer = cookie): string {
    const dir = mkdtempSync(join(tmpdir(), 'torlk-auth-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'control_auth_cookie');
    writeFileSync(path, bytes);
    return path;
  }
  // A peer that behaves like tor: answers the challenge with an honest (or forged) server hash.
  function fakeTor(methods: string, path: string, opts: { forge?: boolean; reject?: boolean } = {}): Script {
    const serverNonce = Buffer.alloc(32, 9);
    let clientNonce = Buffer.alloc(0);
    return (line) => {
      if (line === 'PROTOCOLINFO 1') return `250-PROTOCOLINFO 1\n250-AUTH METHODS=${methods} COOKIEFILE="${path}"\n250-VERSION Tor="0.4.9.11"\n250 OK\n`;
      if (line.startsWith('AUTHCHALLENGE SAFECOOKIE ')) {
        clientNonce = Buffer.from(line.split(' ')[2]!, 'hex');
        const key = opts.forge ? Buffer.alloc(32) : cookie;
        const hash = createHmac('sha256', 'Tor safe cookie authentication server-to-controller hash')
          .update(Buffer.concat([key, clientNonce, serverNonce]))
          .digest('hex');
        return `250 AUTHCHALLENGE SERVERHASH=${hash.toUpperCase()} SERVERNONCE=${serverNonce.toString('hex').toUpperCase()}\n`;
      }
      if (line.startsWith('AUTHENTICATE ')) {
        if (opts.reject) return '515 Authentication failed: Safe cookie response did not match expected value.\n';
        const expected = methods.includes('SAFECOOKIE')
          ? safeCookieHashes(cookie, clientNonce, serverNonce).clientHash.toString('hex')
          : cookie.toString('hex');
        return line === `AUTHENTICATE ${expected}` ? '250 OK\n' : '515 Authentication failed\n';
      }
      return '510 Unrecognized command\n';
    };
  }

  it('prefers SAFECOOKIE when tor offers it', async () => {
    const path = cookieFile();
    const { control, received } = await scriptedTor(fakeTor('COOKIE,SAFECOOKIE', path));
    const info = await authenticate(control);
    expect(info.torVersion).toBe('0.4.9.11');
    expect(received.map((l) => l.split(' ')[0])).toEqual(['PROTOCOLINFO', 'AUTHCHALLENGE', 'AUTHENTICATE']);
  });

  it('falls back to COOKIE', async () => {
    const path = cookieFile();
    const { control, received } = await scriptedTor(fakeTor('COOKIE', path));
    await authenticate(control);
    expect(received).toEqual(['PROTOCOLINFO 1', `AUTHENTICATE ${cookie.toString('hex')}`]);
  });

  it('refuses a peer that does not know the cookie, before sending any proof', async () => {
    const path = cookieFile();
    const { control, received } = await scriptedTor(fakeTor('SAFECOOKIE', path, { forge: true }));
    await expect(authenticate(control)).rejects.toThrow(TorAuthError);
    expect(received.some((l) => l.startsWith('AUTHENTICATE'))).toBe(false);
  });

  it('reports tor refusing the proof as a reply error without the proof in it', async () => {
    const path = cookieFile();
    const { control } = await scriptedTor(fakeTor('SAFECOOKIE', path, { reject: true }));
    const err = await authenticate(control).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'ControlReplyError', code: 515 });
  });

  it('gives a clear TorAuthError for: no cookie method, unreadable cookie, short cookie, bad challenge', async () => {
    const path = cookieFile();
    const a = await scriptedTor(fakeTor('HASHEDPASSWORD', path));
    await expect(authenticate(a.control)).rejects.toThrow(/CookieAuthentication 1/);
    const b = await scriptedTor(fakeTor('SAFECOOKIE', '/nonexistent/control_auth_cookie'));
    await expect(authenticate(b.control)).rejects.toThrow(/cannot read tor's control cookie/);
    const c = await scriptedTor(fakeTor('COOKIE', cookieFile(Buffer.alloc(16))));
    await expect(authenticate(c.control)).rejects.toThrow(/16 bytes, not 32/);
    const d = await scriptedTor((line) =>
      line === 'PROTOCOLINFO 1'
        ? `250-AUTH METHODS=SAFECOOKIE COOKIEFILE="${path}"\n250 OK\n`
        : '250 AUTHCHALLENGE SERVERHASH=00 SERVERNONCE=zz\n',
    );
    await expect(authenticate(d.control)).rejects.toThrow(/malformed AUTHCHALLENGE/);
  });
});
