// Ogg Opus bytes per second of speech at 8, 12, 16 and 24 kbit/s: the addon's libopus encoder plus
// our Ogg writer, against opusenc on the same audio (`--speech --padding 0 --framesize 20`), both
// measured here in the same run. A second set of rows re-muxes opusenc's own packets with our
// writer, which isolates the container's cost from the encoders' differences.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePcmToOggOpus } from '../../firmware/audio/encode-wav.js';
import { readOggOpus } from '../../firmware/audio/ogg-opus-reader.js';
import { OggOpusWriter } from '../../firmware/audio/ogg-opus-writer.js';
import { readWav } from '../../firmware/audio/wav.js';

const TEXT =
  'This is Torlk, push to talk over Tor. Base, this is unit two, we are at the north gate and ' +
  'the road is clear. Repeat, the road is clear. We will move in ten minutes and report again ' +
  'from the bridge. Please keep this channel open and call if anything changes. Over.';

const dir = mkdtempSync(join(tmpdir(), 'torlk-ogg-bench-'));
const rows: object[] = [];
try {
  const raw = join(dir, 'espeak.wav');
  const wav = join(dir, 'speech16k.wav');
  execFileSync('espeak-ng', ['-s', '150', '-w', raw, TEXT]);
  execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', wav]);
  const pcm = readWav(readFileSync(wav)).samples;
  const seconds = pcm.length / 16000;
  if (seconds < 10) throw new Error(`espeak-ng produced only ${seconds.toFixed(1)} s of speech; the bench needs 10 s`);
  console.error(`ogg bench: ${seconds.toFixed(2)} s of espeak-ng speech at 16 kHz`);

  for (const kbps of [8, 12, 16, 24]) {
    const ref = join(dir, `ref${kbps}.opus`);
    const refArgs = ['--quiet', '--speech', '--padding', '0', '--framesize', '20', '--bitrate', String(kbps), wav, ref];
    execFileSync('opusenc', refArgs);
    const refBytes = readFileSync(ref).length;
    // complexity 10 is opusenc's default; the same settings make the comparison about the muxer and app mode.
    const ours = encodePcmToOggOpus(pcm, 16000, { bitrate: kbps * 1000, complexity: 10 });
    const check = readOggOpus(ours);
    if (check.durationSamples !== pcm.length * 3) throw new Error(`our ${kbps} kbit/s file decodes to ${check.durationSamples} samples, not ${pcm.length * 3}`);
    const value = ours.length / seconds;
    const reference = refBytes / seconds;
    const ratio = value / reference;
    console.error(`ogg bench: ${kbps} kbit/s: ours ${ours.length} B, opusenc ${refBytes} B, ratio ${ratio.toFixed(3)}`);
    rows.push({
      metric: `Ogg bytes per speech second at ${kbps} kbit/s (addon encoder + our writer)`,
      value,
      unit: 'B/s',
      reference: { name: `opusenc --speech --padding 0 --framesize 20 --bitrate ${kbps}`, value: reference },
      ratio,
      goal: '<= 1.02',
      pass: ratio <= 1.02,
    });

    // The same packets in both files: any difference is container overhead (pages, tags).
    const parsed = readOggOpus(readFileSync(ref));
    const w = new OggOpusWriter({ inputSampleRate: 16000, preSkip: parsed.head.preSkip, comments: parsed.tags.comments, vendor: parsed.tags.vendor });
    let remux = 0;
    for (const p of parsed.packets) for (const page of w.write(p.data)) remux += page.length;
    for (const page of w.end(pcm.length)) remux += page.length;
    rows.push({
      metric: `Ogg bytes per speech second at ${kbps} kbit/s (opusenc's packets, our writer)`,
      value: remux / seconds,
      unit: 'B/s',
      reference: { name: 'the same packets in opusenc\'s file', value: reference },
      ratio: remux / refBytes,
      goal: '<= 1.0',
      pass: remux <= refBytes,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`BENCH_JSON ${JSON.stringify({ section: 'ogg', rows })}`);
