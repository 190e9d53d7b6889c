// Control-port authentication (control-spec §3.5 AUTHENTICATE, §3.21 PROTOCOLINFO, §3.24
// AUTHCHALLENGE). SAFECOOKIE is preferred: it proves both sides know the cookie without sending
// it, so a process squatting on the port cannot harvest it. Plain COOKIE is the fallback.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseKeywords } from './control-keywords.js';
import type { ControlConnection } from './control-connection.js';
import type { Reply } from './control-reply-parser.js';
import { TorAuthError } from './errors.js';

export const serverToControllerKey = 'Tor safe cookie authentication server-to-controller hash';
export const controllerToServerKey = 'Tor safe cookie authentication controller-to-server hash';

export interface ProtocolInfo {
  methods: string[];
  cookieFile: string | undefined;
  torVersion: string | undefined;
}

export function parseProtocolInfo(reply: Reply): ProtocolInfo {
  let methods: string[] = [];
  let cookieFile: string | undefined;
  let torVersion: string | undefined;
  for (const line of reply.lines) {
    if (line.text.startsWith('AUTH ')) {
      const kw = parseKeywords(line.text.slice(5));
      methods = (kw.values.get('METHODS') ?? '').split(',').filter(Boolean);
      cookieFile = kw.values.get('COOKIEFILE');
    } else if (line.text.startsWith('VERSION ')) {
      torVersion = parseKeywords(line.text.slice(8)).values.get('Tor');
    }
  }
  return { methods, cookieFile, torVersion };
}

/** The two SAFECOOKIE proofs: HMAC-SHA256(key, cookie ‖ clientNonce ‖ serverNonce). */
export function safeCookieHashes(
  cookie: Uint8Array,
  clientNonce: Uint8Array,
  serverNonce: Uint8Array,
): { serverHash: Buffer; clientHash: Buffer } {
  const message = Buffer.concat([cookie, clientNonce, serverNonce]);
  return {
    serverHash: createHmac('sha256', serverToControllerKey).update(message).digest(),
    clientHash: createHmac('sha256', controllerToServerKey).update(message).digest(),
  };
}

export interface AuthOptions {
  /** Overrides the cookie path tor reports (e.g. when tor runs in another mount namespace). */
  cookieFile?: string;
  /** Injectable for tests of the fallback order. */
  randomNonce?: () => Uint8Array;
}

/** Runs PROTOCOLINFO and authenticates the connection. Resolves with what tor reported. */
export async function authenticate(control: ControlConnection, options: AuthOptions = {}): Promise<ProtocolInfo> {
  const info = parseProtocolInfo(await control.command('PROTOCOLINFO 1'));
  const cookiePath = options.cookieFile ?? info.cookieFile;
  if (info.methods.includes('NULL')) {
    await control.command('AUTHENTICATE');
    return info;
  }
  const cookieMethods = ['SAFECOOKIE', 'COOKIE'].filter((m) => info.methods.includes(m));
  if (cookieMethods.length === 0 || !cookiePath) {
    throw new TorAuthError(
      `tor offers no cookie authentication (methods: ${info.methods.join(',') || 'none'}); start it with CookieAuthentication 1`,
    );
  }
  let cookie: Buffer;
  try {
    cookie = await readFile(cookiePath);
  } catch (err) {
    throw new TorAuthError(`cannot read tor's control cookie ${cookiePath}: ${(err as Error).message}`);
  }
  if (cookie.length !== 32) throw new TorAuthError(`tor's control cookie ${cookiePath} has ${cookie.length} bytes, not 32`);

  if (cookieMethods[0] === 'SAFECOOKIE') {
    const clientNonce = Buffer.from(options.randomNonce?.() ?? randomBytes(32));
    const reply = await control.command(`AUTHCHALLENGE SAFECOOKIE ${clientNonce.toString('hex')}`);
    const kw = parseKeywords(reply.lines[0]?.text.replace(/^AUTHCHALLENGE /, '') ?? '');
    const serverHash = Buffer.from(kw.values.get('SERVERHASH') ?? '', 'hex');
    const serverNonce = Buffer.from(kw.values.get('SERVERNONCE') ?? '', 'hex');
    if (serverHash.length !== 32 || serverNonce.length !== 32) {
      throw new TorAuthError('tor sent a malformed AUTHCHALLENGE reply');
    }
    const expected = safeCookieHashes(cookie, clientNonce, serverNonce);
    if (!timingSafeEqual(expected.serverHash, serverHash)) {
      throw new TorAuthError(`the process on tor's control port does not know the cookie in ${cookiePath}`);
    }
    await control.command(`AUTHENTICATE ${expected.clientHash.toString('hex')}`, [expected.clientHash.toString('hex')]);
    return info;
  }
  await control.command(`AUTHENTICATE ${cookie.toString('hex')}`, [cookie.toString('hex')]);
  return info;
}
