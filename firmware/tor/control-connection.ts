// One long-lived connection to tor's control port. Commands are written as they come and tor
// answers them strictly in order, so replies are matched to a FIFO of waiters; 650 events go to
// listeners by event name. Reusable for any tor (the testnet's authorities and relays too).
import net from 'node:net';
import { createLog } from '../log.js';
import { ControlReplyParser, replyMessage, type Reply, type ReplyLine } from './control-reply-parser.js';
import { ControlClosedError, ControlProtocolError, ControlReplyError } from './errors.js';

const log = createLog('tor:control');

export type ControlTarget = { host?: string; port: number } | { path: string };

export interface ControlEvent {
  /** Event keyword, e.g. "STATUS_CLIENT", "HS_DESC". */
  name: string;
  /** Text of the first line after the keyword. */
  text: string;
  lines: ReplyLine[];
}

export type EventListener = (event: ControlEvent) => void;

interface Waiter {
  verb: string;
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

export class ControlConnection {
  private readonly parser = new ControlReplyParser();
  private readonly waiters: Waiter[] = [];
  private readonly listeners = new Map<string, Set<EventListener>>();
  private readonly closeListeners = new Set<(err: Error | undefined) => void>();
  private readonly subscribed = new Set<string>();
  private closedWith: Error | undefined;
  private isClosed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.shutdown(new ControlClosedError(`control connection failed: ${err.message}`)));
    socket.on('close', () => this.shutdown(new ControlClosedError('control connection closed by tor')));
  }

  /** Connects; rejects with ControlClosedError if nothing listens there. */
  static connect(target: ControlTarget, timeoutMs = 10_000): Promise<ControlConnection> {
    return new Promise((resolve, reject) => {
      const socket =
        'path' in target ? net.connect(target.path) : net.connect(target.port, target.host ?? '127.0.0.1');
      const where = 'path' in target ? target.path : `${target.host ?? '127.0.0.1'}:${target.port}`;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ControlClosedError(`control port ${where} did not accept within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ControlConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new ControlClosedError(`cannot reach tor's control port ${where}: ${err.message}`));
      });
    });
  }

  /** Wraps an already connected socket (tests, unix sockets opened elsewhere). */
  static fromSocket(socket: net.Socket): ControlConnection {
    return new ControlConnection(socket);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends one command line and resolves with tor's reply, whatever its status. */
  request(command: string): Promise<Reply> {
    if (/[\r\n]/.test(command)) throw new TypeError('a control command is one line: CR and LF are not allowed');
    const verb = command.split(' ', 1)[0] ?? command;
    if (this.isClosed) return Promise.reject(this.closedWith ?? new ControlClosedError('control connection is closed'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ verb, resolve, reject });
      log.debug('send', { verb });
      this.socket.write(command + '\r\n');
    });
  }

  /**
   * Like request(), but a non-2xx reply rejects with ControlReplyError. Tor echoes bad arguments
   * in its errors ("553 Invalid private key ..."), so every string in `secrets` is blanked out of
   * the error text before it can reach a log.
   */
  async command(command: string, secrets: readonly string[] = []): Promise<Reply> {
    const reply = await this.request(command);
    if (reply.code < 200 || reply.code > 299) {
      let text = replyMessage(reply);
      for (const secret of secrets) if (secret) text = text.split(secret).join('<secret>');
      throw new ControlReplyError(command.split(' ', 1)[0] ?? command, reply.code, text);
    }
    return reply;
  }

  /** GETINFO for several keys; values by key. */
  async getInfo(...keys: string[]): Promise<Map<string, string>> {
    const reply = await this.command(`GETINFO ${keys.join(' ')}`);
    const out = new Map<string, string>();
    for (const line of reply.lines) {
      const eq = line.text.indexOf('=');
      if (eq > 0) out.set(line.text.slice(0, eq), line.data ?? line.text.slice(eq + 1));
    }
    return out;
  }

  /** Listens for one event keyword; returns a function that removes the listener. Call SETEVENTS yourself. */
  on(eventName: string, listener: EventListener): () => void {
    let set = this.listeners.get(eventName);
    if (!set) this.listeners.set(eventName, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Adds event names to this connection's SETEVENTS set. SETEVENTS replaces the whole set, so
   * every part of the firmware subscribes through here instead of sending its own SETEVENTS.
   */
  async subscribe(...eventNames: string[]): Promise<void> {
    const missing = eventNames.filter((n) => !this.subscribed.has(n));
    if (missing.length === 0) return;
    for (const n of missing) {
      if (!/^[A-Z_]+$/.test(n)) throw new TypeError(`not a tor event name: ${JSON.stringify(n)}`);
      this.subscribed.add(n);
    }
    try {
      await this.command(`SETEVENTS ${[...this.subscribed].join(' ')}`);
    } catch (err) {
      for (const n of missing) this.subscribed.delete(n);
      throw err;
    }
  }

  onClose(listener: (err: Error | undefined) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Closes the socket; waiting commands reject with ControlClosedError. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    const gone = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.shutdown(undefined);
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 1000);
    await gone;
    clearTimeout(timer);
  }

  private onData(chunk: Buffer): void {
    let replies: Reply[];
    try {
      replies = this.parser.push(chunk);
    } catch (err) {
      // Once framing is lost every later reply would be matched to the wrong command.
      this.shutdown(err as ControlProtocolError);
      this.socket.destroy();
      return;
    }
    for (const reply of replies) {
      if (reply.code >= 600 && reply.code < 700) this.dispatch(reply);
      else {
        const waiter = this.waiters.shift();
        if (!waiter) log.warn('reply with no command waiting', { code: reply.code });
        else waiter.resolve(reply);
      }
    }
  }

  private dispatch(reply: Reply): void {
    const first = reply.lines[0];
    if (!first) return;
    const space = first.text.indexOf(' ');
    const name = space < 0 ? first.text : first.text.slice(0, space);
    const event: ControlEvent = { name, text: space < 0 ? '' : first.text.slice(space + 1), lines: reply.lines };
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        listener(event);
      } catch (err) {
        log.error('event listener threw', { event: name, err });
      }
    }
  }

  private shutdown(err: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closedWith = err ?? new ControlClosedError('control connection closed');
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(
        new ControlClosedError(`control connection closed before tor answered ${waiter.verb}: ${this.closedWith.message}`),
      );
    }
    for (const listener of this.closeListeners) listener(err);
  }
}
