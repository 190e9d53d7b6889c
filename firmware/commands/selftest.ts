// torlk selftest [--input RAW] [--out FILE.opus] [--seconds N]: proves that this installation can
// record a clip. It captures through a real ALSA `file` PCM with the simulated microphone (so it needs
// libasound and the i2s-audio addon built for this CPU, but no sound hardware), encodes with the
// addon's libopus, writes Ogg Opus with the firmware's writer and reads it back. The SD-image test
// runs it under qemu-user with the image's own node; on a real radio it checks the install.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OggOpusWriter } from '../audio/ogg-opus-writer.js';
import { readOggOpus } from '../audio/ogg-opus-reader.js';
import { createSimMicrophone } from '../../hardware/sim/sim-audio.js';
import type { OpusPacket } from '../../hardware/microphone.js';

const RATE = 16000;

const help = `Usage: torlk selftest [--input RAW] [--out FILE.opus] [--seconds N]

Records one clip from an ALSA file PCM (no sound hardware needed), encodes it with the
i2s-audio addon and checks the Ogg Opus result. --input is raw S16_LE mono 16 kHz audio
(default: a generated ${'1.5'} s tone); --out keeps the clip. Prints one line; exits 1 on failure.`;

/** The self-test found a fault; the message says which part failed. */
export class SelftestError extends Error {
  override name = 'SelftestError';
}

/** A 440 Hz tone with a slow tremolo: not silence, so the encoder's output is not trivially small. */
export function toneS16(seconds: number, rate = RATE): Buffer {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const v = Math.sin(2 * Math.PI * 440 * t) * (0.5 + 0.3 * Math.sin(2 * Math.PI * 3 * t));
    buf.writeInt16LE(Math.round(v * 12000), i * 2);
  }
  return buf;
}

export interface SelftestResult {
  readonly inputSamples: number;
  readonly samples: number;
  readonly packets: number;
  readonly oggBytes: number;
  readonly ogg: Uint8Array;
}

/** Captures `infile` (raw S16_LE mono at 16 kHz) to its end and returns the checked Ogg Opus clip. */
export async function recordSelftestClip(infile: string): Promise<SelftestResult> {
  let size: number;
  try {
    size = statSync(infile).size;
  } catch (err) {
    throw new SelftestError(`cannot read the test input ${infile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const inputSamples = Math.floor(size / 2);
  const mic = createSimMicrophone({ infile, format: 'S16_LE', channels: 1, rate: RATE });
  const packets: OpusPacket[] = [];
  let summary;
  let format;
  try {
    await mic.open();
    const rec = mic.record();
    format = rec.format;
    // The file PCM ends the recording at end of file ('eof'), like a released button.
    for await (const p of rec.packets) packets.push(p);
    summary = await rec.stop();
  } finally {
    await mic.close();
  }
  if (packets.length === 0 || summary.samples === 0) {
    throw new SelftestError(`the microphone produced no audio from ${infile} (${inputSamples} input samples)`);
  }
  const writer = new OggOpusWriter({ inputSampleRate: format.sampleRate, preSkip: format.preSkip });
  const pages: Uint8Array[] = [];
  for (const p of packets) pages.push(...writer.write(p.data));
  pages.push(...writer.end(summary.samples));
  const ogg = Buffer.concat(pages);
  // Read it back with the demuxer the receiver uses: a clip we cannot open is a failed test.
  const parsed = readOggOpus(ogg);
  if (parsed.packets.length !== packets.length) {
    throw new SelftestError(`the Ogg Opus clip holds ${parsed.packets.length} packets, expected ${packets.length}`);
  }
  return { inputSamples, samples: summary.samples, packets: packets.length, oggBytes: ogg.length, ogg };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { input: { type: 'string' }, out: { type: 'string' }, seconds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const seconds = values.seconds === undefined ? 1.5 : Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds < 0.2 || seconds > 30) {
    process.stderr.write(`torlk selftest: --seconds must be a number from 0.2 to 30, got "${values.seconds}"\n`);
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), 'torlk-selftest-'));
  try {
    let infile = values.input === undefined ? undefined : resolve(values.input);
    if (infile === undefined) {
      infile = join(work, 'tone.raw');
      writeFileSync(infile, toneS16(seconds));
    }
    const r = await recordSelftestClip(infile);
    if (values.out !== undefined) writeFileSync(values.out, r.ogg);
    process.stdout.write(
      `selftest ok: captured ${r.samples} samples (${(r.samples / RATE).toFixed(2)} s) from an ALSA file PCM, ` +
        `${r.packets} Opus packets, ${r.oggBytes} bytes of Ogg Opus; node ${process.version} ${process.arch}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`torlk selftest: FAILED: ${(err as Error).message}\n`);
    return 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
