// torlk seal --to <card|contact> [--to ...] [--channel NAME] [--seq N] in.wav|in.opus out.clip
// Seals a recording for one or more contacts, as the radio would: Opus (a WAV is encoded with the
// addon's libopus encoder), header, signature, age. The result is what the radio uploads.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { resolveDataDir } from '../identity/data-dir.js';
import { loadDeviceIdentity } from '../identity/device-identity.js';
import { IdentityError } from '../identity/identity-error.js';
import { resolveConfigPath } from '../contacts/config-path.js';
import { loadConfig } from '../contacts/torlk-config.js';
import { ContactCardError, parseContactCard } from '../contacts/contact-card.js';
import { ConfigError } from '../contacts/config-error.js';
import { sealClipWithHeader } from '../clip/seal-clip.js';
import { nextSequence, SequenceFileError } from '../clip/sequence-counter.js';
import { ClipError } from '../clip/clip-error.js';
import { writeFileAtomic } from '../store/atomic-file.js';

const help = `Usage: torlk seal --to <card|contact name> [--to ...] [--channel NAME] [--seq N] [--data DIR] [--config FILE] in.wav|in.opus out.clip

in.wav is a 16-bit PCM WAV at 8/12/16/24/48 kHz (convert others with: sox in.x -b 16 -r 16000 in.wav);
in.opus is an Ogg Opus file (e.g. from opusenc). The clip is signed with this radio's key and
encrypted to each --to; the channel defaults to [device] channel in torlk.toml.`;

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { to: { type: 'string', multiple: true }, channel: { type: 'string' }, seq: { type: 'string' }, data: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  try {
    if (positionals.length !== 2 || !values.to?.length) throw new UsageError('needs --to and two files: the recording and the clip to write');
    const [input, output] = positionals as [string, string];
    const dataDir = resolveDataDir({ flag: values.data });
    const identity = await loadDeviceIdentity(dataDir);
    const { config } = await loadConfig(resolveConfigPath(dataDir, { flag: values.config }));
    const recipients = values.to.map((to) => {
      if (to.toLowerCase().startsWith('torlk:')) return parseContactCard(to).ageRecipient;
      const c = config.contacts.find((x) => x.name === to);
      if (!c) throw new UsageError(`no contact named "${to}" (known: ${config.contacts.map((x) => x.name).join(', ') || 'none'}); pass a card instead`);
      return c.ageRecipient;
    });
    const channel = values.channel ?? config.device.channel ?? 'direct';
    let sequence: number;
    if (values.seq !== undefined) {
      sequence = Number(values.seq);
      if (!/^\d+$/.test(values.seq) || !Number.isSafeInteger(sequence)) throw new UsageError(`--seq ${values.seq} is not a non-negative integer`);
    } else sequence = await nextSequence(dataDir);
    const bytes = new Uint8Array(await readFile(input));
    const magic = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
    let ogg: Uint8Array;
    if (magic === 'OggS') ogg = bytes;
    else if (magic === 'RIFF') {
      // Loaded only here: it brings in the native addon.
      const { encodeWavToOggOpus } = await import('../audio/encode-wav.js');
      ogg = encodeWavToOggOpus(bytes);
    } else throw new UsageError(`${input} is neither a WAV (RIFF) nor an Ogg Opus file`);
    const { sealed, header } = await sealClipWithHeader({ ogg, header: { channel, sequence, createdAt: Date.now() }, signer: identity.signer, recipients });
    await writeFileAtomic(output, sealed, { mode: 0o644 });
    process.stdout.write(`Sealed ${(header.durationMs / 1000).toFixed(1)} s on channel "${channel}" (#${sequence}, clip ${header.clipId}) for ${recipients.length} recipient(s): ${output}, ${sealed.length} bytes\n`);
    return 0;
  } catch (err) {
    const known = [UsageError, IdentityError, ConfigError, ContactCardError, ClipError, SequenceFileError, TypeError];
    // The audio modules' typed errors (bad WAV, encoder option, disk full) are reported the same way.
    const audio = ['WavFormatError', 'OggWriterError', 'AudioOptionError', 'OpusCodecError', 'AtomicWriteError', 'DiskFullError'];
    if (known.some((k) => err instanceof k) || audio.includes((err as Error)?.name) || (err as NodeJS.ErrnoException)?.code === 'ENOENT') {
      process.stderr.write(`torlk seal: ${(err as Error).message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  }
}
