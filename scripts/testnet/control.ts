// A minimal tor control-port connection for the test harness: cookie authentication, commands
// answered in order, and asynchronous 650 events. The firmware's full client (firmware/tor) is
// written in parallel; this one only needs what the harness uses to watch its own nodes, and it is
// hand-written because no well-kept npm control-port library exists.
import { createConnection, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';

/** A reply that is not 2xx, or a connection that closed with commands outstanding. */
export class ControlCommandError extends Error {
  override readonly name = 'ControlCommandError';
  constructor(
    readonly node: string,
    readonly command: string,
    readonly reply: string,
  ) {
    super(`${node}: tor refused "${command.split(' ')[0]}": ${reply}`);
  }
}

export interface ControlReply {
  readonly status: number;
  /** Each reply line without its "NNN-" prefix; a "+" data block is joined into its line with "\n". */
  readonly lines: string[];
}

type Waiter = { command: string; resolve: (r: ControlReply) => void; reject: (e: Error) => void };

/**
 * Splits the control-port byte stream into replies (RFC-like "NNN-", "NNN+" ... ".", "NNN ").
 * Kept separate from the socket so tests feed it bytes directly.
 */
export class ControlReplyReader {
  private buffered = '';
  private lines: string[] = [];
  private dataBlock: string[] | undefined;

  constructor(private readonly onReply: (r: ControlReply) => void) {}

  push(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).replace(/\r$/, '');
      this.buffered = this.buffered.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (this.dataBlock) {
      if (line === '.') {
        const last = this.lines.length - 1;
        this.lines[last] = [this.lines[last], ...this.dataBlock].join('\n');
        this.dataBlock = undefined;
      } else {
        this.dataBlock.push(line.startsWith('..') ? line.slice(1) : line);
      }
      return;
    }
    const m = /^(\d{3})([- +])(.*)$/.exec(line);
    if (!m) throw new SyntaxError(`malformed control reply line ${JSON.stringify(line)}`);
    const [, code, sep, text] = m as unknown as [string, string, string, string];
    this.lines.push(text);
    if (sep === '+') this.dataBlock = [];
    else if (sep === ' ') {
      const reply = { status: Number(code), lines: this.lines };
      this.lines = [];
      this.onReply(reply);
    }
  }
}

export class HarnessControl {
  private readonly waiters: Waiter[] = [];
  private readonly eventListeners = new Set<(event: string) => void>();
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly node: string,
  ) {
    const reader = new ControlReplyReader((r) => this.dispatch(r));
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      try {
        reader.push(d);
      } catch (e) {
        socket.destroy(e as Error);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closedError = new ControlCommandError(node, 'connection', 'control connection closed');
      for (const w of this.waiters.splice(0)) w.reject(this.closedError);
    });
  }

  /** Connects to 127.0.0.1:port and authenticates with the cookie tor wrote into `cookiePath`. */
  static async connect(node: string, port: number, cookiePath: string): Promise<HarnessControl> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(s));
      s.once('error', (e) => reject(new ControlCommandError(node, 'connect', `127.0.0.1:${port}: ${e.message}`)));
    });
    const control = new HarnessControl(socket, node);
    try {
      // Tor opens the control listener before it writes the cookie; its answer to PROTOCOLINFO comes
      // from the main loop, which runs only after the cookie is on disk. It also names the file.
      const info = await control.command('PROTOCOLINFO 1');
      const named = /COOKIEFILE="((?:[^"\\]|\\.)*)"/.exec(info.lines.join('\n'))?.[1]?.replace(/\\(.)/g, '$1');
      const cookie = await readFile(named ?? cookiePath);
      await control.command(`AUTHENTICATE ${cookie.toString('hex')}`);
    } catch (e) {
      control.close();
      throw e;
    }
    return control;
  }

  /** Sends one command line; resolves with a 2xx reply, rejects with ControlCommandError otherwise. */
  command(line: string): Promise<ControlReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.waiters.push({ command: line, resolve, reject });
      this.socket.write(`${line}\r\n`);
    });
  }

  /** Subscribes to asynchronous events ("650 ..." replies, given without the code). */
  onEvent(listener: (event: string) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  close(): void {
    this.socket.destroy();
  }

  private dispatch(reply: ControlReply): void {
    if (reply.status === 650) {
      const event = reply.lines.join('\n');
      for (const l of this.eventListeners) l(event);
      return;
    }
    const w = this.waiters.shift();
    if (!w) return;
    if (reply.status >= 200 && reply.status < 300) w.resolve(reply);
    else w.reject(new ControlCommandError(this.node, w.command, `${reply.status} ${reply.lines.join(' ')}`));
  }
}
