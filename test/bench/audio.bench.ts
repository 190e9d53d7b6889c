// Capture + encode cost and memory of the i2s-audio addon.
// 1. CPU seconds per audio second: the simulated mic (real ALSA file PCM, unpaced) captures,
//    conditions and Opus-encodes 60 s of espeak-ng speech on the addon's thread, events delivered to
//    JS; against `opusenc` (bash `time`, user+sys) encoding the same raw audio. Same libopus
//    settings (16 kbit/s VBR, 20 ms, complexity 10 = opusenc's default), plus a row at our default 5.
// 2. Peak RSS the addon adds: this script re-runs itself as two child processes, one capturing and
//    encoding the same audio, one doing everything but loading the addon; the difference of VmHWM.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileCaptureConfig } from '../../hardware/i2s-audio/alsa-config.js';
import { loadAddon } from '../../hardware/i2s-audio/index.js';
import { makeTempDir, speechRaw, writeS16 } from '../fixtures/audio/speech-fixture.js';

const RATE = 16000;
const SECONDS = 60;
const RUNS = 3;

function peakRssMb(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m?.[1]) / 1024;
}

/**
 * Captures and encodes the whole file; returns CPU seconds of this process and samples encoded.
 * Drives the native Capture directly so record() lands within microseconds of start(): unpaced, the
 * file PCM is read far faster than real time and a later record() would skip audio (and CPU).
 */
function captureAndEncode(infile: string, frames: number, complexity: number): Promise<{ cpu: number; samples: number; packets: number }> {
  const { Capture } = loadAddon();
  const before = process.cpuUsage();
  const capture = new Capture({
    device: 'bench_mic',
    config: fileCaptureConfig({ name: 'bench_mic', infile }),
    rate: RATE,
    settleMs: 0,
    complexity,
    bitrate: 16000,
    maxFrames: frames,
  });
  let packets = 0;
  return new Promise((resolve, reject) => {
    capture.start((e) => {
      if (e.type === 'packets') packets += e.packets.length;
      else if (e.type === 'fault') reject(new Error(e.error.message));
      else if (e.type === 'end') {
        const used = process.cpuUsage(before);
        capture.close();
        resolve({ cpu: (used.user + used.system) / 1e6, samples: e.samples, packets });
      }
    });
    capture.record();
  });
}

function opusencCpu(raw: string, out: string): number {
  const script = `TIMEFORMAT='%U %S'; time opusenc --quiet --raw --raw-rate ${RATE} --raw-chan 1 --bitrate 16 --vbr --speech --framesize 20 "$0" "$1"`;
  const r = execFileSync('bash', ['-c', `{ ${script}; } 2>&1`, raw, out], { encoding: 'utf8' });
  const [u, s] = r.trim().split(/\s+/).slice(-2).map(Number);
  return u! + s!;
}

const min = (xs: number[]) => Math.min(...xs);

async function child(mode: string, infile: string): Promise<void> {
  const frames = readFileSync(infile).length / 2;
  if (mode === 'with') await captureAndEncode(infile, frames, 10);
  else {
    // The same file read and JS work, without the addon.
    const bytes = readFileSync(infile);
    let sum = 0;
    for (let i = 0; i < bytes.length; i += 640) sum += bytes[i]!;
    if (sum < 0) console.log(sum);
  }
  process.stdout.write(`RSS ${peakRssMb()}\n`);
}

async function main(): Promise<void> {
  const [, script, mode, infileArg] = process.argv;
  if (mode === 'with' || mode === 'without') return child(mode, infileArg!);

  const dir = makeTempDir('torlk-audio-bench-');
  try {
    const speech = speechRaw(dir.path, RATE, 200).samples;
    const long = new Int16Array(RATE * SECONDS);
    for (let at = 0; at < long.length; at += speech.length) long.set(speech.subarray(0, Math.min(speech.length, long.length - at)), at);
    const raw = writeS16(join(dir.path, 'speech60.raw'), long);
    console.error(`audio bench: ${SECONDS} s of espeak-ng speech at ${RATE} Hz`);

    const ref = min(Array.from({ length: RUNS }, () => opusencCpu(raw, join(dir.path, 'ref.opus'))));
    console.error(`audio bench: opusenc ${ref.toFixed(3)} s CPU`);
    const rows: object[] = [];
    for (const complexity of [10, 5]) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await captureAndEncode(raw, long.length, complexity));
      const lost = long.length - Math.min(...runs.map((r) => r.samples));
      if (lost > RATE * 0.4) throw new Error(`the recording missed ${lost} samples; the bench would flatter the addon`);
      const cpu = min(runs.map((r) => r.cpu));
      console.error(`audio bench: addon capture+encode cx ${complexity}: ${cpu.toFixed(3)} s CPU`);
      const value = cpu / SECONDS;
      const reference = ref / SECONDS;
      rows.push({
        metric: `capture+encode CPU per audio second (addon, complexity ${complexity})`,
        value,
        unit: 's/s',
        reference: { name: 'opusenc --speech --bitrate 16 --framesize 20 (complexity 10)', value: reference },
        ratio: value / reference,
        goal: '<= 1.0',
        pass: value / reference <= 1.0,
      });
    }

    const rss = (mode: string) => {
      const out = execFileSync(process.execPath, [script!, mode, raw], { encoding: 'utf8' });
      return Number(/RSS ([\d.]+)/.exec(out)?.[1]);
    };
    const withAddon = min([rss('with'), rss('with')]);
    const without = min([rss('without'), rss('without')]);
    console.error(`audio bench: peak RSS with the addon ${withAddon.toFixed(1)} MB, without ${without.toFixed(1)} MB`);
    rows.push({
      metric: 'peak RSS added by the addon (capture+encode 60 s)',
      value: withAddon - without,
      unit: 'MB',
      reference: { name: 'node doing the same I/O without the addon', value: without },
      goal: '<= 5 MB',
      pass: withAddon - without <= 5,
    });
    console.log(`BENCH_JSON ${JSON.stringify({ section: 'audio', rows })}`);
  } finally {
    dir.remove();
  }
}

await main();
