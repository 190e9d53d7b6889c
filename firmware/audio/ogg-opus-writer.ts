// Streaming Ogg Opus writer (RFC 7845 over RFC 3533). Hand-written: no well-kept npm package
// writes Ogg Opus (prism-media only demuxes; the `ogg` package is a second native addon).
//
// Packets go in as the microphone produces them and complete pages come out at once, so a clip
// can be uploaded while the user is still talking. flush() closes the current page early for the
// transport; end() writes the last page with the end-trim granule and the EOS flag. To keep the
// EOS flag on a page that carries audio (never an empty EOS page), flush() always holds back the
// newest packet: it is written by the next flush or by end().

import { randomBytes } from 'node:crypto';
import { OPUS_RATES } from '../../hardware/i2s-audio/encoder.js';
import { OggWriterError } from './ogg-errors.js';
import { encodeOggPage, lacingFor, pagesForPacket } from './ogg-page.js';
import { encodeOpusHead } from './opus-head.js';
import { opusPacketSamples } from './opus-packet.js';
import { encodeOpusTags, MAX_TAGS_BYTES, type OpusComment } from './opus-tags.js';

/** Largest audio packet that fits one page (255 lacing values); Opus packets are far smaller. */
const MAX_AUDIO_PACKET_BYTES = 254 * 255 + 254;

export interface OggOpusWriterOptions {
  /** Rate the encoder was fed (OpusHead's input sample rate). */
  readonly inputSampleRate: number;
  readonly channels?: 1 | 2;
  /** Encoder lookahead in 48 kHz samples (libopus OPUS_GET_LOOKAHEAD scaled to 48 kHz). */
  readonly preSkip: number;
  readonly vendor?: string;
  readonly comments?: readonly OpusComment[];
  /** Logical stream serial number; random by default, as RFC 3533 recommends. */
  readonly serial?: number;
  /** Audio per page (48 kHz samples) before a page is closed on its own; 1 s like opusenc. */
  readonly maxPageSamples?: number;
}

interface QueuedPacket {
  readonly data: Uint8Array;
  readonly samples: number;
}

export class OggOpusWriter {
  readonly serial: number;
  private readonly options: OggOpusWriterOptions;
  private readonly maxPageSamples: number;
  private sequence = 0;
  private granule = 0; // 48 kHz samples in packets already written to pages
  private queue: QueuedPacket[] = [];
  private queuedSamples = 0;
  private queuedLacing = 0;
  private ready: Uint8Array[] = [];
  private ended = false;
  private packets = 0;

  constructor(options: OggOpusWriterOptions) {
    const { inputSampleRate, preSkip, channels = 1 } = options;
    // The rates libopus accepts; end() converts the caller's sample count from this rate.
    if (!OPUS_RATES.includes(inputSampleRate)) {
      throw new OggWriterError(`input sample rate ${inputSampleRate} Hz is not an Opus rate (${OPUS_RATES.join(', ')})`);
    }
    if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) throw new OggWriterError(`pre-skip ${preSkip} is not a 16-bit sample count`);
    if (channels !== 1 && channels !== 2) throw new OggWriterError(`channels must be 1 or 2, got ${String(channels)}`);
    this.maxPageSamples = options.maxPageSamples ?? 48000;
    if (!Number.isInteger(this.maxPageSamples) || this.maxPageSamples < 1) throw new OggWriterError(`maxPageSamples ${this.maxPageSamples} must be a positive integer`);
    this.serial = options.serial ?? randomBytes(4).readUInt32LE(0);
    if (!Number.isInteger(this.serial) || this.serial < 0 || this.serial > 0xffffffff) throw new OggWriterError(`serial ${this.serial} is not a 32-bit unsigned integer`);
    this.options = options;
    const tags = encodeOpusTags({ vendor: options.vendor ?? 'torlk', comments: [...(options.comments ?? [])] }, MAX_TAGS_BYTES);
    // RFC 7845 section 3: OpusHead alone on the BOS page, OpusTags on its own page(s), granule 0.
    this.ready.push(this.page(encodeOpusHead({ channels, preSkip, inputSampleRate }), { bos: true, granule: 0n }));
    this.headerPacket(tags);
  }

  /** Adds one Opus packet; returns the pages completed by it (the headers come out first). */
  write(packet: Uint8Array): Uint8Array[] {
    if (this.ended) throw new OggWriterError('write() after end()');
    const samples = opusPacketSamples(packet);
    if (typeof samples === 'string') throw new OggWriterError(`packet ${this.packets} is not a valid Opus packet: ${samples}`);
    if (packet.length > MAX_AUDIO_PACKET_BYTES) throw new OggWriterError(`packet ${this.packets} has ${packet.length} bytes, over ${MAX_AUDIO_PACKET_BYTES}`);
    const lacing = Math.floor(packet.length / 255) + 1;
    // Close the page before this packet if it would overflow the lacing table or the page duration.
    if (this.queue.length > 0 && (this.queuedLacing + lacing > 255 || this.queuedSamples >= this.maxPageSamples)) {
      this.emitQueued(this.queue.length, false, undefined);
    }
    // Copy: the caller may reuse its buffer (Buffer#slice would share memory, so not slice()).
    this.queue.push({ data: new Uint8Array(packet), samples });
    this.queuedSamples += samples;
    this.queuedLacing += lacing;
    this.packets++;
    return this.take();
  }

  /** Closes the current page now (all but the newest packet, which end() may need). */
  flush(): Uint8Array[] {
    if (this.ended) throw new OggWriterError('flush() after end()');
    if (this.queue.length > 1) this.emitQueued(this.queue.length - 1, false, undefined);
    return this.take();
  }

  /**
   * Writes the final page. `totalInputSamples` (at the input rate) is how much audio the encoder was
   * really given; the final granule pre-skip + that, converted to 48 kHz, trims the encoder's
   * padding from the end (RFC 7845 section 4.4). The trim must fall inside the last packet.
   */
  end(totalInputSamples: number): Uint8Array[] {
    if (this.ended) throw new OggWriterError('end() called twice');
    if (this.queue.length === 0) throw new OggWriterError('end() with no audio packet: an Ogg Opus stream needs at least one');
    if (!Number.isSafeInteger(totalInputSamples) || totalInputSamples < 0) throw new OggWriterError(`total input samples ${totalInputSamples} must be a non-negative integer`);
    const scaled = (totalInputSamples * 48000) / this.options.inputSampleRate;
    const finalGranule = this.options.preSkip + Math.ceil(scaled);
    const packetsEnd = this.granule + this.queuedSamples;
    const last = this.queue[this.queue.length - 1]!;
    if (finalGranule > packetsEnd) {
      throw new OggWriterError(`${totalInputSamples} input samples need granule ${finalGranule} but the packets only reach ${packetsEnd}`);
    }
    if (finalGranule <= packetsEnd - last.samples) {
      throw new OggWriterError(`${totalInputSamples} input samples would trim ${packetsEnd - finalGranule} samples, more than the last packet's ${last.samples}`);
    }
    this.emitQueued(this.queue.length, true, finalGranule);
    this.ended = true;
    return this.take();
  }

  private take(): Uint8Array[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  private emitQueued(count: number, eos: boolean, finalGranule: number | undefined): void {
    const packets = this.queue.slice(0, count);
    this.queue = this.queue.slice(count);
    const lacing: number[] = [];
    for (const p of packets) {
      lacing.push(...lacingFor(p.data.length));
      this.granule += p.samples;
      this.queuedSamples -= p.samples;
      this.queuedLacing -= Math.floor(p.data.length / 255) + 1;
    }
    const body = Buffer.concat(packets.map((p) => p.data));
    const granule = BigInt(finalGranule ?? this.granule);
    this.ready.push(this.page(body, { eos, granule }, lacing));
  }

  /** A header packet laid out over as many pages as it needs, the last one ending with it. */
  private headerPacket(packet: Uint8Array): void {
    const pages = pagesForPacket(packet, { serial: this.serial, sequence: this.sequence, granule: 0n });
    this.sequence += pages.length;
    for (const page of pages) this.ready.push(encodeOggPage(page));
  }

  private page(body: Uint8Array, f: { bos?: boolean; eos?: boolean; continued?: boolean; granule: bigint }, lacing?: number[]): Uint8Array {
    return encodeOggPage({
      continued: f.continued ?? false,
      bos: f.bos ?? false,
      eos: f.eos ?? false,
      granule: f.granule,
      serial: this.serial,
      sequence: this.sequence++,
      lacing: Uint8Array.from(lacing ?? lacingFor(body.length)),
      body,
    });
  }
}
