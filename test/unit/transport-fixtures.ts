// Shared by the transport/store tests (not a test file itself): real parties with real keys
// (node:crypto Ed25519, age X25519), a real Ogg Opus clip made by sox + opusenc, sealed with the
// real firmware/clip sealer, and a receiver wired to the real opener.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { SigningKey } from '../../firmware/identity/signing-key.js';
import { sealClipWithHeader } from '../../firmware/clip/seal-clip.js';
import { ClipSealer } from '../../firmware/clip/clip-sealer.js';
import type { ClipHeader, ClipSender } from '../../firmware/clip/clip-types.js';
import { clipOpener } from '../../firmware/transport/clip-adapter.js';
import { recoveryJudge, type AcceptanceRules } from '../../firmware/transport/clip-acceptance.js';
import { startReceiver, type Receiver, type ReceiverLimits } from '../../firmware/transport/receiver.js';
import { Inbox } from '../../firmware/store/inbox.js';
import type { Recipient } from '../../firmware/transport/sender.js';
import type { AtomicFs } from '../../firmware/store/atomic-file.js';
import { ScavengeAhead } from '../../firmware/transport/scavenge-ahead.js';

export interface Party {
  readonly name: string;
  readonly signing: SigningKey;
  readonly ageIdentity: string;
  readonly ageRecipient: string;
  readonly card: ClipSender;
}

export async function makeParty(name: string): Promise<Party> {
  const signing = SigningKey.generate();
  const ageIdentity = await generateX25519Identity();
  const ageRecipient = await identityToRecipient(ageIdentity);
  return { name, signing, ageIdentity, ageRecipient, card: { name, signingKey: signing.id } };
}

/** A real Ogg Opus file: `seconds` of a 440 Hz tone, 16 kHz mono, 16 kbit/s (the radio's settings). */
export async function makeOgg(seconds = 1): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'torlk-ogg-'));
  try {
    const wav = join(dir, 'in.wav');
    const ogg = join(dir, 'out.opus');
    execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', wav, 'synth', String(seconds), 'sine', '440']);
    execFileSync('opusenc', ['--quiet', '--bitrate', '16', wav, ogg]);
    return new Uint8Array(await readFile(ogg));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let sequence = 1;
export async function seal(opts: {
  from: Party;
  to: readonly Party[];
  ogg: Uint8Array;
  channel?: string;
  sequence?: number;
  createdAt?: number;
  clipId?: string;
}): Promise<{ sealed: Uint8Array; header: ClipHeader }> {
  return sealClipWithHeader({
    ogg: opts.ogg,
    signer: opts.from.signing,
    recipients: opts.to.map((p) => p.ageRecipient),
    header: {
      channel: opts.channel ?? 'family',
      sequence: opts.sequence ?? sequence++,
      createdAt: opts.createdAt ?? Date.now(),
      ...(opts.clipId ? { clipId: opts.clipId } : {}),
    },
  });
}

export interface TestReceiver {
  receiver: Receiver;
  inbox: Inbox;
  dir: string;
  recipient: Recipient;
  close(): Promise<void>;
}

/** A receiver for `me` that knows `contacts`, all on channel "family". */
export async function startTestReceiver(opts: {
  me: Party;
  contacts: readonly Party[];
  dir?: string;
  limits?: Partial<ReceiverLimits>;
  fs?: AtomicFs;
  channels?: Record<string, readonly Party[]>;
  port?: number;
  scavenge?: ScavengeAhead;
  /** Clips stay in the inbox's journal, not written to their own files (Inbox's option). */
  holdMaterialisation?: boolean;
}): Promise<TestReceiver> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'torlk-rx-')));
  const channels = opts.channels ?? { family: opts.contacts };
  const open = clipOpener({ identity: { ageIdentity: opts.me.ageIdentity, ageRecipient: opts.me.ageRecipient }, contacts: () => opts.contacts.map((c) => c.card), ...(opts.limits?.maxBytes ? { maxBytes: opts.limits.maxBytes } : {}) });
  const rules: AcceptanceRules = { policy: (channel, key) => (channels[channel] ?? []).some((p) => p.signing.id === key), signer: opts.me.signing };
  // Wired as the radio wires it (clip-transport.ts): the same opener and rules judge at open.
  const inbox = await Inbox.open({ dir: join(dir, 'inbox'), judge: recoveryJudge(open, rules), holdMaterialisation: opts.holdMaterialisation ?? false, ...(opts.fs ? { fs: opts.fs } : {}) });
  const receiver = await startReceiver({
    inbox,
    open,
    ...rules,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.scavenge ? { scavenge: opts.scavenge } : {}),
  });
  return {
    receiver,
    inbox,
    dir,
    recipient: { name: opts.me.name, host: '127.0.0.1', port: receiver.port, signingKey: opts.me.signing.id },
    close: async () => {
      await receiver.close();
      await inbox.close();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Seals with the streaming sealer: the wire stream's frames as they came out, and the stored age file. */
export async function sealWire(opts: { from: Party; to: readonly Party[]; ogg: Uint8Array; channel?: string }): Promise<{ frames: Uint8Array[]; stored: Uint8Array; header: ClipHeader }> {
  const sealer = await ClipSealer.start({
    signer: opts.from.signing,
    recipients: opts.to.map((p) => p.ageRecipient),
    header: { channel: opts.channel ?? 'family', sequence: sequence++, createdAt: Date.now() },
  });
  const frames: Uint8Array[] = [sealer.preamble];
  for (let at = 0; at < opts.ogg.length; at += 1000) frames.push(...sealer.push(opts.ogg.subarray(at, at + 1000)));
  const { frames: last, header } = sealer.finish();
  frames.push(...last);
  return { frames, stored: sealer.stored(), header };
}

/** The inbox tests' common ground: alice and bob, a 1 s clip, and a temp root removed after the file. */
export interface InboxTestBed {
  readonly root: string;
  readonly alice: Party;
  readonly bob: Party;
  readonly ogg: Uint8Array;
  /** A new directory's path under the root (not created). */
  dir(): string;
}

/** Registers the file's beforeAll/afterAll; the fields are set once beforeAll has run. */
export function inboxTestBed(prefix: string): InboxTestBed {
  let n = 0;
  const bed = { dir: () => join(bed.root, `d${n++}`) } as { -readonly [K in keyof InboxTestBed]: InboxTestBed[K] };
  beforeAll(async () => {
    bed.root = await mkdtemp(join(tmpdir(), prefix));
    [bed.alice, bed.bob] = (await Promise.all(['alice', 'bob'].map(makeParty))) as [Party, Party];
    bed.ogg = await makeOgg(1);
  });
  afterAll(async () => {
    if (bed.root) await rm(bed.root, { recursive: true, force: true });
  });
  return bed;
}

/** A ScavengeAhead that only records what the sender or receiver tells it, in order. */
export class RecordingScavenge extends ScavengeAhead {
  readonly seen: string[] = [];
  override afterWork(): void {
    this.seen.push('work');
  }
  override timed(): () => void {
    this.seen.push('timed');
    let ended = false; // ending twice is allowed, and counts once (ScavengeAhead.timed)
    return () => void (ended || ((ended = true), this.seen.push('timed-end')));
  }
}
