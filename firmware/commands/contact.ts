// torlk contact add <card> [--channel NAME]... [--name NAME] | torlk contact list
import { parseArgs } from 'node:util';
import { resolveDataDir } from '../identity/data-dir.js';
import { resolveConfigPath } from '../contacts/config-path.js';
import { loadConfig } from '../contacts/torlk-config.js';
import { appendContact, saveConfigText, setDeviceKey } from '../contacts/config-edit.js';
import { ContactCardError, parseContactCard } from '../contacts/contact-card.js';
import { ConfigError } from '../contacts/config-error.js';
import { CHANNEL_NAME } from '../clip/clip-tags.js';

const help = `Usage: torlk contact add <card> [--channel NAME]... [--name NAME] [--data DIR] [--config FILE]
       torlk contact list [--data DIR] [--config FILE]

add   appends the card as a [[contact]] to torlk.toml (your other lines stay as they are);
      --channel puts the contact on that channel (repeatable); --name renames it locally.
list  shows contacts and their channels.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { data: { type: 'string' }, config: { type: 'string' }, channel: { type: 'string', multiple: true }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  const [verb, ...rest] = positionals;
  if (values.help || verb === undefined) {
    process.stdout.write(`${help}\n`);
    return values.help ? 0 : 2;
  }
  const configPath = resolveConfigPath(resolveDataDir({ flag: values.data }), { flag: values.config });
  try {
    if (verb === 'list') {
      const { config } = await loadConfig(configPath);
      if (config.contacts.length === 0) process.stdout.write(`No contacts yet in ${configPath}; add one with "torlk contact add <card>".\n`);
      for (const c of config.contacts) process.stdout.write(`${c.name}  ${c.onion}  channels: ${c.channels.join(', ') || '-'}\n`);
      return 0;
    }
    if (verb !== 'add' || rest.length !== 1) {
      process.stderr.write(`torlk contact: expected "add <card>" or "list"\n\n${help}\n`);
      return 2;
    }
    const channels = values.channel ?? [];
    for (const ch of channels) {
      if (!CHANNEL_NAME.test(ch)) {
        process.stderr.write(`torlk contact: channel ${JSON.stringify(ch)} is not a valid channel name (letters, digits, space, _ . -)\n`);
        return 2;
      }
    }
    let contact = parseContactCard(rest[0]!);
    if (values.name !== undefined) contact = { ...contact, name: values.name };
    const { config, text } = await loadConfig(configPath);
    let next = appendContact(text, configPath, contact, channels);
    // A radio with no current channel starts talking on the first channel it is given.
    const current = config.device.channel === undefined && channels.length > 0 ? channels[0]! : undefined;
    if (current !== undefined) next = setDeviceKey(next, configPath, 'channel', current);
    await saveConfigText(configPath, next);
    process.stdout.write(`Added ${contact.name} (${contact.onion})${channels.length ? ` on ${channels.join(', ')}` : ''} to ${configPath}\n`);
    if (current !== undefined) process.stdout.write(`Current channel is now "${current}"\n`);
    return 0;
  } catch (err) {
    if (err instanceof ContactCardError || err instanceof ConfigError) {
      process.stderr.write(`torlk contact: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
