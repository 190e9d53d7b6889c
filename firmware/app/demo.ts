// `torlk demo` / `npm start`: the private Tor network on this machine, two radios provisioned as each
// other's contacts, one exchange alice → bob shown live, the result written as Ogg and WAV with its
// figures. Everything it starts is stopped before it returns, on success, failure or abort (Ctrl-C).
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeWav } from '../audio/wav.js';
import type { Button } from '../../hardware/button.js';
import type { Microphone } from '../../hardware/microphone.js';
import { AlsaMicrophone } from '../../hardware/i2s-audio/alsa-microphone.js';
import { KeyboardButton } from '../../hardware/sim/keyboard-button.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { startTestnet, type Testnet } from '../../scripts/testnet/network.js';
import { DemoView, type ViewOutput } from './demo-view.js';
import { DEMO_PHRASE, makeSpeech, readRawS16, SPEECH_RATE } from './demo-speech.js';
import { RadioPair, type ExchangeResult } from './radio-pair.js';

export interface DemoOptions {
  /** One exchange, then stop (otherwise, on a terminal, `t` talks again and `q` quits). */
  readonly once: boolean;
  /** Laptop mic while the space bar is held, when stdin is a terminal and a capture device opens. */
  readonly interactive: boolean;
  /** Where received.ogg, received.wav and phrase.wav go (kept). Default: a new dir under the temp dir. */
  readonly outDir?: string;
  /** Work dir for the network and the radios' data (removed at the end unless given). */
  readonly workDir?: string;
  readonly phrase?: string;
  readonly view: ViewOutput;
  readonly signal: AbortSignal;
  /** Whole budget for network start, bootstrap and the exchange. */
  readonly timeoutMs?: number;
}

export interface DemoResult {
  readonly delivered: true;
  readonly latency_ms: number;
  readonly clip_bytes: number;
  readonly audio_ms: number;
  readonly output: string;
}

export class DemoAbortedError extends Error {
  override readonly name = 'DemoAbortedError';
  constructor() {
    super('stopped by the user');
  }
}

function abortable<T>(signal: AbortSignal, p: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(new DemoAbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DemoAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Opens the default capture device briefly: interactive mode needs one. */
async function laptopMicrophone(): Promise<AlsaMicrophone | undefined> {
  const mic = new AlsaMicrophone({ device: 'default' });
  try {
    await mic.open();
    return mic;
  } catch {
    return undefined;
  }
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const view = new DemoView(o.view);
  const ownWork = o.workDir === undefined;
  const work = o.workDir ?? (await mkdtemp(join(tmpdir(), 'torlk-demo-')));
  const outDir = resolve(o.outDir ?? (await mkdtemp(join(tmpdir(), 'torlk-demo-output-'))));
  let net: Testnet | undefined;
  let pair: RadioPair | undefined;
  let keys: KeyboardButton | undefined;
  const step = <T>(p: Promise<T>) => abortable(o.signal, p);
  try {
    await mkdir(outDir, { recursive: true });
    view.note('starting a private Tor network on 127.0.0.1 (3 authorities, 3 relays; about 20-45 s)');
    net = await step(startTestnet({ dir: join(work, 'net') }));
    view.note(`network up: ${net.authorities.length} authorities, ${net.relays.length} relays`);
    const speech = await step(makeSpeech(work, o.phrase));
    let aliceInput: { button: Button; microphone: Microphone } | undefined;
    if (o.interactive && process.stdin.isTTY) {
      const mic = await laptopMicrophone();
      if (mic) {
        keys = new KeyboardButton(); // Ctrl-C in raw mode still reaches us as SIGINT
        aliceInput = { button: keys, microphone: mic };
      } else view.note('no default capture device: alice says the phrase instead (interactive mode needs a microphone)');
    }
    view.note('provisioning alice and bob (keys, contact cards, channel "demo") and starting both radios');
    pair = await step(
      RadioPair.start({
        dir: join(work, 'radios'),
        torConfig: net.torrcLinesForClient(),
        pacePlayback: !o.once,
        led: () => new RecordingLed(),
        ...(aliceInput ? { aliceInput } : {}),
      }),
    );
    for (const r of pair.radios) view.watch(r.name, r.app, r.led);
    view.note(`radios ready in ${pair.radios.map((r) => `${r.name} ${r.app.startMs.toFixed(0)} ms`).join(', ')} (tor excluded); waiting for their tors`);
    await step(pair.waitOnline(o.timeoutMs ?? 150_000, o.signal));
    view.note("both onions published and bob's is reachable from alice");
    let result: ExchangeResult;
    if (aliceInput) {
      view.note('hold the space bar to talk as alice; release to send');
      result = await step(pair.nextExchange(10 * 60_000, o.signal));
    } else {
      view.note(`alice says "${o.phrase ?? DEMO_PHRASE}" (${(speech.speechMs / 1000).toFixed(1)} s, espeak-ng through the microphone addon)`);
      result = await step(pair.talk(speech, 60_000, o.signal));
    }
    const output = join(outDir, 'received.ogg');
    await writeFile(output, result.receivedOgg);
    const played = await readRawS16(pair.bob.speakerFile);
    await writeFile(join(outDir, 'received.wav'), writeWav({ sampleRate: SPEECH_RATE, channels: 1, samples: played }));
    await copyFile(speech.wav, join(outDir, 'phrase.wav'));
    const latency = result.delivered.latencyMs ?? 0;
    view.note(
      `done: ${(result.audioMs / 1000).toFixed(2)} s of audio, ${result.delivered.bytesSent} bytes on the wire ` +
        `(${(result.delivered.bytesSent / (result.audioMs / 1000)).toFixed(0)} B/s), release-to-delivered ${latency.toFixed(0)} ms`,
    );
    view.note(`bob's audio: ${output} and ${join(outDir, 'received.wav')}`);
    if (!o.once && process.stdin.isTTY && !aliceInput) {
      view.note('press Ctrl-C to stop the radios and the network');
      await new Promise<void>((resolve) => o.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    return { delivered: true, latency_ms: Math.round(latency), clip_bytes: result.delivered.bytesSent, audio_ms: result.audioMs, output };
  } finally {
    view.note('stopping the radios and the network');
    view.close();
    await keys?.close().catch(() => undefined);
    await pair?.stop().catch(() => undefined);
    await net?.stop().catch(() => undefined);
    if (ownWork) await rm(work, { recursive: true, force: true });
  }
}
