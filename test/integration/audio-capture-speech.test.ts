// Known speech (espeak-ng) captured through a real ALSA file PCM by the addon, conditioned and
// Opus-encoded on its thread, written as Ogg Opus: opusinfo is clean, opusdec returns the expected
// sample count, and the decoded clip follows the source. Also: pre-roll from before record().
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OggOpusWriter } from '../../firmware/audio/ogg-opus-writer.js';
import { decodeClip } from '../../hardware/i2s-audio/decoder.js';
import { createSimMicrophone } from '../../hardware/sim/sim-audio.js';
import { collect } from '../fixtures/audio/recording-collector.js';
import { bestLag, concat, correlation } from '../fixtures/audio/signal-measures.js';
import { makeTempDir, speechRaw, type TempDir } from '../fixtures/audio/speech-fixture.js';

let dir: TempDir;
let source: { path: string; samples: Int16Array };
beforeAll(() => {
  dir = makeTempDir();
  source = speechRaw(dir.path, 16000, 600);
});
afterAll(() => dir.remove());

describe('capture of known speech through ALSA', () => {
  it('encodes it into Ogg Opus that opusinfo accepts and opusdec decodes back to the source', async () => {
    const tap: Int16Array[] = [];
    const mic = createSimMicrophone({ infile: source.path, onPcm: (s) => tap.push(s) });
    try {
      await mic.open();
      await sleep(900); // past the 250 ms settle, so the 400 ms pre-roll is full
      const rec = mic.record();
      const framesAtRecord = mic.stats().framesCaptured;
      const got = collect(rec);
      const durationMs = (source.samples.length / 16000) * 1000;
      await sleep(durationMs - 900 - 500);
      const summary = await rec.stop();
      const packets = await got.done;
      expect(rec.format).toMatchObject({ sampleRate: 16000, channels: 1, frameSamples: 320 });

      const pcm = concat(tap);
      expect(summary.packets).toBe(packets.length);
      expect(packets.reduce((s, p) => s + p.samples, 0)).toBe(summary.samples);
      expect(pcm.length).toBe(summary.samples);
      expect(summary.xruns).toBe(0);

      // Where the clip starts in the source: before record(), by the pre-roll (400 ms = 6400 samples).
      const probe = pcm.subarray(16000, 20000);
      const { lag, r } = bestLag(probe, source.samples, 0, 40000);
      const clipStart = lag - 16000;
      expect(r).toBeGreaterThan(0.99); // the high-pass at 10 Hz leaves speech untouched
      expect(framesAtRecord - clipStart).toBeGreaterThanOrEqual(6400);
      expect(framesAtRecord - clipStart).toBeLessThanOrEqual(6400 + 4 * 320);

      // The addon's own decoder gives back what the encoder was fed.
      const decoded = decodeClip(rec.format, packets);
      expect(decoded.length).toBe(summary.samples);
      expect(correlation(pcm, decoded)).toBeGreaterThan(0.85);

      // Ogg Opus through the firmware's writer, checked by opus-tools.
      const writer = new OggOpusWriter({ inputSampleRate: 16000, preSkip: rec.format.preSkip });
      const pages: Uint8Array[] = [];
      for (const p of packets) pages.push(...writer.write(p.data));
      pages.push(...writer.end(summary.samples));
      const ogg = join(dir.path, 'clip.opus');
      writeFileSync(ogg, Buffer.concat(pages));
      const info = execFileSync('opusinfo', [ogg], { encoding: 'utf8' });
      expect(info).not.toMatch(/WARNING|ERROR/i);
      const raw = join(dir.path, 'clip.raw');
      execFileSync('opusdec', ['--quiet', '--rate', '16000', '--no-dither', ogg, raw]);
      const bytes = readFileSync(raw);
      const viaOpusdec = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
      expect(viaOpusdec.length).toBe(summary.samples);
      expect(correlation(viaOpusdec, source.samples, clipStart)).toBeGreaterThan(0.85);
    } finally {
      await mic.close();
    }
  });
});
