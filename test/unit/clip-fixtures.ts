// Shared by the clip tests: a real Ogg Opus file (sox + opusenc, the tools scripts/setup installs)
// and fresh device keys. Temp dirs are removed by the caller's afterAll via cleanup().
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { expect } from 'vitest';
import { ClipError } from '../../firmware/clip/clip-error.js';
import { createClipOpenStream } from '../../firmware/clip/clip-open-stream.js';
import type { ClipIdentity, ClipSender, OpenClipOptions, OpenedStreamedClip } from '../../firmware/clip/clip-types.js';
import { SigningKey } from '../../firmware/identity/signing-key.js';

const dirs: string[] = [];

export function tempDir(prefix = 'torlk-clip-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Encodes `seconds` of a 440 Hz tone with opusenc at 16 kbit/s. */
export function makeOgg(seconds = 1, extra: string[] = []): Uint8Array {
  const dir = tempDir();
  const wav = join(dir, 'tone.wav');
  const opus = join(dir, 'tone.opus');
  execFileSync('sox', ['-q', '-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', String(seconds), 'sine', '440', 'vol', '0.5']);
  execFileSync('opusenc', ['--quiet', '--bitrate', '16', ...extra, wav, opus]);
  return new Uint8Array(readFileSync(opus));
}

export interface TestDevice {
  identity: ClipIdentity;
  signer: SigningKey;
  contact: { name: string; signingKey: string };
}

export async function makeDevice(name: string): Promise<TestDevice> {
  const ageIdentity = await generateX25519Identity();
  const ageRecipient = await identityToRecipient(ageIdentity);
  const signer = SigningKey.generate();
  return { identity: { ageIdentity, ageRecipient }, signer, contact: { name, signingKey: signer.id } };
}

/** Cuts `bytes` at `cuts` (each taken modulo length + 1, duplicates dropped): the pieces a network delivers. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return out;
}

/**
 * Pushes `pieces` to a streaming opener and ends it; the result carries any refusal. Every other
 * piece waits a turn of the event loop, so pieces reach the opener both while it unwraps the file
 * key (held) and after (decrypted at once).
 */
export async function openInPieces<S extends ClipSender>(opts: OpenClipOptions<S>, pieces: readonly Uint8Array[]): Promise<OpenedStreamedClip<S>> {
  const o = createClipOpenStream(opts);
  try {
    for (const [i, p] of pieces.entries()) {
      if (i % 2 === 1) await new Promise((r) => setImmediate(r));
      o.push(p);
    }
    o.end();
  } catch {
    // the result promise carries the reason
  }
  return o.result;
}

/** The ClipError reason `p` rejects with (fails the test on anything else). */
export async function reason(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClipError);
  return (err as ClipError).reason;
}
