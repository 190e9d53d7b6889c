// torlk open in.clip out.ogg [--channel NAME]: verifies a clip (who sent it, untouched, meant for
// this radio) and writes its audio as Ogg Opus; any player plays out.ogg.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { resolveDataDir } from '../identity/data-dir.js';
import { loadDeviceIdentity } from '../identity/device-identity.js';
import { IdentityError } from '../identity/identity-error.js';
import { resolveConfigPath } from '../contacts/config-path.js';
import { loadConfig } from '../contacts/torlk-config.js';
import { ConfigError } from '../contacts/config-error.js';
import { openClip } from '../clip/open-clip.js';
import { ClipError } from '../clip/clip-error.js';
import { writeFileAtomic } from '../store/atomic-file.js';

const help = `Usage: torlk open in.clip out.ogg [--channel NAME] [--data DIR] [--config FILE]

Decrypts the clip with this radio's age identity, checks the sender's signature against your
contacts in torlk.toml and (with --channel) the channel, then writes the audio. On failure it says
why (bad-signature, unknown-sender, wrong-key, corrupt, ...) and writes nothing.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { channel: { type: 'string' }, data: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (positionals.length !== 2) {
    process.stderr.write(`torlk open: needs two files: the clip and the .ogg to write\n\n${help}\n`);
    return 2;
  }
  const [input, output] = positionals as [string, string];
  try {
    const dataDir = resolveDataDir({ flag: values.data });
    const identity = await loadDeviceIdentity(dataDir);
    const { config } = await loadConfig(resolveConfigPath(dataDir, { flag: values.config }));
    const bytes = new Uint8Array(await readFile(input));
    const opened = await openClip(bytes, { identity, contacts: config.contacts, ...(values.channel === undefined ? {} : { expectChannel: values.channel }) });
    await writeFileAtomic(output, opened.ogg, { mode: 0o644 });
    const h = opened.header;
    process.stdout.write(`From ${opened.sender.name} on channel "${h.channel}", #${h.sequence}, ${(h.durationMs / 1000).toFixed(1)} s, recorded ${new Date(h.createdAt).toISOString()}: ${output}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ClipError || err instanceof IdentityError || err instanceof ConfigError) {
      process.stderr.write(`torlk open: ${input}: ${err.message}\n`);
      return 1;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`torlk open: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}
