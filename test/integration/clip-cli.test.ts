// The clip format against the real tools: the bundled `torlk` CLI (init, card, contact, seal,
// open), Debian's `age`, and opus-tools' `opusinfo`/`opusdec`. A received clip must be a standard
// age file whose plaintext opusinfo accepts without a warning; one changed byte must be refused.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipSealer } from '../../firmware/clip/clip-sealer.js';
import { createClipOpenStream } from '../../firmware/clip/clip-open-stream.js';
import { decodeOggPage, encodeOggPage } from '../../firmware/audio/ogg-page.js';
import { concatBytes } from '../../firmware/clip/age-file.js';
import { loadDeviceIdentity } from '../../firmware/identity/device-identity.js';

let root: string;
let cli: string;
const env = { ...process.env, TORLK_ADDON_DIR: join(process.cwd(), 'hardware/i2s-audio'), TORLK_CONFIG: '', TORLK_DATA: '' };

function torlk(device: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args, '--data', join(root, device), '--config', join(root, device, 'torlk.toml')], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tool(cmd: string, args: string[], input?: Uint8Array) {
  const r = spawnSync(cmd, args, { input, timeout: 60_000 });
  return { code: r.status, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8'), stdout: r.stdout };
}

/** Decrypts with the age CLI and checks opusinfo (no warning) and opusdec; returns the decoded seconds. */
function checkWithTools(clip: string, device: string): number {
  const plain = join(root, `${device}-plain.opus`);
  const dec = tool('age', ['-d', '-i', join(root, device, 'age-identity.txt'), '-o', plain, clip]);
  expect(dec.err).toBe('');
  expect(dec.code).toBe(0);
  const info = tool('opusinfo', [plain]);
  expect(info.code).toBe(0);
  expect(info.out + info.err).not.toMatch(/warning|error/i);
  expect(info.out).toMatch(/TORLK_VERSION=1/);
  const wav = join(root, `${device}-decoded.wav`);
  const opusdec = tool('opusdec', ['--quiet', plain, wav]);
  expect(opusdec.code).toBe(0);
  return Number(execFileSync('soxi', ['-D', wav]).toString().trim());
}

function makeWav(seconds: number): string {
  const wav = join(root, `tone-${seconds}.wav`);
  execFileSync('sox', ['-q', '-n', '-r', '16000', '-c', '1', '-b', '16', wav, 'synth', String(seconds), 'sine', '300', 'vol', '0.5']);
  return wav;
}

let aliceCard: string;
let bobCard: string;
let carolCard: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'torlk-clip-cli-'));
  cli = join(root, 'torlk.cjs');
  await build({ entryPoints: ['firmware/cli.ts'], outfile: cli, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['onoff', 'epoll'], define: { TORLK_VERSION: '"test"', TORLK_BUILD_TIME: JSON.stringify(new Date().toISOString()) }, logLevel: 'error' });
  for (const name of ['alice', 'bob', 'carol']) {
    const r = torlk(name, 'init', '--name', name);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  }
  const card = (name: string) => torlk(name, 'card', '--no-qr').out.trim();
  [aliceCard, bobCard, carolCard] = [card('alice'), card('bob'), card('carol')];
  expect(torlk('bob', 'contact', 'add', aliceCard, '--channel', 'family').code).toBe(0);
  expect(torlk('alice', 'contact', 'add', bobCard, '--channel', 'family').code).toBe(0);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('torlk init / card / contact', () => {
  it('init refuses to overwrite and says which file', () => {
    const r = torlk('alice', 'init');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already exists.*refusing to overwrite/);
  });

  it('card prints the card and a QR code', () => {
    const r = torlk('alice', 'card');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(aliceCard);
    expect(aliceCard).toMatch(/^torlk:1\?n=alice&/);
    expect(r.out).toMatch(/[▀▄█]/);
  });

  it('contact add refuses a mistyped card and a duplicate; list shows channels', () => {
    const typo = aliceCard.replace(/&o=(.)/, (_m, c: string) => `&o=${c === 'a' ? 'b' : 'a'}`);
    const bad = torlk('carol', 'contact', 'add', typo);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/checksum does not match/);
    const dup = torlk('bob', 'contact', 'add', aliceCard);
    expect(dup.code).toBe(1);
    expect(dup.err).toMatch(/already a contact/);
    expect(torlk('bob', 'contact', 'list').out).toMatch(/^alice .* channels: family$/m);
  });
});

describe('command-line mistakes get a clear message and exit code', () => {
  it('card/open before init, a broken torlk.toml, bad arguments', () => {
    const card = torlk('nobody', 'card', '--no-qr');
    expect(card.code).toBe(1);
    expect(card.err).toMatch(/age-identity\.txt is missing: run "torlk init"/);
    expect(torlk('nobody', 'open', 'a', 'b').err).toMatch(/run "torlk init"/);
    writeFileSync(join(root, 'carol', 'torlk.toml'), '[device]\nname = "carol"\n\n[[contact]]\ncard = "torlk:1?n=x"\n');
    const broken = torlk('carol', 'contact', 'list');
    expect(broken.code).toBe(1);
    expect(broken.err).toBe(`torlk contact: ${join(root, 'carol', 'torlk.toml')}:4: [[contact]] #1: has no checksum ("&x=..."); the card was cut, copy it again\n`);
    writeFileSync(join(root, 'carol', 'torlk.toml'), '[device]\nname = "carol"\n');
    expect(torlk('carol', 'contact').code).toBe(2);
    expect(torlk('carol', 'contact', 'add', aliceCard, '--channel', 'bad\nname').code).toBe(2);
    const seq = torlk('alice', 'seal', '--to', 'bob', '--seq', 'abc', 'x.wav', 'y.clip');
    expect(seq.code).toBe(2);
    expect(seq.err).toMatch(/--seq abc is not a non-negative integer/);
    expect(torlk('alice', 'seal', 'x.wav').code).toBe(2);
    expect(torlk('alice', 'open', 'only-one').code).toBe(2);
  });
});

describe('torlk seal → age CLI, opusinfo, opusdec → torlk open', () => {
  it('a sealed WAV decrypts with age -d into Ogg Opus that opusinfo and opusdec accept', () => {
    const clip = join(root, 'a.clip');
    const r = torlk('alice', 'seal', '--to', 'bob', makeWav(2), clip);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/channel "family".*#0,/);
    expect(checkWithTools(clip, 'bob')).toBeCloseTo(2, 1);
    const out = join(root, 'a.ogg');
    const opened = torlk('bob', 'open', clip, out, '--channel', 'family');
    expect(opened.err).toBe('');
    expect(opened.out).toMatch(/^From alice on channel "family", #0, 2\.0 s/);
    expect(tool('opusinfo', [out]).code).toBe(0);
    // The sequence counter moves on.
    expect(torlk('alice', 'seal', '--to', bobCard, makeWav(1), join(root, 'b.clip')).out).toMatch(/#1,/);
  });

  it('one changed byte: age -d fails and torlk open refuses, writing nothing', () => {
    const clip = join(root, 'a.clip');
    const bytes = readFileSync(clip);
    for (const at of [bytes.length - 40, Math.floor(bytes.length / 2)]) {
      const bad = Buffer.from(bytes);
      bad[at]! ^= 0x01;
      const path = join(root, `tampered-${at}.clip`);
      writeFileSync(path, bad);
      expect(tool('age', ['-d', '-i', join(root, 'bob', 'age-identity.txt'), path]).code).not.toBe(0);
      const out = join(root, `tampered-${at}.ogg`);
      const r = torlk('bob', 'open', path, out);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/corrupt: age payload chunk 0 failed authentication/);
      expect(spawnSync('test', ['-e', out]).status).toBe(1);
    }
  });

  it('bad signature: audio changed (CRC fixed) and re-encrypted with the age CLI', () => {
    const plain = new Uint8Array(tool('age', ['-d', '-i', join(root, 'bob', 'age-identity.txt'), join(root, 'a.clip')]).stdout);
    const pages: Uint8Array[] = [];
    for (let at = 0; at < plain.length; ) {
      const { length } = decodeOggPage(plain, at)!;
      pages.push(plain.subarray(at, at + length));
      at += length;
    }
    const target = decodeOggPage(pages[pages.length - 2]!, 0)!.page;
    const body = target.body.slice();
    body[5]! ^= 0x10;
    pages[pages.length - 2] = encodeOggPage({ ...target, body });
    const bobRecipient = execFileSync('age-keygen', ['-y', join(root, 'bob', 'age-identity.txt')]).toString().trim();
    const forged = tool('age', ['-r', bobRecipient], concatBytes(pages)).stdout;
    const path = join(root, 'forged.clip');
    writeFileSync(path, forged);
    const r = torlk('bob', 'open', path, join(root, 'forged.ogg'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad-signature: signature of alice's clip does not verify/);
    // The untouched plaintext, encrypted by the age CLI, is accepted: our reader takes any age file.
    writeFileSync(join(root, 'reenc.clip'), tool('age', ['-r', bobRecipient], plain).stdout);
    expect(torlk('bob', 'open', join(root, 'reenc.clip'), join(root, 'reenc.ogg')).code).toBe(0);
  });

  it('unknown sender, wrong key and wrong channel each say so', () => {
    const fromCarol = join(root, 'carol.clip');
    expect(torlk('carol', 'seal', '--to', bobCard, '--channel', 'family', makeWav(1), fromCarol).code).toBe(0);
    const unknown = torlk('bob', 'open', fromCarol, join(root, 'x.ogg'));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/unknown-sender: clip signed by .* who is not among your contacts/);
    const toCarol = join(root, 'to-carol.clip');
    expect(torlk('alice', 'seal', '--to', carolCard, makeWav(1), toCarol).code).toBe(0);
    const wrong = torlk('bob', 'open', toCarol, join(root, 'y.ogg'));
    expect(wrong.err).toMatch(/wrong-key: the clip is not encrypted to this device/);
    const channel = torlk('bob', 'open', join(root, 'a.clip'), join(root, 'z.ogg'), '--channel', 'work');
    expect(channel.err).toMatch(/wrong-channel: clip is for channel "family"/);
  });

  it('seal takes an opusenc file too, and refuses other input clearly', () => {
    const opus = join(root, 'enc.opus');
    execFileSync('opusenc', ['--quiet', makeWav(1), opus]);
    expect(torlk('alice', 'seal', '--to', 'bob', opus, join(root, 'enc.clip')).code).toBe(0);
    expect(checkWithTools(join(root, 'enc.clip'), 'bob')).toBeGreaterThan(0.9);
    writeFileSync(join(root, 'junk.bin'), 'hello');
    const junk = torlk('alice', 'seal', '--to', 'bob', join(root, 'junk.bin'), join(root, 'junk.clip'));
    expect(junk.code).toBe(2);
    expect(junk.err).toMatch(/neither a WAV/);
    expect(torlk('alice', 'seal', '--to', 'nobody', opus, join(root, 'n.clip')).err).toMatch(/no contact named "nobody"/);
    expect(torlk('alice', 'open', join(root, 'missing.clip'), join(root, 'm.ogg')).code).toBe(1);
  });
});

describe('a streamed clip as stored by the receiver', () => {
  it('is a standard age file: age -d, opusinfo and opusdec accept it', async () => {
    const alice = await loadDeviceIdentity(join(root, 'alice'));
    const bob = await loadDeviceIdentity(join(root, 'bob'));
    const opus = join(root, 'stream.opus');
    execFileSync('opusenc', ['--quiet', '--bitrate', '16', makeWav(3), opus]);
    const ogg = readFileSync(opus);
    const seal = await ClipSealer.start({ header: { channel: 'family', sequence: 99, createdAt: Date.now() }, signer: alice.signer, recipients: [bob.ageRecipient] });
    const open = createClipOpenStream({ identity: bob, contacts: [{ name: 'alice', signingKey: alice.signer.id }] });
    open.push(seal.preamble);
    for (let at = 0; at < ogg.length; at += 700) for (const frame of seal.push(new Uint8Array(ogg.subarray(at, at + 700)))) open.push(frame);
    for (const frame of seal.finish().frames) open.push(frame);
    open.end();
    const { stored, header } = await open.result;
    expect(header.sequence).toBe(99);
    const path = join(root, 'stored.clip');
    writeFileSync(path, stored);
    expect(checkWithTools(path, 'bob')).toBeCloseTo(3, 1);
  });
});
