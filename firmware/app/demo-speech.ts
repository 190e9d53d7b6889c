// The phrase alice "says" in the demo: espeak-ng speech, resampled by sox to the microphone's raw
// format (S16_LE mono, 16 kHz), with silence around it so the press and release fall in silence.
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DEMO_PHRASE = 'Alice to Bob, radio check over Tor. One, two, three. How do you read me?';
export const SPEECH_RATE = 16000;

/** espeak-ng or sox is missing or failed: the demo cannot make its phrase. */
export class SpeechToolError extends Error {
  override readonly name = 'SpeechToolError';
  constructor(tool: string, detail: string) {
    super(`${tool} failed: ${detail} (scripts/setup installs espeak-ng and sox)`);
  }
}

export interface Speech {
  /** espeak-ng's own WAV (22.05 kHz), the reference the output is compared with. */
  readonly wav: string;
  /** Raw S16_LE mono 16 kHz with the padding, the microphone's input. */
  readonly raw: string;
  /** Length of the speech itself, without padding. */
  readonly speechMs: number;
  readonly leadMs: number;
  readonly trailMs: number;
}

async function tool(cmd: string, args: string[]): Promise<void> {
  try {
    await run(cmd, args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new SpeechToolError(cmd, e.code === 'ENOENT' ? `${cmd} is not installed` : (e.stderr?.trim() || e.message));
  }
}

export async function makeSpeech(dir: string, text = DEMO_PHRASE, leadMs = 600, trailMs = 1500): Promise<Speech> {
  const wav = join(dir, 'phrase.wav');
  const raw = join(dir, 'phrase-16k.raw');
  await tool('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, text]);
  await tool('sox', [wav, '-r', String(SPEECH_RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', raw, 'pad', `${leadMs / 1000}`, `${trailMs / 1000}`]);
  const bytes = (await stat(raw)).size;
  const speechMs = Math.round((bytes / 2 / SPEECH_RATE) * 1000) - leadMs - trailMs;
  return { wav, raw, speechMs, leadMs, trailMs };
}

/** Raw S16_LE mono samples of a file. */
export async function readRawS16(path: string): Promise<Int16Array> {
  const b = await readFile(path);
  return new Int16Array(b.buffer, b.byteOffset, Math.floor(b.length / 2)).slice();
}
