// torlk firstboot [--boot DIR] [--root DIR]: applies the settings a user wrote on the SD card's boot
// partition before first boot, then takes the secrets off that FAT partition (any computer can read
// it). Run as root by the image's torlk-firstboot.service (scripts/image), with the root remounted
// read-write; the shell around it grows the data partition, makes the keys and writes the card.
// Sources, first match wins per setting:
//   torlk.toml   [wifi] ssid, passphrase, country, hidden   [ssh] authorized_key   [device] name
//   custom.toml  Raspberry Pi Imager's: [system] hostname, [wlan] ssid/password/password_encrypted/
//                hidden/country, [ssh] enabled/authorized_keys
// Writes (under --root): /etc/wpa_supplicant/wpa_supplicant-wlan0.conf (the passphrase only as its
// derived PSK), /etc/hostname and /etc/hosts, /root/.ssh/authorized_keys. Prints one JSON line saying
// what it applied, e.g. {"wifi":true,"ssh":true,"hostname":"alice-radio"}, for the shell to act on.
import { pbkdf2Sync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'smol-toml';

/** A setting on the boot partition cannot be applied; the message names the file and the key. */
export class FirstbootConfigError extends Error {
  override name = 'FirstbootConfigError';
}

export interface FirstbootSettings {
  wifi?: { ssid: string; country: string; hidden: boolean; psk?: string };
  sshKeys: string[];
  hostname?: string;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(t: Table | undefined, key: string, file: string, section: string): string | undefined {
  const v = t?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new FirstbootConfigError(`${file}: [${section}] ${key} must be a string`);
  return v;
}

/** A hostname from a free-form device name: "Alice's radio" → "alices-radio". */
export function hostnameFrom(name: string): string | undefined {
  const h = name.toLowerCase().replace(/['’]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return h === '' ? undefined : h;
}

const SSH_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n\r]*)?$/;

function checkSshKey(key: string, file: string): string {
  const k = key.trim();
  if (!SSH_KEY.test(k)) throw new FirstbootConfigError(`${file}: "${k.slice(0, 40)}..." is not an OpenSSH public key (expected a line like "ssh-ed25519 AAAA... you@laptop")`);
  return k;
}

/** WPA-PSK from a passphrase (IEEE 802.11i: PBKDF2-SHA1, 4096 rounds, SSID as salt, 256 bits). */
export function wpaPsk(ssid: string, passphrase: string): string {
  return pbkdf2Sync(Buffer.from(passphrase, 'utf8'), Buffer.from(ssid, 'utf8'), 4096, 32, 'sha1').toString('hex');
}

function wifiFrom(ssid: string | undefined, pass: string | undefined, encrypted: boolean, country: string | undefined, hidden: unknown, file: string, section: string): FirstbootSettings['wifi'] {
  // The shipped template has ssid = "" and passphrase = "": not set yet.
  if (ssid === undefined || ssid === '') {
    if (pass !== undefined && pass !== '') throw new FirstbootConfigError(`${file}: [${section}] has a passphrase but no ssid`);
    return undefined;
  }
  if (ssid.length === 0 || Buffer.byteLength(ssid) > 32) throw new FirstbootConfigError(`${file}: [${section}] ssid must be 1 to 32 bytes, got ${Buffer.byteLength(ssid)}`);
  const c = (country ?? '').toUpperCase();
  if (!/^[A-Z]{2}$/.test(c)) throw new FirstbootConfigError(`${file}: [${section}] country must be a two-letter ISO 3166 code such as "GB" or "DE" (Wi-Fi channels are regulated by country), got "${country ?? ''}"`);
  if (hidden !== undefined && typeof hidden !== 'boolean') throw new FirstbootConfigError(`${file}: [${section}] hidden must be true or false`);
  let psk: string | undefined;
  if (pass !== undefined && pass !== '') {
    if (encrypted) {
      if (!/^[0-9a-fA-F]{64}$/.test(pass)) throw new FirstbootConfigError(`${file}: [${section}] password_encrypted is set but the password is not 64 hex digits`);
      psk = pass.toLowerCase();
    } else {
      // eslint-disable-next-line no-control-regex
      if (pass.length < 8 || pass.length > 63 || !/^[\x20-\x7e]+$/.test(pass)) throw new FirstbootConfigError(`${file}: [${section}] passphrase must be 8 to 63 printable ASCII characters (WPA2), got ${pass.length}`);
      psk = wpaPsk(ssid, pass);
    }
  }
  return { ssid, country: c, hidden: hidden === true, ...(psk !== undefined ? { psk } : {}) };
}

function parseToml(text: string, file: string): Table {
  try {
    return parse(text) as Table;
  } catch (err) {
    throw new FirstbootConfigError(`${file}: not valid TOML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/** Reads the settings from torlk.toml and Imager's custom.toml texts (either may be absent). */
export function readSettings(torlk: string | undefined, custom: string | undefined): FirstbootSettings {
  const t = torlk === undefined ? {} : parseToml(torlk, 'torlk.toml');
  const c = custom === undefined ? {} : parseToml(custom, 'custom.toml');
  const section = (doc: Table, name: string, file: string): Table | undefined => {
    const s = doc[name];
    if (s !== undefined && !isTable(s)) throw new FirstbootConfigError(`${file}: ${name} must be a [${name}] section`);
    return s;
  };
  const tw = section(t, 'wifi', 'torlk.toml');
  const cw = section(c, 'wlan', 'custom.toml');
  let wifi = wifiFrom(str(tw, 'ssid', 'torlk.toml', 'wifi'), str(tw, 'passphrase', 'torlk.toml', 'wifi'), false, str(tw, 'country', 'torlk.toml', 'wifi'), tw?.hidden, 'torlk.toml', 'wifi');
  wifi ??= wifiFrom(str(cw, 'ssid', 'custom.toml', 'wlan'), str(cw, 'password', 'custom.toml', 'wlan'), cw?.password_encrypted === true, str(cw, 'country', 'custom.toml', 'wlan'), cw?.hidden, 'custom.toml', 'wlan');

  const sshKeys: string[] = [];
  const ts = section(t, 'ssh', 'torlk.toml');
  const tk = str(ts, 'authorized_key', 'torlk.toml', 'ssh');
  if (tk !== undefined && tk.trim() !== '') sshKeys.push(checkSshKey(tk, 'torlk.toml'));
  const cs = section(c, 'ssh', 'custom.toml');
  if (cs && cs.enabled !== false && cs.authorized_keys !== undefined) {
    const list = Array.isArray(cs.authorized_keys) ? cs.authorized_keys : [cs.authorized_keys];
    for (const k of list) {
      if (typeof k !== 'string') throw new FirstbootConfigError('custom.toml: [ssh] authorized_keys must be strings');
      sshKeys.push(checkSshKey(k, 'custom.toml'));
    }
  }

  const name = str(section(t, 'device', 'torlk.toml'), 'name', 'torlk.toml', 'device');
  const imagerHost = str(section(c, 'system', 'custom.toml'), 'hostname', 'custom.toml', 'system');
  const hostname = (name !== undefined ? hostnameFrom(name) : undefined) ?? (imagerHost !== undefined ? hostnameFrom(imagerHost) : undefined);
  return { ...(wifi ? { wifi } : {}), sshKeys: [...new Set(sshKeys)], ...(hostname ? { hostname } : {}) };
}

/** wpa_supplicant's config; the SSID in hex and the PSK pre-derived, so no quoting can go wrong. */
export function wpaSupplicantConf(wifi: NonNullable<FirstbootSettings['wifi']>): string {
  const lines = ['# Written by torlk firstboot from the boot partition (the passphrase is kept only as its PSK).', 'ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev', 'update_config=0', `country=${wifi.country}`, '', 'network={', `\tssid=${Buffer.from(wifi.ssid, 'utf8').toString('hex')}`];
  if (wifi.hidden) lines.push('\tscan_ssid=1');
  lines.push(wifi.psk !== undefined ? `\tpsk=${wifi.psk}` : '\tkey_mgmt=NONE', '}', '');
  return lines.join('\n');
}

/** torlk.toml without its secrets: the [wifi] passphrase line goes, a comment says where it went. */
export function withoutSecrets(text: string): string {
  const out: string[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\s*\[([^\]]+)\]/.exec(line);
    if (header) section = header[1]!.trim();
    if (section === 'wifi' && /^\s*passphrase\s*=/.test(line)) {
      out.push('# passphrase: applied on first boot and removed from this card (write a new one here to change it)');
      continue;
    }
    out.push(line);
  }
  const result = out.join('\n');
  // A passphrase written in a form the line edit misses (multi-line string, dotted key) must not stay.
  const doc = parse(result) as Table;
  if (isTable(doc.wifi) && doc.wifi.passphrase !== undefined) throw new FirstbootConfigError('torlk.toml: could not remove the [wifi] passphrase; write it on one line as passphrase = "..."');
  return result;
}

async function writePrivate(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function readIf(path: string): Promise<string | undefined> {
  return existsSync(path) ? readFile(path, 'utf8') : undefined;
}

export async function applyFirstboot(bootDir: string, root: string): Promise<{ wifi: boolean; ssh: boolean; hostname?: string }> {
  const torlkPath = join(bootDir, 'torlk.toml');
  const customPath = join(bootDir, 'custom.toml');
  const torlk = await readIf(torlkPath);
  const custom = await readIf(customPath);
  const s = readSettings(torlk, custom);
  if (s.wifi) await writePrivate(join(root, 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf'), wpaSupplicantConf(s.wifi), 0o600);
  if (s.sshKeys.length > 0) {
    await mkdir(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
    await writePrivate(join(root, 'root/.ssh/authorized_keys'), s.sshKeys.join('\n') + '\n', 0o600);
  }
  if (s.hostname) {
    await writePrivate(join(root, 'etc/hostname'), `${s.hostname}\n`, 0o644);
    await writePrivate(join(root, 'etc/hosts'), `127.0.0.1\tlocalhost\n127.0.1.1\t${s.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`, 0o644);
  }
  // Only now, with everything applied, take the secrets off the FAT.
  if (torlk !== undefined) {
    const clean = withoutSecrets(torlk);
    if (clean !== torlk) await writePrivate(torlkPath, clean, 0o600);
  }
  if (custom !== undefined) await rm(customPath);
  return { wifi: s.wifi !== undefined, ssh: s.sshKeys.length > 0, ...(s.hostname ? { hostname: s.hostname } : {}) };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { boot: { type: 'string' }, root: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write('Usage: torlk firstboot [--boot /boot/firmware] [--root /]\nApplies torlk.toml/custom.toml Wi-Fi, hostname and SSH key settings, then removes the secrets from the boot partition.\n');
    return 0;
  }
  try {
    const done = await applyFirstboot(values.boot ?? '/boot/firmware', values.root ?? '/');
    process.stdout.write(`${JSON.stringify(done)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof FirstbootConfigError) {
      process.stderr.write(`torlk firstboot: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
