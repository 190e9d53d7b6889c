// Issue 6's end-to-end figures: two complete radios (firmware/app) on the private Tor network, alice
// talking to bob through the addon on ALSA file PCMs. Both radios are firmware processes of their
// own (e2e-radio-child.ts), bundled and started with torlk.service's NODE_OPTIONS (--jitless and
// the rest, e2e-firmware-process.ts), so their timings are the device's code paths. References are
// measured in this same run.
// 1. Release-to-delivered (alice holds bob's verified receipt) for a ~10 s clip, streamed while
//    talking (median of 15: one talk's figure swings by ±5 ms with tor's scheduling), and the same
//    audio sent after release (seal, new stream, whole upload; median of 3). Reference: the round
//    trip of one small write to a TCP echo server of the bench's that bob's onion service publishes
//    beside his receiver (virtual port 7, onion-echo.ts), so it crosses the talks' own circuit, from
//    alice's tor on a stream left idle 100 ms first (median of 52: 7 first, then 3 before each
//    streamed talk; less those over STALLED_MS, which met a stalled circuit), with the range the
//    ratio could have come out in (a 90% bootstrap interval, ratio-interval.ts). Two more figures,
//    for comparison with earlier runs: the same write to bob's receiver, which refuses it (so bob's
//    HTTP parsing and refusal are included; the reference
//    before 2026-11-25), and that one sent right behind the stream's CONNECTED, which adds a tor
//    scheduler (KIST) wait. (From 2026-11-25 to 2026-12-07 the reference was an echo behind an
//    onion service of its own: another circuit, 2-3 ms faster or slower than the talks' own, and
//    one more tor process on the machine while the talks were timed.) Each streamed talk is also
//    split in two: tor's part (alice's wait after her last byte, Delivered.waitMs, less bob's work
//    after his last chunk, the workMs of his "clip stored" log line) and the radios' part (the
//    rest), so a run's verdict shows which of them moved; and the radios' part again into bob's
//    work (with its clip check and its store: verifyMs and storeMs of the same line) and alice's
//    (the rest), so a change at either end of a talk shows in a figure of its own. The release
//    comes 250 ms after the last word, as a speaker lets go of the button, so the microphone keeps
//    no tail (hardware/i2s-audio: quietMs); one more talk released mid-sentence shows the cost of
//    the tail when it is kept.
// 2. Bytes on the wire per second of speech. Reference: the Opus packets alone.
// 3. CPU seconds per audio second: alice's firmware process (the sender) and bob's (the receiver),
//    and their two tors. Reference: opusenc.
// 4. RSS of each radio's firmware process at idle and after 200 clips (replayed mic packets, the
//    rest real), with the growth trend over clips 50-200. Alice's process is started afresh for it,
//    onto the same data dir.
// 5. Firmware start to ready, tor excluded (RadioApp.start, in this process); the first start is
//    the two firmware processes'. Reference: `node -e 0`.
// Progress goes to stderr; the last stdout line is BENCH_JSON (scripts/bench.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestnet, type Testnet } from '../../scripts/testnet/network.js';
import { socksConnect } from '../../firmware/tor/socks5-client.js';
import { openClip } from '../../firmware/clip/open-clip.js';
import { inboxKey } from '../../firmware/store/inbox.js';
import { RadioApp } from '../../firmware/app/radio-app.js';
import { setLogSink } from '../../firmware/log.js';
import { makeSpeech, readRawS16, type Speech } from '../../firmware/app/demo-speech.js';
import { provisionRadios } from '../../firmware/app/demo-provision.js';
import { clipPackets } from '../../firmware/app/clip-playback.js';
import { FileFedMicrophone } from '../../firmware/app/file-fed-microphone.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import { FirmwareProcess, firmwareNodeOptions, SERVICE_UNIT, type FirmwareStats, type ReceiverTimings } from './e2e-firmware-process.js';
import { ECHO_VIRTUAL_PORT, startEchoServer, timeFirstByte, type EchoServer } from './onion-echo.js';
import { median } from './median.js';
import { medianRatioInterval } from './ratio-interval.js';

const TEN_SECONDS = 'Alice to Bob, radio check over Tor. One, two, three, four, five. The quick brown fox jumps over the lazy dog, over.';
const RSS_CLIPS = 200;
const STREAMED_TALKS = 15;
/** A probe slower than this met the ~40 ms Nagle/delayed-ACK stall of tor's OR connections (scripts/testnet/README.md). */
const STALLED_MS = 35;
const isStalled = (ms: number) => ms > STALLED_MS;
// TORLK_BENCH_E2E=latency,memory,start picks parts (all by default): the memory run alone takes
// minutes, so latency work can iterate without it. Skipped parts print no rows.
const parts = new Set((process.env.TORLK_BENCH_E2E ?? 'latency,memory,start').split(',').map((x) => x.trim()));
const say = (msg: string) => process.stderr.write(`e2e.bench: ${msg}\n`);
const mb = (bytes: number) => bytes / (1024 * 1024);
const memLine = (s: FirmwareStats) =>
  `${mb(s.rss).toFixed(1)} MB (anon ${mb(s.anon).toFixed(1)}, file-backed ${mb(s.file).toFixed(1)}; heap ${mb(s.heapUsed).toFixed(1)}/${mb(s.heapTotal).toFixed(1)}, external ${mb(s.external).toFixed(1)})`;

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


/** A moment after the speech's midpoint with 300 ms of unbroken talking before it (every 20 ms block within 20 dB of the loudest): a release there is mid-word. */
async function midWordMs(s: Speech): Promise<number> {
  const pcm = await readRawS16(s.raw);
  const block = 320;
  const power: number[] = [];
  for (let i = 0; i + block <= pcm.length; i += block) {
    let sum = 0;
    for (let j = i; j < i + block; j++) sum += pcm[j]! * pcm[j]!;
    power.push(sum / block);
  }
  const loud = Math.max(...power) / 100;
  const from = Math.round((s.leadMs + s.speechMs / 2) / 20);
  for (let b = from; b < power.length; b++) if (power.slice(b - 14, b + 1).every((p) => p > loud)) return (b + 1) * 20;
  throw new Error('the speech has no 300 ms of unbroken talking after its midpoint');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'torlk-e2e-bench-'));
  let net: Testnet | undefined;
  let alice: FirmwareProcess | undefined;
  let bob: FirmwareProcess | undefined;
  let aliceProcess: FirmwareProcess | undefined;
  let echoBesideBob: EchoServer | undefined;
  const rows: object[] = [];
  try {
    say('starting the private network');
    net = await startTestnet({ dir: join(dir, 'net') });
    const speech = await makeSpeech(dir, TEN_SECONDS);
    say(`speech: ${(speech.speechMs / 1000).toFixed(1)} s`);
    const [a, b] = await provisionRadios(join(dir, 'radios'), ['alice', 'bob']);
    const torConfig = net.torrcLinesForClient();
    // Both radios are firmware processes started as torlk.service starts them (its NODE_OPTIONS:
    // --jitless and the rest), so their timings are the device's code paths, not this process's JIT.
    echoBesideBob = await startEchoServer();
    const echo7 = { virtualPort: ECHO_VIRTUAL_PORT, localPort: echoBesideBob.port };
    bob = await FirmwareProcess.start('bob', { dataDir: b!.dataDir, configPath: b!.configPath, speakerFile: join(dir, 'bob.raw'), torConfig, echo: echo7 });
    alice = await FirmwareProcess.start('alice', { dataDir: a!.dataDir, configPath: a!.configPath, speakerFile: join(dir, 'alice.raw'), torConfig });
    const [aliceReady, bobReady] = await Promise.all([alice.next('ready', 30_000), bob.next('ready', 30_000)]);
    const startFirst = Math.max(aliceReady.startMs as number, bobReady.startMs as number);
    const alicePublished = await alice.next('published', 150_000);
    const bobTor = (await bob.next('published', 150_000)).torPid as number;
    await Promise.all([alice.next('connected', 150_000), bob.next('connected', 150_000)]);
    await alice.request('online', 'online', 150_000);
    // The probes go through alice's tor from here: the reference is tor's round trip, timed by an
    // idle process rather than by a radio.
    const aliceSocks = alicePublished.socksPort as number;
    const connector = (host: string, port: number) => socksConnect({ socksPort: aliceSocks, host, port, timeoutMs: 20_000 });
    const bobOnion = bobReady.onion as string;
    /** Until a stream to the echo beside bob's receiver opens (after new circuits: a new rendezvous). */
    const echoReachable = async () => {
      for (let tries = 0; ; tries++) {
        try {
          (await connector(bobOnion, ECHO_VIRTUAL_PORT)).destroy();
          return;
        } catch (err) {
          if (tries > 120) throw err;
          await sleep(500);
        }
      }
    };
    await echoReachable();
    await sleep(2000);
    const bobIdle = await bob.stats();
    const rssIdleBob = bobIdle.rss;
    say(`online; idle RSS bob ${mb(rssIdleBob).toFixed(1)} MB (heap ${mb(bobIdle.heapUsed).toFixed(1)} of ${mb(bobIdle.heapTotal).toFixed(1)} MB, external ${mb(bobIdle.external).toFixed(1)} MB)`);

    // Reference: the round trip of one small write through the echo on bob's onion, on a new
    // stream over the talks' warm circuit (tor gives streams to one onion one circuit). Probed 7
    // times now and 3 more times before each streamed talk, so the reference sees the machine as
    // the talks do (tor's timings on a loaded two-core machine drift by 2-3x over a minute). The
    // probes of bob's receiver are for comparison.
    const sameCircuitRtts: number[] = [];
    const rtts: number[] = [];
    const freshRtts: number[] = [];
    const refusal = 'POST /v1/clip HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello';
    const probe = async (host: string, port: number, payload: string, idleMs: number) => {
      const stream = await connector(host, port);
      // One write per probe, so Nagle cannot hold it; set anyway so a probe never waits on an ACK.
      stream.setNoDelay(true);
      try {
        if (idleMs > 0) await sleep(idleMs);
        return await timeFirstByte(stream, payload);
      } finally {
        stream.destroy();
      }
    };
    // A circuit whose rendezvous path crosses one relay pair twice stalls every exchange on it by
    // ~40 ms (tor's OR connections and delayed ACKs; scripts/testnet/README.md), which the public
    // network's thousands of relays make vanishingly rare, and would time the stall, not the radios:
    // before the timed probes and each talk, a stalled circuit is replaced (NEWNYM), and the count reported.
    let rebuilt = 0;
    let keptStalled = 0;
    let lastNewnym = 0;
    const stalled = async (host: string, port: number, payload: string) =>
      isStalled(Math.min(await probe(host, port, payload, 100), await probe(host, port, payload, 100)));
    const unstall = async () => {
      for (let attempt = 0; ; attempt++) {
        if (!(await stalled(bobOnion, ECHO_VIRTUAL_PORT, 'x'.repeat(60)))) return;
        if (attempt === 4) {
          // Both radios' guards are fixed, so some pairs of them stall whatever the rest of the
          // path: time this run as it is, and say so in the table.
          keptStalled++;
          say('the circuit to bob still stalls after 4 new ones: timed as it is');
          return;
        }
        // Tor delays a NEWNYM that comes within 10 s of the last one; without the wait the same
        // circuits would be probed again.
        await sleep(Math.max(0, lastNewnym + 11_000 - performance.now()));
        say(`the circuit to bob stalls (every probe over ${STALLED_MS} ms): new circuits`);
        rebuilt++;
        lastNewnym = performance.now();
        await alice!.request('newnym', 'online', 150_000);
        await echoReachable();
      }
    };
    const probeRtt = async (n: number) => {
      await unstall();
      for (let i = 0; i < n; i++) {
        // Streams left idle first. Tor's KIST scheduler holds a cell that follows its last run by
        // less than a run interval until the next run, at each hop, so a request sent right behind
        // the stream's CONNECTED times that wait on top of the round trip (the third figure).
        sameCircuitRtts.push(await probe(bobOnion, ECHO_VIRTUAL_PORT, 'x'.repeat(60), 100));
        // Bob's receiver answers the bogus upload with a refusal: the reference before 2026-11-25.
        rtts.push(await probe(bobOnion, 80, refusal, 100));
        freshRtts.push(await probe(bobOnion, 80, refusal, 0));
      }
    };
    await probeRtt(7);

    const bobPlayed = (clipId: string) => {
      const seen = bob!.lines.some((m) => m.t === 'played' && m.clipId === clipId);
      return seen ? Promise.resolve() : bob!.next('played', 60_000, (m) => m.clipId === clipId).then(() => undefined);
    };
    /** One talk through alice's addon: mic on the file, press in the lead silence, release after the speech. */
    const talk = async (s: Speech, releaseAtMs = s.leadMs + s.speechMs + 250) => {
      const command = JSON.stringify({ cmd: 'talk', raw: s.raw, leadMs: s.leadMs, releaseAtMs });
      const r = (await alice!.request(command, 'talked', 90_000)) as unknown as { clipId: string; latencyMs: number; waitMs: number; via: string; bytesSent: number; audioMs: number; toSealed: number };
      await bobPlayed(r.clipId);
      return r;
    };

    // Streamed: STREAMED_TALKS ~10 s talks, timed from release to alice's verified receipt.
    const streamed: number[] = [];
    const sealedAfter: number[] = [];
    // Each streamed talk split in two: tor's part (alice's last byte to bob, and the receipt back:
    // alice's wait after her last byte less bob's work after his last chunk) and the radios' (the rest).
    const torPart: number[] = [];
    const radiosPart: number[] = [];
    // The radios' part split further: bob's timings from his "clip stored" log line; the rest is
    // alice's, before her last byte and after the receipt.
    const bobTimes: ReceiverTimings[] = [];
    const perSecond: number[] = [];
    let cpuAlice = 0;
    let cpuBob = 0;
    let cpuTor = 0;
    let audioSeconds = 0;
    let lastClip = '';
    const torPids = [alicePublished.torPid as number, bobTor];
    // The memory run needs one received clip to replay, so one talk happens even without 'latency'.
    for (let i = 0; i < (parts.has('latency') ? STREAMED_TALKS : 1); i++) {
      await probeRtt(3);
      const alice0 = (await alice.stats()).cpuSeconds;
      const bob0 = (await bob.stats()).cpuSeconds;
      const tor0 = torPids.map(processCpuSeconds);
      const r = await talk(speech);
      cpuAlice += (await alice.stats()).cpuSeconds - alice0;
      cpuBob += (await bob.stats()).cpuSeconds - bob0;
      cpuTor += torPids.map(processCpuSeconds).reduce((acc, v, k) => acc + v - tor0[k]!, 0);
      audioSeconds += r.audioMs / 1000;
      streamed.push(r.latencyMs);
      sealedAfter.push(r.toSealed);
      perSecond.push(r.bytesSent / (r.audioMs / 1000));
      lastClip = r.clipId;
      // Bob's log line comes on his stderr, a pipe apart from his replies: give it a moment.
      for (let waited = 0; !bob.receiverLog.byClip.has(r.clipId) && waited < 2000; waited += 50) await sleep(50);
      const bobTimings = bob.receiverLog.byClip.get(r.clipId);
      if (bobTimings === undefined) throw new Error(`bob logged no "clip stored" line with workMs, verifyMs and storeMs for clip ${r.clipId} (it is logged at info: ${SERVICE_UNIT}'s TORLK_LOG)`);
      const bobWork = bobTimings.workMs;
      torPart.push(r.waitMs - bobWork);
      radiosPart.push(r.latencyMs - torPart.at(-1)!);
      bobTimes.push(bobTimings);
      say(
        `streamed talk ${i + 1}: ${r.audioMs} ms audio, ${r.bytesSent} B, release-to-delivered ${r.latencyMs.toFixed(0)} ms (${r.via}), of which release-to-sealed ${r.toSealed.toFixed(0)} ms; ` +
          `tor ${torPart.at(-1)!.toFixed(1)} ms, the radios ${radiosPart.at(-1)!.toFixed(1)} ms (bob ${bobWork.toFixed(1)}: verify ${bobTimings.verifyMs.toFixed(1)}, store ${bobTimings.storeMs.toFixed(1)}; alice ${(radiosPart.at(-1)! - bobWork).toFixed(1)})`,
      );
    }
    say(`streamed release-to-delivered: median ${median(streamed).toFixed(1)} ms (${[...streamed].sort((x, y) => x - y).map((x) => x.toFixed(0)).join(', ')})`);
    // Probes that met a stalled circuit (isStalled: the private network's 40 ms stall, replaced
    // before the next talk) are left out of the reference, which they would inflate, flattering
    // every ratio against it; they are counted in the table. Talks are not filtered.
    const unstalled = sameCircuitRtts.filter((x) => !isStalled(x));
    const echoRtts = unstalled.length > 0 ? unstalled : sameCircuitRtts;
    const rtt = median(echoRtts);
    const alicePart = radiosPart.map((r, k) => r - bobTimes[k]!.workMs);
    const refusalRtt = median(rtts);
    const stalls = (xs: number[]) => `${xs.filter(isStalled).length}/${xs.length} over ${STALLED_MS} ms`;
    say(`echo round trip on the talks' circuit (bob's onion, port ${ECHO_VIRTUAL_PORT}): median ${rtt.toFixed(1)} ms of ${echoRtts.length} (${sameCircuitRtts.map((r) => r.toFixed(0)).join(', ')}; ${stalls(sameCircuitRtts)}, left out)`);
    say(`round trip through bob's receiver (refusal path): median ${refusalRtt.toFixed(1)} ms (${rtts.map((r) => r.toFixed(0)).join(', ')}; ${stalls(rtts)}); right behind CONNECTED: median ${median(freshRtts).toFixed(1)} ms (${stalls(freshRtts)})`);
    // Released mid-sentence: the 200 ms tail is kept (for the record; no goal).
    let midSentence: { latency: number; toSealed: number } | undefined;
    if (parts.has('latency')) {
      const r = await talk(speech, await midWordMs(speech));
      midSentence = { latency: r.latencyMs, toSealed: r.toSealed };
      say(`released mid-sentence: release-to-delivered ${r.latencyMs.toFixed(0)} ms, of which release-to-sealed (the tail) ${r.toSealed.toFixed(0)} ms`);
    }
    // Bob's copy of the last full clip, opened from his inbox file.
    const opened = await openClip(new Uint8Array(readFileSync(join(b!.dataDir, 'inbox', `${inboxKey(lastClip)}.clip`))), { identity: b!.identity, contacts: [{ name: 'alice', signingKey: a!.identity.signer.id }] });
    const received = opened.ogg;
    const decoded = clipPackets(received);
    const opusBytesPerSecond = decoded.packets.reduce((n, p) => n + p.data.length, 0) / (decoded.durationMs / 1000);

    // Send-after-release: the same audio sealed at release and uploaded whole on a new stream.
    const afterRelease: number[] = [];
    const receivedOgg = join(dir, 'received.ogg');
    writeFileSync(receivedOgg, received);
    for (let i = 0; i < (parts.has('latency') ? 3 : 0); i++) {
      const sent = (await alice.request(JSON.stringify({ cmd: 'send', ogg: receivedOgg }), 'sent', 90_000)) as unknown as { ms: number; bytes: number };
      // Release → tail recorded and clip complete is the same as when streaming; then seal and upload.
      afterRelease.push(median(sealedAfter) + sent.ms);
      say(`send-after-release ${i + 1}: ${afterRelease.at(-1)!.toFixed(0)} ms for ${sent.bytes} B`);
    }
    await sleep(1000); // bob plays those three

    const opusencCpu = childCpuSeconds(`opusenc --quiet --bitrate 16 ${speech.wav} ${join(dir, 'ref.opus')}`);
    const speechSeconds = speech.speechMs / 1000 + (speech.leadMs + speech.trailMs) / 1000;
    if (parts.has('latency')) {
      const latency = median(streamed);
      const afterTail = latency - median(sealedAfter);
      const interval = medianRatioInterval(streamed, echoRtts);
      say(`release-to-delivered / echo round trip: ${interval.ratio.toFixed(2)}, 90% bootstrap interval ${interval.low.toFixed(2)}-${interval.high.toFixed(2)}`);
      const bps = median(perSecond);
      const opusencPerSecond = opusencCpu / speechSeconds;
      rows.push(
        { metric: 'release-to-delivered, streamed (~10 s clip)', value: latency, unit: 'ms', reference: { name: "echo round trip on the talks' circuit (idle stream)", value: rtt }, ratio: latency / rtt, goal: '<= 1.5', pass: latency / rtt <= 1.5 },
        { metric: 'release-to-delivered / echo round trip: 90% bootstrap interval, low end', value: interval.low, unit: 'ratio' },
        { metric: 'release-to-delivered / echo round trip: 90% bootstrap interval, high end', value: interval.high, unit: 'ratio' },
        { metric: "release-to-delivered, streamed, against the round trip through bob's receiver (refusal path)", value: latency, unit: 'ms', reference: { name: "round trip through bob's receiver (refusal path)", value: refusalRtt }, ratio: latency / refusalRtt },
        { metric: 'release-to-delivered, streamed, against a round trip sent right behind CONNECTED (KIST wait included)', value: latency, unit: 'ms', reference: { name: 'new-stream round trip', value: median(freshRtts) }, ratio: latency / median(freshRtts) },
        { metric: "echo round trip on the talks' circuit (idle stream), the reference above", value: rtt, unit: 'ms', reference: { name: "round trip through bob's receiver (refusal path)", value: refusalRtt }, ratio: rtt / refusalRtt },
        // A run whose rendezvous paths cross one relay pair twice shows ~40 ms more on every probe
        // (tor's OR connections and delayed ACKs; scripts/testnet/README.md): counted, so it shows.
        { metric: `reference probes over ${STALLED_MS} ms (the private network's 40 ms stall)`, value: [sameCircuitRtts, rtts, freshRtts].flat().filter(isStalled).length, unit: 'probes', reference: { name: 'probes', value: sameCircuitRtts.length + rtts.length + freshRtts.length } },
        { metric: 'stalled circuits replaced before timing (NEWNYM)', value: rebuilt, unit: 'circuits' },
        { metric: 'stalled circuits still in place after 4 new ones (the ratio above is not comparable)', value: keptStalled, unit: 'times', goal: '0', pass: keptStalled === 0 },
        { metric: "streamed, of which tor (alice's last byte to bob, the receipt back)", value: median(torPart), unit: 'ms', reference: { name: "echo round trip on the talks' circuit (idle stream)", value: rtt }, ratio: median(torPart) / rtt },
        { metric: "streamed, of which the radios' work (alice's before her last byte and after the receipt, bob's after his last chunk)", value: median(radiosPart), unit: 'ms', reference: { name: "echo round trip on the talks' circuit (idle stream)", value: rtt }, ratio: median(radiosPart) / rtt },
        { metric: "streamed, the radios' work: bob's, from his last chunk to the receipt handed to his socket", value: median(bobTimes.map((t) => t.workMs)), unit: 'ms', reference: { name: "echo round trip on the talks' circuit (idle stream)", value: rtt }, ratio: median(bobTimes.map((t) => t.workMs)) / rtt },
        { metric: "streamed, bob's work: the clip's check, from the body's end to the opened clip", value: median(bobTimes.map((t) => t.verifyMs)), unit: 'ms' },
        { metric: "streamed, bob's work: the store, from the opened clip to the durable inbox entry", value: median(bobTimes.map((t) => t.storeMs)), unit: 'ms' },
        { metric: "streamed, the radios' work: alice's, before her last byte and after the receipt", value: median(alicePart), unit: 'ms', reference: { name: "echo round trip on the talks' circuit (idle stream)", value: rtt }, ratio: median(alicePart) / rtt },
        { metric: 'streamed, of which sealed-to-delivered', value: afterTail, unit: 'ms', reference: { name: "echo round trip on the talks' circuit (idle stream)", value: rtt }, ratio: afterTail / rtt },
        { metric: 'streamed, released mid-sentence (200 ms tail kept)', value: midSentence!.latency, unit: 'ms', reference: { name: "echo round trip on the talks' circuit (idle stream)", value: rtt }, ratio: midSentence!.latency / rtt },
        { metric: 'release-to-delivered, send after release', value: median(afterRelease), unit: 'ms', reference: { name: "echo round trip on the talks' circuit (idle stream)", value: rtt }, ratio: median(afterRelease) / rtt },
        { metric: 'bytes on the wire per speech second', value: bps, unit: 'B/s', reference: { name: 'Opus packets alone', value: opusBytesPerSecond }, ratio: bps / opusBytesPerSecond, goal: '<= 2300 B/s', pass: bps <= 2300 },
        { metric: 'sender firmware CPU per audio second (alice)', value: cpuAlice / audioSeconds, unit: 's/s', reference: { name: 'opusenc, same speech', value: opusencPerSecond }, ratio: cpuAlice / audioSeconds / Math.max(opusencPerSecond, 1e-9) },
        { metric: 'receiver firmware CPU per audio second (bob)', value: cpuBob / audioSeconds, unit: 's/s', reference: { name: 'opusenc, same speech', value: opusencPerSecond }, ratio: cpuBob / audioSeconds / Math.max(opusencPerSecond, 1e-9) },
        { metric: 'tor CPU per audio second (both tors)', value: cpuTor / audioSeconds, unit: 's/s' },
      );
    }

    if (parts.has('memory')) {
      // Memory: 200 one-second clips (replayed packets, everything after the mic real), with alice's
      // firmware now in a process of its own like bob's (same data dir, so the same onion and contacts).
      const nodeOptions = firmwareNodeOptions();
      say(`memory run: both radios as firmware processes with NODE_OPTIONS="${nodeOptions}" (from ${SERVICE_UNIT})`);
      const replayOgg = receivedOgg;
      await alice.stop();
      aliceProcess = await FirmwareProcess.start('alice', { dataDir: a!.dataDir, configPath: a!.configPath, speakerFile: join(dir, 'alice.raw'), torConfig, replayOgg });
      await aliceProcess.next('ready', 30_000);
      await aliceProcess.request('online', 'online', 150_000);
      await sleep(2000);
      const aliceIdle = await aliceProcess.stats();
      const rssIdleAlice = aliceIdle.rss;
      const heapIdleAlice = aliceIdle.heapUsed;
      say(`alice's firmware process online; idle RSS ${memLine(aliceIdle)}; bob ${memLine(await bob.stats())}`);
      const rssA: number[] = [];
      const rssB: number[] = [];
      const heapA: number[] = [];
      const heapB: number[] = [];
      const at: number[] = [];
      for (let i = 1; i <= RSS_CLIPS; i++) {
        const { clipId } = (await aliceProcess.request('clip', 'delivered', 40_000)) as { clipId: string };
        await bobPlayed(clipId);
        if (i % 10 === 0) {
          const sa = await aliceProcess.stats();
          const sb = await bob.stats();
          rssA.push(sa.rss);
          heapA.push(sa.heapUsed);
          rssB.push(sb.rss);
          heapB.push(sb.heapUsed);
          at.push(i);
          if (i % 20 === 0) say(`clip ${i}: RSS alice ${memLine(sa)}; bob ${memLine(sb)}`);
        }
      }
      // Diagnosis, after the sampled figures: what a full GC leaves (retained state, not garbage).
      const gcHeap = { alice: (await aliceProcess.request('gc', 'gc', 10_000)).heapUsed as number, bob: (await bob.request('gc', 'gc', 10_000)).heapUsed as number };
      say(`after a full GC (diagnosis only, not sampled): heap used alice ${mb(gcHeap.alice).toFixed(2)} MB, bob ${mb(gcHeap.bob).toFixed(2)} MB`);
      // The trend once the process has settled: least-squares slope over clips 50-200.
      const half = at.findIndex((n) => n >= 50);
      const trend = (xs: number[]) => slope(at.slice(half), xs.slice(half).map(mb)) * 100;

      const memRows = (who: string, idle: number, series: number[]) => [
        { metric: `RSS idle, ${who}'s firmware process (NODE_OPTIONS="${nodeOptions}", as torlk.service)`, value: mb(idle), unit: 'MB', goal: '<= 64 MB', pass: mb(idle) <= 64 },
        { metric: `RSS after ${RSS_CLIPS} clips, ${who}'s process`, value: mb(series.at(-1)!), unit: 'MB', reference: { name: 'RSS idle', value: mb(idle) }, ratio: series.at(-1)! / idle, goal: '<= 64 MB', pass: mb(series.at(-1)!) <= 64 },
        { metric: `RSS trend, ${who}, clips ${at[half]}-${RSS_CLIPS}`, value: trend(series), unit: 'MB/100 clips', goal: '<= 1 (no growth)', pass: trend(series) <= 1 },
      ];
      rows.push(
        ...memRows('alice (sender)', rssIdleAlice, rssA),
        { metric: `JS heap used after ${RSS_CLIPS} clips, alice`, value: mb(heapA.at(-1)!), unit: 'MB', reference: { name: 'heap idle', value: mb(heapIdleAlice) }, ratio: heapA.at(-1)! / heapIdleAlice },
        { metric: `JS heap trend, alice, clips ${at[half]}-${RSS_CLIPS}`, value: trend(heapA), unit: 'MB/100 clips' },
        { metric: `JS heap retained after ${RSS_CLIPS} clips and a full GC (diagnosis), alice`, value: mb(gcHeap.alice), unit: 'MB' },
        ...memRows('bob (receiver)', rssIdleBob, rssB),
        { metric: `JS heap used after ${RSS_CLIPS} clips, bob`, value: mb(heapB.at(-1)!), unit: 'MB', reference: { name: 'heap idle', value: mb(bobIdle.heapUsed) }, ratio: heapB.at(-1)! / bobIdle.heapUsed },
        { metric: `JS heap trend, bob, clips ${at[half]}-${RSS_CLIPS}`, value: trend(heapB), unit: 'MB/100 clips' },
        { metric: `JS heap retained after ${RSS_CLIPS} clips and a full GC (diagnosis), bob`, value: mb(gcHeap.bob), unit: 'MB' },
      );
    }

    if (parts.has('start')) {
      // Start to ready without tor: fresh radios whose tor cannot start (start-to-ready must not wait for it).
      const extra = await provisionRadios(join(dir, 'starts'), ['carol', 'dave', 'erin', 'frank']);
      const starts: number[] = [];
      // Each of these radios logs that its tor did not start; expected here, so kept off the table's output.
      const sink = setLogSink(() => undefined);
      try {
        for (const radio of extra) {
          const r = await RadioApp.start({
            dataDir: radio.dataDir,
            configPath: radio.configPath,
            hardware: { button: new ScriptedButton(), led: new RecordingLed(), microphone: new FileFedMicrophone(), speaker: createSimSpeaker({ outfile: join(dir, 'starts', 'out.raw'), rate: 16000 }) },
            tor: { torBinary: '/bin/false' },
          });
          starts.push(r.startMs);
          await r.stop();
        }
      } finally {
        setLogSink(sink);
      }
      const nodeStart = (() => {
        const t0 = performance.now();
        spawnSync(process.execPath, ['-e', '0']);
        return performance.now() - t0;
      })();
      const startReady = median(starts);
      say(`start-to-ready: first ${startFirst.toFixed(0)} ms, then median ${startReady.toFixed(1)} ms (${starts.map((x) => x.toFixed(0)).join(', ')})`);

      rows.push(
        { metric: 'firmware start to ready, tor excluded', value: startReady, unit: 'ms', reference: { name: 'node -e 0', value: nodeStart }, ratio: startReady / nodeStart, goal: '<= 400 ms', pass: startReady <= 400 },
        { metric: 'firmware start to ready, first start in a process', value: startFirst, unit: 'ms', goal: '<= 400 ms', pass: startFirst <= 400 },
      );
    }
  } finally {
    await bob?.stop().catch((err: Error) => say(`stopping bob: ${err.message}`));
    await echoBesideBob?.close();
    await aliceProcess?.stop().catch((err: Error) => say(`stopping alice's process: ${err.message}`));
    await alice?.stop().catch((err: Error) => say(`stopping alice: ${err.message}`));
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
