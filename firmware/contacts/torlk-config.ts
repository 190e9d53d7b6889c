// torlk.toml: the one file a user edits (on the SD card's boot partition, or in the data dir on a
// laptop). This module reads the parts Torlk owns:
//   [device]           name, channel (the current channel)
//   [[contact]]        card = "torlk:..."  or  name/onion/age/signing_key/client_auth; optional channels = [...]
//   [channel.<name>]   members = ["contact name", ...]
// Other sections ([wifi], [ssh], ...) belong to the image's first boot; they are left alone.
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { CHANNEL_NAME } from '../clip/clip-tags.js';
import { checkContact, ContactCardError, parseContactCard, CONTACT_NAME } from './contact-card.js';
import type { Contact } from './contact.js';
import { ConfigError } from './config-error.js';

export interface ConfigContact extends Contact {
  /** Channels this contact is on, from `channels = [...]` in its block and from [channel.X] members. */
  readonly channels: readonly string[];
}

export interface TorlkConfig {
  readonly device: { readonly name?: string; readonly channel?: string };
  readonly contacts: readonly ConfigContact[];
  /** Channel name → member contact names, in file order. */
  readonly channels: ReadonlyMap<string, readonly string[]>;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Line (1-based) of the n-th `[[contact]]` header, or of `[section]`, for error messages. */
function lineOf(text: string, pattern: RegExp, nth = 0): number | undefined {
  let seen = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (pattern.test(lines[i]!.trim())) {
      if (seen === nth) return i + 1;
      seen++;
    }
  }
  return undefined;
}

function stringList(v: unknown, what: string, fail: (m: string) => never): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(`${what} must be a list of strings`);
  return v as string[];
}

export function parseConfig(text: string, path: string): TorlkConfig {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    const line = err instanceof TomlError ? err.line : undefined;
    const first = (err as Error).message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw new ConfigError(path, line, `not valid TOML: ${first}`, { cause: err });
  }

  const deviceLine = lineOf(text, /^\[device\]/);
  const device: { name?: string; channel?: string } = {};
  if (doc.device !== undefined) {
    if (!isTable(doc.device)) throw new ConfigError(path, deviceLine, '[device] must be a table');
    const { name, channel } = doc.device;
    if (name !== undefined && (typeof name !== 'string' || !CONTACT_NAME.test(name))) throw new ConfigError(path, deviceLine, '[device] name must be 1–64 printable characters');
    if (channel !== undefined && (typeof channel !== 'string' || !CHANNEL_NAME.test(channel))) throw new ConfigError(path, deviceLine, `[device] channel ${JSON.stringify(channel)} is not a valid channel name`);
    if (name !== undefined) device.name = name as string;
    if (channel !== undefined) device.channel = channel as string;
  }

  const channels = new Map<string, string[]>();
  if (doc.channel !== undefined) {
    if (!isTable(doc.channel)) throw new ConfigError(path, lineOf(text, /^channel\s*=/), '"channel" must be [channel.<name>] tables');
    for (const [name, table] of Object.entries(doc.channel)) {
      const line = lineOf(text, new RegExp(`^\\[channel\\.("?)${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\1\\]`));
      const fail = (m: string): never => {
        throw new ConfigError(path, line, `[channel.${name}]: ${m}`);
      };
      if (!CHANNEL_NAME.test(name)) fail('not a valid channel name (letters, digits, space, _ . -; up to 63)');
      if (!isTable(table)) fail('must be a table');
      channels.set(name, stringList((table as Table).members, 'members', fail));
    }
  }

  const contacts: ConfigContact[] = [];
  const rawContacts = doc.contact === undefined ? [] : doc.contact;
  if (!Array.isArray(rawContacts)) throw new ConfigError(path, lineOf(text, /^\[contact\]/), 'contacts are [[contact]] blocks (double brackets)');
  rawContacts.forEach((entry: unknown, i: number) => {
    const line = lineOf(text, /^\[\[contact\]\]/, i);
    const fail = (m: string): never => {
      throw new ConfigError(path, line, `[[contact]] #${i + 1}: ${m}`);
    };
    if (!isTable(entry)) fail('must be a table');
    const t = entry as Table;
    let contact: Contact;
    try {
      if (t.card !== undefined) {
        if (typeof t.card !== 'string') fail('card must be a string');
        contact = parseContactCard(t.card as string);
        // A name written beside the card renames the contact locally.
        if (typeof t.name === 'string') contact = { ...contact, name: t.name };
      } else {
        for (const k of ['name', 'onion', 'age', 'signing_key', 'client_auth']) if (typeof t[k] !== 'string') fail(`needs card = "torlk:..." or ${k} = "..."`);
        contact = { name: t.name as string, onion: t.onion as string, ageRecipient: t.age as string, signingKey: t.signing_key as string, clientAuthKey: t.client_auth as string };
      }
      checkContact(contact);
    } catch (err) {
      if (err instanceof ContactCardError) fail(err.message.replace(/^contact card: /, ''));
      throw err;
    }
    const own = stringList(t.channels, 'channels', fail);
    for (const c of own) if (!CHANNEL_NAME.test(c)) fail(`channel ${JSON.stringify(c)} is not a valid channel name`);
    if (contacts.some((c) => c.name === contact.name)) fail(`a contact named "${contact.name}" is already listed`);
    if (contacts.some((c) => c.signingKey === contact.signingKey)) fail(`"${contact.name}" has the same signing key as another contact`);
    contacts.push({ ...contact, channels: own });
  });

  // Channel membership from both places; unknown member names are a typo worth reporting.
  for (const c of contacts) for (const ch of c.channels) channels.set(ch, [...new Set([...(channels.get(ch) ?? []), c.name])]);
  for (const [name, members] of channels) {
    for (const m of members) {
      if (!contacts.some((c) => c.name === m)) {
        throw new ConfigError(path, lineOf(text, new RegExp(`^\\[channel\\.("?)${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\1\\]`)), `[channel.${name}]: no contact named "${m}"`);
      }
    }
  }
  const withChannels = contacts.map((c) => ({ ...c, channels: [...channels].filter(([, ms]) => ms.includes(c.name)).map(([n]) => n) }));
  if (device.channel !== undefined && !channels.has(device.channel)) {
    throw new ConfigError(path, deviceLine, `[device] channel "${device.channel}" is not defined (add [channel.${device.channel}] or channels = ["${device.channel}"] to a contact)`);
  }
  return { device, contacts: withChannels, channels };
}

/** Reads and parses; a missing file is an empty config (a fresh laptop). */
export async function loadConfig(path: string): Promise<{ config: TorlkConfig; text: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: { device: {}, contacts: [], channels: new Map() }, text: '' };
    throw new ConfigError(path, undefined, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  return { config: parseConfig(text, path), text };
}

/** The contacts the radio talks to on `channel`. */
export function channelMembers(config: TorlkConfig, channel: string): ConfigContact[] {
  const names = config.channels.get(channel) ?? [];
  return config.contacts.filter((c) => names.includes(c.name));
}
