// age's usual key file, as age-keygen writes it, so `age -d -i <file>` works on it directly:
//   # created: 2026-11-24T20:00:00Z
//   # public key: age1...
//   AGE-SECRET-KEY-1...
import { identityToRecipient } from 'age-encryption';

export class AgeKeyFileError extends Error {
  override readonly name = 'AgeKeyFileError';
  constructor(message: string, readonly line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

export function formatAgeKeyFile(identity: string, recipient: string, created = new Date()): string {
  const stamp = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `# created: ${stamp}\n# public key: ${recipient}\n${identity}\n`;
}

const SECRET = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

/** Parses a key file with exactly one X25519 identity; checks the "# public key" comment if any. */
export async function parseAgeKeyFile(text: string): Promise<{ identity: string; recipient: string }> {
  let identity: string | undefined;
  let identityLine = 0;
  let claimed: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*public key:\s*(\S+)$/.exec(line);
      if (m) claimed = m[1];
      continue;
    }
    if (!SECRET.test(line)) throw new AgeKeyFileError('not an age X25519 identity (AGE-SECRET-KEY-1...)', i + 1);
    if (identity !== undefined) throw new AgeKeyFileError('more than one identity; a Torlk device has exactly one', i + 1);
    identity = line;
    identityLine = i + 1;
  }
  if (identity === undefined) throw new AgeKeyFileError('no AGE-SECRET-KEY-1... line');
  let recipient: string;
  try {
    recipient = await identityToRecipient(identity);
  } catch (err) {
    throw new AgeKeyFileError(`identity does not decode: ${(err as Error).message}`, identityLine);
  }
  if (claimed !== undefined && claimed !== recipient) throw new AgeKeyFileError(`"# public key: ${claimed}" does not match the identity (${recipient})`);
  return { identity, recipient };
}
