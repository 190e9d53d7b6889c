// Device faults with real libasound: missing, unparsable config, impossible format, unplug in the
// middle of a recording (a file PCM whose copy FIFO loses its reader: readi fails with EIO) and the
// recovery when it comes back; wrong-time calls.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlsaMicrophone } from '../../hardware/i2s-audio/alsa-microphone.js';
import { AlsaSpeaker } from '../../hardware/i2s-audio/alsa-speaker.js';
import { encodeClip } from '../../hardware/i2s-audio/encoder.js';
import { AudioOptionError, MicrophoneError, SpeakerError } from '../../hardware/i2s-audio/errors.js';
import { createSimMicrophone } from '../../hardware/sim/sim-audio.js';
import { FifoReader } from '../fixtures/audio/fifo-reader.js';
import { collect } from '../fixtures/audio/recording-collector.js';
import { makeTempDir, speechRaw, type TempDir } from '../fixtures/audio/speech-fixture.js';

let dir: TempDir;
let speech: { path: string; samples: Int16Array };
beforeAll(() => {
  dir = makeTempDir();
  speech = speechRaw(dir.path, 16000, 2000);
});
afterAll(() => dir.remove());

async function openError(mic: AlsaMicrophone): Promise<MicrophoneError> {
  const err = await mic.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  await mic.close();
  expect(err).toBeInstanceOf(MicrophoneError);
  return err as MicrophoneError;
}

describe('microphone errors at open', () => {
  it('a missing device: code missing, the device name and ALSA words', async () => {
    const err = await openError(new AlsaMicrophone({ device: 'hw:7,0' }));
    expect(err.code).toBe('missing');
    expect(err.device).toBe('hw:7,0');
    expect(err.message).toContain('"hw:7,0"');
    expect(err.alsaMessage).toBe('No such file or directory');
    expect(err.errno).toBe(-2);
  });

  it('a PCM name the config does not define, and a simulated input that does not exist', async () => {
    expect((await openError(new AlsaMicrophone({ device: 'nope', config: 'pcm.other { type null }' }))).code).toBe('missing');
    expect(() => createSimMicrophone({ infile: join(dir.path, 'absent.raw') })).toThrow(MicrophoneError);
    const err = await openError(createSimMicrophone({ infile: join(dir.path, 'absent.raw'), maxFrames: 16000 }));
    expect(err.code).toBe('missing');
  });

  it('a config fragment that does not parse: code config', async () => {
    const err = await openError(new AlsaMicrophone({ device: 'x', config: 'pcm.x { type null ' }));
    expect(err.code).toBe('config');
    expect(err.message).toMatch(/does not parse/);
    expect(() => new AlsaMicrophone({ configFile: join(dir.path, 'absent.conf') })).toThrow(/cannot read ALSA config/);
  });

  it('a device that cannot do the rate: code format (unless a plug device may resample)', async () => {
    const config = 'pcm.x { type plug slave { pcm "n" rate 8000 } }\npcm.n { type null }';
    const err = await openError(new AlsaMicrophone({ device: 'x', config, rate: 16000, resample: false }));
    expect(err.code).toBe('format');
    expect(err.message).toMatch(/sample rate not supported/);
    const resampling = new AlsaMicrophone({ device: 'x', config, rate: 16000 });
    await resampling.open();
    await resampling.close();
  });

  it('a throwing fault listener is logged, not thrown into the addon', async () => {
    const fifo = join(dir.path, 'listener.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = new FifoReader(fifo);
    reader.start();
    const mic = createSimMicrophone({ infile: speech.path, copyTo: fifo, retryMinMs: 50 });
    let called = 0;
    mic.onFault(() => {
      called++;
      throw new Error('listener bug');
    });
    const unsubscribe = mic.onFault(() => called++);
    try {
      await mic.open();
      await sleep(100);
      await reader.stop();
      for (let i = 0; i < 40 && called < 2; i++) await sleep(50);
      expect(called).toBe(2); // the second listener still ran
      unsubscribe();
      reader.start();
    } finally {
      if (!reader.running) reader.start(); // a reopen may be blocked on the FIFO
      await mic.close();
      await reader.stop();
    }
  });

  it('bad options are AudioOptionErrors before anything opens', () => {
    expect(() => new AlsaMicrophone({ rate: 44100 })).toThrow(AudioOptionError);
    expect(() => new AlsaMicrophone({ bitrate: 64000 })).toThrow(AudioOptionError);
    expect(() => new AlsaMicrophone({ gainDb: 90 })).toThrow(AudioOptionError);
    expect(() => new AlsaMicrophone({ channels: 3 as 2 })).toThrow(AudioOptionError);
    expect(() => new AlsaMicrophone({ maxFrames: 0 })).toThrow(AudioOptionError);
    expect(() => new AlsaMicrophone({ format: 'S24_LE' as 'S32_LE' })).toThrow(/format must be S16_LE or S32_LE/);
    expect(() => new AlsaMicrophone({ complexity: -1 })).toThrow(AudioOptionError);
    expect(() => new AlsaSpeaker({ format: 'U8' as 'S16_LE' })).toThrow(AudioOptionError);
    expect(() => new AlsaSpeaker({ rate: 44100 })).toThrow(AudioOptionError);
    expect(() => new AlsaSpeaker({ channels: 6 as 2 })).toThrow(AudioOptionError);
    expect(() => new AlsaSpeaker({ configFile: join(dir.path, 'absent.conf') })).toThrow(SpeakerError);
  });

  it('record() before open or twice at once is a state error', async () => {
    const mic = createSimMicrophone({ infile: speech.path });
    expect(() => mic.record()).toThrow(expect.objectContaining({ code: 'closed' }) as Error);
    await mic.open();
    try {
      const rec = mic.record();
      expect(() => mic.record()).toThrow(expect.objectContaining({ code: 'state' }) as Error);
      await rec.stop();
    } finally {
      await mic.close();
    }
  });
});

describe('unplug in the middle of a recording', () => {
  it('reports the fault, fails the recording, and recovers when the device comes back', async () => {
    const fifo = join(dir.path, 'copy.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = new FifoReader(fifo);
    reader.start();
    const mic = createSimMicrophone({ infile: speech.path, copyTo: fifo, retryMinMs: 50, retryMaxMs: 200 });
    const faults: Error[] = [];
    mic.onFault((e) => faults.push(e));
    let recovered = 0;
    mic.onRecovered(() => recovered++);
    try {
      await mic.open();
      const rec = mic.record();
      const got = collect(rec);
      await sleep(600);
      await reader.stop(); // unplug
      const err = await got.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MicrophoneError);
      expect(err).toMatchObject({ code: 'unplugged', device: 'sim_mic', alsaMessage: 'Input/output error' });
      await expect(rec.stop()).rejects.toBe(err);
      expect(got.packets.length).toBeGreaterThan(0);
      expect(faults).toHaveLength(1);
      expect(faults[0]).toBe(err);
      expect(mic.stats().faulted).toBe(true);

      // While the device is gone a new recording fails with the same cause rather than hanging.
      const during = mic.record();
      await expect(collect(during).done).rejects.toMatchObject({ code: 'unplugged' });

      reader.start(); // plug it back in
      for (let i = 0; i < 100 && recovered === 0; i++) await sleep(50);
      expect(recovered).toBe(1);
      expect(mic.stats().faulted).toBe(false);
      await sleep(500); // settle, then some pre-roll
      const after = mic.record();
      const again = collect(after);
      await sleep(300);
      const summary = await after.stop();
      expect((await again.done).length).toBe(summary.packets);
      expect(summary.samples).toBeGreaterThan(16000 * 0.5);
    } finally {
      if (!reader.running) reader.start(); // a reopen may be blocked on the FIFO
      await mic.close();
      await reader.stop();
    }
  });
});

describe('speaker errors', () => {
  it('a missing speaker: SpeakerError with code missing', async () => {
    const spk = new AlsaSpeaker({ device: 'hw:7,0', rate: 16000 });
    const { format, packets } = encodeClip(speech.samples.subarray(0, 3200));
    await expect(spk.play(format, packets)).rejects.toMatchObject({ name: 'SpeakerError', code: 'missing', device: 'hw:7,0' });
    await spk.close();
    await expect(spk.play(format, packets)).rejects.toBeInstanceOf(SpeakerError);
  });

  it('rejects a stream it cannot play and a corrupt packet', async () => {
    const out = join(dir.path, 'spk.raw');
    const spk = new AlsaSpeaker({ device: 's', config: `pcm.s { type file slave.pcm "n" file "${out}" format "raw" }\npcm.n { type null }`, rate: 16000 });
    const { format, packets } = encodeClip(speech.samples.subarray(0, 3200));
    await expect(spk.play({ ...format, sampleRate: 44100 }, packets)).rejects.toBeInstanceOf(AudioOptionError);
    await expect(spk.play(format, [{ data: Uint8Array.from([0x0b, 0x00]), samples: 320 }])).rejects.toMatchObject({ code: 'codec' });
    await expect(spk.play(format, [{ data: new Uint8Array(0), samples: 320 }])).rejects.toBeInstanceOf(AudioOptionError);
    // And it still plays a good clip afterwards.
    expect((await spk.play(format, packets)).samples).toBe(3200);
    await spk.close();
  });
});

