// torlk.toml: contacts by card or by fields, channels from both places, errors with file and line,
// and edits that keep every byte the user wrote.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeContactCard } from '../../firmware/contacts/contact-card.js';
import type { Contact } from '../../firmware/contacts/contact.js';
import { ConfigError } from '../../firmware/contacts/config-error.js';
import { addContactToConfig, appendContact, setDeviceKey } from '../../firmware/contacts/config-edit.js';
import { channelMembers, loadConfig, parseConfig } from '../../firmware/contacts/torlk-config.js';
import { ClientAuthKey, OnionKey } from '../../firmware/identity/onion-keys.js';
import { SigningKey } from '../../firmware/identity/signing-key.js';
import { cleanup, tempDir } from './clip-fixtures.js';

afterAll(cleanup);

function contact(name: string): Contact {
  return {
    name,
    onion: OnionKey.generate().address,
    ageRecipient: 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
    signingKey: SigningKey.generate().id,
    clientAuthKey: ClientAuthKey.generate().publicKey,
  };
}
const bob = contact('bob');
const carol = contact('carol');
const dave = contact('dave');

const userFile = `# My radio. Wi-Fi is read by first boot.
[wifi]
ssid = "home"   # 2.4 GHz only
passphrase = "hunter2"
country = "DE"

[device]
name = "alice"
channel = "family"

[[contact]]
card = "${encodeContactCard(bob)}"

[[contact]]
name = "carol"
onion = "${carol.onion}"
age = "${carol.ageRecipient}"
signing_key = "${carol.signingKey}"
client_auth = "${carol.clientAuthKey}"
channels = ["work"]

[channel.family]
members = ["bob", "carol"]

[ssh]
authorized_key = "ssh-ed25519 AAAA... me@laptop"
`;

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('reads device, contacts (card and fields) and channels from both places', () => {
    const c = parseConfig(userFile, 'torlk.toml');
    expect(c.device).toEqual({ name: 'alice', channel: 'family' });
    expect(c.contacts.map((x) => x.name)).toEqual(['bob', 'carol']);
    expect(c.contacts[0]).toMatchObject(bob);
    expect(c.contacts[1]).toMatchObject({ ...carol, channels: ['family', 'work'] });
    expect([...c.channels]).toEqual([['family', ['bob', 'carol']], ['work', ['carol']]]);
    expect(channelMembers(c, 'family').map((x) => x.name)).toEqual(['bob', 'carol']);
    expect(channelMembers(c, 'nobody')).toEqual([]);
  });

  it('an empty file is an empty config', () => {
    expect(parseConfig('', 'x')).toEqual({ device: {}, contacts: [], channels: new Map() });
  });

  it.each([
    ['broken TOML', userFile.replace('country = "DE"', 'country = "DE'), 5, /not valid TOML/],
    ['a mistyped card', userFile.replace(/card = "torlk:1\?n=bob/, 'card = "torlk:1?n=bop'), 11, /#1: checksum does not match/],
    ['a contact with neither card nor fields', userFile.replace(/card = "[^"]*"/, 'nickname = "b"'), 11, /#1: needs card/],
    ['a bad onion field', userFile.replace(`onion = "${carol.onion}"`, 'onion = "example.onion"'), 14, /#2: "example.onion" is not a v3 onion/],
    ['an unknown channel member', userFile.replace('members = ["bob", "carol"]', 'members = ["bob", "carlo"]'), 22, /no contact named "carlo"/],
    ['a current channel nobody is on', userFile.replace('channel = "family"', 'channel = "hiking"'), 7, /channel "hiking" is not defined/],
    ['a duplicate contact name', userFile.replace('name = "carol"', 'name = "bob"'), 14, /already listed/],
    ['a single-bracket [contact]', userFile.replace(/\[\[contact\]\]/g, '[contact]').replace(/\[contact\]\nname = "carol"[^[]*/, ''), undefined, /\[\[contact\]\]/],
    ['members that are not a list', userFile.replace('members = ["bob", "carol"]', 'members = "bob"'), 22, /members must be a list/],
    ['a bad channel name', userFile.replace('[channel.family]', '[channel."a\\nb"]').replace('channel = "family"', ''), undefined, /not a valid channel name/],
    ['a non-table [device]', 'device = 3\n' + userFile.replace('[device]\nname = "alice"\nchannel = "family"\n', ''), undefined, /\[device\] must be a table/],
  ])('rejects %s with file and line', (_what, text, line, message) => {
    const err = errorOf(() => parseConfig(text, '/boot/firmware/torlk.toml'));
    expect(err.message).toMatch(message);
    expect(err.path).toBe('/boot/firmware/torlk.toml');
    if (line !== undefined) {
      expect(err.line).toBe(line);
      expect(err.message.startsWith(`/boot/firmware/torlk.toml:${line}: `)).toBe(true);
    }
  });
});

describe('editing torlk.toml', () => {
  it('appending a contact keeps every byte the user wrote', () => {
    const next = appendContact(userFile, 'torlk.toml', dave, ['family']);
    expect(next.startsWith(userFile)).toBe(true);
    const c = parseConfig(next, 'torlk.toml');
    expect(c.contacts.map((x) => x.name)).toEqual(['bob', 'carol', 'dave']);
    expect(channelMembers(c, 'family').map((x) => x.name)).toEqual(['bob', 'carol', 'dave']);
  });

  it('refuses the same contact twice, or a second contact with a taken name', () => {
    expect(errorOf(() => appendContact(userFile, 'f', bob)).message).toMatch(/already a contact/);
    expect(errorOf(() => appendContact(userFile, 'f', { ...dave, name: 'bob' })).message).toMatch(/already named "bob"/);
  });

  it('sets [device] keys in place, or adds [device] at the end', () => {
    const next = setDeviceKey(userFile, 'f', 'channel', 'work');
    expect(next).toBe(userFile.replace('channel = "family"', 'channel = "work"'));
    const named = setDeviceKey('[wifi]\nssid = "x"\n', 'f', 'name', 'Kitchen "radio"');
    expect(named).toBe('[wifi]\nssid = "x"\n\n[device]\nname = "Kitchen \\"radio\\""\n');
    expect(parseConfig(named, 'f').device.name).toBe('Kitchen "radio"');
    expect(setDeviceKey('[device]\n# mine\n[wifi]\n', 'f', 'name', 'b').split('\n').slice(0, 3)).toEqual(['[device]', 'name = "b"', '# mine']);
    // An edit that would leave a broken file is refused.
    expect(() => setDeviceKey(userFile, 'f', 'channel', 'nowhere')).toThrow(ConfigError);
  });

  it('addContactToConfig writes atomically, keeps the mode, and creates a missing file', async () => {
    const dir = tempDir();
    const path = join(dir, 'torlk.toml');
    writeFileSync(path, userFile, { mode: 0o644 });
    await addContactToConfig(path, dave, ['family']);
    expect(readFileSync(path, 'utf8').startsWith(userFile)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const fresh = join(dir, 'new.toml');
    await addContactToConfig(fresh, dave);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    expect((await loadConfig(fresh)).config.contacts[0]).toMatchObject(dave);
    expect((await loadConfig(join(dir, 'absent.toml'))).config.contacts).toEqual([]);
  });
});

// The radio's boot partition is read-only while it runs: a real read-only tmpfs (root, as in CI).
describe('editing torlk.toml on a read-only boot partition', () => {
  it('refuses with a ConfigError that says how to edit it, and leaves the file as it was', async () => {
    const mnt = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      const path = join(mnt, 'torlk.toml');
      writeFileSync(path, userFile);
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      const err = await addContactToConfig(path, dave, ['family']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(String(err)).toContain(`${mnt} is mounted read-only`);
      expect(String(err)).toContain(`sudo mount -o remount,rw ${mnt}`);
      expect(readFileSync(path, 'utf8')).toBe(userFile);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('parseConfig on arbitrary text', () => {
  it('either parses or throws a ConfigError, never anything else', async () => {
    const fc = (await import('fast-check')).default;
    const pieces = fc.constantFrom('[device]\n', '[[contact]]\n', '[channel.a]\n', 'members = ["bob"]\n', `card = "${encodeContactCard(bob)}"\n`, 'name = "x"\n', 'channel = "a"\n', 'channels = ["a", 3]\n', '= =\n', '"\n', '[wifi]\nssid = 1\n', 'contact = 5\n', 'channel = 7\n', 'device = []\n');
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string({ maxLength: 12 })), { maxLength: 12 }), (parts) => {
        try {
          parseConfig(parts.join(''), 'fuzz.toml');
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
