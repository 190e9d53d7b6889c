// torlk init [--data DIR] [--config FILE] [--name NAME]: creates this device's keys, and its name
// in torlk.toml when the file has none, then prints the contact card to share.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { createDeviceIdentity, ownContact } from '../identity/device-identity.js';
import { IdentityError } from '../identity/identity-error.js';
import { resolveDataDir } from '../identity/data-dir.js';
import { resolveConfigPath } from '../contacts/config-path.js';
import { loadConfig } from '../contacts/torlk-config.js';
import { saveConfigText, setDeviceKey } from '../contacts/config-edit.js';
import { encodeContactCard } from '../contacts/contact-card.js';
import { ConfigError } from '../contacts/config-error.js';

const help = `Usage: torlk init [--data DIR] [--config FILE] [--name NAME]

Creates this radio's keys in the data directory (each file mode 0600):
  age-identity.txt     age identity (clips are encrypted to it; "age -d -i" reads it)
  signing-key.pem      Ed25519 key that signs the clips you send
  onion-key.pem        your onion service's key (your address)
  client-auth-key.pem  the key your radio shows to your contacts' onion services
Refuses to overwrite existing keys. --name sets [device] name in torlk.toml (default: the hostname).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, config: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const dataDir = resolveDataDir({ flag: values.data });
  const configPath = resolveConfigPath(dataDir, { flag: values.config });
  try {
    // Read the config first: a broken file is reported before any key is made.
    const { config, text } = await loadConfig(configPath);
    const { identity, created } = await createDeviceIdentity(dataDir);
    process.stdout.write(`Created this radio's keys in ${dataDir}:\n${created.map((p) => `  ${p}\n`).join('')}`);
    let name = config.device.name;
    if (values.name !== undefined || name === undefined) {
      name = values.name ?? hostname().slice(0, 64);
      await saveConfigText(configPath, setDeviceKey(text, configPath, 'name', name));
      process.stdout.write(`Set [device] name = "${name}" in ${configPath}\n`);
    }
    process.stdout.write(`\nYour contact card (give it to the people you talk to; "torlk card" shows it again):\n${encodeContactCard(ownContact(identity, name))}\n`);
    return 0;
  } catch (err) {
    if (err instanceof IdentityError || err instanceof ConfigError) {
      process.stderr.write(`torlk init: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
