// WAV (RIFF/WAVE) reading and writing for 16-bit PCM, the only kind the laptop mic/speaker, the
// demo and the tests need. Anything else gets a WavFormatError with the sox command that fixes it.
// Hand-written: the format is small, and the npm WAV packages are either unmaintained or pull in
// stream machinery for what is a header and a copy.

import { OPUS_RATES } from '../../hardware/i2s-audio/encoder.js';

export type WavProblem = 'not-riff' | 'not-wave' | 'no-fmt' | 'no-data' | 'truncated' | 'encoding' | 'channels' | 'rate';

const SOX_HINT = 'sox in.wav -r 16000 -c 1 out.wav';
const SOX_FORMAT_HINT = 'sox in.wav -b 16 -e signed-integer -r 16000 -c 1 out.wav';

export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
  constructor(
    readonly problem: WavProblem,
    detail: string,
  ) {
    super(`unsupported or malformed WAV (${problem}): ${detail}`);
  }
}

export interface PcmAudio {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** Interleaved signed 16-bit samples; frames = samples.length / channels. */
  readonly samples: Int16Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
// The KSDATAFORMAT_SUBTYPE GUID tail shared by PCM (and every other "classic" format code).
const SUBTYPE_TAIL = '000000001000800000aa00389b71';
// Writers that stream to a pipe cannot seek back, so they leave a placeholder data size.
const UNKNOWN_SIZE_MIN = 0x7ffff000;

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

export function readWav(bytes: Uint8Array): PcmAudio {
  if (bytes.length < 12 || ascii(bytes, 0) !== 'RIFF') {
    throw new WavFormatError(ascii(bytes, 0) === 'RF64' ? 'encoding' : 'not-riff', bytes.length < 12 ? `file is ${bytes.length} bytes, too short for a RIFF header` : 'file does not start with "RIFF"');
  }
  if (ascii(bytes, 8) !== 'WAVE') throw new WavFormatError('not-wave', `RIFF form type is ${JSON.stringify(ascii(bytes, 8))}, not "WAVE"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let fmt: { channels: number; rate: number; blockAlign: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at);
    let size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) throw new WavFormatError('truncated', `fmt chunk of ${size} bytes is too short or runs past the end`);
      fmt = parseFmt(view, body, size);
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError('no-fmt', 'data chunk comes before any fmt chunk');
      if (body + size > bytes.length) {
        if (size < UNKNOWN_SIZE_MIN) throw new WavFormatError('truncated', `data chunk says ${size} bytes but only ${bytes.length - body} follow`);
        size = bytes.length - body; // streamed WAV: the data runs to the end of the file
        size -= size % fmt.blockAlign;
      }
      if (size % fmt.blockAlign !== 0) throw new WavFormatError('truncated', `data chunk of ${size} bytes is not a whole number of ${fmt.blockAlign}-byte frames`);
      const samples = new Int16Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + 2 * i, true);
      return { sampleRate: fmt.rate, channels: fmt.channels as 1 | 2, samples };
    }
    at = body + size + (size & 1); // chunks are padded to an even length
  }
  throw new WavFormatError(fmt ? 'no-data' : 'no-fmt', fmt ? 'no data chunk' : 'no fmt chunk');
}

function parseFmt(view: DataView, at: number, size: number): { channels: number; rate: number; blockAlign: number } {
  let format = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const rate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  let validBits = 16;
  if (format === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw new WavFormatError('truncated', `WAVE_FORMAT_EXTENSIBLE fmt chunk of ${size} bytes (40 needed)`);
    const guidTail = Buffer.from(view.buffer, view.byteOffset + at + 26, 14).toString('hex');
    format = guidTail === SUBTYPE_TAIL ? view.getUint16(at + 24, true) : -1;
    validBits = view.getUint16(at + 18, true);
  }
  if (format !== WAVE_FORMAT_PCM) {
    const name = format === 3 ? 'IEEE float' : format === 6 ? 'A-law' : format === 7 ? 'mu-law' : `format code ${format}`;
    throw new WavFormatError('encoding', `${name} samples, only 16-bit PCM is read; convert with: ${SOX_FORMAT_HINT}`);
  }
  if (bits !== 16) throw new WavFormatError('encoding', `${bits}-bit PCM, only 16-bit is read; convert with: ${SOX_FORMAT_HINT}`);
  if (validBits !== 16 && validBits !== 0) throw new WavFormatError('encoding', `${validBits} valid bits in 16-bit containers; convert with: ${SOX_FORMAT_HINT}`);
  if (channels !== 1 && channels !== 2) throw new WavFormatError('channels', `${channels} channels, only mono or stereo; convert with: ${SOX_HINT}`);
  if (blockAlign !== channels * 2) throw new WavFormatError('encoding', `block align ${blockAlign} does not match ${channels} channels of 16 bits`);
  if (!OPUS_RATES.includes(rate)) {
    throw new WavFormatError('rate', `${rate} Hz is not a rate Opus takes (8, 12, 16, 24 or 48 kHz); resample with: ${SOX_HINT}`);
  }
  return { channels, rate, blockAlign };
}

/** A canonical 44-byte-header PCM WAV. */
export function writeWav(audio: PcmAudio): Uint8Array {
  if (audio.channels !== 1 && audio.channels !== 2) throw new WavFormatError('channels', `cannot write ${String(audio.channels)} channels`);
  if (audio.samples.length % audio.channels !== 0) throw new WavFormatError('truncated', `${audio.samples.length} samples do not make whole ${audio.channels}-channel frames`);
  if (!Number.isInteger(audio.sampleRate) || audio.sampleRate <= 0) throw new WavFormatError('rate', `sample rate ${audio.sampleRate} is not a positive integer`);
  const dataBytes = audio.samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const tag = (at: number, s: string) => out.set(Buffer.from(s, 'ascii'), at);
  tag(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, audio.channels, true);
  view.setUint32(24, audio.sampleRate, true);
  view.setUint32(28, audio.sampleRate * audio.channels * 2, true);
  view.setUint16(32, audio.channels * 2, true);
  view.setUint16(34, 16, true);
  tag(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < audio.samples.length; i++) view.setInt16(44 + 2 * i, audio.samples[i]!, true);
  return out;
}
