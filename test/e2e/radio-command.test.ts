// `torlk radio` as a user runs it (the bundle as a child process). Against the public Tor network,
// which this machine cannot reach: the radio must still come up (tor keeps trying in the
// background), say where it is, and stop cleanly on SIGTERM with no tor left. Mistakes get reasons.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionRadios, type ProvisionedRadio } from '../../firmware/app/demo-provision.js';
import { makeSpeech } from '../../firmware/app/demo-speech.js';
import { bundleTorlk, runTorlk } from './bundle.js';
import { processesMentioning } from './e2e-audio-checks.js';

let dir: string;
let bundle: string;
let alice: ProvisionedRadio;
let wav16k: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'torlk-e2e-radio-'));
  bundle = await bundleTorlk(dir);
  [alice] = (await provisionRadios(join(dir, 'radios'), ['alice', 'bob'])) as [ProvisionedRadio];
  const speech = await makeSpeech(dir, 'Hello.');
  wav16k = join(dir, 'hello16k.wav');
  execFileSync('sox', [speech.wav, '-r', '16000', wav16k]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('torlk radio --sim', () => {
  it('comes up with file mic and speaker, shows the radio, and SIGTERM stops it and its tor', async () => {
    let asked = false;
    const started = performance.now();
    const r = await runTorlk(
      bundle,
      ['radio', '--sim', '--data', alice.dataDir, '--config', alice.configPath, '--mic-wav', wav16k, '--speaker-file', join(dir, 'spk.raw')],
      60_000,
      (text, child) => {
        if (!asked && text.includes('Hold the space bar')) {
          asked = true;
          setTimeout(() => child.kill('SIGTERM'), 1500);
        }
      },
    );
    expect(r.stderr + r.stdout).not.toMatch(/Error|failed/i);
    expect(asked).toBe(true);
    expect(r.code).toBe(0);
    expect(performance.now() - started).toBeLessThan(30_000); // stopped on the signal, not by the test's timeout
    expect(r.stdout).toContain('talking on "demo" to bob');
    expect(r.stdout).toContain(alice.identity.onion.address);
    expect(r.stdout).toMatch(/ready in \d+ ms/);
    expect(processesMentioning(alice.dataDir)).toEqual([]);
  }, 90_000);

  it('under systemd (NOTIFY_SOCKET): READY=1, watchdog pings, STOPPING=1 through systemd-notify', async () => {
    // A real unix datagram socket standing where systemd's would be; Python binds it (Node cannot).
    const sock = join(dir, 'notify.sock');
    const listener = spawn('python3', ['-u', '-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(${JSON.stringify(sock)})`,
      'print("listening", flush=True)',
      'while True: print(s.recv(4096).decode().replace("\\n", " "), flush=True)',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let heard = '';
    listener.stdout.on('data', (d: Buffer) => (heard += d.toString()));
    try {
      while (!heard.includes('listening')) await new Promise((r) => setTimeout(r, 50));
      let asked = false;
      const r = await runTorlk(
        bundle,
        ['radio', '--sim', '--data', alice.dataDir, '--config', alice.configPath, '--speaker-file', join(dir, 'spk2.raw'), '--mic-wav', wav16k],
        60_000,
        (text, child) => {
          if (!asked && text.includes('Hold the space bar')) {
            asked = true;
            setTimeout(() => child.kill('SIGTERM'), 2500);
          }
        },
        { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '1000000' },
      );
      expect(r.code).toBe(0);
      await new Promise((r2) => setTimeout(r2, 500));
      expect(heard).toContain('READY=1');
      expect(heard).toMatch(/STATUS=on "demo" as [a-z2-7]{56}\.onion/);
      expect(heard.match(/WATCHDOG=1/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
      expect(heard).toContain('STOPPING=1');
    } finally {
      listener.kill('SIGTERM');
      setTimeout(() => listener.kill('SIGKILL'), 3000).unref();
    }
  });

  it('refuses mistakes with a reason', async () => {
    const noKeys = await runTorlk(bundle, ['radio', '--sim', '--data', join(dir, 'nobody')], 20_000);
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toContain('is missing: run "torlk init"');
    const deviceFiles = await runTorlk(bundle, ['radio', '--mic-wav', 'x.wav'], 20_000);
    expect(deviceFiles.code).toBe(2);
    expect(deviceFiles.stderr).toContain('are for --sim');
    const notWav = join(dir, 'not.wav');
    await writeFile(notWav, 'hello, not a wave file');
    const badWav = await runTorlk(bundle, ['radio', '--sim', '--data', alice.dataDir, '--config', alice.configPath, '--mic-wav', notWav], 20_000);
    expect(badWav.code).toBe(2);
    expect(badWav.stderr).toContain(`--mic-wav ${notWav}`);
    const unknown = await runTorlk(bundle, ['radio', '--bogus'], 20_000);
    expect(unknown.code).toBe(2);
    expect(processesMentioning(alice.dataDir)).toEqual([]);
  });
});
