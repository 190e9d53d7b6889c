// WAV reading checked against files written by sox (the real tool users will convert with) and
// hand-built headers for the malformed cases sox never writes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWav, WavFormatError, writeWav, type WavProblem } from '../../firmware/audio/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'torlk-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 0.1 s 440 Hz tone written by sox with the given output options. */
function sox(name: string, ...options: string[]): Buffer {
  const path = join(dir, name);
  execFileSync('sox', ['-n', ...options, path, 'synth', '0.1', 'sine', '440', 'vol', '0.5']);
  return readFileSync(path);
}

function problemOf(bytes: Uint8Array): WavProblem | 'none' {
  try {
    readWav(bytes);
    return 'none';
  } catch (err) {
    if (err instanceof WavFormatError) return err.problem;
    throw err;
  }
}

describe('readWav on what sox writes', () => {
  it.each([
    [8000, 1],
    [12000, 1],
    [16000, 1],
    [24000, 2],
    [48000, 2],
  ])('reads 16-bit PCM at %i Hz, %i channel(s), sample-exact against sox raw output', (rate, channels) => {
    const wav = sox(`t${rate}${channels}.wav`, '-r', String(rate), '-c', String(channels), '-b', '16', '-e', 'signed-integer');
    const audio = readWav(wav);
    expect(audio).toMatchObject({ sampleRate: rate, channels });
    expect(audio.samples.length).toBe((rate / 10) * channels);
    const raw = execFileSync('sox', [join(dir, `t${rate}${channels}.wav`), '-t', 'raw', '-']);
    expect(Buffer.from(audio.samples.buffer).equals(raw)).toBe(true);
  });

  it('says how to resample a 44.1 kHz file', () => {
    const wav = sox('cd.wav', '-r', '44100', '-c', '1', '-b', '16');
    expect(() => readWav(wav)).toThrow('resample with: sox in.wav -r 16000 -c 1 out.wav');
    expect(problemOf(wav)).toBe('rate');
  });

  it.each([
    ['IEEE float', ['-e', 'floating-point', '-b', '32'], /IEEE float/],
    ['24-bit PCM (sox writes WAVE_FORMAT_EXTENSIBLE)', ['-b', '24'], /24-bit PCM/],
    ['8-bit unsigned', ['-b', '8', '-e', 'unsigned-integer'], /8-bit PCM/],
    ['mu-law', ['-e', 'mu-law'], /mu-law/],
    ['A-law', ['-e', 'a-law'], /A-law/],
  ])('rejects %s and says how to convert', (_, options, message) => {
    const wav = sox(`${options.join('')}.wav`, '-r', '16000', '-c', '1', ...(options as string[]));
    expect(() => readWav(wav)).toThrow(message);
    expect(() => readWav(wav)).toThrow(/convert with: sox in.wav -b 16/);
    expect(problemOf(wav)).toBe('encoding');
  });

  it('rejects 6 channels', () => {
    const wav = sox('six.wav', '-r', '16000', '-c', '6', '-b', '16');
    expect(problemOf(wav)).toBe('channels');
  });

  it('reads a streamed WAV whose data size is a placeholder (arecord to a pipe)', () => {
    const raw = Buffer.from(sox('stream.wav', '-r', '16000', '-c', '1', '-b', '16'));
    raw.writeUInt32LE(0xffffffff, 40);
    raw.writeUInt32LE(0xffffffff, 4);
    expect(readWav(Buffer.concat([raw, Buffer.from([1])])).samples.length).toBe(1600);
  });
});

const wavOf = (rate = 16000, channels: 1 | 2 = 1, samples = Int16Array.from([1, -2, 3, -4])) => Buffer.from(writeWav({ sampleRate: rate, channels, samples }));

describe('writeWav and hand-built headers', () => {
  it('round-trips, including extremes, and sox agrees on the header', () => {
    const samples = Int16Array.from([0, 32767, -32768, 1, -1, 12345]);
    const bytes = writeWav({ sampleRate: 48000, channels: 2, samples });
    expect(readWav(bytes)).toEqual({ sampleRate: 48000, channels: 2, samples });
    const path = join(dir, 'ours.wav');
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', path], { input: bytes });
    expect(execFileSync('soxi', ['-r', path]).toString().trim()).toBe('48000');
    expect(execFileSync('soxi', ['-s', path]).toString().trim()).toBe('3');
  });

  it('skips unknown chunks, honouring the odd-size pad byte', () => {
    const w = wavOf();
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
    const bytes = Buffer.concat([w.subarray(0, 36), list, w.subarray(36)]);
    expect([...readWav(bytes).samples]).toEqual([1, -2, 3, -4]);
  });

  it('refuses to write what it cannot describe', () => {
    expect(() => writeWav({ sampleRate: 16000, channels: 2, samples: new Int16Array(3) })).toThrow(WavFormatError);
    expect(() => writeWav({ sampleRate: 0, channels: 1, samples: new Int16Array(2) })).toThrow(WavFormatError);
    expect(() => writeWav({ sampleRate: 16000, channels: 3 as 1, samples: new Int16Array(3) })).toThrow(WavFormatError);
  });

  const patch = (at: number, write: (b: Buffer) => void) => {
    const b = wavOf();
    write(b.subarray(at));
    return b;
  };
  it.each<[string, () => Uint8Array, WavProblem]>([
    ['an empty file', () => new Uint8Array(0), 'not-riff'],
    ['an Ogg file', () => Buffer.from('OggS\0\x02' + '\0'.repeat(30)), 'not-riff'],
    ['an RF64 file', () => patch(0, (b) => b.write('RF64')), 'encoding'],
    ['a RIFF AVI', () => patch(8, (b) => b.write('AVI ')), 'not-wave'],
    ['no fmt chunk', () => patch(12, (b) => b.write('junk')), 'no-fmt'],
    ['data before fmt', () => Buffer.concat([wavOf().subarray(0, 12), wavOf().subarray(36), wavOf().subarray(12, 36)]), 'no-fmt'],
    ['no data chunk', () => wavOf().subarray(0, 36), 'no-data'],
    ['a short fmt chunk', () => patch(16, (b) => b.writeUInt32LE(14)), 'truncated'],
    ['a data size past the end', () => patch(40, (b) => b.writeUInt32LE(1000)), 'truncated'],
    ['half a frame of data', () => patch(40, (b) => b.writeUInt32LE(7)), 'truncated'],
    ['a block align that does not match', () => patch(32, (b) => b.writeUInt16LE(4)), 'encoding'],
    ['11025 Hz', () => wavOf(11025), 'rate'],
    ['0 channels', () => patch(22, (b) => b.writeUInt16LE(0)), 'channels'],
    ['an extensible header with a non-PCM GUID', () => extensible('0300000000001000800000aa00389b71', 16), 'encoding'],
    ['an extensible header with 12 valid bits', () => extensible('0100000000001000800000aa00389b71', 12), 'encoding'],
  ])('rejects %s', (_, make, problem) => {
    expect(problemOf(make())).toBe(problem);
  });

  it('accepts an extensible header that says 16-bit PCM', () => {
    expect([...readWav(extensible('0100000000001000800000aa00389b71', 16)).samples]).toEqual([1, -2, 3, -4]);
  });
});

/** A WAVE_FORMAT_EXTENSIBLE file (40-byte fmt chunk) with the given subformat GUID. */
function extensible(guidHex: string, validBits: number): Buffer {
  const fmt = Buffer.alloc(48);
  fmt.write('fmt ', 0);
  fmt.writeUInt32LE(40, 4);
  fmt.writeUInt16LE(0xfffe, 8);
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(16000, 12);
  fmt.writeUInt32LE(32000, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  fmt.writeUInt16LE(22, 24);
  fmt.writeUInt16LE(validBits, 26);
  fmt.writeUInt32LE(4, 28);
  Buffer.from(guidHex, 'hex').copy(fmt, 32);
  const w = wavOf();
  return Buffer.concat([w.subarray(0, 12), fmt, w.subarray(36)]);
}

describe('readWav never throws anything but WavFormatError', () => {
  it('on random bytes, random corruptions and every truncation of a valid file', async () => {
    const fc = (await import('fast-check')).default;
    const valid = wavOf(16000, 2, Int16Array.from({ length: 64 }, (_, i) => i * 97));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void problemOf(Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE'), b]))), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const b = Buffer.from(valid);
        b[at] = value;
        problemOf(b);
      }),
      { numRuns: 2000 },
    );
    for (let cut = 0; cut < valid.length; cut++) expect(problemOf(valid.subarray(0, cut)), `cut ${cut}`).not.toBe('none');
  });
});
