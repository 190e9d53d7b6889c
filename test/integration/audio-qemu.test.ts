// Each committed ARM prebuild of the i2s-audio addon, loaded by node-gyp-build in that
// architecture's Debian Node (bookworm's nodejs 18, N-API 9) under qemu-user, captures known
// speech through a real ALSA file PCM with the target's libasound and Opus-encodes it with the
// target's libopus. The packets come back to the host, go through our Ogg writer, and opusdec
// must return every sample. armel runs with QEMU_CPU=arm1176: the Pi Zero W's ARMv6 core.
// Needs qemu-user and the foreign architectures (scripts/setup --cross); the Debian packages of
// Node and its libraries are fetched with apt-get download and unpacked into a temp dir.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OggOpusWriter } from '../../firmware/audio/ogg-opus-writer.js';
import { readWav } from '../../firmware/audio/wav.js';

const repo = resolve(import.meta.dirname, '../..');
const prebuilds = join(repo, 'hardware/i2s-audio/prebuilds');

interface Target {
  readonly arch: 'arm64' | 'armel';
  readonly qemu: string;
  readonly triple: string;
  readonly cpu?: string;
  readonly prebuild: string;
  readonly nodeArch: string;
  readonly armVersion: string | undefined;
}
const targets: Target[] = [
  { arch: 'arm64', qemu: 'qemu-aarch64', triple: 'aarch64-linux-gnu', prebuild: 'linux-arm64/i2s-audio.armv8.glibc.node', nodeArch: 'arm64', armVersion: undefined },
  { arch: 'armel', qemu: 'qemu-arm', triple: 'arm-linux-gnueabi', cpu: 'arm1176', prebuild: 'linux-arm/i2s-audio.armv6.glibc.node', nodeArch: 'arm', armVersion: '6' },
];

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const foreign = spawnSync('dpkg', ['--print-foreign-architectures'], { encoding: 'utf8' }).stdout.split('\n');

/** Why this target cannot run here, or undefined when it can. */
function missing(t: Target): string | undefined {
  if (!has(t.qemu)) return `${t.qemu} is not installed (qemu-user; run scripts/setup --cross)`;
  if (!foreign.includes(t.arch)) return `dpkg has no ${t.arch} architecture (run scripts/setup --cross)`;
  return undefined;
}

const installed = (pkg: string) => spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout.includes('install ok installed');

/** Unpacks Debian's nodejs for `arch`, its libraries and the addon's runtime libraries into `root`. */
function unpackNode(arch: string, root: string, debs: string): void {
  const deps = execFileSync('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', `nodejs:${arch}`], { encoding: 'utf8' });
  const wanted = new Set([`libasound2:${arch}`, `libopus0:${arch}`]);
  for (const line of deps.split('\n')) {
    // Foreign-arch packages plus Debian node's externalised builtins (node-undici, ...: arch all).
    if (new RegExp(`^([a-z0-9.+-]+:${arch}|node-[a-z0-9.+-]+)$`).test(line) && !/^(dpkg|tar|install-info|openssl|gcc-12-base|[a-z0-9-]+-support):/.test(line)) wanted.add(line);
  }
  const toFetch = [...wanted].filter((p) => !installed(p));
  mkdirSync(debs, { recursive: true });
  const r = spawnSync('apt-get', ['download', ...toFetch], { cwd: debs, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`apt-get download for ${arch} failed: ${r.stderr}`);
  for (const deb of readdirSync(debs)) execFileSync('dpkg', ['-x', join(debs, deb), root]);
}

/** The program run by the ARM Node: load through node-gyp-build, capture, print one JSON line. */
const guest = `
const load = require(process.argv[2]);
const [dir, infile, frames] = process.argv.slice(3);
const file = load.resolve(dir);
const addon = load(dir);
const config = 'pcm.mic { type file slave.pcm "mic_null" file "/dev/null" infile ' + JSON.stringify(infile) + ' format "raw" }\\npcm.mic_null { type null }\\n';
const cap = new addon.Capture({ device: 'mic', config, format: 'S16_LE', channels: 1, rate: 16000, periodFrames: 320, pace: false,
  maxFrames: Number(frames), pcmTap: true, highPass: false, gainDb: 0, settleMs: 0, preRollMs: 10000, tailMs: 0 });
const pcm = [], packets = [];
cap.start((ev) => {
  if (ev.type === 'pcm') pcm.push(Buffer.from(ev.samples.buffer, ev.samples.byteOffset, ev.samples.byteLength));
  else if (ev.type === 'packets') packets.push(...ev.packets);
  else if (ev.type === 'fault') { console.error(JSON.stringify(ev.error)); process.exit(3); }
  else if (ev.type === 'end') {
    const lookahead = cap.info().lookahead;
    cap.close();
    console.log(JSON.stringify({ file, arch: process.arch, node: process.version, armVersion: process.config.variables.arm_version,
      versions: addon.versions, end: ev, lookahead, pcm: Buffer.concat(pcm).toString('base64'),
      packets: packets.map((p) => p.data.toString('base64')) }));
  }
});
cap.record();
`;

/** Runs a command in its own process group; kills the group (SIGTERM, then SIGKILL) after `ms`. */
function runGuest(cmd: string, args: string[], env: NodeJS.ProcessEnv, ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const signal = (s: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, s);
      } catch {
        // already gone
      }
    };
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let kill: NodeJS.Timeout | undefined;
    const term = setTimeout(() => {
      signal('SIGTERM');
      kill = setTimeout(() => signal('SIGKILL'), 3000);
    }, ms);
    child.on('close', (code) => {
      clearTimeout(term);
      if (kill) clearTimeout(kill);
      done({ code, stdout, stderr });
    });
  });
}

let work: string;
let speech: Int16Array;
let speechRaw: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'torlk-qemu-'));
  const wav = join(work, 'espeak.wav');
  execFileSync('espeak-ng', ['-w', wav, 'Unit two to base, radio check over Tor.']);
  const wav16 = join(work, 'speech16k.wav');
  execFileSync('sox', [wav, '-r', '16000', '-c', '1', '-b', '16', wav16, 'trim', '0', '2']);
  speech = readWav(readFileSync(wav16)).samples;
  speechRaw = join(work, 'speech16k.raw');
  writeFileSync(speechRaw, Buffer.from(speech.buffer, speech.byteOffset, speech.byteLength));
  // Only the prebuilds (no build/Release, which node-gyp-build would prefer), plus a decoy: an
  // ARMv7 build that armel's Node (arm_version 6) must not pick.
  cpSync(prebuilds, join(work, 'addon/prebuilds'), { recursive: true });
  cpSync(join(prebuilds, targets[0]!.prebuild), join(work, 'addon/prebuilds/linux-arm/i2s-audio.armv7.glibc.node'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('ARM prebuilds are committed and built for the right CPU', () => {
  it.each(targets)('$arch: $prebuild', (t) => {
    const file = join(prebuilds, t.prebuild);
    expect(existsSync(file), `${file} missing: run scripts/prebuild`).toBe(true);
    const attrs = execFileSync('readelf', ['-h', '-A', file], { encoding: 'utf8' });
    if (t.arch === 'armel') {
      expect(attrs).toMatch(/Machine:\s+ARM/);
      expect(attrs).toMatch(/Tag_CPU_arch: v6/);
      expect(attrs).not.toMatch(/Tag_ABI_VFP_args: VFP registers/); // armel: soft-float calling convention
    } else {
      expect(attrs).toMatch(/Machine:\s+AArch64/);
    }
  });
});

describe('the committed prebuilds are what scripts/prebuild makes from the current sources', () => {
  const tools = targets.every((t) => has(`${t.triple}-g++`) && existsSync(`/usr/lib/${t.triple}/libopus.so`));
  it.skipIf(!tools)(tools ? 'rebuilds both and compares bytes' : 'not run here: cross toolchains missing (scripts/setup --cross)', async () => {
    const out = join(work, 'rebuilt');
    const run = await runGuest(join(repo, 'scripts/prebuild'), [], { ...process.env, TORLK_PREBUILD_OUT: out }, 170_000);
    expect(run.code, run.stderr).toBe(0);
    for (const t of targets) {
      const fresh = readFileSync(join(out, t.prebuild));
      const committed = readFileSync(join(prebuilds, t.prebuild));
      expect(fresh.equals(committed), `${t.prebuild} is stale: run scripts/prebuild and commit hardware/i2s-audio/prebuilds`).toBe(true);
    }
  });
});

for (const t of targets) {
  const reason = missing(t);
  if (reason) {
    console.warn(`audio-qemu: ${t.arch} not tested: ${reason}`);
    it.skip(`${t.arch} under ${t.qemu}: not run here because ${reason}`, () => undefined);
    continue;
  }
  describe(`${t.arch} prebuild under ${t.qemu}${t.cpu ? ` (QEMU_CPU=${t.cpu})` : ''}`, () => {
    let root: string;
    beforeAll(() => {
      root = join(work, `root-${t.arch}`);
      unpackNode(t.arch, root, join(work, `debs-${t.arch}`));
    });

    it("loads through node-gyp-build in Debian's Node and captures speech bit-exactly, with Opus packets opusdec decodes", async () => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, QEMU_LD_PREFIX: root, LD_LIBRARY_PATH: `/usr/lib/${t.triple}:/lib/${t.triple}` };
      if (t.cpu) env.QEMU_CPU = t.cpu;
      const script = join(work, 'guest.cjs');
      writeFileSync(script, guest);
      const args = [join(root, 'usr/bin/node'), script, join(repo, 'node_modules/node-gyp-build'), join(work, 'addon'), speechRaw, String(speech.length)];
      const run = await runGuest(t.qemu, args, env, 120_000);
      expect(run.code, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
        file: string; arch: string; node: string; armVersion?: string; versions: { alsa: string; opus: string };
        end: { reason: string; samples: number; xruns: number }; lookahead: number; pcm: string; packets: string[];
      };
      expect(out.file).toBe(join(work, 'addon/prebuilds', t.prebuild));
      expect(out.arch).toBe(t.nodeArch);
      expect(out.node).toMatch(/^v18\./);
      expect(out.armVersion).toBe(t.armVersion);
      expect(out.versions.alsa).toBe('1.2.8');
      expect(out.versions.opus).toContain('1.3.1');
      expect(out.end).toMatchObject({ reason: 'eof', samples: speech.length, xruns: 0 });
      expect(Buffer.from(out.pcm, 'base64').equals(Buffer.from(speech.buffer, speech.byteOffset, speech.byteLength))).toBe(true);
      expect(out.packets).toHaveLength(Math.ceil((speech.length + out.lookahead) / 320));

      const writer = new OggOpusWriter({ inputSampleRate: 16000, preSkip: out.lookahead * 3 });
      const pages: Uint8Array[] = [];
      for (const p of out.packets) pages.push(...writer.write(Buffer.from(p, 'base64')));
      pages.push(...writer.end(speech.length));
      const ogg = join(work, `${t.arch}.opus`);
      writeFileSync(ogg, Buffer.concat(pages));
      expect(execFileSync('opusinfo', [ogg], { encoding: 'utf8' })).not.toMatch(/warning|error/i);
      execFileSync('opusdec', ['--quiet', '--rate', '16000', ogg, `${ogg}.wav`]);
      const decoded = readWav(readFileSync(`${ogg}.wav`)).samples;
      expect(decoded.length).toBe(speech.length);
      let ab = 0, aa = 0, bb = 0;
      for (let i = 0; i < speech.length; i++) {
        ab += speech[i]! * decoded[i]!;
        aa += speech[i]! ** 2;
        bb += decoded[i]! ** 2;
      }
      expect(ab / Math.sqrt(aa * bb)).toBeGreaterThan(0.8);
    });
  });
}
