// The demo's interactive mode (`torlk demo --interactive`): alice's button is the space bar
// (KeyboardButton, fed here through a stream the way a terminal in raw mode feeds it: one space,
// then auto-repeats every 33 ms while held) and RadioPair.nextExchange waits for whatever she
// talks. The laptop microphone is the one part replaced: a paced file PCM through the same addon,
// because this machine has no capture device.
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestnet } from '../support/testnet.js';
import { RadioPair } from '../../firmware/app/radio-pair.js';
import { FileFedMicrophone } from '../../firmware/app/file-fed-microphone.js';
import { KeyboardButton } from '../../hardware/sim/keyboard-button.js';
import { makeSpeech, readRawS16, type Speech } from '../../firmware/app/demo-speech.js';
import { bestAlignment, opusdec16k } from './e2e-audio-checks.js';
import { writeFile } from 'node:fs/promises';
import { setLogSink } from '../../firmware/log.js';

const tn = useTestnet();
let dir: string;
let pair: RadioPair | undefined;
let speech: Speech;
let keys: PassThrough;
let keyboard: KeyboardButton;
let mic: FileFedMicrophone;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'torlk-e2e-interactive-'));
  speech = await makeSpeech(dir);
  keys = new PassThrough();
  keyboard = new KeyboardButton({ input: keys, onInterrupt: () => undefined });
  mic = new FileFedMicrophone();
  pair = await RadioPair.start({ dir, torConfig: tn.net.torrcLinesForClient(), aliceInput: { button: keyboard, microphone: mic } });
  await pair.waitOnline(150_000);
});
afterAll(async () => {
  await pair?.stop();
  await keyboard?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A held space bar as a terminal sends it: once, then auto-repeats until let go. */
async function holdSpace(ms: number): Promise<void> {
  const end = performance.now() + ms;
  keys.write(' ');
  await sleep(300); // the keyboard's repeat delay
  while (performance.now() < end) {
    keys.write(' ');
    await sleep(33);
  }
}

describe('interactive demo: the space bar talks as alice', () => {
  it('a held space bar records, and nextExchange reports the clip bob received and played', async () => {
    const exchange = pair!.nextExchange(60_000);
    await mic.load(speech.raw);
    await sleep(speech.leadMs - 200);
    await holdSpace(speech.speechMs + 300);
    const r = await exchange;
    expect(r.delivered.via).toBe('streamed');
    // Held for the speech; the release is noticed 150 ms after the last repeat (no key-up events).
    expect(r.heldMs).toBeGreaterThan(speech.speechMs);
    expect(r.audioMs).toBeGreaterThan(speech.speechMs);
    expect(r.audioMs).toBeLessThan(speech.speechMs + 1500);
    const ogg = join(dir, 'interactive.ogg');
    await writeFile(ogg, r.receivedOgg);
    expect(bestAlignment(await readRawS16(speech.raw), opusdec16k(ogg), 16000).r).toBeGreaterThan(0.7);
    expect(pair!.bob.app.receiver.inbox.get(r.clipId)?.played).toBe(true);
  });

  it('a tap of the space bar sends nothing, and is no warning', async () => {
    let recorded = 0;
    const on = () => recorded++;
    pair!.alice.app.on('sealed', on);
    const warnings: string[] = [];
    const previous = setLogSink((line) => {
      if (/"level":"(warn|error)"/.test(line)) warnings.push(line);
      previous(line);
    });
    try {
      await mic.load(speech.raw);
      keys.write(' ');
      await sleep(1500);
    } finally {
      setLogSink(previous);
    }
    pair!.alice.app.off('sealed', on);
    expect(recorded).toBe(0);
    expect(warnings).toEqual([]);
    expect(pair!.alice.app.outbox.pending()).toEqual([]);
  });
});
