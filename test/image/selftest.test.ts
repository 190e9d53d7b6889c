// torlk selftest on this machine's addon and libasound: the same command the image test runs under
// qemu-user with the image's own node. The clip must decode back to the tone it was made from.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOggOpus } from '../../firmware/audio/ogg-opus-reader.js';
import { recordSelftestClip, run, toneS16 } from '../../firmware/commands/selftest.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'torlk-selftest-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('torlk selftest', () => {
  it('captures a tone through an ALSA file PCM into a valid Ogg Opus clip', async () => {
    const infile = join(dir, 'tone.raw');
    writeFileSync(infile, toneS16(1.2));
    const r = await recordSelftestClip(infile);
    // The mic drops its settle time at open, so somewhat less than the whole file is captured.
    expect(r.samples).toBeGreaterThan(16000 * 0.6);
    expect(r.samples).toBeLessThanOrEqual(r.inputSamples + 320);
    expect(r.packets).toBe(Math.ceil(r.samples / 320));
    const ogg = readOggOpus(r.ogg);
    expect(ogg.packets.length).toBe(r.packets);
    // A 440 Hz tone at 16 kbit/s is not the size of silence (~3 bytes a packet).
    expect(r.oggBytes / r.packets).toBeGreaterThan(20);
  });

  it('fails with a message naming the input when it does not exist', async () => {
    const missing = join(dir, 'nope.raw');
    await expect(recordSelftestClip(missing)).rejects.toThrow(/cannot read the test input .*nope\.raw: ENOENT/);
    expect(await run(['--input', missing])).toBe(1);
  });

  it('fails on an input that holds no whole frame', async () => {
    const odd = join(dir, 'odd.raw');
    writeFileSync(odd, Buffer.alloc(1));
    await expect(recordSelftestClip(odd)).rejects.toThrow(/no whole frame/);
  });

  it('refuses a bad --seconds', async () => {
    expect(await run(['--seconds', 'abc'])).toBe(2);
    expect(await run(['--seconds', '0'])).toBe(2);
  });
});
