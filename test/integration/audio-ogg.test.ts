// The Ogg Opus writer and reader against the reference tools: opusinfo must report no warnings and
// opusdec must return exactly the input's sample count, for clips encoded by the addon's libopus
// encoder and for opusenc's packets re-muxed by our writer (a real round trip).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePcmToOggOpus, encodeWavToOggOpus } from '../../firmware/audio/encode-wav.js';
import { readOggOpus } from '../../firmware/audio/ogg-opus-reader.js';
import { OggOpusWriter } from '../../firmware/audio/ogg-opus-writer.js';
import { decodeOggPage, encodeOggPage, type OggPage } from '../../firmware/audio/ogg-page.js';
import { readWav, WavFormatError } from '../../firmware/audio/wav.js';

let dir: string;
let speech16k: Int16Array;
let speechWav: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'torlk-ogg-'));
  const raw = join(dir, 'espeak.wav');
  execFileSync('espeak-ng', ['-w', raw, 'Torlk calling base. Radio check, one two three. The quick brown fox jumps over the lazy dog.']);
  speechWav = join(dir, 'speech16k.wav');
  execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', speechWav]);
  speech16k = readWav(readFileSync(speechWav)).samples;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** opusinfo's full output; it prints "WARNING:" lines for any spec violation it finds. */
function opusinfo(file: string): string {
  const r = spawnSync('opusinfo', [file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout + r.stderr;
}

/** Decodes with opusdec at `rate` and returns the samples (pre-skip and end trim applied by opusdec). */
function opusdec(file: string, rate: number): Int16Array {
  const out = `${file}.${rate}.wav`;
  const r = spawnSync('opusdec', ['--quiet', '--rate', String(rate), file, out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return readWav(readFileSync(out)).samples;
}

function save(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function correlation(a: Int16Array, b: Int16Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('clips encoded with the addon encoder', () => {
  it('espeak speech at 16 kHz: opusinfo has no warnings, opusdec gives every sample back, and it correlates', () => {
    const file = save('speech.opus', encodeWavToOggOpus(readFileSync(speechWav), { comments: [['TORLK_FROM', 'alice'], ['TORLK_SEQ', '7']] }));
    const info = opusinfo(file);
    expect(info).not.toMatch(/warning|error/i);
    expect(info).toContain('TORLK_FROM=alice');
    expect(info).toMatch(/Pre-skip: 312/);
    const decoded = opusdec(file, 16000);
    expect(decoded.length).toBe(speech16k.length);
    expect(correlation(decoded, speech16k)).toBeGreaterThan(0.8);
    const parsed = readOggOpus(readFileSync(file));
    expect(parsed.durationSamples).toBe(speech16k.length * 3);
    expect(parsed.tags.comments).toEqual([['TORLK_FROM', 'alice'], ['TORLK_SEQ', '7']]);
  });

  it.each([8000, 12000, 24000, 48000])('at %i Hz input the decoded length is exact too', (rate) => {
    const wav = join(dir, `speech${rate}.wav`);
    execFileSync('sox', [speechWav, '-r', String(rate), wav]);
    const source = readWav(readFileSync(wav)).samples;
    const file = save(`speech${rate}.opus`, encodeWavToOggOpus(readFileSync(wav), { bitrate: 24000 }));
    expect(opusinfo(file)).not.toMatch(/warning|error/i);
    expect(opusdec(file, rate).length).toBe(source.length);
  });

  it.each([1, 319, 320, 321, 999, 16000 + 17])('end trimming is exact for %i input samples', (n) => {
    const pcm = speech16k.subarray(4000, 4000 + n);
    const file = save(`trim${n}.opus`, encodePcmToOggOpus(pcm, 16000));
    expect(opusinfo(file)).not.toMatch(/warning|error/i);
    expect(opusdec(file, 16000).length).toBe(n);
    expect(opusdec(file, 48000).length).toBe(n * 3);
  });

  it('a clip streamed with a flush after every few packets decodes identically to one written in one go', () => {
    const whole = readOggOpus(readFileSync(save('whole.opus', encodePcmToOggOpus(speech16k, 16000, { serial: 5 }))));
    const w = new OggOpusWriter({ inputSampleRate: 16000, preSkip: whole.head.preSkip, serial: 5 });
    const pages: Uint8Array[] = [];
    for (const [i, p] of whole.packets.entries()) {
      pages.push(...w.write(p.data));
      if (i % 15 === 14) pages.push(...w.flush()); // the transport pushes every ~300 ms
    }
    pages.push(...w.end(speech16k.length));
    const streamed = save('streamed.opus', Buffer.concat(pages));
    expect(opusinfo(streamed)).not.toMatch(/warning|error/i);
    expect(Buffer.from(opusdec(streamed, 16000).buffer).equals(Buffer.from(opusdec(join(dir, 'whole.opus'), 16000).buffer))).toBe(true);
  });

  it('stereo WAV is mixed to mono; a 44.1 kHz WAV is refused with the sox command', () => {
    const stereo = join(dir, 'stereo.wav');
    execFileSync('sox', [speechWav, '-c', '2', stereo]);
    const file = save('stereo.opus', encodeWavToOggOpus(readFileSync(stereo)));
    expect(opusdec(file, 16000).length).toBe(speech16k.length);
    const cd = join(dir, 'cd.wav');
    execFileSync('sox', [speechWav, '-r', '44100', cd]);
    expect(() => encodeWavToOggOpus(readFileSync(cd))).toThrow(WavFormatError);
    expect(() => encodeWavToOggOpus(readFileSync(cd))).toThrow(/sox in.wav -r 16000 -c 1 out.wav/);
  });
});

describe('a second logical stream beside the audio (the clip layout: a signature stream)', () => {
  it('opus-tools and our reader both accept it; the reader hands the other stream back', () => {
    const bytes = encodePcmToOggOpus(speech16k, 16000, { serial: 1 });
    const pages: OggPage[] = [];
    for (let at = 0; at < bytes.length; ) {
      const parsed = decodeOggPage(bytes, at)!;
      pages.push(parsed.page);
      at += parsed.length;
    }
    const sigPage = (bos: boolean, body: Uint8Array) =>
      encodeOggPage({ continued: false, bos, eos: !bos, granule: 0n, serial: 2, sequence: bos ? 0 : 1, lacing: Uint8Array.from([body.length]), body });
    const magic = new TextEncoder().encode('TorlkSig');
    const signature = new Uint8Array(64).fill(0xa5);
    // OpusHead BOS, the other stream's BOS, OpusTags, audio, then the other stream's last page.
    const muxed = Buffer.concat([encodeOggPage(pages[0]!), sigPage(true, magic), ...pages.slice(1).map((p) => encodeOggPage(p)), sigPage(false, signature)]);
    const file = save('muxed.opus', muxed);
    const info = opusinfo(file);
    expect(info).not.toMatch(/warning|error/i);
    expect(info).toMatch(/New logical stream \(#2/);
    expect(opusdec(file, 16000).length).toBe(speech16k.length);
    const parsed = readOggOpus(muxed);
    expect(parsed.durationSamples).toBe(speech16k.length * 3);
    expect(parsed.otherStreams).toEqual([{ serial: 2, packets: [magic, signature] }]);
  });
});

describe("opusenc's packets re-muxed by our writer", () => {
  it.each([
    ['--framesize 20', 20],
    ['--framesize 60', 60],
    ['--framesize 2.5 (CELT)', 2.5],
  ])('%s: same decode as opusenc\'s own file, no opusinfo warnings', (_, framesize) => {
    const ref = join(dir, `ref${framesize}.opus`);
    execFileSync('opusenc', ['--quiet', '--padding', '0', '--framesize', String(framesize), '--bitrate', '16', speechWav, ref]);
    const parsed = readOggOpus(readFileSync(ref));
    expect(parsed.tags.comments.map(([k]) => k)).toContain('ENCODER');
    const w = new OggOpusWriter({ inputSampleRate: parsed.head.inputSampleRate, preSkip: parsed.head.preSkip, comments: parsed.tags.comments });
    const pages: Uint8Array[] = [];
    for (const p of parsed.packets) pages.push(...w.write(p.data));
    pages.push(...w.end(speech16k.length));
    const ours = save(`remux${framesize}.opus`, Buffer.concat(pages));
    expect(opusinfo(ours)).not.toMatch(/warning|error/i);
    const a = opusdec(ref, 16000);
    const b = opusdec(ours, 16000);
    expect(b.length).toBe(speech16k.length);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(readOggOpus(readFileSync(ours)).finalGranule).toBe(parsed.finalGranule);
  });

  it('our reader agrees with opusinfo on the length of opusenc files', () => {
    const ref = join(dir, 'ref20.opus');
    const parsed = readOggOpus(readFileSync(ref));
    const m = /Playback length: (\d+)m:([\d.]+)s/.exec(opusinfo(ref))!;
    expect(parsed.durationSeconds).toBeCloseTo(Number(m[1]) * 60 + Number(m[2]), 3);
  });
});
