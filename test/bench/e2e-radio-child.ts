// Bob's radio in a process of its own for the e2e benchmark, so his RSS and CPU are his alone (the
// receiver's figures), apart from alice's (the sender's, in the benchmark's process). The real app on
// simulated hardware; JSON lines out, one command per line in ("stats", "stop").
import { createInterface } from 'node:readline';
import { RadioApp } from '../../firmware/app/radio-app.js';
import { FileFedMicrophone } from '../../firmware/app/file-fed-microphone.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { createSimSpeaker } from '../../hardware/sim/sim-audio.js';

interface ChildConfig {
  dataDir: string;
  configPath: string;
  speakerFile: string;
  torConfig: string[];
}

const send = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const app = await RadioApp.start({
  dataDir: config.dataDir,
  configPath: config.configPath,
  hardware: { button: new ScriptedButton(), led: new RecordingLed(), microphone: new FileFedMicrophone(), speaker: createSimSpeaker({ outfile: config.speakerFile, rate: 16000 }) },
  tor: { extraConfig: config.torConfig },
});
send({ t: 'ready', startMs: app.startMs, onion: app.onion });
app.torReady.then(
  () => send({ t: 'published', torPid: app.torLink.tor?.pid }),
  (err: Error) => send({ t: 'error', message: err.message }),
);
app.on('tor', (s) => s.state === 'connected' && send({ t: 'connected' }));
app.on('played', (e) => send({ t: 'played', clipId: e.clipId }));
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') {
    const cpu = process.cpuUsage();
    const m = process.memoryUsage();
    send({ t: 'stats', rss: m.rss, heapUsed: m.heapUsed, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  } else if (line === 'stop') break;
}
await app.stop();
process.exit(0);
