// Edits torlk.toml as text, so the user's comments, order and other sections ([wifi], [ssh]) stay
// exactly as written: a new contact is appended as its own [[contact]] block (with its channels in
// `channels = [...]`, so no existing list is rewritten), and a [device] key is replaced on its own
// line. Every edit is re-parsed before it is written, and written atomically (temp, fsync, rename).
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'smol-toml';
import { writeFileAtomic } from '../store/atomic-file.js';
import { encodeContactCard } from './contact-card.js';
import type { Contact } from './contact.js';
import { ConfigError } from './config-error.js';
import { loadConfig, parseConfig, type TorlkConfig } from './torlk-config.js';

function tomlLine(key: string, value: string | string[]): string {
  return stringify({ [key]: value }).trim();
}

/** Returns the config text with `contact` appended. Throws ConfigError if it is already there. */
export function appendContact(text: string, path: string, contact: Contact, channels: readonly string[] = []): string {
  const before = parseConfig(text, path);
  const same = before.contacts.find((c) => c.signingKey === contact.signingKey);
  if (same) throw new ConfigError(path, undefined, `"${contact.name}" is already a contact (as "${same.name}")`);
  if (before.contacts.some((c) => c.name === contact.name)) throw new ConfigError(path, undefined, `a different contact is already named "${contact.name}"; add the card with --name OTHER`);
  const lines = ['[[contact]]', tomlLine('card', encodeContactCard(contact))];
  if (channels.length > 0) lines.push(tomlLine('channels', [...channels]));
  const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
  const next = `${text}${sep}${lines.join('\n')}\n`;
  parseConfig(next, path); // the edit must leave a valid file
  return next;
}

/** Sets `[device] key = value`, replacing that line if present, adding it (or [device]) otherwise. */
export function setDeviceKey(text: string, path: string, key: 'name' | 'channel', value: string): string {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^\s*\[device\]\s*(#.*)?$/.test(l));
  const line = tomlLine(key, value);
  let next: string;
  if (header < 0) {
    // At the end: a table inserted at the top would capture the user's root-level keys.
    const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    next = `${text}${sep}[device]\n${line}\n`;
  } else {
    let end = lines.length;
    for (let i = header + 1; i < lines.length; i++) if (/^\s*\[/.test(lines[i]!)) { end = i; break; }
    const at = lines.slice(header + 1, end).findIndex((l) => new RegExp(`^\\s*${key}\\s*=`).test(l));
    if (at >= 0) lines[header + 1 + at] = line;
    else lines.splice(header + 1, 0, line);
    next = lines.join('\n');
  }
  parseConfig(next, path);
  return next;
}

/** Writes the text atomically, keeping the file's mode (0600 for a new file: it may hold Wi-Fi secrets). */
export async function saveConfigText(path: string, text: string): Promise<void> {
  let mode = 0o600;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    // new file
  }
  try {
    await writeFileAtomic(path, text, { mode });
  } catch (err) {
    // On the radio the boot partition (where torlk.toml lives) is mounted read-only while it runs,
    // so power cuts cannot corrupt it; say how to edit it rather than just "EROFS".
    if ((err as { cause?: { code?: unknown } }).cause?.code === 'EROFS') {
      throw new ConfigError(
        path,
        undefined,
        `cannot save: ${dirname(path)} is mounted read-only (on the radio the boot partition is, while it runs). ` +
          `Edit torlk.toml on a computer, or run "sudo mount -o remount,rw ${dirname(path)}" and try again.`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** Load, edit, validate, write: the contact is in the file when this resolves. */
export async function addContactToConfig(path: string, contact: Contact, channels: readonly string[] = []): Promise<TorlkConfig> {
  const { text } = await loadConfig(path);
  const next = appendContact(text, path, contact, channels);
  await saveConfigText(path, next);
  return parseConfig(next, path);
}
