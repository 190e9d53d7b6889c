// Uploads one sealed clip to one recipient: POST /v1/clip over a socket from the injected connector
// (SOCKS5 through the radio's tor in production, plain loopback TCP in protocol tests), then checks
// the signed receipt against the recipient's card. The body is either the whole sealed clip (outbox
// retries) or a live body still being produced (the press-to-release path), sent with chunked
// encoding and written to the socket in the same turn of the event loop as it is produced.
import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { createLog } from '../log.js';
import { verifyReceipt, ReceiptError, sha256Hex, type Receipt } from './receipt.js';
import { CLIP_PATH } from './receiver.js';
import { isRejectReason, retryableReasons, type RejectReason } from './rejection.js';
import { scavengeAhead, type ScavengeAhead } from './scavenge-ahead.js';

const log = createLog('sender');

/** Opens a TCP stream to host:port (through tor). Errors may carry `retryable: boolean`. */
export type Connector = (host: string, port: number) => Promise<Socket>;

export interface Recipient {
  /** Contact name, for logs and events. */
  readonly name: string;
  /** The contact's onion address (or 127.0.0.1 in protocol tests). */
  readonly host: string;
  /** Virtual port of their onion service (80). */
  readonly port: number;
  /** Their Ed25519 signing key, base64url, from their card: receipts must verify with it. */
  readonly signingKey: string;
}

export type DeliveryFailure =
  | RejectReason // the receiver refused, with this reason
  | 'connect' // no stream to the recipient (tor down, onion unreachable, SOCKS error)
  | 'network' // the stream broke or the response never came
  | 'bad-response' // the receiver answered something that is not our protocol
  | 'bad-receipt'; // 200, but the receipt does not verify

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly reason: DeliveryFailure,
    /** Whether trying again later can succeed; false means these bytes will never be accepted. */
    readonly retryable: boolean,
    readonly recipient: string,
    detail: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`delivery to ${recipient} failed (${reason}${status ? `, HTTP ${status}` : ''}): ${detail}`, options);
  }
}

export interface Delivered {
  readonly receipt: Receipt;
  /** The receiver already had this clip (our earlier attempt got through); nothing plays twice. */
  readonly duplicate: boolean;
  /** Body bytes we sent. */
  readonly bytesSent: number;
  /**
   * From the body's last byte handed to the socket to the response's arrival: tor's round trip
   * plus the receiver's work, i.e. what this radio waited for (its own work is the rest of a
   * release-to-delivered). The e2e bench splits latency with it.
   */
  readonly waitMs: number;
}

/** Where a live body's bytes go once the request is open (uploadClip gives it to LiveBody.connect). */
export interface BodySink {
  write(chunk: Uint8Array): void;
  /**
   * The release: every byte from here to end() is one burst, held and written with the end as one
   * TCP write (see `burst` in uploadClip), however many turns the last frames take to be sealed.
   */
  hold(): void;
  /** The last byte was written: finish the request and wait for the receipt. */
  end(): void;
  /** The body cannot be completed (the recording failed): the request is cut, nothing is stored. */
  fail(err: Error): void;
}

/** A body still being produced (StreamingUpload): bytes are pushed, not pulled, so none waits. */
export interface LiveBody {
  /** Called once, when the request is open; bytes produced before are handed over at once. */
  connect(sink: BodySink): void;
  /** The receiver answered early or the stream broke: later bytes are dropped. */
  cancel(): void;
}

export interface UploadOptions {
  readonly connector: Connector;
  readonly recipient: Recipient;
  /** The whole sealed clip, or a live body whose bytes arrive as they are produced. */
  readonly body: Uint8Array | LiveBody;
  /** Checked against the receipt when known; otherwise the receipt must match the bytes' SHA-256. */
  readonly clipId?: string;
  /** Gives up on a silent peer: no response this long after the body ended. */
  readonly responseTimeoutMs?: number;
  /** Keeps a scavenge out of a live body's release and receipt (default: the process's own). */
  readonly scavenge?: ScavengeAhead;
}

const MAX_RESPONSE_BYTES = 16 * 1024;

function readResponse(res: IncomingMessage): Promise<string> {
  // A receiver's answers carry content-length: the body is complete with its last byte, a turn of
  // node's stream machinery before 'end' (interpreted JS on the device, between receipt and delivered).
  const declared = Number(res.headers['content-length'] ?? NaN);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      res.off('end', done);
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_RESPONSE_BYTES) return res.destroy(new Error('response larger than 16 KiB'));
      chunks.push(c);
      if (size === declared) done();
    });
    res.on('end', done);
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response cut off')));
  });
}

export async function uploadClip(options: UploadOptions): Promise<Delivered> {
  // A live body's release (hold) to the checked receipt is timed: it ends here, however it went.
  const timed = { end: () => undefined as void };
  try {
    return await upload(options, timed);
  } finally {
    timed.end();
  }
}

async function upload(options: UploadOptions, timed: { end: () => void }): Promise<Delivered> {
  const { recipient, body } = options;
  const scavenge = options.scavenge ?? scavengeAhead;
  const started = performance.now();
  let socket: Socket;
  try {
    socket = await options.connector(recipient.host, recipient.port);
  } catch (err) {
    // Tor calls a missing or wrong client-authorization key (SOCKS 0xF4/0xF5) permanent, and for
    // this stream it is; but the user fixes it by adding the contact's key, after which the queued
    // clip must still go out. Other permanent errors (0xF6 bad address) never heal: drop the clip.
    const code = (err as { code?: unknown }).code;
    const retryable = (err as { retryable?: unknown }).retryable !== false || code === 0xf4 || code === 0xf5;
    throw new DeliveryError('connect', retryable, recipient.name, err instanceof Error ? err.message : String(err), undefined, { cause: err });
  }
  // No Nagle: the last pages, the signature frame and the chunked terminator leave as separate
  // small writes at release, and with Nagle each waited for the ACK of the one before (~10 ms of
  // release-to-delivered on the private network, against ~3 ms for the same path back).
  socket.setNoDelay(true);
  // The stream is kept open behind the answer (`connection: keep-alive` below): node's http client
  // then lets go of the socket, error listener included, and it is closed a turn later by us. A
  // reset in between would otherwise be an uncaught error; while the request is live the client's
  // own listener turns errors into `fail`.
  socket.on('error', () => undefined);
  const whole = body instanceof Uint8Array ? body : undefined;
  let bytesSent = 0;
  let bodyEndedAt = 0;
  let responseAt = 0;
  const hashOfSent = whole ? sha256Hex(whole) : undefined;

  const exchange = new Promise<{ status: number; text: string; duplicate: boolean }>((resolve, reject) => {
    const req = request({
      method: 'POST',
      path: CLIP_PATH,
      host: recipient.host,
      port: recipient.port,
      // No agent: with createConnection alone the request writes to our socket at once. With
      // agent: false, Node 20 held the chunked writes back until the body ended (seen in
      // transport-sender.test.ts), which would defeat streaming.
      createConnection: () => socket,
      headers: {
        // Without an agent Node asks for `connection: close`, and the receiver then ends its side
        // right behind the receipt: its tor's END cell follows the receipt a scheduler run later
        // (~3 ms) and wakes the relays the receipt is still crossing, which then hold the receipt
        // for their next run (seen in the e2e bench as a second, 4-6 ms slower mode of
        // release-to-delivered). Kept open, the stream is closed by us once the receipt is read.
        connection: 'keep-alive',
        'content-type': 'application/octet-stream',
        ...(whole ? { 'content-length': whole.length } : {}),
      },
    });
    let responseTimer: NodeJS.Timeout | undefined;
    const live = whole ? undefined : (body as LiveBody);
    const fail = (err: unknown) => {
      clearTimeout(responseTimer);
      live?.cancel();
      req.destroy();
      socket.destroy();
      reject(err);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      responseAt = performance.now();
      readResponse(res).then(
        (text) => {
          clearTimeout(responseTimer);
          // An early refusal (413, 415...) arrives while we may still be streaming: stop producing.
          live?.cancel();
          resolve({ status: res.statusCode ?? 0, text, duplicate: res.headers['torlk-duplicate'] === '1' });
          // After the receipt is checked and counted (microtasks run first): closing the stream is
          // not on the way to 'delivered'.
          setImmediate(() => socket.destroy());
        },
        fail,
      );
    });
    // Called once the body's last byte is in the socket (end()'s callback).
    const armResponseTimer = () => {
      bodyEndedAt = performance.now();
      responseTimer = setTimeout(() => fail(new Error(`no response ${options.responseTimeoutMs ?? 30_000} ms after the body ended`)), options.responseTimeoutMs ?? 30_000);
    };
    if (whole) {
      bytesSent = whole.length;
      req.end(whole, armResponseTimer);
    } else {
      // One TCP write per burst. Tor's KIST scheduler sends a cell that comes in less than a run
      // interval after its last run only at its next run, at every hop: the release burst (last
      // page, signature frame, chunked terminator) written as three writes reached the peer 5-8 ms
      // later than the same bytes as one. Corked until the event loop's next check phase, or until
      // the body ends (http's end() uncorks the socket fully): the end is what the peer waits for.
      // After hold() (the release) nothing is uncorked before the end: the last page and then the
      // signature frame are sealed turns apart (0.3-1 ms here, jitless), and each write of the
      // release burst is its own trip through every hop's scheduler.
      // Corked through the request, not the socket: http counts its own corks, and its end()
      // uncorks the socket fully only once the socket is attached (a tick after request()). A press
      // released before the stream was open replays hold, pages and end in that tick, and a cork on
      // the socket itself then outlived the end: the body never left (the receiver answered 408).
      let corked = false;
      let held = false;
      const burst = () => {
        if (corked) return;
        corked = true;
        req.cork();
        setImmediate(() => {
          if (held) return;
          corked = false;
          req.uncork();
        });
      };
      live!.connect({
        write: (c) => {
          bytesSent += c.length;
          burst();
          // The writable buffers whatever tor has not taken yet: a microphone cannot be paused,
          // and the receiver's size cap bounds a clip.
          req.write(c);
          // A page mid-talk: room is made after it. The release's own writes come after hold().
          if (!held) scavenge.afterWork();
        },
        hold: () => {
          if (!held) timed.end = scavenge.timed();
          held = true;
          burst();
        },
        end: () => {
          burst();
          req.end(armResponseTimer);
        },
        fail,
      });
    }
  });

  let outcome: { status: number; text: string; duplicate: boolean };
  try {
    outcome = await exchange;
  } catch (err) {
    throw new DeliveryError('network', true, recipient.name, err instanceof Error ? err.message : String(err), undefined, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(outcome.text);
  } catch {
    throw new DeliveryError('bad-response', true, recipient.name, `HTTP ${outcome.status} with a non-JSON body`, outcome.status);
  }
  if (outcome.status !== 200) {
    const reason = (json as { error?: unknown }).error;
    const message = String((json as { message?: unknown }).message ?? '');
    if (!isRejectReason(reason)) throw new DeliveryError('bad-response', true, recipient.name, `HTTP ${outcome.status}: ${message}`, outcome.status);
    throw new DeliveryError(reason, retryableReasons.has(reason), recipient.name, message, outcome.status);
  }
  let receipt: Receipt;
  try {
    receipt = verifyReceipt(json, {
      signingKey: Buffer.from(recipient.signingKey, 'base64url'),
      ...(options.clipId !== undefined ? { clipId: options.clipId } : hashOfSent ? { sha256: hashOfSent } : {}),
    });
  } catch (err) {
    if (!(err instanceof ReceiptError)) throw err;
    // Could be an impostor on the path, or a receiver with a new key: retrying may reach the real one.
    throw new DeliveryError('bad-receipt', true, recipient.name, err.message, 200, { cause: err });
  }
  // An answer before the body's end is never a receipt (the receiver needs every byte to sign one),
  // so bodyEndedAt is set here; clamped anyway, a wait cannot be negative.
  const waitMs = Math.max(0, responseAt - (bodyEndedAt || responseAt));
  log.info('delivered', { to: recipient.name, clip: receipt.clip, bytes: bytesSent, duplicate: outcome.duplicate, ms: Math.round(performance.now() - started), waitMs: Math.round(waitMs * 10) / 10 });
  return { receipt, duplicate: outcome.duplicate, bytesSent, waitMs };
}
