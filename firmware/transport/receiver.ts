// The clip receiver: HTTP/1.1 on 127.0.0.1, reached only through this radio's onion service.
// One endpoint, POST /v1/clip. The body (the sealed clip, possibly still being recorded on the
// other end, sent with chunked encoding) is pushed to the streaming opener chunk by chunk, in the
// turn each arrives (the opener works synchronously), so the clip is verified moments after its
// last byte. The body also goes to the inbox's journal as it arrives (Inbox.beginUpload), so the
// durable write left at its end is small and runs while the clip is checked; the receipt waits
// for both. The size cap is enforced on the bytes as they arrive:
// past it we answer 413 and close the connection without reading the rest.
// Responses are JSON: {"receipt","sig"} on success, {"error": reason, "message"} on refusal.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { createLog } from '../log.js';
import { DiskFullError } from '../store/atomic-file.js';
import type { Inbox, InboxEntry, InboxReservation, LiveUpload } from '../store/inbox.js';
import { acceptClip } from './clip-acceptance.js';
import type { ChannelPolicy, ClipOpener, OpenedInbound } from './clip-opener.js';
import type { ReceiptSigner, SignedReceipt } from './receipt.js';
import { ClipRejection, rejectStatus, type RejectReason } from './rejection.js';
import type { ReplayPolicy } from './replay-window.js';
import { scavengeAhead, type ScavengeAhead } from './scavenge-ahead.js';

const log = createLog('receiver');

export const CLIP_PATH = '/v1/clip';

/**
 * A new clip is announced (and so starts to play: decoding it and handing it to the speaker, a few
 * ms of CPU and a garbage collection's worth of allocation under --jitless) this long after its
 * receipt was written, so that this radio's tor has the CPU to forward the receipt first. Inaudible.
 */
export const ANNOUNCE_AFTER_RECEIPT_MS = 20;

/**
 * Largest live upload journalled as it arrives (Inbox.beginUpload), before its checks. Its bytes
 * are not verified yet, so this bounds what a forged upload can make the radio write to its card;
 * it is ~2 min of speech, and a longer clip is journalled after its checks.
 */
export const RESERVE_MAX_BYTES = 256 * 1024;

export interface ReceiverLimits {
  /** Largest accepted body in bytes. */
  readonly maxBytes: number;
  /** Time allowed for the request line and headers. */
  readonly headersTimeoutMs: number;
  /** Longest pause between body bytes (a held button still produces a page every second or so). */
  readonly bodyIdleMs: number;
  /** Longest whole upload: a press longer than this is cut. */
  readonly requestTimeoutMs: number;
  /** Simultaneous connections; more wait in the kernel's backlog. */
  readonly maxConnections: number;
}

export const defaultLimits: ReceiverLimits = {
  maxBytes: 2 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  bodyIdleMs: 15_000,
  requestTimeoutMs: 5 * 60_000,
  maxConnections: 32,
};

export interface Rejection {
  readonly reason: RejectReason;
  readonly status: number;
  readonly detail: string;
  /** Body bytes read from this request when it was refused. */
  readonly bytesRead: number;
}

export interface ReceiverEvents {
  /** A new clip, stored and answered; `ogg`: its verified audio, when the opener gave it. */
  clip: [entry: InboxEntry, ogg: Uint8Array | undefined];
  duplicate: [InboxEntry];
  rejected: [Rejection];
}

export interface ReceiverOptions {
  inbox: Inbox;
  open: ClipOpener;
  policy: ChannelPolicy;
  signer: ReceiptSigner;
  /** Loopback only: the onion service forwards to it. */
  host?: '127.0.0.1';
  port?: number;
  limits?: Partial<ReceiverLimits>;
  replay?: ReplayPolicy;
  now?: () => number;
  /** Keeps a scavenge out of the last chunk's way (default: the process's own). */
  scavenge?: ScavengeAhead;
}

export interface Receiver {
  readonly port: number;
  readonly events: EventEmitter<ReceiverEvents>;
  close(): Promise<void>;
}

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const limits: ReceiverLimits = { ...defaultLimits, ...options.limits };
  const now = options.now ?? Date.now;
  const scavenge = options.scavenge ?? scavengeAhead;
  const events = new EventEmitter<ReceiverEvents>();
  // Commits (dedupe check + store) run one at a time, so two uploads of one clip can't both store it.
  let commitChain: Promise<unknown> = Promise.resolve();

  const server = createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks the two timeouts above on this period (30 s by default, too coarse for a slowloris).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    keepAliveTimeout: 5_000,
    maxHeaderSize: 8 * 1024,
  });
  server.maxConnections = limits.maxConnections;
  server.timeout = limits.requestTimeoutMs;

  const refuse = (res: ServerResponse, reason: RejectReason, detail: string, bytesRead: number, close: boolean) => {
    const status = rejectStatus[reason];
    const fields = { reason, status, detail, bytesRead };
    if (reason === 'internal') log.error('upload failed', fields);
    // A cut body is everyday on Tor (a sender's tap or cancelled press, a dropped circuit) and the
    // sender's outbox resends a real clip: not worth a warning on this radio.
    else if (reason === 'truncated') log.info(`upload refused: ${reason}`, fields);
    else log.warn(`upload refused: ${reason}`, fields);
    events.emit('rejected', { reason, status, detail, bytesRead });
    if (res.headersSent || res.destroyed) return void res.socket?.destroy();
    const body = JSON.stringify({ error: reason, message: detail });
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...(close ? { connection: 'close' } : {}),
    });
    // Closing (not draining) is what keeps an oversized or hostile body from being read at all.
    res.end(body, () => {
      if (close) res.socket?.destroy();
    });
  };

  const reply = (res: ServerResponse, signed: SignedReceipt, duplicate: boolean) => {
    const body = JSON.stringify(signed);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...(duplicate ? { 'torlk-duplicate': '1' } : {}),
    });
    res.end(body);
  };

  /** Dedupe check and store; with a reservation the journal write is already in flight. */
  const commit = async (opened: OpenedInbound, reserved: InboxReservation | undefined): Promise<{ entry: InboxEntry; duplicate: boolean }> => {
    const inbox = options.inbox;
    const verdict = acceptClip(opened, reserved?.receivedAt ?? now(), inbox.seen, options);
    if (verdict.kind === 'duplicate') return { entry: verdict.entry, duplicate: true };
    try {
      const entry = reserved ? await reserved.commit(opened, opened.stored, verdict.receipt) : await inbox.add(opened, opened.stored, verdict.receipt);
      return { entry, duplicate: false };
    } catch (err) {
      if (err instanceof DiskFullError) throw new ClipRejection('disk-full', err.message);
      throw err;
    }
  };

  /** Begins journalling an upload as it arrives; on any trouble the clip is journalled after its check instead. */
  const beginUpload = (): LiveUpload | undefined => {
    try {
      return options.inbox.beginUpload();
    } catch (err) {
      log.warn('could not journal an upload as it arrives; its clip is stored after its check', { err });
      return undefined;
    }
  };

  // Sockets whose request reached our handler: parser errors on them (a body cut short) are the
  // handler's to report, with the connection still open for its answer.
  const handled = new WeakMap<Socket, () => void>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let cutShort = () => undefined as void;
    handled.set(req.socket, () => cutShort());
    res.on('close', () => handled.delete(req.socket));
    const path = (req.url ?? '').split('?')[0];
    if (path !== CLIP_PATH) return refuse(res, 'not-found', `no endpoint ${path}`, 0, true);
    if (req.method !== 'POST') return refuse(res, 'method', `${req.method} is not allowed, use POST`, 0, true);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limits.maxBytes) {
      return refuse(res, 'oversized', `declared ${declared} bytes, limit ${limits.maxBytes}`, 0, true);
    }

    // A live upload from a sender its tags name is journalled as it arrives (chunks before the
    // tags are held until then), up to RESERVE_MAX_BYTES; its tail is reserved just before the
    // clip's check, and the reservation committed or released (in `finally`).
    let early: Buffer[] | undefined = [];
    let upload: LiveUpload | undefined;
    let reserved: InboxReservation | undefined;
    const journalChunk = (chunk: Buffer) => {
      if (bytesRead > RESERVE_MAX_BYTES) {
        early = undefined;
        upload?.abandon();
        upload = undefined;
        return;
      }
      if (upload) return upload.push(chunk);
      if (!early) return;
      early.push(chunk);
      if (!opening.senderKnown) return;
      upload = beginUpload();
      for (const c of early) upload?.push(c);
      early = undefined;
    };
    const opening = options.open({ beforeCheck: () => void (reserved = upload?.reserve(now())) });
    // Attach now: the opener may reject before we await it (garbage in the first bytes).
    const result = opening.result.then(
      (opened) => ({ opened }),
      (err: unknown) => ({ err }),
    );
    let bytesRead = 0;
    let lastChunkAt = 0;
    let bodyEndedAt = 0;
    let idle: NodeJS.Timeout | undefined;
    // From the body's end until the receipt is handed to the socket (or the upload is refused).
    let endTimed: (() => void) | undefined;
    type Outcome = 'ended' | 'oversized' | 'timeout' | 'truncated' | 'opener-failed';
    try {
      // Event-driven rather than for-await: the first outcome wins, and stopping early must not
      // look like the client aborting.
      const outcome = await new Promise<Outcome>((resolve) => {
        const arm = () => {
          clearTimeout(idle);
          idle = setTimeout(() => resolve('timeout'), limits.bodyIdleMs);
        };
        arm();
        req.on('data', (chunk: Buffer) => {
          lastChunkAt = performance.now();
          arm();
          bytesRead += chunk.length;
          // Past the cap nothing more is read.
          if (bytesRead > limits.maxBytes) return req.pause(), resolve('oversized');
          try {
            opening.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
          } catch {
            req.pause();
            resolve('opener-failed');
            return;
          }
          journalChunk(chunk);
          // Mid-body (the end, if it came with this chunk, is seen first and holds it off).
          scavenge.afterWork();
        });
        req.on('end', () => {
          endTimed = scavenge.timed();
          bodyEndedAt = performance.now();
          clearTimeout(idle);
          opening.end();
          resolve('ended');
        });
        cutShort = () => resolve('truncated');
        req.on('aborted', () => resolve('truncated'));
        req.on('error', () => resolve('truncated'));
        // An opener that gives up early (not an age file) ends the upload without reading the rest.
        void result.then((r) => {
          if ('err' in r) resolve('opener-failed');
        });
      });
      clearTimeout(idle);
      if (outcome === 'oversized') {
        opening.abort(new ClipRejection('oversized', 'cap reached'));
        return refuse(res, 'oversized', `more than ${limits.maxBytes} bytes`, bytesRead, true);
      }
      if (outcome === 'timeout' || outcome === 'truncated') {
        opening.abort(new ClipRejection(outcome, 'upload stopped'));
        const detail = outcome === 'timeout' ? `no body bytes for ${limits.bodyIdleMs} ms` : 'connection closed mid-body';
        return refuse(res, outcome, detail, bytesRead, true);
      }
      const r = await result;
      if ('err' in r) throw r.err;
      const openedAt = performance.now();
      const done = commitChain.then(() => commit(r.opened, reserved));
      commitChain = done.catch(() => undefined);
      const { entry, duplicate } = await done;
      const storedAt = performance.now();
      reply(res, entry.receipt, duplicate);
      // Logged once the receipt is on its way, not in front of it. Timings after the last body
      // byte, which is what the receiver adds to release-to-delivered: workMs from the arrival of
      // the body's last chunk to the receipt handed to the socket, of which verifyMs from the
      // body's end to the opened clip and storeMs from there to the durable entry.
      const ms = (from: number, to: number) => Math.round((to - from) * 10) / 10;
      log.info(duplicate ? 'duplicate upload, original receipt returned' : 'clip stored', {
        clipId: entry.clipId, from: entry.senderName, channel: entry.channel, sequence: entry.sequence, bytes: bytesRead,
        workMs: ms(lastChunkAt, performance.now()), verifyMs: ms(bodyEndedAt, openedAt), storeMs: ms(openedAt, storedAt),
      });
      // Told a moment after the receipt is out of this process, not before: what listens (playback's
      // start, several ms of CPU) would otherwise run while the sender waits and delay the receipt's
      // trip, most on a one-core Zero W where the radio's own tor must forward it. The receipt is a
      // few hundred bytes, which end() hands to the kernel at once; a sender gone meanwhile changes
      // nothing, the clip is stored either way.
      setTimeout(() => {
        if (duplicate) events.emit('duplicate', entry);
        else events.emit('clip', entry, r.opened.ogg);
      }, ANNOUNCE_AFTER_RECEIPT_MS);
    } catch (err) {
      clearTimeout(idle);
      opening.abort(err);
      const finished = req.complete;
      if (err instanceof ClipRejection) return refuse(res, err.reason, err.message, bytesRead, !finished);
      return refuse(res, 'internal', err instanceof Error ? (err.stack ?? err.message) : String(err), bytesRead, true);
    } finally {
      endTimed?.(); // once the receipt or a refusal is handed to the socket (nothing below awaits)
      // Refused, a duplicate or cut off: its journal entries go with the next emptying.
      reserved?.release();
      upload?.abandon();
    }
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      log.error('receiver bug', { err });
      res.socket?.destroy();
    });
  });

  // Requests the HTTP parser refuses before our handler runs: garbage, slow headers, huge headers.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const cutShort = handled.get(socket);
    if (cutShort) return cutShort();
    const reason: RejectReason =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? 'headers-too-large' : 'bad-request';
    const status = rejectStatus[reason];
    log.warn(`upload refused: ${reason}`, { reason, status, detail: err.code ?? err.message });
    events.emit('rejected', { reason, status, detail: err.code ?? err.message, bytesRead: 0 });
    if (!socket.writable) return void socket.destroy();
    // A client that never reads must not pin the socket open: destroy it shortly either way.
    setTimeout(() => socket.destroy(), 1000).unref();
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  log.info('receiver listening', { port });

  return {
    port,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
