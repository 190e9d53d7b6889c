// Playback through a real ALSA file PCM: the output file is exactly the decoded clip (16 kHz S16 mono
// and 48 kHz S32 stereo, the MAX98357A shape), playback is interruptible, and a clip captured by the
// simulated mic plays back as what was captured.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeClip } from '../../hardware/i2s-audio/decoder.js';
import { encodeClip } from '../../hardware/i2s-audio/encoder.js';
import { SpeakerError } from '../../hardware/i2s-audio/errors.js';
import { createSimMicrophone, createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import { collect } from '../fixtures/audio/recording-collector.js';
import { concat, correlation } from '../fixtures/audio/signal-measures.js';
import { makeTempDir, speechRaw, type TempDir } from '../fixtures/audio/speech-fixture.js';

let dir: TempDir;
let speech: Int16Array;
let speechPath: string;
beforeAll(() => {
  dir = makeTempDir();
  ({ samples: speech, path: speechPath } = speechRaw(dir.path, 16000, 300));
});
afterAll(() => dir.remove());

function readS16(path: string): Int16Array {
  const b = readFileSync(path);
  return new Int16Array(b.buffer, b.byteOffset, b.length / 2);
}
function readS32(path: string): Int32Array {
  const b = readFileSync(path);
  return new Int32Array(b.buffer, b.byteOffset, b.length / 4);
}

describe('AlsaSpeaker on a file PCM', () => {
  it('writes exactly the decoded clip at 16 kHz S16 mono', async () => {
    const { format, packets } = encodeClip(speech);
    const spk = createSimSpeaker({ outfile: join(dir.path, 'out_%r_%c.raw'), rate: 16000 });
    const r = await spk.play(format, packets);
    await spk.close();
    expect(r).toEqual({ samples: speech.length, interrupted: false });
    const out = readS16(join(dir.path, 'out_16000_1.raw'));
    expect(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(Buffer.from(decodeClip(format, packets).buffer))).toBe(true);
  });

  it('writes S32 stereo at 48 kHz for an I2S amplifier, both channels the decoded clip', async () => {
    const { format, packets } = encodeClip(speech);
    const spk = createSimSpeaker({ outfile: join(dir.path, 'amp.raw'), rate: 48000, format: 'S32_LE', channels: 2 });
    const r = await (async function* () {
      yield* packets; // an async source, as from the inbox
    })();
    const result = await spk.play(format, r);
    await spk.close();
    expect(result.samples).toBe(speech.length * 3);
    const out = readS32(join(dir.path, 'amp.raw'));
    const want = decodeClip(format, packets, 48000);
    expect(out.length).toBe(want.length * 2);
    let mismatches = 0;
    for (let i = 0; i < want.length; i++) if (out[2 * i] !== want[i]! * 65536 || out[2 * i + 1] !== want[i]! * 65536) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('stops early when the signal aborts (talk has priority), and refuses a second clip meanwhile', async () => {
    const { format, packets } = encodeClip(speech);
    const out = join(dir.path, 'paced.raw');
    const spk = createSimSpeaker({ outfile: out, rate: 16000, pace: true });
    const ac = new AbortController();
    const t0 = performance.now();
    const playing = spk.play(format, packets, ac.signal);
    await sleep(50);
    await expect(spk.play(format, packets)).rejects.toMatchObject({ name: 'SpeakerError', code: 'state' });
    await sleep(250);
    ac.abort();
    const r = await playing;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.interrupted).toBe(true);
    expect(r.samples).toBeGreaterThan(16000 * 0.1);
    expect(r.samples).toBeLessThan(16000 * 0.6);
    expect(readS16(out).length).toBe(r.samples);
    expect(await spk.play(format, packets, AbortSignal.abort())).toEqual({ samples: 0, interrupted: true });
    await spk.close();
    await expect(spk.play(format, packets)).rejects.toBeInstanceOf(SpeakerError);
  });

  it('plays back what the simulated mic captured', async () => {
    const tap: Int16Array[] = [];
    const mic = createSimMicrophone({ infile: speechPath, onPcm: (s) => tap.push(s), preRollMs: 2000 });
    let packets;
    let summary;
    let format;
    try {
      await mic.open();
      const rec = mic.record();
      format = rec.format;
      const got = collect(rec);
      await sleep(1500);
      summary = await rec.stop();
      packets = await got.done;
    } finally {
      await mic.close();
    }
    const out = join(dir.path, 'twin.raw');
    const spk = createSimSpeaker({ outfile: out, rate: 16000 });
    const r = await spk.play(format, packets);
    await spk.close();
    expect(r.samples).toBe(summary.samples);
    expect(correlation(readS16(out), concat(tap))).toBeGreaterThan(0.85);
  });
});
