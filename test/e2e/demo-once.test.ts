// `torlk demo --once --json` (what `npm start -- --once --json` runs) as a child process: its own
// private Tor network, two radios, one exchange. The result line is checked against the files it
// names with opusinfo/opusdec, and nothing it started may outlive it. Ctrl-C mid-start is clean too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readRawS16 } from '../../firmware/app/demo-speech.js';
import { bundleTorlk, runTorlk } from './bundle.js';
import { bestAlignment, opusdec16k, opusinfoClean, processesMentioning } from './e2e-audio-checks.js';

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'torlk-e2e-demo-'));
  bundle = await bundleTorlk(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('torlk demo --once --json', () => {
  it('prints exactly one JSON line for a delivered clip, exits 0 and leaves no tor behind', async () => {
    const work = join(dir, 'work');
    const out = join(dir, 'out');
    const r = await runTorlk(bundle, ['demo', '--once', '--json', '--work', work, '--out', out], 240_000);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(['audio_ms', 'clip_bytes', 'delivered', 'latency_ms', 'output']);
    expect(result.delivered).toBe(true);
    const latency = result.latency_ms as number;
    const bytes = result.clip_bytes as number;
    const audioMs = result.audio_ms as number;
    expect(latency).toBeGreaterThan(0);
    expect(audioMs).toBeGreaterThan(3000);
    expect(bytes / (audioMs / 1000)).toBeLessThan(2300);
    const output = result.output as string;
    expect(dirname(output)).toBe(out);
    opusinfoClean(output);
    // Bob's audio is alice's phrase: compare with espeak's own WAV at 16 kHz.
    const phrase16k = join(dir, 'phrase16k.raw');
    execFileSync('sox', [join(out, 'phrase.wav'), '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', phrase16k]);
    const fit = bestAlignment(await readRawS16(phrase16k), opusdec16k(output), 24000);
    expect(fit.r).toBeGreaterThan(0.7);
    expect(existsSync(join(out, 'received.wav'))).toBe(true);
    // The view narrated the exchange on stderr.
    for (const said of ['tor connected', 'talk button down', 'received a clip from alice', 'delivered (streamed)']) expect(r.stderr).toContain(said);
    expect(processesMentioning(work)).toEqual([]);
    process.stderr.write(`demo e2e: ${JSON.stringify(result)}; r=${fit.r.toFixed(3)}\n`);
  });

  it('SIGINT while the network starts: exits with the reason, every tor stopped', async () => {
    const work = join(dir, 'work-int');
    let sent = false;
    const r = await runTorlk(bundle, ['demo', '--once', '--json', '--work', work, '--out', join(dir, 'out-int')], 120_000, (text, child) => {
      if (!sent && text.includes('radios ready')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('stopped');
    expect(processesMentioning(work)).toEqual([]);
  });

  it('refuses bad options with a reason and exit code 2', async () => {
    const bad = await runTorlk(bundle, ['demo', '--once', '--bogus'], 20_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
    const empty = await runTorlk(bundle, ['demo', '--phrase', '  '], 20_000);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--phrase needs some words');
  });
});
