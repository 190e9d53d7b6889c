// Identity material for the private network's nodes, made with Debian's own tools:
// `tor-gencert` for a directory authority's v3 identity (its certificate's "fingerprint" line is the
// v3ident in every DirAuthority line) and `tor --list-fingerprint` for a node's router identity,
// which tor writes into its DataDirectory and reuses when the node starts.
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A key tool (tor-gencert, tor --list-fingerprint) failed or printed something unexpected. */
export class KeyGenerationError extends Error {
  override readonly name = 'KeyGenerationError';
  constructor(
    readonly tool: string,
    readonly dataDir: string,
    detail: string,
  ) {
    super(`${tool} failed for ${dataDir}: ${detail}`);
  }
}

interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
}

function runTool(file: string, args: string[], input: string): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      if (e && typeof e.code === 'string') resolve({ code: null, stdout, stderr, spawnError: e });
      else resolve({ code: child.exitCode ?? (e ? 1 : 0), stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

function describeFailure(tool: string, r: ToolResult): string {
  if (r.spawnError?.code === 'ENOENT') return `${tool} is not installed (run scripts/setup)`;
  if (r.spawnError) return r.spawnError.message;
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => /\[(warn|err)\]|rror/.test(l));
  return `exit ${r.code}${lines.length ? `: ${lines.slice(-3).join(' | ')}` : ''}`;
}

const hex40 = /^[0-9A-F]{40}$/;

/**
 * Creates an authority's v3 identity and signing keys under `<dataDir>/keys` (where tor looks for
 * them) and returns the identity fingerprint. `dirAddress` is the authority's "127.0.0.1:<dirport>".
 */
export async function createAuthorityIdentity(dataDir: string, dirAddress: string, gencert = 'tor-gencert'): Promise<string> {
  const keys = join(dataDir, 'keys');
  await mkdir(keys, { recursive: true, mode: 0o700 });
  const args = [
    '--create-identity-key',
    '--passphrase-fd', '0',
    '-i', join(keys, 'authority_identity_key'),
    '-s', join(keys, 'authority_signing_key'),
    '-c', join(keys, 'authority_certificate'),
    '-m', '12',
    '-a', dirAddress,
  ];
  // An empty passphrase: these keys live for one test run.
  const r = await runTool(gencert, args, '\n');
  if (r.code !== 0) throw new KeyGenerationError('tor-gencert', dataDir, describeFailure('tor-gencert', r));
  const cert = await readFile(join(keys, 'authority_certificate'), 'utf8');
  return parseCertificateFingerprint(cert, dataDir);
}

/** The "fingerprint <40 hex>" line of a tor-gencert authority certificate. */
export function parseCertificateFingerprint(cert: string, source = 'certificate'): string {
  const m = /^fingerprint ([0-9A-Fa-f]{40})$/m.exec(cert);
  if (!m?.[1]) throw new KeyGenerationError('tor-gencert', source, 'certificate has no fingerprint line');
  return m[1].toUpperCase();
}

/** Generates (or reads back) the router identity in `dataDir` and returns its 40-hex fingerprint. */
export async function routerFingerprint(dataDir: string, tor = 'tor'): Promise<string> {
  const args = ['--ignore-missing-torrc', '-f', '/dev/null', '--orport', '1', '--datadirectory', dataDir, '--list-fingerprint', '--hush'];
  const r = await runTool(tor, args, '');
  if (r.code !== 0) throw new KeyGenerationError('tor --list-fingerprint', dataDir, describeFailure('tor', r));
  const file = await readFile(join(dataDir, 'fingerprint'), 'utf8').catch(() => r.stdout);
  return parseFingerprintLine(file, dataDir);
}

/** Parses tor's "<nickname> XXXX XXXX ... XXXX" fingerprint line. */
export function parseFingerprintLine(text: string, source = 'fingerprint'): string {
  for (const line of text.split('\n').reverse()) {
    const m = /^\S+ ((?:[0-9A-F]{4} ?){10})$/.exec(line.trim());
    const fp = m?.[1]?.replace(/ /g, '');
    if (fp && hex40.test(fp)) return fp;
  }
  throw new KeyGenerationError('tor --list-fingerprint', source, `no fingerprint line in ${JSON.stringify(text.slice(0, 200))}`);
}
