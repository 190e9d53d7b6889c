// One radio in a process of its own for the e2e benchmark, so its RSS and CPU are the firmware's
// alone, measured the way the firmware runs: bundled like dist/torlk.cjs and started with the
// NODE_OPTIONS of the image's torlk.service (e2e-firmware-process.ts). The real app on simulated
// hardware; JSON lines out, one command per line in:
//   receiver (bob): "stats", "stop"
//   sender (alice): also "online" (waits until the peer's onion answers), "newnym" (new circuits,
//   then online again); for the timed talks
//   {"cmd":"talk",...} (the addon on an ALSA file PCM in real time: press in the lead silence,
//   release at a given moment, report release-to-delivered) and {"cmd":"send",...} (the same audio
//   sealed and uploaded whole, send-after-release); for the 200-clip memory run "clip" (press, hold
//   300 ms with the replayed microphone packets, release, wait for the receipt).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RadioApp, type DeliveredInfo } from '../../firmware/app/radio-app.js';
import { clipPackets } from '../../firmware/app/clip-playback.js';
import { socksConnect } from '../../firmware/tor/socks5-client.js';
import { newCircuits, type ServicePort } from '../../firmware/tor/index.js';
import { sealClip } from '../../firmware/clip/seal-clip.js';
import { nextSequence } from '../../firmware/clip/sequence-counter.js';
import { recipientFor } from '../../firmware/transport/clip-transport.js';
import { uploadClip } from '../../firmware/transport/sender.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import { ReplayMicrophone } from './replay-microphone.js';
import { onceApp } from './app-event.js';

interface ChildConfig {
  dataDir: string;
  configPath: string;
  speakerFile: string;
  torConfig: string[];
  /** Receiver only: the bench's echo server (localPort), published as a virtual port of this radio's onion. */
  echo?: ServicePort;
  /** Sender only: an Ogg Opus file whose packets the microphone replays for every clip. */
  replayOgg?: string;
}

const send = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const button = new ScriptedButton();
const microphone = new ReplayMicrophone();
if (config.replayOgg) {
  const decoded = clipPackets(new Uint8Array(readFileSync(config.replayOgg)));
  microphone.useReplay(decoded.format, decoded.packets.slice(0, 50)); // 1 s of speech per clip
}
const app = await RadioApp.start({
  dataDir: config.dataDir,
  configPath: config.configPath,
  // Paced, as a sound card plays: unpaced, the file speaker decoded a whole clip in one burst of
  // CPU just as the receipt crossed tor, which no device does.
  hardware: { button, led: new RecordingLed(), microphone, speaker: createSimSpeaker({ outfile: config.speakerFile, rate: 16000, pace: true }) },
  tor: {
    extraConfig: config.torConfig,
    ...(config.echo ? { extraServicePorts: [config.echo] } : {}),
  },
});
send({ t: 'ready', startMs: app.startMs, onion: app.onion });
app.torReady.then(
  () => send({ t: 'published', torPid: app.torLink.tor?.pid, socksPort: app.torLink.socksPort }),
  (err: Error) => send({ t: 'error', message: err.message }),
);
app.on('tor', (s) => s.state === 'connected' && send({ t: 'connected' }));
app.on('played', (e) => send({ t: 'played', clipId: e.clipId }));

/** Tor connected and the peer's onion answering (its descriptor may take a moment to be fetched). */
async function online(): Promise<void> {
  while (app.shell.state.tor.kind !== 'connected') await sleep(200);
  const peer = app.members[0]!.onion;
  for (let tries = 0; ; tries++) {
    try {
      (await socksConnect({ socksPort: app.torLink.socksPort!, host: peer, port: 80, timeoutMs: 20_000 })).destroy();
      return;
    } catch (err) {
      if (tries > 120) throw err;
      await sleep(500);
    }
  }
}

/** One press of the replayed microphone: the same firmware path as a held button. */
async function clip(): Promise<void> {
  const recording = onceApp<{ clipId: string }>(app, 'recording', 'recording', 5000);
  button.press();
  const { clipId } = await recording;
  const delivered = onceApp<DeliveredInfo>(app, 'delivered', 'receipt', 30_000, (e) => e.clipId === clipId);
  await sleep(300);
  button.release();
  const info = await delivered;
  send({ t: 'delivered', clipId, via: info.via });
}

interface TalkCommand {
  readonly cmd: 'talk';
  /** Raw S16_LE mono 16 kHz speech (demo-speech.ts). */
  readonly raw: string;
  /** Silence before the speech: the press comes 150 ms before it ends. */
  readonly leadMs: number;
  /** When the button is let go, from the start of the file. */
  readonly releaseAtMs: number;
}

/** One talk through the addon on the file, timed by the app from release to the verified receipt. */
async function talk(c: TalkCommand): Promise<void> {
  microphone.useFile();
  await microphone.load(c.raw);
  const loadedAt = performance.now();
  await sleep(Math.max(0, c.leadMs - 150 - (performance.now() - loadedAt)));
  const recording = onceApp<{ clipId: string }>(app, 'recording', 'recording', 5000);
  button.press();
  const { clipId } = await recording;
  const sealed = onceApp<{ clipId: string; durationMs: number }>(app, 'sealed', 'sealed clip', 60_000, (e) => e.clipId === clipId);
  const delivered = onceApp<DeliveredInfo>(app, 'delivered', 'receipt', 60_000, (e) => e.clipId === clipId);
  await sleep(Math.max(0, c.releaseAtMs - (performance.now() - loadedAt)));
  button.release();
  const releasedAt = performance.now();
  const seal = await sealed;
  const toSealed = performance.now() - releasedAt;
  const info = await delivered;
  send({ t: 'talked', clipId, latencyMs: info.latencyMs, waitMs: info.waitMs, via: info.via, bytesSent: info.bytesSent, audioMs: seal.durationMs, toSealed });
}

/** Send-after-release: `ogg` sealed now and uploaded whole on a new stream to the first contact. */
async function sendWhole(c: { readonly ogg: string }): Promise<void> {
  const ogg = new Uint8Array(readFileSync(c.ogg));
  const peer = app.members[0]!;
  const t0 = performance.now();
  const sealed = await sealClip({
    ogg,
    header: { channel: app.channel, sequence: await nextSequence(app.identity.dataDir), createdAt: Date.now() },
    signer: app.identity.signer,
    recipients: [peer.ageRecipient],
  });
  await uploadClip({ connector: app.torLink.connector(), recipient: recipientFor(peer), body: sealed });
  send({ t: 'sent', ms: performance.now() - t0, bytes: sealed.length });
}

/** Resident memory split: anonymous (heaps, malloc) and file-backed (node's binary and libraries, paged in as used). */
function residentSplit(): { anon: number; file: number } {
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
  return { anon: kb('Anonymous'), file: kb('Rss') - kb('Anonymous') };
}

/** Diagnosis only, after the sampled figures: a full GC shows what the heap really retains. */
function fullGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

for await (const line of createInterface({ input: process.stdin })) {
  try {
    if (line === 'stats') {
      const cpu = process.cpuUsage();
      const m = process.memoryUsage();
      // Per V8 space (old, code, new, large objects...): where a growing heap grows.
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, committed: s.physical_space_size }]));
      send({ t: 'stats', ...residentSplit(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, cpuSeconds: (cpu.user + cpu.system) / 1e6, spaces });
    } else if (line === 'gc') {
      send({ t: 'gc', heapUsed: fullGc() });
    } else if (line === 'online') {
      await online();
      send({ t: 'online' });
    } else if (line === 'newnym') {
      // The bench's way out of a stalled circuit (scripts/testnet/README.md): new circuits, then
      // wait until the peer answers again.
      await newCircuits(app.torLink.tor!);
      await online();
      send({ t: 'online' });
    } else if (line === 'clip') {
      await clip();
    } else if (line.startsWith('{')) {
      const c = JSON.parse(line) as TalkCommand | { cmd: 'send'; ogg: string };
      if (c.cmd === 'talk') await talk(c);
      else if (c.cmd === 'send') await sendWhole(c);
      else throw new Error(`unknown command ${line}`);
    } else if (line === 'stop') break;
  } catch (err) {
    send({ t: 'error', message: (err as Error).message });
  }
}
await app.stop();
process.exit(0);
