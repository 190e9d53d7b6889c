// Incremental parser for tor control-port replies (control-spec §2.3 "Replies from Tor to the
// controller"). Hand-written: no maintained npm library speaks tor's control protocol.
//
//   Reply     = *(MidReplyLine / DataReplyLine) EndReplyLine
//   MidReply  = StatusCode "-" text CRLF
//   DataReply = StatusCode "+" text CRLF  then data lines, dot-stuffed, ended by "." CRLF
//   EndReply  = StatusCode " " text CRLF
//
// Bytes arrive in arbitrary chunks; nothing is decoded until a whole line is buffered, so a split
// inside a multi-byte character or a CRLF is harmless. Asynchronous replies (status 6xx) are
// collected apart from the synchronous one, so an event never corrupts a command's reply.
import { ControlProtocolError } from './errors.js';

export interface ReplyLine {
  code: number;
  /** '-' mid line, '+' line followed by a data block, ' ' last line. */
  sep: '-' | '+' | ' ';
  text: string;
  /** The data block after a '+' line, dot-unstuffed, lines joined with "\n", no final newline. */
  data?: string;
}

export interface Reply {
  /** Status of the final line; it decides success (2xx), error (4xx/5xx) or event (6xx). */
  code: number;
  lines: ReplyLine[];
}

export interface ParserLimits {
  /** Longest accepted line in bytes, excluding CRLF. */
  maxLineBytes: number;
  /** Largest accepted reply (all lines and data) in bytes. */
  maxReplyBytes: number;
}

export const defaultParserLimits: ParserLimits = { maxLineBytes: 64 * 1024, maxReplyBytes: 4 * 1024 * 1024 };

interface Pending {
  lines: ReplyLine[];
  bytes: number;
}

export class ControlReplyParser {
  private readonly limits: ParserLimits;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private sync: Pending = { lines: [], bytes: 0 };
  private async: Pending = { lines: [], bytes: 0 };
  /** Set while inside a data block: the line that opened it, and whether it belongs to an async reply. */
  private dataBlock: { line: ReplyLine; chunks: string[]; isAsync: boolean } | undefined;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.limits = { ...defaultParserLimits, ...limits };
  }

  /** Feeds bytes; returns the replies completed by them, in arrival order. Throws ControlProtocolError. */
  push(chunk: Uint8Array): Reply[] {
    const done: Reply[] = [];
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf < 0) break;
      const piece = Buffer.from(chunk.buffer, chunk.byteOffset + start, lf - start);
      this.checkLineLength(this.partialBytes + piece.length);
      const whole = this.partial.length ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      this.partialBytes = 0;
      const end = whole.length > 0 && whole[whole.length - 1] === 0x0d ? whole.length - 1 : whole.length;
      const reply = this.line(whole.toString('utf8', 0, end));
      if (reply) done.push(reply);
      start = lf + 1;
    }
    if (start < chunk.length) {
      const rest = Buffer.from(chunk.buffer, chunk.byteOffset + start, chunk.length - start);
      this.checkLineLength(this.partialBytes + rest.length);
      this.partial.push(Buffer.from(rest)); // copy: the caller may reuse its buffer
      this.partialBytes += rest.length;
    }
    return done;
  }

  /** True when no partial line or reply is buffered (a clean boundary). */
  get idle(): boolean {
    return this.partialBytes === 0 && !this.dataBlock && this.sync.lines.length === 0 && this.async.lines.length === 0;
  }

  private checkLineLength(bytes: number): void {
    // +1 allows the CR of a CRLF that has not been stripped yet.
    if (bytes > this.limits.maxLineBytes + 1) {
      throw new ControlProtocolError(`control reply line longer than ${this.limits.maxLineBytes} bytes`);
    }
  }

  private line(text: string): Reply | undefined {
    if (this.dataBlock) {
      const block = this.dataBlock;
      if (text === '.') {
        block.line.data = block.chunks.join('\n');
        this.dataBlock = undefined;
        return undefined;
      }
      this.grow(block.isAsync ? this.async : this.sync, text.length + 1);
      block.chunks.push(text.startsWith('.') ? text.slice(1) : text);
      return undefined;
    }
    const match = /^([0-9]{3})([ +-])(.*)$/s.exec(text);
    if (!match) throw new ControlProtocolError(`malformed control reply line: ${JSON.stringify(text.slice(0, 80))}`);
    const code = Number(match[1]);
    const sep = match[2] as ReplyLine['sep'];
    const line: ReplyLine = { code, sep, text: match[3] ?? '' };
    const isAsync = code >= 600 && code < 700;
    const pending = isAsync ? this.async : this.sync;
    this.grow(pending, text.length + 2);
    pending.lines.push(line);
    if (sep === '+') {
      this.dataBlock = { line, chunks: [], isAsync };
      return undefined;
    }
    if (sep === '-') return undefined;
    const reply: Reply = { code, lines: pending.lines };
    if (isAsync) this.async = { lines: [], bytes: 0 };
    else this.sync = { lines: [], bytes: 0 };
    return reply;
  }

  private grow(pending: Pending, bytes: number): void {
    pending.bytes += bytes;
    if (pending.bytes > this.limits.maxReplyBytes) {
      throw new ControlProtocolError(`control reply larger than ${this.limits.maxReplyBytes} bytes`);
    }
  }
}

/** "ServiceID=abc" lines of a reply as a map (first occurrence wins); data blocks give their data. */
export function replyKeyValues(reply: Reply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of reply.lines) {
    const eq = line.text.indexOf('=');
    if (eq <= 0) continue;
    const key = line.text.slice(0, eq);
    if (!out.has(key)) out.set(key, line.data ?? line.text.slice(eq + 1));
  }
  return out;
}

/** The reply's text for error messages: the last line, which holds tor's explanation. */
export function replyMessage(reply: Reply): string {
  return reply.lines.map((l) => l.text).join(' / ');
}
