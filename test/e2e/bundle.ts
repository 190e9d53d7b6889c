// The firmware bundled the way scripts/build.mjs bundles it, but into a temp dir, so end-to-end
// suites run the real `torlk` command without racing other builds of dist/.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '../..');

export async function bundleTorlk(dir: string): Promise<string> {
  const outfile = join(dir, 'torlk.cjs');
  await build({
    entryPoints: [join(repoRoot, 'firmware/cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['onoff', 'epoll'],
    define: { TORLK_VERSION: '"e2e"', TORLK_BUILD_TIME: JSON.stringify(new Date(Date.now() - 3600_000).toISOString()) },
    logLevel: 'warning',
  });
  return outfile;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the bundle from the repository root (where the addon is found); `onOutput` sees stdout and
 * stderr together as they come (to act on progress). The child is SIGTERMed, then SIGKILLed, if it outlives `timeoutMs`.
 */
export function runTorlk(
  bundle: string,
  args: string[],
  timeoutMs: number,
  onOutput?: (text: string, child: import('node:child_process').ChildProcess) => void,
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TORLK_LOG: 'error', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onOutput?.(stdout + stderr, child);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onOutput?.(stdout + stderr, child);
    });
    const term = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 10_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
