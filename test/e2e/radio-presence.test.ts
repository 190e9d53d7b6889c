// A contact back after a long absence gets the clips queued for them within about a minute: alice's
// outbox has backed off for 10-20 min (as it would have after an hour of bob being off), so only her
// presence watch can notice bob's radio is back (his onion publishes a new descriptor) and kick it.
// Two full radios on the private Tor network; the watch looks every 4 s here instead of 60 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { provisionRadios, type ProvisionedRadio } from '../../firmware/app/demo-provision.js';
import { makeSpeech, type Speech } from '../../firmware/app/demo-speech.js';
import { FileFedMicrophone } from '../../firmware/app/file-fed-microphone.js';
import { RadioApp } from '../../firmware/app/radio-app.js';
import { SocksError, socksConnect } from '../../firmware/tor/index.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { sayPhrase } from '../support/say-phrase.js';
import { createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import { useTestnet } from '../support/testnet.js';

const tn = useTestnet();
const PRESENCE_INTERVAL_MS = 4000;
let dir: string;
let speech: Speech;
let alice: ProvisionedRadio;
let bob: ProvisionedRadio;
const apps: RadioApp[] = [];

async function startRadio(radio: ProvisionedRadio): Promise<{ app: RadioApp; mic: FileFedMicrophone; button: ScriptedButton }> {
  const mic = new FileFedMicrophone();
  const button = new ScriptedButton();
  const app = await RadioApp.start({
    dataDir: radio.dataDir,
    configPath: radio.configPath,
    hardware: { button, led: new RecordingLed(), microphone: mic, speaker: createSimSpeaker({ outfile: join(dir, `${radio.name}-${apps.length}.raw`), rate: 16000 }) },
    tor: { extraConfig: tn.net.torrcLinesForClient(), presence: { intervalMs: PRESENCE_INTERVAL_MS } },
    // After the first failure the next retry is 10-20 min away: only the presence watch can be quicker.
    outbox: { backoff: { baseMs: 20 * 60_000, maxMs: 30 * 60_000, factor: 2, jitter: 0.5 } },
  });
  apps.push(app);
  return { app, mic, button };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'torlk-e2e-presence-'));
  speech = await makeSpeech(dir, 'Bob, are you back?', 600, 1200);
  [alice, bob] = (await provisionRadios(join(dir, 'radios'), ['alice', 'bob'])) as [ProvisionedRadio, ProvisionedRadio];
});
afterAll(async () => {
  await Promise.allSettled(apps.splice(0).map((a) => a.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe('presence watch', () => {
  it('delivers a clip queued for bob within about a minute of his radio coming back, despite a 10-20 min backoff', async () => {
    const a = await startRadio(alice);
    const b = await startRadio(bob);
    await Promise.all([a.app.torReady, b.app.torReady]);
    // Bob's descriptor is on the HSDirs once alice's tor can reach his onion.
    const until = Date.now() + 150_000;
    for (;;) {
      try {
        const s = await socksConnect({ socksPort: a.app.torLink.socksPort!, host: b.app.onion, port: 80, timeoutMs: 20_000 });
        s.destroy();
        break;
      } catch (err) {
        if (!(err instanceof SocksError && err.retryable) || Date.now() > until) throw err;
        await sleep(500);
      }
    }

    await b.app.stop(); // bob switches off; his old descriptor stays on the HSDirs
    const queued = new Promise<{ clipId: string }>((resolve) => a.app.once('queued', resolve));
    const retried = new Promise<{ error: string }>((resolve) => a.app.once('retry', resolve));
    await sayPhrase({ microphone: a.mic, button: a.button }, speech);
    const { clipId } = await queued;
    await retried; // the first attempt failed: the outbox now waits 10-20 min
    const item = a.app.outbox.pending().find((i) => i.clipId === clipId);
    expect(item!.nextAttemptAt - Date.now()).toBeGreaterThan(9 * 60_000);
    // Alice's watch has looked at bob's (old) descriptor at least once before he returns.
    await sleep(2.5 * PRESENCE_INTERVAL_MS);

    const backAt = performance.now();
    const delivered = new Promise<{ clipId: string; via: string }>((resolve) => a.app.on('delivered', (e) => e.clipId === clipId && resolve(e)));
    const again = await startRadio(bob);
    expect(again.app.onion).toBe(b.app.onion);
    const played = new Promise<void>((resolve) => again.app.on('played', (e) => e.clipId === clipId && resolve()));
    const d = await Promise.race([delivered, sleep(90_000).then(() => undefined)]);
    const seconds = (performance.now() - backAt) / 1000;
    expect(d, `not delivered within 90 s of bob's radio starting again`).toBeDefined();
    expect(d!.via).toBe('queued');
    await played;
    expect(a.app.outbox.pending()).toEqual([]);
    process.stderr.write(`radio-presence e2e: bob back (radio start) to queued clip delivered ${seconds.toFixed(1)} s, presence interval ${PRESENCE_INTERVAL_MS / 1000} s, outbox backoff 10-20 min\n`);
  }, 300_000);
});
