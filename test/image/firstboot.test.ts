// torlk firstboot: the boot partition's settings become system files under a temp root, the
// secrets leave the FAT, and every bad setting is refused with the file and key named.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { applyFirstboot, FirstbootConfigError, hostnameFrom, readSettings, withoutSecrets, wpaPsk, wpaSupplicantConf } from '../../firmware/commands/firstboot.js';
import { parseConfig } from '../../firmware/contacts/torlk-config.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake alice@laptop';
const template = readFileSync(new URL('../../scripts/image/boot/torlk.toml', import.meta.url), 'utf8');

let dir: string;
let boot: string;
let root: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'torlk-firstboot-'));
  boot = join(dir, 'boot');
  root = join(dir, 'root');
  mkdirSync(boot);
  mkdirSync(root);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const filled = template
  .replace('ssid = ""', 'ssid = "Home Net"')
  .replace('passphrase = ""', 'passphrase = "correct horse battery"')
  .replace('country = ""', 'country = "gb"')
  .replace('# name = "Alice\'s radio"', 'name = "Alice\'s radio"')
  .replace('# authorized_key = "ssh-ed25519 AAAA... you@laptop"', `authorized_key = "${KEY}"`);

describe('the shipped torlk.toml template', () => {
  it('is valid for the firmware config loader and sets nothing until edited', () => {
    expect(() => parseConfig(template, 'torlk.toml')).not.toThrow();
    expect(readSettings(template, undefined)).toEqual({ sshKeys: [] });
  });
});

describe('WPA PSK derivation', () => {
  it('matches the IEEE 802.11i test vector', () => {
    // IEEE 802.11i-2004 Annex H.4: "password" / "IEEE"
    expect(wpaPsk('IEEE', 'password')).toBe('f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e');
  });
  it('matches wpa_passphrase when it is installed', () => {
    let out: string;
    try {
      out = execFileSync('wpa_passphrase', ['Home Net', 'correct horse battery'], { encoding: 'utf8' });
    } catch {
      return; // wpa_passphrase is not part of the host setup; the 802.11i vector above still runs
    }
    expect(out).toContain(`psk=${wpaPsk('Home Net', 'correct horse battery')}`);
  });
});

describe('applyFirstboot', () => {
  it('writes wpa_supplicant, hostname and authorized_keys, then removes the passphrase from the FAT', async () => {
    writeFileSync(join(boot, 'torlk.toml'), filled);
    const r = await applyFirstboot(boot, root);
    expect(r).toEqual({ wifi: true, ssh: true, hostname: 'alices-radio' });
    const wpa = readFileSync(join(root, 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf'), 'utf8');
    expect(wpa).toContain('country=GB');
    expect(wpa).toContain(`ssid=${Buffer.from('Home Net').toString('hex')}`);
    expect(wpa).toContain(`psk=${wpaPsk('Home Net', 'correct horse battery')}`);
    expect(wpa).not.toContain('correct horse');
    expect(statSync(join(root, 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(root, 'etc/hostname'), 'utf8')).toBe('alices-radio\n');
    expect(readFileSync(join(root, 'root/.ssh/authorized_keys'), 'utf8')).toBe(`${KEY}\n`);
    const after = readFileSync(join(boot, 'torlk.toml'), 'utf8');
    expect(after).not.toContain('correct horse');
    const doc = parse(after) as { wifi: Record<string, unknown>; device: Record<string, unknown> };
    expect(doc.wifi.ssid).toBe('Home Net');
    expect(doc.wifi.passphrase).toBeUndefined();
    expect(doc.device.name).toBe("Alice's radio");
    // A second run has nothing secret left and changes nothing on the FAT.
    await applyFirstboot(boot, root);
    expect(readFileSync(join(boot, 'torlk.toml'), 'utf8')).toBe(after);
  });

  it('accepts Raspberry Pi Imager custom.toml (encrypted PSK, hostname, keys) and deletes it', async () => {
    const psk = wpaPsk('Cafe', 'imager-pass-1');
    writeFileSync(
      join(boot, 'custom.toml'),
      `config_version = 1\n[system]\nhostname = "radio-2"\n[user]\nname = "pi"\npassword = "$6$hash"\npassword_encrypted = true\n` +
        `[ssh]\nenabled = true\nauthorized_keys = ["${KEY}"]\n[wlan]\nssid = "Cafe"\npassword = "${psk}"\npassword_encrypted = true\nhidden = true\ncountry = "DE"\n`,
    );
    const r = await applyFirstboot(boot, root);
    expect(r).toEqual({ wifi: true, ssh: true, hostname: 'radio-2' });
    const wpa = readFileSync(join(root, 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf'), 'utf8');
    expect(wpa).toContain(`psk=${psk}`);
    expect(wpa).toContain('scan_ssid=1');
    expect(existsSync(join(boot, 'custom.toml'))).toBe(false);
  });

  it('torlk.toml wins over custom.toml; an open network gets key_mgmt=NONE', async () => {
    writeFileSync(join(boot, 'torlk.toml'), '[wifi]\nssid = "Open"\ncountry = "FR"\n');
    writeFileSync(join(boot, 'custom.toml'), '[wlan]\nssid = "Other"\npassword = "12345678"\ncountry = "DE"\n');
    await applyFirstboot(boot, root);
    const wpa = readFileSync(join(root, 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf'), 'utf8');
    expect(wpa).toContain(`ssid=${Buffer.from('Open').toString('hex')}`);
    expect(wpa).toContain('key_mgmt=NONE');
    expect(wpa).toContain('country=FR');
  });

  it('writes nothing and keeps the secrets on the FAT when a setting is bad', async () => {
    const bad = filled.replace('country = "gb"', 'country = "Britain"');
    writeFileSync(join(boot, 'torlk.toml'), bad);
    await expect(applyFirstboot(boot, root)).rejects.toThrow(/torlk.toml: \[wifi\] country must be a two-letter/);
    expect(existsSync(join(root, 'etc'))).toBe(false);
    expect(readFileSync(join(boot, 'torlk.toml'), 'utf8')).toBe(bad);
  });
});

describe('bad settings are refused with the file and key named', () => {
  const cases: [string, string | undefined, string | undefined, RegExp][] = [
    ['not TOML', '[wifi\nssid=', undefined, /torlk.toml: not valid TOML/],
    ['short passphrase', '[wifi]\nssid="a"\npassphrase="short"\ncountry="GB"', undefined, /passphrase must be 8 to 63/],
    ['long passphrase', `[wifi]\nssid="a"\npassphrase="${'x'.repeat(64)}"\ncountry="GB"`, undefined, /passphrase must be 8 to 63/],
    ['non-ASCII passphrase', '[wifi]\nssid="a"\npassphrase="pässwörter"\ncountry="GB"', undefined, /printable ASCII/],
    ['passphrase without ssid', '[wifi]\npassphrase="12345678"\ncountry="GB"', undefined, /passphrase but no ssid/],
    ['ssid too long', `[wifi]\nssid="${'s'.repeat(33)}"\ncountry="GB"`, undefined, /ssid must be 1 to 32 bytes/],
    ['missing country', '[wifi]\nssid="a"\npassphrase="12345678"', undefined, /country must be a two-letter/],
    ['ssid not a string', '[wifi]\nssid=5\ncountry="GB"', undefined, /\[wifi\] ssid must be a string/],
    ['hidden not a boolean', '[wifi]\nssid="a"\ncountry="GB"\nhidden="yes"', undefined, /hidden must be true or false/],
    ['wifi not a section', 'wifi = "x"', undefined, /wifi must be a \[wifi\] section/],
    ['bad ssh key', '[ssh]\nauthorized_key = "hello"', undefined, /not an OpenSSH public key/],
    ['private key pasted', '[ssh]\nauthorized_key = "-----BEGIN OPENSSH PRIVATE KEY-----"', undefined, /not an OpenSSH public key/],
    ['imager PSK not hex', undefined, '[wlan]\nssid="a"\npassword="zz"\npassword_encrypted=true\ncountry="GB"', /custom.toml: \[wlan\] password_encrypted is set/],
    ['imager key not a string', undefined, '[ssh]\nauthorized_keys=[1]', /custom.toml: \[ssh\] authorized_keys must be strings/],
    ['imager not TOML', undefined, 'x = = 1', /custom.toml: not valid TOML/],
  ];
  for (const [what, torlk, custom, message] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        readSettings(torlk, custom);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FirstbootConfigError);
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe('helpers', () => {
  it('hostnameFrom makes a valid hostname or nothing', () => {
    expect(hostnameFrom("Alice's Radio #2")).toBe('alices-radio-2');
    expect(hostnameFrom('???')).toBeUndefined();
    expect(hostnameFrom('x'.repeat(80))).toHaveLength(63);
  });
  it('withoutSecrets refuses a passphrase it cannot remove line by line', () => {
    expect(() => withoutSecrets('[wifi]\nssid = "a"\n"passphrase" = """\nsecret"""\n')).toThrow(FirstbootConfigError);
    expect(() => withoutSecrets('wifi.passphrase = "secret1234"\n')).toThrow(FirstbootConfigError);
  });
  it('wpaSupplicantConf hex-encodes an SSID with quotes and newlines', () => {
    const conf = wpaSupplicantConf({ ssid: 'a"b\nc', country: 'GB', hidden: false, psk: 'ab'.repeat(32) });
    expect(conf).toContain(`ssid=${Buffer.from('a"b\nc').toString('hex')}`);
    expect(conf.split('\n').filter((l) => l.includes('ssid')).length).toBe(1);
  });
});
