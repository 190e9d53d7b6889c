// Issue 6's end-to-end figures: two complete radios (firmware/app) on the private Tor network, alice
// talking to bob through the addon on ALSA file PCMs. References are measured in this same run.
// 1. Release-to-delivered for a ~10 s clip, streamed while talking (median of 3), and the same
//    audio sent after release (seal, new stream, whole upload; median of 3). Reference: one
//    request/response round trip on a new stream over the warm circuit (median of 7).
// 2. Bytes on the wire per second of speech. Reference: the Opus packets alone.
// 3. CPU seconds per audio second of the firmware (alice and bob share this process, so the figure
//    covers sender and receiver together), and of their two tors. Reference: opusenc on the audio.
// 4. RSS at idle and after 200 clips (replayed mic packets, the rest real), with the growth trend.
// 5. Firmware start to ready, tor excluded (RadioApp.start). Reference: `node -e 0`.
// Progress goes to stderr; the last stdout line is BENCH_JSON (scripts/bench.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestnet, type Testnet } from '../../scripts/testnet/network.js';
import { RadioPair } from '../../firmware/app/radio-pair.js';
import { RadioApp } from '../../firmware/app/radio-app.js';
import { makeSpeech } from '../../firmware/app/demo-speech.js';
import { provisionRadios } from '../../firmware/app/demo-provision.js';
import { clipPackets } from '../../firmware/app/clip-playback.js';
import { FileFedMicrophone } from '../../firmware/app/file-fed-microphone.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import { sealClip } from '../../firmware/clip/seal-clip.js';
import { nextSequence } from '../../firmware/clip/sequence-counter.js';
import { recipientFor } from '../../firmware/transport/clip-transport.js';
import { uploadClip } from '../../firmware/transport/sender.js';
import { ReplayMicrophone } from './replay-microphone.js';

const TEN_SECONDS = 'Alice to Bob, radio check over Tor. One, two, three, four, five. The quick brown fox jumps over the lazy dog, over.';
const RSS_CLIPS = 200;
const say = (msg: string) => process.stderr.write(`e2e.bench: ${msg}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mb = (bytes: number) => bytes / (1024 * 1024);

/** utime+stime of a process in seconds, from /proc (tor runs as its own process). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

/** CPU seconds of a child command, from bash's `times` (children's user and system lines). */
function childCpuSeconds(cmd: string): number {
  const out = execFileSync('bash', ['-c', `${cmd} >/dev/null 2>&1; times`], { encoding: 'utf8' });
  const line = out.trim().split('\n')[1] ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return secs.reduce((a, b) => a + b, 0);
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'torlk-e2e-bench-'));
  let net: Testnet | undefined;
  let pair: RadioPair | undefined;
  const rows: object[] = [];
  try {
    say('starting the private network');
    net = await startTestnet({ dir: join(dir, 'net') });
    const speech = await makeSpeech(dir, TEN_SECONDS);
    say(`speech: ${(speech.speechMs / 1000).toFixed(1)} s`);
    const aliceButton = new ScriptedButton();
    const aliceMic = new ReplayMicrophone();
    pair = await RadioPair.start({ dir: join(dir, 'radios'), torConfig: net.torrcLinesForClient(), aliceInput: { button: aliceButton, microphone: aliceMic } });
    const startFirst = Math.max(pair.alice.app.startMs, pair.bob.app.startMs);
    await pair.waitOnline(150_000);
    await sleep(2000);
    const rssIdle = process.memoryUsage().rss;
    say(`online; idle RSS ${mb(rssIdle).toFixed(1)} MB`);

    // Reference: request/response round trip on a new stream over the warm circuit.
    const connector = pair.alice.app.torLink.connector();
    const bobOnion = pair.bob.app.onion;
    const rtts: number[] = [];
    for (let i = 0; i < 7; i++) {
      const probe = await connector(bobOnion, 80);
      rtts.push(
        await new Promise<number>((resolve, reject) => {
          const t0 = performance.now();
          probe.once('data', () => resolve(performance.now() - t0));
          probe.once('error', reject);
          setTimeout(() => reject(new Error('probe: no answer in 30 s')), 30_000).unref();
          probe.write('POST /v1/clip HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello');
        }),
      );
      probe.destroy();
    }
    const rtt = median(rtts);
    say(`warm onion round trip: median ${rtt.toFixed(1)} ms (${rtts.map((r) => r.toFixed(0)).join(', ')})`);

    // Streamed: three ~10 s talks through the addon, timed from release to alice's verified receipt.
    const streamed: number[] = [];
    const sealedAfter: number[] = [];
    const perSecond: number[] = [];
    let cpuFirmware = 0;
    let cpuTor = 0;
    let audioSeconds = 0;
    let received: Uint8Array | undefined;
    const torPids = pair.radios.map((r) => r.app.torLink.tor!.pid!);
    for (let i = 0; i < 3; i++) {
      const cpu0 = process.cpuUsage();
      const tor0 = torPids.map(processCpuSeconds);
      const r = await pair.talk(speech);
      const cpu = process.cpuUsage(cpu0);
      cpuFirmware += (cpu.user + cpu.system) / 1e6;
      cpuTor += torPids.map(processCpuSeconds).reduce((a, v, k) => a + v - tor0[k]!, 0);
      audioSeconds += r.audioMs / 1000;
      streamed.push(r.delivered.latencyMs!);
      sealedAfter.push(r.releaseToSealedMs);
      perSecond.push(r.delivered.bytesSent / (r.audioMs / 1000));
      received = r.receivedOgg;
      say(`streamed talk ${i + 1}: ${r.audioMs} ms audio, ${r.delivered.bytesSent} B, release-to-delivered ${r.delivered.latencyMs!.toFixed(0)} ms (${r.delivered.via}), of which release-to-sealed ${r.releaseToSealedMs.toFixed(0)} ms`);
    }
    const decoded = clipPackets(received!);
    const opusBytesPerSecond = decoded.packets.reduce((n, p) => n + p.data.length, 0) / (decoded.durationMs / 1000);

    // Send-after-release: the same audio sealed at release and uploaded whole on a new stream.
    const afterRelease: number[] = [];
    const bob = pair.alice.app.members[0]!;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const sealed = await sealClip({
        ogg: received!,
        header: { channel: pair.alice.app.channel, sequence: await nextSequence(pair.alice.app.identity.dataDir), createdAt: Date.now() },
        signer: pair.alice.app.identity.signer,
        recipients: [bob.ageRecipient],
      });
      await uploadClip({ connector, recipient: recipientFor(bob), body: sealed });
      afterRelease.push(performance.now() - t0);
      say(`send-after-release ${i + 1}: ${afterRelease.at(-1)!.toFixed(0)} ms for ${sealed.length} B`);
    }

    // Opusenc on the same audio, for the CPU reference.
    const opusencCpu = childCpuSeconds(`opusenc --quiet --bitrate 16 ${speech.wav} ${join(dir, 'ref.opus')}`);
    const speechSeconds = speech.speechMs / 1000 + (speech.leadMs + speech.trailMs) / 1000;

    // Memory: 200 one-second clips (replayed packets, everything after the mic real).
    const second = decoded.packets.slice(0, 50);
    aliceMic.useReplay(decoded.format, second);
    const rss: number[] = [];
    const at: number[] = [];
    for (let i = 1; i <= RSS_CLIPS; i++) {
      const once = (app: RadioApp, event: 'delivered' | 'played', what: string) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`clip ${i}: no ${what} within 30 s`)), 30_000);
          app.once(event, () => {
            clearTimeout(timer);
            resolve();
          });
        });
      const delivered = once(pair.alice.app, 'delivered', "receipt at alice");
      const played = once(pair.bob.app, 'played', 'playback at bob');
      aliceButton.press();
      await sleep(300);
      aliceButton.release();
      await Promise.all([delivered, played]);
      if (i % 20 === 0) {
        rss.push(process.memoryUsage().rss);
        at.push(i);
        say(`clip ${i}: RSS ${mb(rss.at(-1)!).toFixed(1)} MB`);
      }
    }
    const rssAfter = rss.at(-1)!;
    const half = Math.floor(rss.length / 2);
    const trendMbPer100 = slope(at.slice(half), rss.slice(half).map(mb)) * 100;

    // Start to ready without tor: fresh radios whose tor cannot start (start-to-ready must not wait for it).
    const extra = await provisionRadios(join(dir, 'starts'), ['carol', 'dave', 'erin', 'frank']);
    const starts: number[] = [];
    for (const radio of extra) {
      const app = await RadioApp.start({
        dataDir: radio.dataDir,
        configPath: radio.configPath,
        hardware: { button: new ScriptedButton(), led: new RecordingLed(), microphone: new FileFedMicrophone(), speaker: createSimSpeaker({ outfile: join(dir, 'starts', 'out.raw'), rate: 16000 }) },
        tor: { torBinary: '/bin/false' },
      });
      starts.push(app.startMs);
      await app.stop();
    }
    const nodeStart = (() => {
      const t0 = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      return performance.now() - t0;
    })();
    const startReady = median(starts);
    say(`start-to-ready: first ${startFirst.toFixed(0)} ms, then median ${startReady.toFixed(1)} ms (${starts.map((s) => s.toFixed(0)).join(', ')})`);

    const latency = median(streamed);
    const bps = median(perSecond);
    rows.push(
      { metric: 'release-to-delivered, streamed (~10 s clip)', value: latency, unit: 'ms', reference: { name: 'warm onion stream round trip', value: rtt }, ratio: latency / rtt, goal: '<= 1.5', pass: latency / rtt <= 1.5 },
      { metric: 'release-to-delivered minus release-to-sealed (mic tail, last page)', value: latency - median(sealedAfter), unit: 'ms', reference: { name: 'warm onion stream round trip', value: rtt }, ratio: (latency - median(sealedAfter)) / rtt },
      { metric: 'release-to-delivered, send after release', value: median(afterRelease), unit: 'ms', reference: { name: 'warm onion stream round trip', value: rtt }, ratio: median(afterRelease) / rtt },
      { metric: 'bytes on the wire per speech second', value: bps, unit: 'B/s', reference: { name: 'Opus packets alone', value: opusBytesPerSecond }, ratio: bps / opusBytesPerSecond, goal: '<= 2300 B/s', pass: bps <= 2300 },
      { metric: 'firmware CPU per audio second (alice+bob, one process)', value: cpuFirmware / audioSeconds, unit: 's/s', reference: { name: 'opusenc, same speech', value: opusencCpu / speechSeconds }, ratio: cpuFirmware / audioSeconds / (opusencCpu / speechSeconds || 1e-9) },
      { metric: 'tor CPU per audio second (both tors)', value: cpuTor / audioSeconds, unit: 's/s' },
      { metric: 'RSS idle (both radios, one process)', value: mb(rssIdle), unit: 'MB', goal: '<= 64 MB', pass: mb(rssIdle) <= 64 },
      { metric: `RSS after ${RSS_CLIPS} clips (both radios)`, value: mb(rssAfter), unit: 'MB', reference: { name: 'RSS idle', value: mb(rssIdle) }, ratio: rssAfter / rssIdle, goal: '<= 64 MB', pass: mb(rssAfter) <= 64 },
      { metric: `RSS trend over clips ${at[half]}-${RSS_CLIPS}`, value: trendMbPer100, unit: 'MB/100 clips', goal: '<= 1 (no growth)', pass: trendMbPer100 <= 1 },
      { metric: 'firmware start to ready, tor excluded', value: startReady, unit: 'ms', reference: { name: 'node -e 0', value: nodeStart }, ratio: startReady / nodeStart, goal: '<= 400 ms', pass: startReady <= 400 },
      { metric: 'firmware start to ready, first start in the process', value: startFirst, unit: 'ms', goal: '<= 400 ms', pass: startFirst <= 400 },
    );
  } finally {
    await pair?.stop().catch((err: Error) => say(`stopping the radios: ${err.message}`));
    await net?.stop().catch((err: Error) => say(`stopping the network: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ section: 'e2e', rows })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    say(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
