// The addon's standalone Opus encoder and decoder (real libopus), and their bad-input errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpusDecoder, decodeClip } from '../../hardware/i2s-audio/decoder.js';
import { OpusEncoder, encodeClip } from '../../hardware/i2s-audio/encoder.js';
import { AudioOptionError, OpusCodecError } from '../../hardware/i2s-audio/errors.js';
import { loadAddon } from '../../hardware/i2s-audio/index.js';
import { makeTempDir, speechRaw, type TempDir } from '../fixtures/audio/speech-fixture.js';
import { bestLag, rms } from '../fixtures/audio/signal-measures.js';

let dir: TempDir;
let speech: Int16Array;
beforeAll(() => {
  dir = makeTempDir();
  speech = speechRaw(dir.path, 16000).samples;
});
afterAll(() => dir.remove());

describe('OpusEncoder / OpusDecoder', () => {
  it('links the system libasound and libopus', () => {
    const v = loadAddon().versions;
    expect(v.opus).toMatch(/^libopus 1\./);
    expect(v.alsa).toMatch(/^1\./);
  });

  it('reports 20 ms frames and the lookahead as RFC 7845 pre-skip', () => {
    const enc = new OpusEncoder();
    expect(enc.frameSamples).toBe(320);
    expect(enc.lookahead).toBeGreaterThan(0);
    expect(enc.format).toEqual({ sampleRate: 16000, channels: 1, frameSamples: 320, preSkip: enc.lookahead * 3 });
    expect(new OpusEncoder({ sampleRate: 48000 }).frameSamples).toBe(960);
  });

  it('round-trips speech: decoded clip has the input length and follows the source', () => {
    const { format, packets } = encodeClip(speech);
    expect(packets.reduce((s, p) => s + p.samples, 0)).toBe(speech.length);
    const out = decodeClip(format, packets);
    expect(out.length).toBe(speech.length);
    const { lag, r } = bestLag(speech, out, -40, 40);
    expect(Math.abs(lag)).toBeLessThanOrEqual(2);
    expect(r).toBeGreaterThan(0.85);
    expect(rms(out) / rms(speech)).toBeGreaterThan(0.7);
    expect(rms(out) / rms(speech)).toBeLessThan(1.3);
  });

  it('decodes a 16 kHz stream at 48 kHz for the speaker', () => {
    const { format, packets } = encodeClip(speech);
    const out = decodeClip(format, packets, 48000);
    expect(out.length).toBe(speech.length * 3);
  });

  it('spends about the bitrate asked for', () => {
    const seconds = speech.length / 16000;
    const bytes = (bitrate: number) => encodeClip(speech, { bitrate }).packets.reduce((s, p) => s + p.data.length, 0);
    const at8 = bytes(8000), at16 = bytes(16000), at32 = bytes(32000);
    expect(at8).toBeLessThan(at16);
    expect(at16).toBeLessThan(at32);
    expect((at16 * 8) / seconds).toBeGreaterThan(10000);
    expect((at16 * 8) / seconds).toBeLessThan(20000);
  });

  it('gives identical packets after reset(), like a fresh encoder', () => {
    const enc = new OpusEncoder();
    const frame = speech.subarray(4000, 4320);
    const first = enc.encode(frame);
    enc.encode(speech.subarray(4320, 4640));
    enc.reset();
    expect(Buffer.from(enc.encode(frame)).equals(Buffer.from(first))).toBe(true);
  });

  it('rejects bad encoder options with AudioOptionError', () => {
    expect(() => new OpusEncoder({ sampleRate: 44100 })).toThrow(AudioOptionError);
    expect(() => new OpusEncoder({ bitrate: 7999 })).toThrow(/8000\.\.32000/);
    expect(() => new OpusEncoder({ bitrate: 32001 })).toThrow(AudioOptionError);
    expect(() => new OpusEncoder({ complexity: 11 })).toThrow(/complexity/);
    expect(() => new OpusEncoder({ complexity: 1.5 })).toThrow(AudioOptionError);
  });

  it('rejects frames of the wrong size or type', () => {
    const enc = new OpusEncoder();
    expect(() => enc.encode(new Int16Array(319))).toThrow(/exactly 320/);
    expect(() => enc.encode(new Int16Array(0))).toThrow(AudioOptionError);
    expect(() => enc.encode(new Float32Array(320) as unknown as Int16Array)).toThrow(/Int16Array/);
  });

  it('throws OpusCodecError for corrupt and empty packets, and keeps working after', () => {
    const dec = new OpusDecoder(16000);
    expect(() => dec.decode(new Uint8Array(0))).toThrow(OpusCodecError);
    // TOC code 3 with a frame count of 0 is invalid (RFC 6716 s3.2.5).
    expect(() => dec.decode(Uint8Array.from([0x0b, 0x00]))).toThrow(OpusCodecError);
    expect(() => dec.decode('x' as unknown as Uint8Array)).toThrow(AudioOptionError);
    const { packets } = encodeClip(speech.subarray(0, 3200));
    expect(dec.decode(packets[0]!.data).length).toBe(320);
    expect(() => new OpusDecoder(44100)).toThrow(AudioOptionError);
  });
});
