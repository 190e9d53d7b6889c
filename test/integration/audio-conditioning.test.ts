// The S32 I2S-mic path with synthetic signals through a real ALSA file PCM: slot selection, 24-bit
// data in the top bits, DC removal (seeded, settled before anything reaches a clip), gain and clamp;
// and the S16 path with slot selection.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlsaMicrophoneOptions } from '../../hardware/i2s-audio/alsa-microphone.js';
import { createSimMicrophone } from '../../hardware/sim/sim-audio.js';
import { collect } from '../fixtures/audio/recording-collector.js';
import { bestLag, concat, correlation, maxAbs, mean, rms } from '../fixtures/audio/signal-measures.js';
import { makeTempDir, writeS16, writeS32, type TempDir } from '../fixtures/audio/speech-fixture.js';

const RATE = 16000;
const SECONDS = 1;
const DC = -3000; // in 16-bit units: an SPH0645-like offset
const SINE_16 = 1036; // -30 dBFS peak in 16-bit units, typical speech level of an INMP441
let dir: TempDir;
let mic32: string;
let popFile: string;
let s16stereo: string;
const sine = new Int16Array(RATE * SECONDS);

// Deterministic garbage for the dead slot and the unused low bits.
function noise(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
}

beforeAll(() => {
  dir = makeTempDir();
  const rnd = noise(7);
  const frames = RATE * SECONDS;
  const s32 = new Int32Array(frames * 2);
  const pop = new Int32Array(frames * 2);
  const s16 = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    const v = SINE_16 * Math.sin((2 * Math.PI * 1000 * i) / RATE);
    sine[i] = Math.round(v);
    // 24-bit sample left-justified in 32 bits, DC offset, junk in the 8 unused low bits.
    s32[2 * i] = ((Math.round((v + DC) * 256) << 8) | (rnd() & 0xff)) | 0;
    s32[2 * i + 1] = rnd() | 0;
    // A mic start-up thump in the first 150 ms, then only the DC offset.
    const thump = i < 2400 ? 30000 * Math.exp(-i / 600) * Math.sin((2 * Math.PI * 40 * i) / RATE) : 0;
    pop[2 * i] = Math.round((thump + DC) * 65536) | 0;
    pop[2 * i + 1] = 0;
    s16[2 * i] = rnd() & 0x7fff;
    s16[2 * i + 1] = Math.round(v);
  }
  mic32 = writeS32(join(dir.path, 'inmp441.raw'), s32);
  popFile = writeS32(join(dir.path, 'pop.raw'), pop);
  s16stereo = writeS16(join(dir.path, 's16-stereo.raw'), s16);
});
afterAll(() => dir.remove());

/** Captures the whole file (pre-roll large enough to hold it) and returns the conditioned samples. */
async function captureAll(infile: string, o: Partial<AlsaMicrophoneOptions>): Promise<Int16Array> {
  const tap: Int16Array[] = [];
  const mic = createSimMicrophone({ infile, preRollMs: 2000, ...o, onPcm: (s) => tap.push(s) });
  try {
    await mic.open();
    const rec = mic.record();
    await collect(rec).done; // ends at the end of the file
    const summary = await rec.stop();
    const pcm = concat(tap);
    expect(pcm.length).toBe(summary.samples);
    return pcm;
  } finally {
    await mic.close();
  }
}

describe('S32_LE stereo conditioning', () => {
  it('selects the slot, takes the top 16 bits, removes DC and applies the gain', async () => {
    const pcm = await captureAll(mic32, { format: 'S32_LE', channels: 2, slot: 0, gainDb: 24 });
    const settle = 0.25 * RATE;
    expect(pcm.length).toBe(RATE * SECONDS - settle);
    const expectedRms = (SINE_16 * 10 ** (24 / 20)) / Math.SQRT2;
    expect(rms(pcm) / expectedRms).toBeGreaterThan(0.97);
    expect(rms(pcm) / expectedRms).toBeLessThan(1.03);
    expect(Math.abs(mean(pcm))).toBeLessThan(20);
    expect(Math.abs(mean(pcm, 0, 320))).toBeLessThan(60);
    const { r } = bestLag(pcm, sine, settle - 16, settle + 16);
    expect(r).toBeGreaterThan(0.999);
  });

  it('gives the other slot when asked (and it is not the mic)', async () => {
    const pcm = await captureAll(mic32, { format: 'S32_LE', channels: 2, slot: 1, gainDb: 0, settleMs: 0 });
    expect(Math.abs(correlation(pcm, sine))).toBeLessThan(0.1);
    expect(rms(pcm)).toBeGreaterThan(5000);
  });

  it('keeps the DC without the high-pass, which is why it is on by default', async () => {
    const pcm = await captureAll(mic32, { format: 'S32_LE', channels: 2, highPass: false, settleMs: 0 });
    expect(mean(pcm)).toBeGreaterThan(DC - 5);
    expect(mean(pcm)).toBeLessThan(DC + 5);
  });

  it('clamps at full scale instead of wrapping when the gain is too high', async () => {
    const pcm = await captureAll(mic32, { format: 'S32_LE', channels: 2, gainDb: 40, settleMs: 0 });
    expect(maxAbs(pcm)).toBe(32768);
    expect(Math.max(...pcm)).toBe(32767);
    let wrapped = 0;
    for (let i = 0; i < pcm.length; i++) if (sine[i]! > 800 && pcm[i]! < 0) wrapped++;
    expect(wrapped).toBe(0);
  });

  it('never lets the start-up pop or the DC step reach a clip', async () => {
    const pcm = await captureAll(popFile, { format: 'S32_LE', channels: 2, gainDb: 24 });
    expect(pcm.length).toBeGreaterThan(0);
    expect(maxAbs(pcm)).toBeLessThan(50);
    // Control: without the settle time the thump is in the clip, so the check above can fail.
    const raw = await captureAll(popFile, { format: 'S32_LE', channels: 2, gainDb: 24, settleMs: 0 });
    expect(maxAbs(raw)).toBeGreaterThan(10000);
  });
});

describe('S16_LE conditioning', () => {
  it('selects the slot of a stereo S16 device', async () => {
    const pcm = await captureAll(s16stereo, { format: 'S16_LE', channels: 2, slot: 1, settleMs: 0 });
    expect(correlation(pcm, sine)).toBeGreaterThan(0.999);
    expect(rms(pcm) / (SINE_16 / Math.SQRT2)).toBeGreaterThan(0.97);
  });

  it('rejects a slot the device does not have', () => {
    expect(() => createSimMicrophone({ infile: s16stereo, format: 'S16_LE', channels: 2, slot: 2 })).toThrow(/slot must be 0..1/);
    expect(() => createSimMicrophone({ infile: s16stereo, channels: 1, slot: 1 })).toThrow(/slot/);
  });
});
