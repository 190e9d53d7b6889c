// The Opus identification header (RFC 7845 section 5.1): the sole packet of the stream's first
// page. Torlk writes mapping family 0 (mono or stereo) only, and reads only that family.

import { OggFormatError } from './ogg-errors.js';

export interface OpusHead {
  readonly version: number;
  readonly channels: 1 | 2;
  /** Samples at 48 kHz to discard from the decoder output (the encoder's lookahead). */
  readonly preSkip: number;
  /** The rate the encoder was fed; informational only, decoders always run at 48 kHz. */
  readonly inputSampleRate: number;
  /** Q7.8 dB gain to apply on output; Torlk writes 0. */
  readonly outputGain: number;
  readonly mappingFamily: 0;
}

const MAGIC = 'OpusHead';
export const OPUS_HEAD_BYTES = 19;

export function encodeOpusHead(head: Omit<OpusHead, 'version' | 'mappingFamily' | 'outputGain'>): Uint8Array {
  const out = new Uint8Array(OPUS_HEAD_BYTES);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  out[8] = 1; // version 1 (RFC 7845)
  out[9] = head.channels;
  view.setUint16(10, head.preSkip, true);
  view.setUint32(12, head.inputSampleRate, true);
  view.setInt16(16, 0, true); // output gain 0 dB: the capture chain already applies gain
  out[18] = 0; // mapping family 0: mono/stereo, no channel mapping table
  return out;
}

export function startsWithMagic(packet: Uint8Array, magic: string): boolean {
  if (packet.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (packet[i] !== magic.charCodeAt(i)) return false;
  return true;
}

export function isOpusHead(packet: Uint8Array): boolean {
  return startsWithMagic(packet, MAGIC);
}

/** Parses and validates an OpusHead packet; `offset` locates it for error messages. */
export function decodeOpusHead(packet: Uint8Array, offset?: number): OpusHead {
  const bad = (detail: string) => new OggFormatError('opus-head', detail, offset);
  if (!isOpusHead(packet)) throw bad('first packet does not start with "OpusHead"');
  if (packet.length < OPUS_HEAD_BYTES) throw bad(`OpusHead is ${packet.length} bytes, at least ${OPUS_HEAD_BYTES} needed`);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
  const version = view.getUint8(8);
  // Versions 0-15 share the major version 0 layout and must be accepted (section 5.1).
  if (version > 15) throw bad(`unsupported OpusHead version ${version}`);
  const channels = view.getUint8(9);
  const mappingFamily = view.getUint8(18);
  if (mappingFamily !== 0) throw bad(`channel mapping family ${mappingFamily} is not supported (only 0, mono/stereo)`);
  if (channels !== 1 && channels !== 2) throw bad(`mapping family 0 needs 1 or 2 channels, got ${channels}`);
  return {
    version,
    channels,
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
    outputGain: view.getInt16(16, true),
    mappingFamily: 0,
  };
}
