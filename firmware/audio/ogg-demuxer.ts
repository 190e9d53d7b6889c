// Ogg physical-stream demultiplexer (RFC 3533): cuts a byte stream into pages, pages into the
// packets of each logical stream, and enforces the framing rules (BOS pages first and grouped,
// consecutive sequence numbers, continuation flags, EOS last). Bytes may arrive in any chunking;
// memory stays bounded by one page plus the configured packet limit per stream.

import { OggFormatError } from './ogg-errors.js';
import { decodeOggPage, OGG_MAX_PAGE_BYTES, type OggPage } from './ogg-page.js';

export interface OggDemuxLimits {
  /** Largest packet accepted from any stream. */
  readonly maxPacketBytes: number;
  /** Most logical streams accepted in one physical stream. */
  readonly maxStreams: number;
  /** false: page CRCs are not checked (bytes already verified as a whole, see decodeOggPage). */
  readonly checkCrc?: boolean;
}

/** One page's worth of a logical stream: the packets that complete on it. */
export interface OggPageEvent {
  readonly serial: number;
  readonly offset: number;
  readonly bos: boolean;
  readonly eos: boolean;
  readonly granule: bigint;
  readonly packets: Uint8Array[];
  /** The page ends inside a packet that continues on the stream's next page. */
  readonly partialAfter: boolean;
}

interface StreamState {
  nextSequence: number;
  partial: Uint8Array[];
  partialBytes: number;
  ended: boolean;
}

export class OggDemuxer {
  private readonly streams = new Map<number, StreamState>();
  private buffer: Uint8Array = new Uint8Array(0);
  private bufferOffset = 0; // position of buffer[0] in the whole stream
  private dataStarted = false;
  private sawPage = false;

  constructor(private readonly limits: OggDemuxLimits) {}

  /** Feeds bytes; returns the pages completed by them. Throws OggFormatError on the first defect. */
  push(chunk: Uint8Array): OggPageEvent[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer, 0);
    joined.set(chunk, this.buffer.length);
    const events: OggPageEvent[] = [];
    let at = 0;
    for (;;) {
      const parsed = decodeOggPage(joined, at, this.bufferOffset, this.limits.checkCrc ?? true);
      if (!parsed) break;
      events.push(this.accept(parsed.page, this.bufferOffset + at));
      at += parsed.length;
    }
    this.buffer = joined.slice(at);
    this.bufferOffset += at;
    if (this.buffer.length > OGG_MAX_PAGE_BYTES) throw new Error('unreachable: an incomplete page is never this long');
    return events;
  }

  /** Declares the input finished; throws if it stopped inside a page or before every stream's EOS. */
  end(): void {
    if (this.buffer.length > 0) throw new OggFormatError('truncated', `input ends inside a page (${this.buffer.length} bytes left over)`, this.bufferOffset);
    if (!this.sawPage) throw new OggFormatError('truncated', 'input holds no Ogg page', 0);
    for (const [serial, s] of this.streams) {
      if (!s.ended) throw new OggFormatError('truncated', `stream ${serial} has no end-of-stream page`, this.bufferOffset);
    }
  }

  private accept(page: OggPage, offset: number): OggPageEvent {
    const bad = (detail: string) => new OggFormatError('stream-structure', detail, offset);
    this.sawPage = true;
    let stream = this.streams.get(page.serial);
    if (page.bos) {
      if (stream) throw bad(`second beginning-of-stream page for stream ${page.serial}`);
      if (this.dataStarted) throw new OggFormatError('chained', `stream ${page.serial} begins after other streams' data pages; chained streams are not supported`, offset);
      if (this.streams.size >= this.limits.maxStreams) throw new OggFormatError('too-large', `more than ${this.limits.maxStreams} logical streams`, offset);
      if (page.continued) throw bad('a beginning-of-stream page cannot continue a packet');
      stream = { nextSequence: page.sequence, partial: [], partialBytes: 0, ended: false };
      this.streams.set(page.serial, stream);
    } else {
      if (!stream) throw bad(`page for stream ${page.serial}, which never began`);
      this.dataStarted = true;
    }
    if (stream.ended) throw bad(`page after the end of stream ${page.serial}`);
    if (page.sequence !== stream.nextSequence) {
      throw new OggFormatError('sequence', `stream ${page.serial} page ${page.sequence} where ${stream.nextSequence} was expected (a page is missing or repeated)`, offset);
    }
    stream.nextSequence = (stream.nextSequence + 1) >>> 0;
    if (page.continued !== stream.partial.length > 0) {
      throw bad(page.continued ? 'page continues a packet but the previous page ended on a packet boundary' : 'previous page ended inside a packet but this page does not continue it');
    }
    const packets: Uint8Array[] = [];
    let bodyAt = 0;
    for (const value of page.lacing) {
      const segment = page.body.subarray(bodyAt, bodyAt + value);
      bodyAt += value;
      stream.partialBytes += value;
      if (stream.partialBytes > this.limits.maxPacketBytes) {
        throw new OggFormatError('too-large', `stream ${page.serial} packet exceeds ${this.limits.maxPacketBytes} bytes`, offset);
      }
      stream.partial.push(segment);
      if (value < 255) {
        packets.push(concat(stream.partial, stream.partialBytes));
        stream.partial = [];
        stream.partialBytes = 0;
      }
    }
    const partialAfter = stream.partial.length > 0;
    if (page.eos) {
      if (partialAfter) throw bad(`end-of-stream page of stream ${page.serial} ends inside a packet`);
      stream.ended = true;
    }
    return { serial: page.serial, offset, bos: page.bos, eos: page.eos, granule: page.granule, packets, partialAfter };
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return new Uint8Array(parts[0]!);
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
