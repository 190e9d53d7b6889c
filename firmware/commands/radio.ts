// torlk radio [--sim] [--data DIR] [--config FILE] [--mic-wav FILE] [--speaker-file FILE]
// Runs the radio until SIGINT/SIGTERM, against the public Tor network. On the device: GPIO button
// and LED, I2S mic and amplifier. With --sim (a laptop): space bar, terminal LED, default sound
// devices, or files for the mic and speaker. Same code path as the demo's radios (firmware/app).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toMono } from '../audio/encode-wav.js';
import { readWav, WavFormatError } from '../audio/wav.js';
import { resolveConfigPath } from '../contacts/config-path.js';
import { resolveDataDir } from '../identity/data-dir.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { DemoView } from '../app/demo-view.js';
import { closeHardware, deviceHardware, simHardware, type HardwareSet } from '../app/hardware-set.js';
import { RadioApp } from '../app/radio-app.js';
import { SystemdNotifier } from '../app/systemd-notify.js';

const help = `Usage: torlk radio [--sim] [--data DIR] [--config FILE] [--mic-wav FILE] [--speaker-file FILE]

Runs this radio on the public Tor network until Ctrl-C (SIGINT) or SIGTERM.
  (device)        talk button GPIO17, LED GPIO27, I2S microphone and amplifier
  --sim           laptop: hold the space bar to talk; the LED is drawn in the terminal;
                  the default ALSA capture and playback devices, unless:
  --mic-wav FILE  play this WAV (mono or stereo, 8-48 kHz Opus rate) into the microphone in real time
                  from the radio's start (press space while it plays)
  --speaker-file FILE  write what the speaker plays as raw S16_LE mono 16 kHz (rewritten per clip)

Keys live in --data DIR (create them with "torlk init"); contacts and the channel in torlk.toml
(--config FILE; "torlk contact add <card> --channel NAME").`;

async function wavToRaw(path: string, dir: string): Promise<{ raw: string; rate: number }> {
  const audio = readWav(new Uint8Array(await readFile(path)));
  const mono = toMono(audio);
  const raw = join(dir, 'mic.raw');
  await writeFile(raw, Buffer.from(mono.buffer, mono.byteOffset, mono.byteLength));
  return { raw, rate: audio.sampleRate };
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        sim: { type: 'boolean' },
        data: { type: 'string' },
        config: { type: 'string' },
        'mic-wav': { type: 'string' },
        'speaker-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`torlk radio: ${(err as Error).message}\n\n${help}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (!values.sim && (values['mic-wav'] !== undefined || values['speaker-file'] !== undefined)) {
    process.stderr.write('torlk radio: --mic-wav and --speaker-file are for --sim (the device has its own microphone and speaker)\n');
    return 2;
  }
  const dataDir = resolveDataDir({ flag: values.data });
  const configPath = resolveConfigPath(dataDir, { flag: values.config });
  const scratch = await mkdtemp(join(tmpdir(), 'torlk-radio-'));
  let hardware: HardwareSet | undefined;
  let app: RadioApp | undefined;
  let view: DemoView | undefined;
  const notifier = SystemdNotifier.fromEnv();
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  try {
    if (values.sim) {
      const mic = values['mic-wav'] !== undefined ? await wavToRaw(values['mic-wav'], scratch) : undefined;
      hardware = simHardware({
        ...(mic ? { micRaw: mic.raw, micRate: mic.rate } : {}),
        ...(values['speaker-file'] !== undefined ? { speakerFile: values['speaker-file'] } : {}),
        ledOutput: { write: () => true }, // the view below draws the LED with the rest of the status
      });
    } else {
      hardware = await deviceHardware();
    }
    app = await RadioApp.start({ dataDir, configPath, hardware });
    hardware = undefined; // the app owns it now
    if (values.sim) {
      view = new DemoView(process.stdout);
      view.watch(app.config.device.name ?? 'radio', app, app.hardware.led as RecordingLed);
      view.note(`talking on "${app.channel}" to ${app.members.map((m) => m.name).join(', ')}; this radio is ${app.onion}`);
      view.note(`ready in ${app.startMs.toFixed(0)} ms; tor is starting (public network). Hold the space bar to talk, Ctrl-C to stop.`);
    } else {
      process.stderr.write(`torlk radio: on "${app.channel}" as ${app.onion}, ready in ${app.startMs.toFixed(0)} ms\n`);
    }
    notifier?.ready(`on "${app.channel}" as ${app.onion}`);
    await stopped;
    notifier?.stopping();
    return 0;
  } catch (err) {
    if (err instanceof WavFormatError) {
      process.stderr.write(`torlk radio: --mic-wav ${values['mic-wav']}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`torlk radio: ${(err as Error).message}\n`);
    return 1;
  } finally {
    view?.close();
    await app?.stop().catch((err: Error) => process.stderr.write(`torlk radio: while stopping: ${err.message}\n`));
    if (hardware) await closeHardware(hardware).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}
