// torlk card [--data DIR] [--config FILE] [--no-qr]: prints this radio's contact card, and the same
// card as a QR code a phone can scan from the terminal.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import qrcode from 'qrcode-terminal';
import { loadDeviceIdentity, ownContact } from '../identity/device-identity.js';
import { IdentityError } from '../identity/identity-error.js';
import { resolveDataDir } from '../identity/data-dir.js';
import { resolveConfigPath } from '../contacts/config-path.js';
import { loadConfig } from '../contacts/torlk-config.js';
import { encodeContactCard } from '../contacts/contact-card.js';
import { ConfigError } from '../contacts/config-error.js';

const help = `Usage: torlk card [--data DIR] [--config FILE] [--no-qr]

Prints your contact card (one line starting "torlk:") and, unless --no-qr, a QR code of it.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' }, config: { type: 'string' }, 'no-qr': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const dataDir = resolveDataDir({ flag: values.data });
  try {
    const identity = await loadDeviceIdentity(dataDir);
    const { config } = await loadConfig(resolveConfigPath(dataDir, { flag: values.config }));
    const card = encodeContactCard(ownContact(identity, config.device.name ?? hostname().slice(0, 64)));
    process.stdout.write(`${card}\n`);
    if (!values['no-qr']) qrcode.generate(card, { small: true }, (qr) => process.stdout.write(`\n${qr}\n`));
    return 0;
  } catch (err) {
    if (err instanceof IdentityError || err instanceof ConfigError) {
      process.stderr.write(`torlk card: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
