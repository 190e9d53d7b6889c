// What the end-to-end suites check on received audio, with the reference tools: opusinfo must accept
// the Ogg without warnings, and opusdec's output must correlate with the espeak source.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { readWav } from '../../firmware/audio/wav.js';
import { correlation } from '../fixtures/audio/signal-measures.js';

/** opusinfo's output; throws when it exits non-zero or warns. */
export function opusinfoClean(file: string): string {
  const r = spawnSync('opusinfo', [file], { encoding: 'utf8' });
  const text = r.stdout + r.stderr;
  if (r.status !== 0 || /WARNING|ERROR/.test(text)) throw new Error(`opusinfo rejects ${file}:\n${text}`);
  return text;
}

export function opusdec16k(file: string): Int16Array {
  const out = `${file}.16k.wav`;
  const r = spawnSync('opusdec', ['--quiet', '--rate', '16000', file, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`opusdec failed on ${file}: ${r.stderr}`);
  return readWav(readFileSync(out)).samples;
}

/**
 * Best correlation of `received` against `source` over lags up to maxLag samples (the pre-roll and the
 * press time shift the start). Coarse search on every 8th lag, then refined around the best.
 */
export function bestAlignment(source: Int16Array, received: Int16Array, maxLag: number): { lag: number; r: number } {
  let best = { lag: 0, r: -2 };
  for (let lag = -maxLag; lag <= maxLag; lag += 8) {
    const r = correlation(received, source, lag);
    if (r > best.r) best = { lag, r };
  }
  for (let lag = best.lag - 8; lag <= best.lag + 8; lag++) {
    const r = correlation(received, source, lag);
    if (r > best.r) best = { lag, r };
  }
  return best;
}

/** PIDs of live processes whose command line mentions `needle` (a tor started with a torrc under our dir). */
export function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return found;
}
