// The `torlk` command. Each subcommand lives in its own module under firmware/commands and is
// imported only when run, so `torlk --help` stays fast on a Pi Zero.
import { version } from './build-info.js';

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const commands: Record<string, Command> = {
  init: { summary: 'create this radio\'s keys (refuses to overwrite them)', load: () => import('./commands/init.js') },
  card: { summary: 'print your contact card, and its QR code', load: () => import('./commands/card.js') },
  contact: { summary: 'add a contact from their card, or list contacts', load: () => import('./commands/contact.js') },
  seal: { summary: 'seal a WAV or Ogg Opus recording into a clip for a contact', load: () => import('./commands/seal.js') },
  open: { summary: 'verify a clip and write its audio as Ogg Opus', load: () => import('./commands/open.js') },
  firstboot: { summary: 'apply the boot partition\'s Wi-Fi, hostname and SSH settings (the SD image runs it)', load: () => import('./commands/firstboot.js') },
  radio: { summary: 'run the radio (on the device; --sim on a laptop with the keyboard as the button)', load: () => import('./commands/radio.js') },
  demo: { summary: 'two radios talking through a private Tor network on this machine (npm start)', load: () => import('./commands/demo.js') },
  selftest: { summary: 'record and encode one clip from an ALSA file PCM (checks the audio install)', load: () => import('./commands/selftest.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length), 8);
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    `torlk ${version}: push-to-talk over Tor`,
    '',
    'Usage: torlk <command> [options]     (torlk <command> --help for its options)',
    '',
    'Commands:',
    ...lines,
    '',
    'Options for every command:',
    '  --data DIR   the radio\'s data directory (default /var/lib/torlk on the device, ~/.torlk on a laptop)',
    '',
    'Logs: set TORLK_LOG=debug|info|warn|error (default warn); they are JSON lines on stderr.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`torlk: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`torlk: ${msg}\n`);
    process.exitCode = 1;
  },
);
