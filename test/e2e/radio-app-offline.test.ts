// The radio app without a Tor network: what must hold when tor is missing, the config is unusable,
// the microphone has nothing, or a clip arrives on the receiver directly (loopback, as tor's onion
// service would deliver it). Real parts throughout: addon on ALSA file PCMs, real files, real HTTP.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RadioApp } from '../../firmware/app/radio-app.js';
import { RadioAppError } from '../../firmware/app/app-errors.js';
import { provisionRadios, type ProvisionedRadio } from '../../firmware/app/demo-provision.js';
import { makeSpeech, readRawS16, type Speech } from '../../firmware/app/demo-speech.js';
import { FileFedMicrophone } from '../../firmware/app/file-fed-microphone.js';
import { clipPackets, decodeStoredClip, UnplayableClipError } from '../../firmware/app/clip-playback.js';
import { encodePcmToOggOpus } from '../../firmware/audio/encode-wav.js';
import { sealClip } from '../../firmware/clip/seal-clip.js';
import { createDeviceIdentity } from '../../firmware/identity/device-identity.js';
import { IdentityError } from '../../firmware/identity/identity-error.js';
import { Inbox } from '../../firmware/store/inbox.js';
import { uploadClip } from '../../firmware/transport/sender.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { sayPhrase } from '../support/say-phrase.js';
import { createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import { bestAlignment } from './e2e-audio-checks.js';

let dir: string;
let alice: ProvisionedRadio;
let bob: ProvisionedRadio;
let speech: Speech;
const apps: RadioApp[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'torlk-e2e-offline-'));
  [alice, bob] = (await provisionRadios(join(dir, 'radios'), ['alice', 'bob'])) as [ProvisionedRadio, ProvisionedRadio];
  speech = await makeSpeech(dir, 'Testing one two.', 600, 1200);
});
afterEach(async () => {
  await Promise.allSettled(apps.splice(0).map((a) => a.stop()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function hardware(name: string) {
  return {
    button: new ScriptedButton(),
    led: new RecordingLed(),
    microphone: new FileFedMicrophone(),
    speaker: createSimSpeaker({ outfile: join(dir, `${name}-out.raw`), rate: 16000 }),
  };
}

/** A radio whose tor cannot start (no such binary): everything else runs. */
async function startOffline(radio: ProvisionedRadio, hw = hardware(radio.name)): Promise<RadioApp> {
  const app = await RadioApp.start({ dataDir: radio.dataDir, configPath: radio.configPath, hardware: hw, tor: { torBinary: join(dir, 'no-such-tor') } });
  apps.push(app);
  return app;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('bad configuration stops the start with a reason', () => {
  it('missing keys: IdentityError naming the file and "torlk init"', async () => {
    const err = await RadioApp.start({ dataDir: join(dir, 'empty'), configPath: join(dir, 'empty.toml'), hardware: hardware('x') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as Error).message).toMatch(/age-identity\.txt is missing: run "torlk init"/);
  });

  it('no channel at all: RadioAppError no-channel', async () => {
    const data = join(dir, 'lonely');
    await createDeviceIdentity(data);
    const err = await RadioApp.start({ dataDir: data, configPath: join(data, 'torlk.toml'), hardware: hardware('x') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RadioAppError);
    expect((err as RadioAppError).problem).toBe('no-channel');
    expect((err as Error).message).toContain('torlk contact add');
  });

  it('a channel without members: RadioAppError empty-channel', async () => {
    const config = join(dir, 'empty-channel.toml');
    const text = await readFile(alice.configPath, 'utf8');
    await writeFile(config, `${text.replace(/channel = "demo"/, 'channel = "quiet"')}\n[channel.quiet]\nmembers = []\n`);
    const err = await RadioApp.start({ dataDir: alice.dataDir, configPath: config, hardware: hardware('x') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RadioAppError);
    expect((err as RadioAppError).problem).toBe('empty-channel');
  });
});

describe('running without tor', () => {
  it('tor missing: the radio still records, and the clip waits in the outbox', async () => {
    const hw = hardware('alice');
    const app = await startOffline(alice, hw);
    expect(app.startMs).toBeLessThan(2000);
    await expect(app.torReady).rejects.toThrow(/no-such-tor/);
    await until(() => app.shell.state.tor.kind === 'error', 5000, 'the tor error to reach the radio');
    expect(app.shell.ledPattern).toBe('torError');
    const queued = new Promise<{ clipId: string }>((resolve) => app.once('queued', resolve));
    await sayPhrase(hw, speech);
    const { clipId } = await queued;
    expect(app.outbox.pending().map((i) => i.clipId)).toEqual([clipId]);
    expect(app.shell.state.outgoing).toHaveLength(1);
    // A retry fails with the typed "tor not running" error and keeps the clip.
    const retry = await new Promise<{ error: string }>((resolve) => app.once('retry', resolve));
    expect(retry.error).toMatch(/no stream through tor/);
    expect(app.outbox.pending()).toHaveLength(1);
  });

  it('a press with no microphone input is a microphone fault, not a crash', async () => {
    const hw = hardware('alice');
    const app = await startOffline(alice, hw);
    hw.button.press();
    await until(() => app.shell.state.faults.some((f) => f.device === 'microphone'), 2000, 'the fault');
    expect(app.shell.ledPattern).toBe('fault');
    hw.button.release();
  });

  it('a clip that reaches the receiver is verified, stored, played to the speaker and marked played', async () => {
    const hw = hardware('bob');
    const app = await startOffline(bob, hw);
    const samples = await readRawS16(speech.raw);
    const ogg = encodePcmToOggOpus(samples, 16000);
    const me = app.members[0]!; // alice, as bob knows her
    const sealed = await sealClip({
      ogg,
      header: { channel: 'demo', sequence: 1, createdAt: Date.now() },
      signer: alice.identity.signer,
      recipients: [bob.identity.ageRecipient],
    });
    const played = new Promise<{ clipId: string; samples: number }>((resolve) => app.once('played', resolve));
    const delivered = await uploadClip({
      connector: async () => connect(app.receiver.port, '127.0.0.1'),
      recipient: { name: 'bob', host: app.onion, port: 80, signingKey: bob.identity.signer.id },
      body: sealed,
    });
    expect(delivered.duplicate).toBe(false);
    const p = await played;
    expect(app.receiver.inbox.get(p.clipId)?.senderName).toBe(me.name);
    expect(app.receiver.inbox.get(p.clipId)?.played).toBe(true);
    const out = await readRawS16(join(dir, 'bob-out.raw'));
    expect(Math.abs(out.length - samples.length)).toBeLessThan(400);
    expect(bestAlignment(samples, out, 2000).r).toBeGreaterThan(0.8);
    expect(app.shell.state.activity.kind).toBe('idle');
    // A double press replays the last clip heard, and leaves it heard. (Taps record too, then are discarded.)
    await hw.microphone.load(speech.raw);
    await sleep(300);
    const again = new Promise<{ clipId: string }>((resolve, reject) => {
      app.once('playing', resolve);
      setTimeout(() => reject(new Error('no replay within 5 s')), 5000).unref();
    });
    hw.button.press();
    await sleep(60);
    hw.button.release();
    await sleep(120);
    hw.button.press();
    await sleep(60);
    hw.button.release();
    expect((await again).clipId).toBe(p.clipId);
    await until(() => app.shell.state.activity.kind === 'idle', 5000, 'the replay to end');
    expect(app.shell.state.unheard).toEqual([]);
  });

  it('talk has priority: a press during playback stops it, and the clip plays again in full afterwards', async () => {
    const hw = { ...hardware('bob'), speaker: createSimSpeaker({ outfile: join(dir, 'bob-paced.raw'), rate: 16000, pace: true }) };
    const app = await startOffline(bob, hw);
    const samples = await readRawS16(speech.raw);
    const sealed = await sealClip({
      ogg: encodePcmToOggOpus(samples, 16000),
      header: { channel: 'demo', sequence: 2, createdAt: Date.now() },
      signer: alice.identity.signer,
      recipients: [bob.identity.ageRecipient],
    });
    const starts: string[] = [];
    app.on('playing', (e) => starts.push(e.clipId));
    const played = new Promise<{ clipId: string; samples: number }>((resolve) => app.once('played', resolve));
    const firstPlay = new Promise<void>((resolve) => app.once('playing', () => resolve()));
    await uploadClip({
      connector: async () => connect(app.receiver.port, '127.0.0.1'),
      recipient: { name: 'bob', host: app.onion, port: 80, signingKey: bob.identity.signer.id },
      body: sealed,
    });
    await firstPlay;
    await hw.microphone.load(speech.raw);
    await sleep(300); // the clip is playing in real time meanwhile
    hw.button.press();
    await until(() => app.shell.state.activity.kind === 'recording', 2000, 'recording to take over');
    await sleep(400);
    hw.button.release();
    const p = await played;
    expect(starts).toEqual([p.clipId, p.clipId]);
    expect(Math.abs(p.samples - samples.length)).toBeLessThan(400); // the whole clip, not the rest of it
    expect(app.receiver.inbox.get(p.clipId)?.played).toBe(true);
    expect(app.shell.state.faults).toEqual([]);
  });
});

describe('clip playback pieces', () => {
  it('clipPackets gives input-rate sample counts that add up to the clip length', async () => {
    const samples = await readRawS16(speech.raw);
    const clip = clipPackets(encodePcmToOggOpus(samples, 16000));
    expect(clip.format).toMatchObject({ sampleRate: 16000, channels: 1, frameSamples: 320 });
    expect(clip.packets.reduce((n, p) => n + p.samples, 0)).toBe(samples.length);
  });

  it('a damaged stored clip is UnplayableClipError, and a missing one too', async () => {
    const inbox = await Inbox.open({ dir: join(dir, 'inbox-bad') });
    const clip = { clipId: 'a'.repeat(32), senderKey: alice.identity.signer.id, senderName: 'alice', channel: 'demo', sequence: 1, createdAt: Date.now() };
    await inbox.add(clip, new TextEncoder().encode('age-encryption.org/v1\nnot really'), { receipt: 'x', sig: 'y' } as never);
    const opts = { inbox, identity: bob.identity, contacts: [{ name: 'alice', signingKey: alice.identity.signer.id }] };
    try {
      await expect(decodeStoredClip({ ...opts, clipId: clip.clipId })).rejects.toBeInstanceOf(UnplayableClipError);
      await expect(decodeStoredClip({ ...opts, clipId: 'b'.repeat(32) })).rejects.toThrow(/not in the inbox/);
    } finally {
      await inbox.close(); // its files are written after add() returns: done before the directory goes
    }
  });
});
