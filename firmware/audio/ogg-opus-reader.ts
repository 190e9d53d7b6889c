// Ogg Opus reader (RFC 7845): finds the Opus logical stream, validates OpusHead and OpusTags,
// and yields audio packets with their granule positions; other logical streams (a signature,
// say) are passed through as raw packets. Works incrementally (OggOpusDemuxer.push) or on a
// whole buffer (readOggOpus). Every defect is an OggFormatError; memory is bounded by the limits.

import { OggDemuxer, type OggPageEvent } from './ogg-demuxer.js';
import { OggFormatError } from './ogg-errors.js';
import { GRANULE_NONE } from './ogg-page.js';
import { decodeOpusHead, isOpusHead, type OpusHead } from './opus-head.js';
import { opusPacketSamples } from './opus-packet.js';
import { decodeOpusTags, MAX_TAGS_BYTES, type OpusTags } from './opus-tags.js';

export interface OggOpusReaderOptions {
  /** Largest packet of any stream, headers included (default 1 MiB). */
  readonly maxPacketBytes?: number;
  /** Most logical streams (default 4). */
  readonly maxStreams?: number;
  /** Most bytes kept from non-Opus streams by readOggOpus (default 1 MiB). */
  readonly maxOtherStreamBytes?: number;
  /**
   * The bytes were verified as a whole already (a clip's signature covers every one): page CRCs
   * are not computed again. Every other check still runs.
   */
  readonly verified?: boolean;
}

export interface OggOpusPacket {
  readonly data: Uint8Array;
  /** Duration in 48 kHz samples, from the packet's TOC. */
  readonly samples: number;
  /** Granule position (48 kHz, pre-skip included) of the packet's last sample, after end trimming. */
  readonly granule: number;
}

export type OggOpusEvent =
  | { readonly kind: 'head'; readonly head: OpusHead }
  | { readonly kind: 'tags'; readonly tags: OpusTags }
  | { readonly kind: 'audio'; readonly packet: OggOpusPacket }
  | { readonly kind: 'other'; readonly serial: number; readonly data: Uint8Array; readonly bos: boolean };

export interface OggOpusSummary {
  readonly serial: number;
  readonly head: OpusHead;
  readonly tags: OpusTags;
  readonly packetCount: number;
  /** Granule position of the first audio sample (0 unless the stream starts at an offset). */
  readonly startGranule: number;
  readonly finalGranule: number;
  /** Playable samples at 48 kHz: final granule minus start and pre-skip. */
  readonly durationSamples: number;
  readonly durationSeconds: number;
}

type Phase = 'head' | 'tags' | 'audio' | 'done';

export class OggOpusDemuxer {
  private readonly ogg: OggDemuxer;
  private serial: number | undefined;
  private phase: Phase = 'head';
  private head: OpusHead | undefined;
  private tags: OpusTags | undefined;
  private startGranule = 0;
  private lastGranule: number | undefined; // end of the last completed page's packets
  private packetCount = 0;

  constructor(options: OggOpusReaderOptions = {}) {
    this.ogg = new OggDemuxer({ maxPacketBytes: options.maxPacketBytes ?? MAX_TAGS_BYTES, maxStreams: options.maxStreams ?? 4, checkCrc: !options.verified });
  }

  push(chunk: Uint8Array): OggOpusEvent[] {
    const events: OggOpusEvent[] = [];
    for (const page of this.ogg.push(chunk)) this.page(page, events);
    return events;
  }

  /** Ends the input; returns what the stream holds, or throws if it is incomplete. */
  end(): OggOpusSummary {
    this.ogg.end();
    if (this.serial === undefined || !this.head) throw new OggFormatError('no-opus-stream', 'no logical stream starts with OpusHead');
    if (this.phase !== 'done' || !this.tags || this.lastGranule === undefined) throw new OggFormatError('truncated', 'the Opus stream ends before its audio');
    const durationSamples = Math.max(0, this.lastGranule - this.startGranule - this.head.preSkip);
    return {
      serial: this.serial,
      head: this.head,
      tags: this.tags,
      packetCount: this.packetCount,
      startGranule: this.startGranule,
      finalGranule: this.lastGranule,
      durationSamples,
      durationSeconds: durationSamples / 48000,
    };
  }

  private page(page: OggPageEvent, events: OggOpusEvent[]): void {
    if (this.serial === undefined && page.bos && page.packets.length > 0 && isOpusHead(page.packets[0]!)) this.serial = page.serial;
    // All BOS pages come first (RFC 3533 grouping), so by the first data page the Opus stream is known.
    if (!page.bos && this.serial === undefined) throw new OggFormatError('no-opus-stream', 'no beginning-of-stream page starts with OpusHead', page.offset);
    if (page.serial !== this.serial) {
      for (const [i, data] of page.packets.entries()) events.push({ kind: 'other', serial: page.serial, data, bos: page.bos && i === 0 });
      return;
    }
    const fail = (problem: 'opus-head' | 'opus-tags' | 'granule' | 'truncated', detail: string) => new OggFormatError(problem, detail, page.offset);
    switch (this.phase) {
      case 'head':
        // RFC 7845 section 3: the BOS page holds OpusHead alone, at granule 0.
        if (page.packets.length !== 1 || page.partialAfter) throw fail('opus-head', 'the OpusHead page must hold exactly one packet');
        if (page.granule !== 0n) throw fail('granule', `OpusHead page has granule ${page.granule}, not 0`);
        this.head = decodeOpusHead(page.packets[0]!, page.offset);
        events.push({ kind: 'head', head: this.head });
        this.phase = 'tags';
        break;
      case 'tags':
        if (page.packets.length === 0) break; // OpusTags continues on the next page
        // OpusTags must complete alone on its last page: audio starts on a fresh page.
        if (page.packets.length !== 1 || page.partialAfter) throw fail('opus-tags', 'audio data shares the page that ends OpusTags');
        this.tags = decodeOpusTags(page.packets[0]!, page.offset);
        if (page.granule !== 0n) throw fail('granule', `OpusTags page has granule ${page.granule}, not 0`);
        events.push({ kind: 'tags', tags: this.tags });
        this.phase = 'audio';
        break;
      case 'audio':
        this.audioPage(page, events);
        break;
      case 'done':
        throw new Error('unreachable: the Ogg demuxer rejects pages after EOS');
    }
    if (page.eos && (this.phase as Phase) !== 'done') {
      if (this.phase === 'audio' && this.lastGranule !== undefined) this.phase = 'done';
      else throw fail('truncated', 'the Opus stream ends before any audio packet');
    }
  }

  private audioPage(page: OggPageEvent, events: OggOpusEvent[]): void {
    const fail = (problem: 'opus-packet' | 'granule', detail: string) => new OggFormatError(problem, detail, page.offset);
    if (page.packets.length === 0) {
      if (page.granule !== GRANULE_NONE && !page.eos) throw fail('granule', `page completes no packet but has granule ${page.granule}`);
      return;
    }
    const durations = page.packets.map((p, i) => {
      const samples = opusPacketSamples(p);
      if (typeof samples === 'string') throw fail('opus-packet', `packet ${this.packetCount + i}: ${samples}`);
      return samples;
    });
    if (page.granule < 0n) throw fail('granule', `page completes packets but has granule ${page.granule}`);
    if (page.granule > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('granule', `granule ${page.granule} is beyond 2^53`);
    const granule = Number(page.granule);
    const sum = durations.reduce((a, b) => a + b, 0);
    let start: number;
    if (this.lastGranule === undefined) {
      // First audio page: a larger granule means the stream starts at an offset; a smaller one is
      // invalid unless this page also ends the stream (then it is end trimming). Section 4.5.
      if (granule < sum && !page.eos) throw fail('granule', `first audio page has granule ${granule}, less than its ${sum} samples`);
      start = granule >= sum ? granule - sum : 0;
      this.startGranule = Math.max(0, start);
    } else {
      start = this.lastGranule;
      const expected = start + sum;
      if (page.eos ? granule > expected || granule < start : granule !== expected) {
        throw fail('granule', `granule ${granule} where the packets give ${expected}${page.eos ? ' (end trimming may only shorten the final page)' : ''}`);
      }
    }
    let at = start;
    for (const [i, data] of page.packets.entries()) {
      at += durations[i]!;
      events.push({ kind: 'audio', packet: { data, samples: durations[i]!, granule: Math.min(at, granule) } });
    }
    this.packetCount += page.packets.length;
    this.lastGranule = granule;
  }
}

export interface OggOtherStream {
  readonly serial: number;
  readonly packets: Uint8Array[];
}

export interface OggOpusFile extends OggOpusSummary {
  readonly packets: OggOpusPacket[];
  readonly otherStreams: OggOtherStream[];
}

/** Reads a complete Ogg Opus file held in memory. */
export function readOggOpus(bytes: Uint8Array, options: OggOpusReaderOptions = {}): OggOpusFile {
  const demuxer = new OggOpusDemuxer(options);
  const limit = options.maxOtherStreamBytes ?? 1 << 20;
  const packets: OggOpusPacket[] = [];
  const others = new Map<number, Uint8Array[]>();
  let otherBytes = 0;
  for (const event of demuxer.push(bytes)) {
    if (event.kind === 'audio') packets.push(event.packet);
    else if (event.kind === 'other') {
      otherBytes += event.data.length;
      if (otherBytes > limit) throw new OggFormatError('too-large', `non-Opus streams hold more than ${limit} bytes`);
      const list = others.get(event.serial) ?? [];
      list.push(event.data);
      others.set(event.serial, list);
    }
  }
  const summary = demuxer.end();
  return { ...summary, packets, otherStreams: [...others].map(([serial, list]) => ({ serial, packets: list })) };
}
